/* Single-precision math the compiler can vectorize: straight-line code, selects instead of
 * branches, no libm calls. Used by the f32 softmax paths and f32 exp, sigmoid, silu, tanh, gelu. */
#ifndef CTORCH_VEC_MATH_H
#define CTORCH_VEC_MATH_H

#include <stdint.h>
#include <string.h>

/* 2^n for integer n in [-126, 127], built from the exponent bits. */
static inline float ct__pow2i_f32(int32_t n) {
    uint32_t bits = (uint32_t)(n + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* exp(x) in float, within about 1 ulp (Cephes expf's polynomial):
 *   n = round(x / ln2), r = x - n ln2 (ln2 split in two so n ln2 is exact), |r| <= ln2 / 2,
 *   exp(r) ~= 1 + r + r^2 P(r) with a degree-5 minimax P, then exp(x) = 2^n exp(r).
 * 2^n is applied as two halves so results down to the subnormal range stay right. Above
 * ln(FLT_MAX) the result is +inf, below -104 (under half the smallest subnormal) it is 0
 * (-inf -> 0), NaN stays NaN. */
static inline float ct__expf(float x) {
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    /* Clamped so n stays in [-150, 128]; NaN goes through as 0 (it is returned unchanged below),
     * so the float-to-int conversion never sees a NaN. */
    float xc = x < -104.0f ? -104.0f : x > 88.72283935546875f ? 88.72283935546875f : x == x ? x : 0.0f;
    float nf = (xc * log2e + round_magic) - round_magic;
    float r = xc - nf * ln2_hi;
    r = r - nf * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float er = p * (r * r) + r + 1.0f;
    int32_t n = (int32_t)nf, n1 = n / 2;
    float y = er * ct__pow2i_f32(n1) * ct__pow2i_f32(n - n1);
    y = x > 88.72283935546875f ? __builtin_inff() : y; /* ln(FLT_MAX) rounded up to a float */
    y = x < -104.0f ? 0.0f : y;
    return x != x ? x : y;
}

/* tanh(x) in float (Cephes tanhf, both branches computed and one selected so the loop vectorizes):
 *   |x| < 0.625:  x + x^3 P(x^2), an odd minimax polynomial (no cancellation near 0)
 *   otherwise:    sign(x) (1 - 2 / (exp(2|x|) + 1)), which saturates to +-1 and keeps NaN. */
static inline float ct__tanhf(float x) {
    float ax = x < 0 ? -x : x, z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (ct__expf(2.0f * ax) + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.625f ? small : big;
}

#endif /* CTORCH_VEC_MATH_H */
