/*
 * Network checkpoints: everything needed to resume training bit for bit (the layers'
 * description, the initialisation record, parameters, running statistics, optimiser state and
 * step counts) and the caller's own bytes, in the versioned, checksummed, atomically written
 * container of src/serialize.c. docs/checkpoints.md documents the layout.
 *
 * Format 2 describes the network record by record. Format 1 is the MLP engine's of clnn 0.x
 * (clnn-train's files): the same sections with the MLP spec as the description; networks made
 * by the MLP builder write format 2 and read both.
 */
#include "network_internal.h"
#include "serialize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_MAGIC "CLNNCKPT"
#define CHECKPOINT_VERSION 2u
#define CHECKPOINT_MLP_VERSION 1u
#define CHECKPOINT_MAX_USER ((size_t)64 << 10)

static void write_activation(clnn_writer *w, const clnn_activation_desc *a)
{
    clnn_writer_u32(w, (uint32_t)a->kind);
    clnn_writer_f32(w, a->negative_slope);
    clnn_writer_f32(w, a->alpha);
    clnn_writer_f32(w, a->min_val);
    clnn_writer_f32(w, a->max_val);
    clnn_writer_f32(w, a->beta);
    clnn_writer_f32(w, a->threshold);
}

/* The network's description: what a checkpoint must match to be loaded. */
static void write_structure(clnn_writer *w, const clnn_network *net)
{
    clnn_writer_u32(w, (uint32_t)net->options.loss);
    clnn_writer_u32(w, (uint32_t)net->in.ndim);
    for (int i = 0; i < net->in.ndim; ++i)
        clnn_writer_u64(w, net->in.dims[i]);
    clnn_writer_u64(w, net->record_count);
    for (size_t i = 0; i < net->record_count; ++i) {
        const clnn_layer_spec *r = &net->records[i];
        clnn_writer_u32(w, (uint32_t)r->type);
        clnn_writer_u64(w, r->units);
        write_activation(w, &r->activation);
        clnn_writer_f32(w, r->dropout);
        clnn_writer_u32(w, (uint32_t)r->prelu_per_channel);
        clnn_writer_f32(w, r->prelu_init);
        clnn_writer_f32(w, r->momentum);
        clnn_writer_f32(w, r->eps);
        clnn_writer_u32(w, (uint32_t)r->skip);
        /* Kinds added after format 2 was defined describe their geometry after the common
         * fields, so that the files of networks without them keep their bytes. */
        if (r->type == CLNN_LAYER_CONV2D) {
            const clnn_conv2d_desc *c = &r->conv;
            for (int axis = 0; axis < 2; ++axis) {
                clnn_writer_u64(w, c->kernel[axis]);
                clnn_writer_u64(w, c->stride[axis]);
                clnn_writer_u64(w, c->padding[axis]);
                clnn_writer_u64(w, c->dilation[axis]);
            }
            clnn_writer_u64(w, c->groups);
            clnn_writer_u32(w, (uint32_t)r->bias);
        } else if (r->type == CLNN_LAYER_POOL2D) {
            const clnn_pool2d_desc *p = &r->pool;
            clnn_writer_u32(w, (uint32_t)p->kind);
            for (int axis = 0; axis < 2; ++axis) {
                clnn_writer_u64(w, p->kernel[axis]);
                clnn_writer_u64(w, p->stride[axis]);
                clnn_writer_u64(w, p->padding[axis]);
            }
            clnn_writer_u32(w, (uint32_t)p->count_include_pad);
        }
    }
}

/* Where the weights came from: adopted by a network that loads the checkpoint (the seed also
 * drives the dropout masks, which must continue as they would have). */
static void write_origin(clnn_writer *w, const clnn_init_params *p, uint64_t seed)
{
    clnn_writer_u32(w, (uint32_t)p->kind);
    clnn_writer_u64(w, p->seed);
    clnn_writer_f32(w, p->value);
    clnn_writer_f32(w, p->a);
    clnn_writer_f32(w, p->b);
    clnn_writer_f32(w, p->mean);
    clnn_writer_f32(w, p->std);
    clnn_writer_f32(w, p->gain);
    clnn_writer_f32(w, p->slope);
    clnn_writer_u32(w, (uint32_t)p->mode);
    clnn_writer_u32(w, (uint32_t)p->nonlinearity);
    clnn_writer_u64(w, seed);
}

static int read_origin(clnn_reader *r, clnn_init_params *p, uint64_t *seed)
{
    uint32_t kind = 0, mode = 0, nonlinearity = 0;
    clnn_reader_u32(r, &kind);
    clnn_reader_u64(r, &p->seed);
    clnn_reader_f32(r, &p->value);
    clnn_reader_f32(r, &p->a);
    clnn_reader_f32(r, &p->b);
    clnn_reader_f32(r, &p->mean);
    clnn_reader_f32(r, &p->std);
    clnn_reader_f32(r, &p->gain);
    clnn_reader_f32(r, &p->slope);
    clnn_reader_u32(r, &mode);
    clnn_reader_u32(r, &nonlinearity);
    clnn_reader_u64(r, seed);
    p->kind = (clnn_init_kind)kind;
    p->mode = (clnn_fan_mode)mode;
    p->nonlinearity = (clnn_nonlinearity)nonlinearity;
    return !r->failed && kind < CLNN_INIT_KIND_COUNT && nonlinearity < CLNN_NONLINEARITY_COUNT;
}

