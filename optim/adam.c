/* Adam and AdamW, as torch.optim.Adam / AdamW's single-tensor path (PyTorch 2.x), through the fused
 * update ct__fused_adam_ (the formula is in tensor/fused_optim_impl.h).
 *
 * State: "step" (0-d float32), "exp_avg" (m), "exp_avg_sq" (v), "max_exp_avg_sq" (amsgrad). */
#include "optim_impl.h"

enum { STEP, EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ };

/* Each parameter counts its own steps (on the host, as a 0-d CPU tensor: no sync per step);
 * parameters at the same count share one fused call, so usually the whole batch is one. */
static bool update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                        const ct_optim_opts *o, bool decoupled) {
    double *steps = ct_scope_alloc((size_t)n * sizeof *steps);
    ct_tensor **sub = ct_scope_alloc(5 * (size_t)n * sizeof *sub);
    if (!steps || !sub) return false;
    for (int i = 0; i < n; i++) {
        steps[i] = ct__optim_step_count(params[i], STEP);
        if (isnan(steps[i]) || !ct__optim_slot(params[i], EXP_AVG, false, 0) ||
            !ct__optim_slot(params[i], EXP_AVG_SQ, false, 0) ||
            (o->amsgrad && !ct__optim_slot(params[i], MAX_EXP_AVG_SQ, false, 0)))
            return false;
    }
    ct__adam_hparams h = {.lr = o->lr, .beta1 = o->betas[0], .beta2 = o->betas[1], .eps = o->eps,
                          .weight_decay = o->weight_decay, .decoupled = decoupled, .maximize = o->maximize};
    for (int i = 0; i < n; i++) {
        if (isnan(steps[i])) continue; /* done in an earlier call */
        h.step = steps[i];
        int k = 0;
        for (int j = i; j < n; j++) {
            if (steps[j] != h.step) continue;
            sub[k] = p[j], sub[n + k] = g[j], sub[2 * n + k] = params[j]->state[EXP_AVG];
            sub[3 * n + k] = params[j]->state[EXP_AVG_SQ], sub[4 * n + k] = params[j]->state[MAX_EXP_AVG_SQ];
            steps[j] = NAN, k++;
        }
        if (!ct__fused_adam_(sub, sub + n, sub + 2 * n, sub + 3 * n, o->amsgrad ? sub + 4 * n : NULL, k, &h))
            return false;
    }
    return true;
}

static bool adam_update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                             const ct_optim_opts *o) {
    return update_many(params, p, g, n, o, false);
}
static bool adamw_update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                              const ct_optim_opts *o) {
    return update_many(params, p, g, n, o, true);
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
    .validate = adam_validate, .update_many = adam_update_many, .slot_names = ADAM_SLOTS,
};
const ct__optim_algo ct__adamw_algo = {
    .name = "AdamW", .options = ADAM_OPTIONS, .defaults = ADAM_DEFAULTS(1e-2),
    .validate = adamw_validate, .update_many = adamw_update_many, .slot_names = ADAM_SLOTS,
};

ct_optimizer *ct_adam_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__adam_algo, params, opts); }
ct_optimizer *ct_adamw_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__adamw_algo, params, opts); }
