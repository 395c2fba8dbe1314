/* Reductions, softmax/log_softmax and scans against f64 references computed here, over random
 * shapes, every layout, single/multiple/negative/all dims, keepdim, 0-d and 0-size inputs,
 * several dtypes; NaN and empty semantics; thread-count independence; every error path. */
#include "../../tensor/cpu/vec_math.h"
#include "../../tensor/native_impl.h"
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum rop {
    R_SUM, R_MEAN, R_PROD, R_AMAX, R_AMIN, R_VAR, R_STD, R_NORM, R_LSE, R_ALL, R_ANY, R_ARGMAX, R_ARGMIN,
} rop;

/* ---- f64 reference ---- */

static double ref_row(rop op, const double *x, int64_t n, double p, double corr) {
    double r = 0;
    switch (op) {
    case R_SUM:
    case R_MEAN:
        for (int64_t k = 0; k < n; k++) r += x[k];
        return op == R_MEAN ? r / (double)n : r;
    case R_PROD:
        r = 1;
        for (int64_t k = 0; k < n; k++) r *= x[k];
        return r;
    case R_AMAX:
    case R_AMIN:
    case R_ARGMAX:
    case R_ARGMIN: {
        bool is_max = op == R_AMAX || op == R_ARGMAX;
        int64_t best = 0;
        for (int64_t k = 1; k < n && !isnan(x[best]); k++)
            if (isnan(x[k]) || (is_max ? x[k] > x[best] : x[k] < x[best])) best = k;
        return op == R_ARGMAX || op == R_ARGMIN ? (double)best : x[best];
    }
    case R_VAR:
    case R_STD: {
        double mean = 0, m2 = 0;
        for (int64_t k = 0; k < n; k++) mean += x[k];
        mean /= (double)n;
        for (int64_t k = 0; k < n; k++) m2 += (x[k] - mean) * (x[k] - mean);
        double denom = (double)n - corr;
        r = m2 / (denom > 0 ? denom : 0);
        return op == R_STD ? sqrt(r) : r;
    }
    case R_NORM:
        if (p == INFINITY) {
            for (int64_t k = 0; k < n; k++) r = fmax(r, fabs(x[k]));
            return r;
        }
        if (p == 0) {
            for (int64_t k = 0; k < n; k++) r += x[k] != 0;
            return r;
        }
        for (int64_t k = 0; k < n; k++) r += pow(fabs(x[k]), p);
        return pow(r, 1 / p);
    case R_LSE: {
        double m = -INFINITY;
        for (int64_t k = 0; k < n; k++) m = fmax(m, x[k]);
        for (int64_t k = 0; k < n; k++) r += exp(x[k] - m);
        return n ? m + log(r) : -INFINITY;
    }
    case R_ALL:
        for (int64_t k = 0; k < n; k++)
            if (x[k] == 0) return 0;
        return 1;
    case R_ANY:
        for (int64_t k = 0; k < n; k++)
            if (x[k] != 0) return 1;
        return 0;
    }
    return NAN;
}

/* Reduced-dims mask from a dim list (empty: all dims). */
static void dims_mask(ct_dims dims, int ndim, bool *mask) {
    for (int d = 0; d < CT_MAX_DIMS; d++) mask[d] = dims.ndim == 0 && d < ndim;
    for (int i = 0; i < dims.ndim; i++)
        if (ndim > 0) mask[dims.d[i] < 0 ? dims.d[i] + ndim : dims.d[i]] = true;
}

/* want[o] for every output element, in row-major order over the kept dims; returns the result shape. */
static ct_shape ref_reduce(rop op, const ct_tensor *t, ct_dims dims, bool keepdim, double p, double corr,
                           double **want) {
    ct_shape shape = ct_shape_of(t);
    bool mask[CT_MAX_DIMS];
    dims_mask(dims, shape.ndim, mask);
    ct_shape out = {.ndim = 0};
    int64_t nout = 1, ninner = 1;
    for (int d = 0; d < shape.ndim; d++) {
        if (mask[d]) ninner *= shape.d[d];
        else nout *= shape.d[d];
        if (!mask[d]) out.d[out.ndim++] = shape.d[d];
        else if (keepdim) out.d[out.ndim++] = 1;
    }
    const double *vals = tu_values(t);
    double *rows = malloc((size_t)(nout * ninner + 1) * sizeof *rows);
    int64_t numel = nout * ninner;
    for (int64_t i = 0; i < numel; i++) {
        int64_t rem = i, o = 0, j = 0, om = 1, jm = 1;
        for (int d = shape.ndim - 1; d >= 0; d--) {
            int64_t c = rem % shape.d[d];
            rem /= shape.d[d];
            if (mask[d]) {
                j += c * jm;
                jm *= shape.d[d];
            } else {
                o += c * om;
                om *= shape.d[d];
            }
        }
        rows[o * ninner + j] = vals[i];
    }
    *want = malloc((size_t)(nout + 1) * sizeof **want);
    for (int64_t o = 0; o < nout; o++) (*want)[o] = ref_row(op, rows + o * ninner, ninner, p, corr);
    free(rows);
    return out;
}

static ct_tensor *call(rop op, const ct_tensor *t, ct_dims dims, bool keepdim, double p, double corr) {
    switch (op) {
    case R_SUM: return ct_sum(t, .dim = dims, .keepdim = keepdim);
    case R_MEAN: return ct_mean(t, .dim = dims, .keepdim = keepdim);
    case R_PROD: return ct_prod(t, .dim = dims, .keepdim = keepdim);
    case R_AMAX: return ct_amax(t, .dim = dims, .keepdim = keepdim);
    case R_AMIN: return ct_amin(t, .dim = dims, .keepdim = keepdim);
    case R_VAR: return ct_var(t, .dim = dims, .keepdim = keepdim, .correction = corr);
    case R_STD: return ct_std(t, .dim = dims, .keepdim = keepdim, .correction = corr);
    case R_NORM: return ct_norm(t, .dim = dims, .keepdim = keepdim, .p = p);
    case R_LSE: return ct_logsumexp(t, .dim = dims, .keepdim = keepdim);
    case R_ALL: return ct_all(t, .dim = dims, .keepdim = keepdim);
    case R_ANY: return ct_any(t, .dim = dims, .keepdim = keepdim);
    case R_ARGMAX: return ct_argmax(t, .dim = dims, .keepdim = keepdim);
    case R_ARGMIN: return ct_argmin(t, .dim = dims, .keepdim = keepdim);
    }
    return NULL;
}

