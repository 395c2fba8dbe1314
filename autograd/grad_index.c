/* Derivatives of indexing, gather/scatter, masked ops, where: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

ct_tensor *ct_where(const ct_tensor *cond, const ct_tensor *a, const ct_tensor *b) {
    if (!ct__ag_needed(3, (const ct_tensor *const[]){cond, a, b})) return ct__where(cond, a, b);
    return ct__ag_not_implemented("where");
}

ct_tensor *ct_masked_fill(const ct_tensor *t, const ct_tensor *mask, double value) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, mask})) return ct__masked_fill(t, mask, value);
    return ct__ag_not_implemented("masked_fill");
}

ct_tensor *ct_masked_fill_(ct_tensor *t, const ct_tensor *mask, double value) {
    if (!ct__ag_check_inplace("masked_fill_", t)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, mask})) return ct__masked_fill_(t, mask, value);
    return ct__ag_not_implemented("masked_fill_");
}

ct_tensor *ct_masked_select(const ct_tensor *t, const ct_tensor *mask) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, mask})) return ct__masked_select(t, mask);
    return ct__ag_not_implemented("masked_select");
}

ct_tensor *ct_index_select(const ct_tensor *t, int dim, const ct_tensor *index) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, index})) return ct__index_select(t, dim, index);
    return ct__ag_not_implemented("index_select");
}

ct_tensor *ct_gather(const ct_tensor *t, int dim, const ct_tensor *index) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, index})) return ct__gather(t, dim, index);
    return ct__ag_not_implemented("gather");
}

ct_tensor *ct_scatter(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_needed(3, (const ct_tensor *const[]){t, index, src})) return ct__scatter(t, dim, index, src);
    return ct__ag_not_implemented("scatter");
}

ct_tensor *ct_scatter_value(const ct_tensor *t, int dim, const ct_tensor *index, double value) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, index})) return ct__scatter_value(t, dim, index, value);
    return ct__ag_not_implemented("scatter_value");
}

ct_tensor *ct_scatter_add(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_needed(3, (const ct_tensor *const[]){t, index, src})) return ct__scatter_add(t, dim, index, src);
    return ct__ag_not_implemented("scatter_add");
}

ct_tensor *ct_scatter_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_check_inplace("scatter_", t)) return NULL;
    if (!ct__ag_needed(3, (const ct_tensor *const[]){t, index, src})) return ct__scatter_(t, dim, index, src);
    return ct__ag_not_implemented("scatter_");
}

ct_tensor *ct_scatter_add_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src) {
    if (!ct__ag_check_inplace("scatter_add_", t)) return NULL;
    if (!ct__ag_needed(3, (const ct_tensor *const[]){t, index, src})) return ct__scatter_add_(t, dim, index, src);
    return ct__ag_not_implemented("scatter_add_");
}

ct_tensor *ct_index(const ct_tensor *t, ct_tensor_list indices) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__index(t, indices);
    return ct__ag_not_implemented("index");
}

ct_tensor *ct_index_put_(ct_tensor *t, ct_tensor_list indices, const ct_tensor *values, bool accumulate) {
    if (!ct__ag_check_inplace("index_put_", t)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, values})) return ct__index_put_(t, indices, values, accumulate);
    return ct__ag_not_implemented("index_put_");
}
