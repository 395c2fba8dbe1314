/* The CUDA random table (random_impl.h). uniform, normal, randint and bernoulli run on the device
 * (random_cuda.cu). poisson, randperm and multinomial are sequential or rejection-based per element;
 * they run the CPU kernel into a host buffer and copy it over, which gives exactly the CPU's
 * values for the same generator position. Launch failures are recorded as ct errors. */
#include "../random_impl.h"
#include "cuda_glue.h"
#include "random_cuda.h"

static ct_cuda_philox at(ct__philox_pos pos) { return (ct_cuda_philox){pos.seed, pos.offset}; }
static int64_t numel(const ct_tensor *t) { return ct__numel(t->shape, t->ndim); }
static int dev(const ct_tensor *t) { return ct__device(t).index; }

static void uniform_cuda(ct_tensor *out, ct__philox_pos pos, double low, double high) {
    (void)ct__cuda_uniform(ct__data(out), (int)out->dtype, numel(out), at(pos), low, high, dev(out));
}

static void normal_cuda(ct_tensor *out, ct__philox_pos pos, double mean, double std) {
    (void)ct__cuda_normal(ct__data(out), (int)out->dtype, numel(out), at(pos), mean, std, dev(out));
}

static void randint_cuda(ct_tensor *out, ct__philox_pos pos, int64_t low, uint64_t range) {
    (void)ct__cuda_randint(ct__data(out), (int)out->dtype, numel(out), at(pos), low, range, dev(out));
}

static void bernoulli_cuda(ct_tensor *out, const double *p, ct__philox_pos pos) {
    int64_t n = numel(out);
    size_t bytes = (size_t)n * sizeof(double);
    double *dp = ct__cuda_alloc(bytes, dev(out));
    if (!dp) return;
    cudaStream_t s = ct__cuda_stream(dev(out));
    if (ct__cuda_check("bernoulli", dev(out), cudaMemcpyAsync(dp, p, bytes, cudaMemcpyHostToDevice, s)))
        (void)ct__cuda_bernoulli(ct__data(out), (int)out->dtype, n, dp, at(pos), dev(out));
    /* p is the caller's host buffer: the copy must finish before it is freed */
    (void)ct__cuda_check("bernoulli", dev(out), cudaStreamSynchronize(s));
    ct__cuda_free(dp, dev(out));
}

/* Runs fill (a CPU kernel call on `host`, a CPU tensor shaped like out) and copies the result. */
#define ON_HOST(out, call)                                                                          \
    CT_SCOPE {                                                                                      \
        ct_tensor *host = ct__tensor_new((out)->shape, (out)->ndim, (out)->dtype, CT_CPU);          \
        if (!host) break;                                                                           \
        call;                                                                                       \
        (void)ct__copy_into("random", (out), host);                                                 \
    }

static void poisson_cuda(ct_tensor *out, const double *rates, ct__philox_pos pos) {
    ON_HOST(out, ct__cpu_random_kernels.poisson(host, rates, pos));
}

static void randperm_cuda(ct_tensor *out, ct__philox_pos pos) { ON_HOST(out, ct__cpu_random_kernels.randperm(host, pos)); }

static void multinomial_cuda(ct_tensor *out, const double *w, int64_t rows, int64_t ncat, int64_t k, bool replacement,
                             ct__philox_pos pos) {
    ON_HOST(out, ct__cpu_random_kernels.multinomial(host, w, rows, ncat, k, replacement, pos));
}

const ct__random_kernels ct__cuda_random_kernels = {
    .uniform = uniform_cuda,
    .normal = normal_cuda,
    .randint = randint_cuda,
    .bernoulli = bernoulli_cuda,
    .poisson = poisson_cuda,
    .randperm = randperm_cuda,
    .multinomial = multinomial_cuda,
};

bool ct__cuda_dropout_noise_into(ct_tensor *noise, double p, ct__philox_pos pos) {
    return ct__cuda_dropout_noise(ct__data(noise), (int)noise->dtype, numel(noise), at(pos), p, dev(noise)) ==
           CT_CUDA_OK;
}
