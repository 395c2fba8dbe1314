/* Convolutions: conv1d, conv2d, conv_transpose1d and conv_transpose2d against a direct-loop f64
 * reference for every option (stride, padding, dilation, groups, depthwise, output_padding,
 * unbatched inputs, 1x1 and non-square kernels) on non-contiguous inputs, f32/bf16 close to it,
 * gradcheck of input, weight and bias, batch chunking and thread-count independence, and
 * PyTorch's error messages. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One call: its op, shapes and options (spatial options as (height, width); 1-D ops use [1]). */
typedef struct conv_case {
    const char *name;
    int nspatial;
    bool transposed;
    ct_shape input, weight;
    bool bias;
    int64_t stride[2], padding[2], dilation[2], output_padding[2], groups;
} conv_case;

/* ---- the reference -------------------------------------------------------------------------------- */

/* Shape as 4-D [n, c, h, w] (a batch of one, a height of one). */
static void to4(ct_shape s, int nspatial, int64_t out[4]) {
    int lead = s.ndim - nspatial;
    out[0] = lead == 2 ? s.d[0] : 1;
    out[1] = s.d[lead - 1];
    out[2] = nspatial == 2 ? s.d[lead] : 1;
    out[3] = s.d[s.ndim - 1];
}

static int64_t opt(const conv_case *c, const int64_t *v, int d) {
    return c->nspatial == 1 ? (d == 0 ? (v == c->stride || v == c->dilation ? 1 : 0) : v[0]) : v[d];
}

/* The output's shape (in the input's form) and its 4-D form. */
static ct_shape out_shape(const conv_case *c, int64_t out4[4]) {
    int64_t in4[4], wt4[4];
    to4(c->input, c->nspatial, in4);
    to4(c->weight, c->nspatial, wt4);
    out4[0] = in4[0];
    out4[1] = c->transposed ? wt4[1] * c->groups : wt4[0];
    for (int d = 0; d < 2; d++) {
        int64_t s = opt(c, c->stride, d), p = opt(c, c->padding, d), dl = opt(c, c->dilation, d);
        int64_t span = dl * (wt4[2 + d] - 1);
        out4[2 + d] = c->transposed ? (in4[2 + d] - 1) * s - 2 * p + span + opt(c, c->output_padding, d) + 1
                                    : (in4[2 + d] + 2 * p - span - 1) / s + 1;
    }
    ct_shape s = {.ndim = 0};
    if (c->input.ndim == c->nspatial + 2) s.d[s.ndim++] = out4[0];
    s.d[s.ndim++] = out4[1];
    if (c->nspatial == 2) s.d[s.ndim++] = out4[2];
    s.d[s.ndim++] = out4[3];
    return s;
}

/* y by the definition: each input pixel x[n, ci, yy, xx] meets weight tap (ki, kj) at output
 * pixel (yy s - p + ki d) of a transposed convolution; a convolution reads input pixel
 * (oy s - p + ki d) for output pixel oy. */
