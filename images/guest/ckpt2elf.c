/*
 * ckpt2elf [-f] [-D FD] IMAGE OUT: convert a checkpoint image into an ET_CKPT
 * file that execve() restores (kernel/README.md, "ET_CKPT").  OUT is made
 * executable.  -f: the mapped files are passed as descriptors by the exec
 * caller (the seed's helper: `restart -x OUT` opens them), 3, 4, ... one per
 * path, instead of being opened by path.
 * -D FD leaves out descriptor FD, a regular file without locks: the one a
 * self-checkpointing task wrote its image to (the restored task lacks it).
 *
 * The ELF form carries the task's records (registers, FPU, signal state,
 * pending signals, interval timers, restart block, auxv), its memory areas
 * and their pages.  The credentials, rlimits, scheduling, root, cwd and
 * umask are the exec caller's, as for any program (said on stderr).  Open
 * files cannot be carried: any descriptor other than 0, 1 or 2 on
 * /dev/null (which the exec caller provides) is refused by name, and the
 * conversion fails (exit 1) writing nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/checkpoint.h>
#include <linux/elf_ckpt.h>

#define MAX_SEG		0xfffe	/* e_phnum, less PN_XNUM */
#define MAX_RANGES	8

/* a segment of the output: byte ranges of the image, in order */
struct seg {
	uint32_t type;
	uint64_t vaddr, memsz, paddr;
	uint32_t flags;
	int nr;
	uint64_t off[MAX_RANGES], len[MAX_RANGES];
};

static const unsigned char *img;
static uint64_t img_size, pos;
static const char *iname;
static struct seg *segs;
static int nseg;
static uint64_t sum, sum2, nsum;	/* nsum: words summed */
static int drop_fd = -1, by_fd;
static const char *fd_paths[MAX_SEG];
static int nfd_paths;


static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ckpt2elf: %s: ", iname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const struct ckpt_hdr *peek(void)
{
	const struct ckpt_hdr *h = (const void *)(img + pos);

	if (pos + sizeof(*h) > img_size)
		die("truncated at offset %" PRIu64, pos);
	if (h->len < sizeof(*h) || pos + h->len > img_size)
		die("record of type %u at offset %" PRIu64 ": bad length %u", h->type, pos, h->len);
	return h;
}

static uint64_t padded(uint32_t len)
{
	return (len + CKPT_HDR_ALIGN - 1) & ~(uint64_t)(CKPT_HDR_ALIGN - 1);
}

/* the record at pos (of type @type, 0: any): copied into the current segment, or skipped */
static const void *take(uint32_t type, int keep)
{
	const struct ckpt_hdr *h = peek();
	struct seg *s = &segs[nseg - 1];

	if (h->type == CKPT_HDR_ERROR)
		die("image of a failed checkpoint: %s", h->len > 9 ? (const char *)h + 9 : "");
	if (type && h->type != type)
		die("record at offset %" PRIu64 ": type %u, expected %u", pos, h->type, type);
	if (keep) {
		if (s->nr && s->off[s->nr - 1] + s->len[s->nr - 1] == pos) {
			s->len[s->nr - 1] += padded(h->len);
		} else {
			if (s->nr == MAX_RANGES)
				die("too many pieces in a segment");
			s->off[s->nr] = pos;
			s->len[s->nr++] = padded(h->len);
		}
	}
	pos += padded(h->len);
	return h;
}

static struct seg *new_seg(uint32_t type, uint64_t vaddr, uint64_t memsz, uint32_t flags)
{
	struct seg *s;

