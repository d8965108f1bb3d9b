/*
 * crbench: checkpoint/restart throughput against memcpy bandwidth, inside the guest.
 *
 *   crbench ckpt MEM_MB IMAGE      fill MEM_MB of private anonymous memory, measure memcpy
 *                                  bandwidth over it, self-checkpoint to IMAGE and report
 *                                  "memcpy_mbs=X checkpoint_s=Y bytes=Z"
 *   crbench restart IMAGE          restart IMAGE; the restored task reports "restart_s=Y"
 *                                  measured from just before restart(2) (CLOCK_MONOTONIC,
 *                                  stamped in /tmp/crbench.t0) and checks its memory
 *
 * All output goes to /tmp/crbench.out (stdout is closed: only regular files are restored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#define OUT "/tmp/crbench.out"
#define STAMP "/tmp/crbench.t0"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t sum64(const uint64_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i] * (i | 1);
	return s;
}

static double memcpy_mbs(unsigned char *mem, size_t len)
{
	const size_t chunk = 8 << 20;
	unsigned char *dst = malloc(chunk);
	double best = 0;

	if (!dst)
		return 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now(), dt;

		for (size_t off = 0; off + chunk <= len; off += chunk)
			memcpy(dst, mem + off, chunk);
		dt = now() - t0;
		if (dt > 0 && (len / chunk) * (double)chunk / dt / 1e6 > best)
			best = (len / chunk) * (double)chunk / dt / 1e6;
	}
	free(dst);
	return best;
}

static int do_ckpt(size_t mb, const char *image)
{
	size_t len = mb << 20;
	uint64_t *mem, expect;
	double bw, t0, t1;
	struct stat st;
	FILE *out;
	int fd;
	long ret;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ULL;
	expect = sum64(mem, len / 8);
	bw = memcpy_mbs((unsigned char *)mem, len);

	fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	out = fopen(OUT, "a");
	if (fd < 0 || !out)
		return 1;
	close(0);
	close(1);
	close(2);
	t0 = now();
	ret = syscall(__NR_checkpoint, 0, fd, 0UL, CHECKPOINT_FD_NONE);
	t1 = now();
	if (ret < 0) {
		fprintf(out, "checkpoint failed: %s\n", strerror(errno));
		return 1;
	}
	if (ret > 0) {
		fstat(fd, &st);
		fprintf(out, "memcpy_mbs=%.1f checkpoint_s=%.6f bytes=%lld\n", bw, t1 - t0,
			(long long)st.st_size);
		return 0;
	}
	/* restored */
	{
		double start = 0;
		FILE *f = fopen(STAMP, "r");

		if (!f || fscanf(f, "%lf", &start) != 1)
			start = 0;
		if (f)
			fclose(f);
		fprintf(out, "restart_s=%.6f memory=%s\n", t1 - start,
			sum64(mem, len / 8) == expect ? "ok" : "CORRUPT");
	}
	return 0;
}

static int do_restart(const char *image)
{
	int fd = open(image, O_RDONLY);
	FILE *f = fopen(STAMP, "w");
	long ret;

	if (fd < 0 || !f) {
		perror("crbench restart");
		return 1;
	}
	fprintf(f, "%.9f\n", now());
	fclose(f);
	ret = syscall(__NR_restart, 0, fd, (unsigned long)RESTART_TASKSELF, CHECKPOINT_FD_NONE);
	fprintf(stderr, "restart failed: %ld %s\n", ret, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "ckpt"))
		return do_ckpt(strtoul(argv[2], NULL, 0), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "restart"))
		return do_restart(argv[2]);
	fprintf(stderr, "usage: crbench ckpt MEM_MB IMAGE | crbench restart IMAGE\n");
	return 2;
}
