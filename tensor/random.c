/* Randomness: one Philox-4x32-10 generator per device and the random ops. Each op reserves
 * ceil(numel / 4) counter blocks from its device's generator under a lock, then fills its output
 * through the device's kernel table (random_impl.h); element values depend only on the seed, the
 * reserved offset and the element index. */
#include "random_impl.h"
#include "device_impl.h"

#include <pthread.h>
#include <sys/random.h>
#include <time.h>

#define DEFAULT_SEED 67280421310721ull /* PyTorch's default_rng_seed_val */
#define MAX_GENERATORS (1 + 128)       /* the CPU, then CUDA(0..127): int8_t device indices */

static struct generator {
    uint64_t seed, offset;
} generators[MAX_GENERATORS] = {[0 ... MAX_GENERATORS - 1] = {DEFAULT_SEED, 0}};
static pthread_mutex_t generators_lock = PTHREAD_MUTEX_INITIALIZER;

static int generator_index(ct_device device) { return device.type == CT_DEVICE_CPU ? 0 : 1 + device.index; }

/* A thread's private CPU generator (ct_set_thread_generator), used instead of generators[0]. */
static _Thread_local ct_rng_state *thread_generator;

ct_rng_state *ct_set_thread_generator(ct_rng_state *gen) {
    ct_rng_state *previous = thread_generator;
    thread_generator = gen;
    return previous;
}

/* Reserves the counter blocks for n elements on device's generator. */
ct__philox_pos ct__philox_reserve(ct_device device, int64_t n) {
    if (thread_generator && device.type == CT_DEVICE_CPU) { /* private to this thread: no lock */
        ct__philox_pos pos = {thread_generator->seed, thread_generator->offset};
        thread_generator->offset += (uint64_t)(n + 3) / 4;
        return pos;
    }
    struct generator *g = &generators[generator_index(device)];
    pthread_mutex_lock(&generators_lock);
    ct__philox_pos pos = {g->seed, g->offset};
    g->offset += (uint64_t)(n + 3) / 4;
    pthread_mutex_unlock(&generators_lock);
    return pos;
}

/* Seeds every device's generator, as torch.manual_seed does. */
void ct_manual_seed(uint64_t seed) {
    pthread_mutex_lock(&generators_lock);
    for (int i = 0; i < MAX_GENERATORS; i++) generators[i] = (struct generator){seed, 0};
    pthread_mutex_unlock(&generators_lock);
}

uint64_t ct_seed(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) { /* no entropy source: clock bits */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    }
    ct_manual_seed(seed);
    return seed;
}

uint64_t ct_initial_seed(void) {
    pthread_mutex_lock(&generators_lock);
    uint64_t seed = generators[0].seed;
    pthread_mutex_unlock(&generators_lock);
    return seed;
}

ct_rng_state ct_get_rng_state(void) {
    pthread_mutex_lock(&generators_lock);
    ct_rng_state s = {generators[0].seed, generators[0].offset};
    pthread_mutex_unlock(&generators_lock);
    return s;
}

void ct_set_rng_state(ct_rng_state state) {
    pthread_mutex_lock(&generators_lock);
    generators[0] = (struct generator){state.seed, state.offset};
    pthread_mutex_unlock(&generators_lock);
}

/* ---- helpers ---- */

static const ct__random_kernels *kernels_for(const char *op, ct_device device) {
    if (device.type == CT_DEVICE_CPU) return &ct__cpu_random_kernels;
#ifdef CT_HAVE_CUDA
    if (device.type == CT_DEVICE_CUDA) return &ct__cuda_random_kernels;
#endif
    ct__no_kernel(op, device);
    return NULL;
}

static bool check_floating(const char *op, ct_dtype dtype, const char *kernel) {
    if (ct_dtype_is_floating(dtype)) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, kernel, ct__torch_type_name(dtype));
    return false;
}

enum fill_kind { FILL_UNIFORM, FILL_NORMAL };

