/* CUDA pooling kernels with the CPU kernels' semantics (cpu/pool_cpu.c): the same windows, the
 * same NaN and tie rules for max (a NaN replaces the running max, otherwise only a strictly
 * larger value: the first maximum in row-major order wins), sums in double divided once.
 * Forward: a thread per output. Backward: a thread per input element gathering from every output
 * whose window covers it, in the row-major output order the CPU scatters in, so each gradient is
 * the same sum in the same order and no atomics or zero-fill are needed. */
#include "dnn_cuda.h"

typedef ct__cuda_pool_geom geom;

static __device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static __device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
/* ceil(a / b) for b > 0, clamped below at 0 (a may be negative). */
static __device__ __forceinline__ int64_t ceil_div0(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

#define GRID_STRIDE(i, n) for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

/* ---- max ---- */

/* As cpu/pool_cpu.c max_window: inside the input, start moved onto the dilated grid. */
static __device__ void max_window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t d, int64_t in, int64_t *lo,
                                  int64_t *hi) {
    int64_t start = o * s - pad;
    *hi = min64(start + (k - 1) * d + 1, in);
    while (start < 0) start += d;
    *lo = start;
}

template <typename T>
__global__ void max_fwd(geom g, const T *x, T *y, int64_t *idx) {
    int64_t per = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, i = (t % per) / g.ow, j = t % g.ow;
        int64_t h0, h1, w0, w1;
        max_window(i, g.sh, g.ph, g.kh, g.dh, g.ih, &h0, &h1);
        max_window(j, g.sw, g.pw, g.kw, g.dw, g.iw, &w0, &w1);
        const T *xp = x + p * g.ih * g.iw;
        int64_t best_i = h0 * g.iw + w0;
        T best = -INFINITY;
        for (int64_t h = h0; h < h1; h += g.dh)
            for (int64_t w = w0; w < w1; w += g.dw) {
                T v = xp[h * g.iw + w];
                if (v > best || isnan(v)) best = v, best_i = h * g.iw + w;
            }
        y[t] = best;
        idx[t] = best_i;
    }
}

template <typename T>
__global__ void max_bwd(geom g, const T *gy, const int64_t *idx, T *gx) {
    int64_t per = g.ih * g.iw, oper = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, h = (t % per) / g.iw, w = t % g.iw, self = h * g.iw + w;
        /* windows of output i span rows [i sh - ph, i sh - ph + (kh - 1) dh] */
        int64_t i0 = ceil_div0(h + g.ph - (g.kh - 1) * g.dh, g.sh), i1 = min64(g.oh - 1, (h + g.ph) / g.sh);
        int64_t j0 = ceil_div0(w + g.pw - (g.kw - 1) * g.dw, g.sw), j1 = min64(g.ow - 1, (w + g.pw) / g.sw);
        T sum = 0;
        for (int64_t i = i0; i <= i1; i++)
            for (int64_t j = j0; j <= j1; j++) {
                int64_t o = p * oper + i * g.ow + j;
                if (idx[o] == self) sum += gy[o];
            }
        gx[t] = sum;
    }
}

/* ---- avg ---- */

/* As cpu/pool_cpu.c avg_window. */
static __device__ bool avg_window(const geom &g, int64_t i, int64_t j, int64_t *h0, int64_t *h1, int64_t *w0,
                                  int64_t *w1, double *divisor) {
    *h0 = i * g.sh - g.ph, *w0 = j * g.sw - g.pw;
    *h1 = min64(*h0 + g.kh, g.ih + g.ph), *w1 = min64(*w0 + g.kw, g.iw + g.pw);
    int64_t padded = (*h1 - *h0) * (*w1 - *w0);
    *h0 = max64(*h0, 0), *w0 = max64(*w0, 0);
    *h1 = min64(*h1, g.ih), *w1 = min64(*w1, g.iw);
    if (*h0 >= *h1 || *w0 >= *w1) return false;
    *divisor = (double)(g.divisor_override ? g.divisor_override : g.count_include_pad ? padded : (*h1 - *h0) * (*w1 - *w0));
    return true;
}

template <typename T>
__global__ void avg_fwd(geom g, const T *x, T *y) {
    int64_t per = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, i = (t % per) / g.ow, j = t % g.ow;
        int64_t h0, h1, w0, w1;
        double div, sum = 0;
        if (!avg_window(g, i, j, &h0, &h1, &w0, &w1, &div)) {
            y[t] = 0;
            continue;
        }
        const T *xp = x + p * g.ih * g.iw;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) sum += xp[h * g.iw + w];
        y[t] = (T)(sum / div);
    }
}

template <typename T>
__global__ void avg_bwd(geom g, const T *gy, T *gx) {
    int64_t per = g.ih * g.iw, oper = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, h = (t % per) / g.iw, w = t % g.iw;
        /* output i's window starts at i sh - ph and has kh rows */
        int64_t i0 = ceil_div0(h + g.ph - g.kh + 1, g.sh), i1 = min64(g.oh - 1, (h + g.ph) / g.sh);
        int64_t j0 = ceil_div0(w + g.pw - g.kw + 1, g.sw), j1 = min64(g.ow - 1, (w + g.pw) / g.sw);
        T sum = 0;
        for (int64_t i = i0; i <= i1; i++)
            for (int64_t j = j0; j <= j1; j++) {
                int64_t h0, h1, w0, w1;
                double div;
                if (!avg_window(g, i, j, &h0, &h1, &w0, &w1, &div)) continue;
                if (h < h0 || h >= h1 || w < w0 || w >= w1) continue;
                sum += (T)(gy[p * oper + i * g.ow + j] / div);
            }
        gx[t] = sum;
    }
}

