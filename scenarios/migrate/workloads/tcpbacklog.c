/*
 * tcpbacklog: a TCP listener with connections waiting to be accepted (its
 * accept queue, issue 11), checkpointed before it accepts them; each end
 * checks itself.
 *
 *   tcpbacklog local N RES     one task: a listener on 127.0.0.1:47101 with
 *                              backlog N - 1 and N loopback clients connected
 *                              to it, client i having sent 1000 + 7919 i
 *                              bytes of a known sequence (the last one
 *                              then shut its sending side down: it is in
 *                              FIN_WAIT2, its connection waits in
 *                              CLOSE_WAIT), all of it acknowledged, none
 *                              accepted; RES.ready once
 *                              the N wait in the queue.  On SIGUSR1 (after
 *                              restart) it accepts N: connection k must be
 *                              client k's (its port), with its bytes (and
 *                              the EOF after them for the last), answers
 *                              "ok k LEN" that the client reads, and
 *                              closes; then no more waits (EAGAIN).  RES
 *                              gets "PASS N connections" or "FAIL: what".
 *   tcpbacklog serve ADDR PORT N
 *                              listen on ADDR:PORT with backlog N; stderr
 *                              gets "listening", then "queued N" once N
 *                              clients wait; on SIGUSR1 it accepts them:
 *                              each sends "hello I LEN FIN\n" and LEN bytes
 *                              (and its EOF if FIN), connection k must be
 *                              client k; it answers "accepted K I LEN\n" and
 *                              closes; "served N" (exit 0) or "FAIL: what"
 *                              (exit 1).
 *   tcpbacklog client ADDR PORT N OUT
 *                              connect N times in turn, each connection i
 *                              sending its hello and bytes (the last one
 *                              shuts its sending side down after them);
 *                              OUT.sent once the server acknowledged every
 *                              byte; then each must get "accepted i i LEN"
 *                              and the EOF after it: OUT.result gets
 *                              "PASS N connections" or "FAIL: what".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define MAXN 64

static volatile sig_atomic_t go;
static const char *res;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void put(const char *path, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		exit(3);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
	rename(tmp, path);
}

static void fail(const char *fmt, ...)
{
	char line[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "FAIL: %s\n", line);
	if (res)
		put(res, "FAIL: %s", line);
	exit(1);
}

static unsigned char byte_at(int i, size_t off)
{
	return (unsigned char)(i * 31 + off * 7 + off / 251);
}

static size_t len_of(int i)
{
	return 1000 + 7919 * (size_t)i;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("send: %s", strerror(errno));
		p += n;
		len -= n;
	}
}

/* exactly @len bytes, waiting at most 120 s for each part */
static void recv_all(int fd, void *buf, size_t len, const char *what)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 120000) == 0)
			fail("%s: 120 s without data", what);
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("%s: recv: %s", what, strerror(errno));
		if (n == 0)
			fail("%s: EOF with %zu bytes missing", what, len);
		p += n;
		len -= n;
	}
}

/* a line (without its newline) */
static void recv_line(int fd, char *buf, size_t size, const char *what)
{
	size_t n = 0;

	while (n + 1 < size) {
		recv_all(fd, buf + n, 1, what);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
}

static void expect_eof(int fd, const char *what)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t n;

	if (poll(&pfd, 1, 120000) == 0)
		fail("%s: 120 s without the EOF", what);
	n = recv(fd, &c, 1, 0);
	if (n != 0)
		fail("%s: %s instead of the EOF", what, n < 0 ? strerror(errno) : "a byte");
}

static void payload(int i, unsigned char *buf)
{
	size_t off;

	for (off = 0; off < len_of(i); off++)
		buf[off] = byte_at(i, off);
}

static void check_payload(int k, int i, const unsigned char *buf)
{
	size_t off;

	for (off = 0; off < len_of(i); off++)
		if (buf[off] != byte_at(i, off))
			fail("connection %d: byte %zu is %#x, not %#x", k, off, buf[off],
			     byte_at(i, off));
}

/* until the peer acknowledged everything sent on @fd */
static void wait_acked(int fd)
{
	int i, outq = 1;

	for (i = 0; i < 3000 && outq; i++) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			fail("SIOCOUTQ: %s", strerror(errno));
		if (outq)
			usleep(10000);
	}
	if (outq)
		fail("30 s with %d bytes unacknowledged", outq);
}

/* until @n connections wait in listener @fd's accept queue */
static void wait_queued(int fd, int n)
{
	struct tcp_info ti;
	socklen_t len;
	int i;

	for (i = 0; i < 12000; i++) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			fail("TCP_INFO: %s", strerror(errno));
		/* a listener's tcpi_unacked: its accept queue */
		if ((int)ti.tcpi_unacked == n)
			return;
		if ((int)ti.tcpi_unacked > n)
			fail("%u connections wait, not %d", ti.tcpi_unacked, n);
		usleep(10000);
	}
	fail("120 s and not %d connections waiting", n);
}

/* a plain sleep, no temporary signal mask: restore verification reads the task's */
static void wait_usr1(void)
{
	while (!go)
		usleep(20000);
}

static void on_signal_usr1(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
}

static int listener(const char *addr, int port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		fail("socket or address %s", addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, backlog))
		fail("bind or listen %s:%d: %s", addr, port, strerror(errno));
	return fd;
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		fail("socket or address %s", addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail("connect %s:%d: %s", addr, port, strerror(errno));
	return fd;
}

static int port_of(int fd, int peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&sin, &len))
		fail("getsockname: %s", strerror(errno));
	return ntohs(sin.sin_port);
}

