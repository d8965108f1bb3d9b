// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: pty pairs whose ends the checkpoint holds, one task
 * or several of a tree (CKPT_FILE_PTY files, CKPT_HDR_PTY), and the
 * controlling ttys of the sessions a tree leads (CKPT_HDR_CTTY, tree.c).
 *
 * A pair is numbered once per checkpoint (pty_ref, in order of first
 * appearance, whichever tasks hold its ends); each of its files is saved
 * once (objhash) and installed in every task holding it.
 * Saved once per pair, with its first file: the termios of both ends (a
 * master's is the driver's raw one: termios ioctls on it act on the slave), the
 * window size, packet mode and its pending status, the lock of the slave
 * (unlockpt()), and the input that each end has received and no read()
 * has taken (n_tty_peek(): the master's is what the slave wrote, the
 * slave's what the master wrote).  Restart opens a new pair on /dev/ptmx
 * of the caller (with its rights, as open() would), opens each slave file
 * on it as TIOCGPTPEER does, queues the saved input to each end while it
 * is in raw mode (so it is received as it was, without echo or input
 * processing), then sets the termios, the window size and the rest.  The
 * new pair has the pts number of the image in the caller's devpts
 * (ptmx_ckpt_want_index()): if a pty holds that number, restart fails
 * with EBUSY ("pty /dev/pts/N is in use") before anything of the caller
 * changed; beyond the devpts max= (or at the system's limit of ptys),
 * ENOSPC.
 *
 * Refused at checkpoint (EOPNOTSUPP, naming the descriptor): a pty whose
 * line discipline is not N_TTY, unread input in canonical mode (its line
 * boundaries are not kept), 4095 bytes or more of unread input (more may
 * wait in the flip buffers), stopped output (^S), O_ASYNC, a BSD pty, and
 * a pty opened through another device than /dev/ptmx, /dev/pts/N and
 * /dev/tty (a file of /dev/tty is one of the slave, whatever the holder's
 * controlling tty is now: restart opens /dev/tty with that slave as the
 * opener's controlling tty for the time of the open).  A pty any open
 * file of which (of either end) no task of the checkpoint holds is refused
 * with EBUSY, naming a holder outside.
 *
 * A controlling tty of a session the tree leads must be a pty of the
 * image (else EBUSY); restart gives it to the session leader as TIOCSCTTY
 * and TIOCSPGRP would (the new pty has no session: nothing is stolen),
 * and to the other tasks of the session as fork() would.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/checkpoint_hooks.h>
#include <linux/devpts_fs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/major.h>
#include <linux/mount.h>
#include <linux/slab.h>
#include <linux/tty.h>
#include <linux/tty_driver.h>
#include <linux/tty_flip.h>

#define CKPT_PTY_DATA_MAX	(N_TTY_BUF_SIZE - 1)
#define CKPT_PTY_FILE_FLAGS	(O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE)

/* restart: a pair made for the image */
struct ckpt_rst_pty {
	struct file *master;
	bool master_used;	/* the master's FILE was restored */
	bool locked;
};

struct ckpt_ptys {
	struct tty_struct **masters;	/* checkpoint: by pty_ref - 1 */
	struct ckpt_rst_pty *rst;	/* restart: by pty_ref - 1 */
	unsigned int n;
};

/* the tty of an open tty file (tty_add_file() set its private data) */
static struct tty_struct *ckpt_tty(struct file *file)
{
	return ((struct tty_file_private *)file->private_data)->tty;
}

/* the same, for any file of a tty device (NULL if it has none) */
static struct tty_struct *ckpt_file_tty(struct file *file)
{
	struct tty_file_private *priv = file->private_data;

	return priv ? priv->tty : NULL;
}

static bool ckpt_is_ptmx(struct inode *inode)
{
	return inode->i_rdev == MKDEV(TTYAUX_MAJOR, 2);
}

static bool ckpt_is_pts(struct inode *inode)
{
	unsigned int major = imajor(inode);

	return major >= UNIX98_PTY_SLAVE_MAJOR &&
	       major < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT;
}

/*
 * checkpoint: an open file of @tty that no task of the checkpoint holds,
 * referenced (fput()), or NULL; *@held: files of @tty that one holds.
 */
static struct file *ckpt_pty_outside(struct ckpt_ctx *ctx,
				     struct tty_struct *tty,
				     struct ckpt_fd *fds, int n, int *held)
{
	struct tty_file_private *priv;
	struct file *out = NULL;

	*held = 0;
	spin_lock(&tty->files_lock);
	list_for_each_entry(priv, &tty->tty_files, list) {
		if (ckpt_tree_holds(ctx, priv->file, fds, n))
			(*held)++;
		else if (!out)
			out = get_file(priv->file);
	}
	spin_unlock(&tty->files_lock);
	return out;
}

static bool ckpt_is_file(struct file *f, const void *file)
{
	return f == file;
}

/*
 * checkpoint: fds[@i], a tty, is an end of a pty pair every open file of
 * which (of either end) a task of the checkpoint holds; else EBUSY,
 * naming a holder outside as the pipe leak check does.
 */
int ckpt_pty_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
		      int i, const char *path)
{
	struct file *file = fds[i].file, *out;
	struct tty_struct *tty = ckpt_file_tty(file);
	struct inode *inode = file_inode(file);
	int fd = fds[i].fd, held, peer, ofd;
	pid_t other;
	bool master;

	if (!tty || !tty->link)
		return ckpt_err(ctx, -EBUSY,
				"pid %d fd %d: tty peer outside the checkpoint (%s)",
				ctx->tsk_pid, fd, path);
	out = ckpt_pty_outside(ctx, tty->link, fds, n, &peer);
	if (!out)
		out = ckpt_pty_outside(ctx, tty, fds, n, &held);
	if (out) {
		other = ckpt_tree_holder(ctx, ckpt_is_file, out, &ofd);
		fput(out);
		if (!other)
			return ckpt_err(ctx, -EBUSY,
					"pid %d fd %d: %s (%s) held outside the checkpoint",
					ctx->tsk_pid, fd,
					peer ? "pty end" : "tty peer", path);
		return ckpt_err(ctx, -EBUSY,
				"pid %d fd %d: %s outside the checkpoint (%s), held by pid %d fd %d",
				ctx->tsk_pid, fd, peer ? "pty end" : "tty peer",
				path, other, ofd);
	}
	if (!peer)
		return ckpt_err(ctx, -EBUSY,
				"pid %d fd %d: tty peer outside the checkpoint (%s)",
				ctx->tsk_pid, fd, path);
	if (tty->driver->type != TTY_DRIVER_TYPE_PTY ||
	    !(tty->driver->flags & TTY_DRIVER_DEVPTS_MEM))
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: BSD pty (%s) not supported",
				fd, path);
	master = tty->driver->subtype == PTY_TYPE_MASTER;
	if (master ? !ckpt_is_ptmx(inode) :
	    !ckpt_is_pts(inode) && inode->i_rdev != MKDEV(TTYAUX_MAJOR, 0))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s (a pty through another device) not supported",
				fd, path);
	if (file->f_flags & FASYNC)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: O_ASYNC signal-driven I/O not supported (%s)",
				fd, path);
	return CKPT_FILE_PTY;
}

