// SPDX-License-Identifier: GPL-3.0-or-later
// Every tunable default in one place (as fzy keeps its config.def.h). The
// cast sheet's [render] section overrides the ones users care about.
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#define RP_VERSION "0.1.0"

// Output.
#define RP_DEFAULT_RATE_HZ 48000
#define RP_DEFAULT_CHANNELS 2
#define RP_MIN_RATE_HZ 8000
#define RP_MAX_RATE_HZ 192000
#define RP_BLOCK_FRAMES 1024        // mixer block size

// Live playback.
#define RP_PLAY_BUFFER_S 1.0        // how far ahead the player mixes
#define RP_PLAY_SEEK_S 10.0         // what the arrow keys skip
#define RP_PLAY_RESTART_S 2.0       // 'p' past this far into a paragraph restarts it

// Pauses between utterances, in seconds.
#define RP_PAUSE_SENTENCE_S 0.30
#define RP_PAUSE_PARAGRAPH_S 0.70
#define RP_PAUSE_SPEAKER_S 0.45     // added when the voice changes
#define RP_PAUSE_HEADING_S 1.20     // after a heading (and before, unless at start)
#define RP_PAUSE_SCENE_S 2.00
#define RP_LEAD_IN_S 0.50           // silence at the start of a render
#define RP_TAIL_S 1.00              // silence after the last event

// Levels, in dB.
#define RP_SPEECH_GAIN_DB (-3.0)
#define RP_SFX_GAIN_DB (-6.0)
#define RP_BED_GAIN_DB (-14.0)
#define RP_BED_DUCK_DB (-10.0)      // beds under speech
#define RP_DUCK_ATTACK_S 0.15
#define RP_DUCK_RELEASE_S 0.40
#define RP_CLEARANCE_DB 13.0        // effects and beds this far below a voice (>= 12 measured)
#define RP_CLEAR_ATTACK_S 0.002     // how fast they get out of the way
#define RP_CLEAR_RELEASE_S 0.25     // and come back
#define RP_BED_FADE_S 2.0           // default bed fade in/out
#define RP_CUE_SPACING_WORDS 60     // a sound rule refires an effect after this many words
#define RP_CUE_MAX_PER_PARAGRAPH 2  // cues (explicit ones included) a rule may bring a paragraph to
// Rooms ({room NAME}): how much of each sound is sent to the room's reverb,
// in dB (the room's own early and wet levels come on top). Radio and
// helmet voices send nothing: they are heard through a device, at the ear.
#define RP_ROOM_SEND_DB 0.0            // dialogue, robot voices and one-shot effects
#define RP_ROOM_SEND_BED_DB (-6.0)     // ambience beds: recorded with some space of their own
#define RP_ROOM_SEND_PA_DB 6.0         // a public-address horn fills the space
#define RP_ROOM_SEND_MEGAPHONE_DB 4.0  // a megaphone, less so
#define RP_ROOM_SEND_DISTANT_DB 3.0    // far off: more room than voice
#define RP_ROOM_SEND_WHISPER_DB (-8.0) // close to the ear: little room
#define RP_ROOM_NARRATOR 0 // 1: the narrator is in the room too (sent at RP_ROOM_SEND_DB)
#define RP_LIMITER_CEILING_DB (-1.0)   // true peak, dBTP
#define RP_LIMITER_RELEASE_S 0.080
#define RP_LIMITER_MARGIN_DB 0.15      // aim this far under the ceiling (4x oversampling misses a little)

// Mastering targets.
#define RP_LOUDNESS_LUFS (-16.0)       // integrated, stereo (podcasts)
#define RP_LOUDNESS_MONO_LUFS (-19.0)  // mono: heard on two speakers, as loud as -16 stereo
#define RP_LOUDNESS_MIN_LUFS (-40.0)
#define RP_LOUDNESS_MAX_LUFS (-5.0)
#define RP_LOUDNESS_TOLERANCE_LU 0.5   // `loudness` passes a file this close to the target
#define RP_LOUDNESS_CORRECT_LU 0.2     // a render further off than this takes another pass
// The normalization gain is a whole number of these. A tweak that moves the
// mix's loudness by d dB moves the gain a step (and every sample with it)
// with a chance of about d / step: a voice's pitch moved by 10 moves it by
// 0.003 to 0.07 dB. 0.1 dB is inaudible, and with the limiter's 0.05 to 0.15
// LU it stays under RP_LOUDNESS_CORRECT_LU on the sample chapters.
#define RP_GAIN_STEP_DB 0.1
#define RP_ACX_RMS_DB (-20.0)          // ACX: RMS -23..-18 dB; aim at the middle
#define RP_ACX_RMS_MIN_DB (-23.0)
#define RP_ACX_RMS_MAX_DB (-18.0)
#define RP_ACX_PEAK_DB (-3.0)
#define RP_ACX_FLOOR_DB (-60.0)
#define RP_PLAY_GAIN_GUESS_DB 7.4      // play before any render: the median gain of the sample chapters (7.1..7.7)
#define RP_MEMO_FORMAT 2               // bump when what a memo holds changes
#define RP_SUBS_LINE_CHARS 42         // subtitle line length (two lines to a cue)
#define RP_MP3_COMPRESSION 0.4        // libsndfile's level for constant-rate MP3: 192 kbit/s (measured)
#define RP_FLOOR_WINDOW_S 0.5          // the noise floor is the RMS of the quietest such window

