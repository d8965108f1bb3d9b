// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: the threads of a process (CKPT_HDR_THREADS,
 * CKPT_HDR_THREAD_TASK).
 *
 * Checkpoint: every thread of the target's group is pinned, must be
 * frozen and inactive, and must stay so (its switch count is checked with
 * the leader's before every write).  The leader is the TASK record as for
 * a single task; after its SCHED comes the number of threads, then for each
 * other thread its tid, tid pointers and comm, its THREAD (mask, altstack,
 * robust list, rseq), CPU and FPU, its private pending signals and its
 * restart block.  What the threads share (mm, files, fs, handlers, the
 * shared queue, rlimits, timers) is saved once, with the leader.  A thread
 * whose state differs from the leader's in what restart gives every new
 * thread (credentials, scheduling, personality, ...) is refused, naming it.
 *
 * Restart: the leader is restored into the caller; then the restored
 * leader makes each other thread in the kernel (kernel_clone() with a
 * kernel function, CLONE_THREAD and its original tid through set_tid), and
 * each new thread restores its own state onto itself before it first
 * returns to user mode.  The new threads wait until the leader has made
 * all of them and finished its own restore; on any failure the whole group
 * is killed before any of them runs user code.  They start when the leader
 * returns to user mode.  A tracer of the leader with PTRACE_O_TRACECLONE
 * gets them as it gets the threads of clone() (`restart -H` holds them so).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/fs_struct.h>
#include <linux/ioprio.h>
#include <linux/iocontext.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/task_work.h>
#include <linux/vmalloc.h>

/* checkpoint: pin the other threads of @t and check that each is frozen */
int checkpoint_get_threads(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_thread_ref *r;
	struct task_struct *p;
	unsigned int i, n = 0, max;
	unsigned long ncsw;
	bool own;

	max = READ_ONCE(t->signal->nr_threads) - 1;
	if (max >= CKPT_THREADS_MAX)
		return ckpt_err(ctx, -EBUSY,
				"pid %d has %u threads: at most %u are supported",
				ctx->tsk_pid, max + 1, CKPT_THREADS_MAX);
	ctx->threads = kcalloc(max, sizeof(*ctx->threads), GFP_KERNEL);
	if (!ctx->threads)
		return -ENOMEM;
	rcu_read_lock();
	for_each_thread(t, p) {
		if (p == t)
			continue;
		if (n == max || !try_get_task_stack(p)) {
			n = max + 1;
			break;
		}
		get_task_struct(p);
		ctx->threads[n].task = p;
		ctx->threads[n].tid = ckpt_task_pid(ctx, p);
		ctx->nr_threads = ++n;
	}
	rcu_read_unlock();
	if (n != max)
		return ckpt_err(ctx, -EAGAIN,
				"pid %d: a thread was created or exited during checkpoint",
				ctx->tsk_pid);
	for (i = 0; i < n; i++) {
		r = &ctx->threads[i];
		p = r->task;
		ncsw = wait_task_inactive(p, TASK_ANY);
		if (!r->tid || p->exit_state || (READ_ONCE(p->flags) & PF_EXITING))
			return ckpt_err(ctx, -EBUSY,
					"pid %d: thread %d is exiting: not supported",
					ctx->tsk_pid, r->tid);
		if (!ncsw || !checkpoint_task_frozen(p))
			return ckpt_err(ctx, -EBUSY,
					"pid %d: thread %d is not frozen (freeze it with the freezer cgroup)",
					ctx->tsk_pid, r->tid);
		r->ncsw = ncsw;
		read_lock(&tasklist_lock);
		own = !list_empty(&p->children);
		read_unlock(&tasklist_lock);
		if (own)
			return ckpt_err(ctx, -EBUSY,
					"pid %d: thread %d has children: only a single process is supported",
					ctx->tsk_pid, r->tid);
		task_lock(p);
		own = p->files != t->files || p->fs != t->fs;
		task_unlock(p);
		if (own)
			return ckpt_err(ctx, -EBUSY,
					"pid %d: thread %d has its own file table or root/cwd (unshare()): not supported",
					ctx->tsk_pid, r->tid);
	}
	return 0;
}

void checkpoint_put_threads(struct ckpt_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->nr_threads; i++) {
		put_task_stack(ctx->threads[i].task);
		put_task_struct(ctx->threads[i].task);
	}
	kfree(ctx->threads);
	ctx->threads = NULL;
	ctx->nr_threads = 0;
}

