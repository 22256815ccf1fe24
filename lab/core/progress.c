/*
 * progress.c - the student's progress, kept apart from their files in a
 * small versioned text file in the XDG state dir, one file per checkout:
 *
 *   $XDG_STATE_HOME/socklab/progress-<hash of the checkout's path>
 *
 *   # socklab progress (written by lab; see docs/lab.md)
 *   version 1
 *   checkout /home/ada/socklab
 *   lesson 01-echo-once 5/7 failing 2,6     the last check
 *   solved 01-echo-once 1732270000          passed every step (once is enough)
 *   hint 01-echo-once 2 1                   hints shown for step 2
 *   synced 1732270000123                    the `make check` report taken
 *
 * Lines it does not know (from a newer lab, or a hand edit) are kept as
 * they are; a file of another version is read for what this one knows and
 * written back with the higher version number, so an upgrade in either
 * direction loses nothing. Every change is load, change, write (through a
 * rename) under a lock, so two sessions in one checkout do not lose each
 * other's records.
 */
#include "core/progress.h"

#include "base/files.h"
#include "base/mem.h"
#include "base/term.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_VERSION 1

enum kind { UNKNOWN, RESULT, SOLVED, HINT, SYNCED };

/* One line of the file: a record this version knows, or kept raw. */
struct record {
    enum kind kind;
    char *raw; /* the line as read, written back when unchanged */
    char *lesson;
    int a, b;      /* RESULT passed/total, HINT step/level */
    char *failing; /* RESULT: "2,6" */
    long when;     /* SOLVED */
    int changed;
};

struct progress {
    int version;
    struct record *records;
    size_t count;
    int lock_fd;
};

static char *path_cache;

/* 64-bit FNV-1a of s: a stable name for a checkout's path. */
static uint64_t fnv1a(const char *s) {
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static char key_cache[17];

const char *lab_checkout_key(void) {
    if (!key_cache[0]) {
        const char *root = lab_root();
        snprintf(key_cache, sizeof key_cache, "%016llx",
                 (unsigned long long)fnv1a(root ? root : "."));
    }
    return key_cache;
}

const char *progress_path(void) {
    if (!path_cache)
        path_cache =
            xprintf("%s/progress-%s", lab_state_dir(), lab_checkout_key());
    return path_cache;
}

/* Parse one line into r (kind UNKNOWN when it is not one of ours). */
static void parse_line(struct record *r, char *line) {
    memset(r, 0, sizeof *r);
    r->raw = xstrdup(line);
    char name[256], failing[1024] = "";
    int a, b;
    long when;
    char extra;
    if (sscanf(line, "lesson %255s %d/%d failing %1023s %c", name, &a, &b,
               failing, &extra) == 4 ||
        sscanf(line, "lesson %255s %d/%d %c", name, &a, &b, &extra) == 3) {
        r->kind = RESULT;
        r->failing = failing[0] ? xstrdup(failing) : NULL;
    } else if (sscanf(line, "solved %255s %ld %c", name, &when, &extra) == 2) {
        r->kind = SOLVED;
        r->when = when;
    } else if (sscanf(line, "hint %255s %d %d %c", name, &a, &b, &extra) == 3) {
        r->kind = HINT;
    } else if (sscanf(line, "synced %ld %c", &when, &extra) == 1) {
        r->kind = SYNCED;
        r->when = when;
        r->lesson = xstrdup("-");
        return;
    } else {
        return;
    }
    r->lesson = xstrdup(name);
    r->a = a;
    r->b = b;
}

/* Load the file (locked when for_update); a missing file is empty. */
static void load(struct progress *p, int for_update) {
    memset(p, 0, sizeof *p);
    p->version = PROGRESS_VERSION;
    p->lock_fd = -1;
    if (for_update) {
        char *lock = xprintf("%s.lock", progress_path());
        p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        free(lock);
        if (p->lock_fd >= 0)
            while (flock(p->lock_fd, LOCK_EX) != 0 && errno == EINTR)
                ;
    }
    char *text = read_file(progress_path(), NULL);
    if (!text)
        return;
    char *save, *line;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int v;
        if (sscanf(line, "version %d", &v) == 1) {
            if (v > p->version)
                p->version = v;
            continue;
        }
        if (strncmp(line, "checkout ", 9) == 0 ||
            strncmp(line, "# socklab progress", 18) == 0)
            continue; /* rewritten on save */
        p->records = xrealloc(p->records, (p->count + 1) * sizeof *p->records);
        parse_line(&p->records[p->count++], line);
    }
    free(text);
}

static void release(struct progress *p) {
    for (size_t i = 0; i < p->count; i++) {
        free(p->records[i].raw);
        free(p->records[i].lesson);
        free(p->records[i].failing);
    }
    free(p->records);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
}

