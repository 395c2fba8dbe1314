/* Views (tensor/views.c): every view is checked against f64 index math (the base element each
 * result element must read), shares the base's storage, and writes through; on random data in all
 * layouts and several dtypes, plus 0-d / 0-size cases and the error paths. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ct_dtype dtypes[] = {CT_F32, CT_I64, CT_F16, CT_BOOL};
#define NDT (int)(sizeof dtypes / sizeof dtypes[0])

/* What a view's element at out_idx reads from its base: the base index (reference math). */
typedef struct vmap {
    enum { M_PERMUTE, M_SLICE, M_SELECT, M_EXPAND, M_FLAT, M_UNFOLD, M_DIAG } kind;
    int64_t perm[CT_MAX_DIMS];
    int dim, dim2, lead;
    int64_t start, step, offset;
    ct_shape base_shape, out_shape;
} vmap;

static void map_index(const vmap *m, const int64_t *o, int64_t *b) {
    const ct_shape *bs = &m->base_shape;
    switch (m->kind) {
    case M_PERMUTE:
        for (int i = 0; i < bs->ndim; i++) b[m->perm[i]] = o[i];
        break;
    case M_SLICE:
        memcpy(b, o, (size_t)bs->ndim * sizeof *b);
        b[m->dim] = m->start + o[m->dim] * m->step;
        break;
    case M_SELECT:
        for (int i = 0, j = 0; i < bs->ndim; i++) b[i] = i == m->dim ? m->start : o[j++];
        break;
    case M_EXPAND:
        for (int k = 0; k < bs->ndim; k++) b[k] = bs->d[k] == 1 ? 0 : o[k + m->lead];
        break;
    case M_FLAT: /* view/reshape/flatten/squeeze...: the row-major position is kept */
        tu_unravel(tu_ravel(o, m->out_shape.d, m->out_shape.ndim), bs->d, bs->ndim, b);
        break;
    case M_UNFOLD:
        memcpy(b, o, (size_t)bs->ndim * sizeof *b);
        b[m->dim] = o[m->dim] * m->step + o[bs->ndim];
        break;
    case M_DIAG: {
        int j = 0;
        for (int i = 0; i < bs->ndim; i++)
            if (i != m->dim && i != m->dim2) b[i] = o[j++];
        b[m->dim] = o[j] + (m->offset < 0 ? -m->offset : 0);
        b[m->dim2] = o[j] + (m->offset > 0 ? m->offset : 0);
        break;
    }
    }
}

/* v must be a view of base with shape `want`, reading base through m, and writing through. */
static void assert_view(ct_tensor *base, ct_tensor *v, ct_shape want, vmap m) {
    if (!v) fail_msg("view is NULL: %s", ct_last_error());
    assert_true(ct_shares_storage(base, v));
    m.base_shape = ct_shape_of(base);
    m.out_shape = want;
    int64_t n = tu_numel(want), nb = ct_numel(base);
    double *vb = tu_values(base), *exp = malloc((size_t)(n ? n : 1) * sizeof *exp);
    bool *hit = calloc((size_t)(nb ? nb : 1), 1);
    int64_t oi[CT_MAX_DIMS], bi[CT_MAX_DIMS];
    for (int64_t f = 0; f < n; f++) {
        tu_unravel(f, want.d, want.ndim, oi);
        map_index(&m, oi, bi);
        int64_t bf = tu_ravel(bi, m.base_shape.d, m.base_shape.ndim);
        assert_true(bf >= 0 && bf < nb);
        exp[f] = vb[bf];
        hit[bf] = true;
    }
    tu_assert_values(v, want, exp, 0, 0);
    /* Write through: the mapped base elements change, the others keep their values. (An expanded
     * base shares memory between its elements, so this only holds for bases without overlap.) */
    for (int d = 0; d < ct_ndim(base); d++)
        if (ct_stride(base, d) == 0 && ct_size(base, d) > 1) {
            free(exp);
            free(hit);
            return;
        }
    double fill = ct_dtype_of(base) == CT_BOOL ? 1 : 77;
    assert_non_null(ct_fill_(v, fill));
    double *after = tu_values(base);
    for (int64_t i = 0; i < nb; i++) assert_true(after[i] == (hit[i] ? fill : vb[i]));
    free(exp);
    free(hit);
}

static vmap flatmap(void) { return (vmap){.kind = M_FLAT}; }

/* ---- view / reshape ---- */

