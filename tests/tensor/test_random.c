/* Randomness: Philox known answers, reproducibility (seed, state replay, thread count),
 * statistics of every distribution from 1e5..1e6 samples (5-sigma bounds), and error paths.
 * Statistics are computed here from tu_values, never with ctorch reductions. */
#include "../common/testutil.h"
#include "../../tensor/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct moments {
    double mean, var, min, max;
} moments;

static moments moments_of(const ct_tensor *t) {
    int64_t n = ct_numel(t);
    const double *v = tu_values(t);
    moments m = {0, 0, INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++) {
        m.mean += v[i];
        if (v[i] < m.min) m.min = v[i];
        if (v[i] > m.max) m.max = v[i];
    }
    m.mean /= (double)n;
    for (int64_t i = 0; i < n; i++) m.var += (v[i] - m.mean) * (v[i] - m.mean);
    m.var /= (double)(n - 1);
    return m;
}

/* |mean - want_mean| and |var - want_var| within 5 standard errors (var's needs the 4th moment). */
static void assert_moments(const ct_tensor *t, double want_mean, double want_var, double fourth_central) {
    double n = (double)ct_numel(t);
    moments m = moments_of(t);
    double se_mean = sqrt(want_var / n), se_var = sqrt((fourth_central - want_var * want_var) / n);
    if (fabs(m.mean - want_mean) > 5 * se_mean || fabs(m.var - want_var) > 5 * se_var) {
        print_error("mean %.6f (want %.6f +- %.2g), var %.6f (want %.6f +- %.2g)\n", m.mean, want_mean, 5 * se_mean,
                    m.var, want_var, 5 * se_var);
        fail();
    }
}

static bool same_values(const ct_tensor *a, const ct_tensor *b) {
    if (ct_numel(a) != ct_numel(b)) return false;
    return memcmp(tu_values(a), tu_values(b), (size_t)ct_numel(a) * sizeof(double)) == 0;
}

/* Runs first: the generator starts from PyTorch's default seed. */
static void default_seed(void **state) {
    (void)state;
    assert_true(ct_initial_seed() == 67280421310721ull);
    ct_rng_state s = ct_get_rng_state();
    assert_true(s.seed == 67280421310721ull && s.offset == 0);
}

