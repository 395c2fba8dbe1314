/* RNN, LSTM and GRU: outputs and final states against an f64 reference written with plain loops
 * (RNN tanh and relu, LSTM, GRU; 1 and 2 layers; bidirectional; batch_first; unbatched; given and
 * default h_0/c_0; without biases; non-contiguous inputs; f32 against the f64 reference),
 * gradcheck with respect to the input, the initial states and weights of every kind, PyTorch's
 * parameter names, shapes and init bounds, repr, and the error paths with PyTorch's messages. */
#include "../common/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RNN_TANH, RNN_RELU, LSTM, GRU };

typedef struct rnn_case {
    const char *name;
    int kind;
    int64_t in, H, L, T, B;
    bool bidirectional, batch_first, unbatched, no_bias, given_state;
    tu_layout layout; /* of the input x */
} rnn_case;

static ct_module *make_module(const rnn_case *c, ct_dtype dtype) {
    ct_rnn_opts o = CT__RNN_OPTS(.num_layers = c->L, .bias = !c->no_bias, .batch_first = c->batch_first,
                                 .bidirectional = c->bidirectional, .dtype = dtype);
    switch (c->kind) {
    case RNN_TANH: return ct_rnn_opt(c->in, c->H, o);
    case RNN_RELU: o.nonlinearity = CT_RNN_RELU; return ct_rnn_opt(c->in, c->H, o);
    case LSTM: return ct_lstm_opt(c->in, c->H, o);
    default: return ct_gru_opt(c->in, c->H, o);
    }
}

static int gates_of(int kind) { return kind == LSTM ? 4 : kind == GRU ? 3 : 1; }
static int64_t dirs_of(const rnn_case *c) { return c->bidirectional ? 2 : 1; }
static double sigm(double v) { return 1 / (1 + exp(-v)); }

/* A parameter's values (NULL when the module has no such parameter: bias=false). */
static double *param_values(ct_module *m, const char *kind, int64_t l, int dir) {
    char name[64];
    snprintf(name, sizeof name, "%s_l%lld%s", kind, (long long)l, dir ? "_reverse" : "");
    ct_tensor *p = ct_module_parameter(m, name);
    return p ? tu_values(p) : NULL;
}

/* The reference: x [T][B][in] sequence-first, h0 and c0 [L*D][B][H]; writes out [T][B][D*H] and
 * hn, cn [L*D][B][H]. Each step and batch row computes a = W_ih x + b_ih and g = W_hh h + b_hh by
 * dot products, then the cell of the given kind. */
