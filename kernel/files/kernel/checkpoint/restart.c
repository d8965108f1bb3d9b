// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: restart of a single task (RESTART_TASKSELF).
 *
 * Everything is read and checked, and the new mm is built, before the
 * calling task is changed; only then the state is committed.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fdtable.h>
#include <linux/futex.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mm.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/version.h>

int restore_read_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header h;
	struct new_utsname *uts = utsname();
	char *str;
	int i, ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_HEADER, sizeof(h));
	if (ret)
		return ret;
	if (h.magic != CHECKPOINT_MAGIC_HEAD)
		return ckpt_err(ctx, -EINVAL, "bad magic %llx", h.magic);
	if (h.rev != CHECKPOINT_VERSION)
		return ckpt_err(ctx, -EINVAL, "image version %u, expected %u",
				h.rev, CHECKPOINT_VERSION);
	if (h.arch_id != CKPT_ARCH_X86_64)
		return ckpt_err(ctx, -EINVAL, "image architecture %u, expected %u",
				h.arch_id, CKPT_ARCH_X86_64);
	if (h.constants.task_comm_len != TASK_COMM_LEN ||
	    h.constants.uts_release_len != sizeof(uts->release) ||
	    h.constants.uts_version_len != sizeof(uts->version) ||
	    h.constants.uts_machine_len != sizeof(uts->machine) ||
	    h.constants.page_size != PAGE_SIZE)
		return ckpt_err(ctx, -EINVAL, "image kernel constants differ");
	if (h.uflags & ~(u64)CHECKPOINT_USER_FLAGS)
		return ckpt_err(ctx, -EINVAL, "bad checkpoint flags %llx",
				h.uflags);
	if ((h.uflags & CHECKPOINT_PRECOPY) && (h.uflags & CHECKPOINT_PRECOPY_LAST))
		return ckpt_err(ctx, -EINVAL, "bad checkpoint flags %llx",
				h.uflags);
	ctx->rst.img_uflags = h.uflags;
	/* uts release, version, machine: the release must be this kernel's */
	for (i = 0; i < 3; i++) {
		str = ckpt_read_string(ctx, sizeof(uts->release));
		if (IS_ERR(str))
			return PTR_ERR(str);
		ret = 0;
		if (i == 0) {
			ckpt_msg(ctx, "restart: image of kernel %s (%u.%u.%u)",
				 str, h.major, h.minor, h.patch);
			if (strcmp(str, uts->release))
				ret = ckpt_err(ctx, -EINVAL,
					       "image from kernel release %s, this kernel is %s",
					       str, uts->release);
		}
		kvfree(str);
		if (ret)
			return ret;
	}
	return ckpt_arch_read_header(ctx);
}

int restore_read_tail(struct ckpt_ctx *ctx)
{
	struct ckpt_csum csum = ctx->csum;
	struct ckpt_hdr_tail h;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_TAIL, sizeof(h));
	if (ret)
		return ret;
	if (h.magic != CHECKPOINT_MAGIC_TAIL)
		return ckpt_err(ctx, -EINVAL, "bad tail magic %llx", h.magic);
	if (h.sum != csum.sum || h.sum2 != csum.sum2 || csum.fill)
		return ckpt_err(ctx, -EINVAL, "image checksum mismatch");
	return 0;
}

static int restore_read_task(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task *h = &ctx->rst.task;
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_TASK, sizeof(*h));
	if (ret)
		return ret;
	ret = restore_task_check(ctx);
	if (ret)
		return ret;
	h->comm[sizeof(h->comm) - 1] = '\0';
	ret = restore_cred_read(ctx);
	if (ret)
		return ret;
	return restore_read_thread(ctx);
}

int restore_read_thread(struct ckpt_ctx *ctx)
{
	return restore_thread_check(ctx, &ctx->rst.thread);
}

