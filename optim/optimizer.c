/* The optimizer object shared by every algorithm: parameter groups with per-group options, the
 * per-parameter state slots, step (staging non-contiguous parameters, skipping those without a
 * gradient), zero_grad, learning-rate access, and the state dict under PyTorch's names.
 *
 * Parameters are numbered over all groups in order (group 0's first), which is PyTorch's
 * state_dict numbering: "state.3.exp_avg" is the fourth parameter's first moment. */
#include "optim_impl.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- options ----------------------------------------------------------------------------------- */

/* The fields of ct_optim_opts: name (PyTorch's keyword), the algorithm bit that allows it (0 for lr,
 * which every algorithm has), offset, and kind ('d' double, '2' pair of doubles, 'b' flag). */
typedef struct opt_field {
    const char *name;
    unsigned bit;
    size_t off;
    char kind;
} opt_field;
#define FIELD(name, bit, kind) {#name, bit, offsetof(ct_optim_opts, name), kind}
static const opt_field fields[] = {
    FIELD(lr, 0, 'd'),
    FIELD(momentum, CT__O_MOMENTUM, 'd'),
    FIELD(dampening, CT__O_DAMPENING, 'd'),
    FIELD(betas, CT__O_BETAS, '2'),
    FIELD(eps, CT__O_EPS, 'd'),
    FIELD(weight_decay, CT__O_WEIGHT_DECAY, 'd'),
    FIELD(alpha, CT__O_ALPHA, 'd'),
    FIELD(lr_decay, CT__O_LR_DECAY, 'd'),
    FIELD(initial_accumulator_value, CT__O_INITIAL_ACC, 'd'),
    FIELD(nesterov, CT__O_NESTEROV, 'b'),
    FIELD(amsgrad, CT__O_AMSGRAD, 'b'),
    FIELD(centered, CT__O_CENTERED, 'b'),
    FIELD(maximize, CT__O_MAXIMIZE, 'b'),
};
#define N_FIELDS ((int)(sizeof fields / sizeof *fields))

static double *field_d(ct_optim_opts *o, const opt_field *f) { return (double *)((char *)o + f->off); }
static int *field_b(ct_optim_opts *o, const opt_field *f) { return (int *)((char *)o + f->off); }

static bool field_given(const ct_optim_opts *o, const opt_field *f) {
    ct_optim_opts *m = (ct_optim_opts *)o;
    if (f->kind == 'b') return *field_b(m, f) >= 0;
    if (f->kind == '2') return !isnan(field_d(m, f)[0]) || !isnan(field_d(m, f)[1]);
    return !isnan(*field_d(m, f));
}

static bool field_allowed(const ct__optim_algo *algo, const opt_field *f) { return !f->bit || (algo->options & f->bit); }

/* out = in's given fields over base's; an option the algorithm lacks is PyTorch's TypeError. Fields
 * the algorithm lacks stay "not given" in out. */
static bool resolve_opts(const char *op, const ct__optim_algo *algo, const ct_optim_opts *in, const ct_optim_opts *base,
                         ct_optim_opts *out) {
    *out = *base;
    for (int i = 0; i < N_FIELDS; i++) {
        const opt_field *f = &fields[i];
        if (!field_given(in, f)) continue;
        if (!field_allowed(algo, f)) {
            ct_error(CT_ERR_ARG, "%s: %s got an unexpected keyword argument '%s'", op, algo->name, f->name);
            return false;
        }
        if (f->kind == 'b') *field_b(out, f) = *field_b((ct_optim_opts *)in, f) != 0;
        else if (f->kind == '2') memcpy(field_d(out, f), field_d((ct_optim_opts *)in, f), 2 * sizeof(double));
        else *field_d(out, f) = *field_d((ct_optim_opts *)in, f);
    }
    return algo->validate(out);
}

/* ---- Python's float repr, for PyTorch's messages ------------------------------------------------ */

