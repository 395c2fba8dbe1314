/* ctorch nn: modules (torch.nn.Module), containers and layers (DESIGN §6).
 *
 * A module is an object (handed to the innermost scope like every ctorch object; keep it with
 * ct_keep or build it in the root scope) that owns named parameters, buffers and child modules.
 * Names are PyTorch's: a Sequential's first Linear's weight is "0.weight".
 *
 * Writing a module of your own takes a state struct, a forward function and a vtable:
 *
 *     typedef struct { ct_module *fc1, *fc2; } mlp_state;
 *     static ct_tensor *mlp_forward(ct_module *m, ct_tensor *x) {
 *         mlp_state *s = ct_module_state(m);
 *         return ct_forward(s->fc2, ct_relu(ct_forward(s->fc1, x)));
 *     }
 *     static const ct_module_vtable mlp_vtable = {.name = "MLP", .forward = mlp_forward};
 *     ct_module *mlp_new(void) {
 *         ct_module *m = ct_module_new(&mlp_vtable, sizeof(mlp_state));
 *         mlp_state *s = ct_module_state(m);
 *         s->fc1 = ct_register_module(m, "fc1", ct_linear(784, 256));
 *         s->fc2 = ct_register_module(m, "fc2", ct_linear(256, 10));
 *         return ct_ok() ? m : NULL;
 *     }
 */
#ifndef CTORCH_NN_H
#define CTORCH_NN_H

#include "ctorch/nn_functional.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_module ct_module;

/* ---- named lists -------------------------------------------------------------------------------- */

typedef struct ct_named_tensor {
    const char *name;
    ct_tensor *tensor;
} ct_named_tensor;
typedef struct ct_named_tensors {
    int n;
    ct_named_tensor *items;
} ct_named_tensors;

typedef struct ct_named_module {
    const char *name;
    ct_module *module;
} ct_named_module;
typedef struct ct_named_modules {
    int n;
    ct_named_module *items;
} ct_named_modules;

typedef struct ct_module_list {
    int n;
    ct_module *const *items;
} ct_module_list;
#define CT_MODULES(...)                                                                          \
    ((ct_module_list){.n = CT__NARGS(__VA_ARGS__), .items = (ct_module *const[]){__VA_ARGS__}})

/* ---- defining modules --------------------------------------------------------------------------- */

typedef struct ct_module_vtable {
    const char *name; /* the type name printed by ct_module_str: "Linear" */
    /* One tensor in, one out (most layers). */
    ct_tensor *(*forward)(ct_module *m, ct_tensor *x);
    /* Or any number in and out (lists belong to the innermost scope); used when set. */
    ct_tensor_list (*forward_list)(ct_module *m, ct_tensor_list inputs);
    /* Writes what PyTorch's extra_repr shows ("in_features=784, out_features=256, bias=True"). */
    void (*extra_repr)(const ct_module *m, char *buf, size_t size);
    /* Frees what the state struct owns besides registered members (may be NULL). */
    void (*destroy_state)(ct_module *m);
} ct_module_vtable;

/* A module with state_size zeroed bytes of state for the vtable's functions, in training mode. */
ct_module *ct_module_new(const ct_module_vtable *vtable, size_t state_size);
void *ct_module_state(const ct_module *m);
const char *ct_module_type_name(const ct_module *m);

/* Registration returns what it registered (so constructors can keep a pointer) and holds a
 * reference. A parameter is made to require grad; NULL registers "no such parameter" (Linear
 * with bias=false), as PyTorch's register_parameter(name, None). Names are unique per kind. */
ct_tensor *ct_register_parameter(ct_module *m, const char *name, ct_tensor *param);
ct_tensor *ct_register_buffer(ct_module *m, const char *name, ct_tensor *buffer, bool persistent);
ct_module *ct_register_module(ct_module *m, const char *name, ct_module *child);

/* Direct members by name (NULL with no error pending when absent). */
ct_tensor *ct_module_parameter(const ct_module *m, const char *name);
ct_tensor *ct_module_buffer(const ct_module *m, const char *name);
ct_module *ct_module_child(const ct_module *m, const char *name);

/* ---- running ------------------------------------------------------------------------------------ */

/* m(x): forward pre-hooks, forward, forward hooks, and full backward hooks around them. */
ct_tensor *ct_forward(ct_module *m, ct_tensor *x);
ct_tensor_list ct_forward_list(ct_module *m, ct_tensor_list inputs);

/* ---- iterating (recursive, dotted names, each tensor or module once, as PyTorch) ------------------ */

