/* Launchers of the fused cross-entropy kernels (see cross_entropy_impl.h for the math); plain
 * arguments, dtype codes as ct_dtype. */
#ifndef CTORCH_CROSS_ENTROPY_CUDA_H
#define CTORCH_CROSS_ENTROPY_CUDA_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
cudaError_t ct__cuda_xent_forward(const void *logits, const int64_t *target, void *loss, void *lse, int64_t N,
                                  int64_t C, int64_t D, int64_t ignore_index, double ls, int dtype,
                                  cudaStream_t stream);
cudaError_t ct__cuda_xent_backward(const void *logits, const int64_t *target, const void *lse, const void *grad,
                                   int64_t grad_stride, void *dlogits, int64_t N, int64_t C, int64_t D,
                                   int64_t ignore_index, double ls, int dtype, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif /* CTORCH_CROSS_ENTROPY_CUDA_H */
