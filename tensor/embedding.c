/* Embedding lookup and its weight gradient, without autograd (autograd/grad_norm.c records it).
 *
 * out[i..., :] = weight[indices[i...], :] for indices of any shape (int64 or int32) and weight
 * [num_embeddings, dim]. The gradient scatter-adds each row of grad into the weight row its index
 * names, except the padding row, which gets none; f16/bf16 gradients add up in f32.
 *
 * CPU: rows are copied with memcpy; the gradient adds rows in index order within fixed column
 * blocks (parallel over the blocks), so duplicates sum the same way for any thread count.
 * Other devices (CUDA): one take / accumulating put loop of the device's index kernels
 * (index_impl.h) over [indices..., dim], reading weight and grad through their strides; the
 * indices are bounds-checked on the device first (the CPU's message, the first bad index). */
#include "index_impl.h"
#include "iter_impl.h"

#include <string.h>

/* Resolves padding_idx as documented in nn_functional.h: -1 is none, other negatives count from the
 * end; returns false with PyTorch's message when out of range. */
bool ct__embedding_padding_idx(const char *op, int64_t num, int64_t *padding_idx) {
    int64_t p = *padding_idx;
    if (p == -1) return true;
    if (p >= num || p < -num) {
        ct_error(CT_ERR_INDEX, "%s: Padding_idx must be within num_embeddings", op);
        return false;
    }
    *padding_idx = p < 0 ? p + num : p;
    return true;
}

static bool check_indices_dtype(const char *op, const ct_tensor *indices) {
    if (indices->dtype == CT_I64 || indices->dtype == CT_I32) return true;
    ct_error(CT_ERR_DTYPE,
             "%s: Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
             "but got %s instead (while checking arguments for embedding)",
             op, ct__torch_type_name(indices->dtype));
    return false;
}

static void *out_of_range(const char *op, int64_t bad, int64_t num) {
    return ct_error(CT_ERR_INDEX, "%s: index out of range in self: index %lld is out of bounds for %lld embeddings", op,
                    (long long)bad, (long long)num);
}

/* CPU: the indices as a contiguous int64 buffer, each checked against [0, num). */
static const int64_t *checked_indices(const char *op, const ct_tensor *indices, int64_t num, int64_t *n) {
    ct_tensor *ic = ct__contiguous_as(indices, CT_I64);
    if (!ic) return NULL;
    const int64_t *idx = (const int64_t *)ct__data(ic);
    *n = ct__numel(indices->shape, indices->ndim);
    for (int64_t i = 0; i < *n; i++)
        if (idx[i] < 0 || idx[i] >= num) return out_of_range(op, idx[i], num);
    return idx;
}

/* Other devices: the device's index kernels for weight, after their bounds check of the indices
 * (the first bad one in row-major order, as the CPU names it). */
static const ct_index_kernels *checked_device(const char *op, const ct_tensor *indices, const ct_tensor *on,
                                              int64_t num) {
    const ct_index_kernels *k = ct__index_kernels(op, on);
    int64_t bad;
    if (!k) return NULL;
    if (!k->check_bounds(indices, num, false, &bad)) return out_of_range(op, bad, num);
    return k;
}

/* The take/put loop (index_impl.h) over [indices..., dim] on other devices: the index varies
 * along the indices' dims (stride 0 along the last), the weight row along the last dim; the
 * caller sets the data operands and step (the row stride of the weight side). */
static ct_index_loop rows_loop(const ct_tensor *indices, int64_t dim, ct_dtype dtype) {
    ct_index_loop l = {.ndim = indices->ndim + 1, .dtype = dtype, .idx_dtype = indices->dtype};
    memcpy(l.shape, indices->shape, (size_t)indices->ndim * sizeof *l.shape);
    l.shape[indices->ndim] = dim;
    l.idx.data = ct__data(indices);
    memcpy(l.idx.stride, indices->stride, (size_t)indices->ndim * sizeof *l.idx.stride);
    return l;
}

