/*
 * posixtimers RES: POSIX timers (timer_create()) that restart must restore
 * with their ids, clocks, notifications, time left and pending signal
 * (issue 10).
 *
 * Makes, in this order (ids 0, 1, ...): A, CLOCK_REALTIME, SIGEV_SIGNAL
 * SIGRTMIN+3 (blocked) with value 777, first after 100 ms then every
 * second; X, deleted at once (its id stays a hole); B, CLOCK_MONOTONIC,
 * SIGEV_NONE, once after 300 s; C, CLOCK_BOOTTIME, SIGEV_SIGNAL SIGRTMIN+4
 * value 99, armed then disarmed; D, CLOCK_REALTIME, SIGEV_THREAD_ID to
 * itself with SIGRTMIN+5, TIMER_ABSTIME 600 s from now.  It waits until
 * A has fired (its signal pending, the timer waiting for it to be taken),
 * notes what timer_gettime() says, prints "ready PID" and pause()s until
 * SIGUSR1.  Then it checks: the ids (X's is invalid, the next
 * timer_create() gets the id it would have), each timer's interval and
 * time left (B not more than before nor much less: the time spent
 * checkpointed does not count; D its absolute deadline), C disarmed, A's
 * signal pending with SI_TIMER, its value and timer id, then A rearmed
 * by taking it (the next signal arrives within 2 s), and writes PASS or
 * "FAIL: what" to RES.
 * stdio must be regular files or /dev/null.
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

static sig_atomic_t released;
static char msg[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("posixtimers: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, long a, long b)
{
	if (!msg[0])
		snprintf(msg, sizeof(msg), fmt, a, b);
}

static long long ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* kernel timer ids: an int (glibc's timer_t is its own) */
static int make(clockid_t clock, int notify, int signo, int value)
{
	struct sigevent sev;
	int id = -1;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = notify;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_int = value;
	if (notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = gettid();
	/* the raw call: glibc's timer_create() returns its own timer_t */
	if (syscall(SYS_timer_create, clock, &sev, &id))
		die("timer_create");
	return id;
}

static void arm(int id, int flags, long long value_ns, long long interval_ns)
{
	struct itimerspec its = {
		{ interval_ns / 1000000000, interval_ns % 1000000000 },
		{ value_ns / 1000000000, value_ns % 1000000000 },
	};

	if (syscall(SYS_timer_settime, id, flags, &its, NULL))
		die("timer_settime");
}

static struct itimerspec get(int id)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (syscall(SYS_timer_gettime, id, &its))
		fail("FAIL: timer_gettime(%ld): errno %ld", id, errno);
	return its;
}

static void write_result(const char *res)
{
	int fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(res);
	dprintf(fd, "%s\n", msg[0] ? msg : "PASS");
	close(fd);
}

/* A's signal: SI_TIMER, its value and id */
static void take_a(int sig, long a, long wait_s, const char *what)
{
	struct timespec t = { wait_s, 0 };
	sigset_t one;
	siginfo_t si;

	sigemptyset(&one);
	sigaddset(&one, sig);
	if (sigtimedwait(&one, &si, &t) != sig) {
		fail(what, errno, 0);
		return;
	}
	if (si.si_code != SI_TIMER)
		fail("FAIL: A's signal has si_code %ld", si.si_code, 0);
	else if (si.si_value.sival_int != 777)
		fail("FAIL: A's signal has value %ld", si.si_value.sival_int, 0);
	else if (si.si_timerid != a)
		fail("FAIL: A's signal names timer %ld, not %ld", si.si_timerid, a);
	else if (si.si_overrun < 0 || si.si_overrun > 120)
		fail("FAIL: A's signal has %ld overruns", si.si_overrun, 0);
}

int main(int argc, char **argv)
{
	int a, x, b, c, d, e;
	struct itimerspec before_b, its;
	struct timespec now, deadline;
	sigset_t block, pend;
	long long left;

	if (argc != 2) {
		fprintf(stderr, "usage: posixtimers RES\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 3);
	sigaddset(&block, SIGRTMIN + 4);
	sigaddset(&block, SIGRTMIN + 5);
	sigprocmask(SIG_BLOCK, &block, NULL);

	a = make(CLOCK_REALTIME, SIGEV_SIGNAL, SIGRTMIN + 3, 777);
	x = make(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 4, 1);
	if (syscall(SYS_timer_delete, x))
		die("timer_delete");
	b = make(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	c = make(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGRTMIN + 4, 99);
	d = make(CLOCK_REALTIME, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGRTMIN + 5, 5);
	arm(a, 0, 100000000, 1000000000);
	arm(b, 0, 300000000000LL, 0);
	arm(c, 0, 5000000000LL, 0);
	arm(c, 0, 0, 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 600;
	arm(d, TIMER_ABSTIME, ns(&deadline), 0);
	usleep(300000);
	sigpending(&pend);
	if (!sigismember(&pend, SIGRTMIN + 3))
		die("A has not fired");
	before_b = get(b);
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d ids %d %d %d %d %d\n", getpid(), a, x, b,
	       c, d);
	fflush(stdout);
	while (!released)
		pause();

	if (a != 0 || b != 2 || c != 3 || d != 4)
		fail("FAIL: ids %ld... %ld", a, d);
	if (syscall(SYS_timer_gettime, x, &its) != -1 || errno != EINVAL)
		fail("FAIL: the deleted timer %ld exists again (%ld)", x, errno);
	its = get(a);
	if (ns(&its.it_interval) != 1000000000 || ns(&its.it_value) <= 0 ||
	    ns(&its.it_value) > 1000000000)
		fail("FAIL: A has %ld ns left, interval %ld ns", ns(&its.it_value),
		     ns(&its.it_interval));
	its = get(b);
	left = ns(&its.it_value);
	if (ns(&its.it_interval) || left > ns(&before_b.it_value) ||
	    left < ns(&before_b.it_value) - 120000000000LL)
		fail("FAIL: B has %ld ns left (%ld before)", left, ns(&before_b.it_value));
	its = get(c);
	if (ns(&its.it_value) || ns(&its.it_interval))
		fail("FAIL: C is armed: %ld ns left, interval %ld", ns(&its.it_value),
		     ns(&its.it_interval));
	its = get(d);
	clock_gettime(CLOCK_REALTIME, &now);
	left = ns(&deadline) - ns(&now);
	if (ns(&its.it_interval) || ns(&its.it_value) > left + 50000000 ||
	    ns(&its.it_value) < left - 50000000)
		fail("FAIL: D has %ld ns left, its deadline is %ld ns away", ns(&its.it_value),
		     left);
	sigpending(&pend);
	if (!sigismember(&pend, SIGRTMIN + 3) || sigismember(&pend, SIGRTMIN + 4) ||
	    sigismember(&pend, SIGRTMIN + 5))
		fail("FAIL: pending A %ld C/D %ld", sigismember(&pend, SIGRTMIN + 3),
		     sigismember(&pend, SIGRTMIN + 4) | sigismember(&pend, SIGRTMIN + 5));
	take_a(SIGRTMIN + 3, a, 0, "FAIL: A's signal is not pending (%ld)");
	/* taking it rearmed A: the next one within its interval */
	take_a(SIGRTMIN + 3, a, 3, "FAIL: A did not fire again after its signal was taken (%ld)");
	if (syscall(SYS_timer_getoverrun, a) < 0)
		fail("FAIL: timer_getoverrun(A): errno %ld", errno, 0);
	e = make(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	if (e != 5)
		fail("FAIL: a new timer got id %ld, expected %ld", e, 5);
	write_result(argv[1]);
	return 0;
}
