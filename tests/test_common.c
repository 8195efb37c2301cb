// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the shared helpers: status text, did-you-mean, UTF-8 decoding,
// string buffers, diagnostics and their printed form, checked growth, the
// PRNG and the hashing used for stable seeds.
#include <stdint.h>

#include "rp_common.h"
#include "rp_config.h"
#include "test.h"

// ---- status text -------------------------------------------------------------

static void test_strerror_every_status(void)
{
    for (int i = RP_OK; i < RP_STATUS_COUNT; i++) {
        const char *a = rp_strerror((rp_status)i);
        CHECK_MSG(a != NULL && a[0] != '\0', "status %d has no text", i);
        if (!a)
            continue;
        CHECK_MSG(strcmp(a, "unknown status") != 0, "status %d uses the fallback text", i);
        for (int j = RP_OK; j < i; j++) {
            const char *b = rp_strerror((rp_status)j);
            CHECK_MSG(b && strcmp(a, b) != 0, "status %d and %d share the text '%s'", i, j, a);
        }
    }
    CHECK_STR(rp_strerror(RP_OK), "success");
    CHECK_STR(rp_strerror(RP_ERR_NOMEM), "out of memory");
}

static void test_strerror_out_of_range(void)
{
    const char *fb = rp_strerror(RP_STATUS_COUNT);
    CHECK(fb != NULL && fb[0] != '\0');
    CHECK_STR(rp_strerror((rp_status)(RP_STATUS_COUNT + 7)), fb);
    CHECK_STR(rp_strerror((rp_status)-1), fb);
    for (int i = RP_OK; i < RP_STATUS_COUNT; i++)
        CHECK(strcmp(rp_strerror((rp_status)i), fb) != 0);
}

// ---- did you mean --------------------------------------------------------------

static void test_suggest(void)
{
    static const char *const c[] = {"thunder", "rain", "drone", "pod_impact", "wind"};
    size_t n = sizeof c / sizeof c[0];
    CHECK_STR(rp_suggest("thundr", c, n), "thunder");     // deletion
    CHECK_STR(rp_suggest("thnuder", c, n), "thunder");    // transposition
    CHECK_STR(rp_suggest("Rian", c, n), "rain");          // transposition, case
    CHECK_STR(rp_suggest("THUNDER", c, n), "thunder");    // case only
    CHECK_STR(rp_suggest("drones", c, n), "drone");       // insertion
    CHECK_STR(rp_suggest("pod_impakt", c, n), "pod_impact");
    CHECK(rp_suggest("xylophone", c, n) == NULL);
    CHECK(rp_suggest("zzzz", c, n) == NULL);
    // Short words allow one edit only: "ra" is two away from "rain".
    CHECK(rp_suggest("ra", c, n) == NULL);
    CHECK_STR(rp_suggest("wnd", c, n), "wind");
    // The closest wins, and the result points into the candidate array.
    static const char *const d[] = {"voice", "voices_x", "vice"};
    CHECK(rp_suggest("voices", d, 3) == d[0]);
    // NULL candidates are skipped, and no candidates means no suggestion.
    static const char *const e[] = {NULL, "render", NULL};
    CHECK_STR(rp_suggest("rendr", e, 3), "render");
    CHECK(rp_suggest("render", e, 0) == NULL);
    // Over-long words are never "close".
    char longw[100];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    const char *f[] = {longw};
    CHECK(rp_suggest(longw, f, 1) == NULL);
}

static void test_strcasecmp(void)
{
    CHECK_INT(rp_strcasecmp("Narrator", "narrator"), 0);
    CHECK_INT(rp_strcasecmp("", ""), 0);
    CHECK(rp_strcasecmp("abc", "abd") < 0);
    CHECK(rp_strcasecmp("ABD", "abc") > 0);
    CHECK(rp_strcasecmp("ab", "abc") < 0);
    CHECK(rp_strcasecmp("abc", "AB") > 0);
    static const char *const list[] = {"mr", "dr", NULL};
    CHECK(rp_in_list("Dr", list));
    CHECK(rp_in_list("mr", list));
    CHECK(!rp_in_list("mrs", list));
    CHECK(!rp_in_list("", list));
    CHECK(rp_in_list("capt", rp_abbreviations));
}