static void reference(const rnn_case *c, ct_module *m, int64_t B, const double *x, const double *h0, const double *c0,
                      double *out, double *hn, double *cn) {
    int64_t T = c->T, H = c->H, D = dirs_of(c), G = gates_of(c->kind), in = c->in;
    double *layer_in = malloc(sizeof(double) * (size_t)(T * B * in + 1));
    memcpy(layer_in, x, sizeof(double) * (size_t)(T * B * in));
    double *a = malloc(sizeof(double) * (size_t)(G * H)), *g = malloc(sizeof(double) * (size_t)(G * H));
    double *h = malloc(sizeof(double) * (size_t)(B * H + 1)), *cc = malloc(sizeof(double) * (size_t)(B * H + 1));
    for (int64_t l = 0; l < c->L; l++) {
        double *layer_out = calloc((size_t)(T * B * D * H + 1), sizeof(double));
        for (int dir = 0; dir < D; dir++) {
            double *w_ih = param_values(m, "weight_ih", l, dir), *w_hh = param_values(m, "weight_hh", l, dir);
            double *b_ih = param_values(m, "bias_ih", l, dir), *b_hh = param_values(m, "bias_hh", l, dir);
            int64_t k0 = (l * D + dir) * B * H;
            memcpy(h, h0 + k0, sizeof(double) * (size_t)(B * H));
            if (c0) memcpy(cc, c0 + k0, sizeof(double) * (size_t)(B * H));
            for (int64_t s = 0; s < T; s++) {
                int64_t t = dir ? T - 1 - s : s;
                for (int64_t b = 0; b < B; b++) {
                    for (int64_t j = 0; j < G * H; j++) {
                        a[j] = b_ih ? b_ih[j] : 0;
                        g[j] = b_hh ? b_hh[j] : 0;
                        for (int64_t k = 0; k < in; k++) a[j] += w_ih[j * in + k] * layer_in[(t * B + b) * in + k];
                        for (int64_t k = 0; k < H; k++) g[j] += w_hh[j * H + k] * h[b * H + k];
                    }
                    for (int64_t j = 0; j < H; j++) {
                        double *hb = &h[b * H + j], *cb = &cc[b * H + j];
                        if (c->kind == RNN_TANH) *hb = tanh(a[j] + g[j]);
                        else if (c->kind == RNN_RELU) *hb = fmax(a[j] + g[j], 0);
                        else if (c->kind == LSTM) {
                            double i = sigm(a[j] + g[j]), f = sigm(a[H + j] + g[H + j]);
                            double gg = tanh(a[2 * H + j] + g[2 * H + j]), o = sigm(a[3 * H + j] + g[3 * H + j]);
                            *cb = f * *cb + i * gg;
                            *hb = o * tanh(*cb);
                        } else {
                            double r = sigm(a[j] + g[j]), z = sigm(a[H + j] + g[H + j]);
                            double n = tanh(a[2 * H + j] + r * g[2 * H + j]);
                            *hb = (1 - z) * n + z * *hb;
                        }
                        /* h[b] is only read by row b's dot products, already done for this step */
                        layer_out[(t * B + b) * D * H + dir * H + j] = *hb;
                    }
                }
            }
            memcpy(hn + k0, h, sizeof(double) * (size_t)(B * H));
            if (cn) memcpy(cn + k0, cc, sizeof(double) * (size_t)(B * H));
        }
        free(layer_in);
        layer_in = layer_out;
        in = D * H;
    }
    memcpy(out, layer_in, sizeof(double) * (size_t)(T * B * D * H));
    free(layer_in), free(a), free(g), free(h), free(cc);
}

/* Runs the module on random inputs of the case's layout and compares everything with the reference. */
static void check_case(const rnn_case *c, ct_dtype dtype, double tol) {
    CT_SCOPE {
        uint64_t seed = 11 + (uint64_t)c->kind * 7 + (uint64_t)c->L;
        ct_manual_seed(seed);
        ct_module *m = make_module(c, dtype);
        assert_non_null(m);
        bool lstm = c->kind == LSTM;
        int64_t T = c->T, B = c->unbatched ? 1 : c->B, H = c->H, D = dirs_of(c), S = c->L * D;
        ct_shape xs = c->unbatched ? CT_SHAPE(T, c->in) : c->batch_first ? CT_SHAPE(B, T, c->in) : CT_SHAPE(T, B, c->in);
        ct_shape hs = c->unbatched ? CT_SHAPE(S, H) : CT_SHAPE(S, B, H);
        ct_tensor *x = tu_random(&seed, xs, dtype, c->layout, -1, 1);
        ct_tensor *h0 = tu_random(&seed, hs, dtype, TU_TRANSPOSED, -1, 1), *c0 = tu_random(&seed, hs, dtype, TU_STEPPED, -1, 1);
        ct_tensor_list outs = !c->given_state ? ct_forward_list(m, CT_TENSORS(x))
                              : lstm          ? ct_forward_list(m, CT_TENSORS(x, h0, c0))
                                              : ct_forward_list(m, CT_TENSORS(x, h0));
        assert_true(ct_ok());
        assert_int_equal(outs.n, lstm ? 3 : 2);

        /* the reference reads sequence-first [T][B][in] */
        double *xv = tu_values(x), *xseq = malloc(sizeof(double) * (size_t)(T * B * c->in));
        for (int64_t t = 0; t < T; t++)
            for (int64_t b = 0; b < B; b++)
                for (int64_t k = 0; k < c->in; k++)
                    xseq[(t * B + b) * c->in + k] = xv[(c->batch_first && !c->unbatched ? b * T + t : t * B + b) * c->in + k];
        size_t ns = (size_t)(S * B * H);
        double *zeros = calloc(ns, sizeof(double));
        double *h0v = c->given_state ? tu_values(h0) : zeros, *c0v = c->given_state ? tu_values(c0) : zeros;
        size_t no = (size_t)(T * B * D * H);
        double *want = malloc(sizeof(double) * no), *want_bf = malloc(sizeof(double) * no);
        double *hn = malloc(sizeof(double) * ns), *cn = malloc(sizeof(double) * ns);
        reference(c, m, B, xseq, h0v, lstm ? c0v : NULL, want, hn, lstm ? cn : NULL);

        ct_shape os = c->unbatched ? CT_SHAPE(T, D * H) : c->batch_first ? CT_SHAPE(B, T, D * H) : CT_SHAPE(T, B, D * H);
        if (c->batch_first && !c->unbatched) {
            for (int64_t t = 0; t < T; t++)
                for (int64_t b = 0; b < B; b++)
                    memcpy(want_bf + (b * T + t) * D * H, want + (t * B + b) * D * H, sizeof(double) * (size_t)(D * H));
        }
        tu_assert_values(outs.items[0], os, c->batch_first && !c->unbatched ? want_bf : want, tol, tol);
        tu_assert_values(outs.items[1], hs, hn, tol, tol);
        if (lstm) tu_assert_values(outs.items[2], hs, cn, tol, tol);
        for (int i = 0; i < outs.n; i++) assert_int_equal(ct_dtype_of(outs.items[i]), dtype);
        free(xseq), free(zeros), free(want), free(want_bf), free(hn), free(cn);
    }
}

