// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the console of `radioplay play`: key decoding (arrows in both
// forms, unknown and cut-short escape sequences), time and status line
// formatting measured in code points and bar cells, the plain display byte
// for byte, and the fancy display and raw mode on a real pseudo-terminal,
// including the restore by the atexit handler of a child that never closes.
#define _XOPEN_SOURCE 700 // posix_openpt
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "rp_common.h"
#include "rp_console.h"
#include "test.h"

static double now_ms(void)
{
    return rp_now_s() * 1e3;
}

// ---- decode ------------------------------------------------------------------

static void test_decode_keys(void)
{
    static const struct {
        const char *bytes;
        rp_key key;
        size_t used;
    } cases[] = {
        {" ", RP_KEY_PAUSE, 1},
        {"q", RP_KEY_QUIT, 1},
        {"Q", RP_KEY_QUIT, 1},
        {"\x03", RP_KEY_QUIT, 1},
        {"\x04", RP_KEY_QUIT, 1},
        {"\033", RP_KEY_QUIT, 1},
        {"n", RP_KEY_NEXT, 1},
        {"N", RP_KEY_NEXT, 1},
        {"p", RP_KEY_PREV, 1},
        {"P", RP_KEY_PREV, 1},
        {"h", RP_KEY_BACK, 1},
        {",", RP_KEY_BACK, 1},
        {"<", RP_KEY_BACK, 1},
        {"l", RP_KEY_FORWARD, 1},
        {".", RP_KEY_FORWARD, 1},
        {">", RP_KEY_FORWARD, 1},
        {"\033[D", RP_KEY_BACK, 3},
        {"\033OD", RP_KEY_BACK, 3},
        {"\033[C", RP_KEY_FORWARD, 3},
        {"\033OC", RP_KEY_FORWARD, 3},
        // consumed whole, no key
        {"\033[A", RP_KEY_NONE, 3},
        {"\033OA", RP_KEY_NONE, 3},
        {"\033[1;5C", RP_KEY_NONE, 6},
        {"\033[3~", RP_KEY_NONE, 4},
        {"\033[200~", RP_KEY_NONE, 6},
        {"\033x", RP_KEY_NONE, 2},
        {"\033\033[C", RP_KEY_NONE, 4},
        {"x", RP_KEY_NONE, 1},
        {"\r", RP_KEY_NONE, 1},
        {"\xc3\xa9", RP_KEY_NONE, 2},
        {"\xe2\x86\x92", RP_KEY_NONE, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t used = 99;
        rp_key k = rp_console_decode(cases[i].bytes, strlen(cases[i].bytes), &used);
        CHECK_MSG(k == cases[i].key, "case %zu: key %d, want %d", i, (int)k, (int)cases[i].key);
        CHECK_MSG(used == cases[i].used, "case %zu: used %zu, want %zu", i, used, cases[i].used);
    }
    size_t used = 99;
    CHECK_INT(rp_console_decode("", 0, &used), RP_KEY_NONE);
    CHECK_INT(used, 0);
    // A key followed by more bytes takes only its own.
    CHECK_INT(rp_console_decode("\033[Cq", 4, &used), RP_KEY_FORWARD);
    CHECK_INT(used, 3);
    CHECK_INT(rp_console_decode("qq", 2, &used), RP_KEY_QUIT);
    CHECK_INT(used, 1);
}

static void test_decode_stream(void)
{
    const char s[] = "q\033[C \033[1;5Cn\033OD\033[Ap\xc3\xa9.\033[D";
    const rp_key want[] = {RP_KEY_QUIT, RP_KEY_FORWARD, RP_KEY_PAUSE,   RP_KEY_NEXT,
                           RP_KEY_BACK, RP_KEY_PREV,    RP_KEY_FORWARD, RP_KEY_BACK};
    size_t pos = 0, nk = 0, steps = 0, n = sizeof s - 1;
    while (pos < n && steps++ < 100) {
        size_t used = 0;
        rp_key k = rp_console_decode(s + pos, n - pos, &used);
        CHECK(used >= 1 && used <= n - pos);
        pos += used ? used : 1;
        if (k != RP_KEY_NONE) {
            CHECK_MSG(nk < 8 && k == want[nk], "key %zu is %d", nk, (int)k);
            nk++;
        }
    }
    CHECK_INT(pos, n);
    CHECK_INT(nk, 8);
}

static void test_decode_partial(void)
{
    // What more bytes could still complete...
    CHECK_INT(rp_console_partial("\033", 1), 1);
    CHECK_INT(rp_console_partial("\033[", 2), 1);
    CHECK_INT(rp_console_partial("\033[1;5", 5), 1);
    CHECK_INT(rp_console_partial("\033O", 2), 1);
    CHECK_INT(rp_console_partial("\033\033[", 3), 1);
    // ...and what is complete, or no escape sequence at all.
    CHECK_INT(rp_console_partial("\033[C", 3), 0);
    CHECK_INT(rp_console_partial("\033[1;5C", 6), 0);
    CHECK_INT(rp_console_partial("\033OC", 3), 0);
    CHECK_INT(rp_console_partial("\033x", 2), 0);
    CHECK_INT(rp_console_partial("q", 1), 0);
    CHECK_INT(rp_console_partial("", 0), 0);
    CHECK_INT(rp_console_partial("\033[C\033[", 5), 0); // the first key is whole
    // A cut-short sequence, decoded anyway, is dropped whole without a key.
    size_t used = 0;
    CHECK_INT(rp_console_decode("\033[", 2, &used), RP_KEY_NONE);
    CHECK_INT(used, 2);
    CHECK_INT(rp_console_decode("\033[1;", 4, &used), RP_KEY_NONE);
    CHECK_INT(used, 4);
    CHECK_INT(rp_console_decode("\033O", 2, &used), RP_KEY_NONE);
    CHECK_INT(used, 2);
    // A runaway sequence is not awaited for ever and is consumed in bounded pieces.
    char runaway[64];
    memset(runaway, '1', sizeof runaway);
    runaway[0] = '\033', runaway[1] = '[';
    CHECK_INT(rp_console_partial(runaway, sizeof runaway), 0);
    CHECK_INT(rp_console_decode(runaway, sizeof runaway, &used), RP_KEY_NONE);
    CHECK(used >= 2 && used < sizeof runaway);
}

// ---- time and status line ------------------------------------------------------

static void test_format_time(void)
{
    char b[32];
    static const struct {
        double s;
        const char *want;
    } cases[] = {{0, "0:00"},       {59.9, "0:59"},      {61, "1:01"},      {151.7, "2:31"},
                 {599, "9:59"},     {600, "10:00"},      {3599.9, "59:59"}, {3600, "1:00:00"},
                 {3725, "1:02:05"}, {36000, "10:00:00"}, {-5, "0:00"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_console_format_time(b, sizeof b, cases[i].s);
        CHECK_STR(b, cases[i].want);
    }
    rp_console_format_time(b, sizeof b, NAN);
    CHECK_STR(b, "0:00");
    rp_console_format_time(b, sizeof b, INFINITY);
    CHECK(strlen(b) > 0 && strlen(b) < 16);
}

static int cp_count(const char *s)
{
    return (int)rp_utf8_count(s, strlen(s));
}

// 1 when s is whole, valid UTF-8 without control characters.
static int clean_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        int len;
        uint32_t cp = rp_utf8_decode(s + i, n - i, &len);
        if (cp < 0x20 || cp == 0x7f || (cp == 0xfffd && len == 1))
            return 0;
        i += (size_t)len;
    }
    return 1;
}

