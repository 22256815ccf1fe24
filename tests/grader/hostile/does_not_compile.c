/*
 * does_not_compile.c - hostile client: a syntax error.
 *
 * What it does to the grader: only the steps that need this program fail,
 * each saying "does not compile" with the compiler's first lines; the
 * other program of the lesson is built and graded as usual.
 */
#include <stdio.h>

int main(void) {
    printf("where is my semicolon?\n")
    return 0;
}
