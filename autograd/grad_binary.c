/* Derivatives of binary elementwise ops (tensor and scalar right-hand sides), their in-place forms,
 * and fills.
 *
 * grad_fn names are those a PyTorch user sees: a scalar right-hand side behaves as a Python number,
 * so ct_mul_scalar(x, 2) is MulBackward0 like x * 2 (and like ct_mul(x, ct_scalar(2))), and
 * ct_rsub_scalar(x, 2) is RsubBackward1 like 2 - x. */
#include "autograd_impl.h"
#include "trace_impl.h"

/* A zero gradient for input i: for ops whose result does not vary with that input (PyTorch
 * returns zeros, not "no gradient", so the input's .grad still appears). */
static ct_tensor *zero_grad_for(const ct_node *n, int i, const ct_tensor *grad) {
    return ct_zeros_opt(ct__input_shape(n, i), (ct_tensor_opts){.dtype = ct_dtype_of(grad), .device = ct_device_of(grad)});
}

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
static const ct_node_ops add_node = {"AddBackward0", "add", add_backward, NULL, NULL};
static const ct_node_ops sub_node = {"SubBackward0", "sub", add_backward, NULL, NULL};

ct_tensor *ct_add_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    CT__AG_BEGIN(ct__add_opt(a, b, opts), a, b);
    ct_node *n = CT__AG_RECORD(&add_node, sizeof(alpha_ctx));
    if (n) ((alpha_ctx *)n->ctx)->alpha = opts.alpha;
    CT__TRACE_ATTRS(out, (ct_trace_scalar){opts.alpha});
    return ct__ag_result(out);
}

ct_tensor *ct_sub_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    CT__AG_BEGIN(ct__sub_opt(a, b, opts), a, b);
    ct_node *n = CT__AG_RECORD(&sub_node, sizeof(alpha_ctx));
    if (n) ((alpha_ctx *)n->ctx)->alpha = -opts.alpha;
    CT__TRACE_ATTRS(out, (ct_trace_scalar){opts.alpha});
    return ct__ag_result(out);
}

/* a*b: d/da = grad*b, d/db = grad*a; each factor is saved only when the other needs it. */
static bool mul_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_mul(grad, ct__saved(n, 1));
    if (ct__needs_grad(n, 1)) gi[1] = ct_mul(grad, ct__saved(n, 0));
    return true;
}
static const ct_node_ops mul_node = {"MulBackward0", "mul", mul_backward, NULL, NULL};

ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__mul(a, b), a, b);
    ct_node *n = CT__AG_RECORD(&mul_node, 0);
    if (n) {
        ct__save(n, ct__needs_grad(n, 1) ? a : NULL);
        ct__save(n, ct__needs_grad(n, 0) ? b : NULL);
    }
    return ct__ag_result(out);
}

/* ---- div ------------------------------------------------------------------------------------- */

/* a/b: d/da = grad/b, d/db = -grad*a/b^2, computed as PyTorch does: -grad * ((a/b)/b).
 * Saved: a (only when b needs a gradient), b. */
static bool div_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *a = ct__saved(n, 0), *b = ct__saved(n, 1);
    if (ct__needs_grad(n, 0)) gi[0] = ct_div(grad, b);
    if (ct__needs_grad(n, 1)) gi[1] = ct_mul(ct_neg(grad), ct_div(ct_div(a, b), b));
    return true;
}
/* trunc(a/b), floor(a/b): piecewise constant, so both gradients are zero (as in PyTorch). */
static bool rounded_div_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    for (int i = 0; i < 2; i++)
        if (ct__needs_grad(n, i)) gi[i] = zero_grad_for(n, i, grad);
    return true;
}
static const ct_node_ops div_node = {"DivBackward0", "div", div_backward, NULL, NULL};
static const ct_node_ops rounded_div_node = {"DivBackward2", "div", rounded_div_backward, NULL, NULL};

ct_tensor *ct_div_opt(const ct_tensor *a, const ct_tensor *b, ct_div_opts opts) {
    CT__AG_BEGIN(ct__div_opt(a, b, opts), a, b);
    if (opts.rounding_mode != CT_ROUND_NONE) {
        CT__AG_RECORD(&rounded_div_node, 0);
        return ct__ag_result(out);
    }
    ct_node *n = CT__AG_RECORD(&div_node, 0);
    if (n) {
        ct__save(n, ct__needs_grad(n, 1) ? a : NULL);
        ct__save(n, b);
    }
    return ct__ag_result(out);
}