/* The output shape [indices..., dim], or false when it would have too many dims. */
static bool rows_shape(const char *op, const ct_tensor *indices, int64_t dim, int64_t *shape) {
    if (indices->ndim + 1 > CT_MAX_DIMS) {
        ct_error(CT_ERR_SHAPE, "%s: the output would have more than %d dims", op, CT_MAX_DIMS);
        return false;
    }
    memcpy(shape, indices->shape, (size_t)indices->ndim * sizeof *shape);
    shape[indices->ndim] = dim;
    return true;
}

static ct_tensor *embedding_cpu(const char *op, const ct_tensor *indices, const ct_tensor *weight,
                                const int64_t *shape) {
    ct_tensor *out = NULL;
    CT_SCOPE {
        int64_t n, num = weight->shape[0];
        const int64_t *idx = checked_indices(op, indices, num, &n);
        ct_tensor *wc = idx ? ct__contiguous_as(weight, weight->dtype) : NULL;
        if (!wc || !(out = ct__tensor_new(shape, indices->ndim + 1, weight->dtype, CT_CPU))) break;
        size_t row = (size_t)weight->shape[1] * ct_dtype_size(weight->dtype);
        const char *src = ct__data(wc);
        char *dst = ct__data(out);
#pragma omp parallel for num_threads(n * weight->shape[1] > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
        for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * row, src + (size_t)idx[i] * row, row);
        ct_keep(out);
    }
    return out;
}

/* One take loop reading the weight through its strides: no copies of either operand. */
static ct_tensor *embedding_device(const char *op, const ct_tensor *indices, const ct_tensor *weight,
                                   const int64_t *shape) {
    const ct_index_kernels *k = checked_device(op, indices, weight, weight->shape[0]);
    if (!k) return NULL;
    ct_tensor *out = ct__tensor_new(shape, indices->ndim + 1, weight->dtype, ct__device(weight));
    if (!out) return NULL;
    ct_index_loop l = rows_loop(indices, weight->shape[1], weight->dtype);
    l.out.data = ct__data(out);
    ct__contiguous_strides(l.shape, l.ndim, l.out.stride);
    l.src.data = ct__data(weight);
    l.src.stride[indices->ndim] = weight->stride[1];
    l.step = weight->stride[0];
    return ct__numel(l.shape, l.ndim) == 0 || k->take(&l) ? out : NULL;
}

ct_tensor *ct__embedding(const ct_tensor *indices, const ct_tensor *weight, int64_t padding_idx) {
    const char *op = "embedding";
    if (!CT__CHECK(op, indices, weight)) return NULL;
    if (!ct__check_same_device(op, 2, (const ct_tensor *const[]){indices, weight})) return NULL;
    if (weight->ndim != 2) return ct_error(CT_ERR_SHAPE, "%s: 'weight' must be 2-D", op);
    if (!check_indices_dtype(op, indices) || !ct__embedding_padding_idx(op, weight->shape[0], &padding_idx))
        return NULL;
    int64_t shape[CT_MAX_DIMS];
    if (!rows_shape(op, indices, weight->shape[1], shape)) return NULL;
    return ct__is_cpu(weight) ? embedding_cpu(op, indices, weight, shape) : embedding_device(op, indices, weight, shape);
}

/* grad_weight[idx[i], c] += g[i, c] for columns [c0, c1), rows in index order. */
#define SCATTER_ROWS(T)                                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                                      \
        if (idx[i] == padding_idx) continue;                                                               \
        const T *gr = (const T *)g + i * dim;                                                              \
        T *wr = (T *)gw + idx[i] * dim;                                                                    \
        for (int64_t c = c0; c < c1; c++) wr[c] += gr[c];                                                  \
    }

