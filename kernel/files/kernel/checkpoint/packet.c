// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: packet sockets (AF_PACKET, SOCK_RAW and SOCK_DGRAM):
 * the protocol they are bound to (network order) and the device by its
 * name (an ifindex is the machine's), PACKET_VERSION, PACKET_AUXDATA,
 * PACKET_ORIGDEV, PACKET_VNET_HDR, PACKET_RESERVE, PACKET_COPY_THRESH,
 * PACKET_QDISC_BYPASS (patch 0027), PACKET_IGNORE_OUTGOING, PACKET_LOSS,
 * PACKET_TIMESTAMP, the PACKET_STATISTICS counters and the memberships
 * (PACKET_ADD_MEMBERSHIP, each device by name) in a SOCKET_PACKET record
 * and its SOCKET_PACKET_MC records.  Restart creates the socket with the
 * caller's rights (CAP_NET_RAW, else EPERM), sets the options through
 * packet_setsockopt(), binds it to the device of that name (ENODEV naming
 * it if there is none) and adds the memberships.
 *
 * Refused at checkpoint by name (EOPNOTSUPP): SOCK_PACKET, an mmap ring
 * (PACKET_RX_RING, PACKET_TX_RING), PACKET_FANOUT, PACKET_TX_HAS_OFF,
 * packets queued (they cannot be queued again as they came), a device
 * that was removed, more memberships than CKPT_PACKET_MC_MAX.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/if_packet.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/sockptr.h>
#include <net/sock.h>

#include "../../net/core/dev.h"
#include "../../net/packet/internal.h"
#include "socket.h"

/* the options of the flags of SOCKET_PACKET, in the order of their bits */
static const struct {
	int opt;
	const char *name;
} ckpt_packet_opts[] = {
	{ PACKET_AUXDATA, "PACKET_AUXDATA" },
	{ PACKET_ORIGDEV, "PACKET_ORIGDEV" },
	{ PACKET_VNET_HDR, "PACKET_VNET_HDR" },
	{ PACKET_LOSS, "PACKET_LOSS" },
	{ PACKET_QDISC_BYPASS, "PACKET_QDISC_BYPASS" },
	{ PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING" },
};

/* struct packet_mreq with the longest address (af_packet.c's packet_mreq_max) */
struct ckpt_packet_mreq {
	int mr_ifindex;
	unsigned short mr_type;
	unsigned short mr_alen;
	unsigned char mr_address[MAX_ADDR_LEN];
};

/* what SOCKET_PACKET cannot carry, or NULL */
static const char *ckpt_packet_unsupported(struct sock *sk)
{
	struct packet_sock *po = pkt_sk(sk);

	if (sk->sk_type == SOCK_PACKET)
		return "the obsolete type SOCK_PACKET";
	if (READ_ONCE(po->rx_ring.pg_vec) || atomic_long_read(&po->mapped))
		return "an mmap ring (PACKET_RX_RING)";
	if (READ_ONCE(po->tx_ring.pg_vec))
		return "an mmap ring (PACKET_TX_RING)";
	if (READ_ONCE(po->fanout))
		return "PACKET_FANOUT";
	if (packet_sock_flag(po, PACKET_SOCK_TX_HAS_OFF))
		return "PACKET_TX_HAS_OFF";
	if (READ_ONCE(po->ifindex) < 0)
		return "a bound device that was removed";
	return NULL;
}

int ckpt_packet_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	u32 queued = skb_queue_len_lockless(&sk->sk_receive_queue);
	const char *what = ckpt_packet_unsupported(sk);

	if (what)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet socket with %s not supported",
				fd, what);
	if (queued)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet socket with queued packets (%u) not supported",
				fd, queued);
	return 0;
}

