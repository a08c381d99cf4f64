/*
 * Versioned binary files with a checksum, written atomically: the container that checkpoints use.
 *
 * Layout (little-endian): magic[8], version u32, payload length u64, payload, crc32 u32 of every
 * byte before it. Writers build the payload in memory with clnn_writer_*; clnn_file_save writes
 * a temporary file beside the target, fsyncs it, renames it over the target and fsyncs the
 * directory, so a crash or a full disk leaves either the old file or the new one, never a mix.
 * clnn_file_load checks size, magic, version and checksum before handing out the payload, and
 * clnn_reader_* never reads past its end.
 */
#ifndef CLNN_SERIALIZE_H
#define CLNN_SERIALIZE_H

#include "internal.h"

typedef struct clnn_writer {
    unsigned char *data;
    size_t length, capacity;
    int failed; /* an allocation failed; clnn_file_save reports it */
} clnn_writer;

void clnn_writer_bytes(clnn_writer *w, const void *p, size_t n);
void clnn_writer_u32(clnn_writer *w, uint32_t v);
void clnn_writer_u64(clnn_writer *w, uint64_t v);
void clnn_writer_f32(clnn_writer *w, float v);
void clnn_writer_free(clnn_writer *w);

/* Writes all n bytes to fd, retrying after interruptions. Returns 0, or -1 with errno set. */
int clnn_write_all(int fd, const void *p, size_t n);

/* Temporary files are named STEM.<pid>.<n>.tmp beside their target STEM, <pid> the writer's
 * process and <n> a per-process counter. A writer killed before its rename leaves one behind.
 * clnn_remove_stale_temps removes, in dir, each regular file named exactly so whose STEM passes
 * stem_ok, whose writer no longer exists (kill(pid, 0) fails with ESRCH; never this process),
 * and which has not been modified for CLNN_STALE_TEMP_SECONDS (a writer in another PID
 * namespace sharing the directory is invisible to kill, but it is not silent that long while
 * writing). Errors are ignored: cleaning is a courtesy. */
#define CLNN_STALE_TEMP_SECONDS 60
typedef int (*clnn_stem_test)(const char *stem, size_t length, const void *arg);
void clnn_remove_stale_temps(const char *dir, clnn_stem_test stem_ok, const void *arg);
/* Returns the writer's pid when name is STEM.<pid>.<n>.tmp with STEM of stem_length bytes, else
 * 0 (exposed for the tests of the pattern). */
long clnn_temp_file_owner(const char *name, size_t stem_length);

/* Writes magic (8 bytes), version and the writer's payload to path atomically, after removing
 * stale temporary files of path left by dead writers. */
clnn_status clnn_file_save(clnn_context *ctx, const char *path, const char magic[8],
                           uint32_t version, const clnn_writer *payload);

typedef struct clnn_reader {
    const unsigned char *data;
    size_t length, position;
    int failed; /* a read ran past the end */
} clnn_reader;

/* Reads path and checks it; on success *file owns the whole file (free() it) and reader covers
 * the payload. CLNN_ERR_IO: cannot open or read; CLNN_ERR_FORMAT: another magic; CLNN_ERR_CORRUPT:
 * truncated or checksum mismatch; *version receives the version (the caller judges it). */
clnn_status clnn_file_load(clnn_context *ctx, const char *path, const char magic[8],
                           size_t max_bytes, unsigned char **file, uint32_t *version,
                           clnn_reader *reader);

/* Each returns 0 (and sets failed) when fewer bytes remain than asked. */
int clnn_reader_bytes(clnn_reader *r, void *p, size_t n);
int clnn_reader_u32(clnn_reader *r, uint32_t *v);
int clnn_reader_u64(clnn_reader *r, uint64_t *v);
int clnn_reader_f32(clnn_reader *r, float *v);

#endif
