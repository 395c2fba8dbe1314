/* In-place ops under autograd. The op is recorded as its out-of-place form applied to a copy of
 * self's old value; the result is written into self, whose grad_fn becomes that node. The copy
 * keeps the old value that the derivative may need, and every node that saved self before sees
 * the version bump and refuses to run on the new values (DESIGN §5). A node that saved its own
 * result (exp_, sigmoid_, ...) is made to keep self instead, as PyTorch does, so that a later
 * in-place change of self is caught too. */
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

ct_tensor *ct__ag_inplace(const char *op, ct_tensor *self, bool other_requires_grad, ct_inplace_fn out_of_place, void *args) {
    if (!ct__ag_check_inplace(op, self)) return NULL;
    if (self->is_view && (self->requires_grad || other_requires_grad))
        return ct_error(CT_ERR_UNSUPPORTED, "%s: in-place operations on views are not recorded by ctorch's autograd when a "
                                            "gradient must flow through them; use the out-of-place form (or clone the base first)",
                        op);
    ct_tensor *result = NULL;
    ct_scope_begin();
    ct_tensor *updated = ct_to_dtype(out_of_place(ct_clone(self), args), self->dtype);
    if (updated) {
        bool prev = ct_set_grad_enabled(false);
        bool ok = ct__copy_(self, updated) != NULL;
        ct_set_grad_enabled(prev);
        if (ok) {
            ct_node *n = updated->grad_fn;
            for (int i = 0; n && i < n->n_saved; i++) {
                ct_saved *kept = &n->saved[i];
                if (!kept->tensor || kept->tensor->storage != updated->storage) continue;
                ct_tensor *alias = ct__tensor_alias_unscoped(self);
                if (!alias) {
                    ok = false;
                    break;
                }
                ct_release(kept->tensor);
                kept->tensor = alias;
                kept->version = atomic_load_explicit(&self->storage->version, memory_order_relaxed);
            }
        }
        if (ok) {
            ct_release(self->grad_fn);
            self->grad_fn = ct_retain(updated->grad_fn);
            self->requires_grad = updated->requires_grad;
            result = self;
        }
    }
    ct_scope_end();
    return result;
}