/* read a THREAD record (of the leader or of another thread) and check it */
int restore_thread_check(struct ckpt_ctx *ctx, struct ckpt_hdr_thread *th)
{
	int ret;

	ret = ckpt_read_obj(ctx, th, CKPT_HDR_THREAD, sizeof(*th));
	if (ret)
		return ret;
	if (th->sas_ss_flags & ~(SS_AUTODISARM | SS_DISABLE))
		return ckpt_err(ctx, -EINVAL, "bad sigaltstack flags");
	if (th->flags & ~CKPT_THREAD_TEMP_MASK ||
	    (!(th->flags & CKPT_THREAD_TEMP_MASK) && th->temp_blocked))
		return ckpt_err(ctx, -EINVAL, "bad thread flags %#x", th->flags);
	if (th->robust_list && th->robust_list_len != sizeof(struct robust_list_head))
		return ckpt_err(ctx, -EINVAL, "bad robust list length");
	if (th->rseq && (th->rseq_len != sizeof(struct rseq) ||
			 !IS_ALIGNED(th->rseq, __alignof__(struct rseq))))
		return ckpt_err(ctx, -EINVAL, "bad rseq registration");
	if (!IS_ENABLED(CONFIG_RSEQ) && th->rseq)
		ckpt_msg(ctx, "restart: rseq registration not restored (no CONFIG_RSEQ)");
	return 0;
}

int restore_read_sighand(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_sighand *h;
	size_t len = struct_size(h, action, _NSIG);

	h = ckpt_read_obj_var(ctx, CKPT_HDR_SIGHAND, len, len);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ctx->rst.sighand = h;
	if (h->nr != _NSIG)
		return ckpt_err(ctx, -EINVAL, "bad number of signals %u", h->nr);
	return 0;
}

void restore_sighand(struct ckpt_ctx *ctx)
{
	struct ckpt_sigaction *a = ctx->rst.sighand->action;
	struct k_sigaction ka;
	int sig;

	for (sig = 1; sig <= _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		memset(&ka, 0, sizeof(ka));
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)a[sig - 1].handler;
		ka.sa.sa_flags = a[sig - 1].flags;
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)a[sig - 1].restorer;
		ka.sa.sa_mask.sig[0] = a[sig - 1].mask;
		do_sigaction(sig, &ka, NULL);
	}
}

void restore_thread(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task *h = &ctx->rst.task;

	restore_thread_apply(&ctx->rst.thread, h->comm, h->set_child_tid,
			     h->clear_child_tid);
}

/* on current: the leader, or a new thread restoring itself */
void restore_thread_apply(struct ckpt_hdr_thread *th, const char *comm,
			  u64 set_child_tid, u64 clear_child_tid)
{
	struct task_struct *t = current;
	sigset_t blocked;

	set_task_comm(t, comm);
	t->set_child_tid = u64_to_user_ptr(set_child_tid);
	t->clear_child_tid = u64_to_user_ptr(clear_child_tid);

	blocked.sig[0] = th->blocked;
	if (th->flags & CKPT_THREAD_TEMP_MASK) {
		/* as the call left it: the signal code restores its own mask */
		sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
		t->saved_sigmask = blocked;
		set_restore_sigmask();
		blocked.sig[0] = th->temp_blocked;
	} else {
		/* a new thread has its leader's flag (copied at its clone) */
		clear_restore_sigmask();
	}
	set_current_blocked(&blocked);
	t->sas_ss_sp = th->sas_ss_sp;
	t->sas_ss_size = th->sas_ss_size;
	t->sas_ss_flags = th->sas_ss_flags;
#ifdef CONFIG_FUTEX
	t->robust_list = u64_to_user_ptr(th->robust_list);
#endif
#ifdef CONFIG_RSEQ
	t->rseq = u64_to_user_ptr(th->rseq);
	t->rseq_sig = th->rseq_sig;
	if (t->rseq)
		rseq_set_notify_resume(t);
#endif
	t->restart_block.fn = do_no_restart_syscall;
}

