/* The reduction plan (reduce_impl.h's ct__red_plan) in plain C for the CUDA kernels, which cannot
 * include tensor_impl.h: reduce_cuda.c copies the plan over field by field. Kinds and dtype codes
 * are the ct__red_kind / ct__row_kind / ct_dtype values (checked there with static asserts). */
#ifndef CTORCH_REDUCE_CUDA_H
#define CTORCH_REDUCE_CUDA_H

#include <cuda_runtime.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT__CUDA_RED_DIMS 16

typedef struct ct__cuda_red {
    int kind;
    double p, correction;
    bool take_sqrt, int_acc;
    int in_dtype, out_dtype;
    char *in, *out, *idx_out;
    int outer_ndim, inner_ndim;
    int64_t nout, ninner, inner_out;
    int64_t outer_shape[CT__CUDA_RED_DIMS], outer_in[CT__CUDA_RED_DIMS], outer_out[CT__CUDA_RED_DIMS],
        outer_idx[CT__CUDA_RED_DIMS];
    int64_t inner_shape[CT__CUDA_RED_DIMS], inner_in[CT__CUDA_RED_DIMS];
} ct__cuda_red;

#ifdef __cplusplus
extern "C" {
#endif
/* Bytes of device workspace ct__cuda_reduce needs for the plan (0: none). */
size_t ct__cuda_reduce_workspace(const ct__cuda_red *plan, int sm_count);
cudaError_t ct__cuda_reduce(const ct__cuda_red *plan, int sm_count, void *workspace, cudaStream_t stream);
/* cumsum / cumprod rows (softmax: softmax_cuda.h). */
cudaError_t ct__cuda_rows(const ct__cuda_red *plan, int sm_count, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
#endif /* CTORCH_REDUCE_CUDA_H */
