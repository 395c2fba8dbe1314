/* CUDA kernels of batch norm and layer norm (the math is norm_impl.h's; the launchers are declared
 * in dnn_cuda.h).
 *
 * Precision: elements of type T are read into the accumulation type A (float for f32/f16/bf16,
 * double for f64) and every statistic and sum is kept in A; only the stored outputs are rounded
 * to T. Statistics use Welford's update per thread (count n, mean, m2 = sum of squared deviations)
 * and Chan's merge of two partial states,
 *     n = na + nb,  d = mb - ma,  mean = ma + d nb / n,  m2 = m2a + m2b + d² na nb / n,
 * which stays accurate when |mean| is large against the spread (the naive E[x²] - E[x]² does not).
 *
 * Determinism: no atomics. A warp combines its 32 lanes in a fixed shuffle tree, a group of warps
 * combines its warps' results in warp order, and reductions that span blocks write one partial
 * per block that a second kernel adds up in block order.
 *
 * Layer norm (x [M, K]): for K <= 1024 one warp per row with the row in registers (VPT values per
 * lane, a template parameter chosen from K): the forward reads x once (two-pass mean/variance from
 * the registers, then y), the backward reads dy and x once for the two row sums and dx, and sums
 * the dw/db columns over a fixed range of rows per block in the same pass (one partial row per
 * block). For K > 1024 a group of eight warps per row: the forward reads the row once for the
 * statistics and once to write y, the backward once for the two row sums of dx and once to write
 * dx, and dw/db come from a separate pass (blocks of 32 columns x 8 row lanes each sum a fixed
 * chunk of rows into a partial row). A last kernel adds the partial rows per column in order.
 *
 * Batch norm (x [N, C, S]): channel c's M = N*S values x[n, c, s] are split into P chunks of the
 * flat index j = n S + s; block (c, p) reduces chunk p, a per-channel kernel merges the P
 * partials and derives the affine factors, and an elementwise kernel applies them. */
#include "dnn_cuda.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#define FULL_MASK 0xffffffffu
#define THREADS 256
#define WARPS (THREADS / 32)

/* ---- element types ------------------------------------------------------------------------------ */

template <typename T> struct acc_of { typedef float type; };
template <> struct acc_of<double> { typedef double type; };

static __device__ __forceinline__ float load(const float *p, int64_t i) { return p[i]; }
static __device__ __forceinline__ double load(const double *p, int64_t i) { return p[i]; }
static __device__ __forceinline__ float load(const __half *p, int64_t i) { return __half2float(p[i]); }
static __device__ __forceinline__ float load(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }
static __device__ __forceinline__ void store(float *p, int64_t i, float v) { p[i] = v; }
static __device__ __forceinline__ void store(double *p, int64_t i, double v) { p[i] = v; }
static __device__ __forceinline__ void store(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }
static __device__ __forceinline__ void store(__nv_bfloat16 *p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

/* Runs the statements with T the element type of ft and A its accumulation type. */
#define DISPATCH(ft, ...)                                                                          \
    switch (ft) {                                                                                  \
    case CT__CUDA_F64: {                                                                           \
        typedef double T;                                                                          \
        typedef double A;                                                                          \
        __VA_ARGS__;                                                                               \
        break;                                                                                     \
    }                                                                                              \
    case CT__CUDA_F16: {                                                                           \
        typedef __half T;                                                                          \
        typedef float A;                                                                           \
        __VA_ARGS__;                                                                               \
        break;                                                                                     \
    }                                                                                              \
    case CT__CUDA_BF16: {                                                                          \
        typedef __nv_bfloat16 T;                                                                   \
        typedef float A;                                                                           \
        __VA_ARGS__;                                                                               \
        break;                                                                                     \
    }                                                                                              \
    default: {                                                                                     \
        typedef float T;                                                                           \
        typedef float A;                                                                           \
        __VA_ARGS__;                                                                               \
        break;                                                                                     \
    }                                                                                              \
    }

static size_t acc_size(ct__cuda_float ft) { return ft == CT__CUDA_F64 ? sizeof(double) : sizeof(float); }

/* ---- the two reduction values: Welford states and pairs of sums ---------------------------------- */

template <typename A> struct welford {
    A n, mean, m2;
};
template <typename A> struct sum2 {
    A a, b;
};

template <typename A> static __device__ __forceinline__ void welford_add(welford<A> &w, A x) {
    w.n += 1;
    A d = x - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (x - w.mean);
}

/* Chan's merge; an empty side (n == 0) leaves the other unchanged. */
template <typename A> static __device__ __forceinline__ welford<A> combine(welford<A> a, welford<A> b) {
    A n = a.n + b.n;
    if (n == 0) return a;
    A d = b.mean - a.mean, f = b.n / n;
    return welford<A>{n, a.mean + d * f, a.m2 + b.m2 + d * d * a.n * f};
}
template <typename A> static __device__ __forceinline__ sum2<A> combine(sum2<A> x, sum2<A> y) {
    return sum2<A>{x.a + y.a, x.b + y.b};
}

template <typename A> static __device__ __forceinline__ welford<A> shfl_down(welford<A> v, int o) {
    return welford<A>{__shfl_down_sync(FULL_MASK, v.n, o), __shfl_down_sync(FULL_MASK, v.mean, o),
                      __shfl_down_sync(FULL_MASK, v.m2, o)};
}
template <typename A> static __device__ __forceinline__ sum2<A> shfl_down(sum2<A> v, int o) {
    return sum2<A>{__shfl_down_sync(FULL_MASK, v.a, o), __shfl_down_sync(FULL_MASK, v.b, o)};
}

/* Lane 0 gets the combination of the warp's 32 values (lane l takes lane l + o for o = 16..1). */
template <typename V> static __device__ __forceinline__ V warp_reduce(V v) {
    for (int o = 16; o > 0; o >>= 1) v = combine(v, shfl_down(v, o));
    return v;
}

/* The block's threads form groups of WPR consecutive warps; every thread gets its group's
 * combination of all its threads' values. All threads of the block must call it (it syncs).
 * part: WARPS shared slots, out: WARPS / WPR shared slots. */
template <int WPR, typename V> static __device__ V group_reduce(V v, V *part, V *out) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    v = warp_reduce(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp % WPR == 0) { /* the group's first warp combines the group's warps in order */
        V u = lane < WPR ? part[warp + lane] : V{};
        u = warp_reduce(u);
        if (lane == 0) out[warp / WPR] = u;
    }
    __syncthreads();
    return out[warp / WPR];
}

