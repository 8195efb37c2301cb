#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# make bench: renders a chapter (../shared/chapters/000_* when present, else
# the bundled example) and, in the same run, times espeak-ng speaking the same
# text alone. Prints both times, their ratio, radioplay's own stage times and
# its peak memory, then every effect preset's speed ($BUILD/bench_sfx).
# Each timing is the best of $RUNS runs.
set -e
BUILD=${BUILD:-build}
CHAPTER=${1:-scripts/siege.txt}
RUNS=${RUNS:-3}
out=$(mktemp -d /tmp/radioplay-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT

now() { date +%s.%N; }
best() { printf '%s\n' "$@" | sort -g | head -n 1; }

# espeak-ng alone on the chapter's text (directives removed), to a file.
sed 's/{[^}]*}//g' "$CHAPTER" > "$out/plain.txt"
es=""
for i in $(seq "$RUNS"); do
    t0=$(now); espeak-ng -f "$out/plain.txt" -w "$out/espeak.wav"; t1=$(now)
    es="$es $(echo "$t1 - $t0" | bc -l)"
done
es=$(best $es)

rp=""
for i in $(seq "$RUNS"); do
    t0=$(now); "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -q; t1=$(now)
    rp="$rp $(echo "$t1 - $t0" | bc -l)"
done
rp=$(best $rp)

stages=$("$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -v 2>&1 | grep 'times:' | sed 's/^radioplay: times: //')
mem=$( { /usr/bin/time -f '%M' "$BUILD/radioplay" render "$CHAPTER" -o "$out/render.wav" -q; } 2>&1 | tail -n 1)
audio=$("$BUILD/radioplay" info "$out/render.wav")

echo "bench: chapter      $CHAPTER"
echo "bench: audio        $audio"
printf 'bench: espeak-ng    %.3f s (espeak-ng -f, same text, best of %s)\n' "$es" "$RUNS"
printf 'bench: radioplay    %.3f s (render to 48 kHz stereo WAV, best of %s)\n' "$rp" "$RUNS"
printf 'bench: ratio        %.2fx espeak-ng alone\n' "$(echo "$rp / $es" | bc -l)"
echo "bench: stages       $stages"
echo "bench: peak memory  $((mem / 1024)) MiB"

# Every effect preset alone, 48 kHz stereo (one-shots whole, beds 60 s).
if [ -x "$BUILD/bench_sfx" ]; then
    RUNS=$RUNS "$BUILD/bench_sfx"
else
    echo "bench: sfx          skipped ($BUILD/bench_sfx not built: make bench builds it)"
fi

# Live playback: time from the command's start to the first frame handed to
# the device, through ALSA's file plugin over its null device (no sound card
# needed). That device is not paced, so its underrun count means nothing:
# when jackd is installed, a dummy JACK server paces 15 s of playback in real
# time and the underruns and device underflows are counted there.
mkdir -p "$out/home"
printf 'pcm.!default { type plug; slave { pcm { type file; slave.pcm "null"; file "%s/cap.wav"; format "wav" }; format S32_LE } }\n' \
    "$out/home" > "$out/home/.asoundrc"
firsts=""
for i in $(seq "$RUNS"); do
    # Each run captures the whole chapter (about 200 MB); opening the device
    # truncates the last capture, which alone costs 250 ms, so remove it first.
    rm -f "$out/home/cap.wav"
    f=$(JACK_DEFAULT_SERVER=radioplay-bench-none HOME="$out/home" "$BUILD/radioplay" play "$CHAPTER" --stats \
        2>/dev/null | sed -n 's/^time to first audio: \([0-9.]*\) s/\1/p')
    firsts="$firsts $f"
done
printf 'bench: play start   %.3f s from main() to first audio (best of %s; runs:%s)\n' "$(best $firsts)" "$RUNS" "$firsts"
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
