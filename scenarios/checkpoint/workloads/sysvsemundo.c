// SPDX-License-Identifier: GPL-2.0
/*
 * sysvsemundo: semop(SEM_UNDO) adjustments of a tree's processes, which
 * the kernel applies when each exits.
 *
 *   sysvsemundo RES   makes set U (key KEY_U) of two semaphores, 5 and 0;
 *       child A takes 2 from semaphore 0 with SEM_UNDO and a thread of A
 *       takes 1 more (one undo list for both: A's adjustment is +3);
 *       child B adds 4 to semaphore 1 with SEM_UNDO (-4).  When the values
 *       are 2 and 4 it prints "ready" and waits for SIGUSR1; then B adds
 *       1 more with SEM_UNDO (-5 in all), A and B exit in turn and the
 *       root checks after each that its exit undid exactly its own
 *       adjustments (5 and 5, then 5 and 0), then writes PASS or
 *       "FAIL: what" to RES and removes the set.
 *   sysvsemundo outside   adds 1 to semaphore 1 of set U with SEM_UNDO,
 *       prints "ready", pause()s.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

#define KEY_U 0x53554e44

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "sysvsemundo: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void op(int id, int num, int delta)
{
	struct sembuf sb = { .sem_num = num, .sem_op = delta, .sem_flg = SEM_UNDO };

	while (semop(id, &sb, 1))
		if (errno != EINTR)
			die("semop");
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

static int id_u;

static void *thread_a(void *arg)
{
	(void)arg;
	op(id_u, 0, -1);
	for (;;)
		pause();
	return NULL;
}

static int val(int num)
{
	int v = semctl(id_u, num, GETVAL);

	if (v < 0)
		die("GETVAL");
	return v;
}

/* wait until the semaphores read @v0 and @v1, 10 s at most */
static int await(int v0, int v1)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (val(0) == v0 && val(1) == v1)
			return 1;
		usleep(10000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char fail[256] = "";
	pthread_t th;
	sigset_t usr1;
	pid_t a, b;
	int st;
	FILE *res;

	if (argc != 2) {
		fprintf(stderr, "usage: sysvsemundo RES | outside\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	if (!strcmp(argv[1], "outside")) {
		id_u = semget(KEY_U, 0, 0);
		if (id_u < 0)
			die("semget");
		op(id_u, 1, 1);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	/* SIGUSR1 is blocked outside sigsuspend(): none is lost */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	id_u = semget(KEY_U, 2, IPC_CREAT | IPC_EXCL | 0600);
	if (id_u < 0 || semctl(id_u, 0, SETVAL, 5) || semctl(id_u, 1, SETVAL, 0))
		die("set U");
	a = fork();
	if (a < 0)
		die("fork");
	if (!a) {
		op(id_u, 0, -2);
		if (pthread_create(&th, NULL, thread_a, NULL))
			die("pthread_create");
		wait_usr1();
		exit(0);
	}
	b = fork();
	if (b < 0)
		die("fork");
	if (!b) {
		op(id_u, 1, 4);
		wait_usr1();
		op(id_u, 1, 1);
		go = 0;
		wait_usr1();
		exit(0);
	}
	if (!await(2, 4))
		die("the children's semop()s");
	printf("ready\n");
	fflush(stdout);
	wait_usr1();
	res = fopen(argv[1], "w");
	if (!res)
		die(argv[1]);
	if (val(0) != 2 || val(1) != 4)
		snprintf(fail, sizeof(fail), "values %d %d, not 2 4", val(0), val(1));
	kill(b, SIGUSR1);
	if (!*fail && !await(2, 5))
		snprintf(fail, sizeof(fail), "B's semop() after restart: %d %d", val(0), val(1));
	kill(a, SIGUSR1);
	if (waitpid(a, &st, 0) != a || st)
		snprintf(fail, sizeof(fail), "A: status %#x", st);
	if (!*fail && (val(0) != 5 || val(1) != 5))
		snprintf(fail, sizeof(fail), "after A exited: %d %d, not 5 5 (A's +3)", val(0), val(1));
	kill(b, SIGUSR1);
	if (waitpid(b, &st, 0) != b || st)
		snprintf(fail, sizeof(fail), "B: status %#x", st);
	if (!*fail && (val(0) != 5 || val(1) != 0))
		snprintf(fail, sizeof(fail), "after B exited: %d %d, not 5 0 (B's -5)", val(0), val(1));
	semctl(id_u, 0, IPC_RMID);
	fprintf(res, *fail ? "FAIL: %s\n" : "PASS\n", fail);
	fclose(res);
	return 0;
}
