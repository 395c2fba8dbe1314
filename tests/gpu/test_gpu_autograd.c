/* Autograd across devices: gradients flow back through host<->device copies and land in .grad on
 * the leaf's own device; ops without CUDA kernels fail the same way when a graph is being
 * recorded. (Derivatives of CUDA kernels are checked against the CPU as the kernels arrive.) */
#include "../common/testutil.h"

static void gradient_crosses_devices(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_arange(0, 6, 1, .dtype = CT_F32), true);
    ct_tensor *on_gpu = ct_to(x, CT_CUDA(0));
    assert_true(ct_requires_grad(on_gpu));
    ct_tensor *back = ct_to(on_gpu, CT_CPU);
    ct_tensor *c = ct_from_data((float[]){1, 2, 3, 4, 5, 6}, CT_SHAPE(6), CT_F32);
    assert_true(ct_backward(ct_sum(ct_mul(back, c))));
    tu_assert_values(ct_grad(x), CT_SHAPE(6), (double[]){1, 2, 3, 4, 5, 6}, 0, 0);
}

static void device_leaf_gets_device_grad(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2, 3), .device = CT_CUDA(0)), true);
    ct_tensor *c = ct_full(CT_SHAPE(2, 3), 3);
    /* one backward: accumulating a second one needs the CUDA add kernel (issue 6) */
    if (!ct_backward(ct_sum(ct_mul(ct_to(w, CT_CPU), c)))) fail_msg("backward: %s", ct_last_error());
    ct_tensor *g = ct_grad(w);
    assert_non_null(g);
    assert_true(ct_device_equal(ct_device_of(g), CT_CUDA(0)));
    tu_assert_values(ct_to(g, CT_CPU), CT_SHAPE(2, 3), (double[]){3, 3, 3, 3, 3, 3}, 0, 0);
}

static void missing_kernels_fail_cleanly_under_autograd(void **state) {
    (void)state;
    ct_tensor *g = ct_requires_grad_(ct_ones(CT_SHAPE(3), .device = CT_CUDA(0)), true);
    assert_null(ct_mul(g, g));
    tu_assert_error(CT_ERR_UNSUPPORTED, "cuda:0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradient_crosses_devices),
        cmocka_unit_test(device_leaf_gets_device_grad),
        cmocka_unit_test(missing_kernels_fail_cleanly_under_autograd),
    };
    return TU_RUN_GPU("gpu_autograd", tests);
}