/* Fills t (any layout) with U[a, b) or N(a, b): directly when contiguous, else through a dense
 * temporary in t's dtype that is then copied in logical order. */
static bool fill_random(const char *op, ct_tensor *t, enum fill_kind kind, double a, double b) {
    if (!ct__check_writable(op, t)) return false;
    const ct__random_kernels *k = kernels_for(op, ct__device(t));
    if (!k) return false;
    int64_t n = ct__numel(t->shape, t->ndim);
    if (n == 0) return true;
    ct__philox_pos pos = ct__philox_reserve(ct__device(t), n);
    bool ok = true;
    CT_SCOPE {
        ct_tensor *dst = ct__is_contiguous(t) ? t : ct__tensor_new(t->shape, t->ndim, t->dtype, ct__device(t));
        if (!dst) {
            ok = false;
            break;
        }
        if (kind == FILL_UNIFORM) k->uniform(dst, pos, a, b);
        else k->normal(dst, pos, a, b);
        if (dst != t) ok = ct__copy_into(op, t, dst);
    }
    return ok;
}

/* ---- ops ---- */

/* Resolves options and checks the dtype before allocating: kernel names as in PyTorch's errors. */
static bool resolve(const char *op, ct_shape shape, ct_tensor_opts *opts, ct_dtype dtype_default) {
    return ct__check_shape(op, &shape) && ct__resolve_opts(op, opts, dtype_default, CT_CPU);
}

static ct_tensor *uniform_new(const char *op, ct_shape shape, ct_tensor_opts opts, ct_dtype dtype_default) {
    if (!resolve(op, shape, &opts, dtype_default)) return NULL;
    if (!check_floating(op, opts.dtype, "check_uniform_bounds")) return NULL;
    ct_tensor *t = ct__tensor_new(shape.d, shape.ndim, opts.dtype, opts.device);
    return t && fill_random(op, t, FILL_UNIFORM, 0, 1) ? t : NULL;
}

static ct_tensor *normal_new(const char *op, ct_shape shape, double mean, double std, ct_tensor_opts opts,
                             ct_dtype dtype_default) {
    if (!(std >= 0)) return ct_error(CT_ERR_ARG, "%s: normal expects std >= 0.0, but found std %g", op, std);
    if (!resolve(op, shape, &opts, dtype_default)) return NULL;
    if (!check_floating(op, opts.dtype, "normal_kernel_cpu")) return NULL;
    ct_tensor *t = ct__tensor_new(shape.d, shape.ndim, opts.dtype, opts.device);
    return t && fill_random(op, t, FILL_NORMAL, mean, std) ? t : NULL;
}

ct_tensor *ct_rand_opt(ct_shape shape, ct_tensor_opts opts) {
    return uniform_new("rand", shape, opts, ct_get_default_dtype());
}
ct_tensor *ct_randn_opt(ct_shape shape, ct_tensor_opts opts) {
    return normal_new("randn", shape, 0, 1, opts, ct_get_default_dtype());
}
ct_tensor *ct_normal_opt(double mean, double std, ct_shape shape, ct_tensor_opts opts) {
    return normal_new("normal", shape, mean, std, opts, ct_get_default_dtype());
}

ct_tensor *ct_rand_like_opt(const ct_tensor *t, ct_tensor_opts opts) {
    if (!CT__CHECK("rand_like", t)) return NULL;
    if (opts.device.type == -1) opts.device = ct__device(t);
    return uniform_new("rand_like", ct_shape_of(t), opts, t->dtype);
}

ct_tensor *ct_randn_like_opt(const ct_tensor *t, ct_tensor_opts opts) {
    if (!CT__CHECK("randn_like", t)) return NULL;
    if (opts.device.type == -1) opts.device = ct__device(t);
    return normal_new("randn_like", ct_shape_of(t), 0, 1, opts, t->dtype);
}

