/* Learning-rate schedulers, ports of torch.optim.lr_scheduler (PyTorch 2.x).
 *
 * As in PyTorch, a scheduler records each group's lr as the group's "initial_lr" (unless a scheduler
 * already did), takes base_lrs from it, and steps once at construction (last_epoch -1 -> 0). A
 * plain step advances last_epoch and applies the chainable (recursive) form, which reads the
 * group's current lr, so schedulers compose; stepping to a given epoch (SequentialLR does it at its
 * milestones with epoch 0) uses the closed form where PyTorch has one. */
#include "optim_impl.h"

#include <stdlib.h>

typedef enum sched_kind { STEP_LR, MULTISTEP_LR, EXPONENTIAL_LR, COSINE_LR, LINEAR_LR, ONECYCLE_LR, SEQUENTIAL_LR } sched_kind;

/* OneCycleLR's named values: lrs (group initial_lr, max_lr, min_lr) and momenta. */
enum { OC_INITIAL, OC_MAX, OC_MIN };
enum { OC_MAX_M, OC_BASE_M };

typedef struct onecycle_phase {
    double end_step;
    int start_lr, end_lr, start_m, end_m;
} onecycle_phase;

struct ct_scheduler {
    ct_object header;
    sched_kind kind;
    const char *name;
    ct_optimizer *opt; /* one reference */
    int n_groups;
    int64_t last_epoch;
    double *base_lrs, *last_lrs; /* n_groups each */
    /* StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR */
    int64_t step_size, T_max, total_iters;
    double gamma, eta_min, start_factor, end_factor;
    int64_t *milestones; /* MultiStepLR (sorted) and SequentialLR */
    int n_milestones;
    /* OneCycleLR */
    int64_t total_steps;
    onecycle_phase phases[3];
    int n_phases;
    ct_anneal_strategy anneal;
    bool cycle_momentum, use_beta1;
    double max_lr, min_lr, momenta[2];
    /* SequentialLR: one reference each */
    ct_scheduler **children;
    int n_children;
};

static void scheduler_destroy(ct_object *obj) {
    ct_scheduler *s = (ct_scheduler *)obj;
    for (int i = 0; i < s->n_children; i++) ct_release(s->children[i]);
    ct_release(s->opt);
    free(s->children);
    free(s->milestones);
    free(s->base_lrs);
    free(s->last_lrs);
    free(s);
}
static const ct_object_type scheduler_type = {"lr_scheduler", scheduler_destroy};

static ct_scheduler *sched_alloc(const char *name, sched_kind kind, ct_optimizer *opt) {
    if (!ct_ok()) return NULL;
    if (!opt) return ct_error(CT_ERR_NULL, "%s: optimizer is NULL", name);
    ct_scheduler *s = calloc(1, sizeof *s);
    double *base = calloc((size_t)opt->n_groups, sizeof *base), *last = calloc((size_t)opt->n_groups, sizeof *last);
    if (!s || !base || !last) {
        free(s), free(base), free(last);
        return ct_error(CT_ERR_OOM, "%s: out of memory", name);
    }
    ct_object_init(&s->header, &scheduler_type);
    s->kind = kind, s->name = name, s->opt = ct_retain(opt), s->n_groups = opt->n_groups;
    s->base_lrs = base, s->last_lrs = last;
    return s;
}

/* ---- the formulas ------------------------------------------------------------------------------ */

static double anneal(ct_anneal_strategy strategy, double start, double end, double pct) {
    if (strategy == CT_ANNEAL_COS) return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1);
    return (end - start) * pct + start;
}

static int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

/* Python's bisect_right over a sorted list: the number of items <= x. */
static int bisect_right(const int64_t *items, int n, int64_t x) {
    int k = 0;
    while (k < n && items[k] <= x) k++;
    return k;
}

