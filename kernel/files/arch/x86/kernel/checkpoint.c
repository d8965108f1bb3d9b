// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: x86-64 registers, FPU/xstate and vDSO.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/unistd.h>
#include <linux/vmalloc.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/regset.h>
#include <asm/fpu/types.h>
#include <asm/fsgsbase.h>
#include <asm/pkru.h>
#include <asm/prctl.h>
#include <asm/proto.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/vdso.h>

#include "fpu/internal.h"
#include "fpu/xstate.h"

/* user-changeable flags, as ptrace allows (without TF and RF) */
#define CKPT_FLAG_MASK	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_DF | \
			 X86_EFLAGS_OF | X86_EFLAGS_AC)

/* smallest uabi XSAVE buffer: legacy area and header */
#define CKPT_XSTATE_MIN	(sizeof(struct fxregs_state) + \
			 sizeof(struct xstate_header))
#define CKPT_XSTATE_MAX	SZ_1M

int ckpt_arch_write_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header_arch h = { };

	h.xstate_size = fpu_user_cfg.max_size;
	h.xfeatures = fpu_user_cfg.max_features;
	h.vdso_size = vdso_image_64.size;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_HEADER_ARCH, sizeof(h));
}

static int ckpt_check_xfeatures(struct ckpt_ctx *ctx, u64 xfeatures)
{
	u64 missing = xfeatures & ~fpu_user_cfg.max_features;

	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"this CPU has no XSAVE: FPU state cannot be restored");
	if (missing)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"image needs xfeatures %#llx that this CPU lacks (image %#llx, CPU %#llx)",
				missing, xfeatures, fpu_user_cfg.max_features);
	return 0;
}

int ckpt_arch_read_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header_arch h;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_HEADER_ARCH, sizeof(h));
	if (ret)
		return ret;
	if (h.xstate_size < CKPT_XSTATE_MIN || h.xstate_size > CKPT_XSTATE_MAX ||
	    h.xstate_size % 8)
		return ckpt_err(ctx, -EINVAL, "bad xstate size %u",
				h.xstate_size);
	ctx->rst.xstate_size = h.xstate_size;
	return ckpt_check_xfeatures(ctx, h.xfeatures);
}

static int ckpt_write_fpu(struct ckpt_ctx *ctx, struct task_struct *t)
{
	unsigned int size = fpu_user_cfg.max_size;
	struct ckpt_hdr_fpu *h;
	struct membuf to;
	int ret;

	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"this CPU has no XSAVE: FPU state not supported");
	h = kvzalloc(sizeof(*h) + size, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	to.p = h + 1;
	to.left = size;
	ret = xstateregs_get(t, NULL, to);
	if (!ret) {
		h->size = size;
		h->xfeatures = ((struct xregs_state *)(h + 1))->header.xfeatures;
		ret = ckpt_write_obj(ctx, h, CKPT_HDR_FPU, sizeof(*h) + size);
	}
	kvfree(h);
	return ret;
}

/*
 * An epoll_wait() without a timeout that the freezer woke returns -EINTR
 * (epoll is never restarted by the signal code): it is saved as
 * -ERESTARTNOHAND, so that the restarted task waits again (and a signal
 * with a handler pending at restart still makes it return EINTR).  A wait
 * with a timeout returns EINTR, as it does after any freeze: its deadline
 * is gone with the call.
 */
static unsigned long ckpt_cpu_ax(struct pt_regs *regs)
{
	if ((long)regs->ax != -EINTR)
		return regs->ax;
	switch (regs->orig_ax) {
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
		if ((int)regs->r10 < 0)
			return -ERESTARTNOHAND;
		break;
	case __NR_epoll_pwait2:
		if (!regs->r10)
			return -ERESTARTNOHAND;
		break;
	}
	return regs->ax;
}

