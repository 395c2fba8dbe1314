/* ctorch tensors: dtypes, devices, creation, views, copying shape ops, elementwise ops,
 * reductions, matrix products, randomness, printing.
 *
 * A tensor is a strided view of a refcounted storage (DESIGN §3). Every function returning a
 * ct_tensor * hands it to the innermost scope (see core.h) and returns NULL with an error message
 * on bad input; every function accepts NULL inputs and then returns NULL keeping the first error.
 * Dimensions may be negative (counted from the end), as in PyTorch. */
#ifndef CTORCH_TENSOR_H
#define CTORCH_TENSOR_H

#include "ctorch/core.h"

#include <math.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dtypes --------------------------------------------------------------------------------- */

/* Ordered by PyTorch's promotion lattice within each category (bool < integers < floats). */
typedef enum ct_dtype {
    CT_BOOL = 0,
    CT_U8,
    CT_I32,
    CT_I64,
    CT_F16,
    CT_BF16,
    CT_F32,
    CT_F64,
    CT_NUM_DTYPES
} ct_dtype;
/* In option structs: "not given", resolved to ct_get_default_dtype() or the input's dtype. */
#define CT_DTYPE_DEFAULT ((ct_dtype)-1)

const char *ct_dtype_name(ct_dtype dtype); /* "float32", like torch.float32 */
size_t ct_dtype_size(ct_dtype dtype);      /* bytes per element */
bool ct_dtype_is_floating(ct_dtype dtype);
bool ct_dtype_is_integral(ct_dtype dtype); /* bool excluded, as torch's is_floating_point/is_signed */
/* PyTorch's promote_types for two dtypes (f16 with bf16 gives f32, u8 with i32 gives i32). */
ct_dtype ct_promote_types(ct_dtype a, ct_dtype b);
/* The floating dtype used when none is given (float32 unless changed). */
void ct_set_default_dtype(ct_dtype dtype);
ct_dtype ct_get_default_dtype(void);

/* ---- devices -------------------------------------------------------------------------------- */

typedef enum ct_device_type { CT_DEVICE_CPU = 0, CT_DEVICE_CUDA = 1 } ct_device_type;
typedef struct ct_device {
    int8_t type;  /* ct_device_type; -1 in option structs means "not given" */
    int8_t index; /* CUDA ordinal; 0 for the CPU */
} ct_device;
#define CT_CPU ((ct_device){CT_DEVICE_CPU, 0})
#define CT_CUDA(i) ((ct_device){CT_DEVICE_CUDA, (int8_t)(i)})
#define CT_DEVICE_DEFAULT ((ct_device){-1, 0})

bool ct_device_equal(ct_device a, ct_device b);
/* "cpu", "cuda:0"; the string stays valid until the thread's next 8 calls. */
const char *ct_device_name(ct_device device);
/* True when this build has CUDA and at least one GPU is usable now. */
bool ct_cuda_is_available(void);
int ct_cuda_device_count(void);

/* ---- threads ------------------------------------------------------------------------------- */

/* Threads used by ctorch's CPU loops (default: CT_NUM_THREADS, else OpenMP's default). Results
 * never depend on it. */
void ct_set_num_threads(int n);
int ct_get_num_threads(void);

/* ---- shapes and lists ------------------------------------------------------------------------ */

#define CT_MAX_DIMS 16
/* A list of sizes (or dims, or strides). CT_SHAPE() is the 0-d shape. */
typedef struct ct_shape {
    int ndim;
    int64_t d[CT_MAX_DIMS];
} ct_shape;
#define CT_SHAPE(...) ((ct_shape){.ndim = CT__NARGS(__VA_ARGS__), .d = {__VA_ARGS__}})
typedef ct_shape ct_dims;
#define CT_DIMS(...) CT_SHAPE(__VA_ARGS__)

typedef struct ct_tensor ct_tensor;

/* A list of tensors. Lists returned by ctorch (split, chunk, ...) own their item array through
 * the innermost scope; CT_TENSORS(a, b, c) builds one on the stack for arguments. */
