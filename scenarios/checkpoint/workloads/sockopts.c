/*
 * sockopts: one socket option at a time, set, checkpointed and restarted, read back (issue 11).
 *
 *   sockopts list                 the names of the cases below, one a line
 *   sockopts self NAME IMG LOG    make the socket of case NAME, set its option, read it back
 *                                 (it must differ from a new socket's value, else "NAME: FAIL
 *                                 setup"), checkpoint itself (CHECKPOINT_SUBTREE) into IMG; on
 *                                 success print "NAME: checkpointed" and exit; refused, print
 *                                 "NAME: refused (errno E)". Restarted, read the option again:
 *                                 "NAME: kept", or "NAME: LOST" with both values.
 *   sockopts restart-netns IMG LOG  restart IMG in place of this task in a new network namespace
 *                                 (only lo there: the devices of the image are not)
 *
 * Each case is a socket of a family and type, an option set on it (several for a bound or
 * listening TCP socket, then bound or connected) and what getsockopt() reads of it; the
 * membership cases read IP_MSFILTER of the group (EADDRNOTAVAIL when not joined). eth0 is
 * the management NIC (10.0.2.15) of every guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/checkpoint.h>
#include <linux/in6.h>

#include "restart_self.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef IPV6_RECVFRAGSIZE
#define IPV6_RECVFRAGSIZE 77
#endif

enum kind { UDP4, UDP6, TCP4_LISTEN, TCP4_FREEBIND, TCP4_CONN };

struct opt {
	const char *name;
	enum kind kind;
	int level, opt;
	int val;		/* an int option's value */
	int how;		/* 0 int, 1 device name, 2 ifindex of eth0 (IPv6), 3 htonl(ifindex),
				 * 4 IP_MULTICAST_IF by address, 5 IPv4 membership, 6 SSM,
				 * 7 IPv6 membership */
};

