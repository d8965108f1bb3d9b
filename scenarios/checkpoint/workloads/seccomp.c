/*
 * seccomp: a task with a seccomp filter, which checkpoint must refuse with
 * EOPNOTSUPP rather than restore it without the filter (issue 10).
 *
 *   seccomp hold          sets no_new_privs, installs a filter that allows
 *                         every call, prints "ready PID" and pause()s.
 * stdio must be regular files or /dev/null (checkpoint refuses pipes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

int main(int argc, char **argv)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { 1, allow };

	if (argc != 2 || strcmp(argv[1], "hold")) {
		fprintf(stderr, "usage: seccomp hold\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		printf("seccomp: %s\n", strerror(errno));
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