/* ---- pow ------------------------------------------------------------------------------------- */

/* r = a^b: d/da = grad * b * a^(b-1), 0 where b == 0 (a^0 is constant, even at a == 0);
 *          d/db = grad * r * log(a), 0 where a == 0 and b >= 0 (PyTorch's choice at the kink).
 * log is taken in r's dtype, as PyTorch promotes a first. Saved: a, b, and r when b needs it. */
static bool pow_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *a = ct__saved(n, 0), *b = ct__saved(n, 1), *zero = ct_scalar(0);
    if (ct__needs_grad(n, 0)) {
        ct_tensor *slope = ct_mul(b, ct_pow(a, ct_sub_scalar(b, 1)));
        gi[0] = ct_masked_fill(ct_mul(grad, slope), ct_eq(b, zero), 0);
    }
    if (ct__needs_grad(n, 1)) {
        const ct_tensor *r = ct__saved(n, 2);
        ct_tensor *slope = ct_mul(r, ct_log(ct_to_dtype(a, ct_dtype_of(r))));
        gi[1] = ct_masked_fill(ct_mul(grad, slope), ct_logical_and(ct_eq(a, zero), ct_ge(b, zero)), 0);
    }
    return true;
}
static const ct_node_ops pow_node = {"PowBackward1", "pow", pow_backward, NULL, NULL};

ct_tensor *ct_pow(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__pow(a, b), a, b);
    ct_node *n = CT__AG_RECORD(&pow_node, 0);
    if (n) {
        ct__save(n, a);
        ct__save(n, b);
        ct__save(n, ct__needs_grad(n, 1) ? out : NULL);
    }
    return ct__ag_result(out);
}

/* ---- minimum, maximum ------------------------------------------------------------------------ */

/* The gradient of the input that `loses` (a bool mask) marks as not selected: grad where it was
 * selected alone, grad/2 on ties (a == b), 0 where the other input won (PyTorch's
 * where(a == b, grad / 2, grad).masked_fill_(loses, 0)). */
static ct_tensor *selected_grad(const ct_tensor *grad, const ct_tensor *a, const ct_tensor *b, const ct_tensor *loses) {
    ct_tensor *shared = ct_where(ct_eq(a, b), ct_div_scalar(grad, 2), grad);
    return ct_masked_fill(shared, loses, 0);
}

/* maximum(a, b): a loses where a < b, b where a > b. Saved: a, b. */
static bool maximum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *a = ct__saved(n, 0), *b = ct__saved(n, 1);
    if (ct__needs_grad(n, 0)) gi[0] = selected_grad(grad, a, b, ct_lt(a, b));
    if (ct__needs_grad(n, 1)) gi[1] = selected_grad(grad, a, b, ct_gt(a, b));
    return true;
}
/* minimum(a, b): a loses where a > b, b where a < b. Saved: a, b. */
static bool minimum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *a = ct__saved(n, 0), *b = ct__saved(n, 1);
    if (ct__needs_grad(n, 0)) gi[0] = selected_grad(grad, a, b, ct_gt(a, b));
    if (ct__needs_grad(n, 1)) gi[1] = selected_grad(grad, a, b, ct_lt(a, b));
    return true;
}
static const ct_node_ops maximum_node = {"MaximumBackward0", "maximum", maximum_backward, NULL, NULL};
static const ct_node_ops minimum_node = {"MinimumBackward0", "minimum", minimum_backward, NULL, NULL};

/* Saves both inputs on n (NULL: nothing was recorded). */
static void save_both(ct_node *n, const ct_tensor *a, const ct_tensor *b) {
    if (n) ct__save(n, a), ct__save(n, b);
}

ct_tensor *ct_minimum(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__minimum(a, b), a, b);
    save_both(CT__AG_RECORD(&minimum_node, 0), a, b);
    return ct__ag_result(out);
}

ct_tensor *ct_maximum(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__maximum(a, b), a, b);
    save_both(CT__AG_RECORD(&maximum_node, 0), a, b);
    return ct__ag_result(out);
}

/* ---- remainder, atan2 ------------------------------------------------------------------------ */

