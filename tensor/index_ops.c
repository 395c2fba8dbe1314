/* index_select, gather and the scatter family: validation with PyTorch's messages, then one take
 * or put loop (index_impl.h) whose source or destination has stride 0 along `dim`. */
#include "index_impl.h"

#include <string.h>

static const ct_index_kernels *const kernel_tables[CT_DEVICE_CUDA + 1] = {
    [CT_DEVICE_CPU] = &ct__cpu_index_kernels,
#ifdef CT_HAVE_CUDA
    [CT_DEVICE_CUDA] = &ct__cuda_index_kernels,
#endif
};

const ct_index_kernels *ct__index_kernels(const char *op, const ct_tensor *t) {
    ct_device dev = ct__device(t);
    const ct_index_kernels *k = kernel_tables[dev.type];
    if (!k) ct__no_kernel(op, dev);
    return k;
}

/* Shape and strides with 0-d tensors seen as one element of 1-D, as PyTorch's gather/scatter do. */
typedef struct meta1 {
    int ndim;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
} meta1;

static meta1 meta_1d(const ct_tensor *t) {
    meta1 m = {.ndim = t->ndim ? t->ndim : 1, .shape = {1}, .stride = {0}};
    if (t->ndim) {
        memcpy(m.shape, t->shape, (size_t)t->ndim * sizeof *m.shape);
        memcpy(m.stride, t->stride, (size_t)t->ndim * sizeof *m.stride);
    }
    return m;
}

static bool check_index_bounds(const char *op, const ct_index_kernels *k, const ct_tensor *index, int dim,
                               int64_t size) {
    int64_t bad;
    if (k->check_bounds(index, size, false, &bad)) return true;
    ct_error(CT_ERR_INDEX, "%s: index %lld is out of bounds for dimension %d with size %lld", op, (long long)bad, dim,
             (long long)size);
    return false;
}

ct_tensor *ct__index_select(const ct_tensor *t, int dim, const ct_tensor *index) {
    const char *op = "index_select";
    if (!CT__CHECK(op, t, index) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){t, index})) return NULL;
    if ((dim = ct__wrap_dim(op, dim, t->ndim)) < 0) return NULL;
    if (index->ndim > 1) return ct_error(CT_ERR_SHAPE, "index_select(): Index is supposed to be a vector");
    if (index->dtype != CT_I32 && index->dtype != CT_I64)
        return ct_error(CT_ERR_DTYPE, "index_select(): Expected dtype int32 or int64 for index");
    int64_t n = ct__numel(index->shape, index->ndim);
    if (t->ndim == 0 && n != 1)
        return ct_error(CT_ERR_SHAPE, "index_select(): Index to scalar can have only 1 value, got %lld value(s)",
                        (long long)n);
    const ct_index_kernels *k = ct__index_kernels(op, t);
    meta1 src = meta_1d(t);
    if (!k || !check_index_bounds(op, k, index, dim, src.shape[dim])) return NULL;

    int64_t out_shape[CT_MAX_DIMS];
    memcpy(out_shape, t->shape, sizeof out_shape);
    if (t->ndim) out_shape[dim] = n;
    ct_tensor *out = ct__tensor_new(out_shape, t->ndim, t->dtype, ct__device(t));
    if (!out) return NULL;
    meta1 o = meta_1d(out);
    ct_index_loop l = {.ndim = o.ndim, .dtype = t->dtype, .idx_dtype = index->dtype, .step = src.stride[dim]};
    memcpy(l.shape, o.shape, sizeof l.shape);
    l.out = (ct_index_operand){.data = ct__data(out)};
    memcpy(l.out.stride, o.stride, sizeof l.out.stride);
    l.src = (ct_index_operand){.data = ct__data(t)};
    memcpy(l.src.stride, src.stride, sizeof l.src.stride);
    l.src.stride[dim] = 0;
    l.idx = (ct_index_operand){.data = ct__data(index)}; /* varies along dim only */
    l.idx.stride[dim] = index->ndim ? index->stride[0] : 0;
    return ct__numel(o.shape, o.ndim) == 0 || k->take(&l) ? out : NULL;
}

ct_tensor *ct__gather(const ct_tensor *t, int dim, const ct_tensor *index) {
    const char *op = "gather";
    if (!CT__CHECK(op, t, index) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){t, index})) return NULL;
    if ((dim = ct__wrap_dim(op, dim, t->ndim)) < 0) return NULL;
    if (index->dtype != CT_I64) return ct_error(CT_ERR_DTYPE, "gather(): Expected dtype int64 for index");
    meta1 src = meta_1d(t), idx = meta_1d(index);
    if (src.ndim != idx.ndim)
        return ct_error(CT_ERR_SHAPE, "gather(): Index tensor must have the same number of dimensions as input tensor");
    int64_t n = ct__numel(index->shape, index->ndim);
    for (int d = 0; d < src.ndim && n > 0; d++)
        if (d != dim && idx.shape[d] > src.shape[d])
            return ct_error(
                CT_ERR_SHAPE,
                "gather(): Size does not match at dimension %d expected index %s to be smaller than self %s "
                "apart from dimension %d",
                d, ct__shape_str(index->shape, index->ndim), ct__shape_str(t->shape, t->ndim), dim);
    const ct_index_kernels *k = ct__index_kernels(op, t);
    if (!k || !check_index_bounds(op, k, index, dim, src.shape[dim])) return NULL;

    ct_tensor *out = ct__tensor_new(index->shape, index->ndim, t->dtype, ct__device(t));
    if (!out || n == 0) return out;
    ct_index_loop l = {.ndim = idx.ndim, .dtype = t->dtype, .idx_dtype = CT_I64, .step = src.stride[dim]};
    memcpy(l.shape, idx.shape, sizeof l.shape);
    l.out.data = ct__data(out);
    ct__contiguous_strides(idx.shape, idx.ndim, l.out.stride);
    l.src.data = ct__data(t);
    memcpy(l.src.stride, src.stride, sizeof l.src.stride);
    l.src.stride[dim] = 0;
    l.idx.data = ct__data(index);
    memcpy(l.idx.stride, idx.stride, sizeof l.idx.stride);
    return k->take(&l) ? out : NULL;
}

