/*
 * crtreeepoll: one epoll file held by two processes of a tree (the child inherited it at fork,
 * as a forked helper of any event-loop program does), judging itself after a restart.
 *
 *   crtreeepoll PREFIX
 *
 * The root R makes an eventfd E (count 1: ready), a pipe P and an epoll watching E (data 9) and
 * P's read end (data 7), forks C, writes "R C" to PREFIX.pids, then PREFIX.ready; both wait for
 * SIGUSR1 (sent to R after a restart, R passes it on) in sigsuspend(), SIGUSR1 blocked outside it
 * (restore verification compares the call's mask, which /proc shows, on both sides). Then C checks that the epoll reports
 * exactly E ready, consumes E's count, writes a byte to P, adds an eventfd of its own (count 1,
 * data 11) to the epoll and writes PREFIX.added; R waits for it and must see, through its own
 * descriptor, P ready and C's eventfd (the same epoll file and the same E: the count C took is
 * gone), and no E. C exits 0 (PASS) or 1; R writes PASS or "FAIL: reason" to PREFIX.result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static const char *prefix;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void put(const char *suffix, const char *text)
{
	char path[512], tmp[520];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, path))
		exit(3);
}

/* what the epoll reports now, as data values in a bit mask */
static unsigned int ready(int ep)
{
	struct epoll_event ev[8];
	unsigned int mask = 0;
	int n, i;

	n = epoll_wait(ep, ev, 8, 0);
	for (i = 0; i < n; i++)
		if (ev[i].events == EPOLLIN && ev[i].data.u64 < 32)
			mask |= 1u << ev[i].data.u64;
		else
			mask |= 1u << 31;
	return n < 0 ? 1u << 30 : mask;
}

static void add(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		exit(3);
}

static void wait_go(const sigset_t *during)
{
	while (!go)
		sigsuspend(during);
}

static int child(int ep, int efd, int wr, const sigset_t *during)
{
	uint64_t v;
	int own;

	wait_go(during);
	if (ready(ep) != 1u << 9)
		return 1;
	if (read(efd, &v, sizeof(v)) != sizeof(v) || v != 1 || write(wr, "x", 1) != 1)
		return 1;
	own = eventfd(1, EFD_CLOEXEC);
	if (own < 0)
		return 1;
	add(ep, own, 11);
	put("added", "added\n");
	/* R checks while the child's eventfd is still open */
	sleep(3);
	return 0;
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char buf[64], path[512];
	sigset_t usr1, during;
	unsigned int seen = 0;
	int ep, efd, p[2], st, i;
	pid_t c;

	if (argc != 2) {
		fprintf(stderr, "usage: crtreeepoll PREFIX\n");
		return 2;
	}
	prefix = argv[1];
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &during);
	efd = eventfd(1, EFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || ep < 0 || pipe2(p, O_CLOEXEC))
		return 3;
	add(ep, efd, 9);
	add(ep, p[0], 7);
	c = fork();
	if (c < 0)
		return 3;
	if (c == 0)
		_exit(child(ep, efd, p[1], &during));
	snprintf(buf, sizeof(buf), "%d %d\n", (int)getpid(), (int)c);
	put("pids", buf);
	put("ready", "ready\n");
	wait_go(&during);
	kill(c, SIGUSR1);
	snprintf(path, sizeof(path), "%s.added", prefix);
	for (i = 0; i < 200 && access(path, F_OK); i++)
		usleep(50000);
	if (i < 200)
		seen = ready(ep);
	if (waitpid(c, &st, 0) != c) {
		put("result", "FAIL: no child\n");
		return 1;
	}
	if (i == 200)
		snprintf(buf, sizeof(buf), "FAIL: the child did not get through\n");
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		snprintf(buf, sizeof(buf), "FAIL: the child's epoll or eventfd not as before (status %#x)\n",
			 st);
	else if (seen != ((1u << 7) | (1u << 11)))
		snprintf(buf, sizeof(buf), "FAIL: the root's epoll reports %#x\n", seen);
	else
		snprintf(buf, sizeof(buf), "PASS\n");
	put("result", buf);
	return buf[0] != 'P';
}
