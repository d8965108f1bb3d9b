// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: process trees.
 *
 * Checkpoint (CHECKPOINT_SUBTREE) of a root task saves it and all its
 * descendants: the hierarchy first (CKPT_HDR_TREE: pid, parent, process
 * group, session, exit signal, zombie state of every task, depth first),
 * then the state of every live task in that order, each checked as the
 * single target is (frozen, ptrace access, not changed meanwhile).  A
 * task of the tree that shares something with a task outside it is
 * refused, naming both (the "leak" check): a pipe, a UNIX socket's peer,
 * a descriptor table, an fs_struct or an mm; and a process group or
 * session whose leader is outside the tree (other than the root's own,
 * which restart gives the restarting caller).
 *
 * Restart: the caller restores the root into itself, as for a single
 * task; the kernel creates the other tasks, each by a kernel_clone() of
 * its parent (restored, or being restored) with its original pid
 * (set_tid: CAP_CHECKPOINT_RESTORE over the pid namespace), running
 * restore_tree_child() in the kernel.  The tasks take turns on the shared
 * context (one reads the stream at a time, in the image's order): every
 * task is read and built, the tail is checked, zombies exit with their
 * status, every task is committed, and only then the tasks return to user
 * mode, with the registers of the image.  On any failure before that,
 * every created task is killed before it runs a user instruction and the
 * caller gets the error.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/checkpoint_ctx.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/task_work.h>
#include <linux/tty.h>
#include <linux/wait.h>
#include <asm/ptrace.h>

/* what checkpoint_get_target() took for one task */
struct ckpt_tree_sel {
	struct task_struct *tsk;
	struct mm_struct *mm;
	pid_t pid;
	u64 exec_id;
	unsigned long ncsw;
	bool ready;
	struct ckpt_thread_ref *threads;	/* its other threads, pinned */
	unsigned int nr_threads;
};

/* restart: the others run once the root returns to user mode */
struct ckpt_tree_go {
	struct callback_head work;
	struct ckpt_tree *tree;
};

/* the handler a zombie's caught signals show (it never runs one) */
#define CKPT_TREE_CAUGHT	((__sighandler_t)2)

/* restart: the registers' ax, set once the task is back from fork */
struct ckpt_tree_ax {
	struct callback_head work;
	long ax;
};

struct ckpt_tree;

struct ckpt_tree_ent {
	struct ckpt_tree_task h;
	struct task_struct *t;		/* referenced */
	pid_t vpid;			/* checkpoint: its pid in the caller's */
	/* checkpoint */
	struct ckpt_tree_sel sel;
	struct ckpt_fd *fds;		/* its descriptors, referenced */
	int nfds;
	/* restart */
	struct ckpt_tree *tree;
	struct ckpt_restore *rst;	/* its state while another's is used */
	struct ckpt_tree_ax *ax;
	int size;			/* tasks in its subtree */
	bool live;			/* state read, not yet freed */
	long ret;			/* what it returns to user mode */
	struct tty_struct *ctty;	/* its controlling tty, the context's */
	pid_t ctty_pgrp;		/* the foreground group of the image */
};

/* restart phases, driven by the root */
enum {
	CKPT_TREE_CREATE,	/* the tasks are created */
	CKPT_TREE_READ,		/* each reads its state, in turn */
	CKPT_TREE_EXIT,		/* zombies exit */
	CKPT_TREE_COMMIT,	/* each commits its state, in turn */
	CKPT_TREE_RUN,		/* all return to user mode */
	CKPT_TREE_ABORT,	/* each frees its state in turn, all die */
};

struct ckpt_tree {
	refcount_t ref;			/* restart: the context and the tasks */
	int n;
	int max;			/* checkpoint: room for the ghosts */
	struct ckpt_tree_ent *ents;	/* [0] is the root */
	bool multi;			/* more than one task */
	u32 nr_ctty;			/* tasks with a controlling tty */
	/* restart */
	struct ckpt_ctx *ctx;
	struct mutex lock;		/* messages of concurrent tasks */
	wait_queue_head_t wq;
	int phase;
	int turn;			/* the task on the context, 0: root */
	int pending;			/* tasks not yet created */
	int active;			/* created tasks still on the tree */
	int err;
	bool started;
	bool root_parked;
	bool root_traced;		/* the others run when a tracer lets it */
	bool subreaper;			/* the caller's, while it reaps them */
	bool ctty_set;			/* the root got its controlling tty */
	struct ckpt_restore *spare;	/* for swapping the states */
};

bool ckpt_tree_multi(struct ckpt_ctx *ctx)
{
	return ctx->tree && ctx->tree->multi;
}

/*
 * Checkpoint: the mm of the parent of the task being saved, referenced,
 * if the parent is a live task of the tree with an mm of its own (NULL
 * for the root, a zombie's child or a clone(CLONE_VM) child).
 */
struct mm_struct *ckpt_tree_parent_mm(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	struct mm_struct *mm;
	int i, p;

	if (!tree || !tree->multi)
		return NULL;
	for (i = 1; i < tree->n; i++)
		if (tree->ents[i].t == ctx->tsk)
			break;
	if (i >= tree->n)
		return NULL;
	p = tree->ents[i].h.parent;
	if (p < 0 || p >= i ||
	    tree->ents[p].h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
		return NULL;
	mm = get_task_mm(tree->ents[p].t);
	if (mm == ctx->mm) {
		mmput(mm);
		return NULL;
	}
	return mm;
}

/*
 * Restart: the new mm of the parent of the task whose state is being
 * read (tree->turn), built in its own turn before; NULL if there is none
 * (the root, a zombie's child, a parent without one).
 */
struct mm_struct *restore_tree_parent_mm(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	struct ckpt_tree_ent *pe;
	int p;

	if (!tree || !tree->multi || tree->turn <= 0 || tree->turn >= tree->n)
		return NULL;
	p = tree->ents[tree->turn].h.parent;
	if (p < 0 || p >= tree->turn)
		return NULL;
	pe = &tree->ents[p];
	/* the root's state is put aside while the others read theirs */
	if (pe->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST) || !pe->rst ||
	    (p == 0 ? !tree->root_parked : !pe->live))
		return NULL;
	return pe->rst->new_mm;
}

/* the pid namespace of the image's pids: the checkpointed one's, or ours */
static struct pid_namespace *ckpt_pid_ns(struct ckpt_ctx *ctx)
{
	return ctx->pid_ns ?: task_active_pid_ns(current);
}

/* @pid as the image has it (0: not seen there) */
pid_t ckpt_pid_nr(struct ckpt_ctx *ctx, struct pid *pid)
{
	return pid_nr_ns(pid, ckpt_pid_ns(ctx));
}

pid_t ckpt_task_pid(struct ckpt_ctx *ctx, struct task_struct *t)
{
	return task_pid_nr_ns(t, ckpt_pid_ns(ctx));
}

/* @n tasks, room for @max (the ghosts a checkpoint adds) */
static struct ckpt_tree *ckpt_tree_alloc(struct ckpt_ctx *ctx, int n, int max)
{
	struct ckpt_tree *tree;

	tree = kzalloc(sizeof(*tree), GFP_KERNEL);
	if (!tree)
		return NULL;
	tree->ents = kvcalloc(max, sizeof(*tree->ents), GFP_KERNEL);
	if (!tree->ents) {
		kfree(tree);
		return NULL;
	}
	refcount_set(&tree->ref, 1);
	tree->n = n;
	tree->max = max;
	tree->multi = n > 1;
	tree->ctx = ctx;
	mutex_init(&tree->lock);
	init_waitqueue_head(&tree->wq);
	ctx->tree = tree;
	return tree;
}

/* checkpoint: select the task whose state is read and written */
static void ckpt_tree_select(struct ckpt_ctx *ctx, struct ckpt_tree_sel *out,
			     const struct ckpt_tree_sel *in)
{
	out->tsk = ctx->tsk;
	out->mm = ctx->mm;
	out->pid = ctx->tsk_pid;
	out->exec_id = ctx->tsk_exec_id;
	out->ncsw = ctx->tsk_ncsw;
	out->ready = ctx->tsk_ready;
	out->threads = ctx->threads;
	out->nr_threads = ctx->nr_threads;
	ctx->tsk = in->tsk;
	ctx->mm = in->mm;
	ctx->tsk_pid = in->pid;
	ctx->tsk_exec_id = in->exec_id;
	ctx->tsk_ncsw = in->ncsw;
	ctx->tsk_ready = in->ready;
	ctx->threads = in->threads;
	ctx->nr_threads = in->nr_threads;
}

/*
 * The tasks of the subtree of @root in depth-first order (parents before
 * their children), under tasklist_lock: their number, and if @ents, the
 * first @max of them, referenced, with their parents' indexes.
 */
static int ckpt_tree_walk(struct task_struct *root, struct ckpt_tree_ent *ents,
			  int max)
{
	struct task_struct *t = root;
	int n = 0, cur = -1, parent = -1;

	for (;;) {
		if (ents && n < max) {
			ents[n].t = get_task_struct(t);
			ents[n].h.parent = parent;
		}
		cur = n++;
		if (!list_empty(&t->children)) {
			parent = cur;
			t = list_first_entry(&t->children, struct task_struct,
					     sibling);
			continue;
		}
		/* up to the first ancestor with a next sibling */
		while (t != root &&
		       list_is_last(&t->sibling, &t->real_parent->children)) {
			t = t->real_parent;
			if (ents && cur < max)
				cur = ents[cur].h.parent;
		}
		if (t == root)
			break;
		t = list_next_entry(t, sibling);
		if (ents && cur < max)
			parent = ents[cur].h.parent;
	}
	return n;
}

static void ckpt_tree_put_tasks(struct ckpt_tree *tree)
{
	int i, j;

	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		for (j = 0; j < e->nfds; j++)
			fput(e->fds[j].file);
		kvfree(e->fds);
		e->fds = NULL;
		e->nfds = 0;
		if (e->t)
			put_task_struct(e->t);
		e->t = NULL;
	}
}

