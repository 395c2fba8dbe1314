/* Shared test helpers: cmocka, deterministic random data, non-contiguous layouts, f64 checks. */
#ifndef CTORCH_TESTUTIL_H
#define CTORCH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctorch/ctorch.h>

/* Layouts a test input can have; every op test runs over all of them. */
typedef enum tu_layout {
    TU_CONTIGUOUS = 0,
    TU_TRANSPOSED, /* last two dims stored swapped (a permuted view) */
    TU_STEPPED,    /* every other element of a larger tensor along the last dim */
    TU_OFFSET,     /* a narrow view starting past the storage's first element */
    TU_EXPANDED,   /* dim 0 broadcast from size 1 (stride 0): rows repeat; read-only, as in PyTorch */
    TU_NUM_LAYOUTS
} tu_layout;
/* The layouts that may be written in place (all but TU_EXPANDED, which comes last). */
#define TU_NUM_WRITABLE_LAYOUTS TU_EXPANDED
extern const char *const tu_layout_names[TU_NUM_LAYOUTS];

/* Deterministic uniform values in [lo, hi) from a 64-bit state (independent of ctorch's RNG). */
double tu_uniform(uint64_t *state, double lo, double hi);
/* A tensor of `shape`, `dtype`, filled from tu_uniform(lo, hi) (integers rounded), laid out as
 * `layout`; the values in logical order are also written to want (numel doubles) if non-NULL. */
ct_tensor *tu_random(uint64_t *state, ct_shape shape, ct_dtype dtype, tu_layout layout, double lo, double hi);
/* t's values as f64 in row-major order, owned by the innermost scope (do not free). */
double *tu_values(const ct_tensor *t);
/* Asserts t has `shape` and its values match want within atol + rtol * |want| (NaNs must match). */
void tu_assert_values(const ct_tensor *t, ct_shape shape, const double *want, double rtol, double atol);
/* Asserts the last error's status and that its message contains `needle`; then clears it. */
void tu_assert_error(ct_status status, const char *needle);
/* Row-major index math for references: elements of a shape, flat index <-> coordinates. */
int64_t tu_numel(ct_shape shape);
void tu_unravel(int64_t flat, const int64_t *shape, int ndim, int64_t *index);
int64_t tu_ravel(const int64_t *index, const int64_t *shape, int ndim);
/* Resident set size of this process in bytes. */
int64_t tu_rss_bytes(void);

/* A row of a gradient test table (DESIGN §8): fn over n_inputs float64 inputs of these shapes,
 * values drawn from [lo, hi) (lo == hi == 0 means [-2, 2)). */
typedef struct tu_grad_case {
    const char *name;
    ct_gradcheck_fn fn;
    void *user;
    int n_inputs;
    ct_shape shapes[4];
    double lo, hi;
} tu_grad_case;
/* Asserts ct_gradcheck passes for the case with every input in each non-overlapping layout
 * (contiguous, transposed, stepped, offset), all inputs requiring grad. */
void tu_gradcheck(const tu_grad_case *c);
/* Runs every row of a table through tu_gradcheck. */
void tu_gradcheck_table(const tu_grad_case *cases, size_t n);
#define TU_GRADCHECK_TABLE(cases) tu_gradcheck_table((cases), sizeof(cases) / sizeof((cases)[0]))

/* Runs a cmocka group with ctorch set up; returns the process status. */
int tu_run(const char *name, const struct CMUnitTest *tests, size_t n);
#define TU_RUN(name, tests) tu_run((name), (tests), sizeof(tests) / sizeof((tests)[0]))
/* For the gpu suite: exits with 77 (meson's "skipped") after saying why when no GPU is usable. */
int tu_run_gpu(const char *name, const struct CMUnitTest *tests, size_t n);
#define TU_RUN_GPU(name, tests) tu_run_gpu((name), (tests), sizeof(tests) / sizeof((tests)[0]))

#endif
