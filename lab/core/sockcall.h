/*
 * sockcall.h - what the socket playground and talk mode share: errno
 * names, addresses as text, and the wait bound every blocking call keeps
 * (at most `wait` seconds, and Ctrl-C stops it sooner).
 */
#ifndef LAB_CORE_SOCKCALL_H
#define LAB_CORE_SOCKCALL_H

#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longest text of an IP (INET6_ADDRSTRLEN and a little), and of an
   address: "[ipv6]:port". */
#define IP_TEXT 48
#define ADDR_TEXT 64

/* How a bounded wait ended. */
enum wait_end { WAIT_READY, WAIT_BOUND, WAIT_CTRL_C };

/* The bound of blocking calls in seconds (the `wait` command sets it). */
double lab_wait_seconds(void);
void lab_set_wait_seconds(double seconds);

/* The errno name of err ("ECONNREFUSED"), or "errno N" for one not in the
   table. */
const char *errno_name(int err);

/* The name of a getaddrinfo error code ("EAI_NONAME"). */
const char *gai_name(int code);

/* Write addr as "127.0.0.1:4000" or "[::1]:4000" into out (ADDR_TEXT
   bytes); "-" when len is 0 (no address). */
void addr_text(const struct sockaddr *addr, socklen_t len, char *out);

/* Is addr the any-address with port 0 (what an unbound socket reports)? */
int addr_is_unset(const struct sockaddr *addr);

/* Write only the IP of addr ("127.0.0.1", "::1") into out (IP_TEXT). */
void ip_text(const struct sockaddr *addr, char *out);

/* Wait until fd is ready for events (POLLIN, POLLOUT) or the monotonic
   time deadline passes, in short slices so Ctrl-C is seen at once. */
enum wait_end wait_fd(int fd, short events, double deadline);

/* getaddrinfo that gives up at the wait bound or on Ctrl-C, as a name
   lookup can hang on an unreachable DNS server. Returns 0 with *res set
   (freeaddrinfo it) or the getaddrinfo error code; *end says whether it
   finished (WAIT_READY) or why it stopped. */
int lookup(const char *host, const char *service, const struct addrinfo *hints,
           struct addrinfo **res, enum wait_end *end);

/* connect that waits at most until deadline (non-blocking connect, poll,
   then SO_ERROR). Returns 0, or -1 with errno set; *end is WAIT_BOUND or
   WAIT_CTRL_C when the lab stopped the wait (errno ETIMEDOUT or EINTR;
   the attempt goes on in the kernel). */
int connect_bounded(int fd, const struct sockaddr *addr, socklen_t len,
                    double deadline, enum wait_end *end);

/* Let lookups still running in the background finish (bounded), then
   free them: called at exit. */
void lookup_cleanup(void);

#endif
