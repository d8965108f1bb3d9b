/*
 * crcowdiff: a tree whose copy-on-write memory diverged after the forks, judging itself.
 *
 *   crcowdiff PREFIX
 *
 * The parent maps A (2 MiB private anonymous, pattern 0), B (1 MiB private anonymous) and F (a
 * private mapping of the file PREFIX.file, 16 pages, page 0 written by the parent), then forks:
 *   child 0 writes pages 0-15 of A (pattern 1), drops pages 16-31 (MADV_DONTNEED: zeros), unmaps
 *           B and maps a new anonymous N (64 pages, pattern 2);
 *   child 1 writes page 1 of F, nothing else;
 *   child 2 writes page 41 of A (pattern 3) and forks a grandchild that writes page 40 (pattern 4).
 * After the forks the parent writes pages 100-109 of A (pattern 5): the children keep pattern 0.
 * It writes PREFIX.ready once all are set. SIGUSR1 to the parent: it passes it on; every task
 * checks its own view of A, B, F (and N), then writes its own mark into page 200 of A, waits,
 * and checks that the mark is still its own (copy-on-write still isolates them), and exits 0;
 * the parent checks every status and writes PASS or "FAIL: ..." to PREFIX.result.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define A_PAGES	512
#define B_PAGES	256
#define F_PAGES	16
#define N_PAGES	64

static long psize;
static uint64_t *A, *B, *N;
static unsigned char *F;
static volatile sig_atomic_t stop;
static char why[256];

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t pattern(int kind, size_t page, size_t word)
{
	return ((page + 1) * 0x9e3779b97f4a7c15ULL) ^ (word * 0x100000001b3ULL) ^
	       ((uint64_t)kind << 56);
}

static void fill(uint64_t *m, size_t page, int kind)
{
	size_t w, words = psize / 8;

	for (w = 0; w < words; w++)
		m[page * words + w] = pattern(kind, page, w);
}

/* page @page of @m holds @kind's pattern (-1: zeros) */
static int holds(const uint64_t *m, size_t page, int kind)
{
	size_t w, words = psize / 8;

	for (w = 0; w < words; w += 7)
		if (m[page * words + w] != (kind < 0 ? 0 : pattern(kind, page, w)))
			return 0;
	return 1;
}

static unsigned char fbyte(size_t page, size_t i, int written)
{
	return (unsigned char)(page * 31 + i * 7 + (written ? 0x55 : 0));
}

static int fholds(size_t page, int written)
{
	size_t i;

	for (i = 0; i < (size_t)psize; i += 13)
		if (F[page * psize + i] != fbyte(page, i, written))
			return 0;
	return 1;
}

static void fwrite_page(size_t page)
{
	size_t i;

	for (i = 0; i < (size_t)psize; i++)
		F[page * psize + i] = fbyte(page, i, 1);
}

/* the view of task @who: 'P' parent, '0', '1', '2', 'G' grandchild */
static int check(char who)
{
	size_t p;

	for (p = 0; p < A_PAGES; p++) {
		int want = 0;

		if (who == '0' && p < 16)
			want = 1;
		else if (who == '0' && p < 32)
			want = -1;
		else if (p >= 100 && p < 110 && who == 'P')
			want = 5;
		else if (p == 41 && (who == '2' || who == 'G'))
			want = 3;
		else if (p == 40 && who == 'G')
			want = 4;
		if (!holds(A, p, want)) {
			snprintf(why, sizeof(why), "task %c: page %zu of A is not pattern %d", who, p, want);
			return -1;
		}
	}
	for (p = 0; who != '0' && p < B_PAGES; p++)
		if (!holds(B, p, 6)) {
			snprintf(why, sizeof(why), "task %c: page %zu of B changed", who, p);
			return -1;
		}
	for (p = 0; who == '0' && p < N_PAGES; p++)
		if (!holds(N, p, 2)) {
			snprintf(why, sizeof(why), "task 0: page %zu of N changed", p);
			return -1;
		}
	for (p = 0; p < F_PAGES; p++)
		if (!fholds(p, p == 0 || (p == 1 && who == '1'))) {
			snprintf(why, sizeof(why), "task %c: page %zu of F is wrong", who, p);
			return -1;
		}
	return 0;
}