static void check(rop op, const ct_tensor *t, ct_dims dims, bool keepdim, double p, double corr, ct_dtype want_dtype,
                  double rtol, double atol) {
    double *want;
    ct_shape shape = ref_reduce(op, t, dims, keepdim, p, corr, &want);
    ct_tensor *got = call(op, t, dims, keepdim, p, corr);
    if (!got) fail_msg("op %d: %s", (int)op, ct_last_error());
    assert_int_equal(ct_dtype_of(got), want_dtype);
    tu_assert_values(got, shape, want, rtol, atol);
    free(want);
}

/* Dim lists to try for an ndim-dimensional input: all, each dim, negative, pairs. */
static int dim_sets(int ndim, ct_dims *sets) {
    int n = 0;
    sets[n++] = CT_DIMS();
    if (ndim == 0) {
        sets[n++] = CT_DIMS(0);
        sets[n++] = CT_DIMS(-1);
        return n;
    }
    for (int d = 0; d < ndim; d++) sets[n++] = CT_DIMS(d);
    sets[n++] = CT_DIMS(-1);
    if (ndim >= 2) sets[n++] = CT_DIMS(0, -1);
    if (ndim >= 3) sets[n++] = CT_DIMS(2, 0);
    if (ndim >= 4) sets[n++] = CT_DIMS(1, 3, -4);
    return n;
}

static const ct_shape shapes[] = {CT_SHAPE(), CT_SHAPE(7), CT_SHAPE(3, 5), CT_SHAPE(2, 3, 4), CT_SHAPE(3, 1, 4, 2)};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

static void float_reductions_match_reference(void **state) {
    (void)state;
    uint64_t seed = 1;
    const ct_dtype dtypes[] = {CT_F32, CT_F64};
    for (int di = 0; di < 2; di++) {
        ct_dtype dt = dtypes[di];
        double rtol = dt == CT_F32 ? 3e-6 : 1e-12, atol = dt == CT_F32 ? 1e-6 : 1e-12;
        for (int si = 0; si < NSHAPES; si++) {
            ct_dims sets[12];
            int nsets = dim_sets(shapes[si].ndim, sets);
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
                CT_SCOPE {
                    ct_tensor *t = tu_random(&seed, shapes[si], dt, (tu_layout)l, -2, 2);
                    ct_tensor *pos = tu_random(&seed, shapes[si], dt, (tu_layout)l, 0.5, 1.5);
                    for (int s = 0; s < nsets; s++) {
                        for (int kd = 0; kd < 2; kd++) {
                            check(R_SUM, t, sets[s], kd, 0, 0, dt, rtol, atol);
                            check(R_MEAN, t, sets[s], kd, 0, 0, dt, rtol, atol);
                            check(R_PROD, pos, sets[s], kd, 0, 0, dt, rtol, atol);
                            check(R_AMAX, t, sets[s], kd, 0, 0, dt, 0, 0);
                            check(R_AMIN, t, sets[s], kd, 0, 0, dt, 0, 0);
                            check(R_VAR, t, sets[s], kd, 0, 1, dt, rtol, atol);
                            check(R_VAR, t, sets[s], kd, 0, 0, dt, rtol, atol);
                            check(R_STD, t, sets[s], kd, 0, 1, dt, rtol, atol);
                            check(R_STD, t, sets[s], kd, 0, 2.5, dt, rtol, atol);
                            const double ps[] = {1, 2, INFINITY, 0, 3, 0.5};
                            for (int pi = 0; pi < 6; pi++) check(R_NORM, t, sets[s], kd, ps[pi], 0, dt, rtol, atol);
                            check(R_LSE, t, sets[s], kd, 0, 0, dt, rtol, atol);
                            check(R_ALL, t, sets[s], kd, 0, 0, CT_BOOL, 0, 0);
                            check(R_ANY, t, sets[s], kd, 0, 0, CT_BOOL, 0, 0);
                            if (sets[s].ndim <= 1) {
                                check(R_ARGMAX, t, sets[s], kd, 0, 0, CT_I64, 0, 0);
                                check(R_ARGMIN, t, sets[s], kd, 0, 0, CT_I64, 0, 0);
                            }
                        }
                    }
                }
            }
        }
    }
}

static void integer_and_bool_reductions(void **state) {
    (void)state;
    uint64_t seed = 2;
    const ct_dtype dtypes[] = {CT_I32, CT_I64, CT_U8, CT_BOOL};
    for (int di = 0; di < 4; di++) {
        ct_dtype dt = dtypes[di];
        double lo = dt == CT_U8 || dt == CT_BOOL ? 0 : -5;
        for (int si = 0; si < NSHAPES; si++) {
            ct_dims sets[12];
            int nsets = dim_sets(shapes[si].ndim, sets);
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
                CT_SCOPE {
                    ct_tensor *t = tu_random(&seed, shapes[si], dt, (tu_layout)l, lo, 5);
                    ct_tensor *small = tu_random(&seed, shapes[si], dt, (tu_layout)l, dt == CT_U8 ? 0 : -1, 3);
                    for (int s = 0; s < nsets; s++) {
                        for (int kd = 0; kd < 2; kd++) {
                            check(R_SUM, t, sets[s], kd, 0, 0, CT_I64, 0, 0);
                            check(R_PROD, small, sets[s], kd, 0, 0, CT_I64, 0, 0);
                            check(R_AMAX, t, sets[s], kd, 0, 0, dt, 0, 0);
                            check(R_AMIN, t, sets[s], kd, 0, 0, dt, 0, 0);
                            check(R_ALL, small, sets[s], kd, 0, 0, dt == CT_U8 ? CT_U8 : CT_BOOL, 0, 0);
                            check(R_ANY, small, sets[s], kd, 0, 0, dt == CT_U8 ? CT_U8 : CT_BOOL, 0, 0);
                            check(R_LSE, t, sets[s], kd, 0, 0, CT_F32, 1e-6, 1e-6);
                            if (sets[s].ndim <= 1) {
                                check(R_ARGMAX, t, sets[s], kd, 0, 0, CT_I64, 0, 0);
                                check(R_ARGMIN, t, sets[s], kd, 0, 0, CT_I64, 0, 0);
                            }
                        }
                    }
                }
            }
        }
    }
    /* int64 sums stay exact beyond 2^53. */
    ct_tensor *big = ct_from_data((int64_t[]){(1LL << 60) + 1, 3, -(1LL << 58)}, CT_SHAPE(3), CT_I64);
    assert_true(*(int64_t *)ct_data_ptr(ct_sum(big)) == (1LL << 60) + 4 - (1LL << 58));
    assert_true(*(int64_t *)ct_data_ptr(ct_amax(big)) == (1LL << 60) + 1);
}

