/* Private tensor internals shared by all of tensor/: the struct, storage, and helpers every op
 * uses to validate its inputs and build its outputs. */
#ifndef CTORCH_TENSOR_IMPL_H
#define CTORCH_TENSOR_IMPL_H

#include "../core/core_impl.h"
#include "ctorch/tensor.h"
#include "dtype_impl.h"
#include "native_impl.h"

#include <string.h>

/* Memory shared by views. Not a scope object: only tensors hold storages. */
typedef struct ct_storage {
    atomic_int_fast64_t refcount;
    void *data;
    size_t nbytes;
    ct_device device;
    /* Bumped by every in-place write through any view; autograd compares it with the value
     * saved at forward time. */
    atomic_int_fast64_t version;
    void (*free_data)(struct ct_storage *s); /* NULL when data sits inline after the struct */
} ct_storage;

struct ct_tensor {
    ct_object header;
    ct_storage *storage;
    int64_t offset; /* in elements */
    int ndim;
    ct_dtype dtype;
    /* A Python-number stand-in (ct_scalar): promotes like a scalar, not like a tensor. */
    bool wrapped_number;
    int64_t shape[CT_MAX_DIMS];
    int64_t stride[CT_MAX_DIMS]; /* in elements */
    /* Autograd (DESIGN §5), maintained by autograd/; the tensor layer only releases them. A leaf
     * requires grad when the user asked; a non-leaf exactly when grad_fn is set. */
    bool requires_grad;
    bool is_inference; /* created in inference mode: never recorded in a graph */
    /* A view's base: the tensor whose storage it shares, followed to the first one that is not a
     * view itself (one reference). NULL for a tensor that owns its storage, a detached tensor and
     * autograd's saved aliases. Autograd needs it to record in-place writes into views. */
    struct ct_tensor *view_base;
    struct ct_node *grad_fn;         /* the node that computes this tensor's gradient's consumers */
    struct ct_autograd_meta *autograd; /* .grad, hooks, retain_grad; NULL until first needed */
};

/* Inference mode, thread-local (autograd/grad_mode.c sets it): tensors created while it is on are
 * marked is_inference. */
extern _Thread_local bool ct__inference_mode;

/* ---- storage (storage.c) ---- */
ct_storage *ct__storage_new(size_t nbytes, ct_device device);
void ct__storage_release(ct_storage *s);

/* ---- tensors (tensor.c) ---- */
/* A new contiguous tensor with uninitialised data, owned by the innermost scope. */
ct_tensor *ct__tensor_new(const int64_t *shape, int ndim, ct_dtype dtype, ct_device device);
/* A new contiguous tensor over storage s (whose reference it takes over), owned by the innermost
 * scope; s is released on failure. s->nbytes must cover the shape. */
ct_tensor *ct__tensor_from_storage(ct_storage *s, const int64_t *shape, int ndim, ct_dtype dtype);
/* A new view of base's storage, owned by the innermost scope. */
ct_tensor *ct__tensor_view(const ct_tensor *base, const int64_t *shape, const int64_t *stride, int ndim,
                           int64_t offset);
/* A new header on t's storage and geometry with no autograd state, owned by the caller (one
 * reference, in no scope): autograd saves tensors this way. */
ct_tensor *ct__tensor_alias_unscoped(const ct_tensor *t);
/* t takes src's storage, offset, sizes, strides and dtype, keeping its identity and autograd state
 * (PyTorch's `t.data = src`, which module.to relies on). */