const char *ct__py_float(double v) {
    static _Thread_local char ring[8][40];
    static _Thread_local int next;
    char *buf = ring[next++ & 7];
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v < 0 ? "-inf" : "inf");
    /* The shortest digit string that reads back as v (repr's rule), as d.ddde±x. */
    char sci[40];
    int prec = 0;
    for (prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v) break;
    }
    char digits[24];
    int nd = 0;
    const char *s = sci;
    bool neg = *s == '-';
    if (neg) s++;
    for (; *s && *s != 'e'; s++)
        if (*s != '.') digits[nd++] = *s;
    digits[nd] = 0;
    int exp = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp < -4 || exp >= 16) { /* 1e-05, 1.5e+16 */
        *o++ = digits[0];
        if (nd > 1) o += sprintf(o, ".%s", digits + 1);
        sprintf(o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) { /* 0.00123 */
        o += sprintf(o, "0.");
        for (int i = -1; i > exp; i--) *o++ = '0';
        sprintf(o, "%s", digits);
    } else { /* 123.45, 100.0 */
        for (int i = 0; i <= exp; i++) *o++ = i < nd ? digits[i] : '0';
        if (nd > exp + 1) sprintf(o, ".%s", digits + exp + 1);
        else sprintf(o, ".0");
    }
    return buf;
}

/* ---- the object -------------------------------------------------------------------------------- */

static void optimizer_destroy(ct_object *obj) {
    ct_optimizer *opt = (ct_optimizer *)obj;
    for (int i = 0; i < opt->n_params; i++) {
        ct_release(opt->params[i].p);
        for (int s = 0; s < CT__OPTIM_SLOTS; s++) ct_release(opt->params[i].state[s]);
    }
    free(opt->params);
    free(opt->groups);
    free(opt);
}
static const ct_object_type optimizer_type = {"optimizer", optimizer_destroy};

static bool check_opt(const char *op, const ct_optimizer *opt) {
    if (opt) return true;
    ct_error(CT_ERR_NULL, "%s: optimizer is NULL", op);
    return false;
}

static bool check_group(const char *op, const ct_optimizer *opt, int group) {
    if (!check_opt(op, opt)) return false;
    if (group >= 0 && group < opt->n_groups) return true;
    ct_error(CT_ERR_INDEX, "%s: parameter group %d out of range (the optimizer has %d)", op, group, opt->n_groups);
    return false;
}

/* Appends a group of params with options opts (over base) after checking the parameters. */
static bool add_group(const char *op, ct_optimizer *opt, ct_tensor_list params, const ct_optim_opts *opts,
                      const ct_optim_opts *base) {
    ct_optim_opts o;
    if (!resolve_opts(op, opt->algo, opts, base, &o)) return false;
    if (params.n < 0 || (params.n > 0 && !params.items)) {
        ct_error(CT_ERR_ARG, "%s: invalid parameter list", op);
        return false;
    }
    if (!ct__check_not_null(op, params.n, (const ct_tensor *const *)params.items)) return false;
    for (int i = 0; i < params.n; i++) {
        const ct_tensor *p = params.items[i];
        if (!ct_is_leaf(p)) {
            ct_error(CT_ERR_ARG, "%s: can't optimize a non-leaf Tensor", op);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (params.items[j] == p) {
                ct_error(CT_ERR_ARG, "%s: optimizer contains a parameter group with duplicate parameters", op);
                return false;
            }
        for (int j = 0; j < opt->n_params; j++)
            if (opt->params[j].p == p) {
                ct_error(CT_ERR_ARG, "%s: some parameters appear in more than one parameter group", op);
                return false;
            }
    }
    if (opt->n_groups == opt->cap_groups) {
        int cap = opt->cap_groups ? 2 * opt->cap_groups : 2;
        ct__optim_group *g = realloc(opt->groups, (size_t)cap * sizeof *g);
        if (!g) return ct_error(CT_ERR_OOM, "%s: out of memory", op), false;
        opt->groups = g, opt->cap_groups = cap;
    }
    if (opt->n_params + params.n > opt->cap_params) {
        int cap = opt->cap_params ? 2 * opt->cap_params : 8;
        while (cap < opt->n_params + params.n) cap *= 2;
        ct__optim_param *p = realloc(opt->params, (size_t)cap * sizeof *p);
        if (!p) return ct_error(CT_ERR_OOM, "%s: out of memory", op), false;
        opt->params = p, opt->cap_params = cap;
    }
    int g = opt->n_groups++;
    opt->groups[g] = (ct__optim_group){.o = o, .initial_lr = NAN};
    for (int i = 0; i < params.n; i++) {
        ct__optim_param *pp = &opt->params[opt->n_params++];
        *pp = (ct__optim_param){.p = ct_retain(params.items[i]), .group = g};
        if (opt->algo->init_state && !opt->algo->init_state(pp, &o)) return false;
    }
    return true;
}

ct_optimizer *ct__optimizer_new(const ct__optim_algo *algo, ct_tensor_list params, ct_optim_opts opts) {
    if (!ct_ok()) return NULL;
    if (params.n == 0) return ct_error(CT_ERR_ARG, "%s: optimizer got an empty parameter list", algo->name);
    ct_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) return ct_error(CT_ERR_OOM, "%s: out of memory", algo->name);
    ct_object_init(&opt->header, &optimizer_type);
    opt->algo = algo;
    if (!resolve_opts(algo->name, algo, &opts, &algo->defaults, &opt->defaults) ||
        !add_group(algo->name, opt, params, &opts, &algo->defaults)) {
        ct_release(opt);
        return NULL;
    }
    return ct_scope_own(opt);
}

