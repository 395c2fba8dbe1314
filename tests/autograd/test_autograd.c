/* The autograd engine: requires_grad and leaves, backward and accumulation, gradients summed over
 * reuse, retain_graph, explicit gradients, autograd_grad, grad modes, detach/clone, tensor hooks,
 * retain_grad, version counters, anomaly mode, gradcheck itself, and memory. */
#include "../common/testutil.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

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

/* ---- grad modes ---- */

static void test_grad_mode_nesting(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 1);
    CT_NO_GRAD {
        CT_ENABLE_GRAD {
            assert_true(ct_is_grad_enabled());
            assert_true(ct_requires_grad(ct_mul(x, x)));
        }
        assert_false(ct_is_grad_enabled());
        CT_SET_GRAD_ENABLED(true) assert_true(ct_requires_grad(ct_add(x, x)));
        assert_false(ct_requires_grad(ct_add(x, x)));
    }
    assert_true(ct_set_grad_enabled(false));
    assert_false(ct_requires_grad(ct_mul(x, x)));
    assert_false(ct_set_grad_enabled(true));
    /* the block restores the mode however it is left */
    for (int i = 0; i < 3; i++) CT_NO_GRAD {
        if (i == 1) break;
    }
    assert_true(ct_is_grad_enabled());
}

static void *grad_mode_in_thread(void *arg) {
    *(bool *)arg = ct_is_grad_enabled();
    return NULL;
}

static void test_grad_mode_is_thread_local(void **state) {
    (void)state;
    bool other = false;
    CT_NO_GRAD {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, grad_mode_in_thread, &other), 0);
        pthread_join(th, NULL);
        assert_false(ct_is_grad_enabled());
    }
    assert_true(other);
}

static void test_inference_mode(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1);
    ct_tensor *t = NULL;
    CT_INFERENCE_MODE {
        assert_true(ct_is_inference_mode_enabled());
        assert_false(ct_is_grad_enabled());
        t = ct_mul(x, ct_scalar(2));
    }
    assert_false(ct_is_inference_mode_enabled());
    assert_true(ct_is_grad_enabled());
    assert_true(ct_is_inference(t));
    assert_false(ct_is_inference(x));
    assert_false(ct_requires_grad(t));
    /* using it where backward would need it is PyTorch's error */
    assert_null(ct_mul(t, x));
    tu_assert_error(CT_ERR_STATE, "Inference tensors cannot be saved for backward");
    assert_null(ct_requires_grad_(t, true));
    tu_assert_error(CT_ERR_STATE, "Setting requires_grad=True on inference tensor outside InferenceMode");
    assert_null(ct_mul_scalar_(t, 2));
    tu_assert_error(CT_ERR_STATE, "Inplace update to inference tensor outside InferenceMode");
    /* ops that need not save it are fine */
    assert_non_null(ct_add(t, x));
    assert_true(ct_ok());
}

/* ---- backward options ---- */

static void test_retain_graph(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1);
    ct_tensor *loss = ct_sum(ct_mul(x, x));
    assert_true(ct_backward(loss, .retain_graph = true));
    assert_true(ct_backward(loss));
    assert_grad(x, (double[]){4, 8, 12});
    assert_false(ct_backward(loss));
    tu_assert_error(CT_ERR_STATE, "Trying to backward through the graph a second time");
    /* a graph that saved nothing can run again, as in PyTorch */
    ct_tensor *x2 = leaf(CT_SHAPE(2), 0);
    ct_tensor *l2 = ct_sum(ct_add(x2, ct_scalar(1)));
    assert_true(ct_backward(l2));
    assert_true(ct_backward(l2));
    assert_grad(x2, (double[]){2, 2});
}

