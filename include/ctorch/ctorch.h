/* ctorch: a PyTorch-like deep-learning training framework in C. The one header users include. */
#ifndef CTORCH_H
#define CTORCH_H

#include "ctorch/core.h"
#include "ctorch/tensor.h"
#include "ctorch/cuda.h"
#include "ctorch/autograd.h"
#include "ctorch/nn_functional.h"
#include "ctorch/serialize.h"
#include "ctorch/nn.h"
#include "ctorch/data.h"
#include "ctorch/optim.h"
#include "ctorch/export.h"

#endif /* CTORCH_H */