static const struct opt opts[] = {
	{ "so-bindtodevice-lo", UDP4, SOL_SOCKET, SO_BINDTODEVICE, 0, 1 },
	{ "so-bindtodevice-eth0", UDP4, SOL_SOCKET, SO_BINDTODEVICE, 0, 1 },
	{ "ip-freebind", UDP4, SOL_IP, IP_FREEBIND, 1, 0 },
	{ "ip-transparent", UDP4, SOL_IP, IP_TRANSPARENT, 1, 0 },
	{ "ip-recverr", UDP4, SOL_IP, IP_RECVERR, 1, 0 },
	{ "ip-recverr-rfc4884", UDP4, SOL_IP, IP_RECVERR_RFC4884, 1, 0 },
	{ "ip-bind-address-no-port", UDP4, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1, 0 },
	{ "ip-pktinfo", UDP4, SOL_IP, IP_PKTINFO, 1, 0 },
	{ "ip-recvttl", UDP4, SOL_IP, IP_RECVTTL, 1, 0 },
	{ "ip-recvtos", UDP4, SOL_IP, IP_RECVTOS, 1, 0 },
	{ "ip-recvopts", UDP4, SOL_IP, IP_RECVOPTS, 1, 0 },
	{ "ip-retopts", UDP4, SOL_IP, IP_RETOPTS, 1, 0 },
	{ "ip-passsec", UDP4, SOL_IP, IP_PASSSEC, 1, 0 },
	{ "ip-recvorigdstaddr", UDP4, SOL_IP, IP_RECVORIGDSTADDR, 1, 0 },
	{ "ip-checksum", UDP4, SOL_IP, IP_CHECKSUM, 1, 0 },
	{ "ip-recvfragsize", UDP4, SOL_IP, IP_RECVFRAGSIZE, 1, 0 },
	{ "ip-multicast-ttl", UDP4, SOL_IP, IP_MULTICAST_TTL, 7, 0 },
	{ "ip-multicast-loop", UDP4, SOL_IP, IP_MULTICAST_LOOP, 0, 0 },
	{ "ip-multicast-all", UDP4, SOL_IP, IP_MULTICAST_ALL, 0, 0 },
	{ "ip-multicast-if", UDP4, SOL_IP, IP_MULTICAST_IF, 0, 4 },
	{ "ip-add-membership", UDP4, SOL_IP, IP_ADD_MEMBERSHIP, 0, 5 },
	{ "ip-add-source-membership", UDP4, SOL_IP, IP_ADD_SOURCE_MEMBERSHIP, 0, 6 },
	{ "ip-mtu-discover", UDP4, SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, 0 },
	{ "ip-minttl", UDP4, SOL_IP, IP_MINTTL, 3, 0 },
	{ "ip-unicast-if", UDP4, SOL_IP, IP_UNICAST_IF, 0, 3 },
	{ "ip-local-port-range", UDP4, SOL_IP, IP_LOCAL_PORT_RANGE, 40000 | 40100 << 16, 0 },
	{ "ipv6-recvpktinfo", UDP6, SOL_IPV6, IPV6_RECVPKTINFO, 1, 0 },
	{ "ipv6-recvhoplimit", UDP6, SOL_IPV6, IPV6_RECVHOPLIMIT, 1, 0 },
	{ "ipv6-recvrthdr", UDP6, SOL_IPV6, IPV6_RECVRTHDR, 1, 0 },
	{ "ipv6-recvhopopts", UDP6, SOL_IPV6, IPV6_RECVHOPOPTS, 1, 0 },
	{ "ipv6-recvdstopts", UDP6, SOL_IPV6, IPV6_RECVDSTOPTS, 1, 0 },
	{ "ipv6-recvtclass", UDP6, SOL_IPV6, IPV6_RECVTCLASS, 1, 0 },
	{ "ipv6-recvpathmtu", UDP6, SOL_IPV6, IPV6_RECVPATHMTU, 1, 0 },
	{ "ipv6-recvorigdstaddr", UDP6, SOL_IPV6, IPV6_RECVORIGDSTADDR, 1, 0 },
	{ "ipv6-recvfragsize", UDP6, SOL_IPV6, IPV6_RECVFRAGSIZE, 1, 0 },
	{ "ipv6-flowinfo", UDP6, SOL_IPV6, IPV6_FLOWINFO, 1, 0 },
	{ "ipv6-2292pktinfo", UDP6, SOL_IPV6, IPV6_2292PKTINFO, 1, 0 },
	{ "ipv6-2292hoplimit", UDP6, SOL_IPV6, IPV6_2292HOPLIMIT, 1, 0 },
	{ "ipv6-2292rthdr", UDP6, SOL_IPV6, IPV6_2292RTHDR, 1, 0 },
	{ "ipv6-2292hopopts", UDP6, SOL_IPV6, IPV6_2292HOPOPTS, 1, 0 },
	{ "ipv6-2292dstopts", UDP6, SOL_IPV6, IPV6_2292DSTOPTS, 1, 0 },
	{ "ipv6-recverr", UDP6, SOL_IPV6, IPV6_RECVERR, 1, 0 },
	{ "ipv6-recverr-rfc4884", UDP6, SOL_IPV6, IPV6_RECVERR_RFC4884, 1, 0 },
	{ "ipv6-dontfrag", UDP6, SOL_IPV6, IPV6_DONTFRAG, 1, 0 },
	{ "ipv6-multicast-loop", UDP6, SOL_IPV6, IPV6_MULTICAST_LOOP, 0, 0 },
	{ "ipv6-multicast-all", UDP6, SOL_IPV6, IPV6_MULTICAST_ALL, 0, 0 },
	{ "ipv6-mtu-discover", UDP6, SOL_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, 0 },
	{ "ipv6-unicast-hops", UDP6, SOL_IPV6, IPV6_UNICAST_HOPS, 33, 0 },
	{ "ipv6-multicast-hops", UDP6, SOL_IPV6, IPV6_MULTICAST_HOPS, 9, 0 },
	{ "ipv6-tclass", UDP6, SOL_IPV6, IPV6_TCLASS, 0x20, 0 },
	{ "ipv6-minhopcount", UDP6, SOL_IPV6, IPV6_MINHOPCOUNT, 2, 0 },
	{ "ipv6-multicast-if", UDP6, SOL_IPV6, IPV6_MULTICAST_IF, 0, 2 },
	{ "ipv6-unicast-if", UDP6, SOL_IPV6, IPV6_UNICAST_IF, 0, 3 },
	{ "ipv6-freebind", UDP6, SOL_IPV6, IPV6_FREEBIND, 1, 0 },
	{ "ipv6-transparent", UDP6, SOL_IPV6, IPV6_TRANSPARENT, 1, 0 },
	{ "ipv6-ip-recvttl", UDP6, SOL_IP, IP_RECVTTL, 1, 0 },
	{ "ipv6-join-group", UDP6, SOL_IPV6, IPV6_JOIN_GROUP, 0, 7 },
	{ "tcp-listen-bindtodevice-lo", TCP4_LISTEN, SOL_SOCKET, SO_BINDTODEVICE, 0, 1 },
	{ "tcp-listen-recverr", TCP4_LISTEN, SOL_IP, IP_RECVERR, 1, 0 },
	{ "tcp-freebind-nonlocal", TCP4_FREEBIND, SOL_IP, IP_FREEBIND, 1, 0 },
	{ "tcp-conn-mtu-discover", TCP4_CONN, SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, 0 },
	{ "tcp-conn-recverr", TCP4_CONN, SOL_IP, IP_RECVERR, 1, 0 },
	{ "tcp-conn-bindtodevice-lo", TCP4_CONN, SOL_SOCKET, SO_BINDTODEVICE, 0, 1 },
};

