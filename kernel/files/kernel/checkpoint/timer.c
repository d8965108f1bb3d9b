// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: interval timers (CKPT_HDR_ITIMERS): ITIMER_REAL,
 * ITIMER_VIRTUAL and ITIMER_PROF, each as getitimer() shows it: the time
 * remaining and the interval.  Restart arms them with setitimer()'s own
 * code, so a timer resumes with the time it had left: the time the task
 * spent checkpointed does not count (the virtual and profiling timers
 * count the process's CPU time, which restarts from zero anyway).
 *
 * The restart block of a sleep that the freezer interrupted
 * (CKPT_HDR_RESTART_BLOCK) is saved the same way, as the time left.
 *
 * POSIX timers (timer_create()) are in posix_timer.c.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/futex.h>
#include <linux/hrtimer.h>
#include <linux/posix-timers.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/time.h>
#include <linux/timekeeping.h>
#include <linux/unistd.h>

/* as itimer_get_remtime(): an expired but pending timer has 1 us left */
static u64 ckpt_itimer_real(struct hrtimer *timer)
{
	ktime_t rem = __hrtimer_get_remaining(timer, true);

	if (!hrtimer_active(timer))
		return 0;
	return rem <= 0 ? NSEC_PER_USEC : rem;
}

/* as get_cpu_itimer(), under siglock */
static void ckpt_itimer_cpu(struct task_struct *t, unsigned int clock,
			    struct ckpt_itimer *it)
{
	struct cpu_itimer *c = &t->signal->it[clock];
	u64 samples[CPUCLOCK_MAX];

	it->value_ns = c->expires;
	it->interval_ns = c->incr;
	if (!it->value_ns)
		return;
	thread_group_sample_cputime(t, samples);
	if (it->value_ns < samples[clock])
		it->value_ns = TICK_NSEC;	/* about to fire */
	else
		it->value_ns -= samples[clock];
}

int checkpoint_timers(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_itimers h = { };
	unsigned long flags;

	BUILD_BUG_ON(sizeof(h) != 56);
	if (!lock_task_sighand(t, &flags))
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	h.it[ITIMER_REAL].value_ns = ckpt_itimer_real(&t->signal->real_timer);
	h.it[ITIMER_REAL].interval_ns = t->signal->it_real_incr;
	ckpt_itimer_cpu(t, CPUCLOCK_VIRT, &h.it[ITIMER_VIRTUAL]);
	ckpt_itimer_cpu(t, CPUCLOCK_PROF, &h.it[ITIMER_PROF]);
	unlock_task_sighand(t, &flags);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_ITIMERS, sizeof(h));
}

int restore_timers_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_itimers *h = &ctx->rst.itimers;
	static const char *const name[] = { "real", "virtual", "prof" };
	int i, ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_ITIMERS, sizeof(*h));
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(h->it); i++)
		if (h->it[i].value_ns > KTIME_MAX ||
		    h->it[i].interval_ns > KTIME_MAX)
			return ckpt_err(ctx, -EINVAL,
					"itimer %s: value %llu or interval %llu ns out of range",
					name[i], h->it[i].value_ns,
					h->it[i].interval_ns);
	return 0;
}

/*
 * At the end of restart, after the pending signals: the timers start
 * again from now.  An ITIMER_REAL that fired and waits for its SIGALRM to
 * be dequeued (dequeue_signal() arms it again then) has no time left but
 * an interval, which setitimer() cannot express: the interval is set
 * alone, so that the restored pending SIGALRM arms it again the same way.
 */
void restore_timers_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_itimers *h = &ctx->rst.itimers;
	struct ckpt_itimer *real = &h->it[ITIMER_REAL];
	struct itimerspec64 v;
	int i;

	for (i = 0; i < ARRAY_SIZE(h->it); i++) {
		v.it_value = ns_to_timespec64(h->it[i].value_ns);
		v.it_interval = ns_to_timespec64(h->it[i].interval_ns);
		do_setitimer(i, &v, NULL);
	}
	if (!real->value_ns && real->interval_ns) {
		spin_lock_irq(&current->sighand->siglock);
		current->signal->it_real_incr = real->interval_ns;
		spin_unlock_irq(&current->sighand->siglock);
	}
}

