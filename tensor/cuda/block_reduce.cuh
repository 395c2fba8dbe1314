// Warp and block reductions of any value type with a combine functor, and the online-softmax
// pair (max, sum of exp) shared by softmax, log_softmax and the fused cross-entropy.
//
// A warp folds with __shfl_down_sync (lane 0 ends with the warp's result), the warps' results
// meet in shared memory and warp 0 folds them; the block's result is then broadcast to every
// thread. Blocks are whole warps (blockDim.x a multiple of 32, at most 1024).
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

__device__ __forceinline__ float ct_shfl_down(float v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ double ct_shfl_down(double v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ int64_t ct_shfl_down(int64_t v, int o) {
    return (int64_t)__shfl_down_sync(0xffffffffu, (long long)v, o);
}

template <typename T, typename Combine> __device__ __forceinline__ T ct_warp_reduce(T v, Combine combine) {
    for (int o = 16; o > 0; o >>= 1) v = combine(v, ct_shfl_down(v, o));
    return v;
}

// Butterfly over the warp: every lane ends with the result. a + b and max(a, b) give the same
// bits in either order, so all lanes hold bitwise the same value. All 32 lanes must call it.
__device__ __forceinline__ float ct_shfl_xor(float v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
__device__ __forceinline__ double ct_shfl_xor(double v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
template <typename T, typename Combine> __device__ __forceinline__ T ct_warp_allreduce(T v, Combine combine) {
    for (int o = 16; o > 0; o >>= 1) v = combine(v, ct_shfl_xor(v, o));
    return v;
}

// Every thread of the block must call it (it synchronizes); every thread gets the result.
template <typename T, typename Combine> __device__ T ct_block_reduce(T v, Combine combine) {
    __shared__ T partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    v = ct_warp_reduce(v, combine);
    __syncthreads(); // an earlier call may still be reading partial
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T w = partial[lane < nwarps ? lane : 0]; // lanes past nwarps hold a copy that is never folded in
        for (int o = 16; o > 0; o >>= 1) {
            T other = ct_shfl_down(w, o);
            if (lane + o < nwarps) w = combine(w, other);
        }
        if (lane == 0) partial[0] = w;
    }
    __syncthreads();
    return partial[0];
}

// ---- online softmax: (m, s) = (max x, sum exp(x - m)) over a set of x, mergeable in any order ----
// NaN propagates through m (and so through s); a set of only -inf keeps s = 0 with m = -inf, and
// a +inf makes s NaN, as the two-pass max-then-sum does (exp(inf - inf)).
template <typename A> struct ct_ms {
    A m, s;
};
template <typename A> __device__ __forceinline__ A ct_max_nan(A a, A b) { return (b > a || b != b) ? b : a; }
template <typename A> __device__ __forceinline__ ct_ms<A> ct_ms_add(ct_ms<A> p, A x) {
    A m = ct_max_nan(p.m, x);
    if (m == (A)-INFINITY) return p; // nothing but -inf so far: sum stays 0
    p.s = p.s * exp(p.m - m) + exp(x - m);
    p.m = m;
    return p;
}
template <typename A> __device__ __forceinline__ ct_ms<A> ct_ms_merge(ct_ms<A> a, ct_ms<A> b) {
    A m = ct_max_nan(a.m, b.m);
    if (m == (A)-INFINITY) return a;
    ct_ms<A> r = {m, a.s * exp(a.m - m) + b.s * exp(b.m - m)};
    return r;
}
template <typename A> __device__ __forceinline__ ct_ms<A> ct_shfl_down(ct_ms<A> v, int o) {
    ct_ms<A> r = {ct_shfl_down(v.m, o), ct_shfl_down(v.s, o)};
    return r;
}
struct ct_ms_merge_fn {
    template <typename A> __device__ ct_ms<A> operator()(ct_ms<A> a, ct_ms<A> b) const { return ct_ms_merge(a, b); }
};

// Scalar conversions to the accumulation type.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
__device__ __forceinline__ float ct_to_acc(__half v) { return __half2float(v); }
__device__ __forceinline__ float ct_to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float ct_to_acc(float v) { return v; }
__device__ __forceinline__ double ct_to_acc(double v) { return v; }
template <typename T> __device__ __forceinline__ T ct_from_acc(float v);
template <> __device__ __forceinline__ __half ct_from_acc<__half>(float v) { return __float2half(v); }
template <> __device__ __forceinline__ __nv_bfloat16 ct_from_acc<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ float ct_from_acc<float>(float v) { return v; }
template <typename T> __device__ __forceinline__ T ct_from_acc(double v) { return (T)v; }

// 16 bytes of T, for vector loads of dense rows.
template <typename T> struct alignas(16) ct_vec16 {
    static constexpr int N = 16 / sizeof(T);
    T v[N];
};
