/* Derivatives of where, the masked ops, index_select, gather, the scatter family and advanced
 * indexing. Conditions, masks and index tensors are not differentiable: they are never inputs of
 * a node, but are saved (version-checked) when backward needs them. Every formula sends the
 * gradient back along the positions the forward used:
 *   - an op that reads t at positions (gather, index_select, index, masked_select) scatter-adds
 *     grad into zeros of t's shape at those positions;
 *   - an op that writes into t (scatter, index_put_, masked_fill) zeroes t's gradient where it
 *     wrote, and the written values get grad read back at those positions. */
#include "autograd_impl.h"
#include "trace_impl.h"

/* ---- shared helpers -------------------------------------------------------------------------- */

/* zeros of shape with grad's dtype and device (the buffer a gradient is scattered into). */
static ct_tensor *zeros_for(const ct_tensor *grad, ct_shape shape) {
    return ct_zeros_opt(shape, (ct_tensor_opts){.dtype = grad->dtype, .device = ct__device(grad)});
}

/* dim counted from the front (the forward already checked it). */
static int wrap_dim(int dim, int ndim) { return ndim ? (dim % ndim + ndim) % ndim : 0; }

/* Keeps t for backward (NULL: not needed); false with the error set when it cannot. */
static bool save(ct_node *n, const ct_tensor *t) { return ct__save(n, t) >= 0; }

/* Advanced-indexing entries (NULL = ':') are saved one per slot, so they must fit a node; nothing
 * is saved when backward will not read them. */
static bool save_entries(ct_node *n, ct_tensor_list indices, bool needed) {
    if (!needed) return true;
    if (indices.n > CT_NODE_MAX_SAVED) {
        ct_error(CT_ERR_UNSUPPORTED, "%s: autograd saves at most %d index entries for backward, got %d",
                 n->ops->forward_name, CT_NODE_MAX_SAVED, indices.n);
        return false;
    }
    for (int i = 0; i < indices.n; i++)
        if (!save(n, indices.items[i])) return false;
    return true;
}

/* The saved entries as an index list again (items points into storage of CT_NODE_MAX_SAVED). */
static ct_tensor_list saved_entries(const ct_node *n, ct_tensor **storage) {
    for (int i = 0; i < n->n_saved; i++) storage[i] = (ct_tensor *)ct__saved(n, i);
    return (ct_tensor_list){.n = n->n_saved, .items = storage};
}

/* Every dim of self is written element for element (no stride-0 repeats). */
static bool writable(const ct_tensor *self) {
    for (int d = 0; d < self->ndim; d++)
        if (self->stride[d] == 0 && self->shape[d] > 1) return false;
    return true;
}

/* Whether an in-place op takes the recorded path (ct__ag_inplace): a graph is needed and self can
 * take the out-of-place result. Otherwise the tensor layer runs, reporting any error in its own
 * words before writing anything. */
static bool record_inplace(const ct_tensor *self, const ct_tensor *other) {
    return self && ct__ag_needed(2, (const ct_tensor *const[]){self, other}) && writable(self);
}

/* ---- where ----------------------------------------------------------------------------------- */

/* out = cond ? a : b (broadcast): d/da = grad where cond, 0 elsewhere; d/db = grad where !cond.
 * Both come in the broadcast shape; the engine sums them down to a's and b's. */
static bool where_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *cond = ct__saved(n, 0);
    ct_tensor *zero = zeros_for(grad, (ct_shape){.ndim = 0});
    if (ct__needs_grad(n, 0)) gi[0] = ct_where(cond, grad, zero);
    if (ct__needs_grad(n, 1)) gi[1] = ct_where(cond, zero, grad);
    return true;
}
static const ct_node_ops where_node = {"WhereBackward0", "where", where_backward, NULL, NULL};

ct_tensor *ct_where(const ct_tensor *cond, const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__where(cond, a, b), a, b);
    ct_node *n = CT__AG_RECORD(&where_node, 0);
    CT__TRACE_ATTRS_EXTRA(out, (ct_trace_dim){0}, cond);
    return !n || save(n, cond) ? out : NULL;
}

/* ---- masked_fill ----------------------------------------------------------------------------- */

/* out = mask ? value : t: d/dt = grad with the filled positions zeroed. */
static bool masked_fill_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_masked_fill(grad, ct__saved(n, 0), 0);
    return true;
}
static const ct_node_ops masked_fill_node = {"MaskedFillBackward0", "masked_fill", masked_fill_backward, NULL, NULL};

ct_tensor *ct_masked_fill(const ct_tensor *t, const ct_tensor *mask, double value) {
    CT__AG_BEGIN(ct__masked_fill(t, mask, value), t);
    ct_node *n = CT__AG_RECORD(&masked_fill_node, 0);
    CT__TRACE_ATTRS_EXTRA(out, ((ct_trace_scalar){value}), mask);
    return !n || save(n, mask) ? out : NULL;
}