static void test_non_scalar_backward(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 2), 0);
    ct_tensor *y = ct_mul(x, ct_scalar(3));
    assert_false(ct_backward(y));
    tu_assert_error(CT_ERR_SHAPE, "grad can be implicitly created only for scalar outputs");
    ct_tensor *g = ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(2, 2), CT_F32);
    assert_true(ct_backward(y, .gradient = g));
    assert_grad(x, (double[]){3, 6, 9, 12});
    assert_false(ct_backward(y, .gradient = ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "Mismatch in shape: grad_output[0] has a shape of [4] and output[0] has a shape of [2, 2]");
    assert_false(ct_backward(ct_ones(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_STATE, "element 0 of tensors does not require grad and does not have a grad_fn");
    assert_false(ct_backward(NULL));
    tu_assert_error(CT_ERR_NULL, "backward");
    /* an earlier error is never lost under a backward that cannot be trusted */
    ct_error(CT_ERR_ARG, "an earlier failure");
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_ARG, "an earlier failure");
    /* backward on a leaf itself accumulates the given gradient */
    ct_tensor *w = leaf(CT_SHAPE(2), 0);
    assert_true(ct_backward(w, .gradient = ct_from_data((float[]){5, 6}, CT_SHAPE(2), CT_F32)));
    assert_grad(w, (double[]){5, 6});
}

static void test_autograd_grad(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1), *y = leaf(CT_SHAPE(3), 4);
    ct_tensor *h = ct_mul(x, y);
    ct_tensor *z = ct_sum(ct_mul(h, h)); /* z = sum (xy)^2: dz/dx = 2xy^2, dz/dh = 2h */
    ct_tensor_list g = ct_autograd_grad(CT_TENSORS(z), CT_TENSORS(x, h), CT_NO_TENSORS, .retain_graph = true);
    assert_int_equal(g.n, 2);
    tu_assert_values(g.items[0], CT_SHAPE(3), (double[]){2 * 1 * 16, 2 * 2 * 25, 2 * 3 * 36}, 1e-6, 1e-6);
    tu_assert_values(g.items[1], CT_SHAPE(3), (double[]){8, 20, 36}, 1e-6, 1e-6);
    assert_null(ct_grad(x)); /* .grad untouched */
    assert_null(ct_grad(y));
    assert_true(ct_ok());
    /* weighted by grad_outputs */
    ct_tensor *w = ct_from_data((float[]){1, 0, 2}, CT_SHAPE(3), CT_F32);
    g = ct_autograd_grad(CT_TENSORS(h), CT_TENSORS(y), CT_TENSORS(w), .retain_graph = true);
    tu_assert_values(g.items[0], CT_SHAPE(3), (double[]){1, 0, 6}, 1e-6, 1e-6);
    /* an input the output does not depend on */
    ct_tensor *u = leaf(CT_SHAPE(2), 0);
    g = ct_autograd_grad(CT_TENSORS(z), CT_TENSORS(u), CT_NO_TENSORS, .retain_graph = true);
    assert_int_equal(g.n, 0);
    tu_assert_error(CT_ERR_STATE, "appears to not have been used in the graph");
    g = ct_autograd_grad(CT_TENSORS(z), CT_TENSORS(u, x), CT_NO_TENSORS, .allow_unused = true);
    assert_int_equal(g.n, 2);
    assert_null(g.items[0]);
    assert_non_null(g.items[1]);
    assert_true(ct_ok());
    g = ct_autograd_grad(CT_TENSORS(z), CT_TENSORS(ct_ones(CT_SHAPE(1))), CT_NO_TENSORS);
    tu_assert_error(CT_ERR_STATE, "does not require grad");
    /* d(leaf)/d(leaf) of a leaf no graph refers to yet: the incoming gradient */
    ct_tensor *fresh = leaf(CT_SHAPE(1), 5);
    g = ct_autograd_grad(CT_TENSORS(fresh), CT_TENSORS(fresh), CT_NO_TENSORS);
    tu_assert_values(g.items[0], CT_SHAPE(1), (double[]){1}, 0, 0);
}

/* ---- hooks ---- */

static ct_tensor *times_ten(ct_tensor *grad, void *user) {
    ++*(int *)user;
    return ct_mul_scalar(grad, 10);
}

static ct_tensor *observe(ct_tensor *grad, void *user) {
    *(double *)user = ct_item(ct_sum(grad));
    return NULL;
}

static ct_tensor *wrong_shape(ct_tensor *grad, void *user) {
    (void)grad, (void)user;
    return ct_zeros(CT_SHAPE(7));
}

static ct_tensor *failing(ct_tensor *grad, void *user) {
    (void)grad, (void)user;
    return ct_error(CT_ERR_ARG, "hook refused the gradient");
}

static void count_post(ct_tensor *leaf_t, void *user) {
    ct_tensor *g = ct_grad(leaf_t);
    assert_non_null(g); /* already accumulated */
    *(double *)user += ct_item(ct_sum(g));
}

