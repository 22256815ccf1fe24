/*
 * server.c - lesson 02: an echo server that keeps talking (your work).
 *
 * It listens on HOST:PORT, accepts one client and echoes everything it
 * sends, for as long as it sends, until the client sends a line "bye" or
 * hangs up; then it exits 0. It finds "bye" however TCP cuts the bytes
 * up, and it stops when recv() says the client has gone instead of
 * spinning on it. server.py beside it is the same program in Python.
 *
 * Fill in the TODOs in the order of lessons/02-echo-repeat/README.md; after
 * each step `make check LESSON=02` (or `check 02` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 7788; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 7788
#define BUF_SIZE 1024 /* one recv() takes at most this many bytes */
#define BACKLOG 1     /* finished handshakes the kernel queues for accept() */

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* How a session ended. */
enum session {
    SESSION_BYE,    /* the client said bye */
    SESSION_HANGUP, /* it closed the connection: end-of-file */
    SESSION_GONE,   /* it reset the connection, or left without reading */
    SESSION_ERROR   /* something failed on our side */
};

/* The start of the line being received: just enough to tell "bye". */
struct line_watch {
    char head[4]; /* its first bytes */
    size_t len;   /* its length so far, counting stops at 5 */
};

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

/* Create a TCP socket bound to addr and listening; returns it or -1. */
static int open_listener(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        report("socket");
        return -1;
    }
    /* Without SO_REUSEADDR a restart fails for a minute while the old
       connection sits in TIME_WAIT. It does not let two servers share a
       port: that still fails with EADDRINUSE. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        report("setsockopt");
    } else if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        report("bind");
    } else if (listen(fd, BACKLOG) < 0) {
        report("listen");
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* Print "listening on HOST:PORT" with the real port; returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    port = ntohs(bound.sin_port); /* port 0 became a real one */
    printf("listening on %s:%u\n", host, port);
    /* stdout is a pipe or file under a test, so it is fully buffered:
       without this flush nobody would see the line until exit. */
    fflush(stdout);
    return 0;
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

/* Did the last call fail only because the client has gone: it reset the
   connection (ECONNRESET), or closed it before we wrote (EPIPE)? */
static int client_gone(void) {
    return errno == ECONNRESET || errno == EPIPE;
}

/* Is the line in w, which a newline just ended, "bye" or "bye\r"? */
static int is_bye(const struct line_watch *w) {
    return (w->len == 3 && memcmp(w->head, "bye", 3) == 0) ||
           (w->len == 4 && memcmp(w->head, "bye\r", 4) == 0);
}

/* Follow the lines in len bytes of buf, carrying on from where the last
   chunk stopped; returns how many bytes to echo: all of them, or up to
   and including the newline of a "bye" line (then *bye is set). Yours in
   step 4. */
static size_t watch_lines(struct line_watch *w, const char *buf, size_t len,
                          int *bye) {
    /* TODO(step 4): find a line that is exactly bye (or bye\r) in these
       bytes, even when recv() cut it in two; echo nothing after it. */
    /* Until then, a stand-in: bye only when one recv() brought that line
       alone; a bye cut in two, or after other lines, goes unnoticed. */
    if (len >= 1 && len - 1 <= sizeof w->head && buf[len - 1] == '\n') {
        w->len = len - 1;
        memcpy(w->head, buf, w->len);
        *bye = is_bye(w);
    }
    return len;
}

/* Echo what the client sends as it arrives until a "bye" line or the end
   of the stream; returns how the session ended. */
static enum session echo_session(int conn) {
    struct line_watch w = {.len = 0};
    char buf[BUF_SIZE];
    /* TODO(step 1): echo everything the client sends, in a loop, until the
       session ends; echo bytes as they come, not a line at a time.
       TODO(step 5): end-of-file, a reset or a vanished client ends it too. */
    ssize_t n;
    do {
        n = recv(conn, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        report("recv");
        return SESSION_ERROR;
    }
    printf("received %zd bytes\n", n);
    int bye = 0;
    size_t echo = watch_lines(&w, buf, (size_t)n, &bye);
    if (send_all(conn, buf, echo) < 0) {
        if (client_gone())
            return SESSION_GONE;
        report("send");
        return SESSION_ERROR;
    }
    if (bye)
        return SESSION_BYE;
    return SESSION_HANGUP; /* not true: we just stopped after one recv() */
}

/* Wait for one client and serve it; returns the exit status for main. */
static int serve_one(int listener) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int conn = accept(listener, (struct sockaddr *)&peer, &len);
    if (conn < 0) {
        report("accept");
        return 1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    printf("connection from %s:%u\n", ip, ntohs(peer.sin_port));
    enum session how = echo_session(conn);
    if (how == SESSION_BYE)
        printf("the client said bye\n");
    else if (how == SESSION_HANGUP)
        printf("the client hung up\n");
    else if (how == SESSION_GONE)
        printf("the client went away (connection reset)\n");
    close(conn);
    /* However the client left, the session is over and the server did
       its job: only a failure on our side is status 1. */
    return how == SESSION_ERROR ? 1 : 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    int listener = open_listener(&addr);
    if (listener < 0)
        return 1;
    int status = 1;
    if (announce(listener) == 0)
        status = serve_one(listener);
    close(listener);
    return status;
}
