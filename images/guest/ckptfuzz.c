/*
 * ckptfuzz IMAGE [-n COUNT] [-s SEED] [-f FIRST] [-l LOG] [-v] [-c] [-t SECS] [-r TYPE,...]
 * [-p PID] [-N] [-G]: feed corrupted variants of a good checkpoint image to
 * restart(2) and check that every restart fails cleanly with an errno.
 *
 * Variants: truncations, bit flips, record length fields set to 0, small,
 * huge and negative values, record types changed, 64-bit fields set to
 * extreme values, records swapped, deleted and duplicated, and the task
 * hierarchy (CKPT_HDR_TREE) made hostile: a task its own parent (a cycle),
 * a parent missing or later in the tree, a duplicate pid, a zombie parent,
 * a process group or session outside, a shared file table or fs_struct
 * (CLONE_FILES, CLONE_FS) named wrongly (its own, a later task's, a
 * sharer's, a zombie's, without the flag), bad flags and counts (of tasks, of
 * controlling ttys: the CTTY record missing or extra); in an image of
 * a multi-threaded process, also the thread count (THREADS) and the tids
 * and leader pids of the threads (THREAD_TASK): 0, negative, huge, the
 * leader's pid, another thread's tid, another process.  Half of them
 * are fed through a pipe, half from a file.  Each restart runs in a child;
 * a child that does not exit with the restart errno within 10 seconds
 * (restart succeeded, hang or signal) counts as a failure.
 *
 * Output: one line per bad outcome, then
 *   ckptfuzz: variants=N clean=N succeeded=N crashed=N hung=N
 * Exit 0 iff every variant failed cleanly.
 *
 * -c fixes up the tail checksum of each variant (as an attacker could; of
 * each image of a pre-copy stream: last pass, then its rounds),
 * so that restart gets past the checksum with hostile values: then a
 * restart may succeed and the restored task may crash; that is fine as
 * long as the kernel stays clean.  -c only reports the counts and exits 0
 * unless a child hung in the kernel (could not be killed).  -t sets the
 * per-variant timeout in seconds (default 10, 2 with -c).
 *
 * -N makes each child the init of a new pid namespace (clone3() with
 * CLONE_NEWPID), as `restart -N` does, for the image of a pid namespace
 * (checkpoint -N); -G passes RESTART_GHOST, for an image with ghosts.
 *
 * -p PID makes each child with pid PID (clone3() with set_tid; root): the pid
 * of the image's process, so that restart of a multi-threaded image gets past
 * the leader's pid check and makes its threads, with hostile values (with -c).
 *
 * An ET_CKPT file (made by ckpt2elf) is fuzzed the same way and executed
 * instead: its ELF header and each program header count as records too
 * (type at +0, flags at +4, 64-bit fields after), -c fixes up the checksum of
 * its segments, and every variant is executed from a file (execve(2) must
 * fail with an errno; a variant still running at the timeout, and killed,
 * counts as restarted: "succeeded").
 *
 * -r TYPE,... corrupts only records of those types (the record picked by
 * each variant; a truncation or a swap still reaches what follows), so
 * that the checks of a few records among many pages are all reached: the
 * truncations and bit flips fall inside one of them, the field changes
 * set its 32-bit fields too, and a swap moves it.
 *
 * -f FIRST runs only the variants from number FIRST on (the earlier ones
 * are still made, so that the same seed makes the same variants): with the
 * same image, `-s SEED -f N -n N+1` replays variant N alone.  Each bad
 * outcome is printed with that command.
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/checkpoint.h>
#include <linux/checkpoint_hdr.h>
#include <linux/sched.h>

#define MAX_RECORDS 65536
static int child_timeout = 10;
static int fix_csum;

static unsigned char *img;
static size_t img_len;
static size_t rec_off[MAX_RECORDS];
static size_t nrec;
/* -r: only records of these types (and their successor) are corrupted */
static uint32_t focus_types[16];
static size_t nfocus_types;
static size_t focus[MAX_RECORDS];
static size_t nfocus;
static size_t thr_rec[MAX_RECORDS];	/* THREADS and THREAD_TASK records */
static size_t nthr;
static const char *tmpfile_path = "/tmp/ckptfuzz.img";
static int logfd = CHECKPOINT_FD_NONE;
static int verbose;
static unsigned long errno_count[256];
static pid_t child_pid;		/* -p: the pid each child gets */
static int child_pidns;		/* -N: each child the init of a new pid namespace */
static unsigned long restart_flags = RESTART_TASKSELF;	/* -G: | RESTART_GHOST */

