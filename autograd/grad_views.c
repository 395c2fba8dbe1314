/* Derivatives of views (never copy): each public op records its node over the tensor layer's ct__ form.
 *
 * A view only rearranges which input elements the output shows, so every derivative moves the
 * gradient back to where the elements came from:
 *   - shape-only views (view, reshape, squeeze, flatten, ...) keep the row-major order: the
 *     gradient is reshaped to the input's shape;
 *   - permutations (permute, transpose, t, movedim) apply the inverse permutation;
 *   - expand shows one element many times: the gradient is summed back over the broadcast dims;
 *   - views of a part (narrow, slice, select, diagonal) write the gradient into the same view of
 *     zeros of the input's shape;
 *   - unfold and as_strided may show one element several times (overlapping windows): the
 *     contributions are added up. */
#include "autograd_impl.h"
#include "trace_impl.h"

/* ---- shared pieces --------------------------------------------------------------------------- */

/* The dim as a non-negative index (the forward op already validated it). */
static int wrap_dim(int64_t dim, int ndim) {
    return ndim > 0 ? (int)((dim % ndim + ndim) % ndim) : 0;
}

/* Zeros with the input's shape and the gradient's dtype and device: the gradient of the input
 * elements a partial view does not show. */
static ct_tensor *zeros_for_input(const ct_node *n, const ct_tensor *grad) {
    return ct_zeros(ct__input_shape(n, 0), .dtype = grad->dtype, .device = ct_device_of(grad));
}

/* ---- shape-only views: view, reshape, squeeze, unsqueeze, flatten, unflatten, ravel ------------ */

/* y = x seen with another shape, same row-major order: dx = dy reshaped to x's shape. */
static bool reshape_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_reshape(grad, ct__input_shape(n, 0));
    return true;
}
static const ct_node_ops view_node = {"ViewBackward0", "view", reshape_backward, NULL, NULL};
static const ct_node_ops reshape_view_node = {"ViewBackward0", "reshape", reshape_backward, NULL, NULL};
/* reshape that had to copy: PyTorch's clone + _unsafe_view */
static const ct_node_ops reshape_copy_node = {"UnsafeViewBackward0", "reshape", reshape_backward, NULL, NULL};
static const ct_node_ops flatten_view_node = {"ViewBackward0", "flatten", reshape_backward, NULL, NULL};
static const ct_node_ops flatten_copy_node = {"UnsafeViewBackward0", "flatten", reshape_backward, NULL, NULL};
static const ct_node_ops unflatten_node = {"ViewBackward0", "unflatten", reshape_backward, NULL, NULL};
static const ct_node_ops ravel_node = {"ViewBackward0", "ravel", reshape_backward, NULL, NULL}; /* contiguous().view(-1) */
static const ct_node_ops squeeze_node = {"SqueezeBackward0", "squeeze", reshape_backward, NULL, NULL};
static const ct_node_ops squeeze_dim_node = {"SqueezeBackward1", "squeeze", reshape_backward, NULL, NULL};
static const ct_node_ops unsqueeze_node = {"UnsqueezeBackward0", "unsqueeze", reshape_backward, NULL, NULL};

