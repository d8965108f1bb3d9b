/*
 * restart_self.h: restart an image with the calling program as the restarting task, the way an
 * unprivileged user must (restart keeps the caller's exe, and an image of another program is
 * refused EPERM). Included by workloads that have a "restart IMG LOG" mode.
 */
#ifndef RESTART_SELF_H
#define RESTART_SELF_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/checkpoint.h>

/* restart(2) IMG in place of this task, diagnostics to LOG; returns only on failure */
static int restart_img(const char *prog, const char *img, const char *log)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	long ret;

	if (fd < 0 || logfd < 0) {
		perror(fd < 0 ? img : log);
		return 2;
	}
	ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	printf("%s: restart returned %ld: %s (errno %d)\n", prog, ret, strerror(errno), errno);
	return 1;
}

#endif
