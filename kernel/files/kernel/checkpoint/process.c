// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: process state: personality, pdeath signal, child
 * subreaper, no_new_privs, timer slack, oom_score_adj, dumpable
 * (CKPT_HDR_TASK), resource limits (CKPT_HDR_SIGNAL), root and working
 * directory, umask (CKPT_HDR_FS).  Each is saved,
 * checked when read from the image (hostile input, and the caller must be
 * allowed to set it), and applied at the commit point.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/namei.h>
#include <linux/nsproxy.h>
#include <linux/oom.h>
#include <linux/path.h>
#include <linux/personality.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/jobctl.h>
#include <linux/seccomp.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/auxvec.h>
#include <linux/mm_types.h>
#include <linux/sched/task.h>

static const char *const ckpt_rlimit_names[CKPT_RLIM_NLIMITS] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio",
	"rttime",
};

/*
 * The namespaces of @t other than its pid namespace (tree.c) and its UTS
 * namespace (ns.c: the tree root's, saved if not the checkpointer's) must
 * be the checkpointer's: the image holds no mount table, network devices,
 * SysV IPC namespace, cgroup root, clock offsets or user mapping, and
 * restart puts every task in the caller's.  Any other is refused, never
 * dropped.
 */
static int ckpt_check_namespaces(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct nsproxy *mine = current->nsproxy, *ns;
	const char *what = NULL, *than = "the checkpointer's";

	task_lock(t);
	ns = t->nsproxy;
	if (!ns)
		what = "no";	/* exiting */
	else if (ns->uts_ns != ctx->uts_ns)	/* the root's (ns.c) */
		what = "a UTS", than = "the tree root's";
	else if (ns->net_ns != ctx->net_ns)	/* the root's (ns.c) */
		what = "a network", than = "the tree root's";
	else if (ns->ipc_ns != ctx->ipc_ns)	/* the root's (ns.c) */
		what = "an IPC", than = "the tree root's";
	else if (ns->mnt_ns != mine->mnt_ns)
		what = "a mount";
	else if (ns->cgroup_ns != mine->cgroup_ns)
		what = "a cgroup";
#ifdef CONFIG_TIME_NS
	else if (ns->time_ns != mine->time_ns ||
		 ns->time_ns_for_children != mine->time_ns_for_children)
		what = "a time";
#endif
	task_unlock(t);
	if (!what && task_cred_xxx(t, user_ns) != current_user_ns())
		what = "a user";
	if (!what)
		return 0;
	return ckpt_err(ctx, -EOPNOTSUPP,
			"pid %d (tid %d): %s namespace other than %s: not supported",
			ctx->tsk_pid, task_pid_vnr(t), what, than);
}

/* state that cannot be saved: refused, never dropped */
int checkpoint_process_check(struct ckpt_ctx *ctx, struct task_struct *t)
{
#ifdef CONFIG_SECCOMP
	int mode = READ_ONCE(t->seccomp.mode);

	/* the leader's is saved (seccomp.c), a thread's refused */
	if (mode != SECCOMP_MODE_DISABLED && t != ctx->tsk)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: seccomp %s in a thread: not supported",
				ctx->tsk_pid, mode == SECCOMP_MODE_STRICT ?
				"strict mode" : "filters");
#endif
	if (t != current && READ_ONCE(t->ptrace))
		return ckpt_err(ctx, -EBUSY,
				"pid %d is traced (ptrace): the tracer's hold cannot be saved",
				ctx->tsk_pid);
	/* a complete group stop is saved (checkpoint_signal()), one in progress is not */
	if (t != current &&
	    (task_is_traced(t) || READ_ONCE(t->jobctl) & JOBCTL_STOP_PENDING ||
	     (task_is_stopped(t) &&
	      !(READ_ONCE(t->signal->flags) & SIGNAL_STOP_STOPPED))))
		return ckpt_err(ctx, -EBUSY,
				"pid %d (tid %d): a job-control stop in progress: try again",
				ctx->tsk_pid, task_pid_vnr(t));
