// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: aio contexts (io_setup() rings and the completions
 * in them).
 *
 * A context is the vma of its ring, [aio] (CKPT_VMA_AIO), followed by a
 * CKPT_HDR_AIO record and the ring's event slots (the completions between
 * its head and tail, and the reaped ones).  User space (libaio) reads the
 * ring directly: it comes back byte for byte, at the same address (the
 * aio_context_t the program holds) and in the same table slot (the
 * ring's id).  Requests still in flight cannot be completed by a freeze:
 * a checkpoint refuses them (EBUSY).  Restart sets the context up with
 * io_setup()'s code and limits (aio-max-nr: EAGAIN); a failed restart's
 * mm takes its contexts with it (exit_aio()).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/aio_abi.h>
#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* struct aio_ring of fs/aio.c: the header, then the events */
#define CKPT_AIO_HDR_LEN	32
#define CKPT_AIO_EVENT_LEN	sizeof(struct io_event)
/* the header's fields from magic on, as the image has them */
#define CKPT_AIO_MAGIC_OFF	16

struct ckpt_aio_ring {
	u32 id;
	u32 nr;
	u32 head;
	u32 tail;
	u32 magic;
	u32 compat_features;
	u32 incompat_features;
	u32 header_length;
};

static_assert(sizeof(struct ckpt_aio_ring) == CKPT_AIO_HDR_LEN);
static_assert(sizeof(struct io_event) == 32);

/* @len bytes at @off of a ring, from its pages (the ring file's) */
static int ckpt_aio_ring_read(struct file *file, loff_t off, void *buf,
			      size_t len)
{
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		struct page *page;
		void *kaddr;

		page = find_get_page(file->f_mapping, off >> PAGE_SHIFT);
		if (!page)
			return -EFAULT;
		kaddr = kmap_local_page(page);
		memcpy(buf, kaddr + offset_in_page(off), n);
		kunmap_local(kaddr);
		put_page(page);
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static unsigned int ckpt_aio_in_ring(u32 head, u32 tail, u32 nr)
{
	return head <= tail ? tail - head : nr - (head - tail);
}

/* the context of @mm whose ring is @file, and its table slot */
static int ckpt_aio_find(struct mm_struct *mm, struct file *file,
			 struct aio_ckpt *st, unsigned int *id)
{
	unsigned int pos;

	for (pos = 0; !aio_ckpt_get(mm, &pos, st); pos++) {
		if (st->ring_file == file) {
			*id = pos;
			return 0;
		}
		fput(st->ring_file);
	}
	return -ENOENT;
}

/* the ring's header, checked against the kernel's copy */
static int ckpt_aio_header(struct ckpt_ctx *ctx, struct aio_ckpt *st,
			   struct ckpt_aio_ring *r)
{
	int ret;

	ret = ckpt_aio_ring_read(st->ring_file, 0, r, sizeof(*r));
	if (ret)
		return ckpt_err(ctx, ret, "aio context %#lx: cannot read its ring",
				st->user_id);
	/* user space may write the ring; the kernel keeps nr and tail */
	if (r->nr != st->nr_events || r->tail != st->tail ||
	    r->head >= st->nr_events)
		return ckpt_err(ctx, -EINVAL,
				"aio context %#lx: ring header changed by the program (nr %u head %u tail %u, kernel's nr %u tail %u)",
				st->user_id, r->nr, r->head, r->tail,
				st->nr_events, st->tail);
	return 0;
}

/* is the vma at @st's address exactly its ring, as io_setup() mapped it? */
static bool ckpt_aio_vma_ok(struct mm_struct *mm, struct aio_ckpt *st)
{
	struct vm_area_struct *vma;
	bool ok;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, st->user_id);
	ok = vma && vma->vm_file == st->ring_file &&
	     vma->vm_start == st->user_id && !vma->vm_pgoff &&
	     vma->vm_end - vma->vm_start == st->mmap_size;
	mmap_read_unlock(mm);
	return ok;
}

/*
 * checkpoint, before the vmas: every live context of @mm has its whole
 * ring mapped where its id says, no request in flight and a ring header
 * that restart can set up again
 */
int checkpoint_aio_check(struct ckpt_ctx *ctx, struct mm_struct *mm)
{
	struct ckpt_aio_ring r;
	struct aio_ckpt st;
	unsigned int pos;
	int ret = 0;

	for (pos = 0; !ret && !aio_ckpt_get(mm, &pos, &st); pos++) {
		if (st.in_flight)
			ret = ckpt_err(ctx, -EBUSY,
				       "aio context %#lx: %u requests in flight",
				       st.user_id, st.in_flight);
		else if (!ckpt_aio_vma_ok(mm, &st))
			ret = ckpt_err(ctx, -EINVAL,
				       "aio context %#lx: its ring (%lu bytes) is not mapped whole at its address (munmap()ed or split)",
				       st.user_id, st.mmap_size);
		else
			ret = ckpt_aio_header(ctx, &st, &r);
		fput(st.ring_file);
	}
	return ret;
}

/* the ring's @nr event slots (the completions and the reaped ones), in buffers */
static int checkpoint_aio_events(struct ckpt_ctx *ctx, struct aio_ckpt *st,
				 u32 nr)
{
	u64 left = (u64)nr * CKPT_AIO_EVENT_LEN;
	loff_t off = CKPT_AIO_HDR_LEN;
	char *buf;
	int ret = 0;

	buf = kvmalloc(CKPT_DATA_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (left && !ret) {
		size_t n = min_t(u64, left, CKPT_DATA_CHUNK);

		ret = ckpt_aio_ring_read(st->ring_file, off, buf, n);
		if (!ret)
			ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, n);
		if (!ret)
			ret = ckpt_kwrite(ctx, buf, n);
		off += n;
		left -= n;
	}
	kvfree(buf);
	return ret;
}

/* checkpoint: after the CKPT_VMA_AIO vma @start-@end of @file */
int checkpoint_aio(struct ckpt_ctx *ctx, struct mm_struct *mm,
		   struct file *file, unsigned long start, unsigned long end,
		   unsigned long flags)
{
	struct ckpt_hdr_aio h = { };
	struct ckpt_aio_ring r;
	struct aio_ckpt st;
	unsigned int id;
	int ret;

	if (ckpt_aio_find(mm, file, &st, &id))
		return ckpt_err(ctx, -EINVAL,
				"mapping %lx-%lx: aio ring of no context of this process (inherited by fork() or being destroyed)",
				start, end);
	ret = -EINVAL;
	if (st.user_id != start || st.mmap_size != end - start)
		ckpt_err(ctx, ret, "mapping %lx-%lx: not the whole ring of aio context %#lx",
			 start, end, st.user_id);
	else if (flags != (VM_READ | VM_WRITE))
		ckpt_err(ctx, ret, "aio context %#lx: ring with changed protection, mlock or madvise state (flags %lx)",
			 st.user_id, flags);
	else
		ret = ckpt_aio_header(ctx, &st, &r);
	if (ret)
		goto out;
	h.user_id = st.user_id;
	h.ring_size = st.mmap_size;
	h.max_reqs = st.max_reqs;
	h.nr_ring_events = ckpt_aio_in_ring(r.head, r.tail, r.nr);
	h.id = id;
	h.nr = r.nr;
	h.head = r.head;
	h.tail = r.tail;
	h.magic = r.magic;
	h.compat_features = r.compat_features;
	h.incompat_features = r.incompat_features;
	h.header_length = r.header_length;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_AIO, sizeof(h));
	if (!ret)
		ret = checkpoint_aio_events(ctx, &st, r.nr);
out:
	fput(st.ring_file);
	return ret;
}

