/*
 * ckptinfo FILE: print the records of a checkpoint image and check its
 * structure and checksum.  Exit 0 for a good image, 1 for a bad one.
 * An ET_CKPT file (ckpt2elf) is read too: its ELF header and program
 * headers, then the records of its segments (no credentials, rlimits,
 * scheduling, fs or files: the exec caller's).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/checkpoint.h>
#include <linux/elf_ckpt.h>

static FILE *in;
static uint64_t offset, csum_sum, csum_sum2, csum_n;	/* csum_n: words summed */
static unsigned char *rec;
static size_t rec_cap;
static const char *fname;
static int elf;

static void bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ckptinfo: %s: bad image at offset %" PRIu64 ": ", fname, offset);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void csum(const unsigned char *p, size_t len)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		csum_sum += ckpt_csum_mix(w, csum_n++);
		csum_sum2 += csum_sum;
	}
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case CKPT_HDR_HEADER: return "HEADER";
	case CKPT_HDR_HEADER_ARCH: return "HEADER_ARCH";
	case CKPT_HDR_BUFFER: return "BUFFER";
	case CKPT_HDR_STRING: return "STRING";
	case CKPT_HDR_TREE: return "TREE";
	case CKPT_HDR_UTS_NS: return "UTS_NS";
	case CKPT_HDR_NET_NS: return "NET_NS";
	case CKPT_HDR_NET_SYSCTL: return "NET_SYSCTL";
	case CKPT_HDR_IPC_NS: return "IPC_NS";
	case CKPT_HDR_IPC_MSQ: return "IPC_MSQ";
	case CKPT_HDR_IPC_MSG: return "IPC_MSG";
	case CKPT_HDR_IPC_SEM: return "IPC_SEM";
	case CKPT_HDR_IPC_SEM_UNDO: return "IPC_SEM_UNDO";
	case CKPT_HDR_TASK: return "TASK";
	case CKPT_HDR_THREAD: return "THREAD";
	case CKPT_HDR_CPU: return "CPU";
	case CKPT_HDR_CRED: return "CRED";
	case CKPT_HDR_RESTART_BLOCK: return "RESTART_BLOCK";
	case CKPT_HDR_AUXV: return "AUXV";
	case CKPT_HDR_SCHED: return "SCHED";
	case CKPT_HDR_SECCOMP: return "SECCOMP";
	case CKPT_HDR_SECCOMP_FILTER: return "SECCOMP_FILTER";
	case CKPT_HDR_THREADS: return "THREADS";
	case CKPT_HDR_THREAD_TASK: return "THREAD_TASK";
	case CKPT_HDR_FPU: return "FPU";
	case CKPT_HDR_FILE_TABLE: return "FILE_TABLE";
	case CKPT_HDR_FILE_DESC: return "FILE_DESC";
	case CKPT_HDR_FILE: return "FILE";
	case CKPT_HDR_FILE_LOCK: return "FILE_LOCK";
	case CKPT_HDR_PIPE: return "PIPE";
	case CKPT_HDR_FILE_DATA: return "FILE_DATA";
	case CKPT_HDR_MM: return "MM";
	case CKPT_HDR_VMA: return "VMA";
	case CKPT_HDR_SHMEM: return "SHMEM";
	case CKPT_HDR_AIO: return "AIO";
	case CKPT_HDR_PGARR: return "PGARR";
	case CKPT_HDR_PRECOPY: return "PRECOPY";
	case CKPT_HDR_PGREF: return "PGREF";
	case CKPT_HDR_PGCOW: return "PGCOW";
	case CKPT_HDR_SIGHAND: return "SIGHAND";
	case CKPT_HDR_SIGNAL: return "SIGNAL";
	case CKPT_HDR_FS: return "FS";
	case CKPT_HDR_PTY: return "PTY";
	case CKPT_HDR_CTTY: return "CTTY";
	case CKPT_HDR_FIFO: return "FIFO";
	case CKPT_HDR_SOCKET: return "SOCKET";
	case CKPT_HDR_EVENTFD: return "EVENTFD";
	case CKPT_HDR_EPOLL: return "EPOLL";
	case CKPT_HDR_EPOLL_ITEM: return "EPOLL_ITEM";
	case CKPT_HDR_SIGNALFD: return "SIGNALFD";
	case CKPT_HDR_TIMERFD: return "TIMERFD";
	case CKPT_HDR_INOTIFY: return "INOTIFY";
	case CKPT_HDR_INOTIFY_WATCH: return "INOTIFY_WATCH";
	case CKPT_HDR_INOTIFY_EVENT: return "INOTIFY_EVENT";
	case CKPT_HDR_SOCKET_QUEUE: return "SOCKET_QUEUE";
	case CKPT_HDR_SOCKET_MSG: return "SOCKET_MSG";
	case CKPT_HDR_SOCKET_DGRAM: return "SOCKET_DGRAM";
	case CKPT_HDR_SOCKET_TCP: return "SOCKET_TCP";
	case CKPT_HDR_SOCKET_INET: return "SOCKET_INET";
	case CKPT_HDR_SOCKET_ACCEPT: return "SOCKET_ACCEPT";
	case CKPT_HDR_SOCKET_RAW: return "SOCKET_RAW";
	case CKPT_HDR_SOCKET_IP: return "SOCKET_IP";
	case CKPT_HDR_SOCKET_MCAST: return "SOCKET_MCAST";
	case CKPT_HDR_SOCKET_FILTER: return "SOCKET_FILTER";
	case CKPT_HDR_SOCKET_NETLINK: return "SOCKET_NETLINK";
	case CKPT_HDR_SOCKET_TCPOPT: return "SOCKET_TCPOPT";
	case CKPT_HDR_SOCKET_PACKET: return "SOCKET_PACKET";
	case CKPT_HDR_SOCKET_PACKET_MC: return "SOCKET_PACKET_MC";
	case CKPT_HDR_SOCKET_UDPLITE: return "SOCKET_UDPLITE";
	case CKPT_HDR_SOCKET_CONN: return "SOCKET_CONN";
	case CKPT_HDR_SIGPENDING: return "SIGPENDING";
	case CKPT_HDR_ITIMERS: return "ITIMERS";
	case CKPT_HDR_POSIX_TIMERS: return "POSIX_TIMERS";
	case CKPT_HDR_TAIL: return "TAIL";
	case CKPT_HDR_ERROR: return "ERROR";
	}
	return "?";
}

/* read the next record (header, payload, padding) into rec */
static struct ckpt_hdr *next(void)
{
	struct ckpt_hdr h;
	size_t len, padded;

	if (fread(&h, sizeof(h), 1, in) != 1)
		bad("truncated (no record header)");
	if (h.len < sizeof(h) || h.len > (64u << 20))
		bad("record type %u: bad length %u", h.type, h.len);
	len = h.len;
	padded = (len + CKPT_HDR_ALIGN - 1) & ~(size_t)(CKPT_HDR_ALIGN - 1);
	if (padded + 1 > rec_cap) {
		rec_cap = padded + 1;
		rec = realloc(rec, rec_cap);
		if (!rec) {
			perror("ckptinfo");
			exit(2);
		}
	}
	memcpy(rec, &h, sizeof(h));
	if (fread(rec + sizeof(h), padded - sizeof(h), 1, in) != 1 && padded > sizeof(h))
		bad("record %s: truncated", type_name(h.type));
	for (size_t i = len; i < padded; i++)
		if (rec[i])
			bad("record %s: non-zero padding", type_name(h.type));
	rec[padded] = 0;
	printf("%10" PRIu64 "  %-11s len %u\n", offset, type_name(h.type), h.len);
	if (h.type != CKPT_HDR_TAIL)
		csum(rec, padded);
	offset += padded;
	if (h.type == CKPT_HDR_ERROR) {
		printf("            error: %s\n", len > 9 ? (char *)rec + 9 : "");
		fprintf(stderr, "ckptinfo: %s: image of a failed checkpoint: %s\n", fname,
			len > 9 ? (char *)rec + 9 : "");
		exit(1);
	}
	return (struct ckpt_hdr *)rec;
}

static void *expect(uint32_t type, uint32_t min, uint32_t max)
{
	struct ckpt_hdr *h = next();

	if (h->type != type)
		bad("expected %s record, found type %u (%s)", type_name(type), h->type,
		    type_name(h->type));
	if (h->len < min || h->len > max)
		bad("%s record: length %u, expected %u..%u", type_name(type), h->len, min, max);
	return h;
}

static char *string(const char *what)
{
	struct ckpt_hdr *h = expect(CKPT_HDR_STRING, sizeof(*h) + 1, sizeof(*h) + 4096);
	size_t n = h->len - sizeof(*h);
	char *s = (char *)(h + 1);

	for (size_t i = strlen(s); i < n; i++)
		if (s[i])
			bad("malformed string");
	printf("            %s: \"%s\"\n", what, s);
	return s;
}

/* the last pass of a pre-copy: PGREF records among the page arrays */
static int precopy_last;
static uint64_t total_refs;

/* a vma's page arrays; of an inherited vma (@cow), PGCOW ones among them */
static uint64_t total_cow;

static void pages(uint64_t start, uint64_t end, uint32_t page_size, int cow)
{
	uint64_t total = 0, refs = 0, shared = 0, last = start, last_ref = start;

	for (;;) {
		struct ckpt_hdr_pgarr *pa = (struct ckpt_hdr_pgarr *)next();
		int ref = pa->h.type == CKPT_HDR_PGREF && precopy_last;
		int is_cow = pa->h.type == CKPT_HDR_PGCOW && cow;
		uint64_t nr = pa->nr_pages, *lastp = ref ? &last_ref : &last;
		uint64_t *addrs;

		if (pa->h.type != CKPT_HDR_PGARR && !ref && !is_cow)
			bad("expected PGARR record, found type %u (%s)", pa->h.type,
			    type_name(pa->h.type));
		if (pa->h.len != sizeof(*pa))
			bad("%s record: length %u", type_name(pa->h.type), pa->h.len);
		if (!nr && !ref && !is_cow)
			break;
		if (!nr || nr > CKPT_PGARR_MAX)
			bad("page array of %" PRIu64 " pages", nr);
		addrs = expect(CKPT_HDR_BUFFER, 8 + nr * 8, 8 + nr * 8);
		addrs = (uint64_t *)((struct ckpt_hdr *)addrs + 1);
		for (uint64_t i = 0; i < nr; i++) {
			if (addrs[i] < *lastp || addrs[i] >= end || addrs[i] % page_size)
				bad("page address %#" PRIx64 " outside or out of order", addrs[i]);
			*lastp = addrs[i] + page_size;
		}
		if (ref) {
			refs += nr;
			continue;
		}
		if (is_cow) {
			shared += nr;
			continue;
		}
		expect(CKPT_HDR_BUFFER, 8 + nr * page_size, 8 + nr * page_size);
		total += nr;
	}
	total_cow += shared;
	if (cow)
		printf("            %" PRIu64 " pages, %" PRIu64 " still the parent's\n", total, shared);
	else if (refs)
		printf("            %" PRIu64 " pages, %" PRIu64 " in the pre-copy rounds\n", total, refs);
	else
		printf("            %" PRIu64 " pages\n", total);
	total_refs += refs;
}

static void tail_record(void)
{
	struct ckpt_hdr_tail *tail = expect(CKPT_HDR_TAIL, sizeof(*tail), sizeof(*tail));

	if (tail->magic != CHECKPOINT_MAGIC_TAIL)
		bad("bad tail magic %#" PRIx64, (uint64_t)tail->magic);
	if (tail->sum != csum_sum || tail->sum2 != csum_sum2)
		bad("checksum mismatch");
}

