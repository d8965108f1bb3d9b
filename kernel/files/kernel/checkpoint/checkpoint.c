// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: checkpoint of a single task.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/cgroup.h>
#include <linux/fdtable.h>
#include <linux/checkpoint_ctx.h>
#include <linux/freezer.h>
#include <linux/futex.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <asm/syscall.h>
#include <linux/version.h>

int checkpoint_write_header(struct ckpt_ctx *ctx)
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

int checkpoint_write_tail(struct ckpt_ctx *ctx)
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

	/* only the message: nothing of the target */
	ctx->writing_error = true;
	if (!ckpt_write_hdr(ctx, CKPT_HDR_ERROR, len) &&
	    !ckpt_kwrite(ctx, &nul, 1) &&
	    !ckpt_kwrite(ctx, ctx->err_msg, len - 1))
		ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + len);
	ctx->writing_error = false;
}

static int checkpoint_task_struct(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task h = { };

	h.pid = ckpt_task_pid(ctx, t);
	h.task_flags = t == current ? CKPT_TASK_SELF : 0;
	h.exit_signal = t->exit_signal;
	checkpoint_task_process(ctx, t, &h);
	h.set_child_tid = (unsigned long)t->set_child_tid;
	h.clear_child_tid = (unsigned long)t->clear_child_tid;
	BUILD_BUG_ON(sizeof(h.comm) != TASK_COMM_LEN);
	get_task_comm(h.comm, t);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_TASK, sizeof(h));
}

int checkpoint_thread(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_thread h = { };
	unsigned long flags;

	if (!lock_task_sighand(t, &flags))
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	/*
	 * A task frozen in sigsuspend(), ppoll(), pselect() or epoll_pwait()
	 * runs with the call's temporary mask, its own one saved until the
	 * signal code has run on its way out: both are saved, and restart
	 * leaves it so (the signal code then restores its own mask and
	 * applies the call's restart rule, or runs the handler of a signal
	 * with the mask to restore in the frame, as for the original).
	 */
	if (test_tsk_restore_sigmask(t)) {
		h.flags |= CKPT_THREAD_TEMP_MASK;
		h.blocked = t->saved_sigmask.sig[0];
		h.temp_blocked = t->blocked.sig[0];
	} else {
		h.blocked = t->blocked.sig[0];
	}
	unlock_task_sighand(t, &flags);
	h.sas_ss_sp = t->sas_ss_sp;
	h.sas_ss_size = t->sas_ss_size;
	h.sas_ss_flags = t->sas_ss_flags;
#ifdef CONFIG_RSEQ
	h.rseq = (unsigned long)t->rseq;
	h.rseq_len = t->rseq ? sizeof(struct rseq) : 0;	/* 6.1: one size */
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
	unsigned long flags;
	int i, ret;

	BUILD_BUG_ON(_NSIG != 64 || _NSIG_WORDS != 1);
	h = kzalloc(len, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->nr = _NSIG;
	if (!lock_task_sighand(t, &flags)) {
		kfree(h);
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	}
	for (i = 0; i < _NSIG; i++) {
		k = &t->sighand->action[i];
		h->action[i].handler = (unsigned long)k->sa.sa_handler;
		h->action[i].flags = k->sa.sa_flags;
		h->action[i].restorer = (unsigned long)k->sa.sa_restorer;
		h->action[i].mask = k->sa.sa_mask.sig[0];
	}
	unlock_task_sighand(t, &flags);
	ret = ckpt_write_obj(ctx, h, CKPT_HDR_SIGHAND, len);
	kfree(h);
	return ret;
}

bool checkpoint_task_frozen(struct task_struct *t)
{
	return cgroup_task_frozen(t) || frozen(t);
}

/*
 * The target of an external checkpoint is checked once, then the
 * checkpoint may be blocked on a write for as long as the caller likes.
 * Its task_struct, stack and mm are referenced, so that reading them is
 * safe whatever happens; and before anything read from it is written
 * (and before every message), the target must still be the task that was
 * checked: alive, not having executed a program, frozen, and not having
 * run at all since (the same voluntary switch count; a task that runs and
 * is frozen again has switched).  The first failure is latched: ESRCH if
 * it exited, EPERM if it executed a program that the caller may not
 * checkpoint, else EAGAIN.
 */
int ckpt_check_target(struct ckpt_ctx *ctx)
{
	struct task_struct *t = ctx->tsk;
	const char *why = NULL;
	unsigned long ncsw;
	int err = 0;

	if (ctx->tsk_err || !ctx->tsk_ready || t == current ||
	    ctx->tsk_checking)
		return ctx->tsk_err;
	if (t->exit_state || (READ_ONCE(t->flags) & PF_EXITING) ||
	    !READ_ONCE(t->mm)) {
		err = -ESRCH;
		why = "exited";
	} else if (READ_ONCE(t->self_exec_id) != ctx->tsk_exec_id ||
		   READ_ONCE(t->mm) != ctx->mm) {
		err = ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS) ?
		      -EAGAIN : -EPERM;
		why = err == -EPERM ?
		      "executed a program that the caller may not checkpoint" :
		      "executed a new program";
	} else if (!checkpoint_task_frozen(t)) {
		err = -EAGAIN;
		why = "was thawed";
	} else {
		ncsw = wait_task_inactive(t, TASK_ANY);
		if (!ncsw || ncsw != ctx->tsk_ncsw) {
			err = -EAGAIN;
			why = "ran (was thawed)";
		} else {
			err = checkpoint_check_threads(ctx, &why);
		}
	}
	if (!err)
		return 0;
	ctx->tsk_err = err;
	ctx->tsk_checking = true;
	ckpt_err(ctx, err, "pid %d %s during checkpoint", ctx->tsk_pid, why);
	ctx->tsk_checking = false;
	return err;
}

