/* Adam and AdamW, as torch.optim.Adam / AdamW's single-tensor path (PyTorch 2.x), fused into one
 * loop per parameter. With t the step counted from 1:
 *
 *     p = p * (1 - lr * weight_decay)               (AdamW: decoupled decay, before the update)
 *     g = maximize ? -g : g
 *     g = g + weight_decay * p                      (Adam, weight_decay != 0)
 *     m = lerp(m, g, 1 - beta1)
 *     v = beta2 * v + (1 - beta2) * g * g
 *     vmax = max(vmax, v)                           (amsgrad; then used in place of v)
 *     denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *     p = p - lr / (1 - beta1^t) * m / denom
 *
 * State: "step" (0-d float32), "exp_avg" (m), "exp_avg_sq" (v), "max_exp_avg_sq" (amsgrad). */
#include "optim_impl.h"

enum { STEP, EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ };

typedef struct adam_args {
    double beta1, beta2, eps, weight_decay; /* weight_decay: Adam's coupled decay (0 for AdamW) */
    double decay;                           /* AdamW's factor 1 - lr * weight_decay (1 for Adam) */
    double step_size, bias_correction2_sqrt;
    bool maximize;
} adam_args;

/* One element; AMS (a constant) selects amsgrad, so each variant is a branch-free loop that vectorizes. */
#define ADAM_BODY(T, A, LD, ST, AMS)                                                             \
    A pi = LD(p[i]);                                                                             \
    if (a.decay != 1) pi = LD(ST(pi * decay));                                                   \
    A gi = a.maximize ? -LD(g[i]) : LD(g[i]);                                                    \
    if (a.weight_decay != 0) gi = gi + wd * pi;                                                  \
    A mi = LD(ST(CT__LERP(LD(m[i]), gi, w1)));                                                   \
    A vi = LD(ST(LD(v[i]) * b2 + w2 * gi * gi));                                                 \
    m[i] = ST(mi);                                                                               \
    v[i] = ST(vi);                                                                               \
    if (AMS) {                                                                                   \
        A mx = LD(vmax[i]);                                                                      \
        vi = mx > vi || mx != mx ? mx : vi; /* torch.maximum propagates NaN */                   \
        vmax[i] = ST(vi);                                                                        \
    }                                                                                            \
    A denom = LD(ST(LD(ST(CT__SQRT(vi) / bc2)) + eps));                                          \
    p[i] = ST(pi + (-step_size) * (mi / denom));

#define ADAM_LOOP(sfx, T, A, LD, ST)                                                             \
    static void adam_##sfx(T *restrict p, const T *restrict g, T *restrict m, T *restrict v, T *restrict vmax, \
                           int64_t n, adam_args a) {                                             \
        const A w1 = (A)(1 - a.beta1), b2 = (A)a.beta2, w2 = (A)(1 - a.beta2), eps = (A)a.eps;   \
        const A wd = (A)a.weight_decay, decay = (A)a.decay, step_size = (A)a.step_size;          \
        const A bc2 = (A)a.bias_correction2_sqrt;                                                \
        if (vmax) {                                                                              \
            CT__OPTIM_OMP_FOR                                                                    \
            for (int64_t i = 0; i < n; i++) { ADAM_BODY(T, A, LD, ST, 1) }                       \
        } else {                                                                                 \
            CT__OPTIM_OMP_FOR                                                                    \
            for (int64_t i = 0; i < n; i++) { ADAM_BODY(T, A, LD, ST, 0) }                       \
        }                                                                                        \
    }
CT__OPTIM_DTYPES(ADAM_LOOP)

static bool update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n, bool decoupled) {
    double step = ct__optim_step_count(param, STEP);
    ct_tensor *m = ct__optim_slot(param, EXP_AVG, false, 0);
    ct_tensor *v = ct__optim_slot(param, EXP_AVG_SQ, false, 0);
    ct_tensor *vmax = o->amsgrad ? ct__optim_slot(param, MAX_EXP_AVG_SQ, false, 0) : NULL;
    if (isnan(step) || !m || !v || (o->amsgrad && !vmax)) return false;
    adam_args a = {
        .beta1 = o->betas[0],
        .beta2 = o->betas[1],
        .eps = o->eps,
        .weight_decay = decoupled ? 0 : o->weight_decay,
        .decay = decoupled ? 1 - o->lr * o->weight_decay : 1,
        .step_size = o->lr / (1 - pow(o->betas[0], step)),
        .bias_correction2_sqrt = sqrt(1 - pow(o->betas[1], step)),
        .maximize = o->maximize,
    };
    CT__OPTIM_DISPATCH(param->p->dtype, adam, p, g, ct__optim_data(m), ct__optim_data(v), ct__optim_data(vmax), n, a);
    return true;
}

static bool adam_update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n) {
    return update(param, o, p, g, n, false);
}
static bool adamw_update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n) {
    return update(param, o, p, g, n, true);
}

static bool validate(const char *name, const ct_optim_opts *o) {
    if (!(o->lr >= 0)) return ct_error(CT_ERR_ARG, "%s: Invalid learning rate: %s", name, ct__py_float(o->lr)), false;
    if (!(o->eps >= 0)) return ct_error(CT_ERR_ARG, "%s: Invalid epsilon value: %s", name, ct__py_float(o->eps)), false;
    for (int i = 0; i < 2; i++)
        if (!(o->betas[i] >= 0 && o->betas[i] < 1))
            return ct_error(CT_ERR_ARG, "%s: Invalid beta parameter at index %d: %s", name, i, ct__py_float(o->betas[i])),
                   false;
    if (!(o->weight_decay >= 0))
        return ct_error(CT_ERR_ARG, "%s: Invalid weight_decay value: %s", name, ct__py_float(o->weight_decay)), false;
    return true;
}
static bool adam_validate(const ct_optim_opts *o) { return validate("Adam", o); }
static bool adamw_validate(const ct_optim_opts *o) { return validate("AdamW", o); }

#define ADAM_OPTIONS (CT__O_BETAS | CT__O_EPS | CT__O_WEIGHT_DECAY | CT__O_AMSGRAD | CT__O_MAXIMIZE)
#define ADAM_DEFAULTS(wd)                                                                        \
    {.lr = 1e-3, .momentum = NAN, .dampening = NAN, .betas = {0.9, 0.999}, .eps = 1e-8, .weight_decay = (wd), \
     .alpha = NAN, .lr_decay = NAN, .initial_accumulator_value = NAN, .nesterov = -1, .amsgrad = 0, .centered = -1, \
     .maximize = 0}
#define ADAM_SLOTS {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}

const ct__optim_algo ct__adam_algo = {
    .name = "Adam", .options = ADAM_OPTIONS, .defaults = ADAM_DEFAULTS(0.0),
    .validate = adam_validate, .update = adam_update, .slot_names = ADAM_SLOTS,
};
const ct__optim_algo ct__adamw_algo = {
    .name = "AdamW", .options = ADAM_OPTIONS, .defaults = ADAM_DEFAULTS(1e-2),
    .validate = adamw_validate, .update = adamw_update, .slot_names = ADAM_SLOTS,
};

ct_optimizer *ct_adam_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__adam_algo, params, opts); }
ct_optimizer *ct_adamw_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__adamw_algo, params, opts); }
