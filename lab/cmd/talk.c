/*
 * talk.c - talk mode: `talk HOST PORT [tcp|udp]`, the seeds' interactive
 * client (echo_client.py's input() loop) done well.
 *
 * On a terminal each line typed, with Readline's editing and history, is
 * sent (TCP: with its newline; UDP: as one datagram, no newline), and
 * whatever the server sends is printed the moment it arrives, even in the
 * middle of typing: Readline's callback interface reads keys only when
 * poll() says there are some, and before printing we wipe the prompt line
 * and draw it again afterwards, half-typed text and cursor intact.
 *
 *   Ctrl-D on an empty line  shutdown(SHUT_WR), then show what the server
 *                            still says until it closes (at most `wait`)
 *   bye                      sent like any line; the server's close ends it
 *   Ctrl-C                   leave at once (the connection is closed)
 *
 * When stdin is not a terminal (a script, a test) talk reads the lines
 * that follow it on stdin as the conversation, up to and including a
 * `bye` line or the end of input (which is Ctrl-D: a half-close), and
 * the script goes on after the server has closed. Its stdout is then
 * exactly the bytes the server sent (control bytes escaped); talk's own
 * messages go to stderr.
 */
#define _GNU_SOURCE /* memrchr */

#include "cmd/cmd.h"

#include "base/escape.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/registry.h"
#include "core/sockcall.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define RECV_SIZE 65536
#define HELD_MAX 4096    /* a line without its newline shown at this size */
#define HOLD_SECONDS 0.2 /* or when the rest has not come after this long */
#define SLICE_MS 100     /* longest poll, so Ctrl-C is never missed */

/* Why the student stopped typing. */
enum input_end { END_EOF, END_BYE };

/* One talk session (Readline's callbacks take no argument, so it is a
   file-level variable). */
static struct {
    int fd, udp, tty;
    char peer[ADDR_TEXT];
    int handler_on;     /* our Readline callback handler is installed */
    int input_done;     /* no more lines: end of input, Ctrl-D or bye */
    double drain_until; /* then: how long the server has to finish */
    long unanswered;    /* UDP: datagrams sent and not yet answered */
    int finished, status;
    int history_added; /* lines added to Readline's history, to take out */
    long lines_sent, bytes_received;
    char held[HELD_MAX]; /* terminal: the start of a line still coming */
    size_t held_len;
    double held_since;
    int out_tty;       /* stdout is a terminal */
    int at_line_start; /* not a terminal: the last byte out was \n */
    char *line;        /* not a terminal: the line being read */
    size_t line_len, line_cap;
} t;

/* --------------------------------------------------------------- the screen */

static volatile sig_atomic_t resized; /* SIGWINCH came during talk */

/* SIGWINCH handler: the terminal changed size. */
static void on_resize(int sig) {
    (void)sig;
    resized = 1;
}

/* Before printing on a terminal: wipe the prompt and what is typed. */
static void screen_begin(void) {
    fflush(stdout);
    if (t.handler_on)
        rl_clear_visible_line();
}

/* After printing: draw the prompt and the half-typed line again. */
static void screen_end(void) {
    fflush(stdout);
    fflush(stderr);
    if (t.handler_on) {
        rl_on_new_line();
        rl_redisplay();
    }
}

/* Print one message of talk's own ("talk: ...") on stderr, on a line of
   its own. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    screen_begin();
    if (!t.tty && t.out_tty && !t.at_line_start) {
        putchar('\n'); /* the server's last line had no newline */
        t.at_line_start = 1;
    }
    fflush(stdout);
    fprintf(stderr, "%stalk: ", C_DIM);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", C_OFF);
    screen_end();
}

/* Print on a terminal the held start of a line, ended for display. */
static void show_held(void) {
    if (t.held_len == 0)
        return;
    screen_begin();
    text_print(stdout, t.held, t.held_len);
    putchar('\n');
    t.held_len = 0;
    screen_end();
}

/* Show bytes of the stream as they came. On a terminal whole lines go out
   at once and the start of a line waits briefly for its end, so a line
   cut in two by TCP is not shown as two. */