static bool ckpt_tree_has(struct ckpt_tree *tree, struct task_struct *p)
{
	int i;

	for (i = 0; tree && i < tree->n; i++)
		if (tree->ents[i].t == p)
			return true;
	return false;
}

/* the index of the task of pid @pid, -1 if none */
static int ckpt_tree_find(struct ckpt_tree *tree, pid_t pid)
{
	int i;

	for (i = 0; pid > 0 && i < tree->n; i++)
		if (tree->ents[i].h.pid == pid)
			return i;
	return -1;
}

/*
 * Is the task of @e of another pid namespace than the image's, or does it
 * make its children in another (unshare(CLONE_NEWPID))?
 */
static bool ckpt_tree_nested(struct ckpt_tree_ent *e, struct pid_namespace *ns)
{
	bool nested;

	if (task_active_pid_ns(e->t) != ns)
		return true;
	task_lock(e->t);
	nested = e->t->nsproxy && e->t->nsproxy->pid_ns_for_children != ns;
	task_unlock(e->t);
	return nested;
}

/*
 * The group or session @nr of the tree, named by task @e, has no task of
 * the tree with that pid: its leader is dead (its pid names only them) and
 * it is saved as a ghost, or it is alive outside and refused.
 */
static int ckpt_tree_ghost(struct ckpt_ctx *ctx, struct ckpt_tree *tree,
			   struct ckpt_tree_ent *e, pid_t nr, bool session)
{
	const char *what = session ? "session" : "process group";
	struct ckpt_tree_ent *g;
	struct pid *pid;
	bool dead;

	rcu_read_lock();
	pid = find_pid_ns(nr, ckpt_pid_ns(ctx));
	dead = pid && !pid_task(pid, PIDTYPE_PID);
	rcu_read_unlock();
	if (!dead)
		return ckpt_err(ctx, -EBUSY,
				"pid %d: %s %d: its leader is outside the checkpoint",
				e->h.pid, what, nr);
	if (tree->n == tree->max || tree->n == CKPT_TREE_MAX)
		return ckpt_err(ctx, -EBUSY, "%s %d: no room for its ghost leader",
				what, nr);
	/* its leader led its group (a session leader cannot leave its own) */
	g = &tree->ents[tree->n++];
	g->h.pid = nr;
	g->h.parent = 0;
	g->h.pgid = nr;
	g->h.sid = session ? nr : e->h.sid;
	g->h.flags = CKPT_TREE_GHOST;
	ckpt_msg(ctx, "checkpoint: pid %d: the dead leader of %s %d, saved as a ghost",
		 nr, what, nr);
	return 0;
}

/*
 * Process group and session of every task: 0 when it is the root's and
 * the root does not lead it (restart gives the caller's), else the pid
 * of a task of the tree or of a ghost (a dead leader); refused otherwise.
 * Pids as seen in the image's pid namespace (the checkpointed one's).
 */
static int ckpt_tree_groups(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	struct pid_namespace *ns = ckpt_pid_ns(ctx);
	struct task_struct *root = tree->ents[0].t;
	struct pid *rpgrp, *rsess, *pg, *sess;
	bool outside;
	int i, ret;

	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		rcu_read_lock();
		rpgrp = task_pgrp(root);
		rsess = task_session(root);
		pg = task_pgrp(e->t);
		sess = task_session(e->t);
		e->vpid = task_pid_vnr(e->t);
		e->h.pid = task_pid_nr_ns(e->t, ns);
		e->h.pgid = pg == rpgrp && pg != task_pid(root) ? 0 :
			    pid_nr_ns(pg, ns);
		e->h.sid = sess == rsess && sess != task_pid(root) ? 0 :
			   pid_nr_ns(sess, ns);
		/* a group or session of no pid in the namespace (not the root's) */
		outside = (!e->h.pgid && pg != rpgrp) ||
			  (!e->h.sid && sess != rsess);
		rcu_read_unlock();
		if (e->h.pid <= 0 || ckpt_tree_nested(e, ns)) {
			if (ctx->pid_ns)
				return ckpt_err(ctx, -EOPNOTSUPP,
						"pid %d: nested pid namespace",
						e->vpid);
			return ckpt_err(ctx, -EOPNOTSUPP,
					"pid %d: task of another pid namespace not supported",
					e->vpid);
		}
		if (outside)
			return ckpt_err(ctx, -EBUSY,
					"pid %d: its process group or session is led from outside the pid namespace",
					e->vpid);
	}
	/* the ghosts are added at the end: they are checked too */
	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		ret = 0;
		if (e->h.pgid && ckpt_tree_find(tree, e->h.pgid) < 0)
			ret = ckpt_tree_ghost(ctx, tree, e, e->h.pgid, false);
		if (!ret && e->h.sid && ckpt_tree_find(tree, e->h.sid) < 0)
			ret = ckpt_tree_ghost(ctx, tree, e, e->h.sid, true);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A pid namespace: every task in it is of the tree (a task that entered
 * it with setns() and is not a descendant of its init is refused).
 */
static int ckpt_tree_pidns_all(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	struct task_struct *p;
	pid_t other = 0, nr = 0;

	if (!ctx->pid_ns)
		return 0;
	rcu_read_lock();
	for_each_process(p) {
		nr = task_pid_nr_ns(p, ctx->pid_ns);
		if (nr > 0 && !ckpt_tree_has(tree, p)) {
			other = task_pid_vnr(p);
			break;
		}
	}
	rcu_read_unlock();
	if (other)
		return ckpt_err(ctx, -EBUSY,
				"pid %d (pid %d in the namespace): in the pid namespace, not a descendant of its init: not supported",
				other, nr);
	return 0;
}

/* what /proc shows of a zombie beside its status: its name and handlers */
static void ckpt_tree_zombie_signals(struct task_struct *t,
				     struct ckpt_tree_task *h)
{
	unsigned long flags;
	int sig;

	BUILD_BUG_ON(sizeof(h->comm) != TASK_COMM_LEN);
	get_task_comm(h->comm, t);
	if (!lock_task_sighand(t, &flags))
		return;
	for (sig = 1; sig <= _NSIG; sig++) {
		void __user *handler = t->sighand->action[sig - 1].sa.sa_handler;

		if (handler == SIG_IGN)
			h->sigign |= 1ULL << (sig - 1);
		else if (handler != SIG_DFL)
			h->sigcatch |= 1ULL << (sig - 1);
	}
	unlock_task_sighand(t, &flags);
}

/* a task of the tree, other than the root: checked as the target is */
static int ckpt_tree_get_task(struct ckpt_ctx *ctx, struct ckpt_tree_ent *e)
{
	struct ckpt_tree_sel none = { };
	struct task_struct *t = e->t;
	int ret;

	if (t->exit_state) {
		if (t->exit_state != EXIT_ZOMBIE || !thread_group_empty(t))
			return ckpt_err(ctx, -EAGAIN,
					"pid %d is being reaped or has live threads",
					e->h.pid);
		e->h.flags = CKPT_TREE_ZOMBIE;
		e->h.exit_code = t->exit_code;
		e->h.exit_signal = t->exit_signal;
		ckpt_tree_zombie_signals(t, &e->h);
		return 0;
	}
	e->h.exit_signal = t->exit_signal;
	ckpt_tree_select(ctx, &e->sel, &none);
	ret = checkpoint_get_target(ctx, e->vpid);
	if (!ret && ctx->tsk != t)
		ret = ckpt_err(ctx, -EAGAIN, "pid %d changed during checkpoint",
			       e->h.pid);
	ckpt_tree_select(ctx, &none, &e->sel);
	swap(none, e->sel);
	return ret;
}

/* the live tasks of the sessions the tree leads that have a controlling tty */
static u32 ckpt_tree_ctty_count(struct ckpt_tree *tree)
{
	u32 n = 0;
	int i;

	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST) || !e->h.sid)
			continue;
		spin_lock_irq(&e->t->sighand->siglock);
		n += !!e->t->signal->tty;
		spin_unlock_irq(&e->t->sighand->siglock);
	}
	return n;
}

/* a task of the tree leads process group @pgid of session @sid */
static bool ckpt_tree_group_of(struct ckpt_tree *tree, pid_t pgid, pid_t sid)
{
	int i;

	for (i = 0; i < tree->n; i++)
		if (tree->ents[i].h.pid == pgid)
			return tree->ents[i].h.pgid == pgid &&
			       tree->ents[i].h.sid == sid;
	return false;
}

/*
 * The CTTY record, after every task's files: the controlling tty of each
 * task of a session the tree leads, a pty of the image (else refused),
 * its foreground group a group of the tree in that session.
 */