/* a TCP connection's SOCKET_TCP and its two BUFFERs (send, receive queue) */
static void tcp_conn(uint32_t sk_id)
{
	struct ckpt_hdr_socket_tcp t = *(struct ckpt_hdr_socket_tcp *)expect(
		CKPT_HDR_SOCKET_TCP, sizeof(t), sizeof(t));

	printf("            tcp send %u+%u recv %u+%u wnd %u/%u mss %u wscale %u/%u flags %#x\n",
	       t.send_seq, t.send_len, t.recv_seq, t.recv_len, t.snd_wnd, t.rcv_wnd,
	       t.mss_clamp, t.snd_wscale, t.rcv_wscale, t.flags);
	if (t.send_len > CKPT_SOCK_QUEUE_MAX || t.recv_len > CKPT_SOCK_QUEUE_MAX)
		bad("socket %u: TCP queues of %u and %u bytes", sk_id, t.send_len, t.recv_len);
	expect(CKPT_HDR_BUFFER, 8 + t.send_len, 8 + t.send_len);
	expect(CKPT_HDR_BUFFER, 8 + t.recv_len, 8 + t.recv_len);
}

/* a socket address as text: a path, @abstract (non-printable bytes as \xNN), or "-" */
static void sock_addr(char *out, size_t cap, const uint8_t *a, uint32_t len)
{
	size_t o = 0;

	if (len == 16 && a[0] == 2 && a[1] == 0) {	/* AF_INET */
		snprintf(out, cap, "%u.%u.%u.%u:%u", a[4], a[5], a[6], a[7], a[2] << 8 | a[3]);
		return;
	}
	if (len == 28 && a[0] == 10 && a[1] == 0) {	/* AF_INET6: [addr]:port */
		char ip[INET6_ADDRSTRLEN];

		if (!inet_ntop(AF_INET6, a + 8, ip, sizeof(ip)))
			snprintf(ip, sizeof(ip), "?");
		snprintf(out, cap, "[%s]:%u", ip, a[2] << 8 | a[3]);
		return;
	}
	if (len <= 2 || len > CKPT_SOCK_ADDR_MAX) {
		snprintf(out, cap, len == 2 ? "(unnamed)" : "-");
		return;
	}
	if (a[2] == 0)
		out[o++] = '@';
	for (uint32_t i = a[2] ? 2 : 3; i < len && o + 5 < cap; i++) {
		if (a[2] && !a[i])
			break;
		if (a[i] >= 0x20 && a[i] < 0x7f)
			out[o++] = a[i];
		else
			o += snprintf(out + o, cap - o, "\\x%02x", a[i]);
	}
	out[o] = 0;
}

/* SOCKET STRING STRING SOCKET_QUEUE { SOCKET_MSG BUFFER }* after a socket FILE */
static void socket_records(void)
{
	struct ckpt_hdr_socket s = *(struct ckpt_hdr_socket *)expect(CKPT_HDR_SOCKET,
					sizeof(s), sizeof(s));
	struct ckpt_hdr_socket_queue q;
	char la[4 * CKPT_SOCK_ADDR_MAX], ra[4 * CKPT_SOCK_ADDR_MAX];
	uint64_t total = 0;

	if (s.flags & ~CKPT_SOCK_FLAGS)
		bad("socket %u: bad flags %#x", s.sk_id, s.flags);
	sock_addr(la, sizeof(la), s.laddr, s.laddr_len);
	sock_addr(ra, sizeof(ra), s.raddr, s.raddr_len);
	printf("            socket %u family %u %s state %u peer %u flags %#x%s%s%s%s%s%s shutdown %u\n",
	       s.sk_id, s.family, s.type == 1 ? "stream" : s.type == 2 ? "dgram" :
	       s.type == 5 ? "seqpacket" : s.type == 3 ? "raw" : "?", s.state, s.peer_id, s.flags,
	       s.flags & CKPT_SOCK_PAIR ? " pair" : "",
	       s.flags & CKPT_SOCK_PEER_CLOSED ? " peer-closed" : "",
	       s.flags & CKPT_SOCK_CONNECT ? " connect" : "",
	       s.flags & CKPT_SOCK_BOUND ? " bound" : "",
	       s.flags & CKPT_SOCK_INHERITED ? " accepted" : "",
	       s.flags & CKPT_SOCK_PASSCRED ? " passcred" : "", s.shutdown);
	printf("            name %s peer name %s sndbuf %d rcvbuf %d backlog %u rcvtimeo_us %" PRId64
	       " sndtimeo_us %" PRId64 " peek_off %d err %d\n", la, ra, s.sndbuf, s.rcvbuf,
	       s.backlog, (int64_t)s.rcvtimeo_us, (int64_t)s.sndtimeo_us, s.peek_off, s.err);
	string("bind path");
	string("peer path");
	if (s.flags & CKPT_SOCK_FILTER) {
		struct ckpt_hdr_socket_filter f = *(struct ckpt_hdr_socket_filter *)expect(
			CKPT_HDR_SOCKET_FILTER, sizeof(f), sizeof(f));

		if (f.len > 4096 || f.flags & ~CKPT_FILTER_LOCKED || f._padding)
			bad("socket %u: bad filter (%u instructions, flags %#x)", s.sk_id, f.len,
			    f.flags);
		printf("            filter %u instructions%s\n", f.len,
		       f.flags & CKPT_FILTER_LOCKED ? " locked" : "");
		expect(CKPT_HDR_BUFFER, 8 + 8 * f.len, 8 + 8 * f.len);
	}
	if (s.family == 16) {	/* AF_NETLINK */
		struct ckpt_hdr_socket_netlink n = *(struct ckpt_hdr_socket_netlink *)expect(
			CKPT_HDR_SOCKET_NETLINK, sizeof(n), sizeof(n));

		if (n.flags & ~CKPT_NL_FLAGS || n._padding || n.dst_group > 64)
			bad("socket %u: bad netlink options (flags %#x)", s.sk_id, n.flags);
		printf("            netlink protocol %u portid %u groups %#" PRIx64 " dst %u/%u flags %#x\n",
		       s.protocol, n.portid, (uint64_t)n.groups, n.dst_portid, n.dst_group, n.flags);
	}
	if (s.family == 17) {	/* AF_PACKET */
		struct ckpt_hdr_socket_packet p = *(struct ckpt_hdr_socket_packet *)expect(
			CKPT_HDR_SOCKET_PACKET, sizeof(p), sizeof(p));
		uint32_t i;

		if (p.flags & ~CKPT_PACKET_FLAGS || p._padding[0] || p._padding[1] ||
		    p.version > 2 || p.nmc > CKPT_PACKET_MC_MAX ||
		    !memchr(p.ifname, 0, sizeof(p.ifname)))
			bad("socket %u: bad packet options (flags %#x, version %u, %u memberships)",
			    s.sk_id, p.flags, p.version, p.nmc);
		printf("            packet protocol 0x%04x device %s version %u flags %#x reserve %u"
		       " copy_thresh %d tstamp %#x stats %u/%u memberships %u\n",
		       ntohs(p.proto), p.flags & CKPT_PACKET_BOUND ? p.ifname : "(any)",
		       p.version, p.flags, p.reserve, p.copy_thresh, p.tstamp,
		       p.stat_packets, p.stat_drops, p.nmc);
		for (i = 0; i < p.nmc; i++) {
			struct ckpt_hdr_socket_packet_mc m = *(struct ckpt_hdr_socket_packet_mc *)expect(
				CKPT_HDR_SOCKET_PACKET_MC, sizeof(m), sizeof(m));
			uint16_t j;

			if (m.alen > CKPT_PACKET_ADDR_MAX || m.type > 3 || !m.count ||
			    m.count > CKPT_PACKET_MC_COUNT || !memchr(m.ifname, 0, sizeof(m.ifname)))
				bad("socket %u: bad packet membership %u", s.sk_id, i);
			printf("            membership %s type %u x%u address ", m.ifname, m.type,
			       m.count);
			for (j = 0; j < m.alen; j++)
				printf("%s%02x", j ? ":" : "", m.addr[j]);
			printf("\n");
		}
	}
	if (s.flags & CKPT_SOCK_INET_OPTS) {
		struct ckpt_hdr_socket_inet o = *(struct ckpt_hdr_socket_inet *)expect(
			CKPT_HDR_SOCKET_INET, sizeof(o), sizeof(o));

		if (o.flags & ~CKPT_INET_FLAGS)
			bad("socket %u: bad inet option flags %#x", s.sk_id, o.flags);
		printf("            inet linger %s%u ttl %d tos %#x cork %u maxseg %u keepalive %u/%u/%u user_timeout %u\n",
		       o.flags & CKPT_INET_LINGER ? "" : "off ", o.linger_s, o.ttl, o.tos,
		       !!(o.flags & CKPT_INET_CORK), o.maxseg, o.keepidle, o.keepintvl, o.keepcnt,
		       o.user_timeout);
	}
	if (s.flags & CKPT_SOCK_TCP_OPTS) {
		struct ckpt_hdr_socket_tcpopt t = *(struct ckpt_hdr_socket_tcpopt *)expect(
			CKPT_HDR_SOCKET_TCPOPT, sizeof(t), sizeof(t));

		if (t.flags & ~CKPT_TCPOPT_FLAGS || t.fastopen_qlen > INT32_MAX ||
		    memchr(t.congestion, 0, sizeof(t.congestion)) == NULL ||
		    t.window_clamp > INT32_MAX || t.tx_delay > INT32_MAX)
			bad("socket %u: bad TCP options (flags %#x)", s.sk_id, t.flags);
		printf("            tcp congestion \"%s\" window_clamp %u tx_delay %u thin_lto %u inq %u fastopen_connect %u fastopen_no_cookie %u fastopen %u\n",
		       t.congestion, t.window_clamp, t.tx_delay,
		       !!(t.flags & CKPT_TCPOPT_THIN_LTO), !!(t.flags & CKPT_TCPOPT_INQ),
		       !!(t.flags & CKPT_TCPOPT_FO_CONNECT),
		       !!(t.flags & CKPT_TCPOPT_FO_NO_COOKIE), t.fastopen_qlen);
	}
	if (s.flags & CKPT_SOCK_IP_OPTS) {
		struct ckpt_hdr_socket_ip p = *(struct ckpt_hdr_socket_ip *)expect(
			CKPT_HDR_SOCKET_IP, sizeof(p), sizeof(p));
		char mca[INET_ADDRSTRLEN];

		if (p.flags & ~CKPT_IP_FLAGS || p.cmsg_flags & ~CKPT_IP_CMSG_FLAGS ||
		    p.rxopt & ~CKPT_IP6_RXOPT || p.nmcast > CKPT_SOCK_MCAST_MAX ||
		    memchr(p.bind_dev, 0, 16) == NULL || memchr(p.mc_dev, 0, 16) == NULL ||
		    memchr(p.uc_dev, 0, 16) == NULL || memchr(p.mc6_dev, 0, 16) == NULL ||
		    memchr(p.uc6_dev, 0, 16) == NULL)
			bad("socket %u: bad IP options (flags %#x, cmsg %#x, rxopt %#x, %u memberships)",
			    s.sk_id, p.flags, p.cmsg_flags, p.rxopt, p.nmcast);
		inet_ntop(AF_INET, &p.mc_addr, mca, sizeof(mca));
		printf("            ip flags %#x cmsg %#x mc_ttl %u mc_if %s/\"%s\" pmtudisc %u min_ttl %u uc_if \"%s\" ports %u-%u bind_dev %s\n",
		       p.flags, p.cmsg_flags, p.mc_ttl, mca, p.mc_dev, p.pmtudisc, p.min_ttl,
		       p.uc_dev, p.port_lo, p.port_hi, p.bind_dev[0] ? p.bind_dev : "\"\"");
		if (s.family == 10)
			printf("            ipv6 rxopt %#x pmtudisc %u hops %d mcast_hops %d tclass %#x min_hopcount %u mtu %u mc_if \"%s\" uc_if \"%s\"\n",
			       p.rxopt, p.pmtudisc6, p.hop_limit, p.mcast_hops, p.tclass,
			       p.min_hopcount, p.frag_size, p.mc6_dev, p.uc6_dev);
		for (uint32_t i = 0; i < p.nmcast; i++) {
			struct ckpt_hdr_socket_mcast m = *(struct ckpt_hdr_socket_mcast *)expect(
				CKPT_HDR_SOCKET_MCAST, sizeof(m), sizeof(m));
			char g[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];

			if (!memchr(m.dev, 0, 16))
				bad("socket %u: bad multicast membership %u", s.sk_id, i);
			inet_ntop(AF_INET, &m.group, g, sizeof(g));
			inet_ntop(AF_INET, &m.address, a, sizeof(a));
			printf("            mcast group %s dev %s address %s\n", g, m.dev, a);
		}
	}
	if (s.type == 3 && (s.family == 2 || s.family == 10)) {	/* SOCK_RAW of inet */
		struct ckpt_hdr_socket_raw r = *(struct ckpt_hdr_socket_raw *)expect(
			CKPT_HDR_SOCKET_RAW, sizeof(r), sizeof(r));

		if (r.flags & ~CKPT_RAW_FLAGS || r.offset % 2 ||
		    (r.offset && !(r.flags & CKPT_RAW_CHECKSUM)))
			bad("socket %u: bad raw socket options (flags %#x, offset %u)", s.sk_id,
			    r.flags, r.offset);
		printf("            raw protocol %u hdrincl %u checksum %d icmp_filter %#x icmp6_filter %08x%08x%08x%08x%08x%08x%08x%08x\n",
		       s.protocol, !!(r.flags & CKPT_RAW_HDRINCL),
		       r.flags & CKPT_RAW_CHECKSUM ? (int)r.offset : -1, r.icmp_filter,
		       r.icmp6_filter[0], r.icmp6_filter[1], r.icmp6_filter[2], r.icmp6_filter[3],
		       r.icmp6_filter[4], r.icmp6_filter[5], r.icmp6_filter[6], r.icmp6_filter[7]);
	}
	if ((s.family == 2 || s.family == 10) && s.type == 2 && s.protocol == IPPROTO_UDPLITE) {
		struct ckpt_hdr_socket_udplite u = *(struct ckpt_hdr_socket_udplite *)expect(
			CKPT_HDR_SOCKET_UDPLITE, sizeof(u), sizeof(u));

		if (u.flags & ~CKPT_UDPLITE_FLAGS)
			bad("socket %u: bad UDP-Lite options (flags %#x)", s.sk_id, u.flags);
		printf("            udplite send_cscov %d recv_cscov %d\n",
		       u.flags & CKPT_UDPLITE_SEND ? u.send_cscov : -1,
		       u.flags & CKPT_UDPLITE_RECV ? u.recv_cscov : -1);
	}
	/*
	 * a TCP connection, established or half closed (CLOSE_WAIT, FIN_WAIT1/2, LAST_ACK,
	 * CLOSING), or connecting (SYN_SENT: its initial sequence number)
	 */
	if ((s.family == 2 || s.family == 10) && s.type == 1 &&
	    (s.state == 1 || s.state == 2 || s.state == 8 || s.state == 4 || s.state == 5 ||
	     s.state == 9 || s.state == 11))
		tcp_conn(s.sk_id);
	if (s.flags & CKPT_SOCK_ACCEPTQ) {
		struct ckpt_hdr_socket_accept a = *(struct ckpt_hdr_socket_accept *)expect(
			CKPT_HDR_SOCKET_ACCEPT, sizeof(a), sizeof(a));

		if (a.nconns > s.backlog + 1)
			bad("socket %u: accept queue of %u connections, backlog %u", s.sk_id,
			    a.nconns, s.backlog);
		printf("            accept queue %u connections\n", a.nconns);
		for (uint32_t i = 0; i < a.nconns; i++) {
			struct ckpt_hdr_socket_conn c = *(struct ckpt_hdr_socket_conn *)expect(
				CKPT_HDR_SOCKET_CONN, sizeof(c), sizeof(c));

			if (c.family != s.family || c.laddr_len > CKPT_SOCK_ADDR_MAX ||
			    c.raddr_len > CKPT_SOCK_ADDR_MAX)
				bad("socket %u: bad connection %u waiting to be accepted", s.sk_id, i);
			sock_addr(la, sizeof(la), c.laddr, c.laddr_len);
			sock_addr(ra, sizeof(ra), c.raddr, c.raddr_len);
			printf("            connection %u state %u name %s peer name %s\n", i, c.state,
			       la, ra);
			tcp_conn(s.sk_id);
		}
	}
	q = *(struct ckpt_hdr_socket_queue *)expect(CKPT_HDR_SOCKET_QUEUE, sizeof(q), sizeof(q));
	if (q.nmsgs > CKPT_SOCK_QUEUE_MSGS || q.bytes > CKPT_SOCK_QUEUE_MAX)
		bad("socket %u: queue of %u messages, %" PRIu64 " bytes", s.sk_id, q.nmsgs,
		    (uint64_t)q.bytes);
	printf("            queue %u messages, %" PRIu64 " bytes\n", q.nmsgs, (uint64_t)q.bytes);
	for (uint32_t i = 0; i < q.nmsgs; i++) {
		struct ckpt_hdr_socket_msg m = *(struct ckpt_hdr_socket_msg *)expect(
			CKPT_HDR_SOCKET_MSG, sizeof(m), sizeof(m));

		if (m.len > CKPT_SOCK_MSG_MAX)
			bad("socket %u: message of %u bytes", s.sk_id, m.len);
		printf("            message %u: %u bytes from %s %u, %u fds in flight\n", i, m.len,
		       m.sender_id ? "socket" : m.flags & CKPT_MSG_PEER ? "the closed peer" :
		       m.flags & CKPT_MSG_DGRAM ? "outside the checkpoint" : "an unnamed socket",
		       m.sender_id, m.nfds);
		if (m.nfds > CKPT_SOCK_MSG_FDS)
			bad("socket %u: %u fds in flight", s.sk_id, m.nfds);
		if (m.flags & ~CKPT_MSG_FLAGS)
			bad("socket %u: message flags %#x", s.sk_id, m.flags);
		if (m.flags & CKPT_MSG_DGRAM) {
			struct ckpt_hdr_socket_dgram d = *(struct ckpt_hdr_socket_dgram *)expect(
				CKPT_HDR_SOCKET_DGRAM, sizeof(d), sizeof(d));
			char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], sd[INET_ADDRSTRLEN];

			if (memchr(d.ifname, 0, sizeof(d.ifname)) == NULL ||
			    d.flags & ~CKPT_DGRAM_FLAGS)
				bad("socket %u: datagram %u: bad SOCKET_DGRAM", s.sk_id, i);
			inet_ntop(AF_INET, d.saddr + 12, src, sizeof(src));
			inet_ntop(AF_INET, d.daddr + 12, dst, sizeof(dst));
			inet_ntop(AF_INET, &d.spec_dst, sd, sizeof(sd));
			printf("              datagram from %s:%u to %s:%u by %s ttl %u tos %u%s%s"
			       " tstamp %" PRId64 "\n", src, ntohs(d.sport), dst, ntohs(d.dport),
			       d.ifname[0] ? d.ifname : "-", d.ttl, d.tos,
			       d.flags & CKPT_DGRAM_PKTINFO ? " pktinfo spec_dst " : "",
			       d.flags & CKPT_DGRAM_PKTINFO ? sd : "", (int64_t)d.tstamp);
		}
		expect(CKPT_HDR_BUFFER, 8 + m.len, 8 + m.len);
		if (m.nfds)
			expect(CKPT_HDR_BUFFER, 8 + 4 * m.nfds, 8 + 4 * m.nfds);
		total += m.len;
	}
	if (total != q.bytes)
		bad("socket %u: messages of %" PRIu64 " bytes in a queue of %" PRIu64, s.sk_id,
		    total, (uint64_t)q.bytes);
}

