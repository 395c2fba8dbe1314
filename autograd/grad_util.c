/* Small pieces shared by derivative formulas. */
#include "autograd_impl.h"

/* The reverse of broadcasting: sum the leading dims grad has beyond shape, and keep-sum the dims
 * where shape has 1 and grad does not. */
ct_tensor *ct__sum_to(const ct_tensor *grad, ct_shape shape) {
    if (!grad) return NULL;
    if (ct__same_shape(grad->shape, grad->ndim, shape.d, shape.ndim)) return ct_alias(grad);
    int lead = grad->ndim - shape.ndim;
    ct_dims dims = {.ndim = 0};
    for (int d = 0; d < grad->ndim; d++)
        if (d < lead || (shape.d[d - lead] == 1 && grad->shape[d] != 1)) dims.d[dims.ndim++] = d;
    ct_tensor *summed = dims.ndim ? ct_sum(grad, .dim = dims, .keepdim = true) : ct_alias(grad);
    return ct_reshape(summed, shape);
}
