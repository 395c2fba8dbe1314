/* Derivatives of where, masked_fill(_), masked_select, index_select, gather, the scatter family
 * and advanced indexing (index, index_put_): gradcheck over every op, grad_fn names, repeated and
 * negative indices and bool masks with gradients counted by hand, broadcast conditions, f32
 * gradients, and the in-place forms. Index tensors, masks and conditions are built inside each
 * function under test from fixed data. */
#include "../common/testutil.h"

#include <stdbool.h>
#include <string.h>

/* ---- fixed index data ------------------------------------------------------------------------- */

/* An index entry: ':' (kind 0), int64 ('i'), int32 ('j') or bool ('b', data 0/1). */
typedef struct fixed {
    char kind;
    ct_shape shape;
    int64_t data[24];
} fixed;

static ct_tensor *build(const fixed *f) {
    int64_t n = tu_numel(f->shape);
    if (f->kind == 'i') return ct_from_data(f->data, f->shape, CT_I64);
    if (f->kind == 'j') {
        int32_t narrow[24];
        for (int64_t k = 0; k < n; k++) narrow[k] = (int32_t)f->data[k];
        return ct_from_data(narrow, f->shape, CT_I32);
    }
    if (f->kind == 'b') {
        bool flags[24];
        for (int64_t k = 0; k < n; k++) flags[k] = f->data[k] != 0;
        return ct_from_data(flags, f->shape, CT_BOOL);
    }
    return NULL;
}

/* What a function under test needs besides its float inputs. */
typedef struct op_spec {
    int dim;
    double value;
    bool accumulate;
    int n;          /* index entries for index / index_put_ */
    fixed entry[3]; /* entry[0]: the condition, mask or index of the single-index ops */
} op_spec;

/* The spec's entries as an index list over items (room for 3). */
static ct_tensor_list entries(const op_spec *s, ct_tensor **items) {
    for (int i = 0; i < s->n; i++) items[i] = build(&s->entry[i]);
    return (ct_tensor_list){.n = s->n, .items = items};
}

#define S(x) ((const op_spec *)(x))

static ct_tensor *where_fn(ct_tensor *const *in, void *u) { return ct_where(build(&S(u)->entry[0]), in[0], in[1]); }
static ct_tensor *masked_fill_fn(ct_tensor *const *in, void *u) {
    return ct_masked_fill(in[0], build(&S(u)->entry[0]), S(u)->value);
}
static ct_tensor *masked_fill__fn(ct_tensor *const *in, void *u) {
    return ct_masked_fill_(ct_clone(in[0]), build(&S(u)->entry[0]), S(u)->value);
}
static ct_tensor *masked_select_fn(ct_tensor *const *in, void *u) {
    return ct_masked_select(in[0], build(&S(u)->entry[0]));
}
static ct_tensor *index_select_fn(ct_tensor *const *in, void *u) {
    return ct_index_select(in[0], S(u)->dim, build(&S(u)->entry[0]));
}
static ct_tensor *gather_fn(ct_tensor *const *in, void *u) { return ct_gather(in[0], S(u)->dim, build(&S(u)->entry[0])); }
static ct_tensor *scatter_fn(ct_tensor *const *in, void *u) {
    return ct_scatter(in[0], S(u)->dim, build(&S(u)->entry[0]), in[1]);
}
static ct_tensor *scatter_value_fn(ct_tensor *const *in, void *u) {
    return ct_scatter_value(in[0], S(u)->dim, build(&S(u)->entry[0]), S(u)->value);
}
static ct_tensor *scatter_add_fn(ct_tensor *const *in, void *u) {
    return ct_scatter_add(in[0], S(u)->dim, build(&S(u)->entry[0]), in[1]);
}
static ct_tensor *scatter__fn(ct_tensor *const *in, void *u) {
    return ct_scatter_(ct_clone(in[0]), S(u)->dim, build(&S(u)->entry[0]), in[1]);
}
static ct_tensor *scatter_add__fn(ct_tensor *const *in, void *u) {
    return ct_scatter_add_(ct_clone(in[0]), S(u)->dim, build(&S(u)->entry[0]), in[1]);
}
static ct_tensor *index_fn(ct_tensor *const *in, void *u) {
    ct_tensor *items[3];
    return ct_index(in[0], entries(S(u), items));
}
static ct_tensor *index_put__fn(ct_tensor *const *in, void *u) {
    ct_tensor *items[3];
    return ct_index_put_(ct_clone(in[0]), entries(S(u), items), in[1], S(u)->accumulate);
}