#ifdef CONFIG_FUTEX_PI
	if (!list_empty(&t->pi_state_list))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d holds a priority-inheritance futex: not supported",
				ctx->tsk_pid);
#endif
	if (task_spec_ssb_disable(t) || task_spec_ssb_force_disable(t) ||
	    task_spec_ssb_noexec(t) || task_spec_ib_disable(t) ||
	    task_spec_ib_force_disable(t))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: speculation control (PR_SET_SPECULATION_CTRL): not supported",
				ctx->tsk_pid);
#ifdef CONFIG_SYSVIPC
	/*
	 * The adjustments semop(SEM_UNDO) leaves for the task's exit: saved
	 * with the sets of the tree's own IPC namespace (ipc_ns.c), one undo
	 * list for all the threads of the process
	 */
	if (sem_ckpt_has_undo(t)) {
		if (!ctx->ipc_ns || ctx->ipc_ns == current->nsproxy->ipc_ns)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"pid %d: SysV semaphore undo (semop() SEM_UNDO) of sets outside an IPC namespace of the tree's own: not supported",
					ctx->tsk_pid);
		if (sem_ckpt_undo_users(t) != get_nr_threads(t))
			return ckpt_err(ctx, -EBUSY,
					"pid %d: SysV semaphore undo list not shared by exactly its threads (clone() with or without CLONE_SYSVSEM): not supported",
					ctx->tsk_pid);
	}
#endif
	/* PR_SET_IO_FLUSHER sets both */
	if ((READ_ONCE(t->flags) & (PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE)) ==
	    (PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: PR_SET_IO_FLUSHER: not supported",
				ctx->tsk_pid);
	return ckpt_check_namespaces(ctx, t) ?: ckpt_arch_check_task(ctx, t);
}

/* the prctl() and /proc state of the (frozen) task, in its TASK record */
void checkpoint_task_process(struct ckpt_ctx *ctx, struct task_struct *t,
			     struct ckpt_hdr_task *h)
{
	BUILD_BUG_ON(sizeof(*h) != 88);
	h->personality = t->personality;
	h->pdeath_signal = t->pdeath_signal;
	if (t->signal->is_child_subreaper)
		h->task_flags |= CKPT_TASK_SUBREAPER;
	if (task_no_new_privs(t))
		h->task_flags |= CKPT_TASK_NO_NEW_PRIVS;
	if (test_bit(MMF_DISABLE_THP, &ctx->mm->flags))
		h->task_flags |= CKPT_TASK_THP_DISABLE;
	h->coredump_filter = (READ_ONCE(ctx->mm->flags) & MMF_DUMP_FILTER_MASK) >>
			     MMF_DUMP_FILTER_SHIFT;
	task_lock(t);
	h->timer_slack_ns = t->timer_slack_ns;
	h->default_timer_slack_ns = t->default_timer_slack_ns;
	task_unlock(t);
	h->oom_score_adj = READ_ONCE(t->signal->oom_score_adj);
	h->dumpable = get_dumpable(ctx->mm);
}

/*
 * Restart: the TASK record's process state, each item as the caller could
 * set it for itself (personality(), prctl(), /proc/self/oom_score_adj),
 * else an errno naming it.  Nothing here grants more than the caller has.
 */
