/*
 * client.c - lesson 11: a raw HTTP/1.1 GET client (reference solution).
 *
 * It connects to HOST:PORT, sends one GET request for PATH with the Host
 * header HTTP/1.1 requires and `Connection: close`, reads the status line
 * and the headers, and prints the body on standard output byte for byte,
 * the way `curl -s http://HOST:PORT/PATH` does. Where the body ends is the
 * heart of HTTP/1.1, and the response says it in one of three ways:
 * Content-Length (exactly that many bytes, then stop: the server may keep
 * the connection open), chunked transfer coding (pieces, each preceded by
 * its size in hex), or neither (the body runs to the end of the
 * connection).
 *
 * Exit status: 0 for an answer of 1xx-3xx, 3 for 4xx and 5xx (the status
 * line goes to stderr; the body is still printed), 1 for a network error
 * or a response that is not HTTP, 2 for bad usage. With -v the status
 * line and the headers are shown on stderr.
 *
 * The TODO(step N) comments mark the lesson's work, in the order of the
 * steps of lessons/11-http-get/README.md.
 *
 * usage: client [-v] [HOST [PORT [PATH]]]    default 127.0.0.1 8000 /
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "8000"
#define BUF_SIZE 4096
#define LINE_MAX_LEN 8192 /* the longest status, header or chunk line */
#define RECV_TIMEOUT 10   /* seconds a silent server is given */
#define EXIT_HTTP_ERROR 3 /* the server answered 4xx or 5xx */

static const char *host = DEFAULT_HOST; /* for error messages */
static const char *port = DEFAULT_PORT;
static const char *path = "/";
static int verbose;

/* Bytes received and not used yet: lines are taken from here one byte at
   a time, the body in runs. */
struct reader {
    int fd;
    char buf[BUF_SIZE];
    size_t pos, len;
};

/* What the head of the response says. */
struct response {
    int status;            /* 200, 404, ... */
    char status_line[256]; /* for the message on a 4xx or 5xx */
    long long length;      /* Content-Length, or -1 when there is none */
    int chunked;           /* Transfer-Encoding: chunked */
};

/* Print "client: WHAT HOST:PORT: reason" for errno, where a recv() that
   ran out of time (EAGAIN) says "timed out". */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
                                                    : strerror(errno));
}

/* Print "client: bad response from HOST:PORT: WHY"; returns -1. */
static int bad_response(const char *why) {
    fprintf(stderr, "client: bad response from %s:%s: %s\n", host, port, why);
    return -1;
}

/* Print the usage line; returns -1. */
static int usage(void) {
    fprintf(stderr, "usage: client [-v] [HOST [PORT [PATH]]]\n");
    return -1;
}

/* Is PATH something we may put in a request line: a '/', then printable
   characters with no spaces? */
static int path_ok(const char *p) {
    if (p[0] != '/' || strlen(p) > LINE_MAX_LEN / 2)
        return 0;
    for (; *p; p++)
        if (!isgraph((unsigned char)*p))
            return 0;
    return 1;
}

/* Read -v, HOST, PORT and PATH; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    if (i < argc && strcmp(argv[i], "-v") == 0) {
        verbose = 1;
        i++;
    }
    if (argc - i > 3 || (i < argc && argv[i][0] == '-'))
        return usage();
    if (i < argc && strlen(argv[i]) > 255) {
        fprintf(stderr, "client: host name too long\n");
        return usage();
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc)
        port = argv[i++];
    if (i < argc)
        path = argv[i++];
    long n = strspn(port, "0123456789") == strlen(port) && strlen(port) <= 5
                 ? strtol(port, NULL, 10)
                 : 0;
    if (n < 1 || n > 65535) {
        fprintf(stderr, "client: bad port '%s' (1-65535)\n", port);
        return usage();
    }
    if (!path_ok(path)) {
        fprintf(stderr, "client: bad path '%s' (it starts with / and has "
                        "no spaces: use %%20)\n", path);
        return usage();
    }
    return 0;
}

/* Give recv() a time limit, so a server that goes silent cannot keep us
   for ever (lesson 05); returns 0 or -1. */
static int set_recv_timeout(int fd) {
    struct timeval tv = {.tv_sec = RECV_TIMEOUT, .tv_usec = 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
        report("setsockopt");
        return -1;
    }
    return 0;
}

/* Connect to the first address of HOST:PORT that answers (lesson 07);
   returns the socket or -1. */
