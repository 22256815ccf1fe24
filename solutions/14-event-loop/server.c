/*
 * server.c - lesson 14: the event loop. One thread serves thousands of
 * clients with poll() or epoll(), drops idle ones on a timer and stops
 * cleanly on SIGTERM through a signalfd (reference solution).
 *
 * This is what Python's asyncio does under its hood, written out: every
 * socket is non-blocking, and one loop asks the kernel which ones are
 * ready (poll() or epoll_wait()), then does only what will not wait. Each
 * client is a small state machine (reading; writing its echo; closing once
 * the echo is out) with its own bounded output buffer: a client whose
 * buffer is full is no longer read, so a client that never reads holds
 * back only itself, and memory stays bounded. Unlike lesson 06's select(),
 * neither call has an FD_SETSIZE: the server raises its open-file limit
 * and holds as many clients as that allows. A client that neither sends
 * anything nor takes any of its echo for --idle seconds is closed; the wait's timeout is the nearest such deadline, so
 * an idle server sleeps in the kernel and uses no CPU.
 *
 * Protocol, as in lesson 02: what a client sends is echoed as it arrives;
 * a line "bye" (or end-of-file) ends that client's session. The server runs
 * until SIGINT or SIGTERM, then closes every connection and exits 0.
 *
 //> * Fill in the TODOs in the order of lessons/14-event-loop/README.md;
 //> * after each step `make check LESSON=14` (or `check 14` in the lab) says
 //> * how it went.
 //> *
 * usage: server [--poll|--epoll] [--idle SECONDS] [HOST [PORT]]
 *        default --epoll, 127.0.0.1 8080, no idle limit; PORT 0 = any free
 *        port
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080" /* lesson 06's port */
#define BACKLOG 1024      /* a crowd connects at once: let the kernel queue it */
#define OUT_SIZE 16384    /* echo bytes a client may leave unread */
#define NAME_SIZE 80      /* "ADDRESS:PORT", IPv6 and a scope included */
#define MAX_EVENTS 256    /* events taken from epoll_wait() per call */
#define USAGE "usage: server [--poll|--epoll] [--idle SECONDS] [HOST [PORT]]\n"

/* The start of the line being received: just enough to tell "bye". */
struct line_watch {
    char head[4]; /* its first bytes */
    size_t len;   /* its length so far, counting stops at 5 */
};

/* One connected client: its socket, its state, its echo waiting to go,
   and its place in the list of clients by last activity. */
struct client {
    int fd;
    char name[NAME_SIZE];    /* "ADDRESS:PORT", for the log */
    struct line_watch watch; /* its own: lines arrive in pieces */
    char out[OUT_SIZE];      /* echo not sent yet */
    size_t out_len;
    int closing;       /* "bye" or end-of-file seen: close once out[] is sent */
    unsigned events;   /* what epoll watches it for now */
    long long last_ms; /* its last activity: bytes in or out (monotonic) */
    struct client *older, *newer; /* the activity list, oldest first */
};

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT; /* a number or a service name */
static int use_poll;                    /* --poll; the default is epoll */
static double idle_limit; /* --idle: seconds of silence allowed; 0: any */
/* The clients, indexed by fd: poll() and epoll speak in fds. The table
   has one entry per fd the process may open (its RLIMIT_NOFILE). */
static struct client **clients;
static size_t max_clients;
static struct client *oldest, *newest; /* least and most recently active */
static int listener = -1;  /* the listening socket */
static int sigfd = -1;     /* readable when a stop signal came, or -1 */
static int epfd = -1;      /* the epoll instance, in epoll mode */
static int accept_paused;  /* out of fds: stop watching the listener */
static int stopping;       /* a stop signal came through the signalfd */

/* Print "server: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "server: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Print "server: CALL HOST:PORT: reason" for the error code err that
   getaddrinfo() or getnameinfo() returned (lesson 07's). */
static void report_gai(const char *call, int err) {
    const char *reason = err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err);
    fprintf(stderr, "server: %s %s:%s: %s\n", call, host, port, reason);
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