/* Write the file back and release it. */
static void save(struct progress *p) {
    struct buf b = {0};
    buf_printf(&b,
               "# socklab progress (written by lab; see docs/lab.md)\n"
               "version %d\ncheckout %s\n",
               p->version, lab_root() ? lab_root() : ".");
    for (size_t i = 0; i < p->count; i++) {
        struct record *r = &p->records[i];
        if (!r->changed) {
            if (r->raw)
                buf_printf(&b, "%s\n", r->raw);
        } else if (r->kind == RESULT) {
            buf_printf(&b, "lesson %s %d/%d", r->lesson, r->a, r->b);
            if (r->failing)
                buf_printf(&b, " failing %s", r->failing);
            buf_puts(&b, "\n");
        } else if (r->kind == SOLVED) {
            buf_printf(&b, "solved %s %ld\n", r->lesson, r->when);
        } else if (r->kind == HINT) {
            buf_printf(&b, "hint %s %d %d\n", r->lesson, r->a, r->b);
        } else if (r->kind == SYNCED) {
            buf_printf(&b, "synced %ld\n", r->when);
        }
    }
    if (write_file_atomic(progress_path(), b.data, b.len) != 0)
        lab_error("cannot save your progress in %s: %s", progress_path(),
                  strerror(errno));
    free(b.data);
    release(p);
}

/* The record of kind for lesson (and step, for hints), or NULL. */
static struct record *find(struct progress *p, enum kind kind,
                           const char *lesson, int step) {
    for (size_t i = 0; i < p->count; i++) {
        struct record *r = &p->records[i];
        if (r->kind == kind && strcmp(r->lesson, lesson) == 0 &&
            (kind != HINT || r->a == step))
            return r;
    }
    return NULL;
}

/* The record of kind for lesson, made when missing, marked changed. */
static struct record *upsert(struct progress *p, enum kind kind,
                             const char *lesson, int step) {
    struct record *r = find(p, kind, lesson, step);
    if (!r) {
        p->records = xrealloc(p->records, (p->count + 1) * sizeof *p->records);
        r = &p->records[p->count++];
        memset(r, 0, sizeof *r);
        r->kind = kind;
        r->lesson = xstrdup(lesson);
        r->a = step;
    }
    r->changed = 1;
    return r;
}

int lesson_passed(int passed, int total) {
    return total > 0 && passed == total;
}

int progress_passed(const struct progress_result *r) {
    return r->known && lesson_passed(r->passed, r->total);
}

void progress_get(const char *lesson, struct progress_result *out) {
    struct progress p;
    load(&p, 0);
    memset(out, 0, sizeof *out);
    struct record *r = find(&p, RESULT, lesson, 0);
    if (r) {
        out->known = 1;
        out->passed = r->a;
        out->total = r->b;
        out->first_failing = r->failing ? atoi(r->failing) : 0;
    }
    out->solved = find(&p, SOLVED, lesson, 0) != NULL;
    release(&p);
}

void progress_record(const char *lesson, int passed, int total,
                     const int *failing, int nfailing) {
    struct progress p;
    load(&p, 1);
    struct record *r = upsert(&p, RESULT, lesson, 0);
    r->a = passed;
    r->b = total;
    free(r->failing);
    r->failing = NULL;
    if (nfailing > 0) {
        struct buf b = {0};
        for (int i = 0; i < nfailing; i++)
            buf_printf(&b, "%s%d", i ? "," : "", failing[i]);
        r->failing = b.data;
    }
    if (lesson_passed(passed, total) && !find(&p, SOLVED, lesson, 0))
        upsert(&p, SOLVED, lesson, 0)->when = (long)time(NULL);
    save(&p);
}

void progress_forget(const char *lesson) {
    struct progress p;
    load(&p, 1);
    struct record *r = find(&p, RESULT, lesson, 0);
    if (r) {
        /* An UNKNOWN record with no raw line is written as nothing. */
        r->kind = UNKNOWN;
        free(r->raw);
        r->raw = NULL;
        r->changed = 0;
    }
    save(&p);
}

int progress_hint_level(const char *lesson, int step) {
    struct progress p;
    load(&p, 0);
    struct record *r = find(&p, HINT, lesson, step);
    int level = r ? r->b : 0;
    release(&p);
    return level;
}

void progress_set_hint_level(const char *lesson, int step, int level) {
    struct progress p;
    load(&p, 1);
    upsert(&p, HINT, lesson, step)->b = level;
    save(&p);
}

long progress_synced(void) {
    struct progress p;
    load(&p, 0);
    struct record *r = find(&p, SYNCED, "-", 0);
    long when = r ? r->when : 0;
    release(&p);
    return when;
}

void progress_set_synced(long stamp) {
    struct progress p;
    load(&p, 1);
    upsert(&p, SYNCED, "-", 0)->when = stamp;
    save(&p);
}

void progress_cleanup(void) {
    free(path_cache);
    path_cache = NULL;
}
