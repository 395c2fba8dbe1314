/* Derivatives of matrix products and einsum: gradcheck of every op over all layouts (transposed
 * ones matter most: the backward hands transposed views to BLAS), every torch.matmul shape case
 * including broadcast batch dims, addmm/baddbmm with broadcast inputs and beta == 0, einsum with
 * contractions, batch labels, diagonals and labels summed out of one operand; grad_fn names, exact
 * values, f32 gradients, saved-tensor versions, and unchanged forward errors. */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

/* ---- functions under test (tu_grad_case rows) ---- */

static ct_tensor *mm_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_mm(in[0], in[1]);
}
static ct_tensor *bmm_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_bmm(in[0], in[1]);
}
static ct_tensor *mv_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_mv(in[0], in[1]);
}
static ct_tensor *dot_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_dot(in[0], in[1]);
}
static ct_tensor *outer_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_outer(in[0], in[1]);
}
static ct_tensor *matmul_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_matmul(in[0], in[1]);
}
static ct_addmm_opts plain = {.beta = 1, .alpha = 1}, scaled = {.beta = 0.5, .alpha = -1.5},
                     no_input = {.beta = 0, .alpha = 2};
static ct_tensor *addmm_fn(ct_tensor *const *in, void *user) {
    return ct_addmm_opt(in[0], in[1], in[2], *(ct_addmm_opts *)user);
}
static ct_tensor *baddbmm_fn(ct_tensor *const *in, void *user) {
    return ct_baddbmm_opt(in[0], in[1], in[2], *(ct_addmm_opts *)user);
}
/* user: the equation; the operands are the case's inputs. */
static ct_tensor *einsum_fn(ct_tensor *const *in, void *user) {
    const char *eq = user;
    int n = strchr(eq, ',') ? 2 : 1;
    return ct_einsum(eq, ((ct_tensor_list){.n = n, .items = in}));
}

