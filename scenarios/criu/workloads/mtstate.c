/*
 * mtstate: a multi-threaded process that judges itself after checkpoint/restart.
 *
 *   mtstate PREFIX
 *
 * Besides the main thread, three threads, each with its own name (pthread_setname_np), signal
 * mask, __thread value and, for one, a sigaltstack:
 *   "waiter"  waits on a condition variable until the main thread signals it (after restore),
 *   "ticker"  appends "tick N" to PREFIX.tick every 100 ms (nanosleep),
 *   "reader"  is blocked in read() of a pipe that the main thread writes to after restore.
 * Each thread records its tid (gettid()) when it starts. PREFIX.ready is written once all three
 * run. On SIGUSR1 the main thread wakes the waiter and feeds the reader; every thread then checks
 * that its tid, name, mask, altstack and __thread value are what they were, and the main thread
 * writes PASS or "FAIL: reason" to PREFIX.result and exits 0 only on PASS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { WAITER, TICKER, READER, NTHREADS };

static const char *const names[NTHREADS] = { "mt-waiter", "mt-ticker", "mt-reader" };
/* each thread blocks a different signal; the main thread blocks none of these */
static const int blocked_sig[NTHREADS] = { SIGUSR2, SIGWINCH, SIGURG };

static const char *prefix;
static __thread unsigned long tls_value;
static pid_t tids[NTHREADS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int woken, started, stopping;
static int feed[2];
static char failure[256];
static volatile sig_atomic_t usr1;
static char altstack[64 * 1024];

static void fail(const char *who, const char *why)
{
	pthread_mutex_lock(&lock);
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s: %s", who, why);
	pthread_mutex_unlock(&lock);
}

static void write_file(const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

/* The thread's own state, as it set it up: checked once more after restore. */
static void check_self(int i)
{
	char name[16];
	sigset_t mask;
	stack_t ss;

	if ((pid_t)syscall(SYS_gettid) != tids[i])
		fail(names[i], "tid changed");
	if (tls_value != 0x1000u + (unsigned int)i)
		fail(names[i], "__thread value changed");
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) || strcmp(name, names[i]))
		fail(names[i], "name changed");
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	if (sigismember(&mask, blocked_sig[i]) != 1 || sigismember(&mask, SIGUSR1) != 1)
		fail(names[i], "signal mask changed");
	if (sigaltstack(NULL, &ss) == 0 && i == TICKER &&
	    (ss.ss_sp != altstack || ss.ss_size != sizeof(altstack) || (ss.ss_flags & SS_DISABLE)))
		fail(names[i], "sigaltstack changed");
}

static void *thread_main(void *arg)
{
	int i = (int)(long)arg;
	sigset_t mask;
	char c;

	tids[i] = (pid_t)syscall(SYS_gettid);
	tls_value = 0x1000u + (unsigned int)i;
	pthread_setname_np(pthread_self(), names[i]);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);	/* the main thread takes it */
	sigaddset(&mask, blocked_sig[i]);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (i == TICKER) {
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

		sigaltstack(&ss, NULL);
	}
	pthread_mutex_lock(&lock);
	started++;
	pthread_mutex_unlock(&lock);

	switch (i) {
	case WAITER:
		pthread_mutex_lock(&lock);
		while (!woken)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
		break;
	case TICKER: {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		char path[4096];
		unsigned long n = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s.tick", prefix);
		f = fopen(path, "a");
		if (!f) {
			fail(names[i], "cannot open the tick file");
			break;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		while (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST)) {
			fprintf(f, "tick %lu\n", ++n);
			nanosleep(&ts, NULL);
		}
		fclose(f);
		break;
	}
	case READER:
		while (read(feed[0], &c, 1) < 0)
			if (errno != EINTR) {
				fail(names[i], "read failed");
				break;
			}
		if (c != 'x')
			fail(names[i], "read the wrong byte");
		break;
	}
	check_self(i);
	return NULL;
}

int main(int argc, char *argv[])
{
	pthread_t th[NTHREADS];
	struct sigaction sa;
	sigset_t none;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: mtstate PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	if (pipe(feed))
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)(long)i))
			return 2;
	for (;;) {
		pthread_mutex_lock(&lock);
		i = started;
		pthread_mutex_unlock(&lock);
		if (i == NTHREADS)
			break;
		usleep(1000);
	}
	write_file("ready", "ready\n");
	sigemptyset(&none);
	while (!usr1)
		sigsuspend(&none);

	pthread_mutex_lock(&lock);
	woken = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (write(feed[1], "x", 1) != 1)
		fail("main", "cannot feed the reader");
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	if (failure[0]) {
		char text[300];

		snprintf(text, sizeof(text), "FAIL: %s\n", failure);
		write_file("result", text);
		return 1;
	}
	write_file("result", "PASS\n");
	return 0;
}
