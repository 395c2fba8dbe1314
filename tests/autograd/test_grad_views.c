/* Derivatives of views: every view op against central differences on non-contiguous layouts, the
 * gradient landing in the base at hand-computed places (stepped and negative slices, overlapping
 * unfold windows, as_strided over a transposed base, expand), chains of views, grad_fn names,
 * dtypes, and forward errors unchanged under autograd. */
#include "../common/testutil.h"

#include <string.h>

/* A leaf of `shape` holding start, start + 1, ... */
static ct_tensor *leaf(ct_shape shape, ct_dtype dtype) {
    int64_t n = tu_numel(shape);
    return ct_requires_grad_(ct_reshape(ct_arange(0, (double)n, 1, .dtype = dtype), shape), true);
}

/* The weights 1, 2, ..., numel in y's shape: backward of sum(y * weights) hands y the gradient
 * weights, so each element's gradient says which y element it came from. */
static ct_tensor *weights_like(const ct_tensor *y) {
    return ct_reshape(ct_arange(1, (double)ct_numel(y) + 1, 1, .dtype = ct_dtype_of(y)), ct_shape_of(y));
}

/* backward of sum(y * weights_like(y)). */
static void backward_weighted(ct_tensor *y) {
    if (!y) fail_msg("forward failed: %s", ct_last_error());
    if (!ct_backward(ct_sum(ct_mul(y, weights_like(y))))) fail_msg("backward failed: %s", ct_last_error());
}

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    assert_int_equal(ct_dtype_of(g), ct_dtype_of(t));
    tu_assert_values(g, ct_shape_of(t), want, 0, 0);
}

/* ---- gradcheck of every op on contiguous, transposed, stepped and offset inputs ---------------- */

#define VIEW_FN(name, expr)                                            \
    static ct_tensor *name(ct_tensor *const *in, void *user) {        \
        (void)user;                                                    \
        ct_tensor *x = in[0];                                          \
        return (expr);                                                 \
    }

