// SPDX-License-Identifier: GPL-3.0-or-later
// A tiny test harness: CHECK macros that print file:line and the failing
// expression, RUN() that counts passed and failed tests, and a summary line
// "NAME: N passed, N failed" that tests/run.sh adds up.
#ifndef RP_TEST_H
#define RP_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks;
static int test_passed, test_failed;

#define CHECK(expr)                                                                   \
    do {                                                                              \
        if (!(expr)) {                                                                \
            test_failed_checks++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                                             \
    } while (0)

#define CHECK_MSG(expr, ...)                                                          \
    do {                                                                              \
        if (!(expr)) {                                                                \
            test_failed_checks++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #expr);  \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define CHECK_INT(a, b)                                                               \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) {                                                               \
            test_failed_checks++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",         \
                    __FILE__, __LINE__, #a, #b, a_, b_);                              \
        }                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double a_ = (double)(a), b_ = (double)(b);                                    \
        if (!(fabs(a_ - b_) <= (tol))) {                                              \
            test_failed_checks++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s ~= %s (%g vs %g, tol %g)\n",     \
                    __FILE__, __LINE__, #a, #b, a_, b_, (double)(tol));               \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *a_ = (a), *b_ = (b);                                              \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                      \
            test_failed_checks++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",     \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        }                                                                             \
    } while (0)

// TEST_ONLY=word runs only the tests whose names hold word.
#define RUN(fn)                                                                       \
    do {                                                                              \
        const char *only_ = getenv("TEST_ONLY");                                      \
        if (only_ && *only_ && !strstr(#fn, only_))                                   \
            break;                                                                    \
        int before_ = test_failed_checks;                                             \
        fn();                                                                         \
        if (test_failed_checks == before_) {                                          \
            test_passed++;                                                            \
            printf("  ok    %s\n", #fn);                                              \
        } else {                                                                      \
            test_failed++;                                                            \
            printf("  FAIL  %s\n", #fn);                                              \
        }                                                                             \
        fflush(stdout);                                                               \
    } while (0)

// Removes test_tmpdir() and all it holds when no check failed, and
// otherwise prints where it is kept (in tests/wav.c, as every test program
// links it).
void test_tmpdir_done(int failed);

#define TEST_SUMMARY(name)                                                            \
    (test_tmpdir_done(test_failed),                                                   \
     printf("%s: %d passed, %d failed\n", (name), test_passed, test_failed),          \
     test_failed ? 1 : 0)

#endif
