/* Copying shape ops: cat, stack, split, split_sizes, chunk, unbind, repeat, tile, flip, roll, pad,
 * tril, triu. Each is checked against f64 index math on random data in every layout and several
 * dtypes, plus 0-d / 0-size cases and every error path. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_I64, CT_BF16, CT_U8, CT_BOOL};
#define NDT (int)(sizeof dtypes / sizeof dtypes[0])

static double *buf(int64_t n) { return calloc((size_t)(n ? n : 1), sizeof(double)); }

/* ---- cat / stack ---- */

static void cat_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 1;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int dim = 0; dim < 3; dim++) {
                ct_shape sa = CT_SHAPE(2, 3, 4), sb = sa, sc = sa;
                sb.d[dim] = 5;
                sc.d[dim] = 0;
                ct_tensor *a = tu_random(&rng, sa, dtypes[di], (tu_layout)lay, 0, 10);
                ct_tensor *b = tu_random(&rng, sb, dtypes[di], (tu_layout)((lay + 1) % TU_NUM_LAYOUTS), 0, 10);
                ct_tensor *c = tu_random(&rng, sc, dtypes[di], (tu_layout)lay, 0, 10);
                ct_tensor *out = ct_cat(CT_TENSORS(a, c, b), dim - 3); /* negative dim too */
                assert_non_null(out);
                assert_int_equal(ct_dtype_of(out), dtypes[di]);
                double *va = tu_values(a), *vb = tu_values(b);
                ct_shape so = sa;
                so.d[dim] = sa.d[dim] + sb.d[dim];
                double *want = buf(tu_numel(so));
                int64_t idx[3];
                for (int64_t f = 0; f < tu_numel(so); f++) {
                    tu_unravel(f, so.d, 3, idx);
                    if (idx[dim] < sa.d[dim]) {
                        want[f] = va[tu_ravel(idx, sa.d, 3)];
                    } else {
                        idx[dim] -= sa.d[dim];
                        want[f] = vb[tu_ravel(idx, sb.d, 3)];
                    }
                }
                tu_assert_values(out, so, want, 0, 0);
                free(want);
            }
}

static void cat_promotes_and_skips_legacy_empty(void **state) {
    (void)state;
    ct_tensor *i = ct_from_data((int32_t[]){1, 2}, CT_SHAPE(2), CT_I32);
    ct_tensor *h = ct_to_dtype(ct_from_data((double[]){0.5, 1.5}, CT_SHAPE(2), CT_F64), CT_F16);
    ct_tensor *o = ct_cat(CT_TENSORS(i, h), 0);
    assert_int_equal(ct_dtype_of(o), CT_F16);
    tu_assert_values(o, CT_SHAPE(4), (double[]){1, 2, 0.5, 1.5}, 0, 0);
    /* A legacy empty f64 tensor is skipped for shapes but still promotes, as in PyTorch. */
    ct_tensor *e = ct_zeros(CT_SHAPE(0), .dtype = CT_F64);
    ct_tensor *m = ct_from_data((float[]){1, 2, 3, 4, 5, 6}, CT_SHAPE(2, 3), CT_F32);
    ct_tensor *o2 = ct_cat(CT_TENSORS(e, m, e), 1);
    assert_int_equal(ct_dtype_of(o2), CT_F64);
    tu_assert_values(o2, CT_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6}, 0, 0);
    assert_false(ct_shares_storage(o2, m)); /* cat always copies */
    tu_assert_values(ct_cat(CT_TENSORS(e, e), 0), CT_SHAPE(0), NULL, 0, 0);
    tu_assert_values(ct_cat(CT_TENSORS(m), 0), CT_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6}, 0, 0);
    /* 0-size along a non-cat dim */
    tu_assert_values(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(0, 2)), ct_zeros(CT_SHAPE(0, 3))), 1), CT_SHAPE(0, 5), NULL,
                     0, 0);
}

static void cat_errors(void **state) {
    (void)state;
    assert_null(ct_cat((ct_tensor_list){0, NULL}, 0));
    tu_assert_error(CT_ERR_ARG, "torch.cat(): expected a non-empty list of Tensors");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(2, 2)), ct_zeros(CT_SHAPE(2, 3)), ct_zeros(CT_SHAPE(3, 3))), 1));
    tu_assert_error(CT_ERR_SHAPE, "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 "
                                  "for tensor number 2 in the list.");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(2, 2)), ct_zeros(CT_SHAPE(3, 3))), 1));
    tu_assert_error(CT_ERR_SHAPE, "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 "
                                  "for tensor number 1 in the list.");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(2, 2)), ct_zeros(CT_SHAPE(2, 2, 2))), 1));
    tu_assert_error(CT_ERR_SHAPE, "Tensors must have same number of dimensions: got 2 and 3");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE()), ct_zeros(CT_SHAPE())), 0));
    tu_assert_error(CT_ERR_SHAPE, "zero-dimensional tensor (at position 0) cannot be concatenated");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(2, 2)), ct_zeros(CT_SHAPE(2, 2))), 2));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(2)), NULL), 0));
    tu_assert_error(CT_ERR_NULL, "cat");
}

