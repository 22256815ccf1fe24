/*
 * core.h - what the REPL's own files share (lab.h is the contract with
 * the playground and talk mode; this is everything behind it).
 *
 *   main.c      modes (interactive, one-shot, script), signals, the prompt
 *   commands.c  the command table, the line splitter, dispatch, help,
 *               completion
 *   lessons.c   discovering lessons; list, show, hint, solution, reset
 *   check.c     check and watch: the grader and results.json
 *   progress.c  the versioned progress file in the XDG state dir
 *   jobs.c      run, jobs, stop: child processes and their output
 *   util.c      memory, files, paths, colour, child processes, JSON
 */
#ifndef LAB_CORE_H
#define LAB_CORE_H

#include "lab.h"

#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- modes */

enum lab_mode { MODE_INTERACTIVE, MODE_ONESHOT, MODE_SCRIPT };
extern enum lab_mode lab_mode;

/* Set by SIGTERM or SIGHUP, or by quit: leave after this command. */
extern volatile sig_atomic_t lab_quit_requested;

/* Read one line with Readline while job output keeps flowing; NULL on
   EOF or, when cancel_on_interrupt, on Ctrl-C (lab_interrupted set).
   Interactive mode only. */
char *lab_readline(const char *prompt, int cancel_on_interrupt);

/* Ask a yes/no question (on the terminal, or the next line of a
   script); returns 1 only for an answer starting with y. */
int lab_ask(const char *question);

/* ------------------------------------------------------------- commands.c */

/* Split a line into words: blanks separate, "double quotes" group, and a
   backslash escape inside quotes is kept as written (the playground
   decodes C escapes itself). Returns argc, with a malloc'ed NULL-ended
   argv, or -1 with *error set on an unterminated quote. */
int lab_split(const char *line, char ***argv, const char **error);
void lab_free_argv(char **argv);

/* Find a command by name; NULL when there is none. */
const struct lab_command *lab_find_command(const char *name);

/* Check the argument count against the usage string, then run it. */
int lab_dispatch(int argc, char **argv);

/* Readline's attempted-completion function for the command line. */
char **lab_complete(const char *text, int start, int end);

command_fn cmd_help, cmd_quit;

/* -------------------------------------------------------------- lessons.c */

struct lesson {
    char *name;        /* 01-echo-once */
    int number;        /* 1 */
    const char *slug;  /* echo-once (points into name) */
    int steps;         /* @test lines of tests/NAME.bats, -1 unread */
    char **step_names; /* "step 1: ..." */
};

/* Every lesson of lessons/, in order (read once). */
int lessons_count(void);
struct lesson *lesson_at(int i);
/* Find a lesson by number, slug, full name or unique slug prefix; prints
   a one-line error and returns NULL when there is no (single) match. */
struct lesson *lesson_find(const char *arg);
/* Read the lesson's step names (from its test file); returns the count. */
int lesson_steps(struct lesson *l);
/* Readline generator of lesson names (and "all" when asked). */
completer_fn complete_lesson, complete_lesson_or_all;

command_fn cmd_list, cmd_show, cmd_hint, cmd_solution, cmd_reset;
/* Without git, keep a copy of each lesson as the lab first sees it, for
   reset (the hand-out has no history to restore from). */
void lessons_snapshot(void);
void lessons_cleanup(void);

/* Is a feature turned off by the instructor (LAB_NO_HINTS,
   LAB_NO_SOLUTIONS, or lab/lab.conf)? */
int lab_feature_off(const char *feature);

/* Show text, through the pager when it is longer than the terminal. */
void lab_page(const char *text, size_t len);

/* ---------------------------------------------------------------- check.c */

command_fn cmd_check, cmd_watch;
/* Take the report of the last `make check` (build/reports/results.json)
   into the progress, once, when it graded this checkout's lessons/. */
void check_sync_make_report(void);

/* ------------------------------------------------------------- progress.c */

struct progress_result {
    int known; /* a check was recorded since the last reset */
    int passed, total;
    int first_failing; /* 0 when none */
    int solved;        /* passed every step at least once */
};

void progress_get(const char *lesson, struct progress_result *r);
/* Record a check: failing lists the step numbers that failed. */
void progress_record(const char *lesson, int passed, int total,
                     const int *failing, int nfailing);
/* Forget the last check of a lesson (after reset); solved stays. */
void progress_forget(const char *lesson);
/* The stamp of the last `make check` report taken into the progress
   (0: none), and setting it. */
