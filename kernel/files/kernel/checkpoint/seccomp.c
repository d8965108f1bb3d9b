// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: seccomp (CKPT_HDR_SECCOMP, CKPT_HDR_SECCOMP_FILTER).
 *
 * Checkpoint saves the task's mode and, in filter mode, every filter's
 * classic BPF program (the copy the kernel keeps with
 * CONFIG_CHECKPOINT_RESTORE) with its log flag, oldest first.  A filter
 * with a user-notification listener, and seccomp in a process with
 * threads, are refused (EOPNOTSUPP, named).  TSYNC is an action of the
 * install, not a state: a single thread has nothing to synchronise.
 *
 * Restart checks each program as seccomp() would (on a copy) and the
 * caller's right to install filters (no_new_privs in the image, or
 * CAP_SYS_ADMIN in the caller's user namespace: EACCES) while reading;
 * a caller that has seccomp of its own is refused (EBUSY: the image's
 * filters would be stacked on the caller's).  After the commit it
 * installs them through seccomp()'s own code, with the caller's
 * credentials, from a temporary copy in the restored task's memory
 * (unmapped after), and strict mode last of all (any later system call
 * of restart would be killed by it, none is made).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/cred.h>
#include <linux/filter.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* seccomp()'s limit on the instructions of all filters (MAX_INSNS_PER_PATH) */
#define CKPT_SECCOMP_INSNS_MAX	((1 << 18) / sizeof(struct sock_filter))

static int ckpt_seccomp_mode(struct task_struct *t)
{
#ifdef CONFIG_SECCOMP
	return READ_ONCE(t->seccomp.mode);
#else
	return SECCOMP_MODE_DISABLED;
#endif
}

#if defined(CONFIG_SECCOMP_FILTER) && defined(CONFIG_CHECKPOINT_RESTORE)
static int checkpoint_seccomp_filters(struct ckpt_ctx *ctx,
				      struct task_struct *t)
{
	struct ckpt_hdr_seccomp_filter *f;
	struct ckpt_hdr_seccomp h = { .mode = SECCOMP_MODE_FILTER };
	unsigned int n;
	bool log;
	long len;
	int ret;

	f = kvmalloc(struct_size(f, insns, BPF_MAXINSNS), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	/* count them: the task is frozen, they do not change */
	for (n = 0; n <= CKPT_SECCOMP_FILTERS_MAX; n++) {
		len = seccomp_ckpt_get_filter(t, n, (void *)f->insns, &log);
		if (len == -ENOENT)
			break;
		if (len == -EOPNOTSUPP) {
			ret = ckpt_err(ctx, len,
				       "pid %d: seccomp filter %u: a user-notification listener (or not classic BPF): not supported",
				       ctx->tsk_pid, n);
			goto out;
		}
		if (len < 0) {
			ret = ckpt_err(ctx, len, "pid %d: seccomp filter %u: cannot be read",
				       ctx->tsk_pid, n);
			goto out;
		}
	}
	ret = ckpt_err(ctx, -EOPNOTSUPP, "pid %d: more than %u seccomp filters",
		       ctx->tsk_pid, CKPT_SECCOMP_FILTERS_MAX);
	if (n > CKPT_SECCOMP_FILTERS_MAX)
		goto out;
	h.nfilters = n;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_SECCOMP, sizeof(h));
	for (n = 0; !ret && n < h.nfilters; n++) {
		len = seccomp_ckpt_get_filter(t, n, (void *)f->insns, &log);
		if (len < 0) {
			ret = ckpt_err(ctx, len, "pid %d: seccomp filter %u changed",
				       ctx->tsk_pid, n);
			break;
		}
		f->len = len;
		f->flags = log ? CKPT_SECCOMP_FILTER_LOG : 0;
		ret = ckpt_write_obj(ctx, f, CKPT_HDR_SECCOMP_FILTER,
				     struct_size(f, insns, len));
	}
out:
	kvfree(f);
	return ret;
}
#else
static int checkpoint_seccomp_filters(struct ckpt_ctx *ctx,
				      struct task_struct *t)
{
	return ckpt_err(ctx, -EOPNOTSUPP,
			"pid %d: seccomp filters (needs CONFIG_CHECKPOINT_RESTORE): not supported",
			ctx->tsk_pid);
}
#endif

int checkpoint_seccomp(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_seccomp h = { };
	int mode = ckpt_seccomp_mode(t);

	BUILD_BUG_ON(sizeof(h) != 16);
	BUILD_BUG_ON(sizeof(struct sock_filter) != sizeof(__u64));
	if (mode != SECCOMP_MODE_DISABLED && ctx->nr_threads)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"pid %d: seccomp in a process with threads: not supported",
				ctx->tsk_pid);
	if (mode == SECCOMP_MODE_FILTER)
		return checkpoint_seccomp_filters(ctx, t);
	if (mode != SECCOMP_MODE_DISABLED && mode != SECCOMP_MODE_STRICT)
		return ckpt_err(ctx, -EOPNOTSUPP, "pid %d: seccomp mode %d",
				ctx->tsk_pid, mode);
	h.mode = mode;
	return ckpt_write_obj(ctx, &h, CKPT_HDR_SECCOMP, sizeof(h));
}

