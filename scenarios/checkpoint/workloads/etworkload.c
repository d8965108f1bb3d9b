/*
 * etworkload: a self-judging workload for restore by execve() of an ET_CKPT file.
 *
 *   etworkload PREFIX [MEM_MB [self]]
 *
 * It holds no open file (an ET_CKPT file cannot carry one): fds 0-2 are /dev/null, each tick
 * opens PREFIX.ticks, appends "tick N" and closes it. State the restore must carry: a private
 * anonymous mapping with a pattern and its checksum, heap memory, a SIGUSR1 handler, a blocked
 * SIGUSR2, TLS and fs base, the MXCSR rounding mode, xmm8-xmm15 live across a raw nanosleep
 * (the task is frozen inside it, so its restart block too), comm. It writes PREFIX.ready when
 * set up; on SIGUSR1 it checks everything and writes PASS or "FAIL: reason" to PREFIX.result.
 * With "self" it checkpoints itself into PREFIX.img at tick 3 (the image's descriptor is fd 3,
 * closed right after: `ckpt2elf -D 3` leaves it out) and, restored, writes PREFIX.self.
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/checkpoint.h>

static volatile sig_atomic_t verify_requested;
static __thread uint64_t tls_word = 0xe7c4bf11e5;
static const char *failure;

#define CHECK(cond, why) do { if (!(cond) && !failure) failure = (why); } while (0)

static void on_usr1(int sig)
{
	(void)sig;
	verify_requested = 1;
}

static uint64_t fnv(const uint64_t *p, size_t words)
{
	uint64_t h = 1469598103934665603ULL;

	while (words--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

/* xmm8-15 loaded, a raw nanosleep, the registers stored in the same asm block */
static int nap_with_xmm(const struct timespec *ts, long *ret)
{
	static const uint64_t want[16] __attribute__((aligned(16))) = {
		0xa1a1a1a1a1a1a1a1, 0x1a1a1a1a1a1a1a1a, 0xb2b2b2b2b2b2b2b2, 0x2b2b2b2b2b2b2b2b,
		0xc3c3c3c3c3c3c3c3, 0x3c3c3c3c3c3c3c3c, 0xd4d4d4d4d4d4d4d4, 0x4d4d4d4d4d4d4d4d,
		0xe5e5e5e5e5e5e5e5, 0x5e5e5e5e5e5e5e5e, 0xf6f6f6f6f6f6f6f6, 0x6f6f6f6f6f6f6f6f,
		0x0707070707070707, 0x7070707070707070, 0x1818181818181818, 0x8181818181818181,
	};
	uint64_t got[16] __attribute__((aligned(16)));
	long r;
	int i, bad = 0;

	asm volatile(
		"movdqa 0(%[w]), %%xmm8\n\t"
		"movdqa 16(%[w]), %%xmm9\n\t"
		"movdqa 32(%[w]), %%xmm10\n\t"
		"movdqa 48(%[w]), %%xmm11\n\t"
		"movdqa 64(%[w]), %%xmm12\n\t"
		"movdqa 80(%[w]), %%xmm13\n\t"
		"movdqa 96(%[w]), %%xmm14\n\t"
		"movdqa 112(%[w]), %%xmm15\n\t"
		"syscall\n\t"
		"movdqa %%xmm8, 0(%[g])\n\t"
		"movdqa %%xmm9, 16(%[g])\n\t"
		"movdqa %%xmm10, 32(%[g])\n\t"
		"movdqa %%xmm11, 48(%[g])\n\t"
		"movdqa %%xmm12, 64(%[g])\n\t"
		"movdqa %%xmm13, 80(%[g])\n\t"
		"movdqa %%xmm14, 96(%[g])\n\t"
		"movdqa %%xmm15, 112(%[g])\n\t"
		: "=a"(r)
		: "a"((long)SYS_nanosleep), "D"(ts), "S"(0L), [w] "r"(want), [g] "r"(got)
		: "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");
	for (i = 0; i < 16; i++)
		bad += got[i] != want[i];
	*ret = r;
	return bad;
}

static void put(const char *prefix, const char *suffix, const char *text, int append)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		CHECK(0, "write");
	close(fd);
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	uint64_t sum, heap_sum, fs_base = 0, fs_now = 0;
	unsigned int mxcsr = 0x3f80 | (3u << 13), mx_now = 0;	/* round toward zero */
	uint64_t *mem, *heap;
	size_t len, i;
	char line[64], comm[17] = "";
	sigset_t block, cur;
	long n = 0, r, id;
	int fd, self = argc > 3 && !strcmp(argv[3], "self");

	if (argc < 2) {
		fprintf(stderr, "usage: etworkload PREFIX [MEM_MB]\n");
		return 2;
	}
	len = (argc > 2 ? strtoul(argv[2], NULL, 0) : 4) << 20;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	heap = malloc(256 * 1024);
	if (mem == MAP_FAILED || !heap)
		return 1;
	for (i = 0; i < len / 8; i++)
		mem[i] = (i + 7) * 0x9e3779b97f4a7c15ULL ^ (i >> 7);
	for (i = 0; i < 256 * 1024 / 8; i++)
		heap[i] = ~i * 0xff51afd7ed558ccdULL;
	sum = fnv(mem, len / 8);
	heap_sum = fnv(heap, 256 * 1024 / 8);

	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_base);
	prctl(PR_SET_NAME, "etworkload");
	asm volatile("ldmxcsr %0" : : "m"(mxcsr));

	/* no open file but fds 0-2 on /dev/null */
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return 1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	put(argv[1], "ready", "ready\n", 0);

	for (;;) {
		int bad = nap_with_xmm(&tick, &r);

		CHECK(bad == 0, "xmm8-15 changed across a frozen system call");
		CHECK(r == 0 || r == -EINTR, "nanosleep returned an unexpected error");
		snprintf(line, sizeof(line), "tick %ld\n", ++n);
		put(argv[1], "ticks", line, 1);
		if (self && n == 3) {
			char img[256];

			snprintf(img, sizeof(img), "%s.img", argv[1]);
			fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			id = syscall(__NR_checkpoint, 0, fd, CHECKPOINT_SUBTREE, CHECKPOINT_FD_NONE);
			if (fd >= 0)
				close(fd);
			CHECK(id >= 0, "self checkpoint");
			if (id == 0)
				put(argv[1], "self", "restored\n", 0);
		}
		if (!verify_requested)
			continue;
		verify_requested = 0;
		CHECK(fnv(mem, len / 8) == sum, "memory checksum");
		CHECK(fnv(heap, 256 * 1024 / 8) == heap_sum, "heap checksum");
		CHECK(tls_word == 0xe7c4bf11e5, "TLS variable");
		syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_now);
		CHECK(fs_now == fs_base, "fs base");
		asm volatile("stmxcsr %0" : "=m"(mx_now));
		CHECK((mx_now & ~0x3fu) == (mxcsr & ~0x3fu), "MXCSR rounding mode");
		sigprocmask(SIG_BLOCK, NULL, &cur);
		CHECK(sigismember(&cur, SIGUSR2) && !sigismember(&cur, SIGUSR1), "blocked signal mask");
		prctl(PR_GET_NAME, comm);
		CHECK(!strcmp(comm, "etworkload"), "comm");
		snprintf(line, sizeof(line), failure ? "FAIL: %s\n" : "PASS\n", failure);
		put(argv[1], "result", line, 0);
	}
}
