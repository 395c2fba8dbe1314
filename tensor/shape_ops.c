/* Joining and splitting: cat and stack copy their inputs into views of one output (ct__copy_into
 * does the work on any device, so no kernel of their own); split, chunk and unbind only make views. */
#include "tensor_impl.h"

#include <string.h>

/* PyTorch skips legacy empty tensors (1-D of size 0) in cat, whatever their "shape" elsewhere. */
static bool cat_skipped(const ct_tensor *t) { return t->ndim == 1 && t->shape[0] == 0; }

ct_tensor *ct__cat(ct_tensor_list tensors, int dim) {
    if (tensors.n <= 0 || !tensors.items) return ct_error(CT_ERR_ARG, "torch.cat(): expected a non-empty list of Tensors");
    if (!ct__check_not_null("cat", tensors.n, (const ct_tensor *const *)tensors.items)) return NULL;
    const ct_tensor *const *ts = (const ct_tensor *const *)tensors.items;
    if (!ct__check_same_device("cat", tensors.n, ts)) return NULL;
    for (int i = 0; i < tensors.n; i++)
        if (ts[i]->ndim == 0)
            return ct_error(CT_ERR_SHAPE, "cat: zero-dimensional tensor (at position %d) cannot be concatenated", i);
    /* The first non-skipped tensor fixes the shape; dim wraps against it. */
    int ref = -1;
    for (int i = 0; i < tensors.n && ref < 0; i++)
        if (!cat_skipped(ts[i])) ref = i;
    ct_dtype dtype = ct__result_type(tensors.n, ts);
    if (ref < 0) { /* all legacy-empty: the result is empty too */
        if (ct__wrap_dim("cat", dim, 1) < 0) return NULL;
        return ct__tensor_new((const int64_t[]){0}, 1, dtype, ct__device(ts[0]));
    }
    const ct_tensor *r = ts[ref];
    int d = ct__wrap_dim("cat", dim, r->ndim);
    if (d < 0) return NULL;
    int64_t shape[CT_MAX_DIMS];
    memcpy(shape, r->shape, sizeof shape);
    shape[d] = 0;
    for (int i = 0; i < tensors.n; i++) {
        const ct_tensor *t = ts[i];
        if (cat_skipped(t)) continue;
        if (t->ndim != r->ndim)
            return ct_error(CT_ERR_SHAPE, "cat: Tensors must have same number of dimensions: got %d and %d", r->ndim,
                            t->ndim);
        for (int k = 0; k < r->ndim; k++)
            if (k != d && t->shape[k] != r->shape[k])
                return ct_error(CT_ERR_SHAPE,
                                "cat: Sizes of tensors must match except in dimension %d. Expected size %lld but got "
                                "size %lld for tensor number %d in the list.",
                                d, (long long)r->shape[k], (long long)t->shape[k], i);
        shape[d] += t->shape[d];
    }
    ct_tensor *out = NULL;
    ct_scope_begin(); /* the narrow views are temporaries */
    ct_tensor *o = ct__tensor_new(shape, r->ndim, dtype, ct__device(r));
    bool ok = o != NULL;
    int64_t at = 0;
    for (int i = 0; ok && i < tensors.n; i++) {
        if (cat_skipped(ts[i]) || ts[i]->shape[d] == 0) continue;
        ct_tensor *part = ct_narrow(o, d, at, ts[i]->shape[d]);
        ok = part && ct__copy_into("cat", part, ts[i]);
        at += ts[i]->shape[d];
    }
    if (ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}

ct_tensor *ct__stack(ct_tensor_list tensors, int dim) {
    if (tensors.n <= 0 || !tensors.items) return ct_error(CT_ERR_ARG, "stack expects a non-empty TensorList");
    if (!ct__check_not_null("stack", tensors.n, (const ct_tensor *const *)tensors.items)) return NULL;
    const ct_tensor *const *ts = (const ct_tensor *const *)tensors.items;
    if (!ct__check_same_device("stack", tensors.n, ts)) return NULL;
    const ct_tensor *r = ts[0];
    if (r->ndim >= CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "stack: at most %d dimensions are supported", CT_MAX_DIMS);
    int d = ct__wrap_dim("stack", dim, r->ndim + 1);
    if (d < 0) return NULL;
    for (int i = 1; i < tensors.n; i++)
        if (!ct__same_shape(ts[i]->shape, ts[i]->ndim, r->shape, r->ndim))
            return ct_error(CT_ERR_SHAPE, "stack expects each tensor to be equal size, but got %s at entry 0 and %s at entry %d",
                            ct__shape_str(r->shape, r->ndim), ct__shape_str(ts[i]->shape, ts[i]->ndim), i);
    int64_t shape[CT_MAX_DIMS];
    for (int k = 0, j = 0; k <= r->ndim; k++) shape[k] = k == d ? tensors.n : r->shape[j++];
    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *o = ct__tensor_new(shape, r->ndim + 1, ct__result_type(tensors.n, ts), ct__device(r));
    bool ok = o != NULL;
    for (int i = 0; ok && i < tensors.n; i++) {
        ct_tensor *slot = ct_select(o, d, i);
        ok = slot && ct__copy_into("stack", slot, ts[i]);
    }
    if (ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}

static const ct_tensor_list no_list = {0, NULL};

/* Views of consecutive pieces of the given sizes along d, in a scope-owned item array. */
static ct_tensor_list pieces(const ct_tensor *t, int d, int n, const int64_t *sizes, int64_t uniform) {
    ct_tensor **items = ct_scope_alloc((size_t)n * sizeof *items);
    if (!items) return no_list;
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = sizes ? sizes[i] : (uniform < t->shape[d] - at ? uniform : t->shape[d] - at);
        items[i] = ct_narrow(t, d, at, len);
        if (!items[i]) return no_list;
        at += len;
    }
    return (ct_tensor_list){n, (ct_tensor *const *)items};
}

ct_tensor_list ct__split(const ct_tensor *t, int64_t split_size, int dim) {
    if (!CT__CHECK("split", t)) return no_list;
    if (t->ndim == 0) return ct_error(CT_ERR_SHAPE, "split expects at least a 1-dimensional tensor"), no_list;
    int d = ct__wrap_dim("split", dim, t->ndim);
    if (d < 0) return no_list;
    int64_t size = t->shape[d];
    if (split_size < 0)
        return ct_error(CT_ERR_ARG, "split expects split_size be non-negative, but got split_size=%lld",
                        (long long)split_size),
               no_list;
    if (split_size == 0 && size != 0)
        return ct_error(CT_ERR_ARG, "split_size can only be 0 if dimension size is 0, but got dimension size of %lld",
                        (long long)size),
               no_list;
    int64_t n = split_size == 0 ? 1 : (size + split_size - 1) / split_size;
    if (n < 1) n = 1; /* a size-0 dim still gives one (empty) piece */
    if (n > INT32_MAX) return ct_error(CT_ERR_ARG, "split: too many pieces (%lld)", (long long)n), no_list;
    return pieces(t, d, (int)n, NULL, split_size);
}

ct_tensor_list ct__split_sizes(const ct_tensor *t, ct_shape sizes, int dim) {
    if (!CT__CHECK("split_with_sizes", t)) return no_list;
    if (t->ndim == 0) return ct_error(CT_ERR_SHAPE, "split expects at least a 1-dimensional tensor"), no_list;
    int d = ct__wrap_dim("split_with_sizes", dim, t->ndim);
    if (d < 0) return no_list;
    if (sizes.ndim < 0 || sizes.ndim > CT_MAX_DIMS)
        return ct_error(CT_ERR_ARG, "split_with_sizes: invalid number of sizes %d", sizes.ndim), no_list;
    int64_t sum = 0;
    for (int i = 0; i < sizes.ndim; i++) {
        if (sizes.d[i] < 0)
            return ct_error(CT_ERR_ARG,
                            "split_with_sizes expects split_sizes have only non-negative entries, but got "
                            "split_sizes=%s",
                            ct__shape_str(sizes.d, sizes.ndim)),
                   no_list;
        sum += sizes.d[i];
    }
    if (sum != t->shape[d])
        return ct_error(CT_ERR_SHAPE,
                        "split_with_sizes expects split_sizes to sum exactly to %lld (input tensor's size at "
                        "dimension %d), but got split_sizes=%s",
                        (long long)t->shape[d], d, ct__shape_str(sizes.d, sizes.ndim)),
               no_list;
    return pieces(t, d, sizes.ndim, sizes.d, 0);
}

ct_tensor_list ct__chunk(const ct_tensor *t, int64_t chunks, int dim) {
    if (!CT__CHECK("chunk", t)) return no_list;
    if (t->ndim == 0) return ct_error(CT_ERR_SHAPE, "chunk expects at least a 1-dimensional tensor"), no_list;
    if (chunks <= 0)
        return ct_error(CT_ERR_ARG, "chunk expects `chunks` to be greater than 0, got: %lld", (long long)chunks),
               no_list;
    int d = ct__wrap_dim("chunk", dim, t->ndim);
    if (d < 0) return no_list;
    int64_t size = t->shape[d];
    /* PyTorch: pieces of ceil(size / chunks), so fewer than `chunks` may come back; a size-0 dim
     * gives `chunks` empty pieces. */
    if (size == 0) {
        if (chunks > INT32_MAX) return ct_error(CT_ERR_ARG, "chunk: too many chunks (%lld)", (long long)chunks), no_list;
        return pieces(t, d, (int)chunks, NULL, 0);
    }
    return ct_split(t, (size + chunks - 1) / chunks, d);
}

ct_tensor_list ct__unbind(const ct_tensor *t, int dim) {
    if (!CT__CHECK("unbind", t)) return no_list;
    if (t->ndim == 0) return ct_error(CT_ERR_INDEX, "unbind: Dimension specified as %d but tensor has no dimensions", dim), no_list;
    int d = ct__wrap_dim("unbind", dim, t->ndim);
    if (d < 0) return no_list;
    if (t->shape[d] > INT32_MAX) return ct_error(CT_ERR_ARG, "unbind: too many pieces"), no_list;
    int n = (int)t->shape[d];
    ct_tensor **items = ct_scope_alloc((size_t)n * sizeof *items);
    if (!items) return no_list;
    for (int i = 0; i < n; i++)
        if (!(items[i] = ct_select(t, d, i))) return no_list;
    return (ct_tensor_list){n, (ct_tensor *const *)items};
}
