// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: POSIX timers (timer_create(), CKPT_HDR_POSIX_TIMERS).
 *
 * Every timer of the process on CLOCK_REALTIME, CLOCK_MONOTONIC,
 * CLOCK_BOOTTIME or CLOCK_TAI with its id, clock, notification
 * (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID to any thread
 * of the process: the leader, or another thread by its tid, which restart
 * keeps), signal and value, interval, the time it had left, its overrun
 * counts and its signal when that is pending.  Restart deletes the
 * caller's own timers (as exec does) and creates each again with its id
 * (posix_timer_create_id()), after the other threads are made, then the
 * id counter of the next timer_create().
 *
 * Time while checkpointed: as for the interval timers, a timer armed
 * relative to now resumes with the time it had left; a CLOCK_REALTIME
 * timer armed with TIMER_ABSTIME keeps its deadline (the kernel runs it
 * on the realtime clock base).  On the other clocks the kernel keeps no
 * trace of TIMER_ABSTIME: such a timer is saved as the time it had left.
 * A periodic timer whose signal is pending waits, as in the kernel, for
 * that signal to be taken to be rearmed; its expiry is kept as the time
 * since it fired, so the overruns counted then leave the checkpointed
 * time out.  The pending signal of a timer is the timer's own
 * (preallocated) sigqueue: signal.c leaves it out of SIGPENDING (of the
 * leader or of the thread it was sent to) and it is queued again here,
 * after the other pending signals, on the thread the timer signals.
 *
 * Timers on CPU-time clocks (CLOCK_PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID,
 * clock_getcpuclockid()) and alarm clocks are refused at checkpoint with
 * EOPNOTSUPP naming the timer.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/hrtimer.h>
#include <linux/posix-timers.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/time.h>

#include "../time/posix-timers.h"

/* a sanity bound: each timer holds a sigqueue of RLIMIT_SIGPENDING */
#define CKPT_PTIMERS_MAX	65536

static bool ckpt_ptimer_clock_ok(clockid_t clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
	       clock == CLOCK_BOOTTIME || clock == CLOCK_TAI;
}

static bool ckpt_ptimer_notify_ok(int notify)
{
	return notify == SIGEV_SIGNAL || notify == SIGEV_NONE ||
	       notify == SIGEV_THREAD ||
	       notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID);
}

/*
 * One timer, under its it_lock (and RCU, which keeps it allocated): NULL,
 * or what makes it impossible to save.
 */
static const char *ckpt_ptimer_save(struct ckpt_ctx *ctx,
				    struct task_struct *t,
				    struct k_itimer *timr,
				    struct ckpt_posix_timer *e)
{
	struct hrtimer *hr = &timr->it.real.timer;
	struct sigqueue *q = timr->sigq;
	unsigned long flags;
	unsigned int i;
	struct pid *pid;

