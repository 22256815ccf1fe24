/*
 * server.c - lesson 06: many clients, one thread: an echo server built on
 * select() (your work).
 *
 * Every socket is non-blocking, and one loop waits in select() for whatever
 * can happen next: a new connection on the listener, bytes from a client,
 * room to send a client its echo. Each client has its own output buffer,
 * where its echo waits until the client reads it, so a slow or silent
 * client never holds up the others. This is Python's setblocking(False)
 * and select.select() grown into the echo server of lessons 02 to 05, with
 * no thread per client: exactly one thread serves them all.
 *
 * Protocol, as in lesson 02: what a client sends is echoed as it arrives;
 * a line "bye" (or end-of-file) ends that client's session. The server runs
 * until SIGINT or SIGTERM, then closes every connection and exits 0.
 *
 * Fill in the TODOs in the order of lessons/06-select/README.md; after
 * each step `make check LESSON=06` (or `check 06` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define BACKLOG 128       /* connections the kernel queues until we accept */
#define OUT_SIZE 16384    /* echo bytes a client may leave unread */

/* The start of the line being received: just enough to tell "bye". */
struct line_watch {
    char head[4]; /* its first bytes */
    size_t len;   /* its length so far, counting stops at 5 */
};

/* One connected client: its socket, its lines, its echo waiting to go. */
struct client {
    int fd;
    char name[INET_ADDRSTRLEN + 8]; /* "IP:PORT", for the log */
    struct line_watch watch;        /* its own: lines arrive in pieces */
    char out[OUT_SIZE];             /* echo not sent yet */
    size_t out_len;
    int closing; /* "bye" or end-of-file seen: close once out[] is sent */
};

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
/* The clients, indexed by fd: select() speaks in fds, so this finds the
   client of a ready fd at once. Every fd we keep is below FD_SETSIZE. */
static struct client *clients[FD_SETSIZE];
static int accept_paused; /* out of fds: stop watching the listener */
static volatile sig_atomic_t stopping; /* set by SIGINT and SIGTERM */
static sigset_t wait_mask; /* the signal mask to wait in pselect() with */

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

/* Note that we were asked to stop; select() then fails with EINTR. */
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* Catch SIGINT and SIGTERM without SA_RESTART, so they interrupt the
   wait; returns 0 or -1. */
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

/* Block SIGINT and SIGTERM everywhere but in pselect(), so they can only
   arrive inside the wait, which they cut short, never just before it;
   stores the mask to wait with in wait_mask. Returns 0 or -1. */
static int block_stop_signals(sigset_t *wait_mask) {
    /* TODO(step 7): block SIGINT and SIGTERM with sigprocmask(SIG_BLOCK,
       &set_of_the_two, wait_mask): the old mask lands in wait_mask. Then
       sigdelset() both from wait_mask, so pselect(..., wait_mask) unblocks
       them while it waits. Until then: wait with nothing blocked. */
    sigemptyset(wait_mask);
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

/* Make fd non-blocking: calls on it return EAGAIN instead of waiting.
   Returns 0 or -1. */
static int set_nonblocking(int fd) {
    /* TODO(step 1): add O_NONBLOCK to fd's flags (fcntl F_GETFL, F_SETFL);
       on -1 report("fcntl") and return -1. */
    errno = ENOSYS;
    report("fcntl");
    return fd < 0 ? -1 : -1;
}

/* Register the new connection fd from peer; returns 0, or -1 (the caller
   closes fd). */
static int add_client(int fd, const struct sockaddr_in *peer) {
    if (set_nonblocking(fd) < 0)
        return -1;
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        report("calloc");
        return -1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
    snprintf(c->name, sizeof c->name, "%s:%u", ip, ntohs(peer->sin_port));
    c->fd = fd;
    clients[fd] = c;
    printf("connection from %s\n", c->name);
    return 0;
}

/* Close client c's connection and forget it. */
static void drop_client(struct client *c) {
    printf("closed %s\n", c->name);
    clients[c->fd] = NULL;
    close(c->fd);
    free(c);
    accept_paused = 0; /* an fd is free again */
}

/* Accept every connection waiting on the (non-blocking) listener; returns
   0, or -1 on an error that should stop the server. */
static int accept_clients(int listener) {
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = accept(listener, (struct sockaddr *)&peer, &len);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0; /* no one else is waiting */
            /* TODO(step 5): a client that left before we accepted it is no
               error: try the next. */
            report("accept");
            /* TODO(step 6): out of fds or memory, stop watching the
               listener until a client leaves, and carry on. */
            return -1;
        }
        /* TODO(step 6): an fd select() cannot watch is refused: say so on
           stderr, close it and carry on. */
        if (add_client(fd, &peer) < 0)
            close(fd);
    }
}

/* Is the line in w, which a newline just ended, "bye" or "bye\r"? */
static int is_bye(const struct line_watch *w) {
    return (w->len == 3 && memcmp(w->head, "bye", 3) == 0) ||
           (w->len == 4 && memcmp(w->head, "bye\r", 4) == 0);
}

