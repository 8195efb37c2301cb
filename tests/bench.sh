#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# make bench: renders a chapter (../shared/chapters/000_* when present, else
# the bundled example) and, in the same run, times espeak-ng speaking the same
# text alone. Prints both times, their ratio, radioplay's own stage times and
# its peak memory, then every effect preset's speed ($BUILD/bench_sfx) and the
# resampler candidates' speed and quality ($BUILD/bench_resample).
# Each timing is the best of $RUNS runs (espeak-ng and the cold render: of
# $COLD_RUNS, 5, in turns).
set -e
BUILD=${BUILD:-build}
CHAPTER=${1:-scripts/siege.txt}
RUNS=${RUNS:-3}
out=$(mktemp -d /tmp/radioplay-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }
best() { printf '%s\n' "$@" | sort -g | head -n 1; }

# espeak-ng alone on the chapter's text (directives removed), to a file,
# and a cold render (every line synthesized: a fresh clip cache each run),
# in turns: on a machine whose speed drifts (a virtual machine's does, by
# a third over minutes), each render is timed beside the espeak-ng run
# before it. Each is the best of COLD_RUNS; the ratio of each pair is
# printed too. Each cold render has a cache folder of its own, never used
# before, all removed when the bench ends: deleting the last run's clips
# just before a render would make it pay for the deletion (on ext4 without
# a journal, every new file is placed by skipping the inodes freed in the
# last half minute, one by one: about 50 ms of CPU after 200 clips), which
# a user's first render does not. The stage times below come from a render
# in a folder of its own too.
sed 's/{[^}]*}//g' "$CHAPTER" > "$out/plain.txt"
es=""
rp=""
pairs=""
for i in $(seq "${COLD_RUNS:-5}"); do
    t0=$(now); espeak-ng -f "$out/plain.txt" -w "$out/espeak.wav"; t1=$(now)
    e=$(echo "$t1 - $t0" | bc -l)
    t0=$(now); XDG_CACHE_HOME="$out/cold$i" "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -q; t1=$(now)
    r=$(echo "$t1 - $t0" | bc -l)
    es="$es $e"
    rp="$rp $r"
    pairs="$pairs $(printf '%.2f' "$(echo "$r / $e" | bc -l)")"
done
es=$(best $es)
rp=$(best $rp)
stages=$(XDG_CACHE_HOME="$out/stages" "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -v 2>&1 | grep 'times:' | sed 's/^radioplay: times: //')

# Warm, after a one-parameter tweak of the cast sheet: one voice's pitch
# (that speaker's lines are synthesized again, the rest come from the
# cache), then one effect's gain (nothing to synthesize). Each run starts
# from the cache the untweaked sheet left.
export XDG_CACHE_HOME="$out/warm"
"$BUILD/radioplay" cast "$CHAPTER" > "$out/base.cast"
"$BUILD/radioplay" render "$CHAPTER" --cast "$out/base.cast" -o "$out/render.wav" -q
# The last voice section's pitch, moved by 10.
last=$(grep -n '^pitch = ' "$out/base.cast" | tail -n 1 | cut -d: -f1)
awk -v L="$last" 'NR == L { split($0, a, " = "); v = a[2] + 10; if (v > 100) v -= 20; print "pitch = " v; next } { print }' \
    "$out/base.cast" > "$out/pitch.cast"
{ cat "$out/base.cast"; printf '\n[sfx thunder]\ngain = -4\n'; } > "$out/gain.cast"
# Each run starts from the untweaked render just written (its file and its
# checkpoints), as in the tweak loop: render, tweak, render.
base() {
    XDG_CACHE_HOME="$out/warm" "$BUILD/radioplay" render "$CHAPTER" --cast "$out/base.cast" -o "$out/render.wav" -q
}
warm() {
    w=""
    for i in $(seq "$RUNS"); do
        base
        cp -r "$out/warm" "$out/warm-run"
        t0=$(now); XDG_CACHE_HOME="$out/warm-run" "$BUILD/radioplay" render "$CHAPTER" --cast "$1" -o "$out/render.wav" -q; t1=$(now)
        w="$w $(echo "$t1 - $t0" | bc -l)"
        rm -rf "$out/warm-run"
    done
    best $w
}
wp=$(warm "$out/pitch.cast")
# What the tweaked render did: clips synthesized, share of the chapter mixed.
tweak_v() {
    base
    cp -r "$out/warm" "$out/warm-run"
    XDG_CACHE_HOME="$out/warm-run" "$BUILD/radioplay" render "$CHAPTER" --cast "$1" -o "$out/render.wav" -v 2>&1 |
        sed -n -e 's/^radioplay: clips: //p' -e 's/^radioplay: the pass that wrote the file mixed \([0-9.]*%\).*/mixed \1 of the chapter again/p' |
        paste -sd ';' - | sed 's/;/; /'
    rm -rf "$out/warm-run"
}
wp_clips=$(tweak_v "$out/pitch.cast")
wg=$(warm "$out/gain.cast")
wg_clips=$(tweak_v "$out/gain.cast")
# Each voice's pitch moved up and down by 10 in turn, one run each, and
# what each case costs: measured first (the lines changed length, so the
# last render's checkpoints no longer fit); the remembered gain tried and
# held (one pass, mixing only what changed); or tried and moved a step
# (every sample changes, so all of it is mixed again).
held=""; moved=""; first=""
for tweak in $(grep -n '^pitch = ' "$out/base.cast" | cut -d: -f1 | sed 's/.*/&:10 &:-10/'); do
    awk -v L="${tweak%%:*}" -v D="${tweak#*:}" 'NR == L { split($0, a, " = "); v = a[2] + D; if (v > 100 || v < 0) v -= 2 * D; print "pitch = " v; next } { print }' \
        "$out/base.cast" > "$out/voice.cast"
    base
    cp -r "$out/warm" "$out/warm-run"
    t0=$(now)
    log=$(XDG_CACHE_HOME="$out/warm-run" "$BUILD/radioplay" render "$CHAPTER" --cast "$out/voice.cast" -o "$out/render.wav" -v 2>&1)
    t1=$(now)
    case "$log" in
    *"measured first"*) first="$first $(echo "$t1 - $t0" | bc -l)" ;;
    *"measured held"*) held="$held $(echo "$t1 - $t0" | bc -l)" ;;
    *) moved="$moved $(echo "$t1 - $t0" | bc -l)" ;;
    esac
    rm -rf "$out/warm-run"
