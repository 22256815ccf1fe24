/*
 * server.c - lesson 10: the weather collector (reference solution).
 *
 * Sensors (client.c) connect and report temperatures, one line each:
 *
 *     READING STATION SEQ TIME TEMP     ->  ACK STATION SEQ
 *     STATS                             ->  STATION NAME COUNT MIN MEAN MAX
 *                                           ... (one line per station)
 *                                           REJECTED N
 *                                           END
 *
 * Anything else, or a reading that does not make sense, is answered
 * `ERR reason` and counted in REJECTED: bad input never stops the
 * collector. Every connection has a thread of its own (lesson 03), all
 * sharing one table of stations under a mutex. A reading whose SEQ is not
 * above the last one counted for its station is a resend: it is
 * acknowledged again but counted once. With --state FILE the table is
 * saved in FILE (a new file renamed over the old one) before each ACK, and
 * read back at start, so a collector killed and restarted loses no
 * reading it acknowledged and counts none twice. SIGTERM or SIGINT
 * (Ctrl-C) prints the table and exits 0. The weather station of the
 * Python tutorial this lab grew from, grown into a service that can be
 * trusted with its data.
 *
 * usage: server [--state FILE] [HOST [PORT]]
 *        default 127.0.0.1 23456; PORT 0 = any free port
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "23456" /* the tutorial's port */
#define BACKLOG 64
#define LINE_MAX_LEN 128   /* longer lines are refused, not read in full */
#define NAME_MAX_LEN 32    /* station names: 1-32 of A-Z a-z 0-9 _ - */
#define MAX_STATIONS 256   /* simplification: a fixed table */
#define TEMP_MIN (-900)    /* -90.0 C, in tenths of a degree */
#define TEMP_MAX 600       /* +60.0 C */
#define PATH_MAX_LEN 4000  /* --state FILE, and FILE.tmp beside it */
#define REPLY_MAX (MAX_STATIONS * 96 + 64) /* the longest answer: STATS */
#define HOST_LEN 64 /* room for a numeric IPv4 or IPv6 address */
#define SERV_LEN 8
#define STATE_HEADER "weather-state 1\n"
#define USAGE "usage: server [--state FILE] [HOST [PORT]]\n"

/* What the collector knows about one station. Temperatures are whole
   tenths of a degree: sums of integers are exact, sums of doubles drift. */
struct station {
    char name[NAME_MAX_LEN + 1];
    unsigned long long last_seq; /* the highest SEQ counted */
    long count;
    long long sum; /* of the temperatures counted */
    int min, max;
};

/* One reading, as a sensor sent it. */
struct reading {
    char station[NAME_MAX_LEN + 1];
    unsigned long long seq;
    long long time; /* seconds since 1970, the sensor's clock */
    int tenths;     /* the temperature in tenths of a degree */
};

/* Bytes received from one connection, not yet taken as lines. */
struct line_reader {
    char buf[4096];
    size_t len;
    int skipping; /* in the middle of a line too long to keep */
};

/* One connection, handed from the accepting thread to its own thread. */
struct client {
    int fd;
    char name[HOST_LEN + SERV_LEN + 2]; /* "127.0.0.1:50312" */
    struct line_reader in;
    char reply[REPLY_MAX];
};

enum { LINE_END = -1, LINE_TOO_LONG = -2 };

static const char *host = DEFAULT_HOST; /* for error messages */
static unsigned port;
static const char *state_path; /* --state FILE, or NULL */
static int listener = -1; /* the signal handler shuts it down */
/* Atomic, not just volatile: the handler may run in any thread. */
static atomic_int stopping;

/* The table every connection's thread reads and writes. */
static struct station stations[MAX_STATIONS];
static int station_count;
/* Lines refused since this collector started. Atomic: one add, no lock. */
static atomic_long rejected;
/* TODO(step 3): a mutex, table_lock, to guard stations and station_count. */
//{ step 3
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
//}

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

/* Read the options, HOST and PORT; returns the port text, or NULL after
   printing usage. */
