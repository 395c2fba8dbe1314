#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const tu_layout_names[TU_NUM_LAYOUTS] = {"contiguous", "transposed", "stepped", "offset", "expanded"};

double tu_uniform(uint64_t *state, double lo, double hi) {
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * 0x1.0p-53;
}

ct_tensor *tu_random(uint64_t *state, ct_shape shape, ct_dtype dtype, tu_layout layout, double lo, double hi) {
    /* Build the storage shape for the layout, fill it, then take the view. */
    ct_shape base = shape;
    int nd = shape.ndim;
    if (layout == TU_TRANSPOSED && nd >= 2) {
        base.d[nd - 1] = shape.d[nd - 2];
        base.d[nd - 2] = shape.d[nd - 1];
    } else if (layout == TU_STEPPED && nd >= 1) {
        base.d[nd - 1] = shape.d[nd - 1] * 2;
    } else if (layout == TU_OFFSET && nd >= 1) {
        base.d[0] = shape.d[0] + 1;
    } else if (layout == TU_EXPANDED && nd >= 1) {
        base.d[0] = 1;
    }
    int64_t n = 1;
    for (int i = 0; i < base.ndim; i++) n *= base.d[i];
    double *vals = malloc((size_t)(n ? n : 1) * sizeof *vals);
    for (int64_t i = 0; i < n; i++) {
        double v = tu_uniform(state, lo, hi);
        if (dtype == CT_BOOL) v = v > (lo + hi) / 2;
        else if (dtype == CT_U8 || dtype == CT_I32 || dtype == CT_I64) v = floor(v);
        vals[i] = v;
    }
    ct_tensor *t = ct_from_data(vals, base, CT_F64);
    free(vals);
    t = ct_to_dtype(t, dtype);
    if (layout == TU_TRANSPOSED && nd >= 2) t = ct_transpose(t, -1, -2);
    else if (layout == TU_STEPPED && nd >= 1) t = ct_slice(t, -1, 0, CT_END, 2);
    else if (layout == TU_OFFSET && nd >= 1) t = ct_narrow(t, 0, 1, shape.d[0]);
    else if (layout == TU_EXPANDED && nd >= 1) t = ct_expand(t, shape);
    return t;
}

double *tu_values(const ct_tensor *t) {
    return (double *)ct_data_ptr(ct_contiguous(ct_to_dtype(ct_to(t, CT_CPU), CT_F64)));
}

void tu_assert_values(const ct_tensor *t, ct_shape shape, const double *want, double rtol, double atol) {
    if (!t) fail_msg("result is NULL: %s", ct_last_error());
    ct_shape got = ct_shape_of(t);
    assert_int_equal(got.ndim, shape.ndim);
    for (int i = 0; i < shape.ndim; i++) assert_int_equal(got.d[i], shape.d[i]);
    int64_t n = ct_numel(t);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    assert_true(ct_copy_to_f64(t, v, n));
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) && isnan(v[i])) continue;
        if (isinf(want[i]) && v[i] == want[i]) continue;
        double tol = atol + rtol * fabs(want[i]);
        if (!(fabs(v[i] - want[i]) <= tol)) {
            double g = v[i];
            free(v);
            fail_msg("element %lld: got %.17g, want %.17g (tolerance %.3g)", (long long)i, g, want[i], tol);
        }
    }
    free(v);
}

void tu_assert_error(ct_status status, const char *needle) {
    if (ct_ok()) fail_msg("expected an error containing \"%s\", but none is pending", needle);
    if (ct_last_status() != status || !strstr(ct_last_error(), needle))
        fail_msg("expected %s containing \"%s\", got %s: \"%s\"", ct_status_name(status), needle,
                 ct_status_name(ct_last_status()), ct_last_error());
    ct_clear_error();
}

int64_t tu_numel(ct_shape shape) {
    int64_t n = 1;
    for (int i = 0; i < shape.ndim; i++) n *= shape.d[i];
    return n;
}

void tu_unravel(int64_t flat, const int64_t *shape, int ndim, int64_t *index) {
    for (int d = ndim - 1; d >= 0; d--) {
        index[d] = shape[d] ? flat % shape[d] : 0;
        flat = shape[d] ? flat / shape[d] : 0;
    }
}

int64_t tu_ravel(const int64_t *index, const int64_t *shape, int ndim) {
    int64_t flat = 0;
    for (int d = 0; d < ndim; d++) flat = flat * shape[d] + index[d];
    return flat;
}

int64_t tu_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* Each test starts with no pending error and inside its own scope, so nothing leaks between tests. */
static int setup(void **state) {
    (void)state;
    ct_clear_error();
    ct_scope_begin();
    return 0;
}
static int teardown(void **state) {
    (void)state;
    ct_scope_end();
    ct_clear_error();
    return 0;
}

int tu_run(const char *name, const struct CMUnitTest *tests, size_t n) {
    ct_init();
    struct CMUnitTest *wrapped = malloc(n * sizeof *wrapped);
    for (size_t i = 0; i < n; i++) {
        wrapped[i] = tests[i];
        if (!wrapped[i].setup_func) wrapped[i].setup_func = setup;
        if (!wrapped[i].teardown_func) wrapped[i].teardown_func = teardown;
    }
    int failed = _cmocka_run_group_tests(name, wrapped, n, NULL, NULL);
    free(wrapped);
    ct_shutdown();
    return failed ? 1 : 0;
}

int tu_run_gpu(const char *name, const struct CMUnitTest *tests, size_t n) {
    if (!ct_cuda_is_available()) {
        printf("[  SKIPPED ] %zu test(s): %s needs a CUDA GPU and none is available\n", n, name);
        return 77;
    }
    return tu_run(name, tests, n);
}

void tu_gradcheck(const tu_grad_case *c) {
    uint64_t state = 0x5eed;
    double lo = c->lo, hi = c->hi;
    if (lo == 0 && hi == 0) lo = -2, hi = 2;
    for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++) CT_SCOPE {
        ct_tensor *in[4] = {NULL};
        for (int i = 0; i < c->n_inputs; i++)
            in[i] = ct_requires_grad_(tu_random(&state, c->shapes[i], CT_F64, (tu_layout)layout, lo, hi), true);
        if (!ct_gradcheck(c->fn, c->user, ((ct_tensor_list){.n = c->n_inputs, .items = in})))
            fail_msg("gradcheck of %s with %s inputs: %s", c->name, tu_layout_names[layout], ct_last_error());
    }
}

void tu_gradcheck_table(const tu_grad_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) tu_gradcheck(&cases[i]);
}
