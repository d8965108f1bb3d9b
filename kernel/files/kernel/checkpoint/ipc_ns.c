// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: the SysV objects of a tree's own IPC namespace
 * (CKPT_TREE_IPCNS; CKPT_HDR_IPC_NS, IPC_MSQ, IPC_MSG, IPC_SEM; ns.c
 * decides that the namespace is the tree's, ipc_shm.c saves its shm
 * segments).
 *
 * After TREE (and UTS_NS, NET_NS) an IPC_NS record holds the namespace's
 * limits (kernel.shmmax, shmall, shmmni, shm_rmid_forced, msgmax, msgmnb,
 * msgmni, sem), its id counters (per kind of object: the last index, the
 * sequence, the idr's cursor) and how many queues and sets follow.  Each
 * queue (IPC_MSQ): key, msqid, permission bits, owner and creator,
 * msg_qbytes, the times (msg_stime, msg_rtime, msg_ctime) and pids
 * (msg_lspid, msg_lrpid), then its messages in queue order (IPC_MSG: type
 * and bytes), whose count and sizes are msg_qnum and msg_cbytes; the copy
 * is taken under the queue's lock while the tree is frozen.  Each set
 * (IPC_SEM): key, semid, permission bits, owner and creator, sem_ctime,
 * and each semaphore's value, pid and sem_otime.
 *
 * Restart, in the new namespace that restore_tree_ns() made and before
 * any task: the limits are set as the sysctls set them (checked as they
 * check them), then each queue is created by msgget(IPC_CREAT | IPC_EXCL)
 * with its key and its msqid (msg_next_id, as CRIU sets it), its messages
 * appended in order, its owner, creator, msg_qbytes and times set; each
 * set by semget() likewise (sem_next_id), its values, times, owner and
 * creator set; then the id counters, which creating with given ids did
 * not move, as they were (the next object gets the id it would have had).
 * The pids are set at the commit, when every task of the tree is made:
 * the image's pid of the tree's root is the caller's, every other pid is
 * the task that has it then (tasks of the tree get their own pids; a pid
 * of none, such as a sender that exited, reads 0 after restart: logged).
 *
 * A task of the tree that was in msgsnd() or msgrcv() is not on the queue
 * when frozen: the freeze's wakeup made the call return -ERESTARTNOHAND,
 * and the restored task calls it again.  One in semop() got EINTR from
 * the freeze itself (semop() is never restarted after a signal's wakeup)
 * and calls it again if it loops, as programs do.
 *
 * The semop(SEM_UNDO) adjustments of a set follow it (IPC_SEM_UNDO): a
 * record per process of the tree that has some (the undo list all its
 * threads share), applied when it exits; each restored process is given
 * its own at its commit, before it makes its other threads.
 *
 * Refused at checkpoint (EOPNOTSUPP, naming the object): a task outside
 * the tree waiting on a queue or a set, or with adjustments of a set
 * (EBUSY), more objects than the limits (restart could not make them
 * again).  Refused at restart (EINVAL): counts or sizes that do not add
 * up (a message longer than its record, more bytes than msg_qbytes, nsems
 * 0 or beyond semmsl, adjustments of another number of semaphores), a
 * value beyond SEMVMX, a type below 1, a duplicate id or key, adjustments
 * of a pid that is no live process of the tree or twice of one.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/cred.h>
#include <linux/idr.h>
#include <linux/ipc.h>
#include <linux/ipc_namespace.h>
#include <linux/msg.h>
#include <linux/nsproxy.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sem.h>
#include <linux/slab.h>
#include <linux/syscalls.h>

/* ipc/util.h's indices of ipc_namespace.ids */
#define CKPT_IPC_SEM_IDS	0
#define CKPT_IPC_MSG_IDS	1
#define CKPT_IPC_SHM_IDS	2

/* restart: a queue made, its pids set at the commit */
struct ckpt_ipcns_msq {
	struct msg_ckpt st;
	pid_t lspid, lrpid;
};

/* restart: a set made, its semaphores' pids set at the commit */
struct ckpt_ipcns_sem {
	struct sem_ckpt st;
	struct sem_ckpt_val *vals;	/* sempid NULL until the commit */
	pid_t *pids;			/* the image's */
	/* the IPC_SEM_UNDO records, given to their processes at their commit */
	struct ckpt_hdr_ipc_sem_undo **undo;
	unsigned int nr_undo;
};

struct ckpt_ipcns {
	struct ipc_namespace *ns;	/* restart: where they were made, ref */
	struct ckpt_ipcns_msq *msq;
	unsigned int nmsq;
	struct ckpt_ipcns_sem *sem;
	unsigned int nsem;
};

/* the image's pid of @pid (0: none, or not seen in the image's pid namespace) */
static pid_t ckpt_ipc_pid(struct ckpt_ctx *ctx, struct pid *pid)
{
	return pid ? ckpt_pid_nr(ctx, pid) : 0;
}

/* checkpoint: the namespace's limits, what restart sets */
static int checkpoint_ipc_limits(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
				 struct ckpt_hdr_ipc_ns *h)
{
	int msq = READ_ONCE(ns->ids[CKPT_IPC_MSG_IDS].in_use);
	int sem = READ_ONCE(ns->ids[CKPT_IPC_SEM_IDS].in_use);
	int shm = READ_ONCE(ns->ids[CKPT_IPC_SHM_IDS].in_use);
	int i;

	h->shmmax = READ_ONCE(ns->shm_ctlmax);
	h->shmall = READ_ONCE(ns->shm_ctlall);
	h->shmmni = READ_ONCE(ns->shm_ctlmni);
	h->shm_rmid_forced = READ_ONCE(ns->shm_rmid_forced);
	h->msgmax = READ_ONCE(ns->msg_ctlmax);
	h->msgmnb = READ_ONCE(ns->msg_ctlmnb);
	h->msgmni = READ_ONCE(ns->msg_ctlmni);
	for (i = 0; i < 4; i++)
		h->sem[i] = READ_ONCE(ns->sem_ctls[i]);
	/* restart sets the limits before it makes the objects again */
	if (msq > h->msgmni || shm > h->shmmni || sem > h->sem[3] ||
	    READ_ONCE(ns->used_sems) > h->sem[1])
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: IPC namespace with %d message queues, %d shm segments, %d semaphore sets of %d semaphores, more than kernel.msgmni %u, shmmni %u or kernel.sem's semmni %d or semmns %d: not supported",
				ctx->tsk_pid, msq, shm, sem,
				READ_ONCE(ns->used_sems), h->msgmni, h->shmmni,
				h->sem[3], h->sem[1]);
	h->nr_msq = msq;
	h->nr_sem = sem;
	for (i = 0; i < 3; i++) {
		struct ipc_ids *ids = &ns->ids[i];

		down_read(&ids->rwsem);
		h->ids[i].last_idx = ids->last_idx;
		h->ids[i].seq = ids->seq;
		h->ids[i].cursor = idr_get_cursor(&ids->ipcs_idr);
		up_read(&ids->rwsem);
	}
	return 0;
}

/* checkpoint: the IPC_MSG records of a copy of @st's messages */
static int checkpoint_ipc_msgs(struct ckpt_ctx *ctx, const struct msg_ckpt *st,
			       const void *buf)
{
	const struct msg_ckpt_msg *m;
	struct ckpt_hdr_ipc_msg h;
	unsigned long i, at = 0;
	int ret = 0;

	for (i = 0; i < st->qnum && !ret; i++) {
		m = buf + at;
		h.mtype = m->mtype;
		h.len = m->len;
		ret = ckpt_write_hdr(ctx, CKPT_HDR_IPC_MSG,
				     sizeof(h) - sizeof(h.h) + m->len);
		if (!ret)
			ret = ckpt_kwrite(ctx, &h.h + 1, sizeof(h) - sizeof(h.h));
		if (!ret)
			ret = ckpt_kwrite(ctx, m + 1, m->len);
		if (!ret)
			ret = ckpt_write_pad(ctx, sizeof(h) + m->len);
		at += sizeof(*m) + ALIGN(m->len, 8);
	}
	return ret;
}

/* checkpoint: the queue @st and its messages */
static int checkpoint_ipc_msq(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			      struct msg_ckpt *st)
{
	struct user_namespace *uns = current_user_ns();
	struct ckpt_hdr_ipc_msq h = { };
	size_t size;
	void *buf;
	int ret;

	if (st->waiters)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV message queue %d (key %#x): a task outside the tree waits in msgsnd() or msgrcv() on it: not supported",
				st->id, st->key);
	if (st->qnum > U32_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV message queue %d (key %#x): %lu messages: not supported",
				st->id, st->key, st->qnum);
	/* each message: its header and up to 7 bytes of padding */
	if (check_mul_overflow(st->qnum, sizeof(struct msg_ckpt_msg) + 8, &size) ||
	    check_add_overflow(size, (size_t)st->cbytes, &size))
		return -ENOMEM;
	buf = kvmalloc(size ?: 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = msg_ckpt_copy(ns, st->id, st, buf, size);
	if (ret) {
		ckpt_err(ctx, ret == -EOVERFLOW ? -EAGAIN : ret,
			 "SysV message queue %d (key %#x) changed while checkpointed",
			 st->id, st->key);
		goto out;
	}
	h.key = st->key;
	h.id = st->id;
	h.mode = st->mode & 0777;
	h.uid = from_kuid_munged(uns, st->uid);
	h.gid = from_kgid_munged(uns, st->gid);
	h.cuid = from_kuid_munged(uns, st->cuid);
	h.cgid = from_kgid_munged(uns, st->cgid);
	h.lspid = ckpt_ipc_pid(ctx, st->lspid);
	h.lrpid = ckpt_ipc_pid(ctx, st->lrpid);
	h.qnum = st->qnum;
	h.qbytes = st->qbytes;
	h.cbytes = st->cbytes;
	h.stime = st->stime;
	h.rtime = st->rtime;
	h.ctime = st->ctime;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_IPC_MSQ, sizeof(h));
	if (!ret)
		ret = checkpoint_ipc_msgs(ctx, st, buf);
out:
	kvfree(buf);
	return ret;
}

/*
 * checkpoint: the IPC_SEM_UNDO records of the set @st, the adjustments
 * of each process of the tree that has some; one of a task outside the
 * tree is refused
 */
static int checkpoint_ipc_sem_undos(struct ckpt_ctx *ctx,
				    struct ipc_namespace *ns,
				    const struct sem_ckpt *st)
{
	struct ckpt_hdr_ipc_sem_undo h = { };
	size_t len = (size_t)st->nsems * sizeof(short);
	const void **owners;
	short *adj;
	int i, ret;

	owners = kcalloc(st->nr_undo, sizeof(*owners), GFP_KERNEL);
	adj = kvcalloc((size_t)st->nr_undo * st->nsems, sizeof(*adj), GFP_KERNEL);
	ret = owners && adj ? 0 : -ENOMEM;
	if (!ret) {
		ret = sem_ckpt_undos(ns, st->id, st->nsems, st->nr_undo, owners,
				     adj);
		if (ret)
			ret = ckpt_err(ctx, ret,
				       "SysV semaphore set %d (key %#x): its adjustments (semop() SEM_UNDO) changed while checkpointed",
				       st->id, st->key);
	}
	for (i = 0; !ret && i < st->nr_undo; i++) {
		h.pid = ckpt_tree_undo_owner(ctx, owners[i]);
		if (!h.pid) {
			ret = ckpt_err(ctx, -EBUSY,
				       "SysV semaphore set %d (key %#x): a task outside the checkpoint has adjustments of it (semop() SEM_UNDO)",
				       st->id, st->key);
			break;
		}
		h.nsems = st->nsems;
		ret = ckpt_write_hdr(ctx, CKPT_HDR_IPC_SEM_UNDO,
				     sizeof(h) - sizeof(h.h) + len);
		if (!ret)
			ret = ckpt_kwrite(ctx, &h.h + 1, sizeof(h) - sizeof(h.h));
		if (!ret)
			ret = ckpt_kwrite(ctx, adj + (size_t)i * st->nsems, len);
		if (!ret)
			ret = ckpt_write_pad(ctx, sizeof(h) + len);
	}
	kfree(owners);
	kvfree(adj);
	return ret;
}

/* checkpoint: the set @st (its semaphores read again) */
static int checkpoint_ipc_sem(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			      int idx, struct sem_ckpt *st, int semmsl)
{
	struct user_namespace *uns = current_user_ns();
	struct ckpt_hdr_ipc_sem h = { };
	struct ckpt_ipc_sem_val *out;
	struct sem_ckpt_val *vals;
	size_t len;
	int i, ret;

	if (st->waiters)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV semaphore set %d (key %#x): a task outside the tree waits in semop() on it: not supported",
				st->id, st->key);
	if (st->nr_undo > CKPT_TREE_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV semaphore set %d (key %#x): %d processes have adjustments of it (semop() SEM_UNDO): not supported",
				st->id, st->key, st->nr_undo);
	if (st->nsems < 1 || st->nsems > semmsl)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV semaphore set %d (key %#x): %d semaphores, more than kernel.sem's semmsl %d: not supported",
				st->id, st->key, st->nsems, semmsl);
	len = sizeof(h) + (size_t)st->nsems * sizeof(*out);
	if (len > U32_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"SysV semaphore set %d: %d semaphores: not supported",
				st->id, st->nsems);
	vals = kvcalloc(st->nsems, sizeof(*vals), GFP_KERNEL);
	out = kvcalloc(st->nsems, sizeof(*out), GFP_KERNEL);
	ret = vals && out ? 0 : -ENOMEM;
	if (!ret)
		ret = sem_ckpt_stat(ns, &idx, st, vals);
	if (ret) {
		if (ret != -ENOMEM)
			ret = ckpt_err(ctx, -EAGAIN,
				       "SysV semaphore set %d (key %#x) changed while checkpointed",
				       st->id, st->key);
		goto out;
	}
	for (i = 0; i < st->nsems; i++) {
		out[i].semval = vals[i].semval;
		out[i].sempid = ckpt_ipc_pid(ctx, vals[i].sempid);
		out[i].otime = vals[i].otime;
		put_pid(vals[i].sempid);
	}
	h.key = st->key;
	h.id = st->id;
	h.mode = st->mode & 0777;
	h.uid = from_kuid_munged(uns, st->uid);
	h.gid = from_kgid_munged(uns, st->gid);
	h.cuid = from_kuid_munged(uns, st->cuid);
	h.cgid = from_kgid_munged(uns, st->cgid);
	h.nsems = st->nsems;
	h.ctime = st->ctime;
	h.nr_undo = st->nr_undo;
	ret = ckpt_write_hdr(ctx, CKPT_HDR_IPC_SEM, len - sizeof(h.h));
	if (!ret)
		ret = ckpt_kwrite(ctx, &h.h + 1, sizeof(h) - sizeof(h.h));
	if (!ret)
		ret = ckpt_kwrite(ctx, out, len - sizeof(h));
	if (!ret)
		ret = ckpt_write_pad(ctx, len);
	if (!ret && st->nr_undo)
		ret = checkpoint_ipc_sem_undos(ctx, ns, st);
out:
	kvfree(vals);
	kvfree(out);
	return ret;
}

/* checkpoint: the @n sets of @ns, in order of index */
static int checkpoint_ipc_sems(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			       unsigned int n, int semmsl)
{
	struct sem_ckpt st;
	unsigned int i;
	int idx = 0, ret = 0;

	for (i = 0; i <= n && !ret; i++, idx++) {
		ret = sem_ckpt_stat(ns, &idx, &st, NULL);
		if (ret == -ENOENT && i == n)
			return 0;
		if (ret || i == n)
			return ckpt_err(ctx, -EAGAIN,
					"pid %d: the SysV semaphore sets of its IPC namespace changed while checkpointed",
					ctx->tsk_pid);
		ret = checkpoint_ipc_sem(ctx, ns, idx, &st, semmsl);
	}
	return ret;
}

/* checkpoint, after TREE: the IPC_NS record, the queues and their messages */
int checkpoint_ipc_ns_objects(struct ckpt_ctx *ctx, struct ipc_namespace *ns)
{
	struct ckpt_hdr_ipc_ns h = { };
	struct msg_ckpt st;
	unsigned int i;
	int idx = 0, ret;

	BUILD_BUG_ON(sizeof(h) != 104);
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_ipc_msq) != 88);
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_ipc_msg) != 24);
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_ipc_sem) != 56);
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_ipc_sem_undo) != 16);
	BUILD_BUG_ON(sizeof(struct ckpt_ipc_sem_val) != 16);
	ret = checkpoint_ipc_limits(ctx, ns, &h);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_IPC_NS, sizeof(h));
	for (i = 0; i <= h.nr_msq && !ret; i++, idx++) {
		ret = msg_ckpt_stat(ns, &idx, &st);
		if (ret == -ENOENT && i == h.nr_msq) {
			ret = 0;
			break;
		}
		if (ret || i == h.nr_msq) {
			if (!ret) {
				put_pid(st.lspid);
				put_pid(st.lrpid);
			}
			return ckpt_err(ctx, -EAGAIN,
					"pid %d: the SysV message queues of its IPC namespace changed while checkpointed",
					ctx->tsk_pid);
		}
		ret = checkpoint_ipc_msq(ctx, ns, &st);
		put_pid(st.lspid);
		put_pid(st.lrpid);
	}
	if (!ret)
		ret = checkpoint_ipc_sems(ctx, ns, h.nr_sem, h.sem[0]);
	if (!ret)
		ckpt_msg(ctx,
			 "checkpoint: IPC namespace: %u SysV message queues, %u semaphore sets",
			 h.nr_msq, h.nr_sem);
	return ret;
}

