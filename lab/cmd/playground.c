/*
 * playground.c - the socket playground: one real socket call per command,
 * printed the way strace would print it, errno name included:
 *
 *   lab> socket tcp
 *   socket(AF_INET, SOCK_STREAM, 0) = 3
 *   lab> connect 3 127.0.0.1 4000
 *   connect(3, 127.0.0.1:4000) = -1 ECONNREFUSED (Connection refused)
 *
 * What you pass is inside the parentheses, what comes back after the `=`:
 * `recv(3, 1024) = 6 "hello\n"`, `accept(3) = 4 (peer 127.0.0.1:51234)`.
 * Text arguments take C escapes and received bytes print escaped.
 *
 * Calls that block (accept, connect, recv, recvfrom, send) wait at most
 * the `wait` bound and Ctrl-C stops them: each is tried without blocking
 * first, then poll() waits for the socket in slices (sockcall.c). When a
 * socket has its own SO_RCVTIMEO/SO_SNDTIMEO within the bound, the call
 * blocks for real, so the kernel's timeout is what the student sees.
 *
 * Only sockets this file opened can be named, so no command can touch the
 * REPL's own descriptors. They are close-on-exec, so a server started
 * with `run` does not inherit them.
 */
#define _GNU_SOURCE /* accept4 */

#include "cmd/cmd.h"

#include "base/escape.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/registry.h"
#include "core/sockcall.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SOCKETS 64    /* a bound on what a student can leave open */
#define DEFAULT_BACKLOG 5 /* the classic listen() backlog */
#define DEFAULT_RECV 1024 /* the seeds' recv(1024) */
#define MAX_RECV 65536
#define SHOW_LIMIT 1024 /* bytes shown of one send or recv */
#define MAX_WAIT 3600.0 /* the largest `wait` bound, in seconds */

/* What has happened to a socket, for the `sockets` table. */
enum {
    ST_LISTENING = 1 << 0,
    ST_CONNECTING = 1 << 1, /* a connect the wait bound cut short */
    ST_CONNECTED = 1 << 2,
    ST_SHUT_RD = 1 << 3,
    ST_SHUT_WR = 1 << 4,
    ST_PEER_EOF = 1 << 5, /* recv returned 0: the peer closed or shut wr */
    ST_RESET = 1 << 6,    /* ECONNRESET seen */
};

/* One socket the playground opened. */
struct psock {
    int used;
    int fd;
    int family, type;
    unsigned flags;
    int parent;                   /* the listener it was accepted on, or -1 */
    struct sockaddr_storage peer; /* the last peer we knew of */
    socklen_t peer_len;
};

static struct psock table[MAX_SOCKETS];

/* ---------------------------------------------------------------- printing */

/* Print " = -1 ENAME (why)" and the end of the line for a failed call.
   end says whether the lab stopped the wait; what is what it waited for
   ("no data"); note, if any, is added in parentheses. */
static void print_failure(int err, enum wait_end end, const char *what,
                          const char *note) {
    const char *on = C_RED, *off = C_OFF;
    /* Not an errno: the kernel never failed the call, the lab stopped
       waiting for it. A real time-out (SO_RCVTIMEO) is the kernel's EAGAIN,
       printed below like every other error. */
    if (end == WAIT_BOUND)
        printf(" = %s?%s (%s within %g s: the lab stopped waiting, see "
               "`wait`; not an error of the call)",
               C_YELLOW, off, what, lab_wait_seconds());
    else if (end == WAIT_CTRL_C)
        printf(" = %s-1 EINTR%s (interrupted by Ctrl-C)", on, off);
    else
        printf(" = %s-1 %s%s (%s)", on, errno_name(err), off, strerror(err));
    if (note != NULL)
        printf(" (%s)", note);
    putchar('\n');
    fflush(stdout);
}

/* Print " = value" and end the line, for a call that worked. */
static void print_value(long value) {
    printf(" = %ld\n", value);
    fflush(stdout);
}

/* The name of an address family, and of a socket type, as socket() takes
   them. */
static const char *family_name(int family) {
    return family == AF_INET6 ? "AF_INET6" : "AF_INET";
}

static const char *type_name(int type) {
    return type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM";
}

/* ---------------------------------------------------------------- the table */

/* The entry of fd, or NULL. */
static struct psock *lookup_fd(int fd) {
    for (int i = 0; i < MAX_SOCKETS; i++)
        if (table[i].used && table[i].fd == fd)
            return &table[i];
    return NULL;
}

/* Add fd to the table; returns its entry, or NULL when the table is full. */
static struct psock *add_socket(int fd, int family, int type) {
    for (int i = 0; i < MAX_SOCKETS; i++) {
        if (!table[i].used) {
            memset(&table[i], 0, sizeof table[i]);
            table[i].used = 1;
            table[i].fd = fd;
            table[i].family = family;
            table[i].type = type;
            table[i].parent = -1;
            return &table[i];
        }
    }
    return NULL;
}

/* Forget s (after close) and every note that names it. */
static void remove_socket(struct psock *s) {
    for (int i = 0; i < MAX_SOCKETS; i++)
        if (table[i].used && table[i].parent == s->fd)
            table[i].parent = -1;
    s->used = 0;
}

/* Number of open playground sockets. */
static int socket_count(void) {
    int n = 0;
    for (int i = 0; i < MAX_SOCKETS; i++)
        n += table[i].used;
    return n;
}

