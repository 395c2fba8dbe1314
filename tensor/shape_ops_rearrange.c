/* Copying rearrangements: repeat, tile, flip, roll, tril, triu. All but flip are built from views
 * plus ct__copy_into, so they run unchanged on any device that can copy; flip needs a kernel
 * (negative strides cannot be expressed as a view) and goes through shape_ops_impl.h. */
#include "shape_ops_impl.h"

#include <string.h>

ct_tensor *ct__repeat(const ct_tensor *t, ct_shape repeats) {
    if (!CT__CHECK("repeat", t)) return NULL;
    if (repeats.ndim < t->ndim)
        return ct_error(CT_ERR_SHAPE, "repeat: Number of dimensions of repeat dims can not be smaller than number of "
                                      "dimensions of tensor");
    if (repeats.ndim > CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "repeat: at most %d dimensions are supported", CT_MAX_DIMS);
    int lead = repeats.ndim - t->ndim;
    int64_t out_shape[CT_MAX_DIMS];
    for (int i = 0; i < repeats.ndim; i++) out_shape[i] = repeats.d[i] * (i < lead ? 1 : t->shape[i - lead]);
    for (int i = 0; i < repeats.ndim; i++)
        if (repeats.d[i] < 0)
            return ct_error(CT_ERR_SHAPE, "repeat: Trying to create tensor with negative dimension %lld: %s",
                            (long long)out_shape[i], ct__shape_str(out_shape, repeats.ndim));
    /* View the output as (r0, s0, r1, s1, ...) and copy t broadcast along the r axes (stride 0).
     * Axes with r == 1 or s == 1 need no split, which keeps the view within CT_MAX_DIMS mostly. */
    int64_t vshape[2 * CT_MAX_DIMS], ostride[2 * CT_MAX_DIMS], sstride[2 * CT_MAX_DIMS], dense[CT_MAX_DIMS];
    ct__contiguous_strides(out_shape, repeats.ndim, dense);
    int nv = 0;
    for (int i = 0; i < repeats.ndim; i++) {
        int64_t r = repeats.d[i], s = i < lead ? 1 : t->shape[i - lead], st = i < lead ? 0 : t->stride[i - lead];
        if (r != 1 && s != 1) {
            vshape[nv] = r, ostride[nv] = s * dense[i], sstride[nv++] = 0;
            vshape[nv] = s, ostride[nv] = dense[i], sstride[nv++] = st;
        } else {
            vshape[nv] = r * s, ostride[nv] = dense[i], sstride[nv++] = r != 1 ? 0 : st;
        }
    }
    if (nv > CT_MAX_DIMS)
        return ct_error(CT_ERR_UNSUPPORTED, "repeat: repeating %d dims of a %d-d tensor needs more than %d view dims",
                        repeats.ndim, t->ndim, CT_MAX_DIMS);
    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *o = ct__tensor_new(out_shape, repeats.ndim, t->dtype, ct__device(t));
    bool ok = o != NULL;
    if (ok && ct__numel(out_shape, repeats.ndim) > 0) {
        ct_tensor *dst = ct__tensor_view(o, vshape, ostride, nv, o->offset);
        ct_tensor *src = ct__tensor_view(t, vshape, sstride, nv, t->offset);
        ok = dst && src && ct__copy_into("repeat", dst, src);
    }
    if (ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}

ct_tensor *ct__tile(const ct_tensor *t, ct_shape reps) {
    if (!CT__CHECK("tile", t)) return NULL;
    if (reps.ndim < 0 || reps.ndim > CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "tile: at most %d dims", CT_MAX_DIMS);
    /* numpy.tile: fewer reps than dims means leading ones. */
    if (reps.ndim < t->ndim) {
        int pad = t->ndim - reps.ndim;
        memmove(&reps.d[pad], &reps.d[0], (size_t)reps.ndim * sizeof reps.d[0]);
        for (int i = 0; i < pad; i++) reps.d[i] = 1;
        reps.ndim = t->ndim;
    }
    return ct_repeat(t, reps);
}

/* Wraps a dim list into flags; PyTorch's message for repeats. */
static bool dim_flags(const char *op, ct_dims dims, int ndim, bool *flags) {
    memset(flags, 0, CT_MAX_DIMS * sizeof *flags);
    if (dims.ndim < 0 || dims.ndim > CT_MAX_DIMS) return ct_error(CT_ERR_ARG, "%s: invalid number of dims %d", op, dims.ndim), false;
    for (int i = 0; i < dims.ndim; i++) {
        int d = ct__wrap_dim(op, (int)dims.d[i], ndim);
        if (d < 0) return false;
        if (flags[d]) return ct_error(CT_ERR_ARG, "%s: dim %d appears multiple times in the list of dims", op, d), false;
        flags[d] = true;
    }
    return true;
}

ct_tensor *ct__flip(const ct_tensor *t, ct_dims dims) {
    if (!CT__CHECK("flip", t)) return NULL;
    bool flags[CT_MAX_DIMS];
    if (!dim_flags("flip", dims, t->ndim, flags)) return NULL;
    const ct__shape_kernels *k = ct__shape_kernels_for("flip", ct__device(t));
    if (!k || !k->flip)
        return k ? ct__no_kernel("flip", ct__device(t)) : NULL;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, t->dtype, ct__device(t));
    return out && k->flip(out, t, flags) ? out : NULL;
}