/* checkpoint: its memberships by device name, under the RTNL; how many */
static int checkpoint_packet_mclist(struct ckpt_ctx *ctx, struct sock *sk,
				    int fd, struct ckpt_hdr_socket_packet_mc *mc)
{
	struct packet_sock *po = pkt_sk(sk);
	struct packet_mclist *ml;
	struct net_device *dev;
	int n = 0, ret = 0;

	rtnl_lock();
	for (ml = po->mclist; ml && !ret; ml = ml->next) {
		dev = __dev_get_by_index(sock_net(sk), ml->ifindex);
		if (n == CKPT_PACKET_MC_MAX)
			ret = -E2BIG;
		else if (!dev)
			ret = -ENODEV;
		else if (ml->alen > CKPT_PACKET_ADDR_MAX ||
			 ml->count < 1 || ml->count > CKPT_PACKET_MC_COUNT)
			ret = -ERANGE;
		if (ret)
			break;
		strscpy(mc[n].ifname, dev->name, sizeof(mc[n].ifname));
		mc[n].type = ml->type;
		mc[n].alen = ml->alen;
		mc[n].count = ml->count;
		memcpy(mc[n].addr, ml->addr, ml->alen);
		n++;
	}
	rtnl_unlock();
	if (ret == -E2BIG)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet socket with more than %u memberships not supported",
				fd, CKPT_PACKET_MC_MAX);
	if (ret == -ENODEV)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet socket with a membership of a device that was removed not supported",
				fd);
	if (ret)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet socket with a membership added more than %u times not supported",
				fd, CKPT_PACKET_MC_COUNT);
	return n;
}

/* checkpoint: SOCKET_PACKET and its memberships, after the strings */
int checkpoint_packet(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct packet_sock *po = pkt_sk(sk);
	struct ckpt_hdr_socket_packet p = { };
	struct ckpt_hdr_socket_packet_mc *mc;
	const char *what;
	int i, n, ifindex, ret = 0;

	mc = kcalloc(CKPT_PACKET_MC_MAX, sizeof(*mc), GFP_KERNEL);
	if (!mc)
		return -ENOMEM;
	lock_sock(sk);
	/* a ring, fanout, ... set since it was classified */
	what = ckpt_packet_unsupported(sk);
	spin_lock(&po->bind_lock);
	p.proto = po->num;
	ifindex = po->ifindex;
	spin_unlock(&po->bind_lock);
	p.version = po->tp_version;
	p.reserve = po->tp_reserve;
	p.copy_thresh = READ_ONCE(po->copy_thresh);
	p.tstamp = READ_ONCE(po->tp_tstamp);
	if (packet_sock_flag(po, PACKET_SOCK_AUXDATA))
		p.flags |= CKPT_PACKET_AUXDATA;
	if (packet_sock_flag(po, PACKET_SOCK_ORIGDEV))
		p.flags |= CKPT_PACKET_ORIGDEV;
	if (packet_sock_flag(po, PACKET_SOCK_HAS_VNET_HDR))
		p.flags |= CKPT_PACKET_VNET_HDR;
	if (packet_sock_flag(po, PACKET_SOCK_TP_LOSS))
		p.flags |= CKPT_PACKET_LOSS;
	if (packet_use_direct_xmit(po))
		p.flags |= CKPT_PACKET_QDISC_BYPASS;
	if (READ_ONCE(po->prot_hook.ignore_outgoing))
		p.flags |= CKPT_PACKET_IGNORE_OUTGOING;
	spin_lock_bh(&sk->sk_receive_queue.lock);
	p.stat_packets = po->stats.stats1.tp_packets;
	spin_unlock_bh(&sk->sk_receive_queue.lock);
	p.stat_drops = atomic_read(&po->tp_drops);
	release_sock(sk);
	if (what) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "fd %d: packet socket with %s not supported",
			       fd, what);
		goto out;
	}
	if (ifindex) {
		ret = netdev_get_name(sock_net(sk), p.ifname, ifindex);
		if (ret) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: packet socket bound to a device that was removed not supported",
				       fd);
			goto out;
		}
		p.flags |= CKPT_PACKET_BOUND;
	}
	n = checkpoint_packet_mclist(ctx, sk, fd, mc);
	if (n < 0) {
		ret = n;
		goto out;
	}
	p.nmc = n;
	ret = ckpt_write_obj(ctx, &p, CKPT_HDR_SOCKET_PACKET, sizeof(p));
	for (i = 0; i < n && !ret; i++)
		ret = ckpt_write_obj(ctx, &mc[i], CKPT_HDR_SOCKET_PACKET_MC,
				     sizeof(mc[i]));
out:
	kfree(mc);
	return ret;
}

/* checkpoint: its queue, empty (a packet that came since is refused) */
int checkpoint_packet_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct ckpt_hdr_socket_queue q = { };
	int ret = ckpt_packet_classify(ctx, sk, fd);

	return ret ?: ckpt_write_obj(ctx, &q, CKPT_HDR_SOCKET_QUEUE, sizeof(q));
}