static void view_and_reshape(void **state) {
    (void)state;
    uint64_t rng = 11;
    for (int di = 0; di < NDT; di++) {
        ct_tensor *b = tu_random(&rng, CT_SHAPE(2, 3, 4), dtypes[di], TU_CONTIGUOUS, 0, 10);
        assert_view(b, ct_view(b, CT_SHAPE(6, 4)), CT_SHAPE(6, 4), flatmap());
        assert_view(b, ct_view(b, CT_SHAPE(-1, 2)), CT_SHAPE(12, 2), flatmap());
        assert_view(b, ct_view(b, CT_SHAPE(2, 1, 12)), CT_SHAPE(2, 1, 12), flatmap());
        /* An offset (narrowed) base is still contiguous in its own right. */
        ct_tensor *o = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], TU_OFFSET, 0, 10);
        assert_view(o, ct_view(o, CT_SHAPE(12)), CT_SHAPE(12), flatmap());
        /* A stepped base can still split its last dim (each chunk stays one subspace). */
        ct_tensor *s = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], TU_STEPPED, 0, 10);
        assert_view(s, ct_view(s, CT_SHAPE(3, 2, 2)), CT_SHAPE(3, 2, 2), flatmap());
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
            ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], (tu_layout)lay, 0, 10);
            ct_tensor *r = ct_reshape(t, CT_SHAPE(2, -1));
            /* stepped: strides (8, 2) are still one chunk; expanded rows (stride 0) cannot be re-split */
            bool viewable = lay != TU_TRANSPOSED && lay != TU_EXPANDED;
            assert_int_equal(ct_shares_storage(r, t), viewable); /* a view when possible, else a copy */
            double *vt = tu_values(t);
            tu_assert_values(r, CT_SHAPE(2, 6), vt, 0, 0);
            if (viewable) assert_view(t, r, CT_SHAPE(2, 6), flatmap());
        }
    }
    /* The contiguity condition fails for a transposed base: view refuses, reshape copies. */
    ct_tensor *t = ct_transpose(ct_zeros(CT_SHAPE(2, 3)), 0, 1);
    assert_null(ct_view(t, CT_SHAPE(6)));
    tu_assert_error(CT_ERR_SHAPE, "view size is not compatible with input tensor's size and stride (at least one "
                                  "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
    assert_null(ct_view(ct_slice(ct_zeros(CT_SHAPE(4, 3)), 1, 0, 2, 1), CT_SHAPE(8)));
    tu_assert_error(CT_ERR_SHAPE, "view size is not compatible");
    assert_false(ct_shares_storage(ct_reshape(t, CT_SHAPE(6)), t));
    /* 0-d and 0-size */
    ct_tensor *z = ct_scalar_tensor(3);
    assert_view(z, ct_view(z, CT_SHAPE(1, 1)), CT_SHAPE(1, 1), flatmap());
    assert_view(z, ct_view(z, CT_SHAPE(-1)), CT_SHAPE(1), flatmap());
    ct_tensor *one = ct_ones(CT_SHAPE(1, 1));
    assert_view(one, ct_view(one, CT_SHAPE()), CT_SHAPE(), flatmap());
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 3));
    assert_view(e, ct_view(e, CT_SHAPE(3, 0, 5)), CT_SHAPE(3, 0, 5), flatmap());
    assert_view(e, ct_view(e, CT_SHAPE(-1)), CT_SHAPE(0), flatmap());
    assert_view(e, ct_view(ct_transpose(e, 0, 1), CT_SHAPE(-1)), CT_SHAPE(0), flatmap());
    /* errors */
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    assert_null(ct_view(a, CT_SHAPE(-1, -1)));
    tu_assert_error(CT_ERR_SHAPE, "only one dimension can be inferred");
    assert_null(ct_view(a, CT_SHAPE(4, -1)));
    tu_assert_error(CT_ERR_SHAPE, "shape '[4, -1]' is invalid for input of size 6");
    assert_null(ct_reshape(a, CT_SHAPE(5)));
    tu_assert_error(CT_ERR_SHAPE, "shape '[5]' is invalid for input of size 6");
    assert_null(ct_view(a, CT_SHAPE(-2, 3)));
    tu_assert_error(CT_ERR_SHAPE, "invalid shape dimension -2");
    assert_null(ct_view(e, CT_SHAPE(-1, 0)));
    tu_assert_error(CT_ERR_SHAPE, "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified "
                                  "dimension size -1 can be any value and is ambiguous");
    assert_null(ct_view(NULL, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_NULL, "view");
    assert_null(ct_reshape(NULL, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_NULL, "reshape");
}

/* ---- permute / transpose / t / movedim ---- */

static vmap permmap(ct_dims p) {
    vmap m = {.kind = M_PERMUTE};
    for (int i = 0; i < p.ndim; i++) m.perm[i] = p.d[i] < 0 ? p.d[i] + p.ndim : p.d[i];
    return m;
}

static void permute_transpose_movedim(void **state) {
    (void)state;
    uint64_t rng = 12;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
            ct_shape s = CT_SHAPE(2, 3, 4);
            ct_tensor *t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_permute(t, CT_DIMS(2, 0, 1)), CT_SHAPE(4, 2, 3), permmap(CT_DIMS(2, 0, 1)));
            t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_permute(t, CT_DIMS(-1, 1, 0)), CT_SHAPE(4, 3, 2), permmap(CT_DIMS(2, 1, 0)));
            t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_transpose(t, 0, -1), CT_SHAPE(4, 3, 2), permmap(CT_DIMS(2, 1, 0)));
            t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_movedim(t, 0, 2), CT_SHAPE(3, 4, 2), permmap(CT_DIMS(1, 2, 0)));
            t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_movedim(t, -1, 0), CT_SHAPE(4, 2, 3), permmap(CT_DIMS(2, 0, 1)));
            t = tu_random(&rng, s, dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_movedim(t, 1, 1), s, permmap(CT_DIMS(0, 1, 2)));
            ct_tensor *m = tu_random(&rng, CT_SHAPE(3, 5), dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(m, ct_t(m), CT_SHAPE(5, 3), permmap(CT_DIMS(1, 0)));
        }
    ct_tensor *v = ct_arange(0, 4, 1);
    assert_view(v, ct_t(v), CT_SHAPE(4), permmap(CT_DIMS(0)));
    ct_tensor *z = ct_scalar_tensor(1);
    assert_view(z, ct_t(z), CT_SHAPE(), permmap(CT_DIMS()));
    assert_view(z, ct_transpose(z, 0, -1), CT_SHAPE(), permmap(CT_DIMS()));
    assert_view(z, ct_permute(z, CT_DIMS()), CT_SHAPE(), permmap(CT_DIMS()));
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 2));
    assert_view(e, ct_t(e), CT_SHAPE(2, 0), permmap(CT_DIMS(1, 0)));
    /* transposed strides are swapped, nothing is copied */
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    assert_int_equal(ct_stride(ct_t(a), 0), 1);
    assert_int_equal(ct_stride(ct_t(a), 1), 3);
    /* errors */
    assert_null(ct_permute(a, CT_DIMS(0, 0)));
    tu_assert_error(CT_ERR_ARG, "duplicate dims are not allowed");
    assert_null(ct_permute(a, CT_DIMS(0)));
    tu_assert_error(CT_ERR_SHAPE, "input.dim() = 2 is not equal to len(dims) = 1");
    assert_null(ct_permute(a, CT_DIMS(0, 2)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_t(ct_zeros(CT_SHAPE(2, 3, 4))));
    tu_assert_error(CT_ERR_SHAPE, "t() expects a tensor with <= 2 dimensions, but self is 3D");
    assert_null(ct_transpose(a, 0, 2));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_movedim(a, 2, 0));
    tu_assert_error(CT_ERR_INDEX, "but got 2");
    assert_null(ct_movedim(a, 0, -3));
    tu_assert_error(CT_ERR_INDEX, "but got -3");
    assert_null(ct_t(NULL));
    tu_assert_error(CT_ERR_NULL, "t");
}