static const char *parse_args(int argc, char **argv) {
    int i = 1;
    const char *port_text = DEFAULT_PORT;
    if (i + 1 < argc && strcmp(argv[i], "--state") == 0) {
        state_path = argv[i + 1];
        i += 2;
        if (!*state_path || strlen(state_path) >= PATH_MAX_LEN) {
            fprintf(stderr, "server: bad state file name\n" USAGE);
            return NULL;
        }
    }
    if (argc - i > 2 || (i < argc && argv[i][0] == '-')) {
        fputs(USAGE, stderr);
        return NULL;
    }
    if (i < argc)
        host = argv[i++];
    if (i < argc)
        port_text = argv[i];
    char *end;
    errno = 0;
    long n = strtol(port_text, &end, 10);
    if (errno || *end || end == port_text || n < 0 || n > 65535) {
        fprintf(stderr, "server: bad port '%s' (0-65535)\n" USAGE, port_text);
        return NULL;
    }
    port = (unsigned)n;
    return port_text;
}

/* Create a socket for the first address of HOST that can be bound, bound
   to it with SO_REUSEADDR and listening; returns it or -1. */
static int open_listener(const char *port_text) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *list;
    int rc = getaddrinfo(host, port_text, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "server: getaddrinfo %s:%s: %s\n", host, port_text,
                gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            report("socket");
            continue;
        }
        /* A collector restarted after a crash must get its port back at
           once, though its old connections sit in TIME_WAIT. */
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
            report("setsockopt");
        else if (bind(fd, a->ai_addr, a->ai_addrlen) < 0)
            report("bind");
        else if (listen(fd, BACKLOG) < 0)
            report("listen");
        else
            continue; /* fd is the one */
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

/* Print "listening on HOST:PORT" with the port the kernel gave; returns 0
   or -1. */
static int announce_port(int fd) {
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    char serv[SERV_LEN];
    if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
        report("getsockname");
        return -1;
    }
    int rc = getnameinfo((struct sockaddr *)&bound, len, NULL, 0, serv,
                         sizeof serv, NI_NUMERICSERV);
    if (rc != 0) {
        fprintf(stderr, "server: getnameinfo: %s\n", gai_strerror(rc));
        return -1;
    }
    port = (unsigned)atoi(serv); /* port 0 became a real one */
    printf("listening on %s:%u\n", host, port);
    fflush(stdout); /* a pipe under a test: nobody sees it otherwise */
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

/* Take the next line from r (or from fd when r holds none) into line,
   without its newline or a \r before it; returns its length, LINE_TOO_LONG
   once for a line of size bytes or more (the rest of it is skipped), or
   LINE_END at end of file or on an error. */
static int read_line(int fd, struct line_reader *r, char *line, size_t size) {
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        size_t take = nl ? (size_t)(nl - r->buf) + 1 : r->len;
        if ((r->skipping && r->len > 0) || take >= size) {
            int was_skipping = r->skipping;
            r->skipping = !nl; /* the line goes on in the next recv() */
            memmove(r->buf, r->buf + take, r->len - take);
            r->len -= take;
            if (!was_skipping)
                return LINE_TOO_LONG;
            continue;
        }
        if (nl) {
            size_t n = take - 1;
            if (n > 0 && r->buf[n - 1] == '\r')
                n--; /* nc -C and telnet end lines with \r\n */
            memcpy(line, r->buf, n);
            line[n] = '\0';
            memmove(r->buf, r->buf + take, r->len - take);
            r->len -= take;
            return (int)n;
        }
        ssize_t got = recv(fd, r->buf + r->len, sizeof r->buf - r->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return LINE_END; /* simplification: a last line without \n is lost */
        r->len += (size_t)got;
    }
}

/* Split line at spaces into at most max words in words; returns how many
   there were (max + 1 when there were more). */
static int split_words(char *line, char **words, int max) {
    int n = 0;
    char *save;
    for (char *w = strtok_r(line, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        if (n == max)
            return max + 1;
        words[n++] = w;
    }
    return n;
}

/* Read a whole number of 1 to max_digits decimal digits, nothing else,
   from s into *out; returns 0, or -1 when s is not one. */
static int parse_whole(const char *s, int max_digits,
                       unsigned long long *out) {
    unsigned long long n = 0;
    int digits = 0;
    for (; *s; s++, digits++) {
        if (*s < '0' || *s > '9' || digits == max_digits)
            return -1;
        n = n * 10 + (unsigned)(*s - '0');
    }
    *out = n;
    return digits > 0 ? 0 : -1;
}

/* Read a temperature like "21", "-3.5" or "0.4" (at most 3 digits before
   the point, at most 1 after) into *tenths; returns 0, or -1 when s is
   not one. */
static int parse_tenths(const char *s, int *tenths) {
    int sign = 1, whole = 0, digits = 0, frac = 0;
    if (*s == '-') {
        sign = -1;
        s++;
    }
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        whole = whole * 10 + (*s - '0');
    if (digits == 0 || digits > 3)
        return -1;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9' || s[2] != '\0')
            return -1;
        frac = s[1] - '0';
    } else if (*s != '\0') {
        return -1;
    }
    *tenths = sign * (whole * 10 + frac);
    return 0;
}

