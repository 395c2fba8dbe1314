#include "onnx_harness.h"
int main(void){const struct CMUnitTest tests[]={cmocka_unit_test(ox_check_all)};return OX_RUN("x",tests);}
