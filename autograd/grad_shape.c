/* Derivatives of copying shape ops: each public op records its node over the tensor layer's ct__ form.
 *
 * Most of these ops only move elements around, so their backward moves the gradient back: the
 * inverse permutation (flip, roll), the reverse slicing (cat, stack, split, pad), a sum over the
 * copies of each element (repeat, tile, reflect/replicate/circular pad), or the same mask (tril,
 * triu). Lists (split, chunk, unbind) record one node per piece; the engine sums what the pieces
 * used in the loss send back, and pieces left unused send nothing (zero). */
#include "autograd_impl.h"
#include "trace_impl.h"

/* ---- clone, to_dtype, to ------------------------------------------------------------------------- */

/* clone: y = x, so dx = grad. */
static bool clone_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_alias(grad);
    return true;
}
static const ct_node_ops clone_node = {"CloneBackward0", "clone", clone_backward, NULL, NULL};

ct_tensor *ct_clone(const ct_tensor *t) {
    CT__AG_BEGIN(ct__clone(t), t);
    CT__AG_RECORD(&clone_node, 0);
    return ct__ag_result(out);
}

/* A dtype or device copy: y = x in another representation, so dx = grad converted back to the
 * input's dtype and device. */
static bool to_copy_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_to(ct_to_dtype(grad, n->next[0].dtype), n->next[0].device);
    return true;
}
static const ct_node_ops to_dtype_node = {"ToCopyBackward0", "to_dtype", to_copy_backward, NULL, NULL};
static const ct_node_ops to_device_node = {"ToCopyBackward0", "to", to_copy_backward, NULL, NULL};

/* An integer target dtype gives a result without a gradient: ct__record records nothing then, and
 * nothing either when t already has the dtype (the result is t itself). */
ct_tensor *ct_to_dtype(const ct_tensor *t, ct_dtype dtype) {
    CT__AG_BEGIN(ct__to_dtype(t, dtype), t);
    CT__AG_RECORD(&to_dtype_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_to(const ct_tensor *t, ct_device device) {
    CT__AG_BEGIN(ct__to(t, device), t);
    CT__AG_RECORD(&to_device_node, 0);
    return ct__ag_result(out);
}

/* ---- copy_ ------------------------------------------------------------------------------------------ */

/* dst.copy_(src) = src broadcast to dst's shape in dst's dtype: dst's old value is overwritten, so
 * d/d(dst) = 0; d/d(src) = grad summed down to src's shape (the reverse of the broadcast), in
 * src's dtype on src's device. */
static bool copy_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_zeros_like(grad);
    if (ct__needs_grad(n, 1)) {
        const ct_edge *src = &n->next[1];
        gi[1] = ct_to(ct_to_dtype(ct__sum_to(grad, src->shape), src->dtype), src->device);
    }
    return true;
}
static const ct_node_ops copy_node = {"CopyBackwards", "copy_", copy_backward, NULL, NULL};

/* The new value of dst as a fresh tensor: src broadcast into dst's shape, dtype and device. */
static ct_tensor *copied(const ct_tensor *dst, const ct_tensor *src) {
    ct_tensor *o = ct_empty_opt(ct_shape_of(dst), (ct_tensor_opts){.dtype = dst->dtype, .device = ct__device(dst)});
    return o && ct__copy_(o, src) ? o : NULL;
}

/* The out-of-place form ct__ag_inplace records: over (dst's old value, src). */
static ct_tensor *copy_out_of_place(const ct_tensor *dst_old, void *src_arg) {
    const ct_tensor *src = src_arg;
    CT__AG_BEGIN(copied(dst_old, src), dst_old, src);
    CT__AG_RECORD(&copy_node, 0);
    return ct__ag_result(out);
}

ct_tensor *ct_copy_(ct_tensor *dst, const ct_tensor *src) {
    if (!ct__ag_check_inplace("copy_", dst)) return NULL;
    if (!dst || !src || !ct__ag_needed(2, (const ct_tensor *const[]){dst, src})) return ct__copy_(dst, src);
    return ct__ag_inplace("copy_", dst, src->requires_grad, copy_out_of_place, (void *)src);
}

/* ---- cat, stack ---------------------------------------------------------------------------------- */

typedef struct dim_ctx {
    int dim; /* wrapped against the output */
} dim_ctx;

/* PyTorch's cat skips legacy empty inputs (1-D of size 0) whatever the other inputs' rank. */
static bool cat_skipped(ct_shape s, int out_ndim) { return s.ndim == 1 && s.d[0] == 0 && out_ndim != 1; }

/* cat: y = [x_0 | x_1 | ...] along dim, so dx_i = grad narrowed to x_i's slice. Skipped inputs
 * get an empty gradient of their own shape, as in PyTorch. */
static bool cat_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int d = ((dim_ctx *)n->ctx)->dim;
    int64_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        ct_shape s = ct__input_shape(n, i);
        if (cat_skipped(s, grad->ndim)) {
            if (ct__needs_grad(n, i)) gi[i] = ct_zeros_opt(s, (ct_tensor_opts){.dtype = n->next[i].dtype, .device = n->next[i].device});
            continue;
        }
        if (ct__needs_grad(n, i)) gi[i] = ct_narrow(grad, d, at, s.d[d]);
        at += s.d[d];
    }
    return true;
}
static const ct_node_ops cat_node = {"CatBackward0", "cat", cat_backward, NULL, NULL};

