/* RMSprop, as torch.optim.RMSprop's single-tensor path (PyTorch 2.x), through the fused update
 * ct__fused_rmsprop_ (tensor/fused_optim_impl.h):
 *
 *     g = maximize ? -g : g
 *     g = g + weight_decay * p                      (weight_decay != 0)
 *     sq = alpha * sq + (1 - alpha) * g * g
 *     avg = sqrt(sq - ga * ga) + eps, with ga = lerp(ga, g, 1 - alpha)   (centered)
 *     avg = sqrt(sq) + eps                          (otherwise)
 *     buf = momentum * buf + g / avg; p = p - lr * buf                  (momentum > 0)
 *     p = p - lr * g / avg                          (otherwise)
 *
 * State: "step" (0-d float32), "square_avg", "momentum_buffer" (momentum > 0), "grad_avg"
 * (centered); all start at zero. */
#include "optim_impl.h"

enum { STEP, SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG };

/* The step count does not enter the formula: the whole batch is one fused call. */
static bool rmsprop_update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                                const ct_optim_opts *o) {
    ct_tensor **sub = ct_scope_alloc(3 * (size_t)n * sizeof *sub);
    if (!sub) return false;
    for (int i = 0; i < n; i++) {
        if (isnan(ct__optim_step_count(params[i], STEP))) return false;
        sub[i] = ct__optim_slot(params[i], SQUARE_AVG, false, 0);
        sub[n + i] = o->momentum > 0 ? ct__optim_slot(params[i], MOMENTUM_BUFFER, false, 0) : NULL;
        sub[2 * n + i] = o->centered ? ct__optim_slot(params[i], GRAD_AVG, false, 0) : NULL;
        if (!sub[i] || (o->momentum > 0 && !sub[n + i]) || (o->centered && !sub[2 * n + i])) return false;
    }
    ct__rmsprop_hparams h = {o->lr, o->alpha, o->eps, o->weight_decay, o->momentum, o->centered, o->maximize};
    return ct__fused_rmsprop_(p, g, sub, o->momentum > 0 ? sub + n : NULL, o->centered ? sub + 2 * n : NULL, n, &h);
}

static bool rmsprop_validate(const ct_optim_opts *o) {
    if (!(o->lr >= 0)) return ct_error(CT_ERR_ARG, "RMSprop: Invalid learning rate: %s", ct__py_float(o->lr)), false;
    if (!(o->eps >= 0)) return ct_error(CT_ERR_ARG, "RMSprop: Invalid epsilon value: %s", ct__py_float(o->eps)), false;
    if (!(o->momentum >= 0))
        return ct_error(CT_ERR_ARG, "RMSprop: Invalid momentum value: %s", ct__py_float(o->momentum)), false;
    if (!(o->weight_decay >= 0))
        return ct_error(CT_ERR_ARG, "RMSprop: Invalid weight_decay value: %s", ct__py_float(o->weight_decay)), false;
    if (!(o->alpha >= 0)) return ct_error(CT_ERR_ARG, "RMSprop: Invalid alpha value: %s", ct__py_float(o->alpha)), false;
    return true;
}

const ct__optim_algo ct__rmsprop_algo = {
    .name = "RMSprop",
    .options = CT__O_ALPHA | CT__O_EPS | CT__O_WEIGHT_DECAY | CT__O_MOMENTUM | CT__O_CENTERED | CT__O_MAXIMIZE,
    .defaults = {.lr = 1e-2, .momentum = 0, .dampening = NAN, .betas = {NAN, NAN}, .eps = 1e-8, .weight_decay = 0,
                 .alpha = 0.99, .lr_decay = NAN, .initial_accumulator_value = NAN, .nesterov = -1, .amsgrad = -1,
                 .centered = 0, .maximize = 0},
    .validate = rmsprop_validate,
    .update_many = rmsprop_update_many,
    .slot_names = {"step", "square_avg", "momentum_buffer", "grad_avg"},
};

ct_optimizer *ct_rmsprop_opt(ct_tensor_list params, ct_optim_opts opts) {
    return ct__optimizer_new(&ct__rmsprop_algo, params, opts);
}