ct_named_tensors ct_named_parameters(const ct_module *m);
ct_tensor_list ct_parameters(const ct_module *m);
ct_named_tensors ct_named_buffers(const ct_module *m);
ct_tensor_list ct_buffers(const ct_module *m);
ct_named_modules ct_named_children(const ct_module *m);
ct_module_list ct_children(const ct_module *m);
/* m itself first (name ""), then every descendant in registration order, each once. */
ct_named_modules ct_named_modules_of(const ct_module *m);
ct_module_list ct_modules(const ct_module *m);
/* Parameters and persistent buffers, named as PyTorch's state_dict names them. */
ct_named_tensors ct_state_dict(const ct_module *m);
/* Number of elements over all parameters (each shared parameter once). */
int64_t ct_num_parameters(const ct_module *m);

/* ---- state ---------------------------------------------------------------------------------------- */

/* train(mode) / eval() on m and every descendant; returns m. */
ct_module *ct_module_train(ct_module *m, bool mode);
ct_module *ct_module_eval(ct_module *m);
bool ct_module_is_training(const ct_module *m);
/* fn on every descendant, then m (post-order, as PyTorch's apply); returns m. */
ct_module *ct_module_apply(ct_module *m, void (*fn)(ct_module *m, void *user), void *user);
/* Clears every parameter's .grad (set_to_none = True, PyTorch 2's default). */
void ct_module_zero_grad(ct_module *m);
/* Moves/casts parameters and buffers in place (the tensors keep their identity, as PyTorch's
 * module.to keeps its Parameter objects): device for all, dtype for floating ones. */
ct_module *ct_module_to(ct_module *m, ct_device device);
ct_module *ct_module_to_dtype(ct_module *m, ct_dtype dtype);
/* PyTorch's repr: "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n)". The
 * string belongs to the innermost scope. */
const char *ct_module_str(const ct_module *m);

/* ---- hooks (DESIGN §6) ---------------------------------------------------------------------------- */

/* Before forward: may return replacement inputs (n > 0), or CT_NO_TENSORS to keep them. */
typedef ct_tensor_list (*ct_forward_pre_hook)(ct_module *m, ct_tensor_list inputs, void *user);
/* After forward: may return a replacement output (n > 0), or CT_NO_TENSORS to keep it. */
typedef ct_tensor_list (*ct_forward_hook)(ct_module *m, ct_tensor_list inputs, ct_tensor_list outputs, void *user);
/* During backward, when the gradients with respect to the module's inputs are known: may return
 * replacement grad_input (n == grad_input.n), or CT_NO_TENSORS to keep them. Entries are NULL for
 * inputs that need no gradient. */
typedef ct_tensor_list (*ct_full_backward_hook)(ct_module *m, ct_tensor_list grad_input, ct_tensor_list grad_output,
                                                void *user);
ct_hook_handle *ct_register_forward_pre_hook(ct_module *m, ct_forward_pre_hook fn, void *user);
ct_hook_handle *ct_register_forward_hook(ct_module *m, ct_forward_hook fn, void *user);
ct_hook_handle *ct_register_full_backward_hook(ct_module *m, ct_full_backward_hook fn, void *user);

/* ---- containers ----------------------------------------------------------------------------------- */

/* Sequential(m0, m1, ...): children "0", "1", ...; forward chains them. */
ct_module *ct_sequential_of(ct_module_list modules);
#define ct_sequential(...) ct_sequential_of(CT_MODULES(__VA_ARGS__))
/* ModuleList: children "0", "1", ... with no forward of its own. */
ct_module *ct_module_list_of(ct_module_list modules);
ct_module *ct_module_list_append(ct_module *list, ct_module *m);
/* ModuleDict: children under the given keys, in insertion order. */
ct_module *ct_module_dict(void);
ct_module *ct_module_dict_set(ct_module *dict, const char *key, ct_module *m);
/* Number of children (Sequential, ModuleList, ModuleDict) and the i-th child. */
int ct_module_len(const ct_module *m);
ct_module *ct_module_at(const ct_module *m, int index);

/* ---- layers --------------------------------------------------------------------------------------- */

typedef struct ct_linear_opts {
    bool bias;
    ct_device device;
    ct_dtype dtype;
} ct_linear_opts;
/* y = x W^T + b, W [out, in], b [out]; PyTorch's initialisation (kaiming_uniform_(a=sqrt(5)) for W,
 * U(-1/sqrt(in), 1/sqrt(in)) for b). */
ct_module *ct_linear_opt(int64_t in_features, int64_t out_features, ct_linear_opts opts);
#define ct_linear(in, out, ...)                                                                  \
    ct_linear_opt((in), (out), CT_OPTS(ct_linear_opts, .bias = true, .device = CT_DEVICE_DEFAULT, .dtype = CT_DTYPE_DEFAULT, __VA_ARGS__))

