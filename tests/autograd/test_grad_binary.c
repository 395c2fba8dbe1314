/* Derivatives of binary elementwise ops (autograd/grad_binary.c): gradcheck of every op over
 * shapes, broadcasting, 0-d operands and Python-number stand-ins; grad_fn names; PyTorch's
 * choices at special points (ties of minimum/maximum, pow at 0, rounded division); dtypes of
 * gradients; in-place forms and their errors. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

/* ---- helpers ---- */

static ct_tensor *leaf_from(const double *values, ct_shape shape, ct_dtype dtype) {
    ct_tensor *t = ct_to_dtype(ct_from_data(values, shape, CT_F64), dtype);
    return ct_requires_grad_(t, true);
}
#define LEAF(dtype, shape, ...) leaf_from((const double[]){__VA_ARGS__}, (shape), (dtype))

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    assert_int_equal(ct_dtype_of(g), ct_dtype_of(t));
    tu_assert_values(g, ct_shape_of(t), want, 1e-6, 1e-6);
}

/* Values of a tensor that may require grad. */
static void assert_data(const ct_tensor *t, ct_shape shape, const double *want) {
    tu_assert_values(t, shape, want, 1e-6, 1e-6);
}

static void backward_sum(const ct_tensor *y) {
    if (!ct_backward(ct_sum(y))) fail_msg("backward failed: %s", ct_last_error());
}

/* ---- gradcheck table ---- */

typedef struct binary_case {
    ct_tensor *(*fn)(const ct_tensor *a, const ct_tensor *b);
} binary_case;
static ct_tensor *apply_binary(ct_tensor *const *in, void *user) { return ((binary_case *)user)->fn(in[0], in[1]); }

typedef struct scalar_case {
    ct_tensor *(*fn)(const ct_tensor *a, double s);
    double s;
} scalar_case;
static ct_tensor *apply_scalar(ct_tensor *const *in, void *user) {
    scalar_case *c = user;
    return c->fn(in[0], c->s);
}

static ct_tensor *add_fn(const ct_tensor *a, const ct_tensor *b) { return ct_add(a, b); }
static ct_tensor *add_alpha_fn(const ct_tensor *a, const ct_tensor *b) { return ct_add(a, b, .alpha = 2.5); }
static ct_tensor *sub_fn(const ct_tensor *a, const ct_tensor *b) { return ct_sub(a, b); }
static ct_tensor *sub_alpha_fn(const ct_tensor *a, const ct_tensor *b) { return ct_sub(a, b, .alpha = -0.5); }
static ct_tensor *div_fn(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b); }
static ct_tensor *div_trunc_fn(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b, .rounding_mode = CT_ROUND_TRUNC); }
static ct_tensor *div_floor_fn(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b, .rounding_mode = CT_ROUND_FLOOR); }

static binary_case add_c = {add_fn}, add_alpha_c = {add_alpha_fn}, sub_c = {sub_fn}, sub_alpha_c = {sub_alpha_fn},
                   mul_c = {ct_mul}, div_c = {div_fn}, div_trunc_c = {div_trunc_fn}, div_floor_c = {div_floor_fn},
                   pow_c = {ct_pow}, minimum_c = {ct_minimum}, maximum_c = {ct_maximum},
                   remainder_c = {ct_remainder}, atan2_c = {ct_atan2};

static scalar_case add_scalar_c = {ct_add_scalar, 1.5}, sub_scalar_c = {ct_sub_scalar, -0.75},
                   mul_scalar_c = {ct_mul_scalar, -3}, div_scalar_c = {ct_div_scalar, 0.4},
                   pow_scalar_c = {ct_pow_scalar, 3}, pow_scalar_frac_c = {ct_pow_scalar, 0.5},
                   pow_scalar_neg_c = {ct_pow_scalar, -2}, pow_scalar_zero_c = {ct_pow_scalar, 0},
                   rsub_scalar_c = {ct_rsub_scalar, 2};

