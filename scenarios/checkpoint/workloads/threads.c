/*
 * threads: a self-checking multi-threaded process for checkpoint/restart
 * of every thread of a process (issue 12).
 *
 *   threads RES     starts 4 threads, each with its own name, signal mask,
 *                   sigaltstack and TLS value, and each blocked its own way:
 *                     waiter  in pthread_cond_wait() (a futex wait)
 *                     sleeper in nanosleep() (1 s at a time), with a private
 *                             pending signal (pthread_kill, blocked)
 *                     spinner computing in user mode
 *                     reader  in read() of a pipe
 *                   and two POSIX timers signalling a thread other than
 *                   the leader (SIGEV_THREAD_ID): one to the waiter, fired,
 *                   its signal pending on the waiter (blocked there), one to
 *                   the reader, armed for 300 s;
 *                   then prints "ready PID tids T1 T2 T3 T4" and waits for
 *                   SIGUSR1 (sigwaitinfo).  On SIGUSR1 it signals the
 *                   condition variable, writes to the pipe and stops the
 *                   others; each thread checks that its tid (gettid()), TLS
 *                   value, mask, altstack and name are still its own, and the
 *                   sleeper that its pending signal is there with its siginfo,
 *                   the spinner that its computation is consistent, the
 *                   waiter that its timer's signal is pending on it (SigPnd
 *                   of its task) with SI_TIMER, the timer id and value, and
 *                   main that the reader's timer kept its time left.  RES gets
 *                   "PASS" or "FAIL: what" (every failure).  Exit 0 iff PASS.
 *   threads nice RES   (refusal) the same, but the sleeper has a nice value
 *                      of its own (setpriority() of its tid)
 *   threads futex RES  (refusal) the same, but the sleeper waits in a raw
 *                      FUTEX_WAIT with a relative timeout
 *                   both print "ready PID tids ..." too, and wait to be killed.
 *   threads child RES  the same, with a child forked first (a tree of two
 *                      tasks, the multi-threaded one its root): it prints
 *                      "child PID" after the ready line, and on SIGUSR1 the
 *                      process also kills its child (SIGTERM) and reaps it:
 *                      it must still be its child, blocked in pause().
 *   threads self RES   (refusal) once the threads are in place, checkpoints
 *                      itself (pid 0): RES gets "PASS" if that fails with
 *                      EBUSY, and LOG (RES.log) the kernel's message.
 * stdio must be regular files or /dev/null (checkpoint refuses ttys).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/checkpoint.h>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define NTHREADS 4
#define RESLEN 512
#define ALLLEN (RESLEN * (NTHREADS + 2))
enum { WAITER, SLEEPER, SPINNER, READER };
static const char *const names[NTHREADS] = { "waiter", "sleeper", "spinner", "reader" };

static __thread long tls_value = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;			/* under lock */
static volatile int stop;
static int pfd[2];
static pid_t tids[NTHREADS];
static volatile int in_place[NTHREADS];
static char result[NTHREADS][RESLEN];
static const char *mode = "";	/* "", "nice" or "futex" */
static int timer_waiter = -1, timer_reader = -1;	/* kernel timer ids */

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* a POSIX timer signalling thread @tid with @sig (raw: the kernel's id) */
static int thread_timer(pid_t tid, int sig, int value, time_t sec, long nsec)
{
	struct itimerspec its = { { 0, 0 }, { sec, nsec } };
	struct sigevent ev;
	int id;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_int = value;
	ev.sigev_notify_thread_id = tid;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) ||
	    syscall(SYS_timer_settime, id, 0, &its, NULL))
		return -1;
	return id;
}

