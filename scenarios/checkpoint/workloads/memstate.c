/*
 * memstate: the state of mappings that restart must restore exactly, or
 * refuse (issue 10, memory): mlock, madvise and the commit charge.
 *
 *   memstate hold RES FILE  maps: a private anonymous region made read-only
 *                       after it was written (VM_ACCOUNT kept), an
 *                       mlock()ed region and a MAP_LOCKED one, a
 *                       MAP_NORESERVE one, regions with MADV_DONTFORK,
 *                       MADV_DONTDUMP, MADV_WIPEONFORK, MADV_SEQUENTIAL
 *                       and MADV_RANDOM, a read-only private file mapping
 *                       with MADV_RANDOM, MAP_SHARED mappings of a file
 *                       (one writable, one of a read-only descriptor);
 *                       then mlockall(MCL_FUTURE).
 *                       Prints "ready PID", pause()s until SIGUSR1, then
 *                       checks each region's VmFlags in smaps, contents,
 *                       what a child sees of DONTFORK and WIPEONFORK
 *                       regions, and that a new mapping is locked
 *                       (MCL_FUTURE); writes PASS or "FAIL: what" to RES.
 *   memstate onfault    mlock2(MLOCK_ONFAULT) of a region, "ready PID",
 *                       sleeps: checkpoint must refuse it.
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
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096
#define NPG 4

struct region {
	const char *name;
	char *addr;
	const char *want;	/* VmFlags that must be there */
	const char *not;	/* one that must not */
};

static struct region r[16];
static int nr;
static char failed[4096];
static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "memstate: %s: %s\n", what, strerror(errno));
	exit(1);
}

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

static char *anon(int prot, int flags)
{
	char *p = mmap(NULL, NPG * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void add(const char *name, char *addr, const char *want, const char *not)
{
	r[nr].name = name;
	r[nr].addr = addr;
	r[nr].want = want;
	r[nr].not = not;
	nr++;
}

static void fill(char *p, char c)
{
	memset(p, c, NPG * PG);
}

/* the VmFlags line of the smaps entry holding @addr (vmas may merge) */
static int vmflags(char *addr, char *out, size_t len)
{
	unsigned long a = (unsigned long)addr, start, end;
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a mapping's header line; "Key: value" lines do not scan */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= a && a < end;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static int has_flag(const char *flags, const char *flag)
{
	char pad[520], want[8];

	snprintf(pad, sizeof(pad), " %s ", flags);
	pad[strcspn(pad, "\n")] = ' ';
	snprintf(want, sizeof(want), " %s ", flag);
	return strstr(pad, want) != NULL;
}

static char *ro, *dontfork, *wipe, *shw, *shr;
static const char *shpath;

static void setup(void)
{
	char *p;
	int fd;

	ro = anon(PROT_READ | PROT_WRITE, 0);
	fill(ro, 'r');
	if (mprotect(ro, NPG * PG, PROT_READ))
		die("mprotect");
	add("written, then read-only", ro, "rd ac", "wr");
	p = anon(PROT_READ | PROT_WRITE, 0);
	fill(p, 'l');
	if (mlock(p, NPG * PG))
		die("mlock");
	add("mlock()ed", p, "rd wr lo ac", NULL);
	p = anon(PROT_READ | PROT_WRITE, MAP_LOCKED);
	add("MAP_LOCKED", p, "lo", NULL);
	p = anon(PROT_READ | PROT_WRITE, MAP_NORESERVE);
	fill(p, 'n');
	add("MAP_NORESERVE", p, "nr", "ac");
	dontfork = anon(PROT_READ | PROT_WRITE, 0);
	fill(dontfork, 'f');
	if (madvise(dontfork, NPG * PG, MADV_DONTFORK))
		die("MADV_DONTFORK");
	add("MADV_DONTFORK", dontfork, "dc", NULL);
	p = anon(PROT_READ | PROT_WRITE, 0);
	if (madvise(p, NPG * PG, MADV_DONTDUMP))
		die("MADV_DONTDUMP");
	add("MADV_DONTDUMP", p, "dd", NULL);
	wipe = anon(PROT_READ | PROT_WRITE, 0);
	fill(wipe, 'w');
	if (madvise(wipe, NPG * PG, MADV_WIPEONFORK))
		die("MADV_WIPEONFORK");
	add("MADV_WIPEONFORK", wipe, "wf", NULL);
	p = anon(PROT_READ | PROT_WRITE, 0);
	if (madvise(p, NPG * PG, MADV_SEQUENTIAL))
		die("MADV_SEQUENTIAL");
	add("MADV_SEQUENTIAL", p, "sr", NULL);
	fd = open("/proc/self/exe", O_RDONLY);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd < 0 || p == MAP_FAILED || madvise(p, PG, MADV_RANDOM))
		die("file mapping");
	close(fd);
	add("file, MADV_RANDOM", p, "rr", NULL);
	fd = open(shpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, NPG * PG))
		die("shared file");
	shw = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (shw == MAP_FAILED)
		die("MAP_SHARED");
	strcpy(shw, "written through the shared mapping");
	add("MAP_SHARED of a file", shw, "rd wr sh mr mw me ms", NULL);
	fd = open(shpath, O_RDONLY);
	shr = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, PG);
	close(fd);
	if (shr == MAP_FAILED)
		die("MAP_SHARED read-only");
	add("MAP_SHARED of a read-only descriptor", shr, "rd mr ms", "mw");
	if (mlockall(MCL_FUTURE))
		die("mlockall");
}

