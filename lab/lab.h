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

/* Set by the SIGINT handler while a command runs (no SA_RESTART, so a
   blocking call returns EINTR); cleared before each command. */
extern volatile sig_atomic_t lab_interrupted;

/* Nonzero when stdout is a terminal and NO_COLOR is unset. */
extern int lab_colour;

/* Print "usage: NAME ARGS" for the command named name (from the table). */
void lab_usage(const char *name);

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
