/*
 * cmd/lessons.c - the lesson commands as the student sees them: list,
 * show, hint, solution and reset.
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/mem.h"
#include "base/prompt.h"
#include "base/term.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/progress.h"
#include "core/registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- paging */

static int terminal_rows(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return ws.ws_row;
    return 24;
}

/* The terminal's width in columns, 80 when stdout is not a terminal;
   at most 100, so long lines stay readable on a wide screen. */
static int terminal_columns(void) {
    struct winsize ws;
    int cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        cols = ws.ws_col;
    return cols > 100 ? 100 : cols < 40 ? 40 : cols;
}

/* Print text wrapped at spaces to the terminal's width: the first line
   after first (already visible width used), the rest indented by indent. */
static void print_wrapped(const char *text, int first, int indent) {
    int width = terminal_columns(), col = first;
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > indent && col + 1 + (int)word > width) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > first || (col > indent && p != text)) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)word, p);
        col += (int)word;
        p += word;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}

/* Is prog an executable in PATH? */
static int in_path(const char *prog) {
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char *copy = xstrdup(path), *save, *dir;
    int found = 0;
    for (dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char *full = xprintf("%s/%s", dir, prog);
        found = access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

static void lab_page(const char *text, size_t len) {
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    const char *pager = getenv("PAGER");
    if (!isatty(STDOUT_FILENO) || lines < terminal_rows() - 1 ||
        (pager && (!*pager || strcmp(pager, "cat") == 0)) ||
        (!pager && !in_path("less"))) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        return;
    }
    /* $PAGER is split at blanks (no shell); less shows colours with -R. */
    char *words = xstrdup(pager ? pager : "less -R");
    char *argv[16];
    int argc = 0;
    char *save;
    for (char *w = strtok_r(words, " \t", &save); w && argc < 15;
         w = strtok_r(NULL, " \t", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    if (!getenv("LESS"))
        setenv("LESS", "FRX", 0);
    int p[2];
    if (argc == 0 || pipe(p) != 0) {
        fwrite(text, 1, len, stdout);
        free(words);
        return;
    }
    /* Close-on-exec, or the pager would hold its own pipe open and never
       see the end of the text. */
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    struct spawn how = {p[0], -1, -1, 0, 0, 0};
    pid_t pid = spawn_process(argv, &how);
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        fwrite(text, 1, len, stdout);
        free(words);
        return;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(p[1], text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the reader quit early (EPIPE): fine */
        off += (size_t)n;
    }
    close(p[1]);
    wait_child(pid, -1, 0, NULL);
    free(words);
}

/* ------------------------------------------------ markdown for a terminal */

/* Append line with `code` in cyan and **bold** in bold. */
static void inline_marks(struct buf *b, const char *line, const char *base) {
    int code = 0, bold = 0;
    for (const char *c = line; *c; c++) {
        if (*c == '`') {
            code = !code;
            buf_printf(b, "%s%s", code ? C_CYAN : C_OFF, code ? "" : base);
        } else if (c[0] == '*' && c[1] == '*' && !code) {
            bold = !bold;
            buf_printf(b, "%s%s", bold ? C_BOLD : C_OFF, bold ? "" : base);
            c++;
        } else {
            buf_add(b, c, 1);
        }
    }
}

/* Render a lesson README for a colour terminal: headings stand out, code
   and diagrams are set apart. Without colour the text is left as is. */
static char *render_markdown(const char *text) {
    struct buf b = {0};
    buf_add(&b, "", 0);
    if (!lab_colour) {
        buf_puts(&b, text);
        return b.data;
    }
    char *copy = xstrdup(text);
    int fence = 0;
    char *line = copy;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "```", 3) == 0) {
            fence = !fence;
            buf_printf(&b, "%s%s%s\n", C_DIM, line, C_OFF);
        } else if (fence) {
            buf_printf(&b, "%s%s%s\n", C_YELLOW, line, C_OFF);
        } else if (line[0] == '#') {
            const char *style = line[1] == '#' ? C_CYAN : C_BOLD;
            buf_printf(&b, "%s%s%s", C_BOLD, style, "");
            inline_marks(&b, line, style);
            buf_printf(&b, "%s\n", C_OFF);
        } else {
            inline_marks(&b, line, "");
            buf_printf(&b, "%s\n", C_OFF);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    return b.data;
}

/* ---------------------------------------------------------------- list */

/* The progress bar: width cells, done of total filled. */
static void print_bar(int done, int total, int width) {
    int filled = total > 0 ? done * width / total : 0;
    fputs(C_GREEN, stdout);
    for (int i = 0; i < filled; i++)
        fputs(lab_utf8 ? "\u2588" : "#", stdout);
    fputs(C_DIM, stdout);
    for (int i = filled; i < width; i++)
        fputs(lab_utf8 ? "\u2591" : ".", stdout);
    fputs(C_OFF, stdout);
}

static int cmd_list(int argc, char **argv) {
    check_sync_make_report(); /* a `make check` counts as a check */
    (void)argc;
    (void)argv;
    int n = lessons_count();
    if (n == 0) {
        lab_error("no lessons found in %s/lessons",
                  lab_root() ? lab_root() : ".");
        return 1;
    }
    int steps_done = 0, steps_all = 0, lessons_done = 0;
    struct lesson *next = NULL;
    printf("%slessons%s\n", C_BOLD, C_OFF);
    for (int i = 0; i < n; i++) {
        struct lesson *l = lesson_at(i);
        struct progress_result r;
        progress_get(l->name, &r);
        int total = lesson_steps(l);
        char state[64];
        const char *colour;
        if (progress_passed(&r)) {
            snprintf(state, sizeof state, "%s passed",
                     lab_utf8 ? "\u2713" : "");
            colour = C_GREEN;
            lessons_done++;
        } else if (r.known) {
            snprintf(state, sizeof state, "%d of %d steps%s", r.passed, r.total,
                     r.solved ? " (passed before)" : "");
            colour = C_YELLOW;
        } else {
            snprintf(state, sizeof state, "%s",
                     r.solved ? "reset (passed before)" : "not started");
            colour = C_DIM;
        }
        int passed_now = progress_passed(&r);
        if (!passed_now && !next)
            next = l;
        steps_done += r.known ? (r.passed < total ? r.passed : total) : 0;
        steps_all += total;
        const char *shown = state[0] == ' ' ? state + 1 : state;
        if (next == l)
            printf("  %02d  %-20s %s%-26s%s %s\n", l->number, l->slug, colour,
                   shown, C_OFF, lab_utf8 ? "\u2190 next" : "<- next");
        else
            printf("  %02d  %-20s %s%s%s\n", l->number, l->slug, colour, shown,
                   C_OFF);
    }
    printf("\n%sprogress%s  ", C_BOLD, C_OFF);
    print_bar(steps_done, steps_all, 30);
    printf("  %d of %d steps, %d of %d lessons passed\n", steps_done, steps_all,
           lessons_done, n);
    if (next)
        printf("next: %s%s%s: `show %02d` to read it, `check %02d` to test "
               "it\n",
               C_BOLD, next->name, C_OFF, next->number, next->number);
    else
        printf("%severy lesson passed. Well done!%s\n", C_GREEN, C_OFF);
    return 0;
}

/* ---------------------------------------------------------------- show */

static int cmd_show(int argc, char **argv) {
    (void)argc;
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    char *path = xprintf("%s/lessons/%s/README.md", lab_root(), l->name);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        lab_error("cannot read lessons/%s/README.md: %s", l->name,
                  strerror(errno));
        free(path);
        return 1;
    }
    char *shown = render_markdown(text);
    lab_page(shown, strlen(shown));
    free(shown);
    free(text);
    free(path);
    return 0;
}

/* ---------------------------------------------------------------- hints */

/* The hint ladder of one step. */
struct ladder {
    int step;
    int count;
    char **hints;
};

/* Parse lessons/NAME/hints.md: "## step N" then "1. hint" lines (a line
   that follows a hint without a number continues it). */
static int read_hints(const struct lesson *l, struct ladder **out) {
    char *path = xprintf("%s/lessons/%s/hints.md", lab_root(), l->name);
    char *text = read_file(path, NULL);
    free(path);
    *out = NULL;
    if (!text)
        return -1;
    int n = 0;
    struct ladder *ladders = NULL, *cur = NULL;
    int continuing = 0;
    char *save, *line;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int step;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (s[0] == '#') {
            continuing = 0;
            while (*s == '#')
                s++;
            if (sscanf(s, " %*[sS]%*[tT]%*[eE]%*[pP] %d", &step) == 1) {
                ladders = xrealloc(ladders, (size_t)(n + 1) * sizeof *ladders);
                cur = &ladders[n++];
                *cur = (struct ladder){step, 0, NULL};
            } else {
                cur = NULL;
            }
            continue;
        }
        if (!cur)
            continue;
        char *dot = s;
        while (isdigit((unsigned char)*dot))
            dot++;
        if (dot > s && *dot == '.' && (dot[1] == ' ' || dot[1] == '\t')) {
            dot++;
            while (*dot == ' ' || *dot == '\t')
                dot++;
            cur->hints =
                xrealloc(cur->hints, (size_t)(cur->count + 1) * sizeof(char *));
            cur->hints[cur->count++] = xstrdup(dot);
            continuing = 1;
        } else if (continuing && *s && cur->count > 0) {
            char **last = &cur->hints[cur->count - 1];
            char *joined = xprintf("%s %s", *last, s);
            free(*last);
            *last = joined;
        }
    }
    free(text);
    *out = ladders;
    return n;
}