void ct__tensor_set_data(ct_tensor *t, const ct_tensor *src);
static inline char *ct__data(const ct_tensor *t) {
    return (char *)t->storage->data + t->offset * (int64_t)ct_dtype_size(t->dtype);
}
static inline ct_device ct__device(const ct_tensor *t) { return t->storage->device; }
static inline bool ct__is_cpu(const ct_tensor *t) { return t->storage->device.type == CT_DEVICE_CPU; }
int64_t ct__numel(const int64_t *shape, int ndim);
/* Do two shapes (sizes and ndims) agree? */
static inline bool ct__same_shape(const int64_t *a, int a_ndim, const int64_t *b, int b_ndim) {
    return a_ndim == b_ndim && (a_ndim == 0 || !memcmp(a, b, (size_t)a_ndim * sizeof *a));
}
void ct__contiguous_strides(const int64_t *shape, int ndim, int64_t *stride);
bool ct__is_contiguous(const ct_tensor *t);
/* Marks an in-place write (see ct_storage.version). */
static inline void ct__bump_version(ct_tensor *t) {
    atomic_fetch_add_explicit(&t->storage->version, 1, memory_order_relaxed);
}

/* ---- validation helpers (shape_util.c); each sets the error and returns false / -1 ---- */
/* Returns false with "op: argument 'name' (position i) is NULL" unless an error is pending. */
bool ct__check_not_null(const char *op, int n, const ct_tensor *const *ts);
#define CT__CHECK(op, ...) ct__check_not_null((op), CT__NARGS(__VA_ARGS__), (const ct_tensor *const[]){__VA_ARGS__})
/* Wraps a possibly negative dim into [0, ndim); -1 with PyTorch's message when out of range.
 * A 0-d tensor accepts dims -1 and 0, as in PyTorch. */
int ct__wrap_dim(const char *op, int dim, int ndim);
/* Same-device check across operands: "Expected all tensors to be on the same device, ...". */
bool ct__check_same_device(const char *op, int n, const ct_tensor *const *ts);
/* The error for an op whose kernel does not exist on a device (yet): CT_ERR_UNSUPPORTED naming both;
 * returns NULL. */
void *ct__no_kernel(const char *op, ct_device device);
/* In-place writes need one memory location per element: false with PyTorch's message when t has a
 * stride-0 dim of size > 1 (an expanded tensor). fill_ and zero_ allow it, as PyTorch does. */
bool ct__check_writable(const char *op, const ct_tensor *t);
/* Broadcast shape of n tensors, or false with "The size of tensor a (3) must match ...". */
bool ct__broadcast_shape(const char *op, int n, const ct_tensor *const *ts, ct_shape *out);
/* Strides (elements) of t viewed as broadcast to shape: 0 where t is broadcast. */
void ct__broadcast_strides(const ct_tensor *t, const ct_shape *shape, int64_t *stride);
/* PyTorch's result_type over tensors (wrapped numbers and 0-d tensors weigh less). */
ct_dtype ct__result_type(int n, const ct_tensor *const *ts);
bool ct__dtype_valid(ct_dtype dtype);
/* PyTorch's C++ scalar type names ("Float", "Long"), which its error messages use. */
const char *ct__torch_type_name(ct_dtype dtype);
/* "[2, 3]" and "2x3" renderings in a thread-local ring of buffers (valid for 8 more calls). */
const char *ct__shape_str(const int64_t *shape, int ndim);
const char *ct__shape_x(const int64_t *shape, int ndim);
/* Resolves option defaults (CT_DTYPE_DEFAULT, CT_DEVICE_DEFAULT) and checks the device exists. */
bool ct__resolve_opts(const char *op, ct_tensor_opts *opts, ct_dtype dtype_default, ct_device device_default);
/* Validates a shape (non-negative sizes, ndim within CT_MAX_DIMS). */
bool ct__check_shape(const char *op, const ct_shape *shape);

/* ---- copying (copy.c) ---- */
/* dst[...] = convert(src[...]) elementwise; src already broadcast-compatible with dst. */
bool ct__copy_into(const char *op, ct_tensor *dst, const ct_tensor *src);
/* A contiguous tensor with t's values in dtype (t itself, retained into the scope, when it
 * already is one). */
ct_tensor *ct__contiguous_as(const ct_tensor *t, ct_dtype dtype);

/* ---- threads (cpu/parallel.c) ---- */
int ct__num_threads(void);

#endif /* CTORCH_TENSOR_IMPL_H */
