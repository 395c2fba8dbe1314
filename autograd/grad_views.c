/* Derivatives of views (never copy): each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

ct_tensor *ct_view(const ct_tensor *t, ct_shape shape) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__view(t, shape);
    return ct__ag_not_implemented("view");
}

ct_tensor *ct_reshape(const ct_tensor *t, ct_shape shape) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__reshape(t, shape);
    return ct__ag_not_implemented("reshape");
}

ct_tensor *ct_permute(const ct_tensor *t, ct_dims dims) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__permute(t, dims);
    return ct__ag_not_implemented("permute");
}

ct_tensor *ct_transpose(const ct_tensor *t, int dim0, int dim1) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__transpose(t, dim0, dim1);
    return ct__ag_not_implemented("transpose");
}

ct_tensor *ct_t(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__t(t);
    return ct__ag_not_implemented("t");
}

ct_tensor *ct_movedim(const ct_tensor *t, int source, int destination) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__movedim(t, source, destination);
    return ct__ag_not_implemented("movedim");
}

ct_tensor *ct_expand(const ct_tensor *t, ct_shape shape) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__expand(t, shape);
    return ct__ag_not_implemented("expand");
}

ct_tensor *ct_broadcast_to(const ct_tensor *t, ct_shape shape) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__broadcast_to(t, shape);
    return ct__ag_not_implemented("broadcast_to");
}

ct_tensor *ct_expand_as(const ct_tensor *t, const ct_tensor *other) {
    if (!ct__ag_needed(2, (const ct_tensor *const[]){t, other})) return ct__expand_as(t, other);
    return ct__ag_not_implemented("expand_as");
}

ct_tensor *ct_narrow(const ct_tensor *t, int dim, int64_t start, int64_t length) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__narrow(t, dim, start, length);
    return ct__ag_not_implemented("narrow");
}

ct_tensor *ct_slice(const ct_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__slice(t, dim, start, end, step);
    return ct__ag_not_implemented("slice");
}

ct_tensor *ct_select(const ct_tensor *t, int dim, int64_t index) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__select(t, dim, index);
    return ct__ag_not_implemented("select");
}

ct_tensor *ct_squeeze(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__squeeze(t);
    return ct__ag_not_implemented("squeeze");
}

ct_tensor *ct_squeeze_dim(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__squeeze_dim(t, dim);
    return ct__ag_not_implemented("squeeze_dim");
}

ct_tensor *ct_unsqueeze(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__unsqueeze(t, dim);
    return ct__ag_not_implemented("unsqueeze");
}

ct_tensor *ct_flatten3(const ct_tensor *t, int start_dim, int end_dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__flatten3(t, start_dim, end_dim);
    return ct__ag_not_implemented("flatten3");
}

ct_tensor *ct_unflatten(const ct_tensor *t, int dim, ct_shape sizes) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__unflatten(t, dim, sizes);
    return ct__ag_not_implemented("unflatten");
}

ct_tensor *ct_ravel(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__ravel(t);
    return ct__ag_not_implemented("ravel");
}

ct_tensor *ct_unfold(const ct_tensor *t, int dim, int64_t size, int64_t step) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__unfold(t, dim, size, step);
    return ct__ag_not_implemented("unfold");
}

ct_tensor *ct_diagonal(const ct_tensor *t, int64_t offset, int dim1, int dim2) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__diagonal(t, offset, dim1, dim2);
    return ct__ag_not_implemented("diagonal");
}

ct_tensor *ct_as_strided(const ct_tensor *t, ct_shape shape, ct_shape stride, int64_t storage_offset) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__as_strided(t, shape, stride, storage_offset);
    return ct__ag_not_implemented("as_strided");
}

ct_tensor *ct_alias(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__alias(t);
    return ct__ag_not_implemented("alias");
}

ct_tensor *ct_contiguous(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__contiguous(t);
    return ct__ag_not_implemented("contiguous");
}
