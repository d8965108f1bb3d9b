// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: scheduling (CKPT_HDR_SCHED): policy, nice, real-time
 * priority, SCHED_RESET_ON_FORK, CPU affinity and I/O priority.
 *
 * Restart sets them with sched_setattr() and sched_setaffinity(), the
 * checks of the system calls included; what the caller may not set
 * (a nice value below what RLIMIT_NICE allows, a real-time policy without
 * CAP_SYS_NICE or RLIMIT_RTPRIO) is refused with EPERM before anything
 * changes.  The affinity is clamped to the CPUs that exist here, and the
 * log says so.  SCHED_DEADLINE is refused at checkpoint (EOPNOTSUPP): its
 * admission control may refuse it on the target.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/cpumask.h>
#include <linux/iocontext.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>
#include <linux/sched/rt.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <uapi/linux/sched/types.h>

#define CKPT_SCHED_CPUS	(CKPT_SCHED_CPU_WORDS * 64)

int checkpoint_sched(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_sched h = { };
	unsigned long flags;
	unsigned int cpu;

	BUILD_BUG_ON(sizeof(h) != 160);
	raw_spin_lock_irqsave(&t->pi_lock, flags);
	h.policy = t->policy;
	h.nice = task_nice(t);
	h.rt_priority = t->rt_priority;
	if (t->sched_reset_on_fork)
		h.flags |= CKPT_SCHED_RESET_ON_FORK;
	for_each_cpu(cpu, &t->cpus_mask) {
		if (cpu >= CKPT_SCHED_CPUS)
			break;
		h.cpus[cpu / 64] |= 1ULL << (cpu % 64);
	}
	raw_spin_unlock_irqrestore(&t->pi_lock, flags);
	/* as set: the class "none" follows the nice value */
	task_lock(t);
	h.ioprio = t->io_context ? t->io_context->ioprio : IOPRIO_DEFAULT;
	task_unlock(t);
	if (cpu < nr_cpu_ids && cpu >= CKPT_SCHED_CPUS)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: affinity to CPU %u: only CPUs below %u are supported",
				ctx->tsk_pid, cpu, CKPT_SCHED_CPUS);
	if (h.policy == SCHED_DEADLINE)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: SCHED_DEADLINE: not supported",
				ctx->tsk_pid);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_SCHED, sizeof(h));
}

/* as __sched_setscheduler() checks a caller without CAP_SYS_NICE */
static int restore_sched_allowed(struct ckpt_ctx *ctx, struct ckpt_hdr_sched *h)
{
	struct task_struct *t = current;
	unsigned long rtprio = ctx->rst.signal.rlim[RLIMIT_RTPRIO].cur;
	unsigned long rlim_nice = ctx->rst.signal.rlim[RLIMIT_NICE].cur;

	if (capable(CAP_SYS_NICE))
		return 0;
	/* the image's limits are the restored task's, set before this */
	if ((h->policy == SCHED_NORMAL || h->policy == SCHED_BATCH) &&
	    h->nice < task_nice(t) &&
	    nice_to_rlimit(h->nice) > rlim_nice)
		return ckpt_err(ctx, -EPERM,
				"nice %d: below the caller's %d beyond RLIMIT_NICE %lu (needs CAP_SYS_NICE)",
				h->nice, task_nice(t), rlim_nice);
	if ((h->policy == SCHED_FIFO || h->policy == SCHED_RR) &&
	    ((h->policy != t->policy && !rtprio) ||
	     (h->rt_priority > t->rt_priority && h->rt_priority > rtprio)))
		return ckpt_err(ctx, -EPERM,
				"real-time policy %u priority %u: RLIMIT_RTPRIO is %lu (needs CAP_SYS_NICE)",
				h->policy, h->rt_priority, rtprio);
	if (t->policy == SCHED_IDLE && h->policy != SCHED_IDLE &&
	    nice_to_rlimit(task_nice(t)) > rlim_nice)
		return ckpt_err(ctx, -EPERM,
				"policy %u: the caller is SCHED_IDLE (needs CAP_SYS_NICE)",
				h->policy);
	if (t->sched_reset_on_fork && !(h->flags & CKPT_SCHED_RESET_ON_FORK))
		return ckpt_err(ctx, -EPERM,
				"SCHED_RESET_ON_FORK: set on the caller, clear in the image (needs CAP_SYS_NICE)");
	return 0;
}

