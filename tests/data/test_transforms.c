/* Transforms: Normalize, RandomCrop (padding modes, fill, pad_if_needed, offsets that are a
 * function of the seed alone), RandomHorizontalFlip (frequency close to p), convert/scale (exact
 * ToTensor values), Compose, custom transforms, and the transformed dataset view (field choice,
 * seeds, errors). */
#include "../common/testutil.h"

#include <ctorch/data.h>

#include <math.h>
#include <string.h>

/* [C, H, W] with value c * 100 + h * 10 + w, so a crop reveals its offsets. */
static ct_tensor *coded_image(int64_t c, int64_t h, int64_t w) {
    ct_tensor *t = ct_empty(CT_SHAPE(c, h, w), .dtype = CT_F32);
    float *p = ct_data_ptr(t);
    for (int64_t i = 0; i < c * h * w; i++) p[i] = (float)(i / (h * w) * 100 + i / w % h * 10 + i % w);
    return t;
}

static void test_normalize(void **state) {
    (void)state;
    ct_tensor *x = coded_image(3, 2, 2);
    ct_transform *n = ct_normalize((double[]){1, 2, 3}, (double[]){2, 4, 0.5}, 3);
    ct_tensor *y = ct_transform_apply(n, x, 0);
    double want[12];
    const double mean[3] = {1, 2, 3}, std[3] = {2, 4, 0.5};
    double *xv = tu_values(x);
    for (int i = 0; i < 12; i++) want[i] = (double)(float)(((float)xv[i] - (float)mean[i / 4]) / (float)std[i / 4]);
    tu_assert_values(y, CT_SHAPE(3, 2, 2), want, 0, 0);
    assert_int_equal(ct_dtype_of(y), CT_F32);
    /* one value broadcast over the channels; float64 stays float64 */
    ct_tensor *y64 = ct_transform_apply(ct_normalize((double[]){0.5}, (double[]){0.25}, 1), ct_to_dtype(x, CT_F64), 0);
    for (int i = 0; i < 12; i++) want[i] = (xv[i] - 0.5) / 0.25;
    tu_assert_values(y64, CT_SHAPE(3, 2, 2), want, 0, 0);
    /* errors */
    assert_null(ct_transform_apply(n, coded_image(2, 2, 2), 0));
    tu_assert_error(CT_ERR_SHAPE, "Normalize: 3 means and stds for an image of 2 channels");
    assert_null(ct_transform_apply(n, ct_zeros(CT_SHAPE(3, 2, 2), .dtype = CT_U8), 0));
    tu_assert_error(CT_ERR_DTYPE, "Normalize: Input tensor should be a float tensor. Got uint8.");
    assert_null(ct_transform_apply(n, ct_zeros(CT_SHAPE(2, 2)), 0));
    tu_assert_error(CT_ERR_SHAPE, "size (..., C, H, W), got 2 dims");
    assert_null(ct_normalize((double[]){0, 0}, (double[]){1, 0}, 2));
    tu_assert_error(CT_ERR_ARG, "std evaluated to zero (channel 1)");
}

/* The (top, left) of a crop of a coded image padded by pad (constant 0 fill never matches). */
static void crop_offsets(const ct_tensor *crop, int64_t pad, int64_t *top, int64_t *left) {
    /* find the first element that is a real pixel: its code gives the offset */
    int64_t h = ct_size(crop, -2), w = ct_size(crop, -1);
    const float *p = ct_data_ptr(crop);
    for (int64_t i = 0; i < h * w; i++)
        if (p[i] >= 0) { /* the coded values are >= 0, the fill below is -1 */
            int64_t code = (int64_t)p[i], ih = code / 10 % 10, iw = code % 10;
            *top = ih + pad - i / w, *left = iw + pad - i % w;
            return;
        }
    fail_msg("a crop with no pixels of the image");
}

