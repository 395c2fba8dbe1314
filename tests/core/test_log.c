/* Logging: levels filter, handler receives messages, environment sets the level. */
#include "../common/testutil.h"

#include <string.h>

typedef struct captured {
    int count;
    ct_log_level last_level;
    char last[256];
} captured;

static void capture(ct_log_level level, const char *message, void *user) {
    captured *c = user;
    c->count++;
    c->last_level = level;
    snprintf(c->last, sizeof c->last, "%s", message);
}

static void levels_filter_messages(void **state) {
    (void)state;
    captured c = {0};
    ct_log_level old = ct_log_get_level();
    ct_log_set_handler(capture, &c);
    ct_log_set_level(CT_LOG_WARN);
    ct_log_info("not shown %d", 1);
    ct_log_debug("not shown");
    assert_int_equal(c.count, 0);
    ct_log_warn("shown %d", 2);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.last_level, CT_LOG_WARN);
    assert_string_equal(c.last, "shown 2");
    ct_log_error("error %s", "x");
    assert_int_equal(c.count, 2);
    ct_log_set_level(CT_LOG_OFF);
    ct_log_error("silenced");
    assert_int_equal(c.count, 2);
    ct_log_set_level(CT_LOG_DEBUG);
    ct_log_debug("debug on");
    assert_int_equal(c.count, 3);
    ct_log_set_handler(NULL, NULL);
    ct_log_set_level(old);
}

static void scope_end_without_scope_warns(void **state) {
    (void)state;
    captured c = {0};
    ct_log_set_handler(capture, &c);
    /* Close the test's own scope first so the root scope is innermost. */
    ct_scope_end();
    ct_scope_end(); /* no scope open: a warning, not a crash */
    ct_scope_begin();
    ct_log_set_handler(NULL, NULL);
    assert_int_equal(c.count, 1);
    assert_non_null(strstr(c.last, "no open scope"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_filter_messages),
        cmocka_unit_test(scope_end_without_scope_warns),
    };
    return TU_RUN("log", tests);
}