/* Write which sockets are open into out, for an error message. */
static void open_ids(char *out, size_t size) {
    if (socket_count() == 0) {
        snprintf(out, size, "none is open: make one with `socket tcp`");
        return;
    }
    size_t len = (size_t)snprintf(out, size, "open:");
    for (int i = 0; i < MAX_SOCKETS && len < size; i++)
        if (table[i].used)
            len += (size_t)snprintf(out + len, size - len, " %d", table[i].fd);
}

/* Parse a whole decimal number in [min, max]; returns 0 or -1. */
static int parse_long(const char *text, long min, long max, long *out) {
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* The socket named by text for command cmd, or NULL after saying why:
   *rc is then 2 for something that is not a number, 1 for a number that
   is not a playground socket. */
static struct psock *find_socket(const char *cmd, const char *text, int *rc) {
    long fd;
    if (parse_long(text, 0, INT_MAX, &fd) < 0) {
        lab_error("'%s' is not a socket id (a number `sockets` lists)", text);
        lab_usage(cmd);
        *rc = 2;
        return NULL;
    }
    struct psock *s = lookup_fd((int)fd);
    if (s == NULL) {
        char ids[MAX_SOCKETS * 12 + 64];
        open_ids(ids, sizeof ids);
        lab_error("%ld is not an open playground socket (%s)", fd, ids);
        *rc = 1;
    }
    return s;
}

/* Check that argc is within [min, max]; else print the usage line. */
static int bad_count(int argc, char **argv, int min, int max) {
    if (argc - 1 >= min && argc - 1 <= max)
        return 0;
    lab_usage(argv[0]);
    return 1;
}

/* Decode the C escapes of text for command cmd; NULL after an error line. */
static char *decode_text(const char *cmd, const char *text, size_t *len) {
    char why[128];
    char *bytes = c_unescape(text, len, why, sizeof why);
    if (bytes == NULL) {
        lab_error("%s", why);
        lab_usage(cmd);
    }
    return bytes;
}

/* ---------------------------------------------------------------- addresses */

/* Resolve HOST PORT for socket s into addr (a bind or connect address);
   returns 0, or 1 (the lookup failed) or 2 (a bad port) after saying why. */
static int resolve_for(const char *cmd, const struct psock *s, const char *host,
                       const char *port, int passive,
                       struct sockaddr_storage *addr, socklen_t *len) {
    long number;
    if (parse_long(port, 0, 65535, &number) < 0) {
        lab_error("'%s' is not a port (0-65535)", port);
        lab_usage(cmd);
        return 2;
    }
    struct addrinfo hints = {.ai_family = s->family,
                             .ai_socktype = s->type,
                             .ai_flags =
                                 AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
    struct addrinfo *res = NULL;
    enum wait_end end;
    int code = lookup(host, port, &hints, &res, &end);
    if (code != 0) {
        const char *fam = s->family == AF_INET ? "IPv4" : "IPv6";
        if (end == WAIT_CTRL_C)
            lab_error("looking up '%s' was interrupted by Ctrl-C", host);
        else if (end == WAIT_BOUND)
            lab_error("no answer for '%s' within %g s (see `wait`)", host,
                      lab_wait_seconds());
        else if (code == EAI_NONAME || code == EAI_FAMILY
#ifdef EAI_ADDRFAMILY
                 || code == EAI_ADDRFAMILY
#endif
#ifdef EAI_NODATA
                 || code == EAI_NODATA
#endif
        )
            lab_error("'%s' has no %s address (this socket is %s; `resolve "
                      "%s` lists what it has)",
                      host, fam, family_name(s->family), host);
        else
            lab_error("cannot look up '%s': %s", host, gai_strerror(code));
        return 1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* The kernel's SO_RCVTIMEO or SO_SNDTIMEO of fd in seconds (0: none). */
static double kernel_timeout(int fd, int option) {
    struct timeval tv = {0, 0};
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, option, &tv, &len) < 0)
        return 0;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ------------------------------------------------------------ bounded calls */

enum call_kind { CALL_ACCEPT, CALL_RECV, CALL_SEND };

/* One call that may block, with its arguments and how its wait ended. */
struct call {
    enum call_kind kind;
    int fd;
    char *buf; /* recv: where to; send: what */
    size_t len;
    struct sockaddr_storage addr; /* accept, recvfrom: from; sendto: to */
    socklen_t addr_len;           /* 0: send/recv without an address */
    int msg_flags;                /* recv: MSG_TRUNC when a datagram was cut */
    enum wait_end end;
    int kernel_bound; /* the socket's own SO_*TIMEO bounded the call */
};

/* Make the call once; nonblocking says whether it may block. */
static ssize_t attempt(struct call *c, int nonblocking) {
    if (c->kind == CALL_ACCEPT) {
        int flags = fcntl(c->fd, F_GETFL);
        if (nonblocking && flags >= 0)
            fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
        c->addr_len = sizeof c->addr;
        int fd = accept4(c->fd, (struct sockaddr *)&c->addr, &c->addr_len,
                         SOCK_CLOEXEC);
        int err = errno;
        if (nonblocking && flags >= 0)
            fcntl(c->fd, F_SETFL, flags);
        errno = err;
        return fd;
    }
    int flags = MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0);
    if (c->kind == CALL_SEND)
        return sendto(c->fd, c->buf, c->len, flags,
                      c->addr_len ? (struct sockaddr *)&c->addr : NULL,
                      c->addr_len);
    struct iovec iov = {.iov_base = c->buf, .iov_len = c->len};
    struct msghdr msg = {.msg_name = &c->addr,
                         .msg_namelen = sizeof c->addr,
                         .msg_iov = &iov,
                         .msg_iovlen = 1};
    ssize_t n = recvmsg(c->fd, &msg, flags & ~MSG_NOSIGNAL);
    c->addr_len = n >= 0 ? msg.msg_namelen : 0;
    c->msg_flags = msg.msg_flags;
    return n;
}

/* Make call c, waiting at most the wait bound for the socket to be ready
   (or blocking for real when the socket's own timeout is shorter). A send
   goes on until every byte is taken or the wait ends: like a blocking
   send, it returns how many bytes went, -1 only when none did. */
static ssize_t bounded(struct call *c) {
    int sending = c->kind == CALL_SEND;
    double own = kernel_timeout(c->fd, sending ? SO_SNDTIMEO : SO_RCVTIMEO);
    c->end = WAIT_READY;
    c->kernel_bound = own > 0 && own <= lab_wait_seconds();
    if (c->kernel_bound) {
        ssize_t n = attempt(c, 0);
        if (n < 0 && errno == EINTR)
            c->end = WAIT_CTRL_C;
        return n;
    }
    double deadline = lab_now() + lab_wait_seconds();
    char *start = c->buf;
    size_t total = c->len, done = 0;
    for (;;) {
        ssize_t n = attempt(c, 1);
        if (!sending && (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)))
            return n;
        if (sending && n >= 0) {
            done += (size_t)n;
            c->buf += n;
            c->len -= (size_t)n;
            if (done == total)
                break;
        } else if (sending && errno != EAGAIN && errno != EWOULDBLOCK) {
            break;
        }
        c->end = wait_fd(c->fd, sending ? POLLOUT : POLLIN, deadline);
        if (c->end != WAIT_READY) {
            errno = c->end == WAIT_BOUND ? ETIMEDOUT : EINTR;
            break;
        }
    }
    int err = errno;
    c->buf = start;
    c->len = total;
    if (sending && (done > 0 || total == 0))
        return (ssize_t)done;
    errno = err;
    return -1;
}

/* The note for a call the socket's own timeout ended, or NULL. */
static const char *kernel_note(const struct call *c, ssize_t n, int err) {
    if (!c->kernel_bound || n >= 0 || (err != EAGAIN && err != EINPROGRESS))
        return NULL;
    return c->kind == CALL_SEND ? "the socket's SO_SNDTIMEO passed"
                                : "the socket's SO_RCVTIMEO passed";
}

/* Note what a failed call says about its socket's state. */
static void note_error(struct psock *s, int err) {
    if (err == ECONNRESET)
        s->flags |= ST_RESET;
}

/* ----------------------------------------------------- socket, bind, listen */

static int cmd_socket(int argc, char **argv) {
    if (bad_count(argc, argv, 1, 2))
        return 2;
    int type, family = AF_INET;
    if (strcasecmp(argv[1], "tcp") == 0)
        type = SOCK_STREAM;
    else if (strcasecmp(argv[1], "udp") == 0)
        type = SOCK_DGRAM;
    else {
        lab_error("'%s' is not tcp or udp", argv[1]);
        lab_usage(argv[0]);
        return 2;
    }
    if (argc > 2 && strcasecmp(argv[2], "inet6") == 0)
        family = AF_INET6;
    else if (argc > 2 && strcasecmp(argv[2], "inet") != 0) {
        lab_error("'%s' is not inet or inet6", argv[2]);
        lab_usage(argv[0]);
        return 2;
    }
    if (socket_count() == MAX_SOCKETS) {
        lab_error("the playground holds at most %d sockets; close some "
                  "first",
                  MAX_SOCKETS);
        return 1;
    }
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    printf("socket(%s, %s, 0)", family_name(family), type_name(type));
    if (fd < 0) {
        print_failure(errno, WAIT_READY, NULL, NULL);
        return 1;
    }
    add_socket(fd, family, type);
    print_value(fd);
    return 0;
}

static int cmd_bind(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 3, 3))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    struct sockaddr_storage addr;
    socklen_t len;
    if ((rc = resolve_for(argv[0], s, argv[2], argv[3], 1, &addr, &len)))
        return rc;
    char text[ADDR_TEXT];
    addr_text((struct sockaddr *)&addr, len, text);
    printf("bind(%d, %s)", s->fd, text);
    if (bind(s->fd, (struct sockaddr *)&addr, len) < 0) {
        int err = errno;
        print_failure(err, WAIT_READY, NULL,
                      err == EADDRINUSE ? "a socket has this address, or a "
                                          "connection on it is in TIME_WAIT: "
                                          "`ss -tan` shows them"
                      : err == EACCES   ? "ports below 1024 need root"
                                        : NULL);
        return 1;
    }
    print_value(0);
    return 0;
}

