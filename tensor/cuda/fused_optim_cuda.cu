// Fused multi-tensor optimizer updates (PyTorch's multi_tensor_apply): the host cuts every tensor
// into chunks of CHUNK elements and fills a table, passed by value as the kernel argument, that
// names for each block its tensor and chunk; one launch covers up to MAX_BLOCKS chunks of up to
// MAX_TENSORS tensors, so a model's hundreds of small parameters update in a few launches.
// The element math is exactly the CPU loop's (tensor/cpu/fused_optim_cpu.c), with the same
// rounding points for 16-bit floats.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "fused_optim_cuda.h"

namespace {

constexpr int MAX_DEPTH = 5;      // Adam with amsgrad: p, g, m, v, vmax
constexpr int MAX_TENSORS = 32;   // tensors per launch
constexpr int MAX_BLOCKS = 320;   // chunks (blocks) per launch
constexpr int64_t CHUNK = 65536;  // elements per block
constexpr int THREADS = 512;

// ~3.1 KB: within the 4 KB kernel-parameter limit of every CUDA version.
struct Table {
    void *ptr[MAX_DEPTH][MAX_TENSORS];
    int64_t numel[MAX_TENSORS];
    int chunk[MAX_BLOCKS];
    unsigned char tensor[MAX_BLOCKS];
};

// Loads to and stores from the compute type A (float for 16-bit storage).
template <typename A> __device__ __forceinline__ A ld(float x) { return x; }
template <typename A> __device__ __forceinline__ A ld(double x) { return x; }
template <typename A> __device__ __forceinline__ A ld(__half x) { return __half2float(x); }
template <typename A> __device__ __forceinline__ A ld(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T st(float x);
template <typename T> __device__ __forceinline__ T st(double x);
template <> __device__ __forceinline__ float st<float>(float x) { return x; }
template <> __device__ __forceinline__ double st<double>(double x) { return x; }
template <> __device__ __forceinline__ __half st<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 st<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
// x rounded to T's precision, back in A (the CPU's LD(ST(x))).
template <typename T, typename A> __device__ __forceinline__ A round_to(A x) { return ld<A>(st<T>(x)); }

template <typename T, typename A> struct SgdOp {
    A lr, wd, mom, damp1;
    bool nesterov, maximize, first, has_wd;
    __device__ __forceinline__ void operator()(void *const *ptr, int64_t i) const {
        T *p = (T *)ptr[0], *buf = (T *)ptr[2];
        const T *g = (const T *)ptr[1];
        A pi = ld<A>(p[i]), d = maximize ? -ld<A>(g[i]) : ld<A>(g[i]);
        if (has_wd) d = d + wd * pi;
        if (buf) {
            A b = first ? d : ld<A>(buf[i]) * mom + damp1 * d;
            buf[i] = st<T>(b);
            b = ld<A>(buf[i]);
            d = nesterov ? d + mom * b : b;
        }
        p[i] = st<T>(pi + (-lr) * d);
    }
};

template <typename T, typename A> struct AdamOp {
    A w1, b2, w2, eps, wd, decay, step_size, bc2;
    bool maximize, has_wd, has_decay;
    __device__ __forceinline__ void operator()(void *const *ptr, int64_t i) const {
        T *p = (T *)ptr[0], *m = (T *)ptr[2], *v = (T *)ptr[3], *vmax = (T *)ptr[4];
        const T *g = (const T *)ptr[1];
        A pi = ld<A>(p[i]);
        if (has_decay) pi = round_to<T>(pi * decay);
        A gi = maximize ? -ld<A>(g[i]) : ld<A>(g[i]);
        if (has_wd) gi = gi + wd * pi;
        A m0 = ld<A>(m[i]);
        // PyTorch's lerp: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w)
        A mi = round_to<T>(w1 < A(0.5) ? m0 + w1 * (gi - m0) : gi - (gi - m0) * (A(1) - w1));
        A vi = round_to<T>(ld<A>(v[i]) * b2 + w2 * gi * gi);
        m[i] = st<T>(mi);
        v[i] = st<T>(vi);
        if (vmax) {
            A mx = ld<A>(vmax[i]);
            vi = mx > vi || mx != mx ? mx : vi;  // torch.maximum propagates NaN
            vmax[i] = st<T>(vi);
        }
        A denom = round_to<T>(round_to<T>(sqrt(vi) / bc2) + eps);
        p[i] = st<T>(pi + (-step_size) * (mi / denom));
    }
};

// PyTorch's lerp: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w).
template <typename A> __device__ __forceinline__ A lerp(A start, A end, A w) {
    return w < A(0.5) ? start + w * (end - start) : end - (end - start) * (A(1) - w);
}

// The CPU loop's RMSPROP_BODY (tensor/cpu/fused_optim_cpu.c), rounding at the same points; a
// NULL momentum buffer / grad_avg list selects the plain / uncentered variant.
template <typename T, typename A> struct RmspropOp {
    A lr, alpha, w, eps, wd, mom;
    bool maximize, has_wd;
    __device__ __forceinline__ void operator()(void *const *ptr, int64_t i) const {
        T *p = (T *)ptr[0], *sq = (T *)ptr[2], *buf = (T *)ptr[3], *ga = (T *)ptr[4];
        const T *g = (const T *)ptr[1];
        A pi = ld<A>(p[i]), gi = maximize ? -ld<A>(g[i]) : ld<A>(g[i]);
        if (has_wd) gi = gi + wd * pi;
        A s = round_to<T>(ld<A>(sq[i]) * alpha + w * gi * gi);
        sq[i] = st<T>(s);
        A avg;
        if (ga) {
            A gai = round_to<T>(lerp(ld<A>(ga[i]), gi, w));
            ga[i] = st<T>(gai);
            avg = round_to<T>(sqrt(round_to<T>(s + A(-1) * gai * gai))) + eps;
        } else {
            avg = round_to<T>(sqrt(s)) + eps;
        }
        avg = round_to<T>(avg);
        if (buf) {
            A b = round_to<T>(ld<A>(buf[i]) * mom + gi / avg);
            buf[i] = st<T>(b);
            p[i] = st<T>(pi + (-lr) * b);
        } else {
            p[i] = st<T>(pi + (-lr) * (gi / avg));
        }
    }
};

// The CPU loop's ADAGRAD_LOOP body.
template <typename T, typename A> struct AdagradOp {
    A clr, wd, eps;
    bool maximize, has_wd;
    __device__ __forceinline__ void operator()(void *const *ptr, int64_t i) const {
        T *p = (T *)ptr[0], *sum = (T *)ptr[2];
        const T *g = (const T *)ptr[1];
        A pi = ld<A>(p[i]), gi = maximize ? -ld<A>(g[i]) : ld<A>(g[i]);
        if (has_wd) gi = gi + wd * pi;
        A s = round_to<T>(ld<A>(sum[i]) + gi * gi);
        sum[i] = st<T>(s);
        A den = round_to<T>(round_to<T>(sqrt(s)) + eps);
        p[i] = st<T>(pi + (-clr) * (gi / den));
    }
};

template <typename Op> __global__ void __launch_bounds__(THREADS) multi_tensor_kernel(Table tab, Op op) {
    const int t = tab.tensor[blockIdx.x];
    const int64_t start = (int64_t)tab.chunk[blockIdx.x] * CHUNK;
    const int64_t end = min(start + CHUNK, tab.numel[t]);
    void *ptr[MAX_DEPTH];
#pragma unroll
    for (int d = 0; d < MAX_DEPTH; d++) ptr[d] = tab.ptr[d][t];
    for (int64_t i = start + threadIdx.x; i < end; i += THREADS) op(ptr, i);
}

// Fills tables and launches: a launch goes out when the blocks or the tensor slots are full; a
// tensor cut by a full block table continues in slot 0 of the next one.
template <typename Op>
cudaError_t apply(void *const *const *lists, int depth, const int64_t *numel, int n, Op op, cudaStream_t stream) {
    Table tab;
    int nt = 0, nb = 0;
    auto launch = [&]() {
        multi_tensor_kernel<Op><<<nb, THREADS, 0, stream>>>(tab, op);
        nb = 0;
        return cudaGetLastError();
    };
    for (int t = 0; t < n; t++) {
        if (numel[t] == 0) continue;
        for (int d = 0; d < MAX_DEPTH; d++) tab.ptr[d][nt] = d < depth && lists[d] ? lists[d][t] : nullptr;
        tab.numel[nt] = numel[t];
        const int64_t chunks = (numel[t] + CHUNK - 1) / CHUNK;
        for (int64_t c = 0; c < chunks; c++) {
            tab.tensor[nb] = (unsigned char)nt;
            tab.chunk[nb] = (int)c;
            if (++nb == MAX_BLOCKS) {
                cudaError_t e = launch();
                if (e != cudaSuccess) return e;
                if (c + 1 < chunks) {  // the rest of this tensor goes on in slot 0
                    for (int d = 0; d < MAX_DEPTH; d++) tab.ptr[d][0] = tab.ptr[d][nt];
                    tab.numel[0] = tab.numel[nt];
                    nt = 0;
                } else {
                    nt = -1;  // the next tensor starts at slot 0
                }
            }
        }
        if (++nt == MAX_TENSORS) {
            if (nb) {
                cudaError_t e = launch();
                if (e != cudaSuccess) return e;
            }
            nt = 0;
        }
    }
    return nb ? launch() : cudaSuccess;
}

template <typename T, typename A> cudaError_t sgd(void *const *const *lists, const int64_t *numel, int n,
                                                  const ct__fo_sgd_args &a, cudaStream_t s) {
    SgdOp<T, A> op{(A)a.lr, (A)a.weight_decay, (A)a.momentum, (A)(1 - a.dampening),
                   a.nesterov != 0, a.maximize != 0, a.first != 0, a.weight_decay != 0};
    return apply(lists, 3, numel, n, op, s);
}

template <typename T, typename A> cudaError_t adam(void *const *const *lists, const int64_t *numel, int n,
                                                   const ct__fo_adam_args &a, cudaStream_t s) {
    AdamOp<T, A> op{(A)(1 - a.beta1), (A)a.beta2, (A)(1 - a.beta2), (A)a.eps, (A)a.weight_decay, (A)a.decay,
                    (A)a.step_size, (A)a.bias_correction2_sqrt, a.maximize != 0, a.weight_decay != 0, a.decay != 1};
    return apply(lists, 5, numel, n, op, s);
}

template <typename T, typename A> cudaError_t rmsprop(void *const *const *lists, const int64_t *numel, int n,
                                                      const ct__fo_rmsprop_args &a, cudaStream_t s) {
    RmspropOp<T, A> op{(A)a.lr, (A)a.alpha, (A)(1 - a.alpha), (A)a.eps, (A)a.weight_decay, (A)a.momentum,
                       a.maximize != 0, a.weight_decay != 0};
    return apply(lists, 5, numel, n, op, s);
}

template <typename T, typename A> cudaError_t adagrad(void *const *const *lists, const int64_t *numel, int n,
                                                      const ct__fo_adagrad_args &a, cudaStream_t s) {
    AdagradOp<T, A> op{(A)a.clr, (A)a.weight_decay, (A)a.eps, a.maximize != 0, a.weight_decay != 0};
    return apply(lists, 3, numel, n, op, s);
}

}  // namespace

/* The extern "C" entry points: one dtype dispatch, each element type with its math type (16-bit
 * floats compute in float). */
#define FUSED_ENTRY(name, algo, args_t)                                                                \
    extern "C" cudaError_t name(void *const *const *lists, const int64_t *numel, int n, ct__fo_dtype dtype, \
                                args_t a, cudaStream_t stream) {                                       \
        switch (dtype) {                                                                               \
        case CT__FO_F32: return algo<float, float>(lists, numel, n, a, stream);                        \
        case CT__FO_F64: return algo<double, double>(lists, numel, n, a, stream);                      \
        case CT__FO_F16: return algo<__half, float>(lists, numel, n, a, stream);                       \
        case CT__FO_BF16: return algo<__nv_bfloat16, float>(lists, numel, n, a, stream);               \
        }                                                                                              \
        return cudaErrorInvalidValue;                                                                  \
    }

FUSED_ENTRY(ct__cuda_fused_sgd, sgd, ct__fo_sgd_args)
FUSED_ENTRY(ct__cuda_fused_adam, adam, ct__fo_adam_args)
FUSED_ENTRY(ct__cuda_fused_rmsprop, rmsprop, ct__fo_rmsprop_args)
FUSED_ENTRY(ct__cuda_fused_adagrad, adagrad, ct__fo_adagrad_args)