/* what of the target another task shares */
struct ckpt_sharing {
	struct mm_struct *mm;		/* NULL: not shared */
	struct files_struct *files;	/* NULL: not shared */
	struct fs_struct *fs;		/* NULL: not shared */
};

/* a task other than @t sharing something of @sh: its pid, -1 if not visible */
static pid_t checkpoint_find_sharer(struct task_struct *t, struct ckpt_sharing *sh,
				    const char **what)
{
	struct task_struct *g, *p;
	pid_t pid = 0;

	rcu_read_lock();
	for_each_process_thread(g, p) {
		if (same_thread_group(p, t) || (p->flags & PF_KTHREAD))
			continue;
		if (sh->mm && READ_ONCE(p->mm) == sh->mm)
			*what = "mm (CLONE_VM)";
		else if (sh->files && READ_ONCE(p->files) == sh->files)
			*what = "file table (CLONE_FILES)";
		else if (sh->fs && READ_ONCE(p->fs) == sh->fs)
			*what = "fs_struct: root, cwd, umask (CLONE_FS)";
		else
			continue;
		pid = task_pid_vnr(p) ?: -1;
		break;
	}
	rcu_read_unlock();
	return pid;
}

/*
 * Refuse a target whose mm, descriptor table or fs_struct is shared with
 * a task that is not checkpointed with it (a CLONE_VM, CLONE_FILES or
 * CLONE_FS process that is neither a thread nor a child): it could change
 * them during the checkpoint, and the sharing would not be restored.  No
 * new sharer can appear: only a task that has them can make one, and the
 * target is frozen (or is the caller).
 */
static int checkpoint_check_sharing(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_sharing sh = { .mm = ctx->mm };
	const char *what = "";
	pid_t pid;

	/*
	 * Every checkpoint but a TCP release is of a tree (one task or more):
	 * the descriptor table and fs_struct may be shared by its tasks, and
	 * are checked once all of them are known (ckpt_tree_tables()).
	 */
	if (ctx->uflags & CHECKPOINT_TCP_RELEASE) {
		task_lock(t);
		if (t->files && atomic_read(&t->files->count) > 1)
			sh.files = t->files;
		if (t->fs && READ_ONCE(t->fs->users) > 1)
			sh.fs = t->fs;
		task_unlock(t);
	}
	/* the target's threads' and ours (from get_task_mm()) */
	if (atomic_read(&ctx->mm->mm_users) <= ctx->nr_threads + 2)
		sh.mm = NULL;
	if (!sh.mm && !sh.files && !sh.fs)
		return 0;
	pid = checkpoint_find_sharer(t, &sh, &what);
	if (!pid)
		return 0;	/* only transient references */
	if (pid < 0)
		return ckpt_err(ctx, -EBUSY,
				"pid %d: %s shared with a task outside this pid namespace",
				ctx->tsk_pid, what);
	return ckpt_err(ctx, -EBUSY,
			"pid %d: %s shared with pid %d: not supported",
			ctx->tsk_pid, what, pid);
}

/* release what checkpoint_get_target() took */
void checkpoint_put_target(struct ckpt_ctx *ctx)
{
	if (ctx->mm)
		mmput(ctx->mm);
	ctx->mm = NULL;
	checkpoint_put_threads(ctx);
	if (ctx->tsk) {
		put_task_stack(ctx->tsk);
		put_task_struct(ctx->tsk);
	}
	ctx->tsk = NULL;
}

/*
 * Find the target and check that it may and can be checkpointed.  As
 * mm_access() does, the permission is checked under the target's
 * exec_update_lock, and its mm and self_exec_id are taken under it; no
 * message is written (that may block) while it is held.
 */
