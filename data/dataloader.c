/* The DataLoader: batches of a dataset in the order of a batch sampler, built on the calling thread
 * (num_workers 0) or by worker threads that prefetch ahead.
 *
 * Determinism. The main thread alone draws from the default generator (the epoch's base seed, then
 * the sampler's shuffle), and sample k of an epoch (k = its position in the sampler's order) is
 * read with seed sample_seed(base, epoch, k). Nothing a batch contains depends on which thread
 * built it, so batches are identical for any num_workers.
 *
 * Workers. Batch k of an epoch goes to worker k % W and into ring slot k % S, S = prefetch_factor
 * * W. S is a multiple of W, so each slot belongs to one worker, which fills its slots in batch
 * order and waits while its next slot still holds an unread batch: at most prefetch_factor
 * batches per worker are in flight. The main thread takes batch k from slot k % S when it is there,
 * so batches arrive in sampler order. A worker builds a batch inside its own scope and retains
 * the batch's tensors before closing it; the main thread releases them (reference counts are
 * atomic) when the caller asks for the next batch.
 *
 * Errors. A failing batch carries its error message through its slot and is reported in its turn,
 * prefixed with the worker's id. An error or a timeout abandons the epoch: the workers are told to
 * stop and are joined on the next call (or by ct_dataloader_free), so the caller never waits for a
 * slow sample it has given up on. */
#include "ctorch/cuda.h"
#include "ctorch/data.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGE_MAX 1024

typedef struct slot {
    int64_t batch; /* the batch it holds, -1 when free */
    bool ok;
    int worker;
    ct_batch b; /* references owned by the slot */
    ct_status status;
    char message[MESSAGE_MAX];
} slot;

typedef struct worker {
    struct ct_dataloader *dl;
    int id;
} worker;

struct ct_dataloader {
    ct_dataset *ds;
    ct_sampler *batches; /* a batch sampler: the given one, or one over the given/default sampler */
    ct_dataloader_opts opts;
    bool pin;

    /* The epoch. Written by the main thread only while no worker can read it (before the epoch
     * is posted, or after the workers are joined or have built every batch of it). */
    bool in_epoch;
    int64_t epoch;         /* epochs started, the current one included */
    ct_tensor *indices;    /* retained: the batch sampler's indices for this epoch */
    int64_t n_indices, n_batches, batch_size;
    uint64_t base_seed;
    int64_t next;          /* the batch the caller gets next */
    ct_batch current;      /* references to the batch last returned */
    ct_sample *samples;    /* num_workers 0: the samples of one batch */

    /* Workers, guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t work;   /* workers wait: a new epoch, a freed slot, stop */
    pthread_cond_t filled; /* the main thread waits: a slot filled */
    uint64_t generation;   /* bumped per epoch posted to the workers */
    bool stop;
    int running;           /* threads started and not yet joined */
    pthread_t *threads;
    worker *workers;
    slot *slots;
    int n_slots;
};

/* ---- building one batch (any thread) ------------------------------------------------------------ */

/* SplitMix64's finalizer: a bijection whose output bits each depend on every input bit. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t sample_seed(uint64_t base, int64_t epoch, int64_t position) {
    return mix64(mix64(base + 0x9e3779b97f4a7c15ull * (uint64_t)(epoch + 1)) ^ (uint64_t)position);
}

static void batch_release(ct_batch *b) {
    for (int f = 0; f < b->n; f++) ct_release(b->fields[f]);
    memset(b, 0, sizeof *b);
}

/* Batch k of the current epoch into *out with references the caller owns; samples holds room for
 * batch_size samples. On failure the error is pending on the calling thread. */
static bool build_batch(ct_dataloader *dl, int64_t k, ct_sample *samples, ct_batch *out) {
    memset(out, 0, sizeof *out);
    const int64_t *indices = ct_data_ptr(dl->indices);
    int64_t start = k * dl->batch_size, len = dl->n_indices - start < dl->batch_size ? dl->n_indices - start : dl->batch_size;
    bool ok = true;
    CT_SCOPE {
        for (int64_t j = 0; j < len && ok; j++)
            ok = ct_dataset_get_seeded(dl->ds, indices[start + j], sample_seed(dl->base_seed, dl->epoch, start + j), &samples[j]);
        ct_batch b = {0};
        if (ok) ok = dl->opts.collate ? dl->opts.collate(samples, len, &b, dl->opts.user) : ct_default_collate(samples, len, &b);
        if (!ok) {
            if (ct_ok()) ct_error(CT_ERR_STATE, "the collate callback failed on batch %" PRId64, k);
            break;
        }
        for (int f = 0; f < b.n && ok; f++) {
            if (!b.fields[f]) {
                ct_error(CT_ERR_NULL, "collate returned a NULL field '%s'", b.names[f] ? b.names[f] : "");
                ok = false;
            } else if (dl->pin) {
                ok = (b.fields[f] = ct_pin_memory(b.fields[f])) != NULL;
            }
        }
        for (int f = 0; f < b.n && ok; f++) ct_sample_add(out, b.names[f], ct_retain(b.fields[f]));
    }
    return ok;
}

