/*
 * files.c - whole files, folders and the lab's paths (see files.h).
 */
#include "base/files.h"

#include "base/mem.h"
#include "base/term.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- files */

/* Read a whole file; returns it NUL-terminated, or NULL with errno. */
char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    ssize_t n;
    buf_add(&b, "", 0);
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            free(b.data);
            errno = saved;
            return NULL;
        }
        buf_add(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len)
        *len = b.len;
    return b.data;
}

/* Write all n bytes to fd; 0 or -1. */
static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write path through PATH.tmp-PID and a rename, so a reader never sees
   half a file; returns 0, or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len) {
    char *tmp = xprintf("%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) == 0) {
        free(tmp);
        return 0;
    }
    if (ok)
        saved = errno;
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

/* mkdir -p; returns 0 or -1 with errno. */
int mkdir_p(const char *path) {
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---------------------------------------------------------------- paths */

/* Is dir the top of a checkout (it has lessons/ and a Makefile)? */
static int is_checkout(const char *dir) {
    char *lessons = xprintf("%s/lessons", dir);
    char *make = xprintf("%s/Makefile", dir);
    int yes = is_dir(lessons) && is_file(make);
    free(lessons);
    free(make);
    return yes;
}

/* Walk up from dir (modified in place) to a checkout; 1 when found. */
static int find_checkout_above(char *dir) {
    for (;;) {
        if (is_checkout(dir))
            return 1;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return 0;
        *slash = '\0';
    }
}

static char *root_cache;

/* The checkout's top folder: $LAB_ROOT, else the first checkout above
   the binary (build/lab/lab), else above the current folder. */
const char *lab_root(void) {
    if (root_cache)
        return root_cache;
    char path[PATH_MAX];
    const char *env = getenv("LAB_ROOT");
    if (env && *env && realpath(env, path) && is_checkout(path))
        return root_cache = xstrdup(path);
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        if (find_checkout_above(path))
            return root_cache = xstrdup(path);
    }
    if (getcwd(path, sizeof path) && find_checkout_above(path))
        return root_cache = xstrdup(path);
    return NULL;
}

char *root_path(const char *rel) {
    const char *root = lab_root();
    return xprintf("%s/%s", root ? root : ".", rel);
}

static char *state_cache;

/* $XDG_STATE_HOME/socklab, or ~/.local/state/socklab; created on first
   use. A relative XDG_STATE_HOME is ignored, as the spec says. */
const char *lab_state_dir(void) {
    if (state_cache)
        return state_cache;
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        state_cache = xprintf("%s/socklab", xdg);
    else
        state_cache =
            xprintf("%s/.local/state/socklab", home && *home ? home : "/tmp");
    if (mkdir_p(state_cache) != 0)
        lab_error("cannot create %s: %s", state_cache, strerror(errno));
    return state_cache;
}

void files_cleanup(void) {
    free(root_cache);
    free(state_cache);
    root_cache = state_cache = NULL;
}