/* stack: y[..., i, ...] = x_i along the new dim, so dx_i = grad selected at i. */
static bool stack_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int d = ((dim_ctx *)n->ctx)->dim;
    for (int i = 0; i < n->n_inputs; i++)
        if (ct__needs_grad(n, i)) gi[i] = ct_select(grad, d, i);
    return true;
}
static const ct_node_ops stack_node = {"StackBackward0", "stack", stack_backward, NULL, NULL};

/* cat or stack over a list: CT__AG_BEGIN/RECORD's steps for a run-time number of inputs. */
static ct_tensor *join(ct_tensor *(*plain)(ct_tensor_list, int), const ct_node_ops *ops, ct_tensor_list tensors, int dim) {
    const ct_tensor *const *inputs = (const ct_tensor *const *)tensors.items;
    if (tensors.n <= 0 || !inputs || !ct__ag_needed(tensors.n, inputs)) return plain(tensors, dim);
    bool prev = ct_set_grad_enabled(false);
    ct_tensor *out = plain(tensors, dim);
    ct_set_grad_enabled(prev);
    if (!out) return NULL;
    ct_node *n = ct__record(ops, out, tensors.n, inputs, sizeof(dim_ctx));
    if (n) ((dim_ctx *)n->ctx)->dim = dim < 0 ? dim + out->ndim : dim;
    CT__TRACE_ATTRS(out, (ct_trace_dim){dim < 0 ? dim + out->ndim : dim});
    return ct__ag_result(out);
}

ct_tensor *ct_cat(ct_tensor_list tensors, int dim) { return join(ct__cat, &cat_node, tensors, dim); }

ct_tensor *ct_stack(ct_tensor_list tensors, int dim) { return join(ct__stack, &stack_node, tensors, dim); }

/* ---- split, split_sizes, chunk, unbind ------------------------------------------------------------ */

typedef struct piece_ctx {
    int dim;
    int64_t start;  /* first index of the piece along dim */
    int64_t length; /* its size along dim (narrow pieces) */
    bool selected;  /* unbind: the piece is t.select(dim, start), without dim */
} piece_ctx;

/* A piece y = t.narrow(dim, start, len) (or t.select(dim, start)): dt is zero except on the
 * piece's elements, where it is grad; the engine adds grad into this part of t's gradient
 * (ct_node_ops.region), so all the pieces of t share one buffer. */
static ct_tensor *piece_region(const ct_node *n, ct_tensor *full) {
    const piece_ctx *c = n->ctx;
    return c->selected ? ct_select(full, c->dim, c->start) : ct_narrow(full, c->dim, c->start, c->length);
}
static const ct_node_ops split_node = {"SplitBackward0", "split", NULL, NULL, piece_region};
static const ct_node_ops split_sizes_node = {"SplitWithSizesBackward0", "split_with_sizes", NULL, NULL, piece_region};
static const ct_node_ops unbind_node = {"UnbindBackward0", "unbind", NULL, NULL, piece_region};

