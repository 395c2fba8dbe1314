/* Fused optimizer updates on CUDA against the CPU path: the same parameters and gradients, several
 * steps of SGD (momentum, nesterov, weight decay, maximize), Adam, AdamW, amsgrad, RMSprop and
 * Adagrad on both devices, over many tensors of odd sizes (more than one launch's tensor slots, tensors cut
 * across chunks, a transposed parameter staged through a contiguous copy, an empty one). */
#include "../common/testutil.h"

#include "../../tensor/native_impl.h"

#define N_PARAMS 41 /* more than the 32 tensor slots of one launch */
#define STEPS 4

typedef ct_optimizer *(*make_fn)(ct_tensor_list params);

static ct_optimizer *sgd_momentum(ct_tensor_list p) { return ct_sgd(p, .lr = 0.1, .momentum = 0.9, .dampening = 0.1); }
static ct_optimizer *sgd_nesterov(ct_tensor_list p) {
    return ct_sgd(p, .lr = 0.05, .momentum = 0.8, .nesterov = true, .weight_decay = 0.01);
}
static ct_optimizer *sgd_plain_maximize(ct_tensor_list p) { return ct_sgd(p, .lr = 0.02, .weight_decay = 0.1, .maximize = true); }
static ct_optimizer *adam(ct_tensor_list p) { return ct_adam(p, .lr = 0.01, .weight_decay = 0.05); }
static ct_optimizer *adamw(ct_tensor_list p) { return ct_adamw(p, .lr = 0.01, .betas = {0.8, 0.99}, .weight_decay = 0.1); }
static ct_optimizer *adam_amsgrad(ct_tensor_list p) { return ct_adam(p, .lr = 0.02, .amsgrad = true, .maximize = true); }
static ct_optimizer *adamw_amsgrad(ct_tensor_list p) { return ct_adamw(p, .lr = 0.003, .amsgrad = true, .eps = 1e-6); }
static ct_optimizer *rmsprop(ct_tensor_list p) { return ct_rmsprop(p, .lr = 0.01, .weight_decay = 0.1); }
static ct_optimizer *rmsprop_centered(ct_tensor_list p) {
    return ct_rmsprop(p, .lr = 0.01, .alpha = 0.9, .centered = true, .momentum = 0.7, .maximize = true);
}
static ct_optimizer *adagrad(ct_tensor_list p) {
    return ct_adagrad(p, .lr = 0.05, .lr_decay = 0.1, .weight_decay = 0.05, .initial_accumulator_value = 0.3);
}

/* Odd sizes: 1 element up to several 64K chunks, and one empty parameter. */
static ct_shape param_shape(int i) {
    if (i == 0) return CT_SHAPE(0);
    if (i == 1) return CT_SHAPE(1);
    if (i == 2) return CT_SHAPE(3, 65537); /* cut into 4 chunks */
    if (i == 3) return CT_SHAPE(37, 29);   /* stored transposed: staged contiguous and copied back */
    return CT_SHAPE(2 * i + 1, (i * 7) % 13 + 1);
}

/* Runs STEPS steps of make() on a CPU and a CUDA copy of the same parameters and gradients (one
 * parameter gets no gradient at the first step, as PyTorch skips it) and compares. */
static void compare(make_fn make, ct_dtype dtype, double rtol, double atol) {
    uint64_t rng = 1234;
    ct_tensor *cpu[N_PARAMS], *gpu[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) {
        cpu[i] = ct_requires_grad_(tu_random(&rng, param_shape(i), dtype, i == 3 ? TU_TRANSPOSED : TU_CONTIGUOUS, -1, 1),
                                   true);
        gpu[i] = ct_requires_grad_(ct_detach(ct_to(cpu[i], CT_CUDA(0))), true);
        assert_non_null(gpu[i]);
    }
    ct_optimizer *oc = make((ct_tensor_list){N_PARAMS, cpu}), *og = make((ct_tensor_list){N_PARAMS, gpu});
    assert_non_null(oc);
    assert_non_null(og);
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < N_PARAMS; i++) {
            bool skip = s == 0 && i == 5;
            ct_tensor *g = skip ? NULL : tu_random(&rng, param_shape(i), dtype, TU_CONTIGUOUS, -2, 2);
            assert_true(ct_set_grad(cpu[i], g));
            assert_true(ct_set_grad(gpu[i], g ? ct_to(g, CT_CUDA(0)) : NULL));
        }
        if (!ct_optimizer_step(oc)) fail_msg("cpu step: %s", ct_last_error());
        if (!ct_optimizer_step(og)) fail_msg("cuda step: %s", ct_last_error());
    }
    for (int i = 0; i < N_PARAMS; i++) {
        ct_tensor *back = ct_to(gpu[i], CT_CPU);
        tu_assert_values(back, param_shape(i), tu_values(cpu[i]), rtol, atol);
    }
}

/* f32 within 1e-5 relative (the suite's standard): the device contracts a * b + c into FMAs where
 * the CPU loop rounds the product first, and four steps compound those last-bit differences. */