/* ---- launch helpers ------------------------------------------------------------------------------ */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Blocks of THREADS threads for a grid-stride loop over n items. */
static unsigned blocks_for(int64_t n, int device) {
    return (unsigned)max64(1, min64(ceil_div(n, THREADS), (int64_t)ct__cuda_sm_count(device) * 32));
}

#define CHECK_LAUNCH()                                                                             \
    do {                                                                                           \
        cudaError_t e_ = cudaGetLastError();                                                       \
        if (e_ != cudaSuccess) return e_;                                                          \
    } while (0)

/* ---- layer norm ---------------------------------------------------------------------------------- */

/* Lane-order sum of a warp's values, every lane gets it: the xor butterfly adds the same two
 * partials on both sides of each exchange, so all lanes hold the identical total. */
template <typename A> static __device__ __forceinline__ A warp_allsum(A v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

/* Register layout of the warp-per-row path: register i of lane l holds column col<V>(l, i), groups
 * of V consecutive columns per lane, the warp's groups side by side: V = 1 gives l, l + 32, ...;
 * V = 4 lets f32 rows whose length is a multiple of 4 (and 16-byte aligned) move as float4, one
 * 16-byte access per group (a group is wholly in or out of the row then). Either way a warp's
 * accesses of one group index are one contiguous span. */
template <int V> static __device__ __forceinline__ int col(int lane, int i) {
    return i / V * 32 * V + lane * V + i % V;
}

/* v[0..V) = p[0..V) in A; p is 16-byte aligned when V == 4 (float4 for f32, else scalar loads). */
template <int V, typename T, typename A> static __device__ __forceinline__ void load_group(const T *p, A *v) {
#pragma unroll
    for (int c = 0; c < V; c++) v[c] = load(p, c);
}
template <> __device__ __forceinline__ void load_group<4, float, float>(const float *p, float *v) {
    const float4 f = *reinterpret_cast<const float4 *>(p);
    v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
}
template <int V, typename T, typename A> static __device__ __forceinline__ void store_group(T *p, const A *v) {
#pragma unroll
    for (int c = 0; c < V; c++) store(p, c, v[c]);
}
template <> __device__ __forceinline__ void store_group<4, float, float>(float *p, const float *v) {
    *reinterpret_cast<float4 *>(p) = make_float4(v[0], v[1], v[2], v[3]);
}

/* Rows of K <= 32 VPT values: one warp per row with the row in registers (layout col<V>). x is
 * read once: mean = sum x / K, then var = sum (x - mean)² / K from the registers (two passes, exact
 * up to rounding, no Welford divisions). Columns >= K hold 0 and are left out of the second sum. */
template <typename T, typename A, int VPT, int V>
__global__ void __launch_bounds__(THREADS) layer_norm_fwd_warp(int64_t M, int64_t K, A eps, const T *x, const A *w,
                                                               const A *b, T *y, A *mean, A *rstd) {
    const int lane = threadIdx.x % 32;
    for (int64_t m = (int64_t)blockIdx.x * WARPS + threadIdx.x / 32; m < M; m += (int64_t)gridDim.x * WARPS) {
        const T *xr = x + m * K;
        A v[VPT], s = 0;
#pragma unroll
        for (int i = 0; i < VPT; i += V) {
            const int k = col<V>(lane, i);
            if (k < K) load_group<V>(xr + k, v + i);
#pragma unroll
            for (int c = 0; c < V; c++) {
                if (k >= K) v[i + c] = 0;
                s += v[i + c];
            }
        }
        const A mu = warp_allsum(s) / (A)K; /* K == 0: 0/0, NaN as on the CPU */
        A q = 0;
#pragma unroll
        for (int i = 0; i < VPT; i++)
            if (col<V>(lane, i) < K) q += (v[i] - mu) * (v[i] - mu);
        const A r = (A)1 / sqrt(warp_allsum(q) / (A)K + eps);
        T *yr = y + m * K;
#pragma unroll
        for (int i = 0; i < VPT; i += V) {
            const int k = col<V>(lane, i);
            if (k >= K) break;
#pragma unroll
            for (int c = 0; c < V; c++) {
                v[i + c] = (v[i + c] - mu) * r;
                if (w) v[i + c] *= w[k + c];
                if (b) v[i + c] += b[k + c];
            }
            store_group<V>(yr + k, v + i);
        }
        if (lane == 0) mean[m] = mu, rstd[m] = r;
    }
}

/* Rows of K > 1024: groups of WARPS warps per row, THREADS / (32 WARPS) = 1 row per block at a
 * time, Welford over the strided columns; the row is read once for the statistics and once to
 * write y. */
template <typename T, typename A, int WPR>
__global__ void __launch_bounds__(THREADS) layer_norm_fwd(int64_t M, int64_t K, A eps, const T *x, const A *w,
                                                          const A *b, T *y, A *mean, A *rstd) {
    constexpr int RPB = WARPS / WPR, TPR = 32 * WPR;
    __shared__ welford<A> part[WARPS], out[RPB];
    const int local = threadIdx.x / TPR, t = threadIdx.x % TPR;
    for (int64_t r0 = (int64_t)blockIdx.x * RPB; r0 < M; r0 += (int64_t)gridDim.x * RPB) {
        const int64_t m = r0 + local;
        const bool live = m < M;
        const T *xr = x + (live ? m : 0) * K;
        welford<A> s{};
        if (live)
            for (int64_t k = t; k < K; k += TPR) welford_add(s, load(xr, k));
        s = group_reduce<WPR>(s, part, out);
        if (!live) continue; /* after the last __syncthreads of the iteration */
        const A mu = K > 0 ? s.mean : (A)NAN, var = s.m2 / s.n; /* K == 0: 0/0, NaN as on the CPU */
        const A r = (A)1 / sqrt(var + eps);
        T *yr = y + m * K;
        for (int64_t k = t; k < K; k += TPR) {
            A v = (load(xr, k) - mu) * r;
            if (w) v *= w[k];
            if (b) v += b[k];
            store(yr, k, v);
        }
        if (t == 0) mean[m] = mu, rstd[m] = r;
    }
}

/* dx = rstd (g - sum(g)/K - xhat sum(g xhat)/K) per row, g = dy w, xhat = (x - mean) rstd. */

/* The warp-per-row backward (K <= 32 VPT, the forward's register layout), with dw/db fused in:
 * block j owns the fixed contiguous rows [M j / G, M (j+1) / G) (G = gridDim.x), its warps take
 * every WARPS-th of them. dy and x are read once into registers for the two row sums and dx; each
 * lane also adds dy xhat and dy of its columns over its rows (registers), the block adds its warps'
 * sums in warp order in shared memory and writes one partial row per block: pw/pb[j, k] (NULL: not
 * wanted; dx NULL: only the partials). layer_norm_bwd_affine_sum adds the G rows in block order. */
template <typename T, typename A, int VPT, int V>
__global__ void __launch_bounds__(THREADS) layer_norm_bwd_warp(int64_t M, int64_t K, const T *dy, const T *x,
                                                               const A *mean, const A *rstd, const A *w, T *dx,
                                                               A *pw, A *pb) {
    __shared__ A sw[32 * VPT], sb[32 * VPT];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t m0 = M * blockIdx.x / gridDim.x, m1 = M * (blockIdx.x + 1) / gridDim.x;
    A aw[VPT] = {}, ab[VPT] = {};
    for (int64_t m = m0 + warp; m < m1; m += WARPS) {
        const T *dyr = dy + m * K, *xr = x + m * K;
        const A mu = mean[m], r = rstd[m];
        A g[VPT], xc[VPT], sg = 0, sgx = 0; /* g: dy, then dy w; xc: x - mean */
#pragma unroll
        for (int i = 0; i < VPT; i += V) {
            const int k = col<V>(lane, i);
            const bool in = k < K;
            if (in) load_group<V>(dyr + k, g + i), load_group<V>(xr + k, xc + i);
#pragma unroll
            for (int c = 0; c < V; c++) {
                if (!in) g[i + c] = xc[i + c] = 0;
                xc[i + c] -= in ? mu : (A)0;
                aw[i + c] += g[i + c] * xc[i + c] * r;
                ab[i + c] += g[i + c];
                if (w && in) g[i + c] *= w[k + c];
                sg += g[i + c];
                sgx += g[i + c] * xc[i + c];
            }
        }
        if (!dx) continue;
        const A mg = warp_allsum(sg) / (A)K, bx = r * r * warp_allsum(sgx) / (A)K; /* K > 0 (launcher) */
#pragma unroll
        for (int i = 0; i < VPT; i += V) {
            const int k = col<V>(lane, i);
            if (k >= K) break;
#pragma unroll
            for (int c = 0; c < V; c++) g[i + c] = r * (g[i + c] - mg - xc[i + c] * bx);
            store_group<V>(dx + m * K + k, g + i);
        }
    }
    if (!pw && !pb) return; /* uniform over the block: no __syncthreads skipped by part of it */
    for (int v = 0; v < WARPS; v++) { /* warp v adds its sums, in warp order */
        if (warp == v)
#pragma unroll
            for (int i = 0; i < VPT; i++) {
                const int k = col<V>(lane, i);
                sw[k] = v ? sw[k] + aw[i] : aw[i];
                sb[k] = v ? sb[k] + ab[i] : ab[i];
            }
        __syncthreads();
    }
    for (int64_t k = threadIdx.x; k < K; k += THREADS) {
        if (pw) pw[blockIdx.x * K + k] = sw[k];
        if (pb) pb[blockIdx.x * K + k] = sb[k];
    }
}

/* The K > 1024 backward of dx: groups of WPR warps per row, the row is read once for the two row
 * sums and once to write dx. */
template <typename T, typename A, int WPR>
__global__ void __launch_bounds__(THREADS) layer_norm_bwd_dx(int64_t M, int64_t K, const T *dy, const T *x,
                                                             const A *mean, const A *rstd, const A *w, T *dx) {
    constexpr int RPB = WARPS / WPR, TPR = 32 * WPR;
    __shared__ sum2<A> part[WARPS], out[RPB];
    const int local = threadIdx.x / TPR, t = threadIdx.x % TPR;
    for (int64_t r0 = (int64_t)blockIdx.x * RPB; r0 < M; r0 += (int64_t)gridDim.x * RPB) {
        const int64_t m = r0 + local;
        const bool live = m < M;
        const int64_t base = (live ? m : 0) * K;
        const A mu = live ? mean[m] : 0, r = live ? rstd[m] : 0;
        sum2<A> s{}; /* a: sum g, b: sum g (x - mean) */
        if (live)
            for (int64_t k = t; k < K; k += TPR) {
                A g = load(dy, base + k) * (w ? w[k] : (A)1);
                s.a += g;
                s.b += g * (load(x, base + k) - mu);
            }
        s = group_reduce<WPR>(s, part, out);
        if (!live) continue;
        const A mg = s.a / (A)K, bx = r * r * s.b / (A)K; /* K > 0: the launcher skips empty rows */
        for (int64_t k = t; k < K; k += TPR) {
            A g = load(dy, base + k) * (w ? w[k] : (A)1);
            store(dx, base + k, r * (g - mg - (load(x, base + k) - mu) * bx));
        }
    }
}

/* Partial dw/db of the K > 1024 path: block (i, j) sums rows [M j / R, M (j+1) / R) of columns
 * [32 i, 32 i + 32) with 8 row lanes (threadIdx.y) that are then added in lane order.
 * pw/pb: R x K (NULL: not wanted). */
template <typename T, typename A>
__global__ void __launch_bounds__(THREADS) layer_norm_bwd_affine(int64_t M, int64_t K, int64_t R, const T *dy,
                                                                 const T *x, const A *mean, const A *rstd, A *pw,
                                                                 A *pb) {
    __shared__ A sw[8][33], sb[8][33]; /* 33: no bank conflicts on the column reads */
    const int64_t k = (int64_t)blockIdx.x * 32 + threadIdx.x;
    const int64_t m0 = M * blockIdx.y / R, m1 = M * (blockIdx.y + 1) / R;
    A aw = 0, ab = 0;
    if (k < K)
        for (int64_t m = m0 + threadIdx.y; m < m1; m += 8) {
            A g = load(dy, m * K + k);
            if (pw) aw += g * (load(x, m * K + k) - mean[m]) * rstd[m];
            ab += g;
        }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && k < K) {
        A tw = 0, tb = 0;
        for (int i = 0; i < 8; i++) tw += sw[i][threadIdx.x], tb += sb[i][threadIdx.x];
        if (pw) pw[blockIdx.y * K + k] = tw;
        if (pb) pb[blockIdx.y * K + k] = tb;
    }
}

