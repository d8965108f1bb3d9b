// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: IPv4 sockets (TCP and UDP) that carry no connection
 * state: TCP sockets unbound, bound or listening, UDP sockets unbound,
 * bound or connected, with SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
 * SO_BROADCAST and TCP_NODELAY.  Restart binds again to the same address
 * and port with the caller's rights: a privileged port needs
 * CAP_NET_BIND_SERVICE (EACCES), an address the machine lacks is
 * EADDRNOTAVAIL, a port taken EADDRINUSE; SO_REUSEPORT joins only a group
 * of the caller's own uid, as bind() does.
 *
 * Refused at checkpoint by name (EOPNOTSUPP): TCP connections (every
 * state but CLOSE and LISTEN) and connections waiting to be accepted,
 * queued UDP datagrams, raw and ping sockets, and options not restored
 * (IP_TOS, IP_TTL, IP options, multicast memberships, IP_FREEBIND,
 * IP_TRANSPARENT, TCP_CORK, TCP_MAXSEG; the socket-level ones: socket.c).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/in.h>
#include <linux/net.h>
#include <linux/sockptr.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

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

static bool ckpt_inet_tcp(struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP;
}

static bool ckpt_inet_udp(struct sock *sk)
{
	return sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP;
}

/* an option that restart does not set, or NULL */
static const char *ckpt_inet_unsupported(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	if (inet->tos)
		return "IP_TOS";
	if (inet->uc_ttl != -1)
		return "IP_TTL";
	if (rcu_access_pointer(inet->inet_opt))
		return "IP_OPTIONS";
	if (rcu_access_pointer(inet->mc_list))
		return "multicast memberships";
	if (inet->freebind)
		return "IP_FREEBIND";
	if (inet->transparent)
		return "IP_TRANSPARENT";
	if (ckpt_inet_tcp(sk) && (tcp_sk(sk)->nonagle & TCP_NAGLE_CORK))
		return "TCP_CORK";
	if (ckpt_inet_tcp(sk) && tcp_sk(sk)->rx_opt.user_mss)
		return "TCP_MAXSEG";
	return NULL;
}

int ckpt_inet_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	int state = READ_ONCE(sk->sk_state);
	const char *opt;

	if (ckpt_inet_tcp(sk)) {
		if (state == TCP_LISTEN &&
		    (!reqsk_queue_empty(&inet_csk(sk)->icsk_accept_queue) ||
		     inet_csk_reqsk_queue_len(sk)))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: TCP listener with connections waiting to be accepted not supported",
					fd);
		if (state != TCP_CLOSE && state != TCP_LISTEN)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: TCP connection in state %s not supported",
					fd, ckpt_tcp_state(state));
	} else if (ckpt_inet_udp(sk)) {
		u32 n = skb_queue_len_lockless(&sk->sk_receive_queue) +
			skb_queue_len_lockless(&udp_sk(sk)->reader_queue);

		if (n)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: UDP socket with %u datagrams queued not supported",
					fd, n);
	} else {
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: inet (IPv4) socket of type %d, protocol %d (raw, ping) not supported",
				fd, sk->sk_type, sk->sk_protocol);
	}
	opt = ckpt_inet_unsupported(sk);
	if (opt)
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: inet socket with %s not supported",
				fd, opt);
	return 0;
}

/* checkpoint: the address and port, the peer of a connected UDP socket */
int checkpoint_inet(struct ckpt_ctx *ctx, struct socket *sock, int fd,
		    struct ckpt_hdr_socket *h)
{
	struct sock *sk = sock->sk;
	int len;

