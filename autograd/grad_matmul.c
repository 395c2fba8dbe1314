/* Derivatives of matrix products and einsum: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

ct_tensor *ct_matmul(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__matmul(a, b);
    return ct__ag_not_implemented("matmul");
}

ct_tensor *ct_mm(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__mm(a, b);
    return ct__ag_not_implemented("mm");
}

ct_tensor *ct_bmm(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__bmm(a, b);
    return ct__ag_not_implemented("bmm");
}

ct_tensor *ct_mv(const ct_tensor *a, const ct_tensor *v) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, v})) return ct__mv(a, v);
    return ct__ag_not_implemented("mv");
}

ct_tensor *ct_dot(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__dot(a, b);
    return ct__ag_not_implemented("dot");
}

ct_tensor *ct_outer(const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){a, b})) return ct__outer(a, b);
    return ct__ag_not_implemented("outer");
}

ct_tensor *ct_addmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    if (!ct__ag_needed(3, (const ct_tensor *const[]){input, a, b})) return ct__addmm_opt(input, a, b, opts);
    return ct__ag_not_implemented("addmm");
}

ct_tensor *ct_baddbmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    if (!ct__ag_needed(3, (const ct_tensor *const[]){input, a, b})) return ct__baddbmm_opt(input, a, b, opts);
    return ct__ag_not_implemented("baddbmm");
}

ct_tensor *ct_einsum(const char *equation, ct_tensor_list operands) {
    if (!ct__ag_needed(0, (const ct_tensor *const[]){})) return ct__einsum(equation, operands);
    return ct__ag_not_implemented("einsum");
}
