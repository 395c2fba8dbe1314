/* Pooling: max_pool2d (indices, dilation, NaN, ties), avg_pool2d (count_include_pad,
 * divisor_override), adaptive_avg_pool2d and the 1d forms, each against f64 references computed
 * here by plain loops over every option combination, batched and unbatched, on non-contiguous
 * layouts, in f64 and f32 (f16/bf16 through f32); input gradients against the references' own
 * backward and against gradcheck; PyTorch 1.13's messages for every bad argument. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* tu_random whose values (as stored, so rounded for 16-bit dtypes) also go to want. */
static ct_tensor *rnd(uint64_t *state, ct_shape shape, ct_dtype dtype, tu_layout layout, double lo, double hi,
                      double *want) {
    ct_tensor *t = tu_random(state, shape, dtype, layout, lo, hi);
    if (want) memcpy(want, tu_values(t), (size_t)tu_numel(shape) * sizeof *want);
    return t;
}

static bool shape_eq(ct_shape a, ct_shape b) {
    return a.ndim == b.ndim && !memcmp(a.d, b.d, (size_t)a.ndim * sizeof *a.d);
}

/* ---- references ---------------------------------------------------------------------------- */

typedef enum { MAX, AVG, ADAPTIVE } kind;

/* One pooling configuration; stride 0 means stride = kernel. */
typedef struct cfg {
    const char *name;
    kind kind;
    ct_shape shape; /* [N, C, H, W] */
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool ceil_mode, exclude_pad; /* exclude_pad: count_include_pad = false */
    int64_t divisor;
    int64_t oh, ow; /* expected output size (by hand) */
} cfg;

static int64_t stride_h(const cfg *c) { return c->sh ? c->sh : c->kh; }
static int64_t stride_w(const cfg *c) { return c->sw ? c->sw : c->kw; }
static int64_t dil_h(const cfg *c) { return c->dh ? c->dh : 1; }
static int64_t dil_w(const cfg *c) { return c->dw ? c->dw : 1; }

/* Number of windows along a dim, counted one by one: window i starts at i*s - p; in floor mode
 * it must end inside the padded input, in ceil mode it may run past the padding but must start
 * inside the input proper (PyTorch drops a last window starting in the right padding). */
static int64_t count_windows(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
    int64_t eff = d * (k - 1) + 1, n = 0;
    for (int64_t i = 0;; i++) {
        int64_t start = i * s - p;
        bool ok = ceil_mode ? start < in && start + eff - s < in + p : start + eff <= in + p;
        if (!ok) return n;
        n++;
    }
}

/* ceil((i + 1) * in / out) and floor(i * in / out) in floating point (exact at these sizes). */
static int64_t adaptive_lo(int64_t i, int64_t in, int64_t out) { return (int64_t)floor((double)i * in / out); }
static int64_t adaptive_hi(int64_t i, int64_t in, int64_t out) { return (int64_t)ceil((double)(i + 1) * in / out); }

/* The input elements of output (i, j)'s window that lie inside the input, in row-major order (the
 * elements max compares; avg and adaptive output their sum times `weight`). The tables' windows
 * have at most 64 elements. */
typedef struct window {
    int64_t h[64], w[64];
    double weight; /* avg/adaptive: 1 / divisor */
    int n;
} window;

static void window_of(const cfg *c, int64_t i, int64_t j, int64_t oh, int64_t ow, window *win) {
    int64_t ih = c->shape.d[2], iw = c->shape.d[3];
    win->n = 0;
    if (c->kind == ADAPTIVE) {
        for (int64_t h = adaptive_lo(i, ih, oh); h < adaptive_hi(i, ih, oh); h++)
            for (int64_t w = adaptive_lo(j, iw, ow); w < adaptive_hi(j, iw, ow); w++)
                win->h[win->n] = h, win->w[win->n] = w, win->n++;
        win->weight = 1.0 / win->n;
        return;
    }
    int64_t padded = 0;
    for (int64_t r = 0; r < c->kh; r++)
        for (int64_t q = 0; q < c->kw; q++) {
            int64_t h = i * stride_h(c) - c->ph + r * dil_h(c), w = j * stride_w(c) - c->pw + q * dil_w(c);
            if (h < ih + c->ph && w < iw + c->pw) padded++;
            if (h < 0 || h >= ih || w < 0 || w >= iw) continue;
            win->h[win->n] = h, win->w[win->n] = w, win->n++;
        }
    win->weight = 1.0 / (double)(c->divisor ? c->divisor : c->exclude_pad ? win->n : padded);
}

/* Output values (and max's indices) of c over x (values in logical order, [N, C, H, W]). */
static void reference(const cfg *c, const double *x, double *y, double *idx) {
    int64_t planes = c->shape.d[0] * c->shape.d[1], ih = c->shape.d[2], iw = c->shape.d[3];
    window win;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < c->oh; i++)
            for (int64_t j = 0; j < c->ow; j++) {
                window_of(c, i, j, c->oh, c->ow, &win);
                const double *xp = x + p * ih * iw;
                int64_t o = (p * c->oh + i) * c->ow + j;
                if (c->kind == MAX) {
                    double best = -INFINITY;
                    int64_t at = win.h[0] * iw + win.w[0];
                    for (int e = 0; e < win.n; e++) {
                        double v = xp[win.h[e] * iw + win.w[e]];
                        if (v > best || isnan(v)) best = v, at = win.h[e] * iw + win.w[e];
                    }
                    y[o] = best;
                    idx[o] = (double)at;
                } else {
                    double s = 0;
                    for (int e = 0; e < win.n; e++) s += xp[win.h[e] * iw + win.w[e]];
                    y[o] = win.n ? s * win.weight : 0;
                }
            }
}

