/*
 * loadgen - the bench's load generator: a bounded loopback load on one
 * server, from one thread with poll(), and what it measured on one line.
 *
 * usage: loadgen [--conns N] [--seconds S] [--size B] [--mode M] HOST PORT
 *
 * Modes (what one request is):
 *   line   a connection per client kept open: send B-1 bytes and a
 *          newline, read the same number of bytes back (echo servers)
 *   once   a new connection per request: send the line, read until the
 *          server closes (echo-once servers)
 *   http   a new connection per request: GET / with Connection: close,
 *          read until the server closes
 *   udp    a datagram of B bytes, its reply within the reply bound
 *
 * Output: conns=N requests=R errors=E seconds=S rps=X p50_ms=A p99_ms=B
 * A request without its reply within 1 s is an error (its connection is
 * closed and opened again), so a server that never answers ends the run
 * on time. Loopback addresses only.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_SAMPLES 1000000
#define REPLY_BOUND 1.0 /* seconds a request may wait for its reply */

enum mode { LINE, ONCE, HTTP, UDP };

struct client {
    int fd;
    size_t sent, got; /* of the current request */
    double started;   /* when it was sent; 0: none in flight */
    double retry_at;  /* after a failure: not before then (no busy loop) */
};

static enum mode mode = LINE;
static size_t size = 64;
static char request[65536];
static size_t request_len;
static struct sockaddr_in server;
static double *samples;
static long nsamples, errors;

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open c's socket (non-blocking, connect started); 0 or -1. */
static int open_client(struct client *c) {
    int udp = mode == UDP;
    c->fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 &&
        errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->sent = c->got = 0;
    c->started = 0;
    return 0;
}

/* Close c's socket; counts an error when a request was in flight. */
static void drop_client(struct client *c, int failed) {
    if (failed) {
        errors++;
        c->retry_at = now() + 0.01;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->started = 0;
}

/* One request of c is answered: note its latency, get ready for the next. */
static void answered(struct client *c) {
    if (nsamples < MAX_SAMPLES)
        samples[nsamples++] = now() - c->started;
    c->started = 0;
    c->sent = c->got = 0;
    if (mode == ONCE || mode == HTTP)
        drop_client(c, 0);
}

/* Send what is left of c's request. */
static void send_more(struct client *c) {
    if (!c->started)
        c->started = now();
    ssize_t n = send(c->fd, request + c->sent, request_len - c->sent,
                     MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        drop_client(c, 1);
    else if (n > 0)
        c->sent += (size_t)n;
}

/* Read what the server sent c; a whole reply ends the request. */
static void read_reply(struct client *c) {
    char buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* closed: the end of a once/http reply, else a failure */
        if (n == 0 && (mode == ONCE || mode == HTTP) && c->got > 0)
            answered(c);
        else
            drop_client(c, c->started > 0 || n < 0);
        return;
    }
    c->got += (size_t)n;
    if ((mode == LINE && c->got >= request_len) || mode == UDP)
        answered(c);
}

/* Sort helper for the latencies. */
static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Build the request of the mode. */
static void make_request(void) {
    if (mode == HTTP) {
        request_len = (size_t)snprintf(request, sizeof request,
                                       "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Connection: close\r\n\r\n");
        return;
    }
    if (size < 2)
        size = 2;
    if (size > sizeof request)
        size = sizeof request;
    memset(request, 'x', size - 1);
    request[size - 1] = mode == UDP ? 'x' : '\n';
    request_len = size;
}

/* Run the load until deadline with conns clients. */
static void run(struct client *clients, int conns, double deadline) {
    struct pollfd fds[MAX_CONNS];
    while (now() < deadline) {
        for (int i = 0; i < conns; i++) {
            struct client *c = &clients[i];
            fds[i].fd = -1;
            if (c->fd < 0 && now() < c->retry_at)
                continue;
            if (c->fd < 0 && open_client(c) < 0) {
                errors++;
                c->retry_at = now() + 0.01;
            }
            if (c->fd >= 0 && c->started && now() - c->started > REPLY_BOUND)
                drop_client(c, 1);
            if (c->fd < 0)
                continue;
            fds[i] = (struct pollfd){.fd = c->fd, .events = POLLIN};
            if (c->sent < request_len)
                fds[i].events |= POLLOUT;
        }
        if (poll(fds, (nfds_t)conns, 10) <= 0)
            continue;
        for (int i = 0; i < conns; i++) {
            struct client *c = &clients[i];
            if (c->fd < 0 || fds[i].fd != c->fd)
                continue;
            if (fds[i].revents & POLLOUT)
                send_more(c);
            if (c->fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                read_reply(c);
        }
    }
}

int main(int argc, char **argv) {
    int conns = 1;
    double seconds = 1;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--conns") == 0)
            conns = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            size = (size_t)atol(argv[i + 1]);
        else if (strcmp(argv[i], "--mode") == 0)
            mode = strcmp(argv[i + 1], "once") == 0   ? ONCE
                   : strcmp(argv[i + 1], "http") == 0 ? HTTP
                   : strcmp(argv[i + 1], "udp") == 0  ? UDP
                                                       : LINE;
        else
            break;
    }
    if (argc - i != 2 || conns < 1 || conns > MAX_CONNS || seconds <= 0 ||
        seconds > 60) {
        fprintf(stderr, "usage: loadgen [--conns N] [--seconds S] [--size B] "
                        "[--mode line|once|http|udp] HOST PORT\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)atoi(argv[i + 1]));
    if (inet_pton(AF_INET, argv[i], &server.sin_addr) != 1 ||
        (ntohl(server.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "loadgen: %s: a loopback address (127.x.x.x) only\n",
                argv[i]);
        return 2;
    }
    make_request();
    samples = malloc(MAX_SAMPLES * sizeof *samples);
    struct client clients[MAX_CONNS];
    for (int k = 0; k < conns; k++)
        clients[k] = (struct client){.fd = -1};
    double start = now();
    run(clients, conns, start + seconds);
    double took = now() - start;
    for (int k = 0; k < conns; k++)
        drop_client(&clients[k], 0);
    qsort(samples, (size_t)nsamples, sizeof *samples, by_value);
    double p50 = nsamples ? samples[nsamples / 2] * 1000 : 0;
    double p99 = nsamples ? samples[(nsamples * 99) / 100] * 1000 : 0;
    printf("conns=%d requests=%ld errors=%ld seconds=%.3f rps=%.0f "
           "p50_ms=%.3f p99_ms=%.3f\n",
           conns, nsamples, errors, took, nsamples / took, p50, p99);
    free(samples);
    return 0;
}
