// CUDA elementwise kernels: one functor per op over the compute type A (float for the 16-bit
// floats, int32 for bool and uint8, as the CPU loops of elementwise_cpu.c), run by the strided
// iterator of iter_cuda.cuh. The (op, dtype) pairs that exist are exactly the CPU table's; the
// semantics (integer division, remainder's sign, floor division, NaN propagation) are the same
// expressions, so CUDA and CPU agree to the last bit except for the ulps of the math library.
#include "../elementwise_ops.h"
#include "../scalar_math.h"
#include "elementwise_cuda.h"
#include "iter_cuda.cuh"

#include <math.h>

using namespace ct_cuda;

namespace {

// Scalar parameters every functor may read (elementwise_impl.h's ct_ew_params), and the device
// flag integer division raises on a zero divisor.
struct P {
    double alpha, p0, p1, p2;
    int *zero_division;
};

template <typename A> constexpr bool is_float_v = std::is_floating_point<A>::value;

// ---- the shared scalar formulas (scalar_math.h); a zero integer divisor raises the device flag ----

__device__ __forceinline__ int64_t idiv_trunc(int64_t x, int64_t y, const P &p) {
    return y ? ct_idiv_trunc(x, y) : (*p.zero_division = 1, 0);
}
__device__ __forceinline__ int64_t idiv_floor(int64_t x, int64_t y, const P &p) {
    return y ? ct_idiv_floor(x, y) : (*p.zero_division = 1, 0);
}
__device__ __forceinline__ int64_t iremainder(int64_t x, int64_t y, const P &p) {
    return y ? ct_iremainder(x, y) : (*p.zero_division = 1, 0);
}
__device__ __forceinline__ float floordiv(float a, float b) { return ct_floordiv_f(a, b); }
__device__ __forceinline__ double floordiv(double a, double b) { return ct_floordiv_d(a, b); }
__device__ __forceinline__ float fremainder(float a, float b) { return ct_fremainder_f(a, b); }
__device__ __forceinline__ double fremainder(double a, double b) { return ct_fremainder_d(a, b); }

// ---- functors ----
// Each is `struct Name { P p; template <typename A> A operator()(A x[, A y]) const; }`; bool
// results are returned as A (0 or 1) and stored as bool by the iterator.

#define UNARY_FN(Name, ...)                                                                        \
    struct Name {                                                                                  \
        P p;                                                                                       \
        template <typename A> __device__ __forceinline__ A operator()(A x) const {                 \
            (void)p;                                                                               \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    };
#define BINARY_FN(Name, ...)                                                                       \
    struct Name {                                                                                  \
        P p;                                                                                       \
        template <typename A> __device__ __forceinline__ A operator()(A x, A y) const {            \
            (void)p;                                                                               \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    };

BINARY_FN(Add, return x + (A)p.alpha * y;)
BINARY_FN(Mul, return x * y;)
BINARY_FN(Div, return x / y;)
BINARY_FN(DivTrunc, if constexpr (is_float_v<A>) return trunc(x / y); else return (A)idiv_trunc(x, y, p);)
BINARY_FN(DivFloor, if constexpr (is_float_v<A>) return floordiv(x, y); else return (A)idiv_floor(x, y, p);)
BINARY_FN(Pow, if constexpr (is_float_v<A>) return pow(x, y); else return (A)ct_ipow(x, y);)
// NaN-propagating: a NaN operand wins (comparisons with NaN are false).
BINARY_FN(Minimum, return x != x ? x : y != y ? y : (x < y ? x : y);)
BINARY_FN(Maximum, return x != x ? x : y != y ? y : (x > y ? x : y);)
BINARY_FN(Remainder, if constexpr (is_float_v<A>) return fremainder(x, y); else return (A)iremainder(x, y, p);)
BINARY_FN(Atan2, return atan2(x, y);)
// gelu'(y) = Phi(y) + y phi(y), times the incoming gradient x.
BINARY_FN(GeluBackward, return x * ((A)0.5 * (1 + erf(y * (A)0.70710678118654752440)) +
                                    y * (A)0.39894228040143267794 * exp((A)-0.5 * y * y));)
// With u = k (y + c y^3), t = tanh(u), k = sqrt(2/pi), c = 0.044715:
// gelu'(y) = (1 + t) / 2 + y (1 - t^2) k (1 + 3 c y^2) / 2.
BINARY_FN(GeluTanhBackward, const A t = tanh((A)0.79788456080286535588 * (y + (A)0.044715 * y * y * y));
          return x * ((A)0.5 * (1 + t) + (A)0.5 * y * (1 - t * t) * (A)0.79788456080286535588 *
                                             (1 + (A)3 * (A)0.044715 * y * y));)
BINARY_FN(ReluBackward, return y <= 0 ? (A)0 : x;)
BINARY_FN(Eq, return (A)(x == y);)
BINARY_FN(Ne, return (A)(x != y);)
BINARY_FN(Lt, return (A)(x < y);)
BINARY_FN(Le, return (A)(x <= y);)
BINARY_FN(Gt, return (A)(x > y);)
BINARY_FN(Ge, return (A)(x >= y);)
BINARY_FN(LogicalAnd, return (A)((x != 0) & (y != 0));)
BINARY_FN(LogicalOr, return (A)((x != 0) | (y != 0));)
BINARY_FN(LogicalXor, return (A)((x != 0) ^ (y != 0));)

UNARY_FN(Neg, return -x;)
UNARY_FN(Abs, if constexpr (is_float_v<A>) return fabs(x); else return x < 0 ? -x : x;)
UNARY_FN(Sign, return (A)((x > 0) - (x < 0));)
UNARY_FN(Square, return x * x;)
UNARY_FN(Relu, return x < 0 ? (A)0 : x;) // NaN stays NaN
// min first, then max, so min > max gives max everywhere (PyTorch); NaN passes through.
UNARY_FN(Clamp, const A lo = x < (A)p.p0 ? (A)p.p0 : x; return lo > (A)p.p1 ? (A)p.p1 : lo;)
UNARY_FN(Floor, return floor(x);)
UNARY_FN(Ceil, return ceil(x);)
UNARY_FN(Round, return rint(x);) // half to even
UNARY_FN(Trunc, return trunc(x);)
UNARY_FN(NanToNum, return x != x ? (A)p.p0 : x == (A)INFINITY ? (A)p.p1 : x == -(A)INFINITY ? (A)p.p2 : x;)
UNARY_FN(Sqrt, return sqrt(x);)
UNARY_FN(Rsqrt, return 1 / sqrt(x);)
UNARY_FN(Reciprocal, return 1 / x;)
UNARY_FN(Exp, return exp(x);)
UNARY_FN(Log, return log(x);)
UNARY_FN(Log2, return log2(x);)
UNARY_FN(Log1p, return log1p(x);)
UNARY_FN(Expm1, return expm1(x);)
UNARY_FN(Sin, return sin(x);)
UNARY_FN(Cos, return cos(x);)
UNARY_FN(Tan, return tan(x);)
UNARY_FN(Tanh, return tanh(x);)
UNARY_FN(Erf, return erf(x);)
UNARY_FN(Sigmoid, return 1 / (1 + exp(-x));)
UNARY_FN(Silu, return x / (1 + exp(-x));)
UNARY_FN(Gelu, return (A)0.5 * x * (1 + erf(x * (A)0.70710678118654752440));)
// sqrt(2/pi) * (x + 0.044715 x^3)
UNARY_FN(GeluTanh, return (A)0.5 * x * (1 + tanh((A)0.79788456080286535588 * (x + (A)0.044715 * x * x * x)));)
UNARY_FN(LeakyRelu, return x > 0 ? x : x * (A)p.p0;)
UNARY_FN(Elu, return x > 0 ? x : (A)p.p0 * expm1(x);)
// Linear above the threshold (beta * x > threshold), where log1p(exp) would overflow.
UNARY_FN(Softplus, return x * (A)p.p0 > (A)p.p1 ? x : log1p(exp(x * (A)p.p0)) / (A)p.p0;)
UNARY_FN(IsNan, return (A)(x != x);)
UNARY_FN(IsInf, return (A)(fabs(x) == (A)INFINITY);)
UNARY_FN(IsFinite, return (A)(x - x == 0);) // NaN and inf give NaN
UNARY_FN(LogicalNot, return (A)(x == 0);)

// ---- which dtypes each op has (the CPU table's rows) ----

enum Kinds { ALL, NUMERIC, FLOATS };

template <typename T> constexpr bool has_kernel(Kinds k) {
    constexpr bool floating = std::is_same<T, __half>::value || std::is_same<T, __nv_bfloat16>::value ||
                              std::is_floating_point<T>::value;
    return k == ALL || (k == NUMERIC && !std::is_same<T, bool>::value) || (k == FLOATS && floating);
}

// Instantiated only for the dtypes the op has (the others answer CT_CUDA_NO_KERNEL).
template <typename OutT, typename T, int NIN, typename F, Kinds K>
ct_cuda_status launch(const ct_cuda_iter *it, const void *const *host_value, const P &p, int device) {
    if constexpr (!has_kernel<T>(K)) {
        return CT_CUDA_NO_KERNEL;
    } else {
        F f;
        f.p = p;
        cudaError_t e = elementwise<OutT, T, NIN>(it, host_value, f, ct__cuda_stream(device), device);
        return ct__cuda_check("elementwise", device, e) ? CT_CUDA_OK : CT_CUDA_FAILED;
    }
}

template <typename T>
ct_cuda_status binary_for(int op, const ct_cuda_iter *it, const void *const *hv, const P &p, int device) {
    switch (op) {
#define SAME(code, F, kinds) \
    case code: return launch<T, T, 2, F, kinds>(it, hv, p, device);
#define TO_BOOL(code, F) \
    case code: return launch<bool, T, 2, F, ALL>(it, hv, p, device);
        SAME(CT_EW_ADD, Add, ALL)
        SAME(CT_EW_MUL, Mul, ALL)
        SAME(CT_EW_DIV, Div, FLOATS)
        SAME(CT_EW_DIV_TRUNC, DivTrunc, NUMERIC)
        SAME(CT_EW_DIV_FLOOR, DivFloor, NUMERIC)
        SAME(CT_EW_POW, Pow, NUMERIC)
        SAME(CT_EW_MINIMUM, Minimum, ALL)
        SAME(CT_EW_MAXIMUM, Maximum, ALL)
        SAME(CT_EW_REMAINDER, Remainder, NUMERIC)
        SAME(CT_EW_ATAN2, Atan2, FLOATS)
        SAME(CT_EW_GELU_BACKWARD, GeluBackward, FLOATS)
        SAME(CT_EW_GELU_TANH_BACKWARD, GeluTanhBackward, FLOATS)
        SAME(CT_EW_RELU_BACKWARD, ReluBackward, FLOATS)
        TO_BOOL(CT_EW_EQ, Eq)
        TO_BOOL(CT_EW_NE, Ne)
        TO_BOOL(CT_EW_LT, Lt)
        TO_BOOL(CT_EW_LE, Le)
        TO_BOOL(CT_EW_GT, Gt)
        TO_BOOL(CT_EW_GE, Ge)
        TO_BOOL(CT_EW_LOGICAL_AND, LogicalAnd)
        TO_BOOL(CT_EW_LOGICAL_OR, LogicalOr)
        TO_BOOL(CT_EW_LOGICAL_XOR, LogicalXor)
    default: return CT_CUDA_NO_KERNEL;
    }
}

template <typename T>
ct_cuda_status unary_for(int op, const ct_cuda_iter *it, const P &p, int device) {
    switch (op) {
#undef SAME
#undef TO_BOOL
#define SAME(code, F, kinds) \
    case code: return launch<T, T, 1, F, kinds>(it, nullptr, p, device);
#define TO_BOOL(code, F, kinds) \
    case code: return launch<bool, T, 1, F, kinds>(it, nullptr, p, device);
        SAME(CT_EW_NEG, Neg, NUMERIC)
        SAME(CT_EW_ABS, Abs, NUMERIC)
        SAME(CT_EW_SIGN, Sign, ALL)
        SAME(CT_EW_SQUARE, Square, NUMERIC)
        SAME(CT_EW_RELU, Relu, NUMERIC)
        SAME(CT_EW_CLAMP, Clamp, NUMERIC)
        SAME(CT_EW_FLOOR, Floor, FLOATS)
        SAME(CT_EW_CEIL, Ceil, FLOATS)
        SAME(CT_EW_ROUND, Round, FLOATS)
        SAME(CT_EW_TRUNC, Trunc, FLOATS)
        SAME(CT_EW_NAN_TO_NUM, NanToNum, FLOATS)
        SAME(CT_EW_SQRT, Sqrt, FLOATS)
        SAME(CT_EW_RSQRT, Rsqrt, FLOATS)
        SAME(CT_EW_RECIPROCAL, Reciprocal, FLOATS)
        SAME(CT_EW_EXP, Exp, FLOATS)
        SAME(CT_EW_LOG, Log, FLOATS)
        SAME(CT_EW_LOG2, Log2, FLOATS)
        SAME(CT_EW_LOG1P, Log1p, FLOATS)
        SAME(CT_EW_EXPM1, Expm1, FLOATS)
        SAME(CT_EW_SIN, Sin, FLOATS)
        SAME(CT_EW_COS, Cos, FLOATS)
        SAME(CT_EW_TAN, Tan, FLOATS)
        SAME(CT_EW_TANH, Tanh, FLOATS)
        SAME(CT_EW_ERF, Erf, FLOATS)
        SAME(CT_EW_SIGMOID, Sigmoid, FLOATS)
        SAME(CT_EW_SILU, Silu, FLOATS)
        SAME(CT_EW_GELU, Gelu, FLOATS)
        SAME(CT_EW_GELU_TANH, GeluTanh, FLOATS)
        SAME(CT_EW_LEAKY_RELU, LeakyRelu, FLOATS)
        SAME(CT_EW_ELU, Elu, FLOATS)
        SAME(CT_EW_SOFTPLUS, Softplus, FLOATS)
        TO_BOOL(CT_EW_ISNAN, IsNan, FLOATS)
        TO_BOOL(CT_EW_ISINF, IsInf, FLOATS)
        TO_BOOL(CT_EW_ISFINITE, IsFinite, FLOATS)
        TO_BOOL(CT_EW_LOGICAL_NOT, LogicalNot, ALL)
#undef SAME
#undef TO_BOOL
    default: return CT_CUDA_NO_KERNEL;
    }
}

bool is_integral_dtype(int dt) { return dt >= 1 && dt <= 3; }

bool raises_zero_division(int op, int dt) {
    return is_integral_dtype(dt) && (op == CT_EW_DIV_TRUNC || op == CT_EW_DIV_FLOOR || op == CT_EW_REMAINDER);
}

// where: out = cond ? a : b, moved as raw bits of the element size.
template <typename T>
__global__ void __launch_bounds__(kThreads) where_kernel(OffsetCalc<4> oc, ct_cuda_iter_ptrs ptrs, int64_t n) {
    for (int64_t i = thread_index(), step = thread_count(); i < n; i += step) {
        int64_t off[4];
        oc.get<uint64_t>(i, off);
        const bool c = *(const bool *)(ptrs.p[1] + off[1]);
        *(T *)(ptrs.p[0] + off[0]) = *(const T *)(ptrs.p[c ? 2 : 3] + off[c ? 2 : 3]);
    }
}

__global__ void __launch_bounds__(kThreads) all_true_kernel(OffsetCalc<1> oc, const char *data, int64_t n, int *all) {
    for (int64_t i = thread_index(), step = thread_count(); i < n; i += step) {
        int64_t off[1];
        oc.get<uint64_t>(i, off);
        if (!*(const bool *)(data + off[0])) {
            *all = 0;
            return;
        }
    }
}

} // namespace

extern "C" ct_cuda_status ct__cuda_ew_binary(int op, int dtype, const ct_cuda_iter *it, const void *const *host_value,
                                             const ct_cuda_ew_args *args, int device, bool *zero_division) {
    *zero_division = false;
    P p = {args->alpha, args->p0, args->p1, args->p2, nullptr};
    const bool flagged = raises_zero_division(op, dtype) && it->numel > 0;
    if (flagged) {
        p.zero_division = (int *)ct__cuda_alloc(sizeof(int), device);
        if (!p.zero_division) return CT_CUDA_FAILED;
        if (!ct__cuda_check("elementwise", device, cudaMemsetAsync(p.zero_division, 0, sizeof(int), ct__cuda_stream(device)))) {
            ct__cuda_free(p.zero_division, device);
            return CT_CUDA_FAILED;
        }
    }
    ct_cuda_status s;
    CT_CUDA_DISPATCH_DTYPE(dtype, T, s = binary_for<T>(op, it, host_value, p, device); break;)
    if (flagged) {
        int flag = 0;
        cudaStream_t stream = ct__cuda_stream(device);
        if (s == CT_CUDA_OK &&
            (!ct__cuda_check("elementwise", device,
                             cudaMemcpyAsync(&flag, p.zero_division, sizeof flag, cudaMemcpyDeviceToHost, stream)) ||
             !ct__cuda_check("elementwise", device, cudaStreamSynchronize(stream))))
            s = CT_CUDA_FAILED;
        *zero_division = flag != 0;
        ct__cuda_free(p.zero_division, device);
    }
    return s;
}

extern "C" ct_cuda_status ct__cuda_ew_unary(int op, int dtype, const ct_cuda_iter *it, const ct_cuda_ew_args *args,
                                            int device) {
    P p = {args->alpha, args->p0, args->p1, args->p2, nullptr};
    CT_CUDA_DISPATCH_DTYPE(dtype, T, return unary_for<T>(op, it, p, device);)
}

extern "C" ct_cuda_status ct__cuda_where(const ct_cuda_iter *it, size_t elem_size, int device) {
    const int64_t n = it->numel;
    if (n == 0) return CT_CUDA_OK;
    OffsetCalc<4> oc = offset_calc<4>(it, 0);
    ct_cuda_iter_ptrs ptrs;
    for (int k = 0; k < 4; k++) ptrs.p[k] = it->data[k];
    cudaStream_t s = ct__cuda_stream(device);
    unsigned g = grid_for(n, device);
    switch (elem_size) {
    case 1: where_kernel<uint8_t><<<g, kThreads, 0, s>>>(oc, ptrs, n); break;
    case 2: where_kernel<uint16_t><<<g, kThreads, 0, s>>>(oc, ptrs, n); break;
    case 4: where_kernel<uint32_t><<<g, kThreads, 0, s>>>(oc, ptrs, n); break;
    default: where_kernel<uint64_t><<<g, kThreads, 0, s>>>(oc, ptrs, n); break;
    }
    return ct__cuda_check("where", device, cudaGetLastError()) ? CT_CUDA_OK : CT_CUDA_FAILED;
}

extern "C" ct_cuda_status ct__cuda_all_true(const ct_cuda_iter *it, int device, bool *result) {
    *result = true;
    if (it->numel == 0) return CT_CUDA_OK;
    int *flag = (int *)ct__cuda_alloc(sizeof(int), device);
    if (!flag) return CT_CUDA_FAILED;
    cudaStream_t s = ct__cuda_stream(device);
    const int one = 1;
    int all = 0;
    bool ok = ct__cuda_check("all_true", device, cudaMemcpyAsync(flag, &one, sizeof one, cudaMemcpyHostToDevice, s));
    if (ok) {
        all_true_kernel<<<grid_for(it->numel, device), kThreads, 0, s>>>(offset_calc<1>(it, 0), it->data[0], it->numel, flag);
        ok = ct__cuda_check("all_true", device, cudaGetLastError()) &&
             ct__cuda_check("all_true", device, cudaMemcpyAsync(&all, flag, sizeof all, cudaMemcpyDeviceToHost, s)) &&
             ct__cuda_check("all_true", device, cudaStreamSynchronize(s));
    }
    ct__cuda_free(flag, device);
    *result = all != 0;
    return ok ? CT_CUDA_OK : CT_CUDA_FAILED;
}
