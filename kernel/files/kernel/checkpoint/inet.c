// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: IPv4 and IPv6 sockets (TCP and UDP; an IPv6 socket
 * keeps IPV6_V6ONLY, and its IPv4-mapped connections of a dual-stack
 * listener are matched with their IPv4 peers): TCP sockets unbound, bound,
 * listening or connected on loopback, UDP sockets unbound,
 * bound or connected, with SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
 * SO_BROADCAST and TCP_NODELAY, and (a SOCKET_INET record) SO_LINGER,
 * IP_TOS, IP_TTL, TCP_CORK, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT and TCP_USER_TIMEOUT, and (a SOCKET_TCPOPT record)
 * TCP_CONGESTION, TCP_WINDOW_CLAMP, TCP_TX_DELAY, TCP_THIN_LINEAR_TIMEOUTS,
 * TCP_INQ, TCP_FASTOPEN_CONNECT and TCP_FASTOPEN_NO_COOKIE.  Restart binds
 * again to the same address and port with the caller's rights: a
 * privileged port needs
 * CAP_NET_BIND_SERVICE (EACCES), an address the machine lacks is
 * EADDRNOTAVAIL, a port taken EADDRINUSE; SO_REUSEPORT joins only a group
 * of the caller's own uid, as bind() does.
 *
 * Established TCP connections are saved with their peer anywhere (the
 * other end in the checkpoint, or on another machine): with
 * CHECKPOINT_TCP_HOLD each is held from the moment it is saved (see
 * ckpt_tcp_hold()), so that it can move to another machine.
 *
 * A listener's accept queue is saved (its established connections, each
 * as an established one without a descriptor) and queued again at
 * restart, in order (ckpt_tcp_accept_save(), restore_tcp_accept()).
 *
 * Half-closed connections (CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, LAST_ACK,
 * CLOSING) are saved as established ones with their FINs, and moved to
 * their state at restart (restore_tcp(), restore_tcp_fin_out()).
 *
 * ICMP ping sockets (SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6) unbound,
 * bound (their port is the ICMP identifier) or connected, and raw sockets
 * (SOCK_RAW, any protocol) unbound, bound or connected, with IP_HDRINCL,
 * ICMP_FILTER, ICMPV6_FILTER and IPV6_CHECKSUM (a SOCKET_RAW record), are
 * made again with the caller's rights: a ping socket by a caller whose
 * groups net.ipv4.ping_group_range leaves out is EACCES, a raw socket
 * without CAP_NET_RAW EPERM.  What they have queued is refused: replies
 * and packets cannot be queued again as they came.
 *
 * A connection in SYN_SENT is saved with its initial sequence number and
 * connects again at restart, not in repair mode (its SYN sent again with
 * that sequence number: restore_tcp_syn_sent()); one with data for its
 * SYN (TCP_FASTOPEN_CONNECT, MSG_FASTOPEN) is refused.
 *
 * Refused at checkpoint by name (EOPNOTSUPP): UDP datagrams queued from
 * outside the checkpoint on an IPv6 socket or with IP options (an IPv4
 * one's are saved as they came, SOCKET_DGRAM, and queued again as
 * received by their device: restore_udp_dgram()), anything queued on a
 * ping or raw socket (or
 * corked in it, MSG_MORE), the raw sockets of multicast routing (MRT_INIT,
 * MRT6_INIT, MRT_TABLE) or with IP_ROUTER_ALERT, IPV6_ROUTER_ALERT,
 * IP_NODEFRAG, and options not restored
 * (IP options, source-specific multicast memberships, TCP_LINGER2,
 * TCP_SYNCNT, TCP_NOTSENT_LOWAT, TCP_DEFER_ACCEPT, TCP_FASTOPEN_KEY, TCP_ULP,
 * TCP_SAVE_SYN, TCP_MD5SIG, TCP_REPAIR left on;
 * the IPv6 ones: flow labels, IPv6 options, multicast and anycast
 * memberships, address preferences; the socket-level ones: socket.c).
 *
 * The IP-level options (SO_BINDTODEVICE and the interface options by
 * device name, IP_FREEBIND, IP_TRANSPARENT, IP_RECVERR, the IP_* and
 * IPV6_* receive flags, the multicast settings, MTU discovery, hop limits,
 * traffic class ...) and the IPv4 memberships are a SOCKET_IP record and
 * SOCKET_MCAST ones (checkpoint_inet_ip(), restore_inet_ip()): restart
 * sets what differs from a new socket before the bind; a device the
 * restarting machine lacks is ENODEV.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint.h>
#include <linux/delay.h>
#include <linux/filter.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/net.h>
#include <linux/sockptr.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/udplite.h>
#include <net/inet_connection_sock.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/igmp.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/mroute_base.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/raw.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#include "socket.h"

static const char *const ckpt_tcp_states[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV", [TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

static const char *ckpt_tcp_state(int state)
{
	if (state > 0 && state < ARRAY_SIZE(ckpt_tcp_states) &&
	    ckpt_tcp_states[state])
		return ckpt_tcp_states[state];
	return "?";
}

/*
 * a connection restored through repair mode: established, or half closed
 * (CLOSE_WAIT: the peer's FIN came; FIN_WAIT1, FIN_WAIT2: this side sent
 * its FIN, acknowledged in FIN_WAIT2; LAST_ACK: both, the peer's first;
 * CLOSING: both, this side's first and not acknowledged).
 */
bool ckpt_tcp_connected(int state)
{
	return (1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
			       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_LAST_ACK |
			       TCPF_CLOSING);
}

/* a connection with a peer: connected, or connecting (its SYN sent) */
static bool ckpt_tcp_has_peer(int state)
{
	return ckpt_tcp_connected(state) || state == TCP_SYN_SENT;
}

static bool ckpt_inet_tcp(struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP;
}

/* UDP or UDP-Lite (one udp_sock, one queue) */
static bool ckpt_inet_udp(struct sock *sk)
{
	return sk->sk_type == SOCK_DGRAM &&
	       (sk->sk_protocol == IPPROTO_UDP ||
		sk->sk_protocol == IPPROTO_UDPLITE);
}

/* the checksum coverage of a UDP-Lite socket, as getsockopt() reads it */
static void ckpt_udplite_opts(struct sock *sk,
			      struct ckpt_hdr_socket_udplite *u)
{
	struct udp_sock *up = udp_sk(sk);

	memset(u, 0, sizeof(*u));
	if (up->pcflag & UDPLITE_SEND_CC) {
		u->flags |= CKPT_UDPLITE_SEND;
		u->send_cscov = up->pcslen;
	}
	if (up->pcflag & UDPLITE_RECV_CC) {
		u->flags |= CKPT_UDPLITE_RECV;
		u->recv_cscov = up->pcrlen;
	}
}

/* an ICMP ping socket of @family: SOCK_DGRAM with the family's ICMP */
static bool ckpt_ping_proto(int family, int type, int protocol)
{
	return type == SOCK_DGRAM &&
	       protocol == (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
}

static bool ckpt_inet_ping(struct sock *sk)
{
	return ckpt_ping_proto(sk->sk_family, sk->sk_type, sk->sk_protocol);
}

static bool ckpt_inet_raw(struct sock *sk)
{
	return sk->sk_type == SOCK_RAW;
}

/* the two ends of an inet socket, as IPv6 addresses (IPv4 ones mapped) */
struct ckpt_inet_ends {
	struct in6_addr laddr, raddr;
	__be16 lport, rport;
};

static void ckpt_inet_ends(struct sock *sk, struct ckpt_inet_ends *e)
{
	struct inet_sock *inet = inet_sk(sk);

	ipv6_addr_set_v4mapped(inet->inet_rcv_saddr, &e->laddr);
	ipv6_addr_set_v4mapped(inet->inet_daddr, &e->raddr);
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		e->laddr = sk->sk_v6_rcv_saddr;
		e->raddr = sk->sk_v6_daddr;
	}
#endif
	e->lport = inet->inet_sport;
	e->rport = inet->inet_dport;
}

/* @addr:@port as a sockaddr for "%pISpc": an IPv4-mapped one as IPv4 */
static struct sockaddr *ckpt_inet_sa(struct sockaddr_storage *ss,
				     const struct in6_addr *addr, __be16 port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ipv6_addr_v4mapped(addr)) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = addr->s6_addr32[3];
		sin->sin_port = port;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = *addr;
		sin6->sin6_port = port;
	}
	return (struct sockaddr *)ss;
}

/* an IPv6 option that restart does not set, or NULL */
static const char *ckpt_inet6_unsupported(struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct ipv6_pinfo *np = inet6_sk(sk);

	if (sk->sk_family != AF_INET6 || !np)
		return NULL;
	if (np->sndflow || np->flow_label || rcu_access_pointer(np->ipv6_fl_list) ||
	    np->autoflowlabel_set)
		return "flow labels (IPV6_FLOWINFO_SEND, IPV6_FLOWLABEL_MGR, IPV6_AUTOFLOWLABEL)";
	if (rcu_access_pointer(np->opt))
		return "IPv6 options (IPV6_HOPOPTS, IPV6_RTHDR, IPV6_DSTOPTS ...)";
	/* the other IPv6 options are in SOCKET_IP (ckpt_inet_ip_opts()) */
	if (!ckpt_inet_tcp(sk) &&
	    (rcu_access_pointer(np->ipv6_mc_list) || np->ipv6_ac_list))
		return "IPv6 multicast or anycast memberships (IPV6_JOIN_GROUP, IPV6_JOIN_ANYCAST)";
	if (np->srcprefs)
		return "IPV6_ADDR_PREFERENCES";
#endif
	return NULL;
}

/* @sk is the socket of an IPv6 multicast routing table (MRT6_INIT) */
static bool ckpt_ip6mr_sk(struct sock *sk)
{
	bool found = false;
#ifdef CONFIG_IPV6_MROUTE
	struct net *net = sock_net(sk);
	struct mr_table *mrt;

	rcu_read_lock();
#ifdef CONFIG_IPV6_MROUTE_MULTIPLE_TABLES
	list_for_each_entry_rcu(mrt, &net->ipv6.mr6_tables, list)
		found |= rcu_access_pointer(mrt->mroute_sk) == sk;
#else
	mrt = net->ipv6.mrt6;
	found = mrt && rcu_access_pointer(mrt->mroute_sk) == sk;
#endif
	rcu_read_unlock();
#endif
	return found;
}

/* what a raw socket has that restart does not set, or NULL */
static const char *ckpt_raw_unsupported(struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct ip6_ra_chain *ra6;
#endif
	struct ip_ra_chain *ra;
	const char *what = NULL;

	if (!ckpt_inet_raw(sk))
		return NULL;
	if (inet_sk(sk)->nodefrag)
		return "IP_NODEFRAG";
	if (sk->sk_family == AF_INET) {
		if (raw_sk(sk)->ipmr_table)
			return "MRT_TABLE";
		/* multicast routing (MRT_INIT) is in the chain too */
		rcu_read_lock();
		for (ra = rcu_dereference(sock_net(sk)->ipv4.ra_chain); ra;
		     ra = rcu_dereference(ra->next))
			if (ra->sk == sk)
				what = "IP_ROUTER_ALERT or multicast routing (MRT_INIT)";
		rcu_read_unlock();
		return what;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (raw6_sk(sk)->ip6mr_table)
		return "MRT6_TABLE";
	if (ckpt_ip6mr_sk(sk))
		return "IPv6 multicast routing (MRT6_INIT)";
	read_lock_bh(&ip6_ra_lock);
	for (ra6 = ip6_ra_chain; ra6; ra6 = ra6->next)
		if (ra6->sk == sk)
			what = "IPV6_ROUTER_ALERT";
	read_unlock_bh(&ip6_ra_lock);
#endif
	return what;
}

/*
 * IPv4 multicast memberships that SOCKET_MCAST cannot carry: a source
 * filter (IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, IP_MSFILTER) or more
 * than CKPT_SOCK_MCAST_MAX of them; or NULL
 */
static const char ckpt_ssm[] =
	"source-specific multicast (IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, IP_MSFILTER)";

static const char *ckpt_mcast_unsupported(struct sock *sk)
{
	struct ip_mc_socklist *iml;
	const char *what = NULL;
	int n = 0;

	rcu_read_lock();
	for (iml = rcu_dereference(inet_sk(sk)->mc_list); iml;
	     iml = rcu_dereference(iml->next_rcu)) {
		if (iml->sfmode != MCAST_EXCLUDE ||
		    rcu_access_pointer(iml->sflist))
			what = ckpt_ssm;
		if (++n > CKPT_SOCK_MCAST_MAX)
			what = "more than 256 multicast memberships";
	}
	rcu_read_unlock();
	return what;
}

/* an option that restart does not set, or NULL */
static const char *ckpt_inet_unsupported(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	if (rcu_access_pointer(inet->inet_opt))
		return "IP_OPTIONS";
	if (ckpt_mcast_unsupported(sk))
		return ckpt_mcast_unsupported(sk);
	if (ckpt_inet6_unsupported(sk))
		return ckpt_inet6_unsupported(sk);
	if (ckpt_raw_unsupported(sk))
		return ckpt_raw_unsupported(sk);
	if (!ckpt_inet_tcp(sk))
		return NULL;
	if (tcp_sk(sk)->linger2)
		return "TCP_LINGER2";
	if (inet_csk(sk)->icsk_syn_retries)
		return "TCP_SYNCNT";
	if (tcp_sk(sk)->notsent_lowat)
		return "TCP_NOTSENT_LOWAT";
	if (inet_csk(sk)->icsk_accept_queue.rskq_defer_accept)
		return "TCP_DEFER_ACCEPT";
	/* TCP_FASTOPEN itself is saved (SOCKET_TCPOPT), not a key of its own */
	if (rcu_access_pointer(inet_csk(sk)->icsk_accept_queue.fastopenq.ctx))
		return "TCP_FASTOPEN_KEY";
	if (inet_csk(sk)->icsk_ulp_ops)
		return "TCP_ULP";
	if (tcp_sk(sk)->save_syn || tcp_sk(sk)->saved_syn)
		return "TCP_SAVE_SYN";
#ifdef CONFIG_TCP_MD5SIG
	if (rcu_access_pointer(tcp_sk(sk)->md5sig_info))
		return "TCP_MD5SIG keys";
#endif
	/* an established one's is refused by ckpt_tcp_classify() */
	if (tcp_sk(sk)->repair && !ckpt_tcp_connected(READ_ONCE(sk->sk_state)))
		return "TCP_REPAIR on";
	return NULL;
}

/*
 * the options of SOCKET_INET: SO_LINGER, IP_TTL, IP_TOS and the TCP ones
 * (TCP_CORK, TCP_MAXSEG, the keepalive tunables, TCP_USER_TIMEOUT) as
 * their setsockopt() set them; whether one differs from its default
 */
static bool ckpt_inet_opts(struct sock *sk, struct ckpt_hdr_socket_inet *o)
{
	struct inet_sock *inet = inet_sk(sk);

	memset(o, 0, sizeof(*o));
	if (sock_flag(sk, SOCK_LINGER)) {
		o->flags |= CKPT_INET_LINGER;
		o->linger_s = READ_ONCE(sk->sk_lingertime) / HZ;
	}
	o->ttl = inet->uc_ttl;
	o->tos = inet->tos;
	if (ckpt_inet_tcp(sk)) {
		struct tcp_sock *tp = tcp_sk(sk);

		if (tp->nonagle & TCP_NAGLE_CORK)
			o->flags |= CKPT_INET_CORK;
		o->maxseg = tp->rx_opt.user_mss;
		o->keepidle = READ_ONCE(tp->keepalive_time) / HZ;
		o->keepintvl = READ_ONCE(tp->keepalive_intvl) / HZ;
		o->keepcnt = READ_ONCE(tp->keepalive_probes);
		o->user_timeout = READ_ONCE(inet_csk(sk)->icsk_user_timeout);
	}
	return o->flags || o->ttl != -1 || o->tos || o->maxseg || o->keepidle ||
	       o->keepintvl || o->keepcnt || o->user_timeout;
}

/*
 * the options of SOCKET_TCPOPT, as getsockopt() reads them: the congestion
 * control if set (TCP_CONGESTION) or other than the namespace's default
 * (not one that a route locked: the route gives it again), the window
 * clamp (the user's, TCP_WINDOW_CLAMP, on a socket not connected: 0 if
 * none; the connection's, the kernel's or the user's, on a connected
 * one), TCP_TX_DELAY and the flags; whether one differs from its default
 */
static bool ckpt_tcp_opts(struct sock *sk, struct ckpt_hdr_socket_tcpopt *o)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct tcp_congestion_ops *ca, *def;
	struct tcp_sock *tp = tcp_sk(sk);

	memset(o, 0, sizeof(*o));
	rcu_read_lock();
	ca = icsk->icsk_ca_ops;
	def = rcu_dereference(sock_net(sk)->ipv4.tcp_congestion_control);
	if (ca && !icsk->icsk_ca_dst_locked &&
	    (icsk->icsk_ca_setsockopt || ca != def))
		strscpy(o->congestion, ca->name, sizeof(o->congestion));
	rcu_read_unlock();
	o->window_clamp = READ_ONCE(tp->window_clamp);
	o->tx_delay = READ_ONCE(tp->tcp_tx_delay);
	o->flags |= tp->thin_lto ? CKPT_TCPOPT_THIN_LTO : 0;
	o->flags |= tp->recvmsg_inq ? CKPT_TCPOPT_INQ : 0;
	o->flags |= tp->fastopen_connect ? CKPT_TCPOPT_FO_CONNECT : 0;
	o->flags |= tp->fastopen_no_cookie ? CKPT_TCPOPT_FO_NO_COOKIE : 0;
	o->fastopen_qlen = READ_ONCE(icsk->icsk_accept_queue.fastopenq.max_qlen);
	return o->congestion[0] || o->window_clamp || o->tx_delay || o->flags ||
	       o->fastopen_qlen;
}

