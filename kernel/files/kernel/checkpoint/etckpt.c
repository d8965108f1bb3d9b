// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: restore a task by execve() of an ET_CKPT file.
 *
 * An ET_CKPT file is an ELF file whose program headers carry the records
 * of a checkpoint image: PT_CKPT_CORE the task (header, registers, FPU,
 * signal state, mm boundaries), one PT_CKPT_VMA per memory area, each
 * followed by a PT_CKPT_PAGES with its pages when it has any.  The
 * segments follow each other in the file, in the order of their program
 * headers, and a TAIL record after the last one holds the checksum of
 * them all: read in that order they are a stream that the record readers
 * of restart(2) check as they check an image.
 *
 * Exec semantics: the credentials are the caller's as exec computes them
 * (a setuid, setgid or file-capability ET_CKPT file is refused), noexec
 * mounts are refused by the exec code, /proc/PID/exe is the ET_CKPT file.
 * The whole file is read, checked and the new mm built (in bprm->mm, as
 * restart(2) builds it) before begin_new_exec(): until then a failure
 * returns its errno to the caller, unchanged.
 */
#define pr_fmt(fmt) "etckpt: " fmt

#include <linux/binfmts.h>
#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/elf.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/task_work.h>
#include <uapi/linux/elf_ckpt.h>
#include <asm/processor.h>

static_assert(PT_LOOS + PT_CKPT_OFFSET + 1 == PT_CKPT_VMA);

/* e_phnum is 16 bits; PN_XNUM (extended numbering) is not used */
#define ETCKPT_MAX_PHNUM	(PN_XNUM - 1)
#define ETCKPT_PF_MASK		(PF_R | PF_W | PF_X)
/* descriptors of mapped files passed by the caller: not its stdio */
#define ETCKPT_FD_MIN		3
#define ETCKPT_FD_MAX		INT_MAX

/* what the execve() return value and rseq_execve() overwrite */
struct etckpt_late {
	struct callback_head work;
	long ax;
	u64 rseq;
	u32 rseq_sig;
};

