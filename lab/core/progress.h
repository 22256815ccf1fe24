/*
 * progress.h - the student's progress, kept apart from their files in a
 * small versioned file in the XDG state dir (see progress.c).
 */
#ifndef LAB_CORE_PROGRESS_H
#define LAB_CORE_PROGRESS_H

struct progress_result {
    int known; /* a check was recorded since the last reset */
    int passed, total;
    int first_failing; /* 0 when none */
    int solved;        /* passed every step at least once */
};

/* The one test of "a lesson passed": every one of its steps (and it has
   some) passed. */
int lesson_passed(int passed, int total);
/* The same of a recorded result (known, and every step passed). */
int progress_passed(const struct progress_result *r);

void progress_get(const char *lesson, struct progress_result *r);
/* Record a check: failing lists the step numbers that failed. */
void progress_record(const char *lesson, int passed, int total,
                     const int *failing, int nfailing);
/* Forget the last check of a lesson (after reset); solved stays. */
void progress_forget(const char *lesson);
/* The stamp of the last `make check` report taken into the progress
   (0: none), and setting it. */
long progress_synced(void);
void progress_set_synced(long stamp);
int progress_hint_level(const char *lesson, int step);
void progress_set_hint_level(const char *lesson, int step, int level);
/* A short stable name of the checkout (a hash of its path). */
const char *lab_checkout_key(void);
/* The progress file's path (for messages and tests). */
const char *progress_path(void);
void progress_cleanup(void);

#endif
