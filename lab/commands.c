/*
 * commands.c - the command table and everything it drives: the line
 * splitter, dispatch with its argument-count check, help, and Tab
 * completion. A command is one row; its usage string ("FD HOST PORT",
 * "N [STEP]") is the single source of its argument counts, its usage
 * line and what each of its arguments completes to.
 */
#include "core.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#define LESSONS "Lessons"
#define PLAYGROUND "Socket playground (real calls, shown the way strace would)"
#define TALK "Talk mode"
#define REPL "The lab"

const struct lab_command lab_commands[] = {
    {"list", "", cmd_list, "every lesson, its state, your progress", NULL,
     LESSONS,
     "Shows each lesson as passed, N of M steps (from your last check) or\n"
     "not started, marks the next one to do, and draws your overall progress.\n"
     "Progress is kept outside your files, in $XDG_STATE_HOME/socklab."},
    {"show", "N", cmd_show, "read lesson N (paged when it is long)", NULL,
     LESSONS,
     "N is a lesson number or name: 1, 01, echo-once or 01-echo-once.\n"
     "Tab completes it."},
    {"hint", "N [STEP]", cmd_hint,
     "the next hint (default: first failing step)", NULL, LESSONS,
     "Hints come as a ladder: each `hint` for the same step shows one more,\n"
     "more specific than the last, with the ones you have seen above it.\n"
     "Without STEP it picks the first step your last check failed."},
    {"check", "N|all [STEP] [--all] [--verbose]", cmd_check,
     "build, grade and record lesson N (or all)", NULL, LESSONS,
     "Runs the same grader as `make check` (tests/grader/grade.py): builds\n"
     "your programs, runs the lesson's test and shows each step the moment\n"
     "it passes or fails, with what went wrong; records the result for\n"
     "`list`. It stops at the first failing step: --all runs every step\n"
     "(the first failure shows its whole transcript, the others their first\n"
     "line; --verbose shows them all). STEP runs that step alone: `check 01\n"
     "3`. Ctrl-C stops it."},
    {"watch", "N", cmd_watch, "re-check lesson N on every save, till Ctrl-C",
     NULL, LESSONS,
     "Leave it running in one terminal while you edit in another: every save\n"
     "of a .c file in lessons/NN-slug/ re-checks the lesson (inotify; with\n"
     "LAB_WATCH_POLL=1, or where inotify is missing, it polls twice a "
     "second)."},
    {"reset", "N [--yes]", cmd_reset,
     "put the skeleton back (asks; keeps a backup)", NULL, LESSONS,
     "Restores the files of lessons/NN-slug/ from git (the upstream branch,\n"
     "or HEAD). Your files are first copied to\n"
     "$XDG_STATE_HOME/socklab/backups/NN-slug-DATE/. --yes skips the "
     "question."},
    {"solution", "N", cmd_solution, "the reference, once you have passed N",
     NULL, LESSONS, NULL},
    {"run", "N server|client [--ref] [ARGS...]", cmd_run,
     "build and run your program (--ref: reference)", NULL, LESSONS,
     "A server runs in the background as a job (`jobs`, `stop J`); its output\n"
     "is shown as it arrives, prefixed [J]. A client runs in the foreground\n"
     "for at most LAB_RUN_TIMEOUT seconds (60); Ctrl-C stops it. ARGS go to\n"
     "the program: `run 01 server 127.0.0.1 4000`, `run 01 client 127.0.0.1\n"
     "4000 hello`. --ref runs the reference program of solutions/, to try\n"
     "the playground against a working server before you write yours."},
    {"jobs", "", cmd_jobs, "the servers running in the background", NULL,
     LESSONS, NULL},
    {"stop", "J", cmd_stop, "end job J (SIGTERM, then SIGKILL)", complete_job,
     LESSONS, NULL},

    {"socket", "tcp|udp [inet|inet6]", cmd_socket,
     "socket(): a new TCP or UDP socket", NULL, PLAYGROUND, NULL},
    {"bind", "FD HOST PORT", cmd_bind, "bind(): give FD a local address", NULL,
     PLAYGROUND, NULL},
    {"listen", "FD [BACKLOG]", cmd_listen,
     "listen(): let TCP socket FD take clients", NULL, PLAYGROUND, NULL},
    {"accept", "FD", cmd_accept, "accept(): wait for a client: a new socket",
     NULL, PLAYGROUND, NULL},
    {"connect", "FD HOST PORT", cmd_connect,
     "connect(): connect FD to a server", NULL, PLAYGROUND, NULL},
    {"send", "FD TEXT", cmd_send,
     "send(): send TEXT (C escapes: \\n \\xHH ...)", NULL, PLAYGROUND,
     "Quote TEXT with spaces: send 4 \"hello, socket\\n\". Escapes are sent "
     "as\n"
     "the bytes they stand for; what send() returns is how many went out."},
    {"recv", "FD [MAXBYTES]", cmd_recv,
     "recv(): wait for bytes, show them escaped", NULL, PLAYGROUND,
     "Waits at most the time `wait` shows; Ctrl-C interrupts it. recv()\n"
     "returning 0 means the other side closed: end of file."},
    {"sendto", "FD HOST PORT TEXT", cmd_sendto,
     "sendto(): send one UDP datagram", NULL, PLAYGROUND, NULL},
    {"recvfrom", "FD [MAXBYTES]", cmd_recvfrom,
     "recvfrom(): wait for a datagram and sender", NULL, PLAYGROUND, NULL},
    {"shutdown", "FD rd|wr|rdwr", cmd_shutdown,
     "shutdown(): stop reading and/or writing", NULL, PLAYGROUND, NULL},
    {"setsockopt", "FD OPTION VALUE", cmd_setsockopt,
     "setsockopt(): set an option (Tab lists them)", NULL, PLAYGROUND, NULL},
    {"getsockname", "FD", cmd_getsockname,
     "getsockname(): the local address of FD", NULL, PLAYGROUND, NULL},
    {"getpeername", "FD", cmd_getpeername,
     "getpeername(): the address of the other end", NULL, PLAYGROUND, NULL},
    {"close", "FD", cmd_close, "close(): close socket FD", NULL, PLAYGROUND,
     NULL},
    {"resolve", "HOST [SERVICE]", cmd_resolve,
     "getaddrinfo(): the addresses of HOST", NULL, PLAYGROUND, NULL},
    {"sockets", "", cmd_sockets, "a table of the open sockets and their state",
     NULL, PLAYGROUND, NULL},
    {"wait", "[SECONDS]", cmd_wait, "show or set the bound of blocking calls",
     NULL, PLAYGROUND, NULL},

    {"talk", "HOST PORT [tcp|udp]", cmd_talk,
     "type lines to a server, see what it sends", NULL, TALK, NULL},

    {"help", "[CMD]", cmd_help, "this list, or more about one command", NULL,
     REPL, NULL},
    {"quit", "", cmd_quit, "leave the lab (ends your background jobs)", NULL,
     REPL, NULL},
    {"exit", "", cmd_quit, "the same as quit", NULL, REPL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct lab_command *lab_find_command(const char *name) {
    for (const struct lab_command *c = lab_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void lab_usage(const char *name) {
    const struct lab_command *c = lab_find_command(name);
    fflush(stdout);
    if (c)
        fprintf(stderr, "usage: %s%s%s\n", c->name, *c->args ? " " : "",
                c->args);
}

/* ------------------------------------------------------ the line splitter */

int lab_split(const char *line, char ***argv_out, const char **error) {
    char **argv = xmalloc(sizeof *argv);
    int argc = 0;
    const char *p = line;
    *error = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        struct buf word = {0};
        buf_add(&word, "", 0);
        int quoted = 0;
        while (*p && (quoted ||
                      !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
            } else if (*p == '\\' && p[1]) {
                buf_add(&word, p, 2); /* kept as written: \" stays \" */
                p += 2;
            } else {
                buf_add(&word, p++, 1);
            }
        }
        if (quoted) {
            free(word.data);
            *error = "unterminated \" quote";
            argv[argc] = NULL;
            lab_free_argv(argv);
            *argv_out = NULL;
            return -1;
        }
        argv = xrealloc(argv, (size_t)(argc + 2) * sizeof *argv);
        argv[argc++] = word.data;
    }
    argv[argc] = NULL;
    *argv_out = argv;
    return argc;
}

void lab_free_argv(char **argv) {
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* ---------------------------------------------------------- usage strings */

/* The words of a usage string, each at most 63 characters. */
static int usage_words(const char *args, char words[][64], int max) {
    int n = 0;
    const char *p = args;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        snprintf(words[n++], 64, "%.*s", (int)len, p);
        p += len;
    }
    return n;
}

/* The least and most argument counts of a usage string. */
static void arg_counts(const char *args, int *min, int *max) {
    char words[16][64];
    int n = usage_words(args, words, 16);
    *min = 0;
    *max = 0;
    for (int i = 0; i < n; i++) {
        if (strstr(words[i], "...")) {
            *max = INT_MAX;
            if (words[i][0] != '[')
                ++*min;
            return;
        }
        ++*max;
        if (words[i][0] != '[')
            ++*min;
    }
}

/* Edit distance of a and b (for "did you mean"), capped at 9. */
static int distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 30 || lb > 30)
        return 9;
    int d[31][31];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t k = 0; k <= lb; k++)
        d[0][k] = (int)k;
    for (size_t i = 1; i <= la; i++)
        for (size_t k = 1; k <= lb; k++) {
            int best = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
            if (d[i - 1][k] + 1 < best)
                best = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < best)
                best = d[i][k - 1] + 1;
            d[i][k] = best;
        }
    return d[la][lb];
}

