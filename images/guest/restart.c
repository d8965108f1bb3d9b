/*
 * restart [-i FILE] [-l LOG] [-H HELD] [-p [PID] | -N] [-G] [-F CGROUP]: become the task
 * checkpointed in FILE (or stdin), with restart(2) and RESTART_TASKSELF.  Returns only on
 * failure.
 *
 * -p [PID]: restart with the image's pid (a multi-threaded process must: its
 * threads get their tids, and glibc keeps them; so does the root of a tree:
 * its children's parent pid and the ids of the groups it leads): the pid of
 * the image's first TASK record (FILE must then be a regular file), or PID.  The tool makes a child
 * with that pid (clone3() with set_tid, in its own pid namespace; it needs
 * CAP_CHECKPOINT_RESTORE), the child calls restart(2), and the tool waits for
 * it and exits with its status (128 + N if killed by signal N).  A pid of
 * the image's tree held by a zombie (a task killed just before, not yet
 * reaped by its parent) is waited for, 2 s at most.
 *
 * -E: drop CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE from the effective set
 * before restart(2) (they stay permitted): to test the kernel's own checks
 * of an image that needs them (the tids of a multi-threaded image).
 *
 * restart -x ELF [-l LOG] [-H HELD]: the same by execve() of an ET_CKPT file
 * (made by ckpt2elf); a failure is written to LOG (opened close-on-exec, so
 * the restored task does not get it).  The files that its memory areas name
 * by descriptor (ckpt2elf -f) are opened first, at those descriptors: this is
 * the seed's user-space helper.
 *
 * -H HELD: hold the restored task before it runs a single instruction of its
 * own, so that its state can be compared with the checkpointed one (all of its
 * threads: the ones restart(2) makes are traced from their start too, with
 * PTRACE_O_TRACECLONE, and released with it).  The tool
 * forks; the child is traced (PTRACE_TRACEME) and calls restart(2); at the
 * syscall-exit stop of a successful restart the parent writes the restored
 * pid to HELD and waits for SIGUSR1, then detaches and exits 0, and the task
 * runs on.  A failed restart is not held: the child reports the error and the
 * tool exits with its status.  If the tool dies while holding, the held task
 * is killed (PTRACE_O_EXITKILL): it never runs half-observed.  The other
 * tasks of a restored tree are not traced (restart(2) makes them with
 * CLONE_UNTRACED): they wait in the kernel until the tracer lets the root
 * go (here: the detach), and so do their threads.
 *
 * -N: the image of a pid namespace (checkpoint -N): the tool makes a child
 * with clone3(CLONE_NEWPID), pid 1 of a new pid namespace, that calls
 * restart(2) and becomes the namespace's init (the kernel makes the other
 * tasks with their pids in it); the tool waits for it and exits with its
 * status (128 + N if killed by signal N).  With -H, the held task is that
 * child.
 *
 * -G: RESTART_GHOST: the dead leaders of process groups and sessions of the
 * image (ghosts) are recreated as placeholders that hold their pids while
 * the groups are set, then exit (the kernel reaps them).
 *
 * -F CGROUP: RESTART_FROZEN: the tool moves itself into the cgroup v2
 * directory CGROUP (made if needed), and restart(2) freezes that cgroup once
 * every task is restored: none runs until `echo 0 > CGROUP/cgroup.freeze`.
 *
 * With RESTART_SHOW_NS in the environment, a failed restart prints the
 * UTS, IPC and network namespaces the caller is in afterwards (its own
 * again, if the kernel rolled back the tree's new ones).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <elf.h>
#include <linux/checkpoint.h>
#include <linux/capability.h>
#include <linux/checkpoint_hdr.h>
#include <linux/elf_ckpt.h>
#include <linux/sched.h>
#include <stdint.h>

static void usage(void)
{
	fprintf(stderr, "usage: restart [-i FILE | -x ELF] [-l LOG] [-H HELD] [-p [PID] | -N] [-G] [-E]"
		" [-F CGROUP]\n");
	exit(2);
}

static unsigned long restart_flags = RESTART_TASKSELF;

/* -F: into cgroup @dir, which restart(2) freezes */
static int enter_cgroup(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto err;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		goto err;
	if (write(fd, "0\n", 2) != 2) {
		close(fd);
		goto err;
	}
	close(fd);
	restart_flags |= RESTART_FROZEN;
	return 0;
err:
	fprintf(stderr, "restart: cgroup %s: %s\n", dir, strerror(errno));
	return -1;
}

