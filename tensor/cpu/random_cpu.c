/* CPU random kernels. Parallel over counter blocks of 4 elements: every element computes its own
 * Philox words from (seed, offset + i/4, stream, lane i%4), so results never depend on threads. */
#include "../iter_impl.h"
#include "../philox.h"
#include "../random_impl.h"

#include <stdlib.h>

/* Writes v into element i of a contiguous buffer of dtype dt. */
static inline void put(char *base, ct_dtype dt, int64_t i, double v) {
    switch (dt) {
    case CT_F32: ((float *)base)[i] = (float)v; break;
    case CT_F64: ((double *)base)[i] = v; break;
    default: ct__store_f64(base + i * (int64_t)ct_dtype_size(dt), dt, v); break;
    }
}

static inline int threads_for(int64_t n) { return n > CT_GRAIN_SIZE ? ct__num_threads() : 1; }

/* Random mantissa bits of a U[0, 1) in each dtype, so the value is exact and below 1 (as PyTorch's
 * uniform_real_distribution does for half and bfloat16). */
static int uniform_digits(ct_dtype dt) {
    switch (dt) {
    case CT_F16: return 11;
    case CT_BF16: return 8;
    case CT_F64: return 53;
    default: return 24;
    }
}

static void uniform_cpu(ct_tensor *out, ct__philox_pos pos, double low, double high) {
    int64_t n = ct__numel(out->shape, out->ndim), nblocks = (n + 3) / 4;
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
    int digits = uniform_digits(dt);
    double span = high - low;
#pragma omp parallel for num_threads(threads_for(n)) schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
        ct_philox4 w0 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 0, 0), w1 = {{0}};
        if (digits > 32) w1 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 1, 0);
        for (int64_t i = 4 * b; i < 4 * b + 4 && i < n; i++) {
            int lane = (int)(i & 3);
            if (dt == CT_F32 && low == 0 && high == 1) {
                ((float *)base)[i] = ct_philox_u01f(w0.v[lane]);
                continue;
            }
            double u = digits > 32 ? ct_philox_u01d(w0.v[lane], w1.v[lane])
                                   : (double)(w0.v[lane] >> (32 - digits)) * ldexp(1.0, -digits);
            put(base, dt, i, low + span * u);
        }
    }
}

static void normal_cpu(ct_tensor *out, ct__philox_pos pos, double mean, double std) {
    int64_t n = ct__numel(out->shape, out->ndim), nblocks = (n + 3) / 4;
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
    bool wide = dt == CT_F64;
#pragma omp parallel for num_threads(threads_for(n)) schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
        uint64_t blk = pos.offset + (uint64_t)b;
        ct_philox4 w[4];
        for (uint32_t s = 0; s < (wide ? 4u : 2u); s++) w[s] = ct_philox_block(pos.seed, blk, s, 0);
        for (int64_t i = 4 * b; i < 4 * b + 4 && i < n; i++) {
            int l = (int)(i & 3);
            if (wide)
                ((double *)base)[i] = mean + std * ct_philox_normald(w[0].v[l], w[1].v[l], w[2].v[l], w[3].v[l]);
            else
                put(base, dt, i, mean + std * (double)ct_philox_normalf(w[0].v[l], w[1].v[l]));
        }
    }
}

static void randint_cpu(ct_tensor *out, ct__philox_pos pos, int64_t low, uint64_t range) {
    int64_t n = ct__numel(out->shape, out->ndim), nblocks = (n + 3) / 4;
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
    bool wide = range > (1ull << 32);
#pragma omp parallel for num_threads(threads_for(n)) schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
        ct_philox4 w0 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 0, 0), w1 = {{0}};
        if (wide) w1 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 1, 0);
        for (int64_t i = 4 * b; i < 4 * b + 4 && i < n; i++) {
            int l = (int)(i & 3);
            uint64_t x = wide ? ((uint64_t)w0.v[l] << 32 | w1.v[l]) : w0.v[l];
            int64_t v = (int64_t)((uint64_t)low + x % range); /* wraps correctly in two's complement */
            if (dt == CT_I64)
                ((int64_t *)base)[i] = v;
            else
                put(base, dt, i, (double)v);
        }
    }
}

