/*
 * loadgen - epoll load generator for the one-shot "hello" protocol.
 *
 * The hello server sends "Hello World!\0" (13 bytes) to each client and
 * closes. loadgen keeps many connections to it in flight, checks that each
 * gets exactly the expected bytes and then EOF, and prints one parseable
 * line, so benchmark and stress scripts can drive any server the same way.
 *
 * Build:  gcc -O2 -Wall -Wextra -Werror -pthread -o loadgen c/loadgen.c
 *
 * Usage:  loadgen -h HOST -p PORT -c CONCURRENCY -n TOTAL
 *                 [-d SECONDS] [-t SECONDS] [-e EXPECT] [-r] [-j THREADS]
 *   -h HOST  IPv4/IPv6 literal, loopback only (127.0.0.0/8, ::1): this is
 *            a local test tool. Anything else exits 2 before any traffic.
 *   -p PORT  TCP port, 1-65535.
 *   -c N     connections kept in flight at once, split over the threads.
 *   -n N     upper bound on connections started in all.
 *   -d S     stop starting new connections after S seconds (fractional ok);
 *            those in flight still finish, bounded by -t. Default: no limit.
 *   -t S     hard deadline for the whole run, default 60. Connections still
 *            open then count as timeouts and are closed; the run ends by then.
 *   -e STR   bytes expected before EOF. C escapes (\0 \n \r \t \\ \xHH and
 *            octal \ooo) or hex:48656c6c6f. Default "Hello World!\0".
 *   -r       close with RST (SO_LINGER {1,0}) so no TIME_WAIT piles up.
 *   -j N     threads, each with its own epoll set and share of -c (default 1).
 *
 * Output: exactly one line on stdout:
 *   ok=N bad=N errors=N timeouts=N started=N cps=N p50_us=N p90_us=N
 *   p99_us=N max_us=N secs=F addrnotavail_retries=N
 *   ok        read exactly EXPECT, then EOF
 *   bad       wrong bytes, too many bytes, or EOF before all of EXPECT
 *   errors    connect or read failed (ECONNREFUSED, ECONNRESET, ...)
 *   timeouts  still open at the -t deadline
 *   started   connections begun; ok+bad+errors+timeouts == started
 *   cps       ok / seconds from start to the last ok completion
 *   p*_us     nearest-rank latency of ok connections, (last) connect() call
 *             to EOF; 0 if there were none
 *   secs      wall time of the run, 3 decimals
 *   addrnotavail_retries  connects retried ~1 ms after EADDRNOTAVAIL
 *             (ephemeral ports exhausted); these are not errors
 *
 * Exit status: 0 if every started connection was ok and none timed out;
 * 1 otherwise or on a fatal error; 2 for bad usage or a non-loopback host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RETRY_NS 1000000ull /* EADDRNOTAVAIL back-off: ports free up fast */

enum { FREE, RETRY, READING };

struct conn {
	int fd, state;
	size_t got;  /* bytes of the expectation matched so far */
	uint64_t t0; /* time of the (latest) connect() call */
};

struct retry { int idx; uint64_t due; };

struct worker {
	pthread_t tid;
	int cap; /* this thread's share of -c */
	struct conn *conns;
	int *freelist, nfree;
	/* Every retry waits the same back-off, so a FIFO stays sorted by due. */
	struct retry *ring;
	int rhead, rlen;
	uint64_t *lat; /* microseconds, one per ok connection */
	size_t nlat, latcap;
	uint64_t bad, errors, timeouts, started, retries, last_ok;
};

/* Written once by main before any thread starts, read-only afterwards. */
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static unsigned char *g_expect;
static size_t g_expect_len;
static int g_rst;
static uint64_t g_total, g_start, g_stop_start, g_deadline;
/* Threads claim tickets so -n bounds the total without any locking. */
static atomic_ullong g_tickets;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1); /* out of memory or fds for epoll itself: no result is meaningful */
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen -h HOST -p PORT -c CONCURRENCY -n TOTAL "
			"[-d SECONDS] [-t SECONDS] [-e EXPECT] [-r] [-j THREADS]\n");
	exit(2);
}

