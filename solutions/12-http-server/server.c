/*
 * server.c - lesson 12: a web server that says "Hello, client!"
 * (reference solution).
 *
 * It speaks HTTP/1.1 on HOST:PORT. GET / answers 200 with the page
 * "Hello, client!" as text/html; HEAD / answers the same headers without
 * the page; other paths get 404, other methods 501, and bytes that are not
 * an HTTP request 400 (431 when the request head is too big to hold). A
 * connection stays open for the next request (keep-alive) until the client
 * asks to close it, speaks HTTP/1.0 without asking to keep it, or stays
 * quiet for --idle seconds. Each connection has a thread of its own, as in
 * lesson 03, so a client that sends half a request and stalls holds up
 * nobody. Python hides all of this behind http.server's
 * BaseHTTPRequestHandler; here are the bytes underneath.
 *
 //> * Fill in the TODOs in the order of lessons/12-http-server/README.md;
 //> * after each step `make check LESSON=12` (or `check 12` in the lab) says
 //> * how it went.
 //> *
 * usage: server [--idle SECONDS] [HOST [PORT]]
 *        default 127.0.0.1 8000, idle 5 s; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8000 /* the port of the Python web server we mirror */
#define BACKLOG 64        /* connections the kernel queues before accept() */
#define HEAD_MAX 8192     /* the biggest request head we accept, in bytes */
#define DRAIN_MAX 65536   /* bytes close_gently() reads before it gives up */
#define PAGE "Hello, client!"
#define CONTENT_TYPE "text/html; charset=utf-8"
#define USAGE "usage: server [--idle SECONDS] [HOST [PORT]]\n"

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port = DEFAULT_PORT;
/* --idle: seconds a connection may stay silent, between requests or in
   the middle of one, before we close it. */
static double idle_limit = 5;
static int listener = -1; /* the signal handler shuts it down */
/* Atomic, not just volatile: the handler may run in any thread. */
static atomic_int stopping;

/* One client, handed from the accepting thread to its own thread, with the
   bytes received from it that no request has used yet. */
struct client {
    int fd;
    char name[INET_ADDRSTRLEN + 8]; /* "127.0.0.1:50312" */
    char in[HEAD_MAX];              /* received, not yet used */
    size_t in_len;                  /* how many bytes of in[] are used */
    size_t head_len;                /* read_head(): length of the head */
};

/* Why read_head() has, or has not, a request head for us. */
enum head {
    HEAD_OK,      /* c->in starts with a whole head of c->head_len bytes */
    HEAD_CLOSED,  /* the client closed the connection */
    HEAD_IDLE,    /* nothing came for idle_limit seconds */
    HEAD_TOO_BIG, /* HEAD_MAX bytes and still no blank line */
    HEAD_ERROR    /* recv() failed; it has been reported */
};

/* What the server needs to know of one request. Its strings point into
   text, a copy of the head cut into pieces. */
struct request {
    char text[HEAD_MAX + 1];
    const char *method, *target, *version;
    int minor;       /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    int has_host;    /* a Host header came */
    int wants_close; /* Connection: close */
    int wants_keep;  /* Connection: keep-alive */
    int has_body;    /* a body follows the head (we do not read it) */
};

/* The response to send: its status code, and how to send it. */
struct reply {
    int status;     /* 200, 404, ... */
    int head_only;  /* the request was HEAD: no body */
    int keep_alive; /* keep the connection open after it */
};

/* Print "server: WHAT WHERE: reason" for the current errno, WHERE being
   HOST:PORT of the server or of a client. Safe in any thread. */
