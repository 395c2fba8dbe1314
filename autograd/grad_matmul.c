/* Derivatives of matrix products and einsum: each public op records its node over the tensor
 * layer's ct__ form. All products (mm, bmm, mv, dot, matmul, addmm, baddbmm) share one backward:
 * C = A @ B gives dA = G @ Bᵀ and dB = Aᵀ @ G, with the transposes taken as views so BLAS reads
 * them as transposed operands instead of copies. */
#include "autograd_impl.h"

#include <stdio.h>
#include <string.h>

/* ---- products: mm, bmm, mv, dot, matmul, addmm, baddbmm ----------------------------------------- */

/* x with its last two dims swapped: a view, which the GEMM reads with a transpose flag. */
static ct_tensor *transposed(const ct_tensor *x) { return ct_transpose(x, -2, -1); }

/* The matrix form matmul gives an operand: a 1-D left operand is a row (1, k), a 1-D right operand
 * a column (k, 1); others are unchanged. */
static ct_shape matrix_shape(ct_shape s, bool left) {
    if (s.ndim != 1) return s;
    return left ? CT_SHAPE(1, s.d[0]) : CT_SHAPE(s.d[0], 1);
}
static ct_tensor *as_matrix(const ct_tensor *x, bool left) {
    if (!x || x->ndim != 1) return (ct_tensor *)x;
    return ct_unsqueeze(x, left ? 0 : 1);
}

/* Gradients of C = alpha * (A @ B) for inputs ia (A) and ib (B) of node n, which saved A as saved
 * tensor 0 and B as 1 (each only when the other input needs a gradient). A and B may be batched
 * with broadcast batch dims, and 1-D (matmul's promotion; the result lost the added dim):
 *     dA = alpha * G @ Bᵀ,    dB = alpha * Aᵀ @ G,
 * each summed over the batch dims its operand was broadcast over, then given its own shape back. */
static bool product_backward(ct_node *n, int ia, int ib, const ct_tensor *grad, double alpha, ct_tensor **gi) {
    ct_shape sa = ct__input_shape(n, ia), sb = ct__input_shape(n, ib);
    /* G in matrix form: (..., m, n) with the dims a 1-D A or B removed put back. */
    ct_tensor *g = ct_alias(grad);
    if (sb.ndim == 1) g = ct_unsqueeze(g, grad->ndim);
    if (sa.ndim == 1 && g) g = ct_unsqueeze(g, g->ndim - 1);
    if (alpha != 1) g = ct_mul_scalar(g, alpha);
    if (!g) return false;
    ct_tensor *a = as_matrix(ct__saved(n, 0), true), *b = as_matrix(ct__saved(n, 1), false);
    if (ct__needs_grad(n, ia)) {
        ct_tensor *da = ct_matmul(g, transposed(b));
        gi[ia] = ct_reshape(ct__sum_to(da, matrix_shape(sa, true)), sa);
    }
    if (ct__needs_grad(n, ib)) {
        ct_tensor *db;
        ct_shape mb = matrix_shape(sb, false);
        if (mb.ndim == 2 && g->ndim > 2) {
            /* B was shared by every batch: fold the batch into A's rows, one (k, B*m) @ (B*m, n)
             * product instead of a batch of products summed afterwards (A has G's batch dims). */
            int64_t rows = 1;
            for (int d = 0; d < g->ndim - 1; d++) rows *= g->shape[d];
            ct_tensor *a_rows = ct_reshape(a, CT_SHAPE(rows, mb.d[0]));
            db = ct_mm(transposed(a_rows), ct_reshape(g, CT_SHAPE(rows, mb.d[1])));
        } else {
            db = ct__sum_to(ct_matmul(transposed(a), g), mb);
        }
        gi[ib] = ct_reshape(db, sb);
    }
    return true;
}

/* Saves what product_backward reads: A (saved 0) when B needs a gradient, B (saved 1) when A does. */
static void save_factors(ct_node *n, int ia, const ct_tensor *a, int ib, const ct_tensor *b) {
    if (!n) return;
    ct__save(n, ct__needs_grad(n, ib) ? a : NULL);
    ct__save(n, ct__needs_grad(n, ia) ? b : NULL);
}

