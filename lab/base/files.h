/*
 * files.h - whole files, folders, and where the lab's files are: the
 * checkout's top folder and the state folder.
 */
#ifndef LAB_BASE_FILES_H
#define LAB_BASE_FILES_H

#include <stddef.h>

/* Read a whole file (NUL-terminated); NULL with errno set. */
char *read_file(const char *path, size_t *len);
/* Write a file through a temporary and rename; 0 or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len);
int mkdir_p(const char *path);
int is_dir(const char *path);
int is_file(const char *path);

/* The checkout's top folder (LAB_ROOT, or found from the binary). */
const char *lab_root(void);
/* A path under the top folder (malloc'ed). */
char *root_path(const char *rel);
/* $XDG_STATE_HOME/socklab (or ~/.local/state/socklab), created. */
const char *lab_state_dir(void);

/* Free the cached paths (at exit, so valgrind sees nothing left). */
void files_cleanup(void);

#endif
