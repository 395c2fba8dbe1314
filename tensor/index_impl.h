/* Indexing kernels (gather, scatter, index_select, advanced indexing, nonzero) behind one table per
 * device type. The ops in index_ops.c and advanced_index.c validate and lay out the operands; every
 * data access reduces to two strided loops over a "loop shape":
 *   take: out[i] = src[i + idx[i] * step]            (gather, index_select, t[indices])
 *   put:  dst[i + idx[i] * step] = (or +=) src[i]     (scatter, scatter_add, index_put_)
 * where src (take) or dst (put) has stride 0 along the indexed dims, so idx alone picks the element
 * there. Strides are in elements; step is in elements of the data. */
#ifndef CTORCH_INDEX_IMPL_H
#define CTORCH_INDEX_IMPL_H

#include "tensor_impl.h"

typedef struct ct_index_operand {
    char *data; /* element [0, ..., 0] */
    int64_t stride[CT_MAX_DIMS];
} ct_index_operand;

typedef struct ct_index_loop {
    int ndim;
    int64_t shape[CT_MAX_DIMS];
    ct_index_operand out; /* take: output; put: destination */
    ct_index_operand src; /* take: source with stride 0 on indexed dims; put: values */
    ct_index_operand idx;
    ct_dtype dtype;     /* of out and src */
    ct_dtype idx_dtype; /* CT_I32 or CT_I64 */
    int64_t step;
} ct_index_loop;

typedef struct ct_index_kernels {
    /* Parallel gather along the loop; indices are already known to be in range. False with a ct
     * error when the device failed (take and put). */
    bool (*take)(const ct_index_loop *l);
    /* Serial on the CPU (so duplicates resolve the same way on any thread count): the last write
     * wins, or every duplicate adds with accumulate. */
    bool (*put)(const ct_index_loop *l, bool accumulate);
    /* True when every value v of idx (int32/int64) lies in [-size, size) (wrap) or [0, size);
     * otherwise false with *bad the first offending value in row-major order. */
    bool (*check_bounds)(const ct_tensor *idx, int64_t size, bool wrap, int64_t *bad);
    /* offsets (contiguous int64 of shape `shape`) += wrap(idx broadcast to shape) * stride, for one
     * advanced index of a dim with `size` entries. False with *bad as check_bounds. */
    bool (*add_offsets)(ct_tensor *offsets, const ct_tensor *idx, int64_t size, int64_t stride, int64_t *bad);
    /* int64 (n, ndim) coordinates of the non-zero elements of t in row-major order. */
    ct_tensor *(*nonzero)(const ct_tensor *t);
} ct_index_kernels;

extern const ct_index_kernels ct__cpu_index_kernels;
#ifdef CT_HAVE_CUDA
extern const ct_index_kernels ct__cuda_index_kernels;
#endif

/* The kernels for t's device, or NULL with CT_ERR_UNSUPPORTED "<op>: not implemented for <dev> yet". */
const ct_index_kernels *ct__index_kernels(const char *op, const ct_tensor *t);

#endif /* CTORCH_INDEX_IMPL_H */