/* is @sig pending in the private queue of the calling thread (SigPnd)? */
static int pending_here(int sig)
{
	char line[256];
	unsigned long long mask = 0;
	FILE *f = fopen("/proc/thread-self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigPnd: %llx", &mask) == 1)
			break;
	fclose(f);
	return !!(mask & (1ULL << (sig - 1)));
}

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void addn(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void addn(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 3 >= size)
		return;
	if (n) {
		buf[n++] = ';';
		buf[n++] = ' ';
		buf[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}



/* the mask of thread i: SIGUSR1, SIGUSR2 and SIGRTMIN+i */
static void mask_of(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGRTMIN + i);
}

struct tstate {
	int i;
	stack_t ss;
};

/* what each thread checks about itself after it woke up */
static void check_self(struct tstate *st)
{
	char *r = result[st->i], name[32] = "";
	sigset_t want, got;
	stack_t ss;
	int sig;

	if (my_tid() != tids[st->i])
		addn(r, RESLEN, "%s: gettid() %d, was %d", names[st->i], my_tid(), tids[st->i]);
	if (tls_value != 1000 + st->i)
		addn(r, RESLEN, "%s: TLS value %ld, was %d", names[st->i], tls_value, 1000 + st->i);
	mask_of(st->i, &want);
	pthread_sigmask(SIG_SETMASK, NULL, &got);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigismember(&want, sig) != sigismember(&got, sig))
			addn(r, RESLEN, "%s: signal %d %sblocked", names[st->i], sig, sigismember(&got, sig) ? "" : "not ");
	if (sigaltstack(NULL, &ss) || ss.ss_sp != st->ss.ss_sp || ss.ss_size != st->ss.ss_size ||
	    (ss.ss_flags & SS_DISABLE))
		addn(r, RESLEN, "%s: sigaltstack %p/%zu, was %p/%zu", names[st->i], ss.ss_sp, ss.ss_size,
		    st->ss.ss_sp, st->ss.ss_size);
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) || strcmp(name, names[st->i]))
		addn(r, RESLEN, "%s: name \"%s\"", names[st->i], name);
	/* glibc's own idea of the tid (struct pthread): pthread_kill with signal 0 */
	if (pthread_kill(pthread_self(), 0))
		addn(r, RESLEN, "%s: pthread_kill(self, 0) failed", names[st->i]);
}

static void *thread_main(void *arg)
{
	struct tstate *st = arg;
	char *r = result[st->i];
	sigset_t set;

	tids[st->i] = my_tid();
	tls_value = 1000 + st->i;
	pthread_setname_np(pthread_self(), names[st->i]);
	mask_of(st->i, &set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	st->ss.ss_size = 65536;
	st->ss.ss_sp = malloc(st->ss.ss_size);
	st->ss.ss_flags = 0;
	if (!st->ss.ss_sp || sigaltstack(&st->ss, NULL))
		addn(r, RESLEN, "%s: sigaltstack failed", names[st->i]);

	switch (st->i) {
	case WAITER:
		pthread_mutex_lock(&lock);
		in_place[st->i] = 1;
		while (!go)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
		if (timer_waiter >= 0) {
			struct timespec zero = { 0, 0 };
			siginfo_t si;

			sigemptyset(&set);
			sigaddset(&set, SIGRTMIN + WAITER);
			if (pending_here(SIGRTMIN + WAITER) != 1)
				addn(r, RESLEN, "waiter: its timer's signal is not pending on it (SigPnd)");
			if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + WAITER)
				addn(r, RESLEN, "waiter: its timer's signal is gone");
			else if (si.si_code != SI_TIMER || si.si_timerid != timer_waiter ||
				 si.si_value.sival_int != 5151)
				addn(r, RESLEN, "waiter: timer signal with si_code %d timer %d value %d",
				     si.si_code, si.si_timerid, si.si_value.sival_int);
		}
		break;
	case SLEEPER: {
		struct timespec ts = { 1, 0 }, day = { 86400, 0 };
		siginfo_t si;
		struct timespec zero = { 0, 0 };
		static unsigned int word;

		if (!strcmp(mode, "nice") && setpriority(PRIO_PROCESS, my_tid(), 5))
			addn(r, RESLEN, "sleeper: setpriority failed");
		in_place[st->i] = 1;
		if (!strcmp(mode, "futex"))
			for (;;)
				syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &day, NULL, 0);
		while (!stop)
			nanosleep(&ts, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + SLEEPER);
		if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + SLEEPER)
			addn(r, RESLEN, "sleeper: its pending SIGRTMIN+%d is gone", SLEEPER);
		else if (si.si_code != SI_QUEUE || si.si_pid != getpid() ||
			 si.si_value.sival_int != 4242)
			addn(r, RESLEN, "sleeper: pending signal with si_code %d si_pid %d value %d",
			     si.si_code, (int)si.si_pid, si.si_value.sival_int);
		break;
	}
	case SPINNER: {
		uint64_t x = 1, y = 1, n = 0, k;

		in_place[st->i] = 1;
		while (!stop) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			n++;
		}
		for (k = 0; k < n; k++)
			y = y * 6364136223846793005ULL + 1442695040888963407ULL;
		if (x != y)
			addn(r, RESLEN, "spinner: state after %llu steps inconsistent", (unsigned long long)n);
		break;
	}
	case READER: {
		char c = 0;
		ssize_t got;

		in_place[st->i] = 1;
		do
			got = read(pfd[0], &c, 1);
		while (got < 0 && errno == EINTR);
		if (got != 1 || c != 'x')
			addn(r, RESLEN, "reader: read() returned %zd '%c'", got, c);
		break;
	}
	}
	check_self(st);
	return NULL;
}