/* Is the line of len bytes printable ASCII only (no NUL, no control
   bytes, nothing above 126)? */
static int is_text(const char *line, int len) {
    /* TODO(step 2): check every byte: 32 to 126 only. */
    //{ step 2
    for (int i = 0; i < len; i++)
        if (line[i] < 32 || line[i] > 126)
            return 0;
    return 1;
    //}
    //> return strlen(line) == (size_t)len; /* for now: only a NUL is refused */
}

/* TODO(step 2): write valid_station(name): is name 1 to NAME_MAX_LEN of
   A-Z a-z 0-9 _ and - ? */
//{ step 2
/* Is name a station name: 1 to NAME_MAX_LEN letters, digits, _ or -? */
static int valid_station(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    return 1;
}
//}

/* Read line "READING STATION SEQ TIME TEMP" into r; returns NULL, or why
   it is not a reading the collector can count. */
static const char *parse_reading(char *line, struct reading *r) {
    char *w[5];
    unsigned long long when;
    if (split_words(line, w, 5) != 5 || strcmp(w[0], "READING") != 0)
        return "expected READING STATION SEQ TIME TEMP";
    if (parse_whole(w[2], 18, &r->seq) < 0)
        return "bad sequence number";
    if (parse_whole(w[3], 12, &when) < 0)
        return "bad time";
    if (parse_tenths(w[4], &r->tenths) < 0)
        return "bad temperature";
    r->time = (long long)when;
    /* TODO(step 2): refuse a bad station name (valid_station()), SEQ 0,
       and a temperature outside TEMP_MIN..TEMP_MAX. */
    //{ step 2
    if (!valid_station(w[1]))
        return "bad station name";
    if (r->seq == 0)
        return "bad sequence number";
    if (r->tenths < TEMP_MIN || r->tenths > TEMP_MAX)
        return "temperature out of range";
    //}
    snprintf(r->station, sizeof r->station, "%s", w[1]);
    return NULL;
}

/* Find station name in the table, adding it when it is new; returns it,
   or NULL when the table is full. Call with table_lock held. */
