// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: the UTS and network namespaces of a tree.
 *
 * Every task of the image must be in one UTS namespace, the root's.  If
 * that is the checkpointer's, the image says nothing of it (restart puts
 * the tasks in the caller's); else the root's TREE entry has
 * CKPT_TREE_UTSNS and a CKPT_HDR_UTS_NS record after TREE holds its names,
 * what sethostname() and setdomainname() set (the rest of utsname is the
 * running kernel's).  Restart makes the caller a new UTS namespace with
 * unshare(CLONE_NEWUTS)'s own code and check (CAP_SYS_ADMIN over the
 * caller's user namespace), with those names, before it makes any other
 * task: they are all made in it.  A restart that fails puts the caller
 * back in its own namespaces.
 *
 * Likewise the network namespace (CKPT_TREE_NETNS, CKPT_HDR_NET_NS after
 * UTS_NS): one whose only device is its loopback, with lo's own
 * addresses only (127.0.0.1/8, ::1) and no rules of its own; anything
 * else is refused by name.  The record says whether lo is up and has its
 * addresses, and holds the namespace's ip_local_port_range and
 * ping_group_range; restart makes a new one (unshare(CLONE_NEWNET)'s
 * code and check) in the same unshare as the UTS namespace, brings lo up
 * (and down again) as it was, sets the sysctls and checks lo's addresses,
 * before any task and any socket is made: the sockets of the image are
 * made in it.
 *
 * And the IPC namespace (CKPT_TREE_IPCNS, no record of its own): one
 * whose SysV shm segments are all attached by the tree (each saved as an
 * IPC_SHM record, ipc_shm.c), with no semaphore set, message queue or
 * POSIX message queue and its limits at their defaults (refused by name
 * otherwise); restart makes a new one in the same unshare, and the
 * segments are made in it.
 */

/* ipc/util.h's indices of ipc_namespace.ids */
#define CKPT_IPC_SEM_IDS	0
#define CKPT_IPC_MSG_IDS	1
#define CKPT_IPC_SHM_IDS	2
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/inetdevice.h>
#include <linux/ipc_namespace.h>
#include <linux/msg.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/sem.h>
#include <linux/shm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/net_namespace.h>

/* the first target of a checkpoint is the root: its namespaces are the tree's */
void checkpoint_ns_root(struct ckpt_ctx *ctx, struct task_struct *t)
{
	if (ctx->uts_ns)
		return;
	task_lock(t);
	if (t->nsproxy) {
		ctx->uts_ns = t->nsproxy->uts_ns;
		get_uts_ns(ctx->uts_ns);
		ctx->net_ns = get_net(t->nsproxy->net_ns);
		ctx->ipc_ns = get_ipc_ns(t->nsproxy->ipc_ns);
	}
	task_unlock(t);
}

static bool ckpt_uts_ns_saved(struct ckpt_ctx *ctx)
{
	return ctx->uts_ns && ctx->uts_ns != current->nsproxy->uts_ns;
}

static bool ckpt_net_ns_saved(struct ckpt_ctx *ctx)
{
	return ctx->net_ns && !net_eq(ctx->net_ns, current->nsproxy->net_ns);
}

static bool ckpt_ipc_ns_saved(struct ckpt_ctx *ctx)
{
	return ctx->ipc_ns && ctx->ipc_ns != current->nsproxy->ipc_ns;
}

/* the root's TREE flags: the namespaces of the tree's own */
u32 ckpt_tree_ns_flags(struct ckpt_ctx *ctx)
{
	return (ckpt_uts_ns_saved(ctx) ? CKPT_TREE_UTSNS : 0) |
	       (ckpt_net_ns_saved(ctx) ? CKPT_TREE_NETNS : 0) |
	       (ckpt_ipc_ns_saved(ctx) ? CKPT_TREE_IPCNS : 0);
}

void ckpt_ns_free(struct ckpt_ctx *ctx)
{
	if (ctx->uts_ns)
		put_uts_ns(ctx->uts_ns);
	ctx->uts_ns = NULL;
	if (ctx->net_ns)
		put_net(ctx->net_ns);
	ctx->net_ns = NULL;
	if (ctx->ipc_ns)
		put_ipc_ns(ctx->ipc_ns);
	ctx->ipc_ns = NULL;
	restore_ns_end(ctx, false);
}

static int checkpoint_uts_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_uts_ns h = { };

	BUILD_BUG_ON(sizeof(h) != 144);
	BUILD_BUG_ON(sizeof(h.nodename) != sizeof(ctx->uts_ns->name.nodename));
	BUILD_BUG_ON(sizeof(h.domainname) != sizeof(ctx->uts_ns->name.domainname));
	if (!ckpt_uts_ns_saved(ctx))
		return 0;
	down_read(&uts_sem);
	memcpy(h.nodename, ctx->uts_ns->name.nodename, sizeof(h.nodename));
	memcpy(h.domainname, ctx->uts_ns->name.domainname, sizeof(h.domainname));
	up_read(&uts_sem);
	h.nodename[CKPT_UTS_LEN - 1] = '\0';
	h.domainname[CKPT_UTS_LEN - 1] = '\0';
	ckpt_msg(ctx, "checkpoint: a UTS namespace of the tree's own, hostname \"%s\"",
		 h.nodename);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_UTS_NS, sizeof(h));
}

