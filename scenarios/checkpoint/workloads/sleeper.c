/*
 * sleeper: a task frozen (cgroup v2 freezer) inside a relative sleep is
 * restarted with the time it had left, not its whole interval again
 * (issue 10).
 *
 *   sleeper KIND SECS RES   prints "ready PID", then sleeps SECS seconds
 *                           with KIND: nanosleep (the raw call, on
 *                           CLOCK_MONOTONIC), clock_nanosleep (relative,
 *                           CLOCK_BOOTTIME), poll
 *                           (no fds, a timeout), futex (FUTEX_WAIT with a
 *                           relative timeout, on a word nobody wakes) or
 *                           select (no fds, a timeout: the kernel writes the
 *                           time left into it and the call is made again,
 *                           no restart block).  When
 *                           the call returns it writes to RES "PASS woke T"
 *                           (T: CLOCK_REALTIME seconds), or "FAIL: what" if
 *                           the call did not return what an uninterrupted
 *                           one returns (0, or ETIMEDOUT for the futex).
 * stdio must be regular files or /dev/null (checkpoint refuses pipes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 0 }, rem = { 0, 0 }, now;
	struct timeval tv = { 0, 0 };
	static unsigned int word;
	char msg[256];
	long ret;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: sleeper nanosleep|clock_nanosleep|poll|futex|select SECS RES\n");
		return 2;
	}
	ts.tv_sec = atoi(argv[2]);
	tv.tv_sec = ts.tv_sec;
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!strcmp(argv[1], "nanosleep"))
		ret = syscall(SYS_nanosleep, &ts, &rem);
	else if (!strcmp(argv[1], "clock_nanosleep"))
		ret = syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &ts, &rem);
	else if (!strcmp(argv[1], "poll"))
		ret = syscall(SYS_poll, NULL, 0, (int)ts.tv_sec * 1000);
	else if (!strcmp(argv[1], "futex"))
		ret = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0) ? -errno : 0;
	else if (!strcmp(argv[1], "select"))
		ret = syscall(SYS_select, 0, NULL, NULL, NULL, &tv);
	else
		return 2;
	clock_gettime(CLOCK_REALTIME, &now);
	if (ret && !(ret == -ETIMEDOUT && !strcmp(argv[1], "futex")))
		snprintf(msg, sizeof(msg), "FAIL: %s returned %ld (errno %d)", argv[1], ret, errno);
	else
		snprintf(msg, sizeof(msg), "PASS woke %ld", (long)now.tv_sec);
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	dprintf(fd, "%s\n", msg);
	close(fd);
	return 0;
}
