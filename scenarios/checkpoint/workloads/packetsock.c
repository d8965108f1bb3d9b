/*
 * packetsock: packet sockets (AF_PACKET) that judge themselves after checkpoint/restart (issue 11).
 *
 *   packetsock hold DIR RES      build the sockets below, write DIR/ready, wait for SIGUSR1,
 *                                check, write PASS or "FAIL: why" to RES
 *   packetsock refuse WHAT IMG LOG
 *                                a packet socket with WHAT (ring, ringmap: mapped as tcpdump
 *                                does, txring, fanout, queued, txoff, spkt): self checkpoint
 *                                must refuse it (EOPNOTSUPP)
 *   packetsock self IMG LOG      (root) a packet socket bound to lo, then CAP_NET_RAW dropped
 *                                from the effective set, checkpoints itself; restarted, it
 *                                receives a frame and prints "restarted: packet socket kept"
 *   packetsock restart IMG LOG   restart IMG in place of this task, CAP_NET_RAW dropped from
 *                                the effective set first (a caller without it)
 *
 * The sockets:
 *   e1  SOCK_RAW, 0x88b6, bound to eth0: TPACKET_V2, PACKET_AUXDATA, PACKET_ORIGDEV,
 *       PACKET_RESERVE 64, PACKET_LOSS, PACKET_TIMESTAMP, PACKET_COPY_THRESH; memberships on
 *       eth0: PACKET_MR_PROMISC twice, PACKET_MR_ALLMULTI, PACKET_MR_MULTICAST 01:00:5e:00:00:fb
 *   e3  SOCK_DGRAM, created with protocol 0, bound to eth0 with 0x88b7, PACKET_AUXDATA
 *   e2  SOCK_RAW, protocol 0 (receives nothing), not bound: PACKET_VNET_HDR,
 *       PACKET_QDISC_BYPASS, TPACKET_V3
 *   r1  SOCK_RAW, 0x88b5, bound to lo, PACKET_AUXDATA
 *   d1  SOCK_DGRAM, 0x88b5, bound to lo, PACKET_IGNORE_OUTGOING, SO_ATTACH_FILTER (a classic
 *       filter that keeps payloads of 40 bytes or more, as the test's), SO_RCVBUF
 * After SIGUSR1: every option and name reads back as before (bound devices by their index on
 * this machine), eth0 is promiscuous and allmulti and in the multicast group (the memberships
 * were added again, the promiscuous one twice: one PACKET_DROP_MEMBERSHIP leaves it promiscuous,
 * a second one does not), the statistics went on; r1 sends a frame on lo and both r1 (the whole
 * frame, with PACKET_AUXDATA) and d1 (its payload, from lo) receive it.  Nothing is sent on
 * eth0 (the ethertypes there are ones that no one sends: no packet is queued when frozen).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/checkpoint.h>

#include "restart_self.h"

#define PROTO_TEST 0x88b5	/* IEEE local experimental 1 (lo) */
#define PROTO_ETH0 0x88b6	/* ... 2 (eth0: no one sends it) */
#define PROTO_ETH0_DGRAM 0x88b7

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
	printf("packetsock: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int pkt(int type, int proto)
{
	int s = socket(AF_PACKET, type, htons(proto));

	if (s < 0)
		die("socket(AF_PACKET)");
	return s;
}

static void bind_to(int s, const char *dev, int proto)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				 .sll_ifindex = (int)if_nametoindex(dev) };

	if (!a.sll_ifindex || bind(s, (struct sockaddr *)&a, sizeof(a)))
		die(dev);
}

static void set(int s, int opt, int val, const char *name)
{
	if (setsockopt(s, SOL_PACKET, opt, &val, sizeof(val)))
		die(name);
}

static void member(int s, const char *dev, int type, const unsigned char *addr, int alen,
		   int add)
{
	struct packet_mreq m = { .mr_ifindex = (int)if_nametoindex(dev), .mr_type = type,
				 .mr_alen = alen };

	if (alen)
		memcpy(m.mr_address, addr, alen);
	if (setsockopt(s, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &m,
		       sizeof(m)))
		die("PACKET_ADD/DROP_MEMBERSHIP");
}

