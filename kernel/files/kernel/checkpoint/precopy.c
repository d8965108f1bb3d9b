// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: pre-copy migration.
 *
 * checkpoint(pid, fd, CHECKPOINT_PRECOPY, logfd) writes a round: the
 * pages of the target's private vmas (those a checkpoint saves as page
 * arrays) while it runs.  Shared vmas are skipped: a named file keeps its
 * content, and the last pass writes a shmem object whole (SHMEM), never
 * as references to the rounds.  Round 0 has every page; each later
 * round only the pages written since the round before (soft-dirty: the
 * page tables are write-protected and their soft-dirty bits cleared
 * under the mmap lock, with the pages taken, then the pages are copied).
 * A vma that is new or changed since the last round (mmap, munmap,
 * mremap, mprotect: its range, offset or file differ, or it has
 * VM_SOFTDIRTY) counts as dirty throughout: mremap can move whole page
 * tables without marking them.
 *
 * checkpoint(pid, fd, CHECKPOINT_PRECOPY_LAST, logfd) of the frozen target
 * is a whole image (the authoritative layout) whose vmas carry the dirty
 * pages as page arrays and the others as CKPT_HDR_PGREF: references to
 * the rounds.  The rounds of a target's mm (a chain) are known here until
 * the last pass succeeds; a round that fails ends the chain (its bits
 * were cleared: the next round starts again from round 0).
 *
 * restart reads the rounds, oldest first, then their last pass, from one
 * stream: the restarting task can read the rounds while the target still
 * runs, and only the last pass is read once it is frozen.  The newest copy
 * of each page of the rounds is kept (charged to the caller's memcg) until
 * a PGREF of the last pass maps it into the new mm (copied into a
 * faulted-in page where it cannot be mapped); the rest is freed.  A round of
 * another chain, out of order or missing, a last pass of another chain or
 * with another number of rounds, or a reference that no round fills, fails
 * the restart (EINVAL).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pagewalk.h>
#include <linux/ptrace.h>
#include <linux/random.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/memcontrol.h>
#include <linux/timekeeping.h>
#include <linux/userfaultfd_k.h>
#include <linux/xarray.h>
#include <asm/tlbflush.h>

/* chains kept at once: the oldest idle one goes first */
#define CKPT_CHAINS_MAX	16

/* a vma as the last pass saw it */
struct ckpt_chain_vma {
	unsigned long start;
	unsigned long end;
	unsigned long pgoff;
	const void *file;	/* identity only: not referenced */
};

struct ckpt_chain {
	struct list_head list;
	struct mm_struct *mm;	/* mmgrab()bed */
	u64 id;
	u32 rounds;		/* rounds written */
	bool busy;		/* a pass runs */
	unsigned int nr_vmas;
	struct ckpt_chain_vma *vmas;
};

static LIST_HEAD(ckpt_chains);
static DEFINE_MUTEX(ckpt_chains_lock);

static void ckpt_chain_free(struct ckpt_chain *c)
{
	list_del(&c->list);
	mmdrop(c->mm);
	kvfree(c->vmas);
	kfree(c);
}

/* the chain of @mm, made if @create (and marked busy), under the lock */
static struct ckpt_chain *ckpt_chain_get(struct mm_struct *mm, bool create)
{
	struct ckpt_chain *c, *tmp, *idle = NULL;
	unsigned int n = 0;

	list_for_each_entry_safe(c, tmp, &ckpt_chains, list) {
		if (c->mm == mm)
			return c->busy ? ERR_PTR(-EBUSY) : c;
		if (!c->busy && !atomic_read(&c->mm->mm_users)) {
			ckpt_chain_free(c);
			continue;
		}
		n++;
		if (!c->busy)
			idle = c;	/* the list is newest first */
	}
	if (!create)
		return NULL;
	if (n >= CKPT_CHAINS_MAX) {
		if (!idle)
			return ERR_PTR(-EBUSY);
		ckpt_chain_free(idle);
	}
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	mmgrab(mm);
	c->mm = mm;
	c->id = get_random_u64();
	list_add(&c->list, &ckpt_chains);
	return c;
}

static bool ckpt_chain_vma_same(struct ckpt_chain *c, unsigned long start,
				unsigned long end, unsigned long pgoff,
				const void *file)
{
	unsigned int lo = 0, hi = c->nr_vmas;

	/* sorted by address */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct ckpt_chain_vma *v = &c->vmas[mid];

		if (v->start == start)
			return v->end == end && v->pgoff == pgoff &&
			       v->file == file;
		if (v->start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* a page of a tracked vma whose soft-dirty bit cannot be cleared */
static bool ckpt_page_pinned(struct vm_area_struct *vma, pte_t pte,
			     struct page *page)
{
	return pte_write(pte) && is_cow_mapping(vma->vm_flags) &&
	       test_bit(MMF_HAS_PINNED, &vma->vm_mm->flags) &&
	       page_maybe_dma_pinned(page);
}

/* checkpoint: the last pass */

/* the pages of @mm are a delta: it is the pre-copied one (of a tree's root) */
bool checkpoint_precopy_delta(struct ckpt_ctx *ctx, struct mm_struct *mm)
{
	return ctx->chain && ctx->chain->mm == mm;
}

bool checkpoint_precopy_vma_dirty(struct ckpt_ctx *ctx, unsigned long start,
				  unsigned long end, unsigned long pgoff,
				  struct file *file, bool softdirty)
{
	return softdirty ||
	       !ckpt_chain_vma_same(ctx->chain, start, end, pgoff, file);
}

bool checkpoint_precopy_page_dirty(struct vm_area_struct *vma,
				   unsigned long addr, pte_t pte,
				   struct page *page)
{
	return pte_soft_dirty(pte) || ckpt_page_pinned(vma, pte, page);
}

/* the frozen target's chain, for CHECKPOINT_PRECOPY_LAST */
int checkpoint_precopy_start(struct ckpt_ctx *ctx)
{
	struct ckpt_chain *c;

	mutex_lock(&ckpt_chains_lock);
	c = ckpt_chain_get(ctx->mm, false);
	if (!IS_ERR_OR_NULL(c)) {
		if (c->rounds)
			c->busy = true;
		else
			c = NULL;
	}
	mutex_unlock(&ckpt_chains_lock);
	if (!c)
		return ckpt_err(ctx, -ENOENT,
				"pid %d: no pre-copy round of its memory (CHECKPOINT_PRECOPY first)",
				ctx->tsk_pid);
	if (IS_ERR(c))
		return ckpt_err(ctx, PTR_ERR(c),
				"pid %d: a pre-copy pass of its memory is running",
				ctx->tsk_pid);
	ctx->chain = c;
	return 0;
}

static int checkpoint_precopy_hdr(struct ckpt_ctx *ctx, u32 round)
{
	struct ckpt_hdr_precopy h = { .chain = ctx->chain->id, .round = round };

	return ckpt_write_obj(ctx, &h, CKPT_HDR_PRECOPY, sizeof(h));
}

int checkpoint_precopy_record(struct ckpt_ctx *ctx)
{
	return checkpoint_precopy_hdr(ctx, ctx->chain->rounds);
}

/*
 * After the last pass: a whole image ends the chain; a failed one keeps
 * it (nothing was cleared), so that the caller may thaw and try again.
 */
void checkpoint_precopy_end(struct ckpt_ctx *ctx, bool ok)
{
	mutex_lock(&ckpt_chains_lock);
	if (ok)
		ckpt_chain_free(ctx->chain);
	else
		ctx->chain->busy = false;
	mutex_unlock(&ckpt_chains_lock);
	ctx->chain = NULL;
}

/* checkpoint: a round */

struct ckpt_round {
	u64 *addrs;
	struct page **pages;
	unsigned int nr;
	unsigned int max;
	bool vdirty;		/* every page of the vma */
	int type;
	unsigned long next;	/* where a full array stopped the walk */
	unsigned long busy;	/* a swapped-out or migrating page */
};

static int ckpt_round_pte(pte_t *pte, unsigned long addr, unsigned long next,
			  struct mm_walk *walk)
{
	struct ckpt_round *r = walk->private;
	struct vm_area_struct *vma = walk->vma;
	pte_t ptent = ptep_get(pte), old;
	struct page *page;
	bool pinned;

	if (pte_none(ptent))
		return 0;
	if (!pte_present(ptent)) {
		r->busy = addr;
		return -EBUSY;
	}
	page = vm_normal_page(vma, addr, ptent);
	if (!page || (r->type == CKPT_VMA_FILE && !PageAnon(page)))
		return 0;
	if (r->nr == r->max) {
		r->next = addr;
		return 1;
	}
	pinned = ckpt_page_pinned(vma, ptent, page);
	if (r->vdirty || pinned || pte_soft_dirty(ptent)) {
		get_page(page);
		r->addrs[r->nr] = addr;
		r->pages[r->nr++] = page;
	}
	/* as clear_refs' clear_soft_dirty(): the next write faults */
	if (!pinned && (pte_write(ptent) || pte_soft_dirty(ptent))) {
		old = ptep_modify_prot_start(vma, addr, pte);
		ptent = pte_clear_soft_dirty(pte_wrprotect(old));
		ptep_modify_prot_commit(vma, addr, pte, old, ptent);
	}
	return 0;
}

static const struct mm_walk_ops ckpt_round_ops = {
	.pte_entry = ckpt_round_pte,
};

static int ckpt_round_grow(struct ckpt_round *r)
{
	unsigned int max = r->max ? r->max * 2 : 4096;
	u64 *addrs;
	struct page **pages;

	addrs = kvrealloc(r->addrs, r->max * sizeof(*addrs),
			  max * sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	r->addrs = addrs;
	pages = kvrealloc(r->pages, r->max * sizeof(*pages),
			  max * sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	r->pages = pages;
	r->max = max;
	return 0;
}

/*
 * Under the mmap write lock (no fault, no layout change meanwhile): take
 * the dirty pages of every saved vma, clear their soft-dirty state, and
 * note the layout in the chain.
 */
static int ckpt_round_collect(struct ckpt_ctx *ctx, struct ckpt_round *r,
			      bool first)
{
	struct ckpt_chain *c = ctx->chain;
	struct mm_struct *mm = ctx->mm;
	struct mmu_notifier_range range;
	struct ckpt_chain_vma *vmas;
	struct vm_area_struct *vma;
	unsigned long addr;
	unsigned int n = 0;
	int ret;

	VMA_ITERATOR(vmi, mm, 0);
	ret = mmap_write_lock_killable(mm);
	if (ret)
		return ret;
	vmas = kvcalloc(mm->map_count + 1, sizeof(*vmas), GFP_KERNEL);
	if (!vmas) {
		mmap_write_unlock(mm);
		return -ENOMEM;
	}
	inc_tlb_flush_pending(mm);
	mmu_notifier_range_init(&range, MMU_NOTIFY_SOFT_DIRTY, 0, NULL, mm, 0,
				-1UL);
	mmu_notifier_invalidate_range_start(&range);
	for_each_vma(vmi, vma) {
		r->type = ckpt_vma_kind(mm, vma);
		if (!r->type || n >= mm->map_count)
			continue;
		r->vdirty = first || (vma->vm_flags & VM_SOFTDIRTY) ||
			    !ckpt_chain_vma_same(c, vma->vm_start, vma->vm_end,
						 vma->vm_pgoff, vma->vm_file);
		vmas[n].start = vma->vm_start;
		vmas[n].end = vma->vm_end;
		vmas[n].pgoff = vma->vm_pgoff;
		vmas[n].file = vma->vm_file;
		n++;
		if (vma->vm_flags & VM_SOFTDIRTY) {
			vma->vm_flags &= ~VM_SOFTDIRTY;
			vma_set_page_prot(vma);
		}
		if (!vma->anon_vma)
			continue;
		addr = vma->vm_start;
		for (;;) {
			ret = walk_page_range(mm, addr, vma->vm_end,
					      &ckpt_round_ops, r);
			if (ret != 1)
				break;
			addr = r->next;
			ret = ckpt_round_grow(r);
			if (ret)
				break;
		}
		if (ret)
			break;
	}
	mmu_notifier_invalidate_range_end(&range);
	flush_tlb_mm(mm);
	dec_tlb_flush_pending(mm);
	mmap_write_unlock(mm);
	if (ret == -EBUSY)
		ret = ckpt_err(ctx, ret, "page at %lx is swapped out or migrating",
			       r->busy);
	if (ret) {
		kvfree(vmas);
		return ret;
	}
	kvfree(c->vmas);
	c->vmas = vmas;
	c->nr_vmas = n;
	return 0;
}

static int ckpt_round_write(struct ckpt_ctx *ctx, struct ckpt_round *r)
{
	struct ckpt_pgarr *pa;
	unsigned int i, n;
	int ret = 0;

	pa = kvmalloc(sizeof(*pa), GFP_KERNEL);
	if (!pa)
		return -ENOMEM;
	for (i = 0; i < r->nr && !ret; i += n) {
		n = min_t(unsigned int, r->nr - i, CKPT_PGARR_MAX);
		memcpy(pa->addrs, r->addrs + i, n * sizeof(u64));
		memcpy(pa->pages, r->pages + i, n * sizeof(struct page *));
		ret = checkpoint_pgarr(ctx, pa, n);
		cond_resched();
	}
	if (!ret)
		ret = checkpoint_pgarr(ctx, pa, 0);
	kvfree(pa);
	return ret;
}

/* the target, running or not: what checkpoint_get_target() checks first */
static int ckpt_round_target(struct ckpt_ctx *ctx, pid_t pid)
{
	struct task_struct *t;
	bool allowed, self;
	int err;

	t = checkpoint_find_task(pid, &self);
	if (!t)
		return ckpt_err(ctx, -ESRCH, "no task with pid %d", pid);
	ctx->tsk = t;
	ctx->tsk_pid = task_pid_vnr(t);
	err = down_read_killable(&t->signal->exec_update_lock);
	if (err)
		return err;
	allowed = ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS);
	if (allowed)
		ctx->mm = get_task_mm(t);
	up_read(&t->signal->exec_update_lock);
	if (!allowed)
		return ckpt_err(ctx, -EPERM, "no permission to checkpoint pid %d",
				pid);
	if (t->flags & (PF_KTHREAD | PF_EXITING) || !ctx->mm)
		return ckpt_err(ctx, -EINVAL, "pid %d is a kernel thread or exiting",
				pid);
	return 0;
}

long do_checkpoint_precopy(struct ckpt_ctx *ctx, pid_t pid)
{
	struct ckpt_round r = { };
	struct ckpt_chain *c;
	unsigned int i;
	u32 round = 0;
	long ret;

	ret = ckpt_round_target(ctx, pid);
	if (!ret) {
		mutex_lock(&ckpt_chains_lock);
		c = ckpt_chain_get(ctx->mm, true);
		if (!IS_ERR(c)) {
			c->busy = true;
			round = c->rounds;
			ctx->chain = c;
		}
		mutex_unlock(&ckpt_chains_lock);
		if (IS_ERR(c))
			ret = ckpt_err(ctx, PTR_ERR(c), "pid %d: %s", ctx->tsk_pid,
				       PTR_ERR(c) == -EBUSY ?
				       "a pre-copy pass of its memory is running" :
				       "no memory for a pre-copy chain");
	}
	if (!ret)
		ret = ckpt_round_grow(&r);
	if (!ret)
		ret = ckpt_round_collect(ctx, &r, round == 0);
	if (!ret)
		ret = checkpoint_write_header(ctx);
	if (!ret)
		ret = checkpoint_precopy_hdr(ctx, round);
	if (!ret)
		ret = ckpt_round_write(ctx, &r);
	if (!ret)
		ret = checkpoint_write_tail(ctx);
	for (i = 0; i < r.nr; i++)
		put_page(r.pages[i]);
	kvfree(r.addrs);
	kvfree(r.pages);
	if (ctx->chain) {
		mutex_lock(&ckpt_chains_lock);
		if (ret) {
			/* soft-dirty bits were cleared: start again */
			ckpt_chain_free(ctx->chain);
		} else {
			ctx->chain->rounds++;
			ctx->chain->busy = false;
		}
		mutex_unlock(&ckpt_chains_lock);
		ctx->chain = NULL;
	}
	if (!ret)
		ckpt_msg(ctx, "checkpoint: pid %d: pre-copy round %u: %u pages, %llu bytes",
			 ctx->tsk_pid, round, r.nr, ctx->total);
	else if (!ctx->err)
		ckpt_err(ctx, ret, "pre-copy round failed after %llu bytes",
			 ctx->total);
	if (ctx->mm)
		mmput(ctx->mm);
	ctx->mm = NULL;
	if (ctx->tsk)
		put_task_struct(ctx->tsk);
	ctx->tsk = NULL;
	return ret ? ret : round;
}

/* restart */

/* a round's page array: its pages are kept, a newer copy replacing an older */
static int restore_round_pgarr(struct ckpt_ctx *ctx, u64 nr, u64 *addrs,
			       u64 *next)
{
	struct ckpt_hdr h;
	unsigned int i;
	int ret;

	if (nr > CKPT_PGARR_MAX)
		return ckpt_err(ctx, -EINVAL, "page array too large: %llu", nr);
	ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER, sizeof(h) + nr * sizeof(u64),
			    sizeof(h) + nr * sizeof(u64));
	if (!ret)
		ret = ckpt_kread(ctx, addrs, nr * sizeof(u64));
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		if (addrs[i] < *next || addrs[i] >= TASK_SIZE_MAX ||
		    offset_in_page(addrs[i]))
			return ckpt_err(ctx, -EINVAL,
					"pre-copy round: bad page address %llx",
					addrs[i]);
		*next = addrs[i] + PAGE_SIZE;
	}
	ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER, sizeof(h) + nr * PAGE_SIZE,
			    sizeof(h) + nr * PAGE_SIZE);
	for (i = 0; i < nr && !ret; i++) {
		struct page *page, *old;
		void *kaddr;

		/* a page of the new mm to be, charged to the caller's memcg */
		page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
		if (!page)
			return -ENOMEM;
		if (mem_cgroup_charge(page_folio(page), current->mm, GFP_KERNEL)) {
			put_page(page);
			return ckpt_err(ctx, -ENOMEM,
					"pre-copy: no memory for the pages of the rounds");
		}
		kaddr = kmap_local_page(page);
		ret = ckpt_kread(ctx, kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
		old = ret ? NULL : xa_store(&ctx->rst.precopy_pages,
					    addrs[i] >> PAGE_SHIFT, page,
					    GFP_KERNEL_ACCOUNT);
		if (ret || xa_is_err(old)) {
			put_page(page);
			return ret ?: xa_err(old);
		}
		if (old)
			put_page(old);
		else
			ctx->rst.precopy_nr++;
	}
	return ret;
}

/* a round, after its header: PRECOPY, page arrays, tail */
static int restore_round(struct ckpt_ctx *ctx, u32 round, u64 *addrs)
{
	struct ckpt_hdr_precopy h;
	struct ckpt_hdr_pgarr hp;
	u64 next = 0;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_PRECOPY, sizeof(h));
	if (ret)
		return ret;
	if (!round)
		ctx->rst.precopy_chain = h.chain;
	else if (h.chain != ctx->rst.precopy_chain)
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: round %u of another migration (chain %llx, expected %llx)",
				h.round, h.chain, ctx->rst.precopy_chain);
	if (h.round != round || h._padding)
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: round %u where round %u was expected",
				h.round, round);
	for (;;) {
		ret = ckpt_read_obj(ctx, &hp, CKPT_HDR_PGARR, sizeof(hp));
		if (ret || !hp.nr_pages)
			break;
		ret = restore_round_pgarr(ctx, hp.nr_pages, addrs, &next);
		if (ret)
			break;
		cond_resched();
	}
	if (!ret)
		ret = restore_read_tail(ctx);
	return ret;
}