static int drop_effective;

/* -E: CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE out of the effective set */
static int drop_restore_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	d[CAP_CHECKPOINT_RESTORE / 32].effective &= ~(1U << (CAP_CHECKPOINT_RESTORE % 32));
	return syscall(SYS_capset, &h, d);
}

/* RESTART_SHOW_NS: after a failed restart, the namespaces the caller is in (back in its own?) */
static void show_ns(void)
{
	static const char *const names[] = { "uts", "ipc", "net" };
	char path[64], link[128];
	size_t i;
	ssize_t n;

	fprintf(stderr, "restart: the caller's namespaces:");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		fprintf(stderr, " %s", link);
	}
	fprintf(stderr, "\n");
}

static int do_restart(int fd, int logfd)
{
	long ret;
	int err;

	if (drop_effective && drop_restore_caps()) {
		perror("restart: capset");
		return 1;
	}

	ret = syscall(__NR_restart, 0, fd, restart_flags, logfd);
	err = errno;
	fprintf(stderr, "restart: %s (errno %d)\n", ret < 0 ? strerror(err) : "returned",
		ret < 0 ? err : 0);
	if (getenv("RESTART_SHOW_NS"))
		show_ns();
	return 1;
}

static const char *exec_file;

/*
 * The seed's helper: open the file of each PT_CKPT_VMA with a descriptor
 * (p_paddr = fd + 1) by the path recorded after its VMA record.
 */
static int open_passed_files(void)
{
	struct { struct ckpt_hdr h; char path[4096]; } str;
	struct ckpt_hdr_vma v;
	Elf64_Ehdr e;
	Elf64_Phdr p;
	int elf, i, fd;

	elf = open(exec_file, O_RDONLY | O_CLOEXEC);
	if (elf >= 0) {
		/* out of the way of the descriptors it places */
		fd = fcntl(elf, F_DUPFD_CLOEXEC, 1000);
		close(elf);
		elf = fd;
	}
	/* not readable or not ET_CKPT: execve() tells */
	if (elf < 0 || pread(elf, &e, sizeof(e), 0) != sizeof(e) || e.e_type != ET_CKPT) {
		if (elf >= 0)
			close(elf);
		return 0;
	}
	for (i = 1; i < e.e_phnum; i++) {
		if (pread(elf, &p, sizeof(p), e.e_phoff + i * sizeof(p)) != sizeof(p))
			break;
		if (p.p_type != PT_CKPT_VMA || !p.p_paddr)
			continue;
		memset(&str, 0, sizeof(str));
		if (pread(elf, &v, sizeof(v), p.p_offset) != sizeof(v) ||
		    pread(elf, &str, sizeof(str) - 1, p.p_offset + sizeof(v)) < (ssize_t)sizeof(str.h))
			break;
		fd = open(str.path, (v.vma_type == CKPT_VMA_SHARED_FILE && (v.vm_flags & 0x20)) ?
			  O_RDWR : O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "restart: %s: %s\n", str.path, strerror(errno));
			close(elf);
			return -1;
		}
		if (fd != (int)(p.p_paddr - 1)) {
			dup2(fd, p.p_paddr - 1);
			close(fd);
		}
	}
	close(elf);
	return 0;
}

static int do_exec(int logfd)
{
	char *argv[] = { (char *)exec_file, NULL };
	char msg[512];
	int err, n;

	if (open_passed_files() < 0)
		return 1;
	execv(exec_file, argv);
	err = errno;
	n = snprintf(msg, sizeof(msg), "restart: exec %s: %s (errno %d)\n", exec_file,
		     strerror(err), err);
	fputs(msg, stderr);
	if (logfd >= 0 && write(logfd, msg, n) < 0)
		perror("restart: log");
	return 1;
}

