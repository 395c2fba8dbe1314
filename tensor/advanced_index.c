/* Advanced indexing (t[i0, i1, ...], index_put_), masked_select and nonzero.
 *
 * Every index entry becomes integer index tensors on dims of a base view of t: a bool mask of k
 * dims becomes the k columns of its nonzero() coordinates, a 0-d bool adds a dim of size 1 indexed
 * by [0] (true) or [] (false). The index tensors broadcast to a shape B and fold into one int64
 * tensor of element offsets, offset[b] = sum_k wrap(idx_k[b]) * stride(dim_k). The result has B
 * in place of the indexed dims when they are adjacent, first otherwise (NumPy's rule); reading it
 * is then one take loop whose source has stride 0 along B and whose index is the offset tensor. */
#include "index_impl.h"

#include <stdio.h>
#include <string.h>

typedef struct adv_plan {
    ct_tensor *base; /* t, or a view with dims added for 0-d masks */
    int nadv;
    const ct_tensor *idx[CT_MAX_DIMS];
    int dim[CT_MAX_DIMS];  /* dim of base each index selects, increasing */
    int tdim[CT_MAX_DIMS]; /* the same dim counted in t, for messages */
    ct_shape bshape;       /* broadcast shape of the index tensors */
    ct_tensor *offsets;    /* int64 of bshape, in elements of base */
    ct_shape rshape;       /* result shape */
    int64_t src_stride[CT_MAX_DIMS]; /* base's strides over rshape, 0 along B */
    int64_t off_stride[CT_MAX_DIMS]; /* offsets' strides over rshape, 0 along the sliced dims */
} adv_plan;

static bool is_mask(const ct_tensor *i) { return i->dtype == CT_BOOL || i->dtype == CT_U8; }

/* Broadcast failure in PyTorch's words. */
static void shape_mismatch(const char *op, const adv_plan *p) {
    char shapes[512] = "";
    size_t len = 0;
    for (int k = 0; k < p->nadv && len < sizeof shapes; k++)
        len += (size_t)snprintf(shapes + len, sizeof shapes - len, "%s%s", k ? ", " : "",
                                ct__shape_str(p->idx[k]->shape, p->idx[k]->ndim));
    ct_clear_error();
    ct_error(CT_ERR_SHAPE, "%s: shape mismatch: indexing tensors could not be broadcast together with shapes %s", op,
             shapes);
}

