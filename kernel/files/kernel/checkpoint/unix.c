// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: UNIX sockets (stream, datagram, seqpacket).
 *
 * Saved: the name (getsockname) and whether the socket bound it itself
 * or inherited it from its listener (accept), the absolute path of a
 * socket bound to a path, the peer (a socket of the image, a closed one,
 * or for a datagram socket one outside the checkpoint, by name), the
 * listen backlog, and the receive queue: the unread bytes of every skb,
 * each with its sender.  Restored: a connected pair is made again with
 * socketpair (its names bound or set afterwards); a socket whose peer
 * was closed is paired with a stand-in that is released once the queue
 * is refilled, which leaves it as the closed peer left it; a path that
 * holds a stale socket file (the killed original's) is taken over, any
 * other file there is EADDRINUSE.  Queues are refilled by sending each
 * message from its sender (boundaries kept), so the credentials the
 * receiver sees (SCM_CREDENTIALS) are the restarted task's.
 *
 * Refused at checkpoint, naming the descriptor: a stream or seqpacket
 * peer outside the checkpoint (EBUSY), a datagram socket connected to an
 * unnamed socket outside (EOPNOTSUPP), descriptors in flight
 * (SCM_RIGHTS), out-of-band data, connections waiting in a listener's
 * backlog, a path that was deleted, datagrams queued by a named socket
 * outside the checkpoint (EOPNOTSUPP).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/security.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/un.h>
#include <linux/uio.h>
#include <net/af_unix.h>
#include <net/scm.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "socket.h"

#define CKPT_SUN_PATH	offsetof(struct sockaddr_un, sun_path)

/* the name of @sk, or NULL */
static struct unix_address *ckpt_unix_addr(struct sock *sk)
{
	/* pairs with the smp_store_release() of a bind, as unix_getname() */
	return smp_load_acquire(&unix_sk(sk)->addr);
}

static bool ckpt_unix_abstract(const struct unix_address *addr)
{
	return addr->len > CKPT_SUN_PATH && !addr->name->sun_path[0];
}

/* did @sk bind its name itself (else it has its listener's: accept) */
static bool ckpt_unix_bound(struct sock *sk, const struct unix_address *addr)
{
	if (addr->len <= CKPT_SUN_PATH)
		return false;
	if (ckpt_unix_abstract(addr))
		return sk->sk_hash > UNIX_HASH_MOD;
	return !hlist_unhashed(&sk->sk_bind_node);
}

/* does the absolute path @abs end with the relative name @name (@n) */
static bool ckpt_unix_at(const char *abs, const char *name, size_t n)
{
	size_t alen = strlen(abs);

	return alen > n && abs[alen - n - 1] == '/' &&
	       !strncmp(abs + alen - n, name, n);
}

static bool ckpt_unix_is_sock(struct file *f, const void *sk)
{
	struct socket *sock = sock_from_file(f);

	return sock && sock->sk == sk;
}

/* the refusal of a peer outside: in a tree, naming a task that holds it */
static int ckpt_unix_outside(struct ckpt_ctx *ctx, struct sock *peer, int fd)
{
	const char *why = peer->sk_socket ? "" : " (not yet accepted)";
	pid_t other = 0;
	int ofd;

	if (ckpt_tree_multi(ctx) && peer->sk_socket)
		other = ckpt_tree_holder(ctx, ckpt_unix_is_sock, peer, &ofd);
	if (!other)
		return ckpt_err(ctx, -EBUSY,
				"fd %d: unix peer outside the checkpoint%s", fd,
				why);
	return ckpt_err(ctx, -EBUSY,
			"pid %d fd %d: unix peer outside the checkpoint, held by pid %d fd %d",
			ctx->tsk_pid, fd, other, ofd);
}

/* checkpoint: may this socket be saved? */
int ckpt_unix_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd)
{
	struct unix_sock *u = unix_sk(sk);
	struct sock *peer;
	int ret = 0;

#if IS_ENABLED(CONFIG_AF_UNIX_OOB)
	if (READ_ONCE(u->oob_skb))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: unix socket with out-of-band data (MSG_OOB) not supported",
				fd);
#endif
	unix_state_lock(sk);
	if (u->path.dentry && d_unlinked(u->path.dentry))
		ret = -ENOENT;
	unix_state_unlock(sk);
	if (ret)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: unix socket bound to a deleted path not supported",
				fd);

	peer = unix_peer_get(sk);
	if (!peer)
		return 0;
	if (ckpt_sk_id(ctx, peer)) {
		if (sk->sk_type == SOCK_DGRAM && READ_ONCE(unix_peer(peer)) != sk &&
		    !ckpt_unix_addr(peer))
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: unix dgram socket connected to an unnamed socket",
				       fd);
	} else if (sock_flag(peer, SOCK_DEAD)) {
		ret = 0;	/* a closed peer: restored as one */
	} else if (sk->sk_type != SOCK_DGRAM && !peer->sk_socket &&
		   ckpt_sk_id(ctx, READ_ONCE(unix_sk(peer)->listener))) {
		ret = 0;	/* waiting in the backlog of a listener held */
	} else if (sk->sk_type != SOCK_DGRAM) {
		ret = ckpt_unix_outside(ctx, peer, fd);
	} else if (!ckpt_unix_addr(peer)) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "fd %d: unix dgram socket connected to an unnamed socket outside the checkpoint",
			       fd);
	}
	sock_put(peer);
	return ret;
}