static uint64_t rnd_state;
static size_t elf_start;	/* ET_CKPT: offset of the first segment, else 0 */
static const char *elf_path = "/tmp/ckptfuzz.elf";

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static size_t rec_len(size_t i)
{
	size_t end = i + 1 < nrec ? rec_off[i + 1] : img_len;

	return end - rec_off[i];
}

static void scan_records(void)
{
	size_t off = 0;

	if (img_len >= 64 && !memcmp(img, "\177ELF", 4)) {
		uint16_t phnum;
		size_t i;

		memcpy(&phnum, img + 56, 2);
		elf_start = 64 + (size_t)phnum * 56;
		rec_off[nrec++] = 0;
		for (i = 0; i < phnum && nrec < MAX_RECORDS; i++)
			rec_off[nrec++] = 64 + i * 56;
		off = elf_start;
	}
	while (off + sizeof(struct ckpt_hdr) <= img_len && nrec < MAX_RECORDS) {
		struct ckpt_hdr h;

		memcpy(&h, img + off, sizeof(h));
		if (h.len < sizeof(h))
			break;
		for (size_t t = 0; t < nfocus_types; t++)
			if (h.type == focus_types[t])
				focus[nfocus++] = nrec;
		if (h.type == CKPT_HDR_THREADS || h.type == CKPT_HDR_THREAD_TASK)
			thr_rec[nthr++] = nrec;
		rec_off[nrec++] = off;
		off += ((size_t)h.len + 7) & ~(size_t)7;
	}
	if (off != img_len) {
		fprintf(stderr, "ckptfuzz: input is not a well-formed image\n");
		exit(2);
	}
}

