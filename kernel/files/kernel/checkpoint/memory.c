// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: address space (private anonymous and private file
 * mappings, vDSO, mm boundaries) and page contents.
 *
 * Restart builds the new mm completely, as exec does, while the caller's
 * mm is kept aside: a failure switches back to it and frees the new one.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/memcontrol.h>
#include <linux/mman.h>
#include <linux/mmu_context.h>
#include <linux/namei.h>
#include <linux/pagewalk.h>
#include <linux/pkeys.h>
#include <linux/prctl.h>
#include <linux/security.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <asm/tlb.h>

#define CKPT_VMA_BAD_FLAGS	(VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_HUGETLB)
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
#define CKPT_VMA_THP_FLAGS	(VM_HUGEPAGE | VM_NOHUGEPAGE)
#else
#define CKPT_VMA_THP_FLAGS	0
#endif
/*
 * Saved and restored: protections, MAP_GROWSDOWN, mlock (VM_LOCKED), the
 * madvise() state (DONTFORK, DONTDUMP, WIPEONFORK, SEQUENTIAL, RANDOM,
 * (NO)HUGEPAGE) and the commit charge (VM_ACCOUNT, VM_NORESERVE).
 */
#define CKPT_VMA_MADV_FLAGS	(VM_DONTCOPY | VM_DONTDUMP | VM_WIPEONFORK | \
				 VM_SEQ_READ | VM_RAND_READ | CKPT_VMA_THP_FLAGS)
#define CKPT_VMA_SAVED_FLAGS	(VM_READ | VM_WRITE | VM_EXEC | VM_GROWSDOWN | \
				 VM_LOCKED | VM_ACCOUNT | VM_NORESERVE | \
				 CKPT_VMA_MADV_FLAGS)
/* mlockall(MCL_FUTURE [| MCL_ONFAULT]), prctl(PR_SET_THP_DISABLE) */
#define CKPT_MM_DEF_FLAGS	(VM_LOCKED | VM_LOCKONFAULT | VM_NOHUGEPAGE)

struct ckpt_vma_desc {
	unsigned long start;
	unsigned long end;
	unsigned long flags;
	unsigned long pgoff;
	struct file *file;
	int type;
	bool has_anon;
	bool softdirty;		/* VM_SOFTDIRTY: every page is dirty */
	bool inherit;		/* the parent's, as fork() copied it */
};

/* a file made by the kernel (memfd, shmem object, ...): no path leads to it */
static bool ckpt_internal_file(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;

	return IS_ROOT(dentry) && dentry != file->f_path.mnt->mnt_root;
}

/*
 * A MAP_SHARED mapping of a regular file that has a name: its content
 * stays in the file, the mapping is made again on the file reopened by
 * path.  Shared anonymous memory (/dev/zero, MAP_SHARED|MAP_ANONYMOUS)
 * and memfds are shmem objects (shmem.c); SysV shm attachments are saved
 * with their segments (ipc_shm.c), but not hugetlb or mlock()ed ones.
 */
static const char *ckpt_vma_shared(struct vm_area_struct *vma, int *type)
{
	struct file *file = vma->vm_file;
	struct dentry *dentry = file ? file->f_path.dentry : NULL;

	*type = CKPT_VMA_SHARED_FILE;
	if (ckpt_sysv_shm_file(file)) {
		*type = CKPT_VMA_SYSV_SHM;
		if (is_file_shm_hugepages(file))
			return "SysV shm attachment of a hugetlb segment (SHM_HUGETLB)";
		if (vma->vm_flags & (VM_LOCKED | VM_LOCKONFAULT))
			return "mlock()ed SysV shm attachment";
	} else if (file && (ckpt_shmem_vma(vma) || ckpt_shmem_deleted(file))) {
		*type = CKPT_VMA_SHMEM;
	} else if (file && shmem_file(file) && ckpt_internal_file(file)) {
		return "shared mapping of an internal shmem file";
	}
	if (*type == CKPT_VMA_SHARED_FILE &&
	    (!file || !S_ISREG(file_inode(file)->i_mode) ||
	     ckpt_internal_file(file)))
		return "shared mapping of a special or internal file";
	if (*type == CKPT_VMA_SHARED_FILE && d_unlinked(dentry))
		return "shared mapping of a deleted file";
	if (vma->vm_flags & (CKPT_VMA_BAD_FLAGS | VM_LOCKONFAULT))
		return "special shared mapping";
	if (vma_pkey(vma) && (vma->vm_flags & (VM_READ | VM_EXEC)) != VM_EXEC)
		return "memory protection key (pkey_mprotect())";
	return NULL;
}

#define CKPT_AIO_RING_MAGIC	0xa10a10a1	/* AIO_RING_MAGIC */

static const char *ckpt_vma_problem(struct mm_struct *mm,
				    struct vm_area_struct *vma, int *type);

/*
 * CKPT_VMA_ANON or CKPT_VMA_FILE: a vma whose pages are saved as page
 * arrays (and pre-copied), else 0: a shared one's content is its file's or
 * its shmem object's (SHMEM), never in a pre-copy round or a PGREF
 */
int ckpt_vma_kind(struct mm_struct *mm, struct vm_area_struct *vma)
{
	int type = 0;

	if (ckpt_vma_problem(mm, vma, &type) ||
	    (type != CKPT_VMA_ANON && type != CKPT_VMA_FILE))
		return 0;
	return type;
}

static const char *ckpt_vma_problem(struct mm_struct *mm,
				    struct vm_area_struct *vma, int *type)
{
	*type = ckpt_arch_vma_type(mm, vma);
	if (*type)
		return NULL;
	/* the ring of an io_setup() context (fs/aio.c's pseudo fs): aio.c */
	if (vma->vm_file &&
	    file_inode(vma->vm_file)->i_sb->s_magic == CKPT_AIO_RING_MAGIC) {
		*type = CKPT_VMA_AIO;
		return NULL;
	}
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return ckpt_vma_shared(vma, type);
	if (vma->vm_flags & CKPT_VMA_BAD_FLAGS)
		return "special (I/O, PFN or hugetlb) mapping";
	if (vma->vm_flags & VM_LOCKONFAULT)
		return "mlock2(MLOCK_ONFAULT) locking";
	/* the execute-only key of a --x mapping comes back with mmap() */
	if (vma_pkey(vma) && (vma->vm_flags & (VM_READ | VM_EXEC)) != VM_EXEC)
		return "memory protection key (pkey_mprotect())";
	if (vma->vm_file) {
		if (!S_ISREG(file_inode(vma->vm_file)->i_mode))
			return "mapping of a non-regular file";
		if (d_unlinked(vma->vm_file->f_path.dentry))
			return "mapping of a deleted file";
		if (ckpt_internal_file(vma->vm_file))
			return "private mapping of a memfd or other internal file";
		*type = CKPT_VMA_FILE;
		return NULL;
	}
	if (vma->vm_ops)
		return "special mapping";
	*type = CKPT_VMA_ANON;
	return NULL;
}

static bool ckpt_vma_is_shared(u32 type)
{
	return type == CKPT_VMA_SHARED_FILE || type == CKPT_VMA_SHMEM ||
	       type == CKPT_VMA_SYSV_SHM;
}

static void ckpt_put_vmas(struct ckpt_vma_desc *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (d[i].file)
			fput(d[i].file);
	kvfree(d);
}

