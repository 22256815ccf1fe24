/*
 * cmd/trace.c - trace N server|client [--ref] [ARGS...]: the student's
 * program run under strace, its socket calls printed the way the
 * playground prints the calls a student makes by hand:
 *
 *   socket(AF_INET, SOCK_STREAM, 0) = 3
 *   connect(3, 127.0.0.1:4000) = 0
 *   send(3, "hello\n", 6, 0) = 6
 *   recv(3, 1024) = 6 "hello\n"
 *   close(3) = 0
 *
 * strace -f follows threads; its lines (`-o` on a pipe given as fd 3)
 * are rewritten one by one: addresses as HOST:PORT, send/recv for the
 * sendto/recvfrom that libc's send()/recv() make, and only the calls on
 * the program's Internet sockets (libc's own netlink and Unix sockets,
 * and reads and writes of files and the terminal, are left out).
 * check N --trace prints the traces the grader kept the same way.
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_ARGS 8
#define MAX_PENDING 32

/* What the rewriting remembers between lines. */
struct tracer {
    char sock[MAX_FD]; /* 1: an Internet socket of the program */
    long first_pid;    /* lines of other pids (threads) say [pid N] */
    struct {
        long pid;
        char *head; /* the start of an <unfinished ...> call */
    } pending[MAX_PENDING];
    struct buf part; /* a line not yet ended */
    int shown;
    const char *indent;
};

/* ---------------------------------------------------------------- parsing */

/* Skip a quoted string starting at p (on the quote); returns the byte
   after its closing quote. */
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

/* Split the text between a call's parentheses at its top-level commas
   (outside strings, braces and brackets): writes at most MAX_ARGS
   malloc'ed words into args; returns how many, and sets *end to the
   closing parenthesis (NULL when there is none). */
static int split_args(const char *p, char **args, const char **end) {
    int n = 0, depth = 0;
    const char *start = p;
    *end = NULL;
    while (*p) {
        if (*p == '"') {
            p = skip_string(p);
            continue;
        }
        if (*p == '{' || *p == '[' || *p == '(')
            depth++;
        else if ((*p == '}' || *p == ']' || *p == ')') && depth > 0)
            depth--;
        else if ((*p == ',' || *p == ')') && depth == 0) {
            if (n < MAX_ARGS && (p > start || *p == ','))
                args[n++] = xprintf("%.*s", (int)(p - start), start);
            if (*p == ')') {
                *end = p;
                return n;
            }
            start = p + 2; /* ", " */
            p++;
            continue;
        }
        p++;
    }
    return n;
}

/* The quoted text after key in s ("sin_addr=inet_addr(\"1.2.3.4\")"),
   copied into out (size bytes); 0 when there is none. */
static int quoted_after(const char *s, const char *key, char *out, size_t size) {
    const char *k = strstr(s, key);
    const char *q = k ? strchr(k, '"') : NULL;
    const char *e = q ? strchr(q + 1, '"') : NULL;
    if (!e)
        return 0;
    snprintf(out, size, "%.*s", (int)(e - q - 1), q + 1);
    return 1;
}

/* An address as strace writes it ({sa_family=AF_INET, sin_port=htons(
   4000), sin_addr=inet_addr("127.0.0.1")}) as the playground does
   (127.0.0.1:4000, [::1]:4000); other text as it is (malloc'ed). */
static char *address(const char *arg) {
    char ip[64];
    const char *port = strstr(arg, "port=htons(");
    if (strncmp(arg, "{sa_family=AF_INET,", 19) == 0 && port &&
        quoted_after(arg, "sin_addr=", ip, sizeof ip))
        return xprintf("%s:%ld", ip, strtol(port + 11, NULL, 10));
    if (strncmp(arg, "{sa_family=AF_INET6,", 20) == 0 && port &&
        quoted_after(arg, "inet_pton(", ip, sizeof ip))
        return xprintf("[%s]:%ld", ip, strtol(port + 11, NULL, 10));
    if (strncmp(arg, "{sa_family=AF_UNIX", 18) == 0 &&
        quoted_after(arg, "sun_path=", ip, sizeof ip))
        return xprintf("%s", ip);
    return xstrdup(arg);
}

