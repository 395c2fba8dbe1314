/* CPU kernels of the fused cross-entropy (cross_entropy_impl.h): rows in parallel, each in
 * double (max-shifted sum of exp), whatever the dtype. */
#include "../cross_entropy_impl.h"
#include "../iter_impl.h"

#include <math.h>

static double at(const ct__xent_args *a, int64_t r, int64_t c) {
    int64_t n = r / a->D, d = r % a->D;
    size_t es = ct_dtype_size(a->dtype);
    return ct__load_f64((const char *)a->logits + (size_t)((n * a->C + c) * a->D + d) * es, a->dtype);
}

static double lse_at(const ct__xent_args *a, int64_t r) {
    return a->dtype == CT_F64 ? ((const double *)a->lse)[r] : ((const float *)a->lse)[r];
}

static bool cpu_forward(const ct__xent_args *a) {
    int64_t rows = a->N * a->D;
    size_t es = ct_dtype_size(a->dtype);
#pragma omp parallel for num_threads(rows * a->C > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0, sum_x = 0;
        for (int64_t c = 0; c < a->C; c++) {
            double x = at(a, r, c);
            m = (x > m || x != x) ? x : m;
        }
        for (int64_t c = 0; c < a->C; c++) {
            double x = at(a, r, c);
            s += exp(x - m);
            sum_x += x;
        }
        double lse = m + log(s);
        if (a->dtype == CT_F64) ((double *)a->lse)[r] = lse;
        else ((float *)a->lse)[r] = (float)lse;
        int64_t t = a->target[r];
        double loss = 0;
        if (t != a->ignore_index) {
            double xt = t >= 0 && t < a->C ? at(a, r, t) : NAN;
            loss = lse - (1 - a->ls) * xt - (a->ls > 0 ? a->ls / (double)a->C * sum_x : 0);
        }
        ct__store_f64((char *)a->loss + (size_t)r * es, a->dtype, loss);
    }
    return true;
}

static bool cpu_backward(const ct__xent_args *a) {
    int64_t rows = a->N * a->D;
    size_t es = ct_dtype_size(a->dtype);
    double smooth = a->ls / (double)a->C;
#pragma omp parallel for num_threads(rows * a->C > CT_GRAIN_SIZE ? ct__num_threads() : 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t n = r / a->D, d = r % a->D, t = a->target[r];
        bool ignored = t == a->ignore_index;
        double g = ignored ? 0 : ct__load_f64((const char *)a->grad + (size_t)(r * a->grad_stride) * es, a->dtype);
        double lse = lse_at(a, r);
        for (int64_t c = 0; c < a->C; c++) {
            double v = ignored ? 0 : g * (exp(at(a, r, c) - lse) - smooth - (c == t ? 1 - a->ls : 0));
            ct__store_f64((char *)a->dlogits + (size_t)((n * a->C + c) * a->D + d) * es, a->dtype, v);
        }
    }
    return true;
}

const ct__xent_kernels ct__xent_cpu_kernels = {.forward = cpu_forward, .backward = cpu_backward};
