// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: pipes.
 *
 * A pipe whose every open file the task holds is saved once (CKPT_HDR_PIPE
 * and the bytes in it, read without consuming them) and referenced by each
 * of its ends.  Restart makes a new pipe, sets its size with F_SETPIPE_SZ's
 * checks (a size above pipe-max-size needs CAP_SYS_RESOURCE), writes the
 * bytes back and gives each end its flags; an end the task had closed is
 * closed again when restart ends (a reader sees EOF after the data, a
 * writer EPIPE, as before).
 *
 * A pipe end whose other end is held by a process outside the checkpoint
 * cannot be restored (that process would keep a pipe that no longer
 * reaches the restored task): checkpoint refuses it with EBUSY, naming the
 * descriptor.  Pipe files opened read-write (through /proc/PID/fd),
 * packet-mode (O_DIRECT) and signal-driven (O_ASYNC) pipes, and
 * notification pipes are refused with EOPNOTSUPP.
 *
 * A named FIFO (CKPT_HDR_FIFO) is reopened by its path with the caller's
 * rights, each of its files with its own flags; its other files may be
 * outside the checkpoint.  Restart first opens a reader of its own
 * (O_NONBLOCK, kept until restart ends), so that no open blocks or fails
 * for want of a reader.  If that open made the pipe (no one else has the
 * FIFO open), restart sets its size and writes the saved bytes back
 * (through a writer opened with the caller's rights); if the FIFO is open
 * elsewhere, its pipe and the bytes in it are those of the processes that
 * hold it: the restored files join it, unless the image held every file of
 * the FIFO (then EBUSY: someone else opened it meanwhile).  A FIFO whose
 * path is gone fails restart with ENOENT, one that is no longer a FIFO
 * with ESTALE, a write end that no reader can be found for with ENXIO.
 * A reader reports POLLHUP when the FIFO has no writer if a writer opened
 * it since the reader was opened (CKPT_FIFO_HUP), else only once a writer
 * comes and goes: restored so (its f_version, relative to the new pipe's
 * count of writers).  The reader of an anonymous pipe reports it whenever
 * the pipe has no writer, before and after (pipe() opened both ends).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

/* the flags an end of a pipe may have (and restart gives it) */
#define CKPT_PIPE_FLAGS	(O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE)

/* restart: a pipe made for the image, and its two ends */
struct ckpt_rst_pipe {
	struct file *ends[2];	/* read, write */
	bool used[2];
	u32 size;
};

/* restart: a FIFO reopened for the image */
struct ckpt_rst_fifo {
	struct file *anchor;	/* a reader of restart's, or NULL */
	struct inode *inode;	/* the FIFO, once a file of it is open */
	u32 size;		/* the image's */
};

/* a named FIFO, not a pipe() (which lives on pipefs) */
static bool ckpt_is_fifo(struct file *file)
{
	return file_inode(file)->i_sb->s_magic != PIPEFS_MAGIC;
}

/* the open files of the task on @pipe: all of them, *@same with @mode */
static unsigned int ckpt_pipe_files_held(struct ckpt_fd *fds, int n,
					 struct pipe_inode_info *pipe,
					 fmode_t mode, unsigned int *same)
{
	unsigned int held = 0;
	int i, j;

	*same = 0;
	for (i = 0; i < n; i++) {
		if (get_pipe_info(fds[i].file, false) != pipe)
			continue;
		for (j = 0; j < i; j++)
			if (fds[j].file == fds[i].file)
				break;
		if (j < i)
			continue;
		held++;
		if ((fds[i].file->f_mode & (FMODE_READ | FMODE_WRITE)) == mode)
			(*same)++;
	}
	return held;
}

int ckpt_pipe_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
		       int i, const char *path)
{
	struct file *file = fds[i].file;
	struct pipe_inode_info *pipe = get_pipe_info(file, false);
	struct inode *inode = file_inode(file);
	fmode_t mode = file->f_mode & (FMODE_READ | FMODE_WRITE);
	unsigned int files, same;
	int fd = fds[i].fd, held;

	if (!pipe)
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: %s not supported",
				fd, path);
	if (file->f_flags & (O_DIRECT | FASYNC) || pipe_has_watch_queue(pipe))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet-mode, O_ASYNC or notification pipe (%s) not supported",
				fd, path);
	if (ckpt_is_fifo(file)) {
		if (*path != '/' || d_unlinked(file->f_path.dentry))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: FIFO %s: deleted or outside the root: not supported",
					fd, path);
		return CKPT_FILE_FIFO;
	}
	spin_lock(&inode->i_lock);
	files = pipe->files;
	spin_unlock(&inode->i_lock);
	/* held by the tasks of the checkpoint: this one, or all of a tree */
	held = ckpt_tree_pipe_held(ctx, pipe, mode, &same);
	if (held < 0)
		held = ckpt_pipe_files_held(fds, n, pipe, mode, &same);
	if (files > held)
		return ckpt_tree_pipe_outside(ctx, fd, pipe, path);
	if (mode == (FMODE_READ | FMODE_WRITE) || same > 1)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: pipe (%s) opened again through /proc: not supported",
				fd, path);
	return CKPT_FILE_PIPE;
}

