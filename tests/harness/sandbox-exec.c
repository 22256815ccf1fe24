/*
 * sandbox-exec.c - run a student program in its sandbox, in one exec.
 *
 *   sandbox-exec [OPTION...] [--] PROGRAM [ARGS...]
 *   sandbox-exec --uid=N --kill-all | --any-left
 *
 *   --cgroup=FILE    join this control group (a cgroup.procs file; as
 *                    root, before the uid drop; a failure is ignored)
 *   --nproc= --cpu= --fsize= --nofile= --core= --as=SOFT[:HARD]
 *                    resource limits, as prlimit(1) takes them
 *   --nice=N         add N to the niceness
 *   --uid=N          become uid and gid N with no supplementary groups
 *   --env=NAME=VALUE set a variable of PROGRAM's environment
 *   --kill-all       as uid N, kill every process of it (kill(-1)) at once
 *   --any-left       as uid N, exit 0 if a process of it is left (a zombie
 *                    too), 1 if none, told without a scan of every process
 *
 * Then it sets no_new_privs (no setuid binary gives privileges back),
 * closes every fd above 2 (a student who counts /proc/PID/fd finds only
 * what their program opened) and execs PROGRAM, searched in PATH.
 *
 * What prlimit, nice, setpriv, env and a shell loop did in a chain of seven
 * execs: each exec costs a grading step a millisecond or more, and a step
 * starts several programs. Exit status: PROGRAM's; 125 on bad usage or a
 * failed call, 126 or 127 when PROGRAM cannot run (as env(1)).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The limits it takes, by their prlimit(1) option names. */
static const struct {
    const char *name;
    int resource;
} LIMITS[] = {
    {"nproc", RLIMIT_NPROC},   {"cpu", RLIMIT_CPU},   {"fsize", RLIMIT_FSIZE},
    {"nofile", RLIMIT_NOFILE}, {"core", RLIMIT_CORE}, {"as", RLIMIT_AS},
};

/* Print "sandbox-exec: WHAT" and exit 125: the launcher itself failed. */
static void die(const char *what) {
    fprintf(stderr, "sandbox-exec: %s\n", what);
    exit(125);
}

/* Print "sandbox-exec: CALL ARG: strerror" and exit 125. */
static void die_call(const char *call, const char *arg) {
    fprintf(stderr, "sandbox-exec: %s %s: %s\n", call, arg, strerror(errno));
    exit(125);
}

/* Parse a whole decimal number into *out; returns 0, or -1 if not one. */
static int parse_number(const char *text, unsigned long long *out) {
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno || *end ? -1 : 0;
}

/* Set limit NAME from "SOFT[:HARD]"; returns 1 when NAME is a limit, 0
   when it is not (exits on a bad value or a failed call). */
static int set_limit(const char *name, size_t len, const char *value) {
    for (size_t i = 0; i < sizeof LIMITS / sizeof LIMITS[0]; i++) {
        if (strlen(LIMITS[i].name) != len ||
            strncmp(LIMITS[i].name, name, len) != 0)
            continue;
        char soft[32];
        const char *colon = strchr(value, ':');
        size_t n = colon ? (size_t)(colon - value) : strlen(value);
        unsigned long long s, h;
        if (n >= sizeof soft)
            die("a limit's value is too long");
        memcpy(soft, value, n);
        soft[n] = '\0';
        if (parse_number(soft, &s) ||
            parse_number(colon ? colon + 1 : soft, &h))
            die("a limit needs SOFT or SOFT:HARD, whole numbers");
        struct rlimit rl = {.rlim_cur = s, .rlim_max = h};
        if (setrlimit(LIMITS[i].resource, &rl) == -1)
            die_call("setrlimit", name);
        return 1;
    }
    return 0;
}

/* Write our pid to a cgroup.procs file. A failure is not fatal: without
   the group the program still has its rlimits and niceness. */
