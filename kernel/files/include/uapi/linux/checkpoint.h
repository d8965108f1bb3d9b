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
#define CHECKPOINT_VERSION	8

/* no log file descriptor */
#define CHECKPOINT_FD_NONE	-1

/* checkpoint(2) flags */
#define CHECKPOINT_SUBTREE	0x1
/*
 * Pre-copy migration (kernel/checkpoint/precopy.c): a round copies the
 * memory of a running target and tracks what it dirties after (soft-dirty);
 * the last pass, of the frozen target, is a whole image whose clean pages
 * refer to the rounds (restart reads it, then the rounds, newest first).
 */
#define CHECKPOINT_PRECOPY	0x2	/* a round: memory only, target may run */
#define CHECKPOINT_PRECOPY_LAST	0x4	/* the last pass: frozen, a delta */
/*
 * hold the task's TCP connections: from the moment each is saved it drops
 * what arrives (no ACK, no RST) and is in repair mode, so the image stays
 * exact while it travels; killed, the task's connections vanish without a
 * FIN or RST.  Needs CAP_NET_ADMIN.  A failed checkpoint releases them.
 */
#define CHECKPOINT_TCP_HOLD	0x10
/* write no image: release the held TCP connections of the task */
#define CHECKPOINT_TCP_RELEASE	0x20
#define CHECKPOINT_USER_FLAGS	(CHECKPOINT_SUBTREE | CHECKPOINT_PRECOPY | \
				 CHECKPOINT_PRECOPY_LAST | CHECKPOINT_TCP_HOLD | \
				 CHECKPOINT_TCP_RELEASE)

/* restart(2) flags */
#define RESTART_TASKSELF	0x1
#define RESTART_FROZEN		0x2
#define RESTART_GHOST		0x4
#define RESTART_USER_FLAGS	(RESTART_TASKSELF | RESTART_FROZEN | RESTART_GHOST)

#endif /* _UAPI_LINUX_CHECKPOINT_H */