/* restart: one filter record, checked as seccomp() checks a program */
static int restore_seccomp_filter_read(struct ckpt_ctx *ctx, unsigned int n,
				       unsigned int *total)
{
	struct ckpt_hdr_seccomp_filter *f;
	struct ckpt_hdr h;
	u32 len;
	int ret;

	ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_SECCOMP_FILTER,
			    struct_size(f, insns, 1),
			    struct_size(f, insns, BPF_MAXINSNS));
	if (ret)
		return ret;
	f = kvmalloc(h.len, GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	ctx->rst.filters[n] = f;
	f->h = h;
	ret = ckpt_kread(ctx, &f->h + 1, h.len - sizeof(h));
	if (!ret)
		ret = ckpt_read_pad(ctx, h.len);
	if (ret)
		return ret;
	len = f->len;
	if (struct_size(f, insns, len) != h.len ||
	    f->flags & ~CKPT_SECCOMP_FILTER_LOG)
		return ckpt_err(ctx, -EINVAL,
				"seccomp filter %u: bad length %u or flags %#x",
				n, len, f->flags);
	*total += len + 4;	/* as seccomp_attach_filter() counts */
	if (*total > CKPT_SECCOMP_INSNS_MAX)
		return ckpt_err(ctx, -EINVAL,
				"seccomp filters: more than %zu instructions",
				CKPT_SECCOMP_INSNS_MAX);
	ret = seccomp_ckpt_check_filter((void *)f->insns, len);
	if (ret)
		return ckpt_err(ctx, ret,
				"seccomp filter %u: not a program seccomp() takes",
				n);
	return 0;
}

