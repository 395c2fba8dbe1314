/* Derivatives of unary math and activations (autograd/grad_unary.c): every op and in-place form
 * against central differences over several shapes and layouts, grad_fn names, f32 gradients,
 * PyTorch's subgradients at kinks, and the in-place rules (leaves, saved outputs changed). */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

/* ---- the ops as gradcheck functions ---- */

#define UNARY_FN(op)                                                   \
    static ct_tensor *op##_fn(ct_tensor *const *in, void *user) {      \
        (void)user;                                                    \
        return ct_##op(in[0]);                                         \
    }
/* In-place forms act on a clone: a leaf that requires grad may not be changed in place. */
#define INPLACE_FN(op)                                                 \
    static ct_tensor *op##__fn(ct_tensor *const *in, void *user) {     \
        (void)user;                                                    \
        return ct_##op##_(ct_clone(in[0]));                            \
    }

UNARY_FN(neg)
UNARY_FN(abs)
UNARY_FN(sign)
UNARY_FN(sqrt)
UNARY_FN(rsqrt)
UNARY_FN(square)
UNARY_FN(reciprocal)
UNARY_FN(exp)
UNARY_FN(log)
UNARY_FN(log2)
UNARY_FN(log1p)
UNARY_FN(expm1)
UNARY_FN(sin)
UNARY_FN(cos)
UNARY_FN(tan)
UNARY_FN(tanh)
UNARY_FN(erf)
UNARY_FN(floor)
UNARY_FN(ceil)
UNARY_FN(round)
UNARY_FN(trunc)
UNARY_FN(sigmoid)
UNARY_FN(relu)
UNARY_FN(silu)
INPLACE_FN(neg)
INPLACE_FN(exp)
INPLACE_FN(sqrt)
INPLACE_FN(relu)
INPLACE_FN(sigmoid)
INPLACE_FN(tanh)

/* Parameters of the ops that take some. */
typedef struct op_params {
    double a, b;
} op_params;

static ct_tensor *gelu_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_gelu(in[0]);
}
static ct_tensor *gelu_tanh_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_gelu(in[0], .approximate = CT_GELU_TANH);
}
static ct_tensor *leaky_relu_fn(ct_tensor *const *in, void *user) { return ct_leaky_relu(in[0], ((op_params *)user)->a); }
static ct_tensor *elu_fn(ct_tensor *const *in, void *user) { return ct_elu(in[0], ((op_params *)user)->a); }
static ct_tensor *softplus_fn(ct_tensor *const *in, void *user) {
    op_params *p = user;
    return ct_softplus(in[0], .beta = p->a, .threshold = p->b);
}
static ct_tensor *clamp_fn(ct_tensor *const *in, void *user) {
    op_params *p = user;
    return ct_clamp(in[0], p->a, p->b);
}
static ct_tensor *clamp__fn(ct_tensor *const *in, void *user) {
    op_params *p = user;
    return ct_clamp_(ct_clone(in[0]), p->a, p->b);
}
static ct_tensor *nan_to_num_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_nan_to_num(in[0]);
}
/* An in-place op on a tensor that already has a grad_fn (not just a clone). */
static ct_tensor *tanh__of_sin_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_tanh_(ct_sin(in[0]));
}

static op_params leaky_slope = {0.2, 0}, elu_alpha = {1.5, 0}, softplus_default = {1, 20}, softplus_steep = {2, 1},
                 clamp_both = {-1, 1}, clamp_max_only = {-INFINITY, 0.5}, clamp_min_only = {-0.5, INFINITY};

/* A gradcheck row (its shape is replaced by each of test_shapes) and the grad_fn it records. */
typedef struct unary_case {
    tu_grad_case c;
    const char *grad_fn;
} unary_case;

#define ROW(name, fn, user, lo, hi, grad_fn) {{name, fn, user, 1, {CT_SHAPE(1)}, lo, hi}, grad_fn}