static void philox_known_answers(void **state) {
    (void)state;
    /* Random123's kat_vectors for philox4x32_10. */
    ct_philox4 r = ct_philox4x32_10((uint32_t[]){0, 0, 0, 0}, (uint32_t[]){0, 0});
    assert_int_equal(r.v[0], 0x6627e8d5);
    assert_int_equal(r.v[1], 0xe169c58d);
    assert_int_equal(r.v[2], 0xbc57ac4c);
    assert_int_equal(r.v[3], 0x9b00dbd8);
    r = ct_philox4x32_10((uint32_t[]){~0u, ~0u, ~0u, ~0u}, (uint32_t[]){~0u, ~0u});
    assert_int_equal(r.v[0], 0x408f276d);
    assert_int_equal(r.v[3], 0x6d5451fd);
    r = ct_philox4x32_10((uint32_t[]){0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                         (uint32_t[]){0xa4093822, 0x299f31d0});
    assert_int_equal(r.v[0], 0xd16cfe09);
    assert_int_equal(r.v[1], 0x94fdcceb);
    assert_int_equal(r.v[2], 0x5001e420);
    assert_int_equal(r.v[3], 0x24126ea1);
    /* The documented mapping: element i of the first op after seeding is lane i%4 of block i/4. */
    ct_manual_seed(0x123456789abcdefull);
    ct_tensor *u = ct_rand(CT_SHAPE(6));
    const double *v = tu_values(u);
    for (int i = 0; i < 6; i++) {
        ct_philox4 w = ct_philox_block(0x123456789abcdefull, (uint64_t)i / 4, 0, 0);
        assert_true(v[i] == (double)ct_philox_u01f(w.v[i % 4]));
    }
}

static void seeding_and_state(void **state) {
    (void)state;
    ct_manual_seed(42);
    assert_true(ct_initial_seed() == 42);
    ct_tensor *a = ct_rand(CT_SHAPE(1000)), *b = ct_randn(CT_SHAPE(7, 3), .dtype = CT_F64);
    ct_rng_state s = ct_get_rng_state();
    assert_true(s.seed == 42 && s.offset == 250 + 6); /* ceil(numel / 4) blocks per op */
    ct_manual_seed(42);
    assert_true(same_values(a, ct_rand(CT_SHAPE(1000))));
    assert_true(same_values(b, ct_randn(CT_SHAPE(7, 3), .dtype = CT_F64)));
    /* get/set state replays exactly, across ops and dtypes */
    ct_rng_state mid = ct_get_rng_state();
    ct_tensor *c = ct_randint(0, 1000, CT_SHAPE(33)), *d = ct_normal(1, 2, CT_SHAPE(5), .dtype = CT_F16);
    ct_tensor *e = ct_poisson(ct_full(CT_SHAPE(9), 30));
    ct_set_rng_state(mid);
    assert_true(same_values(c, ct_randint(0, 1000, CT_SHAPE(33))));
    assert_true(same_values(d, ct_normal(1, 2, CT_SHAPE(5), .dtype = CT_F16)));
    assert_true(same_values(e, ct_poisson(ct_full(CT_SHAPE(9), 30))));
    /* different seeds, and consecutive calls, differ */
    ct_manual_seed(43);
    assert_false(same_values(a, ct_rand(CT_SHAPE(1000))));
    assert_false(same_values(ct_rand(CT_SHAPE(8)), ct_rand(CT_SHAPE(8))));
    uint64_t s1 = ct_seed(), s2 = ct_seed();
    assert_true(s1 != s2);
    assert_true(ct_initial_seed() == s2);
    ct_manual_seed(42);
}

static ct_tensor *draw_all(void) {
    ct_manual_seed(7);
    int64_t n = 200003; /* above the grain size, not a multiple of 4 */
    ct_tensor *parts[] = {
        ct_rand(CT_SHAPE(n)),
        ct_rand(CT_SHAPE(n), .dtype = CT_F64),
        ct_randn(CT_SHAPE(n)),
        ct_randn(CT_SHAPE(n), .dtype = CT_BF16),
        ct_to_dtype(ct_randint(-5, 1000000, CT_SHAPE(n)), CT_F64),
        ct_bernoulli(ct_full(CT_SHAPE(n), 0.25)),
        ct_poisson(ct_full(CT_SHAPE(n), 12)),
        ct_to_dtype(ct_multinomial(ct_ones(CT_SHAPE(4, 20)), 20000, true), CT_F64),
        ct_to_dtype(ct_multinomial(ct_ones(CT_SHAPE(2000, 20)), 20, false), CT_F64),
    };
    int64_t total = 0;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) total += ct_numel(parts[k]);
    ct_tensor *out = ct_empty(CT_SHAPE(total), .dtype = CT_F64);
    double *dst = ct_data_ptr(out);
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        memcpy(dst, tu_values(parts[k]), (size_t)ct_numel(parts[k]) * sizeof(double));
        dst += ct_numel(parts[k]);
    }
    return out;
}

static void independent_of_thread_count(void **state) {
    (void)state;
    int saved = ct_get_num_threads();
    ct_set_num_threads(1);
    ct_tensor *one = draw_all();
    ct_set_num_threads(2);
    ct_tensor *two = draw_all();
    ct_set_num_threads(saved);
    assert_true(same_values(one, two));
}

