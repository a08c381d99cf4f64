/*
 * 2-D convolutions (issue 17): forward, backward data and backward weight of the default CNN's
 * convolutions (clnn-train --model cnn, batch 128) and of ResNet-18-like 3x3 stages (batch 16),
 * in GFLOP/s, each beside oneDNN's convolution primitives on the host CPU in the same run (when
 * clnn-bench was built with oneDNN, Debian's libdnnl-dev), with the ratio clnn / oneDNN.
 *
 * A pass costs 2 * N * O * OH * OW * (C / groups) * KH * KW FLOPs, forward and both backward
 * passes alike. clnn runs on its context's device with the workspace clnn_conv2d_workspace_size
 * asks for; oneDNN gets the best case a framework can arrange: format_tag any (oneDNN picks its
 * blocked layouts), the inputs reordered from plain nchw/oihw once before timing, outputs left
 * in oneDNN's layout, algorithm direct (what PyTorch's ideep asks for), prop kind
 * forward_training. Neither side's timed loop contains a reorder or an allocation.
 *
 * With --against LIB the suite compares two builds of clnn instead: LIB (another libclnn.so,
 * say a build of an older commit) is loaded with dlopen(RTLD_LOCAL) beside this one, gets a
 * context of its own on the same device, and every timed run of a pass alternates between the
 * two; the ratio printed is the median over the pairs of this build's time over LIB's (below 1:
 * this build faster), with its quartiles. On a noisy machine, whose slow phases last seconds,
 * two pairs see the same conditions where two separate runs do not (the 2-core VM's single runs
 * varied by up to 2x; the paired medians resolved 5% steps).
 */
#include "bench_suites.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef CLNN_BENCH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

typedef enum conv_pass { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHT, PASS_COUNT } conv_pass;
static const char *const pass_names[PASS_COUNT] = {"fwd", "bwd_data", "bwd_weight"};

/* One convolution: x [n, c, h, w] * weight [o, c, k, k], stride 1, zero padding `pad`. */
typedef struct conv_case {
    const char *name;
    size_t n, c, h, w, o, k, pad;
} conv_case;

/* Passes above this many FLOPs get at most CONV_BIG_REPS timed runs and one warm-up, as the
 * dense suite does above a GFLOP: the ResNet stages (3.7 GFLOP a pass) would otherwise dominate
 * the default all-suites run on the 2-core VM. One warm-up is enough to keep POCL's first-launch
 * compiles (one per kernel and local size, all fixed by the shape) and oneDNN's JIT out of the
 * figures. */
#define CONV_BIG_FLOPS 1e9
#define CONV_BIG_REPS 3

/* Seconds the suite waits after each oneDNN measurement, before the next clnn one: oneDNN runs
 * on libgomp's pool, whose idle threads spin for a while after a parallel region (the dense
 * suite's OpenBLAS note, milder here); on 2 cores a spinning thread would hold one of the cores
 * POCL's workers need. */
#define ONEDNN_PARK_SECONDS 0.2

typedef struct conv_args {
    clnn_context *ctx;
    clnn_conv2d_desc desc;
    conv_pass pass;
    clnn_tensor *x, *w, *y, *dx, *dw, *dy, *workspace;
} conv_args;

static clnn_status run_pass(void *p)
{
    conv_args *a = p;
    switch (a->pass) {
    case FORWARD:
        return clnn_conv2d_forward(a->ctx, &a->desc, a->x, a->w, NULL, NULL, a->y, a->workspace);
    case BACKWARD_DATA:
        return clnn_conv2d_backward_data(a->ctx, &a->desc, a->dy, a->w, 0.0f, a->dx, a->workspace);
    default:
        return clnn_conv2d_backward_weight(a->ctx, &a->desc, a->dy, a->x, 0.0f, a->dw,
                                           a->workspace);
    }
}

/* --against: the other build's functions (resolved by name from its library) and its context.
 * Its tensors are opaque pointers of its own. */
