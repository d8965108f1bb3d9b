// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: file locks (POSIX, OFD, flock) of the open files.
 *
 * A POSIX lock belongs to the process (its descriptor table) and an inode:
 * it is saved with the first file of that inode.  OFD locks and flocks
 * belong to an open file, so do leases (F_SETLEASE read or write; one
 * being broken is refused).  Restart takes OFD locks
 * and flocks on the reopened file before the commit point (closing the
 * file releases them should restart fail), checks that the POSIX locks do
 * not conflict with anyone's, and takes them once the descriptor table is
 * the restored one.  Every lock is taken without waiting, with the checks
 * of fcntl() and flock(): a lock held by another process fails restart
 * with EAGAIN, naming the file.  A lease is taken with fcntl(F_SETLEASE)'s
 * code once its descriptor is installed (its break notification names
 * it), with the caller's rights (the file's owner or CAP_LEASE, checked
 * first), and only if no one else opened the file meanwhile.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/security.h>
#include <linux/sched.h>
#include <linux/slab.h>

/* a POSIX lock or a lease to take at the commit point */
struct ckpt_posix_lock {
	struct list_head list;
	struct file *file;		/* held by the objhash */
	struct ckpt_hdr_file_lock h;
};

static bool ckpt_lock_of(struct file_lock *fl, struct file *file,
			 struct files_struct *files, u32 *kind)
{
	if (fl->fl_flags & FL_OFDLCK) {
		*kind = CKPT_LOCK_OFD;
		return fl->fl_file == file;
	}
	if (fl->fl_flags & FL_POSIX) {
		*kind = CKPT_LOCK_POSIX;
		return files && fl->fl_owner == files;
	}
	*kind = CKPT_LOCK_FLOCK;
	return (fl->fl_flags & FL_FLOCK) && fl->fl_file == file;
}

static void ckpt_lock_save(struct ckpt_hdr_file_lock *locks, int n, int max,
			   struct file_lock *fl, u32 kind)
{
	if (!locks || n >= max)
		return;
	locks[n].kind = kind;
	locks[n].type = fl->fl_type;
	locks[n].start = kind >= CKPT_LOCK_FLOCK ? 0 : fl->fl_start;
	locks[n].end = kind >= CKPT_LOCK_FLOCK ? OFFSET_MAX : fl->fl_end;
}

/* the locks of @file (and of @files on its inode) into @locks, or count */
static int ckpt_scan_locks(struct file_lock_context *flctx, struct file *file,
			   struct files_struct *files,
			   struct ckpt_hdr_file_lock *locks, int max,
			   bool *lease)
{
	struct list_head *lists[] = { &flctx->flc_posix, &flctx->flc_flock };
	struct file_lock *fl;
	int i, n = 0;
	u32 kind;

	spin_lock(&flctx->flc_lock);
	list_for_each_entry(fl, &flctx->flc_lease, fl_list) {
		if (fl->fl_file != file)
			continue;
		/* being broken, or a delegation (nfsd): not the task's */
		if (fl->fl_flags & (FL_UNLOCK_PENDING | FL_DOWNGRADE_PENDING) ||
		    !(fl->fl_flags & FL_LEASE))
			*lease = true;
		else
			ckpt_lock_save(locks, n++, max, fl, CKPT_LOCK_LEASE);
	}
	for (i = 0; i < ARRAY_SIZE(lists); i++)
		list_for_each_entry(fl, lists[i], fl_list)
			if (ckpt_lock_of(fl, file, files, &kind))
				ckpt_lock_save(locks, n++, max, fl, kind);
	spin_unlock(&flctx->flc_lock);
	return n;
}

/*
 * The locks of @file: its OFD locks and flock, and the POSIX locks of
 * @files (NULL: not with this file) on its inode.  Returns their number,
 * *@plocks the records (kvfree()), or an error: a lease, too many locks.
 */
int checkpoint_file_locks(struct ckpt_ctx *ctx, struct file *file, int fd,
			  struct files_struct *files,
			  struct ckpt_hdr_file_lock **plocks)
{
	struct file_lock_context *flctx = locks_inode_context(file_inode(file));
	struct ckpt_hdr_file_lock *locks;
	bool lease = false;
	int n, got;

	*plocks = NULL;
	if (!flctx)
		return 0;
	n = ckpt_scan_locks(flctx, file, files, NULL, 0, &lease);
	if (lease)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: file lease being broken (or not F_SETLEASE's): not supported",
				fd);
	if (!n)
		return 0;
	if (n > CKPT_FILE_LOCKS_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %d locks, more than %d", fd, n,
				CKPT_FILE_LOCKS_MAX);
	locks = kvcalloc(n, sizeof(*locks), GFP_KERNEL);
	if (!locks)
		return -ENOMEM;
	/* the task is frozen: its locks cannot change */
	got = ckpt_scan_locks(flctx, file, files, locks, n, &lease);
	if (got != n || lease) {
		kvfree(locks);
		return ckpt_err(ctx, -EBUSY,
				"fd %d: locks changed during checkpoint", fd);
	}
	*plocks = locks;
	return n;
}