/* ---- expand / broadcast_to / expand_as ---- */

static void expand_family(void **state) {
    (void)state;
    uint64_t rng = 13;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
            ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 1), dtypes[di], (tu_layout)lay, 0, 10);
            ct_tensor *x = ct_expand(t, CT_SHAPE(2, -1, 4));
            assert_int_equal(ct_stride(x, 0), 0);
            assert_int_equal(ct_stride(x, 2), 0);
            assert_int_equal(ct_stride(x, 1), ct_stride(t, 0));
            assert_view(t, x, CT_SHAPE(2, 3, 4), (vmap){.kind = M_EXPAND, .lead = 1});
            t = tu_random(&rng, CT_SHAPE(1, 4), dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_broadcast_to(t, CT_SHAPE(3, 4)), CT_SHAPE(3, 4), (vmap){.kind = M_EXPAND});
            t = tu_random(&rng, CT_SHAPE(1, 4), dtypes[di], (tu_layout)lay, 0, 10);
            assert_view(t, ct_expand_as(t, ct_zeros(CT_SHAPE(2, 5, 4))), CT_SHAPE(2, 5, 4),
                        (vmap){.kind = M_EXPAND, .lead = 1});
        }
    ct_tensor *z = ct_scalar_tensor(2);
    assert_view(z, ct_expand(z, CT_SHAPE(2, 2)), CT_SHAPE(2, 2), (vmap){.kind = M_EXPAND, .lead = 2});
    ct_tensor *o = ct_ones(CT_SHAPE(1));
    assert_view(o, ct_expand(o, CT_SHAPE(0)), CT_SHAPE(0), (vmap){.kind = M_EXPAND});
    assert_view(o, ct_expand(o, CT_SHAPE(0, 1)), CT_SHAPE(0, 1), (vmap){.kind = M_EXPAND, .lead = 1});
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    assert_null(ct_expand(a, CT_SHAPE(3, 3)));
    tu_assert_error(CT_ERR_SHAPE, "The expanded size of the tensor (3) must match the existing size (2) at "
                                  "non-singleton dimension 0.  Target sizes: [3, 3].  Tensor sizes: [2, 3]");
    assert_null(ct_expand(a, CT_SHAPE(3)));
    tu_assert_error(CT_ERR_SHAPE, "the number of sizes provided (1) must be greater or equal to the number of "
                                  "dimensions in the tensor (2)");
    assert_null(ct_expand(a, CT_SHAPE(-1, 2, 3)));
    tu_assert_error(CT_ERR_SHAPE, "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                                  "dimension 0");
    assert_null(ct_broadcast_to(a, CT_SHAPE(2, 4)));
    tu_assert_error(CT_ERR_SHAPE, "must match the existing size (3) at non-singleton dimension 1");
    assert_null(ct_expand_as(a, NULL));
    tu_assert_error(CT_ERR_NULL, "expand_as");
}