static void release(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		/* Applied to early closes too: an abandoned connection would
		 * otherwise leave the same TIME_WAIT behind. */
		if (g_rst)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
				   sizeof(struct linger));
		close(c->fd);
	}
	c->fd = -1;
	c->state = FREE;
	w->freelist[w->nfree++] = (int)(c - w->conns);
}

static void schedule_retry(struct worker *w, struct conn *c)
{
	close(c->fd); /* never connected, so no RST or TIME_WAIT concerns */
	c->fd = -1;
	c->state = RETRY;
	w->ring[(w->rhead + w->rlen) % w->cap] =
		(struct retry){ (int)(c - w->conns), now_ns() + RETRY_NS };
	w->rlen++;
	w->retries++;
}

static void attempt(struct worker *w, int ep, int idx)
{
	struct conn *c = &w->conns[idx];
	c->got = 0;
	c->fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	c->t0 = now_ns();
	if (connect(c->fd, (struct sockaddr *)&g_addr, g_addrlen) < 0 && errno != EINPROGRESS) {
		if (errno != EADDRNOTAVAIL)
			goto fail;
		schedule_retry(w, c);
		return;
	}
	c->state = READING;
	/* Only readability is watched: the client never writes, so the end of
	 * the connect is of no interest by itself. The greeting and the FIN
	 * wake us once (edge-triggered), and a failed connect wakes us with
	 * EPOLLERR, which read() then reports (ECONNREFUSED, ...). That saves an
	 * event, a getsockopt() and a read() per connection. ADD also reports
	 * readiness that already happened, so nothing that came early is lost. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == 0)
		return;
fail:
	w->errors++;
	release(w, c);
}

static void record_ok(struct worker *w, struct conn *c)
{
	uint64_t now = now_ns();
	if (w->nlat == w->latcap) { /* -d runs have no useful upper bound to preallocate */
		w->latcap = w->latcap ? w->latcap * 2 : 4096;
		if (!(w->lat = realloc(w->lat, w->latcap * sizeof *w->lat)))
			die("realloc");
	}
	w->lat[w->nlat++] = (now - c->t0) / 1000;
	if (now > w->last_ok)
		w->last_ok = now;
}

static void on_event(struct worker *w, struct conn *c, char *buf, size_t bufsz)
{
	/* Edge-triggered, so drain until EAGAIN or the next edge never comes. */
	for (;;) {
		ssize_t r = read(c->fd, buf, bufsz);
		if (r > 0) {
			size_t n = (size_t)r;
			/* Fail as soon as the bytes diverge; no point waiting for EOF. */
			if (c->got + n > g_expect_len || memcmp(buf, g_expect + c->got, n))
				break;
			c->got += n;
		} else if (r == 0) {
			if (c->got != g_expect_len)
				break;
			record_ok(w, c);
			release(w, c);
			return;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else if (errno != EINTR) {
			goto error;
		}
	}
	w->bad++;
	release(w, c);
	return;
error:
	w->errors++;
	release(w, c);
}

static int ms_until(uint64_t t, uint64_t now)
{
	if (t <= now)
		return 0;
	uint64_t ms = (t - now + 999999) / 1000000; /* round up: never wake early */
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	static __thread char buf[65536];
	struct epoll_event evs[512];
	int starting = 1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");

	for (;;) {
		uint64_t now = now_ns();
		if (now >= g_deadline)
			break;
		while (w->rlen && w->ring[w->rhead].due <= now) {
			int idx = w->ring[w->rhead].idx;
			w->rhead = (w->rhead + 1) % w->cap;
			w->rlen--;
			attempt(w, ep, idx);
		}
		/* The clock is checked per start: against a refused port every
		 * connect fails at once, and -n alone would not stop this loop. */
		while (starting && w->nfree) {
			if (now_ns() >= g_stop_start || atomic_fetch_add(&g_tickets, 1) >= g_total) {
				starting = 0;
				break;
			}
			w->started++;
			attempt(w, ep, w->freelist[--w->nfree]);
		}
		if (w->nfree == w->cap)
			break; /* nothing open or waiting, and nothing more to start */

		int timeout = ms_until(g_deadline, now);
		if (w->rlen && ms_until(w->ring[w->rhead].due, now) < timeout)
			timeout = ms_until(w->ring[w->rhead].due, now);
		int n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++)
			on_event(w, evs[i].data.ptr, buf, sizeof buf);
	}
	/* Deadline: a connection waiting for a retry was started too, so it
	 * counts as a timeout like the open ones; started stays the sum. */
	for (int i = 0; i < w->cap; i++)
		if (w->conns[i].state != FREE) {
			w->timeouts++;
			release(w, &w->conns[i]);
		}
	close(ep);
	return NULL;
}

