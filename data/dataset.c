/* The dataset handle: a vtable over user or library state, reference-counted so that composed
 * datasets (Subset, ConcatDataset, transformed views) and DataLoaders can share their parts. */
#include "ctorch/data.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ct_dataset {
    atomic_int_fast64_t refcount;
    const ct_dataset_vtable *vtable;
    void *state;
};

ct_dataset *ct_dataset_new(const ct_dataset_vtable *vtable, void *state) {
    if (!vtable || !vtable->len || !vtable->get)
        return ct_error(CT_ERR_ARG, "ct_dataset_new: the vtable needs len and get");
    ct_dataset *ds = malloc(sizeof *ds);
    if (!ds) {
        if (vtable->destroy) vtable->destroy(state);
        return ct_error(CT_ERR_OOM, "ct_dataset_new: out of memory");
    }
    atomic_init(&ds->refcount, 1);
    ds->vtable = vtable;
    ds->state = state;
    return ds;
}

ct_dataset *ct_dataset_retain(ct_dataset *ds) {
    if (ds) atomic_fetch_add_explicit(&ds->refcount, 1, memory_order_relaxed);
    return ds;
}

void ct_dataset_free(ct_dataset *ds) {
    if (!ds || atomic_fetch_sub_explicit(&ds->refcount, 1, memory_order_acq_rel) != 1) return;
    if (ds->vtable->destroy) ds->vtable->destroy(ds->state);
    free(ds);
}

int64_t ct_dataset_len(const ct_dataset *ds) { return ds ? ds->vtable->len(ds->state) : 0; }

const char *ct_dataset_name(const ct_dataset *ds) {
    return ds && ds->vtable->name ? ds->vtable->name : "Dataset";
}

bool ct_dataset_get_seeded(ct_dataset *ds, int64_t index, uint64_t seed, ct_sample *out) {
    if (!out) return ct_error(CT_ERR_ARG, "ct_dataset_get: out is NULL"), false;
    memset(out, 0, sizeof *out);
    if (!ds) return ct_error(CT_ERR_ARG, "ct_dataset_get: dataset is NULL"), false;
    if (!ct_ok()) return false;
    int64_t n = ds->vtable->len(ds->state), i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) {
        ct_error(CT_ERR_INDEX, "%s: index %" PRId64 " is out of range for a dataset of length %" PRId64,
                 ct_dataset_name(ds), index, n);
        return false;
    }
    if (!ds->vtable->get(ds->state, i, seed, out)) {
        if (ct_ok()) ct_error(CT_ERR_STATE, "%s: getting sample %" PRId64 " failed", ct_dataset_name(ds), i);
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

bool ct_dataset_get(ct_dataset *ds, int64_t index, ct_sample *out) {
    /* One draw from the default generator, as torch's global RNG feeds an unseeded transform. */
    uint64_t seed = 0;
    CT_SCOPE {
        ct_tensor *r = ct_randint(0, (int64_t)1 << 53, CT_SHAPE(1));
        if (r) seed = (uint64_t)ct_item(r);
    }
    return ct_dataset_get_seeded(ds, index, seed, out);
}

bool ct_sample_add(ct_sample *s, const char *name, ct_tensor *value) {
    if (!s || !value) return false;
    if (s->n >= CT_SAMPLE_MAX_FIELDS)
        return ct_error(CT_ERR_ARG, "sample field '%s': a sample holds at most %d fields", name ? name : "",
                        CT_SAMPLE_MAX_FIELDS), false;
    s->names[s->n] = name;
    s->fields[s->n] = value;
    s->n++;
    s->x = s->fields[0];
    s->y = s->n > 1 ? s->fields[1] : NULL;
    return true;
}

ct_tensor *ct_sample_field(const ct_sample *s, const char *name) {
    if (!s || !name) return NULL;
    for (int i = 0; i < s->n; i++)
        if (s->names[i] && !strcmp(s->names[i], name)) return s->fields[i];
    return NULL;
}