static void test_status_width(void)
{
    static const char *const speakers[] = {
        NULL,
        "Kirk",
        "Commander Elizabeth Shelby-Ramirez of the Starship Endeavour",
        "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m-\xc3\x98ster \xe5\x8c\x97\xe4\xba\xac\xe5\xb8\x82 "
        "\xf0\x9f\x8e\xad\xf0\x9f\x8e\xad\xf0\x9f\x8e\xad",
        "Ki\033[31mrk\x07",
    };
    static const double times[][2] = {{0, 0}, {151, 506}, {4000, 7325.5}, {506, 506}, {9, -1}};
    char b[2048];
    for (size_t si = 0; si < sizeof speakers / sizeof speakers[0]; si++)
        for (size_t ti = 0; ti < sizeof times / sizeof times[0]; ti++)
            for (int mode = 0; mode < 8; mode++)
                for (int w = 1; w <= 200; w++) {
                    rp_console_state s = {.speaker = speakers[si],
                                          .text = "Shield harmonics at forty percent.",
                                          .pos_s = times[ti][0],
                                          .total_s = times[ti][1],
                                          .total_exact = mode & 1,
                                          .paused = (mode >> 1) & 1,
                                          .seeking = (mode >> 2) & 1};
                    rp_console_format_status(b, sizeof b, &s, w);
                    CHECK_MSG(cp_count(b) <= w, "width %d: %d code points: '%s'", w, cp_count(b),
                              b);
                    CHECK_MSG(clean_utf8(b), "width %d: bad bytes in '%s'", w, b);
                    CHECK_MSG(w < 20 || cp_count(b) >= w - 24,
                              "width %d: only %d code points used: '%s'", w, cp_count(b), b);
                }
    // A small buffer truncates at a whole code point.
    rp_console_state s = {.speaker = speakers[3], .pos_s = 1, .total_s = 2, .total_exact = 1};
    for (size_t size = 1; size < 40; size++) {
        char small[40];
        rp_console_format_status(small, size, &s, 200);
        CHECK(strlen(small) < size);
        CHECK(clean_utf8(small));
    }
    rp_console_format_status(b, sizeof b, &s, 0);
    CHECK_STR(b, "");
}

