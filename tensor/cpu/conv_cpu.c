/* CPU convolution: im2col + one OpenBLAS GEMM per group (conv_impl.h has the math).
 *
 * Small images are folded into the GEMM: a chunk of nb images gives one K x (nb P) column matrix
 * per group (sample j's window columns at j P .. j P + P - 1), so a group is one product large
 * enough for OpenBLAS to thread; the product's (o x nb P) output is moved to and from the
 * [n, o, P] layout by row copies. A chunk of one image (large images) multiplies straight into
 * and out of the tensors. Chunks are sized from the shapes alone, never from the thread count,
 * and OpenBLAS splits a product over M and N, never over the summed K; the weight gradient sums
 * the chunks in order. So results do not depend on the number of threads. im2col, col2im and the
 * row copies run in OpenMP loops over (sample, channel) pairs, each writing its own rows. */
#include "../conv_impl.h"
#include "../iter_impl.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

/* Scratch per chunk (column matrix + GEMM output), in elements: 256 KiB of f32, so a chunk's
 * columns stay in L2 between im2col and the GEMM (measured: 20% faster than 32 MiB chunks on the
 * issue's CNN layers). A sample larger than that is a chunk of its own. */
#define CHUNK_ELEMS ((int64_t)1 << 16)

/* ---- im2col / col2im for one group of nb images -------------------------------------------------- */

/* The output columns ox whose input column ox*s - a (a = padding - kernel offset) lies in [0, w):
 * [*lo, *hi). */
static void valid_range(int64_t a, int64_t s, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = w - 1 + a < 0 ? 0 : (w - 1 + a) / s + 1;
    if (*hi > ow) *hi = ow;
    if (*lo > *hi) *lo = *hi;
}

/* The rows of one input channel plane x (h x w) seen by kernel tap (ki, kj): col row `row`
 * (ow x oh entries for this sample) gets x's pixels, or zeros outside the image (im2col); or,
 * reversed, those entries are added back onto the pixels (col2im). */
#define TAP_ROWS(T, name)                                                                                   \
    static void im2col_tap_##name(const ct_conv_geom *g, const T *restrict x, int64_t ki, int64_t kj,      \
                                  T *restrict row) {                                                         \
        int64_t a = g->pw - kj * g->dw, lo, hi, ow = g->ow, sw = g->sw;                                     \
        valid_range(a, sw, g->w, ow, &lo, &hi);                                                             \
        for (int64_t oy = 0; oy < g->oh; oy++, row += ow) {                                                 \
            int64_t iy = oy * g->sh - g->ph + ki * g->dh;                                                   \
            if (iy < 0 || iy >= g->h) {                                                                     \
                memset(row, 0, (size_t)ow * sizeof(T));                                                     \
                continue;                                                                                   \
            }                                                                                               \
            const T *xr = x + iy * g->w;                                                                    \
            for (int64_t ox = 0; ox < lo; ox++) row[ox] = 0;                                                \
            if (sw == 1) memcpy(row + lo, xr + lo - a, (size_t)(hi - lo) * sizeof(T));                      \
            else                                                                                            \
                for (int64_t ox = lo; ox < hi; ox++) row[ox] = xr[ox * sw - a];                             \
            for (int64_t ox = hi; ox < ow; ox++) row[ox] = 0;                                               \
        }                                                                                                   \
    }                                                                                                       \
    static void col2im_tap_##name(const ct_conv_geom *g, T *restrict x, int64_t ki, int64_t kj,            \
                                  const T *restrict row) {                                                   \
        int64_t a = g->pw - kj * g->dw, lo, hi, ow = g->ow, sw = g->sw;                                     \
        valid_range(a, sw, g->w, ow, &lo, &hi);                                                             \
        for (int64_t oy = 0; oy < g->oh; oy++, row += ow) {                                                 \
            int64_t iy = oy * g->sh - g->ph + ki * g->dh;                                                   \
            if (iy < 0 || iy >= g->h) continue;                                                             \
            T *restrict xr = x + iy * g->w - a;                                                             \
            if (sw == 1)                                                                                    \
                for (int64_t ox = lo; ox < hi; ox++) xr[ox] += row[ox];                                     \
            else                                                                                            \
                for (int64_t ox = lo; ox < hi; ox++) xr[ox * sw] += row[ox];                                \
        }                                                                                                   \
    }

/* col (K x ld, sample j at column j P) <- the windows of image channels [c0, c0 + cg) of samples
 * n0 .. n0 + nb - 1 (to_image false); or image += col2im(col) (to_image true). Each (sample,
 * channel) pair owns its K / cg rows of col and its plane of the image, so the pairs run in
 * parallel and each pixel's additions happen in one fixed order. */
