/* Derivatives of the copying shape ops: clone, copy_, to_dtype, to, cat, stack, split,
 * split_sizes, chunk, unbind, repeat, tile, flip, roll, pad (all modes), tril, triu. A gradcheck
 * table over every layout, then grad_fn names, exact gradients where pieces are used partly or
 * elements are copied several times, dtypes of gradients, and in-place rules of copy_. */
#include "../common/testutil.h"

#include <string.h>

static ct_tensor *leaf(ct_shape shape, double start, ct_dtype dtype) {
    int64_t n = tu_numel(shape);
    ct_tensor *t = ct_reshape(ct_arange(start, start + (double)n, 1, .dtype = dtype), shape);
    return ct_requires_grad_(t, true);
}

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    assert_int_equal(ct_dtype_of(g), ct_dtype_of(t));
    tu_assert_values(g, ct_shape_of(t), want, 1e-6, 1e-6);
}

/* sum(y * w) with w = 1, 2, 3, ... in y's shape: every element of y gets its own weight, so a
 * gradient sent to the wrong place shows. */
static ct_tensor *weighted_sum(const ct_tensor *y) {
    ct_tensor *w = ct_reshape(ct_arange(1, (double)ct_numel(y) + 1, 1, .dtype = ct_dtype_of(y)), ct_shape_of(y));
    return ct_sum(ct_mul(y, w));
}

/* ---- gradcheck functions (user points at the op's arguments) ---- */

typedef struct dim_arg {
    int dim;
} dim_arg;
typedef struct shape_arg {
    ct_shape shape;
    int dim;
} shape_arg;
typedef struct roll_arg {
    ct_shape shifts;
    ct_dims dims;
} roll_arg;
typedef struct pad_arg {
    ct_shape pads;
    ct_pad_opts opts;
} pad_arg;

static ct_tensor *clone_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_clone(in[0]);
}

/* dst = clone(in[0]); dst.copy_(in[1]) (broadcast); plus in[0] so dst's old value is an input too. */
static ct_tensor *copy_fn(ct_tensor *const *in, void *user) {
    (void)user;
    ct_tensor *dst = ct_clone(in[0]);
    return ct_add(ct_copy_(dst, in[1]), ct_mul(in[0], in[0]));
}

static ct_tensor *cat_fn(ct_tensor *const *in, void *user) {
    const int *a = user; /* {n inputs, dim} */
    return ct_cat(((ct_tensor_list){.n = a[0], .items = in}), a[1]);
}

static ct_tensor *stack_fn(ct_tensor *const *in, void *user) {
    const int *a = user;
    return ct_stack(((ct_tensor_list){.n = a[0], .items = in}), a[1]);
}

/* sum over pieces of (i + 1) * sum(p_i * p_i): each piece's position and scale matter. */
static ct_tensor *pieces_loss(ct_tensor_list pieces) {
    if (!pieces.items && pieces.n) return NULL;
    ct_tensor *loss = ct_scalar_tensor(0, .dtype = CT_F64);
    for (int i = 0; i < pieces.n; i++)
        loss = ct_add(loss, ct_mul(ct_sum(ct_mul(pieces.items[i], pieces.items[i])), ct_scalar(i + 1)));
    return loss;
}

static ct_tensor *split_fn(ct_tensor *const *in, void *user) {
    const shape_arg *a = user; /* shape.d[0] = split_size */
    return pieces_loss(ct_split(in[0], a->shape.d[0], a->dim));
}

static ct_tensor *split_sizes_fn(ct_tensor *const *in, void *user) {
    const shape_arg *a = user;
    return pieces_loss(ct_split_sizes(in[0], a->shape, a->dim));
}

static ct_tensor *chunk_fn(ct_tensor *const *in, void *user) {
    const shape_arg *a = user; /* shape.d[0] = chunks */
    return pieces_loss(ct_chunk(in[0], a->shape.d[0], a->dim));
}

static ct_tensor *unbind_fn(ct_tensor *const *in, void *user) {
    return pieces_loss(ct_unbind(in[0], ((dim_arg *)user)->dim));
}