done
unset XDG_CACHE_HOME

# Peak memory: the chapter, and the chapter five times over.
mem=$( { XDG_CACHE_HOME="$out/mem" /usr/bin/time -f '%M' "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -q; } 2>&1 | tail -n 1)
for k in 1 2 3 4 5; do cat "$CHAPTER"; printf '\n\n* * *\n\n'; done > "$out/five.txt"
mem5=$( { XDG_CACHE_HOME="$out/mem" /usr/bin/time -f '%M' "$BUILD/radioplay" render "$out/five.txt" -o "$out/render5.wav" -q; } 2>&1 | tail -n 1)
audio5=$("$BUILD/radioplay" info "$out/render5.wav" | head -n 1)
rm -f "$out/render5.wav"
audio=$("$BUILD/radioplay" info "$out/render.wav")

echo "bench: chapter      $CHAPTER"
echo "bench: audio        $audio"
printf 'bench: espeak-ng    %.3f s (espeak-ng -f, same text, best of %s)\n' "$es" "${COLD_RUNS:-5}"
printf 'bench: radioplay    %.3f s cold (every line synthesized; 48 kHz stereo WAV, mastered; best of %s)\n' "$rp" "${COLD_RUNS:-5}"
printf 'bench: ratio        %.2fx espeak-ng alone (target <= 1.5x; run by run:%s)\n' "$(echo "$rp / $es" | bc -l)" "$pairs"
printf 'bench: warm pitch   %.3f s, %.2fx cold (one voice'"'"'s pitch changed: %s; target <= 0.2x)\n' "$wp" "$(echo "$wp / $rp" | bc -l)" "$wp_clips"
printf 'bench: warm gain    %.3f s, %.2fx cold (one effect'"'"'s gain changed: %s)\n' "$wg" "$(echo "$wg / $rp" | bc -l)" "$wg_clips"
count() { echo $#; }
# "N (median T s, Rx cold)", or "none".
cases() {
    [ $# -eq 0 ] && { echo none; return; }
    m=$(printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    printf '%s (median %.3f s, %.2fx cold)' $# "$m" "$(echo "$m / $rp" | bc -l)"
}
printf 'bench: each voice   pitch +-10, %s tweaks: measured first in %s; the remembered gain held in %s, moved a step in %s\n' \
    "$(( $(count $first) + $(count $held) + $(count $moved) ))" "$(cases $first)" "$(cases $held)" "$(cases $moved)"
echo "bench: stages       $stages"
echo "bench: peak memory  $((mem / 1024)) MiB; five times the chapter: $((mem5 / 1024)) MiB ($audio5)"

# Where the time goes, by stage, from a CPU profile of a cold render (its
# worker processes included), when perf is installed.
if command -v perf > /dev/null 2>&1 && perf record -q -o "$out/perf.data" true > /dev/null 2>&1; then
    rm -rf "$out/prof"
    XDG_CACHE_HOME="$out/prof" perf record -q -o "$out/perf.data" "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -q > /dev/null 2>&1
    # espeak-ng's functions by name, as it is linked into radioplay where its
    # archive is installed (Makefile); not those radioplay defines too.
    nm --defined-only "$BUILD/libradioplay.a" "$BUILD/obj/main.o" 2> /dev/null |
        awk 'NF == 3 { print $3 }' | sort -u > "$out/ours.syms"
    nm --defined-only "$(pkg-config --variable=libdir espeak-ng)/libespeak-ng.a" 2> /dev/null |
        awk 'NF == 3 { print $3 }' | sort -u | comm -23 - "$out/ours.syms" > "$out/espeak.syms"
    perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio 2> /dev/null | awk -v es="$out/espeak.syms" '
        BEGIN { while ((getline s < es) > 0) espeak[s] = 1 }
        /^#/ || NF < 3 { next }
        {
            pct = $1; sub(/%/, "", pct); dso = $2; sym = $NF
            if (dso ~ /espeak|sonic/ || (dso ~ /radioplay/ && sym in espeak)) st = "synthesis (espeak-ng)"
            else if (dso ~ /soxr|samplerate/) st = "resampling"
            else if (dso ~ /ebur128/ || sym ~ /meter|kweight|loudness/) st = "loudness"
            else if (sym ~ /master|limit|middle_need/) st = "limiter"
            else if (dso ~ /sndfile/ || sym ~ /sink|dither/) st = "encoding"
            else if (sym ~ /mixer|add_speech|fill_|clear|duck|speech_near|line_power|pan_add/) st = "mixing"
            else if (sym ~ /room|fdn|reverb/) st = "rooms"
            else if (sym ~ /voicefx|radio|robot|squelch|run_stages|drive/) st = "voice effects"
            else if (sym ~ /sfx|layer|gen_source|biquad|cascade|lfo|render_block|noise|osc/) st = "effects"
            else if (sym ~ /hash|clip|cache|read_clip|job_take/) st = "clip cache"
            else if (sym ~ /rp_s16_|rp_peak/) st = "16-bit samples and peaks (clips, the mix kept)"
            else if (dso ~ /libm\./) st = "maths library (libm)"
            else if (dso ~ /kernel/) st = "kernel (fork, page faults, I/O)"
            else st = "other"
            share[st] += pct
        }
        END { for (k in share) printf "bench: share        %5.1f%%  %s\n", share[k], k }' | sort -k3 -rn
fi

# Every effect preset alone, 48 kHz stereo (one-shots whole, beds 60 s).
if [ -x "$BUILD/bench_sfx" ]; then
    RUNS=$RUNS "$BUILD/bench_sfx"
else
    echo "bench: sfx          skipped ($BUILD/bench_sfx not built: make bench builds it)"
fi

# The resampler candidates, speed and quality ($BUILD/bench_resample): the
# evidence for src/resample.c's choice.
if [ -x "$BUILD/bench_resample" ]; then
    RUNS=$RUNS "$BUILD/bench_resample"
else
    echo "bench: resample     skipped ($BUILD/bench_resample not built: make bench builds it)"
fi

# Live playback: time from the command's start to the first frame handed to
# the device, through ALSA's file plugin over its null device (no sound card
# needed). That device is not paced, so its underrun count means nothing:
# when jackd is installed, a dummy JACK server paces 15 s of playback in real
# time and the underruns and device underflows are counted there.
mkdir -p "$out/home"
printf 'pcm.!default { type plug; slave { pcm { type file; slave.pcm "null"; file "%s/cap.wav"; format "wav" }; format S32_LE } }\n' \
    "$out/home" > "$out/home/.asoundrc"
# Warm: the clips cached by the renders above; cold: a fresh cache, so the
# first line is synthesized while the device opens.
play_first() {
    # Each run captures the whole chapter (about 200 MB); opening the device
    # truncates the last capture, which alone costs 250 ms, so remove it first.
    rm -f "$out/home/cap.wav"
    JACK_DEFAULT_SERVER=radioplay-bench-none HOME="$out/home" XDG_CACHE_HOME="$1" "$BUILD/radioplay" \
        play "$CHAPTER" --stats 2>/dev/null | sed -n 's/^time to first audio: \([0-9.]*\) s/\1/p'
}
firsts=""
colds=""
for i in $(seq "$RUNS"); do
    firsts="$firsts $(play_first "$out/warm")"
    colds="$colds $(play_first "$out/play-cold$i")"  # (a folder of its own, as above)
done
printf 'bench: play cold    %.3f s from main() to first audio, nothing cached (best of %s; runs:%s)\n' "$(best $colds)" "$RUNS" "$colds"
printf 'bench: play warm    %.3f s from main() to first audio, clips cached (best of %s; runs:%s)\n' "$(best $firsts)" "$RUNS" "$firsts"
# What comes before main(): loading the shared libraries.
t0=$(date +%s.%N); "$BUILD/radioplay" --version > /dev/null; t1=$(date +%s.%N)
printf 'bench: exec start   %.3f s from exec to main() and exit (radioplay --version)\n' "$(echo "$t1 - $t0" | bc -l)"
if command -v jackd > /dev/null 2>&1; then
    jackd -n radioplay-bench -d dummy -r 48000 -p 1024 > "$out/jackd.log" 2>&1 &
    jpid=$!
    sleep 2
    JACK_DEFAULT_SERVER=radioplay-bench HOME="$out/home" timeout 15 "$BUILD/radioplay" play "$CHAPTER" \
        --device system --stats < /dev/null > "$out/paced.txt" 2>&1 || true
    kill "$jpid" 2> /dev/null || true
    echo "bench: play paced   $(grep -E 'first audio|underruns|underflows|frames played' "$out/paced.txt" | tr '\n' ';' | sed 's/;$//')"
else
    echo "bench: play paced   skipped (install jackd2 to play 15 s through a paced dummy JACK server)"
fi
