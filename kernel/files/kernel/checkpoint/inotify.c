// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: inotify files.
 *
 * CKPT_HDR_INOTIFY, then each watch (CKPT_HDR_INOTIFY_WATCH: its watch
 * descriptor, mask, inode type, and the path of the watched inode as the
 * checkpointing task sees it) and each event queued and not yet read
 * (CKPT_HDR_INOTIFY_EVENT with its name).  A watched inode is named
 * through a mount of the task (its root, its working directory, or the
 * mount of one of its files); one without a name there (deleted, or on no
 * mount the task uses) is refused, and so is a queue that overflowed.
 *
 * Restart makes a new inotify instance (the caller's max_user_instances),
 * watches each path again as inotify_add_watch() does, with the caller's
 * rights (read permission, the LSM hook, max_user_watches): a path that
 * is gone is ENOENT, one of another inode type ESTALE, each naming the
 * path.  The watch descriptors are those of the image (the numbers the
 * program knows), and so is the next one; the queued events come back in
 * order, so that a read() after restart returns what it would have.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/inotify.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>

bool ckpt_is_inotify(struct file *file)
{
	int next;

	return inotify_ckpt_watches(file, NULL, 0, &next) >= 0;
}

static void ckpt_inotify_put(struct inotify_ckpt_watch *w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		iput(w[i].inode);
	kvfree(w);
}

static int ckpt_watch_cmp(const void *a, const void *b)
{
	const struct inotify_ckpt_watch *x = a, *y = b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

/* the watches of @file in a new array, in increasing wd order */
static int ckpt_inotify_collect(struct file *file,
				struct inotify_ckpt_watch **pw, int *next)
{
	struct inotify_ckpt_watch *w = NULL;
	int n, max = 0;

	for (;;) {
		n = inotify_ckpt_watches(file, w, max, next);
		if (n < 0 || n <= max)
			break;
		ckpt_inotify_put(w, max);
		max = n;
		w = kvcalloc(max, sizeof(*w), GFP_KERNEL);
		if (!w)
			return -ENOMEM;
	}
	if (n < 0 || n > CKPT_INOTIFY_WATCHES_MAX) {
		ckpt_inotify_put(w, max);
		return n < 0 ? n : -E2BIG;
	}
	/* igrab() may have failed on an inode being freed: compact */
	max = 0;
	while (max < n && w[max].inode)
		max++;
	sort(w, max, sizeof(*w), ckpt_watch_cmp, NULL);
	*pw = w;
	return max;
}

/* the path of @dentry through @mnt, if it has one there */
static char *ckpt_inotify_name(struct vfsmount *mnt, struct dentry *dentry,
			       char *buf)
{
	struct path p = { .mnt = mnt, .dentry = dentry };
	char *path;

	if (!mnt || mnt->mnt_sb != dentry->d_sb ||
	    !is_subdir(dentry, mnt->mnt_root))
		return NULL;
	path = d_path(&p, buf, PATH_MAX);
	return IS_ERR(path) || *path != '/' ? NULL : path;
}

/*
 * The path of the inode of watch @w, in @buf: through the task's root,
 * working directory, or the mount of one of its files.
 */
static char *ckpt_inotify_path(struct ckpt_ctx *ctx,
			       struct inotify_ckpt_watch *w, char *buf)
{
	struct path root = { }, pwd = { };
	struct dentry *dentry;
	char *path = NULL;
	int i;

	dentry = d_find_alias(w->inode);
	if (!dentry)
		return NULL;
	if (d_unlinked(dentry))
		goto out;
	task_lock(ctx->tsk);
	if (ctx->tsk->fs) {
		get_fs_root(ctx->tsk->fs, &root);
		get_fs_pwd(ctx->tsk->fs, &pwd);
	}
	task_unlock(ctx->tsk);
	path = ckpt_inotify_name(root.mnt, dentry, buf);
	if (!path)
		path = ckpt_inotify_name(pwd.mnt, dentry, buf);
	for (i = 0; !path && i < ctx->ckpt_nfds; i++)
		path = ckpt_inotify_name(ctx->ckpt_fds[i].file->f_path.mnt,
					 dentry, buf);
	if (root.mnt)
		path_put(&root);
	if (pwd.mnt)
		path_put(&pwd);
out:
	dput(dentry);
	return path;
}

/* refusals, before anything is written */
int ckpt_inotify_classify(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct inotify_ckpt_watch *w;
	int i, n, next, ret = CKPT_FILE_INOTIFY;
	char *buf;

	n = inotify_ckpt_events(file, NULL, 0);
	if (n == -EOVERFLOW)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: inotify queue overflowed (IN_Q_OVERFLOW queued): not supported",
				fd);
	if (n > CKPT_INOTIFY_EVENTS_MAX)
		return ckpt_err(ctx, -E2BIG, "fd %d: %d inotify events queued",
				fd, n);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = ckpt_inotify_collect(file, &w, &next);
	if (n < 0) {
		kfree(buf);
		return ckpt_err(ctx, n, "fd %d: cannot read the inotify watches",
				fd);
	}
	for (i = 0; i < n; i++)
		if (!ckpt_inotify_path(ctx, &w[i], buf)) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "fd %d: inotify watch %d: the inode (%lu) has no name on a mount of the task (deleted?): not supported",
				       fd, w[i].wd, w[i].inode->i_ino);
			break;
		}
	ckpt_inotify_put(w, n);
	kfree(buf);
	return ret;
}

