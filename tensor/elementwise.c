/* Elementwise ops: validation, type promotion, output allocation, dispatch to the device's loops
 * (elementwise_impl.h). The common path (same dtypes) allocates only the output; inputs of
 * another dtype are converted to the compute dtype inside a scope that ends before returning. */
#include "elementwise_impl.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------------ */

static const ct_ew_kernels *kernels(const char *op, const ct_tensor *t) {
    if (ct__is_cpu(t)) return &ct__ew_cpu_kernels;
#ifdef CT_HAVE_CUDA
    if (ct__device(t).type == CT_DEVICE_CUDA) return &ct__ew_cuda_kernels;
#endif
    ct__no_kernel(op, ct__device(t));
    return NULL;
}

/* A CPU 0-d tensor (a Python number's stand-in) may join tensors of another device, as in
 * PyTorch; its one value travels to the kernel by value (ct_ew_params.host_scalars). */
static bool is_host_scalar(const ct_tensor *t, ct_device out) {
    return ct__is_cpu(t) && t->ndim == 0 && out.type != CT_DEVICE_CPU;
}

/* The device of a binary op: b's when a is a CPU 0-d tensor next to a device tensor, else a's;
 * any other mix of devices is an error. */
static bool binary_device(const char *op, const ct_tensor *a, const ct_tensor *b, ct_device *device) {
    ct_device da = ct__device(a), db = ct__device(b);
    *device = da;
    if (ct_device_equal(da, db)) return true;
    if (is_host_scalar(a, db)) return *device = db, true;
    if (is_host_scalar(b, da)) return true;
    return ct__check_same_device(op, 2, (const ct_tensor *const[]){a, b});
}

/* PyTorch's canCast: no floating -> integral, no non-bool -> bool. */
static bool can_cast(ct_dtype from, ct_dtype to) {
    if (ct_dtype_is_floating(from) && !ct_dtype_is_floating(to)) return false;
    return !(from != CT_BOOL && to == CT_BOOL);
}

static bool check_cast(const char *op, ct_dtype result, ct_dtype out) {
    if (can_cast(result, out)) return true;
    ct_error(CT_ERR_DTYPE, "%s: result type %s can't be cast to the desired output type %s", op, ct__torch_type_name(result),
             ct__torch_type_name(out));
    return false;
}

/* In-place: the other operands must broadcast to exactly the output's shape. */
static bool check_inplace_shape(const char *op, const ct_shape *shape, const ct_tensor *out) {
    if (ct__same_shape(shape->d, shape->ndim, out->shape, out->ndim)) return true;
    ct_error(CT_ERR_SHAPE, "%s: output with shape %s doesn't match the broadcast shape %s", op,
             ct__shape_str(out->shape, out->ndim), ct__shape_str(shape->d, shape->ndim));
    return false;
}

static bool is_integral_value(double v) { return isfinite(v) && v == trunc(v); }

/* ---- binary ------------------------------------------------------------------------------------- */

