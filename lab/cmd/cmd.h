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

/* capture.c: capture (a program's packets, from tcpdump). */
void capture_register(void);
/* A tcpdump on lo, writing every TCP and UDP packet to raw. */
struct sniffer;
/* Start one and wait till it listens; 0, or -1 after saying why (stop
   it all the same). */
int sniffer_start(struct sniffer **s, const char *raw);
/* Stop it, keep the packets of ports in kept (a .pcap) and print them
   in a few lines after indent (server: the server's port); returns how
   many packets, -1 when tcpdump could not read them. */
int sniffer_show(struct sniffer *s, const long *ports, int nports, long server,
                 const char *kept, const char *indent);
/* Free it (and remove the raw capture). */
void sniffer_stop(struct sniffer *s);
/* A new path build/captures/NAME-PROG-TIME.pcap (malloc'ed). */
char *capture_file(const char *name, const char *prog);

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
