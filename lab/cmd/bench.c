/*
 * cmd/bench.c - bench N [line|once|http|udp]: the student's server
 * against the reference under the same bounded loopback load, at a few
 * concurrencies, throughput and latency side by side and plotted in the
 * terminal. Never part of a grade: a machine shared with others gives
 * noisy figures; what matters is the shape (does yours keep up when
 * clients come at once?).
 *
 * Each run starts a fresh server on 127.0.0.1 port 0, reads its
 * `listening on` line, and runs the load generator (lab/tools/loadgen.c)
 * against it for LAB_BENCH_SECONDS (1) seconds.
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/registry.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_WAIT 10.0 /* seconds a server may take to say where it is */
#define NLEVELS 3
#define BAR 30 /* columns of the longest bar */

static const int levels[NLEVELS] = {1, 4, 16};

/* What one run measured. */
struct figures {
    int ok; /* the run happened (the server started) */
    long requests, errors;
    double rps, p50, p99;
};

/* What a server says on stdout, up to its "listening on" line. */
struct listening {
    struct buf said;
    long port;
    int closed; /* end of its stdout: it exited (or closed it) first */
};

/* The loop's handler of a server's stdout: find its port. */
static void on_server(int fd, short revents, void *data) {
    (void)revents;
    struct listening *l = data;
    char chunk[1024];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) {
        loop_del_fd(fd);
        l->closed = 1;
        return;
    }
    buf_add(&l->said, chunk, (size_t)n);
    const char *at = strstr(l->said.data, "listening on ");
    const char *end = at ? strchr(at, '\n') : NULL;
    if (end && !l->port) {
        const char *colon = end;
        while (colon > at && *colon != ':')
            colon--;
        l->port = strtol(colon + 1, NULL, 10);
    }
}

/* Start server bin on 127.0.0.1 port 0; returns its pid with *port set,
   or -1 when it did not say where it listens. */
static pid_t start_server(const char *bin, long *port) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char *argv[] = {(char *)bin, "127.0.0.1", "0", NULL};
    struct spawn how = {devnull, p[1], devnull, 1, SIGTERM, 0};
    pid_t pid = spawn_process(argv, &how);
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    struct listening l = {{0}, 0, 0};
    buf_add(&l.said, "", 0);
    loop_add_fd(p[0], POLLIN, on_server, &l);
    double deadline = lab_now() + LISTEN_WAIT;
    while (pid > 0 && !l.port && !l.closed && lab_now() < deadline &&
           !lab_interrupted)
        loop_once(0.05, NULL);
    loop_del_fd(p[0]);
    close(p[0]); /* a server that prints more gets EPIPE: it has said it */
    free(l.said.data);
    if (pid > 0 && !l.port) {
        end_child(pid, SIGTERM, 1, NULL);
        return -1;
    }
    *port = l.port;
    return pid;
}

/* The load generator: beside the lab's own binary (build/lab/tools/),
   or under the checkout's build/ (malloc'ed). */
static char *loadgen_path(void) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            char *gen = xprintf("%s/tools/loadgen", self);
            if (access(gen, X_OK) == 0)
                return gen;
            free(gen);
        }
    }
    return root_path("build/lab/tools/loadgen");
}

/* Run the load generator on port with conns clients; fills f. */
static void load(const char *mode, long port, int conns, struct figures *f) {
    char *gen = loadgen_path();
    const char *env = getenv("LAB_BENCH_SECONDS");
    char *seconds = xstrdup(env && atof(env) > 0 ? env : "1");
    char *c = xprintf("%d", conns), *p = xprintf("%ld", port);
    char *argv[] = {gen, "--conns", c, "--seconds", seconds, "--mode",
                    (char *)mode, "127.0.0.1", p, NULL};
    char *out;
    capture(argv, &out, NULL, 0, atof(seconds) + 20);
    int conns_seen;
    f->ok = out && sscanf(out,
                          "conns=%d requests=%ld errors=%ld seconds=%*f "
                          "rps=%lf p50_ms=%lf p99_ms=%lf",
                          &conns_seen, &f->requests, &f->errors, &f->rps,
                          &f->p50, &f->p99) == 6;
    free(out);
    free(gen);
    free(seconds);
    free(c);
    free(p);
}

/* One server (bin) at one level: a fresh start, the load, the end. */
static void bench_one(const char *bin, const char *mode, int conns,
                      struct figures *f) {
    memset(f, 0, sizeof *f);
    long port;
    pid_t pid = start_server(bin, &port);
    if (pid < 0)
        return;
    load(mode, port, conns, f);
    end_child(pid, SIGTERM, 1, NULL);
}

/* The load that fits lesson l's server. */
static const char *mode_for(const struct lesson *l) {
    if (strstr(l->slug, "http"))
        return "http";
    if (strstr(l->slug, "udp"))
        return "udp";
    if (strstr(l->slug, "once"))
        return "once";
    return "line";
}

/* A bar of width columns of BAR for value of max. */
static void bar(double value, double max) {
    int n = max > 0 ? (int)(value / max * BAR + 0.5) : 0;
    for (int i = 0; i < n; i++)
        fputs(lab_utf8 ? "\u2588" : "#", stdout);
    if (value > 0 && n == 0)
        fputs(lab_utf8 ? "\u258f" : "|", stdout);
}