/* ---- narrow / slice / select ---- */

static void narrow_slice_select(void **state) {
    (void)state;
    uint64_t rng = 14;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
#define FRESH tu_random(&rng, CT_SHAPE(5, 6), dtypes[di], (tu_layout)lay, 0, 10)
            ct_tensor *t = FRESH;
            assert_view(t, ct_narrow(t, 1, 2, 3), CT_SHAPE(5, 3), (vmap){.kind = M_SLICE, .dim = 1, .start = 2, .step = 1});
            t = FRESH;
            assert_view(t, ct_narrow(t, 0, -2, 2), CT_SHAPE(2, 6), (vmap){.kind = M_SLICE, .dim = 0, .start = 3, .step = 1});
            t = FRESH;
            assert_view(t, ct_narrow(t, -1, 6, 0), CT_SHAPE(5, 0), (vmap){.kind = M_SLICE, .dim = 1, .start = 6, .step = 1});
            /* Python slicing: t[:, 1::2], t[-4:-1:2], t[-100:100:3], t[4:2], t[:, ::4] */
            t = FRESH;
            assert_view(t, ct_slice(t, 1, 1, CT_END, 2), CT_SHAPE(5, 3), (vmap){.kind = M_SLICE, .dim = 1, .start = 1, .step = 2});
            t = FRESH;
            assert_view(t, ct_slice(t, 0, -4, -1, 2), CT_SHAPE(2, 6), (vmap){.kind = M_SLICE, .dim = 0, .start = 1, .step = 2});
            t = FRESH;
            assert_view(t, ct_slice(t, -1, -100, 100, 3), CT_SHAPE(5, 2), (vmap){.kind = M_SLICE, .dim = 1, .start = 0, .step = 3});
            t = FRESH;
            assert_view(t, ct_slice(t, 0, 4, 2, 1), CT_SHAPE(0, 6), (vmap){.kind = M_SLICE, .dim = 0, .start = 4, .step = 1});
            t = FRESH;
            assert_view(t, ct_slice(t, 0, 7, CT_END, 1), CT_SHAPE(0, 6), (vmap){.kind = M_SLICE, .dim = 0, .start = 5, .step = 1});
            t = FRESH;
            assert_view(t, ct_slice(t, 1, 0, CT_END, 4), CT_SHAPE(5, 2), (vmap){.kind = M_SLICE, .dim = 1, .start = 0, .step = 4});
            t = FRESH;
            assert_view(t, ct_select(t, 0, 3), CT_SHAPE(6), (vmap){.kind = M_SELECT, .dim = 0, .start = 3});
            t = FRESH;
            assert_view(t, ct_select(t, -1, -1), CT_SHAPE(5), (vmap){.kind = M_SELECT, .dim = 1, .start = 5});
#undef FRESH
        }
    /* select to 0-d, then write through */
    ct_tensor *v = ct_arange(0, 3, 1, .dtype = CT_F64);
    assert_view(v, ct_select(v, 0, -2), CT_SHAPE(), (vmap){.kind = M_SELECT, .dim = 0, .start = 1});
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    assert_int_equal(ct_storage_offset(ct_narrow(ct_select(a, 0, 1), 0, 1, 2)), 4);
    /* errors */
    assert_null(ct_narrow(a, 0, 1, 2));
    tu_assert_error(CT_ERR_INDEX, "start (1) + length (2) exceeds dimension size (2).");
    assert_null(ct_narrow(a, 0, 1, -1));
    tu_assert_error(CT_ERR_INDEX, "start (1) + length (-1) exceeds dimension size (2).");
    assert_null(ct_narrow(a, 0, 3, 0));
    tu_assert_error(CT_ERR_INDEX, "start (3) is out of bounds");
    assert_null(ct_narrow(a, 2, 0, 1));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_narrow(ct_scalar_tensor(1), 0, 0, 1));
    tu_assert_error(CT_ERR_INDEX, "narrow() cannot be applied to a 0-dim tensor.");
    assert_null(ct_select(a, 1, 3));
    tu_assert_error(CT_ERR_INDEX, "select(): index 3 out of range for tensor of size [2, 3] at dimension 1");
    assert_null(ct_select(a, 1, -4));
    tu_assert_error(CT_ERR_INDEX, "select(): index -4 out of range for tensor of size [2, 3] at dimension 1");
    assert_null(ct_select(ct_scalar_tensor(1), 0, 0));
    tu_assert_error(CT_ERR_INDEX, "select() cannot be applied to a 0-dim tensor.");
    assert_null(ct_slice(a, 1, 0, 2, 0));
    tu_assert_error(CT_ERR_ARG, "slice step must be positive");
    assert_null(ct_slice(a, 1, 0, 2, -1));
    tu_assert_error(CT_ERR_ARG, "slice step must be positive");
    assert_null(ct_slice(a, -3, 0, 2, 1));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_slice(ct_scalar_tensor(1), 0, 0, 1, 1));
    tu_assert_error(CT_ERR_INDEX, "cannot slice a 0-d tensor");
    assert_null(ct_select(NULL, 0, 0));
    tu_assert_error(CT_ERR_NULL, "select");
}