static void free_hints(struct ladder *ladders, int n) {
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < ladders[i].count; k++)
            free(ladders[i].hints[k]);
        free(ladders[i].hints);
    }
    free(ladders);
}

/* Parse a step number in 1..max; 0 (after an error) when it is not. */
static int parse_step(const struct lesson *l, const char *arg, int max) {
    char *end;
    long n = strtol(arg, &end, 10);
    if (*end || end == arg || n < 1 || n > max) {
        lab_error("no step '%s' in %s (its steps are 1-%d)", arg, l->name, max);
        return 0;
    }
    return (int)n;
}

/* Print the ladder up to level, the newest rung bold. */
static void print_ladder(const struct lesson *l, const struct ladder *ladder,
                         int level) {
    struct lesson *mut = (struct lesson *)l;
    int steps = lesson_steps(mut);
    if (ladder->step <= steps)
        printf("%s%s, %s%s\n", C_BOLD, l->name, l->step_names[ladder->step - 1],
               C_OFF);
    else
        printf("%s%s, step %d%s\n", C_BOLD, l->name, ladder->step, C_OFF);
    for (int i = 0; i < level; i++) {
        int used = printf("  %s%d. ", i + 1 == level ? "" : C_DIM, i + 1) -
                   (int)strlen(i + 1 == level ? "" : C_DIM);
        print_wrapped(ladder->hints[i], used, used);
        fputs(C_OFF, stdout);
    }
    if (level < ladder->count)
        printf("%s(hint %d of %d: `hint %02d %d` again for a more specific "
               "one)%s\n",
               C_DIM, level, ladder->count, l->number, ladder->step, C_OFF);
    else
        printf("%s(that was the last hint for step %d: reread step %d of "
               "the lesson with `show %02d`)%s\n",
               C_DIM, ladder->step, ladder->step, l->number, C_OFF);
}