static void sigpending(void)
{
	struct ckpt_hdr_sigpending *s;

	s = expect(CKPT_HDR_SIGPENDING, sizeof(*s), sizeof(*s) + 65536 * sizeof(struct ckpt_siginfo));
	if (s->nr > 65536 || s->h.len != sizeof(*s) + s->nr * sizeof(struct ckpt_siginfo))
		bad("SIGPENDING: %u signals in %u bytes", s->nr, s->h.len);
	printf("            pending private %#" PRIx64 " shared %#" PRIx64 ", %u queued\n",
	       (uint64_t)s->private_mask, (uint64_t)s->shared_mask, s->nr);
	for (uint32_t i = 0; i < s->nr; i++) {
		struct ckpt_siginfo *e = &s->signals[i];
		int32_t w[6];

		memcpy(w, e->info, sizeof(w));
		if (e->queue > CKPT_SIGQ_SHARED || e->signo < 1 || e->signo > 64)
			bad("SIGPENDING: signal %u queue %u", e->signo, e->queue);
		/* si_signo, si_errno, si_code, pad, si_pid, si_uid */
		printf("            %s signal %u code %d pid %d uid %d\n",
		       e->queue == CKPT_SIGQ_SHARED ? "shared " : "private", e->signo, w[2], w[4],
		       w[5]);
	}
}

static void itimers(void)
{
	static const char *const name[] = { "real", "virtual", "prof" };
	struct ckpt_hdr_itimers *t = expect(CKPT_HDR_ITIMERS, sizeof(*t), sizeof(*t));

	for (int i = 0; i < 3; i++)
		printf("            itimer %s value %" PRIu64 " ns interval %" PRIu64 " ns\n", name[i],
		       (uint64_t)t->it[i].value_ns, (uint64_t)t->it[i].interval_ns);
}

static void posix_timers(void)
{
	struct ckpt_hdr_posix_timers *p = expect(CKPT_HDR_POSIX_TIMERS, sizeof(*p),
						 sizeof(*p) + 65536 * sizeof(p->timers[0]));

	if (p->nr > 65536 || p->h.len != sizeof(*p) + p->nr * sizeof(p->timers[0]))
		bad("POSIX_TIMERS: %u timers in %u bytes", p->nr, p->h.len);
	printf("            %u POSIX timers, next id %d\n", p->nr, p->next_id);
	for (uint32_t i = 0; i < p->nr; i++) {
		struct ckpt_posix_timer *t = &p->timers[i];

		if (t->flags & ~CKPT_PTIMER_FLAGS || (i && t->id <= p->timers[i - 1].id))
			bad("POSIX_TIMERS: timer %u: id %d flags %#x", i, t->id, t->flags);
		printf("            timer %d clock %d notify %d signal %d value %#" PRIx64
		       " %s %" PRId64 " ns interval %" PRIu64 " ns overrun %" PRId64 "/%" PRId64
		       "%s%s%s", t->id, t->clockid, t->notify, t->signo, (uint64_t)t->value,
		       t->flags & CKPT_PTIMER_ABSTIME ? "deadline" : "left", (int64_t)t->expires_ns,
		       (uint64_t)t->interval_ns, (int64_t)t->overrun, (int64_t)t->overrun_last,
		       t->flags & CKPT_PTIMER_ACTIVE ? " active" : "",
		       t->flags & CKPT_PTIMER_SIGQUEUED ? " sigqueued" : "",
		       t->flags & CKPT_PTIMER_REQUEUE ? " requeue" : "");
		if (t->tid)
			printf(" thread %d", t->tid);
		printf("\n");
	}
}