/* the bytes in @pipe, not consumed; *@data (kvfree()) */
static int ckpt_pipe_data(struct ckpt_ctx *ctx, struct pipe_inode_info *pipe,
			  int fd, u32 *size, u32 *nbytes, char **data)
{
	unsigned int head, tail, mask, i;
	size_t total = 0, off = 0;
	char *buf = NULL;
	int ret = 0;

	pipe_lock(pipe);
	head = pipe->head;
	tail = pipe->tail;
	mask = pipe->ring_size - 1;
	*size = pipe->max_usage * PAGE_SIZE;
	for (i = tail; i != head; i++) {
		if (pipe->bufs[i & mask].flags & PIPE_BUF_FLAG_PACKET)
			ret = -EOPNOTSUPP;
		total += pipe->bufs[i & mask].len;
	}
	if (!ret && total > *size)
		ret = -EINVAL;
	if (!ret && total) {
		buf = kvmalloc(total, GFP_KERNEL);
		if (!buf)
			ret = -ENOMEM;
	}
	for (i = tail; !ret && i != head; i++) {
		struct pipe_buffer *pb = &pipe->bufs[i & mask];
		void *kaddr;

		ret = pipe_buf_confirm(pipe, pb);
		if (ret)
			break;
		kaddr = kmap_local_page(pb->page);
		memcpy(buf + off, kaddr + pb->offset, pb->len);
		kunmap_local(kaddr);
		off += pb->len;
	}
	pipe_unlock(pipe);
	if (ret) {
		kvfree(buf);
		return ckpt_err(ctx, ret, "fd %d: cannot read the pipe's data",
				fd);
	}
	*nbytes = total;
	*data = buf;
	return 0;
}

/* the CKPT_HDR_BUFFER of @nbytes bytes in a pipe, if any */
static int ckpt_pipe_write_data(struct ckpt_ctx *ctx, const char *data,
				u32 nbytes)
{
	int ret;

	if (!nbytes)
		return 0;
	ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, nbytes);
	if (!ret)
		ret = ckpt_kwrite(ctx, data, nbytes);
	if (!ret)
		ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + nbytes);
	return ret;
}

/* CKPT_HDR_PIPE of an end of a pipe, with the data the first time */
int checkpoint_pipe(struct ckpt_ctx *ctx, struct file *file, int fd,
		    int pipe_ref, bool first)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);
	struct ckpt_hdr_pipe h = { .pipe_ref = pipe_ref };
	char *data = NULL;
	int ret;

	if (!pipe)
		return -EINVAL;
	if (first) {
		ret = ckpt_pipe_data(ctx, pipe, fd, &h.size, &h.nbytes, &data);
		if (ret)
			return ret;
	} else {
		pipe_lock(pipe);
		h.size = pipe->max_usage * PAGE_SIZE;
		pipe_unlock(pipe);
	}
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PIPE, sizeof(h));
	if (!ret)
		ret = ckpt_pipe_write_data(ctx, data, h.nbytes);
	kvfree(data);
	return ret;
}

/*
 * CKPT_HDR_FIFO of a file of a named FIFO, with the data the first time;
 * whether every file of the FIFO is one of the task's.
 */