static const char *const binary_kernel_names[CT_EW_NUM_BINARY] = {
    "add", "mul", "div", "div_trunc", "div_floor", "pow", "minimum", "maximum", "remainder", "atan2", "gelu_backward", "gelu_tanh_backward", "relu_backward",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"};

/* True division and atan2 of integers happen in the default float dtype. */
static ct_dtype binary_compute_dtype(ct_ew_binary op, const ct_tensor *a, const ct_tensor *b) {
    ct_dtype rt = ct__result_type(2, (const ct_tensor *const[]){a, b});
    if ((op == CT_EW_DIV || op == CT_EW_ATAN2) && !ct_dtype_is_floating(rt)) return ct_get_default_dtype();
    return rt;
}

static bool check_alpha(const char *op, ct_dtype dtype, double alpha) {
    if (ct_dtype_is_floating(dtype) || is_integral_value(alpha)) return true;
    ct_error(CT_ERR_ARG, "%s: For integral input tensors, argument alpha must not be a floating point number.", op);
    return false;
}

/* A one-element CPU input of another dtype (typically a Python-number stand-in) is converted
 * into `slot` and read with stride 0: no allocation for x * ct_scalar(0.5). */
static bool scalar_slot(const ct_tensor *t, ct_dtype cdt, double *slot, ct_device out) {
    if (!ct__is_cpu(t) || ct__numel(t->shape, t->ndim) != 1) return false;
    if (out.type != CT_DEVICE_CPU && t->ndim != 0) return false;
    ct__store_f64(slot, cdt, ct__load_f64(ct__data(t), t->dtype));
    return true;
}

/* out = op(a, b) computed in cdt; out already has the broadcast shape. */
static bool run_binary(const char *name, const ct_ew_kernels *k, ct_ew_binary op, ct_dtype cdt, ct_tensor *out,
                       const ct_tensor *a, const ct_tensor *b, double alpha) {
    const ct_tensor *in[2] = {a, b};
    double slot[2];
    bool in_slot[2] = {false, false}, scoped = false, ok = false;
    ct_device dev = ct__device(out);
    for (int i = 0; i < 2; i++) {
        if (in[i]->dtype == cdt && !is_host_scalar(in[i], dev)) continue;
        in_slot[i] = scalar_slot(in[i], cdt, &slot[i], dev);
        if (in_slot[i]) continue;
        if (!scoped) ct_scope_begin(), scoped = true;
        in[i] = ct__contiguous_as(in[i], cdt);
        if (!in[i]) goto done;
    }
    ct_ew_params p = {.alpha = alpha, .device = dev.index};
    atomic_init(&p.zero_division, 0);
    for (int i = 0; i < 2; i++)
        if (in_slot[i] && dev.type != CT_DEVICE_CPU) p.host_scalars |= 1u << (i + 1);
    ct_iter it;
    ct_shape shape = {.ndim = out->ndim};
    memcpy(shape.d, out->shape, (size_t)out->ndim * sizeof *shape.d);
    if (in_slot[0] || in_slot[1]) {
        static const int64_t zero[CT_MAX_DIMS] = {0};
        int64_t strides[3][CT_MAX_DIMS];
        char *data[3] = {ct__data(out), NULL, NULL};
        const int64_t *stride_ptrs[3] = {out->stride, strides[1], strides[2]};
        size_t size = ct_dtype_size(cdt);
        for (int i = 0; i < 2; i++) {
            data[i + 1] = in_slot[i] ? (char *)&slot[i] : ct__data(in[i]);
            if (in_slot[i]) stride_ptrs[i + 1] = zero;
            else ct__broadcast_strides(in[i], &shape, strides[i + 1]);
        }
        ct_iter_init_raw(&it, 3, data, stride_ptrs, (const size_t[]){ct_dtype_size(out->dtype), size, size}, shape.d,
                         shape.ndim);
    } else {
        ct_iter_init(&it, 3, (const ct_tensor *const[]){out, in[0], in[1]}, &shape);
    }
    if (!k->binary(op, cdt, &it, &p)) {
        ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", name, binary_kernel_names[op], ct__torch_type_name(cdt));
    } else if (p.failed) {
        /* the device error is recorded */
    } else if (atomic_load(&p.zero_division)) {
        ct_error(CT_ERR_ARG, "%s: ZeroDivisionError", name);
    } else {
        ok = true;
    }
done:
    if (scoped) ct_scope_end();
    return ok;
}

static ct_tensor *binary(const char *name, ct_ew_binary op, const ct_tensor *a, const ct_tensor *b, double alpha) {
    if (!CT__CHECK(name, a, b)) return NULL;
    const ct_tensor *const ops[2] = {a, b};
    ct_shape shape;
    ct_device device;
    if (!binary_device(name, a, b, &device) || !ct__broadcast_shape(name, 2, ops, &shape)) return NULL;
    const ct_ew_kernels *k = kernels(name, ct_device_equal(device, ct__device(a)) ? a : b);
    if (!k) return NULL;
    ct_dtype cdt = binary_compute_dtype(op, a, b);
    if (op == CT_EW_ADD && !check_alpha(name, cdt, alpha)) return NULL;
    ct_tensor *out = ct__tensor_new(shape.d, shape.ndim, op >= CT_EW_EQ ? CT_BOOL : cdt, device);
    if (!out || !run_binary(name, k, op, cdt, out, a, b, alpha)) return NULL;
    return out;
}

static ct_tensor *binary_inplace(const char *name, ct_ew_binary op, ct_tensor *a, const ct_tensor *b, double alpha) {
    if (!CT__CHECK(name, a, b)) return NULL;
    const ct_tensor *const ops[2] = {a, b};
    ct_shape shape;
    ct_device device;
    if (!binary_device(name, a, b, &device) || !ct__broadcast_shape(name, 2, ops, &shape)) return NULL;
    if (!ct_device_equal(device, ct__device(a))) { /* the output cannot move: only b may be a host scalar */
        ct__check_same_device(name, 2, ops);
        return NULL;
    }
    if (!check_inplace_shape(name, &shape, a) || !ct__check_writable(name, a)) return NULL;
    const ct_ew_kernels *k = kernels(name, a);
    if (!k) return NULL;
    ct_dtype cdt = binary_compute_dtype(op, a, b);
    if (!check_cast(name, cdt, a->dtype)) return NULL;
    if (op == CT_EW_ADD && !check_alpha(name, cdt, alpha)) return NULL;
    bool ok;
    if (cdt == a->dtype) {
        ok = run_binary(name, k, op, cdt, a, a, b, alpha);
    } else { /* compute in the wider dtype, then cast into a */
        ct_scope_begin();
        ct_tensor *tmp = ct__tensor_new(shape.d, shape.ndim, cdt, ct__device(a));
        ok = tmp && run_binary(name, k, op, cdt, tmp, a, b, alpha) && ct__copy_into(name, a, tmp);
        ct_scope_end();
    }
    if (!ok) return NULL;
    ct__bump_version(a);
    return a;
}

/* Bool subtraction has no meaning; PyTorch points at xor / logical_not. */
static bool check_sub_bool(const ct_tensor *a, const ct_tensor *b) {
    if (!a || !b) return true;
    if (a->dtype == CT_BOOL && b->dtype == CT_BOOL) {
        ct_error(CT_ERR_DTYPE, "sub: Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                               "`^` or `logical_xor()` operator instead.");
        return false;
    }
    if (a->dtype == CT_BOOL || b->dtype == CT_BOOL) {
        ct_error(CT_ERR_DTYPE, "sub: Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        return false;
    }
    return true;
}

ct_tensor *ct__add_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    return binary("add", CT_EW_ADD, a, b, opts.alpha);
}
ct_tensor *ct__sub_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    if (!check_sub_bool(a, b)) return NULL;
    return binary("sub", CT_EW_ADD, a, b, -opts.alpha);
}
ct_tensor *ct__mul(const ct_tensor *a, const ct_tensor *b) { return binary("mul", CT_EW_MUL, a, b, 1); }

static ct_ew_binary div_op(ct_rounding mode) {
    return mode == CT_ROUND_TRUNC ? CT_EW_DIV_TRUNC : mode == CT_ROUND_FLOOR ? CT_EW_DIV_FLOOR : CT_EW_DIV;
}
ct_tensor *ct__div_opt(const ct_tensor *a, const ct_tensor *b, ct_div_opts opts) {
    if ((unsigned)opts.rounding_mode > CT_ROUND_FLOOR)
        return ct_error(CT_ERR_ARG, "div: invalid rounding_mode %d", (int)opts.rounding_mode);
    return binary("div", div_op(opts.rounding_mode), a, b, 1);
}
ct_tensor *ct__pow(const ct_tensor *a, const ct_tensor *b) { return binary("pow", CT_EW_POW, a, b, 1); }
ct_tensor *ct__minimum(const ct_tensor *a, const ct_tensor *b) { return binary("minimum", CT_EW_MINIMUM, a, b, 1); }
ct_tensor *ct__maximum(const ct_tensor *a, const ct_tensor *b) { return binary("maximum", CT_EW_MAXIMUM, a, b, 1); }
ct_tensor *ct__remainder(const ct_tensor *a, const ct_tensor *b) {
    return binary("remainder", CT_EW_REMAINDER, a, b, 1);
}
ct_tensor *ct__atan2(const ct_tensor *a, const ct_tensor *b) { return binary("atan2", CT_EW_ATAN2, a, b, 1); }
ct_tensor *ct__relu_backward(const ct_tensor *grad, const ct_tensor *result) {
    return binary("relu_backward", CT_EW_RELU_BACKWARD, grad, result, 1);
}
ct_tensor *ct__gelu_backward(const ct_tensor *grad, const ct_tensor *x, ct_gelu_approx approximate) {
    return binary("gelu_backward", approximate == CT_GELU_TANH ? CT_EW_GELU_TANH_BACKWARD : CT_EW_GELU_BACKWARD, grad, x, 1);
}

ct_tensor *ct_eq(const ct_tensor *a, const ct_tensor *b) { return binary("eq", CT_EW_EQ, a, b, 1); }
ct_tensor *ct_ne(const ct_tensor *a, const ct_tensor *b) { return binary("ne", CT_EW_NE, a, b, 1); }
ct_tensor *ct_lt(const ct_tensor *a, const ct_tensor *b) { return binary("lt", CT_EW_LT, a, b, 1); }
ct_tensor *ct_le(const ct_tensor *a, const ct_tensor *b) { return binary("le", CT_EW_LE, a, b, 1); }
ct_tensor *ct_gt(const ct_tensor *a, const ct_tensor *b) { return binary("gt", CT_EW_GT, a, b, 1); }
ct_tensor *ct_ge(const ct_tensor *a, const ct_tensor *b) { return binary("ge", CT_EW_GE, a, b, 1); }
ct_tensor *ct_logical_and(const ct_tensor *a, const ct_tensor *b) {
    return binary("logical_and", CT_EW_LOGICAL_AND, a, b, 1);
}
ct_tensor *ct_logical_or(const ct_tensor *a, const ct_tensor *b) {
    return binary("logical_or", CT_EW_LOGICAL_OR, a, b, 1);
}
ct_tensor *ct_logical_xor(const ct_tensor *a, const ct_tensor *b) {
    return binary("logical_xor", CT_EW_LOGICAL_XOR, a, b, 1);
}

ct_tensor *ct__add_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    return binary_inplace("add_", CT_EW_ADD, a, b, opts.alpha);
}
ct_tensor *ct__sub_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    if (!check_sub_bool(a, b)) return NULL;
    return binary_inplace("sub_", CT_EW_ADD, a, b, -opts.alpha);
}
ct_tensor *ct__mul_(ct_tensor *a, const ct_tensor *b) { return binary_inplace("mul_", CT_EW_MUL, a, b, 1); }
ct_tensor *ct__div_(ct_tensor *a, const ct_tensor *b) { return binary_inplace("div_", CT_EW_DIV, a, b, 1); }

