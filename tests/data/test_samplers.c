/* Samplers: sequential, random (seeded and from the default generator, with and without
 * replacement), weighted, subset, batch and distributed (PyTorch's padding and striding, checked
 * against indices torch printed), the private generator they shuffle with, and their errors. */
#include "../common/testutil.h"

#include <ctorch/data.h>

#include <stdlib.h>
#include <string.h>

/* The sampler's next epoch as a malloc'd array; *n receives its length. */
static int64_t *epoch_of(ct_sampler *s, int64_t *n) {
    int64_t *out = NULL;
    *n = 0;
    CT_SCOPE {
        ct_tensor *t = ct_sampler_indices(s);
        assert_non_null(t);
        *n = ct_numel(t);
        out = malloc((size_t)(*n + 1) * sizeof *out);
        memcpy(out, ct_data_ptr(t), (size_t)*n * sizeof *out);
    }
    return out;
}

/* Asserts v[0..n) is a permutation of 0..n-1. */
static void assert_permutation(const int64_t *v, int64_t n) {
    char *seen = calloc((size_t)n + 1, 1);
    for (int64_t i = 0; i < n; i++) {
        assert_true(v[i] >= 0 && v[i] < n);
        assert_false(seen[v[i]]);
        seen[v[i]] = 1;
    }
    free(seen);
}

static void sequential(void **state) {
    (void)state;
    ct_sampler *s = ct_sequential_sampler(5);
    assert_int_equal(ct_sampler_len(s), 5);
    assert_int_equal(ct_sampler_batch_size(s), 0);
    assert_string_equal(ct_sampler_name(s), "SequentialSampler");
    for (int e = 0; e < 2; e++) {
        int64_t n, *v = epoch_of(s, &n);
        assert_int_equal(n, 5);
        for (int64_t i = 0; i < n; i++) assert_int_equal(v[i], i);
        free(v);
    }
    assert_false(ct_sampler_set_epoch(s, 1));
    tu_assert_error(CT_ERR_STATE, "SequentialSampler has no set_epoch");
    ct_sampler_free(s);
    assert_null(ct_sequential_sampler(-1));
    tu_assert_error(CT_ERR_ARG, "non-negative, but got -1");
}

/* The thread generator: draws from the given state, advances it, leaves the default alone. */
static void thread_generator(void **state) {
    (void)state;
    ct_manual_seed(7);
    ct_rng_state before = ct_get_rng_state();
    ct_rng_state g = {123, 0};
    ct_rng_state *previous = ct_set_thread_generator(&g);
    assert_null(previous);
    int64_t a[10], b[10];
    CT_SCOPE memcpy(a, ct_data_ptr(ct_randperm(10)), sizeof a);
    assert_true(g.offset > 0);
    ct_set_thread_generator(previous);
    ct_rng_state after = ct_get_rng_state();
    assert_true(before.seed == after.seed && before.offset == after.offset);
    /* The same permutation as the default generator seeded with 123 gives. */
    ct_manual_seed(123);
    CT_SCOPE memcpy(b, ct_data_ptr(ct_randperm(10)), sizeof b);
    assert_memory_equal(a, b, sizeof a);
}