// ---- UTF-8 ----------------------------------------------------------------------

static void check_decode(int src_line, const char *s, size_t n, uint32_t cp, int len)
{
    int got_len = -1;
    uint32_t got = rp_utf8_decode(s, n, &got_len);
    if (got != cp || got_len != len) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: decode gave U+%04X len %d, want U+%04X len %d\n", __FILE__,
                src_line, (unsigned)got, got_len, (unsigned)cp, len);
    }
}
#define CHECK_DECODE(s, n, cp, len) check_decode(__LINE__, s, n, cp, len)

static void test_utf8_decode_valid(void)
{
    CHECK_DECODE("A", 1, 0x41, 1);
    CHECK_DECODE("\x7F", 1, 0x7F, 1);
    CHECK_DECODE("\xC2\x80", 2, 0x80, 2);          // smallest 2-byte
    CHECK_DECODE("\xC3\xA9", 2, 0xE9, 2);          // é
    CHECK_DECODE("\xDF\xBF", 2, 0x7FF, 2);         // largest 2-byte
    CHECK_DECODE("\xE0\xA0\x80", 3, 0x800, 3);     // smallest 3-byte
    CHECK_DECODE("\xE2\x82\xAC", 3, 0x20AC, 3);    // €
    CHECK_DECODE("\xE2\x80\x9Dx", 4, 0x201D, 3);   // ” followed by more text
    CHECK_DECODE("\xEF\xBF\xBF", 3, 0xFFFF, 3);
    CHECK_DECODE("\xF0\x90\x80\x80", 4, 0x10000, 4);
    CHECK_DECODE("\xF0\x9F\x98\x80", 4, 0x1F600, 4);  // 😀
    CHECK_DECODE("\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4);
}

static void test_utf8_decode_invalid(void)
{
    CHECK_DECODE("\x80", 1, 0xFFFD, 1);             // lone continuation
    CHECK_DECODE("\xBF" "A", 2, 0xFFFD, 1);
    CHECK_DECODE("\xFF", 1, 0xFFFD, 1);
    CHECK_DECODE("\xFE\x80", 2, 0xFFFD, 1);
    CHECK_DECODE("\xF8\x88\x80\x80\x80", 5, 0xFFFD, 1);  // 5-byte form
    CHECK_DECODE("\xC0\x80", 2, 0xFFFD, 1);         // overlong NUL
    CHECK_DECODE("\xC1\xBF", 2, 0xFFFD, 1);         // overlong 0x7F
    CHECK_DECODE("\xE0\x80\x80", 3, 0xFFFD, 1);     // overlong 3-byte
    CHECK_DECODE("\xE0\x9F\xBF", 3, 0xFFFD, 1);     // overlong 0x7FF
    CHECK_DECODE("\xF0\x8F\xBF\xBF", 4, 0xFFFD, 1); // overlong 0xFFFF
    CHECK_DECODE("\xED\xA0\x80", 3, 0xFFFD, 1);     // surrogate D800
    CHECK_DECODE("\xED\xBF\xBF", 3, 0xFFFD, 1);     // surrogate DFFF
    CHECK_DECODE("\xF4\x90\x80\x80", 4, 0xFFFD, 1); // above U+10FFFF
    // Truncated by the byte count.
    CHECK_DECODE("\xC3\xA9", 1, 0xFFFD, 1);
    CHECK_DECODE("\xE2\x82\xAC", 2, 0xFFFD, 1);
    CHECK_DECODE("\xF0\x9F\x98\x80", 3, 0xFFFD, 1);
    // Truncated by a non-continuation byte.
    CHECK_DECODE("\xE2\x82" "A", 3, 0xFFFD, 1);
    CHECK_DECODE("\xC3" "A", 2, 0xFFFD, 1);
    CHECK_DECODE("\xF0\x9F\x98" " ", 4, 0xFFFD, 1);
}

static void test_utf8_count(void)
{
    const char *s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a é € 😀 z
    CHECK_INT(strlen(s), 11);
    CHECK_INT(rp_utf8_count(s, strlen(s)), 5);
    CHECK_INT(rp_utf8_count(s, 0), 0);
    CHECK_INT(rp_utf8_count(s, 1), 1);
    CHECK_INT(rp_utf8_count(s, 3), 2);
    CHECK_INT(rp_utf8_count("hello", 5), 5);
    // Every invalid byte is one code point (U+FFFD).
    CHECK_INT(rp_utf8_count("\xFF\xFE" "a\x80", 4), 4);
    CHECK_INT(rp_utf8_count("\xE2\x82" "A", 3), 3);
    // A sequence cut by n counts its bytes one by one.
    CHECK_INT(rp_utf8_count("\xE2\x82\xAC", 2), 2);
}

// ---- string buffer ---------------------------------------------------------------

static void test_strbuf_growth(void)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK(b.s == NULL && b.len == 0);
    for (int i = 0; i < 9999; i++)
        rp_strbuf_append(&b, "abc", (size_t)(i % 3 + 1));  // "a", "ab", "abc", ...
    CHECK_INT(b.len, 19998);
    CHECK(!b.failed);
    CHECK_INT(strlen(b.s), 19998);
    CHECK(b.cap > b.len);
    CHECK(strncmp(b.s, "aababca", 7) == 0);
    CHECK_STR(b.s + 19992, "aababc");
    rp_strbuf_puts(&b, "");
    CHECK_INT(b.len, 19998);
    rp_strbuf_deinit(&b);
    CHECK(b.s == NULL && b.len == 0 && b.cap == 0);
    // Appending a part of a string stops at n, even past NULs in the source.
    rp_strbuf_append(&b, "xy\0z", 4);
    CHECK_INT(b.len, 4);
    CHECK(memcmp(b.s, "xy\0z", 5) == 0);
    rp_strbuf_deinit(&b);
    // Nothing from nowhere (an empty buffer's bytes, copied): an empty string.
    rp_strbuf_append(&b, NULL, 0);
    CHECK(!b.failed && b.len == 0 && b.s && b.s[0] == '\0');
    rp_strbuf_deinit(&b);
}