static ct_tensor *repeat_fn(ct_tensor *const *in, void *user) { return ct_repeat(in[0], ((shape_arg *)user)->shape); }
static ct_tensor *tile_fn(ct_tensor *const *in, void *user) { return ct_tile(in[0], ((shape_arg *)user)->shape); }
static ct_tensor *flip_fn(ct_tensor *const *in, void *user) { return ct_flip(in[0], ((shape_arg *)user)->shape); }

static ct_tensor *roll_fn(ct_tensor *const *in, void *user) {
    const roll_arg *a = user;
    return ct_roll(in[0], a->shifts, a->dims);
}

static ct_tensor *pad_fn(ct_tensor *const *in, void *user) {
    const pad_arg *a = user;
    return ct_pad_opt(in[0], a->pads, a->opts);
}

static ct_tensor *tril_fn(ct_tensor *const *in, void *user) { return ct_tril(in[0], ((shape_arg *)user)->dim); }
static ct_tensor *triu_fn(ct_tensor *const *in, void *user) { return ct_triu(in[0], ((shape_arg *)user)->dim); }

static void test_gradcheck_table(void **state) {
    (void)state;
    static int cat2_d0[] = {2, 0}, cat2_d1[] = {2, 1}, cat3_dm1[] = {3, -1}, cat1[] = {1, 0};
    static int stack2_d0[] = {2, 0}, stack3_d1[] = {3, 1}, stack2_dm1[] = {2, -1};
    static shape_arg split2_d0 = {CT_SHAPE(2), 0}, split2_d1 = {CT_SHAPE(2), 1}, split3_dm1 = {CT_SHAPE(3), -1};
    static shape_arg sizes_d0 = {CT_SHAPE(1, 0, 3), 0}, sizes_d1 = {CT_SHAPE(2, 3), -1};
    static shape_arg chunk3_d0 = {CT_SHAPE(3), 0}, chunk2_d1 = {CT_SHAPE(2), 1}, chunk4_d2 = {CT_SHAPE(4), 2};
    static dim_arg dim0 = {0}, dim1 = {1}, dimm1 = {-1};
    static shape_arg rep_rows = {CT_SHAPE(2, 1), 0}, rep_both = {CT_SHAPE(2, 3), 0}, rep_lead = {CT_SHAPE(2, 1, 3), 0};
    static shape_arg rep_ones = {CT_SHAPE(3, 2, 2), 0}, rep_zero = {CT_SHAPE(2, 3), 0}, rep_scalar = {CT_SHAPE(3, 2), 0};
    static shape_arg tile_short = {CT_SHAPE(2), 0}, tile_long = {CT_SHAPE(2, 1, 2), 0};
    static shape_arg flip0 = {CT_DIMS(0), 0}, flip_last = {CT_DIMS(-1), 0}, flip_all = {CT_DIMS(0, 1, 2), 0};
    static roll_arg roll0 = {CT_SHAPE(1), CT_DIMS(0)}, roll2 = {CT_SHAPE(2, -1), CT_DIMS(0, 1)};
    static roll_arg roll_flat = {CT_SHAPE(3), {.ndim = 0}}, roll_twice = {CT_SHAPE(1, 2), CT_DIMS(1, 1)};
    static pad_arg constant1 = {CT_SHAPE(1, 2), {CT_PAD_CONSTANT, 0}};
    static pad_arg constant2 = {CT_SHAPE(1, 1, 2, 0), {CT_PAD_CONSTANT, 3.5}};
    static pad_arg constant_crop = {CT_SHAPE(-1, 2, 1, -1), {CT_PAD_CONSTANT, 0}};
    static pad_arg reflect1 = {CT_SHAPE(2, 1), {CT_PAD_REFLECT, 0}};
    static pad_arg reflect2 = {CT_SHAPE(1, 2, 2, 1), {CT_PAD_REFLECT, 0}};
    static pad_arg reflect_crop = {CT_SHAPE(3, -1), {CT_PAD_REFLECT, 0}};
    static pad_arg replicate1 = {CT_SHAPE(2, 3), {CT_PAD_REPLICATE, 0}};
    static pad_arg replicate2 = {CT_SHAPE(1, 0, 2, 2), {CT_PAD_REPLICATE, 0}};
    static pad_arg replicate_crop = {CT_SHAPE(-2, 3), {CT_PAD_REPLICATE, 0}};
    static pad_arg circular1 = {CT_SHAPE(1, 2), {CT_PAD_CIRCULAR, 0}};
    static pad_arg circular2 = {CT_SHAPE(2, 2, 1, 3), {CT_PAD_CIRCULAR, 0}};
    static pad_arg circular_crop = {CT_SHAPE(-1, 2), {CT_PAD_CIRCULAR, 0}};
    static pad_arg pad3d = {CT_SHAPE(1, 1, 1, 0, 0, 1), {CT_PAD_REFLECT, 0}};
    static shape_arg diag0 = {{0}, 0}, diag1 = {{0}, 1}, diagm1 = {{0}, -1};
    static const tu_grad_case cases[] = {
        {"clone 3x4", clone_fn, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"clone 0-d", clone_fn, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"copy_ same shape", copy_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"copy_ broadcast row", copy_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(4)}, 0, 0},
        {"copy_ broadcast column", copy_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(3, 1)}, 0, 0},
        {"copy_ 0-d source", copy_fn, NULL, 2, {CT_SHAPE(2, 3), CT_SHAPE()}, 0, 0},
        {"cat dim 0", cat_fn, cat2_d0, 2, {CT_SHAPE(2, 3), CT_SHAPE(4, 3)}, 0, 0},
        {"cat dim 1", cat_fn, cat2_d1, 2, {CT_SHAPE(3, 2), CT_SHAPE(3, 4)}, 0, 0},
        {"cat three dim -1", cat_fn, cat3_dm1, 3, {CT_SHAPE(2, 3, 2), CT_SHAPE(2, 3, 1), CT_SHAPE(2, 3, 3)}, 0, 0},
        {"cat 1-d", cat_fn, cat2_d0, 2, {CT_SHAPE(3), CT_SHAPE(5)}, 0, 0},
        {"cat one", cat_fn, cat1, 1, {CT_SHAPE(3, 2)}, 0, 0},
        {"stack dim 0", stack_fn, stack2_d0, 2, {CT_SHAPE(2, 3), CT_SHAPE(2, 3)}, 0, 0},
        {"stack three dim 1", stack_fn, stack3_d1, 3, {CT_SHAPE(2, 3), CT_SHAPE(2, 3), CT_SHAPE(2, 3)}, 0, 0},
        {"stack dim -1", stack_fn, stack2_dm1, 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"stack 0-d", stack_fn, stack2_d0, 2, {CT_SHAPE(), CT_SHAPE()}, 0, 0},
        {"split 2 dim 0", split_fn, &split2_d0, 1, {CT_SHAPE(5, 3)}, 0, 0},
        {"split 2 dim 1", split_fn, &split2_d1, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"split 3 dim -1", split_fn, &split3_dm1, 1, {CT_SHAPE(2, 3, 7)}, 0, 0},
        {"split_sizes with 0", split_sizes_fn, &sizes_d0, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"split_sizes dim -1", split_sizes_fn, &sizes_d1, 1, {CT_SHAPE(3, 5)}, 0, 0},
        {"chunk 3 dim 0", chunk_fn, &chunk3_d0, 1, {CT_SHAPE(7, 2)}, 0, 0},
        {"chunk 2 dim 1", chunk_fn, &chunk2_d1, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"chunk 4 dim 2", chunk_fn, &chunk4_d2, 1, {CT_SHAPE(2, 2, 6)}, 0, 0},
        {"unbind dim 0", unbind_fn, &dim0, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"unbind dim 1", unbind_fn, &dim1, 1, {CT_SHAPE(2, 3, 2)}, 0, 0},
        {"unbind dim -1", unbind_fn, &dimm1, 1, {CT_SHAPE(4)}, 0, 0},
        {"repeat rows", repeat_fn, &rep_rows, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"repeat both", repeat_fn, &rep_both, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"repeat leading", repeat_fn, &rep_lead, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"repeat size-1 dims", repeat_fn, &rep_ones, 1, {CT_SHAPE(1, 4, 1)}, 0, 0},
        {"repeat 1-d into 2-d", repeat_fn, &rep_zero, 1, {CT_SHAPE(4)}, 0, 0},
        {"repeat 0-d", repeat_fn, &rep_scalar, 1, {CT_SHAPE()}, 0, 0},
        {"tile fewer reps", tile_fn, &tile_short, 1, {CT_SHAPE(2, 3)}, 0, 0},
        {"tile more reps", tile_fn, &tile_long, 1, {CT_SHAPE(3, 2)}, 0, 0},
        {"flip dim 0", flip_fn, &flip0, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"flip last", flip_fn, &flip_last, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"flip all", flip_fn, &flip_all, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"roll dim 0", roll_fn, &roll0, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"roll two dims", roll_fn, &roll2, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"roll flattened", roll_fn, &roll_flat, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"roll one dim twice", roll_fn, &roll_twice, 1, {CT_SHAPE(2, 5)}, 0, 0},
        {"pad constant 1 dim", pad_fn, &constant1, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"pad constant 2 dims value", pad_fn, &constant2, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"pad constant crop", pad_fn, &constant_crop, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"pad reflect 1 dim", pad_fn, &reflect1, 1, {CT_SHAPE(2, 5)}, 0, 0},
        {"pad reflect 2 dims", pad_fn, &reflect2, 1, {CT_SHAPE(2, 4, 5)}, 0, 0},
        {"pad reflect crop", pad_fn, &reflect_crop, 1, {CT_SHAPE(3, 5)}, 0, 0},
        {"pad reflect 3 dims", pad_fn, &pad3d, 1, {CT_SHAPE(3, 3, 4)}, 0, 0},
        {"pad replicate 1 dim", pad_fn, &replicate1, 1, {CT_SHAPE(2, 4)}, 0, 0},
        {"pad replicate 2 dims", pad_fn, &replicate2, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"pad replicate crop", pad_fn, &replicate_crop, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"pad circular 1 dim", pad_fn, &circular1, 1, {CT_SHAPE(2, 4)}, 0, 0},
        {"pad circular 2 dims", pad_fn, &circular2, 1, {CT_SHAPE(2, 4, 3)}, 0, 0},
        {"pad circular crop", pad_fn, &circular_crop, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"tril", tril_fn, &diag0, 1, {CT_SHAPE(4, 4)}, 0, 0},
        {"tril +1 wide", tril_fn, &diag1, 1, {CT_SHAPE(3, 5)}, 0, 0},
        {"tril -1 batched", tril_fn, &diagm1, 1, {CT_SHAPE(2, 4, 3)}, 0, 0},
        {"triu", triu_fn, &diag0, 1, {CT_SHAPE(4, 4)}, 0, 0},
        {"triu +1 batched", triu_fn, &diag1, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"triu -1 tall", triu_fn, &diagm1, 1, {CT_SHAPE(5, 3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* f64 -> f32 -> f64 is the identity up to rounding, so a wide step keeps rounding out. */
static ct_tensor *dtype_round_trip_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_to_dtype(ct_mul(ct_to_dtype(in[0], CT_F32), ct_scalar(2)), CT_F64);
}

static void test_gradcheck_to_dtype(void **state) {
    (void)state;
    uint64_t seed = 7;
    for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++) CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(tu_random(&seed, CT_SHAPE(3, 4), CT_F64, (tu_layout)layout, -2, 2), true);
        if (!ct_gradcheck(dtype_round_trip_fn, NULL, CT_TENSORS(x), .eps = 1e-2, .atol = 1e-4))
            fail_msg("to_dtype round trip with %s input: %s", tu_layout_names[layout], ct_last_error());
    }
}

