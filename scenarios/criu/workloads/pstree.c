/*
 * pstree: a process tree that judges itself after checkpoint/restart.
 *
 *   pstree PREFIX
 *
 * The root (run as a session leader) forks "worker" (in the root's process group) and "leader"
 * (a process group of its own), and "leader" forks "grandchild". Each task keeps a counter in
 * memory, appends "ROLE N" to PREFIX.ROLE every 100 ms, and checks every tick that its parent,
 * process group and session are what they were when the tree was built. The root writes
 * PREFIX.ready once all four run. On SIGUSR1 the root passes it down the tree; each task exits
 * with 0 if every check held (1 otherwise) after reaping its own children, whose exit statuses it
 * checks: so a restore that lost a parent/child link or a wait status fails. The root writes
 * PASS or "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static const char *prefix;
static char failure[200];

static void on_usr1(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void fail(const char *role, const char *why)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s: %s", role, why);
}

static void write_file(const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/*
 * Tick until SIGUSR1, checking the task's relations (ppid 0: the root, whose parent is whoever
 * started or restored it); pass SIGUSR1 on to the children and reap them.
 */
static int live(const char *role, pid_t ppid, pid_t pgrp, pid_t sid, const pid_t *kids, int nkids)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	char path[4096], line[64];
	unsigned long counter = 0;
	FILE *log;
	int i, status;

	snprintf(path, sizeof(path), "%s.%s", prefix, role);
	log = fopen(path, "a");
	if (!log)
		return 2;
	setvbuf(log, NULL, _IOLBF, 0);
	while (!stop_requested) {
		counter++;
		fprintf(log, "%s %lu\n", role, counter);
		if (ppid && getppid() != ppid)
			fail(role, "parent changed");
		if (getpgrp() != pgrp)
			fail(role, "process group changed");
		if (getsid(0) != sid)
			fail(role, "session changed");
		nanosleep(&tick, NULL);
	}
	for (i = 0; i < nkids; i++)
		if (kill(kids[i], SIGUSR1))
			fail(role, "cannot signal a child");
	for (i = 0; i < nkids; i++) {
		if (waitpid(kids[i], &status, 0) != kids[i]) {
			snprintf(line, sizeof(line), "waitpid: %s", strerror(errno));
			fail(role, line);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fail(role, "a child failed its checks");
		}
	}
	fclose(log);
	return failure[0] ? 1 : 0;
}

int main(int argc, char **argv)
{
	pid_t root = getpid(), kids[2], grandchild;
	struct sigaction sa;
	int pfd[2];
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: pstree PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	if (getsid(0) != root) {
		fprintf(stderr, "pstree: run me as a session leader (setsid)\n");
		return 2;
	}
	if (pipe(pfd))
		return 2;
	kids[0] = fork();
	if (kids[0] == 0) {
		close(pfd[0]);
		close(pfd[1]);
		return live("worker", root, root, root, NULL, 0);
	}
	kids[1] = fork();
	if (kids[1] == 0) {
		pid_t self = getpid();

		setpgid(0, 0);
		grandchild = fork();
		if (grandchild == 0) {
			close(pfd[0]);
			if (write(pfd[1], "g", 1) != 1)
				return 2;
			close(pfd[1]);
			return live("grandchild", self, self, root, NULL, 0);
		}
		close(pfd[0]);
		close(pfd[1]);
		return live("leader", root, self, root, &grandchild, 1);
	}
	close(pfd[1]);
	/* the grandchild runs (and its parent is in its own group) once it wrote */
	if (read(pfd[0], &c, 1) != 1 || kids[0] < 0 || kids[1] < 0)
		return 2;
	close(pfd[0]);
	write_file("ready", "ready\n");
	if (live("root", 0, root, root, kids, 2) == 0) {
		write_file("result", "PASS\n");
	} else {
		char text[sizeof(failure) + 8];

		snprintf(text, sizeof(text), "FAIL: %s\n", failure);
		write_file("result", text);
	}
	return 0;
}
