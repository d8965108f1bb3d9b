// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: SysV shm attachments (shmat(); CKPT_VMA_SYSV_SHM
 * vmas, CKPT_HDR_IPC_SHM).
 *
 * Each segment is saved once per image, keyed by its shmem inode, however
 * many attachments (of however many tasks of a tree) map it: key, shmid,
 * size, permission bits, SHM_DEST and SHM_LOCKED, owner and creator, and
 * its whole content.  An attachment must be whole (memory.c checks it):
 * its vmas, split by mprotect() or not, cover the segment from offset 0.
 *
 * Restart creates the segment in the caller's IPC namespace with
 * shmget(IPC_CREAT | IPC_EXCL) and the caller's credentials and limits
 * (shmmax, shmall, shmmni): with the same key (EEXIST, naming the key, if
 * a segment has it; IPC_PRIVATE makes a new one) and the same shmid (the
 * namespace's next_id, as CRIU sets it with shm_next_id; EEXIST, naming
 * the shmid, if it is taken).  Then it writes the content, locks it as
 * SHM_LOCK does (with its checks) and gives it the owner of the image
 * (what IPC_SET lets the creator do) and the creator of the image, which
 * must be the caller unless the caller has CAP_SYS_ADMIN over the
 * namespace (EPERM).  Each attachment is do_shmat() at its address
 * (SHM_RDONLY without VM_MAYWRITE), the protections of its vmas then set
 * as mprotect() sets them (PROT_EXEC too: an executable attachment needs
 * no more than that).  A segment that was IPC_RMID'd while attached (SHM_DEST) is
 * removed again once every task is restored; a failed restart removes
 * every segment it created.
 *
 * Not restored, new at restart: the times (shm_atime, shm_dtime,
 * shm_ctime), the pids (shm_cpid, shm_lpid), shm_nattch (the restored
 * attachments).  Refused at checkpoint (memory.c names the mapping):
 * hugetlb segments (SHM_HUGETLB), mlock()ed attachments, parts of an
 * attachment; here: a segment of another IPC namespace than the tree's
 * (the checkpointer's, or the tree's own: ns.c, which makes the restart
 * create them in a new one).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ipc.h>
#include <linux/ipc_namespace.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nsproxy.h>
#include <linux/security.h>
#include <linux/shm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/syscalls.h>

#include <asm/tlb.h>

#define CKPT_IPC_SHM_MODE	(0777 | CKPT_IPC_SHM_DEST | CKPT_IPC_SHM_LOCKED)
#define CKPT_VMA_PROT		(VM_READ | VM_WRITE | VM_EXEC)

/* restart: a segment created for the image */
struct ckpt_sysv_rst {
	struct ckpt_hdr_ipc_shm h;	/* as the image gave it */
	struct file *file;		/* its shmem file, referenced */
	int id;
};

struct ckpt_sysv_table {
	/* checkpoint: the shmem files of the segments saved, by shm_ref - 1 */
	struct file **saved;
	unsigned int nsaved;
	/* restart */
	struct ckpt_sysv_rst *rst;	/* by shm_ref - 1 */
	unsigned int nrst;
	struct ipc_namespace *ns;	/* where they were created */
	bool committed;
	/* the attachment whose vmas are being restored, 0 if none */
	int cur_ref;
	unsigned long cur_base, cur_next, cur_end, cur_prot;
};

/* a vma's file is a shmat() attachment */
bool ckpt_sysv_shm_file(struct file *file)
{
	struct ipc_namespace *ns;
	int id;

	return file && !shm_ckpt_file(file, &ns, &id);
}

static struct ckpt_sysv_table *ckpt_sysv_table(struct ckpt_ctx *ctx)
{
	if (!ctx->sysvshm)
		ctx->sysvshm = kzalloc(sizeof(*ctx->sysvshm), GFP_KERNEL);
	return ctx->sysvshm;
}

/* checkpoint: the segments saved so far */
unsigned int ckpt_sysv_shm_saved(struct ckpt_ctx *ctx)
{
	return ctx->sysvshm ? ctx->sysvshm->nsaved : 0;
}

static u32 ckpt_sysv_flags(struct file *file)
{
	return SHMEM_I(file_inode(file))->flags & VM_NORESERVE ?
	       CKPT_IPC_SHM_NORESERVE : 0;
}