static bool matmul_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    return product_backward(n, 0, 1, grad, 1, gi);
}
static const ct_node_ops mm_node = {"MmBackward0", "mm", matmul_backward, NULL, NULL};
static const ct_node_ops bmm_node = {"BmmBackward0", "bmm", matmul_backward, NULL, NULL};
static const ct_node_ops mv_node = {"MvBackward0", "mv", matmul_backward, NULL, NULL};
static const ct_node_ops dot_node = {"DotBackward0", "dot", matmul_backward, NULL, NULL};
/* torch.matmul is composite in PyTorch: 1-D·1-D, 2-D·1-D and 2-D·2-D dispatch to dot, mv and mm
 * (and show their nodes); the other cases get the single node PyTorch names MatmulBackward0. */
static const ct_node_ops matmul_dot_node = {"DotBackward0", "matmul", matmul_backward, NULL, NULL};
static const ct_node_ops matmul_mv_node = {"MvBackward0", "matmul", matmul_backward, NULL, NULL};
static const ct_node_ops matmul_mm_node = {"MmBackward0", "matmul", matmul_backward, NULL, NULL};
static const ct_node_ops matmul_node = {"MatmulBackward0", "matmul", matmul_backward, NULL, NULL};

ct_tensor *ct_mm(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__mm(a, b), a, b);
    save_factors(CT__AG_RECORD(&mm_node, 0), 0, a, 1, b);
    return ct__ag_result(out);
}

ct_tensor *ct_bmm(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__bmm(a, b), a, b);
    save_factors(CT__AG_RECORD(&bmm_node, 0), 0, a, 1, b);
    return ct__ag_result(out);
}

ct_tensor *ct_mv(const ct_tensor *a, const ct_tensor *v) {
    CT__AG_BEGIN(ct__mv(a, v), a, v);
    save_factors(CT__AG_RECORD(&mv_node, 0), 0, a, 1, v);
    return ct__ag_result(out);
}

ct_tensor *ct_dot(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__dot(a, b), a, b);
    save_factors(CT__AG_RECORD(&dot_node, 0), 0, a, 1, b);
    return ct__ag_result(out);
}

ct_tensor *ct_matmul(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__matmul(a, b), a, b);
    const ct_node_ops *ops = &matmul_node;
    if (a->ndim == 1 && b->ndim == 1) ops = &matmul_dot_node;
    else if (a->ndim == 2 && b->ndim == 1) ops = &matmul_mv_node;
    else if (a->ndim == 2 && b->ndim == 2) ops = &matmul_mm_node;
    save_factors(CT__AG_RECORD(ops, 0), 0, a, 1, b);
    return ct__ag_result(out);
}

/* beta * input + alpha * (a @ b): d/dinput = beta * grad (summed to input's broadcast shape by the
 * engine; exactly zero when beta == 0, as input is then not read), d/da and d/db as for a @ b,
 * scaled by alpha. */
typedef struct addmm_ctx {
    double alpha, beta;
} addmm_ctx;

static bool addmm_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const addmm_ctx *c = n->ctx;
    if (ct__needs_grad(n, 0)) {
        if (c->beta == 0) gi[0] = ct_zeros(ct__input_shape(n, 0), .dtype = grad->dtype, .device = ct__device(grad));
        else gi[0] = c->beta == 1 ? ct_alias(grad) : ct_mul_scalar(grad, c->beta);
    }
    return product_backward(n, 1, 2, grad, c->alpha, gi);
}
static const ct_node_ops addmm_node = {"AddmmBackward0", "addmm", addmm_backward, NULL, NULL};
static const ct_node_ops baddbmm_node = {"BaddbmmBackward0", "baddbmm", addmm_backward, NULL, NULL};

static void record_addmm(ct_node *n, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    if (!n) return;
    *(addmm_ctx *)n->ctx = (addmm_ctx){opts.alpha, opts.beta};
    save_factors(n, 1, a, 2, b);
}

ct_tensor *ct_addmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    CT__AG_BEGIN(ct__addmm_opt(input, a, b, opts), input, a, b);
    record_addmm(CT__AG_RECORD(&addmm_node, sizeof(addmm_ctx)), a, b, opts);
    return ct__ag_result(out);
}

