/*
 * cratk MODE ARGS...: the attacks of issue 9 on checkpoint/restart, one mode
 * per hole, each judging itself.  The last line is "cratk MODE: PASS ..."
 * (exit 0) or "cratk MODE: FAIL: ..." (exit 1).  Run as the unprivileged
 * user; stdio must be regular files (checkpoint refuses pipes and ttys).
 *
 *   leak CGDIR SUID SECRET WORD  hole 1: a checkpoint blocked on a full image
 *                                pipe while its frozen target is thawed,
 *                                execs the setuid SUID (which reads SECRET),
 *                                and is frozen again; the image must not hold
 *                                WORD and the checkpoint must fail (EPERM).
 *   kill CGDIR                   hole 2: the same blocked checkpoint while the
 *                                target is killed and reaped: ESRCH, the
 *                                checkpointer survives.
 *   vmasib                       hole 3: self checkpoint while a
 *                                CLONE_VM|CLONE_FILES|CLONE_PARENT sibling
 *                                closes the image and log descriptors and
 *                                maps 4000 vmas, checkpoint blocked on a full
 *                                log pipe: EBUSY, naming the sibling.
 *   shrink IMG LOG               hole 4: self checkpoint while a sibling
 *                                shrinks the vma being walked and moves
 *                                [vvar] into the freed range: EBUSY.
 *   bigmap IMG [kill]            hole 5: self checkpoint of a 32 TiB
 *                                MAP_NORESERVE mapping with one page: it
 *                                finishes in seconds; with "kill", SIGKILL
 *                                in the middle ends it within a second.
 *   exe IMG RES                  hole 6 (part): self checkpoint; restarted,
 *                                write /proc/self/exe to RES.
 *   patchexe IN OUT PATH         rewrite the exe path of image IN (checksum
 *                                fixed up, as an attacker would) into OUT.
 *   restart IMG [LOG]            restart IMG with this program as the caller.
 *   stress CGDIR SECONDS [SEED]  race stress: checkpoints of targets that
 *                                exec, exit, are killed, thawed, run, or have
 *                                a CLONE_VM sibling changing the mm, while
 *                                the image or the log pipe is blocked; every
 *                                one must fail cleanly with the errno of the
 *                                change, no image may hold memory of the
 *                                program executed after the check.
 *   marker WORD                  (what stress targets execute)
 *   unshare BADIMG               a caller sharing its table (CLONE_FILES)
 *                                still shares it after a failed restart.
 *   ctid IMG                     a CLONE_VM|CLONE_CHILD_CLEARTID child
 *                                restarts IMG: as at exec, its old mm's
 *                                clear_child_tid waiter is woken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <sys/wait.h>

#include <linux/checkpoint.h>

#define MARKER "CRATK-AFTER-EXEC-MARKER"

static const char *mode = "?";

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("cratk %s: FAIL: ", mode);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static void pass(const char *fmt, ...)
{
	va_list ap;

	printf("cratk %s: PASS", mode);
	if (*fmt)
		printf(": ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(0);
}

/* a raw system call: returns -errno, and never touches errno (TLS) */
static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile ("syscall" : "=a"(ret)
			  : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			    "r"(r9)
			  : "rcx", "r11", "memory");
	return ret;
}

static long raw5(long nr, long a, long b, long c, long d, long e)
{
	return raw6(nr, a, b, c, d, e, 0);
}

static long raw4(long nr, long a, long b, long c, long d)
{
	return raw5(nr, a, b, c, d, 0);
}

static long ckpt(pid_t pid, int fd, int logfd)
{
	return raw4(__NR_checkpoint, pid, fd, CHECKPOINT_SUBTREE, logfd);
}

