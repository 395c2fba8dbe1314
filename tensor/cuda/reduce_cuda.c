/* The CUDA entry of the reduction table: the plan copied into reduce_cuda.h's plain struct and
 * handed to the launchers on the tensor's device stream (softmax's in softmax_cuda.cu). */
#include "../reduce_impl.h"
#include "cuda_impl.h"
#include "reduce_cuda.h"
#include "softmax_cuda.h"

#include <string.h>

_Static_assert(CT__RED_ANY == 9 && CT__ROW_CUMPROD == 3, "reduce_cuda.cu numbers the kinds the same way");
_Static_assert(CT_BOOL == 0 && CT_U8 == 1 && CT_I32 == 2 && CT_I64 == 3 && CT_F16 == 4 && CT_BF16 == 5 &&
                   CT_F32 == 6 && CT_F64 == 7,
               "dtype_cuda.cuh numbers the dtypes the same way");
_Static_assert(CT__CUDA_RED_DIMS == CT_MAX_DIMS, "one dim limit");

/* The device of the plan's tensors, recorded by the op before dispatch (see cuda_reduce). */
static void to_cuda_plan(ct__cuda_red *c, const ct__red_plan *P) {
    memset(c, 0, sizeof *c);
    c->kind = P->kind;
    c->p = P->p;
    c->correction = P->correction;
    c->take_sqrt = P->take_sqrt;
    c->int_acc = P->int_acc;
    c->in_dtype = (int)P->in_dtype;
    c->out_dtype = (int)P->out_dtype;
    c->in = P->in;
    c->out = P->out;
    c->idx_out = P->idx_out;
    c->outer_ndim = P->outer_ndim;
    c->inner_ndim = P->inner_ndim;
    c->nout = P->nout;
    c->ninner = P->ninner;
    c->inner_out = P->inner_out;
    size_t n = sizeof(int64_t) * CT_MAX_DIMS;
    memcpy(c->outer_shape, P->outer_shape, n);
    memcpy(c->outer_in, P->outer_in, n);
    memcpy(c->outer_out, P->outer_out, n);
    memcpy(c->outer_idx, P->outer_idx, n);
    memcpy(c->inner_shape, P->inner_shape, n);
    memcpy(c->inner_in, P->inner_in, n);
}

static bool cuda_reduce(const ct__red_plan *P) {
    ct__cuda_red c;
    to_cuda_plan(&c, P);
    int dev = P->device.index, sms = ct__cuda_sm_count(dev);
    size_t bytes = ct__cuda_reduce_workspace(&c, sms);
    void *ws = bytes ? ct__cuda_alloc(bytes, dev) : NULL;
    if (bytes && !ws) return false; /* the allocator's error names the size */
    bool ok = ct__cuda_check("reduce", dev, ct__cuda_reduce(&c, sms, ws, ct__cuda_stream(dev)));
    if (ws) ct__cuda_free(ws, dev);
    return ok;
}

static bool cuda_rows(const ct__red_plan *P) {
    ct__cuda_red c;
    to_cuda_plan(&c, P);
    int dev = P->device.index;
    if (P->kind == CT__ROW_SOFTMAX || P->kind == CT__ROW_LOG_SOFTMAX)
        return ct__cuda_check(P->kind == CT__ROW_SOFTMAX ? "softmax" : "log_softmax", dev,
                              ct__cuda_softmax(&c, dev, ct__cuda_stream(dev)));
    return ct__cuda_check(P->kind == CT__ROW_CUMSUM ? "cumsum" : "cumprod", dev,
                          ct__cuda_rows(&c, ct__cuda_sm_count(dev), ct__cuda_stream(dev)));
}

const ct__reduce_kernels ct__reduce_cuda_kernels = {.reduce = cuda_reduce, .rows = cuda_rows};
