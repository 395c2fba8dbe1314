// The device side of the strided iterator: an offset calculator over ct_cuda_iter's coalesced
// dims, per-dtype load/store rules, and ct_cuda::elementwise<OutT, InT, NIN>(iter, functor),
// which runs out = f(in...) over an iteration either
//   - densely: every operand contiguous (or a broadcast scalar), 16-byte vector loads and stores
//     (float4 for f32, 8 halfs for f16) over the aligned body and a scalar tail, or
//   - through strides: each flat index is decomposed into per-dim indices (dim 0 innermost) and
//     turned into a byte offset per operand; 32-bit division when the index space allows it.
// The dense kernel has PyTorch's vectorized shape (blocks of 128 threads, 4 vectors per thread,
// one block per tile: see dense_kernel); the strided one is a grid-stride loop with int64 indices
// over sm_count * 8 blocks of 256 threads at most (a full wave on every SM; the loop covers any
// size). Reductions and other .cu files include this header for OffsetCalc and the dtype traits.
#ifndef CTORCH_ITER_CUDA_CUH
#define CTORCH_ITER_CUDA_CUH

#include "cuda_impl.h"
#include "iter_cuda.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>
#include <string.h>
#include <type_traits>

namespace ct_cuda {

// ---- dtype traits: storage T, compute type A (PyTorch's opmath: f32 for the 16-bit floats,
// int32 for bool and uint8, as the CPU loops of elementwise_cpu.c), load and store ----

template <typename T> struct Acc { using A = T; };
template <> struct Acc<__half> { using A = float; };
template <> struct Acc<__nv_bfloat16> { using A = float; };
template <> struct Acc<bool> { using A = int32_t; };
template <> struct Acc<uint8_t> { using A = int32_t; };

template <typename T> __device__ __forceinline__ typename Acc<T>::A load(T x) {
    if constexpr (std::is_same<T, __half>::value) return __half2float(x);
    else if constexpr (std::is_same<T, __nv_bfloat16>::value) return __bfloat162float(x);
    else return (typename Acc<T>::A)x;
}

// Conversions as the CPU's (copy_cpu.c, dtype_impl.h): 16-bit floats from float with round to
// nearest even (doubles go through float first, as on the CPU), bool is "nonzero".
template <typename O, typename R> __device__ __forceinline__ O store_as(R r) {
    if constexpr (std::is_same<O, bool>::value) return r != (R)0;
    else if constexpr (std::is_same<O, __half>::value) return __float2half_rn((float)r);
    else if constexpr (std::is_same<O, __nv_bfloat16>::value) return __float2bfloat16_rn((float)r);
    else return (O)r;
}

// ---- the offset calculator ----

template <int N> struct OffsetCalc {
    int ndim;
    int64_t shape[CT_CUDA_MAX_DIMS];
    int64_t strides[N][CT_CUDA_MAX_DIMS];

    // Byte offsets of flat element i for every operand; I is the index type of the division.
    template <typename I> __device__ __forceinline__ void get(int64_t flat, int64_t off[N]) const {
#pragma unroll
        for (int k = 0; k < N; k++) off[k] = 0;
        I i = (I)flat;
        for (int d = 0; d < ndim; d++) {
            I size = (I)shape[d], q = i / size;
            int64_t idx = (int64_t)(i - q * size);
            i = q;
#pragma unroll
            for (int k = 0; k < N; k++) off[k] += idx * strides[k][d];
        }
    }
};

// Operands first..first+N-1 of it as an OffsetCalc.
template <int N> inline OffsetCalc<N> offset_calc(const ct_cuda_iter *it, int first) {
    OffsetCalc<N> oc;
    memset(&oc, 0, sizeof oc);
    oc.ndim = it->ndim;
    for (int d = 0; d < it->ndim; d++) {
        oc.shape[d] = it->shape[d];
        for (int k = 0; k < N; k++) oc.strides[k][d] = it->strides[first + k][d];
    }
    return oc;
}

// ---- launch geometry ----

constexpr int kThreads = 256;

inline unsigned grid_for(int64_t work, int device) {
    int64_t blocks = (work + kThreads - 1) / kThreads, cap = (int64_t)ct__cuda_sm_count(device) * 8;
    if (blocks > cap) blocks = cap;
    return (unsigned)(blocks < 1 ? 1 : blocks);
}

__device__ __forceinline__ int64_t thread_index() { return blockIdx.x * (int64_t)blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t thread_count() { return (int64_t)gridDim.x * blockDim.x; }

// ---- generic elementwise ----

// The inputs of an elementwise kernel. A broadcast input (stride 0 everywhere: a 0-d tensor) is
// read once per thread; a host scalar (a CPU 0-d tensor next to CUDA ones) travels by value.
template <typename T, int NIN> struct Inputs {
    const char *ptr[NIN];
    T value[NIN];
    unsigned broadcast; // bit k: input k has stride 0 in every dim
    unsigned by_value;  // bit k: input k is value[k], not *ptr[k]
};

template <typename T, int VEC> struct alignas(sizeof(T) * VEC) Vec {
    T v[VEC];
};

template <typename F, typename A, int NIN> __device__ __forceinline__ auto call(const F &f, const A (&a)[NIN]) {
    if constexpr (NIN == 1) return f(a[0]);
    else if constexpr (NIN == 2) return f(a[0], a[1]);
    else return f(a[0], a[1], a[2]);
}

template <typename T, int NIN>
__device__ __forceinline__ typename Acc<T>::A input_at(const Inputs<T, NIN> &in, int k, int64_t byte_off) {
    if (in.by_value >> k & 1) return load(in.value[k]);
    return load(*(const T *)(in.ptr[k] + byte_off));
}

// Dense: PyTorch's vectorized elementwise shape. A block of kDenseThreads threads covers
// kDenseThreads * kDenseUnroll VEC-wide vectors; thread t takes vectors t, t + kDenseThreads, ...
// of its block (each step coalesced across the warp), issues the loads of all its vectors of
// every input first, then computes and stores. One block per such tile (no grid-stride loop: the
// block loop below runs once unless the tile count exceeds the grid limit); the last block also
// takes the tail of fewer than VEC elements, one element per thread.
constexpr int kDenseThreads = 128, kDenseUnroll = 4;

template <int VEC> inline int64_t dense_tiles(int64_t n) {
    const int64_t per_block = (int64_t)kDenseThreads * kDenseUnroll * VEC, tiles = (n + per_block - 1) / per_block;
    return tiles < 1 ? 1 : tiles;
}

template <int VEC, typename OutT, typename InT, int NIN, typename F>
__global__ void __launch_bounds__(kDenseThreads) dense_kernel(OutT *__restrict__ out, Inputs<InT, NIN> in, int64_t n,
                                                              int64_t tiles, F f) {
    using A = typename Acc<InT>::A;
    A bval[NIN];
#pragma unroll
    for (int k = 0; k < NIN; k++) bval[k] = (in.broadcast >> k & 1) ? input_at(in, k, 0) : A(0);
    const int64_t nvec = n / VEC;
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int64_t v0 = tile * (kDenseThreads * kDenseUnroll) + threadIdx.x;
        Vec<InT, VEC> x[kDenseUnroll][NIN];
#pragma unroll
        for (int u = 0; u < kDenseUnroll; u++) {
            const int64_t v = v0 + u * kDenseThreads;
#pragma unroll
            for (int k = 0; k < NIN; k++)
                if (v < nvec && !(in.broadcast >> k & 1)) x[u][k] = ((const Vec<InT, VEC> *)in.ptr[k])[v];
        }
#pragma unroll
        for (int u = 0; u < kDenseUnroll; u++) {
            const int64_t v = v0 + u * kDenseThreads;
            if (v >= nvec) continue;
            Vec<OutT, VEC> o;
#pragma unroll
            for (int j = 0; j < VEC; j++) {
                A a[NIN];
#pragma unroll
                for (int k = 0; k < NIN; k++) a[k] = (in.broadcast >> k & 1) ? bval[k] : load(x[u][k].v[j]);
                o.v[j] = store_as<OutT>(call(f, a));
            }
            ((Vec<OutT, VEC> *)out)[v] = o;
        }
    }
    const int64_t i = nvec * VEC + threadIdx.x; // the tail: fewer than VEC <= 16 < kDenseThreads elements
    if (blockIdx.x == gridDim.x - 1 && i < n) {
        A a[NIN];
#pragma unroll
        for (int k = 0; k < NIN; k++)
            a[k] = (in.broadcast >> k & 1) ? bval[k] : load(((const InT *)in.ptr[k])[i]);
        out[i] = store_as<OutT>(call(f, a));
    }
}

template <typename I, typename OutT, typename InT, int NIN, typename F>
__global__ void __launch_bounds__(kThreads)
    strided_kernel(OffsetCalc<NIN + 1> oc, char *out, Inputs<InT, NIN> in, int64_t n, F f) {
    using A = typename Acc<InT>::A;
    for (int64_t i = thread_index(), step = thread_count(); i < n; i += step) {
        int64_t off[NIN + 1];
        oc.template get<I>(i, off);
        A a[NIN];
#pragma unroll
        for (int k = 0; k < NIN; k++) a[k] = input_at(in, k, off[k + 1]);
        *(OutT *)(out + off[0]) = store_as<OutT>(call(f, a));
    }
}

inline bool aligned(const void *p, size_t bytes) { return ((uintptr_t)p % bytes) == 0; }

// out = f(in_0, ..., in_{NIN-1}) over it (operand 0 the output, NIN inputs of storage type InT).
// host_value[k], when non-NULL, is a host pointer to input k's one element (stride 0 in it).
// Launches on `stream`; returns cudaGetLastError() of the launch (cudaSuccess for 0 elements).
template <typename OutT, typename InT, int NIN, typename F>
cudaError_t elementwise(const ct_cuda_iter *it, const void *const *host_value, F f, cudaStream_t stream, int device) {
    const int64_t n = it->numel;
    if (n == 0) return cudaSuccess;
    Inputs<InT, NIN> in;
    memset(&in, 0, sizeof in);
    bool dense = it->ndim <= 1 && (it->ndim == 0 || it->strides[0][0] == (int64_t)sizeof(OutT));
    for (int k = 0; k < NIN; k++) {
        in.ptr[k] = it->data[k + 1];
        bool zero = true;
        for (int d = 0; d < it->ndim; d++) zero = zero && it->strides[k + 1][d] == 0;
        if (host_value && host_value[k]) {
            memcpy(&in.value[k], host_value[k], sizeof(InT));
            in.by_value |= 1u << k;
            zero = true;
        }
        if (zero) in.broadcast |= 1u << k;
        else if (it->ndim == 1 && it->strides[k + 1][0] != (int64_t)sizeof(InT)) dense = false;
    }
    if (dense) {
        // 16-byte vectors of the wider of the two types (float4 for f32, 8 halfs for f16).
        constexpr int kWide = sizeof(InT) > sizeof(OutT) ? (int)sizeof(InT) : (int)sizeof(OutT);
        constexpr int VEC = 16 / kWide;
        bool vec_ok = aligned(it->data[0], sizeof(OutT) * VEC);
        for (int k = 0; k < NIN; k++)
            if (!(in.broadcast >> k & 1)) vec_ok = vec_ok && aligned(in.ptr[k], sizeof(InT) * VEC);
        if (vec_ok && VEC > 1) {
            const int64_t tiles = dense_tiles<VEC>(n);
            dense_kernel<VEC, OutT, InT, NIN, F><<<(unsigned)(tiles < INT32_MAX ? tiles : INT32_MAX), kDenseThreads, 0,
                                                   stream>>>((OutT *)it->data[0], in, n, tiles, f);
        } else {
            const int64_t tiles = dense_tiles<1>(n);
            dense_kernel<1, OutT, InT, NIN, F><<<(unsigned)(tiles < INT32_MAX ? tiles : INT32_MAX), kDenseThreads, 0,
                                                 stream>>>((OutT *)it->data[0], in, n, tiles, f);
        }
        return cudaGetLastError();
    }
    OffsetCalc<NIN + 1> oc = offset_calc<NIN + 1>(it, 0);
    if (n <= (int64_t)UINT32_MAX)
        strided_kernel<uint32_t, OutT, InT, NIN, F>
            <<<grid_for(n, device), kThreads, 0, stream>>>(oc, it->data[0], in, n, f);
    else
        strided_kernel<uint64_t, OutT, InT, NIN, F>
            <<<grid_for(n, device), kThreads, 0, stream>>>(oc, it->data[0], in, n, f);
    return cudaGetLastError();
}

} // namespace ct_cuda

// Runs BODY with T the storage type of dtype code dt (ct_dtype order: bool, u8, i32, i64, f16,
// bf16, f32, f64); BODY usually returns.
#define CT_CUDA_DISPATCH_DTYPE(dt, T, ...)                                                         \
    switch (dt) {                                                                                  \
    case 0: { using T = bool; __VA_ARGS__ }                                                        \
    case 1: { using T = uint8_t; __VA_ARGS__ }                                                     \
    case 2: { using T = int32_t; __VA_ARGS__ }                                                     \
    case 3: { using T = int64_t; __VA_ARGS__ }                                                     \
    case 4: { using T = __half; __VA_ARGS__ }                                                      \
    case 5: { using T = __nv_bfloat16; __VA_ARGS__ }                                               \
    case 6: { using T = float; __VA_ARGS__ }                                                       \
    default: { using T = double; __VA_ARGS__ }                                                     \
    }

#endif // CTORCH_ITER_CUDA_CUH
