// softmax / log_softmax forward and backward on CUDA. f32/f16/bf16 accumulate in float, f64 in
// double (PyTorch's accscalar_t); the backward's formulas are in tensor/softmax_impl.h.
//
// Two kernel shapes, chosen by the row length n:
//  - warp rows (n <= 32 * max_elems<T>: 1024 for f32/f16/bf16, 512 for f64): one warp per row,
//    kWarps rows per block. A lane keeps E elements of its row in registers, so the row is read
//    from memory once and written once; max and sums fold with warp shuffles (no shared memory,
//    no block barrier). Dense rows whose starts are 16-byte aligned and whose length is a whole
//    number of 16-byte vectors are loaded and stored a vector at a time (lane l owns vectors
//    l, l + 32, ...); other rows element by element (lane l owns elements l, l + 32, ...).
//  - block rows (longer): one block per row, threads striding over it. Pass 1 folds the row
//    (forward: the online (max, sum of exp) pair; backward: sum of grad * y, or of grad), the
//    block merges, pass 2 writes. Dense aligned rows go 16 bytes at a time, kUnroll vectors per
//    thread in flight, and when the row fits in shared memory pass 1 keeps what pass 2 needs
//    again (forward: the input; backward: grad), so pass 2 reads it from there, as PyTorch's
//    *Smem kernels do: the forward reads the row once, the backward grad once and y twice
//    (log_softmax: y once, pass 1 needs grad alone). A thread reads back only the vectors it stored (same
//    j = threadIdx.x + m * blockDim.x in both passes), so the cache needs no barrier.
//
// Rows may be strided: the forward walks reduce_cuda.h's row plan (outer dims, inner stride), the
// backward's rows are contiguous [outer, n, inner] (row (o, i) starts at o * n * inner + i and
// steps by inner).
#include "block_reduce.cuh"
#include "dtype_cuda.cuh"
#include "softmax_cuda.h"

#include <type_traits>

// The block kernels' row cache (dynamic shared memory, sized by the host).
extern __shared__ __align__(16) unsigned char ct_softmax_row_cache[];

namespace {

enum { SOFTMAX = 0, LOG_SOFTMAX = 1 }; // ct__row_kind

constexpr int kWarps = 4;   // rows per block of the warp kernels (128 threads)
// Vectors per thread in flight in the block kernels' first pass (the backward loads two operands).
constexpr int kUnroll = 4, kUnrollBw = 2;
constexpr int kMaxThreads = 1024;

// Elements a lane holds in the warp kernels: 32 floats (64 for the backward, grad and y), or 16
// doubles; a warp covers 32 times that.
template <typename T> constexpr int max_elems() { return sizeof(T) == 8 ? 16 : 32; }

struct MaxFn {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return ct_max_nan(a, b); }
};
struct SumFn {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};

__host__ __device__ __forceinline__ bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

// Adds K values to a running (max, sum of exp): the max over the K first, then one rescale of the
// sum when it moved (rare once the row's max has been seen), then one exp per value. Same
// special values as ct_ms_add: NaN propagates, -inf alone keeps the sum 0, +inf makes it NaN.
template <typename A, int K> __device__ __forceinline__ void ms_add_n(ct_ms<A> &p, const A (&x)[K]) {
    A m = p.m;
#pragma unroll
    for (int e = 0; e < K; e++) m = ct_max_nan(m, x[e]);
    if (m == (A)-INFINITY) return;
    if (m != p.m) p.s *= exp(p.m - m); // also a NaN max: the sum becomes NaN
#pragma unroll
    for (int e = 0; e < K; e++) p.s += exp(x[e] - m);
    p.m = m;
}

template <typename T, typename A, int N>
__device__ __forceinline__ void to_acc(A (&a)[N], const ct_vec16<T> &v) {
#pragma unroll
    for (int t = 0; t < N; t++) a[t] = ct_to_acc(v.v[t]);
}

// ---- the register-held row of the warp kernels ----
// Lane `lane`'s element e (0 <= e < E) is row element idx(e): with VEC, element e % N of vector
// lane + 32 * (e / N); otherwise element lane + 32 * e. Elements at or past n are padding.