static void ckpt_termios_save(struct tty_struct *tty, struct ckpt_termios *t)
{
	struct ktermios *k = &tty->termios;

	BUILD_BUG_ON(NCCS != CKPT_NCCS);
	down_read(&tty->termios_rwsem);
	t->c_iflag = k->c_iflag;
	t->c_oflag = k->c_oflag;
	t->c_cflag = k->c_cflag;
	t->c_lflag = k->c_lflag;
	t->c_ispeed = k->c_ispeed;
	t->c_ospeed = k->c_ospeed;
	t->c_line = k->c_line;
	memcpy(t->c_cc, k->c_cc, NCCS);
	up_read(&tty->termios_rwsem);
}

/* the unread input of one end, into @buf; else a refusal */
static int ckpt_pty_input(struct ckpt_ctx *ctx, struct tty_struct *tty,
			  int fd, unsigned char *buf, u32 *nbytes)
{
	const char *end = tty->driver->subtype == PTY_TYPE_MASTER ?
			  "master" : "slave";
	ssize_t n = n_tty_peek(tty, buf, N_TTY_BUF_SIZE);

	if (n == -EINVAL || tty->termios.c_line != N_TTY)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: pty %s with a line discipline other than N_TTY not supported",
				fd, end);
	if (n < 0)
		return ckpt_err(ctx, n, "fd %d: pty %s hung up", fd, end);
	if (n >= CKPT_PTY_DATA_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: pty %s with %zd bytes or more of unread input not supported",
				fd, end, n);
	if (n && L_ICANON(tty))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: pty %s with unread input in canonical mode (ICANON) not supported",
				fd, end);
	*nbytes = n;
	return 0;
}

