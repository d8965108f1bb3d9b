// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: system calls, context, image stream and objhash.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/bvec.h>
#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/mm.h>
#include <linux/sysctl.h>
#include <linux/syscalls.h>
#include <linux/vmalloc.h>
#include <linux/utsname.h>
#include <asm/unaligned.h>

static int ckpt_unpriv_allowed = 1;

static struct ctl_table ckpt_sysctl_table[] = {
	{
		.procname	= "ckpt_unpriv_allowed",
		.data		= &ckpt_unpriv_allowed,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
	{ }
};

static int __init ckpt_sysctl_init(void)
{
	register_sysctl("kernel", ckpt_sysctl_table);
	return 0;
}
late_initcall(ckpt_sysctl_init);

/* logging */

static void ckpt_log_write(struct ckpt_ctx *ctx, const char *msg)
{
	struct file *file = ctx->logfile;
	loff_t pos;

	if (!file)
		return;
	pos = file->f_pos;
	if (kernel_write(file, msg, strlen(msg), &pos) > 0 &&
	    !(file->f_mode & FMODE_STREAM))
		file->f_pos = pos;
}

/*
 * A checkpoint's messages may describe the target (paths, addresses): if
 * the target changed since it was checked, only that is reported.
 */
static bool ckpt_msg_allowed(struct ckpt_ctx *ctx)
{
	return ctx->restart || ctx->tsk_checking || !ckpt_check_target(ctx);
}

void ckpt_msg(struct ckpt_ctx *ctx, const char *fmt, ...)
{
	va_list args;

	if (!ckpt_msg_allowed(ctx))
		return;
	va_start(args, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg) - 1, fmt, args);
	va_end(args);
	strlcat(ctx->msg, "\n", sizeof(ctx->msg));
	pr_debug("%s", ctx->msg);
	ckpt_log_write(ctx, ctx->msg);
}

int ckpt_err(struct ckpt_ctx *ctx, int err, const char *fmt, ...)
{
	va_list args;
	int n;

	if (!ckpt_msg_allowed(ctx))
		return err;
	n = snprintf(ctx->msg, sizeof(ctx->msg), "%s: error %d: ",
		     ctx->restart ? "restart" : "checkpoint", err);
	va_start(args, fmt);
	vsnprintf(ctx->msg + n, sizeof(ctx->msg) - n - 1, fmt, args);
	va_end(args);
	if (!ctx->err) {
		ctx->err = err;
		strscpy(ctx->err_msg, ctx->msg, sizeof(ctx->err_msg));
	}
	strlcat(ctx->msg, "\n", sizeof(ctx->msg));
	pr_debug("%s", ctx->msg);
	ckpt_log_write(ctx, ctx->msg);
	return err;
}

/* image stream: never seeks, so the image may be a pipe or a socket */

/*
 * One word of ckpt_csum_mix(w, n) into the sums, with @ik = n * the mix's
 * index constant kept by addition (the same value modulo 2^64)
 */
static __always_inline void ckpt_csum_word(u64 w, u64 *ik, u64 *sum,
					   u64 *sum2)
{
	w ^= *ik;
	w ^= w >> 31;
	w *= 0x7fb5d329728ea185ULL;
	w ^= w >> 27;
	*sum += w;
	*sum2 += *sum;
	*ik += 0x9e3779b97f4a7c15ULL;
}

/*
 * The words of the stream are checksummed 8 at a time (64 bytes per
 * pass of the loop): under TCG each pass of a loop costs the reload and
 * store of the registers it uses, as much as the words it mixes.
 */
static void ckpt_csum_update(struct ckpt_csum *c, const u8 *buf, size_t len)
{
	u64 sum = c->sum, sum2 = c->sum2, n = c->n, ik;

	while (len && c->fill) {
		c->word |= (u64)*buf++ << (8 * c->fill);
		len--;
		if (++c->fill == 8) {
			sum += ckpt_csum_mix(c->word, n++);
			sum2 += sum;
			c->fill = 0;
			c->word = 0;
		}
	}
	ik = n * 0x9e3779b97f4a7c15ULL;
	for (; len >= 64; len -= 64, buf += 64, n += 8) {
		ckpt_csum_word(get_unaligned_le64(buf), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 8), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 16), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 24), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 32), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 40), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 48), &ik, &sum, &sum2);
		ckpt_csum_word(get_unaligned_le64(buf + 56), &ik, &sum, &sum2);
	}
	for (; len >= 8; len -= 8, buf += 8, n++)
		ckpt_csum_word(get_unaligned_le64(buf), &ik, &sum, &sum2);
	for (; len; len--)
		c->word |= (u64)*buf++ << (8 * c->fill++);
	c->sum = sum;
	c->sum2 = sum2;
	c->n = n;
}