static void die(const char *name, const char *what)
{
	printf("%s: FAIL setup: %s: %s\n", name, what, strerror(errno));
	exit(2);
}

static const char *devname_of(const struct opt *o)
{
	return strstr(o->name, "eth0") ? "eth0" : "lo";
}

static int mk(const struct opt *o)
{
	int s = socket(o->kind == UDP6 ? AF_INET6 : AF_INET,
		       o->kind == UDP4 || o->kind == UDP6 ? SOCK_DGRAM : SOCK_STREAM, 0);

	if (s < 0)
		die(o->name, "socket");
	return s;
}

static void group4(struct ip_mreqn *m, const char *group)
{
	memset(m, 0, sizeof(*m));
	inet_pton(AF_INET, group, &m->imr_multiaddr);
	m->imr_ifindex = if_nametoindex("eth0");
}

/* set the option of @o on @s */
static void set(const struct opt *o, int s)
{
	int ifindex = if_nametoindex("eth0"), val = o->val, r;
	struct ip_mreq_source ms;
	struct ipv6_mreq m6;
	struct ip_mreqn m;
	const char *dev;

	switch (o->how) {
	case 1:
		dev = devname_of(o);
		r = setsockopt(s, o->level, o->opt, dev, strlen(dev));
		break;
	case 2:
		r = setsockopt(s, o->level, o->opt, &ifindex, sizeof(ifindex));
		break;
	case 3:
		val = htonl(ifindex);
		r = setsockopt(s, o->level, o->opt, &val, sizeof(val));
		break;
	case 4:
		memset(&m, 0, sizeof(m));
		inet_pton(AF_INET, "10.0.2.15", &m.imr_address);
		r = setsockopt(s, o->level, o->opt, &m, sizeof(m));
		break;
	case 5:
		group4(&m, "239.1.2.3");
		r = setsockopt(s, o->level, o->opt, &m, sizeof(m));
		group4(&m, "239.1.2.4");
		r = r ?: setsockopt(s, o->level, o->opt, &m, sizeof(m));
		break;
	case 6:
		memset(&ms, 0, sizeof(ms));
		inet_pton(AF_INET, "239.1.2.5", &ms.imr_multiaddr);
		inet_pton(AF_INET, "10.0.2.15", &ms.imr_interface);
		inet_pton(AF_INET, "10.0.2.2", &ms.imr_sourceaddr);
		r = setsockopt(s, o->level, o->opt, &ms, sizeof(ms));
		break;
	case 7:
		memset(&m6, 0, sizeof(m6));
		inet_pton(AF_INET6, "ff02::1:3", &m6.ipv6mr_multiaddr);
		m6.ipv6mr_interface = ifindex;
		r = setsockopt(s, o->level, o->opt, &m6, sizeof(m6));
		break;
	default:
		r = setsockopt(s, o->level, o->opt, &val, sizeof(val));
	}
	if (r)
		die(o->name, "setsockopt");
}

