// Fused cross-entropy on CUDA: one block per row (n, d). Forward: one pass for (max, sum of exp)
// with the online merge plus the sum of the scores when smoothing; backward: one pass writing
// g * (softmax - smoothed one-hot). f32/f16/bf16 accumulate in float, f64 in double; dense rows
// (D == 1) are read 16 bytes at a time. A target outside [0, C) that is not ignore_index gives a
// NaN loss and a NaN gradient row (the host does not check GPU targets: that would wait for them).
#include "block_reduce.cuh"
#include "cross_entropy_cuda.h"
#include "dtype_cuda.cuh"

template <typename A> struct MsSum {
    ct_ms<A> ms;
    A sum;
};
template <typename A> __device__ __forceinline__ MsSum<A> ct_shfl_down(MsSum<A> v, int o) {
    MsSum<A> r = {ct_shfl_down(v.ms, o), ct_shfl_down(v.sum, o)};
    return r;
}
struct MsSumMerge {
    template <typename A> __device__ MsSum<A> operator()(MsSum<A> a, MsSum<A> b) const {
        MsSum<A> r = {ct_ms_merge(a.ms, b.ms), a.sum + b.sum};
        return r;
    }
};

template <typename T> __device__ __forceinline__ bool dense_aligned(const T *row, int64_t D) {
    return D == 1 && ((uintptr_t)row % 16) == 0;
}

template <typename T, typename A>
__global__ void xent_forward_kernel(const T *__restrict__ logits, const int64_t *__restrict__ target,
                                    T *__restrict__ loss, A *__restrict__ lse_out, int64_t rows, int64_t C, int64_t D,
                                    int64_t ignore_index, A ls) {
    typedef ct_vec16<T> V;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t n = r / D, d = r % D;
        const T *row = logits + n * C * D + d;
        bool vec = dense_aligned(row, D);
        int64_t nvec = vec ? C / V::N : 0;
        MsSum<A> acc = {{(A)-INFINITY, 0}, 0};
        for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x) {
            V v = ((const V *)row)[j];
#pragma unroll
            for (int e = 0; e < V::N; e++) {
                A x = ct_to_acc(v.v[e]);
                acc.ms = ct_ms_add(acc.ms, x);
                acc.sum += x;
            }
        }
        for (int64_t c = nvec * V::N + threadIdx.x; c < C; c += blockDim.x) {
            A x = ct_to_acc(row[c * D]);
            acc.ms = ct_ms_add(acc.ms, x);
            acc.sum += x;
        }
        acc = ct_block_reduce(acc, MsSumMerge());
        if (threadIdx.x == 0) {
            A lse = acc.ms.m + log(acc.ms.s);
            lse_out[r] = lse;
            int64_t t = target[r];
            A l = 0;
            if (t != ignore_index) {
                A xt = t >= 0 && t < C ? ct_to_acc(row[t * D]) : (A)NAN;
                l = lse - ((A)1 - ls) * xt - (ls > 0 ? ls / (A)C * acc.sum : (A)0);
            }
            loss[r] = ct_from_acc<T>(l);
        }
    }
}

template <typename T, typename A>
__global__ void xent_backward_kernel(const T *__restrict__ logits, const int64_t *__restrict__ target,
                                     const A *__restrict__ lse_in, const T *__restrict__ grad, int64_t grad_stride,
                                     T *__restrict__ dlogits, int64_t rows, int64_t C, int64_t D, int64_t ignore_index,
                                     A ls) {
    typedef ct_vec16<T> V;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t n = r / D, d = r % D, t = target[r];
        const T *row = logits + n * C * D + d;
        T *drow = dlogits + n * C * D + d;
        bool ignored = t == ignore_index;
        // targets are not validated on the host (nn/loss.c): an out-of-range one makes its row NaN
        A g = ignored ? (A)0 : t < 0 || t >= C ? (A)NAN : ct_to_acc(grad[r * grad_stride]);
        A lse = lse_in[r], smooth = ls / (A)C, hit = (A)1 - ls;
        bool vec = dense_aligned(row, D) && dense_aligned(drow, D);
        int64_t nvec = vec ? C / V::N : 0;
        for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x) {
            V v = ((const V *)row)[j], y;
#pragma unroll
            for (int e = 0; e < V::N; e++) {
                int64_t c = j * V::N + e;
                A p = exp(ct_to_acc(v.v[e]) - lse) - smooth - (c == t ? hit : (A)0);
                y.v[e] = ct_from_acc<T>(ignored ? (A)0 : g * p);
            }
            ((V *)drow)[j] = y;
        }
        for (int64_t c = nvec * V::N + threadIdx.x; c < C; c += blockDim.x) {
            A p = exp(ct_to_acc(row[c * D]) - lse) - smooth - (c == t ? hit : (A)0);
            drow[c * D] = ct_from_acc<T>(ignored ? (A)0 : g * p);
        }
    }
}

