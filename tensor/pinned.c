/* Page-locked ("pinned") host memory: CPU tensors the GPU can copy from asynchronously, which the
 * DataLoader's pin_memory fills so the next batch's upload overlaps the current step. */
#include "device_impl.h"

#include "ctorch/cuda.h"

bool ct_is_pinned(const ct_tensor *t) {
#ifdef CT_HAVE_CUDA
    return t && ct__is_cpu(t) && t->storage->nbytes && ct_cuda_is_available() && ct__cuda_is_pinned(t->storage->data);
#else
    (void)t;
    return false;
#endif
}

ct_tensor *ct_pin_memory(const ct_tensor *t) {
    if (!CT__CHECK("pin_memory", t)) return NULL;
    if (!ct__is_cpu(t))
        return ct_error(CT_ERR_DEVICE, "pin_memory: cannot pin '%s' memory, only CPU tensors can be pinned",
                        ct_device_name(ct__device(t)));
    if (!ct_cuda_is_available())
        return ct_error(CT_ERR_DEVICE, "pin_memory: pinned memory needs a CUDA device, and %s",
#ifdef CT_HAVE_CUDA
                        "none is available"
#else
                        "this build has no CUDA"
#endif
        );
#ifdef CT_HAVE_CUDA
    if (ct_is_pinned(t) && ct__is_contiguous(t)) return ct_scope_own(ct_retain((void *)t));
    ct_storage *s = ct__cuda_pinned_storage_new((size_t)ct__numel(t->shape, t->ndim) * ct_dtype_size(t->dtype));
    if (!s) return NULL;
    ct_tensor *out = ct__tensor_from_storage(s, t->shape, t->ndim, t->dtype);
    if (!out || !ct__copy_into("pin_memory", out, t)) return NULL;
    return out;
#else
    return NULL;
#endif
}
