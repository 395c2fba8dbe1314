/* ctorch nn.functional: the operations layers are made of, each differentiable (torch.nn.functional).
 * Conventions as in ctorch/tensor.h: results belong to the innermost scope, NULL with an error on
 * bad input, NULL inputs propagate, named options with PyTorch's defaults. */
#ifndef CTORCH_NN_FUNCTIONAL_H
#define CTORCH_NN_FUNCTIONAL_H

#include "ctorch/autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution ---------------------------------------------------------------------------- */
/* nn:conv */

/* ---- pooling -------------------------------------------------------------------------------- */
/* nn:pool */

/* ---- normalization, dropout, embedding ----------------------------------------------------- */
/* nn:norm */

/* ---- losses --------------------------------------------------------------------------------- */
/* nn:loss */

/* ---- init (in place, under no grad) --------------------------------------------------------- */
/* nn:init */

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