static struct ckpt_ipcns *ckpt_ipcns(struct ckpt_ctx *ctx)
{
	if (!ctx->ipcns)
		ctx->ipcns = kzalloc(sizeof(*ctx->ipcns), GFP_KERNEL);
	return ctx->ipcns;
}

/* restart: the limits of the image, checked as the sysctls check them */
static int restore_ipc_limits(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			      struct ckpt_hdr_ipc_ns *h)
{
	int mni = ipc_ckpt_mni(), i;

	if (h->shmmni > mni || h->shm_rmid_forced > 1 ||
	    h->msgmax > INT_MAX || h->msgmnb > INT_MAX || h->msgmni > mni ||
	    h->sem[3] < 0 || h->sem[3] > mni ||
	    h->nr_msq > h->msgmni || h->nr_sem > h->sem[3])
		return ckpt_err(ctx, -EINVAL,
				"IPC namespace: bad limits (shmmni %u, msgmax %u, msgmnb %u, msgmni %u, semmni %d) or %u message queues, %u semaphore sets",
				h->shmmni, h->msgmax, h->msgmnb, h->msgmni,
				h->sem[3], h->nr_msq, h->nr_sem);
	/* ids are idx + (seq << log2(mni)) <= INT_MAX */
	for (i = 0; i < 3; i++)
		if (h->ids[i].last_idx < -1 || h->ids[i].last_idx >= mni ||
		    h->ids[i].seq > INT_MAX / mni || h->ids[i].cursor > mni)
			return ckpt_err(ctx, -EINVAL,
					"IPC namespace: bad id counters %d: last index %d, sequence %u, cursor %u",
					i, h->ids[i].last_idx, h->ids[i].seq,
					h->ids[i].cursor);
	ns->shm_ctlmax = h->shmmax;
	ns->shm_ctlall = h->shmall;
	ns->shm_ctlmni = h->shmmni;
	ns->shm_rmid_forced = h->shm_rmid_forced;
	ns->msg_ctlmax = h->msgmax;
	ns->msg_ctlmnb = h->msgmnb;
	ns->msg_ctlmni = h->msgmni;
	for (i = 0; i < 4; i++)
		ns->sem_ctls[i] = h->sem[i];
	return 0;
}

