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
#include "ctorch/serialize.h" /* ct_named_tensors */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_module ct_module;

/* ---- named lists -------------------------------------------------------------------------------- */

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

/* Convolution layers. Sizes are ct_shape lists (PyTorch's int or tuple: CT_SHAPE(3) or CT_SHAPE(3, 5)). */
typedef struct ct_conv_module_opts {
    ct_shape stride, padding, dilation, output_padding; /* output_padding: ConvTranspose only */
    int64_t groups;
    bool bias;
    ct_device device;
    ct_dtype dtype;
} ct_conv_module_opts;
#define CT__CONV_MODULE_OPTS(...)                                                                \
    CT_OPTS(ct_conv_module_opts, .stride = CT_SHAPE(1), .padding = CT_SHAPE(0), .dilation = CT_SHAPE(1), \
            .output_padding = CT_SHAPE(0), .groups = 1, .bias = true, .device = CT_DEVICE_DEFAULT, .dtype = CT_DTYPE_DEFAULT, __VA_ARGS__)
/* weight [out, in/groups, k...], bias [out]; PyTorch's initialisation. */
ct_module *ct_conv1d_module_opt(int64_t in_channels, int64_t out_channels, ct_shape kernel_size, ct_conv_module_opts opts);
ct_module *ct_conv2d_module_opt(int64_t in_channels, int64_t out_channels, ct_shape kernel_size, ct_conv_module_opts opts);
/* weight [in, out/groups, kH, kW]. */
ct_module *ct_conv_transpose2d_module_opt(int64_t in_channels, int64_t out_channels, ct_shape kernel_size, ct_conv_module_opts opts);
#define ct_conv1d_module(in, out, k, ...) ct_conv1d_module_opt((in), (out), (k), CT__CONV_MODULE_OPTS(__VA_ARGS__))
#define ct_conv2d_module(in, out, k, ...) ct_conv2d_module_opt((in), (out), (k), CT__CONV_MODULE_OPTS(__VA_ARGS__))
#define ct_conv_transpose2d_module(in, out, k, ...) ct_conv_transpose2d_module_opt((in), (out), (k), CT__CONV_MODULE_OPTS(__VA_ARGS__))

/* Pooling layers; stride defaults to the kernel size (an empty list). */
typedef struct ct_pool_module_opts {
    ct_shape stride, padding, dilation;
    bool ceil_mode, count_include_pad;
} ct_pool_module_opts;
#define CT__POOL_MODULE_OPTS(...)                                                                \
    CT_OPTS(ct_pool_module_opts, .stride = CT_SHAPE(), .padding = CT_SHAPE(0), .dilation = CT_SHAPE(1), .ceil_mode = false, \
            .count_include_pad = true, __VA_ARGS__)
ct_module *ct_max_pool2d_module_opt(ct_shape kernel_size, ct_pool_module_opts opts);
ct_module *ct_avg_pool2d_module_opt(ct_shape kernel_size, ct_pool_module_opts opts);
#define ct_max_pool2d_module(k, ...) ct_max_pool2d_module_opt((k), CT__POOL_MODULE_OPTS(__VA_ARGS__))
#define ct_avg_pool2d_module(k, ...) ct_avg_pool2d_module_opt((k), CT__POOL_MODULE_OPTS(__VA_ARGS__))
ct_module *ct_adaptive_avg_pool2d_module(ct_shape output_size);

/* Normalization, dropout and embedding layers (PyTorch's parameters, buffers and defaults). */
typedef struct ct_batch_norm_module_opts {
    double eps, momentum;
    bool affine, track_running_stats;
} ct_batch_norm_module_opts;
#define CT__BN_OPTS(...) CT_OPTS(ct_batch_norm_module_opts, .eps = 1e-5, .momentum = 0.1, .affine = true, .track_running_stats = true, __VA_ARGS__)
/* Buffers running_mean, running_var, num_batches_tracked; [N, C] or [N, C, L] input. */
ct_module *ct_batch_norm1d_opt(int64_t num_features, ct_batch_norm_module_opts opts);
#define ct_batch_norm1d(n, ...) ct_batch_norm1d_opt((n), CT__BN_OPTS(__VA_ARGS__))
/* [N, C, H, W] input. */
ct_module *ct_batch_norm2d_opt(int64_t num_features, ct_batch_norm_module_opts opts);
#define ct_batch_norm2d(n, ...) ct_batch_norm2d_opt((n), CT__BN_OPTS(__VA_ARGS__))
typedef struct ct_layer_norm_module_opts {
    double eps;
    bool elementwise_affine, bias;
} ct_layer_norm_module_opts;
ct_module *ct_layer_norm_module_opt(ct_shape normalized_shape, ct_layer_norm_module_opts opts);
#define ct_layer_norm_module(shape, ...)                                                         \
    ct_layer_norm_module_opt((shape), CT_OPTS(ct_layer_norm_module_opts, .eps = 1e-5, .elementwise_affine = true, .bias = true, __VA_ARGS__))
typedef struct ct_group_norm_module_opts {
    double eps;
    bool affine;
} ct_group_norm_module_opts;
ct_module *ct_group_norm_module_opt(int64_t num_groups, int64_t num_channels, ct_group_norm_module_opts opts);
#define ct_group_norm_module(groups, channels, ...)                                               \
    ct_group_norm_module_opt((groups), (channels), CT_OPTS(ct_group_norm_module_opts, .eps = 1e-5, .affine = true, __VA_ARGS__))