/* ---- squeeze / unsqueeze / flatten / unflatten / ravel ---- */

static void squeeze_unsqueeze_flatten(void **state) {
    (void)state;
    uint64_t rng = 15;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
#define FRESH(...) tu_random(&rng, CT_SHAPE(__VA_ARGS__), dtypes[di], (tu_layout)lay, 0, 10)
            ct_tensor *t = FRESH(1, 3, 1, 4);
            assert_view(t, ct_squeeze(t), CT_SHAPE(3, 4), flatmap());
            t = FRESH(1, 3, 1, 4);
            assert_view(t, ct_squeeze_dim(t, -2), CT_SHAPE(1, 3, 4), flatmap());
            t = FRESH(1, 3, 1, 4);
            assert_view(t, ct_squeeze_dim(t, 1), CT_SHAPE(1, 3, 1, 4), flatmap()); /* size 3: no-op */
            t = FRESH(3, 4);
            for (int d = -3; d <= 2; d++) {
                ct_shape s = {.ndim = 3};
                int w = d < 0 ? d + 3 : d;
                for (int i = 0, j = 0; i < 3; i++) s.d[i] = i == w ? 1 : (int64_t[]){3, 4}[j++];
                ct_tensor *u = ct_unsqueeze(t, d);
                assert_view(t, u, s, flatmap());
                /* the new dim steps like its neighbours, so the result stays viewable */
                assert_non_null(ct_squeeze_dim(u, w));
            }
            t = FRESH(2, 3, 4);
            ct_tensor *f = ct_flatten(t);
            assert_int_equal(ct_shares_storage(f, t), lay != TU_TRANSPOSED && lay != TU_EXPANDED);
            tu_assert_values(f, CT_SHAPE(24), tu_values(t), 0, 0);
            if (lay != TU_TRANSPOSED && lay != TU_EXPANDED) assert_view(t, f, CT_SHAPE(24), flatmap());
            t = FRESH(2, 3, 4);
            f = ct_flatten(t, 1);
            tu_assert_values(f, CT_SHAPE(2, 12), tu_values(t), 0, 0);
            t = FRESH(2, 3, 4);
            f = ct_flatten(t, 0, 1); /* a view unless the last two dims are swapped or dim 0 broadcast */
            tu_assert_values(f, CT_SHAPE(6, 4), tu_values(t), 0, 0);
            if (lay != TU_TRANSPOSED && lay != TU_EXPANDED) assert_view(t, f, CT_SHAPE(6, 4), flatmap());
            else assert_false(ct_shares_storage(f, t));
            t = FRESH(2, 3, 4);
            f = ct_ravel(t);
            tu_assert_values(f, CT_SHAPE(24), tu_values(t), 0, 0);
            t = FRESH(2, 6);
            assert_view(t, ct_unflatten(t, 1, CT_SHAPE(3, -1)), CT_SHAPE(2, 3, 2), flatmap());
            t = FRESH(6, 2);
            assert_view(t, ct_unflatten(t, 0, CT_SHAPE(1, 6, 1)), CT_SHAPE(1, 6, 1, 2), flatmap());
#undef FRESH
        }
    /* 0-d and 0-size */
    ct_tensor *z = ct_scalar_tensor(5);
    assert_view(z, ct_unsqueeze(z, 0), CT_SHAPE(1), flatmap());
    assert_view(z, ct_unsqueeze(z, -1), CT_SHAPE(1), flatmap());
    assert_view(z, ct_squeeze(z), CT_SHAPE(), flatmap());
    assert_view(z, ct_squeeze_dim(z, 0), CT_SHAPE(), flatmap());
    assert_view(z, ct_flatten(z), CT_SHAPE(1), flatmap());
    assert_view(z, ct_ravel(z), CT_SHAPE(1), flatmap());
    ct_tensor *one = ct_ones(CT_SHAPE(1, 1, 1));
    assert_view(one, ct_squeeze(one), CT_SHAPE(), flatmap());
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 1, 3));
    assert_view(e, ct_squeeze(e), CT_SHAPE(0, 3), flatmap());
    assert_view(e, ct_flatten(e, 1), CT_SHAPE(0, 3), flatmap());
    assert_view(e, ct_unflatten(e, 2, CT_SHAPE(3, 1)), CT_SHAPE(0, 1, 3, 1), flatmap());
    /* errors */
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    assert_null(ct_unsqueeze(a, 3));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-3, 2], but got 3)");
    assert_null(ct_squeeze_dim(a, 2));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    assert_null(ct_flatten(a, 1, 0));
    tu_assert_error(CT_ERR_ARG, "flatten() has invalid args: start_dim cannot come after end_dim");
    assert_null(ct_flatten(a, 2));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
    ct_tensor *six = ct_zeros(CT_SHAPE(6));
    assert_null(ct_unflatten(six, 0, CT_SHAPE(4, -1)));
    tu_assert_error(CT_ERR_SHAPE, "unflatten: Provided sizes [4, -1] don't multiply up to the size of dim 0 (6) in "
                                  "the input tensor");
    assert_null(ct_unflatten(six, 0, CT_SHAPE(2, 2)));
    tu_assert_error(CT_ERR_SHAPE, "Provided sizes [2, 2] don't multiply up to the size of dim 0 (6)");
    assert_null(ct_unflatten(six, 0, CT_SHAPE()));
    tu_assert_error(CT_ERR_ARG, "unflatten: sizes must be non-empty");
    assert_null(ct_unflatten(six, 0, CT_SHAPE(-1, -1)));
    tu_assert_error(CT_ERR_SHAPE, "only one dimension can be inferred");
    assert_null(ct_unflatten(z, 0, CT_SHAPE(1)));
    tu_assert_error(CT_ERR_INDEX, "Dimension specified as 0 but tensor has no dimensions");
    /* splitting one dim is always a view, even of a transposed base */
    assert_non_null(ct_unflatten(ct_transpose(ct_zeros(CT_SHAPE(3, 4)), 0, 1), 0, CT_SHAPE(2, 2)));
    assert_null(ct_flatten(NULL));
    tu_assert_error(CT_ERR_NULL, "flatten");
}

