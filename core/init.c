/* Library lifetime: environment, root scope, backends. */
#include "core_impl.h"

void ct__scope_shutdown(void);
void ct__backends_init(void);
void ct__backends_shutdown(void);

void ct__env_init(void) {
    ct__error_env_init();
    ct__log_env_init();
}

void ct_init(void) {
    ct__env_init();
    ct__backends_init();
}

void ct_shutdown(void) {
    ct__scope_shutdown();
    ct__backends_shutdown();
}

const char *ct_version(void) { return CT_VERSION_STRING; }