/* Value ranges keep clear of kinks, poles and the domain's edges. */
static unary_case cases[] = {
    ROW("neg", neg_fn, NULL, 0, 0, "NegBackward0"),
    ROW("abs", abs_fn, NULL, 0, 0, "AbsBackward0"),
    ROW("sign", sign_fn, NULL, 0.1, 2, "SignBackward0"),
    ROW("sqrt", sqrt_fn, NULL, 0.5, 2, "SqrtBackward0"),
    ROW("rsqrt", rsqrt_fn, NULL, 0.5, 2, "RsqrtBackward0"),
    ROW("square", square_fn, NULL, 0, 0, "PowBackward0"),
    ROW("reciprocal", reciprocal_fn, NULL, 0.5, 2, "ReciprocalBackward0"),
    ROW("exp", exp_fn, NULL, 0, 0, "ExpBackward0"),
    ROW("log", log_fn, NULL, 0.5, 2, "LogBackward0"),
    ROW("log2", log2_fn, NULL, 0.5, 2, "Log2Backward0"),
    ROW("log1p", log1p_fn, NULL, -0.5, 2, "Log1PBackward0"),
    ROW("expm1", expm1_fn, NULL, 0, 0, "Expm1Backward0"),
    ROW("sin", sin_fn, NULL, 0, 0, "SinBackward0"),
    ROW("cos", cos_fn, NULL, 0, 0, "CosBackward0"),
    ROW("tan", tan_fn, NULL, -1.2, 1.2, "TanBackward0"),
    ROW("tanh", tanh_fn, NULL, 0, 0, "TanhBackward0"),
    ROW("erf", erf_fn, NULL, 0, 0, "ErfBackward0"),
    ROW("floor", floor_fn, NULL, 0.1, 0.9, "FloorBackward0"),
    ROW("ceil", ceil_fn, NULL, 0.1, 0.9, "CeilBackward0"),
    ROW("round", round_fn, NULL, 0.1, 0.4, "RoundBackward0"),
    ROW("trunc", trunc_fn, NULL, -0.9, -0.1, "TruncBackward0"),
    ROW("sigmoid", sigmoid_fn, NULL, 0, 0, "SigmoidBackward0"),
    ROW("relu", relu_fn, NULL, 0, 0, "ReluBackward0"),
    ROW("silu", silu_fn, NULL, -4, 4, "SiluBackward0"),
    ROW("gelu", gelu_fn, NULL, -4, 4, "GeluBackward0"),
    ROW("gelu tanh", gelu_tanh_fn, NULL, -4, 4, "GeluBackward0"),
    ROW("leaky_relu", leaky_relu_fn, &leaky_slope, 0, 0, "LeakyReluBackward0"),
    ROW("elu", elu_fn, &elu_alpha, 0, 0, "EluBackward0"),
    ROW("softplus", softplus_fn, &softplus_default, -4, 4, "SoftplusBackward0"),
    ROW("softplus beta 2 threshold 1 (both regions)", softplus_fn, &softplus_steep, -2, 2, "SoftplusBackward0"),
    ROW("clamp", clamp_fn, &clamp_both, 0, 0, "ClampBackward1"),
    ROW("clamp max only", clamp_fn, &clamp_max_only, 0, 0, "ClampBackward1"),
    ROW("clamp min only", clamp_fn, &clamp_min_only, 0, 0, "ClampBackward1"),
    ROW("nan_to_num", nan_to_num_fn, NULL, 0, 0, "NanToNumBackward0"),
};
/* In-place forms (recorded through clone and to_dtype, see autograd/inplace.c). */
static unary_case inplace_cases[] = {
    ROW("neg_", neg__fn, NULL, 0, 0, "NegBackward0"),
    ROW("exp_", exp__fn, NULL, 0, 0, "ExpBackward0"),
    ROW("sqrt_", sqrt__fn, NULL, 0.5, 2, "SqrtBackward0"),
    ROW("relu_", relu__fn, NULL, 0, 0, "ReluBackward0"),
    ROW("sigmoid_", sigmoid__fn, NULL, 0, 0, "SigmoidBackward0"),
    ROW("tanh_", tanh__fn, NULL, 0, 0, "TanhBackward0"),
    ROW("clamp_", clamp__fn, &clamp_both, 0, 0, "ClampBackward1"),
    ROW("tanh_ of sin", tanh__of_sin_fn, NULL, 0, 0, "TanhBackward0"),
};
#define COUNT(rows) (sizeof(rows) / sizeof *(rows))

