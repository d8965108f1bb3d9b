// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: process state: resource limits (CKPT_HDR_SIGNAL),
 * root and working directory, umask (CKPT_HDR_FS).  Each is saved,
 * checked when read from the image (hostile input, and the caller must be
 * allowed to set it), and applied at the commit point.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/string.h>

static const char *const ckpt_rlimit_names[CKPT_RLIM_NLIMITS] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio",
	"rttime",
};

int checkpoint_signal(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_signal h = { .nr_rlim = CKPT_RLIM_NLIMITS };
	struct task_struct *leader = t->group_leader;
	int i;

	BUILD_BUG_ON(RLIM_NLIMITS != CKPT_RLIM_NLIMITS);
	BUILD_BUG_ON(sizeof(h) != 272);
	task_lock(leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		h.rlim[i].cur = t->signal->rlim[i].rlim_cur;
		h.rlim[i].max = t->signal->rlim[i].rlim_max;
	}
	task_unlock(leader);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_SIGNAL, sizeof(h));
}

/* @path as seen from the caller's root @own, into @buf; checked */
static char *checkpoint_fs_path(struct ckpt_ctx *ctx, const char *what,
				struct path *path, struct path *own, char *buf)
{
	char *name;

	if (path_equal(path, own))
		return "/";
	if (d_unlinked(path->dentry)) {
		ckpt_err(ctx, -ENOENT, "pid %d: %s is a deleted directory",
			 ctx->tsk_pid, what);
		return ERR_PTR(-ENOENT);
	}
	if (!path_is_under(path, own)) {
		ckpt_err(ctx, -EINVAL, "pid %d: %s is not under the caller's root",
			 ctx->tsk_pid, what);
		return ERR_PTR(-EINVAL);
	}
	name = d_path(path, buf, PATH_MAX);
	if (IS_ERR(name))
		ckpt_err(ctx, PTR_ERR(name), "pid %d: %s: path too long",
			 ctx->tsk_pid, what);
	return name;
}

int checkpoint_fs(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_fs h = { };
	struct path root, pwd, own;
	char *buf, *root_name, *pwd_name;
	int ret;

	task_lock(t);
	if (!t->fs) {
		task_unlock(t);
		return ckpt_err(ctx, -ESRCH, "pid %d exited during checkpoint",
				ctx->tsk_pid);
	}
	get_fs_root(t->fs, &root);
	get_fs_pwd(t->fs, &pwd);
	h.umask = READ_ONCE(t->fs->umask);
	task_unlock(t);
	get_fs_root(current->fs, &own);

	ret = -ENOMEM;
	buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!buf)
		goto out;
	root_name = checkpoint_fs_path(ctx, "root", &root, &own, buf);
	ret = PTR_ERR_OR_ZERO(root_name);
	if (ret)
		goto out;
	pwd_name = checkpoint_fs_path(ctx, "cwd", &pwd, &own, buf + PATH_MAX);
	ret = PTR_ERR_OR_ZERO(pwd_name);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FS, sizeof(h));
	if (!ret)
		ret = ckpt_write_string(ctx, root_name);
	if (!ret)
		ret = ckpt_write_string(ctx, pwd_name);
out:
	kfree(buf);
	path_put(&own);
	path_put(&pwd);
	path_put(&root);
	return ret;
}

/*
 * Restart: the rlimits of the image, each one as setrlimit() would let
 * the caller set it (a hard limit above the caller's needs
 * CAP_SYS_RESOURCE), else EPERM naming the limit.  do_prlimit() checks
 * again when they are set.
 */
int restore_signal_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_signal *h = &ctx->rst.signal;
	struct task_struct *leader = current->group_leader;
	struct rlimit new, old;
	int i, ret;

	ret = ckpt_read_obj(ctx, h, CKPT_HDR_SIGNAL, sizeof(*h));
	if (ret)
		return ret;
	if (h->nr_rlim != CKPT_RLIM_NLIMITS)
		return ckpt_err(ctx, -EINVAL, "bad number of rlimits %u",
				h->nr_rlim);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		new.rlim_cur = h->rlim[i].cur;
		new.rlim_max = h->rlim[i].max;
		task_lock(leader);
		old = current->signal->rlim[i];
		task_unlock(leader);
		if (new.rlim_cur > new.rlim_max)
			return ckpt_err(ctx, -EINVAL,
					"rlimit %s: soft limit %lu above hard limit %lu",
					ckpt_rlimit_names[i], new.rlim_cur,
					new.rlim_max);
		if (i == RLIMIT_NOFILE && new.rlim_max > sysctl_nr_open)
			return ckpt_err(ctx, -EPERM,
					"rlimit nofile: %lu above fs.nr_open %u",
					new.rlim_max, sysctl_nr_open);
		if (new.rlim_max > old.rlim_max && !capable(CAP_SYS_RESOURCE))
			return ckpt_err(ctx, -EPERM,
					"rlimit %s: hard limit %lu above the caller's %lu (needs CAP_SYS_RESOURCE)",
					ckpt_rlimit_names[i], new.rlim_max,
					old.rlim_max);
		ret = security_task_setrlimit(current, i, &new);
		if (ret)
			return ckpt_err(ctx, ret, "rlimit %s: refused",
					ckpt_rlimit_names[i]);
	}
	return 0;
}

