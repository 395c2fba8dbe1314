// Strided copies and dtype conversions on one CUDA device (copy_, contiguous, to(dtype), clone,
// strided fill): operand 0 = operand 1 converted, through the iterator of iter_cuda.cuh, so a
// dense copy moves 16-byte vectors and a strided one decomposes indices. Same-dtype copies move
// raw bits; conversions load into the source's compute type and store as the CPU does
// (copy_cpu.c): 16-bit floats round to nearest even from float, bool is "nonzero".
#include "elementwise_cuda.h"
#include "iter_cuda.cuh"

using namespace ct_cuda;

namespace {

struct Identity {
    template <typename A> __device__ __forceinline__ A operator()(A x) const { return x; }
};

template <typename D, typename S> ct_cuda_status run(const ct_cuda_iter *it, int device) {
    cudaError_t e = elementwise<D, S, 1>(it, nullptr, Identity{}, ct__cuda_stream(device), device);
    return ct__cuda_check("copy", device, e) ? CT_CUDA_OK : CT_CUDA_FAILED;
}

} // namespace

extern "C" ct_cuda_status ct__cuda_copy(const ct_cuda_iter *it, int dst_dtype, int src_dtype, int device) {
    if (it->numel == 0) return CT_CUDA_OK;
    if (dst_dtype == src_dtype) { // move bits: one unsigned type per element size
        switch (dst_dtype) {
        case 0:
        case 1: return run<uint8_t, uint8_t>(it, device);
        case 4:
        case 5: return run<uint16_t, uint16_t>(it, device);
        case 2:
        case 6: return run<uint32_t, uint32_t>(it, device);
        default: return run<uint64_t, uint64_t>(it, device);
        }
    }
    CT_CUDA_DISPATCH_DTYPE(dst_dtype, D, CT_CUDA_DISPATCH_DTYPE(src_dtype, S, return run<D, S>(it, device);))
}
