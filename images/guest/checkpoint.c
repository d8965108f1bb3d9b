/*
 * checkpoint PID [-p | -P] [-o FILE] [-l LOG] [-T | -R] [-N]: checkpoint a task (frozen by
 * the freezer cgroup, or the caller itself) to FILE or to stdout, with its
 * descendants (CHECKPOINT_SUBTREE).
 * -N: PID is the init of a pid namespace, a child of ours: the namespace is
 * checkpointed (flags 0, no CHECKPOINT_SUBTREE), its pids as seen in it;
 * restart it with `restart -N`.
 * -T: hold its TCP connections (CHECKPOINT_TCP_HOLD: for a migration; kill
 * the task once it runs elsewhere, or release them); -R: write no image,
 * release the connections a -T checkpoint held (CHECKPOINT_TCP_RELEASE).
 * -p: a pre-copy round of its memory (it may run); -P: the last pass of a
 * pre-copy (frozen), whose clean pages refer to the rounds.
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
	fprintf(stderr, "usage: checkpoint PID [-p | -P] [-o FILE] [-l LOG] [-T | -R] [-N]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	const char *out = NULL, *log = NULL;
	int fd = STDOUT_FILENO, logfd = CHECKPOINT_FD_NONE;
	unsigned long flags = CHECKPOINT_SUBTREE;
	char *end;
	long pid, ret;
	int opt;

	while ((opt = getopt(argc, argv, "o:l:pPTRNh")) != -1) {
		switch (opt) {
		case 'N':
			flags &= ~CHECKPOINT_SUBTREE;
			break;
		case 'T':
			flags |= CHECKPOINT_TCP_HOLD;
			break;
		case 'R':
			flags |= CHECKPOINT_TCP_RELEASE;
			break;
		case 'o':
			out = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'p':
			flags |= CHECKPOINT_PRECOPY;
			break;
		case 'P':
			flags |= CHECKPOINT_PRECOPY_LAST;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	pid = strtol(argv[optind], &end, 10);
	if (*end || pid < 0) {
		fprintf(stderr, "checkpoint: invalid pid '%s'\n", argv[optind]);
		return 2;
	}
	if ((flags & CHECKPOINT_TCP_RELEASE) && !out)
		out = "/dev/null";
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "checkpoint: %s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	if (log) {
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd < 0) {
			fprintf(stderr, "checkpoint: %s: %s\n", log, strerror(errno));
			return 1;
		}
	}
	ret = syscall(__NR_checkpoint, (int)pid, fd, flags, logfd);
	if (ret < 0) {
		int err = errno;

		fprintf(stderr, "checkpoint: pid %ld: %s (errno %d)\n", pid,
			strerror(err), err);
		return 1;
	}
	fprintf(stderr, "checkpoint: pid %ld: id %ld\n", pid, ret);
	return 0;
}
