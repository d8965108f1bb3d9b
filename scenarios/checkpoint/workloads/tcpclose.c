/*
 * tcpclose: TCP connections half closed on loopback (issue 11), both ends
 * in one task, checking themselves across a checkpoint and restart.
 *
 *   tcpclose RES               three connections, each end named:
 *     fw2/cw:  a sent 5000 bytes and shut its side down (FIN_WAIT2), b read
 *              nothing (CLOSE_WAIT, the bytes and the FIN queued);
 *     fw1/est: b has a small receive buffer and reads nothing, a sent until
 *              its small send buffer was full and shut its side down: its
 *              FIN waits behind unsent data (FIN_WAIT1), b is ESTABLISHED;
 *     fw2/la:  a shut its side down first (FIN_WAIT2, a small receive
 *              buffer, reads nothing), b sent until full and shut down:
 *              LAST_ACK, its FIN behind unsent data;
 *     cl/fw2:  as fw1/est, then b shut its side down too: its FIN reached
 *              a, whose own FIN still waits behind unsent data (a simultaneous
 *              close: CLOSING), and a acknowledged it (FIN_WAIT2).
 *              RES.ready once so; on SIGUSR1 (after restart, or at once for
 *              an uninterrupted run) each end checks its state is still
 *              the same, then every reader reads its bytes, checked, and
 *              the EOF; b of fw2/cw answers 3000 bytes and closes, a reads
 *              them and the EOF.  The writers' states must end as an
 *              uninterrupted run ends them (FIN_WAIT1 -> FIN_WAIT2 once all
 *              is read, LAST_ACK -> CLOSE, CLOSING -> CLOSE once its FIN is
 *              acknowledged).  RES gets "PASS" and the states
 *              seen, without byte counts (which depend on the buffers), or
 *              "FAIL: what".
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static volatile sig_atomic_t go;
static const char *res;
static char seen[1024];

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
	put(res, "FAIL: %s", line);
	exit(1);
}

static const char *const names[] = {
	[1] = "ESTABLISHED", [4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK", [11] = "CLOSING",
};

static int state_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		fail("TCP_INFO: %s", strerror(errno));
	return ti.tcpi_state;
}

static const char *name_of(int state)
{
	return state > 0 && state < 12 && names[state] ? names[state] : "?";
}

/* @fd in @state within 60 s, noted in the result */
static void expect_state(int fd, const char *who, int state)
{
	int i;

	for (i = 0; i < 6000 && state_of(fd) != state; i++)
		usleep(10000);
	if (state_of(fd) != state)
		fail("%s in %s, not %s", who, name_of(state_of(fd)), name_of(state));
	snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %s=%s", who, name_of(state));
}

static unsigned char byte_at(int c, size_t off)
{
	return (unsigned char)(c * 77 + off * 13 + off / 509);
}

static void small_buf(int fd, int opt)
{
	int size = 4096;

	if (setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)))
		fail("setsockopt: %s", strerror(errno));
}

/* a connected pair on loopback: *a connected to the listener, *b accepted */
static void pair(int lfd, int *a, int *b, int rcvbuf_a, int rcvbuf_b, int sndbuf_a, int sndbuf_b)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(lfd, (struct sockaddr *)&sin, &len))
		fail("getsockname");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (rcvbuf_a)
		small_buf(*a, SO_RCVBUF);
	if (sndbuf_a)
		small_buf(*a, SO_SNDBUF);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof(sin)))
		fail("connect: %s", strerror(errno));
	*b = accept(lfd, NULL, NULL);
	if (*b < 0)
		fail("accept: %s", strerror(errno));
	if (rcvbuf_b)
		small_buf(*b, SO_RCVBUF);
	if (sndbuf_b)
		small_buf(*b, SO_SNDBUF);
}

/* send the sequence of connection @c from offset 0 until the buffers are full; how many */
static size_t fill(int fd, int c)
{
	unsigned char buf[1024];
	size_t off = 0, i;
	int idle = 0;

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		fail("O_NONBLOCK");
	while (idle < 20) {
		ssize_t n;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = byte_at(c, off + i);
		n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			off += n;
			idle = 0;
		} else if (errno == EAGAIN) {
			idle++;
			usleep(20000);
		} else {
			fail("send: %s", strerror(errno));
		}
		if (off > (8u << 20))
			fail("8 MiB sent and the buffers not full");
	}
	if (fcntl(fd, F_SETFL, 0))
		fail("O_NONBLOCK");
	return off;
}

