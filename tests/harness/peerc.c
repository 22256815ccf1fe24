/*
 * peerc.c - run a harness peer through peerd, the way peer.py would run it.
 *
 *   peerc NAME [ARGS...]        (LAB_PEERD=SOCKET, LAB_PYTHON, LAB_ROOT)
 *
 * It hands its arguments and its stdin, stdout and stderr to the peerd
 * listening on LAB_PEERD (tests/harness/peerd.py), which runs the peer in
 * a fork with those fds, and exits with the peer's status. Killing peerc
 * kills the peer. Without a peerd to reach it runs peer.py itself, so a
 * test never depends on peerd being there: peerd only saves the start.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Run tests/harness/peer.py with our arguments instead; returns only on
   failure. */
static int run_python(char **argv) {
    const char *python = getenv("LAB_PYTHON");
    const char *root = getenv("LAB_ROOT");
    char script[4096];
    snprintf(script, sizeof script, "%s/tests/harness/peer.py",
             root ? root : ".");
    int argc = 0;
    while (argv[argc])
        argc++;
    char **args = calloc((size_t)argc + 4, sizeof *args);
    if (!args)
        return 2;
    args[0] = (char *)(python && *python ? python : "python3");
    args[1] = "-S";
    args[2] = script;
    for (int i = 1; i <= argc; i++)
        args[i + 2] = argv[i];
    execvp(args[0], args);
    fprintf(stderr, "peerc: cannot run %s: %s\n", args[0], strerror(errno));
    free(args);
    return 2;
}

/* Connect to the peerd at path; returns the socket or -1. */
static int connect_peerd(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || !*path || strlen(path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* Send the words of argv[1..] NUL-terminated, with fds 0, 1, 2 attached;
   returns 0 or -1. */
static int send_request(int s, char **argv) {
    static char words[1 << 16];
    size_t len = 0;
    for (int i = 1; argv[i]; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (len + n > sizeof words)
            return -1;
        memcpy(words + len, argv[i], n);
        len += n;
    }
    int fds[3] = {0, 1, 2};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = words, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control,
                         .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    return sendmsg(s, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: peerc NAME [ARGS...]\n");
        return 2;
    }
    int s = connect_peerd(getenv("LAB_PEERD"));
    if (s < 0 || send_request(s, argv) < 0) {
        if (s >= 0)
            close(s);
        return run_python(argv);
    }
    int status;
    ssize_t n;
    do {
        n = recv(s, &status, sizeof status, 0);
    } while (n < 0 && errno == EINTR);
    close(s);
    if (n != (ssize_t)sizeof status) {
        fprintf(stderr, "peerc: the peer ended without a status\n");
        return 3;
    }
    return status;
}
