// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: sockets, the part common to every family.
 *
 * Every socket of the descriptor table gets an id (sk_id: 1, 2, ... in
 * the order of its first descriptor), so that a socket can name its peer
 * and the senders of its queued messages before they appear in the image.
 * A socket is a CKPT_HDR_FILE of type CKPT_FILE_SOCKET followed by a
 * CKPT_HDR_SOCKET record (family, type, state, options, addresses), two
 * strings and its receive queue (see checkpoint_hdr.h).
 *
 * Restart creates each socket when its record is read (both ends of a
 * pair at the first one), binds it and makes it listen; once the whole
 * descriptor table is read, restore_sockets_finish() refills the queues
 * from their senders, reconnects datagram sockets, then sets the options
 * and the shutdown state.  Everything happens before the commit point;
 * a failed restart releases the sockets and removes the paths it bound.
 *
 * Refused at checkpoint, with a logfd line naming the descriptor: other
 * families (AF_PACKET too without CONFIG_PACKET=y), and the socket
 * options that restart does not set (a filter, SO_LINGER,
 * SO_BINDTODEVICE of a unix socket, SO_OOBINLINE, SO_DONTROUTE,
 * SO_TIMESTAMPING, SO_ZEROCOPY, a queue of errors, ...:
 * ckpt_socket_unsupported()), all EOPNOTSUPP; and what the family
 * refuses (unix.c, inet.c, netlink.c, packet.c).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_hooks.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/slab.h>
#include <linux/sockptr.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/sock_reuseport.h>

#include "socket.h"

static const char *ckpt_family_name(int family)
{
	switch (family) {
	case AF_UNIX:
		return "unix";
	case AF_INET:
		return "inet (IPv4)";
	case AF_INET6:
		return "inet6 (IPv6)";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	}
	return "other";
}

static int ckpt_socks_alloc(struct ckpt_ctx *ctx, u32 max)
{
	struct ckpt_socks *s;

	if (ctx->socks)
		return 0;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->sk = kvcalloc(max + 1, sizeof(*s->sk), GFP_KERNEL);
	if (!s->sk) {
		kfree(s);
		return -ENOMEM;
	}
	s->max = max;
	ctx->socks = s;
	return 0;
}

struct ckpt_sk *ckpt_sk_get(struct ckpt_ctx *ctx, u32 id)
{
	if (!ctx->socks || !id || id > ctx->socks->max)
		return NULL;
	return &ctx->socks->sk[id];
}

/* checkpoint: a BUFFER record of @len bytes */
int ckpt_sk_write_buffer(struct ckpt_ctx *ctx, const void *data, u32 len)
{
	int ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, len);

	if (!ret && len)
		ret = ckpt_kwrite(ctx, data, len);
	if (!ret)
		ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + len);
	return ret;
}

/* restart: a BUFFER record of exactly @len bytes (kvfree() it) */
struct ckpt_hdr *restore_sk_read_buffer(struct ckpt_ctx *ctx, u32 len)
{
	return ckpt_read_obj_var(ctx, CKPT_HDR_BUFFER,
				 sizeof(struct ckpt_hdr) + len,
				 sizeof(struct ckpt_hdr) + len);
}

/* checkpoint: the lowest descriptor of the table that holds @file, or -1 */
int ckpt_sk_fd_of(struct ckpt_ctx *ctx, struct file *file)
{
	int i;

	for (i = 0; ctx->socks && i < ctx->socks->nfds; i++)
		if (ctx->socks->fds[i].file == file)
			return ctx->socks->fds[i].fd;
	return -1;
}

/* restart: the file that descriptor @fd of the image will hold, or NULL */
struct file *restore_sk_file_of(struct ckpt_ctx *ctx, int fd)
{
	unsigned int i;

	for (i = 0; i < ctx->rst.nfds; i++)
		if (ctx->rst.fds[i].fd == fd)
			return ckpt_obj_fetch(ctx, ctx->rst.fds[i].objref);
	return NULL;
}

u32 ckpt_sk_id(struct ckpt_ctx *ctx, struct sock *sk)
{
	u32 id;

	if (!ctx->socks || !sk)
		return 0;
	for (id = 1; id <= ctx->socks->n; id++)
		if (ctx->socks->sk[id].sk == sk)
			return id;
	return 0;
}

/*
 * checkpoint: number the sockets of a table, in descriptor order, after
 * those already numbered (a tree: each task's table in the image's order,
 * @max descriptors in all).  Descriptors in flight are looked up in the
 * first table (the root's).
 */
int ckpt_socks_add(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n, u32 max)
{
	int i, ret;

	ret = ckpt_socks_alloc(ctx, max);
	if (ret)
		return ret;
	if (!ctx->socks->fds) {
		/* valid while checkpoint_files() runs: files in flight are among them */
		ctx->socks->fds = fds;
		ctx->socks->nfds = n;
	}
	for (i = 0; i < n; i++) {
		struct socket *sock = sock_from_file(fds[i].file);
		struct ckpt_sk *e;

		if (!sock || !sock->sk || ckpt_sk_id(ctx, sock->sk))
			continue;
		if (ctx->socks->n == ctx->socks->max)
			return -EINVAL;
		if (ckpt_tree_multi(ctx) && ctx->socks->n == CKPT_SOCKS_TREE_MAX)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: more than %u sockets in a tree",
					fds[i].fd, CKPT_SOCKS_TREE_MAX);
		e = &ctx->socks->sk[++ctx->socks->n];
		sock_hold(sock->sk);
		e->sk = sock->sk;
		e->fd = fds[i].fd;
	}
	return 0;
}

