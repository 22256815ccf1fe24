/*
 * jobs.c - background jobs (see jobs.h). Its stdout is a pseudo-terminal,
 * so that printf output comes line by line as it would in a terminal of
 * its own (through a pipe it would wait in stdio's buffer until the
 * program exits); its stderr is a pipe, shown in red. Every job ends
 * when the lab does (SIGTERM, then SIGKILL).
 */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, ptsname */

#include "core/jobs.h"

#include "base/loop.h"
#include "base/term.h"
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define STOP_GRACE 2.0  /* seconds between SIGTERM and SIGKILL */
#define LINE_MAX_SHOWN 4096
#define TICK 0.25 /* how often a job without a pidfd is looked at */

static struct job *jobs[MAX_JOBS];

static int reap(struct job *j);

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
            loop_del_fd(j->fd[which]);
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
        if (j->fd[i] >= 0) {
            loop_del_fd(j->fd[i]);
            close(j->fd[i]);
        }
        free(j->part[i].data);
    }
    if (j->pidfd >= 0) {
        loop_del_fd(j->pidfd);
        close(j->pidfd);
    }
    loop_del_timer(j->tick);
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

/* ---------------------------------------------------------------- the loop */

/* The loop's handler of a job's stdout or stderr. */
static void on_output(int fd, short revents, void *data) {
    (void)revents;
    struct job *j = data;
    read_output(j, fd == j->fd[0] ? 0 : 1);
}

/* The loop's handler of a job's pidfd: it exited. */
static void on_exit_fd(int fd, short revents, void *data) {
    (void)fd;
    (void)revents;
    reap(data);
}

/* The loop's timer of a job without a pidfd: look, and again later. */
static void on_tick(void *data) {
    struct job *j = data;
    j->tick = 0;
    if (!reap(j))
        j->tick = loop_add_timer(TICK, on_tick, j);
}

/* Watch the job's fds (or tick) on the loop. */
static void watch_job(struct job *j) {
    for (int i = 0; i < 2; i++)
        if (j->fd[i] >= 0)
            loop_add_fd(j->fd[i], POLLIN, on_output, j);
    if (j->pidfd >= 0)
        loop_add_fd(j->pidfd, POLLIN, on_exit_fd, j);
    else
        j->tick = loop_add_timer(TICK, on_tick, j);
}

void jobs_drain(void) {
    loop_once(0, NULL);
    for (int k = 0; k < MAX_JOBS; k++)
        if (jobs[k])
            reap(jobs[k]);
}

/* The job numbered id, or NULL. */
static struct job *by_id(int id) {
    for (int k = 0; k < MAX_JOBS; k++)
        if (jobs[k] && jobs[k]->id == id)
            return jobs[k];
    return NULL;
}

int jobs_follow(int id, double seconds, int interruptible) {
    double deadline = lab_now() + seconds;
    for (;;) {
        struct job *j = by_id(id);
        if (!j)
            return 1;
        if (reap(j))
            return 1;
        double left = deadline - lab_now();
        if (left <= 0 || (interruptible && lab_interrupted))
            return 0;
        loop_once(left, NULL);
    }
}

void jobs_stop(struct job *j) {
    int id = j->id;
    pid_t pid = j->pid;
    j->stopping = 1;
    kill(-pid, SIGTERM);
    if (!jobs_follow(id, STOP_GRACE, 0)) {
        kill(-pid, SIGKILL);
        jobs_follow(id, 5, 0);
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
            jobs_stop(jobs[i]);
}

/* ---------------------------------------------------------------- starting */

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
struct job *jobs_start(char **argv, const char *command) {
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
    struct spawn how = {devnull, out[1], err[1], 1, SIGTERM, 0};
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
    j->pidfd = park_fd(open_pidfd(pid));
    j->fd[0] = out[0];
    j->fd[1] = err[0];
    j->command = xstrdup(command);
    jobs[slot] = j;
    watch_job(j);
    return j;
}

/* The job a J argument names ("1" or "%1"), or NULL. */
struct job *jobs_find(const char *arg) {
    const char *s = arg[0] == '%' ? arg + 1 : arg;
    char *end;
    long id = strtol(s, &end, 10);
    if (*s && !*end)
        for (int i = 0; i < MAX_JOBS; i++)
            if (jobs[i] && jobs[i]->id == id)
                return jobs[i];
    return NULL;
}

struct job *jobs_slot(int i) {
    return i >= 0 && i < MAX_JOBS ? jobs[i] : NULL;
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
