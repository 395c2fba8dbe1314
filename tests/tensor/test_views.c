#include "../common/testutil.h"
static void placeholder(void **state) { (void)state; }
int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(placeholder)};
    return TU_RUN("views", tests);
}