/*
 * A classic filter of @len instructions (checked as SO_ATTACH_FILTER
 * checks them), named @name (or not), that keeps a copy of @orig as the
 * program it was attached with (SO_GET_FILTER reads it, checkpoint saves
 * it; freed with the program).  Not yet a socket's: ckpt_sk_filter_swap().
 */
struct sk_filter *ckpt_sk_filter_new(const struct sock_filter *insns, u16 len,
				     const struct sock_fprog_kern *orig,
				     const char *name)
{
	struct sock_fprog_kern fprog = {
		.len = len, .filter = (struct sock_filter *)insns,
	};
	struct bpf_prog *prog;
	struct sk_filter *fp;
	int ret;

	ret = bpf_prog_create_ckpt(&prog, &fprog, orig);
	if (ret)
		return ERR_PTR(ret);
	if (name)
		strscpy(prog->aux->name, name, sizeof(prog->aux->name));
	fp = kmalloc(sizeof(*fp), GFP_KERNEL);
	if (!fp) {
		bpf_prog_destroy(prog);
		return ERR_PTR(-ENOMEM);
	}
	fp->prog = prog;
	refcount_set(&fp->refcnt, 1);
	return fp;
}

/* a filter of ckpt_sk_filter_new() that no socket took */
void ckpt_sk_filter_free(struct sk_filter *fp)
{
	bpf_prog_destroy(fp->prog);
	kfree(fp);
}

/*
 * @sk's filter becomes @fp (NULL: none), charged to it, the old one
 * released (under the socket's lock); -ENOMEM above net.core.optmem_max
 */
int ckpt_sk_filter_swap(struct sock *sk, struct sk_filter *fp)
{
	struct sk_filter *old;

	old = rcu_dereference_protected(sk->sk_filter, lockdep_sock_is_held(sk));
	if (fp) {
		if (!sk_filter_charge(sk, fp))
			return -ENOMEM;
		/* the socket's reference only */
		refcount_dec(&fp->refcnt);
	}
	rcu_assign_pointer(sk->sk_filter, fp);
	if (old)
		sk_filter_uncharge(sk, old);
	return 0;
}

/* the filter is one that CHECKPOINT_TCP_HOLD attached (inet.c) */
static bool ckpt_sk_filter_held(struct sk_filter *f)
{
	return !strcmp(f->prog->aux->name, CKPT_TCP_HOLD_NAME);
}

/*
 * the socket has a filter that SOCKET_FILTER cannot carry: an eBPF one
 * (SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_*: no original classic program)
 */
static bool ckpt_sk_filter_ebpf(struct sock *sk)
{
	struct sk_filter *f;
	bool ebpf;

	rcu_read_lock();
	f = rcu_dereference(sk->sk_filter);
	ebpf = f && !f->prog->orig_prog && !ckpt_sk_filter_held(f);
	rcu_read_unlock();
	return ebpf;
}

/* the socket has a classic filter (the hold filter keeps it) or SO_LOCK_FILTER */
static bool ckpt_sk_filter_any(struct sock *sk)
{
	struct sk_filter *f;
	bool any;

	rcu_read_lock();
	f = rcu_dereference(sk->sk_filter);
	any = f && f->prog->orig_prog;
	rcu_read_unlock();
	return any || sock_flag(sk, SOCK_FILTER_LOCKED);
}

/* @a and @b have the same classic filter (or none) and SO_LOCK_FILTER */
bool ckpt_sk_filter_same(struct sock *a, struct sock *b)
{
	struct sock_fprog_kern *fa = NULL, *fb = NULL;
	struct sk_filter *f;
	bool same;

	rcu_read_lock();
	f = rcu_dereference(a->sk_filter);
	if (f)
		fa = f->prog->orig_prog;
	f = rcu_dereference(b->sk_filter);
	if (f)
		fb = f->prog->orig_prog;
	same = (!fa && !fb) ||
	       (fa && fb && fa->len == fb->len &&
		!memcmp(fa->filter, fb->filter, bpf_classic_proglen(fa)));
	rcu_read_unlock();
	return same && sock_flag(a, SOCK_FILTER_LOCKED) ==
		       sock_flag(b, SOCK_FILTER_LOCKED);
}

/* checkpoint: SOCKET_FILTER and the BUFFER of its instructions */
static int checkpoint_socket_filter(struct ckpt_ctx *ctx, struct sock *sk)
{
	struct ckpt_hdr_socket_filter h = { };
	struct sock_filter *insns = NULL;
	struct sk_filter *f;
	int ret;

	lock_sock(sk);
	f = rcu_dereference_protected(sk->sk_filter, lockdep_sock_is_held(sk));
	if (f && f->prog->orig_prog) {
		h.len = f->prog->orig_prog->len;
		insns = kmemdup(f->prog->orig_prog->filter,
				bpf_classic_proglen(f->prog->orig_prog),
				GFP_KERNEL | __GFP_NOWARN);
	}
	if (sock_flag(sk, SOCK_FILTER_LOCKED))
		h.flags |= CKPT_FILTER_LOCKED;
	release_sock(sk);
	if (h.len && !insns)
		return -ENOMEM;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_SOCKET_FILTER, sizeof(h));
	if (!ret)
		ret = ckpt_sk_write_buffer(ctx, insns,
					   h.len * sizeof(struct sock_filter));
	kfree(insns);
	return ret;
}