static void uniform_and_normal_statistics(void **state) {
    (void)state;
    ct_manual_seed(1);
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_F16, CT_BF16};
    for (size_t k = 0; k < 4; k++) {
        ct_tensor *u = ct_rand(CT_SHAPE(1000, 300), .dtype = dtypes[k]);
        assert_int_equal(ct_dtype_of(u), dtypes[k]);
        moments m = moments_of(u);
        assert_true(m.min >= 0 && m.max < 1);
        /* 16-bit floats quantize U[0, 1) to 2^-11 / 2^-8 steps: mean shifts by half a step */
        double step = dtypes[k] == CT_F16 ? 0x1p-11 : dtypes[k] == CT_BF16 ? 0x1p-8 : 0;
        assert_moments(u, 0.5 - step / 2, 1.0 / 12 - step * step / 12, 1.0 / 80);
        ct_tensor *z = ct_randn(CT_SHAPE(300000), .dtype = dtypes[k]);
        assert_int_equal(ct_dtype_of(z), dtypes[k]);
        if (dtypes[k] != CT_BF16) assert_moments(z, 0, 1, 3); /* bf16's rounding inflates the variance */
    }
    assert_moments(ct_normal(3, 2, CT_SHAPE(300000), .dtype = CT_F64), 3, 4, 3 * 16);
    ct_tensor *zero_std = ct_normal(-1.5, 0, CT_SHAPE(10));
    moments m0 = moments_of(zero_std);
    assert_true(m0.min == -1.5 && m0.max == -1.5);
    assert_int_equal(ct_get_default_dtype(), ct_dtype_of(ct_rand(CT_SHAPE(2))));
    assert_int_equal(ct_numel(ct_rand(CT_SHAPE(0, 5))), 0);
    assert_int_equal(ct_ndim(ct_randn(CT_SHAPE())), 0);
}

static void in_place_fills_any_layout(void **state) {
    (void)state;
    uint64_t seed = 5;
    for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++) {
        ct_tensor *t = tu_random(&seed, CT_SHAPE(50, 61), CT_F32, (tu_layout)layout, -1, 1);
        ct_rng_state s = ct_get_rng_state();
        assert_ptr_equal(ct_uniform_(t, -2, 3), t);
        ct_tensor *got_u = ct_clone(t);
        assert_ptr_equal(ct_normal_(t, 10, 0.5), t);
        ct_tensor *got_n = ct_clone(t);
        /* element i in logical order draws the same numbers as a fresh contiguous tensor */
        ct_set_rng_state(s);
        ct_tensor *ref = ct_empty(CT_SHAPE(50, 61));
        assert_true(same_values(got_u, ct_uniform_(ref, -2, 3)));
        assert_true(same_values(got_n, ct_normal_(ref, 10, 0.5)));
        moments m = moments_of(got_u);
        assert_true(m.min >= -2 && m.max < 3);
    }
    /* the storage around a stepped view keeps its values */
    ct_tensor *base = ct_zeros(CT_SHAPE(4, 6));
    ct_uniform_(ct_slice(base, 1, 1, 6, 2), 1, 2);
    const double *v = tu_values(base);
    for (int i = 0; i < 24; i++) assert_true(i % 2 == 0 ? v[i] == 0 : v[i] >= 1 && v[i] < 2);
    /* rand_like / randn_like keep the input's dtype and shape */
    ct_tensor *l = ct_rand_like(ct_zeros(CT_SHAPE(3, 2), .dtype = CT_F64));
    assert_int_equal(ct_dtype_of(l), CT_F64);
    assert_int_equal(ct_numel(l), 6);
    assert_int_equal(ct_dtype_of(ct_randn_like(ct_zeros(CT_SHAPE(2)), .dtype = CT_F16)), CT_F16);
}

static void randint_and_randperm(void **state) {
    (void)state;
    ct_manual_seed(2);
    ct_tensor *r = ct_randint(-3, 5, CT_SHAPE(100, 100));
    assert_int_equal(ct_dtype_of(r), CT_I64);
    const double *v = tu_values(r);
    int hits[8] = {0};
    for (int i = 0; i < 10000; i++) {
        assert_true(v[i] >= -3 && v[i] < 5 && v[i] == floor(v[i]));
        hits[(int)v[i] + 3]++;
    }
    for (int k = 0; k < 8; k++) assert_true(abs(hits[k] - 1250) < 5 * 33); /* binomial sd ~ 33 */
    assert_moments(ct_randint(0, 1000, CT_SHAPE(200000), .dtype = CT_F64), 499.5, (1000.0 * 1000 - 1) / 12,
                   (pow(1000, 4) - 1) / 80); /* 4th moment of the discrete uniform, to leading order */
    /* a range wider than 32 bits, the full int64 range, and other dtypes */
    ct_tensor *wide = ct_randint(-(1ll << 40), 1ll << 40, CT_SHAPE(1000));
    moments mw = moments_of(wide);
    assert_true(mw.min >= -0x1p40 && mw.max < 0x1p40 && mw.max - mw.min > 0x1p40);
    assert_non_null(ct_randint(INT64_MIN, INT64_MAX, CT_SHAPE(10)));
    ct_tensor *r32 = ct_randint(10, 12, CT_SHAPE(100), .dtype = CT_I32);
    assert_int_equal(ct_dtype_of(r32), CT_I32);
    moments m32 = moments_of(r32);
    assert_true(m32.min == 10 && m32.max == 11);
    /* randperm: a permutation */
    for (int64_t n = 0; n < 40; n += 13) {
        ct_tensor *p = ct_randperm(n);
        assert_int_equal(ct_dtype_of(p), CT_I64);
        assert_int_equal(ct_numel(p), n);
    }
    int64_t n = 100000;
    ct_tensor *p = ct_randperm(n);
    const double *pv = tu_values(p);
    char *seen = calloc((size_t)n, 1);
    int64_t fixed = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(pv[i] >= 0 && pv[i] < n && !seen[(int64_t)pv[i]]);
        seen[(int64_t)pv[i]] = 1;
        fixed += pv[i] == i;
    }
    free(seen);
    assert_true(fixed < 10); /* fixed points of a random permutation ~ Poisson(1) */
    ct_tensor *pf = ct_randperm(5, .dtype = CT_F32);
    assert_int_equal(ct_dtype_of(pf), CT_F32);
    double sum = 0;
    for (int i = 0; i < 5; i++) sum += tu_values(pf)[i];
    assert_true(sum == 10);
}