typedef struct other_build {
    void *library;
    clnn_context *ctx;
    clnn_status (*context_options_init)(clnn_context_options *);
    clnn_status (*context_create)(clnn_context **, const clnn_context_options *);
    clnn_status (*context_destroy)(clnn_context *);
    clnn_status (*context_finish)(clnn_context *);
    clnn_status (*tensor_create)(clnn_context *, int, const size_t *, clnn_tensor **);
    clnn_status (*tensor_fill)(clnn_tensor *, float);
    clnn_status (*tensor_destroy)(clnn_tensor *);
    clnn_status (*workspace_size)(clnn_context *, const clnn_conv2d_desc *, const size_t[4],
                                  const size_t[4], size_t *);
    clnn_status (*forward)(clnn_context *, const clnn_conv2d_desc *, const clnn_tensor *,
                           const clnn_tensor *, const clnn_tensor *,
                           const clnn_activation_desc *, clnn_tensor *, clnn_tensor *);
    clnn_status (*backward_data)(clnn_context *, const clnn_conv2d_desc *, const clnn_tensor *,
                                 const clnn_tensor *, float, clnn_tensor *, clnn_tensor *);
    clnn_status (*backward_weight)(clnn_context *, const clnn_conv2d_desc *, const clnn_tensor *,
                                   const clnn_tensor *, float, clnn_tensor *, clnn_tensor *);
} other_build;

/* Loads run->against and makes its context on run's device; 0, or -1 with a message. */
static int other_open(const bench_run *run, other_build *o)
{
    memset(o, 0, sizeof *o);
    o->library = dlopen(run->against, RTLD_NOW | RTLD_LOCAL);
    if (!o->library) {
        fprintf(stderr, "clnn-bench: --against: %s\n", dlerror());
        return -1;
    }
    /* Through a void * object, as POSIX's dlsym example: ISO C has no conversion from an object
     * pointer to a function pointer. */
    static const struct {
        const char *name;
        size_t offset;
    } symbols[] = {
        {"clnn_context_options_init", offsetof(other_build, context_options_init)},
        {"clnn_context_create", offsetof(other_build, context_create)},
        {"clnn_context_destroy", offsetof(other_build, context_destroy)},
        {"clnn_context_finish", offsetof(other_build, context_finish)},
        {"clnn_tensor_create", offsetof(other_build, tensor_create)},
        {"clnn_tensor_fill", offsetof(other_build, tensor_fill)},
        {"clnn_tensor_destroy", offsetof(other_build, tensor_destroy)},
        {"clnn_conv2d_workspace_size", offsetof(other_build, workspace_size)},
        {"clnn_conv2d_forward", offsetof(other_build, forward)},
        {"clnn_conv2d_backward_data", offsetof(other_build, backward_data)},
        {"clnn_conv2d_backward_weight", offsetof(other_build, backward_weight)},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i) {
        void *address = dlsym(o->library, symbols[i].name);
        if (!address) {
            fprintf(stderr, "clnn-bench: --against %s: no %s\n", run->against, symbols[i].name);
            dlclose(o->library);
            return -1;
        }
        memcpy((char *)o + symbols[i].offset, &address, sizeof address);
    }
    clnn_context_options options;
    o->context_options_init(&options);
    options.device = run->device_selector;
    clnn_status status = o->context_create(&o->ctx, &options);
    if (status != CLNN_SUCCESS) {
        fprintf(stderr, "clnn-bench: --against %s: its context: %s\n", run->against,
                clnn_status_string(status));
        dlclose(o->library);
        return -1;
    }
    return 0;
}

static void other_close(other_build *o)
{
    if (o->ctx)
        o->context_destroy(o->ctx);
    if (o->library)
        dlclose(o->library);
}

static clnn_status other_pass(const other_build *o, const conv_args *a)
{
    switch (a->pass) {
    case FORWARD:
        return o->forward(o->ctx, &a->desc, a->x, a->w, NULL, NULL, a->y, a->workspace);
    case BACKWARD_DATA:
        return o->backward_data(o->ctx, &a->desc, a->dy, a->w, 0.0f, a->dx, a->workspace);
    default:
        return o->backward_weight(o->ctx, &a->desc, a->dy, a->x, 0.0f, a->dw, a->workspace);
    }
}

#define PAIRED_MAX_REPS 1000

/* Times `a` (this build) and `b` (the other) alternately: warm-up runs of both, then reps
 * pairs, each side finished before the other starts. This build's times in *stats; the median
 * and quartiles of the pairs' ratios (this / other) in ratio[0..2]. */