static void test_gradcheck_products(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"mm", mm_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"mm row times column", mm_fn, NULL, 2, {CT_SHAPE(1, 4), CT_SHAPE(4, 1)}, 0, 0},
        {"mm outer-like", mm_fn, NULL, 2, {CT_SHAPE(3, 1), CT_SHAPE(1, 2)}, 0, 0},
        {"bmm", bmm_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"bmm one batch", bmm_fn, NULL, 2, {CT_SHAPE(1, 2, 3), CT_SHAPE(1, 3, 2)}, 0, 0},
        {"mv", mv_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(4)}, 0, 0},
        {"dot", dot_fn, NULL, 2, {CT_SHAPE(5), CT_SHAPE(5)}, 0, 0},
        {"outer", outer_fn, NULL, 2, {CT_SHAPE(3), CT_SHAPE(4)}, 0, 0},
        {"addmm", addmm_fn, &plain, 3, {CT_SHAPE(3, 5), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"addmm scaled", addmm_fn, &scaled, 3, {CT_SHAPE(3, 5), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"addmm 1-D input", addmm_fn, &scaled, 3, {CT_SHAPE(5), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"addmm column input", addmm_fn, &scaled, 3, {CT_SHAPE(3, 1), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"addmm 0-d input", addmm_fn, &scaled, 3, {CT_SHAPE(), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"addmm beta 0", addmm_fn, &no_input, 3, {CT_SHAPE(3, 5), CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"baddbmm", baddbmm_fn, &plain, 3, {CT_SHAPE(2, 3, 5), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"baddbmm scaled broadcast input", baddbmm_fn, &scaled, 3,
         {CT_SHAPE(3, 1), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"baddbmm 0-d input", baddbmm_fn, &scaled, 3, {CT_SHAPE(), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"baddbmm beta 0", baddbmm_fn, &no_input, 3, {CT_SHAPE(5), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_matmul_cases(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"1-D . 1-D", matmul_fn, NULL, 2, {CT_SHAPE(4), CT_SHAPE(4)}, 0, 0},
        {"2-D . 1-D", matmul_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(4)}, 0, 0},
        {"1-D . 2-D", matmul_fn, NULL, 2, {CT_SHAPE(4), CT_SHAPE(4, 3)}, 0, 0},
        {"2-D . 2-D", matmul_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 2)}, 0, 0},
        {"3-D . 1-D", matmul_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(4)}, 0, 0},
        {"1-D . 3-D", matmul_fn, NULL, 2, {CT_SHAPE(4), CT_SHAPE(2, 4, 3)}, 0, 0},
        {"3-D . 2-D", matmul_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"4-D . 2-D", matmul_fn, NULL, 2, {CT_SHAPE(2, 2, 3, 4), CT_SHAPE(4, 2)}, 0, 0},
        {"2-D . 3-D", matmul_fn, NULL, 2, {CT_SHAPE(3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"3-D . 3-D", matmul_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 2)}, 0, 0},
        {"broadcast batch", matmul_fn, NULL, 2, {CT_SHAPE(2, 1, 3, 4), CT_SHAPE(5, 4, 2)}, 0, 0},
        {"broadcast batch both ways", matmul_fn, NULL, 2, {CT_SHAPE(2, 1, 3, 4), CT_SHAPE(1, 3, 4, 2)}, 0, 0},
        {"batch of one against many", matmul_fn, NULL, 2, {CT_SHAPE(1, 3, 4), CT_SHAPE(3, 4, 2)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

static void test_gradcheck_einsum(void **state) {
    (void)state;
    static const tu_grad_case cases[] = {
        {"ij,jk->ik", einsum_fn, "ij,jk->ik", 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 5)}, 0, 0},
        {"ij,jk (implicit)", einsum_fn, "ij,jk", 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 2)}, 0, 0},
        {"bij,bjk->bik", einsum_fn, "bij,bjk->bik", 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4, 5)}, 0, 0},
        {"bij,bkj->bki", einsum_fn, "bij,bkj->bki", 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 5, 4)}, 0, 0},
        {"ij->", einsum_fn, "ij->", 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"ii->i", einsum_fn, "ii->i", 1, {CT_SHAPE(4, 4)}, 0, 0},
        {"ii->", einsum_fn, "ii->", 1, {CT_SHAPE(3, 3)}, 0, 0},
        {"ii (implicit trace)", einsum_fn, "ii", 1, {CT_SHAPE(3, 3)}, 0, 0},
        {"iij->ji", einsum_fn, "iij->ji", 1, {CT_SHAPE(3, 3, 2)}, 0, 0},
        {"ij->ji", einsum_fn, "ij->ji", 1, {CT_SHAPE(3, 4)}, 0, 0},
        {"ijk->kj", einsum_fn, "ijk->kj", 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"ij,j->i", einsum_fn, "ij,j->i", 2, {CT_SHAPE(3, 4), CT_SHAPE(4)}, 0, 0},
        {"i,i->", einsum_fn, "i,i->", 2, {CT_SHAPE(5), CT_SHAPE(5)}, 0, 0},
        {"i,j->ij", einsum_fn, "i,j->ij", 2, {CT_SHAPE(3), CT_SHAPE(4)}, 0, 0},
        {"ijk,ik->j", einsum_fn, "ijk,ik->j", 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 4)}, 0, 0},
        {"k summed out of b alone: ij,jk->i", einsum_fn, "ij,jk->i", 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 2)}, 0, 0},
        {"j summed out of a alone: ij,k->ik", einsum_fn, "ij,k->ik", 2, {CT_SHAPE(3, 4), CT_SHAPE(2)}, 0, 0},
        {"repeated label with another operand: ii,ij->j", einsum_fn, "ii,ij->j", 2, {CT_SHAPE(3, 3), CT_SHAPE(3, 2)},
         0, 0},
        {"broadcast label: ij,ij->ij", einsum_fn, "ij,ij->ij", 2, {CT_SHAPE(1, 3), CT_SHAPE(2, 3)}, 0, 0},
        {"broadcast contracted label: ij,jk->ik", einsum_fn, "ij,jk->ik", 2, {CT_SHAPE(3, 1), CT_SHAPE(4, 2)}, 0, 0},
        {"spaces and upper-case labels", einsum_fn, "Ij , jK -> KI", 2, {CT_SHAPE(3, 4), CT_SHAPE(4, 2)}, 0, 0},
        {"implicit output in A-Z, a-z order: jI,Ik", einsum_fn, "jI,Ik", 2, {CT_SHAPE(2, 3), CT_SHAPE(3, 4)}, 0, 0},
        {"elementwise: ij,ij->", einsum_fn, "ij,ij->", 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- names, values, dtypes ---- */

static ct_tensor *leaf(ct_shape shape, double start, ct_dtype dtype) {
    int64_t n = tu_numel(shape);
    ct_tensor *t = ct_reshape(ct_arange(start, start + (double)n, 1, .dtype = dtype), shape);
    return ct_requires_grad_(t, true);
}

static void assert_grad(const ct_tensor *t, const double *want) {
    ct_tensor *g = ct_grad(t);
    if (!g) fail_msg("no gradient: %s", ct_ok() ? "(none computed)" : ct_last_error());
    tu_assert_values(g, ct_shape_of(t), want, 1e-6, 1e-6);
}

static void assert_grad_fn(const ct_tensor *t, const char *name) {
    if (!t) fail_msg("op failed: %s", ct_last_error());
    assert_string_equal(ct_grad_fn_name(t), name);
}

/* A one-element tensor's value, exactly. */
static void assert_item(const ct_tensor *t, double want) {
    if (!t) fail_msg("no tensor: %s", ct_last_error());
    double got = ct_item(t);
    if (got != want) fail_msg("got %.17g, want %.17g", got, want);
}

static void test_grad_fn_names(void **state) {
    (void)state;
    ct_tensor *m = leaf(CT_SHAPE(3, 3), 0, CT_F64), *v = leaf(CT_SHAPE(3), 0, CT_F64);
    ct_tensor *b = leaf(CT_SHAPE(2, 3, 3), 0, CT_F64);
    assert_grad_fn(ct_mm(m, m), "MmBackward0");
    assert_grad_fn(ct_bmm(b, b), "BmmBackward0");
    assert_grad_fn(ct_mv(m, v), "MvBackward0");
    assert_grad_fn(ct_dot(v, v), "DotBackward0");
    assert_grad_fn(ct_outer(v, v), "MulBackward0");
    assert_grad_fn(ct_addmm(m, m, m), "AddmmBackward0");
    assert_grad_fn(ct_baddbmm(m, b, b), "BaddbmmBackward0");
    assert_grad_fn(ct_matmul(v, v), "DotBackward0");
    assert_grad_fn(ct_matmul(m, v), "MvBackward0");
    assert_grad_fn(ct_matmul(m, m), "MmBackward0");
    assert_grad_fn(ct_matmul(v, m), "MatmulBackward0");
    assert_grad_fn(ct_matmul(b, m), "MatmulBackward0");
    assert_grad_fn(ct_matmul(b, b), "MatmulBackward0");
    assert_grad_fn(ct_einsum("ij,jk->ik", CT_TENSORS(m, m)), "EinsumBackward0");
    assert_grad_fn(ct_einsum("ii->i", CT_TENSORS(m)), "EinsumBackward0");
    /* Only the operand that requires grad makes a graph. */
    ct_tensor *plain = ct_detach(m);
    assert_grad_fn(ct_einsum("ij,jk->ik", CT_TENSORS(plain, m)), "EinsumBackward0");
    assert_null(ct_grad_fn_name(ct_einsum("ij,jk->ik", CT_TENSORS(plain, plain))));
}

static void test_mm_values(void **state) {
    (void)state;
    /* A = [[0,1,2],[3,4,5]], B = [[0,1],[2,3],[4,5]], loss = sum(A @ B): dA = 1 Bᵀ (row sums of B
     * in each row), dB = Aᵀ 1 (column sums of A in each column). */
    ct_tensor *a = leaf(CT_SHAPE(2, 3), 0, CT_F64), *b = leaf(CT_SHAPE(3, 2), 0, CT_F64);
    assert_true(ct_backward(ct_sum(ct_mm(a, b))));
    assert_grad(a, (double[]){1, 5, 9, 1, 5, 9});
    assert_grad(b, (double[]){3, 3, 5, 5, 7, 7});
    /* The same with transposed (column-major) leaves: At = Aᵀ stored as A, Bt likewise. The
     * gradients come back in the leaves' logical order. */
    ct_tensor *at = ct_requires_grad_(ct_t(ct_reshape(ct_arange(0, 6, 1, .dtype = CT_F64), CT_SHAPE(3, 2))), true);
    ct_tensor *bt = ct_requires_grad_(ct_t(ct_reshape(ct_arange(0, 6, 1, .dtype = CT_F64), CT_SHAPE(2, 3))), true);
    assert_false(ct_is_contiguous(at));
    assert_true(ct_backward(ct_sum(ct_mm(at, bt))));
    /* at = [[0,2,4],[1,3,5]], bt = [[0,3],[1,4],[2,5]]: row sums of bt are 3, 5, 7; column sums
     * of at are 1, 5, 9. */
    assert_grad(at, (double[]){3, 5, 7, 3, 5, 7});
    assert_grad(bt, (double[]){1, 1, 5, 5, 9, 9});
}

static void test_matmul_broadcast_batch(void **state) {
    (void)state;
    /* [2,1,3,4] @ [5,4,2] -> [2,5,3,2]; each gradient is summed over the dims its operand was
     * broadcast over. With loss = sum: dA[..., i, k] = sum_b sum_j B[b, k, j], dB[b, k, j] = sum
     * over A's batch and rows of A[..., k]. */
    ct_tensor *a = ct_requires_grad_(ct_ones(CT_SHAPE(2, 1, 3, 4), .dtype = CT_F64), true);
    ct_tensor *b = ct_requires_grad_(ct_ones(CT_SHAPE(5, 4, 2), .dtype = CT_F64), true);
    ct_tensor *y = ct_matmul(a, b);
    assert_int_equal(ct_ndim(y), 4);
    assert_true(ct_backward(ct_sum(y)));
    ct_shape sa = ct_shape_of(ct_grad(a)), sb = ct_shape_of(ct_grad(b));
    assert_int_equal(sa.ndim, 4), assert_int_equal(sa.d[1], 1);
    assert_int_equal(sb.ndim, 3), assert_int_equal(sb.d[0], 5);
    assert_item(ct_amax(ct_grad(a)), 10), assert_item(ct_amin(ct_grad(a)), 10);
    assert_item(ct_amax(ct_grad(b)), 6), assert_item(ct_amin(ct_grad(b)), 6);
}

static void test_addmm_beta_zero(void **state) {
    (void)state;
    /* beta == 0: input is not read, so it gets an exact zero gradient even when it holds NaN. */
    ct_tensor *input = ct_requires_grad_(ct_full(CT_SHAPE(2), NAN, .dtype = CT_F64), true);
    ct_tensor *a = leaf(CT_SHAPE(2, 2), 0, CT_F64), *b = leaf(CT_SHAPE(2, 2), 1, CT_F64);
    ct_tensor *y = ct_addmm(input, a, b, .beta = 0, .alpha = 3);
    assert_false(isnan(ct_item(ct_sum(y))));
    assert_true(ct_backward(ct_sum(y)));
    assert_grad(input, (double[]){0, 0});
    /* dA = 3 * 1 Bᵀ with B = [[1,2],[3,4]]: rows of B summed, times 3. */
    assert_grad(a, (double[]){9, 21, 9, 21});
    /* addmm with beta 2: the 0-d input gets 2 * (number of outputs). */
    ct_tensor *s = ct_requires_grad_(ct_scalar_tensor(1, .dtype = CT_F64), true);
    assert_true(ct_backward(ct_sum(ct_addmm(s, a, b, .beta = 2))));
    assert_item(ct_grad(s), 8);
}

static void test_einsum_diagonal_values(void **state) {
    (void)state;
    ct_tensor *x = leaf(CT_SHAPE(3, 3), 0, CT_F64);
    assert_true(ct_backward(ct_sum(ct_mul(ct_einsum("ii->i", CT_TENSORS(x)), ct_arange(1, 4, 1, .dtype = CT_F64)))));
    assert_grad(x, (double[]){1, 0, 0, 0, 2, 0, 0, 0, 3});
    ct_tensor *y = leaf(CT_SHAPE(2, 2), 0, CT_F64);
    assert_true(ct_backward(ct_einsum("ii", CT_TENSORS(y))));
    assert_grad(y, (double[]){1, 0, 0, 1});
    /* A label summed out of one operand alone comes back by broadcasting: d/da sum_ij a_ij b_k
     * (output k) with loss = sum gives sum(b) everywhere. */
    ct_tensor *a = leaf(CT_SHAPE(2, 2), 0, CT_F64), *b = leaf(CT_SHAPE(3), 1, CT_F64);
    assert_true(ct_backward(ct_sum(ct_einsum("ij,k->k", CT_TENSORS(a, b)))));
    assert_grad(a, (double[]){6, 6, 6, 6});
    assert_grad(b, (double[]){6, 6, 6});
}

static void test_f32_gradients(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(2, 3, 4), 0, CT_F32), *w = leaf(CT_SHAPE(4, 5), 0, CT_F32);
    ct_tensor *v = leaf(CT_SHAPE(4), 0, CT_F32), *bias = leaf(CT_SHAPE(5), 0, CT_F32);
    ct_tensor *m = leaf(CT_SHAPE(3, 4), 0, CT_F32);
    ct_tensor *mt = ct_requires_grad_(ct_t(ct_reshape(ct_arange(0, 12, 1, .dtype = CT_F32), CT_SHAPE(3, 4))), true);
    ct_tensor *loss = ct_sum(ct_matmul(a, w));
    loss = ct_add(loss, ct_sum(ct_addmm(bias, m, w)));
    loss = ct_add(loss, ct_dot(v, v));
    loss = ct_add(loss, ct_sum(ct_outer(v, bias)));
    loss = ct_add(loss, ct_sum(ct_einsum("bij,jk->bik", CT_TENSORS(a, w))));
    loss = ct_add(loss, ct_sum(ct_einsum("ii->i", CT_TENSORS(ct_mm(m, mt)))));
    assert_true(ct_backward(loss));
    const ct_tensor *leaves[] = {a, w, v, bias, m, mt};
    for (size_t i = 0; i < sizeof leaves / sizeof *leaves; i++) {
        assert_non_null(ct_grad(leaves[i]));
        assert_int_equal(ct_dtype_of(ct_grad(leaves[i])), CT_F32);
    }
}