/*
 * After the first header: the rounds of a pre-copy, oldest first, each a
 * whole image with its own checksum, and the header and PRECOPY record of
 * their last pass.  The pages of the rounds are kept (the newest copy of
 * each) for the PGREF records of the last pass.
 */
int restore_precopy_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_precopy h;
	u32 round = 0;
	u64 *addrs;
	int ret = 0;

	if (!(ctx->rst.img_uflags & (CHECKPOINT_PRECOPY | CHECKPOINT_PRECOPY_LAST)))
		return 0;
	addrs = kmalloc_array(CKPT_PGARR_MAX, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	xa_init(&ctx->rst.precopy_pages);
	ctx->rst.precopy_xa = true;
	while (!ret && (ctx->rst.img_uflags & CHECKPOINT_PRECOPY)) {
		ret = restore_round(ctx, round++, addrs);
		if (!ret) {
			memset(&ctx->csum, 0, sizeof(ctx->csum));
			ret = restore_read_header(ctx);
		}
	}
	kfree(addrs);
	if (ret)
		return ret;
	if (!(ctx->rst.img_uflags & CHECKPOINT_PRECOPY_LAST))
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: %u rounds followed by an image that is not their last pass",
				round);
	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_PRECOPY, sizeof(h));
	if (ret)
		return ret;
	if (!round)
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: a last pass without its rounds before it");
	if (h.chain != ctx->rst.precopy_chain)
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: last pass of another migration (chain %llx, rounds of %llx)",
				h.chain, ctx->rst.precopy_chain);
	if (h.round != round || h._padding)
		return ckpt_err(ctx, -EINVAL,
				"pre-copy: the last pass follows %u rounds, it has %u",
				round, h.round);
	ckpt_msg(ctx, "restart: %u pre-copy rounds read", round);
	ctx->rst.precopy = true;
	ctx->rst.precopy_t0 = ktime_get();
	return 0;
}