static void bernoulli_cpu(ct_tensor *out, const double *p, ct__philox_pos pos) {
    int64_t n = ct__numel(out->shape, out->ndim), nblocks = (n + 3) / 4;
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
#pragma omp parallel for num_threads(threads_for(n)) schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
        ct_philox4 w0 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 0, 0);
        ct_philox4 w1 = ct_philox_block(pos.seed, pos.offset + (uint64_t)b, 1, 0);
        for (int64_t i = 4 * b; i < 4 * b + 4 && i < n; i++) {
            int l = (int)(i & 3);
            put(base, dt, i, ct_philox_u01d(w0.v[l], w1.v[l]) < p[i] ? 1.0 : 0.0);
        }
    }
}

/* The private sub-stream of one element: counters {block, j, 1 + lane} for j = 0, 1, ... (tag
 * 1 + lane never collides with the tag-0 counters other ops use), two doubles per Philox call. */
typedef struct substream {
    uint64_t seed, block;
    uint32_t tag, next;
    int pos;
    ct_philox4 buf;
} substream;

static double substream_u01(substream *s) {
    if (s->pos == 4) {
        s->buf = ct_philox_block(s->seed, s->block, s->next++, s->tag);
        s->pos = 0;
    }
    double u = ct_philox_u01d(s->buf.v[s->pos], s->buf.v[s->pos + 1]);
    s->pos += 2;
    return u;
}

/* Knuth's multiplication method: exact, O(rate) uniforms; used for rate < 10. */
static double poisson_knuth(substream *s, double rate) {
    double limit = exp(-rate), prod = 1;
    int64_t k = -1;
    do {
        k++;
        prod *= substream_u01(s);
    } while (prod > limit);
    return (double)k;
}

/* Hörmann's PTRS (transformed rejection with squeeze), "The transformed rejection method for
 * generating Poisson random variables", 1993; constants from the paper; for rate >= 10. */
static double poisson_ptrs(substream *s, double rate) {
    double slam = sqrt(rate), loglam = log(rate);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), v_r = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = substream_u01(s) - 0.5, v = substream_u01(s);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + rate + 0.43);
        if (us >= 0.07 && v <= v_r) return k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <= -rate + k * loglam - lgamma(k + 1)) return k;
    }
}

static void poisson_cpu(ct_tensor *out, const double *rates, ct__philox_pos pos) {
    int64_t n = ct__numel(out->shape, out->ndim);
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
    /* Work per element varies with the rate: dynamic chunks balance it; values stay per element. */
#pragma omp parallel for num_threads(n > 4096 ? ct__num_threads() : 1) schedule(dynamic, 1024)
    for (int64_t i = 0; i < n; i++) {
        substream s = {
            .seed = pos.seed, .block = pos.offset + (uint64_t)(i / 4), .tag = 1 + (uint32_t)(i & 3), .pos = 4};
        double r = rates[i];
        put(base, dt, i, r == 0 ? 0.0 : r < 10 ? poisson_knuth(&s, r) : poisson_ptrs(&s, r));
    }
}

/* Fisher-Yates from the top: step i swaps slot i with a slot j in [0, i], j drawn from element i's
 * 64-bit word (streams 0 and 1). Sequential by nature; one Philox block serves 4 steps. */
