// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: the UTS namespace of a tree.
 *
 * Every task of the image must be in one UTS namespace, the root's.  If
 * that is the checkpointer's, the image says nothing of it (restart puts
 * the tasks in the caller's); else the root's TREE entry has
 * CKPT_TREE_UTSNS and a CKPT_HDR_UTS_NS record after TREE holds its names,
 * what sethostname() and setdomainname() set (the rest of utsname is the
 * running kernel's).  Restart makes the caller a new UTS namespace with
 * unshare(CLONE_NEWUTS)'s own code and check (CAP_SYS_ADMIN over the
 * caller's user namespace), with those names, before it makes any other
 * task: they are all made in it.  A restart that fails puts the caller
 * back in its own namespaces.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

/* the first target of a checkpoint is the root: its UTS namespace is the tree's */
void checkpoint_uts_ns_root(struct ckpt_ctx *ctx, struct task_struct *t)
{
	if (ctx->uts_ns)
		return;
	task_lock(t);
	if (t->nsproxy) {
		ctx->uts_ns = t->nsproxy->uts_ns;
		get_uts_ns(ctx->uts_ns);
	}
	task_unlock(t);
}

bool ckpt_uts_ns_saved(struct ckpt_ctx *ctx)
{
	return ctx->uts_ns && ctx->uts_ns != current->nsproxy->uts_ns;
}

/* after TREE, if the root's entry says so */
int checkpoint_uts_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_uts_ns h = { };

	BUILD_BUG_ON(sizeof(h) != 144);
	BUILD_BUG_ON(sizeof(h.nodename) != sizeof(ctx->uts_ns->name.nodename));
	BUILD_BUG_ON(sizeof(h.domainname) != sizeof(ctx->uts_ns->name.domainname));
	if (!ckpt_uts_ns_saved(ctx))
		return 0;
	down_read(&uts_sem);
	memcpy(h.nodename, ctx->uts_ns->name.nodename, sizeof(h.nodename));
	memcpy(h.domainname, ctx->uts_ns->name.domainname, sizeof(h.domainname));
	up_read(&uts_sem);
	h.nodename[CKPT_UTS_LEN - 1] = '\0';
	h.domainname[CKPT_UTS_LEN - 1] = '\0';
	ckpt_msg(ctx, "checkpoint: a UTS namespace of the tree's own, hostname \"%s\"",
		 h.nodename);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_UTS_NS, sizeof(h));
}

/* restart, on the caller, after TREE: a new UTS namespace with the names */
int restore_uts_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_uts_ns *h;
	struct uts_namespace *uts;
	struct nsproxy *new;
	int ret;

	if (ctx->rst_old_ns)
		return ckpt_err(ctx, -EINVAL, "UTS namespace: a second one");
	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	ret = ckpt_read_obj(ctx, h, CKPT_HDR_UTS_NS, sizeof(*h));
	if (ret)
		goto out;
	if (strnlen(h->nodename, CKPT_UTS_LEN) == CKPT_UTS_LEN ||
	    strnlen(h->domainname, CKPT_UTS_LEN) == CKPT_UTS_LEN ||
	    memchr_inv(h->_padding, 0, sizeof(h->_padding))) {
		ret = ckpt_err(ctx, -EINVAL, "UTS namespace: bad names");
		goto out;
	}
	ret = unshare_nsproxy_namespaces(CLONE_NEWUTS, &new, NULL, NULL);
	if (ret) {
		ckpt_err(ctx, ret, "UTS namespace: cannot make a new one%s",
			 ret == -EPERM ? ": it needs CAP_SYS_ADMIN" : "");
		goto out;
	}
	uts = new->uts_ns;
	down_write(&uts_sem);
	memcpy(uts->name.nodename, h->nodename, CKPT_UTS_LEN);
	memcpy(uts->name.domainname, h->domainname, CKPT_UTS_LEN);
	up_write(&uts_sem);
	get_nsproxy(current->nsproxy);
	ctx->rst_old_ns = current->nsproxy;
	switch_task_namespaces(current, new);
	ckpt_msg(ctx, "restart: a new UTS namespace, hostname \"%s\"",
		 h->nodename);
out:
	kfree(h);
	return ret;
}

/*
 * At the commit (@ok) the caller keeps the new namespace; a failed
 * restart puts it back in its own (the tasks it made are killed).
 */
void restore_uts_ns_end(struct ckpt_ctx *ctx, bool ok)
{
	struct nsproxy *old = ctx->rst_old_ns;

	if (!old)
		return;
	ctx->rst_old_ns = NULL;
	if (ok)
		put_nsproxy(old);
	else
		switch_task_namespaces(current, old);
}