/* One parser for every number; counts must be whole. Exits 2 on junk. */
static double num(const char *s, double min, double max, int whole)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max) || (whole && v != (double)(uint64_t)v))
		usage(); /* the range test also rejects nan */
	return v;
}

static int hexval(int ch)
{
	const char *d = "0123456789abcdef", *q = ch ? strchr(d, tolower(ch)) : NULL;
	return q ? (int)(q - d) : -1;
}

static int parse_expect(const char *s, unsigned char **out, size_t *len)
{
	static const char esc[] = "nrt\\\"'", val[] = "\n\r\t\\\"'";
	unsigned char *b = malloc(strlen(s) + 1), *p = b; /* decoding never grows */
	int hex = strncmp(s, "hex:", 4) == 0, v, k;
	const char *e;
	if (!b)
		die("malloc");
	for (s += hex ? 4 : 0; *s; p++) {
		if (hex) { /* hexval('\0') < 0, so an odd digit count fails here */
			if ((v = hexval(s[0])) < 0 || (k = hexval(s[1])) < 0)
				goto bad;
			*p = (unsigned char)(v * 16 + k);
			s += 2;
		} else if (*s != '\\') {
			*p = (unsigned char)*s++;
		} else if (s[1] == 'x' && (v = hexval(s[2])) >= 0) {
			s += 3;
			if ((k = hexval(*s)) >= 0) {
				v = v * 16 + k;
				s++;
			}
			*p = (unsigned char)v;
		} else if (s[1] >= '0' && s[1] <= '7') {
			for (v = 0, k = 0, s++; k < 3 && *s >= '0' && *s <= '7'; k++)
				v = v * 8 + (*s++ - '0');
			if (v > 255)
				goto bad;
			*p = (unsigned char)v;
		} else if (s[1] && (e = strchr(esc, s[1]))) {
			*p = (unsigned char)val[e - esc];
			s += 2;
		} else {
			goto bad;
		}
	}
	*out = b;
	*len = (size_t)(p - b);
	return 0;
bad:
	free(b);
	return -1;
}