static int threads_for(int64_t C, int elems_per_vec) {
    int threads = 32;
    while (threads < 1024 && threads * 4 * (int64_t)elems_per_vec < C) threads *= 2;
    return threads;
}

static unsigned grid_for(int64_t rows) { return (unsigned)(rows < (1 << 20) ? rows : (1 << 20)); }

template <typename T, typename A>
static cudaError_t forward(const void *logits, const int64_t *target, void *loss, void *lse, int64_t N, int64_t C,
                           int64_t D, int64_t ignore_index, double ls, cudaStream_t stream) {
    int64_t rows = N * D;
    if (rows == 0) return cudaSuccess;
    xent_forward_kernel<T, A><<<grid_for(rows), threads_for(C, ct_vec16<T>::N), 0, stream>>>(
        (const T *)logits, target, (T *)loss, (A *)lse, rows, C, D, ignore_index, (A)ls);
    return cudaGetLastError();
}

template <typename T, typename A>
static cudaError_t backward(const void *logits, const int64_t *target, const void *lse, const void *grad,
                            int64_t grad_stride, void *dlogits, int64_t N, int64_t C, int64_t D, int64_t ignore_index,
                            double ls, cudaStream_t stream) {
    int64_t rows = N * D;
    if (rows == 0 || C == 0) return cudaSuccess;
    xent_backward_kernel<T, A><<<grid_for(rows), threads_for(C, ct_vec16<T>::N), 0, stream>>>(
        (const T *)logits, target, (const A *)lse, (const T *)grad, grad_stride, (T *)dlogits, rows, C, D,
        ignore_index, (A)ls);
    return cudaGetLastError();
}

extern "C" cudaError_t ct__cuda_xent_forward(const void *logits, const int64_t *target, void *loss, void *lse,
                                             int64_t N, int64_t C, int64_t D, int64_t ignore_index, double ls,
                                             int dtype, cudaStream_t stream) {
    switch (dtype) {
    case CT_CU_F16: return forward<__half, float>(logits, target, loss, lse, N, C, D, ignore_index, ls, stream);
    case CT_CU_BF16: return forward<__nv_bfloat16, float>(logits, target, loss, lse, N, C, D, ignore_index, ls, stream);
    case CT_CU_F32: return forward<float, float>(logits, target, loss, lse, N, C, D, ignore_index, ls, stream);
    case CT_CU_F64: return forward<double, double>(logits, target, loss, lse, N, C, D, ignore_index, ls, stream);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t ct__cuda_xent_backward(const void *logits, const int64_t *target, const void *lse,
                                              const void *grad, int64_t grad_stride, void *dlogits, int64_t N,
                                              int64_t C, int64_t D, int64_t ignore_index, double ls, int dtype,
                                              cudaStream_t stream) {
#define CT_XENT_BWD(T, A) \
    backward<T, A>(logits, target, lse, grad, grad_stride, dlogits, N, C, D, ignore_index, ls, stream)
    switch (dtype) {
    case CT_CU_F16: return CT_XENT_BWD(__half, float);
    case CT_CU_BF16: return CT_XENT_BWD(__nv_bfloat16, float);
    case CT_CU_F32: return CT_XENT_BWD(float, float);
    case CT_CU_F64: return CT_XENT_BWD(double, double);
    default: return cudaErrorInvalidValue;
    }
#undef CT_XENT_BWD
}
