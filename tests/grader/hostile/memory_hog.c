/*
 * memory_hog.c - hostile client: allocates memory 16 MiB at a time until
 * malloc() fails, says how far it got on stderr, exits 1.
 *
 * What it does to the grader: RLIMIT_AS (LAB_LIMIT_AS, 1 GiB) must stop it
 * near the limit, long before the grader's machine runs short. It need
 * not touch the memory: the limit is on what it can map at all, so what
 * it could touch is bounded the same way (and the case stays fast).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t mib = 0;
    while (mib < (64u << 10) && malloc(16u << 20) != NULL)
        mib += 16; /* never freed, on purpose */
    fprintf(stderr, "memory_hog: malloc failed after %zu MiB\n", mib);
    return 1;
}