static void show_stream(const char *buf, size_t n) {
    if (!t.tty) {
        text_print(stdout, buf, n);
        fflush(stdout);
        t.at_line_start = buf[n - 1] == '\n';
        return;
    }
    while (n > 0) {
        size_t room = HELD_MAX - t.held_len, take = n < room ? n : room;
        memcpy(t.held + t.held_len, buf, take);
        if (t.held_len == 0)
            t.held_since = lab_now();
        t.held_len += take;
        buf += take;
        n -= take;
        const char *nl = memrchr(t.held, '\n', t.held_len);
        size_t whole = nl ? (size_t)(nl - t.held) + 1 : 0;
        if (whole == 0 && t.held_len == HELD_MAX)
            whole = HELD_MAX; /* a very long line: show it cut */
        if (whole > 0) {
            screen_begin();
            text_print(stdout, t.held, whole);
            if (t.held[whole - 1] != '\n')
                putchar('\n');
            memmove(t.held, t.held + whole, t.held_len - whole);
            t.held_len -= whole;
            t.held_since = lab_now();
            screen_end();
        }
    }
}

/* Show one datagram on a line of its own. */
static void show_datagram(const char *buf, size_t n) {
    screen_begin();
    if (n == 0)
        printf("%s(an empty datagram)%s", C_DIM, C_OFF);
    text_print(stdout, buf, n);
    if (n == 0 || buf[n - 1] != '\n')
        putchar('\n');
    t.at_line_start = 1;
    screen_end();
}

/* --------------------------------------------------------------- the socket */

/* Stop the session with status, after the message (if any) is said. */
static void finish(int status) {
    t.finished = 1;
    t.status = status;
}

/* Say how a call on the socket failed and stop. */
static void call_failed(const char *call, int err) {
    if (t.udp && err == ECONNREFUSED)
        say("%s: nothing listens on udp %s (ECONNREFUSED: an ICMP port "
            "unreachable came back)",
            call, t.peer);
    else
        say("%s: %s (%s)", call, strerror(err), errno_name(err));
    finish(1);
}

/* Send all len bytes, waiting at most the wait bound for room; returns 0,
   or -1 after saying why. */
static int send_bounded(const char *buf, size_t len) {
    double deadline = lab_now() + lab_wait_seconds();
    size_t done = 0;
    do {
        ssize_t n =
            send(t.fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            call_failed("send", errno);
            return -1;
        }
        enum wait_end end = wait_fd(t.fd, POLLOUT, deadline);
        if (end == WAIT_CTRL_C) {
            say("Ctrl-C: leaving talk");
            finish(0);
            return -1;
        }
        if (end == WAIT_BOUND) {
            say("send: the server has not read for %g s (no room to send); "
                "leaving",
                lab_wait_seconds());
            finish(1);
            return -1;
        }
    } while (done < len);
    return 0;
}

/* Take what the socket has: show it, or notice the server's close. */
static void receive(void) {
    static char buf[RECV_SIZE];
    ssize_t n = recv(t.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        call_failed("recv", errno);
        return;
    }
    t.bytes_received += n;
    if (t.udp) {
        show_datagram(buf, (size_t)n);
        if (--t.unanswered <= 0 && t.input_done)
            finish(0); /* every datagram answered and no more to send */
        return;
    }
    if (n > 0) {
        show_stream(buf, (size_t)n);
        return;
    }
    show_held();
    say("the server closed the connection");
    finish(0);
}

/* ---------------------------------------------------------------- input */

/* The student is done typing: stop reading input, half-close a TCP
   connection at end of input, and give the server the wait bound to
   finish. */
