/* Optimizers, LR schedulers and gradient clipping against PyTorch 2.x's formulas, computed here in
 * f64 by plain loops: every optimizer option over several steps (f64 and f32 parameters, a
 * non-contiguous one among them), parameter groups, zero_grad, skipped NULL gradients, the state
 * dict's names and an exact resume through it, each scheduler's lr sequence (and OneCycleLR's
 * momentum), clipping by norm and by value, and the error paths with PyTorch's messages. */
#include "../common/testutil.h"
#include "../../tensor/native_impl.h"

#include <math.h>
#include <string.h>

/* ---- fixtures ---------------------------------------------------------------------------------- */

#define N_PARAMS 2
#define MAX_NUMEL 16
#define N_STEPS 5
static const ct_shape param_shapes[N_PARAMS] = {{2, {3, 4}}, {1, {5}}};

/* Initial value and step-k gradient of element j of parameter i: fixed, varied, signed. */
static double init_value(int i, int j) { return cos(0.7 * j + 1.9 * i) * 0.8; }
static double grad_value(int i, int j, int k) { return sin(1.3 * j + 0.9 * k + 2.1 * i) * (0.5 + 0.1 * k) + 0.05 * i; }

static double round_to(double v, ct_dtype dtype) { return dtype == CT_F32 ? (double)(float)v : v; }

/* Parameter i as a leaf requiring grad; i == 0 is stored transposed (a non-contiguous leaf). */
static ct_tensor *make_param(int i, ct_dtype dtype, double *ref) {
    ct_shape s = param_shapes[i];
    int64_t n = tu_numel(s);
    double v[MAX_NUMEL];
    for (int j = 0; j < n; j++) ref[j] = v[j] = round_to(init_value(i, j), dtype);
    ct_tensor *t;
    if (i == 0) { /* the transpose of a contiguous (4, 3) tensor holding the values */
        double tv[MAX_NUMEL];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) tv[c * 3 + r] = v[r * 4 + c];
        t = ct_t(ct_to_dtype(ct_from_data(tv, CT_SHAPE(4, 3), CT_F64), dtype));
        assert_false(ct_is_contiguous(t));
    } else {
        t = ct_to_dtype(ct_from_data(v, s, CT_F64), dtype);
    }
    return ct_requires_grad_(t, true);
}

static void set_grad(ct_tensor *p, int i, int k, double *ref) {
    int64_t n = ct_numel(p);
    double g[MAX_NUMEL];
    for (int j = 0; j < n; j++) ref[j] = g[j] = round_to(grad_value(i, j, k), ct_dtype_of(p));
    assert_true(ct_set_grad(p, ct_to_dtype(ct_from_data(g, ct_shape_of(p), CT_F64), ct_dtype_of(p))));
}

/* ---- f64 references, one step of one parameter (PyTorch 2.x single-tensor formulas) -------------- */

typedef struct ref_state {
    double step;
    double a[MAX_NUMEL], b[MAX_NUMEL], c[MAX_NUMEL]; /* moments, by algorithm */
    bool has_buf;
} ref_state;

static void ref_sgd(const ct_optim_opts *o, double *p, const double *g, ref_state *s, int n) {
    for (int j = 0; j < n; j++) {
        double d = o->maximize ? -g[j] : g[j];
        d += o->weight_decay * p[j];
        if (o->momentum != 0) {
            s->a[j] = s->has_buf ? o->momentum * s->a[j] + (1 - o->dampening) * d : d;
            d = o->nesterov ? d + o->momentum * s->a[j] : s->a[j];
        }
        p[j] -= o->lr * d;
    }
    s->has_buf = true;
}

static void ref_adam(const ct_optim_opts *o, bool decoupled, double *p, const double *g, ref_state *s, int n) {
    double t = ++s->step, b1 = o->betas[0], b2 = o->betas[1];
    double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
    for (int j = 0; j < n; j++) {
        if (decoupled) p[j] *= 1 - o->lr * o->weight_decay;
        double gj = o->maximize ? -g[j] : g[j];
        if (!decoupled) gj += o->weight_decay * p[j];
        s->a[j] = b1 * s->a[j] + (1 - b1) * gj;
        s->b[j] = b2 * s->b[j] + (1 - b2) * gj * gj;
        double v = s->b[j];
        if (o->amsgrad) v = s->c[j] = fmax(s->c[j], s->b[j]);
        p[j] -= o->lr / bc1 * s->a[j] / (sqrt(v) / sqrt(bc2) + o->eps);
    }
}

static void ref_rmsprop(const ct_optim_opts *o, double *p, const double *g, ref_state *s, int n) {
    s->step++;
    for (int j = 0; j < n; j++) {
        double gj = o->maximize ? -g[j] : g[j];
        gj += o->weight_decay * p[j];
        s->a[j] = o->alpha * s->a[j] + (1 - o->alpha) * gj * gj;
        double avg;
        if (o->centered) {
            s->c[j] = o->alpha * s->c[j] + (1 - o->alpha) * gj;
            avg = sqrt(s->a[j] - s->c[j] * s->c[j]) + o->eps;
        } else {
            avg = sqrt(s->a[j]) + o->eps;
        }
        if (o->momentum > 0) {
            s->b[j] = o->momentum * s->b[j] + gj / avg;
            p[j] -= o->lr * s->b[j];
        } else {
            p[j] -= o->lr * gj / avg;
        }
    }
}

static void ref_adagrad(const ct_optim_opts *o, double *p, const double *g, ref_state *s, int n) {
    double t = ++s->step;
    if (t == 1)
        for (int j = 0; j < n; j++) s->a[j] = o->initial_accumulator_value;
    double clr = o->lr / (1 + (t - 1) * o->lr_decay);
    for (int j = 0; j < n; j++) {
        double gj = o->maximize ? -g[j] : g[j];
        gj += o->weight_decay * p[j];
        s->a[j] += gj * gj;
        p[j] -= clr * gj / (sqrt(s->a[j]) + o->eps);
    }
}

typedef enum algo { SGD, ADAM, ADAMW, RMSPROP, ADAGRAD } algo;

static ct_optimizer *make_opt(algo a, ct_tensor_list params, ct_optim_opts o) {
    switch (a) {
    case SGD: return ct_sgd_opt(params, o);
    case ADAM: return ct_adam_opt(params, o);
    case ADAMW: return ct_adamw_opt(params, o);
    case RMSPROP: return ct_rmsprop_opt(params, o);
    case ADAGRAD: return ct_adagrad_opt(params, o);
    }
    return NULL;
}

static void ref_step(algo a, const ct_optim_opts *o, double *p, const double *g, ref_state *s, int n) {
    switch (a) {
    case SGD: ref_sgd(o, p, g, s, n); break;
    case ADAM: ref_adam(o, false, p, g, s, n); break;
    case ADAMW: ref_adam(o, true, p, g, s, n); break;
    case RMSPROP: ref_rmsprop(o, p, g, s, n); break;
    case ADAGRAD: ref_adagrad(o, p, g, s, n); break;
    }
}