#define IM2COL(T, name)                                                                                     \
    TAP_ROWS(T, name)                                                                                       \
    static void im2col_##name(const ct_conv_geom *g, const T *image, int64_t n0, int64_t nb, int64_t c0,    \
                              T *col, bool to_image) {                                                       \
        int64_t cg = g->c / g->groups, P = g->oh * g->ow, ld = nb * P, hw = g->h * g->w;                     \
        int64_t work = nb * cg * g->kh * g->kw * P;                                                          \
        _Pragma("omp parallel for collapse(2) schedule(static) num_threads(ct__num_threads()) if (work > CT_GRAIN_SIZE)") \
        for (int64_t j = 0; j < nb; j++)                                                                     \
            for (int64_t c = 0; c < cg; c++) {                                                               \
                T *x = (T *)image + ((n0 + j) * g->c + c0 + c) * hw;                                         \
                for (int64_t ki = 0; ki < g->kh; ki++)                                                       \
                    for (int64_t kj = 0; kj < g->kw; kj++) {                                                 \
                        T *row = col + ((c * g->kh + ki) * g->kw + kj) * ld + j * P;                         \
                        if (to_image) col2im_tap_##name(g, x, ki, kj, row);                                  \
                        else im2col_tap_##name(g, x, ki, kj, row);                                           \
                    }                                                                                        \
            }                                                                                                \
    }
IM2COL(float, f32)
IM2COL(double, f64)

static void im2col(const ct_conv_geom *g, const void *image, int64_t n0, int64_t nb, int64_t c0, void *col) {
    if (g->dtype == CT_F32) im2col_f32(g, image, n0, nb, c0, col, false);
    else im2col_f64(g, image, n0, nb, c0, col, false);
}
static void col2im(const ct_conv_geom *g, void *image, int64_t n0, int64_t nb, int64_t c0, const void *col) {
    if (g->dtype == CT_F32) im2col_f32(g, image, n0, nb, c0, (void *)col, true);
    else im2col_f64(g, image, n0, nb, c0, (void *)col, true);
}

/* ---- moving GEMM outputs between (rows x nb P) and [n, channels, P] ------------------------------- */

/* to_mat: mat[r, j P + p] = t[n0 + j, r0 + r, p]; else the reverse. t has `channels` channels. */
static void move_rows(const ct_conv_geom *g, void *t, int64_t channels, int64_t r0, int64_t rows, int64_t n0,
                      int64_t nb, int64_t P, void *mat, bool to_mat) {
    size_t es = ct_dtype_size(g->dtype), bytes = (size_t)P * es;
#pragma omp parallel for collapse(2) schedule(static) num_threads(ct__num_threads()) if (rows * nb * P > CT_GRAIN_SIZE)
    for (int64_t j = 0; j < nb; j++)
        for (int64_t r = 0; r < rows; r++) {
            char *tp = (char *)t + (size_t)(((n0 + j) * channels + r0 + r) * P) * es;
            char *mp = (char *)mat + (size_t)(r * nb * P + j * P) * es;
            if (to_mat) memcpy(mp, tp, bytes);
            else memcpy(tp, mp, bytes);
        }
}

/* &t[n, r0, 0] for t of `channels` channels of P elements. */
static void *rows_at(const ct_conv_geom *g, const void *t, int64_t channels, int64_t n, int64_t r0, int64_t P) {
    return (char *)t + (size_t)((n * channels + r0) * P) * ct_dtype_size(g->dtype);
}

/* t[n, ch, :] += bias[ch] over the whole tensor. */
static void add_bias(const ct_conv_geom *g, void *t, int64_t channels, int64_t P, const void *bias) {
    if (!bias) return;
    int64_t rows = g->n * channels;
#pragma omp parallel for schedule(static) num_threads(ct__num_threads()) if (rows * P > CT_GRAIN_SIZE)
    for (int64_t r = 0; r < rows; r++) {
        if (g->dtype == CT_F32) {
            float *p = (float *)t + r * P, b = ((const float *)bias)[r % channels];
            for (int64_t i = 0; i < P; i++) p[i] += b;
        } else {
            double *p = (double *)t + r * P, b = ((const double *)bias)[r % channels];
            for (int64_t i = 0; i < P; i++) p[i] += b;
        }
    }
}

/* ---- GEMM and scratch ---------------------------------------------------------------------------- */

