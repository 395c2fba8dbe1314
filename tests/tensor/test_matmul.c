/* Matrix products: mm, bmm, matmul, mv, dot, outer, addmm, baddbmm, einsum against f64 references
 * computed here with naive loops, over all input layouts and several dtypes; 0-size cases; errors. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

static const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_F16, CT_BF16, CT_I64};
#define NDTYPES (sizeof(dtypes) / sizeof(dtypes[0]))

static double rtol_of(ct_dtype dt) {
    switch (dt) {
    case CT_F64: return 1e-12;
    case CT_F32: return 1e-5;
    case CT_F16: return 2e-3;
    case CT_BF16: return 1e-2;
    default: return 0;
    }
}
/* Products of values in [-2, 2) summed over k <= 9 terms: absolute slack for cancellation. */
static double atol_of(ct_dtype dt) { return rtol_of(dt) * 40; }

static ct_tensor *rnd(uint64_t *st, ct_shape shape, ct_dtype dt, tu_layout layout) {
    return tu_random(st, shape, dt, layout, dt == CT_I64 ? -5 : -2, dt == CT_I64 ? 5 : 2);
}

/* Naive einsum over values in logical order: loops over every assignment of all labels. */
static double *ref_einsum(const char *in0, const double *v0, const int64_t *s0, const char *in1, const double *v1,
                          const int64_t *s1, const char *out, int64_t *out_numel) {
    int64_t size[128] = {0};
    const char *ins[2] = {in0, in1};
    const int64_t *ss[2] = {s0, s1};
    char labels[64] = {0};
    int nl = 0;
    for (int t = 0; t < 2; t++)
        for (int i = 0; ins[t] && ins[t][i]; i++) {
            char c = ins[t][i];
            if (!size[(int)c] || size[(int)c] == 1) size[(int)c] = ss[t][i];
            if (!strchr(labels, c)) labels[nl++] = c;
        }
    int64_t total = 1, on = 1;
    for (int i = 0; i < nl; i++) total *= size[(int)labels[i]];
    for (int i = 0; out[i]; i++) on *= size[(int)out[i]];
    double *r = test_calloc((size_t)(on ? on : 1), sizeof(double));
    int64_t idx[128];
    for (int64_t a = 0; a < total; a++) {
        int64_t rem = a;
        for (int i = nl - 1; i >= 0; i--) {
            idx[(int)labels[i]] = rem % size[(int)labels[i]];
            rem /= size[(int)labels[i]];
        }
        double p = 1;
        for (int t = 0; t < 2; t++) {
            if (!ins[t]) continue;
            int64_t off = 0;
            for (int i = 0; ins[t][i]; i++) off = off * ss[t][i] + (ss[t][i] == 1 ? 0 : idx[(int)ins[t][i]]);
            p *= (t == 0 ? v0 : v1)[off];
        }
        int64_t o = 0;
        for (int i = 0; out[i]; i++) o = o * size[(int)out[i]] + idx[(int)out[i]];
        r[o] += p;
    }
    *out_numel = on;
    return r;
}

/* Checks ct_result (any product op) against the einsum reference of the same contraction. */
static void check_ref(const ct_tensor *got, ct_shape want_shape, const char *in0, const ct_tensor *a, const char *in1,
                      const ct_tensor *b, const char *out, double scale, ct_dtype dt) {
    assert_non_null(got);
    assert_int_equal(ct_dtype_of(got), dt);
    ct_shape sa = ct_shape_of(a), sb = b ? ct_shape_of(b) : CT_SHAPE();
    int64_t n;
    double *want = ref_einsum(in0, tu_values(a), sa.d, in1, b ? tu_values(b) : NULL, sb.d, out, &n);
    for (int64_t i = 0; i < n; i++) want[i] *= scale;
    tu_assert_values(got, want_shape, want, rtol_of(dt), atol_of(dt));
    test_free(want);
}

