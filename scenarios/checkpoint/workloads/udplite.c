/*
 * udplite: UDP-Lite sockets (RFC 3828) that judge themselves after checkpoint/restart.
 *
 *   udplite hold DIR RES   build the sockets below, write DIR/ready, wait for SIGUSR1, check,
 *                          write PASS or "FAIL: why" to RES
 *
 * The sockets of hold:
 *   u0  UDP-Lite (IPv4), unbound
 *   u1  UDP-Lite bound to 127.0.0.1:47201, UDPLITE_SEND_CSCOV 20, UDPLITE_RECV_CSCOV 16
 *   u2  UDP-Lite bound to 127.0.0.1:47202, connected to u1, UDPLITE_SEND_CSCOV 24; before the
 *       checkpoint it sends u1 "lite-1" and "lite-two" (queued, partial coverage)
 *   u3  UDP bound to 127.0.0.1:47201 (UDP and UDP-Lite have ports of their own)
 *   u4  UDP bound to 127.0.0.1:47202; it sends u3 "plain" (queued)
 *   u6  UDP-Lite (IPv6) bound to [::1]:47203, UDPLITE_SEND_CSCOV 0 (the whole datagram)
 *   u7  UDP-Lite (IPv6) bound to [::1]:47204; it sends u6 "v6-full" (queued, full coverage)
 * After SIGUSR1: every name, protocol and coverage as before; u1 reads "lite-1" then "lite-two"
 * from 127.0.0.1:47202, u3 reads "plain" from 127.0.0.1:47202 (a UDP port), u6 reads "v6-full"
 * from [::1]:47204; a new UDP-Lite sender covering 8 bytes is dropped by u1 (its restored
 * UDPLITE_RECV_CSCOV 16 in effect), and u2 reaches u1 again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#ifndef SOL_UDPLITE
#define SOL_UDPLITE 136
#endif
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11

static const char *res_path;
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void result(const char *fmt, ...)
{
	char line[300];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	f = fopen(res_path, "w");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	printf("%s\n", line);
	exit(strncmp(line, "PASS", 4) != 0);
}

static void die(const char *what)
{
	result("FAIL: %s: %s", what, strerror(errno));
}

static int lite(int family, const char *addr, int port, int send_cscov, int recv_cscov,
		int proto)
{
	int s = socket(family, SOCK_DGRAM, proto);

	if (s < 0)
		die("socket");
	if (send_cscov >= 0 &&
	    setsockopt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &send_cscov, sizeof(send_cscov)))
		die("UDPLITE_SEND_CSCOV");
	if (recv_cscov >= 0 &&
	    setsockopt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV, &recv_cscov, sizeof(recv_cscov)))
		die("UDPLITE_RECV_CSCOV");
	if (!addr)
		return s;
	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

		inet_pton(AF_INET, addr, &sin.sin_addr);
		if (bind(s, (struct sockaddr *)&sin, sizeof(sin)))
			die("bind");
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

		inet_pton(AF_INET6, addr, &sin6.sin6_addr);
		if (bind(s, (struct sockaddr *)&sin6, sizeof(sin6)))
			die("bind");
	}
	return s;
}

static void send_to(int s, int family, const char *addr, int port, const char *msg)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&ss, len) != (ssize_t)strlen(msg))
		die("sendto");
}

/* the port of @s's name, or of where the datagram @ss came from */
static int port_of(struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((struct sockaddr_in *)ss)->sin_port :
						 ((struct sockaddr_in6 *)ss)->sin6_port);
}

static void check_name(int s, const char *who, int proto, int port, int send_cscov, int recv_cscov)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int v, sv, rv;

	len = sizeof(v);
	if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len) || v != proto)
		result("FAIL: %s: protocol %d, not %d", who, v, proto);
	len = sizeof(ss);
	if (getsockname(s, (struct sockaddr *)&ss, &len) || port_of(&ss) != port)
		result("FAIL: %s: port %d, not %d", who, port_of(&ss), port);
	if (proto != IPPROTO_UDPLITE)
		return;
	len = sizeof(sv);
	if (getsockopt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &sv, &len))
		die("getsockopt UDPLITE_SEND_CSCOV");
	len = sizeof(rv);
	if (getsockopt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV, &rv, &len))
		die("getsockopt UDPLITE_RECV_CSCOV");
	if (sv != send_cscov || rv != recv_cscov)
		result("FAIL: %s: coverage %d/%d, not %d/%d", who, sv, rv, send_cscov, recv_cscov);
}

