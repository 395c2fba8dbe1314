/* CPU kernels for reductions, softmax and scans.
 *
 * Every output element reduces its inner block, walked in rows along the innermost inner dim;
 * rows are converted BLOCK elements at a time into a dense double (or int64) buffer, on which
 * simple loops run. Floats accumulate in double. For determinism the inner block is cut into
 * fixed CHUNK-element pieces whose partial results are combined in order, so the arithmetic does
 * not depend on how many threads run the (output, chunk) tasks. Dense f32 rows and columns have
 * direct paths (no buffer; sums still in double, exp in float via vec_math.h); see below. */
#include "../iter_impl.h"
#include "../reduce_impl.h"
#include "copy_cpu.h"
#include "vec_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 256
#define CHUNK 65536

/* One partial result. Fields by kind: a = sum / product / extreme / mean (var) / shift (lse);
 * b = M2 (var) / sum of exp (lse); i = integer accumulator; idx = index of the extreme; n = count. */
typedef struct acc {
    double a, b;
    int64_t i, idx, n;
} acc;

/* ---- loading and storing rows of any dtype ---- */

#define LOAD_CASE(E, T, CONV)                                                                       \
    case E:                                                                                         \
        if (stride == (int64_t)sizeof(T)) {                                                         \
            const T *restrict s = (const T *)src;                                                   \
            for (int64_t k = 0; k < n; k++) dst[k] = CONV(s[k]);                                    \
        } else {                                                                                    \
            for (int64_t k = 0; k < n; k++) dst[k] = CONV(*(const T *)(src + k * stride));          \
        }                                                                                           \
        break;
#define AS_D(x) ((double)(x))
#define AS_I(x) ((int64_t)(x))
#define HALF_I(x) ct__f64_to_i64(ct_half_to_float(x))
#define BF16_I(x) ct__f64_to_i64(ct_bf16_to_float(x))

/* A row of any dtype into dense doubles: the copy kernel's conversion loop does exactly that. */
static void load_f64(double *restrict dst, const char *src, int64_t stride, int64_t n, ct_dtype dtype) {
    char *data[2] = {(char *)dst, (char *)src};
    ct__cpu_copy_loop(CT_F64, dtype)(data, (const int64_t[]){sizeof(double), stride}, n, NULL);
}

static void load_i64(int64_t *restrict dst, const char *src, int64_t stride, int64_t n, ct_dtype dtype) {
    switch (dtype) {
        LOAD_CASE(CT_BOOL, bool, AS_I)
        LOAD_CASE(CT_U8, uint8_t, AS_I)
        LOAD_CASE(CT_I32, int32_t, AS_I)
        LOAD_CASE(CT_I64, int64_t, AS_I)
        LOAD_CASE(CT_F16, ct_half, HALF_I)
        LOAD_CASE(CT_BF16, ct_bf16, BF16_I)
        LOAD_CASE(CT_F32, float, ct__f64_to_i64)
        LOAD_CASE(CT_F64, double, ct__f64_to_i64)
    default: break;
    }
}

#define STORE_CASE(E, T, CONV)                                                                      \
    case E:                                                                                         \
        if (stride == (int64_t)sizeof(T)) {                                                         \
            T *restrict d = (T *)dst;                                                               \
            for (int64_t k = 0; k < n; k++) d[k] = CONV(src[k]);                                    \
        } else {                                                                                    \
            for (int64_t k = 0; k < n; k++) *(T *)(dst + k * stride) = CONV(src[k]);                \
        }                                                                                           \
        break;
#define TO_B(v) ((v) != 0)
#define TO_U8(v) ((uint8_t)ct__f64_to_i64(v))
#define TO_I32(v) ((int32_t)ct__f64_to_i64(v))
#define TO_HALF(v) ct_float_to_half((float)(v))
#define TO_BF16(v) ct_float_to_bf16((float)(v))
#define TO_F32(v) ((float)(v))

static void store_f64(char *dst, int64_t stride, const double *restrict src, int64_t n, ct_dtype dtype) {
    switch (dtype) {
        STORE_CASE(CT_BOOL, bool, TO_B)
        STORE_CASE(CT_U8, uint8_t, TO_U8)
        STORE_CASE(CT_I32, int32_t, TO_I32)
        STORE_CASE(CT_I64, int64_t, ct__f64_to_i64)
        STORE_CASE(CT_F16, ct_half, TO_HALF)
        STORE_CASE(CT_BF16, ct_bf16, TO_BF16)
        STORE_CASE(CT_F32, float, TO_F32)
        STORE_CASE(CT_F64, double, AS_D)
    default: break;
    }
}

/* An int64 result into any dtype: integers wrap like a C cast, as PyTorch's. */
static void store_i64_one(char *dst, ct_dtype dtype, int64_t v) {
    switch (dtype) {
    case CT_BOOL: *(bool *)dst = v != 0; break;
    case CT_U8: *(uint8_t *)dst = (uint8_t)v; break;
    case CT_I32: *(int32_t *)dst = (int32_t)v; break;
    case CT_I64: *(int64_t *)dst = v; break;
    default: ct__store_f64(dst, dtype, (double)v); break;
    }
}

/* ---- accumulators ---- */

static bool is_int_kind(const ct__red_plan *P) {
    return P->int_acc && (P->kind == CT__RED_SUM || P->kind == CT__RED_PROD || P->kind == CT__RED_MAX ||
                          P->kind == CT__RED_MIN);
}