static int cmd_listen(int argc, char **argv) {
    int rc;
    long backlog = DEFAULT_BACKLOG;
    if (bad_count(argc, argv, 1, 2))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    if (argc > 2 && parse_long(argv[2], 0, 65535, &backlog) < 0) {
        lab_error("'%s' is not a backlog (0-65535)", argv[2]);
        lab_usage(argv[0]);
        return 2;
    }
    printf("listen(%d, %ld)", s->fd, backlog);
    if (listen(s->fd, (int)backlog) < 0) {
        print_failure(errno, WAIT_READY, NULL, NULL);
        return 1;
    }
    s->flags |= ST_LISTENING;
    print_value(0);
    return 0;
}

/* ---------------------------------------------------------- accept, connect */

static int cmd_accept(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 1, 1))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    if (socket_count() == MAX_SOCKETS) {
        lab_error("the playground holds at most %d sockets; close some "
                  "first",
                  MAX_SOCKETS);
        return 1;
    }
    struct call c = {.kind = CALL_ACCEPT, .fd = s->fd};
    printf("accept(%d)", s->fd);
    fflush(stdout); /* shown while it waits, as strace does */
    int fd = (int)bounded(&c);
    int err = errno;
    if (fd < 0) {
        print_failure(err, c.end, "no connection came",
                      kernel_note(&c, fd, err));
        return 1;
    }
    int family = s->family, type = s->type, parent = s->fd;
    struct psock *conn = add_socket(fd, family, type);
    conn->flags = ST_CONNECTED;
    conn->parent = parent;
    memcpy(&conn->peer, &c.addr, c.addr_len);
    conn->peer_len = c.addr_len;
    char peer[ADDR_TEXT];
    addr_text((struct sockaddr *)&c.addr, c.addr_len, peer);
    printf(" = %d (peer %s)\n", fd, peer);
    fflush(stdout);
    return 0;
}

