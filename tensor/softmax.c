/* softmax and log_softmax along one dim (max-subtracted, so large inputs do not overflow), and
 * their backward as one fused row op (softmax_impl.h has the math). */
#include "reduce_impl.h"
#include "softmax_impl.h"

static ct_tensor *softmax_common(const char *op, const char *kernel_name, int kind, const ct_tensor *t, int dim) {
    if (!CT__CHECK(op, t)) return NULL;
    int d = ct__wrap_dim(op, dim, t->ndim);
    if (d < 0) return NULL;
    if (!ct_dtype_is_floating(t->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, kernel_name,
                        ct__torch_type_name(t->dtype));
    const ct__reduce_kernels *k = ct__reduce_kernels_for(op, t);
    if (!k) return NULL;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, t->dtype, ct__device(t));
    if (!out) return NULL;
    ct__red_plan plan = {.kind = kind};
    ct__row_plan(&plan, t, d, out);
    return k->rows(&plan) ? out : NULL;
}

ct_tensor *ct__softmax(const ct_tensor *t, int dim) {
    return softmax_common("softmax", "softmax_kernel_impl", CT__ROW_SOFTMAX, t, dim);
}

ct_tensor *ct__log_softmax(const ct_tensor *t, int dim) {
    return softmax_common("log_softmax", "log_softmax_kernel_impl", CT__ROW_LOG_SOFTMAX, t, dim);
}

/* ---- backward ---- */

static const ct__softmax_kernels *backward_kernels(const char *op, const ct_tensor *t) {
    switch (ct__device(t).type) {
    case CT_DEVICE_CPU: return &ct__softmax_cpu_kernels;
#ifdef CT_HAVE_CUDA
    case CT_DEVICE_CUDA: return &ct__softmax_cuda_kernels;
#endif
    default: return ct__no_kernel(op, ct__device(t));
    }
}

ct_tensor *ct__softmax_backward(const ct_tensor *grad, const ct_tensor *y, int dim, bool log) {
    const char *op = log ? "log_softmax_backward" : "softmax_backward";
    if (!CT__CHECK(op, grad, y) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){grad, y})) return NULL;
    if (!ct_dtype_is_floating(y->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: expected a floating point output, got %s", op,
                        ct__torch_type_name(y->dtype));
    bool same_shape = grad->ndim == y->ndim;
    for (int i = 0; same_shape && i < y->ndim; i++) same_shape = grad->shape[i] == y->shape[i];
    if (!same_shape)
        return ct_error(CT_ERR_SHAPE, "%s: grad %s and output %s must have the same shape", op,
                        ct__shape_str(grad->shape, grad->ndim), ct__shape_str(y->shape, y->ndim));
    int d = ct__wrap_dim(op, dim, y->ndim);
    if (d < 0) return NULL;
    const ct__softmax_kernels *k = backward_kernels(op, y);
    if (!k) return NULL;
    /* [outer, n, inner] around dim d (a 0-d tensor is one row of one element) */
    int64_t outer = 1, n = y->ndim ? y->shape[d] : 1, inner = 1;
    for (int i = 0; i < d; i++) outer *= y->shape[i];
    for (int i = d + 1; i < y->ndim; i++) inner *= y->shape[i];
    ct_tensor *out = NULL;
    CT_SCOPE {
        /* the gradient in the output's dtype (the engine casts it already; a direct caller may not) */
        ct_tensor *g = ct__contiguous_as(grad, y->dtype), *yc = ct__contiguous_as(y, y->dtype);
        ct_tensor *dx = g && yc ? ct__tensor_new(y->shape, y->ndim, y->dtype, ct__device(y)) : NULL;
        if (!dx) break;
        ct__softmax_bw_args a = {.grad = ct__data(g), .y = ct__data(yc), .dx = ct__data(dx), .outer = outer, .n = n,
                                 .inner = inner, .log = log, .dtype = y->dtype, .device = ct__device(y).index};
        if (outer * n * inner > 0 && !k->backward(&a)) break;
        out = ct_keep(dx);
    }
    return out;
}
