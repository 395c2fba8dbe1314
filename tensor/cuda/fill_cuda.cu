// Device fill: writes one element's bits (1, 2, 4 or 8 bytes) over a dense range. Used by
// fill_/zeros/ones/full on dense CUDA tensors; strided fills (creation.c) fill one device element
// with this and broadcast it into the view with the strided copy kernel (copy_cuda.cu).
#include "cuda_impl.h"

#include <stdint.h>
#include <string.h>

template <typename T>
__global__ void fill_kernel(T *__restrict__ out, int64_t n, T value) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = value;
}

template <typename T>
static cudaError_t launch(void *data, int64_t n, const void *bits, cudaStream_t stream) {
    T value;
    memcpy(&value, bits, sizeof value);
    int threads = 256;
    int64_t blocks = (n + threads - 1) / threads;
    if (blocks > 65535 * 8) blocks = 65535 * 8; // grid-stride loop covers the rest
    fill_kernel<T><<<(unsigned)blocks, threads, 0, stream>>>((T *)data, n, value);
    return cudaGetLastError();
}

extern "C" int ct__cuda_fill(void *data, int64_t n, size_t elem_size, const void *bits, int device) {
    if (n == 0) return 0;
    cudaStream_t stream = ct__cuda_stream(device);
    cudaError_t e;
    switch (elem_size) {
    case 1: e = launch<uint8_t>(data, n, bits, stream); break;
    case 2: e = launch<uint16_t>(data, n, bits, stream); break;
    case 4: e = launch<uint32_t>(data, n, bits, stream); break;
    default: e = launch<uint64_t>(data, n, bits, stream); break;
    }
    return (int)e;
}
