// SPDX-License-Identifier: GPL-2.0
/*
 * crstop: processes stopped and continued by job control, judging themselves.
 *
 *   crstop PREFIX
 *
 * The root R has three children, each in a process group of its own (as a shell's jobs) and
 * appending "tick N" to a file of its own every 50 ms:
 *   A (PREFIX.a) stopped by SIGSTOP, and R has waited for that stop (WUNTRACED): reported;
 *   B (PREFIX.b0, PREFIX.b1: two threads) stopped by SIGTSTP, the stop not waited for;
 *   C (PREFIX.c) stopped, then continued by SIGCONT, the continue not waited for (WCONTINUED).
 * Once all three are so, R writes "A B C" (their pids) to PREFIX.ids and PREFIX.ready.
 *
 * SIGUSR1 to R: R checks what wait() reports, which must be what it would have reported before a
 * checkpoint: nothing for A (its stop was reported), B's stop by SIGTSTP, C's continue; that A and
 * both threads of B are stopped (state T, no tick for 500 ms) and C ticks; then it continues A and
 * B with SIGCONT, checks that A and both of B's threads tick again and that wait() reports A's
 * continue, ends the three (SIGTERM) and writes PASS or "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static const char *prefix;
static char failure[256];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void fail(const char *why, long a, long b)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s (%ld, %ld)", why, a, b);
}

static void path_of(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s.%s", prefix, name);
}

static void write_file(const char *name, const char *text, const char *mode)
{
	char path[4096];
	FILE *f;

	path_of(path, sizeof(path), name);
	f = fopen(path, mode);
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static long lines_of(const char *name)
{
	char path[4096];
	long n = 0;
	FILE *f;
	int c;

	path_of(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* the state letter of /proc/PID/task/TID/stat */
static char state_of(pid_t pid, pid_t tid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state;
}

static void *ticker(void *arg)
{
	const char *name = arg;
	char line[64];
	int n = 0;

	for (;;) {
		snprintf(line, sizeof(line), "tick %d\n", ++n);
		write_file(name, line, "a");
		sleep_ms(50);
	}
	return NULL;
}

static pid_t b_thread;

static pid_t child(const char *name, int threads)
{
	pid_t pid = fork();
	pthread_t t;

	if (pid)
		return pid;
	/*
	 * A process group of its own, as a shell's job: R, its parent, is in
	 * another group of the session, so the group is not orphaned and
	 * SIGTSTP stops it (an orphaned group ignores it).
	 */
	if (setpgid(0, 0))
		_exit(2);
	if (threads) {
		if (pthread_create(&t, NULL, ticker, "b1"))
			_exit(2);
	}
	ticker((void *)name);
	_exit(0);
}

/* the tid of B's second thread, once it has one */
static pid_t second_thread(pid_t b)
{
	char path[64];
	struct dirent *e;
	pid_t tid = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)b);
	for (int i = 0; i < 500 && !tid; i++) {
		d = opendir(path);
		while (d && (e = readdir(d)))
			if (atoi(e->d_name) > 0 && atoi(e->d_name) != b)
				tid = atoi(e->d_name);
		if (d)
			closedir(d);
		if (!tid)
			sleep_ms(10);
	}
	return tid;
}

static int stopped(pid_t pid, pid_t tid)
{
	return state_of(pid, tid) == 'T';
}

static void wait_until(int (*cond)(pid_t, pid_t), pid_t pid, pid_t tid, const char *what)
{
	for (int i = 0; i < 1000; i++) {
		if (cond(pid, tid))
			return;
		sleep_ms(10);
	}
	fail(what, pid, tid);
}

/* true once NAME has grown by a line within 10 s */
static int ticks_again(const char *name)
{
	long n = lines_of(name);

	for (int i = 0; i < 1000; i++) {
		if (lines_of(name) > n)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	long a0, b0, b1, c0;
	pid_t a, b, c, r;
	char text[128];
	sigset_t usr1, old;
	int st;

	if (argc != 2) {
		fprintf(stderr, "usage: crstop PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	sigaction(SIGUSR1, &sa, NULL);
	a = child("a", 0);
	b = child("b0", 1);
	c = child("c", 0);
	b_thread = second_thread(b);
	if (!b_thread)
		return 3;
	while (lines_of("a") < 2 || lines_of("b0") < 2 || lines_of("b1") < 2 || lines_of("c") < 2)
		sleep_ms(10);
	/* A: stopped, the stop reported */
	kill(a, SIGSTOP);
	if (waitpid(a, &st, WUNTRACED) != a || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return 4;
	/* B: stopped (both threads), not reported */
	kill(b, SIGTSTP);
	wait_until(stopped, b, b, "B did not stop");
	wait_until(stopped, b, b_thread, "B's second thread did not stop");
	/* C: stopped (reported), continued (not reported) */
	kill(c, SIGSTOP);
	if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st))
		return 4;
	kill(c, SIGCONT);
	if (!ticks_again("c") || failure[0])
		return 5;
	snprintf(text, sizeof(text), "%d %d %d\n", (int)a, (int)b, (int)c);
	write_file("ids", text, "w");
	write_file("ready", "ready\n", "w");

	while (!go)
		sigsuspend(&old);

	/* what wait() reports is what it would have */
	r = waitpid(a, &st, WUNTRACED | WCONTINUED | WNOHANG);
	if (r != 0)
		fail("wait() reported A again (its stop was reported before)", r, st);
	r = waitpid(b, &st, WUNTRACED | WNOHANG);
	if (r != b || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGTSTP)
		fail("wait() did not report B's stop by SIGTSTP", r, st);
	r = waitpid(c, &st, WCONTINUED | WNOHANG);
	if (r != c || !WIFCONTINUED(st))
		fail("wait() did not report C's continue", r, st);
	r = waitpid(b, &st, WUNTRACED | WNOHANG);
	if (r != 0)
		fail("wait() reported B's stop twice", r, st);
	/* A and B stay stopped, C runs */
	a0 = lines_of("a");
	b0 = lines_of("b0");
	b1 = lines_of("b1");
	c0 = lines_of("c");
	sleep_ms(500);
	if (!stopped(a, a) || !stopped(b, b) || !stopped(b, b_thread))
		fail("A or a thread of B is not stopped", state_of(a, a), state_of(b, b_thread));
	if (lines_of("a") != a0 || lines_of("b0") != b0 || lines_of("b1") != b1)
		fail("a stopped process ticked", lines_of("a") - a0, lines_of("b1") - b1);
	if (lines_of("c") <= c0)
		fail("C (continued) does not tick", c0, lines_of("c"));
	/* SIGCONT goes on as after any stop */
	kill(a, SIGCONT);
	kill(b, SIGCONT);
	if (!ticks_again("a"))
		fail("A does not tick after SIGCONT", a, 0);
	if (!ticks_again("b0") || !ticks_again("b1"))
		fail("a thread of B does not tick after SIGCONT", lines_of("b0"), lines_of("b1"));
	r = waitpid(a, &st, WCONTINUED | WNOHANG);
	if (r != a || !WIFCONTINUED(st))
		fail("wait() did not report A's continue", r, st);
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	kill(c, SIGTERM);
	for (int i = 0; i < 3; i++)
		while (wait(&st) < 0 && errno == EINTR)
			;
	if (failure[0])
		snprintf(text, sizeof(text), "FAIL: %.100s\n", failure);
	else
		snprintf(text, sizeof(text), "PASS\n");
	write_file("result", text, "w");
	return failure[0] ? 1 : 0;
}