/* Read the options, HOST and PORT from the command line; returns 0, or -1
   after printing usage. getaddrinfo() checks the names later. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--poll") == 0 || strcmp(argv[i], "--epoll") == 0)
            use_poll = strcmp(argv[i++], "--poll") == 0;
        else if (strcmp(argv[i], "--idle") == 0 && parse_idle(argc, argv, &i) == 0)
            continue;
        else {
            fputs(USAGE, stderr);
            return -1;
        }
    }
    if (argc - i > 2) {
        fputs(USAGE, stderr);
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc) {
        port = argv[i];
        if (is_number(port) && (strlen(port) > 5 || atol(port) > 65535)) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", port);
            fputs(USAGE, stderr);
            return -1;
        }
    }
    return 0;
}

/* Raise this process's soft limit on open files to its hard limit, so it
   can hold as many clients as it is allowed; returns the limit now in
   force, or 0 after reporting why it could not be read. */
static size_t raise_fd_limit(void) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
        report("getrlimit");
        return 0;
    }
    /* TODO(step 3): raise the soft limit (rlim_cur) to the hard limit
       (rlim_max) with setrlimit(); a hard limit of RLIM_INFINITY gets a
       finite cap (1 << 20). */
    //{ step 3
    rlim_t want = lim.rlim_max;
    if (want == RLIM_INFINITY || want > (1 << 20))
        want = 1 << 20; /* the kernel refuses more than its nr_open */
    if (lim.rlim_cur < want) {
        lim.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
            report("setrlimit"); /* keep going with the old limit */
        else if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
            report("getrlimit");
            return 0;
        }
    }
    //}
    if (lim.rlim_cur < 4096)
        fprintf(stderr,
                "server: note: at most %lu open files (ulimit -n), so "
                "about %lu clients at once; raise the hard limit "
                "(ulimit -Hn) for more\n",
                (unsigned long)lim.rlim_cur, (unsigned long)lim.rlim_cur - 8);
    return lim.rlim_cur;
}

/* Block SIGINT and SIGTERM and open a signalfd that becomes readable when
   one of them comes; returns the fd, or -1 (the signals then keep their
   default action). */
static int open_signalfd(void) {
    /* TODO(step 8): block both signals with sigprocmask() (a signal that
       is not blocked is still delivered the old way), then signalfd(). */
    //{ step 8
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0) {
        report("sigprocmask");
        return -1;
    }
    int fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        report("signalfd");
    return fd;
    //}
    //> return -1;
}

/* Take the pending signal from signalfd fd and note that we must stop. */
static void read_signal(int fd) {
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) == (ssize_t)sizeof info)
        stopping = 1;
}

/* Create a TCP socket listening on the first address of host:port that
   can be bound, as lesson 07 does; returns it, or -1 after reporting why
   none could. */
static int open_listener(void) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG; /* addresses to bind */
    int err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        report_gai("getaddrinfo", err);
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            report("socket");
            continue;
        }
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
            report("setsockopt");
        else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
            report("bind");
        else if (listen(fd, BACKLOG) < 0)
            report("listen");
        else
            continue; /* this one works: fd >= 0 ends the loop */
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Write socket address sa (len bytes) as "ADDRESS:PORT", in numbers, into
   out (NAME_SIZE bytes), as lesson 07 does; returns 0, or -1 after
   reporting why not. */
