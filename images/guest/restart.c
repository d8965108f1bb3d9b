/*
 * restart [-i FILE] [-l LOG] [-H HELD]: become the task checkpointed in FILE
 * (or stdin), with restart(2) and RESTART_TASKSELF.  Returns only on failure.
 *
 * restart -x ELF [-l LOG] [-H HELD]: the same by execve() of an ET_CKPT file
 * (made by ckpt2elf); a failure is written to LOG (opened close-on-exec, so
 * the restored task does not get it).  The files that its memory areas name
 * by descriptor (ckpt2elf -f) are opened first, at those descriptors: this is
 * the seed's user-space helper.
 *
 * -H HELD: hold the restored task before it runs a single instruction of its
 * own, so that its state can be compared with the checkpointed one.  The tool
 * forks; the child is traced (PTRACE_TRACEME) and calls restart(2); at the
 * syscall-exit stop of a successful restart the parent writes the restored
 * pid to HELD and waits for SIGUSR1, then detaches and exits 0, and the task
 * runs on.  A failed restart is not held: the child reports the error and the
 * tool exits with its status.  If the tool dies while holding, the held task
 * is killed (PTRACE_O_EXITKILL): it never runs half-observed.
 *
 * -p PID: the restored task gets the pid PID, the image's (a tree's root:
 * its children's parent pid and the ids of the groups it leads): restart(2)
 * is called by a child made with clone3() and set_tid = PID (which needs
 * CAP_CHECKPOINT_RESTORE and PID free); the tool waits for it (or holds it).
 *
 * -F CGROUP: RESTART_FROZEN: the tool moves itself into the cgroup v2
 * directory CGROUP (made if needed), and restart(2) freezes that cgroup once
 * every task is restored: none runs until `echo 0 > CGROUP/cgroup.freeze`.
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
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <stdint.h>

#include <elf.h>
#include <linux/checkpoint.h>
#include <linux/elf_ckpt.h>

static void usage(void)
{
	fprintf(stderr, "usage: restart [-i FILE | -x ELF] [-l LOG] [-H HELD] [-p PID] [-F CGROUP]\n");
	exit(2);
}

/* struct clone_args of <linux/sched.h>, up to set_tid_size */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/* fork(), the child with pid @pid if it is not 0 */
static pid_t fork_pid(pid_t pid)
{
	struct clone3_args args = { .exit_signal = SIGCHLD };
	pid_t tid = pid;
	long ret;

	if (!pid)
		return fork();
	args.set_tid = (uintptr_t)&tid;
	args.set_tid_size = 1;
	ret = syscall(435 /* __NR_clone3 */, &args, sizeof(args));
	if (ret < 0)
		fprintf(stderr, "restart: clone3 with pid %d: %s (errno %d)\n", (int)pid,
			strerror(errno), errno);
	return ret;
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

static int do_restart(int fd, int logfd)
{
	long ret;
	int err;

	ret = syscall(__NR_restart, 0, fd, restart_flags, logfd);
	err = errno;
	fprintf(stderr, "restart: %s (errno %d)\n", ret < 0 ? strerror(err) : "returned",
		ret < 0 ? err : 0);
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
 * Resume the traced child until its next syscall stop; signals that stop it
 * on the way are passed on.  Returns 0 at the stop, else the child's exit
 * status + 1 (it is gone).
 */
static int next_syscall_stop(pid_t child)
{
	int st, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, child, NULL, (void *)(long)sig) < 0)
			return 1 + wait_exit(child);
		sig = 0;
		if (waitpid(child, &st, 0) < 0)
			return 2;
		if (WIFEXITED(st))
			return 1 + WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 1 + 128 + WTERMSIG(st);
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if (WSTOPSIG(st) != SIGSTOP)
			sig = WSTOPSIG(st);
	}
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
	child = fork_pid(pid);
	if (child < 0) {
		perror("restart: fork");
		return 1;
	}
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
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)) < 0) {
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
		return wait_exit(child);
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
	if (write_held(held, child) < 0) {
		kill(child, SIGKILL);
		return 1;
	}
	while (sigwaitinfo(&usr1, NULL) < 0 && errno == EINTR)
		;
	if (ptrace(PTRACE_DETACH, child, NULL, NULL) < 0) {
		perror("restart: PTRACE_DETACH");
		return 1;
	}
	return 0;
}

/* restart(2) in a child of pid @pid; the tool exits with its status */
static int pid_restart(int fd, int logfd, pid_t pid)
{
	pid_t child = fork_pid(pid);

	if (child < 0)
		return 1;
	if (child == 0)
		_exit(do_restart(fd, logfd));
	close(fd);
	return wait_exit(child);
}

int main(int argc, char *argv[])
{
	const char *in = NULL, *log = NULL, *held = NULL;
	int fd = STDIN_FILENO, logfd = CHECKPOINT_FD_NONE;
	pid_t pid = 0;
	int opt;

	while ((opt = getopt(argc, argv, "i:x:l:H:p:F:h")) != -1) {
		switch (opt) {
		case 'F':
			if (enter_cgroup(optarg) < 0)
				return 1;
			break;
		case 'p':
			pid = atoi(optarg);
			if (pid <= 0)
				usage();
			break;
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
		default:
			usage();
		}
	}
	if (optind != argc || (in && exec_file))
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
	if (held)
		return hold_restart(held, fd, logfd, pid);
	if (exec_file)
		return do_exec(logfd);
	if (pid)
		return pid_restart(fd, logfd, pid);
	return do_restart(fd, logfd);
}
