/*
 * server.c - lesson 01: the smallest TCP echo server (your work).
 *
 * It listens on HOST:PORT, accepts one client, reads one message, sends it
 * back byte for byte, closes both sockets and exits 0. server.py beside it
 * is the same program in Python: compare the two to see the calls Python
 * makes for you.
 *
 * Fill in the TODOs in the order of lessons/01-echo-once/README.md; after
 * each step `make check LESSON=01` (or `check 01` in the lab) says how it went.
 *
 * usage: server [HOST [PORT]]    default 127.0.0.1 4000; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
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
#define BACKLOG 1     /* finished handshakes the kernel queues for accept() */

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;

/* Print "server: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "server: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
}

/* Read HOST and PORT into host and port, and fill addr's family and IP
   address (the port is yours to fill); returns 0, or -1 after usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: server [HOST [PORT]]\n");
        return -1;
    }
    if (argc > 1)
        host = argv[1];
    if (argc > 2) {
        char *end;
        errno = 0;
        long n = strtol(argv[2], &end, 10);
        if (errno || *end || end == argv[2] || n < 0 || n > 65535) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", argv[2]);
            fprintf(stderr, "usage: server [HOST [PORT]]\n");
            return -1;
        }
        port = (unsigned)n;
    }
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    /* Simplification: numeric IPv4 only, plus "localhost" as 127.0.0.1.
       Name lookup with getaddrinfo() comes in a later lesson. */
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) {
        fprintf(stderr, "server: bad address '%s' (use an IPv4 address "
                        "such as 127.0.0.1)\n", host);
        fprintf(stderr, "usage: server [HOST [PORT]]\n");
        return -1;
    }
    return 0;
}



int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    /* TODO(step 1): put port into addr in network byte order, open a TCP
       socket listening on addr and print "listening on HOST:PORT". */
    errno = ENOSYS; /* prints "Function not implemented" */
    report("socket");
    return 1;
    /* TODO(step 2): accept one client, receive its message and send all of
       it back on the socket accept() returned. */
    pause(); /* until you write step 2: wait here, answer nobody */
    /* TODO(step 3): close both sockets and exit 0: the echo worked. */
    return 1;
}