/* snapshot the vmas of @mm, refusing unsupported ones */
static int ckpt_collect_vmas(struct ckpt_ctx *ctx, struct mm_struct *mm,
			     struct ckpt_hdr_mm *h, struct ckpt_vma_desc **pd)
{
	struct ckpt_vma_desc *d;
	struct vm_area_struct *vma;
	const char *problem = NULL;
	unsigned long bad_start = 0, bad_end = 0;
	struct file *bad_file = NULL;
	int n = 0, ret;

	VMA_ITERATOR(vmi, mm, 0);
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	d = kvcalloc(mm->map_count + 1, sizeof(*d), GFP_KERNEL);
	if (!d) {
		mmap_read_unlock(mm);
		return -ENOMEM;
	}
	for_each_vma(vmi, vma) {
		if (n >= mm->map_count)
			break;
		problem = ckpt_vma_problem(mm, vma, &d[n].type);
		if (problem) {
			bad_start = vma->vm_start;
			bad_end = vma->vm_end;
			if (vma->vm_file)
				bad_file = get_file(vma->vm_file);
			break;
		}
		d[n].start = vma->vm_start;
		d[n].end = vma->vm_end;
		d[n].flags = vma->vm_flags & CKPT_VMA_SAVED_FLAGS;
		/* a shared mapping of a file opened for writing */
		if (ckpt_vma_is_shared(d[n].type))
			d[n].flags |= vma->vm_flags & VM_MAYWRITE;
		d[n].pgoff = vma->vm_pgoff;
		d[n].has_anon = !!vma->anon_vma;
		d[n].softdirty = !!(vma->vm_flags & VM_SOFTDIRTY);
		if (d[n].type == CKPT_VMA_FILE || d[n].type == CKPT_VMA_AIO ||
		    ckpt_vma_is_shared(d[n].type))
			d[n].file = get_file(vma->vm_file);
		n++;
	}
	h->def_flags = mm->def_flags;
	h->start_code = mm->start_code;
	h->end_code = mm->end_code;
	h->start_data = mm->start_data;
	h->end_data = mm->end_data;
	h->start_brk = mm->start_brk;
	h->brk = mm->brk;
	h->start_stack = mm->start_stack;
	spin_lock(&mm->arg_lock);
	h->arg_start = mm->arg_start;
	h->arg_end = mm->arg_end;
	h->env_start = mm->env_start;
	h->env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);
	h->vdso = ckpt_arch_vdso(mm);
	mmap_read_unlock(mm);

	if (problem) {
		char *buf = kmalloc(PATH_MAX, GFP_KERNEL);
		char *path = "";

		/* release exactly the @n entries taken */
		ckpt_put_vmas(d, n);
		if (buf && bad_file) {
			path = d_path(&bad_file->f_path, buf, PATH_MAX);
			if (IS_ERR(path))
				path = "?";
		}
		ret = ckpt_err(ctx, -EINVAL, "mapping %lx-%lx %s: %s not supported",
			       bad_start, bad_end, path, problem);
		kfree(buf);
		if (bad_file)
			fput(bad_file);
		return ret;
	}
	*pd = d;
	return n;
}

static int checkpoint_write_path(struct ckpt_ctx *ctx, struct file *file)
{
	char *buf, *path = "";
	int ret;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (file) {
		path = d_path(&file->f_path, buf, PATH_MAX);
		if (IS_ERR(path)) {
			kfree(buf);
			return ckpt_err(ctx, PTR_ERR(path), "path too long");
		}
	}
	ret = ckpt_write_string(ctx, path);
	kfree(buf);
	return ret;
}

/* a page array of the @nr pages of @pa from index @from */
static int checkpoint_pgarr_at(struct ckpt_ctx *ctx, struct ckpt_pgarr *pa,
			       unsigned int from, unsigned int nr)
{
	struct ckpt_hdr_pgarr h = { .nr_pages = nr };
	int ret;

	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PGARR, sizeof(h));
	if (ret || !nr)
		return ret;
	ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, nr * sizeof(u64));
	if (!ret)
		ret = ckpt_kwrite(ctx, pa->addrs + from, nr * sizeof(u64));
	if (!ret)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, nr * PAGE_SIZE);
	/* straight from the pages, in as few writes as the file takes */
	if (!ret)
		ret = ckpt_kwrite_pages(ctx, pa->pages + from, nr);
	return ret;
}

int checkpoint_pgarr(struct ckpt_ctx *ctx, struct ckpt_pgarr *pa,
		     unsigned int nr)
{
	return checkpoint_pgarr_at(ctx, pa, 0, nr);
}

/* the @nr pages of @pa from index @from are the parent's */
static int checkpoint_pgcow(struct ckpt_ctx *ctx, struct ckpt_pgarr *pa,
			    unsigned int from, unsigned int nr)
{
	struct ckpt_hdr_pgcow h = { .nr_pages = nr };
	int ret;

	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PGCOW, sizeof(h));
	if (!ret)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, nr * sizeof(u64));
	if (!ret)
		ret = ckpt_kwrite(ctx, pa->addrs + from, nr * sizeof(u64));
	return ret;
}

/* the last pass of a pre-copy: pages of the rounds, by address */
static int checkpoint_pgref(struct ckpt_ctx *ctx, struct ckpt_pgarr *pa,
			    unsigned int nr)
{
	struct ckpt_hdr_pgref h = { .nr_pages = nr };
	int ret;

	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PGREF, sizeof(h));
	if (!ret)
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, nr * sizeof(u64));
	if (!ret)
		ret = ckpt_kwrite(ctx, pa->refs, nr * sizeof(u64));
	return ret;
}

/* address space walked per mmap lock hold, at most */
#define CKPT_WALK_SPAN	PUD_SIZE

struct ckpt_walk {
	struct ckpt_pgarr *pa;
	unsigned int nr;	/* pages taken into @pa */
	unsigned int nref;	/* clean pages of a delta, in @pa->refs */
	bool delta;		/* the last pass of a pre-copy */
	bool vdirty;		/* of it: every page of the vma is dirty */
	int type;		/* CKPT_VMA_ANON or CKPT_VMA_FILE */
	unsigned long next;	/* where a full @pa stopped the walk */
	unsigned long busy;	/* a swapped-out or migrating page */
};

static int ckpt_walk_pte(pte_t *pte, unsigned long addr, unsigned long next,
			 struct mm_walk *walk)
{
	struct ckpt_walk *w = walk->private;
	pte_t ptent = ptep_get(pte);
	struct page *page;

	if (pte_none(ptent))
		return 0;
	if (!pte_present(ptent)) {
		w->busy = addr;
		return -EBUSY;
	}
	/* not the zero page, not a special pte */
	page = vm_normal_page(walk->vma, addr, ptent);
	if (!page)
		return 0;
	if (w->type == CKPT_VMA_FILE && !PageAnon(page))
		return 0;
	if (w->delta && !w->vdirty &&
	    !checkpoint_precopy_page_dirty(walk->vma, addr, ptent, page)) {
		w->pa->refs[w->nref] = addr;
		if (++w->nref < CKPT_PGARR_MAX)
			return 0;
		w->next = next;
		return 1;
	}
	get_page(page);
	w->pa->addrs[w->nr] = addr;
	w->pa->pages[w->nr] = page;
	if (++w->nr < CKPT_PGARR_MAX)
		return 0;
	w->next = next;
	return 1;
}

