/* Embedding lookup and its weight gradient, without autograd (autograd/grad_norm.c records it).
 *
 * out[i..., :] = weight[indices[i...], :] for indices of any shape (int64 or int32) and weight
 * [num_embeddings, dim]. The gradient scatter-adds each row of grad into the weight row its index
 * names, except the padding row, which gets none. Rows are added in index order within fixed
 * column blocks (parallel over the blocks), so duplicates sum the same way for any thread count. */
#include "iter_impl.h"

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

/* The indices as a contiguous int64 buffer, each checked against [0, num). */
static const int64_t *checked_indices(const char *op, const ct_tensor *indices, int64_t num, int64_t *n) {
    if (indices->dtype != CT_I64 && indices->dtype != CT_I32) {
        ct_error(CT_ERR_DTYPE,
                 "%s: Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
                 "but got %s instead (while checking arguments for embedding)",
                 op, ct__torch_type_name(indices->dtype));
        return NULL;
    }
    ct_tensor *ic = ct__contiguous_as(indices, CT_I64);
    if (!ic) return NULL;
    const int64_t *idx = (const int64_t *)ct__data(ic);
    *n = ct__numel(indices->shape, indices->ndim);
    for (int64_t i = 0; i < *n; i++)
        if (idx[i] < 0 || idx[i] >= num) {
            ct_error(CT_ERR_INDEX, "%s: index out of range in self: index %lld is out of bounds for %lld embeddings", op,
                     (long long)idx[i], (long long)num);
            return NULL;
        }
    return idx;
}

static bool check_weight(const char *op, const ct_tensor *weight) {
    if (weight->ndim != 2) {
        ct_error(CT_ERR_SHAPE, "%s: 'weight' must be 2-D", op);
        return false;
    }
    if (!ct__is_cpu(weight)) {
        ct__no_kernel(op, ct__device(weight));
        return false;
    }
    return true;
}

ct_tensor *ct__embedding(const ct_tensor *indices, const ct_tensor *weight, int64_t padding_idx) {
    const char *op = "embedding";
    if (!CT__CHECK(op, indices, weight)) return NULL;
    if (!ct__check_same_device(op, 2, (const ct_tensor *const[]){indices, weight})) return NULL;
    if (!check_weight(op, weight)) return NULL;
    int64_t num = weight->shape[0], dim = weight->shape[1];
    if (!ct__embedding_padding_idx(op, num, &padding_idx)) return NULL;
    ct_tensor *out = NULL;
    CT_SCOPE {
        int64_t n;
        const int64_t *idx = checked_indices(op, indices, num, &n);
        ct_tensor *wc = idx ? ct__contiguous_as(weight, weight->dtype) : NULL;
        if (!wc) break;
        int64_t shape[CT_MAX_DIMS + 1];
        if (indices->ndim + 1 > CT_MAX_DIMS) {
            ct_error(CT_ERR_SHAPE, "%s: the output would have more than %d dims", op, CT_MAX_DIMS);
            break;
        }
        memcpy(shape, indices->shape, (size_t)indices->ndim * sizeof *shape);
        shape[indices->ndim] = dim;
        if (!(out = ct__tensor_new(shape, indices->ndim + 1, weight->dtype, CT_CPU))) break;
        size_t row = (size_t)dim * ct_dtype_size(weight->dtype);
        const char *src = ct__data(wc);
        char *dst = ct__data(out);
#pragma omp parallel for num_threads(n * dim > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
        for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * row, src + (size_t)idx[i] * row, row);
        ct_keep(out);
    }
    return out;
}

/* grad_weight[idx[i], c] += g[i, c] for columns [c0, c1), rows in index order. */
#define SCATTER_ROWS(T)                                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                                      \
        if (idx[i] == padding_idx) continue;                                                               \
        const T *gr = (const T *)g + i * dim;                                                              \
        T *wr = (T *)gw + idx[i] * dim;                                                                    \
        for (int64_t c = c0; c < c1; c++) wr[c] += gr[c];                                                  \
    }

ct_tensor *ct__embedding_backward(const ct_tensor *grad, const ct_tensor *indices, int64_t num_weights,
                                  int64_t padding_idx) {
    const char *op = "embedding_backward";
    if (!CT__CHECK(op, grad, indices)) return NULL;
    if (!ct__is_cpu(grad)) return ct__no_kernel(op, ct__device(grad));
    int64_t dim = grad->ndim ? grad->shape[grad->ndim - 1] : 1;
    ct_tensor *out = NULL;
    CT_SCOPE {
        int64_t n;
        const int64_t *idx = checked_indices(op, indices, num_weights, &n);
        ct_dtype cdt = grad->dtype == CT_F64 ? CT_F64 : CT_F32;
        ct_tensor *gc = idx ? ct__contiguous_as(grad, cdt) : NULL;
        int64_t shape[2] = {num_weights, dim};
        ct_tensor *gwt = gc ? ct__tensor_new(shape, 2, cdt, CT_CPU) : NULL;
        if (!gwt) break;
        memset(ct__data(gwt), 0, (size_t)(num_weights * dim) * ct_dtype_size(cdt));
        const char *g = ct__data(gc);
        char *gw = ct__data(gwt);
        const int64_t block = 64, nblocks = (dim + block - 1) / block;
#pragma omp parallel for num_threads(n * dim > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
        for (int64_t bk = 0; bk < nblocks; bk++) {
            int64_t c0 = bk * block, c1 = c0 + block < dim ? c0 + block : dim;
            if (cdt == CT_F64) {
                SCATTER_ROWS(double)
            } else {
                SCATTER_ROWS(float)
            }
        }
        out = cdt == grad->dtype ? gwt : ct__to_dtype(gwt, grad->dtype);
        if (out) ct_keep(out);
    }
    return out;
}
