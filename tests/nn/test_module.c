/* Modules: registration and PyTorch's dotted names, iteration (shared members once), Linear
 * against a reference and gradcheck, repr, train/eval, apply, zero_grad, to(dtype), containers,
 * a user-defined module, forward and full backward hooks, and the error paths. */
#include "../common/testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static ct_module *small_net(void) {
    return ct_sequential(ct_linear(4, 3), ct_relu_module(), ct_linear(3, 2, .bias = false));
}

static void test_sequential_names_and_counts(void **state) {
    (void)state;
    ct_module *net = small_net();
    ct_named_tensors p = ct_named_parameters(net);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.items[0].name, "0.weight");
    assert_string_equal(p.items[1].name, "0.bias");
    assert_string_equal(p.items[2].name, "2.weight");
    ct_shape w = ct_shape_of(p.items[0].tensor);
    assert_int_equal(w.ndim, 2);
    assert_int_equal(w.d[0], 3);
    assert_int_equal(w.d[1], 4);
    for (int i = 0; i < p.n; i++) assert_true(ct_requires_grad(p.items[i].tensor) && ct_is_leaf(p.items[i].tensor));
    assert_int_equal(ct_num_parameters(net), 4 * 3 + 3 + 3 * 2);
    assert_int_equal(ct_parameters(net).n, 3);
    ct_named_modules mods = ct_named_modules_of(net);
    assert_int_equal(mods.n, 4);
    assert_string_equal(mods.items[0].name, "");
    assert_string_equal(mods.items[3].name, "2");
    assert_string_equal(ct_module_type_name(mods.items[2].module), "ReLU");
    assert_int_equal(ct_module_len(net), 3);
    assert_ptr_equal(ct_module_at(net, -1), mods.items[3].module);
    assert_null(ct_module_at(net, 3));
    tu_assert_error(CT_ERR_INDEX, "index 3 is out of range for Sequential of length 3");
}

static void test_shared_members_listed_once(void **state) {
    (void)state;
    ct_module *l = ct_linear(2, 2);
    ct_module *net = ct_sequential(l, l);
    assert_int_equal(ct_parameters(net).n, 2);
    assert_int_equal(ct_modules(net).n, 2);
    assert_int_equal(ct_children(net).n, 1);
    ct_named_tensors p = ct_named_parameters(net);
    assert_string_equal(p.items[0].name, "0.weight");
}

static void test_linear_matches_reference(void **state) {
    (void)state;
    ct_module *lin = ct_linear(5, 3, .dtype = CT_F64);
    uint64_t s = 3;
    ct_tensor *x = tu_random(&s, CT_SHAPE(4, 5), CT_F64, TU_TRANSPOSED, -1, 1);
    double *xv = tu_values(x), *w = tu_values(ct_module_parameter(lin, "weight")), *b = tu_values(ct_module_parameter(lin, "bias"));
    double want[12];
    for (int i = 0; i < 4; i++)
        for (int o = 0; o < 3; o++) {
            double acc = b[o];
            for (int k = 0; k < 5; k++) acc += xv[i * 5 + k] * w[o * 5 + k];
            want[i * 3 + o] = acc;
        }
    tu_assert_values(ct_forward(lin, x), CT_SHAPE(4, 3), want, 1e-12, 1e-12);
    /* batched input goes through matmul + add */
    ct_tensor *x3 = ct_unsqueeze(x, 0);
    tu_assert_values(ct_forward(lin, x3), CT_SHAPE(1, 4, 3), want, 1e-12, 1e-12);
    double bound = 1 / sqrt(5.0);
    for (int i = 0; i < 15; i++) assert_true(fabs(w[i]) <= bound);
}

/* Linear's forward with the leaves under test in place of its parameters. */
static ct_tensor *linear_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_addmm(in[2], in[0], ct_t(in[1]));
}

static void test_linear_gradients(void **state) {
    (void)state;
    static const tu_grad_case c = {"linear", linear_fn, NULL, 3, {CT_SHAPE(4, 3), CT_SHAPE(2, 3), CT_SHAPE(2)}, 0, 0};
    tu_gradcheck(&c);
    ct_module *lin = ct_linear(3, 2, .dtype = CT_F64);
    /* and through the module: d(sum(y))/dW = column sums of x, d/db = batch size */
    ct_tensor *x = ct_ones(CT_SHAPE(4, 3), .dtype = CT_F64);
    assert_true(ct_backward(ct_sum(ct_forward(lin, x))));
    tu_assert_values(ct_grad(ct_module_parameter(lin, "weight")), CT_SHAPE(2, 3), (double[]){4, 4, 4, 4, 4, 4}, 0, 0);
    tu_assert_values(ct_grad(ct_module_parameter(lin, "bias")), CT_SHAPE(2), (double[]){4, 4}, 0, 0);
    ct_module_zero_grad(lin);
    assert_null(ct_grad(ct_module_parameter(lin, "weight")));
    assert_true(ct_ok());
}