bool ct_optimizer_add_param_group_opt(ct_optimizer *opt, ct_tensor_list params, ct_optim_opts opts) {
    if (!ct_ok() || !check_opt("add_param_group", opt)) return false;
    return add_group("add_param_group", opt, params, &opts, &opt->defaults);
}

/* ---- state slots -------------------------------------------------------------------------------- */

ct_tensor *ct__optim_slot(ct__optim_param *param, int i, bool step, double fill) {
    if (param->state[i]) return param->state[i];
    const ct_tensor *p = param->p;
    ct_scope_begin();
    ct_tensor *t = step ? ct_zeros(CT_SHAPE(), .dtype = CT_F32)
                        : ct_full(ct_shape_of(p), fill, .dtype = p->dtype, .device = ct__device(p));
    param->state[i] = ct_retain(t);
    ct_scope_end();
    return param->state[i];
}

double ct__optim_step_count(ct__optim_param *param, int i) {
    ct_tensor *t = ct__optim_slot(param, i, true, 0);
    if (!t) return NAN;
    float *s = (float *)ct__data(t);
    *s += 1.0f;
    return *s;
}

/* ---- step and zero_grad ------------------------------------------------------------------------ */

static ct_tensor *grad_of(const ct__optim_param *param) {
    return param->p->autograd ? param->p->autograd->grad : NULL;
}

