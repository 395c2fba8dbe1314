/* Elementwise ops: every op against an f64 reference over random shapes, all layouts and several
 * dtypes; broadcasting, type promotion, rounding modes, in-place forms, where/masked_fill,
 * equality, thread-count independence and every error path. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reference helpers --------------------------------------------------------------------------- */

static void tolerance(ct_dtype dt, double *rtol, double *atol) {
    switch (dt) {
    case CT_F64: *rtol = 1e-12, *atol = 1e-12; break;
    case CT_F32: *rtol = 2e-5, *atol = 2e-5; break;
    case CT_F16: *rtol = 4e-3, *atol = 4e-3; break;
    case CT_BF16: *rtol = 2e-2, *atol = 2e-2; break;
    default: *rtol = 0, *atol = 0; break;
    }
}

/* Linear index into a tensor of shape `in` for output position `lin` of shape `out` (broadcast). */
static int64_t bcast_index(ct_shape out, ct_shape in, int64_t lin) {
    int64_t idx = 0, stride = 1;
    for (int d = out.ndim - 1; d >= 0; d--) {
        int64_t i = lin % out.d[d];
        lin /= out.d[d];
        int k = d - (out.ndim - in.ndim);
        if (k >= 0) {
            if (in.d[k] != 1) idx += i * stride;
            stride *= in.d[k];
        }
    }
    return idx;
}

static ct_shape bcast_shape(ct_shape a, ct_shape b) {
    ct_shape o = {.ndim = a.ndim > b.ndim ? a.ndim : b.ndim};
    for (int d = 0; d < o.ndim; d++) {
        int ka = d - (o.ndim - a.ndim), kb = d - (o.ndim - b.ndim);
        int64_t sa = ka >= 0 ? a.d[ka] : 1, sb = kb >= 0 ? b.d[kb] : 1;
        o.d[d] = sa == 1 ? sb : sa;
    }
    return o;
}

static const ct_shape unary_shapes[] = {CT_SHAPE(3, 5), CT_SHAPE(2, 3, 4), CT_SHAPE(7), CT_SHAPE(), CT_SHAPE(0, 3)};

/* ---- unary ops vs reference ------------------------------------------------------------------------ */

static double r_neg(double x) { return -x; }
static double r_sign(double x) { return (x > 0) - (x < 0); }
static double r_square(double x) { return x * x; }
static double r_relu(double x) { return x < 0 ? 0 : x; }
static double r_rsqrt(double x) { return 1 / sqrt(x); }
static double r_recip(double x) { return 1 / x; }
static double r_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double r_silu(double x) { return x / (1 + exp(-x)); }
static double r_gelu(double x) { return 0.5 * x * (1 + erf(x / sqrt(2))); }
static double r_gelu_tanh(double x) { return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }
static double r_leaky(double x) { return x > 0 ? x : 0.1 * x; }
static double r_elu(double x) { return x > 0 ? x : 1.5 * expm1(x); }
static double r_softplus(double x) { return 2 * x > 3 ? x : log1p(exp(2 * x)) / 2; }
static double r_clamp(double x) { return x < -1 ? -1 : x > 2 ? 2 : x; }
static double r_ident(double x) { return x; }

static ct_tensor *w_gelu(const ct_tensor *t) { return ct_gelu(t); }
static ct_tensor *w_gelu_tanh(const ct_tensor *t) { return ct_gelu(t, .approximate = CT_GELU_TANH); }
static ct_tensor *w_leaky(const ct_tensor *t) { return ct_leaky_relu(t, 0.1); }
static ct_tensor *w_elu(const ct_tensor *t) { return ct_elu(t, 1.5); }
static ct_tensor *w_softplus(const ct_tensor *t) { return ct_softplus(t, .beta = 2, .threshold = 3); }
static ct_tensor *w_clamp(const ct_tensor *t) { return ct_clamp(t, -1, 2); }
static ct_tensor *w_nan_to_num(const ct_tensor *t) { return ct_nan_to_num(t); }

typedef struct unary_case {
    const char *name;
    ct_tensor *(*fn)(const ct_tensor *);
    double (*ref)(double);
    double lo, hi;
    bool keeps_int; /* integer inputs keep their dtype (else: default float) */
    bool int_ok;    /* integer inputs are accepted */
} unary_case;

static const unary_case unary_cases[] = {
    {"neg", ct_neg, r_neg, -5, 5, true, true},
    {"abs", ct_abs, fabs, -5, 5, true, true},
    {"sign", ct_sign, r_sign, -5, 5, true, true},
    {"square", ct_square, r_square, -5, 5, true, true},
    {"relu", ct_relu, r_relu, -5, 5, true, true},
    {"clamp", w_clamp, r_clamp, -5, 5, true, true},
    {"floor", ct_floor, floor, -5, 5, true, true},
    {"ceil", ct_ceil, ceil, -5, 5, true, true},
    {"round", ct_round, nearbyint, -5, 5, true, true},
    {"trunc", ct_trunc, trunc, -5, 5, true, true},
    {"nan_to_num", w_nan_to_num, r_ident, -5, 5, true, true},
    {"sqrt", ct_sqrt, sqrt, 0, 10, false, true},
    {"rsqrt", ct_rsqrt, r_rsqrt, 1, 10, false, true},
    {"reciprocal", ct_reciprocal, r_recip, 1, 5, false, true},
    {"exp", ct_exp, exp, -5, 5, false, true},
    {"log", ct_log, log, 1, 10, false, true},
    {"log2", ct_log2, log2, 1, 10, false, true},
    {"log1p", ct_log1p, log1p, 0, 5, false, true},
    {"expm1", ct_expm1, expm1, -3, 3, false, true},
    {"sin", ct_sin, sin, -5, 5, false, true},
    {"cos", ct_cos, cos, -5, 5, false, true},
    {"tan", ct_tan, tan, -1.2, 1.2, false, true},
    {"tanh", ct_tanh, tanh, -4, 4, false, true},
    {"erf", ct_erf, erf, -3, 3, false, true},
    {"sigmoid", ct_sigmoid, r_sigmoid, -6, 6, false, true},
    {"silu", ct_silu, r_silu, -6, 6, false, true},
    {"gelu", w_gelu, r_gelu, -4, 4, false, true},
    {"gelu_tanh", w_gelu_tanh, r_gelu_tanh, -4, 4, false, true},
    {"leaky_relu", w_leaky, r_leaky, -4, 4, false, true},
    {"elu", w_elu, r_elu, -4, 4, false, true},
    {"softplus", w_softplus, r_softplus, -4, 4, false, true},
};