template <typename T, int E, bool VEC> struct WarpRow {
    static constexpr int N = ct_vec16<T>::N;
    static_assert(!VEC || E % N == 0, "whole vectors per lane");
    __device__ __forceinline__ static int64_t idx(int lane, int e) {
        return VEC ? (int64_t)(lane + 32 * (e / N)) * N + e % N : (int64_t)lane + 32 * e;
    }
    // x[e] = element idx(e) of the row at p (element stride `stride` bytes), `pad` past n.
    template <typename A> __device__ __forceinline__ static void load(A (&x)[E], const char *p, int64_t stride,
                                                                       int64_t n, int lane, A pad) {
        if constexpr (VEC) {
#pragma unroll
            for (int i = 0; i < E / N; i++) {
                int64_t j = lane + 32 * i;
                A a[N];
                if (j * N < n) {
                    to_acc<T, A, N>(a, ((const ct_vec16<T> *)p)[j]);
                } else {
#pragma unroll
                    for (int t = 0; t < N; t++) a[t] = pad;
                }
#pragma unroll
                for (int t = 0; t < N; t++) x[i * N + t] = a[t];
            }
        } else {
#pragma unroll
            for (int e = 0; e < E; e++) {
                int64_t k = idx(lane, e);
                x[e] = k < n ? ct_to_acc(*(const T *)(p + k * stride)) : pad;
            }
        }
    }
    template <typename A> __device__ __forceinline__ static void store(char *p, int64_t stride, int64_t n, int lane,
                                                                        const A (&y)[E]) {
        if constexpr (VEC) {
#pragma unroll
            for (int i = 0; i < E / N; i++) {
                int64_t j = lane + 32 * i;
                if (j * N >= n) continue;
                ct_vec16<T> v;
#pragma unroll
                for (int t = 0; t < N; t++) v.v[t] = ct_from_acc<T>(y[i * N + t]);
                ((ct_vec16<T> *)p)[j] = v;
            }
        } else {
#pragma unroll
            for (int e = 0; e < E; e++) {
                int64_t k = idx(lane, e);
                if (k < n) *(T *)(p + k * stride) = ct_from_acc<T>(y[e]);
            }
        }
    }
};

// ---- forward ----

__device__ __forceinline__ const char *row_in(const ct__cuda_red &P, int64_t r) {
    return P.in + ct_cu_offset(r, P.outer_ndim, P.outer_shape, P.outer_in);
}
__device__ __forceinline__ char *row_out(const ct__cuda_red &P, int64_t r) {
    return P.out + ct_cu_offset(r, P.outer_ndim, P.outer_shape, P.outer_out);
}

// Two exact passes over the registers: max, then sum of exp (kept for softmax's output).
template <typename T, typename A, int E, bool VEC>
__global__ void __launch_bounds__(kWarps * 32) softmax_warp_kernel(const ct__cuda_red P) {
    typedef WarpRow<T, E, VEC> R;
    const int lane = threadIdx.x & 31;
    const int64_t n = P.ninner, s_in = P.inner_ndim ? P.inner_in[0] : 0, s_out = P.inner_out;
    const bool is_log = P.kind == LOG_SOFTMAX;
    // r is the same for the whole warp: every lane reaches the shuffles
    for (int64_t r = (int64_t)blockIdx.x * kWarps + (threadIdx.x >> 5); r < P.nout; r += (int64_t)gridDim.x * kWarps) {
        A x[E];
        R::load(x, row_in(P, r), s_in, n, lane, (A)-INFINITY);
        A m = (A)-INFINITY;
#pragma unroll
        for (int e = 0; e < E; e++) m = ct_max_nan(m, x[e]);
        m = ct_warp_allreduce(m, MaxFn());
        A s = 0;
#pragma unroll
        for (int e = 0; e < E; e++) {
            A ex = exp(x[e] - m);
            if (R::idx(lane, e) < n) s += ex; // padding may be NaN here (m = -inf)
            if (!is_log) x[e] = ex;
        }
        s = ct_warp_allreduce(s, SumFn());
        if (is_log) {
            A log_s = log(s);
#pragma unroll
            for (int e = 0; e < E; e++) x[e] = (x[e] - m) - log_s;
        } else {
            A inv = (A)1 / s;
#pragma unroll
            for (int e = 0; e < E; e++) x[e] *= inv;
        }
        R::store(row_out(P, r), s_out, n, lane, x);
    }
}

// softmax: exp(x - m) / s; log_softmax: x - m - log(s).
template <typename A> struct FwdOut {
    A m, inv, log_s;
    bool is_log;
    __device__ __forceinline__ A operator()(A x) const { return is_log ? (x - m) - log_s : exp(x - m) * inv; }
};