VIEW_FN(view_split0, ct_view(x, CT_SHAPE(2, 2, 3, 4)))
VIEW_FN(view_infer, ct_view(x, CT_SHAPE(2, -1, 5)))
VIEW_FN(view_0d, ct_view(x, CT_SHAPE(1, 1)))
VIEW_FN(reshape_flat, ct_reshape(x, CT_SHAPE(12)))
VIEW_FN(reshape_infer, ct_reshape(x, CT_SHAPE(4, -1)))
VIEW_FN(reshape_regroup, ct_reshape(x, CT_SHAPE(4, 3)))
VIEW_FN(reshape_0d, ct_reshape(x, CT_SHAPE(1, 1)))
VIEW_FN(permute_3d, ct_permute(x, CT_DIMS(2, 0, 1)))
VIEW_FN(permute_neg, ct_permute(x, CT_DIMS(1, -1, 0)))
VIEW_FN(transpose_outer, ct_transpose(x, 0, 2))
VIEW_FN(transpose_neg, ct_transpose(x, -1, -3))
VIEW_FN(transpose_2d, ct_transpose(x, 1, 0))
VIEW_FN(transpose_same, ct_transpose(x, 0, 0))
VIEW_FN(t_any, ct_t(x))
VIEW_FN(movedim_fwd, ct_movedim(x, 0, 2))
VIEW_FN(movedim_neg, ct_movedim(x, -1, 0))
VIEW_FN(movedim_same, ct_movedim(x, 1, 1))
VIEW_FN(expand_3d, ct_expand(x, CT_SHAPE(2, 3, 4)))
VIEW_FN(expand_keep, ct_expand(x, CT_SHAPE(3, -1)))
VIEW_FN(expand_0d, ct_expand(x, CT_SHAPE(2, 3)))
VIEW_FN(broadcast_to_3d, ct_broadcast_to(x, CT_SHAPE(2, 3, 5)))
VIEW_FN(expand_as_3d, ct_expand_as(x, ct_zeros(CT_SHAPE(2, 3, 4), .dtype = CT_F64)))
VIEW_FN(narrow_rows, ct_narrow(x, 0, 1, 3))
VIEW_FN(narrow_neg, ct_narrow(x, -1, -3, 2))
VIEW_FN(slice_stepped, ct_slice(x, 0, 1, 6, 2))
VIEW_FN(slice_neg, ct_slice(x, -1, -2, CT_END, 1))
VIEW_FN(slice_wide_step, ct_slice(x, 1, 0, CT_END, 4))
VIEW_FN(slice_clamped, ct_slice(x, -2, -10, 10, 3))
VIEW_FN(select_row, ct_select(x, 0, 1))
VIEW_FN(select_neg, ct_select(x, -1, -1))
VIEW_FN(select_1d, ct_select(x, 0, 2))
VIEW_FN(squeeze_all, ct_squeeze(x))
VIEW_FN(squeeze_dim1, ct_squeeze_dim(x, 1))
VIEW_FN(squeeze_dim_neg, ct_squeeze_dim(x, -2))
VIEW_FN(squeeze_dim_noop, ct_squeeze_dim(x, 0))
VIEW_FN(unsqueeze_front, ct_unsqueeze(x, 0))
VIEW_FN(unsqueeze_back, ct_unsqueeze(x, -1))
VIEW_FN(unsqueeze_mid, ct_unsqueeze(x, 1))
VIEW_FN(flatten_all, ct_flatten(x))
VIEW_FN(flatten_mid, ct_flatten(x, 1, 2))
VIEW_FN(flatten_tail, ct_flatten(x, -2, -1))
VIEW_FN(flatten_0d, ct_flatten(x, 0, 0))
VIEW_FN(unflatten_front, ct_unflatten(x, 0, CT_SHAPE(2, 3)))
VIEW_FN(unflatten_neg, ct_unflatten(x, -1, CT_SHAPE(3, -1)))
VIEW_FN(ravel_any, ct_ravel(x))
VIEW_FN(unfold_overlap, ct_unfold(x, 0, 3, 1))
VIEW_FN(unfold_gaps, ct_unfold(x, 0, 2, 3))
VIEW_FN(unfold_last, ct_unfold(x, -1, 4, 2))
VIEW_FN(unfold_big_window, ct_unfold(x, 0, 5, 1))
VIEW_FN(unfold_0d, ct_unfold(x, 0, 1, 1))
VIEW_FN(diagonal_main, ct_diagonal(x, 0, 0, 1))
VIEW_FN(diagonal_above, ct_diagonal(x, 1, 0, 1))
VIEW_FN(diagonal_below, ct_diagonal(x, -2, 0, 1))
VIEW_FN(diagonal_3d, ct_diagonal(x, 1, -1, 0))
/* as_strided over a contiguous copy: the same elements whatever x's layout */
VIEW_FN(as_strided_rows, ct_as_strided(ct_contiguous(x), CT_SHAPE(3, 3), CT_SHAPE(3, 1), 1))
VIEW_FN(as_strided_windows, ct_as_strided(ct_contiguous(x), CT_SHAPE(3, 3), CT_SHAPE(1, 1), 0))
/* as_strided straight over x's storage (transposed, stepped, offset: the general formula) */
VIEW_FN(as_strided_raw, ct_as_strided(x, CT_SHAPE(2, 3), CT_SHAPE(4, 1), ct_storage_offset(x)))
VIEW_FN(as_strided_raw_overlap, ct_as_strided(x, CT_SHAPE(3, 3), CT_SHAPE(1, 1), ct_storage_offset(x)))
VIEW_FN(alias_any, ct_alias(x))
/* a contiguous leaf comes back as itself (no node): the gradient is the incoming one */
VIEW_FN(contiguous_any, ct_contiguous(x))
/* x -> transpose -> reshape (a copy) -> slice -> sum, and a chain of every kind of view */
VIEW_FN(chain_transpose_reshape_slice, ct_sum(ct_slice(ct_reshape(ct_transpose(x, 0, 2), CT_SHAPE(4, 6)), 1, 1, CT_END, 2)))
VIEW_FN(chain_mixed, ct_unfold(ct_diagonal(ct_expand(ct_unsqueeze(ct_select(ct_permute(x, CT_DIMS(2, 0, 1)), 1, -1), 0),
                                                   CT_SHAPE(2, 3, 5)),
                                         0, 1, 2),
                               0, 2, 1))