/* ---- workers ----------------------------------------------------------------------------------- */

/* Moves batch k (or, when status is not CT_OK, its error) into slot s; called with the lock held. */
static void fill_slot(slot *s, int64_t k, int worker_id, ct_batch *b, ct_status status, const char *message) {
    s->batch = k;
    s->ok = status == CT_OK;
    s->worker = worker_id;
    s->b = *b;
    s->status = status;
    snprintf(s->message, sizeof s->message, "%s", message);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    ct_dataloader *dl = w->dl;
    int n_workers = dl->opts.num_workers;
    ct_sample *samples = malloc((size_t)dl->batch_size * sizeof *samples);
    if (!samples) ct_error(CT_ERR_OOM, "out of memory for the samples of a batch");
    else if (dl->opts.worker_init && !dl->opts.worker_init(w->id, dl->opts.user) && ct_ok())
        ct_error(CT_ERR_STATE, "worker_init failed");
    /* A failed start fails every batch of this worker with its error. */
    ct_status init_status = ct_last_status();
    char init_message[MESSAGE_MAX];
    snprintf(init_message, sizeof init_message, "%s", ct_last_error());
    ct_clear_error();
    uint64_t generation = 0;
    int64_t k = 0;
    pthread_mutex_lock(&dl->lock);
    while (!dl->stop) {
        if (dl->generation != generation) generation = dl->generation, k = w->id;
        if (k >= dl->n_batches || dl->slots[k % dl->n_slots].batch != -1) {
            pthread_cond_wait(&dl->work, &dl->lock);
            continue;
        }
        pthread_mutex_unlock(&dl->lock);
        ct_batch b = {0};
        bool ok = init_status == CT_OK && build_batch(dl, k, samples, &b);
        pthread_mutex_lock(&dl->lock);
        if (dl->stop) {
            batch_release(&b);
            break;
        }
        slot *s = &dl->slots[k % dl->n_slots];
        if (ok) fill_slot(s, k, w->id, &b, CT_OK, "");
        else if (init_status != CT_OK) fill_slot(s, k, w->id, &b, init_status, init_message);
        else fill_slot(s, k, w->id, &b, ct_last_status(), ct_last_error());
        ct_clear_error();
        pthread_cond_broadcast(&dl->filled);
        k += n_workers;
    }
    pthread_mutex_unlock(&dl->lock);
    free(samples);
    ct_clear_error();
    return NULL;
}

/* Tells the workers to stop without waiting for them. */
static void signal_stop(ct_dataloader *dl) {
    pthread_mutex_lock(&dl->lock);
    dl->stop = true;
    pthread_cond_broadcast(&dl->work);
    pthread_mutex_unlock(&dl->lock);
}

/* Stops and joins the workers and empties the slots. */
static void join_workers(ct_dataloader *dl) {
    if (!dl->running) return;
    signal_stop(dl);
    for (int i = 0; i < dl->running; i++) pthread_join(dl->threads[i], NULL);
    dl->running = 0;
    dl->stop = false;
    for (int i = 0; i < dl->n_slots; i++) {
        batch_release(&dl->slots[i].b);
        dl->slots[i].batch = -1;
    }
}

static bool start_workers(ct_dataloader *dl) {
    for (int i = dl->running; i < dl->opts.num_workers; i++) {
        dl->workers[i] = (worker){dl, i};
        int rc = pthread_create(&dl->threads[i], NULL, worker_main, &dl->workers[i]);
        if (rc) {
            join_workers(dl);
            return ct_error(CT_ERR_STATE, "DataLoader: could not start worker %d: %s", i, strerror(rc)), false;
        }
        dl->running = i + 1;
    }
    return true;
}

/* ---- epochs (main thread) ------------------------------------------------------------------------- */

