/*
 * sysvmsgsem: SysV message queues and semaphore sets of an IPC namespace of
 * the tree's own, which restart must make again (issue 12). Run it in a new
 * IPC namespace (unshare -i).
 *
 *   sysvmsgsem RES [sem]
 *       sets kernel.msgmax 12000 and msgmnb 20000 in its namespace; makes
 *       and removes a queue (so the next msqid has sequence 1, not id 0);
 *       queue Q, key 0x4d534731, mode 0640, msg_qbytes 19000, owner
 *       1234:4321 (IPC_SET; the creator stays root), holding the messages
 *       M[] below (types 3 1 2 1 5 7, sizes 0 to 9000: one longer than a
 *       page), of which it first sends and receives one more (so that
 *       lspid, lrpid, stime and rtime are its own); queue P, IPC_PRIVATE,
 *       mode 0600, empty. A child C1 waits in msgrcv(Q, type 99).
 *       With "sem" also: set S, key 0x53454d31, 3 semaphores, mode 0660,
 *       values 5 0 7 (SETALL: sempids its own), then a semop() of its own
 *       on semaphore 2 (+1: 8), C1's on semaphore 0 (+1: 6, sempid C1's,
 *       a pid restart gives C1 again); a child C2 waits in semop(S, sem 1, -2)
 *       (retried on EINTR: semop() is never restarted, and a freeze is a
 *       signal's wakeup); kernel.sem "250 32000 32 200".
 *       Prints "ready Q P [S]" and pause()s until SIGUSR1. Then: IPC_STAT
 *       of each object as before (key, id, mode, owner, creator, qbytes,
 *       qnum, cbytes, times; lspid and lrpid its own pid, now; values,
 *       sempids C1's, its own, its own), the limits as set, the
 *       children still waiting (no message taken, values as before); it
 *       sends type 99 (C1 must get it and exit 0), posts semaphore 1 by 2
 *       (C2 must complete and exit 0, the value 0 after), reads type 2 by
 *       type, then type <= 1 twice (msgtyp -1), then the rest in order,
 *       each byte for byte; makes a queue and a set, which must get the
 *       ids after P's and S's (the id counters); writes PASS or
 *       "FAIL: what" to RES.
 *   sysvmsgsem wait-msg   waits in msgrcv() on queue Q for a type never sent.
 *   sysvmsgsem wait-sem   waits in semop() on set S for semaphore 1 to reach 5.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>

#define KEY_Q 0x4d534731
#define KEY_S 0x53454d31
#define NMSG 6
#define BIG 9000

static const struct { long type; int size; } M[NMSG] = {
	{ 3, 10 }, { 1, 0 }, { 2, 4097 }, { 1, 33 }, { 5, BIG }, { 7, 1 },
};

struct mbuf {
	long mtype;
	char mtext[BIG + 16];
};

static volatile sig_atomic_t go;
static char fail[512];
static FILE *res;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

#define CHECK(cond, ...) do { \
	if (!(cond) && !fail[0]) \
		snprintf(fail, sizeof(fail), __VA_ARGS__); \
} while (0)

static void fill(char *p, int i, int size)
{
	int k;

	for (k = 0; k < size; k++)
		p[k] = (char)(i * 37 + k * 7 + (k >> 8));
}

static int put(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(val, f) < 0 || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

static void get(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, n, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

static void check_msg(int q, long want_type, long msgtyp, int i)
{
	static struct mbuf b;
	char exp[BIG];
	ssize_t n;

	n = msgrcv(q, &b, sizeof(b.mtext), msgtyp, IPC_NOWAIT);
	CHECK(n == M[i].size && b.mtype == want_type,
	      "msgrcv(type %ld): %zd bytes of type %ld (%s), expected message %d: %d of type %ld",
	      msgtyp, n, n < 0 ? 0 : b.mtype, n < 0 ? strerror(errno) : "",
	      i, M[i].size, want_type);
	fill(exp, i, M[i].size);
	CHECK(n != M[i].size || !memcmp(b.mtext, exp, n),
	      "message %d (type %ld): its bytes differ", i, want_type);
}

static int mk_queue(void)
{
	static struct mbuf b;
	struct msqid_ds ds;
	int q, i;

	/* the next msqid has sequence 1 */
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0 || msgctl(q, IPC_RMID, NULL))
		return -1;
	q = msgget(KEY_Q, IPC_CREAT | IPC_EXCL | 0640);
	if (q < 0)
		return -1;
	b.mtype = 42;
	strcpy(b.mtext, "first");
	if (msgsnd(q, &b, 5, 0) || msgrcv(q, &b, sizeof(b.mtext), 42, 0) != 5)
		return -1;
	for (i = 0; i < NMSG; i++) {
		b.mtype = M[i].type;
		fill(b.mtext, i, M[i].size);
		if (msgsnd(q, &b, M[i].size, IPC_NOWAIT))
			return -1;
	}
	if (msgctl(q, IPC_STAT, &ds))
		return -1;
	ds.msg_perm.uid = 1234;
	ds.msg_perm.gid = 4321;
	ds.msg_qbytes = 19000;
	if (msgctl(q, IPC_SET, &ds))
		return -1;
	return q;
}

