// SPDX-License-Identifier: GPL-3.0-or-later
// The terminal of `radioplay play`: key decoding, raw mode with a restore
// that survives exit() and signals, subtitle lines and an in-place status
// line. Everything that formats is pure and tested without a terminal; the
// rest is a thin layer of termios, poll and stdio.
#include "rp_console.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "rp_common.h"

#define ESC 0x1b
#define MAX_SEQ 16      // longest escape sequence awaited; longer ones are cut
#define PEND_CAP 64     // bytes read but not yet decoded
#define SPEAKER_COLS 20 // the status line shows at most this much of a name
#define MIN_BAR 10      // the speaker is shortened to keep this many bar cells
#define HINT "spc pause  </> 10 s  n/p paragraph  q quit"

struct rp_console {
    int open;
    FILE *out;
    int in_fd;
    int fancy, raw, in_eof;
    char pend[PEND_CAP];
    size_t n_pend;
    double pend_ms; // when bytes last arrived
    int have_last;
    uint64_t last_hash; // of the last utterance printed
    int status_shown;   // the status line is on screen, cursor at its end
    char status[1024];  // as last drawn
};

// One console at a time owns the terminal, so the object and what the
// signal-safe restore needs are static.
static rp_console the_console;
static struct termios saved_tio;
static volatile sig_atomic_t tty_fd = -1;    // in raw mode, saved_tio to restore
static volatile sig_atomic_t cursor_fd = -1; // cursor hidden on this fd
static int atexit_done;

// ---- keys ------------------------------------------------------------------

static int csi_middle(unsigned char b)
{
    return b >= 0x20 && b <= 0x3f;
}
static int csi_final(unsigned char b)
{
    return b >= 0x40 && b <= 0x7e;
}

int rp_console_partial(const char *bytes, size_t n)
{
    const unsigned char *u = (const unsigned char *)bytes;
    if (n == 0 || u[0] != ESC || n >= MAX_SEQ)
        return 0;
    if (n == 1)
        return 1;
    if (u[1] == 'O')
        return n == 2;
    if (u[1] == '[') {
        for (size_t i = 2; i < n; i++)
            if (!csi_middle(u[i]))
                return 0;
        return 1;
    }
    if (u[1] == ESC)
        return rp_console_partial(bytes + 1, n - 1);
    return 0;
}

static rp_key arrow(unsigned char b)
{
    return b == 'C' ? RP_KEY_FORWARD : b == 'D' ? RP_KEY_BACK : RP_KEY_NONE;
}

