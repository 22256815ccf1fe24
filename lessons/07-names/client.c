/*
 * client.c - lesson 07: names. A client that asks the resolver, and an
 * interactive client that connects to a host *name* (your work).
 *
 * With an option it answers one question about names and exits:
 *   --whoami           this machine's host name (gethostname) and its fully
 *                      qualified name (getaddrinfo with AI_CANONNAME), as
 *                      `hostname` and `hostname -f` print them;
 *   --lookup NAME      every address NAME has, with its family and socket
 *                      type, in the order `getent ahosts NAME` gives them;
 *   --service NAME[/PROTO]  the port of a service, as `getent services`;
 *   --reverse ADDRESS  the name of a numeric address (getnameinfo).
 * Without one it is lesson 06's client: it connects to HOST:PORT, where
 * HOST may be a name (localhost, this machine's name) and PORT a number or
 * a service name, trying each address the name has until one answers;
 * then typed lines go to the server and what it sends is printed.
 * A name the resolver does not know gets its own message
 * (gai_strerror) and exit status 1.
 *
 * Fill in the TODOs in the order of lessons/07-names/README.md (steps 1
 * to 6 and 8 are this file's); after each step `make check LESSON=07`
 * (or `check 07` in the lab) says how it went.
 *
 * usage: client --whoami | --lookup NAME | --service NAME[/PROTO]
 *               | --reverse ADDRESS
 *        client [HOST [PORT]]    default 127.0.0.1 8080
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8080"
#define BUF_SIZE 4096
#define NAME_SIZE 1025   /* the longest host name getnameinfo writes (NI_MAXHOST) */
#define SERVICE_SIZE 32  /* the longest service text (NI_MAXSERV) */
#define USAGE                                                               \
    "usage: client --whoami | --lookup NAME | --service NAME[/PROTO] | "  \
    "--reverse ADDRESS\n"                                                   \
    "       client [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT; /* a number or a service name */

/* What was read from standard input and not sent yet. */
static char pending[BUF_SIZE];
static size_t pending_len;

/* Print "client: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Print "client: CALL WHAT: reason" for the error code err that
   getaddrinfo() or getnameinfo() returned. */
static void report_gai(const char *call, const char *what, int err) {
    /* TODO(step 4): say what the resolver says: gai_strerror(err), or
       strerror(errno) when err is EAI_SYSTEM. */
    fprintf(stderr, "client: %s %s: %s\n", call, what,
            err == EAI_SYSTEM ? strerror(errno) : "unknown error");
}

/* Print this machine's host name as "hostname: NAME"; returns 0, or -1
   after reporting why not. Fills name (size bytes) with it. */
static int print_hostname(char *name, size_t size) {
    /* TODO(step 1): ask the kernel for this machine's name. */
    errno = ENOSYS;
    fprintf(stderr, "client: gethostname: %s\n", strerror(errno));
    snprintf(name, size, "?");
    return -1;
    printf("hostname: %s\n", name);
    return 0;
}

/* Print the fully qualified name of host name `name` as "fqdn: NAME";
   returns 0, or -1 after reporting why not. */
static int print_fqdn(const char *name) {
    /* TODO(step 2): getaddrinfo() with AI_CANONNAME; the first result's
       ai_canonname is the full name. */
    errno = ENOSYS;
    report_gai("getaddrinfo", name, EAI_SYSTEM);
    return -1;
}

/* Name a socket type the way `getent ahosts` does, in small letters. */
static const char *socktype_name(int type) {
    switch (type) {
    case SOCK_STREAM:
        return "stream";
    case SOCK_DGRAM:
        return "dgram";
    case SOCK_RAW:
        return "raw";
    default:
        return "other";
    }
}

/* Name an address family. */
static const char *family_name(int family) {
    return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "other";
}

/* Print one result of getaddrinfo() as "FAMILY  TYPE  ADDRESS"; returns
   0, or -1 after reporting why not. */