static void test_gradcheck_views(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"view split dim 0", view_split0, NULL, 1, {CT_SHAPE(4, 3, 4)}, 0, 0},
        {"view -1", view_infer, NULL, 1, {CT_SHAPE(6, 5)}, 0, 0},
        {"view 0-d", view_0d, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"reshape flat", reshape_flat, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"reshape -1", reshape_infer, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"reshape regroup", reshape_regroup, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"reshape 0-d", reshape_0d, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"permute", permute_3d, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"permute negative dims", permute_neg, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"transpose outer", transpose_outer, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"transpose negative dims", transpose_neg, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"transpose 2-d", transpose_2d, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"transpose same dim", transpose_same, NULL, 1, {CT_SHAPE(5)}, 0, 0},
        {"t 2-d", t_any, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"t 1-d", t_any, NULL, 1, {CT_SHAPE(5)}, 0, 0},
        {"t 0-d", t_any, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"movedim", movedim_fwd, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"movedim negative", movedim_neg, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"movedim same", movedim_same, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"expand size-1 and new dims", expand_3d, NULL, 1, {CT_SHAPE(3, 1)}, 0, 0},
        {"expand -1 keeps", expand_keep, NULL, 1, {CT_SHAPE(1, 4)}, 0, 0},
        {"expand 0-d", expand_0d, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"broadcast_to", broadcast_to_3d, NULL, 1, {CT_SHAPE(3, 1)}, 0, 0},
        {"expand_as", expand_as_3d, NULL, 1, {CT_SHAPE(1, 4)}, 0, 0},
        {"narrow", narrow_rows, NULL, 1, {CT_SHAPE(5, 4)}, 0, 0},
        {"narrow negative", narrow_neg, NULL, 1, {CT_SHAPE(3, 5)}, 0, 0},
        {"slice stepped", slice_stepped, NULL, 1, {CT_SHAPE(7, 3)}, 0, 0},
        {"slice negative", slice_neg, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"slice step > size", slice_wide_step, NULL, 1, {CT_SHAPE(4, 6)}, 0, 0},
        {"slice clamped", slice_clamped, NULL, 1, {CT_SHAPE(5, 2, 3)}, 0, 0},
        {"select", select_row, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"select negative", select_neg, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"select to 0-d", select_1d, NULL, 1, {CT_SHAPE(5)}, 0, 0},
        {"squeeze", squeeze_all, NULL, 1, {CT_SHAPE(1, 3, 1, 4)}, 0, 0},
        {"squeeze to 0-d", squeeze_all, NULL, 1, {CT_SHAPE(1, 1)}, 0, 0},
        {"squeeze 0-d", squeeze_all, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"squeeze_dim", squeeze_dim1, NULL, 1, {CT_SHAPE(3, 1, 4)}, 0, 0},
        {"squeeze_dim negative", squeeze_dim_neg, NULL, 1, {CT_SHAPE(3, 1, 4)}, 0, 0},
        {"squeeze_dim not 1", squeeze_dim_noop, NULL, 1, {CT_SHAPE(3, 1, 4)}, 0, 0},
        {"unsqueeze front", unsqueeze_front, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"unsqueeze back", unsqueeze_back, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"unsqueeze middle", unsqueeze_mid, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"unsqueeze 0-d", unsqueeze_front, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"flatten", flatten_all, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"flatten middle", flatten_mid, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"flatten negative", flatten_tail, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"flatten 0-d", flatten_0d, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"unflatten", unflatten_front, NULL, 1, {CT_SHAPE(6, 4)}, 0, 0},
        {"unflatten negative", unflatten_neg, NULL, 1, {CT_SHAPE(4, 6)}, 0, 0},
        {"ravel", ravel_any, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"ravel 3-d", ravel_any, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"unfold overlapping", unfold_overlap, NULL, 1, {CT_SHAPE(7)}, 0, 0},
        {"unfold overlapping 2-d", unfold_overlap, NULL, 1, {CT_SHAPE(6, 3)}, 0, 0},
        {"unfold with gaps", unfold_gaps, NULL, 1, {CT_SHAPE(7)}, 0, 0},
        {"unfold last dim", unfold_last, NULL, 1, {CT_SHAPE(3, 8)}, 0, 0},
        {"unfold window > windows", unfold_big_window, NULL, 1, {CT_SHAPE(6, 3)}, 0, 0},
        {"unfold 0-d", unfold_0d, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"diagonal", diagonal_main, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"diagonal above", diagonal_above, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"diagonal below", diagonal_below, NULL, 1, {CT_SHAPE(4, 3)}, 0, 0},
        {"diagonal 3-d negative dims", diagonal_3d, NULL, 1, {CT_SHAPE(3, 2, 4)}, 0, 0},
        {"as_strided rows", as_strided_rows, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"as_strided overlapping windows", as_strided_windows, NULL, 1, {CT_SHAPE(5)}, 0, 0},
        {"as_strided over the raw storage", as_strided_raw, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"as_strided overlapping over the raw storage", as_strided_raw_overlap, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"alias", alias_any, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"alias 0-d", alias_any, NULL, 1, {CT_SHAPE()}, 0, 0},
        {"contiguous", contiguous_any, NULL, 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"chain transpose reshape slice sum", chain_transpose_reshape_slice, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"chain of mixed views", chain_mixed, NULL, 1, {CT_SHAPE(4, 5, 3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- gradients landing in the base ------------------------------------------------------------ */

static void test_slice_and_narrow_land_in_base(void **state) {
    (void)state;
    /* x[:, 1::2] of a 2x5: columns 1 and 3 get weights 1..4 */
    ct_tensor *x = leaf(CT_SHAPE(2, 5), CT_F64);
    backward_weighted(ct_slice(x, -1, 1, CT_END, 2));
    assert_grad(x, (double[]){0, 1, 0, 2, 0, 0, 3, 0, 4, 0});
    /* x[:, -4:-1:2] names the same columns through negative bounds */
    ct_set_grad(x, NULL);
    backward_weighted(ct_slice(x, 1, -4, -1, 2));
    assert_grad(x, (double[]){0, 1, 0, 2, 0, 0, 3, 0, 4, 0});
    /* out-of-range bounds clamp: x[-10:10:3] along dim -2 is row 0 only */
    ct_set_grad(x, NULL);
    backward_weighted(ct_slice(x, -2, -10, 10, 3));
    assert_grad(x, (double[]){1, 2, 3, 4, 5, 0, 0, 0, 0, 0});
    /* narrow(-1, start -2, 2): the last two columns */
    ct_set_grad(x, NULL);
    backward_weighted(ct_narrow(x, -1, -2, 2));
    assert_grad(x, (double[]){0, 0, 0, 1, 2, 0, 0, 0, 3, 4});
    /* an empty slice gives zeros */
    ct_set_grad(x, NULL);
    assert_true(ct_backward(ct_sum(ct_slice(x, 1, 3, 2, 1))));
    assert_grad(x, (double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

static void test_select_and_diagonal_land_in_base(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3, 4), CT_F64);
    backward_weighted(ct_select(x, -2, -1)); /* the last row */
    assert_grad(x, (double[]){0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4});
    ct_set_grad(x, NULL);
    backward_weighted(ct_select(x, 1, 2)); /* column 2 */
    assert_grad(x, (double[]){0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0});
    ct_set_grad(x, NULL);
    backward_weighted(ct_diagonal(x, 1, 0, 1)); /* (0,1) (1,2) (2,3) */
    assert_grad(x, (double[]){0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3});
    ct_set_grad(x, NULL);
    backward_weighted(ct_diagonal(x, -1, -1, -2)); /* dims swapped: (x[0][1], x[1][2], x[2][3]) again */
    assert_grad(x, (double[]){0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3});
    ct_set_grad(x, NULL);
    backward_weighted(ct_diagonal(x, -1, 0, 1)); /* (1,0) (2,1) */
    assert_grad(x, (double[]){0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0});
}

static void test_unfold_adds_overlapping_windows(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(6), CT_F64);
    /* size 3 step 1: windows [0..2] [1..3] [2..4] [3..5] with weights 1..12 row by row:
     * dx[i] = sum of weight[w][k] over w + k = i */
    backward_weighted(ct_unfold(x, 0, 3, 1));
    assert_grad(x, (double[]){1, 2 + 4, 3 + 5 + 7, 6 + 8 + 10, 9 + 11, 12});
    /* plain counts: how many windows hold each element */
    ct_set_grad(x, NULL);
    assert_true(ct_backward(ct_sum(ct_unfold(x, 0, 3, 1))));
    assert_grad(x, (double[]){1, 2, 3, 3, 2, 1});
    /* a window larger than the number of windows (the per-window loop): [0..4] [1..5] */
    ct_set_grad(x, NULL);
    backward_weighted(ct_unfold(x, -1, 5, 1));
    assert_grad(x, (double[]){1, 2 + 6, 3 + 7, 4 + 8, 5 + 9, 10});
    /* step > size leaves gaps: [0 1] [3 4] */
    ct_set_grad(x, NULL);
    backward_weighted(ct_unfold(x, 0, 2, 3));
    assert_grad(x, (double[]){1, 2, 0, 3, 4, 0});

    /* 2-d along dim -2, size 2 step 1 over 3 rows: windows rows [0 1] [1 2]; y is (2, 2, 2) =
     * [window][column][k], weights 1..8 */
    ct_tensor *m = leaf(CT_SHAPE(3, 2), CT_F64);
    backward_weighted(ct_unfold(m, -2, 2, 1));
    /* m[r][c] = sum over w + k = r of weight[w][c][k] (weight[w][c][k] = 1 + 4w + 2c + k) */
    assert_grad(m, (double[]){1, 3, 2 + 5, 4 + 7, 6, 8});
}

static void test_expand_sums_back(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3, 1), CT_F64);
    assert_true(ct_backward(ct_sum(ct_expand(x, CT_SHAPE(2, 3, 4)))));
    assert_grad(x, (double[]){8, 8, 8});
    /* weights (2, 3, 4): x[i] gets the sum of weight[a][i][c] over a and c */
    ct_set_grad(x, NULL);
    backward_weighted(ct_expand(x, CT_SHAPE(2, 3, 4)));
    double want[3];
    for (int i = 0; i < 3; i++) {
        want[i] = 0;
        for (int a = 0; a < 2; a++)
            for (int c = 0; c < 4; c++) want[i] += 1 + a * 12 + i * 4 + c;
    }
    assert_grad(x, want);
    ct_tensor *s = ct_requires_grad_(ct_scalar_tensor(2, .dtype = CT_F64), true);
    backward_weighted(ct_broadcast_to(s, CT_SHAPE(2, 2)));
    assert_grad(s, (double[]){1 + 2 + 3 + 4});
}

static void test_permutes_land_in_base(void **state) {
    (void)state;
    /* y[j][i] = x[i][j]; weights (3, 2) = [[1 2] [3 4] [5 6]] so dx[i][j] = weight[j][i] */
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F64);
    backward_weighted(ct_permute(x, CT_DIMS(-1, 0)));
    assert_grad(x, (double[]){1, 3, 5, 2, 4, 6});
    ct_set_grad(x, NULL);
    backward_weighted(ct_t(x));
    assert_grad(x, (double[]){1, 3, 5, 2, 4, 6});

    /* 3-d: y = x.permute(2, 0, 1), y[k][i][j] = x[i][j][k] */
    ct_tensor *z = leaf(CT_SHAPE(2, 3, 4), CT_F64);
    backward_weighted(ct_permute(z, CT_DIMS(2, 0, 1)));
    double want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) want[(i * 3 + j) * 4 + k] = 1 + (k * 2 + i) * 3 + j;
    assert_grad(z, want);
    /* movedim(0, -1) is the same permutation */
    ct_set_grad(z, NULL);
    backward_weighted(ct_movedim(z, -1, 0));
    assert_grad(z, want);
}