#define SCALAR ((ct_shape){.ndim = 0})
#define IDX(shape, ...) {'i', shape, {__VA_ARGS__}}
#define IDX32(shape, ...) {'j', shape, {__VA_ARGS__}}
#define MASK(shape, ...) {'b', shape, {__VA_ARGS__}}
#define ALL {0, SCALAR, {0}}

/* ---- gradcheck over every op -------------------------------------------------------------------- */

static void test_gradcheck_where_masked(void **state) {
    (void)state;
    static const op_spec cond34 = {.entry = {MASK(CT_SHAPE(3, 4), 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1)}};
    static const op_spec cond214 = {.entry = {MASK(CT_SHAPE(2, 1, 4), 1, 0, 1, 1, 0, 0, 1, 0)}};
    static const op_spec cond0 = {.entry = {MASK(SCALAR, 1)}};
    static const op_spec cond31 = {.entry = {MASK(CT_SHAPE(3, 1), 0, 1, 1)}};
    static const op_spec fill34 = {.value = 5, .entry = {MASK(CT_SHAPE(3, 4), 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1)}};
    static const op_spec fill31 = {.value = -1, .entry = {MASK(CT_SHAPE(3, 1), 1, 0, 1)}};
    static const op_spec fill0 = {.value = 2, .entry = {MASK(SCALAR, 1)}};
    static const op_spec fill3 = {.value = 0.5, .entry = {MASK(CT_SHAPE(3), 0, 1, 0)}};
    static const op_spec fill4 = {.value = 3, .entry = {MASK(CT_SHAPE(4), 1, 0, 0, 1)}};
    static const op_spec sel34 = {.entry = {MASK(CT_SHAPE(3, 4), 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1)}};
    static const op_spec sel4 = {.entry = {MASK(CT_SHAPE(4), 0, 1, 1, 1)}};
    static const op_spec sel5 = {.entry = {MASK(CT_SHAPE(5), 1, 1, 0, 1, 0)}};
    static const op_spec sel23u8 = {.entry = {MASK(CT_SHAPE(2, 3), 1, 1, 1, 1, 1, 1)}};
    static const tu_grad_case cases[] = {
        {"where same shape", where_fn, (void *)&cond34, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"where broadcast all three", where_fn, (void *)&cond214, 2, {CT_SHAPE(3, 1), CT_SHAPE(4)}, 0, 0},
        {"where 0-d cond and a", where_fn, (void *)&cond0, 2, {SCALAR, CT_SHAPE(2, 3)}, 0, 0},
        {"where column cond, 0-d b", where_fn, (void *)&cond31, 2, {CT_SHAPE(1, 4), SCALAR}, 0, 0},
        {"masked_fill same shape", masked_fill_fn, (void *)&fill34, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"masked_fill t and mask broadcast", masked_fill_fn, (void *)&fill31, 1, {CT_SHAPE(1, 4)}, 0, 0},
        {"masked_fill 0-d", masked_fill_fn, (void *)&fill0, 1, {SCALAR}, 0, 0},
        {"masked_fill mask broadcast", masked_fill_fn, (void *)&fill3, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"masked_fill_ same shape", masked_fill__fn, (void *)&fill34, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"masked_fill_ mask broadcast", masked_fill__fn, (void *)&fill4, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"masked_select same shape", masked_select_fn, (void *)&sel34, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"masked_select t broadcast", masked_select_fn, (void *)&sel4, 1, {CT_SHAPE(3, 1)}, 0, 0},
        {"masked_select 0-d t", masked_select_fn, (void *)&sel5, 1, {SCALAR}, 0, 0},
        {"masked_select all true", masked_select_fn, (void *)&sel23u8, 1, {CT_SHAPE(2, 3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_select_gather(void **state) {
    (void)state;
    static const op_spec is0 = {.dim = 0, .entry = {IDX(CT_SHAPE(4), 2, 0, 2, 3)}};
    static const op_spec is1 = {.dim = 1, .entry = {IDX32(CT_SHAPE(3), 4, 0, 4)}};
    static const op_spec is_last = {.dim = -1, .entry = {IDX(CT_SHAPE(2), 3, 1)}};
    static const op_spec is_0d = {.dim = 1, .entry = {IDX(SCALAR, 2)}};
    static const op_spec is_of_0d = {.dim = 0, .entry = {IDX(CT_SHAPE(1), 0)}};
    static const op_spec g1 = {.dim = 1, .entry = {IDX(CT_SHAPE(3, 2), 0, 3, 1, 1, 3, 0)}};
    static const op_spec g0 = {.dim = 0, .entry = {IDX(CT_SHAPE(2, 4), 0, 1, 2, 0, 2, 2, 1, 0)}};
    static const op_spec g_last = {.dim = -1, .entry = {IDX(CT_SHAPE(2, 2), 2, 2, 0, 1)}};
    static const op_spec g_0d = {.dim = 0, .entry = {IDX(SCALAR, 0)}};
    static const tu_grad_case cases[] = {
        {"index_select dim 0, repeated", index_select_fn, (void *)&is0, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"index_select dim 1, int32", index_select_fn, (void *)&is1, 1, {CT_SHAPE(3, 5)}, 0, 0},
        {"index_select dim -1, 3-D", index_select_fn, (void *)&is_last, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"index_select 0-d index", index_select_fn, (void *)&is_0d, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"index_select of 0-d", index_select_fn, (void *)&is_of_0d, 1, {SCALAR}, 0, 0},
        {"gather dim 1, repeated", gather_fn, (void *)&g1, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"gather dim 0", gather_fn, (void *)&g0, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"gather dim -1, smaller index", gather_fn, (void *)&g_last, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"gather 0-d", gather_fn, (void *)&g_0d, 1, {SCALAR}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_scatter(void **state) {
    (void)state;
    /* scatter targets are distinct (with repeats the forward keeps one src of several) */
    static const op_spec s1 = {.dim = 1, .entry = {IDX(CT_SHAPE(3, 2), 0, 3, 1, 2, 3, 0)}};
    static const op_spec s0 = {.dim = 0, .entry = {IDX(CT_SHAPE(2, 3), 0, 1, 2, 2, 0, 1)}};
    static const op_spec s_0d = {.dim = 0, .entry = {IDX(SCALAR, 0)}};
    static const op_spec s_1of0d = {.dim = 0, .entry = {IDX(CT_SHAPE(1), 0)}};
    static const op_spec v1 = {.dim = 1, .value = 7, .entry = {IDX(CT_SHAPE(3, 2), 0, 3, 1, 1, 3, 0)}};
    static const op_spec v0 = {.dim = -2, .value = -1, .entry = {IDX(CT_SHAPE(1, 3), 3, 0, 3)}};
    /* scatter_add is linear in src: repeated targets are fine */
    static const op_spec a1 = {.dim = 1, .entry = {IDX(CT_SHAPE(3, 3), 0, 0, 3, 1, 1, 1, 3, 2, 3)}};
    static const op_spec a0 = {.dim = 0, .entry = {IDX(CT_SHAPE(2, 4), 0, 1, 2, 0, 2, 2, 1, 0)}};
    static const tu_grad_case cases[] = {
        {"scatter dim 1", scatter_fn, (void *)&s1, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"scatter dim 0, src larger than index", scatter_fn, (void *)&s0, 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"scatter 0-d", scatter_fn, (void *)&s_0d, 2, {SCALAR, SCALAR}, 0, 0},
        {"scatter 0-d self and src, 1-D index", scatter_fn, (void *)&s_1of0d, 2, {SCALAR, SCALAR}, 0, 0},
        {"scatter 1-D src of 0-d index", scatter_fn, (void *)&s_0d, 2, {CT_SHAPE(3), CT_SHAPE(2)}, 0, 0},
        {"scatter_value dim 1", scatter_value_fn, (void *)&v1, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"scatter_value dim -2", scatter_value_fn, (void *)&v0, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"scatter_add dim 1, repeated", scatter_add_fn, (void *)&a1, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"scatter_add dim 0, src larger", scatter_add_fn, (void *)&a0, 2, {CT_SHAPE(3, 4), CT_SHAPE(2, 5)}, 0, 0},
        {"scatter_add 0-d", scatter_add_fn, (void *)&s_0d, 2, {SCALAR, SCALAR}, 0, 0},
        {"scatter_ via clone", scatter__fn, (void *)&s0, 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"scatter_add_ via clone", scatter_add__fn, (void *)&a0, 2, {CT_SHAPE(3, 4), CT_SHAPE(2, 5)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_index(void **state) {
    (void)state;
    static const op_spec first = {.n = 1, .entry = {IDX(CT_SHAPE(4), 2, 0, 2, -1)}};
    static const op_spec second = {.n = 2, .entry = {ALL, IDX(CT_SHAPE(2, 2), 1, -1, 1, 0)}};
    static const op_spec pair = {.n = 2, .entry = {IDX(CT_SHAPE(2, 1), 0, 3), IDX32(CT_SHAPE(3), 1, 4, 1)}};
    static const op_spec mask = {.n = 1, .entry = {MASK(CT_SHAPE(3, 4), 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1)}};
    static const op_spec apart = {.n = 3, .entry = {IDX(CT_SHAPE(3), 0, 2, 0), ALL, IDX(CT_SHAPE(3), 1, 0, -1)}};
    static const op_spec rows = {.n = 2, .entry = {MASK(CT_SHAPE(3), 1, 0, 1), ALL}};
    static const op_spec mask0 = {.n = 1, .entry = {MASK(SCALAR, 1)}};
    static const op_spec none = {.n = 0};
    static const op_spec put_rows = {.n = 1, .entry = {IDX(CT_SHAPE(3), 2, 0, -1)}};
    static const op_spec add_rows = {.n = 1, .accumulate = true, .entry = {IDX(CT_SHAPE(4), 2, 0, 2, -2)}};
    static const op_spec put_mask = {.n = 1, .entry = {MASK(CT_SHAPE(3, 4), 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1)}};
    static const op_spec add_cols = {.n = 2, .accumulate = true, .entry = {ALL, IDX(CT_SHAPE(3), 1, -2, 1)}};
    static const op_spec put_points = {.n = 2, .entry = {IDX(CT_SHAPE(2), 0, 2), IDX(CT_SHAPE(2), 1, -1)}};
    static const tu_grad_case cases[] = {
        {"index rows, repeated and negative", index_fn, (void *)&first, 1, {CT_SHAPE(4, 5)}, 0, 0},
        {"index [:, idx] 2-D idx", index_fn, (void *)&second, 1, {CT_SHAPE(4, 5)}, 0, 0},
        {"index broadcast pair", index_fn, (void *)&pair, 1, {CT_SHAPE(4, 5)}, 0, 0},
        {"index bool mask", index_fn, (void *)&mask, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"index non-adjacent", index_fn, (void *)&apart, 1, {CT_SHAPE(3, 4, 2)}, 0, 0},
        {"index row mask, ':'", index_fn, (void *)&rows, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"index 0-d mask", index_fn, (void *)&mask0, 1, {CT_SHAPE(3)}, 0, 0},
        {"index nothing", index_fn, (void *)&none, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"index_put_ rows", index_put__fn, (void *)&put_rows, 2, {CT_SHAPE(4, 5), CT_SHAPE(3, 5)}, 0, 0},
        {"index_put_ accumulate repeated, broadcast values", index_put__fn, (void *)&add_rows, 2,
         {CT_SHAPE(4, 5), CT_SHAPE(5)}, 0, 0},
        {"index_put_ mask, 0-d values", index_put__fn, (void *)&put_mask, 2, {CT_SHAPE(3, 4), SCALAR}, 0, 0},
        {"index_put_ accumulate columns", index_put__fn, (void *)&add_cols, 2, {CT_SHAPE(4, 5), CT_SHAPE(4, 1)}, 0, 0},
        {"index_put_ points", index_put__fn, (void *)&put_points, 2, {CT_SHAPE(3, 4), CT_SHAPE(2)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- exact gradients ------------------------------------------------------------------------------ */

static ct_tensor *leaf(ct_shape shape, ct_dtype dtype) {
    int64_t n = tu_numel(shape);
    return ct_requires_grad_(ct_reshape(ct_arange(0, (double)n, 1, .dtype = dtype), shape), true);
}

static ct_tensor *i64(ct_shape shape, const int64_t *data) { return ct_from_data(data, shape, CT_I64); }
static ct_tensor *mask(ct_shape shape, const bool *data) { return ct_from_data(data, shape, CT_BOOL); }

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    assert_int_equal(ct_dtype_of(g), ct_dtype_of(t));
    tu_assert_values(g, ct_shape_of(t), want, 0, 0);
}

/* sum(y * w) with w = 1, 2, 3, ... over y's shape: each output element gets a distinct weight. */
static bool backward_weighted(const ct_tensor *y) {
    int64_t n = ct_numel(y);
    ct_tensor *w = ct_reshape(ct_arange(1, (double)n + 1, 1, .dtype = ct_dtype_of(y)), ct_shape_of(y));
    return ct_backward(ct_sum(ct_mul(y, w)));
}

static void assert_grad_fn(const ct_tensor *t, const char *name) {
    if (!t) fail_msg("no result: %s", ct_last_error());
    assert_string_equal(ct_grad_fn_name(t), name);
}

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F64), *src = leaf(CT_SHAPE(2, 3), CT_F64);
    ct_tensor *m = mask(CT_SHAPE(2, 3), (bool[]){1, 0, 1, 0, 1, 0});
    ct_tensor *idx = i64(CT_SHAPE(2, 3), (int64_t[]){0, 1, 0, 1, 0, 1});
    ct_tensor *rows = i64(CT_SHAPE(2), (int64_t[]){1, 0});
    assert_grad_fn(ct_where(m, x, src), "WhereBackward0");
    assert_grad_fn(ct_masked_fill(x, m, 1), "MaskedFillBackward0");
    assert_grad_fn(ct_masked_select(x, m), "MaskedSelectBackward0");
    assert_grad_fn(ct_index_select(x, 0, rows), "IndexSelectBackward0");
    assert_grad_fn(ct_gather(x, 0, idx), "GatherBackward0");
    assert_grad_fn(ct_scatter(x, 0, idx, src), "ScatterBackward0");
    assert_grad_fn(ct_scatter_value(x, 0, idx, 1), "ScatterBackward1");
    assert_grad_fn(ct_scatter_add(x, 0, idx, src), "ScatterAddBackward0");
    assert_grad_fn(ct_index(x, CT_TENSORS(rows)), "IndexBackward0");
    assert_grad_fn(ct_masked_fill_(ct_clone(x), m, 1), "MaskedFillBackward0");
    assert_grad_fn(ct_scatter_(ct_clone(x), 0, idx, src), "ScatterBackward0");
    assert_grad_fn(ct_scatter_add_(ct_clone(x), 0, idx, src), "ScatterAddBackward0");
    assert_grad_fn(ct_index_put_(ct_clone(x), CT_TENSORS(rows), src, false), "IndexPutBackward0");
    /* no graph under no_grad */
    CT_NO_GRAD { assert_null(ct_grad_fn_name(ct_gather(x, 0, idx))); }
    assert_true(ct_ok());
}

static void test_repeated_indices_accumulate(void **state) {
    (void)state;
    /* index_select rows [0, 2, 0, 0] of a 3x2: w rows (1,2) (3,4) (5,6) (7,8) go to rows 0, 2, 0, 0 */
    ct_tensor *x = leaf(CT_SHAPE(3, 2), CT_F64);
    assert_true(backward_weighted(ct_index_select(x, 0, i64(CT_SHAPE(4), (int64_t[]){0, 2, 0, 0}))));
    assert_grad(x, (double[]){1 + 5 + 7, 2 + 6 + 8, 0, 0, 3, 4});

    /* gather along dim 1: [[0, 0, 2], [1, 1, 1]] with w [[1, 2, 3], [4, 5, 6]] */
    ct_tensor *g = leaf(CT_SHAPE(2, 3), CT_F64);
    assert_true(backward_weighted(ct_gather(g, 1, i64(CT_SHAPE(2, 3), (int64_t[]){0, 0, 2, 1, 1, 1}))));
    assert_grad(g, (double[]){1 + 2, 0, 3, 0, 4 + 5 + 6, 0});

    /* index with repeated and negative entries: [-1, 0, -1, 2] of 3 elements, w 1..4 */
    ct_tensor *v = leaf(CT_SHAPE(3), CT_F64);
    assert_true(backward_weighted(ct_index(v, CT_TENSORS(i64(CT_SHAPE(4), (int64_t[]){-1, 0, -1, 2})))));
    assert_grad(v, (double[]){2, 0, 1 + 3 + 4});

    /* index_put_ accumulate: values land at [0, 0, 2, -1] (= 2); out weighted 1, 2, 3 */
    ct_tensor *base = leaf(CT_SHAPE(3), CT_F64), *vals = leaf(CT_SHAPE(4), CT_F64);
    ct_tensor *put = ct_index_put_(ct_clone(base), CT_TENSORS(i64(CT_SHAPE(4), (int64_t[]){0, 0, 2, -1})), vals, true);
    assert_true(backward_weighted(put));
    assert_grad(base, (double[]){1, 2, 3});
    assert_grad(vals, (double[]){1, 1, 3, 3});

    /* scatter_add of 4 sources into 2 slots [0, 0, 1, 0]; out weighted 1, 2 */
    ct_tensor *self = leaf(CT_SHAPE(2), CT_F64), *src = leaf(CT_SHAPE(4), CT_F64);
    assert_true(backward_weighted(ct_scatter_add(self, 0, i64(CT_SHAPE(4), (int64_t[]){0, 0, 1, 0}), src)));
    assert_grad(self, (double[]){1, 2});
    assert_grad(src, (double[]){1, 1, 2, 1});
}

static void test_overwrites_zero_the_gradient(void **state) {
    (void)state;
    /* scatter src [s0, s1] to [2, 0] of 3: out = (s1, x1, s0), weighted 1, 2, 3 */
    ct_tensor *x = leaf(CT_SHAPE(3), CT_F64), *src = leaf(CT_SHAPE(2), CT_F64);
    ct_tensor *index = i64(CT_SHAPE(2), (int64_t[]){2, 0});
    assert_true(backward_weighted(ct_scatter(x, 0, index, src)));
    assert_grad(x, (double[]){0, 2, 0});
    assert_grad(src, (double[]){3, 1});

    /* src larger than index: its unread tail gets 0 */
    ct_tensor *wide = leaf(CT_SHAPE(4), CT_F64);
    assert_true(backward_weighted(ct_scatter(ct_zeros(CT_SHAPE(3), .dtype = CT_F64), 0, index, wide)));
    assert_grad(wide, (double[]){3, 1, 0, 0});

    /* scatter_value and masked_fill: the filled positions get 0 */
    ct_tensor *y = leaf(CT_SHAPE(3), CT_F64);
    assert_true(backward_weighted(ct_scatter_value(y, 0, index, 9)));
    assert_grad(y, (double[]){0, 2, 0});
    ct_tensor *z = leaf(CT_SHAPE(2, 3), CT_F64);
    assert_true(backward_weighted(ct_masked_fill(z, mask(CT_SHAPE(3), (bool[]){1, 0, 0}), 9)));
    assert_grad(z, (double[]){0, 2, 3, 0, 5, 6});

    /* index_put_ without accumulate: t's gradient is zeroed where values were written */
    ct_tensor *t = leaf(CT_SHAPE(3), CT_F64), *vals = leaf(CT_SHAPE(2), CT_F64);
    assert_true(backward_weighted(ct_index_put_(ct_clone(t), CT_TENSORS(i64(CT_SHAPE(2), (int64_t[]){0, -1})), vals, false)));
    assert_grad(t, (double[]){0, 2, 0});
    assert_grad(vals, (double[]){1, 3});
}

static void test_masks_and_broadcast_conditions(void **state) {
    (void)state;
    /* where with cond (2,1) = [T, F], a (1,3), b 0-d: a fills row 0, b row 1 */
    ct_tensor *cond = mask(CT_SHAPE(2, 1), (bool[]){1, 0});
    ct_tensor *a = leaf(CT_SHAPE(1, 3), CT_F64), *b = leaf(CT_SHAPE(), CT_F64);
    assert_true(backward_weighted(ct_where(cond, a, b)));
    assert_grad(a, (double[]){1, 2, 3});
    assert_grad(b, (double[]){4 + 5 + 6});

    /* masked_select of x (1,3) broadcast against mask (2,3): each true reads a column of x */
    ct_tensor *x = leaf(CT_SHAPE(1, 3), CT_F64);
    ct_tensor *m = mask(CT_SHAPE(2, 3), (bool[]){1, 0, 1, 1, 1, 0});
    ct_tensor *picked = ct_masked_select(x, m);
    assert_true(backward_weighted(picked)); /* weights 1..4 in row-major order of the trues */
    assert_grad(x, (double[]){1 + 3, 4, 2});

    /* an all-false mask selects nothing: zero gradient */
    ct_tensor *e = leaf(CT_SHAPE(2), CT_F64);
    ct_tensor *none = ct_masked_select(e, mask(CT_SHAPE(2), (bool[]){0, 0}));
    assert_int_equal(ct_numel(none), 0);
    assert_true(ct_backward(ct_sum(none)));
    assert_grad(e, (double[]){0, 0});

    /* x[mask] and x[row_mask, :] */
    ct_tensor *y = leaf(CT_SHAPE(2, 3), CT_F64);
    assert_true(backward_weighted(ct_index(y, CT_TENSORS(mask(CT_SHAPE(2, 3), (bool[]){1, 0, 1, 0, 0, 1})))));
    assert_grad(y, (double[]){1, 0, 2, 0, 0, 3});
    ct_tensor *z = leaf(CT_SHAPE(3, 2), CT_F64);
    assert_true(backward_weighted(ct_index(z, CT_TENSORS(mask(CT_SHAPE(3), (bool[]){0, 1, 1}), NULL))));
    assert_grad(z, (double[]){0, 0, 1, 2, 3, 4});
}

static void test_f32_gradients(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F32), *d = leaf(CT_SHAPE(2, 3), CT_F64);
    ct_tensor *idx = i64(CT_SHAPE(1, 3), (int64_t[]){1, 0, 1});
    ct_tensor *m = mask(CT_SHAPE(3), (bool[]){1, 0, 1});
    ct_tensor *loss = ct_add(ct_sum(ct_gather(x, 0, idx)), ct_sum(ct_where(m, x, d)));
    assert_int_equal(ct_dtype_of(ct_where(m, x, d)), CT_F64);
    assert_true(ct_backward(loss));
    assert_int_equal(ct_dtype_of(ct_grad(x)), CT_F32); /* checked by assert_grad too */
    assert_grad(x, (double[]){1, 1, 1, 2, 0, 2});
    assert_grad(d, (double[]){0, 1, 0, 0, 1, 0});
}

/* ---- in-place forms ----------------------------------------------------------------------------- */

static void test_inplace_on_leaf_fails(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F64);
    ct_tensor *src = ct_ones(CT_SHAPE(2, 3), .dtype = CT_F64);
    ct_tensor *idx = i64(CT_SHAPE(2, 3), (int64_t[]){0, 1, 0, 1, 0, 1});
    ct_tensor *m = mask(CT_SHAPE(3), (bool[]){1, 0, 1});
    const char *leaf_msg = "a leaf Variable that requires grad is being used in an in-place operation.";
    assert_null(ct_masked_fill_(x, m, 0));
    tu_assert_error(CT_ERR_STATE, leaf_msg);
    assert_null(ct_scatter_(x, 0, idx, src));
    tu_assert_error(CT_ERR_STATE, leaf_msg);
    assert_null(ct_scatter_add_(x, 0, idx, src));
    tu_assert_error(CT_ERR_STATE, leaf_msg);
    assert_null(ct_index_put_(x, CT_TENSORS(i64(CT_SHAPE(1), (int64_t[]){0})), src, false));
    tu_assert_error(CT_ERR_STATE, leaf_msg);
    /* under no_grad the leaf may be written */
    CT_NO_GRAD { assert_non_null(ct_masked_fill_(x, m, 0)); }
    assert_true(ct_ok());
}

static void test_inplace_records(void **state) {
    (void)state;
    /* only src requires grad: the written tensor joins the graph */
    ct_tensor *t = ct_zeros(CT_SHAPE(3), .dtype = CT_F64), *src = leaf(CT_SHAPE(2), CT_F64);
    ct_tensor *index = i64(CT_SHAPE(2), (int64_t[]){2, 0});
    assert_ptr_equal(ct_scatter_(t, 0, index, src), t);
    assert_true(ct_requires_grad(t));
    assert_string_equal(ct_grad_fn_name(t), "ScatterBackward0");
    assert_true(backward_weighted(t));
    assert_grad(src, (double[]){3, 1});

    /* a chain of in-place ops on a clone: x -> masked_fill_ -> scatter_add_ -> index_put_ */
    ct_tensor *x = leaf(CT_SHAPE(4), CT_F64), *add = leaf(CT_SHAPE(2), CT_F64), *vals = leaf(CT_SHAPE(1), CT_F64);
    ct_tensor *y = ct_clone(x);
    ct_masked_fill_(y, mask(CT_SHAPE(4), (bool[]){0, 1, 0, 0}), 5);
    ct_scatter_add_(y, 0, i64(CT_SHAPE(2), (int64_t[]){3, 3}), add);
    ct_index_put_(y, CT_TENSORS(i64(CT_SHAPE(1), (int64_t[]){0})), vals, false);
    assert_string_equal(ct_grad_fn_name(y), "IndexPutBackward0");
    tu_assert_values(y, CT_SHAPE(4), (double[]){0, 5, 2, 3 + 0 + 1}, 0, 0);
    assert_true(backward_weighted(y)); /* w = 1, 2, 3, 4 */
    assert_grad(x, (double[]){0, 0, 3, 4});
    assert_grad(add, (double[]){4, 4});
    assert_grad(vals, (double[]){1});
}

static void test_modified_saved_index_fails(void **state) {
    (void)state;
    const char *msg = "modified by an inplace operation";
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F64);
    ct_tensor *idx = i64(CT_SHAPE(1, 3), (int64_t[]){1, 0, 1});
    ct_tensor *y = ct_gather(x, 0, idx);
    ct_fill_(idx, 0);
    assert_false(ct_backward(ct_sum(y)));
    tu_assert_error(CT_ERR_STATE, msg);

    ct_tensor *cond = mask(CT_SHAPE(3), (bool[]){1, 0, 1});
    ct_tensor *w = ct_where(cond, x, ct_scalar(0));
    ct_fill_(cond, 1);
    assert_false(ct_backward(ct_sum(w)));
    tu_assert_error(CT_ERR_STATE, msg);

    ct_tensor *rows = i64(CT_SHAPE(2), (int64_t[]){1, 1});
    ct_tensor *picked = ct_index(x, CT_TENSORS(NULL, rows));
    ct_fill_(rows, 0);
    assert_false(ct_backward(ct_sum(picked)));
    tu_assert_error(CT_ERR_STATE, msg);
}

static void test_errors(void **state) {
    (void)state;
    /* advanced indexing saves one slot per entry: at most 8 entries under autograd */
    ct_tensor *x = leaf(CT_SHAPE(2), CT_F64);
    ct_tensor *on = ct_scalar_bool(true);
    ct_tensor_list nine = CT_TENSORS(on, on, on, on, on, on, on, on, on);
    assert_null(ct_index(x, nine));
    tu_assert_error(CT_ERR_UNSUPPORTED, "index: autograd saves at most 8 index entries for backward, got 9");
    CT_NO_GRAD { assert_non_null(ct_index(x, nine)); }
    ct_tensor *t = ct_clone(x);
    assert_null(ct_index_put_(t, nine, ct_scalar(1), false));
    tu_assert_error(CT_ERR_UNSUPPORTED, "index_put: autograd saves at most 8 index entries for backward, got 9");
    tu_assert_values(t, CT_SHAPE(2), (double[]){0, 1}, 0, 0); /* nothing written */
    /* accumulating constant values needs no entries for backward */
    assert_non_null(ct_index_put_(t, nine, ct_scalar(1), true));
    tu_assert_values(t, CT_SHAPE(2), (double[]){1, 2}, 0, 0);

    /* in-place ops whose result cannot fit self report the tensor layer's error */
    ct_tensor *y = ct_clone(x);
    assert_null(ct_masked_fill_(y, mask(CT_SHAPE(2, 2), (bool[]){1, 0, 0, 1}), 0));
    tu_assert_error(CT_ERR_SHAPE, "masked_fill_: output with shape [2] doesn't match the broadcast shape [2, 2]");
    ct_tensor *wide = ct_expand(ct_clone(leaf(CT_SHAPE(1), CT_F64)), CT_SHAPE(3));
    assert_null(ct_masked_fill_(wide, mask(CT_SHAPE(3), (bool[]){1, 0, 0}), 0));
    tu_assert_error(CT_ERR_ARG, "more than one element of the written-to tensor refers to a single memory location");
    assert_null(ct_scatter_(wide, 0, i64(CT_SHAPE(1), (int64_t[]){0}), ct_ones(CT_SHAPE(1), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_ARG, "scatter_: unsupported operation");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_gradcheck_where_masked),
        cmocka_unit_test(test_gradcheck_select_gather),
        cmocka_unit_test(test_gradcheck_scatter),
        cmocka_unit_test(test_gradcheck_index),
        cmocka_unit_test(test_repeated_indices_accumulate),
        cmocka_unit_test(test_overwrites_zero_the_gradient),
        cmocka_unit_test(test_masks_and_broadcast_conditions),
        cmocka_unit_test(test_f32_gradients),
        cmocka_unit_test(test_inplace_on_leaf_fails),
        cmocka_unit_test(test_inplace_records),
        cmocka_unit_test(test_modified_saved_index_fails),
        cmocka_unit_test(test_errors),
    };
    return TU_RUN("grad_index", tests);
}
