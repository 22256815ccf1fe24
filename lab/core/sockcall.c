/*
 * sockcall.c - errno names, addresses as text and bounded waits for the
 * socket playground and talk mode (see sockcall.h).
 *
 * Every blocking step waits on the lab's event loop (loop_wait_fd), in
 * slices of at most 100 ms, looking at lab_interrupted between them, so
 * Ctrl-C and the `wait` bound stop it even when the signal lands just
 * before poll() starts; background jobs' output keeps flowing meanwhile.
 */
#include "core/sockcall.h"

#include "base/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLEANUP_SECONDS 2.0 /* how long exit waits for stray lookups */

static double wait_seconds = 10.0;

double lab_wait_seconds(void) {
    return wait_seconds;
}

void lab_set_wait_seconds(double seconds) {
    wait_seconds = seconds;
}

/* ---------------------------------------------------------------- names */

#define NAME(e)                                                                \
    { e, #e }
static const struct {
    int value;
    const char *name;
} errnos[] = {
    NAME(EPERM),        NAME(ENOENT),          NAME(EINTR),
    NAME(EIO),          NAME(EBADF),           NAME(EAGAIN),
    NAME(ENOMEM),       NAME(EACCES),          NAME(EFAULT),
    NAME(EBUSY),        NAME(EEXIST),          NAME(EINVAL),
    NAME(ENFILE),       NAME(EMFILE),          NAME(ENOSPC),
    NAME(EPIPE),        NAME(ENOSYS),          NAME(ENOTSOCK),
    NAME(EDESTADDRREQ), NAME(EMSGSIZE),        NAME(EPROTOTYPE),
    NAME(ENOPROTOOPT),  NAME(EPROTONOSUPPORT), NAME(EOPNOTSUPP),
    NAME(EAFNOSUPPORT), NAME(EADDRINUSE),      NAME(EADDRNOTAVAIL),
    NAME(ENETDOWN),     NAME(ENETUNREACH),     NAME(ENETRESET),
    NAME(ECONNABORTED), NAME(ECONNRESET),      NAME(ENOBUFS),
    NAME(EISCONN),      NAME(ENOTCONN),        NAME(ETIMEDOUT),
    NAME(ECONNREFUSED), NAME(EHOSTDOWN),       NAME(EHOSTUNREACH),
    NAME(EALREADY),     NAME(EINPROGRESS),     NAME(ESHUTDOWN),
    NAME(EPFNOSUPPORT), NAME(ESOCKTNOSUPPORT), NAME(ERANGE),
    NAME(EOVERFLOW),
};

static const struct {
    int value;
    const char *name;
} gai_codes[] = {
    NAME(EAI_AGAIN),      NAME(EAI_BADFLAGS), NAME(EAI_FAIL),
    NAME(EAI_FAMILY),     NAME(EAI_MEMORY),   NAME(EAI_NONAME),
    NAME(EAI_SERVICE),    NAME(EAI_SOCKTYPE), NAME(EAI_SYSTEM),
    NAME(EAI_OVERFLOW),
#ifdef EAI_NODATA
    NAME(EAI_NODATA),
#endif
#ifdef EAI_ADDRFAMILY
    NAME(EAI_ADDRFAMILY),
#endif
};

const char *errno_name(int err) {
    static char unknown[32];
    /* EWOULDBLOCK and ENOTSUP share values with EAGAIN and EOPNOTSUPP on
       Linux; the table holds the names the man pages use first. */
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (errnos[i].value == err)
            return errnos[i].name;
    snprintf(unknown, sizeof unknown, "errno %d", err);
    return unknown;
}

const char *gai_name(int code) {
    static char unknown[32];
    for (size_t i = 0; i < sizeof gai_codes / sizeof gai_codes[0]; i++)
        if (gai_codes[i].value == code)
            return gai_codes[i].name;
    snprintf(unknown, sizeof unknown, "EAI %d", code);
    return unknown;
}

/* ---------------------------------------------------------------- addresses */

void ip_text(const struct sockaddr *addr, char *out) {
    const void *ip = NULL;
    if (addr->sa_family == AF_INET)
        ip = &((const struct sockaddr_in *)addr)->sin_addr;
    else if (addr->sa_family == AF_INET6)
        ip = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    if (ip == NULL || inet_ntop(addr->sa_family, ip, out, IP_TEXT) == NULL)
        snprintf(out, IP_TEXT, "(family %d)", addr->sa_family);
}

void addr_text(const struct sockaddr *addr, socklen_t len, char *out) {
    char ip[IP_TEXT];
    if (len == 0 || addr->sa_family == AF_UNSPEC) {
        snprintf(out, ADDR_TEXT, "-");
        return;
    }
    ip_text(addr, ip);
    if (addr->sa_family == AF_INET)
        snprintf(out, ADDR_TEXT, "%s:%u", ip,
                 ntohs(((const struct sockaddr_in *)addr)->sin_port));
    else if (addr->sa_family == AF_INET6)
        snprintf(out, ADDR_TEXT, "[%s]:%u", ip,
                 ntohs(((const struct sockaddr_in6 *)addr)->sin6_port));
    else
        snprintf(out, ADDR_TEXT, "%s", ip);
}

int addr_is_unset(const struct sockaddr *addr) {
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return in->sin_port == 0 && in->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        return in6->sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
    }
    return addr->sa_family == AF_UNSPEC;
}