static void test_as_strided_lands_in_base(void **state) {
    (void)state;
    /* overlapping windows of a vector: element i is in min(i + 1, 3, 5 - i) windows */
    ct_tensor *x = leaf(CT_SHAPE(5), CT_F64);
    assert_true(ct_backward(ct_sum(ct_as_strided(x, CT_SHAPE(3, 3), CT_SHAPE(1, 1), 0))));
    assert_grad(x, (double[]){1, 2, 3, 2, 1});

    /* over a transposed view of a 4x3 base: storage positions 1 2 4 5 are base (0,1) (0,2)
     * (1,1) (1,2), whatever the view's own order */
    ct_tensor *base = leaf(CT_SHAPE(4, 3), CT_F64);
    backward_weighted(ct_as_strided(ct_t(base), CT_SHAPE(2, 2), CT_SHAPE(3, 1), 1));
    assert_grad(base, (double[]){0, 1, 2, 0, 3, 4, 0, 0, 0, 0, 0, 0});

    /* an overlapping (expanded) input: each of its two rows shares storage, and the storage
     * gradient is split between them, so the base gets it once */
    ct_tensor *v = leaf(CT_SHAPE(3), CT_F64);
    backward_weighted(ct_as_strided(ct_expand(v, CT_SHAPE(2, 3)), CT_SHAPE(3), CT_SHAPE(1), 0));
    assert_grad(v, (double[]){1, 2, 3});
}

