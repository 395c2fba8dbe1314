/* Derivatives of unary elementwise math and activations, and their in-place forms.
 *
 * Formulas and grad_fn names follow PyTorch's derivatives.yaml. Ops whose derivative is cheapest
 * from their result (exp, sqrt, tanh, sigmoid, ...) keep the OUTPUT as PyTorch does, so changing
 * it in place before backward is reported; the others keep their input. */
#include "autograd_impl.h"
#include "trace_impl.h"

#include <math.h>
#include <string.h>

/* ---- shared recording ------------------------------------------------------------------------- */

typedef enum kept_value { KEEP_NOTHING, KEEP_INPUT, KEEP_OUTPUT } kept_value;

/* A parameterless unary op: its node, its tensor-layer forward, and what backward needs. */
typedef struct unary_op {
    ct_node_ops node;
    ct_tensor *(*forward)(const ct_tensor *);
    kept_value keeps;
} unary_op;

/* The public op: the plain result when no graph is needed, else the result with op's node. */
static ct_tensor *unary(const unary_op *op, const ct_tensor *t) {
    CT__AG_BEGIN(op->forward(t), t);
    ct_node *n = CT__AG_RECORD(&op->node, 0);
    if (n && op->keeps != KEEP_NOTHING) ct__save(n, op->keeps == KEEP_INPUT ? t : out);
    return ct__ag_result(out);
}

/* The one tensor a unary node kept (its input or its output, see kept_value). */
static const ct_tensor *kept(const ct_node *n) { return ct__saved(n, 0); }

/* For ops with parameters: keeps the input and a copy of the parameters in ctx. */
static void keep_input_and_params(ct_node *n, const ct_tensor *t, const void *params, size_t size) {
    if (!n) return;
    ct__save(n, t);
    memcpy(n->ctx, params, size);
}

/* In-place forms of parameterless ops: recorded as the out-of-place op on a copy (inplace.c). */
static ct_tensor *unary_on_copy(const ct_tensor *self_copy, void *op) { return unary(op, self_copy); }

static ct_tensor *unary_inplace(const char *name, const unary_op *op, ct_tensor *(*plain)(ct_tensor *), ct_tensor *t) {
    if (!ct__ag_check_inplace(name, t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return plain(t);
    return ct__ag_inplace(name, t, false, unary_on_copy, (void *)op);
}

/* ---- sign changes and powers ------------------------------------------------------------------ */

/* d(-x) = -grad */
static bool neg_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    (void)n;
    gi[0] = ct_neg(grad);
    return true;
}

/* d|x| = grad * sgn(x); the subgradient at 0 is 0 */
static bool abs_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_sign(kept(n)));
    return true;
}

/* Piecewise-constant ops (sign, floor, ceil, round, trunc): zeros_like(grad) */
static bool zero_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    (void)n;
    gi[0] = ct_zeros_like(grad);
    return true;
}

/* d sqrt(x) = grad / (2 sqrt(x)), from the result */
static bool sqrt_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_div(grad, ct_mul_scalar(kept(n), 2));
    return true;
}

/* d x^(-1/2) = -1/2 x^(-3/2) = -0.5 * grad * result^3 */
static bool rsqrt_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(ct_mul_scalar(grad, -0.5), ct_pow_scalar(kept(n), 3));
    return true;
}

/* square is pow(x, 2) in PyTorch: d x^2 = grad * 2x */
static bool square_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_mul_scalar(kept(n), 2));
    return true;
}

/* d (1/x) = -1/x^2 = -grad * result^2 */
static bool reciprocal_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(ct_neg(grad), ct_mul(kept(n), kept(n)));
    return true;
}

/* ---- exponentials and logarithms -------------------------------------------------------------- */

/* d e^x = grad * result */
static bool exp_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, kept(n));
    return true;
}

/* d log x = grad / x */
static bool log_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_div(grad, kept(n));
    return true;
}

/* d log2 x = grad / (x ln 2) */
static bool log2_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_div(grad, ct_mul_scalar(kept(n), M_LN2));
    return true;
}

/* d log(1 + x) = grad / (x + 1) */
static bool log1p_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_div(grad, ct_add_scalar(kept(n), 1));
    return true;
}

/* d (e^x - 1) = e^x = grad * (result + 1) */
static bool expm1_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_add_scalar(kept(n), 1));
    return true;
}

/* ---- trigonometric, hyperbolic, erf ----------------------------------------------------------- */

/* d sin x = grad * cos x */
static bool sin_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_cos(kept(n)));
    return true;
}

/* d cos x = grad * -sin x */
static bool cos_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_neg(ct_sin(kept(n))));
    return true;
}

/* d tan x = 1 + tan^2 x = grad * (1 + result^2) */
static bool tan_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_add_scalar(ct_pow_scalar(kept(n), 2), 1));
    return true;
}

