/*
 * The device profile: the one place that decides how kernels are laid out for a device. Op
 * families read ctx->profile (through clnn_cpu_forms) and the build options it makes, never the
 * device type. The profile comes from queried capabilities, the caller's override (the context
 * option or CLNN_KERNEL_FORMS) and the table of known driver quirks below.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const forms_strings[] = {"auto", "cpu", "gpu"};
_Static_assert(sizeof(forms_strings) / sizeof(forms_strings[0]) == CLNN_KERNEL_FORMS_COUNT,
               "forms_strings must name every clnn_kernel_forms");

const char *clnn_kernel_forms_string(clnn_kernel_forms forms)
{
    if ((int)forms < 0 || forms >= CLNN_KERNEL_FORMS_COUNT)
        return "unknown";
    return forms_strings[forms];
}

/* ---- driver quirks ------------------------------------------------------------------------------
 * A quirk is a construct that one implementation cannot compile or run although OpenCL C 1.2
 * allows it (a process abort inside a driver cannot be turned into a status, so the library avoids
 * the construct there instead), or a legal use that costs so much there that it defeats its own
 * purpose. Each entry names the symptom it avoids; platform is matched as a
 * case-insensitive substring of the platform name, driver as a prefix of CL_DRIVER_VERSION (""
 * matches every version: widen or narrow it when a fixed release is known). */

enum {
    QUIRK_NO_PREFETCH = 1u << 0,        /* never emit __builtin_prefetch */
    QUIRK_NO_BINARY_CACHE = 1u << 1,    /* never ask for program binaries (no clnn disk cache) */
    QUIRK_LANEWISE_MATH = 1u << 2,      /* the CPU forms' 16-lane activation math lane by lane */
    QUIRK_NO_BLOCKED_KERNELS = 1u << 3, /* not the CPU forms' largest register-blocked kernels */
};

typedef struct quirk {
    const char *platform;
    const char *driver;
    unsigned flags;
    const char *name;
    const char *symptom;
} quirk;

static const quirk quirks[] = {
    {"rusticl", "", QUIRK_NO_PREFETCH, "no-prefetch",
     "Mesa rusticl (22.3, llvmpipe): clang's __builtin_prefetch aborts the whole process in the "
     "SPIR-V translator at the first build (\"InvalidFunctionCall: Unexpected llvm intrinsic: "
     "llvm.prefetch.p1i8\", SPIRVWriter.cpp)"},
    {"rusticl", "", QUIRK_LANEWISE_MATH, "lanewise-math",
     "Mesa rusticl (22.3, llvmpipe; the CPU forms): creating a kernel that calls the float16 "
     "activation functions took 9 s (sigmoid) to 28 s (GELU) of rusticl's own passes over the "
     "lanes' scalar code, and the first launch 4-10 s more (clCreateKernel of "
     "clnn_activation_forward16, empty shader cache; 0.4-0.9 s with the lanes in a loop): "
     "minutes before a network's first step"},
    {"rusticl", "", QUIRK_NO_BLOCKED_KERNELS, "no-blocked-kernels",
     "Mesa rusticl (22.3, llvmpipe; the CPU forms): the largest float16 kernels, register-blocked "
     "for AVX-512, took minutes to create and first launch (empty shader cache): the implicit "
     "convolutions' clnn_conv_few_weight 32 s + 52-55 s, clnn_conv_implicit 20 s + 11 s, "
     "clnn_conv_implicit_weight 20 s + 9 s; batch norm's bn_backward_resident_cols 19-23 s + "
     "24-29 s. Convolutions take im2col + GEMM there and batch norm its sliced forms, as on GPUs"},
    {"Oclgrind", "", QUIRK_NO_PREFETCH, "no-prefetch",
     "Oclgrind 21.10 (CPU forms forced on its simulated GPU): kernels that prefetch cannot be "
     "created (\"OCLGRIND FATAL ERROR: Undefined external function: llvm.prefetch.p1i8\"), and "
     "the process aborts"},
    /* POCL's platform name is "Portable Computing Language". */
    {"Portable Computing Language", "", QUIRK_NO_BINARY_CACHE, "no-binary-cache",
     "POCL 3.1: asking for a program's binaries (CL_PROGRAM_BINARY_SIZES, which clnn's disk cache "
     "needs) compiles a generic work-group function for every kernel of the program, launched or "
     "not, on one thread: 72 compiles and about 13 s of clnn-train's 19 s cold start. POCL keeps "
     "built programs and compiled kernels in its own cache (POCL_CACHE_DIR), so clnn's adds "
     "nothing there"},
};

static int quirk_applies(const quirk *q, const clnn_device_info *info)
{
    return clnn_contains_ignoring_case(info->platform_name, q->platform) &&
           strncmp(info->driver_version, q->driver, strlen(q->driver)) == 0;
}

/* ---- the profile ----------------------------------------------------------------------------- */

