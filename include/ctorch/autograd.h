/* ctorch autograd: requires_grad, the backward engine, grad modes, tensor hooks, anomaly
 * detection and gradcheck (DESIGN §5).
 *
 * Every differentiable op of ctorch/tensor.h records a node when grad mode is on and one of its
 * floating-point inputs requires grad; ct_backward runs the recorded graph from a root and
 * accumulates into the leaves' .grad. The graph belongs to the tensors: it is freed with the
 * last tensor that refers to it (usually when the training step's scope ends). */
#ifndef CTORCH_AUTOGRAD_H
#define CTORCH_AUTOGRAD_H

#include "ctorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- variables ------------------------------------------------------------------------------- */

bool ct_requires_grad(const ct_tensor *t);
/* Sets requires_grad on a leaf (floating dtypes only, as PyTorch); returns t. Turning it off on a
 * non-leaf is PyTorch's error: detach instead. */
ct_tensor *ct_requires_grad_(ct_tensor *t, bool requires_grad);
/* A leaf: made by the user (not recorded by an op), or not requiring grad at all. */
bool ct_is_leaf(const ct_tensor *t);
/* The accumulated gradient (one more scoped reference to it), or NULL with no error pending when
 * none has been computed, like PyTorch's None. */
ct_tensor *ct_grad(const ct_tensor *t);
/* Replaces .grad with grad (shape, dtype and device must match t's); NULL clears it, as
 * zero_grad(set_to_none=True) does. */
bool ct_set_grad(ct_tensor *t, const ct_tensor *grad);
/* PyTorch's grad_fn name ("MulBackward0", "AccumulateGrad" is never returned: leaves have none),
 * or NULL when t has no grad_fn. */
const char *ct_grad_fn_name(const ct_tensor *t);
/* Keeps .grad for a non-leaf during backward (a no-op on leaves); returns t. */
ct_tensor *ct_retain_grad(ct_tensor *t);
bool ct_retains_grad(const ct_tensor *t);
/* A new tensor on the same storage, out of the graph (requires_grad false). Writes through either
 * are seen by both, and bump the shared version counter. */
ct_tensor *ct_detach(const ct_tensor *t);
/* Detaches t itself from the graph in place; returns t. */
ct_tensor *ct_detach_(ct_tensor *t);

/* ---- running backward ------------------------------------------------------------------------ */

typedef struct ct_backward_opts {
    const ct_tensor *gradient; /* d(root); may be NULL for a one-element root (then 1) */
    bool retain_graph;         /* keep saved tensors so backward can run again */
} ct_backward_opts;
/* Accumulates d(root)/d(leaf) into every leaf's .grad. Returns false with an error on failure,
 * and does nothing while an error is pending (check and clear it first: the forward may have
 * failed part-way). */
bool ct_backward_opt(const ct_tensor *root, ct_backward_opts opts);
#define ct_backward(root, ...) ct_backward_opt((root), CT_OPTS(ct_backward_opts, .gradient = NULL, __VA_ARGS__))

typedef struct ct_autograd_grad_opts {
    bool retain_graph;
    bool allow_unused; /* an input the outputs do not depend on gets NULL instead of an error */
} ct_autograd_grad_opts;
/* Gradients of the outputs, weighted by grad_outputs (one per output; CT_NO_TENSORS for
 * one-element outputs, meaning 1), with respect to inputs, without touching any .grad
 * (torch.autograd.grad). The list and its tensors belong to the innermost scope; .n is 0 on
 * failure. grad_outputs is positional, not a named option: a CT_TENSORS(...) list built inside
 * the option macro would not outlive it. */
ct_tensor_list ct_autograd_grad_opt(ct_tensor_list outputs, ct_tensor_list inputs, ct_tensor_list grad_outputs,
                                    ct_autograd_grad_opts opts);
#define ct_autograd_grad(outputs, inputs, grad_outputs, ...)                                     \
    ct_autograd_grad_opt((outputs), (inputs), (grad_outputs), CT_OPTS(ct_autograd_grad_opts, .retain_graph = false, __VA_ARGS__))

/* ---- grad modes (thread-local) ----------------------------------------------------------------- */

