/*
 * registry.h - the command table: command groups register their rows,
 * and the table drives dispatch, the argument-count check, option flags,
 * help and Tab completion.
 */
#ifndef LAB_CORE_REGISTRY_H
#define LAB_CORE_REGISTRY_H

/* A command handler: argv[0] is the command's name, option flags are
   taken out of argv (lab_opt says which were given). Returns 0 when it
   did what was asked, 1 when it failed (a call failed, a test failed),
   2 on bad arguments (after printing the usage line). */
typedef int command_fn(int argc, char **argv);

/* A Readline completion generator (see rl_completion_matches). */
typedef char *completer_fn(const char *text, int state);

/* One row of the command table.
   args is the usage string: "FD HOST PORT", "N [STEP] [--all]",
   "[ARGS...]". Words in [] are optional, a word with "..." takes any
   number; a word "[--name]" is an option flag: dispatch takes it (or
   "-n", its first letter) out of the arguments wherever it comes before
   the "..." word's arguments, and lab_opt("--name") says it was given.
   Dispatch derives the least and most argument counts from the other
   words and prints "usage: NAME ARGS" (returning 2) before calling the
   handler when the count does not fit. Completion follows the words
   too: a word registered with lab_register_word completes with its
   completer (FD: socket ids, N: lessons), a|b|c its alternatives;
   completer, when set, completes every argument of the command instead.

   Quoting: the line splitter separates words at blanks and groups
   "double quoted" text into one word (quotes removed), but keeps every
   backslash escape as written, inside quotes or not: `send 3 "hi
   there\n"` reaches the handler as argv[2] = `hi there\n` (backslash, n).
   Handlers that take TEXT decode C escapes themselves, which lets TEXT
   hold NUL bytes. One-shot mode passes the shell's words unchanged. */
struct lab_command {
    const char *name;
    const char *args;
    command_fn *handler;
    const char *help;        /* one line */
    completer_fn *completer; /* NULL: completion from args */
    const char *group;       /* the heading help lists it under */
    const char *details;     /* more for `help NAME`, or NULL */
};

/* Add a group's rows (ended by a row whose name is NULL; kept, not
   copied). Help lists groups in the order they first appear. */
void lab_register(const struct lab_command *rows);
/* Complete the usage word word ("FD", "N|all") with f. */
void lab_register_word(const char *word, completer_fn *f);

/* Every registered row, in order: i from 0 while it returns non-NULL. */
const struct lab_command *lab_command_at(int i);
/* Find a command by name; NULL when there is none. */
const struct lab_command *lab_find_command(const char *name);

/* Print "usage: NAME ARGS" for the command named name, on stderr. */
void lab_usage(const char *name);

/* Split a line into words: blanks separate, "double quotes" group, and a
   backslash escape inside quotes is kept as written. Returns argc, with
   a malloc'ed NULL-ended argv, or -1 with *error set on an unterminated
   quote. */
int lab_split(const char *line, char ***argv, const char **error);
void lab_free_argv(char **argv);

/* Check the arguments against the usage string, take out the option
   flags, then run the command ("CMD --help" runs "help CMD"). */
int lab_dispatch(int argc, char **argv);
/* Was the option flag ("--all") given to the running command? */
int lab_opt(const char *flag);

/* Readline's attempted-completion function for the command line. */
char **lab_complete(const char *text, int start, int end);

/* Free the table (at exit). */
void registry_free(void);

#endif
