/* Fused optimizer updates (fused_optim.c): the kernel table per device, and the typed-loop helpers
 * the CPU loops share (tensor/cpu/fused_optim_cpu.c).
 *
 * The formulas, torch.optim's single-tensor paths (PyTorch 2.x); 16-bit floats compute in float
 * and round on store where torch stores (m, v, p), so f16/bf16 results match torch's:
 *
 *   SGD:   d = maximize ? -g : g
 *          d = d + weight_decay * p                      (weight_decay != 0)
 *          buf = d on the first step, else momentum * buf + (1 - dampening) * d   (momentum != 0)
 *          d = nesterov ? d + momentum * buf : buf       (momentum != 0)
 *          p = p - lr * d
 *   Adam:  p = p * (1 - lr * weight_decay)               (AdamW: decoupled decay, before the update)
 *          g = maximize ? -g : g
 *          g = g + weight_decay * p                      (Adam, weight_decay != 0)
 *          m = lerp(m, g, 1 - beta1)
 *          v = beta2 * v + (1 - beta2) * g * g
 *          vmax = max(vmax, v)                           (amsgrad; then used in place of v)
 *          denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *          p = p - lr / (1 - beta1^t) * m / denom
 *   RMSprop: g = maximize ? -g : g
 *          g = g + weight_decay * p                      (weight_decay != 0)
 *          sq = alpha * sq + (1 - alpha) * g * g
 *          avg = sqrt(sq - ga * ga) + eps, with ga = lerp(ga, g, 1 - alpha)   (centered)
 *          avg = sqrt(sq) + eps                          (otherwise)
 *          buf = momentum * buf + g / avg; p = p - lr * buf                  (momentum > 0)
 *          p = p - lr * g / avg                          (otherwise)
 *   Adagrad: g = maximize ? -g : g
 *          g = g + weight_decay * p                      (weight_decay != 0)
 *          sum = sum + g * g
 *          p = p - clr * g / (sqrt(sum) + eps),  clr = lr / (1 + (t - 1) * lr_decay) */
#ifndef CTORCH_FUSED_OPTIM_IMPL_H
#define CTORCH_FUSED_OPTIM_IMPL_H

#include "dtype_impl.h"
#include "fused_optim_args.h"
#include "native_impl.h"
#include "tensor_impl.h"

#include <math.h>

/* One device's kernels. The tensors are validated (contiguous, one dtype and device, numels
 * agree); n >= 1. */
typedef struct ct_fused_optim_kernels {
    bool (*sgd)(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *buf, int n, const ct__sgd_hparams *h);
    bool (*adam)(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *m, ct_tensor *const *v,
                 ct_tensor *const *vmax, int n, const ct__adam_hparams *h);
    bool (*rmsprop)(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sq, ct_tensor *const *buf,
                    ct_tensor *const *ga, int n, const ct__rmsprop_hparams *h);
    bool (*adagrad)(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sum, int n, const ct__adagrad_hparams *h);
} ct_fused_optim_kernels;
extern const ct_fused_optim_kernels ct__fused_optim_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct_fused_optim_kernels ct__fused_optim_cuda_kernels;
#endif

/* Adam/AdamW's factors for h->step (the same on every device). */
static inline ct__fo_adam_args ct__adam_factors(const ct__adam_hparams *h) {
    return (ct__fo_adam_args){
        .beta1 = h->beta1,
        .beta2 = h->beta2,
        .eps = h->eps,
        .weight_decay = h->decoupled ? 0 : h->weight_decay,
        .decay = h->decoupled ? 1 - h->lr * h->weight_decay : 1,
        .step_size = h->lr / (1 - pow(h->beta1, h->step)),
        .bias_correction2_sqrt = sqrt(1 - pow(h->beta2, h->step)),
        .maximize = h->maximize,
    };
}

/* Typed loops: each loop is written once as a macro over (suffix, storage type T, compute type A,
 * load, store) and instantiated with CT__OPTIM_DTYPES; 16-bit floats compute in float and round
 * once on store. Loops run in parallel above CT__OPTIM_PARALLEL_MIN elements: each element is
 * independent, so results never depend on the thread count. */
#define CT__OPTIM_LD(x) (x)
#define CT__OPTIM_ST(x) (x)
#define CT__OPTIM_DTYPES(X)                                                                      \
    X(f32, float, float, CT__OPTIM_LD, CT__OPTIM_ST)                                             \
    X(f64, double, double, CT__OPTIM_LD, CT__OPTIM_ST)                                           \
    X(f16, ct_half, float, ct_half_to_float, ct_float_to_half)                                   \
    X(bf16, ct_bf16, float, ct_bf16_to_float, ct_float_to_bf16)
#define CT__OPTIM_PARALLEL_MIN 32768
/* sqrt in the compute type (sqrtf for float). */
#define CT__SQRT(x) _Generic((x), float: sqrtf, default: sqrt)(x)
/* Put before a `for (int64_t i = 0; i < n; i++)` loop whose element count is the variable n. */
#define CT__OPTIM_OMP_FOR                                                                        \
    _Pragma("omp parallel for schedule(static) num_threads(ct__num_threads()) if (n >= CT__OPTIM_PARALLEL_MIN)")
/* The dispatch over dtypes for a loop's instantiations name_f32, name_f64, ... */
#define CT__OPTIM_DISPATCH(dtype, name, ...)                                                     \
    do {                                                                                         \
        switch (dtype) {                                                                         \
        case CT_F32: name##_f32(__VA_ARGS__); break;                                             \
        case CT_F64: name##_f64(__VA_ARGS__); break;                                             \
        case CT_F16: name##_f16(__VA_ARGS__); break;                                             \
        case CT_BF16: name##_bf16(__VA_ARGS__); break;                                           \
        default: break;                                                                          \
        }                                                                                        \
    } while (0)

/* PyTorch's lerp kernel: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w). */
#define CT__LERP(start, end, w) ((w) < 0.5f ? (start) + (w) * ((end) - (start)) : (end) - ((end) - (start)) * (1 - (w)))

#endif /* CTORCH_FUSED_OPTIM_IMPL_H */