static clnn_status measure_paired(const bench_run *run, const other_build *o, conv_args *a,
                                  conv_args *b, bench_stats *stats, double ratio[3])
{
    static double mine[PAIRED_MAX_REPS], ratios[PAIRED_MAX_REPS];
    int reps = run->reps < 1 ? 1 : run->reps > PAIRED_MAX_REPS ? PAIRED_MAX_REPS : run->reps;
    clnn_status status = CLNN_SUCCESS;
    for (int i = -run->warmup; status == CLNN_SUCCESS && i < reps; ++i) {
        double t0 = tool_now();
        status = run_pass(a);
        if (status == CLNN_SUCCESS)
            status = clnn_context_finish(a->ctx);
        double t1 = tool_now();
        if (status == CLNN_SUCCESS)
            status = other_pass(o, b);
        if (status == CLNN_SUCCESS)
            status = o->context_finish(o->ctx);
        double t2 = tool_now();
        if (i >= 0)
            mine[i] = t1 - t0, ratios[i] = (t1 - t0) / (t2 - t1);
    }
    if (status != CLNN_SUCCESS)
        return status;
    stats->reps = reps;
    stats->median_s = tool_median(mine, reps); /* sorts */
    stats->min_s = mine[0];
    stats->max_s = mine[reps - 1];
    ratio[0] = tool_median(ratios, reps);
    ratio[1] = ratios[reps / 4];
    ratio[2] = ratios[(3 * reps) / 4];
    return CLNN_SUCCESS;
}

#ifdef CLNN_BENCH_ONEDNN
/* oneDNN's CPU engine and stream, made once for the suite. */
typedef struct onednn_peer {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} onednn_peer;

#define DNNL_TRY(call)                                                                             \
    do {                                                                                           \
        dnnl_status_t dnnl_status_ = (call);                                                       \
        if (dnnl_status_ != dnnl_success) {                                                        \
            fprintf(stderr, "clnn-bench: oneDNN: %s failed (status %d)\n", #call,                  \
                    (int)dnnl_status_);                                                            \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* "plain" when md is the plain layout, else its inner blocks, e.g. "16c" (nChw16c) or "16i16o":
 * letters are the dimensions of `dims` ("nchw" for activations, "oihw" for weights). */
static void describe_layout(const dnnl_memory_desc_t *md, const dnnl_memory_desc_t *plain,
                            const char *dims, char *out, size_t size)
{
    if (dnnl_memory_desc_equal(md, plain) || md->format_kind != dnnl_blocked) {
        snprintf(out, size, "%s", md->format_kind == dnnl_blocked ? dims : "opaque");
        return;
    }
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < b->inner_nblks && used < size; ++i) {
        int n = snprintf(out + used, size - used, "%lld%c", (long long)b->inner_blks[i],
                         dims[b->inner_idxs[i] & 3]);
        used += n > 0 ? (size_t)n : 0;
    }
    if (!out[0])
        snprintf(out, size, "%s (strided)", dims);
}

/* Memory in the layout `pd` wants for `query`; an input is filled through a reorder from a plain
 * buffer of 0.01 (outside any timing), an output is only allocated. */
static int make_arg(onednn_peer *p, const_dnnl_primitive_desc_t pd, dnnl_query_t query,
                    const dnnl_memory_desc_t *plain, int input, dnnl_memory_t *out)
{
    int ok = 0;
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t reorder_pd = NULL;
    dnnl_primitive_t reorder = NULL;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, query, 0);
    if (!md) {
        fprintf(stderr, "clnn-bench: oneDNN: no memory descriptor for query %d\n", (int)query);
        return -1;
    }
    DNNL_TRY(dnnl_memory_create(out, md, p->engine, DNNL_MEMORY_ALLOCATE));
    if (input) {
        DNNL_TRY(dnnl_memory_create(&user, plain, p->engine, DNNL_MEMORY_ALLOCATE));
        void *data = NULL;
        DNNL_TRY(dnnl_memory_get_data_handle(user, &data));
        size_t count = dnnl_memory_desc_get_size(plain) / sizeof(float);
        for (size_t i = 0; i < count; ++i)
            ((float *)data)[i] = 0.01f;
        DNNL_TRY(
            dnnl_reorder_primitive_desc_create(&reorder_pd, plain, p->engine, md, p->engine, NULL));
        DNNL_TRY(dnnl_primitive_create(&reorder, reorder_pd));
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, *out}};
        DNNL_TRY(dnnl_primitive_execute(reorder, p->stream, 2, args));
        DNNL_TRY(dnnl_stream_wait(p->stream));
    }
    ok = 1;
