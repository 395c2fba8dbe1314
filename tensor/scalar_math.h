/* Scalar formulas the CPU loops (cpu/elementwise_cpu.c) and the CUDA functors
 * (cuda/elementwise_cuda.cu) share, so both devices compute the same expressions: integer
 * division, remainder and power with PyTorch's semantics, and Python's floor division and modulo
 * on floats. Plain C, and host/device functions under nvcc.
 *
 * The integer forms take a non-zero divisor: each caller reports a zero divisor its own way
 * (an atomic flag on the CPU, a device flag on CUDA) and yields 0, as PyTorch raises
 * ZeroDivisionError. INT64_MIN / -1 wraps instead of trapping. */
#ifndef CTORCH_SCALAR_MATH_H
#define CTORCH_SCALAR_MATH_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define CT_SCALAR_FN static __host__ __device__ __forceinline__
#else
#define CT_SCALAR_FN static inline
#endif

CT_SCALAR_FN int64_t ct_idiv_trunc(int64_t x, int64_t y) {
    return y == -1 ? (int64_t)(0 - (uint64_t)x) : x / y;
}
CT_SCALAR_FN int64_t ct_idiv_floor(int64_t x, int64_t y) {
    if (y == -1) return (int64_t)(0 - (uint64_t)x);
    int64_t q = x / y;
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}
/* The remainder takes the divisor's sign (Python's %). */
CT_SCALAR_FN int64_t ct_iremainder(int64_t x, int64_t y) {
    if (y == -1) return 0;
    int64_t r = x % y;
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}
/* Integer powers by squaring; negative exponents give 0 except for bases 1 and -1 (PyTorch). */
CT_SCALAR_FN int64_t ct_ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t result = 1, b = (uint64_t)base;
    while (e) {
        if (e & 1) result *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)result;
}

/* Python's floor division and modulo on floats, as PyTorch computes them; ct_floordiv_f/_d and
 * ct_fremainder_f/_d (the float forms call the float math functions explicitly). */
#define CT__FLOAT_DIVISION(A, sfx, FMOD, FLOOR, COPYSIGN)                                          \
    CT_SCALAR_FN A ct_floordiv_##sfx(A a, A b) {                                                   \
        if (b == 0) return a / b;                                                                  \
        A mod = FMOD(a, b), div = (a - mod) / b;                                                   \
        if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;                                          \
        if (div == 0) return COPYSIGN((A)0, a / b);                                                \
        A fd = FLOOR(div);                                                                         \
        return div - fd > (A)0.5 ? fd + 1 : fd;                                                    \
    }                                                                                              \
    CT_SCALAR_FN A ct_fremainder_##sfx(A a, A b) {                                                 \
        A r = FMOD(a, b);                                                                          \
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;                                       \
    }
CT__FLOAT_DIVISION(float, f, fmodf, floorf, copysignf)
CT__FLOAT_DIVISION(double, d, fmod, floor, copysign)
#undef CT__FLOAT_DIVISION

#endif /* CTORCH_SCALAR_MATH_H */
