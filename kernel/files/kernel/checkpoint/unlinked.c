// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: files whose content travels in the image, because
 * no path leads to it: unlinked (deleted, O_TMPFILE) regular files, and
 * memfds (name, content, seals).
 *
 * The content of an inode is saved once, with the first of its files,
 * read through a file of the checkpointer's own (it must be allowed to
 * read it, else EACCES).  Restart makes the inode again with the caller's
 * rights: an unlinked file is created under its old name, O_EXCL, and
 * unlinked at once (its directory must allow the caller to create and
 * delete there; a name taken since is EEXIST), a memfd as memfd_create()
 * does.  The content is written back, then the permission bits and, for a
 * memfd, the seals (with F_ADD_SEALS' checks); each file of the inode is
 * then opened on it with its own flags.  A deleted name of an inode that
 * is still linked elsewhere, and hugetlbfs files, are refused.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/memfd.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>

#define CKPT_MEMFD_PREFIX	"memfd:"
#define CKPT_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
			 F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/* restart: an inode made for the image, that its files are opened on */
struct ckpt_rst_data {
	struct file *file;
	u32 type;		/* CKPT_FILE_DELETED or CKPT_FILE_MEMFD */
};

bool ckpt_is_memfd(struct file *file)
{
	return shmem_file(file) &&
	       !strncmp(file->f_path.dentry->d_name.name, CKPT_MEMFD_PREFIX,
			strlen(CKPT_MEMFD_PREFIX));
}

/* the kind of an unlinked file (d_unlinked()), or a refusal naming it */
int ckpt_unlinked_classify(struct ckpt_ctx *ctx, struct file *file, int fd,
			   const char *path)
{
	struct inode *inode = file_inode(file);

	if (!S_ISREG(inode->i_mode) || (file->f_mode & FMODE_PATH))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: deleted %s not supported: %s", fd,
				S_ISDIR(inode->i_mode) ? "directory" : "file",
				path);
	if (is_file_hugepages(file))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: hugetlbfs file not supported: %s", fd,
				path);
	if (ckpt_is_memfd(file))
		return CKPT_FILE_MEMFD;
	if (inode->i_nlink)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: deleted name of a file linked elsewhere: %s",
				fd, path);
	return CKPT_FILE_DELETED;
}

/* the path to save: without " (deleted)" (the name to create it under) */
void ckpt_unlinked_path(char *path)
{
	static const char suffix[] = " (deleted)";
	size_t len = strlen(path), n = sizeof(suffix) - 1;

	if (len > n && !strcmp(path + len - n, suffix))
		path[len - n] = '\0';
}

/*
 * @size bytes of @file (@what names it in messages: "fd N", a mapping),
 * in CKPT_HDR_BUFFERs of CKPT_DATA_CHUNK bytes
 */
int ckpt_write_content(struct ckpt_ctx *ctx, struct file *file,
		       const char *what, u64 size)
{
	struct file *rfile;
	loff_t pos = 0;
	char *buf;
	int ret = 0;

	if (inode_permission(file_mnt_user_ns(file), file_inode(file),
			     MAY_READ))
		return ckpt_err(ctx, -EACCES,
				"%s: no permission to read its content", what);
	rfile = dentry_open(&file->f_path, O_RDONLY | O_LARGEFILE,
			    current_cred());
	if (IS_ERR(rfile))
		return ckpt_err(ctx, PTR_ERR(rfile), "%s: cannot read its content",
				what);
	buf = kvmalloc(CKPT_DATA_CHUNK, GFP_KERNEL);
	if (!buf) {
		fput(rfile);
		return -ENOMEM;
	}
	while (size && !ret) {
		size_t n = min_t(u64, size, CKPT_DATA_CHUNK);
		ssize_t got = kernel_read(rfile, buf, n, &pos);

		if (got < 0) {
			ret = ckpt_err(ctx, got, "%s: cannot read its content",
				       what);
			break;
		}
		/* it shrank meanwhile (another process): zeros */
		memset(buf + got, 0, n - got);
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, n);
		if (!ret)
			ret = ckpt_kwrite(ctx, buf, n);
		if (!ret)
			ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + n);
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		size -= n;
		cond_resched();
	}
	kvfree(buf);
	fput(rfile);
	return ret;
}

/* CKPT_HDR_FILE_DATA of an unlinked file or memfd, the content with @first */
int checkpoint_file_data(struct ckpt_ctx *ctx, struct file *file, int fd,
			 int data_ref, bool first)
{
	struct ckpt_hdr_file_data h = { .data_ref = data_ref };
	struct inode *inode = file_inode(file);
	unsigned int *seals = memfd_file_seals_ptr(file);
	char what[24];
	int ret;

	h.i_perm = inode->i_mode & 07777;
	spin_lock(&inode->i_lock);
	if (inode->i_state & I_LINKABLE)
		h.data_flags = CKPT_DATA_LINKABLE;
	spin_unlock(&inode->i_lock);
	if (ckpt_is_memfd(file) && seals)
		h.seals = READ_ONCE(*seals);
	if (first)
		h.size = i_size_read(inode);
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FILE_DATA, sizeof(h));
	snprintf(what, sizeof(what), "fd %d", fd);
	if (!ret && h.size)
		ret = ckpt_write_content(ctx, file, what, h.size);
	return ret;
}

