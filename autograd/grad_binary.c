/* Derivatives of binary elementwise ops (tensor and scalar right-hand sides), their in-place forms,
 * and fills. */
#include "autograd_impl.h"

/* ---- add, sub, mul --------------------------------------------------------------------------- */

typedef struct alpha_ctx {
    double alpha;
} alpha_ctx;

/* a + alpha*b: d/da = grad, d/db = alpha*grad (sub records alpha negated). Broadcast inputs get
 * their gradient summed down by the engine. */
static bool add_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    double alpha = ((alpha_ctx *)n->ctx)->alpha;
    if (ct__needs_grad(n, 0)) gi[0] = ct_alias(grad);
    if (ct__needs_grad(n, 1)) gi[1] = alpha == 1 ? ct_alias(grad) : ct_mul_scalar(grad, alpha);
    return true;
}
static const ct_node_ops add_node = {"AddBackward0", "add", add_backward, NULL};
static const ct_node_ops sub_node = {"SubBackward0", "sub", add_backward, NULL};

ct_tensor *ct_add_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    CT__AG_BEGIN(ct__add_opt(a, b, opts), a, b);
    ct_node *n = CT__AG_RECORD(&add_node, sizeof(alpha_ctx));
    if (n) ((alpha_ctx *)n->ctx)->alpha = opts.alpha;
    return ct__ag_result(out);
}

ct_tensor *ct_sub_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    CT__AG_BEGIN(ct__sub_opt(a, b, opts), a, b);
    ct_node *n = CT__AG_RECORD(&sub_node, sizeof(alpha_ctx));
    if (n) ((alpha_ctx *)n->ctx)->alpha = -opts.alpha;
    return ct__ag_result(out);
}

/* a*b: d/da = grad*b, d/db = grad*a; each factor is saved only when the other needs it. */
static bool mul_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_mul(grad, ct__saved(n, 1));
    if (ct__needs_grad(n, 1)) gi[1] = ct_mul(grad, ct__saved(n, 0));
    return true;
}
static const ct_node_ops mul_node = {"MulBackward0", "mul", mul_backward, NULL};

ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__mul(a, b), a, b);
    ct_node *n = CT__AG_RECORD(&mul_node, 0);
    if (n) {
        ct__save(n, ct__needs_grad(n, 1) ? a : NULL);
        ct__save(n, ct__needs_grad(n, 0) ? b : NULL);
    }
    return ct__ag_result(out);
}

ct_tensor *ct_div_opt(const ct_tensor *a, const ct_tensor *b, ct_div_opts opts) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__div_opt(a, b, opts);
    return ct__ag_not_implemented("div");
}

ct_tensor *ct_pow(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__pow(a, b);
    return ct__ag_not_implemented("pow");
}

ct_tensor *ct_minimum(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__minimum(a, b);
    return ct__ag_not_implemented("minimum");
}

ct_tensor *ct_maximum(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__maximum(a, b);
    return ct__ag_not_implemented("maximum");
}

ct_tensor *ct_remainder(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__remainder(a, b);
    return ct__ag_not_implemented("remainder");
}

ct_tensor *ct_atan2(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__atan2(a, b);
    return ct__ag_not_implemented("atan2");
}

ct_tensor *ct_add_scalar(const ct_tensor *a, double s) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__add_scalar(a, s);
    return ct__ag_not_implemented("add_scalar");
}

ct_tensor *ct_sub_scalar(const ct_tensor *a, double s) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__sub_scalar(a, s);
    return ct__ag_not_implemented("sub_scalar");
}

ct_tensor *ct_mul_scalar(const ct_tensor *a, double s) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__mul_scalar(a, s);
    return ct__ag_not_implemented("mul_scalar");
}

ct_tensor *ct_div_scalar(const ct_tensor *a, double s) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__div_scalar(a, s);
    return ct__ag_not_implemented("div_scalar");
}

ct_tensor *ct_pow_scalar(const ct_tensor *a, double exponent) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__pow_scalar(a, exponent);
    return ct__ag_not_implemented("pow_scalar");
}

ct_tensor *ct_rsub_scalar(const ct_tensor *a, double s) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__rsub_scalar(a, s);
    return ct__ag_not_implemented("rsub_scalar");
}

ct_tensor *ct_add_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__add_inplace_opt(a, b, opts);
    return ct__ag_not_implemented("add_inplace");
}

ct_tensor *ct_sub_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__sub_inplace_opt(a, b, opts);
    return ct__ag_not_implemented("sub_inplace");
}

ct_tensor *ct_mul_(ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_check_inplace("mul_", a)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__mul_(a, b);
    return ct__ag_not_implemented("mul_");
}

ct_tensor *ct_div_(ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_check_inplace("div_", a)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__div_(a, b);
    return ct__ag_not_implemented("div_");
}

ct_tensor *ct_add_scalar_(ct_tensor *a, double s) {
    if (!ct__ag_check_inplace("add_scalar_", a)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__add_scalar_(a, s);
    return ct__ag_not_implemented("add_scalar_");
}

ct_tensor *ct_mul_scalar_(ct_tensor *a, double s) {
    if (!ct__ag_check_inplace("mul_scalar_", a)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){a})) return ct__mul_scalar_(a, s);
    return ct__ag_not_implemented("mul_scalar_");
}

ct_tensor *ct_fill_(ct_tensor *t, double value) {
    if (!ct__ag_check_inplace("fill_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__fill_(t, value);
    return ct__ag_not_implemented("fill_");
}

ct_tensor *ct_zero_(ct_tensor *t) {
    if (!ct__ag_check_inplace("zero_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__zero_(t);
    return ct__ag_not_implemented("zero_");
}
