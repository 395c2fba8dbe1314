// CUDA copying shape ops: a dense output filled from a strided read (flip reads with negative
// strides). One grid-stride loop; output position i is unravelled row-major over the shape to
// find its source element, so writes are coalesced and reads are as local as the source allows.
#include "shape_ops_cuda.h"

template <typename T> __global__ void strided_gather_kernel(T *__restrict__ out, const ct__cuda_strided_read r) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < r.numel; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, off = 0;
        for (int d = r.ndim - 1; d >= 0; d--) {
            int64_t c = rem % r.shape[d];
            rem /= r.shape[d];
            off += c * r.stride[d];
        }
        out[i] = ((const T *)r.src)[off];
    }
}

template <typename T> static cudaError_t launch(void *out, const ct__cuda_strided_read *r, cudaStream_t stream) {
    const int threads = 256;
    int64_t blocks = (r->numel + threads - 1) / threads;
    if (blocks > 65535 * 16) blocks = 65535 * 16; // the grid-stride loop covers the rest
    strided_gather_kernel<T><<<(unsigned)blocks, threads, 0, stream>>>((T *)out, *r);
    return cudaGetLastError();
}

extern "C" cudaError_t ct__cuda_strided_gather(void *out, const ct__cuda_strided_read *r, cudaStream_t stream) {
    if (r->numel == 0) return cudaSuccess;
    switch (r->elem_size) {
    case 1: return launch<uint8_t>(out, r, stream);
    case 2: return launch<uint16_t>(out, r, stream);
    case 4: return launch<uint32_t>(out, r, stream);
    case 8: return launch<uint64_t>(out, r, stream);
    default: return cudaErrorInvalidValue;
    }
}
