/* The fused cross-entropy over class-index targets: kernels per device.
 *
 * logits are contiguous [N, C, D] (D the product of the spatial dims, 1 for [N, C]); row r =
 * (n, d) holds the C scores at n*C*D + d with stride D, and target[r] its class (int64, already
 * checked to be ignore_index or in [0, C)). With ls the label smoothing and lse = log sum exp x,
 *   loss[r]   = lse - (1 - ls) x[t] - ls / C * sum_c x[c]       (0 where t == ignore_index)
 *   dx[r, c]  = g[r] * (exp(x[c] - lse) - ls / C - (1 - ls) [c == t])
 * which is (1 - ls) nll(log_softmax) + ls / C * sum_c -log_softmax_c, PyTorch's smoothed loss. */
#ifndef CTORCH_CROSS_ENTROPY_IMPL_H
#define CTORCH_CROSS_ENTROPY_IMPL_H

#include "tensor_impl.h"

typedef struct ct__xent_args {
    const void *logits;
    const int64_t *target;
    int64_t N, C, D;
    int64_t ignore_index;
    double ls;
    ct_dtype dtype;      /* of logits, loss, grad and dlogits */
    void *loss;          /* forward: [N*D] of dtype */
    void *lse;           /* [N*D] float (double for f64): written by forward, read by backward */
    const void *grad;    /* backward: gradient of loss, element stride grad_stride (0: one value) */
    int64_t grad_stride;
    void *dlogits;       /* backward: contiguous, logits' shape */
    int device;
} ct__xent_args;

typedef struct ct__xent_kernels {
    bool (*forward)(const ct__xent_args *a);
    bool (*backward)(const ct__xent_args *a);
} ct__xent_kernels;

extern const ct__xent_kernels ct__xent_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct__xent_kernels ct__xent_cuda_kernels;
#endif

#endif /* CTORCH_CROSS_ENTROPY_IMPL_H */
