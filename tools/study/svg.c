/*
 * SVG line charts for clnn-study (see svg.h). Coordinates are written with one decimal, enough
 * for a screen and small enough to keep a 100-line figure under a few hundred kilobytes.
 */
#include "svg.h"

#include <math.h>
#include <string.h>

enum {
    PANEL_W = 460, /* one panel, axes and labels included */
    PANEL_H = 340,
    MARGIN_L = 72, /* room for the y tick labels and the y label */
    MARGIN_R = 16,
    MARGIN_T = 34, /* the panel title */
    MARGIN_B = 52, /* x tick labels and the x label */
    HEADER_H = 64, /* figure title and caption */
    LEGEND_COLS = 4,
    LEGEND_W = 230,
    LEGEND_ROW_H = 22,
    GAP = 12
};

void svg_write_escaped(FILE *out, const char *text)
{
    for (const char *c = text; c && *c; ++c) {
        switch (*c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*c, out);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` intervals. */
static double nice_step(double range, int target)
{
    if (!(range > 0.0) || !isfinite(range))
        return 1.0;
    double raw = range / target;
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

static void text(FILE *out, double x, double y, const char *anchor, int size, const char *extra,
                 const char *s)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s>", x, y,
            anchor, size, extra ? " " : "", extra ? extra : "");
    svg_write_escaped(out, s);
    fputs("</text>\n", out);
}

/* The value drawn for y on the panel's axis: log10 for a log axis (floored), y itself else; NaN
 * when the point is not drawn. */
static double axis_value(const svg_panel *p, double y)
{
    if (isnan(y))
        return NAN;
    if (p->log_y) {
        if (y == INFINITY)
            return NAN;
        return log10(y > p->y_floor ? y : p->y_floor);
    }
    return isfinite(y) ? y : NAN;
}

static void draw_panel(FILE *out, const svg_panel *p, double ox, double oy, int index)
{
    const double x0 = ox + MARGIN_L, x1 = ox + PANEL_W - MARGIN_R;
    const double y0 = oy + PANEL_H - MARGIN_B, y1 = oy + MARGIN_T;

    /* Data ranges. */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t s = 0; s < p->count; ++s)
        for (size_t i = 0; i < p->series[s].n; ++i) {
            double v = axis_value(p, p->series[s].y[i]);
            if (isnan(v))
                continue;
            double x = p->series[s].x[i];
            xmin = x < xmin ? x : xmin;
            xmax = x > xmax ? x : xmax;
            ymin = v < ymin ? v : ymin;
            ymax = v > ymax ? v : ymax;
        }
    if (!p->log_y) {
        if (isfinite(p->y_min_hint) && p->y_min_hint < ymin)
            ymin = p->y_min_hint;
        if (isfinite(p->y_max_hint) && p->y_max_hint > ymax)
            ymax = p->y_max_hint;
    }
    if (!(xmin <= xmax)) {
        xmin = 0.0;
        xmax = 1.0;
    }
    if (!(ymin <= ymax)) {
        ymin = p->log_y ? 0.0 : 0.0;
        ymax = 1.0;
    }
    if (xmax == xmin)
        xmax = xmin + 1.0;

    double ystep;
    if (p->log_y) {
        ymin = floor(ymin);
        ymax = ceil(ymax);
        if (ymax <= ymin)
            ymax = ymin + 1.0;
        double decades = ymax - ymin;
        ystep = decades <= 10.0 ? 1.0 : ceil(decades / 8.0);
    } else {
        if (ymax == ymin) {
            ymin -= 0.5;
            ymax += 0.5;
        }
        ystep = nice_step(ymax - ymin, 5);
        ymin = floor(ymin / ystep) * ystep;
        ymax = ceil(ymax / ystep) * ystep;
    }
    const double xstep = nice_step(xmax - xmin, 6);
#define PX(x) (x0 + ((x)-xmin) / (xmax - xmin) * (x1 - x0))
#define PY(v) (y0 - ((v)-ymin) / (ymax - ymin) * (y0 - y1))

    fprintf(out,
            "<g>\n<clipPath id=\"clip%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/></clipPath>\n",
            index, x0, y1 - 2.0, x1 - x0, y0 - y1 + 4.0);
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
            "stroke=\"#888\" stroke-width=\"0.8\"/>\n",
            x0, y1, x1 - x0, y0 - y1);

    /* Grid and ticks. */
    char label[64];
    for (double v = ymin; v <= ymax + 1e-9 * ystep; v += ystep) {
        double py = PY(v);
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\" "
                "stroke-width=\"0.6\"/>\n",
                x0, py, x1, py);
        if (p->log_y) {
            long k = lround(v);
            if (k == 0)
                snprintf(label, sizeof label, "1");
            else if (k == 1)
                snprintf(label, sizeof label, "10");
            else
                snprintf(label, sizeof label, "1e%ld", k);
        } else {
            snprintf(label, sizeof label, "%g", fabs(v) < 1e-12 * ystep ? 0.0 : v);
        }
        text(out, x0 - 6.0, py + 4.0, "end", 11, NULL, label);
    }
    for (double v = ceil(xmin / xstep) * xstep; v <= xmax + 1e-9 * xstep; v += xstep) {
        double px = PX(v);
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\" "
                "stroke-width=\"0.6\"/>\n",
                px, y0, px, y1);
        snprintf(label, sizeof label, "%g", v);
        text(out, px, y0 + 16.0, "middle", 11, NULL, label);
    }

    /* Lines. */
    for (size_t s = 0; s < p->count; ++s) {
        const svg_series *se = &p->series[s];
        fprintf(out,
                "<path clip-path=\"url(#clip%d)\" fill=\"none\" stroke=\"%s\" "
                "stroke-width=\"1.6\" stroke-linejoin=\"round\"%s d=\"",
                index, se->color, se->dashed ? " stroke-dasharray=\"6 3\"" : "");
        int pen = 0;
        for (size_t i = 0; i < se->n; ++i) {
            double v = axis_value(p, se->y[i]);
            if (isnan(v) || !isfinite(se->x[i])) {
                pen = 0;
                continue;
            }
            fprintf(out, "%s%.1f %.1f", pen ? " L" : " M", PX(se->x[i]), PY(v));
            pen = 1;
        }
        fputs("\"/>\n", out);
    }

    /* Labels. */
    text(out, (x0 + x1) / 2.0, oy + 20.0, "middle", 14, "font-weight=\"bold\"", p->title);
    text(out, (x0 + x1) / 2.0, y0 + 38.0, "middle", 12, NULL, p->x_label);
    char rotate[96];
    double ly = (y0 + y1) / 2.0, lx = ox + 18.0;
    snprintf(rotate, sizeof rotate, "transform=\"rotate(-90 %.1f %.1f)\"", lx, ly);
    text(out, lx, ly, "middle", 12, rotate, p->y_label);
    fputs("</g>\n", out);
#undef PX
#undef PY
}

int svg_write_figure(FILE *out, const char *title, const char *caption, const svg_panel *panels,
                     size_t panel_count, const svg_legend_entry *legend, size_t legend_count)
{
    const size_t legend_rows = (legend_count + LEGEND_COLS - 1) / LEGEND_COLS;
    size_t width = panel_count * PANEL_W + 2 * GAP;
    if (width < LEGEND_COLS * LEGEND_W + 2 * GAP)
        width = LEGEND_COLS * LEGEND_W + 2 * GAP;
    const size_t height = HEADER_H + PANEL_H + GAP + legend_rows * LEGEND_ROW_H + GAP;

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%zu\" "
            "height=\"%zu\" viewBox=\"0 0 %zu %zu\" font-family=\"Helvetica, Arial, "
            "sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    text(out, GAP, 26.0, "start", 17, "font-weight=\"bold\"", title);
    if (caption)
        text(out, GAP, 48.0, "start", 12, "fill=\"#444\"", caption);
    for (size_t i = 0; i < panel_count; ++i)
        draw_panel(out, &panels[i], GAP + (double)(i * PANEL_W), HEADER_H, (int)i);

    const double ly = HEADER_H + PANEL_H + GAP;
    for (size_t i = 0; i < legend_count; ++i) {
        double x = GAP + (double)((i % LEGEND_COLS) * LEGEND_W) + MARGIN_L / 2.0;
        double y = ly + (double)((i / LEGEND_COLS) * LEGEND_ROW_H) + LEGEND_ROW_H / 2.0;
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2.2\"%s/>\n",
                x, y, x + 34.0, y, legend[i].color,
                legend[i].dashed ? " stroke-dasharray=\"6 3\"" : "");
        text(out, x + 42.0, y + 4.0, "start", 12, NULL, legend[i].label);
    }
    fputs("</svg>\n", out);
    return ferror(out) ? -1 : 0;
}