static int checkpoint_tree_ctty(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	size_t len = sizeof(struct ckpt_hdr) +
		     tree->nr_ctty * sizeof(struct ckpt_ctty);
	struct ckpt_ctty *c;
	u32 k = 0, j;
	int i, ret = 0;

	c = kcalloc(tree->nr_ctty + 1, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	for (i = 0; i < tree->n && !ret && k <= tree->nr_ctty; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST) || !e->h.sid)
			continue;
		ret = checkpoint_ctty(ctx, e->t, e->h.pid, e->h.sid, &c[k]);
		if (ret > 0) {
			k++;
			ret = 0;
		}
	}
	if (!ret && k != tree->nr_ctty)
		ret = ckpt_err(ctx, -EAGAIN,
			       "the controlling ttys changed during checkpoint");
	for (j = 0; j < k && !ret; j++) {
		u32 l;

		for (l = 0; l < k; l++)
			if (c[l].pid == c[j].sid && c[l].pty_ref == c[j].pty_ref)
				break;
		if (l == k)
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "pid %d: a controlling tty that the leader of its session %d does not have",
				       c[j].pid, c[j].sid);
		else if (c[j].pgrp &&
			 !ckpt_tree_group_of(tree, c[j].pgrp, c[j].sid))
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "pid %d: session %d: foreground process group %d has no leader in the checkpoint",
				       c[j].pid, c[j].sid, c[j].pgrp);
	}
	if (!ret)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_CTTY,
				     len - sizeof(struct ckpt_hdr));
	if (!ret)
		ret = ckpt_kwrite(ctx, c, len - sizeof(struct ckpt_hdr));
	if (!ret)
		ret = ckpt_write_pad(ctx, len);
	kfree(c);
	return ret;
}

/* the descriptors of every live task: what the leak check looks at */
static const void *ckpt_tree_table_of(struct task_struct *t, bool fs)
{
	return fs ? (const void *)READ_ONCE(t->fs) :
		    (const void *)READ_ONCE(t->files);
}

/* a task outside the tree with @table as its fs_struct (@fs) or file table */
static pid_t ckpt_tree_table_sharer(struct ckpt_tree *tree, const void *table,
				    bool fs)
{
	struct task_struct *g, *p;
	pid_t pid = 0;

	rcu_read_lock();
	for_each_process_thread(g, p) {
		if (p->flags & PF_KTHREAD || ckpt_tree_has(tree, g) ||
		    ckpt_tree_table_of(p, fs) != table)
			continue;
		pid = task_pid_vnr(p) ?: -1;
		break;
	}
	rcu_read_unlock();
	return pid;
}

/*
 * The file table (or fs_struct, @fs) of live task @i: if an earlier task
 * of the tree has it (CLONE_FILES, CLONE_FS), task @i names the first
 * one, its owner, which saves it once.  For an owner, every task and
 * thread of the tree that has it holds one reference (files->count,
 * fs->users): more are held outside the tree, refused naming the holder
 * (the leak check).  A table of one process with no other holder is as
 * for a single task: a reference without a task is transient.  The tasks
 * are frozen: no new sharer can appear (only a holder can make one).
 */
static int ckpt_tree_table(struct ckpt_ctx *ctx, struct ckpt_tree *tree,
			   int i, bool fs)
{
	struct ckpt_tree_ent *e = &tree->ents[i];
	const char *what = fs ? "fs_struct: root, cwd, umask (CLONE_FS)" :
			   "file table (CLONE_FILES)";
	const void *table = ckpt_tree_table_of(e->t, fs);
	unsigned int held = 0, procs = 0, refs;
	pid_t pid = task_pid_vnr(e->t), other;
	int j;

	if (!table)
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				pid);
	for (j = 0; j < tree->n; j++) {
		struct ckpt_tree_ent *o = &tree->ents[j];

		if (o->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST) ||
		    ckpt_tree_table_of(o->t, fs) != table)
			continue;
		if (j < i) {
			/* the first task that has it saves it */
			if (fs) {
				e->h.flags |= CKPT_TREE_FS;
				e->h.fs_of = j;
			} else {
				e->h.flags |= CKPT_TREE_FILES;
				e->h.files_of = j;
			}
			return 0;
		}
		/* the root's threads are on the context while collecting */
		held += 1 + (j ? o->sel.nr_threads : ctx->nr_threads);
		procs++;
	}
	refs = fs ? READ_ONCE(((struct fs_struct *)table)->users) :
		    atomic_read(&((struct files_struct *)table)->count);
	if (refs == held)
		return 0;
	other = ckpt_tree_table_sharer(tree, table, fs);
	if (other > 0)
		return ckpt_err(ctx, -EBUSY,
				"pid %d: %s shared with pid %d, outside the checkpoint",
				pid, what, other);
	if (other < 0)
		return ckpt_err(ctx, -EBUSY,
				"pid %d: %s shared with a task outside this pid namespace",
				pid, what);
	if (procs == 1)
		return 0;
	return ckpt_err(ctx, -EBUSY,
			"pid %d: %s of %u tasks of the checkpoint held %u times: held outside it",
			pid, what, procs, refs);
}

static int ckpt_tree_tables(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	int i, ret = 0;

	for (i = 0; i < tree->n && !ret; i++) {
		if (tree->ents[i].h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
			continue;
		ret = ckpt_tree_table(ctx, tree, i, false);
		if (!ret)
			ret = ckpt_tree_table(ctx, tree, i, true);
	}
	return ret;
}

/*
 * Checkpoint: what of the task being saved is another's, saved with that
 * one (CKPT_TREE_FILES: no file table in its section, CKPT_TREE_FS: no FS).
 */
u32 ckpt_tree_shared(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	int i;

	if (!tree || !tree->multi || ctx->restart)
		return 0;
	for (i = 1; i < tree->n; i++)
		if (tree->ents[i].t == ctx->tsk)
			return tree->ents[i].h.flags &
			       (CKPT_TREE_FILES | CKPT_TREE_FS);
	return 0;
}

/* restart: likewise, of the task whose state is being read */
u32 restore_tree_shared(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;

	if (!tree || !tree->multi || tree->turn <= 0 || tree->turn >= tree->n)
		return 0;
	return tree->ents[tree->turn].h.flags &
	       (CKPT_TREE_FILES | CKPT_TREE_FS);
}

static int ckpt_tree_fds(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	struct files_struct *files;
	int i, j, n, total = 0, socks = 0, ret = 0;

	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		/* a table shared with an earlier task: its owner's descriptors */
		if (e->h.flags &
		    (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST | CKPT_TREE_FILES))
			continue;
		n = ckpt_collect_fds(e->t, &e->fds, &files);
		if (n < 0)
			return n;
		e->nfds = n;
		total += n;
		for (j = 0; j < n; j++)
			if (S_ISSOCK(file_inode(e->fds[j].file)->i_mode))
				socks++;
	}
	/* the sockets of every task numbered at once, in the image's order */
	for (i = 0; socks && i < tree->n && !ret; i++)
		ret = ckpt_socks_add(ctx, tree->ents[i].fds, tree->ents[i].nfds,
				     total);
	return ret;
}

int checkpoint_tree_collect(struct ckpt_ctx *ctx)
{
	struct task_struct *root = ctx->tsk;
	struct ckpt_tree *tree;
	int i, n, ret, tries = 0;

again:
	read_lock(&tasklist_lock);
	n = ckpt_tree_walk(root, NULL, 0);
	read_unlock(&tasklist_lock);
	if (n > CKPT_TREE_MAX)
		return ckpt_err(ctx, -EBUSY, "pid %d: %d tasks in the tree, at most %d",
				ctx->tsk_pid, n, CKPT_TREE_MAX);
	/* a group and a session of each task but the root may have a ghost */
	tree = ckpt_tree_alloc(ctx, n, min(3 * n - 2, CKPT_TREE_MAX));
	if (!tree)
		return -ENOMEM;
	read_lock(&tasklist_lock);
	i = ckpt_tree_walk(root, tree->ents, n);
	read_unlock(&tasklist_lock);
	if (i != n) {
		/* the tree changed (a child of an unfrozen self checkpoint) */
		checkpoint_tree_put(ctx);
		if (++tries < 3)
			goto again;
		return ckpt_err(ctx, -EAGAIN, "pid %d: the tree changed during checkpoint",
				ctx->tsk_pid);
	}
	tree->ents[0].h.exit_signal = root->exit_signal;
	if (ctx->pid_ns)
		tree->ents[0].h.flags = CKPT_TREE_PIDNS;
	ret = ckpt_tree_groups(ctx, tree);
	if (!ret)
		ret = ckpt_tree_pidns_all(ctx, tree);
	for (i = 1; i < n && !ret; i++)
		ret = ckpt_tree_get_task(ctx, &tree->ents[i]);
	if (!ret)
		ret = ckpt_tree_tables(ctx, tree);
	if (!ret && tree->multi)
		ret = ckpt_tree_fds(ctx, tree);
	if (!ret && tree->multi)
		tree->nr_ctty = ckpt_tree_ctty_count(tree);
	return ret;
}

/* checkpoint: a task of the tree has a file on @pipe; all of them */
int ckpt_tree_pipe_held(struct ckpt_ctx *ctx, struct pipe_inode_info *pipe,
			fmode_t mode, unsigned int *same)
{
	struct ckpt_tree *tree = ctx->tree;
	unsigned int max = READ_ONCE(pipe->files);
	struct file **seen;
	int held = 0, i, j, k;

	if (!tree || !tree->multi)
		return -1;
	*same = 0;
	seen = kmalloc_array(max, sizeof(*seen), GFP_KERNEL);
	if (!seen)
		return -1;
	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		for (j = 0; j < e->nfds; j++) {
			struct file *file = e->fds[j].file;

			if (get_pipe_info(file, false) != pipe)
				continue;
			for (k = 0; k < held && seen[k] != file; k++)
				;
			if (k < held)
				continue;
			if (held == max)
				break;
			seen[held++] = file;
			if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) == mode)
				(*same)++;
		}
	}
	kfree(seen);
	return held;
}

