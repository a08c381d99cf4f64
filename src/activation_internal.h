/*
 * What other op families need to fuse an activation into their own kernels (batch norm +
 * activation, dense layers): the build option that selects the kind in kernels/activation.h, the
 * packed runtime parameters, and the descriptor check. Hidden from users.
 */
#ifndef CLNN_ACTIVATION_INTERNAL_H
#define CLNN_ACTIVATION_INTERNAL_H

#include "internal.h"

/* Longest option string clnn_activation_build_options() writes, with its NUL. */
#define CLNN_ACTIVATION_OPTIONS_SIZE 32

/* Writes "-DCLNN_ACTIVATION=<kind>" into options (CLNN_ACTIVATION_OPTIONS_SIZE bytes): append
 * it to a program's build options so that its #include "activation.h" gives desc->kind. For the
 * identity it writes "": kernels/activation.h builds the identity without the option, and the
 * identity's kernels then come from the shared program (src/program.c). */
void clnn_activation_build_options(const clnn_activation_desc *desc, char *options, size_t size);

/* The float4 kernel argument `p` of the device functions in kernels/activation.h. */
cl_float4 clnn_activation_kernel_params(const clnn_activation_desc *desc);

/* Checks that desc is not NULL and is valid (clnn_activation_desc_check), recording the message
 * on ctx prefixed with `function`. */
clnn_status clnn_activation_check_desc(clnn_context *ctx, const clnn_activation_desc *desc,
                                       const char *function);

#endif /* CLNN_ACTIVATION_INTERNAL_H */