static void randperm_cpu(ct_tensor *out, ct__philox_pos pos) {
    int64_t n = ct__numel(out->shape, out->ndim);
    ct_dtype dt = out->dtype;
    char *base = ct__data(out);
    int64_t *perm = dt == CT_I64 ? (int64_t *)base : malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    if (!perm) { /* keep the op total: fall back to writing through put (slow, no allocation) */
        for (int64_t i = 0; i < n; i++) put(base, dt, i, (double)i);
        return;
    }
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    ct_philox4 w0 = {{0}}, w1 = {{0}};
    int64_t cached = -1;
    for (int64_t i = n - 1; i > 0; i--) {
        if (i / 4 != cached) {
            cached = i / 4;
            w0 = ct_philox_block(pos.seed, pos.offset + (uint64_t)cached, 0, 0);
            w1 = ct_philox_block(pos.seed, pos.offset + (uint64_t)cached, 1, 0);
        }
        int l = (int)(i & 3);
        uint64_t x = (uint64_t)w0.v[l] << 32 | w1.v[l];
        int64_t j = (int64_t)(x % (uint64_t)(i + 1));
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    if (dt != CT_I64) {
        for (int64_t i = 0; i < n; i++) put(base, dt, i, (double)perm[i]);
        free(perm);
    }
}

/* The uniform for flat element e of a multinomial (row * width + column). */
static double element_u01(ct__philox_pos pos, int64_t e, bool open0) {
    uint64_t blk = pos.offset + (uint64_t)(e / 4);
    int l = (int)(e & 3);
    uint32_t hi = ct_philox_block(pos.seed, blk, 0, 0).v[l], lo = ct_philox_block(pos.seed, blk, 1, 0).v[l];
    return open0 ? ct_philox_u01d_open0(hi, lo) : ct_philox_u01d(hi, lo);
}

typedef struct keyed {
    double key;
    int64_t index;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* With replacement: inverse CDF by binary search. Without: the exponential race, drawing
 * E_c ~ Exp(1) per category and taking the k smallest E_c / w_c, which is distributed as
 * sequential sampling without replacement (zero weights race at +inf and come last). */
static void multinomial_cpu(ct_tensor *out, const double *w, int64_t rows, int64_t ncat, int64_t k, bool replacement,
                            ct__philox_pos pos) {
    int64_t *res = (int64_t *)ct__data(out);
#pragma omp parallel for num_threads(rows * (replacement ? k : ncat) > CT_GRAIN_SIZE ? ct__num_threads() : 1)     \
    schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const double *wr = w + r * ncat;
        if (replacement) {
            double *cdf = malloc((size_t)ncat * sizeof *cdf);
            if (!cdf) continue;
            double acc = 0;
            for (int64_t c = 0; c < ncat; c++) cdf[c] = acc += wr[c];
            for (int64_t s = 0; s < k; s++) {
                double target = element_u01(pos, r * k + s, false) * acc;
                int64_t lo = 0, hi = ncat - 1; /* first c with cdf[c] > target */
                while (lo < hi) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (cdf[mid] > target) hi = mid;
                    else lo = mid + 1;
                }
                while (lo > 0 && wr[lo] == 0) lo--; /* rounding at the top edge: stay on a real category */
                res[r * k + s] = lo;
            }
            free(cdf);
        } else {
            keyed *keys = malloc((size_t)ncat * sizeof *keys);
            if (!keys) continue;
            for (int64_t c = 0; c < ncat; c++) {
                double e = -log(element_u01(pos, r * ncat + c, true));
                keys[c] = (keyed){wr[c] > 0 ? e / wr[c] : INFINITY, c};
            }
            qsort(keys, (size_t)ncat, sizeof *keys, keyed_cmp);
            for (int64_t s = 0; s < k; s++) res[r * k + s] = keys[s].index;
            free(keys);
        }
    }
}

const ct__random_kernels ct__cpu_random_kernels = {
    .uniform = uniform_cpu,
    .normal = normal_cpu,
    .randint = randint_cpu,
    .bernoulli = bernoulli_cpu,
    .poisson = poisson_cpu,
    .randperm = randperm_cpu,
    .multinomial = multinomial_cpu,
};