/* Python-number stand-ins (ct_scalar) on either side: only the tensor is an input. */
static ct_tensor *mul_python_number(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_mul(in[0], ct_scalar(2.5));
}
static ct_tensor *python_number_div(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_div(ct_scalar(1.5), in[0]);
}
static ct_tensor *pow_python_exponent(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_pow(in[0], ct_scalar(3));
}
static ct_tensor *python_base_pow(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_pow(ct_scalar(1.7), in[0]);
}
static ct_tensor *python_number_sub(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_sub(ct_scalar(1), in[0], .alpha = 2);
}

#define SAME(...) {CT_SHAPE(__VA_ARGS__), CT_SHAPE(__VA_ARGS__)}
#define BCAST {CT_SHAPE(3, 1), CT_SHAPE(2, 1, 4)}
#define ZERO_D {CT_SHAPE(), CT_SHAPE(2, 3)}
#define BOTH_0D {CT_SHAPE(), CT_SHAPE()}

static void test_gradcheck_binary(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"add", apply_binary, &add_c, 2, SAME(3, 4), 0, 0},
        {"add broadcast", apply_binary, &add_c, 2, BCAST, 0, 0},
        {"add 0-d", apply_binary, &add_c, 2, ZERO_D, 0, 0},
        {"add alpha broadcast", apply_binary, &add_alpha_c, 2, BCAST, 0, 0},
        {"sub", apply_binary, &sub_c, 2, SAME(4, 3), 0, 0},
        {"sub alpha broadcast", apply_binary, &sub_alpha_c, 2, BCAST, 0, 0},
        {"sub both 0-d", apply_binary, &sub_c, 2, BOTH_0D, 0, 0},
        {"mul", apply_binary, &mul_c, 2, SAME(2, 5), 0, 0},
        {"mul broadcast", apply_binary, &mul_c, 2, BCAST, 0, 0},
        {"mul 0-d", apply_binary, &mul_c, 2, ZERO_D, 0, 0},
        {"div", apply_binary, &div_c, 2, SAME(3, 4), 0.5, 2},
        {"div broadcast", apply_binary, &div_c, 2, BCAST, 0.5, 2},
        {"div 0-d", apply_binary, &div_c, 2, ZERO_D, 0.5, 2},
        {"div trunc", apply_binary, &div_trunc_c, 2, BCAST, 0.5, 2},
        {"div floor", apply_binary, &div_floor_c, 2, SAME(3, 4), -2, 2},
        {"pow", apply_binary, &pow_c, 2, SAME(3, 4), 0.5, 2},
        {"pow broadcast", apply_binary, &pow_c, 2, BCAST, 0.5, 2},
        {"pow 0-d", apply_binary, &pow_c, 2, ZERO_D, 0.5, 2},
        {"minimum", apply_binary, &minimum_c, 2, SAME(3, 4), 0, 0},
        {"minimum broadcast", apply_binary, &minimum_c, 2, BCAST, 0, 0},
        {"maximum", apply_binary, &maximum_c, 2, SAME(4, 3), 0, 0},
        {"maximum broadcast", apply_binary, &maximum_c, 2, BCAST, 0, 0},
        {"maximum 0-d", apply_binary, &maximum_c, 2, ZERO_D, 0, 0},
        {"remainder", apply_binary, &remainder_c, 2, SAME(3, 4), 0.5, 3},
        {"remainder broadcast", apply_binary, &remainder_c, 2, BCAST, 0.5, 3},
        {"atan2", apply_binary, &atan2_c, 2, SAME(3, 4), 0, 0},
        {"atan2 broadcast", apply_binary, &atan2_c, 2, BCAST, 0, 0},
        {"atan2 0-d", apply_binary, &atan2_c, 2, ZERO_D, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_scalar(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"add_scalar", apply_scalar, &add_scalar_c, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"add_scalar 0-d", apply_scalar, &add_scalar_c, 1, {CT_SHAPE()}, 0, 0},
        {"sub_scalar", apply_scalar, &sub_scalar_c, 1, {CT_SHAPE(2, 3, 2)}, 0, 0},
        {"mul_scalar", apply_scalar, &mul_scalar_c, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"mul_scalar 0-d", apply_scalar, &mul_scalar_c, 1, {CT_SHAPE()}, 0, 0},
        {"div_scalar", apply_scalar, &div_scalar_c, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"pow_scalar 3", apply_scalar, &pow_scalar_c, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"pow_scalar 0.5", apply_scalar, &pow_scalar_frac_c, 1, {CT_SHAPE(2, 5)}, 0.5, 2},
        {"pow_scalar -2", apply_scalar, &pow_scalar_neg_c, 1, {CT_SHAPE(3, 2)}, 0.5, 2},
        {"pow_scalar 0", apply_scalar, &pow_scalar_zero_c, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"rsub_scalar", apply_scalar, &rsub_scalar_c, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"rsub_scalar 0-d", apply_scalar, &rsub_scalar_c, 1, {CT_SHAPE()}, 0, 0},
        {"mul python number", mul_python_number, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"python number / t", python_number_div, NULL, 1, {CT_SHAPE(3, 4)}, 0.5, 2},
        {"pow python exponent", pow_python_exponent, NULL, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"python base pow", python_base_pow, NULL, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"python number - t", python_number_sub, NULL, 1, {CT_SHAPE()}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* In place: on a clone of input 0 (a leaf cannot be written in place), so the result is recorded
 * through the in-place op. */
typedef struct inplace_case {
    ct_tensor *(*fn)(ct_tensor *self, const ct_tensor *other);
} inplace_case;
static ct_tensor *apply_inplace(ct_tensor *const *in, void *user) {
    return ((inplace_case *)user)->fn(ct_clone(in[0]), in[1]);
}
typedef struct scalar_inplace_case {
    ct_tensor *(*fn)(ct_tensor *self, double s);
    double s;
} scalar_inplace_case;
/* The clone times input 1, so fills still have an input with a gradient through them. */
static ct_tensor *apply_scalar_inplace(ct_tensor *const *in, void *user) {
    scalar_inplace_case *c = user;
    return ct_mul(c->fn(ct_clone(in[0]), c->s), in[1]);
}

static ct_tensor *add_inplace_fn(ct_tensor *a, const ct_tensor *b) { return ct_add_(a, b, .alpha = 1.5); }
static ct_tensor *sub_inplace_fn(ct_tensor *a, const ct_tensor *b) { return ct_sub_(a, b, .alpha = 2); }
static ct_tensor *zero_inplace_fn(ct_tensor *t, double s) {
    (void)s;
    return ct_zero_(t);
}

static inplace_case add_i = {add_inplace_fn}, sub_i = {sub_inplace_fn}, mul_i = {ct_mul_}, div_i = {ct_div_};
static scalar_inplace_case add_scalar_i = {ct_add_scalar_, 0.25}, mul_scalar_i = {ct_mul_scalar_, -1.5},
                           fill_i = {ct_fill_, 3}, zero_i = {zero_inplace_fn, 0};

static void test_gradcheck_inplace(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"add_", apply_inplace, &add_i, 2, SAME(3, 4), 0, 0},
        {"add_ broadcast other", apply_inplace, &add_i, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(3, 1)}, 0, 0},
        {"sub_", apply_inplace, &sub_i, 2, {CT_SHAPE(2, 3), CT_SHAPE()}, 0, 0},
        {"mul_", apply_inplace, &mul_i, 2, {CT_SHAPE(2, 1, 4), CT_SHAPE(4)}, 0, 0},
        {"div_", apply_inplace, &div_i, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 1)}, 0.5, 2},
        {"add_scalar_", apply_scalar_inplace, &add_scalar_i, 2, SAME(3, 4), 0, 0},
        {"mul_scalar_", apply_scalar_inplace, &mul_scalar_i, 2, SAME(3, 4), 0, 0},
        {"fill_", apply_scalar_inplace, &fill_i, 2, SAME(3, 4), 0, 0},
        {"zero_", apply_scalar_inplace, &zero_i, 2, SAME(4, 3), 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- grad_fn names ---- */

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = LEAF(CT_F32, CT_SHAPE(2), 3, 4);
    static const struct {
        const binary_case *c;
        const char *name;
    } binary[] = {{&add_c, "AddBackward0"},         {&sub_c, "SubBackward0"},         {&mul_c, "MulBackward0"},
                  {&div_c, "DivBackward0"},         {&div_trunc_c, "DivBackward2"},   {&div_floor_c, "DivBackward2"},
                  {&pow_c, "PowBackward1"},         {&minimum_c, "MinimumBackward0"}, {&maximum_c, "MaximumBackward0"},
                  {&remainder_c, "RemainderBackward1"}, {&atan2_c, "Atan2Backward0"}};
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++)
        assert_string_equal(ct_grad_fn_name(binary[i].c->fn(a, b)), binary[i].name);
    /* Scalar right-hand sides are named as x + 2, x * 2, x / 2, x ** 2, 2 - x are in PyTorch. */
    static const struct {
        const scalar_case *c;
        const char *name;
    } scalar[] = {{&add_scalar_c, "AddBackward0"}, {&sub_scalar_c, "SubBackward0"}, {&mul_scalar_c, "MulBackward0"},
                  {&div_scalar_c, "DivBackward0"}, {&pow_scalar_c, "PowBackward0"}, {&pow_scalar_zero_c, "PowBackward0"},
                  {&rsub_scalar_c, "RsubBackward1"}};
    for (size_t i = 0; i < sizeof scalar / sizeof *scalar; i++)
        assert_string_equal(ct_grad_fn_name(scalar[i].c->fn(a, scalar[i].c->s)), scalar[i].name);
    assert_string_equal(ct_grad_fn_name(ct_add(a, ct_scalar(2))), ct_grad_fn_name(ct_add_scalar(a, 2)));
    assert_true(ct_ok());
}

