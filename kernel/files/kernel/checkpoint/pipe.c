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
 * descriptor.  Named FIFOs, pipe files opened read-write (through
 * /proc/PID/fd), packet-mode (O_DIRECT) and signal-driven (O_ASYNC) pipes,
 * and notification pipes are refused with EOPNOTSUPP.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
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
	spin_lock(&inode->i_lock);
	files = pipe->files;
	spin_unlock(&inode->i_lock);
	/* held by the tasks of the checkpoint: this one, or all of a tree */
	held = ckpt_tree_pipe_held(ctx, pipe, mode, &same);
	if (held < 0)
		held = ckpt_pipe_files_held(fds, n, pipe, mode, &same);
	if (files > held)
		return ckpt_tree_pipe_outside(ctx, fd, pipe, path);
	if (*path == '/')
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: FIFO (%s) not supported", fd, path);
	if (mode == (FMODE_READ | FMODE_WRITE) || same > 1)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: pipe (%s) opened again through /proc: not supported",
				fd, path);
	if (file->f_flags & (O_DIRECT | FASYNC) || pipe_has_watch_queue(pipe))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: packet-mode, O_ASYNC or notification pipe (%s) not supported",
				fd, path);
	return CKPT_FILE_PIPE;
}

/* the bytes in @pipe, not consumed; *@data (kvfree()) */
static int ckpt_pipe_data(struct ckpt_ctx *ctx, struct pipe_inode_info *pipe,
			  int fd, struct ckpt_hdr_pipe *h, char **data)
{
	unsigned int head, tail, mask, i;
	size_t total = 0, off = 0;
	char *buf = NULL;
	int ret = 0;

	pipe_lock(pipe);
	head = pipe->head;
	tail = pipe->tail;
	mask = pipe->ring_size - 1;
	h->size = pipe->max_usage * PAGE_SIZE;
	for (i = tail; i != head; i++) {
		if (pipe->bufs[i & mask].flags & PIPE_BUF_FLAG_PACKET)
			ret = -EOPNOTSUPP;
		total += pipe->bufs[i & mask].len;
	}
	if (!ret && total > h->size)
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
	h->nbytes = total;
	*data = buf;
	return 0;
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
		ret = ckpt_pipe_data(ctx, pipe, fd, &h, &data);
		if (ret)
			return ret;
	} else {
		pipe_lock(pipe);
		h.size = pipe->max_usage * PAGE_SIZE;
		pipe_unlock(pipe);
	}
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PIPE, sizeof(h));
	if (!ret && h.nbytes)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, h.nbytes);
	if (!ret && h.nbytes)
		ret = ckpt_kwrite(ctx, data, h.nbytes);
	if (!ret && h.nbytes)
		ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + h.nbytes);
	kvfree(data);
	return ret;
}

/* restart: a new pipe of @size bytes holding the @nbytes of the image */
static int restore_pipe_new(struct ckpt_ctx *ctx, struct ckpt_hdr_pipe *h,
			    struct ckpt_rst_pipe *p)
{
	struct file *ends[2];
	struct ckpt_hdr hb;
	char *data = NULL;
	loff_t pos = 0;
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
	if (!h->nbytes)
		return 0;
	ret = ckpt_read_hdr(ctx, &hb, CKPT_HDR_BUFFER, sizeof(hb) + h->nbytes,
			    sizeof(hb) + h->nbytes);
	if (ret)
		return ret;
	data = kvmalloc(h->nbytes, GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	ret = ckpt_kread(ctx, data, h->nbytes);
	if (!ret)
		ret = ckpt_read_pad(ctx, hb.len);
	if (!ret) {
		ret = kernel_write(p->ends[1], data, h->nbytes, &pos);
		if (ret >= 0)
			ret = ret == h->nbytes ? 0 : -ENOSPC;
		if (ret)
			ret = ckpt_err(ctx, ret, "pipe %d: cannot refill it",
				       h->pipe_ref);
	}
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
}