int lab_dispatch(int argc, char **argv) {
    if (argc == 0)
        return 0;
    const struct lab_command *c = lab_find_command(argv[0]);
    if (!c) {
        const struct lab_command *near = NULL;
        int best = 3;
        for (const struct lab_command *k = lab_commands; k->name; k++) {
            int d = distance(argv[0], k->name);
            if (d < best) {
                best = d;
                near = k;
            }
        }
        if (near)
            lab_error("no command '%s'. Did you mean %s? (`help` lists them)",
                      argv[0], near->name);
        else
            lab_error("no command '%s' (`help` lists them)", argv[0]);
        return 2;
    }
    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        char *args[] = {"help", argv[0], NULL};
        return cmd_help(2, args);
    }
    int min, max;
    arg_counts(c->args, &min, &max);
    if (argc - 1 < min || argc - 1 > max) {
        lab_usage(c->name);
        return 2;
    }
    return c->handler(argc, argv);
}

/* ---------------------------------------------------------------- help */

int cmd_help(int argc, char **argv) {
    if (argc > 1) {
        const struct lab_command *c = lab_find_command(argv[1]);
        if (!c) {
            lab_error("no command '%s' (`help` lists them)", argv[1]);
            return 1;
        }
        printf("usage: %s%s%s%s%s\n  %s\n", C_BOLD, c->name,
               *c->args ? " " : "", c->args, C_OFF, c->help);
        if (c->details)
            printf("\n%s\n", c->details);
        return 0;
    }
    const char *group = NULL;
    for (const struct lab_command *c = lab_commands; c->name; c++) {
        if (!group || strcmp(group, c->group) != 0) {
            group = c->group;
            printf("%s%s%s%s\n", c == lab_commands ? "" : "\n", C_BOLD, group,
                   C_OFF);
        }
        char usage[96];
        snprintf(usage, sizeof usage, "%s%s%s", c->name, *c->args ? " " : "",
                 c->args);
        /* 80 columns: a usage too long for its column gets a line. */
        if (strlen(usage) > 28)
            printf("  %s\n  %-28s %s\n", usage, "", c->help);
        else
            printf("  %-28s %s\n", usage, c->help);
    }
    printf("\nN is a lesson number or name (1, 01, echo-once). Tab completes "
           "commands and\narguments; `help CMD` says more. `lab CMD ARGS` "
           "runs one command from a shell.\n");
    return 0;
}

