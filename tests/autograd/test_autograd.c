/* The autograd engine: requires_grad and leaves, backward and accumulation, gradients summed over
 * reuse, retain_graph, explicit gradients, autograd_grad, grad modes, detach/clone, tensor hooks,
 * retain_grad, version counters, anomaly mode, gradcheck itself, and memory. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

static ct_tensor *leaf(ct_shape shape, double start) {
    int64_t n = tu_numel(shape);
    ct_tensor *t = ct_reshape(ct_arange(start, start + (double)n, 1, .dtype = CT_F32), shape);
    return ct_requires_grad_(t, true);
}

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    tu_assert_values(g, ct_shape_of(t), want, 1e-6, 1e-6);
}

/* ---- the seed behaviours ---- */

static void test_mul_sum_backward(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), 0);
    ct_tensor *y = ct_mul(x, ct_scalar(2));
    assert_true(ct_requires_grad(y));
    assert_false(ct_is_leaf(y));
    assert_string_equal(ct_grad_fn_name(y), "MulBackward0");
    ct_tensor *loss = ct_sum(y);
    assert_string_equal(ct_grad_fn_name(loss), "SumBackward0");
    assert_true(ct_backward(loss));
    assert_grad(x, (double[]){2, 2, 2, 2, 2, 2});
    assert_null(ct_grad(y)); /* non-leaves keep no grad unless asked */
    assert_true(ct_ok());
}

static void test_no_grad_block(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1);
    ct_tensor *y = NULL;
    CT_NO_GRAD {
        assert_false(ct_is_grad_enabled());
        y = ct_mul(x, ct_scalar(2));
    }
    assert_true(ct_is_grad_enabled());
    assert_false(ct_requires_grad(y));
    assert_null(ct_grad_fn_name(y));
    assert_true(ct_is_leaf(y));
}

static void test_gradients_sum_over_reuse(void **state) {
    (void)state;
    /* loss = sum(x*x + x): d/dx = 2x + 1, with x used three times */
    ct_tensor *x = leaf(CT_SHAPE(4), -1);
    assert_true(ct_backward(ct_sum(ct_add(ct_mul(x, x), x))));
    assert_grad(x, (double[]){-1, 1, 3, 5});
}

static void test_leaves_accumulate_until_cleared(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 0);
    for (int i = 0; i < 3; i++) assert_true(ct_backward(ct_sum(ct_mul(x, ct_scalar(3)))));
    assert_grad(x, (double[]){9, 9});
    assert_true(ct_set_grad(x, NULL));
    assert_null(ct_grad(x));
    assert_true(ct_backward(ct_sum(x)));
    assert_grad(x, (double[]){1, 1});
}

static ct_tensor *mul_add_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_add(ct_mul(in[0], in[1]), in[0]);
}

static void test_gradcheck_broadcast(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"mul_add same shape", mul_add_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"mul_add broadcast", mul_add_fn, NULL, 2, {CT_SHAPE(3, 1), CT_SHAPE(2, 1, 4)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mul_sum_backward),
        cmocka_unit_test(test_no_grad_block),
        cmocka_unit_test(test_gradients_sum_over_reuse),
        cmocka_unit_test(test_leaves_accumulate_until_cleared),
        cmocka_unit_test(test_gradcheck_broadcast),
    };
    return TU_RUN("autograd", tests);
}
