// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the cast sheet: defaults, loading every section and key, every
// diagnostic with its line, column, message and hint, automatic casting
// (distinct, gender-fitting, panned, stable voices that never override the
// sheet), the [say] respellings and how words match them, and the
// write -> load -> write round trip.
#include <stdint.h>

#include "rp_cast.h"
#include "rp_config.h"
#include "test.h"

static rp_cast C;
static rp_diags D;
static rp_status ST;
static int loaded;

static void release(void)
{
    if (loaded) {
        rp_cast_deinit(&C);
        rp_diags_deinit(&D);
    }
    loaded = 0;
}

static void load(const char *text)
{
    release();
    rp_diags_init(&D);
    CHECK_INT(rp_cast_init(&C), RP_OK);
    ST = rp_cast_load(&C, "cast.ini", text, strlen(text), &D);
    loaded = 1;
}

static void check_diag(int src_line, size_t k, int line, int col, const char *msg,
                       const char *hint)
{
    if (k >= D.n) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: no diagnostic #%zu (have %zu)\n", __FILE__, src_line, k, D.n);
        return;
    }
    const rp_diag *g = &D.items[k];
    int ok = g->sev == RP_DIAG_ERROR && g->line == line && g->col == col &&
             strcmp(g->msg, msg) == 0 && strcmp(g->subsystem, "cast") == 0 && g->file &&
             strcmp(g->file, "cast.ini") == 0 &&
             (hint ? g->hint && strcmp(g->hint, hint) == 0 : g->hint == NULL);
    if (!ok) {
        test_failed_checks++;
        fprintf(stderr,
                "%s:%d: diagnostic #%zu is %d:%d '%s' (hint '%s'), want %d:%d '%s' (hint '%s')\n",
                __FILE__, src_line, k, g->line, g->col, g->msg, g->hint ? g->hint : "(none)",
                line, col, msg, hint ? hint : "(none)");
    }
}
// hint NULL: the diagnostic must have no hint.
#define CHECK_DIAG(k, line, col, msg, hint) check_diag(__LINE__, k, line, col, msg, hint)

static int same_render(const rp_render_config *a, const rp_render_config *b)
{
    return a->rate_hz == b->rate_hz && a->channels == b->channels && a->seed == b->seed &&
           a->pause_sentence_s == b->pause_sentence_s &&
           a->pause_paragraph_s == b->pause_paragraph_s &&
           a->pause_speaker_s == b->pause_speaker_s && a->pause_heading_s == b->pause_heading_s &&
           a->pause_scene_s == b->pause_scene_s && a->lead_in_s == b->lead_in_s &&
           a->tail_s == b->tail_s && a->speech_gain_db == b->speech_gain_db &&
           a->sfx_gain_db == b->sfx_gain_db && a->bed_gain_db == b->bed_gain_db &&
           a->duck_db == b->duck_db && a->announce_headings == b->announce_headings;
}

// ---- defaults ------------------------------------------------------------------

static void test_defaults(void)
{
    rp_cast c;
    CHECK_INT(rp_cast_init(&c), RP_OK);
    const rp_render_config *r = &c.render;
    CHECK_INT(r->rate_hz, RP_DEFAULT_RATE_HZ);
    CHECK_INT(r->channels, RP_DEFAULT_CHANNELS);
    CHECK(r->seed == RP_DEFAULT_SEED);
    CHECK_NEAR(r->pause_sentence_s, RP_PAUSE_SENTENCE_S, 0);
    CHECK_NEAR(r->pause_paragraph_s, RP_PAUSE_PARAGRAPH_S, 0);
    CHECK_NEAR(r->pause_speaker_s, RP_PAUSE_SPEAKER_S, 0);
    CHECK_NEAR(r->pause_heading_s, RP_PAUSE_HEADING_S, 0);
    CHECK_NEAR(r->pause_scene_s, RP_PAUSE_SCENE_S, 0);
    CHECK_NEAR(r->lead_in_s, RP_LEAD_IN_S, 0);
    CHECK_NEAR(r->tail_s, RP_TAIL_S, 0);
    CHECK_NEAR(r->speech_gain_db, RP_SPEECH_GAIN_DB, 0);
    CHECK_NEAR(r->sfx_gain_db, RP_SFX_GAIN_DB, 0);
    CHECK_NEAR(r->bed_gain_db, RP_BED_GAIN_DB, 0);
    CHECK_NEAR(r->duck_db, RP_BED_DUCK_DB, 0);
    CHECK_INT(r->announce_headings, 1);
    rp_render_config d = rp_render_config_default();
    CHECK(same_render(&d, r));

    const rp_voice *n = &c.narrator;
    CHECK_STR(n->name, "Narrator");
    CHECK_STR(n->voice, RP_DEFAULT_NARRATOR_VOICE);
    CHECK_STR(n->variant, RP_DEFAULT_NARRATOR_VARIANT);
    CHECK_INT(n->rate_wpm, RP_DEFAULT_WPM);
    CHECK_INT(n->pitch, RP_DEFAULT_PITCH);
    CHECK_INT(n->range, RP_DEFAULT_RANGE);
    CHECK_INT(n->volume, RP_DEFAULT_VOLUME);
    CHECK_NEAR(n->pan, 0.0, 0);
    CHECK_NEAR(n->gain_db, 0.0, 0);
    CHECK_INT(n->fx, RP_VFX_NONE);
    CHECK_INT(n->automatic, 0);
    CHECK_INT(c.n_voices, 0);
    CHECK_INT(c.n_sfx, 0);
    CHECK_INT(c.n_rules, 0);
    CHECK(c.file == NULL);

    CHECK(rp_cast_voice(&c, NULL) == &c.narrator);
    CHECK(rp_cast_voice(&c, "Narrator") == &c.narrator);
    CHECK(rp_cast_voice(&c, "NARRATOR") == &c.narrator);
    CHECK(rp_cast_voice(&c, "Amara") == NULL);

    char buf[128];
    rp_voice_espeak_name(&c.narrator, buf, sizeof buf);
    CHECK_STR(buf, "en-gb+m3");
    rp_voice v = c.narrator;
    v.variant[0] = '\0';
    rp_voice_espeak_name(&v, buf, sizeof buf);
    CHECK_STR(buf, "en-gb");
    rp_voice_espeak_name(&c.narrator, buf, 4);
    CHECK_STR(buf, "en-");

    CHECK_INT(RP_VFX_COUNT, 8);
    CHECK_STR(rp_voice_fx_names[RP_VFX_NONE], "none");
    CHECK_STR(rp_voice_fx_names[RP_VFX_DISTANT], "distant");
    CHECK_STR(rp_voice_fx_names[RP_VFX_PA], "pa");
    CHECK_STR(rp_voice_fx_names[RP_VFX_HELMET], "helmet");
    rp_cast_deinit(&c);
    rp_cast_deinit(NULL);
}

// ---- a full sheet ------------------------------------------------------------------

