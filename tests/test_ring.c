// SPDX-License-Identifier: GPL-3.0-or-later
// The playback ring: capacity, wrap-around, partial reads and writes, drain,
// and a producer and a consumer on two threads passing a counted sequence
// with random chunk sizes (run under ThreadSanitizer by `make tsan`).
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "rp_ring.h"
#include "test.h"

static void test_capacity_rounds_up(void)
{
    rp_ring *r = rp_ring_new(1000, 2);
    CHECK(r != NULL);
    CHECK(rp_ring_capacity(r) == 1024);
    CHECK(rp_ring_writable(r) == 1024);
    CHECK(rp_ring_readable(r) == 0);
    rp_ring_free(r);
    CHECK(rp_ring_new(0, 2) == NULL);
    CHECK(rp_ring_new(16, 0) == NULL);
}

static void test_wraps_and_limits(void)
{
    rp_ring *r = rp_ring_new(8, 2);
    float in[40], out[40];
    for (int i = 0; i < 40; i++)
        in[i] = (float)i;
    // Fill 6, read 5: the next write of 7 wraps around the end.
    CHECK(rp_ring_write(r, in, 6) == 6);
    CHECK(rp_ring_read(r, out, 5) == 5);
    CHECK(out[0] == 0.0f && out[9] == 9.0f);
    CHECK(rp_ring_write(r, in, 20) == 7);  // 1 left + 7 = 8: full
    CHECK(rp_ring_writable(r) == 0);
    CHECK(rp_ring_write(r, in, 1) == 0);
    CHECK(rp_ring_readable(r) == 8);
    CHECK(rp_ring_read(r, out, 20) == 8);
    CHECK(out[0] == 10.0f && out[1] == 11.0f);  // the sixth frame written first
    for (int i = 0; i < 7; i++)
        CHECK(out[2 + 2 * i] == (float)(2 * i) && out[3 + 2 * i] == (float)(2 * i + 1));
    CHECK(rp_ring_read(r, out, 1) == 0);
    rp_ring_free(r);
}

static void test_drain_drops_everything(void)
{
    rp_ring *r = rp_ring_new(16, 1);
    float x[16] = {1, 2, 3, 4, 5};
    rp_ring_write(r, x, 5);
    CHECK(rp_ring_drain(r) == 5);
    CHECK(rp_ring_readable(r) == 0);
    CHECK(rp_ring_writable(r) == 16);
    x[0] = 9;
    rp_ring_write(r, x, 1);
    float y = 0;
    CHECK(rp_ring_read(r, &y, 1) == 1 && y == 9.0f);
    rp_ring_free(r);
}

enum { TOTAL = 4000000 };

typedef struct {
    rp_ring *r;
    uint32_t seed;
    long errors, reads;
} side;

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *producer(void *arg)
{
    side *p = arg;
    float buf[2 * 700];
    size_t sent = 0;
    while (sent < TOTAL) {
        size_t n = 1 + next_rand(&p->seed) % 700;
        if (n > TOTAL - sent)
            n = TOTAL - sent;
        for (size_t i = 0; i < n; i++) {
            buf[2 * i] = (float)((sent + i) & 0xffffff);
            buf[2 * i + 1] = -buf[2 * i];
        }
        size_t done = 0;
        while (done < n) {
            size_t k = rp_ring_write(p->r, buf + 2 * done, n - done);
            done += k;
            if (!k)
                sched_yield();
        }
        sent += n;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    side *c = arg;
    float buf[2 * 512];
    size_t got = 0;
    while (got < TOTAL) {
        size_t n = rp_ring_read(c->r, buf, 1 + next_rand(&c->seed) % 512);
        if (!n) {
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            float want = (float)((got + i) & 0xffffff);
            if (buf[2 * i] != want || buf[2 * i + 1] != -want)
                c->errors++;
        }
        got += n;
        c->reads++;
    }
    return NULL;
}

static void test_two_threads_pass_every_frame_in_order(void)
{
    rp_ring *r = rp_ring_new(1024, 2);
    side p = {r, 12345, 0, 0}, c = {r, 777, 0, 0};
    pthread_t tp, tc;
    CHECK(pthread_create(&tc, NULL, consumer, &c) == 0);
    CHECK(pthread_create(&tp, NULL, producer, &p) == 0);
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    CHECK_MSG(c.errors == 0, "%ld frames out of order or torn", c.errors);
    CHECK(c.reads > 1000);  // the threads really took turns
    CHECK(rp_ring_readable(r) == 0);
    printf("  ring: %d frames through a 1024-frame ring in %ld reads, %ld bad\n", TOTAL,
           c.reads, c.errors);
    rp_ring_free(r);
}

int main(void)
{
    RUN(test_capacity_rounds_up);
    RUN(test_wraps_and_limits);
    RUN(test_drain_drops_everything);
    RUN(test_two_threads_pass_every_frame_in_order);
    return TEST_SUMMARY("test_ring");
}
