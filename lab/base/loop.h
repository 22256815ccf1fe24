/*
 * loop.h - the lab's one event loop, in the manner of redis' ae: files
 * and timers are registered with a handler; loop_once() waits for the
 * first of them (or a signal) and calls the handlers of what is ready.
 * Every wait in the lab goes through it, so a background job's output
 * keeps flowing whatever the lab waits for. It also owns the one
 * monotonic clock and the flags the lab's signal handlers set.
 */
#ifndef LAB_BASE_LOOP_H
#define LAB_BASE_LOOP_H

#include <poll.h>
#include <signal.h>

/* Seconds on the monotonic clock: the lab's one clock. */
double lab_now(void);

/* Set by SIGINT (and SIGTERM, SIGHUP) while a command runs (handlers
   without SA_RESTART, so a blocking call returns EINTR). */
extern volatile sig_atomic_t lab_interrupted;
/* Set by SIGTERM or SIGHUP, or by quit: leave after this command. */
extern volatile sig_atomic_t lab_quit_requested;
/* Set by SIGWINCH and SIGTSTP (while the prompt watches them). */
extern volatile sig_atomic_t loop_window_changed, loop_suspend_requested;

/* Install the lab's handlers: SIGINT, SIGTERM, SIGHUP, SIGTSTP set the
   flags above; SIGPIPE is ignored. */
void loop_signals(void);
/* Watch (1) or stop watching (0) SIGWINCH (only the prompt does). */
void loop_watch_winch(int on);
/* Put the flag-setting handler back on SIGTSTP (after a suspend). */
void loop_watch_tstp(void);

/* Called with the fd, what poll() said of it, and the data given. */
typedef void loop_fd_fn(int fd, short revents, void *data);
/* Called once when the timer is due. */
typedef void loop_timer_fn(void *data);

/* Watch fd for events (POLLIN...); one handler per fd (a second add
   replaces it). Returns 0, or -1 when the table is full. */
int loop_add_fd(int fd, short events, loop_fd_fn *fn, void *data);
/* Stop watching fd (safe inside a handler). */
void loop_del_fd(int fd);
/* Call fn once, seconds from now; returns the timer's id (> 0). */
long loop_add_timer(double seconds, loop_timer_fn *fn, void *data);
/* Forget a timer that has not fired (safe inside a handler). */
void loop_del_timer(long id);

/* Wait at most seconds (< 0: until something happens) for a watched fd,
   a due timer or a signal, with mask as the signal mask during the wait
   when not NULL (ppoll); call the handlers. Returns how many handlers
   ran, 0 when the time ran out, -1 when a signal cut the wait short. */
int loop_once(double seconds, const sigset_t *mask);

/* How loop_wait_fd waits: Ctrl-C ends it; the rest of the loop waits
   meanwhile (a half-printed line, "recv(3, 1024)", must not be cut by a
   job's output: the job's lines come at the next wait). */
#define LOOP_INTERRUPTIBLE 1
#define LOOP_ALONE 2

/* Wait for events on fd until deadline (lab_now() time, < 0: none) while
   the rest of the loop goes on (unless LOOP_ALONE); returns what poll()
   said of fd, 0 when the deadline passed, -1 on Ctrl-C (when flags has
   LOOP_INTERRUPTIBLE). */
short loop_wait_fd(int fd, short events, double deadline, int flags);

#endif