static void report_at(const char *what, const char *where) {
    char reason[128];
    /* strerror() may use one buffer for every thread; strerror_r() fills
       ours. */
    if (strerror_r(errno, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", errno);
    fprintf(stderr, "server: %s %s: %s\n", what, where, reason);
}

/* Print "server: WHAT HOST:PORT: reason" about the server's own socket. */
static void report(const char *what) {
    int err = errno;
    char where[64];
    snprintf(where, sizeof where, "%s:%u", host, port);
    errno = err;
    report_at(what, where);
}

/* Read "--idle SECONDS" at argv[*i] if it is there; returns 0, or -1
   after printing why the value is bad. */
static int parse_idle(int argc, char **argv, int *i) {
    if (*i >= argc || strcmp(argv[*i], "--idle") != 0)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "server: --idle needs a number of seconds\n");
        return -1;
    }
    char *end;
    errno = 0;
    double s = strtod(argv[*i + 1], &end);
    /* !(s > 0) also rejects NaN. */
    if (errno || *end || end == argv[*i + 1] || !(s > 0) || s > 86400) {
        fprintf(stderr, "server: bad idle time '%s' (seconds > 0)\n",
                argv[*i + 1]);
        return -1;
    }
    idle_limit = s;
    *i += 2;
    return 0;
}

/* Read the command line into idle_limit, host and port; returns 0, or -1
   after printing usage. */
static int parse_command_line(int argc, char **argv) {
    int i = 1;
    if (parse_idle(argc, argv, &i) < 0)
        goto usage;
    if (argc - i > 2 || (i < argc && argv[i][0] == '-'))
        goto usage;
    if (i < argc)
        host = argv[i++];
    if (i < argc) {
        char *end;
        errno = 0;
        long n = strtol(argv[i], &end, 10);
        if (errno || *end || end == argv[i] || n < 0 || n > 65535) {
            fprintf(stderr, "server: bad port '%s' (0-65535)\n", argv[i]);
            goto usage;
        }
        port = (unsigned)n;
    }
    return 0;
usage:
    fputs(USAGE, stderr);
    return -1;
}

/* Create a TCP socket bound to the address addr of len bytes, listening;
   returns it, or -1 after reporting why not. */
static int listen_on(const struct sockaddr *addr, socklen_t len) {
    int fd = socket(addr->sa_family, SOCK_STREAM, 0);
    if (fd < 0) {
        report("socket");
        return -1;
    }
    /* Without SO_REUSEADDR a restart fails for a minute while the old
       connections sit in TIME_WAIT: a web server closes many. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        report("setsockopt");
    } else if (bind(fd, addr, len) < 0) {
        report("bind");
    } else if (listen(fd, BACKLOG) < 0) {
        report("listen");
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* Look host up (lesson 07) and listen on the first of its IPv4 addresses
   that works; returns the listening socket or -1. */
static int open_listener(void) {
    struct addrinfo hints, *list;
    memset(&hints, 0, sizeof hints);
    /* Simplification: IPv4 only; lesson 13 adds IPv6. */
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "server: getaddrinfo %s:%u: %s\n", host, port,
                rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next)
        fd = listen_on(ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(list);
    return fd;
}

/* Print "listening on IP:PORT", the address and real port the socket is
   bound to; returns 0 or -1. */
static int announce_address(int fd) {
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    char ip[INET_ADDRSTRLEN];
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0 ||
        !inet_ntop(AF_INET, &bound.sin_addr, ip, sizeof ip)) {
        report("getsockname");
        return -1;
    }
    port = ntohs(bound.sin_port); /* port 0 became a real one */
    printf("listening on %s:%u\n", ip, port);
    fflush(stdout); /* a test is waiting for this line */
    return 0;
}

/* Send all len bytes of buf, as send() may take fewer; returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Make recv() and send() on client c's socket fail with EAGAIN after
   idle_limit seconds without progress; returns 0 or -1. */
static int set_idle_timeout(const struct client *c) {
    struct timeval tv;
    tv.tv_sec = (time_t)idle_limit;
    tv.tv_usec = (suseconds_t)((idle_limit - (double)tv.tv_sec) * 1e6);
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1; /* all zeros would mean "wait for ever" */
    /* The send timeout drops a client that stops reading, too: without it
       a full send buffer would block this thread for ever. */
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
        report_at("setsockopt", c->name);
        return -1;
    }
    return 0;
}

/* TODO(step 8): write timed_out(): is errno the "timed out" of a socket
   with SO_RCVTIMEO (EAGAIN or EWOULDBLOCK)? */
//{ step 8
/* Is errno the "timed out" of a socket with SO_RCVTIMEO or SO_SNDTIMEO? */
static int timed_out(void) {
    return errno == EAGAIN || errno == EWOULDBLOCK;
}
//}

