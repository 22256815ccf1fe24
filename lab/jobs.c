/*
 * jobs.c - run, jobs, stop: the student's programs run from the REPL.
 *
 * `run N server` builds the program with make, then starts it in the
 * background as job 1, 2, ... in its own process group (so Ctrl-C at the
 * prompt does not reach it), its output shown line by line, prefixed [J],
 * as it arrives (above the prompt, without mangling the line being
 * typed). Its stdout is a pseudo-terminal, so that printf output comes
 * line by line as it would in a terminal of its own (through a pipe it
 * would wait in stdio's buffer until the program exits); its stderr is a
 * pipe, shown in red. `run N client` runs in the
 * foreground, bounded by LAB_RUN_TIMEOUT seconds (default 60), and Ctrl-C
 * stops it. --ref runs the reference program from solutions/ instead.
 * Every job ends when the REPL does (SIGTERM, then SIGKILL).
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, ptsname */

#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 16
#define STOP_GRACE 2.0  /* seconds between SIGTERM and SIGKILL */
#define LISTEN_WAIT 5.0 /* seconds run waits for "listening on" */
#define LINE_MAX_SHOWN 4096

struct job {
    int id;
    pid_t pid;
    int pidfd;          /* readable once it exits; -1: poll with a tick */
    int fd[2];          /* its stdout and stderr; -1 once at end of file */
    struct buf part[2]; /* a line not yet ended */
    char *command;      /* what it runs, for messages */
    char *listening;    /* its last "listening on ..." line */
    int exited, status;
    int stopping; /* we asked it to end: say "stopped", not "exited" */
};

static struct job *jobs[MAX_JOBS];

/* What each pollfd of jobs_pollfds() belongs to. */
static struct {
    struct job *job;
    int what; /* 0 stdout, 1 stderr, 2 pidfd */
} slots[3 * MAX_JOBS];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- output */

/* Show one line the job printed (stderr in red). */
static void show_line(struct job *j, int which, const char *line, size_t len) {
    if (len && line[len - 1] == '\r')
        len--;
    char *text =
        xprintf("%s[%d]%s %s%.*s%s\n", C_BLUE, j->id, C_OFF, which ? C_RED : "",
                (int)len, line, which ? C_OFF : "");
    lab_async_print(text);
    free(text);
    if (which == 0 && len > 13 && strncmp(line, "listening on ", 13) == 0) {
        free(j->listening);
        j->listening = xprintf("%.*s", (int)len, line);
    }
}

/* Read what is waiting on the job's fd which; show whole lines. At end of
   file, show the rest and close it. */
static void read_output(struct job *j, int which) {
    char chunk[4096];
    for (;;) {
        ssize_t n = read(j->fd[which], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EIO)
            n = 0; /* a pseudo-terminal whose other side is all closed */
        if (n < 0)
            return; /* EAGAIN: all read for now */
        struct buf *p = &j->part[which];
        if (n == 0) {
            if (p->len)
                show_line(j, which, p->data, p->len);
            p->len = 0;
            close(j->fd[which]);
            j->fd[which] = -1;
            return;
        }
        buf_add(p, chunk, (size_t)n);
        char *start = p->data, *nl;
        while ((nl = memchr(start, '\n', p->len - (size_t)(start - p->data)))) {
            show_line(j, which, start, (size_t)(nl - start));
            start = nl + 1;
        }
        size_t rest = p->len - (size_t)(start - p->data);
        if (rest >= LINE_MAX_SHOWN) { /* a very long line: show it cut */
            show_line(j, which, start, rest);
            rest = 0;
        }
        memmove(p->data, start, rest);
        p->len = rest;
    }
}

/* Free a job that is gone. */
static void free_job(struct job *j) {
    for (int i = 0; i < 2; i++) {
        if (j->fd[i] >= 0)
            close(j->fd[i]);
        free(j->part[i].data);
    }
    if (j->pidfd >= 0)
        close(j->pidfd);
    for (int i = 0; i < MAX_JOBS; i++)
        if (jobs[i] == j)
            jobs[i] = NULL;
    free(j->command);
    free(j->listening);
    free(j);
}

/* Reap the job if it exited: show its last output and its end, free it.
   Returns 1 when it is gone. */
