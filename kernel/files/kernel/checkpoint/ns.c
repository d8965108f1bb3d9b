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
 * addresses; a CKPT_HDR_NET_SYSCTL record after it holds each sysctl of
 * the namespace (below); restart makes a new one (unshare(CLONE_NEWNET)'s
 * code and check) in the same unshare as the UTS namespace, sets the
 * sysctls, brings lo up (and down again) as it was and checks lo's
 * addresses, before any task and any socket is made: the sockets of the
 * image are made in it.
 *
 * The sysctls are every entry of the namespace's ctl_table_set
 * (net->sysctls, what register_net_sysctl() registered: net.core.*,
 * net.ipv4.*, net.ipv4.conf.{all,default,lo}.*, net.ipv4.neigh.*,
 * net.ipv6.*, net.unix.*, ...), walked with sysctl_set_for_each(), read
 * at checkpoint through the entry's own proc_handler as a read of its
 * /proc/sys file would be (with the checkpointer's rights to read it, else
 * EACCES), all of them: restart reads the same entry of the namespace it
 * made and writes the saved text through the handler where it differs,
 * with the caller's rights to write the file (sysctl_entry_perm(): the
 * entry's mode, which net_ctl_permissions() extends to whoever has
 * CAP_NET_ADMIN over the namespace's user namespace), then reads them
 * all again until none differs (a write may change others:
 * net.ipv4.ip_forward sets every device's forwarding; one may need
 * another first: ip_local_port_range above ip_unprivileged_port_start),
 * at most CKPT_SYSCTL_PASSES times.  A write the handler refuses fails the
 * restart with its errno, naming the sysctl; so does an entry of the image
 * the new namespace lacks (ENOENT), and one that stays unlike the image
 * (EOPNOTSUPP).  An entry the image lacks is left as the namespace was
 * made.  Not saved: entries no one may read (net.ipv4.route.flush,
 * net.ipv6.route.flush, 0200: actions, not state) or write (0444:
 * counters and state of the kernel's own), and those whose read fails
 * (net.ipv6.conf.*.stable_secret while it is not set: EIO), each named
 * in the log.
 *
 * And the IPC namespace (CKPT_TREE_IPCNS, CKPT_HDR_IPC_NS after NET_NS):
 * one whose SysV shm segments are all attached by the tree (each saved as
 * an IPC_SHM record, ipc_shm.c), with no POSIX message queue and its
 * fs.mqueue limits at their defaults (refused by name otherwise); its
 * limits (kernel.shm*, msg*, sem), message queues and semaphore sets are
 * saved by ipc_ns.c.  Restart makes a new one in the same unshare, sets
 * its limits and makes its queues and sets in it before any task; the
 * segments are made in it.
 */

/* ipc/util.h's indices of ipc_namespace.ids */
#define CKPT_IPC_SEM_IDS	0
#define CKPT_IPC_MSG_IDS	1
#define CKPT_IPC_SHM_IDS	2
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/delay.h>
#include <linux/inetdevice.h>
#include <linux/ipc_namespace.h>
#include <linux/msg.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sem.h>
#include <linux/shm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysctl.h>
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
	ckpt_ipc_ns_free(ctx);
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
	struct net_device *dev, *lo = net->loopback_dev;
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
	return ret;
}

/* the sysctls: at most this many walks of the new namespace's at restart */
#define CKPT_SYSCTL_PASSES	8

/*
 * A handler that found rtnl taken asks for the system call again
 * (restart_syscall(): -ERESTARTNOINTR and TIF_SIGPENDING): the flag off
 * again (a real signal keeps it), a moment, and the call again here.
 */
static bool ckpt_sysctl_again(int *ret, int *tries)
{
	if (*ret != -ERESTARTNOINTR)
		return false;
	spin_lock_irq(&current->sighand->siglock);
	recalc_sigpending();
	spin_unlock_irq(&current->sighand->siglock);
	if (fatal_signal_pending(current)) {
		*ret = -EINTR;
		return false;
	}
	if (++*tries > 1000) {
		*ret = -EBUSY;
		return false;
	}
	usleep_range(100, 200);
	return true;
}