/* Dropout(p): active in training mode only. */
ct_module *ct_dropout_module(double p);
#define CT_NO_PADDING_IDX INT64_MIN
typedef struct ct_embedding_module_opts {
    int64_t padding_idx; /* CT_NO_PADDING_IDX (PyTorch's None) by default; negative counts from the end */
} ct_embedding_module_opts;
ct_module *ct_embedding_module_opt(int64_t num_embeddings, int64_t embedding_dim, ct_embedding_module_opts opts);
#define ct_embedding_module(n, dim, ...)                                                         \
    ct_embedding_module_opt((n), (dim), CT_OPTS(ct_embedding_module_opts, .padding_idx = CT_NO_PADDING_IDX, __VA_ARGS__))

/* ---- attention ----------------------------------------------------------------------------------- */

typedef struct ct_mha_module_opts {
    double dropout;
    bool bias, batch_first;
} ct_mha_module_opts;
/* MultiheadAttention(embed_dim, num_heads): in_proj_weight [3E, E] (xavier_uniform_), in_proj_bias
 * (zeros), out_proj Linear(E, E) (bias zeros). Inputs [L, N, E] ([N, L, E] with batch_first) or
 * unbatched [L, E]. ct_forward_list(m, (q, k, v)) returns (output, head-averaged weights). */
ct_module *ct_multihead_attention_module_opt(int64_t embed_dim, int64_t num_heads, ct_mha_module_opts opts);
#define ct_multihead_attention_module(e, h, ...)                                                 \
    ct_multihead_attention_module_opt((e), (h), CT_OPTS(ct_mha_module_opts, .dropout = 0, .bias = true, .batch_first = false, __VA_ARGS__))
typedef struct ct_mha_opts {
    const ct_tensor *attn_mask;        /* [L, S] or [N*H, L, S]; bool: true = may not attend; float: added */
    const ct_tensor *key_padding_mask; /* [N, S]; same conventions */
    bool need_weights, average_attn_weights, is_causal;
    ct_tensor **weights; /* receives the attention weights when need_weights (may be NULL) */
} ct_mha_opts;
/* The module's forward with PyTorch's keyword arguments (hooks run as for ct_forward). */
ct_tensor *ct_multihead_attention_opt(ct_module *m, ct_tensor *query, ct_tensor *key, ct_tensor *value, ct_mha_opts opts);
#define ct_multihead_attention(m, q, k, v, ...)                                                  \
    ct_multihead_attention_opt((m), (q), (k), (v), CT_OPTS(ct_mha_opts, .need_weights = true, .average_attn_weights = true, __VA_ARGS__))

typedef enum ct_activation { CT_ACTIVATION_RELU = 0, CT_ACTIVATION_GELU } ct_activation;
typedef struct ct_encoder_layer_module_opts {
    int64_t dim_feedforward;
    double dropout, layer_norm_eps;
    ct_activation activation;
    bool batch_first, norm_first, bias;
} ct_encoder_layer_module_opts;
/* TransformerEncoderLayer(d_model, nhead): children self_attn, linear1, dropout, linear2, norm1,
 * norm2, dropout1, dropout2 as PyTorch's; post-norm unless norm_first. */
ct_module *ct_transformer_encoder_layer_opt(int64_t d_model, int64_t nhead, ct_encoder_layer_module_opts opts);
#define ct_transformer_encoder_layer(d, h, ...)                                                  \
    ct_transformer_encoder_layer_opt((d), (h), CT_OPTS(ct_encoder_layer_module_opts, .dim_feedforward = 2048, .dropout = 0.1,     \
                                                       .layer_norm_eps = 1e-5, .activation = CT_ACTIVATION_RELU, .bias = true, __VA_ARGS__))
typedef struct ct_encoder_layer_opts {
    const ct_tensor *mask, *src_key_padding_mask;
    bool is_causal;
} ct_encoder_layer_opts;
ct_tensor *ct_transformer_encoder_layer_forward_opt(ct_module *m, ct_tensor *src, ct_encoder_layer_opts opts);
#define ct_transformer_encoder_layer_forward(m, src, ...)                                        \
    ct_transformer_encoder_layer_forward_opt((m), (src), CT_OPTS(ct_encoder_layer_opts, .is_causal = false, __VA_ARGS__))

/* ---- checkpoints ----------------------------------------------------------------------------------- */

/* Writes ct_state_dict(m) to an HDF5 file (one dataset per dotted name, readable by h5py and h5dump),
 * through a temporary file renamed into place. */
bool ct_save_state(const ct_module *m, const char *path);
typedef struct ct_load_state_opts {
    bool strict; /* missing and unexpected keys are errors (shape mismatches always are) */
} ct_load_state_opts;
/* Copies the file's tensors into m's parameters and buffers (PyTorch's load_state_dict); on any
 * error nothing changes. */
bool ct_load_state_opt(ct_module *m, const char *path, ct_load_state_opts opts);
#define ct_load_state(m, path, ...) ct_load_state_opt((m), (path), CT_OPTS(ct_load_state_opts, .strict = true, __VA_ARGS__))

/* ---- model summary -------------------------------------------------------------------------------- */

typedef struct ct_model_stats {
    int64_t params;           /* parameter elements, each shared parameter once */
    int64_t flops;            /* per forward of the given input: Linear and convolutions (nn/summary.c) */
    int64_t activation_bytes; /* bytes of every leaf layer's output */
} ct_model_stats;
typedef struct ct_summary_opts {
    FILE *out; /* default stdout */
} ct_summary_opts;
/* Runs input through m once (no grad) and prints a table of each leaf layer's output shape,
 * parameters, FLOPs (a multiply-add is 2) and activation memory, then the totals it returns. */
ct_model_stats ct_model_summary_opt(ct_module *m, ct_tensor *input, ct_summary_opts opts);
#define ct_model_summary(m, input, ...) ct_model_summary_opt((m), (input), CT_OPTS(ct_summary_opts, .out = NULL, __VA_ARGS__))

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
