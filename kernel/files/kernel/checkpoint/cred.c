// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: credentials (CKPT_HDR_CRED): real, effective,
 * saved and fs uid and gid, supplementary groups, the five capability
 * sets and the securebits.
 *
 * Checkpoint saves them as the checkpointing task's user namespace sees
 * them.  Restart builds a new cred from the caller's and sets each item
 * only as the caller could set it for itself with setresuid(),
 * setfsuid(), setresgid(), setfsgid(), setgroups(), capset() and the
 * capability prctl()s; anything more is EPERM naming the item, so that an
 * image never grants more than the caller has.  The cred is committed at
 * the end of restart.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/capability.h>
#include <linux/checkpoint_ctx.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/user.h>
#include <linux/security.h>
#include <linux/securebits.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

/* the valid capability bits */
#define CKPT_CAP_MASK	(((u64)1 << (CAP_LAST_CAP + 1)) - 1)

static u64 ckpt_cap_to_u64(kernel_cap_t c)
{
	BUILD_BUG_ON(_KERNEL_CAPABILITY_U32S != 2);
	return (u64)c.cap[1] << 32 | c.cap[0];
}

static kernel_cap_t ckpt_u64_to_cap(u64 v)
{
	kernel_cap_t c = { { lower_32_bits(v), upper_32_bits(v) } };

	return c;
}

int checkpoint_cred(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct user_namespace *ns = current_user_ns();
	struct ckpt_hdr_cred *h;
	const struct cred *cred;
	struct group_info *gi;
	size_t len;
	int i, ret;

	BUILD_BUG_ON(sizeof(*h) != 88);
	cred = get_task_cred(t);
	gi = cred->group_info;
	len = struct_size(h, groups, gi->ngroups);
	h = kvzalloc(len, GFP_KERNEL);
	if (!h) {
		put_cred(cred);
		return -ENOMEM;
	}
	h->uid = from_kuid_munged(ns, cred->uid);
	h->euid = from_kuid_munged(ns, cred->euid);
	h->suid = from_kuid_munged(ns, cred->suid);
	h->fsuid = from_kuid_munged(ns, cred->fsuid);
	h->gid = from_kgid_munged(ns, cred->gid);
	h->egid = from_kgid_munged(ns, cred->egid);
	h->sgid = from_kgid_munged(ns, cred->sgid);
	h->fsgid = from_kgid_munged(ns, cred->fsgid);
	h->securebits = cred->securebits;
	h->ngroups = gi->ngroups;
	h->cap_inheritable = ckpt_cap_to_u64(cred->cap_inheritable);
	h->cap_permitted = ckpt_cap_to_u64(cred->cap_permitted);
	h->cap_effective = ckpt_cap_to_u64(cred->cap_effective);
	h->cap_bset = ckpt_cap_to_u64(cred->cap_bset);
	h->cap_ambient = ckpt_cap_to_u64(cred->cap_ambient);
	for (i = 0; i < gi->ngroups; i++)
		h->groups[i] = from_kgid_munged(ns, gi->gid[i]);
	put_cred(cred);
	ret = ckpt_write_obj(ctx, h, CKPT_HDR_CRED, len);
	kvfree(h);
	return ret;
}

/* an id of the image, in the caller's user namespace */
static int restore_cred_kuid(struct ckpt_ctx *ctx, const char *what, u32 id,
			     kuid_t *k)
{
	*k = make_kuid(current_user_ns(), id);
	if (!uid_valid(*k))
		return ckpt_err(ctx, -EINVAL, "%s %u: not a valid uid here",
				what, id);
	return 0;
}

static int restore_cred_kgid(struct ckpt_ctx *ctx, const char *what, u32 id,
			     kgid_t *k)
{
	*k = make_kgid(current_user_ns(), id);
	if (!gid_valid(*k))
		return ckpt_err(ctx, -EINVAL, "%s %u: not a valid gid here",
				what, id);
	return 0;
}

/* as setresuid() (@fs: setfsuid()) lets a caller without CAP_SETUID */
static bool restore_uid_ok(const struct cred *old, kuid_t id, bool fs)
{
	return uid_eq(id, old->uid) || uid_eq(id, old->euid) ||
	       uid_eq(id, old->suid) || (fs && uid_eq(id, old->fsuid));
}

static bool restore_gid_ok(const struct cred *old, kgid_t id, bool fs)
{
	return gid_eq(id, old->gid) || gid_eq(id, old->egid) ||
	       gid_eq(id, old->sgid) || (fs && gid_eq(id, old->fsgid));
}