typedef struct masked_fill_args {
    const ct_tensor *mask;
    double value;
} masked_fill_args;

static ct_tensor *masked_fill_copy(const ct_tensor *self_copy, void *args) {
    const masked_fill_args *a = args;
    return ct_masked_fill(self_copy, a->mask, a->value);
}

/* The out-of-place result has self's shape only when mask broadcasts to self. */
static bool mask_fits(const ct_tensor *mask, const ct_tensor *self) {
    if (mask->ndim > self->ndim) return false;
    for (int d = 1; d <= mask->ndim; d++) {
        int64_t m = mask->shape[mask->ndim - d];
        if (m != 1 && m != self->shape[self->ndim - d]) return false;
    }
    return true;
}

ct_tensor *ct_masked_fill_(ct_tensor *t, const ct_tensor *mask, double value) {
    if (!ct__ag_check_inplace("masked_fill_", t)) return NULL;
    if (!mask || !record_inplace(t, NULL) || !mask_fits(mask, t)) return ct__masked_fill_(t, mask, value);
    return ct__ag_inplace("masked_fill_", t, false, masked_fill_copy, &(masked_fill_args){mask, value});
}

/* ---- masked_select --------------------------------------------------------------------------- */

/* Broadcast shape of two shapes the forward already found compatible. */
static ct_shape broadcast_shapes(ct_shape a, ct_shape b) {
    ct_shape out = {.ndim = a.ndim > b.ndim ? a.ndim : b.ndim};
    for (int d = 1; d <= out.ndim; d++) {
        int64_t x = d <= a.ndim ? a.d[a.ndim - d] : 1, y = d <= b.ndim ? b.d[b.ndim - d] : 1;
        out.d[out.ndim - d] = x == 1 ? y : x;
    }
    return out;
}

/* out = the elements of t (broadcast with mask) where mask is true, in row-major order:
 * d/dt = zeros of the broadcast shape with grad written back at the mask's true positions (the
 * engine sums it down to t's shape). PyTorch writes zeros.masked_scatter_(mask, grad); index_put_
 * with the mask is the same write. */
static bool masked_select_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *mask = ct__saved(n, 0);
    ct_shape shape = broadcast_shapes(ct__input_shape(n, 0), ct_shape_of(mask));
    gi[0] = ct_index_put_(zeros_for(grad, shape), CT_TENSORS(ct_expand(mask, shape)), grad, false);
    return true;
}
static const ct_node_ops masked_select_node = {"MaskedSelectBackward0", "masked_select", masked_select_backward, NULL, NULL};

ct_tensor *ct_masked_select(const ct_tensor *t, const ct_tensor *mask) {
    CT__AG_BEGIN(ct__masked_select(t, mask), t);
    ct_node *n = CT__AG_RECORD(&masked_select_node, 0);
    return !n || save(n, mask) ? out : NULL;
}

/* ---- index_select and gather ----------------------------------------------------------------- */

typedef struct dim_ctx {
    int dim; /* as given (may be negative) */
} dim_ctx;

static int ctx_dim(const ct_node *n, int ndim) { return wrap_dim(((const dim_ctx *)n->ctx)->dim, ndim); }

/* Records a node whose backward needs dim and one index tensor (NULL: not needed). */
static ct_tensor *record_dim_index(const ct_node_ops *ops, ct_tensor *out, int n_inputs,
                                   const ct_tensor *const *inputs, int dim, const ct_tensor *index) {
    ct_node *n = ct__record(ops, out, n_inputs, inputs, sizeof(dim_ctx));
    CT__TRACE_ATTRS_EXTRA(out, (ct_trace_dim){dim}, index);
    if (!n) return out;
    ((dim_ctx *)n->ctx)->dim = dim;
    return save(n, index) ? out : NULL;
}

/* out = t.index_select(dim, index): output slice i along dim is t's slice index[i], so
 * d/dt = zeros with grad's slices added at index along dim (index_add; repeated indices
 * accumulate), written as zeros[:, ..., index] += grad. */
static bool index_select_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape in = ct__input_shape(n, 0);
    if (in.ndim == 0) { /* a 0-d t: the one element, selected once */
        gi[0] = ct_alias(grad);
        return true;
    }
    int dim = ctx_dim(n, in.ndim);
    ct_tensor *entries[CT_MAX_DIMS] = {NULL}; /* ':' before dim */
    entries[dim] = ct_reshape(ct__saved(n, 0), CT_SHAPE(-1)); /* a 0-d index keeps dim, as the forward */
    gi[0] = ct_index_put_(zeros_for(grad, in), (ct_tensor_list){.n = dim + 1, .items = entries}, grad, true);
    return true;
}
static const ct_node_ops index_select_node = {"IndexSelectBackward0", "index_select", index_select_backward, NULL, NULL};