static void test_inplace_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = ct_ones(CT_SHAPE(2));
    static const struct {
        const inplace_case *c;
        const char *name;
    } binary[] = {{&add_i, "AddBackward0"}, {&sub_i, "SubBackward0"}, {&mul_i, "MulBackward0"}, {&div_i, "DivBackward0"}};
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
        ct_tensor *y = ct_mul_scalar(x, 1);
        assert_ptr_equal(binary[i].c->fn(y, b), y);
        assert_string_equal(ct_grad_fn_name(y), binary[i].name);
    }
    static const struct {
        const scalar_inplace_case *c;
        const char *name;
    } scalar[] = {{&add_scalar_i, "AddBackward0"},
                  {&mul_scalar_i, "MulBackward0"},
                  {&fill_i, "FillBackward0"},
                  {&zero_i, "ZeroBackward0"}};
    for (size_t i = 0; i < sizeof scalar / sizeof *scalar; i++) {
        ct_tensor *y = ct_mul_scalar(x, 1);
        assert_ptr_equal(scalar[i].c->fn(y, scalar[i].c->s), y);
        assert_string_equal(ct_grad_fn_name(y), scalar[i].name);
    }
    assert_true(ct_ok());
}

/* ---- values at chosen points ---- */

static void test_add_sub_broadcast_values(void **state) {
    (void)state;
    /* sum(a + 2b) over [2, 3, 4]: each a[i] appears 8 times, each b[j] 3 times (x2) */
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(3, 1), 1, 2, 3);
    ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(2, 1, 4)), true);
    backward_sum(ct_add(a, b, .alpha = 2));
    assert_grad(a, (double[]){8, 8, 8});
    assert_grad(b, (double[]){6, 6, 6, 6, 6, 6, 6, 6});
    ct_set_grad(a, NULL), ct_set_grad(b, NULL);
    backward_sum(ct_sub(a, b, .alpha = 2));
    assert_grad(a, (double[]){8, 8, 8});
    assert_grad(b, (double[]){-6, -6, -6, -6, -6, -6, -6, -6});
}