static void test_strbuf_printf_long(void)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_printf(&b, "%d-%s|", 42, "x");
    CHECK_STR(b.s, "42-x|");
    // Longer than any stack buffer the implementation may use.
    enum { N = 5000 };
    char *big = malloc(N + 1);
    CHECK(big != NULL);
    if (!big)
        return;
    for (int i = 0; i < N; i++)
        big[i] = (char)('a' + i % 26);
    big[N] = '\0';
    rp_strbuf_printf(&b, "<%s>%d", big, 7);
    CHECK_INT(b.len, 5 + 1 + N + 1 + 1);
    CHECK(b.s && strncmp(b.s + 6, big, N) == 0);
    CHECK_STR(b.s + 6 + N, ">7");
    // Exactly around a 512-byte boundary.
    rp_strbuf_deinit(&b);
    for (int n = 508; n <= 516; n++) {
        rp_strbuf_printf(&b, "%.*s", n, big);
        CHECK_INT(b.len, n);
        CHECK(strncmp(b.s, big, (size_t)n) == 0 && b.s[n] == '\0');
        rp_strbuf_deinit(&b);
    }
    free(big);
    char *t = rp_strbuf_take(&b);  // empty buffer: an empty string, not NULL
    CHECK_STR(t, "");
    free(t);
    rp_strbuf_puts(&b, "keep");
    t = rp_strbuf_take(&b);
    CHECK_STR(t, "keep");
    CHECK(b.s == NULL && b.len == 0);
    free(t);
}

// ---- diagnostics -------------------------------------------------------------------

