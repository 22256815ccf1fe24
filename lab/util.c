/*
 * util.c - the small tools every part of the REPL uses: memory, growing
 * strings, files, the checkout's and the state dir's paths, error
 * messages, child processes (spawn, bounded wait, end), and a JSON reader
 * for the grader's results.json.
 */
#include "core.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- memory */

/* malloc that ends the program on failure (the REPL cannot go on). */
void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("lab: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("lab: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* printf into a new string. */
char *xprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Append n bytes to b, keeping it NUL-terminated. */
void buf_add(struct buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, s, (size_t)n);
    free(s);
}

/* ---------------------------------------------------------------- files */

/* Read a whole file; returns it NUL-terminated, or NULL with errno. */
char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    ssize_t n;
    buf_add(&b, "", 0);
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            free(b.data);
            errno = saved;
            return NULL;
        }
        buf_add(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len)
        *len = b.len;
    return b.data;
}

/* Write all n bytes to fd; 0 or -1. */
static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write path through PATH.tmp-PID and a rename, so a reader never sees
   half a file; returns 0, or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len) {
    char *tmp = xprintf("%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) == 0) {
        free(tmp);
        return 0;
    }
    if (ok)
        saved = errno;
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

/* mkdir -p; returns 0 or -1 with errno. */
int mkdir_p(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---------------------------------------------------------------- paths */

/* Is dir the top of a checkout (it has lessons/ and a Makefile)? */
static int is_checkout(const char *dir) {
    char *lessons = xprintf("%s/lessons", dir);
    char *make = xprintf("%s/Makefile", dir);
    int yes = is_dir(lessons) && is_file(make);
    free(lessons);
    free(make);
    return yes;
}

/* Walk up from dir (modified in place) to a checkout; 1 when found. */
static int find_checkout_above(char *dir) {
    for (;;) {
        if (is_checkout(dir))
            return 1;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return 0;
        *slash = '\0';
    }
}

static char *root_cache;

/* The checkout's top folder: $LAB_ROOT, else the first checkout above
   the binary (build/lab/lab), else above the current folder. */
const char *lab_root(void) {
    if (root_cache)
        return root_cache;
    char path[PATH_MAX];
    const char *env = getenv("LAB_ROOT");
    if (env && *env && realpath(env, path) && is_checkout(path))
        return root_cache = xstrdup(path);
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        if (find_checkout_above(path))
            return root_cache = xstrdup(path);
    }
    if (getcwd(path, sizeof path) && find_checkout_above(path))
        return root_cache = xstrdup(path);
    return NULL;
}

char *root_path(const char *rel) {
    const char *root = lab_root();
    return xprintf("%s/%s", root ? root : ".", rel);
}

static char *state_cache;

/* $XDG_STATE_HOME/socklab, or ~/.local/state/socklab; created on first
   use. A relative XDG_STATE_HOME is ignored, as the spec says. */
const char *lab_state_dir(void) {
    if (state_cache)
        return state_cache;
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        state_cache = xprintf("%s/socklab", xdg);
    else
        state_cache =
            xprintf("%s/.local/state/socklab", home && *home ? home : "/tmp");
    if (mkdir_p(state_cache) != 0)
        lab_error("cannot create %s: %s", state_cache, strerror(errno));
    return state_cache;
}

void util_cleanup(void) {
    free(root_cache);
    free(state_cache);
    root_cache = state_cache = NULL;
}

/* ---------------------------------------------------------------- messages */

void lab_error(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%slab: ", C_RED);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", C_OFF);
}

/* -------------------------------------------------------- child processes */

/* In the child: set up fds and signals, then exec; reports errno on the
   cloexec pipe fd when exec fails. Never returns. */
static void exec_child(char *const argv[], const struct spawn *how, int fd) {
    if (how->new_group)
        setpgid(0, 0);
    if (how->death_signal)
        prctl(PR_SET_PDEATHSIG, how->death_signal);
    int from[3] = {how->in, how->out, how->err};
    for (int i = 0; i < 3; i++)
        if (from[i] == i)
            fcntl(i, F_SETFD, 0); /* keep it across exec */
        else if (from[i] >= 0)
            dup2(from[i], i);
    /* Ignored signals stay ignored across exec: give the defaults back. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTSTP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], argv);
    int e = errno;
    ssize_t ignored = write(fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

pid_t spawn_process(char *const argv[], const struct spawn *how) {
    int report[2];
    if (pipe(report) != 0) {
        lab_error("pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(report[0], F_SETFD, FD_CLOEXEC);
    fcntl(report[1], F_SETFD, FD_CLOEXEC);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        lab_error("fork: %s", strerror(errno));
        close(report[0]);
        close(report[1]);
        return -1;
    }
    if (pid == 0) {
        close(report[0]);
        exec_child(argv, how, report[1]);
    }
    if (how->new_group)
        setpgid(pid, pid); /* both sides, so no race with a signal */
    close(report[1]);
    int e = 0;
    ssize_t n;
    while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        lab_error("cannot run %s: %s", argv[0], strerror(e));
        return -1;
    }
    return pid;
}