/* a - b*floor(a/b): d/da = grad, d/db = -grad * floor(a/b). Saved: a and b when b needs it. */
static bool remainder_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_alias(grad);
    if (ct__needs_grad(n, 1))
        gi[1] = ct_mul(ct_neg(grad), ct_div(ct__saved(n, 0), ct__saved(n, 1), .rounding_mode = CT_ROUND_FLOOR));
    return true;
}
static const ct_node_ops remainder_node = {"RemainderBackward1", "remainder", remainder_backward, NULL, NULL};

ct_tensor *ct_remainder(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__remainder(a, b), a, b);
    ct_node *n = CT__AG_RECORD(&remainder_node, 0);
    if (n && ct__needs_grad(n, 1)) save_both(n, a, b);
    return ct__ag_result(out);
}

/* atan2(a, b): d/da = grad * b / (a^2 + b^2), d/db = -grad * a / (a^2 + b^2). Saved: a, b. */
static bool atan2_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *a = ct__saved(n, 0), *b = ct__saved(n, 1);
    ct_tensor *recip = ct_reciprocal(ct_add(ct_mul(a, a), ct_mul(b, b)));
    if (ct__needs_grad(n, 0)) gi[0] = ct_mul(ct_mul(grad, b), recip);
    if (ct__needs_grad(n, 1)) gi[1] = ct_mul(ct_mul(grad, ct_neg(a)), recip);
    return true;
}
static const ct_node_ops atan2_node = {"Atan2Backward0", "atan2", atan2_backward, NULL, NULL};

ct_tensor *ct_atan2(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__atan2(a, b), a, b);
    save_both(CT__AG_RECORD(&atan2_node, 0), a, b);
    return ct__ag_result(out);
}

/* ---- scalar right-hand sides ----------------------------------------------------------------- */
/* The scalar is a constant: only the tensor is an input. */

typedef struct scalar_ctx {
    double s;
} scalar_ctx;

static double ctx_scalar(const ct_node *n) { return ((const scalar_ctx *)n->ctx)->s; }

/* Records a one-input node keeping the scalar in ctx; returns it (NULL: nothing recorded). */
static ct_node *record_scalar(const ct_node_ops *ops, ct_tensor *out, const ct_tensor *a, double s) {
    ct_node *n = ct__record(ops, out, 1, (const ct_tensor *const[]){a}, sizeof(scalar_ctx));
    if (n) ((scalar_ctx *)n->ctx)->s = s;
    CT__TRACE_ATTRS(out, (ct_trace_scalar){s});
    return n;
}

/* a + s, a - s: d/da = grad. */
static bool shift_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    (void)n;
    gi[0] = ct_alias(grad);
    return true;
}
/* s - a: d/da = -grad. */
static bool rsub_scalar_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    (void)n;
    gi[0] = ct_neg(grad);
    return true;
}
/* a * s: d/da = grad * s. */
static bool mul_scalar_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul_scalar(grad, ctx_scalar(n));
    return true;
}
/* a / s: d/da = grad / s. */
static bool div_scalar_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_div_scalar(grad, ctx_scalar(n));
    return true;
}
/* a^e: d/da = grad * e * a^(e-1), and zeros for e == 0 (a^0 is constant). Saved: a unless e == 0. */
static bool pow_scalar_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    double e = ctx_scalar(n);
    gi[0] = e == 0 ? zero_grad_for(n, 0, grad) : ct_mul(grad, ct_mul_scalar(ct_pow_scalar(ct__saved(n, 0), e - 1), e));
    return true;
}
static const ct_node_ops add_scalar_node = {"AddBackward0", "add_scalar", shift_backward, NULL, NULL};
static const ct_node_ops sub_scalar_node = {"SubBackward0", "sub_scalar", shift_backward, NULL, NULL};
static const ct_node_ops mul_scalar_node = {"MulBackward0", "mul_scalar", mul_scalar_backward, NULL, NULL};
static const ct_node_ops div_scalar_node = {"DivBackward0", "div_scalar", div_scalar_backward, NULL, NULL};
static const ct_node_ops pow_scalar_node = {"PowBackward0", "pow_scalar", pow_scalar_backward, NULL, NULL};
static const ct_node_ops rsub_scalar_node = {"RsubBackward1", "rsub_scalar", rsub_scalar_backward, NULL, NULL};

