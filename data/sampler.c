/* Samplers (torch.utils.data.sampler): a reference-counted handle over a vtable that writes one
 * epoch of dataset indices at a time, and the library's samplers: sequential, random, weighted
 * random, subset random, batch and distributed. The random ones draw from a private Philox
 * generator (ct_set_thread_generator), seeded either once by the user (PyTorch's generator
 * argument: its state then advances from epoch to epoch) or per epoch from the default generator
 * (PyTorch's generator=None draws a fresh int64 seed from the global generator each epoch). */
#include "ctorch/data.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ct_sampler {
    atomic_int_fast64_t refcount;
    const ct_sampler_vtable *vtable;
    void *state;
    int64_t batch_size; /* > 0 for a batch sampler: len() counts batches */
    bool drop_last;
};

/* A BatchSampler's state (its set_epoch goes to the sampler it groups). */
typedef struct batch_state {
    ct_sampler *inner;
    int64_t batch_size;
    bool drop_last;
} batch_state;

ct_sampler *ct_sampler_new(const ct_sampler_vtable *vtable, void *state) {
    if (!vtable || !vtable->len || !vtable->indices) {
        if (vtable && vtable->destroy) vtable->destroy(state);
        return ct_error(CT_ERR_ARG, "ct_sampler_new: the vtable needs len and indices");
    }
    ct_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        if (vtable->destroy) vtable->destroy(state);
        return ct_error(CT_ERR_OOM, "ct_sampler_new: out of memory");
    }
    atomic_init(&s->refcount, 1);
    s->vtable = vtable;
    s->state = state;
    return s;
}

ct_sampler *ct_sampler_retain(ct_sampler *s) {
    if (s) atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed);
    return s;
}

void ct_sampler_free(ct_sampler *s) {
    if (!s || atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1) return;
    if (s->vtable->destroy) s->vtable->destroy(s->state);
    free(s);
}

const char *ct_sampler_name(const ct_sampler *s) { return s && s->vtable->name ? s->vtable->name : "Sampler"; }

int64_t ct_sampler_batch_size(const ct_sampler *s) { return s ? s->batch_size : 0; }

int64_t ct_sampler_len(const ct_sampler *s) {
    if (!s) return 0;
    int64_t n = s->vtable->len(s->state);
    return s->batch_size > 0 ? (n + s->batch_size - 1) / s->batch_size : n; /* drop_last already cut n */
}

ct_tensor *ct_sampler_indices(ct_sampler *s) {
    if (!s) return ct_error(CT_ERR_NULL, "ct_sampler_indices: sampler is NULL");
    if (!ct_ok()) return NULL;
    int64_t n = s->vtable->len(s->state);
    ct_tensor *t = ct_empty(CT_SHAPE(n), .dtype = CT_I64);
    if (!t) return NULL;
    if (!s->vtable->indices(s->state, ct_data_ptr(t))) {
        if (ct_ok()) ct_error(CT_ERR_STATE, "%s: drawing the epoch's indices failed", ct_sampler_name(s));
        return NULL;
    }
    return t;
}

bool ct_sampler_set_epoch(ct_sampler *s, int64_t epoch) {
    if (!s) return ct_error(CT_ERR_NULL, "ct_sampler_set_epoch: sampler is NULL"), false;
    if (s->batch_size > 0) return ct_sampler_set_epoch(((batch_state *)s->state)->inner, epoch);
    if (!s->vtable->set_epoch)
        return ct_error(CT_ERR_STATE, "%s has no set_epoch (only DistributedSampler reshuffles by epoch)",
                        ct_sampler_name(s)),
               false;
    s->vtable->set_epoch(s->state, epoch);
    return true;
}

/* ---- the private generator of shuffling samplers ---------------------------------------------- */

typedef struct shuffle_gen {
    bool seeded;     /* the user's seed: gen persists across epochs */
    ct_rng_state gen;
} shuffle_gen;

static shuffle_gen shuffle_gen_make(uint64_t seed) { return (shuffle_gen){seed != 0, {seed, 0}}; }

/* Starts an epoch: a generator from the default one's next draw unless seeded by the user. */
static bool shuffle_gen_epoch(shuffle_gen *g) {
    if (g->seeded) return true;
    bool ok = false;
    CT_SCOPE {
        ct_tensor *r = ct_randint(0, INT64_MAX, CT_SHAPE());
        if (!r) break;
        g->gen = (ct_rng_state){(uint64_t)*(int64_t *)ct_data_ptr(r), 0};
        ok = true;
    }
    return ok;
}

