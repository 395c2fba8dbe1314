/* dtype names, sizes and PyTorch's promotion lattice. */
#include "tensor_impl.h"

static const char *const dtype_names[CT_NUM_DTYPES] = {
    "bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"};
static const size_t dtype_sizes[CT_NUM_DTYPES] = {1, 1, 4, 8, 2, 2, 4, 8};
static _Atomic int default_dtype = CT_F32;

const char *ct__torch_type_name(ct_dtype dtype) {
    static const char *const names[CT_NUM_DTYPES] = {"Bool", "Byte", "Int", "Long", "Half", "BFloat16", "Float", "Double"};
    return ct__dtype_valid(dtype) ? names[dtype] : "Unknown";
}

bool ct__dtype_valid(ct_dtype dtype) { return (int)dtype >= 0 && dtype < CT_NUM_DTYPES; }

const char *ct_dtype_name(ct_dtype dtype) { return ct__dtype_valid(dtype) ? dtype_names[dtype] : "invalid dtype"; }
size_t ct_dtype_size(ct_dtype dtype) { return ct__dtype_valid(dtype) ? dtype_sizes[dtype] : 0; }
bool ct_dtype_is_floating(ct_dtype dtype) { return dtype >= CT_F16 && dtype <= CT_F64; }
bool ct_dtype_is_integral(ct_dtype dtype) { return dtype >= CT_U8 && dtype <= CT_I64; }

ct_dtype ct_promote_types(ct_dtype a, ct_dtype b) {
    if (a == b) return a;
    /* The only pair whose join is not the larger of the two: neither 16-bit float holds the
     * other, so they meet at float32. Everything else is ordered by the enum. */
    if ((a == CT_F16 && b == CT_BF16) || (a == CT_BF16 && b == CT_F16)) return CT_F32;
    return a > b ? a : b;
}

void ct_set_default_dtype(ct_dtype dtype) {
    if (!ct_dtype_is_floating(dtype)) {
        ct_error(CT_ERR_DTYPE, "set_default_dtype: only floating-point types are supported as the default type, got %s",
                 ct_dtype_name(dtype));
        return;
    }
    default_dtype = dtype;
}

ct_dtype ct_get_default_dtype(void) { return (ct_dtype)default_dtype; }

static int category(ct_dtype d) { return d == CT_BOOL ? 0 : ct_dtype_is_integral(d) ? 1 : 2; }

/* PyTorch's result_type: dimensioned tensors decide first; 0-d tensors only raise the result to a
 * higher category; Python numbers (wrapped scalars) likewise, a float number giving the default
 * dtype when the tensors are integral or bool. */
ct_dtype ct__result_type(int n, const ct_tensor *const *ts) {
    int have[3] = {0, 0, 0};
    ct_dtype st[3] = {CT_BOOL, CT_BOOL, CT_BOOL}; /* 0: dimensioned, 1: zero-dim, 2: wrapped */
    for (int i = 0; i < n; i++) {
        const ct_tensor *t = ts[i];
        int k = t->wrapped_number ? 2 : t->ndim == 0 ? 1 : 0;
        ct_dtype d = t->dtype;
        if (k == 2) /* Python number: int64, float64 or bool stand for "int", "float", "bool" */
            d = d == CT_F64 ? ct_get_default_dtype() : d;
        st[k] = have[k] ? ct_promote_types(st[k], d) : d;
        have[k] = 1;
    }
    ct_dtype result = CT_BOOL;
    int started = 0;
    for (int k = 0; k < 3; k++) {
        if (!have[k]) continue;
        if (!started) {
            result = st[k];
            started = 1;
        } else if (category(st[k]) > category(result)) {
            result = st[k];
        }
    }
    return result;
}
