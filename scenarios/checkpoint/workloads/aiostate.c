/*
 * aiostate: aio contexts (io_setup() rings) that restart must restore with
 * their unreaped completions (issue 10).  Raw system calls, as libaio
 * makes them; the ring is also read directly, as libaio does.
 *
 *   aiostate ring DIR RES  two contexts: A, io_setup(8), whose 127-event
 *                          ring has wrapped and holds 4 completions across
 *                          its end (buffered writes and reads of DIR/data,
 *                          complete at submit; one with IOCB_FLAG_RESFD on
 *                          an eventfd); B, io_setup(300), its ring moved by
 *                          mremap() (its id is the new address), with 2
 *                          completions.  Prints "ready PID A B" and
 *                          pause()s until SIGUSR1, then checks that each
 *                          ring is where its id says with the same header
 *                          and completions byte for byte, that
 *                          io_getevents() returns exactly those (data, obj,
 *                          res, in order) and then none, the eventfd's
 *                          count, /proc/sys/fs/aio-nr, that new reads and
 *                          writes complete, and that io_destroy() works and
 *                          unmaps the rings.  Writes PASS or "FAIL: what"
 *                          to RES.
 *   aiostate busy          a context with an IOCB_CMD_POLL on a pipe that
 *                          is never written: a request in flight.  Prints
 *                          "ready PID CTX" and sleeps.
 *   aiostate forked        io_setup(), then fork(): the child has a copy of
 *                          the [aio] mapping but no context.  The child
 *                          prints "ready PID" and sleeps; the parent waits.
 * stdio must be regular files or /dev/null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/aio_abi.h>

#define AIO_RING_MAGIC	0xa10a10a1
#define BLK		512
#define NBLK		16

/* fs/aio.c's ring, as user space sees it */
struct aio_ring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features, header_length;
	struct io_event io_events[];
};

struct ctx_snap {
	aio_context_t id;
	struct aio_ring hdr;
	struct io_event ev[8];	/* head .. tail */
	unsigned int n;
};

static volatile sig_atomic_t go;
static const char *res_path;
static int datafd, efd;
static struct iocb iocbs[16];
static char bufs[16][BLK];
static struct io_event want_a[4], want_b[2];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "aiostate: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* the verdict, written whole (to RES.tmp, renamed) so that a reader never sees a part */
static void verdict(const char *fmt, va_list ap)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", res_path);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	if (fclose(f) || rename(tmp, res_path))
		die(res_path);
}

static void result(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict(fmt, ap);
	va_end(ap);
}

static void fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	result("FAIL: %s", buf);
	exit(1);
}

static long io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long io_submit(aio_context_t ctx, long n, struct iocb **iocb)
{
	return syscall(SYS_io_submit, ctx, n, iocb);
}

static long io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev)
{
	struct timespec ts = { 0, 0 };

	return syscall(SYS_io_getevents, ctx, min, max, ev, &ts);
}

static long io_destroy(aio_context_t ctx)
{
	return syscall(SYS_io_destroy, ctx);
}

/* block @blk of the data file holds 'a' + blk, or 'A' + blk once written */
static void prep(struct iocb *cb, int write, int blk, char *buf, uint64_t data)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_fildes = datafd;
	cb->aio_buf = (uintptr_t)buf;
	cb->aio_nbytes = BLK;
	cb->aio_offset = (int64_t)blk * BLK;
	cb->aio_data = data;
	if (write)
		memset(buf, 'A' + blk, BLK);
}

static void submit1(aio_context_t ctx, struct iocb *cb, struct io_event *want)
{
	struct iocb *list[1] = { cb };

	if (io_submit(ctx, 1, list) != 1)
		die("io_submit");
	if (want) {
		want->data = cb->aio_data;
		want->obj = (uintptr_t)cb;
		want->res = BLK;
		want->res2 = 0;
	}
}

static void snap(struct ctx_snap *s, aio_context_t id)
{
	struct aio_ring *r = (struct aio_ring *)id;
	unsigned int i;

	s->id = id;
	s->hdr = *r;
	s->n = 0;
	for (i = r->head; i != r->tail && s->n < 8; i = (i + 1) % r->nr)
		s->ev[s->n++] = r->io_events[i];
}

