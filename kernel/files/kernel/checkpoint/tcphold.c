// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: TCP connections that CHECKPOINT_TCP_HOLD held, after
 * the checkpointed program closed them (was killed).
 *
 * A held connection is silent (inet.c, ckpt_tcp_hold()).  Closed, it used
 * to vanish at once, and then nothing owned its addresses: the peer's next
 * retransmission found no socket and the stack answered it with a RST,
 * so a program killed and restarted on the same machine lost every
 * connection in that gap.  Now tcp_close() keeps it (tcp.c calls
 * checkpoint_tcp_keep_held()): orphaned, still in the established hash,
 * still dropping every segment, for kernel.ckpt_tcp_hold_secs seconds
 * (60; 0: it vanishes at close as before).  Its keepalive timer ends the
 * hold silently (tcp_keepalive_timer(): tcp_done(), no RST), unless a
 * restart takes its place first: restoring the same connection (same
 * addresses and ports, in the same network namespace) ends it, and so does
 * binding a restored socket to a port that only held connections keep
 * from it.  Both need CAP_NET_ADMIN over the namespace, as the hold does.
 */

#include <linux/checkpoint_hooks.h>
#include <linux/sysctl.h>
#include <linux/tcp.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "socket.h"

static unsigned int ckpt_tcp_hold_secs = 60;
static unsigned int ckpt_tcp_hold_max = 24 * 3600;

static struct ctl_table ckpt_tcp_hold_table[] = {
	{
		.procname	= "ckpt_tcp_hold_secs",
		.data		= &ckpt_tcp_hold_secs,
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra2		= &ckpt_tcp_hold_max,
	},
	{ }
};

static int __init ckpt_tcp_hold_init(void)
{
	register_sysctl("kernel", ckpt_tcp_hold_table);
	return 0;
}
late_initcall(ckpt_tcp_hold_init);

/*
 * tcp_close() of @sk in repair mode (under its lock): keep it, held, if
 * checkpoint held it.  Its keepalive timer ends the hold.
 */
bool checkpoint_tcp_keep_held(struct sock *sk)
{
	unsigned int secs = READ_ONCE(ckpt_tcp_hold_secs);

	if (!secs || !ckpt_tcp_connected(sk->sk_state) || !ckpt_tcp_is_held(sk))
		return false;
	inet_csk_reset_keepalive_timer(sk, secs * HZ);
	return true;
}

/* the end of a kept connection's hold: it goes as the timer would end it */
static void ckpt_tcp_end_held(struct sock *sk)
{
	lock_sock(sk);
	local_bh_disable();
	bh_lock_sock(sk);
	if (sock_flag(sk, SOCK_DEAD) && sk->sk_state != TCP_CLOSE &&
	    ckpt_tcp_is_held(sk)) {
		inet_csk_delete_keepalive_timer(sk);
		tcp_done(sk);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
	release_sock(sk);
}

static bool ckpt_tcp_kept(struct sock *sk)
{
	return sk && sk->sk_state != TCP_TIME_WAIT &&
	       sk->sk_state != TCP_NEW_SYN_RECV && sock_flag(sk, SOCK_DEAD) &&
	       ckpt_tcp_is_held(sk);
}

/*
 * restart, before it connects @sk (bound, in repair mode) to @peer: a
 * connection of the same addresses kept after its close gives its place
 */
void restore_tcp_take_held(struct ckpt_ctx *ctx, struct sock *sk,
			   const struct sockaddr *peer)
{
	struct net *net = sock_net(sk);
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct inet_sock *inet = inet_sk(sk);
	struct sock *old = NULL;

	__be32 v4 = 0;
	__be16 port = 0;

	if (peer->sa_family == AF_INET) {
		v4 = ((const struct sockaddr_in *)peer)->sin_addr.s_addr;
		port = ((const struct sockaddr_in *)peer)->sin_port;
	}
#if IS_ENABLED(CONFIG_IPV6)
	/* a v4-mapped connection is hashed by its IPv4 addresses */
	if (peer->sa_family == AF_INET6 &&
	    ipv6_addr_v4mapped(&((const struct sockaddr_in6 *)peer)->sin6_addr)) {
		v4 = ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr32[3];
		port = ((const struct sockaddr_in6 *)peer)->sin6_port;
	}
#endif
	if (port) {
		old = inet_lookup_established(net, hinfo, v4, port,
					      inet->inet_saddr,
					      inet->inet_sport, 0);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;

		rcu_read_lock();
		old = __inet6_lookup_established(net, hinfo, &in6->sin6_addr,
						 in6->sin6_port,
						 &sk->sk_v6_rcv_saddr,
						 ntohs(inet->inet_sport), 0, 0);
		rcu_read_unlock();
#endif
	}
	if (!old)
		return;
	if (ckpt_tcp_kept(old)) {
		ckpt_tcp_end_held(old);
		ckpt_msg(ctx,
			 "TCP connection to %pISpc: takes the place of the held one kept after its close",
			 peer);
	}
	sock_gen_put(old);
}

/* a connection on @net's port @port kept after its close, with a reference */
static struct sock *ckpt_tcp_kept_on_port(struct net *net, u16 port)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	unsigned int i;

	for (i = 0; i <= hinfo->ehash_mask; i++) {
		struct inet_ehash_bucket *head = &hinfo->ehash[i];
		struct hlist_nulls_node *node;
		struct sock *sk, *found = NULL;

		if (hlist_nulls_empty(&head->chain))
			continue;
		spin_lock_bh(inet_ehash_lockp(hinfo, i));
		sk_nulls_for_each(sk, node, &head->chain) {
			/* the state first: a timewait sock is a sock_common */
			if (ckpt_tcp_kept(sk) && net_eq(sock_net(sk), net) &&
			    inet_sk(sk)->inet_num == port &&
			    refcount_inc_not_zero(&sk->sk_refcnt)) {
				found = sk;
				break;
			}
		}
		spin_unlock_bh(inet_ehash_lockp(hinfo, i));
		if (found)
			return found;
		cond_resched();
	}
	return NULL;
}

/*
 * restart: @sk's bind to @addr said EADDRINUSE.  End the holds of the
 * connections kept on its port after their close (those of a listener that
 * restart makes again, when the program set no SO_REUSEADDR); true if any
 * ended, and the bind is worth trying again.
 */
bool restore_tcp_end_held_port(struct ckpt_ctx *ctx, struct sock *sk,
			       const struct sockaddr *addr)
{
	struct net *net = sock_net(sk);
	struct sock *old;
	int n = 0;
	u16 port;

	if (addr->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	else if (addr->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	else
		return false;
	if (!port || sk->sk_protocol != IPPROTO_TCP ||
	    !ns_capable(net->user_ns, CAP_NET_ADMIN))
		return false;
	/* each ends or is gone from the hash: bounded all the same */
	while (n < 65536 && (old = ckpt_tcp_kept_on_port(net, port))) {
		ckpt_tcp_end_held(old);
		sock_put(old);
		n++;
	}
	if (n)
		ckpt_msg(ctx, "port %u: ends the hold of %d TCP connections kept after their close",
			 port, n);
	return n > 0;
}