static void test_div_values(void **state) {
    (void)state;
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = LEAF(CT_F32, CT_SHAPE(2), 4, 8);
    backward_sum(ct_div(a, b));
    assert_grad(a, (double[]){0.25, 0.125});      /* 1/b */
    assert_grad(b, (double[]){-1.0 / 16, -2.0 / 64}); /* -a/b^2 */
    /* rounded division is piecewise constant: zero gradients, still delivered */
    ct_tensor *c = LEAF(CT_F32, CT_SHAPE(2), 7, -7), *d = LEAF(CT_F32, CT_SHAPE(), 2);
    backward_sum(ct_div(c, d, .rounding_mode = CT_ROUND_FLOOR));
    assert_grad(c, (double[]){0, 0});
    assert_grad(d, (double[]){0});
    ct_set_grad(c, NULL), ct_set_grad(d, NULL);
    backward_sum(ct_div(c, d, .rounding_mode = CT_ROUND_TRUNC));
    assert_grad(c, (double[]){0, 0});
    assert_grad(d, (double[]){0});
}

static void test_pow_special_points(void **state) {
    (void)state;
    /* a^b at (0,0), (0,2), (2,3), (3,0): d/da = b a^(b-1) but 0 where b == 0;
     * d/db = a^b log a but 0 where a == 0 and b >= 0 (log 0 = -inf would give nan) */
    ct_tensor *a = LEAF(CT_F64, CT_SHAPE(4), 0, 0, 2, 3), *b = LEAF(CT_F64, CT_SHAPE(4), 0, 2, 3, 0);
    ct_tensor *y = ct_pow(a, b);
    assert_data(y, CT_SHAPE(4), (double[]){1, 0, 8, 1});
    backward_sum(y);
    assert_grad(a, (double[]){0, 0, 12, 0});
    assert_grad(b, (double[]){0, 0, 8 * log(2.0), log(3.0)});
    /* pow_scalar with exponent 0: zeros even at 0 */
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(3), 1, 0, -2);
    backward_sum(ct_pow_scalar(x, 0));
    assert_grad(x, (double[]){0, 0, 0});
    ct_set_grad(x, NULL);
    backward_sum(ct_pow_scalar(x, 3)); /* 3x^2 */
    assert_grad(x, (double[]){3, 0, 12});
    /* an integer exponent tensor: only the base gets a gradient */
    ct_tensor *base = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3);
    backward_sum(ct_pow(base, ct_from_data((int64_t[]){2, 0, 1}, CT_SHAPE(3), CT_I64)));
    assert_grad(base, (double[]){2, 0, 1});
}

