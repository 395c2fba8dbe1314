/* The models of the examples through the exporter: the MLP of examples/fashion_mlp.c (a
 * user-defined module) and the CNN of examples/fashion_cnn.c (a Sequential), built the same way
 * here; onnxruntime at batch sizes 1 and 7 against ctorch; parameters keep their dotted names
 * (Linear's weight is read by Gemm's transB, not stored as a transposed copy). */
#include "onnx_harness.h"

#include <stdlib.h>
#include <string.h>

#define DYN CT__ONNX_OPTS(.dynamic_batch = true)

/* ---- examples/fashion_mlp.c's model ---- */
typedef struct mlp_state { ct_module *fc1, *fc2, *fc3; } mlp_state;
static ct_tensor *mlp_forward(ct_module *m, ct_tensor *x) {
    mlp_state *s = ct_module_state(m);
    x = ct_flatten(x, 1);
    x = ct_relu(ct_forward(s->fc1, x));
    x = ct_relu(ct_forward(s->fc2, x));
    return ct_forward(s->fc3, x);
}
static const ct_module_vtable mlp_vtable = {.name = "MLP", .forward = mlp_forward};
static ct_module *mlp_new(void) {
    ct_module *m = ct_module_new(&mlp_vtable, sizeof(mlp_state));
    mlp_state *s = ct_module_state(m);
    s->fc1 = ct_register_module(m, "fc1", ct_linear(784, 256));
    s->fc2 = ct_register_module(m, "fc2", ct_linear(256, 128));
    s->fc3 = ct_register_module(m, "fc3", ct_linear(128, 10));
    return m;
}

/* ---- examples/fashion_cnn.c's model ---- */
static ct_module *cnn_new(void) {
    return ct_sequential(
        ct_conv2d_module(1, 32, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_conv2d_module(32, 64, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_flatten_module(), ct_linear(3136, 128), ct_relu_module(), ct_linear(128, 10));
}

static ct_tensor *images(int64_t n) { return ct_rand(CT_SHAPE(n, 1, 28, 28)); }

static void test_mlp(void **state) {
    (void)state;
    OX_CASE("fashion_mlp", mlp_new(), DYN, CT_TENSORS(images(1)), CT_TENSORS(images(7)));
    char *names = ox_initializer_names(ox_path("fashion_mlp.onnx"));
    /* const_0: the flatten's target shape */
    assert_string_equal(names, "const_0 fc1.bias fc1.weight fc2.bias fc2.weight fc3.bias fc3.weight\n");
    free(names);
}

static void test_cnn(void **state) {
    (void)state;
    OX_CASE("fashion_cnn", cnn_new(), DYN, CT_TENSORS(images(1)), CT_TENSORS(images(7)));
    char *names = ox_initializer_names(ox_path("fashion_cnn.onnx"));
    /* the parameters under their names; only the flatten's shape besides them */
    for (const char *const *p = (const char *const[]){"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias",
                                                       "9.weight", "9.bias", NULL};
         *p; p++) {
        if (!strstr(names, *p)) fail_msg("%s is not an initializer of the CNN's file: %s", *p, names);
    }
    assert_null(strstr(names, " t_")); /* no folded transpose of a weight */
    free(names);
}

int main(void) {
    ct_manual_seed(11);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mlp), cmocka_unit_test(test_cnn), cmocka_unit_test(ox_check_all)};
    return OX_RUN("onnx_models", tests);
}