static const ct_shape test_shapes[] = {CT_SHAPE(3, 4), CT_SHAPE(2, 3, 2), CT_SHAPE(5), CT_SHAPE()};

/* ---- every op against central differences ---- */

static void gradcheck_rows(const unary_case *rows, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < COUNT(test_shapes); s++) {
            tu_grad_case c = rows[i].c;
            c.shapes[0] = test_shapes[s];
            tu_gradcheck(&c);
        }
}

/* A leaf of dtype holding values drawn from the case's range. */
static ct_tensor *case_leaf(const tu_grad_case *c, ct_dtype dtype) {
    uint64_t state = 7;
    double lo = c->lo, hi = c->hi;
    if (lo == 0 && hi == 0) lo = -2, hi = 2;
    return ct_requires_grad_(tu_random(&state, CT_SHAPE(2, 3), dtype, TU_CONTIGUOUS, lo, hi), true);
}

static void check_grad_fn_names(const unary_case *rows, size_t n) {
    for (size_t i = 0; i < n; i++) CT_SCOPE {
        ct_tensor *x = case_leaf(&rows[i].c, CT_F64);
        ct_tensor *y = rows[i].c.fn(&x, rows[i].c.user);
        if (!y) fail_msg("%s: %s", rows[i].c.name, ct_last_error());
        const char *name = ct_grad_fn_name(y);
        if (!name || strcmp(name, rows[i].grad_fn) != 0)
            fail_msg("%s: grad_fn %s, want %s", rows[i].c.name, name ? name : "(none)", rows[i].grad_fn);
    }
}

static void check_f32_gradients(const unary_case *rows, size_t n) {
    for (size_t i = 0; i < n; i++) CT_SCOPE {
        ct_tensor *x = case_leaf(&rows[i].c, CT_F32);
        ct_tensor *y = rows[i].c.fn(&x, rows[i].c.user);
        if (!y) fail_msg("%s: %s", rows[i].c.name, ct_last_error());
        assert_int_equal(ct_dtype_of(y), CT_F32);
        if (!ct_backward(ct_sum(y))) fail_msg("%s: %s", rows[i].c.name, ct_last_error());
        ct_tensor *g = ct_grad(x);
        if (!g || ct_dtype_of(g) != CT_F32) fail_msg("%s: gradient is not float32", rows[i].c.name);
    }
}

static void test_gradcheck(void **state) {
    (void)state;
    gradcheck_rows(cases, COUNT(cases));
}

static void test_grad_fn_names(void **state) {
    (void)state;
    check_grad_fn_names(cases, COUNT(cases));
}

static void test_f32_inputs_get_f32_gradients(void **state) {
    (void)state;
    check_f32_gradients(cases, COUNT(cases));
}

static void test_inplace_gradcheck_names_and_f32(void **state) {
    (void)state;
    gradcheck_rows(inplace_cases, COUNT(inplace_cases));
    check_grad_fn_names(inplace_cases, COUNT(inplace_cases));
    check_f32_gradients(inplace_cases, COUNT(inplace_cases));
}

/* ---- exact values at PyTorch's special points ---- */

/* x = values (f64 leaf); backward of sum(fn(x)); asserts x.grad == want within tol. */
static void assert_grad_at(ct_gradcheck_fn fn, void *user, int64_t n, const double *values, const double *want, double tol) {
    CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(ct_from_data(values, CT_SHAPE(n), CT_F64), true);
        if (!ct_backward(ct_sum(fn(&x, user)))) fail_msg("backward: %s", ct_last_error());
        ct_tensor *g = ct_grad(x);
        if (!g) fail_msg("no gradient");
        tu_assert_values(g, CT_SHAPE(n), want, 0, tol);
    }
}

