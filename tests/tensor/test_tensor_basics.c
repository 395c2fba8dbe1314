/* Tensor basics: creation, dtypes and promotion, 16-bit floats, copies and conversions, storage. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

static void creation_values_and_meta(void **state) {
    (void)state;
    ct_tensor *z = ct_zeros(CT_SHAPE(2, 3));
    assert_int_equal(ct_ndim(z), 2);
    assert_int_equal(ct_numel(z), 6);
    assert_true(ct_is_contiguous(z));
    assert_int_equal(ct_stride(z, 0), 3);
    assert_int_equal(ct_stride(z, -1), 1);
    tu_assert_values(ct_full(CT_SHAPE(2, 2), 1.5, .dtype = CT_F64), CT_SHAPE(2, 2), (double[]){1.5, 1.5, 1.5, 1.5}, 0, 0);
    tu_assert_values(ct_ones(CT_SHAPE(3), .dtype = CT_I32), CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
    tu_assert_values(ct_eye(2, 3), CT_SHAPE(2, 3), (double[]){1, 0, 0, 0, 1, 0}, 0, 0);
    tu_assert_values(ct_eye(3, 0, .dtype = CT_BOOL), CT_SHAPE(3, 3), (double[]){1, 0, 0, 0, 1, 0, 0, 0, 1}, 0, 0);
    ct_tensor *s = ct_scalar_tensor(4.25);
    assert_int_equal(ct_ndim(s), 0);
    assert_int_equal(ct_numel(s), 1);
    assert_true(ct_item(s) == 4.25);
}

static void arange_and_linspace_follow_pytorch(void **state) {
    (void)state;
    ct_tensor *a = ct_arange(0, 5, 1);
    assert_int_equal(ct_dtype_of(a), CT_I64); /* all-integer arguments give int64 */
    tu_assert_values(a, CT_SHAPE(5), (double[]){0, 1, 2, 3, 4}, 0, 0);
    ct_tensor *b = ct_arange(0, 1, 0.25);
    assert_int_equal(ct_dtype_of(b), CT_F32);
    tu_assert_values(b, CT_SHAPE(4), (double[]){0, 0.25, 0.5, 0.75}, 0, 0);
    tu_assert_values(ct_arange(5, 0, -2), CT_SHAPE(3), (double[]){5, 3, 1}, 0, 0);
    tu_assert_values(ct_linspace(-1, 1, 5, .dtype = CT_F64), CT_SHAPE(5), (double[]){-1, -0.5, 0, 0.5, 1}, 0, 1e-15);
    assert_true(ct_get(ct_linspace(0, 1, 7, .dtype = CT_F64), CT_SHAPE(6)) == 1.0); /* exact end */
    assert_int_equal(ct_numel(ct_linspace(0, 1, 0)), 0);
    assert_null(ct_arange(0, 5, 0));
    tu_assert_error(CT_ERR_ARG, "step must be nonzero");
    assert_null(ct_arange(0, 5, -1));
    tu_assert_error(CT_ERR_ARG, "inconsistent with step sign");
    assert_null(ct_linspace(0, 1, -2));
    tu_assert_error(CT_ERR_ARG, "non-negative");
}

static void from_data_and_like(void **state) {
    (void)state;
    ct_tensor *t = ct_from_data((int32_t[]){1, -2, 3, 4, 5, 6}, CT_SHAPE(2, 3), CT_I32);
    assert_int_equal(ct_dtype_of(t), CT_I32);
    tu_assert_values(t, CT_SHAPE(2, 3), (double[]){1, -2, 3, 4, 5, 6}, 0, 0);
    ct_tensor *f = ct_to_dtype(ct_from_data((int32_t[]){1, 2}, CT_SHAPE(2), CT_I32), CT_F16);
    assert_int_equal(ct_dtype_of(f), CT_F16);
    ct_tensor *l = ct_full_like(t, 9);
    assert_int_equal(ct_dtype_of(l), CT_I32);
    tu_assert_values(l, CT_SHAPE(2, 3), (double[]){9, 9, 9, 9, 9, 9}, 0, 0);
    assert_int_equal(ct_dtype_of(ct_zeros_like(t, .dtype = CT_F64)), CT_F64);
    assert_int_equal(ct_numel(ct_empty_like(t)), 6);
    assert_null(ct_from_data(NULL, CT_SHAPE(2), CT_F32));
    tu_assert_error(CT_ERR_NULL, "data is NULL");
    assert_null(ct_zeros(CT_SHAPE(2, -1)));
    tu_assert_error(CT_ERR_SHAPE, "negative dimension -1");
    assert_null(ct_zeros(CT_SHAPE(2), .dtype = (ct_dtype)42));
    tu_assert_error(CT_ERR_DTYPE, "invalid dtype");
}

