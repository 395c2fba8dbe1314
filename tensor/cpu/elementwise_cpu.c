/* CPU elementwise loops. Macros generate one loop per (op, compute dtype); each loop has a dense
 * path the compiler vectorizes, paths where one input is a broadcast scalar (stride 0), and a
 * strided fallback. 16-bit floats load into float, compute there and round once on store. */
#include "../elementwise_impl.h"
#include "../scalar_math.h"
#include "vec_math.h"

#include <tgmath.h> /* sqrt(x) on a float calls sqrtf: one expression serves float and double */

/* Storage type T, arithmetic type A, load and store for each compute dtype. */
#define T_b8 bool
#define A_b8 int32_t
#define LD_b8(x) ((int32_t)(x))
#define ST_b8(v) ((v) != 0)
#define T_u8 uint8_t
#define A_u8 int32_t
#define LD_u8(x) ((int32_t)(x))
#define ST_u8(v) ((uint8_t)(v))
#define T_i32 int32_t
#define A_i32 int32_t
#define LD_i32(x) (x)
#define ST_i32(v) ((int32_t)(v))
#define T_i64 int64_t
#define A_i64 int64_t
#define LD_i64(x) (x)
#define ST_i64(v) ((int64_t)(v))
#define T_f16 ct_half
#define A_f16 float
#define LD_f16(x) ct_half_to_float(x)
#define ST_f16(v) ct_float_to_half(v)
#define T_bf16 ct_bf16
#define A_bf16 float
#define LD_bf16(x) ct_bf16_to_float(x)
#define ST_bf16(v) ct_float_to_bf16(v)
#define T_f32 float
#define A_f32 float
#define LD_f32(x) (x)
#define ST_f32(v) ((float)(v))
#define T_f64 double
#define A_f64 double
#define LD_f64(x) (x)
#define ST_f64(v) ((double)(v))

#define BOOL_OUT(v) ((bool)(v))

/* ---- scalar helpers ------------------------------------------------------------------------ */

static inline void zero_division(ct_ew_params *p) { atomic_store_explicit(&p->zero_division, 1, memory_order_relaxed); }

/* Integer division and remainder (scalar_math.h), computed in int64 for every integer dtype; a
 * zero divisor is reported and gives 0. */
static inline int64_t idiv_trunc(int64_t x, int64_t y, ct_ew_params *p) {
    return y ? ct_idiv_trunc(x, y) : (zero_division(p), 0);
}
static inline int64_t idiv_floor(int64_t x, int64_t y, ct_ew_params *p) {
    return y ? ct_idiv_floor(x, y) : (zero_division(p), 0);
}
static inline int64_t iremainder(int64_t x, int64_t y, ct_ew_params *p) {
    return y ? ct_iremainder(x, y) : (zero_division(p), 0);
}

/* Python's floor division and modulo on floats (scalar_math.h), by the compute type's suffix. */
#define FSFX_f16 f
#define FSFX_bf16 f
#define FSFX_f32 f
#define FSFX_f64 d
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FLOORDIV(dn) CAT(ct_floordiv_, FSFX_##dn)
#define REMAINDER(dn) CAT(ct_fremainder_, FSFX_##dn)

/* ---- loop generators --------------------------------------------------------------------------- */

/* Binary: operands (out, a, b); expr uses x, y (type A), alpha and P. */
#define BIN_LOOP(op, dn, OT, OST, expr)                                                            \
    static void bin_##op##_##dn(char **data, const int64_t *s, int64_t n, void *ctx) {             \
        typedef T_##dn T;                                                                          \
        typedef A_##dn A;                                                                          \
        ct_ew_params *P = ctx;                                                                     \
        const A alpha = (A)P->alpha;                                                               \
        (void)alpha;                                                                               \
        if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                        \
            OT *restrict o = (OT *)data[0];                                                        \
            const T *restrict pa = (const T *)data[1], *restrict pb = (const T *)data[2];          \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const A x = LD_##dn(pa[i]), y = LD_##dn(pb[i]);                                    \
                o[i] = OST(expr);                                                                  \
            }                                                                                      \
        } else if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == 0) {                         \
            OT *restrict o = (OT *)data[0];                                                        \
            const T *restrict pa = (const T *)data[1];                                             \
            const A y = LD_##dn(*(const T *)data[2]);                                              \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const A x = LD_##dn(pa[i]);                                                        \
                o[i] = OST(expr);                                                                  \
            }                                                                                      \
        } else if (s[0] == sizeof(OT) && s[1] == 0 && s[2] == sizeof(T)) {                         \
            OT *restrict o = (OT *)data[0];                                                        \
            const T *restrict pb = (const T *)data[2];                                             \
            const A x = LD_##dn(*(const T *)data[1]);                                              \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const A y = LD_##dn(pb[i]);                                                        \
                o[i] = OST(expr);                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            char *po = data[0];                                                                    \
            const char *pa = data[1], *pb = data[2];                                               \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {                  \
                const A x = LD_##dn(*(const T *)pa), y = LD_##dn(*(const T *)pb);                  \
                *(OT *)po = OST(expr);                                                             \
            }                                                                                      \
        }                                                                                          \
    }