static void half_precision_reductions(void **state) {
    (void)state;
    uint64_t seed = 3;
    const ct_dtype dtypes[] = {CT_F16, CT_BF16};
    for (int di = 0; di < 2; di++) {
        ct_dtype dt = dtypes[di];
        double tol = dt == CT_F16 ? 1e-3 : 8e-3;
        for (int si = 1; si < NSHAPES; si++) {
            ct_dims sets[12];
            int nsets = dim_sets(shapes[si].ndim, sets);
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
                CT_SCOPE {
                    ct_tensor *t = tu_random(&seed, shapes[si], dt, (tu_layout)l, -2, 2);
                    for (int s = 0; s < nsets; s++) {
                        check(R_SUM, t, sets[s], false, 0, 0, dt, tol, tol);
                        check(R_MEAN, t, sets[s], true, 0, 0, dt, tol, tol);
                        check(R_AMAX, t, sets[s], false, 0, 0, dt, 0, 0);
                        check(R_VAR, t, sets[s], false, 0, 1, dt, tol, tol);
                        check(R_NORM, t, sets[s], false, 2, 0, dt, tol, tol);
                        check(R_LSE, t, sets[s], false, 0, 0, dt, tol, tol);
                    }
                }
            }
        }
    }
    /* Sums accumulate in wider precision: 4096 halves of 1 are exactly 4096 (f16 steps are 4 there). */
    ct_tensor *ones = ct_ones(CT_SHAPE(4097), .dtype = CT_F16);
    assert_true(ct_item(ct_sum(ones)) == 4096); /* 4097 rounds to even in f16 */
    assert_true(ct_item(ct_mean(ones)) == 1);
}

static void dtype_option(void **state) {
    (void)state;
    ct_tensor *f = ct_from_data((float[]){1.5f, 2.5f, -1.75f}, CT_SHAPE(3), CT_F32);
    ct_tensor *i = ct_from_data((int32_t[]){1, 2, 4}, CT_SHAPE(3), CT_I32);
    ct_tensor *s = ct_sum(f, .dtype = CT_F64);
    assert_int_equal(ct_dtype_of(s), CT_F64);
    assert_true(ct_item(s) == 2.25);
    s = ct_sum(f, .dtype = CT_I32); /* the input is cast first: 1 + 2 - 1 */
    assert_int_equal(ct_dtype_of(s), CT_I32);
    assert_true(ct_item(s) == 2);
    s = ct_sum(i, .dtype = CT_F32);
    assert_int_equal(ct_dtype_of(s), CT_F32);
    assert_true(ct_item(s) == 7);
    s = ct_prod(i, .dtype = CT_F64);
    assert_int_equal(ct_dtype_of(s), CT_F64);
    assert_true(ct_item(s) == 8);
    s = ct_mean(i, .dtype = CT_F64);
    assert_int_equal(ct_dtype_of(s), CT_F64);
    assert_true(fabs(ct_item(s) - 7.0 / 3) < 1e-15);
    s = ct_norm(f, .dtype = CT_F64, .p = 1);
    assert_int_equal(ct_dtype_of(s), CT_F64);
    assert_true(ct_item(s) == 5.75);
    assert_int_equal(ct_dtype_of(ct_sum(ct_ones(CT_SHAPE(2), .dtype = CT_BOOL))), CT_I64);
    assert_true(ct_item(ct_sum(ct_ones(CT_SHAPE(5), .dtype = CT_BOOL))) == 5);
}

static void zero_dim_inputs(void **state) {
    (void)state;
    ct_tensor *s = ct_scalar_tensor(-2.5, .dtype = CT_F64);
    const ct_dims sets[] = {CT_DIMS(), CT_DIMS(0), CT_DIMS(-1)};
    for (int i = 0; i < 3; i++) {
        for (int kd = 0; kd < 2; kd++) {
            ct_tensor *r = ct_sum(s, .dim = sets[i], .keepdim = kd);
            assert_int_equal(ct_ndim(r), 0);
            assert_true(ct_item(r) == -2.5);
            assert_true(ct_item(ct_amax(s, .dim = sets[i], .keepdim = kd)) == -2.5);
            assert_true(ct_item(ct_norm(s, .dim = sets[i], .keepdim = kd)) == 2.5);
            assert_true(isnan(ct_item(ct_var(s, .dim = sets[i], .keepdim = kd))));
            assert_true(ct_item(ct_var(s, .dim = sets[i], .correction = 0)) == 0);
            assert_true(ct_item(ct_argmax(s, .dim = sets[i], .keepdim = kd)) == 0);
        }
    }
    assert_true(ct_item(ct_max(s)) == -2.5);
    assert_true(ct_item(ct_min(s)) == -2.5);
    ct_tensor *ix = NULL;
    ct_tensor *v = ct_max_dim(s, 0, false, &ix);
    assert_int_equal(ct_ndim(v), 0);
    assert_true(ct_item(v) == -2.5 && ct_item(ix) == 0);
    v = ct_min_dim(s, -1, true, &ix);
    assert_int_equal(ct_ndim(ix), 0);
    tu_assert_values(ct_softmax(s, 0), CT_SHAPE(), (double[]){1}, 0, 0);
    tu_assert_values(ct_log_softmax(s, -1), CT_SHAPE(), (double[]){0}, 0, 0);
    tu_assert_values(ct_cumsum(s, 0), CT_SHAPE(), (double[]){-2.5}, 0, 0);
    tu_assert_values(ct_cumprod(s, -1), CT_SHAPE(), (double[]){-2.5}, 0, 0);
}