static void end_input(enum input_end why) {
    t.input_done = 1;
    if (t.handler_on) {
        rl_callback_handler_remove();
        t.handler_on = 0;
    }
    t.drain_until = lab_now() + lab_wait_seconds();
    if (t.udp) {
        if (t.unanswered <= 0)
            finish(0);
        else
            say("%s: waiting up to %g s for %ld more repl%s",
                why == END_BYE ? "bye sent" : "end of input",
                lab_wait_seconds(), t.unanswered,
                t.unanswered == 1 ? "y" : "ies");
        return;
    }
    if (why == END_BYE) {
        say("bye sent: waiting up to %g s for the server to close",
            lab_wait_seconds());
        return;
    }
    if (shutdown(t.fd, SHUT_WR) < 0) {
        call_failed("shutdown", errno);
        return;
    }
    say("end of input: shutdown(SHUT_WR) sent; showing what the server "
        "still sends, for up to %g s",
        lab_wait_seconds());
}

/* Send one typed line (without its newline); bye ends the input. */
static void send_line(const char *line) {
    size_t len = strlen(line);
    char *out = malloc(len + 1);
    if (out == NULL) {
        say("out of memory");
        finish(1);
        return;
    }
    memcpy(out, line, len);
    if (!t.udp)
        out[len++] = '\n'; /* TCP is a stream: the newline ends the line */
    int rc = send_bounded(out, len);
    free(out);
    if (rc < 0)
        return;
    t.lines_sent++;
    t.unanswered += t.udp;
    if (strcmp(line, "bye") == 0)
        end_input(END_BYE);
}

/* Readline's line handler: a line to send, or NULL for Ctrl-D. */
static void on_line(char *line) {
    if (line == NULL) {
        putchar('\n'); /* Readline leaves the cursor after the prompt */
        end_input(END_EOF);
        return;
    }
    if (*line != '\0') {
        add_history(line);
        t.history_added++;
    }
    send_line(line);
    free(line);
}

/* Make room in t.line for one more byte and a NUL; returns 0 or -1. */
static int grow_line(void) {
    if (t.line_len + 2 <= t.line_cap)
        return 0;
    size_t cap = t.line_cap ? t.line_cap * 2 : 256;
    char *bigger = realloc(t.line, cap);
    if (bigger == NULL)
        return -1;
    t.line = bigger;
    t.line_cap = cap;
    return 0;
}

/* End the line in t.line (length len): drop a \r of a CRLF script. */
static void end_line(size_t len) {
    if (len > 0 && t.line[len - 1] == '\r')
        len--;
    t.line[len] = '\0';
    t.line_len = 0;
}

/* Not a terminal: read one byte from fd 0 (one at a time, so nothing past
   the conversation is taken from the script) and send each whole line. */
static void read_pipe_byte(void) {
    char c;
    if (grow_line() < 0) {
        say("out of memory");
        finish(1);
        return;
    }
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0 && c != '\n') {
        t.line[t.line_len++] = c;
        return;
    }
    if (n > 0 || t.line_len > 0) { /* a line, or the last one unended */
        end_line(t.line_len);
        send_line(t.line);
    }
    if (n <= 0 && !t.input_done && !t.finished)
        end_input(END_EOF);
}

/* Not a terminal: read the next line into t.line, waiting for it; returns
   0, or -1 at the end of input or on Ctrl-C. */
static int next_line(void) {
    for (;;) {
        char c;
        if (grow_line() < 0)
            return -1;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR && !lab_interrupted)
            continue;
        if (n < 0 || (n == 0 && t.line_len == 0))
            return -1;
        if (n == 0 || c == '\n')
            break;
        t.line[t.line_len++] = c;
    }
    end_line(t.line_len);
    return 0;
}

/* Not a terminal, and the conversation ended before its input did (no
   connection, or the server closed first): take the rest of it, up to
   and including bye, so its lines are not run as lab commands. */