typedef struct opt_case {
    const char *name;
    algo a;
    ct_optim_opts o; /* given options only (the rest "not given") */
} opt_case;
/* The case tables override CT__OPTIM_UNSET's "not given" markers, as CT_OPTS does. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define CASE(name, a, ...) {name, a, {CT__OPTIM_UNSET, __VA_ARGS__}}

/* Runs N_STEPS steps of the case on both parameters in dtype and compares every parameter after
 * every step with the f64 reference, run from the same (rounded) values. */
static void run_case(const opt_case *c, ct_dtype dtype, double rtol, double atol) {
    CT_SCOPE {
        double ref_p[N_PARAMS][MAX_NUMEL], g[MAX_NUMEL];
        ref_state st[N_PARAMS];
        memset(st, 0, sizeof st);
        ct_tensor *params[N_PARAMS];
        for (int i = 0; i < N_PARAMS; i++) params[i] = make_param(i, dtype, ref_p[i]);
        const void *data0 = ct_data_ptr(params[0]);
        ct_optimizer *opt = make_opt(c->a, CT_TENSORS(params[0], params[1]), c->o);
        if (!opt) fail_msg("%s: %s", c->name, ct_last_error());
        ct_optim_opts o = ct_optimizer_group_opts(opt, 0);
        for (int k = 0; k < N_STEPS; k++) {
            for (int i = 0; i < N_PARAMS; i++) {
                set_grad(params[i], i, k, g);
                ref_step(c->a, &o, ref_p[i], g, &st[i], (int)ct_numel(params[i]));
            }
            if (!ct_step(opt)) fail_msg("%s: %s", c->name, ct_last_error());
            for (int i = 0; i < N_PARAMS; i++) {
                assert_int_equal(ct_dtype_of(params[i]), dtype);
                tu_assert_values(params[i], param_shapes[i], ref_p[i], rtol, atol);
            }
        }
        assert_ptr_equal(ct_data_ptr(params[0]), data0); /* updated in place */
        assert_false(ct_is_contiguous(params[0]));
        assert_false(ct_requires_grad(ct_grad(params[0])));
    }
}

static void run_cases(const opt_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        run_case(&cases[i], CT_F64, 1e-12, 1e-14);
        run_case(&cases[i], CT_F32, 2e-5, 2e-6);
    }
}
#define RUN_CASES(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

/* ---- optimizers against the references --------------------------------------------------------- */

static void test_sgd(void **state) {
    (void)state;
    static const opt_case cases[] = {
        CASE("plain", SGD, .lr = 0.1),
        CASE("default lr", SGD),
        CASE("momentum", SGD, .lr = 0.1, .momentum = 0.9),
        CASE("dampening", SGD, .lr = 0.1, .momentum = 0.9, .dampening = 0.3),
        CASE("nesterov", SGD, .lr = 0.05, .momentum = 0.8, .nesterov = true),
        CASE("weight decay", SGD, .lr = 0.1, .weight_decay = 0.05),
        CASE("all", SGD, .lr = 0.07, .momentum = 0.5, .weight_decay = 0.1, .nesterov = true, .maximize = true),
        CASE("maximize", SGD, .lr = 0.1, .momentum = 0.9, .dampening = 0.1, .maximize = true),
    };
    RUN_CASES(cases);
}

static void test_adam(void **state) {
    (void)state;
    static const opt_case cases[] = {
        CASE("defaults", ADAM),
        CASE("lr betas eps", ADAM, .lr = 0.05, .betas = {0.8, 0.99}, .eps = 1e-6),
        CASE("weight decay", ADAM, .lr = 0.01, .weight_decay = 0.1),
        CASE("amsgrad", ADAM, .lr = 0.02, .amsgrad = true),
        CASE("maximize", ADAM, .lr = 0.01, .maximize = true, .weight_decay = 0.05, .amsgrad = true),
    };
    RUN_CASES(cases);
}

static void test_adamw(void **state) {
    (void)state;
    static const opt_case cases[] = {
        CASE("defaults", ADAMW),
        CASE("large decay", ADAMW, .lr = 0.05, .weight_decay = 0.5),
        CASE("amsgrad maximize", ADAMW, .lr = 0.02, .betas = {0.5, 0.9}, .amsgrad = true, .maximize = true),
        CASE("no decay", ADAMW, .lr = 0.02, .weight_decay = 0),
    };
    RUN_CASES(cases);
}

static void test_rmsprop(void **state) {
    (void)state;
    static const opt_case cases[] = {
        CASE("defaults", RMSPROP),
        CASE("alpha eps", RMSPROP, .lr = 0.02, .alpha = 0.9, .eps = 1e-4),
        CASE("momentum", RMSPROP, .lr = 0.01, .momentum = 0.9),
        CASE("centered", RMSPROP, .lr = 0.01, .centered = true),
        CASE("centered momentum decay", RMSPROP, .lr = 0.01, .centered = true, .momentum = 0.5, .weight_decay = 0.1),
        CASE("maximize", RMSPROP, .lr = 0.01, .maximize = true, .alpha = 0.8),
    };
    RUN_CASES(cases);
}

static void test_adagrad(void **state) {
    (void)state;
    static const opt_case cases[] = {
        CASE("defaults", ADAGRAD),
        CASE("lr decay", ADAGRAD, .lr = 0.1, .lr_decay = 0.5),
        CASE("initial accumulator", ADAGRAD, .lr = 0.1, .initial_accumulator_value = 0.3, .eps = 1e-3),
        CASE("weight decay maximize", ADAGRAD, .lr = 0.05, .weight_decay = 0.2, .maximize = true, .lr_decay = 0.1),
    };
    RUN_CASES(cases);
}

/* PyTorch 2.x's defaults, resolved. */
static void test_defaults(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_zeros(CT_SHAPE(2)), true);
    ct_optim_opts o = ct_optimizer_group_opts(ct_sgd(CT_TENSORS(w)), 0);
    assert_true(o.lr == 1e-3 && o.momentum == 0 && o.dampening == 0 && o.weight_decay == 0 && !o.nesterov && !o.maximize);
    o = ct_optimizer_group_opts(ct_adam(CT_TENSORS(w)), 0);
    assert_true(o.lr == 1e-3 && o.betas[0] == 0.9 && o.betas[1] == 0.999 && o.eps == 1e-8 && o.weight_decay == 0 &&
                !o.amsgrad && !o.maximize);
    o = ct_optimizer_group_opts(ct_adamw(CT_TENSORS(w)), 0);
    assert_true(o.lr == 1e-3 && o.weight_decay == 0.01 && o.eps == 1e-8 && o.betas[1] == 0.999);
    o = ct_optimizer_group_opts(ct_rmsprop(CT_TENSORS(w)), 0);
    assert_true(o.lr == 1e-2 && o.alpha == 0.99 && o.eps == 1e-8 && o.weight_decay == 0 && o.momentum == 0 && !o.centered);
    o = ct_optimizer_group_opts(ct_adagrad(CT_TENSORS(w)), 0);
    assert_true(o.lr == 1e-2 && o.lr_decay == 0 && o.weight_decay == 0 && o.initial_accumulator_value == 0 && o.eps == 1e-10);
    assert_string_equal(ct_optimizer_name(ct_adagrad(CT_TENSORS(w))), "Adagrad");
    assert_true(ct_ok());
}