static void set_addr(const char *host, uint16_t port)
{
	struct in_addr v4;
	struct in6_addr v6;
	/* Literals only: resolving a name could silently pick a remote address. */
	if (inet_pton(AF_INET, host, &v4) == 1 && ntohl(v4.s_addr) >> 24 == 127) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = v4 };
		memcpy(&g_addr, &a, g_addrlen = sizeof a);
	} else if (inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6)) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = v6 };
		memcpy(&g_addr, &a, g_addrlen = sizeof a);
	} else {
		fprintf(stderr, "loadgen: host must be a loopback IP literal "
				"(127.0.0.0/8 or ::1), got '%s'\n", host);
		exit(2);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *expect = "Hello World!\\0";
	uint64_t port = 0, conc = 0, threads = 1;
	double dur = 0, limit = 60; /* seconds; dur 0 means no -d */
	int opt;

	while ((opt = getopt(argc, argv, ":h:p:c:n:d:t:e:rj:")) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = (uint64_t)num(optarg, 1, 65535, 1); break;
		case 'c': conc = (uint64_t)num(optarg, 1, 1e6, 1); break;
		case 'n': g_total = (uint64_t)num(optarg, 1, 1e15, 1); break;
		case 'd': dur = num(optarg, 1e-3, 1e9, 0); break;
		case 't': limit = num(optarg, 1e-3, 1e9, 0); break;
		case 'e': expect = optarg; break;
		case 'r': g_rst = 1; break;
		case 'j': threads = (uint64_t)num(optarg, 1, 1024, 1); break;
		default: usage();
		}
	}
	if (optind != argc || !host || !port || !conc || !g_total)
		usage();
	if (parse_expect(expect, &g_expect, &g_expect_len)) {
		fprintf(stderr, "loadgen: cannot parse -e '%s'\n", expect);
		usage();
	}
	set_addr(host, (uint16_t)port);

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur != RLIM_INFINITY && conc + 64 > rl.rlim_cur)
			fprintf(stderr, "loadgen: warning: -c %" PRIu64 " near RLIMIT_NOFILE %llu; "
					"socket() failures will count as errors\n",
				conc, (unsigned long long)rl.rlim_cur);
	}

	if (threads > conc)
		threads = conc; /* a thread without a share would only idle */
	struct worker *ws = calloc(threads, sizeof *ws);
	if (!ws)
		die("calloc");
	for (uint64_t i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		w->nfree = w->cap = (int)(conc / threads + (i < conc % threads));
		w->conns = malloc(w->cap * sizeof *w->conns);
		w->freelist = malloc(w->cap * sizeof *w->freelist);
		w->ring = malloc(w->cap * sizeof *w->ring);
		if (!w->conns || !w->freelist || !w->ring)
			die("malloc");
		for (int k = 0; k < w->cap; k++) {
			w->conns[k] = (struct conn){ .fd = -1, .state = FREE };
			w->freelist[k] = k;
		}
	}

	g_start = now_ns();
	g_deadline = g_start + (uint64_t)(limit * 1e9);
	g_stop_start = dur > 0 ? g_start + (uint64_t)(dur * 1e9) : g_deadline;
	if (g_stop_start > g_deadline)
		g_stop_start = g_deadline;
	for (uint64_t i = 0; i < threads; i++) {
		errno = pthread_create(&ws[i].tid, NULL, run, &ws[i]);
		if (errno)
			die("pthread_create");
	}

	uint64_t ok = 0, bad = 0, errs = 0, tmo = 0, started = 0, retries = 0, last_ok = 0;
	uint64_t *lat = NULL;
	for (uint64_t i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		pthread_join(w->tid, NULL);
		if (w->nlat) {
			if (!(lat = realloc(lat, (ok + w->nlat) * sizeof *lat)))
				die("realloc");
			memcpy(lat + ok, w->lat, w->nlat * sizeof *lat);
		}
		ok += w->nlat;
		bad += w->bad;
		errs += w->errors;
		tmo += w->timeouts;
		started += w->started;
		retries += w->retries;
		if (w->last_ok > last_ok)
			last_ok = w->last_ok;
		free(w->lat);
		free(w->conns);
		free(w->freelist);
		free(w->ring);
	}
	uint64_t end = now_ns();
	free(ws);
	free(g_expect);
	if (ok)
		qsort(lat, ok, sizeof *lat, cmp_u64);
	/* Nearest-rank percentile: the smallest value with >= p% at or below. */
#define PCT(p) (ok ? lat[(ok * (p) + 99) / 100 - 1] : 0)
	uint64_t cps = ok && last_ok > g_start ? (uint64_t)(ok * 1e9 / (double)(last_ok - g_start)) : 0;
	printf("ok=%" PRIu64 " bad=%" PRIu64 " errors=%" PRIu64 " timeouts=%" PRIu64
	       " started=%" PRIu64 " cps=%" PRIu64 " p50_us=%" PRIu64 " p90_us=%" PRIu64
	       " p99_us=%" PRIu64 " max_us=%" PRIu64 " secs=%.3f addrnotavail_retries=%" PRIu64 "\n",
	       ok, bad, errs, tmo, started, cps, PCT(50), PCT(90), PCT(99), PCT(100),
	       (double)(end - g_start) / 1e9, retries);
	free(lat);
	return ok == started && tmo == 0 ? 0 : 1;
}