/* Find the blank line that ends a request head in the len bytes of buf;
   returns the head's length up to and including it, or 0 when it has not
   all arrived. Lines end with "\r\n"; a bare "\n", as typed into nc, is
   accepted too. */
static size_t head_end(const char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Receive from c until c->in starts with a whole request head (bytes left
   over from the previous request count); sets c->head_len and returns
   HEAD_OK, or says why there is no request. */
static enum head read_head(struct client *c) {
    /* TODO(step 1): loop: when head_end(c->in, c->in_len) finds the blank
       line, set c->head_len and return HEAD_OK; otherwise recv() more at
       the end of c->in (room: sizeof c->in - c->in_len). 0 from recv():
       HEAD_CLOSED; -1: report_at("recv", c->name) and HEAD_ERROR.
       TODO(step 4): when c->in is full and still no blank line: HEAD_TOO_BIG.
       TODO(step 8): recv() failing with timed_out() is the idle timeout:
       HEAD_IDLE. */
    //{ step 1
    for (;;) {
        c->head_len = head_end(c->in, c->in_len);
        if (c->head_len > 0)
            return HEAD_OK;
        //}
        //{ step 4
        if (c->in_len == sizeof c->in)
            return HEAD_TOO_BIG; /* never recv() with room for 0 bytes */
        //}
        //{ step 1
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        //}
        //{ step 8
        if (n < 0 && timed_out())
            return HEAD_IDLE; /* not an error: the client went quiet */
        //}
        //{ step 1
        if (n < 0) {
            report_at("recv", c->name);
            return HEAD_ERROR;
        }
        if (n == 0)
            return HEAD_CLOSED;
        c->in_len += (size_t)n;
    }
    //}
    //> /* for now: no recv(): only a head already in c->in is found */
    //> c->head_len = head_end(c->in, c->in_len);
    //> if (c->head_len > 0)
    //>     return HEAD_OK;
    //> errno = ENOSYS;
    //> report_at("recv", c->name);
    //> return HEAD_ERROR;
}

/* TODO(step 4): write is_method(s): is s 1 to 15 capital letters (a
   simplification of HTTP's "token")? */
//{ step 4
/* Is s a method name: 1 to 15 capital letters (a simplification of HTTP's
   "token")? */
static int is_method(const char *s) {
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    return n > 0 && n < 16 && s[n] == '\0';
}
//}

/* Cut the request line "METHOD TARGET VERSION", the first line of
   req->text, into req->method, req->target, req->version and req->minor;
   returns 0, or -1 when it is not a request line. */
static int parse_request_line(struct request *req) {
    char *line = req->text; /* parse_request() ended it with a '\0' */
    /* TODO(step 1): cut line at its two spaces (strchr, then write '\0'
       over each space) into req->method, req->target and req->version;
       return -1 when there are not two spaces. req->minor: 0 for
       "HTTP/1.0", else 1.
       TODO(step 4): return -1 unless the method is_method(), the target
       starts with '/', and the version is exactly HTTP/1.1 or HTTP/1.0
       (a third space makes the version wrong too). */
    //{ step 1
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2)
        return -1;
    *sp1 = *sp2 = '\0';
    req->method = line;
    req->target = sp1 + 1;
    req->version = sp2 + 1;
    req->minor = strcmp(req->version, "HTTP/1.0") == 0 ? 0 : 1;
    //}
    //{ step 4
    if (!is_method(req->method) || req->target[0] != '/')
        return -1;
    if (strcmp(req->version, "HTTP/1.1") != 0 &&
        strcmp(req->version, "HTTP/1.0") != 0)
        return -1; /* Simplification: a real server says 505 to HTTP/2.0 */
    //}
    //{ step 1
    return 0;
    //}
    //> fprintf(stderr, "server: request line \"%.60s\" refused: "
    //>                 "parse_request_line() is not written yet (step 1)\n",
    //>         line);
    //> return -1;
}

/* Does the comma-separated list of words in value hold word, in any mix
   of upper and lower case? ("keep-alive, Upgrade" holds "upgrade".) */