/* the task's own mark in page 200 of A stays its own */
static int isolated(char who)
{
	struct timespec ts = { 0, 300000000L };

	A[200 * (psize / 8)] = (uint64_t)who;
	nanosleep(&ts, NULL);
	if (A[200 * (psize / 8)] != (uint64_t)who) {
		snprintf(why, sizeof(why), "task %c: its write to A was changed by another task", who);
		return -1;
	}
	return 0;
}

static const char *prefix;

/* after SIGUSR1: the task's view; a failure is written to PREFIX.fail-WHO */
static int wait_and_check(char who)
{
	struct timespec ts = { 0, 50000000L };
	char path[4096];
	FILE *f;

	while (!stop)
		nanosleep(&ts, NULL);
	if (!check(who) && !isolated(who))
		return 0;
	snprintf(path, sizeof(path), "%s.fail-%c", prefix, who);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", why);
		fclose(f);
	}
	return -1;
}

static void done(const char *prefix, const char *suffix)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	char path[4096];
	pid_t kids[3], g = -1;
	int i, status, fd, bad = 0;
	size_t p;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: crcowdiff PREFIX\n");
		return 2;
	}
	psize = sysconf(_SC_PAGESIZE);
	prefix = argv[1];
	signal(SIGUSR1, on_usr1);
	snprintf(path, sizeof(path), "%s.file", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 2;
	for (p = 0; p < F_PAGES; p++) {
		unsigned char buf[65536];
		size_t i;

		for (i = 0; i < (size_t)psize; i++)
			buf[i] = fbyte(p, i, 0);
		if (write(fd, buf, psize) != psize)
			return 2;
	}
	A = mmap(NULL, A_PAGES * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	B = mmap(NULL, B_PAGES * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	F = mmap(NULL, F_PAGES * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (A == MAP_FAILED || B == MAP_FAILED || F == MAP_FAILED)
		return 2;
	for (p = 0; p < A_PAGES; p++)
		fill(A, p, 0);
	for (p = 0; p < B_PAGES; p++)
		fill(B, p, 6);
	fwrite_page(0);

	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 2;
		if (kids[i])
			continue;
		if (i == 0) {
			for (p = 0; p < 16; p++)
				fill(A, p, 1);
			madvise((char *)A + 16 * psize, 16 * psize, MADV_DONTNEED);
			munmap(B, B_PAGES * psize);
			N = mmap(NULL, N_PAGES * psize, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (N == MAP_FAILED)
				_exit(3);
			for (p = 0; p < N_PAGES; p++)
				fill(N, p, 2);
		} else if (i == 1) {
			fwrite_page(1);
		} else {
			fill(A, 41, 3);
			g = fork();
			if (g == 0) {
				fill(A, 40, 4);
				done(argv[1], "g");
				_exit(wait_and_check('G') ? 1 : 0);
			}
		}
		done(argv[1], i == 0 ? "k0" : i == 1 ? "k1" : "k2");
		if (i == 2) {
			int st;

			if (wait_and_check('2'))
				_exit(1);
			kill(g, SIGUSR1);
			_exit(waitpid(g, &st, 0) == g && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : 4);
		}
		_exit(wait_and_check(i == 0 ? '0' : '1') ? 1 : 0);
	}
	for (p = 100; p < 110; p++)
		fill(A, p, 5);
	/* every task has done its writes */
	for (;;) {
		struct timespec ts = { 0, 20000000L };
		const char *s[] = { "k0", "k1", "k2", "g" };
		int n = 0;

		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s.%s", argv[1], s[i]);
			n += access(path, F_OK) == 0;
		}
		if (n == 4)
			break;
		nanosleep(&ts, NULL);
	}
	done(argv[1], "ready");
	if (wait_and_check('P'))
		bad = 1;
	for (i = 0; i < 3; i++)
		kill(kids[i], SIGUSR1);
	for (i = 0; i < 3; i++)
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			if (!bad)
				snprintf(why, sizeof(why), "child %d failed (status %#x; see %s.fail-*)",
					 i, status, argv[1]);
			bad = 1;
		}
	snprintf(path, sizeof(path), "%s.result", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 2;
	fprintf(f, bad ? "FAIL: %s\n" : "PASS\n", why);
	fclose(f);
	return 0;
}
