/*
 * client.c - lesson 04: a UDP echo client (reference solution).
 *
 * It sends one datagram to HOST:PORT, waits for the reply at most
 * --timeout seconds, prints it and exits 0; with no reply in time it says
 * "timed out" and exits 1. The datagram is the words on the command line
 * joined by spaces, or one line of standard input, without a newline: a
 * datagram is a message by itself. The reply is printed with a newline
 * after it. client.py beside it is the same program in Python.
//>  *
//>  * Fill in the TODOs in the order of lessons/04-udp-echo/README.md.
 *
 * usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]
 *        default 127.0.0.1 9999, timeout 3 s
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
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 9999
#define DEFAULT_TIMEOUT 3.0 /* seconds */
#define MAX_MESSAGE 65507   /* the most one IPv4 UDP datagram carries */
#define BUF_SIZE 65535
#define USAGE "usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
static double timeout = DEFAULT_TIMEOUT; /* seconds to wait for the reply */

/* Print "client: WHAT HOST:PORT: reason" for the current errno. */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%u: %s\n", what, host, port,
            strerror(errno));
}

/* Read "--timeout SECONDS" at argv[*i] if it is there; returns 0, or -1
   after printing why the value is bad. */
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
    timeout = s;
    *i += 2;
    return 0;
}

/* Fill addr from the options, HOST and PORT; returns the index of the
   first message word, or -1 after printing usage. */
static int parse_args(int argc, char **argv, struct sockaddr_in *addr) {
    int i = 1;
    if (parse_timeout(argc, argv, &i) < 0)
        goto usage;
    if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0)
        goto usage;
    if (i < argc)
        host = argv[i++];
    if (i < argc && isdigit((unsigned char)argv[i][0])) {
        /* A word that starts with a digit is the PORT: all of it. */
        char *end;
        errno = 0;
        long n = strtol(argv[i], &end, 10);
        if (errno || *end || n < 1 || n > 65535) {
            fprintf(stderr, "client: bad port '%s' (1-65535)\n", argv[i]);
            goto usage;
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
        goto usage;
    }
    return i;
usage:
    fputs(USAGE, stderr);
    return -1;
}

/* Build the datagram: the words joined by spaces, or one line of stdin
   without its newline; returns its length, or -1 if there is none. */