static bool start_epoch(ct_dataloader *dl) {
    uint64_t base = dl->opts.seed;
    ct_tensor *indices = NULL;
    CT_SCOPE {
        if (!base) { /* PyTorch's base_seed: one int64 from the default generator per epoch */
            ct_tensor *r = ct_randint(0, INT64_MAX, CT_SHAPE());
            if (!r) break;
            base = (uint64_t)*(int64_t *)ct_data_ptr(r);
        }
        indices = ct_retain(ct_sampler_indices(dl->batches));
    }
    if (!indices) return false;
    /* Persistent workers may be waiting (and waking spuriously): they must see the new epoch's
     * fields and its generation together, so both change under the lock. */
    pthread_mutex_lock(&dl->lock);
    ct_release(dl->indices);
    dl->indices = indices;
    dl->n_indices = ct_numel(indices);
    dl->n_batches = ct_sampler_len(dl->batches);
    dl->base_seed = base;
    dl->epoch++;
    dl->generation++;
    pthread_cond_broadcast(&dl->work);
    pthread_mutex_unlock(&dl->lock);
    dl->next = 0;
    dl->in_epoch = dl->opts.num_workers == 0 || start_workers(dl);
    return dl->in_epoch;
}

/* Abandons the epoch after an error: the workers are joined on the next call. */
static bool abandon_epoch(ct_dataloader *dl) {
    dl->in_epoch = false;
    if (dl->running) signal_stop(dl);
    return false;
}

static struct timespec deadline_after(double seconds) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double whole = (double)(int64_t)seconds;
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)((seconds - whole) * 1e9);
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

/* Takes batch k from its slot, waiting at most timeout_s (0: forever). */
static bool receive(ct_dataloader *dl, int64_t k, ct_batch *out) {
    slot *s = &dl->slots[k % dl->n_slots];
    struct timespec deadline = deadline_after(dl->opts.timeout_s);
    bool timed_out = false;
    pthread_mutex_lock(&dl->lock);
    while (s->batch != k && !timed_out) {
        if (dl->opts.timeout_s > 0) timed_out = pthread_cond_timedwait(&dl->filled, &dl->lock, &deadline) == ETIMEDOUT;
        else pthread_cond_wait(&dl->filled, &dl->lock);
    }
    slot got = {0};
    if (s->batch == k) {
        got = *s;
        memset(&s->b, 0, sizeof s->b);
        s->batch = -1;
        pthread_cond_broadcast(&dl->work);
    }
    pthread_mutex_unlock(&dl->lock);
    if (got.batch != k)
        return ct_error(CT_ERR_STATE, "DataLoader timed out after %g seconds", dl->opts.timeout_s), false;
    if (!got.ok) return ct_error(got.status, "DataLoader worker %d: %s", got.worker, got.message), false;
    *out = got.b;
    return true;
}

bool ct_dataloader_next(ct_dataloader *dl, ct_batch *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!dl || !out) return ct_error(CT_ERR_NULL, "ct_dataloader_next: %s is NULL", dl ? "out" : "the loader"), false;
    if (!ct_ok()) return false;
    batch_release(&dl->current);
    if (!dl->in_epoch) {
        if (!dl->opts.persistent_workers || dl->stop) join_workers(dl);
        if (!start_epoch(dl)) return false;
    }
    if (dl->next == dl->n_batches) { /* the epoch is over: the next call starts another */
        dl->in_epoch = false;
        if (!dl->opts.persistent_workers) join_workers(dl);
        return false;
    }
    ct_batch b;
    bool ok = dl->opts.num_workers == 0 ? build_batch(dl, dl->next, dl->samples, &b) : receive(dl, dl->next, &b);
    if (!ok) return abandon_epoch(dl);
    dl->next++;
    dl->current = b;
    *out = b;
    return true;
}

/* ---- the handle --------------------------------------------------------------------------------- */

static bool check_opts(const ct_dataloader_opts *o) {
    if (o->num_workers < 0)
        return ct_error(CT_ERR_ARG, "DataLoader: num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."), false;
    if (o->timeout_s < 0) return ct_error(CT_ERR_ARG, "DataLoader: timeout option should be non-negative"), false;
    if (o->num_workers == 0 && o->prefetch_factor != 2)
        return ct_error(CT_ERR_ARG, "DataLoader: prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing."), false;
    if (o->num_workers > 0 && o->prefetch_factor <= 0)
        return ct_error(CT_ERR_ARG, "DataLoader: prefetch_factor option should be positive, but got %d", o->prefetch_factor), false;
    if (o->persistent_workers && o->num_workers == 0)
        return ct_error(CT_ERR_ARG, "DataLoader: persistent_workers option needs num_workers > 0"), false;
    if (o->batch_sampler && (o->batch_size != 1 || o->shuffle || o->sampler || o->drop_last))
        return ct_error(CT_ERR_ARG, "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"), false;
    if (o->batch_sampler && ct_sampler_batch_size(o->batch_sampler) == 0)
        return ct_error(CT_ERR_ARG, "DataLoader: batch_sampler must be a BatchSampler, got a %s", ct_sampler_name(o->batch_sampler)), false;
    if (o->sampler && o->shuffle) return ct_error(CT_ERR_ARG, "DataLoader: sampler option is mutually exclusive with shuffle"), false;
    if (o->sampler && ct_sampler_batch_size(o->sampler) > 0)
        return ct_error(CT_ERR_ARG, "DataLoader: a BatchSampler goes in the batch_sampler option, not sampler"), false;
    return true;
}

