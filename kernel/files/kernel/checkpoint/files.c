// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: open files (regular files and /dev/null).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#define CKPT_DEVNULL	MKDEV(1, 3)

/* open flags that restart passes to the open of a file */
#define CKPT_FILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | \
			 O_DIRECT | O_LARGEFILE | O_NOATIME | __O_SYNC)

static int ckpt_inode_type(struct inode *inode)
{
	if (S_ISREG(inode->i_mode))
		return CKPT_FILE_REG;
	if (S_ISCHR(inode->i_mode) && inode->i_rdev == CKPT_DEVNULL)
		return CKPT_FILE_DEVNULL;
	return 0;
}

static int ckpt_file_type(struct file *file)
{
	return ckpt_inode_type(file_inode(file));
}

/*
 * Open @name for restart only if it is of @type (CKPT_FILE_REG or
 * CKPT_FILE_DEVNULL): its type is looked up first, so that nothing else is
 * opened (a tty would become the controlling terminal, a FIFO open would
 * block); O_NOCTTY and a check after the open, in case it was replaced in
 * between.  -ESTALE if it is of another type.
 */
struct file *ckpt_open_path(const char *name, int flags, int type)
{
	struct file *file;
	struct path path;
	int err;

	err = kern_path(name, LOOKUP_FOLLOW, &path);
	if (err)
		return ERR_PTR(err);
	err = ckpt_inode_type(d_inode(path.dentry)) == type ? 0 : -ESTALE;
	path_put(&path);
	if (err)
		return ERR_PTR(err);
	file = filp_open(name, flags | O_NOCTTY, 0);
	if (!IS_ERR(file) && ckpt_file_type(file) != type) {
		fput(file);
		file = ERR_PTR(-ESTALE);
	}
	return file;
}

static const char *ckpt_file_kind(struct file *file)
{
	umode_t mode = file_inode(file)->i_mode;

	if (S_ISFIFO(mode))
		return "pipe";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device (tty?)";
	if (S_ISBLK(mode))
		return "block device";
	if (S_ISDIR(mode))
		return "directory";
	return "special file";
}

/* CKPT_HDR_FILE and its path, the first time a file is seen */
static int checkpoint_file(struct ckpt_ctx *ctx, struct file *file, int fd,
			   int objref, char *buf)
{
	struct ckpt_hdr_file h = { };
	char *path;
	int type, ret;

	path = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(path))
		path = "?";
	type = ckpt_file_type(file);
	if (!type)
		return ckpt_err(ctx, -EBADF,
				"fd %d: unsupported file type: %s (%s)",
				fd, ckpt_file_kind(file), path);
	if (d_unlinked(file->f_path.dentry))
		return ckpt_err(ctx, -EBADF, "fd %d: file is deleted: %s",
				fd, path);

	h.objref = objref;
	h.f_type = type;
	h.f_flags = file->f_flags;
	h.f_mode = file->f_mode & (FMODE_READ | FMODE_WRITE);
	h.f_pos = file->f_pos;
	h.i_size = i_size_read(file_inode(file));
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FILE, sizeof(h));
	if (!ret)
		ret = ckpt_write_string(ctx, path);
	return ret;
}

struct ckpt_fd {
	struct file *file;
	int fd;
	bool cloexec;
};

/* snapshot the descriptor table of @t */
static int ckpt_collect_fds(struct task_struct *t, struct ckpt_fd **pfds)
{
	struct files_struct *files;
	struct ckpt_fd *fds = NULL;
	struct fdtable *fdt;
	unsigned int max, fd;
	int n;

	task_lock(t);
	files = t->files;
	if (files)
		atomic_inc(&files->count);
	task_unlock(t);
	if (!files)
		return 0;
again:
	rcu_read_lock();
	max = files_fdtable(files)->max_fds;
	rcu_read_unlock();
	kvfree(fds);
	fds = kvcalloc(max, sizeof(*fds), GFP_KERNEL);
	if (!fds) {
		put_files_struct(files);
		return -ENOMEM;
	}
	n = 0;
	spin_lock(&files->file_lock);
	fdt = files_fdtable(files);
	if (fdt->max_fds != max) {
		spin_unlock(&files->file_lock);
		goto again;
	}
	for (fd = 0; fd < max; fd++) {
		struct file *file = rcu_dereference_protected(fdt->fd[fd],
				lockdep_is_held(&files->file_lock));

		if (!file)
			continue;
		get_file(file);
		fds[n].file = file;
		fds[n].fd = fd;
		fds[n].cloexec = close_on_exec(fd, fdt);
		n++;
	}
	spin_unlock(&files->file_lock);
	put_files_struct(files);
	*pfds = fds;
	return n;
}