/* ---- scalar right-hand sides ------------------------------------------------------------------- */

/* A Python float next to a tensor: floating tensors keep their dtype, others get the default
 * float dtype. The 0-d operand is made directly in that dtype, so nothing is converted later. */
static ct_tensor *with_scalar(const char *name, ct_ew_binary op, const ct_tensor *a, double s, double alpha,
                              bool scalar_first) {
    if (!CT__CHECK(name, a)) return NULL;
    ct_dtype dt = ct_dtype_is_floating(a->dtype) ? a->dtype : ct_get_default_dtype();
    ct_scope_begin();
    ct_tensor *st = ct_scalar_tensor(s, .dtype = dt); /* on the CPU: passed by value to devices */
    ct_tensor *r = st ? (scalar_first ? binary(name, op, st, a, alpha) : binary(name, op, a, st, alpha)) : NULL;
    ct_keep(r);
    ct_scope_end();
    return r;
}

ct_tensor *ct__add_scalar(const ct_tensor *a, double s) { return with_scalar("add", CT_EW_ADD, a, s, 1, false); }
ct_tensor *ct__sub_scalar(const ct_tensor *a, double s) { return with_scalar("sub", CT_EW_ADD, a, s, -1, false); }
ct_tensor *ct__mul_scalar(const ct_tensor *a, double s) { return with_scalar("mul", CT_EW_MUL, a, s, 1, false); }
ct_tensor *ct__div_scalar(const ct_tensor *a, double s) { return with_scalar("div", CT_EW_DIV, a, s, 1, false); }
ct_tensor *ct__pow_scalar(const ct_tensor *a, double e) { return with_scalar("pow", CT_EW_POW, a, e, 1, false); }
ct_tensor *ct__rsub_scalar(const ct_tensor *a, double s) { return with_scalar("rsub", CT_EW_ADD, a, s, -1, true); }

