/* nn.init: in-place parameter initializers (torch.nn.init).
 *
 * Every initializer runs under no grad, so it can overwrite a leaf parameter that requires grad
 * without being recorded, and draws from the generator of t's device, so ct_manual_seed makes it
 * reproducible. The variance-scaling schemes only pick the bounds of a uniform or normal draw:
 *
 *   fan_in  = size(1) * receptive field    fan_out = size(0) * receptive field
 *   (receptive field = product of the sizes past dim 1, e.g. kH * kW for a conv weight)
 *
 *   xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))     keeps forward and backward
 *                                                                   variances balanced
 *   kaiming (He):     std = gain / sqrt(fan)                        keeps one of them (mode)
 *
 * and a uniform draw with that std has bound sqrt(3) * std, since Var U(-a, a) = a^2 / 3.
 * orthogonal_ needs a QR decomposition (LAPACK's dgeqrf/dorgqr from OpenBLAS); trunc_normal_ maps
 * uniform draws through the normal's inverse CDF, as PyTorch does. */
#include "../tensor/tensor_impl.h"
#include "ctorch/nn_functional.h"

#include <float.h>
#include <limits.h>
#include <stdlib.h>

/* ---- gains and fans ------------------------------------------------------------------------------ */

double ct_calculate_gain_opt(ct_nonlinearity nonlinearity, ct_calculate_gain_opts opts) {
    switch (nonlinearity) {
    case CT_NL_LINEAR:
    case CT_NL_CONV1D:
    case CT_NL_CONV2D:
    case CT_NL_CONV3D:
    case CT_NL_CONV_TRANSPOSE1D:
    case CT_NL_CONV_TRANSPOSE2D:
    case CT_NL_CONV_TRANSPOSE3D:
    case CT_NL_SIGMOID: return 1;
    case CT_NL_TANH: return 5.0 / 3;
    case CT_NL_RELU: return sqrt(2.0);
    case CT_NL_LEAKY_RELU: {
        /* The variance of leaky_relu(x) for x ~ N(0, 1) is (1 + slope^2) / 2. */
        double slope = isnan(opts.param) ? 0.01 : opts.param;
        return sqrt(2.0 / (1 + slope * slope));
    }
    case CT_NL_SELU: return 3.0 / 4;
    }
    ct_error(CT_ERR_ARG, "calculate_gain: Unsupported nonlinearity %d", (int)nonlinearity);
    return NAN;
}

/* Fans of t for op's messages; false with PyTorch's error below 2 dims. */
static bool fans(const char *op, const ct_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    if (!CT__CHECK(op, t)) return false;
    if (t->ndim < 2) {
        ct_error(CT_ERR_SHAPE, "%s: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
                 op);
        return false;
    }
    int64_t receptive = 1;
    for (int d = 2; d < t->ndim; d++) receptive *= t->shape[d];
    *fan_in = t->shape[1] * receptive;
    *fan_out = t->shape[0] * receptive;
    return true;
}

bool ct_calculate_fan_in_and_fan_out(const ct_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    return fans("calculate_fan_in_and_fan_out", t, fan_in, fan_out);
}

/* ---- plain fills ------------------------------------------------------------------------------- */

static ct_tensor *no_grad_uniform(ct_tensor *t, double a, double b) {
    ct_tensor *r = NULL;
    CT_NO_GRAD r = ct_uniform_(t, a, b);
    return r;
}

static ct_tensor *no_grad_normal(ct_tensor *t, double mean, double std) {
    ct_tensor *r = NULL;
    CT_NO_GRAD r = ct_normal_(t, mean, std);
    return r;
}

ct_tensor *ct_init_uniform_opt(ct_tensor *t, ct_init_uniform_opts opts) {
    if (!CT__CHECK("uniform_", t)) return NULL;
    return no_grad_uniform(t, opts.a, opts.b);
}

ct_tensor *ct_init_normal_opt(ct_tensor *t, ct_init_normal_opts opts) {
    if (!CT__CHECK("normal_", t)) return NULL;
    return no_grad_normal(t, opts.mean, opts.std);
}

