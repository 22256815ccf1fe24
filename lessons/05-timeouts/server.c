/*
 * server.c - lesson 05: an echo server that drops idle clients
 * (your work).
 *
 * Lesson 03's threaded echo server: it listens on HOST:PORT, gives each
 * client a thread that echoes until the client says bye or hangs up, and
 * runs until SIGTERM or SIGINT (Ctrl-C), then exits 0. New here: with
 * --idle SECONDS, a client that sends nothing for that long (or stops
 * reading its echoes) is dropped, so a forgotten connection does not hold
 * a thread and a socket for ever; the other clients carry on. Python's
 * settimeout() does this underneath.
 *
 * Fill in the TODOs in the order of lessons/05-timeouts/README.md; after
 * each step `make check LESSON=05` (or `check 05` in the lab) says how it went.
 *
 * usage: server [--idle SECONDS] [HOST [PORT]]
 *        default 127.0.0.1 8080, no idle limit; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define BUF_SIZE 1024     /* one recv() takes at most this many bytes */
#define BACKLOG 64        /* connections the kernel queues before accept() */
#define USAGE "usage: server [--idle SECONDS] [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
static double idle_limit; /* --idle: seconds of silence allowed; 0: any */
static int listener = -1; /* the signal handler shuts it down */
/* Atomic, not just volatile: the handler may run in any thread. */
static atomic_int stopping;

/* How a session ended. */
enum session { SESSION_BYE, SESSION_HANGUP, SESSION_IDLE, SESSION_ERROR };

/* One client, handed from the accepting thread to its own thread. */
struct client {
    int fd;
    char name[INET_ADDRSTRLEN + 8]; /* "127.0.0.1:50312" */
};

/* The start of the line being received: just enough to tell "bye". */
struct line_watch {
    char head[4]; /* its first bytes */
    size_t len;   /* its length so far, counting stops at 5 */
};

/* Print "server: WHAT WHERE: reason" for the current errno, WHERE being
   HOST:PORT of the server or of a client. Safe in any thread. */
static void report_at(const char *what, const char *where) {
    char reason[128];
    /* strerror() may use one buffer for every thread; strerror_r() fills
       ours. */
    if (strerror_r(errno, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", errno);
    fprintf(stderr, "server: %s %s: %s\n", what, where, reason);
}

/* Print "server: WHAT HOST:PORT: reason" about the server's own socket. */
static void report(const char *what) {
    int err = errno;
    char where[64];
    snprintf(where, sizeof where, "%s:%u", host, port);
    errno = err;
    report_at(what, where);
}

/* Read "--idle SECONDS" at argv[*i] if it is there; returns 0, or -1
   after printing why the value is bad. */
static int parse_idle(int argc, char **argv, int *i) {
    if (*i >= argc || strcmp(argv[*i], "--idle") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "server: --idle needs a number of seconds\n");
        return -1;
    }
    char *end;
    errno = 0;
    double s = strtod(argv[*i + 1], &end);
    /* !(s > 0) also rejects NaN. */
    if (errno || *end || end == argv[*i + 1] || !(s > 0) || s > 86400) {
        fprintf(stderr, "server: bad idle time '%s' (seconds > 0)\n",
                argv[*i + 1]);
        return -1;
    }
    idle_limit = s;
    *i += 2;
    return 0;
}

/* Fill addr and idle_limit from the command line; returns 0, or -1 after
   printing usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    int i = 1;
    if (parse_idle(argc, argv, &i) < 0)
        goto usage;
    if (argc - i > 2 || (i < argc && argv[i][0] == '-'))
        goto usage;
    if (i < argc)
        host = argv[i++];
    if (i < argc) {
        char *end;
        errno = 0;
        long n = strtol(argv[i], &end, 10);
        if (errno || *end || end == argv[i] || n < 0 || n > 65535) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", argv[i]);
            goto usage;
        }
        port = (unsigned)n;
    }
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    /* Simplification: numeric IPv4 only, plus "localhost" as 127.0.0.1. */
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
        fprintf(stderr, "server: bad address '%s' (use an IPv4 address "
                        "such as 127.0.0.1)\n", host);
        goto usage;
    }
    return 0;
usage:
    fputs(USAGE, stderr);
    return -1;
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

/* Make recv() and send() on client c's socket fail with EAGAIN after
   idle_limit seconds without progress; returns 0 or -1. */
static int set_idle_timeout(const struct client *c) {
    /* TODO(step 3): make recv() and send() on c->fd give up after
       idle_limit seconds. */
    /* Until then, a stand-in: say so, and recv() waits for ever. */
    fprintf(stderr, "server: %s: no idle timeout yet (step 3)\n", c->name);
    return 0;
}