/* checkpoint: the IPC_SHM record of a CKPT_VMA_SYSV_SHM vma, content the first time */
int checkpoint_vma_sysv_shm(struct ckpt_ctx *ctx, struct file *file,
			    unsigned long start, unsigned long end)
{
	struct user_namespace *uns = current_user_ns();
	struct ckpt_sysv_table *t = ckpt_sysv_table(ctx);
	struct ckpt_hdr_ipc_shm h = { };
	struct ipc_namespace *ns;
	struct shm_ckpt st;
	struct file **saved;
	unsigned int i;
	char what[48];
	int id = -1, ret;

	BUILD_BUG_ON(sizeof(h) != 56);
	if (!t)
		return -ENOMEM;
	snprintf(what, sizeof(what), "mapping %lx-%lx", start, end);
	ret = shm_ckpt_file(file, &ns, &id);
	if (!ret)
		ret = shm_ckpt_stat(ns, id, file, &st);
	if (ret)
		return ckpt_err(ctx, ret, "%s: its SysV shm segment %d is gone",
				what, id);
	if (ns != ctx->ipc_ns) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "%s /SYSV%08x: SysV shm segment %d of another IPC namespace than the tree's: not supported",
			       what, st.key, st.id);
		goto out;
	}
	h.key = st.key;
	h.id = st.id;
	h.mode = st.mode & CKPT_IPC_SHM_MODE;
	h.uid = from_kuid_munged(uns, st.uid);
	h.gid = from_kgid_munged(uns, st.gid);
	h.cuid = from_kuid_munged(uns, st.cuid);
	h.cgid = from_kgid_munged(uns, st.cgid);
	h.size = st.size;
	h.flags = ckpt_sysv_flags(st.file);
	for (i = 0; i < t->nsaved; i++) {
		if (file_inode(t->saved[i]) == file_inode(st.file)) {
			h.shm_ref = i + 1;
			ret = ckpt_write_obj(ctx, &h, CKPT_HDR_IPC_SHM, sizeof(h));
			goto out;
		}
	}
	saved = krealloc_array(t->saved, t->nsaved + 1, sizeof(*saved),
			       GFP_KERNEL);
	if (!saved) {
		ret = -ENOMEM;
		goto out;
	}
	t->saved = saved;
	saved[t->nsaved++] = get_file(st.file);
	h.shm_ref = t->nsaved;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_IPC_SHM, sizeof(h));
	if (!ret)
		ret = ckpt_write_content(ctx, st.file, what, st.size);
out:
	fput(st.file);
	return ret;
}

/* restart: the image's ids in the caller's user namespace */
static int restore_sysv_ids(struct ckpt_ctx *ctx, struct ckpt_hdr_ipc_shm *h,
			    struct shm_ckpt *st)
{
	struct user_namespace *uns = current_user_ns();

	st->uid = make_kuid(uns, h->uid);
	st->gid = make_kgid(uns, h->gid);
	st->cuid = make_kuid(uns, h->cuid);
	st->cgid = make_kgid(uns, h->cgid);
	if (!uid_valid(st->uid) || !gid_valid(st->gid) ||
	    !uid_valid(st->cuid) || !gid_valid(st->cgid))
		return ckpt_err(ctx, -EINVAL,
				"SysV shm segment %d (key %#x): owner %u:%u or creator %u:%u not in the caller's user namespace",
				h->id, h->key, h->uid, h->gid, h->cuid,
				h->cgid);
	return 0;
}

/* shmget() with the image's key, mode and shmid */
static int restore_sysv_shmget(struct ckpt_ctx *ctx, struct ipc_namespace *ns,
			       struct ckpt_hdr_ipc_shm *h)
{
	int id, flags = IPC_CREAT | IPC_EXCL | (h->mode & 0777);

	if (h->flags & CKPT_IPC_SHM_NORESERVE)
		flags |= SHM_NORESERVE;
	/* this one creation takes the shmid (shm_next_id) */
	id = shm_ckpt_next_id(ns, -1, h->id);
	if (id)
		return ckpt_err(ctx, id,
				"SysV shm segment %d: %s", h->id, id == -EBUSY ?
				"shm_next_id is set (another restore?)" :
				"restoring a shmid needs CONFIG_CHECKPOINT_RESTORE");
	id = ksys_shmget(h->key, h->size, flags);
	shm_ckpt_next_id(ns, h->id, -1);
	if (id == -EEXIST)
		return ckpt_err(ctx, -EEXIST,
				"SysV shm segment %d: key %#x exists: restart needs it free",
				h->id, h->key);
	if (id < 0)
		return ckpt_err(ctx, id,
				"SysV shm segment %d (key %#x): cannot create %llu bytes (shmmax, shmall, shmmni?)",
				h->id, h->key, h->size);
	return id;
}