/* restart: SOCKET_FILTER and its BUFFER, checked, into @e */
static int restore_socket_filter_read(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct ckpt_hdr_socket_filter h;
	struct ckpt_hdr *buf;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_SOCKET_FILTER, sizeof(h));
	if (ret)
		return ret;
	if (h.len > BPF_MAXINSNS || h.flags & ~CKPT_FILTER_LOCKED ||
	    h._padding)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad filter (%u instructions, flags %#x)",
				e->h.sk_id, h.len, h.flags);
	buf = restore_sk_read_buffer(ctx, h.len * sizeof(struct sock_filter));
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	e->filter = buf;
	e->filter_len = h.len;
	e->filter_flags = h.flags;
	return 0;
}

/* restart: the filter attached again (checked as SO_ATTACH_FILTER does), locked */
static int restore_socket_filter(struct ckpt_ctx *ctx, struct ckpt_sk *e,
				 struct sock *sk)
{
	struct sock_fprog_kern orig = {
		.len = e->filter_len, .filter = (struct sock_filter *)(e->filter + 1),
	};
	struct sk_filter *fp = NULL;
	int ret = 0;
	u32 i;

	if (orig.len) {
		fp = ckpt_sk_filter_new(orig.filter, orig.len, &orig, NULL);
		if (IS_ERR(fp))
			return ckpt_err(ctx, PTR_ERR(fp),
					"socket %u: cannot attach its filter (SO_ATTACH_FILTER)",
					e->h.sk_id);
	}
	lock_sock(sk);
	if (fp)
		ret = ckpt_sk_filter_swap(sk, fp);
	if (!ret && (e->filter_flags & CKPT_FILTER_LOCKED))
		sock_set_flag(sk, SOCK_FILTER_LOCKED);
	release_sock(sk);
	if (ret) {
		ckpt_sk_filter_free(fp);
		return ckpt_err(ctx, ret,
				"socket %u: its filter is above net.core.optmem_max",
				e->h.sk_id);
	}
	/* a listener's waiting connections share it, as the handshake does */
	for (i = 0; i < e->nconns && !ret; i++) {
		struct sock *c = e->conns[i];

		lock_sock(c);
		if (fp && sk_filter_charge(c, fp))
			rcu_assign_pointer(c->sk_filter, fp);
		else if (fp)
			ret = ckpt_err(ctx, -ENOMEM,
				       "socket %u: the filter of connection %u waiting to be accepted is above net.core.optmem_max",
				       e->h.sk_id, i);
		if (!ret && (e->filter_flags & CKPT_FILTER_LOCKED))
			sock_set_flag(c, SOCK_FILTER_LOCKED);
		release_sock(c);
	}
	return ret;
}

/* socket flags (sock_flag()) of options that restart does not set */
static const struct {
	enum sock_flags flag;
	const char *option;
} ckpt_sock_flags_refused[] = {
	{ SOCK_LINGER, "SO_LINGER" },
	{ SOCK_URGINLINE, "SO_OOBINLINE" },
	{ SOCK_LOCALROUTE, "SO_DONTROUTE" },
	{ SOCK_ZEROCOPY, "SO_ZEROCOPY" },
	{ SOCK_NOFCS, "SO_NOFCS" },
	{ SOCK_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE" },
	{ SOCK_WIFI_STATUS, "SO_WIFI_STATUS" },
	{ SOCK_TXTIME, "SO_TXTIME" },
	{ SOCK_RCVMARK, "SO_RCVMARK" },
};

/* a program that selects in @sk's SO_REUSEPORT group */
static bool ckpt_sk_reuseport_prog(struct sock *sk)
{
	struct sock_reuseport *reuse;
	bool prog;

	rcu_read_lock();
	reuse = rcu_dereference(sk->sk_reuseport_cb);
	prog = reuse && rcu_access_pointer(reuse->prog);
	rcu_read_unlock();
	return prog;
}

/*
 * A socket-level option that restart does not set, or NULL.  A filter
 * that a checkpoint attached (CHECKPOINT_TCP_HOLD, when it saved the
 * socket for an earlier descriptor: a listener shared by a tree) is not
 * the program's: the program's classic one is its original program.
 */
static const char *ckpt_socket_unsupported(struct ckpt_ctx *ctx,
					   struct sock *sk)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ckpt_sock_flags_refused); i++) {
		/* inet sockets keep SO_LINGER (SOCKET_INET) */
		if (ckpt_sock_flags_refused[i].flag == SOCK_LINGER &&
		    ckpt_family_inet(sk->sk_family))
			continue;
		if (sock_flag(sk, ckpt_sock_flags_refused[i].flag))
			return ckpt_sock_flags_refused[i].option;
	}
	if (ckpt_sk_filter_ebpf(sk))
		return "an eBPF socket filter (SO_ATTACH_BPF)";
	/* an inet socket keeps it (SOCKET_IP) */
	if (READ_ONCE(sk->sk_bound_dev_if) && !ckpt_family_inet(sk->sk_family))
		return "SO_BINDTODEVICE";
	if (!skb_queue_empty_lockless(&sk->sk_error_queue))
		return "errors or timestamps queued (MSG_ERRQUEUE)";
	if (READ_ONCE(sk->sk_tsflags))
		return "SO_TIMESTAMPING";
	if (READ_ONCE(sk->sk_max_pacing_rate) != ~0UL)
		return "SO_MAX_PACING_RATE";
