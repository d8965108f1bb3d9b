/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart of sockets: state shared by socket.c (the table of
 * the image's sockets, their common options, records and phases) and the
 * families (unix.c).
 */
#ifndef _CHECKPOINT_SOCKET_H
#define _CHECKPOINT_SOCKET_H

#include <linux/checkpoint_ctx.h>
#include <linux/socket.h>
#include <linux/types.h>

struct file;
struct sk_filter;
struct sock;
struct sock_filter;
struct sock_fprog_kern;
struct socket;

/* the name of the filter that CHECKPOINT_TCP_HOLD attaches */
#define CKPT_TCP_HOLD_NAME "ckpt_tcp_hold"

/* restart: a message to put back into a receive queue */
#define CKPT_SOCK_TOTAL_MAX	(64U << 20)	/* bytes of all the queues */
#define CKPT_SOCKS_TREE_MAX	1024U		/* sockets of a tree of tasks */

struct ckpt_sk_msg {
	struct ckpt_hdr_socket_msg h;
	struct ckpt_hdr *data;		/* its BUFFER: @h.len bytes after it */
	struct ckpt_hdr *fds;		/* BUFFER of @h.nfds fds, or NULL */
	struct ckpt_hdr_socket_dgram dgram;	/* with CKPT_MSG_DGRAM */
};

/* one socket of the image, by sk_id */
struct ckpt_sk {
	struct sock *sk;		/* checkpoint: the socket (held) */
	int fd;				/* checkpoint: its first descriptor */
	struct ckpt_hdr_socket h;	/* restart: its record */
	struct socket *sock;		/* restart: created, not yet a file */
	struct file *file;		/* restart: its file (a reference) */
	struct socket *tmp;		/* restart: stand-in for a closed peer */
	u32 creator;			/* restart: sk_id that made it (pair) */
	bool connected;			/* restart: a PENDING one, connected */
	bool tcp_repair;		/* restart: in TCP repair mode */
	bool held;			/* checkpoint: CHECKPOINT_TCP_HOLD held it */
	struct ckpt_sk_msg *msgs;	/* restart: its receive queue */
	u32 nmsgs;
	char *bound;			/* restart: the path it was bound to */
	char *peer;			/* restart: the path to reconnect to */
	int sndbuf0, rcvbuf0;		/* restart: the defaults at creation */
	u32 backlog0;			/* (a listener's: its backlog) */
	struct ckpt_hdr *filter;	/* restart: its filter's BUFFER, or NULL */
	u16 filter_len, filter_flags;	/* restart: SOCKET_FILTER */
	struct sock **conns;		/* restart: its accept queue (held) */
	u32 nconns;
};

struct ckpt_socks {
	struct ckpt_sk *sk;		/* [1 .. max] */
	u32 n;				/* sockets seen so far */
	u32 max;
	u64 bytes;			/* restart: bytes of all the queues */
	struct ckpt_fd *fds;		/* checkpoint: the table, @nfds */
	int nfds;
	bool committed;			/* restart: bound paths stay */
};

/* the socket of sk_id @id, or NULL */
struct ckpt_sk *ckpt_sk_get(struct ckpt_ctx *ctx, u32 id);
/* checkpoint: the sk_id of @sk if the task holds it, else 0 */
u32 ckpt_sk_id(struct ckpt_ctx *ctx, struct sock *sk);
/* BUFFER records */
int ckpt_sk_write_buffer(struct ckpt_ctx *ctx, const void *data, u32 len);
struct ckpt_hdr *restore_sk_read_buffer(struct ckpt_ctx *ctx, u32 len);
/* descriptors in flight: the table's fd of a file, and back */
int ckpt_sk_fd_of(struct ckpt_ctx *ctx, struct file *file);
struct file *restore_sk_file_of(struct ckpt_ctx *ctx, int fd);

/* classic socket filters, with the program they were attached with */
struct sk_filter *ckpt_sk_filter_new(const struct sock_filter *insns, u16 len,
				     const struct sock_fprog_kern *orig,
				     const char *name);
void ckpt_sk_filter_free(struct sk_filter *fp);
int ckpt_sk_filter_swap(struct sock *sk, struct sk_filter *fp);
bool ckpt_sk_filter_same(struct sock *a, struct sock *b);

/* AF_NETLINK (netlink.c) */
int ckpt_netlink_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int checkpoint_netlink(struct ckpt_ctx *ctx, struct sock *sk, int fd,
		       struct ckpt_hdr_socket *h);
int checkpoint_netlink_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd);
void checkpoint_netlink_flags(struct sock *sk, struct ckpt_hdr_socket *h);
int restore_netlink_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h);
int restore_netlink(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		    struct socket **psock);

