/*
 * sysvshm: SysV shm attachments that restart must restore (issue 10):
 * segments with their key, shmid, mode, owner and content, each attachment
 * at its address.
 *
 *   sysvshm RES        attaches, in this order (so that the vmas, lowest
 *                      address first, are C, A twice, B): B, a segment of
 *                      key 0x5ca1ab1e, 2 pages, mode 0640, once; A, an
 *                      IPC_PRIVATE segment of 3 pages and 100 bytes, mode
 *                      0600, twice (A1 read-write with its second page made
 *                      read-only by mprotect(): three vmas, A2 SHM_RDONLY);
 *                      C, an IPC_PRIVATE page that it IPC_RMIDs while
 *                      attached (SHM_DEST).  It writes a pattern into each,
 *                      prints "ready A B C" (the shmids) and pause()s until
 *                      SIGUSR1.  Then it checks each content, that A1 and A2
 *                      still alias one segment, A2 is still read-only and
 *                      A1's second page too (mprotect() to write A2 fails
 *                      with EACCES), IPC_STAT of each shmid (key, size,
 *                      mode with SHM_DEST for C, owner and creator,
 *                      nattch: 4, one per vma, 1, 1), that key 0x5ca1ab1e
 *                      still finds B,
 *                      writes each again and reads it back, detaches C and
 *                      checks it is gone, removes A and B, and writes PASS
 *                      or "FAIL: what" to RES.
 *   sysvshm take KEY   creates a one-page segment with KEY (hex), mode
 *                      0600, prints its shmid and exits (the segment stays).
 *   sysvshm rm ID...   IPC_RMID of each shmid.
 *   sysvshm root UID GID RES  (as root) attaches a root-owned 0600
 *                      IPC_PRIVATE page holding a secret, becomes UID, with
 *                      GID its group and only group (setresuid()), prints
 *                      "ready ID", pause()s until SIGUSR1, writes PASS.
 *   sysvshm restart IMG LOG  restart IMG with this program as the caller (so
 *                      that an unprivileged restart keeps the exe).
 *   sysvshm semundo    (refused at checkpoint) a semaphore set it decrements
 *                      with SEM_UNDO, then "ready", pause(); removes the set.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include <linux/checkpoint.h>

#define PG 4096
#define KEY_B 0x5ca1ab1e
#define SIZE_A (3 * PG + 100)
#define SIZE_B (2 * PG)
#define SIZE_C PG

static volatile sig_atomic_t released;
static char msg[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("sysvshm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, long a, long b)
{
	if (!msg[0])
		snprintf(msg, sizeof(msg), fmt, a, b);
}

static unsigned char pat(long i, int seed)
{
	return (unsigned char)(i * 13 + seed + i / PG);
}

static void fill(unsigned char *p, long n, int seed)
{
	long i;

	for (i = 0; i < n; i++)
		p[i] = pat(i, seed);
}

static void check(const char *what, const unsigned char *p, long n, int seed)
{
	long i;

	for (i = 0; i < n; i++) {
		if (p[i] != pat(i, seed)) {
			char f[128];

			snprintf(f, sizeof(f), "FAIL: %s byte %%ld is %%ld", what);
			fail(f, i, p[i]);
			return;
		}
	}
}

static void wait_released(void)
{
	sigset_t none;

	sigemptyset(&none);
	printf("ready\n");
	fflush(stdout);
	while (!released)
		sigsuspend(&none);
}

static void write_result(const char *res)
{
	FILE *f = fopen(res, "w");

	if (!f)
		die(res);
	fprintf(f, "%s\n", msg[0] ? msg : "PASS");
	fclose(f);
}

static void *attach(int id, int flags)
{
	void *p = shmat(id, NULL, flags);

	if (p == (void *)-1)
		die("shmat");
	return p;
}

/* IPC_STAT of @id as the task saw it before the checkpoint */
static void check_stat(const char *what, int id, const struct shmid_ds *before)
{
	struct shmid_ds ds;
	char f[160];

	if (shmctl(id, IPC_STAT, &ds)) {
		snprintf(f, sizeof(f), "FAIL: %s: IPC_STAT of shmid %%ld: errno %%ld", what);
		fail(f, id, errno);
		return;
	}
#define SAME(field) do { \
	if (ds.field != before->field) { \
		snprintf(f, sizeof(f), "FAIL: %s: " #field " %%ld, was %%ld", what); \
		fail(f, (long)ds.field, (long)before->field); \
	} } while (0)
	SAME(shm_perm.__key);
	SAME(shm_perm.mode);
	SAME(shm_perm.uid);
	SAME(shm_perm.gid);
	SAME(shm_perm.cuid);
	SAME(shm_perm.cgid);
	SAME(shm_segsz);
	/* the kernel counts vmas: A1 split in three counts three */
	SAME(shm_nattch);
#undef SAME
}

static int mode_take(const char *key)
{
	int id = shmget((key_t)strtoul(key, NULL, 16), PG, IPC_CREAT | IPC_EXCL | 0600);

	if (id < 0)
		die("shmget");
	printf("%d\n", id);
	return 0;
}

static int mode_rm(int argc, char **argv)
{
	int i, ret = 0;

	for (i = 0; i < argc; i++) {
		if (shmctl(atoi(argv[i]), IPC_RMID, NULL)) {
			printf("sysvshm: IPC_RMID %s: %s\n", argv[i], strerror(errno));
			ret = 1;
		}
	}
	return ret;
}