int ckpt_arch_write_cpu(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct pt_regs *regs = task_pt_regs(t);
	struct ckpt_hdr_cpu h = { };
	unsigned short ds, es, fs, gs;
	int i, ret;

	if (test_tsk_thread_flag(t, TIF_ADDR32) || !user_64bit_mode(regs))
		return ckpt_err(ctx, -EINVAL, "32-bit tasks are not supported");
	if (t == current) {
		savesegment(ds, ds);
		savesegment(es, es);
		savesegment(fs, fs);
		savesegment(gs, gs);
	} else {
		ds = t->thread.ds;
		es = t->thread.es;
		fs = t->thread.fsindex;
		gs = t->thread.gsindex;
	}
	if (fs || gs)
		return ckpt_err(ctx, -EINVAL,
				"fs/gs segment selectors are not supported");
	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++) {
		memcpy(&h.tls[i], &t->thread.tls_array[i], sizeof(h.tls[i]));
		if (h.tls[i])
			return ckpt_err(ctx, -EINVAL,
					"set_thread_area() TLS descriptors are not supported");
	}

	h.r15 = regs->r15;
	h.r14 = regs->r14;
	h.r13 = regs->r13;
	h.r12 = regs->r12;
	h.bp = regs->bp;
	h.bx = regs->bx;
	h.r11 = regs->r11;
	h.r10 = regs->r10;
	h.r9 = regs->r9;
	h.r8 = regs->r8;
	/* a self-checkpointed task returns 0 from checkpoint() on restart */
	h.ax = t == current ? 0 : ckpt_cpu_ax(regs);
	h.cx = regs->cx;
	h.dx = regs->dx;
	h.si = regs->si;
	h.di = regs->di;
	h.orig_ax = regs->orig_ax;
	h.ip = regs->ip;
	h.cs = regs->cs;
	h.flags = regs->flags;
	h.sp = regs->sp;
	h.ss = regs->ss;
	h.fs_base = x86_fsbase_read_task(t);
	h.gs_base = x86_gsbase_read_task(t);
	h.ds = ds;
	h.es = es;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_CPU, sizeof(h));
	if (!ret)
		ret = ckpt_write_fpu(ctx, t);
	return ret;
}

int ckpt_arch_read_cpu(struct ckpt_ctx *ctx)
{
	return ckpt_arch_read_cpu_into(ctx, &ctx->rst.cpu, &ctx->rst.fpu);
}

/* a CPU and an FPU record, of the leader or of another thread */
int ckpt_arch_read_cpu_into(struct ckpt_ctx *ctx, struct ckpt_hdr_cpu *h,
			    struct ckpt_hdr_fpu **pfpu)
{
	struct ckpt_hdr_fpu *hf;
	int i, ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_CPU, sizeof(*h));
	if (ret)
		return ret;
	if (h->cs != __USER_CS || h->ss != __USER_DS)
		return ckpt_err(ctx, -EINVAL, "bad cs/ss %llx/%llx: only 64-bit tasks",
				h->cs, h->ss);
	if (h->ip >= TASK_SIZE_MAX || h->ip < 2 || h->sp >= TASK_SIZE_MAX)
		return ckpt_err(ctx, -EINVAL, "bad ip/sp %llx/%llx",
				h->ip, h->sp);
	if (h->fs_base >= TASK_SIZE_MAX || h->gs_base >= TASK_SIZE_MAX)
		return ckpt_err(ctx, -EINVAL, "bad fs/gs base");
	if (h->fs || h->gs || (h->ds && h->ds != __USER_DS) ||
	    (h->es && h->es != __USER_DS))
		return ckpt_err(ctx, -EINVAL, "bad segment selectors");
	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
		if (h->tls[i])
			return ckpt_err(ctx, -EINVAL, "TLS descriptors not supported");

	hf = ckpt_read_obj_var(ctx, CKPT_HDR_FPU, sizeof(*hf) + CKPT_XSTATE_MIN,
			       sizeof(*hf) + ctx->rst.xstate_size);
	if (IS_ERR(hf))
		return PTR_ERR(hf);
	*pfpu = hf;
	if (hf->size != hf->h.len - sizeof(*hf))
		return ckpt_err(ctx, -EINVAL, "bad FPU record size %u", hf->size);
	return ckpt_check_xfeatures(ctx, hf->xfeatures);
}

