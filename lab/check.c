/*
 * check.c - check and watch: grade a lesson with the same runner as
 * `make check` (tests/grader/grade.py, started with an argv, never a
 * shell string), show each step with its failure transcript from
 * results.json, and record the progress. watch re-checks whenever a
 * file of the lesson is saved (inotify, or polling where there is none).
 */
#include "core.h"

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

/* Run grade.py for lesson name (NULL: all) with reports in dir; returns
   0 when it ran (whatever the grade), -1 when it failed or was stopped. */
static int run_grader(const char *name, const char *dir) {
    forget_bats();
    char *grader = root_path("tests/grader/grade.py");
    char *log = xprintf("%s/grader.log", dir);
    char *results = xprintf("%s/results.json", dir);
    unlink(results); /* never read a stale report */
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char *argv[] = {"python3",    grader,    "check",
                    "--impl",     "lessons", "--reports",
                    (char *)dir,  "--quiet", name ? "--lesson" : NULL,
                    (char *)name, NULL};
    /* Its own group: Ctrl-C reaches it through us (SIGINT first, so it
       can end its bats runs), and it dies with us. */
    struct spawn how = {devnull, fd, fd, 1, SIGINT};
    int status = -1;
    pid_t pid = fd < 0 ? -1 : spawn_process(argv, &how);
    if (fd < 0)
        lab_error("cannot write %s: %s", log, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (devnull >= 0)
        close(devnull);
    int st = 0;
    if (pid > 0) {
        enum wait_result w = wait_child(pid, GRADER_BOUND, 1, &st);
        if (w == WAIT_EXITED && WIFEXITED(st) && WEXITSTATUS(st) <= 1) {
            status = 0;
        } else if (w == WAIT_EXITED) {
            lab_error("the grader failed (%s); its output:",
                      describe_status(st));
            char *text = read_file(log, NULL);
            if (text)
                fputs(text, stderr);
            free(text);
        } else {
            end_child(pid, SIGINT, 3, &st);
            if (w == WAIT_INTERRUPTED)
                printf("\ncheck stopped (Ctrl-C)\n");
            else
                lab_error("the grader ran longer than %d s and was stopped",
                          GRADER_BOUND);
        }
    }
    free(grader);
    free(log);
    free(results);
    return status;
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

/* Show one lesson of results.json and record it; returns 1 when every
   step passed. */
static int show_lesson(const struct json *l, int verbose) {
    const char *name = json_str(l, "lesson");
    const struct json *steps = json_get(l, "steps");
    const struct json *compile = json_get(l, "compile");
    if (!name || !steps || steps->type != JSON_ARRAY)
        return 0;
    int passed = (int)json_num(l, "passed"), total = (int)json_num(l, "total");
    int broken = 0;
    for (size_t i = 0; compile && i < compile->count; i++) {
        const struct json *v = compile->items[i];
        if (v->type == JSON_STRING && strcmp(v->string, "ok") != 0) {
            printf("%s%s.c does not compile:%s\n", C_RED, compile->keys[i],
                   C_OFF);
            print_indented(v->string, "    ");
            broken = 1;
        }
    }
    int *failing = xmalloc((steps->count + 1) * sizeof *failing);
    int nfailing = 0;
    for (size_t i = 0; i < steps->count; i++) {
        const struct json *s = steps->items[i];
        int ok = json_num(s, "passed") != 0;
        const char *step_name = json_str(s, "name");
        const char *transcript = json_str(s, "transcript");
        if (ok)
            printf("  %s%s%s %s\n", C_GREEN, lab_utf8 ? "\u2713" : "pass",
                   C_OFF, step_name ? step_name : "?");
        else
            printf("  %s%s%s %s\n", C_RED, lab_utf8 ? "\u2717" : "FAIL", C_OFF,
                   step_name ? step_name : "?");
        if (!ok) {
            failing[nfailing++] = (int)json_num(s, "step");
            if (transcript && *transcript &&
                !(broken && strstr(transcript, "does not compile")))
                print_transcript(transcript, verbose || nfailing == 1);
        }
    }
    progress_record(name, passed, total, failing, nfailing);
    int number = atoi(name);
    if (total > 0 && passed == total)
        printf("%s%s: all %d steps pass.%s `list` shows your progress; "
               "`solution %02d` shows the reference.\n",
               C_GREEN, name, total, C_OFF, number);
    else if (nfailing > 0)
        printf("%s%s: %d of %d steps pass.%s Next: step %d (reread it with "
               "`show %02d`; `hint %02d %d` if you are stuck)\n",
               C_YELLOW, name, passed, total, C_OFF, failing[0], number, number,
               failing[0]);
    free(failing);
    return total > 0 && passed == total;
}

/* Grade name (NULL: all) and show the result; returns the command's
   status: 0 all passed, 1 not (or the grader failed). */
static int check_and_show(const char *name, int verbose) {
    char *dir = root_path("build/reports/lab");
    if (mkdir_p(dir) != 0) {
        lab_error("cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return 1;
    }
    printf("%schecking %s%s (building and testing; Ctrl-C stops)\n", C_DIM,
           name ? name : "every lesson", C_OFF);
    fflush(stdout);
    int status = 1;
    if (run_grader(name, dir) == 0) {
        char *path = xprintf("%s/results.json", dir);
        char *text = read_file(path, NULL);
        struct json *report = text ? json_parse(text) : NULL;
        const struct json *list = json_get(report, "lessons");
        if (!list || list->type != JSON_ARRAY) {
            lab_error("the grader wrote no report (%s)", path);
        } else {
            int all = 1;
            for (size_t i = 0; i < list->count; i++)
                all &= show_lesson(list->items[i], verbose);
            status = all && list->count > 0 ? 0 : 1;
        }
        json_free(report);
        free(text);
        free(path);
    }
    free(dir);
    return status;
}

int cmd_check(int argc, char **argv) {
    int verbose = 0;
    if (argc > 2) {
        if (strcmp(argv[2], "--verbose") != 0 && strcmp(argv[2], "-v") != 0) {
            lab_usage(argv[0]);
            return 2;
        }
        verbose = 1;
    }
    if (strcmp(argv[1], "all") == 0) {
        if (lessons_count() == 0) {
            lab_error("no lessons found in %s/lessons", lab_root());
            return 1;
        }
        return check_and_show(NULL, verbose);
    }
    struct lesson *l = lesson_find(argv[1]);
    return l ? check_and_show(l->name, verbose) : 1;
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

/* Sleep up to ms, waking for job output; returns early on Ctrl-C. */
static void nap(int ms, int fd) {
    struct pollfd fds[65];
    int n = 0;
    if (fd >= 0)
        fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
    int njobs = jobs_pollfds(fds + n, 64);
    if (poll(fds, (nfds_t)(n + njobs), ms) > 0)
        jobs_handle(fds + n, njobs);
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

int cmd_watch(int argc, char **argv) {
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
        check_and_show(l->name, 0);
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
