/* The DataLoader: identical batches for 0, 1 and 4 workers (shuffled, with a dataset whose values
 * depend on the sample seed, as a random transform's do), every index once per epoch (with and
 * without drop_last), default and custom collate, samplers and batch samplers, worker errors
 * reported in order, stopping mid-epoch, timeouts, pin_memory without CUDA, flat memory over many
 * epochs, option errors, and Fashion-MNIST when it is installed. */
#include "../common/testutil.h"

#include <ctorch/data.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- a test dataset: sample i = {x: [i, i+1, ..., i+width-1] + u(seed), y: i} ------------------ */

typedef struct toy {
    int64_t n, width;
    int64_t fail_at;       /* get fails with CT_ERR_IO at this index (-1: never) */
    int64_t slow_at;       /* get sleeps slow_us at this index (-1: never) */
    useconds_t slow_us;
    atomic_int gets;
} toy;

/* A value in [0, 1) that depends only on the seed: the "random transform". */
static float seed_noise(uint64_t seed) {
    seed ^= seed >> 33;
    seed *= 0xff51afd7ed558ccdull;
    seed ^= seed >> 33;
    return (float)(seed >> 40) * 0x1p-24f;
}

static int64_t toy_len(void *state) { return ((toy *)state)->n; }

static bool toy_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    toy *t = state;
    atomic_fetch_add(&t->gets, 1);
    if (i == t->slow_at) usleep(t->slow_us);
    if (i == t->fail_at) return ct_error(CT_ERR_IO, "toy: corrupt record %lld", (long long)i), false;
    ct_tensor *x = ct_empty(CT_SHAPE(t->width));
    float *p = ct_data_ptr(x), u = seed_noise(seed);
    for (int64_t j = 0; j < t->width; j++) p[j] = (float)(i + j) + u;
    return ct_sample_add(out, "x", x) && ct_sample_add(out, "y", ct_scalar_int(i));
}

static const ct_dataset_vtable toy_vtable = {"Toy", toy_len, toy_get, free};

static ct_dataset *toy_new(int64_t n, int64_t width) {
    toy *t = calloc(1, sizeof *t);
    t->n = n, t->width = width, t->fail_at = -1, t->slow_at = -1;
    return ct_dataset_new(&toy_vtable, t);
}

/* Runs `epochs` epochs and writes every batch's x and y values in order to xs and ys (may be NULL);
 * returns the number of samples seen. */
static int64_t run_epochs(ct_dataloader *dl, int epochs, float *xs, int64_t *ys, int64_t width) {
    int64_t seen = 0;
    for (int e = 0; e < epochs; e++) {
        ct_batch b;
        int64_t batches = 0;
        while (ct_dataloader_next(dl, &b)) CT_SCOPE {
            assert_int_equal(b.n, 2);
            assert_string_equal(b.names[0], "x");
            int64_t m = ct_size(b.x, 0);
            assert_int_equal(ct_ndim(b.x), 2);
            assert_int_equal(ct_size(b.x, 1), width);
            assert_int_equal(ct_ndim(b.y), 1);
            assert_int_equal(ct_dtype_of(b.y), CT_I64);
            if (xs) memcpy(xs + seen * width, ct_data_ptr(b.x), (size_t)(m * width) * sizeof(float));
            if (ys) memcpy(ys + seen, ct_data_ptr(b.y), (size_t)m * sizeof(int64_t));
            seen += m;
            batches++;
        }
        assert_true(ct_ok());
        assert_int_equal(batches, ct_dataloader_len(dl));
    }
    return seen;
}