/* part of ckpt_check_target(): the group is what was checked */
int checkpoint_check_threads(struct ckpt_ctx *ctx, const char **why)
{
	struct ckpt_thread_ref *r;
	unsigned long ncsw;
	unsigned int i;

	if (READ_ONCE(ctx->tsk->signal->nr_threads) != ctx->nr_threads + 1) {
		*why = "created or lost a thread";
		return -EAGAIN;
	}
	for (i = 0; i < ctx->nr_threads; i++) {
		r = &ctx->threads[i];
		if (r->task->exit_state || (READ_ONCE(r->task->flags) & PF_EXITING)) {
			*why = "lost a thread";
			return -ESRCH;
		}
		if (!checkpoint_task_frozen(r->task)) {
			*why = "had a thread thawed";
			return -EAGAIN;
		}
		ncsw = wait_task_inactive(r->task, TASK_ANY);
		if (!ncsw || ncsw != r->ncsw) {
			*why = "had a thread run (thawed)";
			return -EAGAIN;
		}
	}
	return 0;
}

static bool ckpt_same_cred(const struct cred *a, const struct cred *b)
{
	return a == b ||
	       (uid_eq(a->uid, b->uid) && uid_eq(a->euid, b->euid) &&
		uid_eq(a->suid, b->suid) && uid_eq(a->fsuid, b->fsuid) &&
		gid_eq(a->gid, b->gid) && gid_eq(a->egid, b->egid) &&
		gid_eq(a->sgid, b->sgid) && gid_eq(a->fsgid, b->fsgid) &&
		a->securebits == b->securebits &&
		a->group_info == b->group_info && a->user_ns == b->user_ns &&
		!memcmp(&a->cap_inheritable, &b->cap_inheritable,
			sizeof(kernel_cap_t)) &&
		!memcmp(&a->cap_permitted, &b->cap_permitted,
			sizeof(kernel_cap_t)) &&
		!memcmp(&a->cap_effective, &b->cap_effective,
			sizeof(kernel_cap_t)) &&
		!memcmp(&a->cap_bset, &b->cap_bset, sizeof(kernel_cap_t)) &&
		!memcmp(&a->cap_ambient, &b->cap_ambient, sizeof(kernel_cap_t)));
}

static int ckpt_ioprio(struct task_struct *t)
{
	int prio;

	task_lock(t);
	prio = t->io_context ? t->io_context->ioprio : IOPRIO_DEFAULT;
	task_unlock(t);
	return prio;
}

/*
 * What a thread made at restart gets from the restored leader, which is
 * saved once: a thread that differs is refused, never restored wrongly.
 */
static const char *ckpt_thread_differs(struct task_struct *t,
				       struct task_struct *p)
{
	bool same;

	rcu_read_lock();
	same = ckpt_same_cred(__task_cred(t), __task_cred(p)) &&
	       ckpt_same_cred(rcu_dereference(t->real_cred),
			      rcu_dereference(p->real_cred));
	rcu_read_unlock();
	if (!same)
		return "credentials differ from the leader's (setresuid() in one thread)";
	if (p->personality != t->personality)
		return "personality differs from the leader's";
	if (p->pdeath_signal)
		return "parent-death signal of its own (PR_SET_PDEATHSIG)";
	if (p->timer_slack_ns != t->timer_slack_ns ||
	    p->default_timer_slack_ns != t->timer_slack_ns)
		return "timer slack differs from the leader's";
	if (task_no_new_privs(p) != task_no_new_privs(t))
		return "no_new_privs differs from the leader's";
	if (t->sched_reset_on_fork)
		return "the leader has SCHED_RESET_ON_FORK: threads would not inherit its policy";
	if (p->policy != t->policy || p->static_prio != t->static_prio ||
	    p->rt_priority != t->rt_priority || p->sched_reset_on_fork ||
	    !cpumask_equal(&p->cpus_mask, &t->cpus_mask))
		return "scheduling policy, nice or affinity differs from the leader's";
	if (ckpt_ioprio(p) != ckpt_ioprio(t))
		return "I/O priority differs from the leader's";
	return NULL;
}

static int checkpoint_one_thread(struct ckpt_ctx *ctx, struct task_struct *t,
				 struct task_struct *p, pid_t tid)
{
	struct ckpt_hdr_thread_task h = { };
	const char *why;
	int ret;

