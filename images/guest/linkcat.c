// SPDX-License-Identifier: GPL-2.0
/*
 * linkcat: move a byte stream between two guests over TCP, reliably.
 *
 *   linkcat recv PORT [TIMEOUT_S [IDLE_S]]  accept one connection, copy it to stdout until EOF;
 *                                        fail after TIMEOUT_S in all, or when no byte came for
 *                                        IDLE_S (a link that was cut; may have a fraction);
 *                                        says "linkcat: connected" on stderr once it has the sender
 *   linkcat send HOST PORT [TIMEOUT_S]   copy stdin to HOST:PORT (retrying the connect until
 *                                        the receiver listens), then half-close and wait for
 *                                        the receiver to finish
 *   linkcat serve PORT [TIMEOUT_S]       accept one connection (the lab's host relay, through a
 *                                        forwarded port), copy stdin to it, half-close and wait
 *                                        for the reader to finish
 *
 * busybox nc quits as soon as its own stdin ends, truncating the transfer; this does not.
 * Both ends print "linkcat: N bytes in S s" on stderr. Exit status 0 only if the whole
 * stream went through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int copy(int in, int out, long long *total)
{
	static char buf[1 << 16];
	ssize_t n, w, off;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, n - off);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return -1;
		}
		*total += n;
	}
}

/* Listen on PORT (any address) and accept one connection; -1 on failure, said on stderr. */
static int accept_one(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, ls, s;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&addr, sizeof(addr)) || listen(ls, 1)) {
		perror("linkcat: listen");
		return -1;
	}
	s = accept(ls, NULL, NULL);
	if (s < 0)
		perror("linkcat: accept");
	close(ls);
	return s;
}

static int do_recv(int port, double idle_s)
{
	struct timeval idle = {
		.tv_sec = (time_t)idle_s,
		.tv_usec = (suseconds_t)((idle_s - (time_t)idle_s) * 1e6),
	};
	long long total = 0;
	double t0;
	int s;

	s = accept_one(port);
	if (s < 0)
		return 1;
	/* the lab waits for this line to cut a link mid-stream */
	fprintf(stderr, "linkcat: connected\n");
	if (idle_s > 0 && setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle))) {
		perror("linkcat: SO_RCVTIMEO");
		return 1;
	}
	t0 = now();
	if (copy(s, STDOUT_FILENO, &total)) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			fprintf(stderr, "linkcat: recv: no data for %g s after %lld bytes\n", idle_s, total);
		else
			perror("linkcat: recv");
		return 1;
	}
	fprintf(stderr, "linkcat: %lld bytes in %.3f s\n", total, now() - t0);
	return 0;
}

/* Copy stdin to s, half-close, and wait until the reader has taken everything and closed. */
static int send_all(int s)
{
	long long total = 0;
	char sink[256];
	double t0 = now();

	if (copy(STDIN_FILENO, s, &total)) {
		perror("linkcat: send");
		return 1;
	}
	shutdown(s, SHUT_WR);
	while (read(s, sink, sizeof(sink)) > 0)
		;
	fprintf(stderr, "linkcat: %lld bytes in %.3f s\n", total, now() - t0);
	return 0;
}

static int do_serve(int port)
{
	int s = accept_one(port);

	return s < 0 ? 1 : send_all(s);
}

static int do_send(const char *host, int port, int timeout_s)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	double deadline = now() + timeout_s;
	int s = -1;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "linkcat: bad address %s\n", host);
		return 2;
	}
	for (;;) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		if (s >= 0)
			close(s);
		if (now() > deadline) {
			perror("linkcat: connect");
			return 1;
		}
		usleep(50000);
	}
	return send_all(s);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && (!strcmp(argv[1], "recv") || !strcmp(argv[1], "serve"))) {
		if (argc > 3)
			alarm(atoi(argv[3]));
		if (!strcmp(argv[1], "serve"))
			return do_serve(atoi(argv[2]));
		return do_recv(atoi(argv[2]), argc > 4 ? atof(argv[4]) : 0);
	}
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 30);
	fprintf(stderr, "usage: linkcat recv PORT [TIMEOUT_S [IDLE_S]] | linkcat send HOST PORT [TIMEOUT_S]"
		" | linkcat serve PORT [TIMEOUT_S]\n");
	return 2;
}