/*
 * The descriptor table is replaced by the image's: unshare it first (as
 * exec does), keeping the shared one until the commit, so that a failure
 * gives the caller back the very table it shared.
 */
static int restore_unshare_files(struct ckpt_ctx *ctx)
{
	struct files_struct *old = current->files;
	int ret;

	if (atomic_read(&old->count) == 1)
		return 0;
	atomic_inc(&old->count);
	ret = unshare_files();
	if (ret) {
		put_files_struct(old);
		return ret;
	}
	ctx->rst.old_files = old;
	return 0;
}

static void restore_files_rollback(struct ckpt_ctx *ctx)
{
	struct files_struct *old = ctx->rst.old_files, *copy;

	if (!old)
		return;
	ctx->rst.old_files = NULL;
	task_lock(current);
	copy = current->files;
	current->files = old;
	task_unlock(current);
	put_files_struct(copy);
}

/* the state of one task, read, checked and built, not yet committed */
int restore_task_read(struct ckpt_ctx *ctx)
{
	u32 shared = restore_tree_shared(ctx);
	int ret;

	/* tables of an earlier task of the tree: given at the commit */
	ctx->rst.share_files = shared & CKPT_TREE_FILES;
	ctx->rst.share_fs = shared & CKPT_TREE_FS;
	ret = restore_read_task(ctx);
	if (!ret)
		ret = ckpt_arch_read_cpu(ctx);
	if (!ret)
		ret = restore_read_sighand(ctx);
	if (!ret)
		ret = restore_signal_read(ctx);
	if (!ret)
		ret = restore_sigpending_read(ctx);
	if (!ret)
		ret = restore_timers_read(ctx);
	if (!ret)
		ret = restore_posix_timers_read(ctx);
	if (!ret)
		ret = restore_restart_block_read(ctx);
	if (!ret)
		ret = restore_auxv_read(ctx);
	if (!ret)
		ret = restore_sched_read(ctx);
	if (!ret)
		ret = restore_seccomp_read(ctx);
	if (!ret)
		ret = restore_threads_read(ctx);
	if (!ret)
		ret = restore_posix_timers_targets(ctx);
	if (!ret && !ctx->rst.share_fs)
		ret = restore_fs_read(ctx);
	if (!ret && !ctx->rst.share_files)
		ret = restore_files_read(ctx);
	if (!ret)
		ret = restore_mm_build(ctx);
	return ret;
}

/*
 * Past the point of no return: the new mm and everything else on the
 * task (the descriptors are installed, @files_ret is what that gave).
 * Returns what the task's interrupted system call returns, or an error
 * with a fatal signal sent to it.
 */