static const struct mm_walk_ops ckpt_walk_ops = {
	.pte_entry = ckpt_walk_pte,
};

/*
 * Is the parent's @pv the vma @d of its forked child, as fork() copied
 * it: the same place, flags, offset and file, a private mapping that
 * fork() copies with its pages (not MADV_DONTFORK or MADV_WIPEONFORK,
 * not mlocked: fork() unlocks the child's copy)?
 */
static bool ckpt_vma_inheritable(struct vm_area_struct *pv,
				 struct ckpt_vma_desc *d)
{
	return pv && (d->type == CKPT_VMA_ANON || d->type == CKPT_VMA_FILE) &&
	       pv->vm_start == d->start && pv->vm_end == d->end &&
	       (pv->vm_flags & CKPT_VMA_SAVED_FLAGS) == d->flags &&
	       !(pv->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_DONTCOPY |
				 VM_WIPEONFORK | VM_LOCKED | VM_LOCKONFAULT |
				 CKPT_VMA_BAD_FLAGS)) &&
	       pv->vm_pgoff == d->pgoff && pv->vm_file == d->file;
}

/*
 * A batch of @nr pages of an inherited vma: the runs of those that are
 * still the parent's page at the same address (shared copy-on-write since
 * the fork) as PGCOW records, the others as page arrays, in address
 * order.  The parent is frozen as the task is: its pages are those the
 * image holds for it.
 */
static int checkpoint_cow_batch(struct ckpt_ctx *ctx, struct mm_struct *pmm,
				struct ckpt_vma_desc *d, struct ckpt_pgarr *pa,
				unsigned int nr)
{
	DECLARE_BITMAP(cow, CKPT_PGARR_MAX);
	struct vm_area_struct *pv;
	unsigned int i, from;
	int ret;

	bitmap_zero(cow, CKPT_PGARR_MAX);
	ret = mmap_read_lock_killable(pmm);
	if (ret)
		return ret;
	pv = vma_lookup(pmm, d->start);
	for (i = 0; i < nr && ckpt_vma_inheritable(pv, d); i++) {
		struct page *page = pa->pages[i];

		if (PageAnon(page) && page_mapcount(page) > 1 &&
		    follow_page(pv, pa->addrs[i], 0) == page)
			__set_bit(i, cow);
	}
	mmap_read_unlock(pmm);
	for (from = 0; from < nr && !ret; from = i) {
		bool shared = test_bit(from, cow);

		for (i = from + 1; i < nr && test_bit(i, cow) == shared; i++)
			;
		if (shared)
			ret = checkpoint_pgcow(ctx, pa, from, i - from);
		else
			ret = checkpoint_pgarr_at(ctx, pa, from, i - from);
	}
	return ret;
}

/* is @vma still the mapping recorded in @d? */
static bool ckpt_vma_same(struct vm_area_struct *vma, struct ckpt_vma_desc *d)
{
	return vma && vma->vm_start == d->start && vma->vm_end == d->end &&
	       (vma->vm_flags & CKPT_VMA_SAVED_FLAGS) == d->flags &&
	       !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE | CKPT_VMA_BAD_FLAGS)) &&
	       vma->vm_pgoff == d->pgoff && vma->vm_file == d->file;
}

/*
 * The pages of a vma that exist (anonymous pages only, for file vmas), in
 * batches of at most CKPT_PGARR_MAX pages or CKPT_WALK_SPAN of address
 * space: each batch walks the live page tables of the vma, checked to be
 * the one recorded, under the mmap lock, and empty tables are skipped.
 * Between batches the lock is dropped, the target checked, a fatal signal
 * ends the walk and the CPU is yielded.
 */
static int checkpoint_vma_pages(struct ckpt_ctx *ctx, struct mm_struct *mm,
				struct ckpt_vma_desc *d, struct ckpt_pgarr *pa,
				struct mm_struct *pmm)
{
	struct ckpt_walk w = { .pa = pa, .type = d->type,
			       .delta = checkpoint_precopy_delta(ctx, mm) };
	unsigned long addr = d->start, end;
	unsigned int i;
	int ret = 0;

	if (w.delta)
		w.vdirty = checkpoint_precopy_vma_dirty(ctx, d->start, d->end,
							d->pgoff, d->file,
							d->softdirty);
	while (d->has_anon && addr < d->end) {
		ret = ckpt_check_target(ctx);
		if (ret)
			return ret;
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = mmap_read_lock_killable(mm);
		if (ret)
			return ret;
		if (!ckpt_vma_same(vma_lookup(mm, addr), d)) {
			mmap_read_unlock(mm);
			return ckpt_err(ctx, -EBUSY,
					"mapping %lx-%lx changed during checkpoint",
					d->start, d->end);
		}
		end = min(d->end, ALIGN(addr + 1, CKPT_WALK_SPAN));
		w.nr = 0;
		w.nref = 0;
		ret = walk_page_range(mm, addr, end, &ckpt_walk_ops, &w);
		mmap_read_unlock(mm);
		addr = ret == 1 ? w.next : end;
		if (ret == -EBUSY) {
			ret = ckpt_err(ctx, -EBUSY,
				       "page at %lx is swapped out or migrating",
				       w.busy);
		} else if (ret >= 0 && (w.nr || w.nref)) {
			if (w.nr && d->inherit)
				ret = checkpoint_cow_batch(ctx, pmm, d, pa, w.nr);
			else if (w.nr)
				ret = checkpoint_pgarr(ctx, pa, w.nr);
			if (!ret && w.nref)
				ret = checkpoint_pgref(ctx, pa, w.nref);
		} else if (ret > 0) {
			ret = 0;
		}
		for (i = 0; i < w.nr; i++)
			put_page(pa->pages[i]);
		if (ret)
			return ret;
		cond_resched();
	}
	return checkpoint_pgarr(ctx, pa, 0);
}

static int checkpoint_vma(struct ckpt_ctx *ctx, struct mm_struct *mm,
			  struct ckpt_vma_desc *d, struct ckpt_pgarr *pa,
			  struct mm_struct *pmm)
{
	struct ckpt_hdr_vma h = { };
	int ret;

	h.vma_type = d->type;
	h.vm_start = d->start;
	h.vm_end = d->end;
	h.vm_flags = d->flags;
	h.vm_pgoff = d->pgoff;
	if (d->file)
		h.file_size = i_size_read(file_inode(d->file));
	if (d->inherit)
		h.vma_flags = CKPT_VMA_INHERITED;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_VMA, sizeof(h));
	if (!ret && !d->inherit &&
	    (d->type == CKPT_VMA_FILE || d->type == CKPT_VMA_SHARED_FILE))
		ret = checkpoint_write_path(ctx, d->file);
	if (!ret && d->type == CKPT_VMA_SHMEM)
		ret = checkpoint_vma_shmem(ctx, d->file, d->start, d->end);
	if (!ret && d->type == CKPT_VMA_AIO)
		ret = checkpoint_aio(ctx, mm, d->file, d->start, d->end,
				     d->flags);
	if (!ret && d->type == CKPT_VMA_SYSV_SHM)
		ret = checkpoint_vma_sysv_shm(ctx, d->file, d->start, d->end);
	if (!ret && (d->type == CKPT_VMA_FILE || d->type == CKPT_VMA_ANON))
		ret = checkpoint_vma_pages(ctx, mm, d, pa, pmm);
	return ret;
}