static void test_tensor_hooks(void **state) {
    (void)state;
    /* on a leaf: replaces what is accumulated */
    ct_tensor *x = leaf(CT_SHAPE(2), 1);
    int calls = 0;
    ct_hook_handle *h = ct_register_hook(x, times_ten, &calls);
    assert_non_null(h);
    assert_true(ct_backward(ct_sum(ct_mul(x, ct_scalar(2)))));
    assert_int_equal(calls, 1);
    assert_grad(x, (double[]){20, 20});
    ct_hook_remove(h);
    assert_true(ct_set_grad(x, NULL));
    assert_true(ct_backward(ct_sum(ct_mul(x, ct_scalar(2)))));
    assert_int_equal(calls, 1);
    assert_grad(x, (double[]){2, 2});
    /* on a non-leaf: the replacement flows on to the leaf; hooks run in registration order */
    ct_tensor *w = leaf(CT_SHAPE(2), 1);
    ct_tensor *y = ct_mul(w, ct_scalar(3));
    double seen = 0;
    ct_register_hook(y, times_ten, &calls);
    ct_register_hook(y, observe, &seen);
    assert_true(ct_backward(ct_sum(y)));
    assert_true(seen == 20); /* observe ran after times_ten */
    assert_grad(w, (double[]){30, 30});
    /* errors */
    assert_null(ct_register_hook(ct_ones(CT_SHAPE(1)), observe, NULL));
    tu_assert_error(CT_ERR_STATE, "cannot register a hook on a tensor that doesn't require gradient");
    ct_tensor *v = leaf(CT_SHAPE(2), 0);
    ct_register_hook(v, wrong_shape, NULL);
    assert_false(ct_backward(ct_sum(v)));
    tu_assert_error(CT_ERR_SHAPE, "hook 0 returned a gradient of shape [7] for a gradient of shape [2]");
    ct_tensor *v2 = leaf(CT_SHAPE(2), 0);
    ct_register_hook(v2, failing, NULL);
    assert_false(ct_backward(ct_sum(v2)));
    tu_assert_error(CT_ERR_ARG, "hook refused the gradient");
}

static void test_post_accumulate_hooks(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 0);
    double total = 0;
    ct_hook_handle *h = ct_register_post_accumulate_grad_hook(x, count_post, &total);
    /* x used twice: the hook fires once, after the summed gradient is in .grad */
    assert_true(ct_backward(ct_sum(ct_add(x, ct_mul(x, ct_scalar(2))))));
    assert_true(total == 9);
    assert_true(ct_backward(ct_sum(x)));
    assert_true(total == 9 + 12);
    ct_hook_remove(h);
    ct_hook_remove(h); /* removing twice is harmless */
    assert_true(ct_backward(ct_sum(x)));
    assert_true(total == 21);
    assert_null(ct_register_post_accumulate_grad_hook(ct_mul(x, x), count_post, &total));
    tu_assert_error(CT_ERR_STATE, "post accumulate grad hooks cannot be registered on non-leaf tensors");
}

static void test_retain_grad(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 1);
    ct_tensor *y = ct_mul(x, x);
    assert_false(ct_retains_grad(y));
    assert_ptr_equal(ct_retain_grad(y), y);
    assert_true(ct_retains_grad(y));
    ct_tensor *loss = ct_sum(ct_mul(y, ct_scalar(3)));
    assert_true(ct_backward(loss, .retain_graph = true));
    assert_grad(y, (double[]){3, 3});
    assert_grad(x, (double[]){6, 12});
    assert_true(ct_backward(loss));
    assert_grad(y, (double[]){6, 6}); /* accumulates like a leaf */
    assert_ptr_equal(ct_retain_grad(x), x); /* leaves: nothing to do */
    assert_false(ct_retains_grad(x));
    assert_null(ct_retain_grad(ct_ones(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_STATE, "can't retain_grad on Tensor that has requires_grad=False");
}

/* ---- variables ---- */

static void test_requires_grad_rules(void **state) {
    (void)state;
    ct_tensor *i = ct_arange(0, 3, 1);
    assert_null(ct_requires_grad_(i, true));
    tu_assert_error(CT_ERR_DTYPE, "only Tensors of floating point dtype can require gradients");
    ct_tensor *x = leaf(CT_SHAPE(2), 0);
    assert_true(ct_is_leaf(x));
    ct_tensor *y = ct_mul(x, x);
    assert_null(ct_requires_grad_(y, false));
    tu_assert_error(CT_ERR_STATE, "you can only change requires_grad flags of leaf variables");
    assert_ptr_equal(ct_requires_grad_(x, false), x);
    assert_false(ct_requires_grad(x));
    assert_false(ct_requires_grad(ct_mul(x, x)));
    /* integer results of float inputs are not differentiable */
    ct_requires_grad_(x, true);
    assert_false(ct_requires_grad(ct_gt(x, ct_scalar(0))));
    assert_true(ct_ok());
}

static void test_detach(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1);
    ct_tensor *y = ct_mul(x, ct_scalar(2));
    ct_tensor *d = ct_detach(y);
    assert_false(ct_requires_grad(d));
    assert_true(ct_is_leaf(d));
    assert_true(ct_shares_storage(d, y));
    assert_true(ct_requires_grad(y)); /* the original keeps its graph */
    ct_tensor *z = ct_alias(y);
    assert_ptr_equal(ct_detach_(z), z);
    assert_false(ct_requires_grad(z));
    assert_null(ct_grad_fn_name(z));
}

