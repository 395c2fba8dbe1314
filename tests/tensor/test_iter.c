/* The strided iterator: coalescing, reordering, broadcasting, splitting across threads. */
#include "../common/testutil.h"
#include "../../tensor/iter_impl.h"

static void contiguous_operands_coalesce_to_one_dim(void **state) {
    (void)state;
    ct_tensor *a = ct_zeros(CT_SHAPE(4, 5, 6)), *b = ct_ones(CT_SHAPE(4, 5, 6));
    ct_iter it;
    ct_shape shape = CT_SHAPE(4, 5, 6);
    ct_iter_init(&it, 2, (const ct_tensor *const[]){a, b}, &shape);
    assert_int_equal(it.ndim, 1);
    assert_int_equal(it.shape[0], 120);
    assert_int_equal(it.strides[1][0], 4);
}

static void broadcast_row_keeps_two_dims(void **state) {
    (void)state;
    ct_tensor *out = ct_zeros(CT_SHAPE(7, 3)), *row = ct_ones(CT_SHAPE(3));
    ct_iter it;
    ct_shape shape = CT_SHAPE(7, 3);
    ct_iter_init(&it, 2, (const ct_tensor *const[]){out, row}, &shape);
    assert_int_equal(it.ndim, 2);
    assert_int_equal(it.strides[1][1], 0); /* broadcast dim */
}

static void transposed_output_is_walked_in_memory_order(void **state) {
    (void)state;
    ct_tensor *out = ct_transpose(ct_zeros(CT_SHAPE(5, 8)), 0, 1); /* logical 8x5, stride (1, 8) */
    ct_tensor *in = ct_transpose(ct_ones(CT_SHAPE(5, 8)), 0, 1);
    ct_iter it;
    ct_shape shape = CT_SHAPE(8, 5);
    ct_iter_init(&it, 2, (const ct_tensor *const[]){out, in}, &shape);
    assert_int_equal(it.ndim, 1); /* reordered, then one dense run */
    assert_int_equal(it.strides[0][0], 4);
}

static void size_one_and_empty_dims(void **state) {
    (void)state;
    ct_tensor *a = ct_zeros(CT_SHAPE(1, 9, 1));
    ct_iter it;
    ct_shape shape = CT_SHAPE(1, 9, 1);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){a}, &shape);
    assert_int_equal(it.ndim, 1);
    ct_tensor *e = ct_zeros(CT_SHAPE(3, 0));
    shape = CT_SHAPE(3, 0);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){e}, &shape);
    assert_int_equal(it.numel, 0);
}

static void count_loop(char **data, const int64_t *strides, int64_t n, void *ctx) {
    (void)data;
    (void)strides;
#pragma omp atomic
    *(int64_t *)ctx += n;
}

static void parallel_run_visits_each_element_once(void **state) {
    (void)state;
    int64_t total = 0;
    ct_tensor *a = ct_slice(ct_zeros(CT_SHAPE(300, 1000)), 1, 0, CT_END, 3);
    ct_iter it;
    ct_shape shape = ct_shape_of(a);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){a}, &shape);
    ct_iter_run(&it, count_loop, &total, 1000);
    assert_int_equal(total, ct_numel(a));
}

static void strided_copies_match_reference(void **state) {
    (void)state;
    uint64_t rng = 7;
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) {
        ct_tensor *x = tu_random(&rng, CT_SHAPE(3, 65, 129), CT_F64, (tu_layout)layout, -1, 1);
        double *want = tu_values(x);
        ct_tensor *y = ct_contiguous(ct_to_dtype(x, CT_F32));
        tu_assert_values(y, ct_shape_of(x), want, 1e-7, 0);
        /* a large copy goes through the threaded path */
        ct_tensor *big = tu_random(&rng, CT_SHAPE(300, 301), CT_F32, (tu_layout)layout, -1, 1);
        tu_assert_values(ct_clone(big), ct_shape_of(big), tu_values(big), 0, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contiguous_operands_coalesce_to_one_dim),
        cmocka_unit_test(broadcast_row_keeps_two_dims),
        cmocka_unit_test(transposed_output_is_walked_in_memory_order),
        cmocka_unit_test(size_one_and_empty_dims),
        cmocka_unit_test(parallel_run_visits_each_element_once),
        cmocka_unit_test(strided_copies_match_reference),
    };
    return TU_RUN("iter", tests);
}