rp_key rp_console_decode(const char *bytes, size_t n, size_t *used)
{
    const unsigned char *u = (const unsigned char *)bytes;
    size_t dummy;
    if (!used)
        used = &dummy;
    *used = n > 0;
    if (n == 0)
        return RP_KEY_NONE;
    static const struct {
        const char *bytes;
        rp_key key;
    } keys[] = {{" ", RP_KEY_PAUSE}, {"qQ\x03\x04", RP_KEY_QUIT}, {"nN", RP_KEY_NEXT},
                {"pP", RP_KEY_PREV}, {"h,<", RP_KEY_BACK},        {"l.>", RP_KEY_FORWARD}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (u[0] && strchr(keys[i].bytes, u[0]))
            return keys[i].key;
    if (u[0] >= 0x80) { // a whole character, not a key
        int len;
        rp_utf8_decode(bytes, n, &len);
        *used = (size_t)len;
    }
    if (u[0] != ESC)
        return RP_KEY_NONE;
    if (n == 1)
        return RP_KEY_QUIT; // Esc alone
    if (u[1] == 'O') {      // SS3: ESC O <final>
        *used = n < 3 ? n : 3;
        return n < 3 ? RP_KEY_NONE : arrow(u[2]);
    }
    if (u[1] == '[') { // CSI: ESC [ <parameters, intermediates> <final>
        size_t i = 2;
        while (i < n && i < MAX_SEQ && csi_middle(u[i]))
            i++;
        if (i < n && i < MAX_SEQ && csi_final(u[i])) {
            *used = i + 1;
            return i == 2 ? arrow(u[i]) : RP_KEY_NONE;
        }
        *used = i; // cut short or malformed: drop what we have
        return RP_KEY_NONE;
    }
    // Alt chord: ESC and the key it modifies, taken together and ignored.
    size_t inner;
    rp_console_decode(bytes + 1, n - 1, &inner);
    *used = 1 + inner;
    return RP_KEY_NONE;
}

static double now_ms(void)
{
    return rp_now_s() * 1e3;
}

rp_key rp_console_key(rp_console *c, int timeout_ms)
{
    if (!c || !c->open || !c->raw || c->in_eof) {
        poll(NULL, 0, timeout_ms);
        return RP_KEY_NONE;
    }
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        while (c->n_pend > 0) {
            if (rp_console_partial(c->pend, c->n_pend) &&
                now_ms() - c->pend_ms < RP_CONSOLE_ESC_WAIT_MS)
                break; // its next bytes may be on their way
            size_t used;
            rp_key k = rp_console_decode(c->pend, c->n_pend, &used);
            memmove(c->pend, c->pend + used, c->n_pend - used);
            c->n_pend -= used;
            if (k != RP_KEY_NONE)
                return k;
        }
        double now = now_ms();
        int wait = timeout_ms < 0 ? -1 : now < deadline ? (int)ceil(deadline - now) : 0;
        int expiring = 0;
        if (c->n_pend > 0) {
            double left = c->pend_ms + RP_CONSOLE_ESC_WAIT_MS - now;
            int w = left > 0 ? (int)ceil(left) : 0;
            if (wait < 0 || w <= wait)
                wait = w, expiring = 1;
        }
        struct pollfd p = {.fd = c->in_fd, .events = POLLIN};
        int r = poll(&p, 1, wait);
        if (r < 0)
            return RP_KEY_NONE; // a signal: let the caller look at its flags
        if (r == 0) {
            if (expiring)
                continue;
            return RP_KEY_NONE;
        }
        ssize_t got = -1;
        if (p.revents & POLLIN)
            got = read(c->in_fd, c->pend + c->n_pend, PEND_CAP - c->n_pend);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            return RP_KEY_NONE;
        if (got <= 0) { // hung up or closed: no more keys
            c->in_eof = 1;
            now = now_ms();
            if (timeout_ms != 0)
                poll(NULL, 0, timeout_ms < 0 ? -1 : now < deadline ? (int)(deadline - now) : 0);
            return RP_KEY_NONE;
        }
        c->n_pend += (size_t)got;
        c->pend_ms = now_ms();
    }
}

// ---- formatting ------------------------------------------------------------

void rp_console_format_time(char *buf, size_t size, double seconds)
{
    if (!(seconds > 0))
        seconds = 0;
    if (seconds > 1e9)
        seconds = 1e9;
    long long t = (long long)seconds;
    if (t >= 3600)
        snprintf(buf, size, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%lld:%02lld", t / 60, t % 60);
}

// The next code point of s[0..n) as bytes safe to print: control characters
// (C0, DEL, C1) become a space and invalid bytes U+FFFD. *len gets the input
// bytes consumed, *olen the output length.
static const char *safe_cp(const char *s, size_t n, int *len, int *olen)
{
    uint32_t cp = rp_utf8_decode(s, n, len);
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
        *olen = 1;
        return " ";
    }
    if (cp == 0xfffd) {
        *olen = 3;
        return "\xef\xbf\xbd";
    }
    *olen = *len;
    return s;
}

static void emit(FILE *f, const char *s, size_t n)
{
    while (n > 0) {
        int len, olen;
        const char *o = safe_cp(s, n, &len, &olen);
        fwrite(o, 1, (size_t)olen, f);
        s += len;
        n -= (size_t)len;
    }
}

// A bounded line: never more than max code points nor size - 1 bytes.
typedef struct {
    char *buf;
    size_t size, len;
    int cols, max;
} line;

