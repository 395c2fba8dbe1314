/* F.pad: constant, reflect, replicate and circular padding of the trailing dims, negative pads crop.
 *
 * Built from views and ct__copy_into only (so any device that copies can pad): the input goes into
 * the centre of the output, then each padded dim's borders are copied from inside the output.
 * Dims are padded one after another, each over the full extent of the dims already padded and the
 * centre of the others; the modes are separable, so the corners come out right.
 * Negative pads follow PyTorch: reflect and replicate pad the whole input and then crop (a reflect
 * may mirror elements that the crop removes), constant and circular crop first. */
#include "tensor_impl.h"

#include <string.h>

static int64_t pos(int64_t v) { return v > 0 ? v : 0; }

/* Copies the border slices of dim d inside `full` (already holding the centre [l, l + c)). */
static bool fill_borders(ct_tensor *full, int d, int64_t l, int64_t c, int64_t r, ct_pad_mode mode) {
    bool ok = true;
    CT_SCOPE {
        if (mode == CT_PAD_REPLICATE) { /* the edge slice, broadcast over the border */
            if (l > 0) ok = ct__copy_into("pad", ct_narrow(full, d, 0, l), ct_narrow(full, d, l, 1));
            if (ok && r > 0) ok = ct__copy_into("pad", ct_narrow(full, d, l + c, r), ct_narrow(full, d, l + c - 1, 1));
        } else if (mode == CT_PAD_CIRCULAR) { /* the opposite end of the centre, as one block */
            if (l > 0) ok = ct__copy_into("pad", ct_narrow(full, d, 0, l), ct_narrow(full, d, c, l));
            if (ok && r > 0) ok = ct__copy_into("pad", ct_narrow(full, d, l + c, r), ct_narrow(full, d, l, r));
        } else { /* reflect: mirror about the edge element, which is not repeated */
            for (int64_t j = 0; ok && j < l; j++)
                ok = ct__copy_into("pad", ct_narrow(full, d, j, 1), ct_narrow(full, d, 2 * l - j, 1));
            for (int64_t k = 0; ok && k < r; k++)
                ok = ct__copy_into("pad", ct_narrow(full, d, l + c + k, 1), ct_narrow(full, d, l + c - 2 - k, 1));
        }
    }
    return ok;
}