/* d tanh x = 1 - tanh^2 x = grad * (1 - result^2) */
static bool tanh_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_rsub_scalar(ct_mul(kept(n), kept(n)), 1));
    return true;
}

/* d erf x = 2/sqrt(pi) e^(-x^2) * grad */
static bool erf_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_tensor *gauss = ct_exp(ct_neg(ct_pow_scalar(kept(n), 2)));
    gi[0] = ct_mul(ct_mul_scalar(gauss, M_2_SQRTPI), grad);
    return true;
}

/* ---- activations without parameters ------------------------------------------------------------ */

/* d sigmoid x = s (1 - s) = grad * (1 - result) * result */
static bool sigmoid_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(ct_mul(grad, ct_rsub_scalar(kept(n), 1)), kept(n));
    return true;
}

/* threshold_backward(grad, result, 0): 0 where result <= 0 (so relu'(0) = 0), else grad */
static bool relu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__relu_backward(grad, kept(n)); /* one fused pass */
    return true;
}

/* d x sigmoid(x) = s (1 + x (1 - s)) with s = sigmoid(x) */
static bool silu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *x = kept(n);
    ct_tensor *s = ct_sigmoid(x);
    ct_tensor *slope = ct_add_scalar(ct_mul(x, ct_rsub_scalar(s, 1)), 1);
    gi[0] = ct_mul(ct_mul(grad, s), slope);
    return true;
}

/* nan_to_num passes the gradient where x is finite: grad * isfinite(x) */
static bool nan_to_num_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_mul(grad, ct_isfinite(kept(n)));
    return true;
}

/* ---- the parameterless ops ---------------------------------------------------------------------- */

#define UNARY_OP(op, grad_fn, backward, keeps) \
    static const unary_op op##_op = {{grad_fn, #op, backward, NULL, NULL}, ct__##op, keeps}

UNARY_OP(neg, "NegBackward0", neg_backward, KEEP_NOTHING);
UNARY_OP(abs, "AbsBackward0", abs_backward, KEEP_INPUT);
UNARY_OP(sign, "SignBackward0", zero_backward, KEEP_NOTHING);
UNARY_OP(sqrt, "SqrtBackward0", sqrt_backward, KEEP_OUTPUT);
UNARY_OP(rsqrt, "RsqrtBackward0", rsqrt_backward, KEEP_OUTPUT);
UNARY_OP(square, "PowBackward0", square_backward, KEEP_INPUT);
UNARY_OP(reciprocal, "ReciprocalBackward0", reciprocal_backward, KEEP_OUTPUT);
UNARY_OP(exp, "ExpBackward0", exp_backward, KEEP_OUTPUT);
UNARY_OP(log, "LogBackward0", log_backward, KEEP_INPUT);
UNARY_OP(log2, "Log2Backward0", log2_backward, KEEP_INPUT);
UNARY_OP(log1p, "Log1PBackward0", log1p_backward, KEEP_INPUT);
UNARY_OP(expm1, "Expm1Backward0", expm1_backward, KEEP_OUTPUT);
UNARY_OP(sin, "SinBackward0", sin_backward, KEEP_INPUT);
UNARY_OP(cos, "CosBackward0", cos_backward, KEEP_INPUT);
UNARY_OP(tan, "TanBackward0", tan_backward, KEEP_OUTPUT);
UNARY_OP(tanh, "TanhBackward0", tanh_backward, KEEP_OUTPUT);
UNARY_OP(erf, "ErfBackward0", erf_backward, KEEP_INPUT);
UNARY_OP(floor, "FloorBackward0", zero_backward, KEEP_NOTHING);
UNARY_OP(ceil, "CeilBackward0", zero_backward, KEEP_NOTHING);
UNARY_OP(round, "RoundBackward0", zero_backward, KEEP_NOTHING);
UNARY_OP(trunc, "TruncBackward0", zero_backward, KEEP_NOTHING);
UNARY_OP(sigmoid, "SigmoidBackward0", sigmoid_backward, KEEP_OUTPUT);
UNARY_OP(relu, "ReluBackward0", relu_backward, KEEP_OUTPUT);
UNARY_OP(silu, "SiluBackward0", silu_backward, KEEP_INPUT);