static void test_status_content(void)
{
    char b[512], p[512];
    rp_console_state s = {.speaker = "Kirk", .pos_s = 151.2, .total_s = 506.9, .total_exact = 1};
    for (int w = 40; w <= 200; w++) {
        rp_console_format_status(b, sizeof b, &s, w);
        CHECK_MSG(strstr(b, "2:31 / 8:26") != NULL, "width %d: '%s'", w, b);
        CHECK_MSG(strchr(b, '~') == NULL, "width %d: '%s'", w, b);
        CHECK_MSG(strstr(b, "Kirk") != NULL, "width %d: '%s'", w, b);
    }
    s.total_exact = 0;
    for (int w = 20; w <= 200; w++) {
        rp_console_format_status(b, sizeof b, &s, w);
        CHECK_MSG(strstr(b, "2:31 / ~8:26") != NULL, "width %d: '%s'", w, b);
    }
    s.total_s = 3725, s.pos_s = 3599, s.total_exact = 1;
    rp_console_format_status(b, sizeof b, &s, 80);
    CHECK(strstr(b, "59:59 / 1:02:05") != NULL);

    // The marks: playing, paused and seeking all differ, in the first two columns.
    s.paused = 0, s.seeking = 0;
    rp_console_format_status(b, sizeof b, &s, 80);
    s.paused = 1;
    rp_console_format_status(p, sizeof p, &s, 80);
    CHECK(strncmp(b, p, 2) != 0);
    CHECK_STR(b + 2, p + 2);
    s.paused = 0, s.seeking = 1;
    rp_console_format_status(p, sizeof p, &s, 80);
    CHECK(strncmp(b, p, 2) != 0);
    CHECK(strncmp("||", p, 2) != 0);

    // The key hint only where it leaves room for the bar.
    s.seeking = 0;
    rp_console_format_status(b, sizeof b, &s, 120);
    CHECK(strstr(b, "q quit") != NULL);
    rp_console_format_status(b, sizeof b, &s, 50);
    CHECK(strstr(b, "quit") == NULL);

    // A long name is shortened with an ellipsis; the bar keeps its cells.
    s.speaker = "Commander Elizabeth Shelby-Ramirez of the Starship Endeavour";
    rp_console_format_status(b, sizeof b, &s, 80);
    CHECK(strstr(b, "Commander") != NULL);
    CHECK(strstr(b, "\xe2\x80\xa6") != NULL);
    CHECK(strstr(b, "Endeavour") == NULL);
    CHECK(strchr(b, '[') != NULL);
}

