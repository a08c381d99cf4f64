/*
 * Double-precision reference of the torch.optim update rules that src/optim.c implements, written
 * as the textbook formulas (not the in-place call sequence), one element at a time.
 */
#ifndef CLNN_OPTIM_REF_H
#define CLNN_OPTIM_REF_H

#include <clnn.h>

#include <stddef.h>
#include <stdint.h>

/* The state of one parameter of n elements: every array has n entries (a rule uses some). */
typedef struct optim_ref_state {
    double *momentum_buffer, *square_avg, *grad_avg, *exp_avg, *exp_avg_sq, *max_exp_avg_sq, *sum;
} optim_ref_state;

/* Allocates the arrays (zeros; sum = initial_accumulator_value); 0 on success. */
int optim_ref_state_init(optim_ref_state *state, size_t n, const clnn_optimizer_options *o);
void optim_ref_state_free(optim_ref_state *state);
/* The array of a state named as in torch's state_dict ("exp_avg", ...), NULL if unknown. */
double *optim_ref_state_get(const optim_ref_state *state, const char *name);

/* One step of o's rule with learning rate o->lr, after `taken` earlier steps, on n elements. */
void optim_ref_step(const clnn_optimizer_options *o, uint64_t taken, double *param,
                    const double *grad, size_t n, optim_ref_state *state);

#endif