/* the pair of @master: its pty_ref, a new one if @first */
static int ckpt_pty_ref(struct ckpt_ctx *ctx, struct tty_struct *master,
			bool *first)
{
	struct ckpt_ptys *p = ctx->ptys;
	struct tty_struct **m;
	unsigned int i;

	if (!p) {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		ctx->ptys = p;
	}
	for (i = 0; i < p->n; i++)
		if (p->masters[i] == master) {
			*first = false;
			return i + 1;
		}
	m = krealloc_array(p->masters, p->n + 1, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	p->masters = m;
	/* the task's files keep it: compared, never dereferenced later */
	m[p->n++] = master;
	*first = true;
	return p->n;
}

/* checkpoint: the PTY record of a file of a pty end, the pair's state first */
int checkpoint_pty(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct tty_struct *tty = ckpt_tty(file), *master, *slave;
	struct ckpt_hdr_pty h = { };
	unsigned char *buf;
	bool first;
	int ret, i;

	BUILD_BUG_ON(sizeof(h) != 136);
	master = tty->driver->subtype == PTY_TYPE_MASTER ? tty : tty->link;
	slave = master->link;
	h.end = tty == master ? CKPT_PTY_MASTER : CKPT_PTY_SLAVE;
	if (file_inode(file)->i_rdev == MKDEV(TTYAUX_MAJOR, 0))
		h.end = CKPT_PTY_DEVTTY;
	ret = ckpt_pty_ref(ctx, master, &first);
	if (ret < 0)
		return ret;
	h.pty_ref = ret;
	if (!first)
		return ckpt_write_obj(ctx, &h, CKPT_HDR_PTY, sizeof(h));
	buf = kmalloc(2 * N_TTY_BUF_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	h.index = slave->index;
	if (master->flow.stopped || slave->flow.stopped) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "fd %d: pty with its output stopped (^S, TCOOFF) not supported",
			       fd);
		goto out;
	}
	ret = ckpt_pty_input(ctx, master, fd, buf, &h.nbytes[0]);
	if (!ret)
		ret = ckpt_pty_input(ctx, slave, fd, buf + N_TTY_BUF_SIZE,
				     &h.nbytes[1]);
	if (ret)
		goto out;
	if (test_bit(TTY_PTY_LOCK, &master->flags))
		h.flags |= CKPT_PTY_LOCKED;
	spin_lock_irq(&master->ctrl.lock);
	if (master->ctrl.packet)
		h.flags |= CKPT_PTY_PACKET;
	spin_unlock_irq(&master->ctrl.lock);
	/* the pending status of packet mode is the slave's */
	spin_lock_irq(&slave->ctrl.lock);
	h.pktstatus = slave->ctrl.pktstatus;
	spin_unlock_irq(&slave->ctrl.lock);
	mutex_lock(&slave->winsize_mutex);
	h.ws_row = slave->winsize.ws_row;
	h.ws_col = slave->winsize.ws_col;
	h.ws_xpixel = slave->winsize.ws_xpixel;
	h.ws_ypixel = slave->winsize.ws_ypixel;
	mutex_unlock(&slave->winsize_mutex);
	ckpt_termios_save(master, &h.termios[0]);
	ckpt_termios_save(slave, &h.termios[1]);
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_PTY, sizeof(h));
	for (i = 0; i < 2 && !ret; i++) {
		if (!h.nbytes[i])
			continue;
		ret = ckpt_write_hdr(ctx, CKPT_HDR_BUFFER, h.nbytes[i]);
		if (!ret)
			ret = ckpt_kwrite(ctx, buf + i * N_TTY_BUF_SIZE,
					  h.nbytes[i]);
		if (!ret)
			ret = ckpt_write_pad(ctx, sizeof(struct ckpt_hdr) +
					     h.nbytes[i]);
	}
