/*
 * lab.h - what the parts of the lab REPL share.
 *
 * The REPL is one command table (commands.c) that drives dispatch, help,
 * argument checks and completion. Each command is a handler with the
 * signature below; the handlers live in the file of their area:
 *
 *   main.c, commands.c, ...   the loop, the table, help, history, lessons
 *   playground.c              the socket playground (one real call each)
 *   talk.c                    talk mode (Readline's callback interface)
 */
#ifndef LAB_H
#define LAB_H

#include <signal.h>

/* A command handler: argv[0] is the command's name. Returns 0 when it
   did what was asked, 1 when it failed (a call failed, a test failed),
   2 on bad arguments (after printing the usage line). */
typedef int command_fn(int argc, char **argv);

/* A Readline completion generator (see rl_completion_matches). */
typedef char *completer_fn(const char *text, int state);

/* One row of the command table (commands.c), which drives dispatch, the
   argument-count check, help and completion.
   args is the usage string: "FD HOST PORT", "N [STEP]", "[ARGS...]".
   Words in [] are optional, a word with "..." takes any number; dispatch
   derives the least and most argument counts from it and prints
   "usage: NAME ARGS" (returning 2) before calling the handler when the
   count does not fit. Completion follows the words too: FD completes
   socket ids, OPTION option names, N lessons, a|b|c its alternatives;
   completer, when set, completes every argument of the command instead.

   Quoting: the REPL's line splitter separates words at blanks and groups
   "double quoted" text into one word (quotes removed), but keeps every
   backslash escape as written, inside quotes or not: `send 3 "hi there\n"`
   reaches the handler as argv[2] = `hi there\n` (backslash, n). Handlers
   that take TEXT decode C escapes (\n \r \t \\ \" \xHH \0) themselves,
   which lets TEXT hold NUL bytes. One-shot mode (`lab send 3 'hi\n'`)
   passes the shell's words unchanged, so the same decoding applies. */
struct lab_command {
    const char *name;
    const char *args;
    command_fn *handler;
    const char *help;        /* one line */
    completer_fn *completer; /* NULL: completion from args */
    const char *group;       /* the heading help lists it under */
    const char *details;     /* more for `help NAME`, or NULL */
};

/* The table, ended by a row whose name is NULL. */
extern const struct lab_command lab_commands[];

/* Set by the SIGINT handler while a command runs (no SA_RESTART, so a
   blocking call returns EINTR); cleared before each command. */
extern volatile sig_atomic_t lab_interrupted;
/* (The lab ignores SIGPIPE: a send on a closed connection fails with
   EPIPE instead of ending the REPL. Child processes get the default.) */

/* Nonzero when stdout is a terminal and NO_COLOR is unset. */
extern int lab_colour;

/* Print "usage: NAME ARGS" for the command named name (from the table),
   on stderr. */
void lab_usage(const char *name);

/* Lab output that arrives between prompts (a background job's line, a
   peer's message) goes through this: it prints text above the prompt
   without mangling the line being typed (plain print otherwise). */
void lab_async_print(const char *text);

/* ---- playground.c: one real socket call per command ---- */
command_fn cmd_socket, cmd_bind, cmd_listen, cmd_accept, cmd_connect;
command_fn cmd_send, cmd_recv, cmd_sendto, cmd_recvfrom, cmd_shutdown;
command_fn cmd_setsockopt, cmd_getsockname, cmd_getpeername, cmd_close;
command_fn cmd_resolve, cmd_sockets, cmd_wait;
completer_fn complete_socket_id, complete_sockopt;
/* Close every playground socket (at exit). */
void playground_cleanup(void);

/* ---- talk.c: the interactive client ---- */
command_fn cmd_talk;

#endif