/* lo's addresses: CKPT_NETNS_LO_INET(6) if it has its own, else a refusal */
static int ckpt_lo_addrs(struct ckpt_ctx *ctx, struct net_device *lo,
			 u32 *flags, bool restart)
{
	struct in_device *in_dev = __in_dev_get_rtnl(lo);
	const struct in_ifaddr *ifa;
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(lo);
	struct inet6_ifaddr *ifp;
#endif
	const char *who = restart ? "restart: " : "";
	int ret = 0;

	ASSERT_RTNL();
	*flags = 0;
	if (in_dev) {
		in_dev_for_each_ifa_rtnl(ifa, in_dev) {
			if (ifa->ifa_local != htonl(INADDR_LOOPBACK) ||
			    ifa->ifa_address != htonl(INADDR_LOOPBACK) ||
			    ifa->ifa_prefixlen != 8 ||
			    *flags & CKPT_NETNS_LO_INET)
				return ckpt_err(ctx, -EOPNOTSUPP,
						"%spid %d: network namespace with address %pI4/%u on lo: not supported",
						who, ctx->tsk_pid, &ifa->ifa_local,
						ifa->ifa_prefixlen);
			*flags |= CKPT_NETNS_LO_INET;
		}
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (!idev)
		return 0;
	read_lock_bh(&idev->lock);
	list_for_each_entry(ifp, &idev->addr_list, if_list) {
		if (!ipv6_addr_loopback(&ifp->addr) || ifp->prefix_len != 128 ||
		    *flags & CKPT_NETNS_LO_INET6) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "%spid %d: network namespace with address %pI6c/%u on lo: not supported",
				       who, ctx->tsk_pid, &ifp->addr, ifp->prefix_len);
			break;
		}
		*flags |= CKPT_NETNS_LO_INET6;
	}
	read_unlock_bh(&idev->lock);
#endif
	return ret;
}

/* what restart cannot make again is refused by name; the rest is saved in @h */
static int checkpoint_net_state(struct ckpt_ctx *ctx, struct net *net,
				struct ckpt_hdr_net_ns *h)
{
	struct user_namespace *user_ns = current_user_ns();
	struct net_device *dev, *lo = net->loopback_dev;
	unsigned int seq;
	kgid_t low, high;
	bool custom;
	int ret = 0;

	rtnl_lock();
	for_each_netdev(net, dev)
		if (dev != lo) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "pid %d: network namespace with device %s: not supported",
				       ctx->tsk_pid, dev->name);
			goto out;
		}
	if (!lo || lo->mtu != 65536 ||
	    lo->flags & ~(IFF_LOOPBACK | IFF_UP)) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "pid %d: network namespace whose lo has MTU %u or flags %#x: not supported",
			       ctx->tsk_pid, lo ? lo->mtu : 0,
			       lo ? lo->flags : 0);
		goto out;
	}
	custom = net->ipv4.fib_has_custom_local_routes;
#ifdef CONFIG_IP_MULTIPLE_TABLES
	custom |= net->ipv4.fib_has_custom_rules;
#endif
#ifdef CONFIG_IPV6_MULTIPLE_TABLES
	custom |= net->ipv6.fib6_has_custom_rules;
