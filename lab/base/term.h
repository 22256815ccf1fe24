/*
 * term.h - the lab's terminal output: colour, error lines, and output
 * that arrives while the prompt is showing.
 */
#ifndef LAB_BASE_TERM_H
#define LAB_BASE_TERM_H

/* How the lab was started: the prompt, one command, or a script. */
enum lab_mode { MODE_INTERACTIVE, MODE_ONESHOT, MODE_SCRIPT };
extern enum lab_mode lab_mode;

/* Nonzero when stdout is a terminal and NO_COLOR is unset. */
extern int lab_colour;
/* Nonzero when stdout is a terminal that takes UTF-8 (ticks, blocks). */
extern int lab_utf8;
/* Decide lab_colour and lab_utf8 from stdout and the environment. */
void term_init(void);

/* Colour escapes: empty strings unless lab_colour. */
#define LAB_COL(code) (lab_colour ? "\033[" code "m" : "")
#define C_BOLD LAB_COL("1")
#define C_DIM LAB_COL("2")
#define C_RED LAB_COL("31")
#define C_GREEN LAB_COL("32")
#define C_YELLOW LAB_COL("33")
#define C_BLUE LAB_COL("34")
#define C_CYAN LAB_COL("36")
#define C_OFF LAB_COL("0")

/* "lab: message" on stderr (red on a terminal). */
void lab_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lab output that arrives between prompts (a background job's line, a
   peer's message) goes through this: it prints text above the prompt
   without mangling the line being typed (plain print otherwise). */
void lab_async_print(const char *text);
/* The prompt says whether it is showing (for lab_async_print). */
void term_prompt_showing(int showing);

#endif
