/* Datasets built from other datasets or tensors (torch.utils.data.dataset): TensorDataset,
 * Subset, ConcatDataset, random_split. Their state is read-only after construction, so get is
 * thread-safe whenever the parts' get is. */
#include "data_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- TensorDataset -------------------------------------------------------------------------- */

typedef struct tensor_ds {
    int n;
    ct_tensor *tensors[CT_SAMPLE_MAX_FIELDS]; /* retained */
    char *names[CT_SAMPLE_MAX_FIELDS];
} tensor_ds;

static int64_t tensor_ds_len(void *state) { return ct_size(((tensor_ds *)state)->tensors[0], 0); }

static bool tensor_ds_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    tensor_ds *s = state;
    for (int k = 0; k < s->n; k++)
        if (!ct_sample_add(out, s->names[k], ct_select(s->tensors[k], 0, i))) return false;
    return true;
}

static void tensor_ds_destroy(void *state) {
    tensor_ds *s = state;
    for (int k = 0; k < s->n; k++) ct_release(s->tensors[k]), free(s->names[k]);
    free(s);
}

static const ct_dataset_vtable tensor_ds_vtable = {"TensorDataset", tensor_ds_len, tensor_ds_get, tensor_ds_destroy};

ct_dataset *ct_tensor_dataset_named(ct_tensor_list tensors, ct_names names) {
    if (!ct_ok()) return NULL;
    if (tensors.n < 1 || tensors.n > CT_SAMPLE_MAX_FIELDS)
        return ct_error(CT_ERR_ARG, "TensorDataset: needs 1 to %d tensors, got %d", CT_SAMPLE_MAX_FIELDS, tensors.n);
    if (names.n && names.n != tensors.n)
        return ct_error(CT_ERR_ARG, "TensorDataset: %d names for %d tensors", names.n, tensors.n);
    for (int k = 0; k < tensors.n; k++) {
        const ct_tensor *t = tensors.items[k];
        if (!t) return ct_error(CT_ERR_NULL, "TensorDataset: tensor %d is NULL", k);
        if (ct_ndim(t) < 1) return ct_error(CT_ERR_SHAPE, "TensorDataset: tensor %d is 0-d: it has no rows", k);
        if (ct_size(t, 0) != ct_size(tensors.items[0], 0))
            return ct_error(CT_ERR_SHAPE,
                            "TensorDataset: size mismatch between tensors: tensor 0 has %" PRId64
                            " rows but tensor %d has %" PRId64,
                            ct_size(tensors.items[0], 0), k, ct_size(t, 0));
        if (names.n && !names.items[k]) return ct_error(CT_ERR_ARG, "TensorDataset: name %d is NULL", k);
    }
    tensor_ds *s = calloc(1, sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "TensorDataset: out of memory");
    static const char *const positional[CT_SAMPLE_MAX_FIELDS] = {"x", "y", "field2", "field3",
                                                                 "field4", "field5", "field6", "field7"};
    for (int k = 0; k < tensors.n; k++) {
        s->names[k] = strdup(names.n ? names.items[k] : positional[k]);
        if (!s->names[k]) return tensor_ds_destroy(s), ct_error(CT_ERR_OOM, "TensorDataset: out of memory");
        s->tensors[k] = ct_retain(tensors.items[k]);
        s->n = k + 1;
    }
    return ct_dataset_new(&tensor_ds_vtable, s);
}

/* ---- Subset --------------------------------------------------------------------------------- */

typedef struct subset_ds {
    ct_dataset *base;
    int64_t n;
    int64_t indices[]; /* normalized to 0..len(base)-1 */
} subset_ds;

static int64_t subset_len(void *state) { return ((subset_ds *)state)->n; }

static bool subset_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    subset_ds *s = state;
    return ct_dataset_get_seeded(s->base, s->indices[i], seed, out);
}

static void subset_destroy(void *state) {
    subset_ds *s = state;
    ct_dataset_free(s->base);
    free(s);
}

static const ct_dataset_vtable subset_vtable = {"Subset", subset_len, subset_get, subset_destroy};

ct_dataset *ct_subset(ct_dataset *ds, const int64_t *indices, int64_t n) {
    if (!ct_ok()) return NULL;
    if (!ds) return ct_error(CT_ERR_NULL, "Subset: dataset is NULL");
    if (n < 0 || (n > 0 && !indices)) return ct_error(CT_ERR_ARG, "Subset: %" PRId64 " indices at %p", n, (void *)indices);
    int64_t len = ct_dataset_len(ds);
    subset_ds *s = malloc(sizeof *s + (size_t)n * sizeof(int64_t));
    if (!s) return ct_error(CT_ERR_OOM, "Subset: out of memory for %" PRId64 " indices", n);
    for (int64_t j = 0; j < n; j++) {
        int64_t i = indices[j] < 0 ? indices[j] + len : indices[j];
        if (i < 0 || i >= len) {
            free(s);
            return ct_error(CT_ERR_INDEX, "Subset: index %" PRId64 " (at position %" PRId64
                            ") is out of range for %s of length %" PRId64, indices[j], j, ct_dataset_name(ds), len);
        }
        s->indices[j] = i;
    }
    s->n = n;
    s->base = ct_dataset_retain(ds);
    return ct_dataset_new(&subset_vtable, s);
}

/* ---- ConcatDataset -------------------------------------------------------------------------- */

