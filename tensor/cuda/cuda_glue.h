/* C-side helpers for the glue files of tensor/cuda/ (compiled as C: may see ct_tensor and the
 * C11 atomics): the iterator handed to kernels, and the device copies other ops use. */
#ifndef CTORCH_CUDA_GLUE_H
#define CTORCH_CUDA_GLUE_H

#include "../iter_impl.h"
#include "cuda_impl.h"
#include "elementwise_cuda.h"

#include <string.h>

_Static_assert(CT_CUDA_MAX_DIMS == CT_MAX_DIMS, "iter_cuda.h mirrors CT_MAX_DIMS");
_Static_assert(CT_CUDA_MAX_OPS == CT_ITER_MAX_OPS, "iter_cuda.h mirrors CT_ITER_MAX_OPS");

/* The kernels' copy of a built iterator (same layout, see iter_cuda.h). */
static inline void ct__cuda_iter_from(ct_cuda_iter *dst, const ct_iter *it) {
    memset(dst, 0, sizeof *dst);
    dst->nops = it->nops;
    dst->ndim = it->ndim;
    dst->numel = it->numel;
    memcpy(dst->shape, it->shape, sizeof dst->shape);
    memcpy(dst->strides, it->strides, sizeof dst->strides);
    for (int k = 0; k < it->nops; k++) dst->data[k] = it->data[k];
}

/* dst = src (broadcast to dst's shape, converted to dst's dtype), both on the same CUDA device;
 * false with the error recorded. */
bool ct__cuda_copy_tensors(const char *op, ct_tensor *dst, const ct_tensor *src);

#endif /* CTORCH_CUDA_GLUE_H */
