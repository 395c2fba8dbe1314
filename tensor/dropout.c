/* Dropout's noise in one pass over fresh uniform draws: noise[i] = 1/(1-p) where the i-th U[0, 1)
 * draw of the Philox generator is below 1 - p, else 0 (bernoulli(1 - p) / (1 - p), as PyTorch's
 * _dropout_impl makes it). The draws come from ct_rand_like, so the noise depends only on the seed
 * and the generator's offset, never on the thread count. nn/dropout.c multiplies x by it. */
#include "iter_impl.h"
#include "random_impl.h"

#define THRESHOLD(T)                                                                                       \
    do {                                                                                                   \
        T *u = (T *)ct__data(noise);                                                                       \
        const T q = (T)keep, s = (T)scale;                                                                 \
        _Pragma("omp parallel for num_threads(n > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)") \
        for (int64_t i = 0; i < n; i++) u[i] = u[i] < q ? s : (T)0;                                        \
    } while (0)

ct_tensor *ct__dropout_noise(const ct_tensor *x, double p) {
    if (!CT__CHECK("dropout", x)) return NULL;
#ifdef CT_HAVE_CUDA
    if (ct__device(x).type == CT_DEVICE_CUDA) { /* draw and threshold in one pass, same values as below */
        ct_tensor *noise = ct__tensor_new(x->shape, x->ndim, x->dtype, ct__device(x));
        int64_t n = ct__numel(x->shape, x->ndim);
        if (noise && n > 0 && !ct__cuda_dropout_noise_into(noise, p, ct__philox_reserve(ct__device(x), n))) return NULL;
        return noise;
    }
#endif
    if (!ct__is_cpu(x)) return ct__no_kernel("dropout", ct__device(x));
    ct_dtype cdt = x->dtype == CT_F64 ? CT_F64 : CT_F32;
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *noise = ct_rand_like(x, .dtype = cdt);
        if (!noise) break;
        int64_t n = ct__numel(noise->shape, noise->ndim);
        double keep = 1 - p, scale = 1 / keep;
        if (cdt == CT_F64) THRESHOLD(double);
        else THRESHOLD(float);
        out = cdt == x->dtype ? noise : ct__to_dtype(noise, x->dtype);
        if (out) ct_keep(out);
    }
    return out;
}
