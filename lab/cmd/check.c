/*
 * check.c - check and watch: grade a lesson with the same runner as
 * `make check` (tests/grader/grade.py, started with an argv, never a
 * shell string), show each step with its failure transcript from
 * results.json, and record the progress. watch re-checks whenever a
 * file of the lesson is saved (inotify, or polling where there is none).
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/json.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/progress.h"
#include "core/registry.h"
#include "record.h" /* generated: the grader's result record */

#include <stdio.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRADER_BOUND 900 /* seconds: the grader bounds each step itself */

/* Drop BATS_* from the environment: when the lab itself runs under Bats
   (its own tests do), that state would derail the grader's Bats run. */
static void forget_bats(void) {
    extern char **environ;
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++)
            if (strncmp(*e, "BATS_", 5) == 0) {
                char *name = xprintf("%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                free(name);
                again = 1;
                break;
            }
    }
}

/* What one check asks for and what it has shown so far. */
struct check_run {
    const char *lesson; /* NULL: every lesson */
    int step;           /* 0: every step */
    int all;            /* 0: stop each lesson at its first failing step */
    int verbose;        /* every failure transcript in full */
    int total, done;    /* steps to run, steps reported */
    int failures;       /* failing steps shown */
    int broken;         /* a program did not compile: said once */
    int progress;       /* a progress line is on the screen */
    double started;
    int trace, capture; /* show a failing step's socket calls, packets */
    int first_failing;  /* the first failing step of the lesson, 0 none */
    char *transcript;   /* the transcript of the first failing step */
};

/* The real Python interpreter, asked of `python3` once: on machines where
   python3 is a pyenv shim every start through it costs up to a second. */
static const char *lab_python(void) {
    static char *found;
    if (found)
        return found;
    const char *env = getenv("LAB_PYTHON");
    if (env && *env) {
        found = xstrdup(env);
        return found;
    }
    /* Asked once per machine, not per `lab check`: kept in the state dir
       for as long as the interpreter it names is there. */
    char *cache = xprintf("%s/python", lab_state_dir());
    char *out = read_file(cache, NULL);
    if (out)
        out[strcspn(out, "\n")] = '\0';
    if (!out || out[0] != '/' || access(out, X_OK) != 0) {
        free(out);
        out = NULL;
        size_t len = 0;
        char *argv[] = {"python3", "-c", "import sys; print(sys.executable)",
                        NULL};
        if (capture(argv, &out, &len, 0, 30) == 0 && out && len > 1 &&
            out[0] == '/') {
            out[strcspn(out, "\n")] = '\0';
            char *line = xprintf("%s\n", out);
            write_file_atomic(cache, line, strlen(line));
            free(line);
        } else {
            free(out);
            out = NULL;
        }
    }
    free(cache);
    found = out ? out : xstrdup("python3");
    setenv("LAB_PYTHON", found, 1); /* the tests' peers use it too */
    return found;
}

/* The lines of text, each indented by pad. */
static void print_indented(const char *text, const char *pad) {
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        printf("%s%.*s\n", pad, len, line);
        if (!nl)
            break;
        line = nl + 1;
    }
}

/* Print a step's failure transcript: in full (verbose, or the first
   failing step), else its first line; without the "FAILED step N of
   LESSON (IMPL): " prefix the step's own line already says. */
static void print_transcript(const char *text, int full) {
    const char *colon = strstr(text, "): ");
    size_t first_line = strcspn(text, "\n");
    if (strncmp(text, "FAILED step ", 12) == 0 && colon &&
        colon < text + first_line)
        text = colon + 3;
    if (full) {
        print_indented(text, "      ");
        return;
    }
    int len = (int)strcspn(text, "\n");
    printf("      %.*s%s\n", len, text, text[len] ? " ..." : "");
}

/* Erase the progress line, if one is on the screen. */
static void progress_erase(struct check_run *run) {
    if (run->progress)
        fputs("\r\033[K", stdout);
    run->progress = 0;
}

