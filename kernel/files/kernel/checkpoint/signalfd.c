// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: signalfd files.
 *
 * CKPT_HDR_SIGNALFD holds the mask the file reads signals of (as
 * signalfd() was given it, without SIGKILL and SIGSTOP); O_NONBLOCK is a
 * status flag of the FILE record.  The signals themselves are the task's
 * pending signals (SIGPENDING): a read after restart dequeues them as it
 * would have.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/fs.h>
#include <linux/signal.h>

bool ckpt_is_signalfd(struct file *file)
{
	u64 mask;

	return !signalfd_ckpt_get(file, &mask);
}

int checkpoint_signalfd(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct ckpt_hdr_signalfd h = { };
	int ret;

	BUILD_BUG_ON(sizeof(h) != 16);
	ret = signalfd_ckpt_get(file, &h.sigmask);
	if (ret)
		return ckpt_err(ctx, ret, "fd %d: not a signalfd", fd);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_SIGNALFD, sizeof(h));
}

struct file *restore_signalfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_hdr_signalfd h;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_SIGNALFD, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.sigmask & (sigmask(SIGKILL) | sigmask(SIGSTOP)))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"signalfd objref %d: bad mask %#llx (SIGKILL or SIGSTOP)",
					hf->objref, h.sigmask));
	return signalfd_ckpt_create(h.sigmask, hf->f_flags & O_NONBLOCK);
}