#endif
	if (custom) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "pid %d: network namespace with routing rules or local routes of its own: not supported",
			       ctx->tsk_pid);
		goto out;
	}
	ret = ckpt_lo_addrs(ctx, lo, &h->flags, false);
	if (lo->flags & IFF_UP)
		h->flags |= CKPT_NETNS_LO_UP;
	h->lo_mtu = lo->mtu;
out:
	rtnl_unlock();
	if (ret)
		return ret;
	if (READ_ONCE(net->ipv4.sysctl_ip_prot_sock) != PROT_SOCK)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: network namespace with net.ipv4.ip_unprivileged_port_start %d: not supported",
				ctx->tsk_pid, READ_ONCE(net->ipv4.sysctl_ip_prot_sock));
	inet_get_local_port_range(net, &h->port_range[0], &h->port_range[1]);
	do {
		seq = read_seqbegin(&net->ipv4.ping_group_range.lock);
		low = net->ipv4.ping_group_range.range[0];
		high = net->ipv4.ping_group_range.range[1];
	} while (read_seqretry(&net->ipv4.ping_group_range.lock, seq));
	h->ping_gid[0] = from_kgid_munged(user_ns, low);
	h->ping_gid[1] = from_kgid_munged(user_ns, high);
	return 0;
}

static int checkpoint_net_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_net_ns h = { };
	int ret;

	BUILD_BUG_ON(sizeof(h) != 40);
	if (!ckpt_net_ns_saved(ctx))
		return 0;
	ret = checkpoint_net_state(ctx, ctx->net_ns, &h);
	if (ret)
		return ret;
	ckpt_msg(ctx, "checkpoint: a network namespace of the tree's own, lo %s",
		 h.flags & CKPT_NETNS_LO_UP ? "up" : "down");
	return ckpt_write_obj(ctx, &h, CKPT_HDR_NET_NS, sizeof(h));
}

/* the IPC namespace of the tree's own: what restart cannot make again is refused by name */
static int checkpoint_ipc_ns(struct ckpt_ctx *ctx)
{
	struct ipc_namespace *ns = ctx->ipc_ns;
	const char *what = NULL;
	int n = 0;

	if (!ckpt_ipc_ns_saved(ctx))
		return 0;
	if (READ_ONCE(ns->ids[CKPT_IPC_SEM_IDS].in_use))
		what = "SysV semaphore sets", n = READ_ONCE(ns->ids[CKPT_IPC_SEM_IDS].in_use);
	else if (READ_ONCE(ns->ids[CKPT_IPC_MSG_IDS].in_use))
		what = "SysV message queues", n = READ_ONCE(ns->ids[CKPT_IPC_MSG_IDS].in_use);
	else if (READ_ONCE(ns->mq_queues_count))
		what = "POSIX message queues", n = READ_ONCE(ns->mq_queues_count);
	if (what)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace with %d %s: not supported",
				ctx->tsk_pid, n, what);
	if (ns->shm_ctlmax != SHMMAX || ns->shm_ctlall != SHMALL ||
	    ns->shm_ctlmni != SHMMNI || ns->shm_rmid_forced)
		what = "kernel.shmmax, shmall, shmmni or shm_rmid_forced";
	else if (ns->msg_ctlmax != MSGMAX || ns->msg_ctlmnb != MSGMNB ||
		 ns->msg_ctlmni != MSGMNI)
		what = "kernel.msgmax, msgmnb or msgmni";
	else if (ns->sem_ctls[0] != SEMMSL || ns->sem_ctls[1] != SEMMNS ||
		 ns->sem_ctls[2] != SEMOPM || ns->sem_ctls[3] != SEMMNI)
		what = "kernel.sem";
#ifdef CONFIG_POSIX_MQUEUE
	else if (ns->mq_queues_max != DFLT_QUEUESMAX ||
		 ns->mq_msg_max != DFLT_MSGMAX ||
		 ns->mq_msgsize_max != DFLT_MSGSIZEMAX ||
		 ns->mq_msg_default != DFLT_MSG ||
		 ns->mq_msgsize_default != DFLT_MSGSIZE)
		what = "fs.mqueue limits";
#endif
	if (what)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace whose %s differ from the defaults: not supported",
				ctx->tsk_pid, what);
	ckpt_msg(ctx, "checkpoint: an IPC namespace of the tree's own");
	return 0;
}

