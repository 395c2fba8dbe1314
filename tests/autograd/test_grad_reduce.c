/* Derivatives of reductions, softmax and cumulative ops: gradcheck over layouts and dims, grad_fn
 * names, exact tie splitting, zeros in prod/cumprod, dtypes, and saved tensors. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

/* ---- functions for gradcheck ------------------------------------------------------------------ */

typedef struct reduce_call {
    ct_tensor *(*op)(const ct_tensor *t, ct_reduce_opts opts);
    ct_reduce_opts opts;
} reduce_call;
#define REDUCE(fn, ...) (&(reduce_call){.op = (fn), .opts = CT__ROPTS(__VA_ARGS__)})

static ct_tensor *apply_reduce(ct_tensor *const *in, void *user) {
    const reduce_call *c = user;
    return c->op(in[0], c->opts);
}

/* softmax, log_softmax, cumsum, cumprod */
typedef struct along_call {
    ct_tensor *(*op)(const ct_tensor *t, int dim);
    int dim;
} along_call;
#define ALONG(fn, d) (&(along_call){.op = (fn), .dim = (d)})

static ct_tensor *apply_along(ct_tensor *const *in, void *user) {
    const along_call *c = user;
    return c->op(in[0], c->dim);
}

/* max_dim, min_dim: the values (the indices are not differentiable) */
typedef struct extreme_dim_call {
    ct_tensor *(*op)(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);
    int dim;
    bool keepdim;
} extreme_dim_call;
#define EXTREME_DIM(fn, d, keep) (&(extreme_dim_call){.op = (fn), .dim = (d), .keepdim = (keep)})

static ct_tensor *apply_extreme_dim(ct_tensor *const *in, void *user) {
    const extreme_dim_call *c = user;
    return c->op(in[0], c->dim, c->keepdim, NULL);
}

static ct_tensor *apply_max(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_max(in[0]);
}

static ct_tensor *apply_min(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_min(in[0]);
}

/* ---- gradcheck tables -------------------------------------------------------------------------- */