/* One dim's roll as two (destination, source) ranges: out[s:] = t[:n-s], out[:s] = t[n-s:]. */
typedef struct roll_dim {
    int dim;
    int64_t shift; /* in [1, size) */
    int64_t size;
} roll_dim;

/* out = t rolled along the given dims: 2^k block copies between narrow views. */
static bool roll_into(ct_tensor *out, const ct_tensor *t, const roll_dim *rd, int k) {
    for (int64_t mask = 0; mask < ((int64_t)1 << k); mask++) {
        bool ok = false;
        CT_SCOPE {
            ct_tensor *dst = out, *src = (ct_tensor *)t;
            for (int j = 0; j < k && dst && src; j++) {
                int64_t s = rd[j].shift, n = rd[j].size;
                if (mask >> j & 1) { /* the wrapped-around head */
                    dst = ct_narrow(dst, rd[j].dim, 0, s);
                    src = ct_narrow(src, rd[j].dim, n - s, s);
                } else {
                    dst = ct_narrow(dst, rd[j].dim, s, n - s);
                    src = ct_narrow(src, rd[j].dim, 0, n - s);
                }
            }
            ok = dst && src && ct__copy_into("roll", dst, src);
        }
        if (!ok) return false;
    }
    return true;
}

ct_tensor *ct__roll(const ct_tensor *t, ct_shape shifts, ct_dims dims) {
    if (!CT__CHECK("roll", t)) return NULL;
    if (shifts.ndim <= 0) return ct_error(CT_ERR_ARG, "roll: `shifts` required");
    if ((dims.ndim == 0 && shifts.ndim != 1) || (dims.ndim != 0 && dims.ndim != shifts.ndim))
        return ct_error(CT_ERR_ARG, "roll: shifts and dimensions must align. shifts: %d, dims:%d", shifts.ndim, dims.ndim);
    ct_tensor *out = NULL;
    ct_scope_begin();
    if (dims.ndim == 0) { /* roll the flattened tensor, then restore the shape */
        ct_tensor *flat = ct_reshape(t, CT_SHAPE(-1));
        ct_tensor *rolled = flat ? ct_roll(flat, shifts, CT_DIMS(0)) : NULL;
        ct_tensor *o = rolled ? ct_view(rolled, ct_shape_of(t)) : NULL;
        if (o) out = ct_keep(o);
        ct_scope_end();
        return out;
    }
    roll_dim rd[CT_MAX_DIMS];
    int k = 0;
    bool ok = true;
    for (int i = 0; i < dims.ndim && ok; i++) {
        int d = ct__wrap_dim("roll", (int)dims.d[i], t->ndim);
        if (d < 0) {
            ok = false;
            break;
        }
        int64_t n = t->ndim ? t->shape[d] : 1;
        if (n == 0) continue;
        int64_t s = ((shifts.d[i] % n) + n) % n;
        if (s == 0) continue;
        /* Rolling the same dim twice composes: merge into the existing entry. */
        int j = 0;
        while (j < k && rd[j].dim != d) j++;
        if (j < k) {
            rd[j].shift = (rd[j].shift + s) % n;
        } else {
            rd[k++] = (roll_dim){d, s, n};
        }
    }
    /* Drop entries whose merged shift became 0. */
    int m = 0;
    for (int j = 0; j < k; j++)
        if (rd[j].shift != 0) rd[m++] = rd[j];
    ct_tensor *o = ok ? ct__tensor_new(t->shape, t->ndim, t->dtype, ct__device(t)) : NULL;
    if (o && ct__numel(t->shape, t->ndim) > 0) ok = roll_into(o, t, rd, m);
    if (o && ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}

/* Keeps, in each matrix row i, the columns [lo, hi) given by the diagonal; zeros elsewhere. One
 * copy per row through views: every batch dim rides along in the same copy. */
static ct_tensor *triangle(const char *op, const ct_tensor *t, int64_t diagonal, bool lower) {
    if (!CT__CHECK(op, t)) return NULL;
    if (ct__wrap_dim(op, -2, t->ndim) < 0) return NULL;
    int64_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *o = ct_zeros_opt(ct_shape_of(t), (ct_tensor_opts){.dtype = t->dtype, .device = ct__device(t)});
    bool ok = o != NULL;
    for (int64_t i = 0; ok && i < rows && ct__numel(t->shape, t->ndim) > 0; i++) {
        int64_t lo = lower ? 0 : i + diagonal, hi = lower ? i + diagonal + 1 : cols;
        if (lo < 0) lo = 0;
        if (hi > cols) hi = cols;
        if (lo >= hi) continue;
        CT_SCOPE {
            ct_tensor *dst = ct_narrow(ct_select(o, -2, i), -1, lo, hi - lo);
            ct_tensor *src = ct_narrow(ct_select(t, -2, i), -1, lo, hi - lo);
            ok = dst && src && ct__copy_into(op, dst, src);
        }
    }
    if (ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}

ct_tensor *ct__tril(const ct_tensor *t, int64_t diagonal) { return triangle("tril", t, diagonal, true); }
ct_tensor *ct__triu(const ct_tensor *t, int64_t diagonal) { return triangle("triu", t, diagonal, false); }
