/* Named options: defaults are PyTorch's, named arguments override only what they name. */
#include "../common/testutil.h"

typedef struct demo_opts {
    double lr, beta1, beta2, weight_decay;
    bool amsgrad;
} demo_opts;
static demo_opts demo_opt(demo_opts o) { return o; }
#define demo(...) demo_opt(CT_OPTS(demo_opts, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .weight_decay = 0.01, __VA_ARGS__))

static void defaults_apply_when_omitted(void **state) {
    (void)state;
    demo_opts o = demo();
    assert_true(o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.weight_decay == 0.01 && !o.amsgrad);
}

static void named_arguments_override(void **state) {
    (void)state;
    demo_opts o = demo(.weight_decay = 0, .amsgrad = true);
    assert_true(o.lr == 1e-3 && o.weight_decay == 0 && o.amsgrad);
}

static void tensor_options_default_dtype_and_device(void **state) {
    (void)state;
    ct_tensor *a = ct_zeros(CT_SHAPE(2));
    assert_int_equal(ct_dtype_of(a), CT_F32);
    assert_true(ct_device_equal(ct_device_of(a), CT_CPU));
    ct_tensor *b = ct_zeros(CT_SHAPE(2), .dtype = CT_I64);
    assert_int_equal(ct_dtype_of(b), CT_I64);
    ct_set_default_dtype(CT_F64);
    assert_int_equal(ct_dtype_of(ct_ones(CT_SHAPE(1))), CT_F64);
    ct_set_default_dtype(CT_F32);
    ct_set_default_dtype(CT_I32); /* not a floating type: rejected */
    tu_assert_error(CT_ERR_DTYPE, "only floating-point types");
    assert_int_equal(ct_get_default_dtype(), CT_F32);
}

static void arity_overloads(void **state) {
    (void)state;
    ct_tensor *x = ct_zeros(CT_SHAPE(2, 3, 4));
    assert_int_equal(ct_ndim(ct_flatten(x)), 1);
    assert_int_equal(ct_size(ct_flatten(x, 1), 1), 12);
    assert_int_equal(ct_size(ct_flatten(x, 0, 1), 0), 6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply_when_omitted),
        cmocka_unit_test(named_arguments_override),
        cmocka_unit_test(tensor_options_default_dtype_and_device),
        cmocka_unit_test(arity_overloads),
    };
    return TU_RUN("options", tests);
}
