/*
 * procsnap PID: print what /proc shows of a process, one "key<TAB>value" line
 * each, for the lab's restore verification (the lab diffs a snapshot taken
 * before checkpoint with one taken after restart, before the restored task
 * runs).  Values are printed as the kernel shows them; the lab decides what
 * may legitimately differ.
 *
 *   status.NAME      every line of /proc/PID/status
 *   stat.NAME        the fields of /proc/PID/stat after comm, by name
 *   limits.NAME      soft and hard limit of each resource
 *   proc.NAME        cwd, root, exe, comm, cmdline, environ, auxv, timers,
 *                    timerslack_ns, oom_score_adj, personality, ...
 *   ns.NAME          the namespace links; "snapshotter's" for procsnap's own (the
 *                    namespace the tree was checkpointed from), else the link
 *   syscall          where the task is stopped: the number of the system
 *                    call it is in (the first field of /proc/PID/syscall),
 *                    -1 outside one, "running" if it runs
 *   task.count, task.N.comm   the threads, by position (tid order)
 *   thread.N/tid, thread.N/status.NAME, thread.N/stat.NAME, thread.N/syscall
 *                    each thread but the leader (whose are status and stat):
 *                    its tid as "+K", K = tid - pid, and its own status,
 *                    stat and syscall but the pid fields, which are the
 *                    process's
 *   fd.N, fdinfo.N.KEY   every descriptor: its link and its fdinfo lines
 *   map.START-END    mappings, merged as the kernel could have split them:
 *                    ".perms", ".offset", ".path", ".file" (dev and inode),
 *                    ".vmflags" (smaps; "SIZE:flags|SIZE:flags" for a range
 *                    whose parts differ) and ".sum" (a checksum of the
 *                    contents read through /proc/PID/mem, or "unreadable")
 *
 * Bytes outside printable ASCII, and tabs and backslashes, are printed as
 * \xNN, so that every value is one line.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG (1 << 20)

static int pid;
static char *buf;

static void put_escaped(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void put(const char *key, const char *val, size_t n)
{
	fputs(key, stdout);
	putchar('\t');
	put_escaped(val, n);
	putchar('\n');
}

/* Read /proc/PID/NAME into buf (NUL-terminated); length or -errno. */
static ssize_t slurp(const char *name)
{
	char path[PATH_MAX];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (len < BIG - 1 && (n = read(fd, buf + len, BIG - 1 - len)) > 0)
		len += n;
	if (n < 0 && len == 0)
		len = -errno;
	close(fd);
	if (len >= 0)
		buf[len] = 0;
	return len;
}

static void put_error(const char *key, ssize_t err)
{
	printf("%s\t<error: %s>\n", key, strerror((int)-err));
}

/* The whole file as one value (NULs and newlines escaped). */
static void put_file(const char *key, const char *name)
{
	ssize_t n = slurp(name);

	if (n < 0)
		put_error(key, n);
	else
		put(key, buf, n);
}

/* The first field of a syscall file: a number, -1, or "running". */
static void put_syscall(const char *key, const char *name)
{
	ssize_t n = slurp(name);

	if (n < 0) {
		put_error(key, n);
		return;
	}
	put(key, buf, strcspn(buf, " \n"));
}

static void put_link(const char *key, const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, target, sizeof(target));
	if (n < 0)
		put_error(key, -errno);
	else
		put(key, target, n);
}

/* Fields of a thread's status and stat that are its process's pids (the leader's have them). */
static const char *const process_pid_fields[] = {
	"Pid", "Tgid", "PPid", "TracerPid", "NStgid", "NSpid", "NSpgid", "NSsid",
	"ppid", "pgrp", "session", "tpgid", NULL,
};

static int is_process_pid_field(const char *prefix, const char *field)
{
	int i;

	if (strncmp(prefix, "thread.", 7))
		return 0;
	for (i = 0; process_pid_fields[i]; i++)
		if (!strcmp(field, process_pid_fields[i]))
			return 1;
	return 0;
}

/* "Name:<spaces>value" lines -> prefix.Name value (whitespace runs made one space). */
static void put_colon_lines(const char *prefix, const char *name)
{
	char key[256], *line, *save, *colon, *v, *w;
	ssize_t n = slurp(name);

	if (n < 0) {
		put_error(prefix, n);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		if (is_process_pid_field(prefix, line))
			continue;
		snprintf(key, sizeof(key), "%s.%s", prefix, line);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (w = v; *w; w++)
			if (*w == '\t')
				*w = ' ';
		put(key, v, strlen(v));
	}
}