	e->id = timr->it_id;
	e->clockid = timr->it_clock;
	if (timr->it_clock < 0)
		return "on a CPU-time clock (CLOCK_*_CPUTIME_ID, clock_getcpuclockid())";
	if (!ckpt_ptimer_clock_ok(timr->it_clock))
		return "on an alarm clock";
	e->notify = timr->it_sigev_notify;
	if (!ckpt_ptimer_notify_ok(e->notify))
		return "with an unknown notification";
	pid = e->notify & SIGEV_THREAD_ID ? task_pid(t) : task_tgid(t);
	/* another thread: one of those checkpoint_get_threads() pinned */
	for (i = 0; (e->notify & SIGEV_THREAD_ID) && timr->it_pid != pid &&
	     i < ctx->nr_threads; i++) {
		if (task_pid(ctx->threads[i].task) == timr->it_pid) {
			e->tid = ctx->threads[i].tid;
			pid = timr->it_pid;
		}
	}
	if (timr->it_pid != pid)
		return "signalling a thread that exited";
	e->signo = q->info.si_signo;
	e->value = (unsigned long)q->info.si_value.sival_ptr;
	e->interval_ns = timr->it_interval;
	e->overrun = timr->it_overrun;
	e->overrun_last = timr->it_overrun_last;
	if (timr->it_active)
		e->flags |= CKPT_PTIMER_ACTIVE;
	/* a relative CLOCK_REALTIME timer runs on the monotonic base */
	if (timr->it_clock == CLOCK_REALTIME &&
	    hr->base->clockid == CLOCK_REALTIME) {
		e->flags |= CKPT_PTIMER_ABSTIME;
		e->expires_ns = hrtimer_get_expires(hr);
	} else {
		e->expires_ns = ktime_sub(hrtimer_get_expires(hr),
					  hr->base->get_time());
	}
	if (!lock_task_sighand(t, &flags))
		return NULL;	/* exited: the target check says so */
	if (!list_empty(&q->list)) {
		e->flags |= CKPT_PTIMER_SIGQUEUED;
		e->sig_overrun = max(q->info.si_overrun, 0);
		if (timr->it_interval &&
		    (timr->it_requeue_pending & REQUEUE_PENDING) &&
		    q->info.si_sys_private == timr->it_requeue_pending)
			e->flags |= CKPT_PTIMER_REQUEUE;
	}
	unlock_task_sighand(t, &flags);
	return NULL;
}

static int ckpt_ptimer_cmp(const void *a, const void *b)
{
	const struct ckpt_posix_timer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* the timers of @t, into @h (room for @n); -EAGAIN if the list grew */
static int ckpt_ptimers_collect(struct ckpt_ctx *ctx, struct task_struct *t,
				struct ckpt_hdr_posix_timers *h,
				struct k_itimer **timers, unsigned int n,
				const char **why)
{
	struct k_itimer *timr;
	unsigned long flags;
	unsigned int i = 0;
	int ret = 0;

	rcu_read_lock();
	if (!lock_task_sighand(t, &flags)) {
		rcu_read_unlock();
		return -ESRCH;
	}
	list_for_each_entry(timr, &t->signal->posix_timers, list) {
		if (i == n) {
			ret = -EAGAIN;
			break;
		}
		timers[i++] = timr;
	}
	h->next_id = t->signal->next_posix_timer_id;
	unlock_task_sighand(t, &flags);
	h->nr = i;
	/* it_lock before siglock, as when a timer fires */
	for (i = 0; !ret && i < h->nr && !*why; i++) {
		spin_lock_irqsave(&timers[i]->it_lock, flags);
		*why = ckpt_ptimer_save(ctx, t, timers[i], &h->timers[i]);
		spin_unlock_irqrestore(&timers[i]->it_lock, flags);
	}
	rcu_read_unlock();
	if (*why)
		h->nr = i;	/* the refused one is the last */
	return ret;
}

int checkpoint_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_posix_timers *h;
	struct k_itimer *timr, **timers;
	const char *why = NULL;
	unsigned long flags;
	unsigned int n = 0;
	size_t len;
	int ret;

	BUILD_BUG_ON(sizeof(struct ckpt_posix_timer) != 72);
	BUILD_BUG_ON(sizeof(*h) != 16);
	if (!lock_task_sighand(t, &flags))
		goto exited;
	list_for_each_entry(timr, &t->signal->posix_timers, list)
		n++;
	unlock_task_sighand(t, &flags);
	if (n > CKPT_PTIMERS_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: more than %u POSIX timers: not supported",
				ctx->tsk_pid, CKPT_PTIMERS_MAX);
	h = kvzalloc(struct_size(h, timers, n), GFP_KERNEL);
	timers = kvcalloc(n ?: 1, sizeof(*timers), GFP_KERNEL);
	ret = -ENOMEM;
	if (!h || !timers)
		goto out;
	ret = ckpt_ptimers_collect(ctx, t, h, timers, n, &why);
	if (ret == -ESRCH) {
		ret = ckpt_err(ctx, ret, "pid %d exited during checkpoint",
			       ctx->tsk_pid);
	} else if (ret) {
		ret = ckpt_err(ctx, ret, "pid %d made a POSIX timer during checkpoint",
			       ctx->tsk_pid);
	} else if (why) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "pid %d: POSIX timer %d (timer_create) %s, clock %d: not supported",
			       ctx->tsk_pid, h->timers[h->nr - 1].id, why,
			       h->timers[h->nr - 1].clockid);
	} else {
		sort(h->timers, h->nr, sizeof(h->timers[0]), ckpt_ptimer_cmp,
		     NULL);
		len = struct_size(h, timers, h->nr);
		ret = ckpt_write_obj(ctx, h, CKPT_HDR_POSIX_TIMERS, len);
	}