ct_tensor *ct_init_constant_(ct_tensor *t, double value) {
    if (!CT__CHECK("constant_", t)) return NULL;
    ct_tensor *r = NULL;
    CT_NO_GRAD r = ct_fill_(t, value);
    return r;
}

ct_tensor *ct_init_zeros_(ct_tensor *t) { return CT__CHECK("zeros_", t) ? ct_init_constant_(t, 0) : NULL; }
ct_tensor *ct_init_ones_(ct_tensor *t) { return CT__CHECK("ones_", t) ? ct_init_constant_(t, 1) : NULL; }

/* Zeros, then ones written through the main-diagonal view (which shares t's storage). */
ct_tensor *ct_init_eye_(ct_tensor *t) {
    if (!CT__CHECK("eye_", t)) return NULL;
    if (t->ndim != 2) return ct_error(CT_ERR_SHAPE, "eye_: Only tensors with 2 dimensions are supported");
    bool ok = false;
    CT_NO_GRAD CT_SCOPE { ok = ct_zero_(t) && ct_fill_(ct_diagonal(t, 0, 0, 1), 1); }
    return ok ? t : NULL;
}

/* ---- variance scaling ------------------------------------------------------------------------- */

static bool xavier_std(const char *op, const ct_tensor *t, double gain, double *std) {
    int64_t fan_in, fan_out;
    if (!fans(op, t, &fan_in, &fan_out)) return false;
    *std = gain * sqrt(2.0 / (double)(fan_in + fan_out));
    return true;
}

ct_tensor *ct_init_xavier_uniform_opt(ct_tensor *t, ct_init_xavier_opts opts) {
    double std;
    if (!xavier_std("xavier_uniform_", t, opts.gain, &std)) return NULL;
    if (ct_numel(t) == 0) return t; /* fan_in + fan_out may be 0: nothing to draw */
    double a = sqrt(3.0) * std;
    return no_grad_uniform(t, -a, a);
}

ct_tensor *ct_init_xavier_normal_opt(ct_tensor *t, ct_init_xavier_opts opts) {
    double std;
    if (!xavier_std("xavier_normal_", t, opts.gain, &std)) return NULL;
    if (ct_numel(t) == 0) return t;
    return no_grad_normal(t, 0, std);
}

/* std = gain / sqrt(fan); false (with *std untouched) for an error, true with *std = NAN for a
 * zero-element tensor, which PyTorch leaves alone with a warning before computing any fan. */
static bool kaiming_std(const char *op, const ct_tensor *t, ct_init_kaiming_opts opts, double *std) {
    if (!CT__CHECK(op, t)) return false;
    if (ct_numel(t) == 0) {
        ct_log_warn("%s: Initializing zero-element tensors is a no-op", op);
        *std = NAN;
        return true;
    }
    if (opts.mode != CT_FAN_IN && opts.mode != CT_FAN_OUT) {
        ct_error(CT_ERR_ARG, "%s: Mode %d not supported, please use one of [CT_FAN_IN, CT_FAN_OUT]", op,
                 (int)opts.mode);
        return false;
    }
    int64_t fan_in, fan_out;
    if (!fans(op, t, &fan_in, &fan_out)) return false;
    double gain = ct_calculate_gain(opts.nonlinearity, .param = opts.a);
    if (isnan(gain)) return false;
    *std = gain / sqrt((double)(opts.mode == CT_FAN_IN ? fan_in : fan_out));
    return true;
}

ct_tensor *ct_init_kaiming_uniform_opt(ct_tensor *t, ct_init_kaiming_opts opts) {
    double std;
    if (!kaiming_std("kaiming_uniform_", t, opts, &std)) return NULL;
    if (isnan(std)) return t;
    double bound = sqrt(3.0) * std;
    return no_grad_uniform(t, -bound, bound);
}

ct_tensor *ct_init_kaiming_normal_opt(ct_tensor *t, ct_init_kaiming_opts opts) {
    double std;
    if (!kaiming_std("kaiming_normal_", t, opts, &std)) return NULL;
    if (isnan(std)) return t;
    return no_grad_normal(t, 0, std);
}

/* ---- orthogonal ---------------------------------------------------------------------------------- */