/* ---- grad_fn names ---- */

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3, 4), 0, CT_F32);
    ct_tensor *v = leaf(CT_SHAPE(4), 0, CT_F32);
    struct {
        ct_tensor *y;
        const char *want;
    } rows[] = {
        {ct_clone(x), "CloneBackward0"},
        {ct_to_dtype(x, CT_F64), "ToCopyBackward0"},
        {ct_copy_(ct_zeros(CT_SHAPE(3, 4)), v), "CopyBackwards"},
        {ct_cat(CT_TENSORS(x, x), 0), "CatBackward0"},
        {ct_stack(CT_TENSORS(x, x), 0), "StackBackward0"},
        {ct_split(x, 2, 1).items[1], "SplitBackward0"},
        {ct_split_sizes(x, CT_SHAPE(1, 3), 1).items[0], "SplitWithSizesBackward0"},
        {ct_chunk(x, 2, 0).items[0], "SplitBackward0"},
        {ct_unbind(x, 0).items[2], "UnbindBackward0"},
        {ct_repeat(x, CT_SHAPE(2, 1)), "RepeatBackward0"},
        {ct_tile(x, CT_SHAPE(2)), "RepeatBackward0"},
        {ct_flip(x, CT_DIMS(0)), "FlipBackward0"},
        {ct_roll(x, CT_SHAPE(1), CT_DIMS(0)), "RollBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1)), "ConstantPadNdBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1), .mode = CT_PAD_REFLECT), "ReflectionPad1dBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1, 1, 1), .mode = CT_PAD_REFLECT), "ReflectionPad2dBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1), .mode = CT_PAD_REPLICATE), "ReplicationPad1dBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1, 1, 1), .mode = CT_PAD_REPLICATE), "ReplicationPad2dBackward0"},
        {ct_pad(x, CT_SHAPE(1, 1), .mode = CT_PAD_CIRCULAR), "CopySlices"},
        {ct_tril(x, 0), "TrilBackward0"},
        {ct_triu(x, 0), "TriuBackward0"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (!rows[i].y) fail_msg("row %zu (%s): %s", i, rows[i].want, ct_last_error());
        assert_true(ct_requires_grad(rows[i].y));
        assert_string_equal(ct_grad_fn_name(rows[i].y), rows[i].want);
    }
    /* Nothing to record: the same dtype or device gives x itself. */
    assert_ptr_equal(ct_to_dtype(x, CT_F32), x);
    assert_ptr_equal(ct_to(x, CT_CPU), x);
    assert_null(ct_grad_fn_name(x));
}