static void stack_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 2;
    for (int di = 0; di < NDT; di += 2)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int dim = -3; dim < 3; dim++) {
                ct_tensor *x[3];
                double *v[3];
                for (int k = 0; k < 3; k++) {
                    x[k] = tu_random(&rng, CT_SHAPE(2, 3), dtypes[di], (tu_layout)((lay + k) % TU_NUM_LAYOUTS), 0, 10);
                    v[k] = tu_values(x[k]);
                }
                ct_tensor *out = ct_stack(CT_TENSORS(x[0], x[1], x[2]), dim);
                int d = dim < 0 ? dim + 3 : dim;
                ct_shape so = {.ndim = 3};
                for (int i = 0, j = 0; i < 3; i++) so.d[i] = i == d ? 3 : (int64_t[]){2, 3}[j++];
                double want[18];
                int64_t idx[3];
                for (int64_t f = 0; f < 18; f++) {
                    tu_unravel(f, so.d, 3, idx);
                    int64_t src[2];
                    for (int i = 0, j = 0; i < 3; i++)
                        if (i != d) src[j++] = idx[i];
                    want[f] = v[idx[d]][src[0] * 3 + src[1]];
                }
                tu_assert_values(out, so, want, 0, 0);
            }
    /* 0-d inputs stack into a vector; promotion applies. */
    ct_tensor *o = ct_stack(CT_TENSORS(ct_scalar_tensor(1, .dtype = CT_I64), ct_scalar_tensor(2.5, .dtype = CT_F32)), 0);
    assert_int_equal(ct_dtype_of(o), CT_F32);
    tu_assert_values(o, CT_SHAPE(2), (double[]){1, 2.5}, 0, 0);
    tu_assert_values(ct_stack(CT_TENSORS(ct_zeros(CT_SHAPE(0, 2)), ct_zeros(CT_SHAPE(0, 2))), 1), CT_SHAPE(0, 2, 2),
                     NULL, 0, 0);
    /* errors */
    assert_null(ct_stack((ct_tensor_list){0, NULL}, 0));
    tu_assert_error(CT_ERR_ARG, "stack expects a non-empty TensorList");
    assert_null(ct_stack(CT_TENSORS(ct_zeros(CT_SHAPE(2)), ct_zeros(CT_SHAPE(3))), 0));
    tu_assert_error(CT_ERR_SHAPE, "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1");
    assert_null(ct_stack(CT_TENSORS(ct_zeros(CT_SHAPE(2)), ct_zeros(CT_SHAPE(2))), 2));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_stack(CT_TENSORS(ct_zeros(CT_SHAPE(2)), ct_zeros(CT_SHAPE(2))), -3));
    tu_assert_error(CT_ERR_INDEX, "but got -3");
    assert_null(ct_stack(CT_TENSORS(NULL), 0));
    tu_assert_error(CT_ERR_NULL, "stack");
}

/* ---- split / chunk / unbind ---- */

/* Asserts list item i is t narrowed along dim to [start, start + len) and shares t's storage. */
static void assert_piece(const ct_tensor *t, const ct_tensor *piece, int dim, int64_t start, int64_t len) {
    assert_non_null(piece);
    assert_true(ct_shares_storage(t, piece));
    ct_shape s = ct_shape_of(t);
    int nd = s.ndim;
    ct_shape ps = s;
    ps.d[dim] = len;
    double *vt = tu_values(t);
    double *want = buf(tu_numel(ps));
    int64_t idx[CT_MAX_DIMS];
    for (int64_t f = 0; f < tu_numel(ps); f++) {
        tu_unravel(f, ps.d, nd, idx);
        idx[dim] += start;
        want[f] = vt[tu_ravel(idx, s.d, nd)];
    }
    tu_assert_values(piece, ps, want, 0, 0);
    free(want);
}

