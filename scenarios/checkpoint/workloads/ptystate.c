/*
 * ptystate: pty pairs whose both ends the task holds, restored with their
 * termios, window size, buffered data, packet mode and lock (issue 10).
 *
 *   ptystate RES         opens a pty pair (posix_openpt(), unlockpt(), the
 *                        slave by name), puts the slave in raw mode with VINTR
 *                        ^G, VMIN 1, VTIME 3, sets the window size 33x101
 *                        (7x9 pixels) on the master, turns packet mode on, writes
 *                        "from-master-123" to the master and "from-slave-456\n"
 *                        to the slave (both unread), locks the slave again
 *                        (TIOCSPTLCK), prints "ready PID pts N" and pause()s
 *                        until SIGUSR1.  Then it checks the termios, window
 *                        size, lock and packet mode, reads the buffered data of
 *                        each end (the master's after its packet-mode status
 *                        byte), that the pair still carries data both ways,
 *                        that ttyname() of the slave is ptsname() of the master
 *                        and is the name it had (the pts number is kept),
 *                        writes PASS or "FAIL: what" to RES and the pts
 *                        numbers before and after to stdout.
 *   ptystate canon RES   a pair whose slave is in canonical mode with unread
 *                        input (refused at checkpoint): "ready PID", pause().
 *   ptystate master RES  holds only the master (the slave's end outside the
 *                        checkpoint): "ready PID", pause().
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>

static sig_atomic_t released;
static char msg[512];

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

static void die(const char *what)
{
	printf("ptystate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, long a, long b)
{
	if (!msg[0])
		snprintf(msg, sizeof(msg), fmt, a, b);
}

static void wait_released(const char *extra)
{
	setsid();	/* the restarted task is a session leader, as the lab restarts it */
	printf("ready %d%s\n", getpid(), extra);
	fflush(stdout);
	while (!released)
		pause();
}

static int open_pair(int *slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0 || grantpt(m) || unlockpt(m))
		die("posix_openpt");
	*slave = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (*slave < 0)
		die("open slave");
	return m;
}

/* everything readable now (non-blocking) */
static ssize_t drain(int fd, char *buf, size_t len)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t n, got = 0;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while ((size_t)got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += n;
	fcntl(fd, F_SETFL, fl);
	return got;
}

static void write_result(const char *res, const char *extra)
{
	int fd = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(res);
	dprintf(fd, "%s\n", msg[0] ? msg : "PASS");
	close(fd);
	printf("%s", extra);
	fflush(stdout);
}

static int mode_refused(const char *mode, const char *res)
{
	struct termios t;
	int m, s;

	m = open_pair(&s);
	if (!strcmp(mode, "master")) {
		close(s);
	} else {
		tcgetattr(s, &t);
		t.c_lflag |= ICANON;
		tcsetattr(s, TCSANOW, &t);
		if (write(m, "abc\n", 4) != 4)
			die("write");
	}
	wait_released("");
	write_result(res, "");
	return 0;
}

int main(int argc, char **argv)
{
	struct winsize ws = { 33, 101, 7, 9 }, ws2;
	struct termios want, got;
	char buf[256], extra[128], before[64];
	int m, s, one = 1, lock = -1, pkt = -1;
	ssize_t n;

	signal(SIGUSR1, on_usr1);
	if (argc == 3)
		return mode_refused(argv[1], argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: ptystate RES | ptystate canon|master RES\n");
		return 2;
	}
	m = open_pair(&s);
	tcgetattr(s, &want);
	cfmakeraw(&want);
	want.c_cc[VINTR] = 7;
	want.c_cc[VMIN] = 1;
	want.c_cc[VTIME] = 3;
	if (tcsetattr(s, TCSANOW, &want) || ioctl(m, TIOCSWINSZ, &ws) || ioctl(m, TIOCPKT, &one))
		die("tcsetattr/TIOCSWINSZ/TIOCPKT");
	if (write(m, "from-master-123", 15) != 15 || write(s, "from-slave-456\n", 15) != 15)
		die("write");
	if (ioctl(m, TIOCSPTLCK, &one))
		die("TIOCSPTLCK");
	snprintf(before, sizeof(before), "%s", ptsname(m));
	snprintf(extra, sizeof(extra), " pts %s", before);
	wait_released(extra);

	tcgetattr(s, &got);
	if (got.c_iflag != want.c_iflag || got.c_oflag != want.c_oflag ||
	    got.c_cflag != want.c_cflag || got.c_lflag != want.c_lflag)
		fail("FAIL: termios flags differ (lflag %#lx, expected %#lx)", got.c_lflag,
		     want.c_lflag);
	else if (memcmp(got.c_cc, want.c_cc, sizeof(got.c_cc)))
		fail("FAIL: control characters differ (VINTR %ld, VTIME %ld)", got.c_cc[VINTR],
		     got.c_cc[VTIME]);
	if (ioctl(s, TIOCGWINSZ, &ws2) || memcmp(&ws, &ws2, sizeof(ws)))
		fail("FAIL: window size %ldx%ld", ws2.ws_row, ws2.ws_col);
	if (ioctl(m, TIOCGPTLCK, &lock) || lock != 1)
		fail("FAIL: the slave is not locked (%ld)", lock, 0);
	if (ioctl(m, TIOCGPKT, &pkt) || pkt != 1)
		fail("FAIL: packet mode is off (%ld)", pkt, 0);
	n = drain(s, buf, sizeof(buf));
	if (n != 15 || memcmp(buf, "from-master-123", 15))
		fail("FAIL: the slave reads %ld bytes of buffered input (%ld)", n, buf[0]);
	n = drain(m, buf, sizeof(buf));
	if (n != 16 || buf[0] != TIOCPKT_DATA || memcmp(buf + 1, "from-slave-456\n", 15))
		fail("FAIL: the master reads %ld bytes of buffered input (first %ld)", n, buf[0]);
	/* the pair still works, both ways */
	if (write(m, "ping", 4) != 4 || write(s, "pong", 4) != 4)
		fail("FAIL: write to the pair: errno %ld", errno, 0);
	usleep(100000);
	n = drain(s, buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "ping", 4))
		fail("FAIL: the slave reads %ld bytes after restart", n, 0);
	n = drain(m, buf, sizeof(buf));
	if (n != 5 || memcmp(buf + 1, "pong", 4))
		fail("FAIL: the master reads %ld bytes after restart", n, 0);
	if (!ttyname(s) || strcmp(ttyname(s), ptsname(m)))
		fail("FAIL: ttyname() of the slave is not ptsname() of the master", 0, 0);
	else if (strcmp(ptsname(m), before))
		fail("FAIL: the pair has another pts number", 0, 0);
	snprintf(extra, sizeof(extra), "pts before %s after %s\n", before, ptsname(m));
	write_result(argv[1], extra);
	return 0;
}