static void bernoulli_and_poisson(void **state) {
    (void)state;
    ct_manual_seed(3);
    ct_tensor *b = ct_bernoulli(ct_full(CT_SHAPE(500000), 0.3, .dtype = CT_F64));
    assert_int_equal(ct_dtype_of(b), CT_F64);
    moments mb = moments_of(b);
    assert_true(mb.min == 0 && mb.max == 1);
    assert_moments(b, 0.3, 0.21, 0.3 * 0.7 * (1 - 3 * 0.3 * 0.7));
    /* p = 0 and 1 are certain, in any layout and dtype */
    uint64_t seed = 9;
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) {
        ct_tensor *p = tu_random(&seed, CT_SHAPE(30, 17), CT_F16, (tu_layout)layout, 0, 1.999);
        const double *pv = tu_values(p);
        double *want = malloc(30 * 17 * sizeof *want);
        for (int i = 0; i < 30 * 17; i++) want[i] = pv[i] >= 1 ? 1 : 0;
        ct_tensor *p01 = ct_from_data(want, CT_SHAPE(30, 17), CT_F64);
        tu_assert_values(ct_bernoulli(p01), CT_SHAPE(30, 17), want, 0, 0);
        ct_tensor *bh = ct_bernoulli(ct_to_dtype(p01, CT_F16));
        assert_int_equal(ct_dtype_of(bh), CT_F16);
        tu_assert_values(bh, CT_SHAPE(30, 17), want, 0, 0);
        free(want);
    }
    /* Poisson: Knuth's method below rate 10, PTRS above; rate 0 gives 0 */
    const double rates[] = {0.5, 3, 9.9, 10, 35, 1000};
    for (size_t k = 0; k < sizeof rates / sizeof *rates; k++) {
        double lam = rates[k];
        ct_tensor *x = ct_poisson(ct_full(CT_SHAPE(200000), lam));
        assert_int_equal(ct_dtype_of(x), CT_F32);
        moments m = moments_of(x);
        assert_true(m.min >= 0);
        assert_moments(x, lam, lam, lam * (1 + 3 * lam));
        const double *xv = tu_values(x);
        for (int i = 0; i < 1000; i++) assert_true(xv[i] == floor(xv[i]));
    }
    moments m0 = moments_of(ct_poisson(ct_zeros(CT_SHAPE(100), .dtype = CT_F64)));
    assert_true(m0.min == 0 && m0.max == 0);
    assert_int_equal(ct_numel(ct_poisson(ct_zeros(CT_SHAPE(0)))), 0);
    assert_int_equal(ct_numel(ct_bernoulli(ct_zeros(CT_SHAPE(3, 0)))), 0);
}

