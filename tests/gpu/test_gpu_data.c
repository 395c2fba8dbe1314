/* The DataLoader's pin_memory on a machine with a GPU: batches come back in page-locked memory,
 * with the same values as an unpinned loader's, and copy to the device asynchronously. */
#include "../common/testutil.h"

static void pinned_batches_match(void **state) {
    (void)state;
    uint64_t rng = 7;
    ct_tensor *x = tu_random(&rng, CT_SHAPE(50, 3, 4), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *y = ct_arange(0, 50, 1);
    ct_dataset *ds = ct_tensor_dataset(x, y);
    ct_dataloader *pinned = ct_dataloader_new(ds, .batch_size = 8, .shuffle = true, .num_workers = 2,
                                              .pin_memory = true, .seed = 5);
    ct_dataloader *plain = ct_dataloader_new(ds, .batch_size = 8, .shuffle = true, .num_workers = 0, .seed = 5);
    assert_non_null(pinned);
    assert_non_null(plain);
    int batches = 0;
    ct_batch a, b;
    while (ct_dataloader_next(pinned, &a)) {
        assert_true(ct_dataloader_next(plain, &b));
        assert_true(ct_is_pinned(a.x) && ct_is_pinned(a.y));
        assert_false(ct_is_pinned(b.x));
        ct_tensor *on_gpu = ct_to(a.x, CT_CUDA(0)); /* from pinned memory: an async copy */
        tu_assert_values(ct_to(on_gpu, CT_CPU), ct_shape_of(b.x), tu_values(b.x), 0, 0);
        tu_assert_values(a.y, ct_shape_of(b.y), tu_values(b.y), 0, 0);
        batches++;
    }
    assert_true(ct_ok());
    assert_false(ct_dataloader_next(plain, &b)); /* both epochs end together */
    assert_int_equal(batches, 7);
    ct_dataloader_free(pinned);
    ct_dataloader_free(plain);
    ct_dataset_free(ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned_batches_match),
    };
    return TU_RUN_GPU("gpu_data", tests);
}
