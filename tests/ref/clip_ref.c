/* Double-precision reference global norms (see clip_ref.h). */
#include "clip_ref.h"

#include <math.h>

double clip_ref_global_norm(const float *const *xs, const size_t *ns, size_t count, int inf_norm)
{
    double max = 0.0;
    int nan_seen = 0;
    for (size_t k = 0; k < count; ++k)
        for (size_t i = 0; i < ns[k]; ++i) {
            double a = fabs((double)xs[k][i]);
            if (isnan(a))
                nan_seen = 1;
            else if (a > max)
                max = a;
        }
    if (nan_seen)
        return NAN;
    if (inf_norm || max == 0.0 || isinf(max))
        return max;
    /* Pairwise-free but exact enough: each term is at most 1 and double carries 53 bits. */
    double sum = 0.0;
    for (size_t k = 0; k < count; ++k)
        for (size_t i = 0; i < ns[k]; ++i) {
            double r = (double)xs[k][i] / max;
            sum += r * r;
        }
    return max * sqrt(sum);
}
