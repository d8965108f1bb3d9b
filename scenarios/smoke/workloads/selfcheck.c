/* selfcheck: a workload that checks the guest's basic facilities and judges itself.
 * Usage: selfcheck RESULT_FILE. Writes PASS or FAIL: <reason> to RESULT_FILE and stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *failure;
static volatile sig_atomic_t got_usr1;

#define CHECK(cond, why) do { if (!(cond) && !failure) failure = (why); } while (0)

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

int main(int argc, char **argv)
{
	const size_t len = 8 << 20;
	unsigned char *mem;
	struct timespec a, b;
	char buf[64];
	int fd, status;
	pid_t pid;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: selfcheck RESULT_FILE\n");
		return 2;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED, "mmap");
	if (mem != MAP_FAILED) {
		uint64_t h1, h2;

		for (size_t i = 0; i < len; i++)
			mem[i] = (unsigned char)(i * 31 + 7);
		h1 = fnv1a(mem, len);
		h2 = fnv1a(mem, len);
		CHECK(h1 == h2 && mem[12345] == (unsigned char)(12345 * 31 + 7), "memory pattern");
	}
	fd = open("/tmp/selfcheck.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "open");
	CHECK(write(fd, "0123456789", 10) == 10, "write");
	CHECK(lseek(fd, 3, SEEK_SET) == 3, "lseek");
	CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "3456", 4) == 0, "read back");
	close(fd);

	pid = fork();
	if (pid == 0)
		_exit(42);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 42, "fork/wait");

	signal(SIGUSR1, on_usr1);
	kill(getpid(), SIGUSR1);
	CHECK(got_usr1, "signal delivery");

	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "clock_gettime");
	usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 10000000L, "monotonic clock");
	CHECK(syscall(SYS_getpid) == getpid(), "raw syscall");

	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	if (failure) {
		fprintf(out, "FAIL: %s\n", failure);
		printf("selfcheck: FAIL: %s (errno %d)\n", failure, errno);
	} else {
		fprintf(out, "PASS\n");
		printf("selfcheck: PASS\n");
	}
	fclose(out);
	return failure ? 1 : 0;
}