/* a raw socket's options, as their getsockopt() reads them */
static void ckpt_raw_opts(struct sock *sk, struct ckpt_hdr_socket_raw *r)
{
	memset(r, 0, sizeof(*r));
	if (inet_sk(sk)->hdrincl)
		r->flags |= CKPT_RAW_HDRINCL;
	if (sk->sk_family == AF_INET && sk->sk_protocol == IPPROTO_ICMP)
		r->icmp_filter = raw_sk(sk)->filter.data;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		struct raw6_sock *rp = raw6_sk(sk);

		if (rp->checksum) {
			r->flags |= CKPT_RAW_CHECKSUM;
			r->offset = rp->offset;
		}
		if (sk->sk_protocol == IPPROTO_ICMPV6)
			memcpy(r->icmp6_filter, rp->filter.data,
			       sizeof(r->icmp6_filter));
	}
#endif
}

#if IS_ENABLED(CONFIG_IPV6)
/* the receive options of ipv6_pinfo.rxopt, in the order of ckpt_ip6_rxopts[] */
static u16 ckpt_ip6_rxopt(struct ipv6_pinfo *np)
{
	return np->rxopt.bits.srcrt | np->rxopt.bits.osrcrt << 1 |
	       np->rxopt.bits.rxinfo << 2 | np->rxopt.bits.rxoinfo << 3 |
	       np->rxopt.bits.rxhlim << 4 | np->rxopt.bits.rxohlim << 5 |
	       np->rxopt.bits.hopopts << 6 | np->rxopt.bits.ohopopts << 7 |
	       np->rxopt.bits.dstopts << 8 | np->rxopt.bits.odstopts << 9 |
	       np->rxopt.bits.rxflow << 10 | np->rxopt.bits.rxtclass << 11 |
	       np->rxopt.bits.rxpmtu << 12 |
	       np->rxopt.bits.rxorigdstaddr << 13 |
	       np->rxopt.bits.recvfragsize << 14;
}
#endif

/* the name of device @ifindex (under RTNL) into @name; -ENODEV if gone */
static int ckpt_ifname(struct net *net, int ifindex, char *name)
{
	struct net_device *dev;

	if (!ifindex)
		return 0;
	dev = __dev_get_by_index(net, ifindex);
	if (!dev)
		return -ENODEV;
	strscpy(name, dev->name, IFNAMSIZ);
	return 0;
}

/* SOCKET_IP of a socket with none of its options set */
static void ckpt_inet_ip_default(struct sock *sk, struct ckpt_hdr_socket_ip *p)
{
	memset(p, 0, sizeof(*p));
	p->mc_ttl = 1;
	p->pmtudisc = READ_ONCE(sock_net(sk)->ipv4.sysctl_ip_no_pmtu_disc) ?
		      IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	p->hop_limit = -1;
	p->mcast_hops = -1;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		p->pmtudisc6 = IPV6_PMTUDISC_WANT;
		p->mcast_hops = IPV6_DEFAULT_MCASTHOPS;
	}
#endif
}

/*
 * the IP-level options of SOCKET_IP, as their getsockopt() reads them,
 * the devices by name (under RTNL and the socket's lock); @ifidx: the
 * first interface index whose device is gone.  Multicast settings mean
 * nothing to TCP (an accepted socket has the SYN's interface and TTL
 * there): not saved.
 */
static void ckpt_inet_ip_opts(struct sock *sk, struct ckpt_hdr_socket_ip *p,
			      int *ifidx)
{
	struct inet_sock *inet = inet_sk(sk);
	bool tcp = ckpt_inet_tcp(sk);
	struct net *net = sock_net(sk);
	struct ip_mc_socklist *iml;
	int bound = READ_ONCE(sk->sk_bound_dev_if);

	ckpt_inet_ip_default(sk, p);
	*ifidx = 0;
	p->flags |= inet->freebind ? CKPT_IP_FREEBIND : 0;
	p->flags |= inet->transparent ? CKPT_IP_TRANSPARENT : 0;
	p->flags |= inet->recverr ? CKPT_IP_RECVERR : 0;
	p->flags |= inet->recverr_rfc4884 ? CKPT_IP_RECVERR_RFC4884 : 0;
	p->flags |= inet->bind_address_no_port ? CKPT_IP_BIND_NO_PORT : 0;
	p->cmsg_flags = inet->cmsg_flags & CKPT_IP_CMSG_FLAGS;
	p->pmtudisc = inet->pmtudisc;
	p->min_ttl = READ_ONCE(inet->min_ttl);
	p->port_lo = inet->local_port_range.lo;
	p->port_hi = inet->local_port_range.hi;
	if (ckpt_ifname(net, bound, p->bind_dev))
		*ifidx = bound;
	if (ckpt_ifname(net, inet->uc_index, p->uc_dev))
		*ifidx = inet->uc_index;
	if (!tcp) {
		p->flags |= inet->mc_loop ? 0 : CKPT_IP_MC_NOLOOP;
		p->flags |= inet->mc_all ? 0 : CKPT_IP_MC_NOALL;
		p->mc_ttl = inet->mc_ttl;
		p->mc_addr = (__force u32)inet->mc_addr;
		if (ckpt_ifname(net, inet->mc_index, p->mc_dev))
			*ifidx = inet->mc_index;
		for (iml = rtnl_dereference(inet->mc_list); iml;
		     iml = rtnl_dereference(iml->next_rcu))
			p->nmcast++;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		struct ipv6_pinfo *np = inet6_sk(sk);

		p->flags |= np->recverr ? CKPT_IP6_RECVERR : 0;
		p->flags |= np->recverr_rfc4884 ? CKPT_IP6_RECVERR_RFC4884 : 0;
		p->flags |= np->dontfrag ? CKPT_IP6_DONTFRAG : 0;
		p->rxopt = ckpt_ip6_rxopt(np);
		p->pmtudisc6 = np->pmtudisc;
		p->hop_limit = np->hop_limit;
		p->tclass = np->tclass;
		p->min_hopcount = READ_ONCE(np->min_hopcount);
		p->frag_size = np->frag_size;
		if (ckpt_ifname(net, np->ucast_oif, p->uc6_dev))
			*ifidx = np->ucast_oif;
		if (!tcp) {
			p->flags |= np->mc_loop ? 0 : CKPT_IP6_MC_NOLOOP;
			p->flags |= np->mc_all ? 0 : CKPT_IP6_MC_NOALL;
			p->mcast_hops = np->mcast_hops;
			if (ckpt_ifname(net, np->mcast_oif, p->mc6_dev))
				*ifidx = np->mcast_oif;
		}
	}
#endif
}

/* whether @sk has an option of SOCKET_IP set */
static bool ckpt_inet_ip_any(struct sock *sk)
{
	struct ckpt_hdr_socket_ip p, d;
	int gone;

	rtnl_lock();
	lock_sock(sk);
	ckpt_inet_ip_opts(sk, &p, &gone);
	release_sock(sk);
	rtnl_unlock();
	ckpt_inet_ip_default(sk, &d);
	return gone || memcmp(&p, &d, sizeof(p));
}

/*
 * the options of SOCKET_IP that a connection waiting in @lsk's accept
 * queue takes from it at restart: the same in @sk?
 */
static bool ckpt_inet_ip_same(struct sock *lsk, struct sock *sk)
{
	struct ckpt_hdr_socket_ip lp, p;
	int lgone, gone;

	rtnl_lock();
	ckpt_inet_ip_opts(lsk, &lp, &lgone);
	ckpt_inet_ip_opts(sk, &p, &gone);
	rtnl_unlock();
	return !lgone && !gone && !memcmp(&lp, &p, sizeof(p));
}

/* checkpoint: SOCKET_IP and its SOCKET_MCAST records */
static int checkpoint_inet_ip(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct ckpt_hdr_socket_mcast *m = NULL;
	struct ip_mc_socklist *iml;
	struct ckpt_hdr_socket_ip p;
	int i, n = 0, gone, ret = 0;

	rtnl_lock();
	lock_sock(sk);
	ckpt_inet_ip_opts(sk, &p, &gone);
	if (p.nmcast > CKPT_SOCK_MCAST_MAX) {
		ret = -EOPNOTSUPP;
		goto unlock;
	}
	m = kcalloc(max_t(u32, p.nmcast, 1), sizeof(*m), GFP_KERNEL);
	if (!m) {
		ret = -ENOMEM;
		goto unlock;
	}
	/* the list has the last one joined first: saved in the order joined */
	for (iml = rtnl_dereference(inet_sk(sk)->mc_list);
	     iml && n < p.nmcast && !ckpt_inet_tcp(sk);
	     iml = rtnl_dereference(iml->next_rcu), n++) {
		struct ckpt_hdr_socket_mcast *e = &m[p.nmcast - 1 - n];

		e->group = (__force u32)iml->multi.imr_multiaddr.s_addr;
		e->address = (__force u32)iml->multi.imr_address.s_addr;
		if (ckpt_ifname(sock_net(sk), iml->multi.imr_ifindex, e->dev) ||
		    !e->dev[0])
			gone = iml->multi.imr_ifindex ?: -1;
	}
unlock:
	release_sock(sk);
	rtnl_unlock();
	if (ret == -EOPNOTSUPP)
		ret = ckpt_err(ctx, ret,
			       "fd %d: inet socket with more than %d multicast memberships not supported",
			       fd, CKPT_SOCK_MCAST_MAX);
	if (!ret && gone)
		ret = ckpt_err(ctx, -ENODEV,
			       "fd %d: inet socket with an option naming interface %d, which is gone",
			       fd, gone);
	if (!ret && n != p.nmcast)
		ret = ckpt_err(ctx, -EAGAIN,
			       "fd %d: its multicast memberships changed while it was saved",
			       fd);
	if (!ret)
		ret = ckpt_write_obj(ctx, &p, CKPT_HDR_SOCKET_IP, sizeof(p));
	for (i = 0; !ret && i < n; i++)
		ret = ckpt_write_obj(ctx, &m[i], CKPT_HDR_SOCKET_MCAST,
				     sizeof(m[i]));
	kfree(m);
	return ret;
}

/* checkpoint: SOCKET_INET, if the SOCKET said so; SOCKET_RAW, a raw one's */
int checkpoint_inet_opts(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			 struct ckpt_hdr_socket *h)
{
	struct ckpt_hdr_socket_udplite u;
	struct ckpt_hdr_socket_tcpopt to;
	struct ckpt_hdr_socket_inet o;
	struct ckpt_hdr_socket_raw r;
	int ret = 0;

	if (h->flags & CKPT_SOCK_INET_OPTS) {
		lock_sock(sock->sk);
		ckpt_inet_opts(sock->sk, &o);
		release_sock(sock->sk);
		ret = ckpt_write_obj(ctx, &o, CKPT_HDR_SOCKET_INET, sizeof(o));
	}
	if (!ret && (h->flags & CKPT_SOCK_TCP_OPTS)) {
		lock_sock(sock->sk);
		ckpt_tcp_opts(sock->sk, &to);
		release_sock(sock->sk);
		ret = ckpt_write_obj(ctx, &to, CKPT_HDR_SOCKET_TCPOPT,
				     sizeof(to));
	}
	if (!ret && (h->flags & CKPT_SOCK_IP_OPTS))
		ret = checkpoint_inet_ip(ctx, sock->sk, fd);
	if (!ret && ckpt_inet_raw(sock->sk)) {
		lock_sock(sock->sk);
		ckpt_raw_opts(sock->sk, &r);
		release_sock(sock->sk);
		ret = ckpt_write_obj(ctx, &r, CKPT_HDR_SOCKET_RAW, sizeof(r));
	}
	if (!ret && ckpt_inet_udp(sock->sk) &&
	    sock->sk->sk_protocol == IPPROTO_UDPLITE) {
		lock_sock(sock->sk);
		ckpt_udplite_opts(sock->sk, &u);
		release_sock(sock->sk);
		ret = ckpt_write_obj(ctx, &u, CKPT_HDR_SOCKET_UDPLITE,
				     sizeof(u));
	}
	return ret;
}

/* the peer's FIN came: a sequence number of its own in rcv_nxt */
static bool ckpt_tcp_fin_rcvd(int state)
{
	return (1 << state) & (TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING);
}

/* this side sent its FIN (shutdown, SEND_SHUTDOWN), in write_seq */
static bool ckpt_tcp_fin_sent(int state)
{
	return (1 << state) & (TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_LAST_ACK |
			       TCPF_CLOSING);
}

/* a connection in an accept queue: nobody could shut it down */
static bool ckpt_tcp_waiting(int state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
}

/*
 * a ping or raw socket with something queued: refused (a reply or packet
 * cannot be queued again with its headers and source as it came), or
 * corked (MSG_MORE: ip_append_data() of a message not yet sent)
 */
static int ckpt_icmp_queued(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	u32 in = skb_queue_len_lockless(&sk->sk_receive_queue);
	u32 out = skb_queue_len_lockless(&sk->sk_write_queue);

	if (!in && !out)
		return 0;
	return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: %s socket with %s (%u) not supported",
			fd, ckpt_inet_raw(sk) ? "raw" : "ping",
			in ? (ckpt_inet_raw(sk) ? "queued packets" : "queued replies") :
			"a corked message (MSG_MORE)", in ?: out);
}

/* an established connection: nothing restart cannot set */
static int ckpt_tcp_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!RB_EMPTY_ROOT(&tp->out_of_order_queue) || tp->urg_data ||
	    tp->repair)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: TCP connection with out-of-order or urgent data, or in repair: not supported",
				fd);
	return 0;
}

/*
 * SYN_SENT: restart connects again with the same initial sequence number
 * and timestamps, so the SYN is the one the peer may have answered; what
 * a SYN cannot carry again is refused
 */
static int ckpt_tcp_classify_syn_sent(struct ckpt_ctx *ctx, struct sock *sk,
				      int fd)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const char *what = NULL;

	lock_sock(sk);
	if (tp->repair)
		what = "in repair";
	else if (tp->fastopen_req || inet_sk(sk)->defer_connect ||
		 tp->write_seq != tp->snd_una + 1)
		what = "with data in its SYN (TCP_FASTOPEN_CONNECT, MSG_FASTOPEN)";
	release_sock(sk);
	if (!what)
		return 0;
	return ckpt_err(ctx, -EOPNOTSUPP,
			"fd %d: TCP connection in SYN_SENT %s not supported",
			fd, what);
}

int ckpt_inet_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	int state = READ_ONCE(sk->sk_state);
	const char *opt;

	if (ckpt_inet_tcp(sk)) {
		if (ckpt_tcp_connected(state)) {
			int ret = ckpt_tcp_classify(ctx, sk, fd);

			if (ret)
				return ret;
		} else if (state == TCP_SYN_SENT) {
			int ret = ckpt_tcp_classify_syn_sent(ctx, sk, fd);

			if (ret)
				return ret;
		} else if (state != TCP_CLOSE && state != TCP_LISTEN)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: TCP connection in state %s not supported",
					fd, ckpt_tcp_state(state));
	} else if (ckpt_inet_udp(sk)) {
		if (udp_sk(sk)->pending)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: UDP socket with a corked datagram (UDP_CORK, MSG_MORE) not supported",
					fd);
	} else if (ckpt_inet_ping(sk) || ckpt_inet_raw(sk)) {
		int ret = ckpt_icmp_queued(ctx, sk, fd);

		if (ret)
			return ret;
	} else {
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s socket of type %d, protocol %d not supported",
				fd, sk->sk_family == AF_INET6 ? "inet6 (IPv6)" : "inet (IPv4)",
				sk->sk_type, sk->sk_protocol);
	}
	opt = ckpt_inet_unsupported(sk);
	if (opt)
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: inet socket with %s not supported",
				fd, opt);
	return 0;
}

static u32 ckpt_inet_name(struct sock *sk, bool peer, u8 *buf);

/* a raw socket bound to an address, or connected (which binds it) */
static bool ckpt_raw_bound(struct sock *sk)
{
	struct ckpt_inet_ends e;

	ckpt_inet_ends(sk, &e);
	return READ_ONCE(sk->sk_state) == TCP_ESTABLISHED ||
	       !(ipv6_addr_any(&e.laddr) ||
		 (ipv6_addr_v4mapped(&e.laddr) && !e.laddr.s6_addr32[3]));
}

/* checkpoint: the address and port, the peer of a connected UDP socket */
int checkpoint_inet(struct ckpt_ctx *ctx, struct socket *sock, int fd,
		    struct ckpt_hdr_socket *h)
{
	struct ckpt_hdr_socket_tcpopt to;
	struct ckpt_hdr_socket_inet o;
	struct sock *sk = sock->sk;
	int len;

