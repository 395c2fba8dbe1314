/* Optimizer checkpoints: ct_optimizer_state_dict's tensors (moments, steps, group options) in an
 * HDF5 file of named tensors, so that saving the model and the optimizer after N steps and loading
 * both resumes exactly. */
#include "optim_impl.h"
#include "ctorch/serialize.h"

bool ct_optimizer_save(const ct_optimizer *opt, const char *path) {
    bool ok = false;
    CT_SCOPE {
        ct_optimizer_state st = ct_optimizer_state_dict(opt);
        ct_named_tensor *items = ct_scope_alloc(sizeof *items * (size_t)(st.n ? st.n : 1));
        for (int i = 0; items && i < st.n; i++) items[i] = (ct_named_tensor){st.names[i], st.tensors[i]};
        ok = ct_ok() && items && ct_save_tensors(path, (ct_named_tensors){st.n, items});
    }
    return ok;
}

bool ct_optimizer_load(ct_optimizer *opt, const char *path) {
    bool ok = false;
    CT_SCOPE {
        ct_named_tensors file = ct_load_tensors(path);
        const char **names = file.items ? ct_scope_alloc(sizeof *names * (size_t)(file.n ? file.n : 1)) : NULL;
        ct_tensor **tensors = names ? ct_scope_alloc(sizeof *tensors * (size_t)(file.n ? file.n : 1)) : NULL;
        for (int i = 0; tensors && i < file.n; i++) names[i] = file.items[i].name, tensors[i] = file.items[i].tensor;
        ok = tensors && ct_optimizer_load_state_dict(opt, (ct_optimizer_state){file.n, names, tensors});
    }
    return ok;
}
