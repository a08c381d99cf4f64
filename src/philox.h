/*
 * The host side of clnn's Philox4x32-10 stream: kernels/philox.h compiled as C, so the host runs
 * the very operations the devices run (see that file for the stream layout and why the floats are
 * bit-identical). GCC does not contract a*b+c into a fused multiply-add in ISO C mode (-std=c11,
 * which the build uses); clang is told not to here.
 */
#ifndef CLNN_SRC_PHILOX_H
#define CLNN_SRC_PHILOX_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "../kernels/philox.h"

/* The key words of a 64-bit seed and the step words of a 64-bit step. */
#define CLNN_SEED_LO(seed) ((clnn_u32)((seed) & 0xffffffffu))
#define CLNN_SEED_HI(seed) ((clnn_u32)((seed) >> 32))

#endif /* CLNN_SRC_PHILOX_H */