	if (ckpt_inet_tcp(sk) && (tcp_sk(sk)->nonagle & TCP_NAGLE_OFF))
		h->flags |= CKPT_SOCK_NODELAY;
	lock_sock(sk);
	if (ckpt_inet_opts(sk, &o))
		h->flags |= CKPT_SOCK_INET_OPTS;
	if (ckpt_inet_tcp(sk) && ckpt_tcp_opts(sk, &to))
		h->flags |= CKPT_SOCK_TCP_OPTS;
	release_sock(sk);
	if (ckpt_inet_ip_any(sk))
		h->flags |= CKPT_SOCK_IP_OPTS;
	if (sk->sk_family == AF_INET6 && sk->sk_ipv6only)
		h->flags |= CKPT_SOCK_V6ONLY;
	/* its accept queue, even empty: it may fill while the task is saved */
	if (ckpt_inet_tcp(sk) && h->state == TCP_LISTEN)
		h->flags |= CKPT_SOCK_ACCEPTQ;
	/* a raw socket's inet_num is its protocol: bound to an address, or connected */
	if (ckpt_inet_raw(sk) ? !ckpt_raw_bound(sk) : !inet_sk(sk)->inet_num)
		return 0;
	len = kernel_getsockname(sock, (struct sockaddr *)h->laddr);
	if (len < 0)
		return ckpt_err(ctx, len, "fd %d: getsockname", fd);
	h->laddr_len = len;
	h->flags |= CKPT_SOCK_BOUND;
	if (READ_ONCE(sk->sk_state) == TCP_ESTABLISHED &&
	    (ckpt_inet_ping(sk) || ckpt_inet_raw(sk))) {
		/* connected to port 0: getpeername() says ENOTCONN */
		h->raddr_len = ckpt_inet_name(sk, true, h->raddr);
		h->flags |= CKPT_SOCK_CONNECT;
	} else if (h->state == TCP_SYN_SENT && ckpt_inet_tcp(sk)) {
		/* connecting: getpeername() says ENOTCONN */
		h->raddr_len = ckpt_inet_name(sk, true, h->raddr);
		h->flags |= CKPT_SOCK_CONNECT;
	} else if (READ_ONCE(sk->sk_state) == TCP_ESTABLISHED ||
		   (ckpt_inet_tcp(sk) && ckpt_tcp_connected(READ_ONCE(sk->sk_state)))) {
		len = kernel_getpeername(sock, (struct sockaddr *)h->raddr);
		if (len < 0)
			return ckpt_err(ctx, len, "fd %d: getpeername", fd);
		h->raddr_len = len;
		h->flags |= CKPT_SOCK_CONNECT;
	}
	return 0;
}

/* the bytes of @skb within [@seq, @seq + @len) into @buf; how many */
static int ckpt_tcp_copy(struct sk_buff *skb, u32 seq, u32 len, u8 *buf)
{
	u32 start = TCP_SKB_CB(skb)->seq, end = start + skb->len;
	u32 off, from, to;

	from = after(seq, start) ? seq : start;
	to = before(seq + len, end) ? seq + len : end;
	if (!before(from, to))
		return 0;
	off = from - start;
	return skb_copy_bits(skb, off, buf + (from - seq), to - from) ?:
	       to - from;
}

/*
 * CHECKPOINT_TCP_HOLD: a held connection drops every segment that arrives
 * (a one-instruction socket filter: tcp_filter() discards before any ACK
 * or RST) and is in repair mode (killed, its socket vanishes silently:
 * tcp_close() -> tcp_disconnect() sends neither FIN nor RST).  What it
 * had when saved is all the peer ever got acknowledged, so the image stays
 * exact while it travels; the peer retransmits to wherever the connection
 * is restarted.  The filter's program is named, so that a release finds
 * the connections checkpoint held and no other.
 */

bool ckpt_tcp_is_held(struct sock *sk)
{
	struct sk_filter *f;
	bool held;

	rcu_read_lock();
	f = rcu_dereference(sk->sk_filter);
	held = (tcp_sk(sk)->repair || sk->sk_state == TCP_LISTEN) && f &&
	       !strcmp(f->prog->aux->name, CKPT_TCP_HOLD_NAME);
	rcu_read_unlock();
	return held;
}

/*
 * The hold filter takes the place of the program's own classic filter,
 * which it keeps as its original program (what SO_GET_FILTER reads, and
 * checkpoint saves): ckpt_tcp_unhold() attaches it again.
 */
static int ckpt_tcp_hold(struct sock *sk)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sk_filter *old, *fp = NULL;
	int ret;

	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	lock_sock(sk);
	old = rcu_dereference_protected(sk->sk_filter, lockdep_sock_is_held(sk));
	ret = -EBUSY;
	/* an eBPF filter has no original program: refused before */
	if ((!old || old->prog->orig_prog) && !tcp_sk(sk)->repair) {
		fp = ckpt_sk_filter_new(&drop, 1, old ? old->prog->orig_prog : NULL,
					CKPT_TCP_HOLD_NAME);
		ret = IS_ERR(fp) ? PTR_ERR(fp) : ckpt_sk_filter_swap(sk, fp);
	}
	release_sock(sk);
	if (ret) {
		if (!IS_ERR_OR_NULL(fp))
			ckpt_sk_filter_free(fp);
		return ret;
	}
	/* a segment that passed the filter before is in the queues now */
	synchronize_net();
	lock_sock(sk);
	/* a listener only drops (SYNs too): nothing waits in its backlog */
	if (sk->sk_state != TCP_LISTEN) {
		tcp_sk(sk)->repair = 1;
		tcp_sk(sk)->repair_queue = TCP_NO_QUEUE;
	}
	release_sock(sk);
	return 0;
}

static int ckpt_tcp_accept_get(struct sock *sk, struct sock **socks, int max);

/*
 * out of hold: repair mode ends as TCP_REPAIR_OFF ends it (a window probe:
 * the peer retransmits what was dropped), with the socket's SO_REUSEADDR
 * kept; the filter goes.  A listener's: the connections of its accept
 * queue that checkpoint held too.
 */
/*
 * the program's own filter again in place of the hold filter (under the
 * socket's lock, SO_LOCK_FILTER or not); none if it had none
 */
static void ckpt_tcp_unhold_filter(struct sock *sk)
{
	struct sk_filter *held, *fp = NULL;
	struct sock_fprog_kern *own;

	held = rcu_dereference_protected(sk->sk_filter, lockdep_sock_is_held(sk));
	own = held->prog->orig_prog;
	if (own) {
		fp = ckpt_sk_filter_new(own->filter, own->len, own, NULL);
		if (IS_ERR(fp) || ckpt_sk_filter_swap(sk, fp)) {
			if (!IS_ERR(fp))
				ckpt_sk_filter_free(fp);
			pr_warn("socket of port %u released without its filter (no memory)\n",
				inet_sk(sk)->inet_num);
			fp = NULL;
		} else {
			return;
		}
	}
	ckpt_sk_filter_swap(sk, NULL);
}

static void ckpt_tcp_unhold(struct sock *sk)
{
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
		int max = READ_ONCE(sk->sk_max_ack_backlog) + 1;
		struct sock **socks = kvcalloc(max, sizeof(*socks), GFP_KERNEL);
		int n = socks ? ckpt_tcp_accept_get(sk, socks, max) : 0;

		while (n-- > 0) {
			ckpt_tcp_unhold(socks[n]);
			sock_put(socks[n]);
		}
		kvfree(socks);
	}
	lock_sock(sk);
	if (ckpt_tcp_is_held(sk)) {
		ckpt_tcp_unhold_filter(sk);
		if (tcp_sk(sk)->repair) {
			tcp_sk(sk)->repair = 0;
			tcp_sk(sk)->repair_queue = TCP_NO_QUEUE;
			if (sk->sk_state == TCP_ESTABLISHED)
				tcp_send_window_probe(sk);
		}
	}
	release_sock(sk);
}

/* a failed checkpoint: the connections it held run on */
void checkpoint_inet_unhold(struct ckpt_sk *e)
{
	if (e->held)
		ckpt_tcp_unhold(e->sk);
	e->held = false;
}

/* CHECKPOINT_TCP_RELEASE: the held connection of @file, if it is one */
int checkpoint_inet_release(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct socket *sock = sock_from_file(file);
	struct sock *sk = sock ? sock->sk : NULL;

	if (!sk || !ckpt_family_inet(sk->sk_family) || !ckpt_inet_tcp(sk) ||
	    !ckpt_tcp_is_held(sk))
		return 0;
	if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return ckpt_err(ctx, -EPERM,
				"fd %d: releasing a held TCP connection needs CAP_NET_ADMIN",
				fd);
	ckpt_tcp_unhold(sk);
	ckpt_msg(ctx, "fd %d: TCP connection released", fd);
	return 1;
}

/*
 * CHECKPOINT_TCP_HOLD: hold @sk if it is a listener or a connection (a
 * held listener drops SYNs and the ACKs that end a handshake: its accept
 * queue grows no more, and its connections are held as it is saved)
 */
static int ckpt_tcp_hold_one(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct ckpt_sk *e = ckpt_sk_get(ctx, ckpt_sk_id(ctx, sk));
	int state = READ_ONCE(sk->sk_state), ret;

	if (!ckpt_tcp_has_peer(state) && state != TCP_LISTEN)
		return 0;
	ret = e ? ckpt_tcp_hold(sk) : -EINVAL;
	if (ret)
		return ckpt_err(ctx, ret,
				"fd %d: cannot hold its TCP %s (CHECKPOINT_TCP_HOLD needs CAP_NET_ADMIN)",
				fd, state == TCP_LISTEN ? "listener" : "connection");
	e->held = true;
	return 0;
}

/*
 * checkpoint: an established connection's sequence numbers, windows,
 * options and queues, read from the tcp_sock under its lock (what CRIU
 * reads with TCP_REPAIR): a TCP record and two BUFFERs.  @who names it in
 * the log: "fd N", or a connection of listener fd N's accept queue.
 */
static int ckpt_tcp_save(struct ckpt_ctx *ctx, struct sock *sk, int state,
			 const char *who)
{
	struct ckpt_hdr_socket_tcp t = { };
	struct tcp_sock *tp = tcp_sk(sk);
	u8 *sq = NULL, *rq = NULL;
	struct sk_buff *skb;
	u32 sent = 0, rcvd = 0, fin, fin_read, fin_out;
	int ret = 0, n;

	/* a FIN is a sequence number of its own, not a byte of the queue */
	fin = ckpt_tcp_fin_rcvd(state);
	/* ours, not yet acknowledged (FIN_WAIT2: it was) */
	fin_out = ckpt_tcp_fin_sent(state) && state != TCP_FIN_WAIT2;
	lock_sock(sk);
	if (!RB_EMPTY_ROOT(&tp->out_of_order_queue) || tp->urg_data ||
	    READ_ONCE(sk->sk_state) != state ||
	    (fin_out && tp->write_seq == tp->snd_una)) {
		release_sock(sk);
		return ckpt_err(ctx, -EAGAIN,
				"%s: its TCP connection changed while it was saved (out-of-order or urgent data, or closed)",
				who);
	}
	/* a reader that got the EOF took the FIN's sequence number */
	fin_read = fin && tp->copied_seq == tp->rcv_nxt;
	t.send_seq = tp->snd_una;
	t.send_len = tp->write_seq - tp->snd_una - fin_out;
	t.recv_seq = tp->copied_seq - fin_read;
	t.recv_len = tp->rcv_nxt - t.recv_seq - fin;
	if (fin)
		t.flags |= CKPT_TCP_FIN_RCVD;
	if (fin_read)
		t.flags |= CKPT_TCP_FIN_READ;
	if (ckpt_tcp_fin_sent(state))
		t.flags |= CKPT_TCP_FIN_SENT;
	t.snd_wl1 = tp->snd_wl1;
	t.snd_wnd = tp->snd_wnd;
	t.max_window = tp->max_window;
	t.rcv_wnd = tp->rcv_wnd;
	t.rcv_wup = tp->rcv_wup;
	t.mss_clamp = tp->rx_opt.mss_clamp;
	t.snd_wscale = tp->rx_opt.snd_wscale;
	t.rcv_wscale = tp->rx_opt.rcv_wscale;
	if (tp->rx_opt.wscale_ok)
		t.flags |= CKPT_TCP_WSCALE;
	if (tp->rx_opt.sack_ok)
		t.flags |= CKPT_TCP_SACK;
	if (tp->rx_opt.tstamp_ok)
		t.flags |= CKPT_TCP_TSTAMP;
	t.timestamp = tcp_time_stamp_raw() + tp->tsoffset;
	if (t.send_len > CKPT_SOCK_QUEUE_MAX || t.recv_len > CKPT_SOCK_QUEUE_MAX) {
		ret = -E2BIG;
		goto unlock;
	}
	sq = kvmalloc(max_t(u32, t.send_len, 1), GFP_KERNEL);
	rq = kvmalloc(max_t(u32, t.recv_len, 1), GFP_KERNEL);
	if (!sq || !rq) {
		ret = -ENOMEM;
		goto unlock;
	}
	skb_rbtree_walk(skb, &sk->tcp_rtx_queue) {
		n = ckpt_tcp_copy(skb, t.send_seq, t.send_len, sq);
		ret = n < 0 ? n : ret;
		sent += max(n, 0);
	}
	skb_queue_walk(&sk->sk_write_queue, skb) {
		n = ckpt_tcp_copy(skb, t.send_seq, t.send_len, sq);
		ret = n < 0 ? n : ret;
		sent += max(n, 0);
	}
	skb_queue_walk(&sk->sk_receive_queue, skb) {
		n = ckpt_tcp_copy(skb, t.recv_seq, t.recv_len, rq);
		ret = n < 0 ? n : ret;
		rcvd += max(n, 0);
	}
	if (!ret && (sent != t.send_len || rcvd != t.recv_len))
		ret = -EBUSY;
unlock:
	release_sock(sk);
	if (ret)
		ckpt_err(ctx, ret == -E2BIG ? -EOPNOTSUPP : ret,
			 "%s: cannot read the queues of its TCP connection (%u of %u bytes to send, %u of %u received)",
			 who, sent, t.send_len, rcvd, t.recv_len);
	if (!ret)
		ret = ckpt_write_obj(ctx, &t, CKPT_HDR_SOCKET_TCP, sizeof(t));
	if (!ret)
		ret = ckpt_sk_write_buffer(ctx, sq, t.send_len);
	if (!ret)
		ret = ckpt_sk_write_buffer(ctx, rq, t.recv_len);
	kvfree(sq);
	kvfree(rq);
	return ret;
}

/*
 * checkpoint: a connection in SYN_SENT, still so under its lock (held, its
 * SYN-ACK is dropped): a TCP record of its initial sequence number, MSS
 * clamp and timestamp, and two empty BUFFERs
 */
static int ckpt_tcp_save_syn_sent(struct ckpt_ctx *ctx, struct sock *sk,
				  const char *who)
{
	struct ckpt_hdr_socket_tcp t = { };
	struct tcp_sock *tp = tcp_sk(sk);
	int ret;

	lock_sock(sk);
	ret = sk->sk_state == TCP_SYN_SENT && tp->write_seq == tp->snd_una + 1 &&
	      !tp->fastopen_req ? 0 : -EAGAIN;
	t.send_seq = tp->snd_una;
	t.mss_clamp = tp->rx_opt.mss_clamp;
	t.timestamp = tcp_time_stamp_raw() + tp->tsoffset;
	release_sock(sk);
	if (ret)
		return ckpt_err(ctx, ret,
				"%s: its TCP connection changed while it was saved (no longer in SYN_SENT)",
				who);
	ret = ckpt_write_obj(ctx, &t, CKPT_HDR_SOCKET_TCP, sizeof(t));
	if (!ret)
		ret = ckpt_sk_write_buffer(ctx, NULL, 0);
	if (!ret)
		ret = ckpt_sk_write_buffer(ctx, NULL, 0);
	return ret;
}

/* @sk's end (@peer: the other one) as getsockname() (getpeername()) has it */
static u32 ckpt_inet_name(struct sock *sk, bool peer, u8 *buf)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)buf;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)buf;
	struct ckpt_inet_ends e;

	ckpt_inet_ends(sk, &e);
	if (sk->sk_family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = peer ? e.rport : e.lport;
		sin->sin_addr.s_addr = (peer ? e.raddr : e.laddr).s6_addr32[3];
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = peer ? e.rport : e.lport;
	sin6->sin6_addr = peer ? e.raddr : e.laddr;
	return sizeof(*sin6);
}

/* references to the connections of @sk's accept queue, in order; how many */
static int ckpt_tcp_accept_get(struct sock *sk, struct sock **socks, int max)
{
	struct request_sock_queue *q = &inet_csk(sk)->icsk_accept_queue;
	struct request_sock *req;
	int n = 0;

	spin_lock_bh(&q->rskq_lock);
	for (req = q->rskq_accept_head; req; req = req->dl_next) {
		if (n == max) {
			n = -EAGAIN;
			break;
		}
		sock_hold(req->sk);
		socks[n++] = req->sk;
	}
	spin_unlock_bh(&q->rskq_lock);
	if (n < 0)
		while (max--)
			sock_put(socks[max]);
	return n;
}