typedef struct concat_ds {
    int n;
    ct_dataset **parts;
    int64_t *ends; /* cumulative sizes: part k holds [ends[k-1], ends[k]) */
} concat_ds;

static int64_t concat_len(void *state) {
    concat_ds *s = state;
    return s->ends[s->n - 1];
}

static bool concat_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    concat_ds *s = state;
    int lo = 0, hi = s->n - 1; /* the first part whose end is past i (bisect_right, as PyTorch) */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->ends[mid] > i) hi = mid;
        else lo = mid + 1;
    }
    return ct_dataset_get_seeded(s->parts[lo], i - (lo ? s->ends[lo - 1] : 0), seed, out);
}

static void concat_destroy(void *state) {
    concat_ds *s = state;
    for (int k = 0; k < s->n; k++) ct_dataset_free(s->parts[k]);
    free(s->parts);
    free(s->ends);
    free(s);
}

static const ct_dataset_vtable concat_vtable = {"ConcatDataset", concat_len, concat_get, concat_destroy};

ct_dataset *ct_concat_dataset_list(ct_dataset *const *parts, int n) {
    if (!ct_ok()) return NULL;
    if (n < 1 || !parts) return ct_error(CT_ERR_ARG, "ConcatDataset: datasets should not be an empty iterable");
    for (int k = 0; k < n; k++)
        if (!parts[k]) return ct_error(CT_ERR_NULL, "ConcatDataset: dataset %d is NULL", k);
    concat_ds *s = calloc(1, sizeof *s);
    if (s) s->parts = calloc((size_t)n, sizeof *s->parts), s->ends = calloc((size_t)n, sizeof *s->ends);
    if (!s || !s->parts || !s->ends) {
        if (s) free(s->parts), free(s->ends);
        free(s);
        return ct_error(CT_ERR_OOM, "ConcatDataset: out of memory");
    }
    for (int k = 0; k < n; k++) {
        s->parts[k] = ct_dataset_retain(parts[k]);
        s->ends[k] = (k ? s->ends[k - 1] : 0) + ct_dataset_len(parts[k]);
    }
    s->n = n;
    return ct_dataset_new(&concat_vtable, s);
}

/* ---- random_split --------------------------------------------------------------------------- */

/* Split sizes from lengths, as torch.utils.data.random_split: fractions when they sum to 1
 * (math.isclose, rel_tol 1e-9) and not above it, counts otherwise. */
static bool split_sizes(const double *lengths, int n, int64_t len, int64_t *sizes) {
    double sum = 0;
    for (int k = 0; k < n; k++) sum += lengths[k];
    if (fabs(sum - 1.0) <= 1e-9 * fmax(fabs(sum), 1.0) && sum <= 1.0) {
        int64_t used = 0;
        for (int k = 0; k < n; k++) {
            if (!(lengths[k] >= 0 && lengths[k] <= 1))
                return ct_error(CT_ERR_ARG, "random_split: Fraction at index %d is not between 0 and 1", k), false;
            sizes[k] = (int64_t)floor((double)len * lengths[k]);
            used += sizes[k];
        }
        for (int64_t r = 0; r < len - used; r++) sizes[r % n]++; /* round-robin remainder */
        return true;
    }
    int64_t total = 0;
    for (int k = 0; k < n; k++) {
        if (!(lengths[k] >= 0) || lengths[k] != floor(lengths[k]))
            return ct_error(CT_ERR_ARG, "random_split: length %g at index %d is neither a count nor a fraction "
                            "of fractions summing to 1", lengths[k], k), false;
        sizes[k] = (int64_t)lengths[k];
        total += sizes[k];
    }
    if (total != len)
        return ct_error(CT_ERR_ARG, "random_split: Sum of input lengths (%" PRId64
                        ") does not equal the length of the input dataset (%" PRId64 ")!", total, len), false;
    return true;
}

bool ct_random_split(ct_dataset *ds, const double *lengths, int n, uint64_t seed, ct_dataset **out) {
    if (out)
        for (int k = 0; k < n; k++) out[k] = NULL;
    if (!ct_ok()) return false;
    if (!ds || !lengths || !out || n < 1)
        return ct_error(CT_ERR_ARG, "random_split: needs a dataset, at least one length and an output array"), false;
    int64_t len = ct_dataset_len(ds);
    int64_t *sizes = malloc((size_t)n * sizeof *sizes), *perm = malloc((size_t)(len ? len : 1) * sizeof *perm);
    bool ok = sizes && perm;
    if (!ok) ct_error(CT_ERR_OOM, "random_split: out of memory");
    ok = ok && split_sizes(lengths, n, len, sizes);
    if (ok) {
        /* Fisher-Yates over Philox draws: swap step j draws the j-th integer of the seed. */
        for (int64_t i = 0; i < len; i++) perm[i] = i;
        for (int64_t i = len - 1; i > 0; i--) {
            int64_t j = ct__seed_below(seed, (uint64_t)i, i + 1), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        int64_t off = 0;
        for (int k = 0; ok && k < n; off += sizes[k], k++) ok = (out[k] = ct_subset(ds, perm + off, sizes[k])) != NULL;
        if (!ok)
            for (int k = 0; k < n; k++) ct_dataset_free(out[k]), out[k] = NULL;
    }
    free(sizes);
    free(perm);
    return ok;
}
