/*
 * client_never_exits.c - hostile client: ignores SIGTERM and sleeps
 * forever, whatever its arguments.
 *
 * What it does to the grader: every client run must be stopped at its
 * bound, SIGTERM first and SIGKILL a second later, and say "killed after".
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <unistd.h>

int main(void) {
    signal(SIGTERM, SIG_IGN);
    for (;;)
        pause();
}