cleanup:
    if (reorder)
        dnnl_primitive_destroy(reorder);
    if (reorder_pd)
        dnnl_primitive_desc_destroy(reorder_pd);
    if (user)
        dnnl_memory_destroy(user);
    return ok ? 0 : -1;
}

/* Median seconds of one pass with oneDNN after `warmup` untimed runs; describes the chosen
 * implementation and layouts in `info`. Returns a negative value when oneDNN failed. */
static double onednn_seconds(onednn_peer *p, const conv_case *c, size_t oh, size_t ow,
                             conv_pass pass, int warmup, int reps, char *info, size_t info_size)
{
    enum { SRC, WEIGHTS, DST, ARG_COUNT };
    double result = -1.0, times[64];
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t mem[ARG_COUNT] = {NULL, NULL, NULL};
    if (reps > 64)
        reps = 64;

    dnnl_dims_t src_dims = {(dnnl_dim_t)c->n, (dnnl_dim_t)c->c, (dnnl_dim_t)c->h, (dnnl_dim_t)c->w};
    dnnl_dims_t wei_dims = {(dnnl_dim_t)c->o, (dnnl_dim_t)c->c, (dnnl_dim_t)c->k, (dnnl_dim_t)c->k};
    dnnl_dims_t dst_dims = {(dnnl_dim_t)c->n, (dnnl_dim_t)c->o, (dnnl_dim_t)oh, (dnnl_dim_t)ow};
    dnnl_dims_t strides = {1, 1}, padding = {(dnnl_dim_t)c->pad, (dnnl_dim_t)c->pad};
    dnnl_memory_desc_t plain[ARG_COUNT], any[ARG_COUNT];
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&plain[SRC], 4, src_dims, dnnl_f32, dnnl_nchw));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&plain[WEIGHTS], 4, wei_dims, dnnl_f32, dnnl_oihw));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&plain[DST], 4, dst_dims, dnnl_f32, dnnl_nchw));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any[SRC], 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    DNNL_TRY(
        dnnl_memory_desc_init_by_tag(&any[WEIGHTS], 4, wei_dims, dnnl_f32, dnnl_format_tag_any));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&any[DST], 4, dst_dims, dnnl_f32, dnnl_format_tag_any));

    /* The forward primitive descriptor: the primitive itself, or the hint a backward one needs. */
    dnnl_convolution_desc_t fwd, bwd;
    DNNL_TRY(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training,
                                                dnnl_convolution_direct, &any[SRC], &any[WEIGHTS],
                                                NULL, &any[DST], strides, padding, padding));
    DNNL_TRY(dnnl_primitive_desc_create(&fwd_pd, &fwd, NULL, p->engine, NULL));
    /* Each pass's arguments: (execution argument, query, is an input) for src, weights, dst. */
    static const struct {
        int arg;
        dnnl_query_t query;
        int input;
    } roles[PASS_COUNT][ARG_COUNT] = {
        {{DNNL_ARG_SRC, dnnl_query_src_md, 1},
         {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 1},
         {DNNL_ARG_DST, dnnl_query_dst_md, 0}},
        {{DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0},
         {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 1},
         {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 1}},
        {{DNNL_ARG_SRC, dnnl_query_src_md, 1},
         {DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0},
         {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 1}},
    };
    if (pass == FORWARD) {
        pd = fwd_pd;
        fwd_pd = NULL;
    } else {
        if (pass == BACKWARD_DATA)
            DNNL_TRY(dnnl_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct,
                                                              &any[SRC], &any[WEIGHTS], &any[DST],
                                                              strides, padding, padding));
        else
            DNNL_TRY(dnnl_convolution_backward_weights_desc_init(
                &bwd, dnnl_convolution_direct, &any[SRC], &any[WEIGHTS], NULL, &any[DST], strides,
                padding, padding));
        DNNL_TRY(dnnl_primitive_desc_create(&pd, &bwd, NULL, p->engine, fwd_pd));
    }
    DNNL_TRY(dnnl_primitive_create(&prim, pd));
    dnnl_exec_arg_t args[ARG_COUNT];
    for (int i = 0; i < ARG_COUNT; ++i) {
        if (make_arg(p, pd, roles[pass][i].query, &plain[i], roles[pass][i].input, &mem[i]) != 0)
            goto cleanup;
        args[i].arg = roles[pass][i].arg;
        args[i].memory = mem[i];
    }

    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    char layout[ARG_COUNT][32];
    static const char *const letters[ARG_COUNT] = {"nchw", "oihw", "nchw"};
    for (int i = 0; i < ARG_COUNT; ++i)
        describe_layout(dnnl_primitive_desc_query_md(pd, roles[pass][i].query, 0), &plain[i],
                        letters[i], layout[i], sizeof layout[i]);
    snprintf(info, info_size, "%s; x %s, weight %s, y %s", impl, layout[SRC], layout[WEIGHTS],
             layout[DST]);

    for (int r = -warmup; r < reps; ++r) {
        double t0 = tool_now();
        DNNL_TRY(dnnl_primitive_execute(prim, p->stream, ARG_COUNT, args));
        DNNL_TRY(dnnl_stream_wait(p->stream));
        if (r >= 0)
            times[r] = tool_now() - t0;
    }
    result = tool_median(times, reps);