/* after every task: each segment of the namespace was saved (attached by the tree) */
int checkpoint_tree_ns_end(struct ckpt_ctx *ctx)
{
	int n;

	if (!ckpt_ipc_ns_saved(ctx))
		return 0;
	n = READ_ONCE(ctx->ipc_ns->ids[CKPT_IPC_SHM_IDS].in_use);
	if (n != ckpt_sysv_shm_saved(ctx))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace with %d SysV shm segments, %d of them attached by the tree: not supported",
				ctx->tsk_pid, n, ckpt_sysv_shm_saved(ctx));
	return 0;
}

/* after TREE, as the root's entry says */
int checkpoint_tree_ns(struct ckpt_ctx *ctx)
{
	return checkpoint_uts_ns(ctx) ?: checkpoint_net_ns(ctx) ?:
	       checkpoint_ipc_ns(ctx);
}

static int restore_uts_ns_read(struct ckpt_ctx *ctx,
			       struct ckpt_hdr_uts_ns *h)
{
	int ret = ckpt_read_obj(ctx, h, CKPT_HDR_UTS_NS, sizeof(*h));

	if (ret)
		return ret;
	if (strnlen(h->nodename, CKPT_UTS_LEN) == CKPT_UTS_LEN ||
	    strnlen(h->domainname, CKPT_UTS_LEN) == CKPT_UTS_LEN ||
	    memchr_inv(h->_padding, 0, sizeof(h->_padding)))
		return ckpt_err(ctx, -EINVAL, "UTS namespace: bad names");
	return 0;
}

static int restore_net_ns_read(struct ckpt_ctx *ctx, struct ckpt_hdr_net_ns *h)
{
	int ret = ckpt_read_obj(ctx, h, CKPT_HDR_NET_NS, sizeof(*h));

	if (ret)
		return ret;
	if (h->flags & ~CKPT_NETNS_FLAGS || h->lo_mtu != 65536 ||
	    memchr_inv(h->_padding, 0, sizeof(h->_padding)) ||
	    (h->flags & CKPT_NETNS_LO_UP &&
	     (h->flags & CKPT_NETNS_LO_INET) != CKPT_NETNS_LO_INET))
		return ckpt_err(ctx, -EINVAL,
				"network namespace: bad lo state (flags %#x, MTU %u)",
				h->flags, h->lo_mtu);
	/* what the sysctl accepts (ip_unprivileged_port_start is 1024) */
	if (h->port_range[0] < PROT_SOCK || h->port_range[1] > 65535 ||
	    h->port_range[1] < h->port_range[0])
		return ckpt_err(ctx, -EINVAL,
				"network namespace: bad net.ipv4.ip_local_port_range %d %d",
				h->port_range[0], h->port_range[1]);
	return 0;
}

/* the new namespace, the caller's already: lo and the sysctls as saved */
static int restore_net_state(struct ckpt_ctx *ctx, struct net *net,
			     struct ckpt_hdr_net_ns *h)
{
	struct user_namespace *user_ns = current_user_ns();
	struct net_device *lo = net->loopback_dev;
	kgid_t low, high;
	u32 flags;
	int ret = 0;

	low = make_kgid(user_ns, h->ping_gid[0]);
	high = make_kgid(user_ns, h->ping_gid[1]);
	if (!gid_valid(low) || !gid_valid(high))
		return ckpt_err(ctx, -EINVAL,
				"network namespace: net.ipv4.ping_group_range %u %u: gids the caller's user namespace does not map",
				h->ping_gid[0], h->ping_gid[1]);
	if (h->ping_gid[1] < h->ping_gid[0] || gid_lt(high, low)) {
		low = make_kgid(&init_user_ns, 1);	/* nobody: the default */
		high = make_kgid(&init_user_ns, 0);
	}
	rtnl_lock();
	/* lo gets its addresses when it comes up: up, and down again if it was */
	if (h->flags & (CKPT_NETNS_LO_UP | CKPT_NETNS_LO_INET | CKPT_NETNS_LO_INET6))
		ret = dev_change_flags(lo, lo->flags | IFF_UP, NULL);
	if (!ret && !(h->flags & CKPT_NETNS_LO_UP))
		ret = dev_change_flags(lo, lo->flags & ~IFF_UP, NULL);
	if (ret)
		ckpt_err(ctx, ret, "network namespace: cannot bring lo %s",
			 h->flags & CKPT_NETNS_LO_UP ? "up" : "down");
	else
		ret = ckpt_lo_addrs(ctx, lo, &flags, true);
	if (!ret && (flags | CKPT_NETNS_LO_UP) !=
	    (h->flags | CKPT_NETNS_LO_UP))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "network namespace: lo's addresses cannot be made again as they were (flags %#x, now %#x)",
			       h->flags, flags);
	rtnl_unlock();
	if (ret)
		return ret;
	write_seqlock_bh(&net->ipv4.ip_local_ports.lock);
	net->ipv4.ip_local_ports.range[0] = h->port_range[0];
	net->ipv4.ip_local_ports.range[1] = h->port_range[1];
	write_sequnlock_bh(&net->ipv4.ip_local_ports.lock);
	write_seqlock(&net->ipv4.ping_group_range.lock);
	net->ipv4.ping_group_range.range[0] = low;
	net->ipv4.ping_group_range.range[1] = high;
	write_sequnlock(&net->ipv4.ping_group_range.lock);
	return 0;
}