/* dw[k] = sum_j pw[j, k] over the R partial rows (in double, then rounded to A), same for db.
 * Block i, blocks of 32 x 8: columns [32 i, 32 i + 32), row lane y adds rows y, y + 8, ... and
 * the 8 lane sums are added in lane order (fixed order: deterministic). */
template <typename A>
__global__ void __launch_bounds__(THREADS) layer_norm_bwd_affine_sum(int64_t K, int64_t R, const A *pw, const A *pb,
                                                                     A *dw, A *db) {
    __shared__ double sw[8][33], sb[8][33];
    const int64_t k = (int64_t)blockIdx.x * 32 + threadIdx.x;
    double tw = 0, tb = 0;
    if (k < K)
#pragma unroll 4
        for (int64_t j = threadIdx.y; j < R; j += 8) {
            if (dw) tw += pw[j * K + k];
            if (db) tb += pb[j * K + k];
        }
    sw[threadIdx.y][threadIdx.x] = tw;
    sb[threadIdx.y][threadIdx.x] = tb;
    __syncthreads();
    if (threadIdx.y == 0 && k < K) {
        tw = tb = 0;
        for (int i = 0; i < 8; i++) tw += sw[i][threadIdx.x], tb += sb[i][threadIdx.x];
        if (dw) dw[k] = (A)tw;
        if (db) db[k] = (A)tb;
    }
}

