/*
 * client.c - lesson 01: the smallest TCP echo client (reference solution).
 *
 * It connects to HOST:PORT, sends one message, prints what comes back and
 * exits. The message is the words on the command line joined by spaces,
 * plus a newline, or one line read from standard input. client.py beside
 * it is the same program in Python.
 *
//>  * Fill in the TODOs in the order of lessons/01-echo-once/README.md.
//>  *
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
#define BUF_SIZE 1024 /* one recv() takes at most this many bytes */

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* Print "client: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
}

/* Fill addr from HOST and PORT; returns the index of the first message
   word, or -1 after printing usage. A second word that starts with a
   digit is a PORT, and must be a whole one. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    int i = 1;
    if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
        fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc && isdigit((unsigned char)argv[i][0])) {
        char *end;
        errno = 0;
        long n = strtol(argv[i], &end, 10);
        if (errno || *end || n < 1 || n > 65535) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", argv[i]);
            fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
            return -1;
        }
        port = (unsigned)n;
        i++;
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

/* Build the message in *msg (malloc'd, free it): the words from argv[first]
   on joined by spaces plus a newline, or else one line of stdin; returns
   its length, or -1 when there is none. */
static ssize_t make_message(char **msg, int argc, char **argv, int first) {
    size_t cap = 0;
    *msg = NULL;
    if (first >= argc) {
        ssize_t n = getline(msg, &cap, stdin); /* grows *msg to fit */
        return n > 0 ? n : -1;
    }
    for (int i = first; i < argc; i++)
        cap += strlen(argv[i]) + 1; /* the word and a space or newline */
    *msg = malloc(cap + 1);
    if (!*msg)
        return -1;
    size_t len = 0;
    for (int i = first; i < argc; i++)
        len += (size_t)sprintf(*msg + len, "%s%s", argv[i],
                               i + 1 < argc ? " " : "\n");
    return (ssize_t)len;
}

//{ step 4
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

/* Send msg, then print the one reply; returns 0 or -1. */
static int exchange(int fd, const char *msg, size_t len) {
    if (send_all(fd, msg, len) < 0) {
        report("send");
        return -1;
    }
    char buf[BUF_SIZE];
    ssize_t n;
    do {
        n = recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        report("recv");
        return -1;
    }
    /* Simplification: one recv() is the whole reply (lesson 02 loops). */
    fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
    return 0;
}
//}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    int first = parse_args(argc, argv, &addr);
    if (first < 0)
        return 2;
    char *msg;
    ssize_t len = make_message(&msg, argc, argv, first);
    if (len < 0) {
        fprintf(stderr, "client: no message (give one, or a line on "
                        "stdin)\n");
        free(msg);
        return 2;
    }
    int status = 1;
    /* TODO(step 4): connect to addr, send all len bytes of msg, then
       receive the reply and print exactly the bytes that came.
       TODO(step 5): when connect() fails, say why and exit 1. */
    //{ step 4
    int fd = connect_to(&addr);
    if (fd >= 0) {
        status = exchange(fd, msg, (size_t)len) == 0 ? 0 : 1;
        close(fd);
    }
    //}
    //> errno = ENOSYS; /* prints "Function not implemented" */
    //> report("connect");
    free(msg);
    return status;
}
