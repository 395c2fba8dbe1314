/* The CUDA runtime: the caching allocator (reuse, statistics, empty_cache, out-of-memory),
 * devices, streams, pinned memory and asynchronous copies. */
#include "../common/testutil.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#ifdef CT_HAVE_CUDA
/* Workspace memory of tensor/cuda/cuda_impl.h (declared here: tests do not see CUDA headers). */
void *ct__cuda_alloc(size_t nbytes, int device);
void ct__cuda_free(void *ptr, int device);
#endif

#define MiB ((int64_t)1 << 20)

/* A device allocation made either as a tensor or as raw workspace memory. */
typedef struct slot {
    ct_tensor *t;
    void *raw;
} slot;

static slot take(size_t nbytes, bool raw) {
    slot s = {NULL, NULL};
#ifdef CT_HAVE_CUDA
    if (raw) {
        s.raw = ct__cuda_alloc(nbytes, 0);
        assert_non_null(s.raw);
        return s;
    }
#else
    (void)raw;
#endif
    CT_SCOPE { s.t = ct_retain(ct_empty(CT_SHAPE((int64_t)nbytes), .dtype = CT_U8, .device = CT_CUDA(0))); }
    assert_non_null(s.t);
    return s;
}

static void give(slot *s) {
#ifdef CT_HAVE_CUDA
    if (s->raw) ct__cuda_free(s->raw, 0);
#endif
    if (s->t) ct_release(s->t);
    *s = (slot){NULL, NULL};
}

/* Sizes from 1 byte to 64 MiB, uniform in log scale so every size class is exercised. */
static size_t random_size(uint64_t *rng) {
    double u = tu_uniform(rng, 0, log(64.0 * (double)MiB));
    size_t n = (size_t)exp(u);
    return n < 1 ? 1 : n;
}

/* Each slot of the live set holds its own value: overlapping blocks would overwrite another's. */
static void check_no_overlap(slot *live, int n) {
    for (int i = 0; i < n; i++)
        if (live[i].t) assert_non_null(ct_fill_(live[i].t, i + 1));
    for (int i = 0; i < n; i++)
        if (live[i].t) {
            int64_t last = ct_numel(live[i].t) - 1;
            assert_true(ct_get(live[i].t, CT_SHAPE(0)) == i + 1);
            assert_true(ct_get(live[i].t, CT_SHAPE(last)) == i + 1);
        }
}

/* A training loop's pattern: the same random sequence of allocations and frees (at least 1000
 * allocations of 1 B..64 MiB, at most 32 live), repeated 10 times. After the first pass has
 * warmed the cache, no pass may reserve more or call cudaMalloc again. */
static void allocator_stress_reuses_memory(void **state) {
    (void)state;
    enum { SLOTS = 32, OPS = 2000, PASSES = 10 };
    slot live[SLOTS] = {{0}};
    int64_t base_allocated = ct_cuda_memory_allocated(0);
    int64_t reserved_after_warmup = 0, mallocs_after_warmup = 0, allocs = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        uint64_t rng = 0x5eed;
        for (int op = 0; op < OPS; op++) {
            int i = (int)(tu_uniform(&rng, 0, SLOTS));
            if (live[i].t || live[i].raw) {
                give(&live[i]);
                continue;
            }
            live[i] = take(random_size(&rng), op % 2 == 1);
            allocs++;
        }
        if (pass == 0 || pass == PASSES - 1) check_no_overlap(live, SLOTS);
        for (int i = 0; i < SLOTS; i++) give(&live[i]);
        ct_cuda_memory_stats s = ct_cuda_get_memory_stats(0);
        assert_int_equal(s.allocated_bytes, base_allocated);
        if (pass == 0) {
            reserved_after_warmup = s.reserved_bytes;
            mallocs_after_warmup = s.num_cuda_mallocs;
        } else {
            assert_int_equal(s.reserved_bytes, reserved_after_warmup);
            assert_int_equal(s.num_cuda_mallocs, mallocs_after_warmup);
        }
    }
    assert_true(allocs >= PASSES * OPS / 2); /* every free follows an allocation */
    assert_true(ct_ok());
}

/* Sizes are counted as the allocator's blocks: 512-byte multiples; small requests share a 2 MiB
 * segment, a 3 MiB request gets a 20 MiB segment and is split from it. */