/* restart: the image's owner and creator in the caller's user namespace */
static int restore_ipc_ids(struct ckpt_ctx *ctx, const char *what, int id,
			   u32 uid, u32 gid, u32 cuid, u32 cgid,
			   kuid_t *kuid, kgid_t *kgid, kuid_t *kcuid,
			   kgid_t *kcgid)
{
	struct user_namespace *uns = current_user_ns();

	*kuid = make_kuid(uns, uid);
	*kgid = make_kgid(uns, gid);
	*kcuid = make_kuid(uns, cuid);
	*kcgid = make_kgid(uns, cgid);
	if (!uid_valid(*kuid) || !gid_valid(*kgid) ||
	    !uid_valid(*kcuid) || !gid_valid(*kcgid))
		return ckpt_err(ctx, -EINVAL,
				"SysV %s %d: owner %u:%u or creator %u:%u not in the caller's user namespace",
				what, id, uid, gid, cuid, cgid);
	return 0;
}

/* restart: msgget()/semget() made @got for the image's @want */
static int restore_ipc_got(struct ckpt_ctx *ctx, const char *what, int want,
			   key_t key, long got)
{
	if (got == want)
		return 0;
	if (got == -EEXIST)
		return ckpt_err(ctx, -EINVAL,
				"SysV %s %d: key %#x twice in the image", what,
				want, key);
	if (got == -ENOSPC && want >= 0)
		return ckpt_err(ctx, -EINVAL,
				"SysV %s %d (key %#x): its id is taken (twice in the image?) or the limits are reached",
				what, want, key);
	if (got < 0)
		return ckpt_err(ctx, got, "SysV %s %d (key %#x): cannot make it",
				what, want, key);
	return ckpt_err(ctx, -EINVAL, "SysV %s %d (key %#x): made as %ld",
			what, want, key, got);
}

