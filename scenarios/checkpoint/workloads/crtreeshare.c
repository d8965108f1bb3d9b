/*
 * crtreeshare: a descriptor table (CLONE_FILES) and an fs_struct (CLONE_FS) shared by processes
 * of a tree (not threads: no CLONE_VM), judging itself after a restart.
 *
 *   crtreeshare PREFIX [leak]
 *
 * The root R (cwd PREFIX.d1, umask 027) makes:
 *   S  clone(CLONE_FS): R's root, cwd and umask; its own table, with PREFIX.s open at offset 2;
 *   F  clone(CLONE_FILES): R's table; its own fs_struct: cwd PREFIX.d2, umask 022;
 *      G  clone(CLONE_FILES | CLONE_FS) by F: R's table (through F) and F's fs_struct, with a
 *         second thread (which holds them too);
 * then R opens PREFIX.data (O_CLOEXEC, "abcdefghij", offset 3) in the shared table (S, whose
 * table was copied before, has no such file) and writes the pids to PREFIX.pids ("R S F G"),
 * then PREFIX.ready.
 *
 * SIGUSR1 to R (after a restart): R passes it on to S, F and G. Each checks what it had (the data
 * file at its descriptor, offset and close-on-exec flag, S's own file and offset, every cwd and
 * umask), then, in turn: R opens PREFIX.new1, F and G must see it at its descriptor, S must not;
 * F opens PREFIX.new2, R and G must see it; S chdir()s to PREFIX.d3 and sets umask 077, R must
 * see both and F not; once G checked its cwd and umask, F chdir()s to PREFIX.d4 and sets umask
 * 007, G must see both and R not; G's thread opens PREFIX.new3, R must see it.
 * Each child writes PASS or "FAIL: reason" to PREFIX.res.NAME and exits with 0 or 1; R checks
 * its children's exit statuses (F its child's) and writes PASS or "FAIL: reason" to
 * PREFIX.result.
 *
 * With "leak": R makes D (clone(CLONE_FILES)) with a child D1 and E (clone(CLONE_FS)): a
 * checkpoint of the subtree of D, or of E, must be refused naming R; and P, whose vfork() child
 * V (CLONE_VM | CLONE_VFORK, as glibc's posix_spawn() makes its child) waits without exec: a
 * checkpoint of P's subtree is refused, the mm being shared. D's, E's and P's pids are in
 * PREFIX.leak ("D E P"), V's in PREFIX.vchild; that mode only sleeps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static const char *prefix;
static const char *me = "R";
static char failure[600];
static pid_t kids[3];
static int nkids;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static void fail(const char *fmt, const char *what)
{
	if (!failure[0]) {
		snprintf(failure, sizeof(failure), "%s: ", me);
		snprintf(failure + strlen(failure), sizeof(failure) - strlen(failure), fmt, what);
	}
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static char *name(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "%s.%s", prefix, what);
	return buf;
}

/* PREFIX.NAME holding @text, made whole at once (rename): its temporary descriptor is closed */
static void write_file(const char *what, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	name(path, sizeof(path), what);
	snprintf(tmp, sizeof(tmp), "%s.%s.new", path, me);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    close(fd) || rename(tmp, path))
		die(path);
}

/* the number in PREFIX.NAME, once it exists (30 s) */
static int wait_file(const char *what)
{
	struct timespec ts = { 0, 20000000L };
	char path[4096];
	int i, v = -1;

	name(path, sizeof(path), what);
	for (i = 0; i < 1500; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (fscanf(f, "%d", &v) != 1)
				v = -1;
			fclose(f);
			return v;
		}
		nanosleep(&ts, NULL);
	}
	fail("%s never came", what);
	return -1;
}

static void wait_stop(void)
{
	struct timespec ts = { 0, 50000000L };

	while (!stop)
		nanosleep(&ts, NULL);
}

