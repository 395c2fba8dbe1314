/* The strided iterator: see iter_impl.h for the idea. */
#include "iter_impl.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Should dim a (currently inner) move outside dim b? Decided by the first operand where both
 * strides are non-zero and differ; broadcast (0) strides carry no layout information. */
static bool should_swap(const ct_iter *it, int a, int b) {
    for (int k = 0; k < it->nops; k++) {
        int64_t sa = it->strides[k][a], sb = it->strides[k][b];
        if (sa == 0 || sb == 0 || sa == sb) continue;
        return sa > sb;
    }
    return false;
}

static void coalesce(ct_iter *it) {
    /* Reorder: insertion sort so strides grow from dim 0 outward. */
    for (int i = 1; i < it->ndim; i++) {
        for (int j = i; j > 0 && should_swap(it, j - 1, j); j--) {
            int64_t t = it->shape[j];
            it->shape[j] = it->shape[j - 1];
            it->shape[j - 1] = t;
            for (int k = 0; k < it->nops; k++) {
                t = it->strides[k][j];
                it->strides[k][j] = it->strides[k][j - 1];
                it->strides[k][j - 1] = t;
            }
        }
    }
    /* Drop size-1 dims, then merge dim d+1 into d where every operand steps through both as one. */
    int n = 0;
    for (int d = 0; d < it->ndim; d++) {
        if (it->shape[d] == 1) continue;
        if (n > 0) {
            bool mergeable = true;
            for (int k = 0; k < it->nops && mergeable; k++)
                mergeable = it->strides[k][d] == it->shape[n - 1] * it->strides[k][n - 1];
            if (mergeable) {
                it->shape[n - 1] *= it->shape[d];
                continue;
            }
        }
        it->shape[n] = it->shape[d];
        for (int k = 0; k < it->nops; k++) it->strides[k][n] = it->strides[k][d];
        n++;
    }
    it->ndim = n;
}

void ct_iter_init_raw(ct_iter *it, int nops, char *const *data, const int64_t *const *stride,
                      const size_t *elem_size, const int64_t *shape, int ndim) {
    it->nops = nops;
    it->ndim = ndim;
    it->numel = 1;
    for (int d = 0; d < ndim; d++) {
        /* Store innermost first. */
        it->shape[d] = shape[ndim - 1 - d];
        it->numel *= shape[ndim - 1 - d];
        for (int k = 0; k < nops; k++) it->strides[k][d] = stride[k][ndim - 1 - d] * (int64_t)elem_size[k];
    }
    for (int k = 0; k < nops; k++) it->data[k] = data[k];
    if (it->numel == 0) {
        it->ndim = 0;
        return;
    }
    coalesce(it);
}

void ct_iter_init(ct_iter *it, int nops, const ct_tensor *const *ops, const ct_shape *shape) {
    char *data[CT_ITER_MAX_OPS];
    int64_t strides[CT_ITER_MAX_OPS][CT_MAX_DIMS];
    const int64_t *stride_ptrs[CT_ITER_MAX_OPS];
    size_t sizes[CT_ITER_MAX_OPS];
    for (int k = 0; k < nops; k++) {
        data[k] = ct__data(ops[k]);
        ct__broadcast_strides(ops[k], shape, strides[k]);
        stride_ptrs[k] = strides[k];
        sizes[k] = ct_dtype_size(ops[k]->dtype);
    }
    ct_iter_init_raw(it, nops, data, stride_ptrs, sizes, shape->d, shape->ndim);
}

void ct_iter_run_range(const ct_iter *it, ct_loop_fn loop, void *ctx, int64_t begin, int64_t end) {
    int64_t inner[CT_ITER_MAX_OPS] = {0};
    char *ptr[CT_ITER_MAX_OPS];
    if (it->ndim == 0) { /* a single element (or nothing) */
        if (begin < end) {
            memcpy(ptr, it->data, sizeof ptr);
            loop(ptr, inner, end - begin, ctx);
        }
        return;
    }
    for (int k = 0; k < it->nops; k++) inner[k] = it->strides[k][0];
    int64_t idx[CT_MAX_DIMS];
    int64_t rem = begin;
    for (int d = 0; d < it->ndim; d++) {
        idx[d] = rem % it->shape[d];
        rem /= it->shape[d];
    }
    int64_t pos = begin;
    while (pos < end) {
        for (int k = 0; k < it->nops; k++) {
            int64_t off = 0;
            for (int d = 0; d < it->ndim; d++) off += idx[d] * it->strides[k][d];
            ptr[k] = it->data[k] + off;
        }
        int64_t n = it->shape[0] - idx[0];
        if (n > end - pos) n = end - pos;
        loop(ptr, inner, n, ctx);
        pos += n;
        idx[0] += n;
        for (int d = 0; d + 1 < it->ndim && idx[d] == it->shape[d]; d++) {
            idx[d] = 0;
            idx[d + 1]++;
        }
    }
}

void ct_iter_run(const ct_iter *it, ct_loop_fn loop, void *ctx, int64_t grain) {
    if (grain <= 0) grain = CT_GRAIN_SIZE;
    int64_t numel = it->numel;
    if (numel == 0) return;
    int threads = ct__num_threads();
    if (numel <= grain || threads <= 1) {
        ct_iter_run_range(it, loop, ctx, 0, numel);
        return;
    }
    int64_t max_chunks = (numel + grain - 1) / grain;
    int nchunks = (int)(max_chunks < threads ? max_chunks : threads);
#pragma omp parallel for num_threads(nchunks) schedule(static, 1)
    for (int c = 0; c < nchunks; c++) {
        int64_t begin = numel * c / nchunks, end = numel * (c + 1) / nchunks;
        ct_iter_run_range(it, loop, ctx, begin, end);
    }
}
