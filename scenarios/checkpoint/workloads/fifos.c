/*
 * fifos: named FIFOs held in every way restart must restore (issue 10).
 *
 *   fifos hold DIR RES   in DIR (created) makes the FIFOs a, b, c, d, e:
 *                        a: both ends held, the read end O_NONBLOCK, 13
 *                           bytes in it, F_SETPIPE_SZ 128 KiB;
 *                        b: one O_RDWR file (and a dup of it), 5000 bytes;
 *                        c: the read end only, its writer closed after 7
 *                           bytes (EOF after them);
 *                        d: the write end only, its reader closed (EPIPE);
 *                        e: the read end only, its writer is another
 *                           process ("fifos writer DIR/e", started after
 *                           "ready"), which wrote "before\n";
 *                        f: a reader r1 opened (O_NONBLOCK) before a writer,
 *                           the writer, a reader r2 opened while it is open,
 *                           at fds 22, 21, 20 (restart opens r2 first);
 *                        g: a reader (O_NONBLOCK) that no writer has opened
 *                           since;
 *                        h: a reader (O_NONBLOCK) whose writer came and went,
 *                           leaving no bytes (the case restart lost);
 *                        and a pipe() whose write end is closed.
 *                        poll() (6.1: POLLHUP when no writer, unless the
 *                        reader was opened O_NONBLOCK with no writer and
 *                        none came since) is checked before the checkpoint
 *                        and after: c, h and the pipe report POLLHUP; f's
 *                        readers do not while the writer is open, both do
 *                        once it closes; g does not until a writer comes
 *                        and goes.
 *                        Prints "ready PID", pause()s until SIGUSR1, then
 *                        checks each FIFO (inode, flags, size, bytes, EOF,
 *                        EPIPE; for e, "before\nafter\n" then EOF: the
 *                        bytes of a FIFO open outside are not doubled) and
 *                        writes PASS or "FAIL: what" to RES.
 *   fifos restart IMG LOG  restarts IMG with fifos as the caller (so that an
 *                        unprivileged restart keeps the exe), LOG its logfd;
 *                        prints the error if it fails.
 *   fifos writer PATH    opens PATH for writing, writes "before\n", prints
 *                        "ready PID"; on SIGUSR1 writes "after\n" and exits.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/checkpoint.h>

#include "restart_self.h"

/* the kernel's O_LARGEFILE (glibc's is 0 on x86-64), always set here */
#define K_LARGEFILE 0100000

static volatile sig_atomic_t go;
static const char *res;
static char dir[4096];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "fifos: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void result(const char *fmt, ...)
{
	FILE *f = fopen(res, "w");
	va_list ap;

	if (!f)
		die(res);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
	exit(0);
}

#define CHECK(cond, ...) do { if (!(cond)) result("FAIL: " __VA_ARGS__); } while (0)

static char *path(const char *name)
{
	static char buf[8][4200];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static int xopen(const char *name, int flags)
{
	int fd = open(path(name), flags);

	if (fd < 0)
		die(name);
	return fd;
}

static void xwrite(int fd, const void *buf, size_t n)
{
	if (write(fd, buf, n) != (ssize_t)n)
		die("write");
}

static void wait_usr1(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!go)
		sigsuspend(&none);
}

/* the fd is a file of the FIFO @name, with flags @fl */
static void check_file(int fd, const char *name, int fl)
{
	struct stat a, b;
	int got = fcntl(fd, F_GETFL);

	CHECK(!fstat(fd, &a) && !stat(path(name), &b) && S_ISFIFO(a.st_mode) &&
	      a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	      "fd %d is not the FIFO %s", fd, name);
	CHECK((got & ~K_LARGEFILE) == fl, "fd %d (%s): flags %#o, want %#o", fd, name,
	      got & ~K_LARGEFILE, fl);
}

/* the POLLHUP bit of @fd now (its other bits ignored) */
static int hup(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 0) < 0)
		die("poll");
	return !!(p.revents & POLLHUP);
}

/* a writer opens the FIFO @name and closes it again */
static void writer_comes_and_goes(const char *name)
{
	close(xopen(name, O_WRONLY | O_NONBLOCK));
}

/* the poll() state before the checkpoint: as 6.1's pipe_poll() gives it */
static void check_hup_before(int rc, int r1, int wf, int r2, int rg, int rp)
{
	if (!hup(rc) || hup(r1) || hup(r2) || hup(rg) || !hup(rp) || wf < 0) {
		errno = EPROTO;
		die("POLLHUP before the checkpoint is not what the kernel gives");
	}
}

static int writer(const char *p)
{
	int fd;

	signal(SIGUSR1, on_usr1);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		die(p);
	xwrite(fd, "before\n", 7);
	printf("ready %d\n", getpid());
	fflush(stdout);
	wait_usr1();
	xwrite(fd, "after\n", 6);
	return 0;
}

