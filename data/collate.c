/* default_collate: stacks each named field of n samples along a new leading dim. The common case
 * (CPU, contiguous, one dtype: what datasets return) allocates the batch tensor once and copies
 * each sample's bytes straight into its row, so a batch costs one allocation per field and no
 * per-sample temporaries; anything else goes through ct_stack, which promotes dtypes and reads any
 * layout or device. */
#include "ctorch/data.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "[3, 28, 28]" into buf. */
static const char *shape_str(ct_shape s, char *buf, size_t size) {
    size_t at = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < s.ndim && at < size; d++)
        at += (size_t)snprintf(buf + at, size - at, d ? ", %" PRId64 : "%" PRId64, s.d[d]);
    if (at < size) snprintf(buf + at, size - at, "]");
    return buf;
}

static bool same_shape(ct_shape a, ct_shape b) {
    return a.ndim == b.ndim && !memcmp(a.d, b.d, (size_t)a.ndim * sizeof a.d[0]);
}

static bool same_name(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Checks that every sample has field f with sample 0's name and shape. */
static bool check_field(const ct_sample *samples, int64_t n, int f) {
    const char *name = samples[0].names[f] ? samples[0].names[f] : "";
    ct_shape want = ct_shape_of(samples[0].fields[f]);
    for (int64_t k = 0; k < n; k++) {
        const ct_sample *s = &samples[k];
        if (s->n != samples[0].n || !same_name(s->names[f], samples[0].names[f]))
            return ct_error(CT_ERR_ARG, "default_collate: sample %" PRId64 " has fields that differ from sample 0's (field %d is '%s' in sample 0)",
                            k, f, name),
                   false;
        if (!s->fields[f])
            return ct_error(CT_ERR_NULL, "default_collate: field '%s' of sample %" PRId64 " is NULL", name, k), false;
        ct_shape got = ct_shape_of(s->fields[f]);
        if (!same_shape(got, want)) {
            char a[160], b[160];
            return ct_error(CT_ERR_SHAPE, "default_collate: field '%s': stack expects each tensor to be equal size, but got %s at sample 0 and %s at sample %" PRId64,
                            name, shape_str(want, a, sizeof a), shape_str(got, b, sizeof b), k),
                   false;
        }
    }
    return true;
}

/* True when field f of every sample is a contiguous CPU tensor of sample 0's dtype. */
static bool copyable(const ct_sample *samples, int64_t n, int f) {
    ct_dtype dtype = ct_dtype_of(samples[0].fields[f]);
    for (int64_t k = 0; k < n; k++) {
        const ct_tensor *t = samples[k].fields[f];
        if (ct_dtype_of(t) != dtype || ct_device_of(t).type != CT_DEVICE_CPU || !ct_is_contiguous(t)) return false;
    }
    return true;
}

static ct_tensor *stack_field(const ct_sample *samples, int64_t n, int f) {
    const ct_tensor *first = samples[0].fields[f];
    ct_shape shape = ct_shape_of(first);
    if (copyable(samples, n, f)) {
        ct_shape batch = {.ndim = shape.ndim + 1, .d = {n}};
        memcpy(&batch.d[1], shape.d, (size_t)shape.ndim * sizeof shape.d[0]);
        ct_tensor *out = ct_empty(batch, .dtype = ct_dtype_of(first));
        if (!out) return NULL;
        size_t row = (size_t)ct_numel(first) * ct_dtype_size(ct_dtype_of(first));
        char *dst = ct_data_ptr(out);
        for (int64_t k = 0; k < n; k++) memcpy(dst + (size_t)k * row, ct_data_ptr(samples[k].fields[f]), row);
        return out;
    }
    ct_tensor **items = malloc((size_t)n * sizeof *items);
    if (!items) return ct_error(CT_ERR_OOM, "default_collate: out of memory");
    for (int64_t k = 0; k < n; k++) items[k] = samples[k].fields[f];
    ct_tensor *out = ct_stack((ct_tensor_list){.n = (int)n, .items = items}, 0);
    free(items);
    return out;
}

bool ct_default_collate(const ct_sample *samples, int64_t n, ct_batch *out) {
    if (!out) return ct_error(CT_ERR_ARG, "default_collate: out is NULL"), false;
    memset(out, 0, sizeof *out);
    if (!samples || n <= 0) return ct_error(CT_ERR_ARG, "default_collate: expected at least one sample, got %" PRId64, n), false;
    if (!ct_ok()) return false;
    for (int f = 0; f < samples[0].n; f++) {
        if (!samples[0].fields[f])
            return ct_error(CT_ERR_NULL, "default_collate: field '%s' of sample 0 is NULL",
                            samples[0].names[f] ? samples[0].names[f] : ""),
                   false;
        if (!check_field(samples, n, f) || !ct_sample_add(out, samples[0].names[f], stack_field(samples, n, f))) {
            if (ct_ok()) ct_error(CT_ERR_STATE, "default_collate: stacking field '%s' failed", samples[0].names[f]);
            memset(out, 0, sizeof *out);
            return false;
        }
    }
    return true;
}
