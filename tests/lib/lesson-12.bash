# lesson-12.bash - what tests of lesson 12 (http-server) share: a headless
# Chromium that loads a page and prints its DOM.

# Find a headless Chromium; sets CHROMIUM, or returns 1 when there is none.
find_chromium() {
    CHROMIUM=$(command -v chromium-headless-shell || command -v chromium ||
        command -v chromium-browser) || return 1
}

# Load URL $1 in headless Chromium, bounded (generously: it needs a moment
# to start on a busy machine); sets status (124: still loading when the
# time ran out) and output (the DOM it printed). Its stderr goes to
# $LAB_TMP/chromium.err. --no-sandbox: its sandbox cannot start as root or
# in most containers, and the page is our own, on loopback.
run_chromium() {
    LAB_REPRO+=("$(basename "$CHROMIUM") --headless --no-sandbox --dump-dom $1")
    # In a process group of its own, which teardown kills whole: Chromium
    # starts helper processes (zygote, renderer, GPU) that a timeout
    # killing only the browser would leave behind.
    setsid timeout -k 2 "${LAB_CHROMIUM_TIMEOUT:-30}" "$CHROMIUM" \
        --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$LAB_TMP/chromium-profile" --dump-dom "$1" \
        </dev/null >"$LAB_TMP/chromium.out" 2>"$LAB_TMP/chromium.err" 3>&- &
    local pid=$!
    LAB_PGIDS+=("$pid")
    status=0
    wait "$pid" || status=$?
    output=$(head -c 65536 "$LAB_TMP/chromium.out")
}