out:
	kfree(buf);
	return ret;
}

/* restart: the state of a new pair, hostile input */
static int restore_pty_check(struct ckpt_ctx *ctx, struct ckpt_hdr_pty *h)
{
	int i;

	if (h->flags & ~CKPT_PTY_FLAGS || h->pktstatus & ~0xffu || h->_padding ||
	    h->nbytes[0] >= CKPT_PTY_DATA_MAX || h->nbytes[1] >= CKPT_PTY_DATA_MAX ||
	    h->index >= NR_UNIX98_PTY_MAX)
		return ckpt_err(ctx, -EINVAL,
				"pty %d: bad flags %#x, status %#x, %u/%u bytes or number %u",
				h->pty_ref, h->flags, h->pktstatus, h->nbytes[0],
				h->nbytes[1], h->index);
	for (i = 0; i < 2; i++) {
		if (h->termios[i].c_line != N_TTY)
			return ckpt_err(ctx, -EINVAL, "pty %d: line discipline %u",
					h->pty_ref, h->termios[i].c_line);
		if (h->nbytes[i] && (h->termios[i].c_lflag & ICANON))
			return ckpt_err(ctx, -EINVAL,
					"pty %d: unread input in canonical mode",
					h->pty_ref);
	}
	return 0;
}

static void ckpt_termios_load(const struct ckpt_termios *t, struct ktermios *k)
{
	k->c_iflag = t->c_iflag;
	k->c_oflag = t->c_oflag;
	k->c_cflag = t->c_cflag;
	k->c_lflag = t->c_lflag;
	k->c_ispeed = t->c_ispeed;
	k->c_ospeed = t->c_ospeed;
	k->c_line = N_TTY;
	memcpy(k->c_cc, t->c_cc, NCCS);
}

/*
 * Restart: @n bytes of input from the image (a BUFFER) queued to @tty in
 * raw mode, received by its line discipline as they were; then its termios.
 */
static int restore_pty_end(struct ckpt_ctx *ctx, struct tty_struct *tty,
			   u32 n, const struct ckpt_termios *t,
			   unsigned char *buf)
{
	/* a master's termios is never set (its ioctls set the slave's): raw */
	bool master = tty->driver->subtype == PTY_TYPE_MASTER;
	struct ktermios k;
	struct ckpt_hdr h;
	int ret;

	if (n) {
		ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_BUFFER, sizeof(h) + n,
				    sizeof(h) + n);
		if (!ret)
			ret = ckpt_kread(ctx, buf, n);
		if (!ret)
			ret = ckpt_read_pad(ctx, h.len);
		if (ret)
			return ret;
		down_read(&tty->termios_rwsem);
		k = tty->termios;
		up_read(&tty->termios_rwsem);
		k.c_iflag = 0;
		k.c_oflag = 0;
		k.c_lflag = 0;
		if (!master)
			tty_set_termios(tty, &k);
		if (tty_insert_flip_string(tty->port, buf, n) != n)
			return -ENOMEM;
		tty_flip_buffer_push(tty->port);
		n_tty_flush_input(tty);
		if (n_tty_peek(tty, buf, N_TTY_BUF_SIZE) != n)
			return ckpt_err(ctx, -EIO, "pty: %u bytes of input not received",
					n);
	}
	if (master)
		return 0;
	down_read(&tty->termios_rwsem);
	k = tty->termios;
	up_read(&tty->termios_rwsem);
	ckpt_termios_load(t, &k);
	return tty_set_termios(tty, &k);
}