	if (nseg == MAX_SEG)
		die("too many memory areas");
	s = &segs[nseg++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->vaddr = vaddr;
	s->memsz = memsz;
	s->flags = flags;
	return s;
}

/* -f: the descriptor of a mapped file's path, + 1 (p_paddr) */
static uint64_t path_fd(const struct ckpt_hdr *sh)
{
	const char *path = (const char *)(sh + 1);
	int i;

	if (sh->len < sizeof(*sh) + 1 || !memchr(path, 0, sh->len - sizeof(*sh)))
		die("malformed path");
	for (i = 0; i < nfd_paths; i++)
		if (!strcmp(fd_paths[i], path))
			return 3 + i + 1;
	fd_paths[nfd_paths] = path;
	fprintf(stderr, "ckpt2elf: fd %d: %s (passed by the exec caller)\n", 3 + nfd_paths, path);
	return 3 + nfd_paths++ + 1;
}

static const char *file_kind(uint32_t t)
{
	switch (t) {
	case CKPT_FILE_REG: return "regular file";
	case CKPT_FILE_CHR: return "character device";
	case CKPT_FILE_DIR: return "directory";
	case CKPT_FILE_PATH: return "O_PATH descriptor";
	case CKPT_FILE_PIPE: return "pipe";
	case CKPT_FILE_DELETED: return "deleted file";
	case CKPT_FILE_MEMFD: return "memfd";
	case CKPT_FILE_EVENTFD: return "eventfd";
	case CKPT_FILE_EPOLL: return "epoll";
	case CKPT_FILE_SIGNALFD: return "signalfd";
	case CKPT_FILE_TIMERFD: return "timerfd";
	case CKPT_FILE_INOTIFY: return "inotify";
	case CKPT_FILE_PTY: return "pty";
	case CKPT_FILE_FIFO: return "FIFO";
	case CKPT_FILE_SOCKET: return "socket";
	}
	return "file";
}

/* descriptors: only 0, 1, 2 on /dev/null, which the exec caller gives */
static void files(void)
{
	const struct ckpt_hdr_file_table *t = take(CKPT_HDR_FILE_TABLE, 0);
	uint32_t i, nfds = t->nfds;
	int null_ref = 0;

	for (i = 0; i < nfds; i++) {
		const struct ckpt_hdr *h = peek();

		if (h->type == CKPT_HDR_FILE) {
			const struct ckpt_hdr_file *f = take(CKPT_HDR_FILE, 0);
			const struct ckpt_hdr *sh = take(CKPT_HDR_STRING, 0);
			const char *path = (const char *)(sh + 1);
			const struct ckpt_hdr_file_desc *d = (const void *)peek();

			if (sh->len < sizeof(*sh) + 1 || memchr(path, 0, sh->len - sizeof(*sh)) == NULL)
				die("malformed path");
			if (d->h.type == CKPT_HDR_FILE_DESC && d->fd == drop_fd &&
			    f->f_type == CKPT_FILE_REG && !f->nlocks) {
				fprintf(stderr, "ckpt2elf: fd %d (%s) left out (-D)\n", d->fd, path);
				take(CKPT_HDR_FILE_DESC, 0);
				continue;
			}
			if (f->f_type != CKPT_FILE_CHR || strcmp(path, "/dev/null") ||
			    d->h.type != CKPT_HDR_FILE_DESC || d->fd > 2)
				die("fd %d: %s %s: an ET_CKPT file cannot carry open files (only fds 0-2 on /dev/null, which the exec caller provides)",
				    d->h.type == CKPT_HDR_FILE_DESC ? d->fd : -1, file_kind(f->f_type), path);
			null_ref = f->objref;
		}
		{
			const struct ckpt_hdr_file_desc *d = take(CKPT_HDR_FILE_DESC, 0);

			if (d->fd > 2 || d->objref != null_ref)
				die("fd %d: an ET_CKPT file cannot carry open files (only fds 0-2 on /dev/null)", d->fd);
		}
	}
}

static void pages(void)
{
	for (;;) {
		const struct ckpt_hdr_pgarr *pa = take(CKPT_HDR_PGARR, 1);

		if (!pa->nr_pages)
			break;
		take(CKPT_HDR_BUFFER, 1);
		take(CKPT_HDR_BUFFER, 1);
	}
}

static uint32_t pflags(uint64_t vm_flags)
{
	return (vm_flags & 1 ? PF_R : 0) | (vm_flags & 2 ? PF_W : 0) | (vm_flags & 4 ? PF_X : 0);
}

static void convert(uint64_t *entry)
{
	const struct ckpt_hdr_header *hh;
	const struct ckpt_hdr_cpu *cpu;
	const struct ckpt_hdr_sigpending *sp;
	const struct ckpt_hdr_posix_timers *pt;
	const struct ckpt_hdr_tree *tree;
	const struct ckpt_hdr_signal *sig;
	const struct ckpt_hdr_threads *th;
	const struct ckpt_hdr_mm *mm;
	uint32_t i, nvma;
	int s;

	new_seg(PT_CKPT_CORE, 0, 0, 0);
	hh = take(CKPT_HDR_HEADER, 1);
	if (hh->magic != CHECKPOINT_MAGIC_HEAD)
		die("not a checkpoint image (magic %#" PRIx64 ")", (uint64_t)hh->magic);
	if (hh->rev != CHECKPOINT_VERSION)
		die("image version %u, this tool converts %u", hh->rev, CHECKPOINT_VERSION);
	for (s = 0; s < 3; s++)
		take(CKPT_HDR_STRING, 1);
	take(CKPT_HDR_HEADER_ARCH, 1);
	/* the hierarchy (format 5): an ET_CKPT file holds one task */
	tree = take(CKPT_HDR_TREE, 0);
	if (tree->nr_tasks != 1)
		die("a tree of %u tasks: an ET_CKPT file holds one task", tree->nr_tasks);
	if (((const struct ckpt_tree_task *)(tree + 1))->flags & CKPT_TREE_UTSNS)
		die("a UTS namespace of its own: an ET_CKPT file cannot carry it (restart the image instead)");
	if (((const struct ckpt_tree_task *)(tree + 1))->flags & CKPT_TREE_NETNS)
		die("a network namespace of its own: an ET_CKPT file cannot carry it (restart the image instead)");
	if (((const struct ckpt_tree_task *)(tree + 1))->flags & CKPT_TREE_IPCNS)
		die("an IPC namespace of its own: an ET_CKPT file cannot carry it (restart the image instead)");
	take(CKPT_HDR_TASK, 1);
	take(CKPT_HDR_CRED, 0);
	take(CKPT_HDR_THREAD, 1);
	cpu = take(CKPT_HDR_CPU, 1);
	*entry = cpu->ip;
	take(CKPT_HDR_FPU, 1);
	take(CKPT_HDR_SIGHAND, 1);
	sig = take(CKPT_HDR_SIGNAL, 0);
	if (sig->stop_flags)
		die("a process %s by job control: an ET_CKPT file cannot carry it (restart the image instead)",
		    sig->stop_flags & CKPT_SIGNAL_STOPPED ? "stopped" : "continued");
	sp = take(CKPT_HDR_SIGPENDING, 1);
	if (sp->nr)
		fprintf(stderr, "ckpt2elf: %u pending signals carried\n", sp->nr);
	take(CKPT_HDR_ITIMERS, 1);
	pt = take(CKPT_HDR_POSIX_TIMERS, 0);
	if (pt->nr)
		die("%u POSIX timers: an ET_CKPT file cannot carry them (restart the image instead)",
		    pt->nr);
	take(CKPT_HDR_RESTART_BLOCK, 1);
	take(CKPT_HDR_AUXV, 1);
	take(CKPT_HDR_SCHED, 0);
	{
		const struct ckpt_hdr_seccomp *sc = take(CKPT_HDR_SECCOMP, 0);

		if (sc->mode)
			die("seccomp mode %u: an ET_CKPT file cannot carry seccomp", sc->mode);
	}
	th = take(CKPT_HDR_THREADS, 0);
	if (th->nr_threads != 1)
		die("a process of %u threads: an ET_CKPT file carries one thread", th->nr_threads);
	take(CKPT_HDR_FS, 0);
	take(CKPT_HDR_STRING, 0);
	take(CKPT_HDR_STRING, 0);
	files();
	mm = take(CKPT_HDR_MM, 1);
	nvma = mm->map_count;
	take(CKPT_HDR_STRING, 1);
	for (i = 0; i < nvma; i++) {
		const struct ckpt_hdr_vma *v = (const void *)peek();
		uint64_t start = v->vm_start, end = v->vm_end;
		uint32_t type = v->vma_type, fl = pflags(v->vm_flags);

		if (type == CKPT_VMA_SHMEM)
			die("mapping %#" PRIx64 "-%#" PRIx64 ": an ET_CKPT file cannot carry shared memory (restart the image instead)",
			    start, end);
		if (type == CKPT_VMA_AIO)
			die("mapping %#" PRIx64 "-%#" PRIx64 ": an ET_CKPT file cannot carry an aio context (restart the image instead)",
			    start, end);
		new_seg(PT_CKPT_VMA, start, end - start, fl);
		take(CKPT_HDR_VMA, 1);
		if (type == CKPT_VMA_FILE || type == CKPT_VMA_SHARED_FILE) {
			const struct ckpt_hdr *sh = take(CKPT_HDR_STRING, 1);

			if (by_fd)
				segs[nseg - 1].paddr = path_fd(sh);
		}
		if (type == CKPT_VMA_FILE || type == CKPT_VMA_ANON) {
			new_seg(PT_CKPT_PAGES, start, end - start, fl);
			pages();
		}
	}
	take(CKPT_HDR_TAIL, 0);
	if (pos != img_size)
		die("data after the tail record");
}

static void out_write(int fd, const void *p, size_t n, int summed)
{
	const unsigned char *b = p;
	size_t i;
	uint64_t w;

	if (summed) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&w, b + i, 8);
			sum += ckpt_csum_mix(w, nsum++);
			sum2 += sum;
		}
	}
	while (n) {
		ssize_t k = write(fd, b, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			perror("ckpt2elf: write");
			exit(1);
		}
		b += k;
		n -= k;
	}
}

