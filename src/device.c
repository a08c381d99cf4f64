/*
 * Devices: enumerating every OpenCL device of every platform into clnn_device_info, and choosing
 * one from a selector (CLNN_DEVICE, or the context option: "P:D", a flat index, or part of a
 * name; by default the first GPU, else the first CPU). src/context.c opens the chosen device.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

static const char *const device_type_strings[] = {"CPU", "GPU", "accelerator", "other"};
_Static_assert(sizeof(device_type_strings) / sizeof(device_type_strings[0]) ==
                   CLNN_DEVICE_TYPE_COUNT,
               "device_type_strings must name every clnn_device_type");

const char *clnn_device_type_string(clnn_device_type type)
{
    if ((int)type < 0 || type >= CLNN_DEVICE_TYPE_COUNT)
        return "unknown";
    return device_type_strings[type];
}

/* ---- device enumeration ---------------------------------------------------------------------- */

static const char *const no_platform_message =
    "no OpenCL platform found: install an OpenCL driver, for the CPU: apt-get install "
    "pocl-opencl-icd (check with clinfo -l)";

static clnn_status get_platforms(cl_platform_id *platforms, cl_uint *count)
{
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, platforms, count);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && *count == 0))
        return clnn_error(NULL, CLNN_ERR_NO_PLATFORM, "%s", no_platform_message);
    if (err != CL_SUCCESS)
        return clnn_cl_error(NULL, err, "clGetPlatformIDs");
    if (*count > MAX_PLATFORMS)
        *count = MAX_PLATFORMS;
    return CLNN_SUCCESS;
}

static cl_uint get_devices(cl_platform_id platform, cl_device_id *devices)
{
    cl_uint count = 0;
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, devices, &count) !=
        CL_SUCCESS)
        return 0; /* a platform without devices (CL_DEVICE_NOT_FOUND) */
    return count < MAX_DEVICES_PER_PLATFORM ? count : MAX_DEVICES_PER_PLATFORM;
}

static void platform_string(cl_platform_id p, cl_platform_info what, char *buf, size_t size)
{
    if (clGetPlatformInfo(p, what, size, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[size - 1] = '\0';
}

static void device_string(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    /* Query the length first: a value longer than buf would make the call fail. */
    size_t length = 0;
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, 0, NULL, &length) != CL_SUCCESS || length == 0)
        return;
    char *full = malloc(length + 1);
    if (!full)
        return;
    if (clGetDeviceInfo(d, what, length, full, NULL) == CL_SUCCESS) {
        full[length] = '\0';
        snprintf(buf, size, "%s", full);
    }
    free(full);
}

void clnn_describe_device(cl_platform_id platform, cl_device_id device, clnn_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform = platform;
    info->device = device;
    platform_string(platform, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
    platform_string(platform, CL_PLATFORM_VENDOR, info->platform_vendor,
                    sizeof info->platform_vendor);
    device_string(device, CL_DEVICE_NAME, info->device_name, sizeof info->device_name);
    device_string(device, CL_DEVICE_VENDOR, info->device_vendor, sizeof info->device_vendor);
    device_string(device, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    device_string(device, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    device_string(device, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
                  sizeof info->opencl_c_version);

    cl_device_type type = 0;
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->type = (type & CL_DEVICE_TYPE_GPU)           ? CLNN_DEVICE_TYPE_GPU
                 : (type & CL_DEVICE_TYPE_CPU)         ? CLNN_DEVICE_TYPE_CPU
                 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? CLNN_DEVICE_TYPE_ACCELERATOR
                                                       : CLNN_DEVICE_TYPE_OTHER;
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units,
                    &info->compute_units, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof info->max_clock_mhz,
                    &info->max_clock_mhz, NULL);
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem_bytes,
                    &info->global_mem_bytes, NULL);
    clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem_bytes,
                    &info->local_mem_bytes, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_alloc_bytes,
                    &info->max_alloc_bytes, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group_size,
                    &info->max_work_group_size, NULL);
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    info->fp64 = fp64 != 0;
}

/* Calls visit(info, user) for each device in flat order until it returns non-zero. */
static clnn_status for_each_device(int (*visit)(const clnn_device_info *, void *), void *user)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint platform_count = 0;
    clnn_status status = get_platforms(platforms, &platform_count);
    if (status != CLNN_SUCCESS)
        return status;
    size_t flat = 0;
    for (cl_uint p = 0; p < platform_count; ++p) {
        cl_device_id devices[MAX_DEVICES_PER_PLATFORM];
        cl_uint count = get_devices(platforms[p], devices);
        for (cl_uint d = 0; d < count; ++d, ++flat) {
            clnn_device_info info;
            clnn_describe_device(platforms[p], devices[d], &info);
            info.index = flat;
            info.platform_index = p;
            info.device_index = d;
            if (visit(&info, user))
                return CLNN_SUCCESS;
        }
    }
    return CLNN_SUCCESS;
}