static void mm_all_layouts_and_dtypes(void **state) {
    (void)state;
    uint64_t st = 1;
    for (size_t di = 0; di < NDTYPES; di++)
        for (int la = 0; la < TU_NUM_LAYOUTS; la++)
            for (int lb = 0; lb < TU_NUM_LAYOUTS; lb++) CT_SCOPE {
                    ct_dtype dt = dtypes[di];
                    int64_t m = 1 + (int64_t)tu_uniform(&st, 0, 9), k = 1 + (int64_t)tu_uniform(&st, 0, 9),
                            n = 1 + (int64_t)tu_uniform(&st, 0, 9);
                    ct_tensor *a = rnd(&st, CT_SHAPE(m, k), dt, (tu_layout)la);
                    ct_tensor *b = rnd(&st, CT_SHAPE(k, n), dt, (tu_layout)lb);
                    check_ref(ct_mm(a, b), CT_SHAPE(m, n), "ij", a, "jk", b, "ik", 1, dt);
                    check_ref(ct_matmul(a, b), CT_SHAPE(m, n), "ij", a, "jk", b, "ik", 1, dt);
                    ct_tensor *v = rnd(&st, CT_SHAPE(k), dt, (tu_layout)lb);
                    check_ref(ct_mv(a, v), CT_SHAPE(m), "ij", a, "j", v, "i", 1, dt);
                    check_ref(ct_matmul(a, v), CT_SHAPE(m), "ij", a, "j", v, "i", 1, dt);
                    ct_tensor *w = rnd(&st, CT_SHAPE(m), dt, (tu_layout)la);
                    check_ref(ct_matmul(w, a), CT_SHAPE(k), "i", w, "ij", a, "j", 1, dt);
                    ct_tensor *u = rnd(&st, CT_SHAPE(k), dt, (tu_layout)la);
                    check_ref(ct_dot(u, v), CT_SHAPE(), "i", u, "i", v, "", 1, dt);
                    check_ref(ct_matmul(u, v), CT_SHAPE(), "i", u, "i", v, "", 1, dt);
                    check_ref(ct_outer(w, v), CT_SHAPE(m, k), "i", w, "j", v, "ij", 1, dt);
                }
}

static void larger_mm_uses_blas_layouts(void **state) {
    (void)state;
    uint64_t st = 2;
    /* Sizes past OpenBLAS's small-matrix paths, with transposed and stepped operands. */
    for (int la = 0; la < TU_NUM_LAYOUTS; la++) CT_SCOPE {
            ct_tensor *a = rnd(&st, CT_SHAPE(67, 130), CT_F64, (tu_layout)la);
            ct_tensor *b = rnd(&st, CT_SHAPE(130, 45), CT_F64, (tu_layout)((la + 1) % TU_NUM_LAYOUTS));
            check_ref(ct_mm(a, b), CT_SHAPE(67, 45), "ij", a, "jk", b, "ik", 1, CT_F64);
            ct_tensor *af = rnd(&st, CT_SHAPE(67, 130), CT_F32, (tu_layout)la);
            ct_tensor *bf = rnd(&st, CT_SHAPE(130, 45), CT_F32, TU_TRANSPOSED);
            check_ref(ct_mm(af, bf), CT_SHAPE(67, 45), "ij", af, "jk", bf, "ik", 1, CT_F32);
        }
}

static void batched_and_broadcast(void **state) {
    (void)state;
    uint64_t st = 3;
    for (size_t di = 0; di < NDTYPES; di++)
        for (int la = 0; la < TU_NUM_LAYOUTS; la++) CT_SCOPE {
                ct_dtype dt = dtypes[di];
                tu_layout lb = (tu_layout)((la + 1) % TU_NUM_LAYOUTS);
                ct_tensor *a = rnd(&st, CT_SHAPE(4, 3, 5), dt, (tu_layout)la), *b = rnd(&st, CT_SHAPE(4, 5, 2), dt, lb);
                check_ref(ct_bmm(a, b), CT_SHAPE(4, 3, 2), "bij", a, "bjk", b, "bik", 1, dt);
                check_ref(ct_matmul(a, b), CT_SHAPE(4, 3, 2), "bij", a, "bjk", b, "bik", 1, dt);
                /* (2,1,3,4) @ (5,4,2) -> (2,5,3,2): stride-0 batch dims */
                ct_tensor *c = rnd(&st, CT_SHAPE(2, 1, 3, 4), dt, (tu_layout)la), *d = rnd(&st, CT_SHAPE(5, 4, 2), dt, lb);
                check_ref(ct_matmul(c, d), CT_SHAPE(2, 5, 3, 2), "xyij", c, "yjk", d, "xyik", 1, dt);
                /* batched @ matrix (folded into one mm when strides allow), matrix @ batched */
                ct_tensor *e = rnd(&st, CT_SHAPE(5, 4), dt, lb);
                check_ref(ct_matmul(a, e), CT_SHAPE(4, 3, 4), "bij", a, "jk", e, "bik", 1, dt);
                ct_tensor *f = rnd(&st, CT_SHAPE(2, 4), dt, (tu_layout)la);
                check_ref(ct_matmul(f, d), CT_SHAPE(5, 2, 2), "ij", f, "bjk", d, "bik", 1, dt);
                /* 1-D with batched */
                ct_tensor *v = rnd(&st, CT_SHAPE(5), dt, lb), *w = rnd(&st, CT_SHAPE(3), dt, (tu_layout)la);
                check_ref(ct_matmul(a, v), CT_SHAPE(4, 3), "bij", a, "j", v, "bi", 1, dt);
                check_ref(ct_matmul(w, a), CT_SHAPE(4, 5), "i", w, "bij", a, "bj", 1, dt);
            }
}