/* restart: a new pair on the caller's /dev/ptmx, in the state of @h */
static int restore_pty_new(struct ckpt_ctx *ctx, struct ckpt_hdr_pty *h,
			   struct ckpt_rst_pty *r)
{
	struct tty_struct *master, *slave;
	struct winsize ws = { };
	unsigned char *buf;
	int ret;

	ptmx_ckpt_want_index(h->index);
	r->master = ckpt_open_inode("/dev/ptmx", O_RDWR | O_LARGEFILE,
				    S_IFCHR, MKDEV(TTYAUX_MAJOR, 2));
	ptmx_ckpt_want_done();
	if (IS_ERR(r->master)) {
		ret = PTR_ERR(r->master);
		r->master = NULL;
		if (ret == -EBUSY)
			return ckpt_err(ctx, ret, "pty /dev/pts/%u is in use",
					h->index);
		if (ret == -ENOSPC)
			return ckpt_err(ctx, ret,
					"pty /dev/pts/%u: beyond the max of this devpts, or too many ptys",
					h->index);
		return ckpt_err(ctx, ret, "pty %d: cannot open /dev/ptmx",
				h->pty_ref);
	}
	master = ckpt_tty(r->master);
	slave = master->link;
	if (WARN_ON_ONCE(slave->index != h->index))
		return ckpt_err(ctx, -EIO, "pty /dev/pts/%u restored as /dev/pts/%d",
				h->index, slave->index);
	buf = kmalloc(N_TTY_BUF_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = restore_pty_end(ctx, master, h->nbytes[0], &h->termios[0], buf);
	if (!ret)
		ret = restore_pty_end(ctx, slave, h->nbytes[1], &h->termios[1],
				      buf);
	kfree(buf);
	if (ret)
		return ckpt_err(ctx, ret, "pty %d: cannot restore its state",
				h->pty_ref);
	ws.ws_row = h->ws_row;
	ws.ws_col = h->ws_col;
	ws.ws_xpixel = h->ws_xpixel;
	ws.ws_ypixel = h->ws_ypixel;
	/* as TIOCSWINSZ on either end: on the slave */
	if (slave->ops->resize)
		slave->ops->resize(slave, &ws);
	else
		tty_do_resize(slave, &ws);
	spin_lock_irq(&master->ctrl.lock);
	master->ctrl.packet = h->flags & CKPT_PTY_PACKET;
	spin_unlock_irq(&master->ctrl.lock);
	spin_lock_irq(&slave->ctrl.lock);
	slave->ctrl.pktstatus = h->pktstatus;
	spin_unlock_irq(&slave->ctrl.lock);
	r->locked = h->flags & CKPT_PTY_LOCKED;
	if (r->locked)
		set_bit(TTY_PTY_LOCK, &master->flags);
	else
		clear_bit(TTY_PTY_LOCK, &master->flags);
	return 0;
}

/* restart: a file of the slave of @r, as TIOCGPTPEER opens it */
static struct file *restore_pty_slave(struct ckpt_rst_pty *r, int flags)
{
	struct tty_struct *master = ckpt_tty(r->master);
	struct file *file;
	struct path path;

