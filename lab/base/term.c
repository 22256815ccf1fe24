/*
 * term.c - colour, error lines and output between prompts (see term.h).
 */
#include "base/term.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

enum lab_mode lab_mode = MODE_INTERACTIVE;
int lab_colour;
int lab_utf8;
static int prompt_showing;

void term_init(void) {
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    lab_colour = isatty(STDOUT_FILENO) && !(no_colour && *no_colour) &&
                 !(term && strcmp(term, "dumb") == 0);
    /* Ticks and blocks on a UTF-8 terminal; plain ASCII in a pipe. */
    lab_utf8 =
        isatty(STDOUT_FILENO) && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

void lab_error(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%slab: ", C_RED);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", C_OFF);
}

void term_prompt_showing(int showing) {
    prompt_showing = showing;
}

void lab_async_print(const char *text) {
    if (prompt_showing) {
        rl_clear_visible_line();
        fputs(text, stdout);
        fflush(stdout);
        rl_forced_update_display();
    } else {
        fputs(text, stdout);
        fflush(stdout);
    }
}