/* restart: the messages of the queue @r, appended in order */
static int restore_ipc_msgs(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			    const struct ckpt_hdr_ipc_msq *q)
{
	struct ckpt_hdr_ipc_msg *m;
	u64 left = q->cbytes;
	u32 i, max;
	int ret = 0;

	for (i = 0; i < q->qnum && !ret; i++) {
		max = sizeof(*m) + min_t(u64, left, U32_MAX - sizeof(*m));
		m = ckpt_read_obj_var(ctx, CKPT_HDR_IPC_MSG, sizeof(*m), max);
		if (IS_ERR(m))
			return PTR_ERR(m);
		if (m->len != m->h.len - sizeof(*m) || m->mtype < 1)
			ret = ckpt_err(ctx, -EINVAL,
				       "SysV message queue %d: message %u of type %lld: %llu bytes in a record of %u",
				       q->id, i, m->mtype, m->len, m->h.len);
		else
			ret = msg_ckpt_append(ns, q->id, m->mtype, m + 1,
					      m->len);
		left -= m->h.len - sizeof(*m);
		kvfree(m);
	}
	if (!ret && left)
		ret = ckpt_err(ctx, -EINVAL,
			       "SysV message queue %d: its messages are %llu bytes short of msg_cbytes %llu",
			       q->id, left, q->cbytes);
	return ret;
}

