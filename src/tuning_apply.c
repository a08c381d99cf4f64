/*
 * Applying GEMM tuning data to CLBlast through CLBlastOverrideParameters, and matching it to a
 * device. CLBlast keeps one parameter set per device for the whole process, so clnn records, per
 * device, that it has looked (once, before the first GEMM) and what it applied: the user's tuning
 * directory first, then the data shipped in data/tuning/. The tuning-file language itself is
 * src/tuning.c.
 */
#include "gemm.h"
#include "tuning_internal.h"

#include <clblast_c.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- matching and applying --------------------------------------------------------------------- */

static int tuning_matches(const clnn_tuning *t, const clnn_device_info *d)
{
    /* bounded: a record built by hand may lack its NULs */
    return strncmp(t->platform_name, d->platform_name, sizeof t->platform_name) == 0 &&
           strncmp(t->device_vendor, d->device_vendor, sizeof t->device_vendor) == 0 &&
           strncmp(t->device_name, d->device_name, sizeof t->device_name) == 0 &&
           strncmp(t->driver_version, d->driver_version, sizeof t->driver_version) == 0 &&
           t->compute_units == d->compute_units;
}

clnn_status clnn_tuning_matches(const clnn_tuning *tuning, const clnn_device_info *device,
                                int *matches)
{
    if (!tuning || !device || !matches)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_matches: %s is NULL",
                          !tuning ? "tuning" : !device ? "device" : "matches");
    *matches = tuning_matches(tuning, device);
    return CLNN_SUCCESS;
}

/* Overrides every kernel's parameters; on a CLBlast failure, message names the kernel. */
static int override_kernels(cl_device_id device, const clnn_tuning *t, char *message, size_t size)
{
    for (size_t i = 0; i < t->kernel_count; ++i) {
        const clnn_tuning_kernel *k = &t->kernels[i];
        const char *names[CLNN_TUNING_MAX_PARAMETERS];
        for (size_t j = 0; j < k->parameter_count; ++j)
            names[j] = k->parameter_names[j];
        CLBlastStatusCode code = CLBlastOverrideParameters(
            device, k->name, CLBlastPrecisionSingle, k->parameter_count, names,
            k->parameter_values);
        if (code != CLBlastSuccess) {
            snprintf(message, size, "CLBlastOverrideParameters(%s)", k->name);
            return code;
        }
    }
    return CLBlastSuccess;
}

/* Per device: the lookup has been done, and what is in force. */
#define MAX_TUNED_DEVICES 64
typedef struct device_record {
    cl_device_id device;
    char description[768];
} device_record;

static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static device_record records[MAX_TUNED_DEVICES];
static size_t record_count;

/* Finds or adds the device's record (NULL when the table is full); records_lock held. */
static device_record *find_record(cl_device_id device, int *created)
{
    *created = 0;
    for (size_t i = 0; i < record_count; ++i)
        if (records[i].device == device)
            return &records[i];
    if (record_count == MAX_TUNED_DEVICES)
        return NULL;
    device_record *r = &records[record_count++];
    r->device = device;
    r->description[0] = '\0';
    *created = 1;
    return r;
}

static void append(char *buf, size_t size, const char *text)
{
    size_t used = strlen(buf);
    if (used + 1 < size)
        set_text(buf + used, size - used, "%s%s", used ? "; " : "", text);
}

/* ---- the lookup -------------------------------------------------------------------------------- */

clnn_status clnn_tuning_directory(char *path, size_t size)
{
    if (!path)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_directory: path is NULL");
    const char *dir = getenv("CLNN_TUNING_DIR");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && dir[0])
        n = snprintf(path, size, "%s", dir);
    else if (xdg && xdg[0] == '/')
        n = snprintf(path, size, "%s/clnn/tuning", xdg);
    else if (home && home[0])
        n = snprintf(path, size, "%s/.config/clnn/tuning", home);
    else
        return clnn_error(NULL, CLNN_ERR_IO,
                          "no tuning directory: set CLNN_TUNING_DIR, XDG_CONFIG_HOME or HOME");
    if (n < 0 || (size_t)n >= size)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_directory: the path needs %d bytes, size is %zu", n + 1,
                          size);
    return CLNN_SUCCESS;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Searches the user directory for the device's file (lowest name first); notes skipped files. */
static int find_user_tuning(const clnn_device_info *info, clnn_tuning *t, char *path,
                            size_t path_size, char *notes, size_t notes_size)
{
    char dir[512];
    if (clnn_tuning_directory(dir, sizeof dir) != CLNN_SUCCESS)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[256];
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d)) && count < 256;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0 && e->d_name[0] != '.')
            if ((names[count] = strdup(e->d_name)))
                ++count;
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);
    int found = 0;
    for (size_t i = 0; i < count; ++i) {
        char file[1024], message[CLNN_MESSAGE_SIZE];
        set_text(file, sizeof file, "%s/%s", dir, names[i]);
        if (!found) {
            if (clnn_tuning_load_file(file, t, message, sizeof message) != CLNN_SUCCESS) {
                char note[CLNN_MESSAGE_SIZE + 16];
                set_text(note, sizeof note, "skipped %s", message);
                append(notes, notes_size, note);
            } else if (tuning_matches(t, info)) {
                set_text(path, path_size, "%s", file);
                found = 1;
            }
        }
        free(names[i]);
    }
    return found;
}