/* the name of @sk into @buf (CKPT_SOCK_ADDR_MAX); its path, held */
static u32 ckpt_unix_name(struct sock *sk, u8 *buf, struct path *path,
			  bool *bound)
{
	struct unix_sock *u = unix_sk(sk);
	struct unix_address *addr;
	u32 len = 0;

	unix_state_lock(sk);
	addr = u->addr;
	if (addr) {
		len = min_t(u32, addr->len, CKPT_SOCK_ADDR_MAX);
		memcpy(buf, addr->name, len);
		if (bound)
			*bound = ckpt_unix_bound(sk, addr);
	}
	*path = u->path;
	if (path->dentry)
		path_get(path);
	unix_state_unlock(sk);
	return len;
}

/* an absolute path for @path (kfree it), or an error */
static char *ckpt_unix_path(struct path *path)
{
	char *buf, *p, *ret;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	p = d_path(path, buf, PATH_MAX);
	ret = IS_ERR(p) ? p : kstrdup(p, GFP_KERNEL);
	kfree(buf);
	return ret ?: ERR_PTR(-ENOMEM);
}

/* checkpoint: name, peer; @paths: bind path and peer path (kfree them) */
int checkpoint_unix(struct ckpt_ctx *ctx, struct sock *sk, int fd,
		    struct ckpt_hdr_socket *h, char **paths)
{
	struct path path;
	struct sock *peer;
	bool bound = false;
	int ret = 0;

	h->laddr_len = ckpt_unix_name(sk, h->laddr, &path, &bound);
	if (h->laddr_len)
		h->flags |= bound ? CKPT_SOCK_BOUND : CKPT_SOCK_INHERITED;
	if (bound && path.dentry) {
		struct sockaddr_un *sun = (struct sockaddr_un *)h->laddr;
		size_t n = strnlen(sun->sun_path, h->laddr_len - CKPT_SUN_PATH);

		paths[0] = ckpt_unix_path(&path);
		ret = PTR_ERR_OR_ZERO(paths[0]);
		if (ret) {
			paths[0] = NULL;
			ret = ckpt_err(ctx, ret, "fd %d: path of its name", fd);
		} else if (sun->sun_path[0] != '/' &&
			   !ckpt_unix_at(paths[0], sun->sun_path, n)) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: unix socket bound to the relative name %.*s, now at %s: not supported",
				       fd, (int)n, sun->sun_path, paths[0]);
		}
	}
	if (path.dentry)
		path_put(&path);
	if (ret)
		return ret;

	peer = unix_peer_get(sk);
	if (!peer)
		return 0;
	h->peer_id = ckpt_sk_id(ctx, peer);
	if (h->peer_id && READ_ONCE(unix_peer(peer)) == sk) {
		h->flags |= CKPT_SOCK_PAIR;
	} else if (!h->peer_id && sock_flag(peer, SOCK_DEAD)) {
		h->flags |= CKPT_SOCK_PEER_CLOSED;
	} else if (!h->peer_id && sk->sk_type != SOCK_DGRAM) {
		/* classified: a connection waiting in a listener's backlog */
		h->flags |= CKPT_SOCK_PENDING;
		h->peer_id = ckpt_sk_id(ctx, READ_ONCE(unix_sk(peer)->listener));
	} else {
		/* a datagram socket connected one way, by the peer's name */
		h->flags |= CKPT_SOCK_CONNECT;
		h->raddr_len = ckpt_unix_name(peer, h->raddr, &path, NULL);
		if (path.dentry) {
			paths[1] = ckpt_unix_path(&path);
			ret = PTR_ERR_OR_ZERO(paths[1]);
			if (ret) {
				paths[1] = NULL;
				ret = ckpt_err(ctx, ret,
					       "fd %d: path of its peer", fd);
			}
			path_put(&path);
		}
		if (!ret && !h->raddr_len)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: unix dgram socket connected to an unnamed socket",
				       fd);
	}
	sock_put(peer);
	return ret;
}

struct ckpt_unix_msg {
	void *data;
	s32 *fds;		/* @h.nfds descriptors in flight */
	struct ckpt_hdr_socket_msg h;
};

/* the messages of a queue, as they go into the image */
struct ckpt_unix_q {
	struct ckpt_unix_msg *m;
	u32 n, cap;
	u64 bytes;
};

static struct ckpt_unix_msg *ckpt_unix_q_add(struct ckpt_unix_q *q)
{
	struct ckpt_unix_msg *m;

	if (q->n == q->cap) {
		u32 cap = max_t(u32, 16, q->cap * 2);

		m = kvrealloc(q->m, q->cap * sizeof(*m), cap * sizeof(*m),
			      GFP_KERNEL | __GFP_ZERO);
		if (!m)
			return NULL;
		q->m = m;
		q->cap = cap;
	}
	return &q->m[q->n++];
}

/* the sender of a queued message, for the image */
static int ckpt_unix_sender(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			    struct ckpt_hdr_socket *h, struct sock *from,
			    struct ckpt_hdr_socket_msg *m)
{
	struct sock *peer = READ_ONCE(unix_peer(sk));
	bool connected = h->flags & (CKPT_SOCK_PAIR | CKPT_SOCK_PEER_CLOSED |
				     CKPT_SOCK_PENDING);

