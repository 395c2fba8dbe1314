/* CPU pooling kernels over contiguous planes (one N*C plane of ih x iw in, oh x ow out), written
 * once as macros and stamped out for float and double. Planes are split among OpenMP threads; a
 * plane is handled by one thread start to end, so results never depend on the thread count (the
 * backward kernels add overlapping windows' contributions in a fixed order).
 *
 * Window of output (i, j), as PyTorch's CPU kernels (cpu_max_pool, cpu_avg_pool,
 * cpu_adaptive_avg_pool) compute it:
 *   max:      rows i*sh - ph + r*dh for r in [0, kh) that fall inside [0, ih); columns alike.
 *   avg:      rows [i*sh - ph, min(i*sh - ph + kh, ih + ph)) — the divisor counts this padded
 *             extent (count_include_pad) — then clipped to [0, ih) for the sum.
 *   adaptive: rows [floor(i*ih/oh), ceil((i+1)*ih/oh)); columns alike; divisor = window size. */
#include "../iter_impl.h"
#include "../pool_impl.h"

#include <math.h>

static int threads_for(const ct__pool2d_geom *g) {
    int64_t work = g->planes * (g->ih * g->iw + g->oh * g->ow);
    int threads = ct__num_threads();
    if (work <= CT_GRAIN_SIZE || threads <= 1 || g->planes <= 1) return 1;
    return (int)(g->planes < threads ? g->planes : threads);
}

/* Runs BODY(p) for every plane p, planes split among threads. */
#define FOR_PLANES(g, BODY)                                                                    \
    do {                                                                                       \
        int nthr_ = threads_for(g);                                                            \
        _Pragma("omp parallel for num_threads(nthr_) schedule(static) if (nthr_ > 1)")         \
        for (int64_t p = 0; p < (g)->planes; p++) BODY;                                        \
    } while (0)

/* A public entry of a (src, dst) plane kernel pair: plane p of src starts p * SRC elements in,
 * plane p of dst p * DST (in = ih * iw, out = oh * ow), f64 or f32 by dtype. */
