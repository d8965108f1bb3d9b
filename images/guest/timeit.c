// SPDX-License-Identifier: GPL-2.0
/*
 * timeit: run a shell command and say how long it took, by the guest's CLOCK_MONOTONIC.
 *
 *   timeit CMD      runs sh -c CMD; prints "timeit: S.SSSSSS s" on stderr, exits with CMD's status
 *
 * /proc/uptime has 10 ms steps and busybox's date no sub-second field; the benchmarks time guest
 * commands with this instead (under TCG the lab gives the guest the host's TSC as its clock).
 */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double t0;
	pid_t pid;
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: timeit CMD\n");
		return 2;
	}
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("timeit: fork");
		return 2;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", argv[1], (char *)NULL);
		perror("timeit: exec /bin/sh");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("timeit: waitpid");
		return 2;
	}
	fprintf(stderr, "timeit: %.6f s\n", now() - t0);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