/* Runs the statements with VPT the register count per lane of the warp-per-row path for K <= 1024
 * (the smallest of 4, 8, 16, 24, 32 with 32 VPT >= K). */
#define VPT_DISPATCH(K, ...)                                                                       \
    if ((K) <= 128) {                                                                              \
        constexpr int VPT = 4;                                                                     \
        __VA_ARGS__;                                                                               \
    } else if ((K) <= 256) {                                                                       \
        constexpr int VPT = 8;                                                                     \
        __VA_ARGS__;                                                                               \
    } else if ((K) <= 512) {                                                                       \
        constexpr int VPT = 16;                                                                    \
        __VA_ARGS__;                                                                               \
    } else if ((K) <= 768) {                                                                       \
        constexpr int VPT = 24;                                                                    \
        __VA_ARGS__;                                                                               \
    } else {                                                                                       \
        constexpr int VPT = 32;                                                                    \
        __VA_ARGS__;                                                                               \
    }

/* Runs the statements with V the column group of the warp-per-row layout: 4 where vec (f32 rows of
 * a multiple of 4 columns at 16-byte aligned addresses), else 1. */
#define VEC_DISPATCH(vec, ...)                                                                     \
    if (vec) {                                                                                     \
        constexpr int V = 4;                                                                       \
        __VA_ARGS__;                                                                               \
    } else {                                                                                       \
        constexpr int V = 1;                                                                       \
        __VA_ARGS__;                                                                               \
    }