static int etckpt_check_ehdr(const struct elf64_hdr *e)
{
	if (memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_type != ET_CKPT)
		return -ENOEXEC;
	if (e->e_machine != EM_X86_64 || e->e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	if (e->e_ident[EI_DATA] != ELFDATA2LSB ||
	    e->e_ident[EI_VERSION] != EV_CURRENT ||
	    e->e_ident[EI_OSABI] != ELFOSABI_NONE ||
	    memchr_inv(e->e_ident + EI_PAD, 0, EI_NIDENT - EI_PAD) ||
	    e->e_version != EV_CURRENT || e->e_ehsize != sizeof(*e) ||
	    e->e_phoff != sizeof(*e) ||
	    e->e_phentsize != sizeof(struct elf64_phdr) ||
	    e->e_phnum < 1 || e->e_phnum > ETCKPT_MAX_PHNUM ||
	    e->e_flags || e->e_shoff || e->e_shentsize || e->e_shnum ||
	    e->e_shstrndx)
		return -EINVAL;
	return 0;
}

static u32 etckpt_pflags(u64 vm_flags)
{
	return (vm_flags & VM_READ ? PF_R : 0) |
	       (vm_flags & VM_WRITE ? PF_W : 0) |
	       (vm_flags & VM_EXEC ? PF_X : 0);
}

/*
 * The program headers: a PT_CKPT_CORE, then PT_CKPT_VMAs, each followed
 * by a PT_CKPT_PAGES of the same range when it has pages; segments back to
 * back from the end of the headers, 8-byte multiples; the tail after them
 * ends the file.  Returns the number of VMAs, or an errno.
 */
static int etckpt_check_phdrs(struct ckpt_ctx *ctx, const struct elf64_phdr *ph,
			      int phnum, loff_t size, loff_t *tail)
{
	u64 next = sizeof(struct elf64_hdr) + (u64)phnum * sizeof(*ph);
	u64 prev_end = 0;
	int i, nvma = 0;

	for (i = 0; i < phnum; i++) {
		const struct elf64_phdr *p = &ph[i];
		bool core = i == 0, pages = p->p_type == PT_CKPT_PAGES;
		bool ok = core ? p->p_type == PT_CKPT_CORE :
			  p->p_type == PT_CKPT_VMA ||
			  (pages && ph[i - 1].p_type == PT_CKPT_VMA);

		if (!ok)
			return ckpt_err(ctx, -EINVAL,
					"program header %d: type %#x out of place",
					i, p->p_type);
		if (p->p_offset != next || p->p_filesz % 8 || !p->p_filesz ||
		    p->p_filesz > size || p->p_offset > size - p->p_filesz ||
		    p->p_align != 8 ||
		    (p->p_paddr && (p->p_type != PT_CKPT_VMA ||
				    p->p_paddr < ETCKPT_FD_MIN + 1 ||
				    p->p_paddr > (u64)ETCKPT_FD_MAX + 1)))
			return ckpt_err(ctx, -EINVAL,
					"program header %d: bad segment (offset %llu, size %llu)",
					i, p->p_offset, p->p_filesz);
		next = p->p_offset + p->p_filesz;
		if (core) {
			if (p->p_vaddr || p->p_memsz || p->p_flags)
				return ckpt_err(ctx, -EINVAL,
						"core program header: bad fields");
			continue;
		}
		if (pages) {
			if (p->p_vaddr != ph[i - 1].p_vaddr ||
			    p->p_memsz != ph[i - 1].p_memsz ||
			    p->p_flags != ph[i - 1].p_flags)
				return ckpt_err(ctx, -EINVAL,
						"program header %d: pages of another range",
						i);
			continue;
		}
		if (!p->p_memsz || offset_in_page(p->p_vaddr) ||
		    offset_in_page(p->p_memsz) || p->p_vaddr < prev_end ||
		    p->p_memsz > TASK_SIZE || p->p_vaddr > TASK_SIZE - p->p_memsz ||
		    p->p_flags & ~ETCKPT_PF_MASK)
			return ckpt_err(ctx, -EINVAL,
					"program header %d: bad memory area %llx+%llx",
					i, p->p_vaddr, p->p_memsz);
		prev_end = p->p_vaddr + p->p_memsz;
		nvma++;
	}
	if (next + sizeof(struct ckpt_hdr_tail) != size)
		return ckpt_err(ctx, -EINVAL,
				"file of %lld bytes, segments and tail end at %llu",
				size, next + sizeof(struct ckpt_hdr_tail));
	*tail = next;
	return nvma;
}

/* the task's records, as restart(2) reads them: no credentials, rlimits, files */
static int etckpt_read_core(struct ckpt_ctx *ctx, struct ckpt_hdr_mm *mmh)
{
	struct ckpt_hdr_task *h = &ctx->rst.task;
	char *exe = NULL;
	int ret;

	ret = restore_read_header(ctx);
	if (!ret)
		ret = ckpt_read_obj(ctx, h, CKPT_HDR_TASK, sizeof(*h));
	if (!ret)
		ret = restore_task_check(ctx);
	if (ret)
		return ret;
	h->comm[sizeof(h->comm) - 1] = '\0';
	ret = restore_read_thread(ctx);
	if (!ret)
		ret = ckpt_arch_read_cpu(ctx);
	if (!ret)
		ret = restore_read_sighand(ctx);
	if (!ret)
		ret = restore_sigpending_read(ctx);
	if (!ret)
		ret = restore_timers_read(ctx);
	if (!ret)
		ret = restore_restart_block_read(ctx);
	if (!ret)
		ret = restore_auxv_read(ctx);
	if (!ret)
		ret = restore_mm_read(ctx, mmh, &exe);
	if (!ret && mmh->mm_flags & CKPT_MM_COW)
		ret = ckpt_err(ctx, -EINVAL,
			       "mm: a copy of a parent's (a tree's): not an ET_CKPT image");
	/* informative: /proc/PID/exe is the ET_CKPT file */
	if (!IS_ERR_OR_NULL(exe))
		kvfree(exe);
	return ret;
}

/* the VMA record of a PT_CKPT_VMA must say what its program header says */
static int etckpt_check_vma(struct ckpt_ctx *ctx, struct file *file,
			    const struct elf64_phdr *p, bool has_pages)
{
	struct ckpt_hdr_vma v;
	struct ckpt_hdr s;
	loff_t pos = p->p_offset;
	u64 len = sizeof(v);
	bool file_vma;

	if (kernel_read(file, &v, sizeof(v), &pos) != sizeof(v))
		return ckpt_err(ctx, -EINVAL, "cannot read vma at %llu",
				p->p_offset);
	if (v.h.type != CKPT_HDR_VMA || v.h.len != sizeof(v) ||
	    v.vm_start != p->p_vaddr || v.vm_end != p->p_vaddr + p->p_memsz ||
	    etckpt_pflags(v.vm_flags) != p->p_flags)
		return ckpt_err(ctx, -EINVAL,
				"vma at %llu: not the area %llx+%llx of its program header",
				p->p_offset, p->p_vaddr, p->p_memsz);
	if (v.vma_type == CKPT_VMA_AIO)
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: an ET_CKPT file cannot carry an aio context",
				v.vm_start, v.vm_end);
	file_vma = v.vma_type == CKPT_VMA_FILE ||
		   v.vma_type == CKPT_VMA_SHARED_FILE;
	if (file_vma) {
		if (kernel_read(file, &s, sizeof(s), &pos) != sizeof(s) ||
		    s.type != CKPT_HDR_STRING || s.len < sizeof(s) + 1)
			return ckpt_err(ctx, -EINVAL,
					"vma %llx-%llx: no path", v.vm_start,
					v.vm_end);
		len += ALIGN((u64)s.len, CKPT_HDR_ALIGN);
	}
	if (p->p_paddr && !file_vma)
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: a descriptor for a mapping of no file",
				v.vm_start, v.vm_end);
	if (len != p->p_filesz)
		return ckpt_err(ctx, -EINVAL,
				"vma %llx-%llx: segment of %llu bytes, records of %llu",
				v.vm_start, v.vm_end, p->p_filesz, len);
	/* restore_vma() reads pages for the private mappings only */
	if (has_pages != (v.vma_type == CKPT_VMA_ANON ||
			  v.vma_type == CKPT_VMA_FILE))
		return ckpt_err(ctx, -EINVAL, "vma %llx-%llx: pages %s",
				v.vm_start, v.vm_end,
				has_pages ? "of a mapping without" : "missing");
	return 0;
}