/* A string strace wrote ("\x68\x69\n"..., with -x every byte in hex once
   one is not printable) in the playground's escapes: printable ASCII as
   it is, \n \r \t \" \\, other bytes \xHH; strace's "..." (cut) kept.
   Other text as it is (malloc'ed). */
static char *readable(const char *arg) {
    if (arg[0] != '"')
        return xstrdup(arg);
    struct buf b = {0};
    buf_puts(&b, "\"");
    const char *p = arg + 1;
    while (*p && *p != '"') {
        unsigned c = (unsigned char)*p++;
        if (c == '\\' && *p) {
            char e = *p++;
            if (e == 'x' && p[0] && p[1]) {
                char hex[3] = {p[0], p[1], 0};
                c = (unsigned)strtoul(hex, NULL, 16);
                p += 2;
            } else if (e >= '0' && e <= '7') {
                c = (unsigned)(e - '0');
                for (int i = 0; i < 2 && *p >= '0' && *p <= '7'; i++)
                    c = c * 8 + (unsigned)(*p++ - '0');
            } else {
                c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t'
                    : e == 'v' ? '\v' : e == 'f' ? '\f' : (unsigned char)e;
            }
        }
        if (c == '\n')
            buf_puts(&b, "\\n");
        else if (c == '\r')
            buf_puts(&b, "\\r");
        else if (c == '\t')
            buf_puts(&b, "\\t");
        else if (c == '"' || c == '\\')
            buf_printf(&b, "\\%c", c);
        else if (c >= 32 && c < 127)
            buf_printf(&b, "%c", c);
        else
            buf_printf(&b, "\\x%02x", c);
    }
    buf_puts(&b, *p ? p : "\""); /* the closing quote, and any "..." */
    return b.data;
}

/* ---------------------------------------------------------------- rewriting */

/* The fd a call works on (its first argument), or -1. */
static int fd_arg(int n, char **args) {
    char *end;
    long fd = n > 0 ? strtol(args[0], &end, 10) : -1;
    return n > 0 && !*end && fd >= 0 && fd < MAX_FD ? (int)fd : -1;
}

/* Does name (the call) belong to a socket the trace shows? Notes new
   sockets and forgets closed ones. */
static int worth_showing(struct tracer *t, const char *name, int n,
                         char **args, long result) {
    int fd = fd_arg(n, args);
    if (strcmp(name, "socket") == 0) {
        int inet = n > 0 && (strcmp(args[0], "AF_INET") == 0 ||
                             strcmp(args[0], "AF_INET6") == 0);
        if (result >= 0 && result < MAX_FD)
            t->sock[result] = (char)inet;
        return inet;
    }
    if (fd < 0 || !t->sock[fd])
        return 0;
    if ((strcmp(name, "accept") == 0 || strcmp(name, "accept4") == 0) &&
        result >= 0 && result < MAX_FD)
        t->sock[result] = 1;
    if (strcmp(name, "close") == 0)
        t->sock[fd] = 0;
    return 1;
}

