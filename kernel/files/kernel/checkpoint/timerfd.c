// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: timerfd files.
 *
 * CKPT_HDR_TIMERFD holds the clock, the timerfd_settime() flags, the next
 * expiry, the interval and the expirations not yet read (an expired
 * periodic timer is counted as read() would count it, without changing
 * it).  Time while checkpointed is treated as for the interval timers: a
 * relative timer resumes with the time it had left, as if time had stopped;
 * a TFD_TIMER_ABSTIME timer keeps its deadline on its clock (a
 * CLOCK_REALTIME one exactly; the expirations it passed meanwhile are
 * counted when it fires at restart).  TFD_TIMER_CANCEL_ON_SET is set again;
 * a timer already canceled by a clock change, not yet read, is refused, and
 * so are the alarm clocks (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM).
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/fs.h>
#include <linux/time64.h>
#include <linux/timerfd.h>

bool ckpt_is_timerfd(struct file *file)
{
	struct timerfd_ckpt st;

	return !timerfd_ckpt_get(file, &st);
}

/* refusals, before anything is written */
int ckpt_timerfd_classify(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct timerfd_ckpt st;

	timerfd_ckpt_get(file, &st);
	if (st.clockid == CLOCK_REALTIME_ALARM ||
	    st.clockid == CLOCK_BOOTTIME_ALARM)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: timerfd on the alarm clock %d (CLOCK_*_ALARM) not supported",
				fd, st.clockid);
	if (st.canceled)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: timerfd canceled by a clock change (TFD_TIMER_CANCEL_ON_SET), not yet read: not supported",
				fd);
	return CKPT_FILE_TIMERFD;
}

int checkpoint_timerfd(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct ckpt_hdr_timerfd h = { };
	struct timerfd_ckpt st;
	int ret;

	BUILD_BUG_ON(sizeof(h) != 48);
	ret = timerfd_ckpt_get(file, &st);
	if (ret)
		return ckpt_err(ctx, ret, "fd %d: not a timerfd", fd);
	h.clockid = st.clockid;
	h.flags = st.flags;
	h.interval_ns = st.interval;
	h.ticks = st.ticks;
	if (st.expires && (st.flags & TFD_TIMER_ABSTIME))
		h.value_ns = st.expires;
	else if (st.expires)
		h.value_ns = max_t(s64, ktime_sub(st.expires, st.now), 1);
	return ckpt_write_obj(ctx, &h, CKPT_HDR_TIMERFD, sizeof(h));
}

struct file *restore_timerfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_hdr_timerfd h;
	struct itimerspec64 t;
	struct file *file;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_TIMERFD, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if ((h.clockid != CLOCK_REALTIME && h.clockid != CLOCK_MONOTONIC &&
	     h.clockid != CLOCK_BOOTTIME) || h.flags & ~TFD_SETTIME_FLAGS ||
	    h.value_ns > KTIME_MAX || h.interval_ns > KTIME_MAX ||
	    h._reserved)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"timerfd objref %d: bad clock %d, flags %#x or times",
					hf->objref, h.clockid, h.flags));
	t.it_value = ns_to_timespec64(h.value_ns);
	t.it_interval = ns_to_timespec64(h.interval_ns);
	file = timerfd_ckpt_create(h.clockid, hf->f_flags & O_NONBLOCK,
				   h.flags, &t, h.ticks);
	if (IS_ERR(file))
		ckpt_err(ctx, PTR_ERR(file), "timerfd objref %d: cannot arm it",
			 hf->objref);
	return file;
}
