// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: epoll files.
 *
 * An epoll file is a FILE of type CKPT_FILE_EPOLL with CKPT_HDR_EPOLL (the
 * number of its items).  Its items come after the whole descriptor table,
 * since a target may be a later file: for each epoll file, in objref
 * order, one CKPT_HDR_EPOLL_ITEM per item, naming its target by the objref
 * of the target's file and the descriptor number it was added with, with
 * its events (EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP included;
 * a fired EPOLLONESHOT item keeps only those) and data.  A target must be
 * a file of the checkpointed table: one that is not (its descriptor
 * closed, the file held elsewhere) is refused with EBUSY, naming it.
 *
 * Restart adds every item with epoll_ctl()'s own code (EPOLL_CTL_ADD: the
 * loop and wakeup-path checks, the caller's max_user_watches; EPOLLWAKEUP
 * only with CAP_BLOCK_SUSPEND, else EPERM) in the image's order, an epoll
 * target after its own items.  The ready list comes back by itself: the
 * add polls the target, as epoll_ctl() does, and puts a ready item on
 * it; an item that was not on it at checkpoint (an edge-triggered event
 * already reported) is taken off again, so that epoll_wait() reports
 * exactly what it would have.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <uapi/linux/eventpoll.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

/* restart: an epoll file made for the image, its items still to come */
struct ckpt_rst_epoll {
	struct file *file;
	int objref;
	u32 nitems;
};

#define CKPT_EPOLL_EVENTS	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | \
				 EPOLLHUP | EPOLLNVAL | EPOLLRDNORM | \
				 EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | \
				 EPOLLMSG | EPOLLRDHUP | EPOLLEXCLUSIVE | \
				 EPOLLWAKEUP | EPOLLONESHOT | EPOLLET)

bool ckpt_is_epoll(struct file *file)
{
	return ep_ckpt_items(file, NULL, 0) >= 0;
}

/* the items of @file in a new array (kvfree() it), their number or error */
static int ckpt_epoll_collect(struct file *file, struct ep_ckpt_item **pitems)
{
	struct ep_ckpt_item *items = NULL;
	int n, max = 0;

	for (;;) {
		n = ep_ckpt_items(file, items, max);
		if (n < 0 || n <= max)
			break;
		kvfree(items);
		max = n;
		items = kvcalloc(max, sizeof(*items), GFP_KERNEL);
		if (!items)
			return -ENOMEM;
	}
	if (n < 0 || n > CKPT_EPOLL_ITEMS_MAX) {
		kvfree(items);
		return n < 0 ? n : -E2BIG;
	}
	*pitems = items;
	return n;
}

/* the first descriptor of the table holding @file, or -1 */
static int ckpt_epoll_target(struct ckpt_fd *fds, int n, struct file *file)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i].file == file)
			return i;
	return -1;
}

/* every target of fds[@i] must be a file of the table */
int ckpt_epoll_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			int i)
{
	struct ep_ckpt_item *items = NULL;
	int j, nitems, ret = CKPT_FILE_EPOLL;

	nitems = ckpt_epoll_collect(fds[i].file, &items);
	if (nitems < 0)
		return ckpt_err(ctx, nitems, "fd %d: cannot read the epoll items",
				fds[i].fd);
	for (j = 0; j < nitems; j++)
		if (ckpt_epoll_target(fds, n, items[j].file) < 0) {
			ret = ckpt_err(ctx, -EBUSY,
				       "fd %d: epoll target fd %d is not a file of the task's descriptor table (closed, held elsewhere): not supported",
				       fds[i].fd, items[j].fd);
			break;
		}
	kvfree(items);
	return ret;
}

int checkpoint_epoll(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct ckpt_hdr_epoll h = { };
	int n;

	BUILD_BUG_ON(sizeof(h) != 16);
	n = ep_ckpt_items(file, NULL, 0);
	if (n < 0)
		return ckpt_err(ctx, n, "fd %d: not an epoll file", fd);
	h.nitems = n;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_EPOLL, sizeof(h));
}