int restore_task_check(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task *h = &ctx->rst.task;
	short min = READ_ONCE(current->signal->oom_score_adj_min);

	if (h->task_flags & ~CKPT_TASK_FLAGS)
		return ckpt_err(ctx, -EINVAL, "bad task flags %x",
				h->task_flags);
	/* personality() takes any other value (0xffffffff only queries) */
	if (h->personality == 0xffffffff)
		return ckpt_err(ctx, -EINVAL, "personality %#x: not a personality",
				h->personality);
	/* the parent's choice at fork: the caller's parent chose its own */
	if ((int)h->exit_signal != current->exit_signal)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"exit signal %u: the caller's is %d (a restored tree would set it)",
				h->exit_signal, current->exit_signal);
	if (h->coredump_filter >> MMF_DUMP_FILTER_BITS)
		return ckpt_err(ctx, -EINVAL, "coredump_filter %#x: unknown bits",
				h->coredump_filter);
	if (!valid_signal(h->pdeath_signal))
		return ckpt_err(ctx, -EINVAL, "pdeath signal %u: not a signal",
				h->pdeath_signal);
	/* never 0: prctl() and fork() set a slack of at least 1 ns */
	if (!h->timer_slack_ns || !h->default_timer_slack_ns)
		return ckpt_err(ctx, -EINVAL, "timer slack %llu (default %llu): not a slack",
				h->timer_slack_ns, h->default_timer_slack_ns);
	if (h->oom_score_adj < OOM_SCORE_ADJ_MIN ||
	    h->oom_score_adj > OOM_SCORE_ADJ_MAX)
		return ckpt_err(ctx, -EINVAL, "oom_score_adj %d: out of range",
				h->oom_score_adj);
	/* as /proc/PID/oom_score_adj: below the minimum needs CAP_SYS_RESOURCE */
	if (h->oom_score_adj < min && !capable(CAP_SYS_RESOURCE))
		return ckpt_err(ctx, -EPERM,
				"oom_score_adj %d below the caller's minimum %d (needs CAP_SYS_RESOURCE)",
				h->oom_score_adj, min);
	/* no_new_privs is never cleared (prctl() cannot either) */
	if (task_no_new_privs(current) &&
	    !(h->task_flags & CKPT_TASK_NO_NEW_PRIVS))
		return ckpt_err(ctx, -EPERM,
				"no_new_privs: set on the caller, clear in the image (cannot be cleared)");
	/* PR_SET_DUMPABLE: 0 or 1; 2 is suid_dumpable's, never granted */
	if (h->dumpable == SUID_DUMP_ROOT)
		return ckpt_err(ctx, -EPERM,
				"dumpable 2 (suid_dumpable): only 0 or 1 can be restored");
	if (h->dumpable != SUID_DUMP_DISABLE && h->dumpable != SUID_DUMP_USER)
		return ckpt_err(ctx, -EINVAL, "dumpable %u: out of range",
				h->dumpable);
	return 0;
}

/* as prctl(PR_SET_CHILD_SUBREAPER) tells the caller's descendants */
static int restore_propagate_subreaper(struct task_struct *p, void *data)
{
	if (p->signal->has_child_subreaper ||
	    is_child_reaper(task_pid(p)))
		return 0;
	p->signal->has_child_subreaper = 1;
	return 1;
}

/* at the commit point, on the restored mm: cannot fail */
void restore_task_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task *h = &ctx->rst.task;
	struct task_struct *t = current;
	int i;

	set_personality(h->personality);
	t->pdeath_signal = h->pdeath_signal;
	task_lock(t);
	t->timer_slack_ns = h->timer_slack_ns;
	t->default_timer_slack_ns = h->default_timer_slack_ns;
	t->signal->oom_score_adj = h->oom_score_adj;
	if (has_capability_noaudit(t, CAP_SYS_RESOURCE))
		t->signal->oom_score_adj_min = h->oom_score_adj;
	task_unlock(t);
	if (h->task_flags & CKPT_TASK_SUBREAPER) {
		t->signal->is_child_subreaper = 1;
		walk_process_tree(t, restore_propagate_subreaper, NULL);
	} else {
		t->signal->is_child_subreaper = 0;
	}
	if (h->task_flags & CKPT_TASK_NO_NEW_PRIVS)
		task_set_no_new_privs(t);
	set_dumpable(t->mm, h->dumpable);
	/* as /proc/PID/coredump_filter and PR_SET_THP_DISABLE set them */
	for (i = 0; i < MMF_DUMP_FILTER_BITS; i++) {
		if (h->coredump_filter & (1U << i))
			set_bit(i + MMF_DUMP_FILTER_SHIFT, &t->mm->flags);
		else
			clear_bit(i + MMF_DUMP_FILTER_SHIFT, &t->mm->flags);
	}
	if (h->task_flags & CKPT_TASK_THP_DISABLE)
		set_bit(MMF_DISABLE_THP, &t->mm->flags);
	else
		clear_bit(MMF_DISABLE_THP, &t->mm->flags);
}

