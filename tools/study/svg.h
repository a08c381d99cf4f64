/*
 * A small SVG line-chart writer for clnn-study: a figure of one or more panels side by side, each
 * with linear or logarithmic y, lines that break at non-finite values, and one legend for the
 * figure. Plain SVG 1.1 text that any browser shows; no library.
 */
#ifndef CLNN_STUDY_SVG_H
#define CLNN_STUDY_SVG_H

#include <stddef.h>
#include <stdio.h>

/* One line: n points (x[i], y[i]). Non-finite y breaks the line; on a log axis, y below the
 * panel's floor (zero included) is drawn on the floor. */
typedef struct svg_series {
    const double *x;
    const double *y;
    size_t n;
    const char *color; /* "#rrggbb" */
    int dashed;        /* 0 solid, 1 dashed */
} svg_series;

typedef struct svg_panel {
    const char *title;
    const char *x_label;
    const char *y_label;
    int log_y;         /* non-zero: log10 y axis */
    double y_floor;    /* log axis: the lowest value shown (> 0); linear: ignored */
    double y_min_hint; /* linear axis: the range includes [y_min_hint, y_max_hint] when they are */
    double y_max_hint; /* finite (NAN: from the data only) */
    const svg_series *series;
    size_t count;
} svg_panel;

typedef struct svg_legend_entry {
    const char *color;
    int dashed;
    const char *label;
} svg_legend_entry;

/*
 * Writes a complete SVG document: a title and a caption line, the panels in a row, then the
 * legend in rows under them. Returns 0, or -1 when writing failed (ferror).
 */
int svg_write_figure(FILE *out, const char *title, const char *caption, const svg_panel *panels,
                     size_t panel_count, const svg_legend_entry *legend, size_t legend_count);

/* Writes text escaped for XML (&, <, >, "). */
void svg_write_escaped(FILE *out, const char *text);

#endif