static void random_sampler(void **state) {
    (void)state;
    /* Seeded: reproducible across sampler instances, a new permutation each epoch, and the default
     * generator untouched. */
    ct_manual_seed(1);
    ct_rng_state before = ct_get_rng_state();
    ct_sampler *s1 = ct_random_sampler(50, .seed = 99), *s2 = ct_random_sampler(50, .seed = 99);
    int64_t n, *a1 = epoch_of(s1, &n), *a2 = epoch_of(s1, &n), *b1 = epoch_of(s2, &n), *b2 = epoch_of(s2, &n);
    assert_int_equal(n, 50);
    assert_permutation(a1, n);
    assert_permutation(a2, n);
    assert_memory_equal(a1, b1, 50 * sizeof *a1);
    assert_memory_equal(a2, b2, 50 * sizeof *a2);
    assert_true(memcmp(a1, a2, 50 * sizeof *a1) != 0);
    ct_rng_state after = ct_get_rng_state();
    assert_true(before.offset == after.offset);
    free(a1), free(a2), free(b1), free(b2);
    ct_sampler_free(s1), ct_sampler_free(s2);

    /* Unseeded: a seed per epoch from the default generator, so ct_manual_seed replays it. */
    ct_sampler *u = ct_random_sampler(30);
    ct_manual_seed(5);
    int64_t *u1 = epoch_of(u, &n), *u2 = epoch_of(u, &n);
    ct_manual_seed(5);
    int64_t *v1 = epoch_of(u, &n);
    assert_permutation(u1, 30);
    assert_memory_equal(u1, v1, 30 * sizeof *u1);
    assert_true(memcmp(u1, u2, 30 * sizeof *u1) != 0);
    assert_true(ct_get_rng_state().offset > 0);
    free(u1), free(u2), free(v1);
    ct_sampler_free(u);

    /* More samples than items without replacement: whole permutations, then part of one. */
    ct_sampler *m = ct_random_sampler(4, .num_samples = 10, .seed = 3);
    assert_int_equal(ct_sampler_len(m), 10);
    int64_t *mv = epoch_of(m, &n);
    assert_permutation(mv, 4);
    assert_permutation(mv + 4, 4);
    int counts[4] = {0};
    for (int i = 0; i < 10; i++) counts[mv[i]]++;
    for (int i = 0; i < 4; i++) assert_true(counts[i] == 2 || counts[i] == 3);
    free(mv);
    ct_sampler_free(m);

    /* With replacement: num_samples values in range, repeats allowed (and, for 200 draws of 5, seen). */
    ct_sampler *r = ct_random_sampler(5, .replacement = true, .num_samples = 200, .seed = 11);
    int64_t *rv = epoch_of(r, &n);
    assert_int_equal(n, 200);
    int hist[5] = {0};
    for (int i = 0; i < 200; i++) {
        assert_true(rv[i] >= 0 && rv[i] < 5);
        hist[rv[i]]++;
    }
    for (int i = 0; i < 5; i++) assert_true(hist[i] > 10);
    free(rv);
    ct_sampler_free(r);

    assert_null(ct_random_sampler(0));
    tu_assert_error(CT_ERR_ARG, "num_samples should be a positive integer value, but got num_samples=0");
    assert_null(ct_random_sampler(5, .num_samples = -2));
    tu_assert_error(CT_ERR_ARG, "num_samples=-2");
}