/*
 * checkpoint: a task of the checkpoint holds @file: a task of the tree,
 * or the target's table @fds (@n) when it is alone.  Compares pointers
 * only: callable under a spinlock.
 */
bool ckpt_tree_holds(struct ckpt_ctx *ctx, struct file *file,
		     struct ckpt_fd *fds, int n)
{
	struct ckpt_tree *tree = ctx->tree;
	int i, j;

	if (tree && tree->multi) {
		for (i = 0; i < tree->n; i++)
			for (j = 0; j < tree->ents[i].nfds; j++)
				if (tree->ents[i].fds[j].file == file)
					return true;
		return false;
	}
	for (j = 0; j < n; j++)
		if (fds[j].file == file)
			return true;
	return false;
}

/*
 * A task outside the checkpoint holding a file that @match accepts: its
 * pid and (*@ofd) descriptor, or 0.
 */
pid_t ckpt_tree_holder(struct ckpt_ctx *ctx,
		       bool (*match)(struct file *, const void *),
		       const void *arg, int *ofd)
{
	struct task_struct *p;
	pid_t other = 0;

	*ofd = -1;
	rcu_read_lock();
	for_each_process(p) {
		struct files_struct *files;
		struct fdtable *fdt;
		unsigned int i;

		if (p->flags & PF_KTHREAD || ckpt_tree_has(ctx->tree, p) ||
		    (!ctx->tree && p == ctx->tsk))
			continue;
		task_lock(p);
		files = p->files;
		if (files) {
			spin_lock(&files->file_lock);
			fdt = files_fdtable(files);
			for (i = 0; i < fdt->max_fds && *ofd < 0; i++) {
				struct file *f = rcu_dereference_protected(fdt->fd[i],
						lockdep_is_held(&files->file_lock));

				if (f && match(f, arg))
					*ofd = i;
			}
			spin_unlock(&files->file_lock);
		}
		task_unlock(p);
		if (*ofd >= 0) {
			other = task_pid_vnr(p);
			break;
		}
	}
	rcu_read_unlock();
	return other;
}

static bool ckpt_tree_is_pipe(struct file *f, const void *pipe)
{
	return get_pipe_info(f, false) == pipe;
}

/* the refusal of a pipe end held outside: naming a task that holds it */
int ckpt_tree_pipe_outside(struct ckpt_ctx *ctx, int fd,
			   struct pipe_inode_info *pipe, const char *path)
{
	int ofd;
	pid_t other = ckpt_tree_holder(ctx, ckpt_tree_is_pipe, pipe, &ofd);

	if (!other)
		return ckpt_err(ctx, -EBUSY,
				"pid %d fd %d: pipe end outside the checkpoint (%s)",
				ctx->tsk_pid, fd, path);
	return ckpt_err(ctx, -EBUSY,
			"pid %d fd %d: pipe end outside the checkpoint (%s), held by pid %d fd %d",
			ctx->tsk_pid, fd, path, other, ofd);
}

/* the hierarchy record, the state of every live task, all checked again */
int checkpoint_tree_write(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	struct ckpt_tree_sel root;
	struct ckpt_hdr_tree h = { };
	size_t len = sizeof(h) + tree->n * sizeof(struct ckpt_tree_task);
	int i, ret;

	h.nr_tasks = tree->n;
	h.nr_ctty = tree->nr_ctty;
	tree->ents[0].h.flags |= ckpt_tree_ns_flags(ctx);
	ret = ckpt_check_target(ctx);
	if (!ret)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_TREE, len - sizeof(h.h));
	if (!ret)
		ret = ckpt_kwrite(ctx, &h.h + 1, sizeof(h) - sizeof(h.h));
	for (i = 0; i < tree->n && !ret; i++)
		ret = ckpt_kwrite(ctx, &tree->ents[i].h, sizeof(tree->ents[i].h));
	if (!ret)
		ret = ckpt_write_pad(ctx, len);
	if (!ret)
		ret = checkpoint_tree_ns(ctx);
	if (!ret)
		ret = checkpoint_task(ctx, ctx->tsk);
	/* the other tasks, each made the target in turn */
	for (i = 1; i < tree->n && !ret; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
			continue;
		ckpt_tree_select(ctx, &root, &e->sel);
		ret = checkpoint_task(ctx, ctx->tsk);
		ckpt_tree_select(ctx, &e->sel, &root);
	}
	if (!ret && tree->nr_ctty)
		ret = checkpoint_tree_ctty(ctx, tree);
	/* every task saved: nothing of its own namespaces was left out */
	if (!ret)
		ret = checkpoint_tree_ns_end(ctx);
	/* none ran meanwhile: everything is of one frozen moment */
	for (i = 1; i < tree->n && !ret; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->h.flags & CKPT_TREE_GHOST)
			continue;
		if (e->h.flags & CKPT_TREE_ZOMBIE) {
			if (READ_ONCE(e->t->exit_state) != EXIT_ZOMBIE)
				ret = ckpt_err(ctx, -EAGAIN,
					       "pid %d was reaped during checkpoint",
					       e->h.pid);
			continue;
		}
		ckpt_tree_select(ctx, &root, &e->sel);
		ret = ckpt_check_target(ctx);
		ckpt_tree_select(ctx, &e->sel, &root);
	}
	if (!ret)
		ret = ckpt_check_target(ctx);
	return ret;
}

void checkpoint_tree_put(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	struct ckpt_tree_sel root;
	int i;

	if (!tree || ctx->restart)
		return;
	for (i = 1; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (!e->sel.tsk)
			continue;
		e->sel.ready = false;
		ckpt_tree_select(ctx, &root, &e->sel);
		checkpoint_put_target(ctx);
		ckpt_tree_select(ctx, &e->sel, &root);
	}
	ckpt_tree_put_tasks(tree);
	kvfree(tree->ents);
	kfree(tree);
	ctx->tree = NULL;
}

/* restart */

/*
 * Every ghost leads a group or session of a task of the tree that is not
 * a ghost; without RESTART_GHOST an image with one is refused.
 */
static int restore_tree_ghosts_check(struct ckpt_ctx *ctx,
				     struct ckpt_tree *tree)
{
	int i, j;

	for (i = 1; i < tree->n; i++) {
		struct ckpt_tree_task *g = &tree->ents[i].h;

		if (!(g->flags & CKPT_TREE_GHOST))
			continue;
		for (j = 0; j < tree->n; j++) {
			struct ckpt_tree_task *h = &tree->ents[j].h;

			if (!(h->flags & CKPT_TREE_GHOST) &&
			    (h->pgid == g->pid || h->sid == g->pid))
				break;
		}
		if (j == tree->n)
			return ckpt_err(ctx, -EINVAL,
					"tree: ghost pid %d leads no group or session of a task",
					g->pid);
		if (!(ctx->uflags & RESTART_GHOST))
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d is a ghost (the dead leader of process group %d, session %d): restart needs RESTART_GHOST",
					g->pid, g->pgid, g->sid);
	}
	return 0;
}

/*
 * The image of a pid namespace is restored by the init of a new one (it
 * becomes the image's init, pid 1; the others get their pids in it), and
 * only such an image.
 */
static int restore_tree_pidns_check(struct ckpt_ctx *ctx,
				    struct ckpt_tree *tree)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	bool init = ns != &init_pid_ns && task_pid_vnr(current) == 1 &&
		    is_child_reaper(task_pid(current));

	if (tree->ents[0].h.flags & CKPT_TREE_PIDNS) {
		if (!init)
			return ckpt_err(ctx, -EINVAL,
					"tree: image of a pid namespace: the caller must be the init of a new pid namespace (restart -N)");
		return 0;
	}
	if (init)
		return ckpt_err(ctx, -EINVAL,
				"tree: image of pid %d, not of a pid namespace (CHECKPOINT_SUBTREE): the caller is the init of a pid namespace",
				tree->ents[0].h.pid);
	return 0;
}

/*
 * Task @i names the task whose file table (or fs_struct) it shares: a
 * live task before it that has its own; 0 without the flag.
 */
static int restore_tree_share_check(struct ckpt_ctx *ctx, struct ckpt_tree *tree,
				    int i, u32 flag, u16 of, const char *what)
{
	struct ckpt_tree_task *h = &tree->ents[i].h;
	const char *why;

	if (!(h->flags & flag)) {
		if (!of)
			return 0;
		why = "without the flag";
	} else if (!i || h->flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST)) {
		why = "a task without a section";
	} else if (of == i) {
		why = "its own";
	} else if (of > i) {
		why = "a later task, not yet restored";
	} else if (tree->ents[of].h.flags &
		   (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST | flag)) {
		why = "a task that has none of its own";
	} else {
		return 0;
	}
	return ckpt_err(ctx, -EINVAL, "tree: pid %d: the %s of task %u: %s",
			h->pid, what, of, why);
}

static int restore_tree_shares_check(struct ckpt_ctx *ctx,
				     struct ckpt_tree *tree, int i)
{
	struct ckpt_tree_task *h = &tree->ents[i].h;
	int ret;

	ret = restore_tree_share_check(ctx, tree, i, CKPT_TREE_FILES,
				       h->files_of, "file table (CLONE_FILES)");
	if (!ret)
		ret = restore_tree_share_check(ctx, tree, i, CKPT_TREE_FS,
					       h->fs_of, "fs_struct (CLONE_FS)");
	return ret;
}