static int cmd_hint(int argc, char **argv) {
    check_sync_make_report(); /* a `make check` counts as a check */
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    if (lab_feature_off("hints")) {
        lab_error("hints are turned off in this lab (your instructor's "
                  "choice)");
        return 1;
    }
    struct ladder *ladders;
    int n = read_hints(l, &ladders);
    if (n <= 0) {
        lab_error("lesson %s has no hints (lessons/%s/hints.md)", l->name,
                  l->name);
        free_hints(ladders, n);
        return 1;
    }
    int max = lesson_steps(l);
    for (int i = 0; i < n; i++)
        if (ladders[i].step > max)
            max = ladders[i].step;
    int step;
    if (argc > 2) {
        if (!(step = parse_step(l, argv[2], max))) {
            free_hints(ladders, n);
            return 2;
        }
    } else {
        struct progress_result r;
        progress_get(l->name, &r);
        if (progress_passed(&r)) {
            printf("you passed %s: every step is green. For the hints of "
                   "one step: hint %02d STEP\n",
                   l->name, l->number);
            free_hints(ladders, n);
            return 0;
        }
        step = r.known && r.first_failing > 0 ? r.first_failing : 1;
    }
    struct ladder *ladder = NULL;
    for (int i = 0; i < n; i++)
        if (ladders[i].step == step && ladders[i].count > 0)
            ladder = &ladders[i];
    if (!ladder) {
        lab_error("lesson %s has no hints for step %d", l->name, step);
        free_hints(ladders, n);
        return 1;
    }
    int level = progress_hint_level(l->name, step) + 1;
    if (level > ladder->count)
        level = ladder->count;
    progress_set_hint_level(l->name, step, level);
    print_ladder(l, ladder, level);
    free_hints(ladders, n);
    return 0;
}

