/*
 * heap_overflow.c - hostile server: lesson 01's echo with a heap buffer
 * overflow: it copies the message into a buffer one byte too small and
 * writes the terminating NUL past its end.
 *
 * What it does to the grader: built plainly it may well pass; built with
 * SANITIZE=1 (ASan+UBSan) the overflow must fail the steps that send it a
 * message, with "memory error" and AddressSanitizer's first lines.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Listen on HOST PORT from argv (default 127.0.0.1 0) and print
   "listening on HOST:PORT" like a lesson server; exits 1 on an error. */
static int listen_on_args(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    if (fd < 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(fd, 8) < 0) {
        fprintf(stderr, "server: bind %s:%u: %s\n", host, port,
                strerror(errno));
        exit(1);
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    printf("listening on %s:%u\n", host, ntohs(addr.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv) {
    int listener = listen_on_args(argc, argv);
    int conn = accept(listener, NULL, NULL);
    char buf[1024];
    ssize_t n = conn < 0 ? -1 : recv(conn, buf, sizeof buf, 0);
    if (n <= 0)
        return 1;
    char *copy = malloc((size_t)n); /* the bug: no room for the NUL */
    memcpy(copy, buf, (size_t)n);
    copy[n] = '\0';
    printf("received %s", copy);
    send(conn, copy, (size_t)n, MSG_NOSIGNAL);
    free(copy);
    close(conn);
    close(listener);
    return 0;
}
