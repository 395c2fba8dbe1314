// Flash attention (FlashAttention-2's scheme, written plainly): the [L, S] score matrix is never
// stored. Forward: a block owns TILE query rows (Q in shared memory), walks the K/V tiles, and
// keeps per row the running max m, the running sum l of exp(s - m) and the unnormalized output,
// rescaled by exp(m_old - m_new) whenever the max grows (online softmax); it stores
// o = acc / l and lse = m + log l. Backward: a block owns TILE key rows (K, V in shared memory,
// dK and dV in registers), walks the query tiles, recomputes P = exp(s - lse), and with
// delta_i = sum_d dO_i O_i (= sum_j P_ij dP_ij):
//     dV += P^T dO,   dP = dO V^T,   dS = P (dP - delta),   dK += scale dS^T Q,   dQ += scale dS K
// dQ gathers over key tiles from many blocks, so it accumulates in a float32 buffer with
// atomicAdd and is converted at the end. All math in float32; 16-bit inputs convert on load.
//
// Threads: NT = 128 per block, 4 per tile row (r = t / 4); lane c4 = t % 4 of a row takes
// columns c4, c4 + 4, ... of the scores and head dims c4, c4 + 4, ... of the outputs. The 4
// threads of a row are adjacent lanes of one warp, so row reductions are two xor shuffles.
// Shared rows are padded by one float so the 8 rows a warp touches fall in different banks.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#include "attention_cuda.h"