/*
 * a connection waiting to be accepted that restart cannot make again as it
 * is: its state, options other than its listener's (restart gives it the
 * listener's inet ones), socket-level ones that a listener passes on
 * (SO_SNDBUF, SO_RCVBUF, SO_TIMESTAMP*, SO_RXQ_OVFL, SO_PRIORITY, SO_MARK,
 * SO_RCVTIMEO, SO_SNDTIMEO, SO_RCVLOWAT) or an error pending, an interface
 * it is bound to (link-local), or what ckpt_tcp_classify() refuses; or NULL
 */
static const char *ckpt_tcp_conn_unsupported(struct sock *lsk, struct sock *sk)
{
	struct ckpt_hdr_socket_tcpopt lto, to;
	struct ckpt_hdr_socket_inet lo, o;
	int state = READ_ONCE(sk->sk_state);

	if (!ckpt_tcp_waiting(state))
		return ckpt_tcp_state(state);
	if (!RB_EMPTY_ROOT(&tcp_sk(sk)->out_of_order_queue) ||
	    tcp_sk(sk)->urg_data)
		return "out-of-order or urgent data";
	if (tcp_sk(sk)->write_seq != tcp_sk(sk)->snd_una)
		return "data to send";
	if (READ_ONCE(sk->sk_bound_dev_if) != READ_ONCE(lsk->sk_bound_dev_if) ||
	    ckpt_inet_unsupported(sk))
		return "an interface or an option not supported";
	if (!ckpt_inet_ip_same(lsk, sk))
		return "IP options unlike its listener's";
	if (!ckpt_sk_filter_same(lsk, sk))
		return "a socket filter unlike its listener's";
	ckpt_inet_opts(lsk, &lo);
	ckpt_inet_opts(sk, &o);
	/* its window clamp is the kernel's: made again from the listener's */
	ckpt_tcp_opts(lsk, &lto);
	ckpt_tcp_opts(sk, &to);
	lto.window_clamp = 0;
	to.window_clamp = 0;
	/* a listener's own: a connection has no fast open queue */
	lto.fastopen_qlen = 0;
	if (memcmp(&lto, &to, sizeof(to)))
		return "TCP options unlike its listener's";
	if (memcmp(&lo, &o, sizeof(o)) || sk->sk_reuse != lsk->sk_reuse ||
	    sock_flag(sk, SOCK_KEEPOPEN) != sock_flag(lsk, SOCK_KEEPOPEN) ||
	    (tcp_sk(sk)->nonagle & TCP_NAGLE_OFF) !=
	    (tcp_sk(lsk)->nonagle & TCP_NAGLE_OFF) ||
	    sk->sk_ipv6only != lsk->sk_ipv6only ||
	    (sk->sk_userlocks & (SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK)) ||
	    sock_flag(sk, SOCK_RCVTSTAMP) || sock_flag(sk, SOCK_RXQ_OVFL) ||
	    sk->sk_reuseport != lsk->sk_reuseport ||
	    READ_ONCE(sk->sk_priority) != (o.tos ? rt_tos2priority(o.tos) : 0) ||
	    READ_ONCE(sk->sk_mark) ||
	    READ_ONCE(sk->sk_rcvtimeo) != MAX_SCHEDULE_TIMEOUT ||
	    READ_ONCE(sk->sk_sndtimeo) != MAX_SCHEDULE_TIMEOUT ||
	    READ_ONCE(sk->sk_rcvlowat) != 1 || READ_ONCE(sk->sk_err))
		return "options unlike its listener's or SO_* ones it lacks";
	return NULL;
}

/*
 * checkpoint: a listener's accept queue, the established connections that
 * accept() returns next, in its order (SOCKET_ACCEPT, then for each a
 * SOCKET_CONN and what ckpt_tcp_save() writes of an established one);
 * with CHECKPOINT_TCP_HOLD each is held before it is read (its listener
 * is: the queue no longer grows).  Half-open requests are left: restart
 * has none (kernel/README.md).
 */
static int ckpt_tcp_accept_save(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct ckpt_hdr_socket_accept a = { };
	struct ckpt_hdr_socket_conn *c;
	struct sockaddr_storage ss;
	struct ckpt_inet_ends e;
	struct sock **socks;
	const char *why;
	char who[64];
	int i, n, max, ret = 0;

	max = READ_ONCE(sk->sk_max_ack_backlog) + 1;
	socks = kvcalloc(max, sizeof(*socks), GFP_KERNEL);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!socks || !c) {
		ret = -ENOMEM;
		goto out;
	}
	n = ckpt_tcp_accept_get(sk, socks, max);
	if (n < 0) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "fd %d: TCP listener with more connections waiting to be accepted than its backlog %d + 1 (listen() again with less): not supported",
			       fd, max - 1);
		n = 0;
		goto out;
	}
	if (inet_csk_reqsk_queue_len(sk))
		ckpt_msg(ctx,
			 "fd %d: TCP listener: %d half-open connection requests (SYN_RECV) not saved",
			 fd, inet_csk_reqsk_queue_len(sk));
	for (i = 0; i < n && !ret; i++) {
		why = ckpt_tcp_conn_unsupported(sk, socks[i]);
		ckpt_inet_ends(socks[i], &e);
		if (why)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: TCP connection %d waiting to be accepted, from %pISpc, with %s: not supported",
				       fd, i, ckpt_inet_sa(&ss, &e.raddr, e.rport),
				       why);
	}
	a.nconns = n;
	if (!ret)
		ret = ckpt_write_obj(ctx, &a, CKPT_HDR_SOCKET_ACCEPT, sizeof(a));
	for (i = 0; i < n && !ret; i++) {
		struct sock *csk = socks[i];

		snprintf(who, sizeof(who), "fd %d, connection %d waiting to be accepted",
			 fd, i);
		if (ctx->uflags & CHECKPOINT_TCP_HOLD) {
			ret = ckpt_tcp_hold(csk);
			if (ret) {
				ckpt_err(ctx, ret, "%s: cannot hold it", who);
				break;
			}
		}
		memset(c, 0, sizeof(*c));
		c->family = csk->sk_family;
		c->state = READ_ONCE(csk->sk_state);
		c->laddr_len = ckpt_inet_name(csk, false, c->laddr);
		c->raddr_len = ckpt_inet_name(csk, true, c->raddr);
		ret = ckpt_write_obj(ctx, c, CKPT_HDR_SOCKET_CONN, sizeof(*c));
		if (!ret)
			ret = ckpt_tcp_save(ctx, csk, c->state, who);
	}
out:
	for (i = 0; i < n; i++)
		sock_put(socks[i]);
	kvfree(socks);
	kfree(c);
	return ret;
}

/*
 * checkpoint: what a TCP socket has beyond its SOCKET record: a
 * connection's state (ckpt_tcp_save()), a listener's accept queue
 */
int checkpoint_inet_tcp(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			struct ckpt_hdr_socket *h)
{
	struct sock *sk = sock->sk;
	char who[16];
	int ret, state;

	if (!ckpt_inet_tcp(sk))
		return 0;
	if (ctx->uflags & CHECKPOINT_TCP_HOLD) {
		ret = ckpt_tcp_hold_one(ctx, sk, fd);
		if (ret)
			return ret;
	}
	if (h->flags & CKPT_SOCK_ACCEPTQ)
		return ckpt_tcp_accept_save(ctx, sk, fd);
	state = READ_ONCE(sk->sk_state);
	snprintf(who, sizeof(who), "fd %d", fd);
	if (h->state == TCP_SYN_SENT)
		return ckpt_tcp_save_syn_sent(ctx, sk, who);
	if (!ckpt_tcp_connected(state))
		return 0;
	return ckpt_tcp_save(ctx, sk, state, who);
}

/* the source of a datagram, as an IPv6 address (IPv4 mapped) */
static void ckpt_udp_source(struct sk_buff *skb, struct in6_addr *addr,
			    __be16 *port)
{
	if (IS_ENABLED(CONFIG_IPV6) && skb->protocol == htons(ETH_P_IPV6))
		*addr = ipv6_hdr(skb)->saddr;
	else
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, addr);
	*port = udp_hdr(skb)->source;
}

static bool ckpt_inet_any(const struct in6_addr *a)
{
	return ipv6_addr_any(a) ||
	       (ipv6_addr_v4mapped(a) && !a->s6_addr32[3]);
}

/*
 * the socket of the image of @family bound to @addr:@port (UDP), or 0:
 * restart sends its datagrams again from it, to the receiver's address
 */
static u32 ckpt_udp_sender(struct ckpt_ctx *ctx, struct sock *sk,
			   const struct in6_addr *addr, __be16 port)
{
	struct ckpt_inet_ends it;
	u32 id;

	/* of the receiver's family and protocol (UDP, UDP-Lite) */
	for (id = 1; id <= ctx->socks->n; id++) {
		struct sock *o = ctx->socks->sk[id].sk;

		if (o->sk_family != sk->sk_family || !ckpt_inet_udp(o) ||
		    o->sk_protocol != sk->sk_protocol)
			continue;
		ckpt_inet_ends(o, &it);
		if (it.lport == port &&
		    (ipv6_addr_equal(&it.laddr, addr) || ckpt_inet_any(&it.laddr)))
			return id;
	}
	return 0;
}

/* references to the datagrams of @q, appended to @skbs (@n of @max) */
static int ckpt_udp_get(struct sk_buff_head *q, struct sk_buff **skbs, int n,
			int max)
{
	struct sk_buff *skb;

	spin_lock_bh(&q->lock);
	skb_queue_walk(q, skb) {
		if (n == max) {
			n = -EAGAIN;
			break;
		}
		skbs[n++] = skb_get(skb);
	}
	spin_unlock_bh(&q->lock);
	return n;
}

/*
 * a datagram whose checksum is not checked yet is checked as recvmsg()
 * would (udp_lib_checksum_complete()), without changing the skb: the
 * checksum of its data added to the pseudo header's in skb->csum
 */
static bool ckpt_udp_csum_ok(struct sk_buff *skb)
{
	int len = skb->len;

	if (udp_skb_csum_unnecessary(skb))
		return true;
	/* UDP-Lite's covers its first cscov bytes (udplite_rcv() checked it fits) */
	if (UDP_SKB_CB(skb)->partial_cov)
		len = UDP_SKB_CB(skb)->cscov;
	return !csum_fold(csum_add(skb->csum, skb_checksum(skb, 0, len, 0)));
}

/*
 * checkpoint: an IPv4 datagram from a socket outside the checkpoint, as it
 * came (SOCKET_DGRAM): its addresses and ports, TTL and TOS, the device it
 * came by, what IP_PKTINFO says (ipv4_pktinfo_prepare() stored it in the
 * control block when the socket asked for it), its receive time.
 */
static int ckpt_udp_dgram(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			  struct sk_buff *skb, struct ckpt_hdr_socket_dgram *d)
{
	const struct in_pktinfo *pi = PKTINFO_SKB_CB(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct sockaddr_storage ss;
	struct in6_addr saddr;
	struct net_device *dev;
	int ret = 0;

	ipv6_addr_set_v4mapped(iph->saddr, &saddr);
	if (sk->sk_family != AF_INET || skb->protocol != htons(ETH_P_IP))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: UDP datagram queued from %pISpc, a socket outside the checkpoint, on an IPv6 socket: not supported",
				fd, ckpt_inet_sa(&ss, &saddr, udp_hdr(skb)->source));
	if (iph->ihl != 5)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: UDP datagram queued from %pISpc with IP options: not supported",
				fd, ckpt_inet_sa(&ss, &saddr, udp_hdr(skb)->source));
	memcpy(d->saddr, &saddr, sizeof(d->saddr));
	ipv6_addr_set_v4mapped(iph->daddr, (struct in6_addr *)d->daddr);
	d->sport = (__force __u16)udp_hdr(skb)->source;
	d->dport = (__force __u16)udp_hdr(skb)->dest;
	d->ttl = iph->ttl;
	d->tos = iph->tos;
	d->tstamp = ktime_to_ns(skb->tstamp);
	if (pi->ipi_ifindex || pi->ipi_spec_dst.s_addr) {
		d->flags |= CKPT_DGRAM_PKTINFO;
		d->spec_dst = (__force __u32)pi->ipi_spec_dst.s_addr;
	}
	rcu_read_lock();
	dev = skb->skb_iif ? dev_get_by_index_rcu(sock_net(sk), skb->skb_iif) :
			     NULL;
	if (dev)
		strscpy(d->ifname, dev->name, sizeof(d->ifname));
	if ((skb->skb_iif && !dev) || (pi->ipi_ifindex &&
				       pi->ipi_ifindex != skb->skb_iif))
		ret = -EOPNOTSUPP;
	rcu_read_unlock();
	if (ret)
		return ckpt_err(ctx, ret,
				"fd %d: UDP datagram queued from %pISpc by device %d, gone or not its IP_PKTINFO interface %d: not supported",
				fd, ckpt_inet_sa(&ss, &saddr, udp_hdr(skb)->source),
				skb->skb_iif, pi->ipi_ifindex);
	return 0;
}

/*
 * checkpoint: the queue (SOCKET_QUEUE and its messages): none for TCP; a
 * UDP socket's datagrams, each with the socket of the image that sent it
 * (the one bound to its source address): restart sends them again from
 * it, so they keep their source address.
 */
int checkpoint_inet_queue(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			  struct ckpt_hdr_socket *h)
{
	struct ckpt_hdr_socket_queue hq = { };
	struct sock *sk = sock->sk;
	struct sk_buff **skbs = NULL;
	struct sockaddr_storage ss;
	struct ckpt_inet_ends me;
	int i, n = 0, max, ret = 0;

	/* what came since the classification */
	if (ckpt_inet_ping(sk) || ckpt_inet_raw(sk)) {
		ret = ckpt_icmp_queued(ctx, sk, fd);
		if (ret)
			return ret;
	}
	if (ckpt_inet_udp(sk)) {
		max = skb_queue_len_lockless(&udp_sk(sk)->reader_queue) +
		      skb_queue_len_lockless(&sk->sk_receive_queue) + 8;
		if (max > CKPT_SOCK_QUEUE_MSGS)
			return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: %d datagrams queued",
					fd, max);
		skbs = kvcalloc(max, sizeof(*skbs), GFP_KERNEL);
		if (!skbs)
			return -ENOMEM;
		n = ckpt_udp_get(&udp_sk(sk)->reader_queue, skbs, 0, max);
		if (n >= 0)
			n = ckpt_udp_get(&sk->sk_receive_queue, skbs, n, max);
		if (n < 0) {
			ret = ckpt_err(ctx, -EBUSY, "fd %d: its queue grew", fd);
			n = 0;
		}
	}
	for (i = 0; i < n && !ret; i++) {
		hq.nmsgs++;
		hq.bytes += udp_skb_len(skbs[i]);
		if (!ckpt_udp_csum_ok(skbs[i]) ||
		    hq.bytes > CKPT_SOCK_QUEUE_MAX ||
		    udp_skb_len(skbs[i]) > CKPT_SOCK_MSG_MAX)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: a datagram with a bad checksum, or above %u bytes in all: not supported",
				       fd, CKPT_SOCK_QUEUE_MAX);
	}
	if (!ret)
		ret = ckpt_write_obj(ctx, &hq, CKPT_HDR_SOCKET_QUEUE, sizeof(hq));
	ckpt_inet_ends(sk, &me);
	for (i = 0; i < n && !ret; i++) {
		struct ckpt_hdr_socket_msg m = { .len = udp_skb_len(skbs[i]) };
		u8 *data = kvmalloc(max_t(u32, m.len, 1), GFP_KERNEL);
		struct ckpt_hdr_socket_dgram d = { };
		struct in6_addr saddr;
		__be16 sport;

		ckpt_udp_source(skbs[i], &saddr, &sport);
		m.sender_id = ckpt_udp_sender(ctx, sk, &saddr, sport);
		if ((h->flags & CKPT_SOCK_CONNECT) &&
		    (!ipv6_addr_equal(&me.raddr, &saddr) || me.rport != sport))
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: UDP datagram queued from %pISpc, not its peer: not supported",
				       fd, ckpt_inet_sa(&ss, &saddr, sport));
		else if (!data)
			ret = -ENOMEM;
		/* UDP-Lite's coverage is not rebuilt on a datagram from outside */
		else if (!m.sender_id && sk->sk_protocol == IPPROTO_UDPLITE)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: UDP-Lite datagram queued from %pISpc, outside the checkpoint: not supported",
				       fd, ckpt_inet_sa(&ss, &saddr, sport));
		/* from outside: queued again as it came, with its addresses */
		else if (!m.sender_id)
			ret = ckpt_udp_dgram(ctx, sk, fd, skbs[i], &d);
		if (!ret && !m.sender_id)
			m.flags = CKPT_MSG_DGRAM;
		if (!ret)
			ret = skb_copy_bits(skbs[i], 0, data, m.len);
		if (!ret)
			ret = ckpt_write_obj(ctx, &m, CKPT_HDR_SOCKET_MSG, sizeof(m));
		if (!ret && m.sender_id == 0)
			ret = ckpt_write_obj(ctx, &d, CKPT_HDR_SOCKET_DGRAM,
					     sizeof(d));
		if (!ret)
			ret = ckpt_sk_write_buffer(ctx, data, m.len);
		kvfree(data);
	}
	for (i = 0; i < n; i++)
		kfree_skb(skbs[i]);
	kvfree(skbs);
	return ret;
}