static void test_subgradients_at_kinks(void **state) {
    (void)state;
    /* relu'(0) = 0 (threshold_backward on the result), in both forms */
    assert_grad_at(relu_fn, NULL, 3, (double[]){-1, 0, 2}, (double[]){0, 0, 1}, 0);
    /* abs'(0) = sgn(0) = 0 */
    assert_grad_at(abs_fn, NULL, 3, (double[]){-2, 0, 3}, (double[]){-1, 0, 1}, 0);
    /* leaky_relu at 0 takes the negative slope (x > 0 picks grad) */
    op_params slope = {0.1, 0};
    assert_grad_at(leaky_relu_fn, &slope, 3, (double[]){-1, 0, 2}, (double[]){0.1, 0.1, 1}, 0);
    /* elu at 0 takes the negative branch: alpha * e^0 */
    op_params alpha = {2, 0};
    assert_grad_at(elu_fn, &alpha, 3, (double[]){-1, 0, 1}, (double[]){2 * exp(-1), 2, 1}, 1e-15);
    /* clamp passes the gradient at both bounds (subgradient 1), not outside */
    op_params bounds = {-1, 1};
    assert_grad_at(clamp_fn, &bounds, 5, (double[]){-2, -1, 0, 1, 2}, (double[]){0, 1, 1, 1, 0}, 0);
    /* one bound: only that side is compared, so NaN passes when no bound is given at all */
    op_params max_only = {-INFINITY, 1}, none = {-INFINITY, INFINITY};
    assert_grad_at(clamp_fn, &max_only, 4, (double[]){-1e300, 1, 2, NAN}, (double[]){1, 1, 0, 0}, 0);
    assert_grad_at(clamp_fn, &none, 2, (double[]){NAN, -INFINITY}, (double[]){1, 1}, 0);
}

static void test_special_values(void **state) {
    (void)state;
    /* piecewise-constant ops give zero gradients (PyTorch's zeros_like), not no gradient */
    const ct_gradcheck_fn steps[] = {sign_fn, floor_fn, ceil_fn, round_fn, trunc_fn};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        assert_grad_at(steps[i], NULL, 3, (double[]){-1.5, 0, 2.5}, (double[]){0, 0, 0}, 0);
    /* nan_to_num passes the gradient only where the input is finite */
    assert_grad_at(nan_to_num_fn, NULL, 4, (double[]){NAN, INFINITY, -INFINITY, 1}, (double[]){0, 0, 0, 1}, 0);
    /* softplus: exactly 1 in the linear region (beta x > threshold), sigmoid(beta x) elsewhere */
    op_params sp = {1, 20}, steep = {2, 1};
    assert_grad_at(softplus_fn, &sp, 3, (double[]){25, 0, 20}, (double[]){1, 0.5, 1 / (1 + exp(-20.0))}, 1e-15);
    assert_grad_at(softplus_fn, &steep, 2, (double[]){0.6, 0.4}, (double[]){1, 1 / (1 + exp(-0.8))}, 1e-15);
    /* gelu'(0) = 1/2 in both forms; exact gelu'(1) = Phi(1) + phi(1) */
    double phi1 = exp(-0.5) / sqrt(2 * M_PI), cdf1 = 0.5 * (1 + erf(1 / sqrt(2.0)));
    assert_grad_at(gelu_fn, NULL, 2, (double[]){0, 1}, (double[]){0.5, cdf1 + phi1}, 1e-15);
    double k = sqrt(2 / M_PI), c = 0.044715, th = tanh(k * (1 + c));
    assert_grad_at(gelu_tanh_fn, NULL, 2, (double[]){0, 1},
                   (double[]){0.5, 0.5 * (1 + th) + 0.5 * (1 - th * th) * k * (1 + 3 * c)}, 1e-15);
    /* a few closed forms */
    assert_grad_at(sqrt_fn, NULL, 2, (double[]){4, 0.25}, (double[]){0.25, 1}, 0);
    assert_grad_at(exp_fn, NULL, 2, (double[]){0, 1}, (double[]){1, exp(1)}, 1e-15);
    assert_grad_at(log2_fn, NULL, 1, (double[]){2}, (double[]){1 / (2 * M_LN2)}, 1e-15);
    assert_grad_at(erf_fn, NULL, 1, (double[]){0}, (double[]){2 / sqrt(M_PI)}, 1e-15);
}

