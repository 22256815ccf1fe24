/*
 * server.c - lesson 07: lesson 06's select() echo server, listening on a
 * host *name* (your work).
 *
 * HOST may be a name (localhost, this machine's name) or an address, IPv4
 * or IPv6, and PORT a number or a service name: getaddrinfo() turns them
 * into the addresses to try, and the server listens on the first one it
 * can bind. It prints the address it got, in numbers, from getnameinfo().
 * A name the resolver does not know gets its own message (gai_strerror)
 * and exit status 1. The rest is lesson 06:
 *
 * Every socket is non-blocking, and one loop waits in select() for whatever
 * can happen next: a new connection on the listener, bytes from a client,
 * room to send a client its echo. Each client has its own output buffer,
 * where its echo waits until the client reads it, so a slow or silent
 * client never holds up the others: one thread serves them all.
 *
 * Protocol, as in lesson 02: what a client sends is echoed as it arrives;
 * a line "bye" (or end-of-file) ends that client's session. The server runs
 * until SIGINT or SIGTERM, then closes every connection and exits 0.
 *
 * Fill in the TODOs of step 7 (lessons/07-names/README.md); after it,
 * `make check LESSON=07` (or `check 07` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080" /* lesson 06's port */
#define BACKLOG 128       /* connections the kernel queues until we accept */
#define OUT_SIZE 16384    /* echo bytes a client may leave unread */
#define NAME_SIZE 80      /* "ADDRESS:PORT", IPv6 and a scope included */

/* The start of the line being received: just enough to tell "bye". */
struct line_watch {
    char head[4]; /* its first bytes */
    size_t len;   /* its length so far, counting stops at 5 */
};

/* One connected client: its socket, its lines, its echo waiting to go. */
struct client {
    int fd;
    char name[NAME_SIZE];           /* "ADDRESS:PORT", for the log */
    struct line_watch watch;        /* its own: lines arrive in pieces */
    char out[OUT_SIZE];             /* echo not sent yet */
    size_t out_len;
    int closing; /* "bye" or end-of-file seen: close once out[] is sent */
};

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT; /* a number or a service name */
/* The clients, indexed by fd: select() speaks in fds, so this finds the
   client of a ready fd at once. Every fd we keep is below FD_SETSIZE. */
static struct client *clients[FD_SETSIZE];
static int accept_paused; /* out of fds: stop watching the listener */
static volatile sig_atomic_t stopping; /* set by SIGINT and SIGTERM */
static sigset_t wait_mask; /* the signal mask to wait in pselect() with */

/* Print "server: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "server: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Print "server: CALL HOST:PORT: reason" for the error code err that
   getaddrinfo() or getnameinfo() returned. */
static void report_gai(const char *call, int err) {
    /* TODO(step 7): gai_strerror(err) says it in words (strerror(errno)
       when err is EAI_SYSTEM), as in the client. */
    fprintf(stderr, "server: %s %s:%s: %s\n", call, host, port,
            err == EAI_SYSTEM ? strerror(errno) : "unknown error");
}

/* Is s a whole number? */
static int is_number(const char *s) {
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Read HOST and PORT from the command line; returns 0, or -1 after
   printing usage. getaddrinfo() checks the names later. */
static int parse_args(int argc, char **argv) {
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: server [HOST [PORT]]\n");
        return -1;
    }
    if (argc > 1)
        host = argv[1];
    if (argc > 2) {
        port = argv[2];
        if (is_number(port) && (strlen(port) > 5 || atol(port) > 65535)) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", port);
            fprintf(stderr, "usage: server [HOST [PORT]]\n");
            return -1;
        }
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
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop, wait_mask) < 0) {
        report("sigprocmask");
        return -1;
    }
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    return 0;
}

/* Create a TCP socket listening on the first address of host:port that
   can be bound; returns it, or -1 after reporting why none could. */
static int open_listener(void) {
    /* TODO(step 7): getaddrinfo() with AI_PASSIVE for a stream socket;
       socket(), setsockopt(SO_REUSEADDR), bind(), listen() on each result
       until one works; freeaddrinfo() after. */
    errno = ENOSYS;
    report_gai("getaddrinfo", EAI_SYSTEM);
    return -1;
}

/* Write socket address sa (len bytes) as "ADDRESS:PORT", in numbers, into
   out (NAME_SIZE bytes); returns 0, or -1 after reporting why not. */
static int format_address(const struct sockaddr *sa, socklen_t len,
                          char *out) {
    /* TODO(step 7): getnameinfo() with NI_NUMERICHOST | NI_NUMERICSERV:
       numbers, for any family, and no lookup. */
    snprintf(out, NAME_SIZE, "(family %d, %u bytes)", sa->sa_family,
             (unsigned)len);
    return 0;
}