/* Unary: operands (out, in); expr uses x (type A) and the double parameters p0, p1, p2. */
#define UN_LOOP(op, dn, OT, OST, expr)                                                             \
    static void un_##op##_##dn(char **data, const int64_t *s, int64_t n, void *ctx) {              \
        typedef T_##dn T;                                                                          \
        typedef A_##dn A;                                                                          \
        const ct_ew_params *P = ctx;                                                               \
        const double p0 = P->p0, p1 = P->p1, p2 = P->p2;                                           \
        (void)p0, (void)p1, (void)p2;                                                              \
        if (s[0] == sizeof(OT) && s[1] == sizeof(T)) {                                             \
            OT *restrict o = (OT *)data[0];                                                        \
            const T *restrict pa = (const T *)data[1];                                             \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const A x = LD_##dn(pa[i]);                                                        \
                o[i] = OST(expr);                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            char *po = data[0];                                                                    \
            const char *pa = data[1];                                                              \
            for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                              \
                const A x = LD_##dn(*(const T *)pa);                                               \
                *(OT *)po = OST(expr);                                                             \
            }                                                                                      \
        }                                                                                          \
    }

/* Same-dtype result: the store is the dtype's own. */
#define BIN_SAME(op, dn, expr) BIN_LOOP(op, dn, T_##dn, ST_##dn, expr)
#define BIN_BOOL(op, dn, expr) BIN_LOOP(op, dn, bool, BOOL_OUT, expr)
#define UN_SAME(op, dn, expr) UN_LOOP(op, dn, T_##dn, ST_##dn, expr)
#define UN_BOOL(op, dn, expr) UN_LOOP(op, dn, bool, BOOL_OUT, expr)

#define FOR_FLOATS(M, ...) M(f16, __VA_ARGS__) M(bf16, __VA_ARGS__) M(f32, __VA_ARGS__) M(f64, __VA_ARGS__)
#define FOR_INTS(M, ...) M(u8, __VA_ARGS__) M(i32, __VA_ARGS__) M(i64, __VA_ARGS__)
#define FOR_ALL(M, ...) M(b8, __VA_ARGS__) FOR_INTS(M, __VA_ARGS__) FOR_FLOATS(M, __VA_ARGS__)
#define FOR_NUMERIC(M, ...) FOR_INTS(M, __VA_ARGS__) FOR_FLOATS(M, __VA_ARGS__)

/* Argument order adapters for FOR_*: M(dn, op, expr). */
#define G_BIN_SAME(dn, op, expr) BIN_SAME(op, dn, expr)
#define G_BIN_BOOL(dn, op, expr) BIN_BOOL(op, dn, expr)
#define G_UN_SAME(dn, op, expr) UN_SAME(op, dn, expr)
#define G_UN_BOOL(dn, op, expr) UN_BOOL(op, dn, expr)

/* ---- binary loops ------------------------------------------------------------------------------ */

