/*
 * registry.c - the command table and everything it drives: the line
 * splitter, dispatch with its argument-count check and option flags,
 * and Tab completion (see registry.h). A command is one row, registered
 * by its group; its usage string ("FD HOST PORT", "N [STEP] [--all]") is
 * the single source of its argument counts, its flags, its usage line
 * and what each of its arguments completes to.
 */
#include "core/registry.h"

#include "base/mem.h"
#include "base/term.h"
#include "core/lessons.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#define MAX_GROUPS 16
#define MAX_WORDS 16
#define MAX_FLAGS 8

static const struct lab_command *tables[MAX_GROUPS];
static int ntables;

static struct {
    const char *word;
    completer_fn *fn;
} word_completers[MAX_WORDS];
static int nword_completers;

/* The flags given to the running command. */
static char given[MAX_FLAGS][64];
static int ngiven;

void lab_register(const struct lab_command *rows) {
    if (ntables < MAX_GROUPS)
        tables[ntables++] = rows;
}

void lab_register_word(const char *word, completer_fn *f) {
    if (nword_completers < MAX_WORDS) {
        word_completers[nword_completers].word = word;
        word_completers[nword_completers++].fn = f;
    }
}

const struct lab_command *lab_command_at(int i) {
    for (int t = 0; t < ntables && i >= 0; t++) {
        int n = 0;
        while (tables[t][n].name)
            n++;
        if (i < n)
            return &tables[t][i];
        i -= n;
    }
    return NULL;
}

const struct lab_command *lab_find_command(const char *name) {
    const struct lab_command *c;
    for (int i = 0; (c = lab_command_at(i)); i++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void lab_usage(const char *name) {
    const struct lab_command *c = lab_find_command(name);
    fflush(stdout);
    if (c)
        fprintf(stderr, "usage: %s%s%s\n", c->name, *c->args ? " " : "",
                c->args);
}

void registry_free(void) {
    ntables = 0;
    nword_completers = 0;
}

/* ------------------------------------------------------ the line splitter */

int lab_split(const char *line, char ***argv_out, const char **error) {
    char **argv = xmalloc(sizeof *argv);
    int argc = 0;
    const char *p = line;
    *error = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        struct buf word = {0};
        buf_add(&word, "", 0);
        int quoted = 0;
        while (*p && (quoted ||
                      !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))) {
            if (*p == '"') {
                quoted = !quoted;
                p++;
            } else if (*p == '\\' && p[1]) {
                buf_add(&word, p, 2); /* kept as written: \" stays \" */
                p += 2;
            } else {
                buf_add(&word, p++, 1);
            }
        }
        if (quoted) {
            free(word.data);
            *error = "unterminated \" quote";
            argv[argc] = NULL;
            lab_free_argv(argv);
            *argv_out = NULL;
            return -1;
        }
        argv = xrealloc(argv, (size_t)(argc + 2) * sizeof *argv);
        argv[argc++] = word.data;
    }
    argv[argc] = NULL;
    *argv_out = argv;
    return argc;
}

void lab_free_argv(char **argv) {
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

/* ---------------------------------------------------------- usage strings */

/* The words of a usage string, each at most 63 characters. */
static int usage_words(const char *args, char words[][64], int max) {
    int n = 0;
    const char *p = args;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ");
        snprintf(words[n++], 64, "%.*s", (int)len, p);
        p += len;
    }
    return n;
}

/* Is usage word w an option flag ("[--all]")? */
static int is_flag(const char *w) {
    return strncmp(w, "[--", 3) == 0;
}

/* The least and most argument counts of a usage string (its flags
   left out). */
static void arg_counts(const char *args, int *min, int *max) {
    char words[16][64];
    int n = usage_words(args, words, 16);
    *min = 0;
    *max = 0;
    for (int i = 0; i < n; i++) {
        if (is_flag(words[i]))
            continue;
        if (strstr(words[i], "...")) {
            *max = INT_MAX;
            if (words[i][0] != '[')
                ++*min;
            return;
        }
        ++*max;
        if (words[i][0] != '[')
            ++*min;
    }
}

