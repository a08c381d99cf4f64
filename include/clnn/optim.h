/*
 * clnn optimisers (SGD, RMSprop, Adam, AdamW, Adagrad) and learning-rate schedules.
 * Included by <clnn.h>.
 */
#ifndef CLNN_OPTIM_H
#define CLNN_OPTIM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_OPTIM_H */