/* ---- unfold / diagonal ---- */

static void unfold_and_diagonal(void **state) {
    (void)state;
    uint64_t rng = 16;
    for (int di = 0; di < NDT; di++)
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
#define FRESH(...) tu_random(&rng, CT_SHAPE(__VA_ARGS__), dtypes[di], (tu_layout)lay, 0, 10)
            ct_tensor *t = FRESH(3, 7);
            assert_view(t, ct_unfold(t, 1, 3, 2), CT_SHAPE(3, 3, 3), (vmap){.kind = M_UNFOLD, .dim = 1, .step = 2});
            t = FRESH(3, 7);
            assert_view(t, ct_unfold(t, 0, 2, 1), CT_SHAPE(2, 7, 2), (vmap){.kind = M_UNFOLD, .dim = 0, .step = 1});
            t = FRESH(3, 7);
            assert_view(t, ct_unfold(t, -1, 7, 5), CT_SHAPE(3, 1, 7), (vmap){.kind = M_UNFOLD, .dim = 1, .step = 5});
            t = FRESH(3, 7);
            assert_view(t, ct_unfold(t, 1, 0, 3), CT_SHAPE(3, 3, 0), (vmap){.kind = M_UNFOLD, .dim = 1, .step = 3});
            for (int64_t off = -4; off <= 5; off++) {
                t = FRESH(3, 4);
                int64_t n = off >= 0 ? (4 - off < 3 ? 4 - off : 3) : (3 + off < 4 ? 3 + off : 4);
                if (n < 0) n = 0;
                assert_view(t, ct_diagonal(t, off, 0, 1), CT_SHAPE(n), (vmap){.kind = M_DIAG, .dim = 0, .dim2 = 1, .offset = off});
                t = FRESH(3, 4);
                int64_t m = off >= 0 ? (3 - off < 4 ? 3 - off : 4) : (4 + off < 3 ? 4 + off : 3);
                if (m < 0) m = 0;
                assert_view(t, ct_diagonal(t, off, 1, 0), CT_SHAPE(m), (vmap){.kind = M_DIAG, .dim = 1, .dim2 = 0, .offset = off});
            }
            t = FRESH(2, 3, 4);
            assert_view(t, ct_diagonal(t, 1, 0, 2), CT_SHAPE(3, 2), (vmap){.kind = M_DIAG, .dim = 0, .dim2 = 2, .offset = 1});
            t = FRESH(2, 3, 4);
            assert_view(t, ct_diagonal(t, -1, -1, -2), CT_SHAPE(2, 3), (vmap){.kind = M_DIAG, .dim = 2, .dim2 = 1, .offset = -1});
#undef FRESH
        }
    /* 0-d unfolds into a vector of its one element */
    ct_tensor *z = ct_scalar_tensor(5);
    assert_view(z, ct_unfold(z, 0, 1, 1), CT_SHAPE(1), flatmap());
    assert_view(z, ct_unfold(z, 0, 0, 1), CT_SHAPE(0), flatmap());
}