int checkpoint_file_locks_write(struct ckpt_ctx *ctx,
				struct ckpt_hdr_file_lock *locks, int n)
{
	int i, ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = ckpt_write_obj(ctx, &locks[i], CKPT_HDR_FILE_LOCK,
				     sizeof(locks[i]));
	return ret;
}

static void ckpt_lock_init(struct file_lock *fl, struct file *file,
			   struct ckpt_hdr_file_lock *h, fl_owner_t owner)
{
	locks_init_lock(fl);
	fl->fl_file = file;
	fl->fl_owner = owner;
	fl->fl_pid = current->tgid;
	fl->fl_type = h->type;
	fl->fl_start = h->start;
	fl->fl_end = h->end;
	switch (h->kind) {
	case CKPT_LOCK_FLOCK:
		fl->fl_flags = FL_FLOCK;
		break;
	case CKPT_LOCK_OFD:
		fl->fl_flags = FL_POSIX | FL_OFDLCK;
		break;
	default:
		fl->fl_flags = FL_POSIX;
	}
}

/* take an OFD lock or flock on @file, or a POSIX lock for current->files */
static int ckpt_lock_take(struct file *file, struct ckpt_hdr_file_lock *h)
{
	struct file_lock fl;
	int ret;

	ckpt_lock_init(&fl, file, h, h->kind == CKPT_LOCK_POSIX ?
		       (fl_owner_t)current->files : (fl_owner_t)file);
	ret = security_file_lock(file, fl.fl_type);
	if (ret)
		return ret;
	if (h->kind == CKPT_LOCK_FLOCK)
		ret = file->f_op->flock ?
		      file->f_op->flock(file, F_SETLK, &fl) :
		      locks_lock_file_wait(file, &fl);
	else
		ret = vfs_lock_file(file, F_SETLK, &fl, NULL);
	locks_release_private(&fl);
	return ret;
}

/* would a POSIX lock of the restored task on @file conflict? */
static int ckpt_lock_test(struct file *file, struct ckpt_hdr_file_lock *h,
			  pid_t *holder)
{
	struct file_lock fl;
	int ret;

	ckpt_lock_init(&fl, file, h, current->files);
	ret = vfs_test_lock(file, &fl);
	if (!ret && fl.fl_type != F_UNLCK) {
		*holder = fl.fl_pid;
		ret = -EAGAIN;
	}
	locks_release_private(&fl);
	return ret;
}

static const char *ckpt_lock_name(u32 kind)
{
	return kind == CKPT_LOCK_LEASE ? "lease" :
	       kind == CKPT_LOCK_FLOCK ? "flock" :
	       kind == CKPT_LOCK_OFD ? "OFD lock" : "POSIX lock";
}

static int restore_lock_check(struct ckpt_ctx *ctx, struct file *file,
			      struct ckpt_hdr_file_lock *h, const char *path,
			      int *nflock)
{
	fmode_t need;

	if (h->kind < CKPT_LOCK_POSIX || h->kind > CKPT_LOCK_LEASE ||
	    (h->type != F_RDLCK && h->type != F_WRLCK) || h->start < 0 ||
	    h->end < h->start)
		return ckpt_err(ctx, -EINVAL,
				"%s: bad lock (kind %u type %u %lld-%lld)",
				path, h->kind, h->type, h->start, h->end);
	if (h->kind == CKPT_LOCK_LEASE) {
		struct inode *inode = file_inode(file);

		/* one lease per file (bit 8 of *@nflock) */
		if (h->start || h->end != OFFSET_MAX || *nflock & 0x100 ||
		    !S_ISREG(inode->i_mode) ||
		    (h->type == F_RDLCK && (file->f_mode & FMODE_WRITE)))
			return ckpt_err(ctx, -EINVAL, "%s: bad lease", path);
		*nflock |= 0x100;
		/* as check_conflicting_open(): someone writes to it */
		if (atomic_read(&inode->i_writecount) >
		    (h->type == F_WRLCK && (file->f_mode & FMODE_WRITE)))
			return ckpt_err(ctx, -EAGAIN,
					"%s: lease conflicts with an open for writing",
					path);
		/* as generic_setlease() */
		if (!uid_eq(current_fsuid(), inode->i_uid) &&
		    !capable(CAP_LEASE))
			return ckpt_err(ctx, -EACCES,
					"%s: a lease needs the file's owner or CAP_LEASE",
					path);
		return 0;
	}
	if (h->kind == CKPT_LOCK_FLOCK) {
		if (h->start || h->end != OFFSET_MAX || (++*nflock & 0xff) > 1)
			return ckpt_err(ctx, -EINVAL, "%s: bad flock", path);
		need = FMODE_READ | FMODE_WRITE;
		if (!(file->f_mode & need))
			return ckpt_err(ctx, -EBADF, "%s: flock needs an open mode",
					path);
		return 0;
	}
	/* as fcntl(F_SETLK): a read lock needs reading, a write lock writing */
	need = h->type == F_RDLCK ? FMODE_READ : FMODE_WRITE;
	if (!(file->f_mode & need))
		return ckpt_err(ctx, -EBADF, "%s: %s %s of a file not open for %s",
				path, h->type == F_RDLCK ? "read" : "write",
				ckpt_lock_name(h->kind),
				h->type == F_RDLCK ? "reading" : "writing");
	return 0;
}