/* Whether the f32 rows of length K at these addresses (NULL: none) can move as float4. */
static bool vec4_rows(ct__cuda_float ft, int64_t K, const void *a, const void *b, const void *c) {
    const uintptr_t mis = (uintptr_t)a % 16 | (uintptr_t)b % 16 | (uintptr_t)c % 16;
    return ft == CT__CUDA_F32 && K % 4 == 0 && mis == 0;
}

/* Rows up to this length take the warp-per-row register path. */
#define WARP_ROW_MAX 1024

static unsigned row_blocks(int64_t M, int64_t rows_per_block, int device) {
    return (unsigned)max64(1, min64(ceil_div(M, rows_per_block), (int64_t)ct__cuda_sm_count(device) * 32));
}

extern "C" cudaError_t ct__cuda_layer_norm(ct__cuda_float ft, int64_t M, int64_t K, double eps, const void *x,
                                           const void *weight, const void *bias, void *y, void *mean, void *rstd,
                                           int device) {
    if (M == 0) return cudaSuccess;
    cudaStream_t st = ct__cuda_stream(device);
    DISPATCH(ft, {
        if (K <= WARP_ROW_MAX) {
            VPT_DISPATCH(K, VEC_DISPATCH(vec4_rows(ft, K, x, y, NULL),
                                         layer_norm_fwd_warp<T, A, VPT, V><<<row_blocks(M, WARPS, device), THREADS,
                                                                             0, st>>>(
                                             M, K, (A)eps, (const T *)x, (const A *)weight, (const A *)bias, (T *)y,
                                             (A *)mean, (A *)rstd)));
        } else {
            layer_norm_fwd<T, A, WARPS><<<row_blocks(M, 1, device), THREADS, 0, st>>>(
                M, K, (A)eps, (const T *)x, (const A *)weight, (const A *)bias, (T *)y, (A *)mean, (A *)rstd);
        }
    });
    return cudaGetLastError();
}