static void identical_for_any_workers(void **state) {
    (void)state;
    const int64_t n = 53, width = 3, epochs = 2;
    ct_dataset *ds = toy_new(n, width);
    float *xs[3];
    int64_t *ys[3];
    const int workers[3] = {0, 1, 4};
    for (int seeded = 0; seeded < 2; seeded++) {
        for (int w = 0; w < 3; w++) {
            xs[w] = malloc((size_t)(n * width * epochs) * sizeof(float));
            ys[w] = malloc((size_t)(n * epochs) * sizeof(int64_t));
            ct_manual_seed(17); /* the unseeded loader draws its seeds from the default generator */
            ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 7, .shuffle = true, .num_workers = workers[w],
                                                  .seed = seeded ? 1234 : 0);
            assert_non_null(dl);
            assert_int_equal(ct_dataloader_len(dl), 8);
            assert_int_equal(run_epochs(dl, (int)epochs, xs[w], ys[w], width), n * epochs);
            ct_dataloader_free(dl);
        }
        for (int w = 1; w < 3; w++) {
            assert_memory_equal(xs[0], xs[w], (size_t)(n * width * epochs) * sizeof(float));
            assert_memory_equal(ys[0], ys[w], (size_t)(n * epochs) * sizeof(int64_t));
        }
        /* The two epochs shuffle differently and draw different transforms for the same index. */
        assert_true(memcmp(ys[0], ys[0] + n, (size_t)n * sizeof(int64_t)) != 0);
        for (int64_t k = 0; k < n; k++) {
            int64_t i = ys[0][k];
            float u = xs[0][k * width] - (float)i;
            assert_true(u >= 0 && u < 1);
            assert_true(fabsf(xs[0][k * width + 2] - (float)(i + 2) - u) < 1e-4f);
            for (int64_t k2 = 0; k2 < n; k2++)
                if (ys[0][n + k2] == i) assert_true(fabsf(xs[0][(n + k2) * width] - (float)i - u) > 1e-6f);
        }
        for (int w = 0; w < 3; w++) free(xs[w]), free(ys[w]);
    }
    ct_dataset_free(ds);
}

static void every_index_once(void **state) {
    (void)state;
    const int64_t n = 100;
    ct_dataset *ds = toy_new(n, 2);
    for (int drop = 0; drop < 2; drop++)
        for (int persistent = 0; persistent < 2; persistent++) {
            ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 16, .shuffle = true, .drop_last = drop, .num_workers = 3,
                                                  .persistent_workers = persistent, .prefetch_factor = 1);
            assert_int_equal(ct_dataloader_len(dl), drop ? 6 : 7);
            for (int e = 0; e < 3; e++) {
                int64_t ys[100];
                int64_t seen = run_epochs(dl, 1, NULL, ys, 2);
                assert_int_equal(seen, drop ? 96 : 100);
                int count[100] = {0};
                for (int64_t k = 0; k < seen; k++) count[ys[k]]++;
                for (int64_t i = 0; i < n; i++) assert_true(count[i] <= 1);
            }
            ct_dataloader_free(dl);
        }
    ct_dataset_free(ds);
}

static void collate(void **state) {
    (void)state;
    ct_sample s[3] = {{0}};
    for (int k = 0; k < 3; k++) {
        ct_sample_add(&s[k], "img", ct_full(CT_SHAPE(2, 2), k));
        ct_sample_add(&s[k], "label", ct_scalar_int(k));
    }
    ct_batch b;
    assert_true(ct_default_collate(s, 3, &b));
    assert_int_equal(b.n, 2);
    assert_string_equal(b.names[1], "label");
    tu_assert_values(b.x, CT_SHAPE(3, 2, 2), (double[]){0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}, 0, 0);
    tu_assert_values(b.y, CT_SHAPE(3), (double[]){0, 1, 2}, 0, 0);
    /* Non-contiguous and mixed-dtype fields go through stack (with promotion). */
    s[1].fields[0] = ct_transpose(ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(2, 2), CT_F32), 0, 1);
    s[2].fields[1] = ct_scalar(2.5);
    assert_true(ct_default_collate(s, 3, &b));
    tu_assert_values(b.x, CT_SHAPE(3, 2, 2), (double[]){0, 0, 0, 0, 1, 3, 2, 4, 2, 2, 2, 2}, 0, 0);
    assert_true(ct_dtype_is_floating(ct_dtype_of(b.y)));
    /* A shape mismatch names the field, the sample and both shapes. */
    s[2].fields[0] = ct_zeros(CT_SHAPE(2, 3));
    assert_false(ct_default_collate(s, 3, &b));
    assert_int_equal(b.n, 0);
    tu_assert_error(CT_ERR_SHAPE, "field 'img': stack expects each tensor to be equal size, but got [2, 2] at sample 0 and [2, 3] at sample 2");
    s[2].names[1] = "target";
    s[2].fields[0] = ct_zeros(CT_SHAPE(2, 2));
    assert_false(ct_default_collate(s, 3, &b));
    tu_assert_error(CT_ERR_ARG, "sample 2 has fields that differ from sample 0's");
    assert_false(ct_default_collate(s, 0, &b));
    tu_assert_error(CT_ERR_ARG, "expected at least one sample");
}

