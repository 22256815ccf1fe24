/*
 * server.c - lesson 08: a framed echo server (your work).
 *
 * TCP carries a stream of bytes, not messages: one send() can arrive in
 * many recv()s, and two send()s in one. So each message travels as a
 * frame: a 4-byte length in network byte order, then that many bytes of
 * payload. This server reads frames and sends each one back, framed the
 * same way. Every client has a thread of its own (lesson 03), so one
 * client that stops in the middle of a frame holds up nobody else. A
 * length over MAX_FRAME is refused before anything is allocated: that
 * client is told nothing more and closed. SIGUSR1 prints how many frames
 * were echoed so far; SIGTERM or SIGINT (Ctrl-C) stops the server.
 *
 * Fill in the TODOs in the order of lessons/08-framing/README.md; after
 * each step `make check LESSON=08` (or `check 08` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define MAX_FRAME (1024 * 1024 + 1024) /* largest payload: 1 MiB + 1 KiB */
#define BACKLOG 64  /* connections the kernel queues before accept() */
#define NAME_SIZE 80 /* "IP:PORT" of a client, IPv6 included */

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
static int listener = -1; /* the signal handler shuts it down */
/* Atomic, not just volatile: the handlers may run in any thread. */
static atomic_int stopping;
static atomic_ulong frames_echoed; /* for the SIGUSR1 status line */

