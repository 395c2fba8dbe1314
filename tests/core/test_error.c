/* Thread-local error state: first error wins, NULL propagation, clearing, threads, abort mode. */
#include "../common/testutil.h"

#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void starts_clean(void **state) {
    (void)state;
    assert_true(ct_ok());
    assert_string_equal(ct_last_error(), "");
    assert_int_equal(ct_last_status(), CT_OK);
}

static void records_message_and_status(void **state) {
    (void)state;
    assert_null(ct_error(CT_ERR_SHAPE, "mm: mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)", 64, 784, 256, 10));
    assert_false(ct_ok());
    assert_int_equal(ct_last_status(), CT_ERR_SHAPE);
    assert_string_equal(ct_last_error(), "mm: mat1 and mat2 shapes cannot be multiplied (64x784 and 256x10)");
    ct_clear_error();
    assert_true(ct_ok());
}

static void first_error_survives_a_null_chain(void **state) {
    (void)state;
    /* A real failing op, then a chain of ops fed its NULL: the first message must survive. */
    ct_tensor *a = ct_zeros(CT_SHAPE(2, 3));
    ct_tensor *bad = ct_view(a, CT_SHAPE(4, 2)); /* 6 elements cannot be 4x2 */
    assert_null(bad);
    const char *first = "shape '[4, 2]' is invalid for input of size 6";
    ct_tensor *x = bad;
    for (int i = 0; i < 50; i++) {
        x = ct_transpose(ct_reshape(ct_unsqueeze(x, 0), CT_SHAPE(-1)), 0, 0);
        assert_null(x);
    }
    assert_null(ct_contiguous(ct_clone(x)));
    tu_assert_error(CT_ERR_SHAPE, first);
}

static void null_input_without_prior_error_says_so(void **state) {
    (void)state;
    assert_null(ct_transpose(NULL, 0, 1));
    tu_assert_error(CT_ERR_NULL, "transpose: argument 1 is NULL");
}

static void *thread_body(void *arg) {
    (void)arg;
    /* A fresh thread has no pending error even if the main thread has one. */
    int clean = ct_ok();
    ct_error(CT_ERR_IO, "thread error");
    return (void *)(intptr_t)clean;
}

static void errors_are_thread_local(void **state) {
    (void)state;
    ct_error(CT_ERR_ARG, "main error");
    pthread_t th;
    void *clean = NULL;
    pthread_create(&th, NULL, thread_body, NULL);
    pthread_join(th, &clean);
    assert_true((intptr_t)clean);
    tu_assert_error(CT_ERR_ARG, "main error"); /* untouched by the other thread */
}

static void status_names(void **state) {
    (void)state;
    assert_string_equal(ct_status_name(CT_ERR_OOM), "out of memory");
    assert_string_equal(ct_status_name(CT_OK), "ok");
}

static void abort_mode_aborts_with_message(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        ct_set_abort_on_error(true);
        ct_error(CT_ERR_INDEX, "index 7 is out of bounds for dimension 0 with size 3");
        _exit(0); /* not reached when abort works */
    }
    close(fds[1]);
    char buf[512] = {0};
    ssize_t got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(got > 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    assert_non_null(strstr(buf, "index 7 is out of bounds for dimension 0 with size 3"));
}

static const char *self_path; /* argv[0]: /proc/self/exe would be valgrind itself under valgrind */

static void abort_mode_from_environment(void **state) {
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        dup2(devnull, 2);
        setenv("CT_ABORT_ON_ERROR", "1", 1);
        char *argv[] = {(char *)self_path, "--child-error", NULL};
        execv(self_path, argv);
        _exit(3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(int argc, char **argv) {
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "--child-error") == 0) {
        ct_init(); /* reads CT_ABORT_ON_ERROR */
        ct_view(ct_zeros(CT_SHAPE(3)), CT_SHAPE(2));
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_clean),
        cmocka_unit_test(records_message_and_status),
        cmocka_unit_test(first_error_survives_a_null_chain),
        cmocka_unit_test(null_input_without_prior_error_says_so),
        cmocka_unit_test(errors_are_thread_local),
        cmocka_unit_test(status_names),
        cmocka_unit_test(abort_mode_aborts_with_message),
        cmocka_unit_test(abort_mode_from_environment),
    };
    return TU_RUN("error", tests);
}