/* Copies an int64 tensor's n values (from offset) into out, or fails with the pending error. */
static bool take(const ct_tensor *t, int64_t offset, int64_t n, int64_t *out) {
    if (!t) return false;
    memcpy(out, (const int64_t *)ct_data_ptr(t) + offset, (size_t)n * sizeof *out);
    return true;
}

/* out[0..k) = the first k values of a fresh permutation of 0..n-1 from the current generator. */
static bool permutation(int64_t n, int64_t k, int64_t *out) {
    bool ok = true;
    CT_SCOPE ok = take(ct_randperm(n), 0, k, out);
    return ok;
}

/* ---- sequential ---------------------------------------------------------------------------------- */

static int64_t sequential_len(void *state) { return *(int64_t *)state; }

static bool sequential_indices(void *state, int64_t *out) {
    for (int64_t i = 0, n = *(int64_t *)state; i < n; i++) out[i] = i;
    return true;
}

static const ct_sampler_vtable sequential_vtable = {"SequentialSampler", sequential_len, sequential_indices, NULL, free};

static bool check_len(const char *who, int64_t n) {
    if (n >= 0) return true;
    ct_error(CT_ERR_ARG, "%s: the dataset length must be non-negative, but got %" PRId64, who, n);
    return false;
}

ct_sampler *ct_sequential_sampler(int64_t n) {
    if (!check_len("SequentialSampler", n)) return NULL;
    int64_t *state = malloc(sizeof *state);
    if (!state) return ct_error(CT_ERR_OOM, "SequentialSampler: out of memory");
    *state = n;
    return ct_sampler_new(&sequential_vtable, state);
}

/* ---- random ---------------------------------------------------------------------------------------- */

typedef struct random_state {
    int64_t n, num_samples;
    bool replacement;
    shuffle_gen g;
} random_state;

static int64_t random_len(void *state) { return ((random_state *)state)->num_samples; }

static bool random_indices(void *state, int64_t *out) {
    random_state *r = state;
    if (!shuffle_gen_epoch(&r->g)) return false;
    ct_rng_state *previous = ct_set_thread_generator(&r->g.gen);
    bool ok = true;
    if (r->replacement) {
        CT_SCOPE ok = take(ct_randint(0, r->n, CT_SHAPE(r->num_samples)), 0, r->num_samples, out);
    } else { /* whole permutations, then the start of one more (RandomSampler.__iter__) */
        for (int64_t done = 0; ok && done < r->num_samples; done += r->n) {
            int64_t k = r->num_samples - done < r->n ? r->num_samples - done : r->n;
            ok = permutation(r->n, k, out + done);
        }
    }
    ct_set_thread_generator(previous);
    return ok;
}

static const ct_sampler_vtable random_vtable = {"RandomSampler", random_len, random_indices, NULL, free};

ct_sampler *ct_random_sampler_opt(int64_t n, ct_random_sampler_opts opts) {
    if (!check_len("RandomSampler", n)) return NULL;
    int64_t num_samples = opts.num_samples ? opts.num_samples : n;
    if (num_samples <= 0)
        return ct_error(CT_ERR_ARG, "RandomSampler: num_samples should be a positive integer value, but got num_samples=%" PRId64,
                        num_samples);
    random_state *r = malloc(sizeof *r);
    if (!r) return ct_error(CT_ERR_OOM, "RandomSampler: out of memory");
    *r = (random_state){n, num_samples, opts.replacement, shuffle_gen_make(opts.seed)};
    return ct_sampler_new(&random_vtable, r);
}

/* ---- weighted random --------------------------------------------------------------------------------- */

typedef struct weighted_state {
    ct_tensor *weights; /* float64 [n], retained */
    int64_t num_samples;
    bool replacement;
    shuffle_gen g;
} weighted_state;

static int64_t weighted_len(void *state) { return ((weighted_state *)state)->num_samples; }

static bool weighted_indices(void *state, int64_t *out) {
    weighted_state *w = state;
    if (!shuffle_gen_epoch(&w->g)) return false;
    ct_rng_state *previous = ct_set_thread_generator(&w->g.gen);
    bool ok = true;
    CT_SCOPE ok = take(ct_multinomial(w->weights, w->num_samples, w->replacement), 0, w->num_samples, out);
    ct_set_thread_generator(previous);
    return ok;
}

static void weighted_destroy(void *state) {
    ct_release(((weighted_state *)state)->weights);
    free(state);
}

static const ct_sampler_vtable weighted_vtable = {"WeightedRandomSampler", weighted_len, weighted_indices, NULL,
                                                  weighted_destroy};

