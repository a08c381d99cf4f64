/*
 * What the tuning files share (src/tuning.c: the tuning-file language; tuning_apply.c: matching
 * and applying it to CLBlast): the record check, parsing and loading that report into a buffer
 * rather than the thread's last error (the per-device lookup keeps the caller's message), and a
 * quiet snprintf. Hidden from users.
 */
#ifndef CLNN_TUNING_INTERNAL_H
#define CLNN_TUNING_INTERNAL_H

#include "internal.h"

#include <stdio.h>

/* snprintf that truncates quietly: messages and descriptions may be cut, never overflow. */
static inline void set_text(char *dst, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static inline void set_text(char *dst, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(dst, size, format, args);
    va_end(args);
}

/* The whole record; returns NULL or the reason (in why, or a static string). */
const char *clnn_tuning_record_problem(const clnn_tuning *t, char *why, size_t why_size);

/* Parses text into *out (unchanged on failure); on failure writes the reason into message. */
clnn_status clnn_tuning_parse_text(const char *text, clnn_tuning *out, char *message,
                                   size_t message_size);

/* Reads and parses the tuning file at path into *t; on failure writes the reason, naming the
 * file, into message. */
clnn_status clnn_tuning_load_file(const char *path, clnn_tuning *t, char *message, size_t size);

#endif /* CLNN_TUNING_INTERNAL_H */
