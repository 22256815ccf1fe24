/*
 * cmd/help.c - the lab's own commands: help and quit.
 */
#include "cmd/cmd.h"

#include "base/loop.h"
#include "base/term.h"
#include "core/registry.h"

#include <stdio.h>
#include <string.h>

#define REPL "The lab"

/* Print the row of c in help's list. */
static void list_row(const struct lab_command *c) {
    char usage[96];
    snprintf(usage, sizeof usage, "%s%s%s", c->name, *c->args ? " " : "",
             c->args);
    /* 80 columns: a usage too long for its column gets a line. */
    if (strlen(usage) > 28)
        printf("  %s\n  %-28s %s\n", usage, "", c->help);
    else
        printf("  %-28s %s\n", usage, c->help);
}

/* Is group the heading of a row before the i-th (listed already)? */
static int group_seen(const char *group, int i) {
    for (int k = 0; k < i; k++)
        if (strcmp(lab_command_at(k)->group, group) == 0)
            return 1;
    return 0;
}

/* `help CMD`: the usage line, what it does, and the details. */
static int help_one(const char *name) {
    const struct lab_command *c = lab_find_command(name);
    if (!c) {
        lab_error("no command '%s' (`help` lists them)", name);
        return 1;
    }
    printf("usage: %s%s%s%s%s\n  %s\n", C_BOLD, c->name, *c->args ? " " : "",
           c->args, C_OFF, c->help);
    if (c->details)
        printf("\n%s\n", c->details);
    return 0;
}

/* help [CMD]: every command under its group's heading, or one command. */
static int cmd_help(int argc, char **argv) {
    if (argc > 1)
        return help_one(argv[1]);
    const struct lab_command *c;
    for (int i = 0; (c = lab_command_at(i)); i++) {
        if (group_seen(c->group, i))
            continue;
        printf("%s%s%s%s\n", i == 0 ? "" : "\n", C_BOLD, c->group, C_OFF);
        const struct lab_command *k;
        for (int j = i; (k = lab_command_at(j)); j++)
            if (strcmp(k->group, c->group) == 0)
                list_row(k);
    }
    printf("\nN is a lesson number or name (1, 01, echo-once). Tab completes "
           "commands and\narguments; `help CMD` says more. `lab CMD ARGS` "
           "runs one command from a shell.\n");
    return 0;
}

/* quit: leave after this command. */
static int cmd_quit(int argc, char **argv) {
    (void)argc;
    (void)argv;
    lab_quit_requested = 1;
    return 0;
}

static const struct lab_command rows[] = {
    {"help", "[CMD]", cmd_help, "this list, or more about one command", NULL,
     REPL, NULL},
    {"quit", "", cmd_quit, "leave the lab (ends your background jobs)", NULL,
     REPL, NULL},
    {"exit", "", cmd_quit, "the same as quit", NULL, REPL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void help_register(void) {
    lab_register(rows);
}