static int restore_tree_check(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ckpt_tree_task *r = &tree->ents[0].h;
	int i, j, ret;

	if (r->parent != -1 || r->flags & ~(CKPT_TREE_PIDNS | CKPT_TREE_NS) ||
	    (r->flags & CKPT_TREE_PIDNS && r->pid != 1))
		return ckpt_err(ctx, -EINVAL, "tree: bad root entry");
	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_task *h = &tree->ents[i].h;
		u32 sig = h->exit_code & 0x7f;
		int pg, s;

		tree->ents[i].tree = tree;
		tree->ents[i].size = 1;
		if (h->pid <= 0 || h->pid >= pid_max ||
		    h->flags & ~CKPT_TREE_FLAGS || h->exit_signal > _NSIG ||
		    (i && h->flags & (CKPT_TREE_PIDNS | CKPT_TREE_NS)) ||
		    (h->flags & CKPT_TREE_GHOST && h->flags & CKPT_TREE_ZOMBIE) ||
		    (i && (h->parent < 0 || h->parent >= i)))
			return ckpt_err(ctx, -EINVAL,
					"tree: task %d (pid %d): bad pid, parent %d, flags %#x or exit signal %u",
					i, h->pid, h->parent, h->flags,
					h->exit_signal);
		ret = restore_tree_shares_check(ctx, tree, i);
		if (ret)
			return ret;
		if (i && tree->ents[h->parent].h.flags &
		    (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d: its parent is a zombie or a ghost",
					h->pid);
		/* a ghost: a child of the root, leader of its group, exit signal 0 */
		if (h->flags & CKPT_TREE_GHOST &&
		    (h->parent || h->pgid != h->pid || h->exit_signal))
			return ckpt_err(ctx, -EINVAL,
					"tree: ghost pid %d: bad parent, group or exit signal",
					h->pid);
		if (h->flags & CKPT_TREE_ZOMBIE ?
		    (h->sigign | h->sigcatch) & (sigmask(SIGKILL) | sigmask(SIGSTOP)) ||
		    h->sigign & h->sigcatch || !memchr(h->comm, 0, sizeof(h->comm)) :
		    h->sigign || h->sigcatch || memchr_inv(h->comm, 0, sizeof(h->comm)))
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d: bad name or signal masks", h->pid);
		/* a wait() status: exit code, or signal (and core dump) */
		if (h->flags & CKPT_TREE_ZOMBIE ?
		    h->exit_code & ~0xffffU || sig == 0x7f ||
		    (sig && h->exit_code >> 8) || (!sig && h->exit_code & 0x80) :
		    h->exit_code)
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d: bad exit code %#x",
					h->pid, h->exit_code);
		for (j = 0; j < i; j++)
			if (tree->ents[j].h.pid == h->pid)
				return ckpt_err(ctx, -EINVAL,
						"tree: pid %d appears twice",
						h->pid);
		pg = h->pgid ? ckpt_tree_find(tree, h->pgid) : 0;
		s = h->sid ? ckpt_tree_find(tree, h->sid) : 0;
		/* the outside group is in the outside session */
		if (pg < 0 || s < 0 || (!h->pgid && h->sid) ||
		    (h->sid && tree->ents[s].h.sid != h->sid))
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d: bad process group %d or session %d",
					h->pid, h->pgid, h->sid);
	}
	for (i = 0; i < tree->n; i++)
		for (j = 0; j < i; j++)
			if (tree->ents[i].h.pgid && tree->ents[i].h.pgid ==
			    tree->ents[j].h.pgid &&
			    tree->ents[i].h.sid != tree->ents[j].h.sid)
				return ckpt_err(ctx, -EINVAL,
						"tree: process group %d in two sessions",
						tree->ents[i].h.pgid);
	for (i = tree->n - 1; i > 0; i--)
		tree->ents[tree->ents[i].h.parent].size += tree->ents[i].size;
	ret = restore_tree_ghosts_check(ctx, tree);
	if (ret)
		return ret;
	ret = restore_tree_pidns_check(ctx, tree);
	if (ret)
		return ret;
	if (!tree->multi)
		return 0;
	/* what alloc_pid() would refuse, said first */
	if (!checkpoint_restore_ns_capable(ns->user_ns))
		return ckpt_err(ctx, -EPERM,
				"tree of %d tasks: restoring their pids needs CAP_CHECKPOINT_RESTORE",
				tree->n);
	rcu_read_lock();
	for (i = 1; i < tree->n; i++)
		if (find_vpid(tree->ents[i].h.pid))
			break;
	rcu_read_unlock();
	if (i < tree->n)
		return ckpt_err(ctx, -EBUSY, "tree: pid %d is in use",
				tree->ents[i].h.pid);
	return 0;
}

/* RESTART_FROZEN: the caller's cgroup (v2), frozen at the end; not the root */
static bool restore_tree_cgroup_ok(void)
{
	bool ok;

	cgroup_lock();
	ok = cgroup_parent(task_dfl_cgroup(current));
	cgroup_unlock();
	return ok;
}

int restore_tree_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_tree h;
	struct ckpt_tree *tree;
	size_t len;
	int i, ret;

	if (ctx->uflags & RESTART_FROZEN && !restore_tree_cgroup_ok())
		return ckpt_err(ctx, -EINVAL,
				"RESTART_FROZEN: the caller must be in a cgroup (v2) other than the root: restart freezes it");

	ret = ckpt_read_hdr(ctx, &h.h, CKPT_HDR_TREE,
			    sizeof(h) + sizeof(struct ckpt_tree_task),
			    sizeof(h) + CKPT_TREE_MAX * sizeof(struct ckpt_tree_task));
	if (ret)
		return ret;
	ret = ckpt_kread(ctx, &h.h + 1, sizeof(h) - sizeof(h.h));
	if (ret)
		return ret;
	len = sizeof(h) + (size_t)h.nr_tasks * sizeof(struct ckpt_tree_task);
	if (!h.nr_tasks || h.nr_tasks > CKPT_TREE_MAX || h.h.len != len ||
	    h.nr_ctty > h.nr_tasks || (h.nr_tasks == 1 && h.nr_ctty))
		return ckpt_err(ctx, -EINVAL,
				"tree: bad number of tasks %u or of controlling ttys %u",
				h.nr_tasks, h.nr_ctty);
	tree = ckpt_tree_alloc(ctx, h.nr_tasks, h.nr_tasks);
	if (!tree)
		return -ENOMEM;
	tree->nr_ctty = h.nr_ctty;
	for (i = 0; i < tree->n && !ret; i++)
		ret = ckpt_kread(ctx, &tree->ents[i].h, sizeof(tree->ents[i].h));
	if (!ret)
		ret = ckpt_read_pad(ctx, len);
	if (!ret)
		ret = restore_tree_check(ctx, tree);
	if (!ret && tree->ents[0].h.flags & CKPT_TREE_NS)
		ret = restore_tree_ns(ctx, tree->ents[0].h.flags);
	return ret;
}

/* swap the state of the task on the context with @slot's */
static void restore_tree_swap(struct ckpt_tree *tree, struct ckpt_restore *slot)
{
	struct ckpt_ctx *ctx = tree->ctx;
	struct ckpt_restore *tmp = tree->spare;
	LIST_HEAD(a);
	LIST_HEAD(b);

	if (ctx->rst.posix_locks.next)
		list_splice_init(&ctx->rst.posix_locks, &a);
	if (slot->posix_locks.next)
		list_splice_init(&slot->posix_locks, &b);
	*tmp = ctx->rst;
	ctx->rst = *slot;
	*slot = *tmp;
	/* the objects of the image stay on the context */
	swap(ctx->rst.pipes, slot->pipes);
	swap(ctx->rst.npipes, slot->npipes);
	swap(ctx->rst.fifos, slot->fifos);
	swap(ctx->rst.nfifos, slot->nfifos);
	swap(ctx->rst.datas, slot->datas);
	swap(ctx->rst.ndatas, slot->ndatas);
	swap(ctx->rst.xstate_size, slot->xstate_size);
	INIT_LIST_HEAD(&ctx->rst.posix_locks);
	INIT_LIST_HEAD(&slot->posix_locks);
	list_splice(&b, &ctx->rst.posix_locks);
	list_splice(&a, &slot->posix_locks);
}

/* the root's own state is put aside while the others use the context */
static void restore_tree_park_root(struct ckpt_tree *tree, bool park)
{
	if (tree->root_parked == park)
		return;
	restore_tree_swap(tree, tree->ents[0].rst);
	tree->root_parked = park;
}

static void restore_tree_fail(struct ckpt_tree *tree, int err)
{
	if (!tree->err)
		tree->err = err;
}

/* @count tasks are created (or will never be), @err if that failed */
static void restore_tree_created(struct ckpt_tree *tree, int count, int err)
{
	mutex_lock(&tree->lock);
	tree->pending -= count;
	if (err)
		restore_tree_fail(tree, err);
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
}

static int restore_tree_child(void *arg);