/* In place: an integral s on an integer tensor acts as a Python int (a.add_(1) keeps int64);
 * anything else as a Python float, which integer tensors cannot take. */
static ct_tensor *with_scalar_inplace(const char *name, ct_ew_binary op, ct_tensor *a, double s) {
    if (!CT__CHECK(name, a)) return NULL;
    ct_dtype dt = ct_dtype_is_floating(a->dtype)                              ? a->dtype
                  : ct_dtype_is_integral(a->dtype) && is_integral_value(s) ? a->dtype
                                                                             : ct_get_default_dtype();
    ct_scope_begin();
    ct_tensor *st = ct_scalar_tensor(s, .dtype = dt);
    ct_tensor *r = st ? binary_inplace(name, op, a, st, 1) : NULL;
    ct_scope_end();
    return r;
}
ct_tensor *ct__add_scalar_(ct_tensor *a, double s) { return with_scalar_inplace("add_", CT_EW_ADD, a, s); }
ct_tensor *ct__mul_scalar_(ct_tensor *a, double s) { return with_scalar_inplace("mul_", CT_EW_MUL, a, s); }

/* ---- unary ---------------------------------------------------------------------------------------- */

static const char *const unary_kernel_names[CT_EW_NUM_UNARY] = {
    "neg", "abs", "sign", "square", "relu", "clamp", "floor", "ceil", "round", "trunc", "nan_to_num", "sqrt",
    "rsqrt", "reciprocal", "exp", "log", "log2", "log1p", "expm1", "sin", "cos", "tan", "tanh", "erf", "sigmoid",
    "silu", "gelu", "gelu", "leaky_relu", "elu", "softplus", "isnan", "isinf", "isfinite", "logical_not"};

typedef struct unary_params {
    double p0, p1, p2;
} unary_params;

/* Float functions of integers and bools compute in the default float dtype. */
static ct_dtype unary_compute_dtype(ct_ew_unary op, ct_dtype dt) {
    if (op >= CT_EW_SQRT && op < CT_EW_ISNAN && !ct_dtype_is_floating(dt)) return ct_get_default_dtype();
    return dt;
}