int cmd_quit(int argc, char **argv) {
    (void)argc;
    (void)argv;
    lab_quit_requested = 1;
    return 0;
}

/* ------------------------------------------------------------- completion */

/* The alternatives of the word being completed ("server|client"). */
static char alternatives[256];

static char *complete_alternative(const char *text, int state) {
    static const char *p;
    if (state == 0)
        p = alternatives;
    size_t len = strlen(text);
    while (p && *p) {
        size_t n = strcspn(p, "|");
        const char *word = p;
        p += n;
        if (*p == '|')
            p++;
        if (n >= len && strncmp(word, text, len) == 0)
            return xprintf("%.*s", (int)n, word);
    }
    return NULL;
}

static char *complete_command(const char *text, int state) {
    static const struct lab_command *c;
    if (state == 0)
        c = lab_commands;
    size_t len = strlen(text);
    while (c->name) {
        const struct lab_command *k = c++;
        if (strncmp(k->name, text, len) == 0)
            return xstrdup(k->name);
    }
    return NULL;
}

/* The lesson named on the line, for step completion. */
static struct lesson *step_lesson;

static char *complete_step(const char *text, int state) {
    static int step;
    if (state == 0)
        step = 0;
    int max = step_lesson ? lesson_steps(step_lesson) : 0;
    while (++step <= max) {
        char s[16];
        snprintf(s, sizeof s, "%d", step);
        if (strncmp(s, text, strlen(text)) == 0)
            return xstrdup(s);
    }
    return NULL;
}

