/*
 * escape.c - C string escapes: typed text to bytes and bytes to text.
 * See escape.h for the forms.
 */
#include "base/escape.h"

#include <stdlib.h>
#include <string.h>

/* Value of hex digit c, or -1. */
static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte a one-letter escape (\n, \t, ...) stands for, or -1. \e is a
   GNU extension, handy for terminals. */
static int simple_escape(char c) {
    static const char letters[] = "nrt\\\"'?abfve";
    static const char bytes[] = "\n\r\t\\\"'?\a\b\f\v\x1b";
    const char *at = c != '\0' ? strchr(letters, c) : NULL;
    return at != NULL ? (unsigned char)bytes[at - letters] : -1;
}

/* Decode the escape after the backslash at *p into *out and advance *p
   past it; returns 0, or -1 after writing the reason into why. */
static int decode_one(const char **p, unsigned char *out, char *why,
                      size_t why_size) {
    const char *s = *p;
    int v = simple_escape(*s);
    if (v >= 0) {
        *out = (unsigned char)v;
        *p = s + 1;
        return 0;
    }
    if (*s >= '0' && *s <= '7') { /* \0, \12, \101: up to 3 octal digits */
        int n = 0, i;
        for (i = 0; i < 3 && s[i] >= '0' && s[i] <= '7'; i++)
            n = n * 8 + (s[i] - '0');
        if (n > 255) {
            snprintf(why, why_size, "octal escape \\%.3s is over \\377", s);
            return -1;
        }
        *out = (unsigned char)n;
        *p = s + i;
        return 0;
    }
    if (*s == 'x') { /* \xH or \xHH: at most two digits, one byte */
        int hi = hex_value(s[1]);
        if (hi < 0) {
            snprintf(why, why_size, "\\x needs one or two hex digits");
            return -1;
        }
        int lo = hex_value(s[2]);
        *out = (unsigned char)(lo < 0 ? hi : hi * 16 + lo);
        *p = s + (lo < 0 ? 2 : 3);
        return 0;
    }
    if (*s == '\0')
        snprintf(why, why_size,
                 "a lone backslash at the end (write \\\\ "
                 "for a backslash)");
    else if ((unsigned char)*s < 32 || (unsigned char)*s >= 127)
        snprintf(why, why_size,
                 "a backslash before byte 0x%02x, which has "
                 "no escape (write \\\\ for a backslash)",
                 (unsigned char)*s);
    else
        snprintf(why, why_size,
                 "unknown escape \\%c (known: \\n \\r \\t "
                 "\\\\ \\\" \\0 \\xHH ...)",
                 *s);
    return -1;
}

char *c_unescape(const char *text, size_t *len, char *why, size_t why_size) {
    unsigned char *buf = malloc(strlen(text) + 1);
    if (buf == NULL) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (const char *p = text; *p != '\0';) {
        if (*p != '\\') {
            buf[n++] = (unsigned char)*p++;
            continue;
        }
        p++;
        if (decode_one(&p, &buf[n], why, why_size) < 0) {
            free(buf);
            return NULL;
        }
        n++;
    }
    buf[n] = '\0'; /* not part of the bytes: a convenience for printing */
    *len = n;
    return (char *)buf;
}

/* Print one byte escaped as in a C string literal. */
static void escape_byte(FILE *f, unsigned char c) {
    switch (c) {
    case '\n':
        fputs("\\n", f);
        break;
    case '\r':
        fputs("\\r", f);
        break;
    case '\t':
        fputs("\\t", f);
        break;
    case '"':
        fputs("\\\"", f);
        break;
    case '\\':
        fputs("\\\\", f);
        break;
    default:
        if (c >= 32 && c < 127)
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

void c_escape_print(FILE *f, const void *buf, size_t len, size_t limit) {
    const unsigned char *b = buf;
    size_t shown = len < limit ? len : limit;
    fputc('"', f);
    for (size_t i = 0; i < shown; i++)
        escape_byte(f, b[i]);
    fputc('"', f);
    if (shown < len)
        fprintf(f, "... (%zu bytes in all)", len);
}

void text_print(FILE *f, const void *buf, size_t len) {
    const unsigned char *b = buf;
    for (size_t i = 0; i < len; i++) {
        if (b[i] == '\n' || b[i] == '\t' || b[i] >= 0x80 ||
            (b[i] >= 32 && b[i] != 127))
            fputc(b[i], f);
        else
            escape_byte(f, b[i]);
    }
}