ct_tensor *ct__pad_opt(const ct_tensor *t, ct_shape pads, ct_pad_opts opts) {
    if (!CT__CHECK("pad", t)) return NULL;
    if (opts.mode < CT_PAD_CONSTANT || opts.mode > CT_PAD_CIRCULAR)
        return ct_error(CT_ERR_ARG, "pad: invalid padding mode %d", (int)opts.mode);
    if (pads.ndim < 0 || pads.ndim % 2 != 0) return ct_error(CT_ERR_ARG, "pad: Padding length must be divisible by 2");
    int npairs = pads.ndim / 2;
    if (npairs > t->ndim) return ct_error(CT_ERR_ARG, "pad: Padding length too large");
    ct_pad_mode mode = opts.mode;
    bool crop_first = mode == CT_PAD_CONSTANT || mode == CT_PAD_CIRCULAR;
    /* Per dim: input crop [in_lo, in_lo + in_len), positive pads l/r, final crop of the padded. */
    int64_t in_lo[CT_MAX_DIMS] = {0}, in_len[CT_MAX_DIMS], l[CT_MAX_DIMS] = {0}, r[CT_MAX_DIMS] = {0};
    int64_t full_shape[CT_MAX_DIMS], out_lo[CT_MAX_DIMS] = {0}, out_shape[CT_MAX_DIMS];
    bool crop_after = false;
    memcpy(in_len, t->shape, sizeof in_len);
    for (int p = 0; p < npairs; p++) {
        int d = t->ndim - 1 - p;
        int64_t n = t->shape[d], pl = pads.d[2 * p], pr = pads.d[2 * p + 1], size = n + pl + pr;
        if (size < 0)
            return ct_error(CT_ERR_SHAPE,
                            "pad: The input size %lld, plus negative padding %lld and %lld resulted in a negative "
                            "output size, which is invalid. Check dimension %d of your input.",
                            (long long)n, (long long)pl, (long long)pr, d);
        if (mode == CT_PAD_REFLECT && (pl >= n || pr >= n) && (pl > 0 || pr > 0))
            return ct_error(CT_ERR_SHAPE,
                            "pad: Argument #%d: Padding size should be less than the corresponding input dimension, "
                            "but got: padding (%lld, %lld) at dimension %d of input %s",
                            4 + 2 * p, (long long)pl, (long long)pr, d, ct__shape_str(t->shape, t->ndim));
        if (mode == CT_PAD_REPLICATE && n == 0 && (pl > 0 || pr > 0))
            return ct_error(CT_ERR_SHAPE,
                            "pad: replicate padding expects non-zero sizes in the padded dimensions, but got input %s",
                            ct__shape_str(t->shape, t->ndim));
        if (crop_first) {
            in_lo[d] = pos(-pl);
            in_len[d] = n - pos(-pl) - pos(-pr);
            if (mode == CT_PAD_CIRCULAR && (pl < 0 || pr < 0) && in_len[d] <= 0)
                return ct_error(CT_ERR_SHAPE, "pad: Negative padding value is resulting in an empty dimension");
            if (mode == CT_PAD_CIRCULAR && (pl > in_len[d] || pr > in_len[d]))
                return ct_error(CT_ERR_SHAPE, "pad: Padding value causes wrapping around more than once.");
        } else {
            out_lo[d] = pos(-pl);
            crop_after |= pl < 0 || pr < 0;
        }
        l[d] = pos(pl);
        r[d] = pos(pr);
    }
    for (int d = 0; d < t->ndim; d++) {
        full_shape[d] = in_len[d] + l[d] + r[d];
        out_shape[d] = t->shape[d] + (d >= t->ndim - npairs ? pads.d[2 * (t->ndim - 1 - d)] + pads.d[2 * (t->ndim - 1 - d) + 1] : 0);
    }

    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *full = ct__tensor_new(full_shape, t->ndim, t->dtype, ct__device(t));
    bool ok = full != NULL;
    if (ok && mode == CT_PAD_CONSTANT && ct__numel(full_shape, t->ndim) != ct__numel(in_len, t->ndim))
        ok = ct_fill_(full, opts.value) != NULL;
    /* The (cropped) input into the centre. */
    if (ok && ct__numel(in_len, t->ndim) > 0) {
        ct_tensor *src = (ct_tensor *)t, *dst = full;
        for (int d = 0; d < t->ndim && src && dst; d++) {
            if (in_len[d] == t->shape[d] && l[d] == 0 && r[d] == 0) continue;
            src = ct_narrow(src, d, in_lo[d], in_len[d]);
            dst = ct_narrow(dst, d, l[d], in_len[d]);
        }
        ok = src && dst && ct__copy_into("pad", dst, src);
    }
    /* Borders, innermost dim first; each over the centre of the dims not yet padded. */
    if (ok && mode != CT_PAD_CONSTANT && ct__numel(full_shape, t->ndim) > 0) {
        for (int p = 0; ok && p < npairs; p++) {
            int d = t->ndim - 1 - p;
            if (l[d] == 0 && r[d] == 0) continue;
            CT_SCOPE {
                ct_tensor *region = full;
                for (int q = p + 1; q < npairs && region; q++) {
                    int e = t->ndim - 1 - q;
                    region = ct_narrow(region, e, l[e], in_len[e]);
                }
                ok = region && fill_borders(region, d, l[d], in_len[d], r[d], mode);
            }
        }
    }
    ct_tensor *o = full;
    if (ok && crop_after) {
        for (int d = 0; d < t->ndim && o; d++)
            if (out_shape[d] != full_shape[d]) o = ct_narrow(o, d, out_lo[d], out_shape[d]);
        o = o ? ct_contiguous(o) : NULL;
        ok = o != NULL;
    }
    if (ok) out = ct_keep(o);
    ct_scope_end();
    return out;
}