/* ---- dtypes ---- */

static void test_dtype_round_trip_gives_f32_gradient(void **state) {
    (void)state;
    /* loss = sum(double(x)^2): dx = 2x, in x's float32 */
    ct_tensor *x = leaf(CT_SHAPE(2, 2), -1, CT_F32);
    ct_tensor *y = ct_to_dtype(x, CT_F64);
    assert_int_equal(ct_dtype_of(y), CT_F64);
    assert_true(ct_backward(ct_sum(ct_mul(y, y))));
    assert_grad(x, (double[]){-2, 0, 2, 4});
}

static void test_integer_target_not_differentiable(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3), 0, CT_F32);
    ct_tensor *i = ct_to_dtype(x, CT_I64);
    assert_non_null(i);
    assert_false(ct_requires_grad(i));
    assert_null(ct_grad_fn_name(i));
    assert_true(ct_ok());
}

static void test_f32_gradients_stay_f32(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), 0, CT_F32);
    ct_tensor *loss = ct_add(ct_sum(ct_pad(ct_flip(x, CT_DIMS(1)), CT_SHAPE(1, 1), .mode = CT_PAD_REFLECT)),
                             ct_sum(ct_repeat(ct_tril(x, 0), CT_SHAPE(2, 1))));
    assert_true(ct_backward(loss));
    /* a row [a b c] flipped and reflect-padded is [b c b a b]: a and c once, b three times; tril
     * keeps (0,0), (1,0), (1,1), each repeated twice */
    assert_grad(x, (double[]){1 + 2, 3, 1, 1 + 2, 3 + 2, 1});
}

