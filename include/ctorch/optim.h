/* ctorch optim: optimizers over parameter groups, learning-rate schedulers, gradient clipping
 * (DESIGN §6), following torch.optim of PyTorch 2.x: same defaults, same update formulas, same
 * state_dict names, same error messages.
 *
 *     ct_optimizer *opt = ct_adamw(CT_TENSORS(w, b), .lr = 1e-3, .weight_decay = 0.01);
 *     ct_scheduler *sched = ct_cosine_annealing_lr(opt, 100);
 *     for (...) CT_SCOPE { ct_zero_grad(opt); ct_backward(loss(...)); ct_step(opt); ct_scheduler_step(sched); }
 *
 * Optimizers and schedulers are objects like tensors: they belong to the innermost scope (keep them
 * with ct_keep or ct_retain). An optimizer retains its parameters and owns its state; a scheduler
 * retains its optimizer. Updates run under no grad, in place on the parameters (their identity
 * never changes), in the parameter's dtype (16-bit floats compute in float), one fused loop per
 * parameter. Parameters whose .grad is NULL are skipped, as in PyTorch. CUDA parameters are not
 * supported yet (CT_ERR_UNSUPPORTED). */
#ifndef CTORCH_OPTIM_H
#define CTORCH_OPTIM_H

#include "ctorch/autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- optimizers ------------------------------------------------------------------------------ */

typedef struct ct_optimizer ct_optimizer;

/* Options of every optimizer, in one struct so a parameter group can override any of them by name.
 * A field left out is "not given" (NAN, or -1 for flags) and takes the optimizer's default (for a
 * constructor: PyTorch's default; for ct_optimizer_add_param_group: the optimizer's defaults as
 * constructed). Giving an option the optimizer does not have is an error.
 *   SGD:     lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=false, maximize=false
 *   Adam:    lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0, amsgrad=false, maximize=false
 *   AdamW:   same as Adam but weight_decay=0.01 (decoupled: p *= 1 - lr * weight_decay)
 *   RMSprop: lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=false, maximize=false
 *   Adagrad: lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=false */
typedef struct ct_optim_opts {
    double lr;
    double momentum, dampening;
    double betas[2];
    double eps;
    double weight_decay;
    double alpha;
    double lr_decay, initial_accumulator_value;
    int nesterov, amsgrad, centered, maximize; /* booleans; -1 = not given */
} ct_optim_opts;
#define CT__OPTIM_UNSET                                                                         \
    .lr = NAN, .momentum = NAN, .dampening = NAN, .betas = {NAN, NAN}, .eps = NAN, .weight_decay = NAN, \
    .alpha = NAN, .lr_decay = NAN, .initial_accumulator_value = NAN, .nesterov = -1, .amsgrad = -1,  \
    .centered = -1, .maximize = -1
#define CT__OPTIM_OPTS(...) CT_OPTS(ct_optim_opts, CT__OPTIM_UNSET, __VA_ARGS__)

/* torch.optim.SGD, Adam, AdamW, RMSprop, Adagrad over a list of parameters (leaf tensors; e.g.
 * CT_TENSORS(w, b) or a module's parameter list), which become parameter group 0. */
ct_optimizer *ct_sgd_opt(ct_tensor_list params, ct_optim_opts opts);
ct_optimizer *ct_adam_opt(ct_tensor_list params, ct_optim_opts opts);
ct_optimizer *ct_adamw_opt(ct_tensor_list params, ct_optim_opts opts);
ct_optimizer *ct_rmsprop_opt(ct_tensor_list params, ct_optim_opts opts);
ct_optimizer *ct_adagrad_opt(ct_tensor_list params, ct_optim_opts opts);
#define ct_sgd(params, ...) ct_sgd_opt((params), CT__OPTIM_OPTS(__VA_ARGS__))
#define ct_adam(params, ...) ct_adam_opt((params), CT__OPTIM_OPTS(__VA_ARGS__))
#define ct_adamw(params, ...) ct_adamw_opt((params), CT__OPTIM_OPTS(__VA_ARGS__))
#define ct_rmsprop(params, ...) ct_rmsprop_opt((params), CT__OPTIM_OPTS(__VA_ARGS__))
#define ct_adagrad(params, ...) ct_adagrad_opt((params), CT__OPTIM_OPTS(__VA_ARGS__))

/* Adds a parameter group whose options override the optimizer's defaults by name:
 * ct_optimizer_add_param_group(opt, CT_TENSORS(head_w), .lr = 1e-2). Returns false with PyTorch's
 * message when a parameter is already in a group. */
bool ct_optimizer_add_param_group_opt(ct_optimizer *opt, ct_tensor_list params, ct_optim_opts opts);
#define ct_optimizer_add_param_group(opt, params, ...)                                           \
    ct_optimizer_add_param_group_opt((opt), (params), CT__OPTIM_OPTS(__VA_ARGS__))