static void test_diag_format(void)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_diag_add(&d, RP_DIAG_ERROR, "f.txt", 3, 7, "parse", "hint", "%s", "msg");
    rp_diag_add(&d, RP_DIAG_ERROR, "f.txt", 0, 0, "cast", NULL, "whole %s", "file");
    rp_diag_add(&d, RP_DIAG_WARNING, "g.ini", 12, 5, "cast", NULL, "value %d", 5);
    rp_diag_add(&d, RP_DIAG_NOTE, NULL, 0, 0, NULL, "h", "no file");
    rp_diag_add(&d, RP_DIAG_ERROR, "f.txt", 4, 0, "parse", NULL, "no col");
    CHECK_INT(d.n, 5);
    CHECK_INT(d.n_errors, 3);
    char buf[256];
    CHECK_STR(rp_diag_format(&d.items[0], buf, sizeof buf), "f.txt:3:7: error: msg (hint)");
    CHECK_STR(rp_diag_format(&d.items[1], buf, sizeof buf), "f.txt: error: whole file");
    CHECK_STR(rp_diag_format(&d.items[2], buf, sizeof buf), "g.ini:12:5: warning: value 5");
    CHECK_STR(rp_diag_format(&d.items[3], buf, sizeof buf), "note: no file (h)");
    CHECK_STR(rp_diag_format(&d.items[4], buf, sizeof buf), "f.txt:4:1: error: no col");
    CHECK_STR(d.items[0].subsystem, "parse");
    CHECK_STR(d.items[3].subsystem, "");
    CHECK(d.items[3].file == NULL);
    CHECK(d.items[2].hint == NULL);
    CHECK_INT(d.items[0].line, 3);
    CHECK_INT(d.items[0].col, 7);
    // A small buffer truncates but stays terminated.
    char small[8];
    memset(small, 'X', sizeof small);
    CHECK(rp_diag_format(&d.items[0], small, sizeof small) == small);
    CHECK_STR(small, "f.txt:3");
    rp_diags_deinit(&d);
    CHECK(d.items == NULL && d.n == 0 && d.n_errors == 0);
    rp_diags_deinit(NULL);
    rp_diag_add(NULL, RP_DIAG_ERROR, "f", 1, 1, "x", NULL, "ignored");
}