/* Did the child become another program (restart succeeded)? */
static int became_other(pid_t child)
{
	char self[PATH_MAX], other[PATH_MAX], link[64];
	ssize_t a, b;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)child);
	a = readlink("/proc/self/exe", self, sizeof(self) - 1);
	b = readlink(link, other, sizeof(other) - 1);
	if (a < 0 || b < 0)
		return b >= 0;
	return a != b || memcmp(self, other, a) != 0;
}

static int write_held(const char *held, pid_t child)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", held);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)child) < 0 || fclose(f) != 0 || rename(tmp, held) != 0) {
		fprintf(stderr, "restart: %s: %s\n", held, strerror(errno));
		return -1;
	}
	return 0;
}

static int wait_exit(pid_t child)
{
	int st;

	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * The other threads of a multi-threaded image: restart(2) makes them in the
 * kernel, and with PTRACE_O_TRACECLONE they are traced by us from their
 * start (each with a SIGSTOP, before its first instruction), so that the
 * whole process is held.
 */
#define MAX_THREADS 1024
static pid_t threads[MAX_THREADS];
static int thread_stopped[MAX_THREADS];
static int nthreads;

static int thread_index(pid_t tid)
{
	for (int i = 0; i < nthreads; i++)
		if (threads[i] == tid)
			return i;
	return -1;
}

/*
 * Wait for the next event of the child, noting those of its threads on the
 * way (stops and exits: a traced thread is reaped by its tracer).
 */
static int wait_child(pid_t child, int *st)
{
	pid_t p;
	int i;

	for (;;) {
		p = waitpid(-1, st, __WALL);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0 || p == child)
			return p < 0 ? -1 : 0;
		i = thread_index(p);
		if (i < 0 && nthreads < MAX_THREADS) {
			/* its stop came before the clone event */
			i = nthreads++;
			threads[i] = p;
		}
		if (i >= 0)
			thread_stopped[i] = WIFSTOPPED(*st) ? 1 : -1;
	}
}

static int wait_exit_traced(pid_t child)
{
	int st;

	do {
		if (wait_child(child, &st) < 0)
			return 1;
	} while (!WIFEXITED(st) && !WIFSIGNALED(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Resume the traced child until its next syscall stop; signals that stop it
 * on the way are passed on, clone events noted.  Returns 0 at the stop, else
 * the child's exit status + 1 (it is gone).
 */
static int next_syscall_stop(pid_t child)
{
	unsigned long tid;
	int st, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, child, NULL, (void *)(long)sig) < 0)
			return 1 + wait_exit_traced(child);
		sig = 0;
		if (wait_child(child, &st) < 0)
			return 2;
		if (WIFEXITED(st))
			return 1 + WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 1 + 128 + WTERMSIG(st);
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == PTRACE_EVENT_CLONE) {
			if (!ptrace(PTRACE_GETEVENTMSG, child, NULL, &tid) &&
			    thread_index(tid) < 0 && nthreads < MAX_THREADS)
				threads[nthreads++] = tid;
			continue;
		}
		if (WSTOPSIG(st) != SIGSTOP)
			sig = WSTOPSIG(st);
	}
}

/* every thread made by restart(2) is in its first stop (or gone: -1) */
static int wait_threads_stopped(pid_t child)
{
	int st, i;
	pid_t p;

	for (;;) {
		for (i = 0; i < nthreads && thread_stopped[i]; i++)
			;
		if (i == nthreads)
			break;
		p = waitpid(threads[i], &st, __WALL);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return -1;
		thread_stopped[i] = WIFSTOPPED(st) ? 1 : -1;
	}
	for (i = 0; i < nthreads; i++)
		if (thread_stopped[i] < 0) {
			fprintf(stderr, "restart: thread %d of pid %d died\n", (int)threads[i],
				(int)child);
			return -1;
		}
	return 0;
}

/*
 * -p: the pid of the TASK record, read without consuming the stream: the
 * records before it (header, uts strings, arch header) are skipped by length.
 */
static pid_t image_pid(int fd)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);
	struct ckpt_hdr h;
	int32_t pid;
	int i;

	if (pos < 0) {
		fprintf(stderr, "restart: -p without PID needs a regular image file\n");
		return -1;
	}
	for (i = 0; i < 8; i++) {
		if (pread(fd, &h, sizeof(h), pos) != sizeof(h) || h.len < sizeof(h))
			break;
		if (h.type == CKPT_HDR_TASK) {
			if (pread(fd, &pid, sizeof(pid), pos + sizeof(h)) != sizeof(pid) || pid <= 0)
				break;
			return pid;
		}
		pos += (h.len + CKPT_HDR_ALIGN - 1) & ~(off_t)(CKPT_HDR_ALIGN - 1);
	}
	fprintf(stderr, "restart: no TASK record with a pid at the start of the image\n");
	return -1;
}

