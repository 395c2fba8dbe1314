/* The launch interface of the flash-attention kernels (attention_cuda.cu), plain C/C++ so the .cu
 * and its C glue (attention_cuda.c) share it. Every tensor is contiguous: q and o [BH, L, E], k
 * and v [BH, S, E], lse and delta [BH, L] float32, the gradients like their inputs. */
#ifndef CTORCH_ATTENTION_CUDA_H
#define CTORCH_ATTENTION_CUDA_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types of q, k, v (math in float32 always). */
typedef enum { CT__FA_F32, CT__FA_F16, CT__FA_BF16 } ct__fa_dtype;
/* The largest head dim the kernels take, and the tile limits of the grid. */
#define CT__FA_MAX_HEAD_DIM 128
#define CT__FA_TILE 32
#define CT__FA_MAX_TILES 65535

typedef struct ct__fa_shape {
    int64_t bh, l, s; /* batch x heads, query rows, key rows */
    int e;            /* head dim, 1..CT__FA_MAX_HEAD_DIM */
    float scale;
    int causal; /* mask key j > query i */
} ct__fa_shape;

/* o = softmax(scale q k^T [masked]) v and lse = the logsumexp of each row of scale q k^T. */
cudaError_t ct__cuda_flash_fwd(ct__fa_dtype dtype, ct__fa_shape sh, const void *q, const void *k, const void *v,
                               void *o, float *lse, cudaStream_t stream);
/* dq, dk, dv from dout, recomputing P from lse. delta ([BH, L]) and dq_acc ([BH, L, E]) are float32
 * workspaces. */
cudaError_t ct__cuda_flash_bwd(ct__fa_dtype dtype, ct__fa_shape sh, const void *q, const void *k, const void *v,
                               const void *o, const void *dout, const float *lse, float *delta, float *dq_acc,
                               void *dq, void *dk, void *dv, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_ATTENTION_CUDA_H */