/* pages pinned per call: a run of contiguous addresses of a PGREF */
#define CKPT_REF_BATCH	32

/*
 * Map the kept page @page itself at @addr of the new mm (under its mmap
 * lock), as UFFDIO_COPY maps the page it filled: no fault, no copy.  0, or
 * an error and the caller copies it instead.  Also restart's way to map
 * the pages it read (memory.c).
 */
int restore_precopy_map(struct mm_struct *mm, unsigned long addr,
			struct page *page)
{
#ifdef CONFIG_USERFAULTFD
	struct vm_area_struct *vma = vma_lookup(mm, addr);
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (!vma || (vma->vm_flags & (VM_SHARED | VM_LOCKED)) ||
	    unlikely(anon_vma_prepare(vma)))
		return -EAGAIN;
	pgd = pgd_offset(mm, addr);
	p4d = p4d_alloc(mm, pgd, addr);
	pud = p4d ? pud_alloc(mm, p4d, addr) : NULL;
	pmd = pud ? pmd_alloc(mm, pud, addr) : NULL;
	if (!pmd || pmd_trans_huge(*pmd) ||
	    (unlikely(pmd_none(*pmd)) && unlikely(__pte_alloc(mm, pmd))) ||
	    unlikely(pmd_trans_huge(*pmd)))
		return -EAGAIN;
	/* charged when it was read */
	__SetPageUptodate(page);
	return mfill_atomic_install_pte(mm, pmd, vma, addr, page, true, false);
#else
	return -EAGAIN;
#endif
}

