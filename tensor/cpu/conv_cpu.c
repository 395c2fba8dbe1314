/* CPU convolution: im2col + one OpenBLAS GEMM per group (conv_impl.h has the math).
 *
 * The batch is folded into the GEMM: a chunk of nb images gives one K x (nb P) column matrix per
 * group (sample j's window columns at j P .. j P + P - 1), so each group is one large product that
 * OpenBLAS threads over its rows and columns, whatever the batch size. Chunks are sized from the
 * shapes alone (a bounded scratch), never from the thread count, and OpenBLAS splits a product
 * over M and N, never over the summed K, so results do not depend on the number of threads. The
 * GEMM's (o x nb P) output is moved to and from the [n, o, P] layout by row copies. im2col, col2im
 * and those copies run in OpenMP loops over (sample, channel) pairs, each writing its own rows. */
#include "../conv_impl.h"
#include "../iter_impl.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

/* Scratch per chunk (column matrix + GEMM output), in elements: 32 MiB of f32. */
#define CHUNK_ELEMS ((int64_t)1 << 23)

/* ---- im2col / col2im for one group of nb images -------------------------------------------------- */

/* The output columns ox whose input column ox*s - a (a = padding - kernel offset) lies in [0, w):
 * [*lo, *hi). */
static void valid_range(int64_t a, int64_t s, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = w - 1 + a < 0 ? 0 : (w - 1 + a) / s + 1;
    if (*hi > ow) *hi = ow;
    if (*lo > *hi) *lo = *hi;
}

/* col (K x ld, sample j at column j P) <- windows of image channels [c0, c0 + cg) of samples
 * n0 .. n0 + nb - 1; im2col_add: the reverse, image += col2im(col). */
#define IM2COL(T, name)                                                                                     \
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
                        int64_t a = g->pw - kj * g->dw, lo, hi;                                              \
                        valid_range(a, g->sw, g->w, g->ow, &lo, &hi);                                        \
                        for (int64_t oy = 0; oy < g->oh; oy++) {                                             \
                            int64_t iy = oy * g->sh - g->ph + ki * g->dh;                                    \
                            T *d = row + oy * g->ow;                                                         \
                            bool inside = iy >= 0 && iy < g->h;                                              \
                            T *xr = x + iy * g->w;                                                           \
                            if (to_image) {                                                                  \
                                if (!inside) continue;                                                       \
                                for (int64_t ox = lo; ox < hi; ox++) xr[ox * g->sw - a] += d[ox];            \
                                continue;                                                                    \
                            }                                                                                \
                            if (!inside) {                                                                   \
                                for (int64_t ox = 0; ox < g->ow; ox++) d[ox] = 0;                            \
                                continue;                                                                    \
                            }                                                                                \
                            for (int64_t ox = 0; ox < lo; ox++) d[ox] = 0;                                   \
                            if (g->sw == 1)                                                                  \
                                for (int64_t ox = lo; ox < hi; ox++) d[ox] = xr[ox - a];                     \
                            else                                                                             \
                                for (int64_t ox = lo; ox < hi; ox++) d[ox] = xr[ox * g->sw - a];             \
                            for (int64_t ox = hi; ox < g->ow; ox++) d[ox] = 0;                               \
                        }                                                                                    \
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
            if (p.K == 0) {
                memset(p.mat, 0, (size_t)(p.og * ld) * es);
            } else {
                im2col(g, image, n0, nb, gi * p.cg, p.col);
                gemm(g->dtype, false, false, p.og, ld, p.K, (const char *)weight + (size_t)(gi * p.og * p.K) * es, p.K,
                     p.col, ld, 0, p.mat, ld);
            }
            move_rows(g, cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, false);
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
            move_rows(g, (void *)cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, true);
            if (p.og == 0) memset(p.col, 0, (size_t)(p.K * ld) * es);
            else
                gemm(g->dtype, true, false, p.K, ld, p.og, (const char *)weight + (size_t)(gi * p.og * p.K) * es, p.K,
                     p.mat, ld, 0, p.col, ld);
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
            move_rows(g, (void *)cols, g->o, gi * p.og, p.og, n0, nb, p.P, p.mat, true);
            gemm(g->dtype, false, true, p.og, p.K, ld, p.mat, ld, p.col, ld, 1, (char *)dweight + (size_t)(gi * p.og * p.K) * es,
                 p.K);
        }
    }
    ct__storage_release(p.scratch);
    return true;
}

const ct_conv_kernels ct__conv_cpu_kernels = {
    .forward = cpu_forward, .backward_input = cpu_backward_input, .backward_weight = cpu_backward_weight};