static void split_chunk_unbind_are_views(void **state) {
    (void)state;
    uint64_t rng = 3;
    for (int di = 0; di < NDT; di += 3)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
            ct_tensor *t = tu_random(&rng, CT_SHAPE(5, 4), dtypes[di], (tu_layout)lay, 0, 10);
            ct_tensor_list l = ct_split(t, 2, 0);
            assert_int_equal(l.n, 3);
            assert_piece(t, l.items[0], 0, 0, 2);
            assert_piece(t, l.items[1], 0, 2, 2);
            assert_piece(t, l.items[2], 0, 4, 1);
            l = ct_split(t, 3, -1);
            assert_int_equal(l.n, 2);
            assert_piece(t, l.items[1], 1, 3, 1);
            l = ct_split(t, 10, 0); /* larger than the dim: one piece */
            assert_int_equal(l.n, 1);
            assert_piece(t, l.items[0], 0, 0, 5);
            l = ct_split_sizes(t, CT_SHAPE(1, 0, 4), 0);
            assert_int_equal(l.n, 3);
            assert_piece(t, l.items[0], 0, 0, 1);
            assert_piece(t, l.items[1], 0, 1, 0);
            assert_piece(t, l.items[2], 0, 1, 4);
            l = ct_chunk(t, 3, 0); /* ceil(5/3) = 2: pieces 2, 2, 1 */
            assert_int_equal(l.n, 3);
            assert_piece(t, l.items[2], 0, 4, 1);
            l = ct_chunk(t, 3, 1); /* ceil(4/3) = 2: only 2 pieces, as PyTorch */
            assert_int_equal(l.n, 2);
            assert_piece(t, l.items[1], 1, 2, 2);
            l = ct_chunk(t, 7, 0);
            assert_int_equal(l.n, 5);
            l = ct_unbind(t, 1);
            assert_int_equal(l.n, 4);
            for (int i = 0; i < 4; i++) {
                assert_true(ct_shares_storage(t, l.items[i]));
                double want[5];
                for (int r = 0; r < 5; r++) want[r] = ct_get(t, CT_SHAPE(r, i));
                tu_assert_values(l.items[i], CT_SHAPE(5), want, 0, 0);
            }
        }
    /* Writes go through to the base. */
    ct_tensor *b = ct_zeros(CT_SHAPE(4));
    ct_fill_(ct_split(b, 2, 0).items[1], 7);
    tu_assert_values(b, CT_SHAPE(4), (double[]){0, 0, 7, 7}, 0, 0);
    /* 0-size dims */
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 3));
    ct_tensor_list l = ct_split(e, 2, 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(ct_numel(l.items[0]), 0);
    l = ct_split(e, 0, 0);
    assert_int_equal(l.n, 1);
    l = ct_chunk(e, 3, 0);
    assert_int_equal(l.n, 3);
    l = ct_unbind(e, 0);
    assert_true(ct_ok());
    assert_int_equal(l.n, 0);
    l = ct_unbind(e, 1);
    assert_int_equal(l.n, 3);
    assert_int_equal(ct_shape_of(l.items[2]).d[0], 0);
    l = ct_unbind(ct_arange(0, 3, 1), 0); /* 1-D gives 0-d views */
    assert_int_equal(ct_ndim(l.items[2]), 0);
    assert_true(ct_item(l.items[2]) == 2);
}