static void acc_init(acc *A, const ct__red_plan *P) {
    memset(A, 0, sizeof *A);
    switch (P->kind) {
    case CT__RED_PROD: A->a = 1; A->i = 1; break;
    case CT__RED_NORM: A->a = P->p == -INFINITY ? INFINITY : 0; break;
    case CT__RED_ALL: A->i = 1; break;
    default: break;
    }
}

/* NaN-propagating extremes: a NaN candidate always wins, a NaN incumbent is never replaced. */
static inline double max_nan(double m, double v) { return ((v > m) | (v != v)) ? v : m; }
static inline double min_nan(double m, double v) { return ((v < m) | (v != v)) ? v : m; }

/* Adds sum exp(x - shift) = s to A's sum exp(x - A->a) = A->b. An empty part (s == 0: all -inf)
 * changes nothing; infinite or NaN sums make the shift irrelevant. */
static void lse_merge(acc *A, double shift, double s) {
    if (s == 0) return;
    if (A->b == 0) {
        A->a = shift;
        A->b = s;
    } else if (!isfinite(A->b) || !isfinite(s)) {
        A->b += s;
        A->a = 0;
    } else {
        double top = A->a > shift ? A->a : shift;
        A->b = A->b * exp(A->a - top) + s * exp(shift - top);
        A->a = top;
    }
}

static void block_f64(acc *A, const ct__red_plan *P, const double *restrict x, int64_t m, int64_t g) {
    switch (P->kind) {
    case CT__RED_SUM:
    case CT__RED_MEAN: {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t k = 0;
        for (; k + 4 <= m; k += 4) {
            s0 += x[k];
            s1 += x[k + 1];
            s2 += x[k + 2];
            s3 += x[k + 3];
        }
        for (; k < m; k++) s0 += x[k];
        A->a += (s0 + s1) + (s2 + s3);
        break;
    }
    case CT__RED_PROD: {
        double p = 1;
        for (int64_t k = 0; k < m; k++) p *= x[k];
        A->a *= p;
        break;
    }
    case CT__RED_MAX:
    case CT__RED_MIN: {
        bool is_max = P->kind == CT__RED_MAX;
        int64_t k = 0;
        if (A->n == 0) {
            A->a = x[0];
            A->idx = g;
            k = 1;
        }
        if (!P->idx_out) { /* four independent chains; extremes do not depend on the order */
            double e0 = A->a, e1 = e0, e2 = e0, e3 = e0;
            if (is_max) {
                for (; k + 4 <= m; k += 4) {
                    e0 = max_nan(e0, x[k]);
                    e1 = max_nan(e1, x[k + 1]);
                    e2 = max_nan(e2, x[k + 2]);
                    e3 = max_nan(e3, x[k + 3]);
                }
                for (; k < m; k++) e0 = max_nan(e0, x[k]);
                A->a = max_nan(max_nan(e0, e1), max_nan(e2, e3));
            } else {
                for (; k + 4 <= m; k += 4) {
                    e0 = min_nan(e0, x[k]);
                    e1 = min_nan(e1, x[k + 1]);
                    e2 = min_nan(e2, x[k + 2]);
                    e3 = min_nan(e3, x[k + 3]);
                }
                for (; k < m; k++) e0 = min_nan(e0, x[k]);
                A->a = min_nan(min_nan(e0, e1), min_nan(e2, e3));
            }
            break;
        }
        for (; k < m && A->a == A->a; k++) {
            double v = x[k];
            if ((is_max ? v > A->a : v < A->a) || v != v) {
                A->a = v;
                A->idx = g + k;
            }
        }
        break;
    }
    case CT__RED_VAR: { /* two passes over the block, then Chan et al.'s combination */
        double s = 0;
        for (int64_t k = 0; k < m; k++) s += x[k];
        double mean = s / (double)m, m2 = 0;
        for (int64_t k = 0; k < m; k++) m2 += (x[k] - mean) * (x[k] - mean);
        if (A->n == 0) {
            A->a = mean;
            A->b = m2;
        } else {
            double na = (double)A->n, nb = (double)m, n = na + nb, delta = mean - A->a;
            A->a += delta * nb / n;
            A->b += m2 + delta * delta * na * nb / n;
        }
        break;
    }
    case CT__RED_NORM: {
        double p = P->p, s = 0;
        if (p == 0) {
            for (int64_t k = 0; k < m; k++) s += x[k] != 0;
        } else if (p == 1) {
            for (int64_t k = 0; k < m; k++) s += fabs(x[k]);
        } else if (p == 2) {
            for (int64_t k = 0; k < m; k++) s += x[k] * x[k];
        } else if (p == INFINITY) {
            double e = A->a;
            for (int64_t k = 0; k < m; k++) e = max_nan(e, fabs(x[k]));
            A->a = e;
            break;
        } else if (p == -INFINITY) {
            double e = A->a;
            for (int64_t k = 0; k < m; k++) e = min_nan(e, fabs(x[k]));
            A->a = e;
            break;
        } else {
            for (int64_t k = 0; k < m; k++) s += pow(fabs(x[k]), p);
        }
        A->a += s;
        break;
    }
    case CT__RED_LSE: { /* shift by the block's max when finite (PyTorch shifts by 0 otherwise) */
        double e = -INFINITY;
        for (int64_t k = 0; k < m; k++) e = max_nan(e, x[k]);
        double shift = isfinite(e) ? e : 0, s = 0;
        for (int64_t k = 0; k < m; k++) s += exp(x[k] - shift);
        lse_merge(A, shift, s);
        break;
    }
    case CT__RED_ALL: {
        bool all = true;
        for (int64_t k = 0; k < m; k++) all &= x[k] != 0;
        A->i &= all;
        break;
    }
    case CT__RED_ANY: {
        bool any = false;
        for (int64_t k = 0; k < m; k++) any |= x[k] != 0;
        A->i |= any;
        break;
    }
    default: break;
    }
    A->n += m;
}

