/* Random number generation: per-device Philox generators (random.c) and the kernel table through
 * which each device fills tensors. Kernels write contiguous outputs of any dtype; element i uses
 * the counters described in philox.h, starting at the op's reserved offset. */
#ifndef CTORCH_RANDOM_IMPL_H
#define CTORCH_RANDOM_IMPL_H

#include "tensor_impl.h"

/* The generator position an op starts from: key = seed, first counter block = offset. */
typedef struct ct__philox_pos {
    uint64_t seed;
    uint64_t offset;
} ct__philox_pos;

typedef struct ct__random_kernels {
    /* out (contiguous) = low + (high - low) * U[0, 1) */
    void (*uniform)(ct_tensor *out, ct__philox_pos pos, double low, double high);
    /* out (contiguous) = mean + std * N(0, 1) */
    void (*normal)(ct_tensor *out, ct__philox_pos pos, double mean, double std);
    /* out (contiguous) = low + (x mod range), x uniform 32 or 64 bits */
    void (*randint)(ct_tensor *out, ct__philox_pos pos, int64_t low, uint64_t range);
    /* out (contiguous, numel n) = 1 where U[0, 1) < p[i]; p is dense float64 with n values */
    void (*bernoulli)(ct_tensor *out, const double *p, ct__philox_pos pos);
    /* out (contiguous) = Poisson(rates[i]); rates dense float64, each >= 0 */
    void (*poisson)(ct_tensor *out, const double *rates, ct__philox_pos pos);
    /* out (contiguous, numel n) = a random permutation of 0..n-1 */
    void (*randperm)(ct_tensor *out, ct__philox_pos pos);
    /* out (contiguous int64, rows x k) = category indices drawn from the rows of w (dense float64,
     * rows x ncat, validated: non-negative, finite, positive row sums) */
    void (*multinomial)(ct_tensor *out, const double *w, int64_t rows, int64_t ncat, int64_t k, bool replacement,
                        ct__philox_pos pos);
} ct__random_kernels;

extern const ct__random_kernels ct__cpu_random_kernels;
#ifdef CT_HAVE_CUDA
extern const ct__random_kernels ct__cuda_random_kernels;
/* Dropout's noise (see dropout.c) drawn and thresholded in one device pass into the dense CUDA
 * tensor noise; false with the error recorded. */
bool ct__cuda_dropout_noise_into(ct_tensor *noise, double p, ct__philox_pos pos);
#endif

/* Reserves the counter blocks of n elements on device's generator (random.c). */
ct__philox_pos ct__philox_reserve(ct_device device, int64_t n);

#endif /* CTORCH_RANDOM_IMPL_H */