static void check_shared(void)
{
	char buf[64] = "";
	int fd = open(shpath, O_RDWR);

	if (fd < 0 || pread(fd, buf, sizeof(buf) - 1, 0) <= 0 ||
	    strcmp(buf, "written through the shared mapping"))
		fail("shared mapping: the file has '%s'", buf);
	strcpy(shw + PG, "after restart");
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, 13, PG) != 13 || strcmp(buf, "after restart") ||
	    strcmp(shr, "after restart"))
		fail("shared mapping: a write after restart does not reach the file (%s) or the other mapping (%s)",
		     buf, shr);
	if (fd >= 0)
		close(fd);
	if (mprotect(shr, PG, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		fail("shared mapping of a read-only descriptor became writable");
}

static void check_fork(void)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0) {
		FILE *f = fopen("/proc/self/maps", "r");
		char line[512];
		int bad = 0;

		unsigned long a = (unsigned long)dontfork, s, e;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s <= a && a < e)
				bad |= 1;	/* MADV_DONTFORK: not in the child */
		if (wipe[0] != 0 || wipe[NPG * PG - 1] != 0)
			bad |= 2;	/* MADV_WIPEONFORK: zero in the child */
		_exit(bad);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		fail("fork");
	else if (WEXITSTATUS(status))
		fail("child: %s%s", WEXITSTATUS(status) & 1 ? "DONTFORK region inherited " : "",
		     WEXITSTATUS(status) & 2 ? "WIPEONFORK region not wiped" : "");
}

static void check(void)
{
	char flags[512];
	char *p;
	int i, j;

	for (i = 0; i < nr; i++) {
		char want[64], *tok, *save;

		if (vmflags(r[i].addr, flags, sizeof(flags))) {
			fail("%s: no mapping at %p", r[i].name, r[i].addr);
			continue;
		}
		snprintf(want, sizeof(want), "%s", r[i].want);
		for (tok = strtok_r(want, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (!has_flag(flags, tok))
				fail("%s: no '%s' in VmFlags:%s", r[i].name, tok, flags);
		if (r[i].not && has_flag(flags, r[i].not))
			fail("%s: '%s' in VmFlags:%s", r[i].name, r[i].not, flags);
	}
	for (j = 0; j < NPG * PG; j++)
		if (ro[j] != 'r' || dontfork[j] != 'f' || wipe[j] != 'w') {
			fail("contents at %d", j);
			break;
		}
	check_fork();
	check_shared();
	/* mlockall(MCL_FUTURE): a new mapping is locked */
	p = anon(PROT_READ | PROT_WRITE, 0);
	if (vmflags(p, flags, sizeof(flags)) || !has_flag(flags, "lo"))
		fail("MCL_FUTURE: a new mapping is not locked (VmFlags:%s)", flags);
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc == 2 && !strcmp(argv[1], "onfault")) {
		char *p = anon(PROT_READ | PROT_WRITE, 0);

		if (mlock2(p, NPG * PG, MLOCK_ONFAULT))
			die("mlock2");
		printf("ready %d\n", getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc != 4 || strcmp(argv[1], "hold")) {
		fprintf(stderr, "usage: memstate hold RES SHARED-FILE | onfault\n");
		return 2;
	}
	shpath = argv[3];
	signal(SIGUSR1, on_usr1);
	setup();
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	check();
	f = fopen(argv[2], "w");
	if (!f)
		die(argv[2]);
	fprintf(f, "%s\n", failed[0] ? failed : "PASS");
	fclose(f);
	return 0;
}