/*
 * Build the image's address space in bprm->mm, with restart(2)'s code:
 * current uses it meanwhile (vm_mmap(), the vDSO), then switches back.
 */
static int etckpt_build_mm(struct ckpt_ctx *ctx, struct linux_binprm *bprm,
			   const struct elf64_phdr *ph, int phnum,
			   struct ckpt_hdr_mm *mmh)
{
	struct mm_struct *mm = bprm->mm, *old;
	unsigned long start, end, prev_end = 0;
	int i, ret = 0;

	restore_mm_layout(ctx, mm, &bprm->rlim_stack);
	old = ckpt_switch_mm(mm, false);
	/* the argument stack of the exec: nothing of it is used */
	mmap_read_lock(mm);
	start = bprm->vma->vm_start;
	end = bprm->vma->vm_end;
	mmap_read_unlock(mm);
	ret = vm_munmap(start, end - start);
	bprm->vma = NULL;
	for (i = 1; i < phnum && !ret; i++) {
		bool has_pages = i + 1 < phnum &&
				 ph[i + 1].p_type == PT_CKPT_PAGES;
		u64 end_pos;

		if (ph[i].p_type != PT_CKPT_VMA)
			continue;
		ret = etckpt_check_vma(ctx, bprm->file, &ph[i], has_pages);
		if (ret)
			break;
		if (ctx->pos != ph[i].p_offset)
			ret = ckpt_err(ctx, -EINVAL, "vma at %llu: stream at %llu",
				       ph[i].p_offset, ctx->pos);
		if (!ret && ph[i].p_paddr) {
			/* the seed's way: the caller opened the file */
			ctx->rst.vma_file = fget(ph[i].p_paddr - 1);
			if (!ctx->rst.vma_file)
				ret = ckpt_err(ctx, -EBADF,
					       "vma %llx+%llx: descriptor %llu not open (a helper passes it)",
					       ph[i].p_vaddr, ph[i].p_memsz,
					       ph[i].p_paddr - 1);
		}
		if (!ret)
			ret = restore_vma(ctx, mm, &prev_end, NULL);
		if (ctx->rst.vma_file)
			fput(ctx->rst.vma_file);
		ctx->rst.vma_file = NULL;
		end_pos = has_pages ? ph[i + 1].p_offset + ph[i + 1].p_filesz :
			  ph[i].p_offset + ph[i].p_filesz;
		if (!ret && ctx->pos != end_pos)
			ret = ckpt_err(ctx, -EINVAL,
				       "vma %llx+%llx: records end at %llu, segment at %llu",
				       ph[i].p_vaddr, ph[i].p_memsz, ctx->pos,
				       end_pos);
	}
	if (!ret)
		ret = restore_mm_finish(ctx, mm, mmh);
	ckpt_switch_mm(old, false);
	return ret;
}