static int hold(void)
{
	int ra, wa, rwb, rwb2, rc, wd, re, tmp, n, r1, wf, r2, rg, rh, pp[2];
	char buf[8192], pat[5000];
	const char *names = "abcdefgh";
	int i;

	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(dir, 0755) && errno != EEXIST)
		die(dir);
	for (i = 0; names[i]; i++) {
		char nm[2] = { names[i], 0 };

		unlink(path(nm));
		if (mkfifo(path(nm), 0600))
			die("mkfifo");
	}
	ra = xopen("a", O_RDONLY | O_NONBLOCK);
	wa = xopen("a", O_WRONLY);
	if (fcntl(wa, F_SETPIPE_SZ, 131072) != 131072)
		die("F_SETPIPE_SZ");
	xwrite(wa, "hello fifo a\n", 13);

	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = 'A' + i % 23;
	rwb = xopen("b", O_RDWR);
	rwb2 = dup(rwb);
	xwrite(rwb, pat, sizeof(pat));

	rc = xopen("c", O_RDONLY | O_NONBLOCK);
	tmp = xopen("c", O_WRONLY);
	xwrite(tmp, "tail c\n", 7);
	close(tmp);
	if (fcntl(rc, F_SETFL, 0))
		die("F_SETFL");

	tmp = xopen("d", O_RDONLY | O_NONBLOCK);
	wd = xopen("d", O_WRONLY | O_NONBLOCK);
	close(tmp);

	re = xopen("e", O_RDONLY | O_NONBLOCK);
	if (fcntl(re, F_SETFL, 0))
		die("F_SETFL");

	r1 = xopen("f", O_RDONLY | O_NONBLOCK);
	wf = xopen("f", O_WRONLY | O_NONBLOCK);
	r2 = xopen("f", O_RDONLY | O_NONBLOCK);
	if (dup2(r2, 20) != 20 || dup2(wf, 21) != 21 || dup2(r1, 22) != 22)
		die("dup2");
	close(r1);
	close(wf);
	close(r2);
	r2 = 20;
	wf = 21;
	r1 = 22;
	rg = xopen("g", O_RDONLY | O_NONBLOCK);
	rh = xopen("h", O_RDONLY | O_NONBLOCK);
	writer_comes_and_goes("h");
	if (pipe(pp))
		die("pipe");
	close(pp[1]);
	check_hup_before(rc, r1, wf, r2, rg, pp[0]);
	if (!hup(rh))
		die("h: no POLLHUP before the checkpoint");

	printf("ready %d\n", getpid());
	fflush(stdout);
	wait_usr1();

	CHECK(hup(rc), "c: no POLLHUP after restart (its writer came and went)");
	CHECK(hup(rh), "h: no POLLHUP after restart (its writer came and went)");
	check_file(rh, "h", O_RDONLY | O_NONBLOCK);
	CHECK(hup(pp[0]), "pipe: no POLLHUP after restart (its write end is closed)");
	CHECK(!hup(r1) && !hup(r2), "f: POLLHUP with a writer");
	check_file(wf, "f", O_WRONLY | O_NONBLOCK);
	close(wf);
	CHECK(hup(r1) && hup(r2), "f: no POLLHUP for r1 (%d) or r2 (%d) once the writer closed",
	      hup(r1), hup(r2));
	CHECK(!hup(rg), "g: POLLHUP, no writer came");
	writer_comes_and_goes("g");
	CHECK(hup(rg), "g: no POLLHUP after a writer came and went");

	check_file(ra, "a", O_RDONLY | O_NONBLOCK);
	check_file(wa, "a", O_WRONLY);
	CHECK(fcntl(wa, F_GETPIPE_SZ) == 131072, "a: pipe size %d", fcntl(wa, F_GETPIPE_SZ));
	CHECK(!ioctl(ra, FIONREAD, &n) && n == 13, "a: FIONREAD %d, want 13", n);
	n = read(ra, buf, sizeof(buf));
	CHECK(n == 13 && !memcmp(buf, "hello fifo a\n", 13), "a: read %d bytes", n);
	n = read(ra, buf, sizeof(buf));
	CHECK(n < 0 && errno == EAGAIN, "a: empty read gave %d (%s), want EAGAIN", n,
	      strerror(errno));
	xwrite(wa, "x", 1);
	CHECK(read(ra, buf, 1) == 1 && buf[0] == 'x', "a: the ends are not one pipe");

	check_file(rwb, "b", O_RDWR);
	check_file(rwb2, "b", O_RDWR);
	if (fcntl(rwb2, F_SETFL, O_NONBLOCK))
		die("F_SETFL");
	CHECK((fcntl(rwb, F_GETFL) & O_NONBLOCK), "b: the dup is not the same file");
	n = read(rwb, buf, sizeof(buf));
	CHECK(n == (int)sizeof(pat) && !memcmp(buf, pat, sizeof(pat)), "b: read %d bytes", n);

	check_file(rc, "c", O_RDONLY);
	n = read(rc, buf, sizeof(buf));
	CHECK(n == 7 && !memcmp(buf, "tail c\n", 7), "c: read %d bytes", n);
	n = read(rc, buf, sizeof(buf));
	CHECK(n == 0, "c: read %d after the data, want EOF", n);

	check_file(wd, "d", O_WRONLY | O_NONBLOCK);
	n = write(wd, "y", 1);
	CHECK(n < 0 && errno == EPIPE, "d: write gave %d (%s), want EPIPE", n, strerror(errno));

	check_file(re, "e", O_RDONLY);
	alarm(30);
	for (i = 0; i < 13; i += n) {
		n = read(re, buf + i, 13 - i);
		CHECK(n > 0, "e: read %d after %d bytes", n, i);
	}
	CHECK(!memcmp(buf, "before\nafter\n", 13), "e: read '%.13s'", buf);
	n = read(re, buf, sizeof(buf));
	CHECK(n == 0, "e: read %d after the writer exited, want EOF", n);
	result("PASS");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return restart_img("fifos", argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "writer"))
		return writer(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "hold")) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		res = argv[3];
		return hold();
	}
	fprintf(stderr, "usage: fifos hold DIR RES | fifos writer PATH | fifos restart IMG LOG\n");
	return 2;
}