static void statistics_are_exact(void **state) {
    (void)state;
    ct_cuda_empty_cache();
    ct_cuda_memory_stats s0 = ct_cuda_get_memory_stats(0);
    assert_int_equal(s0.reserved_bytes, 0); /* nothing is in use between tests */
    assert_int_equal(s0.allocated_bytes, 0);
    slot a = take(1000, false), b = take(3 * MiB, false), c = take(1, true);
    ct_cuda_memory_stats s1 = ct_cuda_get_memory_stats(0);
    assert_int_equal(s1.allocated_bytes, 1024 + 3 * MiB + 512);
    assert_int_equal(s1.reserved_bytes, 2 * MiB + 20 * MiB);
    assert_int_equal(s1.num_allocs - s0.num_allocs, 3);
    assert_int_equal(s1.num_cuda_mallocs - s0.num_cuda_mallocs, 2);
    assert_true(s1.peak_allocated_bytes >= s1.allocated_bytes);
    assert_int_equal(ct_cuda_memory_allocated(0), s1.allocated_bytes);
    assert_int_equal(ct_cuda_memory_reserved(0), s1.reserved_bytes);
    give(&a);
    give(&b);
    give(&c);
    ct_cuda_memory_stats s2 = ct_cuda_get_memory_stats(0);
    assert_int_equal(s2.allocated_bytes, 0);
    assert_int_equal(s2.reserved_bytes, s1.reserved_bytes); /* cached, not returned */
    assert_int_equal(s2.num_frees - s0.num_frees, 3);
    /* the same requests again come from the cache */
    a = take(1000, false);
    b = take(3 * MiB, false);
    assert_int_equal(ct_cuda_get_memory_stats(0).num_cuda_mallocs, s1.num_cuda_mallocs);
    give(&a);
    give(&b);
}

static void peak_resets(void **state) {
    (void)state;
    ct_cuda_empty_cache(); /* no cached block bigger than asked for can serve the requests below */
    ct_cuda_reset_peak_memory_stats(0); /* forget the earlier tests' peaks (the stress test's) */
    slot keep = take(MiB, false);
    int64_t now = ct_cuda_memory_allocated(0);
    slot big = take(16 * MiB, false);
    give(&big);
    assert_int_equal(ct_cuda_memory_allocated(0), now);
    assert_int_equal(ct_cuda_max_memory_allocated(0), now + 16 * MiB);
    ct_cuda_reset_peak_memory_stats(0);
    assert_int_equal(ct_cuda_max_memory_allocated(0), now);
    assert_int_equal(ct_cuda_max_memory_reserved(0), ct_cuda_memory_reserved(0));
    give(&keep);
    assert_int_equal(ct_cuda_max_memory_allocated(0), now);
}

static void empty_cache_releases_reserved_memory(void **state) {
    (void)state;
    slot keep = take(40 * MiB, false); /* its own 40 MiB segment, in use */
    slot gone = take(64 * MiB, false);
    give(&gone);
    ct_cuda_memory_stats before = ct_cuda_get_memory_stats(0);
    assert_true(before.reserved_bytes >= 104 * MiB);
    ct_cuda_empty_cache();
    ct_cuda_memory_stats after = ct_cuda_get_memory_stats(0);
    assert_int_equal(after.reserved_bytes, 40 * MiB); /* only the segment in use stays */
    assert_true(after.num_cuda_frees > before.num_cuda_frees);
    assert_int_equal(after.allocated_bytes, before.allocated_bytes);
    give(&keep);
    ct_cuda_empty_cache();
    assert_int_equal(ct_cuda_memory_reserved(0), 0);
}

static void out_of_memory_is_an_error(void **state) {
    (void)state;
    slot cached = take(8 * MiB, false);
    give(&cached); /* something for the retry to release */
    ct_cuda_memory_stats s0 = ct_cuda_get_memory_stats(0);
    assert_null(ct_empty(CT_SHAPE((int64_t)1 << 40), .dtype = CT_U8, .device = CT_CUDA(0)));
    tu_assert_error(CT_ERR_OOM, "CUDA out of memory. Tried to allocate 1048576.00 MiB (GPU 0; ");
    ct_cuda_memory_stats s1 = ct_cuda_get_memory_stats(0);
    assert_int_equal(s1.num_ooms - s0.num_ooms, 1);
    assert_int_equal(s1.num_alloc_retries - s0.num_alloc_retries, 1);
    assert_true(s1.reserved_bytes < s0.reserved_bytes); /* the cache was released for the retry */
#ifdef CT_HAVE_CUDA
    assert_null(ct__cuda_alloc((size_t)3 << 40, 0));
    tu_assert_error(CT_ERR_OOM, "Tried to allocate 3145728.00 MiB");
#endif
    /* the next allocation works and holds values */
    ct_tensor *x = ct_full(CT_SHAPE(1000), 5.0, .device = CT_CUDA(0));
    assert_non_null(x);
    assert_true(ct_get(x, CT_SHAPE(999)) == 5.0);
}