static int checkpoint_inotify_events(struct ckpt_ctx *ctx, struct file *file,
				     int fd, int n)
{
	struct inotify_ckpt_event *ev;
	int i, ret = 0;

	if (!n)
		return 0;
	ev = kvcalloc(n, sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	if (inotify_ckpt_events(file, ev, n) != n) {
		kvfree(ev);
		return ckpt_err(ctx, -EAGAIN,
				"fd %d: inotify events changed during checkpoint",
				fd);
	}
	for (i = 0; i < n && !ret; i++) {
		struct ckpt_hdr_inotify_event h = { };

		h.wd = ev[i].wd;
		h.mask = ev[i].mask;
		h.cookie = ev[i].cookie;
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_INOTIFY_EVENT, sizeof(h));
		if (!ret)
			ret = ckpt_write_string(ctx, ev[i].name);
	}
	kvfree(ev);
	return ret;
}

int checkpoint_inotify(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct ckpt_hdr_inotify h = { };
	struct inotify_ckpt_watch *w;
	int i, n, nev, next, ret;
	char *buf, *path;

	BUILD_BUG_ON(sizeof(h) != 24);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	nev = inotify_ckpt_events(file, NULL, 0);
	n = ckpt_inotify_collect(file, &w, &next);
	if (n < 0 || nev < 0) {
		ret = ckpt_err(ctx, n < 0 ? n : nev,
			       "fd %d: cannot read the inotify file", fd);
		if (n >= 0)
			ckpt_inotify_put(w, n);
		goto out;
	}
	h.nwatches = n;
	h.nevents = nev;
	h.next_wd = next;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_INOTIFY, sizeof(h));
	for (i = 0; i < n && !ret; i++) {
		struct ckpt_hdr_inotify_watch hw = { };

		path = ckpt_inotify_path(ctx, &w[i], buf);
		if (!path) {
			ret = ckpt_err(ctx, -EAGAIN,
				       "fd %d: inotify watch %d lost its name during checkpoint",
				       fd, w[i].wd);
			break;
		}
		hw.wd = w[i].wd;
		hw.mask = w[i].mask;
		hw.i_mode = w[i].inode->i_mode & S_IFMT;
		ret = ckpt_write_obj(ctx, &hw, CKPT_HDR_INOTIFY_WATCH, sizeof(hw));
		if (!ret)
			ret = ckpt_write_string(ctx, path);
	}
	ckpt_inotify_put(w, n);
	if (!ret)
		ret = checkpoint_inotify_events(ctx, file, fd, nev);
out:
	kfree(buf);
	return ret;
}

