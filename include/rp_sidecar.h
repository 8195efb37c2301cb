// SPDX-License-Identifier: GPL-3.0-or-later
// Files that go beside the audio: subtitles (SubRip .srt, WebVTT .vtt) with
// speaker labels, an Audacity label track of every line and cue, and the
// chapter marks (headings) that the sink embeds in the audio file. All are
// built from the placed timeline, so their times are `radioplay cues`'s to
// the millisecond, and written atomically.
#ifndef RP_SIDECAR_H
#define RP_SIDECAR_H

#include "rp_layout.h"
#include "rp_script.h"
#include "rp_sink.h"

typedef enum { RP_SUBS_SRT, RP_SUBS_VTT } rp_subs_format;

// The subtitle format for a path's extension; -1 if neither.
int rp_subs_format_from_path(const char *path);

// Subtitles: one cue per utterance ("Speaker: text"; WebVTT: "<v Speaker>"),
// long lines split at word boundaries into cues of at most two lines of
// RP_SUBS_LINE_CHARS, each timed from the words' own marks.
void rp_subs_build(const rp_timeline *t, const rp_plan *p, rp_subs_format f, rp_strbuf *out);
rp_status rp_subs_write(const rp_timeline *t, const rp_plan *p, const char *path, rp_diags *d);

// Audacity labels: "start\tend\tlabel" in seconds, one per utterance
// ("Speaker: text"), effect ("sfx: NAME"), bed ("bed: NAME") and pause, and
// a point label "chapter: TITLE" at each heading.
void rp_labels_build(const rp_timeline *t, const rp_plan *p, const rp_script *s, rp_strbuf *out);
rp_status rp_labels_write(const rp_timeline *t, const rp_plan *p, const rp_script *s,
                          const char *path, rp_diags *d);

// Chapter marks: where each heading starts to be spoken, with its text
// (borrowed from the plan).
// Fills out[0..cap) and returns how many marks there are (which may be
// more than cap).
size_t rp_marks_collect(const rp_timeline *t, const rp_plan *p, const rp_script *s, rp_mark *out,
                        size_t cap);

#endif