/*
 * A forked child of a tree: the mm of its parent (which the image has
 * before it), if the child still has vmas as fork() copied them (marked
 * inherited) and the parent's vDSO; restart then builds the child's
 * memory from the restored parent's and keeps the pages they still
 * share.  NULL otherwise, and in a pre-copy (its rounds are of one task).
 */
static struct mm_struct *ckpt_cow_parent_mm(struct ckpt_ctx *ctx,
					    struct ckpt_hdr_mm *h,
					    struct ckpt_vma_desc *d, int n)
{
	struct mm_struct *pmm;
	bool any = false;
	int i;

	if (ctx->uflags & (CHECKPOINT_PRECOPY | CHECKPOINT_PRECOPY_LAST) ||
	    checkpoint_precopy_delta(ctx, ctx->mm))
		return NULL;
	pmm = ckpt_tree_parent_mm(ctx);
	if (!pmm)
		return NULL;
	if (mmap_read_lock_killable(pmm)) {
		mmput(pmm);
		return NULL;
	}
	for (i = 0; i < n && ckpt_arch_vdso(pmm) == h->vdso; i++) {
		d[i].inherit = ckpt_vma_inheritable(vma_lookup(pmm, d[i].start),
						    &d[i]);
		any |= d[i].inherit;
	}
	mmap_read_unlock(pmm);
	if (!any) {
		mmput(pmm);
		return NULL;
	}
	h->mm_flags |= CKPT_MM_COW;
	return pmm;
}

/*
 * SysV shm attachments are whole: the vmas of one (one attachment file)
 * follow each other from offset 0 to the end of the segment's pages.
 */
static int ckpt_check_sysv_shm(struct ckpt_ctx *ctx, struct ckpt_vma_desc *d,
			       int n)
{
	unsigned long end;
	int i, j;

	for (i = 0; i < n; i = j + 1) {
		j = i;
		if (d[i].type != CKPT_VMA_SYSV_SHM)
			continue;
		end = d[i].start + PAGE_ALIGN(i_size_read(file_inode(d[i].file)));
		if (d[i].pgoff)
			goto bad;
		while (d[j].end < end) {
			if (++j >= n || d[j].type != CKPT_VMA_SYSV_SHM ||
			    d[j].file != d[i].file || d[j].start != d[j - 1].end ||
			    d[j].pgoff != (d[j].start - d[i].start) >> PAGE_SHIFT)
				goto bad;
		}
		if (d[j].end != end)
			goto bad;
	}
	return 0;
bad:
	return ckpt_err(ctx, -EOPNOTSUPP,
			"mapping %lx-%lx /%s: part of a SysV shm attachment (partly unmapped, or moved or grown by mremap()): not supported",
			d[i].start, d[i].end, d[i].file->f_path.dentry->d_name.name);
}

/* where the time of the task's memory went */
static void ckpt_msg_mem(struct ckpt_ctx *ctx, ktime_t t0)
{
	struct ckpt_mem_stats *m = &ctx->mstat;

	ckpt_msg(ctx,
		 "%s: pid %d: memory: %llu pages in %lld us: %llu us %s them, %llu us checksumming, %llu us allocating and mapping",
		 ctx->restart ? "restart" : "checkpoint",
		 ctx->restart ? ctx->rst.task.pid : ctx->tsk_pid, m->pages,
		 ktime_us_delta(ktime_get(), t0), div_u64(m->io_ns, 1000),
		 ctx->restart ? "reading" : "writing",
		 div_u64(m->csum_ns, 1000), div_u64(m->map_ns, 1000));
}

int checkpoint_mm(struct ckpt_ctx *ctx)
{
	struct mm_struct *mm = ctx->mm;
	struct ckpt_hdr_mm h = { };
	struct ckpt_vma_desc *d = NULL;
	struct ckpt_pgarr *pa = NULL;
	struct mm_struct *pmm = NULL;
	struct file *exe;
	ktime_t t0;
	int i, n, ret;

	if (get_mm_counter(mm, MM_SWAPENTS))
		return ckpt_err(ctx, -EBUSY, "task has swapped-out pages");
	ret = checkpoint_aio_check(ctx, mm);
	if (ret)
		return ret;
	n = ckpt_collect_vmas(ctx, mm, &h, &d);
	if (n < 0)
		return n;
	h.map_count = n;
	ret = ckpt_check_sysv_shm(ctx, d, n);
	if (!ret)
		pmm = ckpt_cow_parent_mm(ctx, &h, d, n);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_MM, sizeof(h));
	if (ret)
		goto out;
	exe = get_mm_exe_file(mm);
	ret = checkpoint_write_path(ctx, exe);
	if (exe)
		fput(exe);
	if (ret)
		goto out;
	pa = kvmalloc(sizeof(*pa), GFP_KERNEL);
	if (!pa) {
		ret = -ENOMEM;
		goto out;
	}
	memset(&ctx->mstat, 0, sizeof(ctx->mstat));
	t0 = ktime_get();
	for (i = 0; i < n && !ret; i++)
		ret = checkpoint_vma(ctx, mm, &d[i], pa, pmm);
	if (!ret)
		ckpt_msg_mem(ctx, t0);
out:
	if (pmm)
		mmput(pmm);
	ckpt_put_vmas(d, n);
	kvfree(pa);
	return ret;
}

/* restart */

/*
 * Make @mm the mm of current and return the previous one, as exec_mmap()
 * does: under the old mm's lock and the exec_update_lock, with the
 * membarrier and LRU-gen updates.  @fresh: @mm was never used (exec's
 * case); otherwise current switches back or forth between the two mms of a
 * restart.  exec_mm_release() is restore_mm_commit()'s: it cannot be
 * undone, and a failed restart switches back.
 */
struct mm_struct *ckpt_switch_mm(struct mm_struct *mm, bool fresh)
{
	struct task_struct *tsk = current;
	struct mm_struct *old = tsk->mm, *active;

	sync_mm_rss(old);
	down_write(&tsk->signal->exec_update_lock);
	mmap_read_lock(old);
	task_lock(tsk);
	if (fresh)
		membarrier_exec_mmap(mm);
	else
		membarrier_update_current_mm(mm);
	local_irq_disable();
	active = tsk->active_mm;
	tsk->active_mm = mm;
	tsk->mm = mm;
	if (!IS_ENABLED(CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM))
		local_irq_enable();
	activate_mm(active, mm);
	if (IS_ENABLED(CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM))
		local_irq_enable();
	if (fresh)
		lru_gen_add_mm(mm);
	task_unlock(tsk);
	lru_gen_use_mm(mm);
	mmap_read_unlock(old);
	up_write(&tsk->signal->exec_update_lock);
	WARN_ON_ONCE(active != old);
	return old;
}

/*
 * The next record of a vma's pages: a page array, in the last pass of a
 * pre-copy an array of pages of its rounds (PGREF), in an inherited vma
 * (@cow) an array of pages still the parent's (PGCOW).  All have the same
 * layout.
 */
