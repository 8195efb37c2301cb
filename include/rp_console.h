// SPDX-License-Identifier: GPL-3.0-or-later
// The terminal side of `radioplay play`: single keys from the keyboard
// without Enter, and a display of what is playing. When the output is a
// terminal (and TERM is not "dumb"), every line spoken is printed once as a
// permanent subtitle line, and one status line at the bottom (play mark,
// speaker, progress bar, time, key hint) is redrawn in place; the cursor is
// hidden meanwhile. Otherwise the output gets plain text only, one
// "[m:ss] Speaker: text" line per utterance and no escape code at all.
// Control characters in chapter text are printed as spaces, so a chapter can
// never drive the terminal.
//
// The console owns the terminal, so at most one is open at a time. Its
// saved termios lives in a static: an atexit handler restores the terminal
// when the process calls exit() without closing, and rp_console_restore_now()
// is async-signal-safe for the caller's SIGTERM/SIGHUP handler. No signal
// handler is installed here; raw mode keeps ISIG, so Ctrl-C still raises
// SIGINT for the caller to handle. A job stopped with Ctrl-Z comes back in
// whatever mode the shell leaves the terminal: close and reopen the console
// on SIGCONT if that matters.
//
// Keys: space pause/resume; Left, 'h', ',' or '<' back; Right, 'l', '.' or
// '>' forward; 'n' next paragraph, 'p' previous; 'q', Esc, Ctrl-C (when it
// arrives as a byte) or Ctrl-D quit.
#ifndef RP_CONSOLE_H
#define RP_CONSOLE_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    RP_KEY_NONE,
    RP_KEY_PAUSE,
    RP_KEY_BACK,
    RP_KEY_FORWARD,
    RP_KEY_NEXT,
    RP_KEY_PREV,
    RP_KEY_QUIT
} rp_key;

// Decodes the key at the start of bytes[0..n) and stores in *used how many
// bytes it took: at least 1 when n > 0, 0 when n == 0. Escape sequences
// other than the arrows (ESC [ A, ESC [ 1 ; 5 C, ESC [ 200 ~, ...), Alt
// chords (ESC x) and non-ASCII characters are consumed whole and give
// RP_KEY_NONE. A lone ESC is Esc (quit), and an escape sequence cut short by
// the end of the buffer is consumed as far as it goes and gives RP_KEY_NONE:
// callers that read in pieces ask rp_console_partial() first and wait a
// little for the rest, as rp_console_key() does.
rp_key rp_console_decode(const char *bytes, size_t n, size_t *used);

// 1 when bytes[0..n) is an escape sequence that more bytes could still
// complete ("\033", "\033[", "\033[1;5", "\033O"); 0 otherwise.
int rp_console_partial(const char *bytes, size_t n);

typedef struct {
    const char *speaker; // who speaks now ("Narrator", "Kirk"), NULL between lines
    const char *text;    // the line being spoken (UTF-8), NULL between lines
    int line;            // its line in the chapter (0: none)
    double pos_s;        // elapsed, seconds
    double total_s;      // length, seconds (an estimate while total_exact == 0)
    int total_exact;
    int paused;
    int seeking; // a seek is being prepared
} rp_console_state;

typedef struct rp_console rp_console;

// Opens the console on out (borrowed; never closed here) and in_fd (-1 for
// no keyboard). The display is fancy when out is a terminal; in_fd is put in
// raw mode (no echo, no line buffering, ISIG kept) when it is a terminal and
// this process is in its foreground. NULL when out is NULL or another
// console is open.
rp_console *rp_console_open(FILE *out, int in_fd);
// 1 when the display is fancy (escape codes), 0 when plain.
int rp_console_fancy(const rp_console *c);
// 1 when keys can be read (in_fd is a terminal in raw mode).
int rp_console_keys(const rp_console *c);

// Waits up to timeout_ms (< 0: indefinitely) for a key. RP_KEY_NONE on
// timeout, when a signal interrupts the wait (so the caller can check its
// flags), and when there is no keyboard or it was closed: then it just
// sleeps for timeout_ms so that callers can loop. An escape sequence split
// across reads is kept until its next bytes come; a lone ESC counts as Esc
// once no byte has followed it for RP_CONSOLE_ESC_WAIT_MS (it may be
// returned by a later call, never after this call's timeout).
#define RP_CONSOLE_ESC_WAIT_MS 100
rp_key rp_console_key(rp_console *c, int timeout_ms);

// Shows the state (see the top of this file). An utterance is printed when
// (line, speaker, text) differ from the last one printed; states with a NULL
// text only update the status line. The terminal width is read on every
// call, so a resized window is followed. The status line carries the key
// hint only when keys can be read.
void rp_console_show(rp_console *c, const rp_console_state *s);

// Prints one message line ("stopped at 2:31"); fancy: replaces the status
// line, which the next show draws again below it.
void rp_console_message(rp_console *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Clears the status line, shows the cursor and restores the terminal modes.
// c may be NULL; closing twice is a no-op. After close, c must not be used
// except to close it again (a later open may hand out the same object).
void rp_console_close(rp_console *c);

// Restores the saved termios, clears the status line and shows the cursor,
// if a console changed them; async-signal-safe (tcsetattr and write only), idempotent. Called by
// the atexit handler; the caller's signal handlers may call it too.
void rp_console_restore_now(void);

// The status line for width columns, counted as code points (East Asian
// wide characters count as one), without escape codes: never more than
// width code points, and always whole UTF-8 sequences:
//   "|> Kirk [#########---------] 2:31 / ~8:26  spc pause  </> 10 s  n/p paragraph  q quit"
// The bar fills the width. As the width shrinks the hint goes first (it
// needs 20 bar cells beside it), then the speaker is shortened ("Comman…",
// 20 columns at most) and dropped to keep 10 bar cells, then the bar goes.
// The mark is "|>" playing, "||" paused, ">>" seeking; "~" marks an
// estimated total; the bar has round(cells * pos / total) '#' cells.
void rp_console_format_status(char *buf, size_t size, const rp_console_state *s, int width);

// seconds as m:ss, or h:mm:ss from an hour on; fractions are dropped, and
// negative or NaN times show as 0:00.
void rp_console_format_time(char *buf, size_t size, double seconds);

#endif
