/*
 * icmpsock: ICMP ping sockets and raw sockets that judge themselves after checkpoint/restart.
 *
 *   icmpsock hold DIR RES      build the sockets below (as root), write DIR/ready, wait for
 *                              SIGUSR1, check, write PASS or "FAIL: why" to RES
 *   icmpsock ping-self IMG LOG a ping socket bound to 127.0.0.1, identifier 4721, checkpoints
 *                              itself (CHECKPOINT_SUBTREE); restarted, it pings 127.0.0.1 and
 *                              prints "restarted: ping id 4721 answered"
 *   icmpsock raw-self IMG LOG  (root) a raw ICMP socket, then CAP_NET_RAW dropped from the
 *                              effective set, checkpoints itself; restarted, it checks the socket
 *                              and prints "restarted: raw socket kept"
 *   icmpsock restart IMG LOG   restart IMG in place of this task, CAP_NET_RAW dropped from the
 *                              effective set first (a caller without it)
 *   icmpsock queued IMG LOG    a ping socket with an echo reply not read: self checkpoint must
 *                              refuse it by name
 *
 * The sockets of hold:
 *   p0  ping (IPv4), unbound
 *   p1  ping bound to 127.0.0.1, identifier 4711
 *   p2  ping connected to 127.0.0.1 (its identifier chosen by the kernel at connect)
 *   p6  ping (IPv6) bound to [::1], identifier 4712
 *   r1  raw IPPROTO_ICMP bound to 127.0.0.1, ICMP_FILTER passing echo replies only
 *   r2  raw IPPROTO_RAW (IP_HDRINCL by its protocol), unbound
 *   r3  raw protocol 253 connected to 127.0.0.1
 *   r4  raw protocol 253 bound to 127.0.0.1
 *   r5  raw IPv6 IPPROTO_ICMPV6, ICMPV6_FILTER passing echo replies only
 *   r6  raw IPv6 protocol 253 bound to [::1], IPV6_CHECKSUM at offset 4
 *   r7  raw protocol 254 with IP_HDRINCL set
 * After SIGUSR1: every name, peer name, type, protocol and option as before; p1, p2 and p6 get
 * the replies to their pings with their identifiers, r1 and r5 see the replies pass their
 * filters, r4 receives what r3 sends (protocol 253, from 127.0.0.1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/checkpoint.h>

#include "restart_self.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1	/* linux/icmp.h, whose struct icmphdr clashes with glibc's */
#endif
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

static volatile sig_atomic_t usr1;
static char failure[512];

#define CHECK(cond, ...) do { \
	if (!(cond) && !failure[0]) \
		snprintf(failure, sizeof(failure), __VA_ARGS__); \
} while (0)

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void die(const char *what)
{
	printf("icmpsock: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct sockaddr_in sin4(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static struct sockaddr_in6 sin6(const char *ip, int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

static int mk(int family, int type, int proto)
{
	int s = socket(family, type, proto);

	if (s < 0)
		die("socket");
	return s;
}

static void bind_to(int s, const void *a, socklen_t len)
{
	if (bind(s, a, len))
		die("bind");
}

static int setint(int s, int level, int opt, int val)
{
	return setsockopt(s, level, opt, &val, sizeof(val));
}

static int getint(int s, int level, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(s, level, opt, &v, &len))
		return -errno - 100000;
	return v;
}

/* what a socket looks like from outside: names, type, protocol, options */
struct look {
	struct sockaddr_storage name, peer;
	socklen_t name_len, peer_len;
	int type, proto, hdrincl, checksum;
	uint32_t filter[8];
	socklen_t filter_len;
};

static void look_at(int s, int family, struct look *l)
{
	memset(l, 0, sizeof(*l));
	l->name_len = sizeof(l->name);
	l->peer_len = sizeof(l->peer);
	if (getsockname(s, (struct sockaddr *)&l->name, &l->name_len))
		l->name_len = 0;
	if (getpeername(s, (struct sockaddr *)&l->peer, &l->peer_len))
		l->peer_len = (socklen_t)-errno;
	l->type = getint(s, SOL_SOCKET, SO_TYPE);
	l->proto = getint(s, SOL_SOCKET, SO_PROTOCOL);
	if (l->type != SOCK_RAW)
		return;
	l->hdrincl = getint(s, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			    family == AF_INET ? IP_HDRINCL : IPV6_HDRINCL);
	if (family == AF_INET6)
		l->checksum = getint(s, SOL_RAW, IPV6_CHECKSUM);
	l->filter_len = family == AF_INET ? 4 : 32;
	if (l->proto == IPPROTO_ICMP && family == AF_INET)
		getsockopt(s, SOL_RAW, ICMP_FILTER, l->filter, &l->filter_len);
	else if (l->proto == IPPROTO_ICMPV6 && family == AF_INET6)
		getsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, l->filter, &l->filter_len);
	else
		l->filter_len = 0;
}

static int wait_in(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, 10000) == 1;
}

