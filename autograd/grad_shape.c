/* Derivatives of copying shape ops: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

ct_tensor *ct_clone(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__clone(t);
    return ct__ag_not_implemented("clone");
}

ct_tensor *ct_copy_(ct_tensor *dst, const ct_tensor *src) {
    if (!ct__ag_check_inplace("copy_", dst)) return NULL;
    if (!ct__ag_needed(2, (const ct_tensor *const[]){dst, src})) return ct__copy_(dst, src);
    return ct__ag_not_implemented("copy_");
}

ct_tensor *ct_to_dtype(const ct_tensor *t, ct_dtype dtype) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__to_dtype(t, dtype);
    return ct__ag_not_implemented("to_dtype");
}

ct_tensor *ct_to(const ct_tensor *t, ct_device device) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__to(t, device);
    return ct__ag_not_implemented("to");
}

ct_tensor *ct_cat(ct_tensor_list tensors, int dim) {
    if (!ct__ag_needed(0, (const ct_tensor *const[]){})) return ct__cat(tensors, dim);
    return ct__ag_not_implemented("cat");
}

ct_tensor *ct_stack(ct_tensor_list tensors, int dim) {
    if (!ct__ag_needed(0, (const ct_tensor *const[]){})) return ct__stack(tensors, dim);
    return ct__ag_not_implemented("stack");
}

ct_tensor_list ct_split(const ct_tensor *t, int64_t split_size, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__split(t, split_size, dim);
    ct__ag_not_implemented("split");
    return (ct_tensor_list){0};
}

ct_tensor_list ct_split_sizes(const ct_tensor *t, ct_shape sizes, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__split_sizes(t, sizes, dim);
    ct__ag_not_implemented("split_sizes");
    return (ct_tensor_list){0};
}

ct_tensor_list ct_chunk(const ct_tensor *t, int64_t chunks, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__chunk(t, chunks, dim);
    ct__ag_not_implemented("chunk");
    return (ct_tensor_list){0};
}

ct_tensor_list ct_unbind(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__unbind(t, dim);
    ct__ag_not_implemented("unbind");
    return (ct_tensor_list){0};
}

ct_tensor *ct_repeat(const ct_tensor *t, ct_shape repeats) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__repeat(t, repeats);
    return ct__ag_not_implemented("repeat");
}

ct_tensor *ct_tile(const ct_tensor *t, ct_shape reps) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__tile(t, reps);
    return ct__ag_not_implemented("tile");
}

ct_tensor *ct_flip(const ct_tensor *t, ct_dims dims) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__flip(t, dims);
    return ct__ag_not_implemented("flip");
}

ct_tensor *ct_roll(const ct_tensor *t, ct_shape shifts, ct_dims dims) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__roll(t, shifts, dims);
    return ct__ag_not_implemented("roll");
}

ct_tensor *ct_pad_opt(const ct_tensor *t, ct_shape pads, ct_pad_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__pad_opt(t, pads, opts);
    return ct__ag_not_implemented("pad");
}

ct_tensor *ct_tril(const ct_tensor *t, int64_t diagonal) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__tril(t, diagonal);
    return ct__ag_not_implemented("tril");
}

ct_tensor *ct_triu(const ct_tensor *t, int64_t diagonal) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__triu(t, diagonal);
    return ct__ag_not_implemented("triu");
}