/* 16-bit parameters compute in float and round on store. */
static void test_half_params(void **state) {
    (void)state;
    double p = 0.75, g = 0.5, m = 0;
    ct_tensor *w = ct_requires_grad_(ct_full(CT_SHAPE(3), p, .dtype = CT_F16), true);
    ct_tensor *b = ct_requires_grad_(ct_full(CT_SHAPE(3), p, .dtype = CT_BF16), true);
    ct_optimizer *opt = ct_sgd(CT_TENSORS(w, b), .lr = 0.1, .momentum = 0.9);
    for (int k = 0; k < 3; k++) {
        ct_set_grad(w, ct_full(CT_SHAPE(3), g, .dtype = CT_F16));
        ct_set_grad(b, ct_full(CT_SHAPE(3), g, .dtype = CT_BF16));
        assert_true(ct_step(opt));
        m = k == 0 ? g : 0.9 * m + g;
        p -= 0.1 * m;
    }
    double want[3] = {p, p, p};
    tu_assert_values(w, CT_SHAPE(3), want, 2e-3, 0);
    tu_assert_values(b, CT_SHAPE(3), want, 1e-2, 0);
    assert_int_equal(ct_dtype_of(w), CT_F16);
}

/* A large parameter (parallel loop) gives the same bits with 1 thread and with several. */
static void test_thread_count_independent(void **state) {
    (void)state;
    uint64_t seed = 7;
    int64_t n = 300000;
    ct_tensor *g = tu_random(&seed, CT_SHAPE(n), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *p0 = tu_random(&seed, CT_SHAPE(n), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *out[2];
    int threads = ct_get_num_threads();
    for (int r = 0; r < 2; r++) {
        ct_set_num_threads(r == 0 ? 1 : 4);
        ct_tensor *p = ct_requires_grad_(ct_clone(p0), true);
        ct_optimizer *opt = ct_adamw(CT_TENSORS(p), .lr = 0.01, .amsgrad = true);
        for (int k = 0; k < 3; k++) {
            ct_set_grad(p, ct_mul(g, ct_scalar(k + 1.0)));
            assert_true(ct_step(opt));
        }
        out[r] = p;
    }
    ct_set_num_threads(threads);
    assert_int_equal(memcmp(ct_data_ptr(out[0]), ct_data_ptr(out[1]), (size_t)n * sizeof(float)), 0);
}

/* ---- groups, zero_grad, skipped parameters ------------------------------------------------------ */

static void test_param_groups(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_full(CT_SHAPE(2), 1.0, .dtype = CT_F64), true);
    ct_tensor *b = ct_requires_grad_(ct_full(CT_SHAPE(3), 1.0, .dtype = CT_F64), true);
    ct_tensor *h = ct_requires_grad_(ct_full(CT_SHAPE(1), 1.0, .dtype = CT_F64), true);
    ct_optimizer *opt = ct_sgd(CT_TENSORS(w), .lr = 0.1, .momentum = 0.5);
    assert_true(ct_optimizer_add_param_group(opt, CT_TENSORS(b), .lr = 0.01));
    assert_true(ct_optimizer_add_param_group(opt, CT_TENSORS(h), .momentum = 0, .weight_decay = 1.0));
    assert_int_equal(ct_optimizer_num_groups(opt), 3);
    /* Overrides by name over the optimizer's defaults (lr 0.1, momentum 0.5). */
    ct_optim_opts o1 = ct_optimizer_group_opts(opt, 1), o2 = ct_optimizer_group_opts(opt, 2);
    assert_true(o1.lr == 0.01 && o1.momentum == 0.5 && o1.weight_decay == 0);
    assert_true(o2.lr == 0.1 && o2.momentum == 0 && o2.weight_decay == 1.0);
    ct_tensor_list l = ct_optimizer_params(opt, 1);
    assert_int_equal(l.n, 1);
    assert_ptr_equal(l.items[0], b);
    double pw = 1, pb = 1, ph = 1, bw = 0, bb = 0;
    for (int k = 0; k < 3; k++) {
        double g = 0.5 + k;
        ct_set_grad(w, ct_full(CT_SHAPE(2), g, .dtype = CT_F64));
        ct_set_grad(b, ct_full(CT_SHAPE(3), g, .dtype = CT_F64));
        ct_set_grad(h, ct_full(CT_SHAPE(1), g, .dtype = CT_F64));
        assert_true(ct_step(opt));
        bw = k ? 0.5 * bw + g : g, pw -= 0.1 * bw;
        bb = k ? 0.5 * bb + g : g, pb -= 0.01 * bb;
        ph -= 0.1 * (g + 1.0 * ph);
    }
    tu_assert_values(w, CT_SHAPE(2), (double[]){pw, pw}, 1e-14, 0);
    tu_assert_values(b, CT_SHAPE(3), (double[]){pb, pb, pb}, 1e-14, 0);
    tu_assert_values(h, CT_SHAPE(1), (double[]){ph}, 1e-14, 0);
    /* lr access (what schedulers use) */
    assert_true(ct_optimizer_set_lr(opt, 1, 0.5));
    assert_true(ct_optimizer_get_lr(opt, 1) == 0.5);
    assert_true(ct_optimizer_get_lr(opt, 0) == 0.1);
    assert_true(isnan(ct_optimizer_get_lr(opt, 3)));
    tu_assert_error(CT_ERR_INDEX, "get_lr: parameter group 3 out of range (the optimizer has 3)");
}

static void test_zero_grad(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2, 2)), true);
    ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_optimizer *opt = ct_adam(CT_TENSORS(w, b));
    assert_true(ct_backward(ct_sum(ct_mul(ct_matmul(w, b), ct_scalar(3.0)))));
    assert_non_null(ct_grad(w));
    ct_tensor *gw = ct_grad(w);
    assert_true(ct_optimizer_zero_grad(opt, .set_to_none = false));
    assert_ptr_equal(ct_grad(w), gw); /* zeroed in place */
    tu_assert_values(gw, CT_SHAPE(2, 2), (double[]){0, 0, 0, 0}, 0, 0);
    assert_true(ct_zero_grad(opt));
    assert_null(ct_grad(w));
    assert_null(ct_grad(b));
    assert_true(ct_ok());
    /* A step with no gradients changes nothing and makes no state. */
    assert_true(ct_step(opt));
    tu_assert_values(w, CT_SHAPE(2, 2), (double[]){1, 1, 1, 1}, 0, 0);
    assert_int_equal(ct_optimizer_state_dict(opt).n, 7); /* group 0's options and params only */
}