/* One update of every parameter that has a gradient (optimizer.step()). */
bool ct_optimizer_step(ct_optimizer *opt);
#define ct_step(opt) ct_optimizer_step(opt)
/* Clears every parameter's .grad (set_to_none=true, PyTorch's default), or zeroes it in place when
 * set_to_none is false. */
typedef struct ct_zero_grad_opts {
    bool set_to_none;
} ct_zero_grad_opts;
bool ct_optimizer_zero_grad_opt(ct_optimizer *opt, ct_zero_grad_opts opts);
#define ct_optimizer_zero_grad(opt, ...)                                                         \
    ct_optimizer_zero_grad_opt((opt), CT_OPTS(ct_zero_grad_opts, .set_to_none = true, __VA_ARGS__))
#define ct_zero_grad(opt, ...) ct_optimizer_zero_grad(opt, __VA_ARGS__)

/* "SGD", "Adam", "AdamW", "RMSprop", "Adagrad". */
const char *ct_optimizer_name(const ct_optimizer *opt);
int ct_optimizer_num_groups(const ct_optimizer *opt);
/* The parameters of a group (a scope-owned array; the tensors are the optimizer's). */
ct_tensor_list ct_optimizer_params(const ct_optimizer *opt, int group);
/* A group's resolved options (all fields given). */
ct_optim_opts ct_optimizer_group_opts(const ct_optimizer *opt, int group);
/* A group's learning rate (NAN with an error for a bad group); schedulers use these. */
double ct_optimizer_get_lr(const ct_optimizer *opt, int group);
bool ct_optimizer_set_lr(ct_optimizer *opt, int group, double lr);

/* The optimizer's state under PyTorch's state_dict names, flattened:
 *   "state.<i>.<name>"          the live state tensors of parameter i (counted over all groups in
 *                               order): step (0-d float32), exp_avg, exp_avg_sq, max_exp_avg_sq,
 *                               momentum_buffer, square_avg, grad_avg, sum; only those that exist
 *   "param_groups.<g>.<option>" 0-d float64 copies of the group's options (flags as bool),
 *                               "param_groups.<g>.betas" a float64 pair, "param_groups.<g>.params"
 *                               the int64 indices of its parameters, "param_groups.<g>.initial_lr"
 *                               once a scheduler has set it.
 * Arrays and tensors belong to the innermost scope. With the parameters themselves this is all an
 * exact resume needs. */
typedef struct ct_optimizer_state {
    int n;
    const char *const *names;
    ct_tensor *const *tensors;
} ct_optimizer_state;
ct_optimizer_state ct_optimizer_state_dict(const ct_optimizer *opt);
/* Replaces the state and group options with those of a state dict as ct_optimizer_state_dict gives
 * (from an optimizer of the same kind with groups of the same sizes); values are copied in, cast to
 * the parameter's dtype (step stays float32). */
bool ct_optimizer_load_state_dict(ct_optimizer *opt, ct_optimizer_state state);

/* The state dict in an HDF5 file of named tensors (serialize.h), written atomically; loading
 * checks it against the optimizer as ct_optimizer_load_state_dict does. */
bool ct_optimizer_save(const ct_optimizer *opt, const char *path);
bool ct_optimizer_load(ct_optimizer *opt, const char *path);

/* ---- learning-rate schedulers ------------------------------------------------------------------ */

typedef struct ct_scheduler ct_scheduler;

/* Lists for positional arguments: CT_MILESTONES(30, 80), CT_SCHEDULERS(warmup, cosine). */
typedef struct ct_int_list {
    int n;
    const int64_t *items;
} ct_int_list;
#define CT_MILESTONES(...) ((ct_int_list){.n = CT__NARGS(__VA_ARGS__), .items = (const int64_t[]){__VA_ARGS__}})
typedef struct ct_scheduler_list {
    int n;
    ct_scheduler *const *items;
} ct_scheduler_list;
#define CT_SCHEDULERS(...)                                                                      \
    ((ct_scheduler_list){.n = CT__NARGS(__VA_ARGS__), .items = (ct_scheduler *const[]){__VA_ARGS__}})

/* Every scheduler, as PyTorch's, records each group's lr as "initial_lr" (unless already set) and
 * takes its initial step at construction (last_epoch becomes 0). */

/* StepLR: lr *= gamma every step_size epochs (gamma=0.1). */
typedef struct ct_step_lr_opts {
    double gamma;
} ct_step_lr_opts;
ct_scheduler *ct_step_lr_opt(ct_optimizer *opt, int64_t step_size, ct_step_lr_opts opts);
#define ct_step_lr(opt, step_size, ...) ct_step_lr_opt((opt), (step_size), CT_OPTS(ct_step_lr_opts, .gamma = 0.1, __VA_ARGS__))
/* MultiStepLR: lr *= gamma at each milestone epoch (gamma=0.1). */
ct_scheduler *ct_multistep_lr_opt(ct_optimizer *opt, ct_int_list milestones, ct_step_lr_opts opts);
#define ct_multistep_lr(opt, milestones, ...)                                                    \
    ct_multistep_lr_opt((opt), (milestones), CT_OPTS(ct_step_lr_opts, .gamma = 0.1, __VA_ARGS__))