ct_sampler *ct_weighted_random_sampler_opt(const ct_tensor *weights, int64_t num_samples, ct_weighted_sampler_opts opts) {
    const char *who = "WeightedRandomSampler";
    if (!weights) return ct_error(CT_ERR_NULL, "%s: weights is NULL", who);
    if (num_samples <= 0)
        return ct_error(CT_ERR_ARG, "%s: num_samples should be a positive integer value, but got num_samples=%" PRId64, who,
                        num_samples);
    if (ct_ndim(weights) != 1)
        return ct_error(CT_ERR_SHAPE, "%s: weights should be a 1d sequence but given weights have %d dims", who,
                        ct_ndim(weights));
    ct_tensor *w = NULL;
    CT_SCOPE {
        ct_tensor *d = ct_contiguous(ct_to_dtype(weights, CT_F64));
        /* One trial draw from a throwaway generator runs multinomial's own checks (negative, inf or
         * nan weights, a zero sum, too many samples without replacement) now, not at the first epoch,
         * without touching the default generator. */
        ct_rng_state trial = {0, 0};
        ct_rng_state *previous = ct_set_thread_generator(&trial);
        bool valid = d && ct_multinomial(d, num_samples, opts.replacement);
        ct_set_thread_generator(previous);
        if (valid) w = ct_retain(d);
    }
    if (!w) return NULL;
    weighted_state *s = malloc(sizeof *s);
    if (!s) {
        ct_release(w);
        return ct_error(CT_ERR_OOM, "%s: out of memory", who);
    }
    *s = (weighted_state){w, num_samples, opts.replacement, shuffle_gen_make(opts.seed)};
    return ct_sampler_new(&weighted_vtable, s);
}

/* ---- subset random ------------------------------------------------------------------------------------- */

typedef struct subset_state {
    int64_t n;
    shuffle_gen g;
    int64_t indices[];
} subset_state;

static int64_t subset_len(void *state) { return ((subset_state *)state)->n; }

static bool subset_indices(void *state, int64_t *out) {
    subset_state *s = state;
    if (!shuffle_gen_epoch(&s->g)) return false;
    ct_rng_state *previous = ct_set_thread_generator(&s->g.gen);
    bool ok = permutation(s->n, s->n, out);
    ct_set_thread_generator(previous);
    for (int64_t i = 0; ok && i < s->n; i++) out[i] = s->indices[out[i]];
    return ok;
}

static const ct_sampler_vtable subset_vtable = {"SubsetRandomSampler", subset_len, subset_indices, NULL, free};

ct_sampler *ct_subset_random_sampler_opt(const ct_tensor *indices, ct_subset_sampler_opts opts) {
    const char *who = "SubsetRandomSampler";
    if (!indices) return ct_error(CT_ERR_NULL, "%s: indices is NULL", who);
    if (ct_ndim(indices) != 1 || !ct_dtype_is_integral(ct_dtype_of(indices)))
        return ct_error(CT_ERR_ARG, "%s: indices must be a 1-D integer tensor, but got %d dims of %s", who,
                        ct_ndim(indices), ct_dtype_name(ct_dtype_of(indices)));
    int64_t n = ct_numel(indices);
    subset_state *s = malloc(sizeof *s + (size_t)n * sizeof(int64_t));
    if (!s) return ct_error(CT_ERR_OOM, "%s: out of memory", who);
    s->n = n;
    s->g = shuffle_gen_make(opts.seed);
    bool ok = true;
    CT_SCOPE ok = take(ct_contiguous(ct_to_dtype(indices, CT_I64)), 0, n, s->indices);
    if (!ok) {
        free(s);
        return NULL;
    }
    return ct_sampler_new(&subset_vtable, s);
}

/* ---- batch ---------------------------------------------------------------------------------------------- */

/* The indices kept: all of the inner sampler's, or whole batches only with drop_last. */
static int64_t batch_len(void *state) {
    batch_state *b = state;
    int64_t n = b->inner->vtable->len(b->inner->state);
    return b->drop_last ? n / b->batch_size * b->batch_size : n;
}

static bool batch_indices(void *state, int64_t *out) {
    batch_state *b = state;
    int64_t n = b->inner->vtable->len(b->inner->state), kept = batch_len(state);
    if (kept == n) return b->inner->vtable->indices(b->inner->state, out);
    int64_t *all = malloc((size_t)n * sizeof *all);
    if (!all) return ct_error(CT_ERR_OOM, "BatchSampler: out of memory"), false;
    bool ok = b->inner->vtable->indices(b->inner->state, all);
    if (ok) memcpy(out, all, (size_t)kept * sizeof *out);
    free(all);
    return ok;
}

