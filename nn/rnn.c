/* RNN, LSTM and GRU (torch.nn.RNN / LSTM / GRU), built from differentiable ops so that autograd
 * gives their backward (backpropagation through time) with no code of their own.
 *
 * One layer, one direction, over a sequence x [T, B, in] with hidden state h [B, H]:
 *
 *   gi = x W_ih^T + b_ih          all T steps in one GEMM up front ([T*B, in] x [in, G*H])
 *   for each step t (T-1 down to 0 for the reverse direction):
 *       gh = h W_hh^T + b_hh      one GEMM per step ([B, H] x [H, G*H]), added to gi[t]
 *       h  = cell(gi[t], gh, h)   gates are the G column blocks of width H, in PyTorch's order
 *
 *   RNN  (G = 1): h' = act(gi + gh)
 *   LSTM (G = 4): i, f, g, o = sig, sig, tanh, sig (gi + gh);  c' = f c + i g;  h' = o tanh(c')
 *   GRU  (G = 3): r = sig(gi_r + gh_r), z = sig(gi_z + gh_z), n = tanh(gi_n + r gh_n),
 *                 h' = (1 - z) n + z h = n + z (h - n)
 *
 * For RNN and LSTM b_hh is folded into the up-front GEMM's addend (b_ih + b_hh), so a step is a
 * single addmm(gi[t], h, W_hh^T); GRU keeps gh separate because r multiplies W_hn h + b_hn only.
 * Layer k > 0 reads the previous layer's output [T, B, D*H] (directions concatenated, forward
 * first). The module's layout is sequence-first; batch_first and unbatched inputs are viewed into
 * it on the way in and back on the way out. */
#include "module_impl.h"
#include "../autograd/trace_impl.h"

#include <math.h>
#include <stdio.h>

typedef enum rnn_mode { MODE_RNN_TANH, MODE_RNN_RELU, MODE_LSTM, MODE_GRU } rnn_mode;

typedef struct rnn_state {
    rnn_mode mode;
    int64_t input_size, hidden_size, num_layers;
    int gates; /* G: 1, 4 or 3 blocks of H rows in each weight */
    bool bias, batch_first, bidirectional;
    double dropout;
} rnn_state;

/* One direction of one layer: W_ih, W_hh, b_ih, b_hh (biases NULL with bias=false). */
typedef struct cell_params {
    ct_tensor *w_ih, *w_hh, *b_ih, *b_hh;
} cell_params;

/* PyTorch's parameter names: weight_ih_l0, bias_hh_l1_reverse, ... */
static void param_name(char *buf, size_t size, const char *kind, int64_t layer, int dir) {
    snprintf(buf, size, "%s_l%lld%s", kind, (long long)layer, dir ? "_reverse" : "");
}

static cell_params cell_params_of(const ct_module *m, int64_t layer, int dir) {
    char name[64];
    cell_params p;
    param_name(name, sizeof name, "weight_ih", layer, dir), p.w_ih = ct_module_parameter(m, name);
    param_name(name, sizeof name, "weight_hh", layer, dir), p.w_hh = ct_module_parameter(m, name);
    param_name(name, sizeof name, "bias_ih", layer, dir), p.b_ih = ct_module_parameter(m, name);
    param_name(name, sizeof name, "bias_hh", layer, dir), p.b_hh = ct_module_parameter(m, name);
    return p;
}

/* ---- one layer, one direction --------------------------------------------------------------------- */

/* One step of the cell from gi_t = x_t W_ih^T + b_ih (+ b_hh for RNN/LSTM) [B, G*H]; updates *h
 * (and *c for LSTM). The step's intermediates die in its own scope; the new state is kept. */