int checkpoint_files(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_file_table ht = { };
	struct ckpt_fd *fds = NULL;
	char *buf;
	int i, n, ret;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = ckpt_collect_fds(t, &fds);
	if (n < 0) {
		kfree(buf);
		return n;
	}

	/* refuse unsupported descriptors before writing anything */
	ret = 0;
	for (i = 0; i < n && !ret; i++) {
		if (!ckpt_file_type(fds[i].file)) {
			char *path = d_path(&fds[i].file->f_path, buf, PATH_MAX);

			ret = ckpt_err(ctx, -EBADF,
				       "fd %d: unsupported file type: %s (%s)",
				       fds[i].fd, ckpt_file_kind(fds[i].file),
				       IS_ERR(path) ? "?" : path);
		}
	}

	ht.nfds = n;
	if (!ret)
		ret = ckpt_write_obj(ctx, &ht, CKPT_HDR_FILE_TABLE, sizeof(ht));
	for (i = 0; i < n && !ret; i++) {
		struct ckpt_hdr_file_desc hd = { };
		bool first;
		int objref;

		objref = ckpt_obj_lookup_add(ctx, fds[i].file, &first);
		if (objref < 0) {
			ret = objref;
			break;
		}
		if (first)
			ret = checkpoint_file(ctx, fds[i].file, fds[i].fd,
					      objref, buf);
		if (ret)
			break;
		hd.fd = fds[i].fd;
		hd.objref = objref;
		hd.close_on_exec = fds[i].cloexec;
		ret = ckpt_write_obj(ctx, &hd, CKPT_HDR_FILE_DESC, sizeof(hd));
	}

	for (i = 0; i < n; i++)
		fput(fds[i].file);
	kvfree(fds);
	kfree(buf);
	return ret;
}

/* restart: open the file of a CKPT_HDR_FILE record */
static int restore_file(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h)
{
	struct file *file;
	char *path;
	int ret;

	if (h->objref != ctx->next_objref + 1)
		return ckpt_err(ctx, -EINVAL, "file objref %d out of order",
				h->objref);
	if (h->f_type != CKPT_FILE_REG && h->f_type != CKPT_FILE_DEVNULL)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad type %u",
				h->objref, h->f_type);
	if (h->f_pos < 0)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad position",
				h->objref);
	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);

	file = ckpt_open_path(path, (h->f_flags & CKPT_FILE_FLAGS) | O_LARGEFILE,
			      h->f_type);
	if (PTR_ERR_OR_ZERO(file) == -ESTALE) {
		ret = ckpt_err(ctx, -ESTALE, "%s: file type changed", path);
		goto out;
	}
	if (IS_ERR(file)) {
		ret = ckpt_err(ctx, PTR_ERR(file), "cannot open %s", path);
		goto out;
	}
	if (h->f_type == CKPT_FILE_REG && h->f_pos) {
		loff_t pos = vfs_llseek(file, h->f_pos, SEEK_SET);

		if (pos != h->f_pos) {
			fput(file);
			ret = ckpt_err(ctx, pos < 0 ? (int)pos : -EINVAL,
				       "%s: cannot seek to %lld", path,
				       h->f_pos);
			goto out;
		}
	}
	ret = ckpt_obj_insert(ctx, file, h->objref);
	if (ret)
		fput(file);
	else
		ctx->next_objref = h->objref;