/* Draw "[step k of n, 1.2 s]" under the steps shown, on a terminal. */
static void progress_draw(struct check_run *run) {
    if (!isatty(STDOUT_FILENO) || run->done >= run->total)
        return;
    progress_erase(run);
    printf("%s[step %d of %d, %.1f s]%s", C_DIM, run->done + 1, run->total,
           lab_now() - run->started, C_OFF);
    fflush(stdout);
    run->progress = 1;
}

/* Show the compile errors of a "build" event, once per check. */
static void show_build(struct check_run *run, const struct json *ev) {
    const struct json *compile = json_get(ev, REC_BUILD_EVENT_COMPILE);
    for (size_t i = 0; compile && i < compile->count; i++) {
        const struct json *v = compile->items[i];
        if (v->type == JSON_STRING && strcmp(v->string, REC_COMPILE_OK) != 0 &&
            strstr(v->string, "not in the submission") == NULL) {
            printf("%s%s.c does not compile:%s\n", C_RED, compile->keys[i],
                   C_OFF);
            print_indented(v->string, "    ");
            run->broken = 1;
        }
    }
}

/* Show one "step" event: pass or FAIL and, when it failed, the transcript. */
static void show_step(struct check_run *run, const struct json *ev) {
    const char *name = json_str(ev, REC_STEP_EVENT_NAME);
    const char *transcript = json_str(ev, REC_STEP_EVENT_TRANSCRIPT);
    run->done++;
    if (!json_num(ev, REC_STEP_EVENT_RAN))
        return; /* skipped after a failure: the summary counts them */
    const char *skipped = json_str(ev, REC_STEP_EVENT_SKIPPED);
    if (json_num(ev, REC_STEP_EVENT_PASSED) && skipped) {
        /* Not this student's doing: the machine cannot run the step. */
        printf("  %sskip%s %s (%s)\n", C_YELLOW, C_OFF, name ? name : "?",
               skipped);
        return;
    }
    if (json_num(ev, REC_STEP_EVENT_PASSED)) {
        printf("  %s%s%s %s\n", C_GREEN, lab_utf8 ? "\u2713" : "pass", C_OFF,
               name ? name : "?");
        return;
    }
    printf("  %s%s%s %s\n", C_RED, lab_utf8 ? "\u2717" : "FAIL", C_OFF,
           name ? name : "?");
    run->failures++;
    if ((run->trace || run->capture) && !run->first_failing && name &&
        strncmp(name, "step ", 5) == 0) {
        run->first_failing = atoi(name + 5);
        run->transcript = xstrdup(transcript ? transcript : "");
    }
    if (transcript && *transcript &&
        !(run->broken && strstr(transcript, "does not compile")))
        print_transcript(transcript, run->verbose || run->failures == 1);
}

/* Take one line of the grader's output: an event is shown, anything else
   goes to the log (shown only if the grader fails). */
static void take_line(struct check_run *run, const char *line, FILE *log) {
    struct json *ev = line[0] == '{' ? json_parse(line) : NULL;
    const char *kind = json_str(ev, REC_EVENT);
    if (!kind) {
        if (log)
            fprintf(log, "%s\n", line);
        json_free(ev);
        return;
    }
    progress_erase(run);
    if (strcmp(kind, REC_EVENT_BUILD) == 0)
        show_build(run, ev);
    else if (strcmp(kind, REC_EVENT_STEP) == 0)
        show_step(run, ev);
    json_free(ev);
    progress_draw(run);
    fflush(stdout);
}

/* Read the grader's events from fd as they come, until it closes it or
   Ctrl-C; job output keeps flowing. Returns 0 at the end, -1 on Ctrl-C. */
static int follow_events(struct check_run *run, int fd, FILE *log) {
    struct buf pending = {0};
    char chunk[4096];
    for (;;) {
        if (lab_interrupted || lab_quit_requested) {
            free(pending.data);
            return -1;
        }
        short ready = loop_wait_fd(fd, POLLIN, lab_now() + 0.5, 1);
        if (ready <= 0) {
            progress_draw(run);
            continue;
        }
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf_add(&pending, chunk, (size_t)n);
        char *start = pending.data, *nl;
        while ((nl = memchr(start, '\n', pending.len - (size_t)(start -
                                                       pending.data)))) {
            *nl = '\0';
            take_line(run, start, log);
            start = nl + 1;
        }
        size_t rest = pending.len - (size_t)(start - pending.data);
        memmove(pending.data, start, rest);
        pending.len = rest;
    }
    free(pending.data);
    progress_erase(run);
    return 0;
}

