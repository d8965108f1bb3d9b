// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: checkpoint of a single task.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/cgroup.h>
#include <linux/checkpoint_ctx.h>
#include <linux/freezer.h>
#include <linux/futex.h>
#include <linux/fs.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/version.h>

static int checkpoint_write_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header h = { };
	struct new_utsname uts;
	int ret;

	h.magic = CHECKPOINT_MAGIC_HEAD;
	h.arch_id = CKPT_ARCH_X86_64;
	h.major = LINUX_VERSION_MAJOR;
	h.minor = LINUX_VERSION_PATCHLEVEL;
	h.patch = LINUX_VERSION_SUBLEVEL;
	h.rev = CHECKPOINT_VERSION;
	h.constants.task_comm_len = TASK_COMM_LEN;
	h.constants.uts_release_len = sizeof(uts.release);
	h.constants.uts_version_len = sizeof(uts.version);
	h.constants.uts_machine_len = sizeof(uts.machine);
	h.constants.page_size = PAGE_SIZE;
	h.time = ktime_get_real_seconds();
	h.uflags = ctx->uflags;

	down_read(&uts_sem);
	memcpy(&uts, utsname(), sizeof(uts));
	up_read(&uts_sem);

	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_HEADER, sizeof(h));
	if (!ret)
		ret = ckpt_write_string(ctx, uts.release);
	if (!ret)
		ret = ckpt_write_string(ctx, uts.version);
	if (!ret)
		ret = ckpt_write_string(ctx, uts.machine);
	if (!ret)
		ret = ckpt_arch_write_header(ctx);
	return ret;
}

static int checkpoint_write_tail(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_tail h = { .magic = CHECKPOINT_MAGIC_TAIL };

	h.sum = ctx->csum.sum;
	h.sum2 = ctx->csum.sum2;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_TAIL, sizeof(h));
}

/* error record: header, '\0', message, '\0' */
static void checkpoint_write_error(struct ckpt_ctx *ctx)
{
	size_t len = strlen(ctx->err_msg) + 2;
	char nul = '\0';

	if (ckpt_write_hdr(ctx, CKPT_HDR_ERROR, len) ||
	    ckpt_kwrite(ctx, &nul, 1) ||
	    ckpt_kwrite(ctx, ctx->err_msg, len - 1))
		return;
	ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + len);
}

static int checkpoint_task_struct(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task h = { };

	h.pid = task_pid_vnr(t);
	h.task_flags = t == current ? CKPT_TASK_SELF : 0;
	h.exit_signal = t->exit_signal;
	h.personality = t->personality;
	h.pdeath_signal = t->pdeath_signal;
	h.set_child_tid = (unsigned long)t->set_child_tid;
	h.clear_child_tid = (unsigned long)t->clear_child_tid;
	BUILD_BUG_ON(sizeof(h.comm) != TASK_COMM_LEN);
	get_task_comm(h.comm, t);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_TASK, sizeof(h));
}

static int checkpoint_thread(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_thread h = { };

	spin_lock_irq(&t->sighand->siglock);
	h.blocked = t->blocked.sig[0];
	spin_unlock_irq(&t->sighand->siglock);
	h.sas_ss_sp = t->sas_ss_sp;
	h.sas_ss_size = t->sas_ss_size;
	h.sas_ss_flags = t->sas_ss_flags;
#ifdef CONFIG_RSEQ
	h.rseq = (unsigned long)t->rseq;
	h.rseq_len = t->rseq_len;
	h.rseq_sig = t->rseq_sig;
#endif
#ifdef CONFIG_FUTEX
	h.robust_list = (unsigned long)t->robust_list;
	if (t->robust_list)
		h.robust_list_len = sizeof(*t->robust_list);
#endif
	return ckpt_write_obj(ctx, &h, CKPT_HDR_THREAD, sizeof(h));
}