static const int opts[] = { PACKET_VERSION, PACKET_AUXDATA, PACKET_ORIGDEV, PACKET_VNET_HDR,
			    PACKET_RESERVE, PACKET_LOSS, PACKET_TIMESTAMP, PACKET_IGNORE_OUTGOING,
			    PACKET_QDISC_BYPASS, PACKET_TX_HAS_OFF, PACKET_FANOUT, PACKET_HDRLEN };
static const char *const optnames[] = { "PACKET_VERSION", "PACKET_AUXDATA", "PACKET_ORIGDEV",
					"PACKET_VNET_HDR", "PACKET_RESERVE", "PACKET_LOSS",
					"PACKET_TIMESTAMP", "PACKET_IGNORE_OUTGOING",
					"PACKET_QDISC_BYPASS", "PACKET_TX_HAS_OFF", "PACKET_FANOUT",
					"PACKET_HDRLEN" };
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

struct look {
	struct sockaddr_ll name;
	char dev[IF_NAMESIZE];
	int val[NOPTS];
	int type, rcvbuf, filter;
};

static void look_at(int s, struct look *l)
{
	socklen_t len = sizeof(l->name);
	unsigned int i;

	memset(l, 0, sizeof(*l));
	if (getsockname(s, (struct sockaddr *)&l->name, &len))
		die("getsockname");
	if (l->name.sll_ifindex && !if_indextoname(l->name.sll_ifindex, l->dev))
		die("if_indextoname");
	for (i = 0; i < NOPTS; i++) {
		len = sizeof(int);
		l->val[i] = 2;	/* PACKET_HDRLEN: in, the version */
		if (getsockopt(s, SOL_PACKET, opts[i], &l->val[i], &len))
			die(optnames[i]);
	}
	len = sizeof(int);
	getsockopt(s, SOL_SOCKET, SO_TYPE, &l->type, &len);
	len = sizeof(int);
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &l->rcvbuf, &len);
	len = 0;
	l->filter = getsockopt(s, SOL_SOCKET, SO_GET_FILTER, NULL, &len) ? -1 : (int)len;
}

static void same(const char *who, int s, const struct look *b)
{
	struct look a;
	unsigned int i;

	look_at(s, &a);
	CHECK(!strcmp(a.dev, b->dev), "%s: bound to '%s', not '%s'", who, a.dev, b->dev);
	CHECK(a.name.sll_protocol == b->name.sll_protocol, "%s: protocol %#x, not %#x", who,
	      ntohs(a.name.sll_protocol), ntohs(b->name.sll_protocol));
	CHECK(a.name.sll_hatype == b->name.sll_hatype && a.name.sll_halen == b->name.sll_halen &&
	      !memcmp(a.name.sll_addr, b->name.sll_addr, a.name.sll_halen),
	      "%s: another device address", who);
	for (i = 0; i < NOPTS; i++)
		CHECK(a.val[i] == b->val[i], "%s: %s %d, not %d", who, optnames[i], a.val[i],
		      b->val[i]);
	CHECK(a.type == b->type, "%s: type %d, not %d", who, a.type, b->type);
	CHECK(a.rcvbuf == b->rcvbuf, "%s: SO_RCVBUF %d, not %d", who, a.rcvbuf, b->rcvbuf);
	CHECK(a.filter == b->filter, "%s: a filter of %d instructions, not %d", who, a.filter,
	      b->filter);
}

/*
 * the device's flags as the kernel keeps them (sysfs: SIOCGIFFLAGS and rtnetlink show only the
 * promiscuous and allmulti modes that a user set, not those of packet socket memberships)
 */
static unsigned int ifflags(const char *dev)
{
	char path[64];
	unsigned int fl = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", dev);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%x", &fl) != 1)
		die(path);
	fclose(f);
	return fl;
}