/* C (m x n, ldc) = A (m x k or its transpose) @ B (k x n or its transpose) + beta C, row-major. */
static void gemm(ct_dtype dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                 const void *b, int64_t ldb, double beta, void *c, int64_t ldc) {
    enum CBLAS_TRANSPOSE at = ta ? CblasTrans : CblasNoTrans, bt = tb ? CblasTrans : CblasNoTrans;
    if (dtype == CT_F32)
        cblas_sgemm(CblasRowMajor, at, bt, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, (float)beta, c,
                    (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, at, bt, (int)m, (int)n, (int)k, 1.0, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* A plan: chunk size and the scratch (column matrix K x nb P, GEMM output o/groups x nb P). */
typedef struct plan {
    int64_t P, K, og, cg, nb;
    ct_storage *scratch;
    void *col, *mat;
} plan;

static bool plan_make(const ct_conv_geom *g, plan *p) {
    p->P = g->oh * g->ow;
    p->cg = g->c / g->groups, p->og = g->o / g->groups;
    p->K = p->cg * g->kh * g->kw;
    int64_t per_sample = (p->K + p->og) * p->P, n = g->n > 0 ? g->n : 1;
    int64_t max_nb = per_sample > 0 ? CHUNK_ELEMS / per_sample : n;
    if (max_nb < 1) max_nb = 1;
    int64_t chunks = (n + max_nb - 1) / max_nb;
    p->nb = (n + chunks - 1) / chunks; /* balanced chunks */
    if (p->nb * p->P > INT_MAX || p->K > INT_MAX || p->og > INT_MAX) {
        ct_error(CT_ERR_UNSUPPORTED, "convolution: matrix sizes above %d are not supported", INT_MAX);
        return false;
    }
    size_t es = ct_dtype_size(g->dtype), col_elems = (size_t)(p->K * p->nb * p->P);
    p->scratch = ct__storage_new((col_elems + (size_t)(p->og * p->nb * p->P)) * es + 64, (ct_device){CT_DEVICE_CPU, 0});
    if (!p->scratch) return false;
    p->col = p->scratch->data;
    p->mat = (char *)p->scratch->data + col_elems * es;
    return true;
}

/* ---- the three products -------------------------------------------------------------------------- */

static bool cpu_forward(const ct_conv_geom *g, const void *image, const void *weight, const void *bias, void *cols) {
    plan p;
    if (!plan_make(g, &p)) return false;
    size_t es = ct_dtype_size(g->dtype);
    for (int64_t n0 = 0; n0 < g->n; n0 += p.nb) {
        int64_t nb = g->n - n0 < p.nb ? g->n - n0 : p.nb, ld = nb * p.P;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            /* One image: the product lands in the output directly. */
            void *mat = nb == 1 ? rows_at(g, cols, g->o, n0, gi * p.og, p.P) : p.mat;
            if (p.K == 0) {
                memset(mat, 0, (size_t)(p.og * ld) * es);
            } else {
                im2col(g, image, n0, nb, gi * p.cg, p.col);
                gemm(g->dtype, false, false, p.og, ld, p.K, (const char *)weight + (size_t)(gi * p.og * p.K) * es, p.K,
                     p.col, ld, 0, mat, ld);
            }
            if (nb > 1) move_rows(g, cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, false);
        }
    }
    add_bias(g, cols, g->o, p.P, bias);
    ct__storage_release(p.scratch);
    return true;
}

static bool cpu_backward_input(const ct_conv_geom *g, const void *cols, const void *weight, const void *bias,
                               void *image) {
    plan p;
    if (!plan_make(g, &p)) return false;
    size_t es = ct_dtype_size(g->dtype);
    memset(image, 0, (size_t)(g->n * g->c * g->h * g->w) * es);
    for (int64_t n0 = 0; n0 < g->n && p.K > 0; n0 += p.nb) {
        int64_t nb = g->n - n0 < p.nb ? g->n - n0 : p.nb, ld = nb * p.P;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            void *mat = nb == 1 ? rows_at(g, cols, g->o, n0, gi * p.og, p.P) : p.mat;
            if (nb > 1) move_rows(g, (void *)cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, true);
            if (p.og == 0) memset(p.col, 0, (size_t)(p.K * ld) * es);
            else
                gemm(g->dtype, true, false, p.K, ld, p.og, (const char *)weight + (size_t)(gi * p.og * p.K) * es, p.K,
                     mat, ld, 0, p.col, ld);
            col2im(g, image, n0, nb, gi * p.cg, p.col);
        }
    }
    add_bias(g, image, g->c, g->h * g->w, bias);
    ct__storage_release(p.scratch);
    return true;
}

static bool cpu_backward_weight(const ct_conv_geom *g, const void *image, const void *cols, void *dweight) {
    plan p;
    if (!plan_make(g, &p)) return false;
    size_t es = ct_dtype_size(g->dtype);
    memset(dweight, 0, (size_t)(g->o * p.K) * es);
    for (int64_t n0 = 0; n0 < g->n && p.K > 0 && p.og > 0; n0 += p.nb) {
        int64_t nb = g->n - n0 < p.nb ? g->n - n0 : p.nb, ld = nb * p.P;
        for (int64_t gi = 0; gi < g->groups; gi++) {
            im2col(g, image, n0, nb, gi * p.cg, p.col);
            void *mat = nb == 1 ? rows_at(g, cols, g->o, n0, gi * p.og, p.P) : p.mat;
            if (nb > 1) move_rows(g, (void *)cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, true);
            gemm(g->dtype, false, true, p.og, p.K, ld, mat, ld, p.col, ld, 1, (char *)dweight + (size_t)(gi * p.og * p.K) * es,
                 p.K);
        }
    }
    ct__storage_release(p.scratch);
    return true;
}

const ct_conv_kernels ct__conv_cpu_kernels = {
    .forward = cpu_forward, .backward_input = cpu_backward_input, .backward_weight = cpu_backward_weight};