typedef struct ct_tensor_list {
    int n;
    ct_tensor *const *items;
} ct_tensor_list;
#define CT_TENSORS(...)                                                                         \
    ((ct_tensor_list){.n = CT__NARGS(__VA_ARGS__), .items = (ct_tensor *const[]){__VA_ARGS__}})
#define CT_NO_TENSORS ((ct_tensor_list){.n = 0, .items = NULL})
/* The same tensors in an item array owned by the innermost scope: what a function returns when it
 * built its list with CT_TENSORS (whose array dies with the function's block). */
ct_tensor_list ct_tensor_list_copy(ct_tensor_list list);

/* ---- inspection ----------------------------------------------------------------------------- */

int ct_ndim(const ct_tensor *t);
int64_t ct_size(const ct_tensor *t, int dim);    /* -1 with an error on a bad dim */
int64_t ct_stride(const ct_tensor *t, int dim);  /* in elements */
ct_shape ct_shape_of(const ct_tensor *t);
ct_shape ct_strides_of(const ct_tensor *t);
int64_t ct_numel(const ct_tensor *t);
int64_t ct_storage_offset(const ct_tensor *t);  /* in elements */
ct_dtype ct_dtype_of(const ct_tensor *t);
ct_device ct_device_of(const ct_tensor *t);
bool ct_is_contiguous(const ct_tensor *t);
/* Identity of the underlying storage: equal for tensors that share memory. */
const void *ct_storage_id(const ct_tensor *t);
bool ct_shares_storage(const ct_tensor *a, const ct_tensor *b);
/* Address of element [0, ..., 0] (CPU tensors; NULL with an error for other devices). */
void *ct_data_ptr(const ct_tensor *t);
/* The value of a one-element tensor as a double (PyTorch's item()). NAN with an error otherwise. */
double ct_item(const ct_tensor *t);
/* Copies all elements in logical (row-major) order, converted to double, into out[0..numel).
 * Returns false with an error when n is too small. */
bool ct_copy_to_f64(const ct_tensor *t, double *out, int64_t n);
/* Element at a full index, converted to double. */
double ct_get(const ct_tensor *t, ct_shape index);

/* ---- creation -------------------------------------------------------------------------------- */

typedef struct ct_tensor_opts {
    ct_dtype dtype;   /* default: ct_get_default_dtype() (integers for randint/randperm/arange) */
    ct_device device; /* default: CPU */
} ct_tensor_opts;
#define CT__TOPTS(...) CT_OPTS(ct_tensor_opts, .dtype = CT_DTYPE_DEFAULT, .device = CT_DEVICE_DEFAULT, __VA_ARGS__)

ct_tensor *ct_empty_opt(ct_shape shape, ct_tensor_opts opts);
ct_tensor *ct_zeros_opt(ct_shape shape, ct_tensor_opts opts);
ct_tensor *ct_ones_opt(ct_shape shape, ct_tensor_opts opts);
ct_tensor *ct_full_opt(ct_shape shape, double value, ct_tensor_opts opts);
#define ct_empty(shape, ...) ct_empty_opt((shape), CT__TOPTS(__VA_ARGS__))
#define ct_zeros(shape, ...) ct_zeros_opt((shape), CT__TOPTS(__VA_ARGS__))
#define ct_ones(shape, ...) ct_ones_opt((shape), CT__TOPTS(__VA_ARGS__))
#define ct_full(shape, value, ...) ct_full_opt((shape), (value), CT__TOPTS(__VA_ARGS__))
/* 0-d tensor holding value. */
ct_tensor *ct_scalar_tensor_opt(double value, ct_tensor_opts opts);
#define ct_scalar_tensor(value, ...) ct_scalar_tensor_opt((value), CT__TOPTS(__VA_ARGS__))
/* Python-number stand-ins for binary ops: 0-d tensors that promote like Python scalars do
 * (ct_mul(int_tensor, ct_scalar(0.5)) is float32; ct_add(half_tensor, ct_scalar(1)) stays half). */
ct_tensor *ct_scalar(double value);
ct_tensor *ct_scalar_int(int64_t value);
ct_tensor *ct_scalar_bool(bool value);
/* A CPU tensor holding a copy of numel(shape) elements of `dtype` read from data. A function, not a
 * macro, so compound literals work: ct_from_data((float[]){1, 2}, CT_SHAPE(2), CT_F32). */
