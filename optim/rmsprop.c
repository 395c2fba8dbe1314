/* RMSprop, as torch.optim.RMSprop's single-tensor path (PyTorch 2.x), fused into one loop per
 * parameter:
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

typedef struct rmsprop_args {
    double lr, alpha, eps, weight_decay, momentum;
    bool maximize;
} rmsprop_args;

/* One element; CENTERED and MOM (constants) pick the variant, so each loop is branch-free and
 * vectorizes. */
#define RMSPROP_BODY(T, A, LD, ST, CENTERED, MOM)                                                \
    A pi = LD(p[i]), gi = a.maximize ? -LD(g[i]) : LD(g[i]);                                     \
    if (a.weight_decay != 0) gi = gi + wd * pi;                                                  \
    A s = LD(ST(LD(sq[i]) * alpha + w * gi * gi));                                               \
    sq[i] = ST(s);                                                                               \
    A avg;                                                                                       \
    if (CENTERED) {                                                                              \
        A gai = LD(ST(CT__LERP(LD(ga[i]), gi, w)));                                              \
        ga[i] = ST(gai);                                                                         \
        avg = LD(ST(CT__SQRT(LD(ST(s + (A)(-1) * gai * gai))))) + eps;                           \
    } else {                                                                                     \
        avg = LD(ST(CT__SQRT(s))) + eps;                                                         \
    }                                                                                            \
    avg = LD(ST(avg));                                                                           \
    if (MOM) {                                                                                   \
        A b = LD(ST(LD(buf[i]) * mom + gi / avg));                                               \
        buf[i] = ST(b);                                                                          \
        p[i] = ST(pi + (-lr) * b);                                                               \
    } else {                                                                                     \
        p[i] = ST(pi + (-lr) * (gi / avg));                                                      \
    }

#define RMSPROP_VARIANT(T, A, LD, ST, CENTERED, MOM)                                             \
    {                                                                                            \
        CT__OPTIM_OMP_FOR                                                                        \
        for (int64_t i = 0; i < n; i++) { RMSPROP_BODY(T, A, LD, ST, CENTERED, MOM) }            \
    }
#define RMSPROP_LOOP(sfx, T, A, LD, ST)                                                          \
    static void rmsprop_##sfx(T *restrict p, const T *restrict g, T *restrict sq, T *restrict buf, T *restrict ga, \
                              int64_t n, rmsprop_args a) {                                       \
        const A lr = (A)a.lr, alpha = (A)a.alpha, w = (A)(1 - a.alpha), eps = (A)a.eps;          \
        const A wd = (A)a.weight_decay, mom = (A)a.momentum;                                     \
        if (ga && buf) RMSPROP_VARIANT(T, A, LD, ST, 1, 1)                                       \
        else if (ga) RMSPROP_VARIANT(T, A, LD, ST, 1, 0)                                         \
        else if (buf) RMSPROP_VARIANT(T, A, LD, ST, 0, 1)                                        \
        else RMSPROP_VARIANT(T, A, LD, ST, 0, 0)                                                 \
    }
CT__OPTIM_DTYPES(RMSPROP_LOOP)

static bool rmsprop_update(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n) {
    double step = ct__optim_step_count(param, STEP);
    ct_tensor *sq = ct__optim_slot(param, SQUARE_AVG, false, 0);
    ct_tensor *buf = o->momentum > 0 ? ct__optim_slot(param, MOMENTUM_BUFFER, false, 0) : NULL;
    ct_tensor *ga = o->centered ? ct__optim_slot(param, GRAD_AVG, false, 0) : NULL;
    if (isnan(step) || !sq || (o->momentum > 0 && !buf) || (o->centered && !ga)) return false;
    rmsprop_args a = {o->lr, o->alpha, o->eps, o->weight_decay, o->momentum, o->maximize};
    CT__OPTIM_DISPATCH(param->p->dtype, rmsprop, p, g, ct__optim_data(sq), ct__optim_data(buf),
                       ct__optim_data(ga), n, a);
    return true;
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
    .update = rmsprop_update,
    .slot_names = {"step", "square_avg", "momentum_buffer", "grad_avg"},
};

ct_optimizer *ct_rmsprop_opt(ct_tensor_list params, ct_optim_opts opts) {
    return ct__optimizer_new(&ct__rmsprop_algo, params, opts);
}