static void etckpt_late_fn(struct callback_head *work)
{
	struct etckpt_late *late = container_of(work, struct etckpt_late, work);

	current_pt_regs()->ax = late->ax;
#ifdef CONFIG_RSEQ
	current->rseq = u64_to_user_ptr(late->rseq);
	current->rseq_sig = late->rseq_sig;
	if (current->rseq)
		rseq_set_notify_resume(current);
#endif
	kfree(late);
}

/* after begin_new_exec(): what restart(2) commits, in its order */
static void etckpt_commit(struct ckpt_ctx *ctx, struct linux_binprm *bprm,
			  struct etckpt_late *late)
{
	struct ckpt_hdr_cpu *cpu = &ctx->rst.cpu;
	int dumpable;

	/* SET_PERSONALITY of a 64-bit ELF file, then the image's */
	set_personality_64bit();
	ctx->rst.task.personality &= ~bprm->per_clear;
	set_personality(ctx->rst.task.personality);
	setup_new_exec(bprm);
	/* exec's dumpability (an unreadable file: not dumpable) is kept */
	dumpable = get_dumpable(current->mm);
	restore_sighand(ctx);
	restore_thread(ctx);
	restore_task_commit(ctx);
	if (dumpable != SUID_DUMP_USER)
		set_dumpable(current->mm, dumpable);
	if (restore_sigpending_commit(ctx)) {
		kfree(late);
		force_fatal_sig(SIGKILL);
		return;
	}
	restore_timers_commit(ctx);
	restore_restart_block_commit(ctx);
	restore_auxv_commit(ctx);
	finalize_exec(bprm);
	start_thread(current_pt_regs(), cpu->ip, cpu->sp);
	late->ax = ckpt_arch_restore_cpu(ctx);
	late->rseq = ctx->rst.thread.rseq;
	late->rseq_sig = ctx->rst.thread.rseq_sig;
	init_task_work(&late->work, etckpt_late_fn);
	if (task_work_add(current, &late->work, TWA_SIGNAL)) {
		kfree(late);
		force_fatal_sig(SIGKILL);
	}
}

static struct linux_binfmt etckpt_format;

/* a checkpoint file gives the caller nothing: no setuid, setgid, file caps */
static int etckpt_check_file(struct ckpt_ctx *ctx, struct file *file)
{
	struct inode *inode = file_inode(file);
	struct cpu_vfs_cap_data caps;

	if (inode->i_mode & (S_ISUID | S_ISGID))
		return ckpt_err(ctx, -EPERM,
				"a setuid or setgid checkpoint file is not executed");
	if (!get_vfs_caps_from_disk(file_mnt_user_ns(file),
				    file->f_path.dentry, &caps))
		return ckpt_err(ctx, -EPERM,
				"a checkpoint file with file capabilities is not executed");
	return 0;
}