static int restore_read_pgarr(struct ckpt_ctx *ctx, struct ckpt_hdr_pgarr *hp,
			      bool cow)
{
	u64 at = ctx->total;
	int ret;

	BUILD_BUG_ON(sizeof(struct ckpt_hdr_pgref) != sizeof(*hp));
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_pgcow) != sizeof(*hp));
	ret = ckpt_kread(ctx, &hp->h, sizeof(hp->h));
	if (ret)
		return ret;
	if (hp->h.type != CKPT_HDR_PGARR &&
	    !(hp->h.type == CKPT_HDR_PGREF && ctx->rst.precopy) &&
	    !(hp->h.type == CKPT_HDR_PGCOW && cow))
		return ckpt_err(ctx, -EINVAL,
				"record at offset %llu: type %u, expected %u",
				at, hp->h.type, CKPT_HDR_PGARR);
	if (hp->h.len != sizeof(*hp))
		return ckpt_err(ctx, -EINVAL,
				"record type %u at offset %llu: bad length %u",
				hp->h.type, at, hp->h.len);
	ret = ckpt_kread(ctx, &hp->h + 1, sizeof(*hp) - sizeof(hp->h));
	if (!ret)
		ret = ckpt_read_pad(ctx, sizeof(*hp));
	if (!ret && hp->h.type != CKPT_HDR_PGARR && !hp->nr_pages)
		ret = ckpt_err(ctx, -EINVAL, "empty page reference at %llu", at);
	return ret;
}

/* an inherited vma: no page in [@start, @end) (the task had none there) */
static void restore_vma_zap(struct mm_struct *mm, unsigned long start,
			    unsigned long end)
{
	struct vm_area_struct *vma;

	if (start >= end)
		return;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, start);
	if (vma && end <= vma->vm_end)
		zap_page_range(vma, start, end - start);
	mmap_read_unlock(mm);
}

/*
 * The @nr pages of a page array at @addrs (checked: in the vma,
 * increasing), read into the task's own pages: each run of contiguous
 * addresses pinned at once (populated, and left alone by reclaim while it
 * is filled), then read straight into them.
 */
static int restore_pages_pinned(struct ckpt_ctx *ctx, struct mm_struct *mm,
				const u64 *addrs, unsigned int nr,
				struct page **pages)
{
	unsigned int i, j, got;
	long n;
	int ret = 0;

	for (i = 0; i < nr && !ret; i = j) {
		for (j = i + 1; j < nr && addrs[j] == addrs[j - 1] + PAGE_SIZE; j++)
			;
		ret = mmap_read_lock_killable(mm);
		if (ret)
			break;
		for (got = 0, n = 0; got < j - i; got += n) {
			n = pin_user_pages_remote(mm, addrs[i + got], j - i - got,
						  FOLL_WRITE | FOLL_FORCE,
						  pages + got, NULL, NULL);
			if (n <= 0)
				break;
		}
		mmap_read_unlock(mm);
		if (got < j - i)
			ret = ckpt_err(ctx, n < 0 ? n : -EFAULT,
				       "cannot populate page %llx",
				       addrs[i + got]);
		else
			ret = ckpt_kread_pages(ctx, pages, got);
		unpin_user_pages_dirty_lock(pages, got, true);
	}
	return ret;
}

/*
 * The same in a new vma: new pages (charged to the task's memory cgroup,
 * not cleared) are read, then mapped as they are; one that cannot be
 * mapped so is copied into the task's page instead.
 */
static int restore_pages_fresh(struct ckpt_ctx *ctx, struct mm_struct *mm,
			       const u64 *addrs, unsigned int nr,
			       struct page **pages)
{
	unsigned int i, n;
	ktime_t t0 = ktime_get(), t1;
	struct page *page;
	long got;
	int ret = 0;

	for (n = 0; n < nr; n++) {
		pages[n] = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
		if (!pages[n]) {
			ret = -ENOMEM;
			break;
		}
		if (mem_cgroup_charge(page_folio(pages[n]), mm, GFP_KERNEL)) {
			put_page(pages[n]);
			ret = ckpt_err(ctx, -ENOMEM, "no memory for page %llx",
				       addrs[n]);
			break;
		}
	}
	ctx->mstat.map_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
	if (!ret)
		ret = ckpt_kread_pages(ctx, pages, n);
	if (!ret)
		ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out;
	t1 = ktime_get();
	for (i = 0; i < n; i++) {
		if (!restore_precopy_map(mm, addrs[i], pages[i])) {
			pages[i] = NULL;	/* the mm's now */
			continue;
		}
		got = pin_user_pages_remote(mm, addrs[i], 1,
					    FOLL_WRITE | FOLL_FORCE, &page,
					    NULL, NULL);
		if (got != 1) {
			ret = ckpt_err(ctx, got < 0 ? got : -EFAULT,
				       "cannot populate page %llx", addrs[i]);
			break;
		}
		copy_highpage(page, pages[i]);
		unpin_user_pages_dirty_lock(&page, 1, true);
	}
	mmap_read_unlock(mm);
	ctx->mstat.map_ns += ktime_to_ns(ktime_sub(ktime_get(), t1));
out:
	for (i = 0; i < n; i++)
		if (pages[i])
			put_page(pages[i]);
	return ret;
}

/*
 * The pages of a private vma.  Of an inherited one (@cow), made by the
 * copy of the parent's mm: the page arrays' pages are written (a write
 * breaks the sharing), the PGCOW ones kept, and every other page the
 * parent had there is removed.
 */
static int restore_vma_pages(struct ckpt_ctx *ctx, struct mm_struct *mm,
			     unsigned long start, unsigned long end, bool cow)
{
	struct ckpt_hdr_pgarr hp;
	struct ckpt_hdr h;
	struct vm_area_struct *vma;
	unsigned long next = start, next_ref = start, kept = start;
	unsigned long *pnext;
	struct page **pages;
	u64 *addrs;
	unsigned int i;
	bool ref, fresh;
	int ret;

	/* pages of a new vma are read, then mapped; mlock() populated its */
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	vma = vma_lookup(mm, start);
	fresh = IS_ENABLED(CONFIG_USERFAULTFD) && !cow && vma &&
		!(vma->vm_flags & VM_LOCKED);
	mmap_read_unlock(mm);
	addrs = kmalloc_array(CKPT_PGARR_MAX, sizeof(*addrs), GFP_KERNEL);
	pages = kmalloc_array(CKPT_PGARR_MAX, sizeof(*pages), GFP_KERNEL);
	if (!addrs || !pages) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ret = restore_read_pgarr(ctx, &hp, cow);
		if (ret)
			break;
		if (!hp.nr_pages)
			break;
		ref = hp.h.type == CKPT_HDR_PGREF;
		if (hp.nr_pages > CKPT_PGARR_MAX) {
			ret = ckpt_err(ctx, -EINVAL, "page array too large: %llu",
				       hp.nr_pages);
			break;
		}
		ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER,
				    sizeof(h) + hp.nr_pages * sizeof(u64),
				    sizeof(h) + hp.nr_pages * sizeof(u64));
		if (!ret)
			ret = ckpt_kread(ctx, addrs, hp.nr_pages * sizeof(u64));
		if (ret)
			break;
		pnext = ref ? &next_ref : &next;
		for (i = 0; i < hp.nr_pages; i++) {
			if (addrs[i] < *pnext || addrs[i] >= end ||
			    offset_in_page(addrs[i])) {
				ret = ckpt_err(ctx, -EINVAL,
					       "bad page address %llx in vma %lx-%lx",
					       addrs[i], start, end);
				goto out;
			}
			*pnext = addrs[i] + PAGE_SIZE;
			if (cow) {
				restore_vma_zap(mm, kept, addrs[i]);
				kept = addrs[i] + PAGE_SIZE;
			}
		}
		if (hp.h.type == CKPT_HDR_PGCOW)
			continue;
		if (ref) {
			ret = restore_precopy_refs(ctx, mm, addrs, hp.nr_pages);
			if (ret)
				break;
			continue;
		}
		ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER,
				    sizeof(h) + hp.nr_pages * PAGE_SIZE,
				    sizeof(h) + hp.nr_pages * PAGE_SIZE);
		if (!ret && fresh)
			ret = restore_pages_fresh(ctx, mm, addrs, hp.nr_pages,
						  pages);
		else if (!ret)
			ret = restore_pages_pinned(ctx, mm, addrs, hp.nr_pages,
						   pages);
		if (ret)
			break;
	}
	if (!ret && cow)
		restore_vma_zap(mm, kept, end);