/* A parameter whose .grad is NULL is skipped: unchanged, no state, no step counted. */
static void test_null_grad_skipped(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_full(CT_SHAPE(2), 1.0, .dtype = CT_F64), true);
    ct_tensor *b = ct_requires_grad_(ct_full(CT_SHAPE(2), 1.0, .dtype = CT_F64), true);
    ct_optimizer *opt = ct_adam(CT_TENSORS(w, b), .lr = 0.1);
    ct_set_grad(w, ct_full(CT_SHAPE(2), 2.0, .dtype = CT_F64));
    assert_true(ct_step(opt));
    assert_true(ct_step(opt));
    tu_assert_values(b, CT_SHAPE(2), (double[]){1, 1}, 0, 0);
    /* Two Adam steps with a constant gradient: m_hat = g, v_hat = g^2 each time. */
    double p = 1 - 2 * 0.1 * 2.0 / (2.0 + 1e-8);
    tu_assert_values(w, CT_SHAPE(2), (double[]){p, p}, 1e-12, 0);
    ct_optimizer_state sd = ct_optimizer_state_dict(opt);
    int n_state = 0;
    for (int i = 0; i < sd.n; i++) {
        assert_null(strstr(sd.names[i], "state.1."));
        n_state += !strncmp(sd.names[i], "state.", 6);
    }
    assert_int_equal(n_state, 3);
}

/* ---- state dict --------------------------------------------------------------------------------- */

static ct_tensor *find(ct_optimizer_state sd, const char *name) {
    for (int i = 0; i < sd.n; i++)
        if (!strcmp(sd.names[i], name)) return sd.tensors[i];
    fail_msg("no entry %s", name);
    return NULL;
}

static void test_state_dict_names(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2, 3)), true);
    ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(3)), true);
    ct_optimizer *opt = ct_adam(CT_TENSORS(w), .amsgrad = true);
    assert_true(ct_optimizer_add_param_group(opt, CT_TENSORS(b), .lr = 0.5));
    ct_set_grad(w, ct_full(CT_SHAPE(2, 3), 0.5));
    ct_set_grad(b, ct_full(CT_SHAPE(3), 0.5));
    assert_true(ct_step(opt) && ct_step(opt));
    ct_optimizer_state sd = ct_optimizer_state_dict(opt);
    static const char *const want[] = {
        "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
        "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
        "param_groups.0.lr", "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.weight_decay",
        "param_groups.0.amsgrad", "param_groups.0.maximize", "param_groups.0.params",
        "param_groups.1.lr", "param_groups.1.betas", "param_groups.1.eps", "param_groups.1.weight_decay",
        "param_groups.1.amsgrad", "param_groups.1.maximize", "param_groups.1.params",
    };
    assert_int_equal(sd.n, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < sd.n; i++) assert_string_equal(sd.names[i], want[i]);
    ct_tensor *step = find(sd, "state.1.step");
    assert_int_equal(ct_ndim(step), 0);
    assert_int_equal(ct_dtype_of(step), CT_F32);
    assert_true(ct_item(step) == 2);
    assert_true(ct_item(find(sd, "param_groups.1.lr")) == 0.5);
    assert_true(ct_item(find(sd, "param_groups.0.amsgrad")) == 1);
    tu_assert_values(find(sd, "param_groups.0.betas"), CT_SHAPE(2), (double[]){0.9, 0.999}, 0, 0);
    tu_assert_values(find(sd, "param_groups.1.params"), CT_SHAPE(1), (double[]){1}, 0, 0);
    /* exp_avg after two steps of g = 0.5: 0.5 * (1 - 0.9^2). */
    double m = 0.5 * (1 - 0.81);
    tu_assert_values(find(sd, "state.0.exp_avg"), CT_SHAPE(2, 3), (double[]){m, m, m, m, m, m}, 1e-6, 0);
    /* SGD without momentum has no state; with it, momentum_buffer. */
    ct_optimizer *sgd = ct_sgd(CT_TENSORS(w), .momentum = 0.9);
    assert_true(ct_step(sgd));
    sd = ct_optimizer_state_dict(sgd);
    assert_string_equal(sd.names[0], "state.0.momentum_buffer");
    /* Adagrad's state exists from the start. */
    sd = ct_optimizer_state_dict(ct_adagrad(CT_TENSORS(w), .initial_accumulator_value = 0.25));
    assert_string_equal(sd.names[0], "state.0.step");
    assert_string_equal(sd.names[1], "state.0.sum");
    tu_assert_values(sd.tensors[1], CT_SHAPE(2, 3), (double[]){0.25, 0.25, 0.25, 0.25, 0.25, 0.25}, 0, 0);
}

/* Saving after 3 steps and loading into a fresh optimizer over copies of the parameters resumes
 * exactly: both then take the same steps to the same bits. */
static void test_state_dict_resume(void **state) {
    (void)state;
    static const algo algos[] = {SGD, ADAM, ADAMW, RMSPROP, ADAGRAD};
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
        CT_SCOPE {
            double ref[MAX_NUMEL], g[MAX_NUMEL];
            ct_tensor *p = make_param(1, CT_F32, ref);
            ct_optim_opts o = {CT__OPTIM_UNSET, .lr = 0.05};
            if (algos[a] == SGD || algos[a] == RMSPROP) o.momentum = 0.9;
            if (algos[a] == ADAM) o.amsgrad = true;
            if (algos[a] == RMSPROP) o.centered = true;
            if (algos[a] == ADAGRAD) o.lr_decay = 0.1;
            ct_optimizer *opt = make_opt(algos[a], CT_TENSORS(p), o);
            for (int k = 0; k < 3; k++) set_grad(p, 1, k, g), assert_true(ct_step(opt));
            ct_optimizer_state sd = ct_optimizer_state_dict(opt);
            /* A checkpoint: clones of every entry, and of the parameter. */
            ct_tensor *saved[32];
            assert_true(sd.n <= 32);
            for (int i = 0; i < sd.n; i++) saved[i] = ct_clone(sd.tensors[i]);
            ct_tensor *q = ct_requires_grad_(ct_detach(ct_clone(p)), true);
            ct_optimizer *resumed = make_opt(algos[a], CT_TENSORS(q), (ct_optim_opts){CT__OPTIM_UNSET});
            if (!ct_optimizer_load_state_dict(resumed, (ct_optimizer_state){sd.n, sd.names, saved}))
                fail_msg("%s: %s", ct_optimizer_name(opt), ct_last_error());
            assert_true(ct_optimizer_get_lr(resumed, 0) == 0.05);
            for (int k = 3; k < 6; k++) {
                set_grad(p, 1, k, g), set_grad(q, 1, k, g);
                assert_true(ct_step(opt) && ct_step(resumed));
            }
            assert_int_equal(memcmp(ct_data_ptr(p), ct_data_ptr(q), 5 * sizeof(float)), 0);
        }
    }
    /* Mismatched dicts are refused and change nothing. */
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_optimizer *opt = ct_adam(CT_TENSORS(w));
    ct_optimizer_state sd = {1, (const char *const[]){"state.0.momentum_buffer"}, (ct_tensor *const[]){ct_ones(CT_SHAPE(2))}};
    assert_false(ct_optimizer_load_state_dict(opt, sd));
    tu_assert_error(CT_ERR_ARG, "load_state_dict: unexpected key 'state.0.momentum_buffer' for Adam");
    sd = (ct_optimizer_state){2, (const char *const[]){"state.0.exp_avg", "param_groups.0.params"},
                              (ct_tensor *const[]){ct_ones(CT_SHAPE(3)), ct_zeros(CT_SHAPE(1), .dtype = CT_I64)}};
    assert_false(ct_optimizer_load_state_dict(opt, sd));
    tu_assert_error(CT_ERR_SHAPE, "'state.0.exp_avg' has shape [3], which does not fit parameter 0 of shape [2]");
    sd = (ct_optimizer_state){1, (const char *const[]){"param_groups.0.params"}, (ct_tensor *const[]){ct_zeros(CT_SHAPE(2))}};
    assert_false(ct_optimizer_load_state_dict(opt, sd));
    tu_assert_error(CT_ERR_ARG, "loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    sd = (ct_optimizer_state){0, NULL, NULL};
    assert_false(ct_optimizer_load_state_dict(opt, sd));
    tu_assert_error(CT_ERR_ARG, "loaded state dict has a different number of parameter groups");
}

