/* Launchers of the CUDA indexing kernels (index_impl.h's take/put loops, bounds, nonzero) over
 * plain pointers; shapes row-major, strides in elements, dtype codes as ct_dtype. */
#ifndef CTORCH_INDEX_CUDA_H
#define CTORCH_INDEX_CUDA_H

#include <cuda_runtime.h>
#include <stdbool.h>
#include <stdint.h>

#define CT__CUDA_IDX_DIMS 16

typedef struct ct__cuda_index_loop {
    int ndim;
    int64_t numel;
    int64_t shape[CT__CUDA_IDX_DIMS];
    char *out, *src, *idx;
    int64_t out_stride[CT__CUDA_IDX_DIMS], src_stride[CT__CUDA_IDX_DIMS], idx_stride[CT__CUDA_IDX_DIMS];
    int elem_size, dtype, idx_is_i32;
    int64_t step;
} ct__cuda_index_loop;

#ifdef __cplusplus
extern "C" {
#endif
cudaError_t ct__cuda_index_take(const ct__cuda_index_loop *l, cudaStream_t s);
cudaError_t ct__cuda_index_put(const ct__cuda_index_loop *l, bool accumulate, cudaStream_t s);
/* *first = the smallest row-major position of idx (shape/stride as in l's idx fields, ndim, numel)
 * whose value lies outside [lo, size), or -1; with offsets != NULL also offsets[i] += wrap(v) * mul
 * over the loop (offsets contiguous). Synchronizes. */
cudaError_t ct__cuda_index_bounds(const ct__cuda_index_loop *l, int64_t lo, int64_t size, int64_t *offsets,
                                  int64_t mul, void *flag, int64_t *first, cudaStream_t s);
/* Nonzero: flags (numel int64 workspace) := prefix counts; *count returned (synchronizes). */
cudaError_t ct__cuda_nonzero_count(const char *data, const int64_t *shape, const int64_t *stride, int ndim,
                                   int64_t numel, int dtype, int64_t *scan, void *tmp, size_t *tmp_bytes,
                                   int64_t *count, cudaStream_t s);
cudaError_t ct__cuda_nonzero_write(const int64_t *scan, const int64_t *shape, int ndim, int64_t numel, int64_t *out,
                                   cudaStream_t s);
#ifdef __cplusplus
}
#endif
#endif /* CTORCH_INDEX_CUDA_H */