	m->sender_id = ckpt_sk_id(ctx, from);
	if (m->sender_id) {
		if (connected && m->sender_id != h->peer_id)
			goto other;
		return 0;
	}
	if ((h->flags & CKPT_SOCK_PEER_CLOSED) && from == peer) {
		m->flags |= CKPT_MSG_PEER;
		return 0;
	}
	if (sk->sk_type != SOCK_DGRAM || connected)
		goto other;
	/* an unnamed sender outside: a stand-in sends it to our name */
	if (!ckpt_unix_addr(from) && (h->flags & CKPT_SOCK_BOUND))
		return 0;
	return ckpt_err(ctx, -EOPNOTSUPP,
			"fd %d: datagram queued by a named socket outside the checkpoint",
			fd);
other:
	return ckpt_err(ctx, -EOPNOTSUPP,
			"fd %d: data queued by a socket other than its peer",
			fd);
}

/* take a reference to every skb of the receive queue, in order */
static int ckpt_unix_queue_get(struct sock *sk, struct sk_buff ***pskbs)
{
	struct sk_buff_head *q = &sk->sk_receive_queue;
	struct sk_buff **skbs, *skb;
	u32 n, i;

	n = skb_queue_len_lockless(q);
	if (n > CKPT_SOCK_QUEUE_MSGS)
		return -E2BIG;
	skbs = kvcalloc(n + 1, sizeof(*skbs), GFP_KERNEL);
	if (!skbs)
		return -ENOMEM;
	i = 0;
	spin_lock(&q->lock);
	if (skb_queue_len(q) != n) {
		spin_unlock(&q->lock);
		kvfree(skbs);
		return -EAGAIN;
	}
	skb_queue_walk(q, skb)
		skbs[i++] = skb_get(skb);
	spin_unlock(&q->lock);
	*pskbs = skbs;
	return n;
}

/*
 * Descriptors in flight (SCM_RIGHTS): each file must be open in the task's
 * table too, so that restart gives the message the same open files; it is
 * recorded by the lowest descriptor that holds it.
 */
static int ckpt_unix_msg_fds(struct ckpt_ctx *ctx, int fd,
			     struct scm_fp_list *fpl, struct ckpt_unix_msg *m)
{
	int k;

	m->fds = kvcalloc(max_t(int, fpl->count, 1), sizeof(*m->fds),
			  GFP_KERNEL);
	if (!m->fds)
		return -ENOMEM;
	for (k = 0; k < fpl->count; k++) {
		m->fds[k] = ckpt_sk_fd_of(ctx, fpl->fp[k]);
		if (m->fds[k] < 0)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: a descriptor in flight (SCM_RIGHTS) whose file the task holds nowhere else: not supported",
					fd);
	}
	m->h.nfds = fpl->count;
	return 0;
}

/* one queued skb into @q: its unread bytes, its sender */
static int ckpt_unix_msg(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			 struct ckpt_hdr_socket *h, struct sk_buff *skb,
			 struct sock *client, struct ckpt_unix_q *q)
{
	u32 off = sk->sk_type == SOCK_STREAM ? UNIXCB(skb).consumed : 0;
	u32 len = skb->len - off;
	struct ckpt_unix_msg *m;

	if (len > CKPT_SOCK_MSG_MAX || q->bytes + len > CKPT_SOCK_QUEUE_MAX ||
	    q->n >= CKPT_SOCK_QUEUE_MSGS)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: receive queue above %u bytes or %u messages not supported",
				fd, CKPT_SOCK_QUEUE_MAX, CKPT_SOCK_QUEUE_MSGS);
	if (sk->sk_type == SOCK_STREAM && !len)
		return 0;
	m = ckpt_unix_q_add(q);
	if (!m)
		return -ENOMEM;
	m->h.len = len;
	if (UNIXCB(skb).pid)
		m->h.flags |= CKPT_MSG_CREDS;
	if (client) {
		/* sent by the client of a connection not yet accepted */
		if (skb->sk != client)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: data queued by a socket other than its peer",
					fd);
		m->h.sender_id = ckpt_sk_id(ctx, client);
		m->h.flags |= CKPT_MSG_EMBRYO;
	} else {
		int ret = ckpt_unix_sender(ctx, sk, fd, h, skb->sk, &m->h);

		if (ret)
			return ret;
	}
	m->data = kvmalloc(max_t(u32, len, 1), GFP_KERNEL);
	if (!m->data)
		return -ENOMEM;
	q->bytes += len;
	if (UNIXCB(skb).fp) {
		int ret = ckpt_unix_msg_fds(ctx, fd, UNIXCB(skb).fp, m);

		if (ret)
			return ret;
	}
	return skb_copy_bits(skb, off, m->data, len);
}

/*
 * The receive queue of @sk into @q.  A listener's holds one skb for every
 * connection waiting to be accepted: its embryo socket, whose peer is the
 * client, and whose own queue holds what the client sent already; each
 * is a CONN message naming the client, then its EMBRYO messages.
 */