	BUILD_BUG_ON(sizeof(h) != 48);
	ret = checkpoint_process_check(ctx, p);
	if (ret)
		return ret;
	why = ckpt_thread_differs(t, p);
	if (why)
		return ckpt_err(ctx, -EOPNOTSUPP, "pid %d: thread %d: %s",
				task_tgid_vnr(t), tid, why);
	h.tid = tid;
	h.tgid = ckpt_pid_nr(ctx, task_tgid(t));
	h.set_child_tid = (unsigned long)p->set_child_tid;
	h.clear_child_tid = (unsigned long)p->clear_child_tid;
	BUILD_BUG_ON(sizeof(h.comm) != TASK_COMM_LEN);
	get_task_comm(h.comm, p);
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_THREAD_TASK, sizeof(h));
	if (!ret)
		ret = checkpoint_thread(ctx, p);
	if (!ret)
		ret = ckpt_check_target(ctx);
	if (!ret)
		ret = ckpt_arch_write_cpu(ctx, p);
	if (!ret)
		ret = checkpoint_sigpending_private(ctx, p);
	if (!ret)
		ret = checkpoint_task_restart_block(ctx, p);
	return ret;
}

/* after the leader's SCHED: the number of threads, then each other thread */
int checkpoint_threads(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_threads h = { .nr_threads = ctx->nr_threads + 1 };
	pid_t leader = ctx->tsk_pid;
	unsigned int i;
	int ret;

	BUILD_BUG_ON(sizeof(h) != 16);
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_THREADS, sizeof(h));
	for (i = 0; !ret && i < ctx->nr_threads; i++) {
		/* messages of the per-task code name the thread */
		ctx->tsk_pid = ctx->threads[i].tid;
		ret = checkpoint_one_thread(ctx, t, ctx->threads[i].task,
					    ctx->threads[i].tid);
		ctx->tsk_pid = leader;
	}
	return ret;
}

/* restart: the THREADS record and the records of each other thread */
static int restore_read_thread_task(struct ckpt_ctx *ctx, unsigned int i)
{
	struct ckpt_rst_thread *rt = &ctx->rst.threads[i];
	struct ckpt_hdr_thread_task *h = &rt->task;
	pid_t leader = ctx->rst.task.pid;
	unsigned int j;
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_THREAD_TASK, sizeof(*h));
	if (ret)
		return ret;
	if (h->tid <= 0 || h->tid == leader)
		return ckpt_err(ctx, -EINVAL, "thread %u: bad tid %d", i, h->tid);
	if (h->tgid != leader)
		return ckpt_err(ctx, -EINVAL,
				"thread %d: its leader %d is not in the image (the process is %d)",
				h->tid, h->tgid, leader);
	for (j = 0; j < i; j++)
		if (ctx->rst.threads[j].task.tid == h->tid)
			return ckpt_err(ctx, -EINVAL, "thread %d: tid twice in the image",
					h->tid);
	h->comm[sizeof(h->comm) - 1] = '\0';
	ret = restore_thread_check(ctx, &rt->thread);
	if (!ret)
		ret = ckpt_arch_read_cpu_into(ctx, &rt->cpu, &rt->fpu);
	if (!ret)
		ret = restore_sigpending_read_private(ctx, &rt->sigpending);
	if (!ret)
		ret = restore_restart_block_check(ctx, &rt->restart_block,
						  &rt->cpu);
	return ret;
}

/*
 * The tids must be the original ones (glibc keeps its tid in struct
 * pthread), and so must the leader's pid: checked here, so that the
 * common failures are the caller's errno; creating the threads checks
 * again (a tid taken meanwhile).
 */
static int restore_threads_check_ids(struct ckpt_ctx *ctx)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	pid_t leader = ctx->rst.task.pid, tid;
	unsigned int i;
	bool used;

	if (leader != task_pid_vnr(current))
		return ckpt_err(ctx, -EINVAL,
				"image of pid %d with %u threads: the caller is pid %d (threads need their leader's pid: restart -p)",
				leader, ctx->rst.nr_threads + 1,
				task_pid_vnr(current));
	if (!checkpoint_restore_ns_capable(ns->user_ns))
		return ckpt_err(ctx, -EPERM,
				"thread %d: restoring a thread with its tid needs CAP_CHECKPOINT_RESTORE",
				ctx->rst.threads[0].task.tid);
	for (i = 0; i < ctx->rst.nr_threads; i++) {
		tid = ctx->rst.threads[i].task.tid;
		if (tid >= pid_max)
			return ckpt_err(ctx, -EINVAL, "thread %d: tid above pid_max %d",
					tid, pid_max);
		rcu_read_lock();
		used = find_vpid(tid);
		rcu_read_unlock();
		if (used)
			return ckpt_err(ctx, -EEXIST,
					"thread %d: tid in use by another task",
					tid);
	}
	return 0;
}

