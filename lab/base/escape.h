/*
 * escape.h - C string escapes for the lab: what the student types
 * ("hello\n") into bytes, and bytes the network delivered back into text.
 *
 * The printed form is the one the test harness uses (tests/harness/peerlib.py
 * escape()): \n \r \t \" \\, printable ASCII as is, every other byte \xHH.
 * Reading accepts every C escape, so what is printed can be typed back.
 */
#ifndef LAB_ESCAPE_H
#define LAB_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Decode the C escapes of text into a new buffer (free it), its length in
   *len. On a bad escape returns NULL and writes a one-line reason into
   why (at most why_size bytes). */
char *c_unescape(const char *text, size_t *len, char *why, size_t why_size);

/* Print len bytes of buf to f as a C string literal, quotes included; after
   limit bytes print `..." (N bytes in all)` instead of the rest. */
void c_escape_print(FILE *f, const void *buf, size_t len, size_t limit);

/* Print len bytes of buf to f for reading as text: printable bytes, \n
   and \t and UTF-8 as they are, other control bytes escaped (\r, \x1b)
   so that no byte from the network can drive the terminal. */
void text_print(FILE *f, const void *buf, size_t len);

#endif