/* d(sum(y * gy))/dx: max routes gy to the argmax, avg/adaptive spread it with the weight. */
static void reference_backward(const cfg *c, const double *idx, const double *gy, double *gx) {
    int64_t planes = c->shape.d[0] * c->shape.d[1], ih = c->shape.d[2], iw = c->shape.d[3];
    memset(gx, 0, (size_t)(planes * ih * iw) * sizeof *gx);
    window win;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < c->oh; i++)
            for (int64_t j = 0; j < c->ow; j++) {
                int64_t o = (p * c->oh + i) * c->ow + j;
                if (c->kind == MAX) {
                    gx[p * ih * iw + (int64_t)idx[o]] += gy[o];
                    continue;
                }
                window_of(c, i, j, c->oh, c->ow, &win);
                for (int e = 0; e < win.n; e++) gx[p * ih * iw + win.h[e] * iw + win.w[e]] += gy[o] * win.weight;
            }
}

/* ---- running ctorch's op ------------------------------------------------------------------- */

/* c's op on x; for max, the indices go to *indices when non-NULL. */
static ct_tensor *run(const cfg *c, const ct_tensor *x, ct_tensor **indices) {
    ct_shape k = CT_SHAPE(c->kh, c->kw), s = c->sh ? CT_SHAPE(c->sh, c->sw) : CT_SHAPE();
    switch (c->kind) {
    case MAX:
        return ct_max_pool2d(x, k, .stride = s, .padding = CT_SHAPE(c->ph, c->pw),
                             .dilation = CT_SHAPE(dil_h(c), dil_w(c)), .ceil_mode = c->ceil_mode, .indices = indices);
    case AVG:
        return ct_avg_pool2d(x, k, .stride = s, .padding = CT_SHAPE(c->ph, c->pw), .ceil_mode = c->ceil_mode,
                             .count_include_pad = !c->exclude_pad, .divisor_override = c->divisor);
    default:
        return ct_adaptive_avg_pool2d(x, CT_SHAPE(c->oh, c->ow));
    }
}