static void test_minimum_maximum_ties(void **state) {
    (void)state;
    /* ties split the gradient half and half, exactly */
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(4), 1, 2, 3, -1), *b = LEAF(CT_F32, CT_SHAPE(4), 1, 0, 5, -1);
    backward_sum(ct_maximum(a, b));
    assert_grad(a, (double[]){0.5, 1, 0, 0.5});
    assert_grad(b, (double[]){0.5, 0, 1, 0.5});
    ct_set_grad(a, NULL), ct_set_grad(b, NULL);
    backward_sum(ct_minimum(a, b));
    assert_grad(a, (double[]){0.5, 0, 1, 0.5});
    assert_grad(b, (double[]){0.5, 1, 0, 0.5});
    /* broadcast: the 0-d b ties with a[1] and collects what it wins */
    ct_tensor *c = LEAF(CT_F64, CT_SHAPE(3), 1, 2, 3), *d = LEAF(CT_F64, CT_SHAPE(), 2);
    backward_sum(ct_maximum(c, d));
    assert_grad(c, (double[]){0, 0.5, 1});
    assert_grad(d, (double[]){1.5});
}

static void test_remainder_atan2_values(void **state) {
    (void)state;
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(2), 5, -5), *b = LEAF(CT_F32, CT_SHAPE(2), 3, 3);
    ct_tensor *r = ct_remainder(a, b);
    assert_data(r, CT_SHAPE(2), (double[]){2, 1});
    backward_sum(r);
    assert_grad(a, (double[]){1, 1});
    assert_grad(b, (double[]){-1, 2}); /* -floor(a/b) */
    ct_tensor *y = LEAF(CT_F64, CT_SHAPE(2), 1, -2), *x = LEAF(CT_F64, CT_SHAPE(2), 1, 0);
    backward_sum(ct_atan2(y, x));
    assert_grad(y, (double[]){0.5, 0});    /* x / (x^2 + y^2) */
    assert_grad(x, (double[]){-0.5, 0.5}); /* -y / (x^2 + y^2) */
}