static int format_address(const struct sockaddr *sa, socklen_t len,
                          char *out) {
    char addr[64], serv[8]; /* 46 for IPv6 in text, plus a scope "%eth0" */
    int err = getnameinfo(sa, len, addr, sizeof addr, serv, sizeof serv,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err != 0) {
        report_gai("getnameinfo", err);
        return -1;
    }
    snprintf(out, NAME_SIZE, "%s:%s", addr, serv);
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

/* Read the monotonic clock, in milliseconds: it never jumps back, as the
   time of day can. */
static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Take client c out of the activity list. */
static void unlink_client(struct client *c) {
    if (c->older)
        c->older->newer = c->newer;
    else if (oldest == c)
        oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else if (newest == c)
        newest = c->older;
    c->older = c->newer = NULL;
}

/* Note that client c was active now: it moves to the newest end of the
   activity list, so the oldest end is always the next to go idle. */
static void touch(struct client *c) {
    unlink_client(c);
    c->last_ms = now_ms();
    c->older = newest;
    if (newest)
        newest->newer = c;
    newest = c;
    if (!oldest)
        oldest = c;
}

/* The events client c must be watched for, as poll() bits: POLLIN and
   POLLOUT. */
static short wanted_events(const struct client *c) {
    /* TODO(step 5): read only while the client is not closing and its
       output buffer has room; write only while the buffer holds bytes. */
    //{ step 5
    short events = 0;
    /* A client that sends and never reads fills out[]: then we stop
       reading it, TCP makes it wait, and our memory stays bounded. */
    if (!c->closing && c->out_len < sizeof c->out)
        events |= POLLIN;
    /* Writable is true nearly all the time: watch it always and the wait
       returns at once, for ever (a busy loop). */
    if (c->out_len > 0)
        events |= POLLOUT;
    return events;
    //}
    //> return c->out_len > 0 ? POLLIN | POLLOUT : POLLIN;
}

/* Translate poll() event bits into epoll's. */
static unsigned epoll_bits(short events) {
    return (events & POLLIN ? EPOLLIN : 0u) | (events & POLLOUT ? EPOLLOUT : 0u);
}

/* Make epoll watch fd for events, adding it (op EPOLL_CTL_ADD) or
   changing what it is watched for (EPOLL_CTL_MOD); returns 0 or -1. */
static int epoll_watch(int fd, unsigned events, int op) {
    /* TODO(step 2): epoll_ctl() with op (EPOLL_CTL_ADD or EPOLL_CTL_MOD),
       and the fd in data.fd, so a ready event names its fd. */
    //{ step 2
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.fd = fd; /* comes back with each event */
    if (epoll_ctl(epfd, op, fd, &ev) < 0) {
        report("epoll_ctl");
        return -1;
    }
    return 0;
    //}
    //> errno = ENOSYS;
    //> fprintf(stderr, "server: epoll_ctl fd %d (op %d, events %#x): %s\n",
    //>         fd, op, events, strerror(errno));
    //> return -1;
}

/* Register the new connection fd from peer, a socket address of len
   bytes of any family: in the table, the activity list and (in epoll
   mode) the epoll set; returns 0, or -1 (the caller closes fd). */
static int add_client(int fd, const struct sockaddr *peer, socklen_t len) {
    if (set_nonblocking(fd) < 0)
        return -1;
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        report("calloc");
        return -1;
    }
    if (format_address(peer, len, c->name) < 0 ||
        (epfd >= 0 && epoll_watch(fd, EPOLLIN, EPOLL_CTL_ADD) < 0)) {
        free(c);
        return -1;
    }
    c->fd = fd;
    c->events = EPOLLIN;
    clients[fd] = c;
    touch(c);
    printf("connection from %s\n", c->name);
    return 0;
}

/* Close client c's connection and forget it, in the table and the
   activity list. */
static void drop_client(struct client *c) {
    printf("closed %s\n", c->name);
    unlink_client(c);
    clients[c->fd] = NULL;
    close(c->fd); /* close() also takes it out of the epoll set */
    free(c);
    accept_paused = 0; /* an fd is free again */
}

/* Accept every connection waiting on the (non-blocking) listener, IPv4
   and IPv6 clients alike, as many as the client table holds; returns 0,
   or -1 on an error that should stop the server. */