static void split_chunk_unbind_errors(void **state) {
    (void)state;
    ct_tensor *t = ct_zeros(CT_SHAPE(5));
    ct_tensor_list l = ct_split(t, 0, 0);
    assert_int_equal(l.n, 0);
    assert_null(l.items);
    tu_assert_error(CT_ERR_ARG, "split_size can only be 0 if dimension size is 0, but got dimension size of 5");
    l = ct_split(t, -1, 0);
    tu_assert_error(CT_ERR_ARG, "split expects split_size be non-negative, but got split_size=-1");
    l = ct_split(ct_zeros(CT_SHAPE()), 1, 0);
    tu_assert_error(CT_ERR_SHAPE, "split expects at least a 1-dimensional tensor");
    l = ct_split(t, 1, 1);
    assert_null(l.items);
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    l = ct_split_sizes(t, CT_SHAPE(2, 2), 0);
    assert_null(l.items);
    tu_assert_error(CT_ERR_SHAPE, "split_with_sizes expects split_sizes to sum exactly to 5 (input tensor's size at "
                                  "dimension 0), but got split_sizes=[2, 2]");
    l = ct_split_sizes(t, CT_SHAPE(6, -1), 0);
    tu_assert_error(CT_ERR_ARG, "split_with_sizes expects split_sizes have only non-negative entries, but got "
                                "split_sizes=[6, -1]");
    l = ct_split_sizes(ct_zeros(CT_SHAPE()), CT_SHAPE(1), 0);
    tu_assert_error(CT_ERR_SHAPE, "split expects at least a 1-dimensional tensor");
    l = ct_chunk(t, 0, 0);
    tu_assert_error(CT_ERR_ARG, "chunk expects `chunks` to be greater than 0, got: 0");
    l = ct_chunk(ct_zeros(CT_SHAPE()), 2, 0);
    tu_assert_error(CT_ERR_SHAPE, "chunk expects at least a 1-dimensional tensor");
    l = ct_unbind(ct_zeros(CT_SHAPE()), 0);
    assert_int_equal(l.n, 0);
    tu_assert_error(CT_ERR_INDEX, "Dimension specified as 0 but tensor has no dimensions");
    l = ct_unbind(t, -2);
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    l = ct_split(NULL, 1, 0);
    assert_null(l.items);
    tu_assert_error(CT_ERR_NULL, "split");
    l = ct_chunk(NULL, 1, 0);
    tu_assert_error(CT_ERR_NULL, "chunk");
    l = ct_unbind(NULL, 0);
    tu_assert_error(CT_ERR_NULL, "unbind");
    l = ct_split_sizes(NULL, CT_SHAPE(1), 0);
    tu_assert_error(CT_ERR_NULL, "split_with_sizes");
}

/* ---- repeat / tile ---- */

static void check_repeat(const ct_tensor *t, ct_shape reps, ct_tensor *out) {
    ct_shape s = ct_shape_of(t);
    int lead = reps.ndim - s.ndim;
    ct_shape so = reps, sp = reps; /* sp: t's shape padded with leading ones */
    for (int i = 0; i < reps.ndim; i++) {
        sp.d[i] = i < lead ? 1 : s.d[i - lead];
        so.d[i] = reps.d[i] * sp.d[i];
    }
    double *vt = tu_values(t), *want = buf(tu_numel(so));
    int64_t idx[CT_MAX_DIMS];
    for (int64_t f = 0; f < tu_numel(so); f++) {
        tu_unravel(f, so.d, so.ndim, idx);
        for (int i = 0; i < so.ndim; i++) idx[i] %= sp.d[i];
        want[f] = vt[tu_ravel(idx, sp.d, sp.ndim)];
    }
    tu_assert_values(out, so, want, 0, 0);
    free(want);
}