/* what a read of the sysctl gives, in @buf (CKPT_NET_SYSCTL_VALUE_MAX + 1 bytes) */
static int ckpt_sysctl_read(struct ctl_table *table, char *buf, size_t *len)
{
	int ret, tries = 0;
	loff_t pos;

	do {
		memset(buf, 0, CKPT_NET_SYSCTL_VALUE_MAX + 1);
		*len = CKPT_NET_SYSCTL_VALUE_MAX;
		pos = 0;
		ret = table->proc_handler(table, 0, buf, len, &pos);
	} while (ckpt_sysctl_again(&ret, &tries));
	if (!ret && *len >= CKPT_NET_SYSCTL_VALUE_MAX)
		ret = -E2BIG;
	return ret;
}

/* a write of @len bytes of @value, as a write() of them to its file */
static int ckpt_sysctl_write(struct ctl_table *table, const char *value,
			     size_t len, char *buf)
{
	int ret, tries = 0;
	size_t n;
	loff_t pos;

	do {
		memset(buf, 0, CKPT_NET_SYSCTL_VALUE_MAX + 1);
		memcpy(buf, value, len);
		n = len;
		pos = 0;
		ret = table->proc_handler(table, 1, buf, &n, &pos);
	} while (ckpt_sysctl_again(&ret, &tries));
	return ret;
}

/* the length of a value to print in a message: without its newline */
static int ckpt_sysctl_shown(const char *value, size_t len)
{
	while (len && (value[len - 1] == '\n' || value[len - 1] == ' '))
		len--;
	return len;
}

/* checkpoint: the records, made in @recs as they are written */
struct ckpt_sysctl_save {
	struct ckpt_ctx *ctx;
	char *buf;
	void *recs;
	size_t size, alloc;
	u32 nr;
};

static int ckpt_sysctl_save_one(struct ctl_table_header *head,
				struct ctl_table *table, const char *path,
				void *arg)
{
	struct ckpt_sysctl_save *s = arg;
	struct ckpt_ctx *ctx = s->ctx;
	struct ckpt_hdr_net_sysctl *h;
	size_t nlen = strlen(path), vlen, len, need;
	void *recs;
	int ret;

	/* write-only (an action: route.flush) or read-only (the kernel's) */
	if (!(table->mode & 0444) || !(table->mode & 0222) ||
	    !table->proc_handler)
		return 0;
	if (nlen >= CKPT_NET_SYSCTL_NAME_MAX)
		return ckpt_err(ctx, -ENAMETOOLONG,
				"pid %d: network namespace: sysctl %s: name too long",
				ctx->tsk_pid, path);
	ret = sysctl_entry_perm(head, table, MAY_READ);
	if (ret)
		return ckpt_err(ctx, ret,
				"pid %d: network namespace: sysctl %s: the checkpointer may not read it",
				ctx->tsk_pid, path);
	ret = ckpt_sysctl_read(table, s->buf, &vlen);
	if (ret == -E2BIG)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: network namespace: sysctl %s: a value over %d bytes: not supported",
				ctx->tsk_pid, path, CKPT_NET_SYSCTL_VALUE_MAX - 1);
	if (ret == -EINTR || ret == -EBUSY || ret == -ENOMEM)
		return ckpt_err(ctx, ret,
				"pid %d: network namespace: sysctl %s: cannot read it now",
				ctx->tsk_pid, path);
	if (ret) {
		ckpt_msg(ctx,
			 "checkpoint: network namespace: sysctl %s not saved: its read fails (%d)",
			 path, ret);
		return 0;
	}
	if (memchr(s->buf, 0, vlen))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: network namespace: sysctl %s: a value with a NUL: not supported",
				ctx->tsk_pid, path);
	if (s->nr >= CKPT_NET_SYSCTL_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: network namespace: more than %d sysctls: not supported",
				ctx->tsk_pid, CKPT_NET_SYSCTL_MAX);
	len = sizeof(*h) + nlen + vlen;
	need = s->size + ALIGN(len, CKPT_HDR_ALIGN);
	if (need > s->alloc) {
		need = max3(need, 2 * s->alloc, (size_t)SZ_16K);
		recs = kvrealloc(s->recs, s->alloc, need, GFP_KERNEL);
		if (!recs)
			return -ENOMEM;
		s->recs = recs;
		s->alloc = need;
		need = s->size + ALIGN(len, CKPT_HDR_ALIGN);
	}
	h = s->recs + s->size;
	memset(h, 0, ALIGN(len, CKPT_HDR_ALIGN));
	h->h.type = CKPT_HDR_NET_SYSCTL;
	h->h.len = len;
	h->name_len = nlen;
	h->value_len = vlen;
	memcpy(h + 1, path, nlen);
	memcpy((char *)(h + 1) + nlen, s->buf, vlen);
	s->size = need;
	s->nr++;
	return 0;
}

