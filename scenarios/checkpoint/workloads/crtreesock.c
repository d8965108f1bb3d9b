/*
 * crtreesock: sockets shared by the tasks of a process tree, judging itself.
 *
 *   crtreesock PREFIX [leak]
 *
 * The root R makes, then forks:
 *   S  holding one end of a UNIX stream socketpair (R holds the other) and both ends of a UNIX
 *      datagram socketpair (R too); R and S each queue data to the other before PREFIX.ready:
 *      3 lines on the stream and 3 datagrams from R, 2 lines and 2 datagrams from S, none read;
 *   L  inheriting R's listening UNIX socket PREFIX.sock (R keeps it open too);
 *   W1, W2 inheriting R's TCP listener on 127.0.0.1 (a pre-fork server: both block in accept()).
 * R writes the TCP port to PREFIX.port and then PREFIX.ready.
 *
 * SIGUSR1 to R (after a restart): R passes it on to S and L, and checks what S queued (the
 * stream's bytes in order, the datagrams with their boundaries); S checks what R queued; R
 * connects to PREFIX.sock, sends "ping", L answers "pong"; R connects twice to the TCP port
 * (the port it had) and each worker answers with its pid once, so both must answer; R checks
 * the exit status of every child and writes PASS or "FAIL: reason" to PREFIX.result.
 *
 * With "leak": R holds one end of a stream socketpair and forks D (with a child D1) holding
 * the other: a checkpoint of the subtree rooted at D must be refused naming both tasks.
 * D's pid is in PREFIX.leak; that mode only sleeps.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static const char *prefix;
static char failure[200];

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static void fail(const char *why)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s", why);
}

/* PREFIX.NAME holding @text, made whole at once (rename) */
static void write_file(const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    close(fd) || rename(tmp, path)) {
		perror(path);
		exit(2);
	}
}

static void wait_stop(void)
{
	struct timespec ts = { 0, 50000000L };

	while (!stop)
		nanosleep(&ts, NULL);
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* exactly @n bytes from @fd */
static int read_all(int fd, char *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, buf + off, n - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += r;
	}
	return 0;
}

static void line(char *buf, size_t size, const char *who, int i)
{
	snprintf(buf, size, "%s line %d of the stream\n", who, i);
}

