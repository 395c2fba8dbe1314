/* einsum for one or two operands, composed of device-independent ops (views, ct_sum, ct_bmm), so
 * it runs on every device that has those kernels. Repeated labels within an operand become a
 * diagonal view (their strides add up); labels found in one operand only and absent from the
 * output are summed out of it (ct_sum over that strided view); what remains is a batched product:
 * both operands are permuted to (batch, free, contracted) / (batch, contracted, free), reshaped to
 * 3-D and handed to bmm, as torch.einsum does. */
#include "tensor_impl.h"

#include <string.h>

#define NUM_LABELS 52 /* A-Z then a-z: PyTorch's order for the implicit output */

static int label_index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
    return -1;
}
static char label_char(int l) { return (char)(l < 26 ? 'A' + l : 'a' + (l - 26)); }

/* One operand seen through its subscripts: one dim per distinct label. */
typedef struct term {
    int ndim;
    int label[CT_MAX_DIMS];
    int64_t size[CT_MAX_DIMS];
    int64_t stride[CT_MAX_DIMS];
} term;

static int term_find(const term *t, int label) {
    for (int i = 0; i < t->ndim; i++)
        if (t->label[i] == label) return i;
    return -1;
}

/* A new contiguous tensor of shape[0..nkeep) holding, for each index of those dims, the sum over
 * the remaining dims [nkeep, nd) of the strided view (shape, stride) of base's data, in base's
 * dtype (ct_sum accumulates floats in double and integers in int64, then converts). */
static ct_tensor *sum_trailing(const ct_tensor *base, const int64_t *shape, const int64_t *stride, int nd, int nkeep) {
    ct_scope_begin();
    ct_tensor *view = ct__tensor_view(base, shape, stride, nd, base->offset), *out = NULL;
    if (view && nd == nkeep) {
        out = ct_clone(view);
    } else if (view) {
        ct_dims dims = {.ndim = nd - nkeep};
        for (int d = nkeep; d < nd; d++) dims.d[d - nkeep] = d;
        out = ct_sum(view, .dim = dims, .dtype = base->dtype);
    }
    ct_keep(out);
    ct_scope_end();
    return out;
}

/* Sums the labels of t that `keep` does not mark out of operand x; t becomes the result's term. */
static ct_tensor *presum(const ct_tensor *x, term *t, const bool *keep) {
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    term kept = {0};
    int nd = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < t->ndim; i++)
            if (keep[t->label[i]] == (pass == 0)) {
                shape[nd] = t->size[i], stride[nd++] = t->stride[i];
                if (pass == 0) kept.label[kept.ndim] = t->label[i], kept.size[kept.ndim++] = t->size[i];
            }
    ct_tensor *r = sum_trailing(x, shape, stride, nd, kept.ndim);
    if (!r) return NULL;
    ct__contiguous_strides(kept.size, kept.ndim, kept.stride);
    *t = kept;
    return r;
}

/* A view of x (described by term t) with dims in `order` (labels), each at its full size: a dim
 * of size 1 that the label broadcasts over gets stride 0. */
static ct_tensor *arranged(const ct_tensor *x, const term *t, const int *order, int n, const int64_t *label_size) {
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        int j = term_find(t, order[i]);
        shape[i] = label_size[order[i]];
        stride[i] = t->size[j] == shape[i] ? t->stride[j] : 0;
    }
    return ct__tensor_view(x, shape, stride, n, x->offset);
}

static int64_t prod_sizes(const int *labels, int n, const int64_t *label_size) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= label_size[labels[i]];
    return p;
}

