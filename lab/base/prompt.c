/*
 * prompt.c - the prompt (see prompt.h). Readline's callback interface
 * is fed from the event loop, so a background job's output is printed
 * the moment it arrives, above the line being typed. The signals that
 * matter are blocked except inside the loop's wait (ppoll), so one that
 * comes between a look at the flags and the wait still wakes the wait.
 */
#define _GNU_SOURCE /* getline */

#include "base/prompt.h"

#include "base/loop.h"
#include "base/term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

static char *line_read;
static int line_done;

/* Readline calls this with a whole line (NULL at end of file). */
static void line_handler(char *line) {
    line_read = line;
    line_done = 1;
    term_prompt_showing(0);
    /* Removed here, or Readline would draw a new prompt before the
       command's output. */
    rl_callback_handler_remove();
}

/* Ctrl-Z at the prompt: give the terminal back, stop, and on SIGCONT
   take it again and redraw. */
static void suspend_at_prompt(void) {
    /* Under `make lab`, make stops at once and the shell takes the
       terminal back before we get here: without this, restoring the
       terminal would stop us with SIGTTOU, and SIGCONT would then run
       into the raise below and stop us again. */
    signal(SIGTTOU, SIG_IGN);
    rl_deprep_terminal();
    signal(SIGTTOU, SIG_DFL);
    signal(SIGTSTP, SIG_DFL);
    sigset_t tstp;
    sigemptyset(&tstp);
    sigaddset(&tstp, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &tstp, NULL); /* stops here until SIGCONT */
    raise(SIGTSTP);
    sigprocmask(SIG_BLOCK, &tstp, NULL);
    loop_watch_tstp();
    rl_prep_terminal(1);
    rl_forced_update_display();
}

/* The loop's handler of the terminal: one key for Readline. */
static void on_key(int fd, short revents, void *data) {
    (void)fd;
    (void)revents;
    (void)data;
    rl_callback_read_char();
}

/* Ctrl-C at the prompt: show it and drop the line. */
static void drop_line(void) {
    rl_callback_sigcleanup();
    rl_free_line_state();
    rl_point = rl_end;
    rl_redisplay();
    fputs("^C", stdout);
    fflush(stdout);
    /* (Leaving Readline's terminal mode may write a \r: the ^C goes
       first, the newline after.) */
    rl_callback_handler_remove();
    fputs("\n", stdout);
    term_prompt_showing(0);
}

char *lab_readline(const char *prompt, int cancel_on_interrupt) {
    line_read = NULL;
    line_done = 0;
    lab_interrupted = 0;
    loop_suspend_requested = 0;
    loop_watch_winch(1);
    sigset_t watched, others;
    sigemptyset(&watched);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGWINCH};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&watched, sigs[i]);
    sigprocmask(SIG_BLOCK, &watched, &others);
    rl_callback_handler_install(prompt, line_handler);
    term_prompt_showing(1);
    loop_add_fd(STDIN_FILENO, POLLIN, on_key, NULL);
    while (!line_done) {
        if (lab_quit_requested) {
            rl_callback_handler_remove();
            term_prompt_showing(0);
            fputs("\n", stdout);
            break;
        }
        if (!(loop_window_changed || loop_suspend_requested || lab_interrupted))
            loop_once(-1, &others);
        if (loop_window_changed) {
            loop_window_changed = 0;
            rl_resize_terminal();
        }
        if (loop_suspend_requested) {
            loop_suspend_requested = 0;
            suspend_at_prompt();
        }
        if (lab_interrupted && !lab_quit_requested) {
            drop_line();
            if (cancel_on_interrupt)
                break; /* lab_interrupted stays set for the caller */
            lab_interrupted = 0;
            rl_callback_handler_install(prompt, line_handler);
            term_prompt_showing(1);
        }
    }
    loop_del_fd(STDIN_FILENO);
    loop_watch_winch(0);
    sigprocmask(SIG_SETMASK, &others, NULL);
    term_prompt_showing(0);
    return line_read;
}

int lab_ask(const char *question) {
    char *answer = NULL;
    if (isatty(STDIN_FILENO)) {
        answer = lab_readline(question, 1);
    } else {
        /* A script's next line is the answer, shown as if typed. */
        size_t cap = 0;
        fputs(question, stdout);
        if (getline(&answer, &cap, stdin) < 0) {
            free(answer);
            answer = NULL;
        } else {
            answer[strcspn(answer, "\r\n")] = '\0';
        }
        printf("%s\n", answer ? answer : "");
    }
    int yes = answer && (answer[strspn(answer, " \t")] == 'y' ||
                         answer[strspn(answer, " \t")] == 'Y');
    free(answer);
    return yes;
}
