/*
 * client.c - lesson 05: an echo client that does not wait for ever
 * (reference solution).
 *
 * It connects to HOST:PORT, sends each line of standard input and prints
 * the echo of each, until it has sent a line "bye" or the input ends; with
 * words on the command line it sends just those, as one line (lesson 02).
 * With --timeout SECONDS it gives up, saying "timed out" and exiting 1,
 * when the connection is not made in that time or when the server sends
 * nothing for that long while an echo is due: what Python's settimeout()
 * does underneath, a non-blocking connect() and poll().
//>  *
//>  * Fill in the TODOs in the order of lessons/05-timeouts/README.md; after
//>  * each step `make check LESSON=05` (or `check 05` in the lab) says how it went.
 *
 * usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]
 *        default 127.0.0.1 8080, no timeout
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define BUF_SIZE 1024
#define USAGE "usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
static int timeout_ms = -1; /* --timeout; -1 means wait as long as it takes */

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

/* Print "client: WHAT HOST:PORT: timed out". */
static void report_timeout(const char *what) {
    fprintf(stderr, "client: %s %s:%u: timed out\n", what, host, port);
}

/* Read "--timeout SECONDS" at argv[*i] if it is there into timeout_ms;
   returns 0, or -1 after printing why the value is bad. */
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
    timeout_ms = (int)(s * 1000 + 0.999); /* round up: 0.0001 s is 1 ms */
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

/* Wait until fd is ready for events (POLLIN: bytes or end of file to
   read; POLLOUT: a connect has finished), at most timeout_ms; returns 1
   when ready, 0 when the time ran out, -1 on error. */
static int wait_ready(int fd, short events) {
    /* TODO(step 1): wait at most timeout_ms for events on fd with poll(). */
    //{ step 1
    struct pollfd p = {.fd = fd, .events = events};
    int n;
    do {
        /* Simplification: an interrupted poll() starts its wait again. */
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n;
    //}
    //> /* Until then, a stand-in: any real fd is "ready" at once, so recv()
    //>    and connect() wait as long as they like. */
    //> return fd >= 0 && events != 0;
}

//{ step 2
/* Put fd in non-blocking mode (on = 1) or back in blocking mode (on = 0);
   returns 0 or -1. */
static int set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags);
}

/* Finish a connect() on non-blocking fd within timeout_ms; returns 0, or
   -1 after reporting why it failed. */
static int finish_connect(int fd, const struct sockaddr_in *addr) {
    /* A non-blocking connect() returns at once: EINPROGRESS means the
       handshake goes on without us, and the socket turns writable when it
       is over, connected or failed. */
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0)
        return 0;
    if (errno != EINPROGRESS) {
        report("connect");
        return -1;
    }
    int ready = wait_ready(fd, POLLOUT);
    if (ready == 0) {
        report_timeout("connect");
        return -1;
    }
    if (ready < 0) {
        report("poll");
        return -1;
    }
    /* Writable says "over", not "connected": SO_ERROR says how it ended. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        report("getsockopt");
        return -1;
    }
    if (err != 0) {
        errno = err;
        report("connect");
        return -1;
    }
    return 0;
}
//}

/* Connect to addr, giving up after timeout_ms; returns the socket (in
   blocking mode) or -1. */
static int connect_to(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        report("socket");
        return -1;
    }
    /* TODO(step 2): connect without waiting longer than timeout_ms: a
       non-blocking connect(), then wait_ready() for its end. */
    //{ step 2
    if (set_nonblocking(fd, 1) < 0) {
        report("fcntl");
    } else if (finish_connect(fd, addr) == 0) {
        if (set_nonblocking(fd, 0) == 0)
            return fd;
        report("fcntl");
    }
    close(fd);
    return -1;
    //}
    //> if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
    //>     report("connect");
    //>     close(fd);
    //>     return -1;
    //> }
    //> return fd;
}

/* Print what the server sends up to and including the next newline,
   waiting at most timeout_ms for each piece; returns 0, or -1 after an
   error or a timeout. */
static int print_echo(int fd, struct inbox *in) {
    for (;;) {
        if (in->len == 0) {
            int ready = wait_ready(fd, POLLIN);
            if (ready == 0) {
                fflush(stdout); /* what came before the silence */
                report_timeout("recv");
                return -1;
            }
            if (ready < 0) {
                report("poll");
                return -1;
            }
            ssize_t n = recv(fd, in->buf, sizeof in->buf, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                report("recv");
                return -1;
            }
            if (n == 0) {
                fflush(stdout);
                fprintf(stderr, "client: the server at %s:%u closed the "
                                "connection before the echo ended\n",
                        host, port);
                return -1;
            }
            in->start = 0;
            in->len = (size_t)n;
        }
        /* Print up to the newline if it is here, else all we have: an
           echo may be longer than the buffer. */
        char *from = in->buf + in->start;
        char *newline = memchr(from, '\n', in->len);
        size_t take = newline ? (size_t)(newline - from) + 1 : in->len;
        fwrite(from, 1, take, stdout);
        in->start += take;
        in->len -= take;
        if (newline) {
            fflush(stdout);
            return 0;
        }
    }
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
   end of the input; returns 0 or -1. The timeout does not cover the
   time a person takes to type: only the server's answers. */
static int talk(int fd, struct inbox *in) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;
    prompt();
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (exchange(fd, in, line, (size_t)len) < 0) {
            status = -1;
            break;
        }
        if (is_bye(line, (size_t)len))
            break;
        prompt();
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