out:
	kvfree(path);
	return ret;
}

/* restart: read the file table; files are opened, not yet installed */
int restore_files_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_file_table ht;
	struct ckpt_hdr_file_desc *fds;
	unsigned long nofile = rlimit(RLIMIT_NOFILE);
	int i, ret;

	ret = ckpt_read_obj(ctx, &ht, CKPT_HDR_FILE_TABLE, sizeof(ht));
	if (ret)
		return ret;
	if (ht.nfds > min_t(unsigned long, nofile, sysctl_nr_open))
		return ckpt_err(ctx, -EINVAL, "too many descriptors: %u",
				ht.nfds);
	fds = kvcalloc(max_t(u32, ht.nfds, 1), sizeof(*fds), GFP_KERNEL);
	if (!fds)
		return -ENOMEM;
	ctx->rst.fds = fds;
	ctx->rst.nfds = ht.nfds;

	for (i = 0; i < ht.nfds; i++) {
		struct ckpt_hdr h;

		/* a CKPT_HDR_FILE may precede the descriptor */
		ret = ckpt_kread(ctx, &h, sizeof(h));
		if (ret)
			return ret;
		if (h.type == CKPT_HDR_FILE) {
			struct ckpt_hdr_file hf;

			if (h.len != sizeof(hf))
				return ckpt_err(ctx, -EINVAL,
						"bad file record length %u",
						h.len);
			hf.h = h;
			ret = ckpt_kread(ctx, &hf.h + 1, sizeof(hf) - sizeof(h));
			if (!ret)
				ret = ckpt_read_pad(ctx, h.len);
			if (!ret)
				ret = restore_file(ctx, &hf);
			if (ret)
				return ret;
			ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_FILE_DESC,
					    sizeof(fds[i]), sizeof(fds[i]));
			if (ret)
				return ret;
		} else if (h.type != CKPT_HDR_FILE_DESC ||
			   h.len != sizeof(fds[i])) {
			return ckpt_err(ctx, -EINVAL,
					"expected a file descriptor record, got type %u len %u",
					h.type, h.len);
		}
		fds[i].h = h;
		ret = ckpt_kread(ctx, &fds[i].h + 1, sizeof(fds[i]) - sizeof(h));
		if (!ret)
			ret = ckpt_read_pad(ctx, h.len);
		if (ret)
			return ret;
		if (fds[i].fd < 0 || fds[i].fd >= nofile ||
		    (i && fds[i].fd <= fds[i - 1].fd))
			return ckpt_err(ctx, -EINVAL, "bad descriptor %d",
					fds[i].fd);
		if (fds[i].close_on_exec > 1)
			return ckpt_err(ctx, -EINVAL, "fd %d: bad flags",
					fds[i].fd);
		if (!ckpt_obj_fetch(ctx, fds[i].objref))
			return ckpt_err(ctx, -EINVAL, "fd %d: unknown objref %d",
					fds[i].fd, fds[i].objref);
	}
	return 0;
}

/*
 * restart: install the descriptors.  Highest first, so that only the
 * first replace_fd() may need to grow the table: if that fails, nothing
 * changed yet.  Returns a negative error only before any change.
 */
int restore_files_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_file_desc *fds = ctx->rst.fds;
	unsigned int next = 0;
	int i, ret;

	for (i = ctx->rst.nfds - 1; i >= 0; i--) {
		struct file *file = ckpt_obj_fetch(ctx, fds[i].objref);

		ret = replace_fd(fds[i].fd, file,
				 fds[i].close_on_exec ? O_CLOEXEC : 0);
		if (ret < 0) {
			if (i == ctx->rst.nfds - 1)
				return ret;
			ckpt_err(ctx, ret, "cannot install fd %d", fds[i].fd);
			return 1;
		}
	}
	/* close every other descriptor */
	for (i = 0; i < ctx->rst.nfds; i++) {
		if (fds[i].fd > next)
			__close_range(next, fds[i].fd - 1, 0);
		next = fds[i].fd + 1;
	}
	__close_range(next, ~0U, 0);
	return 0;
}