/* Run grade.py as run asks, reports in dir, showing each step as it
   finishes; returns 0 when it ran (whatever the grade), -1 when it failed
   or was stopped. */
static int run_grader(struct check_run *run, const char *dir) {
    forget_bats();
    char *grader = root_path("tests/grader/grade.py");
    char *logpath = xprintf("%s/grader.log", dir);
    char *results = xprintf("%s/results.json", dir);
    char stepno[16];
    snprintf(stepno, sizeof stepno, "%d", run->step);
    unlink(results); /* never read a stale report */
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)lab_python();
    argv[n++] = "-S";
    argv[n++] = grader;
    argv[n++] = "check";
    argv[n++] = "--impl";
    argv[n++] = "lessons";
    argv[n++] = "--reports";
    argv[n++] = (char *)dir;
    argv[n++] = "--events";
    if (!run->all && !run->step)
        argv[n++] = "--first-failure";
    if (run->step) {
        argv[n++] = "--step";
        argv[n++] = stepno;
    }
    if (run->lesson) {
        argv[n++] = "--lesson";
        argv[n++] = (char *)run->lesson;
    }
    argv[n] = NULL;
    int pipefd[2] = {-1, -1};
    FILE *log = fopen(logpath, "w");
    int errfd = log ? fileno(log) : -1;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int status = -1, st = 0;
    pid_t pid = -1;
    if (!log || pipe(pipefd) < 0 || fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) < 0)
        lab_error("cannot start the grader: %s", strerror(errno));
    else {
        /* Its own group: Ctrl-C reaches it through us (SIGINT first, so
           it can end its bats runs), and it dies with us. */
        struct spawn how = {devnull, pipefd[1], errfd, 1, SIGINT, 0};
        pid = spawn_process(argv, &how);
        close(pipefd[1]);
    }
    if (devnull >= 0)
        close(devnull);
    if (pid > 0) {
        int followed = follow_events(run, pipefd[0], log);
        enum wait_result w =
            followed == 0 ? wait_child(pid, 30, 1, &st) : WAIT_INTERRUPTED;
        if (w == WAIT_EXITED && WIFEXITED(st) && WEXITSTATUS(st) <= 1) {
            status = 0;
        } else if (w == WAIT_EXITED) {
            fflush(log);
            lab_error("the grader failed (%s); its output:",
                      describe_status(st));
            char *text = read_file(logpath, NULL);
            if (text)
                fputs(text, stderr);
            free(text);
        } else {
            end_child(pid, SIGINT, 3, &st);
            if (w == WAIT_INTERRUPTED)
                printf("\ncheck stopped (Ctrl-C)\n");
            else
                lab_error("the grader did not end after its last step");
        }
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (log)
        fclose(log);
    free(grader);
    free(logpath);
    free(results);
    return status;
}

/* Record one lesson of a results.json in the progress: how many steps
   passed, and which ran and failed. */
static void record_lesson(const struct json *l) {
    const char *name = json_str(l, REC_LESSON_LESSON);
    const struct json *steps = json_get(l, REC_LESSON_STEPS);
    if (!name || !steps || steps->type != JSON_ARRAY)
        return;
    int *failing = xmalloc((steps->count + 1) * sizeof *failing);
    int nfailing = 0;
    for (size_t i = 0; i < steps->count; i++) {
        const struct json *s = steps->items[i];
        if (!json_num(s, REC_STEP_PASSED) &&
            !(json_get(s, REC_STEP_RAN) && !json_num(s, REC_STEP_RAN)))
            failing[nfailing++] = (int)json_num(s, REC_STEP_STEP);
    }
    progress_record(name, (int)json_num(l, REC_LESSON_PASSED),
                    (int)json_num(l, REC_LESSON_TOTAL), failing, nfailing);
    free(failing);
}

