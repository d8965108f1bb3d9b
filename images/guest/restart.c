/*
 * restart [-i FILE] [-l LOG]: become the task checkpointed in FILE (or
 * stdin), with restart(2) and RESTART_TASKSELF.  Returns only on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/checkpoint.h>

static void usage(void)
{
	fprintf(stderr, "usage: restart [-i FILE] [-l LOG]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	const char *in = NULL, *log = NULL;
	int fd = STDIN_FILENO, logfd = CHECKPOINT_FD_NONE;
	long ret;
	int opt, err;

	while ((opt = getopt(argc, argv, "i:l:h")) != -1) {
		switch (opt) {
		case 'i':
			in = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (in) {
		fd = open(in, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "restart: %s: %s\n", in, strerror(errno));
			return 1;
		}
	}
	if (log) {
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (logfd < 0) {
			fprintf(stderr, "restart: %s: %s\n", log, strerror(errno));
			return 1;
		}
	}
	ret = syscall(__NR_restart, 0, fd, (unsigned long)RESTART_TASKSELF, logfd);
	err = errno;
	fprintf(stderr, "restart: %s (errno %d)\n", ret < 0 ? strerror(err) : "returned",
		ret < 0 ? err : 0);
	return 1;
}
