/*
 * tcpecho: the two ends of a TCP conversation that a migration must not
 * break (issue 11), each checking itself.
 *
 *   tcpecho serve ADDR PORT [MIB]
 *                              (MIB: first fill that much memory, for an
 *                              image that takes a while to stream)
 *                              listen on ADDR:PORT, accept one client and
 *                              echo every byte back to it, until it closes
 *                              (exit 0) or the connection fails (exit 1,
 *                              the error on stderr).  One task, no threads:
 *                              the task the lab migrates.  The listener has
 *                              SO_REUSEADDR unless TCPECHO_NOREUSE is set.
 *   tcpecho client ADDR PORT BYTES OUT
 *                              connect, send BYTES bytes of a known
 *                              sequence (4 KiB every 20 ms) and read the
 *                              echo, checking every byte at its offset and
 *                              a running checksum; OUT.progress gets
 *                              "echoed N" about twice a second; SIGUSR1:
 *                              send no more, finish with the echo of what
 *                              was sent; at the end
 *                              OUT.result gets "PASS N bytes, checksum X"
 *                              or "FAIL: what" (a reset, an EOF, a wrong
 *                              byte at offset N, 60 s without progress).
 *   tcpecho serve-last ADDR PORT
 *                              as serve, but when the client has shut its
 *                              side down (the connection in CLOSE_WAIT) it
 *                              prints "client done N" (N bytes echoed),
 *                              waits for SIGUSR1, sends "bye N" and closes.
 *   tcpecho client-last ADDR PORT BYTES OUT
 *                              send BYTES bytes at once, shut the sending
 *                              side down, then check the echo byte for byte,
 *                              the "bye BYTES" line and the EOF after it:
 *                              OUT.result gets PASS or "FAIL: what".
 *   tcpecho slowcat RATE       copy stdin to stdout at RATE bytes a second
 *                              (a slow reader: a download that lasts).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static const char *out;
static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put(const char *suffix, const char *fmt, ...)
{
	char path[512], tmp[520], line[256];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s.%s", out, suffix);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
	rename(tmp, path);
}

static void fail(const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put("result", "FAIL: %s", line);
	fprintf(stderr, "tcpecho: FAIL: %s\n", line);
	exit(1);
}

/* the byte at offset @i of the client's sequence */
static uint8_t seq_byte(uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ULL;

	return (uint8_t)((x >> 29) ^ (i >> 12));
}

static struct sockaddr_in addr_of(const char *a, const char *p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(p)) };

	if (inet_pton(AF_INET, a, &sin.sin_addr) != 1) {
		fprintf(stderr, "tcpecho: bad address %s\n", a);
		exit(2);
	}
	return sin;
}

static int serve(const char *a, const char *p, size_t mib, int last)
{
	struct sockaddr_in sin = addr_of(a, p);
	int one = 1, l, c;
	char buf[16384];
	uint64_t *mem = NULL, echoed = 0;
	size_t i;

	if (mib) {
		mem = malloc(mib << 20);
		if (!mem)
			return 1;
		for (i = 0; i < (mib << 20) / sizeof(*mem); i++)
			mem[i] = i * 0x9e3779b97f4a7c15ULL;
	}

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 ||
	    (!getenv("TCPECHO_NOREUSE") &&
	     setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 4)) {
		perror("tcpecho: listen");
		return 1;
	}
	fprintf(stderr, "tcpecho: listening on %s:%s\n", a, p);
	c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("tcpecho: accept");
		return 1;
	}
	fprintf(stderr, "tcpecho: client connected\n");
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf)), off = 0;

		if (n == 0 && last) {
			char bye[64];
			int len = snprintf(bye, sizeof(bye), "bye %llu\n", (unsigned long long)echoed);

			fprintf(stderr, "tcpecho: client done %llu\n", (unsigned long long)echoed);
			signal(SIGUSR1, on_usr1);
			while (!stop)
				pause();
			if (write(c, bye, len) != len) {
				perror("tcpecho: write bye");
				return 1;
			}
			fprintf(stderr, "tcpecho: bye sent\n");
			close(c);
			return 0;
		}
		if (n == 0) {
			fprintf(stderr, "tcpecho: client closed\n");
			return 0;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpecho: read");
			return 1;
		}
		while (off < n) {
			ssize_t w = write(c, buf + off, n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				perror("tcpecho: write");
				return 1;
			}
			off += w;
		}
		echoed += n;
	}
}