/*
 * Without CHECKPOINT_SUBTREE the target is the init of a pid namespace
 * that is a child of the caller's: its tree is the namespace, every pid
 * saved as seen in it (ctx->pid_ns).
 */
static int checkpoint_pidns_root(struct ckpt_ctx *ctx, struct task_struct *t,
				 pid_t pid, bool self)
{
	struct pid_namespace *ns;

	if (ctx->uflags & (CHECKPOINT_PRECOPY | CHECKPOINT_PRECOPY_LAST |
			   CHECKPOINT_TCP_RELEASE))
		return ckpt_err(ctx, -EINVAL,
				"pid %d: pre-copy and TCP release need CHECKPOINT_SUBTREE",
				pid);
	if (!is_child_reaper(task_pid(t)))
		return ckpt_err(ctx, -EINVAL,
				"pid %d is not a container init and CHECKPOINT_SUBTREE is not set",
				pid);
	ns = task_active_pid_ns(t);
	if (self || ns->parent != task_active_pid_ns(current))
		return ckpt_err(ctx, -EINVAL,
				"pid %d: init of a pid namespace that is not a child of the caller's",
				pid);
	if (!ctx->pid_ns)
		ctx->pid_ns = get_pid_ns(ns);
	return 0;
}

/* the task of @pid (0 or its own: the caller), referenced; NULL: none */
struct task_struct *checkpoint_find_task(pid_t pid, bool *self)
{
	struct task_struct *t;

	*self = pid == 0 || pid == task_pid_vnr(current);
	if (!*self)
		return find_get_task_by_vpid(pid);
	t = current;
	get_task_struct(t);
	return t;
}

int checkpoint_get_target(struct ckpt_ctx *ctx, pid_t pid)
{
	struct task_struct *t;
	bool self, allowed, frozen = true;
	unsigned long ncsw = 0;
	int err;

	t = checkpoint_find_task(pid, &self);
	if (!t)
		return ckpt_err(ctx, -ESRCH, "no task with pid %d", pid);
	if (!try_get_task_stack(t)) {
		put_task_struct(t);
		return ckpt_err(ctx, -ESRCH, "pid %d exited", pid);
	}
	ctx->tsk = t;
	ctx->tsk_pid = task_pid_vnr(t);

	/*
	 * Everything below is checked while the target does not run: its
	 * switch count is taken first, and checked again at the end.
	 */
	if (!self) {
		ncsw = wait_task_inactive(t, TASK_ANY);
		frozen = ncsw && checkpoint_task_frozen(t);
		err = down_read_killable(&t->signal->exec_update_lock);
		if (err)
			return err;
	}
	allowed = ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS);
	if (allowed) {
		ctx->tsk_exec_id = t->self_exec_id;
		ctx->mm = get_task_mm(t);
	}
	if (!self)
		up_read(&t->signal->exec_update_lock);

	if (!allowed)
		return ckpt_err(ctx, -EPERM, "no permission to checkpoint pid %d",
				pid);
	err = -EINVAL;
	if (t->flags & (PF_KTHREAD | PF_EXITING) || !ctx->mm)
		return ckpt_err(ctx, err, "pid %d is a kernel thread or exiting",
				pid);
	/* the root: the init of a pid namespace, without CHECKPOINT_SUBTREE */
	if (!ctx->tree && !(ctx->uflags & CHECKPOINT_SUBTREE)) {
		err = checkpoint_pidns_root(ctx, t, pid, self);
		if (err)
			return err;
	}
	err = -EBUSY;
	if (self && !thread_group_empty(t))
		return ckpt_err(ctx, err,
				"pid %d has threads: a self checkpoint of a multi-threaded process is not supported (checkpoint it frozen, from outside)",
				ctx->tsk_pid);
	if (!thread_group_empty(t) && !thread_group_leader(t))
		return ckpt_err(ctx, err,
				"pid %d is a thread: checkpoint its process (pid %d)",
				pid, task_tgid_vnr(t));
	if (!self && !frozen)
		return ckpt_err(ctx, err,
				"pid %d is not frozen (freeze it with the freezer cgroup)",
				pid);
	ctx->tsk_ncsw = ncsw;
	if (!thread_group_empty(t)) {
		err = checkpoint_get_threads(ctx, t);
		if (err)
			return err;
	}
	err = checkpoint_check_sharing(ctx, t);
	if (err)
		return err;
	/* the first target is the root: its UTS and net namespaces are the tree's */
	checkpoint_ns_root(ctx, t);
	/* from now on, it must stay what was checked */
	ctx->tsk_ready = true;
	return ckpt_check_target(ctx);
}