static void skip_conversation(void) {
    long skipped = 0;
    if (t.tty || t.input_done)
        return;
    while (!lab_interrupted && next_line() == 0) {
        skipped++;
        if (strcmp(t.line, "bye") == 0)
            break;
    }
    if (skipped > 0)
        say("skipped the %ld line%s left of the conversation (up to bye)",
            skipped, skipped == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- the loop */

/* What time and signals decide between events: show a held line start,
   redraw after a resize, end a server's time to finish. */
static void check_clock(void) {
    if (t.tty && t.held_len && lab_now() - t.held_since > HOLD_SECONDS)
        show_held();
    if (t.tty && resized) {
        resized = 0;
        if (t.handler_on)
            rl_resize_terminal(); /* and draw the line again */
    }
    if (t.finished || !t.input_done || lab_now() < t.drain_until)
        return;
    show_held();
    if (t.udp)
        say("no reply to %ld datagram%s within %g s (UDP may lose them; is "
            "a server there?)",
            t.unanswered, t.unanswered == 1 ? "" : "s", lab_wait_seconds());
    else
        say("the server did not close the connection within %g s; closing "
            "it",
            lab_wait_seconds());
    finish(t.udp);
}

/* The loop's handler of the socket: what the server sent. */
static void on_socket(int fd, short revents, void *data) {
    (void)fd;
    (void)revents;
    (void)data;
    if (!t.finished)
        receive();
}

/* The loop's handler of stdin: a key (terminal) or a byte (pipe). */
static void on_input(int fd, short revents, void *data) {
    (void)fd;
    (void)revents;
    (void)data;
    if (t.finished || t.input_done)
        return;
    if (t.tty)
        rl_callback_read_char();
    else
        read_pipe_byte();
}

/* Run the conversation until the server closes, the input and the
   server are done, or Ctrl-C, on the lab's event loop (a `run` server's
   output is shown as it comes, above the line being typed). */
static void talk_loop(void) {
    int sock = t.fd;
    loop_add_fd(sock, POLLIN, on_socket, NULL);
    int watching_input = 0;
    while (!t.finished) {
        if (!t.input_done && !watching_input)
            loop_add_fd(STDIN_FILENO, POLLIN, on_input, NULL);
        else if (t.input_done && watching_input)
            loop_del_fd(STDIN_FILENO);
        watching_input = !t.input_done;
        term_prompt_showing(t.handler_on);
        loop_once(SLICE_MS / 1000.0, NULL);
        term_prompt_showing(0);
        if (lab_interrupted) {
            show_held();
            say("Ctrl-C: leaving talk");
            finish(0);
            break;
        }
        check_clock();
    }
    loop_del_fd(sock);
    if (watching_input)
        loop_del_fd(STDIN_FILENO);
}

/* --------------------------------------------------------------- connecting */

/* Connect to HOST PORT over TCP or UDP, trying each address getaddrinfo
   gives within the wait bound; returns the socket, or -1 after saying why. */
static int talk_connect(const char *host, const char *port, int udp) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    enum wait_end end;
    int code = lookup(host, port, &hints, &res, &end);
    if (code != 0) {
        lab_error("%s: %s", host,
                  end == WAIT_CTRL_C  ? "interrupted by Ctrl-C"
                  : end == WAIT_BOUND ? "no answer from the name server"
                                      : gai_strerror(code));
        return -1;
    }
    double deadline = lab_now() + lab_wait_seconds();
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        addr_text(ai->ai_addr, ai->ai_addrlen, t.peer);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect_bounded(fd, ai->ai_addr, ai->ai_addrlen, deadline, &end) ==
            0)
            break;
        err = errno;
        close(fd);
        fd = -1;
        if (end != WAIT_READY)
            break; /* out of time, or Ctrl-C: do not try the next one */
    }
    freeaddrinfo(res);
    if (fd < 0 && end == WAIT_BOUND)
        lab_error("connect %s: no answer within %g s (the lab's wait bound, "
                  "see `wait`)",
                  t.peer, lab_wait_seconds());
    else if (fd < 0 && end == WAIT_CTRL_C)
        lab_error("connect %s: interrupted by Ctrl-C", t.peer);
    else if (fd < 0)
        lab_error("connect %s: %s (%s)", t.peer, strerror(err),
                  errno_name(err));
    return fd;
}

/* Take the talk lines out of Readline's history again, so they do not
   end up among the lab's commands. */
static void forget_history(void) {
    while (t.history_added > 0 && history_length > 0) {
        HIST_ENTRY *e = remove_history(history_length - 1);
        if (e != NULL)
            free_history_entry(e);
        t.history_added--;
    }
}

