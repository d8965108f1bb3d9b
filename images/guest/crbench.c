/*
 * crbench [-m MB[,MB...]] [-d DIR] [-l LOG]: checkpoint/restart throughput
 * inside the guest, compared with the guest's memcpy bandwidth.  -l: the
 * checkpoint's and the restart's logfd messages appended to LOG (where
 * the memory time went: "memory: N pages in T us: ...").
 *
 * For each size a child touches MB of anonymous memory and checkpoints
 * itself to DIR/crbench.img (default /tmp); a second child restarts from
 * it and the restarted task measures the time from just before restart(2)
 * to its own return from checkpoint(2).  MB/s count the workload memory.
 * With ckpt2elf and an ET_CKPT kernel, the image is also converted (leaving
 * out its own descriptor) and a third child restores it by execve(): etckpt
 * is that time, measured the same way (0 when the kernel has no ET_CKPT).
 * Needs about 2 x MB free (memory + image on tmpfs).  Output, per size:
 *   crbench: mem=64M image=67M checkpoint=... restart=... memcpy=... (MB/s)
 * and last, for the largest size:
 *   cr: mem=<size> checkpoint=<MB/s> restart=<MB/s> memcpy=<MB/s> ratio_ckpt=<x> ratio_rst=<x>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/checkpoint.h>

static char log_path[256], img_path[256], start_path[256], ckpt_path[256], rst_path[256], elf_path[256];

static int open_log(void)
{
	return log_path[0] ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
}

static unsigned long log_fd(int fd)
{
	return fd >= 0 ? (unsigned long)fd : (unsigned long)CHECKPOINT_FD_NONE;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put_double(const char *path, double v)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fprintf(f, "%.9f\n", v);
		fclose(f);
	}
}

static double get_double(const char *path)
{
	FILE *f = fopen(path, "r");
	double v = -1;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static double memcpy_mbs(size_t mb)
{
	size_t len = mb << 20;
	char *a = malloc(len), *b = malloc(len);
	double best = 1e9;

	if (!a || !b)
		return -1;
	memset(a, 1, len);
	memset(b, 2, len);
	for (int i = 0; i < 3; i++) {
		double t = now();

		memcpy(b, a, len);
		__asm__ volatile("" : : "r"(b) : "memory");
		t = now() - t;
		if (t < best)
			best = t;
	}
	free(a);
	free(b);
	return mb / best;
}

/* the checkpointed child: touch memory, checkpoint itself */
static void ckpt_child(size_t mb)
{
	size_t len = mb << 20, i;
	uint64_t *mem = malloc(len);
	int fd, nul, lfd;
	double t;
	long ret;

	if (!mem)
		_exit(3);
	for (i = 0; i < len / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ull;
	nul = open("/dev/null", O_RDWR);
	dup2(nul, 0);
	dup2(nul, 1);
	dup2(nul, 2);
	close(nul);
	fd = open(img_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(4);
	/* after the image's: that one is fd 3 (ckpt2elf -D 3) */
	lfd = open_log();
	t = now();
	ret = syscall(__NR_checkpoint, 0, fd, (unsigned long)CHECKPOINT_SUBTREE,
		      log_fd(lfd));
	if (ret > 0) {
		put_double(ckpt_path, now() - t);
		_exit(0);
	}
	if (ret == 0) {
		/* restarted */
		t = now() - get_double(start_path);
		for (i = 0; i < len / 8; i += 4096 / 8)
			if (mem[i] != i * 0x9e3779b97f4a7c15ull)
				_exit(5);
		put_double(rst_path, t);
		_exit(0);
	}
	_exit(6);
}

static void rst_child(void)
{
	int fd = open(img_path, O_RDONLY), lfd = open_log();

	if (fd < 0)
		_exit(7);
	put_double(start_path, now());
	syscall(__NR_restart, 0, fd, (unsigned long)RESTART_TASKSELF, log_fd(lfd));
	_exit(8);
}

/* the same restart by execve() of the ET_CKPT file */
static void exec_child(size_t mb)
{
	char *argv[] = { elf_path, NULL };

	(void)mb;
	put_double(start_path, now());
	execv(elf_path, argv);
	_exit(9);
}

static int run_child(void (*fn)(size_t), size_t mb)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		fn(mb);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void rst_child_mb(size_t mb)
{
	(void)mb;
	rst_child();
}

int main(int argc, char *argv[])
{
	const char *sizes = "16,64", *dir = "/tmp";
	double ck = 0, rs = 0, mc = 0, et = 0;
	char cmd[600];
	size_t mb = 0;
	char *list, *tok;
	struct stat st;
	int opt, rc;

	while ((opt = getopt(argc, argv, "m:d:l:")) != -1) {
		switch (opt) {
		case 'm':
			sizes = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'l':
			snprintf(log_path, sizeof(log_path), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: crbench [-m MB[,MB...]] [-d DIR] [-l LOG]\n");
			return 2;
		}
	}
	snprintf(img_path, sizeof(img_path), "%s/crbench.img", dir);
	snprintf(start_path, sizeof(start_path), "%s/crbench.start", dir);
	snprintf(ckpt_path, sizeof(ckpt_path), "%s/crbench.ckpt", dir);
	snprintf(rst_path, sizeof(rst_path), "%s/crbench.rst", dir);
	snprintf(elf_path, sizeof(elf_path), "%s/crbench.elf", dir);

	list = strdup(sizes);
	for (tok = strtok(list, ",Mm"); tok; tok = strtok(NULL, ",Mm")) {
		mb = strtoul(tok, NULL, 10);
		if (!mb)
			continue;
		mc = memcpy_mbs(mb);
		unlink(ckpt_path);
		unlink(rst_path);
		rc = run_child(ckpt_child, mb);
		ck = get_double(ckpt_path);
		if (rc || ck <= 0) {
			fprintf(stderr, "crbench: checkpoint of %zuM failed (child status %d)\n", mb, rc);
			return 1;
		}
		stat(img_path, &st);
		rc = run_child(rst_child_mb, mb);
		rs = get_double(rst_path);
		if (rc || rs <= 0) {
			fprintf(stderr, "crbench: restart of %zuM failed (child status %d)\n", mb, rc);
			return 1;
		}
		/* the image's own descriptor is fd 3 (0-2 are /dev/null) */
		snprintf(cmd, sizeof(cmd), "ckpt2elf -D 3 %s %s >/dev/null 2>&1", img_path, elf_path);
		unlink(rst_path);
		et = 0;
		if (system(cmd) == 0) {
			rc = run_child(exec_child, mb);
			et = get_double(rst_path);
			if (rc || et <= 0) {
				fprintf(stderr, "crbench: exec of the ET_CKPT file of %zuM failed (child status %d)\n",
					mb, rc);
				return 1;
			}
			et = mb / et;
		}
		unlink(img_path);
		unlink(elf_path);
		ck = mb / ck;
		rs = mb / rs;
		printf("crbench: mem=%zuM image=%lldM checkpoint=%.1f restart=%.1f memcpy=%.1f etckpt=%.1f (MB/s)\n",
		       mb, (long long)st.st_size >> 20, ck, rs, mc, et);
		fflush(stdout);
	}
	if (!mb)
		return 2;
	printf("cr: mem=%zuM checkpoint=%.1f restart=%.1f memcpy=%.1f ratio_ckpt=%.2f ratio_rst=%.2f etckpt=%.1f\n",
	       mb, ck, rs, mc, ck / mc, rs / mc, et);
	return 0;
}