static void zero_size_and_zero_dim(void **state) {
    (void)state;
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 3));
    assert_int_equal(ct_numel(e), 0);
    assert_true(ct_is_contiguous(e));
    assert_int_equal(ct_numel(ct_clone(e)), 0);
    assert_int_equal(ct_numel(ct_to_dtype(e, CT_F64)), 0);
    assert_int_equal(ct_numel(ct_fill_(e, 3)), 0);
    ct_tensor *s = ct_zeros(CT_SHAPE());
    assert_non_null(ct_fill_(s, 2));
    assert_true(ct_item(s) == 2);
    assert_true(isnan(ct_item(ct_zeros(CT_SHAPE(2)))));
    tu_assert_error(CT_ERR_SHAPE, "a Tensor with 2 elements cannot be converted to Scalar");
}

static void dtype_names_sizes_and_promotion(void **state) {
    (void)state;
    assert_string_equal(ct_dtype_name(CT_BF16), "bfloat16");
    assert_int_equal(ct_dtype_size(CT_F16), 2);
    assert_int_equal(ct_dtype_size(CT_I64), 8);
    assert_true(ct_dtype_is_floating(CT_BF16) && !ct_dtype_is_floating(CT_I32));
    assert_true(ct_dtype_is_integral(CT_U8) && !ct_dtype_is_integral(CT_BOOL));
    assert_int_equal(ct_promote_types(CT_F16, CT_BF16), CT_F32);
    assert_int_equal(ct_promote_types(CT_U8, CT_I32), CT_I32);
    assert_int_equal(ct_promote_types(CT_BOOL, CT_U8), CT_U8);
    assert_int_equal(ct_promote_types(CT_I64, CT_F16), CT_F16);
    assert_int_equal(ct_promote_types(CT_F32, CT_F64), CT_F64);
}

static void half_and_bfloat16_round_to_nearest_even(void **state) {
    (void)state;
    /* 1 + 2^-11 is halfway between two halves: ties to even (1.0); 1 + 3*2^-11 rounds up. */
    double in[] = {1.0 + 0x1p-11, 1.0 + 3 * 0x1p-11, 65504, 65520, 1e-8, 0x1p-24, -2.5, 6.1e-5, INFINITY, NAN};
    double want[] = {1.0, 1.0 + 0x1p-9, 65504, INFINITY, 0, 0x1p-24, -2.5, 6.0975551605224609e-05, INFINITY, NAN};
    ct_tensor *h = ct_to_dtype(ct_from_data(in, CT_SHAPE(10), CT_F64), CT_F16);
    tu_assert_values(h, CT_SHAPE(10), want, 1e-7, 0);
    double bin[] = {1.0 + 0x1p-8, 1.0 + 3 * 0x1p-8, 3.0e38, -0.0};
    double bwant[] = {1.0, 1.0 + 0x1p-6, 3.0040552704739099e38, 0};
    tu_assert_values(ct_to_dtype(ct_from_data(bin, CT_SHAPE(4), CT_F64), CT_BF16), CT_SHAPE(4), bwant, 1e-3, 0);
}

static void conversions_between_all_dtypes(void **state) {
    (void)state;
    double vals[] = {0, 1, 2, 3, 100, 7};
    for (int a = 0; a < CT_NUM_DTYPES; a++)
        for (int b = 0; b < CT_NUM_DTYPES; b++) {
            ct_tensor *x = ct_to_dtype(ct_from_data(vals, CT_SHAPE(2, 3), CT_F64), (ct_dtype)a);
            ct_tensor *y = ct_to_dtype(ct_transpose(x, 0, 1), (ct_dtype)b);
            double want[6];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 2; j++) {
                    double v = vals[j * 3 + i];
                    if (a == CT_BOOL || b == CT_BOOL) v = v != 0;
                    want[i * 2 + j] = v;
                }
            tu_assert_values(y, CT_SHAPE(3, 2), want, 0, 0);
        }
    double neg[] = {-1.5, 2.7};
    tu_assert_values(ct_to_dtype(ct_from_data(neg, CT_SHAPE(2), CT_F64), CT_I64), CT_SHAPE(2), (double[]){-1, 2}, 0, 0);
}