/* A pidfd for pid (readable once it exits), or -1 when the kernel has
   none (before Linux 5.3): callers then poll with a tick. */
static int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#else
    (void)pid;
    return -1;
#endif
}

double lab_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) {
    return lab_now();
}

enum wait_result wait_child(pid_t pid, double seconds, int interruptible,
                            int *status) {
    int pidfd = open_pidfd(pid);
    double deadline = seconds < 0 ? 0 : now() + seconds;
    enum wait_result result = WAIT_TIMEOUT;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            if (status)
                *status = r == pid ? st : 0;
            result = WAIT_EXITED;
            break;
        }
        if (interruptible && (lab_interrupted || lab_quit_requested)) {
            result = WAIT_INTERRUPTED;
            break;
        }
        int timeout = -1;
        if (seconds >= 0) {
            double left = deadline - now();
            if (left <= 0)
                break;
            timeout = (int)(left * 1000) + 1;
        }
        struct pollfd fds[64];
        int n = 0;
        if (pidfd >= 0)
            fds[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        int njobs = jobs_pollfds(fds + n, 64 - n);
        int tick = pidfd < 0 ? 20 : jobs_poll_timeout();
        if (tick >= 0 && (timeout < 0 || tick < timeout))
            timeout = tick;
        if (poll(fds, (nfds_t)(n + njobs), timeout) > 0)
            jobs_handle(fds + n, njobs);
    }
    if (pidfd >= 0)
        close(pidfd);
    return result;
}

/* Every descendant of pid (children of children...), from the parent
   pids in /proc/N/stat; returns how many it put in out. */
static int descendants(pid_t pid, pid_t *out, int max) {
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    pid_t *pids = NULL, *parents = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(proc))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        char *text = read_file(path, NULL);
        /* pid (comm) state ppid ...: comm may hold spaces and parens. */
        char *close = text ? strrchr(text, ')') : NULL;
        int ppid;
        if (close && sscanf(close + 1, " %*c %d", &ppid) == 1) {
            if (count == cap) {
                cap = cap ? cap * 2 : 256;
                pids = xrealloc(pids, cap * sizeof *pids);
                parents = xrealloc(parents, cap * sizeof *parents);
            }
            pids[count] = (pid_t)atoi(e->d_name);
            parents[count++] = (pid_t)ppid;
        }
        free(text);
    }
    closedir(proc);
    int n = 0;
    out[n++] = pid; /* a work list: out[0..n) is what we found so far */
    for (int i = 0; i < n && n < max; i++)
        for (size_t k = 0; k < count && n < max; k++)
            if (parents[k] == out[i])
                out[n++] = pids[k];
    free(pids);
    free(parents);
    /* Drop pid itself from the front. */
    memmove(out, out + 1, (size_t)(n - 1) * sizeof *out);
    return n - 1;
}

void end_child(pid_t pid, int sig, double grace, int *status) {
    /* Who it started, before it can go and leave them to init: the
       grader's bats runs are in sessions of their own. */
    static pid_t kids[4096];
    int n = descendants(pid, kids, 4096);
    pid_t pgid = getpgid(pid);
    kill(pgid == pid ? -pid : pid, sig);
    int st = 0;
    if (wait_child(pid, grace, 0, &st) != WAIT_EXITED) {
        if (pgid == pid)
            kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        wait_child(pid, 5, 0, &st);
    }
    /* Whatever of its own it left behind (never our own group). */
    if (pgid == pid)
        kill(-pid, SIGKILL);
    for (int i = 0; i < n; i++) {
        pid_t g = getpgid(kids[i]);
        if (g > 1 && g != getpgrp())
            kill(-g, SIGKILL);
        kill(kids[i], SIGKILL);
    }
    if (status)
        *status = st;
}

