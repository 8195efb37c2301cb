// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the effect preset parser (sfx.c) and the room parser
// (room.c), both given the same text. Bytes after the first NUL, if any, are
// overrides, one "key = value" a line, as a cast sheet's [sfx NAME] section
// and a {room NAME key=value} cue give them; they go to the parsed preset
// and room, or to built-in ones when the text does not parse. A preset that
// parses is rendered for a block and a room that parses becomes a reverb,
// so the ranges the parsers accept are ones the synthesizers handle; a room
// is written back and must read again to the same values.
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "rp_config.h"
#include "rp_room.h"
#include "rp_sfx.h"

enum { BLOCK = 256 };

static const rp_source *builtin(const rp_source *table, size_t n, size_t pick)
{
    return n ? &table[pick % n] : NULL;
}

// Calls fn(key, value) for each "key = value" line of text[0..len).
static void each_override(const char *text, size_t len,
                          void (*fn)(void *, const char *, const char *, int), void *user)
{
    size_t pos = 0, start, n;
    int line = 0;
    while (rp_line_next(text, len, &pos, &start, &n)) {
        line++;
        char *l = rp_strndup(text + start, n);
        if (!l)
            return;
        char *eq = strchr(l, '=');
        if (eq) {
            *eq = '\0';
            char *key = rp_strdup_trim(l);
            if (key)
                fn(user, key, eq + 1, line);
            free(key);
        }
        free(l);
    }
}

typedef struct {
    rp_sfx_preset *sfx;
    rp_room_preset room;
    rp_diags *d;
} target;

static void override_one(void *user, const char *key, const char *value, int line)
{
    target *t = user;
    rp_status st = rp_sfx_preset_override(t->sfx, key, value, "fuzz.cast", line, 1, t->d);
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    rp_room_preset before = t->room;
    st = rp_room_override(&t->room, key, value, "fuzz.txt", line, 1, t->d);
    FUZZ_ASSERT(st == RP_OK || (st == RP_ERR_INPUT && rp_room_same(&before, &t->room)));
}

static void render_sfx(const rp_sfx_preset *p)
{
    FUZZ_ASSERT(rp_sfx_preset_is_bed(p) || rp_sfx_preset_duration_s(p) > 0);
    rp_strbuf keys;
    rp_strbuf_init(&keys);
    rp_sfx_preset_describe_keys(p, &keys);
    rp_strbuf_deinit(&keys);
    rp_sfx_voice *v = rp_sfx_voice_new(p, RP_MIN_RATE_HZ, 1);
    FUZZ_ASSERT(v);
    float out[2 * BLOCK];
    rp_sfx_voice_render(v, out, BLOCK);
    for (size_t i = 0; i < 2 * BLOCK; i++)
        FUZZ_ASSERT(isfinite(out[i]));
    rp_sfx_voice_free(v);
}

static void check_room(const rp_room_preset *p)
{
    rp_strbuf text;
    rp_strbuf_init(&text);
    rp_room_write(p, &text);
    rp_diags d;
    rp_diags_init(&d);
    rp_room_preset q;
    FUZZ_ASSERT(rp_room_parse(p->name, "again.room", text.s, text.len, &q, &d) == RP_OK);
    // Written with 9 significant digits: the same values, near enough.
    FUZZ_ASSERT(!strcmp(q.description, p->description) && q.pattern == p->pattern &&
                q.reflections == p->reflections);
    const double a[] = {p->rt60_s,   p->hf_ratio, p->hf_reference_hz, p->predelay_s, p->size_m,
                        p->early_db, p->wet_db,   p->width,           p->lowcut_hz};
    const double b[] = {q.rt60_s,   q.hf_ratio, q.hf_reference_hz, q.predelay_s, q.size_m,
                        q.early_db, q.wet_db,   q.width,           q.lowcut_hz};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        FUZZ_ASSERT(a[i] == b[i] || fabs(a[i] - b[i]) <= 1e-8 * fabs(a[i]));
    rp_diags_deinit(&d);
    rp_strbuf_deinit(&text);
    FUZZ_ASSERT(rp_room_decay_s(p) >= 0);
    rp_reverb *r = rp_reverb_new(p, RP_MIN_RATE_HZ);
    FUZZ_ASSERT(r);
    float buf[2 * BLOCK] = {1.0f, 1.0f};
    rp_reverb_process(r, buf, buf, BLOCK);
    for (size_t i = 0; i < 2 * BLOCK; i++)
        FUZZ_ASSERT(isfinite(buf[i]));
    FUZZ_ASSERT(rp_reverb_tail_frames(r) >= 0);
    rp_reverb_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t len = nul ? (size_t)(nul - text) : size;
    rp_diags d;
    rp_diags_init(&d);
    target t = {NULL, rp_room_preset_default(), &d};

    rp_status st = rp_sfx_preset_parse("fuzz", "fuzz.sfx", text, len, &t.sfx, &d);
    FUZZ_ASSERT((st == RP_OK) == (t.sfx != NULL));
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    if (!t.sfx) {
        const rp_source *b = builtin(rp_sfx_builtin, rp_sfx_n_builtin, len);
        FUZZ_ASSERT(rp_sfx_preset_parse(b->name, "builtin.sfx", b->text, b->len, &t.sfx, &d) ==
                    RP_OK);
    }
    size_t errors = d.n_errors;
    st = rp_room_parse("fuzz", "fuzz.room", text, len, &t.room, &d);
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    FUZZ_ASSERT((st == RP_ERR_INPUT) == (d.n_errors > errors));
    if (st != RP_OK) {
        const rp_source *b = builtin(rp_room_builtin, rp_room_n_builtin, len);
        FUZZ_ASSERT(rp_room_parse(b->name, "builtin.room", b->text, b->len, &t.room, &d) == RP_OK);
    }
    if (nul)
        each_override(nul + 1, size - len - 1, override_one, &t);
    fuzz_check_diags(&d, "fuzz.sfx");
    render_sfx(t.sfx);
    check_room(&t.room);
    rp_sfx_preset_free(t.sfx);
    rp_diags_deinit(&d);
    return 0;
}