static void many_small_batches_independent_of_threads(void **state) {
    (void)state;
    uint64_t st = 4;
    ct_tensor *a = rnd(&st, CT_SHAPE(64, 8, 7), CT_F32, TU_TRANSPOSED), *b = rnd(&st, CT_SHAPE(64, 7, 9), CT_F32, 0);
    int saved = ct_get_num_threads();
    ct_set_num_threads(1);
    ct_tensor *r1 = ct_bmm(a, b);
    ct_tensor *i1 = ct_bmm(ct_to_dtype(a, CT_I64), ct_to_dtype(b, CT_I64));
    ct_set_num_threads(2);
    ct_tensor *r2 = ct_bmm(a, b);
    ct_tensor *i2 = ct_bmm(ct_to_dtype(a, CT_I64), ct_to_dtype(b, CT_I64));
    ct_set_num_threads(saved);
    assert_memory_equal(ct_data_ptr(r1), ct_data_ptr(r2), (size_t)ct_numel(r1) * sizeof(float));
    assert_memory_equal(ct_data_ptr(i1), ct_data_ptr(i2), (size_t)ct_numel(i1) * sizeof(int64_t));
    check_ref(r1, CT_SHAPE(64, 8, 9), "bij", a, "bjk", b, "bik", 1, CT_F32);
}

static void addmm_and_baddbmm(void **state) {
    (void)state;
    uint64_t st = 5;
    const double betas[] = {1, 0.5, 0}, alphas[] = {1, -2, 0.25};
    for (size_t di = 0; di < NDTYPES; di++)
        for (int la = 0; la < TU_NUM_LAYOUTS; la++)
            for (int s = 0; s < 3; s++) CT_SCOPE {
                    ct_dtype dt = dtypes[di];
                    double beta = dt == CT_I64 ? (double)(s + 1) : betas[s], alpha = dt == CT_I64 ? -(double)s : alphas[s];
                    ct_tensor *a = rnd(&st, CT_SHAPE(3, 4), dt, (tu_layout)la), *b = rnd(&st, CT_SHAPE(4, 5), dt, TU_TRANSPOSED);
                    /* input broadcast: (5) then (3, 1) then full (3, 5) */
                    ct_shape ishapes[3] = {CT_SHAPE(5), CT_SHAPE(3, 1), CT_SHAPE(3, 5)};
                    ct_tensor *in = rnd(&st, ishapes[s], dt, (tu_layout)la);
                    ct_tensor *r = ct_addmm(in, a, b, .beta = beta, .alpha = alpha);
                    int64_t n;
                    double *p = ref_einsum("ij", tu_values(a), ct_shape_of(a).d, "jk", tu_values(b), ct_shape_of(b).d, "ik", &n);
                    double *iv = tu_values(ct_contiguous(ct_expand(in, CT_SHAPE(3, 5))));
                    for (int64_t i = 0; i < n; i++) p[i] = beta * iv[i] + alpha * p[i];
                    tu_assert_values(r, CT_SHAPE(3, 5), p, rtol_of(dt), atol_of(dt) * 4);
                    test_free(p);
                    ct_tensor *ba = rnd(&st, CT_SHAPE(2, 3, 4), dt, (tu_layout)la), *bb = rnd(&st, CT_SHAPE(2, 4, 5), dt, 0);
                    ct_tensor *bin = rnd(&st, CT_SHAPE(3, 1), dt, 0);
                    ct_tensor *br = ct_baddbmm(bin, ba, bb, .beta = beta, .alpha = alpha);
                    p = ref_einsum("bij", tu_values(ba), ct_shape_of(ba).d, "bjk", tu_values(bb), ct_shape_of(bb).d, "bik", &n);
                    iv = tu_values(ct_contiguous(ct_expand(bin, CT_SHAPE(2, 3, 5))));
                    for (int64_t i = 0; i < n; i++) p[i] = beta * iv[i] + alpha * p[i];
                    tu_assert_values(br, CT_SHAPE(2, 3, 5), p, rtol_of(dt), atol_of(dt) * 4);
                    test_free(p);
                }
    /* beta = 0 ignores the input, NaNs included, as PyTorch */
    ct_tensor *nan = ct_full(CT_SHAPE(2, 2), NAN);
    tu_assert_values(ct_addmm(nan, ct_ones(CT_SHAPE(2, 3)), ct_ones(CT_SHAPE(3, 2)), .beta = 0), CT_SHAPE(2, 2),
                     (double[]){3, 3, 3, 3}, 0, 0);
    tu_assert_values(ct_baddbmm(nan, ct_ones(CT_SHAPE(1, 2, 3)), ct_ones(CT_SHAPE(1, 3, 2)), .beta = 0, .alpha = 2),
                     CT_SHAPE(1, 2, 2), (double[]){6, 6, 6, 6}, 0, 0);
}