static struct station *find_station(const char *name) {
    for (int i = 0; i < station_count; i++)
        if (strcmp(stations[i].name, name) == 0)
            return &stations[i];
    if (station_count == MAX_STATIONS)
        return NULL;
    struct station *s = &stations[station_count++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

/* Print "server: state FILE: what" on stderr. */
static void report_state(const char *what) {
    fprintf(stderr, "server: state %s: %s\n", state_path, what);
}

/* Write the table to state_path: a new file FILE.tmp, then renamed over
   FILE, so FILE is always a whole table, the old one or the new one;
   returns 0, or -1 after reporting. Call with table_lock held. */
static int save_state(void) {
    /* TODO(step 6): write STATE_HEADER and a line per station to FILE.tmp,
       close it, rename() it over FILE. */
    //{ step 6
    char tmp[PATH_MAX_LEN + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        report_state(strerror(errno));
        return -1;
    }
    fputs(STATE_HEADER, f);
    for (int i = 0; i < station_count; i++) {
        const struct station *s = &stations[i];
        fprintf(f, "%s %llu %ld %lld %d %d\n", s->name, s->last_seq,
                s->count, s->sum, s->min, s->max);
    }
    /* Simplification: no fsync(). The file survives the collector's
       crash (the kernel has it), not a power cut. */
    int failed = ferror(f);
    if (fclose(f) != 0 || failed || rename(tmp, state_path) < 0) {
        report_state(strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
    //}
    //> report_state("saving is not written yet (step 6)");
    //> return -1;
}

/* Read one station line of a state file, as save_state() writes it, into
   the table; returns 0, or -1 when it is not one. Call with table_lock
   held, or before any thread runs. */
static int load_station(const char *line) {
    /* TODO(step 6): read the six fields, check the name, store them in
       the station's row (find_station()). */
    //{ step 6
    struct station s;
    char extra;
    memset(&s, 0, sizeof s);
    if (sscanf(line, "%32s %llu %ld %lld %d %d %c", s.name, &s.last_seq,
               &s.count, &s.sum, &s.min, &s.max, &extra) != 6 ||
        !valid_station(s.name) || s.count < 0)
        return -1;
    struct station *slot = find_station(s.name);
    if (!slot)
        return -1;
    *slot = s;
    return 0;
    //}
    //> return *line ? -1 : 0; /* for now: no line is understood */
}

/* Read the table from state_path if it exists (no file: a first start,
   with an empty table); returns 0, or -1 after reporting a file that
   cannot be read or is not a state file. */
static int load_state(void) {
    FILE *f = fopen(state_path, "r");
    if (!f && errno == ENOENT)
        return 0;
    if (!f) {
        report_state(strerror(errno));
        return -1;
    }
    char line[256];
    int n = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        n++;
        bad = n == 1 ? strcmp(line, STATE_HEADER) != 0 : load_station(line) < 0;
    }
    fclose(f);
    if (bad || n == 0) {
        char what[64];
        snprintf(what, sizeof what, "not a state file (line %d)", n);
        report_state(what);
        return -1;
    }
    return 0;
}

/* Count r in its station's row unless it is a resend; returns NULL, or
   why it cannot be counted. Call with table_lock held. */
static const char *count_reading(const struct reading *r) {
    struct station *s = find_station(r->station);
    if (!s)
        return "too many stations";
    /* TODO(step 4): a SEQ not above the station's last_seq was counted
       before: answer it (return NULL) without counting it again; else
       remember it in last_seq. */
    //{ step 4
    if (r->seq <= s->last_seq)
        return NULL;
    s->last_seq = r->seq;
    //}
    /* TODO(step 1): add r to the station's count, sum, min and max. */
    //{ step 1
    if (s->count == 0 || r->tenths < s->min)
        s->min = r->tenths;
    if (s->count == 0 || r->tenths > s->max)
        s->max = r->tenths;
    s->count++;
    s->sum += r->tenths;
    return NULL;
    //}
    //> return "counting is not written yet (step 1)";
}

/* Count r and, with --state, save the table before the ACK goes out;
   returns NULL or why r is not counted. */
static const char *record_reading(const struct reading *r) {
    /* TODO(step 3): hold table_lock from here to the end: every
       connection's thread reads and writes the table. */
    //{ step 3
    pthread_mutex_lock(&table_lock);
    //}
    const char *why = count_reading(r);
    /* A collector that cannot keep what it counted must not acknowledge
       it: it stops, and the sensors keep their readings until it is
       back. (A resend is saved too: its first ACK may have been lost
       with a failed save.) */
    if (!why && state_path && save_state() < 0)
        exit(1);
    //{ step 3
    pthread_mutex_unlock(&table_lock);
    //}
    return why;
}

/* Write the table into buf as the answer to STATS: a STATION line per
   station, REJECTED, END; returns its length. */
static size_t format_stats(char *buf, size_t size) {
    size_t len = 0;
    /* TODO(step 3): hold table_lock while you read the table. */
    /* TODO(step 1): a line "STATION NAME COUNT MIN MEAN MAX" per station
       that has counted readings (MEAN with 2 decimals). */
    //{ step 3
    pthread_mutex_lock(&table_lock);
    //}
    //{ step 1
    for (int i = 0; i < station_count && len < size; i++) {
        const struct station *s = &stations[i];
        if (s->count == 0)
            continue;
        /* A tenth printed with %.1f comes out as it went in. */
        len += (size_t)snprintf(buf + len, size - len,
                                "STATION %s %ld %.1f %.2f %.1f\n", s->name,
                                s->count, s->min / 10.0,
                                (double)s->sum / s->count / 10.0,
                                s->max / 10.0);
    }
    //}
    //{ step 3
    pthread_mutex_unlock(&table_lock);
    //}
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, "REJECTED %ld\nEND\n",
                                atomic_load(&rejected));
    return len < size ? len : size - 1;
}

/* Answer a line that is refused: count it, note it on stderr, and write
   "ERR why" into buf; returns the answer's length. */
static size_t refuse(const struct client *c, const char *why, char *buf,
                     size_t size) {
    /* TODO(step 2): count the refused line in rejected. */
    //{ step 2
    atomic_fetch_add(&rejected, 1);
    //}
    fprintf(stderr, "server: %s: refused a line: %s\n", c->name, why);
    return (size_t)snprintf(buf, size, "ERR %s\n", why);
}

/* Work out the answer to line (len bytes, or LINE_TOO_LONG) into
   c->reply; returns the answer's length. */
static size_t answer(struct client *c, char *line, int len) {
    char *out = c->reply;
    size_t size = sizeof c->reply;
    if (len == LINE_TOO_LONG)
        return refuse(c, "line too long", out, size);
    if (!is_text(line, len))
        return refuse(c, "not text", out, size);
    if (strcmp(line, "STATS") == 0)
        return format_stats(out, size);
    if (strncmp(line, "READING", 7) != 0)
        return refuse(c, "unknown command", out, size);
    struct reading r;
    const char *why = parse_reading(line, &r);
    if (!why)
        why = record_reading(&r);
    if (why)
        return refuse(c, why, out, size);
    return (size_t)snprintf(out, size, "ACK %s %llu\n", r.station, r.seq);
}

/* The thread of one connection: answer its lines until it closes, then
   close the socket and free c; returns NULL, as nobody waits for it. */
static void *client_thread(void *arg) {
    struct client *c = arg;
    char line[LINE_MAX_LEN + 1];
    for (;;) {
        int len = read_line(c->fd, &c->in, line, sizeof line);
        if (len == LINE_END)
            break;
        size_t n = answer(c, line, len);
        if (send_all(c->fd, c->reply, n) < 0)
            break; /* the sensor went away: it resends what we owe it */
    }
    close(c->fd);
    free(c);
    return NULL;
}

/* Serve connection conn from peer in a new detached thread; returns 0, or
   -1 after closing it (the collector carries on with the next one). */
static int start_client(int conn, const struct sockaddr_storage *peer,
                        socklen_t len) {
    struct client *c = malloc(sizeof *c);
    if (!c) {
        report("malloc");
        close(conn);
        return -1;
    }
    c->fd = conn;
    c->in.len = 0;
    c->in.skipping = 0;
    char ip[HOST_LEN], serv[SERV_LEN];
    if (getnameinfo((const struct sockaddr *)peer, len, ip, sizeof ip, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(ip, sizeof ip, "?");
    snprintf(c->name, sizeof c->name, "%s:%s", ip, serv);
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

/* Accept connections, each into a thread of its own, until a stop
   signal; returns the exit status for main. */
static int accept_sensors(int fd) {
    while (!atomic_load(&stopping)) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int conn = accept(fd, (struct sockaddr *)&peer, &len);
        if (conn >= 0) {
            start_client(conn, &peer, len);
            continue;
        }
        if (atomic_load(&stopping))
            break; /* the handler shut the listener down */
        int err = errno;
        if (err == EINTR || err == ECONNABORTED)
            continue;
        report("accept");
        if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
            return 1;
        pause_briefly(); /* out of fds: wait for some to be closed */
    }
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

/* Ignore SIGPIPE; let SIGTERM and SIGINT stop the collector; returns 0
   or -1. */
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
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
        report("sigaction");
        return -1;
    }
    return 0;
}

/* Print the final table on stdout, as STATS would answer. */
static void print_final_stats(void) {
    /* TODO(step 5): print format_stats()'s text on stdout and flush. */
    //{ step 5
    static char buf[REPLY_MAX]; /* only main calls this, once */
    size_t len = format_stats(buf, sizeof buf);
    fwrite(buf, 1, len, stdout);
    fflush(stdout);
    //}
}

int main(int argc, char **argv) {
    const char *port_text = parse_args(argc, argv);
    if (!port_text)
        return 2;
    if (state_path && load_state() < 0)
        return 1;
    listener = open_listener(port_text);
    if (listener < 0)
        return 1;
    int status = 1;
    if (setup_signals() == 0 && announce_port(listener) == 0)
        status = accept_sensors(listener);
    if (status == 0)
        print_final_stats();
    /* Connection threads still running end with the process. */
    close(listener);
    return status;
}