static int cmd_connect(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 3, 3))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    struct sockaddr_storage addr;
    socklen_t len;
    if ((rc = resolve_for(argv[0], s, argv[2], argv[3], 0, &addr, &len)))
        return rc;
    char text[ADDR_TEXT];
    addr_text((struct sockaddr *)&addr, len, text);
    enum wait_end end = WAIT_READY;
    int result, err;
    printf("connect(%d, %s)", s->fd, text);
    fflush(stdout);
    double own = kernel_timeout(s->fd, SO_SNDTIMEO);
    if (own > 0 && own <= lab_wait_seconds()) {
        result = connect(s->fd, (struct sockaddr *)&addr, len); /* for real */
        err = errno;
        if (result < 0 && err == EINTR)
            end = WAIT_CTRL_C;
    } else {
        result = connect_bounded(s->fd, (struct sockaddr *)&addr, len,
                                 lab_now() + lab_wait_seconds(), &end);
        err = errno;
    }
    if (result < 0) {
        int pending = end != WAIT_READY || err == EINPROGRESS;
        if (pending)
            s->flags |= ST_CONNECTING;
        print_failure(err, end, "no answer",
                      err == ECONNREFUSED ? NULL
                      : err == EINPROGRESS
                          ? "the socket's SO_SNDTIMEO passed; the handshake "
                            "goes on"
                      : pending ? "the handshake goes on in the kernel"
                                : NULL);
        return 1;
    }
    s->flags = (s->flags & ~ST_CONNECTING) | ST_CONNECTED;
    memcpy(&s->peer, &addr, len);
    s->peer_len = len;
    print_value(0);
    return 0;
}

/* --------------------------------------------------------------- send, recv */

/* Send text (with C escapes) on s, to addr when to_len > 0; prints the
   call and returns 0, 1 or 2. */
static int do_send(const char *cmd, struct psock *s, const char *text,
                   const struct sockaddr_storage *to, socklen_t to_len) {
    size_t len;
    char *bytes = decode_text(cmd, text, &len);
    if (bytes == NULL)
        return 2;
    struct call c = {.kind = CALL_SEND,
                     .fd = s->fd,
                     .buf = bytes,
                     .len = len,
                     .addr_len = to_len};
    if (to_len > 0)
        memcpy(&c.addr, to, to_len);
    printf("%s(%d, ", cmd, s->fd);
    c_escape_print(stdout, bytes, len, SHOW_LIMIT);
    printf(", %zu, MSG_NOSIGNAL", len);
    if (to_len > 0) {
        char dest[ADDR_TEXT];
        addr_text((const struct sockaddr *)to, to_len, dest);
        printf(", %s", dest);
    }
    putchar(')');
    fflush(stdout);
    ssize_t n = bounded(&c);
    int err = errno;
    free(bytes);
    if (n < 0) {
        note_error(s, err);
        print_failure(err, c.end, "no room in the send buffer",
                      err == EPIPE ? "the connection is closed for sending"
                                   : kernel_note(&c, n, err));
        return 1;
    }
    if ((size_t)n < len) { /* some went, then the wait or an error ended it */
        printf(" = %zd (only part went: ", n);
        if (c.end == WAIT_READY)
            printf("then %s, %s)\n", errno_name(err), strerror(err));
        else
            printf("%s, the peer is not reading)\n",
                   c.end == WAIT_CTRL_C ? "interrupted by Ctrl-C"
                                        : "the wait bound passed");
        fflush(stdout);
        return 1;
    }
    print_value(n);
    return 0;
}

static int cmd_send(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 2, 2))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    return do_send(argv[0], s, argv[2], NULL, 0);
}

static int cmd_sendto(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 4, 4))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    struct sockaddr_storage addr;
    socklen_t len;
    if ((rc = resolve_for(argv[0], s, argv[2], argv[3], 0, &addr, &len)))
        return rc;
    return do_send(argv[0], s, argv[4], &addr, len);
}

/* Receive at most MAXBYTES (argv[2]) on the socket argv[1]; recvfrom also
   prints where the bytes came from. Returns 0, 1 or 2. */
