/*
 * leases: file leases that restart must restore (issue 10).
 *
 *   leases hold DIR RES   in DIR (created): a read lease on DIR/r (open
 *                         read-only) and a write lease on DIR/w, their
 *                         break signal F_SETSIG SIGRTMIN (SA_SIGINFO).
 *                         Prints "ready PID", pause()s until SIGUSR1, then
 *                         checks F_GETLEASE of both, and that a child's open
 *                         of DIR/w for reading breaks the write lease: the
 *                         signal comes with si_fd of w's descriptor, the
 *                         lease is then released and the child's open
 *                         completes.  Writes PASS or "FAIL: what" to RES.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static volatile sig_atomic_t go, broke_fd = -1;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_break(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	broke_fd = si->si_fd;
}

static void die(const char *what)
{
	fprintf(stderr, "leases: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int hold(const char *dir, const char *res)
{
	char r[4200], w[4200], msg[256] = "PASS";
	struct sigaction sa = { 0 };
	int fr, fw, st, i;
	sigset_t none;
	pid_t child;
	FILE *f;

	signal(SIGUSR1, on_usr1);
	sa.sa_sigaction = on_break;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	if (mkdir(dir, 0755) && errno != EEXIST)
		die(dir);
	snprintf(r, sizeof(r), "%s/r", dir);
	snprintf(w, sizeof(w), "%s/w", dir);
	for (i = 0; i < 2; i++) {
		int fd = open(i ? w : r, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, "data\n", 5) != 5 || close(fd))
			die("create");
	}
	fr = open(r, O_RDONLY);
	fw = open(w, O_RDONLY);
	if (fr < 0 || fw < 0 || fcntl(fr, F_SETLEASE, F_RDLCK) ||
	    fcntl(fw, F_SETLEASE, F_WRLCK) || fcntl(fw, F_SETSIG, SIGRTMIN))
		die("F_SETLEASE");
	printf("ready %d\n", getpid());
	fflush(stdout);
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);

	if (fcntl(fr, F_GETLEASE) != F_RDLCK)
		snprintf(msg, sizeof(msg), "FAIL: r: F_GETLEASE %d, want F_RDLCK", fcntl(fr, F_GETLEASE));
	else if (fcntl(fw, F_GETLEASE) != F_WRLCK)
		snprintf(msg, sizeof(msg), "FAIL: w: F_GETLEASE %d, want F_WRLCK", fcntl(fw, F_GETLEASE));
	else if (fcntl(fw, F_GETSIG) != SIGRTMIN)
		snprintf(msg, sizeof(msg), "FAIL: w: F_GETSIG %d", fcntl(fw, F_GETSIG));
	if (strcmp(msg, "PASS"))
		goto out;
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		/* breaks the write lease: blocks until it is released */
		_exit(open(w, O_RDONLY) < 0 ? 1 : 0);
	}
	alarm(30);
	while (broke_fd < 0)
		sigsuspend(&none);
	if (broke_fd != fw)
		snprintf(msg, sizeof(msg), "FAIL: lease break signal for fd %d, want %d",
			 (int)broke_fd, fw);
	if (fcntl(fw, F_SETLEASE, F_UNLCK))
		die("F_UNLCK");
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		snprintf(msg, sizeof(msg), "FAIL: the breaker's open failed");
out:
	f = fopen(res, "w");
	if (!f)
		return 1;
	fprintf(f, "%s\n", msg);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], argv[3]);
	fprintf(stderr, "usage: leases hold DIR RES\n");
	return 2;
}