/* LAPACK (Fortran interface, column-major, 32-bit integers as in the system OpenBLAS). dgeqrf leaves
 * R in the upper triangle of a and the Householder reflectors below it; dorgqr turns those into
 * the first n columns of Q. */
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
                    const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau,
                    double *work, const int *lwork, int *info);

/* In place: the m x n (m >= n) column-major matrix a becomes Q * diag(sign(diag(R))) of its
 * reduced QR decomposition a = Q R. The sign fix makes Q unique (R gets a positive diagonal), so Q
 * is uniformly (Haar) distributed when a is Gaussian. False with an error if LAPACK fails. */
static bool qr_q_sign_fixed(double *a, int m, int n) {
    int info = 0, lwork = -1;
    double query = 0;
    dgeqrf_(&m, &n, a, &m, NULL, &query, &lwork, &info);
    double q2 = 0;
    dorgqr_(&m, &n, &n, a, &m, NULL, &q2, &lwork, &info);
    lwork = (int)fmax(fmax(query, q2), 1);
    double *tau = malloc(sizeof(double) * (size_t)n), *work = malloc(sizeof(double) * (size_t)lwork);
    double *sign = malloc(sizeof(double) * (size_t)n);
    bool ok = tau && work && sign;
    if (ok) {
        dgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
        for (int j = 0; j < n; j++) { /* torch.sign: 0 stays 0 */
            double r = a[j + (size_t)j * m];
            sign[j] = (r > 0) - (r < 0);
        }
        if (info == 0) dorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
        for (int j = 0; info == 0 && j < n; j++)
            for (int i = 0; i < m; i++) a[i + (size_t)j * m] *= sign[j];
        if (info != 0) ct_error(CT_ERR_INTERNAL, "orthogonal_: LAPACK QR failed (info %d)", info);
        ok = info == 0;
    } else {
        ct_error(CT_ERR_OOM, "orthogonal_: out of memory for a %d x %d QR decomposition", m, n);
    }
    free(tau);
    free(work);
    free(sign);
    return ok;
}

/* t viewed as M = [rows, cols] (rows = size(0)) gets Q of M's Gaussian draw, as PyTorch: when
 * rows < cols it decomposes M^T (so Q always has the fewer, orthonormal, columns) and writes Q^T.
 *
 * Layouts: M is drawn row-major in buf. A row-major rows x cols buffer read column-major is the
 * cols x rows matrix M^T, so for rows < cols buf already is the column-major A = M^T, and the
 * column-major Q (cols x rows) read back row-major is Q^T: no copies. For rows >= cols, A = M
 * needs a transposed copy in and out. */
ct_tensor *ct_init_orthogonal_opt(ct_tensor *t, ct_init_orthogonal_opts opts) {
    if (!CT__CHECK("orthogonal_", t)) return NULL;
    if (t->ndim < 2) return ct_error(CT_ERR_SHAPE, "orthogonal_: Only tensors with 2 or more dimensions are supported");
    int64_t numel = ct_numel(t);
    if (numel == 0) return t;
    int64_t rows = t->shape[0], cols = numel / rows;
    if (rows > INT_MAX || cols > INT_MAX)
        return ct_error(CT_ERR_UNSUPPORTED, "orthogonal_: a %lld x %lld matrix is too large for LAPACK's int sizes",
                        (long long)rows, (long long)cols);
    bool ok = false;
    CT_NO_GRAD CT_SCOPE {
        /* Drawn in t's dtype on t's device, like tensor.new(rows, cols).normal_(0, 1). */
        ct_tensor *draw = ct_normal_(ct_empty(CT_SHAPE(rows, cols), .dtype = t->dtype, .device = ct__device(t)), 0, 1);
        ct_tensor *m = ct_contiguous(ct_to(ct_to_dtype(draw, CT_F64), CT_CPU)); /* a temporary: ours to overwrite */
        if (!m) break;
        double *buf = ct_data_ptr(m);
        bool wide = rows < cols;
        int mm = (int)(wide ? cols : rows), nn = (int)(wide ? rows : cols);
        double *a = buf;
        if (!wide) {
            a = malloc(sizeof(double) * (size_t)numel);
            if (!a) {
                ct_error(CT_ERR_OOM, "orthogonal_: out of memory");
                break;
            }
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++) a[i + j * rows] = buf[i * cols + j];
        }
        if (qr_q_sign_fixed(a, mm, nn)) {
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++) buf[i * cols + j] = opts.gain * (wide ? buf[i * cols + j] : a[i + j * rows]);
            ok = ct_copy_(t, ct_view(m, ct_shape_of(t))) != NULL;
        }
        if (a != buf) free(a);
    }
    return ok ? t : NULL;
}