/* restart: the ring's event slots into the ring mapped at @h->user_id */
static int restore_aio_events(struct ckpt_ctx *ctx, struct ckpt_hdr_aio *h)
{
	void __user *to = u64_to_user_ptr(h->user_id + CKPT_AIO_HDR_LEN);
	u64 left = (u64)h->nr * CKPT_AIO_EVENT_LEN;
	struct ckpt_hdr bh;
	char *buf;
	int ret = 0;

	buf = kvmalloc(CKPT_DATA_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (left && !ret) {
		u32 n = min_t(u64, left, CKPT_DATA_CHUNK);

		ret = ckpt_read_hdr(ctx, &bh, CKPT_HDR_BUFFER, sizeof(bh) + n,
				    sizeof(bh) + n);
		if (!ret)
			ret = ckpt_kread(ctx, buf, n);
		if (!ret)
			ret = ckpt_read_pad(ctx, bh.len);
		if (!ret && copy_to_user(to, buf, n))
			ret = -EFAULT;
		to += n;
		left -= n;
	}
	kvfree(buf);
	return ret;
}

/*
 * restart: a CKPT_VMA_AIO vma @vh (checked by restore_vma(): page
 * aligned, in order, in the task's space) is the context of the
 * CKPT_HDR_AIO that follows
 */
int restore_aio(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *vh)
{
	struct ckpt_hdr_aio h;
	u32 rest[4];
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_AIO, sizeof(h));
	if (ret)
		return ret;
	if (vh->vm_flags != (VM_READ | VM_WRITE) || vh->vm_pgoff ||
	    h.user_id != vh->vm_start || h.ring_size != vh->vm_end - vh->vm_start)
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: not the ring of the aio context %#llx (%llu bytes, flags %llx)",
				vh->vm_start, vh->vm_end, h.user_id,
				h.ring_size, vh->vm_flags);
	/* the ring holds nr events after its header, nr - 1 of them used */
	if (!h.max_reqs || h.nr < 2 ||
	    h.ring_size != ((u64)h.nr + 1) * CKPT_AIO_EVENT_LEN ||
	    h.head >= h.nr || h.tail >= h.nr ||
	    h.nr_ring_events != ckpt_aio_in_ring(h.head, h.tail, h.nr))
		return ckpt_err(ctx, -EINVAL,
				"aio context %#llx: bad ring (io_setup(%u), nr %u, head %u, tail %u, %u events, %llu bytes)",
				h.user_id, h.max_reqs, h.nr, h.head, h.tail,
				h.nr_ring_events, h.ring_size);
	ret = aio_ckpt_setup(h.max_reqs, h.user_id, h.id, h.nr, h.ring_size,
			     h.head, h.tail);
	if (ret == -EAGAIN)
		return ckpt_err(ctx, ret, "aio context %#llx: io_setup(%u) refused (aio-max-nr)",
				h.user_id, h.max_reqs);
	if (ret == -EEXIST)
		return ckpt_err(ctx, -EINVAL,
				"aio context %#llx: its ring collides with another mapping",
				h.user_id);
	if (ret == -EBUSY)
		return ckpt_err(ctx, -EINVAL, "aio context %#llx: slot %u of the table taken twice",
				h.user_id, h.id);
	if (ret)
		return ckpt_err(ctx, ret,
				"aio context %#llx: cannot set it up as io_setup(%u), slot %u, nr %u, %llu bytes (another CPU count?)",
				h.user_id, h.max_reqs, h.id, h.nr, h.ring_size);
	/* the rest of the header is the program's to write: as it was */
	rest[0] = h.magic;
	rest[1] = h.compat_features;
	rest[2] = h.incompat_features;
	rest[3] = h.header_length;
	if (copy_to_user(u64_to_user_ptr(h.user_id + CKPT_AIO_MAGIC_OFF),
			 rest, sizeof(rest)))
		return ckpt_err(ctx, -EFAULT, "aio context %#llx: cannot write its ring",
				h.user_id);
	ret = restore_aio_events(ctx, &h);
	if (ret)
		return ckpt_err(ctx, ret,
				"aio context %#llx: cannot restore its ring (%u completions)",
				h.user_id, h.nr_ring_events);
	return 0;
}