/* ---- adaptive avg ---- */

static __device__ __forceinline__ void adaptive_window(int64_t o, int64_t out, int64_t in, int64_t *lo, int64_t *hi) {
    *lo = o * in / out;
    *hi = ((o + 1) * in + out - 1) / out;
}

template <typename T>
__global__ void adaptive_fwd(geom g, const T *x, T *y) {
    int64_t per = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, i = (t % per) / g.ow, j = t % g.ow;
        int64_t h0, h1, w0, w1;
        adaptive_window(i, g.oh, g.ih, &h0, &h1);
        adaptive_window(j, g.ow, g.iw, &w0, &w1);
        const T *xp = x + p * g.ih * g.iw;
        double sum = 0;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) sum += xp[h * g.iw + w];
        y[t] = (T)(sum / (double)((h1 - h0) * (w1 - w0)));
    }
}

template <typename T>
__global__ void adaptive_bwd(geom g, const T *gy, T *gx) {
    int64_t per = g.ih * g.iw, oper = g.oh * g.ow;
    GRID_STRIDE(t, g.planes * per) {
        int64_t p = t / per, h = (t % per) / g.iw, w = t % g.iw;
        /* windows are monotone and at least one row long: the ones holding h lie near h oh / ih */
        int64_t i0 = max64(0, h * g.oh / g.ih - 1), i1 = min64(g.oh - 1, (h + 1) * g.oh / g.ih + 1);
        int64_t j0 = max64(0, w * g.ow / g.iw - 1), j1 = min64(g.ow - 1, (w + 1) * g.ow / g.iw + 1);
        T sum = 0;
        for (int64_t i = i0; i <= i1; i++) {
            int64_t h0, h1;
            adaptive_window(i, g.oh, g.ih, &h0, &h1);
            if (h < h0 || h >= h1) continue;
            for (int64_t j = j0; j <= j1; j++) {
                int64_t w0, w1;
                adaptive_window(j, g.ow, g.iw, &w0, &w1);
                if (w < w0 || w >= w1) continue;
                sum += (T)(gy[p * oper + i * g.ow + j] / (double)((h1 - h0) * (w1 - w0)));
            }
        }
        gx[t] = sum;
    }
}

/* ---- launchers ---- */

static unsigned blocks_for(int64_t n, int device) {
    int64_t b = (n + 255) / 256, cap = (int64_t)ct__cuda_sm_count(device) * 32;
    return (unsigned)(b < cap ? b : cap);
}

/* Launches KERNEL<T> over n threads with ARGS, T = double when f64. */
#define LAUNCH(KERNEL, n, ...)                                                                      \
    do {                                                                                            \
        int64_t n_ = (n);                                                                           \
        if (n_ == 0) return cudaSuccess;                                                            \
        cudaStream_t s_ = ct__cuda_stream(device);                                                  \
        if (f64)                                                                                    \
            KERNEL<double><<<blocks_for(n_, device), 256, 0, s_>>>(__VA_ARGS__(double));            \
        else                                                                                        \
            KERNEL<float><<<blocks_for(n_, device), 256, 0, s_>>>(__VA_ARGS__(float));              \
        return cudaGetLastError();                                                                  \
    } while (0)

/* Argument lists as functions of the element type T. */
#define ARGS_XY(T) *g, (const T *)x, (T *)y
#define ARGS_MAX(T) *g, (const T *)x, (T *)y, idx
#define ARGS_MAX_BWD(T) *g, (const T *)gy, idx, (T *)gx
#define ARGS_BWD(T) *g, (const T *)gy, (T *)gx

extern "C" cudaError_t ct__cuda_max_pool2d(const geom *g, bool f64, const void *x, void *y, int64_t *idx, int device) {
    LAUNCH(max_fwd, g->planes * g->oh * g->ow, ARGS_MAX);
}
extern "C" cudaError_t ct__cuda_max_pool2d_backward(const geom *g, bool f64, const void *gy, const int64_t *idx,
                                                    void *gx, int device) {
    LAUNCH(max_bwd, g->planes * g->ih * g->iw, ARGS_MAX_BWD);
}
extern "C" cudaError_t ct__cuda_avg_pool2d(const geom *g, bool f64, const void *x, void *y, int device) {
    LAUNCH(avg_fwd, g->planes * g->oh * g->ow, ARGS_XY);
}
extern "C" cudaError_t ct__cuda_avg_pool2d_backward(const geom *g, bool f64, const void *gy, void *gx, int device) {
    LAUNCH(avg_bwd, g->planes * g->ih * g->iw, ARGS_BWD);
}
extern "C" cudaError_t ct__cuda_adaptive_avg_pool2d(const geom *g, bool f64, const void *x, void *y, int device) {
    LAUNCH(adaptive_fwd, g->planes * g->oh * g->ow, ARGS_XY);
}
extern "C" cudaError_t ct__cuda_adaptive_avg_pool2d_backward(const geom *g, bool f64, const void *gy, void *gx,
                                                             int device) {
    LAUNCH(adaptive_bwd, g->planes * g->ih * g->iw, ARGS_BWD);
}