void check_sync_make_report(void) {
    char *path = root_path("build/reports/results.json");
    struct stat st;
    long stamp = 0;
    if (stat(path, &st) == 0)
        stamp = (long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    if (stamp == 0 || stamp == progress_synced()) {
        free(path);
        return;
    }
    char *text = read_file(path, NULL);
    struct json *report = text ? json_parse(text) : NULL;
    const struct json *list = json_get(report, REC_RESULTS_LESSONS);
    const char *impl = json_str(report, REC_RESULTS_IMPL);
    const char *src = json_str(report, REC_RESULTS_SRC);
    char *ours = root_path("lessons");
    /* Only a whole check of our lessons/ says where the student stands. */
    if (list && list->type == JSON_ARRAY && impl &&
        strcmp(impl, REC_IMPL_LESSONS) == 0 && src && strcmp(src, ours) == 0 &&
        !json_num(report, REC_RESULTS_ONLY_STEP))
        for (size_t i = 0; i < list->count; i++)
            record_lesson(list->items[i]);
    progress_set_synced(stamp);
    json_free(report);
    free(text);
    free(ours);
    free(path);
}

/* Sum up one lesson of results.json and record it; returns 1 when every
   step passed. */
static int sum_up_lesson(const struct json *l, const struct check_run *run) {
    const char *name = json_str(l, REC_LESSON_LESSON);
    const struct json *steps = json_get(l, REC_LESSON_STEPS);
    if (!name || !steps || steps->type != JSON_ARRAY)
        return 0;
    int passed = (int)json_num(l, REC_LESSON_PASSED);
    int total = (int)json_num(l, REC_LESSON_TOTAL);
    int *failing = xmalloc((steps->count + 1) * sizeof *failing);
    int nfailing = 0, not_run = 0;
    for (size_t i = 0; i < steps->count; i++) {
        const struct json *s = steps->items[i];
        if (json_num(s, REC_STEP_PASSED))
            continue;
        if (json_get(s, REC_STEP_RAN) && !json_num(s, REC_STEP_RAN))
            not_run++;
        else
            failing[nfailing++] = (int)json_num(s, REC_STEP_STEP);
    }
    int number = atoi(name);
    if (run->step) {
        /* One step alone says nothing of the others: nothing recorded. */
        printf("%s%s: step %d %s.%s `check %02d` checks the whole lesson.\n",
               nfailing ? C_YELLOW : C_GREEN, name, run->step,
               nfailing ? "fails" : "passes", C_OFF, number);
        free(failing);
        return nfailing == 0;
    }
    record_lesson(l);
    if (lesson_passed(passed, total))
        printf("%s%s: all %d steps pass.%s `list` shows your progress; "
               "`solution %02d` shows the reference.\n",
               C_GREEN, name, total, C_OFF, number);
    else if (nfailing > 0) {
        printf("%s%s: %d of %d steps pass.%s Next: step %d (reread it with "
               "`show %02d`; `hint %02d %d` if you are stuck)\n",
               C_YELLOW, name, passed, total, C_OFF, failing[0], number,
               number, failing[0]);
        if (not_run)
            printf("%s(stopped at the first failing step: %d more not run; "
                   "`check %02d --all` runs every step)%s\n",
                   C_DIM, not_run, number, C_OFF);
    }
    free(failing);
    return lesson_passed(passed, total);
}

/* The number of steps run asks for, from the lessons' tests. */
static int steps_to_run(const struct check_run *run) {
    if (run->step)
        return 1;
    int total = 0;
    for (int i = 0; i < lessons_count(); i++) {
        struct lesson *l = lesson_at(i);
        if (!run->lesson || strcmp(run->lesson, l->name) == 0)
            total += lesson_steps(l);
    }
    return total;
}

/* Grade as run asks and show the result; returns the command's status:
   0 all passed, 1 not (or the grader failed). */
static int check_and_show(struct check_run *run) {
    char *dir = root_path("build/reports/lab");
    if (mkdir_p(dir) != 0) {
        lab_error("cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return 1;
    }
    run->total = steps_to_run(run);
    run->started = lab_now();
    printf("%schecking %s%s (building and testing; Ctrl-C stops)\n", C_DIM,
           run->lesson ? run->lesson : "every lesson", C_OFF);
    fflush(stdout);
    int status = 1;
    if (run_grader(run, dir) == 0) {
        char *path = xprintf("%s/results.json", dir);
        char *text = read_file(path, NULL);
        struct json *report = text ? json_parse(text) : NULL;
        const struct json *list = json_get(report, REC_RESULTS_LESSONS);
        if (!list || list->type != JSON_ARRAY) {
            lab_error("the grader wrote no report (%s)", path);
        } else {
            int all = 1;
            for (size_t i = 0; i < list->count; i++)
                all &= sum_up_lesson(list->items[i], run);
            status = all && list->count > 0 ? 0 : 1;
        }
        json_free(report);
        free(text);
        free(path);
    }
    free(dir);
    return status;
}

/* ------------------------------------------------- a closer look (--trace) */

/* The ports a transcript names (HOST:PORT, "port N"), at most max;
   *server is the one after "listening on" (or the first). */
static int ports_in(const char *text, long *ports, int max, long *server) {
    int n = 0;
    *server = 0;
    for (const char *p = text; *p && n < max; p++) {
        const char *digits = NULL;
        if (*p == ':' && p > text && (isdigit((unsigned char)p[-1]) ||
                                      p[-1] == ']' || p[-1] == 't'))
            digits = p + 1; /* 127.0.0.1:4000, [::1]:4000, localhost:4000 */
        else if (strncmp(p, "port ", 5) == 0)
            digits = p + 5;
        else if (strncmp(p, "127.0.0.1 ", 10) == 0) /* a command line's */
            digits = p + 10;
        else if (strncmp(p, "::1 ", 4) == 0 || strncmp(p, "localhost ", 10) == 0)
            digits = strchr(p, ' ') + 1;
        if (!digits || !isdigit((unsigned char)*digits))
            continue;
        char *end;
        long port = strtol(digits, &end, 10);
        if (port <= 0 || port > 65535 || isdigit((unsigned char)*end))
            continue;
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen |= ports[i] == port;
        if (!seen)
            ports[n++] = port;
        const char *line = p;
        while (line > text && line[-1] != '\n')
            line--;
        if (!*server && strncmp(line + strspn(line, " "), "listening on", 12) == 0)
            *server = port;
    }
    if (!*server && n)
        *server = ports[0];
    return n;
}

/* The files the tests' strace writes (PROG.N, N counting the step's
   runs), made by us beforehand: a file the sandbox user made would be
   swept away by the grader (it removes what that user leaves in /tmp). */
static void make_trace_files(const char *dir) {
    const char *progs[] = {"server", "client"};
    for (int p = 0; p < 2; p++)
        for (int n = 1; n <= 32; n++) {
            char *path = xprintf("%s/%s.%d", dir, progs[p], n);
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
            if (fd >= 0) {
                fchmod(fd, 0666);
                close(fd);
            }
            free(path);
        }
}

/* Print the socket calls of every trace file in dir. */
static void show_traces(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size > 0) {
            printf("  %s%s's socket calls:%s\n", C_BOLD, e->d_name, C_OFF);
            if (trace_print_file(path, "    ") == 0)
                printf("    (none)\n");
            files++;
        }
        unlink(path);
        free(path);
    }
    if (d)
        closedir(d);
    if (!files)
        printf("  %s(no trace came back: the lesson's test starts the "
               "programs without strace; tests/lib/common.bash must honour "
               "LAB_TRACE_DIR)%s\n",
               C_DIM, C_OFF);
    rmdir(dir);
}

