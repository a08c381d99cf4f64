/*
 * clnn softmax, log-softmax and losses (MSE, cross-entropy, BCE with logits), forward and backward.
 * Included by <clnn.h>.
 */
#ifndef CLNN_LOSS_H
#define CLNN_LOSS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_LOSS_H */