/* Records a node per piece of t (views along dim, consecutive, in order). */
static ct_tensor_list record_pieces(ct_tensor_list pieces, const ct_tensor *t, int dim, const ct_node_ops *ops, bool selected) {
    const ct_tensor_list none = {0, NULL};
    if (!pieces.items) return none;
    int d = dim < 0 ? dim + t->ndim : dim;
    int64_t start = 0;
    for (int i = 0; i < pieces.n; i++) {
        ct_node *n = ct__record(ops, pieces.items[i], 1, &t, sizeof(piece_ctx));
        if (!n) return none; /* t is floating (it requires grad), so this is an error */
        int64_t length = selected ? 1 : pieces.items[i]->shape[d];
        *(piece_ctx *)n->ctx = (piece_ctx){d, start, length, selected};
        CT__TRACE_ATTRS(pieces.items[i], ((ct_trace_slice){d, start, selected ? -1 : start + length, selected ? 0 : 1}));
        start += selected ? 1 : pieces.items[i]->shape[d];
    }
    return pieces;
}

/* The plain pieces, computed with grad mode off (they are made from public views). */
#define PIECES_WITHOUT_GRAD(call)                                                                \
    ({                                                                                           \
        bool prev_ = ct_set_grad_enabled(false);                                                 \
        ct_tensor_list pieces_ = (call);                                                         \
        ct_set_grad_enabled(prev_);                                                              \
        pieces_;                                                                                 \
    })

ct_tensor_list ct_split(const ct_tensor *t, int64_t split_size, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__split(t, split_size, dim);
    return record_pieces(PIECES_WITHOUT_GRAD(ct__split(t, split_size, dim)), t, dim, &split_node, false);
}

ct_tensor_list ct_split_sizes(const ct_tensor *t, ct_shape sizes, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__split_sizes(t, sizes, dim);
    return record_pieces(PIECES_WITHOUT_GRAD(ct__split_sizes(t, sizes, dim)), t, dim, &split_sizes_node, false);
}

/* PyTorch's chunk is split(ceil(size / chunks)), or split_with_sizes for a size-0 dim. */
ct_tensor_list ct_chunk(const ct_tensor *t, int64_t chunks, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__chunk(t, chunks, dim);
    ct_tensor_list pieces = PIECES_WITHOUT_GRAD(ct__chunk(t, chunks, dim));
    bool empty_dim = pieces.items && t->shape[dim < 0 ? dim + t->ndim : dim] == 0;
    return record_pieces(pieces, t, dim, empty_dim ? &split_sizes_node : &split_node, false);
}

ct_tensor_list ct_unbind(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__unbind(t, dim);
    return record_pieces(PIECES_WITHOUT_GRAD(ct__unbind(t, dim)), t, dim, &unbind_node, true);
}

/* ---- repeat, tile ---------------------------------------------------------------------------------- */

typedef struct repeat_ctx {
    ct_shape repeats; /* one per output dim (tile's reps padded with leading ones) */
} repeat_ctx;

/* y = x repeated: viewed as [r0, s0, r1, s1, ...], y holds x broadcast along the r axes (and along
 * the leading dims repeats has beyond x's), so dx = grad summed over them. Axes with r == 1 or
 * s == 1 need no split (as in the forward), which keeps the view within CT_MAX_DIMS. */
static bool repeat_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape in = ct__input_shape(n, 0), reps = ((repeat_ctx *)n->ctx)->repeats;
    int lead = reps.ndim - in.ndim;
    ct_shape split = {.ndim = 0};
    ct_dims repeated = {.ndim = 0};
    for (int i = 0; i < reps.ndim; i++) {
        int64_t r = reps.d[i], s = i < lead ? 1 : in.d[i - lead];
        if (r != 1) repeated.d[repeated.ndim++] = split.ndim, split.d[split.ndim++] = r;
        if (s != 1 || r == 1) split.d[split.ndim++] = s;
    }
    ct_tensor *g = ct_reshape(grad, split);
    if (repeated.ndim) g = ct_sum(g, .dim = repeated);
    gi[0] = ct_reshape(g, in);
    return true;
}
static const ct_node_ops repeat_node = {"RepeatBackward0", "repeat", repeat_backward, NULL, NULL};
static const ct_node_ops tile_node = {"RepeatBackward0", "tile", repeat_backward, NULL, NULL};

