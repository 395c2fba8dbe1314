/* Module checkpoints: the state dict (parameters and persistent buffers under PyTorch's names) in
 * an HDF5 file of named tensors (serialize.h: one dataset per dotted name, atomic writes). */
#include "module_impl.h"

bool ct_save_state(const ct_module *m, const char *path) {
    bool ok = false;
    CT_SCOPE {
        ct_named_tensors sd = ct_state_dict(m);
        ok = ct_ok() && ct_save_tensors(path, sd);
    }
    return ok;
}

bool ct_load_state_opt(ct_module *m, const char *path, ct_load_state_opts opts) {
    bool ok = false;
    CT_SCOPE {
        ct_named_tensors sd = ct_state_dict(m);
        ok = ct_ok() && ct_load_tensors_into(path, sd, opts.strict);
    }
    return ok;
}
