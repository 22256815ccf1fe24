/*
 * server.c - lesson 15: the capstone, a chat server (your work).
 *
 * One thread, one poll() loop, many clients speaking lines, so nc and
 * socat are clients too. The first line a client sends is its nickname
 * (1-16 letters, digits, _ or -, not taken: else "ERR ..." and it tries
 * again); after that every line goes to everyone else as "<nick> text".
 * "/who" lists who is here, "/quit" leaves; joins and leaves are announced
 * as "* nick joined", "* nick left".
 *
 * Slow clients: what waits for a client sits in its own output queue of
 * at most --queue bytes. A message that would overflow it drops that client
 * ("* nick dropped: too slow" to the others): the room never waits for the
 * slowest reader, and memory stays bounded.
 *
 * With --admin PATH the server also listens on a Unix-domain socket at PATH
 * (mode 0600: only its owner may connect) for the commands who, kick NICK,
 * say TEXT and stats. SIGINT or SIGTERM: a goodbye line to every client,
 * every fd closed, the socket file removed, exit 0.
 *
 * Fill in the TODOs, step by step (lessons/15-chat/README.md); after
 * each, `make check LESSON=15` (or `check 15` in the lab) says how it
 * went.
 *
 * usage: server [--admin PATH] [--queue BYTES] [HOST [PORT]]
 *        default 127.0.0.1 7777; PORT 0 = any free port
 */
#define _GNU_SOURCE /* ppoll() */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "7777"
#define DEFAULT_QUEUE 65536 /* bytes a client may leave unread */
#define BACKLOG 128
#define MAX_FDS 1024  /* clients[] is indexed by fd: fds stay below this */
#define LINE_SIZE 1024 /* the longest line a client may send, newline included */
#define NICK_MAX 16
#define NAME_SIZE 80
#define USAGE "usage: server [--admin PATH] [--queue BYTES] [HOST [PORT]]\n"

/* One connection: a chat client, or an admin on the Unix socket. */
struct client {
    int fd;
    int admin;              /* came in on the admin socket */
    char nick[NICK_MAX + 1]; /* empty until the nickname is accepted */
    char in[LINE_SIZE];     /* the line being received */
    size_t in_len;
    char *out;              /* the output queue: bytes not sent yet */
    size_t out_len, out_cap; /* out_len never exceeds queue_limit */
    int closing;            /* close once out is sent */
    int dropped;            /* its queue overflowed: close it now */
};

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT;
static const char *admin_path;          /* NULL: no admin socket */
static size_t queue_limit = DEFAULT_QUEUE;
static struct client *clients[MAX_FDS]; /* indexed by fd */
static unsigned long n_messages, n_dropped; /* for "stats" */
static volatile sig_atomic_t stopping;  /* set by SIGINT and SIGTERM */

/* Print "server: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "server: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Print "server: WHAT PATH: reason" for the current errno, about the
   admin socket's file. */
static void report_path(const char *what) {
    fprintf(stderr, "server: %s %s: %s\n", what, admin_path, strerror(errno));
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

/* Read the options, HOST and PORT from the command line; returns 0, or -1
   after printing usage. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--admin") == 0 && argv[i + 1][0]) {
            admin_path = argv[i + 1];
        } else if (strcmp(argv[i], "--queue") == 0 && is_number(argv[i + 1]) &&
                   strlen(argv[i + 1]) < 10 && atol(argv[i + 1]) >= LINE_SIZE) {
            queue_limit = (size_t)atol(argv[i + 1]);
        } else {
            fprintf(stderr, "server: bad option '%s %s' (--queue takes "
                            "%d bytes or more)\n", argv[i], argv[i + 1], LINE_SIZE);
            fputs(USAGE, stderr);
            return -1;
        }
    }
    if (argc - i > 2 || (i < argc && argv[i][0] == '-')) {
        fputs(USAGE, stderr);
        return -1;
    }
    if (i < argc)
        host = argv[i];
    if (i + 1 < argc) {
        port = argv[i + 1];
        if (is_number(port) && (strlen(port) > 5 || atol(port) > 65535)) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", port);
            fputs(USAGE, stderr);
            return -1;
        }
    }
    return 0;
}

/* Note that we were asked to stop; ppoll() then fails with EINTR. */
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* Catch SIGINT and SIGTERM and block them everywhere but in ppoll(), so
   they cut the wait short and never land just before it; stores the mask
   to wait with in wait_mask. Returns 0 or -1. */
static int setup_signals(sigset_t *wait_mask) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigprocmask(SIG_BLOCK, &stop, wait_mask) < 0) {
        report("sigaction");
        return -1;
    }
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    return 0;
}

