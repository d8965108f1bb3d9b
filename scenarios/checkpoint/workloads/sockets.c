/*
 * sockets: UNIX sockets of one process that checkpoint/restart must carry
 * exactly (issue 11), judged by the workload itself.
 *
 *   sockets hold DIR RES     build every state below (paths in DIR, an
 *                            absolute directory it chdirs to), write
 *                            DIR/ready, pause until SIGUSR1 (the lab
 *                            freezes, checkpoints, kills and restarts it
 *                            meanwhile), then check everything and write
 *                            PASS or "FAIL: what" to RES.
 *   sockets dgram-hold DIR PEER RES
 *                            a datagram socket connected to PEER, a
 *                            socket of another process (dgram-echo); on
 *                            SIGUSR1 it sends "ping" and expects the echo.
 *   sockets dgram-echo PATH  bind a datagram socket to PATH, echo every
 *                            datagram back to its sender (forever).
 *   sockets stream-serve PATH  listen on PATH, accept, hold (forever).
 *   sockets refuse KIND ARG IMG LOG  build a state checkpoint must refuse
 *                            (outside PATH, inflight, backlog PATH, linger, inet (a
 *                            raw socket), tcp-est (a TCP connection waiting
 *                            to be accepted), tcp-out PORT (a connection to
 *                            another process: saved, "succeeded"), tcp-hold
 *                            PORT (the same with CHECKPOINT_TCP_HOLD),
 *                            udp-queue (a datagram
 *                            from a socket that is gone, the socket
 *                            connected to another one since)),
 *                            self checkpoint into IMG with logfd LOG, print
 *                            "checkpoint: errno NAME" and the log.
 *   sockets inet-hold DIR RES  IPv4 sockets without connection state (see
 *                            inet_hold()), checked after SIGUSR1 as hold.
 *   sockets inet-bind udp|tcp PORT  hold that port (a port taken).
 *   sockets port80 IMG LOG   bind TCP port 80, self checkpoint.
 *   sockets tcp-self IMG LOG  a loopback TCP connection, self checkpoint;
 *                            restarted, it is used both ways.
 *   sockets restart IMG LOG  restart IMG, this program as the caller.
 *
 * The states of "hold": socketpairs (stream, dgram, seqpacket) with data
 * queued both ways (message boundaries, a 0-byte datagram, 200 KB of
 * stream data), shutdown(SHUT_WR) on a seqpacket pair, a stream pair
 * whose peer was closed after writing, SO_PEEK_OFF after a peek,
 * SO_PASSCRED (credentials are the restarted task's), SO_SNDBUF,
 * SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_RCVLOWAT, SO_PRIORITY,
 * O_NONBLOCK; unbound sockets; a listener bound to an absolute path
 * (backlog 7, empty), a datagram socket bound to a relative path with a
 * datagram from an unnamed sender, one bound to an abstract name with
 * datagrams from a named socket and from an autobound one, a dgram socket
 * connected one way to it; an accepted connection (its name is the
 * listener's) with data both ways; a listener (backlog 2) with two
 * connections waiting, the first with data sent, the second from a named
 * client: accepted after restart in their order; descriptors in flight
 * (SCM_RIGHTS: a file and a pipe end, also held by descriptors) received
 * after restart as the same open files.  After restart every queue is read
 * back byte for byte, then every connection is used both ways again.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/checkpoint.h>

static volatile sig_atomic_t go;
static char failure[512];

#define CHECK(cond, ...) do { \
	if (!(cond) && !failure[0]) \
		snprintf(failure, sizeof(failure), __VA_ARGS__); \
} while (0)

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	printf("sockets: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pattern(unsigned char *buf, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static socklen_t sun_of(struct sockaddr_un *sun, const char *path, int abstract)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun->sun_path + 1, path, strlen(path));
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
	}
	strcpy(sun->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static int sock(int type)
{
	int s = socket(AF_UNIX, type, 0);

	if (s < 0)
		die("socket");
	return s;
}

static void pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type, 0, sv))
		die("socketpair");
}

static void send_all(int s, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(s, p, n, MSG_DONTWAIT);

		if (w < 0)
			die("send");
		p += w;
		n -= w;
	}
}

static void bind_to(int s, const char *path, int abstract)
{
	struct sockaddr_un sun;
	socklen_t len = sun_of(&sun, path, abstract);

	if (!abstract)
		unlink(path);
	if (bind(s, (struct sockaddr *)&sun, len))
		die("bind");
}

/* a socket of @type bound to @path (abstract name if @abstract), listening */
static int listener(int type, const char *path, int abstract, int backlog)
{
	int s = sock(type);

	bind_to(s, path, abstract);
	if (listen(s, backlog))
		die("listen");
	return s;
}

static void connect_to(int s, const char *path, int abstract)
{
	struct sockaddr_un sun;
	socklen_t len = sun_of(&sun, path, abstract);

	if (connect(s, (struct sockaddr *)&sun, len))
		die("connect");
}

/* read exactly n bytes (stream) and compare them with the pattern */
static void expect_stream(const char *what, int s, size_t n, unsigned int seed)
{
	unsigned char *want = malloc(n), *got = malloc(n);
	size_t have = 0;

	pattern(want, n, seed);
	while (have < n) {
		ssize_t r = recv(s, got + have, n - have, MSG_DONTWAIT);

		if (r <= 0) {
			CHECK(0, "%s: %zu of %zu bytes, then %zd (%s)", what, have, n, r,
			      r < 0 ? strerror(errno) : "EOF");
			break;
		}
		have += r;
	}
	CHECK(have < n || !memcmp(want, got, n), "%s: data differs", what);
	free(want);
	free(got);
}

