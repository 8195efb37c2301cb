#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs the test programs in $BUILD/tests (all of them, or those named as
# arguments) and adds up their summary lines ("NAME: N passed, N failed").
# Exit 0 only when nothing failed. $VALGRIND, when set, prefixes each
# program, and the programs the tests start ($RP_BUILD/radioplay,
# radioplay-worker and fuzz/replay_*) too: RP_BUILD then names a folder of scripts that
# start them under it, except where a test leaves valgrind no room for its
# own files (a TMPDIR it cannot write, a limit on file sizes), where its
# reports could not be written either. $RP_SAN_LOGS, when set, is the directory the
# sanitizers or valgrind write their reports to, a file per process: a test
# that leaves a non-empty one there failed, whatever its exit code.
BUILD=${BUILD:-build}
passed=0
failed=0
# Everything a run writes goes under one folder, removed at the end unless
# a test failed: each test program's own folder (which it removes itself
# when it passes), what a killed render leaves, and the clip caches. Each
# program gets a cache of its own (renders also remember their loudness
# gain there): none is the user's, and each starts empty. The run must fit
# on a small disk: see "Disk" in the README.
root=$(mktemp -d "${TMPDIR:-/tmp}/radioplay-check.XXXXXX") || exit 1
TMPDIR=$root/tmp
mkdir "$TMPDIR" || exit 1
export XDG_CACHE_HOME TMPDIR
rp_build=$BUILD
if [ -n "$VALGRIND" ]; then
    rp_build=$(mktemp -d "${TMPDIR:-/tmp}/radioplay-valgrind.XXXXXX")
    abs=$(cd "$BUILD" && pwd)
    mkdir -p "$rp_build/fuzz"
    for prog in "$abs"/radioplay "$abs"/radioplay-worker "$abs"/fuzz/replay_*; do
        [ -x "$prog" ] || continue
        wrapper=$rp_build/${prog#"$abs"/}
        {
            echo '#!/bin/sh'
            echo '[ -w "${TMPDIR:-/tmp}" ] && [ "$(ulimit -f)" = unlimited ] ||' "exec $prog \"\$@\""
            echo "exec $VALGRIND $prog \"\$@\""
        } > "$wrapper"
        chmod +x "$wrapper"
    done
fi
finish() {
    if [ "$failed" -eq 0 ]; then
        rm -rf "$root"
    else
        echo "the failed tests' files are kept in $TMPDIR"
    fi
    [ "$rp_build" = "$BUILD" ] || rm -rf "$rp_build"
}
trap finish EXIT
if [ $# -eq 0 ]; then
    set -- "$BUILD"/tests/test_*
else
    for name; do
        shift
        set -- "$@" "$BUILD/tests/$name"
    done
fi
broken=""
for t; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    if [ -n "$RP_SAN_LOGS" ]; then
        rm -rf "$RP_SAN_LOGS" && mkdir -p "$RP_SAN_LOGS" || exit 1
    fi
    # Each program starts with an empty cache of its own, gone after it.
    XDG_CACHE_HOME=$root/cache/$name
    mkdir -p "$XDG_CACHE_HOME" || exit 1
    out=$(RP_BUILD="$rp_build" $VALGRIND "$t" 2>&1)
    rc=$?
    rm -rf "$XDG_CACHE_HOME"
    printf '%s\n' "$out"
    reports=""
    if [ -n "$RP_SAN_LOGS" ]; then
        for r in "$RP_SAN_LOGS"/*; do
            [ -s "$r" ] || continue
            echo "-- $name: report $r"
            cat "$r"
            reports=yes
        done
    fi
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
    if [ -n "$reports" ]; then
        broken="$broken $name(sanitizer report)"
        failed=$((failed + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        broken="$broken $name(exit $rc)"
        failed=$((failed + 1))
    fi
done
[ -n "$broken" ] && echo "crashed or exited badly:$broken"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
