// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: pending signals (CKPT_HDR_SIGPENDING): the private
 * and the shared queue, each signal with its siginfo.
 *
 * A pending bit without a queued siginfo (a signal sent while the queue
 * was full, or SIGKILL) is saved as the siginfo that dequeueing it gives:
 * SI_USER from pid 0, uid 0.  Restart queues every signal again on the
 * restarted task, as rt_tgsigqueueinfo() to itself would (any si_code is
 * allowed on oneself), after the blocked mask and the handlers are set;
 * the caller's own pending signals are discarded, a fatal one excepted.
 * The signal of a POSIX timer is its timer's, saved and queued again
 * with it (posix_timer.c), on the thread it signals.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>

/* a sanity bound on the records of one image: far above RLIMIT_SIGPENDING */
#define CKPT_SIGPENDING_MAX	65536

struct ckpt_sigq_walk {
	struct ckpt_hdr_sigpending *h;
	unsigned int max;		/* entries allocated */
	bool overflow;
};

static void ckpt_sig_add(struct ckpt_sigq_walk *w, u32 queue,
			 const kernel_siginfo_t *info, int sig)
{
	struct ckpt_siginfo *e;
	siginfo_t *si;

	if (w->h->nr >= w->max) {
		w->overflow = true;
		return;
	}
	e = &w->h->signals[w->h->nr++];
	e->queue = queue;
	e->signo = sig;
	BUILD_BUG_ON(sizeof(e->info) != sizeof(siginfo_t));
	si = (siginfo_t *)e->info;
	if (info) {
		copy_siginfo_to_external(si, info);
	} else {
		memset(si, 0, sizeof(*si));
		si->si_signo = sig;
		si->si_code = SI_USER;
	}
}

/* the sigqueue of a POSIX timer: saved with its timer (posix_timer.c) */
static bool ckpt_sig_is_timer(struct sigqueue *q)
{
	return (q->flags & SIGQUEUE_PREALLOC) && q->info.si_code == SI_TIMER;
}

/*
 * One queue, under siglock.  A signal pending only through a timer's
 * sigqueue is left out of @mask: restart queues it with the timer.
 */
static void ckpt_sig_queue(struct ckpt_sigq_walk *w, struct sigpending *p,
			   u32 queue, __u64 *mask)
{
	sigset_t seen, timer;
	struct sigqueue *q;
	int sig;

	sigemptyset(&seen);
	sigemptyset(&timer);
	list_for_each_entry(q, &p->list, list) {
		sig = q->info.si_signo;
		if (!valid_signal(sig) || !sig || !sigismember(&p->signal, sig))
			continue;	/* not expected: the kernel keeps them so */
		if (ckpt_sig_is_timer(q)) {
			sigaddset(&timer, sig);
			continue;
		}
		ckpt_sig_add(w, queue, &q->info, sig);
		sigaddset(&seen, sig);
	}
	for (sig = 1; sig <= _NSIG; sig++) {
		if (!sigismember(&p->signal, sig) || sigismember(&seen, sig))
			continue;
		if (sigismember(&timer, sig))
			*mask &= ~BIT_ULL(sig - 1);
		else
			ckpt_sig_add(w, queue, NULL, sig);
	}
}

static unsigned int ckpt_sig_count(struct sigpending *p)
{
	struct sigqueue *q;
	unsigned int n = 0;

	list_for_each_entry(q, &p->list, list)
		n++;
	return n + _NSIG;
}

static int checkpoint_sigpending_queues(struct ckpt_ctx *ctx,
					struct task_struct *t, bool shared);

int checkpoint_sigpending(struct ckpt_ctx *ctx, struct task_struct *t)
{
	return checkpoint_sigpending_queues(ctx, t, true);
}

/* a thread other than the leader: its private queue (the shared one is saved once) */
int checkpoint_sigpending_private(struct ckpt_ctx *ctx, struct task_struct *t)
{
	return checkpoint_sigpending_queues(ctx, t, false);
}