static void check_unary(uint64_t *rng, const unary_case *c, ct_dtype dt, tu_layout layout, ct_shape shape) {
    CT_SCOPE {
        double lo = c->lo, hi = c->hi;
        if (dt == CT_U8 && lo < 0) lo = 0;
        ct_tensor *x = tu_random(rng, shape, dt, layout, lo, hi);
        double *xv = tu_values(x);
        ct_tensor *y = c->fn(x);
        if (!y) fail_msg("%s(%s, %s): %s", c->name, ct_dtype_name(dt), tu_layout_names[layout], ct_last_error());
        bool is_float = ct_dtype_is_floating(dt);
        ct_dtype want_dt = is_float || c->keeps_int ? dt : ct_get_default_dtype();
        if (ct_dtype_of(y) != want_dt)
            fail_msg("%s(%s): dtype %s, want %s", c->name, ct_dtype_name(dt), ct_dtype_name(ct_dtype_of(y)),
                     ct_dtype_name(want_dt));
        int64_t n = tu_numel(shape);
        double *want = malloc((size_t)(n ? n : 1) * sizeof *want);
        for (int64_t i = 0; i < n; i++) want[i] = c->ref(xv[i]);
        double rtol, atol;
        tolerance(want_dt, &rtol, &atol);
        if (!is_float && !c->keeps_int) tolerance(CT_F32, &rtol, &atol);
        tu_assert_values(y, shape, want, rtol, atol);
        free(want);
    }
}

static void unary_ops_match_reference(void **state) {
    (void)state;
    uint64_t rng = 1;
    const ct_dtype floats[] = {CT_F32, CT_F64, CT_F16, CT_BF16};
    const ct_dtype ints[] = {CT_I64, CT_I32, CT_U8};
    for (size_t c = 0; c < sizeof unary_cases / sizeof *unary_cases; c++) {
        const unary_case *uc = &unary_cases[c];
        for (size_t s = 0; s < sizeof unary_shapes / sizeof *unary_shapes; s++)
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
                for (size_t d = 0; d < 4; d++) check_unary(&rng, uc, floats[d], (tu_layout)l, unary_shapes[s]);
                for (size_t d = 0; d < 3 && uc->int_ok; d++) {
                    if (ints[d] == CT_U8 && uc->fn == ct_neg) continue; /* wraps, checked below */
                    check_unary(&rng, uc, ints[d], (tu_layout)l, unary_shapes[s]);
                }
            }
    }
}

static void unary_special_values(void **state) {
    (void)state;
    ct_tensor *x = ct_from_data((double[]){NAN, INFINITY, -INFINITY, -0.5, 0.5, 1.5, 2.5, -2.5}, CT_SHAPE(8), CT_F64);
    tu_assert_values(ct_round(x), CT_SHAPE(8), (double[]){NAN, INFINITY, -INFINITY, -0.0, 0, 2, 2, -2}, 0, 0);
    tu_assert_values(ct_isnan(x), CT_SHAPE(8), (double[]){1, 0, 0, 0, 0, 0, 0, 0}, 0, 0);
    tu_assert_values(ct_isinf(x), CT_SHAPE(8), (double[]){0, 1, 1, 0, 0, 0, 0, 0}, 0, 0);
    tu_assert_values(ct_isfinite(x), CT_SHAPE(8), (double[]){0, 0, 0, 1, 1, 1, 1, 1}, 0, 0);
    tu_assert_values(ct_relu(x), CT_SHAPE(8), (double[]){NAN, INFINITY, 0, 0, 0.5, 1.5, 2.5, 0}, 0, 0);
    tu_assert_values(ct_nan_to_num(x), CT_SHAPE(8), (double[]){0, 1.7976931348623157e308, -1.7976931348623157e308, -0.5, 0.5, 1.5, 2.5, -2.5}, 0, 0);
    tu_assert_values(ct_nan_to_num(x, .nan = 7, .posinf = 8, .neginf = -9), CT_SHAPE(8),
                     (double[]){7, 8, -9, -0.5, 0.5, 1.5, 2.5, -2.5}, 0, 0);
    ct_tensor *h = ct_to_dtype(x, CT_F16);
    tu_assert_values(ct_nan_to_num(h), CT_SHAPE(8), (double[]){0, 65504, -65504, -0.5, 0.5, 1.5, 2.5, -2.5}, 0, 0);
    tu_assert_values(ct_nan_to_num(ct_to_dtype(x, CT_F32)), CT_SHAPE(8),
                     (double[]){0, 3.4028234663852886e38, -3.4028234663852886e38, -0.5, 0.5, 1.5, 2.5, -2.5}, 0, 0);
    tu_assert_values(ct_round(h), CT_SHAPE(8), (double[]){NAN, INFINITY, -INFINITY, -0.0, 0, 2, 2, -2}, 0, 0);
    /* clamp: infinite bounds mean none, NaN passes, min > max gives max */
    tu_assert_values(ct_clamp(x, -INFINITY, 1), CT_SHAPE(8), (double[]){NAN, 1, -INFINITY, -0.5, 0.5, 1, 1, -2.5}, 0, 0);
    tu_assert_values(ct_clamp(x, 0, INFINITY), CT_SHAPE(8), (double[]){NAN, INFINITY, 0, 0, 0.5, 1.5, 2.5, 0}, 0, 0);
    tu_assert_values(ct_clamp(ct_ones(CT_SHAPE(2)), 3, 2), CT_SHAPE(2), (double[]){2, 2}, 0, 0);
    /* softplus is linear above the threshold (no overflow) */
    tu_assert_values(ct_softplus(ct_full(CT_SHAPE(1), 1000)), CT_SHAPE(1), (double[]){1000}, 0, 0);
    /* integers: u8 negation wraps, clamp with fractional bounds gives floats, bool rules */
    ct_tensor *u = ct_from_data((uint8_t[]){1, 0, 200}, CT_SHAPE(3), CT_U8);
    tu_assert_values(ct_neg(u), CT_SHAPE(3), (double[]){255, 0, 56}, 0, 0);
    ct_tensor *i = ct_from_data((int64_t[]){1, 5, -3}, CT_SHAPE(3), CT_I64);
    ct_tensor *ic = ct_clamp(i, 0.5, 2.5);
    assert_int_equal(ct_dtype_of(ic), CT_F32);
    tu_assert_values(ic, CT_SHAPE(3), (double[]){1, 2.5, 0.5}, 0, 0);
    assert_int_equal(ct_dtype_of(ct_clamp(i, 0, 2)), CT_I64);
    tu_assert_values(ct_clamp(ct_from_data((uint8_t[]){1, 2}, CT_SHAPE(2), CT_U8), -1, 300), CT_SHAPE(2), (double[]){1, 2}, 0, 0);
    tu_assert_values(ct_isnan(i), CT_SHAPE(3), (double[]){0, 0, 0}, 0, 0);
    tu_assert_values(ct_isfinite(i), CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
    ct_tensor *b = ct_from_data((bool[]){true, false}, CT_SHAPE(2), CT_BOOL);
    assert_int_equal(ct_dtype_of(ct_sign(b)), CT_BOOL);
    assert_int_equal(ct_dtype_of(ct_square(b)), CT_I64);
    tu_assert_values(ct_sqrt(b), CT_SHAPE(2), (double[]){1, 0}, 0, 0);
    tu_assert_values(ct_logical_not(b), CT_SHAPE(2), (double[]){0, 1}, 0, 0);
    tu_assert_values(ct_logical_not(ct_from_data((float[]){0, 2.5f}, CT_SHAPE(2), CT_F32)), CT_SHAPE(2), (double[]){1, 0}, 0, 0);
    assert_int_equal(ct_dtype_of(ct_clamp(b, 0, 1)), CT_I64);
    /* default dtype follows ct_set_default_dtype */
    ct_set_default_dtype(CT_F64);
    assert_int_equal(ct_dtype_of(ct_exp(i)), CT_F64);
    ct_set_default_dtype(CT_F32);
}

/* ---- binary ops vs reference -------------------------------------------------------------------- */

static double r_add(double a, double b) { return a + b; }
static double r_add2(double a, double b) { return a + 2 * b; }
static double r_sub(double a, double b) { return a - b; }
static double r_sub_half(double a, double b) { return a - 0.5 * b; }
static double r_mul(double a, double b) { return a * b; }
static double r_div(double a, double b) { return a / b; }
static double r_div_trunc(double a, double b) { return trunc(a / b); }
static double r_div_floor(double a, double b) { return floor(a / b); }
static double r_min(double a, double b) { return a < b ? a : b; }
static double r_max(double a, double b) { return a > b ? a : b; }
static double r_rem(double a, double b) { return a - floor(a / b) * b; }

static ct_tensor *w_add(const ct_tensor *a, const ct_tensor *b) { return ct_add(a, b); }
static ct_tensor *w_add2(const ct_tensor *a, const ct_tensor *b) { return ct_add(a, b, .alpha = 2); }
static ct_tensor *w_sub(const ct_tensor *a, const ct_tensor *b) { return ct_sub(a, b); }
static ct_tensor *w_sub_half(const ct_tensor *a, const ct_tensor *b) { return ct_sub(a, b, .alpha = 0.5); }
static ct_tensor *w_div(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b); }
static ct_tensor *w_div_trunc(const ct_tensor *a, const ct_tensor *b) {
    return ct_div(a, b, .rounding_mode = CT_ROUND_TRUNC);
}
static ct_tensor *w_div_floor(const ct_tensor *a, const ct_tensor *b) {
    return ct_div(a, b, .rounding_mode = CT_ROUND_FLOOR);
}