int checkpoint_fifo(struct ckpt_ctx *ctx, struct file *file, int fd,
		    int fifo_ref, bool first)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);
	struct inode *inode = file_inode(file);
	struct ckpt_hdr_fifo h = { .fifo_ref = fifo_ref };
	unsigned int files, same;
	char *data = NULL;
	int ret, held;

	BUILD_BUG_ON(sizeof(h) != 24);
	if (!pipe)
		return -EINVAL;
	/* by the tasks of the checkpoint: this one, or all of a tree */
	held = ckpt_tree_pipe_held(ctx, pipe, 0, &same);
	if (held < 0)
		held = ckpt_pipe_files_held(ctx->ckpt_fds, ctx->ckpt_nfds,
					    pipe, 0, &same);
	spin_lock(&inode->i_lock);
	files = pipe->files;
	spin_unlock(&inode->i_lock);
	if (files <= held)
		h.flags |= CKPT_FIFO_ALL_HELD;
	/* pipe_poll(): POLLHUP for a reader once no writer, if one came */
	pipe_lock(pipe);
	if (file->f_mode & FMODE_READ && file->f_version != pipe->w_counter)
		h.flags |= CKPT_FIFO_HUP;
	pipe_unlock(pipe);
	if (first) {
		ret = ckpt_pipe_data(ctx, pipe, fd, &h.size, &h.nbytes, &data);
		if (ret)
			return ret;
	} else {
		pipe_lock(pipe);
		h.size = pipe->max_usage * PAGE_SIZE;
		pipe_unlock(pipe);
	}
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FIFO, sizeof(h));
	if (!ret)
		ret = ckpt_pipe_write_data(ctx, data, h.nbytes);
	kvfree(data);
	return ret;
}

/* restart: the CKPT_HDR_BUFFER of @nbytes bytes, if any, in *@data */
static int restore_pipe_read_data(struct ckpt_ctx *ctx, u32 nbytes,
				  char **data)
{
	struct ckpt_hdr hb;
	int ret;

	*data = NULL;
	if (!nbytes)
		return 0;
	ret = ckpt_read_hdr(ctx, &hb, CKPT_HDR_BUFFER, sizeof(hb) + nbytes,
			    sizeof(hb) + nbytes);
	if (ret)
		return ret;
	*data = kvmalloc(nbytes, GFP_KERNEL);
	if (!*data)
		return -ENOMEM;
	ret = ckpt_kread(ctx, *data, nbytes);
	if (!ret)
		ret = ckpt_read_pad(ctx, hb.len);
	if (ret) {
		kvfree(*data);
		*data = NULL;
	}
	return ret;
}

/* write @nbytes into a pipe of enough room, through its end @w */
static int restore_pipe_refill(struct file *w, const char *data, u32 nbytes)
{
	loff_t pos = 0;
	ssize_t ret = kernel_write(w, data, nbytes, &pos);

	if (ret < 0)
		return ret;
	return ret == nbytes ? 0 : -ENOSPC;
}

/* restart: a new pipe of @size bytes holding the @nbytes of the image */
static int restore_pipe_new(struct ckpt_ctx *ctx, struct ckpt_hdr_pipe *h,
			    struct ckpt_rst_pipe *p)
{
	struct file *ends[2];
	char *data = NULL;
	long ret;

	if (h->nbytes > h->size)
		return ckpt_err(ctx, -EINVAL, "pipe %d: %u bytes in %u",
				h->pipe_ref, h->nbytes, h->size);
	ret = create_pipe_files(ends, O_NONBLOCK);
	if (ret)
		return ret;
	p->ends[0] = ends[0];
	p->ends[1] = ends[1];
	ret = pipe_fcntl(p->ends[1], F_SETPIPE_SZ, h->size);
	if (ret >= 0 && ret != h->size)
		ret = -EINVAL;
	if (ret < 0)
		return ckpt_err(ctx, ret, "pipe %d: cannot set its size to %u",
				h->pipe_ref, h->size);
	p->size = h->size;
	ret = restore_pipe_read_data(ctx, h->nbytes, &data);
	if (ret || !h->nbytes)
		return ret;
	ret = restore_pipe_refill(p->ends[1], data, h->nbytes);
	if (ret)
		ret = ckpt_err(ctx, ret, "pipe %d: cannot refill it",
			       h->pipe_ref);
	kvfree(data);
	return ret;
}

/*
 * Restart: the end of a pipe that the CKPT_HDR_FILE @hf describes (its
 * path was read), from the CKPT_HDR_PIPE that follows: a new pipe, or an
 * end of one made for an earlier file.  Returns a referenced file.
 */
