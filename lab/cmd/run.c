/*
 * cmd/run.c - run, jobs, stop: the student's programs run from the lab.
 *
 * `run N server` builds the program with make, then starts it in the
 * background as job 1, 2, ... in its own process group (so Ctrl-C at the
 * prompt does not reach it), its output shown as it arrives (core/jobs).
 * `run N client` runs in the foreground, bounded by LAB_RUN_TIMEOUT
 * seconds (default 60), and Ctrl-C stops it. --ref runs the reference
 * program from solutions/ instead.
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/jobs.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/registry.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LISTEN_WAIT 5.0 /* seconds run waits for "listening on" */

/* Run a client in the foreground, bounded; returns 0 when it exited 0. */
static int run_foreground(char **argv) {
    const char *env = getenv("LAB_RUN_TIMEOUT");
    double bound = env && atof(env) > 0 ? atof(env) : 60;
    /* In a script, stdin is the script: the client must not eat it. */
    int devnull =
        lab_mode == MODE_SCRIPT ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    struct spawn how = {devnull, -1, -1, 0, SIGTERM, 0};
    pid_t pid = spawn_process(argv, &how);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0)
        return 1;
    int st = 0;
    enum wait_result w = wait_child(pid, bound, 1, &st);
    /* The terminal's ^C (when there is one) is on the line already. */
    const char *nl = isatty(STDIN_FILENO) ? "\n" : "";
    if (w == WAIT_EXITED) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return 0;
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT && lab_interrupted)
            printf("%s%s(client stopped: Ctrl-C)%s\n", nl, C_DIM, C_OFF);
        else
            printf("%s(the client exited with %s)%s\n", C_DIM,
                   describe_status(st), C_OFF);
        return 1;
    }
    end_child(pid, w == WAIT_INTERRUPTED ? SIGINT : SIGTERM, 1, &st);
    if (w == WAIT_INTERRUPTED)
        printf("%s%s(client stopped: Ctrl-C)%s\n", nl, C_DIM, C_OFF);
    else
        lab_error("the client ran %g s and was stopped (LAB_RUN_TIMEOUT)",
                  bound);
    return 1;
}

/* Start a server job and wait for its "listening on" line; in one-shot
   mode, follow it until it exits or Ctrl-C. */
static int run_server(char **argv, const char *command) {
    struct job *j = jobs_start(argv, command);
    if (!j)
        return 1;
    int id = j->id;
    pid_t pid = j->pid;
    printf("%s[%d] started%s %s (pid %d; `stop %d` ends it)\n", C_BLUE, id,
           C_OFF, command, (int)pid, id);
    fflush(stdout);
    double deadline = lab_now() + LISTEN_WAIT;
    while (lab_now() < deadline && !lab_interrupted) {
        if (jobs_follow(id, 0.05, 1))
            return 1; /* it exited before it listened: reap said how */
        if (j->listening)
            break;
    }
    /* Ctrl-C before it listened: it never started. (After, in one-shot
       mode, Ctrl-C is how a foreground server is meant to end.) */
    if (lab_interrupted && !j->listening) {
        jobs_stop(j);
        return 1;
    }
    if (!j->listening)
        printf("%s[%d] is running but has not printed 'listening on "
               "HOST:PORT' yet (stdout not flushed?)%s\n",
               C_YELLOW, id, C_OFF);
    if (lab_mode != MODE_ONESHOT)
        return 0;
    /* One-shot: `lab run 01 server` is the server in the foreground. */
    while (!lab_interrupted && !lab_quit_requested)
        if (jobs_follow(id, 3600, 1))
            return 0; /* it exited */
    jobs_stop(j);
    return 0;
}

static int cmd_run(int argc, char **argv) {
    const char *prog = argv[2];
    if (strcmp(prog, "server") != 0 && strcmp(prog, "client") != 0) {
        lab_usage(argv[0]);
        return 2;
    }
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    int first = 3;
    const char *impl = "lessons";
    if (lab_opt("--ref"))
        impl = "solutions";
    char *src = xprintf("%s/%s/%s/%s.c", lab_root(), impl, l->name, prog);
    int exists = is_file(src);
    free(src);
    if (!exists) {
        lab_error("%s/%s has no %s.c", impl, l->name, prog);
        return 1;
    }
    if (build_program(impl, l->name, prog) != 0)
        return 1;
    char *bin = xprintf("%s/build/%s/%s/%s", lab_root(), impl, l->name, prog);
    char **args = xmalloc((size_t)(argc - first + 2) * sizeof *args);
    struct buf command = {0};
    buf_printf(&command, "build/%s/%s/%s", impl, l->name, prog);
    args[0] = bin;
    int n = 1;
    for (int i = first; i < argc; i++) {
        args[n++] = argv[i];
        buf_printf(&command, " %s", argv[i]);
    }
    args[n] = NULL;
    int status = strcmp(prog, "server") == 0 ? run_server(args, command.data)
                                             : run_foreground(args);
    free(command.data);
    free(args);
    free(bin);
    return status;
}

/* ---------------------------------------------------------- jobs and stop */

static int cmd_jobs(int argc, char **argv) {
    (void)argc;
    (void)argv;
    jobs_drain();
    int any = 0;
    for (int i = 0; i < MAX_JOBS; i++) {
        struct job *j = jobs_slot(i);
        if (!j)
            continue;
        any = 1;
        printf("%s[%d]%s running  pid %-7d %s", C_BLUE, j->id, C_OFF,
               (int)j->pid, j->command);
        if (j->listening)
            printf("  %s(%s)%s", C_DIM, j->listening, C_OFF);
        printf("\n");
    }
    if (!any)
        printf("no jobs: `run N server` starts one\n");
    return 0;
}

static int cmd_stop(int argc, char **argv) {
    (void)argc;
    jobs_drain();
    struct job *j = jobs_find(argv[1]);
    if (!j) {
        lab_error("no job '%s' (`jobs` lists them)", argv[1]);
        return 1;
    }
    jobs_stop(j);
    return 0;
}

/* ---------------------------------------------------------------- the table */

#define LESSONS "Lessons"

static const struct lab_command rows[] = {
    {"run", "N server|client [--ref] [ARGS...]", cmd_run,
     "build and run your program (--ref: reference)", NULL, LESSONS,
     "A server runs in the background as a job (`jobs`, `stop J`); its output\n"
     "is shown as it arrives, prefixed [J]. A client runs in the foreground\n"
     "for at most LAB_RUN_TIMEOUT seconds (60); Ctrl-C stops it. ARGS go to\n"
     "the program: `run 01 server 127.0.0.1 4000`, `run 01 client 127.0.0.1\n"
     "4000 hello`. --ref runs the reference program of solutions/, to try\n"
     "the playground against a working server before you write yours."},
    {"jobs", "", cmd_jobs, "the servers running in the background", NULL,
     LESSONS, NULL},
    {"stop", "J", cmd_stop, "end job J (SIGTERM, then SIGKILL)", complete_job,
     LESSONS, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void run_register(void) {
    lab_register(rows);
    lab_register_word("J", complete_job);
}