template <typename T, typename A> __global__ void __launch_bounds__(kMaxThreads) softmax_block_kernel(const ct__cuda_red P, bool cache) {
    typedef ct_vec16<T> V;
    constexpr int N = V::N;
    V *kept = (V *)ct_softmax_row_cache;
    const int64_t n = P.ninner, s_in = P.inner_ndim ? P.inner_in[0] : 0, s_out = P.inner_out;
    const int tid = threadIdx.x, nt = blockDim.x;
    for (int64_t r = blockIdx.x; r < P.nout; r += gridDim.x) {
        const char *in = row_in(P, r);
        char *out = row_out(P, r);
        const bool vec = s_in == (int64_t)sizeof(T) && s_out == (int64_t)sizeof(T) && aligned16(in) && aligned16(out);
        const bool keep = cache && vec; // the host sized the cache for n / N vectors
        const int64_t nvec = vec ? n / N : 0, tail = nvec * N;
        const V *vin = (const V *)in;
        ct_ms<A> ms = {(A)-INFINITY, (A)0};
        for (int64_t j0 = tid; j0 < nvec; j0 += (int64_t)kUnroll * nt) {
            V v[kUnroll];
#pragma unroll
            for (int u = 0; u < kUnroll; u++)
                if (j0 + u * nt < nvec) v[u] = vin[j0 + u * nt];
#pragma unroll
            for (int u = 0; u < kUnroll; u++) {
                if (j0 + u * nt >= nvec) continue;
                if (keep) kept[j0 + u * nt] = v[u];
                A a[N];
                to_acc<T, A, N>(a, v[u]);
                ms_add_n(ms, a);
            }
        }
        for (int64_t k = tail + tid; k < n; k += nt) {
            A a[1] = {ct_to_acc(*(const T *)(in + k * s_in))};
            ms_add_n(ms, a);
        }
        ms = ct_block_reduce(ms, ct_ms_merge_fn());
        const FwdOut<A> f = {ms.m, (A)1 / ms.s, log(ms.s), P.kind == LOG_SOFTMAX};
        for (int64_t j = tid; j < nvec; j += nt) {
            V v = keep ? kept[j] : vin[j], y;
#pragma unroll
            for (int t = 0; t < N; t++) y.v[t] = ct_from_acc<T>(f(ct_to_acc(v.v[t])));
            ((V *)out)[j] = y;
        }
        for (int64_t k = tail + tid; k < n; k += nt)
            *(T *)(out + k * s_out) = ct_from_acc<T>(f(ct_to_acc(*(const T *)(in + k * s_in))));
    }
}

// ---- backward ----

struct Bw {
    const char *grad, *y;
    char *dx;
    int64_t nrows, n, inner;
    bool log;
};

// Byte offset of row r's first element in each of grad, y, dx.
template <typename T> __device__ __forceinline__ int64_t bw_row(const Bw &a, int64_t r) {
    int64_t o = a.inner == 1 ? r : r / a.inner, i = a.inner == 1 ? 0 : r % a.inner;
    return (o * a.n * a.inner + i) * (int64_t)sizeof(T);
}

// softmax: y * (g - s); log_softmax: g - exp(y) * s.
template <typename A> __device__ __forceinline__ A bw_out(bool is_log, A g, A y, A s) {
    return is_log ? g - exp(y) * s : y * (g - s);
}

template <typename T, typename A, int E, bool VEC>
__global__ void __launch_bounds__(kWarps * 32) softmax_backward_warp_kernel(const Bw a) {
    typedef WarpRow<T, E, VEC> R;
    const int lane = threadIdx.x & 31;
    const int64_t stride = a.inner * (int64_t)sizeof(T);
    for (int64_t r = (int64_t)blockIdx.x * kWarps + (threadIdx.x >> 5); r < a.nrows; r += (int64_t)gridDim.x * kWarps) {
        const int64_t off = bw_row<T>(a, r);
        A g[E], y[E];
        R::load(g, a.grad + off, stride, a.n, lane, (A)0);
        R::load(y, a.y + off, stride, a.n, lane, (A)0);
        A s = 0; // padding is 0 in both: adds nothing
#pragma unroll
        for (int e = 0; e < E; e++) s += a.log ? g[e] : g[e] * y[e];
        s = ct_warp_allreduce(s, SumFn());
#pragma unroll
        for (int e = 0; e < E; e++) g[e] = bw_out(a.log, g[e], y[e], s);
        R::store(a.dx + off, stride, a.n, lane, g);
    }
}