static int ckpt_unix_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			   struct ckpt_hdr_socket *h, struct sock *client,
			   struct ckpt_unix_q *q)
{
	struct unix_sock *u = unix_sk(sk);
	struct sk_buff **skbs = NULL;
	int i, n, tries, ret = 0;

	if (mutex_lock_interruptible(&u->iolock))
		return -EINTR;
	for (tries = 0; tries < 8; tries++) {
		n = ckpt_unix_queue_get(sk, &skbs);
		if (n != -EAGAIN)
			break;
	}
	if (n < 0) {
		mutex_unlock(&u->iolock);
		return ckpt_err(ctx, n == -E2BIG ? -EOPNOTSUPP : n,
				"fd %d: cannot read its receive queue", fd);
	}
	for (i = 0; i < n && !ret && !client && h->state != TCP_LISTEN; i++)
		ret = ckpt_unix_msg(ctx, sk, fd, h, skbs[i], NULL, q);
	for (i = 0; i < n && !ret && client; i++)
		ret = ckpt_unix_msg(ctx, sk, fd, h, skbs[i], client, q);
	mutex_unlock(&u->iolock);

	/* the connections of a listener, its lock released */
	for (i = 0; i < n && !ret && !client && h->state == TCP_LISTEN; i++) {
		struct sock *embryo = skbs[i]->sk;
		struct sock *from = READ_ONCE(unix_peer(embryo));
		struct ckpt_unix_msg *m = ckpt_unix_q_add(q);

		if (!m) {
			ret = -ENOMEM;
			break;
		}
		m->h.sender_id = ckpt_sk_id(ctx, from);
		m->h.flags = CKPT_MSG_CONN;
		if (!m->h.sender_id)
			ret = ckpt_err(ctx, -EBUSY,
				       "fd %d: unix peer outside the checkpoint (a connection waiting in its backlog)",
				       fd);
		else
			ret = ckpt_unix_queue(ctx, embryo, fd, h, from, q);
	}
	for (i = 0; i < n; i++)
		consume_skb(skbs[i]);
	kvfree(skbs);
	return ret;
}

/* checkpoint: SOCKET_QUEUE and the messages of the receive queue */
int checkpoint_unix_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			  struct ckpt_hdr_socket *h)
{
	struct ckpt_hdr_socket_queue hq = { };
	struct ckpt_unix_q q = { };
	u32 i;
	int ret;

	ret = ckpt_unix_queue(ctx, sk, fd, h, NULL, &q);
	hq.nmsgs = q.n;
	hq.bytes = q.bytes;
	if (!ret)
		ret = ckpt_write_obj(ctx, &hq, CKPT_HDR_SOCKET_QUEUE, sizeof(hq));
	for (i = 0; i < q.n && !ret; i++) {
		struct ckpt_unix_msg *m = &q.m[i];

		ret = ckpt_write_obj(ctx, &m->h, CKPT_HDR_SOCKET_MSG,
				     sizeof(m->h));
		if (!ret)
			ret = ckpt_sk_write_buffer(ctx, m->data, m->h.len);
		if (!ret && m->h.nfds)
			ret = ckpt_sk_write_buffer(ctx, m->fds, 4 * m->h.nfds);
	}
	for (i = 0; i < q.n; i++) {
		kvfree(q.m[i].data);
		kvfree(q.m[i].fds);
	}
	kvfree(q.m);
	return ret;
}

/* restart */

static bool restore_unix_addr_ok(const u8 *buf, u32 len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)buf;

	/* a path name of 108 bytes has its NUL counted beyond */
	return !len || (len > CKPT_SUN_PATH &&
			len <= sizeof(struct sockaddr_un) + 1 &&
			sun->sun_family == AF_UNIX);
}