// Appends up to n_cp code points of s (all when n_cp < 0); returns how many.
static int put(line *l, const char *s, int n_cp)
{
    size_t n = strlen(s);
    int added = 0;
    while (n > 0 && l->cols < l->max && (n_cp < 0 || added < n_cp)) {
        int len, olen;
        const char *o = safe_cp(s, n, &len, &olen);
        if (l->len + (size_t)olen >= l->size)
            break;
        memcpy(l->buf + l->len, o, (size_t)olen);
        l->len += (size_t)olen;
        l->buf[l->len] = '\0';
        l->cols++, added++;
        s += len;
        n -= (size_t)len;
    }
    return added;
}

static void format_status(char *buf, size_t size, const rp_console_state *s, int width, int hint)
{
    if (!buf || size == 0)
        return;
    buf[0] = '\0';
    if (!s || width <= 0)
        return;
    char el[32], tot[32], times[72];
    rp_console_format_time(el, sizeof el, s->pos_s);
    rp_console_format_time(tot, sizeof tot, s->total_s);
    snprintf(times, sizeof times, "%s / %s%s", el, s->total_exact ? "" : "~", tot);
    int rest = width - 3 - (int)strlen(times); // after "|> " and the times

    int name = s->speaker ? (int)rp_utf8_count(s->speaker, strlen(s->speaker)) : 0;
    int name_cols = name < SPEAKER_COLS ? name : SPEAKER_COLS;
    if (name_cols > rest - 1 - (MIN_BAR + 3))
        name_cols = rest - 1 - (MIN_BAR + 3);
    if (name_cols < 3 && name_cols < name)
        name_cols = 0;
    if (name_cols > 0)
        rest -= name_cols + 1;
    int bar = rest - 3; // "[", "] "
    int hint_cols = (int)strlen(HINT) + 2;
    hint = hint && bar - hint_cols >= 2 * MIN_BAR;
    if (hint)
        bar -= hint_cols;

    line l = {buf, size, 0, 0, width};
    put(&l, s->seeking ? ">>" : s->paused ? "||" : "|>", -1);
    put(&l, " ", -1);
    if (name_cols > 0) {
        if (name_cols < name) {
            put(&l, s->speaker, name_cols - 1);
            put(&l, "\xe2\x80\xa6", -1); // …
        } else {
            put(&l, s->speaker, -1);
        }
        put(&l, " ", -1);
    }
    if (bar >= 4) {
        double frac = s->total_s > 0 ? s->pos_s / s->total_s : 0;
        frac = frac > 0 ? (frac < 1 ? frac : 1) : 0;
        int fill = (int)floor(bar * frac + 0.5);
        put(&l, "[", -1);
        for (int i = 0; i < bar; i++)
            put(&l, i < fill ? "#" : "-", -1);
        put(&l, "] ", -1);
    }
    put(&l, times, -1);
    if (hint) {
        put(&l, "  ", -1);
        put(&l, HINT, -1);
    }
}

void rp_console_format_status(char *buf, size_t size, const rp_console_state *s, int width)
{
    format_status(buf, size, s, width, 1);
}

// ---- the terminal ----------------------------------------------------------

void rp_console_restore_now(void)
{
    int fd = tty_fd;
    if (fd >= 0) {
        tty_fd = -1;
        tcsetattr(fd, TCSANOW, &saved_tio);
    }
    fd = cursor_fd;
    if (fd >= 0) {
        static const char show[] = "\r\033[K\033[?25h";
        cursor_fd = -1;
        ssize_t w = write(fd, show, sizeof show - 1);
        (void)w;
    }
}

rp_console *rp_console_open(FILE *out, int in_fd)
{
    rp_console *c = &the_console;
    if (!out || c->open)
        return NULL;
    memset(c, 0, sizeof *c);
    c->open = 1;
    c->out = out;
    c->in_fd = in_fd;
    if (!atexit_done)
        atexit_done = atexit(rp_console_restore_now) == 0;
    const char *term = getenv("TERM");
    c->fancy = isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);

    // A background job changing the modes would be stopped by SIGTTOU.
    pid_t fg = in_fd >= 0 && isatty(in_fd) ? tcgetpgrp(in_fd) : 0;
    if (in_fd >= 0 && isatty(in_fd) && (fg < 0 || fg == getpgrp()) && tty_fd < 0 &&
        tcgetattr(in_fd, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tty_fd = in_fd; // before the change, so a signal in between still restores
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
            c->raw = 1;
        else
            tty_fd = -1;
    }
    if (c->fancy) {
        fflush(out);
        cursor_fd = fileno(out);
        fputs("\033[?25l", out);
        fflush(out);
    }
    return c;
}