// The bar between '[' and ']': its '#' and '-' cells; -1 when there is none.
static int bar_cells(const char *s, int *fill)
{
    const char *a = strchr(s, '['), *z = a ? strchr(a, ']') : NULL;
    if (!a || !z)
        return -1;
    int n = 0;
    *fill = 0;
    for (const char *q = a + 1; q < z; q++) {
        if (*q == '#')
            (*fill)++;
        else if (*q != '-')
            return -1;
        n++;
    }
    return n;
}

static void test_status_bar(void)
{
    static const double fracs[] = {0, 0.001, 0.1, 0.25, 0.333, 0.5, 0.77, 0.9, 0.999, 1, 1.5};
    char b[512];
    for (int w = 30; w <= 200; w++)
        for (size_t i = 0; i < sizeof fracs / sizeof fracs[0]; i++) {
            rp_console_state s = {.speaker = "Mira",
                                  .pos_s = 600 * fracs[i],
                                  .total_s = 600,
                                  .total_exact = (int)(i & 1)};
            rp_console_format_status(b, sizeof b, &s, w);
            int fill = 0, cells = bar_cells(b, &fill);
            CHECK_MSG(cells >= 10, "width %d: bar of %d cells in '%s'", w, cells, b);
            double want = cells * (fracs[i] < 1 ? fracs[i] : 1);
            CHECK_MSG(fabs(fill - want) <= 1.0, "width %d, %.3f: %d of %d cells filled", w,
                      fracs[i], fill, cells);
            if (fracs[i] == 0)
                CHECK_INT(fill, 0);
            if (fracs[i] >= 1)
                CHECK_INT(fill, cells);
        }
    // An unknown length fills nothing.
    rp_console_state s = {.pos_s = 12, .total_s = 0};
    rp_console_format_status(b, sizeof b, &s, 80);
    int fill = -1;
    CHECK(bar_cells(b, &fill) > 0);
    CHECK_INT(fill, 0);
}

// ---- plain display ---------------------------------------------------------------

static char *read_all(FILE *f, size_t *n)
{
    fflush(f);
    long len = ftell(f);
    rewind(f);
    char *s = calloc((size_t)len + 1, 1);
    *n = fread(s, 1, (size_t)len, f);
    return s;
}

static void test_plain(void)
{
    FILE *out = tmpfile();
    int fds[2];
    CHECK(out != NULL);
    CHECK(pipe(fds) == 0);
    if (!out)
        return;
    rp_console *c = rp_console_open(out, fds[0]);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(!rp_console_fancy(c));
    CHECK(!rp_console_keys(c));
    CHECK(rp_console_open(out, -1) == NULL); // one at a time

    rp_console_state s = {.speaker = "Narrator",
                          .text = "The storm had been building.",
                          .line = 3,
                          .pos_s = 0.4,
                          .total_s = 80};
    rp_console_show(c, &s);
    s.pos_s = 2.5;
    rp_console_show(c, &s);
    s.paused = 1;
    rp_console_show(c, &s);
    s.paused = 0;
    s.speaker = NULL, s.text = NULL, s.line = 0, s.pos_s = 3.1;
    rp_console_show(c, &s);
    s.speaker = "Mira", s.text = "\"Seven seconds,\" she said.", s.line = 5, s.pos_s = 65.2;
    rp_console_show(c, &s);
    s.pos_s = 67.9;
    rp_console_show(c, &s);
    s.speaker = NULL, s.text = "Thunder rolled.\033[2J\tLong\x7f", s.line = 6, s.pos_s = 71;
    rp_console_show(c, &s);
    s.total_exact = 1;
    rp_console_show(c, &s);

    // Keys are not read from a pipe: the byte stays, the call just sleeps.
    CHECK(write(fds[1], "q", 1) == 1);
    double t0 = now_ms();
    CHECK_INT(rp_console_key(c, 30), RP_KEY_NONE);
    CHECK(now_ms() - t0 >= 25);
    char q = 0;
    CHECK(read(fds[0], &q, 1) == 1 && q == 'q');

    rp_console_message(c, "stopped at %s", "1:11");
    rp_console_close(c);
    rp_console_close(c);
    rp_console_close(NULL);

    size_t n;
    char *got = read_all(out, &n);
    CHECK_STR(got, "[0:00] Narrator: The storm had been building.\n"
                   "[1:05] Mira: \"Seven seconds,\" she said.\n"
                   "[1:11] Thunder rolled. [2J Long \n"
                   "stopped at 1:11\n");
    CHECK(memchr(got, 0x1b, n) == NULL);
    free(got);
    fclose(out);
    close(fds[0]);
    close(fds[1]);

    // Closed, it can be opened again.
    c = rp_console_open(stderr, -1);
    CHECK(c != NULL);
    rp_console_close(c);
}