ct_tensor *ct_index_select(const ct_tensor *t, int dim, const ct_tensor *index) {
    CT__AG_BEGIN(ct__index_select(t, dim, index), t);
    return record_dim_index(&index_select_node, out, ct__ag_n, ct__ag_inputs, dim, index);
}

/* out[i][j] = t[index[i][j]][j] (dim 0; likewise for others): d/dt = zeros with grad
 * scatter-added at index (each read of an element adds its gradient). */
static bool gather_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int dim = ((const dim_ctx *)n->ctx)->dim;
    gi[0] = ct_scatter_add_(zeros_for(grad, ct__input_shape(n, 0)), dim, ct__saved(n, 0), grad);
    return true;
}
static const ct_node_ops gather_node = {"GatherBackward0", "gather", gather_backward, NULL, NULL};

ct_tensor *ct_gather(const ct_tensor *t, int dim, const ct_tensor *index) {
    CT__AG_BEGIN(ct__gather(t, dim, index), t);
    return record_dim_index(&gather_node, out, ct__ag_n, ct__ag_inputs, dim, index);
}

/* ---- scatter, scatter_value, scatter_add ----------------------------------------------------- */

/* The gradient of a scatter's src: grad.gather(dim, index), which has index's shape. src may be
 * larger than index (only its leading part is read), so the rest of src gets 0. */
static ct_tensor *src_gradient(const ct_tensor *grad, int dim, const ct_tensor *index, ct_shape src_shape) {
    ct_tensor *read = ct_gather(grad, dim, index);
    if (!read || ct__same_shape(read->shape, read->ndim, src_shape.d, src_shape.ndim)) return read;
    ct_tensor *full = zeros_for(grad, src_shape);
    if (ct_numel(read) == 0) return full;
    if (read->ndim != src_shape.ndim) /* 0-d and one-element 1-D are the same to gather/scatter */
        read = ct_reshape(read, src_shape.ndim ? CT_SHAPE(1) : (ct_shape){.ndim = 0});
    ct_tensor *part = full;
    for (int d = 0; part && d < src_shape.ndim; d++) part = ct_narrow(part, d, 0, read->shape[d]);
    return part && ct_copy_(part, read) ? full : NULL;
}

/* out = t with src (or a value) written at index along dim:
 * d/dt = grad with the written positions zeroed (grad.scatter(dim, index, 0));
 * d/dsrc = grad read back at index (grad.gather(dim, index)). */
static bool scatter_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int dim = ((const dim_ctx *)n->ctx)->dim;
    const ct_tensor *index = ct__saved(n, 0);
    if (ct__needs_grad(n, 0)) gi[0] = ct_scatter_value(grad, dim, index, 0);
    if (n->n_inputs > 1 && ct__needs_grad(n, 1)) gi[1] = src_gradient(grad, dim, index, ct__input_shape(n, 1));
    return true;
}
static const ct_node_ops scatter_node = {"ScatterBackward0", "scatter", scatter_backward, NULL, NULL};
static const ct_node_ops scatter_value_node = {"ScatterBackward1", "scatter", scatter_backward, NULL, NULL};

/* out = t with src added at index along dim: d/dt = grad; d/dsrc = grad.gather(dim, index). */
static bool scatter_add_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int dim = ((const dim_ctx *)n->ctx)->dim;
    if (ct__needs_grad(n, 0)) gi[0] = ct_alias(grad);
    if (ct__needs_grad(n, 1)) gi[1] = src_gradient(grad, dim, ct__saved(n, 0), ct__input_shape(n, 1));
    return true;
}
static const ct_node_ops scatter_add_node = {"ScatterAddBackward0", "scatter_add", scatter_add_backward, NULL, NULL};

ct_tensor *ct_scatter(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    CT__AG_BEGIN(ct__scatter(t, dim, index, src), t, src);
    return record_dim_index(&scatter_node, out, ct__ag_n, ct__ag_inputs, dim, index);
}

ct_tensor *ct_scatter_value(const ct_tensor *t, int dim, const ct_tensor *index, double value) {
    CT__AG_BEGIN(ct__scatter_value(t, dim, index, value), t);
    return record_dim_index(&scatter_value_node, out, ct__ag_n, ct__ag_inputs, dim, index);
}

ct_tensor *ct_scatter_add(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    CT__AG_BEGIN(ct__scatter_add(t, dim, index, src), t, src);
    /* index is needed only for src's gradient */
    bool src_grad = src->requires_grad;
    return record_dim_index(&scatter_add_node, out, ct__ag_n, ct__ag_inputs, dim, src_grad ? index : NULL);
}

typedef struct scatter_args {
    int dim;
    const ct_tensor *index, *src;
} scatter_args;