static int restore_cred_ids(struct ckpt_ctx *ctx, struct ckpt_hdr_cred *h,
			    const struct cred *old, struct cred *new)
{
	static const char *const uname[] = { "uid", "euid", "suid", "fsuid" };
	static const char *const gname[] = { "gid", "egid", "sgid", "fsgid" };
	u32 uids[] = { h->uid, h->euid, h->suid, h->fsuid };
	u32 gids[] = { h->gid, h->egid, h->sgid, h->fsgid };
	kuid_t ku[4];
	kgid_t kg[4];
	bool setuid = ns_capable_setid(old->user_ns, CAP_SETUID);
	bool setgid = ns_capable_setid(old->user_ns, CAP_SETGID);
	int i, ret;

	for (i = 0; i < 4; i++) {
		ret = restore_cred_kuid(ctx, uname[i], uids[i], &ku[i]);
		if (ret)
			return ret;
		if (!setuid && !restore_uid_ok(old, ku[i], i == 3))
			return ckpt_err(ctx, -EPERM,
					"%s %u: not one of the caller's uids (needs CAP_SETUID)",
					uname[i], uids[i]);
	}
	for (i = 0; i < 4; i++) {
		ret = restore_cred_kgid(ctx, gname[i], gids[i], &kg[i]);
		if (ret)
			return ret;
		if (!setgid && !restore_gid_ok(old, kg[i], i == 3))
			return ckpt_err(ctx, -EPERM,
					"%s %u: not one of the caller's gids (needs CAP_SETGID)",
					gname[i], gids[i]);
	}
	new->uid = ku[0];
	new->euid = ku[1];
	new->suid = ku[2];
	new->fsuid = ku[3];
	new->gid = kg[0];
	new->egid = kg[1];
	new->sgid = kg[2];
	new->fsgid = kg[3];
	if (!uid_eq(new->uid, old->uid)) {
		struct user_struct *user = alloc_uid(new->uid);

		if (!user)
			return -ENOMEM;
		free_uid(new->user);
		new->user = user;
	}
	ret = security_task_fix_setuid(new, old, LSM_SETID_RES);
	if (!ret)
		ret = security_task_fix_setgid(new, old, LSM_SETID_RES);
	if (ret)
		return ckpt_err(ctx, ret, "uid/gid change refused by the LSM");
	ret = set_cred_ucounts(new);
	if (ret)
		return ret;
	return 0;
}

/* the image's groups, the caller's unless it may setgroups() */
static int restore_cred_groups(struct ckpt_ctx *ctx, struct ckpt_hdr_cred *h,
			       const struct cred *old, struct cred *new)
{
	struct group_info *gi;
	bool same;
	int i, ret;

	gi = groups_alloc(h->ngroups);
	if (!gi)
		return -ENOMEM;
	for (i = 0; i < h->ngroups; i++) {
		ret = restore_cred_kgid(ctx, "supplementary group",
					h->groups[i], &gi->gid[i]);
		if (ret)
			goto out;
	}
	groups_sort(gi);
	same = gi->ngroups == old->group_info->ngroups;
	for (i = 0; same && i < gi->ngroups; i++)
		same = gid_eq(gi->gid[i], old->group_info->gid[i]);
	ret = 0;
	if (same)
		goto out;
	if (!ns_capable_setid(old->user_ns, CAP_SETGID) || !may_setgroups()) {
		ret = ckpt_err(ctx, -EPERM,
			       "supplementary groups (%u) differ from the caller's (%u) (setgroups needs CAP_SETGID)",
			       h->ngroups, old->group_info->ngroups);
		goto out;
	}
	set_groups(new, gi);
out:
	put_group_info(gi);
	return ret;
}

/* as PR_SET_SECUREBITS and PR_SET_KEEPCAPS would let the caller */
static int restore_cred_securebits(struct ckpt_ctx *ctx, u32 bits,
				   const struct cred *old, struct cred *new)
{
	u32 was = old->securebits;

	if (bits & ~(SECURE_ALL_BITS | SECURE_ALL_LOCKS))
		return ckpt_err(ctx, -EINVAL, "securebits %#x: unknown bits",
				bits);
	if (bits == was)
		return 0;
	if (((was & SECURE_ALL_LOCKS) >> 1) & (was ^ bits) ||
	    (was & SECURE_ALL_LOCKS & ~bits))
		return ckpt_err(ctx, -EPERM,
				"securebits %#x: the caller's %#x are locked",
				bits, was);
	if ((was ^ bits) & ~SECBIT_KEEP_CAPS &&
	    !ns_capable(old->user_ns, CAP_SETPCAP))
		return ckpt_err(ctx, -EPERM,
				"securebits %#x: the caller's are %#x (needs CAP_SETPCAP)",
				bits, was);
	new->securebits = bits;
	return 0;
}

