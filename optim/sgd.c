/* SGD, as torch.optim.SGD's single-tensor path (PyTorch 2.x), fused into one loop per parameter:
 *
 *     d = maximize ? -g : g
 *     d = d + weight_decay * p                      (weight_decay != 0)
 *     buf = d on the first step, else momentum * buf + (1 - dampening) * d   (momentum != 0)
 *     d = nesterov ? d + momentum * buf : buf       (momentum != 0)
 *     p = p - lr * d
 *
 * State: "momentum_buffer" (made when momentum != 0). */
#include "optim_impl.h"

typedef struct sgd_args {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize, first; /* first: the buffer is new and takes d itself */
} sgd_args;

#define SGD_LOOP(sfx, T, A, LD, ST)                                                              \
    static void sgd_##sfx(T *restrict p, const T *restrict g, T *restrict buf, int64_t n, sgd_args a) { \
        const A lr = (A)a.lr, wd = (A)a.weight_decay, mom = (A)a.momentum, damp1 = (A)(1 - a.dampening); \
        CT__OPTIM_OMP_FOR                                                                        \
        for (int64_t i = 0; i < n; i++) {                                                        \
            A pi = LD(p[i]), d = a.maximize ? -LD(g[i]) : LD(g[i]);                              \
            if (a.weight_decay != 0) d = d + wd * pi;                                            \
            if (buf) {                                                                           \
                A b = a.first ? d : LD(buf[i]) * mom + damp1 * d;                                \
                buf[i] = ST(b);                                                                  \
                b = LD(buf[i]);                                                                  \
                d = a.nesterov ? d + mom * b : b;                                                \
            }                                                                                    \
            p[i] = ST(pi + (-lr) * d);                                                           \
        }                                                                                        \
    }
CT__OPTIM_DTYPES(SGD_LOOP)

static bool sgd_update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n) {
    sgd_args a = {o->lr, o->momentum, o->dampening, o->weight_decay, o->nesterov, o->maximize, false};
    void *buf = NULL;
    if (o->momentum != 0) {
        a.first = !param->state[0];
        ct_tensor *t = ct__optim_slot(param, 0, false, 0);
        if (!t) return false;
        buf = ct__optim_data(t);
    }
    CT__OPTIM_DISPATCH(param->p->dtype, sgd, p, g, buf, n, a);
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
    .update = sgd_update,
    .slot_names = {"momentum_buffer"},
};

ct_optimizer *ct_sgd_opt(ct_tensor_list params, ct_optim_opts opts) { return ct__optimizer_new(&ct__sgd_algo, params, opts); }