/* @n PGREF pages from @addr on: the newest copies the rounds have */
static int restore_precopy_run(struct ckpt_ctx *ctx, struct mm_struct *mm,
			       u64 addr, unsigned int n)
{
	struct page *src[CKPT_REF_BATCH], *page;
	unsigned int i, done = 0;
	long got;
	int ret = 0;

	for (i = 0; i < n; i++) {
		src[i] = xa_erase(&ctx->rst.precopy_pages,
				  (addr >> PAGE_SHIFT) + i);
		if (!src[i]) {
			ret = ckpt_err(ctx, -EINVAL,
				       "pre-copy: page %llx is in none of the rounds (or referred to twice)",
				       addr + i * PAGE_SIZE);
			break;
		}
		ctx->rst.precopy_nr--;
	}
	if (!ret)
		ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out;
	for (; done < n; done++) {
		/* mapped: the page is the mm's now */
		if (!restore_precopy_map(mm, addr + done * PAGE_SIZE, src[done])) {
			src[done] = NULL;
			continue;
		}
		got = pin_user_pages_remote(mm, addr + done * PAGE_SIZE, 1,
					    FOLL_WRITE | FOLL_FORCE, &page,
					    NULL, NULL);
		if (got != 1) {
			ret = ckpt_err(ctx, got < 0 ? got : -EFAULT,
				       "cannot populate page %llx",
				       addr + done * PAGE_SIZE);
			break;
		}
		copy_highpage(page, src[done]);
		unpin_user_pages_dirty_lock(&page, 1, true);
	}
	mmap_read_unlock(mm);
out:
	while (i-- > 0)
		if (src[i])
			put_page(src[i]);
	return ret;
}

/* the pages of a PGREF record (addresses checked, increasing) */
int restore_precopy_refs(struct ckpt_ctx *ctx, struct mm_struct *mm,
			 const u64 *addrs, unsigned int nr)
{
	unsigned int i, n;
	int ret = 0;

	for (i = 0; i < nr && !ret; i += n) {
		for (n = 1; i + n < nr && n < CKPT_REF_BATCH &&
		     addrs[i + n] == addrs[i] + n * PAGE_SIZE; n++)
			;
		ret = restore_precopy_run(ctx, mm, addrs[i], n);
	}
	return ret;
}

void restore_precopy_free(struct ckpt_ctx *ctx)
{
	struct page *page;
	unsigned long index;

	if (!ctx->rst.precopy_xa)
		return;
	xa_for_each(&ctx->rst.precopy_pages, index, page)
		put_page(page);
	xa_destroy(&ctx->rst.precopy_pages);
	ctx->rst.precopy_xa = false;
}