static int do_recv(int argc, char **argv, int with_source) {
    int rc;
    long max = DEFAULT_RECV;
    if (bad_count(argc, argv, 1, 2))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    if (argc > 2 && parse_long(argv[2], 1, MAX_RECV, &max) < 0) {
        lab_error("'%s' is not a byte count (1-%d)", argv[2], MAX_RECV);
        lab_usage(argv[0]);
        return 2;
    }
    struct call c = {.kind = CALL_RECV, .fd = s->fd, .len = (size_t)max};
    c.buf = malloc((size_t)max);
    if (c.buf == NULL) {
        lab_error("out of memory");
        return 1;
    }
    printf("%s(%d, %ld)", argv[0], s->fd, max);
    fflush(stdout);
    ssize_t n = bounded(&c);
    int err = errno;
    if (n < 0) {
        note_error(s, err);
        print_failure(err, c.end, "no data came", kernel_note(&c, n, err));
        free(c.buf);
        return 1;
    }
    printf(" = %zd", n);
    if (n == 0 && s->type == SOCK_STREAM) {
        s->flags |= ST_PEER_EOF;
        printf(" (end of stream: the peer closed or shut down its side)");
    } else {
        putchar(' ');
        c_escape_print(stdout, c.buf, (size_t)n, SHOW_LIMIT);
    }
    if (c.msg_flags & MSG_TRUNC)
        printf(" (the datagram was longer: the rest is lost)");
    if (with_source && c.addr_len > 0) {
        char from[ADDR_TEXT];
        addr_text((struct sockaddr *)&c.addr, c.addr_len, from);
        printf(" (from %s)", from);
    }
    putchar('\n');
    fflush(stdout);
    free(c.buf);
    return 0;
}

static int cmd_recv(int argc, char **argv) {
    return do_recv(argc, argv, 0);
}

static int cmd_recvfrom(int argc, char **argv) {
    return do_recv(argc, argv, 1);
}

/* ---------------------------------------------------------- shutdown, close */

static int cmd_shutdown(int argc, char **argv) {
    static const struct {
        const char *word, *name;
        int how;
        unsigned flags;
    } hows[] = {
        {"rd", "SHUT_RD", SHUT_RD, ST_SHUT_RD},
        {"wr", "SHUT_WR", SHUT_WR, ST_SHUT_WR},
        {"rdwr", "SHUT_RDWR", SHUT_RDWR, ST_SHUT_RD | ST_SHUT_WR},
    };
    int rc;
    if (bad_count(argc, argv, 2, 2))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        if (strcasecmp(argv[2], hows[i].word) != 0 &&
            strcasecmp(argv[2], hows[i].name) != 0)
            continue;
        printf("shutdown(%d, %s)", s->fd, hows[i].name);
        if (shutdown(s->fd, hows[i].how) < 0) {
            print_failure(errno, WAIT_READY, NULL, NULL);
            return 1;
        }
        s->flags |= hows[i].flags;
        print_value(0);
        return 0;
    }
    lab_error("'%s' is not rd, wr or rdwr", argv[2]);
    lab_usage(argv[0]);
    return 2;
}

static int cmd_close(int argc, char **argv) {
    int rc;
    if (bad_count(argc, argv, 1, 1))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    printf("close(%d)", s->fd);
    int result = close(s->fd);
    int err = errno;
    remove_socket(s); /* Linux frees the descriptor even when close fails */
    if (result < 0) {
        print_failure(err, WAIT_READY, NULL, NULL);
        return 1;
    }
    print_value(0);
    return 0;
}

/* ---------------------------------------------------------------- names */

/* Ask for the local (getsockname) or peer (getpeername) address of the
   socket argv[1] and print it. */
static int do_name(int argc, char **argv, int peer) {
    int rc;
    if (bad_count(argc, argv, 1, 1))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    int result = peer ? getpeername(s->fd, (struct sockaddr *)&addr, &len)
                      : getsockname(s->fd, (struct sockaddr *)&addr, &len);
    printf("%s(%d)", argv[0], s->fd);
    if (result < 0) {
        print_failure(errno, WAIT_READY, NULL, NULL);
        return 1;
    }
    char text[ADDR_TEXT];
    addr_text((struct sockaddr *)&addr, len, text);
    printf(" = 0 (%s)%s\n", text,
           !peer && addr_is_unset((struct sockaddr *)&addr)
               ? " (not bound yet: bind, connect or sendto gives it one)"
               : "");
    fflush(stdout);
    return 0;
}

static int cmd_getsockname(int argc, char **argv) {
    return do_name(argc, argv, 0);
}

static int cmd_getpeername(int argc, char **argv) {
    return do_name(argc, argv, 1);
}

/* --------------------------------------------------------------- setsockopt */

enum opt_kind { OPT_BOOL, OPT_INT, OPT_TIME, OPT_LINGER };

/* A socket option the playground knows. */
struct sockopt {
    const char *name;
    int level;
    const char *level_name;
    int option;
    enum opt_kind kind;
};

static const struct sockopt options[] = {
    {"SO_REUSEADDR", SOL_SOCKET, "SOL_SOCKET", SO_REUSEADDR, OPT_BOOL},
    {"SO_REUSEPORT", SOL_SOCKET, "SOL_SOCKET", SO_REUSEPORT, OPT_BOOL},
    {"SO_KEEPALIVE", SOL_SOCKET, "SOL_SOCKET", SO_KEEPALIVE, OPT_BOOL},
    {"SO_BROADCAST", SOL_SOCKET, "SOL_SOCKET", SO_BROADCAST, OPT_BOOL},
    {"SO_RCVTIMEO", SOL_SOCKET, "SOL_SOCKET", SO_RCVTIMEO, OPT_TIME},
    {"SO_SNDTIMEO", SOL_SOCKET, "SOL_SOCKET", SO_SNDTIMEO, OPT_TIME},
    {"SO_RCVBUF", SOL_SOCKET, "SOL_SOCKET", SO_RCVBUF, OPT_INT},
    {"SO_SNDBUF", SOL_SOCKET, "SOL_SOCKET", SO_SNDBUF, OPT_INT},
    {"SO_LINGER", SOL_SOCKET, "SOL_SOCKET", SO_LINGER, OPT_LINGER},
    {"TCP_NODELAY", IPPROTO_TCP, "IPPROTO_TCP", TCP_NODELAY, OPT_BOOL},
    {"TCP_KEEPIDLE", IPPROTO_TCP, "IPPROTO_TCP", TCP_KEEPIDLE, OPT_INT},
    {"TCP_KEEPINTVL", IPPROTO_TCP, "IPPROTO_TCP", TCP_KEEPINTVL, OPT_INT},
    {"TCP_KEEPCNT", IPPROTO_TCP, "IPPROTO_TCP", TCP_KEEPCNT, OPT_INT},
    {"IPV6_V6ONLY", IPPROTO_IPV6, "IPPROTO_IPV6", IPV6_V6ONLY, OPT_BOOL},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

/* The option named name, with or without its SO_/TCP_/IPV6_ prefix, in
   any case; or NULL. */
static const struct sockopt *find_option(const char *name) {
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *full = options[i].name;
        const char *bare = strchr(full, '_') + 1;
        if (strcasecmp(name, full) == 0 || strcasecmp(name, bare) == 0)
            return &options[i];
    }
    return NULL;
}