/* the PTY record of a pty end; @ptys pairs seen */
static void pty(int32_t *ptys)
{
	struct ckpt_hdr_pty p = *(struct ckpt_hdr_pty *)expect(CKPT_HDR_PTY, sizeof(p), sizeof(p));
	int first = p.pty_ref == *ptys + 1;

	printf("            pty %d %s", p.pty_ref, p.end == CKPT_PTY_MASTER ? "master" :
	       p.end == CKPT_PTY_DEVTTY ? "slave as /dev/tty" : "slave");
	if (p.pty_ref < 1 || p.pty_ref > *ptys + 1 ||
	    (p.end != CKPT_PTY_MASTER && p.end != CKPT_PTY_SLAVE && p.end != CKPT_PTY_DEVTTY))
		bad("PTY: ref %d end %u", p.pty_ref, p.end);
	if (!first) {
		printf("\n");
		return;
	}
	(*ptys)++;
	printf(" pts %u%s%s status %#x winsize %ux%u (%ux%u) unread %u/%u\n", p.index,
	       p.flags & CKPT_PTY_LOCKED ? " locked" : "", p.flags & CKPT_PTY_PACKET ? " packet" : "",
	       p.pktstatus, p.ws_row, p.ws_col, p.ws_xpixel, p.ws_ypixel, p.nbytes[0], p.nbytes[1]);
	for (int i = 0; i < 2; i++) {
		struct ckpt_termios *t = &p.termios[i];

		printf("            %s termios iflag %#x oflag %#x cflag %#x lflag %#x VINTR %u VMIN %u VTIME %u\n",
		       i ? "slave" : "master", t->c_iflag, t->c_oflag, t->c_cflag, t->c_lflag,
		       t->c_cc[0], t->c_cc[6], t->c_cc[5]);
	}
	for (int i = 0; i < 2; i++) {
		if (p.nbytes[i] >= 4095)
			bad("PTY: %u bytes", p.nbytes[i]);
		if (p.nbytes[i])
			expect(CKPT_HDR_BUFFER, 8 + p.nbytes[i], 8 + p.nbytes[i]);
	}
}

/* the SHMEM record of a shmem vma; @shms objects seen, @datas memfds of the table */
static void shmem(int32_t *shms, int32_t datas)
{
	struct ckpt_hdr_shmem m = *(struct ckpt_hdr_shmem *)expect(CKPT_HDR_SHMEM, sizeof(m),
								      sizeof(m));
	int first = m.shm_ref == *shms + 1;
	int own = m.kind == CKPT_SHMEM_ANON || (m.kind == CKPT_SHMEM_DELETED && !m.data_ref);
	uint64_t left = m.size;

	printf("            shmem %d %s size %" PRIu64 "%s", m.shm_ref,
	       m.kind == CKPT_SHMEM_ANON ? "anon" : m.kind == CKPT_SHMEM_MEMFD ? "memfd" :
	       m.kind == CKPT_SHMEM_DELETED ? "deleted file" : "?",
	       (uint64_t)m.size, first && own ? " content" : "");
	if (m.data_ref)
		printf(" (content %d)", m.data_ref);
	if (m.mode)
		printf(" mode %04o", m.mode);
	printf("\n");
	if (m.shm_ref < 1 || m.shm_ref > *shms + 1 ||
	    (m.kind != CKPT_SHMEM_ANON && m.kind != CKPT_SHMEM_MEMFD &&
	     m.kind != CKPT_SHMEM_DELETED) ||
	    (m.kind == CKPT_SHMEM_MEMFD && (m.data_ref < 1 || m.data_ref > datas)) ||
	    (m.kind == CKPT_SHMEM_DELETED && (m.data_ref < 0 || m.data_ref > datas)) ||
	    (m.kind == CKPT_SHMEM_ANON && m.data_ref) || m.mode & ~07777 ||
	    (m.mode && (m.kind != CKPT_SHMEM_DELETED || m.data_ref)))
		bad("SHMEM: ref %d kind %u content %d mode %#o", m.shm_ref, m.kind, m.data_ref,
		    m.mode);
	if (!first)
		return;
	(*shms)++;
	if (m.kind == CKPT_SHMEM_DELETED && !m.data_ref) {
		struct ckpt_hdr *s = expect(CKPT_HDR_STRING, 10, 8 + 4096);

		printf("            path \"%.*s\"\n", (int)(s->len - 8), (char *)(s + 1));
	}
	while (own && left) {
		uint64_t n = left < CKPT_DATA_CHUNK ? left : CKPT_DATA_CHUNK;

		expect(CKPT_HDR_BUFFER, 8 + n, 8 + n);
		left -= n;
	}
}

/* the AIO record of an aio ring vma, then its event slots */
static void aio(uint64_t start, uint64_t end)
{
	struct ckpt_hdr_aio a = *(struct ckpt_hdr_aio *)expect(CKPT_HDR_AIO, sizeof(a), sizeof(a));
	uint32_t in_ring = a.head <= a.tail ? a.tail - a.head : a.nr - (a.head - a.tail);
	uint64_t left = (uint64_t)a.nr * 32;

	printf("            aio context %#" PRIx64 " io_setup(%u) slot %u nr %u head %u tail %u"
	       " magic %#x features %u/%u header %u: %u completions\n",
	       (uint64_t)a.user_id, a.max_reqs, a.id, a.nr, a.head, a.tail, a.magic,
	       a.compat_features, a.incompat_features, a.header_length, a.nr_ring_events);
	if (a.user_id != start || a.ring_size != end - start || !a.max_reqs || a.nr < 2 ||
	    a.ring_size != ((uint64_t)a.nr + 1) * 32 || a.head >= a.nr || a.tail >= a.nr ||
	    a.nr_ring_events != in_ring)
		bad("AIO: context %#" PRIx64 " of %" PRIu64 " bytes, nr %u head %u tail %u events %u",
		    (uint64_t)a.user_id, (uint64_t)a.ring_size, a.nr, a.head, a.tail,
		    a.nr_ring_events);
	while (left) {
		uint64_t n = left < CKPT_DATA_CHUNK ? left : CKPT_DATA_CHUNK;

		expect(CKPT_HDR_BUFFER, 8 + n, 8 + n);
		left -= n;
	}
}

/* a message queue's IPC_MSQ record and its messages */
static void ipc_msq(void)
{
	struct ckpt_hdr_ipc_msq q = *(struct ckpt_hdr_ipc_msq *)expect(CKPT_HDR_IPC_MSQ, sizeof(q),
								       sizeof(q));
	uint64_t bytes = 0;
	uint32_t i;

	printf("            sysv msg queue %d key %#x mode %#o owner %u:%u creator %u:%u"
	       " %u messages %" PRIu64 " bytes qbytes %" PRIu64 " lspid %d lrpid %d"
	       " stime %" PRId64 " rtime %" PRId64 " ctime %" PRId64 "\n",
	       q.id, q.key, q.mode, q.uid, q.gid, q.cuid, q.cgid, q.qnum, (uint64_t)q.cbytes,
	       (uint64_t)q.qbytes, q.lspid, q.lrpid, (int64_t)q.stime, (int64_t)q.rtime,
	       (int64_t)q.ctime);
	if (q.id < 0 || q.mode & ~0777 || q.cbytes > q.qbytes || q.qnum > q.qbytes)
		bad("IPC_MSQ: msqid %d mode %#o %u messages %" PRIu64 " bytes qbytes %" PRIu64,
		    q.id, q.mode, q.qnum, (uint64_t)q.cbytes, (uint64_t)q.qbytes);
	for (i = 0; i < q.qnum; i++) {
		struct ckpt_hdr_ipc_msg *m = expect(CKPT_HDR_IPC_MSG, sizeof(*m), UINT32_MAX);

		printf("              message %u: type %" PRId64 ", %" PRIu64 " bytes\n", i,
		       (int64_t)m->mtype, (uint64_t)m->len);
		if (m->len != m->h.len - sizeof(*m) || m->mtype < 1)
			bad("IPC_MSG: type %" PRId64 ", %" PRIu64 " bytes in a record of %u",
			    (int64_t)m->mtype, (uint64_t)m->len, m->h.len);
		bytes += m->len;
	}
	if (bytes != q.cbytes)
		bad("IPC_MSQ %d: its messages hold %" PRIu64 " bytes, not %" PRIu64, q.id, bytes,
		    (uint64_t)q.cbytes);
}

/* a semaphore set's IPC_SEM record */
static void ipc_sem(int semmsl)
{
	struct ckpt_hdr_ipc_sem *s = expect(CKPT_HDR_IPC_SEM, sizeof(*s), UINT32_MAX);
	struct ckpt_ipc_sem_val *v = (struct ckpt_ipc_sem_val *)(s + 1);
	uint32_t i, nsems, nr_undo;
	int id;

	printf("            sysv sem set %d key %#x mode %#o owner %u:%u creator %u:%u"
	       " %u semaphores ctime %" PRId64 "%s\n", s->id, s->key, s->mode, s->uid, s->gid,
	       s->cuid, s->cgid, s->nsems, (int64_t)s->ctime,
	       s->nr_undo ? ", adjustments (SEM_UNDO) of:" : "");
	if (s->id < 0 || s->mode & ~0777 || !s->nsems || s->nsems > (uint32_t)semmsl ||
	    s->h.len != sizeof(*s) + (uint64_t)s->nsems * sizeof(*v) || s->nr_undo > 4096 ||
	    s->_padding)
		bad("IPC_SEM: semid %d mode %#o %u semaphores in a record of %u, %u undo lists",
		    s->id, s->mode, s->nsems, s->h.len, s->nr_undo);
	for (i = 0; i < s->nsems; i++) {
		printf("              semaphore %u: value %d pid %d otime %" PRId64 "\n", i,
		       v[i].semval, v[i].sempid, (int64_t)v[i].otime);
		if (v[i].semval < 0 || v[i].semval > 32767)
			bad("IPC_SEM %d: semaphore %u value %d", s->id, i, v[i].semval);
	}
	/* the next record is read where this one was */
	id = s->id;
	nsems = s->nsems;
	nr_undo = s->nr_undo;
	for (i = 0; i < nr_undo; i++) {
		struct ckpt_hdr_ipc_sem_undo *u = expect(CKPT_HDR_IPC_SEM_UNDO, sizeof(*u) + 2,
							 UINT32_MAX);
		const int16_t *adj = (const int16_t *)(u + 1);
		uint32_t k;

		if (u->nsems != nsems || u->h.len != sizeof(*u) + 2 * (uint64_t)u->nsems)
			bad("IPC_SEM_UNDO of set %d: %u semaphores in a record of %u", id,
			    u->nsems, u->h.len);
		printf("              undo pid %d:", u->pid);
		for (k = 0; k < u->nsems; k++)
			printf(" %d", adj[k]);
		printf("\n");
	}
}

/* the IPC_NS record after TREE (UTS_NS, NET_NS), its queues and sets */
static void ipc_ns(void)
{
	struct ckpt_hdr_ipc_ns n = *(struct ckpt_hdr_ipc_ns *)expect(CKPT_HDR_IPC_NS, sizeof(n),
								     sizeof(n));
	uint32_t i;

	printf("            an IPC namespace of its own (its SysV shm segments: the IPC_SHM records):"
	       " shmmax %" PRIu64 " shmall %" PRIu64 " shmmni %u shm_rmid_forced %u msgmax %u"
	       " msgmnb %u msgmni %u sem %d %d %d %d, %u message queues, %u semaphore sets\n",
	       (uint64_t)n.shmmax, (uint64_t)n.shmall, n.shmmni, n.shm_rmid_forced, n.msgmax,
	       n.msgmnb, n.msgmni, n.sem[0], n.sem[1], n.sem[2], n.sem[3], n.nr_msq, n.nr_sem);
	for (i = 0; i < 3; i++)
		printf("            %s ids: last index %d sequence %u cursor %u\n",
		       i == 0 ? "semaphore set" : i == 1 ? "message queue" : "shm segment",
		       n.ids[i].last_idx, n.ids[i].seq, n.ids[i].cursor);
	if (n.shm_rmid_forced > 1 || n.nr_msq > n.msgmni ||
	    n.sem[3] < 0 || n.nr_sem > (uint32_t)n.sem[3])
		bad("IPC_NS: %u queues (msgmni %u), %u sets (semmni %d)", n.nr_msq, n.msgmni,
		    n.nr_sem, n.sem[3]);
	for (i = 0; i < n.nr_msq; i++)
		ipc_msq();
	for (i = 0; i < n.nr_sem; i++)
		ipc_sem(n.sem[0]);
}