/* ---------------------------------------------------------------- waiting */

enum wait_end wait_fd(int fd, short events, double deadline) {
    if (lab_interrupted)
        return WAIT_CTRL_C;
    /* Alone: the playground has printed half its line ("recv(3, 1024)"). */
    short r = loop_wait_fd(fd, events, deadline, LOOP_INTERRUPTIBLE | LOOP_ALONE);
    if (r > 0)
        return WAIT_READY;
    return r < 0 ? WAIT_CTRL_C : WAIT_BOUND;
}

int connect_bounded(int fd, const struct sockaddr *addr, socklen_t len,
                    double deadline, enum wait_end *end) {
    *end = WAIT_READY;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    int rc = connect(fd, addr, len);
    int err = rc < 0 ? errno : 0;
    if (rc < 0 && err == EINPROGRESS) {
        *end = wait_fd(fd, POLLOUT, deadline);
        if (*end == WAIT_READY) {
            socklen_t size = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) < 0)
                err = errno;
            rc = err ? -1 : 0;
        } else {
            err = *end == WAIT_BOUND ? ETIMEDOUT : EINTR;
        }
    }
    fcntl(fd, F_SETFL, flags); /* back to blocking, as the student made it */
    errno = err;
    return rc;
}

/* ---------------------------------------------------------------- lookups */

/* A getaddrinfo running in its own thread. Whoever of the caller and the
   thread lets go of it last frees it (the caller gives up at the bound). */
struct lookup_job {
    char *host, *service;
    struct addrinfo hints;
    struct addrinfo *res;
    int code;
    int done[2]; /* the thread writes a byte here when it is finished */
    int finished, abandoned;
};

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static int abandoned_jobs; /* given up on but still running */

/* Free a job and everything it holds. */
static void job_free(struct lookup_job *job) {
    if (job->res != NULL)
        freeaddrinfo(job->res);
    close(job->done[0]);
    close(job->done[1]);
    free(job->host);
    free(job->service);
    free(job);
}

/* Thread body: run getaddrinfo, then tell the caller or clean up. */
static void *lookup_thread(void *arg) {
    struct lookup_job *job = arg;
    job->code = getaddrinfo(job->host, job->service, &job->hints, &job->res);
    pthread_mutex_lock(&job_lock);
    int abandoned = job->abandoned;
    job->finished = 1;
    if (abandoned)
        abandoned_jobs--;
    else if (write(job->done[1], "", 1) < 0) {
        /* cannot happen: an empty pipe always takes one byte */
    }
    pthread_mutex_unlock(&job_lock);
    if (abandoned)
        job_free(job);
    return NULL;
}

/* Start job in a thread that takes no signals (Ctrl-C belongs to the
   REPL's thread); returns 0 or an errno. */
static int start_lookup(struct lookup_job *job, pthread_t *tid) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = pthread_create(tid, NULL, lookup_thread, job);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

/* Copy of s (NULL stays NULL); sets *failed when out of memory. */
static char *dup_or_null(const char *s, int *failed) {
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *failed = 1;
    return copy;
}

int lookup(const char *host, const char *service, const struct addrinfo *hints,
           struct addrinfo **res, enum wait_end *end) {
    *end = WAIT_READY;
    /* A numeric address never blocks: no thread needed. */
    struct addrinfo numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    int code = getaddrinfo(host, service, &numeric, res);
    if (code != EAI_NONAME || host == NULL)
        return code;

    int failed = 0;
    struct lookup_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return EAI_MEMORY;
    job->host = dup_or_null(host, &failed);
    job->service = dup_or_null(service, &failed);
    job->hints = *hints;
    job->done[0] = job->done[1] = -1;
    pthread_t tid;
    if (failed || pipe(job->done) < 0 || start_lookup(job, &tid) != 0) {
        job_free(job);
        return EAI_MEMORY;
    }
    *end = wait_fd(job->done[0], POLLIN, lab_now() + wait_seconds);
    pthread_mutex_lock(&job_lock);
    if (*end != WAIT_READY && !job->finished) {
        job->abandoned = 1; /* the thread frees it when getaddrinfo returns */
        abandoned_jobs++;
        pthread_mutex_unlock(&job_lock);
        pthread_detach(tid);
        return EAI_AGAIN;
    }
    pthread_mutex_unlock(&job_lock);
    pthread_join(tid, NULL);
    *end = WAIT_READY;
    code = job->code;
    *res = job->res;
    job->res = NULL;
    job_free(job);
    return code;
}

void lookup_cleanup(void) {
    double deadline = lab_now() + CLEANUP_SECONDS;
    for (;;) {
        pthread_mutex_lock(&job_lock);
        int left = abandoned_jobs;
        pthread_mutex_unlock(&job_lock);
        if (left == 0 || lab_now() >= deadline)
            return;
        loop_once(0.01, NULL); /* polling, bounded by the deadline */
    }
}
