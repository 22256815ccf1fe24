/*
 * client.c - lesson 08: a client of the framed echo server (reference
 * solution).
 *
 * It connects to HOST:PORT and sends each MESSAGE of the command line as
 * one frame (a 4-byte length in network byte order, then the bytes), or,
 * without messages, each line of standard input (without its newline).
 * After each frame it reads the answering frame, however it is cut up on
 * the way, and prints its payload and a newline. A length over MAX_FRAME
 * or a connection closed in the middle of a frame is an error (exit 1).
 *
 * Fill in the TODOs in the order of lessons/08-framing/README.md (steps 6
 * to 8 are this file's).
 *
 * usage: client [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 8080
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080"
#define MAX_FRAME (1024 * 1024 + 1024) /* largest payload: 1 MiB + 1 KiB */

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT;

/* Print "client: WHAT HOST:PORT: reason" for the current errno, PORT as
   it was typed. */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
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

/* Read HOST and PORT from the command line; returns the index of the
   first message, or -1 after printing usage. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
        fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc && is_number(argv[i])) {
        long n = strtol(argv[i], NULL, 10);
        if (n < 1 || n > 65535) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", argv[i]);
            fprintf(stderr, "usage: client [HOST [PORT]] [MESSAGE...]\n");
            return -1;
        }
        port = argv[i++];
    }
    return i;
}

/* Look HOST up (lesson 07) and connect to the first of its addresses
   that answers; returns the socket, or -1 after printing why. */
static int connect_to_server(void) {
    struct addrinfo hints, *list;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            err = errno;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        errno = err;
        report("connect");
    }
    return fd;
}

/* Receive exactly len bytes into buf, calling recv() as often as it
   takes; returns len, fewer if the server closed the connection first,
   or -1 on an error (the server's recv_all, in the client). */
static ssize_t recv_all(int fd, void *buf, size_t len) {
    /* TODO(step 6): the loop of the server's recv_all: recv() until len
       bytes are in, stopping early at end-of-file. */
    return recv(fd, buf, len, 0); /* the pitfall: one recv() */
}

/* Send all len bytes of buf, calling send() as often as it takes;
   returns 0 or -1 (the server's send_all, in the client). */
static int send_all(int fd, const void *buf, size_t len) {
    /* TODO(step 6): the loop of the server's send_all. */
    return send(fd, buf, len, MSG_NOSIGNAL) < 0 ? -1 : 0; /* one send() */
}

/* Send one frame: the 4-byte length of payload in network byte order,
   then the len bytes of payload; returns 0 or -1 (as in the server). */
static int send_frame(int fd, const char *payload, uint32_t len) {
    /* TODO(step 6): as in the server: the length in network byte order,
       then the payload. */
    return send_all(fd, payload, len); /* no header yet */
}

/* Receive the len bytes of one part of the server's answer (its header
   or its payload); returns 0, or -1 after printing why. */
static int recv_part(int fd, void *buf, size_t len, int is_header) {
    ssize_t n = recv_all(fd, buf, len);
    if (n == (ssize_t)len)
        return 0;
    if (n < 0) {
        report("recv");
    } else if (n == 0 && is_header) {
        fprintf(stderr, "client: the server at %s:%s closed the "
                        "connection without answering\n", host, port);
    } else {
        fprintf(stderr, "client: the server at %s:%s closed the "
                        "connection in the middle of a frame (%zd of %zu "
                        "bytes of its %s)\n", host, port, n, len,
                is_header ? "length" : "payload");
    }
    return -1;
}

/* Read the server's answer, one frame, into a new buffer *payload (free
   it) of *len bytes; returns 0, or -1 after printing why. */
static int read_reply(int fd, char **payload, uint32_t *len) {
    *payload = NULL;
    *len = 0;
    uint32_t header; /* the length, as it came: in network byte order */
    if (recv_part(fd, &header, sizeof header, 1) < 0)
        return -1;
    /* TODO(step 6): convert the length (ntohl()), allocate that many
       bytes and receive the payload (recv_part()). */
    /* TODO(step 7): before allocating anything, refuse a length over
       MAX_FRAME: one line on stderr that gives both numbers, return -1. */
    errno = ENOSYS;
    report("read_reply");
    return -1;
}

/* Send message (len bytes) as one frame and print the payload of the
   answer and a newline; returns 0 or -1. */
static int exchange(int fd, const char *message, size_t len) {
    if (len > MAX_FRAME) {
        fprintf(stderr, "client: a message of %zu bytes is over the limit "
                        "of %d\n", len, MAX_FRAME);
        return -1;
    }
    if (send_frame(fd, message, (uint32_t)len) < 0) {
        report("send");
        return -1;
    }
    char *payload;
    uint32_t got;
    if (read_reply(fd, &payload, &got) < 0)
        return -1;
    fwrite(payload, 1, got, stdout);
    putchar('\n');
    fflush(stdout);
    free(payload);
    return 0;
}

/* Send each line of stdin (without its newline) as a frame and print the
   answers, until the input ends; returns 0 or -1. */
static int talk(int fd) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;
    /* getline() grows the buffer to fit: a line has no length limit. */
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            len--;
        if (exchange(fd, line, (size_t)len) < 0) {
            status = -1;
            break;
        }
    }
    if (status == 0 && ferror(stdin)) {
        fprintf(stderr, "client: reading standard input: %s\n",
                strerror(errno));
        status = -1;
    }
    free(line);
    return status;
}

int main(int argc, char **argv) {
    int first = parse_args(argc, argv);
    if (first < 0)
        return 2;
    int fd = connect_to_server();
    if (fd < 0)
        return 1;
    int status = 0;
    if (first < argc) {
        for (int i = first; i < argc && status == 0; i++)
            status = exchange(fd, argv[i], strlen(argv[i]));
    } else {
        status = talk(fd);
    }
    close(fd);
    return status == 0 ? 0 : 1;
}