/* Parses CLNN_KERNEL_FORMS ("cpu", "gpu", "auto"; unset or empty: auto). */
static clnn_status forms_from_environment(clnn_kernel_forms *forms)
{
    const char *env = getenv("CLNN_KERNEL_FORMS");
    *forms = CLNN_KERNEL_FORMS_AUTO;
    if (!env || !env[0])
        return CLNN_SUCCESS;
    for (int f = 0; f < CLNN_KERNEL_FORMS_COUNT; ++f) {
        if (strcmp(env, forms_strings[f]) == 0) {
            *forms = (clnn_kernel_forms)f;
            return CLNN_SUCCESS;
        }
    }
    return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                      "CLNN_KERNEL_FORMS is \"%s\"; it must be cpu, gpu or auto", env);
}

clnn_status clnn_profile_create(const clnn_device_info *info, clnn_kernel_forms requested,
                                clnn_device_profile *profile, char *build_options, size_t size)
{
    if ((int)requested < 0 || requested >= CLNN_KERNEL_FORMS_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "kernel_forms is %d; it must be a clnn_kernel_forms value",
                          (int)requested);
    clnn_kernel_forms forms = requested;
    if (forms == CLNN_KERNEL_FORMS_AUTO) {
        clnn_status status = forms_from_environment(&forms);
        if (status != CLNN_SUCCESS)
            return status;
    }
    memset(profile, 0, sizeof *profile);
    profile->forms_overridden = forms != CLNN_KERNEL_FORMS_AUTO;
    /* CPU cores run a work-group's items one after another and have no local memory of their
     * own; every other kind of device is given the GPU forms. */
    profile->native_forms =
        info->type == CLNN_DEVICE_TYPE_CPU ? CLNN_KERNEL_FORMS_CPU : CLNN_KERNEL_FORMS_GPU;
    if (forms == CLNN_KERNEL_FORMS_AUTO)
        forms = profile->native_forms;
    profile->forms = forms;

    cl_device_fp_config single = 0;
    clGetDeviceInfo(info->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof single, &single, NULL);
    profile->denormals = (single & CL_FP_DENORM) != 0;
    profile->fp64 = info->fp64;
    clGetDeviceInfo(info->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT,
                    sizeof profile->vector_width_float, &profile->vector_width_float, NULL);
    profile->max_work_group_size = info->max_work_group_size;
    profile->local_mem_bytes = info->local_mem_bytes;

    unsigned flags = 0;
    for (size_t i = 0; i < sizeof quirks / sizeof quirks[0]; ++i) {
        const quirk *q = &quirks[i];
        if (!quirk_applies(q, info))
            continue;
        flags |= q->flags;
        size_t used = strlen(profile->quirks);
        snprintf(profile->quirks + used, sizeof profile->quirks - used, "%s%s", used ? "," : "",
                 q->name);
    }
    profile->prefetch = forms == CLNN_KERNEL_FORMS_CPU && !(flags & QUIRK_NO_PREFETCH);
    profile->lanewise_math = forms == CLNN_KERNEL_FORMS_CPU && (flags & QUIRK_LANEWISE_MATH);
    profile->blocked_kernels =
        forms == CLNN_KERNEL_FORMS_CPU && !(flags & QUIRK_NO_BLOCKED_KERNELS);
    profile->binary_cache = !(flags & QUIRK_NO_BINARY_CACHE);
    const char *binary_cache = getenv("CLNN_BINARY_CACHE");
    if (binary_cache && strcmp(binary_cache, "on") == 0)
        profile->binary_cache = 1;
    else if (binary_cache && strcmp(binary_cache, "off") == 0)
        profile->binary_cache = 0;
    else if (binary_cache && binary_cache[0] && strcmp(binary_cache, "auto") != 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "CLNN_BINARY_CACHE is \"%s\"; it must be on, off or auto",
                          binary_cache);

    /* The kernels' view of the profile (kernels/common.h): CLNN_CPU_FORMS selects the CPU forms'
     * helpers (one-piece wide stores), CLNN_USE_PREFETCH their prefetch, CLNN_LANEWISE_MATH
     * their activation math lane by lane (kernels/activation.h). */
    int n = snprintf(build_options, size, "%s%s%s",
                     forms == CLNN_KERNEL_FORMS_CPU ? " -DCLNN_CPU_FORMS" : "",
                     profile->prefetch ? " -DCLNN_USE_PREFETCH" : "",
                     profile->lanewise_math ? " -DCLNN_LANEWISE_MATH" : "");
    if (n < 0 || (size_t)n >= size)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "device profile build options too long");
    return CLNN_SUCCESS;
}

clnn_status clnn_context_get_profile(const clnn_context *ctx, clnn_device_profile *profile)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_get_profile");
    if (status != CLNN_SUCCESS)
        return status;
    if (!profile)
        return clnn_error((clnn_context *)ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_get_profile: profile is NULL");
    *profile = ctx->profile;
    return CLNN_SUCCESS;
}