/* the children of task @parent, created by it (current) */
static void restore_tree_spawn(struct ckpt_tree *tree, int parent)
{
	struct ckpt_ctx *ctx = tree->ctx;
	int i, err = 0;

	for (i = parent + 1; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];
		/* never traced: a tracer of the caller sees no fork */
		struct kernel_clone_args args = {
			.flags = CLONE_UNTRACED,
			.exit_signal = e->h.exit_signal,
			.set_tid = &e->h.pid,
			.set_tid_size = 1,
			.fn = restore_tree_child,
			.fn_arg = e,
		};
		pid_t pid;

		if (e->h.parent != parent)
			continue;
		if (err) {
			restore_tree_created(tree, e->size, 0);
			continue;
		}
		pid = kernel_clone(&args);
		if (pid >= 0)
			continue;
		mutex_lock(&tree->lock);
		if (pid == -EEXIST)
			err = ckpt_err(ctx, -EBUSY, "tree: pid %d is in use",
				       e->h.pid);
		else
			err = ckpt_err(ctx, pid, "tree: cannot create pid %d",
				       e->h.pid);
		mutex_unlock(&tree->lock);
		restore_tree_created(tree, e->size, err);
	}
}

/* the next task after @i with something to do in @phase, 0 if none */
static int restore_tree_next(struct ckpt_tree *tree, int i, int phase)
{
	for (i++; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST))
			continue;
		if (phase != CKPT_TREE_ABORT || e->live)
			return i;
	}
	return 0;
}

/* task @i did its step of the phase: the next one's turn */
static void restore_tree_pass(struct ckpt_tree *tree, int i, int err)
{
	mutex_lock(&tree->lock);
	if (err)
		restore_tree_fail(tree, err);
	tree->turn = err && tree->phase != CKPT_TREE_ABORT ? 0 :
		     restore_tree_next(tree, i, tree->phase);
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
}

static int restore_tree_step_read(struct ckpt_tree *tree,
				  struct ckpt_tree_ent *e)
{
	struct ckpt_ctx *ctx = tree->ctx;
	int ret;

	e->ax = kzalloc(sizeof(*e->ax), GFP_KERNEL);
	if (!e->ax)
		return -ENOMEM;
	restore_tree_swap(tree, e->rst);
	e->live = true;
	ret = restore_task_read(ctx);
	if (!ret && ctx->rst.task.pid != e->h.pid)
		ret = ckpt_err(ctx, -EINVAL,
			       "tree: state of pid %d where pid %d was expected",
			       ctx->rst.task.pid, e->h.pid);
	if (!ret)
		ret = ckpt_arch_prepare_fpu(ctx);
	if (!ret)
		ret = restore_threads_prepare(ctx);
	restore_tree_swap(tree, e->rst);
	return ret;
}

/*
 * Restart: the task (current) takes the file table and fs_struct of the
 * earlier tasks it shares them with (CKPT_TREE_FILES, CKPT_TREE_FS).
 * Not kernel_clone() with CLONE_FILES/CLONE_FS: the owner is not always
 * the parent (a sibling, a grandparent), and the root's table may still
 * be replaced before its commit (restore_unshare_files()).  Instead, as
 * ksys_unshare() installs a new table and fs_struct (task_lock, the fs
 * lock for the users count, the old one put), in reverse: a reference to
 * the owner's, taken as copy_files() and copy_fs() do for CLONE_FILES
 * and CLONE_FS, replaces the task's own (a copy of its parent's from
 * kernel_clone(), never restored into).  The owners' objects are final:
 * the root unshared its table before the tasks commit, and another
 * task's is its own since its creation; each owner restores its content
 * in place (replace_fd(), set_fs_pwd()), at its own commit: an earlier
 * one, or the root's, last.  Done at the commit of the task, single-
 * threaded until then: the threads it makes there share them.
 */
static int restore_tree_share(struct ckpt_tree *tree, struct ckpt_tree_ent *e)
{
	struct task_struct *fo = tree->ents[e->h.files_of].t;
	struct task_struct *so = tree->ents[e->h.fs_of].t;
	struct files_struct *files = NULL, *old_files;
	struct fs_struct *fs = NULL, *old_fs;
	bool kill;

	if (e->h.flags & CKPT_TREE_FILES) {
		task_lock(fo);
		files = fo->files;
		if (files)
			atomic_inc(&files->count);
		task_unlock(fo);
		if (!files)
			return -ESRCH;
	}
	if (e->h.flags & CKPT_TREE_FS) {
		task_lock(so);
		fs = so->fs;
		if (fs) {
			spin_lock(&fs->lock);
			if (fs->in_exec) {
				spin_unlock(&fs->lock);
				fs = NULL;
			} else {
				fs->users++;
				spin_unlock(&fs->lock);
			}
		}
		task_unlock(so);
		if (!fs) {
			if (files)
				put_files_struct(files);
			return -ESRCH;
		}
	}
	task_lock(current);
	old_files = files ? current->files : NULL;
	if (files)
		current->files = files;
	old_fs = fs ? current->fs : NULL;
	kill = false;
	if (fs) {
		spin_lock(&old_fs->lock);
		current->fs = fs;
		kill = !--old_fs->users;
		spin_unlock(&old_fs->lock);
	}
	task_unlock(current);
	if (old_files)
		put_files_struct(old_files);
	if (kill)
		free_fs_struct(old_fs);
	return 0;
}

static int restore_tree_step_commit(struct ckpt_tree *tree,
				    struct ckpt_tree_ent *e)
{
	struct ckpt_ctx *ctx = tree->ctx;
	int ret;

	restore_tree_swap(tree, e->rst);
	ret = restore_tree_share(tree, e);
	if (ret)
		ckpt_err(ctx, ret, "tree: pid %d: the tables it shares are gone",
			 e->h.pid);
	else if (!ctx->rst.share_files)
		ret = restore_files_commit(ctx);
	if (ret >= 0) {
		/* the point of no return of this task */
		e->ret = restore_task_finish(ctx, ret);
		ret = fatal_signal_pending(current) ? -EPERM : 0;
		ckpt_rst_free(ctx);
		e->live = false;
	}
	restore_tree_swap(tree, e->rst);
	return ret;
}

static void restore_tree_step_abort(struct ckpt_tree *tree,
				    struct ckpt_tree_ent *e)
{
	struct ckpt_ctx *ctx = tree->ctx;

	restore_tree_swap(tree, e->rst);
	restore_mm_abort(ctx);
	ckpt_rst_free(ctx);
	e->live = false;
	restore_tree_swap(tree, e->rst);
}

static void restore_tree_set_ax(struct callback_head *work)
{
	struct ckpt_tree_ax *ax = container_of(work, struct ckpt_tree_ax, work);

	current_pt_regs()->ax = ax->ax;
	kfree(ax);
}

static void restore_tree_put(struct ckpt_tree *tree)
{
	int i;

	if (!refcount_dec_and_test(&tree->ref))
		return;
	for (i = 0; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->t)
			put_task_struct(e->t);
		kfree(e->ax);
		kfree(e->rst);
	}
	kfree(tree->spare);
	kvfree(tree->ents);
	kfree(tree);
}

/* this task no longer uses the tree or the context */
static void restore_tree_leave(struct ckpt_tree *tree)
{
	mutex_lock(&tree->lock);
	tree->active--;
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
	restore_tree_put(tree);
}

/* a zombie exits with its name and handlers (what /proc shows of it) */
static void restore_tree_zombie(struct ckpt_tree_task *h)
{
	struct k_sigaction *k = current->sighand->action;
	int sig;

	set_task_comm(current, h->comm);
	spin_lock_irq(&current->sighand->siglock);
	for (sig = 1; sig <= _NSIG; sig++) {
		if (h->sigign & (1ULL << (sig - 1)))
			k[sig - 1].sa.sa_handler = SIG_IGN;
		else if (h->sigcatch & (1ULL << (sig - 1)))
			k[sig - 1].sa.sa_handler = CKPT_TREE_CAUGHT;
		else
			k[sig - 1].sa.sa_handler = SIG_DFL;
	}
	spin_unlock_irq(&current->sighand->siglock);
}

/*
 * The root is traced: wait until its tracer detaches, or resumes it from
 * the stop at the exit of restart(2).  False if the root is exiting.
 */
static bool restore_tree_wait_tracer(struct ckpt_tree *tree)
{
	struct task_struct *root = tree->ents[0].t;
	bool seen = false, stopped;

	while (READ_ONCE(root->ptrace)) {
		if (READ_ONCE(root->flags) & PF_EXITING)
			return false;
		stopped = task_is_traced(root);
		if (seen && !stopped)
			break;
		seen |= stopped;
		schedule_timeout_idle(HZ / 50);
	}
	return !(READ_ONCE(root->flags) & PF_EXITING);
}

static bool restore_tree_mine(struct ckpt_tree *tree, int i)
{
	int phase = READ_ONCE(tree->phase);

	return READ_ONCE(tree->turn) == i || phase == CKPT_TREE_RUN ||
	       (phase == CKPT_TREE_ABORT && !READ_ONCE(tree->ents[i].live));
}

/*
 * A task of the tree other than the root, in the kernel until it is
 * restored: it creates its children, then takes its turns.  It returns
 * to user mode (ret_from_fork, which zeroes ax: the image's ax is set by
 * a task work, before any signal is handled) only when all are restored.
 */
