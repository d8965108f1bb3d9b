/*
 * procstate: process state that restart must restore exactly or refuse
 * (issue 10, first items): working directory, umask, the 16 rlimits.
 *
 *   procstate run DIR IMG RES   chdir DIR, umask 027, set some rlimits,
 *                               self checkpoint into IMG.  Restarted, it
 *                               compares cwd, umask and every rlimit with
 *                               what it had, and writes PASS or
 *                               "FAIL: what" to RES (an absolute path).
 *                               Also: personality, oom_score_adj 500,
 *                               timer slack (current and default), child
 *                               subreaper, no_new_privs, dumpable 0 and
 *                               pdeath signal (set_task_state()).
 *   procstate hold RES          the same task state, "ready PID", then
 *                               pause() until SIGUSR1 (for an external
 *                               checkpoint by the lab's steps); then
 *                               checks it and writes PASS/FAIL to RES.
 *   procstate restart IMG [LOG] restart IMG with this program as caller
 *                               (an unprivileged restart keeps the exe).
 *   procstate restart-nnp IMG [LOG]  the same with no_new_privs set on
 *                               the caller: an image without it is EPERM.
 *   procstate deleted IMG LOG   self checkpoint from a removed directory:
 *                               must fail with ENOENT ("deleted").
 *   procstate clonefs IMG LOG   self checkpoint while a CLONE_FS sibling
 *                               shares root, cwd and umask: EBUSY.
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
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/checkpoint.h>

static struct rlimit saved[RLIM_NLIMITS];
static char saved_cwd[4096];
static mode_t saved_umask;

/* issue 10: prctl() and /proc state of the task, set and checked */
#define PS_PERSONALITY	(PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC)
#define PS_OOM_ADJ	500
#define PS_SLACK	123457UL
#define PS_SLACK_DEF	77777UL
#define PS_PDEATHSIG	SIGWINCH

static int read_oom_adj(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	if (fd >= 0)
		close(fd);
	return buf[0] ? atoi(buf) : -9999;
}

static void die(const char *what)
{
	printf("procstate: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * The default timer slack is the parent's slack at fork: set it, fork,
 * and go on in the child (the parent waits and passes its exit status).
 */
static void set_task_state(void)
{
	int fd, status;
	pid_t c;

	if (prctl(PR_SET_TIMERSLACK, PS_SLACK_DEF, 0, 0, 0))
		die("PR_SET_TIMERSLACK");
	c = fork();
	if (c < 0)
		die("fork");
	if (c > 0) {
		if (waitpid(c, &status, 0) != c)
			die("waitpid");
		exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	if (prctl(PR_SET_TIMERSLACK, PS_SLACK, 0, 0, 0))
		die("PR_SET_TIMERSLACK");
	if (personality(PS_PERSONALITY) < 0)
		die("personality");
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || dprintf(fd, "%d", PS_OOM_ADJ) < 0 || close(fd))
		die("oom_score_adj");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		die("PR_SET_CHILD_SUBREAPER");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		die("PR_SET_DUMPABLE");
	if (prctl(PR_SET_PDEATHSIG, PS_PDEATHSIG, 0, 0, 0))
		die("PR_SET_PDEATHSIG");
}

/* "" if the task state is what set_task_state() made, else what differs */
static void check_task_state(char *msg, size_t len)
{
	int v = 0, pers = personality(0xffffffff);
	long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), def;

	prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);	/* back to the default */
	def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	msg[0] = 0;
	if (pers != PS_PERSONALITY)
		snprintf(msg, len, "FAIL: personality %#x, was %#x", pers, PS_PERSONALITY);
	else if (read_oom_adj() != PS_OOM_ADJ)
		snprintf(msg, len, "FAIL: oom_score_adj %d, was %d", read_oom_adj(), PS_OOM_ADJ);
	else if (slack != (long)PS_SLACK)
		snprintf(msg, len, "FAIL: timer slack %ld, was %lu", slack, PS_SLACK);
	else if (def != (long)PS_SLACK_DEF)
		snprintf(msg, len, "FAIL: default timer slack %ld, was %lu", def, PS_SLACK_DEF);
	else if (prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0) || v != 1)
		snprintf(msg, len, "FAIL: child subreaper %d, was 1", v);
	else if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		snprintf(msg, len, "FAIL: no_new_privs clear, was set");
	else if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		snprintf(msg, len, "FAIL: dumpable %d, was 0",
			 (int)prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	else if (prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0) || v != PS_PDEATHSIG)
		snprintf(msg, len, "FAIL: pdeath signal %d, was %d", v, PS_PDEATHSIG);
}

static void write_result(const char *path, const char *msg)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		dprintf(fd, "%s\n", msg);
		close(fd);
	}
}

/* set by the handler; pause() is a call, so the loop reads it again */
static sig_atomic_t released;

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static int mode_hold(char **argv)
{
	char msg[256];

	signal(SIGUSR1, on_usr1);
	set_task_state();
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d\n", getpid());
	while (!released)
		pause();
	check_task_state(msg, sizeof(msg));
	write_result(argv[0], msg[0] ? msg : "PASS");
	return 0;
}

static void set_limit(int res, rlim_t cur, rlim_t max)
{
	struct rlimit r = { cur, max };

	if (setrlimit(res, &r)) {
		printf("procstate: setrlimit %d: %s\n", res, strerror(errno));
		exit(1);
	}
}

