/* Derivatives of in-place random fills: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

ct_tensor *ct_uniform_(ct_tensor *t, double low, double high) {
    if (!ct__ag_check_inplace("uniform_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__uniform_(t, low, high);
    return ct__ag_not_implemented("uniform_");
}

ct_tensor *ct_normal_(ct_tensor *t, double mean, double std) {
    if (!ct__ag_check_inplace("normal_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__normal_(t, mean, std);
    return ct__ag_not_implemented("normal_");
}
