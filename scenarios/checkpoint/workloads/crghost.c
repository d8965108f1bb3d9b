// SPDX-License-Identifier: GPL-2.0
/*
 * crghost: a session and a process group whose leaders have exited, judging itself.
 *
 *   crghost PREFIX
 *
 * The root R (a child subreaper) forks L, which makes a session of its own (setsid); L forks G,
 * which makes a process group of its own in it; G forks M (in G's group), and M forks M2 (also in
 * G's group). Then G exits (L reaps it) and L exits (R reaps it): the pids of G and L now only
 * name the group and the session of M and M2, and M is R's child (R is the subreaper). Once that is
 * so, R writes "M M2 G L" (their pids) to PREFIX.ids and PREFIX.ready. M and M2 check, every tick,
 * their parent, process group (G) and session (L); M2 appends "tick N" to PREFIX.tick.
 *
 * SIGUSR1 to R: R checks that the group G still has members and that no task has the pid of G or
 * L (their leaders are dead: no placeholder is left), passes the signal to M and M2, which exit 0
 * if their checks held; R reaps M (M reaps M2) and writes PASS or "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

static void check(const char *role, pid_t ppid, pid_t pgrp, pid_t sid)
{
	char why[128];

	if (getppid() != ppid || getpgrp() != pgrp || getsid(0) != sid) {
		snprintf(why, sizeof(why), "ppid %d pgrp %d sid %d, expected %d %d %d",
			 getppid(), getpgrp(), getsid(0), ppid, pgrp, sid);
		fail(role, why);
	}
}

static pid_t ppid_of(pid_t pid)
{
	char path[64];
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%*d %*s %*c %d", &ppid) != 1)
		ppid = -1;
	fclose(f);
	return ppid;
}

static void m2(pid_t m, pid_t g, pid_t l)
{
	char line[64];
	int n = 0;

	while (!stop) {
		check("M2", m, g, l);
		snprintf(line, sizeof(line), "tick %d\n", ++n);
		write_file("tick", line, "a");
		sleep_ms(100);
	}
	exit(failure[0] ? 1 : 0);
}

/* M: in G's group of L's session; R's child once G and L are gone */
static void m(pid_t r, pid_t g, pid_t l, int ready)
{
	pid_t me = getpid(), c = fork(), ids[2] = { me, c };
	int st;

	if (c == 0)
		m2(me, g, l);
	if (write(ready, ids, sizeof(ids)) != sizeof(ids))
		exit(3);
	close(ready);
	while (getppid() != r)
		sleep_ms(5);
	while (!stop) {
		check("M", r, g, l);
		sleep_ms(100);
	}
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("M", "M2 did not exit 0");
	exit(failure[0] ? 1 : 0);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t r = getpid(), l, g = 0, mm = 0, mm2 = 0, ids[2];
	int p[2], st;
	char text[300];

	if (argc != 2) {
		fprintf(stderr, "usage: crghost PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	sigaction(SIGUSR1, &sa, NULL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(p))
		return 2;
	l = fork();
	if (l == 0) {
		/* L: a session; G a group in it, with M and M2; then both leaders go */
		close(p[0]);
		if (setsid() < 0)
			_exit(3);
		g = fork();
		if (g == 0) {
			if (setpgid(0, 0))
				_exit(3);
			mm = fork();
			if (mm == 0)
				m(r, getpgrp(), getsid(0), p[1]);
			/* until R has M's and M2's pids */
			while (!stop)
				sleep_ms(10);
			_exit(0);
		}
		close(p[1]);
		while (waitpid(g, &st, 0) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], ids, sizeof(ids)) != sizeof(ids))
		return 2;
	close(p[0]);
	mm = ids[0];
	mm2 = ids[1];
	g = getpgid(mm);
	if (getsid(mm) != l || g == l || g == mm)
		return 4;
	kill(g, SIGUSR1);	/* G exits, then L */
	while (waitpid(l, &st, 0) < 0 && errno == EINTR)
		;
	/* G gone, M ours */
	while (kill(g, 0) == 0 || ppid_of(mm) != r)
		sleep_ms(5);
	snprintf(text, sizeof(text), "%d %d %d %d\n", (int)mm, (int)mm2, (int)g, (int)l);
	write_file("ids", text, "w");
	write_file("ready", "ready\n", "w");
	while (!stop)
		sleep_ms(100);
	if (kill(-g, 0))
		fail("R", "the process group of the dead leader has no member");
	if (kill(g, 0) == 0 || errno != ESRCH || kill(l, 0) == 0 || errno != ESRCH)
		fail("R", "a task has the pid of a dead leader (a ghost left behind)");
	if (getpgid(mm) != g || getsid(mm) != l || getpgid(mm2) != g || getsid(mm2) != l)
		fail("R", "M or M2 is not in the dead leaders' group and session");
	kill(mm, SIGUSR1);
	kill(mm2, SIGUSR1);
	while (waitpid(mm, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("R", "M did not exit 0");
	snprintf(text, sizeof(text), "%s%s\n", failure[0] ? "FAIL: " : "PASS", failure);
	write_file("result", text, "w");
	return 0;
}