static void unfold_windows_are_pytorchs(void **state) {
    (void)state;
    tu_assert_values(ct_unfold(ct_arange(0, 7, 1), 0, 2, 3), CT_SHAPE(2, 2), (double[]){0, 1, 3, 4}, 0, 0);
    tu_assert_values(ct_unfold(ct_arange(0, 5, 1), 0, 5, 1), CT_SHAPE(1, 5), (double[]){0, 1, 2, 3, 4}, 0, 0);
    ct_tensor *a = ct_zeros(CT_SHAPE(5));
    assert_null(ct_unfold(a, 0, 6, 1));
    tu_assert_error(CT_ERR_ARG, "maximum size for tensor at dimension 0 is 5 but size is 6");
    assert_null(ct_unfold(a, 0, 2, 0));
    tu_assert_error(CT_ERR_ARG, "step is 0 but must be > 0");
    assert_null(ct_unfold(ct_scalar_tensor(1), 0, 2, 1));
    tu_assert_error(CT_ERR_ARG, "maximum size for tensor at dimension 0 is 1 but size is 2");
    assert_null(ct_unfold(a, 1, 1, 1));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    assert_null(ct_diagonal(a, 0, 0, 1));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-1, 0], but got 1)");
    assert_null(ct_diagonal(ct_zeros(CT_SHAPE(3, 3)), 0, 1, -1));
    tu_assert_error(CT_ERR_ARG, "diagonal dimensions cannot be identical 1, -1");
    assert_null(ct_diagonal(NULL, 0, 0, 1));
    tu_assert_error(CT_ERR_NULL, "diagonal");
}

/* ---- as_strided / alias / contiguous ---- */