int capture(char *const argv[], char **out, size_t *len, int merge,
            double seconds) {
    int p[2];
    *out = NULL;
    if (len)
        *len = 0;
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    struct spawn how = {devnull, p[1], merge ? p[1] : devnull, 1, SIGKILL};
    pid_t pid = spawn_process(argv, &how);
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    struct buf b = {0};
    buf_add(&b, "", 0);
    double deadline = now() + seconds;
    for (;;) {
        struct pollfd fd = {.fd = p[0], .events = POLLIN};
        double left = deadline - now();
        if (left <= 0 || lab_interrupted)
            break;
        int r = poll(&fd, 1, (int)(left * 1000) + 1);
        if (r <= 0)
            continue;
        char chunk[8192];
        ssize_t n = read(p[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf_add(&b, chunk, (size_t)n);
    }
    close(p[0]);
    int status = 0;
    if (wait_child(pid, deadline - now(), 1, &status) != WAIT_EXITED)
        end_child(pid, SIGTERM, 1, &status);
    *out = b.data;
    if (len)
        *len = b.len;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* The name of a signal, for messages. */
static const char *signal_name(int sig) {
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"},
        {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGBUS, "SIGBUS"},
        {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return "?";
}

const char *describe_status(int status) {
    static char text[64];
    if (WIFEXITED(status))
        snprintf(text, sizeof text, "status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(text, sizeof text, "signal %d (%s)", WTERMSIG(status),
                 signal_name(WTERMSIG(status)));
    else
        snprintf(text, sizeof text, "wait status %d", status);
    return text;
}

/* ---------------------------------------------------------------- JSON */

/* A recursive-descent reader for the JSON the grader writes: objects,
   arrays, strings (with \u escapes), numbers, true, false, null. */
struct json_reader {
    const char *p;
    int depth;
};

static void skip_space(struct json_reader *r) {
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static struct json *json_value(struct json_reader *r);

/* Append code point c to b as UTF-8. */
static void put_utf8(struct buf *b, unsigned c) {
    char s[4];
    size_t n;
    if (c < 0x80) {
        s[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        s[0] = (char)(0xC0 | (c >> 6));
        s[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        s[0] = (char)(0xE0 | (c >> 12));
        s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | (c >> 18));
        s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    buf_add(b, s, n);
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Read a string at r->p (after the opening quote); NULL when bad. */
static char *json_string(struct json_reader *r) {
    struct buf b = {0};
    buf_add(&b, "", 0);
    for (;;) {
        char c = *r->p++;
        if (c == '"')
            return b.data;
        if (c == '\0')
            break;
        if (c != '\\') {
            buf_add(&b, &c, 1);
            continue;
        }
        c = *r->p++;
        const char *plain = strchr("\"\\/bfnrt", c);
        if (c && plain) {
            char out = "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"];
            buf_add(&b, &out, 1);
        } else if (c == 'u') {
            unsigned u;
            if (hex4(r->p, &u) != 0)
                break;
            r->p += 4;
            if (u >= 0xD800 && u < 0xDC00 && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                unsigned lo;
                if (hex4(r->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                }
            }
            put_utf8(&b, u);
        } else {
            break;
        }
    }
    free(b.data);
    return NULL;
}

static struct json *json_new(enum json_type type) {
    struct json *j = xmalloc(sizeof *j);
    memset(j, 0, sizeof *j);
    j->type = type;
    return j;
}

/* Read the items of an array or object (after its opening bracket). */
static struct json *json_container(struct json_reader *r, int object) {
    struct json *j = json_new(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';
    skip_space(r);
    if (*r->p == close) {
        r->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_space(r);
        if (object) {
            if (*r->p != '"')
                goto bad;
            r->p++;
            if (!(key = json_string(r)))
                goto bad;
            skip_space(r);
            if (*r->p++ != ':') {
                free(key);
                goto bad;
            }
        }
        struct json *v = json_value(r);
        if (!v) {
            free(key);
            goto bad;
        }
        j->items = xrealloc(j->items, (j->count + 1) * sizeof *j->items);
        j->items[j->count] = v;
        if (object) {
            j->keys = xrealloc(j->keys, (j->count + 1) * sizeof *j->keys);
            j->keys[j->count] = key;
        }
        j->count++;
        skip_space(r);
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ == close)
            return j;
        goto bad;
    }
bad:
    json_free(j);
    return NULL;
}

static struct json *json_value(struct json_reader *r) {
    skip_space(r);
    if (++r->depth > 64)
        return NULL;
    struct json *j = NULL;
    const char *p = r->p;
    if (*p == '{' || *p == '[') {
        r->p++;
        j = json_container(r, *p == '{');
    } else if (*p == '"') {
        r->p++;
        char *s = json_string(r);
        if (s) {
            j = json_new(JSON_STRING);
            j->string = s;
        }
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        j = json_new(JSON_BOOL);
        j->number = *p == 't';
        r->p += *p == 't' ? 4 : 5;
    } else if (strncmp(p, "null", 4) == 0) {
        j = json_new(JSON_NULL);
        r->p += 4;
    } else if (*p == '-' || isdigit((unsigned char)*p)) {
        char *end;
        double v = strtod(p, &end);
        if (end != p) {
            j = json_new(JSON_NUMBER);
            j->number = v;
            r->p = end;
        }
    }
    r->depth--;
    return j;
}

struct json *json_parse(const char *text) {
    struct json_reader r = {text, 0};
    struct json *j = json_value(&r);
    skip_space(&r);
    if (j && *r.p != '\0') {
        json_free(j);
        return NULL;
    }
    return j;
}

void json_free(struct json *j) {
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++) {
        json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
    free(j);
}

const struct json *json_get(const struct json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_str(const struct json *j, const char *key) {
    const struct json *v = json_get(j, key);
    return v && v->type == JSON_STRING ? v->string : NULL;
}

double json_num(const struct json *j, const char *key) {
    const struct json *v = json_get(j, key);
    return v && (v->type == JSON_NUMBER || v->type == JSON_BOOL) ? v->number
                                                                 : 0;
}
