// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: eventfd files.
 *
 * CKPT_HDR_EVENTFD holds the counter and the EFD_SEMAPHORE flag; O_NONBLOCK
 * is a status flag of the FILE record and close-on-exec a flag of each
 * descriptor.  Restart makes a new eventfd (its id, in fdinfo, is new)
 * with the same counter.  Every file of one eventfd is the same struct
 * file (objhash), so the counter is shared exactly as before.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>

bool ckpt_is_eventfd(struct file *file)
{
	u64 count;
	unsigned int flags;

	return !eventfd_ckpt_get(file, &count, &flags);
}

int checkpoint_eventfd(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct ckpt_hdr_eventfd h = { };
	unsigned int flags;
	int ret;

	BUILD_BUG_ON(sizeof(h) != 24);
	ret = eventfd_ckpt_get(file, &h.count, &flags);
	if (ret)
		return ckpt_err(ctx, ret, "fd %d: not an eventfd", fd);
	h.flags = flags & EFD_SEMAPHORE;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_EVENTFD, sizeof(h));
}

/* the hostile-input checks of CKPT_HDR_EVENTFD, then a new eventfd */
struct file *restore_eventfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_hdr_eventfd h;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_EVENTFD, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.flags & ~EFD_SEMAPHORE || h._padding ||
	    h.count == ULLONG_MAX)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"eventfd objref %d: bad count %llu or flags %#x",
					hf->objref, h.count, h.flags));
	return eventfd_ckpt_create(h.count,
				   h.flags | (hf->f_flags & O_NONBLOCK));
}
