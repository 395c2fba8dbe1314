/* Levelled logging to stderr or a user sink. The level and sink are process-wide. */
#include "core_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static atomic_int log_level = -1; /* -1: not read from the environment yet */
static ct_log_handler log_handler;
static void *log_user;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void ct__log_env_init(void) {
    int level = CT_LOG_INFO;
    const char *v = getenv("CT_LOG_LEVEL");
    if (v) {
        for (int i = 0; i <= CT_LOG_OFF; i++)
            if (strcasecmp(v, level_names[i]) == 0) level = i;
    }
    int expected = -1;
    atomic_compare_exchange_strong(&log_level, &expected, level);
}

void ct_log_set_level(ct_log_level level) { atomic_store(&log_level, (int)level); }

ct_log_level ct_log_get_level(void) {
    if (atomic_load(&log_level) < 0) ct__log_env_init();
    return (ct_log_level)atomic_load(&log_level);
}

void ct_log_set_handler(ct_log_handler handler, void *user) {
    pthread_mutex_lock(&log_lock);
    log_handler = handler;
    log_user = user;
    pthread_mutex_unlock(&log_lock);
}

void ct_log_message(ct_log_level level, const char *fmt, ...) {
    if (level >= CT_LOG_OFF || level < ct_log_get_level()) return;
    char message[CT_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (log_handler)
        log_handler(level, message, log_user);
    else
        fprintf(stderr, "[ctorch %s] %s\n", level_names[level], message);
    pthread_mutex_unlock(&log_lock);
}