/* Blocks of the fused warp-per-row backward, each with its fixed row range: as many as can be
 * resident at once (the register arrays allow one or two per SM for VPT >= 24, a second wave would
 * double the time), at most one per WARPS rows. The same for V = 1 and 4 (the lower of the two), so
 * the workspace size does not depend on the addresses. */
template <typename T, typename A, int VPT> static int64_t warp_bwd_blocks(int64_t M, int device) {
    int one = 0, four = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&one, layer_norm_bwd_warp<T, A, VPT, 1>, THREADS, 0) !=
            cudaSuccess ||
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&four, layer_norm_bwd_warp<T, A, VPT, 4>, THREADS, 0) !=
            cudaSuccess)
        one = four = 1; /* a real failure shows again at the launch */
    return max64(1, min64((int64_t)ct__cuda_sm_count(device) * max64(min64(one, four), 1), ceil_div(M, WARPS)));
}

/* Row chunks of the K > 1024 dw/db column sums: enough blocks to fill the device, at least 8 rows
 * each. */
static int64_t affine_chunks(int64_t M, int64_t K, int device) {
    int64_t tiles = ceil_div(K, 32), want = ceil_div((int64_t)ct__cuda_sm_count(device) * 8, tiles);
    return max64(1, min64(min64(want, ceil_div(M, 8)), 65535));
}

/* Partial rows of dw/db: one per block (K <= 1024) or per row chunk. */
static int64_t partial_rows(ct__cuda_float ft, int64_t M, int64_t K, int device) {
    if (K > WARP_ROW_MAX) return affine_chunks(M, K, device);
    int64_t R = 1;
    DISPATCH(ft, VPT_DISPATCH(K, R = warp_bwd_blocks<T, A, VPT>(M, device)));
    return R;
}

extern "C" size_t ct__cuda_layer_norm_backward_work_bytes(ct__cuda_float ft, int64_t M, int64_t K, int device) {
    return (size_t)(2 * partial_rows(ft, M, K, device) * K) * acc_size(ft);
}

extern "C" cudaError_t ct__cuda_layer_norm_backward(ct__cuda_float ft, int64_t M, int64_t K, const void *dy,
                                                    const void *x, const void *mean, const void *rstd,
                                                    const void *weight, void *dx, void *dw, void *db, void *work,
                                                    int device) {
    if (K == 0) return cudaSuccess;
    cudaStream_t st = ct__cuda_stream(device);
    if (M == 0) { /* empty sums */
        size_t bytes = (size_t)K * acc_size(ft);
        cudaError_t e = dw ? cudaMemsetAsync(dw, 0, bytes, st) : cudaSuccess;
        if (e == cudaSuccess && db) e = cudaMemsetAsync(db, 0, bytes, st);
        return e;
    }
    const bool affine = dw || db;
    int64_t R = partial_rows(ft, M, K, device);
    DISPATCH(ft, {
        A *pw = affine && dw ? (A *)work : NULL, *pb = affine && db ? (A *)work + R * K : NULL;
        if (K <= WARP_ROW_MAX) {
            VPT_DISPATCH(K, VEC_DISPATCH(vec4_rows(ft, K, dy, x, dx),
                                         layer_norm_bwd_warp<T, A, VPT, V><<<(unsigned)R, THREADS, 0, st>>>(
                                             M, K, (const T *)dy, (const T *)x, (const A *)mean, (const A *)rstd,
                                             (const A *)weight, (T *)dx, pw, pb)));
            CHECK_LAUNCH();
        } else {
            if (dx) {
                layer_norm_bwd_dx<T, A, WARPS><<<row_blocks(M, 1, device), THREADS, 0, st>>>(
                    M, K, (const T *)dy, (const T *)x, (const A *)mean, (const A *)rstd, (const A *)weight,
                    (T *)dx);
                CHECK_LAUNCH();
            }
            if (affine) {
                dim3 grid((unsigned)ceil_div(K, 32), (unsigned)R), block(32, 8);
                layer_norm_bwd_affine<T, A><<<grid, block, 0, st>>>(M, K, R, (const T *)dy, (const T *)x,
                                                                    (const A *)mean, (const A *)rstd, pw, pb);
                CHECK_LAUNCH();
            }
        }
        if (affine) {
            layer_norm_bwd_affine_sum<A><<<(unsigned)ceil_div(K, 32), dim3(32, 8), 0, st>>>(K, R, pw, pb, (A *)dw,
                                                                                          (A *)db);
            CHECK_LAUNCH();
        }
    });
    return cudaSuccess;
}

/* ---- batch norm ---------------------------------------------------------------------------------- */

/* Flat index j = n S + s of channel c's values to the offset of x[n, c, s]. */
static __device__ __forceinline__ int64_t channel_offset(int64_t j, int64_t C, int64_t S, int64_t c) {
    int64_t n = j / S;
    return (n * C + c) * S + (j - n * S);
}