// ---- fancy display on a pseudo-terminal ----------------------------------------------

static int open_pty(int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        return -1;
    const char *name = grantpt(m) == 0 && unlockpt(m) == 0 ? ptsname(m) : NULL;
    *slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
    if (*slave < 0) {
        close(m);
        return -1;
    }
    struct winsize ws = {.ws_row = 24, .ws_col = 60};
    ioctl(m, TIOCSWINSZ, &ws);
    return m;
}

// Everything the master can read within quiet_ms of silence.
static size_t drain(int master, char *buf, size_t cap, int quiet_ms)
{
    size_t n = 0;
    struct pollfd p = {.fd = master, .events = POLLIN};
    while (n + 1 < cap && poll(&p, 1, quiet_ms) > 0) {
        ssize_t r = read(master, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static int same_modes(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof a->c_cc) == 0;
}

// The widest line drawn, escape sequences removed, lines split at CR and LF.
static int widest_line(const char *s)
{
    int widest = 0, cols = 0;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if (s[i] == '\033' && s[i + 1] == '[') {
            i += 2;
            while (i < n && !(s[i] >= 0x40 && s[i] <= 0x7e))
                i++;
            i++;
            continue;
        }
        if (s[i] == '\r' || s[i] == '\n') {
            cols = 0;
            i++;
            continue;
        }
        int len;
        rp_utf8_decode(s + i, n - i, &len);
        i += (size_t)len;
        if (++cols > widest)
            widest = cols;
    }
    return widest;
}

static size_t count(const char *s, const char *needle)
{
    size_t k = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

static void test_fancy_pty(void)
{
    int slave, master = open_pty(&slave);
    if (master < 0) {
        printf("  (no pseudo-terminal: skipped)\n");
        return;
    }
    setenv("TERM", "xterm", 1);
    struct termios before, during, after;
    CHECK(tcgetattr(slave, &before) == 0);
    CHECK((before.c_lflag & ICANON) && (before.c_lflag & ECHO));
    FILE *out = fdopen(slave, "w");
    rp_console *c = rp_console_open(out, slave);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(rp_console_fancy(c));
    CHECK(rp_console_keys(c));
    CHECK(tcgetattr(slave, &during) == 0);
    CHECK(!(during.c_lflag & ICANON));
    CHECK(!(during.c_lflag & ECHO));
    CHECK(during.c_lflag & ISIG);

    CHECK(write(master, "\033[C", 3) == 3);
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_FORWARD);
    CHECK(write(master, "x\033OD", 4) == 4);
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_BACK);
    // Split across calls: the first half waits in the buffer for the second.
    CHECK(write(master, "\033[", 2) == 2);
    CHECK_INT(rp_console_key(c, 40), RP_KEY_NONE);
    CHECK(write(master, "D", 1) == 1);
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_BACK);
    // Esc alone counts once nothing has followed it for a while.
    CHECK(write(master, "\033", 1) == 1);
    double t0 = now_ms();
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_QUIT);
    double dt = now_ms() - t0;
    CHECK_MSG(dt >= RP_CONSOLE_ESC_WAIT_MS - 5 && dt < 900, "Esc after %.0f ms", dt);
    CHECK(write(master, " q", 2) == 2);
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_PAUSE);
    CHECK_INT(rp_console_key(c, 1000), RP_KEY_QUIT);
    t0 = now_ms();
    CHECK_INT(rp_console_key(c, 50), RP_KEY_NONE);
    CHECK(now_ms() - t0 >= 45);

    rp_console_state s = {.speaker = "Kirk",
                          .text = "Shield harmonics at forty percent. Rerouting auxiliary "
                                  "power through the deflector array now.",
                          .line = 12,
                          .pos_s = 151,
                          .total_s = 506,
                          .total_exact = 1};
    rp_console_show(c, &s);
    s.pos_s = 152;
    rp_console_show(c, &s);
    s.paused = 1;
    rp_console_show(c, &s);
    rp_console_message(c, "stopped at 2:32");
    rp_console_close(c);
    rp_console_close(c);
    CHECK(tcgetattr(slave, &after) == 0);
    CHECK(same_modes(&before, &after));

    static char drawn[16384];
    drain(master, drawn, sizeof drawn, 200);
    CHECK(strstr(drawn, "\033[?25l") != NULL);
    CHECK(strstr(drawn, "\033[?25h") != NULL);
    CHECK(strstr(drawn, "\033[?25l") < strstr(drawn, "Kirk"));
    CHECK(strstr(drawn, "\033[1mKirk\033[0m: Shield") != NULL);
    CHECK_INT(count(drawn, "Shield harmonics"), 1); // printed once, shown three times
    CHECK(strstr(drawn, "|> Kirk [") != NULL);
    CHECK(strstr(drawn, "|| Kirk [") != NULL);
    CHECK(strstr(drawn, "2:31 / 8:26") != NULL);
    CHECK(strstr(drawn, "2:32 / 8:26") != NULL);
    CHECK(strstr(drawn, "\r\033[Kstopped at 2:32") != NULL);
    CHECK(strstr(drawn, "deflector") != NULL);
    CHECK_MSG(widest_line(drawn) <= 59, "a line of %d columns on a 60-column terminal",
              widest_line(drawn));
    fclose(out);
    close(master);
}

