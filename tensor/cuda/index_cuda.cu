// CUDA indexing kernels: the take and put loops of index_impl.h, index bounds checks and nonzero.
// Every kernel is a grid-stride loop over the loop's row-major positions; an operand's element
// is found by unravelling the position over the shape with its element strides.
// put without accumulate: duplicates race and one of them wins (as PyTorch on CUDA); with
// accumulate every duplicate adds atomically (f16/bf16 through their native atomicAdd, bool as
// an OR and uint8 through a compare-and-swap on the enclosing word).
#include "dtype_cuda.cuh"
#include "index_cuda.h"

#include <cub/device/device_scan.cuh>

static unsigned grid_for(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 65535 * 16 ? b : 65535 * 16);
}

struct Offsets {
    int64_t out, src, idx;
};

__device__ __forceinline__ Offsets unravel(const ct__cuda_index_loop &l, int64_t i) {
    Offsets o = {0, 0, 0};
    for (int d = l.ndim - 1; d >= 0; d--) {
        int64_t c = i % l.shape[d];
        i /= l.shape[d];
        o.out += c * l.out_stride[d];
        o.src += c * l.src_stride[d];
        o.idx += c * l.idx_stride[d];
    }
    return o;
}

__device__ __forceinline__ int64_t load_index(const ct__cuda_index_loop &l, int64_t off) {
    return l.idx_is_i32 ? (int64_t)((const int32_t *)l.idx)[off] : ((const int64_t *)l.idx)[off];
}

template <typename T> __global__ void take_kernel(const ct__cuda_index_loop l) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < l.numel; i += (int64_t)gridDim.x * blockDim.x) {
        Offsets o = unravel(l, i);
        int64_t v = load_index(l, o.idx);
        ((T *)l.out)[o.out] = ((const T *)l.src)[o.src + v * l.step];
    }
}

__device__ __forceinline__ void atomic_add_elem(char *p, const char *s, int dtype) {
    switch (dtype) {
    case CT_CU_BOOL:
        if (*(const bool *)s) { // OR the byte's lowest bit into its aligned 32-bit word
            uintptr_t a = (uintptr_t)p;
            atomicOr((unsigned *)(a & ~(uintptr_t)3), 1u << (8 * (a & 3)));
        }
        break;
    case CT_CU_U8: {
        uintptr_t a = (uintptr_t)p;
        unsigned *w = (unsigned *)(a & ~(uintptr_t)3), shift = 8 * (unsigned)(a & 3), add = *(const uint8_t *)s;
        unsigned old = *w, assumed;
        do {
            assumed = old;
            unsigned byte = ((assumed >> shift) + add) & 0xffu;
            old = atomicCAS(w, assumed, (assumed & ~(0xffu << shift)) | (byte << shift));
        } while (old != assumed);
        break;
    }
    case CT_CU_I32: atomicAdd((int *)p, *(const int *)s); break;
    case CT_CU_I64: atomicAdd((unsigned long long *)p, (unsigned long long)*(const int64_t *)s); break;
    case CT_CU_F16: atomicAdd((__half *)p, *(const __half *)s); break;
    case CT_CU_BF16: atomicAdd((__nv_bfloat16 *)p, *(const __nv_bfloat16 *)s); break;
    case CT_CU_F32: atomicAdd((float *)p, *(const float *)s); break;
    default: atomicAdd((double *)p, *(const double *)s); break;
    }
}

template <typename T> __global__ void put_kernel(const ct__cuda_index_loop l, bool accumulate) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < l.numel; i += (int64_t)gridDim.x * blockDim.x) {
        Offsets o = unravel(l, i);
        int64_t v = load_index(l, o.idx);
        T *d = (T *)l.out + o.out + v * l.step;
        const T *s = (const T *)l.src + o.src;
        if (accumulate) atomic_add_elem((char *)d, (const char *)s, l.dtype);
        else *d = *s;
    }
}

// Positions are compared as unsigned so that -1 (none) is the largest.
__global__ void bounds_kernel(const ct__cuda_index_loop l, int64_t lo, int64_t size, int64_t *offsets, int64_t mul,
                              unsigned long long *first) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < l.numel; i += (int64_t)gridDim.x * blockDim.x) {
        Offsets o = unravel(l, i);
        int64_t v = load_index(l, o.idx);
        if (v < lo || v >= size) atomicMin(first, (unsigned long long)i);
        else if (offsets) offsets[i] += (v < 0 ? v + size : v) * mul;
    }
}

template <typename T> static cudaError_t launch_take(const ct__cuda_index_loop *l, cudaStream_t s) {
    take_kernel<T><<<grid_for(l->numel, 256), 256, 0, s>>>(*l);
    return cudaGetLastError();
}
template <typename T> static cudaError_t launch_put(const ct__cuda_index_loop *l, bool acc, cudaStream_t s) {
    put_kernel<T><<<grid_for(l->numel, 256), 256, 0, s>>>(*l, acc);
    return cudaGetLastError();
}