ct_tensor *ct_baddbmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    CT__AG_BEGIN(ct__baddbmm_opt(input, a, b, opts), input, a, b);
    record_addmm(CT__AG_RECORD(&baddbmm_node, sizeof(addmm_ctx)), a, b, opts);
    return ct__ag_result(out);
}

/* ---- outer --------------------------------------------------------------------------------------- */

/* x in dtype (x itself when it already is): outer promotes, so a factor may be of another dtype. */
static ct_tensor *in_dtype(const ct_tensor *x, ct_dtype dtype) {
    return x->dtype == dtype ? ct_alias(x) : ct_to_dtype(x, dtype);
}

/* out[i][j] = a[i] * b[j]: da = G @ b, db = Gᵀ @ a (Gᵀ a view). PyTorch computes outer as the
 * broadcast product a[:, None] * b, hence the node's name. */
static bool outer_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    if (ct__needs_grad(n, 0)) gi[0] = ct_mv(grad, in_dtype(ct__saved(n, 1), grad->dtype));
    if (ct__needs_grad(n, 1)) gi[1] = ct_mv(ct_t(grad), in_dtype(ct__saved(n, 0), grad->dtype));
    return true;
}
static const ct_node_ops outer_node = {"MulBackward0", "outer", outer_backward, NULL, NULL};

ct_tensor *ct_outer(const ct_tensor *a, const ct_tensor *b) {
    CT__AG_BEGIN(ct__outer(a, b), a, b);
    save_factors(CT__AG_RECORD(&outer_node, 0), 0, a, 1, b);
    return ct__ag_result(out);
}

/* ---- einsum -------------------------------------------------------------------------------------- */
/* out = einsum("A,B->O", a, b). The gradient of a is another einsum of the gradient G with b,
 *     da' = einsum("O,B->A'", G, b),
 * where A' lists a's distinct labels found in O or B; then
 *   - a label of a found in neither O nor B (summed out of a alone) comes back by broadcasting,
 *     since each such element of a entered the sum with weight 1;
 *   - a label a broadcast from size 1 against the other operand is summed back to 1, one b
 *     broadcast against a is expanded to a's size;
 *   - a label repeated in a ("ii->i") read only a's diagonal, so the gradient goes on that
 *     diagonal and is zero elsewhere.
 * One operand ("A->O") is the same without b: da' = G permuted to A' order. */

#define EINSUM_MAX_LABELS 52 /* A-Z, a-z */

typedef struct einsum_ctx {
    int nterms;
    char term[2][CT_MAX_DIMS + 1]; /* each operand's subscripts, NUL-terminated */
    char out[EINSUM_MAX_LABELS + 1]; /* the output's, made explicit */
} einsum_ctx;