int restore_unix_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h)
{
	u32 f = h->flags, id = h->sk_id;
	bool stream = h->type == SOCK_STREAM || h->type == SOCK_SEQPACKET;
	u32 conn = f & (CKPT_SOCK_PAIR | CKPT_SOCK_PEER_CLOSED |
			CKPT_SOCK_CONNECT | CKPT_SOCK_PENDING);

	if (h->type != SOCK_STREAM && h->type != SOCK_DGRAM &&
	    h->type != SOCK_SEQPACKET)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad type %u", id,
				h->type);
	if (h->protocol && h->protocol != PF_UNIX)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad protocol %u", id,
				h->protocol);
	if (h->state != TCP_CLOSE && h->state != TCP_ESTABLISHED &&
	    (h->state != TCP_LISTEN || !stream))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad state %u", id,
				h->state);
	if (!restore_unix_addr_ok(h->laddr, h->laddr_len) ||
	    !restore_unix_addr_ok(h->raddr, h->raddr_len) ||
	    !(f & (CKPT_SOCK_BOUND | CKPT_SOCK_INHERITED)) != !h->laddr_len ||
	    ((f & CKPT_SOCK_BOUND) && (f & CKPT_SOCK_INHERITED)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad address", id);
	if (f & (CKPT_SOCK_REUSEPORT | CKPT_SOCK_NODELAY | CKPT_SOCK_INET_OPTS |
		 CKPT_SOCK_IP_OPTS | CKPT_SOCK_TCP_OPTS))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad flags %#x", id, f);
	if (hweight32(conn) > 1 ||
	    ((f & (CKPT_SOCK_PAIR | CKPT_SOCK_PENDING)) && !h->peer_id) ||
	    (!(f & (CKPT_SOCK_PAIR | CKPT_SOCK_CONNECT | CKPT_SOCK_PENDING)) &&
	     h->peer_id) ||
	    ((f & CKPT_SOCK_CONNECT) && (stream || !h->raddr_len)) ||
	    ((f & CKPT_SOCK_PENDING) && !stream) ||
	    (!(f & CKPT_SOCK_CONNECT) && h->raddr_len) ||
	    (h->state == TCP_LISTEN && (!(f & CKPT_SOCK_BOUND) || conn)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad peer", id);
	return 0;
}

static int restore_unix_create(int type, struct socket **res)
{
	return sock_create(AF_UNIX, type, 0, res);
}

static int restore_unix_pair(int type, struct socket **a, struct socket **b)
{
	int ret;

	ret = restore_unix_create(type, a);
	if (ret)
		return ret;
	ret = restore_unix_create(type, b);
	if (ret)
		goto err_a;
	ret = security_socket_socketpair(*a, *b);
	if (!ret)
		ret = (*a)->ops->socketpair(*a, *b);
	if (!ret)
		return 0;
	sock_release(*b);
	*b = NULL;
err_a:
	sock_release(*a);
	*a = NULL;
	return ret;
}

/* unlink the socket file at @name (only @inode, if given) */
static int restore_unix_unlink(const char *name, struct inode *inode)
{
	struct path parent, p;
	struct dentry *d;
	int ret;

	/*
	 * Write access to the mount before the directory is locked, in the
	 * order do_unlinkat() takes them (sb_writers, then i_rwsem).
	 */
	ret = kern_path(name, 0, &p);
	if (ret)
		return ret;
	ret = mnt_want_write(p.mnt);
	if (ret)
		goto out_path;
	d = kern_path_locked(name, &parent);
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
		goto out_write;
	}
	ret = -ENOENT;
	if (d_is_negative(d))
		goto out;
	ret = -EADDRINUSE;
	if (!S_ISSOCK(d_inode(d)->i_mode) || (inode && d_inode(d) != inode))
		goto out;
	/* the name moved to another mount meanwhile */
	ret = -EBUSY;
	if (parent.mnt != p.mnt)
		goto out;
	ret = security_path_unlink(&parent, d);
	if (!ret)
		ret = vfs_unlink(mnt_user_ns(parent.mnt),
				 d_inode(parent.dentry), d, NULL);
out:
	inode_unlock(d_inode(parent.dentry));
	dput(d);
	path_put(&parent);
out_write:
	mnt_drop_write(p.mnt);
out_path:
	path_put(&p);
	return ret;
}

/*
 * Bind a path name again, taking over a stale socket file there (the
 * killed original's).  An absolute name is bound as it is; a relative one
 * from the directory it was relative to (@abs, the absolute path at
 * checkpoint, ends with it), so that getsockname() reads as before.
 */
static int restore_unix_bind_path(struct ckpt_ctx *ctx, struct ckpt_sk *e,
				  struct socket *sock, const char *abs)
{
	struct ckpt_hdr_socket *h = &e->h;
	int alen = min_t(int, h->laddr_len, sizeof(struct sockaddr_un));
	struct sockaddr_un *sun = (struct sockaddr_un *)h->laddr;
	size_t n = strnlen(sun->sun_path, h->laddr_len - CKPT_SUN_PATH);
	struct path dir, old;
	const char *where;
	char *d;
	int ret;

	if (*abs != '/' ||
	    (sun->sun_path[0] != '/' && !ckpt_unix_at(abs, sun->sun_path, n)))
		return ckpt_err(ctx, -EINVAL, "socket %u: bad bind path",
				h->sk_id);
	d = kstrndup(sun->sun_path[0] == '/' ? sun->sun_path : abs,
		     sun->sun_path[0] == '/' ? n : strlen(abs) - n,
		     GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	where = sun->sun_path[0] == '/' ? d : abs;
	ret = restore_unix_unlink(where, NULL);
	if (ret == -EADDRINUSE) {
		ckpt_err(ctx, ret, "socket %u: %s exists and is not a socket",
			 h->sk_id, where);
		goto out;
	}
	if (ret && ret != -ENOENT) {
		ckpt_err(ctx, ret, "socket %u: cannot remove the stale %s",
			 h->sk_id, where);
		goto out;
	}
	if (sun->sun_path[0] == '/') {
		ret = kernel_bind(sock, (struct sockaddr *)sun, alen);
	} else {
		ret = kern_path(d, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
		if (ret) {
			ckpt_err(ctx, ret, "socket %u: directory of %s",
				 h->sk_id, abs);
			goto out;
		}
		/* restart refuses a caller sharing its fs_struct */
		get_fs_pwd(current->fs, &old);
		set_fs_pwd(current->fs, &dir);
		ret = kernel_bind(sock, (struct sockaddr *)sun, alen);
		set_fs_pwd(current->fs, &old);
		path_put(&old);
		path_put(&dir);
	}
	if (ret) {
		ckpt_err(ctx, ret, "socket %u: cannot bind %s", h->sk_id,
			 where);
		goto out;
	}
	e->bound = kstrdup(where, GFP_KERNEL);
	if (!e->bound)
		ret = -ENOMEM;
out:
	kfree(d);
	return ret;
}

/* the name of an accepted socket: its listener's, shared, not bound */
static int restore_unix_set_name(struct sock *sk, const u8 *name, u32 len)
{
	struct unix_address *addr;

	addr = kmalloc(sizeof(*addr) + len, GFP_KERNEL);
	if (!addr)
		return -ENOMEM;
	refcount_set(&addr->refcnt, 1);
	addr->len = len;
	memcpy(addr->name, name, len);
	unix_state_lock(sk);
	if (unix_sk(sk)->addr) {
		unix_state_unlock(sk);
		kfree(addr);
		return -EINVAL;
	}
	/* published as unix_bind() does: readers use smp_load_acquire() */
	smp_store_release(&unix_sk(sk)->addr, addr);
	unix_state_unlock(sk);
	return 0;
}

static int restore_unix_name(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			     struct socket *sock, const char *bind)
{
	struct ckpt_hdr_socket *h = &e->h;
	int ret;

	if (h->flags & CKPT_SOCK_INHERITED)
		return restore_unix_set_name(sock->sk, h->laddr, h->laddr_len);
	if (!(h->flags & CKPT_SOCK_BOUND))
		return 0;
	if (h->laddr[CKPT_SUN_PATH])
		return restore_unix_bind_path(ctx, e, sock, bind);
	if (*bind)
		return ckpt_err(ctx, -EINVAL, "socket %u: bad bind path",
				h->sk_id);
	ret = kernel_bind(sock, (struct sockaddr *)h->laddr, h->laddr_len);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot bind its abstract name @%.*s",
				h->sk_id, (int)(h->laddr_len - CKPT_SUN_PATH - 1),
				h->laddr + CKPT_SUN_PATH + 1);
	return 0;
}

/* a failed restart removes the path it bound, if it still is ours */
static void restore_unix_rollback_sock(struct ckpt_sk *e, struct socket *sock)
{
	struct unix_sock *u = unix_sk(sock->sk);

	if (e->bound && u->path.dentry)
		restore_unix_unlink(e->bound, d_inode(u->path.dentry));
	kfree(e->bound);
	e->bound = NULL;
}

void restore_unix_rollback(struct ckpt_sk *e)
{
	if (e->bound && e->file)
		restore_unix_rollback_sock(e, sock_from_file(e->file));
}

/* restart: create (or take, if its pair made it), name, listen */
int restore_unix(struct ckpt_ctx *ctx, struct ckpt_sk *e, const char *bind,
		 struct socket **psock)
{
	struct ckpt_hdr_socket *h = &e->h;
	struct socket *sock = NULL;
	struct ckpt_sk *pe;
	int ret;

	if (e->sock) {
		if (!(h->flags & CKPT_SOCK_PAIR) || e->creator != h->peer_id ||
		    e->sock->type != h->type)
			return ckpt_err(ctx, -EINVAL,
					"socket %u: does not match its pair %u",
					h->sk_id, e->creator);
		swap(sock, e->sock);
	} else if (h->flags & CKPT_SOCK_PAIR) {
		pe = ckpt_sk_get(ctx, h->peer_id);
		if (h->peer_id < h->sk_id || !pe || pe->sock)
			return ckpt_err(ctx, -EINVAL, "socket %u: bad pair %u",
					h->sk_id, h->peer_id);
		ret = restore_unix_pair(h->type, &sock, &pe->sock);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: socketpair",
					h->sk_id);
		pe->creator = h->sk_id;
	} else if (h->flags & CKPT_SOCK_PEER_CLOSED) {
		ret = restore_unix_pair(h->type, &sock, &e->tmp);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: socketpair",
					h->sk_id);
	} else {
		ret = restore_unix_create(h->type, &sock);
		if (ret)
			return ckpt_err(ctx, ret, "socket %u: cannot create it",
					h->sk_id);
	}
	ret = restore_unix_name(ctx, e, sock, bind);
	if (!ret && h->state == TCP_LISTEN) {
		ret = kernel_listen(sock, h->backlog);
		if (ret)
			ckpt_err(ctx, ret, "socket %u: cannot listen", h->sk_id);
	}
	if (ret) {
		restore_unix_rollback_sock(e, sock);
		sock_release(sock);
		return ret;
	}
	*psock = sock;
	return 0;
}

/* the socket that sends message @m back, and the name to send it to */
static struct socket *restore_unix_sender(struct ckpt_ctx *ctx,
					  struct ckpt_sk *e,
					  struct ckpt_sk_msg *m,
					  struct socket **anon)
{
	struct ckpt_sk *se;
	int ret;

	if (m->h.sender_id) {
		se = ckpt_sk_get(ctx, m->h.sender_id);
		if (se && se->file && m->h.sender_id <= ctx->socks->n &&
		    se->h.type == e->h.type)
			return sock_from_file(se->file);
		return ERR_PTR(-EINVAL);
	}
	if (m->h.flags & CKPT_MSG_PEER)
		return e->tmp ?: ERR_PTR(-EINVAL);
	if (e->h.type != SOCK_DGRAM)
		return ERR_PTR(-EINVAL);
	if (!*anon) {
		ret = restore_unix_create(SOCK_DGRAM, anon);
		if (ret)
			return ERR_PTR(ret);
	}
	return *anon;
}

/*
 * The name to reach the socket of @e at, into @name (CKPT_SOCK_ADDR_MAX
 * bytes): a path by the absolute path it was bound to (the name may be
 * relative to another directory), else its name.  Its length, or -errno.
 */
static int restore_unix_dest(struct ckpt_sk *e, u8 *name)
{
	struct unix_address *addr = ckpt_unix_addr(sock_from_file(e->file)->sk);
	struct sockaddr_un *sun = (struct sockaddr_un *)name;

	if (!addr)
		return -EDESTADDRREQ;
	if (e->bound) {
		sun->sun_family = AF_UNIX;
		if (strscpy(sun->sun_path, e->bound, sizeof(sun->sun_path)) < 0)
			return -ENAMETOOLONG;
		return CKPT_SUN_PATH + strlen(e->bound) + 1;
	}
	memcpy(name, addr->name, min_t(int, addr->len,
				       sizeof(struct sockaddr_un)));
	return min_t(int, addr->len, sizeof(struct sockaddr_un));
}

/*
 * The files in flight of message @m, as a SCM_RIGHTS control message in
 * @msg: scm_send() takes descriptors of the caller's table, so they are
 * installed there (close-on-exec) until the message is sent, then closed
 * by restore_unix_fds_put().  The files are those that the image's
 * descriptors will hold: the message keeps the same open files.
 */
static int restore_unix_fds_get(struct ckpt_ctx *ctx, struct ckpt_sk_msg *m,
				struct msghdr *msg, struct cmsghdr *cm)
{
	s32 *img = (s32 *)(m->fds + 1);
	int *tmp = (int *)CMSG_DATA(cm);
	u32 k;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * m->h.nfds);
	for (k = 0; k < m->h.nfds; k++)
		tmp[k] = -1;
	for (k = 0; k < m->h.nfds; k++) {
		struct file *file = restore_sk_file_of(ctx, img[k]);

		if (!file)
			return -EINVAL;
		tmp[k] = get_unused_fd_flags(O_CLOEXEC);
		if (tmp[k] < 0)
			return tmp[k];
		fd_install(tmp[k], get_file(file));
	}
	msg->msg_control = cm;
	msg->msg_controllen = CMSG_SPACE(sizeof(int) * m->h.nfds);
	return 0;
}