ct_tensor *ct__uniform_(ct_tensor *t, double low, double high) {
    if (!CT__CHECK("uniform_", t)) return NULL;
    if (!(low <= high))
        return ct_error(CT_ERR_ARG,
                        "uniform_: uniform_ expects to return a [from, to) range, but found from=%g > to=%g", low,
                        high);
    if (!check_floating("uniform_", t->dtype, "check_uniform_bounds")) return NULL;
    if (!fill_random("uniform_", t, FILL_UNIFORM, low, high)) return NULL;
    ct__bump_version(t);
    return t;
}

ct_tensor *ct__normal_(ct_tensor *t, double mean, double std) {
    if (!CT__CHECK("normal_", t)) return NULL;
    if (!(std >= 0)) return ct_error(CT_ERR_ARG, "normal_: normal expects std >= 0.0, but found std %g", std);
    if (!check_floating("normal_", t->dtype, "normal_kernel_cpu")) return NULL;
    if (!fill_random("normal_", t, FILL_NORMAL, mean, std)) return NULL;
    ct__bump_version(t);
    return t;
}

ct_tensor *ct_randint_opt(int64_t low, int64_t high, ct_shape shape, ct_tensor_opts opts) {
    const char *op = "randint";
    if (high <= low)
        return ct_error(CT_ERR_ARG, "%s: random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld", op,
                        (long long)low, (long long)high);
    if (!resolve(op, shape, &opts, CT_I64)) return NULL;
    const ct__random_kernels *k = kernels_for(op, opts.device);
    if (!k) return NULL;
    ct_tensor *t = ct__tensor_new(shape.d, shape.ndim, opts.dtype, opts.device);
    if (!t) return NULL;
    int64_t n = ct__numel(t->shape, t->ndim);
    if (n > 0) k->randint(t, ct__philox_reserve(opts.device, n), low, (uint64_t)high - (uint64_t)low);
    return t;
}

ct_tensor *ct_randperm_opt(int64_t n, ct_tensor_opts opts) {
    const char *op = "randperm";
    ct_shape shape = {.ndim = 1, .d = {n}};
    if (!resolve(op, shape, &opts, CT_I64)) return NULL;
    if (opts.dtype == CT_BOOL) return ct_error(CT_ERR_DTYPE, "%s: \"randperm_cpu\" not implemented for 'Bool'", op);
    const ct__random_kernels *k = kernels_for(op, opts.device);
    if (!k) return NULL;
    ct_tensor *t = ct__tensor_new(shape.d, 1, opts.dtype, opts.device);
    if (t && n > 0) k->randperm(t, ct__philox_reserve(opts.device, n));
    return t;
}

/* A dense float64 copy of a floating tensor's values (CPU), for the data-dependent checks and the
 * kernels that read parameters. NULL with a PyTorch-like dtype error for other dtypes. */
static const double *parameters_f64(const char *op, const ct_tensor *p, const char *kernel) {
    if (!check_floating(op, p->dtype, kernel)) return NULL;
    ct_tensor *d = ct__contiguous_as(p, CT_F64);
    if (d && !ct__is_cpu(d)) d = ct__to(d, CT_CPU); /* read on the host: checks and kernel arguments */
    return d ? (const double *)ct__data(d) : NULL;
}

ct_tensor *ct_bernoulli(const ct_tensor *p) {
    const char *op = "bernoulli";
    if (!CT__CHECK(op, p)) return NULL;
    const ct__random_kernels *k = kernels_for(op, ct__device(p));
    if (!k) return NULL;
    ct_tensor *out = NULL;
    CT_SCOPE {
        const double *pv = parameters_f64(op, p, "bernoulli_tensor_cpu_p_");
        if (!pv) break;
        int64_t n = ct__numel(p->shape, p->ndim);
        bool valid = true;
        for (int64_t i = 0; i < n && valid; i++)
            if (!(pv[i] >= 0 && pv[i] <= 1)) {
                ct_error(CT_ERR_ARG, "%s: expected all probabilities p to satisfy 0 <= p <= 1, but got p=%g", op,
                         pv[i]);
                valid = false;
            }
        if (!valid) break;
        out = ct__tensor_new(p->shape, p->ndim, p->dtype, ct__device(p));
        if (!out) break;
        if (n > 0) k->bernoulli(out, pv, ct__philox_reserve(ct__device(p), n));
        ct_keep(out);
    }
    return out;
}

