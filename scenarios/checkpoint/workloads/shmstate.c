/*
 * shmstate RES: MAP_SHARED mappings of shmem objects that restart must
 * restore with their content, each object one object (issue 10).
 *
 *   shmstate RES        maps 64 KiB of MAP_SHARED|MAP_ANONYMOUS memory S,
 *                       writes a pattern, makes its third page read-only
 *                       (one object, three vmas) and maps its first 16 KiB a
 *                       second time with mremap(old_size 0) (S2, aliasing S);
 *                       maps 8 KiB of /dev/zero MAP_SHARED (Z, its descriptor
 *                       closed); makes a memfd "shm-test" of 3 pages, writes
 *                       it through the descriptor and maps it twice MAP_SHARED
 *                       (M1 all of it, M2 its last two pages); prints "ready
 *                       PID" and pause()s until SIGUSR1.  Then it checks every
 *                       content, that S2 still aliases S and M1, M2 and the
 *                       descriptor one file (a write through one is read
 *                       through the others), and writes PASS or "FAIL: what"
 *                       to RES.
 *   shmstate orphan RES a memfd mapped MAP_SHARED whose descriptor is closed
 *                       (refused at checkpoint): "ready PID", pause().
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define PG 4096

static sig_atomic_t released;
static char msg[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("shmstate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, long a, long b)
{
	if (!msg[0])
		snprintf(msg, sizeof(msg), fmt, a, b);
}

static unsigned char pat(long i, int seed)
{
	return (unsigned char)(i * 7 + seed + i / 4096);
}

static void fill(unsigned char *p, long n, int seed)
{
	for (long i = 0; i < n; i++)
		p[i] = pat(i, seed);
}

/* @p holds bytes @off.. of the pattern */
static void check(const char *name, const unsigned char *p, long n, long off, int seed)
{
	for (long i = 0; i < n; i++)
		if (p[i] != pat(off + i, seed)) {
			snprintf(msg, sizeof(msg), "FAIL: %s byte %ld is %d, expected %d", name,
				 i, p[i], pat(off + i, seed));
			return;
		}
}

static void wait_released(void)
{
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();
}

static void write_result(const char *res)
{
	int fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(res);
	dprintf(fd, "%s\n", msg[0] ? msg : "PASS");
	close(fd);
}

static int mode_orphan(const char *res)
{
	int fd = memfd_create("orphan", 0);
	void *p;

	if (fd < 0 || ftruncate(fd, PG))
		die("memfd");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	wait_released();
	write_result(res);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *s, *s2, *z, *m1, *m2, buf[16];
	char line[512];
	int fd, zfd, maps_ok = 0;
	FILE *maps;

	signal(SIGUSR1, on_usr1);
	if (argc == 3 && !strcmp(argv[1], "orphan"))
		return mode_orphan(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: shmstate RES | shmstate orphan RES\n");
		return 2;
	}
	s = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		die("mmap shared anonymous");
	fill(s, 16 * PG, 1);
	if (mprotect(s + 2 * PG, PG, PROT_READ))
		die("mprotect");
	s2 = mremap(s, 0, 4 * PG, MREMAP_MAYMOVE);
	if (s2 == MAP_FAILED)
		die("mremap");
	zfd = open("/dev/zero", O_RDWR);
	z = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, zfd, 0);
	if (zfd < 0 || z == MAP_FAILED)
		die("/dev/zero");
	close(zfd);
	fill(z, 2 * PG, 2);
	fd = memfd_create("shm-test", 0);
	if (fd < 0 || ftruncate(fd, 3 * PG))
		die("memfd_create");
	{
		unsigned char tmp[3 * PG];

		fill(tmp, sizeof(tmp), 3);
		if (pwrite(fd, tmp, sizeof(tmp), 0) != (ssize_t)sizeof(tmp))
			die("pwrite");
	}
	m1 = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	if (m1 == MAP_FAILED || m2 == MAP_FAILED)
		die("mmap memfd");
	wait_released();

	check("S", s, 16 * PG, 0, 1);
	check("S2", s2, 4 * PG, 0, 1);
	check("Z", z, 2 * PG, 0, 2);
	check("M1", m1, 3 * PG, 0, 3);
	check("M2", m2, 2 * PG, PG, 3);
	/* one object each: a write through one view is read through the others */
	s2[100] = 0xa5;
	if (s[100] != 0xa5)
		fail("FAIL: S2 no longer aliases S (%ld)", s[100], 0);
	s[3 * PG + 5] = 0x5a;
	if (s2[3 * PG + 5] != 0x5a)
		fail("FAIL: S no longer aliases S2 (%ld)", s2[3 * PG + 5], 0);
	if (s[2 * PG] != pat(2 * PG, 1))
		fail("FAIL: S's read-only page changed (%ld)", s[2 * PG], 0);
	m1[PG + 7] = 0x33;
	if (m2[7] != 0x33)
		fail("FAIL: M2 no longer aliases M1 (%ld)", m2[7], 0);
	if (pread(fd, buf, 1, PG + 7) != 1 || buf[0] != 0x33)
		fail("FAIL: the memfd descriptor does not see M1's write (%ld)", buf[0], 0);
	buf[0] = 0x44;
	if (pwrite(fd, buf, 1, 2 * PG + 9) != 1 || m1[2 * PG + 9] != 0x44 || m2[PG + 9] != 0x44)
		fail("FAIL: M1/M2 do not see a write to the memfd descriptor (%ld %ld)",
		     m1[2 * PG + 9], m2[PG + 9]);
	maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(line, sizeof(line), maps)) {
		if (strstr(line, "/dev/zero (deleted)"))
			maps_ok |= 1;
		if (strstr(line, "/memfd:shm-test (deleted)"))
			maps_ok |= 2;
	}
	if (maps_ok != 3)
		fail("FAIL: /proc/self/maps lacks the shared mappings (%ld)", maps_ok, 0);
	write_result(argv[1]);
	return 0;
}