long restore_task_finish(struct ckpt_ctx *ctx, int files_ret)
{
	long ret;

	restore_mm_commit(ctx);
	if (files_ret > 0) {
		/* a descriptor could not be installed after others were */
		force_fatal_sig(SIGKILL);
		return -ENOMEM;
	}
	restore_sighand(ctx);
	restore_thread(ctx);
	if (restore_process_commit(ctx)) {
		force_fatal_sig(SIGKILL);
		return -EPERM;
	}
	restore_restart_block_commit(ctx);
	restore_auxv_commit(ctx);
	if (restore_sched_commit(ctx)) {
		force_fatal_sig(SIGKILL);
		return -EPERM;
	}
	if (restore_seccomp_commit(ctx)) {
		force_fatal_sig(SIGKILL);
		return -EPERM;
	}
	/* its semop(SEM_UNDO) adjustments, which its other threads share */
	ret = restore_ipc_undo_commit(ctx);
	if (ret) {
		force_fatal_sig(SIGKILL);
		return ret;
	}
	/*
	 * The other threads, made by the restored leader (they inherit its
	 * credentials, scheduling and tables), before its own pending signals
	 * are queued (a clone fails while a signal is pending) and its timers
	 * armed.  A failure kills the whole group: none has run user code.
	 */
	ret = restore_threads_create(ctx);
	if (ret) {
		force_fatal_sig(SIGKILL);
		restore_threads_release(ctx, false);
		return ret;
	}
	/* on the restored task, with its mask, handlers and credentials */
	if (restore_sigpending_commit(ctx)) {
		force_fatal_sig(SIGKILL);
		restore_threads_release(ctx, false);
		return -EAGAIN;
	}
	restore_timers_commit(ctx);
	/* after the threads: a timer may signal one of them */
	if (restore_posix_timers_commit(ctx)) {
		force_fatal_sig(SIGKILL);
		restore_threads_release(ctx, false);
		return -EAGAIN;
	}
	/* last: a stop keeps the task from user mode, not from the kernel */
	restore_signal_stop_commit(ctx);
	/* the whole group is restored: the threads may run */
	restore_threads_release(ctx, true);
	ret = ckpt_arch_restore_cpu(ctx);
	/*
	 * With a call's temporary mask: through the signal code on the way
	 * out (a tree's task and a new thread go there for their task work)
	 */
	if (ctx->rst.thread.flags & CKPT_THREAD_TEMP_MASK)
		set_notify_signal(current);
	if (ctx->rst.precopy)
		ckpt_msg(ctx, "restart: the last pass took %lld us",
			 ktime_us_delta(ktime_get(), ctx->rst.precopy_t0));
	ckpt_msg(ctx, "restart: pid %d restored as \"%s\", returns %ld",
		 task_pid_vnr(current), current->comm, ret);
	return ret;
}

long do_restart(struct ckpt_ctx *ctx, pid_t pid)
{
	long ret;

	if (!(ctx->uflags & RESTART_TASKSELF))
		return ckpt_err(ctx, -EINVAL,
				"only RESTART_TASKSELF restart is supported");
	if (pid && pid != task_pid_vnr(current))
		return ckpt_err(ctx, -EINVAL, "RESTART_TASKSELF: pid %d is not self",
				pid);
	if (!thread_group_empty(current))
		return ckpt_err(ctx, -EBUSY, "caller has threads");
	if (current->vfork_done)
		return ckpt_err(ctx, -EBUSY, "caller is a vfork() child");
	if (refcount_read(&current->sighand->count) != 1)
		return ckpt_err(ctx, -EBUSY, "caller shares its signal handlers");
	if (READ_ONCE(current->fs->users) != 1)
		return ckpt_err(ctx, -EBUSY,
				"caller shares its root, cwd and umask (CLONE_FS)");

	ret = restore_read_header(ctx);
	if (!ret)
		ret = restore_precopy_read(ctx);
	if (!ret)
		ret = restore_tree_read(ctx);
	if (!ret)
		ret = restore_task_read(ctx);
	if (!ret)
		ret = restore_tree_children(ctx);
	if (!ret)
		ret = restore_read_tail(ctx);
	if (!ret)
		ret = ckpt_arch_prepare_fpu(ctx);
	if (!ret)
		ret = restore_threads_prepare(ctx);
	/*
	 * The table the caller restores into is final before the other
	 * tasks commit: those that share it (CKPT_TREE_FILES) take it then.
	 */
	if (!ret)
		ret = restore_unshare_files(ctx);
	if (!ret)
		ret = restore_tree_commit(ctx);
	if (!ret)
		ret = restore_files_commit(ctx);
	if (ret < 0) {
		restore_tree_abort(ctx);
		restore_ns_end(ctx, false);
		restore_files_rollback(ctx);
		restore_mm_abort(ctx);
		return ret;
	}
	/* point of no return */
	restore_ns_end(ctx, true);
	restore_sysv_shm_commit(ctx);
	restore_ipc_ns_commit(ctx);
	if (ctx->rst.old_files)
		put_files_struct(ctx->rst.old_files);
	ctx->rst.old_files = NULL;
	ret = restore_task_finish(ctx, ret);
	restore_tree_release(ctx, ret);
	return ret;
}