/* An option value in every shape setsockopt takes. */
union optval {
    int number;
    struct timeval tv;
    struct linger linger;
};

/* Parse text as a value of kind into v and its size; returns 0 or -1. */
static int parse_optval(enum opt_kind kind, const char *text, union optval *v,
                        socklen_t *size) {
    static const char *yes[] = {"on", "yes", "true"};
    static const char *no[] = {"off", "no", "false"};
    long n;
    char *end;
    memset(v, 0, sizeof *v);
    *size = sizeof v->number;
    if (kind == OPT_BOOL) {
        for (int i = 0; i < 3; i++) {
            if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
                v->number = strcasecmp(text, yes[i]) == 0;
                return 0;
            }
        }
    }
    if (kind == OPT_TIME) {
        errno = 0;
        double s = strtod(text, &end);
        if (errno || end == text || *end || !(s >= 0 && s <= 1e6))
            return -1;
        v->tv.tv_sec = (time_t)s;
        v->tv.tv_usec = (suseconds_t)((s - (double)v->tv.tv_sec) * 1e6 + 0.5);
        if (v->tv.tv_usec >= 1000000) { /* 0.9999999 rounds up */
            v->tv.tv_sec++;
            v->tv.tv_usec -= 1000000;
        }
        *size = sizeof v->tv;
        return 0;
    }
    if (kind == OPT_LINGER) {
        *size = sizeof v->linger;
        if (strcasecmp(text, "off") == 0)
            return 0;
        if (parse_long(text, 0, 3600, &n) < 0)
            return -1;
        v->linger.l_onoff = 1;
        v->linger.l_linger = (int)n;
        return 0;
    }
    if (parse_long(text, 0, INT_MAX, &n) < 0)
        return -1;
    v->number = (int)n;
    return 0;
}

/* Print value v of kind the way strace shows it. */
static void print_optval(enum opt_kind kind, const union optval *v) {
    if (kind == OPT_TIME)
        printf("{tv_sec=%ld, tv_usec=%ld}", (long)v->tv.tv_sec,
               (long)v->tv.tv_usec);
    else if (kind == OPT_LINGER)
        printf("{l_onoff=%d, l_linger=%d}", v->linger.l_onoff,
               v->linger.l_linger);
    else
        printf("%d", v->number);
}

/* What to say of the value the kernel reports back. */
static const char *readback_note(const struct sockopt *o,
                                 const union optval *set,
                                 const union optval *got) {
    if ((o->option == SO_RCVBUF || o->option == SO_SNDBUF) &&
        o->level == SOL_SOCKET && got->number != set->number) {
        long asked = (long)set->number * 2;
        if (got->number == asked)
            return "; Linux doubles the size asked for: the other half is "
                   "its own bookkeeping";
        if (got->number > asked)
            return "; the kernel's minimum: it never goes below that";
        return o->option == SO_RCVBUF
                   ? "; twice net.core.rmem_max: the kernel's cap"
                   : "; twice net.core.wmem_max: the kernel's cap";
    }
    if (o->option == SO_RCVTIMEO || o->option == SO_SNDTIMEO)
        return o->option == SO_RCVTIMEO
                   ? "; recv and accept on it now give up with EAGAIN"
                   : "; send and connect on it now give up";
    return "";
}

static int cmd_setsockopt(int argc, char **argv) {
    static const char *expect[] = {"on or off", "a number",
                                   "seconds, like 1.5 (0: never)",
                                   "off or seconds"};
    int rc;
    if (bad_count(argc, argv, 3, 3))
        return 2;
    struct psock *s = find_socket(argv[0], argv[1], &rc);
    if (s == NULL)
        return rc;
    const struct sockopt *o = find_option(argv[2]);
    if (o == NULL) {
        char known[OPTION_COUNT * 16];
        size_t len = 0;
        for (size_t i = 0; i < OPTION_COUNT; i++)
            len += (size_t)snprintf(known + len, sizeof known - len, " %s",
                                    options[i].name);
        lab_error("unknown option '%s' (known:%s)", argv[2], known);
        lab_usage(argv[0]);
        return 2;
    }
    union optval set, got;
    socklen_t size, got_size;
    if (parse_optval(o->kind, argv[3], &set, &size) < 0) {
        lab_error("%s takes %s, not '%s'", o->name, expect[o->kind], argv[3]);
        lab_usage(argv[0]);
        return 2;
    }
    printf("setsockopt(%d, %s, %s, ", s->fd, o->level_name, o->name);
    print_optval(o->kind, &set);
    putchar(')');
    if (setsockopt(s->fd, o->level, o->option, &set, size) < 0) {
        print_failure(errno, WAIT_READY, NULL, NULL);
        return 1;
    }
    print_value(0);
    /* Read it back: what the kernel keeps is not always what was asked. */
    memset(&got, 0, sizeof got);
    got_size = size;
    printf("getsockopt(%d, %s, %s)", s->fd, o->level_name, o->name);
    if (getsockopt(s->fd, o->level, o->option, &got, &got_size) < 0) {
        print_failure(errno, WAIT_READY, NULL, NULL);
        return 1;
    }
    printf(" = 0 (");
    print_optval(o->kind, &got);
    printf("%s)\n", readback_note(o, &set, &got));
    fflush(stdout);
    return 0;
}