/* one datagram of exactly n bytes with the pattern; from: its sender's name */
static void expect_msg(const char *what, int s, size_t n, unsigned int seed, const char *from,
		       int from_abstract)
{
	unsigned char *want = malloc(n + 1), *got = malloc(n + 64);
	struct sockaddr_un sun, exp;
	socklen_t slen = sizeof(sun), elen = 0;
	ssize_t r;

	pattern(want, n, seed);
	memset(&sun, 0, sizeof(sun));
	r = recvfrom(s, got, n + 64, MSG_DONTWAIT, (struct sockaddr *)&sun, &slen);
	CHECK(r == (ssize_t)n, "%s: datagram of %zd bytes, expected %zu (%s)", what, r, n,
	      r < 0 ? strerror(errno) : "");
	if (r == (ssize_t)n)
		CHECK(!memcmp(want, got, n), "%s: datagram data differs", what);
	if (from)
		elen = sun_of(&exp, from, from_abstract);
	if (from && !*from) {
		/* an autobound sender: an abstract name of 5 hex digits */
		CHECK(slen == offsetof(struct sockaddr_un, sun_path) + 6 && !sun.sun_path[0],
		      "%s: sender name of %u bytes, expected an autobound one", what, slen);
	} else if (from) {
		CHECK(slen == elen && !memcmp(&sun, &exp, elen), "%s: sender name differs (%u bytes)",
		      what, slen);
	} else {
		CHECK(slen == 0, "%s: sender name of %u bytes, expected none", what, slen);
	}
	free(want);
	free(got);
}

static void expect_nothing(const char *what, int s)
{
	char c;
	ssize_t r = recv(s, &c, 1, MSG_DONTWAIT);

	CHECK(r < 0 && errno == EAGAIN, "%s: more data (%zd)", what, r);
}

static void expect_eof(const char *what, int s)
{
	char c;
	ssize_t r = recv(s, &c, 1, MSG_DONTWAIT);

	CHECK(r == 0, "%s: expected end of file, got %zd (%s)", what, r,
	      r < 0 ? strerror(errno) : "data");
}

static int getopt_int(int s, int level, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(s, level, opt, &v, &len))
		return -12345;
	return v;
}

static long getopt_timeo(int s, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(s, SOL_SOCKET, opt, &tv, &len))
		return -1;
	return tv.tv_sec * 1000000L + tv.tv_usec;
}

static void name_of(int s, struct sockaddr_un *sun, socklen_t *len, int peer)
{
	*len = sizeof(*sun);
	memset(sun, 0, sizeof(*sun));
	if ((peer ? getpeername : getsockname)(s, (struct sockaddr *)sun, len))
		*len = 0;
}

/* a byte each way over a connected pair */
static void ping_pong(const char *what, int a, int b)
{
	char c = 0;

	CHECK(send(a, "x", 1, MSG_DONTWAIT) == 1, "%s: send a->b: %s", what, strerror(errno));
	CHECK(recv(b, &c, 1, MSG_DONTWAIT) == 1 && c == 'x', "%s: recv b", what);
	CHECK(send(b, "y", 1, MSG_DONTWAIT) == 1, "%s: send b->a: %s", what, strerror(errno));
	CHECK(recv(a, &c, 1, MSG_DONTWAIT) == 1 && c == 'y', "%s: recv a", what);
}

/* send one byte with @n descriptors (SCM_RIGHTS) */
static void send_fds(int s, const int *fds, int n)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	if (sendmsg(s, &mh, 0) != 1)
		die("sendmsg SCM_RIGHTS");
}