int restore_threads_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_threads h;
	unsigned int i;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_THREADS, sizeof(h));
	if (ret)
		return ret;
	if (!h.nr_threads || h.nr_threads > CKPT_THREADS_MAX || h._padding)
		return ckpt_err(ctx, -EINVAL, "bad number of threads %u",
				h.nr_threads);
	if (h.nr_threads == 1)
		return 0;
	if (ctx->rst.task.task_flags & CKPT_TASK_SELF)
		return ckpt_err(ctx, -EINVAL,
				"self checkpoint of a process with %u threads",
				h.nr_threads);
	ctx->rst.threads = kvcalloc(h.nr_threads - 1, sizeof(*ctx->rst.threads),
				    GFP_KERNEL);
	if (!ctx->rst.threads)
		return -ENOMEM;
	for (i = 0; i < h.nr_threads - 1; i++) {
		ctx->rst.nr_threads = i + 1;
		ret = restore_read_thread_task(ctx, i);
		if (ret)
			return ret;
	}
	return restore_threads_check_ids(ctx);
}

/* before the commit: each thread's FPU state, checked as the leader's */
int restore_threads_prepare(struct ckpt_ctx *ctx)
{
	struct ckpt_rst_thread *rt;
	unsigned int i;
	int ret;

	for (i = 0; i < ctx->rst.nr_threads; i++) {
		rt = &ctx->rst.threads[i];
		ret = ckpt_arch_prepare_fpu_into(ctx, rt->fpu, &rt->fpstate,
						 &rt->pkru);
		if (ret)
			return ckpt_err(ctx, ret, "thread %d: FPU state",
					rt->task.tid);
	}
	return 0;
}

void restore_threads_free(struct ckpt_ctx *ctx)
{
	struct ckpt_rst_thread *rt;
	unsigned int i;

	for (i = 0; i < ctx->rst.nr_threads; i++) {
		rt = &ctx->rst.threads[i];
		kvfree(rt->fpu);
		vfree(rt->fpstate);
		kvfree(rt->sigpending);
	}
	kvfree(ctx->rst.threads);
	ctx->rst.threads = NULL;
	ctx->rst.nr_threads = 0;
}

/* the gate the new threads wait at, until the leader is done */
struct ckpt_thread_gate {
	refcount_t users;
	struct completion go;
	bool ok;
};

static void ckpt_thread_gate_put(struct ckpt_thread_gate *gate)
{
	if (refcount_dec_and_test(&gate->users))
		kfree(gate);
}

/* ret_from_fork() writes ax = 0 after the kernel function: set it later */
struct ckpt_thread_ax {
	struct callback_head work;
	long ax;
};

static void ckpt_thread_set_ax(struct callback_head *work)
{
	struct ckpt_thread_ax *w = container_of(work, struct ckpt_thread_ax, work);

	current_pt_regs()->ax = w->ax;
	kfree(w);
}

struct ckpt_thread_start {
	struct ckpt_rst_thread *rt;
	struct ckpt_thread_gate *gate;
	struct ckpt_thread_ax *ax;
	struct completion ready;
	bool stopped;		/* the process is restored stopped */
	int err;
};

/*
 * The new thread, in the kernel: it restores itself, tells the leader,
 * and waits at the gate.  The image's records (@rt) are not touched after
 * the leader was told.
 */
static int restore_thread_fn(void *arg)
{
	struct ckpt_thread_start *s = arg;
	struct ckpt_rst_thread *rt = s->rt;
	struct ckpt_thread_gate *gate = s->gate;
	struct ckpt_thread_ax *w = s->ax;
	int err;

	restore_thread_apply(&rt->thread, rt->task.comm, rt->task.set_child_tid,
			     rt->task.clear_child_tid);
	restore_restart_block_apply(&rt->restart_block);
	w->ax = ckpt_arch_restore_regs(&rt->cpu, rt->fpstate, rt->pkru,
				       rt->restart_block.kind !=
				       CKPT_RESTART_NONE, s->stopped ||
				       (rt->thread.flags &
					CKPT_THREAD_TEMP_MASK));
	/* get_signal() runs it before it applies a syscall restart rule */
	init_task_work(&w->work, ckpt_thread_set_ax);
	err = task_work_add(current, &w->work, TWA_SIGNAL);
	if (err)
		kfree(w);
	if (!err)
		err = restore_sigpending_private(rt->sigpending);
	s->err = err;
	complete(&s->ready);

	wait_for_completion_killable(&gate->go);
	if (!READ_ONCE(gate->ok))
		force_fatal_sig(SIGKILL);
	ckpt_thread_gate_put(gate);
	return 0;
}