out:
	kvfree(timers);
	kvfree(h);
	return ret;
exited:
	return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
			ctx->tsk_pid);
}

/* one timer of the image: hostile input */
static const char *ckpt_ptimer_check(const struct ckpt_posix_timer *e)
{
	bool none = e->notify == SIGEV_NONE;

	if (e->id < 0)
		return "bad id";
	if (!ckpt_ptimer_clock_ok(e->clockid))
		return "clock not restorable";
	if (!ckpt_ptimer_notify_ok(e->notify))
		return "bad notification";
	if (!none && (e->signo <= 0 || e->signo > SIGRTMAX))
		return "bad signal";
	if (e->flags & ~CKPT_PTIMER_FLAGS || e->_reserved)
		return "bad flags";
	if (e->tid < 0 || (e->tid && !(e->notify & SIGEV_THREAD_ID)))
		return "bad thread";
	if ((e->flags & CKPT_PTIMER_ABSTIME) && e->clockid != CLOCK_REALTIME)
		return "TIMER_ABSTIME on a clock other than CLOCK_REALTIME";
	if (none && (e->flags & (CKPT_PTIMER_ACTIVE | CKPT_PTIMER_SIGQUEUED)))
		return "SIGEV_NONE timer armed or with a signal";
	if ((e->flags & CKPT_PTIMER_REQUEUE) &&
	    (!(e->flags & CKPT_PTIMER_SIGQUEUED) ||
	     (e->flags & CKPT_PTIMER_ACTIVE) || !e->interval_ns))
		return "rearm pending without its signal or interval";
	if (e->sig_overrun < 0 ||
	    (e->sig_overrun && !(e->flags & CKPT_PTIMER_SIGQUEUED)))
		return "bad overrun of the signal";
	if (e->interval_ns > KTIME_MAX)
		return "interval out of range";
	if ((e->flags & CKPT_PTIMER_ABSTIME) ?
	    e->expires_ns < 0 || e->expires_ns > KTIME_MAX :
	    e->expires_ns < -KTIME_MAX || e->expires_ns > KTIME_MAX)
		return "expiry out of range";
	if (e->overrun < -1 || e->overrun > KTIME_MAX ||
	    e->overrun_last < -1 || e->overrun_last > KTIME_MAX)
		return "overrun out of range";
	return NULL;
}

int restore_posix_timers_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_posix_timers *h;
	const char *why;
	u32 i;

	h = ckpt_read_obj_var(ctx, CKPT_HDR_POSIX_TIMERS, sizeof(*h),
			      struct_size(h, timers, CKPT_PTIMERS_MAX));
	if (IS_ERR(h))
		return PTR_ERR(h);
	ctx->rst.ptimers = h;
	if (h->nr > CKPT_PTIMERS_MAX ||
	    h->h.len != struct_size(h, timers, h->nr))
		return ckpt_err(ctx, -EINVAL,
				"POSIX_TIMERS record of %u bytes for %u timers",
				h->h.len, h->nr);
	if (h->next_id < 0)
		return ckpt_err(ctx, -EINVAL, "POSIX timers: bad next id %d",
				h->next_id);
	for (i = 0; i < h->nr; i++) {
		why = ckpt_ptimer_check(&h->timers[i]);
		if (!why && i && h->timers[i].id <= h->timers[i - 1].id)
			why = "ids not increasing";
		if (why)
			return ckpt_err(ctx, -EINVAL, "POSIX timer %d: %s",
					h->timers[i].id, why);
	}
	return 0;
}