#ifdef CONFIG_NET_RX_BUSY_POLL
	if (READ_ONCE(sk->sk_ll_usec))
		return "SO_BUSY_POLL";
	if (READ_ONCE(sk->sk_prefer_busy_poll))
		return "SO_PREFER_BUSY_POLL";
	if (READ_ONCE(sk->sk_busy_poll_budget))
		return "SO_BUSY_POLL_BUDGET";
#endif
	if (ckpt_sk_reuseport_prog(sk))
		return "a reuseport program (SO_ATTACH_REUSEPORT_CBPF, SO_ATTACH_REUSEPORT_EBPF)";
	return NULL;
}

/* checkpoint: may fds[@i] be saved?  CKPT_FILE_SOCKET, or an error */
int ckpt_socket_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			 int i)
{
	struct socket *sock = sock_from_file(fds[i].file);
	int fd = fds[i].fd;
	struct sock *sk;
	int ret;

	if (!ctx->socks) {
		ret = ckpt_socks_add(ctx, fds, n, n);
		if (ret)
			return ret;
	}
	if (!sock || !sock->sk)
		return ckpt_err(ctx, -EBADF, "fd %d: socket without a sock",
				fd);
	sk = sock->sk;
	/* restart makes every socket in the tree's network namespace (ns.c) */
	if (ctx->net_ns && !net_eq(sock_net(sk), ctx->net_ns))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: socket of another network namespace than the tree's: not supported",
				fd);
	if (ckpt_socket_unsupported(ctx, sk))
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: socket with %s not supported",
				fd, ckpt_socket_unsupported(ctx, sk));
	if (sk->sk_family == AF_UNIX)
		return ckpt_unix_classify(ctx, sk, fd) ?: CKPT_FILE_SOCKET;
	if (ckpt_family_inet(sk->sk_family))
		return ckpt_inet_classify(ctx, sk, fd) ?: CKPT_FILE_SOCKET;
	if (sk->sk_family == AF_NETLINK)
		return ckpt_netlink_classify(ctx, sk, fd) ?: CKPT_FILE_SOCKET;
	if (ckpt_family_packet(sk->sk_family))
		return ckpt_packet_classify(ctx, sk, fd) ?: CKPT_FILE_SOCKET;
	return ckpt_err(ctx, -EOPNOTSUPP,
			"fd %d: %s socket (family %d, type %d) not supported",
			fd, ckpt_family_name(sk->sk_family), sk->sk_family,
			sk->sk_type);
}

static u64 ckpt_timeo_us(long timeo)
{
	if (timeo == MAX_SCHEDULE_TIMEOUT)
		return CKPT_SOCK_TIMEO_INF;
	return (u64)timeo * (USEC_PER_SEC / HZ);
}

static void checkpoint_socket_common(struct socket *sock,
				     struct ckpt_hdr_socket *h)
{
	struct sock *sk = sock->sk;

	h->family = sk->sk_family;
	h->type = sk->sk_type;
	h->protocol = sk->sk_protocol;
	h->state = READ_ONCE(sk->sk_state);
	if (test_bit(SOCK_PASSCRED, &sock->flags))
		h->flags |= CKPT_SOCK_PASSCRED;
	if (test_bit(SOCK_PASSSEC, &sock->flags))
		h->flags |= CKPT_SOCK_PASSSEC;
	if (sock_flag(sk, SOCK_RCVTSTAMP))
		h->flags |= CKPT_SOCK_TIMESTAMP;
	if (sock_flag(sk, SOCK_RCVTSTAMPNS))
		h->flags |= CKPT_SOCK_TIMESTAMPNS;
	if (sock_flag(sk, SOCK_TSTAMP_NEW))
		h->flags |= CKPT_SOCK_TSTAMP_NEW;
	if (sock_flag(sk, SOCK_RXQ_OVFL))
		h->flags |= CKPT_SOCK_RXQ_OVFL;
	if (sk->sk_reuse)
		h->flags |= CKPT_SOCK_REUSEADDR;
	if (sk->sk_reuseport)
		h->flags |= CKPT_SOCK_REUSEPORT;
	if (sock_flag(sk, SOCK_KEEPOPEN))
		h->flags |= CKPT_SOCK_KEEPALIVE;
	if (sock_flag(sk, SOCK_BROADCAST))
		h->flags |= CKPT_SOCK_BROADCAST;
	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		h->flags |= CKPT_SOCK_SNDBUF_LOCK;
	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		h->flags |= CKPT_SOCK_RCVBUF_LOCK;
	if (ckpt_sk_filter_any(sk))
		h->flags |= CKPT_SOCK_FILTER;
	h->shutdown = READ_ONCE(sk->sk_shutdown);
	h->sndbuf = READ_ONCE(sk->sk_sndbuf);
	h->rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	h->backlog = READ_ONCE(sk->sk_max_ack_backlog);
	h->peek_off = READ_ONCE(sk->sk_peek_off);
	h->rcvlowat = READ_ONCE(sk->sk_rcvlowat);
	h->priority = READ_ONCE(sk->sk_priority);
	h->mark = READ_ONCE(sk->sk_mark);
	h->err = READ_ONCE(sk->sk_err);
	h->rcvtimeo_us = ckpt_timeo_us(READ_ONCE(sk->sk_rcvtimeo));
	h->sndtimeo_us = ckpt_timeo_us(READ_ONCE(sk->sk_sndtimeo));
}

