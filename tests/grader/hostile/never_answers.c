/*
 * never_answers.c - hostile server: accepts every connection and then
 * holds it, never reading, never answering, never closing.
 *
 * What it does to the grader: the client side of every step waits on a
 * silent connection; each wait must end at its bound, not hang the run.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
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
    for (;;)
        (void)accept(listener, NULL,
                     NULL); /* and keep it open: a leak on purpose */
}