/* what user space sees in the ring is what it saw before */
static void check_snap(const char *name, struct ctx_snap *s)
{
	struct aio_ring *r = (struct aio_ring *)s->id;
	unsigned int i, k;

	if (memcmp(r, &s->hdr, sizeof(s->hdr)))
		fail("%s: ring header id %u nr %u head %u tail %u magic %#x features %u/%u len %u, "
		     "was id %u nr %u head %u tail %u magic %#x features %u/%u len %u", name,
		     r->id, r->nr, r->head, r->tail, r->magic, r->compat_features,
		     r->incompat_features, r->header_length, s->hdr.id, s->hdr.nr, s->hdr.head,
		     s->hdr.tail, s->hdr.magic, s->hdr.compat_features, s->hdr.incompat_features,
		     s->hdr.header_length);
	if (r->magic != AIO_RING_MAGIC || r->header_length != sizeof(*r))
		fail("%s: ring magic %#x header %u", name, r->magic, r->header_length);
	for (i = r->head, k = 0; i != r->tail; i = (i + 1) % r->nr, k++)
		if (k >= s->n || memcmp(&r->io_events[i], &s->ev[k], sizeof(s->ev[k])))
			fail("%s: ring event %u (slot %u) differs", name, k, i);
	if (k != s->n)
		fail("%s: %u events in the ring, were %u", name, k, s->n);
}

static void check_events(const char *name, aio_context_t ctx, struct io_event *want,
			 long n)
{
	struct io_event ev[16];
	long got, i;

	got = io_getevents(ctx, 0, 16, ev);
	if (got != n)
		fail("%s: io_getevents returned %ld (errno %d), expected %ld", name, got, errno, n);
	for (i = 0; i < n; i++)
		if (ev[i].data != want[i].data || ev[i].obj != want[i].obj ||
		    ev[i].res != want[i].res || ev[i].res2 != want[i].res2)
			fail("%s: event %ld: data %llx obj %llx res %lld res2 %lld, expected "
			     "%llx %llx %lld %lld", name, i, (unsigned long long)ev[i].data,
			     (unsigned long long)ev[i].obj, (long long)ev[i].res,
			     (long long)ev[i].res2, (unsigned long long)want[i].data,
			     (unsigned long long)want[i].obj, (long long)want[i].res,
			     (long long)want[i].res2);
	got = io_getevents(ctx, 0, 16, ev);
	if (got != 0)
		fail("%s: io_getevents after the reap returned %ld", name, got);
	if (((struct aio_ring *)ctx)->head != ((struct aio_ring *)ctx)->tail)
		fail("%s: ring not empty after the reap", name);
}