/* a hostile CKPT_HDR_TREE: cycles, missing parents, duplicate pids, ... */
static void tree_variant(unsigned char *buf, char *desc, size_t dlen)
{
	struct ckpt_hdr_tree *ht = NULL;
	struct ckpt_tree_task *t;
	uint32_t n, i, j;
	size_t r;

	for (r = 0; r < nrec; r++)
		if (((struct ckpt_hdr *)(buf + rec_off[r]))->type == CKPT_HDR_TREE)
			ht = (struct ckpt_hdr_tree *)(buf + rec_off[r]);
	if (!ht || ht->h.len < sizeof(*ht) + sizeof(*t)) {
		snprintf(desc, dlen, "no tree record: unchanged");
		return;
	}
	t = (struct ckpt_tree_task *)(ht + 1);
	n = (ht->h.len - sizeof(*ht)) / sizeof(*t);
	i = rnd() % n;
	j = rnd() % n;
	switch (rnd() % 13) {
	case 12:
		/* a shared table named wrongly: its own, a later task's, a sharer's, a zombie's */
		switch (rnd() % 5) {
		case 0:
			t[i].flags |= CKPT_TREE_FILES;
			t[i].files_of = i;
			break;
		case 1:
			t[i].flags |= CKPT_TREE_FS;
			t[i].fs_of = i + 1 + rnd() % 4;
			break;
		case 2:
			t[j].flags |= CKPT_TREE_FILES | CKPT_TREE_FS;
			t[i].flags |= CKPT_TREE_FILES | CKPT_TREE_FS;
			t[i].files_of = j;
			t[i].fs_of = j;
			break;
		case 3:
			t[j].flags |= CKPT_TREE_ZOMBIE;
			t[i].flags |= rnd() % 2 ? CKPT_TREE_FILES : CKPT_TREE_FS;
			t[i].files_of = j;
			t[i].fs_of = j;
			break;
		default:
			/* a sharer made an owner or the reverse: its section does not match */
			t[i].flags ^= rnd() % 2 ? CKPT_TREE_FILES : CKPT_TREE_FS;
			if (rnd() % 2)
				t[i].files_of = t[i].fs_of = rnd() % 2 ? j : 0xffff;
			break;
		}
		snprintf(desc, dlen, "tree: task %u flags %#x, file table of %u, fs of %u", i,
			 t[i].flags, t[i].files_of, t[i].fs_of);
		break;
	case 10:
		/* the image of a pid namespace or not, the init's pid */
		if (rnd() % 2) {
			t[i].flags ^= CKPT_TREE_PIDNS;
		} else {
			t[0].flags |= CKPT_TREE_PIDNS;
			t[0].pid = rnd() % 2 ? 1 : t[j].pid;
		}
		snprintf(desc, dlen, "tree: task %u flags %#x, root pid %d", i, t[i].flags,
			 t[0].pid);
		break;
	case 11:
		/* a ghost: made of a task, unmade, of another parent or group */
		switch (rnd() % 4) {
		case 0:
			t[i].flags ^= CKPT_TREE_GHOST;
			break;
		case 1:
			t[i].flags |= CKPT_TREE_GHOST;
			t[i].pgid = t[i].pid;
			t[i].exit_signal = 0;
			t[i].parent = 0;
			break;
		case 2:
			t[i].parent = j;
			break;
		default:
			t[i].pgid = t[j].pid;
			t[i].sid = t[j].sid;
			break;
		}
		snprintf(desc, dlen, "tree: task %u flags %#x parent %d pgid %d sid %d", i,
			 t[i].flags, t[i].parent, t[i].pgid, t[i].sid);
		break;
	case 0:
		t[i].parent = i;
		snprintf(desc, dlen, "tree: task %u its own parent", i);
		break;
	case 1:
		t[i].parent = i + 1 + rnd() % 4;
		snprintf(desc, dlen, "tree: task %u parent %d (later or missing)", i, t[i].parent);
		break;
	case 2:
		t[i].parent = rnd() % 2 ? -2 : 0x7fffffff;
		snprintf(desc, dlen, "tree: task %u parent %d", i, t[i].parent);
		break;
	case 3:
		t[i].pid = t[j].pid;
		snprintf(desc, dlen, "tree: task %u pid := task %u's", i, j);
		break;
	case 4:
		t[i].pid = rnd() % 2 ? 0 : -1;
		snprintf(desc, dlen, "tree: task %u pid %d", i, t[i].pid);
		break;
	case 5:
		t[j].flags |= CKPT_TREE_ZOMBIE;
		t[i].parent = j;
		snprintf(desc, dlen, "tree: task %u child of zombie %u", i, j);
		break;
	case 6:
		t[i].pgid = t[i].pid + 1 + rnd() % 100;
		t[i].sid = rnd() % 2 ? t[i].sid : t[i].pgid;
		snprintf(desc, dlen, "tree: task %u pgid %d sid %d", i, t[i].pgid, t[i].sid);
		break;
	case 7:
		t[i].flags = (uint32_t)rnd();
		t[i].exit_code = (uint32_t)rnd();
		t[i].exit_signal = rnd() % 2 ? 65 : (uint32_t)rnd();
		snprintf(desc, dlen, "tree: task %u flags %#x exit code %#x signal %u", i,
			 t[i].flags, t[i].exit_code, t[i].exit_signal);
		break;
	case 8:
		if (rnd() % 2) {
			/* controlling ttys announced or not: the CTTY record missing or extra */
			ht->nr_ctty = rnd() % 2 ? ht->nr_ctty + 1 :
				      (ht->nr_ctty ? ht->nr_ctty - 1 : n + 1);
			snprintf(desc, dlen, "tree: nr_ctty %u", ht->nr_ctty);
			break;
		}
		ht->nr_tasks = rnd() % 2 ? n + 1 : (rnd() % 2 ? 0 : 0xffffffffu);
		snprintf(desc, dlen, "tree: nr_tasks %u of %u", ht->nr_tasks, n);
		break;
	default:
		/* a session whose leader is not its own session's */
		t[i].sid = t[j].pid;
		t[i].pgid = t[j].pid;
		snprintf(desc, dlen, "tree: task %u pgid and sid := task %u's pid", i, j);
		break;
	}
}

