/* Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
 * conversions of its 32-bit outputs to uniform and normal variates. Pure static inline math with
 * no state, so a CUDA kernel can include it and produce bit-identical streams.
 *
 * Counter layout used by every random op (see random.c): element i of an op that starts at
 * generator offset `off` uses counter {lo32(off + i/4), hi32(off + i/4), stream, 0} and output lane
 * i % 4. `stream` numbers the 32-bit words one element needs (a double uniform uses streams 0 and
 * 1, a Box-Muller normal 0..1 in float and 0..3 in double), so each element owns its lane across
 * streams and results depend only on (seed, offset, i). */
#ifndef CTORCH_PHILOX_H
#define CTORCH_PHILOX_H

#include <math.h>
#include <stdint.h>

/* Host and device code alike (random_cuda.cu includes this header). */
#ifdef __CUDACC__
#define CT_PHILOX_FN static inline __host__ __device__
#else
#define CT_PHILOX_FN static inline
#endif

#define CT_PHILOX_M0 0xD2511F53u
#define CT_PHILOX_M1 0xCD9E8D57u
#define CT_PHILOX_W0 0x9E3779B9u /* golden ratio: key schedule (Weyl sequence) */
#define CT_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

typedef struct ct_philox4 {
    uint32_t v[4];
} ct_philox4;

/* Ten rounds of the Philox-4x32 bijection of ctr under key. */
CT_PHILOX_FN ct_philox4 ct_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2]) {
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)CT_PHILOX_M0 * c0, p1 = (uint64_t)CT_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += CT_PHILOX_W0;
        k1 += CT_PHILOX_W1;
    }
    ct_philox4 out = {{c0, c1, c2, c3}};
    return out;
}

/* The 4 words of counter block `block`, sub-stream `stream`, for a 64-bit seed. */
CT_PHILOX_FN ct_philox4 ct_philox_block(uint64_t seed, uint64_t block, uint32_t stream, uint32_t tag) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), stream, tag};
    return ct_philox4x32_10(ctr, key);
}

/* U[0, 1) with 24 random bits: exactly representable in float, never 1. */
CT_PHILOX_FN float ct_philox_u01f(uint32_t x) { return (float)(x >> 8) * 0x1p-24f; }
/* U[0, 1) with 53 random bits from two words. */
CT_PHILOX_FN double ct_philox_u01d(uint32_t hi, uint32_t lo) {
    uint64_t x = ((uint64_t)hi << 32 | lo) >> 11;
    return (double)x * 0x1p-53;
}
/* U(0, 1]: safe for log(). */
CT_PHILOX_FN float ct_philox_u01f_open0(uint32_t x) { return ((float)(x >> 8) + 1.0f) * 0x1p-24f; }
CT_PHILOX_FN double ct_philox_u01d_open0(uint32_t hi, uint32_t lo) {
    uint64_t x = ((uint64_t)hi << 32 | lo) >> 11;
    return ((double)x + 1.0) * 0x1p-53;
}

/* Box-Muller, cosine branch only: one N(0, 1) per element from u1 in (0, 1] and u2 in [0, 1), so
 * each element is a function of its own words alone. */
CT_PHILOX_FN float ct_philox_normalf(uint32_t w0, uint32_t w1) {
    float u1 = ct_philox_u01f_open0(w0), u2 = ct_philox_u01f(w1);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}
CT_PHILOX_FN double ct_philox_normald(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
    double u1 = ct_philox_u01d_open0(w0, w1), u2 = ct_philox_u01d(w2, w3);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

#endif /* CTORCH_PHILOX_H */