static int restore_tree_child(void *arg)
{
	struct ckpt_tree_ent *e = arg;
	struct ckpt_tree *tree = e->tree;
	struct ckpt_tree_ax *ax;
	int i = e - tree->ents, phase, ret;

	mutex_lock(&tree->lock);
	e->t = get_task_struct(current);
	tree->active++;
	refcount_inc(&tree->ref);
	mutex_unlock(&tree->lock);
	restore_tree_spawn(tree, i);
	restore_tree_created(tree, 1, 0);

	/* a ghost holds its pid until the groups are set, then exits */
	if (e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST)) {
		wait_event_idle(tree->wq, READ_ONCE(tree->phase) >= CKPT_TREE_EXIT);
		ret = READ_ONCE(tree->phase) == CKPT_TREE_ABORT ? SIGKILL :
		      e->h.exit_code;
		if (ret != SIGKILL && e->h.flags & CKPT_TREE_ZOMBIE)
			restore_tree_zombie(&e->h);
		restore_tree_leave(tree);
		do_exit(ret);
	}
	for (;;) {
		wait_event_idle(tree->wq, restore_tree_mine(tree, i));
		mutex_lock(&tree->lock);
		phase = tree->phase;
		mutex_unlock(&tree->lock);
		if (phase == CKPT_TREE_RUN)
			break;
		if (phase == CKPT_TREE_ABORT && READ_ONCE(tree->turn) != i) {
			ax = e->ax;
			e->ax = NULL;
			kfree(ax);
			restore_tree_leave(tree);
			do_exit(SIGKILL);
		}
		ret = 0;
		if (phase == CKPT_TREE_READ)
			ret = restore_tree_step_read(tree, e);
		else if (phase == CKPT_TREE_COMMIT)
			ret = restore_tree_step_commit(tree, e);
		else if (phase == CKPT_TREE_ABORT)
			restore_tree_step_abort(tree, e);
		restore_tree_pass(tree, i, ret);
	}
	ax = e->ax;
	e->ax = NULL;
	ax->ax = e->ret;
	init_task_work(&ax->work, restore_tree_set_ax);
	if (READ_ONCE(tree->root_traced) && !restore_tree_wait_tracer(tree)) {
		kfree(ax);
		restore_tree_leave(tree);
		do_exit(SIGKILL);
	}
	/* e and the tree may go from here on */
	restore_tree_leave(tree);
	if (task_work_add(current, &ax->work, TWA_SIGNAL)) {
		kfree(ax);
		force_fatal_sig(SIGKILL);
	}
	return 0;
}

/* the root waits for the turn to come back (killed: so do the others) */
static void restore_tree_wait_root(struct ckpt_tree *tree)
{
	int i;

	if (!wait_event_killable(tree->wq, READ_ONCE(tree->turn) == 0))
		return;
	mutex_lock(&tree->lock);
	restore_tree_fail(tree, -EINTR);
	mutex_unlock(&tree->lock);
	for (i = 1; i < tree->n; i++)
		if (tree->ents[i].t)
			send_sig(SIGKILL, tree->ents[i].t, 1);
	wait_event_idle(tree->wq, READ_ONCE(tree->turn) == 0);
}

/* the root runs @phase: every task's step, in the image's order */
static int restore_tree_phase(struct ckpt_tree *tree, int phase)
{
	int first;

	mutex_lock(&tree->lock);
	tree->phase = phase;
	first = tree->err && phase != CKPT_TREE_ABORT ? 0 :
		restore_tree_next(tree, 0, phase);
	tree->turn = first;
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
	if (first)
		restore_tree_wait_root(tree);
	return tree->err;
}

/* the root's process group and session (its children inherit them) */
static int restore_tree_root_groups(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	struct ckpt_tree_task *r = &tree->ents[0].h;
	int ret = 0;

	if (r->sid == r->pid) {
		if (task_session(current) != task_pid(current) &&
		    ksys_setsid() < 0)
			ret = ckpt_err(ctx, -EPERM,
				       "tree: the caller cannot become a session leader (setsid)");
	} else if (r->pgid == r->pid) {
		write_lock_irq(&tasklist_lock);
		if (task_session(current) == task_pid(current))
			ret = -EPERM;
		else if (task_pgrp(current) != task_pid(current))
			change_pid(current, PIDTYPE_PGID, task_pid(current));
		write_unlock_irq(&tasklist_lock);
		if (ret)
			ret = ckpt_err(ctx, ret,
				       "tree: the caller, a session leader, cannot lead a process group of the image");
	} else if (r->sid && task_session(current) == task_pid(current)) {
		ret = ckpt_err(ctx, -EPERM,
			       "tree: the caller is a session leader, the root was not");
	}
	return ret;
}

/*
 * Restart: the CTTY record, after every task's state (every pty pair
 * exists): the controlling tty of each entry, kept for the commit.
 */
static int restore_tree_ctty_read(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	size_t len = sizeof(struct ckpt_hdr) +
		     tree->nr_ctty * sizeof(struct ckpt_ctty);
	struct ckpt_ctty *c;
	struct ckpt_hdr h;
	int i, last = -1, ret;
	bool bad = false;
	u32 k, j;

	c = kcalloc(tree->nr_ctty, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_CTTY, len, len);
	if (!ret)
		ret = ckpt_kread(ctx, c, len - sizeof(h));
	if (!ret)
		ret = ckpt_read_pad(ctx, len);
	for (k = 0; k < tree->nr_ctty && !ret; k++) {
		struct ckpt_tree_ent *e;

		i = ckpt_tree_find(tree, c[k].pid);
		e = i > last && !(tree->ents[i].h.flags & CKPT_TREE_GHOST) ?
		    &tree->ents[i] : NULL;
		for (j = 0; e && j < tree->nr_ctty; j++)
			if (c[j].pid == c[k].sid)
				break;
		/* its session's leader has the same, no other session has it */
		if (!e || e->h.flags & CKPT_TREE_ZOMBIE || !e->h.sid ||
		    e->h.sid != c[k].sid || j == tree->nr_ctty ||
		    c[j].pty_ref != c[k].pty_ref || c[j].pgrp != c[k].pgrp ||
		    (c[k].pgrp && !ckpt_tree_group_of(tree, c[k].pgrp, c[k].sid))) {
			bad = true;
			break;
		}
		for (j = 0; j < k; j++)
			if (c[j].pty_ref == c[k].pty_ref && c[j].sid != c[k].sid)
				break;
		e->ctty = restore_ctty_tty(ctx, c[k].pty_ref);
		if (j < k || !e->ctty) {
			bad = true;
			break;
		}
		e->ctty_pgrp = c[k].pgrp;
		last = i;
		/* TIOCSCTTY: a session leader with a tty cannot take another */
		if (!i && current->signal->tty)
			ret = ckpt_err(ctx, -EPERM,
				       "tree: pid %d: the caller has a controlling tty, the image's is pty %d",
				       c[k].pid, c[k].pty_ref);
	}
	if (bad)
		ret = ckpt_err(ctx, -EINVAL,
			       "tree: controlling tty %u: bad pid %d, pty %d, group %d or session %d",
			       k, c[k].pid, c[k].pty_ref, c[k].pgrp, c[k].sid);
	kfree(c);
	return ret;
}

/* the pid of the image's @nr: the root's is the caller's */
static struct pid *restore_tree_pid(struct ckpt_tree *tree, pid_t nr)
{
	if (nr == tree->ents[0].h.pid)
		return task_pid(current);
	return find_vpid(nr);
}

/* the same, for the commit of the rest of restart (under RCU, no reference) */
struct pid *restore_tree_find_pid(struct ckpt_ctx *ctx, pid_t nr)
{
	return ctx->tree ? restore_tree_pid(ctx->tree, nr) : find_vpid(nr);
}

#ifdef CONFIG_SYSVIPC
/*
 * checkpoint: the image's pid of the live process of the tree whose
 * SysV semaphore undo list is @ulp (never dereferenced), 0 if none
 */
pid_t ckpt_tree_undo_owner(struct ckpt_ctx *ctx, const void *ulp)
{
	struct ckpt_tree *tree = ctx->tree;
	int i;

	for (i = 0; tree && i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (e->t && !(e->h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST)) &&
		    READ_ONCE(e->t->sysvsem.undo_list) == ulp)
			return e->h.pid;
	}
	return 0;
}
#endif

/* restart: is @nr the pid of a live process of the image's TREE? */
bool restore_tree_has_process(struct ckpt_ctx *ctx, pid_t nr)
{
	struct ckpt_tree *tree = ctx->tree;
	int i = tree ? ckpt_tree_find(tree, nr) : -1;

	return i >= 0 &&
	       !(tree->ents[i].h.flags & (CKPT_TREE_ZOMBIE | CKPT_TREE_GHOST));
}

/* process groups and sessions of the other tasks, as in the image */
static void restore_tree_groups(struct ckpt_tree *tree)
{
	int i;

	write_lock_irq(&tasklist_lock);
	for (i = 1; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];
		struct pid *pg, *sess;

		if (!e->h.sid && !e->h.pgid)
			continue;
		sess = e->h.sid ? restore_tree_pid(tree, e->h.sid) :
			task_session(e->t);
		pg = restore_tree_pid(tree, e->h.pgid);
		if (!pg || !sess)
			continue;	/* checked: not reached */
		if (task_session(e->t) != sess) {
			if (e->h.sid == e->h.pid)
				e->t->signal->leader = 1;
			change_pid(e->t, PIDTYPE_SID, sess);
			proc_clear_tty(e->t);
		}
		if (task_pgrp(e->t) != pg)
			change_pid(e->t, PIDTYPE_PGID, pg);
	}
	write_unlock_irq(&tasklist_lock);
}

/*
 * After the root read its state: the others are created and read theirs,
 * in turn.  The root's state is put aside meanwhile and back at the end.
 */
