/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart: kernel functions that the C/R code calls, made
 * non-static by the quilt series next to their static callees.  Only the
 * files of those functions and the C/R code include this header.
 */
#ifndef _LINUX_CHECKPOINT_HOOKS_H
#define _LINUX_CHECKPOINT_HOOKS_H

#include <linux/types.h>

struct itimerspec64;
struct k_itimer;
struct restart_block;
struct sigevent;
struct tty_struct;

/* kernel/time/itimer.c: setitimer() of the current task */
int do_setitimer(int which, struct itimerspec64 *value,
		 struct itimerspec64 *ovalue);

/* kernel/time/posix-timers.c: a timer of the current task with id @id */
struct k_itimer *posix_timer_create_id(clockid_t which_clock,
				       struct sigevent *event, timer_t id);

/* drivers/tty/n_tty.c: the unread input of a tty, and waiting for it */
ssize_t n_tty_peek(struct tty_struct *tty, unsigned char *buf, size_t len);
void n_tty_flush_input(struct tty_struct *tty);

/*
 * The restart block of an interrupted system call: its functions are
 * static in the files of the calls; these helpers, next to them, tell
 * which call a block belongs to and point a rebuilt block at the same
 * function.
 */
bool restart_block_is_nanosleep(struct restart_block *restart);
long restart_block_set_nanosleep(struct restart_block *restart);
bool restart_block_is_poll(struct restart_block *restart);
long restart_block_set_poll(struct restart_block *restart);
bool restart_block_is_futex_wait(struct restart_block *restart);

#endif /* _LINUX_CHECKPOINT_HOOKS_H */
