/*
 * The tuning-file language of GEMM tuning data: the checks every record passes, parsing, writing,
 * and loading and saving files (a save is atomic: a temporary file, then a rename). The reader
 * and the writer accept the same language, so a saved record loads back unchanged. Matching a
 * record to a device and applying it to CLBlast is src/tuning_apply.c.
 */
#include "tuning_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TUNING_FILE_MAX_BYTES (64 * 1024)

/* ---- records ----------------------------------------------------------------------------------- */

/* Every record clnn accepts (parsed, built with clnn_tuning_set_kernel, formatted, saved or
 * applied) passes check_record(), and clnn_tuning_parse(clnn_tuning_format(r)) gives r back: the
 * reader and the writer accept the same language. */

static int valid_name(const char *s)
{
    if (!s || !*s || strnlen(s, CLNN_TUNING_NAME_SIZE) >= CLNN_TUNING_NAME_SIZE)
        return 0;
    for (; *s; ++s)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* The kernels CLBlast 1.5's database holds (CLBlastOverrideParameters accepts no other name,
 * and prints "Run-time error" to stderr for one it does not know). */
static const char *const clblast_kernels[] = {
    "Copy",        "GemmRoutine", "Invert",       "Pad",  "Padtranspose", "Transpose",
    "TrsvRoutine", "Xaxpy",       "Xconvgemm",    "Xdot", "Xgemm",        "XgemmDirect",
    "Xgemv",       "XgemvFast",   "XgemvFastRot", "Xger",
};

static int known_kernel(const char *name)
{
    for (size_t i = 0; i < sizeof clblast_kernels / sizeof clblast_kernels[0]; ++i)
        if (strcmp(name, clblast_kernels[i]) == 0)
            return 1;
    return 0;
}

/* Tile, thread-grid and vector sizes of the GEMM kernels: CLBlast divides by them. */
static int size_parameter(const char *kernel, const char *name)
{
    static const char *const xgemm[] = {"MWG",   "NWG",   "KWG", "MDIMC", "NDIMC",
                                        "MDIMA", "NDIMB", "KWI", "VWM",   "VWN"};
    static const char *const direct[] = {"WGD",    "MDIMCD", "NDIMCD", "MDIMAD",
                                         "NDIMBD", "KWID",   "VWMD",   "VWND"};
    int is_direct = strcmp(kernel, "XgemmDirect") == 0;
    if (!is_direct && strcmp(kernel, "Xgemm") != 0)
        return 0;
    const char *const *list = is_direct ? direct : xgemm;
    size_t count = is_direct ? sizeof direct / sizeof direct[0] : sizeof xgemm / sizeof xgemm[0];
    for (size_t i = 0; i < count; ++i)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* One kernel's parameters: a name CLBlast knows, 1 to CLNN_TUNING_MAX_PARAMETERS parameters
 * with valid and distinct names, not all 0, and no zero size. Returns NULL or the reason. */
static const char *kernel_problem(const char *name, size_t count, const char *const *names,
                                  const size_t *values, char *why, size_t why_size)
{
    if (!valid_name(name)) {
        snprintf(why, why_size, "a kernel name is not 1 to %d letters, digits or '_'",
                 CLNN_TUNING_NAME_SIZE - 1);
        return why;
    }
    if (!known_kernel(name)) {
        snprintf(why, why_size, "kernel \"%s\" is not one CLBlast knows", name);
        return why;
    }
    if (count < 1 || count > CLNN_TUNING_MAX_PARAMETERS) {
        snprintf(why, why_size, "kernel %s has %zu parameters (1 to %d)", name, count,
                 CLNN_TUNING_MAX_PARAMETERS);
        return why;
    }
    int nonzero = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!valid_name(names[i])) {
            snprintf(why, why_size, "kernel %s: parameter name %zu is not 1 to %d letters, "
                     "digits or '_'", name, i, CLNN_TUNING_NAME_SIZE - 1);
            return why;
        }
        for (size_t j = 0; j < i; ++j)
            if (strcmp(names[i], names[j]) == 0) {
                snprintf(why, why_size, "kernel %s: parameter %s given twice", name, names[i]);
                return why;
            }
        if (values[i] == 0 && size_parameter(name, names[i])) {
            snprintf(why, why_size, "kernel %s: %s is 0; it is a size and must be at least 1",
                     name, names[i]);
            return why;
        }
        nonzero |= values[i] != 0;
    }
    if (!nonzero) {
        snprintf(why, why_size, "kernel %s: every parameter is 0, which is no configuration",
                 name);
        return why;
    }
    return NULL;
}