static ssize_t make_message(char *buf, size_t size, int argc, char **argv,
                            int first) {
    size_t len = 0;
    if (first >= argc) {
        if (!fgets(buf, (int)size, stdin))
            return -1;
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n')
            buf[--len] = '\0';
        return (ssize_t)len;
    }
    for (int i = first; i < argc; i++) {
        int n = snprintf(buf + len, size - len, "%s%s", i > first ? " " : "",
                         argv[i]);
        if (n < 0 || (size_t)n >= size - len)
            return -1;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

/* Make recvfrom() on fd give up after timeout seconds; returns 0 or -1. */
static int set_timeout(int fd) {
    /* TODO(step 9): make recvfrom() on fd give up after timeout seconds. */
    //{ step 9
    struct timeval tv;
    tv.tv_sec = (time_t)timeout;
    tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1; /* all zeros would mean "wait for ever" */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        report("setsockopt");
        return -1;
    }
    return 0;
    //}
    //> /* Until then, a stand-in: say so, and recvfrom() waits for ever. */
    //> fprintf(stderr, "client: socket %d has no timeout yet (step 9)\n", fd);
    //> return 0;
}

/* Did the datagram come from the server's address and port? */
static int from_server(const struct sockaddr_in *from,
                       const struct sockaddr_in *server) {
    /* TODO(step 10): compare the addresses (sin_addr.s_addr) and the
       ports (sin_port); both are in network byte order on both sides. */
    //{ step 10
    return from->sin_addr.s_addr == server->sin_addr.s_addr &&
           from->sin_port == server->sin_port;
    //}
    //> /* Until then, a stand-in that compares the addresses only: any
    //>    program on the server's machine passes for the server. */
    //> return from->sin_addr.s_addr == server->sin_addr.s_addr;
}

/* Receive one datagram into buf (size bytes) and its sender's address
   into from; returns its length, or -1 on an error or a timeout. */
static ssize_t recv_datagram(int fd, char *buf, size_t size,
                             struct sockaddr_in *from) {
    /* TODO(step 8): recvfrom() one datagram into buf and its sender into
       from (again on EINTR; report("recvfrom") on an error).
       TODO(step 9): say "timed out" when the timeout passed. */
    //{ step 8
    for (;;) {
        socklen_t len = sizeof *from;
        ssize_t n = recvfrom(fd, buf, size, 0, (struct sockaddr *)from, &len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fprintf(stderr, "client: recvfrom %s:%u: timed out\n", host, port);
            return -1;
        }
        if (n < 0)
            report("recvfrom");
        return n;
    }
    //}
    //> /* Until then, a stand-in that shows why: recv() takes a datagram but
    //>    not its sender, which stays unknown (all zeros). */
    //> memset(from, 0, sizeof *from);
    //> ssize_t n = recv(fd, buf, size, 0);
    //> if (n < 0)
    //>     report("recv");
    //> return n;
}

/* Wait for the server's reply, skipping datagrams from anyone else;
   returns its length, or -1 on error or timeout. */
static ssize_t recv_reply(int fd, const struct sockaddr_in *server, char *buf,
                          size_t size) {
    for (;;) {
        struct sockaddr_in from;
        ssize_t n = recv_datagram(fd, buf, size, &from);
        if (n < 0 || from_server(&from, server))
            return n;
        /* Anyone can send to our port. Simplification: each stranger's
           datagram restarts the wait (lesson 05 keeps one deadline). */
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
        fprintf(stderr,
                "client: ignored %zd bytes from %s:%u (not the server)\n", n,
                ip, ntohs(from.sin_port));
    }
}

/* Send the datagram to the server and print its reply; returns 0 or -1. */
static int exchange(const struct sockaddr_in *server, const char *msg,
                    size_t len) {
    /* TODO(step 8): a UDP socket, and msg sent to server in one datagram
       (sendto() names the address each time: no connect()). */
    //{ step 8
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    //}
    //> errno = ENOSYS; /* until then, no socket */
    //> int fd = -1;
    if (fd < 0) {
        report("socket");
        return -1;
    }
    static char buf[BUF_SIZE];
    int status = -1;
    ssize_t n = -1;
    if (set_timeout(fd) < 0) {
        close(fd);
        return -1;
    }
    //{ step 8
    ssize_t sent = sendto(fd, msg, len, 0, (const struct sockaddr *)server,
                          sizeof *server);
    //}
    //> /* Until then, a stand-in that shows why: send() has no address to
    //>    send to on a UDP socket that nobody connect()ed. */
    //> ssize_t sent = send(fd, msg, len, 0);
    if (sent < 0) {
        report("sendto");
    } else if ((n = recv_reply(fd, server, buf, sizeof buf)) >= 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        putchar('\n');
        status = fflush(stdout) == 0 ? 0 : -1;
    }
    close(fd);
    return status;
}

int main(int argc, char **argv) {
    struct sockaddr_in server;
    int first = parse_args(argc, argv, &server);
    if (first < 0)
        return 2;
    static char msg[MAX_MESSAGE + 2]; /* + the newline and '\0' of fgets */
    ssize_t len = make_message(msg, sizeof msg, argc, argv, first);
    if (len < 0 || len > MAX_MESSAGE) {
        fprintf(stderr, "client: no message (give one, or a line on stdin; "
                        "at most %d bytes)\n", MAX_MESSAGE);
        return 2;
    }
    return exchange(&server, msg, (size_t)len) == 0 ? 0 : 1;
}