/* ---------------------------------------------------------------- resolve */

/* The name of a socket type or protocol in a getaddrinfo result. */
static const char *socktype_name(int type) {
    switch (type) {
    case SOCK_STREAM:
        return "SOCK_STREAM";
    case SOCK_DGRAM:
        return "SOCK_DGRAM";
    case SOCK_RAW:
        return "SOCK_RAW";
    default:
        return "SOCK_?";
    }
}

static const char *protocol_name(int protocol) {
    switch (protocol) {
    case IPPROTO_TCP:
        return "IPPROTO_TCP";
    case IPPROTO_UDP:
        return "IPPROTO_UDP";
    case 0:
        return "0";
    default:
        return "IPPROTO_?";
    }
}

static int cmd_resolve(int argc, char **argv) {
    if (bad_count(argc, argv, 1, 2))
        return 2;
    const char *host = argv[1], *service = argc > 2 ? argv[2] : NULL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_flags = AI_CANONNAME};
    struct addrinfo *res = NULL;
    enum wait_end end;
    printf("getaddrinfo(\"%s\", ", host);
    if (service)
        printf("\"%s\")", service);
    else
        printf("NULL)");
    fflush(stdout);
    int code = lookup(host, service, &hints, &res, &end);
    if (code != 0) {
        int err = errno;
        printf(" = %s%s%s ", C_RED, gai_name(code), C_OFF);
        if (end == WAIT_BOUND)
            printf("(no answer within %g s: the lab's wait bound, see "
                   "`wait`)\n",
                   lab_wait_seconds());
        else if (end == WAIT_CTRL_C)
            printf("(interrupted by Ctrl-C)\n");
        else if (code == EAI_SYSTEM)
            printf("(%s: %s)\n", errno_name(err), strerror(err));
        else
            printf("(%s)\n", gai_strerror(code));
        fflush(stdout);
        return 1;
    }
    int count = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        count++;
    printf(" = 0 (%d result%s", count, count == 1 ? "" : "s");
    if (res->ai_canonname != NULL)
        printf(", canonical name \"%s\"", res->ai_canonname);
    printf(")\n");
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[ADDR_TEXT];
        if (service)
            addr_text(ai->ai_addr, ai->ai_addrlen, text);
        else
            ip_text(ai->ai_addr, text);
        printf("  %-8s  %-11s  %-11s  %s\n", family_name(ai->ai_family),
               socktype_name(ai->ai_socktype), protocol_name(ai->ai_protocol),
               text);
    }
    fflush(stdout);
    freeaddrinfo(res);
    return 0;
}

/* ------------------------------------------------------------ sockets, wait */

/* Write the state of s into out, asking the kernel what it can tell. */
static void state_text(struct psock *s, char *out, size_t size) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    int has_peer = getpeername(s->fd, (struct sockaddr *)&addr, &len) == 0;
    if ((s->flags & ST_CONNECTING) && has_peer)
        s->flags = (s->flags & ~ST_CONNECTING) | ST_CONNECTED;
    len = sizeof addr;
    int bound = getsockname(s->fd, (struct sockaddr *)&addr, &len) == 0 &&
                !addr_is_unset((struct sockaddr *)&addr);
    const char *base = s->flags & ST_LISTENING    ? "listening"
                       : s->flags & ST_CONNECTED  ? "connected"
                       : s->flags & ST_CONNECTING ? "connecting"
                       : bound                    ? "bound"
                                                  : "created";
    snprintf(out, size, "%s%s%s%s%s", base,
             s->flags & ST_SHUT_RD ? ", shut rd" : "",
             s->flags & ST_SHUT_WR ? ", shut wr" : "",
             s->flags & ST_PEER_EOF ? ", peer closed" : "",
             s->flags & ST_RESET ? ", reset" : "");
    if (s->parent >= 0 && strlen(out) + 20 < size)
        snprintf(out + strlen(out), size - strlen(out), " (accepted on %d)",
                 s->parent);
}

/* Print one row of the sockets table for s. */
static void print_row(struct psock *s) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char local[ADDR_TEXT] = "-", peer[ADDR_TEXT] = "-", state[96], type[16];
    if (getsockname(s->fd, (struct sockaddr *)&addr, &len) == 0 &&
        !addr_is_unset((struct sockaddr *)&addr))
        addr_text((struct sockaddr *)&addr, len, local);
    len = sizeof addr;
    if (getpeername(s->fd, (struct sockaddr *)&addr, &len) == 0)
        addr_text((struct sockaddr *)&addr, len, peer);
    else if (s->peer_len > 0) /* reset or shut down: the last one known */
        addr_text((struct sockaddr *)&s->peer, s->peer_len, peer);
    state_text(s, state, sizeof state);
    snprintf(type, sizeof type, "%s/%s", s->type == SOCK_DGRAM ? "udp" : "tcp",
             s->family == AF_INET6 ? "inet6" : "inet");
    printf("%-4d %-9s  %-22s %-22s %s\n", s->fd, type, local, peer, state);
}