/* out = op(t) in cdt; out has t's shape. */
static bool run_unary(const char *name, const ct_ew_kernels *k, ct_ew_unary op, ct_dtype cdt, ct_tensor *out,
                      const ct_tensor *t, unary_params up) {
    bool convert = t->dtype != cdt, ok = false;
    if (convert) {
        ct_scope_begin();
        t = ct__contiguous_as(t, cdt);
        if (!t) goto done;
    }
    ct_ew_params p = {.p0 = up.p0, .p1 = up.p1, .p2 = up.p2, .device = ct__device(out).index};
    atomic_init(&p.zero_division, 0);
    ct_iter it;
    ct_shape shape = {.ndim = out->ndim};
    memcpy(shape.d, out->shape, (size_t)out->ndim * sizeof *shape.d);
    ct_iter_init(&it, 2, (const ct_tensor *const[]){out, t}, &shape);
    ok = k->unary(op, cdt, &it, &p);
    if (p.failed) ok = false; /* the device error is recorded */
    else if (!ok) ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", name, unary_kernel_names[op], ct__torch_type_name(cdt));
done:
    if (convert) ct_scope_end();
    return ok;
}

static ct_tensor *unary_as(const char *name, ct_ew_unary op, const ct_tensor *t, ct_dtype cdt, unary_params up) {
    const ct_ew_kernels *k = kernels(name, t);
    if (!k) return NULL;
    ct_dtype out_dtype = op >= CT_EW_ISNAN ? CT_BOOL : cdt;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, out_dtype, ct__device(t));
    if (!out || !run_unary(name, k, op, cdt, out, t, up)) return NULL;
    return out;
}

static ct_tensor *unary_p(const char *name, ct_ew_unary op, const ct_tensor *t, unary_params up) {
    if (!CT__CHECK(name, t)) return NULL;
    return unary_as(name, op, t, unary_compute_dtype(op, t->dtype), up);
}
static ct_tensor *unary(const char *name, ct_ew_unary op, const ct_tensor *t) {
    return unary_p(name, op, t, (unary_params){0, 0, 0});
}

static ct_tensor *unary_inplace_p(const char *name, ct_ew_unary op, ct_tensor *t, ct_dtype cdt, unary_params up) {
    if (!check_cast(name, cdt, t->dtype) || !ct__check_writable(name, t)) return NULL;
    const ct_ew_kernels *k = kernels(name, t);
    if (!k || !run_unary(name, k, op, cdt, t, t, up)) return NULL;
    ct__bump_version(t);
    return t;
}
static ct_tensor *unary_inplace(const char *name, ct_ew_unary op, ct_tensor *t) {
    if (!CT__CHECK(name, t)) return NULL;
    return unary_inplace_p(name, op, t, unary_compute_dtype(op, t->dtype), (unary_params){0, 0, 0});
}

static bool reject_bool(const char *name, const ct_tensor *t) {
    if (!t || t->dtype != CT_BOOL) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for 'Bool'", name, name);
    return false;
}

static bool check_neg_bool(const ct_tensor *t) {
    if (!t || t->dtype != CT_BOOL) return true;
    ct_error(CT_ERR_DTYPE, "neg: Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.");
    return false;
}

ct_tensor *ct__neg(const ct_tensor *t) { return check_neg_bool(t) ? unary("neg", CT_EW_NEG, t) : NULL; }
ct_tensor *ct__abs(const ct_tensor *t) { return reject_bool("abs", t) ? unary("abs", CT_EW_ABS, t) : NULL; }
ct_tensor *ct__sign(const ct_tensor *t) { return unary("sign", CT_EW_SIGN, t); }
ct_tensor *ct__square(const ct_tensor *t) {
    if (!CT__CHECK("square", t)) return NULL;
    /* square is pow(t, 2): bool promotes with the int 2 to int64 */
    return unary_as("square", CT_EW_SQUARE, t, t->dtype == CT_BOOL ? CT_I64 : t->dtype, (unary_params){0, 0, 0});
}
ct_tensor *ct__sqrt(const ct_tensor *t) { return unary("sqrt", CT_EW_SQRT, t); }
ct_tensor *ct__rsqrt(const ct_tensor *t) { return unary("rsqrt", CT_EW_RSQRT, t); }
ct_tensor *ct__reciprocal(const ct_tensor *t) { return unary("reciprocal", CT_EW_RECIPROCAL, t); }
ct_tensor *ct__exp(const ct_tensor *t) { return unary("exp", CT_EW_EXP, t); }
ct_tensor *ct__log(const ct_tensor *t) { return unary("log", CT_EW_LOG, t); }
ct_tensor *ct__log2(const ct_tensor *t) { return unary("log2", CT_EW_LOG2, t); }
ct_tensor *ct__log1p(const ct_tensor *t) { return unary("log1p", CT_EW_LOG1P, t); }
ct_tensor *ct__expm1(const ct_tensor *t) { return unary("expm1", CT_EW_EXPM1, t); }
ct_tensor *ct__sin(const ct_tensor *t) { return unary("sin", CT_EW_SIN, t); }
ct_tensor *ct__cos(const ct_tensor *t) { return unary("cos", CT_EW_COS, t); }
ct_tensor *ct__tan(const ct_tensor *t) { return unary("tan", CT_EW_TAN, t); }
ct_tensor *ct__tanh(const ct_tensor *t) { return unary("tanh", CT_EW_TANH, t); }
ct_tensor *ct__erf(const ct_tensor *t) { return unary("erf", CT_EW_ERF, t); }
ct_tensor *ct__sigmoid(const ct_tensor *t) { return unary("sigmoid", CT_EW_SIGMOID, t); }
ct_tensor *ct__silu(const ct_tensor *t) { return unary("silu", CT_EW_SILU, t); }

