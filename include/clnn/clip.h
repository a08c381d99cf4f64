/*
 * clnn gradient clipping by value and by global norm, with non-finite detection.
 * Included by <clnn.h>.
 */
#ifndef CLNN_CLIP_H
#define CLNN_CLIP_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CLNN_CLIP_H */
