/* The CUDA elementwise table (elementwise_impl.h): iterators to the launchers of
 * elementwise_cuda.cu. Host scalars (a CPU 0-d tensor next to CUDA tensors, ct_ew_params's
 * host_scalars) are read here and passed to the kernel by value. */
#include "../elementwise_impl.h"
#include "cuda_glue.h"

static ct_cuda_ew_args args_of(const ct_ew_params *p) { return (ct_cuda_ew_args){p->alpha, p->p0, p->p1, p->p2}; }

static bool report(ct_cuda_status s, ct_ew_params *p) {
    if (s == CT_CUDA_FAILED) p->failed = true;
    return s != CT_CUDA_NO_KERNEL;
}

static bool cuda_binary(ct_ew_binary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p) {
    ct_cuda_iter cit;
    ct__cuda_iter_from(&cit, it);
    const void *host_value[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++)
        if (p->host_scalars >> (k + 1) & 1) host_value[k] = it->data[k + 1];
    ct_cuda_ew_args a = args_of(p);
    bool zero_division = false;
    ct_cuda_status s = ct__cuda_ew_binary((int)op, (int)dtype, &cit, host_value, &a, p->device, &zero_division);
    if (zero_division) atomic_store(&p->zero_division, 1);
    return report(s, p);
}

static bool cuda_unary(ct_ew_unary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p) {
    ct_cuda_iter cit;
    ct__cuda_iter_from(&cit, it);
    ct_cuda_ew_args a = args_of(p);
    return report(ct__cuda_ew_unary((int)op, (int)dtype, &cit, &a, p->device), p);
}

static bool cuda_where(const ct_iter *it, size_t elem_size, int device) {
    ct_cuda_iter cit;
    ct__cuda_iter_from(&cit, it);
    return ct__cuda_where(&cit, elem_size, device) == CT_CUDA_OK;
}

static bool cuda_all_true(const ct_tensor *t) {
    ct_iter it;
    ct_shape shape = ct_shape_of(t);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){t}, &shape);
    ct_cuda_iter cit;
    ct__cuda_iter_from(&cit, &it);
    bool all = false;
    return ct__cuda_all_true(&cit, ct__device(t).index, &all) == CT_CUDA_OK && all;
}

const ct_ew_kernels ct__ew_cuda_kernels = {
    .unary = cuda_unary,
    .binary = cuda_binary,
    .where = cuda_where,
    .all_true = cuda_all_true,
};