/* checkpoint: the socket records that follow its CKPT_HDR_FILE */
int checkpoint_socket(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct socket *sock = sock_from_file(file);
	char *paths[2] = { NULL, NULL };
	struct ckpt_hdr_socket *h;
	int ret;

	if (!sock || !sock->sk || !ckpt_sk_id(ctx, sock->sk))
		return ckpt_err(ctx, -EBADF, "fd %d: socket not classified",
				fd);
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->sk_id = ckpt_sk_id(ctx, sock->sk);
	checkpoint_socket_common(sock, h);
	if (h->family == AF_UNIX)
		ret = checkpoint_unix(ctx, sock->sk, fd, h, paths);
	else if (h->family == AF_NETLINK || h->family == AF_PACKET)
		ret = 0;
	else
		ret = checkpoint_inet(ctx, sock, fd, h);
	/* its address flags: before the SOCKET record */
	if (!ret && h->family == AF_NETLINK)
		checkpoint_netlink_flags(sock->sk, h);
	if (!ret)
		ret = ckpt_write_obj(ctx, h, CKPT_HDR_SOCKET, sizeof(*h));
	if (!ret)
		ret = ckpt_write_string(ctx, paths[0] ?: "");
	if (!ret)
		ret = ckpt_write_string(ctx, paths[1] ?: "");
	if (!ret && (h->flags & CKPT_SOCK_FILTER))
		ret = checkpoint_socket_filter(ctx, sock->sk);
	if (!ret && h->family == AF_NETLINK)
		ret = checkpoint_netlink(ctx, sock->sk, fd, h);
	if (!ret && h->family == AF_PACKET)
		ret = checkpoint_packet(ctx, sock->sk, fd);
	if (!ret && ckpt_family_inet(h->family))
		ret = checkpoint_inet_opts(ctx, sock, fd, h);
	if (!ret && ckpt_family_inet(h->family))
		ret = checkpoint_inet_tcp(ctx, sock, fd, h);
	if (!ret && h->family == AF_UNIX)
		ret = checkpoint_unix_queue(ctx, sock->sk, fd, h);
	else if (!ret && h->family == AF_NETLINK)
		ret = checkpoint_netlink_queue(ctx, sock->sk, fd);
	else if (!ret && h->family == AF_PACKET)
		ret = checkpoint_packet_queue(ctx, sock->sk, fd);
	else if (!ret)
		ret = checkpoint_inet_queue(ctx, sock, fd, h);
	kfree(paths[0]);
	kfree(paths[1]);
	kfree(h);
	return ret;
}

/* restart: the checks of the common fields */
static int restore_socket_check(struct ckpt_ctx *ctx,
				struct ckpt_hdr_socket *h)
{
	u64 tmax = (u64)(MAX_SCHEDULE_TIMEOUT / HZ - 1) * USEC_PER_SEC;
	u32 id = h->sk_id;

	if (id != ctx->socks->n + 1 || id > ctx->socks->max)
		return ckpt_err(ctx, -EINVAL, "socket %u out of order", id);
	if (h->family != AF_UNIX && h->family != AF_NETLINK &&
	    !ckpt_family_packet(h->family) && !ckpt_family_inet(h->family))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad family %u", id,
				h->family);
	if (h->peer_id == id || h->peer_id > ctx->socks->max)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad peer %u", id,
				h->peer_id);
	if (h->flags & ~CKPT_SOCK_FLAGS)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad flags %#x", id,
				h->flags);
	if (h->shutdown & ~SHUTDOWN_MASK)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad shutdown %#x", id,
				h->shutdown);
	if (h->sndbuf < 0 || h->rcvbuf < 0 || h->peek_off < -1 ||
	    h->rcvlowat < 1 || h->err < 0 || h->err > MAX_ERRNO)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad option value", id);
	if ((h->rcvtimeo_us != CKPT_SOCK_TIMEO_INF && h->rcvtimeo_us > tmax) ||
	    (h->sndtimeo_us != CKPT_SOCK_TIMEO_INF && h->sndtimeo_us > tmax))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad timeout", id);
	if (h->laddr_len > CKPT_SOCK_ADDR_MAX ||
	    h->raddr_len > CKPT_SOCK_ADDR_MAX)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad address length",
				id);
	if (h->state == TCP_LISTEN &&
	    h->backlog > READ_ONCE(current->nsproxy->net_ns->core.sysctl_somaxconn))
		return ckpt_err(ctx, -EINVAL,
				"socket %u: backlog %u above net.core.somaxconn",
				id, h->backlog);
	if (ckpt_family_inet(h->family))
		return restore_inet_check(ctx, h);
	if (h->family == AF_NETLINK)
		return restore_netlink_check(ctx, h);
	if (h->family == AF_PACKET)
		return restore_packet_check(ctx, h);
	return restore_unix_check(ctx, h);
}

/*
 * A listener's messages are its connections waiting to be accepted (CONN,
 * from a client, without data) each followed by what that client sent on
 * it (EMBRYO); no other socket has those.
 */