/* A custom collate: the sum of the batch's x rows and the batch's size; counts its calls. */
static bool sum_collate(const ct_sample *samples, int64_t n, ct_batch *out, void *user) {
    atomic_fetch_add((atomic_int *)user, 1);
    ct_tensor *sum = ct_zeros_like(samples[0].x);
    for (int64_t k = 0; k < n; k++) sum = ct_add(sum, samples[k].x);
    memset(out, 0, sizeof *out);
    return ct_sample_add(out, "sum", sum) && ct_sample_add(out, "count", ct_scalar_int(n));
}

static bool failing_collate(const ct_sample *samples, int64_t n, ct_batch *out, void *user) {
    (void)samples, (void)out, (void)user;
    if (n < 6) return ct_error(CT_ERR_ARG, "my collate: batch of %lld is too short", (long long)n), false;
    return ct_default_collate(samples, n, out);
}

static void custom_collate_and_samplers(void **state) {
    (void)state;
    ct_dataset *ds = toy_new(10, 2);
    atomic_int calls = 0;
    ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 4, .collate = sum_collate, .user = &calls, .num_workers = 2);
    ct_batch b;
    double want_sum[3][2] = {{0 + 1 + 2 + 3, 1 + 2 + 3 + 4}, {4 + 5 + 6 + 7, 5 + 6 + 7 + 8}, {8 + 9, 9 + 10}};
    for (int k = 0; k < 3; k++) {
        assert_true(ct_dataloader_next(dl, &b));
        assert_string_equal(b.names[0], "sum");
        double got[2];
        ct_copy_to_f64(b.x, got, 2);
        /* the seed noise adds less than 1 per sample */
        assert_true(got[0] >= want_sum[k][0] && got[0] < want_sum[k][0] + 4);
        assert_int_equal((int64_t)ct_item(b.y), k < 2 ? 4 : 2);
    }
    assert_false(ct_dataloader_next(dl, &b));
    assert_true(ct_ok());
    assert_int_equal(atomic_load(&calls), 3);
    ct_dataloader_free(dl);

    /* A distributed sampler through .sampler, reshuffled by set_epoch. */
    ct_sampler *ds0 = ct_distributed_sampler(10, 2, 1, .shuffle = false);
    dl = ct_dataloader_new(ds, .batch_size = 2, .sampler = ds0);
    ct_sampler_free(ds0);
    int64_t ys[5];
    assert_int_equal(run_epochs(dl, 1, NULL, ys, 2), 5);
    assert_memory_equal(ys, ((int64_t[]){1, 3, 5, 7, 9}), sizeof ys);
    assert_true(ct_dataloader_set_epoch(dl, 2));
    ct_dataloader_free(dl);
    dl = ct_dataloader_new(ds);
    assert_false(ct_dataloader_set_epoch(dl, 2));
    tu_assert_error(CT_ERR_STATE, "no set_epoch");
    assert_int_equal(ct_dataloader_len(dl), 10);
    ct_dataloader_free(dl);

    /* A batch sampler. */
    ct_sampler *seq = ct_sequential_sampler(10);
    ct_sampler *bs = ct_batch_sampler(seq, 3, .drop_last = true);
    dl = ct_dataloader_new(ds, .batch_sampler = bs, .num_workers = 2);
    int64_t ys9[9];
    assert_int_equal(run_epochs(dl, 1, NULL, ys9, 2), 9);
    for (int i = 0; i < 9; i++) assert_int_equal(ys9[i], i);
    ct_dataloader_free(dl);

    /* Option errors, with PyTorch's messages. */
    assert_null(ct_dataloader_new(ds, .batch_sampler = bs, .batch_size = 2));
    tu_assert_error(CT_ERR_ARG, "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last");
    assert_null(ct_dataloader_new(ds, .sampler = seq, .shuffle = true));
    tu_assert_error(CT_ERR_ARG, "sampler option is mutually exclusive with shuffle");
    assert_null(ct_dataloader_new(ds, .sampler = bs));
    tu_assert_error(CT_ERR_ARG, "batch_sampler option, not sampler");
    assert_null(ct_dataloader_new(ds, .batch_sampler = seq));
    tu_assert_error(CT_ERR_ARG, "batch_sampler must be a BatchSampler");
    assert_null(ct_dataloader_new(ds, .num_workers = -1));
    tu_assert_error(CT_ERR_ARG, "num_workers option should be non-negative");
    assert_null(ct_dataloader_new(ds, .persistent_workers = true));
    tu_assert_error(CT_ERR_ARG, "persistent_workers option needs num_workers > 0");
    assert_null(ct_dataloader_new(ds, .prefetch_factor = 4));
    tu_assert_error(CT_ERR_ARG, "prefetch_factor option could only be specified in multiprocessing");
    assert_null(ct_dataloader_new(ds, .timeout_s = -1));
    tu_assert_error(CT_ERR_ARG, "timeout option should be non-negative");
    assert_null(ct_dataloader_new(ds, .batch_size = 0));
    tu_assert_error(CT_ERR_ARG, "batch_size should be a positive integer value, but got batch_size=0");
    assert_null(ct_dataloader_new(NULL));
    tu_assert_error(CT_ERR_NULL, "dataset is NULL");
    ct_sampler_free(bs), ct_sampler_free(seq);
    ct_dataset_free(ds);
}