static double *reference(const conv_case *c, const double *x, const double *w, const double *b) {
    int64_t in4[4], wt4[4], out4[4];
    to4(c->input, c->nspatial, in4);
    to4(c->weight, c->nspatial, wt4);
    out_shape(c, out4);
    int64_t numel = out4[0] * out4[1] * out4[2] * out4[3];
    double *y = calloc((size_t)numel + 1, sizeof *y);
    int64_t sh = opt(c, c->stride, 0), sw = opt(c, c->stride, 1), ph = opt(c, c->padding, 0), pw = opt(c, c->padding, 1);
    int64_t dh = opt(c, c->dilation, 0), dw = opt(c, c->dilation, 1), G = c->groups;
    int64_t N = in4[0], C = in4[1], H = in4[2], W = in4[3], O = out4[1], OH = out4[2], OW = out4[3];
    int64_t KH = wt4[2], KW = wt4[3];
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) y[((n * O + o) * OH + oy) * OW + ox] = b ? b[o] : 0;
    if (!c->transposed) {
        int64_t cg = C / G, og = O / G;
        for (int64_t n = 0; n < N; n++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t oy = 0; oy < OH; oy++)
                    for (int64_t ox = 0; ox < OW; ox++) {
                        double acc = 0;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t ki = 0; ki < KH; ki++)
                                for (int64_t kj = 0; kj < KW; kj++) {
                                    int64_t iy = oy * sh - ph + ki * dh, ix = ox * sw - pw + kj * dw;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    int64_t cin = (o / og) * cg + ci;
                                    acc += x[((n * C + cin) * H + iy) * W + ix] * w[((o * cg + ci) * KH + ki) * KW + kj];
                                }
                        y[((n * O + o) * OH + oy) * OW + ox] += acc;
                    }
    } else {
        int64_t cg = C / G, og = O / G; /* weight [C, og, KH, KW] */
        for (int64_t n = 0; n < N; n++)
            for (int64_t ci = 0; ci < C; ci++)
                for (int64_t yy = 0; yy < H; yy++)
                    for (int64_t xx = 0; xx < W; xx++)
                        for (int64_t oc = 0; oc < og; oc++)
                            for (int64_t ki = 0; ki < KH; ki++)
                                for (int64_t kj = 0; kj < KW; kj++) {
                                    int64_t oy = yy * sh - ph + ki * dh, ox = xx * sw - pw + kj * dw;
                                    if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                    int64_t o = (ci / cg) * og + oc;
                                    y[((n * O + o) * OH + oy) * OW + ox] +=
                                        x[((n * C + ci) * H + yy) * W + xx] * w[((ci * og + oc) * KH + ki) * KW + kj];
                                }
    }
    return y;
}

/* The op of a case on given tensors. */
static ct_tensor *call(const conv_case *c, const ct_tensor *x, const ct_tensor *w, const ct_tensor *b) {
    ct_shape st, pd, dl, op;
    if (c->nspatial == 1)
        st = CT_SHAPE(c->stride[0]), pd = CT_SHAPE(c->padding[0]), dl = CT_SHAPE(c->dilation[0]),
        op = CT_SHAPE(c->output_padding[0]);
    else
        st = CT_SHAPE(c->stride[0], c->stride[1]), pd = CT_SHAPE(c->padding[0], c->padding[1]),
        dl = CT_SHAPE(c->dilation[0], c->dilation[1]), op = CT_SHAPE(c->output_padding[0], c->output_padding[1]);
    if (c->transposed) {
        ct_conv_transpose_opts o = {st, pd, op, c->groups, dl};
        return c->nspatial == 1 ? ct_conv_transpose1d_opt(x, w, b, o) : ct_conv_transpose2d_opt(x, w, b, o);
    }
    ct_conv_opts o = {st, pd, dl, c->groups};
    return c->nspatial == 1 ? ct_conv1d_opt(x, w, b, o) : ct_conv2d_opt(x, w, b, o);
}