int ckpt_kwrite(struct ckpt_ctx *ctx, const void *buf, size_t count)
{
	struct file *file = ctx->file;
	loff_t *ppos = (file->f_mode & FMODE_STREAM) ? NULL : &ctx->pos;
	ssize_t n;

	while (count) {
		/*
		 * Everything written was read from a target that has not
		 * run since it was checked: check again before each write
		 * (a write may have blocked for as long as the caller likes).
		 */
		if (!ctx->writing_error) {
			int ret = ckpt_check_target(ctx);

			if (ret)
				return ret;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_write(file, buf, count, ppos);
		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;
		ckpt_csum_update(&ctx->csum, buf, n);
		buf += n;
		count -= n;
		ctx->total += n;
	}
	return 0;
}

int ckpt_kread(struct ckpt_ctx *ctx, void *buf, size_t count)
{
	struct file *file = ctx->file;
	loff_t *ppos = (file->f_mode & FMODE_STREAM) ? NULL : &ctx->pos;
	ssize_t n;

	while (count) {
		if (fatal_signal_pending(current))
			return -EINTR;
		n = kernel_read(file, buf, count, ppos);
		if (n < 0)
			return n;
		if (n == 0)
			return ckpt_err(ctx, -EINVAL,
					"image truncated at offset %llu",
					ctx->total);
		ckpt_csum_update(&ctx->csum, buf, n);
		buf += n;
		count -= n;
		ctx->total += n;
	}
	return 0;
}

/* the checksum of @nr whole pages, in order */
static void ckpt_csum_pages(struct ckpt_ctx *ctx, struct page **pages,
			    unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		void *kaddr = kmap_local_page(pages[i]);

		ckpt_csum_update(&ctx->csum, kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
	}
}

static void ckpt_pages_bvec(struct bio_vec *bv, struct page **pages,
			    unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		bv[i].bv_page = pages[i];
		bv[i].bv_len = PAGE_SIZE;
		bv[i].bv_offset = 0;
	}
}

/*
 * Pages per write or read of ckpt_kwrite_pages() and ckpt_kread_pages(),
 * each checksummed right before or after it: its 128 KiB are still in the
 * (host's) cache for the other pass.
 */
#define CKPT_IO_PAGES	32

/*
 * @nr whole pages to the image, written straight from the pages (a bvec
 * iterator: no copy to a buffer first), CKPT_IO_PAGES at a time, in as
 * few writes as the file takes; the checksum is taken from the pages.
 */
int ckpt_kwrite_pages(struct ckpt_ctx *ctx, struct page **pages,
		      unsigned int nr)
{
	struct file *file = ctx->file;
	loff_t *ppos = (file->f_mode & FMODE_STREAM) ? NULL : &ctx->pos;
	struct bio_vec bv[CKPT_IO_PAGES];
	struct iov_iter iter;
	unsigned int i, n;
	ktime_t t0;
	ssize_t got;
	int ret = 0;

	/*
	 * A pre-copy round's target runs: its pages may change under the
	 * write, so they are copied first and the copy checksummed and
	 * written.  So is a file without ->write_iter.
	 */
	if ((ctx->uflags & CHECKPOINT_PRECOPY) || !file->f_op->write_iter) {
		char *buf = kvmalloc(CKPT_IO_PAGES * PAGE_SIZE, GFP_KERNEL);

		if (!buf)
			return -ENOMEM;
		for (; nr && !ret; nr -= n, pages += n) {
			n = min_t(unsigned int, nr, CKPT_IO_PAGES);
			for (i = 0; i < n; i++)
				memcpy_from_page(buf + i * PAGE_SIZE, pages[i], 0,
						 PAGE_SIZE);
			ret = ckpt_kwrite(ctx, buf, n * PAGE_SIZE);
		}
		kvfree(buf);
		return ret;
	}
	for (; nr; nr -= n, pages += n) {
		n = min_t(unsigned int, nr, CKPT_IO_PAGES);
		ckpt_pages_bvec(bv, pages, n);
		t0 = ktime_get();
		ckpt_csum_pages(ctx, pages, n);
		ctx->mstat.csum_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
		t0 = ktime_get();
		iov_iter_bvec(&iter, ITER_SOURCE, bv, n, (size_t)n * PAGE_SIZE);
		while (iov_iter_count(&iter)) {
			/* as ckpt_kwrite(): the target has not run since it was read */
			if (!ctx->writing_error) {
				ret = ckpt_check_target(ctx);
				if (ret)
					return ret;
			}
			if (fatal_signal_pending(current))
				return -EINTR;
			file_start_write(file);
			got = vfs_iter_write(file, &iter, ppos, 0);
			file_end_write(file);
			if (got <= 0)
				return got < 0 ? got : -EIO;
			ctx->total += got;
		}
		ctx->mstat.io_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
		ctx->mstat.pages += n;
	}
	return 0;
}