static const char *errname(long err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case ESTALE: return "ESTALE";
	case ENOENT: return "ENOENT";
	default: return "E?";
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* raw, so that a CLONE_VM sibling leaves errno alone */
	raw4(SYS_nanosleep, (long)&ts, 0, 0, 0);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("write %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

/* read a small file with raw system calls; returns its length or -1 */
static int read_small(const char *path, char *buf, int size)
{
	long fd = raw4(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
	long n;

	if (fd < 0)
		return -1;
	n = raw4(SYS_read, fd, (long)buf, size - 1, 0);
	raw4(SYS_close, fd, 0, 0, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* is @pid inside the checkpoint system call and asleep? */
static int in_checkpoint(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	return atoi(buf) == __NR_checkpoint;
}

/* wait until @pid sits blocked in checkpoint for @ms (3 samples) */
static int wait_blocked(pid_t pid, long ms, double timeout)
{
	double end = now() + timeout;
	int streak = 0;

	while (now() < end) {
		streak = in_checkpoint(pid) ? streak + 1 : 0;
		if (streak >= 3)
			return 1;
		msleep(ms / 3 + 1);
	}
	return 0;
}

/* fill a pipe so that the next write blocks; returns the bytes written */
static long fill_pipe(int fd)
{
	static char junk[4096];
	long total = 0;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	memset(junk, 'J', sizeof(junk));
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		n = write(fd, junk, sizeof(junk));
		if (n < 0 && errno == EAGAIN) {
			n = write(fd, junk, 1);
			if (n < 0)
				break;
		}
		if (n < 0)
			fail("fill pipe: %s", strerror(errno));
		total += n;
	}
	fcntl(fd, F_SETFL, fl);
	return total;
}

/* read a pipe to EOF; returns a malloc'ed buffer without the first @skip bytes */
static char *drain(int fd, long skip, long *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	ssize_t got;

	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		if (!buf)
			fail("out of memory");
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += got;
	}
	if ((long)n < skip)
		skip = n;
	memmove(buf, buf + skip, n - skip);
	*len = n - skip;
	return buf;
}

/*
 * Read the image pipe @a and the log pipe @b to EOF at once (a checkpoint
 * may block on either); look for MARKER in the image, also across reads.
 * Returns the image's length without the @skip bytes of prefill.
 */
static long drain2(int a, long skip, int b, int *marker)
{
	static char win[65536 + 64];
	const size_t keep = strlen(MARKER) - 1;
	struct pollfd pfd[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
	long total = 0;
	size_t carry = 0;
	ssize_t n;
	int open_fds = 2, i;

	*marker = 0;
	while (open_fds) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll: %s", strerror(errno));
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, win + carry, 65536);
			if (n <= 0) {
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i)
				continue;	/* the log is dropped */
			if (memmem(win, carry + n, MARKER, strlen(MARKER)))
				*marker = 1;
			total += n;
			carry += n;
			if (carry > keep) {
				memmove(win, win + carry - keep, keep);
				carry = keep;
			}
		}
	}
	return total > skip ? total - skip : 0;
}

/* stdio on /dev/null, every other descriptor closed: a checkpointable task */
static void quiet_fds(void)
{
	int fd = open("/dev/null", O_RDWR);

	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close_range(3, ~0U, 0);
}

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

/* cgroup v2 freezer of a delegated (user-owned) cgroup */
static void cg_freeze(const char *cg, int on)
{
	char path[512], buf[512];
	double end = now() + 10;

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	write_file(path, on ? "1" : "0");
	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	while (now() < end) {
		if (read_small(path, buf, sizeof(buf)) > 0 &&
		    strstr(buf, on ? "frozen 1" : "frozen 0"))
			return;
		msleep(10);
	}
	fail("%s did not %s", cg, on ? "freeze" : "thaw");
}

static void cg_enter(const char *cg, pid_t pid)
{
	char path[512], num[32];

	if (mkdir(cg, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", cg, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(num, sizeof(num), "%d", pid);
	write_file(path, num);
}

/* a checkpointer child: checkpoint @target into @fd, report through @res */
/*
 * fork() with SIGUSR1 blocked in the child from its first instruction (the
 * parent's mask is kept): a target frozen early and thawed by the test
 * cannot die of a SIGUSR1 it had not blocked yet.  @usr1 gets the set, for
 * the child's sigwait().
 */
static pid_t fork_usr1_blocked(sigset_t *usr1)
{
	sigset_t old;
	pid_t pid;

	sigemptyset(usr1);
	sigaddset(usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, usr1, &old);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

static pid_t spawn_checkpointer(pid_t target, int fd, int logfd, int *res)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		long ret = ckpt(target, fd, logfd);

		if (write(p[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	*res = p[0];
	return pid;
}

/* collect the checkpointer's return value; a checkpointer killed by the kernel fails */
static long reap_checkpointer(pid_t pid, int res)
{
	long ret = LONG_MIN;
	int status;

	if (read(res, &ret, sizeof(ret)) != sizeof(ret))
		ret = LONG_MIN;
	close(res);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid checkpointer: %s", strerror(errno));
	if (WIFSIGNALED(status))
		fail("the checkpointer was killed by signal %d (kernel oops?)",
		     WTERMSIG(status));
	if (ret == LONG_MIN)
		fail("the checkpointer did not report");
	return ret;
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		quiet_fds();
		for (;;)
			pause();
	}
	return pid;
}

/* hole 1 */
static int mode_leak(int argc, char **argv)
{
	char victim[512], ready[128], *img;
	const char *cg, *suid, *secret, *word;
	int ip[2], res, status, tmp;
	long prefill, len, ret, direct;
	sigset_t set;
	double end;
	pid_t t, c;

	if (argc != 4)
		fail("usage: leak CGDIR SUID SECRET WORD");
	cg = argv[0];
	suid = argv[1];
	secret = argv[2];
	word = argv[3];
	snprintf(victim, sizeof(victim), "%s/victim", cg);
	snprintf(ready, sizeof(ready), "/tmp/cratk-ready.%d", getpid());
	unlink(ready);

	if (pipe(ip))
		fail("pipe: %s", strerror(errno));
	prefill = fill_pipe(ip[1]);
	t = fork_usr1_blocked(&set);
	if (t == 0) {
		int sig;

		quiet_fds();
		while (sigwait(&set, &sig))
			;
		execl(suid, "suidread", secret, ready, (char *)NULL);
		_exit(127);
	}
	cg_enter(victim, t);
	cg_freeze(victim, 1);

	c = spawn_checkpointer(t, ip[1], CHECKPOINT_FD_NONE, &res);
	close(ip[1]);
	if (!wait_blocked(c, 150, 20))
		fail("the checkpoint did not block on the full image pipe");

	/* the blocked checkpoint's target becomes a setuid-root program */
	cg_freeze(victim, 0);
	kill(t, SIGUSR1);
	for (end = now() + 20; access(ready, F_OK) && now() < end;)
		msleep(20);
	if (access(ready, F_OK))
		fail("the setuid program did not start");
	cg_freeze(victim, 1);

	img = drain(ip[0], prefill, &len);
	close(ip[0]);
	ret = reap_checkpointer(c, res);

	/* sanity: a direct checkpoint of the setuid process is refused */
	tmp = open("/tmp", O_TMPFILE | O_WRONLY, 0600);
	direct = ckpt(t, tmp, CHECKPOINT_FD_NONE);
	close(tmp);
	cg_freeze(victim, 0);
	kill(t, SIGKILL);
	waitpid(t, &status, 0);
	unlink(ready);

	printf("cratk leak: blocked checkpoint returned %ld (%s), image %ld bytes; direct checkpoint %ld (%s)\n",
	       ret, ret < 0 ? errname(-ret) : "success", len,
	       direct, direct < 0 ? errname(-direct) : "success");
	if (direct != -EPERM)
		fail("setup: a direct checkpoint of the setuid process was not refused with EPERM");
	if (memmem(img, len, word, strlen(word)))
		fail("the image holds %s, read by the setuid program", word);
	if (ret >= 0)
		fail("checkpoint succeeded although its target executed a setuid program");
	if (ret != -EPERM && ret != -ESRCH && ret != -EAGAIN)
		fail("unexpected error %ld", ret);
	pass("refused with %s, no secret in the image", errname(-ret));
	return 0;
}

/* hole 2 */
static int mode_kill(int argc, char **argv)
{
	char victim[512], *img;
	int ip[2], res, status;
	long prefill, len, ret;
	pid_t t, c;

	if (argc != 1)
		fail("usage: kill CGDIR");
	snprintf(victim, sizeof(victim), "%s/victim", argv[0]);
	if (pipe(ip))
		fail("pipe: %s", strerror(errno));
	prefill = fill_pipe(ip[1]);
	t = spawn_sleeper();
	cg_enter(victim, t);
	cg_freeze(victim, 1);
	c = spawn_checkpointer(t, ip[1], CHECKPOINT_FD_NONE, &res);
	close(ip[1]);
	if (!wait_blocked(c, 150, 20))
		fail("the checkpoint did not block on the full image pipe");

	kill(t, SIGKILL);
	if (waitpid(t, &status, 0) != t)
		fail("waitpid target: %s", strerror(errno));
	img = drain(ip[0], prefill, &len);
	ret = reap_checkpointer(c, res);
	free(img);
	cg_freeze(victim, 0);
	printf("cratk kill: checkpoint of the reaped target returned %ld (%s), image %ld bytes\n",
	       ret, ret < 0 ? errname(-ret) : "success", len);
	if (ret >= 0)
		fail("checkpoint of a killed and reaped task succeeded");
	if (ret != -ESRCH)
		fail("expected ESRCH, got %s", errname(-ret));
	pass("ESRCH");
	return 0;
}

/*
 * CLONE_PARENT helpers: a reader process R (own mm and table, a sibling of
 * the caller, so the caller has no children) and a CLONE_VM sibling S.
 */
static pid_t clone_parent_fork(void)
{
	return syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
}

static pid_t clone_vm_sibling(int (*fn)(void *), void *arg)
{
	size_t size = 256 << 10;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	if (stack == MAP_FAILED)
		fail("mmap stack: %s", strerror(errno));
	pid = clone(fn, stack + size, CLONE_VM | CLONE_FILES | CLONE_PARENT | SIGCHLD,
		    arg);
	if (pid < 0)
		fail("clone: %s", strerror(errno));
	return pid;
}

/* hole 3: shared state of P and S (same mm) and R (MAP_SHARED) */
struct vmasib {
	volatile int stage;		/* 1: R drains the image, 2: and the log */
	volatile long image_bytes;	/* read by R */
	volatile long log_prefill;
	volatile int log_len;
	volatile int r_done;
	char log[4096];
	pid_t p;
	int ip1, lp1;
};

static int vmasib_sibling(void *arg)
{
	struct vmasib *sh = arg;
	double end = now() + 20;
	long last = -1;
	int i, calm = 0;

	/* P blocks writing the header into the full image pipe */
	while (!in_checkpoint(sh->p) && now() < end)
		msleep(10);
	raw4(SYS_close, sh->ip1, 0, 0, 0);
	raw4(SYS_close, sh->lp1, 0, 0, 0);
	sh->stage = 1;
	/* then P blocks in a log write: in the checkpoint, no image progress */
	while (calm < 6 && now() < end) {
		msleep(50);
		calm = in_checkpoint(sh->p) && sh->image_bytes == last ? calm + 1 : 0;
		last = sh->image_bytes;
	}
	for (i = 0; i < 4000; i++)
		raw6(SYS_mmap, 0, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh->stage = 2;
	raw4(SYS_exit, 0, 0, 0, 0);
	return 0;
}

static void vmasib_reader(struct vmasib *sh, int ip0, int lp0)
{
	char buf[65536];
	long skip = sh->log_prefill;
	int eof_i = 0, eof_l = 0;
	ssize_t n;

	fcntl(ip0, F_SETFL, O_NONBLOCK);
	fcntl(lp0, F_SETFL, O_NONBLOCK);
	while (!eof_i || !eof_l) {
		if (sh->stage >= 1 && !eof_i) {
			n = read(ip0, buf, sizeof(buf));
			if (n == 0)
				eof_i = 1;
			else if (n > 0)
				sh->image_bytes += n;
		}
		if (sh->stage >= 2 && !eof_l) {
			n = read(lp0, buf, sizeof(buf));
			if (n == 0)
				eof_l = 1;
			while (n > 0 && skip) {
				long k = n < skip ? n : skip;

				memmove(buf, buf + k, n - k);
				n -= k;
				skip -= k;
			}
			if (n > 0 && sh->log_len + n < (int)sizeof(sh->log) - 1) {
				memcpy(sh->log + sh->log_len, buf, n);
				sh->log_len += n;
			}
		}
		msleep(5);
	}
	sh->r_done = 1;
	_exit(0);
}

static int mode_vmasib(int argc, char **argv)
{
	struct vmasib *sh;
	int ip[2], lp[2];
	long ret;
	pid_t r, s;
	double end;

	if (argc != 0)
		fail("usage: vmasib");
	/* the shared mapping is also what checkpoint_mm() refuses */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	if (pipe(ip) || pipe(lp))
		fail("pipe: %s", strerror(errno));
	sh->p = getpid();
	sh->ip1 = ip[1];
	sh->lp1 = lp[1];
	fill_pipe(ip[1]);
	sh->log_prefill = fill_pipe(lp[1]);
	r = clone_parent_fork();
	if (r < 0)
		fail("clone R: %s", strerror(errno));
	if (r == 0) {
		close(ip[1]);
		close(lp[1]);
		vmasib_reader(sh, ip[0], lp[0]);
	}
	close(ip[0]);
	close(lp[0]);
	s = clone_vm_sibling(vmasib_sibling, sh);

	ret = ckpt(0, ip[1], lp[1]);
	for (end = now() + 20; !sh->r_done && now() < end;) {
		sh->stage = 2;
		msleep(20);
	}
	sh->log[sh->log_len] = '\0';
	printf("cratk vmasib: self checkpoint with CLONE_VM sibling %d returned %ld (%s); log: %s\n",
	       s, ret, ret < 0 ? errname(-ret) : "success", sh->log);
	if (ret >= 0)
		fail("checkpoint of a task sharing its mm succeeded");
	if (ret != -EBUSY)
		fail("expected EBUSY, got %s", errname(-ret));
	if (!strstr(sh->log, "shared"))
		fail("the log does not say what is shared");
	pass("EBUSY");
	return 0;
}

/*
 * hole 4: P (the caller), its CLONE_VM|CLONE_FILES sibling S (the two
 * share this struct through the mm) and a reader R (own mm: signals).
 */
struct shrink {
	volatile int done;		/* P's checkpoint returned */
	char *a;
	size_t len, keep;
	unsigned long vvar, vvar_len;
	pid_t p, r, s;
	int ip1;
	long prefill;
};

static int shrink_sibling(void *arg)
{
	struct shrink *sh = arg;
	char *free_at = sh->a + sh->keep;
	struct timespec ts = { 0, 100000000 };
	unsigned long set = 1UL << (SIGUSR2 - 1);
	double end = now() + 30;
	int got = 0;

	raw4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, 8);
	/* P blocks writing its header into the full image pipe */
	while (!in_checkpoint(sh->p) && !sh->done && now() < end)
		msleep(10);
	raw4(SYS_close, sh->ip1, 0, 0, 0);
	raw4(SYS_kill, sh->r, SIGUSR2, 0, 0);
	/* R stopped reading (or saw the end): P is blocked mid-walk */
	while (!got && !sh->done && now() < end)
		got = raw4(SYS_rt_sigtimedwait, (long)&set, 0, (long)&ts, 8) == SIGUSR2;
	msleep(300);
	if (!sh->done) {
		raw4(SYS_munmap, (long)free_at, sh->len - sh->keep, 0, 0);
		raw5(SYS_mremap, sh->vvar, sh->vvar_len, sh->vvar_len,
		     MREMAP_MAYMOVE | MREMAP_FIXED, (long)free_at);
	}
	raw4(SYS_kill, sh->r, SIGUSR1, 0, 0);
	raw4(SYS_exit, 0, 0, 0, 0);
	return 0;
}

/* R: from SIGUSR2 on, copy the image (without the prefill) to @img; stop
 * at @stop bytes until SIGUSR1; tell S when stopped or at the end */
static void shrink_reader(struct shrink *sh, int ip0, const char *img, long stop)
{
	static char buf[65536];
	long total = 0, skip = sh->prefill;
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int told = 0;
	ssize_t n;

	while (!got_usr2)
		pause();
	for (;;) {
		if (total >= stop && !got_usr1) {
			if (!told++)
				kill(sh->s, SIGUSR2);
			pause();
			continue;
		}
		n = read(ip0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (skip) {
			long k = n < skip ? n : skip;

			skip -= k;
			if (n == k)
				continue;
			memmove(buf, buf + k, n - k);
			n -= k;
		}
		if (write(fd, buf, n) != n)
			break;
		total += n;
	}
	if (!told)
		kill(sh->s, SIGUSR2);
	_exit(0);
}

static int mode_shrink(int argc, char **argv)
{
	struct shrink *sh;
	struct timespec ts;
	char maps[16384], *line;
	int ip[2], logfd;
	long ret;

	if (argc != 2)
		fail("usage: shrink IMG LOG");
	sh = calloc(1, sizeof(*sh));
	sh->len = 16 << 20;
	sh->keep = 7 << 20;		/* not a multiple of a 2 MiB page batch */
	sh->a = mmap(NULL, sh->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh->a == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memset(sh->a, 0x5a, sh->len);
	clock_gettime(CLOCK_REALTIME, &ts);	/* the vvar page is mapped */
	if (read_small("/proc/self/maps", maps, sizeof(maps)) <= 0)
		fail("read maps");
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "[vvar]")) {
			unsigned long a, b;

			sscanf(line, "%lx-%lx", &a, &b);
			sh->vvar = a;
			sh->vvar_len = b - a;
		}
	if (!sh->vvar)
		fail("no [vvar] mapping");
	sh->p = getpid();
	logfd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (logfd < 0 || pipe(ip))
		fail("setup: %s", strerror(errno));
	sh->ip1 = ip[1];
	sh->prefill = fill_pipe(ip[1]);

	signal(SIGUSR1, on_usr);
	signal(SIGUSR2, on_usr);
	/* S first, so that R (a copy of this memory) knows its pid */
	sh->s = clone_vm_sibling(shrink_sibling, sh);
	sh->r = clone_parent_fork();
	if (sh->r < 0)
		fail("clone R: %s", strerror(errno));
	if (sh->r == 0) {
		close(ip[1]);
		shrink_reader(sh, ip[0], argv[0], 3 << 20);
	}
	close(ip[0]);
	ret = ckpt(0, ip[1], logfd);
	sh->done = 1;
	printf("cratk shrink: self checkpoint with CLONE_VM sibling %d returned %ld (%s)\n",
	       sh->s, ret, ret < 0 ? errname(-ret) : "success");
	if (ret >= 0)
		fail("checkpoint succeeded although the vma it walked was shrunk under it");
	if (ret != -EBUSY)
		fail("expected EBUSY, got %s", errname(-ret));
	pass("EBUSY");
	return 0;
}

/* hole 5 */
static char *map_sparse(size_t *len)
{
	char *p;

	for (; *len >= (1ULL << 40); *len -= 4ULL << 40) {
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			p[*len / 2] = 1;
			return p;
		}
	}
	fail("mmap of a sparse mapping: %s", strerror(errno));
	return NULL;
}

static int mode_bigmap(int argc, char **argv)
{
	size_t len = 32ULL << 40;
	double t0, dt;
	int fd, status;
	long ret;
	pid_t c, parent = getpid();

	if (argc < 1 || argc > 2)
		fail("usage: bigmap IMG [kill]");
	if (argc == 1) {
		map_sparse(&len);
		fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			fail("%s: %s", argv[0], strerror(errno));
		t0 = now();
		ret = ckpt(0, fd, CHECKPOINT_FD_NONE);
		dt = now() - t0;
		printf("cratk bigmap: checkpoint of a 32 TiB mapping returned %ld in %.2f s\n",
		       ret, dt);
		if (ret < 0)
			fail("checkpoint failed: %s", errname(-ret));
		pass("%.2f s", dt);
	}
	/*
	 * The child tells by signals (a pipe or a shared mapping would be
	 * refused before the walk) when it enters and leaves checkpoint;
	 * as large a mapping as fits, so that the walk is long.
	 */
	signal(SIGUSR1, on_usr);
	signal(SIGUSR2, on_usr);
	len = 124ULL << 40;
	c = fork();
	if (c < 0)
		fail("fork: %s", strerror(errno));
	if (c == 0) {
		map_sparse(&len);
		fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		kill(parent, SIGUSR1);
		ckpt(0, fd, CHECKPOINT_FD_NONE);
		kill(parent, SIGUSR2);
		for (;;)
			pause();
	}
	for (t0 = now(); !got_usr1 && now() - t0 < 20;)
		msleep(1);
	if (!got_usr1)
		fail("the child did not start its checkpoint");
	msleep(30);
	ret = !got_usr2;
	t0 = now();
	kill(c, SIGKILL);
	waitpid(c, &status, 0);
	dt = now() - t0;
	printf("cratk bigmap: SIGKILL %s the checkpoint ended it in %.3f s\n",
	       ret ? "during" : "after", dt);
	if (!ret)
		fail("the checkpoint ended before the kill: nothing tested");
	if (dt > 1.0)
		fail("a killed checkpoint took %.2f s to die", dt);
	pass("killed in %.3f s", dt);
	return 0;
}

/* hole 6 */
static int mode_exe(int argc, char **argv)
{
	char exe[4096];
	ssize_t n;
	long ret;
	int fd;

	if (argc != 2)
		fail("usage: exe IMG RES");
	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail("%s: %s", argv[0], strerror(errno));
	ret = ckpt(0, fd, CHECKPOINT_FD_NONE);
	if (ret < 0)
		fail("checkpoint: %s", errname(-ret));
	if (ret > 0)
		pass("checkpoint id %ld", ret);
	/* restarted */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n < 0 ? 0 : n] = '\0';
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dprintf(fd, "%s\n", exe);
		close(fd);
	}
	pass("restarted, exe %s", exe);
	return 0;
}

static uint8_t *load(const char *path, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (fd < 0 || !buf)
		fail("%s: %s", path, strerror(errno));
	while ((got = read(fd, buf + n, cap - n)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail("out of memory");
		}
	}
	close(fd);
	*len = n;
	return buf;
}

static int mode_patchexe(int argc, char **argv)
{
	uint8_t *in, *out;
	size_t len, off = 0, o = 0, plen;
	struct ckpt_hdr h;
	uint64_t sum = 0, sum2 = 0, w;
	int after_mm = 0, done = 0, fd;
	size_t i;

	if (argc != 3)
		fail("usage: patchexe IN OUT PATH");
	in = load(argv[0], &len);
	plen = strlen(argv[2]) + 1;
	out = calloc(1, len + plen + 16);
	while (off + sizeof(h) <= len) {
		size_t rec;

		memcpy(&h, in + off, sizeof(h));
		rec = (h.len + 7) & ~7UL;
		if (h.len < sizeof(h) || off + rec > len)
			fail("bad record at %zu", off);
		if (h.type == CKPT_HDR_TAIL) {
			for (i = 0; i < o; i += 8) {
				memcpy(&w, out + i, 8);
				sum += ckpt_csum_mix(w, i / 8);
				sum2 += sum;
			}
			memcpy(out + o, in + off, rec);
			memcpy(out + o + 16, &sum, 8);
			memcpy(out + o + 24, &sum2, 8);
			o += rec;
			break;
		}
		if (after_mm && h.type == CKPT_HDR_STRING && !done) {
			struct ckpt_hdr nh = { CKPT_HDR_STRING, sizeof(nh) + plen };

			memcpy(out + o, &nh, sizeof(nh));
			memcpy(out + o + sizeof(nh), argv[2], plen);
			o += (nh.len + 7) & ~7UL;
			done = 1;
		} else {
			memcpy(out + o, in + off, rec);
			o += rec;
		}
		after_mm = h.type == CKPT_HDR_MM;
		off += rec;
	}
	if (!done)
		fail("no exe record in %s", argv[0]);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, out, o) != (ssize_t)o)
		fail("%s: %s", argv[1], strerror(errno));
	close(fd);
	pass("exe path set to %s", argv[2]);
	return 0;
}