/* the clocks of hrtimer_nanosleep(), now */
static int ckpt_clock_now(clockid_t clock, ktime_t *now)
{
	switch (clock) {
	case CLOCK_REALTIME:
		*now = ktime_get_real();
		return 0;
	case CLOCK_MONOTONIC:
		*now = ktime_get();
		return 0;
	case CLOCK_BOOTTIME:
		*now = ktime_get_boottime();
		return 0;
	case CLOCK_TAI:
		*now = ktime_get_clocktai();
		return 0;
	}
	return -EINVAL;
}

static u64 ckpt_time_left(ktime_t deadline, ktime_t now)
{
	return deadline > now ? deadline - now : 0;
}

/*
 * The restart block of a task frozen (cgroup v2 freezer) inside a call
 * that returned -ERESTART_RESTARTBLOCK: a relative nanosleep() or
 * clock_nanosleep(), poll(), or a futex wait with a relative timeout
 * (FUTEX_WAIT, or a wait already resumed through restart_syscall()),
 * saved as the time it had left.  A futex() call with an absolute timeout
 * (FUTEX_WAIT_BITSET) restarts as the original call (exact); any other
 * call is refused.
 */
int checkpoint_restart_block(struct ckpt_ctx *ctx, struct task_struct *t,
			     long ax, unsigned long orig_ax, unsigned long op)
{
	struct ckpt_hdr_restart_block h = { };
	struct restart_block *rb = &t->restart_block;
	struct timespec64 end;
	ktime_t now;

	BUILD_BUG_ON(sizeof(h) != 56);
	if (ax != -ERESTART_RESTARTBLOCK || rb->fn == do_no_restart_syscall)
		goto out;
	if (restart_block_is_nanosleep(rb)) {
		if (ckpt_clock_now(rb->nanosleep.clockid, &now) ||
		    rb->nanosleep.type == TT_COMPAT)
			goto refuse;
		h.kind = CKPT_RESTART_NANOSLEEP;
		h.clockid = rb->nanosleep.clockid;
		h.flags = rb->nanosleep.type;
		h.uaddr = (unsigned long)rb->nanosleep.rmtp;
		h.timeout_ns = ckpt_time_left(rb->nanosleep.expires, now);
		goto out;
	}
	if (restart_block_is_poll(rb)) {
		h.kind = CKPT_RESTART_POLL;
		h.clockid = CLOCK_MONOTONIC;
		h.uaddr = (unsigned long)rb->poll.ufds;
		h.val = rb->poll.nfds;
		h.flags = !!rb->poll.has_timeout;
		end.tv_sec = rb->poll.tv_sec;
		end.tv_nsec = rb->poll.tv_nsec;
		if (h.flags)
			h.timeout_ns = ckpt_time_left(timespec64_to_ktime(end),
						      ktime_get());
		goto out;
	}
#ifdef CONFIG_FUTEX
	/* FUTEX_WAIT_BITSET: an absolute deadline, in the original call */
	if (restart_block_is_futex_wait(rb) && orig_ax == __NR_futex &&
	    (op & FUTEX_CMD_MASK) != FUTEX_WAIT)
		goto out;
	if (restart_block_is_futex_wait(rb)) {
		bool shared, clockrt;

		restart_block_futex_get(rb, &shared, &clockrt);
		h.kind = CKPT_RESTART_FUTEX;
		h.clockid = clockrt ? CLOCK_REALTIME : CLOCK_MONOTONIC;
		ckpt_clock_now(h.clockid, &now);
		h.flags = shared ? CKPT_RESTART_FUTEX_SHARED : 0;
		h.uaddr = (unsigned long)rb->futex.uaddr;
		h.val = rb->futex.val;
		h.bitset = rb->futex.bitset;
		h.timeout_ns = ckpt_time_left(rb->futex.time, now);
		goto out;
	}
#endif
refuse:
	return ckpt_err(ctx, -EOPNOTSUPP,
			"pid %d: frozen in system call %lu with a restart block that cannot be saved",
			ctx->tsk_pid, orig_ax);
out:
	return ckpt_write_obj(ctx, &h, CKPT_HDR_RESTART_BLOCK, sizeof(h));
}

int restore_restart_block_read(struct ckpt_ctx *ctx)
{
	return restore_restart_block_check(ctx, &ctx->rst.restart_block,
					   &ctx->rst.cpu);
}