/* Follow the lines in len bytes of buf, carrying on from where the last
   chunk stopped; returns how many bytes to echo: all of them, or up to
   and including the newline of a "bye" line (then *bye is set). */
static size_t watch_lines(struct line_watch *w, const char *buf, size_t len,
                          int *bye) {
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            if (is_bye(w)) {
                *bye = 1;
                return i + 1; /* what follows bye is not echoed */
            }
            w->len = 0;
        } else {
            if (w->len < sizeof w->head)
                w->head[w->len] = buf[i];
            if (w->len <= sizeof w->head)
                w->len++; /* 5 already means "longer than bye\r" */
        }
    }
    return len;
}

/* Can c's output buffer take more bytes? */
static int has_room(const struct client *c) {
    /* TODO(step 4): only while its output buffer is not full: a client
       that sends and never reads must wait, not the server. */
    return c != NULL; /* until then: always */
}

/* Read what client c sent straight into the free end of its output
   buffer, when it has room: the echo is the bytes themselves. Returns 0,
   or -1 when the connection is broken. */
static int read_client(struct client *c) {
    if (!has_room(c))
        return 0; /* no room for the echo: the bytes wait in the kernel */
    ssize_t n = recv(c->fd, c->out + c->out_len, sizeof c->out - c->out_len, 0);
    if (n < 0) {
        /* TODO(step 5): EAGAIN, EWOULDBLOCK and EINTR are no error; any
           other errno means the client is gone: say so, return -1. */
        return 0; /* until then: as if nothing happened */
    }
    if (n == 0) {
        c->closing = 1; /* end-of-file: send the rest of the echo, close */
        return 0;
    }
    int bye = 0;
    c->out_len += watch_lines(&c->watch, c->out + c->out_len, (size_t)n, &bye);
    if (bye)
        c->closing = 1;
    return 0;
}

/* Send as much of c's pending echo as the socket takes now; returns 0, or
   -1 when the connection is broken. */
static int write_client(struct client *c) {
    /* MSG_NOSIGNAL: a client that vanished gives EPIPE, not a SIGPIPE that
       would kill the whole server. */
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n < 0) {
        /* TODO(step 5): EAGAIN, EWOULDBLOCK and EINTR are no error; EPIPE,
           ECONNRESET and the rest mean the client is gone: say so, return
           -1. */
        return 0; /* until then: as if nothing happened */
    }
    /* A non-blocking send() takes what fits: keep the rest for later. */
    c->out_len -= (size_t)n;
    memmove(c->out, c->out + n, c->out_len);
    return 0;
}

/* Fill the sets for select(): the listener, each client for reading while
   its output buffer has room, and for writing while it has output
   waiting. Returns the highest fd in the sets. */
static int fill_sets(int listener, fd_set *readable, fd_set *writable) {
    /* TODO(step 1): FD_ZERO() both sets; FD_SET() the listener unless
       accept_paused, each client for reading unless closing and while
       has_room(), for writing while output waits; return the highest fd. */
    FD_ZERO(readable); /* until then, empty sets */
    FD_ZERO(writable);
    return listener;
}

/* Act on what select() said: accept new clients, read and write the ready
   ones, drop those that broke or are done; returns 0, or -1 after a fatal
   error. */
static int on_ready(int listener, fd_set *readable, fd_set *writable) {
    if (FD_ISSET(listener, readable) && accept_clients(listener) < 0)
        return -1;
    for (int fd = 0; fd < FD_SETSIZE; fd++) {
        struct client *c = clients[fd];
        if (!c)
            continue;
        int broken = 0;
        if (FD_ISSET(fd, readable))
            broken = read_client(c) < 0;
        if (!broken && FD_ISSET(fd, writable))
            broken = write_client(c) < 0;
        if (broken || (c->closing && c->out_len == 0))
            drop_client(c);
    }
    return 0;
}

/* Wait for events in pselect() and act on them until SIGTERM or SIGINT;
   returns 0, or 1 after a fatal error. */
static int serve(int listener) {
    while (!stopping) {
        fd_set readable, writable;
        int max_fd = fill_sets(listener, &readable, &writable);
        /* TODO(step 1): wait in select() until a fd in the sets is ready
           (EINTR: go round again); on_ready() then acts on what it says.
           TODO(step 7): wait with pselect() and wait_mask instead. */
        errno = ENOSYS; /* until then, no waiting: say which call */
        fprintf(stderr, "server: select of %d fds: %s\n", max_fd + 1,
                strerror(errno));
        return 1;
        if (on_ready(listener, &readable, &writable) < 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    /* The log goes to a file under a test: one line at a time makes each
       visible as soon as it is written. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (catch_signals() < 0 || block_stop_signals(&wait_mask) < 0)
        return 1;
    int listener = open_listener(&addr);
    if (listener < 0)
        return 1;
    int status = 1;
    if (announce(listener) == 0 && set_nonblocking(listener) == 0)
        status = serve(listener);
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (clients[fd])
            drop_client(clients[fd]);
    close(listener);
    return status;
}
