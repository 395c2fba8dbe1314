/* Dataset composition: TensorDataset (views of rows, names, size checks), Subset (negative and
 * repeated indices, range errors), ConcatDataset (boundaries), random_split (PyTorch's fraction
 * remainder rule, disjoint and complete, a function of the seed), and seeds passed through. */
#include "../common/testutil.h"

#include <ctorch/data.h>

#include <stdlib.h>
#include <string.h>

/* A dataset of n samples whose field "i" is the index and "seed" the seed it was given. */
static int64_t probe_len(void *state) { return *(int64_t *)state; }
static bool probe_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)state;
    return ct_sample_add(out, "i", ct_scalar_tensor((double)i, .dtype = CT_I64)) &&
           ct_sample_add(out, "seed", ct_scalar_tensor((double)(seed & 0xffffff), .dtype = CT_I64));
}
static const ct_dataset_vtable probe_vtable = {"Probe", probe_len, probe_get, free};
static ct_dataset *probe(int64_t n) {
    int64_t *s = malloc(sizeof *s);
    *s = n;
    return ct_dataset_new(&probe_vtable, s);
}

static int64_t index_of(ct_dataset *ds, int64_t i) {
    ct_sample s;
    assert_true(ct_dataset_get_seeded(ds, i, 7, &s));
    return (int64_t)ct_item(ct_sample_field(&s, "i"));
}