/* Rounding leaves integers as they are (a copy, as PyTorch returns); bools have no rounding. */
static ct_tensor *rounding(const char *name, ct_ew_unary op, const ct_tensor *t) {
    if (!CT__CHECK(name, t) || !reject_bool(name, t)) return NULL;
    return ct_dtype_is_floating(t->dtype) ? unary(name, op, t) : ct_clone(t);
}
ct_tensor *ct__floor(const ct_tensor *t) { return rounding("floor", CT_EW_FLOOR, t); }
ct_tensor *ct__ceil(const ct_tensor *t) { return rounding("ceil", CT_EW_CEIL, t); }
ct_tensor *ct__round(const ct_tensor *t) { return rounding("round", CT_EW_ROUND, t); }
ct_tensor *ct__trunc(const ct_tensor *t) { return rounding("trunc", CT_EW_TRUNC, t); }

static bool check_relu_bool(const ct_tensor *t) {
    if (!t || t->dtype != CT_BOOL) return true;
    ct_error(CT_ERR_DTYPE, "relu: Boolean inputs not supported for relu");
    return false;
}
ct_tensor *ct__relu(const ct_tensor *t) { return check_relu_bool(t) ? unary("relu", CT_EW_RELU, t) : NULL; }

ct_tensor *ct__gelu_opt(const ct_tensor *t, ct_gelu_opts opts) {
    if ((unsigned)opts.approximate > CT_GELU_TANH)
        return ct_error(CT_ERR_ARG, "gelu: invalid approximate mode %d", (int)opts.approximate);
    return unary("gelu", opts.approximate == CT_GELU_TANH ? CT_EW_GELU_TANH : CT_EW_GELU, t);
}
ct_tensor *ct__leaky_relu(const ct_tensor *t, double negative_slope) {
    return unary_p("leaky_relu", CT_EW_LEAKY_RELU, t, (unary_params){negative_slope, 0, 0});
}
ct_tensor *ct__elu(const ct_tensor *t, double alpha) { return unary_p("elu", CT_EW_ELU, t, (unary_params){alpha, 0, 0}); }
ct_tensor *ct__softplus_opt(const ct_tensor *t, ct_softplus_opts opts) {
    return unary_p("softplus", CT_EW_SOFTPLUS, t, (unary_params){opts.beta, opts.threshold, 0});
}

/* Bounds as a Python number would promote them: integral (or infinite) bounds keep integer
 * dtypes (bool goes to int64), fractional ones give the default float dtype. Integer bounds are
 * then clipped to the dtype's range, so the kernel's conversions stay defined. */
static ct_dtype clamp_dtype(ct_dtype dt, double lo, double hi) {
    if (ct_dtype_is_floating(dt)) return dt;
    bool integral = (isinf(lo) || lo == trunc(lo)) && (isinf(hi) || hi == trunc(hi));
    if (!integral) return ct_get_default_dtype();
    return dt == CT_BOOL ? CT_I64 : dt;
}
static unary_params clamp_params(ct_dtype dt, double lo, double hi) {
    if (ct_dtype_is_floating(dt)) return (unary_params){lo, hi, 0};
    double tmin = dt == CT_U8 ? 0 : dt == CT_I32 ? INT32_MIN : -9223372036854775808.0;
    double tmax = dt == CT_U8 ? 255 : dt == CT_I32 ? INT32_MAX : 9223372036854774784.0; /* largest double < 2^63 */
    lo = lo < tmin ? tmin : lo > tmax ? tmax : lo;
    hi = hi < tmin ? tmin : hi > tmax ? tmax : hi;
    return (unary_params){lo, hi, 0};
}
static bool check_clamp_bounds(const char *name, double lo, double hi) {
    if (!isnan(lo) && !isnan(hi)) return true;
    ct_error(CT_ERR_ARG, "%s: clamp bounds must not be NaN", name);
    return false;
}
ct_tensor *ct__clamp(const ct_tensor *t, double min, double max) {
    if (!CT__CHECK("clamp", t) || !check_clamp_bounds("clamp", min, max)) return NULL;
    ct_dtype cdt = clamp_dtype(t->dtype, min, max);
    return unary_as("clamp", CT_EW_CLAMP, t, cdt, clamp_params(cdt, min, max));
}
ct_tensor *ct__clamp_(ct_tensor *t, double min, double max) {
    if (!CT__CHECK("clamp_", t) || !check_clamp_bounds("clamp_", min, max)) return NULL;
    ct_dtype cdt = clamp_dtype(t->dtype, min, max);
    return unary_inplace_p("clamp_", CT_EW_CLAMP, t, cdt, clamp_params(cdt, min, max));
}

