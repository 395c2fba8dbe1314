/* The extern "C" launchers of random_cuda.cu (neutral C/C++). out is a dense device buffer of n
 * elements of ct_dtype dtype; pos is the generator position the op reserved (random_impl.h). */
#ifndef CTORCH_RANDOM_CUDA_H
#define CTORCH_RANDOM_CUDA_H

#include "elementwise_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_cuda_philox {
    uint64_t seed, offset;
} ct_cuda_philox;

ct_cuda_status ct__cuda_uniform(void *out, int dtype, int64_t n, ct_cuda_philox pos, double low, double high, int device);
ct_cuda_status ct__cuda_normal(void *out, int dtype, int64_t n, ct_cuda_philox pos, double mean, double std, int device);
ct_cuda_status ct__cuda_randint(void *out, int dtype, int64_t n, ct_cuda_philox pos, int64_t low, uint64_t range,
                                int device);
/* p: n probabilities in device memory (float64) */
ct_cuda_status ct__cuda_bernoulli(void *out, int dtype, int64_t n, const double *p, ct_cuda_philox pos, int device);
/* Dropout's noise in one pass: 1/(1-p) where the element's uniform is below 1 - p, else 0. */
ct_cuda_status ct__cuda_dropout_noise(void *out, int dtype, int64_t n, ct_cuda_philox pos, double p, int device);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_RANDOM_CUDA_H */