/* OneCycleLR's get_lr for one group, which also sets the group's momentum (or beta1). */
static bool onecycle_lr(ct_scheduler *s, ct__optim_group *group, double *lr) {
    int64_t step_num = s->last_epoch;
    if (step_num > s->total_steps) {
        ct_error(CT_ERR_ARG, "%s: Tried to step %lld times. The specified number of total steps is %lld", s->name,
                 (long long)step_num, (long long)s->total_steps);
        return false;
    }
    double lrs[3] = {group->initial_lr, s->max_lr, s->min_lr};
    double start_step = 0;
    for (int i = 0; i < s->n_phases; i++) {
        const onecycle_phase *ph = &s->phases[i];
        if (step_num <= ph->end_step || i == s->n_phases - 1) {
            double pct = (step_num - start_step) / (ph->end_step - start_step);
            *lr = anneal(s->anneal, lrs[ph->start_lr], lrs[ph->end_lr], pct);
            if (s->cycle_momentum) {
                double m = anneal(s->anneal, s->momenta[ph->start_m], s->momenta[ph->end_m], pct);
                if (s->use_beta1) group->o.betas[0] = m;
                else group->o.momentum = m;
            }
            break;
        }
        start_step = ph->end_step;
    }
    return true;
}

/* The chainable form (PyTorch's get_lr): the new lr of group g from its current lr. */
static bool chainable_lr(ct_scheduler *s, int g, double *out) {
    ct__optim_group *group = &s->opt->groups[g];
    double lr = group->o.lr, base = s->base_lrs[g];
    int64_t e = s->last_epoch;
    switch (s->kind) {
    case STEP_LR: *out = e == 0 || e % s->step_size != 0 ? lr : lr * s->gamma; return true;
    case MULTISTEP_LR: {
        int count = 0;
        for (int i = 0; i < s->n_milestones; i++) count += s->milestones[i] == e;
        *out = count == 0 ? lr : lr * pow(s->gamma, count);
        return true;
    }
    case EXPONENTIAL_LR: *out = e == 0 ? lr : lr * s->gamma; return true;
    case COSINE_LR: {
        double T = (double)s->T_max;
        if (e == 0) *out = lr;
        else if (floor_mod(e - 1 - s->T_max, 2 * s->T_max) == 0)
            *out = lr + (base - s->eta_min) * (1 - cos(M_PI / T)) / 2;
        else
            *out = (1 + cos(M_PI * e / T)) / (1 + cos(M_PI * (e - 1) / T)) * (lr - s->eta_min) + s->eta_min;
        return true;
    }
    case LINEAR_LR:
        if (e == 0) *out = lr * s->start_factor;
        else if (e > s->total_iters) *out = lr;
        else
            *out = lr * (1.0 + (s->end_factor - s->start_factor) /
                                   (s->total_iters * s->start_factor + (e - 1) * (s->end_factor - s->start_factor)));
        return true;
    case ONECYCLE_LR: return onecycle_lr(s, group, out);
    case SEQUENTIAL_LR: break;
    }
    ct_error(CT_ERR_INTERNAL, "%s: no chainable form", s->name);
    return false;
}

/* The closed form (PyTorch's _get_closed_form_lr) at last_epoch; false when there is none. */
static bool closed_form_lr(const ct_scheduler *s, int g, double *out) {
    double base = s->base_lrs[g];
    int64_t e = s->last_epoch;
    switch (s->kind) {
    case STEP_LR: *out = base * pow(s->gamma, (double)((e - floor_mod(e, s->step_size)) / s->step_size)); return true;
    case MULTISTEP_LR: *out = base * pow(s->gamma, bisect_right(s->milestones, s->n_milestones, e)); return true;
    case EXPONENTIAL_LR: *out = base * pow(s->gamma, (double)e); return true;
    case COSINE_LR: *out = s->eta_min + (base - s->eta_min) * (1 + cos(M_PI * e / (double)s->T_max)) / 2; return true;
    case LINEAR_LR:
        *out = base * (s->start_factor + (s->end_factor - s->start_factor) * (double)(e < s->total_iters ? e : s->total_iters) /
                                             (double)s->total_iters);
        return true;
    default: return false;
    }
}

