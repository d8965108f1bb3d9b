/*
 * dirtier: a workload that keeps writing its memory and changing its layout while it is
 * pre-copied, and judges itself byte for byte after restart.
 *
 *   dirtier PREFIX MEM_MB [HOT_PAGES]
 *
 * MEM_MB of private anonymous memory, every page filled with a pattern of (page, generation);
 * a loop rewrites pages with their next generation, mostly in a hot set of HOT_PAGES (default
 * 256) and one in eight anywhere, a few hundred pages every 10 ms. Every 20 steps a 64-page
 * region is moved with mremap() to the other of two slots (its old place is left unmapped),
 * one of its pages is dropped with MADV_DONTNEED (it must come back as zeros), and a 16-page
 * region is unmapped and mapped again with new content. The generations live in the same
 * memory. PREFIX.ready when set up; on SIGUSR1 every page is checked and PASS or
 * "FAIL: reason" is written to PREFIX.result, then the loop goes on.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL
#define WORDS (PG / 8)
#define MOVE_PAGES 64
#define REMAP_PAGES 16

static volatile sig_atomic_t verify_requested;

static void on_usr1(int sig)
{
	(void)sig;
	verify_requested = 1;
}

static uint64_t word(uint64_t page, uint64_t gen, uint64_t w)
{
	return ((page << 32) | (gen & 0xffffffffu)) ^ ((w + 1) * 0x9E3779B97F4A7C15ULL);
}

static void fill(uint64_t *p, uint64_t page, uint64_t gen)
{
	for (uint64_t w = 0; w < WORDS; w++)
		p[w] = word(page, gen, w);
}

static int same(const uint64_t *p, uint64_t page, uint64_t gen)
{
	for (uint64_t w = 0; w < WORDS; w++)
		if (p[w] != word(page, gen, w))
			return 0;
	return 1;
}

static int zero(const uint64_t *p)
{
	for (uint64_t w = 0; w < WORDS; w++)
		if (p[w])
			return 0;
	return 1;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put(const char *prefix, const char *suffix, const char *text)
{
	char path[256], tmp[272];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) || rename(tmp, path))
		exit(1);
}

int main(int argc, char **argv)
{
	char why[160] = "";
	unsigned long npages, hot, steps = 0;
	uint64_t *mem, *slots, *moved, *remap;
	uint32_t *gens, mgen = 0, rgen = 0;
	int slot = 0, dropped = -1;

	if (argc < 3)
		return 2;
	npages = strtoul(argv[2], NULL, 0) * 256;
	hot = argc > 3 ? strtoul(argv[3], NULL, 0) : 256;
	if (!npages || !hot || hot > npages)
		return 2;
	mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gens = mmap(NULL, npages * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* two slots for the moving region, and a place for the remapped one */
	slots = mmap(NULL, 2 * MOVE_PAGES * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	remap = mmap(NULL, REMAP_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || gens == MAP_FAILED || slots == MAP_FAILED || remap == MAP_FAILED)
		return 1;
	moved = mmap(slots, MOVE_PAGES * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (moved == MAP_FAILED)
		return 1;
	for (unsigned long i = 0; i < npages; i++)
		fill(mem + i * WORDS, i, 0);
	for (unsigned long i = 0; i < MOVE_PAGES; i++)
		fill(moved + i * WORDS, 1000000 + i, 0);
	for (unsigned long i = 0; i < REMAP_PAGES; i++)
		fill(remap + i * WORDS, 2000000 + i, 0);
	signal(SIGUSR1, on_usr1);
	put(argv[1], "ready", "ready");
	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		for (int k = 0; k < 64; k++) {
			unsigned long p = next_rand() % 8 ? next_rand() % hot : next_rand() % npages;

			fill(mem + p * WORDS, p, ++gens[p]);
		}
		if (++steps % 20 == 0) {
			void *to = (char *)slots + (slot ^ 1) * MOVE_PAGES * PG;

			moved = mremap(moved, MOVE_PAGES * PG, MOVE_PAGES * PG,
				       MREMAP_MAYMOVE | MREMAP_FIXED, to);
			if (moved == MAP_FAILED)
				return 1;
			slot ^= 1;
			mgen++;
			for (unsigned long i = 0; i < MOVE_PAGES; i++)
				if (i % 8 == 0)
					fill(moved + i * WORDS, 1000000 + i, mgen);
			if (dropped >= 0 && dropped % 8)
				fill(moved + dropped * WORDS, 1000000 + dropped, 0);
			dropped = (int)(next_rand() % MOVE_PAGES);
			madvise(moved + dropped * WORDS, PG, MADV_DONTNEED);
			if (munmap(remap, REMAP_PAGES * PG))
				return 1;
			remap = mmap(remap, REMAP_PAGES * PG, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (remap == MAP_FAILED)
				return 1;
			rgen++;
			for (unsigned long i = 0; i < REMAP_PAGES; i++)
				fill(remap + i * WORDS, 2000000 + i, rgen);
		}
		if (verify_requested) {
			verify_requested = 0;
			why[0] = '\0';
			for (unsigned long i = 0; i < npages && !why[0]; i++)
				if (!same(mem + i * WORDS, i, gens[i]))
					snprintf(why, sizeof(why), "FAIL: page %lu (generation %u) differs", i, gens[i]);
			for (unsigned long i = 0; i < MOVE_PAGES && !why[0]; i++) {
				int ok = (int)i == dropped ? zero(moved + i * WORDS) :
					 same(moved + i * WORDS, 1000000 + i, i % 8 == 0 ? mgen : 0);

				if (!ok)
					snprintf(why, sizeof(why), "FAIL: moved page %lu (%s) differs", i,
						 (int)i == dropped ? "dropped" : "kept");
			}
			for (unsigned long i = 0; i < REMAP_PAGES && !why[0]; i++)
				if (!same(remap + i * WORDS, 2000000 + i, rgen))
					snprintf(why, sizeof(why), "FAIL: remapped page %lu differs", i);
			if (!why[0])
				snprintf(why, sizeof(why), "PASS");
			put(argv[1], "result", why);
			fprintf(stderr, "dirtier: %lu steps: %s\n", steps, why);
		}
		nanosleep(&ts, NULL);
	}
}
