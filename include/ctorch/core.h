/* ctorch core: initialisation, errors, scopes and reference counts, logging, named options.
 *
 * Conventions every other header follows (docs/conventions.md has the long form):
 *  - Every call that can fail returns NULL (or false / -1) and records a thread-local message;
 *    a call given a NULL input returns NULL and keeps the first message, so a whole expression
 *    can be checked once with ct_ok().
 *  - Every object an op returns belongs to the innermost open scope and is released when that
 *    scope ends, unless kept (ct_keep) or retained (ct_retain / ct_release).
 *  - Optional arguments are named: ct_adamw(net, .lr = 1e-3); omitted ones take PyTorch's
 *    defaults (see CT_OPTS below). */
#ifndef CTORCH_CORE_H
#define CTORCH_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CT_VERSION_MAJOR 0
#define CT_VERSION_MINOR 1
#define CT_VERSION_PATCH 0
#define CT_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define CT_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#define CT_NODISCARD __attribute__((warn_unused_result))
#else
#define CT_PRINTF(fmt_idx, arg_idx)
#define CT_NODISCARD
#endif

/* ---- library lifetime ------------------------------------------------------------------- */

/* Reads the environment (CT_LOG_LEVEL, CT_ABORT_ON_ERROR, CT_NUM_THREADS) and opens the
 * calling thread's root scope. Calling it is optional but recommended; it is idempotent. */
void ct_init(void);
/* Releases everything still held by the calling thread's scopes. */
void ct_shutdown(void);
const char *ct_version(void);

/* ---- errors ----------------------------------------------------------------------------- */

typedef enum ct_status {
    CT_OK = 0,
    CT_ERR_NULL,        /* an input was NULL, usually because an earlier call failed */
    CT_ERR_ARG,         /* an argument is out of its domain (negative size, bad option) */
    CT_ERR_SHAPE,       /* shapes do not fit together */
    CT_ERR_DTYPE,       /* dtype not supported or not castable */
    CT_ERR_DEVICE,      /* device mismatch or device not available */
    CT_ERR_INDEX,       /* index or dimension out of range */
    CT_ERR_IO,          /* file missing, unreadable or corrupt */
    CT_ERR_OOM,         /* allocation failed */
    CT_ERR_STATE,       /* call not valid in the current state */
    CT_ERR_UNSUPPORTED, /* valid request that this build or device does not implement */
    CT_ERR_INTERNAL,    /* a bug in ctorch: please report it */
} ct_status;

/* True when no error is pending on this thread. */
bool ct_ok(void);
/* The first pending error's message, or "" when none is pending. */
const char *ct_last_error(void);
ct_status ct_last_status(void);
const char *ct_status_name(ct_status status);
/* Forgets the pending error, so the next failure is recorded. */
void ct_clear_error(void);
/* Records an error unless one is already pending (the first one wins). With CT_ABORT_ON_ERROR=1
 * in the environment, prints the message and aborts instead. For extension code (custom ops
 * and modules); returns NULL so a failing function can `return ct_error(...)`. */
void *ct_error(ct_status status, const char *fmt, ...) CT_PRINTF(2, 3);
/* Applies CT_ABORT_ON_ERROR at run time (tests use it; the environment sets it at ct_init). */
void ct_set_abort_on_error(bool on);

/* ---- scopes and reference counts ---------------------------------------------------------- */

/* Every handle ctorch returns (tensors, lists, strings) starts with this header; the functions
 * below take any such handle. */
typedef struct ct_object ct_object;

/* Adds a reference the caller owns; give it back with ct_release. Returns obj. */
void *ct_retain(void *obj);
/* Drops one reference; the object is destroyed with its last reference. NULL is ignored. */
void ct_release(void *obj);
/* Makes obj outlive the innermost scope: the enclosing scope now also holds a reference.
 * In the outermost (root) scope this is a no-op. Returns obj (NULL stays NULL). */
void *ct_keep(void *obj);
/* Number of live references (for tests and debugging). */
int64_t ct_refcount(const void *obj);

/* Scopes nest per thread. ct_scope_end releases what the matching begin's scope holds; ending
 * a scope also ends any inner scope left open. */
