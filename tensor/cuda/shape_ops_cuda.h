/* Launchers of the CUDA copying shape-op kernels (shape_ops_impl.h) over plain pointers. */
#ifndef CTORCH_SHAPE_OPS_CUDA_H
#define CTORCH_SHAPE_OPS_CUDA_H

#include <cuda_runtime.h>
#include <stdint.h>

#define CT__CUDA_SHAPE_DIMS 16

/* A read of `shape` (row-major) from src with element strides that may be negative. */
typedef struct ct__cuda_strided_read {
    int ndim;
    int64_t numel;
    int64_t shape[CT__CUDA_SHAPE_DIMS], stride[CT__CUDA_SHAPE_DIMS];
    const char *src;
    int elem_size;
} ct__cuda_strided_read;

#ifdef __cplusplus
extern "C" {
#endif
/* out (dense, r's shape) = the elements r reads, in row-major order. */
cudaError_t ct__cuda_strided_gather(void *out, const ct__cuda_strided_read *r, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif /* CTORCH_SHAPE_OPS_CUDA_H */