FOR_ALL(G_BIN_SAME, add, x + alpha * y)
FOR_ALL(G_BIN_SAME, mul, x * y)
FOR_FLOATS(G_BIN_SAME, div, x / y)
FOR_FLOATS(G_BIN_SAME, div_trunc, trunc(x / y))
FOR_INTS(G_BIN_SAME, div_trunc, idiv_trunc(x, y, P))
#define G_FLOORDIV(dn, op) BIN_SAME(op, dn, FLOORDIV(dn)(x, y))
#define G_REMAINDER(dn, op) BIN_SAME(op, dn, REMAINDER(dn)(x, y))
FOR_FLOATS(G_FLOORDIV, div_floor)
FOR_INTS(G_BIN_SAME, div_floor, idiv_floor(x, y, P))
FOR_FLOATS(G_BIN_SAME, pow, pow(x, y))
FOR_INTS(G_BIN_SAME, pow, ct_ipow(x, y))
/* NaN-propagating min/max: a NaN operand wins (comparisons with NaN are false). */
FOR_ALL(G_BIN_SAME, minimum, x != x ? x : y != y ? y : (x < y ? x : y))
FOR_ALL(G_BIN_SAME, maximum, x != x ? x : y != y ? y : (x > y ? x : y))
FOR_FLOATS(G_REMAINDER, remainder)
FOR_INTS(G_BIN_SAME, remainder, iremainder(x, y, P))
FOR_FLOATS(G_BIN_SAME, atan2, atan2(x, y))
/* relu's gradient (PyTorch's threshold_backward): 0 where the output y <= 0, else x (NaN passes x). */
FOR_FLOATS(G_BIN_SAME, relu_backward, y <= 0 ? (A)0 : x)
/* gelu'(y) = Phi(y) + y phi(y), times the incoming gradient x. */
FOR_FLOATS(G_BIN_SAME, gelu_backward,
           x * ((A)0.5 * (1 + erf(y * (A)0.70710678118654752440)) + y * (A)0.39894228040143267794 * exp((A)-0.5 * y * y)))
/* With u = k (y + c y^3), t = tanh(u), k = sqrt(2/pi), c = 0.044715:
 * gelu'(y) = (1 + t) / 2 + y (1 - t^2) k (1 + 3 c y^2) / 2. */
#define GELU_TANH_GRAD(tanh_fn)                                                                  \
    x * ((A)0.5 * (1 + tanh_fn((A)0.79788456080286535588 * (y + (A)0.044715 * y * y * y))) +     \
         (A)0.5 * y * (1 - tanh_fn((A)0.79788456080286535588 * (y + (A)0.044715 * y * y * y)) *  \
                               tanh_fn((A)0.79788456080286535588 * (y + (A)0.044715 * y * y * y))) * \
             (A)0.79788456080286535588 * (1 + (A)3 * (A)0.044715 * y * y))
BIN_SAME(gelu_tanh_backward, f16, GELU_TANH_GRAD(tanh))
BIN_SAME(gelu_tanh_backward, bf16, GELU_TANH_GRAD(tanh))
BIN_SAME(gelu_tanh_backward, f32, GELU_TANH_GRAD(ct__tanhf))
BIN_SAME(gelu_tanh_backward, f64, GELU_TANH_GRAD(tanh))
FOR_ALL(G_BIN_BOOL, eq, x == y)
FOR_ALL(G_BIN_BOOL, ne, x != y)
FOR_ALL(G_BIN_BOOL, lt, x < y)
FOR_ALL(G_BIN_BOOL, le, x <= y)
FOR_ALL(G_BIN_BOOL, gt, x > y)
FOR_ALL(G_BIN_BOOL, ge, x >= y)
FOR_ALL(G_BIN_BOOL, logical_and, (x != 0) & (y != 0))
FOR_ALL(G_BIN_BOOL, logical_or, (x != 0) | (y != 0))
FOR_ALL(G_BIN_BOOL, logical_xor, (x != 0) ^ (y != 0))

/* ---- unary loops ------------------------------------------------------------------------------- */

