/*
 * Reduction helpers shared by the normalisation and loss kernels: work-group sums and maxima in
 * local memory (any work-group size, not only powers of two), and Welford / Chan merging of
 * (count, mean, M2) triples, which keeps a variance exact to a few ulp when the mean is large
 * beside the spread (1e4 + noise of 1e-2), where E[x^2] - E[x]^2 would cancel to nothing.
 */
#ifndef CLNN_KERNELS_REDUCE_H
#define CLNN_KERNELS_REDUCE_H

/* Adds one value to a running (count, mean, M2) triple (Welford 1962). Callers feed values
 * shifted by a sample of the same data (x - K), so that the running mean stays of the order of
 * the spread: a float mean of order 1e4 would stop moving once the updates fall below half an
 * ulp (about 5e-4), which for a spread of 1e-2 would bias the variance. */
static inline void clnn_welford_add(float x, float *n, float *mean, float *m2)
{
    *n += 1.0f;
    float delta = x - *mean;
    *mean += delta / *n;
    *m2 += delta * (x - *mean);
}

/* Merges triple b into triple a (Chan, Golub and LeVeque 1979). Empty triples are neutral. */
static inline void clnn_chan_merge(float *n, float *mean, float *m2, float nb, float meanb,
                                   float m2b)
{
    if (nb == 0.0f)
        return;
    if (*n == 0.0f) {
        *n = nb;
        *mean = meanb;
        *m2 = m2b;
        return;
    }
    float total = *n + nb;
    float delta = meanb - *mean;
    float wb = nb / total;
    *mean += delta * wb;
    *m2 += m2b + delta * delta * (*n) * wb;
    *n = total;
}

/* The largest power of two strictly below the work-group size (0 for a group of one), the first
 * stride of a tree reduction that handles any size. */
static inline uint clnn_tree_start(uint size)
{
    uint s = 1u;
    while (s < size)
        s <<= 1;
    return s >> 1;
}

/* Sum of v over the work-group (a 1-D group along dimension 0), returned to every work-item.
 * scratch holds get_local_size(0) floats. Every work-item of the group must call it. */
static inline float clnn_group_sum(float v, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = clnn_tree_start(size); s > 0u; s >>= 1) {
        if (lid < s && lid + s < size)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* scratch may be reused at once */
    return total;
}

/* Four sums at once (one pass of barriers): scratch holds 4 * get_local_size(0) floats. */
static inline float4 clnn_group_sum4(float4 v, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    __local float4 *a = (__local float4 *)scratch;
    a[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = clnn_tree_start(size); s > 0u; s >>= 1) {
        if (lid < s && lid + s < size)
            a[lid] += a[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float4 total = a[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

/* Maximum of v over the work-group (NaN-propagating: a NaN anywhere gives NaN). */
static inline float clnn_group_max(float v, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = clnn_tree_start(size); s > 0u; s >>= 1) {
        if (lid < s && lid + s < size) {
            float a = scratch[lid], b = scratch[lid + s];
            scratch[lid] = (isnan(a) || a >= b) ? a : b;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

/* Chan merge of every work-item's (n, mean, m2) over the group; every work-item receives the
 * group's triple. scratch holds 3 * get_local_size(0) floats. */
static inline void clnn_group_welford(float *n, float *mean, float *m2, __local float *scratch)
{
    uint lid = (uint)get_local_id(0), size = (uint)get_local_size(0);
    __local float *sn = scratch, *smean = scratch + size, *sm2 = scratch + 2u * size;
    sn[lid] = *n;
    smean[lid] = *mean;
    sm2[lid] = *m2;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = clnn_tree_start(size); s > 0u; s >>= 1) {
        if (lid < s && lid + s < size) {
            float an = sn[lid], amean = smean[lid], am2 = sm2[lid];
            clnn_chan_merge(&an, &amean, &am2, sn[lid + s], smean[lid + s], sm2[lid + s]);
            sn[lid] = an;
            smean[lid] = amean;
            sm2[lid] = am2;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    *n = sn[0];
    *mean = smean[0];
    *m2 = sm2[0];
    barrier(CLK_LOCAL_MEM_FENCE);
}

#endif