/* eth0 is in the multicast group 01:00:5e:00:00:fb by a packet socket (/proc/net/dev_mcast) */
static int in_mcast(void)
{
	FILE *f = fopen("/proc/net/dev_mcast", "r");
	char line[256];
	int found = 0;

	if (!f)
		die("/proc/net/dev_mcast");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "eth0") && strstr(line, "01005e0000fb"))
			found = 1;
	fclose(f);
	return found;
}

static struct tpacket_stats stats(int s)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		die("PACKET_STATISTICS");
	return st;
}

static int wait_in(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* r1 sends a frame on lo; r1 (whole, auxdata) and d1 (payload) must get it */
static void frame_over_lo(int r1, int d1)
{
	static const char payload[] = "packetsock frame after restart 0123456789abcdefghijklmnopq";
	unsigned char frame[14 + sizeof(payload)], buf[256];
	union {
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} cbuf;
	struct sockaddr_ll from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c;
	socklen_t flen = sizeof(from);
	int aux = 0;
	ssize_t n;

	memset(frame, 0, 12);	/* lo: 00:00:00:00:00:00 both ways */
	frame[12] = PROTO_TEST >> 8;
	frame[13] = PROTO_TEST & 0xff;
	memcpy(frame + 14, payload, sizeof(payload));
	n = send(r1, frame, sizeof(frame), 0);
	CHECK(n == (ssize_t)sizeof(frame), "r1: send on lo: %zd (%s)", n, strerror(errno));
	CHECK(wait_in(r1, 3000), "r1: its frame did not come back over lo");
	n = recvmsg(r1, &mh, MSG_DONTWAIT);
	CHECK(n == (ssize_t)sizeof(frame) && !memcmp(buf, frame, sizeof(frame)),
	      "r1: received %zd bytes, not its frame of %zu", n, sizeof(frame));
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			aux = ((struct tpacket_auxdata *)CMSG_DATA(c))->tp_len == sizeof(frame);
	CHECK(aux, "r1: no PACKET_AUXDATA with the frame's length");
	CHECK(wait_in(d1, 3000), "d1: no frame over lo");
	n = recvfrom(d1, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	CHECK(n == (ssize_t)sizeof(payload) && !memcmp(buf, payload, sizeof(payload)),
	      "d1: received %zd bytes, not the payload of %zu", n, sizeof(payload));
	CHECK(from.sll_ifindex == (int)if_nametoindex("lo") &&
	      ntohs(from.sll_protocol) == PROTO_TEST,
	      "d1: frame from ifindex %d protocol %#x", from.sll_ifindex, ntohs(from.sll_protocol));
}

static void ready(const char *dir, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fclose(f);
}

static int hold(const char *dir, const char *res)
{
	static const unsigned char mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct sock_filter keep[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 40, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { 4, keep };
	struct look le1, le2, le3, lr1, ld1;
	struct tpacket_stats st;
	int e1, e2, e3, r1, d1, rcvbuf = 100000;
	unsigned int fl;
	FILE *f;

	e1 = pkt(SOCK_RAW, PROTO_ETH0);
	bind_to(e1, "eth0", PROTO_ETH0);
	set(e1, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION");
	set(e1, PACKET_AUXDATA, 1, "PACKET_AUXDATA");
	set(e1, PACKET_ORIGDEV, 1, "PACKET_ORIGDEV");
	set(e1, PACKET_RESERVE, 64, "PACKET_RESERVE");
	set(e1, PACKET_LOSS, 1, "PACKET_LOSS");
	set(e1, PACKET_TIMESTAMP, SOF_TIMESTAMPING_RAW_HARDWARE, "PACKET_TIMESTAMP");
	set(e1, PACKET_COPY_THRESH, 128, "PACKET_COPY_THRESH");
	member(e1, "eth0", PACKET_MR_PROMISC, NULL, 0, 1);
	member(e1, "eth0", PACKET_MR_PROMISC, NULL, 0, 1);
	member(e1, "eth0", PACKET_MR_ALLMULTI, NULL, 0, 1);
	member(e1, "eth0", PACKET_MR_MULTICAST, mdns, 6, 1);

	e3 = pkt(SOCK_DGRAM, 0);
	bind_to(e3, "eth0", PROTO_ETH0_DGRAM);
	set(e3, PACKET_AUXDATA, 1, "PACKET_AUXDATA");

	e2 = pkt(SOCK_RAW, 0);
	set(e2, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
	set(e2, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS");
	set(e2, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION");

	r1 = pkt(SOCK_RAW, PROTO_TEST);
	bind_to(r1, "lo", PROTO_TEST);
	set(r1, PACKET_AUXDATA, 1, "PACKET_AUXDATA");

	d1 = pkt(SOCK_DGRAM, PROTO_TEST);
	bind_to(d1, "lo", PROTO_TEST);
	set(d1, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
	if (setsockopt(d1, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    setsockopt(d1, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		die("SO_ATTACH_FILTER/SO_RCVBUF");

	/* a frame through r1 and d1 before: statistics to carry over */
	frame_over_lo(r1, d1);
	if (failure[0]) {
		printf("packetsock: before the checkpoint: %s\n", failure);
		return 2;
	}
	look_at(e1, &le1);
	look_at(e2, &le2);
	look_at(e3, &le3);
	look_at(r1, &lr1);
	look_at(d1, &ld1);
	fl = ifflags("eth0");
	if (!(fl & IFF_PROMISC) || !(fl & IFF_ALLMULTI) || !in_mcast())
		die("the memberships of eth0");
	signal(SIGUSR1, on_usr1);
	ready(dir, "ready");
	while (!usr1)
		pause();

	same("e1", e1, &le1);
	same("e2", e2, &le2);
	same("e3", e3, &le3);
	same("r1", r1, &lr1);
	same("d1", d1, &ld1);
	CHECK(ld1.filter == 4, "d1: its filter has %d instructions", ld1.filter);
	CHECK(!strcmp(le1.dev, "eth0") && !strcmp(le3.dev, "eth0") && !strcmp(lr1.dev, "lo") &&
	      !le2.dev[0] && ntohs(le3.name.sll_protocol) == PROTO_ETH0_DGRAM,
	      "bound to '%s' '%s' '%s' '%s'", le1.dev, le3.dev, lr1.dev, le2.dev);
	/* r1 received its frame (PACKET_STATISTICS: the count since the start) */
	st = stats(r1);
	CHECK(st.tp_packets == 1 && st.tp_drops == 0, "r1: statistics %u/%u, not 1/0",
	      st.tp_packets, st.tp_drops);
	fl = ifflags("eth0");
	CHECK(fl & IFF_PROMISC, "eth0 not promiscuous after the restart (PACKET_MR_PROMISC)");
	CHECK(fl & IFF_ALLMULTI, "eth0 not allmulti after the restart (PACKET_MR_ALLMULTI)");
	CHECK(in_mcast(), "eth0 not in 01:00:5e:00:00:fb after the restart (PACKET_MR_MULTICAST)");
	member(e1, "eth0", PACKET_MR_PROMISC, NULL, 0, 0);
	CHECK(ifflags("eth0") & IFF_PROMISC, "eth0: PACKET_MR_PROMISC was added once, not twice");
	member(e1, "eth0", PACKET_MR_PROMISC, NULL, 0, 0);
	CHECK(!(ifflags("eth0") & IFF_PROMISC), "eth0: PACKET_MR_PROMISC added more than twice");
	frame_over_lo(r1, d1);
	st = stats(r1);
	CHECK(st.tp_packets == 1, "r1: %u packets after the restart, not 1", st.tp_packets);
	f = fopen(res, "w");
	if (!f)
		die(res);
	fprintf(f, failure[0] ? "FAIL: %s\n" : "PASS\n", failure);
	fclose(f);
	return failure[0] ? 1 : 0;
}

/* a packet socket with @what: self checkpoint must refuse it */
static int refuse(const char *what, const char *img, const char *log)
{
	int s = -1, fd, lfd;
	long ret;

	if (!strcmp(what, "ring") || !strcmp(what, "txring") || !strcmp(what, "ringmap")) {
		struct tpacket_req3 req = { .tp_block_size = 4096, .tp_block_nr = 4,
					    .tp_frame_size = 2048, .tp_frame_nr = 8,
					    .tp_retire_blk_tov = 60 };

		s = pkt(SOCK_RAW, 0);
		set(s, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION");
		if (!strcmp(what, "txring")) {
			set(s, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION");
			req.tp_retire_blk_tov = 0;
		}
		/* ring, txring: not mapped (the ring is refused, not its mapping); ringmap: as tcpdump */
		if (setsockopt(s, SOL_PACKET, strcmp(what, "txring") ? PACKET_RX_RING : PACKET_TX_RING,
			       &req, sizeof(req)))
			die("PACKET_RX_RING/TX_RING");
		if (!strcmp(what, "ringmap") &&
		    mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0) == MAP_FAILED)
			die("mmap");
	} else if (!strcmp(what, "fanout")) {
		s = pkt(SOCK_RAW, PROTO_TEST);
		bind_to(s, "lo", PROTO_TEST);
		set(s, PACKET_FANOUT, 77 | (PACKET_FANOUT_HASH << 16), "PACKET_FANOUT");
	} else if (!strcmp(what, "queued")) {
		int r = pkt(SOCK_RAW, PROTO_TEST);
		unsigned char frame[60] = { [12] = PROTO_TEST >> 8, [13] = PROTO_TEST & 0xff };

		/* r is fd 3, s fd 4: r reads its own copy, s's is refused */
		bind_to(r, "lo", PROTO_TEST);
		s = pkt(SOCK_DGRAM, PROTO_TEST);
		bind_to(s, "lo", PROTO_TEST);
		if (send(r, frame, sizeof(frame), 0) != sizeof(frame) || !wait_in(s, 3000) ||
		    !wait_in(r, 3000) || recv(r, frame, sizeof(frame), 0) != sizeof(frame))
			die("no frame queued");
	} else if (!strcmp(what, "txoff")) {
		s = pkt(SOCK_RAW, 0);
		set(s, PACKET_TX_HAS_OFF, 1, "PACKET_TX_HAS_OFF");
	} else if (!strcmp(what, "spkt")) {
		s = socket(AF_PACKET, SOCK_PACKET, htons(PROTO_TEST));
		if (s < 0)
			die("socket(SOCK_PACKET)");
	} else {
		fprintf(stderr, "packetsock: nothing to refuse: %s\n", what);
		return 2;
	}
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	printf("checkpoint returned %ld (%s)\n", ret,
	       ret < 0 ? (errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno)) : "ok");
	return ret < 0 && errno == EOPNOTSUPP ? 0 : 1;
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

static int self(const char *img, const char *log)
{
	int r = pkt(SOCK_RAW, PROTO_TEST), d, fd, lfd;
	struct look before;
	long ret;

	bind_to(r, "lo", PROTO_TEST);
	d = pkt(SOCK_DGRAM, PROTO_TEST);
	bind_to(d, "lo", PROTO_TEST);
	set(r, PACKET_AUXDATA, 1, "PACKET_AUXDATA");
	look_at(r, &before);
	drop_net_raw();
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	close(fd);
	close(lfd);
	if (ret) {
		printf("checkpoint returned %ld (%s)\n", ret, ret < 0 ? strerror(errno) : "ok");
		return ret < 0;
	}
	same("self", r, &before);
	frame_over_lo(r, d);
	printf("restarted: %s\n", failure[0] ? failure : "packet socket kept");
	return !!failure[0];
}

int main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "refuse"))
		return refuse(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "self"))
		return self(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "restart")) {
		drop_net_raw();
		return restart_img("packetsock", argv[2], argv[3]);
	}
	fprintf(stderr, "usage: packetsock hold DIR RES | refuse WHAT IMG LOG | self|restart IMG LOG\n");
	return 2;
}