static void batch_destroy(void *state) {
    ct_sampler_free(((batch_state *)state)->inner);
    free(state);
}

static const ct_sampler_vtable batch_vtable = {"BatchSampler", batch_len, batch_indices, NULL, batch_destroy};

ct_sampler *ct_batch_sampler_opt(ct_sampler *sampler, int64_t batch_size, ct_batch_sampler_opts opts) {
    const char *who = "BatchSampler";
    if (!sampler) return ct_error(CT_ERR_NULL, "%s: sampler is NULL", who);
    if (sampler->batch_size > 0) return ct_error(CT_ERR_ARG, "%s: the sampler is already a BatchSampler", who);
    if (batch_size <= 0)
        return ct_error(CT_ERR_ARG, "%s: batch_size should be a positive integer value, but got batch_size=%" PRId64, who,
                        batch_size);
    batch_state *b = malloc(sizeof *b);
    if (!b) return ct_error(CT_ERR_OOM, "%s: out of memory", who);
    *b = (batch_state){ct_sampler_retain(sampler), batch_size, opts.drop_last};
    ct_sampler *s = ct_sampler_new(&batch_vtable, b);
    if (s) s->batch_size = batch_size, s->drop_last = opts.drop_last;
    return s;
}

/* ---- distributed ------------------------------------------------------------------------------------------ */

typedef struct distributed_state {
    int64_t n, num_replicas, rank, epoch;
    int64_t num_samples, total_size; /* per replica, and over all replicas */
    bool shuffle, drop_last;
    uint64_t seed;
} distributed_state;

static int64_t distributed_len(void *state) { return ((distributed_state *)state)->num_samples; }

static bool distributed_indices(void *state, int64_t *out) {
    distributed_state *d = state;
    int64_t *all = malloc((size_t)(1 + (d->n > d->total_size ? d->n : d->total_size)) * sizeof *all);
    if (!all) return ct_error(CT_ERR_OOM, "DistributedSampler: out of memory"), false;
    bool ok = true;
    if (d->shuffle) { /* g = torch.Generator(); g.manual_seed(seed + epoch); randperm(n, generator=g) */
        ct_rng_state g = {d->seed + (uint64_t)d->epoch, 0};
        ct_rng_state *previous = ct_set_thread_generator(&g);
        ok = permutation(d->n, d->n, all);
        ct_set_thread_generator(previous);
    } else {
        for (int64_t i = 0; i < d->n; i++) all[i] = i;
    }
    /* Without drop_last, pad to total_size by repeating the list from its start (several times over
     * when the padding is longer than the list); with drop_last, total_size <= n truncates. */
    for (int64_t i = d->n; ok && i < d->total_size; i++) all[i] = all[(i - d->n) % d->n];
    for (int64_t i = 0; ok && i < d->num_samples; i++) out[i] = all[d->rank + i * d->num_replicas];
    free(all);
    return ok;
}

static void distributed_set_epoch(void *state, int64_t epoch) { ((distributed_state *)state)->epoch = epoch; }

static const ct_sampler_vtable distributed_vtable = {"DistributedSampler", distributed_len, distributed_indices,
                                                     distributed_set_epoch, free};

ct_sampler *ct_distributed_sampler_opt(int64_t n, int64_t num_replicas, int64_t rank, ct_distributed_sampler_opts opts) {
    const char *who = "DistributedSampler";
    if (!check_len(who, n)) return NULL;
    if (num_replicas <= 0)
        return ct_error(CT_ERR_ARG, "%s: num_replicas should be a positive integer, but got num_replicas=%" PRId64, who,
                        num_replicas);
    if (rank < 0 || rank >= num_replicas)
        return ct_error(CT_ERR_ARG, "%s: Invalid rank %" PRId64 ", rank should be in the interval [0, %" PRId64 "]", who,
                        rank, num_replicas - 1);
    distributed_state *d = malloc(sizeof *d);
    if (!d) return ct_error(CT_ERR_OOM, "%s: out of memory", who);
    /* PyTorch's ceil((n - R) / R) with drop_last and a remainder, which is floor(n / R) (drop the
     * tail), else ceil(n / R) (pad). */
    int64_t num_samples = opts.drop_last && n % num_replicas != 0 ? n / num_replicas
                                                                  : (n + num_replicas - 1) / num_replicas;
    *d = (distributed_state){n, num_replicas, rank, 0, num_samples, num_samples * num_replicas, opts.shuffle,
                             opts.drop_last, opts.seed};
    return ct_sampler_new(&distributed_vtable, d);
}