static void test_repr(void **state) {
    (void)state;
    ct_module *net = ct_sequential(small_net(), ct_gelu_module(.approximate = CT_GELU_TANH), ct_softmax_module(1),
                                   ct_flatten_module(), ct_leaky_relu_module(0.2));
    assert_string_equal(ct_module_str(net), "Sequential(\n"
                                            "  (0): Sequential(\n"
                                            "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
                                            "    (1): ReLU()\n"
                                            "    (2): Linear(in_features=3, out_features=2, bias=False)\n"
                                            "  )\n"
                                            "  (1): GELU(approximate='tanh')\n"
                                            "  (2): Softmax(dim=1)\n"
                                            "  (3): Flatten(start_dim=1, end_dim=-1)\n"
                                            "  (4): LeakyReLU(negative_slope=0.2)\n"
                                            ")");
}

static void count_module(ct_module *m, void *user) {
    char *order = user;
    strcat(order, ct_module_type_name(m));
    strcat(order, ",");
}

static void test_train_eval_apply(void **state) {
    (void)state;
    ct_module *net = small_net();
    assert_true(ct_module_is_training(net));
    ct_module_eval(net);
    for (int i = 0; i < ct_module_len(net); i++) assert_false(ct_module_is_training(ct_module_at(net, i)));
    ct_module_train(net, true);
    assert_true(ct_module_is_training(ct_module_at(net, 2)));
    char order[128] = "";
    ct_module_apply(net, count_module, order);
    assert_string_equal(order, "Linear,ReLU,Linear,Sequential,"); /* children first */
}

static void test_to_dtype_keeps_identity(void **state) {
    (void)state;
    ct_module *net = small_net();
    ct_tensor *w = ct_module_parameter(ct_module_at(net, 0), "weight");
    double *before = tu_values(w);
    assert_true(ct_backward(ct_sum(ct_forward(net, ct_ones(CT_SHAPE(2, 4))))));
    assert_ptr_equal(ct_module_to_dtype(net, CT_F64), net);
    assert_int_equal(ct_dtype_of(w), CT_F64); /* the same tensor object, now float64 */
    assert_int_equal(ct_dtype_of(ct_grad(w)), CT_F64);
    assert_true(ct_requires_grad(w) && ct_is_leaf(w));
    tu_assert_values(w, CT_SHAPE(3, 4), before, 1e-7, 0);
    assert_int_equal(ct_dtype_of(ct_forward(net, ct_ones(CT_SHAPE(2, 4), .dtype = CT_F64))), CT_F64);
    assert_null(ct_module_to_dtype(net, CT_I64));
    tu_assert_error(CT_ERR_DTYPE, "nn.Module.to only accepts floating point dtypes");
    assert_ptr_equal(ct_module_to(net, CT_CPU), net);
}

/* ---- a user-defined module (the example in ctorch/nn.h) ---- */

typedef struct mlp_state {
    ct_module *fc1, *fc2;
} mlp_state;

static ct_tensor *mlp_forward(ct_module *m, ct_tensor *x) {
    mlp_state *s = ct_module_state(m);
    return ct_forward(s->fc2, ct_relu(ct_forward(s->fc1, x)));
}

static void mlp_repr(const ct_module *m, char *buf, size_t size) {
    (void)m;
    snprintf(buf, size, "hidden=8");
}

static const ct_module_vtable mlp_vtable = {.name = "MLP", .forward = mlp_forward, .extra_repr = mlp_repr};

static ct_module *mlp_new(void) {
    ct_module *m = ct_module_new(&mlp_vtable, sizeof(mlp_state));
    mlp_state *s = ct_module_state(m);
    s->fc1 = ct_register_module(m, "fc1", ct_linear(4, 8));
    s->fc2 = ct_register_module(m, "fc2", ct_linear(8, 2));
    ct_register_buffer(m, "steps", ct_zeros(CT_SHAPE(), .dtype = CT_I64), true);
    ct_register_buffer(m, "scratch", ct_zeros(CT_SHAPE(3)), false);
    return ct_ok() ? m : NULL;
}

