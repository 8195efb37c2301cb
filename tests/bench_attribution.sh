#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# make bench-attribution: attributes every passage of the LitBank quotes
# corpus (../shared/corpus/litbank-quotes) with `radioplay quotes --explain`,
# scores the predictions with ../shared/tools/score-attribution, and prints
# how many quotes each rule decided and how many of those were right. Then
# times attribution on the sample chapters. Needs ../shared; says so if absent.
set -e
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
CORPUS=$SHARED/corpus/litbank-quotes
SCORER=$SHARED/tools/score-attribution
if [ ! -d "$CORPUS/passages" ] || [ ! -x "$SCORER" ]; then
    echo "bench-attribution: $CORPUS or $SCORER not found; nothing to measure"
    exit 0
fi
out=$(mktemp -d /tmp/radioplay-attr-XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir "$out/pred"
for f in "$CORPUS"/passages/*.txt; do
    "$BUILD/radioplay" quotes --explain "$f" > "$out/pred/$(basename "$f" .txt).tsv"
done
"$SCORER" "$CORPUS/gold" "$out/pred" > "$out/score.txt"
tail -n 2 "$out/score.txt" | sed 's/^/bench-attribution: /'
python3 tests/rule_accuracy.py "$SCORER" "$CORPUS/gold" "$out/pred"
for f in "$SHARED"/chapters/*.txt; do
    [ -f "$f" ] || continue
    best=""
    for i in 1 2 3 4 5; do
        t0=$(date +%s.%N)
        "$BUILD/radioplay" quotes "$f" > /dev/null
        t1=$(date +%s.%N)
        best="$best $(echo "($t1 - $t0) * 1000" | bc -l)"
    done
    ms=$(printf '%s\n' $best | sort -g | head -n 1)
    printf 'bench-attribution: %-40s %6.1f ms (radioplay quotes: read, parse, attribute; best of 5)\n' \
        "$(basename "$f")" "$ms"
done