static void zero_size_inputs(void **state) {
    (void)state;
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 3));
    double z3[3] = {0, 0, 0}, o3[3] = {1, 1, 1}, n3[3] = {NAN, NAN, NAN}, mi3[3] = {-INFINITY, -INFINITY, -INFINITY};
    tu_assert_values(ct_sum(e, .dim = CT_DIMS(0)), CT_SHAPE(3), z3, 0, 0);
    tu_assert_values(ct_prod(e, .dim = CT_DIMS(0)), CT_SHAPE(3), o3, 0, 0);
    tu_assert_values(ct_mean(e, .dim = CT_DIMS(0)), CT_SHAPE(3), n3, 0, 0);
    tu_assert_values(ct_var(e, .dim = CT_DIMS(0)), CT_SHAPE(3), n3, 0, 0);
    tu_assert_values(ct_std(e, .dim = CT_DIMS(0)), CT_SHAPE(3), n3, 0, 0);
    tu_assert_values(ct_norm(e, .dim = CT_DIMS(0)), CT_SHAPE(3), z3, 0, 0);
    tu_assert_values(ct_norm(e, .dim = CT_DIMS(0), .p = INFINITY), CT_SHAPE(3), z3, 0, 0);
    tu_assert_values(ct_logsumexp(e, .dim = CT_DIMS(0)), CT_SHAPE(3), mi3, 0, 0);
    tu_assert_values(ct_all(e, .dim = CT_DIMS(0)), CT_SHAPE(3), o3, 0, 0);
    tu_assert_values(ct_any(e, .dim = CT_DIMS(0)), CT_SHAPE(3), z3, 0, 0);
    tu_assert_values(ct_sum(e, .dim = CT_DIMS(0), .keepdim = true), CT_SHAPE(1, 3), z3, 0, 0);
    tu_assert_values(ct_sum(e), CT_SHAPE(), z3, 0, 0);
    tu_assert_values(ct_prod(e), CT_SHAPE(), o3, 0, 0);
    assert_true(isnan(ct_item(ct_mean(e))));
    /* Reducing a non-empty dim of an empty tensor gives an empty result, even for max. */
    tu_assert_values(ct_sum(e, .dim = CT_DIMS(1)), CT_SHAPE(0), NULL, 0, 0);
    tu_assert_values(ct_amax(e, .dim = CT_DIMS(1)), CT_SHAPE(0), NULL, 0, 0);
    tu_assert_values(ct_argmax(e, .dim = CT_DIMS(1)), CT_SHAPE(0), NULL, 0, 0);
    ct_tensor *ix = NULL;
    tu_assert_values(ct_max_dim(e, 1, true, &ix), CT_SHAPE(0, 1), NULL, 0, 0);
    tu_assert_values(ix, CT_SHAPE(0, 1), NULL, 0, 0);
    tu_assert_values(ct_softmax(e, 0), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_log_softmax(e, 1), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_cumsum(e, 0), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_cumprod(e, 1), CT_SHAPE(0, 3), NULL, 0, 0);
}

static void nan_propagates_and_first_extreme_wins(void **state) {
    (void)state;
    ct_tensor *t = ct_from_data((double[]){1, NAN, 3, NAN, 5, 5, -1, 5, -1}, CT_SHAPE(3, 3), CT_F64);
    assert_true(isnan(ct_item(ct_max(t))));
    assert_true(isnan(ct_item(ct_min(t))));
    assert_true(ct_item(ct_argmax(t)) == 1);
    assert_true(ct_item(ct_argmin(t)) == 1);
    tu_assert_values(ct_amax(t, .dim = CT_DIMS(1)), CT_SHAPE(3), (double[]){NAN, NAN, 5}, 0, 0);
    tu_assert_values(ct_amin(t, .dim = CT_DIMS(0)), CT_SHAPE(3), (double[]){NAN, NAN, -1}, 0, 0);
    ct_tensor *ix = NULL;
    tu_assert_values(ct_max_dim(t, 1, false, &ix), CT_SHAPE(3), (double[]){NAN, NAN, 5}, 0, 0);
    tu_assert_values(ix, CT_SHAPE(3), (double[]){1, 0, 1}, 0, 0);
    tu_assert_values(ct_min_dim(t, 1, true, &ix), CT_SHAPE(3, 1), (double[]){NAN, NAN, -1}, 0, 0);
    tu_assert_values(ix, CT_SHAPE(3, 1), (double[]){1, 0, 0}, 0, 0);
    tu_assert_values(ct_max_dim(t, 0, false, NULL), CT_SHAPE(3), (double[]){NAN, NAN, 5}, 0, 0);
    tu_assert_values(ct_norm(t, .dim = CT_DIMS(1), .p = INFINITY), CT_SHAPE(3), (double[]){NAN, NAN, 5}, 0, 0);
    tu_assert_values(ct_sum(t, .dim = CT_DIMS(1)), CT_SHAPE(3), (double[]){NAN, NAN, 3}, 0, 0);
    /* Ties: the first index, also across the fixed chunks of a long row. */
    ct_tensor *flat = ct_zeros(CT_SHAPE(200000), .dtype = CT_F32);
    assert_true(ct_item(ct_argmax(flat)) == 0);
    assert_true(ct_item(ct_argmin(flat)) == 0);
    ct_tensor *ints = ct_from_data((int32_t[]){2, 7, 7, -3, 7, -3}, CT_SHAPE(6), CT_I32);
    assert_true(ct_item(ct_argmax(ints)) == 1);
    assert_true(ct_item(ct_argmin(ints)) == 3);
    /* logsumexp with infinities, as PyTorch. */
    assert_true(ct_item(ct_logsumexp(ct_from_data((double[]){1, -INFINITY}, CT_SHAPE(2), CT_F64))) == 1);
    assert_true(ct_item(ct_logsumexp(ct_from_data((double[]){INFINITY, INFINITY}, CT_SHAPE(2), CT_F64))) == INFINITY);
    ct_tensor *all_minus_inf = ct_from_data((double[]){-INFINITY, -INFINITY}, CT_SHAPE(2), CT_F64);
    assert_true(ct_item(ct_logsumexp(all_minus_inf)) == -INFINITY);
    /* Parts that are all -inf do not disturb very negative ones (blocks and chunks are merged). */
    for (int64_t n = 512; n <= 140000; n += 139488) {
        ct_tensor *lse = ct_full(CT_SHAPE(n), -2000, .dtype = CT_F64);
        ct_fill_(ct_narrow(lse, 0, 0, n / 2), -INFINITY);
        assert_true(fabs(ct_item(ct_logsumexp(lse)) - (-2000 + log((double)(n - n / 2)))) < 1e-9);
    }
    /* all/any treat NaN as true. */
    assert_true(ct_item(ct_all(ct_from_data((double[]){NAN, 1}, CT_SHAPE(2), CT_F64))) == 1);
}

/* ---- row ops ---- */

typedef enum wop { W_SOFTMAX, W_LOG_SOFTMAX, W_CUMSUM, W_CUMPROD } wop;