/* Validates the entries and fills the plan; temporaries go to the caller's (inner) scope. */
static bool plan_indexing(const char *op, const ct_tensor *t, ct_tensor_list indices, adv_plan *p) {
    memset(p, 0, sizeof *p);
    if (indices.n < 0 || (indices.n > 0 && !indices.items))
        return ct_error(CT_ERR_ARG, "%s: invalid index list", op), false;
    /* A NULL entry means ':'; with an error pending it more likely is a failed call's result. */
    if (!ct_ok()) return false;
    int consumed = 0;
    for (int i = 0; i < indices.n; i++) {
        const ct_tensor *e = indices.items[i];
        if (!e) {
            consumed++;
            continue;
        }
        if (!ct__check_same_device(op, 2, (const ct_tensor *const[]){t, e})) return false;
        if (is_mask(e)) consumed += e->ndim;
        else if (e->dtype == CT_I32 || e->dtype == CT_I64) consumed++;
        else
            return ct_error(CT_ERR_DTYPE, "%s: indexing with dtype %s is not supported, use int64 or bool", op,
                            ct__torch_type_name(e->dtype)),
                   false;
    }
    if (consumed > t->ndim)
        return ct_error(CT_ERR_INDEX, "%s: too many indices for tensor of dimension %d", op, t->ndim), false;

    const ct_index_kernels *k = ct__index_kernels(op, t);
    if (!k) return false;
    ct_tensor *base = (ct_tensor *)t;
    int pos = 0, added = 0; /* next dim of base; dims added for 0-d masks */
    for (int i = 0; i < indices.n; i++) {
        const ct_tensor *e = indices.items[i];
        if (!e) {
            pos++;
        } else if (!is_mask(e)) {
            p->idx[p->nadv] = e;
            p->tdim[p->nadv] = pos - added;
            p->dim[p->nadv++] = pos++;
        } else if (e->ndim == 0) {
            bool on = ct_item(e) != 0;
            if (!(base = ct_unsqueeze(base, pos))) return false;
            ct_tensor *zero = ct_zeros(CT_SHAPE(on ? 1 : 0), .dtype = CT_I64, .device = ct__device(t));
            if (!zero) return false;
            p->idx[p->nadv] = zero;
            p->tdim[p->nadv] = pos - added;
            p->dim[p->nadv++] = pos++;
            added++;
        } else {
            for (int j = 0; j < e->ndim; j++)
                if (e->shape[j] != base->shape[pos + j])
                    return ct_error(CT_ERR_SHAPE,
                                    "%s: The shape of the mask %s at index %d does not match the shape of the indexed "
                                    "tensor %s at index %d",
                                    op, ct__shape_str(e->shape, e->ndim), j, ct__shape_str(t->shape, t->ndim),
                                    pos - added + j),
                           false;
            ct_tensor *nz = k->nonzero(e);
            if (!nz) return false;
            for (int j = 0; j < e->ndim; j++) {
                ct_tensor *col = ct_select(nz, 1, j);
                if (!col) return false;
                p->idx[p->nadv] = col;
                p->tdim[p->nadv] = pos - added;
                p->dim[p->nadv++] = pos++;
            }
        }
    }
    p->base = base;

    if (!ct__broadcast_shape(op, p->nadv, p->idx, &p->bshape)) return shape_mismatch(op, p), false;
    if (p->nadv == 0) p->bshape.ndim = 0;
    if (!(p->offsets = ct_zeros_opt(p->bshape, (ct_tensor_opts){.dtype = CT_I64, .device = ct__device(t)})))
        return false;
    for (int a = 0; a < p->nadv; a++) {
        int64_t bad, size = base->shape[p->dim[a]];
        if (!k->add_offsets(p->offsets, p->idx[a], size, base->stride[p->dim[a]], &bad))
            return ct_error(CT_ERR_INDEX, "%s: index %lld is out of bounds for dimension %d with size %lld", op,
                            (long long)bad, p->tdim[a], (long long)size),
                   false;
    }

    /* Result layout: [dims before] B [dims after] when adjacent, else B [all sliced dims]. */
    bool adjacent = true;
    for (int a = 1; a < p->nadv; a++) adjacent &= p->dim[a] == p->dim[a - 1] + 1;
    int bpos = adjacent && p->nadv ? p->dim[0] : 0;
    bool indexed[CT_MAX_DIMS] = {false};
    for (int a = 0; a < p->nadv; a++) indexed[p->dim[a]] = true;
    int64_t bstride[CT_MAX_DIMS];
    ct__contiguous_strides(p->bshape.d, p->bshape.ndim, bstride);
    int r = 0;
    for (int d = 0; d < base->ndim || r < bpos + p->bshape.ndim; d++) {
        if (r == bpos) { /* place B here */
            for (int b = 0; b < p->bshape.ndim; b++, r++) {
                p->rshape.d[r] = p->bshape.d[b];
                p->src_stride[r] = 0;
                p->off_stride[r] = bstride[b];
            }
        }
        if (d >= base->ndim || indexed[d]) continue;
        p->rshape.d[r] = base->shape[d];
        p->src_stride[r] = base->stride[d];
        p->off_stride[r++] = 0;
    }
    p->rshape.ndim = r;
    return true;
}

static ct_index_loop plan_loop(const adv_plan *p, char *out, const int64_t *out_stride, char *src,
                               const int64_t *src_stride) {
    ct_index_loop l = {.ndim = p->rshape.ndim, .dtype = p->base->dtype, .idx_dtype = CT_I64, .step = 1};
    memcpy(l.shape, p->rshape.d, sizeof l.shape);
    l.out.data = out;
    memcpy(l.out.stride, out_stride, sizeof l.out.stride);
    l.src.data = src;
    memcpy(l.src.stride, src_stride, sizeof l.src.stride);
    l.idx.data = ct__data(p->offsets);
    memcpy(l.idx.stride, p->off_stride, sizeof l.idx.stride);
    return l;
}

