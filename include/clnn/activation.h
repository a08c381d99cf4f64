/*
 * clnn activation functions, forward and backward, PReLU and fused bias + activation.
 * Included by <clnn.h>.
 */
#ifndef CLNN_ACTIVATION_H
#define CLNN_ACTIVATION_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_ACTIVATION_H */
