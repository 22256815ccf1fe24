/*
 * cmd/capture.c - capture N server|client [--ref] [ARGS...]: the packets
 * the student's program sends and receives on loopback, caught with
 * tcpdump, summarised in a few lines and kept as a .pcap for Wireshark:
 *
 *   0.000000  client :40212 > server  SYN
 *   0.000031  server > client :40212  SYN-ACK
 *   0.000210  client :40212 > server  data, 6 bytes
 *   0.000433  server > client :40212  FIN
 *
 * tcpdump listens on lo for every TCP and UDP packet while the program
 * runs (its port is not known before a server says `listening on`);
 * afterwards the capture is cut down to the program's port and saved
 * under build/captures/. Pure ACKs are counted, not shown. check N
 * --capture does the same around a failing step.
 */
#include "cmd/cmd.h"

#include "base/files.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/term.h"
#include "core/lessons.h"
#include "core/proc.h"
#include "core/registry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_WAIT 10.0 /* seconds tcpdump may take to start listening */

/* A tcpdump running on lo. */
struct sniffer {
    pid_t pid;
    int err;       /* its stderr: "listening on lo" says it is ready */
    char *raw;     /* the whole capture (removed at the end) */
    struct buf said;
};

/* ---------------------------------------------------------------- tcpdump */

/* The loop's handler of tcpdump's stderr: keep what it says. */
static void on_sniffer(int fd, short revents, void *data) {
    (void)revents;
    char chunk[1024];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0)
        buf_add(&((struct sniffer *)data)->said, chunk, (size_t)n);
    else if (n == 0)
        loop_del_fd(fd);
}

int sniffer_start(struct sniffer **out, const char *raw) {
    struct sniffer *s = xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    buf_add(&s->said, "", 0);
    s->raw = xstrdup(raw);
    int p[2];
    if (pipe(p) != 0) {
        free(s->raw);
        free(s);
        return -1;
    }
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    char *argv[] = {"tcpdump", "-i", "lo", "-nn", "-U", "--immediate-mode", "-s", "256", "-w",
                    s->raw, "tcp or udp", NULL};
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    struct spawn how = {devnull, devnull, p[1], 1, SIGTERM, 0};
    s->pid = spawn_process(argv, &how);
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    s->err = p[0];
    loop_add_fd(p[0], POLLIN, on_sniffer, s);
    double deadline = lab_now() + READY_WAIT;
    while (s->pid > 0 && !strstr(s->said.data, "listening on") &&
           lab_now() < deadline && !lab_interrupted &&
           waitpid(s->pid, NULL, WNOHANG) == 0)
        loop_once(0.05, NULL);
    if (s->pid < 0 || !strstr(s->said.data, "listening on")) {
        lab_error("tcpdump did not start: %s",
                  s->said.len ? s->said.data : "(it said nothing)");
        *out = s;
        return -1;
    }
    *out = s;
    return 0;
}

/* Stop the tcpdump (it writes what it has) and free it. */
void sniffer_stop(struct sniffer *s) {
    if (s->pid > 0) {
        int st;
        end_child(s->pid, SIGINT, 3, &st);
    }
    loop_del_fd(s->err);
    close(s->err);
    free(s->said.data);
    if (s->raw)
        unlink(s->raw);
    free(s->raw);
    free(s);
}

/* ---------------------------------------------------------------- summary */

/* The port at the end of tcpdump's "127.0.0.1.4000" (or "::1.4000"). */
static long port_of(const char *endpoint) {
    const char *dot = strrchr(endpoint, '.');
    return dot ? strtol(dot + 1, NULL, 10) : -1;
}

/* Who an endpoint is: "server" on the server's port, else "client :P". */
static void who(long port, long server, char *out, size_t size) {
    if (port == server)
        snprintf(out, size, "server");
    else
        snprintf(out, size, "client :%ld", port);
}

/* What a packet is, from tcpdump's text after the addresses; NULL for a
   pure ACK (counted, not shown). */
static const char *what(const char *rest, char *out, size_t size) {
    const char *len = strstr(rest, "length ");
    long n = len ? strtol(len + 7, NULL, 10) : 0;
    if (strncmp(rest, "UDP", 3) == 0) {
        snprintf(out, size, "datagram, %ld bytes", n);
        return out;
    }
    const char *f = strstr(rest, "Flags [");
    if (!f)
        return NULL;
    f += 7;
    size_t fl = strcspn(f, "]");
    int syn = memchr(f, 'S', fl) != NULL, ack = memchr(f, '.', fl) != NULL;
    int fin = memchr(f, 'F', fl) != NULL, rst = memchr(f, 'R', fl) != NULL;
    if (syn)
        snprintf(out, size, "%s", ack ? "SYN-ACK" : "SYN");
    else if (rst)
        snprintf(out, size, "RST");
    else if (fin && n > 0)
        snprintf(out, size, "data, %ld bytes, and FIN", n);
    else if (fin)
        snprintf(out, size, "FIN");
    else if (n > 0)
        snprintf(out, size, "data, %ld bytes", n);
    else
        return NULL;
    return out;
}