/* Write the call name(args) = result the playground's way into b. */
static void rewrite(struct buf *b, const char *name, int n, char **args,
                    const char *result) {
    if (n >= 2 && args[1][0] == '"') { /* the data of send, recv, read... */
        char *data = readable(args[1]);
        free(args[1]);
        args[1] = data;
    }
    long r = strtol(result, NULL, 10);
    int fail = result[0] == '-';
    if (strcmp(name, "socket") == 0 && n == 3) {
        const char *proto = strcmp(args[2], "IPPROTO_IP") == 0 ? "0" : args[2];
        buf_printf(b, "socket(%s, %s, %s) = %s", args[0], args[1], proto,
                   result);
    } else if ((strcmp(name, "connect") == 0 || strcmp(name, "bind") == 0) &&
               n >= 2) {
        char *a = address(args[1]);
        buf_printf(b, "%s(%s, %s) = %s", name, args[0], a, result);
        free(a);
    } else if (strncmp(name, "accept", 6) == 0 && n >= 2 && !fail &&
               args[1][0] == '{') {
        char *a = address(args[1]);
        buf_printf(b, "%s(%s) = %s (peer %s)", name, args[0], result, a);
        free(a);
    } else if (strncmp(name, "accept", 6) == 0) {
        buf_printf(b, "%s(%s) = %s", name, args[0], result);
    } else if (strcmp(name, "sendto") == 0 && n >= 5 &&
               strcmp(args[4], "NULL") == 0) {
        buf_printf(b, "send(%s, %s, %s, %s) = %s", args[0], args[1], args[2],
                   args[3], result);
    } else if (strcmp(name, "sendto") == 0 && n >= 5) {
        char *a = address(args[4]);
        buf_printf(b, "sendto(%s, %s, %s, %s, %s) = %s", args[0], args[1],
                   args[2], args[3], a, result);
        free(a);
    } else if ((strcmp(name, "recvfrom") == 0 || strcmp(name, "read") == 0) &&
               n >= 3) {
        const char *shown = strcmp(name, "read") == 0 ? "read"
                            : n >= 5 && strcmp(args[4], "NULL") != 0
                                ? "recvfrom"
                                : "recv";
        buf_printf(b, "%s(%s, %s) = %s", shown, args[0], args[2], result);
        if (!fail && r > 0)
            buf_printf(b, " %s", args[1]);
        else if (!fail && r == 0)
            buf_puts(b, " (end of stream)");
        if (!fail && r > 0 && strcmp(shown, "recvfrom") == 0) {
            char *a = address(args[4]);
            buf_printf(b, " from %s", a);
            free(a);
        }
    } else if (strcmp(name, "setsockopt") == 0 && n >= 4) {
        const char *v = args[3];
        size_t len = strlen(v);
        if (len > 2 && v[0] == '[' && v[len - 1] == ']')
            buf_printf(b, "setsockopt(%s, %s, %s, %.*s) = %s", args[0], args[1],
                       args[2], (int)len - 2, v + 1, result);
        else
            buf_printf(b, "setsockopt(%s, %s, %s, %s) = %s", args[0], args[1],
                       args[2], v, result);
    } else if ((strcmp(name, "getsockname") == 0 ||
                strcmp(name, "getpeername") == 0) &&
               n >= 2) {
        char *a = address(args[1]);
        buf_printf(b, "%s(%s) = %s", name, args[0], result);
        if (!fail)
            buf_printf(b, " (%s)", a);
        free(a);
    } else if (strcmp(name, "write") == 0 || strcmp(name, "close") == 0 ||
               strcmp(name, "listen") == 0 || strcmp(name, "shutdown") == 0) {
        buf_printf(b, "%s(", name);
        for (int i = 0; i < n; i++)
            buf_printf(b, "%s%s", i ? ", " : "", args[i]);
        buf_printf(b, ") = %s", result);
    } else {
        buf_printf(b, "%s(%s, ...) = %s", name, n ? args[0] : "", result);
    }
}

/* The rest of a call that strace cut in two (<unfinished ...> in one
   thread, <... NAME resumed> later): keeps a start, joins an end. Returns
   the whole call (malloc'ed), or NULL when it is a start or an orphan. */
static char *join_pending(struct tracer *t, long pid, const char *text) {
    const char *cut = strstr(text, " <unfinished ...>");
    if (cut) {
        for (int i = 0; i < MAX_PENDING; i++)
            if (!t->pending[i].head) {
                t->pending[i].pid = pid;
                t->pending[i].head = xprintf("%.*s", (int)(cut - text), text);
                break;
            }
        return NULL;
    }
    if (strncmp(text, "<... ", 5) != 0)
        return xstrdup(text);
    const char *rest = strstr(text, " resumed>");
    for (int i = 0; rest && i < MAX_PENDING; i++)
        if (t->pending[i].head && t->pending[i].pid == pid) {
            char *whole = xprintf("%s%s", t->pending[i].head, rest + 9);
            free(t->pending[i].head);
            t->pending[i].head = NULL;
            return whole;
        }
    return NULL;
}

