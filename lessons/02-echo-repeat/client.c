/*
 * client.c - lesson 02: an echo client that keeps talking (your work).
 *
 * It connects to HOST:PORT, sends each line of standard input and prints
 * the echo of each, until it has sent a line "bye" or the input ends. With
 * words on the command line it sends just those, as one line. An echo can
 * come back in pieces, so it reads until the whole line is back. client.py
 * beside it is the same program in Python.
 *
 * Fill in the TODOs in the order of lessons/02-echo-repeat/README.md.
 *
 * usage: client [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 7788
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
#define DEFAULT_PORT 7788
#define BUF_SIZE 1024

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* Bytes received but not printed yet: one recv() can bring part of an
   echo, or the end of one and the start of the next. */
struct inbox {
    char buf[BUF_SIZE];
    size_t start; /* first byte not printed */
    size_t len;   /* bytes from start on */
};

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

/* Join the words argv[first..] with spaces and end them with a newline;
   returns the new string (free it), or NULL when out of memory. */
static char *join_words(int argc, char **argv, int first) {
    size_t len = 1;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *msg = malloc(len);
    if (!msg)
        return NULL;
    msg[0] = '\0';
    for (int i = first; i < argc; i++) {
        if (i > first)
            strcat(msg, " ");
        strcat(msg, argv[i]);
    }
    strcat(msg, "\n");
    return msg;
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

/* Print what the server sends up to and including the next newline,
   receiving as often as it takes; returns 0, or -1 after an error. */
static int print_echo(int fd, struct inbox *in) {
    /* TODO(step 7): print the echo up to and including its newline, however
       many recv() calls it takes; keep what follows for the next echo. */
    ssize_t n;
    do {
        n = recv(fd, in->buf, sizeof in->buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        report("recv");
        return -1;
    }
    fwrite(in->buf, 1, (size_t)n, stdout);
    fflush(stdout);
    return 0;
}

/* Send one line (adding the newline if it lacks one) and print its echo;
   returns 0 or -1. */
static int exchange(int fd, struct inbox *in, const char *line, size_t len) {
    int ok = send_all(fd, line, len) == 0;
    if (ok && (len == 0 || line[len - 1] != '\n'))
        ok = send_all(fd, "\n", 1) == 0;
    if (!ok) {
        report("send");
        return -1;
    }
    return print_echo(fd, in);
}

/* Is this line of input "bye" (with or without its line ending)? */
static int is_bye(const char *line, size_t len) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    return len == 3 && memcmp(line, "bye", 3) == 0;
}

/* Show a prompt, but only to a person at a terminal: under a test or a
   pipe, stdout carries exactly the echoes. */
static void prompt(void) {
    if (isatty(STDIN_FILENO)) {
        printf(">> ");
        fflush(stdout);
    }
}

/* Send each line of stdin and print its echo, until a "bye" line or the
   end of the input; returns 0 or -1. */
static int talk(int fd, struct inbox *in) {
    char *line = NULL;
    size_t cap = 0;
    /* TODO(step 6): exchange() every line of stdin, not just the first, and
       stop after the line that is bye. */
    int status = 0;
    prompt();
    ssize_t len = getline(&line, &cap, stdin);
    if (len > 0 && exchange(fd, in, line, (size_t)len) < 0)
        status = -1;
    else if (len > 0 && !is_bye(line, (size_t)len))
        fprintf(stderr, "client: the first line only, until step 6\n");
    if (status == 0 && ferror(stdin)) {
        fprintf(stderr, "client: reading standard input: %s\n",
                strerror(errno));
        status = -1;
    }
    free(line);
    return status;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    int first = parse_args(argc, argv, &addr);
    if (first < 0)
        return 2;
    char *msg = NULL;
    if (first < argc && !(msg = join_words(argc, argv, first))) {
        fprintf(stderr, "client: out of memory\n");
        return 1;
    }
    int fd = connect_to(&addr);
    if (fd < 0) {
        free(msg);
        return 1;
    }
    struct inbox in = {.len = 0};
    int status;
    if (msg)
        status = exchange(fd, &in, msg, strlen(msg));
    else
        status = talk(fd, &in);
    close(fd);
    free(msg);
    return status == 0 ? 0 : 1;
}