static int count_visit(const clnn_device_info *info, void *user)
{
    (void)info;
    ++*(size_t *)user;
    return 0;
}

clnn_status clnn_device_count(size_t *count)
{
    if (!count)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_device_count: count is NULL");
    size_t n = 0;
    clnn_status status = for_each_device(count_visit, &n);
    if (status == CLNN_SUCCESS)
        *count = n;
    return status;
}

typedef struct index_search {
    size_t index;
    clnn_device_info *info;
    int found;
} index_search;

static int index_visit(const clnn_device_info *info, void *user)
{
    index_search *s = user;
    if (info->index != s->index)
        return 0;
    *s->info = *info;
    s->found = 1;
    return 1;
}

clnn_status clnn_device_get_info(size_t index, clnn_device_info *info)
{
    if (!info)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_device_get_info: info is NULL");
    clnn_device_info found;
    index_search s = {index, &found, 0};
    clnn_status status = for_each_device(index_visit, &s);
    if (status != CLNN_SUCCESS)
        return status;
    if (!s.found)
        return clnn_error(NULL, CLNN_ERR_NO_DEVICE, "no OpenCL device has index %zu", index);
    *info = found;
    return CLNN_SUCCESS;
}

/* ---- device selection -------------------------------------------------------------------------- */

int clnn_contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; ++haystack) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            ++i;
        if (i == n)
            return 1;
    }
    return n == 0;
}

typedef struct selection {
    const char *selector; /* NULL: the default order */
    int has_pair, has_index;
    unsigned platform, device;
    size_t index;
    clnn_device_info chosen, first_cpu, first_any;
    int found, found_cpu, found_any;
    char listing[600];
} selection;

static int select_visit(const clnn_device_info *info, void *user)
{
    selection *s = user;
    size_t used = strlen(s->listing);
    snprintf(s->listing + used, sizeof s->listing - used, "%s%u:%u %s (%s)", used ? "; " : "",
             info->platform_index, info->device_index, info->device_name, info->platform_name);
    if (!s->found_any) {
        s->first_any = *info;
        s->found_any = 1;
    }
    if (s->selector) {
        int match;
        if (s->has_pair)
            match = info->platform_index == s->platform && info->device_index == s->device;
        else if (s->has_index)
            match = info->index == s->index;
        else
            match = clnn_contains_ignoring_case(info->device_name, s->selector) ||
                    clnn_contains_ignoring_case(info->platform_name, s->selector) ||
                    clnn_contains_ignoring_case(info->platform_vendor, s->selector) ||
                    clnn_contains_ignoring_case(info->device_vendor, s->selector);
        if (match && !s->found) {
            s->chosen = *info;
            s->found = 1;
        }
        return 0; /* keep going, so the listing names every device */
    }
    if (info->type == CLNN_DEVICE_TYPE_GPU && !s->found) {
        s->chosen = *info;
        s->found = 1;
    }
    if (info->type == CLNN_DEVICE_TYPE_CPU && !s->found_cpu) {
        s->first_cpu = *info;
        s->found_cpu = 1;
    }
    return 0;
}

static void parse_selector(selection *s)
{
    unsigned p, d;
    char tail;
    if (sscanf(s->selector, "%u:%u%c", &p, &d, &tail) == 2) {
        s->has_pair = 1;
        s->platform = p;
        s->device = d;
        return;
    }
    char *end;
    errno = 0;
    unsigned long long index = strtoull(s->selector, &end, 10);
    if (end != s->selector && *end == '\0' && errno == 0 && isdigit((unsigned char)*s->selector)) {
        s->has_index = 1;
        s->index = (size_t)index;
    }
}

clnn_status clnn_select_device(const char *selector, clnn_device_info *info)
{
    selection s;
    memset(&s, 0, sizeof s);
    s.selector = selector && selector[0] ? selector : NULL;
    if (s.selector)
        parse_selector(&s);
    clnn_status status = for_each_device(select_visit, &s);
    if (status != CLNN_SUCCESS)
        return status;
    if (!s.found_any)
        return clnn_error(NULL, CLNN_ERR_NO_DEVICE,
                          "OpenCL platforms are installed but none has a device; for the CPU: "
                          "apt-get install pocl-opencl-icd");
    if (s.selector && !s.found)
        return clnn_error(NULL, CLNN_ERR_NO_DEVICE,
                          "no OpenCL device matches \"%s\" (give P:D, an index, or part of a "
                          "name); devices: %s",
                          s.selector, s.listing);
    *info = s.found ? s.chosen : s.found_cpu ? s.first_cpu : s.first_any;
    return CLNN_SUCCESS;
}