/* check the FPU state by loading it into a copy of the caller's */
int ckpt_arch_prepare_fpu(struct ckpt_ctx *ctx)
{
	return ckpt_arch_prepare_fpu_into(ctx, ctx->rst.fpu, &ctx->rst.fpstate,
					  &ctx->rst.pkru);
}

int ckpt_arch_prepare_fpu_into(struct ckpt_ctx *ctx, struct ckpt_hdr_fpu *hf,
			       void **pfpstate, u32 *ppkru)
{
	struct fpu *fpu = &current->thread.fpu;
	struct fpstate *tmp;
	size_t size = offsetof(struct fpstate, regs) + fpu->fpstate->size;
	void *buf;
	u32 pkru = current->thread.pkru;
	int ret;

	buf = kvzalloc(fpu_user_cfg.max_size, GFP_KERNEL);
	tmp = vzalloc(size);
	if (!buf || !tmp) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(buf, hf + 1, min(hf->size, fpu_user_cfg.max_size));
	fpu_sync_fpstate(fpu);
	memcpy(tmp, fpu->fpstate, size);
	ret = copy_uabi_from_kernel_to_xstate(tmp, buf, &pkru);
	if (ret) {
		ckpt_err(ctx, ret, "invalid FPU state in image");
		goto out;
	}
	*pfpstate = tmp;
	*ppkru = pkru;
	tmp = NULL;
out:
	vfree(tmp);
	kvfree(buf);
	return ret;
}

static void ckpt_restore_fpu(struct fpstate *tmp, u32 pkru)
{
	struct fpu *fpu = &current->thread.fpu;

	fpregs_lock();
	memcpy(&fpu->fpstate->regs, &tmp->regs,
	       min(fpu->fpstate->size, tmp->size));
	current->thread.pkru = pkru;
	write_pkru(pkru);
	/* registers are stale: reload them on return to user mode */
	fpu->last_cpu = -1;
	set_thread_flag(TIF_NEED_FPU_LOAD);
	fpregs_unlock();
}

/*
 * Restore the registers; return what restart() returns, which is the
 * ax of the image.  A task frozen inside a system call has -ERESTART*
 * in ax (cgroup v2 freezer: signal path), or still the value that the
 * syscall entry leaves there, that of a syscall that does not exist
 * (v1 freezer: frozen in place in a TASK_FREEZABLE sleep).  Apply the
 * rules of signal delivery without a handler, so that the call is made
 * again: -ERESTART_RESTARTBLOCK resumes through restart_syscall() when the
 * image had the restart block (a sleep, with the time it had left), else
 * it restarts the original call.
 *
 * A process restored stopped (job control) goes through the signal code
 * before it reaches user mode: its stop is pending.  So does a task
 * restored with the temporary mask of a call (sigsuspend(), ppoll()...),
 * whose own mask the signal code restores.  Their call is left
 * with the -ERESTART* code for that code to apply the rule once the stop
 * ends, as for the original: a signal with a handler that came while it
 * was stopped makes the call return EINTR (or restarts it, SA_RESTART and
 * -ERESTARTNOINTR), no handler makes it start again.
 */
long ckpt_arch_restore_cpu(struct ckpt_ctx *ctx)
{
	return ckpt_arch_restore_regs(&ctx->rst.cpu, ctx->rst.fpstate,
				      ctx->rst.pkru,
				      ctx->rst.restart_block.kind !=
				      CKPT_RESTART_NONE,
				      (ctx->rst.signal.stop_flags &
				       CKPT_SIGNAL_STOPPED) ||
				      (ctx->rst.thread.flags &
				       CKPT_THREAD_TEMP_MASK));
}

/*
 * The same for any task restoring itself: the leader in restart(), or a
 * new thread in its kernel function (threads.c).
 */