static void multinomial_sampling(void **state) {
    (void)state;
    ct_manual_seed(4);
    /* with replacement: frequencies follow the weights (0 never drawn); rows independent */
    ct_tensor *w = ct_from_data((float[]){1, 2, 0, 3, 4, 0, 0, 0, 5, 5}, CT_SHAPE(2, 5), CT_F32);
    int64_t k = 100000;
    ct_tensor *s = ct_multinomial(w, k, true);
    assert_int_equal(ct_dtype_of(s), CT_I64);
    assert_int_equal(ct_ndim(s), 2);
    const double *v = tu_values(s);
    const double *wv = tu_values(w);
    for (int r = 0; r < 2; r++) {
        int64_t counts[5] = {0};
        double total = 0;
        for (int c = 0; c < 5; c++) total += wv[r * 5 + c];
        for (int64_t i = 0; i < k; i++) counts[(int)v[r * k + i]]++;
        for (int c = 0; c < 5; c++) {
            double p = wv[r * 5 + c] / total, sd = sqrt(k * p * (1 - p));
            assert_true(fabs((double)counts[c] - k * p) <= 5 * sd + (p == 0 ? 0 : 1));
        }
    }
    /* 1-D input gives 1-D output */
    ct_tensor *one = ct_multinomial(ct_from_data((double[]){0, 1}, CT_SHAPE(2), CT_F64), 3, true);
    tu_assert_values(one, CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
    /* without replacement: distinct indices; zero weights come last; first pick follows weights */
    ct_tensor *d = ct_multinomial(ct_from_data((float[]){0, 1, 2, 3, 4, 0}, CT_SHAPE(6), CT_F32), 6, false);
    const double *dv = tu_values(d);
    int seen[6] = {0};
    for (int i = 0; i < 6; i++) seen[(int)dv[i]]++;
    for (int i = 0; i < 6; i++) assert_int_equal(seen[i], 1);
    assert_true((dv[4] == 0 && dv[5] == 5) || (dv[4] == 5 && dv[5] == 0));
    int64_t rows = 40000;
    ct_tensor *row = ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(1, 4), CT_F32);
    ct_tensor *many = ct_multinomial(ct_expand(row, CT_SHAPE(rows, 4)), 2, false); /* stride-0 rows */
    const double *mv = tu_values(many);
    int64_t first[4] = {0};
    for (int64_t r = 0; r < rows; r++) {
        assert_true(mv[2 * r] != mv[2 * r + 1]);
        first[(int)mv[2 * r]]++;
    }
    for (int c = 0; c < 4; c++) {
        double p = (c + 1) / 10.0, sd = sqrt(rows * p * (1 - p));
        assert_true(fabs((double)first[c] - rows * p) <= 5 * sd);
    }
}