int restore_seccomp_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_seccomp *h = &ctx->rst.seccomp;
	unsigned int n, total = 0;
	bool filter;
	int ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_SECCOMP, sizeof(*h));
	if (ret)
		return ret;
	filter = h->mode == SECCOMP_MODE_FILTER;
	if (h->mode > SECCOMP_MODE_FILTER || filter != !!h->nfilters ||
	    h->nfilters > CKPT_SECCOMP_FILTERS_MAX)
		return ckpt_err(ctx, -EINVAL, "seccomp mode %u with %u filters",
				h->mode, h->nfilters);
	if (h->mode == SECCOMP_MODE_DISABLED)
		return 0;
	if (!IS_ENABLED(CONFIG_SECCOMP) ||
	    (h->mode == SECCOMP_MODE_FILTER &&
	     !IS_ENABLED(CONFIG_SECCOMP_FILTER)))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"seccomp mode %u: not in this kernel", h->mode);
	if (ckpt_seccomp_mode(current) != SECCOMP_MODE_DISABLED)
		return ckpt_err(ctx, -EBUSY,
				"the caller has seccomp of its own: the image's cannot be restored exactly");
	if (h->mode == SECCOMP_MODE_STRICT)
		return 0;
	if (!(ctx->rst.task.task_flags & CKPT_TASK_NO_NEW_PRIVS) &&
	    !ns_capable_noaudit(current_user_ns(), CAP_SYS_ADMIN))
		return ckpt_err(ctx, -EACCES,
				"seccomp filters without no_new_privs need CAP_SYS_ADMIN");
	ctx->rst.filters = kcalloc(h->nfilters, sizeof(*ctx->rst.filters),
				   GFP_KERNEL);
	if (!ctx->rst.filters)
		return -ENOMEM;
	for (n = 0; n < h->nfilters; n++) {
		ret = restore_seccomp_filter_read(ctx, n, &total);
		if (ret)
			return ret;
	}
	ctx->rst.seccomp_cred = get_current_cred();
	return 0;
}

#ifdef CONFIG_SECCOMP_FILTER
/* one filter, through seccomp() from a copy at @uaddr in the new mm */
static int restore_seccomp_install(struct ckpt_ctx *ctx,
				   struct ckpt_hdr_seccomp_filter *f,
				   unsigned long uaddr)
{
	struct sock_fprog prog = {
		.len = f->len,
		.filter = (struct sock_filter __user *)(uaddr + sizeof(prog)),
	};
	unsigned int flags = 0;
	const struct cred *old;
	long ret;

	if (copy_to_user((void __user *)uaddr, &prog, sizeof(prog)) ||
	    copy_to_user(prog.filter, f->insns, f->len * sizeof(f->insns[0])))
		return -EFAULT;
	if (f->flags & CKPT_SECCOMP_FILTER_LOG)
		flags |= SECCOMP_FILTER_FLAG_LOG;
	old = override_creds(ctx->rst.seccomp_cred);
	ret = seccomp_ckpt_set_filter(flags, (const char __user *)uaddr);
	revert_creds(old);
	return ret;
}
#endif

/*
 * After the commit, with the restored task's no_new_privs: the filters,
 * oldest first, or strict mode.  Non-zero: the task cannot go on.
 */
int restore_seccomp_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_seccomp *h = &ctx->rst.seccomp;
	long ret = 0;

	if (h->mode == SECCOMP_MODE_STRICT)
		return prctl_set_seccomp(SECCOMP_MODE_STRICT, NULL);
#ifdef CONFIG_SECCOMP_FILTER
	if (h->mode == SECCOMP_MODE_FILTER) {
		size_t size = PAGE_ALIGN(sizeof(struct sock_fprog) +
					 BPF_MAXINSNS * sizeof(struct sock_filter));
		unsigned long uaddr;
		unsigned int n;

		uaddr = vm_mmap(NULL, 0, size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(uaddr))
			return ckpt_err(ctx, (long)uaddr,
					"seccomp: no room to install the filters");
		for (n = 0; !ret && n < h->nfilters; n++) {
			ret = restore_seccomp_install(ctx, ctx->rst.filters[n],
						      uaddr);
			if (ret)
				ckpt_err(ctx, ret, "seccomp filter %u: cannot be installed",
					 n);
		}
		vm_munmap(uaddr, size);
	}
#endif
	return ret;
}

void restore_seccomp_free(struct ckpt_ctx *ctx)
{
	unsigned int n;

	if (ctx->rst.filters)
		for (n = 0; n < ctx->rst.seccomp.nfilters; n++)
			kvfree(ctx->rst.filters[n]);
	kfree(ctx->rst.filters);
	ctx->rst.filters = NULL;
	if (ctx->rst.seccomp_cred)
		put_cred(ctx->rst.seccomp_cred);
	ctx->rst.seccomp_cred = NULL;
}