/* ExponentialLR: lr *= gamma every epoch. */
ct_scheduler *ct_exponential_lr(ct_optimizer *opt, double gamma);
/* CosineAnnealingLR: eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2, in PyTorch's
 * recursive form (eta_min=0). */
typedef struct ct_cosine_lr_opts {
    double eta_min;
} ct_cosine_lr_opts;
ct_scheduler *ct_cosine_annealing_lr_opt(ct_optimizer *opt, int64_t T_max, ct_cosine_lr_opts opts);
#define ct_cosine_annealing_lr(opt, T_max, ...)                                                  \
    ct_cosine_annealing_lr_opt((opt), (T_max), CT_OPTS(ct_cosine_lr_opts, .eta_min = 0.0, __VA_ARGS__))
/* LinearLR: the factor goes linearly from start_factor to end_factor over total_iters epochs
 * (start_factor=1/3, end_factor=1, total_iters=5). */
typedef struct ct_linear_lr_opts {
    double start_factor, end_factor;
    int64_t total_iters;
} ct_linear_lr_opts;
ct_scheduler *ct_linear_lr_opt(ct_optimizer *opt, ct_linear_lr_opts opts);
#define ct_linear_lr(opt, ...)                                                                   \
    ct_linear_lr_opt((opt), CT_OPTS(ct_linear_lr_opts, .start_factor = 1.0 / 3, .end_factor = 1.0, .total_iters = 5, __VA_ARGS__))
/* OneCycleLR (stepped once per batch): warm up from max_lr/div_factor to max_lr over pct_start of
 * total_steps, then anneal to max_lr/div_factor/final_div_factor; cycles momentum (SGD, RMSprop)
 * or beta1 (Adam, AdamW) inversely between max_momentum and base_momentum. */
typedef enum ct_anneal_strategy { CT_ANNEAL_COS = 0, CT_ANNEAL_LINEAR } ct_anneal_strategy;
typedef struct ct_onecycle_lr_opts {
    double pct_start;
    ct_anneal_strategy anneal_strategy;
    bool cycle_momentum;
    double base_momentum, max_momentum, div_factor, final_div_factor;
    bool three_phase;
} ct_onecycle_lr_opts;
ct_scheduler *ct_onecycle_lr_opt(ct_optimizer *opt, double max_lr, int64_t total_steps, ct_onecycle_lr_opts opts);
#define ct_onecycle_lr(opt, max_lr, total_steps, ...)                                            \
    ct_onecycle_lr_opt((opt), (max_lr), (total_steps),                                           \
                       CT_OPTS(ct_onecycle_lr_opts, .pct_start = 0.3, .anneal_strategy = CT_ANNEAL_COS,            \
                               .cycle_momentum = true, .base_momentum = 0.85, .max_momentum = 0.95,                \
                               .div_factor = 25.0, .final_div_factor = 1e4, .three_phase = false, __VA_ARGS__))
/* SequentialLR: runs schedulers[0] until milestones[0], then schedulers[1], ... (each restarted at
 * its milestone). The schedulers must drive opt; the sequence retains them. */
ct_scheduler *ct_sequential_lr(ct_optimizer *opt, ct_scheduler_list schedulers, ct_int_list milestones);

/* Advances one epoch (or batch, for OneCycleLR) and sets the optimizer's learning rates. */
bool ct_scheduler_step(ct_scheduler *s);
/* The learning rate this scheduler last set for a group (get_last_lr()[group]); NAN on error. */
double ct_scheduler_get_last_lr(const ct_scheduler *s, int group);
int64_t ct_scheduler_last_epoch(const ct_scheduler *s);

/* ---- gradient clipping ------------------------------------------------------------------------- */

typedef struct ct_clip_grad_norm_opts {
    double norm_type; /* p > 0, or INFINITY for the largest magnitude */
    bool error_if_nonfinite;
} ct_clip_grad_norm_opts;
/* Scales the gradients of params together so their total norm (of all gradients as one vector) is
 * at most max_norm: each is multiplied by min(1, max_norm / (total + 1e-6)). Returns the total norm
 * before clipping as a 0-d tensor of the gradients' dtype (0. when no parameter has a gradient),
 * on the first gradient's device: with CUDA gradients nothing waits for the GPU unless
 * error_if_nonfinite must read the total, as PyTorch. (norm_type=2.0, error_if_nonfinite=false) */
ct_tensor *ct_clip_grad_norm_opt(ct_tensor_list params, double max_norm, ct_clip_grad_norm_opts opts);
#define ct_clip_grad_norm_(params, max_norm, ...)                                                \
    ct_clip_grad_norm_opt((params), (max_norm), CT_OPTS(ct_clip_grad_norm_opts, .norm_type = 2.0, .error_if_nonfinite = false, __VA_ARGS__))
/* Clamps every gradient of params into [-clip_value, clip_value] in place. */
bool ct_clip_grad_value_(ct_tensor_list params, double clip_value);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_OPTIM_H */