/* the auxiliary vector that exec gave the process, up to AT_NULL */
int checkpoint_auxv(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_auxv *h;
	unsigned int nr = 0;
	size_t len;
	int ret;

	h = kzalloc(struct_size(h, auxv, AT_VECTOR_SIZE), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	BUILD_BUG_ON(sizeof(ctx->mm->saved_auxv[0]) != sizeof(h->auxv[0]));
	/* as /proc/PID/auxv: written by exec (and PR_SET_MM), read unlocked */
	memcpy(h->auxv, ctx->mm->saved_auxv, sizeof(ctx->mm->saved_auxv));
	while (nr + 2 <= AT_VECTOR_SIZE) {
		nr += 2;
		if (h->auxv[nr - 2] == AT_NULL)
			break;
	}
	h->nr = nr;
	len = struct_size(h, auxv, nr);
	ret = ckpt_write_obj(ctx, h, CKPT_HDR_AUXV, len);
	kfree(h);
	return ret;
}

int restore_auxv_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_auxv *h;

	h = ckpt_read_obj_var(ctx, CKPT_HDR_AUXV, sizeof(*h),
			      struct_size(h, auxv, AT_VECTOR_SIZE));
	if (IS_ERR(h))
		return PTR_ERR(h);
	ctx->rst.auxv = h;
	if (h->nr < 2 || h->nr % 2 || h->nr > AT_VECTOR_SIZE ||
	    h->h.len != struct_size(h, auxv, h->nr) || h->_padding)
		return ckpt_err(ctx, -EINVAL, "AUXV record of %u bytes for %u words",
				h->h.len, h->nr);
	if (h->auxv[h->nr - 2] != AT_NULL)
		return ckpt_err(ctx, -EINVAL, "auxv: not ended by AT_NULL");
	return 0;
}

/* on the restored mm, as prctl(PR_SET_MM_MAP) sets it */
void restore_auxv_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_auxv *h = ctx->rst.auxv;
	struct mm_struct *mm = current->mm;

	task_lock(current);
	memset(mm->saved_auxv, 0, sizeof(mm->saved_auxv));
	memcpy(mm->saved_auxv, h->auxv, h->nr * sizeof(h->auxv[0]));
	task_unlock(current);
}

/*
 * The job-control state of the (frozen) process @t: a complete group stop
 * (every thread stopped, by the same signal; none still to take part) or
 * a continue its parent has not waited for.  A stop or continue whose
 * notification to the parent (SIGNAL_CLD_*) the process has yet to send
 * when it next runs is transient: EAGAIN.
 */
static int checkpoint_signal_stop(struct ckpt_ctx *ctx, struct task_struct *t,
				  struct ckpt_hdr_signal *h)
{
	struct signal_struct *sig = t->signal;
	struct task_struct *p;
	unsigned long flags;
	const char *why = NULL;
	int err = -EBUSY;
	u32 signr;