/* scheduler.step() (epoch < 0) or scheduler.step(epoch): computes every group's lr, then sets them. */
static bool lr_step(ct_scheduler *s, int64_t epoch) {
    if (s->opt->n_groups != s->n_groups) {
        ct_error(CT_ERR_STATE, "%s: the optimizer had %d parameter groups when the scheduler was made and has %d now",
                 s->name, s->n_groups, s->opt->n_groups);
        return false;
    }
    double *lrs = malloc((size_t)s->n_groups * sizeof *lrs);
    if (!lrs) return ct_error(CT_ERR_OOM, "%s: out of memory", s->name), false;
    int64_t prev_epoch = s->last_epoch;
    bool ok = true;
    s->last_epoch = epoch < 0 ? s->last_epoch + 1 : epoch;
    for (int g = 0; g < s->n_groups && ok; g++)
        ok = (epoch >= 0 && closed_form_lr(s, g, &lrs[g])) || chainable_lr(s, g, &lrs[g]);
    if (ok) {
        for (int g = 0; g < s->n_groups; g++) s->opt->groups[g].o.lr = s->last_lrs[g] = lrs[g];
    } else {
        s->last_epoch = prev_epoch;
    }
    free(lrs);
    return ok;
}

/* The end of every constructor (LRScheduler.__init__ with last_epoch=-1): initial_lr, base_lrs and
 * the initial step. Releases s on failure. */
static ct_scheduler *sched_start(ct_scheduler *s) {
    for (int g = 0; g < s->n_groups; g++) {
        ct__optim_group *group = &s->opt->groups[g];
        if (isnan(group->initial_lr)) group->initial_lr = group->o.lr;
        s->base_lrs[g] = group->initial_lr;
    }
    s->last_epoch = -1;
    if (!lr_step(s, -1)) {
        ct_release(s);
        return NULL;
    }
    return ct_scope_own(s);
}

static ct_scheduler *sched_fail(ct_scheduler *s) {
    ct_release(s);
    return NULL;
}

/* ---- constructors ------------------------------------------------------------------------------ */