cleanup:
    for (int i = 0; i < ARG_COUNT; ++i)
        if (mem[i])
            dnnl_memory_destroy(mem[i]);
    if (prim)
        dnnl_primitive_destroy(prim);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    return result;
}
#else
typedef struct onednn_peer {
    int unused;
} onednn_peer;
#endif

/* One shape's clnn figures, kept until oneDNN has run (bench_suite_conv). */
typedef struct case_result {
    char names[PASS_COUNT][64], shape[48];
    int selected, failed, measured[PASS_COUNT];
    bench_stats stats[PASS_COUNT];
    double paired[PASS_COUNT][3]; /* --against: median, lower and upper quartile of the ratios */
    bench_run local; /* the repetitions both libraries get */
    size_t oh, ow, floats;
    double flops;
} case_result;

/* Times the selected passes of one shape with clnn into *r (in pairs with `other` unless it is
 * NULL). Returns the number that failed. */
static int measure_case(bench_run *run, const other_build *other, const conv_case *c,
                        case_result *r)
{
    memset(r, 0, sizeof *r);
    for (int p = 0; p < PASS_COUNT; ++p) {
        snprintf(r->names[p], sizeof r->names[p], "conv.%s.%s", c->name, pass_names[p]);
        r->selected |= bench_selected(run, r->names[p]);
    }
    if (!r->selected)
        return 0;

    conv_args a;
    memset(&a, 0, sizeof a);
    a.ctx = run->ctx;
    clnn_conv2d_desc_init(&a.desc, c->k, c->k);
    a.desc.padding[0] = a.desc.padding[1] = c->pad;
    size_t xd[4] = {c->n, c->c, c->h, c->w}, wd[4] = {c->o, c->c, c->k, c->k};
    clnn_status status = clnn_conv2d_output_size(&a.desc, c->h, c->w, &r->oh, &r->ow);
    size_t yd[4] = {c->n, c->o, r->oh, r->ow};
    if (status == CLNN_SUCCESS)
        status = clnn_conv2d_workspace_size(run->ctx, &a.desc, xd, wd, &r->floats);
    clnn_tensor **tensors[] = {&a.x, &a.dx, &a.w, &a.dw, &a.y, &a.dy};
    const size_t *dims[] = {xd, xd, wd, wd, yd, yd};
    for (size_t i = 0; status == CLNN_SUCCESS && i < sizeof tensors / sizeof tensors[0]; ++i) {
        status = clnn_tensor_create(run->ctx, 4, dims[i], tensors[i]);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_fill(*tensors[i], 0.01f);
    }
    if (status == CLNN_SUCCESS && r->floats > 0)
        status = clnn_tensor_create(run->ctx, 1, &r->floats, &a.workspace);
    /* The other build's operands, alike. */
    conv_args b = a;
    b.ctx = NULL, b.x = b.dx = b.w = b.dw = b.y = b.dy = b.workspace = NULL;
    clnn_tensor **theirs[] = {&b.x, &b.dx, &b.w, &b.dw, &b.y, &b.dy};
    size_t their_floats = 0;
    if (other) {
        if (status == CLNN_SUCCESS)
            status = other->workspace_size(other->ctx, &b.desc, xd, wd, &their_floats);
        for (size_t i = 0; status == CLNN_SUCCESS && i < sizeof theirs / sizeof theirs[0]; ++i) {
            status = other->tensor_create(other->ctx, 4, dims[i], theirs[i]);
            if (status == CLNN_SUCCESS)
                status = other->tensor_fill(*theirs[i], 0.01f);
        }
        if (status == CLNN_SUCCESS && their_floats > 0)
            status = other->tensor_create(other->ctx, 1, &their_floats, &b.workspace);
    }

    snprintf(r->shape, sizeof r->shape, "%zux%zux%zux%zu>%zu", c->n, c->c, c->h, c->w, c->o);
    r->flops = 2.0 * (double)c->n * (double)c->o * (double)r->oh * (double)r->ow * (double)c->c *
               (double)c->k * (double)c->k;
    r->local = *run;
    if (r->flops > CONV_BIG_FLOPS && r->local.reps > CONV_BIG_REPS)
        r->local.reps = CONV_BIG_REPS;
    if (r->flops > CONV_BIG_FLOPS && r->local.warmup > 1)
        r->local.warmup = 1;
    if (r->local.warmup < 1) /* never time POCL's first-launch compiles or oneDNN's JIT */
        r->local.warmup = 1;

    if (status != CLNN_SUCCESS) {
        bench_error(run, r->names[0], status);
        r->failed = PASS_COUNT;
    }
    for (int p = 0; !r->failed && p < PASS_COUNT; ++p) {
        if (!bench_selected(run, r->names[p]))
            continue;
        a.pass = b.pass = (conv_pass)p;
        status = other ? measure_paired(&r->local, other, &a, &b, &r->stats[p], r->paired[p])
                       : bench_measure(&r->local, run_pass, &a, &r->stats[p]);
        if (status != CLNN_SUCCESS) {
            bench_error(run, r->names[p], status);
            ++r->failed;
            continue;
        }
        r->measured[p] = 1;
    }
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; ++i)
        clnn_tensor_destroy(*tensors[i]);
    clnn_tensor_destroy(a.workspace);
    if (other) {
        for (size_t i = 0; i < sizeof theirs / sizeof theirs[0]; ++i)
            other->tensor_destroy(*theirs[i]);
        other->tensor_destroy(b.workspace);
    }
    return r->failed;
}