long progress_synced(void);
void progress_set_synced(long stamp);
int progress_hint_level(const char *lesson, int step);
void progress_set_hint_level(const char *lesson, int step, int level);
/* A short stable name of the checkout (a hash of its path). */
const char *lab_checkout_key(void);
/* The progress file's path (for messages and tests). */
const char *progress_path(void);
void progress_cleanup(void);

/* ---------------------------------------------------------------- jobs.c */

command_fn cmd_run, cmd_jobs, cmd_stop;
completer_fn complete_job;

/* The poll set of the running jobs' output and exits. */
int jobs_pollfds(struct pollfd *fds, int max);
/* Timeout for poll(): -1, or a tick when an exit cannot be polled. */
int jobs_poll_timeout(void);
/* Handle what poll() found on the fds jobs_pollfds() gave. */
void jobs_handle(const struct pollfd *fds, int n);
/* Print what the jobs have said so far, without waiting. */
void jobs_drain(void);
/* End every job (at exit). */
void jobs_end_all(void);

/* ---------------------------------------------------------------- util.c */

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growing string. */
struct buf {
    char *data;
    size_t len, cap;
};
void buf_add(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Read a whole file (NUL-terminated); NULL with errno set. */
char *read_file(const char *path, size_t *len);
/* Write a file through a temporary and rename; 0 or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len);
int mkdir_p(const char *path);
int is_dir(const char *path);
int is_file(const char *path);

/* The checkout's top folder (LAB_ROOT, or found from the binary). */
const char *lab_root(void);
/* A path under the top folder (malloc'ed). */
char *root_path(const char *rel);
/* $XDG_STATE_HOME/socklab (or ~/.local/state/socklab), created. */
const char *lab_state_dir(void);

/* Free util.c's caches (at exit, so valgrind sees nothing left). */
void util_cleanup(void);

/* "lab: message" on stderr (red on a terminal). */
void lab_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Colour escapes: empty strings unless lab_colour. */
#define LAB_COL(code) (lab_colour ? "\033[" code "m" : "")
#define C_BOLD LAB_COL("1")
#define C_DIM LAB_COL("2")
#define C_RED LAB_COL("31")
#define C_GREEN LAB_COL("32")
#define C_YELLOW LAB_COL("33")
#define C_BLUE LAB_COL("34")
#define C_CYAN LAB_COL("36")
#define C_OFF LAB_COL("0")
/* Nonzero when stdout is a terminal that takes UTF-8 (ticks, blocks). */
extern int lab_utf8;

/* Start argv (execvp) with fds 0-2 from in, out, err (-1: inherit). In
   its own process group when new_group. Returns the pid, or -1 after
   printing why (exec failures are reported from the parent). */
struct spawn {
    int in, out, err;
    int new_group;
    int death_signal; /* sent to it if the lab dies; 0 none */
};
pid_t spawn_process(char *const argv[], const struct spawn *how);

/* Seconds on the monotonic clock. */
double lab_now(void);

enum wait_result { WAIT_EXITED, WAIT_TIMEOUT, WAIT_INTERRUPTED };
/* Wait for child pid up to seconds (<0: no bound), returning early on
   Ctrl-C when interruptible; job output keeps flowing meanwhile. */
enum wait_result wait_child(pid_t pid, double seconds, int interruptible,
                            int *status);
/* End a child and everything it started: sig to it (its group when it
   has one), then SIGKILL to all its descendants after grace seconds. */
void end_child(pid_t pid, int sig, double grace, int *status);
/* Run argv, capturing stdout (stderr too when merge); 0 on exit 0. */
int capture(char *const argv[], char **out, size_t *len, int merge,
            double seconds);
/* Say a wait status in words: "status 1", "signal 9 (SIGKILL)". */
const char *describe_status(int status);

/* ---- a small JSON reader (for the grader's results.json) ---- */
enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
};
struct json {
    enum json_type type;
    double number;       /* number, bool */
    char *string;        /* string */
    struct json **items; /* array items, object values */
    char **keys;         /* object keys */
    size_t count;
};
struct json *json_parse(const char *text);
void json_free(struct json *j);
const struct json *json_get(const struct json *obj, const char *key);
const char *json_str(const struct json *j, const char *key);
double json_num(const struct json *j, const char *key);

#endif