template <typename T, typename A> __global__ void __launch_bounds__(kMaxThreads) softmax_backward_block_kernel(const Bw a, bool cache) {
    typedef ct_vec16<T> V;
    constexpr int N = V::N;
    V *kept = (V *)ct_softmax_row_cache;
    const int64_t stride = a.inner * (int64_t)sizeof(T);
    const int tid = threadIdx.x, nt = blockDim.x;
    for (int64_t r = blockIdx.x; r < a.nrows; r += gridDim.x) {
        const int64_t off = bw_row<T>(a, r);
        const char *gp = a.grad + off, *yp = a.y + off;
        char *dp = a.dx + off;
        const bool vec = a.inner == 1 && aligned16(gp) && aligned16(yp) && aligned16(dp);
        const bool keep = cache && vec; // the host sized the cache for n / N vectors of grad
        const int64_t nvec = vec ? a.n / N : 0, tail = nvec * N;
        const V *vg = (const V *)gp, *vy = (const V *)yp;
        A s = 0;
        for (int64_t j0 = tid; j0 < nvec; j0 += (int64_t)kUnrollBw * nt) {
            V g[kUnrollBw], y[kUnrollBw];
#pragma unroll
            for (int u = 0; u < kUnrollBw; u++) {
                if (j0 + u * nt >= nvec) continue;
                g[u] = vg[j0 + u * nt];
                if (!a.log) y[u] = vy[j0 + u * nt]; // log_softmax's sum needs grad alone
            }
#pragma unroll
            for (int u = 0; u < kUnrollBw; u++) {
                if (j0 + u * nt >= nvec) continue;
                if (keep) kept[j0 + u * nt] = g[u];
#pragma unroll
                for (int t = 0; t < N; t++) s += a.log ? ct_to_acc(g[u].v[t]) : ct_to_acc(g[u].v[t]) * ct_to_acc(y[u].v[t]);
            }
        }
        for (int64_t k = tail + tid; k < a.n; k += nt) {
            A g = ct_to_acc(*(const T *)(gp + k * stride));
            s += a.log ? g : g * ct_to_acc(*(const T *)(yp + k * stride));
        }
        s = ct_block_reduce(s, SumFn());
        for (int64_t j = tid; j < nvec; j += nt) {
            V g = keep ? kept[j] : vg[j], y = vy[j], d;
#pragma unroll
            for (int t = 0; t < N; t++) d.v[t] = ct_from_acc<T>(bw_out(a.log, ct_to_acc(g.v[t]), ct_to_acc(y.v[t]), s));
            ((V *)dp)[j] = d;
        }
        for (int64_t k = tail + tid; k < a.n; k += nt) {
            A g = ct_to_acc(*(const T *)(gp + k * stride)), y = ct_to_acc(*(const T *)(yp + k * stride));
            *(T *)(dp + k * stride) = ct_from_acc<T>(bw_out(a.log, g, y, s));
        }
    }
}

// ---- launch ----

unsigned grid_for(int64_t blocks) { return (unsigned)(blocks < (1 << 20) ? blocks : (1 << 20)); }

// Threads of a block kernel: enough that each owns about 4 vectors of the row.
template <typename T> int block_threads(int64_t n) {
    int threads = 32;
    while (threads < kMaxThreads && threads * 4 * (int64_t)ct_vec16<T>::N < n) threads *= 2;
    return threads;
}

// Shared memory for n / N vectors of T when the device has that much for kernel's blocks (beside
// its static shared memory), after raising the kernel's limit; 0 (no cache) otherwise. Dense rows
// only: others never touch the cache.
template <typename T, typename K> cudaError_t cache_bytes(K kernel, int64_t n, bool dense, int device, size_t *bytes) {
    *bytes = 0;
    size_t want = (size_t)(n / ct_vec16<T>::N) * sizeof(ct_vec16<T>);
    if (!dense || want == 0) return cudaSuccess;
    int optin = 0;
    cudaFuncAttributes attr;
    cudaError_t e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, kernel);
    if (e != cudaSuccess) return e;
    if (want + attr.sharedSizeBytes > (size_t)optin) return cudaSuccess;
    if (want >= (size_t)attr.maxDynamicSharedSizeBytes) // the default limit is 48 KiB less the static part
        e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)want);
    if (e == cudaSuccess) *bytes = want;
    return e;
}

// The warp kernel for lanes of E elements: the smallest E (a whole number of vectors) whose warp
// covers n; F is called with the chosen E as a std::integral_constant.
template <typename T, typename F> cudaError_t with_warp_elems(int64_t n, F f) {
    constexpr int N = ct_vec16<T>::N;
    if (n <= 32 * N) return f(std::integral_constant<int, N>());
    if constexpr (2 * N <= max_elems<T>())
        if (n <= 64 * N) return f(std::integral_constant<int, 2 * N>());
    if constexpr (4 * N <= max_elems<T>())
        if (n <= 128 * N) return f(std::integral_constant<int, 4 * N>());
    if constexpr (8 * N <= max_elems<T>())
        if (n <= 256 * N) return f(std::integral_constant<int, 8 * N>());
    return cudaErrorInvalidValue; // the caller checked n against the warp's capacity
}