static const rnn_case cases[] = {
    {"rnn tanh", RNN_TANH, 3, 4, 1, 5, 2, .given_state = true, .layout = TU_TRANSPOSED},
    {"rnn tanh 2 layers bidirectional", RNN_TANH, 3, 4, 2, 4, 3, .bidirectional = true, .given_state = true, .layout = TU_STEPPED},
    {"rnn relu 2 layers", RNN_RELU, 3, 4, 2, 5, 2, .given_state = true, .layout = TU_OFFSET},
    {"rnn relu bidirectional batch_first", RNN_RELU, 2, 3, 1, 4, 3, .bidirectional = true, .batch_first = true, .layout = TU_EXPANDED},
    {"rnn no bias unbatched", RNN_TANH, 3, 2, 2, 3, 1, .unbatched = true, .no_bias = true, .given_state = true},
    {"lstm", LSTM, 3, 4, 1, 5, 2, .given_state = true, .layout = TU_TRANSPOSED},
    {"lstm 2 layers bidirectional", LSTM, 3, 4, 2, 4, 2, .bidirectional = true, .given_state = true, .layout = TU_OFFSET},
    {"lstm batch_first default state", LSTM, 3, 4, 2, 3, 3, .batch_first = true, .layout = TU_STEPPED},
    {"lstm unbatched batch_first bidirectional", LSTM, 2, 3, 1, 4, 1, .unbatched = true, .batch_first = true,
     .bidirectional = true, .given_state = true},
    {"lstm no bias", LSTM, 3, 2, 1, 3, 2, .no_bias = true, .given_state = true},
    {"gru", GRU, 3, 4, 1, 5, 2, .given_state = true, .layout = TU_EXPANDED},
    {"gru 2 layers", GRU, 3, 4, 2, 4, 3, .given_state = true, .layout = TU_TRANSPOSED},
    {"gru bidirectional batch_first", GRU, 3, 2, 2, 3, 2, .bidirectional = true, .batch_first = true, .given_state = true},
    {"gru unbatched default state", GRU, 3, 4, 1, 5, 1, .unbatched = true, .layout = TU_STEPPED},
    {"gru no bias bidirectional", GRU, 2, 3, 1, 3, 2, .no_bias = true, .bidirectional = true, .given_state = true},
};

static void test_against_reference_f64(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("  %s\n", cases[i].name);
        check_case(&cases[i], CT_F64, 1e-12);
    }
}

static void test_against_reference_f32(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], CT_F32, 2e-5);
}

/* ---- gradients ---- */

typedef struct grad_ctx {
    ct_module *m;
    int n_inputs; /* tensors passed to forward: x, h_0, c_0 */
} grad_ctx;

/* Every output of the module (output, h_n, c_n) flattened into one vector. */
static ct_tensor *all_outputs(ct_tensor *const *in, void *user) {
    const grad_ctx *g = user;
    ct_tensor_list ins = {.n = g->n_inputs, .items = in};
    ct_tensor_list outs = ct_forward_list(g->m, ins);
    if (!outs.n) return NULL;
    ct_tensor *flat[3] = {NULL, NULL, NULL};
    for (int i = 0; i < outs.n; i++) flat[i] = ct_flatten(outs.items[i]);
    return ct_cat((ct_tensor_list){.n = outs.n, .items = flat}, 0);
}