static int accept_clients(void) {
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
                   watching it now would make the wait return at once,
                   again and again: pause it until a client leaves. */
                accept_paused = 1;
                return 0;
            }
            return -1;
        }
        if ((size_t)fd >= max_clients) {
            /* Cannot happen while the table matches RLIMIT_NOFILE; kept
               so a raised limit never writes past its end. */
            fprintf(stderr, "server: accept %s:%s: fd %d is past the "
                    "table of %zu clients: connection closed\n",
                    host, port, fd, max_clients);
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

/* Read what client c sent straight into the free end of its output
   buffer (the echo is the bytes themselves), and note the activity.
   Returns 0, or -1 when the connection is broken. */
static int read_client(struct client *c) {
    ssize_t n = recv(c->fd, c->out + c->out_len, sizeof c->out - c->out_len, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0; /* nothing after all: the wait will tell us again */
        fprintf(stderr, "server: recv %s: %s\n", c->name, strerror(errno));
        return -1;
    }
    if (n == 0) {
        c->closing = 1; /* end-of-file: send the rest of the echo, close */
        return 0;
    }
    touch(c); /* it spoke: its idle time starts again */
    int bye = 0;
    c->out_len += watch_lines(&c->watch, c->out + c->out_len, (size_t)n, &bye);
    if (bye)
        c->closing = 1;
    return 0;
}

/* Send as much of c's pending echo as the socket takes now, noting the
   activity; returns 0, or -1 when the connection is broken. */
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
    if (n > 0)
        touch(c); /* it takes its echo: not idle either */
    return 0;
}

/* Move client c on after the wait said what it is ready for (revents, as
   poll() bits; an error or hang-up counts as both): read, write, close.
   Returns 1 when c was dropped, else 0. */
static int handle_client(struct client *c, short revents) {
    if (revents & (POLLERR | POLLHUP))
        revents |= POLLIN | POLLOUT; /* recv() or send() will say what */
    int broken = 0;
    if ((revents & POLLIN) && !c->closing && c->out_len < sizeof c->out)
        broken = read_client(c) < 0;
    if (!broken && (revents & POLLOUT) && c->out_len > 0)
        broken = write_client(c) < 0;
    if (broken || (c->closing && c->out_len == 0)) {
        drop_client(c);
        return 1;
    }
    return 0;
}

/* How long the wait may sleep: until the oldest client's idle deadline,
   in milliseconds (0: it has passed), or -1 (no limit) without --idle or
   clients. */
static int next_timeout_ms(void) {
    /* TODO(step 6): the oldest client is the next to go idle: its deadline
       is last_ms + idle_limit * 1000; return what is left of it. */
    //{ step 6
    if (idle_limit == 0 || !oldest)
        return -1;
    long long left = oldest->last_ms + (long long)(idle_limit * 1000) - now_ms();
    if (left < 0)
        return 0;
    return left > 86400000 ? 86400000 : (int)left;
    //}
    //> return -1;
}

/* Close every client that has been idle (no bytes in or out) for
   idle_limit seconds. */
static void expire_idle(void) {
    /* TODO(step 6): drop clients from the oldest end of the activity list
       while their deadline has passed. */
    //{ step 6
    if (idle_limit == 0)
        return;
    long long now = now_ms();
    while (oldest && now - oldest->last_ms >= (long long)(idle_limit * 1000)) {
        printf("dropped idle client %s\n", oldest->name);
        drop_client(oldest);
    }
    //}
}

/* The event loop with poll(): the array of fds is rebuilt before every
   wait. Returns 0 when a stop signal came, 1 after a fatal error. */