/* Every device tensor a checkpoint holds, in file order: parameters, running statistics, then
 * each parameter's optimiser state slots. *out is allocated. */
static clnn_status checkpoint_tensors(clnn_network *net, clnn_tensor ***out, size_t *count)
{
    size_t slots = 0;
    clnn_optimizer_state_count(net->optimizer, &slots);
    size_t capacity = net->param_count * (1 + slots) + net->state_count;
    clnn_tensor **list = malloc((capacity ? capacity : 1) * sizeof *list);
    if (!list)
        return clnn_error(net->ctx, CLNN_ERR_HOST_MEMORY, "out of memory for a checkpoint");
    size_t n = 0;
    for (size_t i = 0; i < net->param_count; ++i)
        list[n++] = net->params[i];
    for (size_t i = 0; i < net->state_count; ++i)
        list[n++] = net->states[i];
    for (size_t i = 0; i < net->param_count; ++i)
        for (size_t s = 0; s < slots; ++s) {
            clnn_tensor *state = NULL;
            if (clnn_optimizer_get_state(net->optimizer, i, s, &state) == CLNN_SUCCESS)
                list[n++] = state;
        }
    *out = list;
    *count = n;
    return CLNN_SUCCESS;
}

clnn_status clnn_network_save(clnn_network *net, const char *path, const void *user,
                              size_t user_size)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_save: network is NULL");
    clnn_context *ctx = net->ctx;
    if (!path)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_save: path is NULL");
    if (user_size > CHECKPOINT_MAX_USER || (user_size && !user))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_save: user data must be at most %zu bytes (and not NULL)",
                          CHECKPOINT_MAX_USER);
    clnn_tensor **tensors = NULL;
    size_t count = 0;
    clnn_status status = checkpoint_tensors(net, &tensors, &count);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_writer w = {0};
    clnn_optimizer_options options;
    uint64_t optimizer_step = 0;
    double lr = 0.0;
    status = clnn_optimizer_get_options(net->optimizer, &options);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_get_step(net->optimizer, &optimizer_step);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_get_lr(net->optimizer, &lr);
    if (status == CLNN_SUCCESS) {
        write_structure(&w, net);
        write_origin(&w, &net->options.weight_init, net->options.seed);
        clnn_writer_u32(&w, (uint32_t)options.kind);
        uint64_t lr_bits;
        memcpy(&lr_bits, &lr, 8);
        clnn_writer_u64(&w, lr_bits);
        clnn_writer_u64(&w, net->step);
        clnn_writer_u64(&w, optimizer_step);
        clnn_writer_u64(&w, count);
    }
    float *host = NULL;
    size_t host_size = 0;
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        size_t n = tensors[i]->count;
        if (n > host_size) {
            float *grown = realloc(host, n * sizeof *host);
            if (!grown) {
                status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory saving %s", path);
                break;
            }
            host = grown;
            host_size = n;
        }
        status = clnn_tensor_download(tensors[i], host, n);
        if (status != CLNN_SUCCESS)
            break;
        clnn_writer_u64(&w, n);
        for (size_t j = 0; j < n; ++j)
            clnn_writer_f32(&w, host[j]);
    }
    if (status == CLNN_SUCCESS) {
        clnn_writer_u64(&w, user_size);
        if (user_size)
            clnn_writer_bytes(&w, user, user_size);
        status = clnn_file_save(ctx, path, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, &w);
    }
    clnn_writer_free(&w);
    free(host);
    free(tensors);
    return status;
}

