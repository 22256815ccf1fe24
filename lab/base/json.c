/*
 * json.c - a small JSON reader (see json.h).
 */
#include "base/json.h"

#include "base/mem.h"

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

/* ---------------------------------------------------------------- JSON */

/* A recursive-descent reader for the JSON the grader writes: objects,
   arrays, strings (with \u escapes), numbers, true, false, null. */
struct json_reader {
    const char *p;
    int depth;
};

static void skip_space(struct json_reader *r) {
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static struct json *json_value(struct json_reader *r);

/* Append code point c to b as UTF-8. */
static void put_utf8(struct buf *b, unsigned c) {
    char s[4];
    size_t n;
    if (c < 0x80) {
        s[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        s[0] = (char)(0xC0 | (c >> 6));
        s[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        s[0] = (char)(0xE0 | (c >> 12));
        s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | (c >> 18));
        s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        s[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    buf_add(b, s, n);
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Read a string at r->p (after the opening quote); NULL when bad. */
static char *json_string(struct json_reader *r) {
    struct buf b = {0};
    buf_add(&b, "", 0);
    for (;;) {
        char c = *r->p++;
        if (c == '"')
            return b.data;
        if (c == '\0')
            break;
        if (c != '\\') {
            buf_add(&b, &c, 1);
            continue;
        }
        c = *r->p++;
        const char *plain = strchr("\"\\/bfnrt", c);
        if (c && plain) {
            char out = "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"];
            buf_add(&b, &out, 1);
        } else if (c == 'u') {
            unsigned u;
            if (hex4(r->p, &u) != 0)
                break;
            r->p += 4;
            if (u >= 0xD800 && u < 0xDC00 && r->p[0] == '\\' &&
                r->p[1] == 'u') {
                unsigned lo;
                if (hex4(r->p + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                }
            }
            put_utf8(&b, u);
        } else {
            break;
        }
    }
    free(b.data);
    return NULL;
}

static struct json *json_new(enum json_type type) {
    struct json *j = xmalloc(sizeof *j);
    memset(j, 0, sizeof *j);
    j->type = type;
    return j;
}

/* Read the items of an array or object (after its opening bracket). */
static struct json *json_container(struct json_reader *r, int object) {
    struct json *j = json_new(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';
    skip_space(r);
    if (*r->p == close) {
        r->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_space(r);
        if (object) {
            if (*r->p != '"')
                goto bad;
            r->p++;
            if (!(key = json_string(r)))
                goto bad;
            skip_space(r);
            if (*r->p++ != ':') {
                free(key);
                goto bad;
            }
        }
        struct json *v = json_value(r);
        if (!v) {
            free(key);
            goto bad;
        }
        j->items = xrealloc(j->items, (j->count + 1) * sizeof *j->items);
        j->items[j->count] = v;
        if (object) {
            j->keys = xrealloc(j->keys, (j->count + 1) * sizeof *j->keys);
            j->keys[j->count] = key;
        }
        j->count++;
        skip_space(r);
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p++ == close)
            return j;
        goto bad;
    }
bad:
    json_free(j);
    return NULL;
}

static struct json *json_value(struct json_reader *r) {
    skip_space(r);
    if (++r->depth > 64)
        return NULL;
    struct json *j = NULL;
    const char *p = r->p;
    if (*p == '{' || *p == '[') {
        r->p++;
        j = json_container(r, *p == '{');
    } else if (*p == '"') {
        r->p++;
        char *s = json_string(r);
        if (s) {
            j = json_new(JSON_STRING);
            j->string = s;
        }
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        j = json_new(JSON_BOOL);
        j->number = *p == 't';
        r->p += *p == 't' ? 4 : 5;
    } else if (strncmp(p, "null", 4) == 0) {
        j = json_new(JSON_NULL);
        r->p += 4;
    } else if (*p == '-' || isdigit((unsigned char)*p)) {
        char *end;
        double v = strtod(p, &end);
        if (end != p) {
            j = json_new(JSON_NUMBER);
            j->number = v;
            r->p = end;
        }
    }
    r->depth--;
    return j;
}

struct json *json_parse(const char *text) {
    struct json_reader r = {text, 0};
    struct json *j = json_value(&r);
    skip_space(&r);
    if (j && *r.p != '\0') {
        json_free(j);
        return NULL;
    }
    return j;
}

void json_free(struct json *j) {
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++) {
        json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->string);
    free(j);
}

const struct json *json_get(const struct json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const char *json_str(const struct json *j, const char *key) {
    const struct json *v = json_get(j, key);
    return v && v->type == JSON_STRING ? v->string : NULL;
}

double json_num(const struct json *j, const char *key) {
    const struct json *v = json_get(j, key);
    return v && (v->type == JSON_NUMBER || v->type == JSON_BOOL) ? v->number
                                                                 : 0;
}
