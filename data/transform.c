/* Transforms: the object, Compose, custom transforms, and the dataset view that applies a
 * transform to one field of every sample.
 *
 * A transform is a scope object (like a tensor) holding a function and its parameters. It never
 * changes after construction, so one transform serves every worker thread at once; randomness
 * comes only from the seed passed to apply (see data_impl.h), which the DataLoader derives per
 * sample, so the result for a sample does not depend on the thread or the number of workers. */
#include "../core/core_impl.h"
#include "data_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_transform {
    ct_object obj;
    const char *name;
    ct_transform_fn fn;
    void *params;
    void (*free_params)(void *);
};

static void transform_destroy(ct_object *obj) {
    ct_transform *t = (ct_transform *)obj;
    if (t->free_params) t->free_params(t->params);
    free(t);
}

static const ct_object_type transform_type = {"Transform", transform_destroy};

ct_transform *ct__transform_make(const char *name, ct_transform_fn fn, void *params, void (*free_params)(void *)) {
    ct_transform *t = calloc(1, sizeof *t);
    if (!t) {
        if (free_params) free_params(params);
        return ct_error(CT_ERR_OOM, "%s: out of memory", name);
    }
    ct_object_init(&t->obj, &transform_type);
    t->name = name, t->fn = fn, t->params = params, t->free_params = free_params;
    return ct_scope_own(t);
}

ct_transform *ct_transform_new(const char *name, ct_transform_fn fn, void *user) {
    if (!ct_ok()) return NULL;
    if (!fn) return ct_error(CT_ERR_ARG, "ct_transform_new: fn is NULL");
    return ct__transform_make(name ? name : "Lambda", fn, user, NULL);
}

const char *ct_transform_name(const ct_transform *t) { return t ? t->name : ""; }

ct_tensor *ct_transform_apply(const ct_transform *t, const ct_tensor *x, uint64_t seed) {
    if (!t || !x) return ct_ok() ? ct_error(CT_ERR_NULL, "transform: %s is NULL", t ? "the input" : "the transform") : NULL;
    ct_tensor *y = t->fn(x, seed, t->params);
    if (!y && ct_ok()) ct_error(CT_ERR_STATE, "%s: the transform returned NULL without an error", t->name);
    return y;
}

/* ---- Compose ---------------------------------------------------------------------------------- */

typedef struct compose_params {
    int n;
    ct_transform *items[]; /* retained */
} compose_params;

static ct_tensor *compose_apply(const ct_tensor *x, uint64_t seed, void *params) {
    compose_params *p = params;
    ct_tensor *y = (ct_tensor *)x;
    for (int k = 0; y && k < p->n; k++) y = ct_transform_apply(p->items[k], y, ct__seed_child(seed, (uint64_t)k));
    return y == x ? ct_alias(x) : y;
}

static void compose_free(void *params) {
    compose_params *p = params;
    for (int k = 0; k < p->n; k++) ct_release(p->items[k]);
    free(p);
}

ct_transform *ct_compose_list(ct_transform *const *items, int n) {
    if (!ct_ok()) return NULL;
    if (n < 0 || (n > 0 && !items)) return ct_error(CT_ERR_ARG, "Compose: %d transforms at %p", n, (void *)items);
    for (int k = 0; k < n; k++)
        if (!items[k]) return ct_error(CT_ERR_NULL, "Compose: transform %d is NULL", k);
    compose_params *p = malloc(sizeof *p + (size_t)n * sizeof(ct_transform *));
    if (!p) return ct_error(CT_ERR_OOM, "Compose: out of memory");
    p->n = n;
    for (int k = 0; k < n; k++) p->items[k] = ct_retain(items[k]);
    return ct__transform_make("Compose", compose_apply, p, compose_free);
}

/* ---- the transformed view of a dataset ------------------------------------------------------- */

typedef struct transformed_ds {
    ct_dataset *base;
    char *field;
    ct_transform *transform; /* retained */
} transformed_ds;

static int64_t transformed_len(void *state) { return ct_dataset_len(((transformed_ds *)state)->base); }

static bool transformed_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    transformed_ds *s = state;
    if (!ct_dataset_get_seeded(s->base, i, ct__seed_child(seed, 0), out)) return false;
    for (int k = 0; k < out->n; k++) {
        if (!out->names[k] || strcmp(out->names[k], s->field)) continue;
        ct_tensor *y = ct_transform_apply(s->transform, out->fields[k], ct__seed_child(seed, 1));
        if (!y) return false;
        out->fields[k] = y;
        out->x = out->fields[0];
        out->y = out->n > 1 ? out->fields[1] : NULL;
        return true;
    }
    char names[256] = "";
    for (int k = 0; k < out->n; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s'", k ? ", " : "",
                 out->names[k] ? out->names[k] : "");
    return ct_error(CT_ERR_ARG, "transformed: %s's samples have no field '%s' (fields: %s)", ct_dataset_name(s->base),
                    s->field, names), false;
}

static void transformed_destroy(void *state) {
    transformed_ds *s = state;
    ct_dataset_free(s->base);
    ct_release(s->transform);
    free(s->field);
    free(s);
}

static const ct_dataset_vtable transformed_vtable = {"TransformedDataset", transformed_len, transformed_get,
                                                     transformed_destroy};

ct_dataset *ct_transformed(ct_dataset *ds, const char *field, ct_transform *t) {
    if (!ct_ok()) return NULL;
    if (!ds || !field || !t) return ct_error(CT_ERR_NULL, "transformed: the dataset, field and transform must not be NULL");
    transformed_ds *s = calloc(1, sizeof *s);
    if (!s || !(s->field = strdup(field))) return free(s), ct_error(CT_ERR_OOM, "transformed: out of memory");
    s->base = ct_dataset_retain(ds);
    s->transform = ct_retain(t);
    return ct_dataset_new(&transformed_vtable, s);
}