static void test_random_crop(void **state) {
    (void)state;
    ct_tensor *x = coded_image(2, 6, 7);
    ct_transform *crop = ct_random_crop(CT_SHAPE(4, 5), .padding = CT_SHAPE(2), .fill = -1);
    int seen[9][10] = {{0}};
    for (uint64_t seed = 0; seed < 2000; seed++) {
        ct_tensor *y = ct_transform_apply(crop, x, seed);
        assert_non_null(y);
        assert_int_equal(ct_ndim(y), 3);
        assert_int_equal(ct_size(y, 1), 4);
        assert_int_equal(ct_size(y, 2), 5);
        int64_t top = -1, left = -1;
        crop_offsets(y, 2, &top, &left);
        assert_true(top >= 0 && top <= 6 && left >= 0 && left <= 6);
        seen[top][left]++;
        /* the whole crop is the padded image at (top, left), every channel */
        double want[2 * 4 * 5];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 5; j++) {
                    int64_t ih = top + i - 2, iw = left + j - 2;
                    want[(c * 4 + i) * 5 + j] = ih < 0 || ih >= 6 || iw < 0 || iw >= 7 ? -1 : c * 100 + ih * 10 + iw;
                }
        tu_assert_values(y, CT_SHAPE(2, 4, 5), want, 0, 0);
        /* the same seed gives the same crop */
        ct_tensor *again = ct_transform_apply(crop, x, seed);
        tu_assert_values(again, CT_SHAPE(2, 4, 5), want, 0, 0);
    }
    /* (10 - 4 + 1) x (11 - 5 + 1) = 49 offsets are possible; over 2000 seeds each comes up (about
     * 41 times each) */
    for (int t = 0; t <= 6; t++)
        for (int l = 0; l <= 6; l++) assert_true(seen[t][l] > 10);

    /* 4 paddings (left, top, right, bottom) and replicate mode */
    ct_transform *edge = ct_random_crop(CT_SHAPE(3), .padding = CT_SHAPE(1, 0, 0, 0), .padding_mode = CT_PAD_REPLICATE);
    ct_tensor *one = ct_transform_apply(edge, coded_image(1, 3, 2), 3);
    tu_assert_values(one, CT_SHAPE(1, 3, 3), (double[]){0, 0, 1, 10, 10, 11, 20, 20, 21}, 0, 0);
    /* pad_if_needed grows a small image to the crop; crop == padded size takes offset 0 */
    ct_transform *grow = ct_random_crop(CT_SHAPE(4, 3), .pad_if_needed = true, .fill = 9);
    ct_tensor *g = ct_transform_apply(grow, coded_image(1, 2, 3), 1);
    tu_assert_values(g, CT_SHAPE(1, 4, 3), (double[]){9, 9, 9, 0, 1, 2, 10, 11, 12, 9, 9, 9}, 0, 0);
    /* errors */
    assert_null(ct_transform_apply(ct_random_crop(CT_SHAPE(8)), x, 0));
    tu_assert_error(CT_ERR_SHAPE, "RandomCrop: Required crop size (8, 8) is larger than input image size (6, 7)");
    assert_null(ct_random_crop(CT_SHAPE(4), .padding = CT_SHAPE(1, 2, 3)));
    tu_assert_error(CT_ERR_ARG, "Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple");
    assert_null(ct_random_crop(CT_SHAPE(0, 3)));
    tu_assert_error(CT_ERR_ARG, "RandomCrop: size (0, 3) must be positive");
}

static void test_flip(void **state) {
    (void)state;
    ct_tensor *x = coded_image(1, 2, 3);
    const double flipped[] = {2, 1, 0, 12, 11, 10}, kept[] = {0, 1, 2, 10, 11, 12};
    const double ps[] = {0.5, 0.2, 0, 1};
    for (int k = 0; k < 4; k++) {
        ct_transform *flip = ct_random_horizontal_flip(.p = ps[k]);
        int n = 4000, flips = 0;
        for (uint64_t seed = 0; seed < (uint64_t)n; seed++) CT_SCOPE {
            ct_tensor *y = ct_transform_apply(flip, x, seed);
            bool f = ct_get(y, CT_SHAPE(0, 0, 0)) == 2;
            tu_assert_values(y, CT_SHAPE(1, 2, 3), f ? flipped : kept, 0, 0);
            assert_int_equal(f, ct_get(ct_transform_apply(flip, x, seed), CT_SHAPE(0, 0, 0)) == 2);
            flips += f;
        }
        /* binomial: 5 standard deviations of n p (1 - p) */
        double sd = sqrt(n * ps[k] * (1 - ps[k]));
        assert_true(fabs(flips - n * ps[k]) <= 5 * sd);
    }
    ct_tensor *y = ct_transform_apply(ct_random_horizontal_flip(), x, 0); /* default p = 0.5 */
    assert_non_null(y);
    assert_null(ct_random_horizontal_flip(.p = 1.5));
    tu_assert_error(CT_ERR_ARG, "p should be a probability in [0, 1], got 1.5");
}