	path.mnt = devpts_mntget(r->master, master->driver_data);
	if (IS_ERR(path.mnt))
		return ERR_CAST(path.mnt);
	path.dentry = master->link->driver_data;
	clear_bit(TTY_PTY_LOCK, &master->flags);
	file = dentry_open(&path, flags | O_NOCTTY, current_cred());
	if (r->locked)
		set_bit(TTY_PTY_LOCK, &master->flags);
	mntput(path.mnt);
	return file;
}

/*
 * restart: a file of /dev/tty on the slave of @r.  Opening /dev/tty opens
 * the opener's controlling tty: for the time of the open, that is the
 * slave (the restoring task runs no code of its own meanwhile; its own is
 * put back at once, and the open changes no session: O_NOCTTY).  /dev/tty
 * files are always non-blocking; the image's flags are set after.
 */
static struct file *restore_pty_devtty(struct ckpt_rst_pty *r, int flags)
{
	struct tty_struct *master = ckpt_tty(r->master);
	struct tty_struct *slave = master->link, *own;
	struct file *file;

	spin_lock_irq(&current->sighand->siglock);
	own = current->signal->tty;
	current->signal->tty = tty_kref_get(slave);
	spin_unlock_irq(&current->sighand->siglock);
	clear_bit(TTY_PTY_LOCK, &master->flags);
	file = ckpt_open_inode("/dev/tty", (flags & ~O_NONBLOCK) | O_NOCTTY,
			       S_IFCHR, MKDEV(TTYAUX_MAJOR, 0));
	if (r->locked)
		set_bit(TTY_PTY_LOCK, &master->flags);
	spin_lock_irq(&current->sighand->siglock);
	current->signal->tty = own;
	spin_unlock_irq(&current->sighand->siglock);
	tty_kref_put(slave);
	if (IS_ERR(file))
		return file;
	if (ckpt_tty(file) != slave) {
		fput(file);
		return ERR_PTR(-EIO);
	}
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~O_NONBLOCK) | (flags & O_NONBLOCK);
	spin_unlock(&file->f_lock);
	return file;
}

/* restart: the file of a CKPT_FILE_PTY record @hf, from its CKPT_HDR_PTY */
struct file *restore_pty(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf)
{
	struct ckpt_ptys *p = ctx->ptys;
	struct ckpt_hdr_pty h;
	struct ckpt_rst_pty *r;
	struct file *file;
	int ret;

	ret = ckpt_read_obj(ctx, &h, CKPT_HDR_PTY, sizeof(h));
	if (ret)
		return ERR_PTR(ret);
	if (!p) {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			return ERR_PTR(-ENOMEM);
		ctx->ptys = p;
	}
	if (h.end < CKPT_PTY_MASTER || h.end > CKPT_PTY_DEVTTY ||
	    hf->f_flags & ~CKPT_PTY_FILE_FLAGS || hf->f_pos ||
	    (h.end == CKPT_PTY_MASTER &&
	     ((hf->f_flags & O_ACCMODE) != O_RDWR ||
	      hf->rdev != new_encode_dev(MKDEV(TTYAUX_MAJOR, 2)))) ||
	    (h.end == CKPT_PTY_DEVTTY &&
	     hf->rdev != new_encode_dev(MKDEV(TTYAUX_MAJOR, 0))) ||
	    (h.end == CKPT_PTY_SLAVE &&
	     (MAJOR(new_decode_dev(hf->rdev)) < UNIX98_PTY_SLAVE_MAJOR ||
	      MAJOR(new_decode_dev(hf->rdev)) >=
	      UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT)))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"pty %d: bad end %u, device %#x or flags %#o",
					h.pty_ref, h.end, hf->rdev, hf->f_flags));
	/* a tree's pairs are numbered once for all its tasks */
	if (h.pty_ref == p->n + 1 && p->n < NR_UNIX98_PTY_MAX) {
		ret = restore_pty_check(ctx, &h);
		if (ret)
			return ERR_PTR(ret);
		r = krealloc_array(p->rst, p->n + 1, sizeof(*r), GFP_KERNEL);
		if (!r)
			return ERR_PTR(-ENOMEM);
		p->rst = r;
		r += p->n++;
		memset(r, 0, sizeof(*r));
		ret = restore_pty_new(ctx, &h, r);
		if (ret)
			return ERR_PTR(ret);
	} else if (h.pty_ref >= 1 && h.pty_ref <= p->n) {
		r = &p->rst[h.pty_ref - 1];
		if (memchr_inv(&h.index, 0, sizeof(h) - offsetof(typeof(h), index)))
			return ERR_PTR(ckpt_err(ctx, -EINVAL, "pty %d repeated with its state",
						h.pty_ref));
	} else {
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "bad pty ref %d", h.pty_ref));
	}
	if (h.end == CKPT_PTY_DEVTTY) {
		file = restore_pty_devtty(r, hf->f_flags);
		if (IS_ERR(file))
			ckpt_err(ctx, PTR_ERR(file),
				 "pty %d: cannot open /dev/tty on its slave",
				 h.pty_ref);
		return file;
	}
	if (h.end == CKPT_PTY_SLAVE) {
		file = restore_pty_slave(r, hf->f_flags);
		if (IS_ERR(file))
			ckpt_err(ctx, PTR_ERR(file), "pty %d: cannot open its slave",
				 h.pty_ref);
		return file;
	}
	/* a master has one open file (another open of /dev/ptmx is another pair) */
	if (r->master_used)
		return ERR_PTR(ckpt_err(ctx, -EINVAL, "pty %d: a second master file",
					h.pty_ref));
	r->master_used = true;
	file = get_file(r->master);
	spin_lock(&file->f_lock);
	file->f_flags = (file->f_flags & ~(O_NONBLOCK | O_APPEND)) |
			(hf->f_flags & (O_NONBLOCK | O_APPEND));
	spin_unlock(&file->f_lock);
	return file;
}