/* ---- schedulers --------------------------------------------------------------------------------- */

/* An SGD optimizer over one parameter with two groups (lr base and base / 10). */
static ct_optimizer *sched_opt(double base, double momentum) {
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_optimizer *opt = ct_sgd(CT_TENSORS(w), .lr = base, .momentum = momentum);
    ct_optimizer_add_param_group(opt, CT_TENSORS(b), .lr = base / 10);
    return opt;
}

/* Asserts the lr of both groups (initial lr base and base / 10) after construction (epoch 0) and
 * after each of n - 1 steps equals f(epoch, the group's initial lr). */
typedef double (*lr_formula)(int64_t epoch, double base, const void *user);
static void assert_lr_sequence(ct_optimizer *opt, ct_scheduler *s, int n, double base, lr_formula f, const void *user) {
    if (!s) fail_msg("scheduler: %s", ct_last_error());
    for (int e = 0; e < n; e++) {
        if (e > 0) assert_true(ct_scheduler_step(s));
        assert_int_equal(ct_scheduler_last_epoch(s), e);
        for (int g = 0; g < 2; g++) {
            double want = f(e, g ? base / 10 : base, user);
            double got = ct_optimizer_get_lr(opt, g);
            if (fabs(got - want) > 1e-12 * fabs(want) + 1e-15)
                fail_msg("epoch %d group %d: lr %.17g, want %.17g", e, g, got, want);
            assert_true(ct_scheduler_get_last_lr(s, g) == got);
        }
    }
}

typedef struct sched_params {
    double base, gamma, eta_min, start, end;
    int64_t step, T, total;
    int64_t milestones[4];
    int n_milestones;
} sched_params;

static double step_formula(int64_t e, double base, const void *u) {
    const sched_params *p = u;
    return base * pow(p->gamma, (double)(e / p->step));
}
static double multistep_formula(int64_t e, double base, const void *u) {
    const sched_params *p = u;
    int k = 0;
    for (int i = 0; i < p->n_milestones; i++) k += p->milestones[i] <= e;
    return base * pow(p->gamma, k);
}
static double exponential_formula(int64_t e, double base, const void *u) {
    const sched_params *p = u;
    return base * pow(p->gamma, (double)e);
}
static double cosine_formula(int64_t e, double base, const void *u) {
    const sched_params *p = u;
    return p->eta_min + (base - p->eta_min) * (1 + cos(M_PI * (double)e / (double)p->T)) / 2;
}
static double linear_formula(int64_t e, double base, const void *u) {
    const sched_params *p = u;
    return base * (p->start + (p->end - p->start) * (double)(e < p->total ? e : p->total) / (double)p->total);
}

static void test_step_lrs(void **state) {
    (void)state;
    sched_params p = {.base = 0.1, .gamma = 0.5, .step = 3};
    ct_optimizer *opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_step_lr(opt, 3, .gamma = 0.5), 11, p.base, step_formula, &p);
    p = (sched_params){.base = 0.1, .gamma = 0.1, .step = 2};
    opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_step_lr(opt, 2), 7, p.base, step_formula, &p); /* gamma=0.1 */
    /* Milestones in any order, a repeated one counting twice (PyTorch's Counter). */
    p = (sched_params){.base = 1.0, .gamma = 0.5, .milestones = {6, 2, 4, 4}, .n_milestones = 4};
    opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_multistep_lr(opt, CT_MILESTONES(6, 2, 4, 4), .gamma = 0.5), 9, p.base, multistep_formula, &p);
    p = (sched_params){.base = 0.2, .gamma = 0.9};
    opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_exponential_lr(opt, 0.9), 12, p.base, exponential_formula, &p);
    /* initial_lr is recorded once: a second scheduler keeps the first one's. */
    ct_optimizer_state sd = ct_optimizer_state_dict(opt);
    assert_true(ct_item(find(sd, "param_groups.0.initial_lr")) == 0.2);
}

static void test_cosine_lr(void **state) {
    (void)state;
    /* The recursive form follows the closed form, through the minimum and back up (restarts at
     * 2 T_max). */
    sched_params p = {.base = 0.1, .eta_min = 0.001, .T = 5};
    ct_optimizer *opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_cosine_annealing_lr(opt, 5, .eta_min = 0.001), 23, p.base, cosine_formula, &p);
    p = (sched_params){.base = 0.05, .eta_min = 0, .T = 7};
    opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_cosine_annealing_lr(opt, 7), 16, p.base, cosine_formula, &p);
}

static void test_linear_lr(void **state) {
    (void)state;
    sched_params p = {.base = 0.1, .start = 1.0 / 3, .end = 1.0, .total = 5};
    ct_optimizer *opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_linear_lr(opt), 9, p.base, linear_formula, &p); /* PyTorch's defaults */
    p = (sched_params){.base = 0.1, .start = 1.0, .end = 0.25, .total = 4};
    opt = sched_opt(p.base, 0);
    assert_lr_sequence(opt, ct_linear_lr(opt, .start_factor = 1.0, .end_factor = 0.25, .total_iters = 4), 8, p.base,
                       linear_formula, &p);
}

/* OneCycleLR by hand: phases end at pct * total - 1 and total - 1; lr and momentum anneal between
 * their phase's ends with pct = (t - start) / (end - start). */
static double cos_anneal(double start, double end, double pct) { return end + (start - end) / 2 * (cos(M_PI * pct) + 1); }
static double lin_anneal(double start, double end, double pct) { return (end - start) * pct + start; }

static void onecycle_want(int64_t t, int64_t total, double pct_start, bool three, bool linear, double max_lr,
                          double *lr, double *mom) {
    double init = max_lr / 25, min = init / 1e4, T = (double)total;
    double (*an)(double, double, double) = linear ? lin_anneal : cos_anneal;
    double ends[3], lrs[3][2], ms[3][2];
    int n;
    if (three) {
        n = 3;
        ends[0] = pct_start * T - 1, ends[1] = 2 * pct_start * T - 2, ends[2] = T - 1;
        double l[3][2] = {{init, max_lr}, {max_lr, init}, {init, min}}, m[3][2] = {{0.95, 0.85}, {0.85, 0.95}, {0.95, 0.95}};
        memcpy(lrs, l, sizeof l), memcpy(ms, m, sizeof m);
    } else {
        n = 2;
        ends[0] = pct_start * T - 1, ends[1] = T - 1;
        double l[2][2] = {{init, max_lr}, {max_lr, min}}, m[2][2] = {{0.95, 0.85}, {0.85, 0.95}};
        memcpy(lrs, l, sizeof l), memcpy(ms, m, sizeof m);
    }
    double start = 0;
    for (int i = 0; i < n; i++) {
        if (t <= ends[i] || i == n - 1) {
            double pct = (t - start) / (ends[i] - start);
            *lr = an(lrs[i][0], lrs[i][1], pct);
            *mom = an(ms[i][0], ms[i][1], pct);
            return;
        }
        start = ends[i];
    }
}