	if (!lock_task_sighand(t, &flags))
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	signr = t->jobctl & JOBCTL_STOP_SIGMASK;
	if (sig->flags & SIGNAL_CLD_MASK) {
		why = "a stop or continue not yet notified to its parent";
		err = -EAGAIN;
	} else if (sig->group_stop_count) {
		why = "a job-control stop in progress";
	} else if (sig->flags & SIGNAL_STOP_STOPPED) {
		for_each_thread(t, p)
			if (!task_is_stopped(p) || p->jobctl & JOBCTL_STOP_PENDING ||
			    (p->jobctl & JOBCTL_STOP_SIGMASK) != signr)
				why = "stopped, but not every thread by the same stop";
		if (!why && (!sig_kernel_stop(signr) ||
			     (sig->group_exit_code &&
			      sig->group_exit_code != signr)))
			why = "a stop by a signal that is not a stop signal";
		h->stop_flags = CKPT_SIGNAL_STOPPED;
		h->stop_signal = signr;
		h->stop_code = sig->group_exit_code;
	} else if (sig->flags & SIGNAL_STOP_CONTINUED) {
		h->stop_flags = CKPT_SIGNAL_CONTINUED;
	}
	unlock_task_sighand(t, &flags);
	if (why)
		return ckpt_err(ctx, err, "pid %d: %s: try again", ctx->tsk_pid,
				why);
	if (h->stop_flags & CKPT_SIGNAL_STOPPED)
		ckpt_msg(ctx, "checkpoint: pid %d is stopped by signal %u%s",
			 ctx->tsk_pid, signr,
			 h->stop_code ? "" : " (reported to wait())");
	return 0;
}

int checkpoint_signal(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_signal h = { .nr_rlim = CKPT_RLIM_NLIMITS };
	struct task_struct *leader = t->group_leader;
	int i, ret;

	BUILD_BUG_ON(RLIM_NLIMITS != CKPT_RLIM_NLIMITS);
	BUILD_BUG_ON(sizeof(h) != 272);
	task_lock(leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		h.rlim[i].cur = t->signal->rlim[i].rlim_cur;
		h.rlim[i].max = t->signal->rlim[i].rlim_max;
	}
	task_unlock(leader);
	ret = t == current ? 0 : checkpoint_signal_stop(ctx, t, &h);
	if (ret)
		return ret;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_SIGNAL, sizeof(h));
}

/* @path as seen from the caller's root @own, into @buf; checked */
static char *checkpoint_fs_path(struct ckpt_ctx *ctx, const char *what,
				struct path *path, struct path *own, char *buf)
{
	char *name;

	if (path_equal(path, own))
		return "/";
	if (d_unlinked(path->dentry)) {
		ckpt_err(ctx, -ENOENT, "pid %d: %s is a deleted directory",
			 ctx->tsk_pid, what);
		return ERR_PTR(-ENOENT);
	}
	if (!path_is_under(path, own)) {
		ckpt_err(ctx, -EINVAL, "pid %d: %s is not under the caller's root",
			 ctx->tsk_pid, what);
		return ERR_PTR(-EINVAL);
	}
	name = d_path(path, buf, PATH_MAX);
	if (IS_ERR(name))
		ckpt_err(ctx, PTR_ERR(name), "pid %d: %s: path too long",
			 ctx->tsk_pid, what);
	return name;
}

int checkpoint_fs(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_fs h = { };
	struct path root, pwd, own;
	char *buf, *root_name, *pwd_name;
	int ret;

	task_lock(t);
	if (!t->fs) {
		task_unlock(t);
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	}
	get_fs_root(t->fs, &root);
	get_fs_pwd(t->fs, &pwd);
	h.umask = READ_ONCE(t->fs->umask);
	task_unlock(t);
	get_fs_root(current->fs, &own);

	ret = -ENOMEM;
	buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!buf)
		goto out;
	root_name = checkpoint_fs_path(ctx, "root", &root, &own, buf);
	ret = PTR_ERR_OR_ZERO(root_name);
	if (ret)
		goto out;
	pwd_name = checkpoint_fs_path(ctx, "cwd", &pwd, &own, buf + PATH_MAX);
	ret = PTR_ERR_OR_ZERO(pwd_name);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FS, sizeof(h));
	if (!ret)
		ret = ckpt_write_string(ctx, root_name);
	if (!ret)
		ret = ckpt_write_string(ctx, pwd_name);
out:
	kfree(buf);
	path_put(&own);
	path_put(&pwd);
	path_put(&root);
	return ret;
}

/*
 * Restart: the rlimits of the image, each one as setrlimit() would let
 * the caller set it (a hard limit above the caller's needs
 * CAP_SYS_RESOURCE), else EPERM naming the limit.  do_prlimit() checks
 * again when they are set.
 */