/* Edit distance of a and b (for "did you mean"), capped at 9. */
static int distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 30 || lb > 30)
        return 9;
    int d[31][31];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t k = 0; k <= lb; k++)
        d[0][k] = (int)k;
    for (size_t i = 1; i <= la; i++)
        for (size_t k = 1; k <= lb; k++) {
            int best = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
            if (d[i - 1][k] + 1 < best)
                best = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < best)
                best = d[i][k - 1] + 1;
            d[i][k] = best;
        }
    return d[la][lb];
}

/* Does arg give the flag of usage word w ("[--all]": --all or -a)? */
static int gives_flag(const char *arg, const char *w) {
    size_t len = strcspn(w + 1, "]");
    if (strlen(arg) == len && strncmp(arg, w + 1, len) == 0)
        return 1;
    return arg[0] == '-' && arg[1] == w[3] && !arg[2];
}

/* Take the flags of usage out of argv (in place); returns the new argc
   and notes the flags given. Flags count until the "..." word's
   arguments begin: after that, every word is an argument. */
static int take_flags(const char *args, int argc, char **argv) {
    char words[16][64];
    int n = usage_words(args, words, 16), rest = INT_MAX, positional = 0;
    for (int i = 0; i < n; i++)
        if (!is_flag(words[i]) && strstr(words[i], "...") && rest == INT_MAX)
            rest = positional;
        else if (!is_flag(words[i]))
            positional++;
    ngiven = 0;
    int out = 1, seen = 0;
    for (int i = 1; i < argc; i++) {
        const char *flag = NULL;
        for (int k = 0; k < n && seen <= rest && !flag && argv[i][0] == '-'; k++)
            if (is_flag(words[k]) && gives_flag(argv[i], words[k]))
                flag = words[k];
        if (flag && seen <= rest) {
            if (ngiven < MAX_FLAGS)
                snprintf(given[ngiven++], sizeof given[0], "%.63s", flag);
            continue;
        }
        if (seen < rest || rest == INT_MAX)
            seen++;
        else
            seen = rest + 1; /* in the "..." arguments: no more flags */
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

int lab_opt(const char *flag) {
    size_t len = strlen(flag);
    for (int i = 0; i < ngiven; i++)
        if (strncmp(given[i] + 1, flag, len) == 0 && given[i][1 + len] == ']')
            return 1;
    return 0;
}

int lab_dispatch(int argc, char **argv) {
    if (argc == 0)
        return 0;
    const struct lab_command *c = lab_find_command(argv[0]);
    if (!c) {
        const struct lab_command *near = NULL;
        int best = 3;
        const struct lab_command *k;
        for (int i = 0; (k = lab_command_at(i)); i++) {
            int d = distance(argv[0], k->name);
            if (d < best) {
                best = d;
                near = k;
            }
        }
        if (near)
            lab_error("no command '%s'. Did you mean %s? (`help` lists them)",
                      argv[0], near->name);
        else
            lab_error("no command '%s' (`help` lists them)", argv[0]);
        return 2;
    }
    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        char *args[] = {"help", argv[0], NULL};
        return lab_dispatch(2, args);
    }
    /* The handler gets a copy without the flags (the caller frees the
       words of its own argv). */
    char **args = xmalloc((size_t)(argc + 1) * sizeof *args);
    memcpy(args, argv, (size_t)argc * sizeof *args);
    args[argc] = NULL;
    int nargs = take_flags(c->args, argc, args), min, max, status = 2;
    arg_counts(c->args, &min, &max);
    if (nargs - 1 < min || nargs - 1 > max)
        lab_usage(c->name);
    else
        status = c->handler(nargs, args);
    free(args);
    return status;
}

/* ------------------------------------------------------------- completion */

/* The alternatives of the word being completed ("server|client"). */
static char alternatives[256];

static char *complete_alternative(const char *text, int state) {
    static const char *p;
    if (state == 0)
        p = alternatives;
    size_t len = strlen(text);
    while (p && *p) {
        size_t n = strcspn(p, "|");
        const char *word = p;
        p += n;
        if (*p == '|')
            p++;
        if (n >= len && strncmp(word, text, len) == 0)
            return xprintf("%.*s", (int)n, word);
    }
    return NULL;
}

static char *complete_command(const char *text, int state) {
    static int i;
    if (state == 0)
        i = 0;
    size_t len = strlen(text);
    const struct lab_command *k;
    while ((k = lab_command_at(i++)))
        if (strncmp(k->name, text, len) == 0)
            return xstrdup(k->name);
    return NULL;
}

/* The lesson named on the line, for step completion. */
static struct lesson *step_lesson;

static char *complete_step(const char *text, int state) {
    static int step;
    if (state == 0)
        step = 0;
    int max = step_lesson ? lesson_steps(step_lesson) : 0;
    while (++step <= max) {
        char s[16];
        snprintf(s, sizeof s, "%d", step);
        if (strncmp(s, text, strlen(text)) == 0)
            return xstrdup(s);
    }
    return NULL;
}

static char *complete_host(const char *text, int state) {
    snprintf(alternatives, sizeof alternatives, "127.0.0.1|::1|localhost");
    return complete_alternative(text, state);
}

/* The completer for usage word w (a parameter name, or a|b literals). */
static completer_fn *completer_for(const char *w, char *line_words[],
                                   int nwords) {
    char word[64];
    int optional = w[0] == '[';
    snprintf(word, sizeof word, "%s", w + optional);
    if (optional && strchr(word, ']'))
        *strchr(word, ']') = '\0';
    for (int i = 0; i < nword_completers; i++)
        if (strcmp(word, word_completers[i].word) == 0)
            return word_completers[i].fn;
    if (strcmp(word, "N") == 0)
        return complete_lesson;
    if (strcmp(word, "N|all") == 0)
        return complete_lesson_or_all;
    if (strcmp(word, "CMD") == 0)
        return complete_command;
    if (strcmp(word, "HOST") == 0)
        return complete_host;
    if (strcmp(word, "STEP") == 0) {
        step_lesson = NULL;
        for (int i = 1; i < nwords && !step_lesson; i++)
            for (int k = 0; k < lessons_count(); k++) {
                struct lesson *l = lesson_at(k);
                if (strcmp(line_words[i], l->name) == 0 ||
                    strcmp(line_words[i], l->slug) == 0 ||
                    atoi(line_words[i]) == l->number)
                    step_lesson = l;
            }
        return complete_step;
    }
    /* Lower-case words and options are literals: tcp|udp, --ref. */
    if (islower((unsigned char)word[0]) || word[0] == '-') {
        snprintf(alternatives, sizeof alternatives, "%s", word);
        return complete_alternative;
    }
    return NULL; /* PORT, TEXT, ARGS...: nothing to offer, not files */
}

char **lab_complete(const char *text, int start, int end) {
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    char *before = xprintf("%.*s", start, rl_line_buffer);
    char **words;
    const char *error;
    int n = lab_split(before, &words, &error);
    free(before);
    if (n < 0)
        return NULL; /* inside a quoted TEXT: nothing to complete */
    char **matches = NULL;
    if (n == 0) {
        matches = rl_completion_matches(text, complete_command);
    } else {
        const struct lab_command *c = lab_find_command(words[0]);
        if (c && c->completer) {
            matches = rl_completion_matches(text, c->completer);
        } else if (c) {
            char usage[16][64];
            int nu = usage_words(c->args, usage, 16);
            int index = n - 1; /* which argument is being typed */
            if (index >= nu && nu > 0 && strstr(usage[nu - 1], "..."))
                index = nu - 1;
            completer_fn *f =
                index < nu ? completer_for(usage[index], words, n) : NULL;
            if (f)
                matches = rl_completion_matches(text, f);
        }
    }
    lab_free_argv(words);
    return matches;
}
