/*
 * suidread SECRET READY: installed setuid root by the leak scenario.  Reads
 * the root-only file SECRET into its memory and keeps it open, creates READY,
 * then waits to be killed.  Its memory, descriptors and registers are what a
 * checkpoint by its unprivileged caller must never see.
 */
#include <fcntl.h>
#include <unistd.h>

static char secret[4096];

int main(int argc, char **argv)
{
	int fd, r;

	if (argc != 3)
		return 2;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, secret, sizeof(secret) - 1) < 0)
		return 1;
	r = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (r < 0)
		return 1;
	close(r);
	for (;;)
		pause();
}