static int checkpoint_sigpending_queues(struct ckpt_ctx *ctx,
					struct task_struct *t, bool shared)
{
	struct ckpt_sigq_walk w = { };
	unsigned long flags;
	unsigned int n;
	size_t len;
	int ret;

	BUILD_BUG_ON(sizeof(struct ckpt_hdr_sigpending) != 32);
	BUILD_BUG_ON(sizeof(struct ckpt_siginfo) != 136);
	if (!lock_task_sighand(t, &flags))
		goto exited;
	n = ckpt_sig_count(&t->pending);
	if (shared)
		n += ckpt_sig_count(&t->signal->shared_pending);
	unlock_task_sighand(t, &flags);
	/* the target is frozen: the queues cannot grow but by a sender */
	for (;;) {
		if (n > CKPT_SIGPENDING_MAX)
			return ckpt_err(ctx, -E2BIG, "pid %d: more than %u pending signals",
					ctx->tsk_pid, CKPT_SIGPENDING_MAX);
		len = struct_size(w.h, signals, n);
		w.h = kvzalloc(len, GFP_KERNEL);
		if (!w.h)
			return -ENOMEM;
		w.max = n;
		if (!lock_task_sighand(t, &flags)) {
			kvfree(w.h);
			goto exited;
		}
		w.h->private_mask = t->pending.signal.sig[0];
		ckpt_sig_queue(&w, &t->pending, CKPT_SIGQ_PRIVATE,
			       &w.h->private_mask);
		if (shared) {
			w.h->shared_mask = t->signal->shared_pending.signal.sig[0];
			ckpt_sig_queue(&w, &t->signal->shared_pending,
				       CKPT_SIGQ_SHARED, &w.h->shared_mask);
		}
		unlock_task_sighand(t, &flags);
		if (!w.overflow)
			break;
		/* signals were sent meanwhile: count again */
		kvfree(w.h);
		n = w.max * 2;
		w.overflow = false;
	}
	len = struct_size(w.h, signals, w.h->nr);
	ret = ckpt_write_obj(ctx, w.h, CKPT_HDR_SIGPENDING, len);
	kvfree(w.h);
	return ret;
exited:
	return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
			ctx->tsk_pid);
}

/* read the SIGPENDING record and check it: hostile input */
static int restore_sigpending_read_into(struct ckpt_ctx *ctx,
					struct ckpt_hdr_sigpending **ph);

int restore_sigpending_read(struct ckpt_ctx *ctx)
{
	return restore_sigpending_read_into(ctx, &ctx->rst.sigpending);
}

/* the SIGPENDING record of a thread other than the leader: private only */
int restore_sigpending_read_private(struct ckpt_ctx *ctx,
				    struct ckpt_hdr_sigpending **ph)
{
	int ret = restore_sigpending_read_into(ctx, ph);

	if (!ret && (*ph)->shared_mask)
		ret = ckpt_err(ctx, -EINVAL,
			       "SIGPENDING of a thread with shared signals %#llx",
			       (*ph)->shared_mask);
	return ret;
}

static int restore_sigpending_read_into(struct ckpt_ctx *ctx,
					struct ckpt_hdr_sigpending **ph)
{
	struct ckpt_hdr_sigpending *h;
	sigset_t queued[2];
	struct ckpt_siginfo *e;
	siginfo_t *si;
	u64 mask;
	u32 i;

