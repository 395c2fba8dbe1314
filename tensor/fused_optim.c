/* Fused optimizer updates: validation of the tensor lists, then one call into the device's kernels
 * (tensor/cpu/fused_optim_cpu.c: one parallel pass per tensor; tensor/cuda/fused_optim_cuda.cu:
 * all tensors in one launch). The formulas are in fused_optim_impl.h. */
#include "fused_optim_impl.h"

static const ct_fused_optim_kernels *kernels(const char *op, ct_device device) {
    if (device.type == CT_DEVICE_CPU) return &ct__fused_optim_cpu_kernels;
#ifdef CT_HAVE_CUDA
    if (device.type == CT_DEVICE_CUDA) return &ct__fused_optim_cuda_kernels;
#endif
    return ct__no_kernel(op, device);
}

/* The k lists (names[a], NULL entries skipped) of n tensors each: every tensor present,
 * contiguous, writable, of params[0]'s dtype (a floating one) and device, with params[i]'s numel. */
static bool check_lists(const char *op, int k, ct_tensor *const *const *lists, const char *const *names, int n) {
    if (n < 0) return ct_error(CT_ERR_ARG, "%s: negative tensor count %d", op, n), false;
    if (n == 0) return true;
    for (int a = 0; a < k; a++)
        if (!lists[a]) return ct_error(CT_ERR_NULL, "%s: the list '%s' is NULL", op, names[a]), false;
    for (int a = 0; a < k; a++)
        for (int i = 0; i < n; i++)
            if (!lists[a][i]) return ct_error(CT_ERR_NULL, "%s: %s[%d] is NULL", op, names[a], i), false;
    const ct_tensor *p0 = lists[0][0];
    if (!ct_dtype_is_floating(p0->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: cannot optimize a tensor of dtype %s", op, ct_dtype_name(p0->dtype)), false;
    for (int a = 0; a < k; a++) {
        for (int i = 0; i < n; i++) {
            const ct_tensor *t = lists[a][i], *p = lists[0][i];
            if (t->dtype != p0->dtype)
                return ct_error(CT_ERR_DTYPE, "%s: %s[%d] has dtype %s, expected %s (the dtype of params[0])", op,
                                names[a], i, ct_dtype_name(t->dtype), ct_dtype_name(p0->dtype)),
                       false;
            if (!ct_device_equal(ct__device(t), ct__device(p0)))
                return ct_error(CT_ERR_DEVICE, "%s: %s[%d] is on %s, expected %s (the device of params[0])", op,
                                names[a], i, ct_device_name(ct__device(t)), ct_device_name(ct__device(p0))),
                       false;
            if (!ct__is_contiguous(t))
                return ct_error(CT_ERR_ARG, "%s: %s[%d] is not contiguous", op, names[a], i), false;
            if (ct__numel(t->shape, t->ndim) != ct__numel(p->shape, p->ndim))
                return ct_error(CT_ERR_SHAPE, "%s: %s[%d] has shape %s, but params[%d] has shape %s", op, names[a], i,
                                ct__shape_str(t->shape, t->ndim), i, ct__shape_str(p->shape, p->ndim)),
                       false;
        }
    }
    return true;
}

/* Marks the in-place writes of the lists that change. */
static void bump(ct_tensor *const *ts, int n) {
    if (ts)
        for (int i = 0; i < n; i++) ct__bump_version(ts[i]);
}

bool ct__fused_sgd_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *momentum_buffers, int n,
                    const ct__sgd_hparams *h) {
    const char *op = "_fused_sgd_";
    if (!ct_ok()) return false;
    if (!h) return ct_error(CT_ERR_NULL, "%s: hyperparameters are NULL", op), false;
    if (h->momentum != 0 && !momentum_buffers)
        return ct_error(CT_ERR_ARG, "%s: momentum %g needs momentum_buffers", op, h->momentum), false;
    ct_tensor *const *lists[] = {params, grads, momentum_buffers};
    const char *names[] = {"params", "grads", "momentum_buffers"};
    if (!check_lists(op, h->momentum != 0 ? 3 : 2, lists, names, n)) return false;
    if (n == 0) return true;
    const ct_fused_optim_kernels *k = kernels(op, ct__device(params[0]));
    if (!k || !k->sgd(params, grads, h->momentum != 0 ? momentum_buffers : NULL, n, h)) return false;
    bump(params, n);
    if (h->momentum != 0) bump(momentum_buffers, n);
    return true;
}

bool ct__fused_adam_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *exp_avgs,
                     ct_tensor *const *exp_avg_sqs, ct_tensor *const *max_exp_avg_sqs, int n,
                     const ct__adam_hparams *h) {
    const char *op = h && h->decoupled ? "_fused_adamw_" : "_fused_adam_";
    if (!ct_ok()) return false;
    if (!h) return ct_error(CT_ERR_NULL, "%s: hyperparameters are NULL", op), false;
    if (!(h->step >= 1)) return ct_error(CT_ERR_ARG, "%s: step must be >= 1, got %g", op, h->step), false;
    ct_tensor *const *lists[] = {params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs};
    const char *names[] = {"params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"};
    if (!check_lists(op, max_exp_avg_sqs ? 5 : 4, lists, names, n)) return false;
    if (n == 0) return true;
    const ct_fused_optim_kernels *k = kernels(op, ct__device(params[0]));
    if (!k || !k->adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, n, h)) return false;
    bump(params, n);
    bump(exp_avgs, n);
    bump(exp_avg_sqs, n);
    bump(max_exp_avg_sqs, n);
    return true;
}