// Speech.
#define RP_ESPEAK_RATE_HZ 22050     // espeak-ng's native output rate
#define RP_SILENCE_TRIM_DB (-50.0)  // clip edges quieter than this are trimmed
#define RP_SILENCE_KEEP_S 0.020     // kept around trimmed speech
#define RP_DEFAULT_NARRATOR_VOICE "en-gb"
#define RP_DEFAULT_NARRATOR_VARIANT "m3"
#define RP_DEFAULT_WPM 165
#define RP_DEFAULT_PITCH 50
#define RP_DEFAULT_RANGE 50
#define RP_DEFAULT_VOLUME 100

// radioplay check.
#define RP_CHECK_MIN_CONFIDENCE 0.5    // quotes attributed less surely are listed
#define RP_CHECK_REPEAT_SHARE 0.6      // share of a paragraph's words heard twice
#define RP_CHECK_REPEAT_MIN_WORDS 12   // shorter paragraphs must repeat exactly...
#define RP_CHECK_EXACT_MIN_WORDS 4     // ...and have this many words to be reported
#define RP_CHECK_SHINGLE_WORDS 3       // words per shingle (n-gram)
#define RP_CHECK_MAX_POSTINGS 64       // a shingle in more paragraphs tells nothing
#define RP_CHECK_EXCERPT_CPS 40        // first words of a quote in a note
#define RP_QUOTES_EXCERPT_CPS 60       // quote text in `quotes --explain`

// Render seed (overridden with --seed or [render] seed).
#define RP_DEFAULT_SEED 1

// Input limits.
#define RP_MAX_CHAPTER_BYTES (64u * 1024u * 1024u)
#define RP_MAX_CAST_BYTES (4u * 1024u * 1024u)
#define RP_MAX_PRESET_BYTES (1u * 1024u * 1024u)
#define RP_MAX_LINE_BYTES (1u * 1024u * 1024u)
#define RP_MAX_NAME_BYTES 64       // speaker, effect, room and layer names
#define RP_MAX_DIRECTIVE_PARAMS 16
#define RP_MAX_CUES 100000         // cues in one chapter, written and automatic
#define RP_MAX_PARAGRAPH_CUES 64   // cues in one paragraph
#define RP_MAX_SPEAKERS 1000       // speakers in a chapter, and [voice] sections in a sheet
#define RP_MAX_RULES 1000          // [rules] lines in a cast sheet
#define RP_MAX_SAY 1000            // [say] lines in a cast sheet
// A cast sheet line: libinih reads it into INI_MAX_LINE (200) bytes with
// its newline, and the sheet written back spaces out "key = value".
#define RP_MAX_CAST_LINE_BYTES 197
#define RP_MAX_SFX_LAYERS 16       // [layer] sections in an effect preset
#define RP_MAX_BEDS 64             // beds playing at once
#define RP_MAX_ROOMS 32            // rooms with a reverb in one chapter (each its own bus)
#define RP_MAX_UTTERANCE_BYTES 4000 // longer sentences are split at commas/spaces
#define RP_SCARE_QUOTE_WORDS 4      // a quote this short inside a sentence is narrated
#define RP_MAX_PAUSE_S 60.0
#define RP_MAX_DIAGS 200
#define RP_MAX_MARKS 100           // chapter marks in a WAV cue chunk

// The clip cache (rp_cache.h): its default bound, the format of its clips
// (raise it when what a clip holds changes) and how recently used a clip
// must be for trimming to leave it alone (a render running beside it).
#define RP_CACHE_DEFAULT_BYTES (2ull * 1024u * 1024u * 1024u)
#define RP_CACHE_FORMAT 5
#define RP_CACHE_KEEP_RECENT_S 60
#define RP_CACHE_WALK_S 86400  // the ledger is trusted this long (cache.c)

// Synthesis workers (rp_worker.h): at most so many at once (--jobs), and
// the longest one utterance may take before its worker is killed and the
// line reported.
// $RADIOPLAY_JOB_TIMEOUT (seconds) overrides the limit.
#define RP_MAX_JOBS 64
#define RP_WORKER_TIMEOUT_S 60.0

// Speech one hears: 10 ms windows of a clip above this level. After a
// render, a line whose clip holds less than RP_SPEECH_MIN_SHARE of the time
// its letters take at its voice's rate (RP_SPEECH_S_PER_LETTER at 175
// words a minute), or runs longer than RP_SPEECH_MAX_SHARE times that and
// RP_SPEECH_SLACK_S, is reported: espeak-ng failed on it.
#define RP_VOICED_DBFS (-50.0)
#define RP_SPEECH_S_PER_LETTER 0.07
#define RP_SPEECH_MIN_LETTERS 8
#define RP_SPEECH_MIN_SHARE 0.2
#define RP_SPEECH_MAX_SHARE 5.0
#define RP_SPEECH_SLACK_S 3.0

// --watch looks at the files this often, and waits this long after a
// change before rendering (an editor's save may take several writes).
#define RP_WATCH_POLL_MS 200
#define RP_WATCH_SETTLE_MS 150
// Chapters one `render` takes at once (a book: -o DIR/).
#define RP_MAX_CHAPTERS 1000

#endif