static ct_tensor *scatter_copy(const ct_tensor *self_copy, void *args) {
    const scatter_args *a = args;
    return ct_scatter(self_copy, a->dim, a->index, a->src);
}

static ct_tensor *scatter_add_copy(const ct_tensor *self_copy, void *args) {
    const scatter_args *a = args;
    return ct_scatter_add(self_copy, a->dim, a->index, a->src);
}

ct_tensor *ct_scatter_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_check_inplace("scatter_", t)) return NULL;
    if (!index || !src || !record_inplace(t, src)) return ct__scatter_(t, dim, index, src);
    return ct__ag_inplace("scatter_", t, src->requires_grad, scatter_copy, &(scatter_args){dim, index, src});
}

ct_tensor *ct_scatter_add_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_check_inplace("scatter_add_", t)) return NULL;
    if (!index || !src || !record_inplace(t, src)) return ct__scatter_add_(t, dim, index, src);
    return ct__ag_inplace("scatter_add_", t, src->requires_grad, scatter_add_copy, &(scatter_args){dim, index, src});
}

/* ---- advanced indexing: index and index_put_ ------------------------------------------------- */

/* out = t[indices]: every output element reads one element of t, so d/dt = zeros with grad added
 * back at the same positions: zeros.index_put_(indices, grad, accumulate=true) (repeated indices
 * sum; bool masks and ':' entries select as in the forward). */
static bool index_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_tensor *storage[CT_NODE_MAX_SAVED];
    gi[0] = ct_index_put_(zeros_for(grad, ct__input_shape(n, 0)), saved_entries(n, storage), grad, true);
    return true;
}
static const ct_node_ops index_node = {"IndexBackward0", "index", index_backward, NULL, NULL};

ct_tensor *ct_index(const ct_tensor *t, ct_tensor_list indices) {
    CT__AG_BEGIN(ct__index(t, indices), t);
    ct_node *n = CT__AG_RECORD(&index_node, 0);
    return !n || save_entries(n, indices, true) ? out : NULL;
}

typedef struct index_put_ctx {
    bool accumulate;
} index_put_ctx;

/* out = t with values (broadcast) put at indices, or added there with accumulate:
 * d/dt = grad, with the overwritten positions zeroed unless accumulate
 *        (grad.index_put(indices, 0, false));
 * d/dvalues = grad[indices] (the engine sums it down to values' shape). */
static bool index_put_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_tensor *storage[CT_NODE_MAX_SAVED];
    ct_tensor_list entries = saved_entries(n, storage);
    if (ct__needs_grad(n, 0))
        gi[0] = ((index_put_ctx *)n->ctx)->accumulate
                    ? ct_alias(grad)
                    : ct_index_put_(ct_clone(grad), entries, zeros_for(grad, (ct_shape){.ndim = 0}), false);
    if (ct__needs_grad(n, 1)) gi[1] = ct_index(grad, entries);
    return true;
}
static const ct_node_ops index_put_node = {"IndexPutBackward0", "index_put", index_put_backward, NULL, NULL};

typedef struct index_put_args {
    ct_tensor_list indices;
    const ct_tensor *values;
    bool accumulate;
} index_put_args;

/* The out-of-place index_put (PyTorch's, which ctorch's API does not expose): a copy of self with
 * the values put in. */
static ct_tensor *index_put_plain(const ct_tensor *self, const index_put_args *a) {
    ct_scope_begin();
    ct_tensor *out = ct_clone(self);
    if (out) out = ct_keep(ct__index_put_(out, a->indices, a->values, a->accumulate));
    ct_scope_end();
    return ct__ag_result(out);
}

/* index_put on the copy of self that ct__ag_inplace hands over, recorded. */
static ct_tensor *index_put_copy(const ct_tensor *self_copy, void *args) {
    const index_put_args *a = args;
    CT__AG_BEGIN(index_put_plain(self_copy, a), self_copy, a->values);
    ct_node *n = CT__AG_RECORD(&index_put_node, sizeof(index_put_ctx));
    if (!n) return out;
    ((index_put_ctx *)n->ctx)->accumulate = a->accumulate;
    /* the entries serve self's gradient (unless accumulate) and values' */
    bool needed = !a->accumulate || ct__needs_grad(n, 1);
    return save_entries(n, a->indices, needed) ? out : NULL;
}

ct_tensor *ct_index_put_(ct_tensor *t, ct_tensor_list indices, const ct_tensor *values, bool accumulate) {
    if (!ct__ag_check_inplace("index_put_", t)) return NULL;
    if (!values || !record_inplace(t, values)) return ct__index_put_(t, indices, values, accumulate);
    return ct__ag_inplace("index_put_", t, values->requires_grad, index_put_copy,
                          &(index_put_args){indices, values, accumulate});
}