static void test_diag_limit(void)
{
    rp_diags d;
    rp_diags_init(&d);
    for (int i = 0; i < RP_MAX_DIAGS + 50; i++)
        rp_diag_add(&d, i % 2 ? RP_DIAG_WARNING : RP_DIAG_ERROR, "f", i + 1, 1, "t", NULL,
                    "number %d", i);
    CHECK_INT(d.n, RP_MAX_DIAGS);
    // Errors beyond the kept ones are still counted.
    CHECK_INT(d.n_errors, (RP_MAX_DIAGS + 50) / 2);
    CHECK_STR(d.items[RP_MAX_DIAGS - 1].msg, "number 199");
    rp_diags_deinit(&d);
    // A message longer than any internal buffer is cut, not overflowed.
    char big[3000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rp_diags_init(&d);
    rp_diag_add(&d, RP_DIAG_ERROR, "f", 1, 1, "t", NULL, "%s", big);
    CHECK_INT(d.n, 1);
    CHECK(strlen(d.items[0].msg) > 100 && strlen(d.items[0].msg) < sizeof big);
    rp_diags_deinit(&d);
}

// ---- allocation --------------------------------------------------------------------

static void test_grow(void)
{
    int *items = NULL;
    size_t cap = 0;
    CHECK_INT(rp_grow((void **)&items, &cap, 3, sizeof *items), RP_OK);
    CHECK(items != NULL && cap >= 3);
    size_t old = cap;
    CHECK_INT(rp_grow((void **)&items, &cap, old, sizeof *items), RP_OK);
    CHECK_INT(cap, old);  // no change when it fits
    CHECK_INT(rp_grow((void **)&items, &cap, 1000, sizeof *items), RP_OK);
    CHECK(cap >= 1000);
    for (int i = 0; i < 1000; i++)
        items[i] = i;
    CHECK_INT(items[999], 999);
    int *before = items;
    size_t cap_before = cap;
    // Refusals: the element count overflows size_t bytes, or the count itself.
    CHECK_INT(rp_grow((void **)&items, &cap, SIZE_MAX / 2, sizeof *items), RP_ERR_NOMEM);
    CHECK_INT(rp_grow((void **)&items, &cap, SIZE_MAX, 1), RP_ERR_NOMEM);
    CHECK_INT(rp_grow((void **)&items, &cap, SIZE_MAX / 8 + 1, 16), RP_ERR_NOMEM);
    CHECK(items == before);
    CHECK_INT(cap, cap_before);
    CHECK_INT(items[500], 500);
    free(items);
    CHECK(rp_realloc_array(NULL, SIZE_MAX / 4 + 1, 8) == NULL);
    void *z = rp_calloc(0, 8);  // zero size still gives a pointer to free
    CHECK(z != NULL);
    free(z);
    unsigned char *c = rp_calloc(16, 4);
    CHECK(c != NULL);
    int zero = 1;
    for (int i = 0; c && i < 64; i++)
        zero &= c[i] == 0;
    CHECK(zero);
    free(c);
    char *s = rp_strndup("abcdef", 3);
    CHECK_STR(s, "abc");
    free(s);
    CHECK(rp_strdup(NULL) == NULL);
}

// ---- PRNG and hashing ----------------------------------------------------------------

static void test_rng_determinism(void)
{
    rp_rng a = {12345}, b = {12345}, c = {12346};
    int same = 1, differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rp_rng_next(&a), y = rp_rng_next(&b), z = rp_rng_next(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same);
    CHECK_INT(differ, 1000);
    // splitmix64 reference value for seed 0 (Vigna's splitmix64.c).
    rp_rng r0 = {0};
    CHECK(rp_rng_next(&r0) == 0xE220A8397B1DCDAFull);
}

static void test_rng_uniform(void)
{
    rp_rng r = {7};
    enum { N = 100000, B = 10 };
    double sum = 0.0, lo = 1.0, hi = 0.0;
    int bins[B] = {0};
    for (int i = 0; i < N; i++) {
        double u = rp_rng_unit(&r);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        int k = (int)(u * B);
        if (k >= 0 && k < B)
            bins[k]++;
    }
    CHECK_NEAR(sum / N, 0.5, 0.01);
    CHECK(lo >= 0.0 && lo < 0.001);
    CHECK(hi < 1.0 && hi > 0.999);
    for (int k = 0; k < B; k++)
        CHECK_MSG(abs(bins[k] - N / B) < N / B / 20, "bin %d has %d of %d", k, bins[k], N);
    // Bipolar: in [-1, 1), mean near zero.
    double bsum = 0.0;
    int in_range = 1;
    for (int i = 0; i < N; i++) {
        float x = rp_rng_bipolar(&r);
        in_range &= x >= -1.0f && x < 1.0f;
        bsum += x;
    }
    CHECK(in_range);
    CHECK_NEAR(bsum / N, 0.0, 0.02);
}

static void test_hash_and_seed_mix(void)
{
    // FNV-1a 64 reference vectors.
    CHECK(rp_hash64("", 0, RP_HASH_INIT) == 0xcbf29ce484222325ull);
    CHECK(rp_hash64("a", 1, RP_HASH_INIT) == 0xaf63dc4c8601ec8cull);
    CHECK(rp_hash64("foobar", 6, RP_HASH_INIT) == 0x85944171f73967e8ull);
    // Chaining equals hashing the concatenation.
    CHECK(rp_hash64("bar", 3, rp_hash64("foo", 3, RP_HASH_INIT)) ==
          rp_hash64("foobar", 6, RP_HASH_INIT));
    CHECK(rp_seed_mix(1, 2) == rp_seed_mix(1, 2));
    CHECK(rp_seed_mix(1, 2) != rp_seed_mix(2, 1));
    CHECK(rp_seed_mix(1, 2) != rp_seed_mix(1, 3));
    CHECK(rp_seed_mix(0, 0) != rp_seed_mix(0, 1));
    CHECK(rp_seed_mix(0, 0) != rp_seed_mix(1, 0));
    // No collisions over a small grid of seeds and cue numbers.
    enum { G = 32 };
    static uint64_t seen[G * G];
    size_t n = 0;
    int collisions = 0;
    for (uint64_t a = 0; a < G; a++) {
        for (uint64_t b = 0; b < G; b++) {
            uint64_t h = rp_seed_mix(a, b);
            for (size_t k = 0; k < n; k++)
                collisions += seen[k] == h;
            seen[n++] = h;
        }
    }
    CHECK_INT(collisions, 0);
}

static void test_db_to_gain(void)
{
    CHECK_NEAR(rp_db_to_gain(0.0), 1.0, 1e-12);
    CHECK_NEAR(rp_db_to_gain(-6.0), 0.501187, 1e-6);
    CHECK_NEAR(rp_db_to_gain(20.0), 10.0, 1e-12);
    CHECK_NEAR(rp_db_to_gain(-1.0), 0.891251, 1e-6);
}

// The effects' tanh and sine (voice drive, oscillators) against libm's in
// double precision, over and past their ranges: within their stated error,
// odd, and tanh never past 1.
static void test_fast_tanh_and_sine_match_libm(void)
{
    double worst_tanh = 0, worst_sin = 0;
    int odd = 1, bounded = 1;
    for (int i = -200000; i <= 200000; i++) {
        float x = (float)i * 1e-4f;  // -20 .. 20
        float t = rp_fast_tanh(x);
        worst_tanh = fmax(worst_tanh, fabs((double)t - tanh((double)x)));
        odd &= rp_fast_tanh(-x) == -t;
        bounded &= fabsf(t) <= 1.0f;
    }
    for (int i = -100000; i <= 100000; i++) {
        float s = (float)i * 5e-6f;  // -0.5 .. 0.5 turns
        float v = rp_sin_turns(s);
        worst_sin = fmax(worst_sin, fabs((double)v - sin(2.0 * M_PI * (double)s)));
        odd &= rp_sin_turns(-s) == -v;
    }
    CHECK_MSG(worst_tanh < 4e-7, "tanh off by %g", worst_tanh);
    CHECK_MSG(worst_sin < 2e-7, "sine off by %g", worst_sin);
    CHECK(odd);
    CHECK(bounded);
}

// ---- 16-bit samples and peaks ---------------------------------------------------

// What the vector code must give, one sample at a time: scaled, rounded to
// the nearest (ties to even), clamped to 16 bits, NaN to 0.
static int16_t s16_reference(float v, float scale)
{
    v *= scale;
    if (v != v)
        return 0;
    if (v >= 32767.0f)
        return 32767;
    if (v <= -32768.0f)
        return -32768;
    return (int16_t)nearbyintf(v);
}

static float peak_reference(const float *x, size_t n)
{
    float p = 0.0f;
    for (size_t i = 0; i < n; i++)
        p = fabsf(x[i]) > p ? fabsf(x[i]) : p;  // NaN is passed over
    return p;
}

// Lengths around the vectors' sizes (the tails), scales of a power of two
// and not, halves (ties), out-of-range values, infinities, NaN and -0.
static void test_s16_and_peak_match_one_at_a_time(void)
{
    enum { N = 300 };
    float in[N], back[N];
    int16_t q[N + 1];
    rp_rng r = {7};
    int bad_from = 0, bad_to = 0, bad_peak = 0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = trial < 64 ? (size_t)trial : (size_t)(rp_rng_next(&r) % N);
        float scale = trial % 3 ? ldexpf(1.0f, (int)(rp_rng_next(&r) % 24)) : 32767.0f;
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rp_rng_next(&r) % 40;
            float v = rp_rng_bipolar(&r) * (k < 30 ? 1.0f : 4.0f);
            if (k == 35)  // exactly halfway between two steps
                v = ((float)(int)(rp_rng_next(&r) % 65536 - 32768) + 0.5f) / scale;
            v = k == 36 ? NAN : k == 37 ? INFINITY : k == 38 ? -INFINITY : k == 39 ? -0.0f : v;
            in[i] = v;
        }
        q[n] = 0x5a5a;
        rp_s16_from_float(in, q, n, scale);
        for (size_t i = 0; i < n; i++)
            bad_from += q[i] != s16_reference(in[i], scale);
        bad_from += q[n] != 0x5a5a;  // nothing written past the end
        rp_s16_to_float(q, back, n, 1.0f / scale);
        for (size_t i = 0; i < n; i++)
            bad_to += back[i] != (float)q[i] * (1.0f / scale);
        float p = rp_peak(in, n), want = peak_reference(in, n);
        bad_peak += memcmp(&p, &want, sizeof p) != 0;
    }
    CHECK_MSG(bad_from == 0, "%d samples differ from one-at-a-time rounding", bad_from);
    CHECK_MSG(bad_to == 0, "%d samples differ from one-at-a-time widening", bad_to);
    CHECK_MSG(bad_peak == 0, "%d peaks differ from one-at-a-time", bad_peak);
}