ct_tensor *ct_poisson(const ct_tensor *rates) {
    const char *op = "poisson";
    if (!CT__CHECK(op, rates)) return NULL;
    const ct__random_kernels *k = kernels_for(op, ct__device(rates));
    if (!k) return NULL;
    ct_tensor *out = NULL;
    CT_SCOPE {
        const double *rv = parameters_f64(op, rates, "poisson_cpu");
        if (!rv) break;
        int64_t n = ct__numel(rates->shape, rates->ndim);
        bool valid = true;
        for (int64_t i = 0; i < n && valid; i++)
            if (!(rv[i] >= 0) || isinf(rv[i])) {
                ct_error(CT_ERR_ARG, "%s: invalid Poisson rate, expected rate to be non-negative and finite, got %g",
                         op, rv[i]);
                valid = false;
            }
        if (!valid) break;
        out = ct__tensor_new(rates->shape, rates->ndim, rates->dtype, ct__device(rates));
        if (!out) break;
        if (n > 0) k->poisson(out, rv, ct__philox_reserve(ct__device(rates), n));
        ct_keep(out);
    }
    return out;
}

ct_tensor *ct_multinomial(const ct_tensor *probs, int64_t num_samples, bool replacement) {
    const char *op = "multinomial";
    if (!CT__CHECK(op, probs)) return NULL;
    if (probs->ndim != 1 && probs->ndim != 2) return ct_error(CT_ERR_SHAPE, "%s: prob_dist must be 1 or 2 dim", op);
    if (!ct_dtype_is_floating(probs->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: multinomial only supports floating-point dtypes for input, got: %s", op,
                        ct__torch_type_name(probs->dtype));
    if (num_samples <= 0) return ct_error(CT_ERR_ARG, "%s: cannot sample n_sample <= 0 samples", op);
    int64_t ncat = probs->shape[probs->ndim - 1], rows = probs->ndim == 2 ? probs->shape[0] : 1;
    if (!replacement && num_samples > ncat)
        return ct_error(CT_ERR_ARG, "%s: cannot sample n_sample > prob_dist.size(-1) samples without replacement", op);
    const ct__random_kernels *k = kernels_for(op, ct__device(probs));
    if (!k) return NULL;
    ct_tensor *out = NULL;
    CT_SCOPE {
        const double *w = parameters_f64(op, probs, "multinomial");
        if (!w) break;
        bool valid = true;
        for (int64_t r = 0; r < rows && valid; r++) {
            double sum = 0;
            for (int64_t c = 0; c < ncat && valid; c++) {
                double v = w[r * ncat + c];
                if (!(v >= 0) || isinf(v)) {
                    ct_error(CT_ERR_ARG, "%s: probability tensor contains either `inf`, `nan` or element < 0", op);
                    valid = false;
                }
                sum += v;
            }
            if (valid && !(sum > 0)) {
                ct_error(CT_ERR_ARG, "%s: invalid multinomial distribution (sum of probabilities <= 0)", op);
                valid = false;
            }
        }
        if (!valid) break;
        int64_t shape[2] = {rows, num_samples};
        out = probs->ndim == 2 ? ct__tensor_new(shape, 2, CT_I64, ct__device(probs))
                               : ct__tensor_new(&shape[1], 1, CT_I64, ct__device(probs));
        if (!out) break;
        int64_t draws = rows * (replacement ? num_samples : ncat);
        if (rows > 0) k->multinomial(out, w, rows, ncat, num_samples, replacement, ct__philox_reserve(ct__device(probs), draws));
        ct_keep(out);
    }
    return out;
}