static int checkpoint_sighand(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_sighand *h;
	size_t len = struct_size(h, action, _NSIG);
	struct k_sigaction *k;
	int i, ret;

	BUILD_BUG_ON(_NSIG != 64 || _NSIG_WORDS != 1);
	h = kzalloc(len, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->nr = _NSIG;
	spin_lock_irq(&t->sighand->siglock);
	for (i = 0; i < _NSIG; i++) {
		k = &t->sighand->action[i];
		h->action[i].handler = (unsigned long)k->sa.sa_handler;
		h->action[i].flags = k->sa.sa_flags;
		h->action[i].restorer = (unsigned long)k->sa.sa_restorer;
		h->action[i].mask = k->sa.sa_mask.sig[0];
	}
	spin_unlock_irq(&t->sighand->siglock);
	ret = ckpt_write_obj(ctx, h, CKPT_HDR_SIGHAND, len);
	kfree(h);
	return ret;
}

static bool checkpoint_task_frozen(struct task_struct *t)
{
	return cgroup_task_frozen(t) || frozen(t);
}

/* find the target and check that it may and can be checkpointed */
static struct task_struct *checkpoint_get_target(struct ckpt_ctx *ctx, pid_t pid)
{
	struct task_struct *t;
	int err;

	if (pid == 0 || pid == task_pid_vnr(current)) {
		t = current;
		get_task_struct(t);
	} else {
		t = find_get_task_by_vpid(pid);
		if (!t) {
			ckpt_err(ctx, -ESRCH, "no task with pid %d", pid);
			return ERR_PTR(-ESRCH);
		}
	}

	err = -EPERM;
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS)) {
		ckpt_err(ctx, err, "no permission to checkpoint pid %d", pid);
		goto err;
	}
	err = -EINVAL;
	if (t->flags & (PF_KTHREAD | PF_EXITING) || !t->mm) {
		ckpt_err(ctx, err, "pid %d is a kernel thread or exiting", pid);
		goto err;
	}
	if (!(ctx->uflags & CHECKPOINT_SUBTREE) && !is_child_reaper(task_pid(t))) {
		ckpt_err(ctx, err,
			 "pid %d is not a container init and CHECKPOINT_SUBTREE is not set",
			 pid);
		goto err;
	}
	err = -EBUSY;
	if (!thread_group_empty(t)) {
		ckpt_err(ctx, err, "pid %d has threads: only single-threaded tasks are supported",
			 pid);
		goto err;
	}
	read_lock(&tasklist_lock);
	if (!list_empty(&t->children)) {
		read_unlock(&tasklist_lock);
		ckpt_err(ctx, err, "pid %d has children: only a single task is supported",
			 pid);
		goto err;
	}
	read_unlock(&tasklist_lock);
	if (t != current) {
		if (!checkpoint_task_frozen(t)) {
			ckpt_err(ctx, err, "pid %d is not frozen (freeze it with the freezer cgroup)",
				 pid);
			goto err;
		}
		if (!wait_task_inactive(t, TASK_ANY)) {
			ckpt_err(ctx, err, "pid %d is running", pid);
			goto err;
		}
	}
	return t;
err:
	put_task_struct(t);
	return ERR_PTR(err);
}

static int checkpoint_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	int ret;

	ret = checkpoint_task_struct(ctx, t);
	if (!ret)
		ret = checkpoint_thread(ctx, t);
	if (!ret)
		ret = ckpt_arch_write_cpu(ctx, t);
	if (!ret)
		ret = checkpoint_sighand(ctx, t);
	if (!ret)
		ret = checkpoint_files(ctx, t);
	if (!ret)
		ret = checkpoint_mm(ctx, t);
	return ret;
}

static atomic_t ckpt_next_id = ATOMIC_INIT(0);

long do_checkpoint(struct ckpt_ctx *ctx, pid_t pid)
{
	struct task_struct *t;
	long ret;

	t = checkpoint_get_target(ctx, pid);
	if (IS_ERR(t)) {
		checkpoint_write_error(ctx);
		return PTR_ERR(t);
	}
	ctx->tsk = t;

	ret = checkpoint_write_header(ctx);
	if (!ret)
		ret = checkpoint_task(ctx, t);
	if (!ret)
		ret = checkpoint_write_tail(ctx);
	if (ret) {
		if (!ctx->err)
			ckpt_err(ctx, ret, "failed after %llu bytes", ctx->total);
		if (ret != -EINTR && ret != -EPIPE && ret != -EIO &&
		    ret != -ENOSPC)
			checkpoint_write_error(ctx);
	} else {
		ret = atomic_inc_return(&ckpt_next_id) & INT_MAX;
		if (!ret)
			ret = atomic_inc_return(&ckpt_next_id) & INT_MAX;
		ckpt_msg(ctx, "checkpoint: pid %d: %llu bytes, id %ld",
			 task_pid_vnr(t), ctx->total, ret);
	}
	put_task_struct(t);
	return ret;
}
