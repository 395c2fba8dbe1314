/* The CUDA entry of the softmax backward table (softmax_impl.h): the arguments copied into
 * softmax_cuda.h's plain struct for the launcher, on the tensor's device stream. */
#include "../softmax_impl.h"
#include "cuda_impl.h"
#include "softmax_cuda.h"

static bool cuda_backward(const ct__softmax_bw_args *a) {
    ct__cuda_softmax_bw w = {.grad = a->grad, .y = a->y, .dx = a->dx, .outer = a->outer, .n = a->n,
                             .inner = a->inner, .log = a->log, .dtype = (int)a->dtype};
    return ct__cuda_check(a->log ? "log_softmax_backward" : "softmax_backward", a->device,
                          ct__cuda_softmax_backward(&w, a->device, ct__cuda_stream(a->device)));
}

const ct__softmax_kernels ct__softmax_cuda_kernels = {.backward = cuda_backward};