FOR_NUMERIC(G_UN_SAME, neg, -x)
FOR_INTS(G_UN_SAME, abs, x < 0 ? -x : x)
FOR_FLOATS(G_UN_SAME, abs, fabs(x))
FOR_ALL(G_UN_SAME, sign, (A)((x > 0) - (x < 0)))
FOR_NUMERIC(G_UN_SAME, square, x * x)
FOR_NUMERIC(G_UN_SAME, relu, x < 0 ? (A)0 : x) /* NaN stays NaN */
/* min first, then max, so min > max gives max everywhere (PyTorch); NaN passes through. */
FOR_NUMERIC(G_UN_SAME, clamp, (x < (A)p0 ? (A)p0 : x) > (A)p1 ? (A)p1 : (x < (A)p0 ? (A)p0 : x))
FOR_FLOATS(G_UN_SAME, floor, floor(x))
FOR_FLOATS(G_UN_SAME, ceil, ceil(x))
FOR_FLOATS(G_UN_SAME, round, rint(x)) /* default rounding mode: half to even */
FOR_FLOATS(G_UN_SAME, trunc, trunc(x))
FOR_FLOATS(G_UN_SAME, nan_to_num, x != x ? (A)p0 : x == (A)INFINITY ? (A)p1 : x == -(A)INFINITY ? (A)p2 : x)
FOR_FLOATS(G_UN_SAME, sqrt, sqrt(x))
FOR_FLOATS(G_UN_SAME, rsqrt, 1 / sqrt(x))
FOR_FLOATS(G_UN_SAME, reciprocal, 1 / x)
/* f32 exp-based ops (exp, sigmoid, silu, tanh, gelu_tanh) use the vectorizable float math of
 * vec_math.h (about 1-2 ulp); other dtypes use libm. */
UN_SAME(exp, f16, exp(x))
UN_SAME(exp, bf16, exp(x))
UN_SAME(exp, f32, ct__expf(x))
UN_SAME(exp, f64, exp(x))
FOR_FLOATS(G_UN_SAME, log, log(x))
FOR_FLOATS(G_UN_SAME, log2, log2(x))
FOR_FLOATS(G_UN_SAME, log1p, log1p(x))
FOR_FLOATS(G_UN_SAME, expm1, expm1(x))
FOR_FLOATS(G_UN_SAME, sin, sin(x))
FOR_FLOATS(G_UN_SAME, cos, cos(x))
FOR_FLOATS(G_UN_SAME, tan, tan(x))
UN_SAME(tanh, f16, tanh(x))
UN_SAME(tanh, bf16, tanh(x))
UN_SAME(tanh, f32, ct__tanhf(x))
UN_SAME(tanh, f64, tanh(x))
FOR_FLOATS(G_UN_SAME, erf, erf(x))
UN_SAME(sigmoid, f16, 1 / (1 + exp(-x)))
UN_SAME(sigmoid, bf16, 1 / (1 + exp(-x)))
UN_SAME(sigmoid, f32, 1 / (1 + ct__expf(-x)))
UN_SAME(sigmoid, f64, 1 / (1 + exp(-x)))
UN_SAME(silu, f16, x / (1 + exp(-x)))
UN_SAME(silu, bf16, x / (1 + exp(-x)))
UN_SAME(silu, f32, x / (1 + ct__expf(-x)))
UN_SAME(silu, f64, x / (1 + exp(-x)))
FOR_FLOATS(G_UN_SAME, gelu, (A)0.5 * x * (1 + erf(x * (A)0.70710678118654752440)))
/* sqrt(2/pi) * (x + 0.044715 x^3) */
#define GELU_TANH(tanh_fn) (A)0.5 * x * (1 + tanh_fn((A)0.79788456080286535588 * (x + (A)0.044715 * x * x * x)))
UN_SAME(gelu_tanh, f16, GELU_TANH(tanh))
UN_SAME(gelu_tanh, bf16, GELU_TANH(tanh))
UN_SAME(gelu_tanh, f32, GELU_TANH(ct__tanhf))
UN_SAME(gelu_tanh, f64, GELU_TANH(tanh))
FOR_FLOATS(G_UN_SAME, leaky_relu, x > 0 ? x : x * (A)p0)
FOR_FLOATS(G_UN_SAME, elu, x > 0 ? x : (A)p0 * expm1(x))
/* Linear above the threshold (beta * x > threshold), where log1p(exp) would overflow. */
FOR_FLOATS(G_UN_SAME, softplus, x * (A)p0 > (A)p1 ? x : log1p(exp(x * (A)p0)) / (A)p0)
FOR_FLOATS(G_UN_BOOL, isnan, x != x)
FOR_FLOATS(G_UN_BOOL, isinf, fabs(x) == (A)INFINITY)
FOR_FLOATS(G_UN_BOOL, isfinite, x - x == 0) /* NaN and inf give NaN */
FOR_ALL(G_UN_BOOL, logical_not, x == 0)