/* restart: the queue of the next IPC_MSQ record, in the new namespace @ns */
static int restore_ipc_msq(struct ckpt_ctx *ctx, struct ckpt_ipcns *t,
			   struct ipc_namespace *ns)
{
	struct ckpt_hdr_ipc_msq q;
	struct ckpt_ipcns_msq *r;
	struct msg_ckpt *st;
	long id;
	int ret;

	ret = ckpt_read_obj(ctx, &q, CKPT_HDR_IPC_MSQ, sizeof(q));
	if (ret)
		return ret;
	if (q.id < 0 || q.mode & ~0777 || q.cbytes > q.qbytes ||
	    q.qnum > q.qbytes || q.qbytes > LONG_MAX || q.lspid < 0 ||
	    q.lrpid < 0 || q.stime < 0 || q.rtime < 0 || q.ctime < 0)
		return ckpt_err(ctx, -EINVAL,
				"SysV message queue %d (key %#x): bad record (mode %#o, %u messages, %llu bytes, msg_qbytes %llu)",
				q.id, q.key, q.mode, q.qnum, q.cbytes, q.qbytes);
	r = krealloc_array(t->msq, t->nmsq + 1, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	t->msq = r;
	r = &t->msq[t->nmsq];
	memset(r, 0, sizeof(*r));
	st = &r->st;
	ret = restore_ipc_ids(ctx, "message queue", q.id, q.uid, q.gid,
			      q.cuid, q.cgid, &st->uid, &st->gid, &st->cuid,
			      &st->cgid);
	if (ret)
		return ret;
	st->key = q.key;
	st->id = q.id;
	st->qbytes = q.qbytes;
	st->stime = q.stime;
	st->rtime = q.rtime;
	st->ctime = q.ctime;
	r->lspid = q.lspid;
	r->lrpid = q.lrpid;
	/* this one creation takes the msqid (msg_next_id) */
	ret = msg_ckpt_next_id(ns, -1, q.id);
	if (ret)
		return ckpt_err(ctx, ret, "SysV message queue %d: %s", q.id,
				ret == -EBUSY ? "msg_next_id is set" :
				"restoring a msqid needs CONFIG_CHECKPOINT_RESTORE");
	id = ksys_msgget(q.key, IPC_CREAT | IPC_EXCL | q.mode);
	msg_ckpt_next_id(ns, q.id, -1);
	ret = restore_ipc_got(ctx, "message queue", q.id, q.key, id);
	if (ret)
		return ret;
	t->nmsq++;
	ret = restore_ipc_msgs(ctx, ns, &q);
	if (!ret)
		ret = msg_ckpt_set(ns, q.id, st);
	if (ret)
		ckpt_err(ctx, ret, "SysV message queue %d (key %#x): cannot restore it",
			 q.id, q.key);
	return ret;
}

/*
 * restart: the @n IPC_SEM_UNDO records of the set @r, each of a live
 * process of the image's tree, once; kept until the process commits
 */
static int restore_ipc_sem_undos(struct ckpt_ctx *ctx, struct ckpt_ipcns_sem *r,
				 unsigned int n)
{
	struct ckpt_hdr_ipc_sem_undo *u;
	size_t len = sizeof(*u) + (size_t)r->st.nsems * sizeof(short);
	unsigned int i, k;

	r->undo = kcalloc(n, sizeof(*r->undo), GFP_KERNEL);
	if (!r->undo)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		u = ckpt_read_obj_var(ctx, CKPT_HDR_IPC_SEM_UNDO,
				      sizeof(*u) + sizeof(short), len);
		if (IS_ERR(u))
			return PTR_ERR(u);
		r->undo[r->nr_undo++] = u;
		if (u->nsems != r->st.nsems || u->h.len != len ||
		    !restore_tree_has_process(ctx, u->pid))
			return ckpt_err(ctx, -EINVAL,
					"SysV semaphore set %d: bad adjustments of pid %d (%u semaphores in %u bytes, the set has %d)",
					r->st.id, u->pid, u->nsems, u->h.len,
					r->st.nsems);
		for (k = 0; k < i; k++)
			if (r->undo[k]->pid == u->pid)
				return ckpt_err(ctx, -EINVAL,
						"SysV semaphore set %d: adjustments of pid %d twice",
						r->st.id, u->pid);
	}
	return 0;
}