static int has_word(const char *value, const char *word) {
    size_t len = strlen(word);
    while (*value) {
        value += strspn(value, " \t,");
        size_t n = strcspn(value, ",");
        while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
            n--;
        if (n == len && strncasecmp(value, word, len) == 0)
            return 1;
        value += strcspn(value, ",");
    }
    return 0;
}

/* Read one header line "Name: value" into req; returns 0, or -1 when the
   line is not a header. */
static int parse_header(struct request *req, char *line) {
    char *colon = strchr(line, ':');
    /* TODO(step 4): return -1 when there is no colon, the name before it
       is empty, or the name holds a space or a tab. */
    //{ step 4
    if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line))
        return -1;
    //}
    //> if (!colon)
    //>     return 0;
    *colon = '\0';
    const char *value = colon + 1 + strspn(colon + 1, " \t");
    /* Names are case-insensitive: "connection: close" counts. */
    if (strcasecmp(line, "Host") == 0)
        req->has_host = 1;
    /* TODO(step 6): for a Connection header, set req->wants_close and
       req->wants_keep when its value has_word() "close" and "keep-alive";
       for Content-Length (other than 0) or Transfer-Encoding, set
       req->has_body. */
    //{ step 6
    if (strcasecmp(line, "Connection") == 0) {
        req->wants_close |= has_word(value, "close");
        req->wants_keep |= has_word(value, "keep-alive");
    }
    if ((strcasecmp(line, "Content-Length") == 0 && strcmp(value, "0") != 0) ||
        strcasecmp(line, "Transfer-Encoding") == 0)
        req->has_body = 1;
    //}
    //> if (has_word(value, "close")) /* for now: seen, not obeyed */
    //>     fprintf(stderr, "server: \"%s: %s\" not obeyed: parse_header() "
    //>                     "step 6 is not written yet\n", line, value);
    return 0;
}

/* Copy the head of len bytes into req and parse it: the request line,
   then each header line up to the blank line; returns 0, or -1 when it is
   not a valid request. */
static int parse_request(struct request *req, const char *head, size_t len) {
    memset(req, 0, sizeof *req);
    /* TODO(step 4): a head with a NUL byte in it (memchr) is not a request. */
    //{ step 4
    if (memchr(head, '\0', len))
        return -1; /* a NUL byte has no business in a head */
    //}
    memcpy(req->text, head, len);
    req->text[len] = '\0';
    char *line = req->text;
    for (int first = 1;; first = 0) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (!first && line[0] == '\0')
            break; /* the blank line */
        if ((first ? parse_request_line(req) : parse_header(req, line)) < 0)
            return -1;
        line = nl + 1;
    }
    /* TODO(step 4): an HTTP/1.1 request without a Host header is not valid. */
    //{ step 4
    if (req->minor == 1 && !req->has_host)
        return -1;
    //}
    return 0;
}

/* Choose the status code of the answer to the valid request req: 200 for
   GET or HEAD of "/", 404 for another path, 501 for another method. */
static int choose_status(const struct request *req) {
    /* TODO(step 3): 501 unless the method is GET or HEAD; 404 unless the
       path (the target up to a '?', if any) is "/". */
    //{ step 3
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return 501;
    size_t path_len = strcspn(req->target, "?");
    if (path_len != 1 || req->target[0] != '/')
        return 404;
    //}
    //> return req->target[0] == '/' ? 200 : 404; /* for now: any path */
    return 200;
}

/* Should the connection stay open after the answer to request req? */
static int wants_keep_alive(const struct request *req) {
    /* TODO(step 6): no when the request has a body (we do not read it,
       so we could not find the next request), or says Connection: close;
       an HTTP/1.0 request only when it says Connection: keep-alive. */
    //{ step 6
    if (req->has_body || req->wants_close)
        return 0;
    if (req->minor == 0)
        return req->wants_keep;
    //}
    /* TODO(step 5): HTTP/1.1 keeps the connection open by default. */
    //{ step 5
    return 1;
    //}
    //> return req->wants_keep; /* for now: only when the client asks */
}

/* The reason phrase that goes with status code status. */
static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    default: return "Internal Server Error";
    }
}

/* Send client c the response r: status line, headers, a blank line, then
   the page (for 200) or a line saying what went wrong; returns 0, or -1
   after reporting why not. */