static void sgd_f32(void **state) {
    (void)state;
    compare(sgd_momentum, CT_F32, 1e-5, 1e-6);
    compare(sgd_nesterov, CT_F32, 1e-5, 1e-6);
    compare(sgd_plain_maximize, CT_F32, 1e-5, 1e-6);
}

static void adam_f32(void **state) {
    (void)state;
    compare(adam, CT_F32, 1e-5, 1e-6);
    compare(adamw, CT_F32, 1e-5, 1e-6);
}

static void amsgrad_f32(void **state) {
    (void)state;
    compare(adam_amsgrad, CT_F32, 1e-5, 1e-6);
    compare(adamw_amsgrad, CT_F32, 1e-5, 1e-6);
}

/* The fused RMSprop (all three state lists: more than one launch of depth 5) and Adagrad (the
 * parameter without a gradient at step 1 is one step behind, so its decayed rate differs: a
 * second fused call). */
static void rmsprop_adagrad(void **state) {
    (void)state;
    compare(rmsprop, CT_F32, 1e-5, 1e-6);
    compare(rmsprop_centered, CT_F32, 1e-5, 1e-6);
    compare(adagrad, CT_F32, 1e-5, 1e-6);
    compare(rmsprop_centered, CT_F64, 1e-12, 1e-14);
    compare(adagrad, CT_BF16, 1e-2, 1e-2);
}

static void f64_and_16_bit(void **state) {
    (void)state;
    compare(adamw, CT_F64, 1e-12, 1e-14);
    compare(sgd_nesterov, CT_F64, 1e-12, 1e-14);
    /* one rounding step apart at most where an FMA changes a rounding */
    compare(adamw, CT_BF16, 1e-2, 1e-2);
    compare(sgd_momentum, CT_F16, 2e-3, 2e-3);
}

/* A parameter larger than one launch's 320 chunks of 64K elements: the table rolls over mid-tensor. */
static void tensor_over_many_launches(void **state) {
    (void)state;
    const int64_t n = 320 * 65536 + 12345;
    ct_tensor *p = ct_full(CT_SHAPE(n), 1.0, .device = CT_CUDA(0));
    ct_tensor *g = ct_full(CT_SHAPE(n), 0.5, .device = CT_CUDA(0));
    ct_tensor *buf = ct_full(CT_SHAPE(n), 2.0, .device = CT_CUDA(0));
    ct__sgd_hparams h = {.lr = 0.1, .momentum = 0.5, .dampening = 0};
    /* buf = 0.5 * 2 + 0.5 = 1.5; p = 1 - 0.1 * 1.5 = 0.85, on every element */
    assert_true(ct__fused_sgd_((ct_tensor *[]){p}, (ct_tensor *[]){g}, (ct_tensor *[]){buf}, 1, &h));
    ct_tensor *pc = ct_to(p, CT_CPU), *bc = ct_to(buf, CT_CPU);
    const float *pv = ct_data_ptr(pc), *bv = ct_data_ptr(bc);
    for (int64_t i = 0; i < n; i++)
        if (pv[i] != 0.85f || bv[i] != 1.5f) fail_msg("element %lld: p %g buf %g", (long long)i, pv[i], bv[i]);
}

static void bad_lists(void **state) {
    (void)state;
    ct_tensor *p = ct_zeros(CT_SHAPE(4), .device = CT_CUDA(0));
    ct_tensor *g_cpu = ct_zeros(CT_SHAPE(4));
    ct_tensor *g_short = ct_zeros(CT_SHAPE(3), .device = CT_CUDA(0));
    ct__sgd_hparams h = {.lr = 0.1};
    assert_false(ct__fused_sgd_((ct_tensor *[]){p}, (ct_tensor *[]){g_cpu}, NULL, 1, &h));
    tu_assert_error(CT_ERR_DEVICE, "grads[0] is on cpu");
    assert_false(ct__fused_sgd_((ct_tensor *[]){p}, (ct_tensor *[]){g_short}, NULL, 1, &h));
    tu_assert_error(CT_ERR_SHAPE, "grads[0] has shape [3]");
    ct__adam_hparams ha = {.step = 1, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    ct_tensor *m = ct_zeros(CT_SHAPE(4), .device = CT_CUDA(0)), *vh = ct_zeros(CT_SHAPE(4), .dtype = CT_F16, .device = CT_CUDA(0));
    assert_false(ct__fused_adam_((ct_tensor *[]){p}, (ct_tensor *[]){m}, (ct_tensor *[]){m}, (ct_tensor *[]){vh}, NULL, 1, &ha));
    tu_assert_error(CT_ERR_DTYPE, "exp_avg_sqs[0] has dtype");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_f32),
        cmocka_unit_test(adam_f32),
        cmocka_unit_test(amsgrad_f32),
        cmocka_unit_test(rmsprop_adagrad),
        cmocka_unit_test(f64_and_16_bit),
        cmocka_unit_test(tensor_over_many_launches),
        cmocka_unit_test(bad_lists),
    };
    return TU_RUN_GPU("gpu_optim", tests);
}
