/*
 * sigtimers: pending signals and interval timers that restart must
 * restore exactly (issue 10).
 *
 *   sigtimers hold RES    blocks SIGINT, SIGUSR2, SIGRTMIN+1, SIGRTMIN+2
 *                         and queues: SIGRTMIN+1 three times with values
 *                         11, 22, 33 and SIGINT by tgkill() on its own
 *                         thread (the private queue), SIGRTMIN+2 with value
 *                         44 by sigqueue() and SIGUSR2 by kill() (the
 *                         shared queue); arms ITIMER_REAL 100 s every 7 s,
 *                         ITIMER_VIRTUAL 50 s every 3 s and ITIMER_PROF 60 s
 *                         once, burns 0.5 s of CPU time, notes what
 *                         getitimer() says, prints "ready PID" and pause()s
 *                         until SIGUSR1.  Then it checks that the pending
 *                         sets of each queue are the same, that each signal
 *                         comes with its siginfo (code, sender pid and uid,
 *                         value, in order), that every timer has its
 *                         interval and at most the time it had left (and
 *                         not much less), and writes PASS or "FAIL: what" to
 *                         RES.
 *   sigtimers posix RES   a task with a POSIX timer on a CPU-time clock
 *                         (CLOCK_PROCESS_CPUTIME_ID): "ready PID", pause().
 *   sigtimers suspend RES blocks SIGINT and SIGUSR2, then waits in
 *                         sigsuspend() with only SIGUSR2 blocked, until
 *                         SIGUSR1; then checks that its own mask (SIGINT,
 *                         SIGUSR2) is back, and writes PASS or FAIL to RES.
 * stdio must be regular files or /dev/null (checkpoint refuses pipes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/time.h>

static sig_atomic_t released;
static pid_t orig_pid;
static uid_t orig_uid;
static struct itimerval before[3];
static char msg[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void on_other(int sig)
{
	(void)sig;
}

static void die(const char *what)
{
	printf("sigtimers: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, long a, long b)
{
	if (!msg[0])
		snprintf(msg, sizeof(msg), fmt, a, b);
}

static void queue_rt(int sig, int value, int private)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (private) {
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si))
			die("rt_tgsigqueueinfo");
	} else if (sigqueue(getpid(), sig, si.si_value)) {
		die("sigqueue");
	}
}

static unsigned long long status_mask(const char *key)
{
	char line[256];
	unsigned long long v = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtoull(line + strlen(key), NULL, 16);
	fclose(f);
	return v;
}

static long us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

/* one pending signal: dequeued, its siginfo as expected */
static void expect(int sig, int code, int value)
{
	struct timespec zero = { 0, 0 };
	sigset_t one;
	siginfo_t si;

	sigemptyset(&one);
	sigaddset(&one, sig);
	/* the raw call: glibc's sigtimedwait() shows SI_TKILL as SI_USER */
	if (syscall(SYS_rt_sigtimedwait, &one, &si, &zero, _NSIG / 8) != sig) {
		fail("FAIL: signal %ld not pending (%ld)", sig, errno);
		return;
	}
	if (si.si_code != code)
		fail("FAIL: signal %ld has si_code %ld", sig, si.si_code);
	else if (si.si_pid != orig_pid)
		fail("FAIL: signal %ld from pid %ld", sig, si.si_pid);
	else if (si.si_uid != orig_uid)
		fail("FAIL: signal %ld from uid %ld", sig, si.si_uid);
	else if (value && si.si_value.sival_int != value)
		fail("FAIL: signal value %ld, expected %ld", si.si_value.sival_int, value);
}

/*
 * The time left may not exceed what it was just before checkpoint, give or take @slack_us: the
 * CPU-time timers (VIRTUAL, PROF) are charged from the task's utime/stime, which the kernel
 * splits by tick samples (4 ms at HZ=250), so a reading may move by a tick or two either way.
 */
static void check_timer(int which, long interval_us, long min_left_us, long slack_us)
{
	struct itimerval now;

	getitimer(which, &now);
	if (us(&now.it_interval) != interval_us)
		fail("FAIL: itimer %ld interval %ld us", which, us(&now.it_interval));
	else if (us(&now.it_value) > us(&before[which].it_value) + slack_us)
		fail("FAIL: itimer %ld has %ld us left, more than before", which,
		     us(&now.it_value));
	else if (us(&now.it_value) < min_left_us)
		fail("FAIL: itimer %ld has only %ld us left", which, us(&now.it_value));
}