/* An identity string the text form carries unchanged: 1 to size - 1 bytes, no line break, no
 * space or tab at either end (the reader strips those). */
static int valid_identity(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n == 0 || n >= size || strpbrk(s, "\r\n"))
        return 0;
    return s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t';
}

const char *clnn_tuning_record_problem(const clnn_tuning *t, char *why, size_t why_size)
{
    if (!valid_identity(t->platform_name, sizeof t->platform_name) ||
        !valid_identity(t->device_vendor, sizeof t->device_vendor) ||
        !valid_identity(t->device_name, sizeof t->device_name) ||
        !valid_identity(t->driver_version, sizeof t->driver_version))
        return "a device identity string is empty, unterminated, holds a line break or starts "
               "or ends with a space or tab";
    if (t->compute_units == 0)
        return "compute_units is 0";
    if (t->kernel_count < 1 || t->kernel_count > CLNN_TUNING_MAX_KERNELS) {
        snprintf(why, why_size, "kernel_count is %zu, not 1 to %d", t->kernel_count,
                 CLNN_TUNING_MAX_KERNELS);
        return why;
    }
    for (size_t i = 0; i < t->kernel_count; ++i) {
        const clnn_tuning_kernel *k = &t->kernels[i];
        const char *names[CLNN_TUNING_MAX_PARAMETERS];
        size_t count = k->parameter_count <= CLNN_TUNING_MAX_PARAMETERS ? k->parameter_count : 0;
        for (size_t j = 0; j < count; ++j)
            names[j] = k->parameter_names[j];
        const char *problem = kernel_problem(k->name, k->parameter_count, names,
                                             k->parameter_values, why, why_size);
        if (problem)
            return problem;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(k->name, t->kernels[j].name) == 0) {
                snprintf(why, why_size, "kernel %s given twice", k->name);
                return why;
            }
    }
    return NULL;
}

clnn_status clnn_tuning_init(clnn_tuning *tuning, const clnn_device_info *device)
{
    if (!tuning || !device)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_init: %s is NULL",
                          tuning ? "device" : "tuning");
    memset(tuning, 0, sizeof *tuning);
    snprintf(tuning->platform_name, sizeof tuning->platform_name, "%s", device->platform_name);
    snprintf(tuning->device_vendor, sizeof tuning->device_vendor, "%s", device->device_vendor);
    snprintf(tuning->device_name, sizeof tuning->device_name, "%s", device->device_name);
    snprintf(tuning->driver_version, sizeof tuning->driver_version, "%s", device->driver_version);
    tuning->compute_units = device->compute_units;
    return CLNN_SUCCESS;
}

clnn_status clnn_tuning_set_kernel(clnn_tuning *tuning, const char *name, size_t count,
                                   const char *const *names, const size_t *values)
{
    if (!tuning || !name || !names || !values)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_set_kernel: %s is NULL",
                          !tuning ? "tuning" : !name ? "name" : !names ? "names" : "values");
    char why[160];
    const char *problem = kernel_problem(name, count, names, values, why, sizeof why);
    if (problem)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_set_kernel: %s", problem);
    if (tuning->kernel_count > CLNN_TUNING_MAX_KERNELS)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_set_kernel: kernel_count %zu exceeds %d",
                          tuning->kernel_count, CLNN_TUNING_MAX_KERNELS);
    size_t slot = 0;
    while (slot < tuning->kernel_count &&
           strncmp(tuning->kernels[slot].name, name, CLNN_TUNING_NAME_SIZE) != 0)
        ++slot;
    if (slot == CLNN_TUNING_MAX_KERNELS)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_set_kernel: the record already holds %d kernels",
                          CLNN_TUNING_MAX_KERNELS);
    clnn_tuning_kernel *k = &tuning->kernels[slot];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->parameter_count = count;
    for (size_t i = 0; i < count; ++i) {
        snprintf(k->parameter_names[i], sizeof k->parameter_names[i], "%s", names[i]);
        k->parameter_values[i] = values[i];
    }
    if (slot == tuning->kernel_count)
        ++tuning->kernel_count;
    return CLNN_SUCCESS;
}

/* ---- parsing ----------------------------------------------------------------------------------- */

typedef struct parse_state {
    char *message;
    size_t message_size;
    int line;
} parse_state;