static ct_tensor *einsum_two(const ct_tensor *a, term *ta, const ct_tensor *b, term *tb, const int *out_labels,
                             int nout, const int64_t *label_size) {
    bool in_out[NUM_LABELS] = {0}, in_a[NUM_LABELS] = {0}, in_b[NUM_LABELS] = {0};
    for (int i = 0; i < nout; i++) in_out[out_labels[i]] = true;
    for (int i = 0; i < ta->ndim; i++) in_a[ta->label[i]] = true;
    for (int i = 0; i < tb->ndim; i++) in_b[tb->label[i]] = true;
    /* Labels only one operand has and the output lacks are summed out of that operand first. */
    bool keep_a[NUM_LABELS], keep_b[NUM_LABELS];
    bool sum_a = false, sum_b = false;
    for (int l = 0; l < NUM_LABELS; l++) {
        keep_a[l] = in_out[l] || in_b[l];
        keep_b[l] = in_out[l] || in_a[l];
        sum_a |= in_a[l] && !keep_a[l];
        sum_b |= in_b[l] && !keep_b[l];
    }
    if (sum_a && !(a = presum(a, ta, keep_a))) return NULL;
    if (sum_b && !(b = presum(b, tb, keep_b))) return NULL;
    /* batch: in both and kept; contracted: in both, not kept; m / n: free labels of a / b. */
    int batch[NUM_LABELS], contr[NUM_LABELS], mlab[NUM_LABELS], nlab[NUM_LABELS];
    int nbatch = 0, ncontr = 0, nm = 0, nn = 0;
    for (int l = 0; l < NUM_LABELS; l++) {
        bool ia = term_find(ta, l) >= 0, ib = term_find(tb, l) >= 0;
        if (ia && ib) {
            if (in_out[l]) batch[nbatch++] = l;
            else contr[ncontr++] = l;
        } else if (ia) {
            mlab[nm++] = l;
        } else if (ib) {
            nlab[nn++] = l;
        }
    }
    int order_a[CT_MAX_DIMS * 2], order_b[CT_MAX_DIMS * 2], order_p[CT_MAX_DIMS * 2];
    int na = 0, nb = 0, np = 0;
    for (int i = 0; i < nbatch; i++) order_a[na++] = order_b[nb++] = order_p[np++] = batch[i];
    for (int i = 0; i < nm; i++) order_a[na++] = order_p[np++] = mlab[i];
    for (int i = 0; i < ncontr; i++) order_a[na++] = order_b[nb++] = contr[i];
    for (int i = 0; i < nn; i++) order_b[nb++] = order_p[np++] = nlab[i];
    int64_t bt = prod_sizes(batch, nbatch, label_size), m = prod_sizes(mlab, nm, label_size);
    int64_t k = prod_sizes(contr, ncontr, label_size), n = prod_sizes(nlab, nn, label_size);
    ct_tensor *a3 = ct_reshape(arranged(a, ta, order_a, na, label_size), CT_SHAPE(bt, m, k));
    ct_tensor *b3 = ct_reshape(arranged(b, tb, order_b, nb, label_size), CT_SHAPE(bt, k, n));
    ct_tensor *p = ct_bmm(a3, b3);
    if (!p) return NULL;
    /* p is contiguous (batch, m, n): view it per label, then put the dims in output order. */
    term tp = {.ndim = np};
    for (int i = 0; i < np; i++) tp.label[i] = order_p[i], tp.size[i] = label_size[order_p[i]];
    ct__contiguous_strides(tp.size, tp.ndim, tp.stride);
    return ct__contiguous_as(arranged(p, &tp, out_labels, nout, label_size), p->dtype);
}

