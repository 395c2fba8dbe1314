/* Body of the normalization kernels for one element type, included by norm_cpu.c with
 *   T    the element type (float or double)
 *   SFX  the suffix of the generated function names (f32, f64)
 * The math and the layouts are described in ../norm_impl.h. */

#define NC_CAT_(a, b) a##_##b
#define NC_CAT(a, b) NC_CAT_(a, b)
#define FN(name) NC_CAT(name, SFX)

/* sum of p[0..n) in double, in 8 fixed lanes (so the loop vectorizes and the order is fixed). */
static double FN(sum)(const T *p, int64_t n) {
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += (double)p[i + l];
    double s = 0;
    for (; i < n; i++) s += (double)p[i];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

/* sum of (p - mean)^2 over p[0..n). */
static double FN(sqdev)(const T *p, int64_t n, double mean) {
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) {
            double d = (double)p[i + l] - mean;
            acc[l] += d * d;
        }
    double s = 0;
    for (; i < n; i++) s += ((double)p[i] - mean) * ((double)p[i] - mean);
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

/* sum of g and of g * (x - mean) over n values, g = dy * w (w NULL: 1). */
static void FN(sum_g_gx)(const T *dy, const T *w, const T *x, int64_t n, double mean, double *sg, double *sgx) {
    double a[8] = {0}, b[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) {
            double g = (double)dy[i + l] * (w ? (double)w[i + l] : 1.0);
            a[l] += g;
            b[l] += g * ((double)x[i + l] - mean);
        }
    double s = 0, t = 0;
    for (; i < n; i++) {
        double g = (double)dy[i] * (w ? (double)w[i] : 1.0);
        s += g;
        t += g * ((double)x[i] - mean);
    }
    for (int l = 0; l < 8; l++) s += a[l], t += b[l];
    *sg = s;
    *sgx = t;
}

static void FN(channel_stats)(const T *x, int64_t N, int64_t C, int64_t S, double *mean, double *var,
                              double *work) {
    int64_t planes = N * C;
    int nt = planes * S > CT_GRAIN_SIZE ? ct__num_threads() : 1;
    double count = (double)(N * S);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) work[p] = FN(sum)(x + p * S, S);
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t n = 0; n < N; n++) s += work[n * C + c];
        mean[c] = s / count;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) work[p] = FN(sqdev)(x + p * S, S, mean[p % C]);
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t n = 0; n < N; n++) s += work[n * C + c];
        var[c] = s / count;
    }
}

static void FN(channel_affine)(const T *x, T *y, int64_t N, int64_t C, int64_t S, const double *scale,
                               const double *shift) {
    int64_t planes = N * C;
    int nt = planes * S > CT_GRAIN_SIZE ? ct__num_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const T a = (T)scale[p % C], b = (T)shift[p % C];
        const T *xp = x + p * S;
        T *yp = y + p * S;
        for (int64_t s = 0; s < S; s++) yp[s] = xp[s] * a + b;
    }
}

static void FN(batch_norm_backward)(const T *x, const T *dy, T *dx, int64_t N, int64_t C, int64_t S,
                                    const double *mean, const double *rstd, const double *weight, bool training,
                                    double *sum_dy, double *sum_dy_xhat, double *work) {
    int64_t planes = N * C;
    int nt = planes * S > CT_GRAIN_SIZE ? ct__num_threads() : 1;
    double *wdy = work, *wdyx = work + planes;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) FN(sum_g_gx)(dy + p * S, NULL, x + p * S, S, mean[p % C], &wdy[p], &wdyx[p]);
    double count = (double)(N * S);
    for (int64_t c = 0; c < C; c++) {
        double s = 0, t = 0;
        for (int64_t n = 0; n < N; n++) s += wdy[n * C + c], t += wdyx[n * C + c];
        sum_dy[c] = s;
        sum_dy_xhat[c] = t * rstd[c];
    }
    if (!dx) return;
    /* dx = a dy + b x + k per channel: training expands w rstd (dy - sdy/M - (x - mean) rstd sdyx/M). */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % C;
        double w = weight ? weight[c] : 1.0, a = w * rstd[c], b = 0, k = 0;
        if (training) {
            b = -a * rstd[c] * sum_dy_xhat[c] / count;
            k = -a * sum_dy[c] / count - b * mean[c];
        }
        const T ta = (T)a, tb = (T)b, tk = (T)k;
        const T *xp = x + p * S, *dyp = dy + p * S;
        T *dxp = dx + p * S;
        for (int64_t s = 0; s < S; s++) dxp[s] = ta * dyp[s] + tb * xp[s] + tk;
    }
}