namespace {

constexpr int TILE = CT__FA_TILE;  // query rows and key rows per tile
constexpr int NT = 128;            // threads per block: 4 per tile row
constexpr int PLD = TILE + 1;      // row stride of the score tiles

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// rows [row0, row0 + TILE) of a [rows, e] matrix into a [TILE][DMAX + 1] float tile, zeros past
// the matrix's end and past e.
template <typename T, int DMAX>
__device__ void load_tile(float *tile, const T *m, int64_t row0, int64_t rows, int e) {
    for (int idx = threadIdx.x; idx < TILE * DMAX; idx += NT) {
        const int i = idx / DMAX, d = idx % DMAX;
        tile[i * (DMAX + 1) + d] = row0 + i < rows && d < e ? to_f(m[(row0 + i) * e + d]) : 0.f;
    }
}

template <int DMAX> __device__ __forceinline__ float dot_rows(const float *a, const float *b, int e) {
    float s = 0.f;
    for (int d = 0; d < e; d++) s += a[d] * b[d];
    return s;
}

__device__ __forceinline__ float row_max4(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float row_sum4(float x) {
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// grid: x = batch*head, y = query tile
template <typename T, int DMAX>
__global__ void __launch_bounds__(NT) flash_fwd(ct__fa_shape sh, const T *__restrict__ q, const T *__restrict__ k,
                                                const T *__restrict__ v, T *__restrict__ o, float *__restrict__ lse) {
    constexpr int LD = DMAX + 1;
    extern __shared__ float smem[];
    float *Qs = smem, *Ks = Qs + TILE * LD, *Vs = Ks + TILE * LD, *Ps = Vs + TILE * LD;
    const int64_t bh = blockIdx.x, q0 = (int64_t)blockIdx.y * TILE;
    const int t = threadIdx.x, r = t / 4, c4 = t % 4;
    const int64_t qi = q0 + r;
    const T *qb = q + bh * sh.l * sh.e, *kb = k + bh * sh.s * sh.e, *vb = v + bh * sh.s * sh.e;
    load_tile<T, DMAX>(Qs, qb, q0, sh.l, sh.e);

    float acc[DMAX / 4];
#pragma unroll
    for (int dd = 0; dd < DMAX / 4; dd++) acc[dd] = 0.f;
    float m = -INFINITY, l = 0.f;
    // causal: keys past the tile's last row are masked for every row of it
    const int64_t kv_end = sh.causal ? min(sh.s, q0 + TILE) : sh.s;
    for (int64_t k0 = 0; k0 < kv_end; k0 += TILE) {
        __syncthreads();  // the previous tile's reads are done
        load_tile<T, DMAX>(Ks, kb, k0, sh.s, sh.e);
        load_tile<T, DMAX>(Vs, vb, k0, sh.s, sh.e);
        __syncthreads();
        float s[TILE / 4], mx = -INFINITY;
#pragma unroll
        for (int kk = 0; kk < TILE / 4; kk++) {
            const int j = c4 + 4 * kk;
            const int64_t kj = k0 + j;
            float x = dot_rows<DMAX>(Qs + r * LD, Ks + j * LD, sh.e) * sh.scale;
            if (kj >= sh.s || (sh.causal && kj > qi)) x = -INFINITY;
            s[kk] = x;
            mx = fmaxf(mx, x);
        }
        const float m_new = fmaxf(m, row_max4(mx));
        // a row with nothing unmasked yet keeps m = -inf, l = 0 and adds nothing
        const float alpha = m_new == -INFINITY ? 1.f : expf(m - m_new);
        float psum = 0.f;
#pragma unroll
        for (int kk = 0; kk < TILE / 4; kk++) {
            const float p = m_new == -INFINITY ? 0.f : expf(s[kk] - m_new);
            Ps[r * PLD + c4 + 4 * kk] = p;
            psum += p;
        }
        l = l * alpha + row_sum4(psum);
        m = m_new;
        __syncwarp();  // the row's P, written by its 4 lanes, is read by all of them
#pragma unroll
        for (int dd = 0; dd < DMAX / 4; dd++) {
            const int d = c4 + 4 * dd;
            if (d >= sh.e) continue;
            float a = acc[dd] * alpha;
            for (int j = 0; j < TILE; j++) a += Ps[r * PLD + j] * Vs[j * LD + d];
            acc[dd] = a;
        }
    }
    if (qi >= sh.l) return;
    const float inv = 1.f / l;  // l > 0: every row has key 0 unmasked, and S >= 1
    T *ob = o + (bh * sh.l + qi) * sh.e;
#pragma unroll
    for (int dd = 0; dd < DMAX / 4; dd++) {
        const int d = c4 + 4 * dd;
        if (d < sh.e) ob[d] = from_f<T>(acc[dd] * inv);
    }
    if (c4 == 0) lse[bh * sh.l + qi] = m + logf(l);
}

// delta[row] = sum_d dout[row, d] o[row, d], one thread per row
template <typename T>
__global__ void flash_delta(int64_t rows, int e, const T *__restrict__ o, const T *__restrict__ dout,
                            float *__restrict__ delta) {
    for (int64_t row = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; row < rows; row += (int64_t)gridDim.x * blockDim.x) {
        float s = 0.f;
        for (int d = 0; d < e; d++) s += to_f(dout[row * e + d]) * to_f(o[row * e + d]);
        delta[row] = s;
    }
}

// grid: x = batch*head, y = key tile
template <typename T, int DMAX>
__global__ void __launch_bounds__(NT) flash_bwd(ct__fa_shape sh, const T *__restrict__ q, const T *__restrict__ k,
                                                const T *__restrict__ v, const T *__restrict__ dout,
                                                const float *__restrict__ lse, const float *__restrict__ delta,
                                                float *__restrict__ dq_acc, T *__restrict__ dk, T *__restrict__ dv) {
    constexpr int LD = DMAX + 1;
    extern __shared__ float smem[];
    float *Ks = smem, *Vs = Ks + TILE * LD, *Qs = Vs + TILE * LD, *dOs = Qs + TILE * LD;
    float *Ps = dOs + TILE * LD, *dSs = Ps + TILE * PLD;
    const int64_t bh = blockIdx.x, k0 = (int64_t)blockIdx.y * TILE;
    const int t = threadIdx.x, r = t / 4, c4 = t % 4;
    const int64_t rows_q = bh * sh.l, rows_k = bh * sh.s;
    load_tile<T, DMAX>(Ks, k + rows_k * sh.e, k0, sh.s, sh.e);
    load_tile<T, DMAX>(Vs, v + rows_k * sh.e, k0, sh.s, sh.e);

    float dk_acc[DMAX / 4], dv_acc[DMAX / 4];
#pragma unroll
    for (int dd = 0; dd < DMAX / 4; dd++) dk_acc[dd] = dv_acc[dd] = 0.f;
    // causal: query rows before k0 see none of this tile's keys
    for (int64_t q0 = sh.causal ? k0 / TILE * TILE : 0; q0 < sh.l; q0 += TILE) {
        __syncthreads();  // the previous tile's reads are done
        load_tile<T, DMAX>(Qs, q + rows_q * sh.e, q0, sh.l, sh.e);
        load_tile<T, DMAX>(dOs, dout + rows_q * sh.e, q0, sh.l, sh.e);
        __syncthreads();
        // this thread: query row r of the tile, key columns c4 + 4 kk
        const int64_t qi = q0 + r;
        const float lse_i = qi < sh.l ? lse[rows_q + qi] : 0.f, delta_i = qi < sh.l ? delta[rows_q + qi] : 0.f;
#pragma unroll
        for (int kk = 0; kk < TILE / 4; kk++) {
            const int j = c4 + 4 * kk;
            const int64_t kj = k0 + j;
            float p = 0.f, ds = 0.f;
            if (qi < sh.l && kj < sh.s && !(sh.causal && kj > qi)) {
                p = expf(dot_rows<DMAX>(Qs + r * LD, Ks + j * LD, sh.e) * sh.scale - lse_i);
                ds = p * (dot_rows<DMAX>(dOs + r * LD, Vs + j * LD, sh.e) - delta_i);
            }
            Ps[r * PLD + j] = p;
            dSs[r * PLD + j] = ds;
        }
        __syncthreads();
        // key row r of the tile: dV += P^T dO, dK += dS^T Q (scaled at the end)
#pragma unroll
        for (int dd = 0; dd < DMAX / 4; dd++) {
            const int d = c4 + 4 * dd;
            if (d >= sh.e) continue;
            float a = 0.f, b = 0.f;
            for (int i = 0; i < TILE; i++) {
                a += Ps[i * PLD + r] * dOs[i * LD + d];
                b += dSs[i * PLD + r] * Qs[i * LD + d];
            }
            dv_acc[dd] += a;
            dk_acc[dd] += b;
        }
        // query row r of the tile: dQ += scale dS K
        if (qi < sh.l) {
#pragma unroll
            for (int dd = 0; dd < DMAX / 4; dd++) {
                const int d = c4 + 4 * dd;
                if (d >= sh.e) continue;
                float a = 0.f;
                for (int j = 0; j < TILE; j++) a += dSs[r * PLD + j] * Ks[j * LD + d];
                atomicAdd(dq_acc + (rows_q + qi) * sh.e + d, a * sh.scale);
            }
        }
    }
    const int64_t kj = k0 + r;
    if (kj >= sh.s) return;
#pragma unroll
    for (int dd = 0; dd < DMAX / 4; dd++) {
        const int d = c4 + 4 * dd;
        if (d >= sh.e) continue;
        dk[(rows_k + kj) * sh.e + d] = from_f<T>(dk_acc[dd] * sh.scale);
        dv[(rows_k + kj) * sh.e + d] = from_f<T>(dv_acc[dd]);
    }
}

template <typename T>
__global__ void to_dtype(int64_t n, const float *__restrict__ src, T *__restrict__ dst) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = from_f<T>(src[i]);
}

unsigned grid_1d(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 65535 * 8 ? b : 65535 * 8);  // grid-stride loops cover the rest
}

template <typename T, int DMAX> cudaError_t fwd(ct__fa_shape sh, const void *q, const void *k, const void *v, void *o,
                                                float *lse, cudaStream_t st) {
    const size_t smem = (3 * TILE * (DMAX + 1) + TILE * PLD) * sizeof(float);
    cudaError_t e = cudaFuncSetAttribute(flash_fwd<T, DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    dim3 grid((unsigned)sh.bh, (unsigned)((sh.l + TILE - 1) / TILE));
    flash_fwd<T, DMAX><<<grid, NT, smem, st>>>(sh, (const T *)q, (const T *)k, (const T *)v, (T *)o, lse);
    return cudaGetLastError();
}

template <typename T, int DMAX>
cudaError_t bwd(ct__fa_shape sh, const void *q, const void *k, const void *v, const void *o, const void *dout,
                const float *lse, float *delta, float *dq_acc, void *dq, void *dk, void *dv, cudaStream_t st) {
    const int64_t rows = sh.bh * sh.l, nq = rows * sh.e;
    cudaError_t e = cudaMemsetAsync(dq_acc, 0, (size_t)nq * sizeof(float), st);
    if (e != cudaSuccess) return e;
    flash_delta<T><<<grid_1d(rows, 256), 256, 0, st>>>(rows, sh.e, (const T *)o, (const T *)dout, delta);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    const size_t smem = (4 * TILE * (DMAX + 1) + 2 * TILE * PLD) * sizeof(float);
    e = cudaFuncSetAttribute(flash_bwd<T, DMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    dim3 grid((unsigned)sh.bh, (unsigned)((sh.s + TILE - 1) / TILE));
    flash_bwd<T, DMAX><<<grid, NT, smem, st>>>(sh, (const T *)q, (const T *)k, (const T *)v, (const T *)dout, lse,
                                               delta, dq_acc, (T *)dk, (T *)dv);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    to_dtype<T><<<grid_1d(nq, 256), 256, 0, st>>>(nq, dq_acc, (T *)dq);
    return cudaGetLastError();
}

template <typename T> cudaError_t fwd_e(ct__fa_shape sh, const void *q, const void *k, const void *v, void *o,
                                        float *lse, cudaStream_t st) {
    return sh.e <= 64 ? fwd<T, 64>(sh, q, k, v, o, lse, st) : fwd<T, 128>(sh, q, k, v, o, lse, st);
}
template <typename T>
cudaError_t bwd_e(ct__fa_shape sh, const void *q, const void *k, const void *v, const void *o, const void *dout,
                  const float *lse, float *delta, float *dq_acc, void *dq, void *dk, void *dv, cudaStream_t st) {
    return sh.e <= 64 ? bwd<T, 64>(sh, q, k, v, o, dout, lse, delta, dq_acc, dq, dk, dv, st)
                      : bwd<T, 128>(sh, q, k, v, o, dout, lse, delta, dq_acc, dq, dk, dv, st);
}

}  // namespace

extern "C" cudaError_t ct__cuda_flash_fwd(ct__fa_dtype dtype, ct__fa_shape sh, const void *q, const void *k,
                                          const void *v, void *o, float *lse, cudaStream_t stream) {
    if (sh.bh == 0 || sh.l == 0) return cudaSuccess;
    switch (dtype) {
    case CT__FA_F32: return fwd_e<float>(sh, q, k, v, o, lse, stream);
    case CT__FA_F16: return fwd_e<__half>(sh, q, k, v, o, lse, stream);
    case CT__FA_BF16: return fwd_e<__nv_bfloat16>(sh, q, k, v, o, lse, stream);
    }
    return cudaErrorInvalidValue;
}

extern "C" cudaError_t ct__cuda_flash_bwd(ct__fa_dtype dtype, ct__fa_shape sh, const void *q, const void *k,
                                          const void *v, const void *o, const void *dout, const float *lse,
                                          float *delta, float *dq_acc, void *dq, void *dk, void *dv,
                                          cudaStream_t stream) {
    if (sh.bh == 0 || sh.l == 0 || sh.s == 0) return cudaSuccess;
    switch (dtype) {
    case CT__FA_F32: return bwd_e<float>(sh, q, k, v, o, dout, lse, delta, dq_acc, dq, dk, dv, stream);
    case CT__FA_F16: return bwd_e<__half>(sh, q, k, v, o, dout, lse, delta, dq_acc, dq, dk, dv, stream);
    case CT__FA_BF16: return bwd_e<__nv_bfloat16>(sh, q, k, v, o, dout, lse, delta, dq_acc, dq, dk, dv, stream);
    }
    return cudaErrorInvalidValue;
}