/* The batch sampler the loader iterates: the given one, or batches over the given sampler or a
 * sequential/random one (PyTorch's DataLoader.__init__). */
static ct_sampler *make_batches(ct_dataset *ds, const ct_dataloader_opts *o) {
    if (o->batch_sampler) return ct_sampler_retain(o->batch_sampler);
    int64_t n = ct_dataset_len(ds);
    ct_sampler *inner = o->sampler ? ct_sampler_retain(o->sampler)
                        : o->shuffle ? ct_random_sampler(n, .seed = o->seed)
                                     : ct_sequential_sampler(n);
    ct_sampler *batches = inner ? ct_batch_sampler(inner, o->batch_size, .drop_last = o->drop_last) : NULL;
    ct_sampler_free(inner);
    return batches;
}

ct_dataloader *ct_dataloader_new_opt(ct_dataset *ds, ct_dataloader_opts opts) {
    if (!ds) return ct_error(CT_ERR_NULL, "DataLoader: dataset is NULL");
    if (!check_opts(&opts)) return NULL;
    ct_sampler *batches = make_batches(ds, &opts);
    if (!batches) return NULL;
    ct_dataloader *dl = calloc(1, sizeof *dl);
    if (!dl) {
        ct_sampler_free(batches);
        return ct_error(CT_ERR_OOM, "DataLoader: out of memory");
    }
    dl->ds = ct_dataset_retain(ds);
    dl->batches = batches;
    dl->opts = opts;
    dl->batch_size = ct_sampler_batch_size(batches);
    dl->pin = opts.pin_memory && ct_cuda_is_available();
    if (opts.pin_memory && !dl->pin)
        ct_log_warn("DataLoader: pin_memory is set but no CUDA device is available, so memory will not be pinned");
    int w = opts.num_workers;
    dl->n_slots = w * opts.prefetch_factor;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* timeouts immune to wall-clock changes */
    pthread_mutex_init(&dl->lock, NULL);
    pthread_cond_init(&dl->work, NULL);
    pthread_cond_init(&dl->filled, &attr);
    pthread_condattr_destroy(&attr);
    dl->samples = w == 0 ? malloc((size_t)dl->batch_size * sizeof *dl->samples) : NULL;
    dl->threads = w ? calloc((size_t)w, sizeof *dl->threads) : NULL;
    dl->workers = w ? calloc((size_t)w, sizeof *dl->workers) : NULL;
    dl->slots = w ? calloc((size_t)dl->n_slots, sizeof *dl->slots) : NULL;
    if (w ? !dl->threads || !dl->workers || !dl->slots : !dl->samples) {
        ct_dataloader_free(dl);
        return ct_error(CT_ERR_OOM, "DataLoader: out of memory");
    }
    for (int i = 0; i < dl->n_slots; i++) dl->slots[i].batch = -1;
    return dl;
}

int64_t ct_dataloader_len(const ct_dataloader *dl) { return dl ? ct_sampler_len(dl->batches) : 0; }

bool ct_dataloader_set_epoch(ct_dataloader *dl, int64_t epoch) {
    if (!dl) return ct_error(CT_ERR_NULL, "ct_dataloader_set_epoch: the loader is NULL"), false;
    return ct_sampler_set_epoch(dl->batches, epoch);
}

void ct_dataloader_free(ct_dataloader *dl) {
    if (!dl) return;
    join_workers(dl);
    batch_release(&dl->current);
    ct_release(dl->indices);
    pthread_cond_destroy(&dl->filled);
    pthread_cond_destroy(&dl->work);
    pthread_mutex_destroy(&dl->lock);
    free(dl->samples);
    free(dl->threads);
    free(dl->workers);
    free(dl->slots);
    ct_sampler_free(dl->batches);
    ct_dataset_free(dl->ds);
    free(dl);
}