/* ---- tables ---------------------------------------------------------------------------------- */

#define E(pfx, op, dn, DT) [DT] = pfx##_##op##_##dn,
#define E_FLOATS(pfx, op) E(pfx, op, f16, CT_F16) E(pfx, op, bf16, CT_BF16) E(pfx, op, f32, CT_F32) E(pfx, op, f64, CT_F64)
#define E_INTS(pfx, op) E(pfx, op, u8, CT_U8) E(pfx, op, i32, CT_I32) E(pfx, op, i64, CT_I64)
#define E_NUMERIC(pfx, op) E_INTS(pfx, op) E_FLOATS(pfx, op)
#define E_ALL(pfx, op) E(pfx, op, b8, CT_BOOL) E_NUMERIC(pfx, op)

static const ct_loop_fn binary_loops[CT_EW_NUM_BINARY][CT_NUM_DTYPES] = {
    [CT_EW_ADD] = {E_ALL(bin, add)},
    [CT_EW_MUL] = {E_ALL(bin, mul)},
    [CT_EW_DIV] = {E_FLOATS(bin, div)},
    [CT_EW_DIV_TRUNC] = {E_NUMERIC(bin, div_trunc)},
    [CT_EW_DIV_FLOOR] = {E_NUMERIC(bin, div_floor)},
    [CT_EW_POW] = {E_NUMERIC(bin, pow)},
    [CT_EW_MINIMUM] = {E_ALL(bin, minimum)},
    [CT_EW_MAXIMUM] = {E_ALL(bin, maximum)},
    [CT_EW_REMAINDER] = {E_NUMERIC(bin, remainder)},
    [CT_EW_ATAN2] = {E_FLOATS(bin, atan2)},
    [CT_EW_GELU_BACKWARD] = {E_FLOATS(bin, gelu_backward)},
    [CT_EW_GELU_TANH_BACKWARD] = {E_FLOATS(bin, gelu_tanh_backward)},
    [CT_EW_RELU_BACKWARD] = {E_FLOATS(bin, relu_backward)},
    [CT_EW_EQ] = {E_ALL(bin, eq)},
    [CT_EW_NE] = {E_ALL(bin, ne)},
    [CT_EW_LT] = {E_ALL(bin, lt)},
    [CT_EW_LE] = {E_ALL(bin, le)},
    [CT_EW_GT] = {E_ALL(bin, gt)},
    [CT_EW_GE] = {E_ALL(bin, ge)},
    [CT_EW_LOGICAL_AND] = {E_ALL(bin, logical_and)},
    [CT_EW_LOGICAL_OR] = {E_ALL(bin, logical_or)},
    [CT_EW_LOGICAL_XOR] = {E_ALL(bin, logical_xor)},
};

static const ct_loop_fn unary_loops[CT_EW_NUM_UNARY][CT_NUM_DTYPES] = {
    [CT_EW_NEG] = {E_NUMERIC(un, neg)},
    [CT_EW_ABS] = {E_NUMERIC(un, abs)},
    [CT_EW_SIGN] = {E_ALL(un, sign)},
    [CT_EW_SQUARE] = {E_NUMERIC(un, square)},
    [CT_EW_RELU] = {E_NUMERIC(un, relu)},
    [CT_EW_CLAMP] = {E_NUMERIC(un, clamp)},
    [CT_EW_FLOOR] = {E_FLOATS(un, floor)},
    [CT_EW_CEIL] = {E_FLOATS(un, ceil)},
    [CT_EW_ROUND] = {E_FLOATS(un, round)},
    [CT_EW_TRUNC] = {E_FLOATS(un, trunc)},
    [CT_EW_NAN_TO_NUM] = {E_FLOATS(un, nan_to_num)},
    [CT_EW_SQRT] = {E_FLOATS(un, sqrt)},
    [CT_EW_RSQRT] = {E_FLOATS(un, rsqrt)},
    [CT_EW_RECIPROCAL] = {E_FLOATS(un, reciprocal)},
    [CT_EW_EXP] = {E_FLOATS(un, exp)},
    [CT_EW_LOG] = {E_FLOATS(un, log)},
    [CT_EW_LOG2] = {E_FLOATS(un, log2)},
    [CT_EW_LOG1P] = {E_FLOATS(un, log1p)},
    [CT_EW_EXPM1] = {E_FLOATS(un, expm1)},
    [CT_EW_SIN] = {E_FLOATS(un, sin)},
    [CT_EW_COS] = {E_FLOATS(un, cos)},
    [CT_EW_TAN] = {E_FLOATS(un, tan)},
    [CT_EW_TANH] = {E_FLOATS(un, tanh)},
    [CT_EW_ERF] = {E_FLOATS(un, erf)},
    [CT_EW_SIGMOID] = {E_FLOATS(un, sigmoid)},
    [CT_EW_SILU] = {E_FLOATS(un, silu)},
    [CT_EW_GELU] = {E_FLOATS(un, gelu)},
    [CT_EW_GELU_TANH] = {E_FLOATS(un, gelu_tanh)},
    [CT_EW_LEAKY_RELU] = {E_FLOATS(un, leaky_relu)},
    [CT_EW_ELU] = {E_FLOATS(un, elu)},
    [CT_EW_SOFTPLUS] = {E_FLOATS(un, softplus)},
    [CT_EW_ISNAN] = {E_FLOATS(un, isnan)},
    [CT_EW_ISINF] = {E_FLOATS(un, isinf)},
    [CT_EW_ISFINITE] = {E_FLOATS(un, isfinite)},
    [CT_EW_LOGICAL_NOT] = {E_ALL(un, logical_not)},
};