/* restart: the set of the next IPC_SEM record, in the new namespace @ns */
static int restore_ipc_sem(struct ckpt_ctx *ctx, struct ckpt_ipcns *t,
			   struct ipc_namespace *ns, int semmsl)
{
	struct ckpt_hdr_ipc_sem *h;
	struct ckpt_ipc_sem_val *v;
	struct ckpt_ipcns_sem *r;
	struct sem_ckpt *st;
	u32 max;
	long id;
	int i, ret = 0;

	/* up to semmsl semaphores (the record's length is checked below) */
	semmsl = max(semmsl, 1);
	max = min_t(u64, semmsl, (U32_MAX - sizeof(*h)) / sizeof(*v));
	max = sizeof(*h) + max * sizeof(*v);
	h = ckpt_read_obj_var(ctx, CKPT_HDR_IPC_SEM, sizeof(*h) + sizeof(*v), max);
	if (IS_ERR(h))
		return PTR_ERR(h);
	v = (struct ckpt_ipc_sem_val *)(h + 1);
	if (h->id < 0 || h->mode & ~0777 || !h->nsems || h->nsems > (u32)semmsl ||
	    h->h.len != sizeof(*h) + (u64)h->nsems * sizeof(*v) || h->ctime < 0 ||
	    h->nr_undo > CKPT_TREE_MAX || h->_padding) {
		ret = ckpt_err(ctx, -EINVAL,
			       "SysV semaphore set %d (key %#x): bad record (mode %#o, %u semaphores in %u bytes, semmsl %d)",
			       h->id, h->key, h->mode, h->nsems, h->h.len, semmsl);
		goto out;
	}
	for (i = 0; i < h->nsems; i++)
		if (v[i].semval < 0 || v[i].semval > SEMVMX || v[i].sempid < 0 ||
		    v[i].otime < 0) {
			ret = ckpt_err(ctx, -EINVAL,
				       "SysV semaphore set %d: semaphore %d: value %d (0..%d), pid %d",
				       h->id, i, v[i].semval, SEMVMX, v[i].sempid);
			goto out;
		}
	r = krealloc_array(t->sem, t->nsem + 1, sizeof(*r), GFP_KERNEL);
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	t->sem = r;
	r = &t->sem[t->nsem];
	memset(r, 0, sizeof(*r));
	st = &r->st;
	ret = restore_ipc_ids(ctx, "semaphore set", h->id, h->uid, h->gid,
			      h->cuid, h->cgid, &st->uid, &st->gid, &st->cuid,
			      &st->cgid);
	if (ret)
		goto out;
	st->key = h->key;
	st->id = h->id;
	st->ctime = h->ctime;
	st->nsems = h->nsems;
	r->vals = kvcalloc(h->nsems, sizeof(*r->vals), GFP_KERNEL);
	r->pids = kvcalloc(h->nsems, sizeof(*r->pids), GFP_KERNEL);
	if (!r->vals || !r->pids) {
		kvfree(r->vals);
		kvfree(r->pids);
		ret = -ENOMEM;
		goto out;
	}
	t->nsem++;
	for (i = 0; i < h->nsems; i++) {
		r->vals[i].semval = v[i].semval;
		r->vals[i].otime = v[i].otime;
		r->pids[i] = v[i].sempid;
	}
	/* this one creation takes the semid (sem_next_id) */
	ret = sem_ckpt_next_id(ns, -1, h->id);
	if (ret) {
		ckpt_err(ctx, ret, "SysV semaphore set %d: %s", h->id,
			 ret == -EBUSY ? "sem_next_id is set" :
			 "restoring a semid needs CONFIG_CHECKPOINT_RESTORE");
		goto out;
	}
	id = ksys_semget(h->key, h->nsems, IPC_CREAT | IPC_EXCL | h->mode);
	sem_ckpt_next_id(ns, h->id, -1);
	ret = restore_ipc_got(ctx, "semaphore set", h->id, h->key, id);
	if (!ret)
		ret = sem_ckpt_set(ns, h->id, st, r->vals);
	if (ret)
		ckpt_err(ctx, ret, "SysV semaphore set %d (key %#x): cannot restore it",
			 h->id, h->key);
	if (!ret && h->nr_undo)
		ret = restore_ipc_sem_undos(ctx, r, h->nr_undo);
out:
	kvfree(h);
	return ret;
}

