/*
 * tcpopts: the TCP options that were dropped silently, and those refused by name (issue 11).
 *
 *   tcpopts self IMG LOG     make TCP sockets unbound (U), bound (B), listening (L), an
 *                            established loopback connection (C, its accepted end A) and a
 *                            connection waiting in L's accept queue (W), set on them
 *                            TCP_CONGESTION reno (the default is cubic), TCP_WINDOW_CLAMP,
 *                            TCP_THIN_LINEAR_TIMEOUTS, TCP_INQ, TCP_TX_DELAY,
 *                            TCP_FASTOPEN_CONNECT, TCP_FASTOPEN_NO_COOKIE, a listener's
 *                            TCP_FASTOPEN, read them back,
 *                            checkpoint itself into IMG ("tcpopts: checkpointed").  Restarted,
 *                            read every one again and compare ("tcpopts: kept N sockets", or
 *                            "LOST" with both values), accept W and compare its options with
 *                            its listener's, then send a line each way on both connections;
 *                            and a UDP socket's SO_PEEK_OFF (the common SOCKET record's).
 *   tcpopts unpriv IMG LOG   one unbound socket with TCP_CONGESTION reno, checkpointed; restarted,
 *                            compared as above
 *   tcpopts restart IMG LOG  restart IMG in place of this task (an unprivileged user's way)
 *   tcpopts refusals         the names of the refused cases, one a line
 *   tcpopts refuse NAME IMG LOG  set the option of case NAME, checkpoint: it must be refused
 *                            EOPNOTSUPP with a log line naming the option ("NAME: refused
 *                            (errno 95) naming OPTION"), else "NAME: FAIL ..."
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#include "restart_self.h"

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef TCP_FASTOPEN_NO_COOKIE
#define TCP_FASTOPEN_NO_COOKIE 34
#endif
#ifndef TCP_INQ
#define TCP_INQ 36
#endif
#ifndef TCP_TX_DELAY
#define TCP_TX_DELAY 37
#endif
#ifndef SO_TXTIME
#define SO_TXTIME 61
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif

#define PORT_L 7200
#define PORT_B 7201
#define NSOCK 6

static const char *const names[NSOCK] = { "U", "B", "L", "C", "A", "W-client" };

static void die(const char *what)
{
	printf("tcpopts: FAIL setup: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void seti(int s, int level, int opt, int val, const char *what)
{
	if (setsockopt(s, level, opt, &val, sizeof(val)))
		die(what);
}

static void setcong(int s, const char *name)
{
	if (setsockopt(s, SOL_TCP, TCP_CONGESTION, name, strlen(name)))
		die("TCP_CONGESTION");
}

static int geti(int s, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(s, SOL_TCP, opt, &val, &len))
		return -errno;
	return val;
}

/* the options under test as getsockopt() reads them; @clamp: with the window clamp */
static void get(int s, char *buf, size_t size, int clamp)
{
	char cong[32] = "";
	socklen_t len = sizeof(cong) - 1;

	if (getsockopt(s, SOL_TCP, TCP_CONGESTION, cong, &len))
		snprintf(cong, sizeof(cong), "error %d", errno);
	snprintf(buf, size, "cong=%s clamp=%d thin=%d inq=%d txdelay=%d fo_connect=%d fo_nocookie=%d",
		 cong, clamp ? geti(s, TCP_WINDOW_CLAMP) : 0, geti(s, TCP_THIN_LINEAR_TIMEOUTS),
		 geti(s, TCP_INQ), geti(s, TCP_TX_DELAY), geti(s, TCP_FASTOPEN_CONNECT),
		 geti(s, TCP_FASTOPEN_NO_COOKIE));
}

