/*
 * server.c - lesson 01: the smallest TCP echo server (reference solution).
 *
 * It listens on HOST:PORT, accepts one client, reads one message, sends it
 * back byte for byte, closes both sockets and exits 0. server.py beside it
 * is the same program in Python: compare the two to see the calls Python
 * makes for you.
 *
//>  * Fill in the TODOs in the order of lessons/01-echo-once/README.md; after
//>  * each step `make check LESSON=01` (or `check 01` in the lab) says how it went.
//>  *
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

//{ step 1
/* Create a TCP socket bound to addr and listening; returns it or -1. */
static int open_listener(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        report("socket");
        return -1;
    }
    /* Without SO_REUSEADDR a restart fails for a minute while the old
       connection sits in TIME_WAIT. It does not let two servers share a
       port: that still fails with EADDRINUSE. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        report("setsockopt");
    } else if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        report("bind");
    } else if (listen(fd, BACKLOG) < 0) {
        report("listen");
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* Print "listening on HOST:PORT" with the real port; returns 0 or -1. */
static int announce(int fd) {
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    port = ntohs(bound.sin_port); /* port 0 became a real one */
    printf("listening on %s:%u\n", host, port);
    /* stdout is a pipe or file under a test, so it is fully buffered:
       without this flush nobody would see the line until exit. */
    fflush(stdout);
    return 0;
}
//}

//{ step 2
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

/* Wait for one client and print where it comes from; returns its socket
   or -1. */
static int accept_client(int listener) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int conn;
    do {
        conn = accept(listener, (struct sockaddr *)&peer, &len);
    } while (conn < 0 && errno == EINTR);
    if (conn < 0) {
        report("accept");
        return -1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    printf("connection from %s:%u\n", ip, ntohs(peer.sin_port));
    return conn;
}

/* Read one message from the client and send it back; returns 0 or -1. */
static int echo_once(int conn) {
    char buf[BUF_SIZE];
    ssize_t n;
    do {
        n = recv(conn, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        report("recv");
        return -1;
    }
    /* Simplification: one recv() is one message. True for a short line on
       loopback, not in general; lesson 02 fixes that. */
    printf("received %zd bytes\n", n);
    if (send_all(conn, buf, (size_t)n) < 0) {
        report("send");
        return -1;
    }
    return 0;
}
//}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    if (parse_args(argc, argv, &addr) < 0)
        return 2;
    /* TODO(step 1): put port into addr in network byte order, open a TCP
       socket listening on addr and print "listening on HOST:PORT". */
    //{ step 1
    addr.sin_port = htons((uint16_t)port);
    int listener = open_listener(&addr);
    if (listener < 0)
        return 1;
    if (announce(listener) < 0) {
        close(listener);
        return 1;
    }
    //}
    //> errno = ENOSYS; /* prints "Function not implemented" */
    //> report("socket");
    //> return 1;
    /* TODO(step 2): accept one client, receive its message and send all of
       it back on the socket accept() returned. */
    //{ step 2
    int conn = accept_client(listener);
    if (conn < 0 || echo_once(conn) < 0) {
        if (conn >= 0)
            close(conn);
        close(listener);
        return 1;
    }
    //}
    //> pause(); /* until you write step 2: wait here, answer nobody */
    /* TODO(step 3): close both sockets and exit 0: the echo worked. */
    //{ step 3
    close(conn);
    close(listener);
    return 0;
    //}
    //> return 1;
}
