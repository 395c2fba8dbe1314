/* C glue of the fused optimizer kernels: tensor lists to data pointers and numels, the host-side
 * step factors, one call into fused_optim_cuda.cu on the device's stream. */
#include "../fused_optim_impl.h"
#include "cuda_impl.h"
#include "fused_optim_cuda.h"

#include <stdlib.h>

static ct__fo_dtype fo_dtype(ct_dtype d) {
    switch (d) {
    case CT_F64: return CT__FO_F64;
    case CT_F16: return CT__FO_F16;
    case CT_BF16: return CT__FO_BF16;
    default: return CT__FO_F32;
    }
}

/* The pointers of `depth` lists (NULL lists stay NULL) and the numels, in one allocation that the
 * caller frees: ptrs[d] is list d's n pointers. */
typedef struct fo_lists {
    void **ptrs[5];
    int64_t *numel;
    void *block;
} fo_lists;

static bool gather(const char *op, fo_lists *l, ct_tensor *const *const *lists, int depth, int n) {
    l->block = malloc((size_t)n * ((size_t)depth * sizeof(void *) + sizeof(int64_t)));
    if (!l->block) return ct_error(CT_ERR_OOM, "%s: out of memory for %d tensor pointers", op, n), false;
    l->numel = (int64_t *)l->block;
    void **base = (void **)(l->numel + n);
    for (int d = 0; d < 5; d++) l->ptrs[d] = NULL;
    for (int d = 0; d < depth; d++) {
        if (!lists[d]) continue;
        l->ptrs[d] = base + (size_t)d * (size_t)n;
        for (int i = 0; i < n; i++) l->ptrs[d][i] = ct__data(lists[d][i]);
    }
    for (int i = 0; i < n; i++) l->numel[i] = ct__numel(lists[0][i]->shape, lists[0][i]->ndim);
    return true;
}

static bool sgd(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *buf, int n, const ct__sgd_hparams *h) {
    const char *op = "_fused_sgd_";
    int dev = ct__device(p[0]).index;
    ct_tensor *const *lists[3] = {p, g, buf};
    fo_lists l;
    if (!gather(op, &l, lists, 3, n)) return false;
    ct__fo_sgd_args a = {h->lr, h->momentum, h->dampening, h->weight_decay, h->nesterov, h->maximize, h->first_step};
    cudaStream_t s = ct__cuda_stream(dev);
    bool ok = ct__cuda_check(op, dev, ct__cuda_fused_sgd((void *const *const *)l.ptrs, l.numel, n, fo_dtype(p[0]->dtype), a, s));
    free(l.block);
    return ok;
}

static bool adam(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *m, ct_tensor *const *v,
                 ct_tensor *const *vmax, int n, const ct__adam_hparams *h) {
    const char *op = h->decoupled ? "_fused_adamw_" : "_fused_adam_";
    int dev = ct__device(p[0]).index;
    ct_tensor *const *lists[5] = {p, g, m, v, vmax};
    fo_lists l;
    if (!gather(op, &l, lists, 5, n)) return false;
    ct__fo_adam_args a = ct__adam_factors(h);
    cudaStream_t s = ct__cuda_stream(dev);
    bool ok = ct__cuda_check(op, dev, ct__cuda_fused_adam((void *const *const *)l.ptrs, l.numel, n, fo_dtype(p[0]->dtype), a, s));
    free(l.block);
    return ok;
}

static bool rmsprop(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sq, ct_tensor *const *buf,
                    ct_tensor *const *ga, int n, const ct__rmsprop_hparams *h) {
    const char *op = "_fused_rmsprop_";
    int dev = ct__device(p[0]).index;
    ct_tensor *const *lists[5] = {p, g, sq, buf, ga};
    fo_lists l;
    if (!gather(op, &l, lists, 5, n)) return false;
    ct__fo_rmsprop_args a = {h->lr, h->alpha, h->eps, h->weight_decay, h->momentum, h->maximize};
    cudaStream_t s = ct__cuda_stream(dev);
    bool ok = ct__cuda_check(op, dev, ct__cuda_fused_rmsprop((void *const *const *)l.ptrs, l.numel, n, fo_dtype(p[0]->dtype), a, s));
    free(l.block);
    return ok;
}

static bool adagrad(ct_tensor *const *p, ct_tensor *const *g, ct_tensor *const *sum, int n, const ct__adagrad_hparams *h) {
    const char *op = "_fused_adagrad_";
    int dev = ct__device(p[0]).index;
    ct_tensor *const *lists[3] = {p, g, sum};
    fo_lists l;
    if (!gather(op, &l, lists, 3, n)) return false;
    ct__fo_adagrad_args a = {h->clr, h->weight_decay, h->eps, h->maximize};
    cudaStream_t s = ct__cuda_stream(dev);
    bool ok = ct__cuda_check(op, dev, ct__cuda_fused_adagrad((void *const *const *)l.ptrs, l.numel, n, fo_dtype(p[0]->dtype), a, s));
    free(l.block);
    return ok;
}

const ct_fused_optim_kernels ct__fused_optim_cuda_kernels = {.sgd = sgd, .adam = adam, .rmsprop = rmsprop, .adagrad = adagrad};