static double dtype_max(ct_dtype dt) {
    switch (dt) {
    case CT_F16: return 65504.0;
    case CT_BF16: return 3.3895313892515355e38; /* (2 - 2^-7) * 2^127 */
    case CT_F32: return FLT_MAX;
    default: return DBL_MAX;
    }
}
ct_tensor *ct__nan_to_num_opt(const ct_tensor *t, ct_nan_to_num_opts opts) {
    if (!CT__CHECK("nan_to_num", t)) return NULL;
    if (!ct_dtype_is_floating(t->dtype)) return ct_clone(t); /* nothing to replace */
    double big = dtype_max(t->dtype);
    unary_params up = {opts.nan, isnan(opts.posinf) ? big : opts.posinf, isnan(opts.neginf) ? -big : opts.neginf};
    return unary_as("nan_to_num", CT_EW_NAN_TO_NUM, t, t->dtype, up);
}

/* is* tests: integers and bools are never NaN or infinite. */
static ct_tensor *classify(const char *name, ct_ew_unary op, const ct_tensor *t, bool integer_answer) {
    if (!CT__CHECK(name, t)) return NULL;
    if (!ct_dtype_is_floating(t->dtype))
        return ct_full_opt(ct_shape_of(t), integer_answer, (ct_tensor_opts){.dtype = CT_BOOL, .device = ct__device(t)});
    return unary(name, op, t);
}
ct_tensor *ct_isnan(const ct_tensor *t) { return classify("isnan", CT_EW_ISNAN, t, false); }
ct_tensor *ct_isinf(const ct_tensor *t) { return classify("isinf", CT_EW_ISINF, t, false); }
ct_tensor *ct_isfinite(const ct_tensor *t) { return classify("isfinite", CT_EW_ISFINITE, t, true); }
ct_tensor *ct_logical_not(const ct_tensor *t) { return unary("logical_not", CT_EW_LOGICAL_NOT, t); }

ct_tensor *ct__neg_(ct_tensor *t) { return check_neg_bool(t) ? unary_inplace("neg_", CT_EW_NEG, t) : NULL; }
ct_tensor *ct__exp_(ct_tensor *t) { return unary_inplace("exp_", CT_EW_EXP, t); }
ct_tensor *ct__sqrt_(ct_tensor *t) { return unary_inplace("sqrt_", CT_EW_SQRT, t); }
ct_tensor *ct__relu_(ct_tensor *t) { return check_relu_bool(t) ? unary_inplace("relu_", CT_EW_RELU, t) : NULL; }
ct_tensor *ct__sigmoid_(ct_tensor *t) { return unary_inplace("sigmoid_", CT_EW_SIGMOID, t); }
ct_tensor *ct__tanh_(ct_tensor *t) { return unary_inplace("tanh_", CT_EW_TANH, t); }

/* ---- equality -------------------------------------------------------------------------------------- */

bool ct_equal(const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("equal", a, b)) return false;
    if (!ct__check_same_device("equal", 2, (const ct_tensor *const[]){a, b})) return false;
    if (!ct__same_shape(a->shape, a->ndim, b->shape, b->ndim)) return false;
    const ct_ew_kernels *k = kernels("equal", a);
    if (!k) return false;
    bool result = false;
    CT_SCOPE {
        ct_tensor *eq = ct_eq(a, b);
        result = eq && k->all_true(eq);
    }
    return result;
}

/* |a - b| <= atol + rtol * |b|, computed in float64; equal values (infinities too) are close. */
bool ct_allclose(const ct_tensor *a, const ct_tensor *b, double rtol, double atol) {
    if (!CT__CHECK("allclose", a, b)) return false;
    const ct_ew_kernels *k = kernels("allclose", a);
    if (!k) return false;
    bool result = false;
    CT_SCOPE {
        const ct_tensor *a64 = ct__contiguous_as(a, CT_F64), *b64 = a64 ? ct__contiguous_as(b, CT_F64) : NULL;
        if (!b64) break;
        ct_tensor *tol = ct_add_scalar(ct_mul_scalar(ct_abs(b64), rtol), atol);
        ct_tensor *close = ct_logical_or(ct_eq(a64, b64), ct_le(ct_abs(ct_sub(a64, b64)), tol));
        result = close && k->all_true(close);
    }
    return result;
}

/* ---- where and masked_fill ------------------------------------------------------------------------- */

/* PyTorch lets a 0-d CPU tensor (a scalar, e.g. a mask computed from ct_scalar values in a backward
 * formula) meet device tensors; these ops read every operand on the device, so such a scalar is
 * copied there first (one element). Anything else is left for the same-device check to report. */
