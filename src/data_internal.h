/*
 * What the data files share (src/data_idx.c: the IDX format; data.c: datasets built from it).
 * Hidden from users.
 */
#ifndef CLNN_DATA_INTERNAL_H
#define CLNN_DATA_INTERNAL_H

#include "internal.h"

/* The name of an IDX element type ("uint8", "float32"; "unknown" for a value outside the enum),
 * for error messages. */
const char *clnn_idx_type_name(clnn_idx_type type);

#endif /* CLNN_DATA_INTERNAL_H */
