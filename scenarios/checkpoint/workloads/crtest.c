/*
 * crtest: a workload that judges itself after checkpoint/restart (as ZDTM tests do).
 *
 *   crtest PREFIX [MEM_MB]
 *
 * Sets up state the C/R must carry: a private anonymous mapping filled with a pattern and its
 * checksum, a file open at a known offset (and a dup of it), a SIGUSR1 handler, a blocked
 * SIGUSR2, TLS and fs base, and values in xmm8-xmm15 that live across a raw nanosleep system
 * call (the task is frozen inside it). It writes PREFIX.ready when set up, appends "tick N"
 * to PREFIX.ticks every 100 ms, and on SIGUSR1 checks everything and writes PASS or
 * "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify_requested;
static __thread uint64_t tls_value = 0x7415c0ffee;
static const char *failure;

#define CHECK(cond, why) do { if (!(cond) && !failure) failure = (why); } while (0)

static void on_usr1(int sig)
{
	(void)sig;
	verify_requested = 1;
}

/* FNV-1a over 64-bit words: a word at a time keeps it fast under TCG (n: a multiple of 8) */
static uint64_t checksum(const uint64_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (n /= 8; n--; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/*
 * Load xmm8-15 with a pattern, nanosleep through a raw syscall, then compare the
 * registers with the pattern inside the same asm block. Returns the number of
 * registers that changed; *ret gets the syscall's return value.
 */
static int sleep_with_xmm(const struct timespec *ts, long *ret)
{
	static const uint64_t pat[16] __attribute__((aligned(16))) = {
		0x0101010101010101, 0x1111111111111111, 0x0202020202020202, 0x2222222222222222,
		0x0303030303030303, 0x3333333333333333, 0x0404040404040404, 0x4444444444444444,
		0x0505050505050505, 0x5555555555555555, 0x0606060606060606, 0x6666666666666666,
		0x0707070707070707, 0x7777777777777777, 0x0808080808080808, 0x8888888888888888,
	};
	uint64_t out[16] __attribute__((aligned(16)));
	long r;
	int bad = 0;

	asm volatile(
		"movdqa 0(%[p]), %%xmm8\n\t"
		"movdqa 16(%[p]), %%xmm9\n\t"
		"movdqa 32(%[p]), %%xmm10\n\t"
		"movdqa 48(%[p]), %%xmm11\n\t"
		"movdqa 64(%[p]), %%xmm12\n\t"
		"movdqa 80(%[p]), %%xmm13\n\t"
		"movdqa 96(%[p]), %%xmm14\n\t"
		"movdqa 112(%[p]), %%xmm15\n\t"
		"syscall\n\t"
		"movdqa %%xmm8, 0(%[o])\n\t"
		"movdqa %%xmm9, 16(%[o])\n\t"
		"movdqa %%xmm10, 32(%[o])\n\t"
		"movdqa %%xmm11, 48(%[o])\n\t"
		"movdqa %%xmm12, 64(%[o])\n\t"
		"movdqa %%xmm13, 80(%[o])\n\t"
		"movdqa %%xmm14, 96(%[o])\n\t"
		"movdqa %%xmm15, 112(%[o])\n\t"
		: "=a"(r)
		: "a"((long)SYS_nanosleep), "D"(ts), "S"(0L), [p] "r"(pat), [o] "r"(out)
		: "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");
	for (int i = 0; i < 16; i++)
		bad += out[i] != pat[i];
	*ret = r;
	return bad;
}

static void write_file(const char *prefix, const char *suffix, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	size_t len, i;
	unsigned char *mem;
	uint64_t sum, fs_base = 0, fs_now = 0;
	char path[256], line[64];
	sigset_t block, cur;
	int fd, fd2, ticks;
	long n = 0, r;
	off_t pos = 4096 + 17;

	if (argc < 2) {
		fprintf(stderr, "usage: crtest PREFIX [MEM_MB]\n");
		return 2;
	}
	len = (argc > 2 ? strtoul(argv[2], NULL, 0) : 16) << 20;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	/* a different non-zero word everywhere: no page is zero or equal to another */
	for (i = 0; i < len / 8; i++)
		((uint64_t *)mem)[i] = (i + 1) * 0x9e3779b97f4a7c15ULL ^ (i >> 9);
	sum = checksum((const uint64_t *)mem, len);

	snprintf(path, sizeof(path), "%s.data", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 8192) || lseek(fd, pos, SEEK_SET) != pos)
		return 1;
	fd2 = dup(fd);

	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base);

	snprintf(path, sizeof(path), "%s.ticks", argv[1]);
	ticks = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (ticks < 0)
		return 1;
	close(0);
	close(1);
	close(2);
	write_file(argv[1], "ready", "ready\n");

	for (;;) {
		int bad = sleep_with_xmm(&tick, &r);

		CHECK(bad == 0, "xmm8-15 changed across a frozen system call");
		CHECK(r == 0 || r == -EINTR, "nanosleep returned an unexpected error");
		n++;
		snprintf(line, sizeof(line), "tick %ld\n", n);
		if (write(ticks, line, strlen(line)) < 0)
			CHECK(0, "write to the ticks file");
		if (!verify_requested)
			continue;
		verify_requested = 0;
		CHECK(checksum((const uint64_t *)mem, len) == sum, "memory checksum");
		CHECK(lseek(fd, 0, SEEK_CUR) == pos, "file position");
		CHECK(lseek(fd2, 0, SEEK_CUR) == pos, "dup'ed descriptor does not share the position");
		CHECK(lseek(fd2, 100, SEEK_SET) == 100 && lseek(fd, 0, SEEK_CUR) == 100,
		      "dup'ed descriptors are not one open file");
		lseek(fd, pos, SEEK_SET);
		CHECK(tls_value == 0x7415c0ffee, "TLS variable");
		syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_now);
		CHECK(fs_now == fs_base, "fs base");
		sigprocmask(SIG_BLOCK, NULL, &cur);
		CHECK(sigismember(&cur, SIGUSR2) && !sigismember(&cur, SIGUSR1), "blocked signal mask");
		snprintf(line, sizeof(line), failure ? "FAIL: %s\n" : "PASS\n", failure);
		write_file(argv[1], "result", line);
	}
}