/* Partial statistics of block (c, p) over chunk p of channel c: part_n/mean/m2[c P + p]. */
template <typename T, typename A>
__global__ void __launch_bounds__(THREADS) batch_norm_stats(int64_t N, int64_t C, int64_t S, int64_t P, const T *x,
                                                            A *part_n, A *part_mean, A *part_m2) {
    __shared__ welford<A> part[WARPS], out[1];
    const int64_t c = blockIdx.x, p = blockIdx.y, M = N * S;
    welford<A> s{};
    for (int64_t j = M * p / P + threadIdx.x; j < M * (p + 1) / P; j += THREADS)
        welford_add(s, load(x, channel_offset(j, C, S, c)));
    s = group_reduce<WARPS>(s, part, out);
    if (threadIdx.x == 0) part_n[c * P + p] = s.n, part_mean[c * P + p] = s.mean, part_m2[c * P + p] = s.m2;
}

/* Per channel: the statistics (the P partials merged in order, in double, or the running ones in
 * eval), the running update, mean/rstd, and y = x scale + shift with scale = w rstd and
 * shift = b - mean scale. */
template <typename A>
__global__ void batch_norm_finalize(int64_t C, int64_t M, int64_t P, bool training, double momentum, double eps,
                                    const A *part_n, const A *part_mean, const A *part_m2, const A *w, const A *b,
                                    A *running_mean, A *running_var, A *mean, A *rstd, A *scale, A *shift) {
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < C; c += (int64_t)gridDim.x * blockDim.x) {
        double mu, var;
        if (training && M > 0) {
            double n = 0, m2 = 0;
            mu = 0;
            for (int64_t p = 0; p < P; p++) {
                double nb = part_n[c * P + p];
                if (nb == 0) continue;
                double d = part_mean[c * P + p] - mu, f = nb / (n + nb);
                m2 += part_m2[c * P + p] + d * d * n * f;
                mu += d * f;
                n += nb;
            }
            var = m2 / n;
            /* running = (1 - momentum) running + momentum stat, with the unbiased variance (M > 1) */
            if (running_mean) running_mean[c] = (A)((1 - momentum) * running_mean[c] + momentum * mu);
            if (running_var)
                running_var[c] = (A)((1 - momentum) * running_var[c] + momentum * var * (double)M / (double)(M - 1));
        } else if (training) {
            mu = var = NAN;
        } else {
            mu = running_mean[c], var = running_var[c];
        }
        double r = 1.0 / sqrt(var + eps), a = (w ? (double)w[c] : 1.0) * r;
        mean[c] = (A)mu, rstd[c] = (A)r;
        scale[c] = (A)a, shift[c] = (A)((b ? (double)b[c] : 0.0) - mu * a);
    }
}

/* y = x scale[c] + shift[c]. */
template <typename T, typename A>
__global__ void batch_norm_apply(int64_t total, int64_t C, int64_t S, const T *x, const A *scale, const A *shift,
                                 T *y) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t c = i / S % C;
        store(y, i, load(x, i) * scale[c] + shift[c]);
    }
}

/* Chunks per channel: enough blocks to fill the device, each at least 4096 values. */
static int64_t channel_chunks(int64_t M, int64_t C, int device) {
    int64_t want = ceil_div((int64_t)ct__cuda_sm_count(device) * 8, max64(C, 1));
    return max64(1, min64(min64(want, ceil_div(M, 4096)), 1024));
}

/* Work: 3 C P partials and 3 C per-channel factors. */
extern "C" size_t ct__cuda_batch_norm_work_bytes(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, int device) {
    return (size_t)(3 * C * (channel_chunks(N * S, C, device) + 1)) * acc_size(ft);
}

extern "C" cudaError_t ct__cuda_batch_norm(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, bool training,
                                           double momentum, double eps, const void *x, const void *weight,
                                           const void *bias, void *running_mean, void *running_var, void *y,
                                           void *mean, void *rstd, void *work, int device) {
    if (C == 0) return cudaSuccess;
    cudaStream_t st = ct__cuda_stream(device);
    int64_t M = N * S, P = channel_chunks(M, C, device);
    DISPATCH(ft, {
        A *pn = (A *)work, *pm = pn + C * P, *pq = pm + C * P, *scale = pq + C * P, *shift = scale + C;
        if (training && M > 0) {
            batch_norm_stats<T, A><<<dim3((unsigned)C, (unsigned)P), THREADS, 0, st>>>(N, C, S, P, (const T *)x, pn,
                                                                                      pm, pq);
            CHECK_LAUNCH();
        }
        batch_norm_finalize<A><<<blocks_for(C, device), THREADS, 0, st>>>(
            C, M, P, training, momentum, eps, pn, pm, pq, (const A *)weight, (const A *)bias, (A *)running_mean,
            (A *)running_var, (A *)mean, (A *)rstd, scale, shift);
        CHECK_LAUNCH();
        if (M > 0) {
            batch_norm_apply<T, A><<<blocks_for(N * C * S, device), THREADS, 0, st>>>(N * C * S, C, S, (const T *)x,
                                                                                    scale, shift, (T *)y);
            CHECK_LAUNCH();
        }
    });
    return cudaSuccess;
}