ct_tensor *ct__einsum(const char *equation, ct_tensor_list operands) {
    if (!ct_ok()) return NULL;
    if (!equation) return ct_error(CT_ERR_ARG, "einsum(): equation is NULL");
    if (operands.n < 1 || !operands.items) return ct_error(CT_ERR_ARG, "einsum(): must provide at least one operand");
    /* Parse "terms[->output]": subscripts per operand, and the explicit output if any. */
    int nterms = 1, term_labels[2][CT_MAX_DIMS + 1], term_len[3] = {0}, out_labels[NUM_LABELS + 1];
    bool explicit_out = false;
    int nout = 0;
    for (int pos = 0; equation[pos]; pos++) {
        char c = equation[pos];
        if (c == ' ') continue;
        if (c == '.') return ct_error(CT_ERR_UNSUPPORTED, "einsum(): ellipsis (...) is not supported yet");
        if (c == ',' && !explicit_out) {
            if (++nterms > 2) return ct_error(CT_ERR_UNSUPPORTED, "einsum(): at most two operands are supported");
            continue;
        }
        if (c == '-' && !explicit_out && equation[pos + 1] == '>') {
            explicit_out = true;
            pos++;
            continue;
        }
        int l = label_index(c);
        if (l < 0)
            return ct_error(CT_ERR_ARG,
                            "einsum(): invalid subscript given at index %d in the equation string, subscripts must be "
                            "in [a-zA-Z]",
                            pos);
        if (explicit_out) {
            for (int i = 0; i < nout; i++)
                if (out_labels[i] == l)
                    return ct_error(CT_ERR_ARG, "einsum(): output subscript %c appears more than once in the output", c);
            out_labels[nout++] = l;
        } else {
            int t = nterms - 1;
            if (term_len[t] == CT_MAX_DIMS)
                return ct_error(CT_ERR_ARG, "einsum(): operand %d has more than %d subscripts", t, CT_MAX_DIMS);
            term_labels[t][term_len[t]++] = l;
        }
    }
    if (operands.n < nterms)
        return ct_error(CT_ERR_ARG, "einsum(): fewer operands were provided than specified in the equation");
    if (operands.n > nterms)
        return ct_error(CT_ERR_ARG, "einsum(): more operands were provided than specified in the equation");
    if (!ct__check_not_null("einsum", nterms, (const ct_tensor *const *)operands.items) ||
        !ct__check_same_device("einsum", nterms, (const ct_tensor *const *)operands.items))
        return NULL;
    const ct_tensor *x[2] = {operands.items[0], nterms > 1 ? operands.items[1] : NULL};
    if (nterms > 1 && x[0]->dtype != x[1]->dtype)
        return ct_error(CT_ERR_DTYPE, "einsum(): expected scalar type %s but found %s", ct__torch_type_name(x[0]->dtype),
                        ct__torch_type_name(x[1]->dtype));

    /* Terms: repeated labels within an operand take the diagonal (strides add). */
    term terms[2] = {0};
    int64_t label_size[NUM_LABELS];
    int label_count[NUM_LABELS] = {0};
    for (int l = 0; l < NUM_LABELS; l++) label_size[l] = -1;
    for (int t = 0; t < nterms; t++) {
        if (term_len[t] != x[t]->ndim)
            return ct_error(CT_ERR_SHAPE,
                            "einsum(): the number of subscripts in the equation (%d) does not match the number of "
                            "dimensions (%d) for operand %d and no ellipsis was given",
                            term_len[t], x[t]->ndim, t);
        term *tt = &terms[t];
        for (int d = 0; d < x[t]->ndim; d++) {
            int l = term_labels[t][d], j = term_find(tt, l);
            label_count[l]++;
            if (j >= 0) {
                if (tt->size[j] != x[t]->shape[d])
                    return ct_error(CT_ERR_SHAPE,
                                    "einsum(): subscript %c is repeated for operand %d but the sizes don't match, "
                                    "%lld != %lld",
                                    label_char(l), t, (long long)x[t]->shape[d], (long long)tt->size[j]);
                tt->stride[j] += x[t]->stride[d];
                continue;
            }
            tt->label[tt->ndim] = l, tt->size[tt->ndim] = x[t]->shape[d], tt->stride[tt->ndim++] = x[t]->stride[d];
        }
        /* Sizes across operands must match or broadcast from 1. */
        for (int i = 0; i < tt->ndim; i++) {
            int l = tt->label[i];
            int64_t s = tt->size[i];
            if (label_size[l] < 0 || label_size[l] == 1) {
                label_size[l] = s;
            } else if (s != 1 && s != label_size[l]) {
                return ct_error(CT_ERR_SHAPE,
                                "einsum(): subscript %c has size %lld for operand %d which does not broadcast with "
                                "previously seen size %lld",
                                label_char(l), (long long)s, t, (long long)label_size[l]);
            }
        }
    }
    if (explicit_out) {
        for (int i = 0; i < nout; i++)
            if (label_size[out_labels[i]] < 0)
                return ct_error(CT_ERR_ARG,
                                "einsum(): output subscript %c does not appear in the equation for any input operand",
                                label_char(out_labels[i]));
    } else {
        for (int l = 0; l < NUM_LABELS; l++)
            if (label_count[l] == 1) out_labels[nout++] = l;
    }
    if (nout > CT_MAX_DIMS) return ct_error(CT_ERR_ARG, "einsum(): output has more than %d dims", CT_MAX_DIMS);

    ct_tensor *out = NULL;
    ct_scope_begin();
    const ct_tensor *x0 = x[0];
    ct_tensor *v0 = ct__tensor_view(x0, terms[0].size, terms[0].stride, terms[0].ndim, x0->offset);
    if (nterms == 1) {
        bool keep[NUM_LABELS] = {0};
        for (int i = 0; i < nout; i++) keep[out_labels[i]] = true;
        /* Output dims in output order, then the summed ones. */
        int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
        int nd = 0;
        for (int i = 0; i < nout; i++) {
            int j = term_find(&terms[0], out_labels[i]);
            shape[nd] = terms[0].size[j], stride[nd++] = terms[0].stride[j];
        }
        for (int i = 0; i < terms[0].ndim; i++)
            if (!keep[terms[0].label[i]]) shape[nd] = terms[0].size[i], stride[nd++] = terms[0].stride[i];
        out = sum_trailing(x0, shape, stride, nd, nout);
    } else {
        const ct_tensor *x1 = x[1];
        ct_tensor *v1 = ct__tensor_view(x1, terms[1].size, terms[1].stride, terms[1].ndim, x1->offset);
        /* The views carry the diagonal strides; the terms now describe them densely as given. */
        if (v0 && v1) out = einsum_two(v0, &terms[0], v1, &terms[1], out_labels, nout, label_size);
    }
    out = ct_keep(out);
    ct_scope_end();
    return out;
}
