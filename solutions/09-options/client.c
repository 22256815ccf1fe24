/*
 * client.c - lesson 09: write, write, read: what Nagle's algorithm costs a
 * request sent in two pieces, and what TCP_NODELAY changes (reference
 * solution).
 *
 * It connects to HOST:PORT and makes ROUNDS requests, each written with
 * two small send()s ("round 1: ", then "ping\n") and answered by the
 * server with the whole line. It times each round trip and prints the
 * median and the mean. With --nodelay it first turns TCP_NODELAY on, and
 * prints "TCP_NODELAY: asked 1, kernel gives 1". Then it closes first.
 *
 //> * Fill in the TODO of step 4 (lessons/09-options/README.md); then
 //> * `make check LESSON=09` (or `check 09` in the lab) says how it went.
 //> *
 * usage: client [--nodelay] [--rounds N] [HOST [PORT]]
 *        default 127.0.0.1 9000, 10 rounds
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "9000"
#define MAX_ROUNDS 1000
#define ANSWER_SIZE 64 /* "round 1000: ping\n" fits */
#define WAIT_SECONDS 5 /* for an answer, before we say "timed out" */
#define USAGE "usage: client [--nodelay] [--rounds N] [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT;

/* Print "client: WHAT HOST:PORT: reason" for the current errno (EAGAIN,
   the receive timeout, as "timed out"). */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
                                                    : strerror(errno));
}

/* Read a whole number from s into *n, between min and max; returns 0, or
   -1 when s is not one. */
static int parse_number(const char *s, long min, long max, int *n) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *n = (int)v;
    return 0;
}

/* Read the command line into *nodelay and *rounds (and host, port);
   returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv, int *nodelay, int *rounds) {
    int i = 1, n;
    *nodelay = 0;
    *rounds = 10;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--nodelay") == 0) {
            *nodelay = 1;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc &&
                   parse_number(argv[i + 1], 1, MAX_ROUNDS, rounds) == 0) {
            i++;
        } else {
            fprintf(stderr, "client: bad option '%s' (--rounds takes 1-%d)\n",
                    argv[i], MAX_ROUNDS);
            goto usage;
        }
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc) {
        port = argv[i++];
        if (parse_number(port, 1, 65535, &n) < 0) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", port);
            goto usage;
        }
    }
    if (i == argc)
        return 0;
usage:
    fputs(USAGE, stderr);
    return -1;
}

/* Connect to host:port, trying each address getaddrinfo() gives in turn;
   returns the socket, or -1 after saying why. */
static int connect_to(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        report("connect");
    freeaddrinfo(res);
    return fd;
}

/* Make recv() on fd give up after WAIT_SECONDS (lesson 05's SO_RCVTIMEO);
   returns 0 or -1. */
static int set_recv_timeout(int fd) {
    struct timeval tv = {.tv_sec = WAIT_SECONDS, .tv_usec = 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        report("setsockopt SO_RCVTIMEO");
        return -1;
    }
    return 0;
}

/* Turn Nagle's algorithm off on fd, so a small send() leaves at once even
   while earlier bytes wait for their ACK, and print what the kernel reads
   back; returns 0 or -1. */
static int set_nodelay(int fd) {
    /* TODO(step 4): setsockopt() TCP_NODELAY (level IPPROTO_TCP) to 1,
       getsockopt() it back into an int and print "TCP_NODELAY: asked 1,
       kernel gives GOT". On -1, report("setsockopt TCP_NODELAY") (or
       getsockopt) and return -1. */
    //{ step 4
    int on = 1, got = 0;
    socklen_t len = sizeof got;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) {
        report("setsockopt TCP_NODELAY");
        return -1;
    }
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &len) < 0) {
        report("getsockopt TCP_NODELAY");
        return -1;
    }
    printf("TCP_NODELAY: asked %d, kernel gives %d\n", on, got);
    return 0;
    //}
    //> printf("TCP_NODELAY: not set on fd %d, TODO(step 4)\n", fd);
    //> return 0;
}

/* Send all len bytes of buf, as send() may take fewer; returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Receive one answer line from fd into buf (size bytes, NUL-terminated);
   returns 0, or -1 after saying why. */
static int recv_line(int fd, char *buf, size_t size) {
    size_t len = 0;
    while (len == 0 || buf[len - 1] != '\n') {
        if (len == size - 1) {
            fprintf(stderr, "client: recv %s:%s: the answer is longer than "
                            "%zu bytes\n", host, port, size - 1);
            return -1;
        }
        ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report("recv");
            return -1;
        }
        if (n == 0) {
            fprintf(stderr, "client: recv %s:%s: the server closed the "
                            "connection\n", host, port);
            return -1;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return 0;
}

/* Read the monotonic clock, in milliseconds. */
static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Make request number i in two writes and wait for its answer; returns
   the round trip in milliseconds, or -1 after saying what went wrong. */
static double one_round(int fd, int i) {
    char head[32], answer[ANSWER_SIZE], expected[ANSWER_SIZE];
    snprintf(head, sizeof head, "round %d: ", i);
    snprintf(expected, sizeof expected, "%sping\n", head);
    double start = now_ms();
    /* Two small writes, then a read: the pattern Nagle's algorithm slows
       down. The second write waits until the first is acknowledged, and
       the server, which has no whole line yet, delays that ACK. */
    if (send_all(fd, head, strlen(head)) < 0 || send_all(fd, "ping\n", 5) < 0) {
        report("send");
        return -1;
    }
    if (recv_line(fd, answer, sizeof answer) < 0)
        return -1;
    double ms = now_ms() - start;
    if (strcmp(answer, expected) != 0) {
        fprintf(stderr, "client: recv %s:%s: the server answered '%.*s', "
                        "expected '%.*s'\n", host, port,
                (int)strcspn(answer, "\n"), answer,
                (int)strcspn(expected, "\n"), expected);
        return -1;
    }
    return ms;
}

/* Order two doubles for qsort(). */
static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Print the median and the mean of the n round trips in ms[] (sorts it). */
static void print_times(double *ms, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += ms[i];
    qsort(ms, (size_t)n, sizeof ms[0], by_value);
    /* The median: one slow round on a busy machine does not move it. */
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    printf("%d rounds of write, write, read: median %.3f ms, mean %.3f ms\n",
           n, median, sum / n);
}

int main(int argc, char **argv) {
    int nodelay, rounds;
    if (parse_args(argc, argv, &nodelay, &rounds) < 0)
        return 2;
    int fd = connect_to();
    if (fd < 0)
        return 1;
    double ms[MAX_ROUNDS];
    int status = 1, done = 0;
    if (set_recv_timeout(fd) == 0 && (!nodelay || set_nodelay(fd) == 0)) {
        while (done < rounds && (ms[done] = one_round(fd, done + 1)) >= 0)
            done++;
        if (done == rounds) {
            print_times(ms, rounds);
            status = 0;
        }
    }
    close(fd); /* we close first: the TIME_WAIT is ours, not the server's */
    return status;
}