typedef struct binary_case {
    const char *name;
    ct_tensor *(*fn)(const ct_tensor *, const ct_tensor *);
    double (*ref)(double, double);
    double alo, ahi, blo, bhi;
    bool int_ok, int_gives_float;
} binary_case;

static const binary_case binary_cases[] = {
    {"add", w_add, r_add, -5, 5, -5, 5, true, false},
    {"add alpha", w_add2, r_add2, -5, 5, -5, 5, true, false},
    {"sub", w_sub, r_sub, -5, 5, -5, 5, true, false},
    {"sub alpha", w_sub_half, r_sub_half, -5, 5, -5, 5, false, false},
    {"mul", ct_mul, r_mul, -5, 5, -5, 5, true, false},
    {"div", w_div, r_div, -5, 5, 0.5, 4, true, true},
    {"div trunc", w_div_trunc, r_div_trunc, -9, 9, 1, 4, true, false},
    {"div floor", w_div_floor, r_div_floor, -9, 9, 1, 4, true, false},
    {"pow", ct_pow, pow, 0.5, 3, -2, 3, false, false},
    {"minimum", ct_minimum, r_min, -5, 5, -5, 5, true, false},
    {"maximum", ct_maximum, r_max, -5, 5, -5, 5, true, false},
    {"remainder", ct_remainder, r_rem, -9, 9, 1, 4, true, false},
    {"atan2", ct_atan2, atan2, -5, 5, -5, 5, true, true},
};

static const ct_shape bin_shapes[][2] = {
    {CT_SHAPE(3, 5), CT_SHAPE(3, 5)}, {CT_SHAPE(4, 3, 5), CT_SHAPE(5)}, {CT_SHAPE(3, 1), CT_SHAPE(1, 4)},
    {CT_SHAPE(), CT_SHAPE(2, 3)},     {CT_SHAPE(2, 3), CT_SHAPE()},     {CT_SHAPE(0, 3), CT_SHAPE(3)},
    {CT_SHAPE(), CT_SHAPE()},
};

static void check_binary(uint64_t *rng, const binary_case *c, ct_dtype dt, tu_layout la, tu_layout lb, ct_shape sa,
                         ct_shape sb) {
    CT_SCOPE {
        double alo = c->alo, blo = c->blo;
        if (dt == CT_U8) alo = alo < 0 ? 0 : alo, blo = blo < 0 ? 0 : blo;
        ct_tensor *a = tu_random(rng, sa, dt, la, alo, c->ahi);
        ct_tensor *b = tu_random(rng, sb, dt, lb, blo, c->bhi);
        double *av = tu_values(a), *bv = tu_values(b);
        ct_tensor *y = c->fn(a, b);
        if (!y)
            fail_msg("%s(%s, %s/%s): %s", c->name, ct_dtype_name(dt), tu_layout_names[la], tu_layout_names[lb],
                     ct_last_error());
        bool is_float = ct_dtype_is_floating(dt);
        ct_dtype want_dt = is_float || !c->int_gives_float ? dt : ct_get_default_dtype();
        assert_int_equal(ct_dtype_of(y), want_dt);
        ct_shape so = bcast_shape(sa, sb);
        int64_t n = tu_numel(so);
        double *want = malloc((size_t)(n ? n : 1) * sizeof *want);
        for (int64_t i = 0; i < n; i++) {
            want[i] = c->ref(av[bcast_index(so, sa, i)], bv[bcast_index(so, sb, i)]);
            if (want_dt == CT_U8) want[i] = (double)((uint8_t)(int64_t)want[i]); /* u8 arithmetic wraps */
        }
        double rtol, atol;
        tolerance(want_dt, &rtol, &atol);
        tu_assert_values(y, so, want, rtol, atol);
        free(want);
    }
}

static void binary_ops_match_reference(void **state) {
    (void)state;
    uint64_t rng = 2;
    const ct_dtype dts[] = {CT_F32, CT_F64, CT_F16, CT_BF16, CT_I64, CT_I32, CT_U8};
    for (size_t c = 0; c < sizeof binary_cases / sizeof *binary_cases; c++)
        for (size_t s = 0; s < sizeof bin_shapes / sizeof *bin_shapes; s++)
            for (int l = 0; l < TU_NUM_LAYOUTS; l++)
                for (size_t d = 0; d < sizeof dts / sizeof *dts; d++) {
                    if (!binary_cases[c].int_ok && !ct_dtype_is_floating(dts[d])) continue;
                    check_binary(&rng, &binary_cases[c], dts[d], (tu_layout)l, (tu_layout)((l + 1) % TU_NUM_LAYOUTS),
                                 bin_shapes[s][0], bin_shapes[s][1]);
                }
}

/* Comparisons and logic on integer-valued data (so ties occur), in several dtypes. */
static double r_eq(double a, double b) { return a == b; }
static double r_ne(double a, double b) { return a != b; }
static double r_lt(double a, double b) { return a < b; }
static double r_le(double a, double b) { return a <= b; }
static double r_gt(double a, double b) { return a > b; }
static double r_ge(double a, double b) { return a >= b; }
static double r_and(double a, double b) { return a != 0 && b != 0; }
static double r_or(double a, double b) { return a != 0 || b != 0; }
static double r_xor(double a, double b) { return (a != 0) != (b != 0); }

