/* CPU conversion loops for copy_: one loop per (destination, source) dtype pair, dense inner
 * loops written so the compiler vectorizes them. 16-bit floats convert through float. */
#include "../iter_impl.h"
#include "copy_cpu.h"

#include <string.h>

#define RD_b8(x) (x)
#define RD_u8(x) (x)
#define RD_i32(x) (x)
#define RD_i64(x) (x)
#define RD_f16(x) ct_half_to_float(x)
#define RD_bf16(x) ct_bf16_to_float(x)
#define RD_f32(x) (x)
#define RD_f64(x) (x)
#define WR_b8(v) ((v) != 0)
#define WR_u8(v) ((uint8_t)(v))
#define WR_i32(v) ((int32_t)(v))
#define WR_i64(v) ((int64_t)(v))
#define WR_f16(v) ct_float_to_half((float)(v))
#define WR_bf16(v) ct_float_to_bf16((float)(v))
#define WR_f32(v) ((float)(v))
#define WR_f64(v) ((double)(v))

#define CONV_LOOP(DT, dn, ST, sn)                                                                 \
    static void conv_##dn##_##sn(char **data, const int64_t *strides, int64_t n, void *ctx) {       \
        (void)ctx;                                                                                  \
        if (strides[0] == sizeof(DT) && strides[1] == sizeof(ST)) {                                 \
            DT *restrict d = (DT *)data[0];                                                         \
            const ST *restrict s = (const ST *)data[1];                                             \
            for (int64_t i = 0; i < n; i++) d[i] = WR_##dn(RD_##sn(s[i]));                          \
        } else {                                                                                    \
            char *d = data[0];                                                                      \
            const char *s = data[1];                                                                \
            for (int64_t i = 0; i < n; i++, d += strides[0], s += strides[1])                       \
                *(DT *)d = WR_##dn(RD_##sn(*(const ST *)s));                                        \
        }                                                                                           \
    }

#define CONV_FROM(DE, DT, dn) CT_FOR_EACH_DTYPE_SRC(CONV_LOOP, DT, dn)
#define CT_FOR_EACH_DTYPE_SRC(M, DT, dn)                                                          \
    M(DT, dn, bool, b8) M(DT, dn, uint8_t, u8) M(DT, dn, int32_t, i32) M(DT, dn, int64_t, i64)      \
        M(DT, dn, ct_half, f16) M(DT, dn, ct_bf16, bf16) M(DT, dn, float, f32) M(DT, dn, double, f64)
CT_FOR_EACH_DTYPE(CONV_FROM)

#define CONV_ROW_ENTRY(DT, dn, ST, sn) conv_##dn##_##sn,
#define CONV_ROW(DE, DT, dn) {CT_FOR_EACH_DTYPE_SRC(CONV_ROW_ENTRY, DT, dn)},
static const ct_loop_fn conv_table[CT_NUM_DTYPES][CT_NUM_DTYPES] = {CT_FOR_EACH_DTYPE(CONV_ROW)};

/* Same dtype: move bytes. Dense runs are one memcpy. */
#define MOVE_LOOP(T, bits)                                                                         \
    static void move_##bits(char **data, const int64_t *strides, int64_t n, void *ctx) {           \
        (void)ctx;                                                                                  \
        if (strides[0] == sizeof(T) && strides[1] == sizeof(T)) {                                   \
            memcpy(data[0], data[1], (size_t)n * sizeof(T));                                        \
            return;                                                                                 \
        }                                                                                           \
        char *d = data[0];                                                                          \
        const char *s = data[1];                                                                    \
        for (int64_t i = 0; i < n; i++, d += strides[0], s += strides[1]) *(T *)d = *(const T *)s;  \
    }
MOVE_LOOP(uint8_t, 8)
MOVE_LOOP(uint16_t, 16)
MOVE_LOOP(uint32_t, 32)
MOVE_LOOP(uint64_t, 64)

ct_loop_fn ct__cpu_copy_loop(ct_dtype dst, ct_dtype src) {
    if (dst == src) {
        switch (ct_dtype_size(dst)) {
        case 1: return move_8;
        case 2: return move_16;
        case 4: return move_32;
        default: return move_64;
        }
    }
    return conv_table[dst][src];
}

void ct__cpu_copy(ct_tensor *dst, const ct_tensor *src) {
    ct_shape shape = {.ndim = dst->ndim};
    memcpy(shape.d, dst->shape, (size_t)dst->ndim * sizeof *shape.d);
    ct_iter it;
    ct_iter_init(&it, 2, (const ct_tensor *const[]){dst, src}, &shape);
    ct_iter_run(&it, ct__cpu_copy_loop(dst->dtype, src->dtype), NULL, 0);
}