/* The configurations: every option alone and in combination, with output sizes worked by hand. */
static const cfg cases[] = {
    /* max */
    {"max k2", MAX, CT_SHAPE(2, 3, 6, 8), 2, 2, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
    {"max k3 s2 odd input", MAX, CT_SHAPE(2, 2, 7, 5), 3, 3, 2, 2, 0, 0, 0, 0, false, false, 0, 3, 2},
    {"max k3x2 s1x2 overlapping", MAX, CT_SHAPE(1, 3, 5, 6), 3, 2, 1, 2, 0, 0, 0, 0, false, false, 0, 3, 3},
    {"max k3 s1 pad1", MAX, CT_SHAPE(2, 2, 4, 5), 3, 3, 1, 1, 1, 1, 0, 0, false, false, 0, 4, 5},
    {"max k4x2 pad2x1", MAX, CT_SHAPE(1, 2, 6, 5), 4, 2, 2, 2, 2, 1, 0, 0, false, false, 0, 4, 3},
    {"max k2 dil2", MAX, CT_SHAPE(2, 2, 7, 6), 2, 2, 1, 1, 0, 0, 2, 2, false, false, 0, 5, 4},
    {"max k3 dil2x3 s2 pad1", MAX, CT_SHAPE(1, 2, 9, 10), 3, 3, 2, 2, 1, 1, 2, 3, false, false, 0, 4, 3},
    {"max k2 ceil", MAX, CT_SHAPE(2, 2, 5, 7), 2, 2, 0, 0, 0, 0, 0, 0, true, false, 0, 3, 4},
    {"max k3 s2 ceil", MAX, CT_SHAPE(1, 2, 6, 8), 3, 3, 2, 2, 0, 0, 0, 0, true, false, 0, 3, 4},
    /* ceil mode, last window starting in the padding is dropped: 5 + 2*1 pad, k2 s2 -> 3 not 4 */
    {"max k2 s2 pad1 ceil (drop)", MAX, CT_SHAPE(1, 2, 4, 5), 2, 2, 2, 2, 1, 1, 0, 0, true, false, 0, 3, 3},
    {"max k3 s2 pad1 dil2 ceil", MAX, CT_SHAPE(1, 2, 8, 7), 3, 3, 2, 2, 1, 1, 2, 2, true, false, 0, 4, 3},
    {"max k1", MAX, CT_SHAPE(1, 2, 3, 4), 1, 1, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
    {"max global", MAX, CT_SHAPE(2, 3, 4, 5), 4, 5, 0, 0, 0, 0, 0, 0, false, false, 0, 1, 1},
    /* avg */
    {"avg k2", AVG, CT_SHAPE(2, 3, 6, 8), 2, 2, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
    {"avg k3 s2", AVG, CT_SHAPE(2, 2, 7, 6), 3, 3, 2, 2, 0, 0, 0, 0, false, false, 0, 3, 2},
    {"avg k3x2 s1 overlapping", AVG, CT_SHAPE(1, 3, 5, 4), 3, 2, 1, 1, 0, 0, 0, 0, false, false, 0, 3, 3},
    {"avg k3 s1 pad1", AVG, CT_SHAPE(2, 2, 4, 5), 3, 3, 1, 1, 1, 1, 0, 0, false, false, 0, 4, 5},
    {"avg k3 s1 pad1 exclude", AVG, CT_SHAPE(2, 2, 4, 5), 3, 3, 1, 1, 1, 1, 0, 0, false, true, 0, 4, 5},
    {"avg k4x2 pad2x1 exclude", AVG, CT_SHAPE(1, 2, 6, 5), 4, 2, 2, 2, 2, 1, 0, 0, false, true, 0, 4, 3},
    {"avg k2 ceil", AVG, CT_SHAPE(2, 2, 5, 7), 2, 2, 0, 0, 0, 0, 0, 0, true, false, 0, 3, 4},
    {"avg k2 ceil exclude", AVG, CT_SHAPE(2, 2, 5, 7), 2, 2, 0, 0, 0, 0, 0, 0, true, true, 0, 3, 4},
    {"avg k3 s2 pad1 ceil", AVG, CT_SHAPE(1, 2, 5, 6), 3, 3, 2, 2, 1, 1, 0, 0, true, false, 0, 3, 4},
    {"avg k3 s2 pad1 ceil exclude", AVG, CT_SHAPE(1, 2, 5, 6), 3, 3, 2, 2, 1, 1, 0, 0, true, true, 0, 3, 4},
    {"avg k2 s2 pad1 ceil (drop)", AVG, CT_SHAPE(1, 2, 4, 5), 2, 2, 2, 2, 1, 1, 0, 0, true, false, 0, 3, 3},
    {"avg k2 divisor 3", AVG, CT_SHAPE(2, 2, 4, 6), 2, 2, 0, 0, 0, 0, 0, 0, false, false, 3, 2, 3},
    {"avg k3 s2 pad1 ceil divisor 2", AVG, CT_SHAPE(1, 2, 5, 5), 3, 3, 2, 2, 1, 1, 0, 0, true, true, 2, 3, 3},
    {"avg global", AVG, CT_SHAPE(2, 3, 4, 5), 4, 5, 0, 0, 0, 0, 0, 0, false, false, 0, 1, 1},
    /* adaptive */
    {"adaptive divisible", ADAPTIVE, CT_SHAPE(2, 3, 6, 8), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
    {"adaptive 5x7 -> 3x4", ADAPTIVE, CT_SHAPE(2, 2, 5, 7), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
    {"adaptive 7x3 -> 4x2", ADAPTIVE, CT_SHAPE(1, 3, 7, 3), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 4, 2},
    {"adaptive upsampling 3x2 -> 5x4", ADAPTIVE, CT_SHAPE(1, 2, 3, 2), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 5, 4},
    {"adaptive global", ADAPTIVE, CT_SHAPE(2, 3, 4, 5), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 1, 1},
    {"adaptive identity", ADAPTIVE, CT_SHAPE(1, 2, 3, 4), 0, 0, 0, 0, 0, 0, 0, 0, false, false, 0, 3, 4},
};
#define NCASES (sizeof cases / sizeof *cases)

/* The hand-worked output sizes agree with counting windows (guards the table itself). */
static void test_table_sizes(void **state) {
    (void)state;
    for (size_t t = 0; t < NCASES; t++) {
        const cfg *c = &cases[t];
        if (c->kind == ADAPTIVE) continue;
        int64_t oh = count_windows(c->shape.d[2], c->kh, stride_h(c), c->ph, dil_h(c), c->ceil_mode);
        int64_t ow = count_windows(c->shape.d[3], c->kw, stride_w(c), c->pw, dil_w(c), c->ceil_mode);
        if (oh != c->oh || ow != c->ow)
            fail_msg("%s: table says %lldx%lld, windows %lldx%lld", c->name, (long long)c->oh, (long long)c->ow,
                     (long long)oh, (long long)ow);
    }
}

/* Every case, batched and unbatched, on every layout, in f64, f32, f16 and bf16. */
static void test_forward_reference(void **state) {
    (void)state;
    static const ct_dtype dtypes[] = {CT_F64, CT_F32, CT_F16, CT_BF16};
    static const double tol[] = {1e-12, 1e-6, 2e-3, 1.6e-2};
    uint64_t seed = 1;
    for (size_t t = 0; t < NCASES; t++)
        for (int unbatched = 0; unbatched < 2; unbatched++)
            for (int l = 0; l < TU_NUM_LAYOUTS; l++)
                for (int di = 0; di < 4; di++) CT_SCOPE {
                        cfg c = cases[t];
                        if (unbatched) c.shape.d[0] = 1;
                        ct_shape xs = unbatched ? CT_SHAPE(c.shape.d[1], c.shape.d[2], c.shape.d[3]) : c.shape;
                        ct_shape ys = xs;
                        ys.d[ys.ndim - 2] = c.oh, ys.d[ys.ndim - 1] = c.ow;
                        int64_t n = tu_numel(xs), m = tu_numel(ys);
                        double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)m * sizeof *y),
                               *idx = malloc((size_t)m * sizeof *idx);
                        ct_tensor *in = rnd(&seed, xs, dtypes[di], (tu_layout)l, -2, 2, x);
                        reference(&c, x, y, idx);
                        ct_tensor *indices = NULL;
                        ct_tensor *out = run(&c, in, c.kind == MAX ? &indices : NULL);
                        if (!out) fail_msg("%s %s: %s", c.name, tu_layout_names[l], ct_last_error());
                        assert_int_equal(ct_dtype_of(out), dtypes[di]);
                        tu_assert_values(out, ys, y, tol[di], tol[di]);
                        /* 16-bit maxima come from rounded values: their indices are the same only
                         * without near-ties, so indices are checked in f32/f64 */
                        if (c.kind == MAX && di < 2) {
                            assert_int_equal(ct_dtype_of(indices), CT_I64);
                            tu_assert_values(indices, ys, idx, 0, 0);
                        }
                        free(x), free(y), free(idx);
                    }
}

/* Input gradients of sum(y * gy) for every case (f64 and f32) against reference_backward. */
static void test_backward_reference(void **state) {
    (void)state;
    uint64_t seed = 2;
    for (size_t t = 0; t < NCASES; t++)
        for (int unbatched = 0; unbatched < 2; unbatched++)
            for (int f32 = 0; f32 < 2; f32++) CT_SCOPE {
                    cfg c = cases[t];
                    ct_dtype dt = f32 ? CT_F32 : CT_F64;
                    if (unbatched) c.shape.d[0] = 1;
                    ct_shape xs = unbatched ? CT_SHAPE(c.shape.d[1], c.shape.d[2], c.shape.d[3]) : c.shape;
                    ct_shape ys = xs;
                    ys.d[ys.ndim - 2] = c.oh, ys.d[ys.ndim - 1] = c.ow;
                    int64_t n = tu_numel(xs), m = tu_numel(ys);
                    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)m * sizeof *y),
                           *idx = malloc((size_t)m * sizeof *idx), *gy = malloc((size_t)m * sizeof *gy),
                           *gx = malloc((size_t)n * sizeof *gx);
                    ct_tensor *in = ct_requires_grad_(rnd(&seed, xs, dt, TU_CONTIGUOUS, -2, 2, x), true);
                    ct_tensor *w = rnd(&seed, ys, dt, TU_CONTIGUOUS, -1, 1, gy);
                    reference(&c, x, y, idx);
                    reference_backward(&c, idx, gy, gx);
                    ct_tensor *out = run(&c, in, NULL);
                    if (!out || !ct_backward(ct_sum(ct_mul(out, w)))) fail_msg("%s: %s", c.name, ct_last_error());
                    ct_tensor *g = ct_grad(in);
                    assert_non_null(g);
                    assert_int_equal(ct_dtype_of(g), dt);
                    tu_assert_values(g, xs, gx, f32 ? 1e-5 : 1e-12, f32 ? 1e-5 : 1e-12);
                    free(x), free(y), free(idx), free(gy), free(gx);
                }
}

/* ---- gradcheck ----------------------------------------------------------------------------- */

static ct_tensor *gc_case(ct_tensor *const *in, void *user) { return run(user, in[0], NULL); }
static ct_tensor *gc_max1d(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_max_pool1d(in[0], CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .dilation = CT_SHAPE(2),
                         .ceil_mode = true);
}
static ct_tensor *gc_avg1d(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_avg_pool1d(in[0], CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true,
                         .count_include_pad = false);
}
static ct_tensor *gc_max_unbatched(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_max_pool2d(in[0], CT_SHAPE(2), .stride = CT_SHAPE(1));
}

/* Every case (distinct random values: max pool's argmax is stable under the perturbation). */
static void test_gradcheck(void **state) {
    (void)state;
    for (size_t t = 0; t < NCASES; t++) {
        tu_grad_case g = {cases[t].name, gc_case, (void *)&cases[t], 1, {cases[t].shape}, -2, 2};
        tu_gradcheck(&g);
    }
    tu_grad_case more[] = {
        {"max_pool1d k3 s2 pad1 dil2 ceil", gc_max1d, NULL, 1, {CT_SHAPE(2, 3, 8)}, -2, 2},
        {"max_pool1d unbatched", gc_max1d, NULL, 1, {CT_SHAPE(3, 7)}, -2, 2},
        {"avg_pool1d k3 s2 pad1 ceil exclude", gc_avg1d, NULL, 1, {CT_SHAPE(2, 3, 8)}, -2, 2},
        {"avg_pool1d unbatched", gc_avg1d, NULL, 1, {CT_SHAPE(3, 6)}, -2, 2},
        {"max_pool2d unbatched overlapping", gc_max_unbatched, NULL, 1, {CT_SHAPE(3, 4, 5)}, -2, 2},
    };
    TU_GRADCHECK_TABLE(more);
}

/* ---- max pool details ---------------------------------------------------------------------- */

/* Ties pick the first maximum in row-major order; a NaN wins (the last NaN of its window); an
 * all -inf window answers its first element. Shared argmaxes add their gradients. */
static void test_max_ties_nan(void **state) {
    (void)state;
    ct_tensor *idx = NULL;
    ct_tensor *x = ct_from_data((double[]){1, NAN, 3, 3, 3, 2, 3, 1}, CT_SHAPE(1, 2, 4), CT_F64);
    ct_tensor *y = ct_max_pool2d(x, CT_SHAPE(1, 2), .indices = &idx);
    tu_assert_values(y, CT_SHAPE(1, 2, 2), (double[]){NAN, 3, 3, 3}, 0, 0);
    tu_assert_values(idx, CT_SHAPE(1, 2, 2), (double[]){1, 2, 4, 6}, 0, 0);

    /* a 2x2 window over a 3x3 plane of equal values at stride 1: every argmax is the window's
     * top-left element, and each of those receives one gradient */
    ct_tensor *c = ct_requires_grad_(ct_full(CT_SHAPE(1, 3, 3), 5, .dtype = CT_F64), true);
    y = ct_max_pool2d(c, CT_SHAPE(2), .stride = CT_SHAPE(1), .indices = &idx);
    tu_assert_values(idx, CT_SHAPE(1, 2, 2), (double[]){0, 1, 3, 4}, 0, 0);
    assert_true(ct_backward(ct_sum(y)));
    tu_assert_values(ct_grad(c), CT_SHAPE(1, 3, 3), (double[]){1, 1, 0, 1, 1, 0, 0, 0, 0}, 0, 0);

    /* one NaN, overlapping windows: the NaN is everyone's maximum and gets all the gradient */
    ct_tensor *z =
        ct_requires_grad_(ct_from_data((double[]){1, 2, 3, 4, NAN, 6, 7, 8, 9}, CT_SHAPE(1, 1, 3, 3), CT_F64), true);
    y = ct_max_pool2d(z, CT_SHAPE(2), .stride = CT_SHAPE(1));
    tu_assert_values(y, CT_SHAPE(1, 1, 2, 2), (double[]){NAN, NAN, NAN, NAN}, 0, 0);
    assert_true(ct_backward(ct_sum(y)));
    tu_assert_values(ct_grad(z), CT_SHAPE(1, 1, 3, 3), (double[]){0, 0, 0, 0, 4, 0, 0, 0, 0}, 0, 0);

    y = ct_max_pool2d(ct_full(CT_SHAPE(1, 1, 2), -INFINITY), CT_SHAPE(1, 2), .indices = &idx);
    tu_assert_values(y, CT_SHAPE(1, 1, 1), (double[]){-INFINITY}, 0, 0);
    tu_assert_values(idx, CT_SHAPE(1, 1, 1), (double[]){0}, 0, 0);

    /* padding never wins: the padded border of negative values still answers real elements */
    y = ct_max_pool2d(ct_full(CT_SHAPE(1, 2, 2), -3.0), CT_SHAPE(3), .stride = CT_SHAPE(1), .padding = CT_SHAPE(1),
                      .indices = &idx);
    tu_assert_values(y, CT_SHAPE(1, 2, 2), (double[]){-3, -3, -3, -3}, 0, 0);
    tu_assert_values(idx, CT_SHAPE(1, 2, 2), (double[]){0, 0, 0, 0}, 0, 0);
}

/* ---- 1d forms, avg pool by hand, edge shapes, names ---------------------------------------- */

/* The 1d ops against the 2d reference on a height-1 plane (indices are positions along L). */
static void test_pool1d(void **state) {
    (void)state;
    uint64_t seed = 3;
    for (int l = 0; l < TU_NUM_LAYOUTS; l++) CT_SCOPE {
            double x[2 * 3 * 9], y[2 * 3 * 6], idx[2 * 3 * 6];
            ct_tensor *in = rnd(&seed, CT_SHAPE(2, 3, 9), CT_F64, (tu_layout)l, -2, 2, x);
            cfg mc = {"max1d", MAX, CT_SHAPE(2, 3, 1, 9), 1, 3, 1, 2, 0, 1, 1, 2, true, false, 0, 1, 4};
            reference(&mc, x, y, idx);
            ct_tensor *indices = NULL;
            ct_tensor *out = ct_max_pool1d(in, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1),
                                           .dilation = CT_SHAPE(2), .ceil_mode = true, .indices = &indices);
            tu_assert_values(out, CT_SHAPE(2, 3, 4), y, 1e-12, 0);
            tu_assert_values(indices, CT_SHAPE(2, 3, 4), idx, 0, 0);
            cfg ac = {"avg1d", AVG, CT_SHAPE(2, 3, 1, 9), 1, 4, 1, 2, 0, 2, 0, 0, true, true, 0, 1, 6};
            reference(&ac, x, y, idx);
            out = ct_avg_pool1d(in, CT_SHAPE(4), .stride = CT_SHAPE(2), .padding = CT_SHAPE(2), .ceil_mode = true,
                                .count_include_pad = false);
            tu_assert_values(out, CT_SHAPE(2, 3, 6), y, 1e-12, 0);
            /* unbatched [C, L] */
            out = ct_max_pool1d(ct_select(in, 0, 1), CT_SHAPE(2));
            assert_true(ct_equal(out, ct_select(ct_max_pool1d(in, CT_SHAPE(2)), 0, 1)));
            out = ct_avg_pool1d(ct_select(in, 0, 0), CT_SHAPE(3), .stride = CT_SHAPE(1));
            assert_true(ct_equal(out, ct_select(ct_avg_pool1d(in, CT_SHAPE(3), .stride = CT_SHAPE(1)), 0, 0)));
        }
    /* PyTorch's max_pool1d gives an empty result where the window does not fit */
    ct_tensor *idx = NULL;
    ct_tensor *e = ct_max_pool1d(ct_ones(CT_SHAPE(2, 3, 2)), CT_SHAPE(3), .indices = &idx);
    assert_non_null(e);
    assert_true(shape_eq(ct_shape_of(e), CT_SHAPE(2, 3, 0)));
    assert_true(shape_eq(ct_shape_of(idx), CT_SHAPE(2, 3, 0)));
}