/* the next datagram of @s, within @ms, must be @want from port @from; -1: none must come */
static void expect(int s, const char *who, const char *want, int from, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[64];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0) {
		if (!want)
			return;
		result("FAIL: %s: no datagram \"%s\"", who, want);
	}
	n = recvfrom(s, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
	if (n < 0)
		die("recvfrom");
	buf[n] = 0;
	if (!want)
		result("FAIL: %s: got \"%s\", which its coverage should have dropped", who, buf);
	if (strcmp(buf, want) || port_of(&ss) != from)
		result("FAIL: %s: got \"%s\" from port %d, not \"%s\" from %d", who, buf,
		       port_of(&ss), want, from);
}

int main(int argc, char **argv)
{
	int u0, u1, u2, u3, u4, u6, u7, w;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(47201) };
	char path[512];
	FILE *f;

	if (argc != 4 || strcmp(argv[1], "hold")) {
		fprintf(stderr, "usage: udplite hold DIR RES\n");
		return 2;
	}
	res_path = argv[3];
	signal(SIGUSR1, on_usr1);
	u0 = lite(AF_INET, NULL, 0, -1, -1, IPPROTO_UDPLITE);
	u1 = lite(AF_INET, "127.0.0.1", 47201, 20, 16, IPPROTO_UDPLITE);
	u2 = lite(AF_INET, "127.0.0.1", 47202, 24, -1, IPPROTO_UDPLITE);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (connect(u2, (struct sockaddr *)&to, sizeof(to)))
		die("connect");
	u3 = lite(AF_INET, "127.0.0.1", 47201, -1, -1, IPPROTO_UDP);
	u4 = lite(AF_INET, "127.0.0.1", 47202, -1, -1, IPPROTO_UDP);
	u6 = lite(AF_INET6, "::1", 47203, 0, -1, IPPROTO_UDPLITE);
	u7 = lite(AF_INET6, "::1", 47204, -1, -1, IPPROTO_UDPLITE);
	if (send(u2, "lite-1", 6, 0) != 6 || send(u2, "lite-two", 8, 0) != 8)
		die("send");
	send_to(u4, AF_INET, "127.0.0.1", 47201, "plain");
	send_to(u7, AF_INET6, "::1", 47203, "v6-full");
	usleep(100000);
	snprintf(path, sizeof(path), "%s/ready", argv[2]);
	f = fopen(path, "w");
	if (!f)
		die("ready");
	fclose(f);
	while (!go)
		pause();

	check_name(u0, "u0", IPPROTO_UDPLITE, 0, 0, 0);
	check_name(u1, "u1", IPPROTO_UDPLITE, 47201, 20, 16);
	check_name(u2, "u2", IPPROTO_UDPLITE, 47202, 24, 0);
	check_name(u3, "u3", IPPROTO_UDP, 47201, 0, 0);
	check_name(u4, "u4", IPPROTO_UDP, 47202, 0, 0);
	check_name(u6, "u6", IPPROTO_UDPLITE, 47203, 0, 0);
	check_name(u7, "u7", IPPROTO_UDPLITE, 47204, 0, 0);
	expect(u1, "u1", "lite-1", 47202, 1000);
	expect(u1, "u1", "lite-two", 47202, 1000);
	expect(u3, "u3", "plain", 47202, 1000);
	expect(u6, "u6", "v6-full", 47204, 1000);
	w = lite(AF_INET, "127.0.0.1", 47205, 8, -1, IPPROTO_UDPLITE);
	send_to(w, AF_INET, "127.0.0.1", 47201, "narrow");
	expect(u1, "u1", NULL, 0, 300);
	if (send(u2, "again", 5, 0) != 5)
		die("send again");
	expect(u1, "u1", "again", 47202, 1000);
	result("PASS: names, protocols, coverage and queued datagrams as before; u1 drops an 8-byte coverage");
	return 0;
}
