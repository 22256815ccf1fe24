/*
 * client.c - lesson 13: IPv6. Lesson 07's interactive client, trying every
 * address of a name in turn, each with a time limit (your work).
 *
 * It connects to HOST:PORT, where HOST is a name (localhost, this
 * machine's name) or an address of either family (127.0.0.1, ::1), and
 * PORT a number or a service name. getaddrinfo() may give several
 * addresses: IPv6 and IPv4, in the order the system prefers. The client
 * tries them in that order, each with lesson 05's non-blocking connect()
 * and a time limit (--timeout, default 2 s), says on stderr why each one
 * that failed failed, and goes on with the first that answers. Then typed
 * lines go to the server and what it sends is printed (lesson 06); at the
 * end of the input it half-closes and prints the rest. When no address
 * answers it exits 1.
 *
 * Fill in the TODOs of steps 5 and 6 (lessons/13-ipv6/README.md); after
 * each, `make check LESSON=13` (or `check 13` in the lab) says how it
 * went.
 *
 * usage: client [--timeout SECONDS] [HOST [PORT]]
 *        default 2 s per address, 127.0.0.1 8080
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080"
#define DEFAULT_TIMEOUT_MS 2000 /* per address: a dead one costs no more */
#define BUF_SIZE 4096
#define ADDR_SIZE 80 /* "ADDRESS:PORT" in numbers, IPv6 and a scope included */
#define USAGE "usage: client [--timeout SECONDS] [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT; /* a number or a service name */
static int timeout_ms = DEFAULT_TIMEOUT_MS; /* --timeout, per address */

/* What was read from standard input and not sent yet. */
static char pending[BUF_SIZE];
static size_t pending_len;

/* Print "client: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Print "client: CALL HOST:PORT: reason" for the error code err that
   getaddrinfo() returned. */
static void report_gai_host(const char *call, int err) {
    const char *reason = err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err);
    fprintf(stderr, "client: %s %s:%s: %s\n", call, host, port, reason);
}

/* Read "--timeout SECONDS" at argv[*i] if it is there, into timeout_ms
   (milliseconds, for poll); returns 0, or -1 after printing why the value
   is bad. */
static int parse_timeout(int argc, char **argv, int *i) {
    if (*i >= argc || strcmp(argv[*i], "--timeout") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "client: --timeout needs a number of seconds\n");
        return -1;
    }
    char *end;
    errno = 0;
    double s = strtod(argv[*i + 1], &end);
    /* !(s > 0) also rejects NaN. */
    if (errno || *end || end == argv[*i + 1] || !(s > 0) || s > 86400) {
        fprintf(stderr, "client: bad timeout '%s' (seconds, more than 0)\n",
                argv[*i + 1]);
        return -1;
    }
    timeout_ms = (int)(s * 1000 + 0.999); /* round up: 0.0001 s is 1 ms */
    *i += 2;
    return 0;
}

/* Read --timeout, HOST and PORT from the command line; returns 0, or -1
   after printing usage. getaddrinfo() checks the names later. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    if (parse_timeout(argc, argv, &i) < 0 || argc - i > 2 ||
        (i < argc && argv[i][0] == '-')) {
        fputs(USAGE, stderr);
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc)
        port = argv[i++]; /* getaddrinfo() checks it: a number or a name */
    return 0;
}

/* Make fd non-blocking; returns 0 or -1. */
static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        report("fcntl");
        return -1;
    }
    return 0;
}

/* Write socket address sa (len bytes) as "ADDRESS:PORT" in numbers into
   out (ADDR_SIZE bytes), or "?" after saying why getnameinfo() cannot. */
static void address_text(const struct sockaddr *sa, socklen_t len, char *out) {
    char addr[64], serv[8]; /* 46 for IPv6 in text, plus a scope "%eth0" */
    int err = getnameinfo(sa, len, addr, sizeof addr, serv, sizeof serv,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (err != 0) {
        report_gai_host("getnameinfo", err);
        snprintf(out, ADDR_SIZE, "?");
    } else {
        snprintf(out, ADDR_SIZE, "%s:%s", addr, serv);
    }
}

/* Print "client: CALL ADDRESS:PORT: reason" for one address of the name,
   in numbers: the user sees which of them failed, and why. */
static void report_address(const char *call, const struct addrinfo *ai,
                           const char *reason) {
    char text[ADDR_SIZE];
    address_text(ai->ai_addr, ai->ai_addrlen, text);
    fprintf(stderr, "client: %s %s: %s\n", call, text, reason);
}

/* TODO(step 6): write wait_connected(fd): wait up to timeout_ms for the
   connect() under way on non-blocking fd (poll() for POLLOUT), then ask
   SO_ERROR how it ended; 0, or -1 with errno (ETIMEDOUT: time ran out). */

/* Connect to one address of the name within timeout_ms; returns the
   (non-blocking) socket, or -1 after saying on stderr why it failed. */
static int try_address(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        /* e.g. a machine with IPv6 turned off: EAFNOSUPPORT */
        report_address("socket", ai, strerror(errno));
        return -1;
    }
    /* TODO(step 6): make fd non-blocking, connect() (EINPROGRESS: the
       handshake goes on), then wait_connected(); "timed out" on ETIMEDOUT.
       Say why it failed with report_address(), as below. */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd; /* blocking: a silent address holds us for minutes */
    report_address("connect", ai, strerror(errno));
    close(fd);
    return -1;
}