static int reap(struct job *j) {
    int st;
    pid_t r = waitpid(j->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno != ECHILD))
        return 0;
    j->exited = 1;
    j->status = r == j->pid ? st : 0;
    for (int i = 0; i < 2; i++)
        if (j->fd[i] >= 0)
            read_output(j, i); /* what is left in the pipe */
    char *text;
    if (j->stopping)
        text =
            xprintf("%s[%d] stopped%s %s\n", C_BLUE, j->id, C_OFF, j->command);
    else
        text =
            xprintf("%s[%d] exited with %s%s %s\n",
                    WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0 ? C_BLUE
                                                                        : C_RED,
                    j->id, describe_status(j->status), C_OFF, j->command);
    lab_async_print(text);
    free(text);
    free_job(j);
    return 1;
}

int jobs_pollfds(struct pollfd *fds, int max) {
    int n = 0;
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *j = jobs[i];
        if (!j)
            continue;
        int fd3[3] = {j->fd[0], j->fd[1], j->pidfd};
        for (int w = 0; w < 3; w++)
            if (fd3[w] >= 0 && n < max) {
                fds[n] = (struct pollfd){.fd = fd3[w], .events = POLLIN};
                slots[n].job = j;
                slots[n].what = w;
                n++;
            }
    }
    return n;
}

int jobs_poll_timeout(void) {
    for (int i = 0; i < MAX_JOBS; i++)
        if (jobs[i] && jobs[i]->pidfd < 0)
            return 250;
    return -1;
}

void jobs_handle(const struct pollfd *fds, int n) {
    for (int i = 0; i < n; i++) {
        struct job *j = slots[i].job;
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        int still = 0;
        for (int k = 0; k < MAX_JOBS; k++)
            still |= jobs[k] == j;
        if (!still)
            continue; /* reaped through an earlier slot */
        if (slots[i].what < 2 && j->fd[slots[i].what] == fds[i].fd)
            read_output(j, slots[i].what);
    }
    for (int k = 0; k < MAX_JOBS; k++)
        if (jobs[k])
            reap(jobs[k]);
}

void jobs_drain(void) {
    struct pollfd fds[3 * MAX_JOBS];
    int n = jobs_pollfds(fds, 3 * MAX_JOBS);
    if (n > 0 && poll(fds, (nfds_t)n, 0) > 0)
        jobs_handle(fds, n);
    else
        jobs_handle(fds, 0); /* still reap the ones with no pidfd */
}

/* Show the job's output until it is gone or until the deadline (seconds
   from now); returns 1 when it is gone. */
static int follow(int id, double seconds, int interruptible) {
    double deadline = now() + seconds;
    for (;;) {
        struct job *j = NULL;
        for (int k = 0; k < MAX_JOBS; k++)
            if (jobs[k] && jobs[k]->id == id)
                j = jobs[k];
        if (!j)
            return 1;
        double left = deadline - now();
        if (left <= 0 || (interruptible && lab_interrupted))
            return 0;
        struct pollfd fds[3 * MAX_JOBS];
        int n = jobs_pollfds(fds, 3 * MAX_JOBS);
        int tick = jobs_poll_timeout();
        int ms = (int)(left * 1000) + 1;
        if (tick >= 0 && tick < ms)
            ms = tick;
        if (poll(fds, (nfds_t)n, ms) >= 0 || errno != EINTR)
            jobs_handle(fds, n);
    }
}

/* End job j: SIGTERM to its group, SIGKILL after STOP_GRACE. */
static void stop_job(struct job *j) {
    int id = j->id;
    pid_t pid = j->pid;
    j->stopping = 1;
    kill(-pid, SIGTERM);
    if (!follow(id, STOP_GRACE, 0)) {
        kill(-pid, SIGKILL);
        follow(id, 5, 0);
    }
}

void jobs_end_all(void) {
    jobs_drain(); /* a job that ended by itself says so, not "stopped" */
    for (int i = 0; i < MAX_JOBS; i++)
        if (jobs[i]) {
            jobs[i]->stopping = 1;
            kill(-jobs[i]->pid, SIGTERM);
        }
    for (int i = 0; i < MAX_JOBS; i++)
        if (jobs[i])
            stop_job(jobs[i]);
}

/* ---------------------------------------------------------------- starting */

/* Build build/IMPL/NAME/PROG with make; 0 when it is ready. */
static int build_program(const char *impl, const char *name, const char *prog) {
    char *build = root_path("build");
    char *target = xprintf("%s/%s/%s/%s", build, impl, name, prog);
    char *build_arg = xprintf("BUILD=%s", build);
    char *argv[] = {"make",
                    "-s",
                    "--no-print-directory",
                    "-C",
                    (char *)lab_root(),
                    build_arg,
                    target,
                    NULL};
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct spawn how = {devnull, -1, -1, 1, SIGTERM};
    pid_t pid = spawn_process(argv, &how);
    if (devnull >= 0)
        close(devnull);
    int st = -1, ok = 0;
    if (pid > 0) {
        enum wait_result w = wait_child(pid, 120, 1, &st);
        if (w != WAIT_EXITED) {
            end_child(pid, SIGTERM, 1, &st);
            lab_error("the build of %s/%s/%s.c was stopped", impl, name, prog);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            ok = 1;
        } else {
            lab_error("%s/%s/%s.c does not build (see above): fix the first "
                      "error the compiler reports",
                      impl, name, prog);
        }
    }
    free(build);
    free(target);
    free(build_arg);
    return ok ? 0 : -1;
}

