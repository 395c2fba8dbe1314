/* Image transforms on tensors (torchvision.transforms): Normalize, RandomCrop,
 * RandomHorizontalFlip, and a dtype conversion with scaling. Images are [..., C, H, W] tensors.
 * Random choices use the k-th Philox draw of the seed given to apply (data_impl.h): RandomCrop
 * draws its top offset as draw 0 and its left offset as draw 1, the flip draws 0. */
#include "data_impl.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Normalize -------------------------------------------------------------------------------- */

/* mean and std as [channels, 1, 1] tensors in every floating dtype, built once: apply is then two
 * broadcasting ops in the image's own dtype (as torchvision converts mean and std to it). */
typedef struct normalize_params {
    int channels;
    ct_tensor *mean[CT_NUM_DTYPES], *std[CT_NUM_DTYPES]; /* retained; NULL for non-float dtypes */
} normalize_params;

static ct_tensor *normalize_apply(const ct_tensor *x, uint64_t seed, void *params) {
    (void)seed;
    const normalize_params *p = params;
    ct_dtype dt = ct_dtype_of(x);
    if (!ct_dtype_is_floating(dt))
        return ct_error(CT_ERR_DTYPE, "Normalize: Input tensor should be a float tensor. Got %s.", ct_dtype_name(dt));
    if (ct_ndim(x) < 3)
        return ct_error(CT_ERR_SHAPE, "Normalize: Expected tensor to be a tensor image of size (..., C, H, W), got %d dims",
                        ct_ndim(x));
    int64_t c = ct_size(x, -3);
    if (p->channels != 1 && p->channels != c)
        return ct_error(CT_ERR_SHAPE, "Normalize: %d means and stds for an image of %" PRId64 " channels", p->channels, c);
    return ct_div(ct_sub(x, p->mean[dt]), p->std[dt]);
}

static void normalize_free(void *params) {
    normalize_params *p = params;
    for (int d = 0; d < CT_NUM_DTYPES; d++) ct_release(p->mean[d]), ct_release(p->std[d]);
    free(p);
}

ct_transform *ct_normalize(const double *mean, const double *std, int channels) {
    if (!ct_ok()) return NULL;
    if (!mean || !std || channels < 1)
        return ct_error(CT_ERR_ARG, "Normalize: needs mean and std for at least one channel, got %d", channels);
    for (int c = 0; c < channels; c++)
        if (std[c] == 0)
            return ct_error(CT_ERR_ARG, "Normalize: std evaluated to zero (channel %d), leading to division by zero.", c);
    normalize_params *p = calloc(1, sizeof *p);
    if (!p) return ct_error(CT_ERR_OOM, "Normalize: out of memory");
    p->channels = channels;
    CT_SCOPE {
        ct_tensor *m = ct_from_data(mean, CT_SHAPE(channels, 1, 1), CT_F64);
        ct_tensor *s = ct_from_data(std, CT_SHAPE(channels, 1, 1), CT_F64);
        for (int d = 0; d < CT_NUM_DTYPES; d++)
            if (ct_dtype_is_floating((ct_dtype)d)) {
                p->mean[d] = ct_retain(ct_to_dtype(m, (ct_dtype)d));
                p->std[d] = ct_retain(ct_to_dtype(s, (ct_dtype)d));
            }
    }
    if (!ct_ok()) return normalize_free(p), NULL;
    return ct__transform_make("Normalize", normalize_apply, p, normalize_free);
}

/* ---- RandomCrop ------------------------------------------------------------------------------- */

typedef struct crop_params {
    int64_t h, w;
    int64_t left, top, right, bottom;
    double fill;
    ct_pad_mode mode;
    bool pad_if_needed;
} crop_params;

static ct_tensor *crop_apply(const ct_tensor *x, uint64_t seed, void *params) {
    const crop_params *p = params;
    if (ct_ndim(x) < 2)
        return ct_error(CT_ERR_SHAPE, "RandomCrop: expected an image of size (..., H, W), got %d dims", ct_ndim(x));
    ct_tensor *img = (ct_tensor *)x;
    if (p->left || p->top || p->right || p->bottom)
        img = ct_pad(img, CT_SHAPE(p->left, p->right, p->top, p->bottom), .mode = p->mode, .value = p->fill);
    if (!img) return NULL;
    int64_t h = ct_size(img, -2), w = ct_size(img, -1);
    if (p->pad_if_needed && (h < p->h || w < p->w)) { /* as torchvision: both sides by the shortfall */
        int64_t dh = h < p->h ? p->h - h : 0, dw = w < p->w ? p->w - w : 0;
        img = ct_pad(img, CT_SHAPE(dw, dw, dh, dh), .mode = p->mode, .value = p->fill);
        if (!img) return NULL;
        h = ct_size(img, -2), w = ct_size(img, -1);
    }
    if (h < p->h || w < p->w)
        return ct_error(CT_ERR_SHAPE, "RandomCrop: Required crop size (%" PRId64 ", %" PRId64
                        ") is larger than input image size (%" PRId64 ", %" PRId64 ")", p->h, p->w, h, w);
    int64_t top = ct__seed_below(seed, 0, h - p->h + 1), left = ct__seed_below(seed, 1, w - p->w + 1);
    return ct_contiguous(ct_narrow(ct_narrow(img, -2, top, p->h), -1, left, p->w));
}