/* Print tcpdump -r's lines as a summary, indented; server is the
   server's port. Returns how many packets it saw. */
static int summarise(const char *text, long server, const char *indent) {
    int packets = 0, acks = 0;
    double first = -1;
    char *copy = xstrdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char src[80], dst[80];
        double ts;
        int used = 0;
        if (sscanf(line, "%lf IP%*[6] %79s > %79[^:]: %n", &ts, src, dst,
                   &used) < 3 &&
            sscanf(line, "%lf IP %79s > %79[^:]: %n", &ts, src, dst, &used) < 3)
            continue;
        packets++;
        if (first < 0)
            first = ts;
        char kind[64], from[32], to[32];
        if (!what(line + used, kind, sizeof kind)) {
            acks++;
            continue;
        }
        who(port_of(src), server, from, sizeof from);
        who(port_of(dst), server, to, sizeof to);
        printf("%s%9.6f  %s > %s  %s\n", indent, ts - first, from, to, kind);
    }
    free(copy);
    if (acks)
        printf("%s%s(and %d ACK%s without data)%s\n", indent, C_DIM, acks,
               acks == 1 ? "" : "s", C_OFF);
    return packets;
}

/* The size of path (0 when there is none). */
static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Make sure tcpdump has written every packet so far: send a datagram to
   ourselves on lo and wait (bounded) till the capture grows past it. A
   SIGINT while packets wait in its buffer would lose them. */
static void flush_sniffer(struct sniffer *s) {
    long long before = file_size(s->raw);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in self = {.sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof self;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&self, len) == 0 &&
        getsockname(fd, (struct sockaddr *)&self, &len) == 0)
        sendto(fd, "lab", 3, 0, (struct sockaddr *)&self, len);
    double deadline = lab_now() + 3;
    while (file_size(s->raw) <= before && lab_now() < deadline)
        loop_once(0.02, NULL);
    loop_once(0.05, NULL);
    if (fd >= 0)
        close(fd);
}

int sniffer_show(struct sniffer *s, const long *ports, int nports, long server,
                 const char *kept, const char *indent) {
    if (s->pid > 0) {
        int st;
        flush_sniffer(s);
        end_child(s->pid, SIGINT, 3, &st);
        s->pid = -1;
    }
    struct buf filter = {0};
    for (int i = 0; i < nports; i++)
        buf_printf(&filter, "%sport %ld", i ? " or " : "", ports[i]);
    if (!nports)
        buf_puts(&filter, "port 0");
    char *cut[] = {"tcpdump", "-nn", "-r", s->raw, "-w", (char *)kept,
                   filter.data, NULL};
    char *out;
    capture(cut, &out, NULL, 1, 20);
    free(out);
    char *read_back[] = {"tcpdump", "-nn", "-tt", "-r", (char *)kept, NULL};
    int rc = capture(read_back, &out, NULL, 0, 20);
    int packets = rc == 0 ? summarise(out, server, indent) : -1;
    free(out);
    free(filter.data);
    if (packets == 0 && nports)
        printf("%s(no packets on port %ld)\n", indent, ports[0]);
    else if (packets == 0)
        printf("%s(no packets: which port is not known)\n", indent);
    return packets;
}

/* ---------------------------------------------------------------- running */

/* What capture learns from the program's stdout. */
struct watched {
    struct buf part;
    long port; /* from "listening on HOST:PORT" */
};

/* The loop's handler of the program's stdout: show it, learn the port. */
static void on_program(int fd, short revents, void *data) {
    (void)revents;
    struct watched *w = data;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) {
        loop_del_fd(fd);
        return;
    }
    fwrite(chunk, 1, (size_t)n, stdout);
    fflush(stdout);
    buf_add(&w->part, chunk, (size_t)n);
    const char *l = strstr(w->part.data, "listening on ");
    const char *colon = l ? strchr(l, '\n') : NULL;
    if (colon && !w->port) {
        while (colon > l && *colon != ':')
            colon--;
        w->port = strtol(colon + 1, NULL, 10);
    }
}

/* The PORT among a client's arguments: the first number after a
   host (the first argument not an option). */