ct_tensor *ct_add_scalar(const ct_tensor *a, double s) {
    CT__AG_BEGIN(ct__add_scalar(a, s), a);
    record_scalar(&add_scalar_node, out, a, s);
    return ct__ag_result(out);
}

ct_tensor *ct_sub_scalar(const ct_tensor *a, double s) {
    CT__AG_BEGIN(ct__sub_scalar(a, s), a);
    record_scalar(&sub_scalar_node, out, a, s);
    return ct__ag_result(out);
}

ct_tensor *ct_mul_scalar(const ct_tensor *a, double s) {
    CT__AG_BEGIN(ct__mul_scalar(a, s), a);
    record_scalar(&mul_scalar_node, out, a, s);
    return ct__ag_result(out);
}

ct_tensor *ct_div_scalar(const ct_tensor *a, double s) {
    CT__AG_BEGIN(ct__div_scalar(a, s), a);
    record_scalar(&div_scalar_node, out, a, s);
    return ct__ag_result(out);
}

ct_tensor *ct_pow_scalar(const ct_tensor *a, double exponent) {
    CT__AG_BEGIN(ct__pow_scalar(a, exponent), a);
    ct_node *n = record_scalar(&pow_scalar_node, out, a, exponent);
    if (n && exponent != 0) ct__save(n, a);
    return ct__ag_result(out);
}

ct_tensor *ct_rsub_scalar(const ct_tensor *a, double s) {
    CT__AG_BEGIN(ct__rsub_scalar(a, s), a);
    record_scalar(&rsub_scalar_node, out, a, s);
    return ct__ag_result(out);
}

/* ---- fills ----------------------------------------------------------------------------------- */

/* fill_(t, v), zero_(t): the new value does not depend on the old one: d/dt = 0. */
static bool fill_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = zero_grad_for(n, 0, grad);
    return true;
}
static const ct_node_ops fill_node = {"FillBackward0", "fill_", fill_backward, NULL, NULL};
static const ct_node_ops zero_node = {"ZeroBackward0", "zero_", fill_backward, NULL, NULL};

/* The out-of-place form of a fill: a tensor like old holding value, recorded over old. */
static ct_tensor *filled(const ct_node_ops *ops, const ct_tensor *old, double value) {
    CT__AG_BEGIN(ct_full_like(old, value), old);
    CT__AG_RECORD(ops, 0);
    return ct__ag_result(out);
}

/* ---- in-place forms -------------------------------------------------------------------------- */
/* Under autograd an in-place op is recorded as its out-of-place form on a copy of self's old value
 * (autograd/inplace.c); without a graph it is the tensor layer's in-place op. */

typedef struct inplace_args {
    const ct_tensor *other; /* NULL for the scalar forms and fills */
    double scalar;          /* alpha (add_, sub_), the right-hand side, or the fill value */
} inplace_args;

typedef struct inplace_op {
    const char *name;
    ct_tensor *(*native)(ct_tensor *self, const inplace_args *args); /* the tensor layer's in-place op */
    ct_inplace_fn out_of_place;                                       /* the recorded public op */
    bool broadcasts;                                                  /* has a tensor right-hand side */
} inplace_op;

/* The in-place op's own checks, with its own messages (NULLs, devices, a broadcast to exactly
 * self's shape, a result dtype self can hold, alpha), tried on scratch memory shaped like self:
 * the recorded out-of-place form would accept a broadcast that grows self, or a float result for
 * an integer self. Costs one extra elementwise pass, on the graph-recording path only. */
static bool inplace_accepts(const inplace_op *op, ct_tensor *self, const inplace_args *args) {
    ct_scope_begin();
    ct_tensor *scratch = self ? ct_empty_like(self) : NULL;
    bool ok = (!self || scratch) && op->native(scratch, args) != NULL && ct__check_writable(op->name, self);
    ct_scope_end();
    return ok;
}

static ct_tensor *run_inplace(const inplace_op *op, ct_tensor *self, inplace_args args) {
    if (!ct__ag_check_inplace(op->name, self)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){self, args.other})) return op->native(self, &args);
    if (op->broadcasts && !inplace_accepts(op, self, &args)) return NULL;
    bool other_requires_grad = args.other && args.other->requires_grad;
    return ct__ag_inplace(op->name, self, other_requires_grad, op->out_of_place, &args);
}