static void test_chain_transpose_reshape_slice_sum(void **state) {
    (void)state;
    /* x (2, 3, 4) -> transpose(0, 2) (4, 3, 2), y[k][j][i] = x[i][j][k] -> reshape (4, 6) (a copy:
     * column 2j + i) -> columns 1, 3, 5 (i = 1) -> sum(... * weights (4, 3)):
     * dx[1][j][k] = weight[k][j] = 1 + 3k + j, dx[0] = 0 */
    ct_tensor *x = leaf(CT_SHAPE(2, 3, 4), CT_F64);
    ct_tensor *r = ct_reshape(ct_transpose(x, 0, 2), CT_SHAPE(4, 6));
    assert_string_equal(ct_grad_fn_name(r), "UnsafeViewBackward0");
    backward_weighted(ct_slice(r, 1, 1, CT_END, 2));
    double want[24] = {0};
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 4; k++) want[12 + j * 4 + k] = 1 + 3 * k + j;
    assert_grad(x, want);
    /* the plain sum: ones in the i = 1 half */
    ct_set_grad(x, NULL);
    assert_true(ct_backward(ct_sum(ct_slice(r, 1, 1, CT_END, 2)), .retain_graph = true));
    for (int e = 0; e < 24; e++) want[e] = e >= 12;
    assert_grad(x, want);
}