/*
 * restart, on the caller, after TREE: the namespaces of the tree's own
 * (@flags, the root's), made new in one unshare, before any task
 */
int restore_tree_ns(struct ckpt_ctx *ctx, u32 flags)
{
	struct ckpt_hdr_uts_ns *uh = NULL;
	struct ckpt_hdr_net_ns nh = { };
	unsigned long clone = 0;
	struct uts_namespace *uts;
	struct nsproxy *new;
	int ret = 0;

	if (ctx->rst_old_ns)
		return ckpt_err(ctx, -EINVAL, "namespaces: a second set");
	if (flags & CKPT_TREE_UTSNS) {
		uh = kmalloc(sizeof(*uh), GFP_KERNEL);
		if (!uh)
			return -ENOMEM;
		ret = restore_uts_ns_read(ctx, uh);
		clone |= CLONE_NEWUTS;
	}
	if (!ret && flags & CKPT_TREE_NETNS) {
		ret = restore_net_ns_read(ctx, &nh);
		clone |= CLONE_NEWNET;
	}
	if (flags & CKPT_TREE_IPCNS)
		clone |= CLONE_NEWIPC;
	if (ret)
		goto out;
	ret = unshare_nsproxy_namespaces(clone, &new, NULL, NULL);
	if (ret) {
		ckpt_err(ctx, ret, "%s namespace: cannot make a new one%s",
			 clone & CLONE_NEWUTS ? "UTS" :
			 clone & CLONE_NEWNET ? "network" : "IPC",
			 ret == -EPERM ? ": it needs CAP_SYS_ADMIN" : "");
		goto out;
	}
	if (uh) {
		uts = new->uts_ns;
		down_write(&uts_sem);
		memcpy(uts->name.nodename, uh->nodename, CKPT_UTS_LEN);
		memcpy(uts->name.domainname, uh->domainname, CKPT_UTS_LEN);
		up_write(&uts_sem);
	}
	/* from now on a failure puts the caller back (restore_ns_end()) */
	get_nsproxy(current->nsproxy);
	ctx->rst_old_ns = current->nsproxy;
	switch_task_namespaces(current, new);
	if (uh)
		ckpt_msg(ctx, "restart: a new UTS namespace, hostname \"%s\"",
			 uh->nodename);
	if (clone & CLONE_NEWNET) {
		ret = restore_net_state(ctx, new->net_ns, &nh);
		if (!ret)
			ckpt_msg(ctx, "restart: a new network namespace, lo %s",
				 nh.flags & CKPT_NETNS_LO_UP ? "up" : "down");
	}
	if (!ret && clone & CLONE_NEWIPC)
		ckpt_msg(ctx, "restart: a new IPC namespace");
out:
	kfree(uh);
	return ret;
}

/*
 * At the commit (@ok) the caller keeps the new namespaces; a failed
 * restart puts it back in its own (the tasks it made are killed).
 */
void restore_ns_end(struct ckpt_ctx *ctx, bool ok)
{
	struct nsproxy *old = ctx->rst_old_ns;

	if (!old)
		return;
	ctx->rst_old_ns = NULL;
	if (ok)
		put_nsproxy(old);
	else
		switch_task_namespaces(current, old);
}