/* t[..., index[i], ...] (+)= src[i] along dim, over index's shape; src NULL scatters `value`. */
static ct_tensor *scatter_into(const char *op, ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src,
                               double value, bool add) {
    const ct_tensor *operands[3] = {t, index, src};
    int nops = src ? 3 : 2;
    if (!ct__check_not_null(op, nops, operands) || !ct__check_same_device(op, nops, operands)) return NULL;
    if ((dim = ct__wrap_dim(op, dim, t->ndim)) < 0) return NULL;
    if (index->dtype != CT_I64) return ct_error(CT_ERR_DTYPE, "%s(): Expected dtype int64 for index", op);
    if (src && src->dtype != t->dtype)
        return ct_error(CT_ERR_DTYPE, "%s(): Expected self.dtype to be equal to src.dtype", op);
    meta1 self = meta_1d(t), idx = meta_1d(index), from = src ? meta_1d(src) : (meta1){0};
    if (self.ndim != idx.ndim)
        return ct_error(CT_ERR_SHAPE, "%s(): Index tensor must have the same number of dimensions as self tensor", op);
    if (src && from.ndim != idx.ndim)
        return ct_error(CT_ERR_SHAPE, "%s(): Index tensor must have the same number of dimensions as src tensor", op);
    int64_t n = ct__numel(index->shape, index->ndim);
    for (int d = 0; d < self.ndim && n > 0; d++) {
        if ((d != dim && idx.shape[d] > self.shape[d]) || (src && idx.shape[d] > from.shape[d])) {
            if (src)
                return ct_error(CT_ERR_SHAPE,
                                "%s(): Expected index %s to be smaller than self %s apart from dimension %d and to be "
                                "smaller size than src %s",
                                op, ct__shape_str(index->shape, index->ndim), ct__shape_str(t->shape, t->ndim), dim,
                                ct__shape_str(src->shape, src->ndim));
            return ct_error(CT_ERR_SHAPE, "%s(): Expected index %s to be smaller than self %s apart from dimension %d",
                            op, ct__shape_str(index->shape, index->ndim), ct__shape_str(t->shape, t->ndim), dim);
        }
    }
    const ct_index_kernels *k = ct__index_kernels(op, t);
    if (!k || !check_index_bounds(op, k, index, dim, self.shape[dim])) return NULL;
    if (n == 0) return t;

    bool ok = false;
    ct_scope_begin();
    do {
        if (src && ct_shares_storage(src, t)) src = ct_clone(src); /* reads must see the old values */
        ct_tensor *fill = NULL;
        if (!src) {
            fill = ct__tensor_new((const int64_t[]){1}, 0, t->dtype, CT_CPU);
            if (!fill) break;
            ct__store_f64(ct__data(fill), t->dtype, value);
            if (!ct__is_cpu(t) && !(fill = ct_to(fill, ct__device(t)))) break;
        }
        ct_index_loop l = {.ndim = idx.ndim, .dtype = t->dtype, .idx_dtype = CT_I64, .step = self.stride[dim]};
        memcpy(l.shape, idx.shape, sizeof l.shape);
        l.out.data = ct__data(t);
        memcpy(l.out.stride, self.stride, sizeof l.out.stride);
        l.out.stride[dim] = 0;
        l.idx.data = ct__data(index);
        memcpy(l.idx.stride, idx.stride, sizeof l.idx.stride);
        l.src.data = ct__data(src ? src : fill); /* a value broadcasts with stride 0 */
        if (src) memcpy(l.src.stride, from.stride, sizeof l.src.stride);
        ok = k->put(&l, add);
    } while (0);
    ct_scope_end();
    if (!ok) return NULL;
    ct__bump_version(t);
    return t;
}

/* Out of place: a copy of t, then the in-place scatter; the copy stays in an inner scope until it
 * succeeds. */
static ct_tensor *scatter_copy(const char *op, const ct_tensor *t, int dim, const ct_tensor *index,
                               const ct_tensor *src, double value, bool add, bool has_src) {
    if (has_src ? !CT__CHECK(op, t, index, src) : !CT__CHECK(op, t, index)) return NULL;
    ct_scope_begin();
    ct_tensor *out = ct_clone(t);
    if (out) out = ct_keep(scatter_into(op, out, dim, index, src, value, add));
    ct_scope_end();
    return out;
}

ct_tensor *ct__scatter_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!CT__CHECK("scatter", t, index, src) || !ct__check_writable("scatter_", t)) return NULL;
    return scatter_into("scatter", t, dim, index, src, 0, false);
}

ct_tensor *ct__scatter_add_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!CT__CHECK("scatter_add", t, index, src) || !ct__check_writable("scatter_add_", t)) return NULL;
    return scatter_into("scatter_add", t, dim, index, src, 0, true);
}

ct_tensor *ct__scatter(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    return scatter_copy("scatter", t, dim, index, src, 0, false, true);
}

ct_tensor *ct__scatter_value(const ct_tensor *t, int dim, const ct_tensor *index, double value) {
    return scatter_copy("scatter", t, dim, index, NULL, value, false, false);
}

ct_tensor *ct__scatter_add(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    return scatter_copy("scatter_add", t, dim, index, src, 0, true, true);
}