static clnn_status parse_fail(parse_state *p, const char *format, const char *detail)
{
    int used = snprintf(p->message, p->message_size, "tuning data line %d: ", p->line);
    if (used > 0 && (size_t)used < p->message_size)
        snprintf(p->message + used, p->message_size - (size_t)used, format, detail);
    return CLNN_ERR_FORMAT;
}

static clnn_status parse_string(parse_state *p, const char *key, const char *value, char *dst,
                                size_t size, int *seen)
{
    if (*seen)
        return parse_fail(p, "\"%s\" given twice", key);
    if (!*value)
        return parse_fail(p, "\"%s\" has no value", key);
    if (strlen(value) >= size)
        return parse_fail(p, "the value of \"%s\" is too long", key);
    if (strchr(value, '\r'))
        return parse_fail(p, "the value of \"%s\" holds a carriage return", key);
    memcpy(dst, value, strlen(value) + 1);
    *seen = 1;
    return CLNN_SUCCESS;
}

static int parse_size(const char *s, size_t *out)
{
    if (!*s)
        return 0;
    size_t v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9')
            return 0;
        size_t d = (size_t)(*s - '0');
        if (v > ((size_t)-1 - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* "NAME A=1 B=2 ..." */
static clnn_status parse_kernel(parse_state *p, char *value, clnn_tuning *t)
{
    char *save = NULL;
    char *name = strtok_r(value, " \t", &save);
    if (!name || !valid_name(name))
        return parse_fail(p, "%s", "a kernel line needs a CLBlast kernel name (letters, digits, _)");
    for (size_t i = 0; i < t->kernel_count; ++i)
        if (strcmp(t->kernels[i].name, name) == 0)
            return parse_fail(p, "kernel %s given twice", name);
    if (t->kernel_count == CLNN_TUNING_MAX_KERNELS)
        return parse_fail(p, "%s", "too many kernel lines");
    clnn_tuning_kernel *k = &t->kernels[t->kernel_count];
    memset(k, 0, sizeof *k);
    memcpy(k->name, name, strlen(name) + 1);
    for (char *item; (item = strtok_r(NULL, " \t", &save));) {
        char *eq = strchr(item, '=');
        if (!eq)
            return parse_fail(p, "parameter \"%s\" is not NAME=VALUE", item);
        *eq = '\0';
        if (!valid_name(item))
            return parse_fail(p, "bad parameter name \"%s\"", item);
        if (k->parameter_count == CLNN_TUNING_MAX_PARAMETERS)
            return parse_fail(p, "%s", "too many parameters");
        for (size_t i = 0; i < k->parameter_count; ++i)
            if (strcmp(k->parameter_names[i], item) == 0)
                return parse_fail(p, "parameter %s given twice", item);
        size_t v;
        if (!parse_size(eq + 1, &v))
            return parse_fail(p, "the value of %s is not a non-negative integer", item);
        memcpy(k->parameter_names[k->parameter_count], item, strlen(item) + 1);
        k->parameter_values[k->parameter_count++] = v;
    }
    if (k->parameter_count == 0)
        return parse_fail(p, "kernel %s has no parameters", k->name);
    const char *names[CLNN_TUNING_MAX_PARAMETERS];
    for (size_t i = 0; i < k->parameter_count; ++i)
        names[i] = k->parameter_names[i];
    char why[160];
    const char *problem = kernel_problem(k->name, k->parameter_count, names, k->parameter_values,
                                         why, sizeof why);
    if (problem)
        return parse_fail(p, "%s", problem);
    ++t->kernel_count;
    return CLNN_SUCCESS;
}

clnn_status clnn_tuning_parse_text(const char *text, clnn_tuning *out, char *message,
                                   size_t message_size)
{
    parse_state p = {message, message_size, 0};
    clnn_tuning *t = calloc(1, sizeof *t);
    char *copy = strdup(text);
    if (!t || !copy) {
        free(t);
        free(copy);
        snprintf(message, message_size, "out of memory parsing tuning data");
        return CLNN_ERR_HOST_MEMORY;
    }
    int seen_header = 0, seen_platform = 0, seen_vendor = 0, seen_device = 0, seen_driver = 0,
        seen_units = 0;
    clnn_status status = CLNN_SUCCESS;
    char *next = copy;
    while (status == CLNN_SUCCESS && next) {
        char *line = next;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ++p.line;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        while (*line == ' ' || *line == '\t')
            ++line;
        if (!*line || *line == '#')
            continue;
        char *value = line;
        while (*value && *value != ' ' && *value != '\t')
            ++value;
        if (*value)
            *value++ = '\0';
        while (*value == ' ' || *value == '\t')
            ++value;
        const char *key = line;
        if (!seen_header) {
            if (strcmp(key, "clnn-tuning") != 0)
                status = parse_fail(&p, "%s", "not clnn tuning data (no \"clnn-tuning 1\" line)");
            else if (strcmp(value, "1") != 0)
                status = parse_fail(&p, "unsupported version \"%s\" (this clnn reads 1)", value);
            seen_header = 1;
        } else if (strcmp(key, "platform") == 0) {
            status = parse_string(&p, key, value, t->platform_name, sizeof t->platform_name,
                                  &seen_platform);
        } else if (strcmp(key, "vendor") == 0) {
            status = parse_string(&p, key, value, t->device_vendor, sizeof t->device_vendor,
                                  &seen_vendor);
        } else if (strcmp(key, "device") == 0) {
            status = parse_string(&p, key, value, t->device_name, sizeof t->device_name,
                                  &seen_device);
        } else if (strcmp(key, "driver") == 0) {
            status = parse_string(&p, key, value, t->driver_version, sizeof t->driver_version,
                                  &seen_driver);
        } else if (strcmp(key, "compute-units") == 0) {
            size_t units;
            if (seen_units)
                status = parse_fail(&p, "\"%s\" given twice", key);
            else if (!parse_size(value, &units) || units == 0 || units > 0xffffffffu)
                status = parse_fail(&p, "compute-units \"%s\" is not a positive integer", value);
            else
                t->compute_units = (cl_uint)units;
            seen_units = 1;
        } else if (strcmp(key, "kernel") == 0) {
            status = parse_kernel(&p, value, t);
        } else {
            status = parse_fail(&p, "unknown item \"%s\"", key);
        }
    }
    if (status == CLNN_SUCCESS) {
        const char *missing = !seen_header     ? "the \"clnn-tuning 1\" line"
                              : !seen_platform ? "\"platform\""
                              : !seen_vendor   ? "\"vendor\""
                              : !seen_device   ? "\"device\""
                              : !seen_driver   ? "\"driver\""
                              : !seen_units    ? "\"compute-units\""
                              : t->kernel_count == 0 ? "a \"kernel\" line"
                                                     : NULL;
        if (missing) {
            snprintf(message, message_size, "tuning data lacks %s", missing);
            status = CLNN_ERR_FORMAT;
        }
    }
    char why[160];
    const char *problem =
        status == CLNN_SUCCESS ? clnn_tuning_record_problem(t, why, sizeof why) : NULL;
    if (problem) {
        snprintf(message, message_size, "tuning data: %s", problem);
        status = CLNN_ERR_FORMAT;
    }
    if (status == CLNN_SUCCESS)
        *out = *t;
    free(t);
    free(copy);
    return status;
}

clnn_status clnn_tuning_parse(const char *text, clnn_tuning *tuning)
{
    if (!text || !tuning)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_parse: %s is NULL",
                          text ? "tuning" : "text");
    char message[CLNN_MESSAGE_SIZE];
    clnn_status status = clnn_tuning_parse_text(text, tuning, message, sizeof message);
    if (status != CLNN_SUCCESS)
        return clnn_error(NULL, status, "%s", message);
    return CLNN_SUCCESS;
}

/* ---- writing ----------------------------------------------------------------------------------- */

typedef struct text_out {
    char *buf;
    size_t size, length;
} text_out;

static void out_text(text_out *o, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void out_text(text_out *o, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *at = o->length < o->size ? o->buf + o->length : NULL;
    int n = vsnprintf(at, at ? o->size - o->length : 0, format, args);
    va_end(args);
    if (n > 0)
        o->length += (size_t)n;
}

clnn_status clnn_tuning_format(const clnn_tuning *t, char *buffer, size_t size, size_t *length)
{
    if (!t || (!buffer && size))
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_format: %s is NULL",
                          t ? "buffer" : "tuning");
    char why[160];
    const char *problem = clnn_tuning_record_problem(t, why, sizeof why);
    if (problem)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_format: %s", problem);
    text_out o = {buffer, size, 0};
    out_text(&o, "# clnn GEMM tuning data (CLBlast parameters); read by clnn_tuning_parse()\n");
    out_text(&o, "clnn-tuning 1\nplatform %s\nvendor %s\ndevice %s\ndriver %s\ncompute-units %u\n",
             t->platform_name, t->device_vendor, t->device_name, t->driver_version,
             (unsigned)t->compute_units);
    for (size_t i = 0; i < t->kernel_count; ++i) {
        const clnn_tuning_kernel *k = &t->kernels[i];
        out_text(&o, "kernel %s", k->name);
        for (size_t j = 0; j < k->parameter_count && j < CLNN_TUNING_MAX_PARAMETERS; ++j)
            out_text(&o, " %s=%zu", k->parameter_names[j], k->parameter_values[j]);
        out_text(&o, "\n");
    }
    if (length)
        *length = o.length;
    if (o.length >= size)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tuning_format: the text needs %zu bytes, the buffer holds %zu",
                          o.length + 1, size);
    return CLNN_SUCCESS;
}

/* ---- files ------------------------------------------------------------------------------------- */

/* Reads a whole small text file, NUL-terminated; message says why not. */
static clnn_status read_text_file(const char *path, char **text, char *message, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(message, size, "cannot open %s: %s", path, strerror(errno));
        return CLNN_ERR_IO;
    }
    char *buf = malloc(TUNING_FILE_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        snprintf(message, size, "out of memory reading %s", path);
        return CLNN_ERR_HOST_MEMORY;
    }
    size_t n = fread(buf, 1, TUNING_FILE_MAX_BYTES + 1, f);
    int failed = ferror(f);
    fclose(f);
    clnn_status status = CLNN_SUCCESS;
    if (failed) {
        snprintf(message, size, "cannot read %s", path);
        status = CLNN_ERR_IO;
    } else if (n > TUNING_FILE_MAX_BYTES) {
        snprintf(message, size, "%s is larger than %d bytes: not tuning data", path,
                 TUNING_FILE_MAX_BYTES);
        status = CLNN_ERR_FORMAT;
    } else if (memchr(buf, '\0', n)) {
        snprintf(message, size, "%s holds a NUL byte: not tuning data", path);
        status = CLNN_ERR_FORMAT;
    }
    if (status != CLNN_SUCCESS) {
        free(buf);
        return status;
    }
    buf[n] = '\0';
    *text = buf;
    return CLNN_SUCCESS;
}