static void comparisons_and_logic(void **state) {
    (void)state;
    uint64_t rng = 3;
    struct {
        ct_tensor *(*fn)(const ct_tensor *, const ct_tensor *);
        double (*ref)(double, double);
    } cases[] = {{ct_eq, r_eq}, {ct_ne, r_ne}, {ct_lt, r_lt}, {ct_le, r_le}, {ct_gt, r_gt}, {ct_ge, r_ge},
                 {ct_logical_and, r_and}, {ct_logical_or, r_or}, {ct_logical_xor, r_xor}};
    const ct_dtype dts[] = {CT_F32, CT_F64, CT_F16, CT_BF16, CT_I64, CT_I32, CT_U8, CT_BOOL};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (size_t d = 0; d < sizeof dts / sizeof *dts; d++)
            for (int l = 0; l < TU_NUM_LAYOUTS; l++)
                for (size_t s = 0; s < 4; s++) CT_SCOPE {
                        ct_shape sa = bin_shapes[s][0], sb = bin_shapes[s][1];
                        ct_tensor *a = ct_round(tu_random(&rng, sa, dts[d], (tu_layout)l, 0, 3));
                        ct_tensor *b = ct_round(tu_random(&rng, sb, dts[d], TU_CONTIGUOUS, 0, 3));
                        if (dts[d] == CT_BOOL) {
                            a = tu_random(&rng, sa, CT_BOOL, (tu_layout)l, 0, 1);
                            b = tu_random(&rng, sb, CT_BOOL, TU_CONTIGUOUS, 0, 1);
                        }
                        double *av = tu_values(a), *bv = tu_values(b);
                        ct_tensor *y = cases[c].fn(a, b);
                        assert_non_null(y);
                        assert_int_equal(ct_dtype_of(y), CT_BOOL);
                        ct_shape so = bcast_shape(sa, sb);
                        int64_t n = tu_numel(so);
                        double want[64];
                        assert_true(n <= 64);
                        for (int64_t i = 0; i < n; i++)
                            want[i] = cases[c].ref(av[bcast_index(so, sa, i)], bv[bcast_index(so, sb, i)]);
                        tu_assert_values(y, so, want, 0, 0);
                    }
    /* mixed dtypes compare after promotion; NaN compares unequal */
    ct_tensor *f = ct_from_data((float[]){1.5f, 2, NAN}, CT_SHAPE(3), CT_F32);
    ct_tensor *i = ct_from_data((int64_t[]){1, 2, 3}, CT_SHAPE(3), CT_I64);
    tu_assert_values(ct_eq(f, i), CT_SHAPE(3), (double[]){0, 1, 0}, 0, 0);
    tu_assert_values(ct_ne(f, f), CT_SHAPE(3), (double[]){0, 0, 1}, 0, 0);
    tu_assert_values(ct_gt(f, ct_scalar(1.75)), CT_SHAPE(3), (double[]){0, 1, 0}, 0, 0);
    tu_assert_values(ct_logical_and(f, i), CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
}

/* ---- promotion, scalars, broadcasting ------------------------------------------------------------ */

static void type_promotion_table(void **state) {
    (void)state;
    ct_tensor *i32 = ct_ones(CT_SHAPE(2), .dtype = CT_I32), *f16 = ct_ones(CT_SHAPE(2), .dtype = CT_F16);
    ct_tensor *u8 = ct_ones(CT_SHAPE(2), .dtype = CT_U8), *i64 = ct_ones(CT_SHAPE(2), .dtype = CT_I64);
    ct_tensor *b = ct_ones(CT_SHAPE(2), .dtype = CT_BOOL), *f32 = ct_ones(CT_SHAPE(2));
    ct_tensor *bf = ct_ones(CT_SHAPE(2), .dtype = CT_BF16);
    assert_int_equal(ct_dtype_of(ct_add(i32, f16)), CT_F16);
    assert_int_equal(ct_dtype_of(ct_add(u8, i64)), CT_I64);
    assert_int_equal(ct_dtype_of(ct_add(u8, i32)), CT_I32);
    assert_int_equal(ct_dtype_of(ct_add(f16, bf)), CT_F32);
    ct_tensor *bb = ct_add(b, b);
    assert_int_equal(ct_dtype_of(bb), CT_BOOL);
    tu_assert_values(bb, CT_SHAPE(2), (double[]){1, 1}, 0, 0);
    assert_int_equal(ct_dtype_of(ct_mul(b, b)), CT_BOOL);
    assert_int_equal(ct_dtype_of(ct_add(b, u8)), CT_U8);
    ct_tensor *half = ct_mul(i64, ct_scalar(0.5));
    assert_int_equal(ct_dtype_of(half), CT_F32);
    tu_assert_values(half, CT_SHAPE(2), (double[]){0.5, 0.5}, 0, 0);
    assert_int_equal(ct_dtype_of(ct_add(f16, ct_scalar(1.0))), CT_F16);
    assert_int_equal(ct_dtype_of(ct_add(i32, ct_scalar_int(3))), CT_I32);
    assert_int_equal(ct_dtype_of(ct_add(u8, ct_scalar_bool(true))), CT_U8);
    assert_int_equal(ct_dtype_of(ct_add(ct_scalar_tensor(1, .dtype = CT_F64), f32)), CT_F32);
    assert_int_equal(ct_dtype_of(ct_add(ct_scalar_tensor(1, .dtype = CT_F64), i32)), CT_F64);
    assert_int_equal(ct_dtype_of(ct_add(ct_scalar_tensor(1, .dtype = CT_I64), i32)), CT_I32);
    assert_int_equal(ct_dtype_of(ct_div(i32, i32)), CT_F32);
    assert_int_equal(ct_dtype_of(ct_div(i32, i32, .rounding_mode = CT_ROUND_FLOOR)), CT_I32);
    assert_int_equal(ct_dtype_of(ct_div(b, b)), CT_F32);
    /* scalar variants promote like Python floats */
    assert_int_equal(ct_dtype_of(ct_add_scalar(i64, 1)), CT_F32);
    assert_int_equal(ct_dtype_of(ct_mul_scalar(f16, 3)), CT_F16);
    assert_int_equal(ct_dtype_of(ct_pow_scalar(bf, 2)), CT_BF16);
    assert_int_equal(ct_dtype_of(ct_div_scalar(f32, 2)), CT_F32);
    ct_set_default_dtype(CT_F64);
    assert_int_equal(ct_dtype_of(ct_mul(i64, ct_scalar(0.5))), CT_F64);
    ct_set_default_dtype(CT_F32);
}

static void scalar_variants(void **state) {
    (void)state;
    uint64_t rng = 4;
    for (int l = 0; l < TU_NUM_LAYOUTS; l++) CT_SCOPE {
            ct_tensor *a = tu_random(&rng, CT_SHAPE(3, 4), CT_F64, (tu_layout)l, 0.5, 4);
            double *v = tu_values(a), w[6][12];
            for (int i = 0; i < 12; i++) {
                w[0][i] = v[i] + 1.5, w[1][i] = v[i] - 1.5, w[2][i] = v[i] * -2, w[3][i] = v[i] / 4;
                w[4][i] = pow(v[i], 1.5), w[5][i] = 3 - v[i];
            }
            tu_assert_values(ct_add_scalar(a, 1.5), CT_SHAPE(3, 4), w[0], 1e-15, 0);
            tu_assert_values(ct_sub_scalar(a, 1.5), CT_SHAPE(3, 4), w[1], 1e-15, 0);
            tu_assert_values(ct_mul_scalar(a, -2), CT_SHAPE(3, 4), w[2], 1e-15, 0);
            tu_assert_values(ct_div_scalar(a, 4), CT_SHAPE(3, 4), w[3], 1e-15, 0);
            tu_assert_values(ct_pow_scalar(a, 1.5), CT_SHAPE(3, 4), w[4], 1e-14, 0);
            tu_assert_values(ct_rsub_scalar(a, 3), CT_SHAPE(3, 4), w[5], 1e-15, 0);
        }
    ct_tensor *i = ct_from_data((int64_t[]){1, 2, 3}, CT_SHAPE(3), CT_I64);
    tu_assert_values(ct_pow_scalar(i, 2), CT_SHAPE(3), (double[]){1, 4, 9}, 0, 0);
    tu_assert_values(ct_rsub_scalar(i, 1), CT_SHAPE(3), (double[]){0, -1, -2}, 0, 0);
    assert_null(ct_add_scalar(NULL, 1));
    tu_assert_error(CT_ERR_NULL, "add");
}

static ct_tensor *transposed_ones(void) { return ct_t(ct_ones(CT_SHAPE(2, 2))); }

static void broadcasting_expanded_inputs(void **state) {
    (void)state;
    ct_tensor *row = ct_from_data((float[]){1, 2, 3}, CT_SHAPE(3), CT_F32);
    ct_tensor *col = ct_from_data((float[]){10, 20}, CT_SHAPE(2, 1), CT_F32);
    tu_assert_values(ct_add(row, col), CT_SHAPE(2, 3), (double[]){11, 12, 13, 21, 22, 23}, 0, 0);
    ct_tensor *ex = ct_expand(row, CT_SHAPE(2, 3)); /* stride-0 input */
    tu_assert_values(ct_mul(ex, col), CT_SHAPE(2, 3), (double[]){10, 20, 30, 20, 40, 60}, 0, 0);
    tu_assert_values(ct_sub(ex, ct_expand(col, CT_SHAPE(2, 3))), CT_SHAPE(2, 3), (double[]){-9, -8, -7, -19, -18, -17}, 0, 0);
    tu_assert_values(ct_exp(ct_expand(ct_zeros(CT_SHAPE(1)), CT_SHAPE(2, 2))), CT_SHAPE(2, 2), (double[]){1, 1, 1, 1}, 0, 0);
    ct_tensor *s = ct_scalar_tensor(2);
    tu_assert_values(ct_pow(s, row), CT_SHAPE(3), (double[]){2, 4, 8}, 0, 0);
    tu_assert_values(ct_pow(row, s), CT_SHAPE(3), (double[]){1, 4, 9}, 0, 0);
    tu_assert_values(ct_add(s, s), CT_SHAPE(), (double[]){4}, 0, 0);
    /* one-element inputs of another dtype are read as broadcast scalars */
    ct_tensor *u = ct_from_data((uint8_t[]){200}, CT_SHAPE(1), CT_U8);
    tu_assert_values(ct_add(u, transposed_ones()), CT_SHAPE(2, 2), (double[]){201, 201, 201, 201}, 0, 0);
    tu_assert_values(ct_sub(transposed_ones(), u), CT_SHAPE(2, 2), (double[]){-199, -199, -199, -199}, 0, 0);
    tu_assert_values(ct_mul(row, ct_scalar_tensor(1.5, .dtype = CT_BF16)), CT_SHAPE(3), (double[]){1.5, 3, 4.5}, 0, 0);
    tu_assert_values(ct_div(ct_scalar_int(3), ct_from_data((int32_t[]){2}, CT_SHAPE(1, 1), CT_I32)), CT_SHAPE(1, 1),
                     (double[]){1.5}, 0, 0);
    assert_int_equal(ct_numel(ct_add(ct_zeros(CT_SHAPE(0, 3)), row)), 0);
    assert_int_equal(ct_ndim(ct_add(ct_zeros(CT_SHAPE(0, 3)), row)), 2);
    assert_int_equal(ct_numel(ct_exp(ct_zeros(CT_SHAPE(4, 0)))), 0);
}

/* ---- division, remainder, pow on integers -------------------------------------------------------- */

static void division_rounding_modes(void **state) {
    (void)state;
    ct_tensor *a = ct_from_data((int64_t[]){7, -7, 7, -7, 0, 6}, CT_SHAPE(6), CT_I64);
    ct_tensor *b = ct_from_data((int64_t[]){2, 2, -2, -2, 3, -3}, CT_SHAPE(6), CT_I64);
    tu_assert_values(ct_div(a, b), CT_SHAPE(6), (double[]){3.5, -3.5, -3.5, 3.5, 0, -2}, 0, 0);
    tu_assert_values(ct_div(a, b, .rounding_mode = CT_ROUND_TRUNC), CT_SHAPE(6), (double[]){3, -3, -3, 3, 0, -2}, 0, 0);
    tu_assert_values(ct_div(a, b, .rounding_mode = CT_ROUND_FLOOR), CT_SHAPE(6), (double[]){3, -4, -4, 3, 0, -2}, 0, 0);
    tu_assert_values(ct_remainder(a, b), CT_SHAPE(6), (double[]){1, 1, -1, -1, 0, 0}, 0, 0);
    const ct_dtype fdts[] = {CT_F32, CT_F64, CT_F16, CT_BF16};
    for (int d = 0; d < 4; d++) {
        ct_tensor *fa = ct_to_dtype(a, fdts[d]), *fb = ct_to_dtype(b, fdts[d]);
        tu_assert_values(ct_div(fa, fb, .rounding_mode = CT_ROUND_TRUNC), CT_SHAPE(6), (double[]){3, -3, -3, 3, 0, -2}, 0, 0);
        tu_assert_values(ct_div(fa, fb, .rounding_mode = CT_ROUND_FLOOR), CT_SHAPE(6), (double[]){3, -4, -4, 3, 0, -2}, 0, 0);
        tu_assert_values(ct_remainder(fa, fb), CT_SHAPE(6), (double[]){1, 1, -1, -1, 0, 0}, 0, 0);
    }
    /* float division by zero follows IEEE; remainder by zero is NaN */
    ct_tensor *fz = ct_from_data((float[]){-3, 3, 0}, CT_SHAPE(3), CT_F32), *z = ct_zeros(CT_SHAPE(3));
    tu_assert_values(ct_div(fz, z, .rounding_mode = CT_ROUND_FLOOR), CT_SHAPE(3), (double[]){-INFINITY, INFINITY, NAN}, 0, 0);
    tu_assert_values(ct_remainder(fz, z), CT_SHAPE(3), (double[]){NAN, NAN, NAN}, 0, 0);
    tu_assert_values(ct_div(ct_to_dtype(fz, CT_I64), ct_zeros(CT_SHAPE(3), .dtype = CT_I64)), CT_SHAPE(3),
                     (double[]){-INFINITY, INFINITY, NAN}, 0, 0);
    /* integer division by zero is an error, not a crash */
    ct_tensor *iz = ct_from_data((int64_t[]){1, 0}, CT_SHAPE(2), CT_I64);
    assert_null(ct_div(iz, iz, .rounding_mode = CT_ROUND_TRUNC));
    tu_assert_error(CT_ERR_ARG, "div: ZeroDivisionError");
    assert_null(ct_div(ct_to_dtype(iz, CT_I32), ct_to_dtype(iz, CT_U8), .rounding_mode = CT_ROUND_FLOOR));
    tu_assert_error(CT_ERR_ARG, "div: ZeroDivisionError");
    assert_null(ct_remainder(iz, iz));
    tu_assert_error(CT_ERR_ARG, "remainder: ZeroDivisionError");
    /* INT64_MIN / -1 wraps instead of trapping */
    ct_tensor *mn = ct_from_data((int64_t[]){INT64_MIN}, CT_SHAPE(1), CT_I64);
    ct_tensor *m1 = ct_from_data((int64_t[]){-1}, CT_SHAPE(1), CT_I64);
    assert_non_null(ct_div(mn, m1, .rounding_mode = CT_ROUND_TRUNC));
    assert_non_null(ct_remainder(mn, m1));
    /* integer pow: negative exponents as PyTorch */
    ct_tensor *pb = ct_from_data((int64_t[]){2, 3, 1, -1, -1, 0}, CT_SHAPE(6), CT_I64);
    ct_tensor *pe = ct_from_data((int64_t[]){-1, 2, -5, -3, -2, 0}, CT_SHAPE(6), CT_I64);
    tu_assert_values(ct_pow(pb, pe), CT_SHAPE(6), (double[]){0, 9, 1, -1, 1, 1}, 0, 0);
    /* minimum / maximum propagate NaN */
    ct_tensor *n1 = ct_from_data((double[]){NAN, 1, 2}, CT_SHAPE(3), CT_F64);
    ct_tensor *n2 = ct_from_data((double[]){0, NAN, 1}, CT_SHAPE(3), CT_F64);
    tu_assert_values(ct_minimum(n1, n2), CT_SHAPE(3), (double[]){NAN, NAN, 1}, 0, 0);
    tu_assert_values(ct_maximum(n1, n2), CT_SHAPE(3), (double[]){NAN, NAN, 2}, 0, 0);
}

/* ---- in-place ------------------------------------------------------------------------------------- */

static void inplace_ops(void **state) {
    (void)state;
    uint64_t rng = 5;
    for (int l = 0; l < TU_NUM_WRITABLE_LAYOUTS; l++) CT_SCOPE {
            ct_tensor *a = tu_random(&rng, CT_SHAPE(3, 4), CT_F32, (tu_layout)l, 0.5, 3);
            ct_tensor *b = tu_random(&rng, CT_SHAPE(4), CT_F32, TU_CONTIGUOUS, 0.5, 3);
            double *av = tu_values(a), *bv = tu_values(b), w[12];
            for (int i = 0; i < 12; i++) w[i] = ((av[i] + 2 * bv[i % 4]) - bv[i % 4]) * bv[i % 4] / bv[i % 4];
            const void *id = ct_storage_id(a);
            assert_ptr_equal(ct_add_(a, b, .alpha = 2), a);
            assert_ptr_equal(ct_sub_(a, b), a);
            assert_ptr_equal(ct_mul_(a, b), a);
            assert_ptr_equal(ct_div_(a, b), a);
            assert_ptr_equal(ct_storage_id(a), id);
            tu_assert_values(a, CT_SHAPE(3, 4), w, 1e-5, 1e-6);
            double *v = tu_values(a);
            for (int i = 0; i < 12; i++) w[i] = tanh(1 / (1 + exp(-sqrt(exp(-((v[i] + 1) * 2))))));
            ct_add_scalar_(a, 1);
            ct_mul_scalar_(a, 2);
            ct_neg_(a);
            ct_exp_(a);
            ct_sqrt_(a);
            ct_sigmoid_(a);
            ct_tanh_(a);
            tu_assert_values(a, CT_SHAPE(3, 4), w, 1e-5, 1e-6);
            ct_tensor *c = tu_random(&rng, CT_SHAPE(3, 4), CT_F64, (tu_layout)l, -3, 3);
            double *cv = tu_values(c), wc[12];
            for (int i = 0; i < 12; i++) wc[i] = r_clamp(r_relu(cv[i]));
            ct_clamp_(ct_relu_(c), -1, 2);
            tu_assert_values(c, CT_SHAPE(3, 4), wc, 0, 0);
        }
    /* result type wider than the output but castable: f32 += f64 tensor, i64 += int scalar */
    ct_tensor *f = ct_ones(CT_SHAPE(2));
    assert_non_null(ct_add_(f, ct_full(CT_SHAPE(2), 0.25, .dtype = CT_F64)));
    assert_int_equal(ct_dtype_of(f), CT_F32);
    tu_assert_values(f, CT_SHAPE(2), (double[]){1.25, 1.25}, 0, 0);
    ct_tensor *i = ct_ones(CT_SHAPE(2), .dtype = CT_I64);
    ct_add_scalar_(ct_mul_scalar_(i, 3), 1);
    tu_assert_values(i, CT_SHAPE(2), (double[]){4, 4}, 0, 0);
    ct_add_(i, ct_ones(CT_SHAPE(2), .dtype = CT_U8));
    tu_assert_values(i, CT_SHAPE(2), (double[]){5, 5}, 0, 0);
    ct_tensor *h = ct_ones(CT_SHAPE(2), .dtype = CT_F16);
    ct_mul_scalar_(h, 0.5);
    tu_assert_values(h, CT_SHAPE(2), (double[]){0.5, 0.5}, 0, 0);
    /* errors */
    assert_null(ct_add_(i, ct_full(CT_SHAPE(2), 1.5)));
    tu_assert_error(CT_ERR_DTYPE, "add_: result type Float can't be cast to the desired output type Long");
    assert_null(ct_add_scalar_(i, 1.5));
    tu_assert_error(CT_ERR_DTYPE, "result type Float can't be cast to the desired output type Long");
    assert_null(ct_div_(i, i));
    tu_assert_error(CT_ERR_DTYPE, "div_: result type Float can't be cast");
    assert_null(ct_sqrt_(i));
    tu_assert_error(CT_ERR_DTYPE, "sqrt_: result type Float can't be cast to the desired output type Long");
    assert_null(ct_add_(ct_ones(CT_SHAPE(2), .dtype = CT_BOOL), i));
    tu_assert_error(CT_ERR_DTYPE, "result type Long can't be cast to the desired output type Bool");
    assert_null(ct_clamp_(i, 0.5, 1));
    tu_assert_error(CT_ERR_DTYPE, "clamp_: result type Float");
    assert_null(ct_add_(ct_ones(CT_SHAPE(3)), ct_ones(CT_SHAPE(2, 3))));
    tu_assert_error(CT_ERR_SHAPE, "add_: output with shape [3] doesn't match the broadcast shape [2, 3]");
    assert_null(ct_mul_(ct_ones(CT_SHAPE(3)), ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_SHAPE, "The size of tensor a (3) must match the size of tensor b (2)");
    assert_null(ct_neg_(ct_ones(CT_SHAPE(2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "Negation, the `-` operator, on a bool tensor is not supported");
    assert_null(ct_relu_(NULL));
    tu_assert_error(CT_ERR_NULL, "relu_");
    assert_null(ct_exp_(ct_tanh_(ct_sigmoid_(ct_sqrt_(ct_neg_(ct_clamp_(ct_mul_scalar_(ct_add_scalar_(NULL, 1), 2), 0, 1)))))));
    tu_assert_error(CT_ERR_NULL, "add_");
    assert_null(ct_sub_(ct_mul_(ct_div_(NULL, f), f), f));
    tu_assert_error(CT_ERR_NULL, "div_");
}

/* ---- where, masked_fill ------------------------------------------------------------------------ */

static void where_and_masked_fill(void **state) {
    (void)state;
    uint64_t rng = 6;
    const ct_dtype dts[] = {CT_F32, CT_F64, CT_F16, CT_I64, CT_U8, CT_BOOL};
    for (size_t d = 0; d < 6; d++)
        for (int l = 0; l < TU_NUM_WRITABLE_LAYOUTS; l++) CT_SCOPE {
                ct_tensor *cond = tu_random(&rng, CT_SHAPE(3, 4), CT_BOOL, (tu_layout)l, 0, 1);
                ct_tensor *a = tu_random(&rng, CT_SHAPE(4), dts[d], TU_STEPPED, 0, 9);
                ct_tensor *b = tu_random(&rng, CT_SHAPE(3, 1), dts[d], (tu_layout)l, 0, 9);
                double *cv = tu_values(cond), *av = tu_values(a), *bv = tu_values(b), w[12], m[12];
                for (int i = 0; i < 12; i++) w[i] = cv[i] ? av[i % 4] : bv[i / 4];
                ct_tensor *y = ct_where(cond, a, b);
                assert_int_equal(ct_dtype_of(y), dts[d]);
                tu_assert_values(y, CT_SHAPE(3, 4), w, 0, 0);
                ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 4), dts[d], (tu_layout)l, 0, 9);
                double *tv = tu_values(t);
                for (int i = 0; i < 12; i++) m[i] = cv[i] ? (dts[d] == CT_BOOL ? 1 : 7) : tv[i];
                tu_assert_values(ct_masked_fill(t, cond, 7), CT_SHAPE(3, 4), m, 0, 0);
                tu_assert_values(t, CT_SHAPE(3, 4), tv, 0, 0); /* unchanged */
                assert_ptr_equal(ct_masked_fill_(t, cond, 7), t);
                tu_assert_values(t, CT_SHAPE(3, 4), m, 0, 0);
            }
    /* promotion of a and b; 0-d operands; broadcast mask */
    ct_tensor *c = ct_from_data((bool[]){true, false}, CT_SHAPE(2), CT_BOOL);
    ct_tensor *w = ct_where(c, ct_from_data((int64_t[]){1}, CT_SHAPE(1), CT_I64), ct_scalar_tensor(2.5));
    assert_int_equal(ct_dtype_of(w), CT_F32);
    tu_assert_values(w, CT_SHAPE(2), (double[]){1, 2.5}, 0, 0);
    ct_tensor *m = ct_masked_fill(ct_zeros(CT_SHAPE(2, 2), .dtype = CT_I32), c, 3.7);
    assert_int_equal(ct_dtype_of(m), CT_I32);
    tu_assert_values(m, CT_SHAPE(2, 2), (double[]){3, 0, 3, 0}, 0, 0);
    tu_assert_values(ct_masked_fill(ct_zeros(CT_SHAPE()), ct_scalar_bool(true), -1), CT_SHAPE(), (double[]){-1}, 0, 0);
    assert_int_equal(ct_numel(ct_where(ct_zeros(CT_SHAPE(0), .dtype = CT_BOOL), ct_ones(CT_SHAPE(0)), ct_ones(CT_SHAPE(1)))), 0);
    /* errors */
    assert_null(ct_where(ct_ones(CT_SHAPE(2)), ct_ones(CT_SHAPE(2)), ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_DTYPE, "where expected condition to be a boolean tensor, but got a tensor with dtype Float");
    assert_null(ct_where(c, ct_ones(CT_SHAPE(3)), ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_SHAPE, "must match the size of tensor");
    assert_null(ct_where(c, NULL, c));
    tu_assert_error(CT_ERR_NULL, "where");
    assert_null(ct_masked_fill(ct_ones(CT_SHAPE(2)), ct_ones(CT_SHAPE(2)), 1));
    tu_assert_error(CT_ERR_DTYPE, "masked_fill_ only supports boolean masks, but got mask with dtype float32");
    assert_null(ct_masked_fill_(ct_ones(CT_SHAPE(2)), ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL), 1));
    tu_assert_error(CT_ERR_SHAPE, "output with shape [2] doesn't match the broadcast shape [2, 2]");
    assert_null(ct_masked_fill(ct_ones(CT_SHAPE(2, 2)), ct_ones(CT_SHAPE(3), .dtype = CT_BOOL), 1));
    tu_assert_error(CT_ERR_SHAPE, "The size of tensor a (2) must match the size of tensor b (3)");
    assert_null(ct_masked_fill_(NULL, c, 1));
    tu_assert_error(CT_ERR_NULL, "masked_fill_");
}

/* ---- equal, allclose -------------------------------------------------------------------------------- */

static void equal_and_allclose(void **state) {
    (void)state;
    ct_tensor *a = ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(2, 2), CT_F32);
    ct_tensor *at = ct_contiguous(ct_t(ct_t(a)));
    assert_true(ct_equal(a, at));
    assert_true(ct_equal(a, ct_to_dtype(a, CT_I64)));
    assert_false(ct_equal(a, ct_t(a)));
    assert_false(ct_equal(a, ct_ones(CT_SHAPE(4))));
    assert_true(ct_equal(ct_zeros(CT_SHAPE(0)), ct_zeros(CT_SHAPE(0))));
    assert_true(ct_ok());
    ct_tensor *b = ct_add_scalar(a, 1e-6);
    assert_true(ct_allclose(a, b, 1e-5, 1e-8));
    assert_false(ct_allclose(a, ct_add_scalar(a, 1e-3), 1e-5, 1e-8));
    assert_true(ct_allclose(a, ct_add_scalar(a, 1e-3), 0, 1e-2));
    ct_tensor *inf = ct_from_data((double[]){INFINITY, -INFINITY, 1}, CT_SHAPE(3), CT_F64);
    assert_true(ct_allclose(inf, inf, 1e-5, 1e-8));
    ct_tensor *nan = ct_from_data((double[]){NAN}, CT_SHAPE(1), CT_F64);
    assert_false(ct_allclose(nan, nan, 1e-5, 1e-8));
    assert_true(ct_allclose(a, ct_full(CT_SHAPE(2), 1), 0, 3)); /* broadcasts */
    assert_true(ct_ok());
    assert_false(ct_equal(NULL, a));
    tu_assert_error(CT_ERR_NULL, "equal");
    assert_false(ct_allclose(a, NULL, 0, 0));
    tu_assert_error(CT_ERR_NULL, "allclose");
    assert_false(ct_allclose(a, ct_ones(CT_SHAPE(3)), 0, 0));
    tu_assert_error(CT_ERR_SHAPE, "must match");
}

/* ---- threads, errors ---------------------------------------------------------------------------------- */

static void thread_count_independence(void **state) {
    (void)state;
    uint64_t rng = 7;
    ct_tensor *a = tu_random(&rng, CT_SHAPE(300, 401), CT_F32, TU_TRANSPOSED, -3, 3);
    ct_tensor *b = tu_random(&rng, CT_SHAPE(401), CT_F32, TU_CONTIGUOUS, -3, 3);
    int saved = ct_get_num_threads();
    ct_tensor *r[2][3];
    for (int k = 0; k < 2; k++) {
        ct_set_num_threads(k + 1);
        r[k][0] = ct_add(a, b, .alpha = 0.5);
        r[k][1] = ct_gelu(a);
        r[k][2] = ct_where(ct_gt(a, b), ct_exp(a), b);
    }
    ct_set_num_threads(saved);
    for (int j = 0; j < 3; j++) {
        assert_non_null(r[0][j]);
        assert_memory_equal(ct_data_ptr(r[0][j]), ct_data_ptr(r[1][j]), (size_t)ct_numel(r[0][j]) * sizeof(float));
    }
    /* also dense 1-D (one merged loop split across threads) */
    ct_tensor *big = tu_random(&rng, CT_SHAPE(200000), CT_F64, TU_CONTIGUOUS, -1, 1);
    ct_set_num_threads(1);
    ct_tensor *s1 = ct_sin(big);
    ct_set_num_threads(2);
    ct_tensor *s2 = ct_sin(big);
    ct_set_num_threads(saved);
    assert_memory_equal(ct_data_ptr(s1), ct_data_ptr(s2), 200000 * sizeof(double));
    double *v = tu_values(big), *w = malloc(200000 * sizeof *w);
    for (int i = 0; i < 200000; i++) w[i] = sin(v[i]);
    tu_assert_values(s1, CT_SHAPE(200000), w, 1e-15, 1e-15);
    free(w);
}

static void error_paths(void **state) {
    (void)state;
    ct_tensor *a = ct_ones(CT_SHAPE(2, 3)), *b = ct_ones(CT_SHAPE(2, 2));
    assert_null(ct_add(a, b));
    tu_assert_error(CT_ERR_SHAPE, "add: The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1");
    assert_null(ct_eq(a, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "eq: The size of tensor a (3) must match the size of tensor b (4)");
    assert_null(ct_atan2(a, b));
    tu_assert_error(CT_ERR_SHAPE, "atan2: The size of tensor a");
    /* NULL chains keep the first error */
    assert_null(ct_add(ct_mul(ct_exp(ct_add(a, b)), a), a));
    tu_assert_error(CT_ERR_SHAPE, "add: The size of tensor a (3)");
    assert_null(ct_sub(NULL, a));
    tu_assert_error(CT_ERR_NULL, "sub");
    assert_null(ct_exp(NULL));
    tu_assert_error(CT_ERR_NULL, "exp");
    assert_null(ct_gelu(NULL));
    tu_assert_error(CT_ERR_NULL, "gelu");
    assert_null(ct_clamp(NULL, 0, 1));
    tu_assert_error(CT_ERR_NULL, "clamp");
    assert_null(ct_isnan(NULL));
    tu_assert_error(CT_ERR_NULL, "isnan");
    assert_null(ct_logical_not(NULL));
    tu_assert_error(CT_ERR_NULL, "logical_not");
    assert_null(ct_nan_to_num(NULL));
    tu_assert_error(CT_ERR_NULL, "nan_to_num");
    assert_null(ct_floor(NULL));
    tu_assert_error(CT_ERR_NULL, "floor");
    /* dtype errors */
    ct_tensor *bl = ct_ones(CT_SHAPE(2), .dtype = CT_BOOL), *il = ct_ones(CT_SHAPE(2), .dtype = CT_I64);
    assert_null(ct_sub(bl, bl));
    tu_assert_error(CT_ERR_DTYPE, "Subtraction, the `-` operator, with two bool tensors is not supported");
    assert_null(ct_sub(bl, il));
    tu_assert_error(CT_ERR_DTYPE, "Subtraction, the `-` operator, with a bool tensor is not supported");
    assert_null(ct_neg(bl));
    tu_assert_error(CT_ERR_DTYPE, "Negation, the `-` operator, on a bool tensor is not supported");
    assert_null(ct_abs(bl));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_floor(bl));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_relu(bl));
    tu_assert_error(CT_ERR_DTYPE, "Boolean inputs not supported for relu");
    assert_null(ct_pow(bl, bl));
    tu_assert_error(CT_ERR_DTYPE, "pow: \"pow\" not implemented for 'Bool'");
    assert_null(ct_remainder(bl, bl));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_div(bl, bl, .rounding_mode = CT_ROUND_TRUNC));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_add(il, il, .alpha = 0.5));
    tu_assert_error(CT_ERR_ARG, "For integral input tensors, argument alpha must not be a floating point number.");
    assert_null(ct_div(a, a, .rounding_mode = (ct_rounding)7));
    tu_assert_error(CT_ERR_ARG, "invalid rounding_mode");
    assert_null(ct_gelu(a, .approximate = (ct_gelu_approx)9));
    tu_assert_error(CT_ERR_ARG, "invalid approximate");
    assert_null(ct_clamp(a, NAN, 1));
    tu_assert_error(CT_ERR_ARG, "NaN");
    assert_true(ct_ok());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unary_ops_match_reference),
        cmocka_unit_test(unary_special_values),
        cmocka_unit_test(binary_ops_match_reference),
        cmocka_unit_test(comparisons_and_logic),
        cmocka_unit_test(type_promotion_table),
        cmocka_unit_test(scalar_variants),
        cmocka_unit_test(broadcasting_expanded_inputs),
        cmocka_unit_test(division_rounding_modes),
        cmocka_unit_test(inplace_ops),
        cmocka_unit_test(where_and_masked_fill),
        cmocka_unit_test(equal_and_allclose),
        cmocka_unit_test(thread_count_independence),
        cmocka_unit_test(error_paths),
    };
    return TU_RUN("elementwise", tests);
}
