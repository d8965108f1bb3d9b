/*
 * sockfilter: classic socket filters (SO_ATTACH_FILTER, SO_LOCK_FILTER) that judge themselves
 * after a held checkpoint and its release, and after a restart (issue 11).
 *
 *   sockfilter hold DIR RES   build the sockets below, write DIR/ready; at each SIGUSR1 check
 *                             them and append "PASS N" or "FAIL N: why" to RES (N: the round)
 *
 * The sockets:
 *   u      UDP bound to 127.0.0.1:47301, a filter passing datagrams whose first byte is 'A'
 *          (4 instructions), SO_LOCK_FILTER set; s sends to it
 *   x/y    a UNIX dgram socketpair, on y a filter passing messages whose first byte is 'A', one
 *          message "A-queued" queued on y before the checkpoint
 *   l      TCP listener on 127.0.0.1:47302 with a filter passing everything (3 instructions),
 *          which its connections take: a1 accepted (from c1), two more waiting (from c2, c3)
 * At each round: every filter reads back (SO_GET_FILTER) as attached, never as the checkpoint's
 * hold filter; u's is locked (SO_DETACH_FILTER: EPERM); u gets 'A' datagrams only, y the queued
 * message then 'A' messages only; one waiting connection is accepted with the listener's filter,
 * and bytes go both ways on a1/c1 and on the new one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

static volatile sig_atomic_t usr1;
static char failure[512];

#define CHECK(cond, ...) do { \
	if (!(cond) && !failure[0]) \
		snprintf(failure, sizeof(failure), __VA_ARGS__); \
} while (0)

static struct sock_filter udp_a[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),	/* the first byte after the UDP header */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'A', 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
static struct sock_filter unix_a[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'A', 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
static struct sock_filter tcp_all[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 0),
	BPF_STMT(BPF_RET | BPF_K, 0x40000),
};

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void die(const char *what)
{
	printf("sockfilter: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void attach(int s, struct sock_filter *f, unsigned short n)
{
	struct sock_fprog p = { .len = n, .filter = f };

	if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)))
		die("SO_ATTACH_FILTER");
}

/* the filter of @s reads back as @f */
static void same_filter(const char *who, int s, struct sock_filter *f, unsigned short n)
{
	struct sock_filter got[16];
	socklen_t len = 16;	/* in instructions, as SO_GET_FILTER counts */

	memset(got, 0, sizeof(got));
	if (getsockopt(s, SOL_SOCKET, SO_GET_FILTER, got, &len)) {
		CHECK(0, "%s: SO_GET_FILTER: %s", who, strerror(errno));
		return;
	}
	CHECK(len == n, "%s: filter of %u instructions, not %u (the hold filter has 1)", who,
	      (unsigned int)len, n);
	CHECK(len != n || !memcmp(got, f, n * sizeof(*f)), "%s: another filter program", who);
}

static struct sockaddr_in sin4(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	return a;
}

static int wait_in(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* @s gets exactly @want (and nothing more within a moment) */
static void gets_only(const char *who, int s, const char *want)
{
	char buf[64];
	ssize_t n;

	CHECK(wait_in(s, 2000), "%s: nothing came (waiting for \"%s\")", who, want);
	n = recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, n), "%s: got \"%s\", not \"%s\"",
	      who, buf, want);
	CHECK(!wait_in(s, 300), "%s: more than \"%s\" came: the filter let it through", who, want);
}

static void bytes_both_ways(const char *who, int a, int b)
{
	char buf[16];

	CHECK(send(a, "ping", 4, 0) == 4 && wait_in(b, 2000) && recv(b, buf, 16, 0) == 4 &&
	      !memcmp(buf, "ping", 4), "%s: no bytes one way", who);
	CHECK(send(b, "pong", 4, 0) == 4 && wait_in(a, 2000) && recv(a, buf, 16, 0) == 4 &&
	      !memcmp(buf, "pong", 4), "%s: no bytes the other way", who);
}

static int hold(const char *dir, const char *res)
{
	struct sockaddr_in ua = sin4(47301), la = sin4(47302);
	int u, s, sv[2], l, c1, a1, c[2], one = 1, round = 0, i;
	char path[256], msg[16];
	FILE *f;

	u = socket(AF_INET, SOCK_DGRAM, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (u < 0 || s < 0 || bind(u, (struct sockaddr *)&ua, sizeof(ua)))
		die("udp");
	attach(u, udp_a, 4);
	if (setsockopt(u, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)))
		die("SO_LOCK_FILTER");
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		die("socketpair");
	attach(sv[1], unix_a, 4);
	if (send(sv[0], "A-queued", 8, 0) != 8)
		die("send");
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	attach(l, tcp_all, 3);
	if (bind(l, (struct sockaddr *)&la, sizeof(la)) || listen(l, 4))
		die("listen");
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c1, (struct sockaddr *)&la, sizeof(la)))
		die("connect");
	a1 = accept(l, NULL, NULL);
	if (a1 < 0)
		die("accept");
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c[i], (struct sockaddr *)&la, sizeof(la)))
			die("connect");
	}
	usleep(200000);	/* the final ACKs: both connections established in the queue */
	signal(SIGUSR1, on_usr1);
	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
	while (round < 1000) {
		while (!usr1)
			pause();
		usr1 = 0;
		round++;
		failure[0] = 0;
		same_filter("u", u, udp_a, 4);
		CHECK(setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)) && errno == EPERM,
		      "u: SO_DETACH_FILTER did not fail with EPERM: SO_LOCK_FILTER lost");
		snprintf(msg, sizeof(msg), "A%d", round);
		sendto(s, "B", 1, 0, (struct sockaddr *)&ua, sizeof(ua));
		sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&ua, sizeof(ua));
		gets_only("u", u, msg);
		same_filter("y", sv[1], unix_a, 4);
		if (round == 1)
			gets_only("y (the message queued before)", sv[1], "A-queued");
		send(sv[0], "Bx", 2, 0);
		send(sv[0], msg, strlen(msg), 0);
		gets_only("y", sv[1], msg);
		same_filter("l", l, tcp_all, 3);
		same_filter("a1", a1, tcp_all, 3);
		bytes_both_ways("a1/c1", a1, c1);
		if (round <= 2) {
			int a = wait_in(l, 2000) ? accept(l, NULL, NULL) : -1;

			CHECK(a >= 0, "l: no connection waiting to be accepted (round %d)", round);
			if (a >= 0) {
				same_filter("a waiting connection", a, tcp_all, 3);
				bytes_both_ways("the waiting connection", c[round - 1], a);
			}
		}
		f = fopen(res, "a");
		if (!f)
			die(res);
		if (failure[0])
			fprintf(f, "FAIL %d: %s\n", round, failure);
		else
			fprintf(f, "PASS %d\n", round);
		fclose(f);
	}
	return 0;
}

int main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	fprintf(stderr, "usage: sockfilter hold DIR RES\n");
	return 2;
}