static void weighted_sampler(void **state) {
    (void)state;
    ct_tensor *w = ct_from_data((double[]){1, 0, 3, 0, 4}, CT_SHAPE(5), CT_F64);
    ct_sampler *s = ct_weighted_random_sampler(w, 1000, .seed = 4);
    assert_int_equal(ct_sampler_len(s), 1000);
    int64_t n, *v = epoch_of(s, &n);
    int hist[5] = {0};
    for (int i = 0; i < n; i++) hist[v[i]]++;
    assert_int_equal(hist[1], 0);
    assert_int_equal(hist[3], 0);
    /* Expected 125, 375, 500 of 1000: well within 5 standard deviations (< 80). */
    assert_true(abs(hist[0] - 125) < 60 && abs(hist[2] - 375) < 80 && abs(hist[4] - 500) < 80);
    free(v);
    ct_sampler_free(s);

    /* Without replacement: distinct indices, never a zero-weight one. */
    ct_sampler *d = ct_weighted_random_sampler(w, 3, .replacement = false, .seed = 4);
    int64_t *dv = epoch_of(d, &n);
    assert_int_equal(n, 3);
    assert_true(dv[0] != dv[1] && dv[1] != dv[2] && dv[0] != dv[2]);
    for (int i = 0; i < 3; i++) assert_true(dv[i] == 0 || dv[i] == 2 || dv[i] == 4);
    free(dv);
    ct_sampler_free(d);

    assert_null(ct_weighted_random_sampler(w, 0));
    tu_assert_error(CT_ERR_ARG, "num_samples should be a positive integer value, but got num_samples=0");
    assert_null(ct_weighted_random_sampler(ct_ones(CT_SHAPE(2, 2)), 3));
    tu_assert_error(CT_ERR_SHAPE, "weights should be a 1d sequence");
    assert_null(ct_weighted_random_sampler(ct_from_data((float[]){1, -1}, CT_SHAPE(2), CT_F32), 3));
    tu_assert_error(CT_ERR_ARG, "element < 0");
    assert_null(ct_weighted_random_sampler(w, 6, .replacement = false));
    tu_assert_error(CT_ERR_ARG, "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
}

static void subset_sampler(void **state) {
    (void)state;
    ct_tensor *idx = ct_from_data((int32_t[]){7, 3, 11, 5}, CT_SHAPE(4), CT_I32);
    ct_sampler *s = ct_subset_random_sampler(idx, .seed = 2);
    int64_t n, *v = epoch_of(s, &n);
    assert_int_equal(n, 4);
    int64_t sorted[4];
    memcpy(sorted, v, sizeof sorted);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (sorted[j] < sorted[i]) { int64_t t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t; }
    assert_memory_equal(sorted, ((int64_t[]){3, 5, 7, 11}), sizeof sorted);
    free(v);
    ct_sampler_free(s);
    assert_null(ct_subset_random_sampler(ct_ones(CT_SHAPE(3))));
    tu_assert_error(CT_ERR_ARG, "1-D integer tensor");
}

static void batch_sampler(void **state) {
    (void)state;
    ct_sampler *seq = ct_sequential_sampler(10);
    ct_sampler *b = ct_batch_sampler(seq, 3), *bd = ct_batch_sampler(seq, 3, .drop_last = true);
    ct_sampler_free(seq); /* the batch samplers hold their own references */
    assert_int_equal(ct_sampler_len(b), 4);
    assert_int_equal(ct_sampler_len(bd), 3);
    assert_int_equal(ct_sampler_batch_size(b), 3);
    int64_t n, *v = epoch_of(b, &n), *vd = epoch_of(bd, &n);
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++) assert_int_equal(vd[i], i);
    for (int i = 0; i < 10; i++) assert_int_equal(v[i], i);
    free(v), free(vd);
    assert_null(ct_batch_sampler(b, 2));
    tu_assert_error(CT_ERR_ARG, "already a BatchSampler");
    ct_sampler_free(b), ct_sampler_free(bd);
    ct_sampler *s = ct_sequential_sampler(3);
    assert_null(ct_batch_sampler(s, 0));
    tu_assert_error(CT_ERR_ARG, "batch_size should be a positive integer value, but got batch_size=0");
    ct_sampler_free(s);
}

/* Expected shards printed by torch 1.13:
 *   [list(DistributedSampler(range(n), num_replicas=R, rank=r, shuffle=False, drop_last=d))
 *    for r in range(R)]
 * for (n, R) in (10, 3), (10, 4), (2, 5) and d in (False, True); -1 ends a shard. */