int rp_console_fancy(const rp_console *c)
{
    return c && c->open && c->fancy;
}

int rp_console_keys(const rp_console *c)
{
    return c && c->open && c->raw && !c->in_eof;
}

static int term_cols(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

// Prints the first line from column `col`, breaking at spaces where it can
// so that no line is wider than width; continuation lines are indented.
static void print_wrapped(FILE *f, const char *s, int col, int width)
{
    size_t n = strlen(s);
    int room = width - col;
    for (;;) {
        if (room < 10)
            room = 10;
        size_t i = 0, brk = 0;
        for (int cols = 0; i < n && cols < room; cols++) {
            int len;
            rp_utf8_decode(s + i, n - i, &len);
            if ((unsigned char)s[i] <= ' ')
                brk = i;
            i += (size_t)len;
        }
        if (i < n && (unsigned char)s[i] <= ' ')
            brk = i;
        size_t end = i < n && brk > 0 ? brk : i;
        emit(f, s, end);
        fputc('\n', f);
        while (end < n && (unsigned char)s[end] <= ' ')
            end++;
        s += end;
        n -= end;
        if (n == 0)
            return;
        fputs("  ", f);
        room = width - 2;
    }
}

static void clear_status(rp_console *c)
{
    if (c->fancy && c->status_shown)
        fputs("\r\033[K", c->out);
    c->status_shown = 0;
}

void rp_console_show(rp_console *c, const rp_console_state *s)
{
    if (!c || !c->open || !s)
        return;
    int width = c->fancy ? term_cols(c->out) - 1 : 0; // the last column would wrap
    if (s->text) {
        uint64_t h = rp_hash64(&s->line, sizeof s->line, RP_HASH_INIT);
        h = rp_hash64(s->speaker ? s->speaker : "", s->speaker ? strlen(s->speaker) + 1 : 0, h);
        h = rp_hash64(s->text, strlen(s->text), h);
        if (!c->have_last || h != c->last_hash) {
            c->have_last = 1;
            c->last_hash = h;
            clear_status(c);
            if (c->fancy) {
                int col = 0;
                if (s->speaker) {
                    fputs("\033[1m", c->out);
                    emit(c->out, s->speaker, strlen(s->speaker));
                    fputs("\033[0m: ", c->out);
                    col = (int)rp_utf8_count(s->speaker, strlen(s->speaker)) + 2;
                }
                print_wrapped(c->out, s->text, col, width);
            } else {
                char t[32];
                rp_console_format_time(t, sizeof t, s->pos_s);
                fprintf(c->out, "[%s] ", t);
                if (s->speaker) {
                    emit(c->out, s->speaker, strlen(s->speaker));
                    fputs(": ", c->out);
                }
                emit(c->out, s->text, strlen(s->text));
                fputc('\n', c->out);
            }
        }
    }
    if (c->fancy) {
        char st[sizeof c->status];
        format_status(st, sizeof st, s, width, c->raw && !c->in_eof);
        if (!c->status_shown || strcmp(st, c->status) != 0) {
            fprintf(c->out, "\r%s\033[K", st);
            memcpy(c->status, st, sizeof st);
            c->status_shown = 1;
        }
    }
    fflush(c->out);
}

void rp_console_message(rp_console *c, const char *fmt, ...)
{
    if (!c || !c->open || !fmt)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clear_status(c);
    emit(c->out, msg, strlen(msg));
    fputc('\n', c->out);
    fflush(c->out);
}

void rp_console_close(rp_console *c)
{
    if (!c || !c->open)
        return;
    if (c->fancy) {
        clear_status(c);
        fputs("\033[?25h", c->out);
        cursor_fd = -1;
    }
    fflush(c->out);
    if (c->raw && tty_fd >= 0) {
        tcsetattr(tty_fd, TCSANOW, &saved_tio);
        tcflush(tty_fd, TCIFLUSH); // keys typed but not read must not reach the shell
        tty_fd = -1;
    }
    c->open = 0;
}