/* the items of one epoll file: targets by objref */
static int checkpoint_epoll_file(struct ckpt_ctx *ctx, struct ckpt_fd *fds,
				 int n, int i)
{
	struct ep_ckpt_item *items = NULL;
	int j, nitems, ret = 0;

	nitems = ckpt_epoll_collect(fds[i].file, &items);
	if (nitems < 0)
		return ckpt_err(ctx, nitems, "fd %d: cannot read the epoll items",
				fds[i].fd);
	for (j = 0; j < nitems && !ret; j++) {
		struct ckpt_hdr_epoll_item h = { };
		int t = ckpt_epoll_target(fds, n, items[j].file);
		bool first;

		BUILD_BUG_ON(sizeof(h) != 32);
		if (t < 0) {
			ret = ckpt_err(ctx, -EAGAIN,
				       "fd %d: epoll items changed during checkpoint",
				       fds[i].fd);
			break;
		}
		h.objref = ckpt_obj_lookup_add(ctx, fds[t].file, &first);
		if (h.objref < 0) {
			ret = h.objref;
			break;
		}
		h.fd = items[j].fd;
		h.events = (__force u32)items[j].events;
		h.flags = items[j].ready ? CKPT_EPOLL_READY : 0;
		h.data = items[j].data;
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_EPOLL_ITEM, sizeof(h));
	}
	kvfree(items);
	return ret;
}

/* after the table: the items of every epoll file, in objref order */
int checkpoint_epoll_items(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			   int *types)
{
	int i, ret = 0;

	for (i = 0; i < n && !ret; i++)
		if (types[i] == CKPT_FILE_EPOLL &&
		    ckpt_epoll_target(fds, n, fds[i].file) == i)
			ret = checkpoint_epoll_file(ctx, fds, n, i);
	return ret;
}

/* restart: CKPT_HDR_EPOLL, a new epoll file; its items come later */
struct file *restore_epoll(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_rst_epoll *e;
	struct ckpt_hdr_epoll h;
	struct file *file;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_EPOLL, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (h.nitems > CKPT_EPOLL_ITEMS_MAX || h._padding ||
	    ctx->rst.nepolls >= ctx->rst.nfds)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"epoll objref %d: bad record (%u items)",
					hf->objref, h.nitems));
	e = krealloc_array(ctx->rst.epolls, ctx->rst.nepolls + 1, sizeof(*e),
			   GFP_KERNEL);
	if (!e)
		return ERR_PTR(-ENOMEM);
	ctx->rst.epolls = e;
	file = ep_ckpt_create();
	if (IS_ERR(file))
		return file;
	e += ctx->rst.nepolls++;
	e->file = get_file(file);
	e->objref = hf->objref;
	e->nitems = h.nitems;
	spin_lock(&file->f_lock);
	file->f_flags |= hf->f_flags & O_NONBLOCK;
	spin_unlock(&file->f_lock);
	return file;
}

static int restore_epoll_item(struct ckpt_ctx *ctx, struct ckpt_rst_epoll *e)
{
	struct ckpt_hdr_epoll_item h;
	struct file *tfile;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_EPOLL_ITEM, sizeof(h));
	if (ret)
		return ret;
	tfile = ckpt_obj_fetch(ctx, h.objref);
	if (!tfile || h.fd < 0 || h.fd >= rlimit(RLIMIT_NOFILE) ||
	    h.events & ~(__force u32)CKPT_EPOLL_EVENTS ||
	    h.flags & ~CKPT_EPOLL_READY)
		return ckpt_err(ctx, -EINVAL,
				"epoll objref %d: bad item (target objref %d, fd %d, events %#x, flags %#x)",
				e->objref, h.objref, h.fd, h.events, h.flags);
	ret = ep_ckpt_insert(e->file, tfile, h.fd, (__force __poll_t)h.events,
			     h.data, h.flags & CKPT_EPOLL_READY);
	if (ret == -EEXIST)
		return ckpt_err(ctx, -EINVAL,
				"epoll objref %d: target objref %d fd %d repeated",
				e->objref, h.objref, h.fd);
	if (ret == -EPERM && (h.events & EPOLLWAKEUP))
		return ckpt_err(ctx, ret,
				"epoll objref %d: target fd %d: EPOLLWAKEUP needs CAP_BLOCK_SUSPEND",
				e->objref, h.fd);
	if (ret)
		return ckpt_err(ctx, ret,
				"epoll objref %d: cannot add target objref %d as fd %d (events %#x)",
				e->objref, h.objref, h.fd, h.events);
	return 0;
}

/* restart, after the table: the items of every epoll file */
int restore_epoll_items(struct ckpt_ctx *ctx)
{
	unsigned int i, j;
	int ret;

	for (i = 0; i < ctx->rst.nepolls; i++)
		for (j = 0; j < ctx->rst.epolls[i].nitems; j++) {
			ret = restore_epoll_item(ctx, &ctx->rst.epolls[i]);
			if (ret)
				return ret;
		}
	return 0;
}

void restore_epolls_free(struct ckpt_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->rst.nepolls; i++)
		fput(ctx->rst.epolls[i].file);
	kfree(ctx->rst.epolls);
	ctx->rst.epolls = NULL;
	ctx->rst.nepolls = 0;
}