/* Gradcheck with respect to x (and the given initial states), every layout. */
static void test_gradcheck_inputs(void **state) {
    (void)state;
    grad_ctx rnn = {ct_rnn(2, 3, .num_layers = 2, .dtype = CT_F64), 2};
    grad_ctx relu = {ct_rnn(2, 3, .nonlinearity = CT_RNN_RELU, .bidirectional = true, .dtype = CT_F64), 1};
    grad_ctx lstm = {ct_lstm(2, 2, .num_layers = 2, .bidirectional = true, .dtype = CT_F64), 3};
    grad_ctx gru = {ct_gru(2, 3, .batch_first = true, .dtype = CT_F64), 2};
    grad_ctx gru_unbatched = {ct_gru(3, 2, .num_layers = 2, .dtype = CT_F64), 2};
    const tu_grad_case table[] = {
        {"rnn tanh", all_outputs, &rnn, 2, {CT_SHAPE(3, 2, 2), CT_SHAPE(2, 2, 3)}, -1, 1},
        {"rnn relu", all_outputs, &relu, 1, {CT_SHAPE(3, 2, 2)}, -1, 1},
        {"lstm", all_outputs, &lstm, 3, {CT_SHAPE(3, 2, 2), CT_SHAPE(4, 2, 2), CT_SHAPE(4, 2, 2)}, -1, 1},
        {"gru batch_first", all_outputs, &gru, 2, {CT_SHAPE(2, 3, 2), CT_SHAPE(1, 2, 3)}, -1, 1},
        {"gru unbatched", all_outputs, &gru_unbatched, 2, {CT_SHAPE(3, 3), CT_SHAPE(2, 2)}, -1, 1},
    };
    TU_GRADCHECK_TABLE(table);
}

/* Gradcheck with respect to parameters: the module's own leaves are the checked inputs (gradcheck
 * perturbs them in place, so the forward sees the perturbation); x is input 0. */
static void check_params(ct_module *m, int n_inputs, int64_t T, int64_t B, int64_t in, const char *const *names, int n) {
    uint64_t seed = 5;
    ct_tensor *items[8];
    items[0] = ct_requires_grad_(tu_random(&seed, CT_SHAPE(T, B, in), CT_F64, TU_CONTIGUOUS, -1, 1), true);
    for (int i = 0; i < n; i++) {
        items[i + 1] = ct_module_parameter(m, names[i]);
        assert_non_null(items[i + 1]);
    }
    grad_ctx g = {m, n_inputs};
    bool ok = ct_gradcheck(all_outputs, &g, ((ct_tensor_list){.n = n + 1, .items = items}));
    if (!ok) fail_msg("%s: %s", ct_module_type_name(m), ct_last_error());
}

static void test_gradcheck_weights(void **state) {
    (void)state;
    check_params(ct_rnn(2, 3, .num_layers = 2, .bidirectional = true, .dtype = CT_F64), 1, 3, 2, 2,
                 (const char *const[]){"weight_ih_l0", "weight_hh_l1_reverse", "bias_ih_l1", "bias_hh_l0_reverse"}, 4);
    check_params(ct_rnn(2, 3, .nonlinearity = CT_RNN_RELU, .dtype = CT_F64), 1, 3, 2, 2,
                 (const char *const[]){"weight_ih_l0", "weight_hh_l0", "bias_hh_l0"}, 3);
    check_params(ct_lstm(2, 2, .num_layers = 2, .bidirectional = true, .dtype = CT_F64), 1, 3, 2, 2,
                 (const char *const[]){"weight_ih_l1_reverse", "weight_hh_l0", "bias_ih_l0_reverse", "bias_hh_l1"}, 4);
    check_params(ct_gru(2, 3, .bidirectional = true, .dtype = CT_F64), 1, 3, 2, 2,
                 (const char *const[]){"weight_ih_l0", "weight_hh_l0_reverse", "bias_ih_l0", "bias_hh_l0"}, 4);
    check_params(ct_gru(2, 2, .bias = false, .num_layers = 2, .dtype = CT_F64), 1, 3, 2, 2,
                 (const char *const[]){"weight_ih_l1", "weight_hh_l1"}, 2);
}