/* a thread count, tid or leader pid of the thread records := a hostile value */
static void thread_variant(unsigned char *buf, char *desc, size_t dlen)
{
	static const int32_t vals[] = { 0, -1, 1, 2, 0x7fffffff, (int32_t)0x80000000, 1025,
					4194304 };
	size_t r = thr_rec[rnd() % nthr], other = thr_rec[rnd() % nthr];
	struct ckpt_hdr h;
	size_t field = 8;
	int32_t v = vals[rnd() % (sizeof(vals) / sizeof(vals[0]))];

	memcpy(&h, img + rec_off[r], sizeof(h));
	if (h.type == CKPT_HDR_THREAD_TASK) {
		field = 8 + 4 * (rnd() % 2);	/* tid or tgid */
		if (rnd() % 3 == 0)		/* another thread's tid, or a tgid */
			memcpy(&v, img + rec_off[other] + 8 + 4 * (rnd() % 2), 4);
	}
	memcpy(buf + rec_off[r] + field, &v, 4);
	snprintf(desc, dlen, "record %zu (%s) s32 at +%zu := %d", r,
		 h.type == CKPT_HDR_THREADS ? "THREADS" : "THREAD_TASK", field, v);
}

/* build variant number @n into @buf; returns its length */
static size_t make_variant(unsigned long n, unsigned char *buf, char *desc, size_t dlen)
{
	size_t len = img_len, r, r2, off, a, b;
	uint32_t v32;
	uint64_t v64;
	static const uint32_t lens[] = { 0, 1, 4, 7, 8, 9, 0x7fffffff, 0x80000000u,
					 0xfffffff8u, 0xffffffffu };
	static const uint64_t vals[] = { 0, 1, ~0ull, 0x8000000000000000ull,
					 0x7fffffffffffffffull, 0xfffffffffffff000ull,
					 0x1000, 0x00007ffffffff000ull };

	static const uint32_t vals32[] = { 0, 1, 2, 4, 8, 15, 16, 64, 65, 0x7fffffff,
					   0x80000000u, 0xffffffffu };

	memcpy(buf, img, img_len);
	r = rnd() % nrec;
	if (!nfocus && nthr && n % 9 == 4 && (n / 9) % 2) {
		thread_variant(buf, desc, dlen);
		return len;
	}
	if (nfocus)
		r = focus[rnd() % nfocus];
	switch (n % 9) {
	case 0: /* truncation */
		if (nfocus) {
			len = rec_off[r] + rnd() % rec_len(r);
		} else if ((n / 8) % 2 && nrec > 1) {
			len = rec_off[r] + (rnd() % 3) * 4;
		} else {
			len = rnd() % img_len;
		}
		if (len >= img_len)
			len = img_len - 1;
		snprintf(desc, dlen, "truncate at %zu", len);
		break;
	case 1: /* bit flip */
		off = nfocus ? rec_off[r] + rnd() % rec_len(r) : rnd() % img_len;
		buf[off] ^= 1u << (rnd() % 8);
		snprintf(desc, dlen, "bit flip at %zu", off);
		break;
	case 2: /* length field */
		v32 = lens[rnd() % (sizeof(lens) / sizeof(lens[0]))];
		if (rnd() % 3 == 0)
			v32 = ((struct ckpt_hdr *)(img + rec_off[r]))->len + (rnd() % 2 ? 8 : -8);
		memcpy(buf + rec_off[r] + 4, &v32, 4);
		snprintf(desc, dlen, "record %zu len := %#x", r, v32);
		break;
	case 3: /* type field */
		v32 = rnd() % 3 ? ((struct ckpt_hdr *)(img + rec_off[rnd() % nrec]))->type :
			(uint32_t)rnd();
		memcpy(buf + rec_off[r], &v32, 4);
		snprintf(desc, dlen, "record %zu type := %u", r, v32);
		break;
	case 4: /* a 64-bit field of a record payload */
		if (rec_len(r) <= 8)
			r = 0;
		if (nfocus && rec_len(r) >= 12 && rnd() % 2) {
			off = rec_off[r] + 8 + 4 * (rnd() % ((rec_len(r) - 8) / 4));
			v32 = vals32[rnd() % (sizeof(vals32) / sizeof(vals32[0]))];
			memcpy(buf + off, &v32, 4);
			snprintf(desc, dlen, "record %zu u32 at %zu := %#x", r, off, v32);
			break;
		}
		off = rec_off[r] + 8 + 8 * (rnd() % ((rec_len(r) - 8) / 8));
		v64 = vals[rnd() % (sizeof(vals) / sizeof(vals[0]))];
		memcpy(buf + off, &v64, 8);
		snprintf(desc, dlen, "record %zu u64 at %zu := %#llx", r, off,
			 (unsigned long long)v64);
		break;
	case 5: /* swap two records */
		if (nrec < 2)
			break;
		a = rnd() % (nrec - 1);
		if (nfocus && r + 1 < nrec)
			a = r;
		b = (rnd() % 2) ? a + 1 : a + 1 + rnd() % (nrec - a - 1);
		{
			size_t la = rec_len(a), lb = rec_len(b);
			size_t mid = rec_off[b] - (rec_off[a] + la);
			unsigned char *p = buf + rec_off[a];

			memcpy(p, img + rec_off[b], lb);
			memcpy(p + lb, img + rec_off[a] + la, mid);
			memcpy(p + lb + mid, img + rec_off[a], la);
		}
		snprintf(desc, dlen, "swap records %zu and %zu", a, b);
		break;
	case 6: /* delete a record */
		memmove(buf + rec_off[r], img + rec_off[r] + rec_len(r),
			img_len - rec_off[r] - rec_len(r));
		len = img_len - rec_len(r);
		snprintf(desc, dlen, "delete record %zu", r);
		break;
	case 7: /* duplicate a record */
		r2 = rec_len(r);
		memcpy(buf + rec_off[r] + r2, img + rec_off[r], img_len - rec_off[r]);
		len = img_len + r2;
		snprintf(desc, dlen, "duplicate record %zu", r);
		break;
	case 8: /* the task hierarchy */
		tree_variant(buf, desc, dlen);
		break;
	}
	return len;
}