static int label_rank(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' : 26 + (c - 'a'); }

/* Splits an equation the forward op has already validated: subscripts per operand and the
 * output, which when implicit is every label seen once, in A-Z then a-z order (PyTorch's). */
static void parse_equation(const char *eq, einsum_ctx *c) {
    int len[2] = {0}, nout = 0, count[EINSUM_MAX_LABELS] = {0};
    bool explicit_out = false;
    c->nterms = 1;
    for (; *eq; eq++) {
        if (*eq == ' ') continue;
        if (*eq == ',') c->nterms++;
        else if (*eq == '-') explicit_out = true, eq++; /* "->" */
        else if (explicit_out) c->out[nout++] = *eq;
        else c->term[c->nterms - 1][len[c->nterms - 1]++] = *eq, count[label_rank(*eq)]++;
    }
    if (!explicit_out)
        for (int l = 0; l < EINSUM_MAX_LABELS; l++)
            if (count[l] == 1) c->out[nout++] = (char)(l < 26 ? 'A' + l : 'a' + (l - 26));
    c->term[0][len[0]] = c->term[1][len[1]] = c->out[nout] = '\0';
}

/* Gradient of operand i (subscripts `sub`, shape `shape`) given G and the other operand (NULL for
 * a one-operand equation). */
static ct_tensor *einsum_operand_grad(const einsum_ctx *c, int i, ct_shape shape, const ct_tensor *grad,
                                      const ct_tensor *other) {
    const char *sub = c->term[i], *other_sub = other ? c->term[1 - i] : "";
    /* a's distinct labels in first-seen order, with their sizes and contiguous-stride sums (the
     * diagonal's strides in a fresh tensor of a's shape). */
    char distinct[CT_MAX_DIMS + 1], kept[CT_MAX_DIMS + 1];
    int ndistinct = 0, nkept = 0;
    int64_t size[CT_MAX_DIMS], dense_stride[CT_MAX_DIMS], stride = 1;
    ct_shape diag_stride = {.ndim = 0};
    for (int d = shape.ndim - 1; d >= 0; d--) dense_stride[d] = stride, stride *= shape.d[d];
    for (int d = 0; d < shape.ndim; d++) {
        const char *seen = memchr(distinct, sub[d], (size_t)ndistinct);
        if (seen) {
            diag_stride.d[seen - distinct] += dense_stride[d];
            continue;
        }
        size[ndistinct] = shape.d[d], diag_stride.d[diag_stride.ndim++] = dense_stride[d];
        distinct[ndistinct++] = sub[d];
        if (strchr(c->out, sub[d]) || strchr(other_sub, sub[d])) kept[nkept++] = sub[d];
    }
    kept[nkept] = '\0';

    /* da' over the kept labels: an einsum of G with the other operand, or G permuted. */
    char eq[3 * (EINSUM_MAX_LABELS + 1) + 4];
    if (other) snprintf(eq, sizeof eq, "%s,%s->%s", c->out, other_sub, kept);
    else snprintf(eq, sizeof eq, "%s->%s", c->out, kept);
    ct_tensor *operands[2] = {(ct_tensor *)grad, (ct_tensor *)other};
    ct_tensor *g = ct_einsum(eq, ((ct_tensor_list){.n = other ? 2 : 1, .items = operands}));

    /* Over all distinct labels: those summed out of a alone come back as size 1; then sum what a
     * broadcast from size 1, and expand to a's sizes. */
    ct_shape reduced = {.ndim = ndistinct}, full = {.ndim = ndistinct};
    for (int j = 0, k = 0; g && j < ndistinct; j++) {
        bool is_kept = k < nkept && kept[k] == distinct[j];
        if (!is_kept && !(g = ct_unsqueeze(g, j))) break;
        reduced.d[j] = size[j] == 1 ? 1 : g->shape[j];
        full.d[j] = size[j];
        k += is_kept;
    }
    g = ct_expand(ct__sum_to(g, reduced), full);
    if (!g || ndistinct == shape.ndim) return g;
    /* Repeated labels: the gradient on their diagonal of zeros of a's shape. */
    ct_tensor *da = ct_zeros(shape, .dtype = g->dtype, .device = ct__device(g));
    return ct_copy_(ct_as_strided(da, full, diag_stride, 0), g) ? da : NULL;
}

static bool einsum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const einsum_ctx *c = n->ctx;
    for (int i = 0; i < c->nterms; i++) {
        const ct_tensor *other = c->nterms > 1 ? ct__saved(n, 1 - i) : NULL;
        if (ct__needs_grad(n, i)) gi[i] = einsum_operand_grad(c, i, ct__input_shape(n, i), grad, other);
    }
    return true;
}
/* PyTorch's einsum is composite (its grad_fn is whichever view or product ran last); ctorch
 * records one node for the whole contraction. */
static const ct_node_ops einsum_node = {"EinsumBackward0", "einsum", einsum_backward, NULL, NULL};

ct_tensor *ct_einsum(const char *equation, ct_tensor_list operands) {
    bool listed = operands.items && operands.n > 0;
    const ct_tensor *x0 = listed ? operands.items[0] : NULL, *x1 = listed && operands.n > 1 ? operands.items[1] : NULL;
    CT__AG_BEGIN(ct__einsum(equation, operands), x0, x1);
    ct_node *n = CT__AG_RECORD(&einsum_node, sizeof(einsum_ctx));
    if (n) {
        parse_equation(equation, n->ctx);
        ct__save(n, ct__needs_grad(n, 1) ? x0 : NULL);
        ct__save(n, ct__needs_grad(n, 0) ? x1 : NULL);
    }
    return ct__ag_result(out);
}
