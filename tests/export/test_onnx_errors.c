/* What the exporter refuses, and that it then writes no file: an op with no mapping (named with
 * its module), values computed from the input by ops the tracer does not see (argmax, a
 * comparison: found by the second trace on perturbed inputs), a path that cannot be written,
 * bad options. A constant made inside forward from no input stays fine (and its file runs). */
#include "onnx_harness.h"

#include <string.h>

#define DYN CT__ONNX_OPTS(.dynamic_batch = true)

static ct_tensor *f_cumsum(ct_module *m, ct_tensor_list in) { (void)m; return ct_relu(ct_cumsum(in.items[0], 1)); }
/* argmax over the input picks rows of a weight: the indices depend on the input */
static ct_tensor *f_argmax(ct_module *m, ct_tensor_list in) {
    ct_tensor *idx = ct_argmax(in.items[0], .dim = CT_DIMS(1));
    return ct_index_select(ct_module_parameter(m, "w"), 0, idx);
}
/* a mask from a comparison with the input, used by where */
static ct_tensor *f_compare(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    return ct_where(ct_gt(x, ct_zeros_like(x)), x, ct_mul_scalar(x, 0.1));
}
/* a mask from a comparison of constants only: the same for any input, so it may be baked in */
static ct_tensor *f_constant_mask(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    ct_tensor *mask = ct_gt(ct_cos(ct_arange(0, 6, 1)), ct_zeros(CT_SHAPE(6)));
    return ct_where(mask, x, ct_mul_scalar(x, 0.1));
}

/* export fails with status and a message containing needle, and no file appears */
static void refused(const char *file, ct_module *m, ct_tensor *x, ct_onnx_opts opts, ct_status status, const char *needle) {
    char path[600];
    snprintf(path, sizeof path, "%s", ox_path(file));
    assert_false(ct_onnx_export_opt(m, CT_TENSORS(x), path, opts));
    tu_assert_error(status, needle);
    assert_false(ox_exists(path));
}

static void test_unsupported_op(void **state) {
    (void)state;
    ct_module *net = ct_sequential(ct_linear(4, 6), ox_fn_module(f_cumsum));
    refused("cumsum.onnx", net, ct_randn(CT_SHAPE(2, 4)), DYN, CT_ERR_UNSUPPORTED,
            "ONNX export: op 'cumsum' (called from module '1') has no ONNX mapping");
}

static void test_untraced_input_dependence(void **state) {
    (void)state;
    ct_module *am = ox_fn_module(f_argmax);
    ct_register_parameter(am, "w", ct_randn(CT_SHAPE(6, 3)));
    refused("argmax.onnx", am, ct_randn(CT_SHAPE(2, 6)), DYN, CT_ERR_UNSUPPORTED,
            "a value computed by 'unknown' depends on the input but was not traced (op has no ONNX mapping); it is read by "
            "op 'index_select'");
    refused("compare.onnx", ox_fn_module(f_compare), ct_randn(CT_SHAPE(2, 6)), DYN, CT_ERR_UNSUPPORTED,
            "depends on the input but was not traced (op has no ONNX mapping); it is read by op 'where'");
    /* the same ops over constants only export, and the file is right */
    OX_CASE("constant_mask", ox_fn_module(f_constant_mask), DYN, CT_TENSORS(ct_randn(CT_SHAPE(2, 6))),
            CT_TENSORS(ct_randn(CT_SHAPE(3, 6))));
}

static void test_bad_path(void **state) {
    (void)state;
    const char *path = "/nonexistent-dir-for-ctorch/net.onnx";
    assert_false(ct_onnx_export(ct_linear(3, 2), ct_randn(CT_SHAPE(1, 3)), path));
    tu_assert_error(CT_ERR_IO, "/nonexistent-dir-for-ctorch/net.onnx");
}

static void test_bad_options(void **state) {
    (void)state;
    ct_module *lin = ct_linear(3, 2);
    ct_tensor *x = ct_randn(CT_SHAPE(1, 3));
    refused("opset12.onnx", lin, x, CT__ONNX_OPTS(.opset_version = 12), CT_ERR_ARG, "opset_version 12 is not supported (13 to 17");
    refused("opset99.onnx", lin, x, CT__ONNX_OPTS(.opset_version = 99), CT_ERR_ARG, "opset_version 99 is not supported (13 to 17");
    ct_onnx_dynamic_axis axis = {.input = 0, .axis = 2, .name = "seq"};
    refused("axis.onnx", lin, x, CT__ONNX_OPTS(.dynamic_axes = &axis, .n_dynamic_axes = 1), CT_ERR_INDEX,
            "dynamic axis 0 (input 0, axis 2) does not exist");
    assert_false(ct_onnx_export(lin, x, NULL));
    tu_assert_error(CT_ERR_NULL, "module, path and at least one input are required");
    /* layer_norm has no form before opset 17 (LayerNormalization) */
    refused("ln13.onnx", ct_layer_norm_module(CT_SHAPE(3)), x, CT__ONNX_OPTS(.opset_version = 13), CT_ERR_UNSUPPORTED,
            "layer_norm needs opset 17");
}

int main(void) {
    ct_manual_seed(3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsupported_op), cmocka_unit_test(test_untraced_input_dependence),
        cmocka_unit_test(test_bad_path), cmocka_unit_test(test_bad_options), cmocka_unit_test(ox_check_all),
    };
    return OX_RUN("onnx_errors", tests);
}
