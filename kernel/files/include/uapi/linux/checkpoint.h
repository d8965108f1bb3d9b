/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart: system call flags and constants.
 *
 * long checkpoint(pid_t pid, int fd, unsigned long flags, int logfd);
 * long restart(pid_t pid, int fd, unsigned long flags, int logfd);
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

#include <linux/types.h>
#include <linux/checkpoint_hdr.h>

/* image format revision (struct ckpt_hdr_header.rev) */
#define CHECKPOINT_VERSION	5

/* no log file descriptor */
#define CHECKPOINT_FD_NONE	-1

/* checkpoint(2) flags */
#define CHECKPOINT_SUBTREE	0x1
#define CHECKPOINT_USER_FLAGS	CHECKPOINT_SUBTREE

/* restart(2) flags */
#define RESTART_TASKSELF	0x1
#define RESTART_FROZEN		0x2
#define RESTART_GHOST		0x4
#define RESTART_USER_FLAGS	(RESTART_TASKSELF | RESTART_FROZEN | RESTART_GHOST)

#endif /* _UAPI_LINUX_CHECKPOINT_H */