/* ---- in-place rules ---- */

typedef ct_tensor *(*inplace_op)(ct_tensor *);
static ct_tensor *clamp_unit_(ct_tensor *t) { return ct_clamp_(t, -1, 1); }

static const struct {
    const char *name;
    inplace_op op;
} inplace_ops[] = {
    {"neg_", ct_neg_},   {"exp_", ct_exp_},   {"sqrt_", ct_sqrt_},     {"relu_", ct_relu_},
    {"sigmoid_", ct_sigmoid_}, {"tanh_", ct_tanh_}, {"clamp_", clamp_unit_},
};

static void test_inplace_on_leaf_is_refused(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof inplace_ops / sizeof *inplace_ops; i++) CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(3)), true);
        assert_null(inplace_ops[i].op(x));
        tu_assert_error(CT_ERR_STATE, "a leaf Variable that requires grad is being used in an in-place operation.");
        assert_true(ct_ok()); /* cleared */
        /* the leaf is untouched, and under no_grad the change is allowed */
        tu_assert_values(ct_detach(x), CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
        CT_NO_GRAD assert_ptr_equal(inplace_ops[i].op(x), x);
        assert_true(ct_ok());
    }
}

/* Every op that keeps its output, and every op that keeps its input, has the tensor it kept
 * changed in place before backward: by a plain in-place op (grad mode off: no graph, but the
 * version counts) or by a recorded one. Either way backward refuses the new values. */
static const ct_gradcheck_fn keep_output[] = {exp_fn,        tanh_fn, sigmoid_fn, sqrt_fn, rsqrt_fn,
                                              reciprocal_fn, relu_fn, expm1_fn,   tan_fn};
static const ct_gradcheck_fn keep_input[] = {abs_fn, square_fn, log_fn, log2_fn, log1p_fn, sin_fn,
                                             cos_fn, erf_fn,    silu_fn, gelu_fn, nan_to_num_fn};

static ct_tensor *fill_without_grad_(ct_tensor *t) {
    ct_tensor *r = NULL;
    CT_NO_GRAD r = ct_fill_(t, 0.25);
    return r;
}

/* y = fn(in) with in = 0.5 (a non-leaf, so it may change in place); change_ then alters y when
 * fn keeps its output, in when it keeps its input; backward must fail. */
static void assert_change_detected(ct_gradcheck_fn fn, bool keeps_output, ct_tensor *(*change_)(ct_tensor *)) {
    CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(ct_full(CT_SHAPE(3), 0.5, .dtype = CT_F64), true);
        ct_tensor *in = ct_mul(x, ct_scalar(1));
        ct_tensor *y = fn(&in, NULL);
        ct_tensor *loss = ct_sum(y);
        assert_non_null(change_(keeps_output ? y : in));
        assert_false(ct_backward(loss));
        tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
    }
}

static void test_saved_tensor_changed_without_grad(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(keep_output); i++) assert_change_detected(keep_output[i], true, fill_without_grad_);
    for (size_t i = 0; i < COUNT(keep_input); i++) assert_change_detected(keep_input[i], false, fill_without_grad_);
    /* what an op does not keep may change freely: these keep their output, not their input */
    const ct_gradcheck_fn keep_nothing[] = {neg_fn, sign_fn, floor_fn, ceil_fn, round_fn, trunc_fn};
    for (size_t i = 0; i < COUNT(keep_output) + COUNT(keep_nothing); i++) CT_SCOPE {
        ct_gradcheck_fn fn = i < COUNT(keep_output) ? keep_output[i] : keep_nothing[i - COUNT(keep_output)];
        ct_tensor *x = ct_requires_grad_(ct_full(CT_SHAPE(3), 0.5, .dtype = CT_F64), true);
        ct_tensor *in = ct_mul(x, ct_scalar(1));
        ct_tensor *loss = ct_sum(fn(&in, NULL));
        fill_without_grad_(in);
        if (!ct_backward(loss)) fail_msg("backward: %s", ct_last_error());
    }
    /* the message names the producer of the saved output, as PyTorch's does */
    ct_tensor *x = ct_requires_grad_(ct_full(CT_SHAPE(2), 1.0), true);
    ct_tensor *y = ct_exp(x);
    fill_without_grad_(y);
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_STATE, "which is output 0 of ExpBackward0");
}