extern "C" cudaError_t ct__cuda_index_take(const ct__cuda_index_loop *l, cudaStream_t s) {
    if (l->numel == 0) return cudaSuccess;
    switch (l->elem_size) {
    case 1: return launch_take<uint8_t>(l, s);
    case 2: return launch_take<uint16_t>(l, s);
    case 4: return launch_take<uint32_t>(l, s);
    default: return launch_take<uint64_t>(l, s);
    }
}

extern "C" cudaError_t ct__cuda_index_put(const ct__cuda_index_loop *l, bool accumulate, cudaStream_t s) {
    if (l->numel == 0) return cudaSuccess;
    switch (l->elem_size) {
    case 1: return launch_put<uint8_t>(l, accumulate, s);
    case 2: return launch_put<uint16_t>(l, accumulate, s);
    case 4: return launch_put<uint32_t>(l, accumulate, s);
    default: return launch_put<uint64_t>(l, accumulate, s);
    }
}

extern "C" cudaError_t ct__cuda_index_bounds(const ct__cuda_index_loop *l, int64_t lo, int64_t size, int64_t *offsets,
                                             int64_t mul, void *flag, int64_t *first, cudaStream_t s) {
    unsigned long long none = ~0ull, got = none;
    cudaError_t e = cudaMemcpyAsync(flag, &none, sizeof none, cudaMemcpyHostToDevice, s);
    if (e == cudaSuccess && l->numel > 0) {
        bounds_kernel<<<grid_for(l->numel, 256), 256, 0, s>>>(*l, lo, size, offsets, mul, (unsigned long long *)flag);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpyAsync(&got, flag, sizeof got, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    *first = got == none ? -1 : (int64_t)got;
    return e;
}

// ---- nonzero: flags, an inclusive prefix sum (cub), then each hit writes its coordinates ----

__global__ void nonzero_flags(const char *data, const ct__cuda_index_loop l, int64_t *scan) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < l.numel; i += (int64_t)gridDim.x * blockDim.x) {
        Offsets o = unravel(l, i);
        // v != 0, NaN included, as PyTorch
        scan[i] = ct_cu_load_f64(data + o.src * l.elem_size, l.dtype) != 0;
    }
}

__global__ void nonzero_write(const int64_t *scan, const ct__cuda_index_loop l, int64_t *out) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < l.numel; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t before = i ? scan[i - 1] : 0;
        if (scan[i] == before) continue;
        int64_t rem = i, *row = out + before * l.ndim;
        for (int d = l.ndim - 1; d >= 0; d--) {
            row[d] = rem % l.shape[d];
            rem /= l.shape[d];
        }
    }
}

static ct__cuda_index_loop shape_loop(const int64_t *shape, const int64_t *stride, int ndim, int64_t numel, int dtype) {
    ct__cuda_index_loop l;
    memset(&l, 0, sizeof l);
    l.ndim = ndim;
    l.numel = numel;
    static const int sizes[] = {1, 1, 4, 8, 2, 2, 4, 8};
    l.dtype = dtype;
    l.elem_size = sizes[dtype];
    for (int d = 0; d < ndim; d++) {
        l.shape[d] = shape[d];
        l.src_stride[d] = stride ? stride[d] : 0;
    }
    return l;
}

extern "C" cudaError_t ct__cuda_nonzero_count(const char *data, const int64_t *shape, const int64_t *stride, int ndim,
                                              int64_t numel, int dtype, int64_t *scan, void *tmp, size_t *tmp_bytes,
                                              int64_t *count, cudaStream_t s) {
    if (!tmp) return cub::DeviceScan::InclusiveSum(NULL, *tmp_bytes, scan, scan, numel, s);
    ct__cuda_index_loop l = shape_loop(shape, stride, ndim, numel, dtype);
    nonzero_flags<<<grid_for(numel, 256), 256, 0, s>>>(data, l, scan);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cub::DeviceScan::InclusiveSum(tmp, *tmp_bytes, scan, scan, numel, s);
    if (e == cudaSuccess) e = cudaMemcpyAsync(count, scan + numel - 1, sizeof *count, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    return e;
}

extern "C" cudaError_t ct__cuda_nonzero_write(const int64_t *scan, const int64_t *shape, int ndim, int64_t numel,
                                              int64_t *out, cudaStream_t s) {
    ct__cuda_index_loop l = shape_loop(shape, NULL, ndim, numel, 0);
    nonzero_write<<<grid_for(numel, 256), 256, 0, s>>>(scan, l, out);
    return cudaGetLastError();
}