static int checkpoint_net_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_sysctl_save s = { .ctx = ctx };
	struct ckpt_hdr_net_ns h = { };
	ktime_t t0;
	int ret;

	BUILD_BUG_ON(sizeof(h) != 40);
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_net_sysctl) != 16);
	BUILD_BUG_ON(CKPT_NET_SYSCTL_NAME_MAX > SYSCTL_SET_PATH_MAX);
	if (!ckpt_net_ns_saved(ctx))
		return 0;
	ret = checkpoint_net_state(ctx, ctx->net_ns, &h);
	if (ret)
		return ret;
	s.buf = kmalloc(CKPT_NET_SYSCTL_VALUE_MAX + 1, GFP_KERNEL);
	if (!s.buf)
		return -ENOMEM;
	t0 = ktime_get();
	ret = sysctl_set_for_each(&ctx->net_ns->sysctls, ckpt_sysctl_save_one, &s);
	if (ret)
		goto out;
	h.nr_sysctl = s.nr;
	ckpt_msg(ctx,
		 "checkpoint: a network namespace of the tree's own, lo %s, %u sysctls (%zu bytes, read in %lld us)",
		 h.flags & CKPT_NETNS_LO_UP ? "up" : "down", s.nr, s.size,
		 ktime_us_delta(ktime_get(), t0));
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_NET_NS, sizeof(h));
	if (!ret && s.size)
		ret = ckpt_kwrite(ctx, s.recs, s.size);
out:
	kvfree(s.recs);
	kfree(s.buf);
	return ret;
}

/*
 * the IPC namespace of the tree's own: its limits, message queues and
 * semaphore sets saved (ipc_ns.c), what restart cannot make again refused
 * by name
 */
static int checkpoint_ipc_ns(struct ckpt_ctx *ctx)
{
	struct ipc_namespace *ns = ctx->ipc_ns;
	int ret;

	if (!ckpt_ipc_ns_saved(ctx))
		return 0;
	if (READ_ONCE(ns->mq_queues_count))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace with %d POSIX message queues: not supported",
				ctx->tsk_pid, READ_ONCE(ns->mq_queues_count));
#ifdef CONFIG_POSIX_MQUEUE
	if (ns->mq_queues_max != DFLT_QUEUESMAX ||
	    ns->mq_msg_max != DFLT_MSGMAX ||
	    ns->mq_msgsize_max != DFLT_MSGSIZEMAX ||
	    ns->mq_msg_default != DFLT_MSG ||
	    ns->mq_msgsize_default != DFLT_MSGSIZE)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace whose fs.mqueue limits differ from the defaults: not supported",
				ctx->tsk_pid);
#endif
	ret = checkpoint_ipc_ns_objects(ctx, ns);
	if (!ret)
		ckpt_msg(ctx, "checkpoint: an IPC namespace of the tree's own");
	return ret;
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

/* restart: the NET_SYSCTL records, and a walk of the new namespace's */
struct ckpt_sysctl_rst {
	struct ckpt_ctx *ctx;
	struct ckpt_hdr_net_sysctl **v;
	bool *seen;
	char *buf;
	u32 nr, hint;
	u32 differ, written, first;	/* in a walk: @first differs */
	int err;			/* of the first refused write, @err_at */
	u32 err_at;
	u32 total;			/* writes of all walks */
	u32 walks;
};

static const char *ckpt_sysctl_name(struct ckpt_hdr_net_sysctl *h)
{
	return (const char *)(h + 1);
}

static const char *ckpt_sysctl_value(struct ckpt_hdr_net_sysctl *h)
{
	return ckpt_sysctl_name(h) + h->name_len;
}