/* Run the first failing step again under strace (LAB_TRACE_DIR, which
   the tests honour) and/or tcpdump (outside the grader's network
   namespace: LAB_NETNS=0), and show its calls and packets. */
static void look_closer(const struct check_run *first) {
    struct check_run again = {0};
    again.lesson = first->lesson;
    again.step = first->first_failing;
    again.failures = 1; /* the transcript was shown: its first line only */
    again.trace = first->trace; /* (keeps its transcript, for the ports) */
    again.capture = first->capture;
    printf("\n%sstep %d again, %s:%s\n", C_BOLD, again.step,
           first->trace && first->capture ? "traced and captured"
           : first->trace                 ? "traced"
                                          : "captured",
           C_OFF);
    /* Under build/, not /tmp: the grader sweeps what its sandbox user
       leaves in /tmp. Open to that user (sticky, as /tmp is). */
    char *reports = root_path("build/reports/lab");
    char *tdir = xprintf("%s/trace-XXXXXX", reports);
    free(reports);
    int traced = first->trace && mkdtemp(tdir) && chmod(tdir, 0777) == 0;
    if (traced)
        make_trace_files(tdir);
    if (traced)
        setenv("LAB_TRACE_DIR", tdir, 1);
    struct sniffer *s = NULL;
    char *kept = NULL, *raw = NULL;
    if (first->capture) {
        kept = capture_file(first->lesson, "step");
        raw = xprintf("%s.raw", kept);
        setenv("LAB_NETNS", "0", 1);
        if (sniffer_start(&s, raw) != 0) {
            sniffer_stop(s);
            s = NULL;
        }
    }
    check_and_show(&again);
    unsetenv("LAB_TRACE_DIR");
    unsetenv("LAB_NETNS");
    if (traced)
        show_traces(tdir);
    if (s) {
        long ports[8], server;
        const char *text = again.transcript ? again.transcript
                                            : first->transcript;
        int n = ports_in(text ? text : "", ports, 8, &server);
        printf("  %sthe step's packets (kept in %s for Wireshark):%s\n",
               C_BOLD, kept, C_OFF);
        sniffer_show(s, ports, n, server, kept, "    ");
        sniffer_stop(s);
    }
    free(again.transcript);
    free(kept);
    free(raw);
    free(tdir);
}