/* ---- errors ------------------------------------------------------------------------------------- */

static bool init_fails_for_2(int worker_id, void *user) {
    atomic_fetch_add((atomic_int *)user, 1);
    if (worker_id == 2) return ct_error(CT_ERR_STATE, "init failed on purpose"), false;
    return true;
}

static void worker_errors(void **state) {
    (void)state;
    toy *t = calloc(1, sizeof *t);
    *t = (toy){.n = 40, .width = 2, .fail_at = 13, .slow_at = -1};
    ct_dataset *ds = ct_dataset_new(&toy_vtable, t);
    for (int w = 0; w <= 4; w += 4) {
        ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 4, .num_workers = w);
        for (int e = 0; e < 2; e++) { /* the failing epoch ends; the next one starts and fails again */
            ct_batch b;
            for (int k = 0; k < 3; k++) assert_true(ct_dataloader_next(dl, &b));
            assert_false(ct_dataloader_next(dl, &b));
            tu_assert_error(CT_ERR_IO, w ? "DataLoader worker 3: toy: corrupt record 13" : "toy: corrupt record 13");
        }
        ct_dataloader_free(dl);
    }
    t->fail_at = -1;

    atomic_int inits = 0;
    for (int persistent = 0; persistent < 2; persistent++) {
        ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 4, .num_workers = 4, .worker_init = init_fails_for_2,
                                              .user = &inits, .persistent_workers = persistent);
        ct_batch b;
        assert_true(ct_dataloader_next(dl, &b));
        assert_true(ct_dataloader_next(dl, &b));
        assert_false(ct_dataloader_next(dl, &b));
        tu_assert_error(CT_ERR_STATE, "DataLoader worker 2: init failed on purpose");
        ct_dataloader_free(dl);
    }
    assert_int_equal(atomic_load(&inits), 8);

    ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 6, .num_workers = 2, .collate = failing_collate);
    ct_batch b;
    int ok = 0;
    while (ct_dataloader_next(dl, &b)) ok++;
    assert_int_equal(ok, 6);
    tu_assert_error(CT_ERR_ARG, "DataLoader worker 0: my collate: batch of 4 is too short");
    ct_dataloader_free(dl);

    /* A pending error stops the loop before anything runs. */
    dl = ct_dataloader_new(ds, .num_workers = 1);
    ct_error(CT_ERR_ARG, "earlier failure");
    assert_false(ct_dataloader_next(dl, &b));
    tu_assert_error(CT_ERR_ARG, "earlier failure");
    ct_dataloader_free(dl);
    ct_dataset_free(ds);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void timeout(void **state) {
    (void)state;
    toy *t = calloc(1, sizeof *t);
    *t = (toy){.n = 20, .width = 2, .fail_at = -1, .slow_at = 9, .slow_us = 600000};
    ct_dataset *ds = ct_dataset_new(&toy_vtable, t);
    ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 4, .num_workers = 2, .timeout_s = 0.1);
    ct_batch b;
    assert_true(ct_dataloader_next(dl, &b));
    assert_true(ct_dataloader_next(dl, &b));
    double start = now_s();
    assert_false(ct_dataloader_next(dl, &b)); /* batch 2 holds the slow sample 9 */
    assert_true(now_s() - start < 0.5);
    tu_assert_error(CT_ERR_STATE, "DataLoader timed out after 0.1 seconds");
    /* Freeing waits for the slow sample; a timeout longer than the delay lets the epoch finish. */
    ct_dataloader_free(dl);
    dl = ct_dataloader_new(ds, .batch_size = 4, .num_workers = 2, .timeout_s = 5);
    assert_int_equal(run_epochs(dl, 1, NULL, NULL, 2), 20);
    ct_dataloader_free(dl);
    ct_dataset_free(ds);
}