/*
 * restart: the SOCKET_DGRAM of message @m (CKPT_MSG_DGRAM), read into it
 * and checked: an IPv4 UDP socket's, no sender, IPv4 addresses, a length
 * an IPv4 datagram can have, a device name that ends.
 */
int restore_inet_dgram_read(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			    struct ckpt_sk_msg *m)
{
	struct ckpt_hdr_socket_dgram *d = &m->dgram;
	int ret;

	if (e->h.family != AF_INET || e->h.type != SOCK_DGRAM ||
	    e->h.protocol != IPPROTO_UDP || m->h.flags != CKPT_MSG_DGRAM ||
	    m->h.sender_id || m->h.nfds ||
	    m->h.len > U16_MAX - sizeof(struct iphdr) - sizeof(struct udphdr))
		return -EINVAL;
	ret = ckpt_read_obj(ctx, &d->h, CKPT_HDR_SOCKET_DGRAM, sizeof(*d));
	if (ret)
		return ret;
	if ((d->flags & ~CKPT_DGRAM_FLAGS) || d->_padding || d->_padding2 ||
	    !ipv6_addr_v4mapped((struct in6_addr *)d->saddr) ||
	    !ipv6_addr_v4mapped((struct in6_addr *)d->daddr) ||
	    (!(d->flags & CKPT_DGRAM_PKTINFO) && d->spec_dst) ||
	    strnlen(d->ifname, sizeof(d->ifname)) == sizeof(d->ifname) ||
	    d->tstamp < 0)
		return -EINVAL;
	return 0;
}

/*
 * restart: a datagram that came from outside, queued again as it came:
 * its IP and UDP headers made from the record (checksum checked), received
 * by the device of its name (ENODEV if the machine lacks it), with what
 * IP_PKTINFO gives and its receive time, through the queueing of
 * udp_queue_rcv_one_skb() after its checks
 */
static int restore_udp_dgram(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			     struct sock *sk, struct ckpt_sk_msg *m)
{
	const struct ckpt_hdr_socket_dgram *d = &m->dgram;
	u32 hlen = sizeof(struct iphdr) + sizeof(struct udphdr);
	struct in_pktinfo *pi;
	struct net_device *dev;
	struct sk_buff *skb;
	struct udphdr *uh;
	struct iphdr *iph;
	int ifindex = 0;
	int ret;

	if (d->ifname[0]) {
		dev = dev_get_by_name(sock_net(sk), d->ifname);
		if (!dev)
			return ckpt_err(ctx, -ENODEV,
					"socket %u: no device %s that its queued datagram came by",
					e->h.sk_id, d->ifname);
		ifindex = dev->ifindex;
		dev_put(dev);
	}
	skb = alloc_skb(hlen + m->h.len, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	skb_reset_network_header(skb);
	iph = skb_put_zero(skb, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = d->tos;
	iph->tot_len = htons(hlen + m->h.len);
	iph->ttl = d->ttl;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = ((struct in6_addr *)d->saddr)->s6_addr32[3];
	iph->daddr = ((struct in6_addr *)d->daddr)->s6_addr32[3];
	ip_send_check(iph);
	skb_set_transport_header(skb, sizeof(*iph));
	uh = skb_put_zero(skb, sizeof(*uh));
	uh->source = (__force __be16)d->sport;
	uh->dest = (__force __be16)d->dport;
	uh->len = htons(sizeof(*uh) + m->h.len);
	skb_put_data(skb, m->data + 1, m->h.len);
	__skb_pull(skb, hlen);
	skb->protocol = htons(ETH_P_IP);
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->skb_iif = ifindex;
	skb->tstamp = ns_to_ktime(d->tstamp);
	pi = PKTINFO_SKB_CB(skb);
	if (d->flags & CKPT_DGRAM_PKTINFO) {
		pi->ipi_ifindex = ifindex;
		pi->ipi_spec_dst.s_addr = (__force __be32)d->spec_dst;
	}
	/* as the softirq of its receive does; a drop (the queue full) is an
	 * error, the skb then ours to free
	 */
	local_bh_disable();
	ret = __udp_enqueue_schedule_skb(sk, skb);
	local_bh_enable();
	if (ret < 0)
		kfree_skb(skb);
	if (ret < 0)
		return ckpt_err(ctx, -ENOBUFS,
				"socket %u: its queue took no more datagrams",
				e->h.sk_id);
	return 0;
}

static u32 restore_udp_queued(struct sock *sk)
{
	return skb_queue_len_lockless(&udp_sk(sk)->reader_queue) +
	       skb_queue_len_lockless(&sk->sk_receive_queue);
}

/* loopback delivers from the softirq that the send ran: the first @n */
static int restore_udp_wait(struct sock *sk, u32 n)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (restore_udp_queued(sk) >= n)
			return 0;
		msleep(20);
	}
	return -EAGAIN;
}

/* restart: the datagrams of a UDP socket, sent again by their senders */
int restore_inet_refill(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct sockaddr_storage to = { };
	struct sockaddr_in *sin = (struct sockaddr_in *)&to;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
	struct sock *sk;
	u32 i;
	int ret = 0;

	if (!e->nmsgs)
		return 0;
	sk = sock_from_file(e->file)->sk;
	memcpy(&to, e->h.laddr, min_t(u32, e->h.laddr_len, sizeof(to)));
	/* to its own address: loopback if it is bound to any */
	if (e->h.family == AF_INET && !sin->sin_addr.s_addr)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (e->h.family == AF_INET6 && ipv6_addr_any(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
	WRITE_ONCE(sk->sk_rcvbuf, INT_MAX / 2);
	for (i = 0; i < e->nmsgs && !ret; i++) {
		struct ckpt_sk_msg *m = &e->msgs[i];
		struct ckpt_sk *se = ckpt_sk_get(ctx, m->h.sender_id);
		struct msghdr msg = { .msg_name = &to,
				      .msg_namelen = e->h.laddr_len,
				      .msg_flags = MSG_DONTWAIT };
		struct kvec vec = { .iov_base = m->data + 1, .iov_len = m->h.len };

		/* after the ones before it, sent and delivered */
		if (m->h.flags & CKPT_MSG_DGRAM) {
			ret = restore_udp_wait(sk, i);
			if (!ret)
				ret = restore_udp_dgram(ctx, e, sk, m);
			if (ret)
				return ret == -EAGAIN ? ckpt_err(ctx, ret,
					"socket %u: cannot queue its datagrams again",
					e->h.sk_id) : ret;
			continue;
		}
		if (!se || !se->file || m->h.sender_id > ctx->socks->n ||
		    se->h.family != e->h.family || se->h.type != SOCK_DGRAM ||
		    se->h.protocol != e->h.protocol || m->h.flags || m->h.nfds)
			ret = -EINVAL;
		else
			ret = kernel_sendmsg(sock_from_file(se->file), &msg, &vec,
					     1, m->h.len);
		ret = ret < 0 ? ret : (ret == m->h.len ? 0 : -EMSGSIZE);
	}
	if (!ret)
		ret = restore_udp_wait(sk, e->nmsgs);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot queue its datagrams again",
				e->h.sk_id);
	return 0;
}

static bool restore_inet_addr_ok(const u8 *buf, u32 len, int family)
{
	const struct sockaddr *sa = (const struct sockaddr *)buf;

	if (!len)
		return true;
	if (family == AF_INET)
		return len == sizeof(struct sockaddr_in) && sa->sa_family == AF_INET;
	return len == sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6;
}

int restore_inet_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h)
{
	bool tcp = h->type == SOCK_STREAM && h->protocol == IPPROTO_TCP;
	bool udp = h->type == SOCK_DGRAM &&
		   (h->protocol == IPPROTO_UDP || h->protocol == IPPROTO_UDPLITE);
	bool raw = h->type == SOCK_RAW && h->protocol && h->protocol < 256;
	u32 id = h->sk_id, f = h->flags;

	/* a ping or raw socket is like a UDP one here */
	if (ckpt_ping_proto(h->family, h->type, h->protocol) || raw)
		udp = true;
	if (!tcp && !udp)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad type %u protocol %u",
				id, h->type, h->protocol);
	if ((tcp && h->state != TCP_CLOSE && h->state != TCP_LISTEN &&
	     !ckpt_tcp_has_peer(h->state)) ||
	    (udp && h->state != TCP_CLOSE && h->state != TCP_ESTABLISHED))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad state %u", id,
				h->state);
	if (f & ~CKPT_SOCK_INET_FLAGS || h->peer_id ||
	    ((f & CKPT_SOCK_V6ONLY) && h->family != AF_INET6) ||
	    !restore_inet_addr_ok(h->laddr, h->laddr_len, h->family) ||
	    !restore_inet_addr_ok(h->raddr, h->raddr_len, h->family) ||
	    !(f & CKPT_SOCK_BOUND) != !h->laddr_len ||
	    !(f & CKPT_SOCK_CONNECT) != !h->raddr_len ||
	    (udp && (f & (CKPT_SOCK_NODELAY | CKPT_SOCK_TCP_OPTS))) ||
	    (tcp && !(f & CKPT_SOCK_CONNECT) != !ckpt_tcp_has_peer(h->state)) ||
	    (!tcp && !(f & CKPT_SOCK_CONNECT) != !ckpt_tcp_connected(h->state)) ||
	    (ckpt_tcp_has_peer(h->state) && !(f & CKPT_SOCK_BOUND)) ||
	    (h->state == TCP_LISTEN && !(f & CKPT_SOCK_BOUND)) ||
	    ((f & CKPT_SOCK_ACCEPTQ) && (!tcp || h->state != TCP_LISTEN)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad address or flags %#x",
				id, f);
	return 0;
}

/* restart: SOCKET_INET, checked */
static int restore_inet_read_opts(struct ckpt_ctx *ctx,
				  struct ckpt_hdr_socket *h,
				  struct ckpt_hdr_socket_inet *o)
{
	bool tcp = h->type == SOCK_STREAM;
	int ret;

	ret = ckpt_read_obj(ctx, o, CKPT_HDR_SOCKET_INET, sizeof(*o));
	if (ret)
		return ret;
	if (o->flags & ~CKPT_INET_FLAGS ||
	    (!(o->flags & CKPT_INET_LINGER) && o->linger_s) ||
	    (o->ttl != -1 && (o->ttl < 1 || o->ttl > 255)) ||
	    o->keepcnt > MAX_TCP_KEEPCNT || o->keepidle > MAX_TCP_KEEPIDLE ||
	    o->keepintvl > MAX_TCP_KEEPINTVL || o->user_timeout > INT_MAX ||
	    (o->maxseg && (o->maxseg < TCP_MIN_MSS || o->maxseg > MAX_TCP_WINDOW)) ||
	    (!tcp && (o->keepcnt || o->keepidle || o->keepintvl ||
		      o->user_timeout || o->maxseg || (o->flags & CKPT_INET_CORK))))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad inet options",
				h->sk_id);
	return 0;
}

/* restart: SOCKET_TCPOPT, checked */
static int restore_tcp_read_opts(struct ckpt_ctx *ctx,
				 struct ckpt_hdr_socket *h,
				 struct ckpt_hdr_socket_tcpopt *to)
{
	int ret;

	ret = ckpt_read_obj(ctx, to, CKPT_HDR_SOCKET_TCPOPT, sizeof(*to));
	if (ret)
		return ret;
	if (to->flags & ~CKPT_TCPOPT_FLAGS ||
	    (to->fastopen_qlen && ((h->state != TCP_LISTEN &&
				    h->state != TCP_CLOSE) ||
				   to->fastopen_qlen > INT_MAX)) ||
	    !memchr(to->congestion, 0, sizeof(to->congestion)) ||
	    to->window_clamp > INT_MAX || to->tx_delay > INT_MAX)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad TCP options",
				h->sk_id);
	return 0;
}

static int restore_inet_opt(struct socket *sock, int level, int opt)
{
	int one = 1;

	if (level == SOL_SOCKET)
		return sk_setsockopt(sock->sk, level, opt, KERNEL_SOCKPTR(&one),
				     sizeof(one));
	return sock->ops->setsockopt(sock, level, opt, KERNEL_SOCKPTR(&one),
				     sizeof(one));
}

static int restore_inet_setint(struct socket *sock, int level, int opt,
			       int val)
{
	return sock->ops->setsockopt(sock, level, opt, KERNEL_SOCKPTR(&val),
				     sizeof(val));
}

static int restore_tcp_opt(struct socket *sock, int opt, int val)
{
	return restore_inet_setint(sock, SOL_TCP, opt, val);
}

/* restart: the options of SOCKET_INET, as setsockopt() sets them; what failed */
static const char *restore_inet_set_opts(struct socket *sock,
					 struct ckpt_hdr_socket_inet *o)
{
	struct linger l = { .l_onoff = 1, .l_linger = o->linger_s };

	if ((o->flags & CKPT_INET_LINGER) &&
	    sk_setsockopt(sock->sk, SOL_SOCKET, SO_LINGER, KERNEL_SOCKPTR(&l),
			  sizeof(l)))
		return "SO_LINGER";
	if (o->ttl != -1 && restore_inet_setint(sock, SOL_IP, IP_TTL, o->ttl))
		return "IP_TTL";
	if (o->tos && restore_inet_setint(sock, SOL_IP, IP_TOS, o->tos))
		return "IP_TOS";
	if (sock->sk->sk_type != SOCK_STREAM)
		return NULL;
	if ((o->flags & CKPT_INET_CORK) && restore_tcp_opt(sock, TCP_CORK, 1))
		return "TCP_CORK";
	if (o->maxseg && restore_tcp_opt(sock, TCP_MAXSEG, o->maxseg))
		return "TCP_MAXSEG";
	if (o->keepidle && restore_tcp_opt(sock, TCP_KEEPIDLE, o->keepidle))
		return "TCP_KEEPIDLE";
	if (o->keepintvl && restore_tcp_opt(sock, TCP_KEEPINTVL, o->keepintvl))
		return "TCP_KEEPINTVL";
	if (o->keepcnt && restore_tcp_opt(sock, TCP_KEEPCNT, o->keepcnt))
		return "TCP_KEEPCNT";
	if (o->user_timeout &&
	    restore_tcp_opt(sock, TCP_USER_TIMEOUT, o->user_timeout))
		return "TCP_USER_TIMEOUT";
	return NULL;
}