/*
 * recompute the tail checksum of each image of the variant that still has a
 * tail record (a pre-copy stream is several images, each with its own)
 */
static void fixup_csum(unsigned char *buf, size_t len)
{
	uint64_t sum = 0, sum2 = 0, w;
	size_t off = elf_start, start = elf_start;

	while (off + sizeof(struct ckpt_hdr_tail) <= len) {
		struct ckpt_hdr h;

		memcpy(&h, buf + off, sizeof(h));
		if (h.type == CKPT_HDR_TAIL && h.len == sizeof(struct ckpt_hdr_tail)) {
			struct ckpt_hdr_tail t;
			size_t i;

			sum = sum2 = 0;
			for (i = start; i < off; i += 8) {
				memcpy(&w, buf + i, 8);
				sum += ckpt_csum_mix(w, (i - start) / 8);
				sum2 += sum;
			}
			memcpy(&t, buf + off, sizeof(t));
			t.sum = sum;
			t.sum2 = sum2;
			memcpy(buf + off, &t, sizeof(t));
			start = off + sizeof(t);
		}
		if (h.len < sizeof(h))
			return;
		off += ((size_t)h.len + 7) & ~(size_t)7;
	}
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* child: restart from the variant (execute it, for ET_CKPT); exit with the errno */
static void child(const unsigned char *buf, size_t len, int use_pipe)
{
	int fd, p[2];
	long ret;

	if (elf_start) {
		char *argv[] = { (char *)elf_path, NULL };

		execv(elf_path, argv);
		_exit(errno & 0xff);
	}

	if (use_pipe) {
		if (pipe(p))
			_exit(254);
		if (fork() == 0) {
			close(p[0]);
			signal(SIGPIPE, SIG_DFL);
			write_all(p[1], buf, len);
			_exit(0);
		}
		close(p[1]);
		fd = p[0];
	} else {
		fd = open(tmpfile_path, O_RDONLY);
		if (fd < 0)
			_exit(254);
	}
	ret = syscall(__NR_restart, 0, fd, restart_flags, logfd);
	if (ret >= 0)
		_exit(253);
	_exit(errno & 0xff);
}

/*
 * A restored tree outlives its root, killed at the timeout: the other tasks
 * are ours (we are their subreaper), and are killed and reaped here, so that
 * none keeps a pid, process group or session the next variant needs.
 */
static void kill_orphans(void)
{
	char path[64];
	int tries, pid, any;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	for (tries = 0; tries < 500; tries++) {
		f = fopen(path, "r");
		if (!f)
			return;
		any = 0;
		while (fscanf(f, "%d", &pid) == 1) {
			kill(pid, SIGKILL);
			any = 1;
		}
		fclose(f);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!any)
			return;
		usleep(10000);
	}
}

