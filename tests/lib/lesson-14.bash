# Helpers of tests/14-event-loop.bats (lesson 14, the event loop).

# Print the server's peak resident memory (VmHWM) in KiB.
server_peak_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null
}