ct_tensor *ct_repeat(const ct_tensor *t, ct_shape repeats) {
    CT__AG_BEGIN(ct__repeat(t, repeats), t);
    ct_node *n = CT__AG_RECORD(&repeat_node, sizeof(repeat_ctx));
    if (n) ((repeat_ctx *)n->ctx)->repeats = repeats;
    return ct__ag_result(out);
}

/* tile is repeat with reps padded to t's rank by leading ones (numpy.tile). */
ct_tensor *ct_tile(const ct_tensor *t, ct_shape reps) {
    CT__AG_BEGIN(ct__tile(t, reps), t);
    ct_node *n = CT__AG_RECORD(&tile_node, sizeof(repeat_ctx));
    if (n) {
        ct_shape repeats = {.ndim = t->ndim > reps.ndim ? t->ndim : reps.ndim};
        int pad = repeats.ndim - reps.ndim;
        for (int i = 0; i < repeats.ndim; i++) repeats.d[i] = i < pad ? 1 : reps.d[i - pad];
        ((repeat_ctx *)n->ctx)->repeats = repeats;
    }
    return ct__ag_result(out);
}

/* ---- flip, roll ------------------------------------------------------------------------------------ */

typedef struct rearrange_ctx {
    ct_dims dims;
    ct_shape shifts; /* roll only */
} rearrange_ctx;

/* flip is its own inverse permutation: dx = flip(grad, dims). */
static bool flip_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_flip(grad, ((rearrange_ctx *)n->ctx)->dims);
    return true;
}
static const ct_node_ops flip_node = {"FlipBackward0", "flip", flip_backward, NULL, NULL};

ct_tensor *ct_flip(const ct_tensor *t, ct_dims dims) {
    CT__AG_BEGIN(ct__flip(t, dims), t);
    ct_node *n = CT__AG_RECORD(&flip_node, sizeof(rearrange_ctx));
    if (n) ((rearrange_ctx *)n->ctx)->dims = dims;
    return ct__ag_result(out);
}

/* roll's inverse permutation rolls back: dx = roll(grad, -shifts, dims). */
static bool roll_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const rearrange_ctx *c = n->ctx;
    ct_shape back = c->shifts;
    for (int i = 0; i < back.ndim; i++) back.d[i] = -back.d[i];
    gi[0] = ct_roll(grad, back, c->dims);
    return true;
}
static const ct_node_ops roll_node = {"RollBackward0", "roll", roll_backward, NULL, NULL};

ct_tensor *ct_roll(const ct_tensor *t, ct_shape shifts, ct_dims dims) {
    CT__AG_BEGIN(ct__roll(t, shifts, dims), t);
    ct_node *n = CT__AG_RECORD(&roll_node, sizeof(rearrange_ctx));
    if (n) *(rearrange_ctx *)n->ctx = (rearrange_ctx){dims, shifts};
    return ct__ag_result(out);
}

/* ---- pad ---------------------------------------------------------------------------------------------- */

typedef struct pad_ctx {
    ct_shape pads;
    ct_pad_mode mode;
} pad_ctx;

/* Constant pad: y is x surrounded by constants (or cropped where a pad is negative), so dx is
 * grad with the pads undone: pad(grad, -pads) slices the border off and zero-fills the crop. */
static bool constant_pad_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape back = ((pad_ctx *)n->ctx)->pads;
    for (int i = 0; i < back.ndim; i++) back.d[i] = -back.d[i];
    gi[0] = ct_pad(grad, back);
    return true;
}

/* Reflect, replicate, circular: every y element is a copy of one x element, and an x element may
 * be copied several times, so dx[j] = sum of grad over the y positions holding x[j]. Padding the
 * flat indices of x the same way gives, for each y position, the index it was copied from; a
 * scatter-add of grad over those indices sums the contributions. */