static int restore_one_thread(struct ckpt_ctx *ctx, struct ckpt_rst_thread *rt,
			      struct ckpt_thread_gate *gate)
{
	struct ckpt_thread_start s = {
		.rt = rt, .gate = gate,
		.stopped = ctx->rst.signal.stop_flags & CKPT_SIGNAL_STOPPED,
	};
	pid_t tid = rt->task.tid;
	struct kernel_clone_args args = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM,
		.exit_signal = 0,
		.fn = restore_thread_fn,
		.fn_arg = &s,
		.set_tid = &tid,
		.set_tid_size = 1,
	};
	pid_t nr;

	s.ax = kmalloc(sizeof(*s.ax), GFP_KERNEL);
	if (!s.ax)
		return -ENOMEM;
	init_completion(&s.ready);
	refcount_inc(&gate->users);
	nr = kernel_clone(&args);
	if (nr < 0) {
		ckpt_thread_gate_put(gate);
		kfree(s.ax);
		return ckpt_err(ctx, nr,
				"thread %d: cannot be made with its tid%s",
				rt->task.tid,
				nr == -EEXIST ? ": tid in use by another task" :
				nr == -EPERM ? ": needs CAP_CHECKPOINT_RESTORE" :
				nr == -ERESTARTNOINTR ? ": a signal arrived" : "");
	}
	wait_for_completion(&s.ready);
	if (s.err)
		return ckpt_err(ctx, s.err, "thread %d: its pending signals could not be queued",
				rt->task.tid);
	if (nr != rt->task.tid)
		return ckpt_err(ctx, -EEXIST, "thread %d: made as %d",
				rt->task.tid, nr);
	return 0;
}

/*
 * After the leader's commit, by the restored leader: every other thread,
 * each waiting at the gate.  On failure the caller kills the group;
 * restore_threads_release() opens the gate.
 */
int restore_threads_create(struct ckpt_ctx *ctx)
{
	struct ckpt_thread_gate *gate;
	unsigned int i;
	int ret = 0;

	if (!ctx->rst.nr_threads)
		return 0;
	gate = kzalloc(sizeof(*gate), GFP_KERNEL);
	if (!gate)
		return -ENOMEM;
	refcount_set(&gate->users, 1);
	init_completion(&gate->go);
	ctx->rst.gate = gate;
	for (i = 0; !ret && i < ctx->rst.nr_threads; i++)
		ret = restore_one_thread(ctx, &ctx->rst.threads[i], gate);
	if (!ret)
		ckpt_msg(ctx, "restart: %u threads made with their tids",
			 ctx->rst.nr_threads);
	return ret;
}

static void ckpt_thread_gate_open(struct ckpt_thread_gate *gate, bool ok)
{
	WRITE_ONCE(gate->ok, ok);
	complete_all(&gate->go);
	ckpt_thread_gate_put(gate);
}

struct ckpt_thread_go {
	struct callback_head work;
	struct ckpt_thread_gate *gate;
};

static void ckpt_thread_go(struct callback_head *work)
{
	struct ckpt_thread_go *g = container_of(work, struct ckpt_thread_go, work);

	ckpt_thread_gate_open(g->gate, !(current->flags & PF_EXITING));
	kfree(g);
}

/*
 * Let the new threads run (@ok), or die: none has run user code yet.  On
 * success the gate opens when the leader itself goes back to user mode
 * (a task work; ptrace_notify() runs it before a tracer's syscall-exit
 * stop, so `restart -H` holds the threads by PTRACE_O_TRACECLONE).  In a
 * tree, a task other than the root goes back to user mode only when the
 * whole tree does (tree.c): its threads wait with it.
 */
void restore_threads_release(struct ckpt_ctx *ctx, bool ok)
{
	struct ckpt_thread_gate *gate = ctx->rst.gate;
	struct ckpt_thread_go *g;

	if (!gate)
		return;
	ctx->rst.gate = NULL;
	g = ok ? kmalloc(sizeof(*g), GFP_KERNEL) : NULL;
	if (g) {
		g->gate = gate;
		init_task_work(&g->work, ckpt_thread_go);
		if (!task_work_add(current, &g->work, TWA_RESUME))
			return;
		kfree(g);
	}
	ckpt_thread_gate_open(gate, false);
	if (ok)
		force_fatal_sig(SIGKILL);
}
