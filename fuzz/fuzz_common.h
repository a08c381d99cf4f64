/*
 * Shared by the libFuzzer targets: an input handed to a path-based reader through an in-memory
 * file (memfd), so a run touches no disk.
 */
#ifndef CLNN_FUZZ_COMMON_H
#define CLNN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CL/cl.h>
#include <sanitizer/lsan_interface.h>

/* Writes data to a fresh memfd; path receives "/proc/self/fd/N". Returns the fd (close it). */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("clnn-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            perror("write");
            abort();
        }
        done += (size_t)n;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

/* Loads the OpenCL implementations with leak tracking off: the ICD loader opens every installed
 * one, and some (Mesa's Clover and Rusticl) keep allocations from their initialisers for the
 * life of the process (as tests/common/clnn_test.c explains). */
static inline void fuzz_load_opencl(void)
{
    __lsan_disable();
    cl_uint platforms = 0;
    clGetPlatformIDs(0, NULL, &platforms);
    __lsan_enable();
}

/* A property the library must keep was broken: report it and crash, so libFuzzer saves the
 * input. */
#define FUZZ_REQUIRE(condition)                                                                    \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
