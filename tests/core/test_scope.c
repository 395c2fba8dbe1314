/* Scopes and reference counts: ownership, keep, retain/release, nesting, RSS stays flat. */
#include "../common/testutil.h"

#include <pthread.h>

static void results_belong_to_the_innermost_scope(void **state) {
    (void)state;
    int64_t before = ct_scope_size();
    CT_SCOPE {
        assert_int_equal(ct_scope_size(), 0);
        ct_zeros(CT_SHAPE(3));
        ct_ones(CT_SHAPE(3));
        assert_int_equal(ct_scope_size(), 2);
    }
    assert_int_equal(ct_scope_size(), before);
}

static void ops_leave_only_their_result_in_the_scope(void **state) {
    (void)state;
    ct_tensor *a = ct_randn(CT_SHAPE(4, 5)), *at = ct_t(a);
    ct_tensor *results[4];
    int64_t before = ct_scope_size();
    results[0] = ct_reshape(at, CT_SHAPE(-1)); /* copies internally: the copy must not linger */
    results[1] = ct_sum(a, .dim = CT_DIMS(1));
    results[2] = ct_matmul(a, at);
    results[3] = ct_cat(CT_TENSORS(a, a), 0);
    for (int i = 0; i < 4; i++) assert_non_null(results[i]);
    assert_int_equal(ct_scope_size() - before, 4);
}

static void keep_moves_to_the_enclosing_scope(void **state) {
    (void)state;
    ct_tensor *kept = NULL;
    int depth = ct_scope_depth();
    CT_SCOPE {
        assert_int_equal(ct_scope_depth(), depth + 1);
        ct_tensor *t = ct_full(CT_SHAPE(2), 7.0);
        kept = ct_keep(t);
        assert_ptr_equal(kept, t);
    }
    assert_int_equal(ct_scope_depth(), depth);
    assert_int_equal(ct_refcount(kept), 1);
    assert_true(ct_item(ct_select(kept, 0, 1)) == 7.0);
}

static void retain_outlives_every_scope(void **state) {
    (void)state;
    ct_tensor *held = NULL;
    CT_SCOPE {
        held = ct_retain(ct_full(CT_SHAPE(1), 3.0));
        assert_int_equal(ct_refcount(held), 2);
    }
    assert_int_equal(ct_refcount(held), 1);
    assert_true(ct_item(held) == 3.0);
    ct_release(held); /* last reference: freed (valgrind/ASan check this) */
    ct_release(NULL); /* ignored */
}

static void views_keep_storage_alive(void **state) {
    (void)state;
    ct_tensor *v = NULL;
    CT_SCOPE {
        ct_tensor *base = ct_arange(0, 10, 1);
        v = ct_keep(ct_slice(base, 0, 2, CT_END, 1));
    }
    /* base's handle is gone but the view's storage is shared and alive */
    assert_true(ct_item(ct_select(v, 0, 0)) == 2.0);
}

static int leave_early(int stop_at) {
    int i = 0;
    for (; i < 10; i++) CT_SCOPE {
            ct_zeros(CT_SHAPE(4));
            if (i == stop_at) return i; /* the scope still ends */
        }
    return i;
}

static void scope_ends_on_break_continue_return(void **state) {
    (void)state;
    int depth = ct_scope_depth();
    int64_t size = ct_scope_size();
    CT_SCOPE {
        ct_zeros(CT_SHAPE(1));
        break;
    }
    assert_int_equal(ct_scope_depth(), depth);
    CT_SCOPE {
        ct_zeros(CT_SHAPE(1));
        continue;
    }
    assert_int_equal(ct_scope_depth(), depth);
    assert_int_equal(leave_early(3), 3);
    assert_int_equal(ct_scope_depth(), depth);
    assert_int_equal(ct_scope_size(), size);
}

static void explicit_begin_end_and_unbalanced_inner(void **state) {
    (void)state;
    int depth = ct_scope_depth();
    ct_scope_begin();
    ct_zeros(CT_SHAPE(2));
    ct_scope_begin(); /* left open on purpose */
    ct_zeros(CT_SHAPE(2));
    CT_SCOPE {} /* a guard ends scopes to its own depth */
    ct_scope_end();
    ct_scope_end();
    assert_int_equal(ct_scope_depth(), depth);
}

static void hundred_thousand_scoped_allocations_keep_rss_flat(void **state) {
    (void)state;
    /* Warm up so the allocator and scope arrays reach steady state, then measure. */
    for (int i = 0; i < 2000; i++) CT_SCOPE {
            ct_tensor *a = ct_ones(CT_SHAPE(64, 64));
            ct_transpose(ct_contiguous(ct_transpose(a, 0, 1)), 0, 1);
        }
    int64_t before = tu_rss_bytes();
    for (int i = 0; i < 100000; i++) CT_SCOPE {
            ct_tensor *a = ct_ones(CT_SHAPE(64, 64)); /* 16 KiB each: 1.6 GB if leaked */
            ct_transpose(ct_contiguous(ct_transpose(a, 0, 1)), 0, 1);
        }
    int64_t after = tu_rss_bytes();
    print_message("# rss before %lld KiB, after 100k scoped allocations %lld KiB\n", (long long)before / 1024,
                  (long long)after / 1024);
    int64_t slack = 4 << 20;
#ifdef __SANITIZE_ADDRESS__
    slack += 64 << 20; /* ASan's quarantine holds freed blocks on purpose (capped by `make asan`) */
#endif
    assert_true(after - before < slack);
}

static void *worker(void *arg) {
    (void)arg;
    /* Tensors made in a thread's root scope are freed when the thread exits. */
    for (int i = 0; i < 100; i++) ct_zeros(CT_SHAPE(100));
    ct_tensor *t = ct_retain(ct_ones(CT_SHAPE(3)));
    return t;
}

static void thread_exit_releases_its_root_scope(void **state) {
    (void)state;
    pthread_t th;
    void *out = NULL;
    pthread_create(&th, NULL, worker, NULL);
    pthread_join(th, &out);
    ct_tensor *t = out;
    assert_int_equal(ct_refcount(t), 1); /* the thread's scope let go; our retained ref remains */
    assert_true(ct_get(t, CT_SHAPE(2)) == 1.0);
    ct_release(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_belong_to_the_innermost_scope),
        cmocka_unit_test(ops_leave_only_their_result_in_the_scope),
        cmocka_unit_test(keep_moves_to_the_enclosing_scope),
        cmocka_unit_test(retain_outlives_every_scope),
        cmocka_unit_test(views_keep_storage_alive),
        cmocka_unit_test(scope_ends_on_break_continue_return),
        cmocka_unit_test(explicit_begin_end_and_unbalanced_inner),
        cmocka_unit_test(hundred_thousand_scoped_allocations_keep_rss_flat),
        cmocka_unit_test(thread_exit_releases_its_root_scope),
    };
    return TU_RUN("scope", tests);
}