static void restore_unix_fds_put(struct ckpt_sk_msg *m, struct cmsghdr *cm)
{
	int *tmp = (int *)CMSG_DATA(cm);
	u32 k;

	for (k = 0; k < m->h.nfds; k++)
		if (tmp[k] >= 0)
			close_fd(tmp[k]);
}

/*
 * Send message @m from @from to the socket of @e, through the connection
 * if it is @from's peer, else to its name; @e NULL: to @from's peer (the
 * embryo of a connection not yet accepted).
 */
static int restore_unix_send(struct ckpt_ctx *ctx, struct socket *from,
			     struct ckpt_sk *e, struct ckpt_sk_msg *m)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct cmsghdr *cm = NULL;
	u8 name[CKPT_SOCK_ADDR_MAX] = { };	/* NUL-terminated in place */
	struct sock *to = READ_ONCE(unix_peer(from->sk));
	char *data = (char *)(m->data + 1);
	u32 done = 0;
	int ret;

	if (e && to != sock_from_file(e->file)->sk) {
		to = sock_from_file(e->file)->sk;
		ret = restore_unix_dest(e, name);
		if (ret < 0)
			return ret;
		msg.msg_name = name;
		msg.msg_namelen = ret;
	}
	if (!to)
		return -ENOTCONN;
	/*
	 * No limit while refilling: the options are set afterwards.  The
	 * message gets credentials (the restarted task's) if it had them:
	 * unix_passcred_enabled() looks at the receiver's SO_PASSCRED (an
	 * embryo, without a socket, always gets them).
	 */
	WRITE_ONCE(from->sk->sk_sndbuf, INT_MAX / 2);
	if (to->sk_socket)
		assign_bit(SOCK_PASSCRED, &to->sk_socket->flags,
			   m->h.flags & CKPT_MSG_CREDS);
	if (m->fds) {
		cm = kzalloc(CMSG_SPACE(sizeof(int) * CKPT_SOCK_MSG_FDS),
			     GFP_KERNEL);
		if (!cm)
			return -ENOMEM;
		ret = restore_unix_fds_get(ctx, m, &msg, cm);
		if (ret)
			goto out;
	}
	do {
		struct kvec vec = {
			.iov_base = data + done,
			.iov_len = m->h.len - done,
		};

		ret = kernel_sendmsg(from, &msg, &vec, 1, vec.iov_len);
		if (ret < 0)
			goto out;
		ret = from->type != SOCK_STREAM && ret != m->h.len ? -EMSGSIZE : ret;
		if (ret < 0)
			goto out;
		done += ret;
		/* the files went with the first part */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	} while (done < m->h.len);
	ret = 0;
