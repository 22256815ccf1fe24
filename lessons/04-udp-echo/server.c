/*
 * server.c - lesson 04: a UDP echo server (your work).
 *
 * It binds a UDP socket to HOST:PORT and sends every datagram it receives
 * back to the address it came from, until it is stopped (Ctrl-C or
 * SIGTERM: exit 0). There is no listen() and no accept(): UDP has no
 * connections, and each recvfrom() says who sent that one datagram.
 * server.py beside it is the same program in Python.
 *
 * Fill in the TODOs in the order of lessons/04-udp-echo/README.md; after
 * each step `make check LESSON=04` (or `check 04` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 9999; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 9999
/* TODO(step 5): make BUF_SIZE room for the largest datagram. */
#define BUF_SIZE 1024

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
static volatile sig_atomic_t stopping; /* set by SIGINT and SIGTERM */

/* Print "server: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "server: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
}

/* Fill addr from the command line; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: server [HOST [PORT]]\n");
        return -1;
    }
    if (argc > 1)
        host = argv[1];
    if (argc > 2) {
        char *end;
        errno = 0;
        long n = strtol(argv[2], &end, 10);
        if (errno || *end || end == argv[2] || n < 0 || n > 65535) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", argv[2]);
            fprintf(stderr, "usage: server [HOST [PORT]]\n");
            return -1;
        }
        port = (unsigned)n;
    }
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    /* Simplification: numeric IPv4 only, plus "localhost" as 127.0.0.1.
       Name lookup with getaddrinfo() comes in a later lesson. */
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
        fprintf(stderr, "server: bad address '%s' (use an IPv4 address "
                        "such as 127.0.0.1)\n", host);
        fprintf(stderr, "usage: server [HOST [PORT]]\n");
        return -1;
    }
    return 0;
}

/* Note that we were asked to stop; the blocked recvfrom() then fails with
   EINTR and the loop ends. */
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* Catch SIGINT and SIGTERM without SA_RESTART, so they interrupt
   recvfrom(); returns 0 or -1. */
static int catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    return 0;
}

/* Write "IP:PORT" of addr into text (at least 22 bytes). */
static void addr_text(const struct sockaddr_in *addr, char *text, size_t size) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof ip);
    snprintf(text, size, "%s:%u", ip, ntohs(addr->sin_port));
}

/* Create a UDP socket bound to addr; returns it or -1. */
static int open_socket(const struct sockaddr_in *addr) {
    /* TODO(step 1): a UDP socket bound to addr (no listen, no accept). */
    /* Until then, a stand-in that names the missing call. */
    char where[32];
    addr_text(addr, where, sizeof where);
    fprintf(stderr, "server: socket %s: %s\n", where, strerror(ENOSYS));
    return -1;
}

/* Print "listening on HOST:PORT" with the real port; returns 0 or -1.
   UDP has no listen(): the line means "bound and ready for datagrams". */
static int announce(int fd) {
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    port = ntohs(bound.sin_port); /* port 0 became a real one */
    printf("listening on %s:%u\n", host, port);
    fflush(stdout); /* a test reads this line from a pipe or file */
    return 0;
}

/* Send every datagram back to its sender until a signal stops us;
   returns 0, or -1 if the socket itself fails. */
static int echo_datagrams(int fd) {
    static char buf[BUF_SIZE]; /* static: 64 KiB is a lot for the stack */
    /* TODO(step 2): until stopping, receive each datagram, print "N bytes
       from IP:PORT" and send it back to its sender.
       TODO(steps 3-7): exactly its bytes, to its own sender; empty ones
       too; a failed reply is reported and the server goes on. */
    /* Until then, a stand-in that shows why UDP needs them: read() takes
       a datagram but not its sender, so write() has nobody to answer. */
    while (!stopping) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report("read");
            return -1;
        }
        struct sockaddr_in unknown;
        memset(&unknown, 0, sizeof unknown);
        char who[32];
        addr_text(&unknown, who, sizeof who);
        if (write(fd, buf, (size_t)n) < 0) {
            fprintf(stderr, "server: write %s: %s\n", who, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    if (catch_signals() < 0)
        return 1;
    int fd = open_socket(&addr);
    if (fd < 0)
        return 1;
    int status = 1;
    if (announce(fd) == 0 && echo_datagrams(fd) == 0)
        status = 0;
    close(fd);
    return status;
}
