/*
 * prompt.h - reading a line at the prompt (GNU Readline's callback
 * interface on the lab's event loop) and yes/no questions.
 */
#ifndef LAB_BASE_PROMPT_H
#define LAB_BASE_PROMPT_H

/* Read one line with Readline while the event loop goes on (job output
   keeps flowing); NULL on EOF or, when cancel_on_interrupt, on Ctrl-C
   (lab_interrupted set). Interactive mode only. */
char *lab_readline(const char *prompt, int cancel_on_interrupt);

/* Ask a yes/no question (on the terminal, or the next line of a
   script); returns 1 only for an answer starting with y. */
int lab_ask(const char *question);

#endif