static const char full_sheet[] =
    "# A complete sheet\n"                 // 1
    "[render]\n"                           // 2
    "rate = 44100\n"                       // 3
    "channels = 1\n"                       // 4
    "seed = 77\n"                          // 5
    "pause_sentence = 0.25\n"              // 6
    "pause_paragraph = 0.9\n"              // 7
    "pause_speaker = 0.5\n"                // 8
    "pause_heading = 1.5\n"                // 9
    "pause_scene = 3\n"                    // 10
    "lead_in = 0.2\n"                      // 11
    "tail = 2\n"                           // 12
    "speech_gain = -2\n"                   // 13
    "sfx_gain = -8\n"                      // 14
    "bed_gain = -20\n"                     // 15
    "duck = -12\n"                         // 16
    "headings = no\n"                      // 17
    "\n"                                   // 18
    "[narrator]\n"                         // 19
    "voice = en-us\n"                      // 20
    "variant = f2\n"                       // 21
    "rate = 150\n"                         // 22
    "pitch = 40\n"                         // 23
    "range = 60\n"                         // 24
    "volume = 120\n"                       // 25
    "pan = 0.1\n"                          // 26
    "gain = -1.5\n"                        // 27
    "effect = none\n"                      // 28
    "\n"                                   // 29
    "[voice Amara]\n"                      // 30
    "voice = en-gb-scotland\n"             // 31
    "variant = f5\n"                       // 32
    "rate = 180\n"                         // 33
    "pitch: 70\n"                          // 34
    "range = 30\n"                         // 35
    "volume = 90\n"                        // 36
    "pan = -0.4 ; to the left\n"           // 37
    "gain = 2\n"                           // 38
    "effect = Radio\n"                     // 39
    "\n"                                   // 40
    "[voice Pilot Jones]\n"                // 41
    "voice = en-029\n"                     // 42
    "variant = none\n"                     // 43
    "rate = 80\n"                          // 44
    "pitch = 0\n"                          // 45
    "range = 100\n"                        // 46
    "volume = 200\n"                       // 47
    "pan = 1\n"                            // 48
    "gain = -40\n"                         // 49
    "effect = megaphone\n"                 // 50
    "\n"                                   // 51
    "[voice Kell]\n"                       // 52
    "effect = whisper\n"                   // 53
    "\n"                                   // 54
    "[sfx thunder]\n"                      // 55
    "   gain = -3\n"                       // 56
    "layer.crack.cutoff = 900 Hz\n"        // 57
    "\n"                                   // 58
    "[rules]\n"                            // 59
    "distant thunder = thunder\n"          // 60
    "rain begins = rain\n"                 // 61
    "\n"                                   // 62
    "[say]\n"                              // 63
    "Ksena = Kseh-nah\n"                   // 64
    "Thal'Karn = [[T'al.k'A@n]]\n";        // 65

static void test_load_full_sheet(void)
{
    load(full_sheet);
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_STR(C.file, "cast.ini");
    const rp_render_config *r = &C.render;
    CHECK_INT(r->rate_hz, 44100);
    CHECK_INT(r->channels, 1);
    CHECK(r->seed == 77);
    CHECK_NEAR(r->pause_sentence_s, 0.25, 1e-12);
    CHECK_NEAR(r->pause_paragraph_s, 0.9, 1e-12);
    CHECK_NEAR(r->pause_speaker_s, 0.5, 1e-12);
    CHECK_NEAR(r->pause_heading_s, 1.5, 1e-12);
    CHECK_NEAR(r->pause_scene_s, 3.0, 1e-12);
    CHECK_NEAR(r->lead_in_s, 0.2, 1e-12);
    CHECK_NEAR(r->tail_s, 2.0, 1e-12);
    CHECK_NEAR(r->speech_gain_db, -2.0, 1e-12);
    CHECK_NEAR(r->sfx_gain_db, -8.0, 1e-12);
    CHECK_NEAR(r->bed_gain_db, -20.0, 1e-12);
    CHECK_NEAR(r->duck_db, -12.0, 1e-12);
    CHECK_INT(r->announce_headings, 0);

    const rp_voice *n = &C.narrator;
    CHECK_STR(n->name, "Narrator");
    CHECK_STR(n->voice, "en-us");
    CHECK_STR(n->variant, "f2");
    CHECK_INT(n->rate_wpm, 150);
    CHECK_INT(n->pitch, 40);
    CHECK_INT(n->range, 60);
    CHECK_INT(n->volume, 120);
    CHECK_NEAR(n->pan, 0.1, 1e-12);
    CHECK_NEAR(n->gain_db, -1.5, 1e-12);
    CHECK_INT(n->fx, RP_VFX_NONE);
    CHECK_INT(n->line, 19);

    CHECK_INT(C.n_voices, 3);
    const rp_voice *a = rp_cast_voice(&C, "amara");  // lookups ignore case
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(a->name, "Amara");
        CHECK_STR(a->voice, "en-gb-scotland");
        CHECK_STR(a->variant, "f5");
        CHECK_INT(a->rate_wpm, 180);
        CHECK_INT(a->pitch, 70);  // "key: value" works too
        CHECK_INT(a->range, 30);
        CHECK_INT(a->volume, 90);
        CHECK_NEAR(a->pan, -0.4, 1e-12);  // inline "; comment" dropped
        CHECK_NEAR(a->gain_db, 2.0, 1e-12);
        CHECK_INT(a->fx, RP_VFX_RADIO);  // effect names ignore case
        CHECK_INT(a->automatic, 0);
        CHECK_INT(a->line, 30);
    }
    const rp_voice *p = rp_cast_voice(&C, "Pilot Jones");
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(p->voice, "en-029");
        CHECK_STR(p->variant, "");
        CHECK_INT(p->rate_wpm, 80);
        CHECK_INT(p->pitch, 0);
        CHECK_INT(p->range, 100);
        CHECK_INT(p->volume, 200);
        CHECK_NEAR(p->pan, 1.0, 0);
        CHECK_NEAR(p->gain_db, -40.0, 0);
        CHECK_INT(p->fx, RP_VFX_MEGAPHONE);
        CHECK_INT(p->line, 41);
        char buf[64];
        rp_voice_espeak_name(p, buf, sizeof buf);
        CHECK_STR(buf, "en-029");
    }
    // A section sets only its keys; the rest keep the voice defaults.
    const rp_voice *k = rp_cast_voice(&C, "Kell");
    CHECK(k != NULL);
    if (k) {
        CHECK_INT(k->fx, RP_VFX_WHISPER);
        CHECK_INT(k->rate_wpm, RP_DEFAULT_WPM);
        CHECK_INT(k->pitch, RP_DEFAULT_PITCH);
        CHECK_INT(k->volume, RP_DEFAULT_VOLUME);
        CHECK_NEAR(k->pan, 0.0, 0);
        CHECK_INT(k->line, 52);
    }

    CHECK_INT(C.n_sfx, 2);
    if (C.n_sfx == 2) {
        CHECK_STR(C.sfx[0].preset, "thunder");
        CHECK_STR(C.sfx[0].key, "gain");
        CHECK_STR(C.sfx[0].value, "-3");
        CHECK_INT(C.sfx[0].line, 56);
        CHECK_INT(C.sfx[0].col, 4);
        CHECK_STR(C.sfx[1].key, "layer.crack.cutoff");
        CHECK_STR(C.sfx[1].value, "900 Hz");
        CHECK_INT(C.sfx[1].line, 57);
        CHECK_INT(C.sfx[1].col, 1);
    }
    CHECK_INT(C.n_rules, 2);
    if (C.n_rules == 2) {
        CHECK_STR(C.rules[0].phrase, "distant thunder");
        CHECK_STR(C.rules[0].preset, "thunder");
        CHECK_INT(C.rules[0].line, 60);
        CHECK_STR(C.rules[1].phrase, "rain begins");
        CHECK_STR(C.rules[1].preset, "rain");
        CHECK_INT(C.rules[1].line, 61);
    }
    CHECK_INT(C.n_say, 2);
    if (C.n_say == 2) {
        CHECK_STR(C.say[1].word, "Thal'Karn");
        CHECK_STR(C.say[1].say, "[[T'al.k'A@n]]");
        CHECK_INT(C.say[1].line, 65);
    }
    release();
}