/* the IPC_SHM record of a SysV shm attachment's vma; @segs segments seen */
static void ipc_shm(int32_t *segs)
{
	struct ckpt_hdr_ipc_shm m = *(struct ckpt_hdr_ipc_shm *)expect(CKPT_HDR_IPC_SHM, sizeof(m),
									  sizeof(m));
	int first = m.shm_ref == *segs + 1;
	uint64_t left = m.size;

	printf("            sysv shm %d key %#x shmid %d mode %#o owner %u:%u creator %u:%u size %" PRIu64
	       "%s%s%s%s\n", m.shm_ref, (uint32_t)m.key, m.id, m.mode & 0777, m.uid, m.gid, m.cuid,
	       m.cgid, (uint64_t)m.size, m.mode & CKPT_IPC_SHM_DEST ? " SHM_DEST" : "",
	       m.mode & CKPT_IPC_SHM_LOCKED ? " SHM_LOCKED" : "",
	       m.flags & CKPT_IPC_SHM_NORESERVE ? " SHM_NORESERVE" : "", first ? " content" : "");
	if (m.shm_ref < 1 || m.shm_ref > *segs + 1 || m.id < 0 || !m.size || m._padding ||
	    m.mode & ~(0777 | CKPT_IPC_SHM_DEST | CKPT_IPC_SHM_LOCKED) ||
	    m.flags & ~CKPT_IPC_SHM_NORESERVE)
		bad("IPC_SHM: ref %d shmid %d mode %#o size %" PRIu64, m.shm_ref, m.id, m.mode,
		    (uint64_t)m.size);
	if (!first)
		return;
	(*segs)++;
	while (left) {
		uint64_t n = left < CKPT_DATA_CHUNK ? left : CKPT_DATA_CHUNK;

		expect(CKPT_HDR_BUFFER, 8 + n, 8 + n);
		left -= n;
	}
}

static void restart_block(void)
{
	struct ckpt_hdr_restart_block *r = expect(CKPT_HDR_RESTART_BLOCK, sizeof(*r), sizeof(*r));

	if (r->kind == CKPT_RESTART_NANOSLEEP)
		printf("            nanosleep clock %d left %" PRIu64 " ns rmtp %#" PRIx64 "\n",
		       r->clockid, (uint64_t)r->timeout_ns, (uint64_t)r->uaddr);
	else if (r->kind == CKPT_RESTART_POLL)
		printf("            poll %u fds at %#" PRIx64 " timeout %s%" PRIu64 " ns left\n", r->val,
		       (uint64_t)r->uaddr, r->flags ? "" : "none, ", (uint64_t)r->timeout_ns);
	else if (r->kind == CKPT_RESTART_FUTEX)
		printf("            futex clock %d left %" PRIu64 " ns at %#" PRIx64 " val %u bitset %#x%s\n",
		       r->clockid, (uint64_t)r->timeout_ns, (uint64_t)r->uaddr, r->val, r->bitset,
		       r->flags & CKPT_RESTART_FUTEX_SHARED ? " shared" : "");
	else if (r->kind == CKPT_RESTART_NONE)
		printf("            none\n");
	else
		bad("RESTART_BLOCK: kind %u", r->kind);
}

static void auxv(void)
{
	struct ckpt_hdr_auxv *a = expect(CKPT_HDR_AUXV, sizeof(*a) + 16, sizeof(*a) + 8 * 256);

	if (a->nr < 2 || a->nr % 2 || a->h.len != sizeof(*a) + 8 * a->nr || a->auxv[a->nr - 2])
		bad("AUXV: %u words in %u bytes", a->nr, a->h.len);
	printf("            %u auxv entries\n", a->nr / 2);
}

static void seccomp(void)
{
	struct ckpt_hdr_seccomp sc = *(struct ckpt_hdr_seccomp *)
		expect(CKPT_HDR_SECCOMP, sizeof(sc), sizeof(sc));
	uint32_t i;

	printf("            mode %s, %u filters\n",
	       sc.mode == 0 ? "disabled" : sc.mode == 1 ? "strict" : sc.mode == 2 ? "filter" : "?",
	       sc.nfilters);
	if (sc.mode > 2 || (sc.mode == 2) != !!sc.nfilters || sc.nfilters > CKPT_SECCOMP_FILTERS_MAX)
		bad("seccomp mode %u with %u filters", sc.mode, sc.nfilters);
	for (i = 0; i < sc.nfilters; i++) {
		struct ckpt_hdr_seccomp_filter *f = expect(CKPT_HDR_SECCOMP_FILTER, 24, 16 + 8 * 4096);

		printf("            filter %u: %u instructions%s\n", i, f->len,
		       f->flags & CKPT_SECCOMP_FILTER_LOG ? ", log" : "");
		if (f->h.len != 16 + 8 * f->len || f->flags & ~CKPT_SECCOMP_FILTER_LOG)
			bad("seccomp filter %u: length %u, flags %#x", i, f->len, f->flags);
	}
}

static void sched(void)
{
	struct ckpt_hdr_sched *s = expect(CKPT_HDR_SCHED, sizeof(*s), sizeof(*s));
	int n = 0;

	for (int i = 0; i < CKPT_SCHED_CPU_WORDS; i++)
		n += __builtin_popcountll(s->cpus[i]);
	printf("            policy %u nice %d rt_priority %u%s cpus %#" PRIx64 " (%d) ioprio %#x\n",
	       s->policy, s->nice, s->rt_priority,
	       s->flags & CKPT_SCHED_RESET_ON_FORK ? " reset_on_fork" : "", (uint64_t)s->cpus[0], n,
	       s->ioprio);
}

/* THREAD, CPU and FPU of the leader or of another thread */
static void thread_cpu_fpu(uint32_t xstate_size)
{
	struct ckpt_hdr_thread *th;
	struct ckpt_hdr_cpu *hc;
	struct ckpt_hdr_fpu *hf;

	th = expect(CKPT_HDR_THREAD, sizeof(*th), sizeof(*th));
	printf("            blocked %#" PRIx64 " altstack %#" PRIx64 "/%" PRIu64 " robust_list %#" PRIx64 "\n",
	       (uint64_t)th->blocked, (uint64_t)th->sas_ss_sp, (uint64_t)th->sas_ss_size,
	       (uint64_t)th->robust_list);
	if (th->flags & ~CKPT_THREAD_TEMP_MASK ||
	    (!(th->flags & CKPT_THREAD_TEMP_MASK) && th->temp_blocked))
		bad("THREAD flags %#x", th->flags);
	if (th->flags & CKPT_THREAD_TEMP_MASK)
		printf("            in a call with the temporary mask %#" PRIx64 " (its own one restored on the way out)\n",
		       (uint64_t)th->temp_blocked);
	hc = expect(CKPT_HDR_CPU, sizeof(*hc), sizeof(*hc));
	printf("            ip %#" PRIx64 " sp %#" PRIx64 " ax %#" PRIx64 " orig_ax %" PRId64
	       " fs_base %#" PRIx64 "\n", (uint64_t)hc->ip, (uint64_t)hc->sp,
	       (uint64_t)hc->ax, (int64_t)hc->orig_ax, (uint64_t)hc->fs_base);
	hf = expect(CKPT_HDR_FPU, sizeof(*hf) + 576, sizeof(*hf) + xstate_size);
	if (hf->size != hf->h.len - sizeof(*hf))
		bad("FPU size %u", hf->size);
	printf("            xstate %u bytes, xfeatures %#" PRIx64 "\n", hf->size,
	       (uint64_t)hf->xfeatures);
}

/* the number of threads, then each thread other than the leader */
static void threads(uint32_t xstate_size, int32_t leader)
{
	struct ckpt_hdr_threads t;
	struct ckpt_hdr_thread_task tt;

	t = *(struct ckpt_hdr_threads *)expect(CKPT_HDR_THREADS, sizeof(t), sizeof(t));
	if (!t.nr_threads || t.nr_threads > CKPT_THREADS_MAX || t._padding)
		bad("THREADS: %u threads", t.nr_threads);
	printf("            %u thread%s\n", t.nr_threads, t.nr_threads == 1 ? "" : "s");
	for (uint32_t i = 1; i < t.nr_threads; i++) {
		tt = *(struct ckpt_hdr_thread_task *)expect(CKPT_HDR_THREAD_TASK, sizeof(tt),
							     sizeof(tt));
		tt.comm[15] = 0;
		if (tt.tid <= 0 || tt.tid == leader || tt.tgid != leader)
			bad("THREAD_TASK: thread %d of process %d in the image of process %d", tt.tid,
			    tt.tgid, leader);
		printf("            tid %d comm \"%s\" set_child_tid %#" PRIx64 " clear_child_tid %#" PRIx64 "\n",
		       tt.tid, tt.comm, (uint64_t)tt.set_child_tid, (uint64_t)tt.clear_child_tid);
		thread_cpu_fpu(xstate_size);
		sigpending();
		restart_block();
	}
}

static void cred(void)
{
	struct ckpt_hdr_cred *c = expect(CKPT_HDR_CRED, sizeof(*c), sizeof(*c) + 4 * 65536);

	if (c->ngroups > 65536 || c->h.len != sizeof(*c) + 4 * c->ngroups)
		bad("CRED: %u groups in %u bytes", c->ngroups, c->h.len);
	printf("            uid %u %u %u %u gid %u %u %u %u securebits %#x\n",
	       c->uid, c->euid, c->suid, c->fsuid, c->gid, c->egid, c->sgid, c->fsgid,
	       c->securebits);
	printf("            cap inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64 " bnd %#" PRIx64
	       " amb %#" PRIx64 "\n", (uint64_t)c->cap_inheritable, (uint64_t)c->cap_permitted,
	       (uint64_t)c->cap_effective, (uint64_t)c->cap_bset, (uint64_t)c->cap_ambient);
	printf("            %u groups:", c->ngroups);
	for (uint32_t i = 0; i < c->ngroups && i < 32; i++)
		printf(" %u", c->groups[i]);
	printf("%s\n", c->ngroups > 32 ? " ..." : "");
}

