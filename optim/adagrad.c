/* Adagrad, as torch.optim.Adagrad's single-tensor path (PyTorch 2.x), through the fused update
 * ct__fused_adagrad_ (tensor/fused_optim_impl.h). With t the step counted from 1:
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

static bool adagrad_init_state(ct__optim_param *param, const ct_optim_opts *o) {
    return ct__optim_slot(param, STEP, true, 0) && ct__optim_slot(param, SUM, false, o->initial_accumulator_value);
}

/* clr depends on each parameter's own step count (kept on the host): parameters at the same count
 * share one fused call, so usually the whole batch is one. */
static bool adagrad_update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                                const ct_optim_opts *o) {
    double *steps = ct_scope_alloc((size_t)n * sizeof *steps);
    ct_tensor **sub = ct_scope_alloc(3 * (size_t)n * sizeof *sub);
    if (!steps || !sub) return false;
    for (int i = 0; i < n; i++) {
        steps[i] = ct__optim_step_count(params[i], STEP);
        if (isnan(steps[i]) || !ct__optim_slot(params[i], SUM, false, o->initial_accumulator_value)) return false;
    }
    for (int i = 0; i < n; i++) {
        if (isnan(steps[i])) continue; /* done in an earlier call */
        double step = steps[i];
        int k = 0;
        for (int j = i; j < n; j++) {
            if (steps[j] != step) continue;
            sub[k] = p[j], sub[n + k] = g[j], sub[2 * n + k] = params[j]->state[SUM];
            steps[j] = NAN, k++;
        }
        ct__adagrad_hparams h = {o->lr / (1 + (step - 1) * o->lr_decay), o->weight_decay, o->eps, o->maximize};
        if (!ct__fused_adagrad_(sub, sub + n, sub + 2 * n, k, &h)) return false;
    }
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
    .update_many = adagrad_update_many,
    .slot_names = {"step", "sum"},
    .init_state = adagrad_init_state,
};

ct_optimizer *ct_adagrad_opt(ct_tensor_list params, ct_optim_opts opts) {
    return ct__optimizer_new(&ct__adagrad_algo, params, opts);
}