static void repeat_and_tile_match_reference(void **state) {
    (void)state;
    uint64_t rng = 4;
    ct_shape reps[] = {CT_SHAPE(2, 3), CT_SHAPE(1, 1), CT_SHAPE(3, 1, 2), CT_SHAPE(2, 2, 1, 2), CT_SHAPE(0, 2)};
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int r = 0; r < 5; r++) {
                ct_tensor *t = tu_random(&rng, CT_SHAPE(2, 3), dtypes[di], (tu_layout)lay, 0, 10);
                ct_tensor *o = ct_repeat(t, reps[r]);
                assert_int_equal(ct_dtype_of(o), dtypes[di]);
                assert_false(ct_shares_storage(o, t));
                check_repeat(t, reps[r], o);
                check_repeat(t, reps[r], ct_tile(t, reps[r]));
            }
    /* size-1 dims, 0-d and 0-size inputs */
    ct_tensor *c = tu_random(&rng, CT_SHAPE(3, 1), CT_F32, TU_STEPPED, 0, 10);
    check_repeat(c, CT_SHAPE(2, 4), ct_repeat(c, CT_SHAPE(2, 4)));
    ct_tensor *s = ct_scalar_tensor(3);
    tu_assert_values(ct_repeat(s, CT_SHAPE(2)), CT_SHAPE(2), (double[]){3, 3}, 0, 0);
    tu_assert_values(ct_repeat(s, CT_SHAPE()), CT_SHAPE(), (double[]){3}, 0, 0);
    tu_assert_values(ct_repeat(ct_zeros(CT_SHAPE(0, 2)), CT_SHAPE(3, 2)), CT_SHAPE(0, 4), NULL, 0, 0);
    /* tile: fewer reps than dims mean leading ones (numpy) */
    ct_tensor *t = ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(2, 2), CT_F32);
    tu_assert_values(ct_tile(t, CT_SHAPE(2)), CT_SHAPE(2, 4), (double[]){1, 2, 1, 2, 3, 4, 3, 4}, 0, 0);
    tu_assert_values(ct_tile(t, CT_SHAPE()), CT_SHAPE(2, 2), (double[]){1, 2, 3, 4}, 0, 0);
    /* errors */
    assert_null(ct_repeat(t, CT_SHAPE(2)));
    tu_assert_error(CT_ERR_SHAPE, "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
    assert_null(ct_repeat(ct_zeros(CT_SHAPE(2, 3)), CT_SHAPE(2, -1)));
    tu_assert_error(CT_ERR_SHAPE, "Trying to create tensor with negative dimension -3: [4, -3]");
    assert_null(ct_tile(ct_zeros(CT_SHAPE(2, 3)), CT_SHAPE(-1)));
    tu_assert_error(CT_ERR_SHAPE, "Trying to create tensor with negative dimension -3: [2, -3]");
    assert_null(ct_repeat(NULL, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_NULL, "repeat");
    assert_null(ct_tile(NULL, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_NULL, "tile");
}

/* ---- flip / roll ---- */

static void flip_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 5;
    ct_dims dimsets[] = {CT_DIMS(0), CT_DIMS(-1), CT_DIMS(0, 2), CT_DIMS(2, 1, 0), CT_DIMS()};
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int k = 0; k < 5; k++) {
                ct_shape s = CT_SHAPE(3, 4, 5);
                ct_tensor *t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
                ct_tensor *o = ct_flip(t, dimsets[k]);
                assert_non_null(o);
                assert_false(ct_shares_storage(o, t));
                bool fl[3] = {0};
                for (int i = 0; i < dimsets[k].ndim; i++) fl[(dimsets[k].d[i] + 3) % 3] = true;
                double *vt = tu_values(t), want[60];
                int64_t idx[3];
                for (int64_t f = 0; f < 60; f++) {
                    tu_unravel(f, s.d, 3, idx);
                    for (int d = 0; d < 3; d++)
                        if (fl[d]) idx[d] = s.d[d] - 1 - idx[d];
                    want[f] = vt[tu_ravel(idx, s.d, 3)];
                }
                tu_assert_values(o, s, want, 0, 0);
            }
    tu_assert_values(ct_flip(ct_scalar_tensor(2), CT_DIMS()), CT_SHAPE(), (double[]){2}, 0, 0);
    tu_assert_values(ct_flip(ct_scalar_tensor(2), CT_DIMS(0)), CT_SHAPE(), (double[]){2}, 0, 0);
    tu_assert_values(ct_flip(ct_zeros(CT_SHAPE(0, 3)), CT_DIMS(0, 1)), CT_SHAPE(0, 3), NULL, 0, 0);
    /* An expanded (stride 0) input */
    ct_tensor *ex = ct_expand(ct_from_data((float[]){1, 2}, CT_SHAPE(2, 1), CT_F32), CT_SHAPE(2, 3));
    tu_assert_values(ct_flip(ex, CT_DIMS(0, 1)), CT_SHAPE(2, 3), (double[]){2, 2, 2, 1, 1, 1}, 0, 0);
    assert_null(ct_flip(ct_zeros(CT_SHAPE(2, 3)), CT_DIMS(0, 0)));
    tu_assert_error(CT_ERR_ARG, "dim 0 appears multiple times in the list of dims");
    assert_null(ct_flip(ct_zeros(CT_SHAPE(2, 3)), CT_DIMS(2)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_flip(NULL, CT_DIMS(0)));
    tu_assert_error(CT_ERR_NULL, "flip");
}

static void roll_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 6;
    struct {
        ct_shape shifts;
        ct_dims dims;
    } cases[] = {{CT_SHAPE(1), CT_DIMS(0)},         {CT_SHAPE(-2), CT_DIMS(-1)},      {CT_SHAPE(7, 3), CT_DIMS(1, 2)},
                 {CT_SHAPE(1, -1, 13), CT_DIMS(0, 1, 2)}, {CT_SHAPE(0), CT_DIMS(1)}, {CT_SHAPE(2, 1), CT_DIMS(2, 2)}};
    ct_shape s = CT_SHAPE(3, 4, 5);
    for (int di = 0; di < NDT; di += 2)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int k = 0; k < 6; k++) {
                ct_tensor *t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
                ct_tensor *o = ct_roll(t, cases[k].shifts, cases[k].dims);
                int64_t shift[3] = {0};
                for (int i = 0; i < cases[k].dims.ndim; i++) shift[(cases[k].dims.d[i] + 3) % 3] += cases[k].shifts.d[i];
                double *vt = tu_values(t), want[60];
                int64_t idx[3];
                for (int64_t f = 0; f < 60; f++) {
                    tu_unravel(f, s.d, 3, idx);
                    for (int d = 0; d < 3; d++) idx[d] = (((idx[d] - shift[d]) % s.d[d]) + s.d[d]) % s.d[d];
                    want[f] = vt[tu_ravel(idx, s.d, 3)];
                }
                tu_assert_values(o, s, want, 0, 0);
                /* flattened roll */
                o = ct_roll(t, CT_SHAPE(-7), CT_DIMS());
                for (int64_t f = 0; f < 60; f++) want[f] = vt[(((f + 7) % 60) + 60) % 60];
                tu_assert_values(o, s, want, 0, 0);
            }
    ct_tensor *a = ct_reshape(ct_arange(0, 6, 1), CT_SHAPE(2, 3));
    tu_assert_values(ct_roll(a, CT_SHAPE(1), CT_DIMS()), CT_SHAPE(2, 3), (double[]){5, 0, 1, 2, 3, 4}, 0, 0);
    tu_assert_values(ct_roll(a, CT_SHAPE(1, -1), CT_DIMS(0, 1)), CT_SHAPE(2, 3), (double[]){4, 5, 3, 1, 2, 0}, 0, 0);
    tu_assert_values(ct_roll(ct_zeros(CT_SHAPE(0, 3)), CT_SHAPE(1), CT_DIMS(0)), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_roll(ct_scalar_tensor(4), CT_SHAPE(3), CT_DIMS()), CT_SHAPE(), (double[]){4}, 0, 0);
    assert_null(ct_roll(a, CT_SHAPE(1, 2), CT_DIMS(0)));
    tu_assert_error(CT_ERR_ARG, "shifts and dimensions must align. shifts: 2, dims:1");
    assert_null(ct_roll(a, CT_SHAPE(1, 1), CT_DIMS()));
    tu_assert_error(CT_ERR_ARG, "shifts and dimensions must align. shifts: 2, dims:0");
    assert_null(ct_roll(a, CT_SHAPE(), CT_DIMS()));
    tu_assert_error(CT_ERR_ARG, "`shifts` required");
    assert_null(ct_roll(a, CT_SHAPE(1), CT_DIMS(2)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_roll(NULL, CT_SHAPE(1), CT_DIMS(0)));
    tu_assert_error(CT_ERR_NULL, "roll");
}