static int connect_to(void) {
    struct addrinfo hints = {0}, *list;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int err = getaddrinfo(host, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        report("connect"); /* errno of the last address tried */
    freeaddrinfo(list);
    if (fd >= 0 && set_recv_timeout(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send all len bytes of buf (lesson 02); returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report("send");
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write all len bytes of buf to standard output; returns 0 or -1. */
static int write_all(const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "client: write to standard output: %s\n",
                    strerror(errno));
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write the GET request for PATH into req; returns its length (as
   snprintf() does), or -1. */
static int format_request(char *req, size_t size) {
    /* TODO(step 1): snprintf() the request line `GET PATH HTTP/1.1`, a
       `Host: HOST:PORT` header and a `Connection: close` header, each
       line ending in \r\n, then the empty line that ends the request. */
    //{ step 1
    /* An IPv6 address goes in brackets, as in a URL: [::1]:8000. */
    int v6 = strchr(host, ':') != NULL;
    return snprintf(req, size,
                    "GET %s HTTP/1.1\r\n"
                    "Host: %s%s%s:%s\r\n"
                    "Connection: close\r\n"
                    "\r\n",
                    path, v6 ? "[" : "", host, v6 ? "]" : "", port);
    //}
    //> return snprintf(req, size, "%s", ""); /* for now: an empty request */
}

/* Send the GET request for PATH; returns 0 or -1. */
static int send_request(int fd) {
    char req[LINE_MAX_LEN + 512];
    int len = format_request(req, sizeof req);
    if (len < 0 || (size_t)len >= sizeof req) {
        report("request");
        return -1;
    }
    return send_all(fd, req, (size_t)len);
}

/* Make sure the reader holds unread bytes, receiving more if it is empty;
   returns how many it holds, 0 at end of file, or -1 on an error. */
static int fill(struct reader *r) {
    /* TODO(step 2): if bytes are left (pos < len), return how many; else
       recv() into buf (again on EINTR), set pos = 0 and len = what came
       and return it: 0 at end of file, report("recv") and -1 on errors. */
    //{ step 2
    if (r->pos < r->len)
        return (int)(r->len - r->pos);
    ssize_t n;
    do
        n = recv(r->fd, r->buf, sizeof r->buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        report("recv");
        return -1;
    }
    r->pos = 0;
    r->len = (size_t)n;
    return (int)n;
    //}
    //> /* for now: nothing is received */
    //> fprintf(stderr, "client: recv %s:%s: fill() is not written yet (step 2): "
    //>                 "nothing read from socket %d\n", host, port, r->fd);
    //> return -1;
}

/* Read one line ending in \n into line (without \r\n, NUL-terminated);
   returns its length, or -1 after an error (too long, cut short). */
static int read_line(struct reader *r, char *line, size_t size) {
    /* TODO(step 2): take bytes one at a time from r->buf (fill() when it
       is empty) up to \n; at end of file, or when the line does not fit
       in size, fail with bad_response(). Drop the \r\n. */
    //{ step 2
    size_t len = 0;
    for (;;) {
        int n = fill(r);
        if (n < 0)
            return -1;
        if (n == 0)
            return bad_response("the connection closed in the middle of a "
                                "line");
        char c = r->buf[r->pos++];
        if (c == '\n')
            break;
        /* Bounded: a server that sends a header line of a megabyte gets
           an error, not a megabyte of our memory. */
        if (len + 1 >= size)
            return bad_response("a line of the response is too long (over "
                                "8 KiB)");
        line[len++] = c;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    if (strlen(line) != len)
        return bad_response("a NUL byte in a line of the response");
    return (int)len;
    //}
    //> if (fill(r) < 0)
    //>     return -1;
    //> /* for now: the line says it is not read, and that is an error */
    //> snprintf(line, size, "read_line() is not written yet (step 2)");
    //> return bad_response(line);
}

/* Read the status code from a status line like `HTTP/1.1 200 OK`;
   returns it (100 to 599), or -1 when the line is not one. */
static int parse_status_line(const char *line) {
    /* TODO(step 2): check for `HTTP/`, a digit, `.`, a digit, a space and
       three digits followed by a space or the end; return the number. */
    //{ step 2
    if (strncmp(line, "HTTP/", 5) != 0 || !isdigit((unsigned char)line[5]) ||
        line[6] != '.' || !isdigit((unsigned char)line[7]) || line[8] != ' ')
        return -1;
    const char *code = line + 9;
    for (int i = 0; i < 3; i++)
        if (!isdigit((unsigned char)code[i]))
            return -1;
    if (code[3] != ' ' && code[3] != '\0')
        return -1;
    int status = atoi(code); /* three digits: no overflow */
    return status >= 100 && status <= 599 ? status : -1;
    //}
    //> /* for now: no line is a status line */
    //> fprintf(stderr, "client: parse_status_line() is not written yet (step "
    //>                 "2): \"%.40s\" refused\n", line);
    //> return -1;
}

/* Read a Content-Length value: decimal digits only; returns the number,
   or -1 when the value is not one. */
static long long parse_length(const char *value) {
    /* TODO(step 4): accept 1 to 15 decimal digits and nothing else (no
       sign, no spaces inside); return the number, -1 otherwise. */
    //{ step 4
    size_t len = strlen(value);
    if (len == 0 || len > 15 || strspn(value, "0123456789") != len)
        return -1;
    return strtoll(value, NULL, 10);
    //}
    //> /* for now: no value is a length */
    //> fprintf(stderr, "client: parse_length() is not written yet (step 4): "
    //>                 "Content-Length \"%.40s\" refused\n", value);
    //> return -1;
}

/* Return value with the spaces and tabs around it removed (in place). */
static char *trim(char *value) {
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        value[--len] = '\0';
    return value;
}

/* Note what one header line says about the body in res; returns 0, or
   -1 for a line that is not `Name: value` or a bad Content-Length. */
static int note_header(char *line, struct response *res) {
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return bad_response("a header line without a name and a ':'");
    *colon = '\0';
    char *value = trim(colon + 1);
    /* Header names are case-insensitive: content-length is Content-Length. */
    if (strcasecmp(line, "Content-Length") == 0) {
        long long n = parse_length(value);
        if (n < 0 || (res->length >= 0 && res->length != n))
            return bad_response("a bad Content-Length header");
        res->length = n;
    } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        /* Simplification: only `chunked` alone; with a coding such as
           `gzip, chunked` we would have to undo gzip as well. */
        if (strcasecmp(value, "chunked") == 0)
            res->chunked = 1;
    }
    return 0;
}

/* Read the status line and the headers, up to the empty line, into res;
   returns 0, or -1 after an error. With -v, show them on stderr. */
static int read_head(struct reader *r, struct response *res) {
    char line[LINE_MAX_LEN];
    if (read_line(r, line, sizeof line) < 0)
        return -1;
    res->status = parse_status_line(line);
    if (res->status < 0)
        return bad_response("not an HTTP status line");
    snprintf(res->status_line, sizeof res->status_line, "%.200s", line);
    res->length = -1;
    res->chunked = 0;
    if (verbose)
        fprintf(stderr, "%s\n", line);
    for (;;) {
        int len = read_line(r, line, sizeof line);
        if (len < 0)
            return -1;
        if (len == 0)
            return 0; /* the empty line: the body comes next */
        if (verbose)
            fprintf(stderr, "%s\n", line);
        if (note_header(line, res) < 0)
            return -1;
    }
}

/* Copy count body bytes (count < 0: up to the end of the connection) to
   standard output; returns how many came (fewer if it closed), or -1. */
static long long pass_body(struct reader *r, long long count) {
    /* TODO(step 2): while count < 0 or fewer than count are copied:
       fill(), write_all() what the reader holds (but no more than is
       still missing), advance r->pos. Stop at end of file. */
    //{ step 2
    long long done = 0;
    while (count < 0 || done < count) {
        int n = fill(r);
        if (n < 0)
            return -1;
        if (n == 0)
            break; /* end of file */
        size_t take = (size_t)n;
        if (count >= 0 && (long long)take > count - done)
            take = (size_t)(count - done);
        if (write_all(r->buf + r->pos, take) < 0)
            return -1;
        r->pos += take;
        done += (long long)take;
    }
    return done;
    //}
    //> /* for now: a note on standard output in place of the body */
    //> char note[128];
    //> int len = snprintf(note, sizeof note, "[pass_body() is not written yet "
    //>                    "(step 2): %zu bytes held, count %lld]\n",
    //>                    r->len - r->pos, count);
    //> return write_all(note, (size_t)len) < 0 ? -1 : 0;
}

/* Copy a body of exactly length bytes to standard output and stop, open
   connection or not; returns 0, or -1 (also when it closes early). */
static int pass_length(struct reader *r, long long length) {
    /* TODO(step 4): pass_body() length bytes; fewer means the connection
       closed early: bad_response("the connection closed after N of M
       body bytes"). */
    //{ step 4
    long long got = pass_body(r, length);
    if (got < 0)
        return -1;
    if (got < length) {
        char why[128];
        snprintf(why, sizeof why,
                 "the connection closed after %lld of %lld body bytes", got,
                 length);
        return bad_response(why);
    }
    return 0;
    //}
    //> /* for now: the body runs to the end of the connection */
    //> fprintf(stderr, "client: pass_length() is not written yet (step 4): "
    //>                 "Content-Length %lld ignored\n", length);
    //> return pass_body(r, -1) < 0 ? -1 : 0;
}

//{ step 5
/* Read a chunk size line like `1a2f` or `1a2f;name=value`; returns the
   size, or -1 when the line is not one. */
static long long parse_chunk_size(const char *line) {
    size_t digits = strspn(line, "0123456789abcdefABCDEF");
    if (digits == 0 || digits > 15)
        return -1;
    char end = line[digits]; /* then the end, or a chunk extension */
    if (end != '\0' && end != ';' && end != ' ' && end != '\t')
        return -1;
    return strtoll(line, NULL, 16);
}
//}

/* Decode a chunked body to standard output: a size line, that many bytes
   and \r\n, again and again up to size 0, then trailer lines up to an
   empty line; returns 0, or -1 after an error. */
static int pass_chunked(struct reader *r) {
    /* TODO(step 5): loop: read_line() the size line and read its hex
       number (up to a ';' or the end; not hex: bad_response()); size 0
       ends the loop; pass_body() size bytes (fewer: bad_response()); then
       read_line() the empty line after the chunk. Last, read_line() the
       trailers up to an empty line. */
    //{ step 5
    char line[LINE_MAX_LEN];
    for (;;) {
        if (read_line(r, line, sizeof line) < 0)
            return -1;
        long long size = parse_chunk_size(line);
        if (size < 0)
            return bad_response("a bad chunk size line");
        if (size == 0)
            break; /* the last chunk */
        long long got = pass_body(r, size);
        if (got < 0)
            return -1;
        if (got < size)
            return bad_response("the connection closed in the middle of a "
                                "chunk");
        int len = read_line(r, line, sizeof line);
        if (len < 0)
            return -1;
        if (len != 0)
            return bad_response("no \\r\\n after a chunk");
    }
    for (;;) { /* trailers: header lines after the last chunk, ignored */
        int len = read_line(r, line, sizeof line);
        if (len <= 0)
            return len;
    }
    //}
    //> return pass_body(r, -1) < 0 ? -1 : 0;
}

/* Print the body, framed the way the head says; returns 0, or -1. */
static int read_body(struct reader *r, const struct response *res) {
    if (res->chunked) /* chunked wins over a Content-Length */
        return pass_chunked(r);
    if (res->length >= 0)
        return pass_length(r, res->length);
    /* Neither: the body is everything up to the end of the connection. */
    return pass_body(r, -1) < 0 ? -1 : 0;
}

/* Return the exit status for the response: 0 for 1xx to 3xx, and
   EXIT_HTTP_ERROR for 4xx and 5xx, after printing the status line. */
static int exit_status(const struct response *res) {
    /* TODO(step 3): for status 400 and above, print `client: GET PATH
       HOST:PORT: STATUS-LINE` on stderr and return EXIT_HTTP_ERROR;
       return 0 for the others. */
    //{ step 3
    if (res->status >= 400) {
        fprintf(stderr, "client: GET %s %s:%s: %s\n", path, host, port,
                res->status_line);
        return EXIT_HTTP_ERROR;
    }
    return 0;
    //}
    //> return res->status >= 600 ? EXIT_HTTP_ERROR : 0; /* for now: 4xx, 5xx: 0 */
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    int fd = connect_to();
    if (fd < 0)
        return 1;
    static struct reader r; /* static: starts empty, off the stack */
    r.fd = fd;
    struct response res = {0};
    int status = 1;
    if (send_request(fd) == 0 && read_head(&r, &res) == 0 &&
        read_body(&r, &res) == 0)
        status = exit_status(&res);
    close(fd);
    return status;
}