static char *complete_host(const char *text, int state) {
    snprintf(alternatives, sizeof alternatives, "127.0.0.1|::1|localhost");
    return complete_alternative(text, state);
}

/* The completer for usage word w (a parameter name, or a|b literals). */
static completer_fn *completer_for(const char *w, char *line_words[],
                                   int nwords) {
    char word[64];
    int optional = w[0] == '[';
    snprintf(word, sizeof word, "%s", w + optional);
    if (optional && strchr(word, ']'))
        *strchr(word, ']') = '\0';
    if (strcmp(word, "FD") == 0)
        return complete_socket_id;
    if (strcmp(word, "OPTION") == 0)
        return complete_sockopt;
    if (strcmp(word, "N") == 0)
        return complete_lesson;
    if (strcmp(word, "N|all") == 0)
        return complete_lesson_or_all;
    if (strcmp(word, "CMD") == 0)
        return complete_command;
    if (strcmp(word, "HOST") == 0)
        return complete_host;
    if (strcmp(word, "J") == 0)
        return complete_job;
    if (strcmp(word, "STEP") == 0) {
        step_lesson = NULL;
        for (int i = 1; i < nwords && !step_lesson; i++)
            for (int k = 0; k < lessons_count(); k++) {
                struct lesson *l = lesson_at(k);
                if (strcmp(line_words[i], l->name) == 0 ||
                    strcmp(line_words[i], l->slug) == 0 ||
                    atoi(line_words[i]) == l->number)
                    step_lesson = l;
            }
        return complete_step;
    }
    /* Lower-case words and options are literals: tcp|udp, --ref. */
    if (islower((unsigned char)word[0]) || word[0] == '-') {
        snprintf(alternatives, sizeof alternatives, "%s", word);
        return complete_alternative;
    }
    return NULL; /* PORT, TEXT, ARGS...: nothing to offer, not files */
}

char **lab_complete(const char *text, int start, int end) {
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    char *before = xprintf("%.*s", start, rl_line_buffer);
    char **words;
    const char *error;
    int n = lab_split(before, &words, &error);
    free(before);
    if (n < 0)
        return NULL; /* inside a quoted TEXT: nothing to complete */
    char **matches = NULL;
    if (n == 0) {
        matches = rl_completion_matches(text, complete_command);
    } else {
        const struct lab_command *c = lab_find_command(words[0]);
        if (c && c->completer) {
            matches = rl_completion_matches(text, c->completer);
        } else if (c) {
            char usage[16][64];
            int nu = usage_words(c->args, usage, 16);
            int index = n - 1; /* which argument is being typed */
            if (index >= nu && nu > 0 && strstr(usage[nu - 1], "..."))
                index = nu - 1;
            completer_fn *f =
                index < nu ? completer_for(usage[index], words, n) : NULL;
            if (f)
                matches = rl_completion_matches(text, f);
        }
    }
    lab_free_argv(words);
    return matches;
}