out:
	kfree(pages);
	kfree(addrs);
	return ret;
}

/*
 * ET_CKPT: the file of a vma passed as a descriptor by the exec caller (the
 * seed's user-space helper), instead of its path: a regular file, open for
 * reading, and for writing where the mapping could be made writable.
 */
static struct file *restore_vma_passed_file(struct ckpt_ctx *ctx,
					    struct ckpt_hdr_vma *h,
					    const char *path)
{
	struct file *file = ctx->rst.vma_file;
	fmode_t need = FMODE_READ | (h->vm_flags & VM_MAYWRITE ? FMODE_WRITE : 0);

	if (!S_ISREG(file_inode(file)->i_mode))
		return ERR_PTR(-ESTALE);
	if ((file->f_mode & need) != need) {
		ckpt_err(ctx, -EACCES, "%s: the descriptor passed is not open for %s",
			 path, need & FMODE_WRITE ? "reading and writing" : "reading");
		return ERR_PTR(-EACCES);
	}
	return get_file(file);
}

static int restore_vma_file(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *h,
			    unsigned long prot, unsigned long flags,
			    unsigned long *addr)
{
	unsigned long len = h->vm_end - h->vm_start;
	struct file *file;
	char *path;
	int ret = 0;

	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);
	if (h->vm_pgoff > (ULONG_MAX >> PAGE_SHIFT) - (len >> PAGE_SHIFT)) {
		ret = ckpt_err(ctx, -EINVAL, "%s: bad offset", path);
		goto out;
	}
	/* a shared writable mapping needs a file open for writing */
	if (ctx->rst.vma_file)
		file = restore_vma_passed_file(ctx, h, path);
	else
		file = ckpt_open_path(path, (h->vm_flags & VM_MAYWRITE ? O_RDWR : O_RDONLY) |
				      O_LARGEFILE, CKPT_FILE_REG);
	if (IS_ERR(file)) {
		ret = ckpt_err(ctx, PTR_ERR(file), "cannot open mapped file %s%s",
			       path, PTR_ERR(file) == -ESTALE ?
			       ": not a regular file" : "");
		goto out;
	}
	if (i_size_read(file_inode(file)) != h->file_size) {
		ret = ckpt_err(ctx, -ESTALE,
			       "mapped file %s changed (size %lld, image %llu)",
			       path, i_size_read(file_inode(file)),
			       h->file_size);
	} else {
		*addr = vm_mmap(file, h->vm_start, len, prot,
				(h->vma_type == CKPT_VMA_SHARED_FILE ?
				 MAP_SHARED : MAP_PRIVATE) |
				MAP_FIXED_NOREPLACE | flags,
				h->vm_pgoff << PAGE_SHIFT);
	}
	fput(file);
out:
	kvfree(path);
	return ret;
}

/*
 * A private mapping that was made read-only after it was writable keeps
 * its commit charge (VM_ACCOUNT): it is mapped writable (and charged, as
 * mmap() does), filled, then made read-only as mprotect() does.
 */
static int restore_vma_drop_write(struct ckpt_ctx *ctx, struct mm_struct *mm,
				  unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;
	int ret = -EINVAL;

	mmap_write_lock(mm);
	vma = find_vma_prev(mm, start, &prev);
	if (vma && vma->vm_start <= start && vma->vm_end >= end) {
		if (vma->vm_start < start)
			prev = vma;
		tlb_gather_mmu(&tlb, mm);
		ret = mprotect_fixup(&tlb, vma, &prev, start, end,
				     vma->vm_flags & ~VM_WRITE);
		tlb_finish_mmu(&tlb);
	}
	mmap_write_unlock(mm);
	if (ret)
		return ckpt_err(ctx, ret, "vma %lx-%lx: cannot make it read-only",
				start, end);
	return 0;
}

/* the madvise() state of a restored vma, with madvise()'s checks */
static int restore_vma_madvise(struct ckpt_ctx *ctx, struct mm_struct *mm,
			       struct ckpt_hdr_vma *h)
{
	static const struct {
		unsigned long flag;
		int advice;
	} advice[] = {
		{ VM_DONTCOPY, MADV_DONTFORK },
		{ VM_DONTDUMP, MADV_DONTDUMP },
		{ VM_WIPEONFORK, MADV_WIPEONFORK },
		{ VM_SEQ_READ, MADV_SEQUENTIAL },
		{ VM_RAND_READ, MADV_RANDOM },
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
		{ VM_HUGEPAGE, MADV_HUGEPAGE },
		{ VM_NOHUGEPAGE, MADV_NOHUGEPAGE },
#endif
	};
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(advice); i++) {
		if (!(h->vm_flags & advice[i].flag))
			continue;
		ret = do_madvise(mm, h->vm_start, h->vm_end - h->vm_start,
				 advice[i].advice);
		if (ret)
			return ckpt_err(ctx, ret, "vma %llx-%llx: madvise(%d) refused",
					h->vm_start, h->vm_end,
					advice[i].advice);
	}
	return 0;
}

/* mmap() flags and protections of a private vma, for its vm_flags */
static unsigned long restore_vma_map_flags(struct ckpt_hdr_vma *h,
					   unsigned long *prot, bool *drop_write)
{
	unsigned long flags = 0;

	*drop_write = (h->vm_flags & (VM_ACCOUNT | VM_WRITE)) == VM_ACCOUNT;
	if (*drop_write)
		*prot |= PROT_WRITE;
	if (h->vm_flags & VM_NORESERVE)
		flags |= MAP_NORESERVE;
	if (h->vm_flags & VM_LOCKED)
		flags |= MAP_LOCKED;
	if (h->vm_flags & VM_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	return flags;
}

/* a CKPT_MM_COW mm: what the parent had in [@start, @end) is not the task's */
static int restore_cow_unmap(struct ckpt_ctx *ctx, unsigned long start,
			     unsigned long end)
{
	int ret = start < end ? vm_munmap(start, end - start) : 0;

	if (ret)
		return ckpt_err(ctx, ret, "cannot unmap %lx-%lx of the parent's",
				start, end);
	return 0;
}

/*
 * A vma of a CKPT_MM_COW mm that the copy of the parent's has: an
 * inherited private mapping, covered by one vma of the same kind, flags
 * and (for a file) offset, or the vDSO at the same place.
 */
static int restore_vma_inherited(struct ckpt_ctx *ctx, struct mm_struct *mm,
				 struct ckpt_hdr_vma *h)
{
	bool special = h->vma_type == CKPT_VMA_VDSO ||
		       h->vma_type == CKPT_VMA_VVAR;
	struct vm_area_struct *vma;
	bool ok;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, h->vm_start);
	ok = vma && vma->vm_end >= h->vm_end;
	if (ok && special)
		ok = vma->vm_start == h->vm_start && vma->vm_end == h->vm_end &&
		     ckpt_arch_vma_type(mm, vma) == h->vma_type;
	else if (ok)
		ok = !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) &&
		     (vma->vm_flags & CKPT_VMA_SAVED_FLAGS) == h->vm_flags &&
		     !vma->vm_file == (h->vma_type == CKPT_VMA_ANON) &&
		     (!vma->vm_file || vma->vm_pgoff +
		      ((h->vm_start - vma->vm_start) >> PAGE_SHIFT) ==
		      h->vm_pgoff);
	mmap_read_unlock(mm);
	if (!ok)
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: not in the parent's memory as inherited",
				h->vm_start, h->vm_end);
	if (special)
		return 0;
	return restore_vma_pages(ctx, mm, h->vm_start, h->vm_end, true);
}