/* One client, handed from the accepting thread to its own thread. */
struct client {
    int fd;
    char name[NAME_SIZE]; /* "127.0.0.1:50312" */
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

/* Read HOST and PORT from the command line; returns 0, or -1 after
   printing usage. */
static int parse_args(int argc, char **argv) {
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
    return 0;
}

/* Write the numeric "IP:PORT" of addr into name (size bytes). */
static void name_address(const struct sockaddr *addr, socklen_t len,
                         char *name, size_t size) {
    char ip[64], serv[16];
    if (getnameinfo(addr, len, ip, sizeof ip, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(name, size, "?");
    else
        snprintf(name, size, "%s:%s", ip, serv);
}

/* Make a listening TCP socket from one address getaddrinfo() gave;
   returns it, or -1 with errno set and *failed naming the call. */
static int listen_on(const struct addrinfo *ai, const char **failed) {
    *failed = "socket";
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -1;
    /* Without SO_REUSEADDR a restart fails for a minute while the old
       connection sits in TIME_WAIT. */
    int on = 1;
    if ((*failed = "setsockopt",
         setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0) &&
        (*failed = "bind", bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) &&
        (*failed = "listen", listen(fd, BACKLOG) == 0))
        return fd;
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}

/* Look HOST up (lesson 07) and listen on the first of its addresses that
   works; returns the socket, or -1 after printing why. */
static int open_listener(void) {
    struct addrinfo hints, *list;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "server: getaddrinfo %s:%u: %s\n", host, port,
                gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    const char *failed = "bind";
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next)
        fd = listen_on(ai, &failed);
    if (fd < 0)
        report(failed); /* why the last address failed */
    freeaddrinfo(list);
    return fd;
}

/* Print "listening on IP:PORT" with the real port; returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    char name[NAME_SIZE];
    name_address((struct sockaddr *)&bound, len, name, sizeof name);
    const char *colon = strrchr(name, ':');
    if (colon)
        port = (unsigned)atoi(colon + 1); /* port 0 became a real one */
    printf("listening on %s\n", name);
    /* stdout is a pipe or file under a test, so it is fully buffered:
       without this flush nobody would see the line until exit. */
    fflush(stdout);
    return 0;
}

/* Did the last call fail only because the client has gone: it reset the
   connection (ECONNRESET), or closed it before we wrote (EPIPE)? */
static int client_gone(void) {
    return errno == ECONNRESET || errno == EPIPE;
}

/* Receive exactly len bytes into buf, calling recv() as often as it
   takes; returns len, fewer if the peer closed the connection first, or
   -1 on an error. */
static ssize_t recv_all(int fd, void *buf, size_t len) {
    /* TODO(step 2): one recv() may bring fewer bytes than asked: call it
       again until len bytes are in, stopping early at end-of-file. */
    return recv(fd, buf, len, 0); /* the pitfall: one recv() */
}

/* Send all len bytes of buf, calling send() as often as it takes;
   returns 0 or -1. */
static int send_all(int fd, const void *buf, size_t len) {
    /* TODO(step 5): send() may take fewer bytes than asked (a signal
       cut it short): send the rest until all len bytes are gone. */
    return send(fd, buf, len, MSG_NOSIGNAL) < 0 ? -1 : 0; /* one send() */
}

/* Send one frame: the 4-byte length of payload in network byte order,
   then the len bytes of payload; returns 0 or -1. */
static int send_frame(int fd, const char *payload, uint32_t len) {
    /* TODO(step 1): send the length as 4 bytes in network byte order,
       then the payload. */
    return send_all(fd, payload, len); /* no header yet */
}

/* Receive the len bytes of one part of a frame of client c (its header
   or its payload); returns 1, 0 when the client closed before the first
   byte of a header (a clean end, between two frames), or -1 after
   printing why: an error, or a connection closed in the middle. */
static int recv_part(const struct client *c, void *buf, size_t len,
                     int is_header) {
    ssize_t n = recv_all(c->fd, buf, len);
    if (n == (ssize_t)len)
        return 1;
    if (n == 0 && is_header)
        return 0;
    if (n < 0) {
        if (!client_gone())
            report_at("recv", c->name);
        return -1;
    }
    fprintf(stderr,
            "server: %s closed the connection in the middle of a frame "
            "(%zd of %zu bytes of its %s)\n", c->name, n, len,
            is_header ? "length" : "payload");
    return -1;
}

/* Read one frame from client c into a new buffer *payload (free it) of
   *len bytes; returns 1, 0 when the client closed between two frames, or
   -1 after printing why (an error, a frame cut short, a length over
   MAX_FRAME). */
static int read_frame(const struct client *c, char **payload, uint32_t *len) {
    *payload = NULL;
    *len = 0;
    uint32_t header; /* the length, as it came: in network byte order */
    int r = recv_part(c, &header, sizeof header, 1);
    if (r <= 0)
        return r;
    /* TODO(step 1): convert the length to host byte order (ntohl()),
       allocate that many bytes, and receive the payload (recv_part()). */
    /* TODO(step 4): before allocating anything, refuse a length over
       MAX_FRAME: one line on stderr that gives both numbers, return -1. */
    errno = ENOSYS;
    report_at("read_frame", c->name);
    return -1;
}

/* Echo the frames of client c until it closes the connection or
   something goes wrong; returns 0 for a clean end, -1 otherwise. */
static int echo_frames(const struct client *c) {
    for (;;) {
        char *payload;
        uint32_t len;
        int r = read_frame(c, &payload, &len);
        if (r <= 0)
            return r;
        r = send_frame(c->fd, payload, len);
        free(payload);
        if (r < 0) {
            if (!client_gone())
                report_at("send", c->name);
            return -1;
        }
        atomic_fetch_add(&frames_echoed, 1);
    }
}

/* The thread of one client: echo its frames, then close the socket and
   free c; returns NULL, as nobody waits for it. */
static void *client_thread(void *arg) {
    struct client *c = arg;
    if (echo_frames(c) == 0)
        printf("%s: hung up\n", c->name);
    else
        printf("%s: connection closed\n", c->name);
    close(c->fd);
    free(c);
    return NULL;
}

/* Serve connection conn from peer (an address of len bytes, any family)
   in a new detached thread; returns 0, or -1 after closing it (the server
   carries on with the next client). */
static int start_client(int conn, const struct sockaddr *peer,
                        socklen_t len) {
    struct client *c = malloc(sizeof *c);
    if (!c) {
        report("malloc");
        close(conn);
        return -1;
    }
    c->fd = conn;
    name_address(peer, len, c->name, sizeof c->name);
    printf("connection from %s\n", c->name);
    /* Detached: the thread's memory goes back when it ends. */
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

/* Accept clients of any address family, each into a thread of its own,
   until a stop signal; returns the exit status for main. */
static int serve_forever(int fd) {
    while (!atomic_load(&stopping)) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int conn = accept(fd, (struct sockaddr *)&peer, &len);
        if (conn >= 0) {
            start_client(conn, (struct sockaddr *)&peer, len);
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

/* Write "server: N frames echoed\n" into line (at least 48 bytes) without
   printf, which a signal handler must not call; returns its length. */
static size_t format_status(char *line, unsigned long frames) {
    char digits[24];
    size_t n = 0, len = 0;
    do {
        digits[n++] = (char)('0' + frames % 10);
        frames /= 10;
    } while (frames > 0);
    memcpy(line, "server: ", 8);
    len = 8;
    while (n > 0)
        line[len++] = digits[--n];
    memcpy(line + len, " frames echoed\n", 15);
    return len + 15;
}

/* SIGUSR1: print how many frames were echoed so far, with write() only
   (it is async-signal-safe; printf is not). */
static void on_status(int sig) {
    (void)sig;
    int err = errno; /* write() may change it under the interrupted code */
    char line[64];
    size_t len = format_status(line, atomic_load(&frames_echoed));
    if (write(STDOUT_FILENO, line, len) < 0) {
        /* Nothing to do: a handler has nobody to tell. */
    }
    errno = err;
}

/* Ignore SIGPIPE, catch SIGTERM and SIGINT, and print the status on
   SIGUSR1; returns 0 or -1. */
static int setup_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    /* No SA_RESTART, on purpose: a signal makes a recv() or send() that
       is waiting in any thread return early, with EINTR or a short count,
       as it would in a program that must not restart them (lessons 05
       and 06). recv_all() and send_all() have to cope. */
    sa.sa_flags = 0;
    sa.sa_handler = on_status;
    if (sigaction(SIGUSR1, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    listener = open_listener();
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