static bool index_pad_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const pad_ctx *c = n->ctx;
    ct_shape in = ct__input_shape(n, 0);
    int64_t numel = 1;
    for (int d = 0; d < in.ndim; d++) numel *= in.d[d];
    ct_tensor_opts on_grad = {.dtype = CT_I64, .device = ct__device(grad)};
    ct_tensor *positions = ct_reshape(ct_arange_opt(0, (double)numel, 1, on_grad), in);
    ct_tensor *source = ct_reshape(ct_pad_opt(positions, c->pads, (ct_pad_opts){.mode = c->mode}), CT_SHAPE(-1));
    on_grad.dtype = grad->dtype;
    ct_tensor *summed = ct_scatter_add(ct_zeros_opt(CT_SHAPE(numel), on_grad), 0, source, ct_reshape(grad, CT_SHAPE(-1)));
    gi[0] = ct_reshape(summed, in);
    return true;
}

static const ct_node_ops constant_pad_node = {"ConstantPadNdBackward0", "pad", constant_pad_backward, NULL, NULL};
/* PyTorch names these after the number of padded dims (1 to 3; ctorch pads any number). */
static const ct_node_ops reflect_pad_nodes[3] = {
    {"ReflectionPad1dBackward0", "pad", index_pad_backward, NULL, NULL},
    {"ReflectionPad2dBackward0", "pad", index_pad_backward, NULL, NULL},
    {"ReflectionPad3dBackward0", "pad", index_pad_backward, NULL, NULL},
};
static const ct_node_ops replicate_pad_nodes[3] = {
    {"ReplicationPad1dBackward0", "pad", index_pad_backward, NULL, NULL},
    {"ReplicationPad2dBackward0", "pad", index_pad_backward, NULL, NULL},
    {"ReplicationPad3dBackward0", "pad", index_pad_backward, NULL, NULL},
};
/* PyTorch's circular pad is a composite of slice copies into a new tensor. */
static const ct_node_ops circular_pad_node = {"CopySlices", "pad", index_pad_backward, NULL, NULL};

static const ct_node_ops *pad_node(ct_pad_mode mode, int padded_dims) {
    int k = padded_dims < 1 ? 0 : padded_dims > 3 ? 2 : padded_dims - 1;
    switch (mode) {
    case CT_PAD_REFLECT: return &reflect_pad_nodes[k];
    case CT_PAD_REPLICATE: return &replicate_pad_nodes[k];
    case CT_PAD_CIRCULAR: return &circular_pad_node;
    default: return &constant_pad_node;
    }
}

ct_tensor *ct_pad_opt(const ct_tensor *t, ct_shape pads, ct_pad_opts opts) {
    CT__AG_BEGIN(ct__pad_opt(t, pads, opts), t);
    ct_node *n = CT__AG_RECORD(pad_node(opts.mode, pads.ndim / 2), sizeof(pad_ctx));
    if (n) *(pad_ctx *)n->ctx = (pad_ctx){pads, opts.mode};
    return ct__ag_result(out);
}

/* ---- tril, triu ------------------------------------------------------------------------------------ */

typedef struct diagonal_ctx {
    int64_t diagonal;
} diagonal_ctx;

/* tril/triu multiply x by a fixed 0/1 mask, so dx = grad under the same mask. */
static bool tril_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_tril(grad, ((diagonal_ctx *)n->ctx)->diagonal);
    return true;
}
static bool triu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_triu(grad, ((diagonal_ctx *)n->ctx)->diagonal);
    return true;
}
static const ct_node_ops tril_node = {"TrilBackward0", "tril", tril_backward, NULL, NULL};
static const ct_node_ops triu_node = {"TriuBackward0", "triu", triu_backward, NULL, NULL};

ct_tensor *ct_tril(const ct_tensor *t, int64_t diagonal) {
    CT__AG_BEGIN(ct__tril(t, diagonal), t);
    ct_node *n = CT__AG_RECORD(&tril_node, sizeof(diagonal_ctx));
    if (n) ((diagonal_ctx *)n->ctx)->diagonal = diagonal;
    return ct__ag_result(out);
}

ct_tensor *ct_triu(const ct_tensor *t, int64_t diagonal) {
    CT__AG_BEGIN(ct__triu(t, diagonal), t);
    ct_node *n = CT__AG_RECORD(&triu_node, sizeof(diagonal_ctx));
    if (n) ((diagonal_ctx *)n->ctx)->diagonal = diagonal;
    return ct__ag_result(out);
}