#define PLANE_OP(name, kernel, SRC, DST)                                                                  \
    void name(const ct__pool2d_geom *g, ct_dtype dtype, const void *src, void *dst) {                    \
        int64_t in = g->ih * g->iw, out = g->oh * g->ow;                                                  \
        if (dtype == CT_F64)                                                                              \
            FOR_PLANES(g, kernel##_f64(g, (const double *)src + p * SRC, (double *)dst + p * DST));       \
        else                                                                                              \
            FOR_PLANES(g, kernel##_f32(g, (const float *)src + p * SRC, (float *)dst + p * DST));         \
    }

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- max pool ------------------------------------------------------------------------------ */

/* First row/column of a max window and one past its end, inside the input: start moves up by
 * whole dilation steps until it is >= 0, so the positions visited stay on the dilated grid. */
static inline void max_window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t d, int64_t in, int64_t *lo,
                              int64_t *hi) {
    int64_t start = o * s - pad;
    *hi = min64(start + (k - 1) * d + 1, in);
    while (start < 0) start += d;
    *lo = start;
}

/* The maximum of each window and its flat index. A NaN replaces the running maximum (so NaN
 * propagates, the last NaN's index is kept); otherwise only a strictly larger value does, so ties
 * keep the first maximum in row-major order. An all -inf window keeps its first element. */
#define DEFINE_MAX_POOL(T, SUFFIX)                                                                      \
    static void max_plane_##SUFFIX(const ct__pool2d_geom *g, const T *x, T *y, int64_t *idx) {         \
        for (int64_t i = 0; i < g->oh; i++) {                                                         \
            int64_t h0, h1;                                                                            \
            max_window(i, g->sh, g->ph, g->kh, g->dh, g->ih, &h0, &h1);                                \
            for (int64_t j = 0; j < g->ow; j++) {                                                     \
                int64_t w0, w1;                                                                        \
                max_window(j, g->sw, g->pw, g->kw, g->dw, g->iw, &w0, &w1);                            \
                int64_t best_i = h0 * g->iw + w0;                                                      \
                T best = -INFINITY;                                                                    \
                for (int64_t h = h0; h < h1; h += g->dh)                                               \
                    for (int64_t w = w0; w < w1; w += g->dw) {                                         \
                        T v = x[h * g->iw + w];                                                        \
                        if (v > best || isnan(v)) best = v, best_i = h * g->iw + w;                    \
                    }                                                                                  \
                y[i * g->ow + j] = best;                                                               \
                idx[i * g->ow + j] = best_i;                                                           \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
    /* The gradient of each output goes to its argmax; windows may share one, hence the sum. */      \
    static void max_plane_backward_##SUFFIX(const ct__pool2d_geom *g, const T *gy, const int64_t *idx, T *gx) { \
        for (int64_t o = 0; o < g->oh * g->ow; o++) gx[idx[o]] += gy[o];                               \
    }
DEFINE_MAX_POOL(float, f32)
DEFINE_MAX_POOL(double, f64)

void ct__max_pool2d_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *x, void *y, int64_t *indices) {
    int64_t in = g->ih * g->iw, out = g->oh * g->ow;
    if (dtype == CT_F64)
        FOR_PLANES(g, max_plane_f64(g, (const double *)x + p * in, (double *)y + p * out, indices + p * out));
    else
        FOR_PLANES(g, max_plane_f32(g, (const float *)x + p * in, (float *)y + p * out, indices + p * out));
}

void ct__max_pool2d_backward_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *gy, const int64_t *indices,
                                 void *gx) {
    int64_t in = g->ih * g->iw, out = g->oh * g->ow;
    if (dtype == CT_F64)
        FOR_PLANES(g,
                   max_plane_backward_f64(g, (const double *)gy + p * out, indices + p * out, (double *)gx + p * in));
    else
        FOR_PLANES(g, max_plane_backward_f32(g, (const float *)gy + p * out, indices + p * out, (float *)gx + p * in));
}

/* ---- avg pool ------------------------------------------------------------------------------ */

/* The window of output (i, j) clipped to the input, and its divisor; false for a window lying
 * wholly in the padding (its output is 0 and it gets no gradient). */
static inline bool avg_window(const ct__pool2d_geom *g, int64_t i, int64_t j, int64_t *h0, int64_t *h1, int64_t *w0,
                              int64_t *w1, double *divisor) {
    *h0 = i * g->sh - g->ph, *w0 = j * g->sw - g->pw;
    *h1 = min64(*h0 + g->kh, g->ih + g->ph), *w1 = min64(*w0 + g->kw, g->iw + g->pw);
    int64_t padded = (*h1 - *h0) * (*w1 - *w0);
    *h0 = max64(*h0, 0), *w0 = max64(*w0, 0);
    *h1 = min64(*h1, g->ih), *w1 = min64(*w1, g->iw);
    if (*h0 >= *h1 || *w0 >= *w1) return false;
    *divisor = (double)(g->divisor_override ? g->divisor_override
                                            : g->count_include_pad ? padded : (*h1 - *h0) * (*w1 - *w0));
    return true;
}