/* what getsockopt() says of the option of @o on @s, as text */
static void get(const struct opt *o, int s, char *buf, size_t len)
{
	unsigned char v[128];
	socklen_t vl = sizeof(v);
	struct ip_msfilter *f = (struct ip_msfilter *)v;
	int r, i, n;

	memset(v, 0, sizeof(v));
	if (o->how == 5 || o->how == 6) {
		char out[2][64];

		for (i = 0; i < 2; i++) {
			memset(v, 0, sizeof(v));
			inet_pton(AF_INET, o->how == 6 ? "239.1.2.5" : i ? "239.1.2.4" : "239.1.2.3",
				  &f->imsf_multiaddr);
			inet_pton(AF_INET, "10.0.2.15", &f->imsf_interface);
			vl = sizeof(v);
			r = getsockopt(s, SOL_IP, IP_MSFILTER, f, &vl);
			if (r)
				snprintf(out[i], sizeof(out[i]), "not joined (%s)", strerror(errno));
			else
				snprintf(out[i], sizeof(out[i]), "joined fmode %u nsrc %u",
					 f->imsf_fmode, f->imsf_numsrc);
		}
		snprintf(buf, len, "[%s, %s]", out[0], out[1]);
		return;
	}
	if (o->how == 7) {
		FILE *p = fopen("/proc/net/igmp6", "r");
		char line[256];

		n = 0;
		while (p && fgets(line, sizeof(line), p))
			n += !!strstr(line, "ff020000000000000000000000010003");
		if (p)
			fclose(p);
		snprintf(buf, len, "ff02::1:3 joined %d times", n);
		return;
	}
	r = getsockopt(s, o->level, o->opt, v, &vl);
	if (r) {
		snprintf(buf, len, "error %s", strerror(errno));
		return;
	}
	if (o->how == 1) {
		snprintf(buf, len, "\"%.*s\"", (int)vl, v);
		return;
	}
	n = snprintf(buf, len, "%u bytes:", vl);
	for (i = 0; i < (int)vl && n < (int)len - 4; i++)
		n += snprintf(buf + n, len - n, " %02x", v[i]);
}

/* the socket of case @o, its option set; @fresh: without the option */
static int make(const struct opt *o, int fresh)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7001) };
	int one = 1, s, l, c;

	s = mk(o);
	if (!fresh && o->kind != TCP4_CONN)
		set(o, s);
	if (o->kind == TCP4_LISTEN || o->kind == TCP4_FREEBIND || o->kind == TCP4_CONN) {
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		inet_pton(AF_INET, o->kind == TCP4_FREEBIND ? "10.99.0.1" : "127.0.0.1", &a.sin_addr);
		if (o->kind == TCP4_FREEBIND && fresh)
			inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
			die(o->name, "bind/listen");
	}
	if (o->kind != TCP4_CONN)
		return s;
	l = s;
	c = mk(o);
	if (!fresh)
		set(o, c);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)))
		die(o->name, "connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		die(o->name, "accept");
	close(l);
	/* the accepted end stays open: the connection's peer is in the checkpoint */
	return c;
}

static const struct opt *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

static int self(const char *name, const char *img, const char *log)
{
	const struct opt *o = find(name);
	char before[512], after[512], fresh[512];
	int s, fd, lfd;
	long ret;

	if (!o) {
		printf("%s: FAIL no such case\n", name);
		return 2;
	}
	s = make(o, 1);
	get(o, s, fresh, sizeof(fresh));
	close(s);
	s = make(o, 0);
	get(o, s, before, sizeof(before));
	if (!strcmp(before, fresh)) {
		printf("%s: FAIL setup: the option reads %s, as on a new socket\n", name, before);
		return 2;
	}
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lfd < 0)
		die(name, "open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	if (ret < 0) {
		printf("%s: refused (errno %d)\n", name, errno);
		return 0;
	}
	if (ret > 0) {
		printf("%s: checkpointed\n", name);
		return 0;
	}
	close(fd);
	close(lfd);
	get(o, s, after, sizeof(after));
	if (strcmp(before, after))
		printf("%s: LOST: %s before, %s after (a new socket: %s)\n", name, before, after,
		       fresh);
	else
		printf("%s: kept (%s)\n", name, after);
	return 0;
}

int main(int argc, char *argv[])
{
	size_t i;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			printf("%s\n", opts[i].name);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "self"))
		return self(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "restart-netns")) {
		if (unshare(CLONE_NEWNET)) {
			perror("unshare");
			return 2;
		}
		return restart_img("sockopts", argv[2], argv[3]);
	}
	fprintf(stderr, "usage: sockopts list | self NAME IMG LOG | restart-netns IMG LOG\n");
	return 2;
}
