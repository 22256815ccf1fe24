/*
 * client.c - lesson 10: a weather sensor (your work).
 *
 * It takes COUNT temperature readings, one every INTERVAL seconds, and
 * reports each to the collector (server.c) as a line
 * `READING STATION SEQ TIME TEMP`; SEQ counts 1, 2, 3... The collector
 * answers `ACK STATION SEQ`. A reading stays in a bounded queue until it
 * is acknowledged, so when the connection is lost (the collector crashed,
 * restarted, or the network hiccuped) nothing is lost: the sensor
 * reconnects, waiting longer after each failure (exponential backoff, up
 * to --max-backoff seconds), and sends the whole queue again. A reading
 * that reaches the collector twice is counted once, as the collector
 * knows the SEQ it has counted. After 20 failures in a row it gives up,
 * exit 1; once every reading is acknowledged, exit 0.
 *
 * The temperatures are not measured: they come round from a fixed list
 * (the Python tutorial's 15, 22, 21, 26, 25, 19), so a test knows what the
 * collector must have counted.
 *
 * usage: client [--interval S] [--count N] [--id STATION] [--max-backoff S]
 *               [HOST [PORT]]
 *        default: every 2 s, 6 readings, station1, 2 s, 127.0.0.1 23456
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "23456"
#define QUEUE_MAX 64        /* readings sent but not acknowledged yet */
#define FIRST_BACKOFF 0.05  /* seconds before the first reconnect */
#define MAX_FAILURES 20     /* connections in a row that bring no ACK */
#define ACK_TIMEOUT 3.0     /* seconds an ACK may take */
#define LINE_MAX_LEN 128
#define USAGE                                                              \
    "usage: client [--interval S] [--count N] [--id STATION] "             \
    "[--max-backoff S] [HOST [PORT]]\n"

/* The temperatures, in tenths of a degree, used in turn. */
static const int TEMPS[] = {150, 220, 210, 260, 250, 190};

/* One reading. */
struct reading {
    unsigned long long seq;
    long long time;
    int tenths;
};

/* The readings sent and not acknowledged yet, oldest first: a ring of
   QUEUE_MAX. */
struct queue {
    struct reading r[QUEUE_MAX];
    size_t head; /* where the oldest is */
    size_t len;
};

/* Everything the sensor knows. */
struct sensor {
    int fd;                  /* the connection, -1 when there is none */
    struct queue q;
    unsigned long long next; /* SEQ of the next reading to take */
    double due;              /* when to take it (monotonic seconds) */
    double heard;            /* last ACK, or when the queue stopped being empty */
    int connections;         /* made so far */
    int failures;            /* in a row: connects failed, or no ACK before the end */
    double backoff;          /* seconds to wait before the next connect */
    char last_error[128];    /* why the last connection failed */
    char in[1024];           /* bytes received, not yet taken as lines */
    size_t in_len;
};

static const char *host = DEFAULT_HOST; /* for messages */
static const char *port = DEFAULT_PORT;
static const char *station = "station1";
static double interval = 2.0;
static unsigned long long count = 6;
static double max_backoff = 2.0;

/* Print "client: WHAT HOST:PORT: reason" for the current errno (PORT as
   it was given: a number or a service name). */
static void report(const char *what) {
    fprintf(stderr, "client: %s %s:%s: %s\n", what, host, port,
            strerror(errno));
}

/* Read seconds (0 to a day) from text into *out; returns 0 or -1. */
static int parse_seconds(const char *text, double *out) {
    char *end;
    errno = 0;
    double s = strtod(text, &end);
    if (errno || *end || end == text || !(s >= 0) || s > 86400)
        return -1;
    *out = s;
    return 0;
}

/* Is name 1 to 32 of A-Z a-z 0-9 _ and -, as the collector wants? */
static int good_station_name(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > 32)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-") == len;
}

/* Take option name with its value; returns 0, or -1 when there is no
   such option or the value is bad. */