#define S2(a, b) {a, b}
static const conv_case cases[] = {
    /* conv2d */
    {"conv2d 3x3", 2, false, CT_SHAPE(2, 3, 5, 5), CT_SHAPE(4, 3, 3, 3), true, S2(1, 1), S2(0, 0), S2(1, 1), S2(0, 0), 1},
    {"conv2d stride 2 padding 1", 2, false, CT_SHAPE(2, 3, 6, 5), CT_SHAPE(4, 3, 3, 3), true, S2(2, 2), S2(1, 1), S2(1, 1), S2(0, 0), 1},
    {"conv2d dilation 2", 2, false, CT_SHAPE(2, 2, 7, 6), CT_SHAPE(3, 2, 3, 2), true, S2(1, 1), S2(2, 1), S2(2, 2), S2(0, 0), 1},
    {"conv2d groups 2", 2, false, CT_SHAPE(2, 4, 5, 5), CT_SHAPE(6, 2, 3, 3), true, S2(1, 1), S2(1, 1), S2(1, 1), S2(0, 0), 2},
    {"conv2d depthwise", 2, false, CT_SHAPE(2, 3, 5, 4), CT_SHAPE(6, 1, 3, 3), true, S2(1, 1), S2(1, 1), S2(1, 1), S2(0, 0), 3},
    {"conv2d unbatched", 2, false, CT_SHAPE(3, 5, 6), CT_SHAPE(2, 3, 3, 3), true, S2(1, 2), S2(1, 0), S2(1, 1), S2(0, 0), 1},
    {"conv2d 1x1", 2, false, CT_SHAPE(2, 3, 4, 3), CT_SHAPE(5, 3, 1, 1), true, S2(1, 1), S2(0, 0), S2(1, 1), S2(0, 0), 1},
    {"conv2d 1x1 stride 2 padding 1", 2, false, CT_SHAPE(2, 3, 4, 3), CT_SHAPE(2, 3, 1, 1), false, S2(2, 2), S2(1, 1), S2(1, 1), S2(0, 0), 1},
    {"conv2d non-square everything", 2, false, CT_SHAPE(2, 2, 6, 8), CT_SHAPE(3, 2, 2, 3), true, S2(2, 1), S2(0, 2), S2(1, 2), S2(0, 0), 1},
    {"conv2d no bias", 2, false, CT_SHAPE(1, 2, 4, 4), CT_SHAPE(3, 2, 2, 2), false, S2(1, 1), S2(0, 0), S2(1, 1), S2(0, 0), 1},
    {"conv2d kernel = padded input", 2, false, CT_SHAPE(1, 1, 2, 3), CT_SHAPE(2, 1, 4, 3), true, S2(1, 1), S2(1, 0), S2(1, 1), S2(0, 0), 1},
    /* conv1d */
    {"conv1d", 1, false, CT_SHAPE(2, 3, 7), CT_SHAPE(4, 3, 3), true, {1}, {0}, {1}, {0}, 1},
    {"conv1d stride padding dilation groups", 1, false, CT_SHAPE(2, 4, 9), CT_SHAPE(4, 2, 3), true, {2}, {2}, {2}, {0}, 2},
    {"conv1d unbatched", 1, false, CT_SHAPE(2, 6), CT_SHAPE(3, 2, 2), false, {1}, {1}, {1}, {0}, 1},
    /* conv_transpose2d */
    {"conv_transpose2d", 2, true, CT_SHAPE(2, 3, 4, 4), CT_SHAPE(3, 2, 3, 3), true, S2(1, 1), S2(0, 0), S2(1, 1), S2(0, 0), 1},
    {"conv_transpose2d stride 2 padding 1 output_padding 1", 2, true, CT_SHAPE(2, 2, 3, 4), CT_SHAPE(2, 3, 3, 3), true, S2(2, 2), S2(1, 1), S2(1, 1), S2(1, 1), 1},
    {"conv_transpose2d groups 2 dilation 2", 2, true, CT_SHAPE(2, 4, 3, 3), CT_SHAPE(4, 3, 2, 2), true, S2(1, 1), S2(1, 0), S2(2, 2), S2(1, 0), 2},
    {"conv_transpose2d unbatched non-square", 2, true, CT_SHAPE(2, 3, 4), CT_SHAPE(2, 2, 2, 3), true, S2(2, 1), S2(0, 1), S2(1, 1), S2(1, 0), 1},
    {"conv_transpose2d depthwise", 2, true, CT_SHAPE(2, 3, 3, 3), CT_SHAPE(3, 1, 3, 3), false, S2(2, 2), S2(1, 1), S2(1, 1), S2(0, 0), 3},
    /* conv_transpose1d */
    {"conv_transpose1d", 1, true, CT_SHAPE(2, 4, 5), CT_SHAPE(4, 3, 3), true, {2}, {1}, {1}, {1}, 2},
    {"conv_transpose1d unbatched", 1, true, CT_SHAPE(2, 4), CT_SHAPE(2, 3, 2), true, {1}, {0}, {2}, {0}, 1},
};
#define NCASES (sizeof cases / sizeof cases[0])

static ct_shape bias_shape(const conv_case *c) {
    int64_t out4[4];
    out_shape(c, out4);
    return CT_SHAPE(out4[1]);
}

/* ---- forward against the reference ------------------------------------------------------------- */

