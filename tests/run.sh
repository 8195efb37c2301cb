#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every test program in $BUILD/tests and adds up their summary lines
# ("NAME: N passed, N failed"). Exit 0 only when nothing failed. $VALGRIND,
# when set, prefixes each program.
BUILD=${BUILD:-build}
passed=0
failed=0
# Renders remember their loudness gain for play: keep that out of the
# user's own cache, and start each run without one.
XDG_CACHE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/radioplay-cache.XXXXXX")
export XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT
broken=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    out=$(RP_BUILD="$BUILD" $VALGRIND "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed" | tail -n 1)
    if [ -z "$line" ]; then
        broken="$broken $name(exit $rc)"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        broken="$broken $name(exit $rc)"
        failed=$((failed + 1))
    fi
done
[ -n "$broken" ] && echo "crashed or exited badly:$broken"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
