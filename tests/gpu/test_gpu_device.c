/* CUDA device basics: availability, host<->device round trips, device errors. */
#include "../common/testutil.h"

static void device_count_is_positive(void **state) {
    (void)state;
    assert_true(ct_cuda_device_count() > 0);
    assert_string_equal(ct_device_name(CT_CUDA(0)), "cuda:0");
}

static void round_trip_keeps_values(void **state) {
    (void)state;
    uint64_t rng = 1;
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) {
        ct_tensor *x = tu_random(&rng, CT_SHAPE(37, 19), CT_F32, (tu_layout)layout, -3, 3);
        ct_tensor *g = ct_to(x, CT_CUDA(0));
        assert_non_null(g);
        assert_true(ct_device_equal(ct_device_of(g), CT_CUDA(0)));
        ct_tensor *back = ct_to(g, CT_CPU);
        tu_assert_values(back, ct_shape_of(x), tu_values(x), 0, 0);
        /* one element of a strided device view, read without copying the rest */
        assert_true(ct_get(ct_t(g), CT_SHAPE(5, 3)) == ct_get(x, CT_SHAPE(3, 5)));
    }
}

static void full_on_device(void **state) {
    (void)state;
    for (int d = 0; d < CT_NUM_DTYPES; d++) {
        ct_tensor *g = ct_full(CT_SHAPE(300, 301), 2.0, .device = CT_CUDA(0), .dtype = (ct_dtype)d);
        ct_tensor *want = ct_full(CT_SHAPE(300, 301), 2.0, .dtype = (ct_dtype)d);
        tu_assert_values(ct_to(g, CT_CPU), ct_shape_of(want), tu_values(want), 0, 0);
    }
    /* a strided destination: every other column */
    ct_tensor *g = ct_zeros(CT_SHAPE(2, 4), .device = CT_CUDA(0));
    assert_non_null(ct_fill_(ct_slice(g, 1, 0, CT_END, 2), 1));
    tu_assert_values(ct_to(g, CT_CPU), CT_SHAPE(2, 4), (double[]){1, 0, 1, 0, 1, 0, 1, 0}, 0, 0);
}

static void bad_ordinal_is_an_error(void **state) {
    (void)state;
    assert_null(ct_zeros(CT_SHAPE(2), .device = CT_CUDA(99)));
    tu_assert_error(CT_ERR_DEVICE, "invalid device ordinal cuda:99");
    assert_null(ct_data_ptr(ct_zeros(CT_SHAPE(2), .device = CT_CUDA(0))));
    tu_assert_error(CT_ERR_DEVICE, "copy it to the CPU first");
}

static void device_errors_name_the_devices(void **state) {
    (void)state;
    ct_tensor *g = ct_ones(CT_SHAPE(3), .device = CT_CUDA(0));
    ct_tensor *c = ct_ones(CT_SHAPE(3));
    assert_null(ct_add(g, c));
    tu_assert_error(CT_ERR_DEVICE, "Expected all tensors to be on the same device");
    /* einsum runs on the device, but its operands must share one */
    assert_null(ct_einsum("i,i->", CT_TENSORS(g, c)));
    tu_assert_error(CT_ERR_DEVICE, "cuda:0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_count_is_positive),
        cmocka_unit_test(round_trip_keeps_values),
        cmocka_unit_test(full_on_device),
        cmocka_unit_test(bad_ordinal_is_an_error),
        cmocka_unit_test(device_errors_name_the_devices),
    };
    return TU_RUN_GPU("gpu_device", tests);
}