static int restore_socket_msg_check(struct ckpt_sk *e, u32 i)
{
	struct ckpt_hdr_socket_msg *m = &e->msgs[i].h;
	u32 conn = m->flags & (CKPT_MSG_CONN | CKPT_MSG_EMBRYO);
	u32 last;

	if (e->h.state != TCP_LISTEN)
		return conn ? -EINVAL : 0;
	if (conn == CKPT_MSG_CONN)
		return m->len || !m->sender_id ? -EINVAL : 0;
	if (conn != CKPT_MSG_EMBRYO || !i)
		return -EINVAL;
	for (last = i - 1; !(e->msgs[last].h.flags & CKPT_MSG_CONN); last--)
		;
	return e->msgs[last].h.sender_id == m->sender_id ? 0 : -EINVAL;
}

/* restart: the receive queue, kept until restore_sockets_finish() */
static int restore_socket_queue(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct ckpt_socks *s = ctx->socks;
	struct ckpt_hdr_socket_queue q;
	u32 id = e->h.sk_id, i;
	u64 total = 0;
	int ret;

	ret = ckpt_read_obj(ctx, &q, CKPT_HDR_SOCKET_QUEUE, sizeof(q));
	if (ret)
		return ret;
	if (q.nmsgs > CKPT_SOCK_QUEUE_MSGS || q.bytes > CKPT_SOCK_QUEUE_MAX ||
	    q._padding ||
	    (e->h.family != AF_UNIX && q.nmsgs &&
	     (!ckpt_family_inet(e->h.family) || e->h.type != SOCK_DGRAM ||
	      (e->h.protocol != IPPROTO_UDP &&
	       e->h.protocol != IPPROTO_UDPLITE))))
		return ckpt_err(ctx, -EINVAL,
				"socket %u: bad queue (%u messages, %llu bytes)",
				id, q.nmsgs, q.bytes);
	if (s->bytes + q.bytes > CKPT_SOCK_TOTAL_MAX)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: queues above %u bytes in all", id,
				CKPT_SOCK_TOTAL_MAX);
	e->msgs = kvcalloc(max_t(u32, q.nmsgs, 1), sizeof(*e->msgs),
			   GFP_KERNEL);
	if (!e->msgs)
		return -ENOMEM;
	for (i = 0; i < q.nmsgs; i++) {
		struct ckpt_sk_msg *m = &e->msgs[i];
		struct ckpt_hdr *b;

		ret = ckpt_read_obj(ctx, &m->h, CKPT_HDR_SOCKET_MSG,
				    sizeof(m->h));
		if (ret)
			return ret;
		if (m->h.len > CKPT_SOCK_MSG_MAX || total + m->h.len > q.bytes ||
		    m->h.flags & ~CKPT_MSG_FLAGS ||
		    m->h.nfds > CKPT_SOCK_MSG_FDS ||
		    (m->h.nfds && e->h.family != AF_UNIX) ||
		    m->h.sender_id > s->max ||
		    (m->h.sender_id && (m->h.flags & CKPT_MSG_PEER)))
			return ckpt_err(ctx, -EINVAL,
					"socket %u: bad message %u", id, i);
		ret = restore_socket_msg_check(e, i);
		if (!ret && (m->h.flags & CKPT_MSG_DGRAM))
			ret = restore_inet_dgram_read(ctx, e, m);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: bad message %u", id,
					i);
		b = restore_sk_read_buffer(ctx, m->h.len);
		if (IS_ERR(b))
			return PTR_ERR(b);
		m->data = b;
		e->nmsgs = i + 1;
		if (m->h.nfds) {
			b = restore_sk_read_buffer(ctx, 4 * m->h.nfds);
			if (IS_ERR(b))
				return PTR_ERR(b);
			m->fds = b;
		}
		total += m->h.len;
	}
	if (total != q.bytes)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: queue of %llu bytes, messages of %llu",
				id, q.bytes, total);
	s->bytes += total;
	return 0;
}

/* restart: the socket of a CKPT_HDR_FILE record of type CKPT_FILE_SOCKET */
struct file *restore_socket(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_hdr_socket *h;
	char *bind = NULL;
	struct file *file = NULL;
	struct socket *sock;
	struct ckpt_sk *e;
	int ret;

	/* a tree's sockets: of every task, whose tables are read in turn */
	ret = ckpt_socks_alloc(ctx, ckpt_tree_multi(ctx) ? CKPT_SOCKS_TREE_MAX :
				    ctx->rst.nfds);
	if (ret)
		return ERR_PTR(ret);
	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return ERR_PTR(-ENOMEM);
	ret = ckpt_read_obj(ctx, h, CKPT_HDR_SOCKET, sizeof(*h));
	if (ret)
		goto out;
	bind = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(bind)) {
		ret = PTR_ERR(bind);
		bind = NULL;
		goto out;
	}
	ret = restore_socket_check(ctx, h);
	if (ret)
		goto out;
	e = &ctx->socks->sk[h->sk_id];
	ctx->socks->n = h->sk_id;
	e->h = *h;
	e->peer = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(e->peer)) {
		ret = PTR_ERR(e->peer);
		e->peer = NULL;
		goto out;
	}
	if (h->flags & CKPT_SOCK_FILTER) {
		ret = restore_socket_filter_read(ctx, e);
		if (ret)
			goto out;
	}
	if (h->family != AF_UNIX && (*bind || *e->peer))
		ret = ckpt_err(ctx, -EINVAL, "socket %u: bad paths", h->sk_id);
	else if (ckpt_family_inet(h->family))
		ret = restore_inet(ctx, e, &sock);
	else if (h->family == AF_NETLINK)
		ret = restore_netlink(ctx, e, &sock);
	else if (h->family == AF_PACKET)
		ret = restore_packet(ctx, e, &sock);
	else
		ret = restore_unix(ctx, e, bind, &sock);
	if (ret)
		goto out;
	/* the defaults, for the options that the image leaves unset */
	e->sndbuf0 = READ_ONCE(sock->sk->sk_sndbuf);
	e->rcvbuf0 = READ_ONCE(sock->sk->sk_rcvbuf);
	e->backlog0 = READ_ONCE(sock->sk->sk_max_ack_backlog);
	file = sock_alloc_file(sock, O_RDWR | (hf->f_flags & O_NONBLOCK),
			       NULL);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out;
	}
	/* status flags that fcntl(F_SETFL) could set on it */
	spin_lock(&file->f_lock);
	file->f_flags |= hf->f_flags & O_APPEND;
	spin_unlock(&file->f_lock);
	e->file = get_file(file);
	ret = restore_socket_queue(ctx, e);
	if (ret)
		fput(file);
