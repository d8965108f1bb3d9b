/*
 * shmcat recv TIMEOUT IDLE > FILE | shmcat send TIMEOUT < FILE | shmcat clear
 *
 * A byte stream between two guests through memory they share: an ivshmem-plain PCI device
 * (1af4:1110) whose BAR 2 both QEMU processes map from one host file. No interrupts: a
 * single-producer, single-consumer ring that both sides poll.
 *
 * The first 4 KiB of the BAR is the header, the rest the ring. The receiver starts a stream:
 * it resets the counters and marks the header READY; the sender attaches (STREAMING), copies
 * its stdin into the ring and marks the end (DONE, or FAILED on a read error). head and tail
 * count bytes since the start of the stream; the sender only writes head, the receiver only
 * tail, each published with release and read with acquire ordering.
 *
 * recv waits TIMEOUT seconds for a sender and fails when the stream stops for IDLE seconds
 * without its end (a sender that died); send waits TIMEOUT seconds for a receiver, and as long
 * for room in the ring. Both print "shmcat: N bytes" on stderr and exit 0 on a whole stream.
 * clear zeroes the whole shared memory (no stream may run).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define SHM_MAGIC	0x314d48535342414cULL	/* "LABSSHM1" */
#define HDR_SIZE	4096

enum { ST_IDLE, ST_READY, ST_STREAMING, ST_DONE, ST_FAILED };

struct shm_hdr {
	uint64_t magic;
	uint64_t ring;		/* bytes of ring after the header */
	uint32_t state;
	uint32_t pad0;
	uint64_t pad1[5];
	uint64_t head;		/* written by the sender, own cache line */
	uint64_t pad2[7];
	uint64_t tail;		/* written by the receiver */
};

