// SPDX-License-Identifier: GPL-2.0
/*
 * crpidns: a pid namespace with its init and a few children, judging itself.
 *
 *   crpidns PREFIX [nested | unshared]
 *
 * The program makes I with clone(CLONE_NEWPID), writes I's pid (as we see it) to PREFIX.init and
 * waits for it. I is pid 1 of the new namespace; it becomes a session leader (setsid) and forks,
 * in this order (so their pids in the namespace are known):
 *   A  pid 2, in I's group, with a child A1 (pid 3) that appends "tick N" to PREFIX.tick;
 *   B  pid 4, leading a process group of its own;
 *   Z  pid 5, which exits at once with status 42 and stays a zombie until I reaps it.
 * Every task checks, every tick, its pid, parent, process group and session in the namespace.
 * I writes PREFIX.ready once the tree is built and Z is a zombie.
 *
 * SIGUSR1 to I: I passes it on to A, A1 and B. A exits at once, so A1 is orphaned: it waits until
 * its parent is the init (pid 1), then exits with status 7. B exits 0 if its checks held. I reaps
 * every task (A 0, B 0, Z 42, and the orphan A1 7: the namespace's init reaps orphans) and writes
 * PASS or "FAIL: reason" to PREFIX.result.
 *
 * With "nested", I also forks N (pid 6) that makes a pid namespace of its own (N1 is its init):
 * a checkpoint of I's namespace must refuse it. With "unshared", N instead calls
 * unshare(CLONE_NEWPID) (its children would be of another namespace) and has none: refused too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static const char *prefix;
static char failure[256];

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

/* pid, parent, group and session as the namespace sees them */
static void check(const char *role, pid_t pid, pid_t ppid, pid_t pgrp, pid_t sid)
{
	char why[128];

	if (getpid() != pid || getppid() != ppid || getpgrp() != pgrp || getsid(0) != sid) {
		snprintf(why, sizeof(why), "pid %d ppid %d pgrp %d sid %d, expected %d %d %d %d",
			 getpid(), getppid(), getpgrp(), getsid(0), pid, ppid, pgrp, sid);
		fail(role, why);
	}
}

static void on_signal(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigaction(SIGUSR1, &sa, NULL);
}

static void a1(void)
{
	char line[64];
	int n = 0, i;

	while (!stop) {
		check("A1", 3, 2, 1, 1);
		snprintf(line, sizeof(line), "tick %d\n", ++n);
		write_file("tick", line, "a");
		sleep_ms(100);
	}
	/* A exits on the same signal: we are the init's now */
	for (i = 0; i < 500 && getppid() != 1; i++)
		sleep_ms(10);
	if (getppid() != 1)
		fail("A1", "not reparented to the namespace's init");
	exit(failure[0] ? 1 : 7);
}

static void a(void)
{
	pid_t c = fork();

	if (c == 0)
		a1();
	while (!stop) {
		check("A", 2, 1, 1, 1);
		sleep_ms(100);
	}
	_exit(failure[0] ? 1 : 0);	/* its child is orphaned */
}

static void b(void)
{
	if (setpgid(0, 0) < 0)
		exit(3);
	while (!stop) {
		check("B", 4, 1, 4, 1);
		sleep_ms(100);
	}
	exit(failure[0] ? 1 : 0);
}

static int nested_init(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static void n(int mode)
{
	static char stack[65536];
	pid_t c;

	if (mode == 2) {
		if (unshare(CLONE_NEWPID))
			exit(3);
		for (;;)
			pause();
	}
	c = clone(nested_init, stack + sizeof(stack), CLONE_NEWPID | SIGCHLD, NULL);
	if (c < 0)
		exit(3);
	for (;;)
		pause();
}

static int init(void *arg)
{
	int nested = (int)(long)arg, st, left = 4, sta = -1, sta1 = -1, stb = -1, stz = -1;
	char path[4096], result[300];
	pid_t p;

	on_signal();
	if (getpid() != 1 || setsid() != 1)
		return 3;
	if (fork() == 0)
		a();
	while (kill(3, 0) < 0)	/* A1: pid 3 before B (no /proc of this namespace) */
		sleep_ms(5);
	if (fork() == 0)
		b();
	if (fork() == 0)
		_exit(42);
	if (nested && fork() == 0)
		n(nested);
	snprintf(path, sizeof(path), "%s.tick", prefix);
	for (;;) {
		siginfo_t si = { 0 };

		/* Z a zombie (not reaped: WNOWAIT), A1 ticking */
		if (!waitid(P_PID, 5, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == 5 &&
		    !access(path, F_OK))
			break;
		sleep_ms(10);
	}
	write_file("ready", "ready\n", "w");
	while (!stop) {
		check("I", 1, 0, 1, 1);
		sleep_ms(100);
	}
	kill(2, SIGUSR1);
	kill(3, SIGUSR1);
	kill(4, SIGUSR1);
	if (nested)
		kill(6, SIGKILL);
	while (left > 0) {
		p = waitpid(-1, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			fail("I", "a child is missing");
			break;
		}
		if (p == 2)
			sta = st;
		else if (p == 3)
			sta1 = st;
		else if (p == 4)
			stb = st;
		else if (p == 5)
			stz = st;
		else
			continue;
		left--;
	}
	if (!WIFEXITED(sta) || WEXITSTATUS(sta) != 0)
		fail("I", "A did not exit 0");
	if (!WIFEXITED(sta1) || WEXITSTATUS(sta1) != 7)
		fail("I", "the orphan A1 was not reaped by the init with status 7");
	if (!WIFEXITED(stb) || WEXITSTATUS(stb) != 0)
		fail("I", "B did not exit 0");
	if (!WIFEXITED(stz) || WEXITSTATUS(stz) != 42)
		fail("I", "Z did not have status 42");
	snprintf(result, sizeof(result), "%s%s\n", failure[0] ? "FAIL: " : "PASS", failure);
	write_file("result", result, "w");
	return 0;
}

int main(int argc, char *argv[])
{
	static char stack[65536];
	char text[32];
	int st, mode = 0;
	pid_t i;

	if (argc == 3 && !strcmp(argv[2], "nested")) {
		mode = 1;
	} else if (argc == 3 && !strcmp(argv[2], "unshared")) {
		mode = 2;
	} else if (argc != 2) {
		fprintf(stderr, "usage: crpidns PREFIX [nested | unshared]\n");
		return 2;
	}
	prefix = argv[1];
	i = clone(init, stack + sizeof(stack), CLONE_NEWPID | SIGCHLD, (void *)(long)mode);
	if (i < 0) {
		perror("clone(CLONE_NEWPID)");
		return 1;
	}
	snprintf(text, sizeof(text), "%d\n", (int)i);
	write_file("init", text, "w");
	while (waitpid(i, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
