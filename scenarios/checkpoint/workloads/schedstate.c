/*
 * schedstate: scheduling state and the auxiliary vector, which restart
 * must restore exactly or refuse (issue 10).
 *
 *   schedstate hold RES NICE [CPU]  nice NICE, SCHED_BATCH with
 *                         SCHED_RESET_ON_FORK, affinity to CPU (if given),
 *                         I/O priority best-effort 6, coredump_filter 0x7b
 *                         (where the kernel has it: CONFIG_ELF_CORE),
 *                         PR_SET_THP_DISABLE;
 *                         keeps a copy of /proc/self/auxv; "ready PID", then
 *                         pause() until SIGUSR1; then compares policy,
 *                         flag, nice, affinity, I/O priority, coredump
 *                         filter, THP disable and /proc/self/auxv with what
 *                         they were and writes PASS or "FAIL: what" to RES.
 *   schedstate restart IMG [LOG [NICE]]  restart IMG with this program as
 *                         the caller (an unprivileged restart keeps the exe),
 *                         at nice NICE if given.
 * stdio must be regular files or /dev/null (checkpoint refuses pipes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/checkpoint.h>

#define IOPRIO_BE6	((2 << 13) | 6)	/* IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 6) */

static sig_atomic_t released;

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("schedstate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die(path);
	n = read(fd, buf, len);
	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

static int mode_hold(char **argv, int argc)
{
	struct sched_param sp = { 0 };
	char auxv[4096], now[4096], filter[32], msg[256] = "";
	size_t alen, nlen;
	cpu_set_t set, got;
	int nice_want = atoi(argv[1]), pol, fd, has_filter;

	signal(SIGUSR1, on_usr1);
	if (setpriority(PRIO_PROCESS, 0, nice_want))
		die("setpriority");
	if (sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp))
		die("sched_setscheduler");
	CPU_ZERO(&set);
	if (argc > 2) {
		CPU_SET(atoi(argv[2]), &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity");
	} else {
		sched_getaffinity(0, sizeof(set), &set);
	}
	if (syscall(SYS_ioprio_set, 1, 0, IOPRIO_BE6))
		die("ioprio_set");
	/* only with CONFIG_ELF_CORE */
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	if (fd < 0 && errno != ENOENT)
		die("coredump_filter");
	if (fd >= 0 && write(fd, "0x7b", 4) != 4)
		die("coredump_filter");
	has_filter = fd >= 0;
	if (fd >= 0)
		close(fd);
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("PR_SET_THP_DISABLE");
	alen = read_file("/proc/self/auxv", auxv, sizeof(auxv));
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();

	pol = sched_getscheduler(0);
	errno = 0;
	sched_getaffinity(0, sizeof(got), &got);
	nlen = read_file("/proc/self/auxv", now, sizeof(now));
	memset(filter, 0, sizeof(filter));
	if (has_filter)
		read_file("/proc/self/coredump_filter", filter, sizeof(filter) - 1);
	if (pol != (SCHED_BATCH | SCHED_RESET_ON_FORK))
		snprintf(msg, sizeof(msg), "FAIL: policy %#x", pol);
	else if (getpriority(PRIO_PROCESS, 0) != nice_want)
		snprintf(msg, sizeof(msg), "FAIL: nice %d, was %d", getpriority(PRIO_PROCESS, 0),
			 nice_want);
	else if (!CPU_EQUAL(&set, &got))
		snprintf(msg, sizeof(msg), "FAIL: affinity of %d CPUs, was %d", CPU_COUNT(&got),
			 CPU_COUNT(&set));
	else if (syscall(SYS_ioprio_get, 1, 0) != IOPRIO_BE6)
		snprintf(msg, sizeof(msg), "FAIL: I/O priority %#lx", syscall(SYS_ioprio_get, 1, 0));
	else if (has_filter && strcmp(filter, "0000007b\n"))
		snprintf(msg, sizeof(msg), "FAIL: coredump_filter %s", filter);
	else if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
		snprintf(msg, sizeof(msg), "FAIL: THP disable is off");
	else if (nlen != alen || memcmp(auxv, now, alen))
		snprintf(msg, sizeof(msg), "FAIL: /proc/self/auxv of %zu bytes differs (was %zu)",
			 nlen, alen);
	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(argv[0]);
	dprintf(fd, "%s\n", msg[0] ? msg : "PASS");
	close(fd);
	return 0;
}

static int mode_restart(int argc, char **argv)
{
	int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	int logfd = CHECKPOINT_FD_NONE;
	long ret;

	if (argc > 1)
		logfd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (argc > 2 && setpriority(PRIO_PROCESS, 0, atoi(argv[2])))
		die("setpriority");
	ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	printf("schedstate: restart returned %ld: %s (errno %d)\n", ret, strerror(errno), errno);
	return 1;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hold"))
		return mode_hold(argv + 2, argc - 2);
	if (argc >= 3 && argc <= 5 && !strcmp(argv[1], "restart"))
		return mode_restart(argc - 2, argv + 2);
	fprintf(stderr, "usage: schedstate hold RES NICE [CPU] | restart IMG [LOG [NICE]]\n");
	return 2;
}
