/*
 * fork_bomb.c - hostile server: forks without end. Every child forks too
 * and first calls setsid() to leave the process group the grader started
 * it in, so killing that group is not enough.
 *
 * What it does to the grader: RLIMIT_NPROC must stop the growth (the
 * sandbox uid's process count), the step must fail at its bound, and
 * teardown must kill every process of the sandbox uid, however many and
 * wherever they moved, before the next step starts.
 */
#define _POSIX_C_SOURCE 200809L

#include <unistd.h>

int main(void) {
    for (;;) {
        if (fork() == 0)
            (void)setsid(); /* escape the process group, then keep forking */
    }
}
