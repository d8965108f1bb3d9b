/*
 * fdkinds: eventfd, signalfd, timerfd and epoll descriptors that restart
 * must restore exactly (issue 10).
 *
 *   fdkinds all RES    builds each kind: an eventfd (count 12, EFD_SEMAPHORE,
 *                      O_NONBLOCK), an eventfd (count 3, close-on-exec), a
 *                      signalfd of SIGUSR2 and SIGRTMIN with SIGUSR2 pending,
 *                      a timerfd of 100 s every 50 s, one that fired once
 *                      unread, a CLOCK_REALTIME TFD_TIMER_ABSTIME |
 *                      TFD_TIMER_CANCEL_ON_SET one 1000 s ahead, a pipe with a
 *                      byte in it; a level-triggered epoll over the pipe, the
 *                      first eventfd and the fired timerfd, plus an
 *                      EPOLLONESHOT item on the second eventfd already
 *                      reported; an edge-triggered epoll over the pipe and the
 *                      second eventfd whose events were already reported; an
 *                      epoll watching the level-triggered one; an inotify
 *                      instance (O_NONBLOCK) watching the directory DIR
 *                      (wd 1) and the file DIR/file (wd 2, removed again:
 *                      the next wd is 3) with an IN_CREATE of DIR/new and
 *                      the IN_IGNORED of wd 2 queued.  Prints
 *                      "ready PID", pause()s until SIGUSR1, then checks every
 *                      value and what each epoll reports, and writes PASS or
 *                      "FAIL: what" to RES.
 *   fdkinds wait RES   blocks in epoll_wait() without a timeout on a timerfd
 *                      that fires 12 s after "ready PID"; writes "PASS woke
 *                      T" (T: time(NULL)) once it returns the timer's event,
 *                      FAIL if the call fails (EINTR).
 *   fdkinds outside    an epoll whose target (an eventfd) is no longer in
 *                      the descriptor table: the eventfd was sent to itself
 *                      over a socketpair (SCM_RIGHTS, still in flight) and
 *                      closed.  Prints "ready PID" and pause()s: checkpoint
 *                      must refuse it.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

static volatile sig_atomic_t released;
static char failure[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

#define CHECK(cond, ...) do { \
	if (!(cond) && !failure[0]) \
		snprintf(failure, sizeof(failure), __VA_ARGS__); \
} while (0)

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void write_result(const char *res, const char *text)
{
	FILE *f = fopen(res, "w");

	if (!f)
		die(res);
	fprintf(f, "%s\n", text);
	fclose(f);
}

/* the events an epoll reports now (no wait), as "data:events" sorted by data */
static int collect(int ep, struct epoll_event *ev, int max)
{
	int n = epoll_wait(ep, ev, max, 0), i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (ev[j].data.u64 < ev[i].data.u64) {
				struct epoll_event t = ev[i];

				ev[i] = ev[j];
				ev[j] = t;
			}
	return n;
}