/* Create a TCP socket listening on the first address of host:port that
   can be bound (lesson 07's, non-blocking); returns it, or -1 after
   reporting why none could. */
static int open_listener(void) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "server: getaddrinfo %s:%s: %s\n", host, port,
                err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                    ai->ai_protocol);
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

/* Print "listening on ADDRESS:PORT" with the real port; returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    char addr[64], serv[8];
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    int err = getnameinfo((struct sockaddr *)&bound, len, addr, sizeof addr,
                          serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
    if (err != 0) {
        fprintf(stderr, "server: getnameinfo: %s\n", gai_strerror(err));
        return -1;
    }
    printf("listening on %s:%s\n", addr, serv);
    fflush(stdout);
    return 0;
}

/* Create the admin socket: a Unix-domain stream socket bound to
   admin_path, mode 0600, listening, non-blocking; returns it or -1. */
static int open_admin(void) {
    /* TODO(step 8): socket(AF_UNIX, ...), bind() to admin_path with
       the file's mode 0600, listen(); print "admin on PATH". */
    errno = ENOSYS;
    report_path("socket");
    return -1;
}

/* Add the bytes of buf (len) to c's output queue; returns 0, or -1 when
   they would take it past queue_limit (then c is marked dropped). */
static int enqueue(struct client *c, const char *buf, size_t len) {
    if (c->dropped || c->closing)
        return 0; /* it is going: nothing more for it */
    /* TODO(step 7): past queue_limit, mark c dropped instead of growing
       the queue: the room never waits for c, and memory stays bounded. */
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *bigger = realloc(c->out, cap);
        if (!bigger) {
            report("realloc");
            c->dropped = 1;
            return -1;
        }
        c->out = bigger;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return 0;
}

/* Format a line into c's output queue, as printf() does; returns what
   enqueue() returns. */
static int tell(struct client *c, const char *fmt, ...) {
    char line[LINE_SIZE + NICK_MAX + 16];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return 0;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    return enqueue(c, line, (size_t)n);
}

/* Send the line in buf (len bytes) to every named chat client but
   except (NULL: to all). */
static void broadcast(const struct client *except, const char *buf,
                      size_t len) {
    /* TODO(step 2): enqueue() it for every client with a nickname but
       `except`; never send() here: a slow client would stall the room. */
    /* Until then every line is lost; the server's log says which. */
    fprintf(stderr, "server: broadcast() is not written (step 2); lost, "
            "for all but %s: %.*s", except ? except->nick : "nobody",
            (int)len, buf);
}

/* Format a line and broadcast() it to all named clients but except. */
static void announce_all(const struct client *except, const char *fmt, ...) {
    char line[LINE_SIZE + 2 * NICK_MAX + 32];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    broadcast(except, line, (size_t)n);
}

/* Find the chat client called nick; returns it or NULL. */
static struct client *find_nick(const char *nick) {
    for (int fd = 0; fd < MAX_FDS; fd++)
        if (clients[fd] && !clients[fd]->admin &&
            clients[fd]->nick[0] && strcmp(clients[fd]->nick, nick) == 0)
            return clients[fd];
    return NULL;
}

/* Is s a good nickname: 1-16 letters, digits, '_' or '-'? */
static int valid_nick(const char *s) {
    /* TODO(step 1): check the length and every character (isalnum()). */
    fprintf(stderr, "server: nickname \"%s\" refused: valid_nick() is not "
                    "written yet (step 1)\n", s);
    return 0;
}

/* Queue "PREFIXonline (N): nick1 nick2 ..." and a newline for c, the
   nicknames in the order of their fds. */
