/*
 * client.c - lesson 06: an interactive client that waits on the keyboard
 * and the network at once with select() (your work).
 *
 * It connects to HOST:PORT, then one select() loop watches standard input
 * and the socket: every line you type is sent, and whatever the server
 * sends is printed the moment it arrives, even while you are not typing.
 * At the end of input (Ctrl-D, or the end of a file) it half-closes the
 * connection with shutdown(SHUT_WR), "I have nothing more to say", keeps
 * printing what the server still sends, and exits 0 when the server
 * closes. Simple clients alternate input() and recv(), so a server
 * that speaks first, or twice, waits until you press Enter; this one does
 * not.
 *
 * Fill in the TODOs in the order of lessons/06-select/README.md (steps 8
 * to 10 are this file's).
 *
 * usage: client [HOST [PORT]]    default 127.0.0.1 8080
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define BUF_SIZE 4096

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* What was read from standard input and not sent yet. */
static char pending[BUF_SIZE];
static size_t pending_len;

/* Print "client: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
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

/* Fill addr from HOST and PORT; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    if (argc > 3 || (argc > 1 && argv[1][0] == '-') ||
        (argc > 2 && !is_number(argv[2]))) {
        fprintf(stderr, "usage: client [HOST [PORT]]\n");
        return -1;
    }
    if (argc > 1)
        host = argv[1];
    if (argc > 2) {
        long n = strtol(argv[2], NULL, 10);
        if (n < 1 || n > 65535) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", argv[2]);
            fprintf(stderr, "usage: client [HOST [PORT]]\n");
            return -1;
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
        fprintf(stderr,
                "client: bad address '%s' (use an IPv4 address "
                "such as 127.0.0.1)\n",
                host);
        fprintf(stderr, "usage: client [HOST [PORT]]\n");
        return -1;
    }
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

/* Connect to addr; returns the socket or -1. */
static int connect_to(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        report("socket");
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        report("connect");
        close(fd);
        return -1;
    }
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
    /* TODO(step 9): shutdown(fd, SHUT_WR) (report("shutdown") on -1). */
    /* Tell the server we are done, but keep reading: its answers may
       still be on their way. */
    fprintf(stderr, "client: input ended; socket %d is not half-closed "
                    "yet (step 9)\n", fd);
    *half_closed = 1;
    return 0;
}

/* Act on what select() said of the socket and of standard input; returns
   0 to go on, 1 when the server closed, -1 on an error. */
static int on_ready(int fd, fd_set *readable, fd_set *writable,
                    int *input_open) {
    if (FD_ISSET(fd, readable)) {
        int r = print_reply(fd);
        if (r != 0)
            return r; /* 1: the server closed, we are done */
    }
    if (FD_ISSET(STDIN_FILENO, readable)) {
        int r = read_input();
        if (r < 0)
            return -1;
        *input_open = r == 0;
    }
    if (FD_ISSET(fd, writable) && send_pending(fd) < 0)
        return -1;
    return 0;
}

/* Pass typed lines to the server and its bytes to standard output, with
   one select() over both, until the server closes; returns 0, or -1 on an
   error. */
static int talk(int fd) {
    int input_open = 1, half_closed = 0;
    for (;;) {
        if (half_close_when_done(fd, input_open, &half_closed) < 0)
            return -1;
        fd_set readable, writable;
        /* TODO(step 8): FD_ZERO() both sets; always FD_SET(fd, &readable);
           FD_SET(STDIN_FILENO, &readable) while input is open and
           pending[] has room; FD_SET(fd, &writable) while pending_len > 0.
           Then select(fd + 1, ...) with no time limit (EINTR: go round
           again); on_ready() then acts on what it says. */
        errno = ENOSYS;
        report("select");
        return -1;
        int r = on_ready(fd, &readable, &writable, &input_open);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    int fd = connect_to(&addr);
    if (fd < 0)
        return 1;
    int status = 1;
    if (set_nonblocking(fd) == 0)
        status = talk(fd) == 0 ? 0 : 1;
    close(fd);
    return status;
}