static int mode_all(const char *res)
{
	struct itimerspec its = { 0 }, got;
	struct epoll_event ev, evs[8];
	struct signalfd_siginfo si;
	struct timespec now;
	int efd, efd2, sfd, tslow, tfired, tabs, p[2], lt, et, outer, n, in;
	char evbuf[4096] __attribute__((aligned(8)));
	struct inotify_event *ie;
	char dir[64], file[80];
	uint64_t v;
	sigset_t mask;
	char c;

	signal(SIGUSR1, on_usr1);
	efd = eventfd(5, EFD_NONBLOCK | EFD_SEMAPHORE);
	efd2 = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || efd2 < 0)
		die("eventfd");
	v = 7;
	if (write(efd, &v, 8) != 8)
		die("write eventfd");
	v = 3;
	if (write(efd2, &v, 8) != 8)
		die("write eventfd");

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd");
	kill(getpid(), SIGUSR2);

	tslow = timerfd_create(CLOCK_MONOTONIC, 0);
	tfired = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	tabs = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	if (tslow < 0 || tfired < 0 || tabs < 0)
		die("timerfd_create");
	its.it_value.tv_sec = 100;
	its.it_interval.tv_sec = 50;
	if (timerfd_settime(tslow, 0, &its, NULL))
		die("timerfd_settime");
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 10 * 1000 * 1000;
	if (timerfd_settime(tfired, 0, &its, NULL))
		die("timerfd_settime");
	clock_gettime(CLOCK_REALTIME, &now);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = now.tv_sec + 1000;
	if (timerfd_settime(tabs, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
			    &its, NULL))
		die("timerfd_settime abs");
	usleep(50 * 1000);

	if (pipe(p))
		die("pipe");
	if (write(p[1], "x", 1) != 1)
		die("write pipe");

	lt = epoll_create1(0);
	et = epoll_create1(EPOLL_CLOEXEC);
	outer = epoll_create1(0);
	if (lt < 0 || et < 0 || outer < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.u64 = 1;
	epoll_ctl(lt, EPOLL_CTL_ADD, p[0], &ev);
	ev.data.u64 = 2;
	epoll_ctl(lt, EPOLL_CTL_ADD, efd, &ev);
	ev.data.u64 = 3;
	epoll_ctl(lt, EPOLL_CTL_ADD, tfired, &ev);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 4;
	if (epoll_ctl(lt, EPOLL_CTL_ADD, efd2, &ev))
		die("epoll_ctl");
	/* the one-shot item fires now, and never again */
	n = collect(lt, evs, 8);
	if (n != 4)
		die("epoll_wait before: not 4 events");
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 11;
	epoll_ctl(et, EPOLL_CTL_ADD, p[0], &ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.u64 = 12;
	epoll_ctl(et, EPOLL_CTL_ADD, efd2, &ev);
	n = collect(et, evs, 8);
	if (n != 2)
		die("epoll_wait et before: not 2 events");
	ev.events = EPOLLIN;
	ev.data.u64 = 99;
	if (epoll_ctl(outer, EPOLL_CTL_ADD, lt, &ev))
		die("epoll_ctl outer");

	snprintf(dir, sizeof(dir), "/tmp/fdkinds.%d", getpid());
	snprintf(file, sizeof(file), "%s/file", dir);
	if (mkdir(dir, 0755) || close(open(file, O_CREAT | O_WRONLY, 0644)))
		die(dir);
	in = inotify_init1(IN_NONBLOCK);
	if (in < 0)
		die("inotify_init1");
	if (inotify_add_watch(in, dir, IN_CREATE | IN_DELETE) != 1 ||
	    inotify_add_watch(in, file, IN_MODIFY) != 2 ||
	    inotify_rm_watch(in, 2))
		die("inotify_add_watch");
	snprintf(file, sizeof(file), "%s/new", dir);
	if (close(open(file, O_CREAT | O_WRONLY, 0644)))
		die(file);

	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!released)
		pause();

	/* inotify: the queued events, in order, then the watch goes on */
	n = read(in, evbuf, sizeof(evbuf));
	ie = (struct inotify_event *)evbuf;
	CHECK(n > 0 && ie->wd == 2 && (ie->mask & IN_IGNORED),
	      "inotify: first event %d bytes, wd %d mask %#x", n,
	      n > 0 ? ie->wd : 0, n > 0 ? ie->mask : 0);
	if (n > 0 && (char *)ie + sizeof(*ie) + ie->len < evbuf + n)
		ie = (struct inotify_event *)((char *)ie + sizeof(*ie) + ie->len);
	CHECK(n > 0 && ie->wd == 1 && ie->mask == IN_CREATE && !strcmp(ie->name, "new"),
	      "inotify: second event wd %d mask %#x", ie->wd, ie->mask);
	CHECK((char *)ie + sizeof(*ie) + ie->len == evbuf + n,
	      "inotify: more than two events queued");
	CHECK(fcntl(in, F_GETFL) & O_NONBLOCK, "inotify lost O_NONBLOCK");
	snprintf(file, sizeof(file), "%s/after", dir);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	n = read(in, evbuf, sizeof(evbuf));
	ie = (struct inotify_event *)evbuf;
	CHECK(n > 0 && ie->wd == 1 && ie->mask == IN_CREATE && !strcmp(ie->name, "after"),
	      "inotify: the watch of the directory after restart: %d bytes", n);
	snprintf(file, sizeof(file), "%s/file", dir);
	n = inotify_add_watch(in, file, IN_MODIFY);
	CHECK(n == 3, "inotify: next watch descriptor %d, not 3", n);

	/* eventfd: semaphore reads 1 at a time, count 12 */
	CHECK(fcntl(efd, F_GETFL) & O_NONBLOCK, "eventfd lost O_NONBLOCK");
	CHECK(!(fcntl(efd, F_GETFD) & FD_CLOEXEC), "eventfd got close-on-exec");
	CHECK(fcntl(efd2, F_GETFD) & FD_CLOEXEC, "eventfd 2 lost close-on-exec");
	for (n = 0; n < 20 && read(efd, &v, 8) == 8; n++)
		CHECK(v == 1, "semaphore eventfd read %llu", (unsigned long long)v);
	CHECK(n == 12, "semaphore eventfd gave %d reads, not 12", n);
	/* signalfd: SIGUSR2 pending, then nothing */
	n = read(sfd, &si, sizeof(si));
	CHECK(n == sizeof(si) && si.ssi_signo == SIGUSR2,
	      "signalfd read %d, signal %u", n, n > 0 ? si.ssi_signo : 0);
	CHECK(read(sfd, &si, sizeof(si)) < 0 && errno == EAGAIN,
	      "signalfd: a second signal, or it blocks");
	/* timerfds */
	timerfd_gettime(tslow, &got);
	CHECK(got.it_interval.tv_sec == 50 && got.it_value.tv_sec <= 100 &&
	      got.it_value.tv_sec >= 60, "timerfd: value %ld s interval %ld s",
	      (long)got.it_value.tv_sec, (long)got.it_interval.tv_sec);
	CHECK(read(tfired, &v, 8) == 8 && v == 1, "fired timerfd: ticks %llu",
	      (unsigned long long)v);
	timerfd_gettime(tabs, &got);
	CHECK(got.it_value.tv_sec > 900 && got.it_value.tv_sec <= 1000,
	      "absolute timerfd: %ld s left", (long)got.it_value.tv_sec);
	CHECK(fcntl(tabs, F_GETFD) & FD_CLOEXEC, "timerfd lost close-on-exec");
	/*
	 * epoll: the level-triggered set reports the pipe and the eventfd,
	 * not the timer (read), not the one-shot item
	 */
	n = collect(outer, evs, 8);
	CHECK(n == 1 && evs[0].data.u64 == 99, "outer epoll: %d events", n);
	n = collect(lt, evs, 8);
	CHECK(n == 1 && evs[0].data.u64 == 1 && evs[0].events == EPOLLIN,
	      "level-triggered epoll: %d events, first data %llu",
	      n, n > 0 ? (unsigned long long)evs[0].data.u64 : 0);
	/* edge-triggered: nothing new; then a write to the pipe is an edge */
	n = collect(et, evs, 8);
	CHECK(n == 0, "edge-triggered epoll reported %d events again", n);
	if (write(p[1], "y", 1) != 1)
		CHECK(0, "write pipe");
	n = collect(et, evs, 8);
	CHECK(n == 1 && evs[0].data.u64 == 11, "edge-triggered epoll after a write: %d events",
	      n);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x', "pipe lost its byte");
	/* the eventfd read: efd2 counts 3, writable, one edge on a write */
	v = 1;
	if (write(efd2, &v, 8) != 8)
		CHECK(0, "write eventfd 2");
	n = collect(et, evs, 8);
	CHECK(n == 1 && evs[0].data.u64 == 12, "edge-triggered eventfd: %d events", n);
	CHECK(read(efd2, &v, 8) == 8 && v == 4, "eventfd 2: count %llu, not 4",
	      (unsigned long long)v);
	/* the one-shot item stays disarmed */
	n = collect(lt, evs, 8);
	for (int i = 0; i < n; i++)
		CHECK(evs[i].data.u64 != 4, "one-shot item fired again");
	write_result(res, failure[0] ? failure : "PASS");
	return 0;
}

