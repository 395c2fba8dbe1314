// Loads and stores of any ctorch dtype through a runtime dtype code (the ct_dtype value), for
// kernels that serve every dtype with one instantiation. Conversions as the CPU's (dtype_impl.h):
// floats to integers saturate and NaN gives 0, stores go through float for f16/bf16.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

enum { CT_CU_BOOL = 0, CT_CU_U8, CT_CU_I32, CT_CU_I64, CT_CU_F16, CT_CU_BF16, CT_CU_F32, CT_CU_F64 };

__device__ __forceinline__ int64_t ct_cu_f64_to_i64(double v) {
    if (v != v) return 0;
    if (v >= 9.2233720368547758e18) return INT64_MAX;
    if (v <= -9.2233720368547758e18) return INT64_MIN;
    return (int64_t)v;
}

__device__ __forceinline__ double ct_cu_load_f64(const char *p, int dt) {
    switch (dt) {
    case CT_CU_BOOL: return *(const bool *)p ? 1.0 : 0.0;
    case CT_CU_U8: return *(const uint8_t *)p;
    case CT_CU_I32: return *(const int32_t *)p;
    case CT_CU_I64: return (double)*(const int64_t *)p;
    case CT_CU_F16: return __half2float(*(const __half *)p);
    case CT_CU_BF16: return __bfloat162float(*(const __nv_bfloat16 *)p);
    case CT_CU_F32: return *(const float *)p;
    default: return *(const double *)p;
    }
}

__device__ __forceinline__ int64_t ct_cu_load_i64(const char *p, int dt) {
    switch (dt) {
    case CT_CU_BOOL: return *(const bool *)p;
    case CT_CU_U8: return *(const uint8_t *)p;
    case CT_CU_I32: return *(const int32_t *)p;
    case CT_CU_I64: return *(const int64_t *)p;
    default: return ct_cu_f64_to_i64(ct_cu_load_f64(p, dt));
    }
}

__device__ __forceinline__ void ct_cu_store_f64(char *p, int dt, double v) {
    switch (dt) {
    case CT_CU_BOOL: *(bool *)p = v != 0; break;
    case CT_CU_U8: *(uint8_t *)p = (uint8_t)ct_cu_f64_to_i64(v); break;
    case CT_CU_I32: *(int32_t *)p = (int32_t)ct_cu_f64_to_i64(v); break;
    case CT_CU_I64: *(int64_t *)p = ct_cu_f64_to_i64(v); break;
    case CT_CU_F16: *(__half *)p = __float2half((float)v); break;
    case CT_CU_BF16: *(__nv_bfloat16 *)p = __float2bfloat16((float)v); break;
    case CT_CU_F32: *(float *)p = (float)v; break;
    default: *(double *)p = v; break;
    }
}

// Integers wrap like a C cast, as PyTorch's.
__device__ __forceinline__ void ct_cu_store_i64(char *p, int dt, int64_t v) {
    switch (dt) {
    case CT_CU_BOOL: *(bool *)p = v != 0; break;
    case CT_CU_U8: *(uint8_t *)p = (uint8_t)v; break;
    case CT_CU_I32: *(int32_t *)p = (int32_t)v; break;
    case CT_CU_I64: *(int64_t *)p = v; break;
    default: ct_cu_store_f64(p, dt, (double)v); break;
    }
}

// Byte offset of flat position k (row-major over shape, innermost first in the arrays).
__device__ __forceinline__ int64_t ct_cu_offset(int64_t k, int ndim, const int64_t *shape, const int64_t *stride) {
    int64_t off = 0;
    for (int d = 0; d < ndim; d++) {
        int64_t c = k % shape[d];
        k /= shape[d];
        off += c * stride[d];
    }
    return off;
}