static int local(int n)
{
	static unsigned char buf[1000 + 7919 * MAXN];
	int lfd, cfd[MAXN], i, k;
	char path[512], line[128], want[128];

	on_signal_usr1();
	/* one more than the backlog, as the kernel lets them wait */
	lfd = listener("127.0.0.1", 47101, n - 1);
	for (i = 0; i < n; i++) {
		cfd[i] = connect_to("127.0.0.1", 47101);
		payload(i, buf);
		send_all(cfd[i], buf, len_of(i));
		if (i == n - 1 && shutdown(cfd[i], SHUT_WR))
			fail("shutdown: %s", strerror(errno));
		wait_acked(cfd[i]);
	}
	wait_queued(lfd, n);
	snprintf(path, sizeof(path), "%s.ready", res);
	put(path, "queued %d", n);
	wait_usr1();
	for (k = 0; k < n; k++) {
		int afd = accept(lfd, NULL, NULL);

		snprintf(line, sizeof(line), "connection %d", k);
		if (afd < 0)
			fail("accept %d: %s", k, strerror(errno));
		if (port_of(afd, 1) != port_of(cfd[k], 0))
			fail("accept %d returned client port %d, not client %d's %d", k,
			     port_of(afd, 1), k, port_of(cfd[k], 0));
		recv_all(afd, buf, len_of(k), line);
		check_payload(k, k, buf);
		if (k == n - 1)
			expect_eof(afd, line);
		snprintf(want, sizeof(want), "ok %d %zu\n", k, len_of(k));
		send_all(afd, want, strlen(want));
		close(afd);
		recv_line(cfd[k], line, sizeof(line), "reply");
		want[strlen(want) - 1] = 0;
		if (strcmp(line, want))
			fail("client %d got \"%s\", not \"%s\"", k, line, want);
		expect_eof(cfd[k], "reply");
		close(cfd[k]);
	}
	if (fcntl(lfd, F_SETFL, O_NONBLOCK) || accept(lfd, NULL, NULL) >= 0 ||
	    errno != EAGAIN)
		fail("a connection more than %d waited (or %s)", n, strerror(errno));
	put(res, "PASS %d connections", n);
	return 0;
}

static int serve(const char *addr, int port, int n)
{
	static unsigned char buf[1000 + 7919 * MAXN];
	char line[128], what[32];
	int lfd, k;

	on_signal_usr1();
	lfd = listener(addr, port, n);
	fprintf(stderr, "listening\n");
	wait_queued(lfd, n);
	fprintf(stderr, "queued %d\n", n);
	wait_usr1();
	for (k = 0; k < n; k++) {
		int afd = accept(lfd, NULL, NULL), i, fin;
		size_t len;

		snprintf(what, sizeof(what), "connection %d", k);
		if (afd < 0)
			fail("accept %d: %s", k, strerror(errno));
		recv_line(afd, line, sizeof(line), what);
		if (sscanf(line, "hello %d %zu %d", &i, &len, &fin) != 3 || i != k ||
		    len != len_of(i))
			fail("%s: \"%s\", not client %d's hello", what, line, k);
		recv_all(afd, buf, len, what);
		check_payload(k, i, buf);
		if (fin)
			expect_eof(afd, what);
		snprintf(line, sizeof(line), "accepted %d %d %zu\n", k, i, len);
		send_all(afd, line, strlen(line));
		close(afd);
	}
	fprintf(stderr, "served %d\n", n);
	return 0;
}

static int client(const char *addr, int port, int n, const char *out)
{
	static unsigned char buf[1000 + 7919 * MAXN];
	char path[512], line[128], want[128];
	int fd[MAXN], i;

	snprintf(path, sizeof(path), "%s.result", out);
	res = strdup(path);
	for (i = 0; i < n; i++) {
		fd[i] = connect_to(addr, port);
		snprintf(line, sizeof(line), "hello %d %zu %d\n", i, len_of(i), i == n - 1);
		send_all(fd[i], line, strlen(line));
		payload(i, buf);
		send_all(fd[i], buf, len_of(i));
		if (i == n - 1 && shutdown(fd[i], SHUT_WR))
			fail("shutdown: %s", strerror(errno));
	}
	for (i = 0; i < n; i++)
		wait_acked(fd[i]);
	snprintf(path, sizeof(path), "%s.sent", out);
	put(path, "sent %d", n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "accepted %d %d %zu", i, i, len_of(i));
		recv_line(fd[i], line, sizeof(line), "reply");
		if (strcmp(line, want))
			fail("connection %d got \"%s\", not \"%s\"", i, line, want);
		expect_eof(fd[i], "reply");
		close(fd[i]);
	}
	put(res, "PASS %d connections", n);
	return 0;
}

int main(int argc, char **argv)
{
	int n;

	if (argc == 4 && !strcmp(argv[1], "local")) {
		n = atoi(argv[2]);
		res = argv[3];
		if (n < 1 || n > MAXN)
			fail("N: 1 to %d", MAXN);
		return local(n);
	}
	if (argc == 5 && !strcmp(argv[1], "serve")) {
		n = atoi(argv[4]);
		if (n < 1 || n > MAXN)
			fail("N: 1 to %d", MAXN);
		return serve(argv[2], atoi(argv[3]), n);
	}
	if (argc == 6 && !strcmp(argv[1], "client")) {
		n = atoi(argv[4]);
		if (n < 1 || n > MAXN)
			fail("N: 1 to %d", MAXN);
		return client(argv[2], atoi(argv[3]), n, argv[5]);
	}
	fprintf(stderr, "usage: tcpbacklog local N RES | serve ADDR PORT N | client ADDR PORT N OUT\n");
	return 2;
}