static int tcp(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		die("socket");
	return s;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* TCP_THIN_LINEAR_TIMEOUTS, TCP_INQ, TCP_TX_DELAY (and the congestion control) on @s */
static void common(int s, int txdelay)
{
	setcong(s, "reno");
	seti(s, SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1, "TCP_THIN_LINEAR_TIMEOUTS");
	seti(s, SOL_TCP, TCP_INQ, 1, "TCP_INQ");
	if (txdelay)
		seti(s, SOL_TCP, TCP_TX_DELAY, txdelay, "TCP_TX_DELAY");
}

static int checkpoint_to(const char *img, const char *log)
{
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long ret;

	if (fd < 0 || lfd < 0)
		die("open");
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, lfd);
	if (ret < 0)
		return -errno;
	close(fd);
	close(lfd);
	return ret;
}

static int peek_off(int s)
{
	socklen_t len = sizeof(int);
	int val = -2;

	if (getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &val, &len))
		return -errno - 100;
	return val;
}

/* a line through @from, read whole on @to */
static int line(int from, int to, const char *what)
{
	char buf[64];
	size_t n = strlen(what), got = 0;
	ssize_t r;

	if (write(from, what, n) != (ssize_t)n)
		return -1;
	while (got < n) {
		r = read(to, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return memcmp(buf, what, n) ? -1 : 0;
}

static int self(const char *img, const char *log, int unpriv)
{
	char fresh[256], before[NSOCK][256], after[256], lopts[256], wopts[256];
	struct sockaddr_in la = loopback(PORT_L), ba = loopback(PORT_B);
	int s[NSOCK], n = unpriv ? 1 : NSOCK, one = 1, i, lost = 0, w, u = -1, zero = 0, pk = 0;
	long ret;

	s[0] = tcp();
	get(s[0], fresh, sizeof(fresh), 1);
	if (!strstr(fresh, "cong=cubic "))
		printf("tcpopts: FAIL setup: a new socket reads %s, not the default cubic\n", fresh);
	common(s[0], unpriv ? 0 : 500);
	if (!unpriv) {
		seti(s[0], SOL_TCP, TCP_WINDOW_CLAMP, 40000, "TCP_WINDOW_CLAMP");
		seti(s[0], SOL_TCP, TCP_FASTOPEN_NO_COOKIE, 1, "TCP_FASTOPEN_NO_COOKIE");
		seti(s[0], SOL_TCP, TCP_FASTOPEN_CONNECT, 1, "TCP_FASTOPEN_CONNECT");

		s[1] = tcp();
		setcong(s[1], "reno");
		seti(s[1], SOL_TCP, TCP_WINDOW_CLAMP, 50000, "TCP_WINDOW_CLAMP");
		seti(s[1], SOL_SOCKET, SO_REUSEADDR, one, "SO_REUSEADDR");
		if (bind(s[1], (struct sockaddr *)&ba, sizeof(ba)))
			die("bind B");

		s[2] = tcp();
		common(s[2], 500);
		seti(s[2], SOL_TCP, TCP_WINDOW_CLAMP, 40000, "TCP_WINDOW_CLAMP");
		seti(s[2], SOL_TCP, TCP_FASTOPEN_NO_COOKIE, 1, "TCP_FASTOPEN_NO_COOKIE");
		seti(s[2], SOL_SOCKET, SO_REUSEADDR, one, "SO_REUSEADDR");
		if (bind(s[2], (struct sockaddr *)&la, sizeof(la)) || listen(s[2], 4))
			die("bind/listen L");
		/* a listener's fast open queue (dnsmasq sets one), after its listen */
		seti(s[2], SOL_TCP, TCP_FASTOPEN, 3, "TCP_FASTOPEN");
		if (geti(s[2], TCP_FASTOPEN) != 3)
			die("TCP_FASTOPEN");

		/* the client's clamp is set before connect(), which may lower it */
		s[3] = tcp();
		common(s[3], 250);
		seti(s[3], SOL_TCP, TCP_WINDOW_CLAMP, 30000, "TCP_WINDOW_CLAMP");
		if (connect(s[3], (struct sockaddr *)&la, sizeof(la)))
			die("connect C");
		s[4] = accept(s[2], NULL, NULL);
		if (s[4] < 0)
			die("accept A");
		/* waits in L's accept queue through the checkpoint */
		s[5] = tcp();
		if (connect(s[5], (struct sockaddr *)&la, sizeof(la)))
			die("connect W");
		usleep(100000);

		/* SO_PEEK_OFF of a UDP socket: -1 (off) on a new one */
		u = socket(AF_INET, SOCK_DGRAM, 0);
		if (u < 0 || peek_off(u) != -1 ||
		    setsockopt(u, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
			die("SO_PEEK_OFF");
		pk = peek_off(u);
	}
	for (i = 0; i < n; i++) {
		get(s[i], before[i], sizeof(before[i]), 1);
		if (i < 5 && !strcmp(before[i], fresh)) {
			printf("tcpopts: FAIL setup: %s reads %s, as a new socket\n", names[i], fresh);
			return 2;
		}
	}
	get(s[unpriv ? 0 : 2], lopts, sizeof(lopts), 0);
	ret = checkpoint_to(img, log);
	if (ret < 0) {
		printf("tcpopts: refused (errno %ld)\n", -ret);
		return 0;
	}
	if (ret > 0) {
		printf("tcpopts: checkpointed\n");
		return 0;
	}
	for (i = 0; i < n; i++) {
		get(s[i], after, sizeof(after), 1);
		if (strcmp(before[i], after)) {
			printf("tcpopts: LOST %s: %s before, %s after\n", names[i], before[i], after);
			lost++;
		} else {
			printf("tcpopts: %s kept (%s)\n", names[i], after);
		}
	}
	if (!unpriv) {
		/* the connection that waited: its listener's options (its clamp is the kernel's) */
		w = accept(s[2], NULL, NULL);
		if (w < 0) {
			printf("tcpopts: LOST the connection waiting to be accepted: %s\n",
			       strerror(errno));
			return 1;
		}
		if (geti(s[2], TCP_FASTOPEN) != 3) {
			printf("tcpopts: LOST L's TCP_FASTOPEN: 3 before, %d after\n",
			       geti(s[2], TCP_FASTOPEN));
			lost++;
		} else {
			printf("tcpopts: L kept its TCP_FASTOPEN (3)\n");
		}
		if (peek_off(u) != pk) {
			printf("tcpopts: LOST SO_PEEK_OFF: %d before, %d after\n", pk, peek_off(u));
			lost++;
		} else {
			printf("tcpopts: UDP kept (peek_off=%d)\n", pk);
		}
		get(w, wopts, sizeof(wopts), 0);
		if (strcmp(wopts, lopts)) {
			printf("tcpopts: LOST W: %s, its listener's %s\n", wopts, lopts);
			lost++;
		} else {
			printf("tcpopts: W kept its listener's (%s)\n", wopts);
		}
		if (line(s[3], s[4], "from C\n") || line(s[4], s[3], "from A\n") ||
		    line(s[5], w, "from W\n") || line(w, s[5], "to W\n")) {
			printf("tcpopts: LOST a line on a connection\n");
			lost++;
		}
	}
	if (lost)
		printf("tcpopts: LOST %d\n", lost);
	else
		printf("tcpopts: kept %d sockets\n", n + 2 * !unpriv);
	return lost ? 1 : 0;
}

struct refusal {
	const char *name, *option;
	int type, level, opt, val;
};

static const struct refusal refusals[] = {
	{ "save-syn", "TCP_SAVE_SYN", SOCK_STREAM, SOL_TCP, TCP_SAVE_SYN, 1 },
	{ "repair", "TCP_REPAIR on", SOCK_STREAM, SOL_TCP, TCP_REPAIR, 1 },
	{ "reuseport-cbpf", "SO_ATTACH_REUSEPORT_CBPF", SOCK_DGRAM, SOL_SOCKET,
	  SO_ATTACH_REUSEPORT_CBPF, 0 },
	{ "prefer-busy-poll", "SO_PREFER_BUSY_POLL", SOCK_DGRAM, SOL_SOCKET, SO_PREFER_BUSY_POLL, 1 },
	{ "busy-poll-budget", "SO_BUSY_POLL_BUDGET", SOCK_DGRAM, SOL_SOCKET, SO_BUSY_POLL_BUDGET, 8 },
	{ "max-pacing-rate", "SO_MAX_PACING_RATE", SOCK_STREAM, SOL_SOCKET, SO_MAX_PACING_RATE,
	  1000000 },
	{ "txtime", "SO_TXTIME", SOCK_DGRAM, SOL_SOCKET, SO_TXTIME, 0 },
	{ "select-err-queue", "SO_SELECT_ERR_QUEUE", SOCK_STREAM, SOL_SOCKET, SO_SELECT_ERR_QUEUE,
	  1 },
	{ "wifi-status", "SO_WIFI_STATUS", SOCK_STREAM, SOL_SOCKET, SO_WIFI_STATUS, 1 },
	{ "nofcs", "SO_NOFCS", SOCK_DGRAM, SOL_SOCKET, SO_NOFCS, 1 },
	{ "rcvmark", "SO_RCVMARK", SOCK_STREAM, SOL_SOCKET, SO_RCVMARK, 1 },
};

#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

static int refuse(const char *name, const char *img, const char *log)
{
	struct sock_filter ret0 = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &ret0 };
	struct sockaddr_in a = loopback(7300);
	const struct refusal *r = NULL;
	char text[4096] = "";
	int s, one = 1, fd, err;
	size_t i;
	ssize_t n;
	long ret;

	for (i = 0; i < NREFUSALS; i++)
		if (!strcmp(refusals[i].name, name))
			r = &refusals[i];
	if (!r) {
		printf("%s: FAIL no such case\n", name);
		return 2;
	}
	s = socket(AF_INET, r->type, 0);
	if (s < 0)
		die("socket");
	if (r->opt == SO_ATTACH_REUSEPORT_CBPF) {
		seti(s, SOL_SOCKET, SO_REUSEPORT, one, "SO_REUSEPORT");
		err = setsockopt(s, SOL_SOCKET, r->opt, &prog, sizeof(prog));
		if (!err && bind(s, (struct sockaddr *)&a, sizeof(a)))
			die("bind");
	} else if (r->opt == SO_TXTIME) {
		struct { clockid_t clockid; unsigned int flags; } t = { CLOCK_MONOTONIC, 0 };

		err = setsockopt(s, r->level, r->opt, &t, sizeof(t));
	} else {
		err = setsockopt(s, r->level, r->opt, &r->val, sizeof(r->val));
	}
	if (err) {
		printf("%s: FAIL setup: %s: %s\n", name, r->option, strerror(errno));
		return 2;
	}
	ret = checkpoint_to(img, log);
	if (ret >= 0) {
		printf("%s: FAIL checkpointed (%s not refused)\n", name, r->option);
		return ret ? 1 : 0;
	}
	err = -ret;
	fd = open(log, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (n > 0)
		text[n] = 0;
	if (err != EOPNOTSUPP || !strstr(text, r->option) || !strstr(text, "not supported"))
		printf("%s: FAIL refused (errno %d) with log: %s\n", name, err, text);
	else
		printf("%s: refused (errno %d) naming %s\n", name, err, r->option);
	return 0;
}

int main(int argc, char *argv[])
{
	size_t i;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 2 && !strcmp(argv[1], "refusals")) {
		for (i = 0; i < NREFUSALS; i++)
			printf("%s\n", refusals[i].name);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "self"))
		return self(argv[2], argv[3], 0);
	if (argc == 4 && !strcmp(argv[1], "unpriv"))
		return self(argv[2], argv[3], 1);
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return restart_img("tcpopts", argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "refuse"))
		return refuse(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: tcpopts self|unpriv IMG LOG | restart IMG LOG | refusals | refuse NAME IMG LOG\n");
	return 2;
}