/* an ET_CKPT file: its headers, then its segments are read as an image */
static void elf_headers(void)
{
	unsigned char e[64], ph[56];
	uint64_t entry, phoff, p_offset, p_vaddr, p_filesz, p_memsz, next;
	uint32_t p_type, p_flags;
	uint16_t type, phnum, i;

	if (fread(e, sizeof(e), 1, in) != 1 || memcmp(e, "\177ELF", 4)) {
		rewind(in);
		return;
	}
	memcpy(&type, e + 16, 2);
	memcpy(&entry, e + 24, 8);
	memcpy(&phoff, e + 32, 8);
	memcpy(&phnum, e + 56, 2);
	if (type != ET_CKPT || phoff != 64 || !phnum)
		bad("ELF file of type %u, not ET_CKPT (or bad program header table)", type);
	elf = 1;
	printf("ET_CKPT entry %#" PRIx64 ", %u program headers\n", entry, phnum);
	next = 64 + (uint64_t)phnum * 56;
	for (i = 0; i < phnum; i++) {
		if (fread(ph, sizeof(ph), 1, in) != 1)
			bad("truncated program headers");
		memcpy(&p_type, ph, 4);
		memcpy(&p_flags, ph + 4, 4);
		memcpy(&p_offset, ph + 8, 8);
		memcpy(&p_vaddr, ph + 16, 8);
		memcpy(&p_filesz, ph + 32, 8);
		memcpy(&p_memsz, ph + 40, 8);
		printf("  %-13s offset %#" PRIx64 " filesz %#" PRIx64 " vaddr %#" PRIx64
		       " memsz %#" PRIx64 " flags %#x\n",
		       p_type == PT_CKPT_CORE ? "PT_CKPT_CORE" : p_type == PT_CKPT_VMA ? "PT_CKPT_VMA" :
		       p_type == PT_CKPT_PAGES ? "PT_CKPT_PAGES" : "?", p_offset, p_filesz, p_vaddr,
		       p_memsz, p_flags);
		if ((i == 0) != (p_type == PT_CKPT_CORE) ||
		    (p_type != PT_CKPT_CORE && p_type != PT_CKPT_VMA && p_type != PT_CKPT_PAGES))
			bad("program header %u: type %#x out of place", i, p_type);
		if (p_offset != next || p_filesz % 8)
			bad("program header %u: segment at %#" PRIx64 ", expected %#" PRIx64, i,
			    p_offset, next);
		next += p_filesz;
	}
	offset = 64 + (uint64_t)phnum * 56;
}

static const char *file_type(uint32_t type)
{
	switch (type) {
	case CKPT_FILE_REG: return "reg";
	case CKPT_FILE_CHR: return "chr";
	case CKPT_FILE_DIR: return "dir";
	case CKPT_FILE_PATH: return "path";
	case CKPT_FILE_PIPE: return "pipe";
	case CKPT_FILE_DELETED: return "deleted";
	case CKPT_FILE_MEMFD: return "memfd";
	case CKPT_FILE_FIFO: return "fifo";
	case CKPT_FILE_SOCKET: return "socket";
	case CKPT_FILE_EVENTFD: return "eventfd";
	case CKPT_FILE_EPOLL: return "epoll";
	case CKPT_FILE_SIGNALFD: return "signalfd";
	case CKPT_FILE_TIMERFD: return "timerfd";
	case CKPT_FILE_INOTIFY: return "inotify";
	case CKPT_FILE_PTY: return "pty";
	}
	return "?";
}

/* the record of an eventfd, signalfd, timerfd or epoll FILE; epoll: its items */
static uint32_t anon_record(uint32_t f_type)
{
	if (f_type == CKPT_FILE_EVENTFD) {
		struct ckpt_hdr_eventfd *e = expect(CKPT_HDR_EVENTFD, sizeof(*e), sizeof(*e));

		printf("            eventfd count %" PRIu64 " flags %#x\n", (uint64_t)e->count,
		       e->flags);
	} else if (f_type == CKPT_FILE_SIGNALFD) {
		struct ckpt_hdr_signalfd *e = expect(CKPT_HDR_SIGNALFD, sizeof(*e), sizeof(*e));

		printf("            signalfd mask %#" PRIx64 "\n", (uint64_t)e->sigmask);
	} else if (f_type == CKPT_FILE_TIMERFD) {
		struct ckpt_hdr_timerfd *e = expect(CKPT_HDR_TIMERFD, sizeof(*e), sizeof(*e));

		printf("            timerfd clock %d flags %#x value %" PRIu64 " ns interval %" PRIu64
		       " ns ticks %" PRIu64 "\n", e->clockid, e->flags, (uint64_t)e->value_ns,
		       (uint64_t)e->interval_ns, (uint64_t)e->ticks);
	} else if (f_type == CKPT_FILE_INOTIFY) {
		struct ckpt_hdr_inotify in = *(struct ckpt_hdr_inotify *)
			expect(CKPT_HDR_INOTIFY, sizeof(in), sizeof(in));
		uint32_t i;

		printf("            inotify %u watches, %u events, next wd %d\n", in.nwatches,
		       in.nevents, in.next_wd);
		if (in.nwatches > CKPT_INOTIFY_WATCHES_MAX || in.nevents > CKPT_INOTIFY_EVENTS_MAX)
			bad("inotify: %u watches, %u events", in.nwatches, in.nevents);
		for (i = 0; i < in.nwatches; i++) {
			struct ckpt_hdr_inotify_watch *w =
				expect(CKPT_HDR_INOTIFY_WATCH, sizeof(*w), sizeof(*w));

			printf("            watch %d mask %#x i_mode %#o\n", w->wd, w->mask, w->i_mode);
			string("watched path");
		}
		for (i = 0; i < in.nevents; i++) {
			struct ckpt_hdr_inotify_event *e =
				expect(CKPT_HDR_INOTIFY_EVENT, sizeof(*e), sizeof(*e));

			printf("            event wd %d mask %#x cookie %u\n", e->wd, e->mask, e->cookie);
			string("event name");
		}
	} else if (f_type == CKPT_FILE_EPOLL) {
		struct ckpt_hdr_epoll *e = expect(CKPT_HDR_EPOLL, sizeof(*e), sizeof(*e));

		printf("            epoll %u items\n", e->nitems);
		if (e->nitems > CKPT_EPOLL_ITEMS_MAX)
			bad("epoll: %u items", e->nitems);
		return e->nitems;
	}
	return 0;
}

/* pipe and content refs and file objrefs run over the whole image */
static int32_t objrefs, pipes, fifos, datas, shms, ptys, sysv_segs;

/* the state of one task: TASK ... MM and its vmas */
static struct ckpt_tree_task tree_tasks[CKPT_TREE_MAX];
static uint32_t tree_n, section_ent, sections;