static void block_i64(acc *A, const ct__red_plan *P, const int64_t *restrict x, int64_t m, int64_t g) {
    switch (P->kind) {
    case CT__RED_SUM: { /* unsigned arithmetic: wraps on overflow like PyTorch, without UB */
        uint64_t s = 0;
        for (int64_t k = 0; k < m; k++) s += (uint64_t)x[k];
        A->i = (int64_t)((uint64_t)A->i + s);
        break;
    }
    case CT__RED_PROD: {
        uint64_t p = 1;
        for (int64_t k = 0; k < m; k++) p *= (uint64_t)x[k];
        A->i = (int64_t)((uint64_t)A->i * p);
        break;
    }
    case CT__RED_MAX:
    case CT__RED_MIN: {
        bool is_max = P->kind == CT__RED_MAX;
        int64_t k = 0;
        if (A->n == 0) {
            A->i = x[0];
            A->idx = g;
            k = 1;
        }
        for (; k < m; k++) {
            if (is_max ? x[k] > A->i : x[k] < A->i) {
                A->i = x[k];
                A->idx = g + k;
            }
        }
        break;
    }
    default: break;
    }
    A->n += m;
}

/* B's elements follow A's. */
static void acc_combine(acc *A, const acc *B, const ct__red_plan *P) {
    if (B->n == 0) return;
    if (A->n == 0) {
        *A = *B;
        return;
    }
    bool ints = is_int_kind(P);
    switch (P->kind) {
    case CT__RED_SUM:
    case CT__RED_MEAN:
        A->a += B->a;
        A->i = (int64_t)((uint64_t)A->i + (uint64_t)B->i);
        break;
    case CT__RED_PROD:
        A->a *= B->a;
        A->i = (int64_t)((uint64_t)A->i * (uint64_t)B->i);
        break;
    case CT__RED_MAX:
    case CT__RED_MIN: {
        bool is_max = P->kind == CT__RED_MAX, take;
        if (ints) take = is_max ? B->i > A->i : B->i < A->i;
        else take = A->a == A->a && ((is_max ? B->a > A->a : B->a < A->a) || B->a != B->a);
        if (take) {
            A->a = B->a;
            A->i = B->i;
            A->idx = B->idx;
        }
        break;
    }
    case CT__RED_VAR: {
        double na = (double)A->n, nb = (double)B->n, n = na + nb, delta = B->a - A->a;
        A->a += delta * nb / n;
        A->b += B->b + delta * delta * na * nb / n;
        break;
    }
    case CT__RED_NORM:
        if (P->p == INFINITY) A->a = max_nan(A->a, B->a);
        else if (P->p == -INFINITY) A->a = min_nan(A->a, B->a);
        else A->a += B->a;
        break;
    case CT__RED_LSE: lse_merge(A, B->a, B->b); break;
    case CT__RED_ALL: A->i &= B->i; break;
    case CT__RED_ANY: A->i |= B->i; break;
    default: break;
    }
    A->n += B->n;
}

static void acc_finish(const acc *A, const ct__red_plan *P, char *out, char *idx_out) {
    if (idx_out) *(int64_t *)idx_out = A->idx;
    if (!out) return;
    if (is_int_kind(P)) {
        store_i64_one(out, P->out_dtype, A->i);
        return;
    }
    double v = A->a;
    switch (P->kind) {
    case CT__RED_MEAN: v = A->a / (double)P->ninner; break;
    case CT__RED_VAR: {
        double denom = (double)A->n - P->correction;
        v = A->n == 0 ? NAN : A->b / (denom > 0 ? denom : 0);
        if (P->take_sqrt) v = sqrt(v);
        break;
    }
    case CT__RED_NORM:
        if (P->p == 2) v = sqrt(A->a);
        else if (P->p != 0 && P->p != 1 && isfinite(P->p)) v = pow(A->a, 1 / P->p);
        break;
    case CT__RED_LSE: v = log(A->b) + A->a; break;
    case CT__RED_ALL:
    case CT__RED_ANY: v = (double)A->i; break;
    default: break;
    }
    ct__store_f64(out, P->out_dtype, v);
}

/* ---- dense f32 rows: the common case, without the double buffer ----
 * LANES independent accumulators per row, so the loops vectorize (the compiler may not reorder
 * one chain of float adds) and several vector adds are in flight. Sums convert each float to
 * double before adding, so they are as exact as the buffered path; the lanes are fixed by the
 * position in the row, so the result does not depend on the thread count. */
#define LANES 32

/* One core's hardware prefetcher does not run far enough ahead to saturate memory bandwidth;
 * ask for the two cache lines 8 KiB past the LANES floats at p (a prefetch never faults). */
static inline void prefetch_ahead(const float *p) {
    __builtin_prefetch(p + 2048);
    __builtin_prefetch(p + 2048 + 16);
}

