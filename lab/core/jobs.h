/*
 * jobs.h - background jobs: the student's servers started from the lab,
 * each in its own process group, its output shown line by line, prefixed
 * [J], as it arrives (through the event loop, above the prompt).
 */
#ifndef LAB_CORE_JOBS_H
#define LAB_CORE_JOBS_H

#include "base/mem.h"

#include <sys/types.h>

#define MAX_JOBS 16

struct job {
    int id;
    pid_t pid;
    int pidfd;          /* readable once it exits; -1: look with a tick */
    long tick;          /* the loop's timer when there is no pidfd */
    int fd[2];          /* its stdout and stderr; -1 once at end of file */
    struct buf part[2]; /* a line not yet ended */
    char *command;      /* what it runs, for messages */
    char *listening;    /* its last "listening on ..." line */
    int exited, status;
    int stopping; /* we asked it to end: say "stopped", not "exited" */
};

/* Start argv as a background job; returns it, or NULL after saying why. */
struct job *jobs_start(char **argv, const char *command);
/* The i-th slot of the table (NULL when free), i < MAX_JOBS. */
struct job *jobs_slot(int i);
/* The job a J argument names ("1" or "%1"), or NULL. */
struct job *jobs_find(const char *arg);
/* Show job id's output until it is gone or for seconds; 1 when gone. */
int jobs_follow(int id, double seconds, int interruptible);
/* End job j: SIGTERM to its group, SIGKILL after a grace. */
void jobs_stop(struct job *j);
/* Print what the jobs have said so far, and their ends, without waiting. */
void jobs_drain(void);
/* End every job (at exit). */
void jobs_end_all(void);
/* Readline generator of job numbers. */
char *complete_job(const char *text, int state);

#endif