static void zero_size(void **state) {
    (void)state;
    ct_tensor *e = ct_mm(ct_ones(CT_SHAPE(0, 3)), ct_ones(CT_SHAPE(3, 2)));
    assert_non_null(e);
    assert_int_equal(ct_size(e, 0), 0);
    assert_int_equal(ct_size(e, 1), 2);
    /* k = 0: zeros, even into fresh (uninitialised) memory, for BLAS and integer kernels */
    for (int i = 0; i < 3; i++) {
        ct_dtype dt = i == 0 ? CT_F32 : i == 1 ? CT_F64 : CT_I64;
        tu_assert_values(ct_mm(ct_ones(CT_SHAPE(2, 0), .dtype = dt), ct_ones(CT_SHAPE(0, 2), .dtype = dt)),
                         CT_SHAPE(2, 2), (double[]){0, 0, 0, 0}, 0, 0);
    }
    tu_assert_values(ct_dot(ct_ones(CT_SHAPE(0)), ct_ones(CT_SHAPE(0))), CT_SHAPE(), (double[]){0}, 0, 0);
    tu_assert_values(ct_addmm(ct_full(CT_SHAPE(2), 3), ct_ones(CT_SHAPE(2, 0)), ct_ones(CT_SHAPE(0, 2)), .beta = 2),
                     CT_SHAPE(2, 2), (double[]){6, 6, 6, 6}, 0, 0);
    ct_tensor *b0 = ct_bmm(ct_ones(CT_SHAPE(0, 2, 3)), ct_ones(CT_SHAPE(0, 3, 4)));
    assert_non_null(b0);
    assert_int_equal(ct_numel(b0), 0);
    assert_int_equal(ct_size(b0, 2), 4);
    tu_assert_values(ct_einsum("ij,jk->ik", CT_TENSORS(ct_ones(CT_SHAPE(2, 0)), ct_ones(CT_SHAPE(0, 3)))),
                     CT_SHAPE(2, 3), (double[]){0, 0, 0, 0, 0, 0}, 0, 0);
}

typedef struct einsum_case {
    const char *eq, *in0, *in1, *out; /* in0/in1/out: the explicit labels for the reference */
    ct_shape s0, s1, want;
} einsum_case;

