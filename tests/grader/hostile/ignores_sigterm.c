/*
 * ignores_sigterm.c - hostile server: ignores SIGTERM, SIGINT and SIGHUP,
 * echoes every client but never exits, and when it cannot bind it sleeps
 * instead of exiting.
 *
 * What it does to the grader: the polite stop (SIGTERM from timeout) does
 * nothing, so the foreground run must be killed with SIGKILL a second
 * later, and teardown must use SIGKILL too. Steps 1 and 2 of lesson 01
 * still pass: only the steps that need it to exit fail.
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

int main(int argc, char **argv) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)(argc > 2 ? atoi(argv[2]) : 0));
    inet_pton(AF_INET, host, &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, 8) < 0)
        for (;;)
            pause(); /* instead of reporting the error and exiting 1 */
    getsockname(fd, (struct sockaddr *)&addr, &len);
    printf("listening on %s:%u\n", host, ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        char buf[1024];
        int conn = accept(fd, NULL, NULL);
        ssize_t n = conn < 0 ? -1 : recv(conn, buf, sizeof buf, 0);
        if (n > 0)
            (void)send(conn, buf, (size_t)n, MSG_NOSIGNAL);
        if (conn >= 0)
            close(conn);
    }
}
