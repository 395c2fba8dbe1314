/* Thread-local error state. The first failure on a thread wins: later failures (usually the
 * NULL-propagation of the first) never overwrite its message until ct_clear_error. */
#include "core_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local ct_status tls_status = CT_OK;
static _Thread_local char tls_message[CT_MSG_MAX];
static atomic_int abort_on_error = -1; /* -1: not read from the environment yet */

void ct__error_env_init(void) {
    const char *v = getenv("CT_ABORT_ON_ERROR");
    int on = v && *v && strcmp(v, "0") != 0;
    int expected = -1;
    atomic_compare_exchange_strong(&abort_on_error, &expected, on);
}

void ct_set_abort_on_error(bool on) { atomic_store(&abort_on_error, on ? 1 : 0); }

bool ct_ok(void) { return tls_status == CT_OK; }
const char *ct_last_error(void) { return tls_status == CT_OK ? "" : tls_message; }
ct_status ct_last_status(void) { return tls_status; }

void ct_clear_error(void) {
    tls_status = CT_OK;
    tls_message[0] = '\0';
}

const char *ct_status_name(ct_status status) {
    switch (status) {
    case CT_OK: return "ok";
    case CT_ERR_NULL: return "null input";
    case CT_ERR_ARG: return "invalid argument";
    case CT_ERR_SHAPE: return "shape error";
    case CT_ERR_DTYPE: return "dtype error";
    case CT_ERR_DEVICE: return "device error";
    case CT_ERR_INDEX: return "index error";
    case CT_ERR_IO: return "I/O error";
    case CT_ERR_OOM: return "out of memory";
    case CT_ERR_STATE: return "invalid state";
    case CT_ERR_UNSUPPORTED: return "unsupported";
    case CT_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void *ct_error(ct_status status, const char *fmt, ...) {
    if (atomic_load(&abort_on_error) < 0) ct__error_env_init();
    if (tls_status != CT_OK) return NULL; /* keep the first message */
    tls_status = status == CT_OK ? CT_ERR_INTERNAL : status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    if (atomic_load(&abort_on_error) == 1) {
        fprintf(stderr, "ctorch: %s (CT_ABORT_ON_ERROR=1)\n", tls_message);
        fflush(stderr);
        abort();
    }
    return NULL;
}
