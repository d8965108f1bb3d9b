/*
 * netlinksock: netlink sockets that judge themselves after checkpoint/restart (issue 11).
 *
 *   netlinksock hold DIR RES     build the sockets below, write DIR/ready, wait for SIGUSR1,
 *                                check, write DIR/ready2, wait for an address notification,
 *                                write PASS or "FAIL: why" to RES
 *   netlinksock queued IMG LOG   a NETLINK_ROUTE socket with a dump reply not read: self
 *                                checkpoint must refuse it by name
 *
 * The sockets:
 *   r1  NETLINK_ROUTE, raw, bound by the kernel (nl_pid 0: its port id chosen), groups
 *       RTMGRP_LINK | RTMGRP_IPV4_IFADDR, group 33 joined by NETLINK_ADD_MEMBERSHIP,
 *       NETLINK_EXT_ACK and NETLINK_NO_ENOBUFS set
 *   r2  NETLINK_ROUTE, unbound
 *   g1  NETLINK_GENERIC, dgram, bound to port id 28673, no groups
 * After SIGUSR1: every name (port id and groups), membership list and option as before; r1
 * dumps the links (RTM_GETLINK) and gets lo with its port id and sequence number, r2 still
 * unbound, then r1 gets the RTM_NEWADDR of an address added to lo (its group).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
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
	printf("netlinksock: %s: %s\n", what, strerror(errno));
	exit(2);
}

struct look {
	struct sockaddr_nl name;
	unsigned int groups[4];
	socklen_t glen;
	int ext_ack, no_enobufs;
};

static void look_at(int s, struct look *l)
{
	socklen_t len = sizeof(l->name);

	memset(l, 0, sizeof(*l));
	if (getsockname(s, (struct sockaddr *)&l->name, &len))
		die("getsockname");
	l->glen = sizeof(l->groups);
	if (getsockopt(s, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, l->groups, &l->glen))
		die("NETLINK_LIST_MEMBERSHIPS");
	len = sizeof(int);
	getsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &l->ext_ack, &len);
	len = sizeof(int);
	getsockopt(s, SOL_NETLINK, NETLINK_NO_ENOBUFS, &l->no_enobufs, &len);
}

static void same(const char *who, int s, const struct look *b)
{
	struct look a;

	look_at(s, &a);
	CHECK(a.name.nl_pid == b->name.nl_pid, "%s: port id %u, not %u", who, a.name.nl_pid,
	      b->name.nl_pid);
	CHECK(a.name.nl_groups == b->name.nl_groups, "%s: groups %#x, not %#x", who,
	      a.name.nl_groups, b->name.nl_groups);
	CHECK(!memcmp(a.groups, b->groups, sizeof(a.groups)),
	      "%s: memberships %08x %08x, not %08x %08x", who, a.groups[0], a.groups[1],
	      b->groups[0], b->groups[1]);
	CHECK(a.ext_ack == b->ext_ack && a.no_enobufs == b->no_enobufs,
	      "%s: NETLINK_EXT_ACK %d NETLINK_NO_ENOBUFS %d, not %d %d", who, a.ext_ack,
	      a.no_enobufs, b->ext_ack, b->no_enobufs);
}

static void dump_links(int s, unsigned int seq)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
	} req = {
		.n = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = seq },
		.i = { .ifi_family = AF_UNSPEC },
	};

	if (send(s, &req, sizeof(req), 0) != sizeof(req))
		die("send RTM_GETLINK");
}

static int wait_in(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * a message of type @type for port id @pid and sequence @seq (0: any) comes; @dump: read the
 * dump to its NLMSG_DONE
 */
static int got(int s, int type, unsigned int pid, unsigned int seq, int ms, int dump)
{
	char buf[32768];
	int found = 0, done = 0;

	while (!(dump ? done : found) && wait_in(s, ms)) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == type && (!pid || h->nlmsg_pid == pid) &&
			    (!seq || h->nlmsg_seq == seq))
				found = 1;
			if (h->nlmsg_type == NLMSG_DONE)
				done = 1;
		}
	}
	return found;
}

static int hold(const char *dir, const char *res)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR };
	struct sockaddr_nl g = { .nl_family = AF_NETLINK, .nl_pid = 28673 };
	struct look l1, l2, lg;
	int r1, r2, g1, one = 1, group = 33;
	char path[256];
	FILE *f;

	r1 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	r2 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	g1 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC);
	if (r1 < 0 || r2 < 0 || g1 < 0)
		die("socket");
	if (bind(r1, (struct sockaddr *)&a, sizeof(a)) || bind(g1, (struct sockaddr *)&g, sizeof(g)))
		die("bind");
	if (setsockopt(r1, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(r1, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)))
		die("setsockopt");
	look_at(r1, &l1);
	look_at(r2, &l2);
	look_at(g1, &lg);
	if (!l1.name.nl_pid || !(l1.groups[1] & 1))
		die("r1 not bound or not in group 33");
	signal(SIGUSR1, on_usr1);
	snprintf(path, sizeof(path), "%s/ready", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
	while (!usr1)
		pause();
	same("r1", r1, &l1);
	same("r2", r2, &l2);
	same("g1", g1, &lg);
	CHECK(lg.name.nl_pid == 28673, "g1: port id %u", lg.name.nl_pid);
	dump_links(r1, 4711);
	CHECK(got(r1, RTM_NEWLINK, l1.name.nl_pid, 4711, 2000, 1),
	      "r1: no RTM_NEWLINK for its port id %u and sequence 4711", l1.name.nl_pid);
	snprintf(path, sizeof(path), "%s/ready2", dir);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
	CHECK(got(r1, RTM_NEWADDR, 0, 0, 10000, 0), "r1: no RTM_NEWADDR from its group RTMGRP_IPV4_IFADDR");
	f = fopen(res, "w");
	if (!f)
		die(res);
	fprintf(f, failure[0] ? "FAIL: %s\n" : "PASS\n", failure);
	fclose(f);
	return failure[0] ? 1 : 0;
}

/* a dump reply not read: self checkpoint must refuse it */
static int queued(const char *img, const char *log)
{
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long ret;

	if (s < 0 || fd < 0 || lfd < 0)
		die("open");
	dump_links(s, 1);
	if (!wait_in(s, 2000))
		die("no reply");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	printf("checkpoint returned %ld (%s)\n", ret,
	       ret < 0 ? (errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno)) : "ok");
	return ret < 0 && errno == EOPNOTSUPP ? 0 : 1;
}

int main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "queued"))
		return queued(argv[2], argv[3]);
	fprintf(stderr, "usage: netlinksock hold DIR RES | queued IMG LOG\n");
	return 2;
}