ct_tensor *ct_view(const ct_tensor *t, ct_shape shape) {
    CT__AG_BEGIN(ct__view(t, shape), t);
    CT__AG_RECORD(&view_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_reshape(const ct_tensor *t, ct_shape shape) {
    CT__AG_BEGIN(ct__reshape(t, shape), t);
    CT__AG_RECORD(ct_shares_storage(out, t) ? &reshape_view_node : &reshape_copy_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_squeeze(const ct_tensor *t) {
    CT__AG_BEGIN(ct__squeeze(t), t);
    CT__AG_RECORD(&squeeze_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_squeeze_dim(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__squeeze_dim(t, dim), t);
    CT__AG_RECORD(&squeeze_dim_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_unsqueeze(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__unsqueeze(t, dim), t);
    CT__AG_RECORD(&unsqueeze_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_flatten3(const ct_tensor *t, int start_dim, int end_dim) {
    CT__AG_BEGIN(ct__flatten3(t, start_dim, end_dim), t);
    CT__AG_RECORD(ct_shares_storage(out, t) ? &flatten_view_node : &flatten_copy_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_unflatten(const ct_tensor *t, int dim, ct_shape sizes) {
    CT__AG_BEGIN(ct__unflatten(t, dim, sizes), t);
    CT__AG_RECORD(&unflatten_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_ravel(const ct_tensor *t) {
    CT__AG_BEGIN(ct__ravel(t), t);
    CT__AG_RECORD(&ravel_node, 0);
    return ct__ag_result(out);
}

/* ---- permutations: permute, transpose, t, movedim ------------------------------------------------ */

typedef struct permute_ctx {
    int ndim;
    int perm[CT_MAX_DIMS]; /* output dim i is input dim perm[i] */
} permute_ctx;

/* y = x.permute(perm): dy's dim i belongs to x's dim perm[i], so dx = dy.permute(inverse). */
static bool permute_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const permute_ctx *c = n->ctx;
    ct_dims inverse = {.ndim = c->ndim};
    for (int i = 0; i < c->ndim; i++) inverse.d[c->perm[i]] = i;
    gi[0] = ct_permute(grad, inverse);
    return true;
}
static const ct_node_ops permute_node = {"PermuteBackward0", "permute", permute_backward, NULL, NULL};
static const ct_node_ops transpose_node = {"TransposeBackward0", "transpose", permute_backward, NULL, NULL};
static const ct_node_ops t_node = {"TBackward0", "t", permute_backward, NULL, NULL};

/* Records a permutation node holding the identity permutation (the caller fills in its own). */
static permute_ctx *record_permutation(const ct_node_ops *ops, ct_tensor *out, const ct_tensor *t) {
    ct_node *n = ct__record(ops, out, 1, (const ct_tensor *const[]){t}, sizeof(permute_ctx));
    if (!n) return NULL;
    permute_ctx *c = n->ctx;
    c->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) c->perm[i] = i;
    return c;
}

/* transpose(a, b) as a permutation: dims a and b trade places (a no-op on a 0-d tensor). */
static void swap_dims(permute_ctx *c, int a, int b) {
    if (!c || c->ndim == 0) return;
    a = wrap_dim(a, c->ndim), b = wrap_dim(b, c->ndim);
    int kept = c->perm[a];
    c->perm[a] = c->perm[b];
    c->perm[b] = kept;
}

ct_tensor *ct_permute(const ct_tensor *t, ct_dims dims) {
    CT__AG_BEGIN(ct__permute(t, dims), t);
    permute_ctx *c = record_permutation(&permute_node, out, t);
    for (int i = 0; c && i < c->ndim; i++) c->perm[i] = wrap_dim(dims.d[i], c->ndim);
    CT__TRACE_ATTRS(out, (ct_trace_dims){dims});
    return ct__ag_result(out);
}

ct_tensor *ct_transpose(const ct_tensor *t, int dim0, int dim1) {
    CT__AG_BEGIN(ct__transpose(t, dim0, dim1), t);
    swap_dims(record_permutation(&transpose_node, out, t), dim0, dim1);
    CT__TRACE_ATTRS(out, ((ct_trace_slice){wrap_dim(dim0, t->ndim), wrap_dim(dim1, t->ndim), 0, 0}));
    return ct__ag_result(out);
}

ct_tensor *ct_t(const ct_tensor *t) {
    CT__AG_BEGIN(ct__t(t), t);
    permute_ctx *c = record_permutation(&t_node, out, t);
    if (c && c->ndim == 2) swap_dims(c, 0, 1); /* 0-d and 1-d: the identity */
    return ct__ag_result(out);
}

typedef struct movedim_ctx {
    int source, destination;
} movedim_ctx;

/* y = x with dim source moved to destination (the others keep their order): moving it back,
 * dx = dy.movedim(destination, source). */
static bool movedim_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const movedim_ctx *c = n->ctx;
    gi[0] = ct_movedim(grad, c->destination, c->source);
    return true;
}
static const ct_node_ops movedim_node = {"PermuteBackward0", "movedim", movedim_backward, NULL, NULL}; /* movedim is a permute */

ct_tensor *ct_movedim(const ct_tensor *t, int source, int destination) {
    CT__AG_BEGIN(ct__movedim(t, source, destination), t);
    ct_node *n = CT__AG_RECORD(&movedim_node, sizeof(movedim_ctx));
    if (n) *(movedim_ctx *)n->ctx = (movedim_ctx){source, destination};
    return ct__ag_result(out);
}

/* ---- expand, broadcast_to, expand_as --------------------------------------------------------------- */

/* y = x broadcast: each x element feeds every y element it is repeated into, so dx sums dy over
 * the broadcast dims (the new leading ones and the size-1 ones that grew). */
static bool expand_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__sum_to(grad, ct__input_shape(n, 0));
    return true;
}
static const ct_node_ops expand_node = {"ExpandBackward0", "expand", expand_backward, NULL, NULL};
static const ct_node_ops broadcast_to_node = {"ExpandBackward0", "broadcast_to", expand_backward, NULL, NULL};
static const ct_node_ops expand_as_node = {"ExpandBackward0", "expand_as", expand_backward, NULL, NULL};

ct_tensor *ct_expand(const ct_tensor *t, ct_shape shape) {
    CT__AG_BEGIN(ct__expand(t, shape), t);
    CT__AG_RECORD(&expand_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_broadcast_to(const ct_tensor *t, ct_shape shape) {
    CT__AG_BEGIN(ct__broadcast_to(t, shape), t);
    CT__AG_RECORD(&broadcast_to_node, 0);
    return ct__ag_result(out);
}

/* other only gives the shape: no gradient flows to it (as in PyTorch). */
ct_tensor *ct_expand_as(const ct_tensor *t, const ct_tensor *other) {
    CT__AG_BEGIN(ct__expand_as(t, other), t);
    CT__AG_RECORD(&expand_as_node, 0);
    return ct__ag_result(out);
}

/* ---- parts: narrow, slice, select, diagonal ---------------------------------------------------------- */
/* y = a part of x: dx is dy at the elements y shows and 0 elsewhere, i.e. zeros(x.shape) with dy
 * copied into the same view of it. */

typedef struct slice_ctx {
    int dim;
    int64_t start, end, step; /* as given to slice (clamped the same way on the zeros) */
} slice_ctx;

/* The engine adds dy into this part of dx (ct_node_ops.region). */
static ct_tensor *slice_region(const ct_node *n, ct_tensor *full) {
    const slice_ctx *c = n->ctx;
    return ct_slice(full, c->dim, c->start, c->end, c->step);
}
static const ct_node_ops slice_node = {"SliceBackward0", "slice", NULL, NULL, slice_region};
static const ct_node_ops narrow_node = {"SliceBackward0", "narrow", NULL, NULL, slice_region}; /* narrow is a slice */

ct_tensor *ct_slice(const ct_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    CT__AG_BEGIN(ct__slice(t, dim, start, end, step), t);
    ct_node *n = CT__AG_RECORD(&slice_node, sizeof(slice_ctx));
    if (n) *(slice_ctx *)n->ctx = (slice_ctx){dim, start, end, step};
    CT__TRACE_ATTRS(out, ((ct_trace_slice){wrap_dim(dim, t->ndim), start, end, step}));
    return ct__ag_result(out);
}

ct_tensor *ct_narrow(const ct_tensor *t, int dim, int64_t start, int64_t length) {
    CT__AG_BEGIN(ct__narrow(t, dim, start, length), t);
    ct_node *n = CT__AG_RECORD(&narrow_node, sizeof(slice_ctx));
    if (n) {
        if (start < 0) start += t->shape[wrap_dim(dim, t->ndim)];
        *(slice_ctx *)n->ctx = (slice_ctx){dim, start, start + length, 1};
    }
    if (start < 0) start += t->shape[wrap_dim(dim, t->ndim)];
    CT__TRACE_ATTRS(out, ((ct_trace_slice){wrap_dim(dim, t->ndim), start, start + length, 1}));
    return ct__ag_result(out);
}

typedef struct select_ctx {
    int dim;
    int64_t index;
} select_ctx;

static ct_tensor *select_region(const ct_node *n, ct_tensor *full) {
    const select_ctx *c = n->ctx;
    return ct_select(full, c->dim, c->index);
}
static const ct_node_ops select_node = {"SelectBackward0", "select", NULL, NULL, select_region};

ct_tensor *ct_select(const ct_tensor *t, int dim, int64_t index) {
    CT__AG_BEGIN(ct__select(t, dim, index), t);
    ct_node *n = CT__AG_RECORD(&select_node, sizeof(select_ctx));
    if (n) *(select_ctx *)n->ctx = (select_ctx){dim, index};
    CT__TRACE_ATTRS(out, ((ct_trace_slice){wrap_dim(dim, t->ndim), index, -1, 0}));
    return ct__ag_result(out);
}

typedef struct diagonal_ctx {
    int64_t offset;
    int dim1, dim2;
} diagonal_ctx;

static bool diagonal_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const diagonal_ctx *c = n->ctx;
    ct_tensor *dx = zeros_for_input(n, grad);
    gi[0] = dx;
    return dx && ct_copy_(ct_diagonal(dx, c->offset, c->dim1, c->dim2), grad);
}
static const ct_node_ops diagonal_node = {"DiagonalBackward0", "diagonal", diagonal_backward, NULL, NULL};

ct_tensor *ct_diagonal(const ct_tensor *t, int64_t offset, int dim1, int dim2) {
    CT__AG_BEGIN(ct__diagonal(t, offset, dim1, dim2), t);
    ct_node *n = CT__AG_RECORD(&diagonal_node, sizeof(diagonal_ctx));
    if (n) *(diagonal_ctx *)n->ctx = (diagonal_ctx){offset, dim1, dim2};
    return ct__ag_result(out);
}

/* ---- unfold ------------------------------------------------------------------------------------------ */

typedef struct unfold_ctx {
    int dim; /* wrapped against the input */
    int64_t size, step;
} unfold_ctx;

/* y[..., w, ..., k] = x[..., w*step + k, ...] (w: window along dim, k: position in the window).
 * An x element in several windows (step < size) gets the sum of their gradients:
 * dx[..., w*step + k, ...] += dy[..., w, ..., k], taken one k at a time (every window at once, a
 * stepped slice of dx) or one w at a time (a whole window), whichever loops less. */
static bool unfold_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const unfold_ctx *c = n->ctx;
    if (ct__input_shape(n, 0).ndim == 0) { /* a 0-d x unfolds into a vector of 0 or 1 copies of it */
        gi[0] = ct_sum(grad);
        return true;
    }
    ct_tensor *dx = zeros_for_input(n, grad);
    if (!dx) return false;
    int64_t windows = grad->shape[c->dim];
    if (c->size <= windows) {
        for (int64_t k = 0; k < c->size; k++) {
            ct_tensor *at_k = ct_slice(dx, c->dim, k, k + (windows - 1) * c->step + 1, c->step);
            if (!ct_add_(at_k, ct_select(grad, -1, k))) return false;
        }
    } else {
        for (int64_t w = 0; w < windows; w++) {
            ct_tensor *window = ct_narrow(dx, c->dim, w * c->step, c->size);
            if (!ct_add_(window, ct_movedim(ct_select(grad, c->dim, w), -1, c->dim))) return false;
        }
    }
    gi[0] = dx;
    return true;
}
static const ct_node_ops unfold_node = {"UnfoldBackward0", "unfold", unfold_backward, NULL, NULL};

ct_tensor *ct_unfold(const ct_tensor *t, int dim, int64_t size, int64_t step) {
    CT__AG_BEGIN(ct__unfold(t, dim, size, step), t);
    ct_node *n = CT__AG_RECORD(&unfold_node, sizeof(unfold_ctx));
    if (n) *(unfold_ctx *)n->ctx = (unfold_ctx){wrap_dim(dim, t->ndim), size, step};
    return ct__ag_result(out);
}

/* ---- as_strided ------------------------------------------------------------------------------------ */

/* Where a tensor's elements sit in its storage. */
typedef struct geometry {
    ct_shape shape, stride;
    int64_t offset;
} geometry;

typedef struct as_strided_ctx {
    geometry input, output;
} as_strided_ctx;

static geometry geometry_of(const ct_tensor *t) {
    return (geometry){ct_shape_of(t), ct_strides_of(t), t->offset};
}

/* One past the last storage element g reaches (offset when empty: it reaches none). */
static int64_t geometry_end(const geometry *g) {
    int64_t last = g->offset;
    for (int i = 0; i < g->shape.ndim; i++) {
        if (g->shape.d[i] == 0) return g->offset;
        last += (g->shape.d[i] - 1) * g->stride.d[i];
    }
    return last + 1;
}

/* False only when no two elements of g can share a storage element: sorted by stride, each
 * dim's stride must pass the whole extent of the smaller dims. */
static bool geometry_may_overlap(const geometry *g) {
    int order[CT_MAX_DIMS], n = 0;
    for (int i = 0; i < g->shape.ndim; i++) {
        if (g->shape.d[i] == 0) return false;
        if (g->shape.d[i] == 1) continue;
        int j = n++;
        for (; j > 0 && g->stride.d[order[j - 1]] > g->stride.d[i]; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    int64_t extent = 0; /* reach of the dims with smaller strides */
    for (int k = 0; k < n; k++) {
        int i = order[k];
        if (g->stride.d[i] <= extent) return true;
        extent += (g->shape.d[i] - 1) * g->stride.d[i];
    }
    return false;
}

/* y = as_strided(x, geometry): y's element at storage position s is x's element at s (if x has
 * one there). PyTorch's as_strided_backward over a flat "storage" of gradients:
 *   storage[s] += dy[k] for every y element k at position s (index_put with accumulate, so
 *                 overlapping outputs add up);
 *   dx[e] = storage[position of x element e], divided by how many x elements share it when x
 *           itself overlaps (e.g. an expanded x). */
static bool as_strided_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const as_strided_ctx *c = n->ctx;
    int64_t in_end = geometry_end(&c->input), out_end = geometry_end(&c->output);
    int64_t end = in_end > out_end ? in_end : out_end;
    ct_device device = ct_device_of(grad);
    ct_tensor *positions = ct_arange(0, (double)end, 1, .dtype = CT_I64, .device = device);
    ct_tensor *storage = ct_zeros(CT_SHAPE(end), .dtype = grad->dtype, .device = device);
    ct_tensor *out_positions = ct_as_strided(positions, c->output.shape, c->output.stride, c->output.offset);
    ct_tensor *in_positions = ct_as_strided(positions, c->input.shape, c->input.stride, c->input.offset);
    if (!ct_index_put_(storage, CT_TENSORS(out_positions), grad, true)) return false;
    ct_tensor *dx = ct_index(storage, CT_TENSORS(in_positions));
    if (dx && geometry_may_overlap(&c->input)) {
        ct_tensor *count = ct_zeros(CT_SHAPE(end), .dtype = grad->dtype, .device = device);
        if (!ct_index_put_(count, CT_TENSORS(in_positions), ct_ones_like(in_positions, .dtype = grad->dtype), true)) return false;
        dx = ct_div(dx, ct_index(count, CT_TENSORS(in_positions)));
    }
    gi[0] = dx;
    return dx != NULL;
}
static const ct_node_ops as_strided_node = {"AsStridedBackward0", "as_strided", as_strided_backward, NULL, NULL};

ct_tensor *ct_as_strided(const ct_tensor *t, ct_shape shape, ct_shape stride, int64_t storage_offset) {
    CT__AG_BEGIN(ct__as_strided(t, shape, stride, storage_offset), t);
    ct_node *n = CT__AG_RECORD(&as_strided_node, sizeof(as_strided_ctx));
    if (n) *(as_strided_ctx *)n->ctx = (as_strided_ctx){geometry_of(t), geometry_of(out)};
    return ct__ag_result(out);
}

/* ---- alias, contiguous ---------------------------------------------------------------------------- */

/* y = x (a new handle, or a copy): dx = dy. */
static bool identity_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    (void)n;
    gi[0] = ct_alias(grad);
    return true;
}
static const ct_node_ops alias_node = {"AliasBackward0", "alias", identity_backward, NULL, NULL};
static const ct_node_ops contiguous_node = {"CloneBackward0", "contiguous", identity_backward, NULL, NULL};

ct_tensor *ct_alias(const ct_tensor *t) {
    CT__AG_BEGIN(ct__alias(t), t);
    CT__AG_RECORD(&alias_node, 0);
    return ct__ag_result(out);
}

/* Already contiguous: out is t itself and nothing is recorded (t keeps its grad_fn). */
ct_tensor *ct_contiguous(const ct_tensor *t) {
    CT__AG_BEGIN(ct__contiguous(t), t);
    CT__AG_RECORD(&contiguous_node, 0);
    return ct__ag_result(out);
}