static int send_response(const struct client *c, const struct reply *r) {
    char body[64];
    if (r->status == 200)
        snprintf(body, sizeof body, "%s", PAGE);
    else
        snprintf(body, sizeof body, "%d %s\n", r->status, reason(r->status));
    /* TODO(step 1): format the head into a buffer with snprintf():
       "HTTP/1.1 STATUS REASON\r\n", then the headers Content-Type
       (CONTENT_TYPE), Content-Length (the body's length in bytes) and
       Connection ("keep-alive" or "close", from r->keep_alive), each ending
       in "\r\n", then an empty line "\r\n". send_all() the head, then the
       body. On failure report_at("send", c->name) and return -1.
       TODO(step 2): for HEAD (r->head_only), send the head only. */
    //{ step 1
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: %s\r\n"
                     "\r\n",
                     r->status, reason(r->status), CONTENT_TYPE, strlen(body),
                     r->keep_alive ? "keep-alive" : "close");
    if (send_all(c->fd, head, (size_t)n) < 0) {
        report_at("send", c->name);
        return -1;
    }
    //}
    //{ step 2
    if (r->head_only)
        return 0; /* same headers as GET, Content-Length too, no body */
    //}
    //{ step 1
    if (send_all(c->fd, body, strlen(body)) < 0) {
        report_at("send", c->name);
        return -1;
    }
    return 0;
    //}
    //> /* for now: the body alone, as HTTP/0.9 did: no status line, no
    //>    headers (curl: "Received HTTP/0.9 when not allowed") */
    //> if (send_all(c->fd, body, strlen(body)) < 0) {
    //>     report_at("send", c->name);
    //>     return -1;
    //> }
    //> return 0;
}

/* Print one line about an answered request, like a web server's access
   log: who asked, the request line when there was one, the status. */
static void log_request(const struct client *c, const struct request *req,
                        int status) {
    if (req && req->version)
        printf("%s \"%s %s %s\" %d\n", c->name, req->method, req->target,
               req->version, status);
    else
        printf("%s %d\n", c->name, status);
}

/* Answer an unusable request of client c with status (400 or 431); the
   connection closes after it, as we cannot tell where the next request
   would start. */
static void refuse(const struct client *c, int status) {
    /* TODO(step 4): send_response() with this status and keep_alive 0. */
    //{ step 4
    struct reply r = {.status = status, .head_only = 0, .keep_alive = 0};
    if (send_response(c, &r) == 0)
        log_request(c, NULL, status);
    //}
    //> fprintf(stderr, "server: %s: no %d %s sent: refuse() is not written "
    //>                 "yet (step 4)\n", c->name, status, reason(status));
}

/* Answer the requests of client c, one after another on its connection,
   until it closes, goes quiet, sends what is not a request, or asks to
   close; returns 1 when we sent a response that said we would close. */
static int serve_connection(struct client *c) {
    /* On this thread's stack, not from malloc(): a thread that calls
       malloc() gets a memory arena of its own, 64 MiB of address space. */
    struct request req_space, *req = &req_space;
    int closed_by_us = 0;
    for (;;) {
        enum head got = read_head(c);
        if (got == HEAD_TOO_BIG) {
            refuse(c, 431);
            closed_by_us = 1;
        }
        if (got == HEAD_IDLE)
            printf("%s: idle for %g s, closed\n", c->name, idle_limit);
        if (got != HEAD_OK)
            break;
        if (parse_request(req, c->in, c->head_len) < 0) {
            refuse(c, 400);
            closed_by_us = 1;
            break;
        }
        struct reply r = {.status = choose_status(req),
                          .head_only = strcmp(req->method, "HEAD") == 0,
                          .keep_alive = wants_keep_alive(req)};
        if (send_response(c, &r) < 0)
            break;
        log_request(c, req, r.status);
        closed_by_us = !r.keep_alive;
        if (!r.keep_alive)
            break;
        /* TODO(step 5): the bytes after the head may be the next request
           already (a client may send several at once): move them to the
           front of c->in and subtract the head from c->in_len. */
        //{ step 5
        c->in_len -= c->head_len;
        memmove(c->in, c->in + c->head_len, c->in_len);
        //}
    }
    return closed_by_us;
}

