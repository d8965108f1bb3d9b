/*
 * crnetns: a container's TCP conversation over its own loopback, judging itself.
 *
 *   unshare -n -p -f setsid crnetns PREFIX
 *
 * R, the init of a pid and a network namespace, brings lo up (SIOCSIFFLAGS), sets the
 * namespace's net.ipv4.ip_local_port_range to 40000 40999 and ping_group_range to 0 4242,
 * listens on 127.0.0.1:5151 and forks C, which connects. C sends "ping 1\n", R answers
 * "pong 1\n" and queues "queued-by-R\n" at once; C reads the pong only and queues
 * "queued-by-C\n", which R does not read: both then wait, with bytes unread in both directions,
 * and C writes PREFIX.ready.
 *
 * SIGUSR1 to R (after a restart): R passes it on to C. C reads "queued-by-R\n", sends
 * "ping 2\n"; R reads "queued-by-C\nping 2\n" and answers "pong 2\n". C then connects again to
 * 127.0.0.1:5151 (the restored listener, in the restored namespace) from a port of the range,
 * sends "new\n" and reads R's "ok\n", and checks the namespace: lo is up, it is the only
 * device, the two sysctls read what R set. R checks C's exit status and writes PASS or
 * "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT 5151

static volatile sig_atomic_t go;
static const char *prefix;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void put(const char *suffix, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	f = fopen(path, "w");
	if (!f)
		exit(3);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "crnetns: %s (errno %d)\n", msg, errno);
	put(getpid() == 1 ? "result" : "cresult", "FAIL: %s (errno %d)\n", msg, errno);
	exit(1);
}

static void wait_go(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

/* exactly @want, else a failure naming @what */
static void expect(int fd, const char *want, const char *what)
{
	size_t n = strlen(want), got = 0;
	char buf[64];

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("%s: read %zd after %zu bytes", what, r, got);
		got += r;
	}
	if (memcmp(buf, want, n))
		fail("%s: read \"%.*s\", not \"%s\"", what, (int)n, buf, want);
}

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		fail("write \"%s\"", s);
}

static void sysctl_put(const char *name, const char *value)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value) || close(fd))
		fail("set %s", name);
}

static void sysctl_check(const char *name, const char *want)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail("open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		fail("read %s", path);
	buf[n] = '\0';
	if (strcmp(buf, want))
		fail("%s reads \"%s\", not \"%s\"", name, buf, want);
}

static struct sockaddr_in server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int lo_flags(int s, short set)
{
	struct ifreq ifr = { 0 };

	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		fail("SIOCGIFFLAGS lo");
	if (set) {
		ifr.ifr_flags |= set;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			fail("SIOCSIFFLAGS lo");
	}
	return ifr.ifr_flags;
}

static void client(void)
{
	struct sockaddr_in a = server(), me;
	socklen_t len = sizeof(me);
	struct if_nameindex *ifs;
	int c, c2, i;

	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		fail("C: connect 127.0.0.1:%d", PORT);
	say(c, "ping 1\n");
	expect(c, "pong 1\n", "C: first answer");
	say(c, "queued-by-C\n");
	put("ready", "%d\n", getppid());
	wait_go();
	expect(c, "queued-by-R\n", "C: R's queued bytes");
	say(c, "ping 2\n");
	expect(c, "pong 2\n", "C: second answer");
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&a, sizeof(a)))
		fail("C: a new connection to 127.0.0.1:%d after restart", PORT);
	if (getsockname(c2, (struct sockaddr *)&me, &len))
		fail("C: getsockname");
	if (ntohs(me.sin_port) < 40000 || ntohs(me.sin_port) > 40999)
		fail("C: the new connection's port %u is outside ip_local_port_range 40000 40999",
		     ntohs(me.sin_port));
	say(c2, "new\n");
	expect(c2, "ok\n", "C: the new connection's answer");
	if (!(lo_flags(c, 0) & IFF_UP))
		fail("C: lo is down");
	ifs = if_nameindex();
	if (!ifs)
		fail("C: if_nameindex");
	for (i = 0; ifs[i].if_index; i++)
		if (strcmp(ifs[i].if_name, "lo"))
			fail("C: device %s in the namespace", ifs[i].if_name);
	if (i != 1)
		fail("C: %d devices, not lo alone", i);
	if_freenameindex(ifs);
	sysctl_check("ip_local_port_range", "40000\t40999\n");
	sysctl_check("ping_group_range", "0\t4242\n");
	put("cresult", "PASS\n");
	exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = server();
	struct sigaction sa = { .sa_handler = on_usr1 };
	int l, s, one = 1, status;
	sigset_t usr1;
	pid_t c;

	if (argc != 2) {
		fprintf(stderr, "usage: crnetns PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		fail("R: socket");
	lo_flags(l, IFF_UP);
	sysctl_put("ip_local_port_range", "40000 40999");
	sysctl_put("ping_group_range", "0 4242");
	if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4))
		fail("R: listen on 127.0.0.1:%d", PORT);
	c = fork();
	if (c < 0)
		fail("R: fork");
	if (!c)
		client();
	s = accept(l, NULL, NULL);
	if (s < 0)
		fail("R: accept");
	expect(s, "ping 1\n", "R: first question");
	say(s, "pong 1\nqueued-by-R\n");
	wait_go();
	if (kill(c, SIGUSR1))
		fail("R: signal C");
	expect(s, "queued-by-C\n", "R: C's queued bytes");
	expect(s, "ping 2\n", "R: second question");
	say(s, "pong 2\n");
	s = accept(l, NULL, NULL);
	if (s < 0)
		fail("R: accept after restart");
	expect(s, "new\n", "R: the new connection");
	say(s, "ok\n");
	if (waitpid(c, &status, 0) != c)
		fail("R: waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("R: C ended with status %#x (see %s.cresult)", status, prefix);
	put("result", "PASS\n");
	for (;;)
		pause();
}