	if (ckpt_inet_tcp(sk) && (tcp_sk(sk)->nonagle & TCP_NAGLE_OFF))
		h->flags |= CKPT_SOCK_NODELAY;
	if (!inet_sk(sk)->inet_num)
		return 0;
	len = kernel_getsockname(sock, (struct sockaddr *)h->laddr);
	if (len < 0)
		return ckpt_err(ctx, len, "fd %d: getsockname", fd);
	h->laddr_len = len;
	h->flags |= CKPT_SOCK_BOUND;
	if (ckpt_inet_udp(sk) && READ_ONCE(sk->sk_state) == TCP_ESTABLISHED) {
		len = kernel_getpeername(sock, (struct sockaddr *)h->raddr);
		if (len < 0)
			return ckpt_err(ctx, len, "fd %d: getpeername", fd);
		h->raddr_len = len;
		h->flags |= CKPT_SOCK_CONNECT;
	}
	return 0;
}

static bool restore_inet_addr_ok(const u8 *buf, u32 len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)buf;

	return !len || (len == sizeof(*sin) && sin->sin_family == AF_INET);
}

int restore_inet_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h)
{
	bool tcp = h->type == SOCK_STREAM && h->protocol == IPPROTO_TCP;
	bool udp = h->type == SOCK_DGRAM && h->protocol == IPPROTO_UDP;
	u32 id = h->sk_id, f = h->flags;

	if (!tcp && !udp)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad type %u protocol %u",
				id, h->type, h->protocol);
	if ((tcp && h->state != TCP_CLOSE && h->state != TCP_LISTEN) ||
	    (udp && h->state != TCP_CLOSE && h->state != TCP_ESTABLISHED))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad state %u", id,
				h->state);
	if (f & ~CKPT_SOCK_INET_FLAGS || h->peer_id ||
	    !restore_inet_addr_ok(h->laddr, h->laddr_len) ||
	    !restore_inet_addr_ok(h->raddr, h->raddr_len) ||
	    !(f & CKPT_SOCK_BOUND) != !h->laddr_len ||
	    !(f & CKPT_SOCK_CONNECT) != !h->raddr_len ||
	    (tcp && (f & CKPT_SOCK_CONNECT)) || (udp && (f & CKPT_SOCK_NODELAY)) ||
	    !(f & CKPT_SOCK_CONNECT) != !(udp && h->state == TCP_ESTABLISHED) ||
	    (h->state == TCP_LISTEN && !(f & CKPT_SOCK_BOUND)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad address or flags %#x",
				id, f);
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

/* restart: create, options that bind needs, bind, listen or connect */
int restore_inet(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		 struct socket **psock)
{
	struct ckpt_hdr_socket *h = &e->h;
	struct sockaddr_in *sin = (struct sockaddr_in *)h->laddr;
	struct socket *sock;
	int ret;

	ret = sock_create(AF_INET, h->type, h->protocol, &sock);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot create it",
				h->sk_id);
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
	if (ret) {
		ckpt_err(ctx, ret, "socket %u: cannot set its options",
			 h->sk_id);
		goto err;
	}
	if (h->flags & CKPT_SOCK_BOUND) {
		ret = kernel_bind(sock, (struct sockaddr *)sin, sizeof(*sin));
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot bind %pI4:%u",
				 h->sk_id, &sin->sin_addr, ntohs(sin->sin_port));
			goto err;
		}
	}
	if (h->state == TCP_LISTEN) {
		ret = kernel_listen(sock, h->backlog);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot listen", h->sk_id);
			goto err;
		}
	}
	if (h->flags & CKPT_SOCK_CONNECT) {
		sin = (struct sockaddr_in *)h->raddr;
		ret = kernel_connect(sock, (struct sockaddr *)sin, sizeof(*sin),
				     0);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot connect to %pI4:%u",
				 h->sk_id, &sin->sin_addr, ntohs(sin->sin_port));
			goto err;
		}
	}
	*psock = sock;
	return 0;
err:
	sock_release(sock);
	return ret;
}

void restore_inet_shutdown(struct ckpt_sk *e)
{
	struct sock *sk = sock_from_file(e->file)->sk;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, e->h.shutdown);
	release_sock(sk);
}