static void cell_step(const rnn_state *s, const cell_params *p, const ct_tensor *w_hh_t, ct_tensor *gi_t, ct_tensor **h,
                      ct_tensor **c) {
    CT_SCOPE {
        ct_tensor *h_new = NULL, *c_new = NULL;
        if (s->mode == MODE_GRU) {
            ct_tensor *gh = p->b_hh ? ct_addmm(p->b_hh, *h, w_hh_t) : ct_mm(*h, w_hh_t);
            ct_tensor_list xi = ct_chunk(gi_t, 3, 1), hh = ct_chunk(gh, 3, 1);
            if (xi.n == 3 && hh.n == 3) {
                ct_tensor *r = ct_sigmoid(ct_add(xi.items[0], hh.items[0]));
                ct_tensor *z = ct_sigmoid(ct_add(xi.items[1], hh.items[1]));
                ct_tensor *n = ct_tanh(ct_add(xi.items[2], ct_mul(r, hh.items[2])));
                h_new = ct_add(n, ct_mul(z, ct_sub(*h, n)));
            }
        } else {
            ct_tensor *pre = ct_addmm(gi_t, *h, w_hh_t); /* gi_t + h W_hh^T, biases already in gi_t */
            if (s->mode == MODE_RNN_TANH) h_new = ct_tanh(pre);
            else if (s->mode == MODE_RNN_RELU) h_new = ct_relu(pre);
            else {
                ct_tensor_list g = ct_chunk(pre, 4, 1);
                if (g.n == 4) {
                    ct_tensor *i = ct_sigmoid(g.items[0]), *f = ct_sigmoid(g.items[1]);
                    ct_tensor *gg = ct_tanh(g.items[2]), *o = ct_sigmoid(g.items[3]);
                    c_new = ct_add(ct_mul(f, *c), ct_mul(i, gg));
                    h_new = ct_mul(o, ct_tanh(c_new));
                }
            }
        }
        *h = h_new ? ct_keep(h_new) : NULL;
        if (s->mode == MODE_LSTM) *c = c_new ? ct_keep(c_new) : NULL;
    }
}

/* Runs one direction of one layer over x [T, B, in] from h0 (c0) [B, H]; returns the output
 * [T, B, H] and the final state in *h_n (*c_n). */
static ct_tensor *run_direction(const rnn_state *s, const cell_params *p, ct_tensor *x, ct_tensor *h0, ct_tensor *c0,
                                bool reverse, ct_tensor **h_n, ct_tensor **c_n) {
    int64_t T = ct_size(x, 0), B = ct_size(x, 1), in = ct_size(x, 2), GH = s->gates * s->hidden_size;
    /* Input projection of every step at once: [T*B, in] x W_ih^T [in, G*H] (+ biases). */
    ct_tensor *x2 = ct_reshape(x, CT_SHAPE(T * B, in)), *gi;
    if (!p->b_ih) gi = ct_mm(x2, ct_t(p->w_ih));
    else if (s->mode == MODE_GRU) gi = ct_addmm(p->b_ih, x2, ct_t(p->w_ih));
    else gi = ct_addmm(ct_add(p->b_ih, p->b_hh), x2, ct_t(p->w_ih));
    ct_tensor_list steps = ct_unbind(ct_view(gi, CT_SHAPE(T, B, GH)), 0);
    ct_tensor **outs = ct_scope_alloc((size_t)T * sizeof *outs);
    if (steps.n != T || !outs) return NULL;
    ct_tensor *w_hh_t = ct_t(p->w_hh), *h = h0, *c = c0;
    for (int64_t k = 0; k < T && h; k++) {
        int64_t t = reverse ? T - 1 - k : k;
        cell_step(s, p, w_hh_t, steps.items[t], &h, &c);
        outs[t] = h;
    }
    if (!h) return NULL;
    *h_n = h, *c_n = c;
    return ct_stack((ct_tensor_list){.n = (int)T, .items = outs}, 0);
}

/* ---- forward ---------------------------------------------------------------------------------- */

static ct_tensor_list fail(void) { return (ct_tensor_list){0}; }