static int serve_poll(void) {
    struct pollfd *fds = calloc(max_clients + 2, sizeof *fds);
    if (!fds) {
        report("calloc");
        return 1;
    }
    int status = 0;
    while (!stopping && status == 0) {
        /* The wait ends at the next idle deadline at the latest (step 6). */
        int timeout = next_timeout_ms();
        /* TODO(step 1): fill fds[] (the signalfd when >= 0, the listener
           unless accept_paused, each client with wanted_events()), poll()
           them for up to timeout ms, then handle each fd that is ready. */
        //{ step 1
        nfds_t n = 0;
        if (sigfd >= 0)
            fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        /* A negative fd is skipped by poll(): a paused listener. */
        fds[n++] = (struct pollfd){.fd = accept_paused ? -1 : listener,
                                   .events = POLLIN};
        for (struct client *c = oldest; c; c = c->newer)
            fds[n++] = (struct pollfd){.fd = c->fd, .events = wanted_events(c)};
        if (poll(fds, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            report("poll");
            status = 1;
            break;
        }
        for (nfds_t i = 0; i < n; i++) {
            if (fds[i].revents == 0 || fds[i].fd < 0)
                continue;
            if (fds[i].fd == sigfd)
                read_signal(sigfd);
            else if (fds[i].fd == listener)
                status = accept_clients() < 0 ? 1 : status;
            else if (clients[fds[i].fd])
                handle_client(clients[fds[i].fd], fds[i].revents);
        }
        //}
        //> fprintf(stderr, "server: poll %s:%s (for up to %d ms): %s\n", host,
        //>         port, timeout, strerror(ENOSYS));
        //> status = 1;
        expire_idle();
    }
    free(fds);
    return status;
}

/* Make epoll watch client c for what wanted_events() says now, unless it
   already does; returns 0 or -1. */
static int update_interest(struct client *c) {
    unsigned want = epoll_bits(wanted_events(c));
    if (want == c->events)
        return 0; /* no system call when nothing changed */
    c->events = want; /* epoll remembers it; so do we, to skip no-ops */
    return epoll_watch(c->fd, want, EPOLL_CTL_MOD);
}

/* Handle one event from epoll_wait(); returns 0, or -1 on a fatal
   error. */
static int handle_event(const struct epoll_event *ev) {
    int fd = ev->data.fd;
    if (fd == sigfd) {
        read_signal(sigfd);
        return 0;
    }
    if (fd == listener) {
        if (accept_paused)
            return 0;
        return accept_clients();
    }
    struct client *c = clients[fd];
    if (!c)
        return 0; /* dropped earlier in this batch */
    short revents = (ev->events & EPOLLIN ? POLLIN : 0) |
                    (ev->events & EPOLLOUT ? POLLOUT : 0) |
                    (ev->events & (EPOLLERR | EPOLLHUP) ? POLLHUP : 0);
    if (handle_client(c, revents))
        return 0;
    return update_interest(c) < 0 ? -1 : 0;
}

/* The event loop with epoll: the kernel keeps the set between waits, and
   a wait returns only the fds that are ready. Returns 0 when a stop
   signal came, 1 after a fatal error. */
static int serve_epoll(void) {
    /* TODO(step 2): epoll_create1() into epfd, then watch the signalfd
       (when >= 0) and the listener for EPOLLIN with epoll_watch(). */
    //{ step 2
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        report("epoll_create1");
        return 1;
    }
    if ((sigfd >= 0 && epoll_watch(sigfd, EPOLLIN, EPOLL_CTL_ADD) < 0) ||
        epoll_watch(listener, EPOLLIN, EPOLL_CTL_ADD) < 0)
        return 1;
    //}
    while (!stopping) {
        /* The wait ends at the next idle deadline at the latest (step 6). */
        int timeout = next_timeout_ms();
        struct epoll_event events[MAX_EVENTS];
        int n;
        /* TODO(step 2): epoll_wait() for up to MAX_EVENTS events, at most
           timeout ms; n is how many it returned. */
        //{ step 2
        n = epoll_wait(epfd, events, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            report("epoll_wait");
            return 1;
        }
        //}
        //> fprintf(stderr, "server: epoll_wait %s:%s (for up to %d ms): %s\n",
        //>         host, port, timeout, strerror(ENOSYS));
        //> return 1;
        for (int i = 0; i < n; i++)
            if (handle_event(&events[i]) < 0)
                return 1;
        expire_idle();
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    /* The log goes to a file under a test: one line at a time makes each
       visible as soon as it is written. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    max_clients = raise_fd_limit();
    if (max_clients == 0)
        return 1;
    clients = calloc(max_clients, sizeof *clients);
    if (!clients) {
        report("calloc");
        return 1;
    }
    sigfd = open_signalfd();
    listener = open_listener();
    int status = 1;
    if (listener >= 0 && announce(listener) == 0 &&
        set_nonblocking(listener) == 0)
        status = use_poll ? serve_poll() : serve_epoll();
    while (oldest)
        drop_client(oldest);
    free(clients);
    if (listener >= 0)
        close(listener);
    if (epfd >= 0)
        close(epfd);
    if (sigfd >= 0)
        close(sigfd);
    return status;
}
