/* cumsum and cumprod along one dim; integer and bool inputs give int64 as in PyTorch. */
#include "reduce_impl.h"

static ct_tensor *scan(const char *op, int kind, const ct_tensor *t, int dim) {
    if (!CT__CHECK(op, t)) return NULL;
    int d = ct__wrap_dim(op, dim, t->ndim);
    if (d < 0) return NULL;
    const ct__reduce_kernels *k = ct__reduce_kernels_for(op, t);
    if (!k) return NULL;
    ct_dtype out_dtype = ct_dtype_is_floating(t->dtype) ? t->dtype : CT_I64;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, out_dtype, ct__device(t));
    if (!out) return NULL;
    ct__red_plan plan = {.kind = kind, .int_acc = out_dtype == CT_I64};
    ct__row_plan(&plan, t, d, out);
    return k->rows(&plan) ? out : NULL;
}

ct_tensor *ct__cumsum(const ct_tensor *t, int dim) { return scan("cumsum", CT__ROW_CUMSUM, t, dim); }
ct_tensor *ct__cumprod(const ct_tensor *t, int dim) { return scan("cumprod", CT__ROW_CUMPROD, t, dim); }