out:
	if (cm) {
		restore_unix_fds_put(m, cm);
		kfree(cm);
	}
	return ret;
}

/*
 * restart: the connections waiting in the backlog of the listener of @e,
 * in their order: each client connects again, then sends what it had
 * sent (the embryo's queue).
 */
static int restore_unix_backlog(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	u8 name[CKPT_SOCK_ADDR_MAX] = { };	/* NUL-terminated in place */
	struct ckpt_sk *ce = NULL;
	int len, ret = 0;
	u32 i;

	len = restore_unix_dest(e, name);
	if (len < 0)
		return ckpt_err(ctx, len, "socket %u: listener without a name",
				e->h.sk_id);
	for (i = 0; i < e->nmsgs && !ret; i++) {
		struct ckpt_sk_msg *m = &e->msgs[i];

		if (m->h.flags & CKPT_MSG_EMBRYO) {
			ret = restore_unix_send(ctx, sock_from_file(ce->file),
						NULL, m);
			if (ret)
				ckpt_err(ctx, ret, "socket %u: connection of socket %u: cannot queue its data again",
					 e->h.sk_id, ce->h.sk_id);
			continue;
		}
		ce = ckpt_sk_get(ctx, m->h.sender_id);
		if (!ce || !ce->file || m->h.sender_id > ctx->socks->n ||
		    !(ce->h.flags & CKPT_SOCK_PENDING) ||
		    ce->h.peer_id != e->h.sk_id || ce->connected ||
		    ce->h.type != e->h.type)
			return ckpt_err(ctx, -EINVAL,
					"socket %u: bad connection from socket %u",
					e->h.sk_id, m->h.sender_id);
		ret = kernel_connect(sock_from_file(ce->file),
				     (struct sockaddr *)name, len, O_NONBLOCK);
		if (ret)
			ckpt_err(ctx, ret, "socket %u: cannot connect socket %u to it again",
				 e->h.sk_id, ce->h.sk_id);
		ce->connected = true;
	}
	return ret;
}