/* outer promotes: an f32 vector times an f64 one is f64; each factor's gradient comes back in its
 * own dtype, and an integer factor (no gradient) still serves the other one's. */
static void test_outer_mixed_dtypes(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(2), 1, CT_F32), *b = leaf(CT_SHAPE(3), 1, CT_F64);
    assert_true(ct_backward(ct_sum(ct_outer(a, b))));
    assert_int_equal(ct_dtype_of(ct_grad(a)), CT_F32);
    assert_grad(a, (double[]){6, 6});
    assert_grad(b, (double[]){3, 3, 3});
    ct_tensor *ints = ct_arange(1, 3, 1, .dtype = CT_I64);
    ct_tensor *c = leaf(CT_SHAPE(3), 0, CT_F32);
    assert_true(ct_backward(ct_sum(ct_outer(ints, c))));
    assert_grad(c, (double[]){3, 3, 3});
}

/* Each factor is saved only when the other needs a gradient: changing a factor in place after
 * the product breaks backward only if that factor was saved. */
static void test_saved_factors(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(2, 2), 0, CT_F64);
    ct_tensor *w = ct_ones(CT_SHAPE(2, 2), .dtype = CT_F64);
    ct_tensor *y = ct_mm(a, w); /* saves w (for dA), not a */
    assert_non_null(ct_mul_scalar_(ct_detach(a), 2));
    assert_true(ct_backward(ct_sum(y)));
    assert_grad(a, (double[]){2, 2, 2, 2});

    ct_tensor *b = leaf(CT_SHAPE(2, 2), 0, CT_F64);
    ct_tensor *z = ct_mm(a, w);
    assert_non_null(ct_mul_scalar_(w, 2));
    assert_false(ct_backward(ct_sum(z)));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");

    ct_tensor *e = ct_einsum("ij,jk->ik", CT_TENSORS(a, b)); /* saves both */
    assert_non_null(ct_mul_scalar_(ct_detach(b), 2));
    assert_false(ct_backward(ct_sum(e)));
    tu_assert_error(CT_ERR_STATE, "modified by an inplace operation");
}

