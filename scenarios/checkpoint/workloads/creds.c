/*
 * creds: credentials that restart must restore exactly, or refuse with
 * EPERM when the restarting caller could not set them (issue 10).
 *
 *   creds hold RES        as root: supplementary groups 10,20,30,1000,
 *                         gids 1001/1002/1003 (fs 1003), securebits
 *                         KEEP_CAPS|NOROOT, CAP_SYS_MODULE dropped from
 *                         the bounding set, uids 1000/1001/1002 (fs 1002),
 *                         permitted KILL+NET_RAW, effective KILL,
 *                         inheritable and ambient NET_RAW; then "ready
 *                         PID" and pause() until SIGUSR1; then it compares
 *                         its credentials with what they were and writes
 *                         PASS or "FAIL: what" to RES.
 *   creds hold-plain RES  the same without changing anything (the
 *                         credentials of whoever runs it).
 *   creds restart IMG [LOG]  restart IMG with this program as the caller
 *                         (so that an unprivileged restart keeps the exe).
 * stdio must be regular files or /dev/null (checkpoint refuses pipes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/checkpoint.h>
#include <linux/securebits.h>

#define NCAPS 41	/* CAP_LAST_CAP + 1 in 6.1 */

struct creds {
	uid_t r, e, s, fs;
	gid_t gr, ge, gs, gfs;
	int ngroups;
	gid_t groups[64];
	struct __user_cap_data_struct cap[2];
	unsigned long long bset, amb;
	int securebits;
};

static struct creds saved;
static sig_atomic_t released;

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("creds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void get_creds(struct creds *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	int i;

	memset(c, 0, sizeof(*c));
	getresuid(&c->r, &c->e, &c->s);
	getresgid(&c->gr, &c->ge, &c->gs);
	c->fs = setfsuid(-1);
	c->gfs = setfsgid(-1);
	c->ngroups = getgroups(64, c->groups);
	if (syscall(SYS_capget, &hdr, c->cap))
		die("capget");
	for (i = 0; i < NCAPS; i++) {
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			c->bset |= 1ULL << i;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1)
			c->amb |= 1ULL << i;
	}
	c->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
}

static void set_creds(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cap[2] = { };
	gid_t groups[] = { 10, 20, 30, 1000 };

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0))
		die("PR_CAPBSET_DROP");
	if (prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NOROOT, 0, 0, 0))
		die("PR_SET_SECUREBITS");
	if (setgroups(4, groups))
		die("setgroups");
	if (setresgid(1001, 1002, 1003))
		die("setresgid");
	setfsgid(1003);
	if (setresuid(1000, 1001, 1002))
		die("setresuid");
	setfsuid(1002);
	cap[0].permitted = 1u << CAP_KILL | 1u << CAP_NET_RAW;
	cap[0].effective = 1u << CAP_KILL;
	cap[0].inheritable = 1u << CAP_NET_RAW;
	if (syscall(SYS_capset, &hdr, cap))
		die("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0))
		die("PR_CAP_AMBIENT_RAISE");
}

/* what differs from saved, "" if nothing */
static void check_creds(char *msg, size_t len)
{
	struct creds c;

	get_creds(&c);
	msg[0] = '\0';
	if (c.r != saved.r || c.e != saved.e || c.s != saved.s || c.fs != saved.fs)
		snprintf(msg, len, "FAIL: uids %u %u %u %u, were %u %u %u %u", c.r, c.e, c.s,
			 c.fs, saved.r, saved.e, saved.s, saved.fs);
	else if (c.gr != saved.gr || c.ge != saved.ge || c.gs != saved.gs ||
		 c.gfs != saved.gfs)
		snprintf(msg, len, "FAIL: gids %u %u %u %u, were %u %u %u %u", c.gr, c.ge,
			 c.gs, c.gfs, saved.gr, saved.ge, saved.gs, saved.gfs);
	else if (c.ngroups != saved.ngroups ||
		 memcmp(c.groups, saved.groups, sizeof(c.groups)))
		snprintf(msg, len, "FAIL: %d groups, were %d (or other groups)", c.ngroups,
			 saved.ngroups);
	else if (memcmp(c.cap, saved.cap, sizeof(c.cap)))
		snprintf(msg, len, "FAIL: capabilities eff %#x prm %#x inh %#x, were %#x %#x %#x",
			 c.cap[0].effective, c.cap[0].permitted, c.cap[0].inheritable,
			 saved.cap[0].effective, saved.cap[0].permitted,
			 saved.cap[0].inheritable);
	else if (c.bset != saved.bset)
		snprintf(msg, len, "FAIL: bounding set %#llx, was %#llx", c.bset, saved.bset);
	else if (c.amb != saved.amb)
		snprintf(msg, len, "FAIL: ambient %#llx, was %#llx", c.amb, saved.amb);
	else if (c.securebits != saved.securebits)
		snprintf(msg, len, "FAIL: securebits %#x, were %#x", c.securebits,
			 saved.securebits);
}

static int mode_hold(const char *res, int set)
{
	char msg[256];
	int fd;

	signal(SIGUSR1, on_usr1);
	if (set)
		set_creds();
	get_creds(&saved);
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();
	check_creds(msg, sizeof(msg));
	fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(res);
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
	ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	printf("creds: restart returned %ld: %s (errno %d)\n", ret, strerror(errno), errno);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return mode_hold(argv[2], 1);
	if (argc == 3 && !strcmp(argv[1], "hold-plain"))
		return mode_hold(argv[2], 0);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "restart"))
		return mode_restart(argc - 2, argv + 2);
	fprintf(stderr, "usage: creds hold RES | hold-plain RES | restart IMG [LOG]\n");
	return 2;
}