static int mode_wait(const char *res)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
	char text[64];
	int t, ep, n;

	t = timerfd_create(CLOCK_MONOTONIC, 0);
	ep = epoll_create1(0);
	if (t < 0 || ep < 0)
		die("create");
	its.it_value.tv_sec = 12;
	if (timerfd_settime(t, 0, &its, NULL) || epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev))
		die("arm");
	printf("ready %d\n", getpid());
	fflush(stdout);
	n = epoll_wait(ep, &ev, 1, -1);
	if (n != 1 || ev.data.u64 != 42) {
		snprintf(text, sizeof(text), "FAIL: epoll_wait %d (%s)", n,
			 n < 0 ? strerror(errno) : "no event");
		write_result(res, text);
		return 1;
	}
	snprintf(text, sizeof(text), "PASS woke %ld", (long)time(NULL));
	write_result(res, text);
	return 0;
}

static int mode_outside(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int ep, efd, sv[2];

	ep = epoll_create1(0);
	efd = eventfd(1, 0);
	if (ep < 0 || efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("setup");
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &efd, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) != 1)
		die("sendmsg");
	close(efd);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "all"))
		return mode_all(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "wait"))
		return mode_wait(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "outside"))
		return mode_outside();
	fprintf(stderr, "usage: fdkinds all|wait RES | fdkinds outside\n");
	return 2;
}
