#!/usr/bin/env bats
# layers.bats - the lab stays in layers: no circle between its files and
# no file using one of a higher layer (tests/lab/layers reads the
# objects' symbols), and the one event loop and clock stay the only ones.

setup() {
    load 'helpers'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

@test "the lab's files use only the layers below them, without a circle" {
    [ -d "$LAB_ROOT/build/lab/base" ] || skip "build the lab first (make lab-build)"
    run timeout 60 "$LAB_PYTHON" "$LAB_ROOT/tests/lab/layers" "$LAB_ROOT/build/lab"
    echo "$output"
    [ "$status" -eq 0 ]
    assert_line --regexp '^main +-> '
    assert_line --regexp '^base/loop +-> \(nothing\)$'
}

@test "the layer check fails on a circle and on an upward use" {
    local d=$BATS_TEST_TMPDIR/objs
    mkdir -p "$d/base" "$d/core"
    printf 'int up(void);\nint low(void) { return up(); }\n' >"$BATS_TEST_TMPDIR/low.c"
    printf 'int low(void);\nint up(void) { return 1; }\nint mid(void) { return low(); }\n' >"$BATS_TEST_TMPDIR/up.c"
    cc -c -o "$d/base/low.o" "$BATS_TEST_TMPDIR/low.c"
    cc -c -o "$d/core/up.o" "$BATS_TEST_TMPDIR/up.c"
    run timeout 60 "$LAB_PYTHON" "$LAB_ROOT/tests/lab/layers" "$d"
    [ "$status" -eq 1 ]
    assert_output --partial 'base/low uses core/up, a file of a higher layer'
    assert_output --partial 'a circle: '
}

@test "one poll loop and one clock: nothing but base/loop waits or reads the clock" {
    [ -d "$LAB_ROOT/build/lab/base" ] || skip "build the lab first (make lab-build)"
    local o name bad=
    for o in "$LAB_ROOT"/build/lab/*.o "$LAB_ROOT"/build/lab/*/*.o; do
        name=${o#"$LAB_ROOT"/build/lab/}
        [ "$name" = base/loop.o ] && continue
        if nm "$o" | grep -qE ' U (poll|ppoll|select|epoll_wait|clock_gettime|nanosleep|usleep)$'; then
            bad+=" $name"
        fi
    done
    [ -z "$bad" ] || {
        echo "these wait or read the clock outside base/loop.c:$bad" >&2
        false
    }
}
