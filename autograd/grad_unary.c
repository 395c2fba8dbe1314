/* Derivatives of unary elementwise math and activations, and their in-place forms. */
#include "autograd_impl.h"

ct_tensor *ct_neg(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__neg(t);
    return ct__ag_not_implemented("neg");
}

ct_tensor *ct_abs(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__abs(t);
    return ct__ag_not_implemented("abs");
}

ct_tensor *ct_sign(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sign(t);
    return ct__ag_not_implemented("sign");
}

ct_tensor *ct_sqrt(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sqrt(t);
    return ct__ag_not_implemented("sqrt");
}

ct_tensor *ct_rsqrt(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__rsqrt(t);
    return ct__ag_not_implemented("rsqrt");
}

ct_tensor *ct_square(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__square(t);
    return ct__ag_not_implemented("square");
}

ct_tensor *ct_reciprocal(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__reciprocal(t);
    return ct__ag_not_implemented("reciprocal");
}

ct_tensor *ct_exp(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__exp(t);
    return ct__ag_not_implemented("exp");
}

ct_tensor *ct_log(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__log(t);
    return ct__ag_not_implemented("log");
}

ct_tensor *ct_log2(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__log2(t);
    return ct__ag_not_implemented("log2");
}

ct_tensor *ct_log1p(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__log1p(t);
    return ct__ag_not_implemented("log1p");
}

ct_tensor *ct_expm1(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__expm1(t);
    return ct__ag_not_implemented("expm1");
}

ct_tensor *ct_sin(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sin(t);
    return ct__ag_not_implemented("sin");
}

ct_tensor *ct_cos(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__cos(t);
    return ct__ag_not_implemented("cos");
}

ct_tensor *ct_tan(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__tan(t);
    return ct__ag_not_implemented("tan");
}

ct_tensor *ct_tanh(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__tanh(t);
    return ct__ag_not_implemented("tanh");
}

ct_tensor *ct_erf(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__erf(t);
    return ct__ag_not_implemented("erf");
}

ct_tensor *ct_floor(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__floor(t);
    return ct__ag_not_implemented("floor");
}

ct_tensor *ct_ceil(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__ceil(t);
    return ct__ag_not_implemented("ceil");
}

ct_tensor *ct_round(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__round(t);
    return ct__ag_not_implemented("round");
}

ct_tensor *ct_trunc(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__trunc(t);
    return ct__ag_not_implemented("trunc");
}

ct_tensor *ct_sigmoid(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sigmoid(t);
    return ct__ag_not_implemented("sigmoid");
}

ct_tensor *ct_relu(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__relu(t);
    return ct__ag_not_implemented("relu");
}

ct_tensor *ct_silu(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__silu(t);
    return ct__ag_not_implemented("silu");
}

ct_tensor *ct_gelu_opt(const ct_tensor *t, ct_gelu_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__gelu_opt(t, opts);
    return ct__ag_not_implemented("gelu");
}

ct_tensor *ct_leaky_relu(const ct_tensor *t, double negative_slope) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__leaky_relu(t, negative_slope);
    return ct__ag_not_implemented("leaky_relu");
}

ct_tensor *ct_elu(const ct_tensor *t, double alpha) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__elu(t, alpha);
    return ct__ag_not_implemented("elu");
}

ct_tensor *ct_softplus_opt(const ct_tensor *t, ct_softplus_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__softplus_opt(t, opts);
    return ct__ag_not_implemented("softplus");
}

ct_tensor *ct_clamp(const ct_tensor *t, double min, double max) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__clamp(t, min, max);
    return ct__ag_not_implemented("clamp");
}

ct_tensor *ct_nan_to_num_opt(const ct_tensor *t, ct_nan_to_num_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__nan_to_num_opt(t, opts);
    return ct__ag_not_implemented("nan_to_num");
}

ct_tensor *ct_neg_(ct_tensor *t) {
    if (!ct__ag_check_inplace("neg_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__neg_(t);
    return ct__ag_not_implemented("neg_");
}

ct_tensor *ct_exp_(ct_tensor *t) {
    if (!ct__ag_check_inplace("exp_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__exp_(t);
    return ct__ag_not_implemented("exp_");
}

ct_tensor *ct_sqrt_(ct_tensor *t) {
    if (!ct__ag_check_inplace("sqrt_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sqrt_(t);
    return ct__ag_not_implemented("sqrt_");
}

ct_tensor *ct_relu_(ct_tensor *t) {
    if (!ct__ag_check_inplace("relu_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__relu_(t);
    return ct__ag_not_implemented("relu_");
}

ct_tensor *ct_sigmoid_(ct_tensor *t) {
    if (!ct__ag_check_inplace("sigmoid_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__sigmoid_(t);
    return ct__ag_not_implemented("sigmoid_");
}

ct_tensor *ct_tanh_(ct_tensor *t) {
    if (!ct__ag_check_inplace("tanh_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__tanh_(t);
    return ct__ag_not_implemented("tanh_");
}

ct_tensor *ct_clamp_(ct_tensor *t, double min, double max) {
    if (!ct__ag_check_inplace("clamp_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__clamp_(t, min, max);
    return ct__ag_not_implemented("clamp_");
}