/* the interrupted system call of the target, if any */
int checkpoint_task_restart_block(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct pt_regs *regs = task_pt_regs(t);
	unsigned long args[6];
	long nr = syscall_get_nr(t, regs);

	if (t == current || nr < 0)
		return checkpoint_restart_block(ctx, t, 0, nr, 0);
	syscall_get_arguments(t, regs, args);
	return checkpoint_restart_block(ctx, t,
					syscall_get_return_value(t, regs),
					nr, args[1]);
}

int checkpoint_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	u32 shared = ckpt_tree_shared(ctx);
	int ret;

	ret = ckpt_check_target(ctx);
	if (!ret)
		ret = checkpoint_process_check(ctx, t);
	if (!ret)
		ret = checkpoint_task_struct(ctx, t);
	if (!ret)
		ret = checkpoint_cred(ctx, t);
	if (!ret)
		ret = checkpoint_thread(ctx, t);
	if (!ret)
		ret = ckpt_check_target(ctx);
	if (!ret)
		ret = ckpt_arch_write_cpu(ctx, t);
	if (!ret)
		ret = checkpoint_sighand(ctx, t);
	if (!ret)
		ret = checkpoint_signal(ctx, t);
	if (!ret)
		ret = checkpoint_sigpending(ctx, t);
	if (!ret)
		ret = checkpoint_timers(ctx, t);
	if (!ret)
		ret = checkpoint_posix_timers(ctx, t);
	if (!ret)
		ret = checkpoint_task_restart_block(ctx, t);
	if (!ret)
		ret = checkpoint_auxv(ctx);
	if (!ret)
		ret = checkpoint_sched(ctx, t);
	if (!ret)
		ret = checkpoint_seccomp(ctx, t);
	if (!ret)
		ret = checkpoint_threads(ctx, t);
	if (!ret)
		ret = ckpt_check_target(ctx);
	/* a table shared with an earlier task of the tree is saved with it */
	if (!ret && !(shared & CKPT_TREE_FS))
		ret = checkpoint_fs(ctx, t);
	if (!ret)
		ret = ckpt_check_target(ctx);
	if (!ret && !(shared & CKPT_TREE_FILES))
		ret = checkpoint_files(ctx, t);
	if (!ret)
		ret = ckpt_check_target(ctx);
	if (!ret)
		ret = checkpoint_mm(ctx);
	return ret;
}

static atomic_t ckpt_next_id = ATOMIC_INIT(0);

/*
 * CHECKPOINT_TCP_RELEASE: no image; the TCP connections of the frozen
 * task that CHECKPOINT_TCP_HOLD held run on (its migration failed)
 */
static long checkpoint_release(struct ckpt_ctx *ctx, pid_t pid)
{
	long ret;

	ret = checkpoint_get_target(ctx, pid);
	if (!ret)
		ret = checkpoint_sockets_release(ctx, ctx->tsk);
	if (ret >= 0)
		ckpt_msg(ctx, "release: pid %d: %ld TCP connections", ctx->tsk_pid,
			 ret);
	ctx->tsk_ready = false;
	checkpoint_put_target(ctx);
	return ret < 0 ? ret : 0;
}

long do_checkpoint(struct ckpt_ctx *ctx, pid_t pid)
{
	long ret;

	if (ctx->uflags & CHECKPOINT_TCP_RELEASE)
		return checkpoint_release(ctx, pid);
	if (ctx->uflags & CHECKPOINT_PRECOPY)
		return do_checkpoint_precopy(ctx, pid);
	ret = checkpoint_get_target(ctx, pid);
	if (!ret && (ctx->uflags & CHECKPOINT_PRECOPY_LAST))
		ret = checkpoint_precopy_start(ctx);
	if (!ret)
		ret = checkpoint_tree_collect(ctx);
	if (ret) {
		checkpoint_write_error(ctx);
		if (ctx->chain)
			checkpoint_precopy_end(ctx, false);
		checkpoint_tree_put(ctx);
		checkpoint_put_target(ctx);
		return ret;
	}

	ret = checkpoint_write_header(ctx);
	if (!ret && ctx->chain)
		ret = checkpoint_precopy_record(ctx);
	if (!ret)
		ret = checkpoint_tree_write(ctx);
	if (!ret)
		ret = checkpoint_write_tail(ctx);
	/* nothing more is read from the target */
	ctx->tsk_ready = false;
	/* whatever failed first, a changed target is what is reported */
	if (ctx->tsk_err)
		ret = ctx->tsk_err;
	if (ret) {
		/* the connections it held run on */
		checkpoint_sockets_unhold(ctx);
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
			 ctx->tsk_pid, ctx->total, ret);
	}
	if (ctx->chain)
		checkpoint_precopy_end(ctx, ret > 0);
	checkpoint_tree_put(ctx);
	checkpoint_put_target(ctx);
	return ret;
}