/* ---- cat ---- */

static void test_cat_some_inputs_require_grad(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(1, 2), 0, CT_F32);
    ct_tensor *b = ct_ones(CT_SHAPE(2, 2)); /* a constant */
    ct_tensor *c = leaf(CT_SHAPE(1, 2), 0, CT_F64);
    ct_tensor *y = ct_cat(CT_TENSORS(a, b, c), 0);
    assert_int_equal(ct_dtype_of(y), CT_F64);
    assert_true(ct_backward(weighted_sum(y))); /* weights 1..8 over the 4x2 result */
    assert_grad(a, (double[]){1, 2});
    assert_null(ct_grad(b));
    assert_grad(c, (double[]){7, 8}); /* in c's float64; a's are float32 */
    assert_true(ct_ok());
}

static void test_cat_skips_legacy_empty(void **state) {
    (void)state;
    ct_tensor *e = ct_requires_grad_(ct_zeros(CT_SHAPE(0), .dtype = CT_F64), true);
    ct_tensor *x = leaf(CT_SHAPE(2, 2), 0, CT_F64);
    ct_tensor *y = ct_cat(CT_TENSORS(e, x, e), 1);
    assert_non_null(y);
    assert_true(ct_backward(weighted_sum(y)));
    assert_grad(x, (double[]){1, 2, 3, 4});
    ct_tensor *ge = ct_grad(e);
    assert_non_null(ge);
    assert_int_equal(ct_ndim(ge), 1);
    assert_int_equal(ct_numel(ge), 0);
}