static void check_forward(ct_dtype dtype, double rtol, double atol) {
    uint64_t state = 7;
    for (size_t i = 0; i < NCASES; i++) {
        const conv_case *c = &cases[i];
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) CT_SCOPE {
            ct_shape bs = bias_shape(c);
            double *x = malloc(sizeof(double) * (size_t)tu_numel(c->input));
            double *w = malloc(sizeof(double) * (size_t)tu_numel(c->weight));
            double b[64];
            /* Round the values to dtype first so the reference sees what the op sees. */
            ct_tensor *tx = tu_random(&state, c->input, dtype, (tu_layout)layout, -2, 2);
            ct_tensor *tw = tu_random(&state, c->weight, dtype, (tu_layout)((layout + 1) % TU_NUM_LAYOUTS), -1, 1);
            ct_tensor *tb = c->bias ? tu_random(&state, bs, dtype, (tu_layout)layout, -1, 1) : NULL;
            memcpy(x, tu_values(tx), sizeof(double) * (size_t)tu_numel(c->input));
            memcpy(w, tu_values(tw), sizeof(double) * (size_t)tu_numel(c->weight));
            if (tb) memcpy(b, tu_values(tb), sizeof(double) * (size_t)bs.d[0]);
            double *want = reference(c, x, w, tb ? b : NULL);
            int64_t out4[4];
            ct_tensor *y = call(c, tx, tw, tb);
            if (!y) fail_msg("%s (%s): %s", c->name, tu_layout_names[layout], ct_last_error());
            assert_int_equal(ct_dtype_of(y), dtype);
            tu_assert_values(y, out_shape(c, out4), want, rtol, atol);
            free(x), free(w), free(want);
        }
    }
}

static void test_forward_f64(void **s) { (void)s, check_forward(CT_F64, 1e-12, 1e-12); }
static void test_forward_f32(void **s) { (void)s, check_forward(CT_F32, 1e-5, 1e-5); }
static void test_forward_bf16(void **s) { (void)s, check_forward(CT_BF16, 2e-2, 5e-2); }
static void test_forward_f16(void **s) { (void)s, check_forward(CT_F16, 2e-3, 1e-2); }

/* ---- gradients ----------------------------------------------------------------------------------- */

static ct_tensor *case_fn(ct_tensor *const *in, void *user) {
    const conv_case *c = user;
    return call(c, in[0], in[1], c->bias ? in[2] : NULL);
}

static void test_gradcheck(void **s) {
    (void)s;
    for (size_t i = 0; i < NCASES; i++) {
        const conv_case *c = &cases[i];
        tu_grad_case g = {c->name, case_fn, (void *)c, c->bias ? 3 : 2, {c->input, c->weight, bias_shape(c)}, 0, 0};
        tu_gradcheck(&g);
    }
}

/* Only some inputs requiring grad: the others get none, and the node is ConvolutionBackward0. */
static void test_partial_grads(void **s) {
    (void)s;
    CT_SCOPE {
        uint64_t st = 3;
        ct_tensor *x = tu_random(&st, CT_SHAPE(2, 3, 5, 5), CT_F64, TU_CONTIGUOUS, -1, 1);
        ct_tensor *w = ct_requires_grad_(tu_random(&st, CT_SHAPE(4, 3, 3, 3), CT_F64, TU_CONTIGUOUS, -1, 1), true);
        ct_tensor *b = tu_random(&st, CT_SHAPE(4), CT_F64, TU_CONTIGUOUS, -1, 1);
        ct_tensor *y = ct_conv2d(x, w, b, .padding = CT_SHAPE(1));
        assert_non_null(y);
        assert_string_equal(ct_grad_fn_name(y), "ConvolutionBackward0");
        assert_true(ct_backward(ct_sum(y)));
        assert_non_null(ct_grad(w));
        assert_null(ct_grad(x));
        /* The bias gradient is the sum of dy over batch and space: 2 * 5 * 5 per channel. */
        ct_tensor *bl = ct_requires_grad_(ct_clone(b), true);
        assert_true(ct_backward(ct_sum(ct_conv2d(x, w, bl, .padding = CT_SHAPE(1)))));
        double want[4] = {50, 50, 50, 50};
        tu_assert_values(ct_grad(bl), CT_SHAPE(4), want, 0, 0);
    }
}

