/* Checkpoints: module state dicts and optimizer state in HDF5, PyTorch's names in the file, strict
 * and non-strict loading, and exact resume (2N steps equal N steps, save, load into fresh objects,
 * N steps — bit for bit on the CPU). */
#include "../common/testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path_model[64], path_optim[64];

static ct_module *make_net(void) {
    return ct_sequential(ct_linear(6, 8), ct_relu_module(), ct_batch_norm1d(8), ct_linear(8, 3));
}

/* N steps of Adam on fixed data; the data comes from its own seed so it is the same every call. */
static void train(ct_module *net, ct_optimizer *opt, int steps) {
    ct_rng_state rng = ct_get_rng_state();
    ct_manual_seed(1234);
    ct_tensor *x = ct_randn(CT_SHAPE(16, 6));
    ct_tensor *y = ct_randint(0, 3, CT_SHAPE(16));
    ct_set_rng_state(rng);
    for (int i = 0; i < steps; i++) CT_SCOPE {
        ct_tensor *loss = ct_cross_entropy(ct_forward(net, x), y);
        ct_zero_grad(opt);
        assert_true(ct_backward(loss));
        assert_true(ct_step(opt));
    }
}

static void assert_same_state(ct_module *a, ct_module *b) {
    ct_named_tensors sa = ct_state_dict(a), sb = ct_state_dict(b);
    assert_int_equal(sa.n, sb.n);
    for (int i = 0; i < sa.n; i++) {
        assert_string_equal(sa.items[i].name, sb.items[i].name);
        if (!ct_equal(sa.items[i].tensor, sb.items[i].tensor)) fail_msg("%s differs", sa.items[i].name);
    }
}

static void test_exact_resume(void **state) {
    (void)state;
    ct_manual_seed(7);
    ct_module *straight = make_net();
    ct_manual_seed(7);
    ct_module *resumed = make_net();
    ct_optimizer *o1 = ct_adam(ct_parameters(straight), .lr = 1e-2);
    ct_optimizer *o2 = ct_adam(ct_parameters(resumed), .lr = 1e-2);
    train(straight, o1, 10);
    train(resumed, o2, 5);
    assert_true(ct_save_state(resumed, path_model));
    assert_true(ct_optimizer_save(o2, path_optim));
    /* fresh objects with other initial values, then load */
    ct_manual_seed(99);
    ct_module *fresh = make_net();
    ct_optimizer *o3 = ct_adam(ct_parameters(fresh), .lr = 1e-2);
    assert_true(ct_load_state(fresh, path_model));
    assert_true(ct_optimizer_load(o3, path_optim));
    train(fresh, o3, 5);
    assert_same_state(straight, fresh);
}

static void test_names_in_file(void **state) {
    (void)state;
    ct_module *net = make_net();
    assert_true(ct_save_state(net, path_model));
    ct_named_tensors file = ct_load_tensors(path_model);
    const char *want[] = {"0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked",
                          "3.weight", "3.bias"};
    assert_int_equal(file.n, 9);
    for (int i = 0; i < 9; i++) assert_string_equal(file.items[i].name, want[i]);
}

static void test_strict_and_mismatched_loads(void **state) {
    (void)state;
    ct_module *net = make_net();
    assert_true(ct_save_state(ct_sequential(ct_linear(6, 8)), path_model));
    assert_false(ct_load_state(net, path_model));
    tu_assert_error(CT_ERR_ARG, "Missing key(s) in state_dict: \"2.weight\"");
    assert_true(ct_load_state(net, path_model, .strict = false));
    assert_true(ct_save_state(ct_sequential(ct_linear(6, 5)), path_model));
    assert_false(ct_load_state(net, path_model, .strict = false));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch for 0.weight: copying a param with shape [5, 6] from checkpoint, the shape in current model is [8, 6].");
    assert_false(ct_load_state(net, "/nonexistent/dir/x.h5"));
    assert_true(strstr(ct_last_error(), "/nonexistent/dir/x.h5") != NULL);
    ct_clear_error();
}

int main(void) {
    snprintf(path_model, sizeof path_model, "/tmp/ctorch_ckpt_model_%d.h5", (int)getpid());
    snprintf(path_optim, sizeof path_optim, "/tmp/ctorch_ckpt_optim_%d.h5", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_resume),
        cmocka_unit_test(test_names_in_file),
        cmocka_unit_test(test_strict_and_mismatched_loads),
    };
    int rc = TU_RUN("checkpoint", tests);
    unlink(path_model);
    unlink(path_optim);
    return rc;
}