static double sum_f32(const float *restrict x, int64_t m) {
    double lane[LANES] = {0};
    int64_t k = 0;
    for (; k + LANES <= m; k += LANES) {
        prefetch_ahead(x + k);
        for (int j = 0; j < LANES; j++) lane[j] += (double)x[k + j];
    }
    for (int j = 0; k < m; k++, j++) lane[j] += (double)x[k];
    for (int w = LANES / 2; w >= 1; w /= 2) /* pairwise, in a fixed order */
        for (int j = 0; j < w; j++) lane[j] += lane[j + w];
    return lane[0];
}

static inline float max_nan_f(float m, float v) { return ((v > m) | (v != v)) ? v : m; }
static inline float min_nan_f(float m, float v) { return ((v < m) | (v != v)) ? v : m; }

/* The NaN-propagating extreme of e and x[0..m). Lanes take plain max/min (one vector instruction)
 * and add up v - v apart, which stays 0 unless a NaN or infinity went by; then the sequential
 * NaN-aware scan decides, so a row with a NaN yields its first NaN. */
static float extreme_f32(float e, const float *restrict x, int64_t m, bool is_max) {
    float lane[LANES], special[LANES] = {0};
    for (int j = 0; j < LANES; j++) lane[j] = e;
    int64_t k = 0;
    if (is_max) {
        for (; k + LANES <= m; k += LANES) {
            prefetch_ahead(x + k);
            for (int j = 0; j < LANES; j++) {
                float v = x[k + j];
                lane[j] = v > lane[j] ? v : lane[j];
                special[j] += v - v;
            }
        }
    } else {
        for (; k + LANES <= m; k += LANES) {
            prefetch_ahead(x + k);
            for (int j = 0; j < LANES; j++) {
                float v = x[k + j];
                lane[j] = v < lane[j] ? v : lane[j];
                special[j] += v - v;
            }
        }
    }
    float r = e, any_special = e - e;
    for (int j = 0; j < LANES; j++) any_special += special[j];
    if (any_special != 0) k = 0; /* NaN (or infinity) seen: rescan everything in order */
    else
        for (int j = 0; j < LANES; j++) r = is_max ? max_nan_f(r, lane[j]) : min_nan_f(r, lane[j]);
    if (is_max)
        for (; k < m && r == r; k++) r = max_nan_f(r, x[k]);
    else
        for (; k < m && r == r; k++) r = min_nan_f(r, x[k]);
    return r;
}

/* sum exp(x[k] - shift) over x[0..m): the float exp (about 1 ulp), summed in double lanes. */
static double sum_exp_f32(const float *restrict x, int64_t m, float shift) {
    double lane[LANES] = {0};
    int64_t k = 0;
    for (; k + LANES <= m; k += LANES)
        for (int j = 0; j < LANES; j++) lane[j] += (double)ct__expf(x[k + j] - shift);
    for (int j = 0; k < m; k++, j++) lane[j] += (double)ct__expf(x[k] - shift);
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) lane[j] += lane[j + w];
    return lane[0];
}

/* Reduces a dense f32 row into A when a fast path exists; false otherwise. */
static bool reduce_row_f32(acc *A, const ct__red_plan *P, const float *x, int64_t m) {
    switch (P->kind) {
    case CT__RED_SUM:
    case CT__RED_MEAN: A->a += sum_f32(x, m); break;
    case CT__RED_MAX:
    case CT__RED_MIN:
        if (P->idx_out) return false;
        A->a = extreme_f32(A->n == 0 ? x[0] : (float)A->a, x, m, P->kind == CT__RED_MAX);
        break;
    case CT__RED_LSE: { /* as block_f64: shift by the row's max when finite */
        float e = extreme_f32(x[0], x, m, true), shift = isfinite(e) ? e : 0;
        lse_merge(A, shift, sum_exp_f32(x, m, shift));
        break;
    }
    default: return false;
    }
    A->n += m;
    return true;
}

/* ---- walking the plan ---- */

typedef struct buffers {
    double d[BLOCK];
    int64_t i[BLOCK];
} buffers;

/* Reduces `m` elements along the inner row starting at ptr into A; g is their first flat inner index. */
static void reduce_row(acc *A, const ct__red_plan *P, const char *ptr, int64_t stride, int64_t m, int64_t g,
                       buffers *buf) {
    bool ints = is_int_kind(P);
    if (!ints && P->in_dtype == CT_F32 && stride == 4 && m > 0 && reduce_row_f32(A, P, (const float *)ptr, m)) return;
    for (int64_t k = 0; k < m; k += BLOCK) {
        int64_t len = m - k < BLOCK ? m - k : BLOCK;
        const char *p = ptr + k * stride;
        if (ints) {
            if (P->in_dtype == CT_I64 && stride == 8) {
                block_i64(A, P, (const int64_t *)p, len, g + k);
            } else {
                load_i64(buf->i, p, stride, len, P->in_dtype);
                block_i64(A, P, buf->i, len, g + k);
            }
        } else if (P->in_dtype == CT_F64 && stride == 8) {
            block_f64(A, P, (const double *)p, len, g + k);
        } else {
            load_f64(buf->d, p, stride, len, P->in_dtype);
            block_f64(A, P, buf->d, len, g + k);
        }
    }
}