/* Prints one shape's clnn rows, each followed, when a peer is there, by oneDNN's figure for the
 * same pass (timed now) and the ratio. */
static void report_case(bench_run *run, onednn_peer *peer, const conv_case *c,
                        const case_result *r)
{
    if (!r->selected || r->failed == PASS_COUNT)
        return;
    printf("conv.%s: %zux%zu kernel, padding %zu, output %zux%zu, workspace %.2f MB\n", c->name,
           c->k, c->k, c->pad, r->oh, r->ow, (double)r->floats * sizeof(float) / 1e6);
    for (int p = 0; p < PASS_COUNT; ++p) {
        if (!r->measured[p])
            continue;
        bench_report(run, "conv", r->names[p], r->shape, 0, r->flops, &r->stats[p]);
        if (run->against) {
            printf("%-34s %-18s %10s %8s %9s %7s %9.3f  [%.3f %.3f]\n", "  paired this/against",
                   r->shape, "", "", "", "", r->paired[p][0], r->paired[p][1], r->paired[p][2]);
            continue;
        }
#ifdef CLNN_BENCH_ONEDNN
        if (!peer)
            continue;
        char info[160] = "", peer_name[80];
        double s = onednn_seconds(peer, c, r->oh, r->ow, (conv_pass)p, r->local.warmup,
                                  r->local.reps, info, sizeof info);
        tool_sleep(ONEDNN_PARK_SECONDS);
        snprintf(peer_name, sizeof peer_name, "%.63s.onednn", r->names[p]);
        if (s <= 0) {
            fprintf(stderr, "clnn-bench: %s failed\n", peer_name);
            run->failures++;
            continue;
        }
        bench_report_peer(run, "conv", peer_name, r->shape, 0, r->flops, s);
        printf("%-34s %-18s %10s %8s %9s %7s %9.2f\n", "  ratio clnn/oneDNN", r->shape, "", "", "",
               "", s / r->stats[p].median_s);
        printf("  (oneDNN %s)\n", info);
#else
        (void)peer;
#endif
    }
}