bool ct_is_grad_enabled(void);
/* Returns the previous setting. */
bool ct_set_grad_enabled(bool enabled);
bool ct_is_inference_mode_enabled(void);
/* Inference mode: no graph is recorded, and tensors created meanwhile are inference tensors that
 * can never be saved for backward (PyTorch's InferenceMode). Returns the previous setting. */
bool ct_set_inference_mode(bool enabled);
bool ct_is_inference(const ct_tensor *t);

typedef struct ct_grad_mode_guard {
    bool grad, inference;
    int once;
} ct_grad_mode_guard;
ct_grad_mode_guard ct__grad_mode_enter(int grad, int inference); /* -1 keeps the current value */
void ct__grad_mode_exit(ct_grad_mode_guard *guard);
#define CT__GRAD_MODE_BLOCK(grad, inference)                                                     \
    for (ct_grad_mode_guard CT__CAT(ct__grad_mode_, __LINE__)                                      \
             __attribute__((cleanup(ct__grad_mode_exit))) = ct__grad_mode_enter((grad), (inference)); \
         CT__CAT(ct__grad_mode_, __LINE__).once; CT__CAT(ct__grad_mode_, __LINE__).once = 0)
/* CT_NO_GRAD { ... }: torch.no_grad(). The previous mode comes back however the block is left;
 * break and continue leave the block, as with CT_SCOPE. */
#define CT_NO_GRAD CT__GRAD_MODE_BLOCK(0, -1)
#define CT_ENABLE_GRAD CT__GRAD_MODE_BLOCK(1, -1)
#define CT_SET_GRAD_ENABLED(enabled) CT__GRAD_MODE_BLOCK((enabled) ? 1 : 0, -1)
#define CT_INFERENCE_MODE CT__GRAD_MODE_BLOCK(0, 1)

/* ---- hooks ------------------------------------------------------------------------------------- */

/* A registered hook; ct_hook_remove unregisters it. Releasing the handle (it belongs to the
 * innermost scope like every object) does not remove the hook. */
typedef struct ct_hook_handle ct_hook_handle;
void ct_hook_remove(ct_hook_handle *handle);

/* Called with the gradient with respect to t during backward, before it is used (for a leaf:
 * before it is accumulated). Returns a replacement of the same shape, or NULL to keep grad;
 * recording an error (ct_error) stops backward with it. */
typedef ct_tensor *(*ct_grad_hook)(ct_tensor *grad, void *user);
ct_hook_handle *ct_register_hook(ct_tensor *t, ct_grad_hook fn, void *user);
/* Called on a leaf after its .grad has been accumulated (what DDP waits for). */
typedef void (*ct_post_accumulate_grad_hook)(ct_tensor *leaf, void *user);
ct_hook_handle *ct_register_post_accumulate_grad_hook(ct_tensor *t, ct_post_accumulate_grad_hook fn, void *user);

/* ---- anomaly detection ------------------------------------------------------------------------- */

/* When on, every recorded node remembers the forward call that made it, and backward fails at the
 * first node whose gradient has NaN or Inf, naming the node and that forward call. Off by
 * default (it costs a backtrace per op); CT_DETECT_ANOMALY=1 in the environment turns it on. */
void ct_set_detect_anomaly(bool enabled);
bool ct_is_anomaly_enabled(void);

/* ---- gradcheck --------------------------------------------------------------------------------- */

/* The function under test: computes one tensor from the inputs with ctorch ops. */
typedef ct_tensor *(*ct_gradcheck_fn)(ct_tensor *const *inputs, void *user);
typedef struct ct_gradcheck_opts {
    double eps, atol, rtol;
} ct_gradcheck_opts;
/* Compares the Jacobian that backward computes with central finite differences, for every input
 * that requires grad (f64 CPU tensors, any strides without overlapping elements). Returns false
 * with a message naming the output and input elements that differ. */
bool ct_gradcheck_opt(ct_gradcheck_fn fn, void *user, ct_tensor_list inputs, ct_gradcheck_opts opts);
#define ct_gradcheck(fn, user, inputs, ...)                                                      \
    ct_gradcheck_opt((fn), (user), (inputs), CT_OPTS(ct_gradcheck_opts, .eps = 1e-6, .atol = 1e-5, .rtol = 1e-3, __VA_ARGS__))

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_AUTOGRAD_H */