/* Freeing mid-epoch joins the workers; a retained batch outlives the loader. */
static void stop_mid_epoch(void **state) {
    (void)state;
    ct_dataset *ds = toy_new(1000, 8);
    for (int persistent = 0; persistent < 2; persistent++) {
        ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 10, .num_workers = 4, .prefetch_factor = 3,
                                              .persistent_workers = persistent);
        ct_batch b;
        assert_true(ct_dataloader_next(dl, &b));
        assert_true(ct_dataloader_next(dl, &b));
        ct_tensor *kept = ct_retain(b.y);
        ct_dataloader_free(dl);
        tu_assert_values(kept, CT_SHAPE(10), (double[]){10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 0, 0);
        ct_release(kept);
    }
    /* Freed before the first batch, and freed at once. */
    ct_dataloader *dl = ct_dataloader_new(ds, .num_workers = 2);
    ct_dataloader_free(dl);
    ct_dataset_free(ds);
}

static int warnings;
static void count_warnings(ct_log_level level, const char *message, void *user) {
    (void)user;
    if (level == CT_LOG_WARN && strstr(message, "pin_memory")) warnings++;
}

static void pin_memory_without_cuda(void **state) {
    (void)state;
    if (ct_cuda_is_available()) skip();
    ct_dataset *ds = toy_new(8, 2);
    ct_log_set_handler(count_warnings, NULL);
    ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 4, .pin_memory = true, .num_workers = 1);
    ct_log_set_handler(NULL, NULL);
    assert_int_equal(warnings, 1);
    assert_int_equal(run_epochs(dl, 2, NULL, NULL, 2), 16);
    ct_dataloader_free(dl);
    ct_dataset_free(ds);
}

/* Thousands of batches over many epochs keep the resident size flat: the loader's batches are
 * released on the next call, the workers' scopes close per batch. */
