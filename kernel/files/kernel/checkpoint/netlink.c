// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: netlink sockets (AF_NETLINK, any protocol the
 * restarting kernel has): unbound, bound to their port id with their
 * multicast groups (the first 64), connected to a port id or a group, with
 * NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
 * NETLINK_LISTEN_ALL_NSID, NETLINK_CAP_ACK, NETLINK_EXT_ACK and
 * NETLINK_GET_STRICT_CHK (a SOCKET_NETLINK record).  Restart binds and
 * connects with the caller's rights, as bind() and connect() do: a port
 * id taken is EADDRINUSE, groups a protocol keeps for root EPERM.
 *
 * Refused at checkpoint by name (EOPNOTSUPP): queued messages (a reply or
 * notification cannot be sent again by its kernel sender), a dump in
 * progress, groups above 64.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/sockptr.h>
#include <net/sock.h>

#include "../../net/netlink/af_netlink.h"
#include "socket.h"

/* the NETLINK_F_* flags a setsockopt() sets, and the option */
static const struct {
	int bit;
	int opt;
	const char *name;
} ckpt_nl_opts[] = {
	{ NETLINK_F_RECV_PKTINFO, NETLINK_PKTINFO, "NETLINK_PKTINFO" },
	{ NETLINK_F_BROADCAST_SEND_ERROR, NETLINK_BROADCAST_ERROR,
	  "NETLINK_BROADCAST_ERROR" },
	{ NETLINK_F_RECV_NO_ENOBUFS, NETLINK_NO_ENOBUFS, "NETLINK_NO_ENOBUFS" },
	{ NETLINK_F_LISTEN_ALL_NSID, NETLINK_LISTEN_ALL_NSID,
	  "NETLINK_LISTEN_ALL_NSID" },
	{ NETLINK_F_CAP_ACK, NETLINK_CAP_ACK, "NETLINK_CAP_ACK" },
	{ NETLINK_F_EXT_ACK, NETLINK_EXT_ACK, "NETLINK_EXT_ACK" },
	{ NETLINK_F_STRICT_CHK, NETLINK_GET_STRICT_CHK,
	  "NETLINK_GET_STRICT_CHK" },
};

/* the groups of @nlk above 64, or a dump: what SOCKET_NETLINK cannot carry */
int ckpt_netlink_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct netlink_sock *nlk = nlk_sk(sk);
	u32 queued = skb_queue_len_lockless(&sk->sk_receive_queue);
	unsigned long bit;
	int ret = 0;

	if (queued)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: netlink socket with %u queued messages not supported",
				fd, queued);
	netlink_table_grab();
	if (READ_ONCE(nlk->cb_running))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "fd %d: netlink socket with a dump in progress not supported",
			       fd);
	else if (nlk->groups && nlk->ngroups > 64) {
		bit = find_next_bit(nlk->groups, nlk->ngroups, 64);
		if (bit < nlk->ngroups)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: netlink socket in group %lu (above 64) not supported",
				       fd, bit + 1);
	}
	netlink_table_ungrab();
	return ret;
}

/* checkpoint: SOCKET_NETLINK, after the strings */
int checkpoint_netlink(struct ckpt_ctx *ctx, struct sock *sk, int fd,
		       struct ckpt_hdr_socket *h)
{
	struct netlink_sock *nlk = nlk_sk(sk);
	struct ckpt_hdr_socket_netlink n = { };
	int i;

	netlink_table_grab();
	n.portid = nlk->portid;
	n.dst_portid = nlk->dst_portid;
	n.dst_group = nlk->dst_group;
	if (nlk->groups)
		bitmap_to_arr64(&n.groups, nlk->groups, min_t(u32, nlk->ngroups, 64));
	for (i = 0; i < ARRAY_SIZE(ckpt_nl_opts); i++)
		if (test_bit(ckpt_nl_opts[i].bit, &nlk->flags))
			n.flags |= BIT(i);
	if (h->flags & CKPT_SOCK_BOUND)
		n.flags |= CKPT_NL_BOUND;
	netlink_table_ungrab();
	if (!(h->flags & CKPT_SOCK_BOUND) != !(n.portid || n.groups) ||
	    !(h->flags & CKPT_SOCK_CONNECT) != !(n.dst_portid || n.dst_group))
		return ckpt_err(ctx, -EAGAIN,
				"fd %d: its netlink address changed while it was saved",
				fd);
	return ckpt_write_obj(ctx, &n, CKPT_HDR_SOCKET_NETLINK, sizeof(n));
}

/* checkpoint: BOUND and CONNECT of the SOCKET record */
void checkpoint_netlink_flags(struct sock *sk, struct ckpt_hdr_socket *h)
{
	struct netlink_sock *nlk = nlk_sk(sk);

	if (READ_ONCE(nlk->bound))
		h->flags |= CKPT_SOCK_BOUND;
	if (READ_ONCE(nlk->dst_portid) || READ_ONCE(nlk->dst_group))
		h->flags |= CKPT_SOCK_CONNECT;
}

