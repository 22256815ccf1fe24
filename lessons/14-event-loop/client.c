/*
 * client.c - lesson 14: the event loop's client. A non-blocking connect
 * with a time limit, then one poll() loop over the keyboard and the
 * network (your work).
 *
 * connect() on a non-blocking socket returns at once with EINPROGRESS;
 * the handshake goes on in the kernel, and poll() says when it is over
 * (the socket turns writable), or the time runs out. getsockopt(SO_ERROR)
 * then says how it ended. Once connected, one poll() waits on standard
 * input and the socket at once: what the server sends is printed the
 * moment it arrives, typed lines go out as the socket takes them, and at
 * the end of input the client half-closes and prints what is still on its
 * way, until the server closes.
 *
 * Fill in the TODOs of steps 9 and 10 (lessons/14-event-loop/README.md);
 * after each `make check LESSON=14` (or `check 14` in the lab) says how
 * it went.
 *
 * usage: client [--timeout SECONDS] [HOST [PORT]]
 *        default 127.0.0.1 8080, connect waits as long as the kernel does
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
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080"
#define BUF_SIZE 4096
#define USAGE "usage: client [--timeout SECONDS] [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT; /* a number or a service name */
static int timeout_ms = -1; /* --timeout; -1 means wait as long as it takes */

/* What was read from standard input and not sent yet. */
static char pending[BUF_SIZE];
static size_t pending_len;

/* Print "client: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Read --timeout, HOST and PORT; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0) {
        char *end;
        errno = 0;
        double s = strtod(argv[i + 1], &end);
        /* !(s > 0) also rejects NaN. */
        if (errno || *end || end == argv[i + 1] || !(s > 0) || s > 86400) {
            fprintf(stderr, "client: bad timeout '%s' (seconds > 0)\n",
                    argv[i + 1]);
            fputs(USAGE, stderr);
            return -1;
        }
        timeout_ms = (int)(s * 1000 + 0.5);
        i += 2;
    }
    if (argc - i > 2 || (i < argc && argv[i][0] == '-')) {
        fputs(USAGE, stderr);
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc)
        port = argv[i]; /* getaddrinfo() checks it: a number or a name */
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

/* Connect non-blocking fd to address ai within timeout_ms; returns 0, or
   -1 after reporting why it failed ("timed out" when the time ran out). */
static int finish_connect(int fd, const struct addrinfo *ai) {
    /* TODO(step 10): connect() fails with EINPROGRESS; poll() for POLLOUT
       with timeout_ms (0 ready: the time is up); then SO_ERROR from
       getsockopt() says whether it worked. */
    /* Until then: connect() and hope; it has not finished yet. */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
        return 0;
    report("connect");
    return -1;
}

/* Connect to host:port, trying each address the name has in turn;
   returns the socket (non-blocking), or -1 after reporting why none
   answered. */
static int connect_to(void) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;     /* IPv4 or IPv6, whatever it has */
    hints.ai_socktype = SOCK_STREAM; /* TCP only: one result per address */
    hints.ai_flags = AI_ADDRCONFIG;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            report("socket"); /* e.g. no IPv6 here: try the next address */
            continue;
        }
        if (set_nonblocking(fd) < 0 || finish_connect(fd, ai) < 0) {
            close(fd); /* failed on this address: try the next one */
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
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

/* Once input has ended and all of it is sent, half-close the connection
   (once); returns 0 or -1. */
static int half_close_when_done(int fd, int input_open, int *half_closed) {
    if (input_open || pending_len > 0 || *half_closed)
        return 0;
    /* Tell the server we are done, but keep reading: its answers may
       still be on their way. */
    if (shutdown(fd, SHUT_WR) < 0) {
        report("shutdown");
        return -1;
    }
    *half_closed = 1;
    return 0;
}

/* Act on what poll() said of the socket (p[0]) and of standard input
   (p[1]); returns 0 to go on, 1 when the server closed, -1 on an error. */
static int on_ready(int fd, const struct pollfd p[2], int *input_open) {
    /* POLLHUP and POLLERR come without asking: recv() and read() say
       what happened. */
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        int r = print_reply(fd);
        if (r != 0)
            return r; /* 1: the server closed, we are done */
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        int r = read_input();
        if (r < 0)
            return -1;
        *input_open = r == 0;
    }
    if ((p[0].revents & POLLOUT) && send_pending(fd) < 0)
        return -1;
    return 0;
}

/* Pass typed lines to the server and its bytes to standard output, with
   one poll() over both, until the server closes; returns 0, or -1 on an
   error. */
static int talk(int fd) {
    int input_open = 1, half_closed = 0;
    for (;;) {
        if (half_close_when_done(fd, input_open, &half_closed) < 0)
            return -1;
        struct pollfd p[2];
        /* TODO(step 9): fill p[0] with the socket (POLLIN always, POLLOUT
           while pending_len > 0) and p[1] with stdin (POLLIN while the
           input is open and pending[] has room, else fd -1, which poll()
           skips), then poll() them with no time limit. */
        errno = ENOSYS;
        report("poll");
        return -1;
        int r = on_ready(fd, p, &input_open);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    int fd = connect_to();
    if (fd < 0)
        return 1;
    int status = talk(fd) == 0 ? 0 : 1;
    close(fd);
    return status;
}