int main(int argc, char **argv)
{
	struct msqid_ds qs0, qs1, ps0, ps1;
	struct semid_ds ss0, ss1;
	unsigned short vals[3] = { 5, 0, 7 }, now[3];
	struct sembuf op = { 2, 1, 0 };
	int q, p, s = -1, i, st, with_sem = argc > 2 && !strcmp(argv[2], "sem");
	pid_t c1, c2 = -1, w;
	char buf[128];
	static struct mbuf b;

	if (argc < 2) {
		fprintf(stderr, "usage: sysvmsgsem RES [sem]\n");
		return 2;
	}
	if (!strcmp(argv[1], "wait-msg")) {
		q = msgget(KEY_Q, 0);
		if (q < 0 || msgrcv(q, &b, sizeof(b.mtext), 77, 0) < 0)
			perror("wait-msg");
		return 1;
	}
	if (!strcmp(argv[1], "wait-sem")) {
		struct sembuf five = { 1, -5, 0 };

		s = semget(KEY_S, 0, 0);
		if (s < 0 || semop(s, &five, 1))
			perror("wait-sem");
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	if (put("/proc/sys/kernel/msgmax", "12000") ||
	    put("/proc/sys/kernel/msgmnb", "20000") ||
	    (with_sem && put("/proc/sys/kernel/sem", "250 32000 32 200")))
		return 2;
	q = mk_queue();
	p = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0 || p < 0) {
		perror("queues");
		return 2;
	}
	if (with_sem) {
		s = semget(KEY_S, 3, IPC_CREAT | IPC_EXCL | 0660);
		if (s < 0 || semctl(s, 0, SETALL, vals) || semop(s, &op, 1)) {
			perror("semaphores");
			return 2;
		}
	}
	c1 = fork();
	if (c1 == 0) {
		struct sembuf up0 = { 0, 1, 0 };
		ssize_t n;

		if (with_sem && semop(s, &up0, 1))
			_exit(3);
		do
			n = msgrcv(q, &b, sizeof(b.mtext), 99, 0);
		while (n < 0 && errno == EINTR);
		_exit(n == 4 && b.mtype == 99 && !memcmp(b.mtext, "wake", 4) ? 0 : 1);
	}
	if (with_sem) {
		c2 = fork();
		if (c2 == 0) {
			struct sembuf down = { 1, -2, 0 };
			int r;

			do
				r = semop(s, &down, 1);
			while (r && errno == EINTR);
			_exit(r ? 1 : 0);
		}
	}
	/* the children wait: C1 on the queue, C2 on the set */
	for (i = 0; i < 500; i++) {
		char path[64], stat[256];

		/* msgrcv() is x86-64's syscall 70 */
		snprintf(path, sizeof(path), "/proc/%d/syscall", c1);
		get(path, stat, sizeof(stat));
		if (!strncmp(stat, "70 ", 3) &&
		    (!with_sem || semctl(s, 1, GETNCNT) == 1))
			break;
		usleep(10000);
	}
	if (msgctl(q, IPC_STAT, &qs0) || msgctl(p, IPC_STAT, &ps0) ||
	    (with_sem && semctl(s, 0, IPC_STAT, &ss0))) {
		perror("IPC_STAT");
		return 2;
	}
	if (with_sem)
		printf("ready %d %d %d\n", q, p, s);
	else
		printf("ready %d %d\n", q, p);
	fflush(stdout);
	while (!go)
		pause();

	res = fopen(argv[1], "w");
	if (!res)
		return 2;
	/* the limits */
	get("/proc/sys/kernel/msgmax", buf, sizeof(buf));
	CHECK(!strcmp(buf, "12000"), "kernel.msgmax %s, not 12000", buf);
	get("/proc/sys/kernel/msgmnb", buf, sizeof(buf));
	CHECK(!strcmp(buf, "20000"), "kernel.msgmnb %s, not 20000", buf);
	if (with_sem) {
		get("/proc/sys/kernel/sem", buf, sizeof(buf));
		CHECK(!strcmp(buf, "250\t32000\t32\t200"), "kernel.sem %s", buf);
	}
	/* the queues as they were */
	CHECK(msgget(KEY_Q, 0) == q, "key %#x finds %d, not %d", KEY_Q, msgget(KEY_Q, 0), q);
	CHECK(!msgctl(q, IPC_STAT, &qs1) && !msgctl(p, IPC_STAT, &ps1),
	      "IPC_STAT: %s", strerror(errno));
	CHECK(qs1.msg_perm.__key == KEY_Q && qs1.msg_perm.mode == 0640 &&
	      qs1.msg_perm.uid == 1234 && qs1.msg_perm.gid == 4321 &&
	      qs1.msg_perm.cuid == 0 && qs1.msg_perm.cgid == 0,
	      "queue %d: key %#x mode %#o owner %u:%u creator %u:%u", q,
	      qs1.msg_perm.__key, qs1.msg_perm.mode, qs1.msg_perm.uid,
	      qs1.msg_perm.gid, qs1.msg_perm.cuid, qs1.msg_perm.cgid);
	CHECK(qs1.msg_qnum == NMSG && qs1.msg_qnum == qs0.msg_qnum &&
	      qs1.__msg_cbytes == qs0.__msg_cbytes && qs1.msg_qbytes == 19000,
	      "queue %d: %lu messages, %lu bytes, qbytes %lu (were %lu, %lu)", q,
	      qs1.msg_qnum, qs1.__msg_cbytes, qs1.msg_qbytes, qs0.msg_qnum,
	      qs0.__msg_cbytes);
	CHECK(qs1.msg_stime == qs0.msg_stime && qs1.msg_rtime == qs0.msg_rtime &&
	      qs1.msg_ctime == qs0.msg_ctime && qs0.msg_stime && qs0.msg_rtime,
	      "queue %d: times %ld %ld %ld, were %ld %ld %ld", q,
	      (long)qs1.msg_stime, (long)qs1.msg_rtime, (long)qs1.msg_ctime,
	      (long)qs0.msg_stime, (long)qs0.msg_rtime, (long)qs0.msg_ctime);
	CHECK(qs1.msg_lspid == getpid() && qs1.msg_lrpid == getpid(),
	      "queue %d: lspid %d lrpid %d, not this process %d", q,
	      qs1.msg_lspid, qs1.msg_lrpid, getpid());
	CHECK(ps1.msg_perm.__key == 0 && ps1.msg_perm.mode == 0600 &&
	      ps1.msg_qnum == 0 && ps1.msg_qbytes == 20000 &&
	      ps1.msg_lspid == 0 && ps1.msg_stime == 0 &&
	      ps1.msg_ctime == ps0.msg_ctime,
	      "queue %d: key %#x mode %#o %lu messages qbytes %lu lspid %d stime %ld",
	      p, ps1.msg_perm.__key, ps1.msg_perm.mode, ps1.msg_qnum,
	      ps1.msg_qbytes, ps1.msg_lspid, (long)ps1.msg_stime);
	CHECK(q != 0, "queue Q has id 0: the removed queue's sequence was lost");
	if (with_sem) {
		CHECK(semget(KEY_S, 0, 0) == s, "key %#x finds %d, not %d", KEY_S,
		      semget(KEY_S, 0, 0), s);
		CHECK(!semctl(s, 0, IPC_STAT, &ss1), "sem IPC_STAT: %s", strerror(errno));
		CHECK(ss1.sem_perm.__key == KEY_S && ss1.sem_perm.mode == 0660 &&
		      ss1.sem_nsems == 3 && ss1.sem_otime == ss0.sem_otime &&
		      ss1.sem_ctime == ss0.sem_ctime && ss0.sem_otime,
		      "set %d: key %#x mode %#o nsems %lu otime %ld ctime %ld (were %ld %ld)",
		      s, ss1.sem_perm.__key, ss1.sem_perm.mode, ss1.sem_nsems,
		      (long)ss1.sem_otime, (long)ss1.sem_ctime,
		      (long)ss0.sem_otime, (long)ss0.sem_ctime);
		CHECK(!semctl(s, 0, GETALL, now) && now[0] == 6 && now[1] == 0 &&
		      now[2] == 8, "set %d: values %u %u %u, not 6 0 8", s, now[0],
		      now[1], now[2]);
		CHECK(semctl(s, 0, GETPID) == c1 && semctl(s, 1, GETPID) == getpid() &&
		      semctl(s, 2, GETPID) == getpid(),
		      "set %d: sempids %d %d %d, expected %d %d %d", s,
		      semctl(s, 0, GETPID), semctl(s, 1, GETPID),
		      semctl(s, 2, GETPID), c1, getpid(), getpid());
	}
	/* the children still wait */
	w = waitpid(-1, &st, WNOHANG);
	CHECK(w == 0, "a child exited before it was woken (%d, status %#x)", w, st);
	/* wake C1 with a message of type 99 */
	b.mtype = 99;
	memcpy(b.mtext, "wake", 4);
	CHECK(!msgsnd(q, &b, 4, IPC_NOWAIT), "msgsnd(99): %s", strerror(errno));
	w = waitpid(c1, &st, 0);
	CHECK(w == c1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child in msgrcv(99): status %#x", st);
	if (with_sem) {
		struct sembuf up = { 1, 2, 0 };

		CHECK(!semop(s, &up, 1), "semop(+2): %s", strerror(errno));
		w = waitpid(c2, &st, 0);
		CHECK(w == c2 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child in semop(-2): status %#x", st);
		CHECK(semctl(s, 1, GETVAL) == 0 && semctl(s, 1, GETPID) == c2,
		      "set %d: semaphore 1 is %d (pid %d) after the child's semop",
		      s, semctl(s, 1, GETVAL), semctl(s, 1, GETPID));
	}
	/* the messages: by type, then type <= 1 twice, then in order */
	check_msg(q, 2, 2, 2);
	check_msg(q, 1, -1, 1);
	check_msg(q, 1, -1, 3);
	check_msg(q, 3, 0, 0);
	check_msg(q, 5, 0, 4);
	check_msg(q, 7, 0, 5);
	CHECK(msgrcv(q, &b, sizeof(b.mtext), 0, IPC_NOWAIT) < 0 && errno == ENOMSG,
	      "queue %d: a message more", q);
	/* the id counters: the next queue and set get the ids they would have */
	i = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK(i == p + 1, "a new queue got msqid %d, not %d", i, p + 1);
	msgctl(i, IPC_RMID, NULL);
	if (with_sem) {
		i = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
		CHECK(i == s + 1, "a new set got semid %d, not %d", i, s + 1);
		semctl(i, 0, IPC_RMID);
	}
	msgctl(q, IPC_RMID, NULL);
	msgctl(p, IPC_RMID, NULL);
	if (with_sem)
		semctl(s, 0, IPC_RMID);
	if (fail[0])
		fprintf(res, "FAIL: %s\n", fail);
	else
		fprintf(res, "PASS\n");
	fclose(res);
	return 0;
}