static int count_tasks(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int main(int argc, char **argv)
{
	static struct tstate st[NTHREADS];
	pthread_t th[NTHREADS];
	char all[ALLLEN] = "";
	pid_t pid = getpid(), child = 0;
	sigset_t usr1;
	int i, fd, n;

	if (argc == 3 && (!strcmp(argv[1], "nice") || !strcmp(argv[1], "futex") ||
			  !strcmp(argv[1], "self") || !strcmp(argv[1], "child"))) {
		mode = argv[1];
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: threads [nice|futex|self|child] RES\n");
		return 2;
	}
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (!strcmp(mode, "child")) {
		child = fork();
		if (child < 0)
			return 1;
		if (child == 0) {
			for (;;)
				pause();
		}
	}
	if (pipe(pfd))
		return 1;
	for (i = 0; i < NTHREADS; i++) {
		st[i].i = i;
		if (pthread_create(&th[i], NULL, thread_main, &st[i]))
			return 1;
	}
	for (i = 0; i < NTHREADS; i++)
		while (!in_place[i])
			usleep(1000);
	/* a private pending signal of the sleeper, blocked there, with its siginfo */
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGRTMIN + SLEEPER;
		si.si_code = SI_QUEUE;
		si.si_pid = pid;
		si.si_uid = getuid();
		si.si_value.sival_int = 4242;
		if (syscall(SYS_rt_tgsigqueueinfo, pid, tids[SLEEPER], SIGRTMIN + SLEEPER, &si))
			return 1;
	}
	if (!mode[0]) {
		/* the waiter's fires at once, its signal stays pending there */
		timer_waiter = thread_timer(tids[WAITER], SIGRTMIN + WAITER, 5151, 0, 1000000);
		timer_reader = thread_timer(tids[READER], SIGRTMIN + READER, 6161, 300, 0);
		if (timer_waiter < 0 || timer_reader < 0)
			return 1;
	}
	usleep(200000);		/* each in its call */
	printf("ready %d tids %d %d %d %d\n", pid, tids[0], tids[1], tids[2], tids[3]);
	if (child > 0)
		printf("child %d\n", child);
	fflush(stdout);
	if (!strcmp(mode, "self")) {
		char log[4096];
		int img, lfd;
		long ret;

		snprintf(log, sizeof(log), "%s.log", argv[1]);
		img = open("/tmp/threads-self.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ret = syscall(__NR_checkpoint, 0, img, CHECKPOINT_SUBTREE, lfd);
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return 1;
		if (ret < 0 && errno == EBUSY)
			dprintf(fd, "PASS\n");
		else
			dprintf(fd, "FAIL: self checkpoint returned %ld (errno %d)\n", ret, errno);
		close(fd);
		return 0;
	}

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	while (sigwaitinfo(&usr1, NULL) < 0 && errno == EINTR)
		;
	n = count_tasks();
	if (timer_reader >= 0) {
		struct itimerspec its;

		if (syscall(SYS_timer_gettime, timer_reader, &its))
			addn(all, ALLLEN, "main: timer_gettime of the reader's timer failed");
		else if (its.it_value.tv_sec < 240 || its.it_value.tv_sec >= 300)
			addn(all, ALLLEN, "main: the reader's timer has %ld s left", (long)its.it_value.tv_sec);
	}
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (write(pfd[1], "x", 1) != 1)
		addn(all, ALLLEN, "main: write to the pipe failed");
	stop = 1;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	if (getpid() != pid)
		addn(all, ALLLEN, "main: getpid() %d, was %d", getpid(), pid);
	if (n != NTHREADS + 1)
		addn(all, ALLLEN, "main: %d tasks in /proc/self/task, expected %d", n, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		if (result[i][0])
			addn(all, ALLLEN, "%s", result[i]);
	if (child > 0) {
		int wst;

		if (kill(child, SIGTERM) || waitpid(child, &wst, 0) != child)
			addn(all, ALLLEN, "main: child %d is not ours: %s", child, strerror(errno));
		else if (!WIFSIGNALED(wst) || WTERMSIG(wst) != SIGTERM)
			addn(all, ALLLEN, "main: child %d status %#x, not killed by SIGTERM", child, wst);
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	dprintf(fd, "%s%s\n", all[0] ? "FAIL: " : "PASS", all);
	close(fd);
	return all[0] ? 1 : 0;
}