/* restart: unlink the file just created (its dentry must still be there) */
static int ckpt_unlink(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry, *parent;
	struct inode *dir;
	int ret;

	ret = mnt_want_write(file->f_path.mnt);
	if (ret)
		return ret;
	parent = dget_parent(dentry);
	dir = d_inode(parent);
	/* as do_unlinkat(): a reference of its own keeps the dentry positive */
	dget(dentry);
	inode_lock_nested(dir, I_MUTEX_PARENT);
	if (dentry->d_parent == parent && !d_unhashed(dentry))
		ret = vfs_unlink(file_mnt_user_ns(file), dir, dentry, NULL);
	else
		ret = -ESTALE;
	inode_unlock(dir);
	dput(dentry);
	dput(parent);
	mnt_drop_write(file->f_path.mnt);
	return ret;
}

/* restart: the permission bits, as fchmod() would set them */
static int ckpt_set_perm(struct file *file, umode_t perm)
{
	struct dentry *dentry = file->f_path.dentry;
	struct inode *inode = d_inode(dentry);
	struct iattr ia = { .ia_valid = ATTR_MODE | ATTR_CTIME };
	int ret;

	if ((inode->i_mode & 07777) == perm)
		return 0;
	ret = mnt_want_write(file->f_path.mnt);
	if (ret)
		return ret;
	inode_lock(inode);
	ia.ia_mode = perm | (inode->i_mode & ~07777);
	ret = notify_change(file_mnt_user_ns(file), dentry, &ia, NULL);
	inode_unlock(inode);
	mnt_drop_write(file->f_path.mnt);
	if (!ret && (inode->i_mode & 07777) != perm)
		ret = -EPERM;	/* setgid not granted */
	return ret;
}

/* an O_TMPFILE file again, in the directory of @path ("DIR/#INO") */
static struct file *restore_tmpfile_new(struct ckpt_ctx *ctx, const char *path,
					bool linkable)
{
	char *dir, *slash;
	struct file *file;

	dir = kstrdup(path, GFP_KERNEL);
	if (!dir)
		return ERR_PTR(-ENOMEM);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	file = filp_open(dir, O_TMPFILE | O_RDWR | O_LARGEFILE |
			 (linkable ? 0 : O_EXCL), 0600);
	if (IS_ERR(file))
		ckpt_err(ctx, PTR_ERR(file), "cannot make an O_TMPFILE file in %s",
			 dir);
	kfree(dir);
	return file;
}

static struct file *restore_deleted_new(struct ckpt_ctx *ctx, const char *path)
{
	struct file *file;
	int ret;

	file = filp_open(path, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW |
			 O_LARGEFILE | O_NOCTTY, 0600);
	if (IS_ERR(file))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(file),
					"cannot create the deleted file %s%s",
					path, PTR_ERR(file) == -EEXIST ?
					": its name is taken" : ""));
	ret = ckpt_unlink(file);
	if (ret) {
		ckpt_err(ctx, ret, "cannot unlink %s again", path);
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

static struct file *restore_memfd_new(struct ckpt_ctx *ctx, const char *name)
{
	struct file *file;

	if (strncmp(name, CKPT_MEMFD_PREFIX, strlen(CKPT_MEMFD_PREFIX)) ||
	    strlen(name) > NAME_MAX)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad memfd name %s",
					name));
	/* as memfd_create() */
	file = shmem_file_setup(name, 0, VM_NORESERVE);
	if (IS_ERR(file))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(file),
					"cannot create %s", name));
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file->f_flags |= O_LARGEFILE;
	return file;
}