/* an absolute directory path of the image that the caller may chdir to */
static int restore_fs_dir(struct ckpt_ctx *ctx, const char *what,
			  const char *name, struct path *path)
{
	int ret;

	if (name[0] != '/')
		return ckpt_err(ctx, -EINVAL, "%s %s: not an absolute path",
				what, name);
	ret = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	if (ret)
		return ckpt_err(ctx, ret, "%s %s: %s", what, name,
				ret == -ENOENT ? "no such directory" :
				ret == -ENOTDIR ? "not a directory" :
				"cannot look it up");
	ret = path_permission(path, MAY_EXEC | MAY_CHDIR);
	if (ret) {
		path_put(path);
		return ckpt_err(ctx, ret, "%s %s: no permission", what, name);
	}
	return 0;
}

int restore_fs_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_fs h;
	char *root = NULL, *pwd = NULL;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_FS, sizeof(h));
	if (ret)
		return ret;
	if (h.umask & ~0777)
		return ckpt_err(ctx, -EINVAL, "bad umask %#o", h.umask);
	ctx->rst.umask = h.umask;
	root = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(root))
		return PTR_ERR(root);
	pwd = ckpt_read_string(ctx, PATH_MAX);
	ret = PTR_ERR_OR_ZERO(pwd);
	if (ret) {
		pwd = NULL;
		goto out;
	}
	/* a root other than the caller's: only as chroot() would allow */
	if (strcmp(root, "/")) {
		ret = restore_fs_dir(ctx, "root", root, &ctx->rst.root);
		if (ret)
			goto out;
		ctx->rst.has_root = true;
		if (!ns_capable(current_user_ns(), CAP_SYS_CHROOT)) {
			ret = ckpt_err(ctx, -EPERM,
				       "root %s: chroot needs CAP_SYS_CHROOT", root);
			goto out;
		}
		ret = security_path_chroot(&ctx->rst.root);
		if (ret) {
			ckpt_err(ctx, ret, "root %s: chroot refused", root);
			goto out;
		}
	}
	ret = restore_fs_dir(ctx, "cwd", pwd, &ctx->rst.pwd);
	if (!ret)
		ctx->rst.has_pwd = true;
out:
	kvfree(root);
	kvfree(pwd);
	return ret;
}

/*
 * After the point of no return: the checks were made, only a concurrent
 * prlimit() by another task can make a limit fail now; then the task is
 * not left half restored (positive return: the caller kills it).
 */
int restore_process_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_signal *h = &ctx->rst.signal;
	struct fs_struct *fs = current->fs;
	struct rlimit new;
	int i, ret;

	for (i = 0; i < RLIM_NLIMITS; i++) {
		new.rlim_cur = h->rlim[i].cur;
		new.rlim_max = h->rlim[i].max;
		ret = do_prlimit(current, i, &new, NULL);
		if (ret) {
			ckpt_err(ctx, ret, "rlimit %s could not be set",
				 ckpt_rlimit_names[i]);
			return 1;
		}
	}
	if (ctx->rst.has_root)
		set_fs_root(fs, &ctx->rst.root);
	if (ctx->rst.has_pwd)
		set_fs_pwd(fs, &ctx->rst.pwd);
	xchg(&fs->umask, ctx->rst.umask);
	return 0;
}

void restore_process_free(struct ckpt_ctx *ctx)
{
	if (ctx->rst.has_root)
		path_put(&ctx->rst.root);
	if (ctx->rst.has_pwd)
		path_put(&ctx->rst.pwd);
	ctx->rst.has_root = false;
	ctx->rst.has_pwd = false;
}
