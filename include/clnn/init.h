/*
 * clnn counter-based RNG (Philox4x32-10), weight initialisation and dropout.
 * Included by <clnn.h>.
 */
#ifndef CLNN_INIT_H
#define CLNN_INIT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_INIT_H */