/* Close c's connection after a last response without turning the close
   into a reset: closing with unread bytes makes the kernel send RST, and
   the client may lose our response. So stop sending, then read and drop
   what it still sends until it closes too (the idle timeout and
   DRAIN_MAX bytes bound the wait). */
static void close_gently(const struct client *c) {
    shutdown(c->fd, SHUT_WR);
    char junk[4096];
    size_t total = 0;
    while (total < DRAIN_MAX) {
        ssize_t n = recv(c->fd, junk, sizeof junk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    close(c->fd);
}

/* The thread of one client: answer its requests until the connection
   ends, then close the socket and free c; returns NULL, as nobody waits
   for it. */
static void *client_thread(void *arg) {
    struct client *c = arg;
    /* Lesson 05's timeout: recv() and send() give up after idle_limit
       seconds of silence (step 8 tells that from an error). */
    if (set_idle_timeout(c) < 0) {
        close(c->fd);
        free(c);
        return NULL;
    }
    if (serve_connection(c))
        close_gently(c);
    else
        close(c->fd);
    free(c);
    return NULL;
}

/* Serve connection conn from peer in a new detached thread, with nothing
   received yet; returns 0, or -1 after closing it (the server carries on
   with the next client). */
static int start_client(int conn, const struct sockaddr_in *peer) {
    struct client *c = malloc(sizeof *c);
    if (!c) {
        report("malloc");
        close(conn);
        return -1;
    }
    c->fd = conn;
    c->in_len = 0;
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
    snprintf(c->name, sizeof c->name, "%s:%u", ip, ntohs(peer->sin_port));
    /* Detached: the thread's memory goes back when it ends. */
    pthread_attr_t attr;
    pthread_t thread;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&thread, &attr, client_thread, c);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        errno = rc; /* pthread calls return the error instead */
        report("pthread_create");
        close(conn);
        free(c);
        return -1;
    }
    return 0;
}

/* Sleep a tenth of a second. */
static void pause_briefly(void) {
    struct timespec tenth = {0, 100 * 1000 * 1000};
    nanosleep(&tenth, NULL);
}

/* Accept clients, each into a thread of its own, until a stop signal;
   returns the exit status for main. */
static int serve_forever(int fd) {
    while (!atomic_load(&stopping)) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int conn = accept(fd, (struct sockaddr *)&peer, &len);
        if (conn >= 0) {
            start_client(conn, &peer);
            continue;
        }
        if (atomic_load(&stopping))
            break; /* the handler shut the listener down */
        int err = errno;
        if (err == EINTR || err == ECONNABORTED)
            continue; /* a signal, or a client gone before we got to it */
        report("accept");
        if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
            return 1;
        /* Out of fds or memory: the client stays queued, and accept()
           would fail again at once. Simplification: wait a little for
           other clients to leave instead of spinning. */
        pause_briefly();
    }
    printf("shutting down\n");
    return 0;
}

/* SIGTERM, SIGINT: note that we stop, and wake the accept() loop. */
static void on_stop(int sig) {
    (void)sig;
    atomic_store(&stopping, 1);
    /* A flag alone would be seen only after the next client. shutdown()
       is async-signal-safe, and on Linux it makes accept(), blocked in
       any thread or called later, fail at once. */
    shutdown(listener, SHUT_RDWR);
}

/* Ignore SIGPIPE and catch SIGTERM and SIGINT; returns 0 or -1. */
static int setup_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* Writing to a connection the peer has reset raises SIGPIPE, which
       kills the whole process: every client, for one that left. send_all()
       passes MSG_NOSIGNAL; ignoring the signal covers every other write. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART; /* other threads' calls carry on */
    if (sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGINT, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_command_line(argc, argv) < 0)
        return 2;
    /* Threads print to stdout, which a test reads from a file while we
       run: a line at a time, so each is there as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    listener = open_listener();
    if (listener < 0)
        return 1;
    int status = 1;
    if (setup_signals() == 0 && announce_address(listener) == 0)
        status = serve_forever(listener);
    /* Client threads still running end with the process: exit() closes
       their sockets, and their clients see the connection close. */
    close(listener);
    return status;
}
