/*
 * clnn: neural-network training primitives on any OpenCL device.
 *
 * The one header a program includes. It holds the core API (include/clnn/core.h) and every op
 * family (include/clnn/<family>.h). A minimal program:
 *
 *     #include <clnn.h>
 *
 *     clnn_context *ctx;
 *     clnn_tensor *x;
 *     size_t dims[2] = {256, 784};
 *     if (clnn_context_create(&ctx, NULL) != CLNN_SUCCESS) {
 *         fprintf(stderr, "clnn: %s\n", clnn_context_last_error(NULL));
 *         return 1;
 *     }
 *     clnn_tensor_create(ctx, 2, dims, &x);
 *     clnn_tensor_upload(x, host_data, 256 * 784);
 *     ...                                 // ops queue work on the context's in-order queue
 *     clnn_tensor_download(x, host_data, 256 * 784);
 *     clnn_tensor_destroy(x);
 *     clnn_context_destroy(ctx);
 *
 * Every function returns a clnn_status (CLNN_SUCCESS is 0); on failure,
 * clnn_context_last_error() says which argument or shape was wrong. clnn never prints, aborts or
 * exits. Operations run in order on the context's queue; functions that hand a value to the host
 * (a loss, a norm) wait for it and say so.
 */
#ifndef CLNN_H
#define CLNN_H

#include "clnn/core.h"
#include "clnn/activation.h"
#include "clnn/norm.h"
#include "clnn/loss.h"
#include "clnn/init.h"
#include "clnn/optim.h"
#include "clnn/clip.h"
#include "clnn/dense.h"
#include "clnn/conv.h"
#include "clnn/pool.h"
#include "clnn/data.h"
#include "clnn/network.h"
#include "clnn/mlp.h"

#endif /* CLNN_H */