/* receive one byte and up to 4 descriptors; returns how many */
static int recv_fds(int s, int *fds)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	char c1;
	struct iovec iov = { .iov_base = &c1, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;

	if (recvmsg(s, &mh, MSG_DONTWAIT) != 1 || c1 != 'F')
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return 0;
	memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
	return (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

static void write_result(const char *res)
{
	FILE *f = fopen(res, "w");

	if (!f)
		die(res);
	if (failure[0])
		fprintf(f, "FAIL: %s\n", failure);
	else
		fprintf(f, "PASS\n");
	fclose(f);
}

static void wait_usr1(const char *dir)
{
	char ready[4096];
	sigset_t none;
	int fd;

	snprintf(ready, sizeof(ready), "%s/ready", dir);
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(ready);
	dprintf(fd, "ready %d\n", getpid());
	close(fd);
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

#define BIG	(200 * 1024)

static int hold(const char *dir, const char *res)
{
	int st[2], dg[2], sq[2], cl[2], lst, lst2, cli, acc, rel, abs_, conn, anon, autob;
	int ub_stream, ub_dgram, sndbuf, rcvbuf, peek, prio, lowat, passcred, nonblock;
	int lst3, w1, w2, sc[2], ff, pp[2], got[4];
	char alisten[64], aclient[64];
	long rcvtimeo, sndtimeo;
	struct sockaddr_un n_lst, n_acc, n_rel, n_abs, n_autob, p_conn, x;
	socklen_t l_lst, l_acc, l_rel, l_abs, l_autob, lp_conn, lx;
	struct timeval tv;
	char abstract[64], buf[64], lpath[4096], lpath2[4096];
	unsigned char *big = malloc(BIG);
	struct msghdr mh;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cm;
	struct cmsghdr *c;
	int one = 1;

	if (chdir(dir))
		die(dir);
	signal(SIGUSR1, on_usr1);
	snprintf(abstract, sizeof(abstract), "crsock-%d", getpid());
	snprintf(alisten, sizeof(alisten), "crlisten-%d", getpid());
	snprintf(aclient, sizeof(aclient), "crclient-%d", getpid());
	snprintf(lpath, sizeof(lpath), "%s/listen.sock", dir);
	snprintf(lpath2, sizeof(lpath2), "%s/accept.sock", dir);

	/* stream pair: 200 KB one way (a peek of 5 bytes first), 4 bytes back */
	pair(SOCK_STREAM, st);
	sndbuf = 300000;
	rcvbuf = 70000;
	if (setsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    setsockopt(st[0], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		die("SO_SNDBUF");
	/* credentials go with the data sent while the receiver has SO_PASSCRED */
	if (setsockopt(st[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		die("SO_PASSCRED");
	pattern(big, BIG, 1);
	send_all(st[0], big, BIG);
	pattern(big, 4, 2);
	send_all(st[1], big, 4);
	peek = 0;
	if (setsockopt(st[1], SOL_SOCKET, SO_PEEK_OFF, &peek, sizeof(peek)) ||
	    recv(st[1], buf, 5, MSG_PEEK) != 5)
		die("peek");
	lowat = 3;
	if (setsockopt(st[0], SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)))
		die("SO_RCVLOWAT");

	/* dgram pair: 3 messages (one of 0 bytes) one way, 2 back */
	pair(SOCK_DGRAM, dg);
	pattern(big, 3000, 3);
	send_all(dg[0], big, 1);
	if (send(dg[0], big, 0, 0) != 0)
		die("send 0");
	send_all(dg[0], big, 3000);
	pattern(big, 100, 4);
	send_all(dg[1], big, 100);
	send_all(dg[1], big, 7);
	tv.tv_sec = 1;
	tv.tv_usec = 500000;
	if (setsockopt(dg[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO");
	tv.tv_sec = 2;
	tv.tv_usec = 250000;
	if (setsockopt(dg[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("SO_SNDTIMEO");
	prio = 3;
	if (setsockopt(dg[1], SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) ||
	    setsockopt(dg[1], SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(dg[1], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_PRIORITY");
	if (fcntl(dg[1], F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK");

	/* seqpacket pair: 2 records one way then shutdown(SHUT_WR) */
	pair(SOCK_SEQPACKET, sq);
	pattern(big, 500, 5);
	send_all(sq[0], big, 500);
	send_all(sq[0], big, 20);
	if (shutdown(sq[0], SHUT_WR))
		die("shutdown");

	/* a stream pair whose peer wrote and closed */
	pair(SOCK_STREAM, cl);
	pattern(big, 1000, 6);
	send_all(cl[1], big, 1000);
	close(cl[1]);

	/* unbound sockets */
	ub_stream = sock(SOCK_STREAM);
	ub_dgram = sock(SOCK_DGRAM);

	/* a listener on an absolute path, backlog 7, nothing waiting */
	lst = listener(SOCK_STREAM, lpath, 0, 7);

	/* an accepted connection: its name is its listener's */
	lst2 = listener(SOCK_SEQPACKET, lpath2, 0, 3);
	cli = sock(SOCK_SEQPACKET);
	connect_to(cli, lpath2, 0);
	acc = accept(lst2, NULL, NULL);
	if (acc < 0)
		die("accept");
	pattern(big, 64, 7);
	send_all(cli, big, 64);
	pattern(big, 65, 8);
	send_all(acc, big, 65);

	/* dgram on a relative path: a datagram from an unnamed sender */
	rel = sock(SOCK_DGRAM);
	bind_to(rel, "rel.sock", 0);
	anon = sock(SOCK_DGRAM);
	{
		struct sockaddr_un sun;
		socklen_t len = sun_of(&sun, "rel.sock", 0);

		pattern(big, 33, 9);
		if (sendto(anon, big, 33, 0, (struct sockaddr *)&sun, len) != 33)
			die("sendto rel");
		close(anon);
	}

	/* dgram on an abstract name: from rel (named) and from an autobound one */
	abs_ = sock(SOCK_DGRAM);
	bind_to(abs_, abstract, 1);
	autob = sock(SOCK_DGRAM);
	if (setsockopt(autob, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		die("SO_PASSCRED");
	{
		struct sockaddr_un sun;
		socklen_t len = sun_of(&sun, abstract, 1);

		pattern(big, 44, 10);
		if (sendto(rel, big, 44, 0, (struct sockaddr *)&sun, len) != 44)
			die("sendto abs");
		pattern(big, 55, 11);
		if (sendto(autob, big, 55, 0, (struct sockaddr *)&sun, len) != 55)
			die("sendto abs");
	}
	/* connected one way to it */
	conn = sock(SOCK_DGRAM);
	connect_to(conn, abstract, 1);

	/* a listener with two connections waiting: the first sent 10 bytes */
	lst3 = listener(SOCK_STREAM, alisten, 1, 2);
	w1 = sock(SOCK_STREAM);
	connect_to(w1, alisten, 1);
	pattern(big, 10, 12);
	send_all(w1, big, 10);
	w2 = sock(SOCK_STREAM);
	bind_to(w2, aclient, 1);
	connect_to(w2, alisten, 1);

	/* descriptors in flight: a file at offset 3 and a pipe's write end, both held too */
	pair(SOCK_DGRAM, sc);
	ff = open("inflight.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (ff < 0 || write(ff, "0123456789", 10) != 10 || lseek(ff, 3, SEEK_SET) != 3 || pipe(pp))
		die("inflight");
	got[0] = ff;
	got[1] = pp[1];
	send_fds(sc[0], got, 2);

	name_of(lst, &n_lst, &l_lst, 0);
	name_of(acc, &n_acc, &l_acc, 0);
	name_of(rel, &n_rel, &l_rel, 0);
	name_of(abs_, &n_abs, &l_abs, 0);
	name_of(autob, &n_autob, &l_autob, 0);
	name_of(conn, &p_conn, &lp_conn, 1);
	sndbuf = getopt_int(st[0], SOL_SOCKET, SO_SNDBUF);
	rcvbuf = getopt_int(st[0], SOL_SOCKET, SO_RCVBUF);
	rcvtimeo = getopt_timeo(dg[0], SO_RCVTIMEO);
	sndtimeo = getopt_timeo(dg[0], SO_SNDTIMEO);
	passcred = getopt_int(st[1], SOL_SOCKET, SO_PASSCRED);
	nonblock = fcntl(dg[1], F_GETFL) & O_NONBLOCK;
	printf("sockets: set up (sndbuf %d rcvbuf %d rcvtimeo %ld sndtimeo %ld)\n", sndbuf, rcvbuf,
	       rcvtimeo, sndtimeo);
	fflush(stdout);

	wait_usr1(dir);

	/* options and names */
	CHECK(getopt_int(st[0], SOL_SOCKET, SO_SNDBUF) == sndbuf, "SO_SNDBUF %d, was %d",
	      getopt_int(st[0], SOL_SOCKET, SO_SNDBUF), sndbuf);
	CHECK(getopt_int(st[0], SOL_SOCKET, SO_RCVBUF) == rcvbuf, "SO_RCVBUF %d, was %d",
	      getopt_int(st[0], SOL_SOCKET, SO_RCVBUF), rcvbuf);
	CHECK(getopt_timeo(dg[0], SO_RCVTIMEO) == rcvtimeo, "SO_RCVTIMEO %ld, was %ld",
	      getopt_timeo(dg[0], SO_RCVTIMEO), rcvtimeo);
	CHECK(getopt_timeo(dg[0], SO_SNDTIMEO) == sndtimeo, "SO_SNDTIMEO %ld", sndtimeo);
	CHECK(getopt_int(st[1], SOL_SOCKET, SO_PASSCRED) == passcred && passcred == 1,
	      "SO_PASSCRED");
	CHECK(getopt_int(st[1], SOL_SOCKET, SO_PEEK_OFF) == 5, "SO_PEEK_OFF %d, expected 5",
	      getopt_int(st[1], SOL_SOCKET, SO_PEEK_OFF));
	CHECK(getopt_int(st[0], SOL_SOCKET, SO_RCVLOWAT) == 3, "SO_RCVLOWAT");
	CHECK(getopt_int(dg[1], SOL_SOCKET, SO_PRIORITY) == 3, "SO_PRIORITY");
	CHECK(getopt_int(dg[1], SOL_SOCKET, SO_KEEPALIVE) == 1 &&
	      getopt_int(dg[1], SOL_SOCKET, SO_REUSEADDR) == 1 &&
	      getopt_int(dg[0], SOL_SOCKET, SO_KEEPALIVE) == 0, "SO_KEEPALIVE/SO_REUSEADDR");
	CHECK((fcntl(dg[1], F_GETFL) & O_NONBLOCK) == nonblock && nonblock, "O_NONBLOCK");
	CHECK(!(fcntl(dg[0], F_GETFL) & O_NONBLOCK), "O_NONBLOCK on dg[0]");
	CHECK(getopt_int(lst, SOL_SOCKET, SO_ACCEPTCONN) == 1, "listener not listening");
	CHECK(getopt_int(st[0], SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
	      getopt_int(dg[0], SOL_SOCKET, SO_TYPE) == SOCK_DGRAM &&
	      getopt_int(sq[0], SOL_SOCKET, SO_TYPE) == SOCK_SEQPACKET, "SO_TYPE");
	name_of(lst, &x, &lx, 0);
	CHECK(lx == l_lst && !memcmp(&x, &n_lst, lx), "listener name");
	name_of(acc, &x, &lx, 0);
	CHECK(lx == l_acc && !memcmp(&x, &n_acc, lx), "accepted socket's name (%u bytes)", lx);
	name_of(rel, &x, &lx, 0);
	CHECK(lx == l_rel && !memcmp(&x, &n_rel, lx), "relative name (%u bytes: %s)", lx,
	      x.sun_path);
	name_of(abs_, &x, &lx, 0);
	CHECK(lx == l_abs && !memcmp(&x, &n_abs, lx), "abstract name");
	name_of(autob, &x, &lx, 0);
	CHECK(lx == l_autob && !memcmp(&x, &n_autob, lx), "autobound name");
	name_of(conn, &x, &lx, 1);
	CHECK(lx == lp_conn && !memcmp(&x, &p_conn, lx), "peer name of the connected dgram");
	name_of(ub_stream, &x, &lx, 0);
	CHECK(lx == offsetof(struct sockaddr_un, sun_path), "unbound stream has a name");
	name_of(ub_dgram, &x, &lx, 0);
	CHECK(lx == offsetof(struct sockaddr_un, sun_path), "unbound dgram has a name");

	/* the queues, byte for byte */
	CHECK(recv(st[1], buf, 3, MSG_PEEK) == 3, "peek after restart");
	pattern(big, BIG, 1);
	CHECK(!memcmp(buf, big + 5, 3), "peek offset not kept");
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = 10;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	CHECK(recvmsg(st[1], &mh, MSG_DONTWAIT) == 10 && !memcmp(buf, big, 10), "stream start");
	c = CMSG_FIRSTHDR(&mh);
	CHECK(c && c->cmsg_type == SCM_CREDENTIALS, "no SCM_CREDENTIALS");
	if (c && c->cmsg_type == SCM_CREDENTIALS) {
		struct ucred uc;

		memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		CHECK(uc.pid == getpid() && uc.uid == getuid(), "credentials pid %d uid %d",
		      uc.pid, uc.uid);
	}
	{
		unsigned char *rest = malloc(BIG), *got = malloc(BIG);
		size_t have = 0;

		pattern(rest, BIG, 1);
		while (have < BIG - 10) {
			ssize_t r = recv(st[1], got + have, BIG - 10 - have, MSG_DONTWAIT);

			if (r <= 0)
				break;
			have += r;
		}
		CHECK(have == BIG - 10 && !memcmp(got, rest + 10, have), "stream: %zu bytes", have);
		free(rest);
		free(got);
	}
	expect_nothing("stream st[1]", st[1]);
	expect_stream("stream back", st[0], 4, 2);
	expect_nothing("stream st[0]", st[0]);
	expect_msg("dgram 1", dg[1], 1, 3, NULL, 0);
	expect_msg("dgram 0 bytes", dg[1], 0, 3, NULL, 0);
	expect_msg("dgram 3000", dg[1], 3000, 3, NULL, 0);
	expect_nothing("dgram dg[1]", dg[1]);
	expect_msg("dgram back 100", dg[0], 100, 4, NULL, 0);
	expect_msg("dgram back 7", dg[0], 7, 4, NULL, 0);
	expect_msg("seqpacket 500", sq[1], 500, 5, NULL, 0);
	expect_msg("seqpacket 20", sq[1], 20, 5, NULL, 0);
	expect_eof("seqpacket after shutdown", sq[1]);
	CHECK(send(sq[0], "z", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EPIPE,
	      "send after SHUT_WR did not fail with EPIPE");
	expect_stream("closed peer's data", cl[0], 1000, 6);
	expect_eof("closed peer", cl[0]);
	CHECK(send(cl[0], "z", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EPIPE,
	      "send to a closed peer did not fail with EPIPE");
	expect_msg("accepted <- client", acc, 64, 7, NULL, 0);
	expect_msg("client <- accepted", cli, 65, 8, lpath2, 0);
	expect_msg("relative <- unnamed", rel, 33, 9, NULL, 0);
	expect_msg("abstract <- relative", abs_, 44, 10, "rel.sock", 0);
	expect_msg("abstract <- autobound", abs_, 55, 11, "", 0);
	expect_nothing("abstract", abs_);

	/* and every connection works both ways again */
	ping_pong("stream pair", st[0], st[1]);
	ping_pong("dgram pair", dg[0], dg[1]);
	ping_pong("accepted seqpacket", cli, acc);
	{
		int c2 = sock(SOCK_STREAM), a2;

		connect_to(c2, lpath, 0);
		a2 = accept(lst, NULL, NULL);
		CHECK(a2 >= 0, "accept on the restored listener: %s", strerror(errno));
		if (a2 >= 0)
			ping_pong("new connection to the restored listener", c2, a2);
	}
	pattern(big, 1, 0);
	CHECK(send(conn, big, 1, MSG_DONTWAIT) == 1, "send on the connected dgram: %s",
	      strerror(errno));
	expect_msg("abstract <- connected", abs_, 1, 0, NULL, 0);

	/* the descriptors in flight are the same open files */
	CHECK(recv_fds(sc[1], got) == 2, "descriptors in flight: not 2 received");
	if (!failure[0]) {
		char c2 = 0;

		CHECK(lseek(got[0], 0, SEEK_CUR) == 3, "file in flight: offset %ld",
		      (long)lseek(got[0], 0, SEEK_CUR));
		lseek(ff, 7, SEEK_SET);
		CHECK(lseek(got[0], 0, SEEK_CUR) == 7, "file in flight is not the held open file");
		CHECK(write(got[1], "p", 1) == 1 && read(pp[0], &c2, 1) == 1 && c2 == 'p',
		      "pipe end in flight does not reach the held read end");
	}

	/* the backlog: both connections, in order, the first with its data */
	{
		struct sockaddr_un want, got;
		socklen_t wl = sun_of(&want, alisten, 1), gl = sizeof(got);
		int a1, a2;

		CHECK(getpeername(w1, (struct sockaddr *)&got, &gl) == 0 && gl == wl &&
		      !memcmp(&got, &want, wl), "waiting client's peer name");
		CHECK(getopt_int(lst3, SOL_SOCKET, SO_ACCEPTCONN) == 1, "backlog listener");
		fcntl(lst3, F_SETFL, O_NONBLOCK);
		gl = sizeof(got);
		a1 = accept(lst3, (struct sockaddr *)&got, &gl);
		CHECK(a1 >= 0, "no first connection in the backlog: %s", strerror(errno));
		CHECK(a1 < 0 || gl == offsetof(struct sockaddr_un, sun_path),
		      "first waiting client has a name (%u bytes)", gl);
		gl = sizeof(got);
		a2 = accept(lst3, (struct sockaddr *)&got, &gl);
		CHECK(a2 >= 0, "no second connection in the backlog: %s", strerror(errno));
		wl = sun_of(&want, aclient, 1);
		CHECK(a2 < 0 || (gl == wl && !memcmp(&got, &want, wl)),
		      "second waiting client's name (%u bytes)", gl);
		CHECK(accept(lst3, NULL, NULL) < 0 && errno == EAGAIN, "a third connection");
		if (a1 >= 0) {
			expect_stream("backlog: what the first client sent", a1, 10, 12);
			ping_pong("backlog connection 1", w1, a1);
		}
		if (a2 >= 0)
			ping_pong("backlog connection 2", w2, a2);
	}
	write_result(res);
	return 0;
}

static int inet_sock(int type, const char *ip, int port, int reuse)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, type, 0), one = 1;

	if (s < 0)
		die("socket");
	if ((reuse & 1) && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if ((reuse & 2) && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		die("SO_REUSEPORT");
	if (ip && (inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
		   bind(s, (struct sockaddr *)&sin, sizeof(sin))))
		die("bind");
	return s;
}

/* up to @n bytes from stream @s within 5 s: how many came */
static size_t recv_within(int s, unsigned char *buf, size_t n)
{
	size_t have = 0;
	ssize_t r;

	fcntl(s, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 500 && have < n; i++) {
		r = recv(s, buf + have, n - have, 0);
		if (r > 0)
			have += r;
		else if (r == 0)
			break;
		else
			usleep(10000);
	}
	fcntl(s, F_SETFL, 0);
	return have;
}

static int same_name(int s, const struct sockaddr_in *want, int peer)
{
	struct sockaddr_in got;
	socklen_t len = sizeof(got);

	memset(&got, 0, sizeof(got));
	if ((peer ? getpeername : getsockname)(s, (struct sockaddr *)&got, &len))
		return 0;
	return len == sizeof(got) && !memcmp(&got, want, sizeof(got));
}

static void inet_name(int s, struct sockaddr_in *sin, int peer)
{
	socklen_t len = sizeof(*sin);

	memset(sin, 0, sizeof(*sin));
	if ((peer ? getpeername : getsockname)(s, (struct sockaddr *)sin, &len))
		die("getsockname");
}

/* set @n int options (level, name, value triples) on @s */
static void set_opts(int s, const int *o, int n)
{
	for (int i = 0; i < n; i++)
		if (setsockopt(s, o[3 * i], o[3 * i + 1], &o[3 * i + 2], sizeof(int)))
			die("setsockopt");
}

/* are the @n options of @o what @s reads back */
static int same_opts(int s, const int *o, int n)
{
	for (int i = 0; i < n; i++)
		if (getopt_int(s, o[3 * i], o[3 * i + 1]) != o[3 * i + 2]) {
			printf("sockets: option %d/%d reads %d, not %d\n", o[3 * i], o[3 * i + 1],
			       getopt_int(s, o[3 * i], o[3 * i + 1]), o[3 * i + 2]);
			return 0;
		}
	return 1;
}

static int linger_of(int s)
{
	struct linger l = { -1, -1 };
	socklen_t len = sizeof(l);

	if (getsockopt(s, SOL_SOCKET, SO_LINGER, &l, &len))
		return -2;
	return l.l_onoff ? l.l_linger : -1;
}

static const int t_unb_opts[] = {
	IPPROTO_TCP, TCP_CORK, 1, IPPROTO_TCP, TCP_MAXSEG, 1000, IPPROTO_TCP, TCP_KEEPIDLE, 77,
	IPPROTO_TCP, TCP_KEEPINTVL, 9, IPPROTO_TCP, TCP_KEEPCNT, 4,
	IPPROTO_TCP, TCP_USER_TIMEOUT, 12345, IPPROTO_IP, IP_TOS, 0x10, IPPROTO_IP, IP_TTL, 33,
};
static const int u_unb_opts[] = { IPPROTO_IP, IP_TTL, 44, IPPROTO_IP, IP_TOS, 0x08 };
static const int e_a_opts[] = {
	IPPROTO_TCP, TCP_KEEPIDLE, 55, IPPROTO_TCP, TCP_USER_TIMEOUT, 4321, IPPROTO_IP, IP_TOS, 0x10,
};

/*
 * IPv4 sockets: TCP unbound, bound (SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE)
 * and two listeners sharing a port (SO_REUSEPORT); an established loopback
 * connection (both ends held) with 100000 bytes queued one way and 3000 the
 * other; UDP bound (SO_BROADCAST) with two datagrams queued (from the
 * connected one and from a third, bound one), connected, unbound.
 */
static int inet_hold(const char *dir, const char *res)
{
	int t_unb, t_bnd, l1, l2, u_bnd, u_con, u_unb, u_b2, one = 1, c, a = -1, e_l, e_c, e_a;
	struct sockaddr_in n_b2;
	unsigned char *big = malloc(BIG);
	struct sockaddr_in n_bnd, n_l1, n_l2, n_ub, n_uc, p_uc, from;
	socklen_t flen = sizeof(from);
	char buf[8];

	if (chdir(dir))
		die(dir);
	signal(SIGUSR1, on_usr1);
	t_unb = inet_sock(SOCK_STREAM, NULL, 0, 0);
	t_bnd = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 1);
	if (setsockopt(t_bnd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(t_bnd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)))
		die("TCP_NODELAY");
	l1 = inet_sock(SOCK_STREAM, "0.0.0.0", 47001, 3);
	l2 = inet_sock(SOCK_STREAM, "0.0.0.0", 47001, 2);
	if (listen(l1, 5) || listen(l2, 3))
		die("listen");
	u_bnd = inet_sock(SOCK_DGRAM, "127.0.0.1", 47002, 0);
	if (setsockopt(u_bnd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)))
		die("SO_BROADCAST");
	u_con = inet_sock(SOCK_DGRAM, NULL, 0, 0);
	inet_name(u_bnd, &n_ub, 0);
	if (connect(u_con, (struct sockaddr *)&n_ub, sizeof(n_ub)))
		die("connect");
	u_unb = inet_sock(SOCK_DGRAM, NULL, 0, 0);
	/* two datagrams queued on u_bnd: from u_con and from u_b2 */
	u_b2 = inet_sock(SOCK_DGRAM, "127.0.0.1", 47004, 0);
	if (send(u_con, "q1", 2, 0) != 2 ||
	    sendto(u_b2, "q22", 3, 0, (struct sockaddr *)&n_ub, sizeof(n_ub)) != 3)
		die("send");
	inet_name(u_b2, &n_b2, 0);
	/* an established loopback connection, data queued both ways (none read) */
	e_l = inet_sock(SOCK_STREAM, "127.0.0.1", 47003, 1);
	if (listen(e_l, 1))
		die("listen");
	e_c = inet_sock(SOCK_STREAM, NULL, 0, 0);
	inet_name(e_l, &from, 0);
	if (connect(e_c, (struct sockaddr *)&from, sizeof(from)))
		die("connect");
	e_a = accept(e_l, NULL, NULL);
	if (e_a < 0)
		die("accept");
	close(e_l);
	{
		struct linger l = { 1, 7 };

		set_opts(t_unb, t_unb_opts, 8);
		set_opts(u_unb, u_unb_opts, 2);
		set_opts(e_a, e_a_opts, 3);
		if (setsockopt(t_unb, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
			die("SO_LINGER");
	}
	pattern(big, BIG, 21);
	send_all(e_c, big, 100000);
	pattern(big, 3000, 22);
	send_all(e_a, big, 3000);
	usleep(200000);	/* delivered and acknowledged on loopback */
	inet_name(t_bnd, &n_bnd, 0);
	inet_name(l1, &n_l1, 0);
	inet_name(l2, &n_l2, 0);
	inet_name(u_con, &n_uc, 0);
	inet_name(u_con, &p_uc, 1);

	wait_usr1(dir);

	CHECK(same_name(t_bnd, &n_bnd, 0), "bound TCP socket's name");
	CHECK(same_name(l1, &n_l1, 0) && same_name(l2, &n_l2, 0), "listeners' names");
	CHECK(same_name(u_bnd, &n_ub, 0), "bound UDP socket's name");
	CHECK(same_name(u_con, &n_uc, 0) && same_name(u_con, &p_uc, 1), "connected UDP names");
	CHECK(getopt_int(t_bnd, SOL_SOCKET, SO_REUSEADDR) == 1, "SO_REUSEADDR");
	CHECK(getopt_int(t_bnd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY");
	CHECK(getopt_int(t_bnd, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE");
	CHECK(getopt_int(t_unb, SOL_SOCKET, SO_KEEPALIVE) == 0, "SO_KEEPALIVE on t_unb");
	CHECK(getopt_int(l1, SOL_SOCKET, SO_REUSEPORT) == 1 &&
	      getopt_int(l2, SOL_SOCKET, SO_REUSEPORT) == 1 &&
	      getopt_int(l2, SOL_SOCKET, SO_REUSEADDR) == 0, "SO_REUSEPORT");
	CHECK(getopt_int(l1, SOL_SOCKET, SO_ACCEPTCONN) == 1 &&
	      getopt_int(l2, SOL_SOCKET, SO_ACCEPTCONN) == 1, "listening");
	CHECK(getopt_int(u_bnd, SOL_SOCKET, SO_BROADCAST) == 1, "SO_BROADCAST");
	CHECK(getopt_int(u_unb, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM, "unbound UDP");
	CHECK(same_opts(t_unb, t_unb_opts, 8), "TCP_CORK, TCP_MAXSEG, keepalive, TCP_USER_TIMEOUT, IP_TOS, IP_TTL");
	CHECK(linger_of(t_unb) == 7 && linger_of(t_bnd) == -1, "SO_LINGER");
	CHECK(same_opts(u_unb, u_unb_opts, 2), "UDP IP_TTL, IP_TOS");
	CHECK(same_opts(e_a, e_a_opts, 3), "the connection's TCP_KEEPIDLE, TCP_USER_TIMEOUT, IP_TOS");
	CHECK(getopt_int(e_a, SOL_SOCKET, SO_PRIORITY) == 6, "SO_PRIORITY of IP_TOS 0x10");
	/* a new connection reaches one of the two listeners */
	c = inet_sock(SOCK_STREAM, NULL, 0, 0);
	n_l1.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(c, (struct sockaddr *)&n_l1, sizeof(n_l1)) == 0,
	      "connect to the restored listeners: %s", strerror(errno));
	fcntl(l1, F_SETFL, O_NONBLOCK);
	fcntl(l2, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 100 && a < 0; i++) {
		a = accept(l1, NULL, NULL);
		if (a < 0)
			a = accept(l2, NULL, NULL);
		if (a < 0)
			usleep(10000);
	}
	CHECK(a >= 0, "no connection on either listener");
	if (a >= 0) {
		CHECK(send(c, "t", 1, 0) == 1 && recv(a, buf, 1, 0) == 1 && buf[0] == 't',
		      "TCP data");
		CHECK(send(a, "r", 1, 0) == 1 && recv(c, buf, 1, 0) == 1 && buf[0] == 'r',
		      "TCP data back");
	}
	/* the established connection: the queued bytes, then both ways again */
	{
		unsigned char *want = malloc(BIG), *got2 = malloc(BIG);
		size_t have;

		pattern(want, BIG, 21);
		have = recv_within(e_a, got2, 100000);
		CHECK(have == 100000 && !memcmp(want, got2, have),
		      "TCP connection: %zu of 100000 queued bytes back", have);
		pattern(want, 3000, 22);
		have = recv_within(e_c, got2, 3000);
		CHECK(have == 3000 && !memcmp(want, got2, have),
		      "TCP connection: %zu of 3000 bytes back the other way", have);
		CHECK(send(e_c, "x", 1, 0) == 1 && recv(e_a, got2, 1, 0) == 1 && got2[0] == 'x',
		      "TCP connection after restart: client -> server");
		CHECK(send(e_a, "y", 1, 0) == 1 && recv(e_c, got2, 1, 0) == 1 && got2[0] == 'y',
		      "TCP connection after restart: server -> client");
		free(want);
		free(got2);
	}
	/* the queued datagrams, in order, with their source addresses */
	flen = sizeof(from);
	CHECK(recvfrom(u_bnd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen) == 2 &&
	      !memcmp(buf, "q1", 2) && !memcmp(&from, &n_uc, sizeof(from)),
	      "first queued UDP datagram or its source");
	flen = sizeof(from);
	CHECK(recvfrom(u_bnd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen) == 3 &&
	      !memcmp(buf, "q22", 3) && !memcmp(&from, &n_b2, sizeof(from)),
	      "second queued UDP datagram or its source");
	CHECK(recv(u_bnd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "a third UDP datagram");
	flen = sizeof(from);
	CHECK(send(u_con, "u", 1, 0) == 1, "UDP send: %s", strerror(errno));
	CHECK(recvfrom(u_bnd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen) == 1 &&
	      flen == sizeof(from) && !memcmp(&from, &n_uc, sizeof(from)),
	      "UDP datagram or its source address");
	write_result(res);
	return 0;
}

/* bind PROTO port PORT of 127.0.0.1 (or 0.0.0.0 for TCP) and hold it */
static __attribute__((noreturn)) int inet_bind(const char *proto, int port)
{
	int s = !strcmp(proto, "udp") ? inet_sock(SOCK_DGRAM, "127.0.0.1", port, 0) :
		inet_sock(SOCK_STREAM, "0.0.0.0", port, 0);

	if (strcmp(proto, "udp") && listen(s, 5))
		die("listen");
	printf("bound\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* a TCP socket on port 80, self checkpointed; restarted: exit 0 */
static int port80(const char *img, const char *log)
{
	int s = inet_sock(SOCK_STREAM, "0.0.0.0", 80, 0);
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long ret;

	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	if (ret == 0) {
		printf("restarted on port 80 (socket %d)\n", s);
		return 0;
	}
	printf("checkpoint returned %ld (%s)\n", ret, ret < 0 ? strerror(errno) : "ok");
	return ret < 0;
}

/* a loopback TCP connection, self checkpointed; restarted: use it both ways */
static int tcp_self(const char *img, const char *log)
{
	int l = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0), c, a;
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct sockaddr_in sin;
	char b = 0;
	long ret;

	inet_name(l, &sin, 0);
	c = inet_sock(SOCK_STREAM, NULL, 0, 0);
	if (listen(l, 1) || connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect");
	a = accept(l, NULL, NULL);
	if (a < 0 || fd < 0 || lfd < 0)
		die("accept");
	close(l);
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	if (ret == 0) {
		ret = send(c, "x", 1, 0) == 1 && recv(a, &b, 1, 0) == 1 && b == 'x' &&
		      send(a, "y", 1, 0) == 1 && recv(c, &b, 1, 0) == 1 && b == 'y';
		printf("restarted: the connection %s\n", ret ? "works both ways" : "FAILED");
		return !ret;
	}
	printf("checkpoint returned %ld (%s)\n", ret, ret < 0 ? strerror(errno) : "ok");
	return ret < 0;
}

/* restart IMG with this program as the caller (an unprivileged restart keeps the exe) */
static int restart_img(const char *img, const char *log)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	long ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, lfd);

	printf("restart returned %ld: %s (errno %d)\n", ret, strerror(errno), errno);
	return 1;
}

/* a datagram socket connected to another process's socket at PEER */
static int dgram_hold(const char *dir, const char *peer, const char *res)
{
	int s = sock(SOCK_DGRAM), one = 1;
	char buf[16];
	ssize_t r;

	if (chdir(dir))
		die(dir);
	signal(SIGUSR1, on_usr1);
	/* a name (autobind), so that the echo comes back */
	if (setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		die("SO_PASSCRED");
	connect_to(s, peer, 0);
	wait_usr1(dir);
	CHECK(send(s, "ping", 4, 0) == 4, "send to the outside peer: %s", strerror(errno));
	{
		struct timeval tv = { .tv_sec = 5 };

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	r = recv(s, buf, sizeof(buf), 0);
	CHECK(r == 4 && !memcmp(buf, "ping", 4), "no echo from the outside peer (%zd)", r);
	write_result(res);
	return 0;
}

static __attribute__((noreturn)) int dgram_echo(const char *path)
{
	int s = sock(SOCK_DGRAM);
	char buf[65536];

	bind_to(s, path, 0);
	for (;;) {
		struct sockaddr_un from;
		socklen_t len = sizeof(from);
		ssize_t r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

		if (r >= 0 && len > offsetof(struct sockaddr_un, sun_path))
			sendto(s, buf, r, 0, (struct sockaddr *)&from, len);
	}
}

static __attribute__((noreturn)) int stream_serve(const char *path)
{
	int s = listener(SOCK_STREAM, path, 0, 5);

	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			die("accept");
		/* keep it open */
	}
}

static int refuse(const char *kind, const char *arg, const char *img, const char *log)
{
	int fd, lfd, sv[2];
	long ret;

	if (!strcmp(kind, "outside")) {
		fd = sock(SOCK_STREAM);
		connect_to(fd, arg, 0);
	} else if (!strcmp(kind, "inflight")) {
		/* a file in flight that the task holds nowhere else */
		int nul = open("/dev/null", O_RDONLY);

		pair(SOCK_STREAM, sv);
		send_fds(sv[0], &nul, 1);
		close(nul);
	} else if (!strcmp(kind, "backlog")) {
		/* a connection waiting, from a client that is gone */
		pid_t child;

		fd = listener(SOCK_STREAM, arg, 0, 4);
		child = fork();
		if (child == 0) {
			connect_to(sock(SOCK_STREAM), arg, 0);
			_exit(0);
		}
		if (child < 0 || waitpid(child, NULL, 0) != child)
			die("fork");
	} else if (!strcmp(kind, "linger")) {
		struct linger lg = { .l_onoff = 1, .l_linger = 5 };

		fd = sock(SOCK_STREAM);
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
	} else if (!strcmp(kind, "inet")) {
		/* UDP-Lite with a corked datagram: restart cannot cork it again */
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
		if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)))
			die("socket");
		if (send(fd, "corked", 6, MSG_MORE) != 6)
			die("send MSG_MORE");
	} else if (!strcmp(kind, "tcp-est")) {
		/* timeo: SO_RCVTIMEO, which a waiting connection inherits; relisten: 3 > 0 + 1 */
		struct timeval tv = { .tv_sec = 5 };
		struct sockaddr_in sin;
		int i;

		fd = inet_sock(SOCK_STREAM, "127.0.0.1", 0, 0);
		if (!strcmp(arg, "timeo") &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			die("SO_RCVTIMEO");
		if (listen(fd, 4))
			die("listen");
		inet_name(fd, &sin, 0);
		for (i = 0; i < (strcmp(arg, "relisten") ? 1 : 3); i++) {
			/* each client stays open */
			sv[0] = inet_sock(SOCK_STREAM, NULL, 0, 0);
			if (connect(sv[0], (struct sockaddr *)&sin, sizeof(sin)))
				die("connect");
		}
		if (!strcmp(arg, "relisten") && listen(fd, 0))
			die("listen");
		if (!strcmp(arg, "accept") && accept(fd, NULL, NULL) < 0)
			die("accept");
	} else if (!strcmp(kind, "tcp-out") || !strcmp(kind, "tcp-hold")) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(arg)) };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = inet_sock(SOCK_STREAM, NULL, 0, 0);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			die("connect");
	} else if (!strcmp(kind, "udp-queue")) {
		struct sockaddr_in sin;

		fd = inet_sock(SOCK_DGRAM, "127.0.0.1", 0, 0);
		inet_name(fd, &sin, 0);
		sv[0] = inet_sock(SOCK_DGRAM, NULL, 0, 0);
		if (sendto(sv[0], "q", 1, 0, (struct sockaddr *)&sin, sizeof(sin)) != 1)
			die("sendto");
		close(sv[0]);	/* its sender is gone */
		usleep(100000);
		/* a datagram from outside is saved as it came, unless the
		 * socket is connected to another peer since
		 */
		sin.sin_port = htons(9);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			die("connect");
	} else {
		printf("sockets: unknown refusal %s\n", kind);
		return 2;
	}
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE |
		      (strcmp(kind, "tcp-hold") ? 0 : CHECKPOINT_TCP_HOLD), lfd);
	if (ret >= 0) {
		printf("checkpoint: succeeded (%ld)\n", ret);
		return 1;
	}
	printf("checkpoint: errno %s\n", errno == EBUSY ? "EBUSY" : errno == EOPNOTSUPP ?
	       "EOPNOTSUPP" : strerror(errno));
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "dgram-hold"))
		return dgram_hold(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "dgram-echo"))
		return dgram_echo(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "stream-serve"))
		return stream_serve(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "refuse"))
		return refuse(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 4 && !strcmp(argv[1], "inet-hold"))
		return inet_hold(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "inet-bind"))
		inet_bind(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "port80"))
		return port80(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "tcp-self"))
		return tcp_self(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return restart_img(argv[2], argv[3]);
	fprintf(stderr, "usage: sockets hold DIR RES | dgram-hold DIR PEER RES | dgram-echo PATH |"
		" stream-serve PATH | refuse KIND ARG IMG LOG | inet-hold DIR RES |"
		" inet-bind udp|tcp PORT | port80 IMG LOG | restart IMG LOG\n");
	return 2;
}