static int cmd_check(int argc, char **argv) {
    struct check_run run = {0};
    run.verbose = lab_opt("--verbose");
    run.all = lab_opt("--all");
    if (argc > 2) {
        char *end;
        long n = strtol(argv[2], &end, 10);
        if (!*argv[2] || *end || n <= 0 || n >= 1000) {
            lab_usage(argv[0]);
            return 2;
        }
        run.step = (int)n;
    }
    if (strcmp(argv[1], "all") == 0) {
        if (lessons_count() == 0) {
            lab_error("no lessons found in %s/lessons", lab_root());
            return 1;
        }
        if (run.step) {
            lab_error("a STEP goes with one lesson: check N STEP");
            return 2;
        }
        return check_and_show(&run);
    }
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    if (run.step > lesson_steps(l)) {
        lab_error("%s has steps 1 to %d, not %d", l->name, lesson_steps(l),
                  run.step);
        return 2;
    }
    run.lesson = l->name;
    run.trace = lab_opt("--trace");
    run.capture = lab_opt("--capture");
    int status = check_and_show(&run);
    if (status == 1 && run.first_failing && (run.trace || run.capture) &&
        !lab_interrupted)
        look_closer(&run);
    free(run.transcript);
    return status;
}

/* ---------------------------------------------------------------- watch */

/* Is name a file whose saving should re-check (source, not swap)? */
static int watched_name(const char *name) {
    size_t len = strlen(name);
    return name[0] != '.' && len > 2 &&
           (strcmp(name + len - 2, ".c") == 0 ||
            strcmp(name + len - 2, ".h") == 0);
}

/* A fingerprint of the lesson's sources (names, sizes, mtimes), for the
   polling fallback. */
static unsigned long long fingerprint(const char *dir) {
    unsigned long long h = 1469598103934665603ULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!watched_name(e->d_name))
            continue;
        char *path = xprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0) {
            unsigned long long parts[3] = {
                (unsigned long long)st.st_size,
                (unsigned long long)st.st_mtim.tv_sec,
                (unsigned long long)st.st_mtim.tv_nsec};
            for (const char *c = e->d_name; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ULL;
            for (int i = 0; i < 3; i++)
                h = (h ^ parts[i]) * 1099511628211ULL;
        }
        free(path);
    }
    closedir(d);
    return h;
}