/* Reads the file's description and compares it with the network's (format 1: the MLP's). */
static clnn_status match_structure(clnn_network *net, clnn_reader *r, uint32_t version,
                                   const char *path)
{
    clnn_writer expected = {0};
    if (version == CHECKPOINT_MLP_VERSION)
        net->legacy_structure(net->mlp_spec, &expected);
    else
        write_structure(&expected, net);
    /* The encoding is a pure function of the fields, so comparing bytes compares fields. */
    size_t length = expected.length;
    unsigned char *bytes = malloc(length ? length : 1);
    clnn_status status = CLNN_SUCCESS;
    if (!bytes || expected.failed)
        status = clnn_error(net->ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", path);
    else if (!clnn_reader_bytes(r, bytes, length) || memcmp(bytes, expected.data, length) != 0)
        status = clnn_error(net->ctx, CLNN_ERR_MISMATCH,
                            "%s holds another model (other layers, sizes, settings or loss) than "
                            "this one",
                            path);
    free(bytes);
    clnn_writer_free(&expected);
    return status;
}

clnn_status clnn_network_load(clnn_network *net, const char *path, void *user,
                              size_t user_capacity, size_t *user_size)
{
    if (!net)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_load: network is NULL");
    clnn_context *ctx = net->ctx;
    if (!path)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_load: path is NULL");
    clnn_tensor **tensors = NULL;
    size_t count = 0;
    clnn_status status = checkpoint_tensors(net, &tensors, &count);
    if (status != CLNN_SUCCESS)
        return status;
    size_t total = 0;
    for (size_t i = 0; i < count; ++i)
        total += tensors[i]->count;

    unsigned char *file = NULL;
    uint32_t version = 0;
    clnn_reader r;
    float *values = NULL;
    /* The values, with room for the description and the user bytes. */
    status = clnn_file_load(ctx, path, CHECKPOINT_MAGIC, ((size_t)64 << 20) + total * 4 * 2,
                            &file, &version, &r);
    if (status != CLNN_SUCCESS)
        goto done;
    if (version != CHECKPOINT_VERSION &&
        !(version == CHECKPOINT_MLP_VERSION && net->legacy_structure)) {
        status = clnn_error(ctx, CLNN_ERR_FORMAT,
                            "%s is a version %u checkpoint; this clnn reads version %u%s", path,
                            version, CHECKPOINT_VERSION,
                            version == CHECKPOINT_MLP_VERSION ? " (and 1 into MLPs)" : "");
        goto done;
    }
    status = match_structure(net, &r, version, path);
    if (status != CLNN_SUCCESS)
        goto done;
    clnn_init_params origin = net->options.weight_init;
    uint64_t seed = 0;
    if (!read_origin(&r, &origin, &seed)) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s: its initialisation record is invalid",
                            path);
        goto done;
    }

    clnn_optimizer_options options;
    clnn_optimizer_get_options(net->optimizer, &options);
    uint32_t kind = 0;
    uint64_t lr_bits = 0, step = 0, optimizer_step = 0, saved_count = 0, user_bytes = 0;
    clnn_reader_u32(&r, &kind);
    clnn_reader_u64(&r, &lr_bits);
    clnn_reader_u64(&r, &step);
    clnn_reader_u64(&r, &optimizer_step);
    clnn_reader_u64(&r, &saved_count);
    if (r.failed) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s ends inside its header", path);
        goto done;
    }
    if (optimizer_step >= ((uint64_t)1 << 53)) { /* what clnn_optimizer_set_step refuses */
        status = clnn_error(ctx, CLNN_ERR_CORRUPT,
                            "%s: its optimiser step %llu is not below 2^53", path,
                            (unsigned long long)optimizer_step);
        goto done;
    }
    if (kind != (uint32_t)options.kind || saved_count != count) {
        status = clnn_error(ctx, CLNN_ERR_MISMATCH,
                            "%s was saved with the %s optimiser (%llu state tensors); this model "
                            "uses %s (%zu)",
                            path, clnn_optimizer_kind_string((clnn_optimizer_kind)kind),
                            (unsigned long long)saved_count,
                            clnn_optimizer_kind_string(options.kind), count);
        goto done;
    }
    values = malloc((total ? total : 1) * sizeof *values);
    if (!values) {
        status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", path);
        goto done;
    }
    size_t offset = 0;
    for (size_t i = 0; i < count; ++i) {
        uint64_t n = 0;
        if (!clnn_reader_u64(&r, &n))
            break;
        if (n != tensors[i]->count) {
            status = clnn_error(ctx, CLNN_ERR_MISMATCH,
                                "%s: tensor %zu holds %llu values; the model's holds %zu", path,
                                i, (unsigned long long)n, tensors[i]->count);
            goto done;
        }
        for (size_t j = 0; j < n; ++j)
            clnn_reader_f32(&r, &values[offset + j]);
        offset += (size_t)n;
    }
    clnn_reader_u64(&r, &user_bytes);
    if (r.failed || user_bytes > CHECKPOINT_MAX_USER || r.length - r.position != user_bytes) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s: its contents do not add up", path);
        goto done;
    }
    if (user && user_bytes > user_capacity) {
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                            "clnn_network_load: %s holds %llu user bytes; user_capacity is %zu",
                            path, (unsigned long long)user_bytes, user_capacity);
        goto done;
    }

    /* Everything is checked: now change the network. */
    offset = 0;
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        status = clnn_tensor_upload(tensors[i], values + offset, tensors[i]->count);
        offset += tensors[i]->count;
    }
    double lr;
    memcpy(&lr, &lr_bits, 8);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_set_step(net->optimizer, optimizer_step);
    if (status == CLNN_SUCCESS && isfinite(lr) && lr >= 0.0)
        status = clnn_optimizer_set_lr(net->optimizer, lr);
    if (status == CLNN_SUCCESS) {
        net->step = step;
        net->options.weight_init = origin;
        net->options.seed = seed;
        clnn_sequence_reseed(&net->seq, seed);
        if (user && user_bytes)
            memcpy(user, r.data + r.position, (size_t)user_bytes);
        if (user_size)
            *user_size = (size_t)user_bytes;
    }
done:
    free(values);
    free(file);
    free(tensors);
    return status;
}