static void ref_rows(wop op, const ct_tensor *t, int dim, double *want) {
    ct_shape s = ct_shape_of(t);
    const double *v = tu_values(t);
    int64_t outer = 1, len = s.ndim ? s.d[dim] : 1, inner = 1;
    for (int d = 0; d < dim; d++) outer *= s.d[d];
    for (int d = dim + 1; d < s.ndim; d++) inner *= s.d[d];
    for (int64_t a = 0; a < outer; a++) {
        for (int64_t b = 0; b < inner; b++) {
            const double *x = v + a * len * inner + b;
            double *y = want + a * len * inner + b;
            double m = -INFINITY, sum = 0, acc = op == W_CUMPROD ? 1 : 0;
            for (int64_t k = 0; k < len; k++) m = fmax(m, x[k * inner]);
            for (int64_t k = 0; k < len; k++) sum += exp(x[k * inner] - m);
            for (int64_t k = 0; k < len; k++) {
                double xv = x[k * inner];
                switch (op) {
                case W_SOFTMAX: y[k * inner] = exp(xv - m) / sum; break;
                case W_LOG_SOFTMAX: y[k * inner] = xv - m - log(sum); break;
                case W_CUMSUM: y[k * inner] = acc += xv; break;
                case W_CUMPROD: y[k * inner] = acc *= xv; break;
                }
            }
        }
    }
}

static ct_tensor *call_rows(wop op, const ct_tensor *t, int dim) {
    switch (op) {
    case W_SOFTMAX: return ct_softmax(t, dim);
    case W_LOG_SOFTMAX: return ct_log_softmax(t, dim);
    case W_CUMSUM: return ct_cumsum(t, dim);
    case W_CUMPROD: return ct_cumprod(t, dim);
    }
    return NULL;
}

static void check_rows(wop op, const ct_tensor *t, int dim, ct_dtype want_dtype, double rtol, double atol) {
    int64_t n = ct_numel(t);
    double *want = malloc((size_t)(n + 1) * sizeof *want);
    ref_rows(op, t, dim < 0 ? dim + ct_ndim(t) : dim, want);
    ct_tensor *got = call_rows(op, t, dim);
    if (!got) fail_msg("row op %d: %s", (int)op, ct_last_error());
    assert_int_equal(ct_dtype_of(got), want_dtype);
    tu_assert_values(got, ct_shape_of(t), want, rtol, atol);
    free(want);
}

static void softmax_and_scans_match_reference(void **state) {
    (void)state;
    uint64_t seed = 4;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_F16, CT_I32, CT_BOOL};
    for (int di = 0; di < 5; di++) {
        ct_dtype dt = dtypes[di];
        bool is_float = ct_dtype_is_floating(dt);
        double tol = dt == CT_F16 ? 2e-3 : dt == CT_F32 ? 2e-6 : 1e-12;
        for (int si = 1; si < NSHAPES; si++) {
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
                CT_SCOPE {
                    ct_tensor *t = tu_random(&seed, shapes[si], dt, (tu_layout)l, -3, 3);
                    ct_tensor *pos = tu_random(&seed, shapes[si], dt, (tu_layout)l, is_float ? 0.5 : -2, 1.5);
                    int nd = shapes[si].ndim;
                    for (int dim = -1; dim < nd; dim++) {
                        if (is_float) {
                            check_rows(W_SOFTMAX, t, dim, dt, tol, tol);
                            check_rows(W_LOG_SOFTMAX, t, dim, dt, tol, tol);
                        }
                        check_rows(W_CUMSUM, t, dim, is_float ? dt : CT_I64, tol, tol);
                        check_rows(W_CUMPROD, pos, dim, is_float ? dt : CT_I64, tol, tol);
                    }
                }
            }
        }
    }
}

static void softmax_is_stable_for_large_inputs(void **state) {
    (void)state;
    uint64_t seed = 5;
    for (int l = 0; l < TU_NUM_LAYOUTS; l++) {
        ct_tensor *t = tu_random(&seed, CT_SHAPE(4, 33), CT_F32, (tu_layout)l, 990, 1010);
        for (int dim = 0; dim < 2; dim++) {
            check_rows(W_SOFTMAX, t, dim, CT_F32, 1e-5, 1e-7);
            check_rows(W_LOG_SOFTMAX, t, dim, CT_F32, 1e-6, 1e-5);
            ct_tensor *rows = ct_sum(ct_softmax(t, dim), .dim = CT_DIMS(dim), .dtype = CT_F64);
            const double *v = tu_values(rows);
            for (int64_t i = 0; i < ct_numel(rows); i++) assert_true(fabs(v[i] - 1) < 1e-5);
        }
        ct_tensor *neg = tu_random(&seed, CT_SHAPE(3, 5), CT_F64, (tu_layout)l, -1010, -990);
        check_rows(W_SOFTMAX, neg, 1, CT_F64, 1e-12, 1e-15);
        check_rows(W_LOG_SOFTMAX, neg, 1, CT_F64, 1e-12, 1e-12);
        ct_tensor *lse = ct_logsumexp(t, .dim = CT_DIMS(1));
        double *want;
        ct_shape shape = ref_reduce(R_LSE, t, CT_DIMS(1), false, 0, 0, &want);
        tu_assert_values(lse, shape, want, 1e-6, 0);
        free(want);
    }
}

/* ---- dense f32 fast paths: lanes, tails, NaN and infinities in any lane ---- */

static void dense_f32_rows_and_columns(void **state) {
    (void)state;
    uint64_t seed = 11;
    const int64_t lens[] = {1, 31, 32, 33, 100, 1000, 70000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        int64_t n = lens[i];
        ct_tensor *t = tu_random(&seed, CT_SHAPE(3, n), CT_F32, TU_CONTIGUOUS, -1, 1);
        ct_tensor *wide = tu_random(&seed, CT_SHAPE(3, n), CT_F32, TU_CONTIGUOUS, -50, 50);
        check(R_LSE, wide, CT_DIMS(1), false, 0, 0, CT_F32, 1e-6, 1e-6);
        check(R_LSE, wide, CT_DIMS(), false, 0, 0, CT_F32, 1e-6, 1e-6);
        float *v = ct_data_ptr(t);
        /* row 1: a NaN late in the row (in the tail or a middle lane); row 2: +inf and -inf */
        v[n + (n * 7) / 8] = NAN;
        v[2 * n + n / 2] = INFINITY;
        v[2 * n + n / 3] = -INFINITY;
        for (int d = 0; d < 2; d++) {
            ct_dims dims = d ? CT_DIMS(0) : CT_DIMS(1);
            check(R_SUM, t, dims, false, 0, 0, CT_F32, 1e-6, 1e-6);
            check(R_MEAN, t, dims, false, 0, 0, CT_F32, 1e-6, 1e-6);
            check(R_AMAX, t, dims, false, 0, 0, CT_F32, 0, 0);
            check(R_AMIN, t, dims, false, 0, 0, CT_F32, 0, 0);
        }
        check(R_SUM, t, CT_DIMS(), false, 0, 0, CT_F32, 1e-6, 1e-6);
    }
    /* A NaN in the first element, and -0 vs 0: extremes compare equal. */
    ct_tensor *f = ct_from_data((float[]){NAN, 1, 2, 3}, CT_SHAPE(1, 4), CT_F32);
    assert_true(isnan(ct_item(ct_amax(f, .dim = CT_DIMS(1)))));
    assert_true(isnan(ct_item(ct_amin(f, .dim = CT_DIMS(1)))));
}

