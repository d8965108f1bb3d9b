/*
 * crtree: a process tree for checkpoint/restart of trees, judging itself.
 *
 *   crtree PREFIX [leak]
 *
 * Run as a session leader (the lab's background runs are). The root R forks:
 *   A  leading a process group of its own, with a child A1 in that group (depth 3: R, A, A1);
 *   B  and C, in R's process group, joined by a pipe that R made: B writes numbered lines every
 *      10 ms, C reads every 200 ms, so the pipe holds data at any moment (across a checkpoint);
 *   Z  which exits at once with status 42 and stays a zombie: R reaps it only when asked.
 * Every task checks, every tick, that its parent, process group and session are what they were
 * when the tree was built, and A1 appends "tick N" to PREFIX.tick. R writes PREFIX.ready once the
 * tree is built, Z is a zombie and the pipe holds data.
 *
 * SIGUSR1 to R: R passes it on; B stops writing (its count in PREFIX.count) and closes the pipe;
 * C reads to EOF and checks every number came once and in order, and that it got all of them;
 * each task reaps its children and exits 0 if every check held (1 otherwise). R checks the exit
 * statuses of A, B, C (0) and of Z (42, so a restored zombie must keep its status) and writes
 * PASS or "FAIL: reason" to PREFIX.result.
 *
 * With "leak", R also forks D (in R's group), whose child D1 joins A's process group: a subtree
 * rooted at D has a task in a group led from outside it (checkpoint must refuse it). D and D1
 * only sleep; that mode is not for restarting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static const char *prefix;
static char failure[256];
static pid_t want_ppid, want_pgrp, want_sid;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static void fail(const char *role, const char *why)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s: %s", role, why);
}

static void write_file(const char *name, const char *text, const char *mode)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	f = fopen(path, mode);
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
		;
}

static void remember(void)
{
	want_ppid = getppid();
	want_pgrp = getpgrp();
	want_sid = getsid(0);
}

/* the relations of a task other than the root, as they were built */
static void check_relations(const char *role)
{
	if (getppid() != want_ppid)
		fail(role, "parent changed");
	if (getpgrp() != want_pgrp)
		fail(role, "process group changed");
	if (getsid(0) != want_sid)
		fail(role, "session changed");
}

static int reap(const char *role, pid_t pid, int want)
{
	int st;
	char why[96];

	if (waitpid(pid, &st, 0) != pid) {
		snprintf(why, sizeof(why), "waitpid(%d): %s", (int)pid, strerror(errno));
		fail(role, why);
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
		snprintf(why, sizeof(why), "child %d: status %#x, expected exit %d", (int)pid, st, want);
		fail(role, why);
		return -1;
	}
	return 0;
}

static void finish(const char *role)
{
	if (failure[0])
		fprintf(stderr, "%s\n", failure);
	_exit(failure[0] ? 1 : 0);
}

static void run_a1(void)
{
	unsigned long n = 0;
	char line[64];

	remember();
	while (!stop) {
		check_relations("A1");
		snprintf(line, sizeof(line), "tick %lu\n", ++n);
		write_file("tick", line, "a");
		sleep_ms(100);
	}
	finish("A1");
}

static void run_a(void)
{
	pid_t a1;

	setpgid(0, 0);
	remember();
	a1 = fork();
	if (a1 == 0)
		run_a1();
	while (!stop) {
		check_relations("A");
		sleep_ms(100);
	}
	kill(a1, SIGUSR1);
	reap("A", a1, 0);
	finish("A");
}

static void run_b(int w)
{
	unsigned long n = 0;
	char line[64];

	remember();
	fcntl(w, F_SETFL, O_NONBLOCK);
	while (!stop) {
		check_relations("B");
		snprintf(line, sizeof(line), "%lu\n", n);
		if (write(w, line, strlen(line)) == (ssize_t)strlen(line))
			n++;
		else if (errno != EAGAIN)
			fail("B", "write to the pipe failed");
		sleep_ms(10);
	}
	snprintf(line, sizeof(line), "%lu\n", n);
	write_file("count", line, "w");
	close(w);
	finish("B");
}

static void run_c(int r)
{
	char buf[8192], *p, *nl, part[64] = "";
	unsigned long next = 0, count;
	size_t plen = 0;
	ssize_t got;
	FILE *f;
	char path[4096];

	remember();
	for (;;) {
		if (!stop) {
			check_relations("C");
			sleep_ms(200);
		}
		got = read(r, buf, sizeof(buf) - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fail("C", "read from the pipe failed");
			break;
		}
		if (got == 0)
			break;
		buf[got] = '\0';
		for (p = buf; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl) {
				plen += snprintf(part + plen, sizeof(part) - plen, "%s", p);
				break;
			}
			*nl = '\0';
			snprintf(part + plen, sizeof(part) - plen, "%s", p);
			if (strtoul(part, NULL, 10) != next++) {
				fail("C", "a number missing, repeated or out of order");
				break;
			}
			plen = 0;
			part[0] = '\0';
		}
	}
	snprintf(path, sizeof(path), "%s.count", prefix);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lu", &count) != 1)
		fail("C", "no count from B");
	else if (count != next)
		fail("C", "did not get every number B wrote");
	if (f)
		fclose(f);
	finish("C");
}

/* D, and D1 in the process group of A */
static void leaky_subtree(pid_t a)
{
	pid_t d = fork(), d1;
	int i;

	if (d)
		return;
	d1 = fork();
	if (d1 == 0) {
		for (i = 0; i < 200 && setpgid(0, a) < 0; i++)
			sleep_ms(10);
		for (;;)
			pause();
	}
	while (getpgid(d1) != a)
		sleep_ms(10);
	for (;;)
		pause();
}

static int is_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

int main(int argc, char **argv)
{
	pid_t a, b, c, z, my_pgrp, my_sid;
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fds[2], avail = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: crtree PREFIX [leak]\n");
		return 2;
	}
	prefix = argv[1];
	sigaction(SIGUSR1, &sa, NULL);
	my_pgrp = getpgrp();
	my_sid = getsid(0);
	a = fork();
	if (a == 0)
		run_a();
	if (argc > 2 && !strcmp(argv[2], "leak"))
		leaky_subtree(a);
	if (pipe(fds) < 0)
		return 2;
	b = fork();
	if (b == 0) {
		close(fds[0]);
		run_b(fds[1]);
	}
	c = fork();
	if (c == 0) {
		close(fds[1]);
		run_c(fds[0]);
	}
	z = fork();
	if (z == 0)
		_exit(42);
	close(fds[1]);
	/* the pipe's data is visible to the root through C's end it still holds */
	while (!is_zombie(z))
		sleep_ms(10);
	do
		sleep_ms(50);
	while (ioctl(fds[0], FIONREAD, &avail) < 0 || avail == 0);
	close(fds[0]);
	write_file("ready", "ready\n", "w");

	while (!stop) {
		if (getpgrp() != my_pgrp || getsid(0) != my_sid)
			fail("R", "process group or session changed");
		if (!is_zombie(z))
			fail("R", "Z is no longer a zombie");
		sleep_ms(100);
	}
	kill(a, SIGUSR1);
	kill(b, SIGUSR1);
	kill(c, SIGUSR1);
	reap("R", a, 0);
	reap("R", b, 0);
	reap("R", c, 0);
	reap("R", z, 42);
	if (failure[0]) {
		char text[300];

		snprintf(text, sizeof(text), "FAIL: %s\n", failure);
		write_file("result", text, "w");
	} else {
		write_file("result", "PASS\n", "w");
	}
	return 0;
}
