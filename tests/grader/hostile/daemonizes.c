/*
 * daemonizes.c - hostile server: does lesson 01's job right, but first
 * leaves a daemon behind: a child that calls setsid() (out of the process
 * group the grader knows), keeps the listening socket open forever and
 * drops files in /tmp and /dev/shm.
 *
 * What it does to the grader: every step may pass, yet after each one the
 * daemon, its port and its files must be gone. Only the sandbox uid finds
 * the daemon (its group is its own); only a sweep finds the files.
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

/* Echo one message on conn; returns 0 or -1. */
static int echo_once(int conn) {
    char buf[1024];
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n > 0) {
        printf("received %zd bytes\n", n); /* as lesson 01 says it */
        fflush(stdout);
    }
    return n > 0 && send(conn, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

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
    int ready[2];
    if (pipe(ready) < 0)
        return 1;
    if (fork() == 0) {
        setsid();
        char path[64];
        snprintf(path, sizeof path, "/tmp/socklab-stray-%d", (int)getpid());
        close(open(path, O_WRONLY | O_CREAT, 0644));
        snprintf(path, sizeof path, "/dev/shm/socklab-stray-%d", (int)getpid());
        close(open(path, O_WRONLY | O_CREAT, 0644));
        if (write(ready[1], "!", 1) != 1) /* the files are there */
            return 1;
        for (;;)
            pause(); /* holding the listener: the port stays taken */
    }
    char c;
    if (read(ready[0], &c, 1) != 1) /* so every step leaves them behind */
        return 1;
    int conn = accept(listener, NULL, NULL);
    int status = conn >= 0 && echo_once(conn) == 0 ? 0 : 1;
    close(conn);
    close(listener);
    return status;
}