static int mode_run(char **argv)
{
	char cwd[4096], msg[8448] = "PASS";
	mode_t mask;
	long ret;
	int fd, i;

	if (chdir(argv[0])) {
		printf("procstate: chdir %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	set_task_state();
	umask(027);
	set_limit(RLIMIT_NOFILE, 512, 2048);
	set_limit(RLIMIT_STACK, 4 << 20, RLIM_INFINITY);
	set_limit(RLIMIT_CORE, 0, 1 << 20);
	set_limit(RLIMIT_CPU, 1000, RLIM_INFINITY);
	{
		struct rlimit np;

		/* lower than the default, which depends on the memory */
		getrlimit(RLIMIT_NPROC, &np);
		np.rlim_max = np.rlim_max > 400 ? 400 : np.rlim_max - 1;
		set_limit(RLIMIT_NPROC, np.rlim_max - 1, np.rlim_max);
	}
	for (i = 0; i < RLIM_NLIMITS; i++)
		getrlimit(i, &saved[i]);
	if (!getcwd(saved_cwd, sizeof(saved_cwd)))
		return 1;
	saved_umask = umask(027);

	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		printf("procstate: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, CHECKPOINT_FD_NONE);
	if (ret < 0) {
		printf("procstate: checkpoint: %s\n", strerror(errno));
		return 1;
	}
	if (ret > 0) {
		printf("procstate: checkpointed in %s, umask %03o, id %ld\n",
		       saved_cwd, saved_umask, ret);
		return 0;
	}
	/* restarted */
	close(fd);
	mask = umask(0);
	umask(mask);
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(getcwd: %s)", strerror(errno));
	if (strcmp(cwd, saved_cwd))
		snprintf(msg, sizeof(msg), "FAIL: cwd %s, was %s", cwd, saved_cwd);
	else if (mask != saved_umask)
		snprintf(msg, sizeof(msg), "FAIL: umask %03o, was %03o", mask, saved_umask);
	for (i = 0; i < RLIM_NLIMITS && !strcmp(msg, "PASS"); i++) {
		struct rlimit r;

		getrlimit(i, &r);
		if (r.rlim_cur != saved[i].rlim_cur || r.rlim_max != saved[i].rlim_max)
			snprintf(msg, sizeof(msg),
				 "FAIL: rlimit %d is %llu/%llu, was %llu/%llu", i,
				 (unsigned long long)r.rlim_cur,
				 (unsigned long long)r.rlim_max,
				 (unsigned long long)saved[i].rlim_cur,
				 (unsigned long long)saved[i].rlim_max);
	}
	/* a relative path works from the restored cwd */
	if (!strcmp(msg, "PASS") && access("marker", F_OK))
		snprintf(msg, sizeof(msg), "FAIL: relative path marker: %s", strerror(errno));
	if (!strcmp(msg, "PASS")) {
		check_task_state(msg, sizeof(msg));
		if (!msg[0])
			strcpy(msg, "PASS");
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dprintf(fd, "%s\n", msg);
		close(fd);
	}
	printf("procstate: restarted: %s\n", msg);
	return 0;
}

static int mode_restart(int argc, char **argv, int nnp)
{
	int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	int logfd = CHECKPOINT_FD_NONE;
	long ret;

	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("PR_SET_NO_NEW_PRIVS");
	if (argc > 1)
		logfd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	printf("procstate: restart returned %ld: %s (errno %d)\n", ret, strerror(errno),
	       errno);
	return 1;
}

static int mode_deleted(char **argv)
{
	char dir[] = "/tmp/procstate.XXXXXX";
	int fd, logfd;
	long ret;

	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	logfd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || logfd < 0 || !mkdtemp(dir) || chdir(dir) || rmdir(dir))
		return 1;
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, logfd);
	if (ret >= 0) {
		printf("procstate: FAIL: checkpoint from a deleted cwd succeeded\n");
		return 1;
	}
	printf("procstate: checkpoint from a deleted cwd: %s (errno %d)\n",
	       strerror(errno), errno);
	return errno == ENOENT ? 0 : 1;
}

/* a CLONE_FS sibling (not a child): the checkpoint must be refused */
static int mode_clonefs(char **argv)
{
	int fd, logfd;
	long ret;
	pid_t s;

	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	logfd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || logfd < 0)
		return 1;
	s = syscall(SYS_clone, CLONE_FS | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (s < 0)
		return 1;
	if (s == 0) {
		sleep(30);
		_exit(0);
	}
	ret = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, logfd);
	kill(s, SIGKILL);
	if (ret >= 0) {
		printf("procstate: FAIL: checkpoint of a task sharing its fs_struct succeeded\n");
		return 1;
	}
	printf("procstate: checkpoint with a CLONE_FS sibling %d: %s (errno %d)\n", s,
	       strerror(errno), errno);
	return errno == EBUSY ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 5 && !strcmp(argv[1], "run"))
		return mode_run(argv + 2);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "restart"))
		return mode_restart(argc - 2, argv + 2, 0);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "restart-nnp"))
		return mode_restart(argc - 2, argv + 2, 1);
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return mode_hold(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "deleted"))
		return mode_deleted(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "clonefs"))
		return mode_clonefs(argv + 2);
	fprintf(stderr, "usage: procstate run DIR IMG RES | hold RES | restart[-nnp] IMG [LOG] | deleted IMG LOG | clonefs IMG LOG\n");
	return 2;
}