ct_tensor *ct_from_data(const void *data, ct_shape shape, ct_dtype dtype);
/* [start, end) in steps; dtype default is int64 when start, end and step are all integers. */
ct_tensor *ct_arange_opt(double start, double end, double step, ct_tensor_opts opts);
#define ct_arange(start, end, step, ...) ct_arange_opt((start), (end), (step), CT__TOPTS(__VA_ARGS__))
ct_tensor *ct_linspace_opt(double start, double end, int64_t steps, ct_tensor_opts opts);
#define ct_linspace(start, end, steps, ...) ct_linspace_opt((start), (end), (steps), CT__TOPTS(__VA_ARGS__))
/* n x m identity (m <= 0 means m = n). */
ct_tensor *ct_eye_opt(int64_t n, int64_t m, ct_tensor_opts opts);
#define ct_eye(n, m, ...) ct_eye_opt((n), (m), CT__TOPTS(__VA_ARGS__))
/* *_like: same shape; dtype and device default to the input's. */
ct_tensor *ct_empty_like_opt(const ct_tensor *t, ct_tensor_opts opts);
ct_tensor *ct_zeros_like_opt(const ct_tensor *t, ct_tensor_opts opts);
ct_tensor *ct_ones_like_opt(const ct_tensor *t, ct_tensor_opts opts);
ct_tensor *ct_full_like_opt(const ct_tensor *t, double value, ct_tensor_opts opts);
ct_tensor *ct_rand_like_opt(const ct_tensor *t, ct_tensor_opts opts);
ct_tensor *ct_randn_like_opt(const ct_tensor *t, ct_tensor_opts opts);
#define ct_empty_like(t, ...) ct_empty_like_opt((t), CT__TOPTS(__VA_ARGS__))
#define ct_zeros_like(t, ...) ct_zeros_like_opt((t), CT__TOPTS(__VA_ARGS__))
#define ct_ones_like(t, ...) ct_ones_like_opt((t), CT__TOPTS(__VA_ARGS__))
#define ct_full_like(t, value, ...) ct_full_like_opt((t), (value), CT__TOPTS(__VA_ARGS__))
#define ct_rand_like(t, ...) ct_rand_like_opt((t), CT__TOPTS(__VA_ARGS__))
#define ct_randn_like(t, ...) ct_randn_like_opt((t), CT__TOPTS(__VA_ARGS__))

/* ---- randomness ------------------------------------------------------------------------------ */
/* One Philox-4x32-10 generator per device. Element i of a random op draws from counter
 * (offset + i / 4): results depend on the seed and the order of calls, never on threads. */

void ct_manual_seed(uint64_t seed);
uint64_t ct_seed(void);          /* seeds from the OS entropy source and returns the seed */
uint64_t ct_initial_seed(void);
typedef struct ct_rng_state {
    uint64_t seed;
    uint64_t offset; /* Philox counter blocks consumed so far */
} ct_rng_state;
ct_rng_state ct_get_rng_state(void);
void ct_set_rng_state(ct_rng_state state);
/* Makes the calling thread's CPU random ops draw from *gen (its seed; its offset advances as
 * they draw) instead of the default generator, until set back; returns the previous one (NULL:
 * the default generator). The C form of PyTorch's generator= argument: a sampler shuffles from
 * its own seed without touching, or racing with, the default generator. */
ct_rng_state *ct_set_thread_generator(ct_rng_state *gen);