static void test_onecycle_lr(void **state) {
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        bool three = variant & 1, linear = variant & 2, adam = variant == 1;
        int64_t total = 20;
        double max_lr = 0.4, lr = NAN, mom = NAN;
        ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
        ct_optimizer *opt = adam ? ct_adam(CT_TENSORS(w)) : ct_sgd(CT_TENSORS(w), .momentum = 0.9);
        ct_scheduler *s = ct_onecycle_lr(opt, max_lr, total, .three_phase = three,
                                         .anneal_strategy = linear ? CT_ANNEAL_LINEAR : CT_ANNEAL_COS);
        if (!s) fail_msg("%s", ct_last_error());
        for (int64_t t = 0; t <= total; t++) {
            if (t > 0) assert_true(ct_scheduler_step(s));
            onecycle_want(t, total, 0.3, three, linear, max_lr, &lr, &mom);
            ct_optim_opts o = ct_optimizer_group_opts(opt, 0);
            double got_mom = adam ? o.betas[0] : o.momentum;
            if (fabs(o.lr - lr) > 1e-12 * fabs(lr) || fabs(got_mom - mom) > 1e-12)
                fail_msg("variant %d step %lld: lr %.17g momentum %.17g, want %.17g %.17g", variant, (long long)t, o.lr,
                         got_mom, lr, mom);
            if (adam) assert_true(o.betas[1] == 0.999);
        }
        /* One step past total_steps is PyTorch's error. */
        assert_false(ct_scheduler_step(s));
        tu_assert_error(CT_ERR_ARG, "Tried to step 21 times. The specified number of total steps is 20");
    }
    /* cycle_momentum off leaves momentum alone. */
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_optimizer *opt = ct_sgd(CT_TENSORS(w), .momentum = 0.9);
    assert_non_null(ct_onecycle_lr(opt, 0.1, 10, .cycle_momentum = false));
    assert_true(ct_optimizer_group_opts(opt, 0).momentum == 0.9);
    assert_true(fabs(ct_optimizer_get_lr(opt, 0) - 0.1 / 25) < 1e-17); /* cos anneal at pct 0 */
}

/* Warm-up then cosine: LinearLR for 3 epochs, CosineAnnealingLR restarted at the milestone. */
static double warmup_cosine_formula(int64_t e, double base, const void *u) {
    (void)u;
    if (e < 3) return base * (0.1 + 0.9 * (double)e / 3);
    return base * (1 + cos(M_PI * (double)(e - 3) / 5)) / 2;
}
/* Exponential decay then StepLR (milestone 4): StepLR restarts from base_lr (its closed form). */
static double exp_then_step_formula(int64_t e, double base, const void *u) {
    (void)u;
    if (e < 4) return base * pow(0.5, (double)e);
    return base * pow(0.1, (double)((e - 4) / 2));
}

static void test_sequential_lr(void **state) {
    (void)state;
    sched_params p = {.base = 0.1};
    ct_optimizer *opt = sched_opt(p.base, 0);
    ct_scheduler *warm = ct_linear_lr(opt, .start_factor = 0.1, .total_iters = 3);
    ct_scheduler *cosine = ct_cosine_annealing_lr(opt, 5);
    assert_lr_sequence(opt, ct_sequential_lr(opt, CT_SCHEDULERS(warm, cosine), CT_MILESTONES(3)), 12, p.base,
                       warmup_cosine_formula, &p);
    opt = sched_opt(p.base, 0);
    ct_scheduler *ex = ct_exponential_lr(opt, 0.5), *st = ct_step_lr(opt, 2);
    assert_lr_sequence(opt, ct_sequential_lr(opt, CT_SCHEDULERS(ex, st), CT_MILESTONES(4)), 10, p.base,
                       exp_then_step_formula, &p);
}

