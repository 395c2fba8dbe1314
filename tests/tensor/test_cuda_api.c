/* The CUDA runtime API where there is no GPU (or no CUDA in the build): every function links and
 * answers; queries are 0, calls that need a device fail with CT_ERR_DEVICE naming it. The gpu
 * suite (tests/gpu/test_gpu_runtime.c) covers the same API on a GPU. */
#include "../common/testutil.h"

#include <string.h>

static void skip_on_gpu_machines(void) {
    if (ct_cuda_is_available()) skip(); /* these are the answers of a machine without a GPU */
}

static void queries_answer_zero(void **state) {
    (void)state;
    skip_on_gpu_machines();
    assert_int_equal(ct_cuda_device_count(), 0);
    assert_false(ct_cuda_is_available());
    assert_int_equal(ct_cuda_current_device(), 0);
    ct_cuda_memory_stats zero, s = ct_cuda_get_memory_stats(0);
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&s, &zero, sizeof s);
    assert_int_equal(ct_cuda_memory_allocated(0), 0);
    assert_int_equal(ct_cuda_max_memory_allocated(0), 0);
    assert_int_equal(ct_cuda_memory_reserved(0), 0);
    assert_int_equal(ct_cuda_max_memory_reserved(0), 0);
    ct_cuda_reset_peak_memory_stats(0);
    ct_cuda_empty_cache();
    assert_true(ct_ok());
}

/* "<op>: ... cuda:0": CUDA builds say no GPU was found, others that CUDA is not built in. */
static void assert_no_device_error(const char *op) {
    assert_int_equal(ct_last_status(), CT_ERR_DEVICE);
    const char *msg = ct_last_error();
    assert_non_null(strstr(msg, op));
    assert_non_null(strstr(msg, "cannot use cuda:0"));
    assert_true(strstr(msg, "CUDA is not available (no GPU found)") || strstr(msg, "built without CUDA support"));
    ct_clear_error();
}

static void calls_needing_a_device_fail(void **state) {
    (void)state;
    skip_on_gpu_machines();
    assert_false(ct_cuda_set_device(0));
    assert_no_device_error("set_device: ");
    assert_false(ct_cuda_synchronize(0));
    assert_no_device_error("synchronize: ");
    assert_null(ct_cuda_stream_new(0));
    assert_no_device_error("cuda_stream_new: ");
    assert_null(ct_cuda_default_stream(0));
    assert_no_device_error("default_stream: ");
    assert_null(ct_cuda_current_stream(0));
    assert_no_device_error("current_stream: ");
    assert_null(ct_zeros(CT_SHAPE(2), .device = CT_CUDA(0)));
    assert_no_device_error("cuda:0");
    assert_null(ct_to(ct_ones(CT_SHAPE(2)), CT_CUDA(0)));
    assert_no_device_error("to: ");
}

static void pin_memory_needs_a_device(void **state) {
    (void)state;
    skip_on_gpu_machines();
    ct_tensor *x = ct_ones(CT_SHAPE(3));
    assert_false(ct_is_pinned(x));
    assert_null(ct_pin_memory(x));
    assert_int_equal(ct_last_status(), CT_ERR_DEVICE);
    assert_non_null(strstr(ct_last_error(), "pin_memory: pinned memory needs a CUDA device, and "));
    assert_true(strstr(ct_last_error(), "none is available") || strstr(ct_last_error(), "this build has no CUDA"));
    ct_clear_error();
    assert_false(ct_is_pinned(NULL));
}

/* Everywhere: NULL streams are named errors (freeing NULL is a no-op, as free). */
static void null_streams(void **state) {
    (void)state;
    ct_cuda_stream_free(NULL);
    assert_true(ct_ok());
    assert_false(ct_cuda_stream_synchronize(NULL));
    tu_assert_error(CT_ERR_NULL, "cuda_stream_synchronize: the stream is NULL");
    assert_null(ct_cuda_set_stream(NULL));
    tu_assert_error(CT_ERR_NULL, "set_stream: the stream is NULL");
    assert_int_equal(ct_cuda_stream_device(NULL), -1);
    tu_assert_error(CT_ERR_NULL, "cuda_stream_device: the stream is NULL");
    assert_false(ct_cuda_stream_wait_stream(NULL, NULL));
    tu_assert_error(CT_ERR_NULL, "cuda_stream_wait_stream: the stream is NULL");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queries_answer_zero),
        cmocka_unit_test(calls_needing_a_device_fail),
        cmocka_unit_test(pin_memory_needs_a_device),
        cmocka_unit_test(null_streams),
    };
    return TU_RUN("cuda_api", tests);
}
