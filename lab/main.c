/*
 * main.c - lab, socklab's REPL: the student's home while they work the
 * lessons and try socket calls by hand.
 *
 *   lab                 the prompt (GNU Readline: Tab completion, history
 *                       kept across sessions, your ~/.inputrc)
 *   lab CMD [ARGS...]   run one command and exit with its status
 *   lab < script        commands from a file or pipe, no prompt; the exit
 *                       status is the first failure's (0 when none)
 *
 * The lab is built in layers, each using only the ones below it:
 *
 *   base/   leaf modules: memory, files, terminal output, JSON, escapes,
 *           the one event loop (fds, timers, signals, the clock), the
 *           prompt on that loop
 *   core/   child processes, socket calls, progress, the lesson model,
 *           background jobs, the command table (registry)
 *   cmd/    the command groups, each registering its own table rows
 *   main.c  the modes (interactive, one-shot, script) and the order of
 *           the groups
 *
 * tests/lab/layers checks it from the objects' symbols. SIGINT has a
 * handler without SA_RESTART the whole time (base/loop.c): at the prompt
 * Ctrl-C clears the line, in a command it makes blocking calls return
 * EINTR with lab_interrupted set, so no command can hang the REPL.
 */
#define _GNU_SOURCE /* getline */

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/prompt.h"
#include "base/term.h"
#include "cmd/cmd.h"
#include "core/jobs.h"
#include "core/lessons.h"
#include "core/progress.h"
#include "core/registry.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_LINES 1000

/* ---------------------------------------------------------- running lines */

/* Split and run one line; returns the command's status (2 for a line
   that does not split, 0 for an empty one). */
static int run_line(const char *line, int lineno) {
    char **argv;
    const char *error;
    int argc = lab_split(line, &argv, &error);
    if (argc < 0) {
        if (lineno)
            lab_error("line %d: %s", lineno, error);
        else
            lab_error("%s", error);
        return 2;
    }
    lab_interrupted = 0;
    int status = lab_dispatch(argc, argv);
    lab_free_argv(argv);
    fflush(stdout);
    return status;
}

static char *history_file(void) {
    return xprintf("%s/history", lab_state_dir());
}

/* Is line worth keeping in the history (not blank, not a repeat, not
   starting with a space)? */
static int worth_remembering(const char *line) {
    if (!line[0] || line[0] == ' ' || !line[strspn(line, " \t")])
        return 0;
    HIST_ENTRY *last = history_length > 0
                           ? history_get(history_base + history_length - 1)
                           : NULL;
    return !last || strcmp(last->line, line) != 0;
}

/* What the prompt says to a student who just came in. */
static void greet(void) {
    struct lesson *next = NULL;
    int n = lessons_count();
    for (int i = 0; i < n && !next; i++) {
        struct progress_result r;
        progress_get(lesson_at(i)->name, &r);
        if (!progress_passed(&r))
            next = lesson_at(i);
    }
    printf("%ssocklab%s: `list` shows the lessons, `help` the commands; Tab "
           "completes.\n",
           C_BOLD, C_OFF);
    if (next)
        printf("next: %s (`show %02d` to read it)\n", next->name, next->number);
}

static int interactive(void) {
    rl_readline_name = "lab"; /* for $if lab in ~/.inputrc */
    rl_attempted_completion_function = lab_complete;
    rl_completer_word_break_characters = " \t\n";
    rl_completer_quote_characters = "\"";
    rl_catch_signals = 0; /* our handlers, in every state */
    rl_catch_sigwinch = 0;
    char *history = history_file();
    using_history();
    stifle_history(HISTORY_LINES);
    read_history(history);
    greet();
    const char *prompt =
        lab_colour ? "\001\033[1;36m\002lab>\001\033[0m\002 " : "lab> ";
    while (!lab_quit_requested) {
        char *line = lab_readline(prompt, 0);
        if (!line) {
            if (!lab_quit_requested)
                fputs("\n", stdout); /* Ctrl-D: end the prompt's line */
            break;
        }
        if (worth_remembering(line)) {
            add_history(line);
            /* Append at once, so two sessions both keep their lines. */
            if (append_history(1, history) != 0)
                write_history(history);
        }
        run_line(line, 0);
        free(line);
        /* Talk mode may have changed these: put ours back. */
        rl_attempted_completion_function = lab_complete;
        rl_completer_word_break_characters = " \t\n";
    }
    history_truncate_file(history, HISTORY_LINES);
    clear_history();
    free(history);
    return 0; /* leaving the prompt is no failure */
}

static int script(void) {
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, status = 0;
    /* Unbuffered, so stdio never reads ahead of the line it returns: talk
       takes the script's next lines straight from fd 0 while it polls the
       socket, and must find them there. */
    setvbuf(stdin, NULL, _IONBF, 0);
    while (!lab_quit_requested && getline(&line, &cap, stdin) >= 0) {
        lineno++;
        const char *s = line + strspn(line, " \t");
        if (*s == '#' || !s[strspn(s, " \t\r\n")])
            continue;
        int st = run_line(s, lineno);
        jobs_drain();
        if (st != 0 && status == 0)
            status = st;
        if (lab_interrupted && !lab_quit_requested) {
            status = 130; /* Ctrl-C ends a script, as in a shell */
            break;
        }
    }
    free(line);
    return status;
}

/* ---------------------------------------------------------------- main */

static void finish(void) {
    jobs_end_all();
    playground_cleanup();
    fflush(stdout);
    lessons_free();
    progress_cleanup();
    registry_free();
    files_cleanup();
}

/* Every command group's rows, in the order help lists them. */
static void register_commands(void) {
    lessons_register();
    check_register();
    run_register();
    trace_register();
    capture_register();
    bench_register();
    playground_register();
    talk_register();
    help_register();
}

int main(int argc, char **argv) {
    setlocale(LC_CTYPE, "");
    term_init();
    setvbuf(stdout, NULL, _IOLBF, 0);
    loop_signals();
    register_commands();
    if (!lab_root()) {
        lab_error("cannot find the socklab checkout (a folder with lessons/ "
                  "and a Makefile): set LAB_ROOT");
        return 1;
    }
    lessons_snapshot();
    int status;
    if (argc > 1) {
        lab_mode = MODE_ONESHOT;
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
            argv[1] = "help";
        status = lab_dispatch(argc - 1, argv + 1);
    } else if (isatty(STDIN_FILENO)) {
        lab_mode = MODE_INTERACTIVE;
        status = interactive();
    } else {
        lab_mode = MODE_SCRIPT;
        status = script();
    }
    finish();
    return status;
}