/* the tree entry of the next task section: what of it is another task's */
static uint32_t section_shared(void)
{
	uint32_t i, k = 0;

	for (i = 0; i < tree_n; i++) {
		if (tree_tasks[i].flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
			continue;
		if (k++ == sections) {
			section_ent = i;
			sections++;
			return tree_tasks[i].flags & (CKPT_TREE_FILES | CKPT_TREE_FS);
		}
	}
	/* a single task (no TREE: ET_CKPT) */
	sections++;
	section_ent = 0;
	return 0;
}

static void task(uint32_t xstate_size, uint32_t page_size)
{
	uint32_t shared;
	struct ckpt_hdr_task *ht;
	struct ckpt_hdr_signal *hs;
	struct ckpt_hdr_fs *hfs;
	struct ckpt_hdr_file_table *hft;
	struct ckpt_hdr_mm *hm;
	uint32_t i, nfds, nvma;
	int mm_cow;
	uint32_t nlocks, f_type;
	int32_t leader;
	uint32_t *epoll_items = NULL, nepolls = 0;

	ht = expect(CKPT_HDR_TASK, sizeof(*ht), sizeof(*ht));
	leader = ht->pid;
	ht->comm[15] = 0;
	printf("            pid %d comm \"%s\"%s%s%s\n", ht->pid, ht->comm,
	       ht->task_flags & CKPT_TASK_SELF ? " self" : "",
	       ht->task_flags & CKPT_TASK_SUBREAPER ? " subreaper" : "",
	       ht->task_flags & CKPT_TASK_NO_NEW_PRIVS ? " no_new_privs" : "");
	if (ht->task_flags & ~CKPT_TASK_FLAGS)
		bad("bad task flags %#x", ht->task_flags);
	printf("            personality %#x pdeath_signal %u oom_score_adj %d dumpable %u coredump_filter %#x%s timer_slack_ns %" PRIu64 " default %" PRIu64 "\n",
	       ht->personality, ht->pdeath_signal, ht->oom_score_adj, ht->dumpable,
	       ht->coredump_filter, ht->task_flags & CKPT_TASK_THP_DISABLE ? " thp_disable" : "",
	       (uint64_t)ht->timer_slack_ns, (uint64_t)ht->default_timer_slack_ns);
	if (!elf)
		cred();
	thread_cpu_fpu(xstate_size);
	expect(CKPT_HDR_SIGHAND, sizeof(struct ckpt_hdr_sighand) + 64 * sizeof(struct ckpt_sigaction),
	       sizeof(struct ckpt_hdr_sighand) + 64 * sizeof(struct ckpt_sigaction));
	if (!elf) {
		hs = expect(CKPT_HDR_SIGNAL, sizeof(*hs), sizeof(*hs));
		if (hs->nr_rlim != CKPT_RLIM_NLIMITS)
			bad("SIGNAL: %u rlimits", hs->nr_rlim);
		printf("            rlimit nofile %" PRIu64 "/%" PRIu64 " stack %" PRIu64 "/%" PRIu64 "\n",
		       (uint64_t)hs->rlim[7].cur, (uint64_t)hs->rlim[7].max,
		       (uint64_t)hs->rlim[3].cur, (uint64_t)hs->rlim[3].max);
		if (hs->stop_flags & CKPT_SIGNAL_STOPPED)
			printf("            stopped by signal %u%s\n", hs->stop_signal,
			       hs->stop_code ? "" : " (reported to wait())");
		else if (hs->stop_flags & CKPT_SIGNAL_CONTINUED)
			printf("            continued (not yet reported to wait())\n");
		else if (hs->stop_flags || hs->stop_signal || hs->stop_code)
			bad("SIGNAL: job-control state %#x %u %u", hs->stop_flags, hs->stop_signal,
			    hs->stop_code);
	}
	sigpending();
	itimers();
	if (!elf)	/* ckpt2elf leaves the (empty) record out */
		posix_timers();
	restart_block();
	auxv();
	if (elf)	/* the exec caller's: sched, fs, files */
		goto mm;
	sched();
	seccomp();
	threads(xstate_size, leader);
	shared = section_shared();
	if (shared & CKPT_TREE_FS) {
		printf("            root, cwd, umask: task %u's (CLONE_FS)\n",
		       tree_tasks[section_ent].fs_of);
	} else {
		hfs = expect(CKPT_HDR_FS, sizeof(*hfs), sizeof(*hfs));
		printf("            umask %#o\n", hfs->umask);
		string("root");
		string("cwd");
	}
	if (shared & CKPT_TREE_FILES) {
		printf("            descriptors: task %u's table (CLONE_FILES)\n",
		       tree_tasks[section_ent].files_of);
		goto mm;
	}

	hft = expect(CKPT_HDR_FILE_TABLE, sizeof(*hft), sizeof(*hft));
	nfds = hft->nfds;
	printf("            %u descriptors\n", nfds);
	epoll_items = calloc(nfds + 1, sizeof(*epoll_items));
	if (!epoll_items)
		bad("out of memory");
	for (i = 0; i < nfds; i++) {
		struct ckpt_hdr *h = next();

		if (h->type == CKPT_HDR_FILE) {
			struct ckpt_hdr_file *f = (struct ckpt_hdr_file *)h;

			if (h->len != sizeof(*f))
				bad("FILE record length %u", h->len);
			if (f->objref != ++objrefs)
				bad("file objref %d out of order", f->objref);
			printf("            objref %d type %s flags %#o mode %#o pos %" PRId64
			       " i_mode %#o rdev %#x owner %u signal %u\n",
			       f->objref, file_type(f->f_type), f->f_flags, f->f_mode,
			       (int64_t)f->f_pos, f->i_mode, f->rdev, f->f_owner, f->f_signum);
			if (!strcmp(file_type(f->f_type), "?"))
				bad("file type %u", f->f_type);
			if (f->nlocks > CKPT_FILE_LOCKS_MAX)
				bad("%u locks", f->nlocks);
			/* next() reuses the record buffer */
			f_type = f->f_type;
			nlocks = f->nlocks;
			string("path");
			if (f_type == CKPT_FILE_PIPE) {
				struct ckpt_hdr_pipe p = *(struct ckpt_hdr_pipe *)
					expect(CKPT_HDR_PIPE, sizeof(p), sizeof(p));

				printf("            pipe %d size %u, %u bytes\n", p.pipe_ref,
				       p.size, p.nbytes);
				if (p.pipe_ref < 1 || p.pipe_ref > ++pipes)
					bad("pipe ref %d", p.pipe_ref);
				if (p.pipe_ref < pipes)
					pipes--;
				if (p.nbytes > p.size || (p.nbytes && p.pipe_ref != pipes))
					bad("pipe %d: %u bytes", p.pipe_ref, p.nbytes);
				if (p.nbytes)
					expect(CKPT_HDR_BUFFER, 8 + p.nbytes, 8 + p.nbytes);
			}
			if (f_type == CKPT_FILE_FIFO) {
				struct ckpt_hdr_fifo p = *(struct ckpt_hdr_fifo *)
					expect(CKPT_HDR_FIFO, sizeof(p), sizeof(p));

				printf("            fifo %d size %u, %u bytes, %s%s\n", p.fifo_ref,
				       p.size, p.nbytes,
				       p.flags & CKPT_FIFO_ALL_HELD ? "all held" : "open outside",
				       p.flags & CKPT_FIFO_HUP ? ", POLLHUP once no writer" : "");
				if (p.fifo_ref < 1 || p.fifo_ref > ++fifos)
					bad("fifo ref %d", p.fifo_ref);
				if (p.fifo_ref < fifos)
					fifos--;
				if (p.nbytes > p.size || (p.nbytes && p.fifo_ref != fifos))
					bad("fifo %d: %u bytes", p.fifo_ref, p.nbytes);
				if (p.flags & ~(CKPT_FIFO_ALL_HELD | CKPT_FIFO_HUP))
					bad("fifo %d: flags %#x", p.fifo_ref, p.flags);
				if (p.nbytes)
					expect(CKPT_HDR_BUFFER, 8 + p.nbytes, 8 + p.nbytes);
			}
			if (f_type == CKPT_FILE_DELETED || f_type == CKPT_FILE_MEMFD) {
				struct ckpt_hdr_file_data d = *(struct ckpt_hdr_file_data *)
					expect(CKPT_HDR_FILE_DATA, sizeof(d), sizeof(d));
				uint64_t left = d.size;

				printf("            content %d mode %#o seals %#x, %" PRIu64 " bytes\n",
				       d.data_ref, d.i_perm, d.seals, (uint64_t)d.size);
				if (d.data_ref < 1 || d.data_ref > ++datas)
					bad("content ref %d", d.data_ref);
				if (d.data_ref < datas)
					datas--;
				if (d.size && d.data_ref != datas)
					bad("content %d repeated with %" PRIu64 " bytes", d.data_ref,
					    (uint64_t)d.size);
				while (left) {
					uint64_t n = left < CKPT_DATA_CHUNK ? left : CKPT_DATA_CHUNK;

					expect(CKPT_HDR_BUFFER, 8 + n, 8 + n);
					left -= n;
				}
			}
			if (f_type == CKPT_FILE_SOCKET)
				socket_records();
			if (f_type == CKPT_FILE_PTY)
				pty(&ptys);
			if (f_type >= CKPT_FILE_EVENTFD && f_type <= CKPT_FILE_INOTIFY)
				epoll_items[nepolls] = anon_record(f_type);
			if (f_type == CKPT_FILE_EPOLL)
				nepolls++;
			while (nlocks--) {
				struct ckpt_hdr_file_lock *l =
					expect(CKPT_HDR_FILE_LOCK, sizeof(*l), sizeof(*l));

				printf("            lock %s %s %" PRId64 "-%" PRId64 "\n",
				       l->kind == CKPT_LOCK_POSIX ? "posix" :
				       l->kind == CKPT_LOCK_OFD ? "ofd" :
				       l->kind == CKPT_LOCK_FLOCK ? "flock" :
				       l->kind == CKPT_LOCK_LEASE ? "lease" : "?",
				       l->type == 0 ? "read" : l->type == 1 ? "write" : "?",
				       (int64_t)l->start, (int64_t)l->end);
				if (l->kind < CKPT_LOCK_POSIX || l->kind > CKPT_LOCK_LEASE ||
				    l->type > 1 || l->start < 0 || l->end < l->start)
					bad("bad lock");
			}
			h = next();
		}
		if (h->type != CKPT_HDR_FILE_DESC || h->len != sizeof(struct ckpt_hdr_file_desc))
			bad("expected FILE_DESC record");
		{
			struct ckpt_hdr_file_desc *d = (struct ckpt_hdr_file_desc *)h;

			if (d->objref < 1 || d->objref > objrefs)
				bad("fd %d: unknown objref %d", d->fd, d->objref);
			printf("            fd %d -> objref %d%s\n", d->fd, d->objref,
			       d->close_on_exec ? " cloexec" : "");
		}
	}

	/* the items of the epoll files, after the table */
	for (i = 0; i < nepolls; i++) {
		uint32_t j;

		for (j = 0; j < epoll_items[i]; j++) {
			struct ckpt_hdr_epoll_item *e =
				expect(CKPT_HDR_EPOLL_ITEM, sizeof(*e), sizeof(*e));

			printf("            epoll %u: target objref %d fd %d events %#x data %#" PRIx64 "%s\n",
			       i + 1, e->objref, e->fd, e->events, (uint64_t)e->data,
			       e->flags & CKPT_EPOLL_READY ? " ready" : "");
			if (e->objref < 1 || e->objref > objrefs || e->fd < 0 ||
			    e->flags & ~CKPT_EPOLL_READY)
				bad("bad epoll item");
		}
	}
	free(epoll_items);

mm:
	hm = expect(CKPT_HDR_MM, sizeof(*hm), sizeof(*hm));
	nvma = hm->map_count;
	printf("            %u vmas, brk %#" PRIx64 "-%#" PRIx64 " stack %#" PRIx64 " vdso %#" PRIx64 "%s\n",
	       nvma, (uint64_t)hm->start_brk, (uint64_t)hm->brk,
	       (uint64_t)hm->start_stack, (uint64_t)hm->vdso,
	       hm->mm_flags & CKPT_MM_COW ? ", a copy of the parent's" : "");
	if (hm->mm_flags & ~CKPT_MM_FLAGS || hm->_reserved)
		bad("bad mm flags %#x", hm->mm_flags);
	mm_cow = hm->mm_flags & CKPT_MM_COW;
	string("exe");
	for (i = 0; i < nvma; i++) {
		struct ckpt_hdr_vma *v = expect(CKPT_HDR_VMA, sizeof(*v), sizeof(*v));
		uint64_t start = v->vm_start, end = v->vm_end;
		uint32_t type = v->vma_type;
		int inherited = v->vma_flags & CKPT_VMA_INHERITED;

		printf("            %#" PRIx64 "-%#" PRIx64 " %c%c%c%s %s\n", start, end,
		       v->vm_flags & 1 ? 'r' : '-', v->vm_flags & 2 ? 'w' : '-',
		       v->vm_flags & 4 ? 'x' : '-', inherited ? " inherited" : "",
		       type == CKPT_VMA_ANON ? "anon" : type == CKPT_VMA_FILE ? "file" :
		       type == CKPT_VMA_VDSO ? "[vdso]" : type == CKPT_VMA_VVAR ? "[vvar]" :
		       type == CKPT_VMA_SHARED_FILE ? "shared file" :
		       type == CKPT_VMA_SHMEM ? "shmem" :
		       type == CKPT_VMA_SYSV_SHM ? "sysv shm" : type == CKPT_VMA_AIO ? "[aio]" : "?");
		if (start >= end || start % page_size || end % page_size)
			bad("bad vma range");
		if (v->vma_flags & ~CKPT_VMA_INHERITED ||
		    (inherited && (!mm_cow ||
				   (type != CKPT_VMA_FILE && type != CKPT_VMA_ANON))))
			bad("bad vma flags %#x", v->vma_flags);
		if (!inherited && (type == CKPT_VMA_FILE || type == CKPT_VMA_SHARED_FILE))
			string("path");
		if (type == CKPT_VMA_FILE || type == CKPT_VMA_ANON)
			pages(start, end, page_size, inherited);
		else if (type == CKPT_VMA_SHMEM)
			shmem(&shms, datas);
		else if (type == CKPT_VMA_SYSV_SHM)
			ipc_shm(&sysv_segs);
		else if (type == CKPT_VMA_AIO)
			aio(start, end);
		else if (type != CKPT_VMA_VDSO && type != CKPT_VMA_VVAR &&
			 type != CKPT_VMA_SHARED_FILE)
			bad("vma type %u", type);
	}

}

static uint32_t tree_ctty;

/* the CTTY record after the last task section: restart's checks of each entry */
static void ctty(int32_t ptys)
{
	struct ckpt_hdr *h = expect(CKPT_HDR_CTTY, sizeof(*h) + tree_ctty * sizeof(struct ckpt_ctty),
				    sizeof(*h) + tree_ctty * sizeof(struct ckpt_ctty));
	struct ckpt_ctty *c = (struct ckpt_ctty *)(h + 1);
	int64_t last = -1;
	uint32_t k, i, j, l;

	for (k = 0; k < tree_ctty; k++) {
		printf("            pid %d controlling tty: pty %d, session %d, foreground group %d\n",
		       c[k].pid, c[k].pty_ref, c[k].sid, c[k].pgrp);
		for (i = 0; i < tree_n && tree_tasks[i].pid != c[k].pid; i++)
			;
		for (j = 0; j < tree_ctty && c[j].pid != c[k].sid; j++)
			;
		for (l = 0; c[k].pgrp && l < tree_n && tree_tasks[l].pid != c[k].pgrp; l++)
			;
		if (i == tree_n || (int64_t)i <= last || tree_tasks[i].flags & CKPT_TREE_ZOMBIE ||
		    !tree_tasks[i].sid || tree_tasks[i].sid != c[k].sid || c[k].pty_ref < 1 ||
		    c[k].pty_ref > ptys || j == tree_ctty || c[j].pty_ref != c[k].pty_ref ||
		    c[j].pgrp != c[k].pgrp ||
		    (c[k].pgrp && (l == tree_n || tree_tasks[l].pgid != c[k].pgrp ||
				   tree_tasks[l].sid != c[k].sid)))
			bad("CTTY %u: bad pid %d, pty %d, group %d or session %d", k, c[k].pid,
			    c[k].pty_ref, c[k].pgrp, c[k].sid);
		for (j = 0; j < k; j++)
			if (c[j].pty_ref == c[k].pty_ref && c[j].sid != c[k].sid)
				bad("CTTY %u: pty %d of two sessions", k, c[k].pty_ref);
		last = i;
	}
}

/* what restart refuses of a shared table's owner (restore_tree_share_check()) */
static int share_bad(const struct ckpt_tree_task *t, uint32_t i, uint32_t flag, uint32_t of)
{
	if (!(t[i].flags & flag))
		return of != 0;
	return !i || t[i].flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST) || of >= i ||
	       t[of].flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST | flag);
}

/* one NET_SYSCTL after NET_NS: "path = value", the value's tabs and newlines escaped */
static void net_sysctl(uint32_t i)
{
	struct ckpt_hdr_net_sysctl *ns = expect(CKPT_HDR_NET_SYSCTL, sizeof(*ns) + 1,
						sizeof(*ns) + CKPT_NET_SYSCTL_NAME_MAX +
						CKPT_NET_SYSCTL_VALUE_MAX - 2);
	const char *name = (const char *)(ns + 1), *value = name + ns->name_len;

	if (!ns->name_len || ns->name_len >= CKPT_NET_SYSCTL_NAME_MAX ||
	    ns->value_len >= CKPT_NET_SYSCTL_VALUE_MAX || ns->_padding ||
	    ns->h.len != sizeof(*ns) + ns->name_len + ns->value_len)
		bad("NET_SYSCTL %u: lengths %u, name %u, value %u", i, ns->h.len, ns->name_len,
		    ns->value_len);
	if (memchr(name, 0, ns->name_len + ns->value_len))
		bad("NET_SYSCTL %u: a NUL in its name or value", i);
	printf("            sysctl %.*s = \"", (int)ns->name_len, name);
	for (uint32_t k = 0; k < ns->value_len; k++) {
		if (value[k] == '\n')
			printf("\\n");
		else if (value[k] == '\t')
			printf("\\t");
		else if (value[k] < ' ' || value[k] == '"' || value[k] == '\\')
			printf("\\x%02x", (unsigned char)value[k]);
		else
			putchar(value[k]);
	}
	printf("\"\n");
}