static bool cpu_binary(ct_ew_binary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p) {
    ct_loop_fn loop = binary_loops[op][dtype];
    if (!loop) return false;
    ct_iter_run(it, loop, p, 0);
    return true;
}

static bool cpu_unary(ct_ew_unary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p) {
    ct_loop_fn loop = unary_loops[op][dtype];
    if (!loop) return false;
    ct_iter_run(it, loop, p, 0);
    return true;
}

/* ---- where ----------------------------------------------------------------------------------- */

#define WHERE_LOOP(T, bits)                                                                        \
    static void where_##bits(char **data, const int64_t *s, int64_t n, void *ctx) {                \
        (void)ctx;                                                                                 \
        if (s[0] == sizeof(T) && s[1] == 1 && s[2] == sizeof(T) && s[3] == sizeof(T)) {            \
            T *o = (T *)data[0];                                                                   \
            const bool *restrict c = (const bool *)data[1];                                        \
            const T *pa = (const T *)data[2], *pb = (const T *)data[3];                            \
            for (int64_t i = 0; i < n; i++) o[i] = c[i] ? pa[i] : pb[i];                           \
            return;                                                                                \
        }                                                                                          \
        char *po = data[0];                                                                        \
        const char *pc = data[1], *pa = data[2], *pb = data[3];                                    \
        for (int64_t i = 0; i < n; i++, po += s[0], pc += s[1], pa += s[2], pb += s[3])            \
            *(T *)po = *(const bool *)pc ? *(const T *)pa : *(const T *)pb;                        \
    }
WHERE_LOOP(uint8_t, 8)
WHERE_LOOP(uint16_t, 16)
WHERE_LOOP(uint32_t, 32)
WHERE_LOOP(uint64_t, 64)

static bool cpu_where(const ct_iter *it, size_t elem_size, int device) {
    (void)device;
    ct_loop_fn loop = elem_size == 1 ? where_8 : elem_size == 2 ? where_16 : elem_size == 4 ? where_32 : where_64;
    ct_iter_run(it, loop, NULL, 0);
    return true;
}

/* ---- all_true ---------------------------------------------------------------------------------- */

static void all_true_loop(char **data, const int64_t *s, int64_t n, void *ctx) {
    bool *all = ctx;
    const char *p = data[0];
    for (int64_t i = 0; i < n && *all; i++, p += s[0])
        if (!*(const bool *)p) *all = false;
}

static bool cpu_all_true(const ct_tensor *t) {
    ct_iter it;
    ct_shape shape = ct_shape_of(t);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){t}, &shape);
    bool all = true;
    ct_iter_run_range(&it, all_true_loop, &all, 0, it.numel);
    return all;
}

const ct_ew_kernels ct__ew_cpu_kernels = {
    .unary = cpu_unary,
    .binary = cpu_binary,
    .where = cpu_where,
    .all_true = cpu_all_true,
};