/* Move fd to 64 or above (close-on-exec), out of the way of the
   playground's sockets, so that the first socket is 3 as in the lessons
   even with jobs running. Returns the new fd (or fd when it cannot). */
static int park_fd(int fd) {
    if (fd < 0)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 64);
    if (high < 0)
        return fd;
    close(fd);
    return high;
}

/* Make a pipe whose read end is non-blocking, parked and close-on-exec. */
static int output_pipe(int p[2]) {
    if (pipe(p) != 0)
        return -1;
    p[0] = park_fd(p[0]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Make a pseudo-terminal for a job's stdout, in raw mode (no \r added,
   no echo): p[0] the lab's side (non-blocking), p[1] the program's.
   Returns 0, or -1 when there is none (a pipe will do). */
static int output_pty(int p[2]) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0)
        return -1;
    char *name =
        grantpt(master) == 0 && unlockpt(master) == 0 ? ptsname(master) : NULL;
    int slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
    struct termios raw;
    if (slave < 0 || tcgetattr(slave, &raw) != 0) {
        close(master);
        if (slave >= 0)
            close(slave);
        return -1;
    }
    cfmakeraw(&raw);
    tcsetattr(slave, TCSANOW, &raw);
    p[0] = park_fd(master);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    p[1] = slave;
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Start argv as a background job; returns it, or NULL. */
static struct job *start_job(char **argv, const char *command) {
    int slot = -1;
    for (int i = 0; i < MAX_JOBS && slot < 0; i++)
        if (!jobs[i])
            slot = i;
    if (slot < 0) {
        lab_error("%d jobs are running already: `stop` one first", MAX_JOBS);
        return NULL;
    }
    int out[2], err[2];
    if (output_pty(out) != 0 && output_pipe(out) != 0) {
        lab_error("pipe: %s", strerror(errno));
        return NULL;
    }
    if (output_pipe(err) != 0) {
        lab_error("pipe: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return NULL;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct spawn how = {devnull, out[1], err[1], 1, SIGTERM};
    pid_t pid = spawn_process(argv, &how);
    close(out[1]);
    close(err[1]);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        return NULL;
    }
    struct job *j = xmalloc(sizeof *j);
    memset(j, 0, sizeof *j);
    /* The lowest free number, as a shell does. */
    for (j->id = 1;; j->id++) {
        int used = 0;
        for (int i = 0; i < MAX_JOBS; i++)
            used |= jobs[i] && jobs[i]->id == j->id;
        if (!used)
            break;
    }
    j->pid = pid;
#ifdef SYS_pidfd_open
    j->pidfd = park_fd((int)syscall(SYS_pidfd_open, pid, 0));
#else
    j->pidfd = -1;
#endif
    j->fd[0] = out[0];
    j->fd[1] = err[0];
    j->command = xstrdup(command);
    jobs[slot] = j;
    return j;
}

/* Run a client in the foreground, bounded; returns 0 when it exited 0. */
static int run_foreground(char **argv) {
    const char *env = getenv("LAB_RUN_TIMEOUT");
    double bound = env && atof(env) > 0 ? atof(env) : 60;
    /* In a script, stdin is the script: the client must not eat it. */
    int devnull =
        lab_mode == MODE_SCRIPT ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    struct spawn how = {devnull, -1, -1, 0, SIGTERM};
    pid_t pid = spawn_process(argv, &how);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0)
        return 1;
    int st = 0;
    enum wait_result w = wait_child(pid, bound, 1, &st);
    /* The terminal's ^C (when there is one) is on the line already. */
    const char *nl = isatty(STDIN_FILENO) ? "\n" : "";
    if (w == WAIT_EXITED) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return 0;
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT && lab_interrupted)
            printf("%s%s(client stopped: Ctrl-C)%s\n", nl, C_DIM, C_OFF);
        else
            printf("%s(the client exited with %s)%s\n", C_DIM,
                   describe_status(st), C_OFF);
        return 1;
    }
    end_child(pid, w == WAIT_INTERRUPTED ? SIGINT : SIGTERM, 1, &st);
    if (w == WAIT_INTERRUPTED)
        printf("%s%s(client stopped: Ctrl-C)%s\n", nl, C_DIM, C_OFF);
    else
        lab_error("the client ran %g s and was stopped (LAB_RUN_TIMEOUT)",
                  bound);
    return 1;
}