/*
 * Restart: read the @n CKPT_HDR_FILE_LOCK records of @file; take its OFD
 * locks and flock, and queue its POSIX locks once checked against the
 * locks of others.
 */
int restore_file_locks(struct ckpt_ctx *ctx, struct file *file, u32 n,
		       const char *path)
{
	struct ckpt_posix_lock *pl;
	struct ckpt_hdr_file_lock h;
	int nflock = 0, ret = 0;
	pid_t holder = 0;
	u32 i;

	if (!ctx->rst.posix_locks.next)
		INIT_LIST_HEAD(&ctx->rst.posix_locks);
	for (i = 0; i < n && !ret; i++) {
		ret = ckpt_read_obj(ctx, &h, CKPT_HDR_FILE_LOCK, sizeof(h));
		if (!ret)
			ret = restore_lock_check(ctx, file, &h, path, &nflock);
		if (ret)
			break;
		if (h.kind != CKPT_LOCK_POSIX && h.kind != CKPT_LOCK_LEASE) {
			ret = ckpt_lock_take(file, &h);
		} else {
			if (h.kind == CKPT_LOCK_POSIX)
				ret = ckpt_lock_test(file, &h, &holder);
			if (!ret) {
				pl = kmalloc(sizeof(*pl), GFP_KERNEL);
				if (!pl)
					return -ENOMEM;
				pl->file = file;
				pl->h = h;
				list_add_tail(&pl->list, &ctx->rst.posix_locks);
			}
		}
		if (ret == -EAGAIN && holder)
			ret = ckpt_err(ctx, ret,
				       "%s: %s %lld-%lld conflicts with a lock of pid %d",
				       path, ckpt_lock_name(h.kind), h.start,
				       h.end, holder);
		else if (ret)
			ret = ckpt_err(ctx, ret, "%s: cannot take %s %lld-%lld",
				       path, ckpt_lock_name(h.kind), h.start,
				       h.end);
	}
	return ret;
}

/* a lease, through fcntl(F_SETLEASE) at the first descriptor of its file */
static int restore_lease_commit(struct ckpt_ctx *ctx,
				struct ckpt_posix_lock *pl)
{
	struct ckpt_hdr_file_desc *fds = ctx->rst.fds;
	unsigned int i;
	int ret;

	for (i = 0; i < ctx->rst.nfds; i++)
		if (ckpt_obj_fetch(ctx, fds[i].objref) == pl->file)
			break;
	if (i == ctx->rst.nfds)
		return ckpt_err(ctx, -EINVAL, "a lease on a file of no descriptor");
	ret = fcntl_setlease(fds[i].fd, pl->file, pl->h.type);
	if (ret)
		return ckpt_err(ctx, ret,
				"fd %d: %s lease lost to another open of the file during restart",
				fds[i].fd, pl->h.type == F_RDLCK ? "read" : "write");
	return 0;
}

/*
 * Restart, descriptors installed: the POSIX locks, owned by the restored
 * table.  They were checked before the commit point; one that fails now
 * (another process took a conflicting lock since) is an error after
 * changes: the caller kills the task.
 */
int restore_file_locks_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_posix_lock *pl;
	int ret;

	if (!ctx->rst.posix_locks.next)
		return 0;
	list_for_each_entry(pl, &ctx->rst.posix_locks, list) {
		if (pl->h.kind == CKPT_LOCK_LEASE)
			continue;
		ret = ckpt_lock_take(pl->file, &pl->h);
		if (ret)
			return ckpt_err(ctx, ret,
					"POSIX lock %lld-%lld lost to another process during restart",
					pl->h.start, pl->h.end);
	}
	list_for_each_entry(pl, &ctx->rst.posix_locks, list) {
		if (pl->h.kind != CKPT_LOCK_LEASE)
			continue;
		ret = restore_lease_commit(ctx, pl);
		if (ret)
			return ret;
	}
	return 0;
}

void restore_file_locks_free(struct ckpt_ctx *ctx)
{
	struct ckpt_posix_lock *pl, *tmp;

	if (!ctx->rst.posix_locks.next)
		return;
	list_for_each_entry_safe(pl, tmp, &ctx->rst.posix_locks, list) {
		list_del(&pl->list);
		kfree(pl);
	}
}