/* restart: the segment of @h made again, filled, locked, owned */
static struct ckpt_sysv_rst *restore_sysv_new(struct ckpt_ctx *ctx,
					      struct ckpt_sysv_table *t,
					      struct ckpt_hdr_ipc_shm *h)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct ckpt_sysv_rst *r;
	struct shm_ckpt st, want;
	int id, ret;

	ret = restore_sysv_ids(ctx, h, &want);
	if (ret)
		return ERR_PTR(ret);
	/* the creator is who creates it: another needs CAP_SYS_ADMIN */
	if ((!uid_eq(want.cuid, current_euid()) ||
	     !gid_eq(want.cgid, current_egid())) &&
	    !ns_capable(ns->user_ns, CAP_SYS_ADMIN))
		return ERR_PTR(ckpt_err(ctx, -EPERM,
					"SysV shm segment %d (key %#x): created by %u:%u, not the caller: restoring its creator needs CAP_SYS_ADMIN",
					h->id, h->key, h->cuid, h->cgid));
	if (t->ns && t->ns != ns)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"SysV shm segment %d: tasks of the restart in two IPC namespaces",
					h->id));
	r = krealloc_array(t->rst, t->nrst + 1, sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	t->rst = r;
	id = restore_sysv_shmget(ctx, ns, h);
	if (id < 0)
		return ERR_PTR(id);
	ret = shm_ckpt_stat(ns, id, NULL, &st);
	if (ret)
		return ERR_PTR(ckpt_err(ctx, ret, "SysV shm segment %d: gone after shmget()",
					id));
	if (!t->ns)
		t->ns = get_ipc_ns(ns);
	/* from here on a failed restart removes it */
	r = &t->rst[t->nrst++];
	r->h = *h;
	r->file = st.file;
	r->id = id;
	if (id != h->id)
		return ERR_PTR(ckpt_err(ctx, -EEXIST,
					"SysV shm segment key %#x: shmid %d is taken (created as %d)",
					h->key, h->id, id));
	ret = ckpt_read_content(ctx, st.file, h->size, "SysV shm segment");
	if (!ret && (h->mode & CKPT_IPC_SHM_LOCKED)) {
		ret = shm_ckpt_lock(ns, id);
		if (ret)
			ckpt_err(ctx, ret, "SysV shm segment %d: SHM_LOCK refused",
				 id);
	}
	if (!ret && (!uid_eq(want.uid, st.uid) || !gid_eq(want.gid, st.gid) ||
		     !uid_eq(want.cuid, st.cuid) || !gid_eq(want.cgid, st.cgid)))
		ret = shm_ckpt_set_owner(ns, id, st.file, &want);
	return ret ? ERR_PTR(ret) : r;
}

/* restart: the segment of the IPC_SHM record after @v, new or seen before */
static struct ckpt_sysv_rst *restore_sysv_segment(struct ckpt_ctx *ctx,
						  struct ckpt_sysv_table *t,
						  struct ckpt_hdr_vma *v)
{
	struct ckpt_hdr_ipc_shm h;
	u64 len = v->vm_end - v->vm_start, pages;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_IPC_SHM, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	/* the vma lies in the segment's pages */
	pages = DIV_ROUND_UP_ULL(h.size, PAGE_SIZE);
	if (h.id < 0 || h.mode & ~CKPT_IPC_SHM_MODE ||
	    h.flags & ~CKPT_IPC_SHM_NORESERVE || h._padding || !h.size ||
	    h.size > TASK_SIZE_MAX || h.size != v->file_size ||
	    v->vm_pgoff > pages || len >> PAGE_SHIFT > pages - v->vm_pgoff)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"vma %llx-%llx: bad SysV shm record (id %d mode %#o size %llu offset %llu pages)",
					v->vm_start, v->vm_end, h.id, h.mode,
					h.size, v->vm_pgoff));
	if (h.shm_ref == t->nrst + 1)
		return restore_sysv_new(ctx, t, &h);
	if (h.shm_ref < 1 || h.shm_ref > t->nrst)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad SysV shm ref %d",
					h.shm_ref));
	if (memcmp(&t->rst[h.shm_ref - 1].h, &h, sizeof(h)))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"SysV shm segment %d repeated otherwise",
					h.id));
	return &t->rst[h.shm_ref - 1];
}

/* the protections of a restored vma, as mprotect() sets them */
static int restore_sysv_mprotect(struct ckpt_ctx *ctx, struct mm_struct *mm,
				 struct ckpt_hdr_vma *v)
{
	unsigned long want = v->vm_flags & CKPT_VMA_PROT, newflags, prot = 0;
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;
	int ret = -EINVAL;

	if (want & VM_READ)
		prot |= PROT_READ;
	if (want & VM_WRITE)
		prot |= PROT_WRITE;
	if (want & VM_EXEC)
		prot |= PROT_EXEC;
	mmap_write_lock(mm);
	vma = find_vma_prev(mm, v->vm_start, &prev);
	if (vma && vma->vm_start <= v->vm_start && vma->vm_end >= v->vm_end) {
		if (vma->vm_start < v->vm_start)
			prev = vma;
		newflags = (vma->vm_flags & ~CKPT_VMA_PROT) | want;
		/* what the attachment's file allows (VM_MAY*) */
		ret = (newflags & ~(newflags >> 4)) & CKPT_VMA_PROT ? -EACCES :
		      security_file_mprotect(vma, prot, prot);
		if (!ret) {
			tlb_gather_mmu(&tlb, mm);
			ret = mprotect_fixup(&tlb, vma, &prev, v->vm_start,
					     v->vm_end, newflags);
			tlb_finish_mmu(&tlb);
		}
	}
	mmap_write_unlock(mm);
	if (ret)
		return ckpt_err(ctx, ret, "vma %llx-%llx: cannot set its SysV shm protections %llx",
				v->vm_start, v->vm_end, v->vm_flags & CKPT_VMA_PROT);
	return 0;
}