/* Sums accumulate in double, then divide once and round to T. */
#define DEFINE_AVG_POOL(T, SUFFIX)                                                                      \
    static void avg_plane_##SUFFIX(const ct__pool2d_geom *g, const T *x, T *y) {                       \
        for (int64_t i = 0; i < g->oh; i++)                                                           \
            for (int64_t j = 0; j < g->ow; j++) {                                                     \
                int64_t h0, h1, w0, w1;                                                                \
                double div, sum = 0;                                                                   \
                if (!avg_window(g, i, j, &h0, &h1, &w0, &w1, &div)) {                                  \
                    y[i * g->ow + j] = 0;                                                              \
                    continue;                                                                          \
                }                                                                                      \
                for (int64_t h = h0; h < h1; h++)                                                      \
                    for (int64_t w = w0; w < w1; w++) sum += x[h * g->iw + w];                         \
                y[i * g->ow + j] = (T)(sum / div);                                                     \
            }                                                                                          \
    }                                                                                                  \
    /* Each output's gradient, divided by the forward's divisor, lands on every input of its window. */ \
    static void avg_plane_backward_##SUFFIX(const ct__pool2d_geom *g, const T *gy, T *gx) {           \
        for (int64_t i = 0; i < g->oh; i++)                                                           \
            for (int64_t j = 0; j < g->ow; j++) {                                                     \
                int64_t h0, h1, w0, w1;                                                                \
                double div;                                                                            \
                if (!avg_window(g, i, j, &h0, &h1, &w0, &w1, &div)) continue;                          \
                T share = (T)(gy[i * g->ow + j] / div);                                                \
                for (int64_t h = h0; h < h1; h++)                                                      \
                    for (int64_t w = w0; w < w1; w++) gx[h * g->iw + w] += share;                      \
            }                                                                                          \
    }
DEFINE_AVG_POOL(float, f32)
DEFINE_AVG_POOL(double, f64)

PLANE_OP(ct__avg_pool2d_cpu, avg_plane, in, out)

PLANE_OP(ct__avg_pool2d_backward_cpu, avg_plane_backward, out, in)

/* ---- adaptive avg pool --------------------------------------------------------------------- */

/* [floor(o * in / out), ceil((o + 1) * in / out)): windows cover the input, neighbours may share
 * a row when in is not a multiple of out. */
static inline void adaptive_window(int64_t o, int64_t out, int64_t in, int64_t *lo, int64_t *hi) {
    *lo = o * in / out;
    *hi = ((o + 1) * in + out - 1) / out;
}

#define DEFINE_ADAPTIVE_POOL(T, SUFFIX)                                                                 \
    static void adaptive_plane_##SUFFIX(const ct__pool2d_geom *g, const T *x, T *y) {                  \
        for (int64_t i = 0; i < g->oh; i++) {                                                         \
            int64_t h0, h1;                                                                            \
            adaptive_window(i, g->oh, g->ih, &h0, &h1);                                                \
            for (int64_t j = 0; j < g->ow; j++) {                                                     \
                int64_t w0, w1;                                                                        \
                adaptive_window(j, g->ow, g->iw, &w0, &w1);                                            \
                double sum = 0;                                                                        \
                for (int64_t h = h0; h < h1; h++)                                                      \
                    for (int64_t w = w0; w < w1; w++) sum += x[h * g->iw + w];                         \
                y[i * g->ow + j] = (T)(sum / (double)((h1 - h0) * (w1 - w0)));                         \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
    static void adaptive_plane_backward_##SUFFIX(const ct__pool2d_geom *g, const T *gy, T *gx) {      \
        for (int64_t i = 0; i < g->oh; i++) {                                                         \
            int64_t h0, h1;                                                                            \
            adaptive_window(i, g->oh, g->ih, &h0, &h1);                                                \
            for (int64_t j = 0; j < g->ow; j++) {                                                     \
                int64_t w0, w1;                                                                        \
                adaptive_window(j, g->ow, g->iw, &w0, &w1);                                            \
                T share = (T)(gy[i * g->ow + j] / (double)((h1 - h0) * (w1 - w0)));                    \
                for (int64_t h = h0; h < h1; h++)                                                      \
                    for (int64_t w = w0; w < w1; w++) gx[h * g->iw + w] += share;                      \
            }                                                                                          \
        }                                                                                              \
    }
DEFINE_ADAPTIVE_POOL(float, f32)
DEFINE_ADAPTIVE_POOL(double, f64)

PLANE_OP(ct__adaptive_avg_pool2d_cpu, adaptive_plane, in, out)

PLANE_OP(ct__adaptive_avg_pool2d_backward_cpu, adaptive_plane_backward, out, in)