/* Backward through the module fills every parameter's .grad. */
static void test_backward_reaches_every_parameter(void **state) {
    (void)state;
    ct_module *m = ct_lstm(3, 4, .num_layers = 2, .bidirectional = true, .batch_first = true);
    ct_tensor *x = ct_randn(CT_SHAPE(2, 5, 3));
    ct_tensor_list outs = ct_forward_list(m, CT_TENSORS(x));
    assert_true(ct_backward(ct_add(ct_sum(outs.items[0]), ct_sum(outs.items[2]))));
    ct_named_tensors p = ct_named_parameters(m);
    for (int i = 0; i < p.n; i++) {
        ct_tensor *g = ct_grad(p.items[i].tensor);
        assert_non_null(g);
        assert_true(ct_item(ct_sum(ct_abs(g))) > 0);
    }
}

/* ---- parameters, repr ---- */

static void assert_params(ct_module *m, int n, const char *const *names, const ct_shape *shapes) {
    ct_named_tensors p = ct_named_parameters(m);
    assert_int_equal(p.n, n);
    for (int i = 0; i < n; i++) {
        assert_string_equal(p.items[i].name, names[i]);
        ct_shape s = ct_shape_of(p.items[i].tensor);
        assert_int_equal(s.ndim, shapes[i].ndim);
        for (int d = 0; d < s.ndim; d++) assert_int_equal(s.d[d], shapes[i].d[d]);
        assert_true(ct_requires_grad(p.items[i].tensor) && ct_is_leaf(p.items[i].tensor));
    }
}