static void burn(long ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void write_result(const char *res)
{
	int fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(res);
	dprintf(fd, "%s\n", msg[0] ? msg : "PASS");
	close(fd);
}

static int mode_hold(const char *res)
{
	struct itimerval real = { { 7, 0 }, { 100, 0 } };
	struct itimerval virt = { { 3, 0 }, { 50, 0 } };
	struct itimerval prof = { { 0, 0 }, { 60, 0 } };
	unsigned long long priv, shared, want_priv, want_shared;
	sigset_t block;
	int i;

	signal(SIGUSR1, on_usr1);
	for (i = 0; i < 3; i++)
		signal((int[]){ SIGALRM, SIGVTALRM, SIGPROF }[i], on_other);
	signal(SIGUSR2, on_other);
	signal(SIGINT, on_other);
	signal(SIGRTMIN + 1, on_other);
	signal(SIGRTMIN + 2, on_other);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN + 1);
	sigaddset(&block, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	orig_pid = getpid();
	orig_uid = getuid();
	queue_rt(SIGRTMIN + 1, 11, 1);
	queue_rt(SIGRTMIN + 1, 22, 1);
	if (syscall(SYS_tgkill, getpid(), gettid(), SIGINT))
		die("tgkill");
	queue_rt(SIGRTMIN + 2, 44, 0);
	kill(getpid(), SIGUSR2);
	queue_rt(SIGRTMIN + 1, 33, 1);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &virt, NULL) ||
	    setitimer(ITIMER_PROF, &prof, NULL))
		die("setitimer");
	burn(500);
	for (i = 0; i < 3; i++)
		getitimer(i, &before[i]);
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();

	want_priv = 1ULL << (SIGINT - 1) | 1ULL << (SIGRTMIN + 1 - 1);
	want_shared = 1ULL << (SIGUSR2 - 1) | 1ULL << (SIGRTMIN + 2 - 1);
	priv = status_mask("SigPnd:");
	shared = status_mask("ShdPnd:");
	if (priv != want_priv || shared != want_shared)
		snprintf(msg, sizeof(msg), "FAIL: pending %#llx shared %#llx, expected %#llx %#llx",
			 priv, shared, want_priv, want_shared);
	expect(SIGRTMIN + 1, SI_QUEUE, 11);
	expect(SIGRTMIN + 1, SI_QUEUE, 22);
	expect(SIGRTMIN + 1, SI_QUEUE, 33);
	expect(SIGRTMIN + 2, SI_QUEUE, 44);
	expect(SIGUSR2, SI_USER, 0);
	expect(SIGINT, SI_TKILL, 0);
	sigpending(&block);
	for (i = 1; i < 65; i++)
		if (sigismember(&block, i))
			fail("FAIL: signal %ld still pending %ld", i, 0);
	/* the time left, not the whole value again; and not lost */
	check_timer(ITIMER_REAL, 7000000, us(&before[ITIMER_REAL].it_value) - 120000000, 0);
	check_timer(ITIMER_VIRTUAL, 3000000, us(&before[ITIMER_VIRTUAL].it_value) - 5000000, 10000);
	check_timer(ITIMER_PROF, 0, us(&before[ITIMER_PROF].it_value) - 5000000, 10000);
	write_result(res);
	return 0;
}

static int mode_posix(const char *res)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };
	struct itimerspec its = { { 1, 0 }, { 100, 0 } };
	timer_t id;

	signal(SIGUSR1, on_usr1);
	if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &id) ||
	    timer_settime(id, 0, &its, NULL))
		die("timer_create");
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();
	write_result(res);
	return 0;
}

static int mode_suspend(const char *res)
{
	sigset_t own, temp, now;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&own);
	sigaddset(&own, SIGINT);
	sigaddset(&own, SIGUSR2);
	sigprocmask(SIG_SETMASK, &own, NULL);
	sigemptyset(&temp);
	sigaddset(&temp, SIGUSR2);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		sigsuspend(&temp);
	sigprocmask(SIG_SETMASK, NULL, &now);
	if (!sigismember(&now, SIGINT) || !sigismember(&now, SIGUSR2) ||
	    sigismember(&now, SIGUSR1))
		snprintf(msg, sizeof(msg), "FAIL: mask after sigsuspend: INT %d USR2 %d USR1 %d",
			 sigismember(&now, SIGINT), sigismember(&now, SIGUSR2),
			 sigismember(&now, SIGUSR1));
	write_result(res);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return mode_hold(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "posix"))
		return mode_posix(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "suspend"))
		return mode_suspend(argv[2]);
	fprintf(stderr, "usage: sigtimers hold RES | posix RES | suspend RES\n");
	return 2;
}