/* checkpoint: its queue, empty (a message that came since is refused) */
int checkpoint_netlink_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct ckpt_hdr_socket_queue q = { };
	int ret = ckpt_netlink_classify(ctx, sk, fd);

	return ret ?: ckpt_write_obj(ctx, &q, CKPT_HDR_SOCKET_QUEUE, sizeof(q));
}

int restore_netlink_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h)
{
	u32 ok = CKPT_SOCK_PASSCRED | CKPT_SOCK_SNDBUF_LOCK |
		 CKPT_SOCK_RCVBUF_LOCK | CKPT_SOCK_BOUND | CKPT_SOCK_CONNECT |
		 CKPT_SOCK_PASSSEC | CKPT_SOCK_TIMESTAMP |
		 CKPT_SOCK_TIMESTAMPNS | CKPT_SOCK_TSTAMP_NEW |
		 CKPT_SOCK_RXQ_OVFL | CKPT_SOCK_FILTER;

	bool conn = h->state == NETLINK_CONNECTED;

	/* TCP_CLOSE as made, NETLINK_CONNECTED, NETLINK_UNCONNECTED after */
	if ((h->type != SOCK_RAW && h->type != SOCK_DGRAM) ||
	    h->protocol >= MAX_LINKS ||
	    (h->state != TCP_CLOSE && !conn &&
	     h->state != NETLINK_UNCONNECTED) ||
	    conn != !!(h->flags & CKPT_SOCK_CONNECT) || h->peer_id ||
	    (h->flags & ~ok) || h->laddr_len || h->raddr_len || h->shutdown)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad netlink socket (type %u, protocol %u, flags %#x)",
				h->sk_id, h->type, h->protocol, h->flags);
	return 0;
}

/* restart: create, options, bind to its port id and groups, connect */
int restore_netlink(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		    struct socket **psock)
{
	struct ckpt_hdr_socket *h = &e->h;
	struct ckpt_hdr_socket_netlink n;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	struct socket *sock;
	int i, ret, one = 1;

	ret = ckpt_read_obj(ctx, &n, CKPT_HDR_SOCKET_NETLINK, sizeof(n));
	if (ret)
		return ret;
	if (n.flags & ~CKPT_NL_FLAGS || n._padding ||
	    !(n.flags & CKPT_NL_BOUND) != !(h->flags & CKPT_SOCK_BOUND) ||
	    !(n.dst_portid || n.dst_group) != !(h->flags & CKPT_SOCK_CONNECT) ||
	    !(n.portid || n.groups) != !(n.flags & CKPT_NL_BOUND) ||
	    n.dst_group > 64)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad netlink options",
				h->sk_id);
	ret = sock_create(AF_NETLINK, h->type, h->protocol, &sock);
	if (ret)
		return ckpt_err(ctx, ret,
				"socket %u: cannot create its netlink socket (protocol %u)",
				h->sk_id, h->protocol);
	for (i = 0; i < ARRAY_SIZE(ckpt_nl_opts); i++) {
		if (!(n.flags & BIT(i)))
			continue;
		ret = sock->ops->setsockopt(sock, SOL_NETLINK, ckpt_nl_opts[i].opt,
					    KERNEL_SOCKPTR(&one), sizeof(one));
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot set %s", h->sk_id,
				 ckpt_nl_opts[i].name);
			goto err;
		}
	}
	if (n.flags & CKPT_NL_BOUND) {
		a.nl_pid = n.portid;
		a.nl_groups = (u32)n.groups;
		ret = kernel_bind(sock, (struct sockaddr *)&a, sizeof(a));
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot bind netlink port id %u groups %#x",
				 h->sk_id, n.portid, a.nl_groups);
			goto err;
		}
	}
	for (i = 32; i < 64; i++) {
		int group = i + 1;

		if (!(n.groups & BIT_ULL(i)))
			continue;
		ret = sock->ops->setsockopt(sock, SOL_NETLINK,
					    NETLINK_ADD_MEMBERSHIP,
					    KERNEL_SOCKPTR(&group), sizeof(group));
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot join netlink group %d",
				 h->sk_id, group);
			goto err;
		}
	}
	if (n.dst_portid || n.dst_group) {
		a.nl_pid = n.dst_portid;
		a.nl_groups = n.dst_group ? 1U << (n.dst_group - 1) : 0;
		ret = kernel_connect(sock, (struct sockaddr *)&a, sizeof(a), 0);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: cannot connect to netlink port id %u group %u",
				 h->sk_id, n.dst_portid, n.dst_group);
			goto err;
		}
	}
	*psock = sock;
	return 0;
err:
	sock_release(sock);
	return ret;
}
