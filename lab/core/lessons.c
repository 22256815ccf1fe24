/*
 * lessons.c - the lesson model (see lessons.h).
 */
#include "core/lessons.h"

#include "base/files.h"
#include "base/mem.h"
#include "base/term.h"

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

static struct lesson *lessons;
static int nlessons = -1;

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct lesson *)a)->name,
                  ((const struct lesson *)b)->name);
}

/* Read lessons/ once: every folder named NN-slug is a lesson. */
static void discover(void) {
    if (nlessons >= 0)
        return;
    nlessons = 0;
    char *dir = root_path("lessons");
    DIR *d = opendir(dir);
    free(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (!isdigit((unsigned char)n[0]) || !isdigit((unsigned char)n[1]) ||
            n[2] != '-' || !n[3])
            continue;
        char *path = xprintf("%s/lessons/%s", lab_root(), n);
        int dir_ok = is_dir(path);
        free(path);
        if (!dir_ok)
            continue;
        lessons = xrealloc(lessons, (size_t)(nlessons + 1) * sizeof *lessons);
        struct lesson *l = &lessons[nlessons++];
        l->name = xstrdup(n);
        l->number = (n[0] - '0') * 10 + (n[1] - '0');
        l->slug = l->name + 3;
        l->steps = -1;
        l->step_names = NULL;
    }
    closedir(d);
    qsort(lessons, (size_t)nlessons, sizeof *lessons, by_name);
}

int lessons_count(void) {
    discover();
    return nlessons;
}

struct lesson *lesson_at(int i) {
    discover();
    return i >= 0 && i < nlessons ? &lessons[i] : NULL;
}

void lessons_free(void) {
    for (int i = 0; i < nlessons; i++) {
        for (int s = 0; s < lessons[i].steps; s++)
            free(lessons[i].step_names[s]);
        free(lessons[i].step_names);
        free(lessons[i].name);
    }
    free(lessons);
    lessons = NULL;
    nlessons = -1;
}

/* Does arg name lesson l exactly (number, NN, slug or NN-slug)? */
static int names(const struct lesson *l, const char *arg) {
    if (strcmp(arg, l->name) == 0 || strcmp(arg, l->slug) == 0)
        return 1;
    char *end;
    long n = strtol(arg, &end, 10);
    return *arg && isdigit((unsigned char)*arg) && *end == '\0' &&
           n == l->number;
}

struct lesson *lesson_find(const char *arg) {
    discover();
    if (nlessons == 0) {
        lab_error("no lessons found in %s/lessons",
                  lab_root() ? lab_root() : ".");
        return NULL;
    }
    for (int i = 0; i < nlessons; i++)
        if (names(&lessons[i], arg))
            return &lessons[i];
    /* A unique prefix of a slug will do: `check echo-t`. */
    struct lesson *found = NULL;
    int count = 0;
    size_t len = strlen(arg);
    for (int i = 0; i < nlessons; i++)
        if (len && strncmp(lessons[i].slug, arg, len) == 0) {
            found = &lessons[i];
            count++;
        }
    if (count == 1)
        return found;
    struct buf b = {0};
    for (int i = 0; i < nlessons; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", lessons[i].name);
    if (count > 1)
        lab_error("'%s' could be more than one lesson (there are: %s)", arg,
                  b.data);
    else
        lab_error("no lesson '%s' (there are: %s)", arg, b.data);
    free(b.data);
    return NULL;
}

/* Read the @test names of tests/NAME.bats: the lesson's steps. */
int lesson_steps(struct lesson *l) {
    if (l->steps >= 0)
        return l->steps;
    l->steps = 0;
    char *path = xprintf("%s/tests/%s.bats", lab_root(), l->name);
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return 0;
    char *save, *line;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "@test \"", 7) != 0)
            continue;
        char *start = line + 7, *end = strrchr(start, '"');
        if (!end || end == start)
            continue;
        l->step_names =
            xrealloc(l->step_names, (size_t)(l->steps + 1) * sizeof(char *));
        l->step_names[l->steps++] = xprintf("%.*s", (int)(end - start), start);
    }
    free(text);
    return l->steps;
}

/* ------------------------------------------------------------- completion */

static char *complete_names(const char *text, int state, int with_all) {
    static int index;
    static int phase;
    if (state == 0) {
        index = 0;
        phase = 0;
        discover();
    }
    size_t len = strlen(text);
    int digits = len > 0 && isdigit((unsigned char)text[0]);
    while (index < nlessons) {
        struct lesson *l = &lessons[index++];
        /* Digits complete to the full name (03 -> 03-echo-threads, and
           3 too); words to the slug (echo- -> echo-once echo-repeat). */
        if (digits || len == 0) {
            char *end;
            long n = strtol(text, &end, 10);
            if (strncmp(l->name, text, len) == 0)
                return xstrdup(l->name);
            if (*end == '\0' && n == l->number)
                return xstrdup(l->name);
        } else if (strncmp(l->slug, text, len) == 0) {
            return xstrdup(l->slug);
        }
    }
    if (with_all && phase++ == 0 && strncmp("all", text, len) == 0)
        return xstrdup("all");
    return NULL;
}

char *complete_lesson(const char *text, int state) {
    return complete_names(text, state, 0);
}

char *complete_lesson_or_all(const char *text, int state) {
    return complete_names(text, state, 1);
}

/* ---------------------------------------------------- instructor switches */

/* Is `feature off` (or "= off", "no", "0") in lab/lab.conf? */
static int conf_says_off(const char *feature) {
    char *path = root_path("lab/lab.conf");
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return 0;
    int off = 0;
    char *save, *line;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char key[64], value[64];
        for (char *c = line; *c; c++)
            if (*c == '=')
                *c = ' ';
            else if (*c == '#') {
                *c = '\0';
                break;
            }
        if (sscanf(line, "%63s %63s", key, value) == 2 &&
            strcasecmp(key, feature) == 0)
            off = strcasecmp(value, "off") == 0 ||
                  strcasecmp(value, "no") == 0 || strcmp(value, "0") == 0;
    }
    free(text);
    return off;
}

int lab_feature_off(const char *feature) {
    const char *env =
        strcmp(feature, "hints") == 0 ? "LAB_NO_HINTS" : "LAB_NO_SOLUTIONS";
    const char *v = getenv(env);
    if (v && *v && strcmp(v, "0") != 0)
        return 1;
    return conf_says_off(feature);
}

