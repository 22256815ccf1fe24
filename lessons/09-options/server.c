/*
 * server.c - lesson 09: socket options, each one shown by what it does
 * (your work).
 *
 * A line echo server: it answers each complete line a client sends with
 * one send() of that line, until the client says "bye" (the server echoes
 * it and closes first) or closes. One client at a time. Around it, the
 * socket options of the command line, each set with setsockopt(), read
 * back with getsockopt() and printed as "OPTION: asked X, kernel gives Y":
 *
 *   SO_REUSEADDR   (on unless --no-reuseaddr) restart on a port whose old
 *                  connections still sit in TIME_WAIT
 *   --keepalive IDLE,INTVL,CNT   SO_KEEPALIVE with TCP_KEEPIDLE,
 *                  TCP_KEEPINTVL and TCP_KEEPCNT on each connection
 *   --rcvbuf N, --sndbuf N       SO_RCVBUF and SO_SNDBUF on the listener,
 *                  before listen(), so every connection gets them
 *   --linger0      SO_LINGER on with 0 s: close() resets the connection
 *
 * Fill in the TODOs in the order of lessons/09-options/README.md; after
 * each step `make check LESSON=09` (or `check 09` in the lab) says how it went.
 *
 * usage: server [--no-reuseaddr] [--keepalive IDLE,INTVL,CNT] [--rcvbuf N]
 *               [--sndbuf N] [--linger0] [HOST [PORT]]
 *        default 127.0.0.1 9000; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "9000"
#define BACKLOG 16
#define ADDR_SIZE (INET6_ADDRSTRLEN + 8) /* "IP:PORT" */
#define LINE_SIZE 1024 /* a longer line is echoed in pieces of this size */
#define USAGE                                                                \
    "usage: server [--no-reuseaddr] [--keepalive IDLE,INTVL,CNT] "          \
    "[--rcvbuf N] [--sndbuf N] [--linger0] [HOST [PORT]]\n"

/* What the command line asked for. */
struct options {
    int reuseaddr;             /* SO_REUSEADDR: 1 unless --no-reuseaddr */
    int keepalive;             /* --keepalive given */
    int idle, intvl, cnt;      /* its three numbers */
    int rcvbuf, sndbuf;        /* -1: leave the kernel's default */
    int linger0;               /* --linger0 given */
    const char *host, *port;   /* HOST and PORT */
};

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port;
static volatile sig_atomic_t stopping; /* set by SIGINT and SIGTERM */

/* Print "server: CALL HOST:PORT: reason" for the current errno, or
   "server: CALL OPTION HOST:PORT: reason" when option is not NULL. */
static void report(const char *call, const char *option) {
    fprintf(stderr, "server: %s%s%s %s:%u: %s\n", call, option ? " " : "",
            option ? option : "", host, port, strerror(errno));
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

/* Read "IDLE,INTVL,CNT" into o; returns 0, or -1 after saying why. The
   limits are the kernel's: 32767 s for the times, 127 probes. */
static int parse_keepalive(const char *s, struct options *o) {
    char copy[64];
    snprintf(copy, sizeof copy, "%s", s);
    char *intvl = strchr(copy, ',');
    char *cnt = intvl ? strchr(intvl + 1, ',') : NULL;
    if (cnt) {
        *intvl++ = '\0';
        *cnt++ = '\0';
        if (parse_number(copy, 1, 32767, &o->idle) == 0 &&
            parse_number(intvl, 1, 32767, &o->intvl) == 0 &&
            parse_number(cnt, 1, 127, &o->cnt) == 0) {
            o->keepalive = 1;
            return 0;
        }
    }
    fprintf(stderr, "server: bad --keepalive '%s' (IDLE,INTVL,CNT: seconds "
                    "1-32767, seconds 1-32767, probes 1-127)\n", s);
    return -1;
}

/* Read the value of option argv[*i] (a buffer size) into *n and step past
   it; returns 0, or -1 after saying why. */
static int parse_size(int argc, char **argv, int *i, int *n) {
    if (*i + 1 >= argc || parse_number(argv[*i + 1], 0, 1 << 30, n) < 0) {
        fprintf(stderr, "server: %s needs a size in bytes (0-1073741824)\n",
                argv[*i]);
        return -1;
    }
    (*i)++;
    return 0;
}

/* Fill o from the command line; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv, struct options *o) {
    *o = (struct options){.reuseaddr = 1, .rcvbuf = -1, .sndbuf = -1,
                          .host = DEFAULT_HOST, .port = DEFAULT_PORT};
    int i = 1, bad = 0;
    for (; !bad && i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--no-reuseaddr") == 0)
            o->reuseaddr = 0;
        else if (strcmp(argv[i], "--linger0") == 0)
            o->linger0 = 1;
        else if (strcmp(argv[i], "--keepalive") == 0 && i + 1 < argc)
            bad = parse_keepalive(argv[++i], o) < 0;
        else if (strcmp(argv[i], "--rcvbuf") == 0)
            bad = parse_size(argc, argv, &i, &o->rcvbuf) < 0;
        else if (strcmp(argv[i], "--sndbuf") == 0)
            bad = parse_size(argc, argv, &i, &o->sndbuf) < 0;
        else
            bad = 1;
    }
    int n;
    if (!bad && i < argc)
        o->host = argv[i++];
    if (!bad && i < argc) {
        o->port = argv[i++];
        if (parse_number(o->port, 0, 65535, &n) < 0) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", o->port);
            bad = 1;
        }
    }
    if (bad || i < argc) {
        fputs(USAGE, stderr);
        return -1;
    }
    host = o->host;
    port = (unsigned)atoi(o->port);
    return 0;
}

/* Note that we were asked to stop; accept() or recv() then fail with
   EINTR. */
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* Make SIGINT and SIGTERM set `stopping`, without SA_RESTART, so they cut
   accept() or recv() short; returns 0 or -1. */
static int catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        report("sigaction", NULL);
        return -1;
    }
    return 0;
}