typedef struct worker_args {
    uint64_t seed;
    bool ok;
} worker_args;

static void *allocating_worker(void *p) {
    worker_args *a = p;
    slot live[8] = {{0}};
    a->ok = true;
    for (int op = 0; op < 1000; op++) {
        int i = (int)tu_uniform(&a->seed, 0, 8);
        if (live[i].t || live[i].raw)
            give(&live[i]);
        else
            live[i] = take((size_t)tu_uniform(&a->seed, 1, 4 * (double)MiB), op % 2 == 1);
    }
    for (int i = 0; i < 8; i++) give(&live[i]);
    return NULL;
}

/* The DataLoader's threads and the main thread allocate at once. */
static void threads_allocate_concurrently(void **state) {
    (void)state;
    ct_cuda_memory_stats s0 = ct_cuda_get_memory_stats(0);
    pthread_t threads[4];
    worker_args args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_args){.seed = 100 + (uint64_t)i};
        assert_int_equal(pthread_create(&threads[i], NULL, allocating_worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    ct_cuda_memory_stats s1 = ct_cuda_get_memory_stats(0);
    assert_int_equal(s1.allocated_bytes, s0.allocated_bytes);
    assert_int_equal(s1.num_allocs - s0.num_allocs, s1.num_frees - s0.num_frees);
    assert_true(s1.num_allocs - s0.num_allocs > 1000);
}

static void devices(void **state) {
    (void)state;
    assert_true(ct_cuda_set_device(0));
    assert_int_equal(ct_cuda_current_device(), 0);
    assert_true(ct_cuda_synchronize(0));
    assert_false(ct_cuda_set_device(99));
    tu_assert_error(CT_ERR_DEVICE, "set_device: invalid device ordinal cuda:99");
    assert_false(ct_cuda_synchronize(-1));
    tu_assert_error(CT_ERR_DEVICE, "invalid device ordinal cuda:-1");
    /* mixing devices in one op stays an error */
    assert_null(ct_add(ct_ones(CT_SHAPE(3), .device = CT_CUDA(0)), ct_ones(CT_SHAPE(3))));
    tu_assert_error(CT_ERR_DEVICE, "Expected all tensors to be on the same device");
}

static void work_on_a_second_stream(void **state) {
    (void)state;
    ct_cuda_stream *dflt = ct_cuda_default_stream(0);
    assert_non_null(dflt);
    assert_ptr_equal(ct_cuda_current_stream(0), dflt);
    ct_cuda_stream *s = ct_cuda_stream_new(0);
    assert_non_null(s);
    assert_int_equal(ct_cuda_stream_device(s), 0);
    assert_ptr_equal(ct_cuda_set_stream(s), dflt);
    assert_ptr_equal(ct_cuda_current_stream(0), s);

    uint64_t rng = 7;
    ct_tensor *host = tu_random(&rng, CT_SHAPE(512, 1024), CT_F32, TU_CONTIGUOUS, -4, 4);
    ct_tensor *pinned = ct_pin_memory(host);
    ct_tensor *filled = ct_full(CT_SHAPE(1 << 22), 3.0, .device = CT_CUDA(0)); /* fill kernel on s */
    ct_tensor *up = ct_to(pinned, CT_CUDA(0));                                  /* async copy on s */
    assert_non_null(filled);
    assert_non_null(up);
    assert_true(ct_cuda_stream_synchronize(s));
    assert_ptr_equal(ct_cuda_set_stream(dflt), s);
    tu_assert_values(ct_to(up, CT_CPU), ct_shape_of(host), tu_values(host), 0, 0);
    assert_true(ct_get(filled, CT_SHAPE(0)) == 3.0 && ct_get(filled, CT_SHAPE((1 << 22) - 1)) == 3.0);

    /* the default stream waits for work queued on s without the host waiting */
    ct_cuda_set_stream(s);
    ct_tensor *later = ct_full(CT_SHAPE(1 << 22), 7.0, .device = CT_CUDA(0));
    ct_cuda_set_stream(dflt);
    assert_true(ct_cuda_stream_wait_stream(dflt, s));
    ct_tensor *back = ct_to(later, CT_CPU);
    assert_true(ct_get(back, CT_SHAPE(0)) == 7.0 && ct_get(back, CT_SHAPE((1 << 22) - 1)) == 7.0);

    /* freeing a current stream makes the default current again */
    ct_cuda_set_stream(s);
    ct_cuda_stream_free(s);
    assert_ptr_equal(ct_cuda_current_stream(0), dflt);
    ct_cuda_stream_free(dflt); /* ignored */
    assert_ptr_equal(ct_cuda_current_stream(0), dflt);

    assert_null(ct_cuda_stream_new(99));
    tu_assert_error(CT_ERR_DEVICE, "invalid device ordinal cuda:99");
    assert_false(ct_cuda_stream_synchronize(NULL));
    tu_assert_error(CT_ERR_NULL, "cuda_stream_synchronize: the stream is NULL");
}

/* Each stream has its own free list: a block freed on s is not handed to the default stream
 * (whose kernels could still be running behind s's), but is to s again. */
static void freed_blocks_stay_with_their_stream(void **state) {
    (void)state;
    ct_cuda_empty_cache();
    ct_cuda_stream *s = ct_cuda_stream_new(0);
    ct_cuda_stream *dflt = ct_cuda_set_stream(s);
    int64_t m0 = ct_cuda_get_memory_stats(0).num_cuda_mallocs;
    slot a = take(5 * MiB, false);
    give(&a);
    assert_int_equal(ct_cuda_get_memory_stats(0).num_cuda_mallocs, m0 + 1);
    ct_cuda_set_stream(dflt);
    slot b = take(5 * MiB, false); /* nothing cached for the default stream */
    assert_int_equal(ct_cuda_get_memory_stats(0).num_cuda_mallocs, m0 + 2);
    give(&b);
    ct_cuda_set_stream(s);
    slot c = take(5 * MiB, true); /* s's block again */
    assert_int_equal(ct_cuda_get_memory_stats(0).num_cuda_mallocs, m0 + 2);
    give(&c);
    ct_cuda_stream_free(s);
    ct_cuda_empty_cache();
    assert_int_equal(ct_cuda_memory_reserved(0), 0);
}

static void pinned_memory_round_trip(void **state) {
    (void)state;
    uint64_t rng = 11;
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) {
        ct_tensor *x = tu_random(&rng, CT_SHAPE(67, 129), CT_F32, (tu_layout)layout, -3, 3);
        assert_false(ct_is_pinned(x));
        ct_tensor *p = ct_pin_memory(x);
        assert_non_null(p);
        assert_true(ct_is_pinned(p));
        assert_true(ct_is_contiguous(p));
        assert_ptr_equal(ct_pin_memory(p), p); /* already pinned: the same tensor */
        ct_tensor *g = ct_to(p, CT_CUDA(0));    /* asynchronous: no synchronize before the read back */
        assert_non_null(g);
        ct_tensor *back = ct_to(g, CT_CPU);
        assert_false(ct_is_pinned(back));
        tu_assert_values(back, ct_shape_of(x), tu_values(x), 0, 0);
    }
    assert_null(ct_pin_memory(ct_ones(CT_SHAPE(2), .device = CT_CUDA(0))));
    tu_assert_error(CT_ERR_DEVICE, "pin_memory: cannot pin 'cuda:0' memory, only CPU tensors can be pinned");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocator_stress_reuses_memory),
        cmocka_unit_test(statistics_are_exact),
        cmocka_unit_test(peak_resets),
        cmocka_unit_test(empty_cache_releases_reserved_memory),
        cmocka_unit_test(out_of_memory_is_an_error),
        cmocka_unit_test(threads_allocate_concurrently),
        cmocka_unit_test(devices),
        cmocka_unit_test(work_on_a_second_stream),
        cmocka_unit_test(freed_blocks_stay_with_their_stream),
        cmocka_unit_test(pinned_memory_round_trip),
    };
    return TU_RUN_GPU("gpu_runtime", tests);
}
