/* In-place random fills under autograd. The new values do not depend on the old ones, so the
 * gradient to the old value is zero: the fill is recorded as drawing into a fresh tensor (the
 * same draws, in the same order) that is then written into self, which leaves the graph. */
#include "autograd_impl.h"

typedef struct fill_args {
    double a, b;
} fill_args;

static ct_tensor *uniform_fresh(const ct_tensor *self_copy, void *args) {
    fill_args *f = args;
    return ct__uniform_(ct_empty_like(self_copy), f->a, f->b);
}

static ct_tensor *normal_fresh(const ct_tensor *self_copy, void *args) {
    fill_args *f = args;
    return ct__normal_(ct_empty_like(self_copy), f->a, f->b);
}

ct_tensor *ct_uniform_(ct_tensor *t, double low, double high) {
    if (!ct__ag_check_inplace("uniform_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__uniform_(t, low, high);
    return ct__ag_inplace("uniform_", t, false, uniform_fresh, &(fill_args){low, high});
}

ct_tensor *ct_normal_(ct_tensor *t, double mean, double std) {
    if (!ct__ag_check_inplace("normal_", t)) return NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__normal_(t, mean, std);
    return ct__ag_inplace("normal_", t, false, normal_fresh, &(fill_args){mean, std});
}