static void copy_broadcasts_and_converts(void **state) {
    (void)state;
    ct_tensor *dst = ct_zeros(CT_SHAPE(2, 3), .dtype = CT_F64);
    ct_tensor *row = ct_from_data((float[]){1, 2, 3}, CT_SHAPE(3), CT_F32);
    assert_ptr_equal(ct_copy_(dst, row), dst);
    tu_assert_values(dst, CT_SHAPE(2, 3), (double[]){1, 2, 3, 1, 2, 3}, 0, 0);
    assert_null(ct_copy_(dst, ct_zeros(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "must match the size of tensor");
    assert_null(ct_copy_(row, ct_zeros(CT_SHAPE(2, 3))));
    tu_assert_error(CT_ERR_SHAPE, "cannot be broadcast to destination shape [3]");
}

static void views_share_storage_and_write_through(void **state) {
    (void)state;
    /* The seed example: b = a[2:] shares a's storage and writes through. */
    ct_tensor *a = ct_arange(0, 6, 1, .dtype = CT_F32);
    ct_tensor *b = ct_slice(a, 0, 2, CT_END, 1);
    assert_true(ct_shares_storage(a, b));
    assert_ptr_equal(ct_storage_id(a), ct_storage_id(b));
    assert_int_equal(ct_storage_offset(b), 2);
    ct_fill_(ct_select(b, 0, 0), 42);
    assert_true(ct_get(a, CT_SHAPE(2)) == 42);
    ct_tensor *c = ct_clone(a);
    assert_false(ct_shares_storage(a, c));
    assert_ptr_equal(ct_contiguous(a), a); /* already contiguous: the same tensor */
    assert_false(ct_shares_storage(ct_contiguous(ct_transpose(ct_view(a, CT_SHAPE(2, 3)), 0, 1)), a));
}

static void get_and_item_errors(void **state) {
    (void)state;
    ct_tensor *t = ct_zeros(CT_SHAPE(2, 3));
    assert_true(isnan(ct_get(t, CT_SHAPE(2, 0))));
    tu_assert_error(CT_ERR_INDEX, "index 2 is out of bounds for dimension 0 with size 2");
    assert_true(isnan(ct_get(t, CT_SHAPE(0))));
    tu_assert_error(CT_ERR_INDEX, "expected an index of 2 dimensions");
    assert_true(ct_get(t, CT_SHAPE(-1, -1)) == 0);
    assert_int_equal(ct_size(t, 2), -1);
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    double out[2];
    assert_false(ct_copy_to_f64(t, out, 2));
    tu_assert_error(CT_ERR_ARG, "output holds 2 values but the tensor has 6");
}

static void devices_without_gpu_are_errors(void **state) {
    (void)state;
    assert_string_equal(ct_device_name(CT_CPU), "cpu");
    assert_true(ct_device_equal(CT_CPU, CT_CPU) && !ct_device_equal(CT_CPU, CT_CUDA(0)));
    if (ct_cuda_is_available()) skip();
    assert_null(ct_zeros(CT_SHAPE(2), .device = CT_CUDA(0)));
    assert_true(ct_last_status() == CT_ERR_DEVICE);
    assert_non_null(strstr(ct_last_error(), "cuda:0"));
    ct_clear_error();
    assert_null(ct_to(ct_zeros(CT_SHAPE(2)), CT_CUDA(0)));
    tu_assert_error(CT_ERR_DEVICE, "cuda:0");
}

static void in_place_writes_into_expanded_tensors_are_errors(void **state) {
    (void)state;
    const char *msg = "more than one element of the written-to tensor refers to a single memory location";
    ct_tensor *e = ct_expand(ct_zeros(CT_SHAPE(1, 3)), CT_SHAPE(2, 3)); /* rows share memory */
    ct_tensor *ones = ct_ones(CT_SHAPE(2, 3));
    ct_tensor *idx = ct_zeros(CT_SHAPE(1, 3), .dtype = CT_I64);
    assert_null(ct_add_(e, ones));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_exp_(e));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_copy_(e, ones));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_scatter_(e, 0, idx, ct_ones(CT_SHAPE(1, 3))));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_uniform_(e, 0, 1));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_masked_fill_(e, ct_gt(ones, ct_scalar(0)), 1));
    tu_assert_error(CT_ERR_ARG, msg);
    assert_null(ct_index_put_(e, CT_TENSORS(ct_zeros(CT_SHAPE(1), .dtype = CT_I64)), ct_ones(CT_SHAPE(3)), false));
    tu_assert_error(CT_ERR_ARG, msg);
    /* fill_ writes one value everywhere, so PyTorch allows it, and so does ctorch */
    assert_non_null(ct_fill_(e, 5));
    tu_assert_values(e, CT_SHAPE(2, 3), (double[]){5, 5, 5, 5, 5, 5}, 0, 0);
}

static void large_cpu_blocks_are_reused(void **state) {
    (void)state;
    void *first = NULL, *second = NULL;
    CT_SCOPE { first = ct_data_ptr(ct_zeros(CT_SHAPE(1 << 20))); } /* 4 MiB: from the host cache */
    CT_SCOPE { second = ct_data_ptr(ct_ones(CT_SHAPE(1 << 20))); }
    assert_ptr_equal(first, second); /* the freed block came back instead of a fresh mmap */
    ct_tensor *t = ct_ones(CT_SHAPE(1 << 20));
    assert_true(ct_get(t, CT_SHAPE((1 << 20) - 1)) == 1.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(creation_values_and_meta),
        cmocka_unit_test(arange_and_linspace_follow_pytorch),
        cmocka_unit_test(from_data_and_like),
        cmocka_unit_test(zero_size_and_zero_dim),
        cmocka_unit_test(dtype_names_sizes_and_promotion),
        cmocka_unit_test(half_and_bfloat16_round_to_nearest_even),
        cmocka_unit_test(conversions_between_all_dtypes),
        cmocka_unit_test(copy_broadcasts_and_converts),
        cmocka_unit_test(views_share_storage_and_write_through),
        cmocka_unit_test(get_and_item_errors),
        cmocka_unit_test(devices_without_gpu_are_errors),
        cmocka_unit_test(large_cpu_blocks_are_reused),
        cmocka_unit_test(in_place_writes_into_expanded_tensors_are_errors),
    };
    return TU_RUN("tensor_basics", tests);
}