/* Reduces the flat inner range [lo, hi) of the block at base. */
static void reduce_range(acc *A, const ct__red_plan *P, const char *base, int64_t lo, int64_t hi, buffers *buf) {
    if (P->inner_ndim == 0) {
        if (lo < hi) reduce_row(A, P, base, 0, 1, 0, buf);
        return;
    }
    if (P->inner_ndim == 1) {
        reduce_row(A, P, base + lo * P->inner_in[0], P->inner_in[0], hi - lo, lo, buf);
        return;
    }
    int64_t idx[CT_MAX_DIMS], rem = lo;
    for (int d = 0; d < P->inner_ndim; d++) {
        idx[d] = rem % P->inner_shape[d];
        rem /= P->inner_shape[d];
    }
    int64_t pos = lo;
    while (pos < hi) {
        int64_t off = 0;
        for (int d = 0; d < P->inner_ndim; d++) off += idx[d] * P->inner_in[d];
        int64_t m = P->inner_shape[0] - idx[0];
        if (m > hi - pos) m = hi - pos;
        reduce_row(A, P, base + off, P->inner_in[0], m, pos, buf);
        pos += m;
        idx[0] += m;
        for (int d = 0; d + 1 < P->inner_ndim && idx[d] == P->inner_shape[d]; d++) {
            idx[d] = 0;
            idx[d + 1]++;
        }
    }
}

/* Byte offsets of outer element o in the input, the output and the index output. */
typedef struct outer_pos {
    int64_t idx[CT_MAX_DIMS];
    int64_t in, out, ix;
} outer_pos;

static void outer_seek(outer_pos *q, const ct__red_plan *P, int64_t o) {
    q->in = q->out = q->ix = 0;
    for (int d = 0; d < P->outer_ndim; d++) {
        q->idx[d] = o % P->outer_shape[d];
        o /= P->outer_shape[d];
        q->in += q->idx[d] * P->outer_in[d];
        q->out += q->idx[d] * P->outer_out[d];
        q->ix += q->idx[d] * P->outer_idx[d];
    }
}

static void outer_next(outer_pos *q, const ct__red_plan *P) {
    for (int d = 0; d < P->outer_ndim; d++) {
        q->in += P->outer_in[d];
        q->out += P->outer_out[d];
        q->ix += P->outer_idx[d];
        if (++q->idx[d] < P->outer_shape[d]) return;
        q->in -= q->idx[d] * P->outer_in[d];
        q->out -= q->idx[d] * P->outer_out[d];
        q->ix -= q->idx[d] * P->outer_idx[d];
        q->idx[d] = 0;
    }
}

/* Tasks [t0, t1): task t reduces chunk t % nchunks of output t / nchunks. */
static void run_tasks(const ct__red_plan *P, int64_t nchunks, int64_t t0, int64_t t1, acc *partials) {
    buffers buf;
    outer_pos q;
    int64_t o = t0 / nchunks;
    outer_seek(&q, P, o);
    for (int64_t t = t0; t < t1; t++) {
        int64_t to = nchunks == 1 ? t : t / nchunks, c = nchunks == 1 ? 0 : t % nchunks;
        for (; o < to; o++) outer_next(&q, P);
        acc A;
        acc_init(&A, P);
        int64_t lo = c * CHUNK, hi = lo + CHUNK < P->ninner ? lo + CHUNK : P->ninner;
        reduce_range(&A, P, P->in + q.in, lo, hi, &buf);
        if (partials) partials[t] = A;
        else acc_finish(&A, P, P->out ? P->out + q.out : NULL, P->idx_out ? P->idx_out + q.ix : NULL);
    }
}


/* ---- column reductions: many outputs at once ----
 * When neighbouring outputs read neighbouring input elements (outer dim 0 dense) and the reduced
 * dims are strided, each inner position contributes one dense run of TILE values to TILE
 * accumulators: every load is contiguous and the update loops vectorize. Each output still
 * accumulates its elements in inner order, so the result does not depend on the thread count. */
#define TILE BLOCK

static bool tile_applies(const ct__red_plan *P) {
    int64_t isz = (int64_t)ct_dtype_size(P->in_dtype);
    if (P->outer_ndim == 0 || P->outer_in[0] != isz || P->inner_ndim == 0 || P->inner_in[0] == isz) return false;
    if (P->idx_out || P->ninner == 0) return false;
    switch (P->kind) {
    case CT__RED_SUM:
    case CT__RED_MEAN:
    case CT__RED_PROD:
    case CT__RED_MAX:
    case CT__RED_MIN:
    case CT__RED_NORM:
    case CT__RED_ALL:
    case CT__RED_ANY: return true;
    default: return false;
    }
}

static void tile_update_f64(const ct__red_plan *P, double *restrict a, const double *restrict x, int64_t t,
                            bool first) {
    switch (P->kind) {
    case CT__RED_SUM:
    case CT__RED_MEAN:
        for (int64_t k = 0; k < t; k++) a[k] += x[k];
        break;
    case CT__RED_PROD:
        for (int64_t k = 0; k < t; k++) a[k] *= x[k];
        break;
    case CT__RED_MAX:
        if (first) memcpy(a, x, (size_t)t * sizeof *a);
        for (int64_t k = 0; k < t; k++) a[k] = max_nan(a[k], x[k]);
        break;
    case CT__RED_MIN:
        if (first) memcpy(a, x, (size_t)t * sizeof *a);
        for (int64_t k = 0; k < t; k++) a[k] = min_nan(a[k], x[k]);
        break;
    case CT__RED_NORM: {
        double p = P->p;
        if (p == 0) for (int64_t k = 0; k < t; k++) a[k] += x[k] != 0;
        else if (p == 1) for (int64_t k = 0; k < t; k++) a[k] += fabs(x[k]);
        else if (p == 2) for (int64_t k = 0; k < t; k++) a[k] += x[k] * x[k];
        else if (p == INFINITY) for (int64_t k = 0; k < t; k++) a[k] = max_nan(a[k], fabs(x[k]));
        else if (p == -INFINITY) for (int64_t k = 0; k < t; k++) a[k] = min_nan(a[k], fabs(x[k]));
        else for (int64_t k = 0; k < t; k++) a[k] += pow(fabs(x[k]), p);
        break;
    }
    case CT__RED_ALL:
        for (int64_t k = 0; k < t; k++) a[k] = a[k] != 0 && x[k] != 0;
        break;
    case CT__RED_ANY:
        for (int64_t k = 0; k < t; k++) a[k] = a[k] != 0 || x[k] != 0;
        break;
    default: break;
    }
}

