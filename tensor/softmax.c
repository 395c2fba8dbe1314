/* softmax and log_softmax along one dim (max-subtracted, so large inputs do not overflow). */
#include "reduce_impl.h"

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