static int parse_option(const char *name, const char *value) {
    char *end;
    if (strcmp(name, "--interval") == 0)
        return parse_seconds(value, &interval);
    if (strcmp(name, "--max-backoff") == 0)
        return parse_seconds(value, &max_backoff);
    if (strcmp(name, "--id") == 0) {
        station = value;
        return good_station_name(value) ? 0 : -1;
    }
    if (strcmp(name, "--count") == 0) {
        errno = 0;
        count = strtoull(value, &end, 10);
        return errno || *end || value[0] < '1' || value[0] > '9' ||
                       count > 1000000000ULL
                   ? -1
                   : 0;
    }
    return -1;
}

/* Read the options, HOST and PORT; returns 0, or -1 after printing usage. */
static int parse_args(int argc, char **argv) {
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2)
        if (parse_option(argv[i], argv[i + 1]) < 0) {
            fprintf(stderr, "client: bad %s '%s'\n" USAGE, argv[i],
                    argv[i + 1]);
            return -1;
        }
    if (argc - i > 2 || (i < argc && argv[i][0] == '-')) {
        fputs(USAGE, stderr);
        return -1;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc)
        port = argv[i];
    return 0;
}

/* The monotonic clock, in seconds. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* TODO(step 8): write sleep_seconds(s): nanosleep() for s seconds. */

/* Connect to HOST:PORT, trying each address getaddrinfo() gives; returns
   the socket, -1 with the reason in errno, or -2 after printing why HOST
   has no address (trying again would not help). */
static int connect_once(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *list;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "client: getaddrinfo %s:%s: %s\n", host, port,
                gai_strerror(rc));
        return -2;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            err = errno;
        }
    }
    freeaddrinfo(list);
    errno = err;
    return fd;
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

/* The i-th oldest reading of q. */
static struct reading *queue_at(struct queue *q, size_t i) {
    return &q->r[(q->head + i) % QUEUE_MAX];
}

/* Close the connection after it failed for the reason why, and count the
   failure. */
static void drop_connection(struct sensor *st, const char *why) {
    close(st->fd);
    st->fd = -1;
    st->failures++;
    snprintf(st->last_error, sizeof st->last_error, "%s", why);
    fprintf(stderr, "client: connection to %s:%s lost: %s\n", host, port,
            why);
}

/* Send reading r as "READING STATION SEQ TIME TEMP\n"; returns 0 or -1. */
static int send_reading(int fd, const struct reading *r) {
    char line[LINE_MAX_LEN];
    int n = snprintf(line, sizeof line, "READING %s %llu %lld %.1f\n",
                     station, r->seq, r->time, r->tenths / 10.0);
    return send_all(fd, line, (size_t)n);
}

/* Append the next reading to the queue: SEQ st->next (then one more),
   the time now, the next temperature of TEMPS; returns it. */
static struct reading *push_reading(struct sensor *st) {
    struct reading *r = queue_at(&st->q, st->q.len);
    r->seq = st->next++;
    r->time = (long long)time(NULL);
    r->tenths = TEMPS[(r->seq - 1) % (sizeof TEMPS / sizeof TEMPS[0])];
    /* TODO(step 7): count r in the queue (its len). When the queue was
       empty, the wait for an ACK starts now (st->heard). */
    return r;
}

/* Take the next reading into the queue and send it; returns 0, or -1
   when the connection failed. */
static int take_reading(struct sensor *st) {
    return send_reading(st->fd, push_reading(st));
}

/* Act on one line from the collector; returns 0, or -1 when it refused a
   reading (a bug in the sensor: resending would not help). */
static int take_line(struct sensor *st, const char *line) {
    char name[64];
    unsigned long long seq;
    char extra;
    if (sscanf(line, "ACK %63s %llu %c", name, &seq, &extra) == 2 &&
        strcmp(name, station) == 0) {
        /* TODO(step 7): the readings up to seq have arrived: drop them
           from the front of the queue, printing "acknowledged SEQ TEMP"
           for each. */
        /* An ACK means the collector works: no failures in a row, and
           the next backoff starts again from the first (step 8). */
        st->failures = 0;
        st->backoff = FIRST_BACKOFF;
        return 0;
    }
    fprintf(stderr, "client: the collector said: %s\n", line);
    return strncmp(line, "ERR", 3) == 0 ? -1 : 0;
}

