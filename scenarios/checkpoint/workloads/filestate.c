/*
 * filestate: open files whose every flag, position, owner and lock restart
 * must restore exactly, or whose kind checkpoint must refuse by name
 * (issue 10, files).
 *
 *   filestate hold DIR RES   in DIR (created), opens: DIR itself (read part
 *                            way, so its position is not 0), O_PATH
 *                            descriptors of a file, of DIR and of a symlink
 *                            (O_NOFOLLOW), files with O_APPEND|O_NONBLOCK|
 *                            O_NOATIME|O_SYNC, O_DSYNC, O_NOFOLLOW, O_ASYNC
 *                            (with F_SETOWN self and F_SETSIG), close-on-exec
 *                            on some; /dev/null, zero, full, random,
 *                            urandom; POSIX locks (a write and a read range,
 *                            on an O_NOFOLLOW descriptor: sqlite's), an OFD
 *                            lock, an exclusive and a shared flock; pipes
 *                            with data in them: both ends held (write end
 *                            O_NONBLOCK, F_SETPIPE_SZ 128 KiB), the read
 *                            end only (writer closed: EOF after the data),
 *                            the write end only (EPIPE); a deleted file
 *                            (150000 bytes, mode 0640, two open files), an
 *                            O_TMPFILE file, two memfds (one sealed).  Prints
 *                            "ready PID", pause()s until SIGUSR1, then
 *                            checks everything (flags, descriptor flags,
 *                            positions, inodes, owner, signal, device
 *                            behaviour, and each lock as another process
 *                            sees it) and writes PASS or "FAIL: what" to
 *                            RES (an absolute path).
 *   filestate refuse WHAT    holds one thing that checkpoint must refuse,
 *                            prints "ready PID", and sleeps: pidfd, fifo
 *                            (a named FIFO, deleted), pipeproc (a pipe end opened
 *                            again through /proc), socket (with an fd in
 *                            flight), linked (a deleted name of a file
 *                            linked elsewhere), lease,
 *                            owner (F_SETOWN to another process), ptypeer
 *                            (a pty slave whose master another process
 *                            holds), ptypair (both ends held, the output
 *                            stopped with tcflow(TCOOFF)), chrdev
 *                            (/dev/kmsg).
 *   filestate restart IMG LOG   restart IMG with this program as caller
 *                            (an unprivileged restart keeps the exe);
 *                            prints the errno if restart fails.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/checkpoint.h>

#define NFD 32

struct want {
	const char *name;
	int fd;
	int fl;		/* F_GETFL */
	int fdfl;	/* F_GETFD */
	off_t pos;	/* -1: not checked */
	dev_t dev;
	ino_t ino;
	int newinode;	/* restart makes the inode anew */
};

static struct want w[NFD];
static int nw;
static const char *res;
static char dir[4096];
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "filestate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *in_dir(const char *name)
{
	static char buf[8][4200];
	static int k;
	char *p = buf[k++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* remember what fd is now */
static int keep(const char *name, int fd, int check_pos)
{
	struct stat st;

	if (fd < 0)
		die(name);
	if (fstat(fd, &st))
		die("fstat");
	w[nw].name = name;
	w[nw].fd = fd;
	w[nw].fl = fcntl(fd, F_GETFL);
	w[nw].fdfl = fcntl(fd, F_GETFD);
	w[nw].pos = check_pos ? lseek(fd, 0, SEEK_CUR) : -1;
	w[nw].dev = st.st_dev;
	w[nw].ino = st.st_ino;
	nw++;
	return fd;
}

static int keep_new(const char *name, int fd, int check_pos)
{
	keep(name, fd, check_pos);
	w[nw - 1].newinode = 1;
	return fd;
}

static void put_file(const char *name, const char *text)
{
	int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(name);
	close(fd);
}

static void setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl))
		die("F_SETLK");
}

static int fd_lockp, fd_ofd, fd_flk, fd_flk2, fd_async;
static int pipe_both[2], pipe_rd, pipe_wr;

#define PIPE_DATA	"data in the pipe"
#define PIPE_SIZE	(128 * 1024)