/* The vectorized expf: within 2 ulp of exp() on a sweep through the whole float range (subnormal
 * results included), and its special values. */
static void vector_expf_is_accurate(void **state) {
    (void)state;
    double worst = 0;
    for (float x = -110.0f; x < 89.0f; x += 0.000731f * (fabsf(x) + 1)) {
        double want = exp((double)x);
        float ref = (float)want;
        double ulp = isinf(ref) ? 0 : fmax(ldexp(1.0, ilogb(ref == 0 ? 0x1p-149f : ref) - 23), 0x1p-149);
        double err = isinf(ref) ? (isinf(ct__expf(x)) ? 0 : 1e9) : fabs((double)ct__expf(x) - want) / ulp;
        if (err > worst) worst = err;
    }
    if (worst > 2) fail_msg("expf error %.3f ulp", worst);
    assert_true(ct__expf(-INFINITY) == 0);
    assert_true(ct__expf(-200.0f) == 0);
    assert_true(isinf(ct__expf(INFINITY)) && isinf(ct__expf(89.0f)));
    assert_true(isnan(ct__expf(NAN)));
    assert_true(ct__expf(0) == 1);
}

/* The vectorized tanhf: within 3 ulp of tanh() from -20 to 20 (both branches, the switch at
 * 0.625, the region near 0 where 1 - 2/(e^2x + 1) would cancel), saturation, signs and NaN. */
static void vector_tanhf_is_accurate(void **state) {
    (void)state;
    double worst = 0;
    for (float x = -20.0f; x < 20.0f; x += 0.000317f * (fabsf(x) + 0.01f)) {
        double want = tanh((double)x);
        float ref = (float)want;
        double ulp = ldexp(1.0, ilogb(ref == 0 ? 0x1p-149f : ref) - 23);
        double err = fabs((double)ct__tanhf(x) - want) / ulp;
        if (err > worst) worst = err;
    }
    if (worst > 3) fail_msg("tanhf error %.3f ulp", worst);
    assert_true(ct__tanhf(0) == 0 && ct__tanhf(100) == 1 && ct__tanhf(-INFINITY) == -1);
    assert_true(isnan(ct__tanhf(NAN)));
    assert_true(ct__tanhf(1e-30f) == 1e-30f);
}

/* Dense f32 rows take the float path: long rows, -inf entries (probability 0), NaN rows. */
static void softmax_f32_dense_rows(void **state) {
    (void)state;
    uint64_t seed = 12;
    const int64_t lens[] = {1, 17, 32, 1000, 5000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        int64_t n = lens[i];
        ct_tensor *t = tu_random(&seed, CT_SHAPE(3, n), CT_F32, TU_CONTIGUOUS, -30, 30);
        float *v = ct_data_ptr(t);
        if (n > 1) v[n + n / 2] = -INFINITY;
        check_rows(W_SOFTMAX, t, 1, CT_F32, 1e-5, 1e-7);
        check_rows(W_LOG_SOFTMAX, t, 1, CT_F32, 1e-6, 1e-5);
        v[2 * n + n - 1] = NAN;
        const float *sm = ct_data_ptr(ct_softmax(t, 1)), *lsm = ct_data_ptr(ct_log_softmax(t, 1));
        for (int64_t k = 0; k < n; k++) assert_true(isnan(sm[2 * n + k]) && isnan(lsm[2 * n + k]));
        if (n > 1) assert_true(sm[n + n / 2] == 0 && lsm[n + n / 2] == -INFINITY);
    }
}

/* ---- threads, accuracy, big inputs ---- */

static bool bit_equal(const ct_tensor *a, const ct_tensor *b) {
    return ct_numel(a) == ct_numel(b) &&
           !memcmp(ct_data_ptr(a), ct_data_ptr(b), (size_t)ct_numel(a) * ct_dtype_size(ct_dtype_of(a)));
}

