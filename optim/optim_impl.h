/* Private optim internals: the optimizer object, its parameter groups and per-parameter state, the
 * table each algorithm (sgd.c, adam.c, rmsprop.c, adagrad.c) fills in, and the typed loops' helpers. */
#ifndef CTORCH_OPTIM_IMPL_H
#define CTORCH_OPTIM_IMPL_H

#include "../autograd/autograd_impl.h"
#include "../tensor/fused_optim_impl.h"
#include "ctorch/optim.h"

/* Per-parameter state tensors: up to four slots, named by the algorithm (NULL = not made yet). */
#define CT__OPTIM_SLOTS 4

typedef struct ct__optim_param {
    ct_tensor *p; /* one reference */
    int group;
    ct_tensor *state[CT__OPTIM_SLOTS]; /* one reference each; contiguous, p's shape and dtype
                                          (the "step" slot: 0-d float32) */
} ct__optim_param;

typedef struct ct__optim_group {
    ct_optim_opts o;   /* every field resolved */
    double initial_lr; /* set by the first scheduler (PyTorch's group["initial_lr"]); NAN before */
} ct__optim_group;

/* Option bits: which fields of ct_optim_opts an algorithm has. */
enum {
    CT__O_MOMENTUM = 1 << 0,
    CT__O_DAMPENING = 1 << 1,
    CT__O_BETAS = 1 << 2,
    CT__O_EPS = 1 << 3,
    CT__O_WEIGHT_DECAY = 1 << 4,
    CT__O_ALPHA = 1 << 5,
    CT__O_LR_DECAY = 1 << 6,
    CT__O_INITIAL_ACC = 1 << 7,
    CT__O_NESTEROV = 1 << 8,
    CT__O_AMSGRAD = 1 << 9,
    CT__O_CENTERED = 1 << 10,
    CT__O_MAXIMIZE = 1 << 11,
};

typedef struct ct__optim_algo {
    const char *name;  /* PyTorch's class name: "SGD" */
    unsigned options;  /* CT__O_* bits besides lr */
    ct_optim_opts defaults;
    /* Checks a resolved set of options with PyTorch's messages (false with the error recorded). */
    bool (*validate)(const ct_optim_opts *o);
    /* Updates a batch of parameters of one group, device and dtype (fused calls, any device): p[i]
     * and g[i] are params[i]'s parameter and gradient, staged contiguous; the algorithm makes and
     * updates its state slots itself (ct__optim_slot). Runs with grad mode off. */
    bool (*update_many)(ct__optim_param *const *params, ct_tensor *const *p, ct_tensor *const *g, int n,
                        const ct_optim_opts *o);
    const char *slot_names[CT__OPTIM_SLOTS]; /* state_dict names; NULL for unused slots */
    /* Makes state at group creation (Adagrad's sum); NULL when state is made lazily at step. */
    bool (*init_state)(ct__optim_param *param, const ct_optim_opts *o);
} ct__optim_algo;

struct ct_optimizer {
    ct_object header;
    const ct__optim_algo *algo;
    ct_optim_opts defaults;
    ct__optim_param *params;
    int n_params, cap_params;
    ct__optim_group *groups;
    int n_groups, cap_groups;
};

/* Makes an optimizer of algo over params with opts (NaN/-1 fields take algo's defaults). */
ct_optimizer *ct__optimizer_new(const ct__optim_algo *algo, ct_tensor_list params, ct_optim_opts opts);

/* The state tensor in slot i, made on first use: zeros of the parameter's shape and dtype filled
 * with `fill` (or a 0-d float32 when step is true). Unscoped (the optimizer holds it). */
ct_tensor *ct__optim_slot(ct__optim_param *param, int i, bool step, double fill);
/* Increments the 0-d float32 step counter in slot i (made at 0 first) and returns the new count,
 * as PyTorch's `step_t += 1; step = step_t.item()`. */
double ct__optim_step_count(ct__optim_param *param, int i);

/* A double as Python's repr prints it ("-1.0", "1e-05", "0.999"), for PyTorch's messages; the
 * string lives in a thread-local ring of 8 buffers. */
const char *ct__py_float(double v);

/* The typed-loop helpers (CT__OPTIM_DTYPES, CT__OPTIM_OMP_FOR, CT__OPTIM_DISPATCH, CT__LERP,
 * CT__SQRT) are tensor/fused_optim_impl.h's, shared with the fused SGD/Adam kernels. */

/* A state tensor's data (NULL for an absent slot). */
static inline void *ct__optim_data(const ct_tensor *t) { return t ? ct__data(t) : NULL; }

/* The algorithms (sgd.c, adam.c, rmsprop.c, adagrad.c). */
extern const ct__optim_algo ct__sgd_algo, ct__adam_algo, ct__adamw_algo, ct__rmsprop_algo, ct__adagrad_algo;


#endif /* CTORCH_OPTIM_IMPL_H */
