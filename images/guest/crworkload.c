/*
 * crworkload [-r RESULT] [-d DATA] [-m MB] [-SPCT]: a workload that judges itself
 * after checkpoint/restart.
 *
 * It fills memory with a pattern, opens DATA (and a dup of it and
 * /dev/null), installs a SIGUSR1 handler, sets a TLS variable, the SSE
 * rounding mode and xmm15, then sleeps in nanosleep (a raw system call
 * that keeps xmm15 live) until SIGUSR1.  Then it checks all of that and
 * writes "PASS" or "FAIL: ..." to RESULT.  Run it with stdio on regular
 * files or /dev/null.  It prints "ready <pid>" to stdout once set up.
 *
 * For expected-failure tests it can also hold state that checkpoint
 * refuses: -S a shared mapping of a memfd that no descriptor holds, -P a
 * pipe, -C a child (-T adds a thread, which checkpoint saves since issue 12).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static volatile sig_atomic_t got_usr1;
static __thread uint64_t tls_cookie;
static uint64_t tls_expected;
static char failures[1024];

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void fail(const char *what)
{
	if (strlen(failures) + strlen(what) + 3 < sizeof(failures)) {
		strcat(failures, " ");
		strcat(failures, what);
	}
}

static uint64_t checksum(const uint64_t *p, size_t n)
{
	uint64_t s = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		s += p[i];
		s2 += s;
	}
	return s ^ (s2 << 1);
}

static const uint64_t xmm_pattern[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };

/* sleep with a raw nanosleep and check xmm15 after each wake-up */
static int sleep_keeping_xmm15(void)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	uint64_t out[2];
	int bad = 0;

	__asm__ volatile("movdqu %0, %%xmm15" : : "m"(xmm_pattern) : "xmm15");
	while (!got_usr1) {
		long ret;

		__asm__ volatile("syscall"
				 : "=a"(ret)
				 : "0"((long)SYS_nanosleep), "D"(&ts), "S"(0L)
				 : "rcx", "r11", "memory");
		__asm__ volatile("movdqu %%xmm15, %0" : "=m"(out));
		if (memcmp(out, xmm_pattern, sizeof(out)))
			bad = 1;
		(void)ret;
	}
	return bad;
}

int main(int argc, char *argv[])
{
	const char *result = "/tmp/crworkload.result", *data = "/tmp/crworkload.data";
	size_t mb = 8, n, i;
	uint64_t *mem, sum;
	struct sigaction sa;
	char block[4096];
	int opt, fd, fd2, nullfd, out, p[2];
	pthread_t thr;

	while ((opt = getopt(argc, argv, "r:d:m:SPCT")) != -1) {
		switch (opt) {
		case 'S':
			/* a memfd mapped MAP_SHARED, its descriptor closed */
			p[0] = memfd_create("crworkload", 0);
			if (p[0] < 0 || ftruncate(p[0], 4096) ||
			    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
				 p[0], 0) == MAP_FAILED)
				return 2;
			close(p[0]);
			break;
		case 'P':
			if (pipe(p))
				return 2;
			break;
		case 'C':
			if (fork() == 0) {
				for (;;)
					pause();
			}
			break;
		case 'T':
			if (pthread_create(&thr, NULL, idle_thread, NULL))
				return 2;
			break;
		case 'r':
			result = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'm':
			mb = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: crworkload [-r RESULT] [-d DATA] [-m MB] [-SPCT]\n");
			return 2;
		}
	}

	n = mb * 1024 * 1024 / sizeof(uint64_t);
	mem = malloc(n * sizeof(uint64_t));
	if (!mem)
		return 2;
	for (i = 0; i < n; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	sum = checksum(mem, n);

	fd = open(data, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(data);
		return 2;
	}
	memset(block, 'd', sizeof(block));
	if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
		return 2;
	lseek(fd, 1234, SEEK_SET);
	fd2 = dup(fd);
	nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	tls_cookie = 0x7e57c00c1e000000ull | (uint64_t)getpid();
	tls_expected = tls_cookie;
	fesetround(FE_TOWARDZERO);

	printf("ready %d\n", getpid());
	fflush(stdout);

	if (sleep_keeping_xmm15())
		fail("xmm15");
	if (checksum(mem, n) != sum)
		fail("memory");
	if (tls_cookie != tls_expected)
		fail("tls");
	if (fegetround() != FE_TOWARDZERO)
		fail("mxcsr");
	if (lseek(fd, 0, SEEK_CUR) != 1234)
		fail("file-position");
	lseek(fd2, 100, SEEK_SET);
	if (lseek(fd, 0, SEEK_CUR) != 100)
		fail("dup-shared");
	if (fcntl(nullfd, F_GETFD) != FD_CLOEXEC || fcntl(fd, F_GETFD) != 0)
		fail("cloexec");
	if (write(nullfd, "x", 1) != 1)
		fail("devnull");
	memset(&sa, 0, sizeof(sa));
	sigaction(SIGUSR1, NULL, &sa);
	if (sa.sa_handler != on_usr1 || !(sa.sa_flags & SA_RESTART))
		fail("sighandler");

	out = open(result, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 3;
	if (failures[0])
		dprintf(out, "FAIL:%s\n", failures);
	else
		dprintf(out, "PASS\n");
	close(out);
	return failures[0] ? 1 : 0;
}