/*
 * The next vma.  @cow_end: in a CKPT_MM_COW mm, the end of the previous
 * one: the copy of the parent's mappings is removed up to this one, and
 * up to its end unless the vma is kept (inherited, or the vDSO); NULL
 * for a new mm.
 */
int restore_vma(struct ckpt_ctx *ctx, struct mm_struct *mm,
		unsigned long *prev_end, unsigned long *cow_end)
{
	struct ckpt_hdr_vma h;
	unsigned long prot = 0, flags, addr = -EINVAL;
	bool drop_write;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_VMA, sizeof(h));
	if (ret)
		return ret;
	if (h.vm_start >= h.vm_end || offset_in_page(h.vm_start) ||
	    offset_in_page(h.vm_end) || h.vm_start < *prev_end ||
	    h.vm_start < mmap_min_addr || h.vm_end > mm->task_size)
		return ckpt_err(ctx, -EINVAL, "bad vma %llx-%llx",
				h.vm_start, h.vm_end);
	if (h.vm_flags & ~(u64)(CKPT_VMA_SAVED_FLAGS | VM_MAYWRITE) ||
	    (h.vm_flags & VM_MAYWRITE && !ckpt_vma_is_shared(h.vma_type)) ||
	    (ckpt_vma_is_shared(h.vma_type) &&
	     ((h.vm_flags & (VM_WRITE | VM_MAYWRITE)) == VM_WRITE ||
	      h.vm_flags & VM_ACCOUNT)))
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx: bad flags %llx",
				h.vm_start, h.vm_end, h.vm_flags);
	if (h.vma_flags & ~CKPT_VMA_INHERITED ||
	    (h.vma_flags && (!cow_end || h.vm_flags & VM_LOCKED ||
			     (h.vma_type != CKPT_VMA_ANON &&
			      h.vma_type != CKPT_VMA_FILE))))
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx: bad vma flags %x",
				h.vm_start, h.vm_end, h.vma_flags);
	/* what shmat() cannot make */
	if (h.vma_type == CKPT_VMA_SYSV_SHM &&
	    h.vm_flags & (VM_LOCKED | VM_GROWSDOWN | VM_NORESERVE))
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx: bad SysV shm flags %llx",
				h.vm_start, h.vm_end, h.vm_flags);
	ret = restore_sysv_shm_next(ctx, &h);
	if (ret)
		return ret;
	if (h.vm_flags & VM_READ)
		prot |= PROT_READ;
	if (h.vm_flags & VM_WRITE)
		prot |= PROT_WRITE;
	if (h.vm_flags & VM_EXEC)
		prot |= PROT_EXEC;
	*prev_end = h.vm_end;

	if (cow_end) {
		bool keep = h.vma_flags || h.vma_type == CKPT_VMA_VDSO ||
			    h.vma_type == CKPT_VMA_VVAR;

		ret = restore_cow_unmap(ctx, *cow_end,
					keep ? h.vm_start : h.vm_end);
		*cow_end = h.vm_end;
		if (ret)
			return ret;
		if (keep)
			return restore_vma_inherited(ctx, mm, &h);
	}

	switch (h.vma_type) {
	case CKPT_VMA_VDSO:
	case CKPT_VMA_VVAR:
		return ckpt_arch_map_vdso(ctx, h.vm_start, h.vm_end,
					  h.vma_type);
	case CKPT_VMA_ANON:
		flags = restore_vma_map_flags(&h, &prot, &drop_write);
		addr = vm_mmap(NULL, h.vm_start, h.vm_end - h.vm_start, prot,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
			       flags, 0);
		break;
	case CKPT_VMA_FILE:
	case CKPT_VMA_SHARED_FILE:
		flags = restore_vma_map_flags(&h, &prot, &drop_write);
		ret = restore_vma_file(ctx, &h, prot, flags & ~MAP_GROWSDOWN,
				       &addr);
		if (ret)
			return ret;
		break;
	case CKPT_VMA_SHMEM:
		flags = restore_vma_map_flags(&h, &prot, &drop_write);
		ret = restore_vma_shmem(ctx, &h, prot, flags & ~MAP_GROWSDOWN,
					&addr);
		if (ret)
			return ret;
		break;
	case CKPT_VMA_AIO:
		/* mapped by io_setup()'s code, filled from the AIO record */
		return restore_aio(ctx, &h);
	case CKPT_VMA_SYSV_SHM:
		ret = restore_vma_sysv_shm(ctx, mm, &h, &addr);
		if (ret)
			return ret;
		break;
	default:
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx: bad type %u",
				h.vm_start, h.vm_end, h.vma_type);
	}
	if (IS_ERR_VALUE(addr))
		return ckpt_err(ctx, (long)addr, "cannot map vma %llx-%llx%s",
				h.vm_start, h.vm_end, h.vm_flags & VM_LOCKED ?
				" locked (RLIMIT_MEMLOCK?)" : "");
	if (addr != h.vm_start)
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx mapped at %lx",
				h.vm_start, h.vm_end, addr);
	/* a shared mapping's pages are the file's (or the shmem object's) */
	if (!ckpt_vma_is_shared(h.vma_type))
		ret = restore_vma_pages(ctx, mm, h.vm_start, h.vm_end, false);
	if (!ret && drop_write)
		ret = restore_vma_drop_write(ctx, mm, h.vm_start, h.vm_end);
	if (!ret)
		ret = restore_vma_madvise(ctx, mm, &h);
	return ret;
}

/*
 * /proc/PID/exe: as prctl(PR_SET_MM_MAP) allows, a new link needs
 * CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the caller's user
 * namespace; without it, only the caller's own executable.  Either way
 * only a file that an execve() by the caller could have run.
 */
static int restore_mm_exe(struct ckpt_ctx *ctx, struct mm_struct *mm,
			  const char *path)
{
	struct file *file, *own;
	bool same;
	int ret;

	if (!*path)	/* none; a copy of the parent's mm had its */
		return set_mm_exe_file(mm, NULL);
	file = ckpt_open_path(path, O_RDONLY | O_LARGEFILE, CKPT_FILE_REG);
	if (IS_ERR(file))
		return ckpt_err(ctx, PTR_ERR(file) == -ESTALE ? -EACCES : PTR_ERR(file),
				"cannot open executable %s", path);
	own = get_mm_exe_file(current->mm);
	same = own && path_equal(&own->f_path, &file->f_path);
	if (own)
		fput(own);
	if (path_noexec(&file->f_path) || file_permission(file, MAY_EXEC))
		ret = ckpt_err(ctx, -EACCES, "%s: not an executable file",
			       path);
	else if (!same && !checkpoint_restore_ns_capable(current_user_ns()))
		ret = ckpt_err(ctx, -EPERM,
			       "exe %s is not the caller's: setting /proc/PID/exe needs CAP_CHECKPOINT_RESTORE",
			       path);
	else
		ret = set_mm_exe_file(mm, file);
	fput(file);
	return ret;
}