/* Set the int option `name` of `level` on fd to value, read it back and
   print "LABEL: asked VALUE, kernel gives GOT"; returns 0 or -1. */
static int set_int_option(int fd, int level, int name, const char *label,
                          int value) {
    /* TODO(step 1): setsockopt() the option, then getsockopt() it back into
       an int and print the line above: the kernel may give another value
       than you asked for. On -1, report("setsockopt" or
       "getsockopt", label) and return -1. */
    printf("%s: not set, TODO(step 1): setsockopt(%d, %d, %d, %d)\n", label,
           fd, level, name, value);
    return 0;
}

/* Let the listener fd bind a port whose old connections are still in
   TIME_WAIT; returns 0 or -1. main() calls it before bind(), unless
   --no-reuseaddr. */
static int reuse_address(int fd) {
    return set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
}

/* Set the receive and send buffer sizes the options ask for on the
   listener fd, before listen(): connections accepted from it get them.
   Returns 0 or -1. */
static int set_buffer_sizes(int fd, const struct options *o) {
    /* TODO(step 3): when o->rcvbuf >= 0, set SO_RCVBUF to it; when
       o->sndbuf >= 0, SO_SNDBUF (both level SOL_SOCKET). */
    if (o->rcvbuf >= 0 || o->sndbuf >= 0)
        printf("SO_RCVBUF, SO_SNDBUF: not set on fd %d, TODO(step 3)\n", fd);
    return 0;
}

/* Open a socket for the address of o (the first getaddrinfo() gives),
   with its options, bound and listening; returns it or -1. */