/* Read the inotify events waiting on fd; 1 when one is about a source. */
static int source_event(int fd) {
    char events[8192]
        __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    while ((n = read(fd, events, sizeof events)) > 0)
        for (char *p = events; p < events + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->len && watched_name(ev->name))
                hit = 1;
            p += sizeof *ev + ev->len;
        }
    return hit;
}

/* Sleep up to ms (-1: no bound) or until fd is readable, the loop going
   on meanwhile; returns early on Ctrl-C. */
static void nap(int ms, int fd) {
    loop_wait_fd(fd, POLLIN, ms < 0 ? -1 : lab_now() + ms / 1000.0, 1);
}

/* Wait until a source of dir changes (1) or Ctrl-C (0). */
static int wait_for_change(int fd, const char *dir, unsigned long long *last) {
    for (;;) {
        if (lab_interrupted || lab_quit_requested)
            return 0;
        if (fd >= 0) {
            nap(-1, fd);
            if (!source_event(fd))
                continue;
            /* An editor saves in bursts (write, rename, chmod): let it
               settle, and take the whole burst as one change. */
            for (int i = 0; i < 4; i++) {
                nap(50, fd);
                source_event(fd);
            }
            return 1;
        }
        nap(500, -1);
        unsigned long long now = fingerprint(dir);
        if (now != *last) {
            *last = now;
            return 1;
        }
    }
}

static int cmd_watch(int argc, char **argv) {
    (void)argc;
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    char *dir = xprintf("%s/lessons/%s", lab_root(), l->name);
    int fd = -1;
    const char *poll_env = getenv("LAB_WATCH_POLL");
    if (!(poll_env && *poll_env && strcmp(poll_env, "0") != 0)) {
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd >= 0 &&
            inotify_add_watch(fd, dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
                                  IN_DELETE | IN_ATTRIB) < 0) {
            close(fd);
            fd = -1;
        }
    }
    unsigned long long last = fingerprint(dir);
    int tty = isatty(STDOUT_FILENO);
    for (int round = 0;; round++) {
        if (tty && lab_colour)
            fputs("\033[H\033[2J", stdout); /* a fresh screen per check */
        else if (round)
            puts("");
        printf("%swatching lessons/%s%s: every save re-checks it (%s). "
               "Ctrl-C stops.\n",
               C_BOLD, l->name, C_OFF, fd >= 0 ? "inotify" : "polling");
        struct check_run run = {.lesson = l->name};
        check_and_show(&run);
        fflush(stdout);
        /* A save during the check is still queued (inotify) or shows
           in the fingerprint taken before it: it triggers the next. */
        if (!wait_for_change(fd, dir, &last))
            break;
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    printf("\nwatch stopped\n");
    return 0;
}

/* ---------------------------------------------------------------- the table */

#define LESSONS "Lessons"

static const struct lab_command rows[] = {
    {"check", "N|all [STEP] [--all] [--verbose] [--trace] [--capture]",
     cmd_check,
     "build, grade and record lesson N (or all)", NULL, LESSONS,
     "Runs the same grader as `make check` (tests/grader/grade.py): builds\n"
     "your programs, runs the lesson's test and shows each step the moment\n"
     "it passes or fails, with what went wrong; records the result for\n"
     "`list`. It stops at the first failing step: --all runs every step\n"
     "(the first failure shows its whole transcript, the others their first\n"
     "line; --verbose shows them all). STEP runs that step alone: `check 01\n"
     "3`. --trace runs the first failing step again under strace and shows\n"
     "its programs' socket calls (as `trace` does); --capture runs it again\n"
     "while tcpdump listens on loopback and shows its packets (as `capture`\n"
     "does). Ctrl-C stops it."},
    {"watch", "N", cmd_watch, "re-check lesson N on every save, till Ctrl-C",
     NULL, LESSONS,
     "Leave it running in one terminal while you edit in another: every save\n"
     "of a .c file in lessons/NN-slug/ re-checks the lesson (inotify; with\n"
     "LAB_WATCH_POLL=1, or where inotify is missing, it polls twice a "
     "second)."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void check_register(void) {
    lab_register(rows);
}