long ckpt_arch_restore_regs(struct ckpt_hdr_cpu *h, void *fpstate, u32 pkru,
			    bool restart_block, bool via_signal)
{
	struct pt_regs *regs = current_pt_regs();
	long entry_ax = __x64_sys_ni_syscall(regs);
	long ret = h->ax;

	ckpt_restore_fpu(fpstate, pkru);

	regs->r15 = h->r15;
	regs->r14 = h->r14;
	regs->r13 = h->r13;
	regs->r12 = h->r12;
	regs->bp = h->bp;
	regs->bx = h->bx;
	regs->r11 = h->r11;
	regs->r10 = h->r10;
	regs->r9 = h->r9;
	regs->r8 = h->r8;
	regs->cx = h->cx;
	regs->dx = h->dx;
	regs->si = h->si;
	regs->di = h->di;
	regs->ip = h->ip;
	regs->sp = h->sp;
	regs->flags = (regs->flags & ~CKPT_FLAG_MASK) |
		      (h->flags & CKPT_FLAG_MASK);
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	do_arch_prctl_64(current, ARCH_SET_FS, h->fs_base);
	do_arch_prctl_64(current, ARCH_SET_GS, h->gs_base);

	/*
	 * The call's own number (or -1 in user mode): a signal that arrives
	 * before the task returns to user mode sees what it would have seen,
	 * never a user ax that happens to look like -ERESTART*.
	 */
	regs->orig_ax = h->orig_ax;
	if ((long)h->orig_ax >= 0) {
		if (ret == entry_ax)	/* frozen in place inside the call */
			ret = -ERESTARTNOINTR;
		/* without its restart block: the original call starts again */
		if (ret == -ERESTART_RESTARTBLOCK && !restart_block && via_signal)
			ret = -ERESTARTNOHAND;
		if (via_signal)
			goto out;
		switch (ret) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
		case -ERESTART_RESTARTBLOCK:
			regs->ip -= 2;
			ret = h->orig_ax;
			if ((long)h->ax == -ERESTART_RESTARTBLOCK &&
			    restart_block)
				ret = __NR_restart_syscall;
			break;
		}
	}
out:
	regs->ax = ret;
	return ret;
}

/* state of the arch part of the mm that is not saved: refused */
int ckpt_arch_check_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	mm_context_t *c = &ctx->mm->context;

	if (cpu_feature_enabled(X86_FEATURE_OSPKE) &&
	    (READ_ONCE(c->pkey_allocation_map) != 1 ||
	     READ_ONCE(c->execute_only_pkey) != -1))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: memory protection keys allocated (pkey_alloc(), map %#x): not supported",
				ctx->tsk_pid, READ_ONCE(c->pkey_allocation_map));
#endif
	return 0;
}

int ckpt_arch_vma_type(struct mm_struct *mm, struct vm_area_struct *vma)
{
	unsigned long vdso = (unsigned long)mm->context.vdso;

	if (!vdso || vma->vm_file || mm->context.vdso_image != &vdso_image_64)
		return 0;
	if (vma->vm_start == vdso)
		return CKPT_VMA_VDSO;
	if (vma->vm_start == vdso + vdso_image_64.sym_vvar_start)
		return CKPT_VMA_VVAR;
	return 0;
}

unsigned long ckpt_arch_vdso(struct mm_struct *mm)
{
	return (unsigned long)mm->context.vdso;
}

int ckpt_arch_map_vdso(struct ckpt_ctx *ctx, unsigned long start,
		       unsigned long end, int type)
{
	const struct vdso_image *image = &vdso_image_64;
	unsigned long vvar_size = -image->sym_vvar_start;
	unsigned long vdso;
	int ret;

	if (type == CKPT_VMA_VVAR) {
		if (end - start != vvar_size)
			return ckpt_err(ctx, -EINVAL,
					"vvar size %lu, this kernel's is %lu",
					end - start, vvar_size);
		ret = map_vdso_once(image, start);
		if (ret)
			return ckpt_err(ctx, ret, "cannot map vdso at %lx",
					start + vvar_size);
		vdso = (unsigned long)current->mm->context.vdso;
		if (vdso != start + vvar_size)
			return ckpt_err(ctx, -EINVAL,
					"vdso mapped at %lx instead of %lx",
					vdso, start + vvar_size);
		return 0;
	}
	if (end - start != image->size)
		return ckpt_err(ctx, -EINVAL,
				"vdso size %lu, this kernel's is %lu: images need the same kernel",
				end - start, image->size);
	if ((unsigned long)current->mm->context.vdso != start)
		return ckpt_err(ctx, -EINVAL, "vdso record without vvar");
	return 0;
}