/* ---- lists used partly ---- */

static void test_chunks_used_partly(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(5, 2), 0, CT_F32);
    ct_tensor_list parts = ct_chunk(x, 3, 0); /* rows [0, 2), [2, 4), [4, 5) */
    assert_int_equal(parts.n, 3);
    for (int i = 0; i < parts.n; i++) assert_true(ct_shares_storage(parts.items[i], x)); /* views */
    assert_true(ct_backward(weighted_sum(parts.items[1])));
    assert_grad(x, (double[]){0, 0, 0, 0, 1, 2, 3, 4, 0, 0});
}

static void test_split_pieces_reused(void **state) {
    (void)state;
    /* loss = sum(p0 * w) + 2 sum(p2) + sum(p2): pieces sum their contributions, p1 gives zero */
    ct_tensor *x = leaf(CT_SHAPE(2, 5), 0, CT_F64);
    ct_tensor_list parts = ct_split_sizes(x, CT_SHAPE(2, 1, 2), 1);
    ct_tensor *loss = ct_add(weighted_sum(parts.items[0]), ct_mul(ct_sum(parts.items[2]), ct_scalar(2)));
    loss = ct_add(loss, ct_sum(parts.items[2]));
    assert_true(ct_backward(loss));
    assert_grad(x, (double[]){1, 2, 0, 3, 3, 3, 4, 0, 3, 3});
}

static void test_unbind_used_partly(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), 0, CT_F32);
    ct_tensor_list cols = ct_unbind(x, 1);
    assert_int_equal(cols.n, 3);
    assert_true(ct_backward(ct_add(weighted_sum(cols.items[2]), ct_sum(ct_mul(cols.items[0], cols.items[0])))));
    assert_grad(x, (double[]){0, 0, 1, 6, 0, 2}); /* d(x00^2 + x10^2) = 2x: 0 and 6 */
}

static void test_split_on_empty_dim(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_zeros(CT_SHAPE(0, 3)), true);
    ct_tensor_list parts = ct_chunk(x, 2, 0);
    assert_int_equal(parts.n, 2);
    assert_string_equal(ct_grad_fn_name(parts.items[1]), "SplitWithSizesBackward0");
    assert_true(ct_backward(ct_sum(parts.items[0])));
    assert_int_equal(ct_numel(ct_grad(x)), 0);
}

/* ---- exact values where elements are copied or moved ---- */

static void test_reflect_pad_counts_copies(void **state) {
    (void)state;
    /* [0 1 2 3] reflect (2, 1) -> [2 1 0 1 2 3 2]: x0 once, x1 twice, x2 three times, x3 once */
    ct_tensor *x = leaf(CT_SHAPE(4), 0, CT_F32);
    ct_tensor *y = ct_pad(x, CT_SHAPE(2, 1), .mode = CT_PAD_REFLECT);
    tu_assert_values(y, CT_SHAPE(7), (double[]){2, 1, 0, 1, 2, 3, 2}, 0, 0);
    assert_true(ct_backward(ct_sum(y)));
    assert_grad(x, (double[]){1, 2, 3, 1});
}