ct_tensor *ct_rand_opt(ct_shape shape, ct_tensor_opts opts);  /* U[0, 1) */
ct_tensor *ct_randn_opt(ct_shape shape, ct_tensor_opts opts); /* N(0, 1) */
#define ct_rand(shape, ...) ct_rand_opt((shape), CT__TOPTS(__VA_ARGS__))
#define ct_randn(shape, ...) ct_randn_opt((shape), CT__TOPTS(__VA_ARGS__))
/* Integers in [low, high); int64 by default. */
ct_tensor *ct_randint_opt(int64_t low, int64_t high, ct_shape shape, ct_tensor_opts opts);
#define ct_randint(low, high, shape, ...) ct_randint_opt((low), (high), (shape), CT__TOPTS(__VA_ARGS__))
/* A random permutation of 0..n-1; int64 by default. */
ct_tensor *ct_randperm_opt(int64_t n, ct_tensor_opts opts);
#define ct_randperm(n, ...) ct_randperm_opt((n), CT__TOPTS(__VA_ARGS__))
ct_tensor *ct_normal_opt(double mean, double std, ct_shape shape, ct_tensor_opts opts);
#define ct_normal(mean, std, shape, ...) ct_normal_opt((mean), (std), (shape), CT__TOPTS(__VA_ARGS__))
/* Draws 0/1 with probabilities p (same shape and dtype as p). */
ct_tensor *ct_bernoulli(const ct_tensor *p);
/* Row-wise samples of category indices from non-negative weights (1-D or 2-D), int64. */
ct_tensor *ct_multinomial(const ct_tensor *probs, int64_t num_samples, bool replacement);
/* Poisson draws with the given rates (same shape and dtype). */
ct_tensor *ct_poisson(const ct_tensor *rates);
/* In place, returning t: U[low, high) and N(mean, std). */
ct_tensor *ct_uniform_(ct_tensor *t, double low, double high);
ct_tensor *ct_normal_(ct_tensor *t, double mean, double std);

/* ---- views (never copy) ----------------------------------------------------------------------- */

/* One size may be -1 (inferred). Fails, like PyTorch, when strides do not allow a view. */
ct_tensor *ct_view(const ct_tensor *t, ct_shape shape);
/* A view when strides allow it, a copy otherwise. */
ct_tensor *ct_reshape(const ct_tensor *t, ct_shape shape);
ct_tensor *ct_permute(const ct_tensor *t, ct_dims dims);
ct_tensor *ct_transpose(const ct_tensor *t, int dim0, int dim1);
ct_tensor *ct_t(const ct_tensor *t); /* 0-D, 1-D unchanged; 2-D transposed */
ct_tensor *ct_movedim(const ct_tensor *t, int source, int destination);
/* Size -1 keeps a dimension; new leading dimensions are prepended. Stride 0 for broadcast dims. */
ct_tensor *ct_expand(const ct_tensor *t, ct_shape shape);
ct_tensor *ct_broadcast_to(const ct_tensor *t, ct_shape shape);
ct_tensor *ct_expand_as(const ct_tensor *t, const ct_tensor *other);
ct_tensor *ct_narrow(const ct_tensor *t, int dim, int64_t start, int64_t length);
/* Python slicing t[start:end:step] along dim: negative start/end count from the end, out-of-range
 * bounds are clamped; CT_END means "to the end". step must be positive. */