static void send_nicks(struct client *to, const char *prefix) {
    /* TODO(step 3): one line: the prefix, "online (N):", then " NICK"
       for every client with a nickname. */
    tell(to, "%sonline: not yet (see step 3)\n", prefix);
}

/* Handle the first lines of c: its nickname, taken when valid and free;
   replies either way. */
static void choose_nick(struct client *c, const char *line) {
    if (!valid_nick(line)) {
        tell(c, "ERR bad nickname: 1-%d letters, digits, _ or -; try "
                "again\n", NICK_MAX);
        return;
    }
    if (find_nick(line)) {
        tell(c, "ERR nickname taken: %s; try another\n", line);
        return;
    }
    /* TODO(step 1): the name is c's now: keep it, and tell c
       "* you are NICK". */
    announce_all(c, "* %s joined\n", c->nick); /* step 2 makes it heard */
}

/* Handle one line from chat client c that has a nickname: a command
   or a message for the others. */
static void chat_line(struct client *c, const char *line) {
    if (line[0] == '\0')
        return; /* an empty line says nothing */
    if (strcmp(line, "/who") == 0) {
        send_nicks(c, "* ");
        return;
    }
    /* TODO(step 4): /quit: "* bye" to c, then close it once that is
       sent (the others hear "* NICK left" when it goes). */
    if (line[0] == '/') {
        tell(c, "ERR unknown command: %s (try /who or /quit)\n", line);
        return;
    }
    n_messages++;
    /* TODO(step 2): everyone else gets "<NICK> text". */
}

/* Answer the admin's command line: who, kick NICK, say TEXT, stats. */
static void admin_line(struct client *a, const char *line) {
    /* TODO(step 8): who, kick NICK, say TEXT, stats; anything else gets
       "ERR ...". */
    tell(a, "ERR not yet: %s (see step 8)\n", line);
}

/* Handle one whole line of c, its newline (and a '\r' before it) cut. */
static void handle_line(struct client *c, char *line) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
        line[len - 1] = '\0'; /* nc -C, telnet and Windows send CRLF */
    if (c->admin)
        admin_line(c, line);
    else if (!c->nick[0])
        choose_nick(c, line);
    else
        chat_line(c, line);
}

/* Take the whole lines out of c->in and handle them; a line too long
   for the buffer ends the connection. */
static void split_lines(struct client *c) {
    /* TODO(step 5): handle every whole line in c->in, keep the unfinished
       rest at the front for the next recv(). */
    char *nl = memchr(c->in, '\n', c->in_len);
    if (nl) {
        *nl = '\0';
        handle_line(c, c->in);
    }
    c->in_len = 0; /* the rest is lost: one line per recv() */
    if (c->in_len == sizeof c->in) {
        tell(c, "ERR line too long (%d bytes at most)\n", LINE_SIZE - 1);
        c->closing = 1;
    }
}

/* Read what c sent and handle its whole lines; returns 0, or -1 when the
   connection is broken. */
static int read_client(struct client *c) {
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
                                                                         : -1;
    if (n == 0) {
        /* End-of-file: it sent all it will (nc -N does this after its
           input), but may still read: send what waits for it, then close.
           Simplification: one that never reads then holds its place
           until its queue overflows or the server stops. */
        c->closing = 1;
        return 0;
    }
    c->in_len += (size_t)n;
    split_lines(c);
    return 0;
}

/* Send as much of c's output queue as the socket takes now; returns 0,
   or -1 when the connection is broken. */
static int write_client(struct client *c) {
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
                                                                         : -1;
    c->out_len -= (size_t)n;
    memmove(c->out, c->out + n, c->out_len);
    return 0;
}

/* Register connection fd, from the chat listener or (admin) the admin
   socket, and greet it; returns 0, or -1 (the caller closes fd). */
static int add_client(int fd, int admin) {
    if (fd >= MAX_FDS) {
        errno = EMFILE; /* simplification: clients[] has MAX_FDS places */
        report("accept");
        return -1;
    }
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        report("calloc");
        return -1;
    }
    c->fd = fd;
    c->admin = admin;
    clients[fd] = c;
    if (!admin)
        tell(c, "* welcome to the chat; your nickname?\n");
    return 0;
}