/*
 * restart: every table of the image is read (the caller's, or those of
 * all the tasks of a tree): each pair has its master, which checkpoint
 * never saves without (a slave alone would hang up at the end).
 */
int restore_ptys_finish(struct ckpt_ctx *ctx)
{
	struct ckpt_ptys *p = ctx->ptys;
	unsigned int i;

	for (i = 0; p && i < p->n; i++)
		if (!p->rst[i].master_used)
			return ckpt_err(ctx, -EINVAL,
					"pty %u: a slave without its master", i + 1);
	return 0;
}

/* checkpoint: the pty_ref of the pair of @master, 0 if not in the image */
static int ckpt_pty_find(struct ckpt_ctx *ctx, struct tty_struct *master)
{
	struct ckpt_ptys *p = ctx->ptys;
	unsigned int i;

	for (i = 0; p && i < p->n; i++)
		if (p->masters[i] == master)
			return i + 1;
	return 0;
}

/*
 * checkpoint: the controlling tty of @t (@pid of the image), a task of a
 * session @sid that the tree leads, in @c; every file of the tree saved.
 * 1 if it has one, 0 if not, or a refusal: a tty that is not a pty of
 * the image (EBUSY, naming it), one of another session (EOPNOTSUPP).
 */
int checkpoint_ctty(struct ckpt_ctx *ctx, struct task_struct *t, pid_t pid,
		    pid_t sid, struct ckpt_ctty *c)
{
	struct tty_struct *tty, *master = NULL;
	struct pid *pg, *sess;
	int ret = 1;

	spin_lock_irq(&t->sighand->siglock);
	tty = tty_kref_get(t->signal->tty);
	spin_unlock_irq(&t->sighand->siglock);
	if (!tty)
		return 0;
	if (tty->driver->type == TTY_DRIVER_TYPE_PTY &&
	    tty->driver->flags & TTY_DRIVER_DEVPTS_MEM)
		master = tty->driver->subtype == PTY_TYPE_MASTER ? tty : tty->link;
	c->pid = pid;
	c->pty_ref = master ? ckpt_pty_find(ctx, master) : 0;
	spin_lock_irq(&tty->ctrl.lock);
	pg = get_pid(tty->ctrl.pgrp);
	sess = get_pid(tty->ctrl.session);
	spin_unlock_irq(&tty->ctrl.lock);
	c->pgrp = ckpt_pid_nr(ctx, pg);
	c->sid = ckpt_pid_nr(ctx, sess);
	if (!c->pty_ref || tty == master)
		ret = ckpt_err(ctx, -EBUSY,
			       "pid %d: session %d: its controlling tty %s is outside the checkpoint",
			       pid, sid, tty_name(tty));
	else if (c->sid != sid)
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "pid %d: its controlling tty %s is of session %d, not of its session %d",
			       pid, tty_name(tty), c->sid, sid);
	put_pid(pg);
	put_pid(sess);
	tty_kref_put(tty);
	return ret;
}