/* "(1, 2, 4)" and "[1, 3, 4]" as PyTorch prints the expected and the given hidden sizes. */
static void shape_str(char *buf, size_t size, ct_shape sh, char open, char close) {
    size_t k = (size_t)snprintf(buf, size, "%c", open);
    for (int d = 0; d < sh.ndim && k < size; d++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", d ? ", " : "", (long long)sh.d[d]);
    if (k < size) snprintf(buf + k, size - k, "%c", close);
}

static bool check_hidden(const ct_tensor *h, ct_shape want, const char *what) {
    ct_shape got = ct_shape_of(h);
    bool same = got.ndim == want.ndim;
    for (int d = 0; same && d < want.ndim; d++) same = got.d[d] == want.d[d];
    if (same) return true;
    char a[96], b[96];
    shape_str(a, sizeof a, want, '(', ')'), shape_str(b, sizeof b, got, '[', ']');
    return ct_error(CT_ERR_SHAPE, "Expected %s size %s, got %s", what, a, b) != NULL;
}

/* PyTorch's checks of the inputs' ranks, before anything is reshaped. */
static bool check_ranks(const ct_module *m, const ct_tensor *x, const ct_tensor *h0, const ct_tensor *c0) {
    const rnn_state *s = m->state;
    int nd = ct_ndim(x);
    if (nd != 2 && nd != 3)
        return ct_error(CT_ERR_SHAPE, s->mode == MODE_LSTM || s->mode == MODE_GRU
                                          ? "%s: Expected input to be 2D or 3D, got %dD instead"
                                          : "%s: Expected input to be 2D or 3D, got %dD tensor instead",
                        m->vtable->name, nd) != NULL;
    if (!h0) return true;
    const char *kind = nd == 3 ? "batched 3-D" : "unbatched 2-D";
    if (c0) {
        if (ct_ndim(h0) == nd && ct_ndim(c0) == nd) return true;
        return ct_error(CT_ERR_SHAPE, "For %s input, hx and cx should also be %d-D but got (%d-D, %d-D) tensors", kind, nd,
                        ct_ndim(h0), ct_ndim(c0)) != NULL;
    }
    if (ct_ndim(h0) == nd) return true;
    return ct_error(CT_ERR_SHAPE, "For %s input, hx should also be %d-D but got %d-D tensor", kind, nd, ct_ndim(h0)) != NULL;
}

static ct_tensor_list rnn_forward(ct_module *m, ct_tensor_list inputs) {
    const rnn_state *s = m->state;
    const char *name = m->vtable->name;
    bool lstm = s->mode == MODE_LSTM;
    if (inputs.n != 1 && inputs.n != (lstm ? 3 : 2)) {
        ct_error(CT_ERR_ARG, lstm ? "%s.forward takes (input) or (input, h_0, c_0), got %d tensors"
                                  : "%s.forward takes (input) or (input, h_0), got %d tensors",
                 name, inputs.n);
        return fail();
    }
    for (int i = 0; i < inputs.n; i++)
        if (!inputs.items[i]) {
            if (ct_ok()) ct_error(CT_ERR_NULL, "%s.forward: input %d is NULL (did an earlier call fail?)", name, i);
            return fail();
        }
    ct_tensor *x = inputs.items[0], *h0 = inputs.n > 1 ? inputs.items[1] : NULL, *c0 = inputs.n > 2 ? inputs.items[2] : NULL;
    if (!check_ranks(m, x, h0, c0)) return fail();

    /* Into the sequence-first batched layout [T, B, in] (PyTorch unsqueezes the batch dim). */
    bool batched = ct_ndim(x) == 3;
    if (!batched) {
        x = ct_unsqueeze(x, s->batch_first ? 0 : 1);
        if (h0) h0 = ct_unsqueeze(h0, 1);
        if (c0) c0 = ct_unsqueeze(c0, 1);
    }
    if (s->batch_first) x = ct_transpose(x, 0, 1);
    if (!x) return fail();
    int64_t T = ct_size(x, 0), B = ct_size(x, 1), H = s->hidden_size, D = s->bidirectional ? 2 : 1;
    if (ct_size(x, 2) != s->input_size) {
        ct_error(CT_ERR_SHAPE, "input.size(-1) must be equal to input_size. Expected %lld, got %lld", (long long)s->input_size,
                 (long long)ct_size(x, 2));
        return fail();
    }
    ct_shape hshape = CT_SHAPE(s->num_layers * D, B, H);
    if (h0 && !check_hidden(h0, hshape, lstm ? "hidden[0]" : "hidden")) return fail();
    if (c0 && !check_hidden(c0, hshape, "hidden[1]")) return fail();
    if (T == 0) {
        ct_error(CT_ERR_SHAPE, "Expected sequence length to be larger than 0 in RNN");
        return fail();
    }
    ct_dtype wdtype = ct_dtype_of(ct_module_parameter(m, "weight_ih_l0"));
    const ct_tensor *mismatched = ct_dtype_of(x) != wdtype ? x : h0 && ct_dtype_of(h0) != wdtype ? h0 : c0 && ct_dtype_of(c0) != wdtype ? c0 : NULL;
    if (mismatched) {
        ct_error(CT_ERR_DTYPE, "%s: input and hidden states must have the parameters' dtype %s, got %s", name,
                 ct_dtype_name(wdtype), ct_dtype_name(ct_dtype_of(mismatched)));
        return fail();
    }
    /* PyTorch applies dropout to every layer's output but the last, in training mode only. */
    bool dropout = s->dropout > 0 && ct_module_is_training(m);
    ct_tensor_opts topts = {.dtype = wdtype, .device = ct_device_of(x)};
    if (!h0) h0 = ct_zeros_opt(hshape, topts);
    if (lstm && !c0) c0 = ct_zeros_opt(hshape, topts);

    /* Layer by layer; each direction's final state goes to h_n[layer * D + dir]. */
    int64_t n_states = s->num_layers * D;
    ct_tensor **h_n = ct_scope_alloc((size_t)n_states * sizeof *h_n), **c_n = ct_scope_alloc((size_t)n_states * sizeof *c_n);
    if (!h_n || !c_n) return fail();
    ct_tensor *layer_in = x;
    for (int64_t l = 0; l < s->num_layers && layer_in; l++) {
        ct_tensor *dir_out[2] = {NULL, NULL};
        for (int dir = 0; dir < D; dir++) {
            int64_t k = l * D + dir;
            cell_params p = cell_params_of(m, l, dir);
            c_n[k] = NULL;
            dir_out[dir] = run_direction(s, &p, layer_in, ct_select(h0, 0, k), lstm ? ct_select(c0, 0, k) : NULL, dir == 1,
                                         &h_n[k], &c_n[k]);
            if (!dir_out[dir]) return fail();
        }
        layer_in = D == 1 ? dir_out[0] : ct_cat(CT_TENSORS(dir_out[0], dir_out[1]), 2);
        if (dropout && l + 1 < s->num_layers) layer_in = ct_dropout(layer_in, .p = s->dropout);
    }
    ct_tensor *out = layer_in;
    ct_tensor *hn = ct_stack((ct_tensor_list){.n = (int)n_states, .items = h_n}, 0);
    ct_tensor *cn = lstm ? ct_stack((ct_tensor_list){.n = (int)n_states, .items = c_n}, 0) : NULL;

    /* Back to the caller's layout. */
    if (s->batch_first) out = ct_transpose(out, 0, 1);
    if (!batched) {
        out = ct_squeeze_dim(out, s->batch_first ? 0 : 1);
        hn = ct_squeeze_dim(hn, 1);
        if (lstm) cn = ct_squeeze_dim(cn, 1);
    }
    if (!ct_ok()) return fail();
    return lstm ? ct_tensor_list_copy(CT_TENSORS(out, hn, cn)) : ct_tensor_list_copy(CT_TENSORS(out, hn));
}

/* ---- repr and construction ------------------------------------------------------------------------ */

/* RNNBase.extra_repr: sizes, then the options that differ from their defaults. */
static void rnn_repr(const ct_module *m, char *buf, size_t size) {
    const rnn_state *s = m->state;
    size_t k = (size_t)snprintf(buf, size, "%lld, %lld", (long long)s->input_size, (long long)s->hidden_size);
#define RNN_REPR_APPEND(...)                                                                     \
    if (k < size) k += (size_t)snprintf(buf + k, size - k, __VA_ARGS__)
    if (s->num_layers != 1) RNN_REPR_APPEND(", num_layers=%lld", (long long)s->num_layers);
    if (!s->bias) RNN_REPR_APPEND(", bias=False");
    if (s->batch_first) RNN_REPR_APPEND(", batch_first=True");
    if (s->dropout != 0) RNN_REPR_APPEND(", dropout=%g", s->dropout);
    if (s->bidirectional) RNN_REPR_APPEND(", bidirectional=True");
#undef RNN_REPR_APPEND
}

static const ct_module_vtable rnn_vtable = {.name = "RNN", .forward_list = rnn_forward, .extra_repr = rnn_repr};
static const ct_module_vtable lstm_vtable = {.name = "LSTM", .forward_list = rnn_forward, .extra_repr = rnn_repr};
static const ct_module_vtable gru_vtable = {.name = "GRU", .forward_list = rnn_forward, .extra_repr = rnn_repr};

/* RNNBase.__init__ and reset_parameters: for each layer and direction, in PyTorch's order,
 * weight_ih [G*H, in_k], weight_hh [G*H, H], bias_ih, bias_hh [G*H], each U(-1/sqrt(H), 1/sqrt(H)). */
static ct_module *rnn_new(const ct_module_vtable *vt, rnn_mode mode, int64_t input_size, int64_t hidden_size, ct_rnn_opts o) {
    const char *name = vt->name;
    if (mode != MODE_RNN_TANH && mode != MODE_RNN_RELU && o.nonlinearity != CT_RNN_TANH)
        return ct_error(CT_ERR_ARG, "%s: nonlinearity is an option of RNN only", name);
    if (o.nonlinearity != CT_RNN_TANH && o.nonlinearity != CT_RNN_RELU)
        return ct_error(CT_ERR_ARG, "Unknown nonlinearity '%d'. Select from 'tanh' or 'relu'.", (int)o.nonlinearity);
    if (!(o.dropout >= 0 && o.dropout <= 1))
        return ct_error(CT_ERR_ARG, "dropout should be a number in range [0, 1] representing the probability of an element "
                                    "being zeroed");
    if (input_size < 0) return ct_error(CT_ERR_ARG, "%s: input_size must be non-negative, got %lld", name, (long long)input_size);
    if (hidden_size <= 0) return ct_error(CT_ERR_ARG, "hidden_size must be greater than zero");
    if (o.num_layers <= 0) return ct_error(CT_ERR_ARG, "num_layers must be greater than zero");
    if (o.dropout > 0 && o.num_layers == 1)
        ct_log_warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                    "num_layers greater than 1, but got dropout=%g and num_layers=%lld", o.dropout, (long long)o.num_layers);
    ct_module *m = ct_module_new(vt, sizeof(rnn_state));
    if (!m) return NULL;
    rnn_state *s = m->state;
    *s = (rnn_state){.mode = mode, .input_size = input_size, .hidden_size = hidden_size, .num_layers = o.num_layers,
                     .gates = mode == MODE_LSTM ? 4 : mode == MODE_GRU ? 3 : 1, .bias = o.bias,
                     .batch_first = o.batch_first, .bidirectional = o.bidirectional, .dropout = o.dropout};
    int64_t D = o.bidirectional ? 2 : 1, GH = s->gates * hidden_size;
    double bound = 1 / sqrt((double)hidden_size);
    ct_tensor_opts topts = {o.dtype, o.device};
    for (int64_t l = 0; l < o.num_layers; l++)
        for (int dir = 0; dir < D; dir++) {
            int64_t in = l == 0 ? input_size : D * hidden_size;
            ct_shape shapes[4] = {CT_SHAPE(GH, in), CT_SHAPE(GH, hidden_size), CT_SHAPE(GH), CT_SHAPE(GH)};
            static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
            for (int i = 0; i < (o.bias ? 4 : 2); i++) {
                char pname[64];
                param_name(pname, sizeof pname, kinds[i], l, dir);
                if (!ct_register_parameter(m, pname, ct_uniform_(ct_empty_opt(shapes[i], topts), -bound, bound))) return NULL;
            }
        }
    return m;
}

