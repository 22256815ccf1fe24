/*
 * never_listens.c - hostile server: binds a socket but never calls listen()
 * and never prints "listening on". It just sleeps, forever.
 *
 * What it does to the grader: every step that starts the server must give
 * up after LAB_LISTEN_TIMEOUT and say "did not start listening"; a step that
 * runs it in the foreground must kill it at its time bound.
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)bind(fd, (struct sockaddr *)&addr,
               sizeof addr); /* port 0, no listen */
    for (;;)
        pause();
}