/* read the RESTART_BLOCK of a task whose CPU record is @cpu, and check it */
int restore_restart_block_check(struct ckpt_ctx *ctx,
				struct ckpt_hdr_restart_block *h,
				struct ckpt_hdr_cpu *cpu)
{
	ktime_t now;
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_RESTART_BLOCK, sizeof(*h));
	if (ret)
		return ret;
	if (h->_padding || h->uaddr2 ||
	    (h->bitset && h->kind != CKPT_RESTART_FUTEX))
		return ckpt_err(ctx, -EINVAL, "restart block: reserved fields set");
	if (h->timeout_ns > KTIME_MAX / 2)
		return ckpt_err(ctx, -EINVAL, "restart block: time left %llu ns out of range",
				h->timeout_ns);
	if (h->kind != CKPT_RESTART_NONE &&
	    ((long)cpu->ax != -ERESTART_RESTARTBLOCK ||
	     (long)cpu->orig_ax < 0))
		return ckpt_err(ctx, -EINVAL,
				"restart block of kind %u for a task not in a restarted call",
				h->kind);
	switch (h->kind) {
	case CKPT_RESTART_NONE:
		if (h->clockid || h->flags || h->uaddr || h->val ||
		    h->timeout_ns)
			break;
		return 0;
	case CKPT_RESTART_NANOSLEEP:
		if (ckpt_clock_now(h->clockid, &now) ||
		    (h->flags != TT_NONE && h->flags != TT_NATIVE) || h->val)
			break;
		return 0;
	case CKPT_RESTART_POLL:
		if (h->clockid != CLOCK_MONOTONIC || h->flags > 1 ||
		    (!h->flags && h->timeout_ns))
			break;
		return 0;
	case CKPT_RESTART_FUTEX:
		if (!IS_ENABLED(CONFIG_FUTEX) ||
		    (h->clockid != CLOCK_MONOTONIC &&
		     h->clockid != CLOCK_REALTIME) ||
		    h->flags & ~CKPT_RESTART_FUTEX_SHARED || !h->bitset ||
		    h->uaddr % sizeof(u32) || h->uaddr >= TASK_SIZE_MAX)
			break;
		return 0;
	}
	return ckpt_err(ctx, -EINVAL, "restart block of kind %u: bad values",
			h->kind);
}

/*
 * After restore_thread(): rebuild the restart block with its deadline
 * the time left from now; the arch code makes the call resume through
 * restart_syscall().
 */
void restore_restart_block_commit(struct ckpt_ctx *ctx)
{
	restore_restart_block_apply(&ctx->rst.restart_block);
}

/* on current: the leader, or a new thread restoring itself */
void restore_restart_block_apply(struct ckpt_hdr_restart_block *h)
{
	struct restart_block *rb = &current->restart_block;
	struct timespec64 end;
	ktime_t now;

	switch (h->kind) {
	case CKPT_RESTART_NANOSLEEP:
		ckpt_clock_now(h->clockid, &now);
		rb->nanosleep.clockid = h->clockid;
		rb->nanosleep.type = h->flags;
		rb->nanosleep.rmtp = u64_to_user_ptr(h->uaddr);
		rb->nanosleep.expires = ktime_add_ns(now, h->timeout_ns);
		restart_block_set_nanosleep(rb);
		break;
	case CKPT_RESTART_POLL:
		rb->poll.ufds = u64_to_user_ptr(h->uaddr);
		rb->poll.nfds = h->val;
		rb->poll.has_timeout = h->flags;
		end = ktime_to_timespec64(ktime_add_ns(ktime_get(), h->timeout_ns));
		rb->poll.tv_sec = end.tv_sec;
		rb->poll.tv_nsec = end.tv_nsec;
		restart_block_set_poll(rb);
		break;
#ifdef CONFIG_FUTEX
	case CKPT_RESTART_FUTEX:
		ckpt_clock_now(h->clockid, &now);
		rb->futex.uaddr = u64_to_user_ptr(h->uaddr);
		rb->futex.val = h->val;
		rb->futex.bitset = h->bitset;
		rb->futex.time = ktime_add_ns(now, h->timeout_ns);
		restart_block_set_futex_wait(rb, h->flags &
					     CKPT_RESTART_FUTEX_SHARED,
					     h->clockid == CLOCK_REALTIME);
		break;
#endif
	}
}