/* Forward errors are the tensor layer's, with or without a graph. */
static void test_forward_errors_unchanged(void **state) {
    (void)state;
    ct_tensor *a = leaf(CT_SHAPE(2, 3), 0, CT_F64), *b = leaf(CT_SHAPE(2, 3), 0, CT_F64);
    assert_null(ct_mm(a, b));
    tu_assert_error(CT_ERR_SHAPE, "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
    assert_null(ct_matmul(a, ct_scalar_tensor(1, .dtype = CT_F64)));
    tu_assert_error(CT_ERR_SHAPE, "both arguments to matmul need to be at least 1D");
    assert_null(ct_einsum("ij,jk,kl->il", CT_TENSORS(a, b, a)));
    tu_assert_error(CT_ERR_UNSUPPORTED, "at most two operands are supported");
    assert_null(ct_einsum("ij->i", CT_TENSORS(a, b)));
    tu_assert_error(CT_ERR_ARG, "more operands were provided than specified in the equation");
    assert_null(ct_einsum("ij,jk->ik", (ct_tensor_list){.n = 0, .items = NULL}));
    tu_assert_error(CT_ERR_ARG, "must provide at least one operand");
    assert_null(ct_addmm(ct_zeros(CT_SHAPE(4), .dtype = CT_F64), a, ct_t(ct_detach(b))));
    tu_assert_error(CT_ERR_SHAPE, "The expanded size of the tensor");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_fn_names),
        cmocka_unit_test(test_gradcheck_products),
        cmocka_unit_test(test_gradcheck_matmul_cases),
        cmocka_unit_test(test_gradcheck_einsum),
        cmocka_unit_test(test_mm_values),
        cmocka_unit_test(test_matmul_broadcast_batch),
        cmocka_unit_test(test_addmm_beta_zero),
        cmocka_unit_test(test_einsum_diagonal_values),
        cmocka_unit_test(test_f32_gradients),
        cmocka_unit_test(test_outer_mixed_dtypes),
        cmocka_unit_test(test_saved_factors),
        cmocka_unit_test(test_forward_errors_unchanged),
    };
    return TU_RUN("grad_matmul", tests);
}
