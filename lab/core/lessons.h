/*
 * lessons.h - the lesson model: the lessons found in lessons/ (never a
 * list kept by hand), named by number, slug or both, with their steps
 * read from their tests; and the instructor's switches.
 */
#ifndef LAB_CORE_LESSONS_H
#define LAB_CORE_LESSONS_H

struct lesson {
    char *name;        /* 01-echo-once */
    int number;        /* 1 */
    const char *slug;  /* echo-once (points into name) */
    int steps;         /* @test lines of tests/NAME.bats, -1 unread */
    char **step_names; /* "step 1: ..." */
};

/* Every lesson of lessons/, in order (read once). */
int lessons_count(void);
struct lesson *lesson_at(int i);
/* Find a lesson by number, slug, full name or unique slug prefix; prints
   a one-line error and returns NULL when there is no (single) match. */
struct lesson *lesson_find(const char *arg);
/* Read the lesson's step names (from its test file); returns the count. */
int lesson_steps(struct lesson *l);
/* Readline generators of lesson names (and "all" too). */
char *complete_lesson(const char *text, int state);
char *complete_lesson_or_all(const char *text, int state);
/* Free what was read (at exit). */
void lessons_free(void);

/* Is a feature turned off by the instructor (LAB_NO_HINTS,
   LAB_NO_SOLUTIONS, or lab/lab.conf)? */
int lab_feature_off(const char *feature);

#endif