/* the MM record and the executable's path, checked */
int restore_mm_read(struct ckpt_ctx *ctx, struct ckpt_hdr_mm *h, char **exe)
{
	struct prctl_mm_map map = { .exe_fd = (u32)-1 };
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_MM, sizeof(*h));
	if (ret)
		return ret;
	if (h->map_count > sysctl_max_map_count)
		return ckpt_err(ctx, -EINVAL, "too many vmas: %u", h->map_count);
	if (h->mm_flags & ~CKPT_MM_FLAGS || h->_reserved)
		return ckpt_err(ctx, -EINVAL, "bad mm flags %x", h->mm_flags);
	/* as mlockall(MCL_FUTURE) and prctl(PR_SET_THP_DISABLE) allow */
	if (h->def_flags & ~(u64)CKPT_MM_DEF_FLAGS ||
	    (h->def_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKONFAULT)
		return ckpt_err(ctx, -EINVAL, "bad mm default flags %llx",
				h->def_flags);
	if ((h->def_flags & VM_LOCKED) && !can_do_mlock())
		return ckpt_err(ctx, -EPERM,
				"mlockall(MCL_FUTURE): not allowed to the caller (RLIMIT_MEMLOCK 0, no CAP_IPC_LOCK)");
	map.start_code = h->start_code;
	map.end_code = h->end_code;
	map.start_data = h->start_data;
	map.end_data = h->end_data;
	map.start_brk = h->start_brk;
	map.brk = h->brk;
	map.start_stack = h->start_stack;
	map.arg_start = h->arg_start;
	map.arg_end = h->arg_end;
	map.env_start = h->env_start;
	map.env_end = h->env_end;
	ret = prctl_mm_map_validate(&map);
	if (ret)
		return ckpt_err(ctx, ret, "bad mm boundaries");

	*exe = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(*exe))
		return PTR_ERR(*exe);
	return 0;
}

/*
 * The layout follows the stack limit and the personality
 * (ADDR_COMPAT_LAYOUT) of the image, as exec's does.
 */
void restore_mm_layout(struct ckpt_ctx *ctx, struct mm_struct *mm,
		       struct rlimit *rlim_stack)
{
	unsigned int personality = current->personality;

	mm->task_size = TASK_SIZE;
	current->personality = ctx->rst.task.personality;
	arch_pick_mmap_layout(mm, rlim_stack);
	current->personality = personality;
}

/* after the vmas: the mm boundaries and the vDSO */
int restore_mm_finish(struct ckpt_ctx *ctx, struct mm_struct *mm,
		      struct ckpt_hdr_mm *h)
{
	int ret = restore_sysv_shm_next(ctx, NULL);

	if (ret)
		return ret;
	mmap_write_lock(mm);
	mm->start_code = h->start_code;
	mm->end_code = h->end_code;
	mm->start_data = h->start_data;
	mm->end_data = h->end_data;
	mm->start_brk = h->start_brk;
	mm->brk = h->brk;
	mm->start_stack = h->start_stack;
	mm->arg_start = h->arg_start;
	mm->arg_end = h->arg_end;
	mm->env_start = h->env_start;
	mm->env_end = h->env_end;
	mm->def_flags = h->def_flags;
	mmap_write_unlock(mm);
	if (h->vdso && ckpt_arch_vdso(mm) != h->vdso)
		return ckpt_err(ctx, -EINVAL, "vdso at %llx not restored",
				h->vdso);
	return 0;
}

int restore_mm_build(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_mm h;
	struct rlimit rlim_stack;
	struct mm_struct *mm;
	unsigned long prev_end = 0, cow_end = 0;
	ktime_t t0;
	char *exe;
	int i, ret;

	ret = restore_mm_read(ctx, &h, &exe);
	if (ret)
		return ret;

	if (h.mm_flags & CKPT_MM_COW) {
		struct mm_struct *pmm = restore_tree_parent_mm(ctx);

		if (!pmm || ctx->rst.precopy) {
			kvfree(exe);
			return ckpt_err(ctx, -EINVAL,
					"mm of pid %d: a copy of its parent's, which is not restored before it",
					ctx->rst.task.pid);
		}
		mm = ckpt_dup_mm(pmm);
	} else {
		mm = mm_alloc();
	}
	if (!mm) {
		kvfree(exe);
		return -ENOMEM;
	}
	ctx->rst.new_mm = mm;
	rlim_stack.rlim_cur = ctx->rst.signal.rlim[RLIMIT_STACK].cur;
	rlim_stack.rlim_max = ctx->rst.signal.rlim[RLIMIT_STACK].max;
	restore_mm_layout(ctx, mm, &rlim_stack);
	ret = restore_mm_exe(ctx, mm, exe);
	kvfree(exe);
	if (ret)
		return ret;

	ctx->rst.old_mm = ckpt_switch_mm(mm, true);

	memset(&ctx->mstat, 0, sizeof(ctx->mstat));
	t0 = ktime_get();
	for (i = 0; i < h.map_count && !ret; i++)
		ret = restore_vma(ctx, mm, &prev_end,
				  h.mm_flags & CKPT_MM_COW ? &cow_end : NULL);
	if (!ret)
		ckpt_msg_mem(ctx, t0);
	if (!ret && h.mm_flags & CKPT_MM_COW)
		ret = restore_cow_unmap(ctx, cow_end, mm->task_size);
	if (!ret && !h.vdso && ckpt_arch_vdso(mm))
		ret = ckpt_err(ctx, -EINVAL, "vdso at %lx not in the image",
			       ckpt_arch_vdso(mm));
	if (ret)
		return ret;
	return restore_mm_finish(ctx, mm, &h);
}

/* restart failed: give the caller its own mm back */
void restore_mm_abort(struct ckpt_ctx *ctx)
{
	struct mm_struct *mm = ctx->rst.new_mm;

	if (ctx->rst.old_mm) {
		ckpt_switch_mm(ctx->rst.old_mm, false);
		ctx->rst.old_mm = NULL;
	}
	if (mm) {
		ctx->rst.new_mm = NULL;
		mmput(mm);
	}
}

/* restart succeeds: drop the caller's old mm */
void restore_mm_commit(struct ckpt_ctx *ctx)
{
	struct mm_struct *old = ctx->rst.old_mm, *mm = ctx->rst.new_mm;

	ctx->rst.old_mm = NULL;
	ctx->rst.new_mm = NULL;
	/*
	 * What exec_mmap() does for the old mm, in it: release its robust
	 * and PI futexes (waking their waiters), clear_child_tid.
	 */
	ckpt_switch_mm(old, false);
	exec_mm_release(current, old);
	ckpt_switch_mm(mm, false);
	setmax_mm_hiwater_rss(&current->signal->maxrss, old);
	mm_update_next_owner(old);
	mmput(old);
}