static void tile_update_i64(const ct__red_plan *P, int64_t *restrict a, const int64_t *restrict x, int64_t t,
                            bool first) {
    switch (P->kind) {
    case CT__RED_SUM:
        for (int64_t k = 0; k < t; k++) a[k] = (int64_t)((uint64_t)a[k] + (uint64_t)x[k]);
        break;
    case CT__RED_PROD:
        for (int64_t k = 0; k < t; k++) a[k] = (int64_t)((uint64_t)a[k] * (uint64_t)x[k]);
        break;
    case CT__RED_MAX:
        if (first) memcpy(a, x, (size_t)t * sizeof *a);
        for (int64_t k = 0; k < t; k++) a[k] = x[k] > a[k] ? x[k] : a[k];
        break;
    case CT__RED_MIN:
        if (first) memcpy(a, x, (size_t)t * sizeof *a);
        for (int64_t k = 0; k < t; k++) a[k] = x[k] < a[k] ? x[k] : a[k];
        break;
    default: break;
    }
}

/* Tile tasks [t0, t1): task t covers outputs [j0, j0 + TILE) of outer dim 0 at outer position
 * t / ntiles of the remaining outer dims. */
static void run_tiles(const ct__red_plan *P, int64_t ntiles, int64_t t0, int64_t t1) {
    bool ints = is_int_kind(P);
    bool sum_f32 = P->in_dtype == CT_F32 && (P->kind == CT__RED_SUM || P->kind == CT__RED_MEAN);
    double ad[TILE];
    int64_t ai[TILE];
    buffers buf;
    acc init;
    acc_init(&init, P);
    for (int64_t t = t0; t < t1; t++) {
        int64_t rest = t / ntiles, j0 = (t % ntiles) * TILE;
        int64_t n0 = P->outer_shape[0] - j0 < TILE ? P->outer_shape[0] - j0 : TILE;
        int64_t in_off = j0 * P->outer_in[0], out_off = j0 * P->outer_out[0];
        for (int d = 1; d < P->outer_ndim; d++) {
            int64_t c = rest % P->outer_shape[d];
            rest /= P->outer_shape[d];
            in_off += c * P->outer_in[d];
            out_off += c * P->outer_out[d];
        }
        bool logical = P->kind == CT__RED_ALL || P->kind == CT__RED_ANY;
        for (int64_t k = 0; k < n0; k++) {
            ad[k] = logical ? (double)init.i : init.a;
            ai[k] = init.i;
        }
        int64_t idx[CT_MAX_DIMS] = {0}, off = 0;
        for (int64_t pos = 0; pos < P->ninner; pos++) {
            const char *p = P->in + in_off + off;
            if (ints) {
                load_i64(buf.i, p, (int64_t)ct_dtype_size(P->in_dtype), n0, P->in_dtype);
                tile_update_i64(P, ai, buf.i, n0, pos == 0);
            } else if (sum_f32) { /* dense f32 into double sums directly, without the buffer */
                const float *restrict x = (const float *)p;
                for (int64_t k = 0; k < n0; k++) ad[k] += (double)x[k];
            } else {
                const double *x = (const double *)p;
                if (P->in_dtype != CT_F64) {
                    load_f64(buf.d, p, (int64_t)ct_dtype_size(P->in_dtype), n0, P->in_dtype);
                    x = buf.d;
                }
                tile_update_f64(P, ad, x, n0, pos == 0);
            }
            off += P->inner_in[0];
            if (++idx[0] == P->inner_shape[0]) {
                for (int d = 0; d + 1 < P->inner_ndim && idx[d] == P->inner_shape[d]; d++) {
                    off -= idx[d] * P->inner_in[d];
                    idx[d] = 0;
                    idx[d + 1]++;
                    off += P->inner_in[d + 1];
                }
            }
        }
        for (int64_t k = 0; k < n0; k++) {
            acc A = init;
            A.a = ad[k];
            A.i = logical ? (int64_t)ad[k] : ai[k];
            A.n = P->ninner;
            acc_finish(&A, P, P->out + out_off + k * P->outer_out[0], NULL);
        }
    }
}

/* Threads for `work` element-steps split into `tasks` independent pieces. */
static int threads_for(int64_t work, int64_t tasks) {
    int threads = ct__num_threads();
    if (work <= CT_GRAIN_SIZE || threads <= 1 || tasks <= 1) return 1;
    return (int)(tasks < threads ? tasks : threads);
}

