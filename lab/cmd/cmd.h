/*
 * cmd.h - the command groups (the top layer). Each group registers its
 * own rows of the command table; main.c calls the registrations in the
 * order help lists them.
 */
#ifndef LAB_CMD_CMD_H
#define LAB_CMD_CMD_H

/* lessons.c: list, show, hint, reset, solution. */
void lessons_register(void);
/* Without git, keep a copy of each lesson as the lab first sees it, for
   reset (the hand-out has no history to restore from). */
void lessons_snapshot(void);

/* check.c: check and watch. */
void check_register(void);
/* Take the report of the last `make check` (build/reports/results.json)
   into the progress, once, when it graded this checkout's lessons/. */
void check_sync_make_report(void);

/* run.c: run, jobs, stop. */
void run_register(void);

/* trace.c: trace (a program's socket calls, from strace). */
void trace_register(void);
/* Print the socket calls of a `strace -f -o` file the playground's way,
   each line after indent; returns how many, or -1 when it is unreadable. */
int trace_print_file(const char *path, const char *indent);

/* capture.c: capture (a step's packets, from tcpdump). */
void capture_register(void);

/* bench.c: bench (the student's server against the reference). */
void bench_register(void);

/* playground.c: one real socket call per command. */
void playground_register(void);
/* Close every playground socket (at exit). */
void playground_cleanup(void);

/* talk.c: the interactive client. */
void talk_register(void);

/* help.c: help, quit, exit. */
void help_register(void);

#endif