static int print_address(const struct addrinfo *ai) {
    /* TODO(step 3): turn ai_addr into text with getnameinfo() and
       NI_NUMERICHOST, and print it after family_name() and
       socktype_name(). */
    printf("%-4s  %-6s  %s\n", family_name(ai->ai_family),
           socktype_name(ai->ai_socktype), "?");
    return 0;
}

/* Print every address `name` has, the canonical name first, as `getent
   ahosts` finds them; returns 0, or -1 after reporting why not. */
static int lookup(const char *name) {
    host = name;
    struct addrinfo *res = NULL;
    /* TODO(step 3): getaddrinfo() into res with the hints `getent ahosts`
       uses (any family, any socket type, AI_CANONNAME | AI_ADDRCONFIG),
       then print "canonical name: ..." from the first result. */
    errno = ENOSYS; /* until then: these three lines */
    report_gai("getaddrinfo", name, EAI_SYSTEM);
    return -1;
    int status = 0;
    for (struct addrinfo *ai = res; ai && status == 0; ai = ai->ai_next)
        status = print_address(ai);
    /* TODO(step 3): free the list getaddrinfo() made, all of it at once. */
    return status;
}

/* Print the port of service "NAME" or "NAME/PROTO" the way `getent
   services` does; returns 0, or -1 after reporting why not. */
static int print_service(char *arg) {
    char *proto = strchr(arg, '/');
    if (proto)
        *proto++ = '\0'; /* "http/tcp": name "http", protocol "tcp" */
    /* TODO(step 5): getservbyname(); s_port is in network byte order. */
    fprintf(stderr, "client: getservbyname %s%s%s: %s\n", arg,
            proto ? "/" : "", proto ? proto : "", strerror(ENOSYS));
    return -1;
}

/* Print the host name of numeric address `text`; returns 0, or -1 after
   reporting why not (an address with no name is an error). */
static int reverse(const char *text) {
    host = text;
    /* TODO(step 6): getaddrinfo() with AI_NUMERICHOST turns the text into
       a sockaddr; getnameinfo() with NI_NAMEREQD finds its name. */
    errno = ENOSYS;
    report_gai("getnameinfo", text, EAI_SYSTEM);
    return -1;
}

/* Answer the question of option argv[1] (with its argument argv[2]);
   returns the exit status: 0, 1 on an error, 2 on bad usage. */
static int answer(int argc, char **argv) {
    const char *opt = argv[1];
    if (strcmp(opt, "--whoami") == 0 && argc == 2) {
        char name[256];
        if (print_hostname(name, sizeof name) < 0 || print_fqdn(name) < 0)
            return 1;
        return 0;
    }
    if (argc != 3) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (strcmp(opt, "--lookup") == 0)
        return lookup(argv[2]) == 0 ? 0 : 1;
    if (strcmp(opt, "--service") == 0)
        return print_service(argv[2]) == 0 ? 0 : 1;
    if (strcmp(opt, "--reverse") == 0)
        return reverse(argv[2]) == 0 ? 0 : 1;
    fputs(USAGE, stderr);
    return 2;
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

/* Connect to host:port, trying each address the name has in turn;
   returns the socket, or -1 after reporting why none answered. */
static int connect_to(void) {
    /* TODO(step 8): getaddrinfo() for a stream socket, then socket() and
       connect() on each result until one works; freeaddrinfo() after. */
    errno = ENOSYS;
    report("getaddrinfo");
    return -1;
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
        int r = on_ready(fd, &readable, &writable, &input_open);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strncmp(argv[1], "--", 2) == 0)
        return answer(argc, argv);
    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (argc > 1)
        host = argv[1];
    if (argc > 2)
        port = argv[2]; /* getaddrinfo() checks it: a number or a name */
    int fd = connect_to();
    if (fd < 0)
        return 1;
    int status = 1;
    if (set_nonblocking(fd) == 0)
        status = talk(fd) == 0 ? 0 : 1;
    close(fd);
    return status;
}