/* ---- batch chunks and threads -------------------------------------------------------------------- */

/* A batch large enough to be computed in several chunks gives what each sample gives alone, and
 * the weight gradient is the sum of the per-sample ones; results do not depend on the number of
 * threads (bit for bit). */
static void test_chunks_and_threads(void **s) {
    (void)s;
    CT_SCOPE {
        uint64_t st = 11;
        /* (K + o) * P = (9 + 2) * 40 * 40 per sample: chunks of 3 images for 5 (of 2^16 elements). */
        ct_tensor *x = ct_requires_grad_(tu_random(&st, CT_SHAPE(5, 1, 40, 40), CT_F32, TU_CONTIGUOUS, -1, 1), true);
        ct_tensor *w = ct_requires_grad_(tu_random(&st, CT_SHAPE(2, 1, 3, 3), CT_F32, TU_CONTIGUOUS, -1, 1), true);
        ct_tensor *g = tu_random(&st, CT_SHAPE(5, 2, 40, 40), CT_F32, TU_CONTIGUOUS, -1, 1);
        int threads = ct_get_num_threads();
        double *ys[2], *dxs[2], *dws[2];
        for (int t = 0; t < 2; t++) {
            ct_set_num_threads(t == 0 ? 1 : 3);
            ct_set_grad(x, NULL), ct_set_grad(w, NULL);
            ct_tensor *y = ct_conv2d(x, w, NULL, .padding = CT_SHAPE(1));
            assert_true(ct_backward(ct_sum(ct_mul(y, g))));
            ys[t] = tu_values(y), dxs[t] = tu_values(ct_grad(x)), dws[t] = tu_values(ct_grad(w));
        }
        ct_set_num_threads(threads);
        assert_memory_equal(ys[0], ys[1], sizeof(double) * 5 * 2 * 40 * 40);
        assert_memory_equal(dxs[0], dxs[1], sizeof(double) * 5 * 40 * 40);
        assert_memory_equal(dws[0], dws[1], sizeof(double) * 18);
        /* Per sample, in f32: the same forward; the weight gradient sums to the batched one. */
        double dw_sum[18] = {0};
        for (int64_t n = 0; n < 5; n++) {
            ct_tensor *xn = ct_detach(ct_select(x, 0, n));
            ct_tensor *wn = ct_requires_grad_(ct_detach(w), true);
            ct_tensor *yn = ct_conv2d(xn, wn, NULL, .padding = CT_SHAPE(1));
            tu_assert_values(yn, CT_SHAPE(2, 40, 40), ys[0] + n * 2 * 40 * 40, 1e-6, 1e-6);
            assert_true(ct_backward(ct_sum(ct_mul(yn, ct_select(g, 0, n)))));
            double *d = tu_values(ct_grad(wn));
            for (int k = 0; k < 18; k++) dw_sum[k] += d[k];
        }
        tu_assert_values(ct_grad(w), CT_SHAPE(2, 1, 3, 3), dw_sum, 1e-4, 1e-3);
    }
}

/* ---- edge shapes --------------------------------------------------------------------------------- */

static void test_empty(void **s) {
    (void)s;
    CT_SCOPE {
        /* batch of 0 */
        ct_tensor *x = ct_requires_grad_(ct_zeros(CT_SHAPE(0, 2, 5, 5), .dtype = CT_F64), true);
        ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(3, 2, 3, 3), .dtype = CT_F64), true);
        ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(3), .dtype = CT_F64), true);
        ct_tensor *y = ct_conv2d(x, w, b);
        assert_non_null(y);
        tu_assert_values(y, CT_SHAPE(0, 3, 3, 3), NULL, 0, 0);
        assert_true(ct_backward(ct_sum(y)));
        double zeros[54] = {0};
        tu_assert_values(ct_grad(w), CT_SHAPE(3, 2, 3, 3), zeros, 0, 0);
        tu_assert_values(ct_grad(b), CT_SHAPE(3), zeros, 0, 0);
        /* 0 input channels: the output is the bias */
        ct_tensor *y0 = ct_conv2d(ct_zeros(CT_SHAPE(2, 0, 4, 4), .dtype = CT_F64), ct_zeros(CT_SHAPE(3, 0, 3, 3), .dtype = CT_F64),
                                  ct_full(CT_SHAPE(3), 1.5, .dtype = CT_F64));
        double ones[2 * 3 * 2 * 2];
        for (int i = 0; i < 24; i++) ones[i] = 1.5;
        tu_assert_values(y0, CT_SHAPE(2, 3, 2, 2), ones, 0, 0);
    }
}