/* the task hierarchy: the number of task sections that follow */
static uint32_t tree(void)
{
	struct ckpt_hdr_tree *ht = expect(CKPT_HDR_TREE, sizeof(*ht) + sizeof(struct ckpt_tree_task),
					  sizeof(*ht) + CKPT_TREE_MAX * sizeof(struct ckpt_tree_task));
	struct ckpt_tree_task *t = (struct ckpt_tree_task *)(ht + 1);
	uint32_t n = ht->nr_tasks, i, j, live = 0;
	int depth[CKPT_TREE_MAX];

	if (!n || n > CKPT_TREE_MAX || ht->h.len != sizeof(*ht) + n * sizeof(*t) ||
	    ht->nr_ctty > n || (n == 1 && ht->nr_ctty))
		bad("tree of %u tasks (%u controlling ttys) in %u bytes", n, ht->nr_ctty, ht->h.len);
	printf("            %u tasks", n);
	if (ht->nr_ctty)
		printf(", %u with a controlling tty", ht->nr_ctty);
	if (t[0].flags & CKPT_TREE_PIDNS)
		printf(", a pid namespace (pids as seen in it)");
	printf("\n");
	memcpy(tree_tasks, t, n * sizeof(*t));
	t = tree_tasks;	/* the records after TREE (UTS_NS, NET_NS...) reuse rec */
	tree_n = n;
	tree_ctty = ht->nr_ctty;
	for (i = 0; i < n; i++) {
		if (i ? t[i].parent < 0 || (uint32_t)t[i].parent >= i ||
			(t[t[i].parent].flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST)) :
			t[i].parent != -1 || t[i].flags & ~(CKPT_TREE_PIDNS | CKPT_TREE_NS))
			bad("tree task %u (pid %d): bad parent %d", i, t[i].pid, t[i].parent);
		if (t[i].pid <= 0 || t[i].flags & ~CKPT_TREE_FLAGS ||
		    (i && t[i].flags & (CKPT_TREE_PIDNS | CKPT_TREE_NS)) ||
		    (!i && t[i].flags & CKPT_TREE_PIDNS &&
							   t[i].pid != 1) ||
		    (t[i].flags & CKPT_TREE_GHOST && (t[i].flags & CKPT_TREE_ZOMBIE ||
						      t[i].parent || t[i].pgid != t[i].pid)))
			bad("tree task %u: bad pid %d or flags %#x", i, t[i].pid, t[i].flags);
		for (j = 0; j < i; j++)
			if (t[j].pid == t[i].pid)
				bad("pid %d appears twice", t[i].pid);
		/* a shared table names an earlier live task that has its own */
		if (share_bad(t, i, CKPT_TREE_FILES, t[i].files_of) ||
		    share_bad(t, i, CKPT_TREE_FS, t[i].fs_of))
			bad("tree task %u (pid %d): bad shared tables (flags %#x, files of %u, fs of %u)",
			    i, t[i].pid, t[i].flags, t[i].files_of, t[i].fs_of);
		depth[i] = i ? depth[t[i].parent] + 1 : 0;
		printf("            %*spid %d pgid %d sid %d exit_signal %u", 2 * depth[i], "",
		       t[i].pid, t[i].pgid, t[i].sid, t[i].exit_signal);
		t[i].comm[sizeof(t[i].comm) - 1] = 0;
		if (t[i].flags & CKPT_TREE_ZOMBIE)
			printf(" zombie \"%s\", exit code %#x", t[i].comm, t[i].exit_code);
		else if (t[i].flags & CKPT_TREE_GHOST)
			printf(" ghost (the dead leader of its group%s)",
			       t[i].sid == t[i].pid ? " and session" : "");
		else
			live++;
		if (t[i].flags & CKPT_TREE_FILES)
			printf(" file table of task %u (CLONE_FILES)%s", t[i].files_of,
			       t[i].flags & CKPT_TREE_FS ? "," : "");
		if (t[i].flags & CKPT_TREE_FS)
			printf(" fs_struct of task %u (CLONE_FS)", t[i].fs_of);
		printf("\n");
	}
	for (i = 0; i < n; i++) {
		int pg = !t[i].pgid, sid = !t[i].sid;

		for (j = 0; j < n; j++) {
			pg |= t[j].pid == t[i].pgid;
			sid |= t[j].pid == t[i].sid;
		}
		if (!pg || !sid || (t[i].sid && !t[i].pgid))
			bad("pid %d: process group %d or session %d not in the tree", t[i].pid,
			    t[i].pgid, t[i].sid);
	}
	if (t[0].flags & CKPT_TREE_UTSNS) {
		struct ckpt_hdr_uts_ns *u = expect(CKPT_HDR_UTS_NS, sizeof(*u), sizeof(*u));

		if (memchr(u->nodename, 0, sizeof(u->nodename)) == NULL ||
		    memchr(u->domainname, 0, sizeof(u->domainname)) == NULL)
			bad("UTS_NS: names not NUL-terminated");
		for (i = 0; i < sizeof(u->_padding); i++)
			if (u->_padding[i])
				bad("UTS_NS: padding");
		printf("            a UTS namespace of its own: hostname \"%s\" domainname \"%s\"\n",
		       u->nodename, u->domainname);
	}
	if (t[0].flags & CKPT_TREE_NETNS) {
		struct ckpt_hdr_net_ns *nn = expect(CKPT_HDR_NET_NS, sizeof(*nn), sizeof(*nn));
		uint32_t nr = nn->nr_sysctl;

		if (nn->flags & ~CKPT_NETNS_FLAGS || nn->lo_mtu != 65536 ||
		    nn->nr_sysctl > CKPT_NET_SYSCTL_MAX)
			bad("NET_NS: flags %#x, MTU %u, %u sysctls", nn->flags, nn->lo_mtu,
			    nn->nr_sysctl);
		for (i = 0; i < sizeof(nn->_padding) / sizeof(nn->_padding[0]); i++)
			if (nn->_padding[i])
				bad("NET_NS: padding");
		printf("            a network namespace of its own: lo %s%s%s mtu %u, %u sysctls\n",
		       nn->flags & CKPT_NETNS_LO_UP ? "up" : "down",
		       nn->flags & CKPT_NETNS_LO_INET ? " 127.0.0.1/8" : "",
		       nn->flags & CKPT_NETNS_LO_INET6 ? " ::1/128" : "", nn->lo_mtu, nr);
		for (i = 0; i < nr; i++)
			net_sysctl(i);
	}
	if (t[0].flags & CKPT_TREE_IPCNS)
		ipc_ns();
	return live;
}

/* the header, its strings and the arch header: returns the checkpoint flags */
static uint64_t header(uint32_t *page_size, uint32_t *xstate_size)
{
	struct ckpt_hdr_header *hh;
	struct ckpt_hdr_header_arch *ha;
	uint64_t uflags;

	hh = expect(CKPT_HDR_HEADER, sizeof(*hh), sizeof(*hh));
	if (hh->magic != CHECKPOINT_MAGIC_HEAD)
		bad("bad magic %#" PRIx64, (uint64_t)hh->magic);
	if (hh->rev != CHECKPOINT_VERSION)
		bad("format version %u, this tool reads %u", hh->rev, CHECKPOINT_VERSION);
	if (hh->arch_id != CKPT_ARCH_X86_64)
		bad("architecture %u", hh->arch_id);
	*page_size = hh->constants.page_size;
	if (*page_size != 4096)
		bad("page size %u", *page_size);
	uflags = hh->uflags;
	printf("            version %u kernel %u.%u.%u time %" PRIu64 " flags %#" PRIx64 "\n",
	       hh->rev, hh->major, hh->minor, hh->patch, (uint64_t)hh->time,
	       (uint64_t)hh->uflags);
	string("release");
	string("version");
	string("machine");
	ha = expect(CKPT_HDR_HEADER_ARCH, sizeof(*ha), sizeof(*ha));
	printf("            xstate_size %u xfeatures %#" PRIx64 " vdso_size %u\n",
	       ha->xstate_size, (uint64_t)ha->xfeatures, ha->vdso_size);
	*xstate_size = ha->xstate_size;
	return uflags;
}

/* a PRECOPY record */
static void precopy(uint64_t *chain, uint32_t *round)
{
	struct ckpt_hdr_precopy *p = expect(CKPT_HDR_PRECOPY, sizeof(*p), sizeof(*p));

	*chain = p->chain;
	*round = p->round;
	printf("            pre-copy chain %#" PRIx64 " %s %u\n", *chain,
	       precopy_last ? "rounds" : "round", *round);
}

int main(int argc, char *argv[])
{
	uint64_t uflags, chain = 0;
	uint32_t round = 0, rounds = 0;
	uint32_t live, page_size, xstate_size;
	int c;

	if (argc != 2) {
		fprintf(stderr, "usage: ckptinfo FILE\n");
		return 2;
	}
	fname = argv[1];
	in = fopen(fname, "rb");
	if (!in) {
		fprintf(stderr, "ckptinfo: %s: %s\n", fname, strerror(errno));
		return 2;
	}

	elf_headers();
	uflags = header(&page_size, &xstate_size);
	/* a pre-copy stream: rounds 0 to N - 1, then their last pass */
	while (uflags & CHECKPOINT_PRECOPY) {
		uint64_t id;

		precopy(&id, &round);
		if (!rounds)
			chain = id;
		if (id != chain || round != rounds)
			bad("round %u of chain %#" PRIx64 " where round %u of %#" PRIx64
			    " was expected", round, id, rounds, chain);
		pages(0, UINT64_MAX, page_size, 0);
		tail_record();
		rounds++;
		c = fgetc(in);
		if (c == EOF) {
			printf("ok: %u pre-copy rounds (no last pass): %" PRIu64 " bytes\n", rounds,
			       offset);
			return 0;
		}
		ungetc(c, in);
		csum_sum = csum_sum2 = csum_n = 0;
		uflags = header(&page_size, &xstate_size);
		if (!(uflags & (CHECKPOINT_PRECOPY | CHECKPOINT_PRECOPY_LAST)))
			bad("%u rounds followed by an image that is not their last pass", rounds);
	}
	if (uflags & CHECKPOINT_PRECOPY_LAST) {
		uint64_t id;

		precopy_last = 1;
		precopy(&id, &round);
		if (rounds && (id != chain || round != rounds))
			bad("last pass of chain %#" PRIx64 " with %u rounds after %u rounds of %#" PRIx64,
			    id, round, rounds, chain);
	}

	/* an ET_CKPT file holds one task, without the hierarchy */
	live = elf ? 1 : tree();
	while (live--)
		task(xstate_size, page_size);
	if (tree_ctty)
		ctty(ptys);

	tail_record();
	c = fgetc(in);
	if (precopy_last)
		printf("            after %u pre-copy rounds: %" PRIu64 " pages referred to\n",
		       rounds, total_refs);
	if (total_cow)
		printf("            %" PRIu64 " pages shared copy-on-write with a parent\n", total_cow);
	if (c != EOF)
		bad("data after the tail record");
	printf("ok: %" PRIu64 " bytes\n", offset);
	return 0;
}