static bool check_param(const char *name, const ct_tensor *p) {
    if (!ct_dtype_is_floating(p->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: cannot optimize a tensor of dtype %s", name, ct_dtype_name(p->dtype)), false;
    return ct__check_writable(name, p);
}

/* The parameters from `first` on that have a gradient, are not done, and share first's group,
 * device and dtype: staged contiguous and updated in one fused call (update_many), then the staged
 * copies of non-contiguous parameters written back. */
static bool step_batch(const ct_optimizer *opt, int first, bool *done) {
    const char *name = opt->algo->name;
    const ct_tensor *p0 = opt->params[first].p;
    int cap = opt->n_params - first;
    ct__optim_param **params = ct_scope_alloc((size_t)cap * sizeof *params);
    ct_tensor **staged = ct_scope_alloc(2 * (size_t)cap * sizeof *staged);
    if (!params || !staged) return false;
    int n = 0;
    for (int i = first; i < opt->n_params; i++) {
        ct__optim_param *param = &opt->params[i];
        ct_tensor *p = param->p, *grad = grad_of(param);
        if (done[i] || !grad || param->group != opt->params[first].group || p->dtype != p0->dtype ||
            !ct_device_equal(ct__device(p), ct__device(p0)))
            continue;
        done[i] = true;
        if (!check_param(name, p)) return false;
        params[n] = param;
        staged[n] = ct__contiguous_as(p, p->dtype);
        staged[cap + n] = ct__contiguous_as(grad, p->dtype);
        if (!staged[n] || !staged[cap + n]) return false;
        n++;
    }
    if (!opt->algo->update_many(params, staged, staged + cap, n, &opt->groups[params[0]->group].o)) return false;
    for (int i = 0; i < n; i++) {
        ct_tensor *p = params[i]->p;
        if (staged[i] != p) {
            if (!ct__copy_into(name, p, staged[i])) return false;
            ct__bump_version(p);
        }
    }
    return true;
}

bool ct_optimizer_step(ct_optimizer *opt) {
    if (!ct_ok() || !check_opt("step", opt)) return false;
    bool ok = true;
    CT_NO_GRAD CT_SCOPE {
        bool *done = ct_scope_alloc((size_t)(opt->n_params + 1) * sizeof *done);
        if (done) memset(done, 0, (size_t)opt->n_params * sizeof *done);
        else ok = false;
        for (int i = 0; i < opt->n_params && ok; i++) {
            if (!grad_of(&opt->params[i]) || done[i]) continue;
            ok = step_batch(opt, i, done);
        }
    }
    return ok;
}

bool ct_optimizer_zero_grad_opt(ct_optimizer *opt, ct_zero_grad_opts opts) {
    if (!ct_ok() || !check_opt("zero_grad", opt)) return false;
    bool ok = true;
    CT_NO_GRAD CT_SCOPE {
        for (int i = 0; i < opt->n_params && ok; i++) {
            ct_tensor *p = opt->params[i].p;
            if (opts.set_to_none) ok = ct_set_grad(p, NULL);
            else if (p->autograd && p->autograd->grad) ok = ct_zero_(p->autograd->grad) != NULL;
        }
    }
    return ok;
}

/* ---- accessors --------------------------------------------------------------------------------- */

const char *ct_optimizer_name(const ct_optimizer *opt) { return check_opt("name", opt) ? opt->algo->name : NULL; }

int ct_optimizer_num_groups(const ct_optimizer *opt) { return check_opt("num_groups", opt) ? opt->n_groups : -1; }

ct_tensor_list ct_optimizer_params(const ct_optimizer *opt, int group) {
    if (!check_group("params", opt, group)) return CT_NO_TENSORS;
    int n = 0;
    for (int i = 0; i < opt->n_params; i++) n += opt->params[i].group == group;
    ct_tensor **items = ct_scope_alloc((size_t)(n ? n : 1) * sizeof *items);
    if (!items) return CT_NO_TENSORS;
    n = 0;
    for (int i = 0; i < opt->n_params; i++)
        if (opt->params[i].group == group) items[n++] = opt->params[i].p;
    return (ct_tensor_list){.n = n, .items = items};
}

ct_optim_opts ct_optimizer_group_opts(const ct_optimizer *opt, int group) {
    if (!check_group("group_opts", opt, group)) return (ct_optim_opts){CT__OPTIM_UNSET};
    return opt->groups[group].o;
}

double ct_optimizer_get_lr(const ct_optimizer *opt, int group) {
    return check_group("get_lr", opt, group) ? opt->groups[group].o.lr : NAN;
}

bool ct_optimizer_set_lr(ct_optimizer *opt, int group, double lr) {
    if (!check_group("set_lr", opt, group)) return false;
    opt->groups[group].o.lr = lr;
    return true;
}

/* ---- state dict -------------------------------------------------------------------------------- */

static char *scoped_name(const char *fmt, ...) CT_PRINTF(1, 2);
static char *scoped_name(const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *s = ct_scope_alloc((size_t)n + 1);
    if (s) memcpy(s, tmp, (size_t)n + 1);
    return s;
}

ct_optimizer_state ct_optimizer_state_dict(const ct_optimizer *opt) {
    ct_optimizer_state none = {0, NULL, NULL};
    if (!ct_ok() || !check_opt("state_dict", opt)) return none;
    int cap = opt->n_params * CT__OPTIM_SLOTS + opt->n_groups * (N_FIELDS + 2);
    const char **names = ct_scope_alloc((size_t)cap * sizeof *names);
    ct_tensor **tensors = ct_scope_alloc((size_t)cap * sizeof *tensors);
    if (!names || !tensors) return none;
    int n = 0;
    for (int i = 0; i < opt->n_params; i++)
        for (int s = 0; s < CT__OPTIM_SLOTS; s++) {
            if (!opt->params[i].state[s]) continue;
            names[n] = scoped_name("state.%d.%s", i, opt->algo->slot_names[s]);
            tensors[n++] = ct_scope_own(ct_retain(opt->params[i].state[s]));
        }
    for (int g = 0; g < opt->n_groups; g++) {
        ct_optim_opts *o = &opt->groups[g].o;
        for (int f = 0; f < N_FIELDS; f++) {
            if (!field_allowed(opt->algo, &fields[f])) continue;
            names[n] = scoped_name("param_groups.%d.%s", g, fields[f].name);
            if (fields[f].kind == 'b') tensors[n++] = ct_scalar_tensor(*field_b(o, &fields[f]), .dtype = CT_BOOL);
            else if (fields[f].kind == '2') tensors[n++] = ct_from_data(field_d(o, &fields[f]), CT_SHAPE(2), CT_F64);
            else tensors[n++] = ct_scalar_tensor(*field_d(o, &fields[f]), .dtype = CT_F64);
        }
        if (!isnan(opt->groups[g].initial_lr)) {
            names[n] = scoped_name("param_groups.%d.initial_lr", g);
            tensors[n++] = ct_scalar_tensor(opt->groups[g].initial_lr, .dtype = CT_F64);
        }
        int64_t *idx = ct_scope_alloc((size_t)(opt->n_params + 1) * sizeof *idx);
        int k = 0;
        for (int i = 0; idx && i < opt->n_params; i++)
            if (opt->params[i].group == g) idx[k++] = i;
        names[n] = scoped_name("param_groups.%d.params", g);
        tensors[n++] = idx ? ct_from_data(idx, CT_SHAPE(k), CT_I64) : NULL;
    }
    if (!ct_ok()) return none;
    return (ct_optimizer_state){.n = n, .names = names, .tensors = tensors};
}

/* Parses "<prefix><int>.<rest>"; returns rest or NULL. */
static const char *parse_key(const char *name, const char *prefix, int *index) {
    size_t np = strlen(prefix);
    if (strncmp(name, prefix, np)) return NULL;
    char *end;
    long v = strtol(name + np, &end, 10);
    if (end == name + np || *end != '.' || v < 0 || v > INT32_MAX) return NULL;
    *index = (int)v;
    return end + 1;
}

static int find_slot(const ct__optim_algo *algo, const char *name) {
    for (int s = 0; s < CT__OPTIM_SLOTS; s++)
        if (algo->slot_names[s] && !strcmp(algo->slot_names[s], name)) return s;
    return -1;
}

static int find_field(const ct__optim_algo *algo, const char *name) {
    for (int f = 0; f < N_FIELDS; f++)
        if (field_allowed(algo, &fields[f]) && !strcmp(fields[f].name, name)) return f;
    return -1;
}

bool ct_optimizer_load_state_dict(ct_optimizer *opt, ct_optimizer_state state) {
    const char *op = "load_state_dict";
    if (!ct_ok() || !check_opt(op, opt)) return false;
    if (state.n < 0 || (state.n > 0 && (!state.names || !state.tensors)))
        return ct_error(CT_ERR_ARG, "%s: invalid state dict", op), false;
    /* Pass 1: check every entry and compute the new group options; nothing changes yet. */
    ct__optim_group *groups = malloc((size_t)opt->n_groups * sizeof *groups);
    if (!groups) return ct_error(CT_ERR_OOM, "%s: out of memory", op), false;
    memcpy(groups, opt->groups, (size_t)opt->n_groups * sizeof *groups);
    int n_group_entries = 0;
    bool ok = true;
    for (int e = 0; e < state.n && ok; e++) {
        const char *name = state.names[e], *rest;
        const ct_tensor *t = state.tensors[e];
        int i;
        ok = false;
        if (!name || !t) {
            ct_error(CT_ERR_NULL, "%s: entry %d is NULL", op, e);
        } else if ((rest = parse_key(name, "state.", &i))) {
            int s = find_slot(opt->algo, rest);
            if (i >= opt->n_params || s < 0) {
                ct_error(CT_ERR_ARG, "%s: unexpected key '%s' for %s", op, name, opt->algo->name);
            } else if (!strcmp(rest, "step") ? ct_numel(t) != 1
                                             : !ct__same_shape(t->shape, t->ndim, opt->params[i].p->shape, opt->params[i].p->ndim)) {
                ct_error(CT_ERR_SHAPE, "%s: '%s' has shape %s, which does not fit parameter %d of shape %s", op, name,
                         ct__shape_str(t->shape, t->ndim), i, ct__shape_str(opt->params[i].p->shape, opt->params[i].p->ndim));
            } else {
                ok = true;
            }
        } else if ((rest = parse_key(name, "param_groups.", &i))) {
            int f = find_field(opt->algo, rest);
            if (i >= opt->n_groups) {
                ct_error(CT_ERR_ARG, "%s: loaded state dict has a different number of parameter groups", op);
            } else if (!strcmp(rest, "params")) {
                int n = 0;
                for (int k = 0; k < opt->n_params; k++) n += opt->params[k].group == i;
                if (ct_numel(t) != n)
                    ct_error(CT_ERR_ARG, "%s: loaded state dict contains a parameter group that doesn't match the size of "
                                         "optimizer's group", op);
                else ok = true, n_group_entries++;
            } else if (!strcmp(rest, "initial_lr") && ct_numel(t) == 1) {
                groups[i].initial_lr = ct_item(t);
                ok = true;
            } else if (f < 0 || ct_numel(t) != (fields[f].kind == '2' ? 2 : 1)) {
                ct_error(CT_ERR_ARG, "%s: unexpected key '%s' for %s", op, name, opt->algo->name);
            } else if (fields[f].kind == '2') {
                double pair[2];
                ok = ct_copy_to_f64(t, pair, 2);
                memcpy(field_d(&groups[i].o, &fields[f]), pair, sizeof pair);
            } else if (fields[f].kind == 'b') {
                *field_b(&groups[i].o, &fields[f]) = ct_item(t) != 0;
                ok = true;
            } else {
                *field_d(&groups[i].o, &fields[f]) = ct_item(t);
                ok = ct_ok();
            }
        } else {
            ct_error(CT_ERR_ARG, "%s: unexpected key '%s' for %s", op, name, opt->algo->name);
        }
    }
    if (ok && n_group_entries != opt->n_groups) {
        ct_error(CT_ERR_ARG, "%s: loaded state dict has a different number of parameter groups", op);
        ok = false;
    }
    for (int g = 0; g < opt->n_groups && ok; g++) ok = opt->algo->validate(&groups[g].o);
    /* Pass 2: replace the state and the options. */
    if (ok) {
        for (int i = 0; i < opt->n_params; i++)
            for (int s = 0; s < CT__OPTIM_SLOTS; s++) ct_release(opt->params[i].state[s]), opt->params[i].state[s] = NULL;
        CT_NO_GRAD CT_SCOPE {
            for (int e = 0; e < state.n && ok; e++) {
                int i;
                const char *rest = parse_key(state.names[e], "state.", &i);
                if (!rest) continue;
                bool step = !strcmp(rest, "step");
                ct_tensor *dst = ct__optim_slot(&opt->params[i], find_slot(opt->algo, rest), step, 0);
                ok = dst && ct__copy_into(op, dst, step ? ct_reshape(state.tensors[e], CT_SHAPE()) : state.tensors[e]);
            }
        }
        memcpy(opt->groups, groups, (size_t)opt->n_groups * sizeof *groups);
    }
    free(groups);
    return ok;
}