static void test_scheduler_errors(void **state) {
    (void)state;
    ct_optimizer *opt = sched_opt(0.1, 0);
    assert_null(ct_linear_lr(opt, .start_factor = 0));
    tu_assert_error(CT_ERR_ARG, "LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    assert_null(ct_linear_lr(opt, .end_factor = 1.5));
    tu_assert_error(CT_ERR_ARG, "LinearLR: Ending multiplicative factor expected to be between 0 and 1.");
    assert_null(ct_onecycle_lr(opt, 0.1, 0));
    tu_assert_error(CT_ERR_ARG, "OneCycleLR: Expected positive integer total_steps, but got 0");
    assert_null(ct_onecycle_lr(opt, 0.1, 10, .pct_start = 1.5));
    tu_assert_error(CT_ERR_ARG, "OneCycleLR: Expected float between 0 and 1 pct_start, but got 1.5");
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    assert_null(ct_onecycle_lr(ct_adagrad(CT_TENSORS(w)), 0.1, 10));
    tu_assert_error(CT_ERR_ARG, "OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
    ct_scheduler *a = ct_step_lr(opt, 2), *b = ct_exponential_lr(sched_opt(0.1, 0), 0.5);
    assert_null(ct_sequential_lr(opt, CT_SCHEDULERS(a, b), CT_MILESTONES(2)));
    tu_assert_error(CT_ERR_ARG, "Sequential Schedulers expects all schedulers to belong to the same optimizer, but got "
                                "schedulers at index 1 to be different than the optimizer passed in.");
    assert_null(ct_sequential_lr(opt, CT_SCHEDULERS(a, ct_step_lr(opt, 3)), CT_MILESTONES(2, 3)));
    tu_assert_error(CT_ERR_ARG, "Sequential Schedulers expects number of schedulers provided to be one more than the number "
                                "of milestone points, but got number of schedulers 2 and the number of milestones to be "
                                "equal to 2");
    assert_null(ct_step_lr(opt, 0));
    tu_assert_error(CT_ERR_ARG, "StepLR: step_size must be a positive integer, but got 0");
    assert_null(ct_cosine_annealing_lr(NULL, 3));
    tu_assert_error(CT_ERR_NULL, "CosineAnnealingLR: optimizer is NULL");
    assert_true(isnan(ct_scheduler_get_last_lr(a, 2)));
    tu_assert_error(CT_ERR_INDEX, "get_last_lr: parameter group 2 out of range");
}

/* ---- clipping ----------------------------------------------------------------------------------- */

static void test_clip_grad_norm(void **state) {
    (void)state;
    static const double norm_types[] = {2.0, 1.0, 3.0, INFINITY};
    double gw[6] = {0.5, -1.5, 2.0, 0.25, -3.0, 1.0}, gb[3] = {4.0, -0.5, 0.75};
    for (size_t t = 0; t < sizeof norm_types / sizeof *norm_types; t++) {
        for (int dt = 0; dt < 2; dt++) {
            double p = norm_types[t];
            ct_dtype dtype = dt ? CT_F32 : CT_F64;
            /* the reference total over both gradients as one vector */
            double acc = 0;
            for (int i = 0; i < 9; i++) {
                double v = fabs(i < 6 ? gw[i] : gb[i - 6]);
                acc = isinf(p) ? fmax(acc, v) : acc + pow(v, p);
            }
            double total = isinf(p) ? acc : pow(acc, 1 / p);
            for (int clip = 0; clip < 2; clip++) {
                double max_norm = clip ? total / 4 : total * 2;
                ct_tensor *w = ct_requires_grad_(ct_zeros(CT_SHAPE(2, 3), .dtype = dtype), true);
                ct_tensor *b = ct_requires_grad_(ct_zeros(CT_SHAPE(3), .dtype = dtype), true);
                ct_tensor *unused = ct_requires_grad_(ct_zeros(CT_SHAPE(3), .dtype = dtype), true);
                /* a transposed gradient for w: staged and written back */
                ct_set_grad(w, ct_t(ct_to_dtype(ct_t(ct_from_data(gw, CT_SHAPE(2, 3), CT_F64)), dtype)));
                ct_set_grad(b, ct_to_dtype(ct_from_data(gb, CT_SHAPE(3), CT_F64), dtype));
                ct_tensor *norm = ct_clip_grad_norm_(CT_TENSORS(w, unused, b), max_norm, .norm_type = p);
                if (!norm) fail_msg("%s", ct_last_error());
                assert_int_equal(ct_ndim(norm), 0);
                assert_int_equal(ct_dtype_of(norm), dtype);
                assert_true(fabs(ct_item(norm) - total) <= (dt ? 1e-6 : 1e-14) * total);
                double coef = clip ? max_norm / (total + 1e-6) : 1.0, ww[6], wb[3];
                for (int i = 0; i < 6; i++) ww[i] = gw[i] * coef;
                for (int i = 0; i < 3; i++) wb[i] = gb[i] * coef;
                tu_assert_values(ct_grad(w), CT_SHAPE(2, 3), ww, dt ? 1e-6 : 1e-14, 0);
                tu_assert_values(ct_grad(b), CT_SHAPE(3), wb, dt ? 1e-6 : 1e-14, 0);
                assert_null(ct_grad(unused));
                assert_true(ct_ok());
            }
        }
    }
    /* No gradients: a norm of 0. */
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_tensor *norm = ct_clip_grad_norm_(CT_TENSORS(w), 1.0);
    assert_true(norm && ct_item(norm) == 0);
    /* Non-finite norms: scaled by default (to NaN), an error when asked. */
    ct_set_grad(w, ct_from_data((float[]){INFINITY, 1}, CT_SHAPE(2), CT_F32));
    assert_null(ct_clip_grad_norm_(CT_TENSORS(w), 1.0, .error_if_nonfinite = true));
    tu_assert_error(CT_ERR_ARG, "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be "
                                "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                                "`error_if_nonfinite=False`");
    norm = ct_clip_grad_norm_(CT_TENSORS(w), 1.0);
    assert_true(norm && isinf(ct_item(norm)));
    assert_true(isnan(ct_get(ct_grad(w), CT_SHAPE(0))));
    assert_null(ct_clip_grad_norm_(CT_TENSORS(w), 1.0, .norm_type = -1));
    tu_assert_error(CT_ERR_ARG, "clip_grad_norm_: norm_type must be positive or inf, but got -1.0");
}

static void test_clip_grad_value(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_zeros(CT_SHAPE(4), .dtype = CT_F64), true);
    ct_tensor *b = ct_requires_grad_(ct_zeros(CT_SHAPE(2), .dtype = CT_F64), true);
    ct_set_grad(w, ct_from_data((double[]){-3, -0.5, 0.25, 2}, CT_SHAPE(4), CT_F64));
    assert_true(ct_clip_grad_value_(CT_TENSORS(w, b), 1.0));
    tu_assert_values(ct_grad(w), CT_SHAPE(4), (double[]){-1, -0.5, 0.25, 1}, 0, 0);
    assert_null(ct_grad(b));
    assert_false(ct_clip_grad_value_(CT_TENSORS(w, NULL), 1.0));
    assert_false(ct_ok());
    ct_clear_error();
}

/* ---- errors ------------------------------------------------------------------------------------- */

static void test_optimizer_errors(void **state) {
    (void)state;
    ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(2)), true);
    ct_tensor_list ws = CT_TENSORS(w);
    assert_null(ct_sgd(ws, .lr = -1));
    tu_assert_error(CT_ERR_ARG, "SGD: Invalid learning rate: -1.0");
    /* Numbers as Python's repr writes them. */
    static const struct { double lr; const char *text; } reprs[] = {
        {-0.001, "-0.001"}, {-1e20, "-1e+20"}, {-123.456, "-123.456"}, {-1234567890123456.0, "-1234567890123456.0"},
        {-1.5e-7, "-1.5e-07"}, {-0.0001, "-0.0001"}, {-INFINITY, "-inf"},
    };
    for (size_t i = 0; i < sizeof reprs / sizeof *reprs; i++) {
        char want[64];
        snprintf(want, sizeof want, "Invalid learning rate: %s", reprs[i].text);
        assert_null(ct_adam(ws, .lr = reprs[i].lr));
        tu_assert_error(CT_ERR_ARG, want);
    }
    assert_null(ct_sgd(ws, .momentum = -0.5));
    tu_assert_error(CT_ERR_ARG, "Invalid momentum value: -0.5");
    assert_null(ct_sgd(ws, .weight_decay = -1e-5));
    tu_assert_error(CT_ERR_ARG, "Invalid weight_decay value: -1e-05");
    assert_null(ct_sgd(ws, .nesterov = true));
    tu_assert_error(CT_ERR_ARG, "Nesterov momentum requires a momentum and zero dampening");
    assert_null(ct_sgd(ws, .nesterov = true, .momentum = 0.9, .dampening = 0.1));
    tu_assert_error(CT_ERR_ARG, "Nesterov momentum requires a momentum and zero dampening");
    assert_null(ct_adam(ws, .eps = -1));
    tu_assert_error(CT_ERR_ARG, "Adam: Invalid epsilon value: -1.0");
    assert_null(ct_adam(ws, .betas = {1.0, 0.999}));
    tu_assert_error(CT_ERR_ARG, "Adam: Invalid beta parameter at index 0: 1.0");
    assert_null(ct_adamw(ws, .betas = {0.9, -0.1}));
    tu_assert_error(CT_ERR_ARG, "AdamW: Invalid beta parameter at index 1: -0.1");
    assert_null(ct_adamw(ws, .weight_decay = -0.01));
    tu_assert_error(CT_ERR_ARG, "AdamW: Invalid weight_decay value: -0.01");
    assert_null(ct_rmsprop(ws, .alpha = -0.99));
    tu_assert_error(CT_ERR_ARG, "RMSprop: Invalid alpha value: -0.99");
    assert_null(ct_rmsprop(ws, .momentum = -1));
    tu_assert_error(CT_ERR_ARG, "RMSprop: Invalid momentum value: -1.0");
    assert_null(ct_adagrad(ws, .lr_decay = -1));
    tu_assert_error(CT_ERR_ARG, "Adagrad: Invalid lr_decay value: -1.0");
    assert_null(ct_adagrad(ws, .initial_accumulator_value = -2));
    tu_assert_error(CT_ERR_ARG, "Adagrad: Invalid initial_accumulator_value value: -2.0");
    assert_null(ct_adagrad(ws, .eps = -1e-10));
    tu_assert_error(CT_ERR_ARG, "Adagrad: Invalid epsilon value: -1e-10");
    assert_null(ct_sgd(ws, .betas = {0.9, 0.99}));
    tu_assert_error(CT_ERR_ARG, "SGD got an unexpected keyword argument 'betas'");
    assert_null(ct_adam(ws, .momentum = 0.9));
    tu_assert_error(CT_ERR_ARG, "Adam got an unexpected keyword argument 'momentum'");
    assert_null(ct_sgd(CT_NO_TENSORS));
    tu_assert_error(CT_ERR_ARG, "optimizer got an empty parameter list");
    assert_null(ct_sgd(CT_TENSORS(ct_mul(w, ct_scalar(2.0)))));
    tu_assert_error(CT_ERR_ARG, "can't optimize a non-leaf Tensor");
    assert_null(ct_sgd(CT_TENSORS(w, w)));
    tu_assert_error(CT_ERR_ARG, "optimizer contains a parameter group with duplicate parameters");
    ct_optimizer *opt = ct_sgd(ws);
    assert_false(ct_optimizer_add_param_group(opt, ws, .lr = 0.5));
    tu_assert_error(CT_ERR_ARG, "some parameters appear in more than one parameter group");
    assert_false(ct_optimizer_add_param_group(opt, CT_TENSORS(ct_ones(CT_SHAPE(1))), .lr = -0.5));
    tu_assert_error(CT_ERR_ARG, "Invalid learning rate: -0.5");
    assert_int_equal(ct_optimizer_num_groups(opt), 1);
    /* NULL in, NULL out, keeping the first error. */
    assert_null(ct_sgd(CT_TENSORS(NULL)));
    assert_false(ct_ok());
    ct_clear_error();
    assert_false(ct_step(NULL));
    tu_assert_error(CT_ERR_NULL, "step: optimizer is NULL");
    ct_error(CT_ERR_SHAPE, "earlier failure");
    assert_false(ct_step(opt));
    tu_assert_error(CT_ERR_SHAPE, "earlier failure");
}