static int mode_restart(int argc, char **argv)
{
	int fd, logfd = CHECKPOINT_FD_NONE;
	long ret;

	if (argc < 1 || argc > 2)
		fail("usage: restart IMG [LOG]");
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (argc == 2)
		logfd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || logfd < -1)
		fail("open: %s", strerror(errno));
	ret = raw4(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	fail("restart returned %ld (%s)", ret, ret < 0 ? errname(-ret) : "?");
	return 1;
}

/* race stress: one round of a variant; returns the checkpoint's result */
enum { V_EXEC, V_EXIT, V_KILL, V_THAW, V_RUN, V_SIBLING, V_COUNT };
static const char *const vname[V_COUNT] = {
	"exec", "exit", "kill", "thaw", "run", "sibling",
};

static int sibling_churn(void *arg)
{
	volatile int *stop = arg;
	long p;

	while (!*stop) {
		p = raw6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p > 0) {
			*(volatile char *)p = 1;
			raw4(SYS_munmap, p, 4096, 0, 0);
			raw4(SYS_munmap, p + 4096, 4096, 0, 0);
		}
	}
	raw4(SYS_exit, 0, 0, 0, 0);
	return 0;
}

static long stress_round(const char *victim, int v, int use_log, const char *self,
			 long *image_len, int *marker)
{
	int ip[2], lp[2], res, status, logfd = CHECKPOINT_FD_NONE;
	sigset_t usr1;
	long prefill = 0, ret;
	pid_t t, c;

	*marker = 0;
	if (pipe(ip) || pipe(lp))
		fail("pipe: %s", strerror(errno));
	if (use_log) {
		fill_pipe(lp[1]);
		logfd = lp[1];
	} else {
		prefill = fill_pipe(ip[1]);
	}
	if (v == V_SIBLING) {
		/* a self checkpoint by a task with a CLONE_VM sibling */
		c = fork();
		if (c < 0)
			fail("fork: %s", strerror(errno));
		if (c == 0) {
			static volatile int stop;

			close(ip[0]);
			close(lp[0]);
			clone_vm_sibling(sibling_churn, (void *)&stop);
			ret = ckpt(0, ip[1], logfd);
			stop = 1;
			_exit(ret == -EBUSY ? 0 : 4);
		}
		close(ip[1]);
		close(lp[1]);
		msleep(rand() % 30);
		*image_len = drain2(ip[0], prefill, lp[0], marker);
		close(ip[0]);
		close(lp[0]);
		if (waitpid(c, &status, 0) != c)
			fail("waitpid: %s", strerror(errno));
		if (WIFSIGNALED(status))
			fail("sibling round: the checkpointer was killed by signal %d",
			     WTERMSIG(status));
		return WEXITSTATUS(status) == 0 ? -EBUSY : -EINVAL;
	}

	t = fork_usr1_blocked(&usr1);
	if (t == 0) {
		int sig;

		quiet_fds();
		/* a pidfd, unsupported: the checkpoint logs an error (and blocks) */
		if (use_log && syscall(SYS_pidfd_open, getpid(), 0) < 0)
			_exit(3);
		for (;;) {
			while (sigwait(&usr1, &sig))
				;
			if (v == V_EXEC)
				execl(self, "cratk", "marker", MARKER, (char *)NULL);
			if (v == V_EXIT)
				_exit(0);
		}
	}
	cg_enter(victim, t);
	cg_freeze(victim, 1);
	c = spawn_checkpointer(t, ip[1], logfd, &res);
	close(ip[1]);
	close(lp[1]);
	if (!wait_blocked(c, 30, 10))
		fail("round %s/%s: the checkpoint did not block", vname[v],
		     use_log ? "log" : "image");
	msleep(rand() % 20);
	switch (v) {
	case V_EXEC:
	case V_EXIT:
	case V_RUN:
		cg_freeze(victim, 0);
		kill(t, SIGUSR1);
		msleep(rand() % 50);
		if (v != V_EXIT)
			cg_freeze(victim, 1);
		break;
	case V_KILL:
		kill(t, SIGKILL);
		break;
	case V_THAW:
		cg_freeze(victim, 0);
		break;
	}
	if (v == V_EXIT || v == V_KILL)
		waitpid(t, &status, 0);
	msleep(rand() % 20);
	*image_len = drain2(ip[0], prefill, lp[0], marker);
	close(ip[0]);
	close(lp[0]);
	ret = reap_checkpointer(c, res);
	if (v != V_EXIT && v != V_KILL) {
		cg_freeze(victim, 0);
		kill(t, SIGKILL);
		waitpid(t, &status, 0);
	}
	return ret;
}