int restore_packet_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h)
{
	u32 ok = CKPT_SOCK_PASSCRED | CKPT_SOCK_SNDBUF_LOCK |
		 CKPT_SOCK_RCVBUF_LOCK | CKPT_SOCK_PASSSEC |
		 CKPT_SOCK_TIMESTAMP | CKPT_SOCK_TIMESTAMPNS |
		 CKPT_SOCK_TSTAMP_NEW | CKPT_SOCK_RXQ_OVFL | CKPT_SOCK_FILTER;

	/* sk_protocol: packet_create() leaves it 0 (the protocol is po->num) */
	if ((h->type != SOCK_RAW && h->type != SOCK_DGRAM) || h->protocol ||
	    h->state != TCP_CLOSE || h->peer_id || (h->flags & ~ok) ||
	    h->laddr_len || h->raddr_len || h->shutdown || h->backlog)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad packet socket (type %u, protocol %#x, flags %#x)",
				h->sk_id, h->type, h->protocol, h->flags);
	return 0;
}

static bool restore_packet_ifname_ok(const char *name, bool empty)
{
	size_t len = strnlen(name, CKPT_PACKET_IFNAMSIZ);

	if (len == CKPT_PACKET_IFNAMSIZ)
		return false;
	if (!len)
		return empty && !memchr_inv(name, 0, CKPT_PACKET_IFNAMSIZ);
	return dev_valid_name(name);
}

static int restore_packet_opt(struct socket *sock, int opt, int val)
{
	return sock->ops->setsockopt(sock, SOL_PACKET, opt,
				     KERNEL_SOCKPTR(&val), sizeof(val));
}

/* the ifindex of device @name in the caller's namespace, or -ENODEV */
static int restore_packet_ifindex(const char *name)
{
	struct net_device *dev;
	int ifindex = -ENODEV;

	rcu_read_lock();
	dev = dev_get_by_name_rcu(current->nsproxy->net_ns, name);
	if (dev)
		ifindex = dev->ifindex;
	rcu_read_unlock();
	return ifindex;
}

/* restart: one SOCKET_PACKET_MC, checked */
static int restore_packet_mc_read(struct ckpt_ctx *ctx, struct ckpt_sk *e,
				  struct ckpt_hdr_socket_packet_mc *mc)
{
	int ret = ckpt_read_obj(ctx, mc, CKPT_HDR_SOCKET_PACKET_MC, sizeof(*mc));

	if (ret)
		return ret;
	if (!restore_packet_ifname_ok(mc->ifname, false) ||
	    mc->type > PACKET_MR_UNICAST || mc->alen > CKPT_PACKET_ADDR_MAX ||
	    mc->count < 1 || mc->count > CKPT_PACKET_MC_COUNT ||
	    memchr_inv(mc->addr + mc->alen, 0, sizeof(mc->addr) - mc->alen))
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad packet membership (type %u, %u bytes, %u times)",
				e->h.sk_id, mc->type, mc->alen, mc->count);
	return 0;
}

/* restart: a membership, added as many times as it was */
static int restore_packet_mc(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			     struct socket *sock,
			     const struct ckpt_hdr_socket_packet_mc *mc)
{
	struct ckpt_packet_mreq mreq = { };
	u32 i;
	int ret;

	ret = restore_packet_ifindex(mc->ifname);
	if (ret < 0)
		return ckpt_err(ctx, ret,
				"socket %u: no device %s for its packet membership",
				e->h.sk_id, mc->ifname);
	mreq.mr_ifindex = ret;
	mreq.mr_type = mc->type;
	mreq.mr_alen = mc->alen;
	memcpy(mreq.mr_address, mc->addr, mc->alen);
	for (i = 0; i < mc->count; i++) {
		ret = sock->ops->setsockopt(sock, SOL_PACKET,
					    PACKET_ADD_MEMBERSHIP,
					    KERNEL_SOCKPTR(&mreq), sizeof(mreq));
		if (ret)
			return ckpt_err(ctx, ret,
					"socket %u: cannot add its packet membership (type %u) of %s",
					e->h.sk_id, mc->type, mc->ifname);
	}
	return 0;
}

/* restart: the options through packet_setsockopt(), as the program set them */
static int restore_packet_opts(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			       struct ckpt_hdr_socket_packet *p,
			       struct socket *sock)
{
	int i, ret;