/* the flags of SOCKET_TCPOPT, by bit, set before the bind */
static const struct {
	u32 flag;
	int opt;
	const char *name;
} ckpt_tcpopt_flags[] = {
	{ CKPT_TCPOPT_THIN_LTO, TCP_THIN_LINEAR_TIMEOUTS,
	  "TCP_THIN_LINEAR_TIMEOUTS" },
	{ CKPT_TCPOPT_INQ, TCP_INQ, "TCP_INQ" },
	{ CKPT_TCPOPT_FO_NO_COOKIE, TCP_FASTOPEN_NO_COOKIE,
	  "TCP_FASTOPEN_NO_COOKIE" },
	{ CKPT_TCPOPT_FO_CONNECT, TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT" },
};

/*
 * restart: the congestion control of SOCKET_TCPOPT, by TCP_CONGESTION's
 * code (tcp_set_congestion_control(), with its check: an algorithm
 * outside net.ipv4.tcp_allowed_congestion_control needs CAP_NET_ADMIN),
 * on the new socket (TCP_CLOSE: it takes icsk_ca_ops, which the
 * connection, made after, initializes as connect() does)
 */
static int restore_tcp_congestion(struct ckpt_ctx *ctx,
				  struct ckpt_hdr_socket *h,
				  struct socket *sock, char *name)
{
	int ret;

	ret = sock->ops->setsockopt(sock, SOL_TCP, TCP_CONGESTION,
				    KERNEL_SOCKPTR(name), strlen(name));
	if (ret == -ENOENT)
		return ckpt_err(ctx, ret,
				"socket %u: congestion control %s (TCP_CONGESTION) is not in this kernel",
				h->sk_id, name);
	if (ret == -EPERM)
		return ckpt_err(ctx, ret,
				"socket %u: congestion control %s (TCP_CONGESTION) is not allowed (net.ipv4.tcp_allowed_congestion_control) without CAP_NET_ADMIN",
				h->sk_id, name);
	if (ret)
		return ckpt_err(ctx, ret,
				"socket %u: cannot set congestion control %s (TCP_CONGESTION)",
				h->sk_id, name);
	return 0;
}

/*
 * restart: the options of SOCKET_TCPOPT that a new socket takes, as
 * setsockopt() sets them; TCP_FASTOPEN_CONNECT of a connection after it is
 * made (restore_tcp_set_late(): on a new socket, connect() would wait for
 * data to send with its SYN), the window clamp of one waiting to be
 * accepted (@child) before it is made, as its listener's went into its
 * handshake
 */
static int restore_tcp_set_opts(struct ckpt_ctx *ctx,
				struct ckpt_hdr_socket *h, struct socket *sock,
				struct ckpt_hdr_socket_tcpopt *to, bool conn,
				bool child)
{
	const char *what = NULL;
	int i, ret;

	if (to->congestion[0]) {
		ret = restore_tcp_congestion(ctx, h, sock, to->congestion);
		if (ret)
			return ret;
	}
	if (to->tx_delay && restore_tcp_opt(sock, TCP_TX_DELAY, to->tx_delay))
		what = "TCP_TX_DELAY";
	/* the queue length as fastopen_queue_tune() keeps it: below somaxconn */
	if (!what && to->fastopen_qlen && !conn && !child &&
	    (restore_tcp_opt(sock, TCP_FASTOPEN, to->fastopen_qlen) ||
	     READ_ONCE(inet_csk(sock->sk)->icsk_accept_queue.fastopenq.max_qlen) !=
	     to->fastopen_qlen))
		what = "TCP_FASTOPEN";
	for (i = 0; !what && i < ARRAY_SIZE(ckpt_tcpopt_flags); i++) {
		if (!(to->flags & ckpt_tcpopt_flags[i].flag) ||
		    (conn && ckpt_tcpopt_flags[i].flag == CKPT_TCPOPT_FO_CONNECT))
			continue;
		ret = restore_tcp_opt(sock, ckpt_tcpopt_flags[i].opt, 1);
		if (ret) {
			what = ckpt_tcpopt_flags[i].name;
			break;
		}
	}
	if (!what && child && to->window_clamp &&
	    restore_tcp_opt(sock, TCP_WINDOW_CLAMP, to->window_clamp))
		what = "TCP_WINDOW_CLAMP";
	if (what)
		return ckpt_err(ctx, -EINVAL, "socket %u: cannot set %s",
				h->sk_id, what);
	return 0;
}

/*
 * restart: the window clamp of SOCKET_TCPOPT once the socket listens or
 * its connection is made (which computes one of its own), by
 * TCP_WINDOW_CLAMP's code, exactly (EINVAL for a value that it would
 * raise); TCP_FASTOPEN_CONNECT of a connection (its setsockopt() takes
 * it only before connect())
 */
static int restore_tcp_set_late(struct ckpt_ctx *ctx,
				struct ckpt_hdr_socket *h, struct socket *sock,
				struct ckpt_hdr_socket_tcpopt *to, bool conn)
{
	struct tcp_sock *tp = tcp_sk(sock->sk);
	int ret = 0;

	if (to->window_clamp) {
		ret = restore_tcp_opt(sock, TCP_WINDOW_CLAMP, to->window_clamp);
		if (!ret && READ_ONCE(tp->window_clamp) != to->window_clamp)
			ret = -EINVAL;
		if (ret)
			return ckpt_err(ctx, ret,
					"socket %u: cannot set TCP_WINDOW_CLAMP %u",
					h->sk_id, to->window_clamp);
	}
	if (conn && (to->flags & CKPT_TCPOPT_FO_CONNECT)) {
		lock_sock(sock->sk);
		tp->fastopen_connect = 1;
		release_sock(sock->sk);
	}
	return 0;
}

/* the options of ckpt_hdr_socket_ip.cmsg_flags, by bit */
static const struct {
	int opt;
	const char *name;
} ckpt_ip_cmsgs[] = {
	{ IP_PKTINFO, "IP_PKTINFO" }, { IP_RECVTTL, "IP_RECVTTL" },
	{ IP_RECVTOS, "IP_RECVTOS" }, { IP_RECVOPTS, "IP_RECVOPTS" },
	{ IP_RETOPTS, "IP_RETOPTS" }, { IP_PASSSEC, "IP_PASSSEC" },
	{ IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR" },
	{ IP_CHECKSUM, "IP_CHECKSUM" }, { IP_RECVFRAGSIZE, "IP_RECVFRAGSIZE" },
};

/* ... and of ckpt_hdr_socket_ip.rxopt (ckpt_ip6_rxopt()) */
static const struct {
	int opt;
	const char *name;
} ckpt_ip6_rxopts[] = {
	{ IPV6_RECVRTHDR, "IPV6_RECVRTHDR" },
	{ IPV6_2292RTHDR, "IPV6_2292RTHDR" },
	{ IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO" },
	{ IPV6_2292PKTINFO, "IPV6_2292PKTINFO" },
	{ IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT" },
	{ IPV6_2292HOPLIMIT, "IPV6_2292HOPLIMIT" },
	{ IPV6_RECVHOPOPTS, "IPV6_RECVHOPOPTS" },
	{ IPV6_2292HOPOPTS, "IPV6_2292HOPOPTS" },
	{ IPV6_RECVDSTOPTS, "IPV6_RECVDSTOPTS" },
	{ IPV6_2292DSTOPTS, "IPV6_2292DSTOPTS" },
	{ IPV6_FLOWINFO, "IPV6_FLOWINFO" },
	{ IPV6_RECVTCLASS, "IPV6_RECVTCLASS" },
	{ IPV6_RECVPATHMTU, "IPV6_RECVPATHMTU" },
	{ IPV6_RECVORIGDSTADDR, "IPV6_RECVORIGDSTADDR" },
	{ IPV6_RECVFRAGSIZE, "IPV6_RECVFRAGSIZE" },
};

static bool restore_ifname_ok(const char *name)
{
	return strnlen(name, IFNAMSIZ) < IFNAMSIZ;
}

/* restart: SOCKET_IP and its SOCKET_MCAST records, checked (kfree() *@pm) */
static int restore_inet_ip_read(struct ckpt_ctx *ctx,
				struct ckpt_hdr_socket *h,
				struct ckpt_hdr_socket_ip *p,
				struct ckpt_hdr_socket_mcast **pm)
{
	bool tcp = h->type == SOCK_STREAM, v6 = h->family == AF_INET6;
	u32 mc6 = CKPT_IP_MC_NOLOOP | CKPT_IP_MC_NOALL | CKPT_IP6_MC_NOLOOP |
		  CKPT_IP6_MC_NOALL;
	struct ckpt_hdr_socket_mcast *m;
	u32 i;
	int ret;

	*pm = NULL;
	ret = ckpt_read_obj(ctx, p, CKPT_HDR_SOCKET_IP, sizeof(*p));
	if (ret)
		return ret;
	if (p->flags & ~CKPT_IP_FLAGS || p->cmsg_flags & ~CKPT_IP_CMSG_FLAGS ||
	    p->rxopt & ~CKPT_IP6_RXOPT || p->pmtudisc > IP_PMTUDISC_OMIT ||
	    p->pmtudisc6 > IPV6_PMTUDISC_OMIT ||
	    p->hop_limit < -1 || p->hop_limit > 255 ||
	    p->mcast_hops < -1 || p->mcast_hops > 255 ||
	    (p->frag_size && p->frag_size < IPV6_MIN_MTU) ||
	    p->frag_size > INT_MAX ||
	    (p->port_lo && p->port_hi && p->port_lo > p->port_hi) ||
	    p->nmcast > CKPT_SOCK_MCAST_MAX ||
	    !restore_ifname_ok(p->bind_dev) || !restore_ifname_ok(p->mc_dev) ||
	    !restore_ifname_ok(p->uc_dev) || !restore_ifname_ok(p->mc6_dev) ||
	    !restore_ifname_ok(p->uc6_dev) ||
	    (!v6 && ((p->flags & CKPT_IP6_FLAGS) || p->rxopt || p->pmtudisc6 ||
		     p->hop_limit != -1 || p->mcast_hops != -1 || p->tclass ||
		     p->min_hopcount || p->frag_size || p->mc6_dev[0] ||
		     p->uc6_dev[0])) ||
	    (tcp && ((p->flags & mc6) || p->mc_ttl != 1 || p->mc_addr ||
		     p->mc_dev[0] || p->mc6_dev[0] || p->nmcast)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad IP options",
				h->sk_id);
	if (!p->nmcast)
		return 0;
	m = kcalloc(p->nmcast, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	for (i = 0; i < p->nmcast && !ret; i++) {
		ret = ckpt_read_obj(ctx, &m[i], CKPT_HDR_SOCKET_MCAST,
				    sizeof(m[i]));
		if (!ret && (!ipv4_is_multicast((__force __be32)m[i].group) ||
			     !m[i].dev[0] || !restore_ifname_ok(m[i].dev)))
			ret = ckpt_err(ctx, -EINVAL,
				       "socket %u: bad multicast membership %u",
				       h->sk_id, i);
	}
	if (ret) {
		kfree(m);
		return ret;
	}
	*pm = m;
	return 0;
}

/* restart: the index of device @name in @sock's netns, 0 for "" */
static int restore_ifindex(struct ckpt_ctx *ctx, u32 id, struct socket *sock,
			   const char *name, const char *opt, int *ifindex)
{
	struct net_device *dev;

	*ifindex = 0;
	if (!name[0])
		return 0;
	dev = dev_get_by_name(sock_net(sock->sk), name);
	if (!dev)
		return ckpt_err(ctx, -ENODEV, "socket %u: no device %s here (%s)",
				id, name, opt);
	*ifindex = dev->ifindex;
	dev_put(dev);
	return 0;
}

/* restart: a boolean option, if the new socket's @now is not @want */
static int restore_inet_bool(struct socket *sock, int level, int opt,
			     bool now, bool want)
{
	if (now == want)
		return 0;
	return restore_inet_setint(sock, level, opt, want);
}

/*
 * restart: the options of SOCKET_IP that differ from the new socket's, as
 * setsockopt() sets them, before the bind: the interface options first
 * (IP_UNICAST_IF, IPV6_UNICAST_IF and the multicast ones refuse another
 * device than a bound one), SO_BINDTODEVICE, the flags and values, the
 * memberships in the order joined.  A device missing here is ENODEV.
 */
static int restore_inet_ip(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
			   struct socket *sock, struct ckpt_hdr_socket_ip *p,
			   struct ckpt_hdr_socket_mcast *m)
{
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	bool v6 = h->family == AF_INET6;
	int lvl6 = v6 ? SOL_IPV6 : SOL_IP;
	int ifindex, ret, i;
	const char *what;
	u16 cmsg;

	ret = restore_ifindex(ctx, h->sk_id, sock, p->uc_dev, "IP_UNICAST_IF",
			      &ifindex);
	if (!ret && ifindex != inet->uc_index) {
		what = "IP_UNICAST_IF";
		ret = restore_inet_setint(sock, SOL_IP, IP_UNICAST_IF,
					  (__force int)htonl(ifindex));
		if (ret)
			goto err;
	}
	if (!ret)
		ret = restore_ifindex(ctx, h->sk_id, sock, p->mc_dev,
				      "IP_MULTICAST_IF", &ifindex);
	if (!ret && (ifindex != inet->mc_index ||
		     p->mc_addr != (__force u32)inet->mc_addr)) {
		struct ip_mreqn mr = {
			.imr_address.s_addr = (__force __be32)p->mc_addr,
			.imr_ifindex = ifindex,
		};

		what = "IP_MULTICAST_IF";
		ret = sock->ops->setsockopt(sock, SOL_IP, IP_MULTICAST_IF,
					    KERNEL_SOCKPTR(&mr), sizeof(mr));
		if (ret)
			goto err;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (!ret && v6)
		ret = restore_ifindex(ctx, h->sk_id, sock, p->uc6_dev,
				      "IPV6_UNICAST_IF", &ifindex);
	if (!ret && v6 && ifindex != inet6_sk(sk)->ucast_oif) {
		what = "IPV6_UNICAST_IF";
		ret = restore_inet_setint(sock, SOL_IPV6, IPV6_UNICAST_IF,
					  (__force int)htonl(ifindex));
		if (ret)
			goto err;
	}
	if (!ret && v6)
		ret = restore_ifindex(ctx, h->sk_id, sock, p->mc6_dev,
				      "IPV6_MULTICAST_IF", &ifindex);
	if (!ret && v6 && ifindex != inet6_sk(sk)->mcast_oif) {
		what = "IPV6_MULTICAST_IF";
		ret = restore_inet_setint(sock, SOL_IPV6, IPV6_MULTICAST_IF,
					  ifindex);
		if (ret)
			goto err;
	}
#endif
	if (!ret)
		ret = restore_ifindex(ctx, h->sk_id, sock, p->bind_dev,
				      "SO_BINDTODEVICE", &ifindex);
	if (ret)
		return ret;
	if (ifindex != READ_ONCE(sk->sk_bound_dev_if)) {
		what = "SO_BINDTODEVICE";
		ret = sk_setsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE,
				    KERNEL_SOCKPTR(p->bind_dev),
				    strlen(p->bind_dev));
		if (ret)
			goto err;
	}
	what = "IP_FREEBIND";
	ret = restore_inet_bool(sock, lvl6, v6 ? IPV6_FREEBIND : IP_FREEBIND,
				inet->freebind, p->flags & CKPT_IP_FREEBIND);
	if (ret)
		goto err;
	what = "IP_TRANSPARENT";
	ret = restore_inet_bool(sock, lvl6,
				v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT,
				inet->transparent,
				p->flags & CKPT_IP_TRANSPARENT);
	if (ret)
		goto err;
	what = "IP_RECVERR";
	ret = restore_inet_bool(sock, SOL_IP, IP_RECVERR, inet->recverr,
				p->flags & CKPT_IP_RECVERR);
	if (ret)
		goto err;
	what = "IP_RECVERR_RFC4884";
	ret = restore_inet_bool(sock, SOL_IP, IP_RECVERR_RFC4884,
				inet->recverr_rfc4884,
				p->flags & CKPT_IP_RECVERR_RFC4884);
	if (ret)
		goto err;
	what = "IP_BIND_ADDRESS_NO_PORT";
	ret = restore_inet_bool(sock, SOL_IP, IP_BIND_ADDRESS_NO_PORT,
				inet->bind_address_no_port,
				p->flags & CKPT_IP_BIND_NO_PORT);
	if (ret)
		goto err;
	what = "IP_MULTICAST_LOOP";
	ret = restore_inet_bool(sock, SOL_IP, IP_MULTICAST_LOOP, inet->mc_loop,
				!(p->flags & CKPT_IP_MC_NOLOOP));
	if (ret)
		goto err;
	what = "IP_MULTICAST_ALL";
	ret = restore_inet_bool(sock, SOL_IP, IP_MULTICAST_ALL, inet->mc_all,
				!(p->flags & CKPT_IP_MC_NOALL));
	if (ret)
		goto err;
	cmsg = inet->cmsg_flags;
	for (i = 0; i < ARRAY_SIZE(ckpt_ip_cmsgs); i++) {
		what = ckpt_ip_cmsgs[i].name;
		ret = restore_inet_bool(sock, SOL_IP, ckpt_ip_cmsgs[i].opt,
					cmsg & BIT(i), p->cmsg_flags & BIT(i));
		if (ret)
			goto err;
	}
	what = "IP_MTU_DISCOVER";
	if (p->pmtudisc != inet->pmtudisc) {
		ret = restore_inet_setint(sock, SOL_IP, IP_MTU_DISCOVER,
					  p->pmtudisc);
		if (ret)
			goto err;
	}
	what = "IP_MINTTL";
	if (p->min_ttl != inet->min_ttl) {
		ret = restore_inet_setint(sock, SOL_IP, IP_MINTTL, p->min_ttl);
		if (ret)
			goto err;
	}
	what = "IP_MULTICAST_TTL";
	if (p->mc_ttl != inet->mc_ttl) {
		ret = restore_inet_setint(sock, SOL_IP, IP_MULTICAST_TTL,
					  p->mc_ttl);
		if (ret)
			goto err;
	}
	what = "IP_LOCAL_PORT_RANGE";
	if (p->port_lo != inet->local_port_range.lo ||
	    p->port_hi != inet->local_port_range.hi) {
		ret = restore_inet_setint(sock, SOL_IP, IP_LOCAL_PORT_RANGE,
					  p->port_hi << 16 | p->port_lo);
		if (ret)
			goto err;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (v6) {
		struct ipv6_pinfo *np = inet6_sk(sk);
		u16 rxopt = ckpt_ip6_rxopt(np);
		const struct {
			int opt;
			const char *name;
			int now, want;
		} v[] = {
			{ IPV6_RECVERR, "IPV6_RECVERR", np->recverr,
			  !!(p->flags & CKPT_IP6_RECVERR) },
			{ IPV6_RECVERR_RFC4884, "IPV6_RECVERR_RFC4884",
			  np->recverr_rfc4884,
			  !!(p->flags & CKPT_IP6_RECVERR_RFC4884) },
			{ IPV6_DONTFRAG, "IPV6_DONTFRAG", np->dontfrag,
			  !!(p->flags & CKPT_IP6_DONTFRAG) },
			{ IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP",
			  np->mc_loop, !(p->flags & CKPT_IP6_MC_NOLOOP) },
			{ IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL", np->mc_all,
			  !(p->flags & CKPT_IP6_MC_NOALL) },
			{ IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER", np->pmtudisc,
			  p->pmtudisc6 },
			{ IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", np->hop_limit,
			  p->hop_limit },
			{ IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS",
			  np->mcast_hops, p->mcast_hops },
			{ IPV6_TCLASS, "IPV6_TCLASS", np->tclass, p->tclass },
			{ IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT",
			  np->min_hopcount, p->min_hopcount },
			{ IPV6_MTU, "IPV6_MTU", np->frag_size, p->frag_size },
		};

		for (i = 0; i < ARRAY_SIZE(ckpt_ip6_rxopts); i++) {
			what = ckpt_ip6_rxopts[i].name;
			ret = restore_inet_bool(sock, SOL_IPV6,
						ckpt_ip6_rxopts[i].opt,
						rxopt & BIT(i),
						p->rxopt & BIT(i));
			if (ret)
				goto err;
		}
		for (i = 0; i < ARRAY_SIZE(v); i++) {
			what = v[i].name;
			if (v[i].now == v[i].want)
				continue;
			ret = restore_inet_setint(sock, SOL_IPV6, v[i].opt,
						  v[i].want);
			if (ret)
				goto err;
		}
	}
#endif
	for (i = 0; i < p->nmcast; i++) {
		struct ip_mreqn mr = {
			.imr_multiaddr.s_addr = (__force __be32)m[i].group,
			.imr_address.s_addr = (__force __be32)m[i].address,
		};

		ret = restore_ifindex(ctx, h->sk_id, sock, m[i].dev,
				      "IP_ADD_MEMBERSHIP", &mr.imr_ifindex);
		if (ret)
			return ret;
		ret = sock->ops->setsockopt(sock, SOL_IP, IP_ADD_MEMBERSHIP,
					    KERNEL_SOCKPTR(&mr), sizeof(mr));
		if (ret)
			return ckpt_err(ctx, ret,
					"socket %u: cannot set IP_ADD_MEMBERSHIP %pI4 on %s",
					h->sk_id, &mr.imr_multiaddr, m[i].dev);
	}
	return 0;
err:
	return ckpt_err(ctx, ret, "socket %u: cannot set %s", h->sk_id, what);
}

/* restart: SOCKET_RAW, checked */
static int restore_raw_read(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
			    struct ckpt_hdr_socket_raw *r)
{
	bool icmp = h->family == AF_INET && h->protocol == IPPROTO_ICMP;
	bool icmp6 = h->family == AF_INET6 && h->protocol == IPPROTO_ICMPV6;
	bool sum;
	int ret;

	ret = ckpt_read_obj(ctx, r, CKPT_HDR_SOCKET_RAW, sizeof(*r));
	if (ret)
		return ret;
	sum = r->flags & CKPT_RAW_CHECKSUM;
	if (r->flags & ~CKPT_RAW_FLAGS || r->_padding ||
	    (!icmp && r->icmp_filter) ||
	    (!icmp6 && memchr_inv(r->icmp6_filter, 0, sizeof(r->icmp6_filter))) ||
	    (sum && (h->family != AF_INET6 || (r->offset & 1) ||
		     r->offset > INT_MAX)) ||
	    (!sum && r->offset))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad raw socket options",
				h->sk_id);
	return 0;
}

/* restart: SOCKET_UDPLITE, checked (a coverage below 8 is made 8: not saved) */
static int restore_udplite_read(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
				struct ckpt_hdr_socket_udplite *u)
{
	int ret;

	ret = ckpt_read_obj(ctx, u, CKPT_HDR_SOCKET_UDPLITE, sizeof(*u));
	if (ret)
		return ret;
	if (u->flags & ~CKPT_UDPLITE_FLAGS ||
	    (!(u->flags & CKPT_UDPLITE_SEND) && u->send_cscov) ||
	    (!(u->flags & CKPT_UDPLITE_RECV) && u->recv_cscov) ||
	    (u->send_cscov && u->send_cscov < 8) ||
	    (u->recv_cscov && u->recv_cscov < 8))
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad UDP-Lite checksum coverage",
				h->sk_id);
	return 0;
}

/* restart: the coverage of SOCKET_UDPLITE, as setsockopt() sets it */
static const char *restore_udplite_set_opts(struct socket *sock,
					    struct ckpt_hdr_socket_udplite *u)
{
	if ((u->flags & CKPT_UDPLITE_SEND) &&
	    restore_inet_setint(sock, SOL_UDPLITE, UDPLITE_SEND_CSCOV,
				u->send_cscov))
		return "UDPLITE_SEND_CSCOV";
	if ((u->flags & CKPT_UDPLITE_RECV) &&
	    restore_inet_setint(sock, SOL_UDPLITE, UDPLITE_RECV_CSCOV,
				u->recv_cscov))
		return "UDPLITE_RECV_CSCOV";
	return NULL;
}

/* restart: the options of SOCKET_RAW, as setsockopt() sets them; what failed */
static const char *restore_raw_set_opts(struct socket *sock,
					struct ckpt_hdr_socket_raw *r)
{
	bool v4 = sock->sk->sk_family == AF_INET;
	int proto = sock->sk->sk_protocol;
	int sum = r->flags & CKPT_RAW_CHECKSUM ? r->offset : -1;

	if (restore_inet_setint(sock, v4 ? SOL_IP : SOL_IPV6,
				v4 ? IP_HDRINCL : IPV6_HDRINCL,
				!!(r->flags & CKPT_RAW_HDRINCL)))
		return v4 ? "IP_HDRINCL" : "IPV6_HDRINCL";
	if (v4 && proto == IPPROTO_ICMP &&
	    sock->ops->setsockopt(sock, SOL_RAW, ICMP_FILTER,
				  KERNEL_SOCKPTR(&r->icmp_filter),
				  sizeof(r->icmp_filter)))
		return "ICMP_FILTER";
	if (v4)
		return NULL;
	if (restore_inet_setint(sock, SOL_RAW, IPV6_CHECKSUM, sum))
		return "IPV6_CHECKSUM";
	if (proto == IPPROTO_ICMPV6 &&
	    sock->ops->setsockopt(sock, SOL_ICMPV6, ICMPV6_FILTER,
				  KERNEL_SOCKPTR(r->icmp6_filter),
				  sizeof(r->icmp6_filter)))
		return "ICMPV6_FILTER";
	return NULL;
}

/* queue @len bytes of @buf in repair mode (TCP_REPAIR_QUEUE @queue) */
static int restore_tcp_queue(struct socket *sock, int queue, u8 *buf, u32 len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	u32 done = 0;
	int ret;

	ret = restore_tcp_opt(sock, TCP_REPAIR_QUEUE, queue);
	while (!ret && done < len) {
		struct kvec vec = {
			.iov_base = buf + done,
			.iov_len = min_t(u32, len - done, 65536),
		};

		ret = kernel_sendmsg(sock, &msg, &vec, 1, vec.iov_len);
		if (ret > 0) {
			done += ret;
			ret = 0;
		} else if (!ret) {
			ret = -EIO;
		}
	}
	return ret;
}

/* the TCP record and queues of an established connection */
static int restore_tcp_read(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
			    struct ckpt_hdr_socket_tcp *t, struct ckpt_hdr **sq,
			    struct ckpt_hdr **rq)
{
	bool fin = ckpt_tcp_fin_rcvd(h->state);
	int ret;

	ret = ckpt_read_obj(ctx, t, CKPT_HDR_SOCKET_TCP, sizeof(*t));
	if (ret)
		return ret;
	if (t->send_len > CKPT_SOCK_QUEUE_MAX ||
	    t->recv_len > CKPT_SOCK_QUEUE_MAX || t->flags & ~CKPT_TCP_FLAGS ||
	    !(t->flags & CKPT_TCP_FIN_RCVD) == fin ||
	    !(t->flags & CKPT_TCP_FIN_SENT) == ckpt_tcp_fin_sent(h->state) ||
	    (h->state == TCP_FIN_WAIT2 && t->send_len) ||
	    ((t->flags & CKPT_TCP_FIN_READ) &&
	     (!(t->flags & CKPT_TCP_FIN_RCVD) || t->recv_len)) ||
	    t->snd_wscale > TCP_MAX_WSCALE || t->rcv_wscale > TCP_MAX_WSCALE ||
	    (h->state == TCP_SYN_SENT &&
	     (t->send_len || t->recv_len || t->recv_seq || t->flags ||
	      t->snd_wl1 || t->snd_wnd || t->max_window || t->rcv_wnd ||
	      t->rcv_wup || t->snd_wscale || t->rcv_wscale)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad TCP state",
				h->sk_id);
	*sq = restore_sk_read_buffer(ctx, t->send_len);
	if (IS_ERR(*sq)) {
		ret = PTR_ERR(*sq);
		*sq = NULL;
		return ret;
	}
	*rq = restore_sk_read_buffer(ctx, t->recv_len);
	if (IS_ERR(*rq)) {
		ret = PTR_ERR(*rq);
		*rq = NULL;
	}
	return ret;
}

/*
 * restart: this side's FIN after the send queue, as shutdown(SHUT_WR) sends
 * it (tcp_shutdown(): FIN_WAIT1 from ESTABLISHED, LAST_ACK from
 * CLOSE_WAIT) but in repair mode's send queue, where it counts as sent
 * without a segment on the wire: the retransmission timer sends it again
 * if the peer does not acknowledge it.  @acked (FIN_WAIT2): the peer
 * acknowledged it, its sequence number is behind snd_una already (the
 * image's), and FIN_WAIT1 ends as an ACK of everything ends it
 * (tcp_rcv_state_process()).
 */
static int restore_tcp_fin_out(struct socket *sock, bool acked)
{
	struct sock *sk = sock->sk;
	int ret;

	if (acked) {
		lock_sock(sk);
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		tcp_set_state(sk, TCP_FIN_WAIT2);
		release_sock(sk);
		return 0;
	}
	ret = restore_tcp_opt(sock, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
	if (!ret)
		ret = kernel_sock_shutdown(sock, SHUT_WR);
	return ret;
}

/*
 * restart: an established connection, bound, in repair mode (TCP_REPAIR,
 * with its checks: CAP_NET_ADMIN): the sequence numbers of its queues,
 * connect without a SYN, the options it negotiated, the timestamp, the
 * queues (the receive queue to be read, the send queue to be sent again
 * as the peer acknowledges), the windows.  Repair mode ends at the commit
 * point (restore_inet_commit()); a failed restart closes it silently.
 */
static int restore_tcp(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
		       struct socket *sock, struct ckpt_hdr_socket_tcp *t,
		       struct ckpt_hdr *sq, struct ckpt_hdr *rq)
{
	struct sockaddr *peer = (struct sockaddr *)h->raddr;
	struct tcp_repair_window w = {
		.snd_wl1 = t->snd_wl1, .snd_wnd = t->snd_wnd,
		.max_window = t->max_window, .rcv_wnd = t->rcv_wnd,
		.rcv_wup = t->rcv_wup,
	};
	struct tcp_repair_opt opts[4];
	struct sock *sk = sock->sk;
	int sndbuf = sk->sk_sndbuf, rcvbuf = sk->sk_rcvbuf, n = 0, ret;
	const char *what = "TCP_QUEUE_SEQ";

	ret = restore_tcp_opt(sock, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
	if (!ret)
		ret = restore_tcp_opt(sock, TCP_QUEUE_SEQ, t->send_seq);
	if (!ret)
		ret = restore_tcp_opt(sock, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
	if (!ret)
		ret = restore_tcp_opt(sock, TCP_QUEUE_SEQ, t->recv_seq);
	if (!ret) {
		what = "connect";
		restore_tcp_take_held(ctx, sk, peer);
		ret = kernel_connect(sock, peer, h->raddr_len, 0);
	}
	opts[n].opt_code = TCPOPT_MSS;
	opts[n++].opt_val = t->mss_clamp;
	if (t->flags & CKPT_TCP_WSCALE) {
		opts[n].opt_code = TCPOPT_WINDOW;
		opts[n++].opt_val = t->snd_wscale | t->rcv_wscale << 16;
	}
	if (t->flags & CKPT_TCP_SACK) {
		opts[n].opt_code = TCPOPT_SACK_PERM;
		opts[n++].opt_val = 0;
	}
	if (t->flags & CKPT_TCP_TSTAMP) {
		opts[n].opt_code = TCPOPT_TIMESTAMP;
		opts[n++].opt_val = 0;
	}
	if (!ret) {
		what = "TCP_REPAIR_OPTIONS";
		ret = sock->ops->setsockopt(sock, SOL_TCP, TCP_REPAIR_OPTIONS,
					    KERNEL_SOCKPTR(opts),
					    n * sizeof(opts[0]));
	}
	if (!ret && (t->flags & CKPT_TCP_TSTAMP)) {
		what = "TCP_TIMESTAMP";
		ret = restore_tcp_opt(sock, TCP_TIMESTAMP, t->timestamp);
	}
	/* no limit while the queues are refilled */
	WRITE_ONCE(sk->sk_sndbuf, INT_MAX / 2);
	WRITE_ONCE(sk->sk_rcvbuf, INT_MAX / 2);
	if (!ret) {
		what = "the receive queue";
		ret = restore_tcp_queue(sock, TCP_RECV_QUEUE, (u8 *)(rq + 1),
					t->recv_len);
	}
	if (!ret) {
		what = "the send queue";
		ret = restore_tcp_queue(sock, TCP_SEND_QUEUE, (u8 *)(sq + 1),
					t->send_len);
	}
	WRITE_ONCE(sk->sk_sndbuf, sndbuf);
	WRITE_ONCE(sk->sk_rcvbuf, rcvbuf);
	/* FIN_WAIT1, FIN_WAIT2, CLOSING: this side's FIN went first */
	if (!ret && (h->state == TCP_FIN_WAIT1 || h->state == TCP_FIN_WAIT2 ||
		     h->state == TCP_CLOSING)) {
		what = "its FIN";
		ret = restore_tcp_fin_out(sock, h->state == TCP_FIN_WAIT2);
	}
	/*
	 * CLOSE_WAIT: the FIN came after the queue, as tcp_fin() takes it;
	 * CLOSING: in FIN_WAIT1 (a simultaneous close), as it takes that too
	 */
	if (!ret && (t->flags & CKPT_TCP_FIN_RCVD)) {
		lock_sock(sk);
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
		sock_set_flag(sk, SOCK_DONE);
		WRITE_ONCE(tcp_sk(sk)->rcv_nxt, tcp_sk(sk)->rcv_nxt + 1);
		if (t->flags & CKPT_TCP_FIN_READ)
			WRITE_ONCE(tcp_sk(sk)->copied_seq, tcp_sk(sk)->rcv_nxt);
		tcp_set_state(sk, h->state == TCP_CLOSING ? TCP_CLOSING :
			      TCP_CLOSE_WAIT);
		release_sock(sk);
	}
	/* LAST_ACK: then this side's, after the peer's */
	if (!ret && h->state == TCP_LAST_ACK) {
		what = "its FIN";
		ret = restore_tcp_fin_out(sock, false);
	}
	if (!ret && sk->sk_state != h->state)
		ret = -EPROTO;
	/* tcp_send_fin() gives up silently without memory for the FIN */
	if (!ret && ckpt_tcp_fin_sent(h->state) && h->state != TCP_FIN_WAIT2 &&
	    READ_ONCE(tcp_sk(sk)->write_seq) != t->send_seq + t->send_len + 1)
		ret = -ENOMEM;
	if (!ret) {
		what = "TCP_REPAIR_WINDOW";
		ret = sock->ops->setsockopt(sock, SOL_TCP, TCP_REPAIR_WINDOW,
					    KERNEL_SOCKPTR(&w), sizeof(w));
	}
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: TCP connection to %pISpc: %s",
				h->sk_id, peer, what);
	return 0;
}

/*
 * restart, at the commit point: a connection leaves repair mode, with a
 * window probe if it is established (the peer learns the window again),
 * as TCP_REPAIR_OFF does, which refuses the other states; repair mode ends
 * with SK_NO_REUSE: SO_REUSEADDR again if it had it
 */
static void restore_tcp_repair_off(struct sock *sk, bool reuseaddr)
{
	int off = TCP_REPAIR_OFF, one = 1;

	if (sk->sk_state == TCP_ESTABLISHED) {
		tcp_setsockopt(sk, SOL_TCP, TCP_REPAIR, KERNEL_SOCKPTR(&off),
			       sizeof(off));
	} else {
		lock_sock(sk);
		tcp_sk(sk)->repair = 0;
		tcp_sk(sk)->repair_queue = TCP_NO_QUEUE;
		sk->sk_reuse = SK_NO_REUSE;
		release_sock(sk);
	}
	if (reuseaddr)
		sk_setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, KERNEL_SOCKPTR(&one),
			      sizeof(one));
}

/* restart, at the commit point: the connections leave repair mode */
void restore_inet_commit(struct ckpt_sk *e)
{
	bool reuseaddr = e->h.flags & CKPT_SOCK_REUSEADDR;
	u32 i;

	if (e->tcp_repair)
		restore_tcp_repair_off(sock_from_file(e->file)->sk, reuseaddr);
	e->tcp_repair = false;
	/* a listener's accept queue: the tasks do not run yet, none is taken */
	for (i = 0; i < e->nconns; i++)
		restore_tcp_repair_off(e->conns[i], reuseaddr);
}

/*
 * restart: create, options that bind needs, bind, listen or connect (@t:
 * a TCP connection, restored in repair mode); @o: SOCKET_INET, or NULL
 */
/*
 * restart: a connection in SYN_SENT connects again, not in repair mode (it
 * sends its SYN), non-blocking, with the initial sequence number it had
 * (tcp_v4_connect() and tcp_v6_connect() keep a write_seq already set), so
 * that a SYN-ACK the peer sends again answers it.  Its timestamps are the
 * restarting kernel's: on another machine a peer that still has a
 * half-open request from the first SYN may take them as old (PAWS) until
 * that request expires, and the SYN is sent again meanwhile.
 */
static int restore_tcp_syn_sent(struct ckpt_ctx *ctx,
				struct ckpt_hdr_socket *h, struct socket *sock,
				struct ckpt_hdr_socket_tcp *t)
{
	struct sockaddr *peer = (struct sockaddr *)h->raddr;
	int ret;

	lock_sock(sock->sk);
	WRITE_ONCE(tcp_sk(sock->sk)->write_seq, t->send_seq);
	release_sock(sock->sk);
	ret = kernel_connect(sock, peer, h->raddr_len, O_NONBLOCK);
	if (ret == -EINPROGRESS || !ret)
		return 0;
	return ckpt_err(ctx, ret,
			"socket %u: cannot connect to %pISpc again (SYN_SENT)",
			h->sk_id, peer);
}

static int restore_inet_socket(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h,
			       struct ckpt_hdr_socket_inet *o,
			       struct ckpt_hdr_socket_tcpopt *to, bool child,
			       struct ckpt_hdr_socket_ip *ip,
			       struct ckpt_hdr_socket_mcast *mc,
			       struct ckpt_hdr_socket_tcp *t,
			       struct ckpt_hdr *sq, struct ckpt_hdr *rq,
			       struct socket **psock)
{
	struct sockaddr *name = (struct sockaddr *)h->laddr;
	struct sockaddr *peer = (struct sockaddr *)h->raddr;
	bool syn_sent = t && h->state == TCP_SYN_SENT;
	bool conn = t && !syn_sent;
	struct socket *sock;
	const char *what;
	int ret;

	ret = sock_create(h->family, h->type, h->protocol, &sock);
	if (ret == -EACCES && ckpt_ping_proto(h->family, h->type, h->protocol))
		return ckpt_err(ctx, ret,
				"socket %u: cannot create its ping socket: the caller's groups are outside net.ipv4.ping_group_range",
				h->sk_id);
	if (ret == -EPERM && h->type == SOCK_RAW)
		return ckpt_err(ctx, ret,
				"socket %u: cannot create its raw socket, which needs CAP_NET_RAW",
				h->sk_id);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot create it", h->sk_id);
	if (h->flags & CKPT_SOCK_REUSEADDR)
		ret = restore_inet_opt(sock, SOL_SOCKET, SO_REUSEADDR);
	if (!ret && (h->flags & CKPT_SOCK_REUSEPORT))
		ret = restore_inet_opt(sock, SOL_SOCKET, SO_REUSEPORT);
	if (!ret && (h->flags & CKPT_SOCK_KEEPALIVE))
		ret = restore_inet_opt(sock, SOL_SOCKET, SO_KEEPALIVE);
	if (!ret && (h->flags & CKPT_SOCK_BROADCAST))
		ret = restore_inet_opt(sock, SOL_SOCKET, SO_BROADCAST);
	if (!ret && (h->flags & CKPT_SOCK_NODELAY))
		ret = restore_inet_opt(sock, SOL_TCP, TCP_NODELAY);
	/*
	 * as it was, whatever net.ipv6.bindv6only says here (a raw socket has
	 * its inet_num, its protocol, from its creation: IPV6_V6ONLY says EINVAL)
	 */
	if (!ret && h->family == AF_INET6 && h->type != SOCK_RAW)
		ret = restore_inet_setint(sock, SOL_IPV6, IPV6_V6ONLY,
					  !!(h->flags & CKPT_SOCK_V6ONLY));
	if (!ret && h->family == AF_INET6 && h->type == SOCK_RAW) {
		lock_sock(sock->sk);
		sock->sk->sk_ipv6only = !!(h->flags & CKPT_SOCK_V6ONLY);
		release_sock(sock->sk);
	}
	if (ret) {
		ckpt_err(ctx, ret, "socket %u: cannot set its options",
			 h->sk_id);
		goto err;
	}
	what = o ? restore_inet_set_opts(sock, o) : NULL;
	if (what) {
		ret = -EINVAL;
		ckpt_err(ctx, ret, "socket %u: cannot set %s", h->sk_id, what);
		goto err;
	}
	if (to) {
		ret = restore_tcp_set_opts(ctx, h, sock, to, conn, child);
		if (ret)
			goto err;
	}
	if (ip) {
		ret = restore_inet_ip(ctx, h, sock, ip, mc);
		if (ret)
			goto err;
	}
	/* after SO_REUSEADDR: repair mode binds with SK_FORCE_REUSE */
	if (conn) {
		ret = restore_tcp_opt(sock, TCP_REPAIR, TCP_REPAIR_ON);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: a TCP connection is restored in repair mode (TCP_REPAIR), which needs CAP_NET_ADMIN",
				 h->sk_id);
			goto err;
		}
	}
	if (h->flags & CKPT_SOCK_BOUND) {
		ret = kernel_bind(sock, name, h->laddr_len);
		/* a port that connections held after their close keep */
		if (ret == -EADDRINUSE &&
		    restore_tcp_end_held_port(ctx, sock->sk, name))
			ret = kernel_bind(sock, name, h->laddr_len);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot bind %pISpc",
				 h->sk_id, name);
			goto err;
		}
		/*
		 * a bind to an address other than :: makes a socket V6ONLY;
		 * one that connect() bound was not
		 */
		if (h->family == AF_INET6) {
			lock_sock(sock->sk);
			sock->sk->sk_ipv6only = !!(h->flags & CKPT_SOCK_V6ONLY);
			release_sock(sock->sk);
		}
	}
	if (h->state == TCP_LISTEN) {
		ret = kernel_listen(sock, h->backlog);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot listen", h->sk_id);
			goto err;
		}
	}
	if (syn_sent) {
		ret = restore_tcp_syn_sent(ctx, h, sock, t);
		if (ret)
			goto err;
	} else if (t) {
		ret = restore_tcp(ctx, h, sock, t, sq, rq);
		if (ret)
			goto err;
	} else if (h->flags & CKPT_SOCK_CONNECT) {
		ret = kernel_connect(sock, peer, h->raddr_len, 0);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot connect to %pISpc",
				 h->sk_id, peer);
			goto err;
		}
	}
	if (to && !child) {
		ret = restore_tcp_set_late(ctx, h, sock, to, conn);
		if (ret)
			goto err;
	}
	if (to && child && (to->flags & CKPT_TCPOPT_FO_CONNECT)) {
		lock_sock(sock->sk);
		tcp_sk(sock->sk)->fastopen_connect = 1;
		release_sock(sock->sk);
	}
	*psock = sock;
	return 0;
err:
	sock_release(sock);
	return ret;
}

