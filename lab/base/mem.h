/*
 * mem.h - memory that never fails (the lab ends on out of memory) and a
 * growing string.
 */
#ifndef LAB_BASE_MEM_H
#define LAB_BASE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growing string. */
struct buf {
    char *data;
    size_t len, cap;
};
void buf_add(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