ct_tensor *ct_neg(const ct_tensor *t) { return unary(&neg_op, t); }
ct_tensor *ct_abs(const ct_tensor *t) { return unary(&abs_op, t); }
ct_tensor *ct_sign(const ct_tensor *t) { return unary(&sign_op, t); }
ct_tensor *ct_sqrt(const ct_tensor *t) { return unary(&sqrt_op, t); }
ct_tensor *ct_rsqrt(const ct_tensor *t) { return unary(&rsqrt_op, t); }
ct_tensor *ct_square(const ct_tensor *t) { return unary(&square_op, t); }
ct_tensor *ct_reciprocal(const ct_tensor *t) { return unary(&reciprocal_op, t); }
ct_tensor *ct_exp(const ct_tensor *t) { return unary(&exp_op, t); }
ct_tensor *ct_log(const ct_tensor *t) { return unary(&log_op, t); }
ct_tensor *ct_log2(const ct_tensor *t) { return unary(&log2_op, t); }
ct_tensor *ct_log1p(const ct_tensor *t) { return unary(&log1p_op, t); }
ct_tensor *ct_expm1(const ct_tensor *t) { return unary(&expm1_op, t); }
ct_tensor *ct_sin(const ct_tensor *t) { return unary(&sin_op, t); }
ct_tensor *ct_cos(const ct_tensor *t) { return unary(&cos_op, t); }
ct_tensor *ct_tan(const ct_tensor *t) { return unary(&tan_op, t); }
ct_tensor *ct_tanh(const ct_tensor *t) { return unary(&tanh_op, t); }
ct_tensor *ct_erf(const ct_tensor *t) { return unary(&erf_op, t); }
ct_tensor *ct_floor(const ct_tensor *t) { return unary(&floor_op, t); }
ct_tensor *ct_ceil(const ct_tensor *t) { return unary(&ceil_op, t); }
ct_tensor *ct_round(const ct_tensor *t) { return unary(&round_op, t); }
ct_tensor *ct_trunc(const ct_tensor *t) { return unary(&trunc_op, t); }
ct_tensor *ct_sigmoid(const ct_tensor *t) { return unary(&sigmoid_op, t); }
ct_tensor *ct_relu(const ct_tensor *t) { return unary(&relu_op, t); }
ct_tensor *ct_silu(const ct_tensor *t) { return unary(&silu_op, t); }

ct_tensor *ct_nan_to_num_opt(const ct_tensor *t, ct_nan_to_num_opts opts) {
    static const ct_node_ops nan_to_num_node = {"NanToNumBackward0", "nan_to_num", nan_to_num_backward, NULL, NULL};
    CT__AG_BEGIN(ct__nan_to_num_opt(t, opts), t);
    ct_node *n = CT__AG_RECORD(&nan_to_num_node, 0);
    if (n) ct__save(n, t);
    return ct__ag_result(out);
}

/* ---- activations with parameters -------------------------------------------------------------- */

/* GeluBackward0. Exact: d x Phi(x) = Phi(x) + x phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2 and
 * phi(x) = e^(-x^2/2)/sqrt(2 pi).
 * Tanh approximation: y = x/2 (1 + tanh u), u = k (x + c x^3), k = sqrt(2/pi), c = 0.044715:
 * dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) k (1 + 3 c x^2). */
/* gelu'(x) = Phi(x) + x phi(x); with the tanh approximation, t = tanh(k (x + c x^3)):
 * (1 + t)/2 + x (1 - t^2) k (1 + 3 c x^2)/2. One fused pass over grad and x (ct__gelu_backward). */
static bool gelu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__gelu_backward(grad, kept(n), ((ct_gelu_opts *)n->ctx)->approximate);
    return true;
}
static const ct_node_ops gelu_node = {"GeluBackward0", "gelu", gelu_backward, NULL, NULL};

ct_tensor *ct_gelu_opt(const ct_tensor *t, ct_gelu_opts opts) {
    CT__AG_BEGIN(ct__gelu_opt(t, opts), t);
    keep_input_and_params(CT__AG_RECORD(&gelu_node, sizeof opts), t, &opts, sizeof opts);
    CT__TRACE_ATTRS(out, opts);
    return ct__ag_result(out);
}

/* leaky_relu_backward: grad where x > 0, else grad * negative_slope (so the slope at 0) */
static bool leaky_relu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    double negative_slope = *(double *)n->ctx;
    gi[0] = ct_where(ct_gt(kept(n), ct_scalar(0)), grad, ct_mul_scalar(grad, negative_slope));
    return true;
}
static const ct_node_ops leaky_relu_node = {"LeakyReluBackward0", "leaky_relu", leaky_relu_backward, NULL, NULL};

ct_tensor *ct_leaky_relu(const ct_tensor *t, double negative_slope) {
    CT__AG_BEGIN(ct__leaky_relu(t, negative_slope), t);
    keep_input_and_params(CT__AG_RECORD(&leaky_relu_node, sizeof negative_slope), t, &negative_slope, sizeof negative_slope);
    CT__TRACE_ATTRS(out, (ct_trace_scalar){negative_slope});
    return ct__ag_result(out);
}