static int open_listener(const struct options *o) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int err = getaddrinfo(o->host, o->port, &hints, &res);
    if (err) {
        fprintf(stderr, "server: getaddrinfo %s:%s: %s\n", o->host, o->port,
                gai_strerror(err));
        return -1;
    }
    /* Simplification: the first address only (lesson 13 tries them all). */
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        report("socket", NULL);
    } else if ((o->reuseaddr && reuse_address(fd) < 0) ||
               set_buffer_sizes(fd, o) < 0) {
        close(fd);
        fd = -1;
    } else if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        report("bind", NULL);
        close(fd);
        fd = -1;
    } else if (listen(fd, BACKLOG) < 0) {
        report("listen", NULL);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Write "IP:PORT" of addr into name (size bytes). */
static void format_address(const struct sockaddr *addr, socklen_t len,
                           char *name, size_t size) {
    char ip[INET6_ADDRSTRLEN], serv[8];
    if (getnameinfo(addr, len, ip, sizeof ip, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(name, size, "?");
    else
        snprintf(name, size, "%s:%s", ip, serv);
}

/* Print "listening on IP:PORT" with the address and port the kernel bound
   (PORT 0 became a real port); returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname", NULL);
        return -1;
    }
    char name[ADDR_SIZE];
    format_address((struct sockaddr *)&bound, len, name, sizeof name);
    port = (unsigned)atoi(strrchr(name, ':') + 1); /* port 0 became real */
    printf("listening on %s\n", name);
    fflush(stdout);
    return 0;
}

/* Turn keepalive on for connection fd with the times and count of o:
   after o->idle quiet seconds the kernel sends a probe, then one every
   o->intvl seconds, and gives up after o->cnt unanswered. Returns 0 or -1. */
static int set_keepalive(int fd, const struct options *o) {
    /* TODO(step 2): with set_int_option(): SO_KEEPALIVE (level SOL_SOCKET)
       to 1, then TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (level
       IPPROTO_TCP) to o->idle, o->intvl and o->cnt. */
    printf("SO_KEEPALIVE %d,%d,%d: not set on fd %d, TODO(step 2)\n",
           o->idle, o->intvl, o->cnt, fd);
    return 0;
}

/* Make close() on connection fd reset it (RST) instead of closing it
   gracefully (FIN), and print what the kernel reads back; returns 0 or -1. */
static int set_linger0(int fd) {
    /* TODO(step 5): setsockopt() SO_LINGER (level SOL_SOCKET) with a
       struct linger {l_onoff 1, l_linger 0}, getsockopt() it back and
       print "SO_LINGER: asked on 0 s, kernel gives on 0 s" (off when
       l_onoff is 0). */
    printf("SO_LINGER: not set on fd %d, TODO(step 5)\n", fd);
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

/* Send back each complete line at the start of buf (len bytes), each with
   one send(); returns how many bytes that used up, or -1 when sending
   failed. Sets *bye when one of them was "bye". */
static long answer_lines(int fd, const char *buf, size_t len, int *bye) {
    size_t used = 0;
    const char *nl;
    while (!*bye && (nl = memchr(buf + used, '\n', len - used)) != NULL) {
        size_t n = (size_t)(nl - (buf + used)) + 1;
        /* One send() per answer: an answer written in two pieces would
           meet Nagle's delay on this side too (step 4). */
        if (send_all(fd, buf + used, n) < 0)
            return -1;
        *bye = (n == 4 && memcmp(buf + used, "bye\n", 4) == 0) ||
               (n == 5 && memcmp(buf + used, "bye\r\n", 5) == 0);
        used += n;
    }
    return (long)used;
}

/* Answer each line client fd sends with that line until "bye" (then we
   close first) or end-of-file; returns 0, or -1 when the connection
   broke. */
static int echo_lines(int fd, const char *name) {
    char buf[LINE_SIZE];
    size_t len = 0;
    int bye = 0;
    while (!bye) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n < 0 && errno == EINTR && !stopping)
            continue;
        if (n < 0) {
            fprintf(stderr, "server: recv %s: %s\n", name, strerror(errno));
            return -1;
        }
        if (n == 0)
            return 0; /* the client closed first */
        len += (size_t)n;
        long used = answer_lines(fd, buf, len, &bye);
        if (used < 0) {
            fprintf(stderr, "server: send %s: %s\n", name, strerror(errno));
            return -1;
        }
        len -= (size_t)used;
        memmove(buf, buf + used, len);
        if (len == sizeof buf) { /* a line longer than buf: pass it on */
            if (send_all(fd, buf, len) < 0)
                return -1;
            len = 0;
        }
    }
    return 0;
}

/* Serve connection fd from name: its options, then its lines; closes it. */
static void serve_client(int fd, const char *name, const struct options *o) {
    printf("connection from %s\n", name);
    if ((!o->keepalive || set_keepalive(fd, o) == 0) &&
        (!o->linger0 || set_linger0(fd) == 0))
        echo_lines(fd, name);
    /* With SO_LINGER 0 this close() sends a reset and the connection
       leaves no TIME_WAIT behind; without it, a FIN: an orderly close. */
    close(fd);
    printf("closed %s\n", name);
}

/* Accept clients one at a time until SIGINT or SIGTERM; returns 0, or 1
   after a fatal error. */
static int serve(int listener, const struct options *o) {
    while (!stopping) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept(listener, (struct sockaddr *)&peer, &len);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* the loop condition decides */
            report("accept", NULL);
            return 1;
        }
        char name[ADDR_SIZE];
        format_address((struct sockaddr *)&peer, len, name, sizeof name);
        serve_client(fd, name, o);
    }
    return 0;
}

int main(int argc, char **argv) {
    struct options o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    /* The log goes to a file under a test: one line at a time makes each
       visible as soon as it is written. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (catch_signals() < 0)
        return 1;
    int listener = open_listener(&o);
    if (listener < 0)
        return 1;
    int status = 1;
    if (announce(listener) == 0)
        status = serve(listener, &o);
    close(listener);
    return status;
}