/* Partial sums of block (c, p): part_dy[c P + p] = sum dy, part_dyx[c P + p] = sum dy (x - mean[c]). */
template <typename T, typename A>
__global__ void __launch_bounds__(THREADS) batch_norm_bwd_sums(int64_t N, int64_t C, int64_t S, int64_t P,
                                                               const T *x, const T *dy, const A *mean, A *part_dy,
                                                               A *part_dyx) {
    __shared__ sum2<A> part[WARPS], out[1];
    const int64_t c = blockIdx.x, p = blockIdx.y, M = N * S;
    const A mu = mean[c];
    sum2<A> s{};
    for (int64_t j = M * p / P + threadIdx.x; j < M * (p + 1) / P; j += THREADS) {
        int64_t i = channel_offset(j, C, S, c);
        A g = load(dy, i);
        s.a += g;
        s.b += g * (load(x, i) - mu);
    }
    s = group_reduce<WARPS>(s, part, out);
    if (threadIdx.x == 0) part_dy[c * P + p] = s.a, part_dyx[c * P + p] = s.b;
}

/* Per channel: db = sum dy, dw = sum dy xhat, and dx = ca dy + cb (x - mean) + ck with
 *   training: ca = w rstd, cb = -ca rstd dw / M, ck = -ca db / M   (w rstd (dy - mean(dy) - xhat mean(dy xhat)))
 *   eval:     ca = w rstd, cb = ck = 0. */
template <typename A>
__global__ void batch_norm_bwd_finalize(int64_t C, int64_t M, int64_t P, bool training, const A *part_dy,
                                        const A *part_dyx, const A *rstd, const A *w, A *dw, A *db, A *ca, A *cb,
                                        A *ck) {
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < C; c += (int64_t)gridDim.x * blockDim.x) {
        double sdy = 0, sdyx = 0;
        for (int64_t p = 0; p < P; p++) sdy += part_dy[c * P + p], sdyx += part_dyx[c * P + p];
        double r = rstd[c], gw = sdyx * r, a = (w ? (double)w[c] : 1.0) * r;
        db[c] = (A)sdy, dw[c] = (A)gw;
        ca[c] = (A)a;
        cb[c] = training ? (A)(-a * r * gw / (double)M) : (A)0;
        ck[c] = training ? (A)(-a * sdy / (double)M) : (A)0;
    }
}

template <typename T, typename A>
__global__ void batch_norm_bwd_dx(int64_t total, int64_t C, int64_t S, const T *x, const T *dy, const A *mean,
                                  const A *ca, const A *cb, const A *ck, T *dx) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t c = i / S % C;
        store(dx, i, ca[c] * load(dy, i) + cb[c] * (load(x, i) - mean[c]) + ck[c]);
    }
}

extern "C" cudaError_t ct__cuda_batch_norm_backward(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, bool training,
                                                    const void *x, const void *dy, const void *mean, const void *rstd,
                                                    const void *weight, void *dx, void *dw, void *db, void *work,
                                                    int device) {
    if (C == 0) return cudaSuccess;
    cudaStream_t st = ct__cuda_stream(device);
    int64_t M = N * S, P = channel_chunks(M, C, device);
    DISPATCH(ft, {
        A *pdy = (A *)work, *pdyx = pdy + C * P, *ca = pdyx + C * P, *cb = ca + C, *ck = cb + C;
        if (M > 0) {
            batch_norm_bwd_sums<T, A><<<dim3((unsigned)C, (unsigned)P), THREADS, 0, st>>>(
                N, C, S, P, (const T *)x, (const T *)dy, (const A *)mean, pdy, pdyx);
            CHECK_LAUNCH();
        }
        /* M == 0: no partials (P chunks of nothing), sums of zero terms */
        batch_norm_bwd_finalize<A><<<blocks_for(C, device), THREADS, 0, st>>>(
            C, M, M > 0 ? P : 0, training, pdy, pdyx, (const A *)rstd, (const A *)weight, (A *)dw, (A *)db, ca, cb,
            ck);
        CHECK_LAUNCH();
        if (dx && M > 0) {
            batch_norm_bwd_dx<T, A><<<blocks_for(N * C * S, device), THREADS, 0, st>>>(
                N * C * S, C, S, (const T *)x, (const T *)dy, (const A *)mean, ca, cb, ck, (T *)dx);
            CHECK_LAUNCH();
        }
    });
    return cudaSuccess;
}