/*
 * A task killed just before holds its pid until its parent reaps it: while
 * @pid is a zombie (or dead, not yet reaped), wait for that, 2 s at most.  A
 * live holder is not waited for: its pid is taken (EEXIST).
 */
static void wait_reaped(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 200; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (!p || (p[2] != 'Z' && p[2] != 'X'))
			return;
		usleep(10000);
	}
}

/*
 * -p: the pids of the image's tree (TREE record, before the first TASK),
 * read without consuming the stream, each waited for if its holder exits.
 */
static void wait_image_pids_reaped(int fd)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);
	struct ckpt_hdr_tree t;
	struct ckpt_tree_task e;
	struct ckpt_hdr h;
	uint32_t j;
	int i;

	for (i = 0; pos >= 0 && i < 8; i++) {
		if (pread(fd, &h, sizeof(h), pos) != sizeof(h) || h.len < sizeof(h) ||
		    h.type == CKPT_HDR_TASK)
			return;
		if (h.type == CKPT_HDR_TREE) {
			if (pread(fd, &t, sizeof(t), pos) != sizeof(t) || t.nr_tasks > CKPT_TREE_MAX)
				return;
			for (j = 0; j < t.nr_tasks; j++)
				if (pread(fd, &e, sizeof(e), pos + sizeof(t) + j * sizeof(e)) == sizeof(e) &&
				    e.pid > 0)
					wait_reaped(e.pid);
			return;
		}
		pos += (h.len + CKPT_HDR_ALIGN - 1) & ~(off_t)(CKPT_HDR_ALIGN - 1);
	}
}

/* a child with pid @pid in our pid namespace: clone3() with set_tid */
static pid_t fork_with_pid(pid_t pid)
{
	struct clone_args args = { 0 };

	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)&pid;
	args.set_tid_size = 1;
	return syscall(SYS_clone3, &args, sizeof(args));
}

static int new_pidns;

/* -N: a child that is pid 1 of a new pid namespace */
static pid_t fork_pidns(void)
{
	struct clone_args args = { 0 };
	pid_t child;

	args.flags = CLONE_NEWPID;
	args.exit_signal = SIGCHLD;
	child = syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0)
		fprintf(stderr, "restart: clone3(CLONE_NEWPID): %s (errno %d)\n", strerror(errno),
			errno);
	return child;
}

static pid_t make_child(pid_t pid)
{
	pid_t child;

	if (new_pidns)
		return fork_pidns();
	child = pid > 0 ? fork_with_pid(pid) : fork();
	if (child < 0 && pid > 0)
		fprintf(stderr, "restart: clone3 with pid %d: %s (errno %d)\n", (int)pid,
			strerror(errno), errno);
	else if (child < 0)
		perror("restart: fork");
	return child;
}

/* -p without -H: the child restarts with the pid, the tool forwards its status */
static int restart_with_pid(pid_t pid, int fd, int logfd)
{
	pid_t child = make_child(pid);

	if (child < 0)
		return 1;
	if (child == 0)
		_exit(do_restart(fd, logfd));
	return wait_exit(child);
}