static void test_scalar_rhs_values(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(2), 1, 2);
    static const struct {
        const scalar_case *c;
        double s;
        double want[2];
    } cases[] = {{&add_scalar_c, 2, {1, 1}},     {&sub_scalar_c, 2, {1, 1}},   {&mul_scalar_c, 3, {3, 3}},
                 {&div_scalar_c, 4, {0.25, 0.25}}, {&pow_scalar_c, 3, {3, 12}}, {&rsub_scalar_c, 2, {-1, -1}}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ct_set_grad(x, NULL);
        ct_tensor *y = cases[i].c->fn(x, cases[i].s);
        assert_int_equal(ct_dtype_of(y), CT_F32);
        backward_sum(y);
        assert_grad(x, cases[i].want);
    }
}

static void test_zero_d_and_python_numbers(void **state) {
    (void)state;
    /* a 0-d tensor that requires grad broadcasts and gets a 0-d gradient */
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3), *s = LEAF(CT_F32, CT_SHAPE(), 2);
    backward_sum(ct_mul(x, s));
    assert_grad(x, (double[]){2, 2, 2});
    assert_grad(s, (double[]){6});
    /* a Python-number stand-in is a constant and keeps x's dtype */
    ct_set_grad(x, NULL);
    ct_tensor *y = ct_sub(ct_scalar(1), x);
    assert_int_equal(ct_dtype_of(y), CT_F32);
    assert_string_equal(ct_grad_fn_name(y), "SubBackward0");
    backward_sum(y);
    assert_grad(x, (double[]){-1, -1, -1});
    ct_set_grad(x, NULL);
    backward_sum(ct_div(ct_scalar(1), x)); /* -1/x^2 */
    assert_grad(x, (double[]){-1, -0.25, -1.0 / 9});
}

/* f32 inputs get f32 gradients from every op, and the result stays f32 */
static void test_f32_gradients(void **state) {
    (void)state;
    const binary_case *ops[] = {&add_c,     &sub_c,     &mul_c,       &div_c,  &div_floor_c,
                                &pow_c,     &minimum_c, &maximum_c, &remainder_c, &atan2_c};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) CT_SCOPE {
        ct_tensor *a = LEAF(CT_F32, CT_SHAPE(2, 1), 1.5, 2), *b = LEAF(CT_F32, CT_SHAPE(3), 0.5, 1, 3);
        ct_tensor *y = ops[i]->fn(a, b);
        assert_int_equal(ct_dtype_of(y), CT_F32);
        backward_sum(y);
        assert_int_equal(ct_dtype_of(ct_grad(a)), CT_F32);
        assert_int_equal(ct_dtype_of(ct_grad(b)), CT_F32);
    }
}

/* f32 * f64 gives f64; each input's gradient has the input's own dtype */
static void test_mixed_dtypes(void **state) {
    (void)state;
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3), *b = LEAF(CT_F64, CT_SHAPE(3), 4, 5, 6);
    ct_tensor *y = ct_mul(a, b);
    assert_int_equal(ct_dtype_of(y), CT_F64);
    backward_sum(y);
    assert_grad(a, (double[]){4, 5, 6});
    assert_grad(b, (double[]){1, 2, 3});
    ct_set_grad(a, NULL), ct_set_grad(b, NULL);
    backward_sum(ct_pow(b, a)); /* d/db = a b^(a-1), d/da = b^a log b */
    assert_grad(a, (double[]){4 * log(4.0), 25 * log(5.0), 216 * log(6.0)});
    assert_grad(b, (double[]){1, 10, 108});
}