/*
 * restart: before each vma, an attachment begun must go on; at the end
 * of an mm (@v NULL), it must be complete
 */
int restore_sysv_shm_next(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *v)
{
	struct ckpt_sysv_table *t = ctx->sysvshm;

	if (!t || !t->cur_ref ||
	    (v && v->vma_type == CKPT_VMA_SYSV_SHM && v->vm_pgoff))
		return 0;
	return ckpt_err(ctx, -EINVAL,
			"SysV shm attachment %lx-%lx ends at %lx in the image",
			t->cur_base, t->cur_end, t->cur_next);
}

/* restart: attach (the first vma of an attachment) or go on with it */
int restore_vma_sysv_shm(struct ckpt_ctx *ctx, struct mm_struct *mm,
			 struct ckpt_hdr_vma *v, unsigned long *addr)
{
	struct ckpt_sysv_table *t = ckpt_sysv_table(ctx);
	bool maywrite = v->vm_flags & VM_MAYWRITE;
	struct ckpt_sysv_rst *r;
	unsigned long raddr;
	long ret;
	int flags;

	if (!t)
		return -ENOMEM;
	r = restore_sysv_segment(ctx, t, v);
	if (IS_ERR(r))
		return PTR_ERR(r);
	if (!v->vm_pgoff) {
		/* PROT_EXEC as mprotect() gives it, not SHM_EXEC's check */
		flags = maywrite ? 0 : SHM_RDONLY;
		ret = do_shmat(r->id, (char __user *)(unsigned long)v->vm_start,
			       flags, &raddr, SHMLBA);
		if (ret)
			return ckpt_err(ctx, ret,
					"vma %llx-%llx: cannot attach shmid %d (key %#x)%s",
					v->vm_start, v->vm_end, r->id, r->h.key,
					ret == -EINVAL ?
					": its pages overlap another vma" : "");
		t->cur_ref = r - t->rst + 1;
		t->cur_base = v->vm_start;
		t->cur_next = v->vm_start;
		t->cur_end = v->vm_start + PAGE_ALIGN(r->h.size);
		t->cur_prot = VM_READ | (maywrite ? VM_WRITE : 0);
		*addr = raddr;
	} else if (t->cur_ref != r - t->rst + 1 || v->vm_start != t->cur_next ||
		   v->vm_start - t->cur_base != v->vm_pgoff << PAGE_SHIFT) {
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: not the rest of a SysV shm attachment of segment %d",
				v->vm_start, v->vm_end, r->id);
	} else {
		*addr = v->vm_start;
	}
	if (v->vm_end > t->cur_end ||
	    maywrite != !!(t->cur_prot & VM_WRITE))
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: beyond or unlike its SysV shm attachment %lx-%lx",
				v->vm_start, v->vm_end, t->cur_base,
				t->cur_end);
	t->cur_next = v->vm_end;
	if (t->cur_next == t->cur_end)
		t->cur_ref = 0;
	if ((v->vm_flags & CKPT_VMA_PROT) != t->cur_prot)
		return restore_sysv_mprotect(ctx, mm, v);
	return 0;
}

/* restart succeeded (every task built): segments IPC_RMID'd while attached */
void restore_sysv_shm_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_sysv_table *t = ctx->sysvshm;
	unsigned int i;

	if (!t)
		return;
	t->committed = true;
	for (i = 0; i < t->nrst; i++)
		if (t->rst[i].h.mode & CKPT_IPC_SHM_DEST)
			shm_ckpt_rmid(t->ns, t->rst[i].id, t->rst[i].file);
}

/* the end of a checkpoint or restart: an uncommitted restart's segments go */
void ckpt_sysv_shm_free(struct ckpt_ctx *ctx)
{
	struct ckpt_sysv_table *t = ctx->sysvshm;
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->nsaved; i++)
		fput(t->saved[i]);
	kfree(t->saved);
	for (i = 0; i < t->nrst; i++) {
		if (!t->committed)
			shm_ckpt_rmid(t->ns, t->rst[i].id, t->rst[i].file);
		fput(t->rst[i].file);
	}
	kfree(t->rst);
	if (t->ns)
		put_ipc_ns(t->ns);
	kfree(t);
	ctx->sysvshm = NULL;
}