static void send_seq(int fd, int c, size_t len)
{
	size_t off;

	for (off = 0; off < len; off++) {
		unsigned char b = byte_at(c, off);

		if (send(fd, &b, 1, MSG_NOSIGNAL) != 1)
			fail("send: %s", strerror(errno));
	}
}

/* exactly @len bytes of connection @c's sequence, then the EOF */
static void read_seq(int fd, int c, size_t len, const char *who)
{
	unsigned char buf[4096];
	size_t off = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n, i;

		if (poll(&pfd, 1, 120000) == 0)
			fail("%s: 120 s without data at %zu of %zu", who, off, len);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("%s: recv: %s at %zu", who, strerror(errno), off);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			if (off + i >= len || buf[i] != byte_at(c, off + i))
				fail("%s: byte %zu wrong or beyond %zu", who, off + i, len);
		off += n;
	}
	if (off != len)
		fail("%s: EOF at %zu of %zu bytes", who, off, len);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(47111) };
	struct sigaction sa = { .sa_handler = on_usr1 };
	int lfd, one = 1, a1, b1, a2, b2, a3, b3, a4, b4;
	size_t n2, n3, n4;
	char path[512];

	if (argc != 2) {
		fprintf(stderr, "usage: tcpclose RES\n");
		return 2;
	}
	res = argv[1];
	sigaction(SIGUSR1, &sa, NULL);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 4))
		fail("listen: %s", strerror(errno));
	pair(lfd, &a1, &b1, 0, 0, 0, 0);
	pair(lfd, &a2, &b2, 0, 1, 1, 0);
	pair(lfd, &a3, &b3, 1, 0, 0, 1);
	pair(lfd, &a4, &b4, 0, 1, 1, 0);
	close(lfd);

	send_seq(a1, 1, 5000);
	if (shutdown(a1, SHUT_WR))
		fail("shutdown");
	n2 = fill(a2, 2);
	if (shutdown(a2, SHUT_WR))
		fail("shutdown");
	if (shutdown(a3, SHUT_WR))
		fail("shutdown");
	expect_state(b3, "b3", 8);
	n3 = fill(b3, 3);
	if (shutdown(b3, SHUT_WR))
		fail("shutdown");
	n4 = fill(a4, 5);
	if (shutdown(a4, SHUT_WR))
		fail("shutdown");
	expect_state(a4, "a4", 4);
	if (shutdown(b4, SHUT_WR))
		fail("shutdown");
	expect_state(a1, "a1", 5);
	expect_state(b1, "b1", 8);
	expect_state(a2, "a2", 4);
	expect_state(b2, "b2", 1);
	expect_state(a3, "a3", 5);
	expect_state(b3, "b3", 9);
	expect_state(a4, "a4", 11);
	expect_state(b4, "b4", 5);
	snprintf(path, sizeof(path), "%s.ready", res);
	put(path, "ready %zu %zu %zu", n2, n3, n4);
	while (!go)
		usleep(20000);

	/* as they were */
	strcat(seen, " |");
	expect_state(a1, "a1", 5);
	expect_state(b1, "b1", 8);
	expect_state(a2, "a2", 4);
	expect_state(b2, "b2", 1);
	expect_state(a3, "a3", 5);
	expect_state(b3, "b3", 9);
	expect_state(a4, "a4", 11);
	expect_state(b4, "b4", 5);
	strcat(seen, " |");
	/* fw2/cw: b reads the bytes and the EOF, answers and closes */
	read_seq(b1, 1, 5000, "b1");
	send_seq(b1, 4, 3000);
	close(b1);
	read_seq(a1, 4, 3000, "a1");
	expect_state(a1, "a1", 7);
	close(a1);
	/* fw1/est: b reads everything, a's FIN is acknowledged */
	read_seq(b2, 2, n2, "b2");
	expect_state(a2, "a2", 5);
	close(b2);
	read_seq(a2, 9, 0, "a2");
	expect_state(a2, "a2", 7);
	close(a2);
	/* fw2/la: a reads everything, b's FIN is acknowledged */
	read_seq(a3, 3, n3, "a3");
	expect_state(b3, "b3", 7);
	expect_state(a3, "a3", 7);
	close(a3);
	close(b3);
	/* cl/fw2: b reads everything and the EOF, a's FIN is acknowledged */
	read_seq(b4, 5, n4, "b4");
	read_seq(a4, 9, 0, "a4");
	expect_state(a4, "a4", 7);
	expect_state(b4, "b4", 7);
	close(a4);
	close(b4);
	put(res, "PASS%s", seen);
	return 0;
}
