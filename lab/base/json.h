/*
 * json.h - a small JSON reader (for the grader's results and events).
 */
#ifndef LAB_BASE_JSON_H
#define LAB_BASE_JSON_H

#include <stddef.h>

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
};
struct json {
    enum json_type type;
    double number;       /* number, bool */
    char *string;        /* string */
    struct json **items; /* array items, object values */
    char **keys;         /* object keys */
    size_t count;
};
struct json *json_parse(const char *text);
void json_free(struct json *j);
const struct json *json_get(const struct json *obj, const char *key);
const char *json_str(const struct json *j, const char *key);
double json_num(const struct json *j, const char *key);

#endif