static ct_tensor *add_native(ct_tensor *t, const inplace_args *p) {
    return ct__add_inplace_opt(t, p->other, (ct_alpha_opts){p->scalar});
}
static ct_tensor *sub_native(ct_tensor *t, const inplace_args *p) {
    return ct__sub_inplace_opt(t, p->other, (ct_alpha_opts){p->scalar});
}
static ct_tensor *mul_native(ct_tensor *t, const inplace_args *p) { return ct__mul_(t, p->other); }
static ct_tensor *div_native(ct_tensor *t, const inplace_args *p) { return ct__div_(t, p->other); }
static ct_tensor *add_scalar_native(ct_tensor *t, const inplace_args *p) { return ct__add_scalar_(t, p->scalar); }
static ct_tensor *mul_scalar_native(ct_tensor *t, const inplace_args *p) { return ct__mul_scalar_(t, p->scalar); }
static ct_tensor *fill_native(ct_tensor *t, const inplace_args *p) { return ct__fill_(t, p->scalar); }
static ct_tensor *zero_native(ct_tensor *t, const inplace_args *p) {
    (void)p;
    return ct__zero_(t);
}

static ct_tensor *add_copy(const ct_tensor *old, void *args) {
    const inplace_args *p = args;
    return ct_add_opt(old, p->other, (ct_alpha_opts){p->scalar});
}
static ct_tensor *sub_copy(const ct_tensor *old, void *args) {
    const inplace_args *p = args;
    return ct_sub_opt(old, p->other, (ct_alpha_opts){p->scalar});
}
static ct_tensor *mul_copy(const ct_tensor *old, void *args) { return ct_mul(old, ((const inplace_args *)args)->other); }
static ct_tensor *div_copy(const ct_tensor *old, void *args) { return ct_div(old, ((const inplace_args *)args)->other); }
static ct_tensor *add_scalar_copy(const ct_tensor *old, void *args) {
    return ct_add_scalar(old, ((const inplace_args *)args)->scalar);
}
static ct_tensor *mul_scalar_copy(const ct_tensor *old, void *args) {
    return ct_mul_scalar(old, ((const inplace_args *)args)->scalar);
}
static ct_tensor *fill_copy(const ct_tensor *old, void *args) {
    return filled(&fill_node, old, ((const inplace_args *)args)->scalar);
}
static ct_tensor *zero_copy(const ct_tensor *old, void *args) {
    (void)args;
    return filled(&zero_node, old, 0);
}

static const inplace_op add_inplace = {"add_", add_native, add_copy, true};
static const inplace_op sub_inplace = {"sub_", sub_native, sub_copy, true};
static const inplace_op mul_inplace = {"mul_", mul_native, mul_copy, true};
static const inplace_op div_inplace = {"div_", div_native, div_copy, true};
static const inplace_op add_scalar_inplace = {"add_scalar_", add_scalar_native, add_scalar_copy, false};
static const inplace_op mul_scalar_inplace = {"mul_scalar_", mul_scalar_native, mul_scalar_copy, false};
static const inplace_op fill_inplace = {"fill_", fill_native, fill_copy, false};
static const inplace_op zero_inplace = {"zero_", zero_native, zero_copy, false};

ct_tensor *ct_add_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    return run_inplace(&add_inplace, a, (inplace_args){b, opts.alpha});
}

ct_tensor *ct_sub_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts) {
    return run_inplace(&sub_inplace, a, (inplace_args){b, opts.alpha});
}

ct_tensor *ct_mul_(ct_tensor *a, const ct_tensor *b) { return run_inplace(&mul_inplace, a, (inplace_args){b, 0}); }

ct_tensor *ct_div_(ct_tensor *a, const ct_tensor *b) { return run_inplace(&div_inplace, a, (inplace_args){b, 0}); }

ct_tensor *ct_add_scalar_(ct_tensor *a, double s) { return run_inplace(&add_scalar_inplace, a, (inplace_args){NULL, s}); }

ct_tensor *ct_mul_scalar_(ct_tensor *a, double s) { return run_inplace(&mul_scalar_inplace, a, (inplace_args){NULL, s}); }

ct_tensor *ct_fill_(ct_tensor *t, double value) { return run_inplace(&fill_inplace, t, (inplace_args){NULL, value}); }

ct_tensor *ct_zero_(ct_tensor *t) { return run_inplace(&zero_inplace, t, (inplace_args){NULL, 0}); }