static void as_strided_alias_contiguous(void **state) {
    (void)state;
    uint64_t rng = 17;
    for (int di = 0; di < NDT; di++) {
        /* contiguous base with offset 0: storage index = flat index */
        ct_tensor *b = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], TU_CONTIGUOUS, 0, 10);
        double *vb = tu_values(b);
        ct_tensor *s = ct_as_strided(b, CT_SHAPE(2, 3), CT_SHAPE(1, 4), 1);
        assert_true(ct_shares_storage(s, b));
        double want[6];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) want[i * 3 + j] = vb[1 + i * 1 + j * 4];
        tu_assert_values(s, CT_SHAPE(2, 3), want, 0, 0);
        /* overlapping windows with a stride-0 dim */
        ct_tensor *w = ct_as_strided(b, CT_SHAPE(3, 2, 2), CT_SHAPE(2, 0, 1), 4);
        double want2[12];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++) want2[(i * 2 + j) * 2 + k] = vb[4 + i * 2 + k];
        tu_assert_values(w, CT_SHAPE(3, 2, 2), want2, 0, 0);
        /* storage_offset is absolute, not relative to a view's own offset */
        ct_tensor *o = ct_narrow(b, 0, 1, 2);
        tu_assert_values(ct_as_strided(o, CT_SHAPE(1), CT_SHAPE(1), 0), CT_SHAPE(1), vb, 0, 0);
        ct_fill_(ct_as_strided(b, CT_SHAPE(), CT_SHAPE(), 11), 1);
        assert_true(ct_get(b, CT_SHAPE(2, 3)) == 1);
        /* alias: same metadata, same storage, a distinct handle */
        ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], TU_TRANSPOSED, 0, 10);
        ct_tensor *al = ct_alias(t);
        assert_ptr_not_equal(al, t);
        assert_int_equal(ct_storage_offset(al), ct_storage_offset(t));
        assert_int_equal(ct_stride(al, 0), ct_stride(t, 0));
        assert_view(t, al, CT_SHAPE(3, 4), permmap(CT_DIMS(0, 1)));
        /* contiguous: the same tensor when already contiguous, a copy otherwise */
        for (int lay = 0; lay < TU_NUM_LAYOUTS; lay++) {
            ct_tensor *x = tu_random(&rng, CT_SHAPE(3, 4), dtypes[di], (tu_layout)lay, 0, 10);
            ct_tensor *c = ct_contiguous(x);
            assert_true(ct_is_contiguous(c));
            tu_assert_values(c, CT_SHAPE(3, 4), tu_values(x), 0, 0);
            if (lay == TU_CONTIGUOUS || lay == TU_OFFSET) assert_ptr_equal(c, x);
            else assert_false(ct_shares_storage(c, x));
        }
    }
    ct_tensor *b = ct_zeros(CT_SHAPE(3, 4));
    assert_int_equal(ct_numel(ct_as_strided(b, CT_SHAPE(0, 5), CT_SHAPE(100, 100), 12)), 0); /* empty: no bound */
    assert_null(ct_as_strided(b, CT_SHAPE(3, 4), CT_SHAPE(4, 1), 1));
    tu_assert_error(CT_ERR_INDEX, "setStorage: sizes [3, 4], strides [4, 1], storage offset 1, and itemsize 4 requiring "
                                  "a storage size of 52 are out of bounds for storage of size 48");
    assert_null(ct_as_strided(b, CT_SHAPE(2), CT_SHAPE(1), -1));
    tu_assert_error(CT_ERR_ARG, "invalid storage offset -1");
    assert_null(ct_as_strided(b, CT_SHAPE(2), CT_SHAPE(-1), 1));
    tu_assert_error(CT_ERR_ARG, "Negative strides are not supported at the moment, got strides: [-1]");
    assert_null(ct_as_strided(b, CT_SHAPE(2, 2), CT_SHAPE(1), 1));
    tu_assert_error(CT_ERR_ARG, "mismatch in length of strides and shape");
    assert_null(ct_alias(NULL));
    tu_assert_error(CT_ERR_NULL, "alias");
    assert_null(ct_contiguous(NULL));
    tu_assert_error(CT_ERR_NULL, "contiguous");
}

/* Views keep the storage alive after the base's scope ends. */
static void views_outlive_their_base(void **state) {
    (void)state;
    ct_tensor *v = NULL;
    CT_SCOPE {
        ct_tensor *b = ct_arange(0, 6, 1, .dtype = CT_F32);
        v = ct_keep(ct_slice(b, 0, 1, CT_END, 2));
    }
    tu_assert_values(v, CT_SHAPE(3), (double[]){1, 3, 5}, 0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(view_and_reshape),
        cmocka_unit_test(permute_transpose_movedim),
        cmocka_unit_test(expand_family),
        cmocka_unit_test(narrow_slice_select),
        cmocka_unit_test(squeeze_unsqueeze_flatten),
        cmocka_unit_test(unfold_and_diagonal),
        cmocka_unit_test(unfold_windows_are_pytorchs),
        cmocka_unit_test(as_strided_alias_contiguous),
        cmocka_unit_test(views_outlive_their_base),
    };
    return TU_RUN("views", tests);
}