/* elu_backward (scale = input_scale = 1): grad * alpha e^x where x <= 0 (so alpha at 0), else grad */
static bool elu_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    double alpha = *(double *)n->ctx;
    const ct_tensor *x = kept(n);
    gi[0] = ct_where(ct_le(x, ct_scalar(0)), ct_mul(ct_mul_scalar(grad, alpha), ct_exp(x)), grad);
    return true;
}
static const ct_node_ops elu_node = {"EluBackward0", "elu", elu_backward, NULL, NULL};

ct_tensor *ct_elu(const ct_tensor *t, double alpha) {
    CT__AG_BEGIN(ct__elu(t, alpha), t);
    keep_input_and_params(CT__AG_RECORD(&elu_node, sizeof alpha), t, &alpha, sizeof alpha);
    return ct__ag_result(out);
}

/* softplus = log(1 + e^(beta x))/beta: d/dx = z/(z + 1) with z = e^(beta x), and 1 in the linear
 * region beta x > threshold */
static bool softplus_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_softplus_opts *opts = n->ctx;
    ct_tensor *beta_x = ct_mul_scalar(kept(n), opts->beta);
    ct_tensor *z = ct_exp(beta_x);
    ct_tensor *smooth = ct_div(ct_mul(grad, z), ct_add_scalar(z, 1));
    gi[0] = ct_where(ct_gt(beta_x, ct_scalar(opts->threshold)), grad, smooth);
    return true;
}
static const ct_node_ops softplus_node = {"SoftplusBackward0", "softplus", softplus_backward, NULL, NULL};

ct_tensor *ct_softplus_opt(const ct_tensor *t, ct_softplus_opts opts) {
    CT__AG_BEGIN(ct__softplus_opt(t, opts), t);
    keep_input_and_params(CT__AG_RECORD(&softplus_node, sizeof opts), t, &opts, sizeof opts);
    return ct__ag_result(out);
}

/* ---- clamp -------------------------------------------------------------------------------------- */

typedef struct clamp_bounds {
    double min, max; /* -INFINITY / INFINITY: no bound */
} clamp_bounds;

/* clamp_backward: grad where min <= x <= max (the bounds themselves pass it: subgradient 1), else
 * 0; a missing bound is not compared, so NaN inputs of an unbounded side pass it as in PyTorch. */
static bool clamp_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const clamp_bounds *b = n->ctx;
    const ct_tensor *x = kept(n);
    ct_tensor *inside = NULL;
    if (b->min != -INFINITY) inside = ct_ge(x, ct_scalar(b->min));
    if (b->max != INFINITY) {
        ct_tensor *below_max = ct_le(x, ct_scalar(b->max));
        inside = inside ? ct_logical_and(inside, below_max) : below_max;
    }
    gi[0] = inside ? ct_where(inside, grad, ct_scalar(0)) : ct_alias(grad);
    return true;
}
static const ct_node_ops clamp_node = {"ClampBackward1", "clamp", clamp_backward, NULL, NULL};

ct_tensor *ct_clamp(const ct_tensor *t, double min, double max) {
    CT__AG_BEGIN(ct__clamp(t, min, max), t);
    clamp_bounds bounds = {min, max};
    keep_input_and_params(CT__AG_RECORD(&clamp_node, sizeof bounds), t, &bounds, sizeof bounds);
    CT__TRACE_ATTRS(out, ((ct_trace_clamp){min, max}));
    return ct__ag_result(out);
}

static ct_tensor *clamp_on_copy(const ct_tensor *self_copy, void *bounds) {
    const clamp_bounds *b = bounds;
    return ct_clamp(self_copy, b->min, b->max);
}

ct_tensor *ct_clamp_(ct_tensor *t, double min, double max) {
    if (!ct__ag_check_inplace("clamp_", t)) return NULL;
    /* NaN bounds: the plain op reports them under clamp_'s name, before changing anything */
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t}) || isnan(min) || isnan(max)) return ct__clamp_(t, min, max);
    return ct__ag_inplace("clamp_", t, false, clamp_on_copy, &(clamp_bounds){min, max});
}

/* ---- in-place forms --------------------------------------------------------------------------- */

ct_tensor *ct_neg_(ct_tensor *t) { return unary_inplace("neg_", &neg_op, ct__neg_, t); }
ct_tensor *ct_exp_(ct_tensor *t) { return unary_inplace("exp_", &exp_op, ct__exp_, t); }
ct_tensor *ct_sqrt_(ct_tensor *t) { return unary_inplace("sqrt_", &sqrt_op, ct__sqrt_, t); }
ct_tensor *ct_relu_(ct_tensor *t) { return unary_inplace("relu_", &relu_op, ct__relu_, t); }
ct_tensor *ct_sigmoid_(ct_tensor *t) { return unary_inplace("sigmoid_", &sigmoid_op, ct__sigmoid_, t); }
ct_tensor *ct_tanh_(ct_tensor *t) { return unary_inplace("tanh_", &tanh_op, ct__tanh_, t); }
