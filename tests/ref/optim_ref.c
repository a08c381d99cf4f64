/* Double-precision reference optimisers (see optim_ref.h). */
#include "optim_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int optim_ref_state_init(optim_ref_state *s, size_t n, const clnn_optimizer_options *o)
{
    double **arrays[] = {&s->momentum_buffer, &s->square_avg,     &s->grad_avg, &s->exp_avg,
                         &s->exp_avg_sq,      &s->max_exp_avg_sq, &s->sum};
    memset(s, 0, sizeof *s);
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; ++a)
        if (!(*arrays[a] = calloc(n, sizeof(double)))) {
            optim_ref_state_free(s);
            return -1;
        }
    for (size_t i = 0; i < n; ++i)
        s->sum[i] = o->initial_accumulator_value;
    return 0;
}

void optim_ref_state_free(optim_ref_state *s)
{
    free(s->momentum_buffer);
    free(s->square_avg);
    free(s->grad_avg);
    free(s->exp_avg);
    free(s->exp_avg_sq);
    free(s->max_exp_avg_sq);
    free(s->sum);
    memset(s, 0, sizeof *s);
}

double *optim_ref_state_get(const optim_ref_state *s, const char *name)
{
    if (!strcmp(name, "momentum_buffer"))
        return s->momentum_buffer;
    if (!strcmp(name, "square_avg"))
        return s->square_avg;
    if (!strcmp(name, "grad_avg"))
        return s->grad_avg;
    if (!strcmp(name, "exp_avg"))
        return s->exp_avg;
    if (!strcmp(name, "exp_avg_sq"))
        return s->exp_avg_sq;
    if (!strcmp(name, "max_exp_avg_sq"))
        return s->max_exp_avg_sq;
    if (!strcmp(name, "sum"))
        return s->sum;
    return NULL;
}

void optim_ref_step(const clnn_optimizer_options *o, uint64_t taken, double *p, const double *grad,
                    size_t n, optim_ref_state *s)
{
    const double t = (double)taken + 1.0, lr = o->lr, wd = o->weight_decay;
    for (size_t i = 0; i < n; ++i) {
        double g = grad[i];
        switch (o->kind) {
        case CLNN_OPTIMIZER_SGD: {
            g += wd * p[i];
            if (o->momentum != 0.0) {
                double *b = &s->momentum_buffer[i];
                *b = taken == 0 ? g : o->momentum * *b + (1.0 - o->dampening) * g;
                g = o->nesterov ? g + o->momentum * *b : *b;
            }
            p[i] -= lr * g;
            break;
        }
        case CLNN_OPTIMIZER_RMSPROP: {
            g += wd * p[i];
            double *sq = &s->square_avg[i];
            *sq = o->alpha * *sq + (1.0 - o->alpha) * g * g;
            double var = *sq;
            if (o->centered) {
                double *ga = &s->grad_avg[i];
                *ga = o->alpha * *ga + (1.0 - o->alpha) * g;
                var -= *ga * *ga;
            }
            double avg = sqrt(var) + o->eps;
            if (o->momentum > 0.0) {
                double *b = &s->momentum_buffer[i];
                *b = o->momentum * *b + g / avg;
                p[i] -= lr * *b;
            } else {
                p[i] -= lr * g / avg;
            }
            break;
        }
        case CLNN_OPTIMIZER_ADAM:
        case CLNN_OPTIMIZER_ADAMW: {
            if (o->kind == CLNN_OPTIMIZER_ADAMW)
                p[i] *= 1.0 - lr * wd;
            else
                g += wd * p[i];
            double *m = &s->exp_avg[i], *v = &s->exp_avg_sq[i];
            *m = o->beta1 * *m + (1.0 - o->beta1) * g;
            *v = o->beta2 * *v + (1.0 - o->beta2) * g * g;
            double vhat = *v;
            if (o->amsgrad) {
                double *vmax = &s->max_exp_avg_sq[i];
                *vmax = fmax(*vmax, *v);
                vhat = *vmax;
            }
            double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
            p[i] -= lr / bc1 * *m / (sqrt(vhat) / sqrt(bc2) + o->eps);
            break;
        }
        default: { /* Adagrad */
            double clr = lr / (1.0 + (t - 1.0) * o->lr_decay);
            g += wd * p[i];
            s->sum[i] += g * g;
            p[i] -= clr * g / (sqrt(s->sum[i]) + o->eps);
            break;
        }
        }
    }
}