/* an echo request from a ping socket; its reply: the socket's identifier, our payload */
static void ping_once(const char *what, int s, int family, const void *to, socklen_t tolen,
		      int want_id, int *got_id)
{
	unsigned char req[64] = { 0 }, rep[256];
	const char payload[] = "icmpsock payload";
	ssize_t n;

	req[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	req[7] = 7;	/* sequence 7; the kernel sets the identifier and checksum */
	memcpy(req + 8, payload, sizeof(payload));
	n = sendto(s, req, 8 + sizeof(payload), 0, to, tolen);
	CHECK(n == (ssize_t)(8 + sizeof(payload)), "%s: send: %s", what, strerror(errno));
	CHECK(wait_in(s), "%s: no reply", what);
	n = recv(s, rep, sizeof(rep), MSG_DONTWAIT);
	CHECK(n == (ssize_t)(8 + sizeof(payload)), "%s: reply of %zd bytes", what, n);
	if (n < 8)
		return;
	CHECK(rep[0] == (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY),
	      "%s: reply of type %d", what, rep[0]);
	CHECK(!memcmp(rep + 8, payload, sizeof(payload)), "%s: reply payload differs", what);
	if (got_id)
		*got_id = rep[4] << 8 | rep[5];
	CHECK(want_id < 0 || (rep[4] << 8 | rep[5]) == want_id, "%s: reply id %d, not %d", what,
	      rep[4] << 8 | rep[5], want_id);
}

/* a raw ICMP socket (@hdr: bytes of IP header before the ICMP one) sees echo reply @id pass */
static void raw_sees_reply(const char *what, int s, size_t hdr, int type, int id)
{
	unsigned char b[512];
	ssize_t n;

	for (int i = 0; i < 16; i++) {
		CHECK(wait_in(s), "%s: no echo reply passed its filter", what);
		n = recv(s, b, sizeof(b), MSG_DONTWAIT);
		if (n < (ssize_t)hdr + 8)
			break;
		CHECK(b[hdr] == type, "%s: type %d passed its filter", what, b[hdr]);
		if ((b[hdr + 4] << 8 | b[hdr + 5]) == id)
			return;
	}
	CHECK(0, "%s: the echo reply of id %d never came", what, id);
}

static void same(const char *what, int s, int family, const struct look *before)
{
	struct look now;

	look_at(s, family, &now);
	CHECK(now.name_len == before->name_len &&
	      !memcmp(&now.name, &before->name, now.name_len), "%s: name differs", what);
	CHECK(now.peer_len == before->peer_len &&
	      ((int)now.peer_len < 0 || !memcmp(&now.peer, &before->peer, now.peer_len)),
	      "%s: peer name differs", what);
	CHECK(now.type == before->type && now.proto == before->proto,
	      "%s: type %d protocol %d, was %d %d", what, now.type, now.proto, before->type,
	      before->proto);
	CHECK(now.hdrincl == before->hdrincl, "%s: hdrincl %d, was %d", what, now.hdrincl,
	      before->hdrincl);
	CHECK(now.checksum == before->checksum, "%s: IPV6_CHECKSUM %d, was %d", what, now.checksum,
	      before->checksum);
	CHECK(now.filter_len == before->filter_len &&
	      !memcmp(now.filter, before->filter, sizeof(now.filter)), "%s: ICMP filter differs",
	      what);
}

static void write_result(const char *res)
{
	FILE *f = fopen(res, "w");

	if (!f)
		die(res);
	fprintf(f, failure[0] ? "FAIL: %s\n" : "PASS\n", failure);
	fclose(f);
}

static int hold(const char *dir, const char *res)
{
	struct sockaddr_in lo = sin4("127.0.0.1", 0), p1a = sin4("127.0.0.1", 4711);
	struct sockaddr_in6 lo6 = sin6("::1", 0), p6a = sin6("::1", 4712);
	struct icmp6_filter f6;
	uint32_t f4 = ~(1U << ICMP_ECHOREPLY);
	const char *names[] = { "p0", "p1", "p2", "p6", "r1", "r2", "r3", "r4", "r5", "r6", "r7" };
	int fam[11], s[11], p2id = -1;
	struct look before[11];
	char path[4096], b[256];
	ssize_t n;
	FILE *f;

	signal(SIGUSR1, on_usr1);
	s[0] = mk(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	s[1] = mk(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	bind_to(s[1], &p1a, sizeof(p1a));
	s[2] = mk(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (connect(s[2], (struct sockaddr *)&lo, sizeof(lo)))
		die("connect p2");
	s[3] = mk(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	bind_to(s[3], &p6a, sizeof(p6a));
	s[4] = mk(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	bind_to(s[4], &lo, sizeof(lo));
	if (setsockopt(s[4], SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)))
		die("ICMP_FILTER");
	s[5] = mk(AF_INET, SOCK_RAW, IPPROTO_RAW);
	s[6] = mk(AF_INET, SOCK_RAW, 253);
	if (connect(s[6], (struct sockaddr *)&lo, sizeof(lo)))
		die("connect r3");
	s[7] = mk(AF_INET, SOCK_RAW, 253);
	bind_to(s[7], &lo, sizeof(lo));
	s[8] = mk(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	if (setsockopt(s[8], IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)))
		die("ICMP6_FILTER");
	s[9] = mk(AF_INET6, SOCK_RAW, 253);
	bind_to(s[9], &lo6, sizeof(lo6));
	if (setint(s[9], SOL_RAW, IPV6_CHECKSUM, 4))
		die("IPV6_CHECKSUM");
	s[10] = mk(AF_INET, SOCK_RAW, 254);
	if (setint(s[10], IPPROTO_IP, IP_HDRINCL, 1))
		die("IP_HDRINCL");
	for (int i = 0; i < 11; i++) {
		fam[i] = i == 3 || i == 8 || i == 9 ? AF_INET6 : AF_INET;
		look_at(s[i], fam[i], &before[i]);
	}
	CHECK(before[5].hdrincl == 1 && before[10].hdrincl == 1 && before[9].checksum == 4 &&
	      before[8].checksum == 2, "before: hdrincl %d %d, checksum %d %d", before[5].hdrincl,
	      before[10].hdrincl, before[9].checksum, before[8].checksum);
	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "ready %d\n", getpid());
	fclose(f);
	while (!usr1)
		pause();

	for (int i = 0; i < 11; i++)
		same(names[i], s[i], fam[i], &before[i]);
	ping_once("p1", s[1], AF_INET, &lo, sizeof(lo), 4711, NULL);
	raw_sees_reply("r1", s[4], 20, ICMP_ECHOREPLY, 4711);
	ping_once("p2", s[2], AF_INET, NULL, 0, ntohs(((struct sockaddr_in *)&before[2].name)->sin_port),
		  &p2id);
	ping_once("p6", s[3], AF_INET6, &lo6, sizeof(lo6), 4712, NULL);
	raw_sees_reply("r5", s[8], 0, ICMP6_ECHO_REPLY, 4712);
	ping_once("p0", s[0], AF_INET, &lo, sizeof(lo), -1, NULL);
	CHECK(send(s[6], "raw253", 6, 0) == 6, "r3: send: %s", strerror(errno));
	CHECK(wait_in(s[7]), "r4: nothing from r3");
	n = recv(s[7], b, sizeof(b), MSG_DONTWAIT);
	CHECK(n == 26 && b[9] == (char)253 && !memcmp(b + 12, "\x7f\0\0\1", 4) &&
	      !memcmp(b + 20, "raw253", 6), "r4: got %zd bytes, not r3's packet", n);
	write_result(res);
	printf("icmpsock: p2 identifier %d\n", p2id);
	return 0;
}

/* CAP_NET_RAW out of the effective set (kept in the permitted one) */
static void drop_net_raw(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		die("capget");
	d[CAP_NET_RAW / 32].effective &= ~(1U << (CAP_NET_RAW % 32));
	if (syscall(SYS_capset, &h, d))
		die("capset");
}

static long self_checkpoint(const char *img, const char *log)
{
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long ret;

	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	if (ret)
		printf("checkpoint returned %ld (%s)\n", ret,
		       ret < 0 ? (errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno)) : "ok");
	close(fd);
	close(lfd);
	return ret;
}

static int ping_self(const char *img, const char *log)
{
	struct sockaddr_in a = sin4("127.0.0.1", 4721);
	int s = mk(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

	bind_to(s, &a, sizeof(a));
	if (self_checkpoint(img, log))
		return 0;
	ping_once("ping-self", s, AF_INET, &a, sizeof(a), 4721, NULL);
	printf("restarted: %s\n", failure[0] ? failure : "ping id 4721 answered");
	return !!failure[0];
}

static int raw_self(const char *img, const char *log)
{
	int s = mk(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	uint32_t f4 = ~(1U << ICMP_ECHOREPLY);
	struct look before;

	if (setsockopt(s, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)))
		die("ICMP_FILTER");
	look_at(s, AF_INET, &before);
	drop_net_raw();
	if (self_checkpoint(img, log))
		return 0;
	same("raw-self", s, AF_INET, &before);
	printf("restarted: %s\n", failure[0] ? failure : "raw socket kept");
	return !!failure[0];
}

/* a reply queued, not read */
static int queued(const char *img, const char *log)
{
	struct sockaddr_in a = sin4("127.0.0.1", 0);
	unsigned char req[8] = { ICMP_ECHO };
	int s = mk(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

	if (sendto(s, req, sizeof(req), 0, (struct sockaddr *)&a, sizeof(a)) != sizeof(req))
		die("sendto");
	if (!wait_in(s))
		die("no reply");
	return self_checkpoint(img, log) < 0 ? 0 : 1;
}

int main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "ping-self"))
		return ping_self(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "raw-self"))
		return raw_self(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "queued"))
		return queued(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "restart")) {
		drop_net_raw();
		return restart_img("icmpsock", argv[2], argv[3]);
	}
	fprintf(stderr, "usage: icmpsock hold DIR RES | ping-self|raw-self|queued|restart IMG LOG\n");
	return 2;
}
