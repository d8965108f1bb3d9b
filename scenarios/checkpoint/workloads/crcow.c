/*
 * crcow: a parent and 8 forked children sharing (copy-on-write, never written after the fork)
 * MIB (32) MiB of private anonymous memory, judging itself.
 *
 *   crcow PREFIX [MIB]
 *
 * The parent fills every page of the mapping with a pattern of its index, forks 8 children that
 * only sleep, and writes PREFIX.ready. SIGUSR1 to the parent: it passes it on; every task checks
 * every page of the mapping (the parent's pattern) and exits 0 if all held; the parent checks
 * its children's statuses and writes PASS or "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t SIZE = 32UL << 20;
#define KIDS	8

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t pattern(size_t page, size_t word)
{
	return (page * 0x9e3779b97f4a7c15ULL) ^ word;
}

/* every page of @m as the parent filled it */
static int check(const uint64_t *m, long psize)
{
	size_t words = psize / sizeof(*m), p, w;

	for (p = 0; p < SIZE / psize; p++)
		for (w = 0; w < words; w += 61)
			if (m[p * words + w] != pattern(p, w))
				return -1;
	return 0;
}

int main(int argc, char **argv)
{
	long psize = sysconf(_SC_PAGESIZE);
	struct timespec ts = { 0, 50000000L };
	size_t words = psize / sizeof(uint64_t), p, w;
	pid_t kids[KIDS];
	char path[4096];
	int i, status, bad = 0;
	uint64_t *m;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: crcow PREFIX [MIB]\n");
		return 2;
	}
	if (argc > 2)
		SIZE = strtoul(argv[2], NULL, 0) << 20;
	signal(SIGUSR1, on_usr1);
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 2;
	for (p = 0; p < SIZE / psize; p++)
		for (w = 0; w < words; w++)
			m[p * words + w] = pattern(p, w);
	for (i = 0; i < KIDS; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			while (!stop)
				nanosleep(&ts, NULL);
			_exit(check(m, psize) ? 1 : 0);
		}
	}
	snprintf(path, sizeof(path), "%s.ready", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 2;
	fclose(f);
	while (!stop)
		nanosleep(&ts, NULL);
	for (i = 0; i < KIDS; i++)
		kill(kids[i], SIGUSR1);
	if (check(m, psize))
		bad = 1;
	for (i = 0; i < KIDS; i++)
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad |= 2;
	snprintf(path, sizeof(path), "%s.result", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 2;
	fputs(bad == 0 ? "PASS\n" : bad & 1 ? "FAIL: the parent's memory differs\n" :
	      "FAIL: a child's memory differs\n", f);
	fclose(f);
	return 0;
}