void ct_scope_begin(void);
void ct_scope_end(void);
/* 0 in the root scope. */
int ct_scope_depth(void);
/* Number of references the innermost scope holds. */
int64_t ct_scope_size(void);

/* CT_SCOPE { ... } runs its body once inside a new scope; the scope ends however the body is
 * left (end of block, break, continue, return, goto). break and continue leave the scope's body,
 * not an enclosing loop. */
typedef struct ct_scope_guard { int depth; int once; } ct_scope_guard;
ct_scope_guard ct__scope_guard_begin(void);
void ct__scope_guard_end(ct_scope_guard *guard);
#define CT__CAT2(a, b) a##b
#define CT__CAT(a, b) CT__CAT2(a, b)
#define CT_SCOPE                                                                               \
    for (ct_scope_guard CT__CAT(ct__scope_, __LINE__)                                            \
             __attribute__((cleanup(ct__scope_guard_end))) = ct__scope_guard_begin();            \
         CT__CAT(ct__scope_, __LINE__).once; CT__CAT(ct__scope_, __LINE__).once = 0)

/* ---- logging ---------------------------------------------------------------------------- */

typedef enum ct_log_level {
    CT_LOG_DEBUG = 0,
    CT_LOG_INFO,
    CT_LOG_WARN,
    CT_LOG_ERROR,
    CT_LOG_OFF,
} ct_log_level;

/* Messages below the level are dropped; the default is CT_LOG_INFO, or CT_LOG_LEVEL from the
 * environment (debug, info, warn, error, off). */
void ct_log_set_level(ct_log_level level);
ct_log_level ct_log_get_level(void);
/* Replaces the sink (stderr by default); NULL restores stderr. The handler may be called from
 * any thread. */
typedef void (*ct_log_handler)(ct_log_level level, const char *message, void *user);
void ct_log_set_handler(ct_log_handler handler, void *user);
void ct_log_message(ct_log_level level, const char *fmt, ...) CT_PRINTF(2, 3);
#define ct_log_debug(...) ct_log_message(CT_LOG_DEBUG, __VA_ARGS__)
#define ct_log_info(...) ct_log_message(CT_LOG_INFO, __VA_ARGS__)
#define ct_log_warn(...) ct_log_message(CT_LOG_WARN, __VA_ARGS__)
#define ct_log_error(...) ct_log_message(CT_LOG_ERROR, __VA_ARGS__)

/* ---- named options ----------------------------------------------------------------------- */

/* CT_OPTS(type, defaults..., user...) builds an option struct from designated initializers where
 * later ones override earlier ones, so an API macro lists PyTorch's defaults first and the
 * caller's named arguments after them:
 *     #define ct_adamw(m, ...) ct_adamw_opt((m), CT_OPTS(ct_adamw_opts, .lr = 1e-3, __VA_ARGS__))
 * Overriding an initializer is intended here, so that warning is silenced for this expression
 * only. Needs GNU C (gcc, clang). */
#if defined(__clang__)
#define CT__OPTS_IGNORE _Pragma("clang diagnostic ignored \"-Winitializer-overrides\"")
#else
#define CT__OPTS_IGNORE                                                                        \
    _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                      \
    _Pragma("GCC diagnostic ignored \"-Woverride-init-side-effects\"")
#endif
#define CT_OPTS(T, ...)                                                                        \
    (__extension__({                                                                           \
        _Pragma("GCC diagnostic push")                                                         \
        CT__OPTS_IGNORE                                                                        \
        T ct__opts_value = {__VA_ARGS__};                                                      \
        _Pragma("GCC diagnostic pop")                                                          \
        ct__opts_value;                                                                        \
    }))

/* Argument counting, for macros that take a list (CT_SHAPE(2, 3)) or dispatch on arity. */
#define CT__NARGS(...) CT__NARGS_(0, ##__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define CT__NARGS_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, N, ...) N
/* CT__OVERLOAD(f, a, b) expands to f2(a, b): for PyTorch-style optional positional arguments. */
#define CT__OVERLOAD(f, ...) CT__CAT(f, CT__NARGS(__VA_ARGS__))(__VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_CORE_H */
