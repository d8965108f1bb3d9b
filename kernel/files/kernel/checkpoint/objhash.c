// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: objects shared between the tasks of a checkpoint.
 *
 * The open files themselves are in the context's objhash (sys.c): a
 * struct file that several descriptors hold, in one task or in several
 * tasks of a tree (inherited across fork(), with its shared offset), is
 * saved once and referenced by its objref.  What several open files share
 * is numbered here, per checkpoint: a pipe (pipe_ref; its two ends may be
 * held by different tasks) and the content of an unlinked file or memfd
 * (data_ref).  Restart makes each once, for the first file that names it,
 * and gives it to the later ones, whichever task they belong to.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/slab.h>

#define CKPT_OBJ_INODE_BITS	6

/* an inode whose object (pipe, content) is in the image: compared only */
struct ckpt_obj_inode {
	struct hlist_node node;
	struct inode *inode;
	int ref;
	int kind;	/* CKPT_FILE_PIPE, _FIFO, or a content */
};

/*
 * The ref of the pipe or FIFO (@kind CKPT_FILE_PIPE, CKPT_FILE_FIFO) or
 * of the content (any other @kind) of @inode in this checkpoint; each
 * kind numbered apart; *@first if it is new (the first file carries it).
 * The files of the objhash keep the inode alive meanwhile.
 */
int ckpt_obj_inode_ref(struct ckpt_ctx *ctx, struct inode *inode, int kind,
		       bool *first)
{
	struct ckpt_obj_inode *o;
	struct hlist_head *head;

	if (kind != CKPT_FILE_PIPE && kind != CKPT_FILE_FIFO)
		kind = 0;

	if (!ctx->obj_inodes) {
		ctx->obj_inodes = kcalloc(1 << CKPT_OBJ_INODE_BITS,
					  sizeof(*ctx->obj_inodes), GFP_KERNEL);
		if (!ctx->obj_inodes)
			return -ENOMEM;
	}
	head = &ctx->obj_inodes[hash_ptr(inode, CKPT_OBJ_INODE_BITS)];
	hlist_for_each_entry(o, head, node)
		if (o->inode == inode && o->kind == kind) {
			*first = false;
			return o->ref;
		}
	o = kmalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	o->inode = inode;
	o->kind = kind;
	o->ref = kind == CKPT_FILE_PIPE ? ++ctx->next_pipe_ref :
		 kind == CKPT_FILE_FIFO ? ++ctx->next_fifo_ref :
		 ++ctx->next_data_ref;
	hlist_add_head(&o->node, head);
	*first = true;
	return o->ref;
}

void ckpt_obj_inodes_free(struct ckpt_ctx *ctx)
{
	struct ckpt_obj_inode *o;
	struct hlist_node *tmp;
	int i;

	if (!ctx->obj_inodes)
		return;
	for (i = 0; i < 1 << CKPT_OBJ_INODE_BITS; i++)
		hlist_for_each_entry_safe(o, tmp, &ctx->obj_inodes[i], node) {
			hlist_del(&o->node);
			kfree(o);
		}
	kfree(ctx->obj_inodes);
	ctx->obj_inodes = NULL;
}