static void test_shape_views_land_in_base(void **state) {
    (void)state;
    /* row-major order is kept: dx is the weights in x's shape */
    double seq[12];
    for (int i = 0; i < 12; i++) seq[i] = i + 1;
    ct_tensor *x = leaf(CT_SHAPE(3, 4), CT_F64);
    ct_tensor *(*const ops[])(const ct_tensor *) = {ct_ravel, ct_squeeze, ct_alias, ct_contiguous};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        ct_set_grad(x, NULL);
        backward_weighted(ops[i](x));
        assert_grad(x, seq);
    }
    ct_set_grad(x, NULL);
    backward_weighted(ct_squeeze_dim(ct_unsqueeze(ct_unflatten(ct_flatten(x), 0, CT_SHAPE(6, 2)), -1), 2));
    assert_grad(x, seq);
    ct_set_grad(x, NULL);
    backward_weighted(ct_view(ct_contiguous(ct_t(x)), CT_SHAPE(12))); /* weights land transposed */
    assert_grad(x, (double[]){1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12});
}

/* ---- names, dtypes, identity cases, errors ---------------------------------------------------- */

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F32), *m = leaf(CT_SHAPE(3, 3), CT_F32);
    struct {
        ct_tensor *y;
        const char *name;
    } cases[] = {
        {ct_view(x, CT_SHAPE(3, 2)), "ViewBackward0"},
        {ct_reshape(x, CT_SHAPE(6)), "ViewBackward0"},
        {ct_reshape(ct_t(x), CT_SHAPE(6)), "UnsafeViewBackward0"},
        {ct_permute(x, CT_DIMS(1, 0)), "PermuteBackward0"},
        {ct_transpose(x, 0, 1), "TransposeBackward0"},
        {ct_t(x), "TBackward0"},
        {ct_movedim(x, 0, 1), "PermuteBackward0"},
        {ct_expand(x, CT_SHAPE(2, 2, 3)), "ExpandBackward0"},
        {ct_broadcast_to(x, CT_SHAPE(2, 2, 3)), "ExpandBackward0"},
        {ct_expand_as(x, ct_zeros(CT_SHAPE(4, 2, 3), .dtype = CT_F32)), "ExpandBackward0"},
        {ct_narrow(x, 1, 0, 2), "SliceBackward0"},
        {ct_slice(x, 1, 0, 2, 1), "SliceBackward0"},
        {ct_select(x, 0, 1), "SelectBackward0"},
        {ct_squeeze(x), "SqueezeBackward0"},
        {ct_squeeze_dim(x, 0), "SqueezeBackward1"},
        {ct_unsqueeze(x, 0), "UnsqueezeBackward0"},
        {ct_flatten(x), "ViewBackward0"},
        {ct_flatten(ct_t(x)), "UnsafeViewBackward0"},
        {ct_unflatten(x, 1, CT_SHAPE(3, 1)), "ViewBackward0"},
        {ct_ravel(x), "ViewBackward0"},
        {ct_ravel(ct_t(x)), "ViewBackward0"},
        {ct_unfold(x, 1, 2, 1), "UnfoldBackward0"},
        {ct_diagonal(m, 0, 0, 1), "DiagonalBackward0"},
        {ct_as_strided(x, CT_SHAPE(2), CT_SHAPE(1), 0), "AsStridedBackward0"},
        {ct_alias(x), "AliasBackward0"},
        {ct_contiguous(ct_t(x)), "CloneBackward0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!cases[i].y) fail_msg("case %zu (%s) failed: %s", i, cases[i].name, ct_last_error());
        assert_true(ct_requires_grad(cases[i].y));
        assert_string_equal(ct_grad_fn_name(cases[i].y), cases[i].name);
    }
    /* expand_as's other only gives the shape (x is wider: the other way round needs no graph) */
    ct_tensor *c = ct_zeros(CT_SHAPE(1, 3), .dtype = CT_F32);
    ct_tensor *y = ct_expand_as(c, x);
    assert_false(ct_requires_grad(y));
    assert_null(ct_grad_fn_name(y));
}

