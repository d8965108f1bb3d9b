/*
 * ptytree: a pty shared by the tasks of a process tree, the controlling terminal of a session of
 * it (issue 12), judging itself.
 *
 *   ptytree PREFIX [ctty]
 *
 * The root P opens a pty pair (master, 24x80 window) and forks C, which becomes a session leader
 * (setsid) and opens the slave: its controlling terminal, put in raw mode. C forks G into a process
 * group of its own and makes it the foreground group (tcsetpgrp). G writes "from-slave" to the
 * slave, P writes "from-master" to the master: neither is read, so the pty holds data both ways.
 * P writes PREFIX.c and PREFIX.g (C's and G's pids) and PREFIX.ready; all then sleep.
 *
 * SIGUSR1 to P (after a restart): P reads what G wrote; C checks getsid(), tcgetsid(),
 * tcgetpgrp() (G's group), ttyname() and tty_nr of /proc/self/stat; G checks its group and
 * session, the window size, that no SIGWINCH came, and reads what P wrote. P then resizes the
 * window through the master (TIOCSWINSZ): G, the foreground group, must get SIGWINCH and see the
 * size. P closes the master: the hangup sends SIGHUP to the session leader C, which exits; its
 * exit sends SIGHUP to the foreground group, G. Each reports through a pipe to P, which writes
 * PASS or "FAIL: reason" to PREFIX.result (C's exit status checked too).
 *
 * With "ctty", C and G close their descriptors of the slave and of the pipe once set up: the
 * session keeps the slave as its controlling terminal only, so a checkpoint of C's subtree must be
 * refused naming it. That mode only sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, winch, hup;
static const char *prefix;
static char failure[300];

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else if (sig == SIGUSR2)
		usr2 = 1;
	else if (sig == SIGWINCH)
		winch++;
	else if (sig == SIGHUP)
		hup++;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	if (failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

/* PREFIX.NAME holding @text, made whole at once (rename) */
static void write_file(const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s.%s", prefix, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    close(fd) || rename(tmp, path))
		die(path);
}

static void handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGTTOU, SIG_IGN);
}

/* sleep until *@flag (a signal handler sets it) */
static void wait_for(volatile sig_atomic_t *flag)
{
	struct timespec ts = { 0, 20000000L };

	while (!*flag)
		nanosleep(&ts, NULL);
}

/*
 * The tree is set up: C's pid and the foreground group of master @m in
 * files for the scenario, "ready", then wait for SIGUSR1 (the checkpoint
 * and restart come meanwhile).
 */
static void announce(pid_t c, int m)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", c);
	write_file("c", buf);
	snprintf(buf, sizeof(buf), "%d\n", tcgetpgrp(m));
	write_file("g", buf);
	write_file("ready", "ready\n");
	wait_for(&usr1);
}

/* @n bytes from @fd, waiting at most 30 s for each piece; -1 if they do not come */
static int read_some(int fd, char *buf, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;

	while (off < n) {
		ssize_t r;
		int k = poll(&p, 1, 30000);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		r = read(fd, buf + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += r;
	}
	buf[off] = 0;
	return 0;
}

/* a line of a child's report, without its newline; "" at EOF */
static void report(int fd, char *buf, size_t size)
{
	size_t off = 0;

	while (off + 1 < size) {
		ssize_t r = read(fd, buf + off, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf[off] == '\n')
			break;
		off++;
	}
	buf[off] = 0;
}

static void say(int fd, const char *text)
{
	char buf[400];

	snprintf(buf, sizeof(buf), "%s\n", failure[0] ? failure : text);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		die("report");
}

/* the tty_nr field (7th) of /proc/self/stat */
static long stat_tty_nr(void)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	long nr = -1;
	int i;

	if (!f || !fgets(buf, sizeof(buf), f))
		die("/proc/self/stat");
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 5; i++)
		p = strchr(p + 1, ' ');
	if (p)
		nr = strtol(p + 1, NULL, 10);
	return nr;
}

/* G: the foreground group of C's session */
static void run_g(int s, int rep, int ctty)
{
	struct winsize ws;
	char buf[64];

	if (write(s, "from-slave", 10) != 10)
		die("write slave");
	say(rep, "G ready");
	if (ctty) {
		close(s);
		close(rep);
		wait_for(&usr1);
		_exit(0);
	}
	wait_for(&usr1);
	if (getpgrp() != getpid() || getsid(0) != getppid())
		fail("G: group %d, session %d", getpgrp(), getsid(0));
	if (tcgetpgrp(s) != getpid())
		fail("G: tcgetpgrp %d (pid %d)", tcgetpgrp(s), getpid());
	if (ioctl(s, TIOCGWINSZ, &ws) || ws.ws_row != 24 || ws.ws_col != 80)
		fail("G: window %ux%u before the resize", ws.ws_row, ws.ws_col);
	if (winch)
		fail("G: %d SIGWINCH before the resize", (int)winch);
	if (read_some(s, buf, 11) || strcmp(buf, "from-master"))
		fail("G: the slave's buffered input differs");
	say(rep, "G ok");
	wait_for(&winch);
	if (ioctl(s, TIOCGWINSZ, &ws) || ws.ws_row != 40 || ws.ws_col != 120)
		fail("G: window %ux%u after the resize", ws.ws_row, ws.ws_col);
	say(rep, "G winch");
	wait_for(&hup);
	say(rep, "G hup");
	_exit(0);
}

