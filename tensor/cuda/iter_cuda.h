/* The strided iterator as CUDA kernels receive it: a plain copy of ct_iter (iter_impl.h) that C
 * glue fills and .cu launchers read. Neutral C/C++ like cuda_impl.h: no ct_tensor here.
 *
 * Layout (as ct_iter): dim 0 is the innermost, strides are in bytes, operand 0 is the output.
 * The iterator has already dropped size-1 dims and merged dims that are contiguous together in
 * every operand, so a dense op arrives as ndim == 1 with strides equal to the element sizes. */
#ifndef CTORCH_ITER_CUDA_H
#define CTORCH_ITER_CUDA_H

#include <stdint.h>

#define CT_CUDA_MAX_DIMS 16 /* == CT_MAX_DIMS; the glue checks it */
#define CT_CUDA_MAX_OPS 4   /* == CT_ITER_MAX_OPS */

typedef struct ct_cuda_iter {
    int nops;
    int ndim;
    int64_t numel;
    int64_t shape[CT_CUDA_MAX_DIMS];
    int64_t strides[CT_CUDA_MAX_OPS][CT_CUDA_MAX_DIMS];
    char *data[CT_CUDA_MAX_OPS];
} ct_cuda_iter;

#endif /* CTORCH_ITER_CUDA_H */