/* restart: one watch, by path, with the caller's rights */
static int restore_inotify_watch(struct ckpt_ctx *ctx, struct file *file,
				 int objref, int *last)
{
	struct ckpt_hdr_inotify_watch h;
	struct path p;
	char *path;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_INOTIFY_WATCH, sizeof(h));
	if (ret)
		return ret;
	if (h.wd <= *last || h.i_mode & ~S_IFMT || !h.i_mode || h._padding ||
	    h.mask & ~(IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK) ||
	    !(h.mask & IN_ALL_EVENTS))
		return ckpt_err(ctx, -EINVAL,
				"inotify objref %d: bad watch %d (mask %#x, inode type %#o)",
				objref, h.wd, h.mask, h.i_mode);
	*last = h.wd;
	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);
	if (*path != '/') {
		ret = ckpt_err(ctx, -EINVAL, "inotify watch %d: path %s not absolute",
			       h.wd, path);
		goto out;
	}
	ret = kern_path(path, 0, &p);
	if (ret) {
		ckpt_err(ctx, ret, "inotify watch %d: cannot find %s", h.wd,
			 path);
		goto out;
	}
	if ((d_inode(p.dentry)->i_mode & S_IFMT) != h.i_mode)
		ret = ckpt_err(ctx, -ESTALE, "inotify watch %d: %s: file type changed",
			       h.wd, path);
	else
		ret = inotify_ckpt_add_watch(file, &p, h.mask, h.wd);
	path_put(&p);
	if (ret == -EBUSY || ret == -EEXIST)
		ret = ckpt_err(ctx, -EINVAL,
			       "inotify watch %d (%s): descriptor taken or inode watched twice",
			       h.wd, path);
	else if (ret)
		ret = ckpt_err(ctx, ret, "inotify watch %d: cannot watch %s",
			       h.wd, path);
out:
	kvfree(path);
	return ret;
}

static int restore_inotify_event(struct ckpt_ctx *ctx, struct file *file,
				 int objref)
{
	struct ckpt_hdr_inotify_event h;
	char *name;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_INOTIFY_EVENT, sizeof(h));
	if (ret)
		return ret;
	if (h.wd < -1 || h._padding ||
	    h.mask & ~(IN_ALL_EVENTS | IN_UNMOUNT | IN_IGNORED | IN_ISDIR))
		return ckpt_err(ctx, -EINVAL,
				"inotify objref %d: bad event (wd %d, mask %#x)",
				objref, h.wd, h.mask);
	name = ckpt_read_string(ctx, NAME_MAX + 1);
	if (IS_ERR(name))
		return PTR_ERR(name);
	if (strchr(name, '/'))
		ret = ckpt_err(ctx, -EINVAL, "inotify objref %d: bad event name",
			       objref);
	else
		ret = inotify_ckpt_queue_event(file, h.wd, h.mask, h.cookie,
					       name);
	if (ret == -ENOSPC)
		ret = ckpt_err(ctx, -ENOSPC,
			       "inotify objref %d: more events than max_queued_events",
			       objref);
	kvfree(name);
	return ret;
}

struct file *restore_inotify(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_hdr_inotify h;
	struct file *file;
	int ret, last = 0;
	u32 i;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_INOTIFY, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.nwatches > CKPT_INOTIFY_WATCHES_MAX ||
	    h.nevents > CKPT_INOTIFY_EVENTS_MAX || h.next_wd < 1 ||
	    h._padding)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"inotify objref %d: bad record (%u watches, %u events, next %d)",
					hf->objref, h.nwatches, h.nevents,
					h.next_wd));
	file = inotify_ckpt_create(hf->f_flags & O_NONBLOCK);
	if (IS_ERR(file))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(file),
					"inotify objref %d: cannot make it",
					hf->objref));
	for (i = 0; i < h.nwatches && !ret; i++)
		ret = restore_inotify_watch(ctx, file, hf->objref, &last);
	if (!ret)
		inotify_ckpt_set_next_wd(file, h.next_wd);
	for (i = 0; i < h.nevents && !ret; i++)
		ret = restore_inotify_event(ctx, file, hf->objref);
	if (ret) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}
