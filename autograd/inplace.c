/* In-place ops under autograd. The op is recorded as its out-of-place form applied to a copy of
 * self's old value; the result is written into self, whose grad_fn becomes that node. The copy
 * keeps the old value that the derivative may need, and every node that saved self before sees
 * the version bump and refuses to run on the new values (DESIGN §5). A node that saved its own
 * result (exp_, sigmoid_, ...) is made to keep self instead, as PyTorch does, so that a later
 * in-place change of self is caught too.
 *
 * A write into a view changes its base too, so the base gets a new grad_fn as well (PyTorch's
 * CopySlices): with idx the flat index in the base of each element of the view, and r the op's
 * result,
 *     base_new = base_old with base_new[idx] = r
 *     d base_old = grad with grad[idx] = 0        d r = grad[idx]
 * and the view's own grad_fn becomes an as_strided view of the new base. */
#include "autograd_impl.h"

bool ct__ag_check_inplace(const char *op, const ct_tensor *self) {
    if (!self) return true; /* the op reports the NULL */
    if (self->is_inference && !ct__inference_mode) {
        ct_error(CT_ERR_STATE, "%s: Inplace update to inference tensor outside InferenceMode is not allowed. You can make a "
                               "clone to get a normal tensor before doing inplace update.", op);
        return false;
    }
    if (ct__grad_enabled() && self->requires_grad && !self->grad_fn) {
        ct_error(CT_ERR_STATE, "%s: a leaf Variable that requires grad is being used in an in-place operation.", op);
        return false;
    }
    return true;
}

/* ---- CopySlices ---- */

static bool copy_slices_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_tensor *idx = (ct_tensor *)ct__saved(n, 0);
    ct_tensor *flat = ct_reshape(grad, CT_SHAPE(-1));
    if (ct__needs_grad(n, 0)) {
        ct_tensor *g = ct_clone(flat);
        ct_index_put_(g, CT_TENSORS(idx), ct_zeros(CT_SHAPE(), .dtype = ct_dtype_of(grad)), false);
        gi[0] = ct_reshape(g, ct__input_shape(n, 0));
    }
    if (ct__needs_grad(n, 1)) gi[1] = ct_index(flat, CT_TENSORS(idx));
    return true;
}
static const ct_node_ops copy_slices_node = {"CopySlices", "in-place write into a view", copy_slices_backward, NULL, NULL};

/* The base a write into self changes, or NULL with an error when autograd cannot follow it. The
 * base must own its storage as a contiguous block (every base made by an op does), so a flat
 * index into it is a storage offset. */
static ct_tensor *writable_base(const char *op, const ct_tensor *self) {
    ct_tensor *base = self->view_base;
    if (ct__grad_enabled() && base->requires_grad && !base->grad_fn)
        return ct_error(CT_ERR_STATE, "%s: a view of a leaf Variable that requires grad is being used in an in-place operation.", op);
    int64_t numel = ct__numel(base->shape, base->ndim);
    if (base->offset != 0 || !ct__is_contiguous(base) || (size_t)numel * ct_dtype_size(base->dtype) != base->storage->nbytes)
        return ct_error(CT_ERR_UNSUPPORTED, "%s: in-place write into a view of a tensor that does not own its storage as one "
                                            "block; autograd cannot record it (clone the base first)", op);
    return base;
}

/* Gives base a CopySlices node over the write of `updated` into its view self, and self an
 * as_strided view node of the new base. */
static bool rebase_view(ct_tensor *self, ct_tensor *base, ct_tensor *updated) {
    bool prev = ct_set_grad_enabled(false);
    ct_tensor *idx = ct_as_strided(ct_arange(0, (double)ct__numel(base->shape, base->ndim), 1), ct_shape_of(self),
                                   ct_strides_of(self), self->offset);
    ct_set_grad_enabled(prev);
    if (!idx) return false;
    ct_node *n = ct__record_over(&copy_slices_node, base, 2, (const ct_tensor *const[]){base, updated}, 0);
    if (!n || ct__save(n, idx) < 0) return false;
    ct_tensor *view = ct_as_strided(base, ct_shape_of(self), ct_strides_of(self), self->offset);
    if (!view) return false;
    ct_release(self->grad_fn);
    self->grad_fn = ct_retain(view->grad_fn);
    self->requires_grad = true;
    return true;
}

/* Nodes that kept updated (the op's own result) keep self instead. */
static bool keep_self_for_updated(ct_tensor *self, const ct_tensor *updated) {
    ct_node *n = updated->grad_fn;
    for (int i = 0; n && i < n->n_saved; i++) {
        ct_saved *kept = &n->saved[i];
        if (!kept->tensor || kept->tensor->storage != updated->storage) continue;
        ct_tensor *alias = ct__tensor_alias_unscoped(self);
        if (!alias) return false;
        ct_release(kept->tensor);
        kept->tensor = alias;
        kept->version = atomic_load_explicit(&self->storage->version, memory_order_relaxed);
    }
    return true;
}

ct_tensor *ct__ag_inplace(const char *op, ct_tensor *self, bool other_requires_grad, ct_inplace_fn out_of_place, void *args) {
    if (!ct__ag_check_inplace(op, self)) return NULL;
    ct_tensor *base = NULL;
    if (self->view_base && (self->requires_grad || other_requires_grad || self->view_base->requires_grad)) {
        base = writable_base(op, self);
        if (!base) return NULL;
    }
    ct_tensor *result = NULL;
    ct_scope_begin();
    ct_tensor *updated = ct_to_dtype(out_of_place(ct_clone(self), args), self->dtype);
    if (updated) {
        bool prev = ct_set_grad_enabled(false);
        bool ok = ct__copy_(self, updated) != NULL;
        ct_set_grad_enabled(prev);
        ok = ok && keep_self_for_updated(self, updated);
        if (ok && base) {
            ok = rebase_view(self, base, updated);
        } else if (ok) {
            ct_release(self->grad_fn);
            self->grad_fn = ct_retain(updated->grad_fn);
            self->requires_grad = updated->requires_grad;
        }
        if (ok) result = self;
    }
    ct_scope_end();
    return result;
}