/* Start a server job and wait for its "listening on" line; in one-shot
   mode, follow it until it exits or Ctrl-C. */
static int run_server(char **argv, const char *command) {
    struct job *j = start_job(argv, command);
    if (!j)
        return 1;
    int id = j->id;
    pid_t pid = j->pid;
    printf("%s[%d] started%s %s (pid %d; `stop %d` ends it)\n", C_BLUE, id,
           C_OFF, command, (int)pid, id);
    fflush(stdout);
    double deadline = now() + LISTEN_WAIT;
    while (now() < deadline && !lab_interrupted) {
        if (follow(id, 0.05, 1))
            return 1; /* it exited before it listened: reap said how */
        if (j->listening)
            break;
    }
    /* Ctrl-C before it listened: it never started. (After, in one-shot
       mode, Ctrl-C is how a foreground server is meant to end.) */
    if (lab_interrupted && !j->listening) {
        stop_job(j);
        return 1;
    }
    if (!j->listening)
        printf("%s[%d] is running but has not printed 'listening on "
               "HOST:PORT' yet (stdout not flushed?)%s\n",
               C_YELLOW, id, C_OFF);
    if (lab_mode != MODE_ONESHOT)
        return 0;
    /* One-shot: `lab run 01 server` is the server in the foreground. */
    while (!lab_interrupted && !lab_quit_requested)
        if (follow(id, 3600, 1))
            return 0; /* it exited */
    stop_job(j);
    return 0;
}

int cmd_run(int argc, char **argv) {
    const char *prog = argv[2];
    if (strcmp(prog, "server") != 0 && strcmp(prog, "client") != 0) {
        lab_usage(argv[0]);
        return 2;
    }
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    int first = 3;
    const char *impl = "lessons";
    if (argc > 3 && strcmp(argv[3], "--ref") == 0) {
        impl = "solutions";
        first = 4;
    }
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
    char **args = xmalloc((size_t)(argc - first + 2) * sizeof *args);
    struct buf command = {0};
    buf_printf(&command, "build/%s/%s/%s", impl, l->name, prog);
    args[0] = bin;
    int n = 1;
    for (int i = first; i < argc; i++) {
        args[n++] = argv[i];
        buf_printf(&command, " %s", argv[i]);
    }
    args[n] = NULL;
    int status = strcmp(prog, "server") == 0 ? run_server(args, command.data)
                                             : run_foreground(args);
    free(command.data);
    free(args);
    free(bin);
    return status;
}

/* ---------------------------------------------------------- jobs and stop */

int cmd_jobs(int argc, char **argv) {
    (void)argc;
    (void)argv;
    jobs_drain();
    int any = 0;
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *j = jobs[i];
        if (!j)
            continue;
        any = 1;
        printf("%s[%d]%s running  pid %-7d %s", C_BLUE, j->id, C_OFF,
               (int)j->pid, j->command);
        if (j->listening)
            printf("  %s(%s)%s", C_DIM, j->listening, C_OFF);
        printf("\n");
    }
    if (!any)
        printf("no jobs: `run N server` starts one\n");
    return 0;
}

/* The job a J argument names ("1" or "%1"), or NULL. */
static struct job *find_job(const char *arg) {
    const char *s = arg[0] == '%' ? arg + 1 : arg;
    char *end;
    long id = strtol(s, &end, 10);
    if (*s && !*end)
        for (int i = 0; i < MAX_JOBS; i++)
            if (jobs[i] && jobs[i]->id == id)
                return jobs[i];
    return NULL;
}

int cmd_stop(int argc, char **argv) {
    (void)argc;
    jobs_drain();
    struct job *j = find_job(argv[1]);
    if (!j) {
        lab_error("no job '%s' (`jobs` lists them)", argv[1]);
        return 1;
    }
    stop_job(j);
    return 0;
}

char *complete_job(const char *text, int state) {
    static int index;
    if (state == 0)
        index = 0;
    while (index < MAX_JOBS) {
        struct job *j = jobs[index++];
        if (!j)
            continue;
        char id[16];
        snprintf(id, sizeof id, "%d", j->id);
        if (strncmp(id, text, strlen(text)) == 0)
            return xstrdup(id);
    }
    return NULL;
}