bool ct__fused_rmsprop_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *square_avgs,
                        ct_tensor *const *momentum_buffers, ct_tensor *const *grad_avgs, int n,
                        const ct__rmsprop_hparams *h) {
    const char *op = "_fused_rmsprop_";
    if (!ct_ok()) return false;
    if (!h) return ct_error(CT_ERR_NULL, "%s: hyperparameters are NULL", op), false;
    if (h->momentum > 0 && !momentum_buffers)
        return ct_error(CT_ERR_ARG, "%s: momentum %g needs momentum_buffers", op, h->momentum), false;
    if (h->centered && !grad_avgs) return ct_error(CT_ERR_ARG, "%s: centered needs grad_avgs", op), false;
    ct_tensor *const *buf = h->momentum > 0 ? momentum_buffers : NULL, *const *ga = h->centered ? grad_avgs : NULL;
    /* The lists present, packed: params, grads, square_avgs, then buf and ga when used. */
    ct_tensor *const *lists[5] = {params, grads, square_avgs};
    const char *names[5] = {"params", "grads", "square_avgs"};
    int k = 3;
    if (buf) lists[k] = buf, names[k++] = "momentum_buffers";
    if (ga) lists[k] = ga, names[k++] = "grad_avgs";
    if (!check_lists(op, k, lists, names, n)) return false;
    if (n == 0) return true;
    const ct_fused_optim_kernels *kt = kernels(op, ct__device(params[0]));
    if (!kt || !kt->rmsprop(params, grads, square_avgs, buf, ga, n, h)) return false;
    bump(params, n);
    bump(square_avgs, n);
    bump(buf, n);
    bump(ga, n);
    return true;
}

bool ct__fused_adagrad_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *sums, int n,
                        const ct__adagrad_hparams *h) {
    const char *op = "_fused_adagrad_";
    if (!ct_ok()) return false;
    if (!h) return ct_error(CT_ERR_NULL, "%s: hyperparameters are NULL", op), false;
    ct_tensor *const *lists[] = {params, grads, sums};
    const char *names[] = {"params", "grads", "sums"};
    if (!check_lists(op, 3, lists, names, n)) return false;
    if (n == 0) return true;
    const ct_fused_optim_kernels *k = kernels(op, ct__device(params[0]));
    if (!k || !k->adagrad(params, grads, sums, n, h)) return false;
    bump(params, n);
    bump(sums, n);
    return true;
}