static const char *const stat_names[] = {
	"state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt",
	"cminflt", "majflt", "cmajflt", "utime", "stime", "cutime", "cstime",
	"priority", "nice", "num_threads", "itrealvalue", "starttime", "vsize",
	"rss", "rsslim", "startcode", "endcode", "startstack", "kstkesp",
	"kstkeip", "signal", "blocked", "sigignore", "sigcatch", "wchan", "nswap",
	"cnswap", "exit_signal", "processor", "rt_priority", "policy",
	"delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data",
	"end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end",
	"exit_code",
};

/* /proc/PID/NAME (a stat file) -> prefix.field lines */
static void put_stat(const char *prefix, const char *name)
{
	char key[128], *p, *tok, *save;
	size_t i = 0;
	ssize_t n = slurp(name);

	if (n < 0) {
		put_error(prefix, n);
		return;
	}
	p = strrchr(buf, ')');
	if (!p)
		return;
	for (tok = strtok_r(p + 1, " \n", &save); tok && i < sizeof(stat_names) / sizeof(stat_names[0]);
	     tok = strtok_r(NULL, " \n", &save), i++) {
		if (is_process_pid_field(prefix, stat_names[i]))
			continue;
		snprintf(key, sizeof(key), "%s.%s", prefix, stat_names[i]);
		put(key, tok, strlen(tok));
	}
}