static void results_do_not_depend_on_thread_count(void **state) {
    (void)state;
    uint64_t seed = 6;
    int saved = ct_get_num_threads();
    ct_tensor *big = tu_random(&seed, CT_SHAPE(3000000), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *wide = tu_random(&seed, CT_SHAPE(3, 150000), CT_F32, TU_TRANSPOSED, -1, 1);
    ct_tensor *tall = tu_random(&seed, CT_SHAPE(40000, 8), CT_F32, TU_STEPPED, -1, 1);
    ct_tensor *r1[8], *r2[8];
    for (int pass = 0; pass < 2; pass++) {
        ct_tensor **r = pass ? r2 : r1;
        ct_set_num_threads(pass ? 2 : 1);
        r[0] = ct_sum(big);
        r[1] = ct_var(big);
        r[2] = ct_sum(wide, .dim = CT_DIMS(1));
        r[3] = ct_norm(wide, .dim = CT_DIMS(-1));
        r[4] = ct_mean(tall, .dim = CT_DIMS(0));
        r[5] = ct_softmax(tall, 1);
        r[6] = ct_logsumexp(big);
        r[7] = ct_argmax(big);
    }
    ct_set_num_threads(saved);
    for (int i = 0; i < 8; i++) {
        if (!bit_equal(r1[i], r2[i])) fail_msg("result %d differs between 1 and 2 threads", i);
    }
    /* And they are accurate: f32 sums accumulate in double. */
    double *want;
    ct_shape shape = ref_reduce(R_SUM, big, CT_DIMS(), false, 0, 0, &want);
    tu_assert_values(r1[0], shape, want, 1e-7, 1e-6);
    free(want);
    shape = ref_reduce(R_VAR, big, CT_DIMS(), false, 0, 1, &want);
    tu_assert_values(r1[1], shape, want, 1e-6, 0);
    free(want);
    shape = ref_reduce(R_SUM, wide, CT_DIMS(1), false, 0, 0, &want);
    tu_assert_values(r1[2], shape, want, 1e-7, 1e-6);
    free(want);
    shape = ref_reduce(R_MEAN, tall, CT_DIMS(0), false, 0, 0, &want);
    tu_assert_values(r1[4], shape, want, 1e-6, 1e-7);
    free(want);
    shape = ref_reduce(R_ARGMAX, big, CT_DIMS(), false, 0, 0, &want);
    tu_assert_values(r1[7], shape, want, 0, 0);
    free(want);
    ct_tensor *tenth = ct_full(CT_SHAPE(1000000), 0.1);
    assert_true(fabs(ct_item(ct_sum(tenth)) - 100000 * (double)0.1f * 10) < 1e-2);
}

/* The dense f32 fast paths give bit-identical results for 1 and 2 threads too. */
static void dense_f32_paths_do_not_depend_on_thread_count(void **state) {
    (void)state;
    uint64_t seed = 13;
    int saved = ct_get_num_threads();
    ct_tensor *big = tu_random(&seed, CT_SHAPE(3000000), CT_F32, TU_CONTIGUOUS, -5, 5);
    ct_tensor *m = tu_random(&seed, CT_SHAPE(300, 3000), CT_F32, TU_CONTIGUOUS, -5, 5);
    ct_tensor *r[2][7];
    for (int pass = 0; pass < 2; pass++) {
        ct_set_num_threads(pass + 1);
        r[pass][0] = ct_sum(big);
        r[pass][1] = ct_amax(big);
        r[pass][2] = ct_logsumexp(big);
        r[pass][3] = ct_sum(m, .dim = CT_DIMS(0));
        r[pass][4] = ct_amin(m, .dim = CT_DIMS(1));
        r[pass][5] = ct_softmax(m, 1);
        r[pass][6] = ct_log_softmax(m, 1);
    }
    ct_set_num_threads(saved);
    for (int i = 0; i < 7; i++)
        if (!bit_equal(r[0][i], r[1][i])) fail_msg("result %d differs between 1 and 2 threads", i);
}

/* ---- errors ---- */

/* ---- the fused softmax / log_softmax backward (tensor/softmax_impl.h) ---- */

/* dx from the f64 values of grad and y, rows along dim d: y (g - sum g y), or g - exp(y) sum g. */
static void ref_softmax_backward(const ct_tensor *grad, const ct_tensor *y, int d, bool log, double *dx) {
    const double *g = tu_values(grad), *v = tu_values(y);
    ct_shape s = ct_shape_of(y);
    int64_t outer = 1, n = s.ndim ? s.d[d] : 1, inner = 1;
    for (int i = 0; i < d; i++) outer *= s.d[i];
    for (int i = d + 1; i < s.ndim; i++) inner *= s.d[i];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * n * inner + i;
            double sum = 0;
            for (int64_t k = 0; k < n; k++) sum += log ? g[base + k * inner] : g[base + k * inner] * v[base + k * inner];
            for (int64_t k = 0; k < n; k++) {
                int64_t at = base + k * inner;
                dx[at] = log ? g[at] - exp(v[at]) * sum : v[at] * (g[at] - sum);
            }
        }
}

static void softmax_backward_matches_reference(void **state) {
    (void)state;
    uint64_t seed = 11;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_F16, CT_BF16};
    /* rows along the last dim (the row path) and along earlier dims, with more than one tile of
     * 256 neighbouring rows (2 x 3 x 260 along dim 1) */
    const ct_shape bshapes[] = {CT_SHAPE(), CT_SHAPE(7), CT_SHAPE(3, 5), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 3, 260),
                                CT_SHAPE(3, 1, 4, 2)};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        /* computed in double and rounded once: the dtype's rounding */
        double rtol = dt == CT_F64 ? 1e-12 : dt == CT_F32 ? 1e-6 : dt == CT_F16 ? 1e-3 : 8e-3;
        for (size_t si = 0; si < sizeof bshapes / sizeof *bshapes; si++) {
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) CT_SCOPE {
                int nd = bshapes[si].ndim;
                ct_tensor *x = tu_random(&seed, bshapes[si], dt, (tu_layout)l, -3, 3);
                ct_tensor *grad = tu_random(&seed, bshapes[si], dt, (tu_layout)((l + 1) % TU_NUM_LAYOUTS), -1, 1);
                for (int dim = -1; dim < (nd ? nd : 1); dim++) {
                    int d = dim < 0 ? dim + (nd ? nd : 1) : dim;
                    for (int log = 0; log < 2; log++) {
                        ct_tensor *y = log ? ct_log_softmax(x, dim) : ct_softmax(x, dim);
                        ct_tensor *dx = ct__softmax_backward(grad, y, dim, log);
                        if (!dx) fail_msg("softmax_backward: %s", ct_last_error());
                        assert_int_equal(ct_dtype_of(dx), dt);
                        double *want = malloc((size_t)(ct_numel(y) + 1) * sizeof *want);
                        ref_softmax_backward(grad, y, nd ? d : 0, log, want);
                        tu_assert_values(dx, bshapes[si], want, rtol, 1e-7);
                        free(want);
                    }
                }
            }
        }
    }
    /* errors name what is wrong */
    ct_tensor *f = ct_zeros(CT_SHAPE(2, 3));
    assert_null(ct__softmax_backward(NULL, f, 0, false));
    tu_assert_error(CT_ERR_NULL, "softmax_backward");
    assert_null(ct__softmax_backward(f, ct_zeros(CT_SHAPE(3, 2)), 0, false));
    tu_assert_error(CT_ERR_SHAPE, "softmax_backward: grad [2, 3] and output [3, 2] must have the same shape");
    assert_null(ct__softmax_backward(f, f, 2, true));
    tu_assert_error(CT_ERR_INDEX, "log_softmax_backward: Dimension out of range");
    ct_tensor *i = ct_zeros(CT_SHAPE(2, 3), .dtype = CT_I64);
    assert_null(ct__softmax_backward(i, i, 0, false));
    tu_assert_error(CT_ERR_DTYPE, "softmax_backward: expected a floating point output, got Long");
    /* a gradient of another floating dtype is taken in the output's */
    ct_tensor *y = ct_softmax(tu_random(&seed, CT_SHAPE(2, 3), CT_F32, TU_CONTIGUOUS, -1, 1), 1);
    ct_tensor *g64 = tu_random(&seed, CT_SHAPE(2, 3), CT_F64, TU_CONTIGUOUS, -1, 1);
    ct_tensor *dx = ct__softmax_backward(g64, y, 1, false);
    assert_non_null(dx);
    assert_int_equal(ct_dtype_of(dx), CT_F32);
    double want[6];
    ref_softmax_backward(ct_to_dtype(g64, CT_F32), y, 1, false, want);
    tu_assert_values(dx, CT_SHAPE(2, 3), want, 1e-6, 1e-7);
}