static void error_paths(void **state) {
    (void)state;
    assert_null(ct_rand(CT_SHAPE(3), .dtype = CT_I64));
    tu_assert_error(CT_ERR_DTYPE, "\"check_uniform_bounds\" not implemented for 'Long'");
    assert_null(ct_randn(CT_SHAPE(3), .dtype = CT_I32));
    tu_assert_error(CT_ERR_DTYPE, "\"normal_kernel_cpu\" not implemented for 'Int'");
    assert_null(ct_rand_like(ct_zeros(CT_SHAPE(2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_randn_like(ct_zeros(CT_SHAPE(2), .dtype = CT_U8)));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Byte'");
    assert_null(ct_rand(CT_SHAPE(2, -1)));
    tu_assert_error(CT_ERR_SHAPE, "negative dimension");
    assert_null(ct_randint(5, 5, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_ARG, "random_ expects 'from' to be less than 'to', but got from=5 >= to=5");
    assert_null(ct_randperm(-1));
    tu_assert_error(CT_ERR_SHAPE, "negative dimension -1");
    assert_null(ct_randperm(3, .dtype = CT_BOOL));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Bool'");
    assert_null(ct_normal(0, -1, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_ARG, "normal expects std >= 0.0, but found std -1");
    assert_null(ct_normal_(ct_zeros(CT_SHAPE(3)), 0, -1));
    tu_assert_error(CT_ERR_ARG, "normal expects std >= 0.0, but found std -1");
    assert_null(ct_normal_(ct_zeros(CT_SHAPE(3), .dtype = CT_I64), 0, 1));
    tu_assert_error(CT_ERR_DTYPE, "\"normal_kernel_cpu\" not implemented for 'Long'");
    assert_null(ct_uniform_(ct_zeros(CT_SHAPE(3)), 2, 1));
    tu_assert_error(CT_ERR_ARG, "uniform_ expects to return a [from, to) range, but found from=2 > to=1");
    assert_null(ct_uniform_(ct_zeros(CT_SHAPE(3), .dtype = CT_I32), 0, 1));
    tu_assert_error(CT_ERR_DTYPE, "\"check_uniform_bounds\" not implemented for 'Int'");
    assert_null(ct_bernoulli(ct_full(CT_SHAPE(2), 1.5)));
    tu_assert_error(CT_ERR_ARG, "0 <= p <= 1, but got p=1.5");
    assert_null(ct_bernoulli(ct_full(CT_SHAPE(2), NAN)));
    tu_assert_error(CT_ERR_ARG, "0 <= p <= 1");
    assert_null(ct_bernoulli(ct_ones(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_DTYPE, "\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'");
    assert_null(ct_poisson(ct_full(CT_SHAPE(2), -1)));
    tu_assert_error(CT_ERR_ARG, "invalid Poisson rate, expected rate to be non-negative");
    assert_null(ct_poisson(ct_ones(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_DTYPE, "\"poisson_cpu\" not implemented for 'Long'");
    ct_tensor *w = ct_ones(CT_SHAPE(2));
    assert_null(ct_multinomial(w, 3, false));
    tu_assert_error(CT_ERR_ARG, "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
    assert_null(ct_multinomial(w, 0, true));
    tu_assert_error(CT_ERR_ARG, "cannot sample n_sample <= 0 samples");
    assert_null(ct_multinomial(ct_zeros(CT_SHAPE(2, 2)), 1, true));
    tu_assert_error(CT_ERR_ARG, "invalid multinomial distribution (sum of probabilities <= 0)");
    assert_null(ct_multinomial(ct_from_data((float[]){-1, 2}, CT_SHAPE(2), CT_F32), 1, true));
    tu_assert_error(CT_ERR_ARG, "probability tensor contains either `inf`, `nan` or element < 0");
    assert_null(ct_multinomial(ct_from_data((float[]){INFINITY, 2}, CT_SHAPE(2), CT_F32), 1, true));
    tu_assert_error(CT_ERR_ARG, "probability tensor contains either `inf`, `nan` or element < 0");
    assert_null(ct_multinomial(ct_ones(CT_SHAPE(2, 2, 2)), 1, true));
    tu_assert_error(CT_ERR_SHAPE, "prob_dist must be 1 or 2 dim");
    assert_null(ct_multinomial(ct_ones(CT_SHAPE(2), .dtype = CT_I64), 1, true));
    tu_assert_error(CT_ERR_DTYPE, "multinomial only supports floating-point dtypes for input, got: Long");
    /* NULL inputs keep the first error */
    assert_null(ct_bernoulli(NULL));
    tu_assert_error(CT_ERR_NULL, "bernoulli");
    assert_null(ct_poisson(NULL));
    tu_assert_error(CT_ERR_NULL, "poisson");
    assert_null(ct_multinomial(NULL, 1, true));
    tu_assert_error(CT_ERR_NULL, "multinomial");
    assert_null(ct_uniform_(NULL, 0, 1));
    tu_assert_error(CT_ERR_NULL, "uniform_");
    assert_null(ct_normal_(NULL, 0, 1));
    tu_assert_error(CT_ERR_NULL, "normal_");
    assert_null(ct_rand_like(NULL));
    tu_assert_error(CT_ERR_NULL, "rand_like");
    assert_null(ct_randn_like(NULL));
    tu_assert_error(CT_ERR_NULL, "randn_like");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_seed),
        cmocka_unit_test(philox_known_answers),
        cmocka_unit_test(seeding_and_state),
        cmocka_unit_test(independent_of_thread_count),
        cmocka_unit_test(uniform_and_normal_statistics),
        cmocka_unit_test(in_place_fills_any_layout),
        cmocka_unit_test(randint_and_randperm),
        cmocka_unit_test(bernoulli_and_poisson),
        cmocka_unit_test(multinomial_sampling),
        cmocka_unit_test(error_paths),
    };
    return TU_RUN("random", tests);
}