static int mode_stress(int argc, char **argv)
{
	static const char *const exp[V_COUNT] = {
		"EAGAIN EPERM", "ESRCH", "ESRCH", "EAGAIN", "EAGAIN", "EBUSY",
	};
	char victim[512], self[4096];
	long counts[V_COUNT][2] = { { 0 } };
	long rounds = 0, len, ret;
	double end;
	ssize_t n;
	int v, use_log, marker;

	if (argc < 2 || argc > 3)
		fail("usage: stress CGDIR SECONDS [SEED]");
	snprintf(victim, sizeof(victim), "%s/victim", argv[0]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		fail("readlink: %s", strerror(errno));
	self[n] = '\0';
	srand(argc == 3 ? atoi(argv[2]) : getpid());
	end = now() + atof(argv[1]);
	while (now() < end) {
		v = rand() % V_COUNT;
		use_log = rand() % 2;
		ret = stress_round(victim, v, use_log, self, &len, &marker);
		rounds++;
		if (marker)
			fail("round %ld %s/%s: the image holds memory of the program executed after the check",
			     rounds, vname[v], use_log ? "log" : "image");
		if (ret >= 0)
			fail("round %ld %s/%s: checkpoint of a changed target succeeded",
			     rounds, vname[v], use_log ? "log" : "image");
		/*
		 * A log round may fail on its unsupported descriptor first: the
		 * pidfd (EOPNOTSUPP), or, for a target frozen before its
		 * quiet_fds(), a pipe of the harness whose other end is
		 * outside the checkpoint (EBUSY).
		 */
		if (!strstr(exp[v], errname(-ret)) &&
		    !(use_log && (ret == -EOPNOTSUPP || ret == -EBUSY)))
			fail("round %ld %s/%s: unexpected %s (%ld)", rounds, vname[v],
			     use_log ? "log" : "image", errname(-ret), ret);
		counts[v][use_log]++;
	}
	printf("cratk stress: %ld rounds:", rounds);
	for (v = 0; v < V_COUNT; v++)
		printf(" %s=%ld/%ld", vname[v], counts[v][0], counts[v][1]);
	printf(" (image/log blocked)\n");
	pass("%ld rounds", rounds);
	return 0;
}

/* the program a stress target executes: a marker in its memory */
static int mode_marker(int argc, char **argv)
{
	static char mem[4096];

	if (argc != 1)
		return 2;
	snprintf(mem, sizeof(mem), "%s", argv[0]);
	for (;;)
		pause();
}

/*
 * restart's rollback: a caller sharing its descriptor table (CLONE_FILES)
 * with a sibling keeps sharing it after a failed restart.
 */
static int mode_unshare(int argc, char **argv)
{
	volatile int *shm;
	int fd, status;
	long ret;
	pid_t s;

	if (argc != 1)
		fail("usage: unshare BADIMG");
	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (shm == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	shm[0] = -1;
	signal(SIGUSR1, on_usr);
	s = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	if (s < 0)
		fail("clone: %s", strerror(errno));
	if (s == 0) {
		while (!got_usr1)
			pause();
		shm[0] = open("/dev/null", O_RDONLY);
		_exit(0);
	}
	fd = open(argv[0], O_RDONLY);
	ret = raw4(__NR_restart, 0, fd, RESTART_TASKSELF, CHECKPOINT_FD_NONE);
	close(fd);
	kill(s, SIGUSR1);
	waitpid(s, &status, 0);
	printf("cratk unshare: restart of a bad image returned %ld (%s); the sibling opened fd %d\n",
	       ret, ret < 0 ? errname(-ret) : "?", shm[0]);
	if (ret >= 0)
		fail("restart of a bad image succeeded");
	if (shm[0] < 0)
		fail("the sibling could not open a file");
	if (fcntl(shm[0], F_GETFD) < 0)
		fail("after the failed restart the table is no longer shared (fd %d not seen)",
		     shm[0]);
	pass("the failed restart left the table shared");
	return 0;
}

/*
 * restart as exec: a caller created with CLONE_VM|CLONE_CHILD_CLEARTID
 * restarts an image; as at execve(), the old mm's clear_child_tid word is
 * cleared and its futex waiter (the parent, sharing that mm) woken.
 */
static volatile int ctid_word = 1;

static int ctid_child(void *arg)
{
	const char *img = arg;
	long fd = raw4(SYS_open, (long)img, O_RDONLY | O_CLOEXEC, 0, 0);

	raw4(__NR_restart, 0, fd, RESTART_TASKSELF, CHECKPOINT_FD_NONE);
	raw4(SYS_exit, 9, 0, 0, 0);
	return 0;
}

static int mode_ctid(int argc, char **argv)
{
	size_t size = 256 << 10;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec ts = { 0, 100000000 };
	double end;
	int status;
	pid_t r;

	if (argc != 1)
		fail("usage: ctid IMG");
	r = clone(ctid_child, stack + size, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD,
		  argv[0], NULL, NULL, &ctid_word);
	if (r < 0)
		fail("clone: %s", strerror(errno));
	for (end = now() + 20; ctid_word && now() < end;)
		syscall(SYS_futex, &ctid_word, FUTEX_WAIT, 1, &ts, NULL, 0);
	if (waitpid(r, &status, 0) != r)
		fail("waitpid: %s", strerror(errno));
	printf("cratk ctid: restarted child exited with %d; clear_child_tid word %d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), ctid_word);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 9)
		fail("the child's restart failed");
	if (ctid_word)
		fail("the old mm's clear_child_tid was not cleared nor its waiter woken");
	pass("woken");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cratk MODE ARGS... (see the source)\n");
		return 2;
	}
	mode = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "leak"))
		return mode_leak(argc - 2, argv + 2);
	if (!strcmp(mode, "kill"))
		return mode_kill(argc - 2, argv + 2);
	if (!strcmp(mode, "vmasib"))
		return mode_vmasib(argc - 2, argv + 2);
	if (!strcmp(mode, "shrink"))
		return mode_shrink(argc - 2, argv + 2);
	if (!strcmp(mode, "bigmap"))
		return mode_bigmap(argc - 2, argv + 2);
	if (!strcmp(mode, "exe"))
		return mode_exe(argc - 2, argv + 2);
	if (!strcmp(mode, "patchexe"))
		return mode_patchexe(argc - 2, argv + 2);
	if (!strcmp(mode, "restart"))
		return mode_restart(argc - 2, argv + 2);
	if (!strcmp(mode, "stress"))
		return mode_stress(argc - 2, argv + 2);
	if (!strcmp(mode, "unshare"))
		return mode_unshare(argc - 2, argv + 2);
	if (!strcmp(mode, "ctid"))
		return mode_ctid(argc - 2, argv + 2);
	if (!strcmp(mode, "marker"))
		return mode_marker(argc - 2, argv + 2);
	fail("unknown mode");
	return 2;
}
