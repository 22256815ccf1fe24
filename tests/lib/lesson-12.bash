# lesson-12.bash - what tests of lesson 12 (http-server) share: a headless
# Chromium that loads a page and prints its DOM.

# Find a headless Chromium; sets CHROMIUM, or returns 1 when there is none.
find_chromium() {
    CHROMIUM=$(command -v chromium-headless-shell || command -v chromium ||
        command -v chromium-browser) || return 1
}

# Load URL $1 in headless Chromium, bounded (it needs a moment to start);
# sets status and output (the DOM it printed). Its stderr goes to
# $LAB_TMP/chromium.err. --no-sandbox: its sandbox cannot start as root or
# in most containers, and the page is our own, on loopback.
run_chromium() {
    LAB_REPRO+=("$(basename "$CHROMIUM") --headless --no-sandbox --dump-dom $1")
    status=0
    output=$(timeout -k 2 "${LAB_CHROMIUM_TIMEOUT:-60}" setsid "$CHROMIUM" \
        --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$LAB_TMP/chromium-profile" \
        --dump-dom "$1" </dev/null 2>"$LAB_TMP/chromium.err" 3>&-) ||
        status=$?
}