static int mode_root(const char *uid, const char *gid, const char *res)
{
	int id = shmget(IPC_PRIVATE, PG, 0600);
	unsigned char *p;
	uid_t u = (uid_t)atoi(uid);
	gid_t g = (gid_t)atoi(gid);

	if (id < 0)
		die("shmget");
	p = attach(id, 0);
	memcpy(p, "root's secret", 14);
	if (setgroups(1, &g) || setresgid(g, g, g) || setresuid(u, u, u))
		die("setresuid");
	printf("id %d\n", id);
	wait_released();
	write_result(res);
	return 0;
}

static int mode_restart(const char *img, const char *log)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	long ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);

	printf("sysvshm: restart returned %ld: %s (errno %d)\n", ret, strerror(errno), errno);
	return 1;
}

static int mode_semundo(void)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
	int id = semget(IPC_PRIVATE, 1, 0600);

	if (id < 0 || semop(id, &op, 1))
		die("semop");
	wait_released();
	semctl(id, 0, IPC_RMID);
	return 0;
}

int main(int argc, char **argv)
{
	struct shmid_ds sa, sb, sc, ds;
	unsigned char *a1, *a2, *b, *c;
	int ia, ib, ic;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	if (argc == 3 && !strcmp(argv[1], "take"))
		return mode_take(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return mode_rm(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "root"))
		return mode_root(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return mode_restart(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "semundo"))
		return mode_semundo();
	if (argc != 2) {
		fprintf(stderr, "usage: sysvshm RES | take KEY | rm ID... | root UID GID RES | restart IMG LOG | semundo\n");
		return 2;
	}
	ib = shmget(KEY_B, SIZE_B, IPC_CREAT | IPC_EXCL | 0640);
	ia = shmget(IPC_PRIVATE, SIZE_A, 0600);
	ic = shmget(IPC_PRIVATE, SIZE_C, 0600);
	if (ia < 0 || ib < 0 || ic < 0)
		die("shmget");
	b = attach(ib, 0);
	a1 = attach(ia, 0);
	a2 = attach(ia, SHM_RDONLY);
	c = attach(ic, 0);
	fill(a1, SIZE_A, 1);
	fill(b, SIZE_B, 2);
	fill(c, SIZE_C, 3);
	if (mprotect(a1 + PG, PG, PROT_READ))
		die("mprotect");
	if (shmctl(ic, IPC_RMID, NULL))
		die("IPC_RMID");
	if (shmctl(ia, IPC_STAT, &sa) || shmctl(ib, IPC_STAT, &sb) || shmctl(ic, IPC_STAT, &sc))
		die("IPC_STAT");
	printf("ids %d %d %d\n", ia, ib, ic);
	wait_released();

	check("A1", a1, SIZE_A, 1);
	check("A2", a2, SIZE_A, 1);
	check("B", b, SIZE_B, 2);
	check("C", c, SIZE_C, 3);
	check_stat("A", ia, &sa);
	check_stat("B", ib, &sb);
	check_stat("C", ic, &sc);
	if (!(sc.shm_perm.mode & 01000) || sc.shm_perm.__key != IPC_PRIVATE)
		fail("FAIL: C was not SHM_DEST before (mode %lo)", sc.shm_perm.mode, 0);
	if (shmget(KEY_B, 0, 0) != ib)
		fail("FAIL: key 0x5ca1ab1e finds shmid %ld, not B", shmget(KEY_B, 0, 0), 0);
	/* the attach flags and the protections */
	if (!mprotect(a2, PG, PROT_READ | PROT_WRITE) || errno != EACCES)
		fail("FAIL: A2 can be made writable (errno %ld)", errno, 0);
	if (!mprotect(a1 + PG, PG, PROT_READ | PROT_WRITE)) {
		a1[PG] = 0x77;
		if (mprotect(a1 + PG, PG, PROT_READ))
			fail("FAIL: mprotect A1 back (errno %ld)", errno, 0);
	} else {
		fail("FAIL: A1's second page cannot be made writable (errno %ld)", errno, 0);
	}
	/* written by the restarted task: one segment behind A1 and A2 */
	if (a2[PG] != 0x77)
		fail("FAIL: A2 does not see A1's write (%ld)", a2[PG], 0);
	a1[3 * PG + 99] = 0x42;
	b[SIZE_B - 1] = 0x43;
	c[0] = 0x44;
	if (a2[3 * PG + 99] != 0x42 || b[SIZE_B - 1] != 0x43 || c[0] != 0x44)
		fail("FAIL: writes after restart read back otherwise (%ld)", a2[3 * PG + 99], 0);
	/* SHM_DEST: gone with its last detach */
	if (shmdt(c))
		fail("FAIL: shmdt C (errno %ld)", errno, 0);
	if (!shmctl(ic, IPC_STAT, &ds) || (errno != EINVAL && errno != EIDRM))
		fail("FAIL: C survives its last detach (errno %ld)", errno, 0);
	if (shmdt(a1) || shmdt(a2) || shmdt(b))
		fail("FAIL: shmdt (errno %ld)", errno, 0);
	if (shmctl(ia, IPC_RMID, NULL) || shmctl(ib, IPC_RMID, NULL))
		fail("FAIL: IPC_RMID A, B (errno %ld)", errno, 0);
	write_result(argv[1]);
	return 0;
}