/* Print "listening on ADDRESS:PORT", the address and the real port the
   listener got; returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_storage bound; /* room for IPv4 and IPv6 alike */
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    char name[NAME_SIZE];
    if (format_address((struct sockaddr *)&bound, len, name) < 0)
        return -1;
    printf("listening on %s\n", name);
    fflush(stdout);
    return 0;
}

/* Make fd non-blocking: calls on it return EAGAIN instead of waiting.
   Returns 0 or -1. */
static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        report("fcntl");
        return -1;
    }
    return 0;
}

/* Register the new connection fd from peer, a socket address of len
   bytes of any family; returns 0, or -1 (the caller closes fd). */
static int add_client(int fd, const struct sockaddr *peer, socklen_t len) {
    if (set_nonblocking(fd) < 0)
        return -1;
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        report("calloc");
        return -1;
    }
    if (format_address(peer, len, c->name) < 0) {
        free(c);
        return -1;
    }
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

/* Accept every connection waiting on the (non-blocking) listener, IPv4
   and IPv6 clients alike; returns 0, or -1 on an error that should stop
   the server. */
static int accept_clients(int listener) {
    for (;;) {
        struct sockaddr_storage peer; /* an IPv4 or an IPv6 client */
        socklen_t len = sizeof peer;
        int fd = accept(listener, (struct sockaddr *)&peer, &len);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0; /* no one else is waiting */
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue; /* that one gave up already; try the next */
            report("accept");
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* Out of fds or memory. The listener stays readable, so
                   watching it now would make select() return at once,
                   again and again: pause it until a client leaves. */
                accept_paused = 1;
                return 0;
            }
            return -1;
        }
        if (fd >= FD_SETSIZE) {
            /* FD_SET() on an fd this high would write past the end of the
               fd_set: undefined behaviour. Refuse the connection. */
            fprintf(stderr,
                    "server: accept %s:%s: fd %d is past FD_SETSIZE "
                    "(%d), the most select() can watch: connection "
                    "closed\n",
                    host, port, fd, FD_SETSIZE);
            close(fd);
        } else if (add_client(fd, (struct sockaddr *)&peer, len) < 0) {
            close(fd);
        }
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
    /* A client that sends and never reads fills out[]: then we stop
       reading it, and TCP makes it wait, not the other clients. */
    return c->out_len < sizeof c->out;
}

/* Read what client c sent straight into the free end of its output
   buffer, when it has room: the echo is the bytes themselves. Returns 0,
   or -1 when the connection is broken. */
static int read_client(struct client *c) {
    if (!has_room(c))
        return 0; /* no room for the echo: the bytes wait in the kernel */
    ssize_t n = recv(c->fd, c->out + c->out_len, sizeof c->out - c->out_len, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0; /* nothing after all: select() will tell us again */
        fprintf(stderr, "server: recv %s: %s\n", c->name, strerror(errno));
        return -1;
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
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        fprintf(stderr, "server: send %s: %s\n", c->name, strerror(errno));
        return -1;
    }
    c->out_len -= (size_t)n;
    memmove(c->out, c->out + n, c->out_len);
    return 0;
}

/* Fill the sets for select(): the listener, each client for reading while
   its output buffer has room, and for writing while it has output
   waiting. Returns the highest fd in the sets. */
static int fill_sets(int listener, fd_set *readable, fd_set *writable) {
    FD_ZERO(readable);
    FD_ZERO(writable);
    int max_fd = listener;
    if (!accept_paused)
        FD_SET(listener, readable);
    for (int fd = 0; fd < FD_SETSIZE; fd++) {
        struct client *c = clients[fd];
        if (!c)
            continue;
        if (!c->closing && has_room(c))
            FD_SET(fd, readable);
        if (c->out_len > 0)
            FD_SET(fd, writable);
        max_fd = fd > max_fd ? fd : max_fd;
    }
    return max_fd;
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
        /* pselect() is select() that unblocks the stop signals only while
           it waits (see block_stop_signals). */
        if (pselect(max_fd + 1, &readable, &writable, NULL, NULL,
                    &wait_mask) < 0) {
            if (errno == EINTR)
                continue; /* a signal: the loop condition decides */
            report("select");
            return 1;
        }
        if (on_ready(listener, &readable, &writable) < 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    /* The log goes to a file under a test: one line at a time makes each
       visible as soon as it is written. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (catch_signals() < 0 || block_stop_signals(&wait_mask) < 0)
        return 1;
    int listener = open_listener();
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