/* ---------------------------------------------------------------- solution */

static int cmd_solution(int argc, char **argv) {
    check_sync_make_report(); /* a `make check` counts as a check */
    (void)argc;
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    if (lab_feature_off("solutions")) {
        lab_error("solutions are turned off in this lab (your instructor's "
                  "choice)");
        return 1;
    }
    struct progress_result r;
    progress_get(l->name, &r);
    if (!r.solved) {
        if (r.known)
            lab_error("the solution opens once you pass %s (your last check: "
                      "%d of %d steps). `hint %02d` helps with step %d.",
                      l->name, r.passed, r.total, l->number,
                      r.first_failing ? r.first_failing : 1);
        else
            lab_error("the solution opens once you pass %s: solve it, then "
                      "`check %02d`",
                      l->name, l->number);
        return 1;
    }
    char *dir = xprintf("%s/solutions/%s", lab_root(), l->name);
    DIR *d = opendir(dir);
    if (!d) {
        lab_error("this checkout has no reference solution of %s", l->name);
        free(dir);
        return 1;
    }
    char **files = NULL;
    int nfiles = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len > 2 &&
            (strcmp(e->d_name + len - 2, ".c") == 0 ||
             strcmp(e->d_name + len - 2, ".h") == 0)) {
            files = xrealloc(files, (size_t)(nfiles + 1) * sizeof *files);
            files[nfiles++] = xstrdup(e->d_name);
        }
    }
    closedir(d);
    /* server before client: the order a lesson reads in. */
    for (int i = 0; i < nfiles; i++)
        for (int k = i + 1; k < nfiles; k++)
            if (strcmp(files[k], files[i]) > 0) {
                char *t = files[i];
                files[i] = files[k];
                files[k] = t;
            }
    struct buf b = {0};
    buf_add(&b, "", 0);
    for (int i = 0; i < nfiles; i++) {
        char *path = xprintf("%s/%s", dir, files[i]);
        char *text = read_file(path, NULL);
        buf_printf(&b, "%s==> solutions/%s/%s <==%s\n%s\n", C_BOLD, l->name,
                   files[i], C_OFF, text ? text : "(unreadable)");
        free(text);
        free(path);
        free(files[i]);
    }
    free(files);
    free(dir);
    lab_page(b.data, b.len);
    free(b.data);
    return 0;
}

/* ---------------------------------------------------------------- reset */

/* The git revision that holds the pristine skeletons: LAB_SKELETON_REV,
   else the upstream branch, else HEAD. NULL when there is no git. */
static char *skeleton_rev(void) {
    const char *candidates[] = {getenv("LAB_SKELETON_REV"), "@{upstream}",
                                "HEAD"};
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        char *spec = xprintf("%s^{commit}", candidates[i]);
        char *argv[] = {"git",       "-C",       (char *)lab_root(),
                        "rev-parse", "--verify", "--quiet",
                        spec,        NULL};
        char *out;
        int rc = capture(argv, &out, NULL, 0, 10);
        free(spec);
        if (rc == 0 && out[0]) {
            out[strcspn(out, "\n")] = '\0';
            return out;
        }
        free(out);
    }
    return NULL;
}

/* The folder of the copy of lesson l that lab made when it first saw it
   (malloc'ed). */
static char *snapshot_dir(const struct lesson *l) {
    return xprintf("%s/skeletons/%s/%s", lab_state_dir(), lab_checkout_key(),
                   l->name);
}

/* Copy the regular files of folder from into folder to (made); 0 or -1. */
static int copy_files(const char *from, const char *to) {
    DIR *d = opendir(from);
    if (!d || mkdir_p(to) != 0) {
        if (d)
            closedir(d);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *src = xprintf("%s/%s", from, e->d_name);
        if (is_file(src)) {
            size_t len;
            char *data = read_file(src, &len);
            char *dest = xprintf("%s/%s", to, e->d_name);
            if (!data || write_file_atomic(dest, data, len) != 0)
                rc = -1;
            free(dest);
            free(data);
        }
        free(src);
    }
    closedir(d);
    return rc;
}