int restore_signal_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_signal *h = &ctx->rst.signal;
	struct task_struct *leader = current->group_leader;
	struct rlimit new, old;
	int i, ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_SIGNAL, sizeof(*h));
	if (ret)
		return ret;
	if (h->nr_rlim != CKPT_RLIM_NLIMITS)
		return ckpt_err(ctx, -EINVAL, "bad number of rlimits %u",
				h->nr_rlim);
	if (h->_padding ||
	    (h->stop_flags != CKPT_SIGNAL_STOPPED &&
	     (h->stop_flags & ~CKPT_SIGNAL_CONTINUED || h->stop_signal ||
	      h->stop_code)) ||
	    (h->stop_flags == CKPT_SIGNAL_STOPPED &&
	     (!valid_signal(h->stop_signal) || !sig_kernel_stop(h->stop_signal) ||
	      (h->stop_code && h->stop_code != h->stop_signal))))
		return ckpt_err(ctx, -EINVAL,
				"bad job-control state: flags %#x signal %u code %u",
				h->stop_flags, h->stop_signal, h->stop_code);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		new.rlim_cur = h->rlim[i].cur;
		new.rlim_max = h->rlim[i].max;
		task_lock(leader);
		old = current->signal->rlim[i];
		task_unlock(leader);
		if (new.rlim_cur > new.rlim_max)
			return ckpt_err(ctx, -EINVAL,
					"rlimit %s: soft limit %lu above hard limit %lu",
					ckpt_rlimit_names[i], new.rlim_cur,
					new.rlim_max);
		if (i == RLIMIT_NOFILE && new.rlim_max > sysctl_nr_open)
			return ckpt_err(ctx, -EPERM,
					"rlimit nofile: %lu above fs.nr_open %u",
					new.rlim_max, sysctl_nr_open);
		if (new.rlim_max > old.rlim_max && !capable(CAP_SYS_RESOURCE))
			return ckpt_err(ctx, -EPERM,
					"rlimit %s: hard limit %lu above the caller's %lu (needs CAP_SYS_RESOURCE)",
					ckpt_rlimit_names[i], new.rlim_max,
					old.rlim_max);
		ret = security_task_setrlimit(current, i, &new);
		if (ret)
			return ckpt_err(ctx, ret, "rlimit %s: refused",
					ckpt_rlimit_names[i]);
	}
	return 0;
}

/* an absolute directory path of the image that the caller may chdir to */
static int restore_fs_dir(struct ckpt_ctx *ctx, const char *what,
			  const char *name, struct path *path)
{
	int ret;

	if (name[0] != '/')
		return ckpt_err(ctx, -EINVAL, "%s %s: not an absolute path",
				what, name);
	ret = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	if (ret)
		return ckpt_err(ctx, ret, "%s %s: %s", what, name,
				ret == -ENOENT ? "no such directory" :
				ret == -ENOTDIR ? "not a directory" :
				"cannot look it up");
	ret = path_permission(path, MAY_EXEC | MAY_CHDIR);
	if (ret) {
		path_put(path);
		return ckpt_err(ctx, ret, "%s %s: no permission", what, name);
	}
	return 0;
}

int restore_fs_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_fs h;
	char *root = NULL, *pwd = NULL;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_FS, sizeof(h));
	if (ret)
		return ret;
	if (h.umask & ~0777)
		return ckpt_err(ctx, -EINVAL, "bad umask %#o", h.umask);
	ctx->rst.umask = h.umask;
	root = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(root))
		return PTR_ERR(root);
	pwd = ckpt_read_string(ctx, PATH_MAX);
	ret = PTR_ERR_OR_ZERO(pwd);
	if (ret) {
		pwd = NULL;
		goto out;
	}
	/* a root other than the caller's: only as chroot() would allow */
	if (strcmp(root, "/")) {
		ret = restore_fs_dir(ctx, "root", root, &ctx->rst.root);
		if (ret)
			goto out;
		ctx->rst.has_root = true;
		if (!ns_capable(current_user_ns(), CAP_SYS_CHROOT)) {
			ret = ckpt_err(ctx, -EPERM,
				       "root %s: chroot needs CAP_SYS_CHROOT", root);
			goto out;
		}
		ret = security_path_chroot(&ctx->rst.root);
		if (ret) {
			ckpt_err(ctx, ret, "root %s: chroot refused", root);
			goto out;
		}
	}
	ret = restore_fs_dir(ctx, "cwd", pwd, &ctx->rst.pwd);
	if (!ret)
		ctx->rst.has_pwd = true;
