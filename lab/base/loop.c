/*
 * loop.c - the lab's one event loop (see loop.h): a table of watched
 * fds and a list of timers over poll(), and the signal flags.
 */
#define _GNU_SOURCE /* ppoll */

#include "base/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FDS 128
#define MAX_TIMERS 64

volatile sig_atomic_t lab_interrupted;
volatile sig_atomic_t lab_quit_requested;
volatile sig_atomic_t loop_window_changed, loop_suspend_requested;

struct watch {
    int fd; /* -1: a free slot */
    short events;
    loop_fd_fn *fn;
    void *data;
    unsigned long generation; /* changes when the slot is reused */
};

struct timer {
    long id; /* 0: a free slot */
    double due;
    loop_timer_fn *fn;
    void *data;
};

static struct watch watches[MAX_FDS];
static int nwatches;
static unsigned long generations;
static struct timer timers[MAX_TIMERS];
/* While >= 0, loop_once watches this fd alone (see loop_wait_fd). */
static int alone_fd = -1;
static long next_timer_id = 1;

double lab_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- signals */

static void on_interrupt(int sig) {
    (void)sig;
    lab_interrupted = 1;
}

static void on_terminate(int sig) {
    (void)sig;
    lab_quit_requested = 1;
    lab_interrupted = 1;
}

static void on_window_change(int sig) {
    (void)sig;
    loop_window_changed = 1;
}

static void on_suspend(int sig) {
    (void)sig;
    loop_suspend_requested = 1;
}

/* Install handler for sig without SA_RESTART: a blocking call that the
   signal interrupts returns EINTR, so the loop around it can look. */
static void handle(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(sig, &sa, NULL);
}

void loop_signals(void) {
    handle(SIGINT, on_interrupt);
    handle(SIGTERM, on_terminate);
    handle(SIGHUP, on_terminate);
    handle(SIGTSTP, on_suspend);
    signal(SIGPIPE, SIG_IGN);
}

void loop_watch_winch(int on) {
    if (on)
        handle(SIGWINCH, on_window_change);
    else
        signal(SIGWINCH, SIG_DFL);
}

void loop_watch_tstp(void) {
    handle(SIGTSTP, on_suspend);
}

/* ---------------------------------------------------------------- fds */

/* The slot watching fd, or NULL. */
static struct watch *find_watch(int fd) {
    if (fd < 0)
        return NULL;
    for (int i = 0; i < nwatches; i++)
        if (watches[i].fd == fd)
            return &watches[i];
    return NULL;
}

int loop_add_fd(int fd, short events, loop_fd_fn *fn, void *data) {
    struct watch *w = find_watch(fd);
    for (int i = 0; !w && i < nwatches; i++)
        if (watches[i].fd < 0)
            w = &watches[i];
    if (!w && nwatches < MAX_FDS)
        w = &watches[nwatches++];
    if (!w)
        return -1;
    *w = (struct watch){fd, events, fn, data, ++generations};
    return 0;
}

void loop_del_fd(int fd) {
    struct watch *w = find_watch(fd);
    if (w)
        w->fd = -1;
    while (nwatches > 0 && watches[nwatches - 1].fd < 0)
        nwatches--;
}

/* ---------------------------------------------------------------- timers */

long loop_add_timer(double seconds, loop_timer_fn *fn, void *data) {
    for (int i = 0; i < MAX_TIMERS; i++)
        if (!timers[i].id) {
            timers[i] = (struct timer){next_timer_id++, lab_now() + seconds, fn,
                                       data};
            return timers[i].id;
        }
    return 0;
}

void loop_del_timer(long id) {
    for (int i = 0; i < MAX_TIMERS; i++)
        if (id && timers[i].id == id)
            timers[i].id = 0;
}

/* Seconds until the next timer is due (< 0: no timer). */
static double next_due(void) {
    double first = -1, now = lab_now();
    for (int i = 0; i < MAX_TIMERS; i++)
        if (timers[i].id) {
            double left = timers[i].due - now;
            if (left < 0)
                left = 0;
            if (first < 0 || left < first)
                first = left;
        }
    return first;
}

/* Call the timers that are due; returns how many. */
static int run_timers(void) {
    int ran = 0;
    double now = lab_now();
    for (int i = 0; i < MAX_TIMERS; i++)
        if (timers[i].id && timers[i].due <= now) {
            struct timer t = timers[i];
            timers[i].id = 0; /* one-shot: the handler may add it again */
            t.fn(t.data);
            ran++;
        }
    return ran;
}

/* ---------------------------------------------------------------- waiting */

int loop_once(double seconds, const sigset_t *mask) {
    double due = alone_fd < 0 ? next_due() : -1;
    if (due >= 0 && (seconds < 0 || due < seconds))
        seconds = due;
    struct pollfd fds[MAX_FDS];
    struct watch seen[MAX_FDS];
    int n = 0;
    for (int i = 0; i < nwatches; i++)
        if (watches[i].fd >= 0 && (alone_fd < 0 || watches[i].fd == alone_fd)) {
            fds[n] = (struct pollfd){.fd = watches[i].fd,
                                     .events = watches[i].events};
            seen[n++] = watches[i];
        }
    struct timespec ts;
    if (seconds >= 0) {
        ts.tv_sec = (time_t)seconds;
        ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    }
    int r = ppoll(fds, (nfds_t)n, seconds < 0 ? NULL : &ts, mask);
    if (r < 0)
        return errno == EINTR ? -1 : 0;
    int ran = 0;
    for (int i = 0; i < n && r > 0; i++) {
        if (!fds[i].revents)
            continue;
        /* Still the same watch? An earlier handler may have dropped it. */
        struct watch *w = find_watch(fds[i].fd);
        if (w && w->generation == seen[i].generation) {
            w->fn(fds[i].fd, fds[i].revents, w->data);
            ran++;
        }
    }
    return ran + (alone_fd < 0 ? run_timers() : 0);
}

struct fd_wait {
    short revents;
};

/* The handler of loop_wait_fd's own fd: note what poll() said. */
static void note_ready(int fd, short revents, void *data) {
    (void)fd;
    ((struct fd_wait *)data)->revents = revents;
}

short loop_wait_fd(int fd, short events, double deadline, int flags) {
    int interruptible = flags & LOOP_INTERRUPTIBLE;
    struct fd_wait w = {0};
    if (fd < 0) { /* no fd: only the rest of the loop, till the deadline */
        while (!(interruptible && lab_interrupted) && lab_now() < deadline)
            loop_once(deadline - lab_now(), NULL);
        return interruptible && lab_interrupted ? -1 : 0;
    }
    /* A fd another handler watches (a job's) is waited for by poll alone. */
    struct watch *owner = find_watch(fd);
    struct watch saved = owner ? *owner : (struct watch){0};
    loop_add_fd(fd, events, note_ready, &w);
    int was_alone = alone_fd;
    if (flags & LOOP_ALONE)
        alone_fd = fd;
    while (!w.revents) {
        if (interruptible && lab_interrupted)
            break;
        double left = deadline < 0 ? -1 : deadline - lab_now();
        if (deadline >= 0 && left <= 0)
            break;
        /* In slices when Ctrl-C matters: a signal that lands just before
           poll() starts is seen at the next slice. */
        if (interruptible && (left < 0 || left > 0.1))
            left = 0.1;
        loop_once(left, NULL);
    }
    alone_fd = was_alone;
    if (owner)
        loop_add_fd(fd, saved.events, saved.fn, saved.data);
    else
        loop_del_fd(fd);
    if (!w.revents && interruptible && lab_interrupted)
        return -1;
    return w.revents;
}
