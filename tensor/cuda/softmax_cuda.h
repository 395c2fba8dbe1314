/* Launchers of the softmax / log_softmax kernels (softmax_cuda.cu), plain C arguments: the
 * forward over reduce_cuda.h's row plan (kind CT__ROW_SOFTMAX or CT__ROW_LOG_SOFTMAX), the
 * backward over contiguous [outer, n, inner] rows (tensor/softmax_impl.h has the math). */
#ifndef CTORCH_SOFTMAX_CUDA_H
#define CTORCH_SOFTMAX_CUDA_H

#include "reduce_cuda.h"

typedef struct ct__cuda_softmax_bw {
    const void *grad, *y;
    void *dx;
    int64_t outer, n, inner;
    bool log;
    int dtype; /* ct_dtype code */
} ct__cuda_softmax_bw;

#ifdef __cplusplus
extern "C" {
#endif
cudaError_t ct__cuda_softmax(const ct__cuda_red *plan, int device, cudaStream_t stream);
cudaError_t ct__cuda_softmax_backward(const ct__cuda_softmax_bw *args, int device, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif /* CTORCH_SOFTMAX_CUDA_H */