static long aio_nr(void)
{
	FILE *f = fopen("/proc/sys/fs/aio-nr", "r");
	long n = -1;

	if (!f || fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

static int rings_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/[aio]"))
			n++;
	fclose(f);
	return n;
}

/* a new write and read through @ctx complete, with the data */
static void check_new_io(const char *name, aio_context_t ctx)
{
	struct io_event ev[2];
	struct iocb *list[2] = { &iocbs[14], &iocbs[15] };
	static char w[BLK], r[BLK];

	prep(&iocbs[14], 1, 9, w, 0x900);
	prep(&iocbs[15], 0, 9, r, 0x901);
	if (io_submit(ctx, 2, list) != 2)
		fail("%s: io_submit after restart: errno %d", name, errno);
	if (io_getevents(ctx, 2, 2, ev) != 2)
		fail("%s: io_getevents of the new requests: errno %d", name, errno);
	if (ev[0].data != 0x900 || ev[1].data != 0x901 || ev[0].res != BLK || ev[1].res != BLK)
		fail("%s: new requests completed as %llx/%lld %llx/%lld", name,
		     (unsigned long long)ev[0].data, (long long)ev[0].res,
		     (unsigned long long)ev[1].data, (long long)ev[1].res);
	if (memcmp(r, w, BLK))
		fail("%s: the read after restart did not return the written block", name);
}

static int ring(const char *dir, const char *resp)
{
	aio_context_t a = 0, b = 0;
	struct ctx_snap sa, sb;
	char path[4096], blk[BLK];
	unsigned long long cnt = 0;
	unsigned int nr;
	size_t bsize;
	void *to;
	long nr_before;
	int i, k;

	res_path = resp;
	unlink(resp);
	snprintf(path, sizeof(path), "%s/data", dir);
	datafd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (datafd < 0)
		die(path);
	for (i = 0; i < NBLK; i++) {
		memset(blk, 'a' + i, BLK);
		if (write(datafd, blk, BLK) != BLK)
			die("write");
	}
	efd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0)
		die("eventfd");
	if (io_setup(8, &a) || io_setup(300, &b))
		die("io_setup");
	/* wrap A's ring: head and tail to nr - 2 */
	nr = ((struct aio_ring *)a)->nr;
	for (i = 0; i < (int)nr - 2; i++) {
		struct io_event ev;

		prep(&iocbs[0], 0, i % NBLK, bufs[0], i);
		submit1(a, &iocbs[0], NULL);
		if (io_getevents(a, 1, 1, &ev) != 1 || ev.data != (uint64_t)i || ev.res != BLK)
			die("io_getevents (wrap)");
	}
	/* 5 completions across the ring's end, one reaped: 4 left */
	for (i = 0; i < 5; i++) {
		prep(&iocbs[1 + i], i & 1, 1 + i, bufs[1 + i], 0xa0 + i);
		if (i == 3) {
			iocbs[1 + i].aio_flags = IOCB_FLAG_RESFD;
			iocbs[1 + i].aio_resfd = efd;
		}
		submit1(a, &iocbs[1 + i], i ? &want_a[i - 1] : NULL);
	}
	{
		struct io_event ev;

		if (io_getevents(a, 1, 1, &ev) != 1 || ev.data != 0xa0)
			die("io_getevents (first)");
	}
	/* B: its ring moved; two completions */
	bsize = (((struct aio_ring *)b)->nr + 1) * sizeof(struct io_event);
	to = mmap(NULL, 64 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		die("mmap");
	munmap(to, 64 << 20);
	to = (char *)to + (32 << 20);
	if (mremap((void *)b, bsize, bsize, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
		die("mremap");
	b = (aio_context_t)to;
	for (k = 0; k < 2; k++) {
		prep(&iocbs[8 + k], !k, 10 + k, bufs[8 + k], 0xb0 + k);
		submit1(b, &iocbs[8 + k], &want_b[k]);
	}
	snap(&sa, a);
	snap(&sb, b);
	if (sa.n != 4 || sb.n != 2 || sa.hdr.head != nr - 1 || sa.hdr.tail != 3 ||
	    sb.hdr.nr != bsize / sizeof(struct io_event) - 1)
		errno = EINVAL, die("ring state before the checkpoint");
	nr_before = aio_nr();

	signal(SIGUSR1, on_usr1);
	printf("ready %d %#llx %#llx\n", getpid(), (unsigned long long)a,
	       (unsigned long long)b);
	fflush(stdout);
	while (!go)
		pause();

	check_snap("A", &sa);
	check_snap("B", &sb);
	if (aio_nr() != nr_before || nr_before < 308)
		fail("aio-nr %ld, was %ld", aio_nr(), nr_before);
	if (read(efd, &cnt, sizeof(cnt)) != sizeof(cnt) || cnt != 1)
		fail("eventfd of the IOCB_FLAG_RESFD request: %llu", cnt);
	check_events("A", a, want_a, 4);
	check_events("B", b, want_b, 2);
	/* writes of blocks 2, 4 and 10 (the originals'), reads of 3, 5 and 11 */
	if (pread(datafd, blk, BLK, 2 * BLK) != BLK || blk[0] != 'C' ||
	    pread(datafd, blk, BLK, 4 * BLK) != BLK || blk[0] != 'E' ||
	    pread(datafd, blk, BLK, 10 * BLK) != BLK || blk[0] != 'K')
		fail("data file content");
	if (bufs[3][0] != 'd' || bufs[5][0] != 'f' || bufs[9][0] != 'l')
		fail("read buffers: %c %c %c", bufs[3][0], bufs[5][0], bufs[9][0]);
	check_new_io("A", a);
	check_new_io("B", b);
	if (rings_mapped() != 2)
		fail("%d aio rings mapped, expected 2", rings_mapped());
	if (io_destroy(a) || io_destroy(b))
		fail("io_destroy: errno %d", errno);
	if (io_getevents(a, 0, 1, want_a) != -1 || errno != EINVAL)
		fail("io_getevents after io_destroy: not EINVAL");
	if (rings_mapped() != 0)
		fail("%d aio rings mapped after io_destroy", rings_mapped());
	if (aio_nr() != nr_before - 308)
		fail("aio-nr %ld after io_destroy, was %ld", aio_nr(), nr_before);
	result("PASS");
	return 0;
}

static int busy(void)
{
	aio_context_t ctx = 0;
	struct iocb cb, *list[1] = { &cb };
	int p[2];

	if (pipe(p) || io_setup(4, &ctx))
		die("setup");
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_POLL;
	cb.aio_fildes = p[0];
	cb.aio_buf = POLLIN;
	if (io_submit(ctx, 1, list) != 1)
		die("io_submit poll");
	printf("ready %d %#llx\n", getpid(), (unsigned long long)ctx);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int forked(void)
{
	aio_context_t ctx = 0;
	pid_t pid;

	if (io_setup(4, &ctx))
		die("io_setup");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "ring"))
		return ring(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "busy"))
		return busy();
	if (argc == 2 && !strcmp(argv[1], "forked"))
		return forked();
	fprintf(stderr, "usage: aiostate ring DIR RES | busy | forked\n");
	return 2;
}