/* gw (zeroed [num, dim] of cdt) += rows of grad, in parallel over fixed column blocks. */
static bool embedding_backward_cpu(const char *op, const ct_tensor *grad, const ct_tensor *indices, ct_tensor *gwt,
                                   int64_t padding_idx) {
    bool ok = false;
    CT_SCOPE {
        int64_t n, dim = gwt->shape[1];
        const int64_t *idx = checked_indices(op, indices, gwt->shape[0], &n);
        ct_tensor *gc = idx ? ct__contiguous_as(grad, gwt->dtype) : NULL;
        if (!gc) break;
        memset(ct__data(gwt), 0, (size_t)(gwt->shape[0] * dim) * ct_dtype_size(gwt->dtype));
        const char *g = ct__data(gc);
        char *gw = ct__data(gwt);
        const int64_t block = 64, nblocks = (dim + block - 1) / block;
#pragma omp parallel for num_threads(n * dim > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
        for (int64_t bk = 0; bk < nblocks; bk++) {
            int64_t c0 = bk * block, c1 = c0 + block < dim ? c0 + block : dim;
            if (gwt->dtype == CT_F64) {
                SCATTER_ROWS(double)
            } else {
                SCATTER_ROWS(float)
            }
        }
        ok = true;
    }
    return ok;
}

/* One accumulating put loop into the zeroed gradient (duplicates add atomically on CUDA, so the
 * order of their additions is not fixed), reading grad through its strides; then the padding row
 * is zeroed again. */
static bool embedding_backward_device(const char *op, const ct_tensor *grad, const ct_tensor *indices,
                                      ct_tensor *gwt, int64_t padding_idx) {
    const ct_index_kernels *k = checked_device(op, indices, grad, gwt->shape[0]);
    if (!k) return false;
    bool ok = false;
    CT_SCOPE {
        const ct_tensor *g = grad->dtype == gwt->dtype ? grad : ct__to_dtype(grad, gwt->dtype);
        if (!g || !ct__zero_(gwt)) break;
        ct_index_loop l = rows_loop(indices, gwt->shape[1], gwt->dtype);
        l.out.data = ct__data(gwt);
        l.out.stride[indices->ndim] = 1;
        l.step = gwt->shape[1];
        l.src.data = ct__data(g);
        memcpy(l.src.stride, g->stride, (size_t)g->ndim * sizeof *l.src.stride);
        ok = (ct__numel(l.shape, l.ndim) == 0 || k->put(&l, true)) &&
             (padding_idx < 0 || ct__zero_(ct__select(gwt, 0, padding_idx)));
    }
    return ok;
}

ct_tensor *ct__embedding_backward(const ct_tensor *grad, const ct_tensor *indices, int64_t num_weights,
                                  int64_t padding_idx) {
    const char *op = "embedding_backward";
    if (!CT__CHECK(op, grad, indices) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){grad, indices}))
        return NULL;
    if (!check_indices_dtype(op, indices)) return NULL;
    int64_t dim = grad->ndim ? grad->shape[grad->ndim - 1] : 1, shape[CT_MAX_DIMS];
    if (!rows_shape(op, indices, dim, shape)) return NULL;
    if (!ct__same_shape(grad->shape, grad->ndim, shape, indices->ndim + 1))
        return ct_error(CT_ERR_SHAPE, "%s: grad of shape %s does not match indices of shape %s plus the embedding dim",
                        op, ct__shape_str(grad->shape, grad->ndim), ct__shape_str(indices->shape, indices->ndim));
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_dtype cdt = grad->dtype == CT_F64 ? CT_F64 : CT_F32; /* f16/bf16 add up in f32 */
        ct_tensor *gwt = ct__tensor_new((const int64_t[]){num_weights, dim}, 2, cdt, ct__device(grad));
        if (!gwt || !(ct__is_cpu(grad) ? embedding_backward_cpu(op, grad, indices, gwt, padding_idx)
                                       : embedding_backward_device(op, grad, indices, gwt, padding_idx)))
            break;
        out = cdt == grad->dtype ? gwt : ct__to_dtype(gwt, grad->dtype);
        if (out) ct_keep(out);
    }
    return out;
}