/* the records after NET_NS, before the namespace is made: bad ones fail early */
static int restore_net_sysctls_read(struct ckpt_ctx *ctx,
				    struct ckpt_sysctl_rst *r)
{
	struct ckpt_hdr_net_sysctl *h;
	const char *name;
	u32 i;

	if (!r->nr)
		return 0;
	r->v = kvcalloc(r->nr, sizeof(*r->v), GFP_KERNEL);
	r->seen = kvcalloc(r->nr, sizeof(*r->seen), GFP_KERNEL);
	r->buf = kmalloc(CKPT_NET_SYSCTL_VALUE_MAX + 1, GFP_KERNEL);
	if (!r->v || !r->seen || !r->buf)
		return -ENOMEM;
	for (i = 0; i < r->nr; i++) {
		h = ckpt_read_obj_var(ctx, CKPT_HDR_NET_SYSCTL, sizeof(*h) + 1,
				      sizeof(*h) + CKPT_NET_SYSCTL_NAME_MAX +
				      CKPT_NET_SYSCTL_VALUE_MAX - 2);
		if (IS_ERR(h))
			return PTR_ERR(h);
		r->v[i] = h;
		name = ckpt_sysctl_name(h);
		if (!h->name_len || h->name_len >= CKPT_NET_SYSCTL_NAME_MAX ||
		    h->value_len >= CKPT_NET_SYSCTL_VALUE_MAX ||
		    h->h.len != sizeof(*h) + h->name_len + h->value_len ||
		    h->_padding)
			return ckpt_err(ctx, -EINVAL,
					"network namespace: sysctl record %u: bad lengths (%u, %u, %u)",
					i, h->h.len, h->name_len, h->value_len);
		if (memchr(name, 0, h->name_len + h->value_len))
			return ckpt_err(ctx, -EINVAL,
					"network namespace: sysctl record %u: a NUL in its name or value",
					i);
	}
	return 0;
}

static void restore_net_sysctls_free(struct ckpt_sysctl_rst *r)
{
	u32 i;

	for (i = 0; r->v && i < r->nr; i++)
		kvfree(r->v[i]);
	kvfree(r->v);
	kvfree(r->seen);
	kfree(r->buf);
}

/* the record of @path: most often the one after the last found */
static int restore_sysctl_find(struct ckpt_sysctl_rst *r, const char *path)
{
	size_t n = strlen(path);
	struct ckpt_hdr_net_sysctl *h;
	u32 i, k;

	for (k = 0; k < r->nr; k++) {
		i = (r->hint + k) % r->nr;
		h = r->v[i];
		if (h->name_len == n && !memcmp(ckpt_sysctl_name(h), path, n))
			return i;
	}
	return -1;
}

static int restore_sysctl_one(struct ctl_table_header *head,
			      struct ctl_table *table, const char *path,
			      void *arg)
{
	struct ckpt_sysctl_rst *r = arg;
	struct ckpt_hdr_net_sysctl *h;
	size_t len;
	int i, ret;

	i = restore_sysctl_find(r, path);
	if (i < 0)
		return 0;	/* not in the image: as the namespace was made */
	r->hint = i + 1;
	r->seen[i] = true;
	h = r->v[i];
	ret = table->proc_handler ? ckpt_sysctl_read(table, r->buf, &len) : -EIO;
	if (ret == -EINTR)
		return ret;
	/* a read that fails (stable_secret not set): not what was saved */
	if (!ret && len == h->value_len &&
	    !memcmp(r->buf, ckpt_sysctl_value(h), len))
		return 0;
	if (!r->differ++)
		r->first = i;
	ret = sysctl_entry_perm(head, table, MAY_WRITE);
	if (!ret)
		ret = table->proc_handler ?
		      ckpt_sysctl_write(table, ckpt_sysctl_value(h),
					h->value_len, r->buf) : -EIO;
	if (ret == -EINTR)
		return ret;
	if (ret) {
		if (!r->err) {
			r->err = ret;
			r->err_at = i;
		}
		return 0;
	}
	r->written++;
	r->total++;
	return 0;
}

/* the new namespace's sysctls as the image has them, or a refusal naming one */
static int restore_net_sysctls(struct ckpt_ctx *ctx, struct net *net,
			       struct ckpt_sysctl_rst *r)
{
	struct ckpt_hdr_net_sysctl *h;
	int pass, ret;
	u32 i;