// Rounding on a grid of 2^-e in one go gives what rounding to 16 bits and
// widening back give, to the bit, within the range it is for.
static void test_s16_round_is_there_and_back(void)
{
    enum { N = 300 };
    float x[N + 1], want[N];
    int16_t q[N + 1], want_q[N];
    rp_rng r = {11};
    int bad_q = 0, bad_x = 0, past = 0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = trial < 64 ? (size_t)trial : (size_t)(rp_rng_next(&r) % N);
        int e = (int)(rp_rng_next(&r) % 60) - 30;
        float top = ldexpf(32767.49f, -e);  // the largest magnitude the grid takes
        for (size_t i = 0; i < n; i++) {
            uint64_t k = rp_rng_next(&r) % 40;
            float v = rp_rng_bipolar(&r) * top * (k < 20 ? 1.0f : 1e-3f);
            if (k == 35)  // exactly halfway between two steps
                v = ldexpf((float)(int)(rp_rng_next(&r) % 65534 - 32767) + 0.5f, -e);
            v = k == 36 ? NAN : k == 37 ? -0.0f : k == 38 ? top : k == 39 ? -top : v;
            x[i] = v;
        }
        x[n] = 7.0f;
        q[n] = 0x5a5a;
        rp_s16_from_float(x, want_q, n, ldexpf(1.0f, e));
        rp_s16_to_float(want_q, want, n, ldexpf(1.0f, -e));
        rp_s16_round(x, q, n, e);
        bad_q += n && memcmp(q, want_q, n * sizeof *q) != 0;
        bad_x += n && memcmp(x, want, n * sizeof *x) != 0;
        past += x[n] != 7.0f || q[n] != 0x5a5a;
    }
    CHECK_MSG(bad_q == 0, "%d blocks' 16-bit numbers differ from rp_s16_from_float's", bad_q);
    CHECK_MSG(bad_x == 0, "%d blocks differ from rp_s16_to_float's", bad_x);
    CHECK_MSG(past == 0, "%d blocks written past their end", past);
}

int main(void)
{
    RUN(test_strerror_every_status);
    RUN(test_strerror_out_of_range);
    RUN(test_suggest);
    RUN(test_strcasecmp);
    RUN(test_utf8_decode_valid);
    RUN(test_utf8_decode_invalid);
    RUN(test_utf8_count);
    RUN(test_strbuf_growth);
    RUN(test_strbuf_printf_long);
    RUN(test_diag_format);
    RUN(test_diag_limit);
    RUN(test_grow);
    RUN(test_rng_determinism);
    RUN(test_rng_uniform);
    RUN(test_hash_and_seed_mix);
    RUN(test_db_to_gain);
    RUN(test_fast_tanh_and_sine_match_libm);
    RUN(test_s16_and_peak_match_one_at_a_time);
    RUN(test_s16_round_is_there_and_back);
    return TEST_SUMMARY("test_common");
}