void lessons_snapshot(void) {
    char *git = root_path(".git");
    int has_git = is_dir(git) || is_file(git);
    free(git);
    if (has_git)
        return; /* git holds the skeletons */
    for (int i = 0; i < lessons_count(); i++) {
        struct lesson *l = lesson_at(i);
        char *dir = snapshot_dir(l);
        if (!is_dir(dir)) {
            char *src = xprintf("%s/lessons/%s", lab_root(), l->name);
            char *tmp = xprintf("%s.tmp-%ld", dir, (long)getpid());
            /* Through a rename: a half copy is never taken for one. */
            if (copy_files(src, tmp) == 0)
                rename(tmp, dir);
            free(src);
            free(tmp);
        }
        free(dir);
    }
}

/* A skeleton file: its path under the top folder and content. */
struct skel_file {
    char *path;
    char *data;
    size_t len;
    int differs;
};

/* Read the skeleton files of lesson l from git revision rev. */
static int read_skeleton(const struct lesson *l, const char *rev,
                         struct skel_file **out) {
    char *dir = xprintf("lessons/%s/", l->name);
    char *argv[] = {"git",         "-C", (char *)lab_root(), "ls-tree", "-r",
                    "--name-only", "-z", (char *)rev,        "--",      dir,
                    NULL};
    char *list;
    size_t len;
    int n = 0;
    *out = NULL;
    if (capture(argv, &list, &len, 0, 10) == 0) {
        for (size_t off = 0; off < len; off += strlen(list + off) + 1) {
            if (!list[off])
                continue;
            char *spec = xprintf("%s:%s", rev, list + off);
            char *show[] = {"git",  "-C", (char *)lab_root(),
                            "show", spec, NULL};
            struct skel_file f = {xstrdup(list + off), NULL, 0, 0};
            if (capture(show, &f.data, &f.len, 0, 10) != 0) {
                free(f.data);
                free(f.path);
                free(spec);
                continue;
            }
            free(spec);
            *out = xrealloc(*out, (size_t)(n + 1) * sizeof **out);
            (*out)[n++] = f;
        }
    }
    free(list);
    free(dir);
    return n;
}

/* Copy every file of lessons/NAME into a new backup folder; returns its
   path, or NULL after an error. */
static char *backup_lesson(const struct lesson *l) {
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
    char *dest = NULL;
    for (int i = 1; i < 100; i++) {
        free(dest);
        dest = i == 1 ? xprintf("%s/backups/%s-%s", lab_state_dir(), l->name,
                                stamp)
                      : xprintf("%s/backups/%s-%s-%d", lab_state_dir(), l->name,
                                stamp, i);
        if (!is_dir(dest))
            break;
    }
    char *src = xprintf("%s/lessons/%s", lab_root(), l->name);
    DIR *d = opendir(src);
    int ok = d && mkdir_p(dest) == 0;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        char *from = xprintf("%s/%s", src, e->d_name);
        if (is_file(from)) {
            size_t len;
            char *data = read_file(from, &len);
            char *to = xprintf("%s/%s", dest, e->d_name);
            ok = data && write_file_atomic(to, data, len) == 0;
            free(to);
            free(data);
        }
        free(from);
    }
    if (!ok)
        lab_error("cannot back up lessons/%s to %s: %s", l->name, dest,
                  strerror(errno));
    if (d)
        closedir(d);
    free(src);
    if (!ok) {
        free(dest);
        return NULL;
    }
    return dest;
}

/* Read the skeleton files of lesson l from the lab's first-sight copy. */
static int read_snapshot(const struct lesson *l, struct skel_file **out) {
    char *dir = snapshot_dir(l);
    DIR *d = opendir(dir);
    int n = 0;
    *out = NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *path = xprintf("%s/%s", dir, e->d_name);
        struct skel_file f = {NULL, NULL, 0, 0};
        if (is_file(path) && (f.data = read_file(path, &f.len))) {
            f.path = xprintf("lessons/%s/%s", l->name, e->d_name);
            *out = xrealloc(*out, (size_t)(n + 1) * sizeof **out);
            (*out)[n++] = f;
        }
        free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    return n;
}

