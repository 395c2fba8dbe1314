/* Reductions, softmax and scans: the device-neutral plan the ops build, and the per-device kernel
 * table (CPU in cpu/reduce_cpu.c, CUDA in cuda/reduce_cuda.c).
 *
 * A plan splits the input's dims into outer (kept: one result each) and inner (reduced) dims,
 * each list innermost first with byte strides and merged where memory allows. The kernel reduces
 * the inner block of every outer element. */
#ifndef CTORCH_REDUCE_IMPL_H
#define CTORCH_REDUCE_IMPL_H

#include "tensor_impl.h"

typedef enum ct__red_kind {
    CT__RED_SUM = 0,
    CT__RED_MEAN,
    CT__RED_PROD,
    CT__RED_MAX,    /* values; with idx_out also the index of the first extreme (max_dim, argmax) */
    CT__RED_MIN,
    CT__RED_VAR,    /* correction, take_sqrt */
    CT__RED_NORM,   /* p */
    CT__RED_LSE,    /* logsumexp */
    CT__RED_ALL,
    CT__RED_ANY,
} ct__red_kind;

/* Row ops: the inner "block" is one dim and the output has the input's shape. */
typedef enum ct__row_kind { CT__ROW_SOFTMAX = 0, CT__ROW_LOG_SOFTMAX, CT__ROW_CUMSUM, CT__ROW_CUMPROD } ct__row_kind;

typedef struct ct__red_plan {
    int kind;
    double p, correction;
    bool take_sqrt;
    /* Integer accumulation (exact int64): sum/prod to an integer dtype, max/min of integers. */
    bool int_acc;
    ct_dtype in_dtype, out_dtype;
    ct_device device; /* of the input and outputs */
    char *in, *out, *idx_out; /* out or idx_out may be NULL when not wanted */
    int outer_ndim;
    int64_t nout;
    int64_t outer_shape[CT_MAX_DIMS];
    int64_t outer_in[CT_MAX_DIMS], outer_out[CT_MAX_DIMS], outer_idx[CT_MAX_DIMS]; /* bytes */
    int inner_ndim;
    int64_t ninner;
    int64_t inner_shape[CT_MAX_DIMS];
    int64_t inner_in[CT_MAX_DIMS];  /* bytes */
    int64_t inner_out;              /* row ops: the output's byte stride along the dim */
} ct__red_plan;

/* Each returns false with a ct error when the device failed (a launch, a workspace). */
typedef struct ct__reduce_kernels {
    bool (*reduce)(const ct__red_plan *plan);
    bool (*rows)(const ct__red_plan *plan); /* kind is a ct__row_kind */
} ct__reduce_kernels;

extern const ct__reduce_kernels ct__reduce_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct__reduce_kernels ct__reduce_cuda_kernels;
#endif
/* The table for t's device, or NULL with "op: not implemented for cuda:0 yet". */
const ct__reduce_kernels *ct__reduce_kernels_for(const char *op, const ct_tensor *t);

/* Plan for a row op along dim (already wrapped) of t into out, which has t's shape. */
void ct__row_plan(ct__red_plan *plan, const ct_tensor *t, int dim, const ct_tensor *out);

#endif /* CTORCH_REDUCE_IMPL_H */
