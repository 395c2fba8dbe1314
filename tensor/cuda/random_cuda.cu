// CUDA random kernels: the CPU's Philox counter scheme (philox.h, cpu/random_cpu.c) element for
// element, so a CUDA draw equals the CPU draw for the same seed and generator offset. One thread
// owns one counter block (4 elements) per grid-stride step; each element reads its lane of the
// block's words in streams 0..3 exactly as the CPU loop does, and converts as the CPU's put()
// (doubles narrowed through float for the 16-bit dtypes). Normals use the same Box-Muller
// cosine branch; the device's logf/cosf/sqrtf may differ from glibc's by an ulp.
#include "../philox.h"
#include "iter_cuda.cuh"
#include "random_cuda.h"

using namespace ct_cuda;

namespace {

// A draw: streams() Philox words per element, value(w, lane, i) from them.
struct Uniform {
    double low, span;
    int digits; // random mantissa bits of the dtype (random_cpu.c's uniform_digits)
    bool unit_f32;
    __device__ int streams() const { return digits > 32 ? 2 : 1; }
    __device__ double value(const ct_philox4 *w, int l, int64_t) const {
        if (unit_f32) return (double)ct_philox_u01f(w[0].v[l]);
        double u = digits > 32 ? ct_philox_u01d(w[0].v[l], w[1].v[l])
                               : (double)(w[0].v[l] >> (32 - digits)) * ldexp(1.0, -digits);
        return low + span * u;
    }
};

struct Normal {
    double mean, std;
    bool wide; // float64: 53-bit uniforms from 4 streams
    __device__ int streams() const { return wide ? 4 : 2; }
    __device__ double value(const ct_philox4 *w, int l, int64_t) const {
        if (wide) return mean + std * ct_philox_normald(w[0].v[l], w[1].v[l], w[2].v[l], w[3].v[l]);
        return mean + std * (double)ct_philox_normalf(w[0].v[l], w[1].v[l]);
    }
};

struct RandInt {
    int64_t low;
    uint64_t range;
    bool exact_i64; // int64 output: the integer itself, no detour through double
    __device__ int streams() const { return range > (1ull << 32) ? 2 : 1; }
    __device__ int64_t draw(const ct_philox4 *w, int l) const {
        uint64_t x = range > (1ull << 32) ? ((uint64_t)w[0].v[l] << 32 | w[1].v[l]) : w[0].v[l];
        return (int64_t)((uint64_t)low + x % range); // wraps correctly in two's complement
    }
    __device__ double value(const ct_philox4 *w, int l, int64_t) const { return (double)draw(w, l); }
};

struct Bernoulli {
    const double *p; // device, one per element
    __device__ int streams() const { return 2; }
    __device__ double value(const ct_philox4 *w, int l, int64_t i) const {
        return ct_philox_u01d(w[0].v[l], w[1].v[l]) < p[i] ? 1.0 : 0.0;
    }
};

// Dropout's noise (dropout.c): the uniform of rand_like in T (float, or double for float64 x),
// then keep ? scale : 0 computed in T, stored in the output's dtype.
template <typename T> struct DropoutNoise {
    T keep, scale;
    __device__ int streams() const { return sizeof(T) == 8 ? 2 : 1; }
    __device__ T value(const ct_philox4 *w, int l, int64_t) const {
        T u;
        if constexpr (sizeof(T) == 8) u = ct_philox_u01d(w[0].v[l], w[1].v[l]);
        else u = ct_philox_u01f(w[0].v[l]);
        return u < keep ? scale : (T)0;
    }
};

template <typename OutT, typename G>
__global__ void __launch_bounds__(kThreads) random_kernel(OutT *out, int64_t n, uint64_t seed, uint64_t offset, G g) {
    const int64_t nblocks = (n + 3) / 4;
    for (int64_t b = thread_index(), step = thread_count(); b < nblocks; b += step) {
        ct_philox4 w[4];
        for (int s = 0; s < g.streams(); s++) w[s] = ct_philox_block(seed, offset + (uint64_t)b, (uint32_t)s, 0);
        for (int64_t i = 4 * b; i < 4 * b + 4 && i < n; i++) {
            const int l = (int)(i & 3);
            if constexpr (std::is_same<G, RandInt>::value && std::is_same<OutT, int64_t>::value) out[i] = g.draw(w, l);
            else out[i] = store_as<OutT>(g.value(w, l, i));
        }
    }
}

template <typename G> ct_cuda_status launch(const char *op, void *out, int dtype, int64_t n, ct_cuda_philox pos, G g, int device) {
    if (n == 0) return CT_CUDA_OK;
    const unsigned grid = grid_for((n + 3) / 4, device);
    cudaStream_t s = ct__cuda_stream(device);
    CT_CUDA_DISPATCH_DTYPE(dtype, T, random_kernel<T, G><<<grid, kThreads, 0, s>>>((T *)out, n, pos.seed, pos.offset, g);
                           break;)
    return ct__cuda_check(op, device, cudaGetLastError()) ? CT_CUDA_OK : CT_CUDA_FAILED;
}

int uniform_digits(int dtype) { return dtype == 4 ? 11 : dtype == 5 ? 8 : dtype == 7 ? 53 : 24; }

} // namespace

extern "C" ct_cuda_status ct__cuda_uniform(void *out, int dtype, int64_t n, ct_cuda_philox pos, double low, double high,
                                           int device) {
    Uniform g{low, high - low, uniform_digits(dtype), dtype == 6 && low == 0 && high == 1};
    return launch("uniform", out, dtype, n, pos, g, device);
}

extern "C" ct_cuda_status ct__cuda_normal(void *out, int dtype, int64_t n, ct_cuda_philox pos, double mean, double std,
                                          int device) {
    return launch("normal", out, dtype, n, pos, Normal{mean, std, dtype == 7}, device);
}

extern "C" ct_cuda_status ct__cuda_randint(void *out, int dtype, int64_t n, ct_cuda_philox pos, int64_t low,
                                           uint64_t range, int device) {
    return launch("randint", out, dtype, n, pos, RandInt{low, range, dtype == 3}, device);
}

extern "C" ct_cuda_status ct__cuda_bernoulli(void *out, int dtype, int64_t n, const double *p, ct_cuda_philox pos,
                                             int device) {
    return launch("bernoulli", out, dtype, n, pos, Bernoulli{p}, device);
}

extern "C" ct_cuda_status ct__cuda_dropout_noise(void *out, int dtype, int64_t n, ct_cuda_philox pos, double p,
                                                 int device) {
    const double keep = 1 - p, scale = 1 / keep;
    if (dtype == 7) return launch("dropout", out, dtype, n, pos, DropoutNoise<double>{keep, scale}, device);
    return launch("dropout", out, dtype, n, pos, DropoutNoise<float>{(float)keep, (float)scale}, device);
}