static void test_replicate_and_circular_pad(void **state) {
    (void)state;
    /* replicate (2, 1): [0 0 0 1 2 2] -> x0 three times, x2 twice */
    ct_tensor *x = leaf(CT_SHAPE(3), 0, CT_F32);
    assert_true(ct_backward(ct_sum(ct_pad(x, CT_SHAPE(2, 1), .mode = CT_PAD_REPLICATE))));
    assert_grad(x, (double[]){3, 1, 2});
    /* circular (1, 2) with weights 1..6: [x2 x0 x1 x2 x0 x1] */
    ct_tensor *z = leaf(CT_SHAPE(3), 0, CT_F32);
    assert_true(ct_backward(weighted_sum(ct_pad(z, CT_SHAPE(1, 2), .mode = CT_PAD_CIRCULAR))));
    assert_grad(z, (double[]){2 + 5, 3 + 6, 1 + 4});
}

static void test_constant_pad_crop_gets_zero(void **state) {
    (void)state;
    /* (-1, 2): y = [x1 x2 c c]; x0 was cropped away and gets 0 */
    ct_tensor *x = leaf(CT_SHAPE(3), 0, CT_F32);
    assert_true(ct_backward(weighted_sum(ct_pad(x, CT_SHAPE(-1, 2), .value = 9))));
    assert_grad(x, (double[]){0, 1, 2});
}

static void test_repeat_and_roll_values(void **state) {
    (void)state;
    /* repeat (2, 2) of [a b]: [[a b a b] [a b a b]] with weights 1..8 -> a: 1+3+5+7, b: 2+4+6+8 */
    ct_tensor *x = leaf(CT_SHAPE(2), 0, CT_F32);
    assert_true(ct_backward(weighted_sum(ct_repeat(x, CT_SHAPE(2, 2)))));
    assert_grad(x, (double[]){16, 20});
    /* roll by 1: y = [x2 x0 x1], weights 1..3 -> x0: 2, x1: 3, x2: 1 */
    ct_tensor *r = leaf(CT_SHAPE(3), 0, CT_F32);
    assert_true(ct_backward(weighted_sum(ct_roll(r, CT_SHAPE(1), CT_DIMS(0)))));
    assert_grad(r, (double[]){2, 3, 1});
}

/* ---- copy_ ---- */

static void test_copy_into_constant_from_leaf(void **state) {
    (void)state;
    /* dst needs no gradient; src (broadcast over rows, float32) gets the column sums in float32 */
    ct_tensor *src = leaf(CT_SHAPE(3), 0, CT_F32);
    ct_tensor *dst = ct_zeros(CT_SHAPE(2, 3), .dtype = CT_F64);
    assert_ptr_equal(ct_copy_(dst, src), dst);
    assert_true(ct_requires_grad(dst));
    assert_string_equal(ct_grad_fn_name(dst), "CopyBackwards");
    assert_int_equal(ct_dtype_of(dst), CT_F64);
    assert_true(ct_backward(weighted_sum(dst)));
    assert_grad(src, (double[]){1 + 4, 2 + 5, 3 + 6});
}

static void test_copy_overwrites_old_value(void **state) {
    (void)state;
    /* d = 3x; d.copy_(s): x's contribution through d's old value is zero */
    ct_tensor *x = leaf(CT_SHAPE(2), 1, CT_F64);
    ct_tensor *s = leaf(CT_SHAPE(2), 5, CT_F64);
    ct_tensor *d = ct_mul(x, ct_scalar(3));
    ct_copy_(d, s);
    tu_assert_values(d, CT_SHAPE(2), (double[]){5, 6}, 0, 0);
    assert_true(ct_backward(ct_add(ct_sum(ct_mul(d, d)), ct_sum(x))));
    assert_grad(x, (double[]){1, 1});
    assert_grad(s, (double[]){10, 12});
}

static void test_copy_into_leaf_refused(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 0, CT_F32);
    assert_null(ct_copy_(x, ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_STATE, "a leaf Variable that requires grad is being used in an in-place operation.");
    CT_NO_GRAD assert_ptr_equal(ct_copy_(x, ct_ones(CT_SHAPE(2))), x); /* allowed without grad mode */
}