/* Worked by hand: ones over 5x5, k3 s2 pad1 ceil (as torch prints them). */
static void test_avg_by_hand(void **state) {
    (void)state;
    ct_tensor *x = ct_ones(CT_SHAPE(1, 1, 5, 5));
    double a = 4.0 / 9, b = 6.0 / 9;
    tu_assert_values(ct_avg_pool2d(x, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true),
                     CT_SHAPE(1, 1, 3, 3), (double[]){a, b, a, b, 1, b, a, b, a}, 1e-6, 0);
    tu_assert_values(ct_avg_pool2d(x, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true,
                                   .count_include_pad = false),
                     CT_SHAPE(1, 1, 3, 3), (double[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, 1e-6, 0);
    tu_assert_values(ct_avg_pool2d(x, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true,
                                   .divisor_override = 2),
                     CT_SHAPE(1, 1, 3, 3), (double[]){2, 3, 2, 3, 4.5, 3, 2, 3, 2}, 1e-6, 0);
    /* adaptive 5 -> 3: windows [0,2) [1,4) [3,5) */
    ct_tensor *r = ct_from_data((double[]){1, 2, 3, 4, 5}, CT_SHAPE(1, 1, 5), CT_F64);
    tu_assert_values(ct_adaptive_avg_pool2d(r, CT_SHAPE(1, 3)), CT_SHAPE(1, 1, 3), (double[]){1.5, 3, 4.5}, 1e-12, 0);
    tu_assert_values(ct_adaptive_avg_pool2d(ct_unsqueeze(r, 0), CT_SHAPE(1)), CT_SHAPE(1, 1, 1, 1), (double[]){3},
                     1e-12, 0);
}

/* Empty batches give empty results; thread count does not change anything; grad_fn names. */
static void test_edges_names(void **state) {
    (void)state;
    ct_tensor *z = ct_zeros(CT_SHAPE(0, 2, 4, 4));
    assert_true(shape_eq(ct_shape_of(ct_max_pool2d(z, CT_SHAPE(2))), CT_SHAPE(0, 2, 2, 2)));
    assert_true(shape_eq(ct_shape_of(ct_avg_pool2d(z, CT_SHAPE(2))), CT_SHAPE(0, 2, 2, 2)));
    assert_true(shape_eq(ct_shape_of(ct_adaptive_avg_pool2d(z, CT_SHAPE(3))), CT_SHAPE(0, 2, 3, 3)));
    assert_true(shape_eq(ct_shape_of(ct_adaptive_avg_pool2d(ct_zeros(CT_SHAPE(2, 0, 3, 4)), CT_SHAPE(2))),
                         CT_SHAPE(2, 0, 2, 2)));
    assert_true(
        shape_eq(ct_shape_of(ct_adaptive_avg_pool2d(ct_zeros(CT_SHAPE(2, 3, 4)), CT_SHAPE(0, 0))), CT_SHAPE(2, 0, 0)));

    /* a large input split among threads equals the one-thread result bit for bit */
    uint64_t seed = 4;
    ct_tensor *x = rnd(&seed, CT_SHAPE(8, 16, 30, 30), CT_F32, TU_CONTIGUOUS, -1, 1, NULL);
    int threads = ct_get_num_threads();
    ct_tensor *w = ct_requires_grad_(ct_clone(x), true);
    ct_tensor *y1 = ct_avg_pool2d(w, CT_SHAPE(3), .stride = CT_SHAPE(1), .padding = CT_SHAPE(1));
    ct_tensor *m1 = ct_max_pool2d(w, CT_SHAPE(3), .stride = CT_SHAPE(1));
    assert_true(ct_backward(ct_add(ct_sum(y1), ct_sum(m1))));
    ct_tensor *g1 = ct_clone(ct_grad(w));
    ct_set_num_threads(1);
    ct_tensor *w2 = ct_requires_grad_(ct_clone(x), true);
    ct_tensor *y2 = ct_avg_pool2d(w2, CT_SHAPE(3), .stride = CT_SHAPE(1), .padding = CT_SHAPE(1));
    ct_tensor *m2 = ct_max_pool2d(w2, CT_SHAPE(3), .stride = CT_SHAPE(1));
    assert_true(ct_backward(ct_add(ct_sum(y2), ct_sum(m2))));
    ct_set_num_threads(threads);
    assert_true(ct_equal(y1, y2));
    assert_true(ct_equal(m1, m2));
    assert_true(ct_equal(g1, ct_grad(w2)));

    ct_tensor *r = ct_requires_grad_(ct_ones(CT_SHAPE(1, 2, 4, 4)), true);
    assert_string_equal(ct_grad_fn_name(ct_max_pool2d(r, CT_SHAPE(2))), "MaxPool2DWithIndicesBackward0");
    assert_string_equal(ct_grad_fn_name(ct_avg_pool2d(r, CT_SHAPE(2))), "AvgPool2DBackward0");
    assert_string_equal(ct_grad_fn_name(ct_adaptive_avg_pool2d(r, CT_SHAPE(2))), "AdaptiveAvgPool2DBackward0");
    ct_tensor *r1 = ct_requires_grad_(ct_ones(CT_SHAPE(2, 4, 4)), true);
    assert_string_equal(ct_grad_fn_name(ct_max_pool1d(r1, CT_SHAPE(2))), "SqueezeBackward1");
    assert_string_equal(ct_grad_fn_name(ct_avg_pool1d(r1, CT_SHAPE(2))), "SqueezeBackward1");
    /* 16-bit inputs differentiate through the f32 kernels; the gradient comes back in their dtype */
    ct_tensor *h = ct_requires_grad_(ct_ones(CT_SHAPE(1, 2, 4, 4), .dtype = CT_BF16), true);
    assert_true(ct_backward(ct_add(ct_sum(ct_avg_pool2d(h, CT_SHAPE(2))), ct_sum(ct_max_pool2d(h, CT_SHAPE(4))))));
    assert_int_equal(ct_dtype_of(ct_grad(h)), CT_BF16);
    double want[32];
    for (int i = 0; i < 32; i++) want[i] = 0.25 + (i % 16 == 0);
    tu_assert_values(ct_grad(h), CT_SHAPE(1, 2, 4, 4), want, 0, 0);
    /* indices are returned under autograd too, and carry no gradient */
    ct_tensor *idx = NULL;
    assert_non_null(ct_max_pool2d(r, CT_SHAPE(2), .indices = &idx));
    assert_non_null(idx);
    assert_false(ct_requires_grad(idx));
}

/* ---- errors -------------------------------------------------------------------------------- */

static void test_errors(void **state) {
    (void)state;
    ct_tensor *x = ct_zeros(CT_SHAPE(1, 2, 2)), *idx = x;
    /* max_pool2d */
    assert_null(ct_max_pool2d(x, CT_SHAPE(3), .indices = &idx));
    assert_null(idx);
    tu_assert_error(CT_ERR_SHAPE,
                    "max_pool2d: Given input size: (1x2x2). Calculated output size: (1x0x0). Output size is too small");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .padding = CT_SHAPE(2)));
    tu_assert_error(CT_ERR_ARG,
                    "max_pool2d: pad should be at most half of kernel size, but got pad=2 and kernel_size=2");
    assert_null(
        ct_max_pool2d(ct_zeros(CT_SHAPE(1, 9, 9)), CT_SHAPE(2), .padding = CT_SHAPE(0, 2), .dilation = CT_SHAPE(3)));
    tu_assert_error(CT_ERR_ARG, "pad should be at most half of kernel size, but got pad=2 and kernel_size=2");
    assert_null(ct_max_pool2d(x, CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: stride should not be zero");
    assert_null(ct_max_pool2d(x, CT_SHAPE(0), .stride = CT_SHAPE(1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: kernel size should be greater than zero, but got kH: 0 kW: 0");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2, 0), .stride = CT_SHAPE(1)));
    tu_assert_error(CT_ERR_ARG, "kernel size should be greater than zero, but got kH: 2 kW: 0");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .stride = CT_SHAPE(-1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: stride should be greater than zero, but got dH: -1 dW: -1");
    assert_null(ct_max_pool2d(x, CT_SHAPE(-2)));
    tu_assert_error(CT_ERR_ARG, "pad should be at most half of kernel size, but got pad=0 and kernel_size=-2");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .dilation = CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: dilation should be greater than zero, but got dilationH: 0 dilationW: 0");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .padding = CT_SHAPE(1, -1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: pad must be non-negative, but got pad: -1");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2, 2, 2)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints");
    assert_null(ct_max_pool2d(x, CT_SHAPE()));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .stride = CT_SHAPE(1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: stride must either be omitted, a single int, or a tuple of two ints");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .padding = CT_SHAPE(1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: padding must be either be a single int, or a tuple of two ints");
    assert_null(ct_max_pool2d(x, CT_SHAPE(2), .dilation = CT_SHAPE(1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "max_pool2d: dilation must be either a single int, or a tuple of two ints");
    assert_null(ct_max_pool2d(ct_zeros(CT_SHAPE(2)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "max_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input");
    assert_null(ct_max_pool2d(ct_zeros(CT_SHAPE(1, 2, 3, 4, 5)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "max_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input");
    assert_null(ct_max_pool2d(ct_zeros(CT_SHAPE(2, 0, 3, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "max_pool2d: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                                  "for input, but got:[2, 0, 3, 4]");
    assert_null(ct_max_pool2d(ct_zeros(CT_SHAPE(0, 3, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "but got:[0, 3, 4]");
    assert_null(ct_max_pool2d(ct_zeros(CT_SHAPE(1, 4, 4), .dtype = CT_I64), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_DTYPE, "max_pool2d: \"max_pool2d\" not implemented for 'Long'");
    assert_null(ct_max_pool2d(NULL, CT_SHAPE(2)));
    tu_assert_error(CT_ERR_NULL, "max_pool2d");

    /* avg_pool2d */
    assert_null(ct_avg_pool2d(x, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_SHAPE,
                    "avg_pool2d: Given input size: (1x2x2). Calculated output size: (1x0x0). Output size is too small");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(1, 2, 5, 5)), CT_SHAPE(4), .padding = CT_SHAPE(1, 3)));
    tu_assert_error(CT_ERR_ARG,
                    "avg_pool2d: pad should be at most half of kernel size, but got pad=3 and kernel_size=4");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: stride should not be zero");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(0), .stride = CT_SHAPE(1)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: kernel size should be greater than zero, but got kH: 0 kW: 0");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(2), .stride = CT_SHAPE(-1)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: stride should be greater than zero, but got dH: -1 dW: -1");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(2), .padding = CT_SHAPE(-1)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: pad must be non-negative, but got pad: -1");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(2, 2, 2)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(2), .stride = CT_SHAPE(1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints");
    assert_null(ct_avg_pool2d(x, CT_SHAPE(2), .padding = CT_SHAPE(1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "avg_pool2d: padding must either be a single int, or a tuple of two ints");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(3, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_INDEX,
                    "avg_pool2d: Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(2)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-1, 0], but got -3)");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(1, 2, 3, 4, 5)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "avg_pool2d: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                                  "for input, but got:[1, 2, 3, 4, 5]");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(2, 3, 0, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "but got:[2, 3, 0, 4]");
    assert_null(ct_avg_pool2d(ct_zeros(CT_SHAPE(1, 4, 4), .dtype = CT_BOOL), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_DTYPE, "avg_pool2d: \"avg_pool2d\" not implemented for 'Bool'");

    /* adaptive_avg_pool2d */
    assert_null(ct_adaptive_avg_pool2d(x, CT_SHAPE(1, 2, 3)));
    tu_assert_error(CT_ERR_ARG, "adaptive_avg_pool2d: output_size must be 2");
    assert_null(ct_adaptive_avg_pool2d(x, CT_SHAPE(-1, 2)));
    tu_assert_error(CT_ERR_ARG, "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                                "received {-1, 2}");
    assert_null(ct_adaptive_avg_pool2d(ct_zeros(CT_SHAPE(2)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [2]");
    assert_null(ct_adaptive_avg_pool2d(ct_zeros(CT_SHAPE(2, 3, 0, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                                  "dimensions, but input has sizes [2, 3, 0, 4] with dimension 2 being empty");
    assert_null(ct_adaptive_avg_pool2d(ct_zeros(CT_SHAPE(1, 4, 4), .dtype = CT_I64), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_DTYPE, "\"adaptive_avg_pool2d\" not implemented for 'Long'");

    /* 1d */
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(3)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
                                  "for input, but got:[3]");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 0, 4)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "but got:[2, 0, 4]");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 3, 2)), CT_SHAPE(2), .padding = CT_SHAPE(2)));
    tu_assert_error(CT_ERR_ARG,
                    "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=2");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 3, 4)), CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "max_pool1d() kernel_size must be greater than zero, but got 0");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 3, 4)), CT_SHAPE(2), .stride = CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "max_pool1d() stride must be greater than zero, but got 0");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 3, 4)), CT_SHAPE(2), .dilation = CT_SHAPE(0)));
    tu_assert_error(CT_ERR_ARG, "max_pool1d() dilation must be greater than zero, but got 0");
    assert_null(ct_max_pool1d(ct_zeros(CT_SHAPE(2, 3, 4)), CT_SHAPE(2, 2)));
    tu_assert_error(CT_ERR_ARG, "max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but "
                                "got size 2");
    assert_null(ct_avg_pool1d(ct_zeros(CT_SHAPE(3)), CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' "
                                  "(while checking arguments for avg_pool1d)");
    assert_null(ct_avg_pool1d(ct_zeros(CT_SHAPE(2, 3, 2)), CT_SHAPE(3)));
    tu_assert_error(CT_ERR_SHAPE,
                    "Given input size: (3x1x2). Calculated output size: (3x1x0). Output size is too small");
    assert_null(ct_avg_pool1d(ct_zeros(CT_SHAPE(2, 3, 2)), CT_SHAPE(2), .padding = CT_SHAPE(2)));
    tu_assert_error(CT_ERR_ARG, "pad should be at most half of kernel size, but got pad=2 and kernel_size=2");

    /* errors are the same when a graph would be recorded */
    ct_tensor *r = ct_requires_grad_(ct_zeros(CT_SHAPE(1, 2, 2)), true);
    assert_null(ct_max_pool2d(r, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_SHAPE, "Output size is too small");
    assert_null(ct_avg_pool2d(r, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_SHAPE, "Output size is too small");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sizes),
        cmocka_unit_test(test_forward_reference),
        cmocka_unit_test(test_backward_reference),
        cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_max_ties_nan),
        cmocka_unit_test(test_pool1d),
        cmocka_unit_test(test_avg_by_hand),
        cmocka_unit_test(test_edges_names),
        cmocka_unit_test(test_errors),
    };
    return TU_RUN("pool", tests);
}
