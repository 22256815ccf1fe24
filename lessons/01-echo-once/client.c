/*
 * client.c - lesson 01: the smallest TCP echo client (your work).
 *
 * It connects to HOST:PORT, sends one message, prints what comes back and
 * exits. The message is the words on the command line joined by spaces, or
 * one line read from standard input. This is seed 002's echo_client1.py.
 *
 * Fill in the TODOs in the order of lessons/01-echo-once/README.md.
 *
 * usage: client [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 4000
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 4000
#define BUF_SIZE 1024

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* Print "client: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
}

/* Is s a whole number (so argv[2] is a PORT, not the message)? */
static int is_number(const char *s) {
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Fill addr from HOST and PORT; returns the index of the first message
   word, or -1 after printing usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    int i = 1;
    if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
        fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc && is_number(argv[i])) {
        long n = strtol(argv[i++], NULL, 10);
        if (n < 1 || n > 65535) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", argv[i - 1]);
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
        fprintf(stderr, "client: bad address '%s' (use an IPv4 address "
                        "such as 127.0.0.1)\n", host);
        fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
        return -1;
    }
    return i;
}

/* Build the message: words joined by spaces plus a newline, or one line
   of stdin; returns its length, or -1 if there is none. */
static ssize_t make_message(char *buf, size_t size, int argc, char **argv,
                            int first) {
    size_t len = 0;
    if (first >= argc) {
        if (!fgets(buf, (int)size, stdin))
            return -1;
        return (ssize_t)strlen(buf);
    }
    for (int i = first; i < argc; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > first ? " " : "",
                         argv[i]);
        if (n < 0 || (size_t)n >= size - len - 1)
            return -1;
        len += (size_t)n;
    }
    buf[len++] = '\n';
    return (ssize_t)len;
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

/* Connect to addr; returns the socket or -1. */
static int connect_to(const struct sockaddr_in *addr) {
    /* TODO(step 4): socket(AF_INET, SOCK_STREAM, 0), then connect() to
       addr. TODO(step 5): when connect() fails, report("connect"), close
       the socket and return -1, so a refused connection reads
       "client: connect 127.0.0.1:4000: Connection refused". */
    (void)addr;
    errno = ENOSYS;
    report("connect");
    return -1;
}

/* Send msg, then print the one reply; returns 0 or -1. */
static int exchange(int fd, const char *msg, size_t len) {
    /* TODO(step 4): send_all() the message, recv() one reply of at most
       BUF_SIZE bytes and fwrite() exactly those bytes to stdout. */
    (void)fd;
    (void)msg;
    (void)len;
    (void)send_all; /* written for you, above */
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    int first = parse_args(argc, argv, &addr);
    if (first < 0)
        return 2;
    char msg[BUF_SIZE];
    ssize_t len = make_message(msg, sizeof msg, argc, argv, first);
    if (len < 0) {
        fprintf(stderr, "client: no message (give one, or a line on "
                        "stdin; at most %d bytes)\n", BUF_SIZE - 2);
        return 2;
    }
    int fd = connect_to(&addr);
    if (fd < 0)
        return 1;
    int status = exchange(fd, msg, (size_t)len) == 0 ? 0 : 1;
    close(fd);
    return status;
}
