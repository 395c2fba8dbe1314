/* The strided iterator (PyTorch's TensorIterator idea, DESIGN §3).
 *
 * Operands share one logical shape (inputs already broadcast: stride 0 on stretched dims). The
 * iterator orders dims so that the first operand's strides grow outward, drops size-1 dims and
 * merges neighbouring dims that are contiguous together in every operand, then hands a kernel flat
 * inner loops: loop(data, strides, n) with byte strides, one per operand. An add of two contiguous
 * tensors thus becomes a single loop over all elements, which the compiler vectorizes. Large
 * iterations are split over OpenMP threads along the flattened index space. */
#ifndef CTORCH_ITER_IMPL_H
#define CTORCH_ITER_IMPL_H

#include "tensor_impl.h"

#define CT_ITER_MAX_OPS 4
/* Elements below which a loop stays on one thread (PyTorch's at::internal::GRAIN_SIZE). */
#define CT_GRAIN_SIZE 32768

typedef struct ct_iter {
    int nops;
    int ndim; /* after coalescing; dim 0 is the innermost */
    int64_t numel;
    int64_t shape[CT_MAX_DIMS];
    int64_t strides[CT_ITER_MAX_OPS][CT_MAX_DIMS]; /* bytes */
    char *data[CT_ITER_MAX_OPS];
} ct_iter;

/* The inner loop: n elements; data[k] advances by strides[k] bytes per element. */
typedef void (*ct_loop_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

/* Builds the iteration over tensors broadcast to `shape`; operand 0 is normally the output. */
void ct_iter_init(ct_iter *it, int nops, const ct_tensor *const *ops, const ct_shape *shape);
/* Same from raw operands: data pointers, element strides (per logical dim), element sizes. */
void ct_iter_init_raw(ct_iter *it, int nops, char *const *data, const int64_t *const *stride,
                      const size_t *elem_size, const int64_t *shape, int ndim);
/* Runs loop over everything, on several threads when numel > grain (grain <= 0: default). */
void ct_iter_run(const ct_iter *it, ct_loop_fn loop, void *ctx, int64_t grain);
/* Runs loop over the flattened index range [begin, end) on the calling thread. */
void ct_iter_run_range(const ct_iter *it, ct_loop_fn loop, void *ctx, int64_t begin, int64_t end);
/* True when every operand's inner stride equals its element size (a dense inner loop). */
static inline bool ct_iter_inner_dense(const int64_t *strides, int nops, const size_t *elem_size) {
    for (int k = 0; k < nops; k++)
        if (strides[k] != (int64_t)elem_size[k]) return false;
    return true;
}

#endif /* CTORCH_ITER_IMPL_H */