/* Completion in talk mode: none (Tab would offer the lab's commands). */
static char *no_completion(const char *text, int state) {
    (void)text;
    (void)state;
    return NULL;
}

/* Stands in for Readline's deprep function during talk (see talk_tty). */
static void keep_terminal(void) {
}

/* Talk on a terminal: Readline's callback interface over poll(). */
static void talk_tty(void) {
    rl_compentry_func_t *entry = rl_completion_entry_function;
    rl_completion_func_t *attempted = rl_attempted_completion_function;
    rl_voidfunc_t *deprep = rl_deprep_term_function;
    rl_completion_entry_function = no_completion;
    rl_attempted_completion_function = NULL;
    /* Readline gives the terminal back (canonical mode, echo on) after
       each line and takes it again for the next: keys typed in between
       would be echoed twice, and a Ctrl-D would be eaten by the terminal
       as its end-of-file. Keep it in Readline's mode until talk ends. */
    rl_deprep_term_function = keep_terminal;
    struct sigaction resize = {.sa_handler = on_resize}, old_resize;
    sigemptyset(&resize.sa_mask);
    sigaction(SIGWINCH, &resize, &old_resize);
    resized = 0;
    char *prompt = xprintf("%s> ", t.peer);
    rl_callback_handler_install(prompt, on_line);
    t.handler_on = 1;
    talk_loop();
    sigaction(SIGWINCH, &old_resize, NULL);
    rl_deprep_term_function = deprep;
    if (t.handler_on) {
        rl_clear_visible_line();      /* a half-typed line goes unsent */
        rl_callback_handler_remove(); /* gives the terminal back */
        t.handler_on = 0;
    } else if (deprep != NULL) {
        deprep(); /* the handler went earlier, with keep_terminal */
    }
    show_held();
    forget_history();
    rl_completion_entry_function = entry;
    rl_attempted_completion_function = attempted;
    free(prompt);
}

static int cmd_talk(int argc, char **argv) {
    memset(&t, 0, sizeof t);
    t.tty = isatty(STDIN_FILENO);
    t.out_tty = isatty(STDOUT_FILENO);
    t.at_line_start = 1;
    if (argc < 3 || argc > 4) {
        lab_usage(argv[0]);
        return 2;
    }
    long port;
    char *end;
    errno = 0;
    port = strtol(argv[2], &end, 10);
    if (errno || end == argv[2] || *end || port < 1 || port > 65535) {
        lab_error("'%s' is not a port (1-65535)", argv[2]);
        lab_usage(argv[0]);
        return 2;
    }
    int udp = argc > 3 && strcasecmp(argv[3], "udp") == 0;
    if (argc > 3 && !udp && strcasecmp(argv[3], "tcp") != 0) {
        lab_error("'%s' is not tcp or udp", argv[3]);
        lab_usage(argv[0]);
        return 2;
    }
    t.udp = udp;
    t.fd = talk_connect(argv[1], argv[2], udp);
    if (t.fd < 0) {
        skip_conversation();
        free(t.line);
        t.line = NULL;
        return 1;
    }
    say("connected to %s over %s", t.peer, udp ? "udp" : "tcp");
    if (t.tty)
        say(udp ? "each line you type is one datagram; bye or Ctrl-D ends, "
                  "Ctrl-C leaves"
                : "each line you type is sent; Ctrl-D half-closes, Ctrl-C "
                  "leaves");
    if (t.tty)
        talk_tty();
    else
        talk_loop();
    close(t.fd);
    if (!lab_interrupted)
        skip_conversation();
    say("closed; %ld line%s sent, %ld byte%s received", t.lines_sent,
        t.lines_sent == 1 ? "" : "s", t.bytes_received,
        t.bytes_received == 1 ? "" : "s");
    free(t.line);
    t.line = NULL;
    return t.status;
}

/* ---------------------------------------------------------------- the table */

#define TALK "Talk mode"

static const struct lab_command rows[] = {
    {"talk", "HOST PORT [tcp|udp]", cmd_talk,
     "type lines to a server, see what it sends", NULL, TALK, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void talk_register(void) {
    lab_register(rows);
}