ct_module *ct_rnn_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts) {
    rnn_mode mode = opts.nonlinearity == CT_RNN_RELU ? MODE_RNN_RELU : MODE_RNN_TANH;
    return rnn_new(&rnn_vtable, mode, input_size, hidden_size, opts);
}
ct_module *ct_lstm_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts) {
    return rnn_new(&lstm_vtable, MODE_LSTM, input_size, hidden_size, opts);
}
ct_module *ct_gru_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts) {
    return rnn_new(&gru_vtable, MODE_GRU, input_size, hidden_size, opts);
}

/* The exporter records these modules as one op (ONNX RNN/LSTM/GRU nodes); their config. */
bool ct__rnn_trace_attrs(const ct_module *m, ct_trace_rnn *out) {
    if (!m || (m->vtable != &rnn_vtable && m->vtable != &lstm_vtable && m->vtable != &gru_vtable)) return false;
    const rnn_state *s = m->state;
    static const ct_trace_rnn_mode modes[] = {[MODE_RNN_TANH] = CT_TRACE_RNN_TANH, [MODE_RNN_RELU] = CT_TRACE_RNN_RELU,
                                              [MODE_LSTM] = CT_TRACE_LSTM, [MODE_GRU] = CT_TRACE_GRU};
    *out = (ct_trace_rnn){.mode = modes[s->mode], .input_size = s->input_size, .hidden_size = s->hidden_size,
                          .num_layers = s->num_layers, .bias = s->bias, .batch_first = s->batch_first,
                          .bidirectional = s->bidirectional};
    return true;
}