/* restart: put the receive queue back, from the senders */
int restore_unix_refill(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct socket *anon = NULL, *from;
	struct sock *sk;
	u32 i;
	int ret = 0;

	if (!e->nmsgs)
		return 0;
	if (e->h.state == TCP_LISTEN)
		return restore_unix_backlog(ctx, e);
	sk = sock_from_file(e->file)->sk;
	WRITE_ONCE(sk->sk_max_ack_backlog, U32_MAX / 2);
	for (i = 0; i < e->nmsgs && !ret; i++) {
		from = restore_unix_sender(ctx, e, &e->msgs[i], &anon);
		ret = PTR_ERR_OR_ZERO(from);
		if (!ret)
			ret = restore_unix_send(ctx, from, e, &e->msgs[i]);
		if (ret)
			ckpt_err(ctx, ret, "socket %u: cannot queue message %u again",
				 e->h.sk_id, i);
	}
	WRITE_ONCE(sk->sk_max_ack_backlog, e->backlog0);
	if (anon)
		sock_release(anon);
	for (i = 0; i < e->nmsgs; i++) {
		kvfree(e->msgs[i].data);
		kvfree(e->msgs[i].fds);
		e->msgs[i].data = NULL;
		e->msgs[i].fds = NULL;
	}
	return ret;
}

/* restart: a datagram socket connected one way, by name */
int restore_unix_connect(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	struct ckpt_hdr_socket *h = &e->h;
	u8 name[CKPT_SOCK_ADDR_MAX] = { };	/* NUL-terminated in place */
	struct sockaddr_un *sun = (struct sockaddr_un *)name;
	int len, ret;

	if ((h->flags & CKPT_SOCK_PENDING) && !e->connected)
		return ckpt_err(ctx, -EINVAL,
				"socket %u: not in the backlog of its listener %u",
				h->sk_id, h->peer_id);
	if (!(h->flags & CKPT_SOCK_CONNECT))
		return 0;
	if (h->raddr[CKPT_SUN_PATH]) {
		if (*e->peer != '/' ||
		    strscpy(sun->sun_path, e->peer, sizeof(sun->sun_path)) < 0)
			return ckpt_err(ctx, -EINVAL,
					"socket %u: bad peer path %s", h->sk_id,
					e->peer);
		sun->sun_family = AF_UNIX;
		len = CKPT_SUN_PATH + strlen(sun->sun_path) + 1;
	} else {
		if (*e->peer)
			return ckpt_err(ctx, -EINVAL,
					"socket %u: bad peer path %s", h->sk_id,
					e->peer);
		len = min_t(int, h->raddr_len, sizeof(struct sockaddr_un));
		memcpy(name, h->raddr, len);
	}
	ret = kernel_connect(sock_from_file(e->file), (struct sockaddr *)sun,
			     len, 0);
	if (ret)
		return ckpt_err(ctx, ret, "socket %u: cannot reconnect to %s",
				h->sk_id, *e->peer ? e->peer : "its abstract peer");
	return 0;
}

/* restart: the stand-in of a closed peer goes, as the peer went */
void restore_unix_finish(struct ckpt_ctx *ctx, struct ckpt_sk *e)
{
	if (e->tmp) {
		sock_release(e->tmp);
		e->tmp = NULL;
	}
}

void restore_unix_shutdown(struct ckpt_sk *e)
{
	struct sock *sk = sock_from_file(e->file)->sk;

	unix_state_lock(sk);
	WRITE_ONCE(sk->sk_shutdown, e->h.shutdown);
	unix_state_unlock(sk);
}