/*
 * After the THREADS record: the thread a SIGEV_THREAD_ID timer signals is
 * one the image makes (hostile input).
 */
int restore_posix_timers_targets(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_posix_timers *h = ctx->rst.ptimers;
	const struct ckpt_posix_timer *e;
	unsigned int j;
	u32 i;

	for (i = 0; h && i < h->nr; i++) {
		e = &h->timers[i];
		if (!e->tid)
			continue;
		for (j = 0; j < ctx->rst.nr_threads; j++)
			if (ctx->rst.threads[j].task.tid == e->tid)
				break;
		if (j == ctx->rst.nr_threads)
			return ckpt_err(ctx, -EINVAL,
					"POSIX timer %d: signals thread %d, not a thread of the image",
					e->id, e->tid);
	}
	return 0;
}

/* arm it as it was, under its it_lock */
static void ckpt_ptimer_set(struct k_itimer *timr,
			    const struct ckpt_posix_timer *e)
{
	bool active = e->flags & CKPT_PTIMER_ACTIVE;
	bool abs = e->flags & CKPT_PTIMER_ABSTIME;
	struct hrtimer *hr = &timr->it.real.timer;
	struct sigqueue *q = timr->sigq;
	int si_private = 0;

	timr->it_interval = e->interval_ns;
	/*
	 * sigev_none set: only the expiry, the hrtimer is not started.  The
	 * relative expiry of a timer that fired is in the past, which
	 * timer_arm() (ktime_add_safe()) cannot take: arm it at now, then
	 * move the expiry back; an active one fires at once.
	 */
	timr->kclock->timer_arm(timr, abs ? e->expires_ns :
				max_t(s64, e->expires_ns, 0), abs, !active);
	if (!abs && !active && e->expires_ns < 0)
		hrtimer_set_expires(hr, ktime_add(hrtimer_get_expires(hr),
						  e->expires_ns));
	timr->it_active = active;
	timr->it_overrun = e->overrun;
	timr->it_overrun_last = e->overrun_last;
	if (!(e->flags & CKPT_PTIMER_SIGQUEUED))
		return;
	/* posixtimer_rearm() rearms it iff the two match */
	if (e->flags & CKPT_PTIMER_REQUEUE)
		si_private = REQUEUE_PENDING;
	else
		si_private = 0;
	timr->it_requeue_pending = si_private ?: 2;
	if (posix_timer_event(timr, si_private))
		return;	/* ignored now: not pending */
	spin_lock(&current->sighand->siglock);
	q->info.si_overrun = e->sig_overrun;
	spin_unlock(&current->sighand->siglock);
}

/*
 * At the end of restart, after the pending signals, on the restarted task
 * (its credentials: the sigqueues are charged to its user).  Fails if a
 * timer cannot be made (ENOMEM, or EAGAIN at RLIMIT_SIGPENDING): the
 * caller then kills the task.
 */
int restore_posix_timers_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_posix_timers *h = ctx->rst.ptimers;
	const struct ckpt_posix_timer *e;
	struct k_itimer *timr;
	struct sigevent ev;
	u32 i;

	exit_itimers(current);
	for (i = 0; h && i < h->nr; i++) {
		e = &h->timers[i];
		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = e->notify;
		ev.sigev_signo = e->signo;
		ev.sigev_value.sival_ptr = u64_to_user_ptr(e->value);
		if (e->notify & SIGEV_THREAD_ID)
			ev.sigev_notify_thread_id = e->tid ?: task_pid_vnr(current);
		timr = posix_timer_create_id(e->clockid, &ev, e->id);
		if (IS_ERR(timr))
			return ckpt_err(ctx, PTR_ERR(timr),
					"POSIX timer %d could not be made", e->id);
		spin_lock_irq(&timr->it_lock);
		ckpt_ptimer_set(timr, e);
		spin_unlock_irq(&timr->it_lock);
	}
	if (h)
		WRITE_ONCE(current->signal->next_posix_timer_id, h->next_id);
	return 0;
}
