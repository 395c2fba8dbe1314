/* CPU kernel of the fused softmax / log_softmax backward (softmax_impl.h has the math), in
 * double whatever the dtype, as the CPU's reductions.
 *
 * Rows along the last dim (inner == 1) are converted into dense double buffers, one row at a
 * time (dense f32 rows are read directly). Rows along an earlier dim are strided but their neighbours are adjacent in memory, so
 * TILE neighbouring rows advance together and every load reads a contiguous run. The row sum uses
 * LANES partial sums combined in a fixed order: the loop vectorizes, and the result depends only
 * on the row, not on the number of threads. */
#include "../iter_impl.h"
#include "../softmax_impl.h"
#include "copy_cpu.h"
#include "vec_math.h"

#include <math.h>
#include <stdlib.h>

#define TILE 256
#define LANES 8

/* n elements of dtype sd at src into dtype dd at dst, both dense (the copy kernel's loop). */
static void convert(void *dst, ct_dtype dd, const void *src, ct_dtype sd, int64_t n) {
    char *data[2] = {dst, (char *)src};
    ct__cpu_copy_loop(dd, sd)(data, (const int64_t[]){(int64_t)ct_dtype_size(dd), (int64_t)ct_dtype_size(sd)}, n, NULL);
}

/* sum_k g[k] * y[k] (log_softmax: sum_k g[k]) over a dense row. */
static double row_sum(const double *restrict g, const double *restrict y, bool log, int64_t n) {
    double lane[LANES] = {0};
    int64_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (int j = 0; j < LANES; j++) lane[j] += log ? g[k + j] : g[k + j] * y[k + j];
    for (int j = 0; k < n; k++, j++) lane[j] += log ? g[k] : g[k] * y[k];
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) lane[j] += lane[j + w];
    return lane[0];
}

/* g[k] <- dx[k] for the row's sum s. */
static void row_dx(double *restrict g, const double *restrict y, bool log, double s, int64_t n) {
    if (log)
        for (int64_t k = 0; k < n; k++) g[k] -= exp(y[k]) * s;
    else
        for (int64_t k = 0; k < n; k++) g[k] = y[k] * (g[k] - s);
}

/* Dense f32 rows (the common case, without the double buffers): the sum in double lanes, dx in
 * double rounded once; log_softmax's exp in float with the vectorized expf (about 1 ulp, as the
 * forward's), so the loops vectorize. */
static void run_rows_f32(const ct__softmax_bw_args *a, int64_t r0, int64_t r1) {
    int64_t n = a->n;
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict g = (const float *)a->grad + r * n, *restrict y = (const float *)a->y + r * n;
        float *restrict dx = (float *)a->dx + r * n;
        double lane[LANES] = {0};
        int64_t k = 0;
        if (a->log) {
            for (; k + LANES <= n; k += LANES)
                for (int j = 0; j < LANES; j++) lane[j] += (double)g[k + j];
            for (int j = 0; k < n; k++, j++) lane[j] += (double)g[k];
        } else {
            for (; k + LANES <= n; k += LANES)
                for (int j = 0; j < LANES; j++) lane[j] += (double)g[k + j] * (double)y[k + j];
            for (int j = 0; k < n; k++, j++) lane[j] += (double)g[k] * (double)y[k];
        }
        for (int w = LANES / 2; w >= 1; w /= 2)
            for (int j = 0; j < w; j++) lane[j] += lane[j + w];
        double s = lane[0];
        if (a->log)
            for (k = 0; k < n; k++) dx[k] = (float)((double)g[k] - (double)ct__expf(y[k]) * s);
        else
            for (k = 0; k < n; k++) dx[k] = (float)((double)y[k] * ((double)g[k] - s));
    }
}

/* Rows r0..r1 along the last dim; buf holds 2n doubles. */
static void run_rows(const ct__softmax_bw_args *a, int64_t r0, int64_t r1, double *buf) {
    size_t es = ct_dtype_size(a->dtype);
    int64_t n = a->n;
    double *g = buf, *y = buf + n;
    for (int64_t r = r0; r < r1; r++) {
        size_t off = (size_t)(r * n) * es;
        convert(g, CT_F64, (const char *)a->grad + off, a->dtype, n);
        convert(y, CT_F64, (const char *)a->y + off, a->dtype, n);
        row_dx(g, y, a->log, row_sum(g, y, a->log, n), n);
        convert((char *)a->dx + off, a->dtype, g, CT_F64, n);
    }
}

/* Tiles t0..t1 of TILE neighbouring rows along an earlier dim: tile t covers rows
 * (o, i0 .. i0 + w) with o = t / ntiles, i0 = (t % ntiles) * TILE. */
static void run_tiles(const ct__softmax_bw_args *a, int64_t ntiles, int64_t t0, int64_t t1) {
    size_t es = ct_dtype_size(a->dtype);
    double g[TILE], y[TILE], s[TILE];
    for (int64_t t = t0; t < t1; t++) {
        int64_t o = t / ntiles, i0 = (t % ntiles) * TILE, w = a->inner - i0 < TILE ? a->inner - i0 : TILE;
        for (int64_t j = 0; j < w; j++) s[j] = 0;
        for (int64_t k = 0; k < a->n; k++) {
            size_t off = (size_t)((o * a->n + k) * a->inner + i0) * es;
            convert(g, CT_F64, (const char *)a->grad + off, a->dtype, w);
            if (!a->log) convert(y, CT_F64, (const char *)a->y + off, a->dtype, w);
            for (int64_t j = 0; j < w; j++) s[j] += a->log ? g[j] : g[j] * y[j];
        }
        for (int64_t k = 0; k < a->n; k++) {
            size_t off = (size_t)((o * a->n + k) * a->inner + i0) * es;
            convert(g, CT_F64, (const char *)a->grad + off, a->dtype, w);
            convert(y, CT_F64, (const char *)a->y + off, a->dtype, w);
            for (int64_t j = 0; j < w; j++) g[j] = a->log ? g[j] - exp(y[j]) * s[j] : y[j] * (g[j] - s[j]);
            convert((char *)a->dx + off, a->dtype, g, CT_F64, w);
        }
    }
}

static bool cpu_backward(const ct__softmax_bw_args *a) {
    int64_t numel = a->outer * a->n * a->inner;
    bool rows = a->inner == 1, rows_f32 = rows && a->dtype == CT_F32;
    int64_t ntiles = (a->inner + TILE - 1) / TILE, tasks = rows ? a->outer : a->outer * ntiles;
    int64_t nthr = numel > CT_GRAIN_SIZE ? ct__num_threads() : 1;
    if (nthr > tasks) nthr = tasks;
    double *buf = NULL;
    if (rows && !rows_f32) {
        buf = malloc((size_t)nthr * 2 * (size_t)a->n * sizeof(double));
        if (!buf) {
            ct_error(CT_ERR_OOM, "softmax_backward: cannot allocate %lld bytes of row buffers",
                     (long long)(nthr * 2 * a->n * (int64_t)sizeof(double)));
            return false;
        }
    }
#pragma omp parallel for num_threads((int)nthr) schedule(static, 1) if (nthr > 1)
    for (int64_t th = 0; th < nthr; th++) {
        int64_t t0 = tasks * th / nthr, t1 = tasks * (th + 1) / nthr;
        if (rows_f32) run_rows_f32(a, t0, t1);
        else if (rows) run_rows(a, t0, t1, buf + th * 2 * a->n);
        else run_tiles(a, ntiles, t0, t1);
    }
    free(buf);
    return true;
}

const ct__softmax_kernels ct__softmax_cpu_kernels = {.backward = cpu_backward};