/*
 * @nr whole pages from the image, read straight into the pages (a bvec
 * iterator), CKPT_IO_PAGES at a time, each then checksummed there
 */
int ckpt_kread_pages(struct ckpt_ctx *ctx, struct page **pages,
		     unsigned int nr)
{
	struct file *file = ctx->file;
	loff_t *ppos = (file->f_mode & FMODE_STREAM) ? NULL : &ctx->pos;
	struct bio_vec bv[CKPT_IO_PAGES];
	struct iov_iter iter;
	unsigned int i, n;
	ktime_t t0;
	ssize_t got;
	int ret = 0;

	if (!file->f_op->read_iter) {
		for (i = 0; i < nr && !ret; i++) {
			void *kaddr = kmap_local_page(pages[i]);

			ret = ckpt_kread(ctx, kaddr, PAGE_SIZE);
			kunmap_local(kaddr);
		}
		return ret;
	}
	for (; nr; nr -= n, pages += n) {
		n = min_t(unsigned int, nr, CKPT_IO_PAGES);
		ckpt_pages_bvec(bv, pages, n);
		t0 = ktime_get();
		iov_iter_bvec(&iter, ITER_DEST, bv, n, (size_t)n * PAGE_SIZE);
		while (iov_iter_count(&iter)) {
			if (fatal_signal_pending(current))
				return -EINTR;
			got = vfs_iter_read(file, &iter, ppos, 0);
			if (got < 0)
				return got;
			if (got == 0)
				return ckpt_err(ctx, -EINVAL,
						"image truncated at offset %llu",
						ctx->total);
			ctx->total += got;
		}
		ctx->mstat.io_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
		t0 = ktime_get();
		ckpt_csum_pages(ctx, pages, n);
		ctx->mstat.csum_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
		ctx->mstat.pages += n;
	}
	return 0;
}

static const char ckpt_zero_pad[CKPT_HDR_ALIGN];

int ckpt_write_pad(struct ckpt_ctx *ctx, size_t len)
{
	size_t pad = ALIGN(len, CKPT_HDR_ALIGN) - len;

	return pad ? ckpt_kwrite(ctx, ckpt_zero_pad, pad) : 0;
}

/* write a record whose first member is a struct ckpt_hdr */
int ckpt_write_obj(struct ckpt_ctx *ctx, void *rec, u32 type, u32 len)
{
	struct ckpt_hdr *h = rec;
	int ret;

	h->type = type;
	h->len = len;
	ret = ckpt_kwrite(ctx, rec, len);
	if (!ret)
		ret = ckpt_write_pad(ctx, len);
	return ret;
}

/* write only the header of a record; the caller writes the payload */
int ckpt_write_hdr(struct ckpt_ctx *ctx, u32 type, size_t payload)
{
	struct ckpt_hdr h;

	if (payload > U32_MAX - sizeof(h))
		return -E2BIG;
	h.type = type;
	h.len = sizeof(h) + payload;
	return ckpt_kwrite(ctx, &h, sizeof(h));
}

int ckpt_write_string(struct ckpt_ctx *ctx, const char *str)
{
	size_t len = strlen(str) + 1;
	int ret;

	ret = ckpt_write_hdr(ctx, CKPT_HDR_STRING, len);
	if (!ret)
		ret = ckpt_kwrite(ctx, str, len);
	if (!ret)
		ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) + len);
	return ret;
}

/* read a record header and check its type and length */
int ckpt_read_hdr(struct ckpt_ctx *ctx, struct ckpt_hdr *h, u32 type,
		  u32 min, u32 max)
{
	u64 at = ctx->total;
	int ret;

	ret = ckpt_kread(ctx, h, sizeof(*h));
	if (ret)
		return ret;
	if (h->type != type)
		return ckpt_err(ctx, -EINVAL,
				"record at offset %llu: type %u, expected %u",
				at, h->type, type);
	if (h->len < min || h->len > max)
		return ckpt_err(ctx, -EINVAL,
				"record type %u at offset %llu: bad length %u (%u..%u)",
				type, at, h->len, min, max);
	return 0;
}

