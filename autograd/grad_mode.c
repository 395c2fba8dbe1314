/* Thread-local grad mode and inference mode, and the process-wide anomaly switch. */
#include "autograd_impl.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local bool grad_disabled; /* zero-initialised: grad mode starts on */
static atomic_bool anomaly_enabled;
static atomic_bool anomaly_env_read;

bool ct__grad_enabled(void) { return !grad_disabled; }
bool ct_is_grad_enabled(void) { return !grad_disabled; }

bool ct_set_grad_enabled(bool enabled) {
    bool prev = !grad_disabled;
    grad_disabled = !enabled;
    return prev;
}

bool ct_is_inference_mode_enabled(void) { return ct__inference_mode; }

bool ct_set_inference_mode(bool enabled) {
    bool prev = ct__inference_mode;
    ct__inference_mode = enabled;
    /* InferenceMode implies no grad while it lasts; leaving it restores grad mode as it was is
     * the guard's job (ct__grad_mode_exit). */
    if (enabled) grad_disabled = true;
    return prev;
}

bool ct_is_inference(const ct_tensor *t) { return t && t->is_inference; }

ct_grad_mode_guard ct__grad_mode_enter(int grad, int inference) {
    ct_grad_mode_guard g = {.grad = !grad_disabled, .inference = ct__inference_mode, .once = 1};
    if (inference >= 0) ct_set_inference_mode(inference);
    if (grad >= 0) grad_disabled = !grad;
    return g;
}

void ct__grad_mode_exit(ct_grad_mode_guard *guard) {
    ct__inference_mode = guard->inference;
    grad_disabled = !guard->grad;
}

static void anomaly_env_init(void) {
    if (atomic_exchange(&anomaly_env_read, true)) return;
    const char *v = getenv("CT_DETECT_ANOMALY");
    if (v && *v && strcmp(v, "0") != 0) atomic_store(&anomaly_enabled, true);
}

void ct_set_detect_anomaly(bool enabled) {
    atomic_store(&anomaly_env_read, true);
    atomic_store(&anomaly_enabled, enabled);
}

bool ct_is_anomaly_enabled(void) {
    anomaly_env_init();
    return atomic_load_explicit(&anomaly_enabled, memory_order_relaxed);
}

bool ct__anomaly_enabled(void) {
    if (!atomic_load_explicit(&anomaly_env_read, memory_order_relaxed)) anomaly_env_init();
    return atomic_load_explicit(&anomaly_enabled, memory_order_relaxed);
}