static int etckpt_load(struct linux_binprm *bprm, struct ckpt_ctx *ctx)
{
	struct elf64_hdr *e = (struct elf64_hdr *)bprm->buf;
	loff_t size = i_size_read(file_inode(bprm->file)), pos, tail;
	struct etckpt_late *late = NULL;
	struct elf64_phdr *ph;
	struct ckpt_hdr_mm mmh;
	size_t phsize;
	int i, nvma, ret;

	ret = etckpt_check_file(ctx, bprm->file);
	if (ret)
		return ret;
	/* the new mm is built while current uses it, as restart(2) does */
	if (!thread_group_empty(current))
		return ckpt_err(ctx, -EBUSY, "caller has threads");
	/*
	 * A PTRACE_EVENT_EXEC stop runs the task's pending task_work before
	 * execve() writes its return value to ax: the restored ax would be
	 * lost.  The legacy SIGTRAP report of the exec is fine.
	 */
	if (ptrace_event_enabled(current, PTRACE_EVENT_EXEC))
		return ckpt_err(ctx, -EBUSY,
				"traced with PTRACE_O_TRACEEXEC: not restored (its exec stop comes before the registers are final)");
	phsize = (size_t)e->e_phnum * sizeof(*ph);
	if (size < (loff_t)(sizeof(*e) + phsize))
		return ckpt_err(ctx, -EINVAL, "file too short for its program headers");
	ph = kvmalloc(phsize, GFP_KERNEL);
	if (!ph)
		return -ENOMEM;
	pos = e->e_phoff;
	if (kernel_read(bprm->file, ph, phsize, &pos) != phsize) {
		ret = ckpt_err(ctx, -EIO, "cannot read the program headers");
		goto out;
	}
	nvma = etckpt_check_phdrs(ctx, ph, e->e_phnum, size, &tail);
	if (nvma < 0) {
		ret = nvma;
		goto out;
	}
	ctx->pos = ph[0].p_offset;
	ret = etckpt_read_core(ctx, &mmh);
	if (ret)
		goto out;
	if (ctx->pos != ph[0].p_offset + ph[0].p_filesz ||
	    mmh.map_count != nvma || e->e_entry != ctx->rst.cpu.ip) {
		ret = ckpt_err(ctx, -EINVAL,
			       "core segment: ends at %llu (records at %llu), %d vmas (MM %u), entry %llx (ip %llx)",
			       ph[0].p_offset + ph[0].p_filesz, ctx->pos, nvma,
			       mmh.map_count, e->e_entry, ctx->rst.cpu.ip);
		goto out;
	}
	ret = ckpt_arch_prepare_fpu(ctx);
	if (ret)
		goto out;
	ret = etckpt_build_mm(ctx, bprm, ph, e->e_phnum, &mmh);
	if (ret)
		goto out;
	if (ctx->pos != tail) {
		ret = ckpt_err(ctx, -EINVAL, "tail at %lld, stream at %llu",
			       tail, ctx->pos);
		goto out;
	}
	ret = restore_read_tail(ctx);
	if (ret)
		goto out;
	late = kzalloc(sizeof(*late), GFP_KERNEL);
	if (!late) {
		ret = -ENOMEM;
		goto out;
	}

	/* the point of no return: every check of the file was made */
	ret = begin_new_exec(bprm);
	if (ret) {
		kfree(late);
		goto out;
	}
	restore_sysv_shm_commit(ctx);
	set_binfmt(&etckpt_format);
	/* the descriptors passed for the mappings: the restored task had none */
	for (i = 1; i < e->e_phnum; i++)
		if (ph[i].p_paddr)
			close_fd(ph[i].p_paddr - 1);
	etckpt_commit(ctx, bprm, late);
out:
	kvfree(ph);
	return ret;
}

static int etckpt_load_binary(struct linux_binprm *bprm)
{
	struct ckpt_ctx *ctx;
	int ret;

	ret = etckpt_check_ehdr((struct elf64_hdr *)bprm->buf);
	if (ret == -ENOEXEC)
		return ret;
	/* from here on the file is an ET_CKPT file: never -ENOEXEC */
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->restart = true;
	ctx->uflags = RESTART_TASKSELF;
	hash_init(ctx->objhash);
	ctx->file = get_file(bprm->file);
	if (ret)
		ckpt_err(ctx, ret, "bad ELF header");
	else
		ret = etckpt_load(bprm, ctx);
	if (ret == -ENOEXEC)
		ret = -EINVAL;
	if (ret && !bprm->point_of_no_return && ctx->err_msg[0])
		pr_info_ratelimited("%s: %s\n", bprm->filename, ctx->err_msg);
	ckpt_ctx_free(ctx);
	return ret;
}

static struct linux_binfmt etckpt_format = {
	.module		= THIS_MODULE,
	.load_binary	= etckpt_load_binary,
};

static int __init etckpt_init(void)
{
	/* binfmt_elf leaves e_type ET_CKPT alone, and this one all others */
	register_binfmt(&etckpt_format);
	return 0;
}
core_initcall(etckpt_init);