/* Errors keep the forward op's messages when a graph is being recorded. */
static void test_forward_errors_under_grad(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3);
    assert_null(ct_add(x, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "add: The size of tensor a (3) must match the size of tensor b (4)");
    assert_null(ct_div(x, x, .rounding_mode = (ct_rounding)7));
    tu_assert_error(CT_ERR_ARG, "div: invalid rounding_mode 7");
    assert_null(ct_pow(x, NULL));
    tu_assert_error(CT_ERR_NULL, "pow: argument 2 is NULL");
}

/* ---- in-place forms ---- */

static void test_inplace_leaf_error(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = ct_ones(CT_SHAPE(2));
    const char *msg = "a leaf Variable that requires grad is being used in an in-place operation.";
    assert_null(ct_add_(x, b));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_sub_(x, b));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_mul_(x, b));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_div_(x, b));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_add_scalar_(x, 1));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_mul_scalar_(x, 2));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_fill_(x, 0));
    tu_assert_error(CT_ERR_STATE, msg);
    assert_null(ct_zero_(x));
    tu_assert_error(CT_ERR_STATE, msg);
    /* the leaf is untouched, and under no_grad it may be written */
    assert_data(x, CT_SHAPE(2), (double[]){1, 2});
    CT_NO_GRAD assert_ptr_equal(ct_mul_scalar_(x, 2), x);
    assert_data(x, CT_SHAPE(2), (double[]){2, 4});
}

static void test_inplace_on_saved_tensor_fails(void **state) {
    (void)state;
    /* mul saved b for a's gradient; writing b afterwards must fail backward, not give a wrong
     * gradient */
    ct_tensor *a = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = ct_full(CT_SHAPE(2), 3);
    ct_tensor *y = ct_mul(a, b);
    assert_ptr_equal(ct_mul_scalar_(b, 2), b);
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
}

static void test_inplace_on_saved_tensor_fails_recorded(void **state) {
    (void)state;
    /* pow_scalar saved h; h is then changed by a recorded in-place op */
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(2), 1, 2);
    ct_tensor *h = ct_mul_scalar(x, 1);
    ct_tensor *y = ct_pow_scalar(h, 2);
    assert_ptr_equal(ct_add_scalar_(h, 1), h);
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
}

/* Under a graph the in-place op still refuses what its tensor-layer form refuses, with the same
 * message (the recorded path computes out of place). */
static void test_inplace_errors_under_grad(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3);
    ct_tensor *y = ct_mul_scalar(x, 1);
    assert_null(ct_add_(y, ct_ones(CT_SHAPE(2, 3))));
    tu_assert_error(CT_ERR_SHAPE, "add_: output with shape [3] doesn't match the broadcast shape [2, 3]");
    assert_null(ct_sub_(y, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "sub_: The size of tensor a (3) must match the size of tensor b (4)");
    assert_null(ct_div_(y, NULL));
    tu_assert_error(CT_ERR_NULL, "div_: argument 2 is NULL");
    /* an integer self cannot hold the float result of a graph input */
    ct_tensor *ints = ct_arange(0, 3, 1);
    assert_null(ct_mul_(ints, x));
    tu_assert_error(CT_ERR_DTYPE, "mul_: result type Float can't be cast to the desired output type Long");
    assert_data(ints, CT_SHAPE(3), (double[]){0, 1, 2});
    /* an expanded self has several elements in one memory location */
    ct_tensor *expanded = ct_expand(ct_zeros(CT_SHAPE(1, 3)), CT_SHAPE(2, 3));
    assert_null(ct_add_(expanded, ct_requires_grad_(ct_ones(CT_SHAPE(2, 3)), true)));
    tu_assert_error(CT_ERR_ARG, "add_: unsupported operation: more than one element of the written-to tensor");
    /* a NULL self with a graph input */
    assert_null(ct_mul_(NULL, x));
    tu_assert_error(CT_ERR_NULL, "mul_: argument 1 is NULL");
}