clnn_status clnn_tuning_load_file(const char *path, clnn_tuning *t, char *message, size_t size)
{
    char *text = NULL;
    clnn_status status = read_text_file(path, &text, message, size);
    if (status != CLNN_SUCCESS)
        return status;
    char detail[CLNN_MESSAGE_SIZE];
    status = clnn_tuning_parse_text(text, t, detail, sizeof detail);
    if (status != CLNN_SUCCESS)
        set_text(message, size, "%s: %s", path, detail);
    free(text);
    return status;
}

clnn_status clnn_tuning_load(const char *path, clnn_tuning *tuning)
{
    if (!path || !tuning)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_load: %s is NULL",
                          path ? "tuning" : "path");
    char message[CLNN_MESSAGE_SIZE];
    clnn_status status = clnn_tuning_load_file(path, tuning, message, sizeof message);
    if (status != CLNN_SUCCESS)
        return clnn_error(NULL, status, "%s", message);
    return CLNN_SUCCESS;
}

clnn_status clnn_tuning_save(const clnn_tuning *tuning, const char *path)
{
    if (!tuning || !path)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tuning_save: %s is NULL",
                          path ? "tuning" : "path");
    size_t length = 0;
    clnn_status status = clnn_tuning_format(tuning, NULL, 0, &length);
    if (status != CLNN_SUCCESS && length == 0)
        return status;
    char *text = malloc(length + 1);
    char *tmp = malloc(strlen(path) + 16);
    if (!text || !tmp) {
        free(text);
        free(tmp);
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory saving %s", path);
    }
    status = clnn_tuning_format(tuning, text, length + 1, NULL);
    int fd = -1;
    if (status == CLNN_SUCCESS) {
        sprintf(tmp, "%s.tmp.XXXXXX", path);
        fd = mkstemp(tmp);
        if (fd < 0)
            status = clnn_error(NULL, CLNN_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    }
    if (status == CLNN_SUCCESS) {
        size_t done = 0;
        while (done < length) {
            ssize_t w = write(fd, text + done, length - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (done != length || fsync(fd) != 0)
            status = clnn_error(NULL, CLNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && status == CLNN_SUCCESS)
            status = clnn_error(NULL, CLNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        if (status == CLNN_SUCCESS && rename(tmp, path) != 0)
            status = clnn_error(NULL, CLNN_ERR_IO, "cannot rename %s to %s: %s", tmp, path,
                                strerror(errno));
        if (status != CLNN_SUCCESS)
            unlink(tmp);
    }
    free(text);
    free(tmp);
    return status;
}