/* after the SIGNAL record: the rlimits that apply are known */
int restore_sched_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_sched *h = &ctx->rst.sched;
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_SCHED, sizeof(*h));
	if (ret)
		return ret;
	if (h->flags & ~CKPT_SCHED_RESET_ON_FORK || h->_padding)
		return ckpt_err(ctx, -EINVAL, "sched: bad flags %#x", h->flags);
	/* as ioprio_set() checks it: the real-time class needs privilege */
	if (h->ioprio != IOPRIO_DEFAULT) {
		ret = ioprio_check_cap(h->ioprio);
		if (ret)
			return ckpt_err(ctx, ret, "I/O priority %#x: refused",
					h->ioprio);
	}
	switch (h->policy) {
	case SCHED_NORMAL:
	case SCHED_BATCH:
	case SCHED_IDLE:
		if (h->rt_priority || h->nice < MIN_NICE || h->nice > MAX_NICE)
			break;
		return restore_sched_allowed(ctx, h);
	case SCHED_FIFO:
	case SCHED_RR:
		if (h->rt_priority < 1 || h->rt_priority > MAX_RT_PRIO - 1 ||
		    h->nice < MIN_NICE || h->nice > MAX_NICE)
			break;
		return restore_sched_allowed(ctx, h);
	}
	return ckpt_err(ctx, -EINVAL, "sched: policy %u priority %u nice %d: not valid",
			h->policy, h->rt_priority, h->nice);
}

/*
 * At the end of restart, after the rlimits and credentials.  The checks
 * were made; only another task changing ours can make them fail now
 * (then the caller kills the task).
 */
int restore_sched_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_sched *h = &ctx->rst.sched;
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = h->policy,
		.sched_priority = h->rt_priority,
		.sched_nice = h->nice,
	};
	cpumask_var_t mask;
	unsigned int cpu, missing = 0;
	int ret, prio;

	if (h->flags & CKPT_SCHED_RESET_ON_FORK)
		attr.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
	task_lock(current);
	prio = current->io_context ? current->io_context->ioprio : IOPRIO_DEFAULT;
	task_unlock(current);
	if (prio != h->ioprio) {
		ret = set_task_ioprio(current, h->ioprio);
		if (ret)
			return ckpt_err(ctx, ret, "I/O priority %#x could not be set",
					h->ioprio);
	}
	ret = sched_setattr(current, &attr);
	if (ret)
		return ckpt_err(ctx, ret, "sched: policy %u could not be set",
				h->policy);
	/* the nice value of a real-time task is kept for its return to CFS */
	if (h->policy == SCHED_FIFO || h->policy == SCHED_RR)
		set_user_nice(current, h->nice);

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	for (cpu = 0; cpu < CKPT_SCHED_CPUS; cpu++) {
		if (!(h->cpus[cpu / 64] & (1ULL << (cpu % 64))))
			continue;
		if (cpu < nr_cpu_ids && cpu_possible(cpu))
			cpumask_set_cpu(cpu, mask);
		else
			missing++;
	}
	if (missing)
		ckpt_msg(ctx, "restart: affinity: %u CPUs of the image do not exist here, left out",
			 missing);
	if (cpumask_empty(mask)) {
		ckpt_msg(ctx, "restart: affinity: no CPU of the image exists here, all allowed");
		cpumask_copy(mask, cpu_possible_mask);
	}
	ret = sched_setaffinity(task_pid_vnr(current), mask);
	free_cpumask_var(mask);
	if (ret)
		return ckpt_err(ctx, ret, "sched: affinity could not be set");
	return 0;
}
