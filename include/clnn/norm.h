/*
 * clnn batch normalisation and layer normalisation, forward and backward.
 * Included by <clnn.h>.
 */
#ifndef CLNN_NORM_H
#define CLNN_NORM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_NORM_H */