/* ---- pad ---- */

/* Source index along one dim for output index j (PyTorch semantics, see pad.c), or -1 for the
 * constant value. */
static int64_t pad_src(ct_pad_mode mode, int64_t j, int64_t n, int64_t pl, int64_t pr) {
    int64_t negl = pl < 0 ? -pl : 0, negr = pr < 0 ? -pr : 0, posl = pl > 0 ? pl : 0;
    if (mode == CT_PAD_CONSTANT) {
        int64_t x = j - pl;
        return x >= 0 && x < n ? x : -1;
    }
    if (mode == CT_PAD_CIRCULAR) {
        int64_t c = n - negl - negr, x = j - posl;
        return ((x % c) + c) % c + negl;
    }
    int64_t x = j + negl - posl; /* coordinate in the uncropped input */
    if (mode == CT_PAD_REPLICATE) return x < 0 ? 0 : x >= n ? n - 1 : x;
    return x < 0 ? -x : x >= n ? 2 * (n - 1) - x : x;
}

static void check_pad(const ct_tensor *t, ct_shape pads, ct_pad_mode mode, double value) {
    ct_tensor *o = ct_pad(t, pads, .mode = mode, .value = value);
    if (!o) fail_msg("pad failed: %s", ct_last_error());
    ct_shape s = ct_shape_of(t), so = s;
    int nd = s.ndim;
    for (int p = 0; p < pads.ndim / 2; p++) so.d[nd - 1 - p] += pads.d[2 * p] + pads.d[2 * p + 1];
    double *vt = tu_values(t), *want = buf(tu_numel(so));
    int64_t idx[CT_MAX_DIMS];
    for (int64_t f = 0; f < tu_numel(so); f++) {
        tu_unravel(f, so.d, nd, idx);
        bool outside = false;
        for (int p = 0; p < pads.ndim / 2; p++) {
            int d = nd - 1 - p;
            idx[d] = pad_src(mode, idx[d], s.d[d], pads.d[2 * p], pads.d[2 * p + 1]);
            outside |= idx[d] < 0;
        }
        want[f] = outside ? value : vt[tu_ravel(idx, s.d, nd)];
    }
    tu_assert_values(o, so, want, 0, 0);
    free(want);
}