/* restart: the slave of pair @pty_ref (kept by the context), or NULL */
struct tty_struct *restore_ctty_tty(struct ckpt_ctx *ctx, int pty_ref)
{
	struct ckpt_ptys *p = ctx->ptys;

	if (!p || pty_ref < 1 || pty_ref > p->n || !p->rst[pty_ref - 1].master)
		return NULL;
	return ckpt_tty(p->rst[pty_ref - 1].master)->link;
}

/*
 * restart: @tty, new, becomes the controlling tty of @t (its session set
 * as in the image): for its session leader (@leader) as TIOCSCTTY then
 * TIOCSPGRP @pgrp (a group of its session) would make it, without
 * stealing; for another task of the session as fork() gives it.  EBUSY if
 * another session took it meanwhile (a task that opened /dev/pts/N).
 */
int restore_ctty_set(struct ckpt_ctx *ctx, struct task_struct *t,
		     struct tty_struct *tty, struct pid *pgrp, bool leader)
{
	struct pid *sess;
	int ret = 0;

	tty_lock(tty);
	read_lock(&tasklist_lock);
	sess = task_session(t);
	spin_lock_irq(&t->sighand->siglock);
	spin_lock(&tty->ctrl.lock);
	if (leader ? !!tty->ctrl.session : tty->ctrl.session != sess) {
		ret = -EBUSY;
	} else if (t->signal->tty != tty) {
		if (leader) {
			tty->ctrl.session = get_pid(sess);
			tty->ctrl.pgrp = get_pid(pgrp);
		}
		/* as __proc_set_tty(): the session's tty, no old group */
		tty_kref_put(t->signal->tty);
		put_pid(t->signal->tty_old_pgrp);
		t->signal->tty = tty_kref_get(tty);
		t->signal->tty_old_pgrp = NULL;
	}
	spin_unlock(&tty->ctrl.lock);
	spin_unlock_irq(&t->sighand->siglock);
	read_unlock(&tasklist_lock);
	tty_unlock(tty);
	if (ret)
		return ckpt_err(ctx, ret,
				"pty /dev/pts/%d: the controlling tty of another session",
				tty->index);
	return 0;
}

/*
 * restart failed after restore_ctty_set() gave @tty to the caller, a
 * session leader: it is no longer the caller's, nor of its session (so
 * that its hangup, when the master is released, signals nobody).
 */
void restore_ctty_undo(struct tty_struct *tty)
{
	struct pid *sess = NULL, *pgrp = NULL;

	tty_lock(tty);
	spin_lock_irq(&tty->ctrl.lock);
	if (tty->ctrl.session == task_session(current)) {
		sess = tty->ctrl.session;
		pgrp = tty->ctrl.pgrp;
		tty->ctrl.session = NULL;
		tty->ctrl.pgrp = NULL;
	}
	spin_unlock_irq(&tty->ctrl.lock);
	tty_unlock(tty);
	put_pid(sess);
	put_pid(pgrp);
	if (current->signal->tty == tty)
		proc_clear_tty(current);
}

void ckpt_ptys_free(struct ckpt_ctx *ctx)
{
	struct ckpt_ptys *p = ctx->ptys;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; p->rst && i < p->n; i++)
		if (p->rst[i].master)
			fput(p->rst[i].master);
	kfree(p->rst);
	kfree(p->masters);
	kfree(p);
	ctx->ptys = NULL;
}
