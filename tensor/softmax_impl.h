/* The backward of softmax and log_softmax as one fused row op: kernels per device.
 *
 * grad, y (the forward's output) and dx are contiguous [outer, n, inner] of one floating dtype,
 * the softmax taken along n; row (o, i) holds the n values at (o * n + k) * inner + i. With
 * y = softmax(x), dy_k/dx_j = y_k (delta_kj - y_j), and with y = log_softmax(x) = x - lse(x),
 * dy_k/dx_j = delta_kj - softmax_j = delta_kj - exp(y_j), so per row
 *   softmax:     dx = y * (grad - sum_k grad_k y_k)
 *   log_softmax: dx = grad - exp(y) * sum_k grad_k
 * (PyTorch's _softmax_backward_data / _log_softmax_backward_data). The row sum accumulates in
 * double on the CPU (as its reductions do) and in float for f32/f16/bf16 on CUDA (as PyTorch). */
#ifndef CTORCH_SOFTMAX_IMPL_H
#define CTORCH_SOFTMAX_IMPL_H

#include "tensor_impl.h"

typedef struct ct__softmax_bw_args {
    const void *grad, *y;
    void *dx;
    int64_t outer, n, inner; /* all three >= 1: the op does not call the kernel for 0 elements */
    bool log;                /* log_softmax's formula */
    ct_dtype dtype;
    int device;
} ct__softmax_bw_args;

/* false with a ct error when the device failed */
typedef struct ct__softmax_kernels {
    bool (*backward)(const ct__softmax_bw_args *a);
} ct__softmax_kernels;

extern const ct__softmax_kernels ct__softmax_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct__softmax_kernels ct__softmax_cuda_kernels;
#endif

#endif /* CTORCH_SOFTMAX_IMPL_H */