/* ---- errors -------------------------------------------------------------------------------------- */

static ct_tensor *f64(ct_shape s) { return ct_zeros(s, .dtype = CT_F64); }

static void test_errors(void **s) {
    (void)s;
    CT_SCOPE {
        ct_tensor *x = f64(CT_SHAPE(2, 4, 5, 5));
        assert_null(ct_conv2d(x, f64(CT_SHAPE(8, 3, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "conv2d: Given groups=1, weight of size [8, 3, 3, 3], expected input[2, 4, 5, 5] "
                                      "to have 3 channels, but got 4 channels instead");
        assert_null(ct_conv2d(f64(CT_SHAPE(2, 3, 2, 2)), f64(CT_SHAPE(8, 3, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel "
                                      "size can't be greater than actual input size");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .dilation = CT_SHAPE(3)));
        tu_assert_error(CT_ERR_SHAPE, "Calculated padded input size per channel: (5 x 5). Kernel size: (7 x 7).");
        assert_null(ct_conv1d(f64(CT_SHAPE(2, 4, 5)), f64(CT_SHAPE(4, 4, 7)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Calculated padded input size per channel: (5). Kernel size: (7).");
        assert_null(ct_conv2d(f64(CT_SHAPE(5, 5)), f64(CT_SHAPE(8, 3, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]");
        assert_null(ct_conv_transpose1d(f64(CT_SHAPE(5)), f64(CT_SHAPE(4, 4, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, but got input of size: [5]");
        assert_null(ct_conv1d(f64(CT_SHAPE(2, 3, 5)), f64(CT_SHAPE(8, 3, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected 4-dimensional input for 4-dimensional weight [8, 3, 3, 3], but got "
                                      "3-dimensional input of size [2, 3, 5] instead");
        assert_null(ct_conv1d(f64(CT_SHAPE(4, 5)), f64(CT_SHAPE(8, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Given groups=1, weight of size [8, 3, 3], expected input[1, 4, 5] to have 3 "
                                      "channels, but got 4 channels instead");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(3, 2, 3, 3)), NULL, .groups = 2));
        tu_assert_error(CT_ERR_SHAPE, "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got "
                                      "weight of size [[3, 2, 3, 3]] instead");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(0, 4, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight "
                                      "of size [0, 4, 3, 3] instead");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 2, 3, 3)), NULL, .groups = 0));
        tu_assert_error(CT_ERR_ARG, "non-positive groups is not supported");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .stride = CT_SHAPE(1, 0)));
        tu_assert_error(CT_ERR_ARG, "non-positive stride is not supported");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .padding = CT_SHAPE(-1)));
        tu_assert_error(CT_ERR_ARG, "negative padding is not supported");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .dilation = CT_SHAPE(0)));
        tu_assert_error(CT_ERR_ARG, "non-positive dilation is not supported");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .stride = CT_SHAPE(1, 1, 1)));
        tu_assert_error(CT_ERR_ARG, "expected stride to be a single integer value or a list of 2 values to match the "
                                    "convolution dimensions, but got stride=[1, 1, 1]");
        assert_null(ct_conv1d(f64(CT_SHAPE(2, 4, 5)), f64(CT_SHAPE(4, 4, 3)), NULL, .padding = CT_SHAPE(1, 1)));
        tu_assert_error(CT_ERR_ARG, "expected padding to be a single integer value or a list of 1 values to match the "
                                    "convolution dimensions, but got padding=[1, 1]");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), f64(CT_SHAPE(7))));
        tu_assert_error(CT_ERR_SHAPE, "Given weight of size [4, 4, 3, 3], expected bias to be 1-dimensional with 4 "
                                      "elements, but got bias of size [7] instead");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), f64(CT_SHAPE(4, 1))));
        tu_assert_error(CT_ERR_SHAPE, "but got bias of size [4, 1] instead");
        assert_null(ct_conv2d(x, ct_zeros(CT_SHAPE(4, 4, 3, 3)), NULL));
        tu_assert_error(CT_ERR_DTYPE, "expected scalar type Double but found Float");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 3, 3)), ct_zeros(CT_SHAPE(4))));
        tu_assert_error(CT_ERR_DTYPE, "Input type (float64) and bias type (float32) should be the same");
        assert_null(ct_conv2d(ct_zeros(CT_SHAPE(2, 4, 5, 5), .dtype = CT_I64), ct_zeros(CT_SHAPE(4, 4, 3, 3), .dtype = CT_I64), NULL));
        tu_assert_error(CT_ERR_DTYPE, "\"slow_conv2d_cpu\" not implemented for 'Long'");
        assert_null(ct_conv2d(x, f64(CT_SHAPE(4, 4, 0, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3");
        /* transposed */
        assert_null(ct_conv_transpose2d(f64(CT_SHAPE(2, 3, 5, 5)), f64(CT_SHAPE(4, 8, 3, 3)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Given transposed=1, weight of size [4, 8, 3, 3], expected input[2, 3, 5, 5] to "
                                      "have 4 channels, but got 3 channels instead");
        assert_null(ct_conv_transpose2d(x, f64(CT_SHAPE(4, 8, 3, 3)), NULL, .stride = CT_SHAPE(2), .output_padding = CT_SHAPE(2)));
        tu_assert_error(CT_ERR_ARG, "output padding must be smaller than either stride or dilation, but got "
                                    "output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 "
                                    "dilation_height: 1 dilation_width: 1");
        assert_null(ct_conv_transpose2d(f64(CT_SHAPE(2, 4, 1, 1)), f64(CT_SHAPE(4, 8, 1, 1)), NULL, .padding = CT_SHAPE(1)));
        tu_assert_error(CT_ERR_SHAPE, "Given input size per channel: (1 x 1). Calculated output size per channel: (-1 x "
                                      "-1). Output size is too small");
        assert_null(ct_conv_transpose2d(x, f64(CT_SHAPE(3, 8, 3, 3)), NULL, .groups = 2));
        tu_assert_error(CT_ERR_SHAPE, "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got "
                                      "weight of size [[3, 8, 3, 3]] instead");
        assert_null(ct_conv_transpose2d(x, f64(CT_SHAPE(4, 8, 3, 3)), f64(CT_SHAPE(7))));
        tu_assert_error(CT_ERR_SHAPE, "Given transposed=1, weight of size [4, 8, 3, 3], expected bias to be "
                                      "1-dimensional with 8 elements, but got bias of size [7] instead");
        assert_null(ct_conv_transpose2d(x, f64(CT_SHAPE(4, 4, 3, 3)), NULL, .output_padding = CT_SHAPE(1, 1, 1)));
        tu_assert_error(CT_ERR_ARG, "expected output_padding to be a single integer value or a list of 2 values");
        /* NULL inputs propagate */
        assert_null(ct_conv2d(NULL, f64(CT_SHAPE(4, 4, 3, 3)), NULL));
        tu_assert_error(CT_ERR_NULL, "");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_f64),  cmocka_unit_test(test_forward_f32),  cmocka_unit_test(test_forward_bf16),
        cmocka_unit_test(test_forward_f16),  cmocka_unit_test(test_gradcheck),    cmocka_unit_test(test_partial_grads),
        cmocka_unit_test(test_chunks_and_threads), cmocka_unit_test(test_empty), cmocka_unit_test(test_errors),
    };
    return TU_RUN("conv", tests);
}
