/* Scaled dot-product attention on CUDA (the flash-attention kernel) against the CPU's composed
 * result, forward and backward: head dims up to 128 (both kernel sizes, odd ones too), L != S,
 * tile-ragged lengths, causal or not, a non-contiguous query, float32 and the 16-bit types; the
 * cases the kernel leaves to the composed path (a mask, head dim > 128) give the same values. */
#include "../common/testutil.h"

#include "../../tensor/native_impl.h"

typedef struct sdpa_result {
    ct_tensor *out, *dq, *dk, *dv; /* on the CPU, float32 */
} sdpa_result;

/* attention of copies of q, k, v on device (cast to dtype), backward with gradient g; results
 * back on the CPU in float32. */
static sdpa_result run(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, const ct_tensor *mask,
                       const ct_tensor *g, ct_device device, ct_dtype dtype, bool causal) {
    ct_tensor *qd = ct_requires_grad_(ct_detach(ct_to(ct_to_dtype(q, dtype), device)), true);
    ct_tensor *kd = ct_requires_grad_(ct_detach(ct_to(ct_to_dtype(k, dtype), device)), true);
    ct_tensor *vd = ct_requires_grad_(ct_detach(ct_to(ct_to_dtype(v, dtype), device)), true);
    ct_tensor *md = mask ? ct_to(mask, device) : NULL;
    ct_tensor *out = ct_scaled_dot_product_attention(qd, kd, vd, md, .is_causal = causal);
    if (!out) fail_msg("sdpa on %s: %s", ct_device_name(device), ct_last_error());
    if (!ct_backward(out, .gradient = ct_to(ct_to_dtype(g, dtype), device)))
        fail_msg("backward on %s: %s", ct_device_name(device), ct_last_error());
    sdpa_result r = {ct_to_dtype(ct_to(out, CT_CPU), CT_F32), ct_to_dtype(ct_to(ct_grad(qd), CT_CPU), CT_F32),
                     ct_to_dtype(ct_to(ct_grad(kd), CT_CPU), CT_F32), ct_to_dtype(ct_to(ct_grad(vd), CT_CPU), CT_F32)};
    return r;
}

static void assert_same(const ct_tensor *got, const ct_tensor *want, double rtol, double atol) {
    tu_assert_values(got, ct_shape_of(want), tu_values(want), rtol, atol);
}

/* q [B, H, L, E] (stored transposed when asked), k and v [B, H, S, E]. */
static void compare(int64_t l, int64_t s, int64_t e, bool causal, ct_dtype dtype, bool with_mask, double rtol,
                    double atol) {
    uint64_t rng = (uint64_t)(l * 131 + s * 7 + e);
    ct_tensor *q = tu_random(&rng, CT_SHAPE(2, 3, l, e), CT_F32, TU_TRANSPOSED, -1, 1);
    ct_tensor *k = tu_random(&rng, CT_SHAPE(2, 3, s, e), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *v = tu_random(&rng, CT_SHAPE(2, 3, s, e), CT_F32, TU_STEPPED, -1, 1);
    ct_tensor *g = tu_random(&rng, CT_SHAPE(2, 3, l, e), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *mask = with_mask ? tu_random(&rng, CT_SHAPE(l, s), CT_F32, TU_CONTIGUOUS, -1, 0) : NULL;
    /* the CPU reference sees the inputs rounded to dtype, then computes in float32 */
    ct_tensor *qr = ct_to_dtype(ct_to_dtype(q, dtype), CT_F32), *kr = ct_to_dtype(ct_to_dtype(k, dtype), CT_F32);
    ct_tensor *vr = ct_to_dtype(ct_to_dtype(v, dtype), CT_F32), *gr = ct_to_dtype(ct_to_dtype(g, dtype), CT_F32);
    sdpa_result want = run(qr, kr, vr, mask, gr, CT_CPU, CT_F32, causal);
    sdpa_result got = run(q, k, v, mask, g, CT_CUDA(0), dtype, causal);
    assert_same(got.out, want.out, rtol, atol);
    assert_same(got.dq, want.dq, 5 * rtol, 5 * atol);
    assert_same(got.dk, want.dk, 5 * rtol, 5 * atol);
    assert_same(got.dv, want.dv, 5 * rtol, 5 * atol);
}

static void flash_f32(void **state) {
    (void)state;
    for (int causal = 0; causal < 2; causal++) {
        compare(37, 45, 64, causal, CT_F32, false, 2e-5, 2e-5);  /* ragged tiles, L < S */
        compare(70, 33, 128, causal, CT_F32, false, 2e-5, 2e-5); /* L > S, the 128 kernel */
        compare(64, 64, 80, causal, CT_F32, false, 2e-5, 2e-5);  /* an odd head dim */
        compare(5, 3, 7, causal, CT_F32, false, 2e-5, 2e-5);     /* less than one tile */
    }
}

static void flash_16_bit(void **state) {
    (void)state;
    compare(50, 61, 64, true, CT_BF16, false, 2e-2, 2e-2);
    compare(50, 61, 128, false, CT_F16, false, 5e-3, 5e-3);
}

static void composed_fallbacks(void **state) {
    (void)state;
    compare(20, 24, 16, false, CT_F32, true, 2e-5, 2e-5); /* a float mask */
    compare(9, 12, 160, true, CT_F32, false, 2e-5, 2e-5); /* head dim > 128 */
}

static void kernel_rejects_what_it_does_not_cover(void **state) {
    (void)state;
    ct_tensor *q = ct_zeros(CT_SHAPE(2, 4, 8)), *lse;
    assert_false(ct__flash_attention_supported(q, q, q));
    assert_null(ct__flash_attention(q, q, q, false, 1, &lse));
    tu_assert_error(CT_ERR_UNSUPPORTED, "on cpu");
    ct_tensor *qd = ct_zeros(CT_SHAPE(2, 4, 8), .device = CT_CUDA(0));
    ct_tensor *kd = ct_zeros(CT_SHAPE(3, 4, 8), .device = CT_CUDA(0));
    assert_null(ct__flash_attention(qd, kd, kd, false, 1, &lse));
    tu_assert_error(CT_ERR_UNSUPPORTED, "key [3, 4, 8]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flash_f32),
        cmocka_unit_test(flash_16_bit),
        cmocka_unit_test(composed_fallbacks),
        cmocka_unit_test(kernel_rejects_what_it_does_not_cover),
    };
    return TU_RUN_GPU("gpu_attention", tests);
}