/* Rewrite one line of strace's -f output and print it when it is a call
   on one of the program's sockets. */
static void trace_line(struct tracer *t, const char *line) {
    char *end;
    long pid = strtol(line, &end, 10);
    if (end == line)
        return;
    if (!t->first_pid)
        t->first_pid = pid;
    char *call = join_pending(t, pid, end + strspn(end, " "));
    if (!call)
        return;
    size_t name_len = strcspn(call, "(");
    char *args[MAX_ARGS];
    const char *close = NULL;
    int n = call[name_len] == '(' ? split_args(call + name_len + 1, args, &close)
                                  : 0;
    const char *eq = close ? strstr(close, "= ") : NULL;
    if (eq) {
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)name_len, call);
        const char *result = eq + 2;
        if (worth_showing(t, name, n, args, strtol(result, NULL, 10))) {
            struct buf b = {0};
            buf_puts(&b, t->indent);
            if (pid != t->first_pid)
                buf_printf(&b, "[pid %ld] ", pid);
            rewrite(&b, name, n, args, result);
            buf_puts(&b, "\n");
            lab_async_print(b.data);
            free(b.data);
            t->shown++;
        }
    }
    for (int i = 0; i < n; i++)
        free(args[i]);
    free(call);
}

/* Take len bytes of strace output; print each whole line. */
static void trace_feed(struct tracer *t, const char *data, size_t len) {
    buf_add(&t->part, data, len);
    char *start = t->part.data, *nl;
    while ((nl = memchr(start, '\n', t->part.len - (size_t)(start - t->part.data)))) {
        *nl = '\0';
        trace_line(t, start);
        start = nl + 1;
    }
    size_t rest = t->part.len - (size_t)(start - t->part.data);
    memmove(t->part.data, start, rest);
    t->part.len = rest;
}

/* Free what the tracer holds. */
static void trace_free(struct tracer *t) {
    for (int i = 0; i < MAX_PENDING; i++)
        free(t->pending[i].head);
    free(t->part.data);
}

int trace_print_file(const char *path, const char *indent) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return -1;
    struct tracer *t = xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->indent = indent;
    trace_feed(t, text, len);
    trace_feed(t, "\n", 1);
    int shown = t->shown;
    trace_free(t);
    free(t);
    free(text);
    return shown;
}

/* ---------------------------------------------------------------- running */

/* The strace command line for program argv, its output to the file
   out (a FIFO: not a fd of its own, which the program would inherit and
   its first socket would be 4, not 3 as in the lessons). */
static char **strace_argv(char **prog, char *out) {
    char *head[] = {"strace", "-f", "-qq", "-x", "-s", "256", "-e",
                    "trace=network,close,read,write", "-o", out, "--"};
    size_t nh = sizeof head / sizeof head[0], np = 0;
    while (prog[np])
        np++;
    char **argv = xmalloc((nh + np + 1) * sizeof *argv);
    memcpy(argv, head, sizeof head);
    memcpy(argv + nh, prog, (np + 1) * sizeof *argv);
    return argv;
}

/* The loop's handler of strace's pipe. */
static void on_trace(int fd, short revents, void *data) {
    (void)revents;
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0)
        trace_feed(data, chunk, (size_t)n);
}

/* Is prog on PATH? */
static int on_path(const char *prog) {
    char *argv[] = {"sh", "-c", "command -v \"$0\" >/dev/null", (char *)prog,
                    NULL};
    char *out;
    int rc = capture(argv, &out, NULL, 0, 10);
    free(out);
    return rc == 0;
}

/* Run prog (argv) under strace, showing its calls as they come, until it
   exits, bound seconds pass or Ctrl-C; returns its wait status (or -1). */