static void memory_stays_flat(void **state) {
    (void)state;
    ct_dataset *ds = toy_new(2000, 784);
    for (int persistent = 0; persistent < 2; persistent++) {
        ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 32, .shuffle = true, .num_workers = 2,
                                              .persistent_workers = persistent);
        int64_t before = 0;
        for (int e = 0; e < 30; e++) {
            if (e == 5) before = tu_rss_bytes();
            ct_batch b;
            while (ct_dataloader_next(dl, &b)) CT_SCOPE { ct_sum(b.x); }
            assert_true(ct_ok());
        }
        int64_t grown = tu_rss_bytes() - before, slack = 4 << 20;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        slack += 64 << 20; /* ASan's quarantine holds freed blocks on purpose; TSan keeps shadow state */
#endif
        if (RUNNING_ON_VALGRIND) slack += 32 << 20; /* so does valgrind's (--freelist-vol, 20 MB) */
        if (grown > slack) fail_msg("RSS grew by %lld bytes over 25 epochs", (long long)grown);
        ct_dataloader_free(dl);
    }
    ct_dataset_free(ds);
}

/* ---- Fashion-MNIST: the test split as in-memory tensors, one sample a view of a row ----------- */

typedef struct mnist_rows {
    ct_tensor *images, *labels;
} mnist_rows;

static int64_t rows_len(void *state) { return ct_size(((mnist_rows *)state)->images, 0); }

static bool rows_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    mnist_rows *m = state;
    return ct_sample_add(out, "image", ct_select(m->images, 0, i)) && ct_sample_add(out, "label", ct_select(m->labels, 0, i));
}

static void rows_destroy(void *state) {
    mnist_rows *m = state;
    ct_release(m->images), ct_release(m->labels);
    free(m);
}

static const ct_dataset_vtable rows_vtable = {"FashionRows", rows_len, rows_get, rows_destroy};

static void fashion_mnist(void **state) {
    (void)state;
    ct_tensor *images, *labels;
    if (access(FASHION_DIR, R_OK) != 0 || !ct_mnist_load(FASHION_DIR, CT_SPLIT_TEST, &images, &labels)) {
        ct_clear_error();
        skip();
    }
    mnist_rows *m = malloc(sizeof *m);
    *m = (mnist_rows){ct_retain(images), ct_retain(labels)};
    ct_dataset *ds = ct_dataset_new(&rows_vtable, m);
    double sums[2][2];
    for (int w = 0; w < 2; w++) {
        ct_manual_seed(3);
        ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = 64, .shuffle = true, .num_workers = 2 * w);
        assert_int_equal(ct_dataloader_len(dl), 157);
        ct_batch b;
        double pixel_sum = 0, weighted = 0;
        int64_t k = 0, seen = 0;
        while (ct_dataloader_next(dl, &b)) CT_SCOPE {
            assert_int_equal(ct_ndim(b.x), 4);
            assert_int_equal(ct_size(b.x, 1), 1);
            pixel_sum += ct_item(ct_sum(b.x));
            weighted += (double)(++k) * ct_item(ct_sum(b.y)); /* order-sensitive */
            seen += ct_size(b.x, 0);
        }
        assert_int_equal(seen, 10000);
        sums[w][0] = pixel_sum, sums[w][1] = weighted;
        ct_dataloader_free(dl);
    }
    /* Every image once (the pixel total), in the same order for 0 and 2 workers. */
    assert_true(fabs(sums[0][0] - ct_item(ct_sum(ct_to_dtype(images, CT_F64)))) < 1e-5 * sums[0][0]);
    assert_true(sums[0][0] == sums[1][0] && sums[0][1] == sums[1][1]);
    ct_dataset_free(ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_for_any_workers),
        cmocka_unit_test(every_index_once),
        cmocka_unit_test(collate),
        cmocka_unit_test(custom_collate_and_samplers),
        cmocka_unit_test(worker_errors),
        cmocka_unit_test(timeout),
        cmocka_unit_test(stop_mid_epoch),
        cmocka_unit_test(pin_memory_without_cuda),
        cmocka_unit_test(memory_stays_flat),
        cmocka_unit_test(fashion_mnist),
    };
    return TU_RUN("dataloader", tests);
}