static const ct_tensor *scalar_onto(const ct_tensor *t, int n, const ct_tensor *const *others) {
    if (!t || !ct__is_cpu(t) || t->ndim != 0) return t;
    for (int i = 0; i < n; i++)
        if (others[i] && !ct__is_cpu(others[i])) return ct__to(t, ct__device(others[i]));
    return t;
}

ct_tensor *ct__where(const ct_tensor *cond, const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("where", cond, a, b)) return NULL;
    const ct_tensor *all[3] = {cond, a, b};
    cond = scalar_onto(cond, 3, all), a = scalar_onto(a, 3, all), b = scalar_onto(b, 3, all);
    if (!cond || !a || !b) return NULL;
    const ct_tensor *const ops[3] = {cond, a, b};
    ct_shape shape;
    if (!ct__check_same_device("where", 3, ops)) return NULL;
    if (cond->dtype != CT_BOOL)
        return ct_error(CT_ERR_DTYPE, "where: where expected condition to be a boolean tensor, but got a tensor with "
                                      "dtype %s", ct__torch_type_name(cond->dtype));
    if (!ct__broadcast_shape("where", 3, ops, &shape)) return NULL;
    const ct_ew_kernels *k = kernels("where", a);
    if (!k) return NULL;
    ct_dtype dt = ct__result_type(2, ops + 1);
    ct_tensor *out = ct__tensor_new(shape.d, shape.ndim, dt, ct__device(a));
    if (!out) return NULL;
    bool convert = a->dtype != dt || b->dtype != dt, ok = true;
    if (convert) {
        ct_scope_begin();
        a = a->dtype != dt ? ct__contiguous_as(a, dt) : a;
        b = a && b->dtype != dt ? ct__contiguous_as(b, dt) : b;
        ok = a && b;
    }
    if (ok) {
        ct_iter it;
        ct_iter_init(&it, 4, (const ct_tensor *const[]){out, cond, a, b}, &shape);
        ok = k->where(&it, ct_dtype_size(dt), ct__device(out).index);
    }
    if (convert) ct_scope_end();
    return ok ? out : NULL;
}

/* t[mask] = value with mask already checked to broadcast to t's shape. */
static bool fill_where(const ct_ew_kernels *k, ct_tensor *t, const ct_tensor *mask, double value) {
    bool ok = false;
    CT_SCOPE {
        ct_tensor *v = ct_scalar_tensor(value, .dtype = t->dtype, .device = ct__device(t));
        if (!v) break;
        ct_shape shape = ct_shape_of(t);
        ct_iter it; /* out and the "else" operand are t itself, element for element */
        ct_iter_init(&it, 4, (const ct_tensor *const[]){t, mask, v, t}, &shape);
        ok = k->where(&it, ct_dtype_size(t->dtype), ct__device(t).index);
    }
    return ok;
}

static bool check_mask(const char *name, const ct_tensor *t, const ct_tensor *mask) {
    if (!ct__check_same_device(name, 2, (const ct_tensor *const[]){t, mask})) return false;
    if (mask->dtype == CT_BOOL) return true;
    ct_error(CT_ERR_DTYPE, "%s: masked_fill_ only supports boolean masks, but got mask with dtype %s", name,
             ct_dtype_name(mask->dtype));
    return false;
}

ct_tensor *ct__masked_fill_(ct_tensor *t, const ct_tensor *mask, double value) {
    if (!CT__CHECK("masked_fill_", t, mask) || !(mask = scalar_onto(mask, 1, (const ct_tensor *const[]){t})) || !check_mask("masked_fill_", t, mask)) return NULL;
    ct_shape shape;
    if (!ct__broadcast_shape("masked_fill_", 2, (const ct_tensor *const[]){t, mask}, &shape)) return NULL;
    if (!check_inplace_shape("masked_fill_", &shape, t) || !ct__check_writable("masked_fill_", t)) return NULL;
    const ct_ew_kernels *k = kernels("masked_fill_", t);
    if (!k || !fill_where(k, t, mask, value)) return NULL;
    ct__bump_version(t);
    return t;
}

ct_tensor *ct__masked_fill(const ct_tensor *t, const ct_tensor *mask, double value) {
    if (!CT__CHECK("masked_fill", t, mask) || !(mask = scalar_onto(mask, 1, (const ct_tensor *const[]){t})) || !check_mask("masked_fill", t, mask)) return NULL;
    ct_shape shape;
    if (!ct__broadcast_shape("masked_fill", 2, (const ct_tensor *const[]){t, mask}, &shape)) return NULL;
    const ct_ew_kernels *k = kernels("masked_fill", t);
    if (!k) return NULL;
    ct_tensor *out = ct__tensor_new(shape.d, shape.ndim, t->dtype, ct__device(t));
    if (!out || !ct__copy_into("masked_fill", out, t) || !fill_where(k, out, mask, value)) return NULL;
    return out;
}