out:
	kvfree(bind);
	kfree(h);
	return ret ? ERR_PTR(ret) : file;
}

/* SO_SNDBUF/SO_RCVBUF as the caller could set them, else -EPERM */
static int restore_socket_buf(struct sock *sk, int opt, int force, int val,
			      int *field)
{
	int half = val / 2;
	int ret;

	ret = sk_setsockopt(sk, SOL_SOCKET, opt, KERNEL_SOCKPTR(&half),
			    sizeof(half));
	if (!ret && READ_ONCE(*field) != val)
		ret = sk_setsockopt(sk, SOL_SOCKET, force,
				    KERNEL_SOCKPTR(&half), sizeof(half));
	if (!ret && READ_ONCE(*field) != val)
		ret = -EINVAL;
	return ret;
}

static int restore_socket_opt(struct sock *sk, int opt, int val)
{
	return sk_setsockopt(sk, SOL_SOCKET, opt, KERNEL_SOCKPTR(&val),
			     sizeof(val));
}

static long restore_timeo(u64 us)
{
	if (us == CKPT_SOCK_TIMEO_INF)
		return MAX_SCHEDULE_TIMEOUT;
	return div_u64(us, USEC_PER_SEC / HZ);
}

/* restart: options, once the queues are refilled */
static int restore_socket_options(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct ckpt_hdr_socket *h = &e->h;
	struct socket *sock = sock_from_file(e->file);
	struct sock *sk = sock->sk;
	int ret = 0;

	if (h->flags & CKPT_SOCK_SNDBUF_LOCK) {
		ret = restore_socket_buf(sk, SO_SNDBUF, SO_SNDBUFFORCE,
					 h->sndbuf, &sk->sk_sndbuf);
		if (ret)
			return ckpt_err(ctx, ret,
					"socket %u: SO_SNDBUF %d above net.core.wmem_max",
					h->sk_id, h->sndbuf);
	} else {
		WRITE_ONCE(sk->sk_sndbuf, e->sndbuf0);
	}
	if (h->flags & CKPT_SOCK_RCVBUF_LOCK) {
		ret = restore_socket_buf(sk, SO_RCVBUF, SO_RCVBUFFORCE,
					 h->rcvbuf, &sk->sk_rcvbuf);
		if (ret)
			return ckpt_err(ctx, ret,
					"socket %u: SO_RCVBUF %d above net.core.rmem_max",
					h->sk_id, h->rcvbuf);
	} else {
		WRITE_ONCE(sk->sk_rcvbuf, e->rcvbuf0);
	}
	if (h->flags & CKPT_SOCK_PASSCRED)
		ret = restore_socket_opt(sk, SO_PASSCRED, 1);
	if (!ret && (h->flags & CKPT_SOCK_PASSSEC))
		ret = restore_socket_opt(sk, SO_PASSSEC, 1);
	if (!ret && (h->flags & CKPT_SOCK_TIMESTAMPNS))
		ret = restore_socket_opt(sk, h->flags & CKPT_SOCK_TSTAMP_NEW ?
					 SO_TIMESTAMPNS_NEW :
					 SO_TIMESTAMPNS_OLD, 1);
	else if (!ret && (h->flags & CKPT_SOCK_TIMESTAMP))
		ret = restore_socket_opt(sk, h->flags & CKPT_SOCK_TSTAMP_NEW ?
					 SO_TIMESTAMP_NEW :
					 SO_TIMESTAMP_OLD, 1);
	if (!ret && (h->flags & CKPT_SOCK_RXQ_OVFL))
		ret = restore_socket_opt(sk, SO_RXQ_OVFL, 1);
	/* inet sockets have them from before their bind (inet.c) */
	if (!ret && (h->flags & CKPT_SOCK_REUSEADDR) && h->family == AF_UNIX)
		ret = restore_socket_opt(sk, SO_REUSEADDR, 1);
	if (!ret && (h->flags & CKPT_SOCK_KEEPALIVE) && h->family == AF_UNIX)
		ret = restore_socket_opt(sk, SO_KEEPALIVE, 1);
	if (!ret && (h->flags & CKPT_SOCK_BROADCAST) && h->family == AF_UNIX)
		ret = restore_socket_opt(sk, SO_BROADCAST, 1);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot set its flags",
				h->sk_id);
	/* IP_TOS set a priority of its own */
	if (h->priority || READ_ONCE(sk->sk_priority)) {
		ret = restore_socket_opt(sk, SO_PRIORITY, h->priority);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: SO_PRIORITY %u",
					h->sk_id, h->priority);
	}
	if (h->mark) {
		ret = restore_socket_opt(sk, SO_MARK, h->mark);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: SO_MARK %u",
					h->sk_id, h->mark);
	}
	WRITE_ONCE(sk->sk_rcvtimeo, restore_timeo(h->rcvtimeo_us));
	WRITE_ONCE(sk->sk_sndtimeo, restore_timeo(h->sndtimeo_us));
	WRITE_ONCE(sk->sk_rcvlowat, h->rcvlowat);
	WRITE_ONCE(sk->sk_peek_off, h->peek_off);
	if (h->state != TCP_LISTEN)
		WRITE_ONCE(sk->sk_max_ack_backlog, e->backlog0);
	WRITE_ONCE(sk->sk_err, h->err);
	/* after the refill: the queued messages had passed it */
	if (e->filter)
		return restore_socket_filter(ctx, e, sk);
	return 0;
}

