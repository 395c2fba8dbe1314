/* A tensor's autograd face: requires_grad, leaves, .grad, grad_fn, retain_grad, detach. */
#include "autograd_impl.h"

bool ct_requires_grad(const ct_tensor *t) { return t && t->requires_grad; }

ct_tensor *ct_requires_grad_(ct_tensor *t, bool requires_grad) {
    if (!CT__CHECK("requires_grad_", t)) return NULL;
    if (requires_grad && !ct_dtype_is_floating(t->dtype))
        return ct_error(CT_ERR_DTYPE, "requires_grad_: only Tensors of floating point dtype can require gradients (got %s)",
                        ct_dtype_name(t->dtype));
    if (!requires_grad && t->grad_fn)
        return ct_error(CT_ERR_STATE, "requires_grad_: you can only change requires_grad flags of leaf variables. If you want to use "
                                      "a computed variable in a subgraph that doesn't require differentiation use "
                                      "var_no_grad = ct_detach(var).");
    if (requires_grad && t->is_inference && !ct__inference_mode)
        return ct_error(CT_ERR_STATE, "requires_grad_: Setting requires_grad=True on inference tensor outside InferenceMode is not "
                                      "allowed.");
    t->requires_grad = requires_grad || t->grad_fn;
    /* A leaf that requires grad is its own base: writes into views of it are checked against it,
     * not against the storage it was viewed from. */
    if (requires_grad && t->view_base) {
        ct_release(t->view_base);
        t->view_base = NULL;
    }
    return t;
}

bool ct_is_leaf(const ct_tensor *t) { return t && !t->grad_fn; }

ct_tensor *ct_grad(const ct_tensor *t) {
    if (!CT__CHECK("grad", t) || !t->autograd || !t->autograd->grad) return NULL;
    return ct_scope_own(ct_retain(t->autograd->grad));
}

bool ct_set_grad(ct_tensor *t, const ct_tensor *grad) {
    if (!CT__CHECK("set_grad", t)) return false;
    if (grad) {
        if (!ct__same_shape(grad->shape, grad->ndim, t->shape, t->ndim)) {
            ct_error(CT_ERR_SHAPE, "set_grad: assigned grad has data of a different size (%s for a tensor of shape %s)",
                     ct__shape_str(grad->shape, grad->ndim), ct__shape_str(t->shape, t->ndim));
            return false;
        }
        if (grad->dtype != t->dtype) {
            ct_error(CT_ERR_DTYPE, "set_grad: assigned grad has data of a different type (%s for a %s tensor)",
                     ct_dtype_name(grad->dtype), ct_dtype_name(t->dtype));
            return false;
        }
        if (!ct_device_equal(ct__device(grad), ct__device(t))) {
            ct_error(CT_ERR_DEVICE, "set_grad: assigned grad has data located on a different device (%s for a tensor on %s)",
                     ct_device_name(ct__device(grad)), ct_device_name(ct__device(t)));
            return false;
        }
    }
    if (!grad && !t->autograd) return true;
    ct_autograd_meta *m = ct__meta(t);
    if (!m) return false;
    ct_release(m->grad);
    m->grad = ct_retain((ct_tensor *)grad);
    return true;
}

const char *ct_grad_fn_name(const ct_tensor *t) { return t && t->grad_fn ? t->grad_fn->ops->name : NULL; }

ct_tensor *ct_retain_grad(ct_tensor *t) {
    if (!CT__CHECK("retain_grad", t)) return NULL;
    if (!t->requires_grad) return ct_error(CT_ERR_STATE, "retain_grad: can't retain_grad on Tensor that has requires_grad=False");
    if (!t->grad_fn) return t; /* leaves keep their grad anyway */
    ct_autograd_meta *m = ct__meta(t);
    if (!m) return NULL;
    m->retains_grad = true;
    if (t->grad_fn->output_meta != m) {
        ct_release(t->grad_fn->output_meta);
        t->grad_fn->output_meta = ct_retain(m);
    }
    return t;
}

bool ct_retains_grad(const ct_tensor *t) { return t && t->grad_fn && t->autograd && t->autograd->retains_grad; }

ct_tensor *ct_detach(const ct_tensor *t) {
    if (!CT__CHECK("detach", t)) return NULL;
    ct_tensor *d = ct__tensor_view(t, t->shape, t->stride, t->ndim, t->offset);
    if (!d) return NULL;
    d->wrapped_number = t->wrapped_number;
    /* not a view for autograd: writes through it are seen only by version counters */
    ct_release(d->view_base);
    d->view_base = NULL;
    return d;
}

ct_tensor *ct_detach_(ct_tensor *t) {
    if (!CT__CHECK("detach_", t)) return NULL;
    ct_release(t->grad_fn);
    t->grad_fn = NULL;
    t->requires_grad = false;
    return t;
}