struct file *restore_pipe(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_rst_pipe *p;
	struct ckpt_hdr_pipe h;
	struct file *file;
	int end, ret;

	if (hf->f_flags & ~CKPT_PIPE_FLAGS ||
	    (hf->f_flags & O_ACCMODE) == O_RDWR)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "pipe: bad flags %#o",
					hf->f_flags));
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_PIPE, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	/* each new pipe comes with a new file: at most one per objref */
	if (h.pipe_ref == ctx->rst.npipes + 1 && h.pipe_ref <= hf->objref) {
		p = krealloc_array(ctx->rst.pipes, h.pipe_ref, sizeof(*p),
				   GFP_KERNEL);
		if (!p)
			return ERR_PTR(-ENOMEM);
		ctx->rst.pipes = p;
		p += ctx->rst.npipes++;
		memset(p, 0, sizeof(*p));
		ret = restore_pipe_new(ctx, &h, p);
		if (ret)
			return ERR_PTR(ret);
	} else if (h.pipe_ref >= 1 && h.pipe_ref <= ctx->rst.npipes) {
		p = &ctx->rst.pipes[h.pipe_ref - 1];
		if (h.nbytes || h.size != p->size)
			return ERR_PTR(ckpt_err(ctx, -EINVAL,
						"pipe %d: size %u, data %u",
						h.pipe_ref, h.size, h.nbytes));
	} else {
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad pipe ref %d",
					h.pipe_ref));
	}
	end = (hf->f_flags & O_ACCMODE) == O_WRONLY;
	if (p->used[end])
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"pipe %d: two files for one end",
					h.pipe_ref));
	p->used[end] = true;
	file = get_file(p->ends[end]);
	spin_lock(&file->f_lock);
	file->f_flags = hf->f_flags;
	spin_unlock(&file->f_lock);
	return file;
}

/* restart: the error of an open of the FIFO @path, named */
static int restore_fifo_err(struct ckpt_ctx *ctx, int err, const char *path)
{
	if (err == -ENOENT)
		return ckpt_err(ctx, err, "FIFO %s is gone", path);
	if (err == -ESTALE)
		return ckpt_err(ctx, err, "%s is no longer a FIFO", path);
	if (err == -ENXIO)
		return ckpt_err(ctx, err, "FIFO %s: no reader for its write end",
				path);
	return ckpt_err(ctx, err, "cannot open FIFO %s", path);
}

/* restart: open a file of the FIFO @path, never blocking */
static struct file *restore_fifo_open(struct ckpt_ctx *ctx, const char *path,
				      int flags)
{
	struct file *file = ckpt_open_inode(path, flags | O_NONBLOCK, S_IFIFO,
					    0);

	if (IS_ERR(file))
		return ERR_PTR(restore_fifo_err(ctx, PTR_ERR(file), path));
	return file;
}

/*
 * restart: the first file of a FIFO in the image: restart's own reader,
 * and, if that open made the FIFO's pipe, its size and its bytes.
 */
static int restore_fifo_new(struct ckpt_ctx *ctx, struct ckpt_hdr_fifo *h,
			    struct ckpt_rst_fifo *f, const char *path)
{
	struct pipe_inode_info *pipe;
	struct file *anchor, *w;
	unsigned int files;
	char *data = NULL;
	long ret;

	if (h->nbytes > h->size)
		return ckpt_err(ctx, -EINVAL, "FIFO %d: %u bytes in %u",
				h->fifo_ref, h->nbytes, h->size);
	f->size = h->size;
	ret = restore_pipe_read_data(ctx, h->nbytes, &data);
	if (ret)
		return ret;
	anchor = ckpt_open_inode(path, O_RDONLY | O_NONBLOCK, S_IFIFO, 0);
	ret = PTR_ERR_OR_ZERO(anchor);
	/* a writer may join a reader outside without reading it itself */
	if ((ret == -EACCES || ret == -EPERM) &&
	    !(h->flags & CKPT_FIFO_ALL_HELD)) {
		kvfree(data);
		return 0;
	}
	if (ret) {
		kvfree(data);
		return restore_fifo_err(ctx, ret, path);
	}
	f->anchor = anchor;
	f->inode = file_inode(anchor);
	pipe = get_pipe_info(anchor, false);
	spin_lock(&f->inode->i_lock);
	files = pipe->files;
	spin_unlock(&f->inode->i_lock);
	if (files > 1) {
		kvfree(data);
		if (h->flags & CKPT_FIFO_ALL_HELD)
			return ckpt_err(ctx, -EBUSY,
					"FIFO %s is open by a process outside the checkpoint",
					path);
		return 0;	/* its pipe and data are those of its holders */
	}
	ret = pipe_fcntl(anchor, F_SETPIPE_SZ, h->size);
	if (ret >= 0 && ret != h->size)
		ret = -EINVAL;
	if (ret < 0) {
		kvfree(data);
		return ckpt_err(ctx, ret, "FIFO %s: cannot set its size to %u",
				path, h->size);
	}
	ret = 0;
	if (h->nbytes) {
		w = restore_fifo_open(ctx, path, O_WRONLY);
		ret = PTR_ERR_OR_ZERO(w);
		if (!ret) {
			ret = restore_pipe_refill(w, data, h->nbytes);
			fput(w);
		}
		if (ret)
			ret = ckpt_err(ctx, ret, "FIFO %s: cannot refill its %u bytes",
				       path, h->nbytes);
	}
	kvfree(data);
	return ret;
}