static int hold_restart(const char *held, int fd, int logfd, pid_t pid)
{
	unsigned long long nr = exec_file ? __NR_execve : __NR_restart;
	struct user_regs_struct regs;
	sigset_t usr1;
	pid_t child;
	int st, ret;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	child = make_child(pid);
	if (child < 0)
		return 1;
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &usr1, NULL);
		setsid();	/* a session leader, as `setsid restart` makes one */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
			perror("restart: PTRACE_TRACEME");
			_exit(1);
		}
		raise(SIGSTOP);
		_exit(exec_file ? do_exec(logfd) : do_restart(fd, logfd));
	}
	if (waitpid(child, &st, 0) < 0 || !WIFSTOPPED(st)) {
		fprintf(stderr, "restart: traced child did not stop\n");
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, child, NULL,
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
				  PTRACE_O_TRACECLONE)) < 0) {
		perror("restart: PTRACE_SETOPTIONS");
		kill(child, SIGKILL);
		return 1;
	}
	/* Entry stops until restart(2)'s (execve's); its exit stop is the next one. */
	do {
		ret = next_syscall_stop(child);
		if (ret)
			return ret - 1;
		if (ptrace(PTRACE_GETREGS, child, NULL, &regs) < 0) {
			kill(child, SIGKILL);
			return 1;
		}
		if (regs.orig_rax != nr) {
			ret = next_syscall_stop(child);	/* that syscall's exit */
			if (ret)
				return ret - 1;
		}
	} while (regs.orig_rax != nr);
	ret = next_syscall_stop(child);
	if (ret)
		return ret - 1;
	if (!became_other(child)) {
		/* failed: let the child report it */
		ptrace(PTRACE_DETACH, child, NULL, NULL);
		return wait_exit_traced(child);
	}
	/*
	 * A traced execve() sends the SIGTRAP of the exec (no PTRACE_O_TRACEEXEC:
	 * the kernel refuses to restore under it): hold the task at its delivery
	 * stop, before it runs, and detach with the signal suppressed.
	 */
	if (exec_file) {
		if (ptrace(PTRACE_SYSCALL, child, NULL, NULL) < 0 || waitpid(child, &st, 0) < 0 ||
		    !WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) {
			fprintf(stderr, "restart: no SIGTRAP after the exec\n");
			kill(child, SIGKILL);
			return 1;
		}
	}
	if (wait_threads_stopped(child) < 0 || write_held(held, child) < 0) {
		kill(child, SIGKILL);
		return 1;
	}
	while (sigwaitinfo(&usr1, NULL) < 0 && errno == EINTR)
		;
	/* each thread's first stop is its SIGSTOP: discarded */
	for (int i = 0; i < nthreads; i++)
		if (ptrace(PTRACE_DETACH, threads[i], NULL, NULL) < 0) {
			perror("restart: PTRACE_DETACH of a thread");
			kill(child, SIGKILL);
			return 1;
		}
	if (ptrace(PTRACE_DETACH, child, NULL, NULL) < 0) {
		perror("restart: PTRACE_DETACH");
		return 1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	const char *in = NULL, *log = NULL, *held = NULL;
	int fd = STDIN_FILENO, logfd = CHECKPOINT_FD_NONE;
	int opt, with_pid = 0;
	pid_t pid = 0;

	while ((opt = getopt(argc, argv, "+i:x:l:H:pNGEF:h")) != -1) {
		switch (opt) {
		case 'x':
			exec_file = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'H':
			held = optarg;
			break;
		case 'E':
			drop_effective = 1;
			break;
		case 'N':
			new_pidns = 1;
			break;
		case 'G':
			restart_flags |= RESTART_GHOST;
			break;
		case 'F':
			if (enter_cgroup(optarg) < 0)
				return 1;
			break;
		case 'p':
			with_pid = 1;
			/* an optional PID as the next word */
			if (optind < argc && argv[optind][0] >= '1' && argv[optind][0] <= '9' &&
			    strspn(argv[optind], "0123456789") == strlen(argv[optind]))
				pid = atoi(argv[optind++]);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (in && exec_file) || (new_pidns && (with_pid || exec_file)))
		usage();
	if (in) {
		fd = open(in, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "restart: %s: %s\n", in, strerror(errno));
			return 1;
		}
	}
	if (log) {
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | (exec_file ? O_CLOEXEC : 0), 0600);
		if (logfd < 0) {
			fprintf(stderr, "restart: %s: %s\n", log, strerror(errno));
			return 1;
		}
	}
	if (with_pid && !pid)
		pid = image_pid(fd);
	if (with_pid && pid <= 0)
		return 1;
	if (with_pid)
		wait_image_pids_reaped(fd);
	if (held)
		return hold_restart(held, fd, logfd, pid);
	if (with_pid || new_pidns)
		return restart_with_pid(pid, fd, logfd);
	return exec_file ? do_exec(logfd) : do_restart(fd, logfd);
}