static bool cpu_reduce(const ct__red_plan *P) {
    if (P->nout == 0) return true;
    if (tile_applies(P)) {
        int64_t ntiles = (P->outer_shape[0] + TILE - 1) / TILE;
        int64_t ntasks = P->nout / P->outer_shape[0] * ntiles;
        int nthr = threads_for(P->nout * P->ninner, ntasks);
#pragma omp parallel for num_threads(nthr) schedule(static, 1) if (nthr > 1)
        for (int th = 0; th < nthr; th++) run_tiles(P, ntiles, ntasks * th / nthr, ntasks * (th + 1) / nthr);
        return true;
    }
    int64_t nchunks = P->ninner <= CHUNK ? 1 : (P->ninner + CHUNK - 1) / CHUNK;
    int64_t ntasks = P->nout * nchunks;
    acc *partials = nchunks > 1 ? malloc((size_t)ntasks * sizeof *partials) : NULL;
    if (nchunks > 1 && !partials) {
        ct_error(CT_ERR_OOM, "reduce: cannot allocate %zu bytes of partial results", (size_t)ntasks * sizeof *partials);
        return false;
    }
    int nthr = threads_for(P->nout * (P->ninner > 0 ? P->ninner : 1), ntasks);
#pragma omp parallel for num_threads(nthr) schedule(static, 1) if (nthr > 1)
    for (int th = 0; th < nthr; th++)
        run_tasks(P, nchunks, ntasks * th / nthr, ntasks * (th + 1) / nthr, partials);
    if (!partials) return true;
    outer_pos q;
    outer_seek(&q, P, 0);
    for (int64_t o = 0; o < P->nout; o++, outer_next(&q, P)) {
        acc A = partials[o * nchunks];
        for (int64_t c = 1; c < nchunks; c++) acc_combine(&A, &partials[o * nchunks + c], P);
        acc_finish(&A, P, P->out ? P->out + q.out : NULL, P->idx_out ? P->idx_out + q.ix : NULL);
    }
    free(partials);
    return true;
}

/* ---- row ops: softmax, log_softmax, cumsum, cumprod ---- */

static void row_f64(const ct__red_plan *P, double *restrict x, int64_t n) {
    switch (P->kind) {
    case CT__ROW_SOFTMAX:
    case CT__ROW_LOG_SOFTMAX: {
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < n; k++) m = max_nan(m, x[k]);
        if (P->kind == CT__ROW_SOFTMAX) {
            for (int64_t k = 0; k < n; k++) s += x[k] = exp(x[k] - m);
            double inv = 1 / s;
            for (int64_t k = 0; k < n; k++) x[k] *= inv;
        } else {
            for (int64_t k = 0; k < n; k++) s += exp(x[k] - m);
            double shift = m + log(s);
            for (int64_t k = 0; k < n; k++) x[k] -= shift;
        }
        break;
    }
    case CT__ROW_CUMSUM: {
        double s = 0;
        for (int64_t k = 0; k < n; k++) x[k] = s += x[k];
        break;
    }
    case CT__ROW_CUMPROD: {
        double p = 1;
        for (int64_t k = 0; k < n; k++) x[k] = p *= x[k];
        break;
    }
    default: break;
    }
}

static void row_i64(const ct__red_plan *P, int64_t *restrict x, int64_t n) {
    uint64_t acc_v = P->kind == CT__ROW_CUMPROD ? 1 : 0;
    for (int64_t k = 0; k < n; k++) {
        acc_v = P->kind == CT__ROW_CUMPROD ? acc_v * (uint64_t)x[k] : acc_v + (uint64_t)x[k];
        x[k] = (int64_t)acc_v;
    }
}

/* softmax / log_softmax of a dense f32 row into a dense f32 row, in float with the vectorized
 * exp (about 1 ulp): subtract the max, exponentiate, sum in double lanes (sum_f32), normalize. */
static void softmax_row_f32(const ct__red_plan *P, const float *restrict x, float *restrict y, int64_t n) {
    float m = extreme_f32(x[0], x, n, true);
    for (int64_t k = 0; k < n; k++) y[k] = ct__expf(x[k] - m);
    double s = sum_f32(y, n);
    if (P->kind == CT__ROW_SOFTMAX) {
        float inv = (float)(1 / s);
        for (int64_t k = 0; k < n; k++) y[k] *= inv;
    } else {
        float log_s = (float)log(s);
        for (int64_t k = 0; k < n; k++) y[k] = (x[k] - m) - log_s;
    }
}

static void run_rows(const ct__red_plan *P, int64_t r0, int64_t r1) {
    int64_t n = P->ninner, s_in = P->inner_ndim ? P->inner_in[0] : 0;
    bool dense_f32 = P->in_dtype == CT_F32 && P->out_dtype == CT_F32 && s_in == 4 && P->inner_out == 4 &&
                     (P->kind == CT__ROW_SOFTMAX || P->kind == CT__ROW_LOG_SOFTMAX);
    void *buf = malloc((size_t)n * 8);
    outer_pos q;
    outer_seek(&q, P, r0);
    for (int64_t r = r0; r < r1; r++, outer_next(&q, P)) {
        if (dense_f32) {
            softmax_row_f32(P, (const float *)(P->in + q.in), (float *)(P->out + q.out), n);
        } else if (P->int_acc) {
            int64_t *x = buf;
            load_i64(x, P->in + q.in, s_in, n, P->in_dtype);
            row_i64(P, x, n);
            for (int64_t k = 0; k < n; k++) *(int64_t *)(P->out + q.out + k * P->inner_out) = x[k];
        } else {
            double *x = buf;
            load_f64(x, P->in + q.in, s_in, n, P->in_dtype);
            row_f64(P, x, n);
            store_f64(P->out + q.out, P->inner_out, x, n, P->out_dtype);
        }
    }
    free(buf);
}