static void test_gradcheck_sum_mean_prod(void **state) {
    (void)state;
    const tu_grad_case cases[] = {
        {"sum all", apply_reduce, REDUCE(ct_sum_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"sum dims (0, -1) keepdim", apply_reduce, REDUCE(ct_sum_opt, .dim = CT_DIMS(0, -1), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"mean all", apply_reduce, REDUCE(ct_mean_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"mean 0-d", apply_reduce, REDUCE(ct_mean_opt), 1, {CT_SHAPE()}, 0, 0},
        {"mean dim 1", apply_reduce, REDUCE(ct_mean_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"mean dim -2 keepdim", apply_reduce, REDUCE(ct_mean_opt, .dim = CT_DIMS(-2), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"mean dims (0, 2)", apply_reduce, REDUCE(ct_mean_opt, .dim = CT_DIMS(0, 2)), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"mean dtype f64", apply_reduce, REDUCE(ct_mean_opt, .dim = CT_DIMS(-1), .dtype = CT_F64), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"prod all", apply_reduce, REDUCE(ct_prod_opt), 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"prod 0-d", apply_reduce, REDUCE(ct_prod_opt), 1, {CT_SHAPE()}, 0, 0},
        {"prod dim 1", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"prod dim -1 keepdim", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(-1), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"prod dims (0, 2)", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(0, 2)), 1, {CT_SHAPE(2, 3, 2)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* rows: no zero, one zero, two zeros, a zero first */
static const double zeros_3x4[12] = {1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1};
static const double one_zero_2x3[6] = {1, 1, 1, 1, 0, 1};
static const double zeros_4x5[20] = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1};
static const double zeros_2x3x4[24] = {1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1};

/* tu_gradcheck with exact zeros in the input: random values times the 0/1 factors of zero_mask
 * (written in place, so every layout keeps its strides). prod and cumprod are linear in each
 * element, so central differences stay exact across a zero. */
static void gradcheck_with_zeros(const tu_grad_case *c, const double *zero_mask) {
    uint64_t seed = 0x2e805;
    for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++) CT_SCOPE {
        ct_tensor *x = tu_random(&seed, c->shapes[0], CT_F64, (tu_layout)layout, -2, 2);
        assert_non_null(ct_mul_(x, ct_from_data(zero_mask, c->shapes[0], CT_F64)));
        ct_requires_grad_(x, true);
        if (!ct_gradcheck(c->fn, c->user, CT_TENSORS(x)))
            fail_msg("gradcheck of %s with %s inputs: %s", c->name, tu_layout_names[layout], ct_last_error());
    }
}

static void test_gradcheck_prod_cumprod_with_zeros(void **state) {
    (void)state;
    const struct {
        tu_grad_case c;
        const double *zero_mask;
    } cases[] = {
        {{"prod dim 1", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0}, zeros_3x4},
        {{"prod dim 0 keepdim", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(0), .keepdim = true), 1, {CT_SHAPE(3, 4)}, 0, 0}, zeros_3x4},
        {{"prod all, one zero", apply_reduce, REDUCE(ct_prod_opt), 1, {CT_SHAPE(2, 3)}, 0, 0}, one_zero_2x3},
        {{"prod all, three zeros", apply_reduce, REDUCE(ct_prod_opt), 1, {CT_SHAPE(3, 4)}, 0, 0}, zeros_3x4},
        {{"prod dims (0, -1)", apply_reduce, REDUCE(ct_prod_opt, .dim = CT_DIMS(0, -1)), 1, {CT_SHAPE(2, 3, 4)}, 0, 0}, zeros_2x3x4},
        {{"cumprod dim 1", apply_along, ALONG(ct_cumprod, 1), 1, {CT_SHAPE(4, 5)}, 0, 0}, zeros_4x5},
        {{"cumprod dim -2", apply_along, ALONG(ct_cumprod, -2), 1, {CT_SHAPE(4, 5)}, 0, 0}, zeros_4x5},
        {{"cumprod 3-d", apply_along, ALONG(ct_cumprod, 2), 1, {CT_SHAPE(2, 3, 4)}, 0, 0}, zeros_2x3x4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) gradcheck_with_zeros(&cases[i].c, cases[i].zero_mask);
}

static void test_gradcheck_extremes(void **state) {
    (void)state;
    /* random values are distinct, so no tie lies within gradcheck's step */
    const tu_grad_case cases[] = {
        {"amax all", apply_reduce, REDUCE(ct_amax_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"amax dim 1", apply_reduce, REDUCE(ct_amax_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"amax dims (-1, 0) keepdim", apply_reduce, REDUCE(ct_amax_opt, .dim = CT_DIMS(-1, 0), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"amax 0-d", apply_reduce, REDUCE(ct_amax_opt), 1, {CT_SHAPE()}, 0, 0},
        {"amin all", apply_reduce, REDUCE(ct_amin_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"amin dim -2", apply_reduce, REDUCE(ct_amin_opt, .dim = CT_DIMS(-2)), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"amin dims (0, 2) keepdim", apply_reduce, REDUCE(ct_amin_opt, .dim = CT_DIMS(0, 2), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"max", apply_max, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"max 0-d", apply_max, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"min", apply_min, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"max_dim 1", apply_extreme_dim, EXTREME_DIM(ct_max_dim, 1, false), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"max_dim -1 keepdim", apply_extreme_dim, EXTREME_DIM(ct_max_dim, -1, true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"max_dim 0", apply_extreme_dim, EXTREME_DIM(ct_max_dim, 0, false), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"max_dim 0-d", apply_extreme_dim, EXTREME_DIM(ct_max_dim, 0, false), 1, {CT_SHAPE()}, 0, 0},
        {"min_dim 0", apply_extreme_dim, EXTREME_DIM(ct_min_dim, 0, false), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"min_dim -2 keepdim", apply_extreme_dim, EXTREME_DIM(ct_min_dim, -2, true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_var_std(void **state) {
    (void)state;
    const tu_grad_case cases[] = {
        {"var all", apply_reduce, REDUCE(ct_var_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"var dim 1 correction 0", apply_reduce, REDUCE(ct_var_opt, .dim = CT_DIMS(1), .correction = 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"var dims (0, -1) keepdim", apply_reduce, REDUCE(ct_var_opt, .dim = CT_DIMS(0, -1), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"var dim -2 correction 2", apply_reduce, REDUCE(ct_var_opt, .dim = CT_DIMS(-2), .correction = 2), 1, {CT_SHAPE(2, 5, 3)}, 0, 0},
        {"std all", apply_reduce, REDUCE(ct_std_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"std dim 0 correction 0", apply_reduce, REDUCE(ct_std_opt, .dim = CT_DIMS(0), .correction = 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"std dims (1, 2) keepdim", apply_reduce, REDUCE(ct_std_opt, .dim = CT_DIMS(1, 2), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"std dim -1 correction 1.5", apply_reduce, REDUCE(ct_std_opt, .dim = CT_DIMS(-1), .correction = 1.5), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_norm_logsumexp(void **state) {
    (void)state;
    const tu_grad_case cases[] = {
        {"norm all", apply_reduce, REDUCE(ct_norm_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm 0-d", apply_reduce, REDUCE(ct_norm_opt), 1, {CT_SHAPE()}, 0.5, 2},
        {"norm dim 1", apply_reduce, REDUCE(ct_norm_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm dims (0, -1) keepdim", apply_reduce, REDUCE(ct_norm_opt, .dim = CT_DIMS(0, -1), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"norm p=1", apply_reduce, REDUCE(ct_norm_opt, .p = 1, .dim = CT_DIMS(-1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm p=3", apply_reduce, REDUCE(ct_norm_opt, .p = 3, .dim = CT_DIMS(0)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm p=1.5", apply_reduce, REDUCE(ct_norm_opt, .p = 1.5), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm p=0.5", apply_reduce, REDUCE(ct_norm_opt, .p = 0.5, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0.5, 2},
        {"norm p=-1", apply_reduce, REDUCE(ct_norm_opt, .p = -1), 1, {CT_SHAPE(2, 3)}, 0.5, 2},
        {"norm p=inf", apply_reduce, REDUCE(ct_norm_opt, .p = INFINITY, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm p=-inf keepdim", apply_reduce, REDUCE(ct_norm_opt, .p = -INFINITY, .dim = CT_DIMS(-1), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"norm p=0", apply_reduce, REDUCE(ct_norm_opt, .p = 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"norm dtype f64", apply_reduce, REDUCE(ct_norm_opt, .dtype = CT_F64, .dim = CT_DIMS(0)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"logsumexp all", apply_reduce, REDUCE(ct_logsumexp_opt), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"logsumexp 0-d", apply_reduce, REDUCE(ct_logsumexp_opt), 1, {CT_SHAPE()}, 0, 0},
        {"logsumexp dim 1", apply_reduce, REDUCE(ct_logsumexp_opt, .dim = CT_DIMS(1)), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"logsumexp dims (-1, 0) keepdim", apply_reduce, REDUCE(ct_logsumexp_opt, .dim = CT_DIMS(-1, 0), .keepdim = true), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_softmax_cumulative(void **state) {
    (void)state;
    const tu_grad_case cases[] = {
        {"softmax dim 1", apply_along, ALONG(ct_softmax, 1), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"softmax dim 0", apply_along, ALONG(ct_softmax, 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"softmax dim -2", apply_along, ALONG(ct_softmax, -2), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"softmax 0-d", apply_along, ALONG(ct_softmax, 0), 1, {CT_SHAPE()}, 0, 0},
        {"log_softmax dim 1", apply_along, ALONG(ct_log_softmax, 1), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"log_softmax dim -1", apply_along, ALONG(ct_log_softmax, -1), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"log_softmax dim 0", apply_along, ALONG(ct_log_softmax, 0), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        /* the CPU kernel's tiles of 256 neighbouring rows: more than one */
        {"softmax dim 1 of 2x3x260", apply_along, ALONG(ct_softmax, 1), 1, {CT_SHAPE(2, 3, 260)}, 0, 0},
        {"log_softmax dim 0 of 2x260", apply_along, ALONG(ct_log_softmax, 0), 1, {CT_SHAPE(2, 260)}, 0, 0},
        {"cumsum dim 0", apply_along, ALONG(ct_cumsum, 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"cumsum dim -1", apply_along, ALONG(ct_cumsum, -1), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"cumsum 0-d", apply_along, ALONG(ct_cumsum, 0), 1, {CT_SHAPE()}, 0, 0},
        {"cumprod dim 1", apply_along, ALONG(ct_cumprod, 1), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"cumprod dim 0", apply_along, ALONG(ct_cumprod, 0), 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"cumprod dim -2", apply_along, ALONG(ct_cumprod, -2), 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"cumprod 0-d", apply_along, ALONG(ct_cumprod, 0), 1, {CT_SHAPE()}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- exact values ---------------------------------------------------------------------------- */

static ct_tensor *leaf_of(const double *values, ct_shape shape) {
    return ct_requires_grad_(ct_from_data(values, shape, CT_F64), true);
}

/* x.grad after backward of sum(y) (y itself when it has one element). */
static void assert_grad_of(ct_tensor *x, ct_tensor *y, const double *want) {
    if (!y) fail_msg("forward failed: %s", ct_last_error());
    if (!ct_backward(ct_numel(y) == 1 ? y : ct_sum(y))) fail_msg("backward failed: %s", ct_last_error());
    ct_tensor *g = ct_grad(x);
    if (!g) fail_msg("no gradient");
    tu_assert_values(g, ct_shape_of(x), want, 1e-12, 1e-12);
}

static void test_ties_share_the_gradient(void **state) {
    (void)state;
    const double v[6] = {1, 3, 3, 2, 2, 2};
    ct_tensor *x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_amax(x, .dim = CT_DIMS(1)), (double[]){0, 0.5, 0.5, 1. / 3, 1. / 3, 1. / 3});
    x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_amin(x, .dim = CT_DIMS(-1), .keepdim = true), (double[]){1, 0, 0, 1. / 3, 1. / 3, 1. / 3});
    x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_amax(x), (double[]){0, 0.5, 0.5, 0, 0, 0});
    x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_max(x), (double[]){0, 0.5, 0.5, 0, 0, 0});
    x = leaf_of((double[]){1, 3, 1, 2}, CT_SHAPE(4));
    assert_grad_of(x, ct_min(x), (double[]){0.5, 0, 0.5, 0});
    x = leaf_of((double[]){3, 1, 3, 3}, CT_SHAPE(2, 2));
    assert_grad_of(x, ct_max(x), (double[]){1. / 3, 0, 1. / 3, 1. / 3});
    /* max over everything with NaNs: the NaNs share the gradient */
    x = leaf_of((double[]){1, NAN, 3, NAN}, CT_SHAPE(4));
    assert_grad_of(x, ct_max(x), (double[]){0, 0.5, 0, 0.5});
    /* max_dim/min_dim: all of it to the returned (first) index */
    x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_max_dim(x, 1, false, NULL), (double[]){0, 1, 0, 1, 0, 0});
    x = leaf_of(v, CT_SHAPE(2, 3));
    assert_grad_of(x, ct_min_dim(x, -1, true, NULL), (double[]){1, 0, 0, 1, 0, 0});
    /* infinity norms: sign(x) times the share of each |x| equal to the norm */
    x = leaf_of((double[]){-3, 3, 1, -2}, CT_SHAPE(4));
    assert_grad_of(x, ct_norm(x, .p = INFINITY), (double[]){-0.5, 0.5, 0, 0});
    x = leaf_of((double[]){-1, 3, 1, -2}, CT_SHAPE(4));
    assert_grad_of(x, ct_norm(x, .p = -INFINITY), (double[]){-0.5, 0, 0.5, 0});
}

static void test_max_dim_indices(void **state) {
    (void)state;
    ct_tensor *x = leaf_of((double[]){1, 5, 2, 7, 0, 7}, CT_SHAPE(2, 3));
    ct_tensor *indices = NULL;
    ct_tensor *values = ct_max_dim(x, -1, false, &indices);
    assert_non_null(indices);
    assert_int_equal(ct_dtype_of(indices), CT_I64);
    tu_assert_values(indices, CT_SHAPE(2), (double[]){1, 0}, 0, 0);
    tu_assert_values(values, CT_SHAPE(2), (double[]){5, 7}, 0, 0);
    assert_false(ct_requires_grad(indices));
    assert_true(ct_backward(ct_sum(ct_mul(values, ct_from_data((double[]){2, 3}, CT_SHAPE(2), CT_F64)))));
    tu_assert_values(ct_grad(x), CT_SHAPE(2, 3), (double[]){0, 2, 0, 3, 0, 0}, 0, 0);
    /* errors stay those of the plain op */
    assert_null(ct_max_dim(x, 2, false, &indices));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    ct_tensor *empty = ct_requires_grad_(ct_zeros(CT_SHAPE(2, 0), .dtype = CT_F64), true);
    assert_null(ct_min_dim(empty, 1, false, NULL));
    tu_assert_error(CT_ERR_INDEX, "Expected reduction dim 1 to have non-zero size");
    assert_null(ct_amax(empty));
    tu_assert_error(CT_ERR_ARG, "Expected reduction dim to be specified for input.numel() == 0");
}

static void test_prod_with_zeros(void **state) {
    (void)state;
    ct_tensor *x = leaf_of((double[]){2, 4}, CT_SHAPE(2));
    assert_grad_of(x, ct_prod(x), (double[]){4, 2});
    x = leaf_of((double[]){2, 0, 3}, CT_SHAPE(3));
    assert_grad_of(x, ct_prod(x), (double[]){0, 6, 0});
    x = leaf_of((double[]){0, 0, 3}, CT_SHAPE(3));
    assert_grad_of(x, ct_prod(x), (double[]){0, 0, 0});
    /* per row: no zero, one zero, two zeros */
    x = leaf_of((double[]){2, 3, 5, 2, 0, 5, 0, 3, 0}, CT_SHAPE(3, 3));
    assert_grad_of(x, ct_prod(x, .dim = CT_DIMS(1)), (double[]){15, 10, 6, 0, 10, 0, 0, 0, 0});
    /* over two dims at once */
    x = leaf_of((double[]){2, 3, 0, 5}, CT_SHAPE(2, 2));
    assert_grad_of(x, ct_prod(x, .dim = CT_DIMS(0, 1)), (double[]){0, 0, 30, 0});
}

static void test_cumprod_with_zeros(void **state) {
    (void)state;
    /* y = [2, 0, 0, 0]: dx0 = 1, dx1 = x0 + x0 x2 + x0 x2 x3 = 2 + 6 + 24 */
    ct_tensor *x = leaf_of((double[]){2, 0, 3, 4}, CT_SHAPE(4));
    assert_grad_of(x, ct_cumprod(x, 0), (double[]){1, 32, 0, 0});
    /* the second zero stops the sum: dx1 = 2 + 2*3 */
    x = leaf_of((double[]){2, 0, 3, 0, 5}, CT_SHAPE(5));
    assert_grad_of(x, ct_cumprod(x, 0), (double[]){1, 8, 0, 0, 0});
    /* a zero first: dx0 = 1 + 2 + 2*3 */
    x = leaf_of((double[]){0, 2, 3}, CT_SHAPE(3));
    assert_grad_of(x, ct_cumprod(x, -1), (double[]){9, 0, 0});
    /* no zero: dx_k = sum_{j >= k} y_j / x_k */
    x = leaf_of((double[]){2, 3, 4}, CT_SHAPE(3));
    assert_grad_of(x, ct_cumprod(x, 0), (double[]){1 + 3 + 12, 2 + 8, 6});
    /* along dim 0 of a matrix, columns with and without zeros */
    x = leaf_of((double[]){2, 0, 0, 3}, CT_SHAPE(2, 2));
    assert_grad_of(x, ct_cumprod(x, 0), (double[]){1, 4, 2, 0});
}

static void test_norm_var_std_special_points(void **state) {
    (void)state;
    ct_tensor *x = leaf_of((double[]){0, 0, 0}, CT_SHAPE(3));
    assert_grad_of(x, ct_norm(x), (double[]){0, 0, 0});
    x = leaf_of((double[]){0, 0, 0}, CT_SHAPE(3));
    assert_grad_of(x, ct_norm(x, .p = 3), (double[]){0, 0, 0});
    x = leaf_of((double[]){0, -2, 3}, CT_SHAPE(3));
    assert_grad_of(x, ct_norm(x, .p = 1), (double[]){0, -1, 1});
    x = leaf_of((double[]){0, -2, 3}, CT_SHAPE(3));
    assert_grad_of(x, ct_norm(x, .p = 0), (double[]){0, 0, 0});
    x = leaf_of((double[]){3, 4}, CT_SHAPE(2));
    assert_grad_of(x, ct_norm(x), (double[]){0.6, 0.8});
    /* std of a constant is 0: gradient 0, not NaN */
    x = leaf_of((double[]){2, 2, 2}, CT_SHAPE(3));
    assert_grad_of(x, ct_std(x), (double[]){0, 0, 0});
    /* var = ((1-2)^2 + (3-2)^2) / (2 - 1): d/dx = 2 (x - mean) */
    x = leaf_of((double[]){1, 3}, CT_SHAPE(2));
    assert_grad_of(x, ct_var(x), (double[]){-2, 2});
    /* over everything with N <= correction: NaN where x is the mean, inf elsewhere */
    x = leaf_of((double[]){5}, CT_SHAPE(1));
    assert_true(ct_backward(ct_var(x)));
    assert_true(isnan(ct_item(ct_grad(x))));
    x = leaf_of((double[]){1, 3}, CT_SHAPE(2));
    assert_true(ct_backward(ct_var(x, .correction = 2)));
    tu_assert_values(ct_grad(x), CT_SHAPE(2), (double[]){INFINITY, INFINITY}, 0, 0);
    /* mean: 1/N; logsumexp: the softmax */
    x = leaf_of((double[]){1, 2, 3, 4}, CT_SHAPE(2, 2));
    assert_grad_of(x, ct_mean(x, .dim = CT_DIMS(-1)), (double[]){0.5, 0.5, 0.5, 0.5});
    x = leaf_of((double[]){0, log(3.0)}, CT_SHAPE(2));
    assert_grad_of(x, ct_logsumexp(x), (double[]){0.25, 0.75});
    /* cumsum: reverse cumulative sum of the gradient */
    x = leaf_of((double[]){1, 2, 3}, CT_SHAPE(3));
    assert_true(ct_backward(ct_cumsum(x, 0), .gradient = ct_from_data((double[]){1, 10, 100}, CT_SHAPE(3), CT_F64)));
    tu_assert_values(ct_grad(x), CT_SHAPE(3), (double[]){111, 110, 100}, 0, 0);
}

/* ---- names, dtypes, saved tensors ------------------------------------------------------------- */

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(2, 3), .dtype = CT_F64), true);
    const struct {
        ct_tensor *y;
        const char *name;
    } cases[] = {
        {ct_sum(x), "SumBackward0"},
        {ct_sum(x, .dim = CT_DIMS(0)), "SumBackward1"},
        {ct_mean(x), "MeanBackward0"},
        {ct_mean(x, .dim = CT_DIMS(1)), "MeanBackward1"},
        {ct_prod(x), "ProdBackward0"},
        {ct_prod(x, .dim = CT_DIMS(1)), "ProdBackward1"},
        {ct_amax(x, .dim = CT_DIMS(1)), "AmaxBackward0"},
        {ct_amin(x), "AminBackward0"},
        {ct_var(x), "VarBackward0"},
        {ct_std(x, .dim = CT_DIMS(0)), "StdBackward0"},
        {ct_norm(x), "LinalgVectorNormBackward0"},
        {ct_norm(x, .p = INFINITY, .dim = CT_DIMS(1)), "LinalgVectorNormBackward0"},
        {ct_logsumexp(x, .dim = CT_DIMS(1)), "LogsumexpBackward0"},
        {ct_max(x), "MaxBackward1"},
        {ct_min(x), "MinBackward1"},
        {ct_max_dim(x, 1, false, NULL), "MaxBackward0"},
        {ct_min_dim(x, 0, true, NULL), "MinBackward0"},
        {ct_softmax(x, 1), "SoftmaxBackward0"},
        {ct_log_softmax(x, 0), "LogSoftmaxBackward0"},
        {ct_cumsum(x, 1), "CumsumBackward0"},
        {ct_cumprod(x, 0), "CumprodBackward0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_non_null(cases[i].y);
        assert_true(ct_requires_grad(cases[i].y));
        assert_string_equal(ct_grad_fn_name(cases[i].y), cases[i].name);
    }
    /* non-differentiable reductions record nothing */
    assert_false(ct_requires_grad(ct_argmax(x)));
    assert_false(ct_requires_grad(ct_any(x)));
}

typedef ct_tensor *(*unary_fn)(const ct_tensor *t);
static ct_tensor *f32_sum(const ct_tensor *t) { return ct_sum(t, .dim = CT_DIMS(-1)); }
static ct_tensor *f32_mean(const ct_tensor *t) { return ct_mean(t); }
static ct_tensor *f32_mean_f64(const ct_tensor *t) { return ct_mean(t, .dtype = CT_F64); }
static ct_tensor *f32_prod(const ct_tensor *t) { return ct_prod(t, .dim = CT_DIMS(0)); }
static ct_tensor *f32_amax(const ct_tensor *t) { return ct_amax(t, .dim = CT_DIMS(1)); }
static ct_tensor *f32_amin(const ct_tensor *t) { return ct_amin(t); }
static ct_tensor *f32_var(const ct_tensor *t) { return ct_var(t, .dim = CT_DIMS(1)); }
static ct_tensor *f32_std(const ct_tensor *t) { return ct_std(t); }
static ct_tensor *f32_norm(const ct_tensor *t) { return ct_norm(t, .p = 3); }
static ct_tensor *f32_norm_inf(const ct_tensor *t) { return ct_norm(t, .p = INFINITY); }
static ct_tensor *f32_logsumexp(const ct_tensor *t) { return ct_logsumexp(t, .dim = CT_DIMS(0)); }
static ct_tensor *f32_max_dim(const ct_tensor *t) { return ct_max_dim(t, 1, false, NULL); }
static ct_tensor *f32_min_dim(const ct_tensor *t) { return ct_min_dim(t, 0, true, NULL); }
static ct_tensor *f32_softmax(const ct_tensor *t) { return ct_softmax(t, 1); }
static ct_tensor *f32_log_softmax(const ct_tensor *t) { return ct_log_softmax(t, 0); }
static ct_tensor *f32_cumsum(const ct_tensor *t) { return ct_cumsum(t, 1); }
static ct_tensor *f32_cumprod(const ct_tensor *t) { return ct_cumprod(t, 1); }

static void test_f32_inputs_get_f32_gradients(void **state) {
    (void)state;
    const unary_fn ops[] = {f32_sum,     f32_mean,     f32_mean_f64,  f32_prod,       ct_max,      ct_min,
                            f32_amax,    f32_amin,     f32_var,       f32_std,        f32_norm,    f32_norm_inf,
                            f32_logsumexp, f32_max_dim, f32_min_dim,  f32_softmax,    f32_log_softmax, f32_cumsum,
                            f32_cumprod};
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(tu_random(&seed, CT_SHAPE(3, 4), CT_F32, TU_TRANSPOSED, 0.5, 2), true);
        ct_tensor *y = ops[i](x);
        assert_non_null(y);
        assert_true(ct_backward(ct_sum(y)));
        ct_tensor *g = ct_grad(x);
        assert_non_null(g);
        assert_int_equal(ct_dtype_of(g), CT_F32);
        /* the f64 gradient of the same values agrees to f32 precision */
        ct_tensor *x64 = ct_requires_grad_(ct_to_dtype(ct_detach(x), CT_F64), true);
        assert_true(ct_backward(ct_sum(ops[i](x64))));
        tu_assert_values(g, CT_SHAPE(3, 4), tu_values(ct_grad(x64)), 1e-4, 1e-5);
    }
    /* mean with an f64 output: gradient 1/N in the input's f32 */
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(2, 2)), true);
    ct_tensor *m = ct_mean(x, .dtype = CT_F64);
    assert_int_equal(ct_dtype_of(m), CT_F64);
    assert_true(ct_backward(m));
    assert_int_equal(ct_dtype_of(ct_grad(x)), CT_F32);
    tu_assert_values(ct_grad(x), CT_SHAPE(2, 2), (double[]){0.25, 0.25, 0.25, 0.25}, 0, 0);
}

static void test_saved_output_modified_in_place(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(2, 3), .dtype = CT_F64), true);
    ct_tensor *y = ct_softmax(x, 1);
    CT_NO_GRAD { assert_non_null(ct_mul_scalar_(y, 2)); }
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
    /* an input saved by prod */
    ct_tensor *base = ct_requires_grad_(ct_ones(CT_SHAPE(3), .dtype = CT_F64), true);
    ct_tensor *h = ct_mul(base, ct_scalar(2));
    ct_tensor *p = ct_prod(h);
    CT_NO_GRAD { assert_non_null(ct_add_scalar_(h, 1)); }
    assert_false(ct_backward(p));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
}

static void test_no_graph_without_grad(void **state) {
    (void)state;
    ct_tensor *x = ct_ones(CT_SHAPE(2, 3), .dtype = CT_F64);
    assert_null(ct_grad_fn_name(ct_cumprod(x, 1)));
    ct_tensor *leaf = ct_requires_grad_(ct_ones(CT_SHAPE(2, 3), .dtype = CT_F64), true);
    CT_NO_GRAD {
        ct_tensor *indices = NULL;
        ct_tensor *v = ct_max_dim(leaf, 1, false, &indices);
        assert_false(ct_requires_grad(v));
        assert_non_null(indices);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_sum_mean_prod),
        cmocka_unit_test(test_gradcheck_prod_cumprod_with_zeros),
        cmocka_unit_test(test_gradcheck_extremes),
        cmocka_unit_test(test_gradcheck_var_std),
        cmocka_unit_test(test_gradcheck_norm_logsumexp),
        cmocka_unit_test(test_gradcheck_softmax_cumulative),
        cmocka_unit_test(test_ties_share_the_gradient),
        cmocka_unit_test(test_max_dim_indices),
        cmocka_unit_test(test_prod_with_zeros),
        cmocka_unit_test(test_cumprod_with_zeros),
        cmocka_unit_test(test_norm_var_std_special_points),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_f32_inputs_get_f32_gradients),
        cmocka_unit_test(test_saved_output_modified_in_place),
        cmocka_unit_test(test_no_graph_without_grad),
    };
    return TU_RUN("grad_reduce", tests);
}
