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
 * The prompt is Readline's callback interface inside a poll() loop, so a
 * background job's output is printed the moment it arrives, above the
 * line being typed. While a command runs, Readline is not active at all:
 * the command owns the terminal (talk mode runs its own Readline loop).
 * SIGINT has a handler without SA_RESTART the whole time: at the prompt
 * Ctrl-C clears the line, in a command it makes blocking calls return
 * EINTR with lab_interrupted set, so no command can hang the REPL.
 */
#define _GNU_SOURCE /* ppoll */

#include "core.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_LINES 1000

volatile sig_atomic_t lab_interrupted;
volatile sig_atomic_t lab_quit_requested;
int lab_colour;
int lab_utf8;
enum lab_mode lab_mode = MODE_INTERACTIVE;

static volatile sig_atomic_t window_changed, suspend_requested;

/* ---------------------------------------------------------------- signals */

static void on_interrupt(int sig) {
    (void)sig;
    lab_interrupted = 1;
}

static void on_terminate(int sig) {
    (void)sig;
    lab_quit_requested = 1;
    lab_interrupted = 1;
}

static void on_window_change(int sig) {
    (void)sig;
    window_changed = 1;
}

static void on_suspend(int sig) {
    (void)sig;
    suspend_requested = 1;
}

/* Install handler for sig without SA_RESTART: a blocking call that the
   signal interrupts returns EINTR, so the loop around it can look. */
static void handle(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(sig, &sa, NULL);
}

static void setup_signals(void) {
    handle(SIGINT, on_interrupt);
    handle(SIGTERM, on_terminate);
    handle(SIGHUP, on_terminate);
    handle(SIGTSTP, on_suspend);
    signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------- the prompt */

static char *line_read;
static int line_done;
static int prompt_showing;

/* Readline calls this with a whole line (NULL at end of file). */
static void line_handler(char *line) {
    line_read = line;
    line_done = 1;
    prompt_showing = 0;
    /* Removed here, or Readline would draw a new prompt before the
       command's output. */
    rl_callback_handler_remove();
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
    handle(SIGTSTP, on_suspend);
    rl_prep_terminal(1);
    rl_forced_update_display();
}

char *lab_readline(const char *prompt, int cancel_on_interrupt) {
    line_read = NULL;
    line_done = 0;
    lab_interrupted = 0;
    suspend_requested = 0;
    handle(SIGWINCH, on_window_change);
    /* The signals that matter here are blocked except inside ppoll(), so
       one that comes between a look at the flags and the wait still
       wakes the wait (no Ctrl-Z or Ctrl-C left pending until a key). */
    sigset_t watched, others;
    sigemptyset(&watched);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGWINCH};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&watched, sigs[i]);
    sigprocmask(SIG_BLOCK, &watched, &others);
    rl_callback_handler_install(prompt, line_handler);
    prompt_showing = 1;
    while (!line_done) {
        if (lab_quit_requested) {
            rl_callback_handler_remove();
            prompt_showing = 0;
            fputs("\n", stdout);
            break;
        }
        struct pollfd fds[64];
        fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        int n = jobs_pollfds(fds + 1, 63);
        int ms = jobs_poll_timeout();
        struct timespec tick = {ms / 1000, (long)(ms % 1000) * 1000000};
        int r = window_changed || suspend_requested || lab_interrupted
                    ? -1 /* a signal came while we were busy */
                    : ppoll(fds, (nfds_t)n + 1, ms < 0 ? NULL : &tick, &others);
        if (r < 0 && errno != EINTR && !window_changed && !suspend_requested &&
            !lab_interrupted)
            break;
        if (window_changed) {
            window_changed = 0;
            rl_resize_terminal();
        }
        if (suspend_requested) {
            suspend_requested = 0;
            suspend_at_prompt();
        }
        if (lab_interrupted && !lab_quit_requested) {
            /* Ctrl-C: show it, drop the line, start a fresh one. */
            rl_callback_sigcleanup();
            rl_free_line_state();
            rl_point = rl_end;
            rl_redisplay();
            fputs("^C", stdout);
            fflush(stdout);
            /* (Leaving Readline's terminal mode may write a \r: the ^C
               goes first, the newline after.) */
            rl_callback_handler_remove();
            fputs("\n", stdout);
            prompt_showing = 0;
            if (cancel_on_interrupt)
                break; /* lab_interrupted stays set for the caller */
            lab_interrupted = 0;
            rl_callback_handler_install(prompt, line_handler);
            prompt_showing = 1;
            continue;
        }
        if (r <= 0) {
            if (r == 0)
                jobs_handle(fds + 1, 0); /* a tick: reap what exited */
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
            rl_callback_read_char();
        jobs_handle(fds + 1, n);
    }
    signal(SIGWINCH, SIG_DFL);
    sigprocmask(SIG_SETMASK, &others, NULL);
    prompt_showing = 0;
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
        if (!(r.known && r.total > 0 && r.passed == r.total))
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
    lessons_cleanup();
    progress_cleanup();
    util_cleanup();
}

int main(int argc, char **argv) {
    setlocale(LC_CTYPE, "");
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    lab_colour = isatty(STDOUT_FILENO) && !(no_colour && *no_colour) &&
                 !(term && strcmp(term, "dumb") == 0);
    /* Ticks and blocks on a UTF-8 terminal; plain ASCII in a pipe. */
    lab_utf8 =
        isatty(STDOUT_FILENO) && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    setup_signals();
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