static void test_set_grad_checks(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 0);
    assert_false(ct_set_grad(x, ct_zeros(CT_SHAPE(3))));
    tu_assert_error(CT_ERR_SHAPE, "assigned grad has data of a different size");
    assert_false(ct_set_grad(x, ct_zeros(CT_SHAPE(2), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "assigned grad has data of a different type");
    assert_true(ct_set_grad(x, ct_ones(CT_SHAPE(2))));
    assert_grad(x, (double[]){1, 1});
}

/* ---- version counters and in-place rules ---- */

static void test_saved_tensor_modified_in_place(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 1);
    ct_tensor *a = ct_mul(x, ct_scalar(1));
    ct_tensor *loss = ct_sum(ct_mul(a, a)); /* saves a */
    ct_fill_(ct_detach(a), 5);              /* a write through a view shares the version counter */
    assert_false(ct_backward(loss));
    tu_assert_error(CT_ERR_STATE, "one of the variables needed for gradient computation has been modified by an inplace "
                                  "operation: [torch.FloatTensor [3]], which is output 0 of MulBackward0, is at version 1; "
                                  "expected version 0 instead");
}

static void test_leaf_in_place(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 1);
    assert_null(ct_mul_scalar_(x, 2));
    tu_assert_error(CT_ERR_STATE, "a leaf Variable that requires grad is being used in an in-place operation.");
    CT_NO_GRAD assert_ptr_equal(ct_mul_scalar_(x, 2), x); /* what optimizers do */
    tu_assert_values(x, CT_SHAPE(2), (double[]){2, 4}, 0, 0);
    assert_true(ct_is_leaf(x));
}

/* ---- in-place writes into views (CopySlices) ---- */

static void test_inplace_on_view_of_non_leaf(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(4), 1);
    ct_tensor *b = ct_mul(x, ct_scalar(1));
    ct_tensor *v = ct_narrow(b, 0, 1, 2);
    assert_ptr_equal(ct_mul_scalar_(v, 3), v);
    assert_string_equal(ct_grad_fn_name(b), "CopySlices");
    assert_string_equal(ct_grad_fn_name(v), "AsStridedBackward0");
    tu_assert_values(b, CT_SHAPE(4), (double[]){1, 6, 9, 4}, 0, 0);
    ct_tensor *c = ct_from_data((float[]){1, 10, 100, 1000}, CT_SHAPE(4), CT_F32);
    assert_true(ct_backward(ct_sum(ct_mul(b, c)), .retain_graph = true));
    assert_grad(x, (double[]){1, 30, 300, 1000});
    /* through the view itself: only its elements, times 3 */
    assert_true(ct_set_grad(x, NULL));
    assert_true(ct_backward(ct_sum(v)));
    assert_grad(x, (double[]){0, 3, 3, 0});
}

static void test_fill_into_view_zeroes_the_gradient(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), 0);
    ct_tensor *b = ct_add(x, ct_scalar(0));
    assert_non_null(ct_fill_(ct_select(b, 1, 2), 7)); /* column 2 no longer depends on x */
    assert_true(ct_backward(ct_sum(b)));
    assert_grad(x, (double[]){1, 1, 0, 1, 1, 0});
}