out:
	kvfree(root);
	kvfree(pwd);
	return ret;
}

/*
 * After the point of no return: the checks were made, only a concurrent
 * prlimit() by another task can make a limit fail now; then the task is
 * not left half restored (positive return: the caller kills it).
 */
int restore_process_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_signal *h = &ctx->rst.signal;
	struct fs_struct *fs = current->fs;
	struct rlimit new;
	int i, ret;

	for (i = 0; i < RLIM_NLIMITS; i++) {
		new.rlim_cur = h->rlim[i].cur;
		new.rlim_max = h->rlim[i].max;
		ret = do_prlimit(current, i, &new, NULL);
		if (ret) {
			ckpt_err(ctx, ret, "rlimit %s could not be set",
				 ckpt_rlimit_names[i]);
			return 1;
		}
	}
	if (ctx->rst.has_root)
		set_fs_root(fs, &ctx->rst.root);
	if (ctx->rst.has_pwd)
		set_fs_pwd(fs, &ctx->rst.pwd);
	/* a shared fs_struct (CLONE_FS) has its owner's umask */
	if (!ctx->rst.share_fs)
		xchg(&fs->umask, ctx->rst.umask);
	/* before the pdeath signal and dumpable, which a new cred resets */
	restore_cred_commit(ctx);
	restore_task_commit(ctx);
	return 0;
}

/*
 * At the very end of restart, on the restored leader with all its threads
 * made (waiting to be released): the group stop of the image, complete as
 * it was.  Each thread has the stop pending without taking part in it
 * (no JOBCTL_STOP_CONSUME: it was counted and notified at the original
 * stop), so on its way to user mode do_signal_stop() stops it, silently;
 * SIGCONT or SIGKILL go on as for any stopped process, and wait(WUNTRACED)
 * reports the stop if it had not.  A task being killed is not stopped.
 */
void restore_signal_stop_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_signal *h = &ctx->rst.signal;
	struct signal_struct *sig = current->signal;
	struct task_struct *t;

	if (!h->stop_flags)
		return;
	spin_lock_irq(&current->sighand->siglock);
	if (sig->flags & SIGNAL_GROUP_EXIT || fatal_signal_pending(current)) {
		spin_unlock_irq(&current->sighand->siglock);
		return;
	}
	if (h->stop_flags & CKPT_SIGNAL_CONTINUED) {
		signal_set_stop_flags(sig, SIGNAL_STOP_CONTINUED);
	} else {
		signal_set_stop_flags(sig, SIGNAL_STOP_STOPPED);
		sig->group_exit_code = h->stop_code;
		sig->group_stop_count = 0;
		for_each_thread(current, t) {
			t->jobctl &= ~(JOBCTL_STOP_SIGMASK | JOBCTL_STOP_CONSUME);
			t->jobctl |= JOBCTL_STOP_PENDING | h->stop_signal;
			/* a thread waiting to be released sleeps killable: no wake-up */
			signal_wake_up(t, 0);
		}
	}
	spin_unlock_irq(&current->sighand->siglock);
}

void restore_process_free(struct ckpt_ctx *ctx)
{
	if (ctx->rst.has_root)
		path_put(&ctx->rst.root);
	if (ctx->rst.has_pwd)
		path_put(&ctx->rst.pwd);
	ctx->rst.has_root = false;
	ctx->rst.has_pwd = false;
}