static void test_custom_module(void **state) {
    (void)state;
    ct_module *m = mlp_new();
    assert_non_null(m);
    ct_tensor *y = ct_forward(m, ct_ones(CT_SHAPE(5, 4)));
    assert_int_equal(ct_size(y, 1), 2);
    ct_named_tensors sd = ct_state_dict(m);
    /* PyTorch's order: a module's own parameters, its own persistent buffers, then children's */
    const char *torch_order[] = {"steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    assert_int_equal(sd.n, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(sd.items[i].name, torch_order[i]);
    assert_int_equal(ct_named_buffers(m).n, 2);
    assert_non_null(ct_module_buffer(m, "scratch"));
    assert_string_equal(ct_module_str(m), "MLP(\n  hidden=8\n  (fc1): Linear(in_features=4, out_features=8, bias=True)\n"
                                          "  (fc2): Linear(in_features=8, out_features=2, bias=True)\n)");
}

static void test_module_list_and_dict(void **state) {
    (void)state;
    ct_module *list = ct_module_list_of(CT_MODULES(ct_linear(2, 2), ct_tanh_module()));
    ct_module_list_append(list, ct_sigmoid_module());
    assert_int_equal(ct_module_len(list), 3);
    assert_string_equal(ct_module_type_name(ct_module_at(list, 2)), "Sigmoid");
    assert_null(ct_forward(list, ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_UNSUPPORTED, "Module [ModuleList] is missing the required \"forward\" function");
    ct_module *dict = ct_module_dict();
    ct_module_dict_set(dict, "encoder", ct_linear(2, 3));
    ct_module_dict_set(dict, "head", ct_linear(3, 1));
    ct_named_tensors p = ct_named_parameters(dict);
    assert_string_equal(p.items[2].name, "head.weight");
    assert_non_null(ct_module_child(dict, "encoder"));
    assert_null(ct_module_child(dict, "decoder"));
    assert_true(ct_ok());
}

static void test_registration_errors(void **state) {
    (void)state;
    ct_module *m = ct_module_list_of(CT_MODULES(ct_identity()));
    assert_null(ct_register_module(m, "0", ct_identity()));
    tu_assert_error(CT_ERR_ARG, "attribute '0' already exists");
    assert_null(ct_register_parameter(m, "a.b", ct_ones(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_ARG, "name can't be empty or contain \".\"");
    assert_null(ct_register_parameter(m, "idx", ct_arange(0, 3, 1)));
    tu_assert_error(CT_ERR_DTYPE, "only Tensors of floating point dtype can require gradients");
    assert_null(ct_forward(NULL, ct_ones(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_NULL, "forward: module is NULL");
    assert_null(ct_linear(-1, 2));
    tu_assert_error(CT_ERR_ARG, "Linear: in_features and out_features must be non-negative");
    /* bias=false registers no parameter named bias */
    ct_module *l = ct_linear(2, 2, .bias = false);
    assert_null(ct_module_parameter(l, "bias"));
    assert_int_equal(ct_parameters(l).n, 1);
    assert_true(ct_ok());
}

/* ---- hooks ---- */

typedef struct hook_log {
    char order[128];
    double grad_out_sum, grad_in_sum;
    bool grad_in_null;
} hook_log;

static ct_tensor_list log_pre(ct_module *m, ct_tensor_list inputs, void *user) {
    (void)m, (void)inputs;
    strcat(((hook_log *)user)->order, "pre,");
    return CT_NO_TENSORS;
}

static ct_tensor_list add_one_to_output(ct_module *m, ct_tensor_list inputs, ct_tensor_list outputs, void *user) {
    (void)m, (void)inputs;
    strcat(((hook_log *)user)->order, "fwd,");
    return ct_tensor_list_copy(CT_TENSORS(ct_add_scalar(outputs.items[0], 1)));
}

static ct_tensor_list record_backward(ct_module *m, ct_tensor_list gin, ct_tensor_list gout, void *user) {
    (void)m;
    hook_log *log = user;
    strcat(log->order, "bwd,");
    log->grad_out_sum = ct_item(ct_sum(gout.items[0]));
    log->grad_in_null = gin.items[0] == NULL;
    if (gin.items[0]) log->grad_in_sum = ct_item(ct_sum(gin.items[0]));
    return CT_NO_TENSORS;
}

static ct_tensor_list zero_grad_input(ct_module *m, ct_tensor_list gin, ct_tensor_list gout, void *user) {
    (void)m, (void)gout, (void)user;
    return ct_tensor_list_copy(CT_TENSORS(ct_zeros_like(gin.items[0])));
}

static void test_forward_hooks(void **state) {
    (void)state;
    ct_module *relu = ct_relu_module();
    hook_log log = {0};
    ct_hook_handle *pre = ct_register_forward_pre_hook(relu, log_pre, &log);
    ct_hook_handle *fwd = ct_register_forward_hook(relu, add_one_to_output, &log);
    ct_tensor *y = ct_forward(relu, ct_from_data((float[]){-1, 2}, CT_SHAPE(2), CT_F32));
    tu_assert_values(y, CT_SHAPE(2), (double[]){1, 3}, 0, 0);
    assert_string_equal(log.order, "pre,fwd,");
    ct_hook_remove(pre);
    ct_hook_remove(fwd);
    y = ct_forward(relu, ct_from_data((float[]){-1, 2}, CT_SHAPE(2), CT_F32));
    tu_assert_values(y, CT_SHAPE(2), (double[]){0, 2}, 0, 0);
    assert_string_equal(log.order, "pre,fwd,");
}

static void test_full_backward_hooks(void **state) {
    (void)state;
    ct_module *lin = ct_linear(3, 2);
    ct_module *act = ct_tanh_module();
    ct_module *net = ct_sequential(lin, act);
    hook_log first = {0}, second = {0};
    ct_register_full_backward_hook(lin, record_backward, &first);  /* its input is data: no grad_input */
    ct_register_full_backward_hook(act, record_backward, &second);
    ct_tensor *x = ct_ones(CT_SHAPE(4, 3));
    ct_tensor *y = ct_forward(net, x);
    assert_true(ct_backward(ct_sum(ct_mul_scalar(y, 2))));
    assert_string_equal(second.order, "bwd,");
    assert_string_equal(first.order, "bwd,");
    assert_true(second.grad_out_sum == 16); /* d(2 sum y)/dy = 2 everywhere, 8 elements */
    assert_false(second.grad_in_null);
    assert_true(first.grad_in_null);
    assert_true(fabs(first.grad_out_sum - second.grad_in_sum) < 1e-5); /* tanh's grad_input is lin's grad_output */
    /* replacing grad_input cuts the gradient to everything before the module */
    ct_module_zero_grad(net);
    ct_register_full_backward_hook(act, zero_grad_input, NULL);
    assert_true(ct_backward(ct_sum(ct_forward(net, x))));
    tu_assert_values(ct_grad(ct_module_parameter(lin, "bias")), CT_SHAPE(2), (double[]){0, 0}, 0, 0);
}

static void test_model_summary(void **state) {
    (void)state;
    ct_module *net = small_net();
    FILE *f = tmpfile();
    ct_model_stats st = ct_model_summary(net, ct_ones(CT_SHAPE(2, 4)), .out = f);
    /* Linear(4, 3): 6 outputs x 2*4; Linear(3, 2, no bias): 4 outputs x (2*3 - 1); ReLU: 0 */
    assert_int_equal(st.flops, 6 * 8 + 4 * 5);
    assert_int_equal(st.params, 4 * 3 + 3 + 3 * 2);
    assert_int_equal(st.activation_bytes, (6 + 6 + 4) * 4);
    char text[2048] = "";
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    assert_non_null(strstr(text, "Linear           [2, 2]"));
    assert_non_null(strstr(text, "total: 21 parameters, 68 FLOPs per forward, 64B of activations"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_names_and_counts),
        cmocka_unit_test(test_shared_members_listed_once),
        cmocka_unit_test(test_linear_matches_reference),
        cmocka_unit_test(test_linear_gradients),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_train_eval_apply),
        cmocka_unit_test(test_to_dtype_keeps_identity),
        cmocka_unit_test(test_custom_module),
        cmocka_unit_test(test_module_list_and_dict),
        cmocka_unit_test(test_registration_errors),
        cmocka_unit_test(test_forward_hooks),
        cmocka_unit_test(test_full_backward_hooks),
        cmocka_unit_test(test_model_summary),
    };
    return TU_RUN("module", tests);
}