static void test_view_of_leaf_in_place(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(4), 1);
    assert_null(ct_mul_scalar_(ct_narrow(x, 0, 0, 2), 2));
    tu_assert_error(CT_ERR_STATE, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
    CT_NO_GRAD assert_non_null(ct_mul_scalar_(ct_narrow(x, 0, 0, 2), 2)); /* optimizers may */
}

/* b = x copy; b[:, 1:3] *= y (broadcast); b[:, 3] += sum(sin y); exp_ of b's first row; b * b */
static ct_tensor *writes_into_views_fn(ct_tensor *const *in, void *user) {
    (void)user;
    ct_tensor *b = ct_clone(in[0]);
    ct_mul_(ct_narrow(b, 1, 1, 2), in[1]);
    ct_tensor *col = ct_select(ct_t(b), 0, 3); /* a view of a view */
    ct_add_(col, ct_sum(ct_sin(in[1])));
    ct_exp_(ct_select(b, 0, 0)); /* last: it saves its result, which a later write would change */
    return ct_mul(b, b);
}

static void test_gradcheck_writes_into_views(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"writes into views", writes_into_views_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(2)}, -1, 1},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- anomaly mode ---- */

static void test_anomaly_mode(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 1);
    ct_tensor *c = ct_from_data((float[]){1, INFINITY}, CT_SHAPE(2), CT_F32);
    /* off: backward goes through and the Inf lands in .grad */
    assert_true(ct_backward(ct_sum(ct_mul(x, c))));
    assert_true(isinf(ct_get(ct_grad(x), CT_SHAPE(1))));
    assert_true(ct_set_grad(x, NULL));
    ct_set_detect_anomaly(true);
    assert_true(ct_is_anomaly_enabled());
    ct_tensor *loss = ct_sum(ct_mul(x, c));
    assert_false(ct_backward(loss));
    assert_non_null(strstr(ct_last_error(), "Function 'MulBackward0' returned inf values in its 0th output."));
    assert_non_null(strstr(ct_last_error(), "The forward op was 'mul', called from:"));
    assert_non_null(strstr(ct_last_error(), "(ct_mul+")); /* the frame of the forward call */
    ct_clear_error();
    /* NaN: 0 * inf in the gradient */
    ct_tensor *z = leaf(CT_SHAPE(2), 0);
    assert_false(ct_backward(ct_sum(ct_mul(ct_mul(z, c), ct_scalar(0)))));
    assert_non_null(strstr(ct_last_error(), "returned nan values in its 0th output"));
    ct_clear_error();
    ct_set_detect_anomaly(false);
    assert_null(ct_grad(x));
    assert_true(ct_ok());
}

/* ---- gradcheck itself ---- */

static ct_tensor *double_the_gradient(ct_tensor *grad, void *user) {
    (void)user;
    return ct_mul_scalar(grad, 2);
}

/* x*x with a hook that corrupts the gradient: gradcheck must notice. */
static ct_tensor *wrong_derivative_fn(ct_tensor *const *in, void *user) {
    (void)user;
    ct_tensor *y = ct_mul(in[0], in[0]);
    if (ct_requires_grad(y)) ct_register_hook(y, double_the_gradient, NULL);
    return y;
}

static void test_gradcheck_catches_wrong_gradients(void **state) {
    (void)state;
    uint64_t s = 7;
    ct_tensor *x = ct_requires_grad_(tu_random(&s, CT_SHAPE(3), CT_F64, TU_CONTIGUOUS, -1, 1), true);
    assert_false(ct_gradcheck(wrong_derivative_fn, NULL, CT_TENSORS(x)));
    tu_assert_error(CT_ERR_ARG, "Jacobian mismatch for output 0 with respect to input 0");
    ct_tensor *f = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    assert_false(ct_gradcheck(mul_add_fn, NULL, CT_TENSORS(f, f)));
    tu_assert_error(CT_ERR_DTYPE, "gradcheck needs float64 CPU inputs");
    ct_tensor *e = ct_requires_grad_(ct_expand(ct_ones(CT_SHAPE(1), .dtype = CT_F64), CT_SHAPE(3)), true);
    assert_false(ct_gradcheck(mul_add_fn, NULL, CT_TENSORS(e, e)));
    tu_assert_error(CT_ERR_ARG, "overlapping memory");
}

