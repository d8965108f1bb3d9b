/*
 * seccomp: seccomp state that restart must restore, or checkpoint refuse
 * (issue 10).
 *
 *   seccomp hold RES      sets no_new_privs and installs two filters: the
 *                         first makes getppid() fail with errno 77, the
 *                         second (SECCOMP_FILTER_FLAG_LOG) getsid() with 78;
 *                         prints "ready PID", pause()s until SIGUSR1, then
 *                         checks both filters act, that other calls pass,
 *                         and /proc/self/status (Seccomp 2, 2 filters,
 *                         NoNewPrivs 1); writes PASS or "FAIL: what" to RES.
 *   seccomp hold-as UID RES  as hold, run by root: installs the filters
 *                         without no_new_privs (root may), then drops to
 *                         uid, gid and group UID (no capabilities left), so that
 *                         the image is of that user but its filters need
 *                         CAP_SYS_ADMIN to be installed; checks NoNewPrivs 0.
 *   seccomp restart IMG LOG  restarts IMG with seccomp as the caller (so
 *                         that an unprivileged restart keeps the exe), LOG its
 *                         logfd; prints the error if it fails.
 *   seccomp strict FIFO   opens FIFO read-write, enters strict mode, prints
 *                         "ready PID" and blocks in read(); when a byte
 *                         comes it writes "strict read X" to stdout, then
 *                         makes a forbidden call (getpid: strict mode kills
 *                         it) and would write "FAIL: getpid allowed".
 *   seccomp listener      a filter with a user-notification listener
 *                         (refused at checkpoint); prints "ready PID".
 *   seccomp exec CMD...   installs an allow-all filter and executes CMD (a
 *                         caller with seccomp of its own).
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/checkpoint.h>

#include "restart_self.h"
#include <linux/filter.h>
#include <linux/seccomp.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/* a filter: @nr fails with errno @err, every other call is allowed */
static int deny(int nr, int err, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static void die(const char *what)
{
	printf("seccomp: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* the value of "Key:" in /proc/self/status, -1 if absent */
static long status(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/* @uid < 0: no_new_privs, then the filters; else the filters, then uid @uid */
static int hold(const char *res, long uid)
{
	char msg[256] = "PASS";
	sigset_t none;
	long r;
	FILE *f;

	signal(SIGUSR1, on_usr1);
	if ((uid < 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) || deny(SYS_getppid, 77, 0) ||
	    deny(SYS_getsid, 78, SECCOMP_FILTER_FLAG_LOG))
		die("filters");
	/* the user's group: gid @uid, its only supplementary group (as lab's) */
	if (uid >= 0 && (setgroups(1, &(gid_t){ uid }) || setresgid(uid, uid, uid) ||
			 setresuid(uid, uid, uid)))
		die("dropping to the user");
	printf("ready %d\n", getpid());
	fflush(stdout);
	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
	errno = 0;
	r = syscall(SYS_getppid);
	if (r != -1 || errno != 77)
		snprintf(msg, sizeof(msg), "FAIL: getppid gave %ld errno %d, want errno 77", r, errno);
	errno = 0;
	r = syscall(SYS_getsid, 0);
	if (r != -1 || errno != 78)
		snprintf(msg, sizeof(msg), "FAIL: getsid gave %ld errno %d, want errno 78", r, errno);
	if (syscall(SYS_getpid) <= 0)
		snprintf(msg, sizeof(msg), "FAIL: getpid denied");
	if (status("Seccomp:") != 2 || status("Seccomp_filters:") != 2 ||
	    status("NoNewPrivs:") != (uid < 0))
		snprintf(msg, sizeof(msg), "FAIL: status Seccomp %ld filters %ld NoNewPrivs %ld",
			 status("Seccomp:"), status("Seccomp_filters:"), status("NoNewPrivs:"));
	f = fopen(res, "w");
	if (!f)
		return 1;
	fprintf(f, "%s\n", msg);
	fclose(f);
	return 0;
}

static int strict(const char *fifo)
{
	char c, line[32];
	int fd = open(fifo, O_RDWR), n;

	if (fd < 0)
		die(fifo);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		die("strict");
	if (read(fd, &c, 1) != 1)
		syscall(SYS_exit, 3);
	n = snprintf(line, sizeof(line), "strict read %c\n", c);
	if (write(1, line, n) != n)
		syscall(SYS_exit, 4);
	syscall(SYS_getpid);
	n = snprintf(line, sizeof(line), "FAIL: getpid allowed\n");
	if (write(1, line, n) != n)
		syscall(SYS_exit, 5);
	syscall(SYS_exit, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return restart_img("seccomp", argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2], -1);
	if (argc == 4 && !strcmp(argv[1], "hold-as"))
		return hold(argv[3], strtol(argv[2], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "strict"))
		return strict(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "listener")) {
		struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, f };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) < 0)
			die("listener");
		printf("ready %d\n", getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc >= 3 && !strcmp(argv[1], "exec")) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || deny(SYS_getppid, 77, 0))
			die("filter");
		execvp(argv[2], argv + 2);
		die(argv[2]);
	}
	fprintf(stderr, "usage: seccomp hold RES | hold-as UID RES | restart IMG LOG | strict FIFO | listener | exec CMD...\n");
	return 2;
}