static void pad_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 7;
    ct_shape padsets[] = {CT_SHAPE(1, 2),       CT_SHAPE(2, 0, 1, 1), CT_SHAPE(-1, 2, 1, -1), CT_SHAPE(0, 0),
                          CT_SHAPE(1, 1, 2, 2, 1, 0), CT_SHAPE(-2, 2)};
    for (int di = 0; di < NDT; di += 2)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int mode = 0; mode < 4; mode++)
                for (int k = 0; k < 6; k++) {
                    ct_tensor *t = tu_random(&rng, CT_SHAPE(2, 3, 4), dtypes[di], (tu_layout)lay, 0, 10);
                    check_pad(t, padsets[k], (ct_pad_mode)mode, dtypes[di] == CT_BOOL ? 1 : 2.5 * (dtypes[di] != CT_I64 && dtypes[di] != CT_U8) + 3);
                }
    /* PyTorch's own values (torch 1.13) for the negative-pad corner cases. */
    ct_tensor *a = ct_reshape(ct_arange(0, 5, 1, .dtype = CT_F32), CT_SHAPE(1, 1, 5));
    tu_assert_values(ct_pad(a, CT_SHAPE(-1, 4), .mode = CT_PAD_REFLECT), CT_SHAPE(1, 1, 8), (double[]){1, 2, 3, 4, 3, 2, 1, 0}, 0, 0);
    tu_assert_values(ct_pad(a, CT_SHAPE(-5, 4), .mode = CT_PAD_REFLECT), CT_SHAPE(1, 1, 4), (double[]){3, 2, 1, 0}, 0, 0);
    tu_assert_values(ct_pad(a, CT_SHAPE(-2, 3), .mode = CT_PAD_CIRCULAR), CT_SHAPE(1, 1, 6), (double[]){2, 3, 4, 2, 3, 4}, 0, 0);
    tu_assert_values(ct_pad(a, CT_SHAPE(5, 0), .mode = CT_PAD_CIRCULAR), CT_SHAPE(1, 1, 10), (double[]){0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, 0, 0);
    tu_assert_values(ct_pad(a, CT_SHAPE(-2, 3), .mode = CT_PAD_REPLICATE), CT_SHAPE(1, 1, 6), (double[]){2, 3, 4, 4, 4, 4}, 0, 0);
    tu_assert_values(ct_pad(a, CT_SHAPE(-3, 1), .value = 9), CT_SHAPE(1, 1, 3), (double[]){3, 4, 9}, 0, 0);
    /* 0-d, 0-size, no pads */
    tu_assert_values(ct_pad(ct_scalar_tensor(5), CT_SHAPE()), CT_SHAPE(), (double[]){5}, 0, 0);
    tu_assert_values(ct_pad(ct_zeros(CT_SHAPE(0, 2)), CT_SHAPE(1, 1), .value = 1), CT_SHAPE(0, 4), NULL, 0, 0);
    tu_assert_values(ct_pad(ct_zeros(CT_SHAPE(2, 0)), CT_SHAPE(1, 1), .value = 1), CT_SHAPE(2, 2), (double[]){1, 1, 1, 1}, 0, 0);
    tu_assert_values(ct_pad(ct_zeros(CT_SHAPE(2, 0)), CT_SHAPE(0, 0), .mode = CT_PAD_REFLECT), CT_SHAPE(2, 0), NULL, 0, 0);
}