static void test_contiguous_of_contiguous_is_itself(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(2, 3), CT_F64);
    ct_tensor *same = ct_contiguous(x);
    assert_ptr_equal(same, x);
    assert_null(ct_grad_fn_name(same)); /* still the leaf */
    ct_tensor *y = ct_mul(x, ct_scalar(2));
    assert_ptr_equal(ct_contiguous(y), y);
    assert_string_equal(ct_grad_fn_name(ct_contiguous(y)), "MulBackward0");
    assert_true(ct_backward(ct_sum(ct_contiguous(y))));
    assert_grad(x, (double[]){2, 2, 2, 2, 2, 2});
    /* a copy: CloneBackward0 and the gradient comes back transposed */
    ct_set_grad(x, NULL);
    ct_tensor *c = ct_contiguous(ct_t(x));
    assert_false(ct_shares_storage(c, x));
    backward_weighted(c);
    assert_grad(x, (double[]){1, 3, 5, 2, 4, 6});
}

static void test_f32_gets_f32_gradients(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(4, 3), CT_F32);
    ct_tensor *y = ct_unfold(ct_diagonal(ct_expand(ct_t(x), CT_SHAPE(2, 3, 4)), 0, 1, 2), -1, 2, 1);
    y = ct_as_strided(ct_contiguous(ct_select(ct_slice(y, 0, 0, CT_END, 1), 0, 1)), CT_SHAPE(2), CT_SHAPE(1), 0);
    assert_true(ct_backward(ct_sum(y)));
    ct_tensor *g = ct_grad(x);
    assert_non_null(g);
    assert_int_equal(ct_dtype_of(g), CT_F32);
    /* y = first window (k = 0, 1) of diagonal(expand(t(x)))[1] = [x[0][0], x[1][1], x[2][2]] */
    tu_assert_values(g, CT_SHAPE(4, 3), (double[]){1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, 0, 0);
}

