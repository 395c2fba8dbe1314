/* Adagrad, as torch.optim.Adagrad's single-tensor path (PyTorch 2.x), fused into one loop per
 * parameter. With t the step counted from 1:
 *
 *     g = maximize ? -g : g
 *     g = g + weight_decay * p                      (weight_decay != 0)
 *     clr = lr / (1 + (t - 1) * lr_decay)
 *     sum = sum + g * g
 *     p = p - clr * g / (sqrt(sum) + eps)
 *
 * State: "step" (0-d float32) and "sum" (initial_accumulator_value everywhere), made for every
 * parameter when its group is added, as PyTorch's constructor does. */
#include "optim_impl.h"

enum { STEP, SUM };

typedef struct adagrad_args {
    double clr, weight_decay, eps;
    bool maximize;
} adagrad_args;

#define ADAGRAD_LOOP(sfx, T, A, LD, ST)                                                          \
    static void adagrad_##sfx(T *restrict p, const T *restrict g, T *restrict sum, int64_t n, adagrad_args a) { \
        const A clr = (A)a.clr, wd = (A)a.weight_decay, eps = (A)a.eps;                          \
        CT__OPTIM_OMP_FOR                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                        \
            A pi = LD(p[i]), gi = a.maximize ? -LD(g[i]) : LD(g[i]);                             \
            if (a.weight_decay != 0) gi = gi + wd * pi;                                          \
            A s = LD(ST(LD(sum[i]) + gi * gi));                                                  \
            sum[i] = ST(s);                                                                      \
            A std = LD(ST(LD(ST(CT__SQRT(s))) + eps));                                           \
            p[i] = ST(pi + (-clr) * (gi / std));                                                 \
        }                                                                                        \
    }
CT__OPTIM_DTYPES(ADAGRAD_LOOP)

static bool adagrad_init_state(ct__optim_param *param, const ct_optim_opts *o) {
    return ct__optim_slot(param, STEP, true, 0) && ct__optim_slot(param, SUM, false, o->initial_accumulator_value);
}

static bool adagrad_update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n) {
    double step = ct__optim_step_count(param, STEP);
    ct_tensor *sum = ct__optim_slot(param, SUM, false, o->initial_accumulator_value);
    if (isnan(step) || !sum) return false;
    adagrad_args a = {o->lr / (1 + (step - 1) * o->lr_decay), o->weight_decay, o->eps, o->maximize};
    CT__OPTIM_DISPATCH(param->p->dtype, adagrad, p, g, ct__optim_data(sum), n, a);
    return true;
}

static bool adagrad_validate(const ct_optim_opts *o) {
    if (!(o->lr >= 0)) return ct_error(CT_ERR_ARG, "Adagrad: Invalid learning rate: %s", ct__py_float(o->lr)), false;
    if (!(o->lr_decay >= 0))
        return ct_error(CT_ERR_ARG, "Adagrad: Invalid lr_decay value: %s", ct__py_float(o->lr_decay)), false;
    if (!(o->weight_decay >= 0))
        return ct_error(CT_ERR_ARG, "Adagrad: Invalid weight_decay value: %s", ct__py_float(o->weight_decay)), false;
    if (!(o->initial_accumulator_value >= 0))
        return ct_error(CT_ERR_ARG, "Adagrad: Invalid initial_accumulator_value value: %s",
                        ct__py_float(o->initial_accumulator_value)),
               false;
    if (!(o->eps >= 0)) return ct_error(CT_ERR_ARG, "Adagrad: Invalid epsilon value: %s", ct__py_float(o->eps)), false;
    return true;
}

const ct__optim_algo ct__adagrad_algo = {
    .name = "Adagrad",
    .options = CT__O_LR_DECAY | CT__O_WEIGHT_DECAY | CT__O_INITIAL_ACC | CT__O_EPS | CT__O_MAXIMIZE,
    .defaults = {.lr = 1e-2, .momentum = NAN, .dampening = NAN, .betas = {NAN, NAN}, .eps = 1e-10, .weight_decay = 0,
                 .alpha = NAN, .lr_decay = 0, .initial_accumulator_value = 0, .nesterov = -1, .amsgrad = -1,
                 .centered = -1, .maximize = 0},
    .validate = adagrad_validate,
    .update = adagrad_update,
    .slot_names = {"step", "sum"},
    .init_state = adagrad_init_state,
};

ct_optimizer *ct_adagrad_opt(ct_tensor_list params, ct_optim_opts opts) {
    return ct__optimizer_new(&ct__adagrad_algo, params, opts);
}