static void distributed_matches_pytorch(void **state) {
    (void)state;
    static const struct {
        int64_t n, R;
        bool drop_last;
        int64_t shards[5][5];
    } cases[] = {
        {10, 3, false, {{0, 3, 6, 9, -1}, {1, 4, 7, 0, -1}, {2, 5, 8, 1, -1}}},
        {10, 3, true, {{0, 3, 6, -1}, {1, 4, 7, -1}, {2, 5, 8, -1}}},
        {10, 4, false, {{0, 4, 8, -1}, {1, 5, 9, -1}, {2, 6, 0, -1}, {3, 7, 1, -1}}},
        {10, 4, true, {{0, 4, -1}, {1, 5, -1}, {2, 6, -1}, {3, 7, -1}}},
        {2, 5, false, {{0, -1}, {1, -1}, {0, -1}, {1, -1}, {0, -1}}},
        {2, 5, true, {{-1}, {-1}, {-1}, {-1}, {-1}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int64_t r = 0; r < cases[c].R; r++) {
            ct_sampler *s = ct_distributed_sampler(cases[c].n, cases[c].R, r, .shuffle = false, .drop_last = cases[c].drop_last);
            int64_t n, *v = epoch_of(s, &n), want = 0;
            while (cases[c].shards[r][want] >= 0) want++;
            assert_int_equal(n, want);
            assert_int_equal(ct_sampler_len(s), want);
            for (int64_t i = 0; i < n; i++) assert_int_equal(v[i], cases[c].shards[r][i]);
            free(v);
            ct_sampler_free(s);
        }
}

/* Shuffled shards for world sizes 1..5: all ranks use one permutation, so the shards are disjoint
 * and, without drop_last, cover every index (the padding repeats the first ones); set_epoch
 * changes the order, the same epoch repeats it. */
static void distributed_shards(void **state) {
    (void)state;
    const int64_t sizes[] = {1, 7, 10, 23};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int64_t R = 1; R <= 5; R++)
            for (int drop = 0; drop < 2; drop++) {
                int64_t n = sizes[si];
                int *count = calloc((size_t)n, sizeof *count);
                int64_t total = 0, per = drop && n % R ? n / R : (n + R - 1) / R;
                for (int64_t r = 0; r < R; r++) {
                    ct_sampler *s = ct_distributed_sampler(n, R, r, .seed = 42, .drop_last = drop);
                    assert_true(ct_sampler_set_epoch(s, 3));
                    int64_t m, *v = epoch_of(s, &m);
                    assert_int_equal(m, per);
                    for (int64_t i = 0; i < m; i++) count[v[i]]++;
                    total += m;
                    /* Reproducible for the same epoch, different for another (when there is room). */
                    int64_t m2, *again = epoch_of(s, &m2);
                    assert_memory_equal(v, again, (size_t)m * sizeof *v);
                    free(again), free(v);
                    ct_sampler_free(s);
                }
                assert_int_equal(total, per * R);
                for (int64_t i = 0; i < n; i++) {
                    if (drop) assert_true(count[i] <= 1);
                    else assert_true(count[i] >= 1);
                }
                if (!drop) {
                    int64_t dup = 0;
                    for (int64_t i = 0; i < n; i++) dup += count[i] - 1;
                    assert_int_equal(dup, per * R - n);
                } else {
                    int64_t seen = 0;
                    for (int64_t i = 0; i < n; i++) seen += count[i];
                    assert_int_equal(seen, per * R);
                }
                free(count);
            }
    ct_sampler *a = ct_distributed_sampler(50, 2, 0), *b = ct_distributed_sampler(50, 2, 0);
    int64_t n, *a0 = epoch_of(a, &n);
    ct_sampler_set_epoch(b, 1);
    int64_t *b1 = epoch_of(b, &n);
    assert_true(memcmp(a0, b1, (size_t)n * sizeof *a0) != 0);
    free(a0), free(b1);
    ct_sampler_free(a), ct_sampler_free(b);

    assert_null(ct_distributed_sampler(10, 3, 3));
    tu_assert_error(CT_ERR_ARG, "Invalid rank 3, rank should be in the interval [0, 2]");
    assert_null(ct_distributed_sampler(10, 0, 0));
    tu_assert_error(CT_ERR_ARG, "num_replicas should be a positive integer");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequential),
        cmocka_unit_test(thread_generator),
        cmocka_unit_test(random_sampler),
        cmocka_unit_test(weighted_sampler),
        cmocka_unit_test(subset_sampler),
        cmocka_unit_test(batch_sampler),
        cmocka_unit_test(distributed_matches_pytorch),
        cmocka_unit_test(distributed_shards),
    };
    return TU_RUN("samplers", tests);
}