int main(int argc, char *argv[])
{
	unsigned long count = 600, first = 0, n, clean = 0, succeeded = 0, crashed = 0, hung = 0;
	unsigned long long seed;
	unsigned char *buf;
	char desc[128];
	struct stat st;
	int opt, fd;

	rnd_state = (uint64_t)time(NULL) | 1;
	while ((opt = getopt(argc, argv, "n:s:f:l:vct:r:p:NG")) != -1) {
		switch (opt) {
		case 'N':
			child_pidns = 1;
			break;
		case 'G':
			restart_flags |= RESTART_GHOST;
			break;
		case 'p':
			child_pid = atoi(optarg);
			break;
		case 'c':
			fix_csum = 1;
			if (child_timeout == 10)
				child_timeout = 2;
			break;
		case 't':
			child_timeout = atoi(optarg);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 's':
			rnd_state = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'f':
			first = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			logfd = open(optarg, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (logfd < 0) {
				perror(optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'r': {
			char *tok, *save;

			for (tok = strtok_r(optarg, ",", &save); tok && nfocus_types < 16;
			     tok = strtok_r(NULL, ",", &save))
				focus_types[nfocus_types++] = strtoul(tok, NULL, 0);
			break;
		}
		default:
			fprintf(stderr, "usage: ckptfuzz IMAGE [-n COUNT] [-s SEED] [-f FIRST] [-l LOG] [-v]"
				" [-c] [-t SECS] [-r TYPE,...] [-p PID] [-N] [-G]\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: ckptfuzz IMAGE [-n COUNT] [-s SEED] [-f FIRST] [-l LOG] [-v]"
			" [-c] [-t SECS] [-r TYPE,...] [-p PID] [-N] [-G]\n");
		return 2;
	}
	/* the tasks of a restored tree are reparented to us (kill_orphans()) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[optind]);
		return 2;
	}
	img_len = st.st_size;
	img = malloc(img_len);
	buf = malloc(2 * img_len + 16);
	if (!img || !buf || read(fd, img, img_len) != (ssize_t)img_len) {
		perror("read");
		return 2;
	}
	close(fd);
	scan_records();
	if (nfocus_types && !nfocus) {
		fprintf(stderr, "ckptfuzz: no record of the -r types in the image\n");
		return 2;
	}
	seed = (unsigned long long)rnd_state;
	printf("ckptfuzz: %s: %zu bytes, %zu records, seed %llu\n", argv[optind], img_len, nrec, seed);
	fflush(stdout);

	for (n = 0; n < count; n++) {
		size_t len = make_variant(n, buf, desc, sizeof(desc));
		int use_pipe = !elf_start && n % 2, status, waited = 0;
		pid_t pid;

		if (fix_csum)
			fixup_csum(buf, len);
		if (len >= img_len && !memcmp(buf, img, img_len)) {
			/* identical or only appended to: not a corruption */
			if (n >= first)
				count++;
			continue;
		}
		if (n < first)
			continue;
		if (!use_pipe) {
			const char *path = elf_start ? elf_path : tmpfile_path;
			int tfd;

			unlink(path);	/* a new file each time: never ETXTBSY */
			tfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
			if (tfd < 0 || write_all(tfd, buf, len) || close(tfd)) {
				perror(path);
				return 2;
			}
		}
		fflush(stdout);
		if (child_pid || child_pidns) {
			struct clone_args ca = { .exit_signal = SIGCHLD };

			if (child_pidns) {
				ca.flags = CLONE_NEWPID;
			} else {
				ca.set_tid = (uintptr_t)&child_pid;
				ca.set_tid_size = 1;
			}
			pid = syscall(SYS_clone3, &ca, sizeof(ca));
		} else {
			pid = fork();
		}
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			child(buf, len, use_pipe);
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid)
				break;
			if (waited++ >= child_timeout * 100) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				kill_orphans();
				/* an executed variant that runs: restored (killable) */
				status = elf_start ? 253 << 8 : -1;
				break;
			}
			usleep(10000);
		}
		if (status == -1) {
			hung++;
			printf("HUNG or RESTARTED: variant %lu (%s)\n", n, desc);
		} else if (WIFSIGNALED(status)) {
			crashed++;
			printf("KILLED by signal %d: variant %lu (%s)\n", WTERMSIG(status), n, desc);
		} else if (WEXITSTATUS(status) == 253) {
			succeeded++;
			printf("RESTART SUCCEEDED: variant %lu (%s)\n", n, desc);
		} else if (WEXITSTATUS(status) == 254 || WEXITSTATUS(status) == 0) {
			crashed++;
			printf("SETUP FAILED: variant %lu (%s) status %d\n", n, desc,
			       WEXITSTATUS(status));
		} else {
			clean++;
			errno_count[WEXITSTATUS(status)]++;
			if (verbose)
				printf("ok: variant %lu (%s): %s\n", n, desc,
				       strerror(WEXITSTATUS(status)));
		}
		/* a failure (with -c only a hang is one): the command that replays it */
		if (status == -1 || (!fix_csum && (WIFSIGNALED(status) || WEXITSTATUS(status) == 253 ||
						   WEXITSTATUS(status) == 254 || WEXITSTATUS(status) == 0)))
			printf("  replay: ckptfuzz %s -s %llu -f %lu -n %lu%s%s%s%s%.0d\n", argv[optind],
			       seed, n, n + 1, fix_csum ? " -c" : "", child_pidns ? " -N" : "",
			       restart_flags & RESTART_GHOST ? " -G" : "", child_pid ? " -p " : "",
			       (int)child_pid);
		/* reap pipe writers */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	printf("ckptfuzz: errnos:");
	for (n = 0; n < 256; n++)
		if (errno_count[n])
			printf(" %s=%lu", strerrorname_np((int)n) ? strerrorname_np((int)n) : "?", errno_count[n]);
	printf("\n");
	printf("ckptfuzz: variants=%lu clean=%lu succeeded=%lu crashed=%lu hung=%lu\n",
	       clean + succeeded + crashed + hung, clean, succeeded, crashed, hung);
	if (fix_csum)
		return 0;
	return (succeeded || crashed || hung) ? 1 : 0;
}