/* Echo what client c sends as it arrives until a "bye" line, the end of
   the stream or idle_limit seconds of silence; returns how the session
   ended. Everything it touches is its own (c, w, buf): threads share
   nothing here. */
static enum session echo_session(const struct client *c) {
    struct line_watch w = {.len = 0};
    char buf[BUF_SIZE];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        /* TODO(step 3): nothing came for idle_limit seconds: SESSION_IDLE. */
        if (n < 0) {
            report_at("recv", c->name);
            return SESSION_ERROR;
        }
        if (n == 0)
            return SESSION_HANGUP;
        printf("%s: received %zd bytes\n", c->name, n);
        int bye = 0;
        size_t echo = watch_lines(&w, buf, (size_t)n, &bye);
        if (send_all(c->fd, buf, echo) < 0) {
            /* TODO(step 3): the same for send() and SO_SNDTIMEO: a client
               that stopped reading its echoes is idle too. */
            report_at("send", c->name);
            return SESSION_ERROR;
        }
        if (bye)
            return SESSION_BYE;
    }
}

/* The thread of one client: set its idle timeout, echo until the session
   ends, then close the socket and free c; returns NULL, as nobody waits
   for it. */
static void *client_thread(void *arg) {
    struct client *c = arg;
    enum session how = SESSION_ERROR;
    if (idle_limit == 0 || set_idle_timeout(c) == 0)
        how = echo_session(c);
    if (how == SESSION_IDLE)
        printf("dropped idle client %s\n", c->name);
    else if (how == SESSION_BYE)
        printf("%s: said bye\n", c->name);
    else if (how == SESSION_HANGUP)
        printf("%s: hung up\n", c->name);
    close(c->fd);
    free(c);
    return NULL;
}

/* Serve connection conn from peer in a new detached thread; returns 0, or
   -1 after closing it (the server carries on with the next client). */
static int start_client(int conn, const struct sockaddr_in *peer) {
    struct client *c = malloc(sizeof *c);
    if (!c) {
        report("malloc");
        close(conn);
        return -1;
    }
    c->fd = conn;
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
    snprintf(c->name, sizeof c->name, "%s:%u", ip, ntohs(peer->sin_port));
    printf("connection from %s\n", c->name);
    /* Detached: the thread's memory goes back when it ends. A joinable
       thread nobody joins keeps its stack (8 MiB of address space) for
       ever, and a busy server soon can make no more. */
    pthread_attr_t attr;
    pthread_t thread;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&thread, &attr, client_thread, c);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        errno = rc; /* pthread calls return the error instead */
        report("pthread_create");
        close(conn);
        free(c);
        return -1;
    }
    return 0;
}

/* Sleep a tenth of a second. */
static void pause_briefly(void) {
    struct timespec tenth = {0, 100 * 1000 * 1000};
    nanosleep(&tenth, NULL);
}

/* Accept clients, each into a thread of its own, until a stop signal;
   returns the exit status for main. */
static int serve_forever(int fd) {
    while (!atomic_load(&stopping)) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int conn = accept(fd, (struct sockaddr *)&peer, &len);
        if (conn >= 0) {
            start_client(conn, &peer);
            continue;
        }
        if (atomic_load(&stopping))
            break; /* the handler shut the listener down */
        int err = errno;
        if (err == EINTR || err == ECONNABORTED)
            continue; /* a signal, or a client gone before we got to it */
        report("accept");
        if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
            return 1;
        /* Out of fds or memory: the client stays queued, and accept()
           would fail again at once. Simplification: wait a little for
           other clients to leave instead of spinning. */
        pause_briefly();
    }
    printf("shutting down\n");
    return 0;
}

/* SIGTERM, SIGINT: note that we stop, and wake the accept() loop. */
static void on_stop(int sig) {
    (void)sig;
    atomic_store(&stopping, 1);
    /* A flag alone would be seen only after the next client. shutdown()
       is async-signal-safe, and on Linux it makes accept(), blocked in
       any thread or called later, fail at once. */
    shutdown(listener, SHUT_RDWR);
}

/* Ignore SIGPIPE and catch SIGTERM and SIGINT; returns 0 or -1. */
static int setup_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* Writing to a connection the peer has reset raises SIGPIPE, which
       kills the whole process: every client, for one that left. send_all()
       passes MSG_NOSIGNAL; ignoring the signal covers every other write. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART; /* other threads' calls carry on */
    if (sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGINT, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    /* Threads print to stdout, which a test reads from a file while we
       run: a line at a time, so each is there as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    listener = open_listener(&addr);
    if (listener < 0)
        return 1;
    int status = 1;
    if (setup_signals() == 0 && announce(listener) == 0)
        status = serve_forever(listener);
    /* Client threads still running end with the process: exit() closes
       their sockets, and their clients see the connection close. */
    close(listener);
    return status;
}