static void pad_errors(void **state) {
    (void)state;
    /* errors */
    ct_tensor *t = ct_zeros(CT_SHAPE(2, 3));
    assert_null(ct_pad(t, CT_SHAPE(3, 3), .mode = CT_PAD_REFLECT));
    tu_assert_error(CT_ERR_SHAPE, "Argument #4: Padding size should be less than the corresponding input dimension, "
                                  "but got: padding (3, 3) at dimension 1 of input [2, 3]");
    assert_null(ct_pad(t, CT_SHAPE(0, 0, 2, 0), .mode = CT_PAD_REFLECT));
    tu_assert_error(CT_ERR_SHAPE, "Argument #6: Padding size should be less than the corresponding input dimension, "
                                  "but got: padding (2, 0) at dimension 0 of input [2, 3]");
    assert_null(ct_pad(t, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_ARG, "Padding length must be divisible by 2");
    assert_null(ct_pad(t, CT_SHAPE(1, 1, 1, 1, 1, 1)));
    tu_assert_error(CT_ERR_ARG, "Padding length too large");
    assert_null(ct_pad(t, CT_SHAPE(4, 1), .mode = CT_PAD_CIRCULAR));
    tu_assert_error(CT_ERR_SHAPE, "Padding value causes wrapping around more than once.");
    assert_null(ct_pad(t, CT_SHAPE(-3, 0), .mode = CT_PAD_CIRCULAR));
    tu_assert_error(CT_ERR_SHAPE, "Negative padding value is resulting in an empty dimension");
    assert_null(ct_pad(t, CT_SHAPE(-4, 0)));
    tu_assert_error(CT_ERR_SHAPE, "The input size 3, plus negative padding -4 and 0 resulted in a negative output size");
    assert_null(ct_pad(ct_zeros(CT_SHAPE(2, 0)), CT_SHAPE(1, 0), .mode = CT_PAD_REPLICATE));
    tu_assert_error(CT_ERR_SHAPE, "non-zero sizes");
    assert_null(ct_pad(t, CT_SHAPE(1, 1), .mode = (ct_pad_mode)9));
    tu_assert_error(CT_ERR_ARG, "invalid padding mode");
    assert_null(ct_pad(NULL, CT_SHAPE(1, 1)));
    tu_assert_error(CT_ERR_NULL, "pad");
}

/* ---- tril / triu ---- */

static void tril_triu_match_reference(void **state) {
    (void)state;
    uint64_t rng = 8;
    ct_shape s = CT_SHAPE(2, 4, 5);
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++)
            for (int64_t k = -5; k <= 6; k++) {
                ct_tensor *t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 1, 10);
                double *vt = tu_values(t), wl[40], wu[40];
                int64_t idx[3];
                for (int64_t f = 0; f < 40; f++) {
                    tu_unravel(f, s.d, 3, idx);
                    wl[f] = idx[2] - idx[1] <= k ? vt[f] : 0;
                    wu[f] = idx[2] - idx[1] >= k ? vt[f] : 0;
                }
                tu_assert_values(ct_tril(t, k), s, wl, 0, 0);
                tu_assert_values(ct_triu(t, k), s, wu, 0, 0);
            }
    tu_assert_values(ct_tril(ct_zeros(CT_SHAPE(0, 3)), 0), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_triu(ct_ones(CT_SHAPE(3, 0, 2)), 0), CT_SHAPE(3, 0, 2), NULL, 0, 0);
    assert_null(ct_tril(ct_zeros(CT_SHAPE(3)), 0));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-1, 0], but got -2)");
    assert_null(ct_triu(ct_zeros(CT_SHAPE()), 0));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_triu(NULL, 0));
    tu_assert_error(CT_ERR_NULL, "triu");
}

/* Results are independent of the thread count (large enough to go parallel). */
static void threads_do_not_change_results(void **state) {
    (void)state;
    uint64_t rng = 9;
    ct_tensor *t = tu_random(&rng, CT_SHAPE(300, 257), CT_F32, TU_TRANSPOSED, -1, 1);
    int old = ct_get_num_threads();
    ct_set_num_threads(1);
    ct_tensor *a[3] = {ct_flip(t, CT_DIMS(0, 1)), ct_roll(t, CT_SHAPE(5), CT_DIMS()), ct_pad(t, CT_SHAPE(3, 2, 1, 4), .mode = CT_PAD_REFLECT)};
    ct_set_num_threads(2);
    ct_tensor *b[3] = {ct_flip(t, CT_DIMS(0, 1)), ct_roll(t, CT_SHAPE(5), CT_DIMS()), ct_pad(t, CT_SHAPE(3, 2, 1, 4), .mode = CT_PAD_REFLECT)};
    ct_set_num_threads(old);
    for (int i = 0; i < 3; i++) {
        int64_t n = ct_numel(a[i]);
        assert_int_equal(n, ct_numel(b[i]));
        assert_memory_equal(ct_data_ptr(a[i]), ct_data_ptr(b[i]), (size_t)n * sizeof(float));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cat_matches_reference),
        cmocka_unit_test(cat_promotes_and_skips_legacy_empty),
        cmocka_unit_test(cat_errors),
        cmocka_unit_test(stack_matches_reference),
        cmocka_unit_test(split_chunk_unbind_are_views),
        cmocka_unit_test(split_chunk_unbind_errors),
        cmocka_unit_test(repeat_and_tile_match_reference),
        cmocka_unit_test(flip_matches_reference),
        cmocka_unit_test(roll_matches_reference),
        cmocka_unit_test(pad_matches_reference),
        cmocka_unit_test(pad_errors),
        cmocka_unit_test(tril_triu_match_reference),
        cmocka_unit_test(threads_do_not_change_results),
    };
    return TU_RUN("shape_ops", tests);
}