static void einsum_vs_reference(void **state) {
    (void)state;
    const einsum_case cases[] = {
        {"ij,jk->ik", "ij", "jk", "ik", CT_SHAPE(3, 4), CT_SHAPE(4, 5), CT_SHAPE(3, 5)},
        {"bij,bjk->bik", "bij", "bjk", "bik", CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5), CT_SHAPE(2, 3, 5)},
        {"ij->ji", "ij", NULL, "ji", CT_SHAPE(3, 4), CT_SHAPE(), CT_SHAPE(4, 3)},
        {"ii->i", "ii", NULL, "i", CT_SHAPE(4, 4), CT_SHAPE(), CT_SHAPE(4)},
        {"ii", "ii", NULL, "", CT_SHAPE(4, 4), CT_SHAPE(), CT_SHAPE()},
        {"ij,ij->", "ij", "ij", "", CT_SHAPE(3, 4), CT_SHAPE(3, 4), CT_SHAPE()},
        {"i,j->ij", "i", "j", "ij", CT_SHAPE(3), CT_SHAPE(4), CT_SHAPE(3, 4)},
        {"bhqd,bhkd->bhqk", "bhqd", "bhkd", "bhqk", CT_SHAPE(2, 3, 4, 5), CT_SHAPE(2, 3, 6, 5), CT_SHAPE(2, 3, 4, 6)},
        {"ij,jk", "ij", "jk", "ik", CT_SHAPE(3, 4), CT_SHAPE(4, 5), CT_SHAPE(3, 5)},
        {"ba", "ba", NULL, "ab", CT_SHAPE(3, 4), CT_SHAPE(), CT_SHAPE(4, 3)},
        {"ij->", "ij", NULL, "", CT_SHAPE(3, 4), CT_SHAPE(), CT_SHAPE()},
        {"ijk->ki", "ijk", NULL, "ki", CT_SHAPE(2, 3, 4), CT_SHAPE(), CT_SHAPE(4, 2)},
        /* labels summed out of one operand only, a diagonal inside a product, broadcast size-1 dims */
        {"ijx,jk->ik", "ijx", "jk", "ik", CT_SHAPE(3, 4, 2), CT_SHAPE(4, 5), CT_SHAPE(3, 5)},
        {"iij,jk->ik", "iij", "jk", "ik", CT_SHAPE(3, 3, 4), CT_SHAPE(4, 2), CT_SHAPE(3, 2)},
        {"bij,bjk->bik", "bij", "bjk", "bik", CT_SHAPE(1, 3, 4), CT_SHAPE(2, 4, 5), CT_SHAPE(2, 3, 5)},
        {"ij,jk->ik", "ij", "jk", "ik", CT_SHAPE(3, 1), CT_SHAPE(4, 5), CT_SHAPE(3, 5)},
        {"i j -> j i", "ij", NULL, "ji", CT_SHAPE(2, 3), CT_SHAPE(), CT_SHAPE(3, 2)},
        {"->", "", NULL, "", CT_SHAPE(), CT_SHAPE(), CT_SHAPE()},
        {"Ba,ab", "Ba", "ab", "Bb", CT_SHAPE(2, 3), CT_SHAPE(3, 4), CT_SHAPE(2, 4)},
    };
    uint64_t st = 6;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (size_t di = 0; di < NDTYPES; di++)
            for (int l = 0; l < TU_NUM_LAYOUTS; l++) CT_SCOPE {
                    const einsum_case *ec = &cases[c];
                    ct_dtype dt = dtypes[di];
                    ct_tensor *a = rnd(&st, ec->s0, dt, (tu_layout)l);
                    ct_tensor *b = ec->in1 ? rnd(&st, ec->s1, dt, (tu_layout)((l + 1) % TU_NUM_LAYOUTS)) : NULL;
                    ct_tensor *r = b ? ct_einsum(ec->eq, CT_TENSORS(a, b)) : ct_einsum(ec->eq, CT_TENSORS(a));
                    if (!r) print_error("einsum %s: %s\n", ec->eq, ct_last_error());
                    check_ref(r, ec->want, ec->in0, a, ec->in1, b, ec->out, 1, dt);
                }
}