static int cmd_reset(int argc, char **argv) {
    (void)argc;
    int yes = lab_opt("--yes");
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    /* The skeleton: from git, else the copy lab made at first sight. */
    char *rev = skeleton_rev();
    struct skel_file *files = NULL;
    int n = rev ? read_skeleton(l, rev, &files) : 0;
    if (n == 0)
        n = read_snapshot(l, &files);
    int status = 1;
    if (n == 0) {
        if (rev)
            lab_error("cannot reset: git has no skeleton of lessons/%s",
                      l->name);
        else
            lab_error("cannot reset: %s is not a git checkout and the lab "
                      "kept no copy of lessons/%s",
                      lab_root(), l->name);
        goto done;
    }
    struct buf changed = {0};
    buf_add(&changed, "", 0);
    int ndiff = 0;
    for (int i = 0; i < n; i++) {
        char *full = xprintf("%s/%s", lab_root(), files[i].path);
        size_t len;
        char *now = read_file(full, &len);
        files[i].differs =
            !now || len != files[i].len || memcmp(now, files[i].data, len) != 0;
        if (files[i].differs)
            buf_printf(&changed, "%s%s", ndiff++ ? ", " : "",
                       strrchr(files[i].path, '/') + 1);
        free(now);
        free(full);
    }
    if (ndiff == 0) {
        printf("lessons/%s already is the skeleton: nothing to reset\n",
               l->name);
        free(changed.data);
        status = 0;
        goto done;
    }
    if (!yes) {
        char *q = xprintf("Put the skeleton back in lessons/%s (%s)? Your "
                          "files are backed up first. [y/N] ",
                          l->name, changed.data);
        int answer = lab_ask(q);
        free(q);
        if (!answer) {
            printf("not reset: your files are as they were\n");
            free(changed.data);
            goto done;
        }
    }
    char *backup = backup_lesson(l);
    if (!backup) {
        free(changed.data);
        goto done;
    }
    status = 0;
    for (int i = 0; i < n; i++) {
        if (!files[i].differs)
            continue;
        char *full = xprintf("%s/%s", lab_root(), files[i].path);
        char *slash = strrchr(full, '/');
        *slash = '\0';
        mkdir_p(full);
        *slash = '/';
        if (write_file_atomic(full, files[i].data, files[i].len) != 0) {
            lab_error("cannot write %s: %s", files[i].path, strerror(errno));
            status = 1;
        }
        free(full);
    }
    progress_forget(l->name);
    printf("reset lessons/%s: %s %s the skeleton again\n", l->name,
           changed.data, ndiff > 1 ? "are" : "is");
    printf("your files are in %s\n", backup);
    free(backup);
    free(changed.data);
done:
    for (int i = 0; i < n; i++) {
        free(files[i].path);
        free(files[i].data);
    }
    free(files);
    free(rev);
    return status;
}

/* ---------------------------------------------------------------- the table */

#define LESSONS "Lessons"

static const struct lab_command rows[] = {
    {"list", "", cmd_list, "every lesson, its state, your progress", NULL,
     LESSONS,
     "Shows each lesson as passed, N of M steps (from your last check) or\n"
     "not started, marks the next one to do, and draws your overall progress.\n"
     "Progress is kept outside your files, in $XDG_STATE_HOME/socklab."},
    {"show", "N", cmd_show, "read lesson N (paged when it is long)", NULL,
     LESSONS,
     "N is a lesson number or name: 1, 01, echo-once or 01-echo-once.\n"
     "Tab completes it."},
    {"hint", "N [STEP]", cmd_hint,
     "the next hint (default: first failing step)", NULL, LESSONS,
     "Hints come as a ladder: each `hint` for the same step shows one more,\n"
     "more specific than the last, with the ones you have seen above it.\n"
     "Without STEP it picks the first step your last check failed."},
    {"reset", "N [--yes]", cmd_reset,
     "put the skeleton back (asks; keeps a backup)", NULL, LESSONS,
     "Restores the files of lessons/NN-slug/ from git (the upstream branch,\n"
     "or HEAD). Your files are first copied to\n"
     "$XDG_STATE_HOME/socklab/backups/NN-slug-DATE/. --yes skips the "
     "question."},
    {"solution", "N", cmd_solution, "the reference, once you have passed N",
     NULL, LESSONS, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void lessons_register(void) {
    lab_register(rows);
}
