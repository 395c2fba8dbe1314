/* Autograd across devices: gradients flow back through host<->device copies and land in .grad on
 * the leaf's own device, and repeated backward passes accumulate there (the engine's ct_add on
 * CUDA). Derivatives of the CUDA kernels are checked against the CPU in each area's gpu test. */
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
    if (!ct_backward(ct_sum(ct_mul(ct_to(w, CT_CPU), c)))) fail_msg("backward: %s", ct_last_error());
    ct_tensor *g = ct_grad(w);
    assert_non_null(g);
    assert_true(ct_device_equal(ct_device_of(g), CT_CUDA(0)));
    tu_assert_values(ct_to(g, CT_CPU), CT_SHAPE(2, 3), (double[]){3, 3, 3, 3, 3, 3}, 0, 0);
}

/* Two backward passes into one CUDA leaf: the second adds to .grad on the device. */
static void backward_twice_accumulates_on_device(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_to(ct_arange(0, 4, 1, .dtype = CT_F32), CT_CUDA(0)), true);
    for (int pass = 0; pass < 2; pass++)
        if (!ct_backward(ct_sum(ct_mul(w, w)))) fail_msg("backward %d: %s", pass, ct_last_error());
    ct_tensor *g = ct_grad(w);
    assert_true(ct_device_equal(ct_device_of(g), CT_CUDA(0)));
    tu_assert_values(ct_to(g, CT_CPU), CT_SHAPE(4), (double[]){0, 4, 8, 12}, 0, 0); /* 2 * (2 w) */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradient_crosses_devices),
        cmocka_unit_test(device_leaf_gets_device_grad),
        cmocka_unit_test(backward_twice_accumulates_on_device),
    };
    return TU_RUN_GPU("gpu_autograd", tests);
}
