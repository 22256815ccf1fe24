/*
 * client.c - lesson 15: a chat client for the chat server (reference
 * solution).
 *
 * It waits in poll() on two things at once: standard input (what you
 * type) and the socket (what the room says). So the others' messages are
 * printed as they arrive, while you are still typing, never held back
 * until you press Enter. At the end of your input it half-closes
 * (shutdown SHUT_WR), prints what still arrives, and exits 0 when the
 * server closes. Lessons 06 and 07 gave the rest: names through
 * getaddrinfo(), non-blocking sends, an input buffer.
 *
 //> * Fill in the TODO of step 11 (lessons/15-chat/README.md); after it,
 //> * `make check LESSON=15` (or `check 15` in the lab) says how it went.
 //> *
 * usage: client [HOST [PORT]]    default 127.0.0.1 7777
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "7777"
#define BUF_SIZE 4096
#define USAGE "usage: client [HOST [PORT]]\n"

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

/* Make fd non-blocking; returns 0 or -1. */
static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        report("fcntl");
        return -1;
    }
    return 0;
}

/* Connect to host:port, trying each address in turn (lesson 07);
   returns the socket, or -1 after reporting why none answered. */
static int connect_to(void) {
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int err = getaddrinfo(host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        report("connect");
    freeaddrinfo(res);
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

/* Pass typed lines to the server and its lines to standard output,
   whichever comes first, until the server closes; returns 0, or -1 on
   an error. */
static int talk(int fd) {
    int input_open = 1, half_closed = 0;
    for (;;) {
        if (!input_open && pending_len == 0 && !half_closed) {
            /* All typed bytes are sent: tell the server we are done, but
               keep reading, as the room may still be talking. */
            if (shutdown(fd, SHUT_WR) < 0) {
                report("shutdown");
                return -1;
            }
            half_closed = 1;
        }
        /* TODO(step 11): poll() the socket (for reading; for writing too
           while pending[] holds bytes) and stdin (while input is open and
           pending[] has room), then handle whichever is ready. */
        //{ step 11
        struct pollfd fds[2] = {
            {.fd = fd, .events = POLLIN | (pending_len > 0 ? POLLOUT : 0)},
            /* A negative fd is left out of the wait: so stdin is watched
               only while it is open and pending[] has room. */
            {.fd = input_open && pending_len < sizeof pending ? STDIN_FILENO
                                                               : -1,
             .events = POLLIN},
        };
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            report("poll");
            return -1;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = print_reply(fd);
            if (r != 0)
                return r < 0 ? -1 : 0; /* 1: the server closed, we are done */
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = read_input();
            if (r < 0)
                return -1;
            input_open = r == 0;
        }
        if ((fds[0].revents & POLLOUT) && send_pending(fd) < 0)
            return -1;
        //}
        //> /* Until then: read a line, send it, print one reply (the room
        //>    waits for you to type). */
        //> int r = read_input();
        //> if (r < 0)
        //>     return -1;
        //> input_open = r == 0;
        //> if (send_pending(fd) < 0)
        //>     return -1;
        //> r = print_reply(fd);
        //> if (r != 0)
        //>     return r < 0 ? -1 : 0;
    }
}

int main(int argc, char **argv) {
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
