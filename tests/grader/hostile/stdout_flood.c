/*
 * stdout_flood.c - hostile server: writes lines to stdout without end
 * (gigabytes, if nothing stops it) and never listens.
 *
 * What it does to the grader: stdout is a file; RLIMIT_FSIZE must stop the
 * program (SIGXFSZ) once it is LAB_LIMIT_FSIZE bytes long, the grader must
 * read only a bounded part of it, and it must be gone after the step.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

int main(void) {
    static char line[4096];
    memset(line, 'y', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (;;)
        fwrite(line, 1, sizeof line, stdout);
}