/*
 * Restart: a file of the FIFO that the CKPT_HDR_FILE @hf describes, at
 * @path, from the CKPT_HDR_FIFO that follows.  Returns a referenced file.
 */
struct file *restore_fifo(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf,
			  const char *path)
{
	struct pipe_inode_info *pipe;
	struct ckpt_rst_fifo *f;
	struct ckpt_hdr_fifo h;
	struct file *file;
	int ret;

	if (hf->f_flags & ~CKPT_PIPE_FLAGS || hf->f_pos)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "FIFO: bad flags %#o",
					hf->f_flags));
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_FIFO, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.flags & ~CKPT_FIFO_FLAGS ||
	    (h.flags & CKPT_FIFO_HUP && (hf->f_flags & O_ACCMODE) == O_WRONLY))
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "FIFO %d: bad flags %#x",
					h.fifo_ref, h.flags));
	/* each new FIFO comes with a new file: at most one per objref */
	if (h.fifo_ref == ctx->rst.nfifos + 1 && h.fifo_ref <= hf->objref) {
		f = krealloc_array(ctx->rst.fifos, h.fifo_ref, sizeof(*f),
				   GFP_KERNEL);
		if (!f)
			return ERR_PTR(-ENOMEM);
		ctx->rst.fifos = f;
		f += ctx->rst.nfifos++;
		memset(f, 0, sizeof(*f));
		ret = restore_fifo_new(ctx, &h, f, path);
		if (ret)
			return ERR_PTR(ret);
	} else if (h.fifo_ref >= 1 && h.fifo_ref <= ctx->rst.nfifos) {
		f = &ctx->rst.fifos[h.fifo_ref - 1];
		if (h.nbytes || h.size != f->size)
			return ERR_PTR(ckpt_err(ctx, -EINVAL,
						"FIFO %d: size %u, data %u",
						h.fifo_ref, h.size, h.nbytes));
	} else {
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad FIFO ref %d",
					h.fifo_ref));
	}
	file = restore_fifo_open(ctx, path, hf->f_flags);
	if (IS_ERR(file))
		return file;
	if (!f->inode)
		f->inode = file_inode(file);
	if (file_inode(file) != f->inode) {
		fput(file);
		return ERR_PTR(ckpt_err(ctx, -ESTALE,
					"FIFO %d: %s is another FIFO",
					h.fifo_ref, path));
	}
	spin_lock(&file->f_lock);
	file->f_flags = hf->f_flags;
	spin_unlock(&file->f_lock);
	/*
	 * POLLHUP as before (pipe_poll()): a reader that saw a writer come
	 * keeps a version that no w_counter (a u32) equals; one that did not
	 * has the pipe's count, as fifo_open() gives it when no writer is open
	 * (no writer of the image was opened after it: that would have set
	 * CKPT_FIFO_HUP).
	 */
	if (file->f_mode & FMODE_READ) {
		pipe = get_pipe_info(file, false);
		pipe_lock(pipe);
		file->f_version = h.flags & CKPT_FIFO_HUP ? U64_MAX :
				  pipe->w_counter;
		pipe_unlock(pipe);
	}
	return file;
}

/* restart ends: the pipes' references (ends the task had closed go) */
void restore_pipes_free(struct ckpt_ctx *ctx)
{
	unsigned int i;
	int end;

	for (i = 0; i < ctx->rst.npipes; i++)
		for (end = 0; end < 2; end++)
			if (ctx->rst.pipes[i].ends[end])
				fput(ctx->rst.pipes[i].ends[end]);
	kfree(ctx->rst.pipes);
	ctx->rst.pipes = NULL;
	ctx->rst.npipes = 0;
	for (i = 0; i < ctx->rst.nfifos; i++)
		if (ctx->rst.fifos[i].anchor)
			fput(ctx->rst.fifos[i].anchor);
	kfree(ctx->rst.fifos);
	ctx->rst.fifos = NULL;
	ctx->rst.nfifos = 0;
}