/*
 * restart, after TREE (UTS_NS, NET_NS), in the new IPC namespace @ns that
 * the caller is in: its limits, queues and messages
 */
int restore_ipc_ns_objects(struct ckpt_ctx *ctx, struct ipc_namespace *ns)
{
	struct ckpt_hdr_ipc_ns h;
	struct ckpt_ipcns *t = ckpt_ipcns(ctx);
	unsigned int i;
	int ret;

	if (!t)
		return -ENOMEM;
	if (t->ns)
		return ckpt_err(ctx, -EINVAL, "IPC namespace: a second one");
	t->ns = get_ipc_ns(ns);
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_IPC_NS, sizeof(h));
	if (!ret)
		ret = restore_ipc_limits(ctx, ns, &h);
	for (i = 0; i < h.nr_msq && !ret; i++)
		ret = restore_ipc_msq(ctx, t, ns);
	for (i = 0; i < h.nr_sem && !ret; i++)
		ret = restore_ipc_sem(ctx, t, ns, h.sem[0]);
	/* made with their ids (next_id), which moved no counter: as they were */
	for (i = 0; i < 3 && !ret; i++) {
		struct ipc_ids *ids = &ns->ids[i];

		down_write(&ids->rwsem);
		ids->last_idx = h.ids[i].last_idx;
		ids->seq = h.ids[i].seq;
		idr_set_cursor(&ids->ipcs_idr, h.ids[i].cursor);
		up_write(&ids->rwsem);
	}
	if (!ret)
		ckpt_msg(ctx, "restart: IPC namespace: %u SysV message queues, %u semaphore sets",
			 h.nr_msq, h.nr_sem);
	return ret;
}

