/* Group norm as a composition of differentiable ops: x [N, C, *] viewed as [N, G, (C/G) * prod(*)]
 * is layer-normalized over its last dim (each sample's group of channels and spatial positions),
 * viewed back, then scaled and shifted per channel by weight/bias [C] broadcast as [C, 1, ..., 1].
 * Autograd differentiates through layer norm's fused kernel and the reshapes. */
#include "../tensor/tensor_impl.h"
#include "ctorch/nn_functional.h"

ct_tensor *ct_group_norm_opt(const ct_tensor *x, int64_t num_groups, const ct_tensor *weight,
                             const ct_tensor *bias, ct_norm_eps_opts opts) {
    const char *op = "group_norm";
    if (!CT__CHECK(op, x)) return NULL;
    if (x->ndim < 2)
        return ct_error(CT_ERR_SHAPE, "%s: expected an input of at least 2 dims [N, C, *], but got input of size %s",
                        op, ct__shape_str(x->shape, x->ndim));
    int64_t N = x->shape[0], C = x->shape[1];
    if (num_groups <= 0 || C % num_groups)
        return ct_error(CT_ERR_SHAPE,
                        "%s: Expected number of channels in input to be divisible by num_groups, but got input of shape "
                        "%s and num_groups=%lld",
                        op, ct__shape_str(x->shape, x->ndim), (long long)num_groups);
    const ct_tensor *affine[2] = {weight, bias};
    const char *names[2] = {"weight", "bias"};
    for (int i = 0; i < 2; i++)
        if (affine[i] && (affine[i]->ndim != 1 || affine[i]->shape[0] != C))
            return ct_error(CT_ERR_SHAPE,
                            "%s: Expected %s to be a vector of size equal to the number of channels in input, but got "
                            "%s of shape %s and input of shape %s",
                            op, names[i], names[i], ct__shape_str(affine[i]->shape, affine[i]->ndim),
                            ct__shape_str(x->shape, x->ndim));
    ct_tensor *out = NULL;
    CT_SCOPE {
        int64_t group_size = (C / num_groups) * ct__numel(x->shape + 2, x->ndim - 2);
        ct_tensor *g = ct_reshape(x, CT_SHAPE(N, num_groups, group_size));
        ct_tensor *y = ct_reshape(ct_layer_norm(g, CT_SHAPE(group_size), NULL, NULL, .eps = opts.eps), ct_shape_of(x));
        /* per-channel affine: [C] as [C, 1, ..., 1] against [N, C, *] */
        ct_shape cs = {.ndim = x->ndim - 1};
        cs.d[0] = C;
        for (int d = 1; d < cs.ndim; d++) cs.d[d] = 1;
        if (weight) y = ct_mul(y, ct_reshape(weight, cs));
        if (bias) y = ct_add(y, ct_reshape(bias, cs));
        if (y) out = ct_keep(y);
    }
    return out;
}