static void dgram(char *buf, size_t size, const char *who, int i)
{
	snprintf(buf, size, "%s datagram %d%.*s", who, i, i * 7, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

static void send_all(int stream, int dg, const char *who, int n)
{
	char buf[256];
	int i;

	for (i = 0; i < n; i++) {
		line(buf, sizeof(buf), who, i);
		if (write(stream, buf, strlen(buf)) != (ssize_t)strlen(buf))
			die("write stream");
		dgram(buf, sizeof(buf), who, i);
		if (send(dg, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
			die("send dgram");
	}
}

/* what @who sent, @n of each, read from @stream and @dg */
static void check_all(int stream, int dg, const char *who, int n)
{
	char want[256], got[256];
	int i;

	for (i = 0; i < n; i++) {
		line(want, sizeof(want), who, i);
		memset(got, 0, sizeof(got));
		if (read_all(stream, got, strlen(want)) || strcmp(got, want))
			fail("stream data differs");
	}
	for (i = 0; i < n; i++) {
		ssize_t r;

		dgram(want, sizeof(want), who, i);
		memset(got, 0, sizeof(got));
		r = recv(dg, got, sizeof(got), MSG_DONTWAIT);
		if (r != (ssize_t)strlen(want) || strcmp(got, want))
			fail("datagram differs (boundary or content)");
	}
	if (recv(dg, got, sizeof(got), MSG_DONTWAIT) >= 0)
		fail("an extra datagram");
}

static int listen_unix(struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s.sock", prefix);
	unlink(sa->sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 4))
		die("unix listener");
	return fd;
}

static __attribute__((noreturn)) void leak(void)
{
	int lp[2];
	pid_t d;
	char buf[32];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, lp))
		die("socketpair");
	d = fork();
	if (d == 0) {
		close(lp[0]);
		if (fork() == 0)
			for (;;)
				pause();
		for (;;)
			pause();
	}
	close(lp[1]);
	snprintf(buf, sizeof(buf), "%d\n", d);
	write_file("leak", buf);
	write_file("ready", "ready\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t inlen = sizeof(in);
	struct sockaddr_un un;
	int sp[2], dp[2], syn[2], lfd, tfd, i, status, one = 1;
	pid_t s, l, w[2];
	char buf[256];

	if (argc < 2) {
		fprintf(stderr, "usage: crtreesock PREFIX [leak]\n");
		return 2;
	}
	prefix = argv[1];
	signal(SIGUSR1, on_usr1);
	if (argc > 2 && !strcmp(argv[2], "leak"))
		leak();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dp) || pipe(syn))
		die("socketpair");
	lfd = listen_unix(&un);
	/* SO_REUSEADDR, as servers do: the port again past its TIME_WAIT connections */
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (tfd < 0 || setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(tfd, (struct sockaddr *)&in, sizeof(in)) ||
	    listen(tfd, 8) || getsockname(tfd, (struct sockaddr *)&in, &inlen))
		die("tcp listener");

	s = fork();
	if (s == 0) {
		close(sp[0]);
		close(syn[0]);
		send_all(sp[1], dp[1], "S", 2);
		close(syn[1]);
		wait_stop();
		check_all(sp[1], dp[1], "R", 3);
		if (failure[0])
			fprintf(stderr, "S: %s\n", failure);
		_exit(failure[0] ? 1 : 0);
	}
	l = fork();
	if (l == 0) {
		int c;

		close(syn[0]);
		close(syn[1]);
		wait_stop();
		c = accept(lfd, NULL, NULL);
		memset(buf, 0, sizeof(buf));
		if (c < 0 || read_all(c, buf, 4) || strcmp(buf, "ping") ||
		    write(c, "pong", 4) != 4)
			_exit(1);
		_exit(0);
	}
	for (i = 0; i < 2; i++) {
		w[i] = fork();
		if (w[i] == 0) {
			int c;

			close(syn[0]);
			close(syn[1]);
			do
				c = accept(tfd, NULL, NULL);
			while (c < 0 && errno == EINTR);
			snprintf(buf, sizeof(buf), "%-15d", getpid());
			if (c < 0 || write(c, buf, 15) != 15)
				_exit(1);
			_exit(0);
		}
	}
	close(sp[1]);
	close(syn[1]);
	if (read(syn[0], buf, 1) != 0)
		die("sync");
	close(syn[0]);
	send_all(sp[0], dp[0], "R", 3);
	snprintf(buf, sizeof(buf), "%d\n", ntohs(in.sin_port));
	write_file("port", buf);
	write_file("ready", "ready\n");

	wait_stop();
	kill(s, SIGUSR1);
	kill(l, SIGUSR1);
	check_all(sp[0], dp[0], "S", 2);
	{
		int c = socket(AF_UNIX, SOCK_STREAM, 0);

		memset(buf, 0, sizeof(buf));
		if (c < 0 || connect(c, (struct sockaddr *)&un, sizeof(un)) ||
		    write(c, "ping", 4) != 4 || read_all(c, buf, 4) ||
		    strcmp(buf, "pong"))
			fail("the unix listener did not answer");
		close(c);
	}
	{
		pid_t seen[2] = { 0, 0 };

		for (i = 0; i < 2; i++) {
			int c = socket(AF_INET, SOCK_STREAM, 0);

			memset(buf, 0, sizeof(buf));
			if (c < 0 || connect(c, (struct sockaddr *)&in, sizeof(in)) ||
			    read_all(c, buf, 15)) {
				fail("the tcp listener did not answer");
				break;
			}
			seen[i] = atoi(buf);
			close(c);
		}
		if (!((seen[0] == w[0] && seen[1] == w[1]) ||
		      (seen[0] == w[1] && seen[1] == w[0])))
			fail("the two workers did not each answer once");
	}
	if (waitpid(s, &status, 0) != s || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("S failed its checks");
	if (waitpid(l, &status, 0) != l || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("L failed");
	for (i = 0; i < 2; i++)
		if (waitpid(w[i], &status, 0) != w[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fail("a worker failed");
	if (failure[0])
		snprintf(buf, sizeof(buf), "FAIL: %s\n", failure);
	else
		snprintf(buf, sizeof(buf), "PASS\n");
	write_file("result", buf);
	return 0;
}