ct_scheduler *ct_step_lr_opt(ct_optimizer *opt, int64_t step_size, ct_step_lr_opts opts) {
    ct_scheduler *s = sched_alloc("StepLR", STEP_LR, opt);
    if (!s) return NULL;
    if (step_size <= 0)
        return ct_error(CT_ERR_ARG, "StepLR: step_size must be a positive integer, but got %lld", (long long)step_size),
               sched_fail(s);
    s->step_size = step_size, s->gamma = opts.gamma;
    return sched_start(s);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool copy_milestones(ct_scheduler *s, ct_int_list milestones) {
    if (milestones.n < 0 || (milestones.n > 0 && !milestones.items))
        return ct_error(CT_ERR_ARG, "%s: invalid milestone list", s->name), false;
    s->milestones = malloc((size_t)(milestones.n ? milestones.n : 1) * sizeof *s->milestones);
    if (!s->milestones) return ct_error(CT_ERR_OOM, "%s: out of memory", s->name), false;
    if (milestones.n) memcpy(s->milestones, milestones.items, (size_t)milestones.n * sizeof *s->milestones);
    s->n_milestones = milestones.n;
    return true;
}

ct_scheduler *ct_multistep_lr_opt(ct_optimizer *opt, ct_int_list milestones, ct_step_lr_opts opts) {
    ct_scheduler *s = sched_alloc("MultiStepLR", MULTISTEP_LR, opt);
    if (!s || !copy_milestones(s, milestones)) return s ? sched_fail(s) : NULL;
    qsort(s->milestones, (size_t)s->n_milestones, sizeof *s->milestones, cmp_i64); /* PyTorch keeps a Counter */
    s->gamma = opts.gamma;
    return sched_start(s);
}

ct_scheduler *ct_exponential_lr(ct_optimizer *opt, double gamma) {
    ct_scheduler *s = sched_alloc("ExponentialLR", EXPONENTIAL_LR, opt);
    if (!s) return NULL;
    s->gamma = gamma;
    return sched_start(s);
}

ct_scheduler *ct_cosine_annealing_lr_opt(ct_optimizer *opt, int64_t T_max, ct_cosine_lr_opts opts) {
    ct_scheduler *s = sched_alloc("CosineAnnealingLR", COSINE_LR, opt);
    if (!s) return NULL;
    if (T_max <= 0)
        return ct_error(CT_ERR_ARG, "CosineAnnealingLR: T_max must be a positive integer, but got %lld", (long long)T_max),
               sched_fail(s);
    s->T_max = T_max, s->eta_min = opts.eta_min;
    return sched_start(s);
}

ct_scheduler *ct_linear_lr_opt(ct_optimizer *opt, ct_linear_lr_opts opts) {
    ct_scheduler *s = sched_alloc("LinearLR", LINEAR_LR, opt);
    if (!s) return NULL;
    if (opts.start_factor > 1.0 || !(opts.start_factor > 0))
        return ct_error(CT_ERR_ARG, "LinearLR: Starting multiplicative factor expected to be greater than 0 and less or "
                                    "equal to 1."),
               sched_fail(s);
    if (opts.end_factor > 1.0 || !(opts.end_factor >= 0))
        return ct_error(CT_ERR_ARG, "LinearLR: Ending multiplicative factor expected to be between 0 and 1."), sched_fail(s);
    if (opts.total_iters <= 0)
        return ct_error(CT_ERR_ARG, "LinearLR: total_iters must be a positive integer, but got %lld",
                        (long long)opts.total_iters),
               sched_fail(s);
    s->start_factor = opts.start_factor, s->end_factor = opts.end_factor, s->total_iters = opts.total_iters;
    return sched_start(s);
}

ct_scheduler *ct_onecycle_lr_opt(ct_optimizer *opt, double max_lr, int64_t total_steps, ct_onecycle_lr_opts opts) {
    ct_scheduler *s = sched_alloc("OneCycleLR", ONECYCLE_LR, opt);
    if (!s) return NULL;
    if (total_steps <= 0)
        return ct_error(CT_ERR_ARG, "OneCycleLR: Expected positive integer total_steps, but got %lld", (long long)total_steps),
               sched_fail(s);
    if (!(opts.pct_start >= 0 && opts.pct_start <= 1))
        return ct_error(CT_ERR_ARG, "OneCycleLR: Expected float between 0 and 1 pct_start, but got %s",
                        ct__py_float(opts.pct_start)),
               sched_fail(s);
    if (opts.anneal_strategy != CT_ANNEAL_COS && opts.anneal_strategy != CT_ANNEAL_LINEAR)
        return ct_error(CT_ERR_ARG, "OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', instead got %d",
                        (int)opts.anneal_strategy),
               sched_fail(s);
    bool has_momentum = opt->algo->options & CT__O_MOMENTUM, has_betas = opt->algo->options & CT__O_BETAS;
    if (opts.cycle_momentum && !has_momentum && !has_betas)
        return ct_error(CT_ERR_ARG, "OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` option "
                                    "enabled"),
               sched_fail(s);
    double T = (double)total_steps, p = opts.pct_start;
    if (opts.three_phase) {
        s->phases[0] = (onecycle_phase){p * T - 1, OC_INITIAL, OC_MAX, OC_MAX_M, OC_BASE_M};
        s->phases[1] = (onecycle_phase){2 * p * T - 2, OC_MAX, OC_INITIAL, OC_BASE_M, OC_MAX_M};
        s->phases[2] = (onecycle_phase){T - 1, OC_INITIAL, OC_MIN, OC_MAX_M, OC_MAX_M};
        s->n_phases = 3;
    } else {
        s->phases[0] = (onecycle_phase){p * T - 1, OC_INITIAL, OC_MAX, OC_MAX_M, OC_BASE_M};
        s->phases[1] = (onecycle_phase){T - 1, OC_MAX, OC_MIN, OC_BASE_M, OC_MAX_M};
        s->n_phases = 2;
    }
    s->total_steps = total_steps, s->anneal = opts.anneal_strategy, s->cycle_momentum = opts.cycle_momentum;
    s->use_beta1 = has_betas;
    s->max_lr = max_lr, s->min_lr = max_lr / opts.div_factor / opts.final_div_factor;
    s->momenta[OC_MAX_M] = opts.max_momentum, s->momenta[OC_BASE_M] = opts.base_momentum;
    for (int g = 0; g < s->n_groups; g++) {
        ct__optim_group *group = &opt->groups[g];
        group->initial_lr = max_lr / opts.div_factor; /* set, not setdefault, as PyTorch */
        if (!opts.cycle_momentum) continue;
        if (s->use_beta1) group->o.betas[0] = opts.max_momentum;
        else group->o.momentum = opts.max_momentum;
    }
    return sched_start(s);
}

ct_scheduler *ct_sequential_lr(ct_optimizer *opt, ct_scheduler_list schedulers, ct_int_list milestones) {
    ct_scheduler *s = sched_alloc("SequentialLR", SEQUENTIAL_LR, opt);
    if (!s) return NULL;
    if (schedulers.n < 1 || !schedulers.items)
        return ct_error(CT_ERR_ARG, "SequentialLR: SequentialLR expects at least one scheduler, but got no scheduler."),
               sched_fail(s);
    for (int i = 0; i < schedulers.n; i++) {
        if (!schedulers.items[i]) return ct_error(CT_ERR_NULL, "SequentialLR: scheduler %d is NULL", i), sched_fail(s);
        if (schedulers.items[i]->opt != opt || schedulers.items[i]->kind == SEQUENTIAL_LR)
            return ct_error(CT_ERR_ARG, "SequentialLR: Sequential Schedulers expects all schedulers to belong to the same "
                                        "optimizer, but got schedulers at index %d to be different than the optimizer "
                                        "passed in.", i),
                   sched_fail(s);
    }
    if (milestones.n != schedulers.n - 1)
        return ct_error(CT_ERR_ARG, "SequentialLR: Sequential Schedulers expects number of schedulers provided to be one "
                                    "more than the number of milestone points, but got number of schedulers %d and the "
                                    "number of milestones to be equal to %d", schedulers.n, milestones.n),
               sched_fail(s);
    if (!copy_milestones(s, milestones)) return sched_fail(s);
    s->children = malloc((size_t)schedulers.n * sizeof *s->children);
    if (!s->children) return ct_error(CT_ERR_OOM, "SequentialLR: out of memory"), sched_fail(s);
    for (int i = 0; i < schedulers.n; i++) s->children[s->n_children++] = ct_retain(schedulers.items[i]);
    s->last_epoch = 0;
    /* Back to the initial learning rates, undo the children's initial steps, and take the first
     * child's initial step again. */
    for (int g = 0; g < s->n_groups; g++) opt->groups[g].o.lr = opt->groups[g].initial_lr;
    for (int i = 0; i < s->n_children; i++) s->children[i]->last_epoch -= 1;
    if (!lr_step(s->children[0], -1)) return sched_fail(s);
    memcpy(s->last_lrs, s->children[0]->last_lrs, (size_t)s->n_groups * sizeof *s->last_lrs);
    return ct_scope_own(s);
}

/* ---- stepping and queries ---------------------------------------------------------------------- */

bool ct_scheduler_step(ct_scheduler *s) {
    if (!ct_ok()) return false;
    if (!s) return ct_error(CT_ERR_NULL, "scheduler_step: scheduler is NULL"), false;
    if (s->kind != SEQUENTIAL_LR) return lr_step(s, -1);
    s->last_epoch++;
    int idx = bisect_right(s->milestones, s->n_milestones, s->last_epoch);
    ct_scheduler *child = s->children[idx];
    bool restart = idx > 0 && s->milestones[idx - 1] == s->last_epoch;
    if (!lr_step(child, restart ? 0 : -1)) {
        s->last_epoch--;
        return false;
    }
    memcpy(s->last_lrs, child->last_lrs, (size_t)s->n_groups * sizeof *s->last_lrs);
    return true;
}

double ct_scheduler_get_last_lr(const ct_scheduler *s, int group) {
    if (!s) return ct_error(CT_ERR_NULL, "get_last_lr: scheduler is NULL"), NAN;
    if (group < 0 || group >= s->n_groups)
        return ct_error(CT_ERR_INDEX, "get_last_lr: parameter group %d out of range (the optimizer has %d)", group,
                        s->n_groups),
               NAN;
    return s->last_lrs[group];
}

int64_t ct_scheduler_last_epoch(const ct_scheduler *s) {
    if (!s) return ct_error(CT_ERR_NULL, "last_epoch: scheduler is NULL"), -1;
    return s->last_epoch;
}