static void test_tensor_dataset(void **state) {
    (void)state;
    ct_tensor *x = ct_reshape(ct_arange(0, 12, 1, .dtype = CT_F32), CT_SHAPE(4, 3));
    ct_tensor *y = ct_arange(10, 14, 1);
    ct_dataset *ds = ct_tensor_dataset(x, y);
    assert_non_null(ds);
    assert_int_equal(ct_dataset_len(ds), 4);
    assert_string_equal(ct_dataset_name(ds), "TensorDataset");
    ct_sample s;
    assert_true(ct_dataset_get(ds, 2, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "x");
    assert_string_equal(s.names[1], "y");
    tu_assert_values(s.x, CT_SHAPE(3), (double[]){6, 7, 8}, 0, 0);
    tu_assert_values(s.y, CT_SHAPE(), (double[]){12}, 0, 0);
    assert_true(ct_shares_storage(s.x, x)); /* a view, as tensors[i] */
    assert_true(ct_dataset_get(ds, -1, &s));
    tu_assert_values(s.y, CT_SHAPE(), (double[]){13}, 0, 0);
    assert_false(ct_dataset_get(ds, 4, &s));
    tu_assert_error(CT_ERR_INDEX, "TensorDataset: index 4 is out of range for a dataset of length 4");
    ct_dataset_free(ds);

    /* names, and the dataset keeps its tensors after the caller's scope ends */
    CT_SCOPE {
        ds = ct_tensor_dataset_named(CT_TENSORS(ct_ones(CT_SHAPE(2, 2)), ct_zeros(CT_SHAPE(2))),
                                     CT_NAMES("image", "label"));
    }
    assert_true(ct_dataset_get(ds, 1, &s));
    assert_string_equal(s.names[0], "image");
    assert_non_null(ct_sample_field(&s, "label"));
    tu_assert_values(ct_sample_field(&s, "image"), CT_SHAPE(2), (double[]){1, 1}, 0, 0);
    ct_dataset_free(ds);

    /* errors */
    assert_null(ct_tensor_dataset(x, ct_zeros(CT_SHAPE(5))));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch between tensors: tensor 0 has 4 rows but tensor 1 has 5");
    assert_null(ct_tensor_dataset(x, ct_scalar_tensor(1)));
    tu_assert_error(CT_ERR_SHAPE, "tensor 1 is 0-d");
    assert_null(ct_tensor_dataset_named(CT_TENSORS(x, y), CT_NAMES("a")));
    tu_assert_error(CT_ERR_ARG, "1 names for 2 tensors");
}

static void test_subset_and_concat(void **state) {
    (void)state;
    ct_dataset *base = probe(10);
    ct_dataset *sub = ct_subset(base, (int64_t[]){3, -1, 3, 0}, 4);
    assert_int_equal(ct_dataset_len(sub), 4);
    int64_t want[] = {3, 9, 3, 0};
    for (int j = 0; j < 4; j++) assert_int_equal(index_of(sub, j), want[j]);
    assert_null(ct_subset(base, (int64_t[]){1, 10}, 2));
    tu_assert_error(CT_ERR_INDEX, "Subset: index 10 (at position 1) is out of range for Probe of length 10");
    assert_null(ct_subset(base, (int64_t[]){-11}, 1));
    tu_assert_error(CT_ERR_INDEX, "index -11");

    ct_dataset *other = probe(3);
    ct_dataset *cat = ct_concat_dataset(sub, other, base);
    ct_dataset_free(base); /* the compositions hold their own references */
    ct_dataset_free(other);
    assert_int_equal(ct_dataset_len(cat), 17);
    int64_t cat_want[] = {3, 9, 3, 0, 0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int j = 0; j < 17; j++) assert_int_equal(index_of(cat, j), cat_want[j]);
    assert_int_equal(index_of(cat, -1), 9);
    ct_sample s;
    assert_false(ct_dataset_get(cat, 17, &s));
    tu_assert_error(CT_ERR_INDEX, "ConcatDataset: index 17 is out of range for a dataset of length 17");
    /* the seed reaches the parts unchanged */
    assert_true(ct_dataset_get_seeded(cat, 5, 12345, &s));
    assert_int_equal((int64_t)ct_item(ct_sample_field(&s, "seed")), 12345);
    ct_dataset_free(sub);
    ct_dataset_free(cat);
    assert_null(ct_concat_dataset_list(NULL, 0));
    tu_assert_error(CT_ERR_ARG, "datasets should not be an empty iterable");
}

/* Sizes of the parts and that together they hold every index once. */
static void check_split(ct_dataset *base, const double *lengths, int n, uint64_t seed, const int64_t *sizes,
                        int64_t *first_members) {
    ct_dataset *parts[8];
    assert_true(ct_random_split(base, lengths, n, seed, parts));
    int64_t len = ct_dataset_len(base);
    int *seen = calloc((size_t)len, sizeof *seen);
    for (int k = 0; k < n; k++) {
        assert_int_equal(ct_dataset_len(parts[k]), sizes[k]);
        for (int64_t j = 0; j < sizes[k]; j++) seen[index_of(parts[k], j)]++;
        if (first_members) first_members[k] = sizes[k] ? index_of(parts[k], 0) : -1;
        ct_dataset_free(parts[k]);
    }
    for (int64_t i = 0; i < len; i++) assert_int_equal(seen[i], 1);
    free(seen);
}

static void test_random_split(void **state) {
    (void)state;
    ct_dataset *base = probe(10);
    /* fractions: floor(10 * 0.25) = 2 each, then the remainder 2 goes round-robin from the first */
    check_split(base, (double[]){0.25, 0.25, 0.25, 0.25}, 4, 1, (int64_t[]){3, 3, 2, 2}, NULL);
    check_split(base, (double[]){0.5, 0.5, 0}, 3, 1, (int64_t[]){5, 5, 0}, NULL);
    /* PyTorch's docs example: 3 items [0.3, 0.3, 0.4] -> floor 0, 0, 1; remainder 2 -> 1, 1, 1 */
    ct_dataset *three = probe(3);
    check_split(three, (double[]){0.3, 0.3, 0.4}, 3, 5, (int64_t[]){1, 1, 1}, NULL);
    ct_dataset_free(three);
    /* counts */
    int64_t a[2], b[2], c[2];
    check_split(base, (double[]){7, 3}, 2, 42, (int64_t[]){7, 3}, a);
    check_split(base, (double[]){7, 3}, 2, 42, (int64_t[]){7, 3}, b);
    assert_memory_equal(a, b, sizeof a); /* the seed decides */
    bool differs = false;
    for (uint64_t seed = 43; seed < 53 && !differs; seed++) {
        check_split(base, (double[]){7, 3}, 2, seed, (int64_t[]){7, 3}, c);
        differs = c[0] != a[0] || c[1] != a[1];
    }
    assert_true(differs);
    ct_dataset *parts[2];
    assert_false(ct_random_split(base, (double[]){7, 4}, 2, 0, parts));
    tu_assert_error(CT_ERR_ARG, "Sum of input lengths (11) does not equal the length of the input dataset (10)!");
    assert_null(parts[0]);
    assert_false(ct_random_split(base, (double[]){1.5, -0.5}, 2, 0, parts));
    tu_assert_error(CT_ERR_ARG, "Fraction at index 0 is not between 0 and 1");
    assert_false(ct_random_split(base, (double[]){2.5, 7.5}, 2, 0, parts));
    tu_assert_error(CT_ERR_ARG, "length 2.5 at index 0 is neither a count nor a fraction");
    ct_dataset_free(base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_dataset),
        cmocka_unit_test(test_subset_and_concat),
        cmocka_unit_test(test_random_split),
    };
    return TU_RUN("datasets", tests);
}