/* The table and the plot of both servers' figures. */
static void report(struct figures yours[], struct figures ref[]) {
    printf("%s%-7s %10s %9s %9s %7s   %10s %9s %9s%s\n", C_BOLD, "clients",
           "yours/s", "p50 ms", "p99 ms", "errors", "ref/s", "p50 ms",
           "p99 ms", C_OFF);
    double max = 0;
    for (int i = 0; i < NLEVELS; i++) {
        struct figures *y = &yours[i], *r = &ref[i];
        if (y->rps > max)
            max = y->rps;
        if (r->rps > max)
            max = r->rps;
        printf("%-7d ", levels[i]);
        if (y->ok)
            printf("%10.0f %9.3f %9.3f %7ld   ", y->rps, y->p50, y->p99,
                   y->errors);
        else
            printf("%10s %9s %9s %7s   ", "-", "-", "-", "-");
        if (r->ok)
            printf("%10.0f %9.3f %9.3f\n", r->rps, r->p50, r->p99);
        else
            printf("%10s %9s %9s\n", "-", "-", "-");
    }
    printf("\n%sthroughput (requests per second)%s\n", C_BOLD, C_OFF);
    for (int i = 0; i < NLEVELS; i++) {
        printf("  %2d clients  yours ", levels[i]);
        fputs(C_CYAN, stdout);
        bar(yours[i].rps, max);
        printf("%s %.0f\n              ref   ", C_OFF, yours[i].rps);
        fputs(C_DIM, stdout);
        bar(ref[i].rps, max);
        printf("%s %.0f\n", C_OFF, ref[i].rps);
    }
}

/* Build the load generator when it is missing; 0 when it is there. */
static int build_loadgen(void) {
    char *gen = loadgen_path();
    int ok = access(gen, X_OK) == 0;
    if (!ok) {
        char *build = xprintf("BUILD=%s/build", lab_root());
        char *argv[] = {"make", "-s", "--no-print-directory", "-C",
                        (char *)lab_root(), build, gen, NULL};
        char *out;
        ok = capture(argv, &out, NULL, 1, 120) == 0;
        if (!ok)
            lab_error("the load generator does not build:\n%s", out);
        free(out);
        free(build);
    }
    free(gen);
    return ok ? 0 : -1;
}

static int cmd_bench(int argc, char **argv) {
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    const char *mode = argc > 2 ? argv[2] : mode_for(l);
    if (strcmp(mode, "line") && strcmp(mode, "once") && strcmp(mode, "http") &&
        strcmp(mode, "udp")) {
        lab_usage(argv[0]);
        return 2;
    }
    char *src = xprintf("%s/solutions/%s/server.c", lab_root(), l->name);
    int has_server = access(src, R_OK) == 0;
    free(src);
    if (!has_server) {
        lab_error("%s has no server to bench", l->name);
        return 1;
    }
    if (build_loadgen() != 0 || build_program("solutions", l->name, "server"))
        return 1;
    int yours_built = build_program("lessons", l->name, "server") == 0;
    char *mine = xprintf("%s/build/lessons/%s/server", lab_root(), l->name);
    char *ref = xprintf("%s/build/solutions/%s/server", lab_root(), l->name);
    struct figures y[NLEVELS], r[NLEVELS];
    printf("%sbench %s: %s load, 1, 4 and 16 clients (never part of a "
           "grade)%s\n",
           C_DIM, l->name, mode, C_OFF);
    fflush(stdout);
    for (int i = 0; i < NLEVELS && !lab_interrupted; i++) {
        /* A server that did not start once is not started again. */
        if (yours_built && (i == 0 || y[0].ok))
            bench_one(mine, mode, levels[i], &y[i]);
        else
            memset(&y[i], 0, sizeof y[i]);
        bench_one(ref, mode, levels[i], &r[i]);
    }
    int stopped = lab_interrupted;
    if (!stopped)
        report(y, r);
    if (!stopped && !y[0].ok)
        printf("%s(yours did not start, or never said `listening on`)%s\n",
               C_YELLOW, C_OFF);
    free(mine);
    free(ref);
    return stopped || !y[0].ok ? 1 : 0;
}

/* ---------------------------------------------------------------- the table */

#define WINDOWS "Windows on your program (never part of a grade)"

static const struct lab_command rows[] = {
    {"bench", "N [line|once|http|udp]", cmd_bench,
     "your server against the reference under load", NULL, WINDOWS,
     "Starts your server and the reference in turn (127.0.0.1, port 0) and\n"
     "runs the same bounded loopback load on each with 1, 4 and 16 clients\n"
     "for LAB_BENCH_SECONDS (1) seconds: requests per second, median and\n"
     "99th-percentile latency, plotted side by side. The load fits the\n"
     "lesson (an echo line, one message per connection, an HTTP GET, a\n"
     "datagram), or name it. Never part of a grade: the figures of a busy\n"
     "machine are noisy; look at the shape."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void bench_register(void) {
    lab_register(rows);
}