/*
 * restart: @sock's connection, made in repair mode, into listener @lsk's
 * accept queue as the handshake puts a new one there (a request sock that
 * carries it, inet_csk_reqsk_queue_add()): without its socket and wait
 * queue, which accept() grafts, and without a memory cgroup, which
 * accept() charges; @sock is released.  A reference to it in @psk.
 */
static int restore_tcp_enqueue(struct sock *lsk, struct socket *sock,
			       struct sock **psk)
{
	struct sock *sk = sock->sk;
	struct request_sock *req;

	req = inet_reqsk_alloc(&tcp_request_sock_ops, lsk, true);
	if (!req) {
		sock_release(sock);
		return -ENOMEM;
	}
	tcp_rsk(req)->tfo_listener = false;
	/* the queue's reference, which accept() puts */
	refcount_set(&req->rsk_refcnt, 1);
#ifdef CONFIG_MEMCG
	lock_sock(sk);
	if (mem_cgroup_sockets_enabled && sk->sk_memcg) {
		/* what inet_csk_accept() charges again */
		mem_cgroup_uncharge_skmem(sk->sk_memcg,
					  sk_mem_pages(sk->sk_forward_alloc +
						       atomic_read(&sk->sk_rmem_alloc)));
		mem_cgroup_sk_free(sk);
		sk->sk_memcg = NULL;
	}
	release_sock(sk);
#endif
	write_lock_bh(&sk->sk_callback_lock);
	sk_set_socket(sk, NULL);
	RCU_INIT_POINTER(sk->sk_wq, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	/* the socket's reference to it is the queue's now */
	sock->sk = NULL;
	sock_release(sock);
	sock_hold(sk);
	*psk = sk;
	lock_sock(lsk);
	local_bh_disable();
	/* forgotten (silently: repair mode) if @lsk no longer listens */
	if (!inet_csk_reqsk_queue_add(lsk, req, sk)) {
		local_bh_enable();
		release_sock(lsk);
		return -EINVAL;
	}
	local_bh_enable();
	release_sock(lsk);
	return 0;
}

/* @c's local address is the listener's, or the listener is bound to any */
static bool restore_tcp_conn_local_ok(struct ckpt_hdr_socket *lh,
				      struct ckpt_hdr_socket *ch)
{
	if (lh->family == AF_INET) {
		struct sockaddr_in *l = (struct sockaddr_in *)lh->laddr;
		struct sockaddr_in *c = (struct sockaddr_in *)ch->laddr;

		return l->sin_port == c->sin_port &&
		       (!l->sin_addr.s_addr ||
			l->sin_addr.s_addr == c->sin_addr.s_addr);
	} else {
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)lh->laddr;
		struct sockaddr_in6 *c = (struct sockaddr_in6 *)ch->laddr;

