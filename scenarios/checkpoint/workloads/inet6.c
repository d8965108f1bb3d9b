/*
 * inet6: IPv6 sockets that judge themselves after checkpoint/restart.
 *
 *   inet6 hold DIR RES   build the sockets below, write DIR/ready, wait for SIGUSR1, check, write
 *                        PASS or "FAIL: why" to RES
 *   inet6 refuse prefs   a TCP socket with IPV6_ADDR_PREFERENCES set: self checkpoint must refuse it
 *
 * The sockets of hold:
 *   l6     TCP listener on [::]:47101, dual-stack (IPV6_V6ONLY 0), backlog 4
 *   l6o    TCP listener on [::1]:47102, IPV6_V6ONLY 1
 *   c6/a6  an established connection over ::1 (c6 connected to l6o, a6 accepted): 5000 bytes
 *          queued c6 -> a6 and 3000 a6 -> c6, none read
 *   c4/m6  an IPv4 client connected to 127.0.0.1:47101, accepted by l6 as an IPv4-mapped IPv6
 *          socket: 2000 bytes queued c4 -> m6
 *   u6     UDP bound to [::1]:47103 with two datagrams queued from u6s ([::1]:47104)
 *          (V6ONLY since its bind: an address other than :: takes no IPv4)
 *   u6c    UDP connected to [::1]:47103, IPV6_V6ONLY 1
 * After SIGUSR1: every name and peer name as before, IPV6_V6ONLY as before, the queued bytes
 * and datagrams (with their source) as sent, the connections usable both ways, and the listeners
 * accept new connections (l6 from IPv6 and IPv4 clients, l6o from IPv6 only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/checkpoint.h>

static volatile sig_atomic_t usr1;
static char failure[256];

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void fail(const char *why)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s", why);
}

static struct sockaddr_in6 addr6(const char *ip, int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	if (inet_pton(AF_INET6, ip, &a.sin6_addr) != 1)
		die(ip);
	return a;
}

static int sock6(int type, int v6only)
{
	int s = socket(AF_INET6, type, 0), one = 1;

	if (s < 0)
		die("socket");
	if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("setsockopt");
	return s;
}

static int listen6(const char *ip, int port, int v6only)
{
	struct sockaddr_in6 a = addr6(ip, port);
	int s = sock6(SOCK_STREAM, v6only);

	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		die("bind/listen");
	return s;
}

static int connect6(const char *ip, int port)
{
	struct sockaddr_in6 a = addr6(ip, port);
	int s = sock6(SOCK_STREAM, 0);

	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect6");
	return s;
}

static int connect4(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect4");
	return s;
}

static void fill(char *buf, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(seed * 31 + i * 7);
}

static void send_all(int s, unsigned int seed, size_t n)
{
	char buf[8192];

	fill(buf, n, seed);
	if (send(s, buf, n, 0) != (ssize_t)n)
		die("send");
}

/* @n bytes of pattern @seed from @s, all of them */
static int recv_check(int s, unsigned int seed, size_t n)
{
	char buf[8192], want[8192];
	size_t got = 0;
	ssize_t r;

	fill(want, n, seed);
	while (got < n) {
		r = recv(s, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += r;
	}
	return memcmp(buf, want, n) ? -1 : 0;
}

struct names {
	struct sockaddr_storage name, peer;
	socklen_t nlen, plen;
};

static void names(int s, struct names *n)
{
	memset(n, 0, sizeof(*n));
	n->nlen = n->plen = sizeof(n->name);
	getsockname(s, (struct sockaddr *)&n->name, &n->nlen);
	if (getpeername(s, (struct sockaddr *)&n->peer, &n->plen))
		n->plen = 0;
}

static int v6only(int s)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
	return v;
}

static int accept_from(int l, int client)
{
	int a = accept(l, NULL, NULL);

	if (a < 0)
		return -1;
	send_all(client, 9, 100);
	if (recv_check(a, 9, 100))
		return -1;
	close(a);
	close(client);
	return 0;
}