	for (pass = 0; pass < CKPT_SYSCTL_PASSES; pass++) {
		r->hint = 0;
		r->differ = 0;
		r->written = 0;
		r->err = 0;
		r->walks++;
		ret = sysctl_set_for_each(&net->sysctls, restore_sysctl_one, r);
		if (ret)
			return ckpt_err(ctx, ret,
					"network namespace: its sysctls: a walk fails");
		for (i = 0; i < r->nr; i++) {
			h = r->v[i];
			if (!r->seen[i])
				return ckpt_err(ctx, -ENOENT,
						"network namespace: sysctl %.*s: not in the new namespace (or twice in the image)",
						h->name_len, ckpt_sysctl_name(h));
		}
		if (!r->differ)
			return 0;
		if (!r->written)
			break;
	}
	if (r->err) {
		h = r->v[r->err_at];
		return ckpt_err(ctx, r->err,
				"network namespace: sysctl %.*s: cannot set it to \"%.*s\"%s",
				h->name_len, ckpt_sysctl_name(h),
				ckpt_sysctl_shown(ckpt_sysctl_value(h), h->value_len),
				ckpt_sysctl_value(h),
				r->err == -EACCES ? ": the caller may not write it" : "");
	}
	h = r->v[r->first];
	return ckpt_err(ctx, -EOPNOTSUPP,
			"network namespace: sysctl %.*s: cannot be made \"%.*s\" again: it reads otherwise after %d walks",
			h->name_len, ckpt_sysctl_name(h),
			ckpt_sysctl_shown(ckpt_sysctl_value(h), h->value_len),
			ckpt_sysctl_value(h), CKPT_SYSCTL_PASSES);
}

static int restore_net_ns_read(struct ckpt_ctx *ctx, struct ckpt_hdr_net_ns *h,
			       struct ckpt_sysctl_rst *r)
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
	if (h->nr_sysctl > CKPT_NET_SYSCTL_MAX)
		return ckpt_err(ctx, -EINVAL,
				"network namespace: %u sysctls, more than %d",
				h->nr_sysctl, CKPT_NET_SYSCTL_MAX);
	r->ctx = ctx;
	r->nr = h->nr_sysctl;
	return restore_net_sysctls_read(ctx, r);
}

/*
 * the new namespace, the caller's already: the sysctls and lo as saved
 * (the sysctls first: with disable_ipv6 lo comes up without ::1), the
 * sysctls checked again after lo
 */
static int restore_net_state(struct ckpt_ctx *ctx, struct net *net,
			     struct ckpt_hdr_net_ns *h,
			     struct ckpt_sysctl_rst *r)
{
	struct net_device *lo = net->loopback_dev;
	u32 flags;
	int ret;

	ret = restore_net_sysctls(ctx, net, r);
	if (ret)
		return ret;
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
	return restore_net_sysctls(ctx, net, r);
}

/*
 * restart, on the caller, after TREE: the namespaces of the tree's own
 * (@flags, the root's), made new in one unshare, before any task
 */
int restore_tree_ns(struct ckpt_ctx *ctx, u32 flags)
{
	struct ckpt_hdr_uts_ns *uh = NULL;
	struct ckpt_hdr_net_ns nh = { };
	struct ckpt_sysctl_rst nr = { };
	unsigned long clone = 0;
	ktime_t t0;
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
		ret = restore_net_ns_read(ctx, &nh, &nr);
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
		t0 = ktime_get();
		ret = restore_net_state(ctx, new->net_ns, &nh, &nr);
		if (!ret)
			ckpt_msg(ctx,
				 "restart: a new network namespace, lo %s, %u sysctls as saved (%u written, %u walks, %lld us)",
				 nh.flags & CKPT_NETNS_LO_UP ? "up" : "down",
				 nr.nr, nr.total, nr.walks,
				 ktime_us_delta(ktime_get(), t0));
	}
	if (!ret && clone & CLONE_NEWIPC) {
		ckpt_msg(ctx, "restart: a new IPC namespace");
		ret = restore_ipc_ns_objects(ctx, new->ipc_ns);
	}
out:
	restore_net_sysctls_free(&nr);
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