static void join_cgroup(const char *file) {
    FILE *f = fopen(file, "w");
    if (!f)
        return;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

/* Become uid and gid N, in no supplementary group (as root). */
static void become(uid_t uid) {
    if (setgroups(0, NULL) == -1)
        die_call("setgroups", "0");
    if (setresgid(uid, uid, uid) == -1)
        die_call("setresgid", "the sandbox gid");
    if (setresuid(uid, uid, uid) == -1)
        die_call("setresuid", "the sandbox uid");
}

/* Does the uid we now are have a process besides us? The kernel counts
   each user's tasks for RLIMIT_NPROC: with the limit at 2, a fork fails
   (EAGAIN) exactly when another task of ours exists. Returns 1 if one
   does (or the fork failed otherwise: the caller then looks closer). */
static int others_of_uid(void) {
    struct rlimit rl = {.rlim_cur = 2, .rlim_max = 2};
    if (setrlimit(RLIMIT_NPROC, &rl) == -1)
        die_call("setrlimit", "nproc");
    pid_t pid = fork();
    if (pid == -1)
        return 1;
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return 0;
}

/* Close every fd above 2; returns only when done. */
static void close_fds(void) {
    if (close_range(3, ~0U, 0) == 0)
        return;
    long most = sysconf(_SC_OPEN_MAX); /* an old kernel: one at a time */
    for (long fd = 3; fd < (most > 0 ? most : 1024); fd++)
        close((int)fd);
}

int main(int argc, char **argv) {
    long long uid = -1;
    int kill_all = 0, any_left = 0, i;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i] + 2, *eq = strchr(opt, '=');
        unsigned long long n;
        if (*opt == '\0') {
            i++;
            break;
        } else if (strcmp(opt, "kill-all") == 0) {
            kill_all = 1;
        } else if (strcmp(opt, "any-left") == 0) {
            any_left = 1;
        } else if (!eq) {
            fprintf(stderr, "sandbox-exec: unknown option %s\n", argv[i]);
            return 125;
        } else if (strncmp(opt, "cgroup=", 7) == 0) {
            join_cgroup(eq + 1);
        } else if (strncmp(opt, "nice=", 5) == 0) {
            if (parse_number(eq + 1, &n) || n > 40)
                die("--nice needs a number from 0 to 40");
            errno = 0; /* nice() may return -1 as the new niceness */
            if (nice((int)n) == -1 && errno)
                die_call("nice", eq + 1);
        } else if (strncmp(opt, "uid=", 4) == 0) {
            if (parse_number(eq + 1, &n) || n == 0 || n > INT_MAX)
                die("--uid needs a uid other than 0");
            uid = (long long)n;
        } else if (strncmp(opt, "env=", 4) == 0) {
            if (!strchr(eq + 1, '=') || putenv((char *)eq + 1) != 0)
                die("--env needs NAME=VALUE");
        } else if (!set_limit(opt, (size_t)(eq - opt), eq + 1)) {
            fprintf(stderr, "sandbox-exec: unknown option %s\n", argv[i]);
            return 125;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
        die_call("prctl", "PR_SET_NO_NEW_PRIVS");
    if (uid >= 0)
        become((uid_t)uid);
    if (kill_all && uid >= 0) {
        /* kill(-1) as the uid reaches every process of it at once (and no
           other): a fork bomb cannot fork faster than it is killed. */
        return kill(-1, SIGKILL) == -1 && errno != ESRCH ? 1 : 0;
    }
    if (any_left && uid >= 0)
        return others_of_uid() ? 0 : 1;
    if (kill_all || any_left)
        die("--kill-all and --any-left need --uid");
    if (i >= argc)
        die("no program to run");
    close_fds();
    execvp(argv[i], argv + i);
    int status = errno == ENOENT ? 127 : 126;
    fprintf(stderr, "sandbox-exec: execvp %s: %s\n", argv[i], strerror(errno));
    return status;
}