		return l->sin6_port == c->sin6_port &&
		       (ipv6_addr_any(&l->sin6_addr) ||
			ipv6_addr_equal(&l->sin6_addr, &c->sin6_addr));
	}
}

/* restart: connection @i of listener @e's accept queue, checked */
static int restore_tcp_conn_read(struct ckpt_ctx *ctx, struct ckpt_sk *e,
				 u32 i, struct ckpt_hdr_socket_conn *c,
				 struct ckpt_hdr_socket *ch)
{
	int ret;

	ret = ckpt_read_obj(ctx, c, CKPT_HDR_SOCKET_CONN, sizeof(*c));
	if (ret)
		return ret;
	if (c->family != e->h.family || !ckpt_tcp_waiting(c->state) ||
	    c->_padding || c->laddr_len > CKPT_SOCK_ADDR_MAX ||
	    c->raddr_len > CKPT_SOCK_ADDR_MAX)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad connection %u waiting to be accepted (family %u, state %u)",
				e->h.sk_id, i, c->family, c->state);
	/* the listener's socket, options and family, the connection's state */
	*ch = e->h;
	ch->state = c->state;
	ch->flags = (e->h.flags & ~CKPT_SOCK_ACCEPTQ) | CKPT_SOCK_BOUND |
		    CKPT_SOCK_CONNECT;
	ch->laddr_len = c->laddr_len;
	ch->raddr_len = c->raddr_len;
	memcpy(ch->laddr, c->laddr, sizeof(ch->laddr));
	memcpy(ch->raddr, c->raddr, sizeof(ch->raddr));
	ret = restore_inet_check(ctx, ch);
	if (!ret && !restore_tcp_conn_local_ok(&e->h, ch))
		ret = ckpt_err(ctx, -EINVAL,
			       "socket %u: connection %u waiting to be accepted on %pISpc, not its listener's address",
			       e->h.sk_id, i, (struct sockaddr *)ch->laddr);
	return ret;
}

/*
 * restart: a listener's accept queue (SOCKET_ACCEPT): each connection is
 * made as an established one (restore_tcp(), with the listener's options)
 * and queued in order (restore_tcp_enqueue()), in repair mode until the
 * commit point.  At most its backlog + 1, none with data to send (it had
 * no descriptor to send any), the bytes of their receive queues counted
 * with the other queues' (CKPT_SOCK_TOTAL_MAX).
 */
static int restore_tcp_accept(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			      struct socket *lsock,
			      struct ckpt_hdr_socket_inet *o,
			      struct ckpt_hdr_socket_tcpopt *to,
			      struct ckpt_hdr_socket_ip *ip)
{
	struct ckpt_hdr *sq = NULL, *rq = NULL;
	struct ckpt_hdr_socket_accept a;
	struct ckpt_hdr_socket_conn *c;
	struct ckpt_hdr_socket_tcp t;
	struct ckpt_hdr_socket *ch;
	struct socket *sock;
	u32 i;
	int ret;

	ret = ckpt_read_obj(ctx, &a, CKPT_HDR_SOCKET_ACCEPT, sizeof(a));
	if (ret)
		return ret;
	if (a._padding || a.nconns > e->h.backlog + 1)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: accept queue of %u connections, its backlog %u",
				e->h.sk_id, a.nconns, e->h.backlog);
	e->conns = kcalloc(max_t(u32, a.nconns, 1), sizeof(*e->conns),
			   GFP_KERNEL);
	c = kmalloc(sizeof(*c), GFP_KERNEL);
	ch = kmalloc(sizeof(*ch), GFP_KERNEL);
	if (!e->conns || !c || !ch) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < a.nconns && !ret; i++) {
		ret = restore_tcp_conn_read(ctx, e, i, c, ch);
		if (!ret)
			ret = restore_tcp_read(ctx, ch, &t, &sq, &rq);
		if (!ret && (t.send_len ||
			     ctx->socks->bytes + t.recv_len > CKPT_SOCK_TOTAL_MAX))
			ret = ckpt_err(ctx, -EINVAL,
				       "socket %u: connection %u waiting to be accepted with %u bytes to send, or queues above %u bytes in all",
				       e->h.sk_id, i, t.send_len,
				       CKPT_SOCK_TOTAL_MAX);
		if (!ret) {
			ctx->socks->bytes += t.recv_len;
			ret = restore_inet_socket(ctx, ch, o, to, true, ip,
						  NULL, &t, sq, rq, &sock);
		}
		if (!ret) {
			ret = restore_tcp_enqueue(lsock->sk, sock,
						  &e->conns[e->nconns]);
			e->nconns += !ret;
			if (ret)
				ckpt_err(ctx, ret, "socket %u: cannot queue connection %u to be accepted",
					 e->h.sk_id, i);
		}
		kvfree(sq);
		kvfree(rq);
		sq = NULL;
		rq = NULL;
	}
out:
	kfree(c);
	kfree(ch);
	return ret;
}

/* restart: an inet socket, its connection or accept queue */
int restore_inet(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		 struct socket **psock)
{
	struct ckpt_hdr_socket *h = &e->h;
	bool tcp = h->type == SOCK_STREAM && ckpt_tcp_has_peer(h->state);
	bool opts = h->flags & CKPT_SOCK_INET_OPTS;
	bool ipopts = h->flags & CKPT_SOCK_IP_OPTS;
	bool tcpopts = h->flags & CKPT_SOCK_TCP_OPTS;
	struct ckpt_hdr *sq = NULL, *rq = NULL;
	struct ckpt_hdr_socket_tcpopt to;
	struct ckpt_hdr_socket_mcast *mc = NULL;
	struct ckpt_hdr_socket_ip *ip = NULL;
	struct ckpt_hdr_socket_inet o;
	bool udplite = h->type == SOCK_DGRAM && h->protocol == IPPROTO_UDPLITE;
	struct ckpt_hdr_socket_udplite u;
	struct ckpt_hdr_socket_raw r;
	struct ckpt_hdr_socket_tcp t;
	struct socket *sock;
	const char *what;
	int ret;

	if (opts) {
		ret = restore_inet_read_opts(ctx, h, &o);
		if (ret)
			return ret;
	}
	if (tcpopts) {
		ret = restore_tcp_read_opts(ctx, h, &to);
		if (ret)
			return ret;
	}
	if (ipopts) {
		ip = kmalloc(sizeof(*ip), GFP_KERNEL);
		if (!ip)
			return -ENOMEM;
		ret = restore_inet_ip_read(ctx, h, ip, &mc);
		if (ret)
			goto out;
	}
	if (h->type == SOCK_RAW) {
		ret = restore_raw_read(ctx, h, &r);
		if (ret)
			goto out;
	}
	if (udplite) {
		ret = restore_udplite_read(ctx, h, &u);
		if (ret)
			goto out;
	}
	if (tcp) {
		ret = restore_tcp_read(ctx, h, &t, &sq, &rq);
		if (ret)
			goto out;
	}
	ret = restore_inet_socket(ctx, h, opts ? &o : NULL,
				  tcpopts ? &to : NULL, false, ip, mc,
				  tcp ? &t : NULL, sq, rq, &sock);
	if (ret)
		goto out;
	what = h->type == SOCK_RAW ? restore_raw_set_opts(sock, &r) : NULL;
	if (!what && udplite)
		what = restore_udplite_set_opts(sock, &u);
	if (what) {
		ret = ckpt_err(ctx, -EINVAL, "socket %u: cannot set %s",
			       h->sk_id, what);
		sock_release(sock);
		goto out;
	}
	e->tcp_repair = tcp && h->state != TCP_SYN_SENT;
	if (h->flags & CKPT_SOCK_ACCEPTQ) {
		ret = restore_tcp_accept(ctx, e, sock, opts ? &o : NULL,
					 tcpopts ? &to : NULL, ip);
		if (ret) {
			sock_release(sock);
			goto out;
		}
	}
	*psock = sock;
out:
	kfree(ip);
	kfree(mc);
	kvfree(sq);
	kvfree(rq);
	return ret;
}

void restore_inet_shutdown(struct ckpt_sk *e)
{
	struct sock *sk = sock_from_file(e->file)->sk;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, e->h.shutdown);
	release_sock(sk);
}
