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
 *   sockets refuse KIND IMG LOG  build a state checkpoint must refuse
 *                            (outside PATH, inflight, backlog, inet), self
 *                            checkpoint into IMG with logfd LOG, print
 *                            "checkpoint: errno NAME" and the log.
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
 * client: accepted after restart in their order.  After restart every queue is read
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
#include <netinet/in.h>
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
	int lst3, w1, w2;
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
	if (setsockopt(dg[1], SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)))
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
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct msghdr mh = { 0 };
		struct iovec iov = { .iov_base = "f", .iov_len = 1 };
		struct cmsghdr *c;
		int nul = open("/dev/null", O_RDONLY);

		pair(SOCK_STREAM, sv);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nul, sizeof(int));
		if (sendmsg(sv[0], &mh, 0) != 1)
			die("sendmsg");
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
	} else if (!strcmp(kind, "inet")) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
	} else {
		printf("sockets: unknown refusal %s\n", kind);
		return 2;
	}
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
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
	fprintf(stderr, "usage: sockets hold DIR RES | dgram-hold DIR PEER RES | dgram-echo PATH |"
		" stream-serve PATH | refuse KIND ARG IMG LOG\n");
	return 2;
}