/* C: the session leader, the slave its controlling terminal */
static void run_c(const char *name, int rep, int ctty)
{
	struct timespec ts = { 0, 20000000L };
	struct termios t;
	struct stat st;
	int s, n;
	char *tn;
	pid_t g;

	if (setsid() < 0)
		die("setsid");
	s = open(name, O_RDWR);
	if (s < 0)
		die(name);
	if (tcgetattr(s, &t))
		die("tcgetattr");
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(s, TCSANOW, &t))
		die("tcsetattr");
	g = fork();
	if (g < 0)
		die("fork");
	if (!g) {
		setpgid(0, 0);
		run_g(s, rep, ctty);
	}
	setpgid(g, g);
	if (tcsetpgrp(s, g))
		die("tcsetpgrp");
	if (fstat(s, &st))
		die("fstat");
	say(rep, "C ready");
	if (ctty) {
		close(s);
		close(rep);
		wait_for(&usr1);
		_exit(0);
	}
	/* P wrote to the master: received (out of the flip buffers) */
	wait_for(&usr2);
	while (ioctl(s, FIONREAD, &n) || n != 11)
		nanosleep(&ts, NULL);
	say(rep, "C input");
	wait_for(&usr1);
	tn = ttyname(s);
	if (getsid(0) != getpid() || tcgetsid(s) != getpid())
		fail("C: session %d, tcgetsid %d", getsid(0), tcgetsid(s));
	if (tcgetpgrp(s) != g)
		fail("C: tcgetpgrp %d, not G's group %d", tcgetpgrp(s), g);
	if (!tn || strcmp(tn, name))
		fail("C: ttyname of the slave is %s, not %s", tn ? tn : "none", name);
	if (stat_tty_nr() != (long)st.st_rdev)
		fail("C: tty_nr %ld, the slave is %ld", stat_tty_nr(), (long)st.st_rdev);
	say(rep, "C ok");
	wait_for(&hup);
	say(rep, "C hup");
	_exit(0);
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct timespec ts = { 0, 20000000L };
	int m, rep[2], ctty, status, n;
	char name[128], buf[400];
	pid_t c, fg;

	if (argc < 2 || (argc == 3 && strcmp(argv[2], "ctty")) || argc > 3) {
		fprintf(stderr, "usage: ptytree PREFIX [ctty]\n");
		return 2;
	}
	prefix = argv[1];
	ctty = argc == 3;
	handlers();
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name)))
		die("posix_openpt");
	if (ioctl(m, TIOCSWINSZ, &ws))
		die("TIOCSWINSZ");
	if (pipe(rep))
		die("pipe");
	c = fork();
	if (c < 0)
		die("fork");
	if (!c) {
		close(m);
		close(rep[0]);
		run_c(name, rep[1], ctty);
	}
	close(rep[1]);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "C ready") && strcmp(buf, "G ready"))
		die(buf);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "C ready") && strcmp(buf, "G ready"))
		die(buf);
	if (ctty) {
		announce(c, m);
		return 0;
	}
	/* the slave is raw (no echo): this stays in its input, unread */
	if (write(m, "from-master", 11) != 11)
		die("write master");
	kill(c, SIGUSR2);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "C input"))
		die(buf);
	/* what G wrote is received too */
	while (ioctl(m, FIONREAD, &n) || n != 10)
		nanosleep(&ts, NULL);
	announce(c, m);

	if (read_some(m, buf, 10) || strcmp(buf, "from-slave"))
		fail("P: the master's buffered input differs");
	kill(c, SIGUSR1);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "C ok"))
		fail("%s", buf);
	/* G through the foreground group of the master's tty */
	fg = tcgetpgrp(m);
	if (fg <= 1) {
		fail("P: tcgetpgrp of the master %d", fg);
		write_file("result", "FAIL: no foreground group\n");
		return 1;
	}
	kill(-fg, SIGUSR1);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "G ok"))
		fail("%s", buf);
	ws.ws_row = 40;
	ws.ws_col = 120;
	if (ioctl(m, TIOCSWINSZ, &ws))
		die("TIOCSWINSZ");
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "G winch"))
		fail("after the resize: %s", buf);
	close(m);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "C hup"))
		fail("after the hangup: %s", buf);
	report(rep[0], buf, sizeof(buf));
	if (strcmp(buf, "G hup"))
		fail("after C exited: %s", buf);
	report(rep[0], buf, sizeof(buf));
	if (buf[0])
		fail("more reports: %s", buf);
	if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("C: exit status %#x", status);
	snprintf(buf, sizeof(buf), "FAIL: %s\n", failure);
	write_file("result", failure[0] ? buf : "PASS\n");
	return 0;
}
