/*
 * clnn-info: lists every OpenCL platform and device with the properties that matter for training
 * and the device profile clnn derives from them (kernel forms, driver quirks), then builds and
 * runs clnn's self-check on each device in both kernel forms and measures its copy bandwidth.
 * Exits 0 when every device passes.
 */
#include "tool_common.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: clnn-info [--device SELECTOR] [--size FLOATS]\n"
                 "  Lists OpenCL devices, runs a self-check on each and measures copy bandwidth.\n"
                 "  --device SELECTOR  only this device (P:D, an index, or part of a name)\n"
                 "  --size FLOATS      floats copied for the bandwidth figure (default 16777216)\n");
}

static void print_device(const clnn_device_info *d)
{
    printf("device %zu (%u:%u): %s\n", d->index, d->platform_index, d->device_index,
           d->device_name);
    printf("  platform          %s (%s)\n", d->platform_name, d->platform_vendor);
    printf("  type              %s\n", clnn_device_type_string(d->type));
    printf("  vendor            %s\n", d->device_vendor);
    printf("  version           %s, %s, driver %s\n", d->device_version, d->opencl_c_version,
           d->driver_version);
    printf("  compute units     %u at %u MHz\n", d->compute_units, d->max_clock_mhz);
    printf("  global memory     %.1f GiB (largest allocation %.1f GiB)\n",
           (double)d->global_mem_bytes / (1 << 30), (double)d->max_alloc_bytes / (1 << 30));
    printf("  local memory      %.0f KiB\n", (double)d->local_mem_bytes / 1024);
    printf("  max work-group    %zu\n", d->max_work_group_size);
    printf("  fp64              %s\n", d->fp64 ? "yes" : "no");
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    size_t size = (size_t)1 << 24;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            unsigned long long v;
            char tail;
            if (sscanf(argv[++i], "%llu%c", &v, &tail) != 1 || v < 4 || v > CLNN_MAX_ELEMENTS) {
                fprintf(stderr, "clnn-info: --size must be an integer from 4 to %zu\n",
                        CLNN_MAX_ELEMENTS);
                return 2;
            }
            size = (size_t)v;
        } else {
            fprintf(stderr, "clnn-info: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    printf("clnn %s\n", clnn_version_string());
    size_t count = 0;
    clnn_status status = clnn_device_count(&count);
    if (status != CLNN_SUCCESS)
        return tool_fail("listing devices", status, NULL);
    if (count == 0) {
        fprintf(stderr, "clnn-info: no OpenCL device found\n");
        return 1;
    }

    size_t only_index = 0;
    if (only) {
        clnn_context_options o;
        clnn_context *probe;
        clnn_device_info chosen;
        clnn_context_options_init(&o);
        o.device = only;
        status = clnn_context_create(&probe, &o);
        if (status != CLNN_SUCCESS)
            return tool_fail("selecting the device", status, NULL);
        clnn_context_get_device_info(probe, &chosen);
        clnn_context_destroy(probe);
        only_index = chosen.index;
    }

    int failures = 0, checked = 0;
    for (size_t i = 0; i < count; ++i) {
        clnn_device_info info;
        status = clnn_device_get_info(i, &info);
        if (status != CLNN_SUCCESS)
            return tool_fail("reading device information", status, NULL);
        char selector[32];
        snprintf(selector, sizeof selector, "%u:%u", info.platform_index, info.device_index);
        if (only && info.index != only_index)
            continue;
        print_device(&info);

        clnn_context_options options;
        clnn_context_options_init(&options);
        options.device = selector;
        clnn_context *ctx = NULL;
        double t0 = tool_now();
        status = clnn_context_create(&ctx, &options);
        if (status == CLNN_SUCCESS)
            status = clnn_context_self_check(ctx);
        double setup = tool_now() - t0;
        clnn_device_profile profile;
        if (status == CLNN_SUCCESS && clnn_context_get_profile(ctx, &profile) == CLNN_SUCCESS) {
            printf("  kernel forms      %s%s (quirks: %s)\n",
                   clnn_kernel_forms_string(profile.forms),
                   profile.forms_overridden ? ", overridden" : "",
                   profile.quirks[0] ? profile.quirks : "none");
            printf("  subnormal floats  %s\n", profile.denormals ? "kept" : "may be flushed to 0");
            /* The other forms must be correct too (speed is the profile's concern). */
            clnn_context_options other = options;
            other.kernel_forms = profile.forms == CLNN_KERNEL_FORMS_CPU ? CLNN_KERNEL_FORMS_GPU
                                                                        : CLNN_KERNEL_FORMS_CPU;
            clnn_context *second = NULL;
            status = clnn_context_create(&second, &other);
            if (status == CLNN_SUCCESS)
                status = clnn_context_self_check(second);
            if (status != CLNN_SUCCESS) {
                clnn_context_destroy(ctx);
                ctx = second; /* report its message */
                second = NULL;
            }
            clnn_context_destroy(second);
        }
        double gbps = 0.0;
        if (status == CLNN_SUCCESS)
            status = tool_copy_bandwidth(ctx, size, 7, &gbps);
        ++checked;
        if (status == CLNN_SUCCESS) {
            printf("  self-check        PASS in both forms (context + build + run %.3f s)\n",
                   setup);
            printf("  copy bandwidth    %.1f GB/s (clnn_tensor_copy, %zu floats, read + write)\n",
                   gbps, size);
        } else {
            ++failures;
            printf("  self-check        FAIL: %s: %s\n", clnn_status_string(status),
                   clnn_context_last_error(ctx));
        }
        if (ctx) {
            clnn_cache_stats cache;
            clnn_context_get_cache_stats(ctx, &cache);
            printf("  program cache     %s\n", cache.enabled ? cache.directory : "disabled");
        }
        clnn_context_destroy(ctx);
        printf("\n");
    }
    printf("%d of %d device%s passed\n", checked - failures, checked, checked == 1 ? "" : "s");
    return failures ? 1 : 0;
}