void clnn_tuning_ensure(clnn_context *ctx)
{
    pthread_mutex_lock(&records_lock);
    int created;
    device_record *r = find_record(ctx->device, &created);
    if (!r || !created) {
        pthread_mutex_unlock(&records_lock);
        return;
    }
    /* The lookup runs once per device; keep the thread's last message as the caller left it. */
    char saved[CLNN_MESSAGE_SIZE];
    snprintf(saved, sizeof saved, "%s", clnn_context_last_error(NULL));
    const char *mode = getenv("CLNN_TUNING");
    clnn_tuning *t = malloc(sizeof *t);
    char source[1024] = "", notes[512] = "";
    if (mode && strcmp(mode, "off") == 0) {
        snprintf(r->description, sizeof r->description, "none (disabled by CLNN_TUNING=off)");
    } else if (!t) {
        snprintf(r->description, sizeof r->description, "none (out of memory)");
    } else {
        char path[1024];
        if (find_user_tuning(&ctx->info, t, path, sizeof path, notes, sizeof notes)) {
            set_text(source, sizeof source, "user file %s", path);
        } else {
            for (const clnn_shipped_tuning *s = clnn_shipped_tunings; s->name; ++s) {
                char message[CLNN_MESSAGE_SIZE];
                if (clnn_tuning_parse_text(s->text, t, message, sizeof message) == CLNN_SUCCESS &&
                    tuning_matches(t, &ctx->info)) {
                    snprintf(source, sizeof source, "shipped data %s", s->name);
                    break;
                }
            }
        }
        if (source[0]) {
            char what[128];
            int code = override_kernels(ctx->device, t, what, sizeof what);
            if (code == CLBlastSuccess)
                set_text(r->description, sizeof r->description, "%s", source);
            else
                set_text(r->description, sizeof r->description,
                         "none: %s rejected by %s: %s (%d)", source, what,
                         clnn_blas_status_name(code), code);
        } else {
            snprintf(r->description, sizeof r->description, "none (CLBlast defaults)");
        }
    }
    if (notes[0])
        append(r->description, sizeof r->description, notes);
    free(t);
    clnn_error(NULL, CLNN_SUCCESS, "%s", saved);
    pthread_mutex_unlock(&records_lock);
}

clnn_status clnn_tuning_apply(clnn_context *ctx, const clnn_tuning *tuning)
{
    clnn_status status = clnn_check_context(ctx, "clnn_tuning_apply");
    if (status != CLNN_SUCCESS)
        return status;
    if (!tuning)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_apply: tuning is NULL");
    char why[160];
    const char *problem = clnn_tuning_record_problem(tuning, why, sizeof why);
    if (problem)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_apply: %s", problem);
    if (!tuning_matches(tuning, &ctx->info))
        return clnn_error(ctx, CLNN_ERR_MISMATCH,
                          "clnn_tuning_apply: the tuning was made for \"%s\" (%s, driver %s, %u "
                          "compute units), not for this context's \"%s\" (%s, driver %s, %u)",
                          tuning->device_name, tuning->platform_name, tuning->driver_version,
                          (unsigned)tuning->compute_units, ctx->info.device_name,
                          ctx->info.platform_name, ctx->info.driver_version,
                          (unsigned)ctx->info.compute_units);
    pthread_mutex_lock(&records_lock);
    int created;
    device_record *r = find_record(ctx->device, &created);
    char what[128];
    int code = override_kernels(ctx->device, tuning, what, sizeof what);
    if (r)
        snprintf(r->description, sizeof r->description, "%s",
                 code == CLBlastSuccess ? "applied by the program"
                                        : "partly applied by the program (CLBlast rejected a kernel)");
    pthread_mutex_unlock(&records_lock);
    if (code != CLBlastSuccess)
        return clnn_blas_error(ctx, code, what);
    return CLNN_SUCCESS;
}

clnn_status clnn_tuning_describe(clnn_context *ctx, char *description, size_t size)
{
    clnn_status status = clnn_check_context(ctx, "clnn_tuning_describe");
    if (status != CLNN_SUCCESS)
        return status;
    if (!description || size == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_describe: description is NULL or size is 0");
    clnn_tuning_ensure(ctx);
    pthread_mutex_lock(&records_lock);
    int created;
    device_record *r = find_record(ctx->device, &created);
    snprintf(description, size, "%s", r ? r->description : "unknown (too many devices)");
    pthread_mutex_unlock(&records_lock);
    return CLNN_SUCCESS;
}