/* Activations as modules (the functional forms are the ops of ctorch/tensor.h). */
ct_module *ct_relu_module(void);
ct_module *ct_leaky_relu_module(double negative_slope); /* PyTorch default 0.01 */
typedef struct ct_gelu_module_opts {
    ct_gelu_approx approximate;
} ct_gelu_module_opts;
ct_module *ct_gelu_module_opt(ct_gelu_module_opts opts);
#define ct_gelu_module(...) ct_gelu_module_opt(CT_OPTS(ct_gelu_module_opts, .approximate = CT_GELU_NONE, __VA_ARGS__))
ct_module *ct_silu_module(void);
ct_module *ct_sigmoid_module(void);
ct_module *ct_tanh_module(void);
ct_module *ct_softmax_module(int dim);
ct_module *ct_log_softmax_module(int dim);
ct_module *ct_identity(void);
/* Flatten(start_dim=1, end_dim=-1). */
ct_module *ct_flatten_module3(int start_dim, int end_dim);
#define ct_flatten_module0() ct_flatten_module3(1, -1)
#define ct_flatten_module1(s) ct_flatten_module3((s), -1)
#define ct_flatten_module2(s, e) ct_flatten_module3((s), (e))
#define ct_flatten_module(...) CT__OVERLOAD(ct_flatten_module, __VA_ARGS__)

/* ---- recurrent layers ---------------------------------------------------------------------------- */
/* nn:rnn */
/* RNN, LSTM and GRU (torch.nn.RNN / LSTM / GRU), run with ct_forward_list:
 *   inputs  (x), (x, h_0), or for LSTM (x, h_0, c_0)   (h_0, c_0 default to zeros)
 *   outputs (output, h_n), or for LSTM (output, h_n, c_n)
 * x is [T, B, input_size], [B, T, input_size] with batch_first, or unbatched [T, input_size];
 * output is [T, B, D*H] (batch_first: [B, T, D*H]; unbatched: [T, D*H]) with D = 2 when
 * bidirectional (forward direction's features first), h_0/c_0/h_n/c_n are [num_layers*D, B, H]
 * ([num_layers*D, H] unbatched), ordered layer by layer, forward direction before backward.
 * Parameters as PyTorch names them: weight_ih_l{k}[_reverse] [G*H, in_k], weight_hh_l{k} [G*H, H],
 * bias_ih_l{k}, bias_hh_l{k} [G*H] with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z,
 * n); in_0 = input_size, in_k = D*H after; all drawn from U(-1/sqrt(H), 1/sqrt(H)).
 * dropout (applied to each layer's output but the last, in training mode) needs ct_dropout, which
 * this build does not have yet: a forward with dropout > 0, num_layers > 1 in training mode fails
 * with CT_ERR_UNSUPPORTED (eval mode runs). Packed sequences and LSTM's proj_size are not
 * supported. */
typedef enum ct_rnn_nonlinearity { CT_RNN_TANH = 0, CT_RNN_RELU } ct_rnn_nonlinearity;
typedef struct ct_rnn_opts {
    int64_t num_layers;
    bool bias;
    bool batch_first;
    double dropout;
    bool bidirectional;
    ct_rnn_nonlinearity nonlinearity; /* RNN only: h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh) */
    ct_device device;
    ct_dtype dtype;
} ct_rnn_opts;
#define CT__RNN_OPTS(...)                                                                          \
    CT_OPTS(ct_rnn_opts, .num_layers = 1, .bias = true, .batch_first = false, .dropout = 0, .bidirectional = false,       \
            .nonlinearity = CT_RNN_TANH, .device = CT_DEVICE_DEFAULT, .dtype = CT_DTYPE_DEFAULT, __VA_ARGS__)
/* Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh (default) or relu. */
ct_module *ct_rnn_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts);
#define ct_rnn(input_size, hidden_size, ...) ct_rnn_opt((input_size), (hidden_size), CT__RNN_OPTS(__VA_ARGS__))
/* LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the gate rows of x W_ih^T + b_ih + h W_hh^T
 * + b_hh; c' = f * c + i * g; h' = o * tanh(c'). */
ct_module *ct_lstm_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts);
#define ct_lstm(input_size, hidden_size, ...) ct_lstm_opt((input_size), (hidden_size), CT__RNN_OPTS(__VA_ARGS__))
/* GRU: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + r * (W_hn h +
 * b_hn)), h' = (1 - z) * n + z * h. */
ct_module *ct_gru_opt(int64_t input_size, int64_t hidden_size, ct_rnn_opts opts);
#define ct_gru(input_size, hidden_size, ...) ct_gru_opt((input_size), (hidden_size), CT__RNN_OPTS(__VA_ARGS__))

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_H */