/* the file at @fd is PREFIX.WHAT */
static int fd_is(int fd, const char *what)
{
	char path[4096];
	struct stat a, b;

	if (fd < 0 || fstat(fd, &a) || stat(name(path, sizeof(path), what), &b))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void check_cwd(const char *dir)
{
	char want[4096], got[4096];

	if (!getcwd(got, sizeof(got)) || strcmp(got, name(want, sizeof(want), dir)))
		fail("cwd is not %s", dir);
}

static void check_umask(mode_t want, const char *what)
{
	mode_t got = umask(want);

	umask(got);
	if (got != want)
		fail("umask is not %s", what);
}

static void check_data(int dfd)
{
	char buf[16] = "";

	if (!fd_is(dfd, "data"))
		fail("%s: the data file is not at its descriptor", "table");
	else if (fcntl(dfd, F_GETFD) != FD_CLOEXEC)
		fail("%s: the data file lost close-on-exec", "table");
	else if (lseek(dfd, 0, SEEK_CUR) != 3)
		fail("%s: the data file is not at offset 3", "table");
	else if (pread(dfd, buf, 10, 0) != 10 || memcmp(buf, "abcdefghij", 10))
		fail("%s: the data file's content differs", "table");
}

/* PREFIX.newN opened, its descriptor in PREFIX.nN */
static int open_new(const char *what)
{
	char path[4096], num[32], nfile[8];
	int fd = open(name(path, sizeof(path), what), O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	snprintf(num, sizeof(num), "%d\n", fd);
	snprintf(nfile, sizeof(nfile), "n%s", what + 3);
	write_file(nfile, num);
	return fd;
}

/* G's second thread: made with G's tables (CLONE_FILES | CLONE_FS), so R's and F's */
static void *g_thread(void *arg)
{
	(void)arg;
	wait_stop();
	open_new("new3");
	return NULL;
}

static __attribute__((noreturn)) void finish_child(void)
{
	int status;

	if (nkids && (waitpid(kids[0], &status, 0) != kids[0] || !WIFEXITED(status) ||
		      WEXITSTATUS(status)))
		fail("%s: its child failed", "G");
	write_file(me[0] == 'S' ? "res.S" : me[0] == 'F' ? "res.F" : "res.G",
		   failure[0] ? failure : "PASS");
	exit(failure[0] ? 1 : 0);
}

static pid_t clone_child(unsigned long flags)
{
	pid_t pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid < 0)
		die("clone");
	return pid;
}

static void run_s(void)
{
	char path[4096];
	int sfd = open(name(path, sizeof(path), "s"), O_RDWR | O_CREAT | O_TRUNC, 0644), n1;

	me = "S";
	if (sfd < 0 || write(sfd, "0123456789", 10) != 10 || lseek(sfd, 2, SEEK_SET) != 2)
		die("S file");
	write_file("rdy.S", "1\n");
	wait_stop();
	check_cwd("d1");
	check_umask(027, "027");
	if (!fd_is(sfd, "s") || lseek(sfd, 0, SEEK_CUR) != 2)
		fail("%s: its own file or offset", "table");
	n1 = wait_file("n1");
	if (fd_is(n1, "new1"))
		fail("%s: sees R's new descriptor in its own table", "table");
	if (chdir(name(path, sizeof(path), "d3")))
		die("chdir d3");
	umask(077);
	write_file("s1", "1\n");
	finish_child();
}

static void run_g(int dfd)
{
	int n1, n2;

	pthread_t th;

	me = "G";
	nkids = 0;
	if (pthread_create(&th, NULL, g_thread, NULL))
		die("pthread_create");
	write_file("rdy.G", "1\n");
	wait_stop();
	check_data(dfd);
	check_cwd("d2");
	check_umask(022, "022");
	/* checked: F may change their fs_struct */
	write_file("g1", "1\n");
	n1 = wait_file("n1");
	n2 = wait_file("n2");
	if (!fd_is(n1, "new1") || !fd_is(n2, "new2"))
		fail("%s: does not see R's and F's new descriptors", "table");
	wait_file("f1");
	check_cwd("d4");
	check_umask(007, "007 (F's)");
	pthread_join(th, NULL);
	finish_child();
}

static void run_f(int dfd)
{
	char path[4096];
	pid_t g;
	int n1, n2;

	me = "F";
	if (chdir(name(path, sizeof(path), "d2")))
		die("chdir d2");
	umask(022);
	g = clone_child(CLONE_FILES | CLONE_FS);
	if (g == 0)
		run_g(dfd);
	kids[0] = g;
	nkids = 1;
	snprintf(path, sizeof(path), "%d\n", g);
	write_file("rdy.F", path);
	wait_stop();
	kill(g, SIGUSR1);
	check_data(dfd);
	check_cwd("d2");
	check_umask(022, "022");
	n1 = wait_file("n1");
	if (!fd_is(n1, "new1"))
		fail("%s: does not see R's new descriptor", "table");
	n2 = open_new("new2");
	wait_file("s1");
	check_cwd("d2");
	check_umask(022, "022 (its own, not S's)");
	wait_file("g1");
	if (chdir(name(path, sizeof(path), "d4")))
		die("chdir d4");
	umask(007);
	write_file("f1", "1\n");
	(void)n2;
	finish_child();
}

static __attribute__((noreturn)) void leak(void)
{
	char buf[64];
	pid_t d, e, p;

	d = clone_child(CLONE_FILES);
	if (d == 0) {
		if (clone_child(0) == 0)
			for (;;)
				pause();
		for (;;)
			pause();
	}
	e = clone_child(CLONE_FS);
	if (e == 0)
		for (;;)
			pause();
	/* P, waiting for its vfork() child V, which shares its mm (as posix_spawn()'s does) */
	p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		if (vfork() == 0) {
			me = "V";
			snprintf(buf, sizeof(buf), "%d\n", getpid());
			write_file("vchild", buf);
			for (;;)
				pause();
		}
		_exit(0);
	}
	wait_file("vchild");
	snprintf(buf, sizeof(buf), "%d %d %d\n", d, e, p);
	write_file("leak", buf);
	write_file("ready", "ready\n");
	for (;;)
		pause();
}