ct_transform *ct_random_crop_opt(ct_shape size, ct_random_crop_opts opts) {
    if (!ct_ok()) return NULL;
    if (size.ndim != 1 && size.ndim != 2)
        return ct_error(CT_ERR_ARG, "RandomCrop: size should be one number or a pair (h, w), got %d values", size.ndim);
    crop_params c = {.h = size.d[0], .w = size.d[size.ndim - 1], .fill = opts.fill, .mode = opts.padding_mode,
                     .pad_if_needed = opts.pad_if_needed};
    if (c.h < 1 || c.w < 1)
        return ct_error(CT_ERR_ARG, "RandomCrop: size (%" PRId64 ", %" PRId64 ") must be positive", c.h, c.w);
    const int64_t *pd = opts.padding.d;
    switch (opts.padding.ndim) {
    case 0: break;
    case 1: c.left = c.top = c.right = c.bottom = pd[0]; break;
    case 2: c.left = c.right = pd[0], c.top = c.bottom = pd[1]; break;
    case 4: c.left = pd[0], c.top = pd[1], c.right = pd[2], c.bottom = pd[3]; break;
    default:
        return ct_error(CT_ERR_ARG, "RandomCrop: Padding must be an int or a 1, 2, or 4 element tuple, not a %d element "
                        "tuple", opts.padding.ndim);
    }
    if (c.left < 0 || c.top < 0 || c.right < 0 || c.bottom < 0)
        return ct_error(CT_ERR_ARG, "RandomCrop: padding must not be negative");
    if (c.mode != CT_PAD_CONSTANT && c.mode != CT_PAD_REFLECT && c.mode != CT_PAD_REPLICATE)
        return ct_error(CT_ERR_ARG, "RandomCrop: padding_mode should be constant, reflect or replicate (edge), got %d",
                        (int)c.mode);
    crop_params *p = malloc(sizeof *p);
    if (!p) return ct_error(CT_ERR_OOM, "RandomCrop: out of memory");
    *p = c;
    return ct__transform_make("RandomCrop", crop_apply, p, free);
}

/* ---- RandomHorizontalFlip --------------------------------------------------------------------- */

static ct_tensor *flip_apply(const ct_tensor *x, uint64_t seed, void *params) {
    const double *p = params;
    if (ct_ndim(x) < 1) return ct_error(CT_ERR_SHAPE, "RandomHorizontalFlip: expected an image, got a 0-d tensor");
    return ct__seed_uniform(seed, 0) < *p ? ct_flip(x, CT_DIMS(-1)) : ct_alias(x);
}

ct_transform *ct_random_horizontal_flip_opt(ct_flip_opts opts) {
    if (!ct_ok()) return NULL;
    if (!(opts.p >= 0 && opts.p <= 1))
        return ct_error(CT_ERR_ARG, "RandomHorizontalFlip: p should be a probability in [0, 1], got %g", opts.p);
    double *p = malloc(sizeof *p);
    if (!p) return ct_error(CT_ERR_OOM, "RandomHorizontalFlip: out of memory");
    *p = opts.p;
    return ct__transform_make("RandomHorizontalFlip", flip_apply, p, free);
}

/* ---- convert and scale ------------------------------------------------------------------------ */

typedef struct convert_params {
    ct_dtype dtype;
    double mul, div;
} convert_params;

static ct_tensor *convert_apply(const ct_tensor *x, uint64_t seed, void *params) {
    (void)seed;
    const convert_params *p = params;
    ct_tensor *y = ct_to_dtype(x, p->dtype);
    if (p->mul != 1) y = ct_mul(y, ct_scalar(p->mul));
    if (p->div != 1) y = ct_div(y, ct_scalar(p->div));
    return y;
}

ct_transform *ct_convert_opt(ct_dtype dtype, ct_convert_opts opts) {
    if (!ct_ok()) return NULL;
    if ((int)dtype < 0 || dtype >= CT_NUM_DTYPES) return ct_error(CT_ERR_ARG, "Convert: unknown dtype %d", (int)dtype);
    if (opts.div == 0 || !isfinite(opts.div) || !isfinite(opts.mul))
        return ct_error(CT_ERR_ARG, "Convert: mul (%g) and div (%g) must be finite and div not 0", opts.mul, opts.div);
    convert_params *p = malloc(sizeof *p);
    if (!p) return ct_error(CT_ERR_OOM, "Convert: out of memory");
    *p = (convert_params){dtype, opts.mul, opts.div};
    return ct__transform_make("Convert", convert_apply, p, free);
}
