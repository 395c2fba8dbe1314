/* Element types as C types, and the conversions of the two 16-bit floats. */
#ifndef CTORCH_DTYPE_IMPL_H
#define CTORCH_DTYPE_IMPL_H

#include "ctorch/tensor.h"
#include <string.h>

typedef uint16_t ct_half; /* IEEE binary16 bits */
typedef uint16_t ct_bf16; /* bfloat16 bits: the top half of a binary32 */

static inline float ct_half_to_float(ct_half h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13); /* inf, nan */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13); /* rebias 15 -> 127 */
    } else if (mant == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        int shift = 0;
        while (!(mant & 0x400)) { mant <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest even, as the hardware conversion does. */
static inline ct_half ct_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan (keep a quiet nan) */
        return (ct_half)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    if (absx >= 0x477ff000u) return (ct_half)(sign | 0x7c00); /* rounds to >= 65520: inf */
    if (absx < 0x38800000u) { /* below 2^-14: subnormal half or zero */
        if (absx < 0x33000000u) return (ct_half)sign;
        uint32_t mant = (absx & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(absx >> 23); /* value = mant * 2^-24 >> shift, shift in [14, 24] */
        uint32_t half_mant = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_mant & 1))) half_mant++;
        return (ct_half)(sign | half_mant);
    }
    uint32_t h = ((absx - 0x38000000u) >> 13); /* rebias 127 -> 15, drop 13 bits */
    uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (ct_half)(sign | h);
}

static inline float ct_bf16_to_float(ct_bf16 b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline ct_bf16 ct_float_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (ct_bf16)((x >> 16) | 0x40); /* quiet nan */
    x += 0x7fff + ((x >> 16) & 1); /* round to nearest even */
    return (ct_bf16)(x >> 16);
}

/* X-macro over dtypes: X(enum, C storage type, name). */
#define CT_FOR_EACH_DTYPE(X)                                                                    \
    X(CT_BOOL, bool, b8)                                                                      \
    X(CT_U8, uint8_t, u8)                                                                       \
    X(CT_I32, int32_t, i32)                                                                     \
    X(CT_I64, int64_t, i64)                                                                     \
    X(CT_F16, ct_half, f16)                                                                     \
    X(CT_BF16, ct_bf16, bf16)                                                                   \
    X(CT_F32, float, f32)                                                                       \
    X(CT_F64, double, f64)

/* Reading and writing one element of any dtype as double (slow paths, printing, tests). */
static inline double ct__load_f64(const void *p, ct_dtype dtype) {
    switch (dtype) {
    case CT_BOOL: return *(const bool *)p;
    case CT_U8: return *(const uint8_t *)p;
    case CT_I32: return *(const int32_t *)p;
    case CT_I64: return (double)*(const int64_t *)p;
    case CT_F16: return ct_half_to_float(*(const ct_half *)p);
    case CT_BF16: return ct_bf16_to_float(*(const ct_bf16 *)p);
    case CT_F32: return *(const float *)p;
    case CT_F64: return *(const double *)p;
    default: return 0;
    }
}

/* Float-to-integer conversion of values out of range is undefined in C; saturate instead
 * (NaN becomes 0), which is what PyTorch's CPU kernels produce on x86 for in-range values. */
static inline int64_t ct__f64_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}

static inline void ct__store_f64(void *p, ct_dtype dtype, double v) {
    switch (dtype) {
    case CT_BOOL: *(bool *)p = v != 0; break;
    case CT_U8: *(uint8_t *)p = (uint8_t)ct__f64_to_i64(v); break;
    case CT_I32: *(int32_t *)p = (int32_t)ct__f64_to_i64(v); break;
    case CT_I64: *(int64_t *)p = ct__f64_to_i64(v); break;
    case CT_F16: *(ct_half *)p = ct_float_to_half((float)v); break;
    case CT_BF16: *(ct_bf16 *)p = ct_float_to_bf16((float)v); break;
    case CT_F32: *(float *)p = (float)v; break;
    case CT_F64: *(double *)p = v; break;
    default: break;
    }
}

#endif /* CTORCH_DTYPE_IMPL_H */