/* The fused update ops directly: one call over several tensors equals the formula per element,
 * and bad lists are errors naming the tensor. */
static void test_fused_update_ops(void **state) {
    (void)state;
    ct_tensor *p[2] = {ct_full(CT_SHAPE(3), 1.0), ct_full(CT_SHAPE(2, 2), 2.0)};
    ct_tensor *g[2] = {ct_full(CT_SHAPE(3), 0.5), ct_full(CT_SHAPE(2, 2), -1.0)};
    ct_tensor *buf[2] = {ct_full(CT_SHAPE(3), 1.0), ct_full(CT_SHAPE(2, 2), 1.0)};
    ct__sgd_hparams h = {.lr = 0.1, .momentum = 0.5, .dampening = 0, .weight_decay = 0.1};
    /* d = g + 0.1 p; buf = 0.5 buf + d; p -= 0.1 buf */
    assert_true(ct__fused_sgd_(p, g, buf, 2, &h));
    tu_assert_values(buf[0], CT_SHAPE(3), (double[]){1.1, 1.1, 1.1}, 1e-6, 0);
    tu_assert_values(p[0], CT_SHAPE(3), (double[]){0.89, 0.89, 0.89}, 1e-6, 0);
    tu_assert_values(p[1], CT_SHAPE(2, 2), (double[]){2.03, 2.03, 2.03, 2.03}, 1e-6, 0);
    ct__adam_hparams ha = {.step = 1, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    /* first step: m = 0.1 g, v = 0.001 g^2, p -= lr * sign(g) (bias corrections cancel) */
    ct_tensor *m[1] = {ct_zeros(CT_SHAPE(3))}, *v[1] = {ct_zeros(CT_SHAPE(3))};
    assert_true(ct__fused_adam_(p, g, m, v, NULL, 1, &ha));
    tu_assert_values(p[0], CT_SHAPE(3), (double[]){0.79, 0.79, 0.79}, 1e-6, 0);
    ct_tensor *bad_shape[2] = {g[0], ct_zeros(CT_SHAPE(5))};
    assert_false(ct__fused_sgd_(p, bad_shape, NULL, 2, &(ct__sgd_hparams){.lr = 0.1}));
    tu_assert_error(CT_ERR_SHAPE, "grads[1] has shape [5], but params[1] has shape [2, 2]");
    ct_tensor *bad_dtype[2] = {g[0], ct_zeros(CT_SHAPE(2, 2), .dtype = CT_F64)};
    assert_false(ct__fused_sgd_(p, bad_dtype, NULL, 2, &(ct__sgd_hparams){.lr = 0.1}));
    tu_assert_error(CT_ERR_DTYPE, "grads[1] has dtype float64");
    ct_tensor *strided[1] = {ct_transpose(ct_zeros(CT_SHAPE(2, 3)), 0, 1)}, *g32[1] = {ct_zeros(CT_SHAPE(3, 2))};
    assert_false(ct__fused_sgd_(strided, g32, NULL, 1, &(ct__sgd_hparams){.lr = 0.1}));
    tu_assert_error(CT_ERR_ARG, "params[0] is not contiguous");
    assert_false(ct__fused_sgd_(p, g, NULL, 2, &h));
    tu_assert_error(CT_ERR_ARG, "needs momentum_buffers");
    ct_tensor *ints[1] = {ct_zeros(CT_SHAPE(3), .dtype = CT_I64)};
    assert_false(ct__fused_adam_(ints, ints, ints, ints, NULL, 1, &ha));
    tu_assert_error(CT_ERR_DTYPE, "cannot optimize a tensor of dtype int64");
    assert_false(ct__fused_adam_(p, g, m, v, NULL, 1, &(ct__adam_hparams){.step = 0}));
    tu_assert_error(CT_ERR_ARG, "step must be >= 1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_adagrad),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_half_params),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_param_groups),
        cmocka_unit_test(test_zero_grad),
        cmocka_unit_test(test_null_grad_skipped),
        cmocka_unit_test(test_state_dict_names),
        cmocka_unit_test(test_state_dict_resume),
        cmocka_unit_test(test_step_lrs),
        cmocka_unit_test(test_cosine_lr),
        cmocka_unit_test(test_linear_lr),
        cmocka_unit_test(test_onecycle_lr),
        cmocka_unit_test(test_sequential_lr),
        cmocka_unit_test(test_scheduler_errors),
        cmocka_unit_test(test_clip_grad_norm),
        cmocka_unit_test(test_clip_grad_value),
        cmocka_unit_test(test_optimizer_errors),
        cmocka_unit_test(test_fused_update_ops),
    };
    return TU_RUN("optim", tests);
}
