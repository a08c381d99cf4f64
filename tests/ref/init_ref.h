/*
 * Double-precision references for the init family: an independent Philox4x32-10 (written from
 * the paper, 64-bit products), Box-Muller in double with libm from the same words, and the
 * moments of the distributions the schemes draw from (truncated normals by quadrature).
 */
#ifndef CLNN_INIT_REF_H
#define CLNN_INIT_REF_H

#include <stddef.h>
#include <stdint.h>

/* Philox4x32-10 of (ctr, key) into out. */
void init_ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The 4 words of block b of clnn's init stream (domain 0, step 0) or dropout stream. */
void init_ref_stream(uint64_t seed, uint32_t domain, uint64_t step, uint32_t block,
                     uint32_t out[4]);

/* Standard normal pair from two words, as clnn defines it, in double with libm. */
void init_ref_normal2(uint32_t a, uint32_t b, double *z0, double *z1);

/* Mean, variance and fourth central moment of a distribution. */
typedef struct init_ref_moments {
    double mean, var, m4;
} init_ref_moments;

init_ref_moments init_ref_uniform_moments(double a, double b);
init_ref_moments init_ref_normal_moments(double mean, double std);
/* N(mean, std^2) truncated to [a, b], by Simpson quadrature. */
init_ref_moments init_ref_trunc_normal_moments(double mean, double std, double a, double b);

/* Sample mean and standard deviation of x[0..n) in double. */
void init_ref_sample_stats(const float *x, size_t n, double *mean, double *std);

#endif