static void test_convert(void **state) {
    (void)state;
    uint8_t bytes[256];
    double want[256];
    for (int i = 0; i < 256; i++) bytes[i] = (uint8_t)i, want[i] = (double)((float)i / 255.0f);
    ct_tensor *u8 = ct_from_data(bytes, CT_SHAPE(256), CT_U8);
    ct_tensor *f = ct_transform_apply(ct_convert(CT_F32, .div = 255), u8, 0);
    assert_int_equal(ct_dtype_of(f), CT_F32);
    tu_assert_values(f, CT_SHAPE(256), want, 0, 0); /* exactly ToTensor's (and the MNIST reader's) values */
    ct_tensor *g = ct_transform_apply(ct_convert(CT_F64, .mul = 2), u8, 0);
    for (int i = 0; i < 256; i++) want[i] = 2.0 * i;
    tu_assert_values(g, CT_SHAPE(256), want, 0, 0);
    ct_tensor *h = ct_transform_apply(ct_convert(CT_I32), ct_full(CT_SHAPE(2), 3.75), 0);
    assert_int_equal(ct_dtype_of(h), CT_I32);
    tu_assert_values(h, CT_SHAPE(2), (double[]){3, 3}, 0, 0);
    assert_null(ct_convert(CT_F32, .div = 0));
    tu_assert_error(CT_ERR_ARG, "div not 0");
}

static ct_tensor *add_seed_bit(const ct_tensor *x, uint64_t seed, void *user) {
    *(int *)user += 1;
    return ct_add(x, ct_scalar((double)(seed & 1)));
}

static void test_compose_and_dataset(void **state) {
    (void)state;
    ct_tensor *images = ct_stack(CT_TENSORS(coded_image(1, 4, 4), ct_add(coded_image(1, 4, 4), ct_scalar(1000))), 0);
    ct_tensor *labels = ct_arange(0, 2, 1);
    ct_dataset *base = ct_tensor_dataset(images, labels), *ds = NULL;
    int calls = 0;
    CT_SCOPE { /* the transforms die with this scope; the view holds its own references */
        ct_transform *t = ct_compose(ct_random_crop(CT_SHAPE(2), .padding = CT_SHAPE(1)), ct_random_horizontal_flip(),
                                     ct_normalize((double[]){1}, (double[]){2}, 1),
                                     ct_transform_new("seed bit", add_seed_bit, &calls));
        assert_string_equal(ct_transform_name(t), "Compose");
        ds = ct_transformed(base, "x", t);
    }
    ct_dataset_free(base);
    assert_int_equal(ct_dataset_len(ds), 2);
    /* same seed, same sample; over many seeds the crops differ */
    ct_sample a, b;
    int distinct = 0;
    double first[4];
    for (uint64_t seed = 0; seed < 50; seed++) {
        assert_true(ct_dataset_get_seeded(ds, 1, seed, &a));
        assert_true(ct_dataset_get_seeded(ds, 1, seed, &b));
        assert_int_equal(ct_size(a.x, -1), 2);
        double *va = tu_values(a.x);
        tu_assert_values(b.x, CT_SHAPE(1, 2, 2), va, 0, 0);
        tu_assert_values(a.y, CT_SHAPE(), (double[]){1}, 0, 0); /* y untouched */
        if (seed == 0) memcpy(first, va, sizeof first);
        else distinct += memcmp(first, va, sizeof first) != 0;
    }
    assert_int_equal(calls, 100);
    assert_true(distinct > 40);
    /* a field the samples do not have */
    ct_dataset *bad = ct_transformed(ds, "image", ct_random_horizontal_flip());
    assert_false(ct_dataset_get_seeded(bad, 0, 0, &a));
    tu_assert_error(CT_ERR_ARG, "TransformedDataset's samples have no field 'image' (fields: 'x', 'y')");
    ct_dataset_free(bad);
    ct_dataset_free(ds);
    /* the empty compose is the identity */
    ct_tensor *x = coded_image(1, 2, 2);
    tu_assert_values(ct_transform_apply(ct_compose_list(NULL, 0), x, 0), CT_SHAPE(1, 2, 2), tu_values(x), 0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),  cmocka_unit_test(test_random_crop),         cmocka_unit_test(test_flip),
        cmocka_unit_test(test_convert),    cmocka_unit_test(test_compose_and_dataset),
    };
    return TU_RUN("transforms", tests);
}