static int cmd_sockets(int argc, char **argv) {
    if (bad_count(argc, argv, 0, 0))
        return 2;
    if (socket_count() == 0) {
        printf("no open sockets (make one with: socket tcp)\n");
        fflush(stdout);
        return 0;
    }
    printf("%-4s %-9s  %-22s %-22s %s\n", "id", "type", "local", "peer",
           "state");
    for (int i = 0; i < MAX_SOCKETS; i++)
        if (table[i].used)
            print_row(&table[i]);
    fflush(stdout);
    return 0;
}

static int cmd_wait(int argc, char **argv) {
    if (bad_count(argc, argv, 0, 1))
        return 2;
    if (argc > 1) {
        char *end;
        errno = 0;
        double s = strtod(argv[1], &end);
        if (errno || end == argv[1] || *end || !(s >= 0 && s <= MAX_WAIT)) {
            lab_error("'%s' is not a number of seconds (0-%g)", argv[1],
                      MAX_WAIT);
            lab_usage(argv[0]);
            return 2;
        }
        lab_set_wait_seconds(s);
        printf("blocking calls now wait at most %g s\n", s);
    } else {
        printf("blocking calls (accept, connect, recv, recvfrom, send, "
               "resolve) wait at most %g s; Ctrl-C stops one sooner; "
               "`wait SECONDS` changes it\n",
               lab_wait_seconds());
    }
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------ completion, cleanup */

static char *complete_socket_id(const char *text, int state) {
    static int next;
    if (state == 0)
        next = 0;
    while (next < MAX_SOCKETS) {
        struct psock *s = &table[next++];
        char id[16];
        if (!s->used)
            continue;
        snprintf(id, sizeof id, "%d", s->fd);
        if (strncmp(id, text, strlen(text)) == 0)
            return strdup(id);
    }
    return NULL;
}

static char *complete_sockopt(const char *text, int state) {
    static size_t next;
    if (state == 0)
        next = 0;
    while (next < OPTION_COUNT) {
        const char *name = options[next++].name;
        if (strncasecmp(name, text, strlen(text)) == 0)
            return strdup(name);
    }
    return NULL;
}

void playground_cleanup(void) {
    for (int i = 0; i < MAX_SOCKETS; i++) {
        if (table[i].used) {
            close(table[i].fd);
            table[i].used = 0;
        }
    }
    lookup_cleanup();
}

/* ---------------------------------------------------------------- the table */

#define PLAYGROUND "Socket playground (real calls, shown the way strace would)"

static const struct lab_command rows[] = {
    {"socket", "tcp|udp [inet|inet6]", cmd_socket,
     "socket(): a new TCP or UDP socket", NULL, PLAYGROUND, NULL},
    {"bind", "FD HOST PORT", cmd_bind, "bind(): give FD a local address", NULL,
     PLAYGROUND, NULL},
    {"listen", "FD [BACKLOG]", cmd_listen,
     "listen(): let TCP socket FD take clients", NULL, PLAYGROUND, NULL},
    {"accept", "FD", cmd_accept, "accept(): wait for a client: a new socket",
     NULL, PLAYGROUND, NULL},
    {"connect", "FD HOST PORT", cmd_connect,
     "connect(): connect FD to a server", NULL, PLAYGROUND, NULL},
    {"send", "FD TEXT", cmd_send,
     "send(): send TEXT (C escapes: \\n \\xHH ...)", NULL, PLAYGROUND,
     "Quote TEXT with spaces: send 4 \"hello, socket\\n\". Escapes are sent "
     "as\n"
     "the bytes they stand for; what send() returns is how many went out."},
    {"recv", "FD [MAXBYTES]", cmd_recv,
     "recv(): wait for bytes, show them escaped", NULL, PLAYGROUND,
     "Waits at most the time `wait` shows; Ctrl-C interrupts it. recv()\n"
     "returning 0 means the other side closed: end of file."},
    {"sendto", "FD HOST PORT TEXT", cmd_sendto,
     "sendto(): send one UDP datagram", NULL, PLAYGROUND, NULL},
    {"recvfrom", "FD [MAXBYTES]", cmd_recvfrom,
     "recvfrom(): wait for a datagram and sender", NULL, PLAYGROUND, NULL},
    {"shutdown", "FD rd|wr|rdwr", cmd_shutdown,
     "shutdown(): stop reading and/or writing", NULL, PLAYGROUND, NULL},
    {"setsockopt", "FD OPTION VALUE", cmd_setsockopt,
     "setsockopt(): set an option (Tab lists them)", NULL, PLAYGROUND, NULL},
    {"getsockname", "FD", cmd_getsockname,
     "getsockname(): the local address of FD", NULL, PLAYGROUND, NULL},
    {"getpeername", "FD", cmd_getpeername,
     "getpeername(): the address of the other end", NULL, PLAYGROUND, NULL},
    {"close", "FD", cmd_close, "close(): close socket FD", NULL, PLAYGROUND,
     NULL},
    {"resolve", "HOST [SERVICE]", cmd_resolve,
     "getaddrinfo(): the addresses of HOST", NULL, PLAYGROUND, NULL},
    {"sockets", "", cmd_sockets, "a table of the open sockets and their state",
     NULL, PLAYGROUND, NULL},
    {"wait", "[SECONDS]", cmd_wait, "show or set the bound of blocking calls",
     NULL, PLAYGROUND, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void playground_register(void) {
    lab_register(rows);
    lab_register_word("FD", complete_socket_id);
    lab_register_word("OPTION", complete_sockopt);
}