/* ---- truncated normal ------------------------------------------------------------------------- */

/* The standard normal CDF. */
static double norm_cdf(double x) { return (1 + erf(x / sqrt(2.0))) / 2; }

/* erf^-1(y) for y in [-1, 1]: Giles' single-precision polynomial ("Approximating the erfinv
 * function", 2010) as a start, then Newton steps on erf(x) = y (erf' = 2/sqrt(pi) e^{-x^2}),
 * which bring it to double precision (erf^-1 is odd: solved for |y|). */
static double erfinv(double y) {
    if (y <= -1) return y == -1 ? -INFINITY : NAN;
    if (y >= 1) return y == 1 ? INFINITY : NAN;
    double w = -log((1 - y) * (1 + y)), p;
    if (w < 5) {
        w -= 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w;
        p = -3.5233877e-06 + p * w;
        p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w;
        p = -0.00125372503 + p * w;
        p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w;
        p = 1.50140941 + p * w;
    } else {
        w = sqrt(w) - 3;
        p = -0.000200214257;
        p = 0.000100950558 + p * w;
        p = 0.00134934322 + p * w;
        p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w;
        p = -0.0076224613 + p * w;
        p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w;
        p = 2.83297682 + p * w;
    }
    /* Newton on |y|, the residual erf(x) - y written as (1 - y) - erfc(x) above 0.5: exact 1 - y
     * and erfc keep it accurate in the tails, where erf(x) rounds to 1. */
    double ay = fabs(y), x = p * ay;
    for (int it = 0; it < 100; it++) { /* 2 or 3 steps, more past the polynomial's range (|y| > 1 - 6e-8) */
        double d = 2 / sqrt(M_PI) * exp(-x * x);
        double r = ay > 0.5 ? (1 - ay) - erfc(x) : erf(x) - ay;
        if (!(d > 0)) break;
        double step = r / d;
        x -= step;
        if (fabs(step) <= 1e-16 * fabs(x)) break;
    }
    return copysign(x, y);
}

/* PyTorch's method: if U ~ U(2 Phi(alpha) - 1, 2 Phi(beta) - 1) with alpha, beta the standardized
 * bounds, then sqrt(2) erfinv(U) has the standard normal's law restricted to [alpha, beta]
 * (since Phi(x) = (1 + erf(x / sqrt 2)) / 2); scale, shift, and clamp away rounding at the ends. */
ct_tensor *ct_init_trunc_normal_opt(ct_tensor *t, ct_init_trunc_normal_opts opts) {
    if (!CT__CHECK("trunc_normal_", t)) return NULL;
    double mean = opts.mean, std = opts.std, a = opts.a, b = opts.b;
    if (mean < a - 2 * std || mean > b + 2 * std)
        ct_log_warn("trunc_normal_: mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
                    "values may be incorrect.");
    double l = norm_cdf((a - mean) / std), u = norm_cdf((b - mean) / std);
    bool ok = false;
    CT_NO_GRAD CT_SCOPE {
        /* Uniform draws in t's dtype on t's device, as tensor.uniform_ would make them. */
        ct_tensor *draw = ct_uniform_(ct_empty_like(t), 2 * l - 1, 2 * u - 1);
        ct_tensor *v = ct_contiguous(ct_to(ct_to_dtype(draw, CT_F64), CT_CPU)); /* a temporary too */
        if (!v) break;
        double *x = ct_data_ptr(v);
        int64_t n = ct_numel(v);
        for (int64_t i = 0; i < n; i++) x[i] = fmin(fmax(erfinv(x[i]) * std * sqrt(2.0) + mean, a), b);
        ok = ct_copy_(t, v) != NULL;
    }
    return ok ? t : NULL;
}