#define CT_END INT64_MAX
ct_tensor *ct_slice(const ct_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
/* Removes dim, taking the index-th entry (negative counts from the end). */
ct_tensor *ct_select(const ct_tensor *t, int dim, int64_t index);
ct_tensor *ct_squeeze(const ct_tensor *t);             /* all size-1 dims */
ct_tensor *ct_squeeze_dim(const ct_tensor *t, int dim); /* no-op if that size is not 1 */
ct_tensor *ct_unsqueeze(const ct_tensor *t, int dim);
/* ct_flatten(t), ct_flatten(t, start_dim), ct_flatten(t, start_dim, end_dim); a view when possible. */
ct_tensor *ct_flatten3(const ct_tensor *t, int start_dim, int end_dim);
#define ct_flatten1(t) ct_flatten3((t), 0, -1)
#define ct_flatten2(t, s) ct_flatten3((t), (s), -1)
#define ct_flatten(...) CT__OVERLOAD(ct_flatten, __VA_ARGS__)
ct_tensor *ct_unflatten(const ct_tensor *t, int dim, ct_shape sizes);
ct_tensor *ct_ravel(const ct_tensor *t);
/* Sliding windows of `size` every `step` along dim, as a new last dimension. */
ct_tensor *ct_unfold(const ct_tensor *t, int dim, int64_t size, int64_t step);
ct_tensor *ct_diagonal(const ct_tensor *t, int64_t offset, int dim1, int dim2);
/* Raw strides (elements) and offset into t's storage; checked against the storage's bounds. */
ct_tensor *ct_as_strided(const ct_tensor *t, ct_shape shape, ct_shape stride, int64_t storage_offset);
/* A new handle on the same view (an alias sharing storage and metadata). */
ct_tensor *ct_alias(const ct_tensor *t);
/* t itself (one more scoped reference) when contiguous, a contiguous copy otherwise. */
ct_tensor *ct_contiguous(const ct_tensor *t);

/* ---- copying shape ops ------------------------------------------------------------------------- */

ct_tensor *ct_clone(const ct_tensor *t);
/* Copies src into dst (src broadcast to dst's shape, converted to dst's dtype); returns dst. */
ct_tensor *ct_copy_(ct_tensor *dst, const ct_tensor *src);
/* Converted copy; returns a new reference to t itself when the dtype already matches. */
ct_tensor *ct_to_dtype(const ct_tensor *t, ct_dtype dtype);
/* Copy on another device; returns a new reference to t itself when already there. */
ct_tensor *ct_to(const ct_tensor *t, ct_device device);
ct_tensor *ct_cat(ct_tensor_list tensors, int dim);
ct_tensor *ct_stack(ct_tensor_list tensors, int dim);
/* Views of pieces of split_size (the last may be smaller). */
ct_tensor_list ct_split(const ct_tensor *t, int64_t split_size, int dim);
ct_tensor_list ct_split_sizes(const ct_tensor *t, ct_shape sizes, int dim);
ct_tensor_list ct_chunk(const ct_tensor *t, int64_t chunks, int dim);
ct_tensor_list ct_unbind(const ct_tensor *t, int dim);
ct_tensor *ct_repeat(const ct_tensor *t, ct_shape repeats);
ct_tensor *ct_tile(const ct_tensor *t, ct_shape reps);
ct_tensor *ct_flip(const ct_tensor *t, ct_dims dims);
/* dims empty: roll the flattened tensor, as PyTorch. */
ct_tensor *ct_roll(const ct_tensor *t, ct_shape shifts, ct_dims dims);
typedef enum ct_pad_mode { CT_PAD_CONSTANT = 0, CT_PAD_REFLECT, CT_PAD_REPLICATE, CT_PAD_CIRCULAR } ct_pad_mode;
typedef struct ct_pad_opts {
    ct_pad_mode mode;
    double value;
} ct_pad_opts;
/* pads lists (left, right) pairs starting from the last dimension, as F.pad. Negative pads crop. */
ct_tensor *ct_pad_opt(const ct_tensor *t, ct_shape pads, ct_pad_opts opts);
#define ct_pad(t, pads, ...) ct_pad_opt((t), (pads), CT_OPTS(ct_pad_opts, .mode = CT_PAD_CONSTANT, .value = 0, __VA_ARGS__))
ct_tensor *ct_tril(const ct_tensor *t, int64_t diagonal);
ct_tensor *ct_triu(const ct_tensor *t, int64_t diagonal);
/* cond ? a : b, broadcast; cond is bool. */
ct_tensor *ct_where(const ct_tensor *cond, const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_masked_fill(const ct_tensor *t, const ct_tensor *mask, double value);
ct_tensor *ct_masked_fill_(ct_tensor *t, const ct_tensor *mask, double value);
/* 1-D of the elements where mask (broadcast) is true. */
ct_tensor *ct_masked_select(const ct_tensor *t, const ct_tensor *mask);
ct_tensor *ct_index_select(const ct_tensor *t, int dim, const ct_tensor *index);
ct_tensor *ct_gather(const ct_tensor *t, int dim, const ct_tensor *index);
/* Out-of-place forms return a copy of t with src scattered in; the _ forms write into t. */
ct_tensor *ct_scatter(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct_scatter_value(const ct_tensor *t, int dim, const ct_tensor *index, double value);
ct_tensor *ct_scatter_add(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct_scatter_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct_scatter_add_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
/* Advanced indexing t[i0, i1, ...]: one entry per leading dim, each an integer (int64/int32) or
 * bool tensor, or NULL for a full slice ':'. Index tensors broadcast together; the result's
 * indexed dims sit where the first index is when the indexed dims are adjacent, first otherwise
 * (NumPy/PyTorch rules). Negative indices count from the end. */
ct_tensor *ct_index(const ct_tensor *t, ct_tensor_list indices);
/* t[indices] = values (broadcast), or += with accumulate; returns t. */
ct_tensor *ct_index_put_(ct_tensor *t, ct_tensor_list indices, const ct_tensor *values, bool accumulate);
/* int64 (n, ndim) coordinates of non-zero elements. */
ct_tensor *ct_nonzero(const ct_tensor *t);

/* ---- elementwise ----------------------------------------------------------------------------- */
/* Binary ops broadcast and promote types as PyTorch does. In-place forms (trailing _) write into
 * their first argument, which must have the broadcast shape and a dtype the result casts to. */

typedef struct ct_alpha_opts {
    double alpha;
} ct_alpha_opts;
ct_tensor *ct_add_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts); /* a + alpha*b */
ct_tensor *ct_sub_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts); /* a - alpha*b */
#define ct_add(a, b, ...) ct_add_opt((a), (b), CT_OPTS(ct_alpha_opts, .alpha = 1, __VA_ARGS__))
#define ct_sub(a, b, ...) ct_sub_opt((a), (b), CT_OPTS(ct_alpha_opts, .alpha = 1, __VA_ARGS__))
ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b);
typedef enum ct_rounding { CT_ROUND_NONE = 0, CT_ROUND_TRUNC, CT_ROUND_FLOOR } ct_rounding;
typedef struct ct_div_opts {
    ct_rounding rounding_mode;
} ct_div_opts;
/* True division (integers give floats) unless rounding_mode is trunc or floor. */
ct_tensor *ct_div_opt(const ct_tensor *a, const ct_tensor *b, ct_div_opts opts);
#define ct_div(a, b, ...) ct_div_opt((a), (b), CT_OPTS(ct_div_opts, .rounding_mode = CT_ROUND_NONE, __VA_ARGS__))
ct_tensor *ct_pow(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_minimum(const ct_tensor *a, const ct_tensor *b); /* NaN-propagating */
ct_tensor *ct_maximum(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_remainder(const ct_tensor *a, const ct_tensor *b); /* Python's %, sign of b */
ct_tensor *ct_atan2(const ct_tensor *a, const ct_tensor *b);
/* Scalar right-hand sides, promoting as a Python number would. */
ct_tensor *ct_add_scalar(const ct_tensor *a, double s);
ct_tensor *ct_sub_scalar(const ct_tensor *a, double s);
ct_tensor *ct_mul_scalar(const ct_tensor *a, double s);
ct_tensor *ct_div_scalar(const ct_tensor *a, double s);
ct_tensor *ct_pow_scalar(const ct_tensor *a, double exponent);
ct_tensor *ct_rsub_scalar(const ct_tensor *a, double s); /* s - a */

/* Comparisons and logic give bool tensors. */
ct_tensor *ct_eq(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_ne(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_lt(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_le(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_gt(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_ge(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_logical_and(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_logical_or(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_logical_xor(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_logical_not(const ct_tensor *t);
ct_tensor *ct_isnan(const ct_tensor *t);
ct_tensor *ct_isinf(const ct_tensor *t);
ct_tensor *ct_isfinite(const ct_tensor *t);
/* Both true when same shape and all elements equal (allclose: |a-b| <= atol + rtol*|b|). */
bool ct_equal(const ct_tensor *a, const ct_tensor *b);
bool ct_allclose(const ct_tensor *a, const ct_tensor *b, double rtol, double atol);

/* Unary math; integer inputs of float functions give the default float dtype. */
ct_tensor *ct_neg(const ct_tensor *t);
ct_tensor *ct_abs(const ct_tensor *t);
ct_tensor *ct_sign(const ct_tensor *t);
ct_tensor *ct_sqrt(const ct_tensor *t);
ct_tensor *ct_rsqrt(const ct_tensor *t);
ct_tensor *ct_square(const ct_tensor *t);
ct_tensor *ct_reciprocal(const ct_tensor *t);
ct_tensor *ct_exp(const ct_tensor *t);
ct_tensor *ct_log(const ct_tensor *t);
ct_tensor *ct_log2(const ct_tensor *t);
ct_tensor *ct_log1p(const ct_tensor *t);
ct_tensor *ct_expm1(const ct_tensor *t);
ct_tensor *ct_sin(const ct_tensor *t);
ct_tensor *ct_cos(const ct_tensor *t);
ct_tensor *ct_tan(const ct_tensor *t);
ct_tensor *ct_tanh(const ct_tensor *t);
ct_tensor *ct_erf(const ct_tensor *t);
ct_tensor *ct_floor(const ct_tensor *t);
ct_tensor *ct_ceil(const ct_tensor *t);
ct_tensor *ct_round(const ct_tensor *t); /* half to even */
ct_tensor *ct_trunc(const ct_tensor *t);
ct_tensor *ct_sigmoid(const ct_tensor *t);
ct_tensor *ct_relu(const ct_tensor *t);
ct_tensor *ct_silu(const ct_tensor *t);
typedef enum ct_gelu_approx { CT_GELU_NONE = 0, CT_GELU_TANH } ct_gelu_approx;
typedef struct ct_gelu_opts {
    ct_gelu_approx approximate;
} ct_gelu_opts;
ct_tensor *ct_gelu_opt(const ct_tensor *t, ct_gelu_opts opts);
#define ct_gelu(t, ...) ct_gelu_opt((t), CT_OPTS(ct_gelu_opts, .approximate = CT_GELU_NONE, __VA_ARGS__))
ct_tensor *ct_leaky_relu(const ct_tensor *t, double negative_slope); /* PyTorch default 0.01 */
ct_tensor *ct_elu(const ct_tensor *t, double alpha);                 /* PyTorch default 1.0 */
typedef struct ct_softplus_opts {
    double beta, threshold;
} ct_softplus_opts;
ct_tensor *ct_softplus_opt(const ct_tensor *t, ct_softplus_opts opts);
#define ct_softplus(t, ...) ct_softplus_opt((t), CT_OPTS(ct_softplus_opts, .beta = 1, .threshold = 20, __VA_ARGS__))
/* Bounds may be -INFINITY / INFINITY for "none". */
ct_tensor *ct_clamp(const ct_tensor *t, double min, double max);
typedef struct ct_nan_to_num_opts {
    double nan;
    double posinf; /* NAN means the dtype's largest finite value */
    double neginf; /* NAN means the dtype's lowest finite value */
} ct_nan_to_num_opts;
ct_tensor *ct_nan_to_num_opt(const ct_tensor *t, ct_nan_to_num_opts opts);
#define ct_nan_to_num(t, ...) ct_nan_to_num_opt((t), CT_OPTS(ct_nan_to_num_opts, .nan = 0, .posinf = NAN, .neginf = NAN, __VA_ARGS__))

/* In-place forms; each returns its first argument. */
ct_tensor *ct_add_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
ct_tensor *ct_sub_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
#define ct_add_(a, b, ...) ct_add_inplace_opt((a), (b), CT_OPTS(ct_alpha_opts, .alpha = 1, __VA_ARGS__))
#define ct_sub_(a, b, ...) ct_sub_inplace_opt((a), (b), CT_OPTS(ct_alpha_opts, .alpha = 1, __VA_ARGS__))
ct_tensor *ct_mul_(ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_div_(ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_add_scalar_(ct_tensor *a, double s);
ct_tensor *ct_mul_scalar_(ct_tensor *a, double s);
ct_tensor *ct_neg_(ct_tensor *t);
ct_tensor *ct_exp_(ct_tensor *t);
ct_tensor *ct_sqrt_(ct_tensor *t);
ct_tensor *ct_relu_(ct_tensor *t);
ct_tensor *ct_sigmoid_(ct_tensor *t);
ct_tensor *ct_tanh_(ct_tensor *t);
ct_tensor *ct_clamp_(ct_tensor *t, double min, double max);
ct_tensor *ct_fill_(ct_tensor *t, double value);
ct_tensor *ct_zero_(ct_tensor *t);

/* ---- reductions -------------------------------------------------------------------------------- */

typedef struct ct_reduce_opts {
    ct_dims dim;      /* dims to reduce; empty (default) means all */
    bool keepdim;
    ct_dtype dtype;   /* accumulate/output dtype; default: input's (sum/prod of ints: int64) */
    double correction; /* var/std: 1 (Bessel) by default */
    double p;          /* norm: 2 by default; INFINITY for the max norm */
} ct_reduce_opts;
#define CT__ROPTS(...) CT_OPTS(ct_reduce_opts, .dtype = CT_DTYPE_DEFAULT, .correction = 1, .p = 2, __VA_ARGS__)
ct_tensor *ct_sum_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_mean_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_prod_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_amax_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_amin_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_var_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_std_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_norm_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_logsumexp_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_all_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_any_opt(const ct_tensor *t, ct_reduce_opts opts);
#define ct_sum(t, ...) ct_sum_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_mean(t, ...) ct_mean_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_prod(t, ...) ct_prod_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_amax(t, ...) ct_amax_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_amin(t, ...) ct_amin_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_var(t, ...) ct_var_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_std(t, ...) ct_std_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_norm(t, ...) ct_norm_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_logsumexp(t, ...) ct_logsumexp_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_all(t, ...) ct_all_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_any(t, ...) ct_any_opt((t), CT__ROPTS(__VA_ARGS__))
/* max/min over everything (0-d), or along one dim with the indices of the extremes (first
 * occurrence); indices may be NULL when not wanted. */
ct_tensor *ct_max(const ct_tensor *t);
ct_tensor *ct_min(const ct_tensor *t);
ct_tensor *ct_max_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);
ct_tensor *ct_min_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);
/* Index of the extreme in the flattened tensor (dim empty) or along opts.dim[0]; int64. */
ct_tensor *ct_argmax_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct_argmin_opt(const ct_tensor *t, ct_reduce_opts opts);
#define ct_argmax(t, ...) ct_argmax_opt((t), CT__ROPTS(__VA_ARGS__))
#define ct_argmin(t, ...) ct_argmin_opt((t), CT__ROPTS(__VA_ARGS__))
ct_tensor *ct_softmax(const ct_tensor *t, int dim);
ct_tensor *ct_log_softmax(const ct_tensor *t, int dim);
ct_tensor *ct_cumsum(const ct_tensor *t, int dim);
ct_tensor *ct_cumprod(const ct_tensor *t, int dim);

/* ---- matrix products ---------------------------------------------------------------------------- */
/* f32 and f64 through BLAS (transposed views are passed as transposes, not copied); f16 and bf16
 * compute in f32 on the CPU. */

/* torch.matmul: 1-D·1-D dot, 2-D mm, 1-D promoted and removed, batched with broadcast batch dims. */
ct_tensor *ct_matmul(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_mm(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_bmm(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_mv(const ct_tensor *a, const ct_tensor *v);
ct_tensor *ct_dot(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct_outer(const ct_tensor *a, const ct_tensor *b);
typedef struct ct_addmm_opts {
    double beta, alpha;
} ct_addmm_opts;
/* beta*input + alpha*(a @ b); input broadcasts to the product's shape. */
ct_tensor *ct_addmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts);
ct_tensor *ct_baddbmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts);
#define ct_addmm(input, a, b, ...) ct_addmm_opt((input), (a), (b), CT_OPTS(ct_addmm_opts, .beta = 1, .alpha = 1, __VA_ARGS__))
#define ct_baddbmm(input, a, b, ...) ct_baddbmm_opt((input), (a), (b), CT_OPTS(ct_addmm_opts, .beta = 1, .alpha = 1, __VA_ARGS__))
/* Two-operand (or one-operand) Einstein summation: "bij,bjk->bik", "ii->i", "ij->" ... */
ct_tensor *ct_einsum(const char *equation, ct_tensor_list operands);

/* ---- printing ------------------------------------------------------------------------------------ */

/* PyTorch-style text: tensor([[1.0000, 2.0000], ...], dtype=..., device=...); tensors with more
 * than 1000 elements are summarized with "...". The string belongs to the innermost scope. */
const char *ct_str(const ct_tensor *t);
void ct_print(const ct_tensor *t);
void ct_fprint(FILE *f, const ct_tensor *t);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_TENSOR_H */