static void errors(void **state) {
    (void)state;
    ct_tensor *m23 = ct_ones(CT_SHAPE(2, 3)), *m34 = ct_ones(CT_SHAPE(3, 4)), *v3 = ct_ones(CT_SHAPE(3));
    assert_null(ct_mm(ct_ones(CT_SHAPE(64, 784)), ct_ones(CT_SHAPE(256, 10))));
    tu_assert_error(CT_ERR_SHAPE, "mm: mat1 and mat2 shapes cannot be multiplied (64x784 and 256x10)");
    assert_null(ct_mm(v3, m34));
    tu_assert_error(CT_ERR_SHAPE, "mm: self must be a matrix");
    assert_null(ct_mm(m23, v3));
    tu_assert_error(CT_ERR_SHAPE, "mm: mat2 must be a matrix");
    assert_null(ct_mm(m23, ct_ones(CT_SHAPE(3, 4), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");
    assert_null(ct_mm(ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL), ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
    assert_null(ct_mm(NULL, m34));
    tu_assert_error(CT_ERR_NULL, "mm");

    assert_null(ct_bmm(m23, ct_ones(CT_SHAPE(2, 3, 4))));
    tu_assert_error(CT_ERR_SHAPE, "batch1 must be a 3D tensor");
    assert_null(ct_bmm(ct_ones(CT_SHAPE(2, 3, 4)), m34));
    tu_assert_error(CT_ERR_SHAPE, "batch2 must be a 3D tensor");
    assert_null(ct_bmm(ct_ones(CT_SHAPE(4, 3, 5)), ct_ones(CT_SHAPE(4, 6, 2))));
    tu_assert_error(CT_ERR_SHAPE, "Expected size for first two dimensions of batch2 tensor to be: [4, 5] but got: [4, 6].");
    assert_null(ct_bmm(ct_ones(CT_SHAPE(1, 2, 2), .dtype = CT_BOOL), ct_ones(CT_SHAPE(1, 2, 2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "\"bmm\" not implemented for 'Bool'");
    assert_null(ct_bmm(ct_ones(CT_SHAPE(1, 2, 2)), ct_ones(CT_SHAPE(1, 2, 2), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");

    assert_null(ct_dot(m23, m23));
    tu_assert_error(CT_ERR_SHAPE, "1D tensors expected, but got 2D and 2D tensors");
    assert_null(ct_dot(v3, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "inconsistent tensor size, expected tensor [3] and src [4] to have the same number "
                                  "of elements, but got 3 and 4 elements respectively");
    assert_null(ct_dot(v3, ct_ones(CT_SHAPE(3), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected both vectors to have same dtype, but found Float and Double");
    assert_null(ct_dot(ct_ones(CT_SHAPE(3), .dtype = CT_BOOL), ct_ones(CT_SHAPE(3), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "\"dot\" not implemented for 'Bool'");

    assert_null(ct_mv(ct_ones(CT_SHAPE(3, 4)), v3));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch, got 3, 3x4,3");
    assert_null(ct_mv(v3, v3));
    tu_assert_error(CT_ERR_SHAPE, "vector + matrix @ vector expected, got 1, 1, 1");
    assert_null(ct_mv(m34, ct_ones(CT_SHAPE(4), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");
    assert_null(ct_mv(ct_ones(CT_SHAPE(3, 3), .dtype = CT_BOOL), ct_ones(CT_SHAPE(3), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "\"addmv_impl_cpu\" not implemented for 'Bool'");
    assert_null(ct_outer(m23, v3));
    tu_assert_error(CT_ERR_SHAPE, "outer: Expected 1-D argument self, but got 2-D");
    assert_null(ct_outer(v3, m23));
    tu_assert_error(CT_ERR_SHAPE, "outer: Expected 1-D argument vec2, but got 2-D");

    assert_null(ct_matmul(ct_scalar_tensor(1), m23));
    tu_assert_error(CT_ERR_SHAPE, "both arguments to matmul need to be at least 1D, but they are 0D and 2D");
    assert_null(ct_matmul(v3, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "inconsistent tensor size, expected tensor [3] and src [4]");
    assert_null(ct_matmul(m23, ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch, got 2, 2x3,4");
    assert_null(ct_matmul(v3, ct_ones(CT_SHAPE(4, 5))));
    tu_assert_error(CT_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 3)), ct_ones(CT_SHAPE(4, 5))));
    tu_assert_error(CT_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 3)), ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch, got 4, 4x3,4");
    assert_null(ct_matmul(v3, ct_ones(CT_SHAPE(2, 4, 5))));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch, got 10, 10x4,3");
    assert_null(ct_matmul(m23, ct_ones(CT_SHAPE(2, 4, 5))));
    tu_assert_error(CT_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 3)), ct_ones(CT_SHAPE(2, 4, 5))));
    tu_assert_error(CT_ERR_SHAPE, "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 3)), ct_ones(CT_SHAPE(3, 3, 5))));
    tu_assert_error(CT_ERR_SHAPE, "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 3)), ct_ones(CT_SHAPE(2, 3, 5), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");
    assert_null(ct_matmul(ct_ones(CT_SHAPE(2, 2, 2), .dtype = CT_BOOL), ct_ones(CT_SHAPE(2, 2, 2), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_DTYPE, "\"bmm\" not implemented for 'Bool'");

    assert_null(ct_addmm(v3, m23, m34));
    tu_assert_error(CT_ERR_SHAPE, "The expanded size of the tensor (4) must match the existing size (3) at "
                                  "non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [3]");
    assert_null(ct_addmm(ct_ones(CT_SHAPE(2, 1, 4)), m23, m34));
    tu_assert_error(CT_ERR_SHAPE, "the number of sizes provided (2) must be greater or equal to the number of dimensions in the tensor (3)");
    assert_null(ct_addmm(ct_ones(CT_SHAPE(2, 4), .dtype = CT_F64), m23, m34));
    tu_assert_error(CT_ERR_DTYPE, "self and mat2 must have the same dtype");
    assert_null(ct_addmm(ct_ones(CT_SHAPE(4)), m23, ct_ones(CT_SHAPE(4, 4))));
    tu_assert_error(CT_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x4)");
    assert_null(ct_addmm(ct_ones(CT_SHAPE(4)), v3, m34));
    tu_assert_error(CT_ERR_SHAPE, "mat1 must be a matrix, got 1-D tensor");
    assert_null(ct_baddbmm(ct_ones(CT_SHAPE(2, 2, 4)), ct_ones(CT_SHAPE(2, 3, 3)), ct_ones(CT_SHAPE(2, 3, 4))));
    tu_assert_error(CT_ERR_SHAPE, "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 1");
    assert_null(ct_baddbmm(ct_ones(CT_SHAPE(4)), m23, ct_ones(CT_SHAPE(2, 3, 4))));
    tu_assert_error(CT_ERR_SHAPE, "batch1 must be a 3D tensor");
    assert_null(ct_addmm(NULL, m23, m34));
    tu_assert_error(CT_ERR_NULL, "addmm");

    assert_null(ct_einsum("ij,jk->ik", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_ARG, "einsum(): fewer operands were provided than specified in the equation");
    assert_null(ct_einsum("ij->ij", CT_TENSORS(m23, m34)));
    tu_assert_error(CT_ERR_ARG, "einsum(): more operands were provided than specified in the equation");
    assert_null(ct_einsum("ij,jk->ik", CT_TENSORS(m23, ct_ones(CT_SHAPE(4, 5)))));
    tu_assert_error(CT_ERR_SHAPE, "einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3");
    assert_null(ct_einsum("ij->ik", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_ARG, "einsum(): output subscript k does not appear in the equation for any input operand");
    assert_null(ct_einsum("ijk->ij", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_SHAPE, "einsum(): the number of subscripts in the equation (3) does not match the number of "
                                  "dimensions (2) for operand 0 and no ellipsis was given");
    assert_null(ct_einsum("ii->i", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_SHAPE, "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2");
    assert_null(ct_einsum("i1->i", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_ARG, "einsum(): invalid subscript given at index 1 in the equation string, subscripts must be in [a-zA-Z]");
    assert_null(ct_einsum("ij->i->", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_ARG, "invalid subscript given at index 5");
    assert_null(ct_einsum("ij->ii", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_ARG, "einsum(): output subscript i appears more than once in the output");
    assert_null(ct_einsum("ij,jk->ik", CT_TENSORS(m23, ct_ones(CT_SHAPE(3, 4), .dtype = CT_F64))));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");
    assert_null(ct_einsum("ij,jk,kl->il", CT_TENSORS(m23, m34, m34)));
    tu_assert_error(CT_ERR_UNSUPPORTED, "at most two operands");
    assert_null(ct_einsum("i...->i", CT_TENSORS(m23)));
    tu_assert_error(CT_ERR_UNSUPPORTED, "ellipsis");
    assert_null(ct_einsum("ij,jk->ik", CT_TENSORS(ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL), ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL))));
    tu_assert_error(CT_ERR_DTYPE, "\"bmm\" not implemented for 'Bool'");
    assert_null(ct_einsum("ij,jk->ik", CT_TENSORS(m23, NULL)));
    tu_assert_error(CT_ERR_NULL, "einsum");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mm_all_layouts_and_dtypes),
        cmocka_unit_test(larger_mm_uses_blas_layouts),
        cmocka_unit_test(batched_and_broadcast),
        cmocka_unit_test(many_small_batches_independent_of_threads),
        cmocka_unit_test(addmm_and_baddbmm),
        cmocka_unit_test(zero_size),
        cmocka_unit_test(einsum_vs_reference),
        cmocka_unit_test(errors),
    };
    return TU_RUN("matmul", tests);
}