static int hold(const char *dir, const char *res)
{
	struct sockaddr_in6 u6a = addr6("::1", 47103), u6sa = addr6("::1", 47104), from;
	int l6, l6o, c6, a6, c4, m6, u6, u6s, u6c, i;
	int fds[] = { 0, 0, 0, 0, 0, 0, 0, 0 }, only[8];
	struct names before[8], after;
	char path[4096], buf[64];
	socklen_t flen;
	sigset_t none;
	FILE *f;

	signal(SIGUSR1, on_usr1);
	l6 = listen6("::", 47101, 0);
	l6o = listen6("::1", 47102, 1);
	c6 = connect6("::1", 47102);
	a6 = accept(l6o, NULL, NULL);
	c4 = connect4(47101);
	m6 = accept(l6, NULL, NULL);
	if (a6 < 0 || m6 < 0)
		die("accept");
	send_all(c6, 1, 5000);
	send_all(a6, 2, 3000);
	send_all(c4, 3, 2000);
	u6 = sock6(SOCK_DGRAM, 0);
	u6s = sock6(SOCK_DGRAM, 0);
	u6c = sock6(SOCK_DGRAM, 1);
	if (bind(u6, (struct sockaddr *)&u6a, sizeof(u6a)) ||
	    bind(u6s, (struct sockaddr *)&u6sa, sizeof(u6sa)) ||
	    connect(u6c, (struct sockaddr *)&u6a, sizeof(u6a)))
		die("udp");
	if (sendto(u6s, "first", 5, 0, (struct sockaddr *)&u6a, sizeof(u6a)) != 5 ||
	    sendto(u6s, "second", 6, 0, (struct sockaddr *)&u6a, sizeof(u6a)) != 6)
		die("sendto");
	usleep(100000);	/* loopback delivers: the data is queued when we say ready */
	fds[0] = l6, fds[1] = l6o, fds[2] = c6, fds[3] = a6, fds[4] = c4, fds[5] = m6;
	fds[6] = u6, fds[7] = u6c;
	for (i = 0; i < 8; i++)
		names(fds[i], &before[i]);
	/* (a bind to an IPv6 address other than :: makes a socket V6ONLY: u6) */
	for (i = 0; i < 8; i++)
		only[i] = v6only(fds[i]);
	if (only[0] != 0 || only[1] != 1 || only[7] != 1)
		die("IPV6_V6ONLY not as set");

	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
	sigemptyset(&none);
	while (!usr1)
		sigsuspend(&none);

	for (i = 0; i < 8; i++) {
		names(fds[i], &after);
		if (after.nlen != before[i].nlen || after.plen != before[i].plen ||
		    memcmp(&after.name, &before[i].name, after.nlen) ||
		    memcmp(&after.peer, &before[i].peer, after.plen)) {
			snprintf(buf, sizeof(buf), "socket %d: another name or peer", i);
			fail(buf);
		}
	}
	for (i = 0; i < 8; i++)
		if (v6only(fds[i]) != only[i]) {
			snprintf(buf, sizeof(buf), "socket %d: IPV6_V6ONLY %d, was %d", i, v6only(fds[i]),
				 only[i]);
			fail(buf);
		}
	if (recv_check(a6, 1, 5000) || recv_check(c6, 2, 3000) || recv_check(m6, 3, 2000))
		fail("queued TCP bytes differ");
	send_all(a6, 4, 4000);
	send_all(m6, 5, 1000);
	if (recv_check(c6, 4, 4000) || recv_check(c4, 5, 1000))
		fail("a restored connection does not carry new data");
	for (i = 0; i < 2; i++) {
		const char *want = i ? "second" : "first";
		ssize_t n;

		flen = sizeof(from);
		n = recvfrom(u6, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n != (ssize_t)strlen(want) || memcmp(buf, want, n) ||
		    from.sin6_port != htons(47104) ||
		    !IN6_IS_ADDR_LOOPBACK(&from.sin6_addr))
			fail("queued datagrams differ");
	}
	if (send(u6c, "again", 5, 0) != 5 || recv(u6, buf, sizeof(buf), 0) != 5)
		fail("the connected UDP socket does not send");
	if (accept_from(l6, connect6("::1", 47101)) || accept_from(l6, connect4(47101)) ||
	    accept_from(l6o, connect6("::1", 47102)))
		fail("a restored listener does not accept");

	f = fopen(res, "w");
	if (!f)
		die(res);
	fprintf(f, failure[0] ? "FAIL: %s\n" : "PASS\n", failure);
	fclose(f);
	return failure[0] ? 1 : 0;
}

/* a socket with an option restart does not set: self checkpoint must refuse it */
static int refuse_prefs(void)
{
	int s = sock6(SOCK_STREAM, 0), prefs = 0x0002;	/* IPV6_PREFER_SRC_PUBLIC */
	long ret;

	if (setsockopt(s, IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, &prefs, sizeof(prefs)))
		die("IPV6_ADDR_PREFERENCES");
	ret = syscall(__NR_checkpoint, 0, STDOUT_FILENO, CHECKPOINT_SUBTREE, STDERR_FILENO);
	if (ret >= 0) {
		fprintf(stderr, "inet6: checkpoint succeeded (id %ld)\n", ret);
		return 1;
	}
	fprintf(stderr, "inet6: checkpoint: errno %d (%s)\n", errno, strerror(errno));
	return errno == EOPNOTSUPP ? 0 : 1;
}

int main(int argc, char *argv[])
{
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "refuse") && !strcmp(argv[2], "prefs"))
		return refuse_prefs();
	fprintf(stderr, "usage: inet6 hold DIR RES | inet6 refuse prefs\n");
	return 2;
}