	ret = restore_packet_opt(sock, PACKET_VERSION, p->version);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot set PACKET_VERSION %u",
				e->h.sk_id, p->version);
	ret = restore_packet_opt(sock, PACKET_RESERVE, p->reserve);
	if (!ret)
		ret = restore_packet_opt(sock, PACKET_COPY_THRESH,
					 p->copy_thresh);
	if (!ret)
		ret = restore_packet_opt(sock, PACKET_TIMESTAMP, p->tstamp);
	if (ret)
		return ckpt_err(ctx, ret,
				"socket %u: cannot set PACKET_RESERVE, PACKET_COPY_THRESH or PACKET_TIMESTAMP",
				e->h.sk_id);
	for (i = 0; i < ARRAY_SIZE(ckpt_packet_opts); i++) {
		if (!(p->flags & BIT(i)))
			continue;
		ret = restore_packet_opt(sock, ckpt_packet_opts[i].opt, 1);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: cannot set %s",
					e->h.sk_id, ckpt_packet_opts[i].name);
	}
	return 0;
}

/* restart: create, options, bind to its device and protocol, memberships */
int restore_packet(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		   struct socket **psock)
{
	struct ckpt_hdr_socket *h = &e->h;
	struct ckpt_hdr_socket_packet_mc *mc = NULL;
	struct ckpt_hdr_socket_packet p;
	struct sockaddr_ll a = { .sll_family = AF_PACKET };
	struct packet_sock *po;
	struct socket *sock;
	u32 i;
	int ret;

	ret = ckpt_read_obj(ctx, &p, CKPT_HDR_SOCKET_PACKET, sizeof(p));
	if (ret)
		return ret;
	if (p.flags & ~CKPT_PACKET_FLAGS || p._padding[0] || p._padding[1] ||
	    p.version > TPACKET_V3 || p.reserve > INT_MAX ||
	    p.nmc > CKPT_PACKET_MC_MAX ||
	    !restore_packet_ifname_ok(p.ifname,
				      !(p.flags & CKPT_PACKET_BOUND)) ||
	    ((p.flags & CKPT_PACKET_VNET_HDR) && h->type != SOCK_RAW))
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad packet socket options (flags %#x, version %u, %u memberships)",
				h->sk_id, p.flags, p.version, p.nmc);
	if (p.nmc) {
		mc = kcalloc(p.nmc, sizeof(*mc), GFP_KERNEL);
		if (!mc)
			return -ENOMEM;
	}
	for (i = 0; i < p.nmc; i++) {
		ret = restore_packet_mc_read(ctx, e, &mc[i]);
		if (ret)
			goto out;
	}
	/* with its protocol, as socket() made it: on every device until bound */
	ret = sock_create(AF_PACKET, h->type, (__force int)p.proto, &sock);
	if (ret) {
		ckpt_err(ctx, ret,
			 "socket %u: cannot create its packet socket (protocol %#x)%s",
			 h->sk_id, ntohs(p.proto),
			 ret == -EPERM ? ": CAP_NET_RAW needed" : "");
		goto out;
	}
	ret = restore_packet_opts(ctx, e, &p, sock);
	if (ret)
		goto err;
	if (p.flags & CKPT_PACKET_BOUND) {
		a.sll_protocol = p.proto;
		ret = restore_packet_ifindex(p.ifname);
		if (ret < 0) {
			ckpt_err(ctx, ret,
				 "socket %u: no device %s to bind its packet socket to",
				 h->sk_id, p.ifname);
			goto err;
		}
		a.sll_ifindex = ret;
		ret = kernel_bind(sock, (struct sockaddr *)&a, sizeof(a));
		if (ret) {
			ckpt_err(ctx, ret,
				 "socket %u: cannot bind its packet socket to %s protocol %#x",
				 h->sk_id, p.ifname[0] ? p.ifname : "any device",
				 ntohs(p.proto));
			goto err;
		}
	}
	/* the last saved first: the kernel's list comes back in its order */
	for (i = p.nmc; i > 0; i--) {
		ret = restore_packet_mc(ctx, e, sock, &mc[i - 1]);
		if (ret)
			goto err;
	}
	/* the counters PACKET_STATISTICS reads (and clears) */
	po = pkt_sk(sock->sk);
	spin_lock_bh(&sock->sk->sk_receive_queue.lock);
	po->stats.stats1.tp_packets = p.stat_packets;
	spin_unlock_bh(&sock->sk->sk_receive_queue.lock);
	atomic_set(&po->tp_drops, p.stat_drops);
	*psock = sock;
	kfree(mc);
	return 0;
err:
	sock_release(sock);
out:
	kfree(mc);
	return ret;
}
