// SPDX-License-Identifier: GPL-3.0-or-later
// The timeline as a picture (`radioplay render --timeline FILE.svg`): an SVG
// with a time axis in m:ss, one lane per speaker (the narrator first), per
// effect preset and per bed, every utterance and cue drawn as a labelled
// block at its start and duration (its <title> tooltip holds the whole
// line), and the envelope of the mix on top. Built in memory from the placed
// timeline (pure), written through a temporary file renamed into place.
//
// Every block carries its numbers for tools and tests: data-ev (index in the
// timeline), data-lane, data-kind (speech, sfx, bed), data-start and
// data-dur (seconds, three decimals), data-line. The root element carries
// data-x0 (px where time 0 is) and data-px-per-s, so x = x0 + t * px_per_s.
#ifndef RP_SVG_H
#define RP_SVG_H

#include "rp_layout.h"
#include "rp_render.h"

// Horizontal scale: RP_SVG_PX_PER_S, widened for short dramas to fill
// RP_SVG_MIN_PLOT_PX and narrowed for long ones to stay within
// RP_SVG_MAX_PLOT_PX (26 minutes at 20 px/s; an hour gets 8.3 px/s).
#define RP_SVG_PX_PER_S 20.0
#define RP_SVG_MIN_PLOT_PX 800
#define RP_SVG_MAX_PLOT_PX 32000

// The width of the plot in pixels for a timeline of n_frames at rate_hz:
// the waveform has one column per pixel, so this is the number of peaks to
// collect for full detail. Always >= 1.
size_t rp_svg_columns(int64_t n_frames, int rate_hz);

// Collects the waveform while mixing: folds n interleaved frames (channels
// per frame), the first of which is frame `at` of a timeline n_frames long,
// into peaks[0..n_peaks) spread evenly over the timeline, as
// peaks[col] = max(peaks[col], |sample|) over every channel. Zero peaks
// before the first call. The result does not depend on how the frames are
// split into calls. Frames outside [0, n_frames) are ignored. RT-safe.
void rp_svg_peaks_add(float *peaks, size_t n_peaks, int64_t n_frames, int64_t at,
                      const float *frames, size_t n, int channels);

// The SVG document for a placed timeline t of plan p (complete: after
// rp_layout_place or a finished rp_placer). title (may be NULL) and
// subtitle (may be NULL) head the picture. peaks: n_peaks absolute peaks
// (0..1) spread evenly over the whole timeline, any number of them (they
// are reduced or stretched to the plot's columns); NULL draws no waveform.
// Text is escaped for XML and invalid UTF-8 becomes U+FFFD. RP_ERR_NOMEM
// when the buffer could not grow.
rp_status rp_svg_build(const rp_timeline *t, const rp_plan *p, const char *title,
                       const char *subtitle, const float *peaks, size_t n_peaks, rp_strbuf *out);

// The picture of a voiced drama (after rp_drama_voice), titled with its
// first heading (else the chapter's file name), written to path through a
// temporary file beside it renamed into place: a failure leaves no file and
// keeps an older one. Errors are located at path (subsystem "timeline" or
// "output") and return RP_ERR_IO or RP_ERR_NOMEM.
rp_status rp_svg_write(const rp_drama *dr, const float *peaks, size_t n_peaks, const char *path,
                       rp_diags *d);

#endif