/* child @who's verdict (PREFIX.res.WHO) and, for R's own children (@pid), its exit status */
static void collect(pid_t pid, const char *who)
{
	char path[4096], res[32], got[300] = "", why[400];
	int status = 0;
	FILE *r;

	if (pid && waitpid(pid, &status, 0) != pid)
		status = -1;
	snprintf(res, sizeof(res), "res.%s", who);
	r = fopen(name(path, sizeof(path), res), "r");
	if (!r || !fgets(got, sizeof(got), r))
		snprintf(got, sizeof(got), "no verdict");
	if (r)
		fclose(r);
	if (strcmp(got, "PASS")) {
		snprintf(why, sizeof(why), "%s (exit status %#x): %s", who, status, got);
		fail("%s", why);
	} else if (pid && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		snprintf(why, sizeof(why), "%s passed, then exit status %#x", who, status);
		fail("%s", why);
	}
}

int main(int argc, char **argv)
{
	char path[4096], buf[256];
	int dfd, n1, n2, i;
	pid_t s, f;

	if (argc < 2) {
		fprintf(stderr, "usage: crtreeshare PREFIX [leak]\n");
		return 2;
	}
	prefix = argv[1];
	signal(SIGUSR1, on_usr1);
	if (argc > 2 && !strcmp(argv[2], "leak"))
		leak();
	for (i = 1; i <= 4; i++) {
		snprintf(buf, sizeof(buf), "d%d", i);
		if (mkdir(name(path, sizeof(path), buf), 0755) && errno != EEXIST)
			die(path);
	}
	if (chdir(name(path, sizeof(path), "d1")))
		die("chdir d1");
	umask(027);
	s = clone_child(CLONE_FS);
	if (s == 0)
		run_s();
	/* after S: its table has no such descriptor */
	dfd = open(name(path, sizeof(path), "data"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (dfd < 0 || write(dfd, "abcdefghij", 10) != 10 || lseek(dfd, 3, SEEK_SET) != 3)
		die("data file");
	f = clone_child(CLONE_FILES);
	if (f == 0)
		run_f(dfd);
	wait_file("rdy.S");
	wait_file("rdy.G");
	/* F's file holds G's pid */
	snprintf(buf, sizeof(buf), "%d %d %d %d\n", getpid(), s, f, wait_file("rdy.F"));
	if (failure[0])
		die(failure);
	write_file("pids", buf);
	write_file("ready", "ready\n");
	wait_stop();
	kill(s, SIGUSR1);
	kill(f, SIGUSR1);
	check_data(dfd);
	check_cwd("d1");
	check_umask(027, "027");
	n1 = open_new("new1");
	n2 = wait_file("n2");
	if (!fd_is(n2, "new2"))
		fail("%s: does not see F's new descriptor", "table");
	if (!fd_is(n1, "new1"))
		fail("%s: its own new descriptor is gone", "table");
	wait_file("s1");
	check_cwd("d3");
	check_umask(077, "077 (S's)");
	wait_file("f1");
	check_cwd("d3");
	check_umask(077, "077 (not F's)");
	if (!fd_is(wait_file("n3"), "new3"))
		fail("%s: does not see the descriptor G's thread opened", "table");
	kids[0] = s;
	kids[1] = f;
	for (i = 0; i < 3; i++)
		collect(i < 2 ? kids[i] : 0, i == 0 ? "S" : i == 1 ? "F" : "G");
	write_file("result", failure[0] ? failure : "PASS");
	return 0;
}