int bench_suite_conv(bench_run *run)
{
    static const conv_case cases[] = {
        /* clnn-train --model cnn at its batch of 128: conv32k3p1nb on the 1x28x28 image,
         * conv64k3p1nb after the first 2x2 pooling, the residual block's conv64k3p1nb (both
         * alike) after the second */
        {"cnn.1-32.28", 128, 1, 28, 28, 32, 3, 1},
        {"cnn.32-64.14", 128, 32, 14, 14, 64, 3, 1},
        {"cnn.64-64.7", 128, 64, 7, 7, 64, 3, 1},
        /* ResNet-18's 3x3 stages (stride 1) at batch 16 on a 224x224 input */
        {"resnet.64.56", 16, 64, 56, 56, 64, 3, 1},
        {"resnet.128.28", 16, 128, 28, 28, 128, 3, 1},
        {"resnet.256.14", 16, 256, 14, 14, 256, 3, 1},
    };
    other_build other_storage, *other = NULL;
    if (run->against) {
        if (other_open(run, &other_storage) != 0) {
            run->failures++;
            return 1;
        }
        other = &other_storage;
        printf("conv: paired with %s: ratio = this build's time / its time, median of the pairs "
               "[quartiles] (below 1: this build faster); no oneDNN figures\n",
               run->against);
    } else {
        printf("conv: ratio = clnn GFLOP/s / oneDNN GFLOP/s (above 1: clnn faster); passes over "
               "%.0e FLOPs: at most %d timed runs\n",
               CONV_BIG_FLOPS, CONV_BIG_REPS);
    }
    /* Every clnn figure first, then oneDNN's, its engine created only then: a clnn pass timed
     * after oneDNN's runs came out up to 2.4 times slower (the first layer's weight gradient
     * right after oneDNN's one-channel data gradient: 1.1 ms against 0.46 ms alone, even with a
     * 1 s park), so no clnn run follows a oneDNN one. */
    enum { CASE_COUNT = sizeof cases / sizeof cases[0] };
    static case_result results[CASE_COUNT];
    int failures = 0;
    for (size_t i = 0; i < CASE_COUNT; ++i)
        failures += measure_case(run, other, &cases[i], &results[i]);
    if (other) {
        for (size_t i = 0; i < CASE_COUNT; ++i)
            report_case(run, NULL, &cases[i], &results[i]);
        other_close(other);
        return failures ? 1 : 0;
    }

    onednn_peer peer;
    memset(&peer, 0, sizeof peer);
    int have_peer = 0;
#ifdef CLNN_BENCH_ONEDNN
    if (dnnl_engine_create(&peer.engine, dnnl_cpu, 0) == dnnl_success &&
        dnnl_stream_create(&peer.stream, peer.engine, dnnl_stream_default_flags) == dnnl_success)
        have_peer = 1;
    const dnnl_version_t *v = dnnl_version();
    if (have_peer)
        printf("conv: oneDNN %d.%d.%d peer on the host CPU (its OpenMP threads: OMP_NUM_THREADS, "
               "else one per core); format_tag any, inputs reordered from nchw/oihw once before "
               "timing, direct algorithm, forward_training\n",
               v->major, v->minor, v->patch);
    else
        printf("conv: oneDNN %d.%d.%d: cannot create its CPU engine: no peer figures\n", v->major,
               v->minor, v->patch);
#else
    printf("conv: built without oneDNN (install libdnnl-dev and reconfigure): no peer figures\n");
#endif
    for (size_t i = 0; i < CASE_COUNT; ++i)
        report_case(run, have_peer ? &peer : NULL, &cases[i], &results[i]);
#ifdef CLNN_BENCH_ONEDNN
    if (peer.stream)
        dnnl_stream_destroy(peer.stream);
    if (peer.engine)
        dnnl_engine_destroy(peer.engine);
#endif
    return failures ? 1 : 0;
}