/* restart: @size bytes from the image's buffers into @file */
int ckpt_read_content(struct ckpt_ctx *ctx, struct file *file, u64 size,
		      const char *path)
{
	struct ckpt_hdr h;
	loff_t pos = 0;
	char *buf;
	int ret = 0;

	buf = kvmalloc(CKPT_DATA_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (size && !ret) {
		size_t n = min_t(u64, size, CKPT_DATA_CHUNK);
		ssize_t put;

		ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER, sizeof(h) + n,
				    sizeof(h) + n);
		if (!ret)
			ret = ckpt_kread(ctx, buf, n);
		if (!ret)
			ret = ckpt_read_pad(ctx, h.len);
		if (ret)
			break;
		put = kernel_write(file, buf, n, &pos);
		if (put != n)
			ret = ckpt_err(ctx, put < 0 ? put : -ENOSPC,
				       "%s: cannot write its content", path);
		size -= n;
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	kvfree(buf);
	return ret;
}

/* restart: a new inode for @h: made, filled, permission bits, seals */
static int restore_data_new(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf,
			    struct ckpt_hdr_file_data *h, const char *path,
			    struct ckpt_rst_data *d)
{
	int ret;

	d->type = hf->f_type;
	if (hf->f_type == CKPT_FILE_MEMFD)
		d->file = restore_memfd_new(ctx, path);
	else if (hf->f_flags & __O_TMPFILE)
		d->file = restore_tmpfile_new(ctx, path,
					      h->data_flags & CKPT_DATA_LINKABLE);
	else
		d->file = restore_deleted_new(ctx, path);
	if (IS_ERR(d->file)) {
		ret = PTR_ERR(d->file);
		d->file = NULL;
		return ret;
	}
	ret = ckpt_read_content(ctx, d->file, h->size, path);
	if (ret)
		return ret;
	ret = ckpt_set_perm(d->file, h->i_perm);
	if (ret)
		return ckpt_err(ctx, ret, "%s: cannot set its mode %#o", path,
				h->i_perm);
	if (hf->f_type == CKPT_FILE_MEMFD) {
		struct inode *inode = file_inode(d->file);
		unsigned int *seals = memfd_file_seals_ptr(d->file);

		/* as memfd_create(MFD_ALLOW_SEALING), then F_ADD_SEALS */
		inode_lock(inode);
		*seals &= ~F_SEAL_SEAL;
		inode_unlock(inode);
		ret = memfd_fcntl(d->file, F_ADD_SEALS, h->seals);
		if (ret)
			return ckpt_err(ctx, ret, "%s: cannot seal it (%#x)",
					path, h->seals);
	}
	return 0;
}

/*
 * Restart: the file that the CKPT_HDR_FILE @hf of an unlinked file or
 * memfd describes (@path read), from its CKPT_HDR_FILE_DATA: a new inode,
 * or one made for an earlier file.  Returns a referenced file.
 */
struct file *restore_file_data(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf,
			       const char *path)
{
	struct ckpt_hdr_file_data h;
	struct ckpt_rst_data *d;
	struct file *file;
	int ret;

	if (hf->f_flags & O_PATH ||
	    (hf->f_flags & O_TMPFILE) == O_DIRECTORY)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "%s: bad flags %#o",
					path, hf->f_flags));
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_FILE_DATA, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.i_perm & ~07777 || h.data_flags & ~CKPT_DATA_LINKABLE ||
	    ((h.data_flags & CKPT_DATA_LINKABLE) && !(hf->f_flags & __O_TMPFILE)) ||
	    h.size > MAX_LFS_FILESIZE ||
	    h.seals & ~CKPT_SEALS ||
	    (h.seals && hf->f_type != CKPT_FILE_MEMFD))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"%s: bad content record (mode %#o size %llu seals %#x)",
					path, h.i_perm, h.size, h.seals));
	if (h.data_ref == ctx->rst.ndatas + 1 && h.data_ref <= hf->objref) {
		d = krealloc_array(ctx->rst.datas, h.data_ref, sizeof(*d),
				   GFP_KERNEL);
		if (!d)
			return ERR_PTR(-ENOMEM);
		ctx->rst.datas = d;
		d += ctx->rst.ndatas++;
		memset(d, 0, sizeof(*d));
		ret = restore_data_new(ctx, hf, &h, path, d);
		if (ret)
			return ERR_PTR(ret);
	} else if (h.data_ref >= 1 && h.data_ref <= ctx->rst.ndatas) {
		d = &ctx->rst.datas[h.data_ref - 1];
		if (h.size || d->type != hf->f_type)
			return ERR_PTR(ckpt_err(ctx, -EINVAL,
						"%s: content %d repeated", path,
						h.data_ref));
	} else {
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "%s: bad content ref %d",
					path, h.data_ref));
	}
	file = dentry_open(&d->file->f_path, hf->f_flags & ~O_TMPFILE,
			   current_cred());
	if (IS_ERR(file))
		ckpt_err(ctx, PTR_ERR(file), "%s: cannot open it", path);
	return file;
}

/* restart: the file of @type made for FILE_DATA @data_ref, or NULL */
struct file *restore_file_data_file(struct ckpt_ctx *ctx, int data_ref,
				    u32 type)
{
	struct ckpt_rst_data *d;

	if (data_ref < 1 || data_ref > ctx->rst.ndatas)
		return NULL;
	d = &ctx->rst.datas[data_ref - 1];
	return d->type == type ? d->file : NULL;
}

/*
 * restart, shmem.c: a deleted file that only a mapping held, made again
 * under its old name with its permission bits
 */
struct file *restore_deleted_file(struct ckpt_ctx *ctx, const char *path,
				  umode_t perm)
{
	struct file *file = restore_deleted_new(ctx, path);
	int ret;

	if (IS_ERR(file))
		return file;
	ret = ckpt_set_perm(file, perm);
	if (ret) {
		ckpt_err(ctx, ret, "%s: cannot set its mode %#o", path, perm);
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

void restore_file_data_free(struct ckpt_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->rst.ndatas; i++)
		if (ctx->rst.datas[i].file)
			fput(ctx->rst.datas[i].file);
	kfree(ctx->rst.datas);
	ctx->rst.datas = NULL;
	ctx->rst.ndatas = 0;
}