static void test_parameter_names_and_shapes(void **state) {
    (void)state;
    /* torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).named_parameters() */
    const char *const lstm_names[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                                      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                                      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
    const ct_shape lstm_shapes[] = {CT_SHAPE(16, 3), CT_SHAPE(16, 4), CT_SHAPE(16), CT_SHAPE(16),
                                    CT_SHAPE(16, 3), CT_SHAPE(16, 4), CT_SHAPE(16), CT_SHAPE(16),
                                    CT_SHAPE(16, 8), CT_SHAPE(16, 4), CT_SHAPE(16), CT_SHAPE(16),
                                    CT_SHAPE(16, 8), CT_SHAPE(16, 4), CT_SHAPE(16), CT_SHAPE(16)};
    assert_params(ct_lstm(3, 4, .num_layers = 2, .bidirectional = true), 16, lstm_names, lstm_shapes);
    const char *const gru_names[] = {"weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"};
    const ct_shape gru_shapes[] = {CT_SHAPE(15, 2), CT_SHAPE(15, 5), CT_SHAPE(15, 5), CT_SHAPE(15, 5)};
    assert_params(ct_gru(2, 5, .num_layers = 2, .bias = false), 4, gru_names, gru_shapes);
    const char *const rnn_names[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    const ct_shape rnn_shapes[] = {CT_SHAPE(4, 3), CT_SHAPE(4, 4), CT_SHAPE(4), CT_SHAPE(4)};
    ct_module *rnn = ct_rnn(3, 4);
    assert_params(rnn, 4, rnn_names, rnn_shapes);
    assert_string_equal(ct_module_type_name(rnn), "RNN");
    assert_null(ct_module_parameter(ct_gru(2, 5, .bias = false), "bias_ih_l0"));
    assert_true(ct_ok());

    /* PyTorch's init: every parameter U(-1/sqrt(H), 1/sqrt(H)), H = 16 here */
    ct_module *big = ct_lstm(8, 16, .num_layers = 2, .dtype = CT_F64);
    ct_tensor_list ps = ct_parameters(big);
    double lo = 1, hi = -1;
    for (int i = 0; i < ps.n; i++) {
        lo = fmin(lo, ct_item(ct_min(ps.items[i])));
        hi = fmax(hi, ct_item(ct_max(ps.items[i])));
    }
    assert_true(lo >= -0.25 && lo < -0.24 && hi <= 0.25 && hi > 0.24);
    assert_int_equal(ct_num_parameters(big), 64 * 8 + 64 * 16 + 2 * 64 + 64 * 16 * 2 + 2 * 64);
    /* dtype option */
    assert_int_equal(ct_dtype_of(ps.items[0]), CT_F64);
}

static void test_repr(void **state) {
    (void)state;
    assert_string_equal(ct_module_str(ct_lstm(3, 4, .num_layers = 2, .bias = false, .batch_first = true, .dropout = 0.5,
                                              .bidirectional = true)),
                        "LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)");
    assert_string_equal(ct_module_str(ct_rnn(3, 4, .nonlinearity = CT_RNN_RELU)), "RNN(3, 4)"); /* as PyTorch: no nonlinearity */
    assert_string_equal(ct_module_str(ct_gru(3, 4, .num_layers = 2)), "GRU(3, 4, num_layers=2)");
    ct_module *net = ct_sequential(ct_rnn(2, 3, .batch_first = true));
    assert_string_equal(ct_module_str(net), "Sequential(\n  (0): RNN(2, 3, batch_first=True)\n)");
}

/* ---- edge shapes, modes, errors ---- */

static void test_zero_batch(void **state) {
    (void)state;
    ct_module *m = ct_lstm(3, 4, .bidirectional = true);
    ct_tensor_list outs = ct_forward_list(m, CT_TENSORS(ct_zeros(CT_SHAPE(5, 0, 3))));
    assert_int_equal(outs.n, 3);
    tu_assert_values(outs.items[0], CT_SHAPE(5, 0, 8), NULL, 0, 0);
    tu_assert_values(outs.items[1], CT_SHAPE(2, 0, 4), NULL, 0, 0);
    tu_assert_values(outs.items[2], CT_SHAPE(2, 0, 4), NULL, 0, 0);
}

static void test_dropout(void **state) {
    (void)state;
    ct_module *m = ct_gru(3, 4, .num_layers = 2, .dropout = 0.5);
    ct_tensor *x = ct_randn(CT_SHAPE(6, 2, 3));
    /* training: the first layer's output is dropped out, so two runs differ; eval: they agree */
    ct_tensor *a = ct_forward_list(m, CT_TENSORS(x)).items[0], *b = ct_forward_list(m, CT_TENSORS(x)).items[0];
    assert_false(ct_equal(a, b));
    ct_module_eval(m);
    a = ct_forward_list(m, CT_TENSORS(x)).items[0], b = ct_forward_list(m, CT_TENSORS(x)).items[0];
    assert_true(ct_equal(a, b));
    /* the same seed gives the same mask */
    ct_module_train(m, true);
    ct_manual_seed(5);
    a = ct_forward_list(m, CT_TENSORS(x)).items[0];
    ct_manual_seed(5);
    b = ct_forward_list(m, CT_TENSORS(x)).items[0];
    assert_true(ct_equal(a, b));
    /* one layer: dropout is never applied (PyTorch warns at construction) */
    ct_module *one = ct_rnn(3, 4, .dropout = 0.5);
    assert_non_null(one);
    a = ct_forward_list(one, CT_TENSORS(x)).items[0], b = ct_forward_list(one, CT_TENSORS(x)).items[0];
    assert_true(ct_equal(a, b));
    assert_true(ct_ok());
}

static void test_constructor_errors(void **state) {
    (void)state;
    assert_null(ct_rnn(3, 4, .dropout = 1.5));
    tu_assert_error(CT_ERR_ARG, "dropout should be a number in range [0, 1] representing the probability of an element being zeroed");
    assert_null(ct_lstm(3, 0));
    tu_assert_error(CT_ERR_ARG, "hidden_size must be greater than zero");
    assert_null(ct_gru(3, 4, .num_layers = 0));
    tu_assert_error(CT_ERR_ARG, "num_layers must be greater than zero");
    assert_null(ct_lstm(3, 4, .nonlinearity = CT_RNN_RELU));
    tu_assert_error(CT_ERR_ARG, "LSTM: nonlinearity is an option of RNN only");
    assert_null(ct_rnn(-1, 4));
    tu_assert_error(CT_ERR_ARG, "RNN: input_size must be non-negative, got -1");
}

static void test_forward_errors(void **state) {
    (void)state;
    ct_module *rnn = ct_rnn(3, 4), *lstm = ct_lstm(3, 4), *gru = ct_gru(3, 4);
    ct_tensor *x = ct_zeros(CT_SHAPE(5, 2, 3));
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(ct_zeros(CT_SHAPE(5, 2, 5)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "input.size(-1) must be equal to input_size. Expected 3, got 5");
    assert_int_equal(ct_forward_list(lstm, CT_TENSORS(ct_zeros(CT_SHAPE(5, 5)))).n, 0); /* unbatched */
    tu_assert_error(CT_ERR_SHAPE, "input.size(-1) must be equal to input_size. Expected 3, got 5");
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(x, ct_zeros(CT_SHAPE(1, 3, 4)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected hidden size (1, 2, 4), got [1, 3, 4]");
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(x, ct_zeros(CT_SHAPE(1, 3, 4)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected hidden size (1, 2, 4), got [1, 3, 4]");
    ct_tensor *h_ok = ct_zeros(CT_SHAPE(1, 2, 4)), *h_bad = ct_zeros(CT_SHAPE(1, 3, 4));
    assert_int_equal(ct_forward_list(lstm, CT_TENSORS(x, h_bad, h_ok)).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected hidden[0] size (1, 2, 4), got [1, 3, 4]");
    assert_int_equal(ct_forward_list(lstm, CT_TENSORS(x, h_ok, h_bad)).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected hidden[1] size (1, 2, 4), got [1, 3, 4]");
    /* unbatched: the batch dim PyTorch inserts shows in the message */
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(ct_zeros(CT_SHAPE(5, 3)), ct_zeros(CT_SHAPE(2, 4)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected hidden size (1, 1, 4), got [2, 1, 4]");
    /* ranks */
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(ct_zeros(CT_SHAPE(5, 2, 3, 1)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "RNN: Expected input to be 2D or 3D, got 4D tensor instead");
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(ct_zeros(CT_SHAPE(5)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "GRU: Expected input to be 2D or 3D, got 1D instead");
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(x, ct_zeros(CT_SHAPE(2, 4)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "For batched 3-D input, hx should also be 3-D but got 2-D tensor");
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(ct_zeros(CT_SHAPE(5, 3)), ct_zeros(CT_SHAPE(1, 1, 4)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor");
    assert_int_equal(ct_forward_list(lstm, CT_TENSORS(x, ct_zeros(CT_SHAPE(2, 4)), h_ok)).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors");
    /* empty sequence, input counts, dtypes, NULL */
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(ct_zeros(CT_SHAPE(0, 2, 3)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "Expected sequence length to be larger than 0 in RNN");
    assert_int_equal(ct_forward_list(lstm, CT_TENSORS(x, h_ok)).n, 0);
    tu_assert_error(CT_ERR_ARG, "LSTM.forward takes (input) or (input, h_0, c_0), got 2 tensors");
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(x, h_ok, h_ok)).n, 0);
    tu_assert_error(CT_ERR_ARG, "RNN.forward takes (input) or (input, h_0), got 3 tensors");
    assert_null(ct_forward(rnn, x));
    tu_assert_error(CT_ERR_ARG, "forward: RNN returned 2 outputs; use ct_forward_list");
    assert_int_equal(ct_forward_list(rnn, CT_TENSORS(ct_zeros(CT_SHAPE(5, 2, 3), .dtype = CT_F64))).n, 0);
    tu_assert_error(CT_ERR_DTYPE, "RNN: input and hidden states must have the parameters' dtype float32, got float64");
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(x, ct_zeros(CT_SHAPE(1, 2, 4), .dtype = CT_F64))).n, 0);
    tu_assert_error(CT_ERR_DTYPE, "GRU: input and hidden states must have the parameters' dtype float32, got float64");
    assert_null(ct_view(x, CT_SHAPE(7)));
    assert_int_equal(ct_forward_list(gru, CT_TENSORS(ct_view(x, CT_SHAPE(7)))).n, 0);
    tu_assert_error(CT_ERR_SHAPE, "view"); /* the first error is kept */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference_f64),
        cmocka_unit_test(test_against_reference_f32),
        cmocka_unit_test(test_gradcheck_inputs),
        cmocka_unit_test(test_gradcheck_weights),
        cmocka_unit_test(test_backward_reaches_every_parameter),
        cmocka_unit_test(test_parameter_names_and_shapes),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_zero_batch),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_constructor_errors),
        cmocka_unit_test(test_forward_errors),
    };
    return TU_RUN("rnn", tests);
}