static void test_edge_inputs(void **state) {
    (void)state;
    /* an expand's gradient comes in broadcast (stride 0) from sum: slices, unfold and as_strided
     * read it as it is */
    ct_tensor *x = leaf(CT_SHAPE(4), CT_F64);
    assert_true(ct_backward(ct_sum(ct_add(ct_unfold(x, 0, 2, 1), ct_as_strided(x, CT_SHAPE(3, 2), CT_SHAPE(1, 1), 0)))));
    assert_grad(x, (double[]){2, 4, 4, 2});
    /* zero-size views */
    ct_tensor *e = leaf(CT_SHAPE(0, 3), CT_F64);
    assert_true(ct_backward(ct_sum(ct_unfold(ct_t(e), 1, 0, 1))));
    assert_non_null(ct_grad(e));
    assert_int_equal(ct_numel(ct_grad(e)), 0);
    ct_set_grad(x, NULL);
    assert_true(ct_backward(ct_sum(ct_as_strided(x, CT_SHAPE(2, 0), CT_SHAPE(1, 1), 3))));
    assert_grad(x, (double[]){0, 0, 0, 0});
    /* a second backward through views with a retained graph accumulates */
    ct_tensor *z = leaf(CT_SHAPE(3), CT_F64);
    ct_tensor *loss = ct_sum(ct_select(ct_unsqueeze(z, 0), 0, 0));
    assert_true(ct_backward(loss, .retain_graph = true));
    assert_true(ct_backward(loss));
    assert_grad(z, (double[]){2, 2, 2});
}

static void test_forward_errors_unchanged(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3, 4), CT_F64);
    assert_null(ct_view(ct_t(x), CT_SHAPE(12)));
    tu_assert_error(CT_ERR_SHAPE, "view size is not compatible with input tensor's size and stride");
    assert_null(ct_narrow(x, 1, 2, 5));
    tu_assert_error(CT_ERR_INDEX, "exceeds dimension size");
    assert_null(ct_select(x, 0, 3));
    tu_assert_error(CT_ERR_INDEX, "out of range");
    assert_null(ct_slice(x, 0, 0, 2, 0));
    tu_assert_error(CT_ERR_ARG, "slice step must be positive");
    assert_null(ct_unfold(x, 1, 5, 1));
    tu_assert_error(CT_ERR_ARG, "maximum size for tensor at dimension 1 is 4");
    assert_null(ct_as_strided(x, CT_SHAPE(4, 4), CT_SHAPE(4, 1), 0));
    tu_assert_error(CT_ERR_INDEX, "out of bounds for storage");
    assert_null(ct_expand(x, CT_SHAPE(2, 4)));
    tu_assert_error(CT_ERR_SHAPE, "must match the existing size");
    assert_null(ct_diagonal(x, 0, 1, -1));
    tu_assert_error(CT_ERR_ARG, "diagonal dimensions cannot be identical");
    assert_null(ct_permute(x, CT_DIMS(0, 0)));
    tu_assert_error(CT_ERR_ARG, "duplicate dims");
    assert_null(ct_t(ct_unsqueeze(x, 0)));
    tu_assert_error(CT_ERR_SHAPE, "t() expects a tensor with <= 2 dimensions");
    /* an error leaves nothing half-recorded: x still works */
    assert_true(ct_backward(ct_sum(ct_transpose(x, 0, 1))));
    assert_true(ct_ok());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_views),
        cmocka_unit_test(test_slice_and_narrow_land_in_base),
        cmocka_unit_test(test_select_and_diagonal_land_in_base),
        cmocka_unit_test(test_unfold_adds_overlapping_windows),
        cmocka_unit_test(test_expand_sums_back),
        cmocka_unit_test(test_permutes_land_in_base),
        cmocka_unit_test(test_as_strided_lands_in_base),
        cmocka_unit_test(test_chain_transpose_reshape_slice_sum),
        cmocka_unit_test(test_shape_views_land_in_base),
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_contiguous_of_contiguous_is_itself),
        cmocka_unit_test(test_f32_gets_f32_gradients),
        cmocka_unit_test(test_edge_inputs),
        cmocka_unit_test(test_forward_errors_unchanged),
    };
    return TU_RUN("grad_views", tests);
}