// The mastering keys of [render]: values, and errors at the value.
static void test_mastering_keys(void)
{
    load("[render]\nloudness = -18\nceiling = -2\nbits = float\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(C.render.master.norm, RP_NORM_LUFS);
    CHECK_NEAR(C.render.master.target_lufs, -18.0, 1e-12);
    CHECK_NEAR(C.render.master.ceiling_dbtp, -2.0, 1e-12);
    CHECK_INT(C.render.bits, 32);
    load("[render]\nloudness = ACX\nbits = 24\n");
    CHECK_INT(C.render.master.norm, RP_NORM_ACX);
    CHECK_INT(C.render.bits, 24);
    load("[render]\nloudness = off\nchannels = 1\n");
    CHECK_INT(C.render.master.norm, RP_NORM_OFF);
    // Unset: by channels.
    CHECK_NEAR(rp_render_loudness_target(&C.render), -19.0, 1e-12);
    load("[render]\nloudness = -50\nceiling = 3\nbits = 12\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, 2, 12, "loudness must be between -40 and -5 LUFS (or acx, off)", NULL);
    CHECK_DIAG(1, 3, 11, "ceiling must be between -20 and 0 dBTP", NULL);
    CHECK_DIAG(2, 4, 8, "bits must be 16, 24 or float, not '12'", NULL);
    release();
}

static void test_load_small_things(void)
{
    // Empty sheet, comments only, CRLF line ends, a BOM, [voice narrator].
    load("");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    load("# nothing\n; also nothing\n\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    load("\xEF\xBB\xBF[render]\r\nrate = 22050\r\nheadings = YES\r\n[voice Narrator]\r\npitch = 30\r\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(C.render.rate_hz, 22050);
    CHECK_INT(C.render.announce_headings, 1);
    CHECK_INT(C.narrator.pitch, 30);
    CHECK_INT(C.n_voices, 0);
    // A section with no keys still names a voice: the defaults, from the sheet.
    load("[voice Bob]\n[voice Ann]\npitch = 20\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(C.n_voices, 2);
    CHECK(rp_cast_voice(&C, "Bob") != NULL);
    // Loading over an earlier load keeps what the first set.
    load("[render]\nrate = 32000\n");
    const char *more = "[render]\nchannels = 1\n";
    CHECK_INT(rp_cast_load(&C, "more.ini", more, strlen(more), &D), RP_OK);
    CHECK_INT(C.render.rate_hz, 32000);
    CHECK_INT(C.render.channels, 1);
    CHECK_STR(C.file, "more.ini");
    release();
}

// ---- errors ---------------------------------------------------------------------------

static void test_unknown_section(void)
{
    load("[voices X]\n"        // 1
         "pitch = 3\n"         // 2
         "\n"                  // 3
         "[rendr]\n"           // 4
         "[zzzzzz]\n"          // 5
         "[voice Y]\n"         // 6
         "pitch = 3\n");       // 7
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 3);
    CHECK_INT(D.n_errors, 3);
    CHECK_DIAG(0, 1, 1, "unknown section [voices X]", "did you mean 'voice'?");
    // No keys: still reported, on its own line.
    CHECK_DIAG(1, 4, 1, "unknown section [rendr]", "did you mean 'render'?");
    CHECK_DIAG(2, 5, 1, "unknown section [zzzzzz]",
               "sections are [render], [narrator], [voice NAME], [sfx NAME], [rules] and [say]");
    // Keys in a bad section are skipped silently; later sections load.
    CHECK_INT(C.n_voices, 1);
    CHECK_INT(C.narrator.pitch, RP_DEFAULT_PITCH);
    release();
}

static void test_unknown_key(void)
{
    load("[voice Bob]\n"
         "pich = 40\n"
         "colour = red\n"
         "[render]\n"
         "pause_sentance = 1\n"
         "[narrator]\n"
         "vioce = en-us\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 4);
    CHECK_DIAG(0, 2, 1, "unknown key 'pich' in [voice Bob]", "did you mean 'pitch'?");
    CHECK_DIAG(1, 3, 1, "unknown key 'colour' in [voice Bob]", NULL);
    CHECK_DIAG(2, 5, 1, "unknown key 'pause_sentance' in [render]",
               "did you mean 'pause_sentence'?");
    CHECK_DIAG(3, 7, 1, "unknown key 'vioce' in [narrator]", "did you mean 'voice'?");
    release();
}

static void test_bad_values(void)
{
    load("[voice Bob]\n"          // 1
         "pitch = 140\n"          // 2
         "pan = -1.5\n"           // 3
         "rate=500\n"             // 4
         "rate = fast\n"          // 5
         "pitch = 4.5\n"          // 6
         "gain = 13\n"            // 7
         "volume = -1\n"          // 8
         "effect = robto\n"       // 9
         "effect = xyzzyplugh\n"  // 10
         "voice = en gb\n"        // 11
         "[render]\n"             // 12
         "rate = 1000\n"          // 13
         "channels = 3\n"         // 14
         "headings = maybe\n"     // 15
         "seed = 1.5\n"           // 16
         "duck = 3\n"             // 17
         "pause_scene = 61\n"     // 18
         "tail = 1s\n");          // 19
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 17);
    CHECK_DIAG(0, 2, 9, "pitch must be between 0 and 100", NULL);
    CHECK_DIAG(1, 3, 7, "pan must be between -1 and 1", NULL);
    CHECK_DIAG(2, 4, 6, "rate must be between 80 and 450 words/min", NULL);
    CHECK_DIAG(3, 5, 8, "rate: 'fast' is not a number", NULL);
    CHECK_DIAG(4, 6, 9, "pitch must be a whole number, not '4.5'", NULL);
    CHECK_DIAG(5, 7, 8, "gain must be between -40 and 12 dB", NULL);
    CHECK_DIAG(6, 8, 10, "volume must be between 0 and 200", NULL);
    CHECK_DIAG(7, 9, 10, "unknown voice effect 'robto'", "did you mean 'robot'?");
    CHECK_DIAG(8, 10, 10, "unknown voice effect 'xyzzyplugh'",
               "one of none, radio, robot, megaphone, whisper, distant, pa, helmet");
    CHECK_DIAG(9, 11, 9, "voice: 'en gb' is not a voice name", NULL);
    CHECK_DIAG(10, 13, 8, "rate must be between 8000 and 192000 Hz", NULL);
    CHECK_DIAG(11, 14, 12, "channels must be between 1 and 2", NULL);
    CHECK_DIAG(12, 15, 12, "headings: 'maybe' is not yes or no", "use yes or no");
    CHECK_DIAG(13, 16, 8, "seed must be a whole number, not '1.5'", NULL);
    CHECK_DIAG(14, 17, 8, "duck must be between -60 and 0 dB", NULL);
    CHECK_DIAG(15, 18, 15, "pause_scene must be between 0 and 60 s", NULL);
    CHECK_DIAG(16, 19, 8, "tail: '1s' is not a number", NULL);
    // The bad values left the defaults alone.
    const rp_voice *b = rp_cast_voice(&C, "Bob");
    CHECK(b != NULL);
    if (b) {
        CHECK_INT(b->pitch, RP_DEFAULT_PITCH);
        CHECK_NEAR(b->pan, 0.0, 0);
        CHECK_INT(b->rate_wpm, RP_DEFAULT_WPM);
        CHECK_INT(b->fx, RP_VFX_NONE);
        CHECK_STR(b->voice, "en-us");
    }
    CHECK_INT(C.render.rate_hz, RP_DEFAULT_RATE_HZ);
    CHECK(C.render.seed == RP_DEFAULT_SEED);
    CHECK_NEAR(C.render.tail_s, RP_TAIL_S, 0);
    // A seed out of range prints its limit as an integer.
    load("[render]\nseed = 4294967296\n");
    CHECK_DIAG(0, 2, 8, "seed must be between 0 and 4294967295", NULL);
    release();
}

static void test_duplicate_voice(void)
{
    load("[voice Ann]\n"    // 1
         "pitch = 10\n"     // 2
         "[voice Bob]\n"    // 3
         "pitch = 30\n"     // 4
         "[voice ann]\n"    // 5: case-insensitive duplicate
         "pitch = 90\n"     // 6
         "[voice Bob]\n"    // 7: directly after the first? see below
         "pitch = 20\n");   // 8
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 5, 1, "duplicate section [voice ann] (first at line 1)",
               "merge the two sections");
    CHECK_DIAG(1, 7, 1, "duplicate section [voice Bob] (first at line 3)",
               "merge the two sections");
    // The first section wins; the duplicate's keys are not applied.
    CHECK_INT(rp_cast_voice(&C, "Ann")->pitch, 10);
    CHECK_INT(rp_cast_voice(&C, "Bob")->pitch, 30);
    CHECK_INT(C.n_voices, 2);
    // Back to back: the second header follows the first's keys directly.
    load("[voice Ann]\npitch = 10\n[voice Ann]\npitch = 20\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, 3, 1, "duplicate section [voice Ann] (first at line 1)",
               "merge the two sections");
    CHECK_INT(rp_cast_voice(&C, "Ann")->pitch, 10);
    release();
}

static void test_structure_errors(void)
{
    // Key before any section.
    load("pitch = 3\n[render]\nrate = 8000\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, 1, 1, "key 'pitch' is outside any section",
               "put keys inside a section such as [render]");
    CHECK_INT(C.render.rate_hz, 8000);
    // Unclosed section header: one error, at the bracket.
    load("[render]\n  [voice Bob\nrate = 100\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 2, 3, "unclosed section header", "close the section name with ']'");
    // Its keys go on into the section before it, as inih reads them.
    CHECK_DIAG(1, 3, 8, "rate must be between 8000 and 192000 Hz", NULL);
    CHECK_INT(C.n_voices, 0);
    load("[render]\nrate = 8000\n[voice Bob ; note]\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, 3, 1, "unclosed section header", "close the section name with ']'");
    // An indented line after a key continues that key's value (inih).
    load("[render]\nrate = 8000\n  [voice Bob]\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, 3, 3, "rate: '[voice Bob]' is not a number", NULL);
    CHECK_INT(C.n_voices, 0);
    // A line that is neither a header nor key = value.
    load("[render]\njust some words\nrate = 8000\nmore words\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 2, 1, "cannot parse this line of the cast sheet", "write key = value");
    CHECK_DIAG(1, 4, 1, "cannot parse this line of the cast sheet", "write key = value");
    CHECK_INT(C.render.rate_hz, 8000);
    // A rule needs both sides.
    load("[rules]\nboom =\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, 2, 1, "rule needs a phrase and a preset", "write: sound words = preset");
    CHECK_INT(C.n_rules, 0);
    // So does an effect setting: written back as " = 3" it would continue
    // the line before.
    load("[sfx thunder]\n= 3\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, 2, 1, "[sfx thunder] setting needs a key", "write: key = value, e.g. gain = -3");
    CHECK_INT(C.n_sfx, 0);
    // A speaker name over the limit.
    char sheet[200];
    snprintf(sheet, sizeof sheet, "[voice %.*s]\npitch = 3\n", 65,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    load(sheet);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK(D.n == 1 && D.items[0].line == 1 && strstr(D.items[0].msg, "longer than 64 bytes"));
    CHECK_INT(C.n_voices, 0);
    release();
}

static void test_binary_data(void)
{
    static const char text[] = "[render]\nrate = 4\0" "8000\n";
    release();
    rp_diags_init(&D);
    rp_cast_init(&C);
    loaded = 1;
    ST = rp_cast_load(&C, "cast.ini", text, sizeof text - 1, &D);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, 2, 9, "binary data (NUL byte)", "a cast sheet is UTF-8 text");
    CHECK_INT(C.render.rate_hz, RP_DEFAULT_RATE_HZ);
    release();
}

static void test_several_errors(void)
{
    load("[render]\n"          // 1
         "rate = 7\n"          // 2
         "[voices Ann]\n"      // 3
         "[voice Bob]\n"       // 4
         "pitch = 101\n"       // 5
         "pan = 0.25\n"        // 6
         "efect = radio\n"     // 7
         "[voice Bob]\n"       // 8
         "[narrator]\n"        // 9
         "effect = robott\n"   // 10
         "[rules\n");          // 11
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 7);
    CHECK_INT(D.n_errors, 7);
    int lines[] = {2, 3, 5, 7, 8, 10, 11};
    for (size_t i = 0; i < D.n && i < 7; i++)
        CHECK_INT(D.items[i].line, lines[i]);
    CHECK_DIAG(3, 7, 1, "unknown key 'efect' in [voice Bob]", "did you mean 'effect'?");
    CHECK_DIAG(5, 10, 10, "unknown voice effect 'robott'", "did you mean 'robot'?");
    // Good keys between the bad ones still load.
    CHECK_NEAR(rp_cast_voice(&C, "Bob")->pan, 0.25, 1e-12);
    release();
}

// ---- automatic casting -------------------------------------------------------------------

typedef struct {
    rp_script s;
    rp_character chars[64];
} fake_script;

static void make_script(fake_script *f, const char *const *names, const rp_gender *genders,
                        size_t n)
{
    memset(f, 0, sizeof *f);
    f->s.name = "t.txt";
    f->s.chars = f->chars;
    for (size_t i = 0; i < n && i < 64; i++) {
        f->chars[i].name = (char *)names[i];
        f->chars[i].gender = genders ? genders[i] : RP_GENDER_UNKNOWN;
        f->chars[i].n_quotes = 1;
    }
    f->s.n_chars = n < 64 ? n : 64;
}

// Two voices sound alike when voice and variant match and the base pitch is
// less than 6 apart (the spacing of cast.c's pitch palette).
static int same_sound(const rp_voice *a, const rp_voice *b)
{
    return !strcmp(a->voice, b->voice) && !strcmp(a->variant, b->variant) &&
           abs(a->pitch - b->pitch) < 6;
}

// Two speakers who would take the same voice and variant (at any pitch) or
// the same place alone: casting moves one of them.
static int wants_same(const rp_voice *a, const rp_voice *b)
{
    return (!strcmp(a->voice, b->voice) && !strcmp(a->variant, b->variant)) || a->pan == b->pan;
}

static int same_voice(const rp_voice *a, const rp_voice *b)
{
    return !strcmp(a->voice, b->voice) && !strcmp(a->variant, b->variant) &&
           a->pitch == b->pitch && a->rate_wpm == b->rate_wpm && a->pan == b->pan;
}

// The voice a name gets when it is the only speaker.
static rp_voice solo_voice(const char *name, rp_gender g)
{
    rp_cast c;
    rp_cast_init(&c);
    fake_script f;
    make_script(&f, &name, &g, 1);
    rp_cast_assign(&c, &f.s);
    rp_voice v = c.voices[0];
    v.name = NULL;
    rp_cast_deinit(&c);
    return v;
}

static const char *const ten[] = {"Amara", "Bosun Kell", "Dana",  "Elias", "Farrow",
                                  "Greta", "Hollis",     "Ingrid", "Jonas", "Kestrel"};
static const rp_gender ten_g[] = {RP_GENDER_FEMALE, RP_GENDER_MALE,    RP_GENDER_FEMALE,
                                  RP_GENDER_MALE,   RP_GENDER_UNKNOWN, RP_GENDER_FEMALE,
                                  RP_GENDER_MALE,   RP_GENDER_FEMALE,  RP_GENDER_MALE,
                                  RP_GENDER_UNKNOWN};

// Voice effects from the prose: the paragraph's narration names the channel.
static void test_effects_from_the_prose(void)
{
    static const struct {
        const char *speaker, *narration;
    } paras[] = {
        {"Kirk", "a voice crackled over Ksena's comms."},
        {"Kirk", "Kirk said."},                       // one of two over the comms: enough
        {"Mara", "Mara spoke into her radio."},
        {"Mara", "Mara said."},
        {"Mara", "Mara said again."},                 // one of three: not enough
        {"the unit", "its voice a recorded loop."},
        {"Hale", "Hale barked over the comms."},      // the sheet's choice stands
        {"Crier", "the loudspeakers boomed."},
    };
    enum { N = sizeof paras / sizeof paras[0] };
    static rp_block blocks[N];
    static rp_run runs[N][2];
    for (size_t i = 0; i < N; i++) {
        runs[i][0] = (rp_run){.kind = RP_RUN_QUOTE, .text = (char *)"Words.",
                              .speaker = (char *)paras[i].speaker};
        runs[i][1] = (rp_run){.kind = RP_RUN_NARRATION, .text = (char *)paras[i].narration};
        blocks[i] = (rp_block){.kind = RP_BLOCK_PARAGRAPH, .runs = runs[i], .n_runs = 2};
    }
    const char *const names[] = {"Kirk", "Mara", "the unit", "Hale", "Crier"};
    fake_script f;
    make_script(&f, names, NULL, 5);
    f.s.blocks = blocks;
    f.s.n_blocks = N;
    load("[voice Hale]\neffect = megaphone\n");
    CHECK_INT(rp_cast_assign(&C, &f.s), RP_OK);
    CHECK_INT(rp_cast_voice(&C, "Kirk")->fx, RP_VFX_RADIO);
    CHECK_INT(rp_cast_voice(&C, "Mara")->fx, RP_VFX_NONE);
    CHECK_INT(rp_cast_voice(&C, "the unit")->fx, RP_VFX_ROBOT);
    CHECK_INT(rp_cast_voice(&C, "Hale")->fx, RP_VFX_MEGAPHONE);
    CHECK_INT(rp_cast_voice(&C, "Crier")->fx, RP_VFX_PA);
    release();
}

static void test_assign_every_speaker(void)
{
    rp_cast c;
    rp_cast_init(&c);
    fake_script f;
    make_script(&f, ten, ten_g, 10);
    CHECK_INT(rp_cast_assign(&c, &f.s), RP_OK);
    CHECK_INT(c.n_voices, 10);
    for (size_t i = 0; i < 10; i++) {
        const rp_voice *v = rp_cast_voice(&c, ten[i]);
        CHECK_MSG(v != NULL, "%s has no voice", ten[i]);
        if (!v)
            continue;
        CHECK(v != &c.narrator);
        CHECK_STR(v->name, ten[i]);
        CHECK_INT(v->automatic, 1);
        CHECK(v->voice[0] != '\0');
        CHECK_MSG(v->variant[0] == 'm' || v->variant[0] == 'f', "%s: variant '%s'", ten[i],
                  v->variant);
        if (ten_g[i] == RP_GENDER_FEMALE)
            CHECK_MSG(v->variant[0] == 'f', "%s is female but got '%s'", ten[i], v->variant);
        if (ten_g[i] == RP_GENDER_MALE)
            CHECK_MSG(v->variant[0] == 'm', "%s is male but got '%s'", ten[i], v->variant);
        CHECK_MSG(fabs(v->pan) >= 0.1 && fabs(v->pan) <= 1.0, "%s: pan %g", ten[i], v->pan);
        CHECK(v->rate_wpm >= 80 && v->rate_wpm <= 450);
        CHECK(v->pitch >= 0 && v->pitch <= 100);
        CHECK_MSG(!same_sound(v, &c.narrator), "%s sounds like the narrator", ten[i]);
        for (size_t j = 0; j < i; j++) {
            const rp_voice *w = rp_cast_voice(&c, ten[j]);
            CHECK_MSG(!w || !same_sound(v, w), "%s and %s share %s+%s pitch %d/%d", ten[i],
                      ten[j], v->voice, v->variant, v->pitch, w->pitch);
        }
    }
    // Speakers are spread to both sides.
    int left = 0, right = 0;
    for (size_t i = 0; i < c.n_voices; i++) {
        left += c.voices[i].pan < 0;
        right += c.voices[i].pan > 0;
    }
    CHECK(left >= 2 && right >= 2);
    // Six speakers: each stands at their own place, and each of one gender
    // gets their own voice and variant, not only a pitch of their own.
    rp_cast six;
    rp_cast_init(&six);
    make_script(&f, ten, ten_g, 6);
    CHECK_INT(rp_cast_assign(&six, &f.s), RP_OK);
    for (size_t i = 0; i < six.n_voices; i++)
        for (size_t j = 0; j < i; j++) {
            const rp_voice *v = &six.voices[i], *w = &six.voices[j];
            CHECK_MSG(v->pan != w->pan, "%s and %s share pan %.2f", v->name, w->name, v->pan);
            CHECK_MSG(strcmp(v->voice, w->voice) || strcmp(v->variant, w->variant),
                      "%s and %s share %s+%s", v->name, w->name, v->voice, v->variant);
        }
    rp_cast_deinit(&six);
    make_script(&f, ten, ten_g, 10);
    // Assigning again adds nothing; the narrator is never a character.
    const char *again[] = {"amara", "Narrator", "NARRATOR"};
    make_script(&f, again, NULL, 3);
    CHECK_INT(rp_cast_assign(&c, &f.s), RP_OK);
    CHECK_INT(c.n_voices, 10);
    rp_cast_deinit(&c);
}

static void test_assign_many_speakers(void)
{
    // More speakers than the palette holds: everyone still gets a voice.
    static char names[40][24];
    const char *ptrs[40];
    rp_gender g[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "Extra %d", i);
        ptrs[i] = names[i];
        g[i] = i % 2 ? RP_GENDER_FEMALE : RP_GENDER_MALE;
    }
    rp_cast c;
    rp_cast_init(&c);
    fake_script f;
    make_script(&f, ptrs, g, 40);
    CHECK_INT(rp_cast_assign(&c, &f.s), RP_OK);
    CHECK_INT(c.n_voices, 40);
    int distinct_pairs_bad = 0;
    for (size_t i = 0; i < c.n_voices; i++) {
        CHECK(c.voices[i].voice[0] != '\0');
        CHECK(c.voices[i].variant[0] == (g[i] == RP_GENDER_FEMALE ? 'f' : 'm'));
        CHECK(c.voices[i].pan != 0.0);
        for (size_t j = 0; j < i; j++)
            distinct_pairs_bad += same_sound(&c.voices[i], &c.voices[j]);
    }
    // 20 per gender fit in the palette (8 voices x 5 pitches per gender).
    CHECK_INT(distinct_pairs_bad, 0);
    rp_cast_deinit(&c);
}

static void test_assign_stable(void)
{
    // Each name alone.
    rp_voice solo[10];
    for (size_t i = 0; i < 10; i++)
        solo[i] = solo_voice(ten[i], ten_g[i]);
    // Determinism: the same name alone twice.
    rp_voice again = solo_voice(ten[3], ten_g[3]);
    CHECK(same_voice(&again, &solo[3]));

    // The same names in reverse order, with strangers mixed in.
    const char *names[14];
    rp_gender g[14];
    size_t n = 0;
    const char *strangers[] = {"Quill", "Rosalind", "Sterling", "Tamsin"};
    for (size_t i = 0; i < 10; i++) {
        names[n] = ten[9 - i];
        g[n++] = ten_g[9 - i];
        if (i % 3 == 0) {
            names[n] = strangers[i / 3];
            g[n++] = RP_GENDER_UNKNOWN;
        }
    }
    rp_cast c;
    rp_cast_init(&c);
    fake_script f;
    make_script(&f, names, g, n);
    CHECK_INT(rp_cast_assign(&c, &f.s), RP_OK);
    // Names whose solo voice and place no other name wants keep them; the rest
    // must at least not depend on the order (checked below). This set holds
    // one collision (Amara and Ingrid want the same voice), so that the order
    // check below has something to decide.
    int clashes = 0;
    for (size_t i = 0; i < 10; i++)
        for (size_t j = 0; j < i; j++)
            clashes += same_sound(&solo[i], &solo[j]);
    CHECK(clashes >= 1);
    for (size_t i = 0; i < 10; i++) {
        int clash = 0;
        for (size_t j = 0; j < 10; j++)
            clash += j != i && wants_same(&solo[i], &solo[j]);
        for (size_t k = 0; k < 4; k++) {
            rp_voice s = solo_voice(strangers[k], RP_GENDER_UNKNOWN);
            clash += wants_same(&solo[i], &s);
        }
        const rp_voice *v = rp_cast_voice(&c, ten[i]);
        if (!clash && v)
            CHECK_MSG(same_voice(v, &solo[i]), "%s: %s+%s/%d alone, %s+%s/%d with others",
                      ten[i], solo[i].voice, solo[i].variant, solo[i].pitch, v->voice,
                      v->variant, v->pitch);
    }

    // Order independence for the same set of names, clashes included.
    rp_cast c2;
    rp_cast_init(&c2);
    const char *rev[14] = {0};
    rp_gender grev[14] = {0};
    for (size_t i = 0; i < n; i++) {
        rev[i] = names[n - 1 - i];
        grev[i] = g[n - 1 - i];
    }
    make_script(&f, rev, grev, n);
    CHECK_INT(rp_cast_assign(&c2, &f.s), RP_OK);
    for (size_t i = 0; i < n; i++) {
        const rp_voice *a = rp_cast_voice(&c, names[i]), *b = rp_cast_voice(&c2, names[i]);
        CHECK_MSG(a && b && same_voice(a, b), "%s changes voice with the order of speakers",
                  names[i]);
    }
    rp_cast_deinit(&c);
    rp_cast_deinit(&c2);
}

static void test_assign_respects_sheet(void)
{
    // Find the voice "Elias" would get, give it to someone on the sheet.
    rp_voice want = solo_voice("Elias", RP_GENDER_MALE);
    char sheet[512];
    snprintf(sheet, sizeof sheet,
             "[voice Mara]\nvoice = %s\nvariant = %s\npitch = %d\npan = 0\n"
             "[voice Amara]\nvoice = en-us\nvariant = m1\npitch = 20\npan = 0.9\n",
             want.voice, want.variant, want.pitch);
    load(sheet);
    CHECK_INT(ST, RP_OK);
    rp_voice amara_before = *rp_cast_voice(&C, "Amara");
    fake_script f;
    const char *names[] = {"AMARA", "Elias", "Mara"};
    const rp_gender g[] = {RP_GENDER_FEMALE, RP_GENDER_MALE, RP_GENDER_MALE};
    make_script(&f, names, g, 3);
    CHECK_INT(rp_cast_assign(&C, &f.s), RP_OK);
    CHECK_INT(C.n_voices, 3);
    // Sheet voices stay as written, even against the inferred gender.
    const rp_voice *a = rp_cast_voice(&C, "Amara");
    CHECK(a && same_voice(a, &amara_before) && a->automatic == 0);
    const rp_voice *m = rp_cast_voice(&C, "Mara");
    CHECK(m && m->automatic == 0 && m->pan == 0.0 && m->pitch == want.pitch);
    // Elias may not take the sheet's voice.
    const rp_voice *e = rp_cast_voice(&C, "Elias");
    CHECK(e && e->automatic == 1);
    if (e && m)
        CHECK_MSG(!same_sound(e, m), "Elias got the sheet's voice %s+%s/%d", e->voice,
                  e->variant, e->pitch);
    if (e && a)
        CHECK(!same_sound(e, a));
    release();
}

// ---- [say] ----------------------------------------------------------------------------

static void test_say_section(void)
{
    load("[say]\n"                            // 1
         "Ksena = Kseh-nah\n"                 // 2
         "Thal'Karn = [[T'al.k'A@n]]\n"       // 3
         "ksiv = [[ks'Iv]]   ; a comment\n"   // 4
         "Vantos = Van-[[t'0s]]\n");          // 5
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(C.n_say, 4);
    if (C.n_say != 4) {
        release();
        return;
    }
    CHECK_STR(C.say[0].word, "Ksena");
    CHECK_STR(C.say[0].say, "Kseh-nah");
    CHECK_INT(C.say[1].line, 3);
    CHECK_STR(C.say[1].say, "[[T'al.k'A@n]]");
    CHECK_STR(C.say[2].say, "[[ks'Iv]]");
    CHECK_STR(C.say[3].say, "Van-[[t'0s]]");
#define FIND(w) rp_respelling_find(C.say, C.n_say, (w), strlen(w))
    // Any case, but a capitalized key wants a capitalized word.
    CHECK(FIND("Ksena") == &C.say[0]);
    CHECK(FIND("KSENA") == &C.say[0]);
    CHECK(FIND("kSENA") == NULL);
    CHECK(FIND("ksena") == NULL);
    CHECK(FIND("Ksiv") == &C.say[2]);
    CHECK(FIND("ksiv") == &C.say[2]);
    CHECK(FIND("KSIV") == &C.say[2]);
    // Whole words only; a curly apostrophe is the straight one.
    CHECK(FIND("Ksenas") == NULL);
    CHECK(FIND("Ksen") == NULL);
    CHECK(FIND("Thal\xE2\x80\x99Karn") == &C.say[1]);
    CHECK(FIND("thal'karn") == NULL);
    CHECK(FIND("Thal") == NULL);
    CHECK(rp_respelling_find(C.say, C.n_say, "Ksena", 0) == NULL);
    CHECK(rp_respelling_find(NULL, 0, "Ksena", 5) == NULL);
#undef FIND
    release();
}

static void test_say_errors(void)
{
    load("[say]\n"                 // 1
         "Ksena =\n"               // 2
         "Two words = x\n"         // 3
         "Vantos = [[v'ant0s\n"    // 4
         "Kia = Kee]]a\n"          // 5
         "Zel = [[a [[b]]\n"       // 6
         "Em = [[]]\n"             // 7
         "Lo = low\n"              // 8
         "LO = loh\n"              // 9
         "lo = loo\n");            // 10
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n_errors, 8);
    const char *ph = "phonemes are written [[...]]; 'radioplay say WORD' prints them";
    CHECK_DIAG(0, 2, 8, "'Ksena' has no respelling",
               "write Word = respelling, or Word = [[phonemes]]");
    CHECK_DIAG(1, 3, 1, "[say] key 'Two words' is not one word",
               "one word per line: Name = respelling");
    CHECK_DIAG(2, 4, 10, "'[[' is not closed with ']]' in the respelling of 'Vantos'", ph);
    CHECK_DIAG(3, 5, 10, "']]' without '[[' in the respelling of 'Kia'", ph);
    CHECK_DIAG(4, 6, 11, "phonemes in [[ ]] cannot nest in the respelling of 'Zel'", ph);
    CHECK_DIAG(5, 7, 6, "empty phonemes '[[]]' in the respelling of 'Em'", ph);
    CHECK_DIAG(6, 9, 1, "duplicate [say] entry for 'LO' (first at line 8)",
               "keep one of the two lines");
    CHECK_DIAG(7, 10, 1, "duplicate [say] entry for 'lo' (first at line 8)",
               "keep one of the two lines");
    // The good line is kept.
    CHECK_INT(C.n_say, 1);
    release();
}

static void test_words(void)
{
    const char *t = "Ksena\xE2\x80\x99s rail-rounds, Thal'Karn -- 'quoted' o'clock 42 \xC3\xA9t\xC3\xA9 "
                    "end- -start";
    const char *want[] = {"Ksena\xE2\x80\x99s", "rail-rounds", "Thal'Karn", "quoted", "o'clock",
                          "42", "\xC3\xA9t\xC3\xA9", "end", "start"};
    size_t pos = 0, a, b, n = 0, len = strlen(t);
    while (rp_word_next(t, len, &pos, &a, &b)) {
        CHECK(pos == b && a < b);
        if (n < sizeof want / sizeof want[0])
            CHECK_MSG(b - a == strlen(want[n]) && !strncmp(t + a, want[n], b - a),
                      "word %zu is '%.*s'", n, (int)(b - a), t + a);
        n++;
    }
    CHECK_INT(n, sizeof want / sizeof want[0]);
    CHECK_INT(pos, len);
    pos = 0;
    CHECK_INT(rp_word_next("  , -- ", 7, &pos, &a, &b), 0);
    CHECK_INT(pos, 7);
}

// ---- writing -----------------------------------------------------------------------------

static char *strip_comments(const char *s)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (*s != '#')
            rp_strbuf_append(&b, s, n);
        s += n;
    }
    return rp_strbuf_take(&b);
}

// ---- limits --------------------------------------------------------------------

// A line longer than RP_MAX_CAST_LINE_BYTES is an error at the first byte
// past the limit, and nothing of it is read (inih would cut it short); one
// of exactly the limit is read whole, unless it would be longer written
// back with spaces around its '='.
static void test_line_limit(void)
{
    enum { MAX = RP_MAX_CAST_LINE_BYTES };
    char text[2 * MAX], want[64];
    int n = snprintf(text, sizeof text, "[say]\nKsena = ");
    memset(text + n, 'a', MAX - 8);
    strcpy(text + n + MAX - 8, "\n");
    load(text);
    CHECK_INT(ST, RP_OK);
    CHECK_INT(C.n_say, 1);
    CHECK_INT(C.n_say ? strlen(C.say[0].say) : 0, MAX - 8);
    strcpy(text + n + MAX - 8, "b\n");
    load(text);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(C.n_say, 0);
    snprintf(want, sizeof want, "line is longer than %d bytes", MAX);
    CHECK_DIAG(0, 2, MAX + 1, want, "split a long [say] or [rules] line in two");
    CHECK_INT(D.n, 1);
    // The sheet is written back as "key = value": that must fit too.
    n = snprintf(text, sizeof text, "[say]\nKsena=");
    memset(text + n, 'a', MAX - 6);
    strcpy(text + n + MAX - 6, "\n");
    load(text);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(C.n_say, 0);
    snprintf(want, sizeof want, "line is longer than %d bytes written as 'Ksena = ...'", MAX);
    CHECK_DIAG(0, 2, 1, want, "split a long [say] or [rules] line in two");
}

// RP_MAX_SPEAKERS [voice] sections, RP_MAX_RULES rules and RP_MAX_SAY
// respellings load; one more of each is an error at its line.
static void test_count_limits(void)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    for (int i = 0; i <= RP_MAX_SPEAKERS; i++)
        rp_strbuf_printf(&b, "[voice Speaker %d]\npitch = 40\n", i);
    rp_strbuf_puts(&b, "[rules]\n");
    for (int i = 0; i <= RP_MAX_RULES; i++)
        rp_strbuf_printf(&b, "word%d = thunder\n", i);
    rp_strbuf_puts(&b, "[say]\n");
    for (int i = 0; i <= RP_MAX_SAY; i++)
        rp_strbuf_printf(&b, "Name%d = Nay-m\n", i);
    load(b.s);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(C.n_voices, RP_MAX_SPEAKERS);
    CHECK_INT(C.n_rules, RP_MAX_RULES);
    CHECK_INT(C.n_say, RP_MAX_SAY);
    CHECK_INT(D.n, 3);
    char want[64];
    int line = 2 * RP_MAX_SPEAKERS + 1;
    snprintf(want, sizeof want, "more than %d [voice] sections", RP_MAX_SPEAKERS);
    CHECK_DIAG(0, line, 1, want, "leave the other speakers to automatic casting");
    line += 2 + RP_MAX_RULES + 1;
    snprintf(want, sizeof want, "more than %d rules in [rules]", RP_MAX_RULES);
    CHECK_DIAG(1, line, 1, want, NULL);
    line += 1 + RP_MAX_SAY + 1;
    snprintf(want, sizeof want, "more than %d respellings in [say]", RP_MAX_SAY);
    CHECK_DIAG(2, line, 1, want, NULL);
    rp_strbuf_deinit(&b);
}

// An [sfx NAME] longer than an effect name is an error, not a cut name.
static void test_sfx_name_limit(void)
{
    char text[256];
    snprintf(text, sizeof text, "[sfx %065d]\ngain = -3\n", 7);
    load(text);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(C.n_sfx, 0);
    char want[128];
    snprintf(want, sizeof want, "effect name '%065d' is longer than 64 bytes", 7);
    CHECK_DIAG(0, 1, 2, want, NULL);
}

// A sheet's narrator has one section, a [render] or [voice] key one line
// (after a good value; a continuation line is more of the same value), and
// the text is UTF-8: each an error where it goes wrong.
static void test_given_twice_and_utf8(void)
{
    load("[narrator]\nrate = 165\n[narrator]\nrate = 100\n[voice Narrator]\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 3, 1, "duplicate section [narrator] (first at line 1)", "merge the two sections");
    CHECK_DIAG(1, 5, 1, "duplicate section [voice Narrator] (first at line 1)",
               "merge the two sections");
    CHECK_INT(C.narrator.rate_wpm, 165);
    load("[voice Ann]\npitch = 40\npitch = 50\n[render]\nrate = 8000\n  fast\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 3, 1, "'pitch' is given twice in this section (first at line 2)",
               "keep one of the two lines");
    CHECK_DIAG(1, 6, 3, "rate: 'fast' is not a number", NULL);
    CHECK_INT(C.n_voices ? C.voices[0].pitch : 0, 40);
    // A continuation line loses its comment, as a key line does.
    load("[sfx thunder]\ngain = -3 ; soft\n  -6 ; louder\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(C.n_sfx, 2);
    CHECK_STR(C.n_sfx == 2 ? C.sfx[1].value : NULL, "-6");
    load("[voice Ann]\npitch = 4\xff" "0\n[voice \xc3\xa9\xc3]\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, 2, 10, "invalid UTF-8 byte 0xFF", "save the cast sheet as UTF-8");
    CHECK_DIAG(1, 3, 9, "invalid UTF-8 byte 0xC3", "save the cast sheet as UTF-8");
}

static void test_round_trip(void)
{
    load(full_sheet);
    CHECK_INT(ST, RP_OK);
    fake_script f;
    make_script(&f, ten, ten_g, 10);  // Amara is on the sheet; nine are automatic
    CHECK_INT(rp_cast_assign(&C, &f.s), RP_OK);
    CHECK_INT(C.n_voices, 12);

    rp_strbuf w1;
    rp_strbuf_init(&w1);
    rp_cast_write(&C, &w1);
    CHECK(!w1.failed && w1.s != NULL);
    CHECK(strstr(w1.s, "[voice Pilot Jones]\n") != NULL);
    CHECK(strstr(w1.s, "# chosen automatically\n[voice Dana]\n") != NULL);
    CHECK(strstr(w1.s, "[sfx thunder]\ngain = -3\nlayer.crack.cutoff = 900 Hz\n") != NULL);
    CHECK(strstr(w1.s, "[rules]\ndistant thunder = thunder\nrain begins = rain\n") != NULL);
    CHECK(strstr(w1.s, "[say]\nKsena = Kseh-nah\nThal'Karn = [[T'al.k'A@n]]\n") != NULL);
    CHECK(strstr(w1.s, "headings = no\n") != NULL);
    CHECK(strstr(w1.s, "variant = none\n") != NULL);

    rp_cast c2;
    rp_diags d2;
    rp_cast_init(&c2);
    rp_diags_init(&d2);
    CHECK_INT(rp_cast_load(&c2, "w1.ini", w1.s, w1.len, &d2), RP_OK);
    CHECK_INT(d2.n, 0);
    for (size_t i = 0; i < d2.n; i++) {
        char line[512];
        fprintf(stderr, "  %s\n", rp_diag_format(&d2.items[i], line, sizeof line));
    }
    CHECK_INT(c2.n_voices, C.n_voices);
    CHECK_INT(c2.n_sfx, C.n_sfx);
    CHECK_INT(c2.n_rules, C.n_rules);
    CHECK_INT(c2.n_say, 2);
    for (size_t i = 0; i < c2.n_say && i < C.n_say; i++) {
        CHECK_STR(c2.say[i].word, C.say[i].word);
        CHECK_STR(c2.say[i].say, C.say[i].say);
    }
    CHECK(same_render(&c2.render, &C.render));
    // Every voice, automatic ones included, reads back the same.
    for (size_t i = 0; i < C.n_voices; i++) {
        const rp_voice *a = &C.voices[i], *b = rp_cast_voice(&c2, a->name);
        CHECK_MSG(b != NULL, "%s lost", a->name);
        if (!b)
            continue;
        CHECK(same_voice(a, b));
        CHECK_INT(a->range, b->range);
        CHECK_INT(a->volume, b->volume);
        CHECK_NEAR(a->gain_db, b->gain_db, 1e-9);
        CHECK_INT(a->fx, b->fx);
    }
    CHECK(same_voice(&C.narrator, &c2.narrator));

    rp_strbuf w2;
    rp_strbuf_init(&w2);
    rp_cast_write(&c2, &w2);
    char *s1 = strip_comments(w1.s), *s2 = strip_comments(w2.s);
    CHECK(s1 && s2 && strlen(s1) > 500);
    CHECK_STR(s1, s2);
    free(s1);
    free(s2);
    rp_strbuf_deinit(&w1);
    rp_strbuf_deinit(&w2);
    rp_cast_deinit(&c2);
    rp_diags_deinit(&d2);
    release();
}

// Text written back reads back the same: a value that begins with ';' stays
// next to its '=' (after a space it would start a comment).
static void test_round_trip_semicolon(void)
{
    load("[rules]\nboom =;alarm\n");
    CHECK_INT(ST, RP_OK);
    CHECK_STR(C.n_rules ? C.rules[0].preset : NULL, ";alarm");
    rp_strbuf w;
    rp_strbuf_init(&w);
    rp_cast_write(&C, &w);
    CHECK(w.s && strstr(w.s, "[rules]\nboom =;alarm\n") != NULL);
    load(w.s);
    CHECK_INT(ST, RP_OK);
    CHECK_STR(C.n_rules ? C.rules[0].preset : NULL, ";alarm");
    rp_strbuf_deinit(&w);
}

static void test_write_defaults(void)
{
    rp_cast c;
    rp_cast_init(&c);
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_cast_write(&c, &b);
    const char *expect_render = "[render]\nrate = 48000\nchannels = 2\nseed = 1\n"
                                "pause_sentence = 0.3\npause_paragraph = 0.7\n"
                                "pause_speaker = 0.45\npause_heading = 1.2\npause_scene = 2\n"
                                "lead_in = 0.5\ntail = 1\nspeech_gain = -3\nsfx_gain = -6\n"
                                "bed_gain = -14\nduck = -10\nclearance = 13\nloudness = -16\n"
                                "ceiling = -1\nbits = 16\nheadings = yes\n";
    CHECK(strstr(b.s, expect_render) != NULL);
    const char *expect_narrator = "[narrator]\nvoice = en-gb\nvariant = m3\nrate = 165\n"
                                  "pitch = 50\nrange = 50\nvolume = 100\npan = 0.00\n"
                                  "gain = 0.0\neffect = none\n";
    CHECK(strstr(b.s, expect_narrator) != NULL);
    CHECK(strstr(b.s, "[voice") == NULL && strstr(b.s, "[rules]") == NULL);
    // The defaults load back to the defaults.
    rp_cast c2;
    rp_diags d;
    rp_cast_init(&c2);
    rp_diags_init(&d);
    CHECK_INT(rp_cast_load(&c2, "d.ini", b.s, b.len, &d), RP_OK);
    CHECK(same_render(&c2.render, &c.render));
    CHECK(same_voice(&c2.narrator, &c.narrator));
    rp_strbuf_deinit(&b);
    rp_cast_deinit(&c);
    rp_cast_deinit(&c2);
    rp_diags_deinit(&d);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_load_full_sheet);
    RUN(test_load_small_things);
    RUN(test_unknown_section);
    RUN(test_unknown_key);
    RUN(test_bad_values);
    RUN(test_duplicate_voice);
    RUN(test_structure_errors);
    RUN(test_binary_data);
    RUN(test_several_errors);
    RUN(test_assign_every_speaker);
    RUN(test_mastering_keys);
    RUN(test_effects_from_the_prose);
    RUN(test_assign_many_speakers);
    RUN(test_assign_stable);
    RUN(test_assign_respects_sheet);
    RUN(test_say_section);
    RUN(test_say_errors);
    RUN(test_words);
    RUN(test_line_limit);
    RUN(test_count_limits);
    RUN(test_sfx_name_limit);
    RUN(test_given_twice_and_utf8);
    RUN(test_round_trip);
    RUN(test_round_trip_semicolon);
    RUN(test_write_defaults);
    release();
    return TEST_SUMMARY("test_cast");
}
