/* SGD, as torch.optim.SGD's single-tensor path (PyTorch 2.x), through the fused update
 * ct__fused_sgd_ (the formula is in tensor/fused_optim_impl.h): one call per batch of parameters.
 *
 * State: "momentum_buffer" (made when momentum != 0). */
#include "optim_impl.h"

/* The parameters whose buffers are new (first == true) take d itself; the others decay theirs:
 * two fused calls at most. */
static bool sgd_update_many(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                            const ct_optim_opts *o) {
    ct__sgd_hparams h = {o->lr, o->momentum, o->dampening, o->weight_decay, o->nesterov, o->maximize, false};
    if (o->momentum == 0) return ct__fused_sgd_(p, g, NULL, n, &h);
    ct_tensor **sub = ct_scope_alloc(3 * (size_t)n * sizeof *sub);
    bool *fresh = ct_scope_alloc((size_t)n * sizeof *fresh);
    if (!sub || !fresh) return false;
    for (int i = 0; i < n; i++) {
        fresh[i] = !params[i]->state[0];
        if (!ct__optim_slot(params[i], 0, false, 0)) return false;
    }
    for (int pass = 0; pass < 2; pass++) {
        h.first_step = pass == 0;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (fresh[i] == h.first_step) sub[k] = p[i], sub[n + k] = g[i], sub[2 * n + k] = params[i]->state[0], k++;
        if (k && !ct__fused_sgd_(sub, sub + n, sub + 2 * n, k, &h)) return false;
    }
    return true;
}

static bool sgd_validate(const ct_optim_opts *o) {
    if (!(o->lr >= 0)) return ct_error(CT_ERR_ARG, "SGD: Invalid learning rate: %s", ct__py_float(o->lr)), false;
    if (!(o->momentum >= 0)) return ct_error(CT_ERR_ARG, "SGD: Invalid momentum value: %s", ct__py_float(o->momentum)), false;
    if (!(o->weight_decay >= 0))
        return ct_error(CT_ERR_ARG, "SGD: Invalid weight_decay value: %s", ct__py_float(o->weight_decay)), false;
    if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
        return ct_error(CT_ERR_ARG, "SGD: Nesterov momentum requires a momentum and zero dampening"), false;
    return true;
}

const ct__optim_algo ct__sgd_algo = {
    .name = "SGD",
    .options = CT__O_MOMENTUM | CT__O_DAMPENING | CT__O_WEIGHT_DECAY | CT__O_NESTEROV | CT__O_MAXIMIZE,
    .defaults = {.lr = 1e-3, .momentum = 0, .dampening = 0, .betas = {NAN, NAN}, .eps = NAN, .weight_decay = 0,
                 .alpha = NAN, .lr_decay = NAN, .initial_accumulator_value = NAN, .nesterov = 0, .amsgrad = -1,
                 .centered = -1, .maximize = 0},
    .validate = sgd_validate,
    .update_many = sgd_update_many,
    .slot_names = {"momentum_buffer"},
};

ct_optimizer *ct_sgd_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__sgd_algo, params, opts); }