static int restore_cred_caps(struct ckpt_ctx *ctx, struct ckpt_hdr_cred *h,
			     const struct cred *old, struct cred *new)
{
	kernel_cap_t eff = ckpt_u64_to_cap(h->cap_effective);
	kernel_cap_t inh = ckpt_u64_to_cap(h->cap_inheritable);
	kernel_cap_t perm = ckpt_u64_to_cap(h->cap_permitted);
	kernel_cap_t bset = ckpt_u64_to_cap(h->cap_bset);
	kernel_cap_t amb = ckpt_u64_to_cap(h->cap_ambient);
	int ret;

	if ((h->cap_effective | h->cap_inheritable | h->cap_permitted |
	     h->cap_bset | h->cap_ambient) & ~CKPT_CAP_MASK)
		return ckpt_err(ctx, -EINVAL, "capabilities: unknown bits");
	if (!cap_issubset(eff, perm) ||
	    !cap_issubset(amb, cap_intersect(perm, inh)))
		return ckpt_err(ctx, -EINVAL,
				"capabilities: effective %#llx or ambient %#llx not permitted %#llx",
				h->cap_effective, h->cap_ambient,
				h->cap_permitted);
	/* the bounding set is only ever lowered, with CAP_SETPCAP */
	if (!cap_issubset(bset, old->cap_bset))
		return ckpt_err(ctx, -EPERM,
				"capability bounding set %#llx above the caller's %#llx",
				h->cap_bset, ckpt_cap_to_u64(old->cap_bset));
	if (!cap_issubset(old->cap_bset, bset) &&
	    !ns_capable(old->user_ns, CAP_SETPCAP))
		return ckpt_err(ctx, -EPERM,
				"capability bounding set %#llx below the caller's %#llx (needs CAP_SETPCAP)",
				h->cap_bset, ckpt_cap_to_u64(old->cap_bset));
	/* capset(): permitted within the caller's, as the LSM allows */
	ret = security_capset(new, old, &eff, &inh, &perm);
	if (ret)
		return ckpt_err(ctx, ret,
				"capabilities permitted %#llx inheritable %#llx: the caller's are %#llx, %#llx",
				h->cap_permitted, h->cap_inheritable,
				ckpt_cap_to_u64(old->cap_permitted),
				ckpt_cap_to_u64(old->cap_inheritable));
	/* PR_CAP_AMBIENT_RAISE */
	if (!cap_issubset(amb, old->cap_ambient) &&
	    (old->securebits & SECBIT_NO_CAP_AMBIENT_RAISE))
		return ckpt_err(ctx, -EPERM,
				"ambient capabilities %#llx: raising them is locked (SECBIT_NO_CAP_AMBIENT_RAISE)",
				h->cap_ambient);
	new->cap_bset = bset;
	new->cap_ambient = amb;
	return 0;
}

/* read and check the CRED record, and build the cred to commit */
int restore_cred_read(struct ckpt_ctx *ctx)
{
	const struct cred *old = current_cred();
	struct ckpt_hdr_cred *h;
	struct cred *new;
	int ret;

	h = ckpt_read_obj_var(ctx, CKPT_HDR_CRED, sizeof(*h),
			      struct_size(h, groups, NGROUPS_MAX));
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = -EINVAL;
	if (h->ngroups > NGROUPS_MAX ||
	    h->h.len != struct_size(h, groups, h->ngroups)) {
		ckpt_err(ctx, ret, "CRED record of %u bytes for %u groups",
			 h->h.len, h->ngroups);
		goto out;
	}
	ret = -ENOMEM;
	new = prepare_creds();
	if (!new)
		goto out;
	ret = restore_cred_ids(ctx, h, old, new);
	if (!ret)
		ret = restore_cred_groups(ctx, h, old, new);
	if (!ret)
		ret = restore_cred_caps(ctx, h, old, new);
	if (!ret)
		ret = restore_cred_securebits(ctx, h->securebits, old, new);
	if (ret) {
		abort_creds(new);
		goto out;
	}
	ctx->rst.cred = new;
out:
	kvfree(h);
	return ret;
}

/*
 * At the end of restart: commit_creds() takes the reference.  A change
 * of euid, egid, fsuid, fsgid or capabilities resets the pdeath signal
 * and the dumpable flag: the caller restores them afterwards.
 */
void restore_cred_commit(struct ckpt_ctx *ctx)
{
	struct cred *new = ctx->rst.cred;

	ctx->rst.cred = NULL;
	if (new)
		commit_creds(new);
}

void restore_cred_free(struct ckpt_ctx *ctx)
{
	if (ctx->rst.cred)
		abort_creds(ctx->rst.cred);
	ctx->rst.cred = NULL;
}