static void test_copy_over_saved_tensor_fails_backward(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2), 1, CT_F64);
    ct_tensor *a = ct_clone(x);
    ct_tensor *loss = ct_sum(ct_mul(a, a)); /* saves a */
    assert_non_null(ct_copy_(a, ct_zeros(CT_SHAPE(2), .dtype = CT_F64)));
    assert_false(ct_backward(loss));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
}

/* base[0:2].copy_(s): the base joins the graph (CopySlices) and s gets the gradient of its slots */
static void test_copy_into_view_of_buffer(void **state) {
    (void)state;
    ct_tensor *base = ct_zeros(CT_SHAPE(4), .dtype = CT_F64);
    ct_tensor *s = leaf(CT_SHAPE(2), 0, CT_F64);
    assert_non_null(ct_copy_(ct_narrow(base, 0, 1, 2), s));
    assert_string_equal(ct_grad_fn_name(base), "CopySlices");
    ct_tensor *w = ct_from_data((double[]){1, 2, 3, 4}, CT_SHAPE(4), CT_F64);
    assert_true(ct_backward(ct_sum(ct_mul(base, w))));
    tu_assert_values(ct_grad(s), CT_SHAPE(2), (double[]){2, 3}, 0, 0);
}

/* ---- forward errors are unchanged when a graph is wanted ---- */

static void test_forward_errors_with_grad(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), 0, CT_F32);
    assert_null(ct_cat(CT_TENSORS(x, leaf(CT_SHAPE(2, 2), 0, CT_F32)), 0));
    tu_assert_error(CT_ERR_SHAPE, "Sizes of tensors must match except in dimension 0");
    assert_null(ct_stack(CT_TENSORS(x, leaf(CT_SHAPE(3, 2), 0, CT_F32)), 0));
    tu_assert_error(CT_ERR_SHAPE, "stack expects each tensor to be equal size");
    assert_null(ct_split_sizes(x, CT_SHAPE(1, 1), 1).items);
    tu_assert_error(CT_ERR_SHAPE, "split_with_sizes expects split_sizes to sum exactly to 3");
    assert_null(ct_chunk(x, 0, 0).items);
    tu_assert_error(CT_ERR_ARG, "chunk expects `chunks` to be greater than 0");
    assert_null(ct_unbind(x, 2).items);
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_pad(x, CT_SHAPE(3, 0), .mode = CT_PAD_REFLECT));
    tu_assert_error(CT_ERR_SHAPE, "Padding size should be less than the corresponding input dimension");
    assert_null(ct_copy_(ct_zeros(CT_SHAPE(2, 2)), x));
    assert_false(ct_ok());
    ct_clear_error();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_table),
        cmocka_unit_test(test_gradcheck_to_dtype),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_dtype_round_trip_gives_f32_gradient),
        cmocka_unit_test(test_integer_target_not_differentiable),
        cmocka_unit_test(test_f32_gradients_stay_f32),
        cmocka_unit_test(test_cat_some_inputs_require_grad),
        cmocka_unit_test(test_cat_skips_legacy_empty),
        cmocka_unit_test(test_chunks_used_partly),
        cmocka_unit_test(test_split_pieces_reused),
        cmocka_unit_test(test_unbind_used_partly),
        cmocka_unit_test(test_split_on_empty_dim),
        cmocka_unit_test(test_reflect_pad_counts_copies),
        cmocka_unit_test(test_replicate_and_circular_pad),
        cmocka_unit_test(test_constant_pad_crop_gets_zero),
        cmocka_unit_test(test_repeat_and_roll_values),
        cmocka_unit_test(test_copy_into_constant_from_leaf),
        cmocka_unit_test(test_copy_overwrites_old_value),
        cmocka_unit_test(test_copy_into_leaf_refused),
        cmocka_unit_test(test_copy_over_saved_tensor_fails_backward),
        cmocka_unit_test(test_copy_into_view_of_buffer),
        cmocka_unit_test(test_forward_errors_with_grad),
    };
    return TU_RUN("grad_shape", tests);
}