ct_tensor *ct__index(const ct_tensor *t, ct_tensor_list indices) {
    const char *op = "index";
    if (!CT__CHECK(op, t)) return NULL;
    ct_tensor *out = NULL;
    ct_scope_begin();
    adv_plan p;
    if (plan_indexing(op, t, indices, &p) &&
        (out = ct__tensor_new(p.rshape.d, p.rshape.ndim, t->dtype, ct__device(t)))) {
        if (ct__numel(p.rshape.d, p.rshape.ndim) > 0) {
            ct_index_loop l = plan_loop(&p, ct__data(out), out->stride, ct__data(p.base), p.src_stride);
            if (!ct__index_kernels(op, t)->take(&l)) out = NULL; /* the scope frees it */
        }
        if (out) ct_keep(out);
    }
    ct_scope_end();
    return out;
}

ct_tensor *ct__index_put_(ct_tensor *t, ct_tensor_list indices, const ct_tensor *values, bool accumulate) {
    const char *op = "index_put_";
    if (!CT__CHECK(op, t, values) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){t, values}) ||
        !ct__check_writable(op, t))
        return NULL;
    /* Python numbers (ct_scalar) convert as in t[i] = 1.5; tensors must match, as in PyTorch. */
    if (values->dtype != t->dtype && !values->wrapped_number)
        return ct_error(CT_ERR_DTYPE,
                        "%s: Index put requires the source and destination dtypes match, got %s for the destination "
                        "and %s for the source.",
                        op, ct__torch_type_name(t->dtype), ct__torch_type_name(values->dtype));
    bool ok = false;
    ct_scope_begin();
    adv_plan p;
    do {
        if (!plan_indexing(op, t, indices, &p)) break;
        bool fits = values->ndim <= p.rshape.ndim;
        for (int i = 0; fits && i < values->ndim; i++) {
            int64_t v = values->shape[values->ndim - 1 - i], r = p.rshape.d[p.rshape.ndim - 1 - i];
            fits = v == r || v == 1;
        }
        if (!fits) {
            ct_error(CT_ERR_SHAPE,
                     "%s: shape mismatch: value tensor of shape %s cannot be broadcast to indexing result "
                     "of shape %s",
                     op, ct__shape_str(values->shape, values->ndim), ct__shape_str(p.rshape.d, p.rshape.ndim));
            break;
        }
        /* Values read from t itself must be the old ones. */
        if (values->dtype != t->dtype) values = ct__contiguous_as(values, t->dtype);
        else if (ct_shares_storage(values, t)) values = ct_clone(values);
        if (!values) break;
        int64_t vstride[CT_MAX_DIMS];
        ct__broadcast_strides(values, &p.rshape, vstride);
        ok = true;
        if (ct__numel(p.rshape.d, p.rshape.ndim) == 0) break;
        ct_index_loop l = plan_loop(&p, ct__data(p.base), p.src_stride, ct__data(values), vstride);
        ok = ct__index_kernels(op, t)->put(&l, accumulate);
    } while (0);
    ct_scope_end();
    if (!ok) return NULL;
    ct__bump_version(t);
    return t;
}

ct_tensor *ct__masked_select(const ct_tensor *t, const ct_tensor *mask) {
    const char *op = "masked_select";
    if (!CT__CHECK(op, t, mask) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){t, mask})) return NULL;
    if (!is_mask(mask)) return ct_error(CT_ERR_DTYPE, "%s: expected BoolTensor or ByteTensor for mask", op);
    ct_shape shape;
    if (!ct__broadcast_shape(op, 2, (const ct_tensor *const[]){t, mask}, &shape)) return NULL;
    ct_tensor *out = NULL;
    ct_scope_begin();
    /* Broadcast both (stride-0 views), then t[mask] covers every dim: a 1-D result. */
    ct_tensor *tb = ct_expand(t, shape), *mb = ct_expand(mask, shape);
    if (tb && mb) out = ct_keep(ct_index(tb, CT_TENSORS(mb)));
    ct_scope_end();
    return out;
}

ct_tensor *ct_nonzero(const ct_tensor *t) {
    if (!CT__CHECK("nonzero", t)) return NULL;
    const ct_index_kernels *k = ct__index_kernels("nonzero", t);
    return k ? k->nonzero(t) : NULL;
}