	h = ckpt_read_obj_var(ctx, CKPT_HDR_SIGPENDING, sizeof(*h),
			      struct_size(h, signals, CKPT_SIGPENDING_MAX));
	if (IS_ERR(h))
		return PTR_ERR(h);
	*ph = h;
	if (h->nr > CKPT_SIGPENDING_MAX ||
	    h->h.len != struct_size(h, signals, h->nr))
		return ckpt_err(ctx, -EINVAL,
				"SIGPENDING record of %u bytes for %u signals",
				h->h.len, h->nr);
	sigemptyset(&queued[0]);
	sigemptyset(&queued[1]);
	for (i = 0; i < h->nr; i++) {
		e = &h->signals[i];
		si = (siginfo_t *)e->info;
		if (e->queue > CKPT_SIGQ_SHARED || !e->signo ||
		    !valid_signal(e->signo))
			return ckpt_err(ctx, -EINVAL,
					"pending signal %u: bad signal %u or queue %u",
					i, e->signo, e->queue);
		mask = e->queue == CKPT_SIGQ_SHARED ? h->shared_mask :
		       h->private_mask;
		if (!(mask & BIT_ULL(e->signo - 1)))
			return ckpt_err(ctx, -EINVAL,
					"pending signal %u: signal %u not in its queue's mask",
					i, e->signo);
		/* one instance of a standard signal per queue */
		if (e->signo < SIGRTMIN && sigismember(&queued[e->queue], e->signo))
			return ckpt_err(ctx, -EINVAL,
					"pending signal %u: signal %u queued twice",
					i, e->signo);
		sigaddset(&queued[e->queue], e->signo);
		if (si->si_signo != e->signo)
			return ckpt_err(ctx, -EINVAL,
					"pending signal %u: siginfo of signal %d, not %u",
					i, si->si_signo, e->signo);
		/* the kernel's siginfo is all there is: the rest is zero */
		if (memchr_inv(e->info + sizeof(kernel_siginfo_t), 0,
			       sizeof(e->info) - sizeof(kernel_siginfo_t)))
			return ckpt_err(ctx, -EINVAL,
					"pending signal %u: siginfo beyond the kernel's",
					i);
	}
	/* every pending bit has its siginfo */
	if (h->private_mask != queued[0].sig[0] ||
	    h->shared_mask != queued[1].sig[0])
		return ckpt_err(ctx, -EINVAL,
				"pending masks %#llx/%#llx without their siginfo",
				h->private_mask, h->shared_mask);
	return 0;
}

/*
 * At the end of restart, on the restarted task (after its blocked mask,
 * handlers and credentials).  Fails only if the signal queue is full
 * (RLIMIT_SIGPENDING): the caller then kills the task.
 */
int restore_sigpending_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_sigpending *h = ctx->rst.sigpending;
	struct task_struct *t = current;
	kernel_siginfo_t info;
	struct ckpt_siginfo *e;
	int ret = 0;
	u32 i;

	spin_lock_irq(&t->sighand->siglock);
	if (!fatal_signal_pending(t)) {
		flush_sigqueue(&t->pending);
		flush_sigqueue(&t->signal->shared_pending);
	}
	for (i = 0; h && i < h->nr && !ret; i++) {
		e = &h->signals[i];
		memcpy(&info, e->info, sizeof(info));
		ret = send_signal_locked(e->signo, &info, t,
					 e->queue == CKPT_SIGQ_SHARED ?
					 PIDTYPE_TGID : PIDTYPE_PID);
	}
	recalc_sigpending();
	spin_unlock_irq(&t->sighand->siglock);
	if (ret)
		ckpt_err(ctx, ret, "pending signal %u (signal %u) could not be queued",
			 i - 1, h->signals[i - 1].signo);
	return ret;
}

/*
 * A new thread, on itself, in its kernel function: its private queue is
 * empty (copy_process()); its own mask is set.  Fails only if the queue is
 * full (RLIMIT_SIGPENDING).
 */
int restore_sigpending_private(struct ckpt_hdr_sigpending *h)
{
	struct task_struct *t = current;
	kernel_siginfo_t info;
	struct ckpt_siginfo *e;
	int ret = 0;
	u32 i;

	spin_lock_irq(&t->sighand->siglock);
	for (i = 0; h && i < h->nr && !ret; i++) {
		e = &h->signals[i];
		memcpy(&info, e->info, sizeof(info));
		ret = send_signal_locked(e->signo, &info, t, PIDTYPE_PID);
	}
	recalc_sigpending();
	spin_unlock_irq(&t->sighand->siglock);
	return ret;
}
