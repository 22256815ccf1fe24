/*
 * proc.h - child processes: start one, wait for it with a bound (on the
 * event loop), end it and all it started, run one and keep its output.
 */
#ifndef LAB_CORE_PROC_H
#define LAB_CORE_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Start argv (execvp) with fds 0-2 from in, out, err (-1: inherit). In
   its own process group when new_group. Returns the pid, or -1 after
   printing why (exec failures are reported from the parent). */
struct spawn {
    int in, out, err;
    int new_group;
    int death_signal; /* sent to it if the lab dies; 0 none */
    int extra;        /* given to it as fd 3 (strace's -o); 0 none */
};
pid_t spawn_process(char *const argv[], const struct spawn *how);

/* A pidfd for pid (readable once it exits), or -1 when the kernel has
   none (before Linux 5.3): callers then look with a tick. */
int open_pidfd(pid_t pid);

enum wait_result { WAIT_EXITED, WAIT_TIMEOUT, WAIT_INTERRUPTED };
/* Wait for child pid up to seconds (<0: no bound), returning early on
   Ctrl-C when interruptible; the event loop goes on meanwhile. */
enum wait_result wait_child(pid_t pid, double seconds, int interruptible,
                            int *status);
/* End a child and everything it started: sig to it (its group when it
   has one), then SIGKILL to all its descendants after grace seconds. */
void end_child(pid_t pid, int sig, double grace, int *status);
/* Run argv, capturing stdout (stderr too when merge); 0 on exit 0. */
int capture(char *const argv[], char **out, size_t *len, int merge,
            double seconds);
/* Say a wait status in words: "status 1", "signal 9 (SIGKILL)". */
const char *describe_status(int status);

/* Build build/IMPL/NAME/PROG with make (IMPL lessons or solutions);
   0 when it is ready, -1 after saying why not. */
int build_program(const char *impl, const char *name, const char *prog);

#endif