static int client_last(const char *a, const char *p, uint64_t total)
{
	struct sockaddr_in sin = addr_of(a, p);
	uint64_t sent = 0, got = 0;
	char bye[64], want[64];
	size_t blen = 0, wlen;
	uint8_t buf[16384];
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail("connect: %s", strerror(errno));
	/* echo and send interleaved, so that neither side blocks */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (sent < total || got < total) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		ssize_t n;
		size_t i;

		if (poll(&pfd, 1, 60000) <= 0)
			fail("no progress for 60 s (%llu sent, %llu echoed)",
			     (unsigned long long)sent, (unsigned long long)got);
		if (sent < total && (pfd.revents & POLLOUT)) {
			size_t k = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			for (i = 0; i < k; i++)
				buf[i] = seq_byte(sent + i);
			n = send(fd, buf, k, MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
			if (sent == total && shutdown(fd, SHUT_WR))
				fail("shutdown: %s", strerror(errno));
		}
		n = recv(fd, buf, total - got < sizeof(buf) ? total - got : sizeof(buf), 0);
		if (n == 0)
			fail("EOF after %llu bytes of echo", (unsigned long long)got);
		if (n < 0 && errno != EAGAIN)
			fail("recv: %s", strerror(errno));
		for (i = 0; n > 0 && i < (size_t)n; i++)
			if (buf[i] != seq_byte(got + i))
				fail("echo byte at offset %llu is wrong", (unsigned long long)(got + i));
		if (n > 0)
			got += n;
	}
	put("progress", "echoed %llu", (unsigned long long)got);
	fcntl(fd, F_SETFL, 0);
	wlen = snprintf(want, sizeof(want), "bye %llu\n", (unsigned long long)total);
	for (;;) {
		ssize_t n = recv(fd, bye + blen, sizeof(bye) - 1 - blen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("recv of bye: %s", strerror(errno));
		if (n == 0)
			break;
		blen += n;
		if (blen == sizeof(bye) - 1)
			break;
	}
	bye[blen] = 0;
	if (blen != wlen || memcmp(bye, want, wlen))
		fail("got \"%s\" before EOF, not \"%.*s\"", bye, (int)wlen - 1, want);
	put("result", "PASS %llu bytes echoed, then bye and EOF", (unsigned long long)total);
	return 0;
}

static int client(const char *a, const char *p, uint64_t total)
{
	struct sockaddr_in sin = addr_of(a, p);
	uint64_t sent = 0, got = 0;
	uint32_t sum = 2166136261u;
	double last = now(), shown = 0, next = 0;
	uint8_t buf[16384];
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		fail("connect: %s", strerror(errno));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	put("progress", "echoed 0");
	signal(SIGUSR1, on_usr1);
	while (got < total) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double t = now();

		if (stop)
			total = sent;

		if (sent < total && t >= next) {
			size_t n = total - sent < 4096 ? total - sent : 4096, i;
			ssize_t w;

			for (i = 0; i < n; i++)
				buf[i] = seq_byte(sent + i);
			w = send(fd, buf, n, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				fail("send at offset %llu: %s", (unsigned long long)sent,
				     strerror(errno));
			if (w > 0)
				sent += w;
			next = t + 0.02;
		}
		if (poll(&pfd, 1, 20) < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0), i;

			if (n == 0)
				fail("EOF after %llu bytes", (unsigned long long)got);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				fail("recv after %llu bytes: %s", (unsigned long long)got,
				     strerror(errno));
			}
			for (i = 0; i < n; i++) {
				if (buf[i] != seq_byte(got + i))
					fail("byte at offset %llu is %u, not %u",
					     (unsigned long long)(got + i), buf[i],
					     seq_byte(got + i));
				sum = (sum ^ buf[i]) * 16777619u;
			}
			got += n;
			last = now();
		}
		if (now() - last > 60)
			fail("no echo for 60 s after %llu bytes", (unsigned long long)got);
		if (now() - shown > 0.5) {
			put("progress", "echoed %llu", (unsigned long long)got);
			shown = now();
		}
	}
	put("progress", "echoed %llu", (unsigned long long)got);
	close(fd);
	put("result", "PASS %llu bytes, checksum %08x", (unsigned long long)got, sum);
	return 0;
}

static int slowcat(double rate)
{
	char buf[4096];
	double start = now(), done = 0;
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0, w; off < n; off += w) {
			w = write(STDOUT_FILENO, buf + off, n - off);
			if (w <= 0)
				return 1;
		}
		done += n;
		while (now() - start < done / rate)
			usleep(5000);
	}
	return n < 0;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && !strcmp(argv[1], "slowcat"))
		return slowcat(strtod(argv[2], NULL));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3], argc == 5 ? strtoul(argv[4], NULL, 0) : 0, 0);
	if (argc == 4 && !strcmp(argv[1], "serve-last"))
		return serve(argv[2], argv[3], 0, 1);
	if (argc == 6 && !strcmp(argv[1], "client-last")) {
		out = argv[5];
		return client_last(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	}
	if (argc == 6 && !strcmp(argv[1], "client")) {
		out = argv[5];
		return client(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	}
	fprintf(stderr, "usage: tcpecho serve ADDR PORT [MIB] | serve-last ADDR PORT | client[-last] ADDR PORT BYTES OUT | slowcat RATE\n");
	return 2;
}