/* ---- memory ---- */

static void test_graph_freed_with_scope(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(64), 0);
    int64_t refs = ct_refcount(x);
    CT_SCOPE {
        ct_tensor *loss = ct_sum(ct_mul(ct_add(x, ct_scalar(1)), x));
        assert_true(ct_refcount(x) > refs); /* the graph's accumulator holds x */
        assert_true(ct_backward(loss, .retain_graph = true));
    }
    assert_int_equal(ct_refcount(x), refs);
    /* a 10k-step training-style loop keeps memory flat */
    int64_t before = 0;
    for (int step = 0; step < 10000; step++) {
        CT_SCOPE {
            ct_tensor *loss = ct_sum(ct_mul(ct_add(x, ct_scalar(1)), x));
            assert_true(ct_backward(loss));
            CT_NO_GRAD ct_sub_(x, ct_mul_scalar(ct_grad(x), 1e-6));
            ct_set_grad(x, NULL);
        }
        if (step == 1000) before = tu_rss_bytes();
    }
    int64_t growth = tu_rss_bytes() - before, slack = 2 << 20;
#ifdef __SANITIZE_ADDRESS__
    slack += 64 << 20; /* ASan's quarantine holds freed blocks on purpose */
#endif
    if (RUNNING_ON_VALGRIND) slack += 32 << 20; /* so does valgrind's (--freelist-vol, 20 MB) */
    if (growth > slack) fail_msg("RSS grew by %lld bytes over 9000 steps", (long long)growth);
    assert_int_equal(ct_refcount(x), refs);
}

static void test_deep_graph(void **state) {
    (void)state;
    /* 200k nodes: backward and freeing must not recurse per node */
    ct_tensor *x = leaf(CT_SHAPE(1), 1);
    CT_SCOPE {
        ct_tensor *y = x;
        for (int i = 0; i < 200000; i++) y = ct_mul(y, ct_scalar(1));
        assert_true(ct_backward(y));
    }
    assert_grad(x, (double[]){1});
}

static void *train_in_thread(void *arg) {
    ct_tensor *x = arg;
    for (int i = 0; i < 200; i++) CT_SCOPE ct_backward(ct_sum(ct_mul(x, x)));
    return NULL;
}

static void test_concurrent_backward_on_separate_graphs(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(4), 0), *b = leaf(CT_SHAPE(4), 10);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, train_in_thread, a);
    pthread_create(&tb, NULL, train_in_thread, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_grad(a, (double[]){0, 400, 800, 1200});
    assert_grad(b, (double[]){4000, 4400, 4800, 5200});
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mul_sum_backward),
        cmocka_unit_test(test_no_grad_block),
        cmocka_unit_test(test_gradients_sum_over_reuse),
        cmocka_unit_test(test_leaves_accumulate_until_cleared),
        cmocka_unit_test(test_gradcheck_broadcast),
        cmocka_unit_test(test_grad_mode_nesting),
        cmocka_unit_test(test_grad_mode_is_thread_local),
        cmocka_unit_test(test_inference_mode),
        cmocka_unit_test(test_retain_graph),
        cmocka_unit_test(test_non_scalar_backward),
        cmocka_unit_test(test_autograd_grad),
        cmocka_unit_test(test_tensor_hooks),
        cmocka_unit_test(test_post_accumulate_hooks),
        cmocka_unit_test(test_retain_grad),
        cmocka_unit_test(test_requires_grad_rules),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_set_grad_checks),
        cmocka_unit_test(test_saved_tensor_modified_in_place),
        cmocka_unit_test(test_leaf_in_place),
        cmocka_unit_test(test_inplace_on_view_of_non_leaf),
        cmocka_unit_test(test_fill_into_view_zeroes_the_gradient),
        cmocka_unit_test(test_view_of_leaf_in_place),
        cmocka_unit_test(test_gradcheck_writes_into_views),
        cmocka_unit_test(test_anomaly_mode),
        cmocka_unit_test(test_gradcheck_catches_wrong_gradients),
        cmocka_unit_test(test_graph_freed_with_scope),
        cmocka_unit_test(test_deep_graph),
        cmocka_unit_test(test_concurrent_backward_on_separate_graphs),
    };
    return TU_RUN("autograd", tests);
}