static int run_traced(char **prog, double bound) {
    char dir[] = "/tmp/lab-trace-XXXXXX";
    if (!mkdtemp(dir)) {
        lab_error("mkdtemp: %s", strerror(errno));
        return -1;
    }
    char *fifo = xprintf("%s/strace", dir);
    /* Read and write: open at once, and no end of file before strace
       opens it (nor after it closes: the drain below reads what is left). */
    int fd = mkfifo(fifo, 0600) == 0
                 ? open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
                 : -1;
    if (fd < 0) {
        lab_error("%s: %s", fifo, strerror(errno));
        unlink(fifo);
        rmdir(dir);
        free(fifo);
        return -1;
    }
    int devnull =
        lab_mode == MODE_SCRIPT ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    char **argv = strace_argv(prog, fifo);
    struct spawn how = {devnull, -1, -1, 1, SIGTERM, 0};
    pid_t pid = spawn_process(argv, &how);
    free(argv);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(fd);
        unlink(fifo);
        rmdir(dir);
        free(fifo);
        return -1;
    }
    struct tracer *t = xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    t->indent = "";
    loop_add_fd(fd, POLLIN, on_trace, t);
    int st = 0;
    enum wait_result w = wait_child(pid, bound, 1, &st);
    if (w != WAIT_EXITED) {
        end_child(pid, w == WAIT_INTERRUPTED ? SIGINT : SIGTERM, 1, &st);
        if (w == WAIT_TIMEOUT)
            lab_error("the program ran %g s and was stopped "
                      "(LAB_RUN_TIMEOUT)", bound);
    }
    for (;;) {
        char chunk[8192]; /* what strace wrote last */
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            break;
        trace_feed(t, chunk, (size_t)n);
    }
    trace_feed(t, "\n", 1);
    loop_del_fd(fd);
    close(fd);
    unlink(fifo);
    rmdir(dir);
    free(fifo);
    if (!t->shown)
        printf("%s(no socket calls)%s\n", C_DIM, C_OFF);
    trace_free(t);
    free(t);
    return st;
}

static int cmd_trace(int argc, char **argv) {
    const char *prog = argv[2];
    if (strcmp(prog, "server") != 0 && strcmp(prog, "client") != 0) {
        lab_usage(argv[0]);
        return 2;
    }
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    if (!on_path("strace")) {
        lab_error("trace needs strace: apt-get install strace");
        return 1;
    }
    const char *impl = lab_opt("--ref") ? "solutions" : "lessons";
    char *src = xprintf("%s/%s/%s/%s.c", lab_root(), impl, l->name, prog);
    int exists = is_file(src);
    free(src);
    if (!exists) {
        lab_error("%s/%s has no %s.c", impl, l->name, prog);
        return 1;
    }
    if (build_program(impl, l->name, prog) != 0)
        return 1;
    char *bin = xprintf("%s/build/%s/%s/%s", lab_root(), impl, l->name, prog);
    char **args = xmalloc((size_t)(argc - 1) * sizeof *args);
    args[0] = bin;
    for (int i = 3; i <= argc; i++)
        args[i - 2] = argv[i];
    const char *env = getenv("LAB_RUN_TIMEOUT");
    double bound = env && atof(env) > 0 ? atof(env) : 60;
    printf("%s(tracing build/%s/%s/%s: its socket calls, as the playground "
           "shows them; Ctrl-C stops it)%s\n",
           C_DIM, impl, l->name, prog, C_OFF);
    fflush(stdout);
    int st = run_traced(args, bound);
    free(args);
    free(bin);
    if (st < 0)
        return 1;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        printf("%s(it exited with %s)%s\n", C_DIM, describe_status(st), C_OFF);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the table */

#define WINDOWS "Windows on your program (never part of a grade)"

static const struct lab_command rows[] = {
    {"trace", "N server|client [--ref] [ARGS...]", cmd_trace,
     "run your program under strace: its socket calls", NULL, WINDOWS,
     "Runs build/lessons/NN-slug/PROG (--ref: the reference) under strace\n"
     "and prints each socket call it makes the way the playground prints\n"
     "yours: `connect(3, 127.0.0.1:4000) = 0`, `recv(4, 1024) = 6 \"hi\\n\"`.\n"
     "Calls of other threads say [pid N]. It runs in the foreground for at\n"
     "most LAB_RUN_TIMEOUT seconds (60); Ctrl-C stops it. `check N --trace`\n"
     "adds the calls of a failing step's programs to its transcript."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void trace_register(void) {
    lab_register(rows);
}
