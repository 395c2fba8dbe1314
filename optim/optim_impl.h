/* Private optim internals: the optimizer object, its parameter groups and per-parameter state, the
 * table each algorithm (sgd.c, adam.c, rmsprop.c, adagrad.c) fills in, and the typed loops' helpers. */
#ifndef CTORCH_OPTIM_IMPL_H
#define CTORCH_OPTIM_IMPL_H

#include "../autograd/autograd_impl.h"
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

/* Update of one parameter: p and g are contiguous, same dtype and shape; the algorithm makes and
 * updates its state slots itself (ct__optim_slot). Runs with grad mode off. */
typedef bool (*ct__optim_update_fn)(ct__optim_param *param, const ct_optim_opts *o, void *p, const void *g, int64_t n);

typedef struct ct__optim_algo {
    const char *name;  /* PyTorch's class name: "SGD" */
    unsigned options;  /* CT__O_* bits besides lr */
    ct_optim_opts defaults;
    /* Checks a resolved set of options with PyTorch's messages (false with the error recorded). */
    bool (*validate)(const ct_optim_opts *o);
    ct__optim_update_fn update;
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

/* Typed loops: each algorithm writes its loop once as a macro over (suffix, storage type T,
 * compute type A, load, store) and instantiates it with CT__OPTIM_DTYPES; 16-bit floats compute in
 * float and round once on store. Loops run in parallel above CT__OPTIM_PARALLEL_MIN elements: each
 * element is independent, so results never depend on the thread count. */
#define CT__OPTIM_LD(x) (x)
#define CT__OPTIM_ST(x) (x)
#define CT__OPTIM_DTYPES(X)                                                                      \
    X(f32, float, float, CT__OPTIM_LD, CT__OPTIM_ST)                                             \
    X(f64, double, double, CT__OPTIM_LD, CT__OPTIM_ST)                                           \
    X(f16, ct_half, float, ct_half_to_float, ct_float_to_half)                                   \
    X(bf16, ct_bf16, float, ct_bf16_to_float, ct_float_to_bf16)
#define CT__OPTIM_PARALLEL_MIN 32768
/* sqrt in the compute type (sqrtf for float). */
#define CT__SQRT(x) _Generic((x), float: sqrtf, default: sqrt)(x)
/* Put before a `for (int64_t i = 0; i < n; i++)` loop whose element count is the variable n. */
#define CT__OPTIM_OMP_FOR                                                                        \
    _Pragma("omp parallel for schedule(static) num_threads(ct__num_threads()) if (n >= CT__OPTIM_PARALLEL_MIN)")
/* The dispatch over dtypes for an algorithm's instantiated loops name_f32, name_f64, ... */
#define CT__OPTIM_DISPATCH(dtype, name, ...)                                                     \
    do {                                                                                         \
        switch (dtype) {                                                                         \
        case CT_F32: name##_f32(__VA_ARGS__); break;                                             \
        case CT_F64: name##_f64(__VA_ARGS__); break;                                             \
        case CT_F16: name##_f16(__VA_ARGS__); break;                                             \
        case CT_BF16: name##_bf16(__VA_ARGS__); break;                                           \
        default: break;                                                                          \
        }                                                                                        \
    } while (0)

/* PyTorch's lerp kernel: start + w (end - start) for w < 0.5, else end - (end - start)(1 - w). */
#define CT__LERP(start, end, w) ((w) < 0.5f ? (start) + (w) * ((end) - (start)) : (end) - ((end) - (start)) * (1 - (w)))

/* A state tensor's data (NULL for an absent slot). */
static inline void *ct__optim_data(const ct_tensor *t) { return t ? ct__data(t) : NULL; }

/* The algorithms (sgd.c, adam.c, rmsprop.c, adagrad.c). */
extern const ct__optim_algo ct__sgd_algo, ct__adam_algo, ct__adamw_algo, ct__rmsprop_algo, ct__adagrad_algo;


#endif /* CTORCH_OPTIM_IMPL_H */