int restore_tree_children(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	int i, ret;

	if (tree->ents[0].h.pid != ctx->rst.task.pid)
		return ckpt_err(ctx, -EINVAL,
				"tree: state of pid %d where pid %d was expected",
				ctx->rst.task.pid, tree->ents[0].h.pid);
	if (tree->ents[0].h.pid != task_pid_vnr(current))
		ckpt_msg(ctx, "restart: pid %d restored as the caller, pid %d",
			 tree->ents[0].h.pid, task_pid_vnr(current));
	if (!tree->multi)
		return 0;
	tree->spare = kzalloc(sizeof(*tree->spare), GFP_KERNEL);
	if (!tree->spare)
		return -ENOMEM;
	for (i = 0; i < tree->n; i++) {
		tree->ents[i].rst = kzalloc(sizeof(*tree->ents[i].rst),
					    GFP_KERNEL);
		if (!tree->ents[i].rst)
			return -ENOMEM;
		INIT_LIST_HEAD(&tree->ents[i].rst->posix_locks);
	}
	ret = restore_tree_root_groups(ctx, tree);
	if (ret)
		return ret;
	restore_tree_park_root(tree, true);
	tree->ents[0].t = get_task_struct(current);
	/*
	 * Until the tree is restored, the caller is their subreaper: if
	 * it fails, every task killed is reaped here, none left behind.
	 */
	tree->subreaper = current->signal->is_child_subreaper;
	current->signal->is_child_subreaper = 1;
	current->signal->has_child_subreaper = 1;
	tree->started = true;
	tree->pending = tree->n - 1;
	tree->phase = CKPT_TREE_CREATE;
	restore_tree_spawn(tree, 0);
	wait_event_idle(tree->wq, READ_ONCE(tree->pending) == 0);
	ret = restore_tree_phase(tree, CKPT_TREE_READ);
	restore_tree_park_root(tree, false);
	if (!ret && tree->nr_ctty)
		ret = restore_tree_ctty_read(ctx, tree);
	/* every pty and socket of every task exists: queues, peers, options */
	if (!ret)
		ret = restore_ptys_finish(ctx);
	if (!ret)
		ret = restore_sockets_finish(ctx);
	return ret;
}

/* the sessions are set: their controlling ttys, leaders first */
static int restore_tree_ctty_set(struct ckpt_ctx *ctx, struct ckpt_tree *tree)
{
	int i, pass, ret = 0;

	for (pass = 0; pass < 2 && !ret; pass++)
		for (i = 0; i < tree->n && !ret; i++) {
			struct ckpt_tree_ent *e = &tree->ents[i];
			bool leader = e->h.sid == e->h.pid;
			struct pid *pg;

			if (!e->ctty || leader != !pass)
				continue;
			rcu_read_lock();
			pg = get_pid(e->ctty_pgrp ?
				     restore_tree_pid(tree, e->ctty_pgrp) : NULL);
			rcu_read_unlock();
			ret = restore_ctty_set(ctx, e->t, e->ctty, pg, leader);
			put_pid(pg);
			if (!ret && !i)
				tree->ctty_set = true;
		}
	return ret;
}

/*
 * The ghosts exited once the groups were set (exit signal 0: no SIGCHLD):
 * the caller, their parent, reaps them; their pids live on as the ids of
 * the groups and sessions they led.
 */
static int restore_tree_reap_ghosts(struct ckpt_ctx *ctx,
				    struct ckpt_tree *tree)
{
	int i, n = 0;
	long ret;

	for (i = 1; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (!(e->h.flags & CKPT_TREE_GHOST))
			continue;
		ret = kernel_wait4(e->h.pid, NULL, __WALL, NULL);
		if (ret == -ERESTARTSYS || fatal_signal_pending(current))
			return -EINTR;
		if (ret != e->h.pid)
			return ckpt_err(ctx, -EINVAL, "tree: ghost pid %d: not reaped (%ld)",
					e->h.pid, ret);
		n++;
	}
	if (n)
		ckpt_msg(ctx, "restart: %d ghosts reaped", n);
	return 0;
}

/* all is read and checked: zombies exit, the others commit, root last */
int restore_tree_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	int i, ret;

	if (!tree->multi)
		return 0;
	restore_tree_groups(tree);
	mutex_lock(&tree->lock);
	tree->phase = CKPT_TREE_EXIT;
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
	for (i = 1; i < tree->n; i++) {
		struct ckpt_tree_ent *e = &tree->ents[i];

		if (!(e->h.flags & CKPT_TREE_ZOMBIE))
			continue;
		while (!READ_ONCE(e->t->exit_state)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			schedule_timeout_killable(1);
		}
		/* reaped at once: its parent (for now the caller's) ignores SIGCHLD */
		if (READ_ONCE(e->t->exit_state) != EXIT_ZOMBIE)
			return ckpt_err(ctx, -EINVAL,
					"tree: zombie pid %d was reaped at once: the caller ignores SIGCHLD",
					e->h.pid);
	}
	ret = restore_tree_reap_ghosts(ctx, tree);
	if (ret)
		return ret;
	ret = restore_tree_ctty_set(ctx, tree);
	if (ret)
		return ret;
	restore_tree_park_root(tree, true);
	ret = restore_tree_phase(tree, CKPT_TREE_COMMIT);
	restore_tree_park_root(tree, false);
	return ret;
}

/* restart failed: every created task frees its state and dies */
void restore_tree_abort(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;
	int i;

	if (!tree || !tree->started)
		return;
	if (tree->ctty_set) {
		restore_ctty_undo(tree->ents[0].ctty);
		tree->ctty_set = false;
	}
	restore_tree_park_root(tree, true);
	mutex_lock(&tree->lock);
	restore_tree_fail(tree, -EINTR);
	mutex_unlock(&tree->lock);
	restore_tree_phase(tree, CKPT_TREE_ABORT);
	restore_tree_park_root(tree, false);
	wait_event_idle(tree->wq, READ_ONCE(tree->active) == 0);
	/* parents before children: each is the caller's once its parent is gone */
	for (i = 1; i < tree->n; i++)
		if (tree->ents[i].t)
			kernel_wait4(tree->ents[i].h.pid, NULL, __WALL, NULL);
	current->signal->is_child_subreaper = tree->subreaper;
	tree->started = false;
}

static void restore_tree_run(struct ckpt_tree *tree, int phase)
{
	mutex_lock(&tree->lock);
	tree->phase = phase;
	mutex_unlock(&tree->lock);
	wake_up_all(&tree->wq);
}

/* the root returns to user mode: so do the others; it exits: they die */
static void restore_tree_go(struct callback_head *work)
{
	struct ckpt_tree_go *go = container_of(work, struct ckpt_tree_go, work);

	/*
	 * This runs before a tracer's syscall-exit stop (ptrace_notify()
	 * runs the task works first): a traced root (restart -H) is held
	 * there, and the others wait for the tracer to let it go.
	 */
	if (current->ptrace)
		WRITE_ONCE(go->tree->root_traced, true);
	restore_tree_run(go->tree, current->flags & PF_EXITING ?
			 CKPT_TREE_ABORT : CKPT_TREE_RUN);
	restore_tree_put(go->tree);
	kfree(go);
}

/*
 * RESTART_FROZEN: freeze the caller's cgroup, as writing 1 to its
 * cgroup.freeze does; every restored task is in it (the others inherited
 * it) and stops in the freezer before its first user instruction.  The
 * caller (or whoever manages that cgroup) thaws them with 0.
 */
static void restore_tree_freeze(struct ckpt_ctx *ctx)
{
	struct cgroup *cgrp;
	bool ok;

	cgroup_lock();
	cgrp = task_dfl_cgroup(current);
	ok = cgroup_parent(cgrp);
	if (ok)
		cgroup_freeze(cgrp, true);
	cgroup_unlock();
	if (!ok) {
		/* it moved to the root meanwhile: none may run */
		ckpt_err(ctx, -EINVAL, "RESTART_FROZEN: the caller left its cgroup");
		force_fatal_sig(SIGKILL);
		return;
	}
	ckpt_msg(ctx, "restart: frozen in its cgroup (thaw: echo 0 > cgroup.freeze)");
}

/* the root is restored (or killed): all return to user mode (or die) */
void restore_tree_release(struct ckpt_ctx *ctx, long ret)
{
	struct ckpt_tree *tree = ctx->tree;
	struct ckpt_tree_go *go;

	if (ctx->uflags & RESTART_FROZEN && !fatal_signal_pending(current))
		restore_tree_freeze(ctx);
	if (!tree || !tree->started)
		return;
	if (fatal_signal_pending(current)) {
		restore_tree_abort(ctx);
		return;
	}
	/*
	 * They run when the root returns to user mode: not while a tracer
	 * holds it at the exit of restart(2) (restart -H), so that the
	 * whole restored tree can be compared before any of it runs.
	 */
	go = kmalloc(sizeof(*go), GFP_KERNEL);
	if (go) {
		go->tree = tree;
		refcount_inc(&tree->ref);
		init_task_work(&go->work, restore_tree_go);
		if (task_work_add(current, &go->work, TWA_RESUME)) {
			restore_tree_put(tree);
			kfree(go);
			go = NULL;
		}
	}
	if (!go)
		restore_tree_run(tree, CKPT_TREE_RUN);
	tree->started = false;
	ckpt_msg(ctx, "restart: tree of %d tasks restored", tree->n);
}

void ckpt_tree_free(struct ckpt_ctx *ctx)
{
	struct ckpt_tree *tree = ctx->tree;

	if (!tree)
		return;
	if (!ctx->restart) {
		checkpoint_tree_put(ctx);
		return;
	}
	restore_tree_abort(ctx);
	ctx->tree = NULL;
	restore_tree_put(tree);
}