/* Read what the collector sent and act on each whole line; returns 0, 1
   when the connection is lost (it was dropped), -1 on an ERR. */
static int read_answers(struct sensor *st) {
    ssize_t n = recv(st->fd, st->in + st->in_len, sizeof st->in - st->in_len, 0);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0) {
        drop_connection(st, n == 0 ? "the collector closed the connection"
                                   : strerror(errno));
        return 1;
    }
    st->in_len += (size_t)n;
    char *start = st->in, *nl;
    while ((nl = memchr(start, '\n', st->in_len - (size_t)(start - st->in)))) {
        *nl = '\0';
        if (take_line(st, start) < 0)
            return -1;
        start = nl + 1;
    }
    st->in_len -= (size_t)(start - st->in);
    memmove(st->in, start, st->in_len);
    if (st->in_len == sizeof st->in) {
        drop_connection(st, "an answer too long");
        return 1;
    }
    return 0;
}

/* Wait for answers until the next reading is due (or ACK_TIMEOUT when none
   is), and read them; returns 0, 1 when the connection was lost, -1 on
   an ERR. */
static int wait_for_answers(struct sensor *st) {
    double t = now();
    double until = st->heard + ACK_TIMEOUT;
    if (st->next <= count && st->q.len < QUEUE_MAX && st->due < until)
        until = st->due;
    struct pollfd p = {.fd = st->fd, .events = POLLIN};
    int ms = until > t ? (int)((until - t) * 1000) + 1 : 0;
    int ready = poll(&p, 1, ms);
    if (ready < 0 && errno != EINTR) {
        report("poll");
        return -1;
    }
    if (ready > 0)
        return read_answers(st);
    if (st->q.len > 0 && now() - st->heard >= ACK_TIMEOUT) {
        drop_connection(st, "no ACK came: timed out");
        return 1;
    }
    return 0;
}

/* Send every reading of the queue again, oldest first; returns 0 or -1. */
static int resend_queue(struct sensor *st) {
    /* TODO(step 8): send_reading() each reading still in the queue. */
    return st->fd < 0 ? -1 : 0;
}

/* Connect to the collector; after a failure wait st->backoff first,
   then double it (up to max_backoff); returns 0 when connected, or -1
   after MAX_FAILURES failures in a row. */
static int reconnect(struct sensor *st) {
    /* TODO(step 8): loop: give up (report st->last_error, return -1)
       after MAX_FAILURES; wait st->backoff unless this is the very first
       connect, then double it up to max_backoff; connect_once(). */
    if (st->connections > 0) {
        fprintf(stderr, "client: no reconnecting yet (step 8)\n");
        return -1;
    }
    st->fd = connect_once();
    if (st->fd < 0) {
        if (st->fd == -1)
            report("connect");
        st->fd = -1;
        return -1;
    }
    st->connections++;
    st->heard = now();
    st->in_len = 0; /* half an answer of the old connection is no answer */
    if (st->connections > 1)
        fprintf(stderr, "client: reconnected, %zu readings to send again\n",
                st->q.len);
    if (resend_queue(st) < 0)
        drop_connection(st, strerror(errno));
    return 0;
}

/* Take, send and resend readings until every one of them is
   acknowledged; returns 0, or -1 when the sensor gives up. */
static int run_sensor(struct sensor *st) {
    st->due = now();
    while (st->next <= count || st->q.len > 0) {
        while (st->fd < 0)
            if (reconnect(st) < 0)
                return -1;
        int lost;
        if (st->next <= count && st->q.len < QUEUE_MAX && now() >= st->due) {
            st->due += interval;
            lost = take_reading(st);
            if (lost)
                drop_connection(st, strerror(errno));
        } else {
            lost = wait_for_answers(st);
            if (lost < 0)
                return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) < 0)
        return 2;
    static struct sensor st; /* zeroed: an empty queue */
    st.fd = -1;
    st.next = 1;
    st.backoff = FIRST_BACKOFF;
    if (run_sensor(&st) < 0)
        return 1;
    close(st.fd);
    printf("all %llu readings acknowledged\n", count);
    return 0;
}