static struct shm_hdr *hdr;
static unsigned char *ring;
static uint64_t ring_size;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll without burning the CPU the other side may need: yield first, then sleep a little. */
static void backoff(unsigned int *spins)
{
	struct timespec ts = { 0, 50 * 1000 };

	if ((*spins)++ < 64)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

static uint64_t load(uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint32_t state(void)
{
	return __atomic_load_n(&hdr->state, __ATOMIC_ACQUIRE);
}

static void set_state(uint32_t s)
{
	__atomic_store_n(&hdr->state, s, __ATOMIC_RELEASE);
}

static int read_hex(const char *dir, const char *name, unsigned long *out)
{
	char path[512], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	*out = strtoul(buf, NULL, 16);
	return 0;
}

/* Map BAR 2 of the first ivshmem device. */
static int map_shm(void)
{
	const char *base = "/sys/bus/pci/devices";
	char dir[512], path[600];
	unsigned long vendor, device;
	struct dirent *d;
	struct stat st;
	void *p;
	DIR *dp;
	int fd = -1;

	dp = opendir(base);
	if (!dp) {
		perror("shmcat: " "/sys/bus/pci/devices");
		return -1;
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, d->d_name);
		if (read_hex(dir, "vendor", &vendor) || read_hex(dir, "device", &device) ||
		    vendor != 0x1af4 || device != 0x1110)
			continue;
		snprintf(path, sizeof(path), "%s/resource2", dir);
		fd = open(path, O_RDWR | O_SYNC);
		if (fd < 0)
			fprintf(stderr, "shmcat: %s: %s\n", path, strerror(errno));
		break;
	}
	closedir(dp);
	if (fd < 0) {
		if (!d)
			fprintf(stderr, "shmcat: no ivshmem device (1af4:1110)\n");
		return -1;
	}
	if (fstat(fd, &st) || st.st_size <= 2 * HDR_SIZE) {
		fprintf(stderr, "shmcat: %s: no usable BAR\n", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "shmcat: mmap %s: %s\n", path, strerror(errno));
		return -1;
	}
	hdr = p;
	ring = (unsigned char *)p + HDR_SIZE;
	ring_size = st.st_size - HDR_SIZE;
	return 0;
}

static int do_recv(double timeout, double idle)
{
	double start = now(), last;
	unsigned int spins = 0;
	uint64_t tail = 0, head;
	ssize_t n;

	store(&hdr->head, 0);
	store(&hdr->tail, 0);
	hdr->ring = ring_size;
	hdr->magic = SHM_MAGIC;
	set_state(ST_READY);
	while (state() == ST_READY) {
		if (now() - start > timeout) {
			fprintf(stderr, "shmcat: no sender within %.0f s\n", timeout);
			set_state(ST_IDLE);
			return 1;
		}
		backoff(&spins);
	}
	last = now();
	for (;;) {
		uint32_t s = state();

		head = load(&hdr->head);
		if (head > tail) {
			uint64_t off = tail % ring_size;
			uint64_t len = head - tail;

			if (len > ring_size - off)
				len = ring_size - off;
			n = write(STDOUT_FILENO, ring + off, len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				perror("shmcat: write");
				set_state(ST_FAILED);
				return 1;
			}
			tail += n;
			store(&hdr->tail, tail);
			last = now();
			spins = 0;
			continue;
		}
		if (s == ST_DONE && load(&hdr->head) == tail)
			break;
		if (s == ST_FAILED) {
			fprintf(stderr, "shmcat: the sender failed after %llu bytes\n",
				(unsigned long long)tail);
			return 1;
		}
		if (now() - last > idle) {
			fprintf(stderr, "shmcat: stream stopped for %g s after %llu bytes\n", idle,
				(unsigned long long)tail);
			set_state(ST_FAILED);
			return 1;
		}
		backoff(&spins);
	}
	set_state(ST_IDLE);
	fprintf(stderr, "shmcat: %llu bytes\n", (unsigned long long)tail);
	return 0;
}

static int do_send(double timeout)
{
	double start = now(), last;
	unsigned int spins = 0;
	uint64_t head = 0;
	ssize_t n;

	while (hdr->magic != SHM_MAGIC || state() != ST_READY) {
		if (now() - start > timeout) {
			fprintf(stderr, "shmcat: no receiver within %.0f s\n", timeout);
			return 1;
		}
		backoff(&spins);
	}
	if (hdr->ring != ring_size) {
		fprintf(stderr, "shmcat: the receiver's ring is %llu bytes, ours %llu\n",
			(unsigned long long)hdr->ring, (unsigned long long)ring_size);
		return 1;
	}
	set_state(ST_STREAMING);
	last = now();
	for (;;) {
		uint64_t room = ring_size - (head - load(&hdr->tail));
		uint64_t off = head % ring_size;

		if (state() == ST_FAILED) {
			fprintf(stderr, "shmcat: the receiver failed after %llu bytes\n",
				(unsigned long long)load(&hdr->tail));
			return 1;
		}
		if (!room) {
			if (now() - last > timeout) {
				fprintf(stderr, "shmcat: the receiver took nothing for %.0f s\n", timeout);
				set_state(ST_FAILED);
				return 1;
			}
			backoff(&spins);
			continue;
		}
		if (room > ring_size - off)
			room = ring_size - off;
		n = read(STDIN_FILENO, ring + off, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("shmcat: read");
			set_state(ST_FAILED);
			return 1;
		}
		if (n == 0)
			break;
		head += n;
		store(&hdr->head, head);
		last = now();
		spins = 0;
	}
	set_state(ST_DONE);
	fprintf(stderr, "shmcat: %llu bytes\n", (unsigned long long)head);
	return 0;
}

/*
 * A pipe on either side holds 64 KiB by default: each refill is a switch between the two
 * processes (on one vCPU under TCG, most of the stream's time). Ask for 1 MiB (as much as
 * pipe-max-size allows an unprivileged caller); a file or a socket is left alone.
 */
static void widen_pipe(int fd)
{
	fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

static void usage(void)
{
	fprintf(stderr, "usage: shmcat recv TIMEOUT IDLE | shmcat send TIMEOUT | shmcat clear\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "recv") && argc == 4) {
		if (map_shm())
			return 1;
		widen_pipe(STDOUT_FILENO);
		return do_recv(atof(argv[2]), atof(argv[3]));
	}
	if (!strcmp(argv[1], "send") && argc == 3) {
		if (map_shm())
			return 1;
		widen_pipe(STDIN_FILENO);
		return do_send(atof(argv[2]));
	}
	if (!strcmp(argv[1], "clear") && argc == 2) {
		if (map_shm())
			return 1;
		memset(hdr, 0, HDR_SIZE + ring_size);
		return 0;
	}
	usage();
	return 2;
}