static void put_limits(void)
{
	char key[128], name[64], *line, *save;
	ssize_t n = slurp("limits");
	int first = 1;

	if (n < 0) {
		put_error("limits", n);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *soft, *hard, *end;
		size_t len;

		if (first) {	/* header */
			first = 0;
			continue;
		}
		/* "Max cpu time              unlimited            unlimited            seconds" */
		if (strlen(line) < 26)
			continue;
		len = 25;
		while (len && line[len - 1] == ' ')
			len--;
		snprintf(name, sizeof(name), "%.*s", (int)len, line);
		for (end = name; *end; end++)
			if (*end == ' ')
				*end = '_';
		soft = strtok_r(line + 25, " ", &end);
		hard = soft ? strtok_r(NULL, " ", &end) : NULL;
		snprintf(key, sizeof(key), "limits.%s", name);
		printf("%s\t%s %s\n", key, soft ? soft : "?", hard ? hard : "?");
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Numeric entries of /proc/PID/DIR, sorted; count returned, array in *out. */
static int list_numeric(const char *dir, int **out)
{
	char path[PATH_MAX];
	struct dirent *d;
	int n = 0, cap = 64, *v;
	DIR *dp;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, dir);
	dp = opendir(path);
	v = malloc(cap * sizeof(*v));
	if (!dp || !v) {
		if (dp)
			closedir(dp);
		*out = v;
		return -1;
	}
	while ((d = readdir(dp))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		if (n == cap) {
			int *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		v[n++] = atoi(d->d_name);
	}
	closedir(dp);
	qsort(v, n, sizeof(*v), cmp_int);
	*out = v;
	return n;
}

#define MAX_LINES 4096

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static void put_fds(void)
{
	char name[64], prefix[64], key[160], *line, *save, *colon, *v;
	static char *lines[MAX_LINES];
	int i, n, *fds, nl, l;

	n = list_numeric("fd", &fds);
	if (n < 0) {
		put_error("fd", -errno);
		free(fds);
		return;
	}
	printf("fd.count\t%d\n", n);
	for (i = 0; i < n; i++) {
		int seq = 0;
		char last[64] = "";

		snprintf(name, sizeof(name), "fd/%d", fds[i]);
		snprintf(key, sizeof(key), "fd.%d", fds[i]);
		put_link(key, name);
		snprintf(name, sizeof(name), "fdinfo/%d", fds[i]);
		snprintf(prefix, sizeof(prefix), "fdinfo.%d", fds[i]);
		if (slurp(name) < 0)
			continue;
		nl = 0;
		for (line = strtok_r(buf, "\n", &save); line && nl < MAX_LINES;
		     line = strtok_r(NULL, "\n", &save))
			lines[nl++] = line;
		/* epoll lists its targets in the order of their struct files */
		qsort(lines, nl, sizeof(*lines), cmp_lines);
		for (l = 0; l < nl; l++) {
			line = lines[l];
			colon = strchr(line, ':');
			if (!colon)
				continue;
			*colon = 0;
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			/* repeated keys (epoll tfd, inotify wd ...) get an index */
			seq = strcmp(last, line) ? 0 : seq + 1;
			snprintf(last, sizeof(last), "%s", line);
			if (seq)
				snprintf(key, sizeof(key), "%s.%s.%d", prefix, line, seq);
			else
				snprintf(key, sizeof(key), "%s.%s", prefix, line);
			put(key, v, strlen(v));
		}
	}
	free(fds);
}

static void put_tasks(void)
{
	char name[64], key[64], val[32];
	int i, n, *tids;

	n = list_numeric("task", &tids);
	printf("task.count\t%d\n", n);
	for (i = 0; i < n; i++) {
		/* threads by position: tids are renumbered by a restart */
		snprintf(name, sizeof(name), "task/%d/comm", tids[i]);
		snprintf(key, sizeof(key), "task.%d.comm", i);
		if (slurp(name) >= 0) {
			buf[strcspn(buf, "\n")] = 0;
			put(key, buf, strlen(buf));
		}
	}
	/* the leader's own state is the process's status and stat */
	for (i = 0; i < n; i++) {
		if (tids[i] == pid)
			continue;
		snprintf(key, sizeof(key), "thread.%d/tid", i);
		snprintf(val, sizeof(val), "%+d", tids[i] - pid);
		put(key, val, strlen(val));
		snprintf(name, sizeof(name), "task/%d/status", tids[i]);
		snprintf(key, sizeof(key), "thread.%d/status", i);
		put_colon_lines(key, name);
		snprintf(name, sizeof(name), "task/%d/stat", tids[i]);
		snprintf(key, sizeof(key), "thread.%d/stat", i);
		put_stat(key, name);
		snprintf(name, sizeof(name), "task/%d/syscall", tids[i]);
		snprintf(key, sizeof(key), "thread.%d/syscall", i);
		put_syscall(key, name);
	}
	free(tids);
}

static void put_ns(void)
{
	static const char *const names[] = {
		"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
		"time_for_children", "user", "uts",
	};
	char name[64], key[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[PATH_MAX], mine[PATH_MAX], target[PATH_MAX];
		ssize_t n, m;

		snprintf(name, sizeof(name), "ns/%s", names[i]);
		snprintf(key, sizeof(key), "ns.%s", names[i]);
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
		n = readlink(path, target, sizeof(target));
		snprintf(path, sizeof(path), "/proc/self/%s", name);
		m = readlink(path, mine, sizeof(mine));
		if (n > 0 && n == m && !memcmp(target, mine, n))
			put(key, "snapshotter's", strlen("snapshotter's"));
		else
			put_link(key, name);
	}
}

#define MAX_PARTS 32

struct map {
	unsigned long start, end, offset;
	char perms[8], dev[16], path[PATH_MAX];
	unsigned long inode;
	char vmflags[96];
	/* a merged range: its parts' VmFlags, adjacent parts with equal flags joined */
	int nparts;
	unsigned long part_size[MAX_PARTS];
	char part_flags[MAX_PARTS][96];
};

/*
 * Adjacent mappings of the same object with the same protection are one range,
 * whatever their VmFlags: how the kernel split them is not the task's state,
 * their flags are (printed part by part when they differ).
 */
static int mergeable(const struct map *a, const struct map *b)
{
	if (a->end != b->start || strcmp(a->perms, b->perms) || strcmp(a->path, b->path) ||
	    strcmp(a->dev, b->dev) || a->inode != b->inode)
		return 0;
	if (a->nparts == MAX_PARTS && strcmp(a->part_flags[a->nparts - 1], b->vmflags))
		return 0;
	return a->inode == 0 || a->offset + (a->end - a->start) == b->offset;
}

static void start_range(struct map *m)
{
	m->nparts = 1;
	m->part_size[0] = m->end - m->start;
	snprintf(m->part_flags[0], sizeof(m->part_flags[0]), "%s", m->vmflags);
}

static void extend_range(struct map *m, const struct map *next)
{
	int last = m->nparts - 1;

	if (strcmp(m->part_flags[last], next->vmflags) == 0) {
		m->part_size[last] += next->end - next->start;
	} else {
		m->part_size[m->nparts] = next->end - next->start;
		snprintf(m->part_flags[m->nparts], sizeof(m->part_flags[0]), "%s", next->vmflags);
		m->nparts++;
	}
	m->end = next->end;
}

/* 64-bit FNV-1a over 8-byte words: fast enough under TCG, not cryptographic. */
static void sum_range(int memfd, const struct map *m, char *out, size_t outlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long addr = m->start;
	static char chunk[BIG];

	if (m->perms[0] != 'r') {
		snprintf(out, outlen, "not readable (%s)", m->perms);
		return;
	}
	while (addr < m->end) {
		size_t want = m->end - addr > BIG ? BIG : m->end - addr;
		ssize_t n = pread(memfd, chunk, want, (off_t)addr);
		ssize_t i;

		if (n <= 0) {
			snprintf(out, outlen, "unreadable at +%#lx: %s", addr - m->start,
				 n < 0 ? strerror(errno) : "EOF");
			return;
		}
		for (i = 0; i + 8 <= n; i += 8) {
			uint64_t w;

			memcpy(&w, chunk + i, 8);
			h = (h ^ w) * 0x100000001b3ULL;
		}
		for (; i < n; i++)
			h = (h ^ (unsigned char)chunk[i]) * 0x100000001b3ULL;
		addr += n;
	}
	snprintf(out, outlen, "%016llx", (unsigned long long)h);
}

static void put_map(int memfd, const struct map *m)
{
	char key[96], sum[128];
	int k;

	k = snprintf(key, sizeof(key), "map.%lx-%lx", m->start, m->end);
	printf("%s.perms\t%s\n", key, m->perms);
	printf("%s.offset\t%lx\n", key, m->inode ? m->offset : 0UL);
	strcpy(key + k, ".path");
	put(key, m->path, strlen(m->path));
	key[k] = 0;
	printf("%s.file\t%s %lu\n", key, m->dev, m->inode);
	if (m->nparts == 1) {
		printf("%s.vmflags\t%s\n", key, m->part_flags[0]);
	} else {
		int i;

		printf("%s.vmflags\t", key);
		for (i = 0; i < m->nparts; i++)
			printf("%s%lx:%s", i ? "|" : "", m->part_size[i], m->part_flags[i]);
		putchar('\n');
	}
	sum_range(memfd, m, sum, sizeof(sum));
	printf("%s.sum\t%s\n", key, sum);
}

static void put_maps(void)
{
	static struct map cur, next, hdr;	/* big: PATH_MAX paths */
	char path[64], *line, *save;
	int have = 0, memfd, got_header = 0;
	ssize_t n = slurp("smaps");

	if (n < 0) {
		put_error("map", n);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDONLY);
	memset(&next, 0, sizeof(next));
	/* smaps: a header line per mapping, then "Key: value" lines ending with VmFlags */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int used = 0;

		if (strncmp(line, "VmFlags:", 8) == 0) {
			char *v = line + 8;
			size_t len;

			while (*v == ' ')
				v++;
			len = strlen(v);
			while (len && v[len - 1] == ' ')
				v[--len] = 0;
			snprintf(next.vmflags, sizeof(next.vmflags), "%s", v);
			if (!got_header)
				continue;
			got_header = 0;
			if (have && mergeable(&cur, &next)) {
				extend_range(&cur, &next);
			} else {
				if (have)
					put_map(memfd, &cur);
				cur = next;
				start_range(&cur);
				have = 1;
			}
			continue;
		}
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &hdr.start, &hdr.end, hdr.perms,
			   &hdr.offset, hdr.dev, &hdr.inode, &used) >= 6 && used > 0) {
			next = hdr;
			snprintf(next.path, sizeof(next.path), "%s", line + used);
			next.vmflags[0] = 0;
			got_header = 1;
		}
	}
	if (have)
		put_map(memfd, &cur);
	if (memfd >= 0)
		close(memfd);
}

int main(int argc, char *argv[])
{
	static const char *const files[] = {
		"comm", "cmdline", "environ", "auxv", "timers", "timerslack_ns",
		"oom_score_adj", "personality", "loginuid", "sessionid",
	};
	static const char *const links[] = { "cwd", "root", "exe" };
	char key[64];
	size_t i;

	if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: procsnap PID\n");
		return 2;
	}
	buf = malloc(BIG);
	if (!buf)
		return 1;
	if (slurp("status") < 0) {
		fprintf(stderr, "procsnap: no process %d\n", pid);
		return 1;
	}
	put_colon_lines("status", "status");
	put_stat("stat", "stat");
	put_syscall("syscall", "syscall");
	put_limits();
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(key, sizeof(key), "proc.%s", links[i]);
		put_link(key, links[i]);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(key, sizeof(key), "proc.%s", files[i]);
		put_file(key, files[i]);
	}
	put_ns();
	put_tasks();
	put_fds();
	put_maps();
	return fflush(stdout) ? 1 : 0;
}
