/*
 * crns: a task in namespaces of its own, which checkpoint must refuse by name.
 *
 *   crns PREFIX KIND...
 *
 * For each KIND (uts, ipc, mnt, net, cgroup, time, user) unshare(2)s that namespace (uts: and sets
 * another hostname; time: the next children's, so it forks one child in it, which sleeps too),
 * writes PREFIX.ready and sleeps until killed. Two more KINDs make an object in the IPC namespace
 * it is in by then: sem a SysV semaphore set, msg a SysV message queue (IPC_PRIVATE, 0600); sock
 * opens a UDP socket in the network namespace it is in by then (kept open: "sock net" holds a
 * socket of the namespace it left).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name; int flag; } kinds[] = {
	{ "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC }, { "mnt", CLONE_NEWNS },
	{ "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
	{ "user", CLONE_NEWUSER },
};

int main(int argc, char **argv)
{
	char path[4096];
	FILE *f;
	int i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: crns PREFIX KIND...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "sock")) {
			if (socket(AF_INET, SOCK_DGRAM, 0) < 0) {
				perror("socket");
				return 2;
			}
			continue;
		}
		if (!strcmp(argv[i], "sem") || !strcmp(argv[i], "msg")) {
			if ((argv[i][0] == 's' ? semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) :
			     msgget(IPC_PRIVATE, IPC_CREAT | 0600)) < 0) {
				perror(argv[i]);
				return 2;
			}
			continue;
		}
		for (k = 0; k < (int)(sizeof(kinds) / sizeof(kinds[0])); k++)
			if (!strcmp(argv[i], kinds[k].name))
				break;
		if (k == (int)(sizeof(kinds) / sizeof(kinds[0]))) {
			fprintf(stderr, "crns: unknown namespace %s\n", argv[i]);
			return 2;
		}
		if (unshare(kinds[k].flag)) {
			perror(argv[i]);
			return 2;
		}
		if (kinds[k].flag == CLONE_NEWUTS && sethostname("crns", 4)) {
			perror("sethostname");
			return 2;
		}
		if (kinds[k].flag == CLONE_NEWTIME && fork() == 0)
			for (;;)
				pause();
	}
	snprintf(path, sizeof(path), "%s.ready", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 2;
	fclose(f);
	for (;;)
		pause();
}