int main(int argc, char *argv[])
{
	Elf64_Ehdr e = { 0 };
	Elf64_Phdr *ph;
	struct ckpt_hdr_tail tail = { 0 };
	struct stat st;
	uint64_t entry = 0, off;
	char tmp[4096];
	int i, j, fd;

	for (;;) {
		if (argc >= 4 && !strcmp(argv[1], "-D")) {
			drop_fd = atoi(argv[2]);
			argv += 2;
			argc -= 2;
		} else if (argc >= 3 && !strcmp(argv[1], "-f")) {
			by_fd = 1;
			argv++;
			argc--;
		} else {
			break;
		}
	}
	if (argc != 3) {
		fprintf(stderr, "usage: ckpt2elf [-f] [-D FD] IMAGE OUT\n");
		return 2;
	}
	iname = argv[1];
	fd = open(iname, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "ckpt2elf: %s: %s\n", iname, strerror(errno));
		return 1;
	}
	img_size = st.st_size;
	img = img_size ? mmap(NULL, img_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (img_size && img == MAP_FAILED) {
		perror("ckpt2elf: mmap");
		return 1;
	}
	close(fd);
	segs = calloc(MAX_SEG, sizeof(*segs));
	if (!segs) {
		perror("ckpt2elf");
		return 1;
	}
	convert(&entry);
	fprintf(stderr, "ckpt2elf: the exec caller's, not the image's: credentials, rlimits, scheduling, root, cwd, umask, fds 0-2\n");

	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS64;
	e.e_ident[EI_DATA] = ELFDATA2LSB;
	e.e_ident[EI_VERSION] = EV_CURRENT;
	e.e_ident[EI_OSABI] = ELFOSABI_NONE;
	e.e_type = ET_CKPT;
	e.e_machine = EM_X86_64;
	e.e_version = EV_CURRENT;
	e.e_entry = entry;
	e.e_phoff = sizeof(e);
	e.e_ehsize = sizeof(e);
	e.e_phentsize = sizeof(Elf64_Phdr);
	e.e_phnum = nseg;
	ph = calloc(nseg, sizeof(*ph));
	if (!ph) {
		perror("ckpt2elf");
		return 1;
	}
	off = sizeof(e) + (uint64_t)nseg * sizeof(*ph);
	for (i = 0; i < nseg; i++) {
		ph[i].p_type = segs[i].type;
		ph[i].p_flags = segs[i].flags;
		ph[i].p_offset = off;
		ph[i].p_vaddr = segs[i].vaddr;
		ph[i].p_paddr = segs[i].paddr;
		ph[i].p_memsz = segs[i].memsz;
		ph[i].p_align = 8;
		for (j = 0; j < segs[i].nr; j++)
			ph[i].p_filesz += segs[i].len[j];
		off += ph[i].p_filesz;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0) {
		fprintf(stderr, "ckpt2elf: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	out_write(fd, &e, sizeof(e), 0);
	out_write(fd, ph, nseg * sizeof(*ph), 0);
	for (i = 0; i < nseg; i++)
		for (j = 0; j < segs[i].nr; j++)
			out_write(fd, img + segs[i].off[j], segs[i].len[j], 1);
	tail.h.type = CKPT_HDR_TAIL;
	tail.h.len = sizeof(tail);
	tail.magic = CHECKPOINT_MAGIC_TAIL;
	tail.sum = sum;
	tail.sum2 = sum2;
	out_write(fd, &tail, sizeof(tail), 0);
	if (fchmod(fd, 0755) < 0 || close(fd) < 0 || rename(tmp, argv[2]) < 0) {
		fprintf(stderr, "ckpt2elf: %s: %s\n", argv[2], strerror(errno));
		unlink(tmp);
		return 1;
	}
	printf("ckpt2elf: %s: %d program headers, %" PRIu64 " bytes\n", argv[2], nseg,
	       off + sizeof(tail));
	return 0;
}