/* Close c's connection and forget it; the room hears it left. */
static void drop_client(struct client *c) {
    clients[c->fd] = NULL;
    /* TODO(step 4): tell the room "* NICK left" (step 7: "* NICK
       dropped: too slow" when its queue overflowed). */
    close(c->fd);
    free(c->out);
    free(c);
}

/* Accept every connection waiting on listener (admin: the admin socket);
   returns 0, or -1 on an error that should stop the server. */
static int accept_clients(int listener, int admin) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue; /* that one gave up already; try the next */
            report("accept");
            return -1;
        }
        if (add_client(fd, admin) < 0)
            close(fd);
    }
}

/* Fill fds[] for poll(): the listeners, then every client, for reading
   and, while its queue holds bytes, for writing; returns how many. */
static nfds_t fill_pollfds(struct pollfd *fds, int listener, int admin) {
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
    if (admin >= 0)
        fds[n++] = (struct pollfd){.fd = admin, .events = POLLIN};
    for (int fd = 0; fd < MAX_FDS; fd++) {
        struct client *c = clients[fd];
        if (!c)
            continue;
        short events = c->closing ? 0 : POLLIN;
        if (c->out_len > 0)
            events |= POLLOUT;
        fds[n++] = (struct pollfd){.fd = fd, .events = events};
    }
    return n;
}

/* Close every client that is done: dropped, or closing with its queue
   sent. Dropping one may overflow others (its notice): so loop. */
static void reap_clients(void) {
    int again = 1;
    while (again) {
        again = 0;
        for (int fd = 0; fd < MAX_FDS; fd++) {
            struct client *c = clients[fd];
            if (c && (c->dropped || (c->closing && c->out_len == 0))) {
                n_dropped += c->dropped;
                drop_client(c);
                again = 1;
            }
        }
    }
}

/* Handle what poll() reported for one client pfd. */
static void serve_client(const struct pollfd *pfd) {
    struct client *c = clients[pfd->fd];
    if (!c)
        return; /* closed since poll() returned */
    int broken = 0;
    if (pfd->revents & (POLLIN | POLLHUP | POLLERR))
        broken = read_client(c) < 0;
    if (!broken && (pfd->revents & POLLOUT))
        broken = write_client(c) < 0;
    if (broken) {
        c->out_len = 0; /* nobody will read it */
        c->closing = 1;
    }
}

/* Wait for events and handle them until SIGINT or SIGTERM; returns 0, or
   1 after a fatal error. */
static int serve(int listener, int admin, const sigset_t *wait_mask) {
    static struct pollfd fds[MAX_FDS + 2];
    while (!stopping) {
        nfds_t n = fill_pollfds(fds, listener, admin);
        if (ppoll(fds, n, NULL, wait_mask) < 0) {
            if (errno == EINTR)
                continue; /* a signal: the loop condition decides */
            report("poll");
            return 1;
        }
        if ((fds[0].revents & POLLIN) && accept_clients(listener, 0) < 0)
            return 1;
        if (admin >= 0 && (fds[1].revents & POLLIN) &&
            accept_clients(admin, 1) < 0)
            return 1;
        for (nfds_t i = admin >= 0 ? 2 : 1; i < n; i++)
            serve_client(&fds[i]);
        reap_clients();
    }
    return 0;
}

/* Say goodbye to every client (what fits in its socket now: nobody is
   waited for), then close them all. */
static void close_all(void) {
    /* TODO(step 9): a goodbye line to every client, then close them. */
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t wait_mask;
    if (setup_signals(&wait_mask) < 0)
        return 1;
    int listener = open_listener();
    if (listener < 0)
        return 1;
    int status = 1, admin = -1;
    if (announce(listener) == 0 && (!admin_path || (admin = open_admin()) >= 0))
        status = serve(listener, admin, &wait_mask);
    close_all();
    close(listener);
    /* TODO(step 9): close the admin socket and remove its file. */
    return status;
}