static void FN(layer_norm)(const T *x, T *y, int64_t M, int64_t K, double eps, const T *w, const T *b,
                           double *mean, double *rstd) {
    int nt = M * K > CT_GRAIN_SIZE ? ct__num_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t m = 0; m < M; m++) {
        const T *xr = x + m * K;
        T *yr = y + m * K;
        double mu = K ? FN(sum)(xr, K) / (double)K : NAN;
        double var = K ? FN(sqdev)(xr, K, mu) / (double)K : NAN;
        double r = 1.0 / sqrt(var + eps);
        mean[m] = mu;
        rstd[m] = r;
        /* y = x * r + (-mu r), then the affine map */
        const T a = (T)r, c = (T)(-mu * r);
        if (w && b)
            for (int64_t k = 0; k < K; k++) yr[k] = (xr[k] * a + c) * w[k] + b[k];
        else if (w)
            for (int64_t k = 0; k < K; k++) yr[k] = (xr[k] * a + c) * w[k];
        else if (b)
            for (int64_t k = 0; k < K; k++) yr[k] = (xr[k] * a + c) + b[k];
        else
            for (int64_t k = 0; k < K; k++) yr[k] = xr[k] * a + c;
    }
}

static void FN(layer_norm_backward)(const T *dy, const T *x, int64_t M, int64_t K, const double *mean,
                                    const double *rstd, const T *w, T *dx, double *dw, double *db, double *work) {
    int64_t chunks = M < CT__LN_CHUNKS ? M : CT__LN_CHUNKS;
    double *pw = work, *pb = work + CT__LN_CHUNKS * K;
    bool want_w = dw != NULL, want_b = db != NULL;
    int nt = M * K > CT_GRAIN_SIZE ? ct__num_threads() : 1;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t j = 0; j < chunks; j++) {
        int64_t m0 = M * j / chunks, m1 = M * (j + 1) / chunks;
        double *cw = pw + j * K, *cb = pb + j * K;
        if (want_w) memset(cw, 0, (size_t)K * sizeof *cw);
        if (want_b) memset(cb, 0, (size_t)K * sizeof *cb);
        for (int64_t m = m0; m < m1; m++) {
            const T *xr = x + m * K, *dyr = dy + m * K;
            double mu = mean[m], r = rstd[m];
            if (want_w && want_b)
                for (int64_t k = 0; k < K; k++) {
                    cw[k] += (double)dyr[k] * ((double)xr[k] - mu) * r;
                    cb[k] += (double)dyr[k];
                }
            else if (want_w)
                for (int64_t k = 0; k < K; k++) cw[k] += (double)dyr[k] * ((double)xr[k] - mu) * r;
            else if (want_b)
                for (int64_t k = 0; k < K; k++) cb[k] += (double)dyr[k];
            if (!dx) continue;
            double sg, sgx;
            FN(sum_g_gx)(dyr, w, xr, K, mu, &sg, &sgx);
            /* dx = r g - r sg/K - (x - mu) r^3 sgx/K = r g + bx x + k0 */
            const double bx = -r * r * r * sgx / (double)K, k0 = -r * sg / (double)K - bx * mu;
            const T tr = (T)r, tb = (T)bx, tk = (T)k0;
            T *dxr = dx + m * K;
            if (w)
                for (int64_t k = 0; k < K; k++) dxr[k] = tr * (dyr[k] * w[k]) + tb * xr[k] + tk;
            else
                for (int64_t k = 0; k < K; k++) dxr[k] = tr * dyr[k] + tb * xr[k] + tk;
        }
    }
    for (int64_t k = 0; k < K; k++) {
        double sw = 0, sb = 0;
        for (int64_t j = 0; j < chunks; j++) {
            if (want_w) sw += pw[j * K + k];
            if (want_b) sb += pb[j * K + k];
        }
        if (want_w) dw[k] = sw;
        if (want_b) db[k] = sb;
    }
}

#undef FN
#undef NC_CAT
#undef NC_CAT_