static void errors_follow_pytorch(void **state) {
    (void)state;
    ct_tensor *f = ct_zeros(CT_SHAPE(2, 3));
    ct_tensor *i = ct_zeros(CT_SHAPE(2, 3), .dtype = CT_I64);
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 3));
    assert_null(ct_sum(NULL));
    tu_assert_error(CT_ERR_NULL, "sum");
    assert_null(ct_softmax(NULL, 0));
    tu_assert_error(CT_ERR_NULL, "softmax");
    assert_null(ct_cumsum(NULL, 0));
    tu_assert_error(CT_ERR_NULL, "cumsum");
    assert_null(ct_max_dim(NULL, 0, false, NULL));
    tu_assert_error(CT_ERR_NULL, "max");
    /* Bad dims. */
    assert_null(ct_sum(f, .dim = CT_DIMS(2)));
    tu_assert_error(CT_ERR_INDEX, "sum: Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_mean(f, .dim = CT_DIMS(-3)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_sum(f, .dim = CT_DIMS(1, -1)));
    tu_assert_error(CT_ERR_ARG, "dim 1 appears multiple times in the list of dims");
    assert_null(ct_sum(ct_scalar_tensor(1), .dim = CT_DIMS(0, -1)));
    tu_assert_error(CT_ERR_ARG, "dim 0 appears multiple times in the list of dims");
    assert_null(ct_max_dim(f, 5, false, NULL));
    tu_assert_error(CT_ERR_INDEX, "max: Dimension out of range");
    assert_null(ct_softmax(f, 2));
    tu_assert_error(CT_ERR_INDEX, "softmax: Dimension out of range");
    assert_null(ct_cumprod(f, -3));
    tu_assert_error(CT_ERR_INDEX, "cumprod: Dimension out of range");
    assert_null(ct_argmax(f, .dim = CT_DIMS(0, 1)));
    tu_assert_error(CT_ERR_ARG, "argmax: expected at most one dim, got 2");
    /* Dtypes. */
    assert_null(ct_mean(i));
    tu_assert_error(CT_ERR_DTYPE, "mean(): could not infer output dtype. Input dtype must be either a floating point "
                                  "or complex dtype. Got: Long");
    assert_null(ct_mean(f, .dtype = CT_I32));
    tu_assert_error(CT_ERR_DTYPE, "Optional dtype must be either a floating point or complex dtype. Got: Int");
    assert_null(ct_var(i));
    tu_assert_error(CT_ERR_DTYPE, "var: std and var only support floating point and complex dtypes");
    assert_null(ct_std(ct_zeros(CT_SHAPE(2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "std: std and var only support floating point and complex dtypes");
    assert_null(ct_norm(i));
    tu_assert_error(CT_ERR_DTYPE, "norm(): input dtype should be either floating point or complex. Got Long instead.");
    assert_null(ct_norm(f, .dtype = CT_I64));
    tu_assert_error(CT_ERR_DTYPE, "the desired output dtype should be either floating point or complex");
    assert_null(ct_norm(f, .p = NAN));
    tu_assert_error(CT_ERR_ARG, "norm: p must not be nan");
    assert_null(ct_softmax(i, 1));
    tu_assert_error(CT_ERR_DTYPE, "\"softmax_kernel_impl\" not implemented for 'Long'");
    assert_null(ct_log_softmax(ct_zeros(CT_SHAPE(2), .dtype = CT_U8), 0));
    tu_assert_error(CT_ERR_DTYPE, "\"log_softmax_kernel_impl\" not implemented for 'Byte'");
    assert_null(ct_sum(f, .dtype = (ct_dtype)42));
    tu_assert_error(CT_ERR_DTYPE, "sum: invalid dtype 42");
    /* Empty reductions without an identity. */
    assert_null(ct_max(e));
    tu_assert_error(CT_ERR_ARG, "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                                "reduction dim with the 'dim' argument.");
    assert_null(ct_min(e));
    tu_assert_error(CT_ERR_ARG, "min(): Expected reduction dim to be specified");
    assert_null(ct_amax(e));
    tu_assert_error(CT_ERR_ARG, "amax(): Expected reduction dim to be specified");
    assert_null(ct_amax(e, .dim = CT_DIMS(0)));
    tu_assert_error(CT_ERR_INDEX, "amax(): Expected reduction dim 0 to have non-zero size.");
    assert_null(ct_amin(e, .dim = CT_DIMS(-2, 1)));
    tu_assert_error(CT_ERR_INDEX, "amin(): Expected reduction dim 0 to have non-zero size.");
    assert_null(ct_max_dim(e, 0, false, NULL));
    tu_assert_error(CT_ERR_INDEX, "max(): Expected reduction dim 0 to have non-zero size.");
    assert_null(ct_min_dim(e, -2, true, NULL));
    tu_assert_error(CT_ERR_INDEX, "min(): Expected reduction dim 0 to have non-zero size.");
    assert_null(ct_argmax(e));
    tu_assert_error(CT_ERR_INDEX, "argmax(): Expected reduction dim to be specified for input.numel() == 0.");
    assert_null(ct_argmin(e, .dim = CT_DIMS(0)));
    tu_assert_error(CT_ERR_INDEX, "argmin(): Expected reduction dim 0 to have non-zero size.");
    /* Errors leave nothing behind in the scope but the inputs. */
    int64_t before = ct_scope_size();
    assert_null(ct_mean(i, .dim = CT_DIMS(0)));
    ct_clear_error();
    assert_int_equal(ct_scope_size(), before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_reductions_match_reference),
        cmocka_unit_test(integer_and_bool_reductions),
        cmocka_unit_test(half_precision_reductions),
        cmocka_unit_test(dtype_option),
        cmocka_unit_test(zero_dim_inputs),
        cmocka_unit_test(zero_size_inputs),
        cmocka_unit_test(nan_propagates_and_first_extreme_wins),
        cmocka_unit_test(softmax_and_scans_match_reference),
        cmocka_unit_test(softmax_is_stable_for_large_inputs),
        cmocka_unit_test(dense_f32_rows_and_columns),
        cmocka_unit_test(vector_expf_is_accurate),
        cmocka_unit_test(vector_tanhf_is_accurate),
        cmocka_unit_test(softmax_f32_dense_rows),
        cmocka_unit_test(softmax_backward_matches_reference),
        cmocka_unit_test(results_do_not_depend_on_thread_count),
        cmocka_unit_test(dense_f32_paths_do_not_depend_on_thread_count),
        cmocka_unit_test(errors_follow_pytorch),
    };
    return TU_RUN("reduce", tests);
}