// Every row start 16-byte aligned: the bases, and every outer stride (of a dim of size > 1).
bool rows_aligned(const ct__cuda_red &P) {
    if (((uintptr_t)P.in & 15) || ((uintptr_t)P.out & 15)) return false;
    for (int d = 0; d < P.outer_ndim; d++)
        if (P.outer_shape[d] > 1 && ((P.outer_in[d] & 15) || (P.outer_out[d] & 15))) return false;
    return true;
}

template <typename T, typename A> cudaError_t forward(const ct__cuda_red &P, int device, cudaStream_t stream) {
    constexpr int N = ct_vec16<T>::N;
    const int64_t n = P.ninner, es = (int64_t)sizeof(T);
    const bool dense = (P.inner_ndim ? P.inner_in[0] : 0) == es && P.inner_out == es;
    if (n <= 32 * max_elems<T>()) {
        const bool vec = dense && n % N == 0 && rows_aligned(P);
        unsigned grid = grid_for((P.nout + kWarps - 1) / kWarps);
        return with_warp_elems<T>(n, [&](auto e) {
            constexpr int E = decltype(e)::value;
            if (vec) softmax_warp_kernel<T, A, E, true><<<grid, kWarps * 32, 0, stream>>>(P);
            else softmax_warp_kernel<T, A, E, false><<<grid, kWarps * 32, 0, stream>>>(P);
            return cudaGetLastError();
        });
    }
    size_t smem = 0;
    cudaError_t e = cache_bytes<T>(softmax_block_kernel<T, A>, n, dense, device, &smem);
    if (e != cudaSuccess) return e;
    softmax_block_kernel<T, A><<<grid_for(P.nout), block_threads<T>(n), smem, stream>>>(P, smem > 0);
    return cudaGetLastError();
}

template <typename T, typename A> cudaError_t backward(const ct__cuda_softmax_bw &w, int device, cudaStream_t stream) {
    constexpr int N = ct_vec16<T>::N;
    const Bw a = {(const char *)w.grad, (const char *)w.y, (char *)w.dx, w.outer * w.inner, w.n, w.inner, w.log};
    const bool dense = w.inner == 1;
    if (w.n <= 32 * max_elems<T>()) {
        const bool vec = dense && w.n % N == 0 && aligned16(w.grad) && aligned16(w.y) && aligned16(w.dx);
        unsigned grid = grid_for((a.nrows + kWarps - 1) / kWarps);
        return with_warp_elems<T>(w.n, [&](auto e) {
            constexpr int E = decltype(e)::value;
            if (vec) softmax_backward_warp_kernel<T, A, E, true><<<grid, kWarps * 32, 0, stream>>>(a);
            else softmax_backward_warp_kernel<T, A, E, false><<<grid, kWarps * 32, 0, stream>>>(a);
            return cudaGetLastError();
        });
    }
    size_t smem = 0;
    cudaError_t e = cache_bytes<T>(softmax_backward_block_kernel<T, A>, w.n, dense, device, &smem);
    if (e != cudaSuccess) return e;
    softmax_backward_block_kernel<T, A><<<grid_for(a.nrows), block_threads<T>(w.n), smem, stream>>>(a, smem > 0);
    return cudaGetLastError();
}

} // namespace

extern "C" cudaError_t ct__cuda_softmax(const ct__cuda_red *plan, int device, cudaStream_t stream) {
    const ct__cuda_red &P = *plan;
    if (P.nout == 0 || P.ninner == 0) return cudaSuccess;
    switch (P.in_dtype) { // softmax keeps the dtype: in == out
    case CT_CU_F16: return forward<__half, float>(P, device, stream);
    case CT_CU_BF16: return forward<__nv_bfloat16, float>(P, device, stream);
    case CT_CU_F32: return forward<float, float>(P, device, stream);
    case CT_CU_F64: return forward<double, double>(P, device, stream);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t ct__cuda_softmax_backward(const ct__cuda_softmax_bw *args, int device, cudaStream_t stream) {
    if (args->outer * args->n * args->inner == 0) return cudaSuccess;
    switch (args->dtype) {
    case CT_CU_F16: return backward<__half, float>(*args, device, stream);
    case CT_CU_BF16: return backward<__nv_bfloat16, float>(*args, device, stream);
    case CT_CU_F32: return backward<float, float>(*args, device, stream);
    case CT_CU_F64: return backward<double, double>(*args, device, stream);
    default: return cudaErrorInvalidValue;
    }
}
