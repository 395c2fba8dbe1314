/* Dropout as PyTorch computes it on the CPU (at::dropout's _dropout_impl): the noise
 * bernoulli(1 - p) / (1 - p) multiplies x, so autograd's multiplication derivative multiplies the
 * gradient by the same noise. The noise (tensor/dropout.c) keeps element i where the i-th U[0, 1)
 * draw of ctorch's Philox generator is below 1 - p: reproducible from the seed for any thread
 * count. */
#include "../tensor/tensor_impl.h"
#include "ctorch/nn_functional.h"

ct_tensor *ct_dropout_opt(const ct_tensor *x, ct_dropout_opts opts) {
    const char *op = "dropout";
    if (!CT__CHECK(op, x)) return NULL;
    double p = opts.p;
    if (!(p >= 0 && p <= 1))
        return ct_error(CT_ERR_ARG, "%s: dropout probability has to be between 0 and 1, but got %g", op, p);
    if (!ct_dtype_is_floating(x->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: result type Float can't be cast to the desired output type %s", op,
                        ct__torch_type_name(x->dtype));
    /* nothing to do: x itself, as PyTorch returns its input */
    if (p == 0 || !opts.training || ct__numel(x->shape, x->ndim) == 0) return ct_scope_own(ct_retain((ct_tensor *)x));
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *noise;
        if (p == 1) {
            noise = ct_zeros(CT_SHAPE(), .dtype = x->dtype, .device = ct_device_of(x));
        } else {
            noise = ct__dropout_noise(x, p);
        }
        ct_tensor *y = ct_mul(x, noise);
        if (y) out = ct_keep(y);
    }
    return out;
}