/*
 * restart: once the whole descriptor table is read, every socket exists:
 * refill the queues from their senders, reconnect, then set the options
 * and the shutdown state (a shut down socket could not be refilled).
 */
int restore_sockets_finish(struct ckpt_ctx *ctx)
{
	struct ckpt_socks *s = ctx->socks;
	u32 id;
	int ret;

	if (!s)
		return 0;
	for (id = s->n + 1; id <= s->max; id++)
		if (s->sk[id].sock)
			return ckpt_err(ctx, -EINVAL,
					"socket %u: its pair (socket %u) is not in the image",
					s->sk[id].creator, id);
	for (id = 1; id <= s->n; id++) {
		if (s->sk[id].h.family == AF_UNIX)
			ret = restore_unix_refill(ctx, &s->sk[id]);
		else
			ret = restore_inet_refill(ctx, &s->sk[id]);
		if (ret)
			return ret;
	}
	for (id = 1; id <= s->n; id++) {
		if (s->sk[id].h.family != AF_UNIX)
			continue;
		ret = restore_unix_connect(ctx, &s->sk[id]);
		if (ret)
			return ret;
	}
	for (id = 1; id <= s->n; id++) {
		restore_unix_finish(ctx, &s->sk[id]);
		ret = restore_socket_options(ctx, &s->sk[id]);
		if (ret)
			return ret;
	}
	for (id = 1; id <= s->n; id++) {
		if (s->sk[id].h.family == AF_UNIX)
			restore_unix_shutdown(&s->sk[id]);
		else
			restore_inet_shutdown(&s->sk[id]);
	}
	return 0;
}

/* restart: past the commit point, the paths bound stay */
void restore_sockets_commit(struct ckpt_ctx *ctx)
{
	u32 id;

	if (!ctx->socks)
		return;
	ctx->socks->committed = true;
	for (id = 1; id <= ctx->socks->n; id++)
		restore_inet_commit(&ctx->socks->sk[id]);
}

/* a failed checkpoint: the TCP connections it held (CHECKPOINT_TCP_HOLD) run on */
void checkpoint_sockets_unhold(struct ckpt_ctx *ctx)
{
	u32 id;

	for (id = 1; ctx->socks && id <= ctx->socks->n; id++)
		checkpoint_inet_unhold(&ctx->socks->sk[id]);
}

/*
 * CHECKPOINT_TCP_RELEASE: the TCP connections of @t that a checkpoint held
 * run on (a migration that failed); how many, or an error
 */
int checkpoint_sockets_release(struct ckpt_ctx *ctx, struct task_struct *t)
{
	unsigned int fd;
	int n = 0, ret;

	for (fd = 0;; fd++) {
		struct file *file;

		rcu_read_lock();
		file = task_lookup_next_fd_rcu(t, &fd);
		rcu_read_unlock();
		if (!file)
			break;
		file = fget_task(t, fd);
		if (!file)
			continue;
		ret = checkpoint_inet_release(ctx, file, fd);
		fput(file);
		if (ret < 0)
			return ret;
		n += ret;
	}
	return n;
}

void ckpt_sockets_free(struct ckpt_ctx *ctx)
{
	struct ckpt_socks *s = ctx->socks;
	u32 id, i;

	if (!s)
		return;
	for (id = 1; id <= s->max; id++) {
		struct ckpt_sk *e = &s->sk[id];

		if (e->sk)
			sock_put(e->sk);
		if (!s->committed)
			restore_unix_rollback(e);
		if (e->tmp)
			sock_release(e->tmp);
		if (e->sock)
			sock_release(e->sock);
		if (e->file)
			fput(e->file);
		for (i = 0; i < e->nmsgs; i++) {
			kvfree(e->msgs[i].data);
			kvfree(e->msgs[i].fds);
		}
		kvfree(e->msgs);
		for (i = 0; i < e->nconns; i++)
			sock_put(e->conns[i]);
		kfree(e->conns);
		kfree(e->bound);
		kvfree(e->peer);
		kvfree(e->filter);
	}
	kvfree(s->sk);
	kfree(s);
	ctx->socks = NULL;
}