/* AF_PACKET (packet.c), when built in */
static inline bool ckpt_family_packet(int family)
{
	return IS_BUILTIN(CONFIG_PACKET) && family == AF_PACKET;
}

int ckpt_packet_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int checkpoint_packet(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int checkpoint_packet_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int restore_packet_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h);
int restore_packet(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		   struct socket **psock);

/* AF_UNIX (unix.c) */
int ckpt_unix_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int checkpoint_unix(struct ckpt_ctx *ctx, struct sock *sk, int fd,
		    struct ckpt_hdr_socket *h, char **paths);
int checkpoint_unix_queue(struct ckpt_ctx *ctx, struct sock *sk, int fd,
			  struct ckpt_hdr_socket *h);
int restore_unix_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h);
int restore_unix(struct ckpt_ctx *ctx, struct ckpt_sk *e, const char *bind,
		 struct socket **psock);
int restore_unix_refill(struct ckpt_ctx *ctx, struct ckpt_sk *e);
int restore_unix_connect(struct ckpt_ctx *ctx, struct ckpt_sk *e);
void restore_unix_finish(struct ckpt_ctx *ctx, struct ckpt_sk *e);
void restore_unix_shutdown(struct ckpt_sk *e);
void restore_unix_rollback(struct ckpt_sk *e);

/* AF_INET and AF_INET6 (inet.c) */
static inline bool ckpt_family_inet(int family)
{
	return family == AF_INET || (IS_ENABLED(CONFIG_IPV6) && family == AF_INET6);
}

int ckpt_inet_classify(struct ckpt_ctx *ctx, struct sock *sk, int fd);
int checkpoint_inet(struct ckpt_ctx *ctx, struct socket *sock, int fd,
		    struct ckpt_hdr_socket *h);
int restore_inet_check(struct ckpt_ctx *ctx, struct ckpt_hdr_socket *h);
int restore_inet(struct ckpt_ctx *ctx, struct ckpt_sk *e,
		 struct socket **psock);
void restore_inet_shutdown(struct ckpt_sk *e);
int checkpoint_inet_opts(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			 struct ckpt_hdr_socket *h);
int checkpoint_inet_tcp(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			struct ckpt_hdr_socket *h);
void restore_inet_commit(struct ckpt_sk *e);
void checkpoint_inet_unhold(struct ckpt_sk *e);
int checkpoint_inet_release(struct ckpt_ctx *ctx, struct file *file, int fd);
int checkpoint_inet_queue(struct ckpt_ctx *ctx, struct socket *sock, int fd,
			  struct ckpt_hdr_socket *h);
int restore_inet_refill(struct ckpt_ctx *ctx, struct ckpt_sk *e);
bool ckpt_tcp_connected(int state);
bool ckpt_tcp_is_held(struct sock *sk);

/* held connections after their close (tcphold.c) */
void restore_tcp_take_held(struct ckpt_ctx *ctx, struct sock *sk,
			   const struct sockaddr *peer);
bool restore_tcp_end_held_port(struct ckpt_ctx *ctx, struct sock *sk,
			       const struct sockaddr *addr);
int restore_inet_dgram_read(struct ckpt_ctx *ctx, struct ckpt_sk *e,
			    struct ckpt_sk_msg *m);

#endif /* _CHECKPOINT_SOCKET_H */