static void setup_pipes(void)
{
	int p[2];

	if (pipe(pipe_both) || fcntl(pipe_both[1], F_SETPIPE_SZ, PIPE_SIZE) != PIPE_SIZE ||
	    fcntl(pipe_both[1], F_SETFL, O_NONBLOCK) ||
	    write(pipe_both[1], PIPE_DATA, sizeof(PIPE_DATA)) != sizeof(PIPE_DATA))
		die("pipe");
	keep_new("pipe read end", pipe_both[0], 0);
	keep_new("pipe write end (O_NONBLOCK)", pipe_both[1], 0);
	if (pipe(p) || write(p[1], "left", 4) != 4 || close(p[1]))
		die("pipe_rd");
	pipe_rd = keep_new("pipe read end, writer closed", p[0], 0);
	if (pipe(p) || close(p[0]))
		die("pipe_wr");
	pipe_wr = keep_new("pipe write end, reader closed", p[1], 0);
}

static void fail(const char *fmt, ...);

#define DEL_SIZE	150000
static int del_rw, del_ro, tmpf, mfd_sealed, mfd_plain;
static char del_link[4200], tmp_link[4200];

static unsigned char del_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 4096);
}

static void link_of(int fd, char *out, size_t len)
{
	char name[64];
	ssize_t n;

	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	n = readlink(name, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

static void setup_unlinked(void)
{
	static unsigned char buf[DEL_SIZE];
	size_t i;

	for (i = 0; i < DEL_SIZE; i++)
		buf[i] = del_byte(i);
	unlink(in_dir("gone"));
	del_rw = open(in_dir("gone"), O_RDWR | O_CREAT | O_EXCL, 0600);
	if (del_rw < 0 || write(del_rw, buf, DEL_SIZE) != DEL_SIZE ||
	    fchmod(del_rw, 0640) || lseek(del_rw, 1000, SEEK_SET) != 1000)
		die("deleted file");
	del_ro = open(in_dir("gone"), O_RDONLY | O_NOATIME);
	if (del_ro < 0 || lseek(del_ro, 5, SEEK_SET) != 5 || unlink(in_dir("gone")))
		die("deleted file");
	keep_new("deleted file O_RDWR", del_rw, 1);
	keep_new("deleted file O_RDONLY|O_NOATIME", del_ro, 1);
	link_of(del_rw, del_link, sizeof(del_link));
	tmpf = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (tmpf < 0 || write(tmpf, "tmpfile", 7) != 7)
		die("O_TMPFILE");
	keep_new("O_TMPFILE file", tmpf, 1);
	link_of(tmpf, tmp_link, sizeof(tmp_link));
	mfd_sealed = memfd_create("filestate", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (mfd_sealed < 0 || write(mfd_sealed, buf, 10000) != 10000 ||
	    fcntl(mfd_sealed, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		die("memfd");
	keep_new("memfd, sealed", mfd_sealed, 1);
	mfd_plain = memfd_create("plain name", 0);
	if (mfd_plain < 0 || write(mfd_plain, "plain", 5) != 5)
		die("memfd");
	keep_new("memfd", mfd_plain, 1);
}

static void check_unlinked(void)
{
	static unsigned char buf[DEL_SIZE];
	char lnk[4200];
	struct stat a, b;
	size_t i;

	if (fstat(del_rw, &a) || fstat(del_ro, &b) || a.st_ino != b.st_ino ||
	    a.st_nlink || a.st_size != DEL_SIZE || (a.st_mode & 07777) != 0640)
		fail("deleted file: ino %lu/%lu nlink %lu size %lld mode %o",
		     (unsigned long)a.st_ino, (unsigned long)b.st_ino,
		     (unsigned long)a.st_nlink, (long long)a.st_size, a.st_mode);
	if (pread(del_ro, buf, DEL_SIZE, 0) != DEL_SIZE)
		fail("deleted file: short read");
	for (i = 0; i < DEL_SIZE; i++)
		if (buf[i] != del_byte(i)) {
			fail("deleted file: byte %zu differs", i);
			break;
		}
	link_of(del_rw, lnk, sizeof(lnk));
	if (strcmp(lnk, del_link))
		fail("deleted file link %s, was %s", lnk, del_link);
	if (access(in_dir("gone"), F_OK) == 0)
		fail("deleted file has a name again");
	if (write(del_rw, "W", 1) != 1 || pread(del_ro, buf, 1, 1000) != 1 ||
	    buf[0] != 'W')
		fail("the two files of the deleted file do not share it");
	/* an O_TMPFILE dentry is named after its (new) inode number */
	link_of(tmpf, lnk, sizeof(lnk));
	if (!strchr(lnk, '#') || strncmp(lnk, tmp_link, strchr(tmp_link, '#') - tmp_link) ||
	    pread(tmpf, buf, 7, 0) != 7 || memcmp(buf, "tmpfile", 7))
		fail("O_TMPFILE file: link %s (was %s) or content", lnk, tmp_link);
	snprintf(lnk, sizeof(lnk), "/proc/self/fd/%d", tmpf);
	unlink(in_dir("published"));
	if (linkat(AT_FDCWD, lnk, AT_FDCWD, in_dir("published"), AT_SYMLINK_FOLLOW) ||
	    stat(in_dir("published"), &a) || a.st_size != 7)
		fail("O_TMPFILE file cannot be given a name with linkat(): %s",
		     strerror(errno));
	link_of(mfd_sealed, lnk, sizeof(lnk));
	if (strcmp(lnk, "/memfd:filestate (deleted)"))
		fail("memfd link %s", lnk);
	if (fcntl(mfd_sealed, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		fail("memfd seals %#x", fcntl(mfd_sealed, F_GET_SEALS));
	if (pread(mfd_sealed, buf, 10000, 0) != 10000 || ftruncate(mfd_sealed, 5) == 0)
		fail("memfd content or F_SEAL_SHRINK");
	for (i = 0; i < 10000; i++)
		if (buf[i] != del_byte(i)) {
			fail("memfd: byte %zu differs", i);
			break;
		}
	link_of(mfd_plain, lnk, sizeof(lnk));
	if (strcmp(lnk, "/memfd:plain name (deleted)") ||
	    fcntl(mfd_plain, F_GET_SEALS) != F_SEAL_SEAL ||
	    pread(mfd_plain, buf, 5, 0) != 5 || memcmp(buf, "plain", 5))
		fail("memfd without sealing: link %s seals %#x", lnk,
		     fcntl(mfd_plain, F_GET_SEALS));
}

static void check_pipes(void)
{
	char buf[64] = "";
	struct stat r, w;

	if (fstat(pipe_both[0], &r) || fstat(pipe_both[1], &w) || r.st_ino != w.st_ino)
		fail("pipe ends of two pipes");
	if (fcntl(pipe_both[0], F_GETPIPE_SZ) != PIPE_SIZE)
		fail("pipe size %d", fcntl(pipe_both[0], F_GETPIPE_SZ));
	if (read(pipe_both[0], buf, sizeof(buf)) != sizeof(PIPE_DATA) ||
	    strcmp(buf, PIPE_DATA))
		fail("pipe data '%s'", buf);
	if (write(pipe_both[1], "more", 4) != 4 || read(pipe_both[0], buf, 4) != 4 ||
	    memcmp(buf, "more", 4))
		fail("pipe ends not connected");
	/* O_NONBLOCK on the write end: a full pipe says EAGAIN */
	while (write(pipe_both[1], buf, sizeof(buf)) > 0)
		;
	if (errno != EAGAIN)
		fail("pipe write end blocking or broken: %s", strerror(errno));
	if (read(pipe_rd, buf, sizeof(buf)) != 4 || memcmp(buf, "left", 4) ||
	    read(pipe_rd, buf, sizeof(buf)) != 0)
		fail("pipe with closed writer: not its data then EOF");
	if (write(pipe_wr, "x", 1) != -1 || errno != EPIPE)
		fail("pipe with closed reader: no EPIPE");
}

static void setup(void)
{
	char dents[64];
	int fd, i;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die("mkdir");
	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "entry%02d", i);
		put_file(name, "x");
	}
	put_file("data", "0123456789");
	put_file("locks", "locks");
	put_file("flk", "flk");
	put_file("flk2", "flk2");
	put_file("async", "async");
	unlink(in_dir("link"));
	if (symlink("data", in_dir("link")))
		die("symlink");

	/* a directory read part way */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || syscall(SYS_getdents64, fd, dents, sizeof(dents)) <= 0)
		die("getdents");
	keep("dir", fd, 1);
	keep("dir (no O_DIRECTORY)", open(dir, O_RDONLY | O_CLOEXEC), 1);
	keep("O_PATH file", open(in_dir("data"), O_PATH), 0);
	keep("O_PATH dir", open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), 0);
	keep("O_PATH symlink", open(in_dir("link"), O_PATH | O_NOFOLLOW), 0);
	fd = open(in_dir("data"), O_RDWR | O_APPEND | O_NONBLOCK | O_NOATIME |
		  O_SYNC | O_CLOEXEC);
	if (fd < 0 || write(fd, "ab", 2) != 2 || lseek(fd, 3, SEEK_SET) != 3)
		die("data");
	keep("O_APPEND|O_NONBLOCK|O_NOATIME|O_SYNC", fd, 1);
	fd = open(in_dir("data"), O_WRONLY | O_DSYNC);
	if (fd < 0 || lseek(fd, 7, SEEK_SET) != 7)
		die("dsync");
	keep("O_DSYNC", fd, 1);
	keep("/dev/null", open("/dev/null", O_WRONLY | O_CLOEXEC), 0);
	keep("/dev/zero", open("/dev/zero", O_RDWR), 0);
	keep("/dev/full", open("/dev/full", O_WRONLY), 0);
	keep("/dev/random", open("/dev/random", O_RDONLY | O_NONBLOCK), 0);
	keep("/dev/urandom", open("/dev/urandom", O_RDONLY), 0);

	/* sqlite's: O_NOFOLLOW and POSIX locks */
	fd_lockp = keep("POSIX locks (O_NOFOLLOW)",
			open(in_dir("locks"), O_RDWR | O_NOFOLLOW | O_CLOEXEC), 1);
	setlk(fd_lockp, F_SETLK, F_WRLCK, 0, 10);
	setlk(fd_lockp, F_SETLK, F_RDLCK, 20, 30);
	fd_ofd = keep("OFD lock", open(in_dir("locks"), O_RDWR), 1);
	setlk(fd_ofd, F_OFD_SETLK, F_WRLCK, 100, 100);
	fd_flk = keep("flock LOCK_EX", open(in_dir("flk"), O_RDONLY), 1);
	if (flock(fd_flk, LOCK_EX | LOCK_NB))
		die("flock");
	fd_flk2 = keep("flock LOCK_SH", open(in_dir("flk2"), O_RDONLY), 1);
	if (flock(fd_flk2, LOCK_SH | LOCK_NB))
		die("flock2");
	/* a dup shares the file (and its OFD lock) */
	keep("dup of OFD", dup(fd_ofd), 1);

	fd_async = open(in_dir("async"), O_RDONLY);
	if (fd_async < 0 || fcntl(fd_async, F_SETFL, O_ASYNC | O_NONBLOCK) ||
	    fcntl(fd_async, F_SETOWN, getpid()) ||
	    fcntl(fd_async, F_SETSIG, SIGUSR2))
		die("async");
	keep("O_ASYNC, F_SETOWN, F_SETSIG", fd_async, 1);
	setup_pipes();
	setup_unlinked();
}

static char failed[4096];

static void fail(const char *fmt, ...)
{
	size_t len = strlen(failed);
	va_list ap;

	if (len > sizeof(failed) - 200)
		return;
	snprintf(failed + len, sizeof(failed) - len, "%s", len ? "; " : "FAIL: ");
	len = strlen(failed);
	va_start(ap, fmt);
	vsnprintf(failed + len, sizeof(failed) - len, fmt, ap);
	va_end(ap);
}

/* how another process sees the POSIX/OFD locks: type of the conflict */
static int other_getlk(const char *path, int cmd, short type, off_t start,
		       off_t len, pid_t *holder)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };
	int fd = open(path, O_RDWR);

	if (fd < 0 || fcntl(fd, cmd, &fl))
		return -1;
	close(fd);
	*holder = fl.l_pid;
	return fl.l_type;
}

static int other_flock(const char *path, int op)
{
	int fd = open(path, O_RDONLY), r;

	if (fd < 0)
		return -2;
	r = flock(fd, op | LOCK_NB) ? errno : 0;
	close(fd);
	return r;
}

/* in a child: 0 if every lock is seen as it was */
static int check_locks_child(pid_t self)
{
	pid_t holder = 0;
	int t, bad = 0;

	t = other_getlk(in_dir("locks"), F_GETLK, F_RDLCK, 2, 3, &holder);
	if (t != F_WRLCK || holder != self) {
		fprintf(stderr, "POSIX write lock 0-9: type %d pid %d\n", t, holder);
		bad = 1;
	}
	t = other_getlk(in_dir("locks"), F_GETLK, F_RDLCK, 12, 5, &holder);
	if (t != F_UNLCK) {
		fprintf(stderr, "POSIX 10-19 should be free: type %d\n", t);
		bad = 1;
	}
	t = other_getlk(in_dir("locks"), F_GETLK, F_WRLCK, 30, 1, &holder);
	if (t != F_RDLCK || holder != self) {
		fprintf(stderr, "POSIX read lock 20-49: type %d pid %d\n", t, holder);
		bad = 1;
	}
	t = other_getlk(in_dir("locks"), F_OFD_GETLK, F_RDLCK, 150, 1, &holder);
	if (t != F_WRLCK) {
		fprintf(stderr, "OFD write lock 100-199: type %d\n", t);
		bad = 1;
	}
	t = other_getlk(in_dir("locks"), F_OFD_GETLK, F_WRLCK, 300, 1, &holder);
	if (t != F_UNLCK) {
		fprintf(stderr, "OFD test at 300 should be free: type %d\n", t);
		bad = 1;
	}
	if (other_flock(in_dir("flk"), LOCK_SH) != EWOULDBLOCK) {
		fprintf(stderr, "flock LOCK_EX not held\n");
		bad = 1;
	}
	if (other_flock(in_dir("flk2"), LOCK_SH) != 0 ||
	    other_flock(in_dir("flk2"), LOCK_EX) != EWOULDBLOCK) {
		fprintf(stderr, "flock LOCK_SH not held as shared\n");
		bad = 1;
	}
	return bad;
}

static void check(void)
{
	char c[4] = "?";
	struct stat st;
	pid_t pid;
	int i, status;

	for (i = 0; i < nw; i++) {
		int fd = w[i].fd;

		if (fcntl(fd, F_GETFL) != w[i].fl)
			fail("%s: F_GETFL %#o, was %#o", w[i].name,
			     fcntl(fd, F_GETFL), w[i].fl);
		if (fcntl(fd, F_GETFD) != w[i].fdfl)
			fail("%s: F_GETFD %d, was %d", w[i].name,
			     fcntl(fd, F_GETFD), w[i].fdfl);
		if (w[i].pos >= 0 && lseek(fd, 0, SEEK_CUR) != w[i].pos)
			fail("%s: position %lld, was %lld", w[i].name,
			     (long long)lseek(fd, 0, SEEK_CUR),
			     (long long)w[i].pos);
		/* a pipe is made anew: another inode */
		if (fstat(fd, &st) || (!w[i].newinode &&
				       (st.st_ino != w[i].ino || st.st_dev != w[i].dev)))
			fail("%s: another inode", w[i].name);
	}
	if (fcntl(fd_async, F_GETOWN) != getpid())
		fail("F_GETOWN %d, not self %d", fcntl(fd_async, F_GETOWN),
		     getpid());
	if (fcntl(fd_async, F_GETSIG) != SIGUSR2)
		fail("F_GETSIG %d", fcntl(fd_async, F_GETSIG));
	/* the devices behave as themselves */
	for (i = 0; i < nw; i++) {
		if (!strcmp(w[i].name, "/dev/zero") &&
		    (read(w[i].fd, c, 1) != 1 || c[0]))
			fail("/dev/zero read");
		if (!strcmp(w[i].name, "/dev/full") &&
		    (write(w[i].fd, "x", 1) != -1 || errno != ENOSPC))
			fail("/dev/full write");
		if (!strcmp(w[i].name, "/dev/urandom") && read(w[i].fd, c, 4) != 4)
			fail("/dev/urandom read");
		if (!strcmp(w[i].name, "O_APPEND|O_NONBLOCK|O_NOATIME|O_SYNC")) {
			/* appends at the end (12 bytes), whatever the position */
			if (write(w[i].fd, "Z", 1) != 1 ||
			    pread(w[i].fd, c, 1, 12) != 1 || c[0] != 'Z')
				fail("O_APPEND write did not append");
		}
	}
	check_pipes();
	check_unlinked();
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(check_locks_child(getppid()));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		fail("locks not as they were (see stderr)");
}

static void hold(void)
{
	FILE *f;

	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	setup();
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	check();
	f = fopen(res, "w");
	if (!f)
		die(res);
	fprintf(f, "%s\n", failed[0] ? failed : "PASS");
	fclose(f);
}

static void refuse(const char *what)
{
	int p[2], fd;

	if (!strcmp(what, "pidfd")) {
		/* an anonymous inode of a kind that is not restored */
		if (syscall(SYS_pidfd_open, getpid(), 0) < 0)
			die("pidfd_open");
	} else if (!strcmp(what, "fifo")) {
		unlink("/tmp/filestate.fifo");
		if (mkfifo("/tmp/filestate.fifo", 0600) ||
		    open("/tmp/filestate.fifo", O_RDWR) < 0 ||
		    unlink("/tmp/filestate.fifo"))
			die("fifo");
	} else if (!strcmp(what, "pipeproc")) {
		char name[64];

		if (pipe(p))
			die("pipe");
		snprintf(name, sizeof(name), "/proc/self/fd/%d", p[0]);
		if (open(name, O_RDONLY) < 0)
			die("pipe reopen");
	} else if (!strcmp(what, "socket")) {
		/* UNIX sockets are restored (issue 11), not a file only in flight */
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = { .iov_base = "f", .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		int nul = open("/dev/null", O_RDONLY);

		if (nul < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, p))
			die("socketpair");
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nul, sizeof(int));
		if (sendmsg(p[0], &mh, 0) != 1)
			die("sendmsg SCM_RIGHTS");
		close(nul);	/* in flight only: not restorable */
	} else if (!strcmp(what, "linked")) {
		fd = open("/tmp/filestate.deleted", O_RDWR | O_CREAT, 0600);
		unlink("/tmp/filestate.other");
		if (fd < 0 || link("/tmp/filestate.deleted", "/tmp/filestate.other") ||
		    unlink("/tmp/filestate.deleted"))
			die("linked");
	} else if (!strcmp(what, "lease")) {
		fd = open("/tmp/filestate.lease", O_RDONLY | O_CREAT, 0600);
		if (fd < 0 || fcntl(fd, F_SETLEASE, F_RDLCK))
			die("lease");
	} else if (!strcmp(what, "owner")) {
		fd = open("/tmp/filestate.owner", O_RDONLY | O_CREAT, 0600);
		if (fd < 0 || fcntl(fd, F_SETOWN, getppid()))
			die("owner");
	} else if (!strcmp(what, "ptypeer") || !strcmp(what, "ptypair")) {
		int m = posix_openpt(O_RDWR | O_NOCTTY), s = -1;
		pid_t pid;

		if (m < 0 || grantpt(m) || unlockpt(m) ||
		    (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0)
			die("pty");
		if (!strcmp(what, "ptypair") && tcflow(s, TCOOFF))
			die("tcflow");
		if (!strcmp(what, "ptypeer")) {
			/* the master goes to a grandchild, not a child */
			pid = fork();
			if (pid == 0) {
				if (fork() == 0) {
					sleep(1000);
					_exit(0);
				}
				_exit(0);
			}
			if (pid < 0 || waitpid(pid, NULL, 0) != pid)
				die("fork");
			close(m);
		}
	} else if (!strcmp(what, "chrdev")) {
		if (open("/dev/kmsg", O_RDONLY) < 0)
			die("/dev/kmsg");
	} else {
		fprintf(stderr, "filestate: unknown refusal %s\n", what);
		exit(2);
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}

static int mode_restart(const char *img, const char *log)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	long ret;

	if (fd < 0 || logfd < 0)
		die("restart: open");
	ret = syscall(__NR_restart, 0, fd, RESTART_TASKSELF, logfd);
	printf("filestate: restart returned %ld: %s (errno %d)\n", ret,
	       strerror(errno), errno);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "restart"))
		return mode_restart(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "hold")) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		res = argv[3];
		hold();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "refuse")) {
		refuse(argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: filestate hold DIR RES | refuse WHAT | restart IMG LOG\n");
	return 2;
}