static long client_port(char **args) {
    int seen_host = 0;
    for (int i = 0; args[i]; i++) {
        if (args[i][0] == '-')
            continue;
        char *end;
        long p = strtol(args[i], &end, 10);
        if (seen_host && !*end && p > 0 && p < 65536)
            return p;
        seen_host = 1;
    }
    return 0;
}

/* Run prog with its stdout through us; returns its status (-1: none). */
static int run_watched(char **prog, struct watched *w, double bound) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    int devnull =
        lab_mode == MODE_SCRIPT ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
    struct spawn how = {devnull, p[1], -1, 1, SIGTERM, 0};
    pid_t pid = spawn_process(prog, &how);
    close(p[1]);
    if (devnull >= 0)
        close(devnull);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    buf_add(&w->part, "", 0);
    loop_add_fd(p[0], POLLIN, on_program, w);
    int st = 0;
    enum wait_result r = wait_child(pid, bound, 1, &st);
    if (r != WAIT_EXITED) {
        end_child(pid, r == WAIT_INTERRUPTED ? SIGINT : SIGTERM, 1, &st);
        if (r == WAIT_TIMEOUT)
            lab_error("the program ran %g s and was stopped "
                      "(LAB_RUN_TIMEOUT)", bound);
    }
    loop_wait_fd(p[0], POLLIN, lab_now() + 0.5, 0); /* its last words */
    loop_once(0, NULL);
    loop_del_fd(p[0]);
    close(p[0]);
    return st;
}

/* The file a capture is kept in: build/captures/NAME-PROG-TIME.pcap. */
char *capture_file(const char *name, const char *prog) {
    char *dir = root_path("build/captures");
    mkdir_p(dir);
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    char *path = xprintf("%s/%s-%s-%s-%d.pcap", dir, name, prog, stamp,
                         (int)getpid());
    free(dir);
    return path;
}

static int cmd_capture(int argc, char **argv) {
    const char *prog = argv[2];
    if (strcmp(prog, "server") != 0 && strcmp(prog, "client") != 0) {
        lab_usage(argv[0]);
        return 2;
    }
    struct lesson *l = lesson_find(argv[1]);
    if (!l)
        return 1;
    const char *impl = lab_opt("--ref") ? "solutions" : "lessons";
    char *src = xprintf("%s/%s/%s/%s.c", lab_root(), impl, l->name, prog);
    int exists = is_file(src);
    free(src);
    if (!exists) {
        lab_error("%s/%s has no %s.c", impl, l->name, prog);
        return 1;
    }
    if (build_program(impl, l->name, prog) != 0)
        return 1;
    char *bin = xprintf("%s/build/%s/%s/%s", lab_root(), impl, l->name, prog);
    char **args = xmalloc((size_t)(argc - 1) * sizeof *args);
    args[0] = bin;
    for (int i = 3; i <= argc; i++)
        args[i - 2] = argv[i];
    char *kept = capture_file(l->name, prog);
    char *raw = xprintf("%s.raw", kept);
    struct sniffer *s;
    int status = 1;
    if (sniffer_start(&s, raw) == 0) {
        const char *env = getenv("LAB_RUN_TIMEOUT");
        double bound = env && atof(env) > 0 ? atof(env) : 60;
        struct watched w = {{0}, 0};
        int st = run_watched(args, &w, bound);
        long port = strcmp(prog, "server") == 0 ? w.port : client_port(args + 1);
        free(w.part.data);
        printf("%spackets on port %ld (kept in %s for Wireshark):%s\n", C_BOLD,
               port, kept, C_OFF);
        int n = sniffer_show(s, &port, port ? 1 : 0, port, kept, "  ");
        status = n > 0 && st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
    }
    sniffer_stop(s);
    free(raw);
    free(kept);
    free(args);
    free(bin);
    return status;
}

/* ---------------------------------------------------------------- the table */

#define WINDOWS "Windows on your program (never part of a grade)"

static const struct lab_command rows[] = {
    {"capture", "N server|client [--ref] [ARGS...]", cmd_capture,
     "your program's packets on loopback (tcpdump)", NULL, WINDOWS,
     "Runs build/lessons/NN-slug/PROG (--ref: the reference) while tcpdump\n"
     "listens on lo, then shows the packets of its port in a few lines:\n"
     "SYN, SYN-ACK, data with lengths, FIN or RST, who sent what. The\n"
     "capture is kept in build/captures/ for Wireshark. Needs tcpdump (and\n"
     "root or CAP_NET_RAW). `check N --capture` shows a failing step's."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

void capture_register(void) {
    lab_register(rows);
}