static void test_inplace_values(void **state) {
    (void)state;
    /* y = clone(x); y *= b: x gets b, b gets x's old value */
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(3), 1, 2, 3), *b = LEAF(CT_F32, CT_SHAPE(3), 2, 3, 4);
    ct_tensor *y = ct_clone(x);
    assert_ptr_equal(ct_mul_(y, b), y);
    assert_data(y, CT_SHAPE(3), (double[]){2, 6, 12});
    backward_sum(y);
    assert_grad(x, (double[]){2, 3, 4});
    assert_grad(b, (double[]){1, 2, 3});
    /* a self that needs no gradient becomes part of the graph through other */
    ct_set_grad(b, NULL);
    ct_tensor *plain = ct_ones(CT_SHAPE(3));
    assert_ptr_equal(ct_sub_(plain, b, .alpha = 2), plain);
    assert_true(ct_requires_grad(plain));
    assert_string_equal(ct_grad_fn_name(plain), "SubBackward0");
    backward_sum(plain);
    assert_grad(b, (double[]){-2, -2, -2});
    /* fills: the old value no longer matters; the input still gets a (zero) gradient */
    ct_set_grad(x, NULL);
    ct_tensor *f = ct_clone(x);
    assert_ptr_equal(ct_fill_(f, 5), f);
    assert_data(f, CT_SHAPE(3), (double[]){5, 5, 5});
    backward_sum(ct_mul(f, x)); /* x's gradient comes from the mul only: f = 5 */
    assert_grad(x, (double[]){5, 5, 5});
    ct_set_grad(x, NULL);
    backward_sum(ct_zero_(ct_clone(x)));
    assert_grad(x, (double[]){0, 0, 0});
}

/* in place with a wider other: self keeps its f32, other's gradient is f64 */
static void test_inplace_mixed_dtypes(void **state) {
    (void)state;
    ct_tensor *x = LEAF(CT_F32, CT_SHAPE(2), 1, 2), *b = LEAF(CT_F64, CT_SHAPE(2), 3, 4);
    ct_tensor *y = ct_mul_scalar(x, 1);
    assert_ptr_equal(ct_mul_(y, b), y);
    assert_int_equal(ct_dtype_of(y), CT_F32);
    backward_sum(y);
    assert_grad(x, (double[]){3, 4});
    assert_grad(b, (double[]){1, 2});
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_binary),
        cmocka_unit_test(test_gradcheck_scalar),
        cmocka_unit_test(test_gradcheck_inplace),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_inplace_grad_fn_names),
        cmocka_unit_test(test_add_sub_broadcast_values),
        cmocka_unit_test(test_div_values),
        cmocka_unit_test(test_pow_special_points),
        cmocka_unit_test(test_minimum_maximum_ties),
        cmocka_unit_test(test_remainder_atan2_values),
        cmocka_unit_test(test_scalar_rhs_values),
        cmocka_unit_test(test_zero_d_and_python_numbers),
        cmocka_unit_test(test_f32_gradients),
        cmocka_unit_test(test_mixed_dtypes),
        cmocka_unit_test(test_forward_errors_under_grad),
        cmocka_unit_test(test_inplace_leaf_error),
        cmocka_unit_test(test_inplace_on_saved_tensor_fails),
        cmocka_unit_test(test_inplace_on_saved_tensor_fails_recorded),
        cmocka_unit_test(test_inplace_errors_under_grad),
        cmocka_unit_test(test_inplace_values),
        cmocka_unit_test(test_inplace_mixed_dtypes),
    };
    return TU_RUN("grad_binary", tests);
}
