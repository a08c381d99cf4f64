/* Double-precision reference of the global norms of a list of float arrays (see src/clip.c). */
#ifndef CLNN_CLIP_REF_H
#define CLNN_CLIP_REF_H

#include <stddef.h>

/* The L2 (inf_norm 0) or infinity (inf_norm 1) norm of every element of the count arrays xs[k]
 * of ns[k] elements, as one vector. NaN if any element is NaN; Inf if any is infinite. The L2 sum
 * is taken of (x / max|x|)^2, so it neither overflows nor underflows. */
double clip_ref_global_norm(const float *const *xs, const size_t *ns, size_t count, int inf_norm);

#endif