/* the pid of the image's @nr now, referenced (NULL: none) */
static struct pid *restore_ipc_pid(struct ckpt_ctx *ctx, const char *what,
				   int id, pid_t nr)
{
	struct pid *pid;

	if (!nr)
		return NULL;
	rcu_read_lock();
	pid = get_pid(restore_tree_find_pid(ctx, nr));
	rcu_read_unlock();
	if (!pid)
		ckpt_msg(ctx, "restart: SysV %s %d: pid %d is no task's: 0 now",
			 what, id, nr);
	return pid;
}

/* the restart's commit: every task of the tree is made, the pids of the queues */
void restore_ipc_ns_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_ipcns *t = ctx->ipcns;
	struct ckpt_ipcns_msq *r;
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->nmsq; i++) {
		r = &t->msq[i];
		if (!r->lspid && !r->lrpid)
			continue;
		r->st.lspid = restore_ipc_pid(ctx, "message queue", r->st.id,
					      r->lspid);
		r->st.lrpid = restore_ipc_pid(ctx, "message queue", r->st.id,
					      r->lrpid);
		msg_ckpt_set(t->ns, r->st.id, &r->st);
		put_pid(r->st.lspid);
		put_pid(r->st.lrpid);
	}
	for (i = 0; i < t->nsem; i++) {
		struct ckpt_ipcns_sem *s = &t->sem[i];
		int k;

		for (k = 0; k < s->st.nsems; k++)
			s->vals[k].sempid = restore_ipc_pid(ctx, "semaphore set",
							    s->st.id, s->pids[k]);
		sem_ckpt_set(t->ns, s->st.id, &s->st, s->vals);
		for (k = 0; k < s->st.nsems; k++)
			put_pid(s->vals[k].sempid);
	}
}

/*
 * the commit of each task of the tree, on it, before it makes its other
 * threads (they share its undo list): its adjustments of each set
 */
int restore_ipc_undo_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_ipcns *t = ctx->ipcns;
	unsigned int i, k;
	int ret = 0;

	for (i = 0; t && i < t->nsem && !ret; i++) {
		struct ckpt_ipcns_sem *s = &t->sem[i];

		for (k = 0; k < s->nr_undo && !ret; k++) {
			struct ckpt_hdr_ipc_sem_undo *u = s->undo[k];
			bool mine;

			rcu_read_lock();
			mine = restore_tree_find_pid(ctx, u->pid) == task_tgid(current);
			rcu_read_unlock();
			if (!mine)
				continue;
			ret = sem_ckpt_set_undo(t->ns, s->st.id, s->st.nsems,
						(const short *)(u + 1));
			if (ret)
				ckpt_err(ctx, ret,
					 "pid %d: its adjustments of SysV semaphore set %d: cannot restore them",
					 u->pid, s->st.id);
		}
	}
	return ret;
}

/* the end of a restart: a failed one's namespace goes with its objects */
void ckpt_ipc_ns_free(struct ckpt_ctx *ctx)
{
	struct ckpt_ipcns *t = ctx->ipcns;
	unsigned int i;

	if (!t)
		return;
	kfree(t->msq);
	for (i = 0; i < t->nsem; i++) {
		unsigned int k;

		kvfree(t->sem[i].vals);
		kvfree(t->sem[i].pids);
		for (k = 0; k < t->sem[i].nr_undo; k++)
			kvfree(t->sem[i].undo[k]);
		kfree(t->sem[i].undo);
	}
	kfree(t->sem);
	if (t->ns)
		put_ipc_ns(t->ns);
	kfree(t);
	ctx->ipcns = NULL;
}