/* consume the padding after a record of @len bytes; it must be zero */
int ckpt_read_pad(struct ckpt_ctx *ctx, u32 len)
{
	size_t pad = ALIGN((size_t)len, CKPT_HDR_ALIGN) - len;
	char buf[CKPT_HDR_ALIGN];
	int ret;

	if (!pad)
		return 0;
	ret = ckpt_kread(ctx, buf, pad);
	if (ret)
		return ret;
	if (memcmp(buf, ckpt_zero_pad, pad))
		return ckpt_err(ctx, -EINVAL, "non-zero record padding at %llu",
				ctx->total);
	return 0;
}

/* read a fixed size record into @rec */
int ckpt_read_obj(struct ckpt_ctx *ctx, void *rec, u32 type, u32 len)
{
	struct ckpt_hdr *h = rec;
	int ret;

	ret = ckpt_read_hdr(ctx, h, type, len, len);
	if (!ret)
		ret = ckpt_kread(ctx, h + 1, len - sizeof(*h));
	if (!ret)
		ret = ckpt_read_pad(ctx, len);
	return ret;
}

/* read a variable size record into a new buffer (kvfree() it) */
void *ckpt_read_obj_var(struct ckpt_ctx *ctx, u32 type, u32 min, u32 max)
{
	struct ckpt_hdr h, *buf;
	int ret;

	ret = ckpt_read_hdr(ctx, &h, type, min, max);
	if (ret)
		return ERR_PTR(ret);
	buf = kvmalloc(h.len + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	*buf = h;
	ret = ckpt_kread(ctx, buf + 1, h.len - sizeof(h));
	if (!ret)
		ret = ckpt_read_pad(ctx, h.len);
	if (ret) {
		kvfree(buf);
		return ERR_PTR(ret);
	}
	((char *)buf)[h.len] = '\0';
	return buf;
}

/* read a CKPT_HDR_STRING record of at most @max bytes (with its '\0') */
char *ckpt_read_string(struct ckpt_ctx *ctx, u32 max)
{
	struct ckpt_hdr *h;
	char *str;
	size_t len;

	h = ckpt_read_obj_var(ctx, CKPT_HDR_STRING, sizeof(*h) + 1,
			      sizeof(*h) + max);
	if (IS_ERR(h))
		return ERR_CAST(h);
	len = h->len - sizeof(*h);
	str = (char *)(h + 1);
	/* the string, its NUL, and possibly more NULs up to the end */
	if (memchr_inv(str + strlen(str), 0, len - strlen(str))) {
		kvfree(h);
		ckpt_err(ctx, -EINVAL, "malformed string record");
		return ERR_PTR(-EINVAL);
	}
	memmove(h, str, len);
	return (char *)h;
}

/* objhash: shared objects, by kernel address (checkpoint) or objref */

struct ckpt_obj {
	struct hlist_node node;
	void *ptr;
	int objref;
};

int ckpt_obj_lookup_add(struct ckpt_ctx *ctx, void *ptr, bool *first)
{
	struct ckpt_obj *obj;

	hash_for_each_possible(ctx->objhash, obj, node, (unsigned long)ptr)
		if (obj->ptr == ptr) {
			*first = false;
			return obj->objref;
		}
	obj = kmalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	get_file(ptr);
	obj->ptr = ptr;
	obj->objref = ++ctx->next_objref;
	hash_add(ctx->objhash, &obj->node, (unsigned long)ptr);
	*first = true;
	return obj->objref;
}

int ckpt_obj_insert(struct ckpt_ctx *ctx, struct file *file, int objref)
{
	struct ckpt_obj *obj;

	obj = kmalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	obj->ptr = file;
	obj->objref = objref;
	hash_add(ctx->objhash, &obj->node, objref);
	return 0;
}

struct file *ckpt_obj_fetch(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_obj *obj;

	hash_for_each_possible(ctx->objhash, obj, node, objref)
		if (obj->objref == objref)
			return obj->ptr;
	return NULL;
}

static void ckpt_obj_hash_free(struct ckpt_ctx *ctx)
{
	struct hlist_node *tmp;
	struct ckpt_obj *obj;
	int bkt;

	hash_for_each_safe(ctx->objhash, bkt, tmp, obj, node) {
		hash_del(&obj->node);
		fput(obj->ptr);
		kfree(obj);
	}
}

/* context */

/* restart: the state of the task being restored (not the shared objects) */
void ckpt_rst_free(struct ckpt_ctx *ctx)
{
	kvfree(ctx->rst.fpu);
	ctx->rst.fpu = NULL;
	kvfree(ctx->rst.sighand);
	ctx->rst.sighand = NULL;
	kvfree(ctx->rst.sigpending);
	ctx->rst.sigpending = NULL;
	kvfree(ctx->rst.ptimers);
	ctx->rst.ptimers = NULL;
	/* threads not yet released die (none has run user code) */
	restore_threads_release(ctx, false);
	restore_threads_free(ctx);
	restore_epolls_free(ctx);
	kvfree(ctx->rst.auxv);
	ctx->rst.auxv = NULL;
	kvfree(ctx->rst.fds);
	ctx->rst.fds = NULL;
	restore_file_locks_free(ctx);
	vfree(ctx->rst.fpstate);
	ctx->rst.fpstate = NULL;
	restore_process_free(ctx);
	restore_cred_free(ctx);
	restore_seccomp_free(ctx);
	restore_precopy_free(ctx);
}

static struct ckpt_ctx *ckpt_ctx_alloc(int fd, unsigned long uflags,
				       int logfd, bool restart)
{
	struct ckpt_ctx *ctx;
	int err = -EBADF;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->uflags = uflags;
	ctx->restart = restart;
	hash_init(ctx->objhash);

	ctx->file = fget(fd);
	if (!ctx->file)
		goto err;
	if (!(ctx->file->f_mode & (restart ? FMODE_READ : FMODE_WRITE)))
		goto err;
	ctx->pos = ctx->file->f_pos;

	if (logfd != CHECKPOINT_FD_NONE) {
		ctx->logfile = fget(logfd);
		if (!ctx->logfile || !(ctx->logfile->f_mode & FMODE_WRITE))
			goto err;
		err = -EINVAL;
		if (ctx->logfile == ctx->file)
			goto err;
	}
	return ctx;
err:
	if (ctx->logfile)
		fput(ctx->logfile);
	if (ctx->file)
		fput(ctx->file);
	kfree(ctx);
	return ERR_PTR(err);
}

void ckpt_ctx_free(struct ckpt_ctx *ctx)
{
	struct file *file = ctx->file;

	if (!(file->f_mode & FMODE_STREAM))
		file->f_pos = ctx->pos;
	ckpt_tree_free(ctx);
	if (ctx->pid_ns)
		put_pid_ns(ctx->pid_ns);
	ckpt_ns_free(ctx);
	ckpt_sockets_free(ctx);
	ckpt_obj_hash_free(ctx);
	ckpt_shmem_free(ctx);
	ckpt_sysv_shm_free(ctx);
	ckpt_ptys_free(ctx);
	ckpt_obj_inodes_free(ctx);
	ckpt_rst_free(ctx);
	restore_pipes_free(ctx);
	restore_file_data_free(ctx);
	fput(file);
	if (ctx->logfile)
		fput(ctx->logfile);
	kfree(ctx);
}

static bool ckpt_allowed(void)
{
	return READ_ONCE(ckpt_unpriv_allowed) || capable(CAP_SYS_ADMIN);
}

/* an interrupted operation cannot be restarted: the stream moved on */
static long ckpt_fix_errno(long ret)
{
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
	    ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
		return -EINTR;
	return ret;
}

SYSCALL_DEFINE4(checkpoint, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	struct ckpt_ctx *ctx;
	long ret;

	if (!ckpt_allowed())
		return -EPERM;
	if (flags & ~CHECKPOINT_USER_FLAGS)
		return -EINVAL;
	if ((flags & CHECKPOINT_TCP_HOLD) && (flags & CHECKPOINT_TCP_RELEASE))
		return -EINVAL;
	if ((flags & CHECKPOINT_PRECOPY) && (flags & CHECKPOINT_PRECOPY_LAST))
		return -EINVAL;
	if (flags & (CHECKPOINT_PRECOPY | CHECKPOINT_PRECOPY_LAST) &&
	    !IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		return -EOPNOTSUPP;
	if (pid < 0)
		return -EINVAL;

	ctx = ckpt_ctx_alloc(fd, flags, logfd, false);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ret = do_checkpoint(ctx, pid);
	ckpt_ctx_free(ctx);
	return ckpt_fix_errno(ret);
}

SYSCALL_DEFINE4(restart, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	struct ckpt_ctx *ctx;
	long ret;

	if (!ckpt_allowed())
		return -EPERM;
	if (flags & ~RESTART_USER_FLAGS)
		return -EINVAL;

	ctx = ckpt_ctx_alloc(fd, flags, logfd, true);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ret = do_restart(ctx, pid);
	ckpt_ctx_free(ctx);
	return ckpt_fix_errno(ret);
}
