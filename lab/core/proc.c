/*
 * proc.c - child processes (see proc.h).
 */
#include "core/proc.h"

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


/* In the child: set up fds and signals, then exec; reports errno on the
   cloexec pipe fd when exec fails. Never returns. */
/* Close what the lab inherited above fd last (its parent's stray fds),
   but the exec-error pipe fd and the ones dup2'ed to 0-2 next, so that
   the program's first socket is 3 as in the lessons. */
static void keep_only_ours(int last, int fd, const int from[3]) {
#ifdef SYS_close_range
    int keep[4] = {fd, from[0], from[1], from[2]};
    int low = last + 1;
    for (;;) {
        int next = -1; /* the lowest fd to keep at or above low */
        for (int i = 0; i < 4; i++)
            if (keep[i] >= low && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0) {
            syscall(SYS_close_range, (unsigned)low, ~0U, 0);
            return;
        }
        if (next > low)
            syscall(SYS_close_range, (unsigned)low, (unsigned)next - 1, 0);
        low = next + 1;
    }
#else
    (void)last;
    (void)fd;
    (void)from;
#endif
}

static void exec_child(char *const argv[], const struct spawn *how, int fd) {
    if (how->new_group)
        setpgid(0, 0);
    if (how->death_signal)
        prctl(PR_SET_PDEATHSIG, how->death_signal);
    if (how->extra > 0) { /* fd 3: out of the way of the exec-error pipe */
        if (fd == 3)
            fd = fcntl(fd, F_DUPFD_CLOEXEC, 4);
        if (how->extra == 3)
            fcntl(3, F_SETFD, 0);
        else
            dup2(how->extra, 3);
    }
    int from[3] = {how->in, how->out, how->err};
    keep_only_ours(how->extra > 0 ? 3 : 2, fd, from);
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
int open_pidfd(pid_t pid) {
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

enum wait_result wait_child(pid_t pid, double seconds, int interruptible,
                            int *status) {
    int pidfd = open_pidfd(pid);
    double deadline = seconds < 0 ? -1 : lab_now() + seconds;
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
        if (deadline >= 0 && lab_now() >= deadline)
            break;
        if (pidfd >= 0) {
            loop_wait_fd(pidfd, POLLIN, deadline, interruptible);
        } else { /* no pidfd: look again after a tick */
            double tick = lab_now() + 0.02;
            loop_wait_fd(-1, 0, deadline >= 0 && deadline < tick ? deadline
                                                                  : tick,
                         interruptible);
        }
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

/* What capture() keeps of its child's output. */
struct captured {
    int fd;
    struct buf out;
    int done; /* end of file or error */
};

/* The loop's handler of capture's pipe: keep what came. */
static void take_output(int fd, short revents, void *data) {
    (void)revents;
    struct captured *c = data;
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        c->done = 1;
        loop_del_fd(fd);
        return;
    }
    buf_add(&c->out, chunk, (size_t)n);
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
    struct spawn how = {devnull, p[1], merge ? p[1] : devnull, 1, SIGKILL, 0};
    pid_t pid = spawn_process(argv, &how);
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    struct captured c = {p[0], {0}, 0};
    buf_add(&c.out, "", 0);
    double deadline = lab_now() + seconds;
    loop_add_fd(p[0], POLLIN, take_output, &c);
    while (!c.done && !lab_interrupted && lab_now() < deadline) {
        double left = deadline - lab_now();
        loop_once(left > 0.1 ? 0.1 : left, NULL);
    }
    loop_del_fd(p[0]);
    close(p[0]);
    int status = 0;
    if (wait_child(pid, deadline - lab_now(), 1, &status) != WAIT_EXITED)
        end_child(pid, SIGTERM, 1, &status);
    *out = c.out.data;
    if (len)
        *len = c.out.len;
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

/* Build build/IMPL/NAME/PROG with make; 0 when it is ready. */
int build_program(const char *impl, const char *name, const char *prog) {
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
    struct spawn how = {devnull, -1, -1, 1, SIGTERM, 0};
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