/* Connect to host:port, trying each address the name has in turn, in
   getaddrinfo()'s order; returns the socket of the first that answers, or
   -1 when none did (each failure was reported). */
static int connect_to(void) {
    /* TODO(step 5): getaddrinfo() for a stream socket of any family (no
       AI_ADDRCONFIG), then try_address() on each result until one
       works; freeaddrinfo() after. */
    /* Until then, lesson 01's way: IPv4 127.0.0.1, whatever HOST says,
       and PORT in numbers only. */
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_port = htons((uint16_t)atoi(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct addrinfo one = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                           .ai_addr = (struct sockaddr *)&sin,
                           .ai_addrlen = sizeof sin};
    return try_address(&one);
}

/* Write all len bytes of buf to standard output; returns 0 or -1. */
static int print_all(const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "client: write to standard output: %s\n",
                    strerror(errno));
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Print what the server sent; returns 0, 1 when the server closed the
   connection, or -1 on an error. */
static int print_reply(int fd) {
    char buf[BUF_SIZE];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        report("recv");
        return -1;
    }
    if (n == 0)
        return 1;
    /* Simplification: standard output blocks; a terminal or a file
       takes our bytes quickly, a stalled pipe would stall us too. */
    return print_all(buf, (size_t)n);
}

/* Read what is typed into pending[]; returns 0, 1 at the end of input,
   or -1 on an error. */
static int read_input(void) {
    ssize_t n =
        read(STDIN_FILENO, pending + pending_len, sizeof pending - pending_len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        fprintf(stderr, "client: read standard input: %s\n", strerror(errno));
        return -1;
    }
    if (n == 0)
        return 1;
    pending_len += (size_t)n;
    return 0;
}

/* Send as much of pending[] as the socket takes now; returns 0 or -1. */
static int send_pending(int fd) {
    ssize_t n = send(fd, pending, pending_len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        report("send");
        return -1;
    }
    pending_len -= (size_t)n;
    memmove(pending, pending + n, pending_len);
    return 0;
}

/* Pass typed lines to the server and its bytes to standard output until
   the server closes; returns 0, or -1 on an error. */
static int talk(int fd) {
    int input_open = 1, half_closed = 0;
    for (;;) {
        if (!input_open && pending_len == 0 && !half_closed) {
            /* All typed bytes are sent: tell the server we are done, but
               keep reading, as its answers may still be on their way. */
            if (shutdown(fd, SHUT_WR) < 0) {
                report("shutdown");
                return -1;
            }
            half_closed = 1;
        }
        fd_set readable, writable;
        FD_ZERO(&readable);
        FD_ZERO(&writable);
        FD_SET(fd, &readable);
        if (input_open && pending_len < sizeof pending)
            FD_SET(STDIN_FILENO, &readable);
        if (pending_len > 0)
            FD_SET(fd, &writable);
        if (select(fd + 1, &readable, &writable, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            report("select");
            return -1;
        }
        if (FD_ISSET(fd, &readable)) {
            int r = print_reply(fd);
            if (r != 0)
                return r < 0 ? -1 : 0; /* 1: the server closed, we are done */
        }
        if (FD_ISSET(STDIN_FILENO, &readable)) {
            int r = read_input();
            if (r < 0)
                return -1;
            input_open = r == 0;
        }
        if (FD_ISSET(fd, &writable) && send_pending(fd) < 0)
            return -1;
    }
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    int fd = connect_to();
    if (fd < 0)
        return 1;
    int status = 1;
    if (set_nonblocking(fd) == 0) /* talk() waits in select() only */
        status = talk(fd) == 0 ? 0 : 1;
    close(fd);
    return status;
}