static void test_saved_tensor_changed_by_recorded_inplace(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(keep_output); i++) assert_change_detected(keep_output[i], true, ct_exp_);
    for (size_t i = 0; i < COUNT(keep_input); i++) assert_change_detected(keep_input[i], false, ct_neg_);
    /* an in-place op that keeps its output keeps self, like PyTorch: changing self again is caught */
    assert_change_detected(exp__fn, true, ct_tanh_);
    assert_change_detected(sigmoid__fn, true, fill_without_grad_);
}

/* The in-place forms share the conventions at kinks: relu_'(0) = 0, clamp_ passes its bounds. */
static void test_inplace_subgradients_at_kinks(void **state) {
    (void)state;
    assert_grad_at(relu__fn, NULL, 3, (double[]){-1, 0, 2}, (double[]){0, 0, 1}, 0);
    op_params bounds = {-1, 1};
    assert_grad_at(clamp__fn, &bounds, 5, (double[]){-2, -1, 0, 1, 2}, (double[]){0, 1, 1, 1, 0}, 0);
}

/* An in-place op takes over its tensor's grad_fn and chains to the one before. */
static void test_inplace_chain(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_from_data((double[]){-1, 0.5, 2}, CT_SHAPE(3), CT_F64), true);
    ct_tensor *y = ct_neg(x);
    assert_ptr_equal(ct_relu_(y), y); /* y = relu(-x) */
    assert_string_equal(ct_grad_fn_name(y), "ReluBackward0");
    assert_true(ct_backward(ct_sum(y)));
    tu_assert_values(ct_grad(x), CT_SHAPE(3), (double[]){-1, 0, 0}, 0, 0);
}

/* ---- forward behaviour under grad mode ---- */

static void test_forward_errors_with_grad(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    assert_null(ct_clamp(x, NAN, 1));
    tu_assert_error(CT_ERR_ARG, "clamp: clamp bounds must not be NaN");
    assert_null(ct_gelu(x, .approximate = (ct_gelu_approx)7));
    tu_assert_error(CT_ERR_ARG, "gelu: invalid approximate mode 7");
    assert_null(ct_exp(NULL));
    assert_false(ct_ok());
    ct_clear_error();
    /* the in-place form reports its own argument errors too, with grad needed */
    ct_tensor *h = ct_exp(x);
    assert_null(ct_clamp_(h, NAN, 1));
    tu_assert_error(CT_ERR_ARG, "clamp_: clamp bounds must not be NaN");
}

static void test_integer_inputs_record_nothing(void **state) {
    (void)state;
    ct_tensor *i = ct_arange(0, 4, 1);
    ct_tensor *y = ct_exp(i);
    assert_true(ct_dtype_is_floating(ct_dtype_of(y)));
    assert_false(ct_requires_grad(y));
    assert_null(ct_grad_fn_name(y));
    /* no grad mode: plain results even from inputs that require grad */
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    CT_NO_GRAD assert_false(ct_requires_grad(ct_tanh(x)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_f32_inputs_get_f32_gradients),
        cmocka_unit_test(test_subgradients_at_kinks),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_inplace_gradcheck_names_and_f32),
        cmocka_unit_test(test_inplace_subgradients_at_kinks),
        cmocka_unit_test(test_inplace_on_leaf_is_refused),
        cmocka_unit_test(test_saved_tensor_changed_without_grad),
        cmocka_unit_test(test_saved_tensor_changed_by_recorded_inplace),
        cmocka_unit_test(test_inplace_chain),
        cmocka_unit_test(test_forward_errors_with_grad),
        cmocka_unit_test(test_integer_inputs_record_nothing),
    };
    return TU_RUN("grad_unary", tests);
}