/* Row ops along a strided dim whose neighbouring rows are dense in memory (softmax over dim 0 of
 * a matrix): TILE rows advance together, each pass reading contiguous runs. Per row the arithmetic
 * is the same sequence as in run_rows. */
static bool row_tile_applies(const ct__red_plan *P) {
    int64_t isz = (int64_t)ct_dtype_size(P->in_dtype);
    return P->outer_ndim > 0 && P->outer_in[0] == isz && P->inner_ndim == 1 && P->inner_in[0] != isz;
}

static void run_row_tiles(const ct__red_plan *P, int64_t ntiles, int64_t t0, int64_t t1) {
    int64_t isz = (int64_t)ct_dtype_size(P->in_dtype), n = P->ninner, s_in = P->inner_in[0];
    double m[TILE], s[TILE], x[TILE];
    int64_t ai[TILE], xi[TILE];
    for (int64_t t = t0; t < t1; t++) {
        int64_t rest = t / ntiles, j0 = (t % ntiles) * TILE;
        int64_t w = P->outer_shape[0] - j0 < TILE ? P->outer_shape[0] - j0 : TILE;
        int64_t in_off = j0 * P->outer_in[0], out_off = j0 * P->outer_out[0];
        for (int d = 1; d < P->outer_ndim; d++) {
            int64_t c = rest % P->outer_shape[d];
            rest /= P->outer_shape[d];
            in_off += c * P->outer_in[d];
            out_off += c * P->outer_out[d];
        }
        const char *in = P->in + in_off;
        char *out = P->out + out_off;
        int64_t so = P->outer_out[0];
        switch (P->kind) {
        case CT__ROW_SOFTMAX:
        case CT__ROW_LOG_SOFTMAX:
            for (int64_t j = 0; j < w; j++) m[j] = -INFINITY, s[j] = 0;
            for (int64_t k = 0; k < n; k++) {
                load_f64(x, in + k * s_in, isz, w, P->in_dtype);
                for (int64_t j = 0; j < w; j++) m[j] = max_nan(m[j], x[j]);
            }
            for (int64_t k = 0; k < n; k++) {
                load_f64(x, in + k * s_in, isz, w, P->in_dtype);
                for (int64_t j = 0; j < w; j++) s[j] += exp(x[j] - m[j]);
            }
            for (int64_t j = 0; j < w; j++) s[j] = P->kind == CT__ROW_SOFTMAX ? 1 / s[j] : m[j] + log(s[j]);
            for (int64_t k = 0; k < n; k++) {
                load_f64(x, in + k * s_in, isz, w, P->in_dtype);
                if (P->kind == CT__ROW_SOFTMAX)
                    for (int64_t j = 0; j < w; j++) x[j] = exp(x[j] - m[j]) * s[j];
                else
                    for (int64_t j = 0; j < w; j++) x[j] -= s[j];
                store_f64(out + k * P->inner_out, so, x, w, P->out_dtype);
            }
            break;
        case CT__ROW_CUMSUM:
        case CT__ROW_CUMPROD: {
            bool is_sum = P->kind == CT__ROW_CUMSUM;
            for (int64_t j = 0; j < w; j++) s[j] = is_sum ? 0 : 1, ai[j] = is_sum ? 0 : 1;
            for (int64_t k = 0; k < n; k++) {
                if (P->int_acc) {
                    load_i64(xi, in + k * s_in, isz, w, P->in_dtype);
                    for (int64_t j = 0; j < w; j++) { /* unsigned: wraps like PyTorch, without UB */
                        uint64_t a = (uint64_t)ai[j], v = (uint64_t)xi[j];
                        ai[j] = (int64_t)(is_sum ? a + v : a * v);
                    }
                    for (int64_t j = 0; j < w; j++) *(int64_t *)(out + k * P->inner_out + j * so) = ai[j];
                } else {
                    load_f64(x, in + k * s_in, isz, w, P->in_dtype);
                    if (is_sum)
                        for (int64_t j = 0; j < w; j++) x[j] = s[j] += x[j];
                    else
                        for (int64_t j = 0; j < w; j++) x[j] = s[j] *= x[j];
                    store_f64(out + k * P->inner_out, so, x, w, P->out_dtype);
                }
            }
            break;
        }
        default: break;
        }
    }
}

static bool cpu_rows(const ct__red_plan *P) {
    if (P->nout == 0 || P->ninner == 0) return true;
    if (row_tile_applies(P)) {
        int64_t ntiles = (P->outer_shape[0] + TILE - 1) / TILE;
        int64_t ntasks = P->nout / P->outer_shape[0] * ntiles;
        int nthr = threads_for(P->nout * P->ninner, ntasks);
#pragma omp parallel for num_threads(nthr) schedule(static, 1) if (nthr > 1)
        for (int th = 0; th < nthr; th++) run_row_tiles(P, ntiles, ntasks * th / nthr, ntasks * (th + 1) / nthr);
        return true;
    }
    int nthr = threads_for(P->nout * P->ninner, P->nout);
#pragma omp parallel for num_threads(nthr) schedule(static, 1) if (nthr > 1)
    for (int th = 0; th < nthr; th++) run_rows(P, P->nout * th / nthr, P->nout * (th + 1) / nthr);
    return true;
}

const ct__reduce_kernels ct__reduce_cpu_kernels = {.reduce = cpu_reduce, .rows = cpu_rows};
