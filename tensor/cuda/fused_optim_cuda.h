/* The launch interface of the fused optimizer kernels (fused_optim_cuda.cu), plain C/C++ so the
 * .cu and its C glue (fused_optim_cuda.c) share it. */
#ifndef CTORCH_FUSED_OPTIM_CUDA_H
#define CTORCH_FUSED_OPTIM_CUDA_H

#include "../fused_optim_args.h"

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types the kernels take (16-bit floats compute in float, f64 in double). */
typedef enum { CT__FO_F32, CT__FO_F64, CT__FO_F16, CT__FO_BF16 } ct__fo_dtype;

/* SGD: the formula of tensor/fused_optim_impl.h; first: the buffers are new. */
typedef struct ct__fo_sgd_args {
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize, first;
} ct__fo_sgd_args;


/* RMSprop and Adagrad (Adagrad's clr: lr / (1 + (t - 1) * lr_decay), from the host). */
typedef struct ct__fo_rmsprop_args {
    double lr, alpha, eps, weight_decay, momentum;
    int maximize;
} ct__fo_rmsprop_args;
typedef struct ct__fo_adagrad_args {
    double clr, weight_decay, eps;
    int maximize;
} ct__fo_adagrad_args;

/* lists[d][i]: the data of tensor i of list d (SGD: p, g, buf; Adam: p, g, m, v, vmax;
 * RMSprop: p, g, square_avg, momentum_buffer, grad_avg; Adagrad: p, g, sum), each of
 * numel[i] elements; a NULL list (buf with momentum 0, vmax without amsgrad) is not touched.
 * Launches on stream; returns the launch error. */
cudaError_t ct__cuda_fused_sgd(void *const *const *lists, const int64_t *numel, int n, ct__fo_dtype dtype,
                               ct__fo_sgd_args a, cudaStream_t stream);
cudaError_t ct__cuda_fused_adam(void *const *const *lists, const int64_t *numel, int n, ct__fo_dtype dtype,
                                ct__fo_adam_args a, cudaStream_t stream);
cudaError_t ct__cuda_fused_rmsprop(void *const *const *lists, const int64_t *numel, int n, ct__fo_dtype dtype,
                                   ct__fo_rmsprop_args a, cudaStream_t stream);
cudaError_t ct__cuda_fused_adagrad(void *const *const *lists, const int64_t *numel, int n, ct__fo_dtype dtype,
                                   ct__fo_adagrad_args a, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_FUSED_OPTIM_CUDA_H */
