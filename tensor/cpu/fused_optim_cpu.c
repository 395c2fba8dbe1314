/* CPU kernels of the fused optimizer updates: one parallel pass per tensor (the formulas and the
 * rounding points are fused_optim_impl.h's; these are the loops optim/ ran before the fused path,
 * so CPU results are unchanged bit for bit). */
#include "../fused_optim_impl.h"

/* A tensor's data as void * (the typed loops take their element type). */
static void *raw(const ct_tensor *t) { return t ? ct__data(t) : NULL; }

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

static bool sgd(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *buf, int n, const ct__sgd_hparams *h) {
    sgd_args a = {h->lr, h->momentum, h->dampening, h->weight_decay, h->nesterov, h->maximize, h->first_step};
    for (int i = 0; i < n; i++)
        CT__OPTIM_DISPATCH(p[i]->dtype, sgd, raw(p[i]), raw(g[i]), buf ? raw(buf[i]) : NULL,
                           ct__numel(p[i]->shape, p[i]->ndim), a);
    return true;
}

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
                           int64_t n, ct__fo_adam_args a) {                                      \
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

static bool adam(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *m, ct_tensor *const *v,
                 ct_tensor *const *vmax, int n, const ct__adam_hparams *h) {
    ct__fo_adam_args a = ct__adam_factors(h);
    for (int i = 0; i < n; i++)
        CT__OPTIM_DISPATCH(p[i]->dtype, adam, raw(p[i]), raw(g[i]), raw(m[i]), raw(v[i]),
                           vmax ? raw(vmax[i]) : NULL, ct__numel(p[i]->shape, p[i]->ndim), a);
    return true;
}

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

static bool rmsprop(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sq, ct_tensor *const *buf,
                    ct_tensor *const *ga, int n, const ct__rmsprop_hparams *h) {
    rmsprop_args a = {h->lr, h->alpha, h->eps, h->weight_decay, h->momentum, h->maximize};
    for (int i = 0; i < n; i++)
        CT__OPTIM_DISPATCH(p[i]->dtype, rmsprop, raw(p[i]), raw(g[i]), raw(sq[i]), buf ? raw(buf[i]) : NULL,
                           ga ? raw(ga[i]) : NULL, ct__numel(p[i]->shape, p[i]->ndim), a);
    return true;
}

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

static bool adagrad(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sum, int n,
                    const ct__adagrad_hparams *h) {
    adagrad_args a = {h->clr, h->weight_decay, h->eps, h->maximize};
    for (int i = 0; i < n; i++)
        CT__OPTIM_DISPATCH(p[i]->dtype, adagrad, raw(p[i]), raw(g[i]), raw(sum[i]), ct__numel(p[i]->shape, p[i]->ndim), a);
    return true;
}

const ct_fused_optim_kernels ct__fused_optim_cpu_kernels = {.sgd = sgd, .adam = adam, .rmsprop = rmsprop, .adagrad = adagrad};