static void test_restore_paths(void)
{
    int slave, master = open_pty(&slave);
    if (master < 0) {
        printf("  (no pseudo-terminal: skipped)\n");
        return;
    }
    struct termios before, now;
    CHECK(tcgetattr(slave, &before) == 0);

    // The signal-safe restore, then a close that has nothing left to do.
    FILE *out = fdopen(dup(slave), "w");
    rp_console *c = rp_console_open(out, slave);
    CHECK(rp_console_keys(c));
    CHECK(tcgetattr(slave, &now) == 0 && !same_modes(&before, &now));
    rp_console_restore_now();
    CHECK(tcgetattr(slave, &now) == 0 && same_modes(&before, &now));
    rp_console_restore_now();
    rp_console_close(c);
    CHECK(tcgetattr(slave, &now) == 0 && same_modes(&before, &now));
    fclose(out);
    char drawn[4096];
    drain(master, drawn, sizeof drawn, 100);
    CHECK_INT(count(drawn, "\033[?25h"), 2); // restore_now once, close once

    // exit() without a close: the atexit handler restores.
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *o = fdopen(dup(slave), "w");
        rp_console_open(o, slave);
        exit(7);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    CHECK(tcgetattr(slave, &now) == 0 && same_modes(&before, &now));
    drain(master, drawn, sizeof drawn, 100);
    CHECK(strstr(drawn, "\033[?25l") != NULL);
    CHECK(strstr(drawn, "\033[?25h") != NULL);
    close(slave);
    close(master);
}

int main(void)
{
    RUN(test_decode_keys);
    RUN(test_decode_stream);
    RUN(test_decode_partial);
    RUN(test_format_time);
    RUN(test_status_width);
    RUN(test_status_content);
    RUN(test_status_bar);
    RUN(test_plain);
    RUN(test_fancy_pty);
    RUN(test_restore_paths);
    return TEST_SUMMARY("test_console");
}
