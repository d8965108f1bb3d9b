// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart: the descriptor table and the files reopened by path
 * (regular files, directories, O_PATH descriptors, the memory character
 * devices), with their flags, position and SIGIO owner; the refusals of
 * every other kind of file, by name.
 */
#define pr_fmt(fmt) "c/r: " fmt

#include <linux/checkpoint_ctx.h>
#include <linux/fcntl.h>
#include <linux/errseq.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/kdev_t.h>
#include <linux/major.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tty.h>

/* character devices that are restored by reopening their path */
static const dev_t ckpt_chr_devs[] = {
	MKDEV(MEM_MAJOR, 3),	/* /dev/null */
	MKDEV(MEM_MAJOR, 5),	/* /dev/zero */
	MKDEV(MEM_MAJOR, 7),	/* /dev/full */
	MKDEV(MEM_MAJOR, 8),	/* /dev/random */
	MKDEV(MEM_MAJOR, 9),	/* /dev/urandom */
};

/*
 * The file status and open flags that a file keeps and that restart
 * passes to its open (O_PATH opens take only O_DIRECTORY and O_NOFOLLOW
 * besides).  FASYNC is only a flag for a file without ->fasync; a file
 * with it (signal-driven I/O: a socket, a pipe, a tty, /dev/random) is
 * armed again as fcntl(F_SETFL, O_ASYNC) arms it, once the descriptor
 * table is final (restore_files_fasync()).  O_CLOEXEC is per descriptor.
 */
#define CKPT_FILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | \
			 FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | \
			 O_NOFOLLOW | O_NOATIME | __O_SYNC | O_PATH)

/*
 * An O_TMPFILE file keeps __O_TMPFILE (with O_DIRECTORY) in its flags,
 * linked since or not; only an open looks at it, so restart sets it after
 * the open.
 */
#define CKPT_FILE_ALL_FLAGS	(CKPT_FILE_FLAGS | O_TMPFILE)

/* the flags of an anonymous-inode file that are saved */
#define CKPT_ANON_FLAGS		(O_ACCMODE | O_NONBLOCK)
static bool ckpt_chr_dev_ok(dev_t rdev)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ckpt_chr_devs); i++)
		if (ckpt_chr_devs[i] == rdev)
			return true;
	return false;
}

/*
 * Open @name for restart only if it is still the inode type @type (S_IFMT
 * bits; and device @rdev for a device): it is looked up first, so that
 * nothing else is opened (a tty would become the controlling terminal, a
 * FIFO open would block); then opened with O_NOCTTY and the caller's
 * rights, and checked to be the very inode that was looked up, in case it
 * was replaced in between.  -ESTALE if it is of another type.  O_NOFOLLOW
 * (an O_PATH descriptor of a symlink) looks up the link itself.
 */
struct file *ckpt_open_inode(const char *name, int flags, umode_t type,
			     dev_t rdev)
{
	struct inode *inode;
	struct file *file;
	struct path path;
	int err;

	err = kern_path(name, flags & O_NOFOLLOW ? 0 : LOOKUP_FOLLOW, &path);
	if (err)
		return ERR_PTR(err);
	inode = d_inode(path.dentry);
	if ((inode->i_mode & S_IFMT) != type ||
	    ((S_ISCHR(type) || S_ISBLK(type)) && inode->i_rdev != rdev)) {
		path_put(&path);
		return ERR_PTR(-ESTALE);
	}
	file = filp_open(name, flags | O_NOCTTY, 0);
	if (!IS_ERR(file) && (file->f_path.dentry != path.dentry ||
			      file->f_path.mnt != path.mnt)) {
		fput(file);
		file = ERR_PTR(-ESTALE);
	}
	path_put(&path);
	return file;
}

/* a regular file (CKPT_FILE_REG): mapped files and the executable */
struct file *ckpt_open_path(const char *name, int flags, int type)
{
	if (type != CKPT_FILE_REG)
		return ERR_PTR(-EINVAL);
	return ckpt_open_inode(name, flags, S_IFREG, 0);
}

static bool ckpt_is_tty(struct inode *inode)
{
	unsigned int major = imajor(inode);

	return S_ISCHR(inode->i_mode) &&
	       (major == TTY_MAJOR || major == TTYAUX_MAJOR ||
		(major >= UNIX98_PTY_MASTER_MAJOR &&
		 major < UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT));
}

/*
 * Anonymous-inode files: eventfd, epoll, signalfd, timerfd and inotify are
 * saved (eventfd.c, eventpoll.c, signalfd.c, timerfd.c, inotify.c), with
 * the status flag
 * O_NONBLOCK only; every other kind (io_uring, userfaultfd, bpf, perf
 * events, fanotify, ...) is refused by name.
 */
/* inotify files are read-only, the others read-write */
static int ckpt_anon_acc(int type)
{
	return type == CKPT_FILE_INOTIFY ? O_RDONLY : O_RDWR;
}

static int ckpt_anon_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds,
			      int n, int i, const char *path)
{
	struct file *file = fds[i].file;
	int fd = fds[i].fd, type;

	if (ckpt_is_eventfd(file))
		type = CKPT_FILE_EVENTFD;
	else if (ckpt_is_epoll(file))
		type = CKPT_FILE_EPOLL;
	else if (ckpt_is_signalfd(file))
		type = CKPT_FILE_SIGNALFD;
	else if (ckpt_is_timerfd(file))
		type = CKPT_FILE_TIMERFD;
	else if (ckpt_is_inotify(file))
		type = CKPT_FILE_INOTIFY;
	else
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: %s not supported",
				fd, path);
	if ((file->f_flags & ~CKPT_ANON_FLAGS) ||
	    (file->f_flags & O_ACCMODE) != ckpt_anon_acc(type))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s with flags %#o not supported", fd,
				path, file->f_flags);
	if (type == CKPT_FILE_EPOLL)
		return ckpt_epoll_classify(ctx, fds, n, i);
	if (type == CKPT_FILE_TIMERFD)
		return ckpt_timerfd_classify(ctx, file, fd);
	if (type == CKPT_FILE_INOTIFY)
		return ckpt_inotify_classify(ctx, file, fd);
	return type;
}

static bool ckpt_anon_type(int type)
{
	return type == CKPT_FILE_EVENTFD || type == CKPT_FILE_EPOLL ||
	       type == CKPT_FILE_SIGNALFD || type == CKPT_FILE_TIMERFD ||
	       type == CKPT_FILE_INOTIFY;
}

/* the record of an anonymous-inode file, after its FILE and STRING */
static int checkpoint_anon(struct ckpt_ctx *ctx, struct file *file, int fd,
			   int type)
{
	switch (type) {
	case CKPT_FILE_EVENTFD:
		return checkpoint_eventfd(ctx, file, fd);
	case CKPT_FILE_EPOLL:
		return checkpoint_epoll(ctx, file, fd);
	case CKPT_FILE_SIGNALFD:
		return checkpoint_signalfd(ctx, file, fd);
	case CKPT_FILE_TIMERFD:
		return checkpoint_timerfd(ctx, file, fd);
	case CKPT_FILE_INOTIFY:
		return checkpoint_inotify(ctx, file, fd);
	}
	return 0;
}

static struct file *restore_anon(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h)
{
	switch (h->f_type) {
	case CKPT_FILE_EVENTFD:
		return restore_eventfd(ctx, h);
	case CKPT_FILE_EPOLL:
		return restore_epoll(ctx, h);
	case CKPT_FILE_SIGNALFD:
		return restore_signalfd(ctx, h);
	case CKPT_FILE_INOTIFY:
		return restore_inotify(ctx, h);
	default:
		return restore_timerfd(ctx, h);
	}
}

/*
 * What kind of file fds[@i] is for the image (CKPT_FILE_*), or an error
 * with a logfd line naming the descriptor: EBUSY for a file whose other
 * end is outside the checkpoint (a tty, a pipe), EOPNOTSUPP for a kind
 * that is not restored (sockets, deleted files, other devices, anonymous
 * inodes such as eventfd, epoll, io_uring, userfaultfd, bpf, perf events,
 * fanotify ...).
 */
static int ckpt_file_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds,
			      int n, int i, char *buf)
{
	struct file *file = fds[i].file;
	struct inode *inode = file_inode(file);
	umode_t mode = inode->i_mode;
	int fd = fds[i].fd;
	char *path;

	path = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(path))
		return ckpt_err(ctx, PTR_ERR(path), "fd %d: path too long", fd);
	if (!(mode & S_IFMT) && !(file->f_mode & FMODE_PATH))
		return ckpt_anon_classify(ctx, fds, n, i, path);
	if (!(mode & S_IFMT))
		return ckpt_err(ctx, -EOPNOTSUPP, "fd %d: %s not supported",
				fd, path);
	if (S_ISSOCK(mode) && !(file->f_mode & FMODE_PATH))
		return ckpt_socket_classify(ctx, fds, n, i);
	if (S_ISFIFO(mode) && !(file->f_mode & FMODE_PATH))
		return ckpt_pipe_classify(ctx, fds, n, i, path);
	if (ckpt_is_tty(inode) && !(file->f_mode & FMODE_PATH))
		return ckpt_pty_classify(ctx, fds, n, i, path);
	/* unlinked files, and pseudo files (memfd, ...) of no directory */
	if (d_unlinked(file->f_path.dentry) ||
	    (IS_ROOT(file->f_path.dentry) &&
	     file->f_path.dentry != file->f_path.mnt->mnt_root)) {
		if (!d_unlinked(file->f_path.dentry) && !ckpt_is_memfd(file))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: internal file %s not supported",
					fd, path);
		return ckpt_unlinked_classify(ctx, file, fd, path);
	}
	if (*path != '/')
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: file outside the root: %s", fd, path);
	if (file->f_mode & FMODE_PATH)
		return CKPT_FILE_PATH;
	/* fsync() on it would report it; a reopened file would not */
	if (S_ISREG(mode) &&
	    errseq_check(&file->f_mapping->wb_err, READ_ONCE(file->f_wb_err)))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: a writeback error not yet reported to it (%s)",
				fd, path);
	if (S_ISREG(mode))
		return CKPT_FILE_REG;
	if (S_ISDIR(mode))
		return CKPT_FILE_DIR;
	if (S_ISCHR(mode) && ckpt_chr_dev_ok(inode->i_rdev))
		return CKPT_FILE_CHR;
	return ckpt_err(ctx, -EOPNOTSUPP,
			"fd %d: %s device %u:%u (%s) not supported", fd,
			S_ISBLK(mode) ? "block" : "character", imajor(inode),
			iminor(inode), path);
}

/* owner of the file's SIGIO: only the task itself can be restored */
static int ckpt_file_owner(struct ckpt_ctx *ctx, struct task_struct *t,
			   struct file *file, int fd, struct ckpt_hdr_file *h)
{
	struct fown_struct *fown = &file->f_owner;
	int ret = 0;

	read_lock_irq(&fown->lock);
	h->f_signum = fown->signum;
	if (!fown->pid)
		h->f_owner = CKPT_FOWN_NONE;
	else if (fown->pid == task_tgid(t) && fown->pid_type == PIDTYPE_TGID)
		h->f_owner = CKPT_FOWN_SELF;
	else if (fown->pid == task_pid(t) && fown->pid_type == PIDTYPE_PID)
		h->f_owner = CKPT_FOWN_SELF_TID;
	else
		ret = -EOPNOTSUPP;
	read_unlock_irq(&fown->lock);
	if (ret)
		return ckpt_err(ctx, ret,
				"fd %d: F_SETOWN owner outside the checkpoint (another process or a process group)",
				fd);
	return 0;
}

/*
 * CKPT_HDR_FILE, its path, its pipe and its locks, the first time a file
 * is seen.  @posix: the POSIX locks of the task on this inode go with this
 * file (its first file of the inode that is not O_PATH); for a pipe, an
 * unlinked file or a memfd, it is also the first file of inode @ref, which
 * carries the data.
 */
static int checkpoint_file(struct ckpt_ctx *ctx, struct task_struct *t,
			   struct ckpt_fd *f, int type, int objref,
			   struct files_struct *files, bool posix, int ref,
			   bool ref_first, char *buf)
{
	struct file *file = f->file;
	struct inode *inode = file_inode(file);
	struct ckpt_hdr_file h = { };
	struct ckpt_hdr_file_lock *locks = NULL;
	char *path;
	int ret;

	path = d_path(&file->f_path, buf, PATH_MAX);
	if (IS_ERR(path))
		return ckpt_err(ctx, PTR_ERR(path), "fd %d: path too long",
				f->fd);
	h.objref = objref;
	h.f_type = type;
	h.f_flags = file->f_flags & CKPT_FILE_ALL_FLAGS;
	h.f_mode = file->f_mode & (FMODE_READ | FMODE_WRITE);
	h.f_pos = file->f_pos;
	h.i_size = i_size_read(inode);
	h.i_mode = inode->i_mode & S_IFMT;
	if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode))
		h.rdev = new_encode_dev(inode->i_rdev);
	ret = ckpt_file_owner(ctx, t, file, f->fd, &h);
	if (ret)
		return ret;
	if (type != CKPT_FILE_PATH) {
		ret = checkpoint_file_locks(ctx, file, f->fd,
					    posix ? files : NULL, &locks);
		if (ret < 0)
			return ret;
		h.nlocks = ret;
	}
	/* anonymous inodes share one inode: its locks are no file's */
	if (ckpt_anon_type(type) && h.nlocks) {
		kvfree(locks);
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: locks on %s not supported", f->fd,
				path);
	}
	/* what restart creates: the old name, or the memfd's name */
	if (type == CKPT_FILE_DELETED)
		ckpt_unlinked_path(path);
	if (type == CKPT_FILE_MEMFD)
		path = (char *)file->f_path.dentry->d_name.name;
	ret = ckpt_write_obj(ctx, &h, CKPT_HDR_FILE, sizeof(h));
	if (!ret)
		ret = ckpt_write_string(ctx, path);
	if (!ret && type == CKPT_FILE_PIPE)
		ret = checkpoint_pipe(ctx, file, f->fd, ref, ref_first);
	if (!ret && type == CKPT_FILE_FIFO)
		ret = checkpoint_fifo(ctx, file, f->fd, ref, ref_first);
	if (!ret && (type == CKPT_FILE_DELETED || type == CKPT_FILE_MEMFD))
		ret = checkpoint_file_data(ctx, file, f->fd, ref, ref_first);
	if (!ret && type == CKPT_FILE_SOCKET)
		ret = checkpoint_socket(ctx, file, f->fd);
	if (!ret && type == CKPT_FILE_PTY)
		ret = checkpoint_pty(ctx, file, f->fd);
	if (!ret && ckpt_anon_type(type))
		ret = checkpoint_anon(ctx, file, f->fd, type);
	if (!ret)
		ret = checkpoint_file_locks_write(ctx, locks, h.nlocks);
	kvfree(locks);
	return ret;
}

/*
 * Snapshot the descriptor table of @t; *@pfiles: the table (the owner of
 * the task's POSIX locks; compared, never dereferenced).
 */
int ckpt_collect_fds(struct task_struct *t, struct ckpt_fd **pfds,
		     struct files_struct **pfiles)
{
	struct files_struct *files;
	struct ckpt_fd *fds = NULL;
	struct fdtable *fdt;
	unsigned int max, fd;
	int n;

	task_lock(t);
	files = t->files;
	if (files)
		atomic_inc(&files->count);
	task_unlock(t);
	*pfiles = files;
	if (!files)
		return 0;
again:
	rcu_read_lock();
	max = files_fdtable(files)->max_fds;
	rcu_read_unlock();
	kvfree(fds);
	fds = kvcalloc(max, sizeof(*fds), GFP_KERNEL);
	if (!fds) {
		put_files_struct(files);
		return -ENOMEM;
	}
	n = 0;
	spin_lock(&files->file_lock);
	fdt = files_fdtable(files);
	if (fdt->max_fds != max) {
		spin_unlock(&files->file_lock);
		goto again;
	}
	for (fd = 0; fd < max; fd++) {
		struct file *file = rcu_dereference_protected(fdt->fd[fd],
				lockdep_is_held(&files->file_lock));

		if (!file)
			continue;
		get_file(file);
		fds[n].file = file;
		fds[n].fd = fd;
		fds[n].cloexec = close_on_exec(fd, fdt);
		n++;
	}
	spin_unlock(&files->file_lock);
	put_files_struct(files);
	*pfds = fds;
	return n;
}

/* inodes seen: their POSIX locks are in the image; a pipe's or content's ref */
struct ckpt_inode_seen {
	struct hlist_node node;
	struct inode *inode;
	int ref;
};

/* the entry of @inode, @slot if it is new (*@first) */
static struct ckpt_inode_seen *ckpt_inode_seen(struct hlist_head *seen,
					       unsigned int bits,
					       struct ckpt_inode_seen *slot,
					       struct inode *inode, bool *first)
{
	struct hlist_head *head = &seen[hash_ptr(inode, bits)];
	struct ckpt_inode_seen *s;

	hlist_for_each_entry(s, head, node)
		if (s->inode == inode) {
			*first = false;
			return s;
		}
	slot->inode = inode;
	hlist_add_head(&slot->node, head);
	*first = true;
	return slot;
}

#define CKPT_SEEN_BITS	8

static int checkpoint_fds(struct ckpt_ctx *ctx, struct task_struct *t,
			  struct ckpt_fd *fds, int n, int *types,
			  struct files_struct *files, char *buf)
{
	struct ckpt_inode_seen *slots, *ino;
	struct hlist_head *seen;
	int i, ret = 0;

	seen = kcalloc(1 << CKPT_SEEN_BITS, sizeof(*seen), GFP_KERNEL);
	slots = kvcalloc(max(n, 1), sizeof(*slots), GFP_KERNEL);
	if (!seen || !slots) {
		kfree(seen);
		kvfree(slots);
		return -ENOMEM;
	}
	for (i = 0; i < n && !ret; i++) {
		struct ckpt_hdr_file_desc hd = { };
		bool first, posix, ref_first;
		int objref, ref = 0;

		objref = ckpt_obj_lookup_add(ctx, fds[i].file, &first);
		if (objref < 0) {
			ret = objref;
			break;
		}
		if (first) {
			ino = ckpt_inode_seen(seen, CKPT_SEEN_BITS, &slots[i],
					      file_inode(fds[i].file), &posix);
			/* a pipe, FIFO or content: per checkpoint (objhash.c) */
			ref_first = false;
			if (types[i] == CKPT_FILE_PIPE ||
			    types[i] == CKPT_FILE_FIFO ||
			    types[i] == CKPT_FILE_DELETED ||
			    types[i] == CKPT_FILE_MEMFD)
				ref = ckpt_obj_inode_ref(ctx, ino->inode,
							 types[i], &ref_first);
			if (ref < 0) {
				ret = ref;
				break;
			}
			/* its mappings map the restored memfd or file (shmem.c) */
			if (ref_first && (types[i] == CKPT_FILE_MEMFD ||
					  (types[i] == CKPT_FILE_DELETED &&
					   ckpt_shmem_deleted(fds[i].file))))
				ret = ckpt_shmem_note_memfd(ctx, fds[i].file,
							    ref);
			/* O_PATH files have no locks, another file may */
			if (posix && types[i] == CKPT_FILE_PATH) {
				hlist_del(&ino->node);
				posix = false;
			}
			if (!ret)
				ret = checkpoint_file(ctx, t, &fds[i], types[i],
						      objref, files, posix, ref,
						      ref_first, buf);
		} else if (types[i] == CKPT_FILE_EPOLL) {
			/* its items went with the table that had it first */
			types[i] = 0;
		}
		if (ret)
			break;
		hd.fd = fds[i].fd;
		hd.objref = objref;
		hd.close_on_exec = fds[i].cloexec;
		ret = ckpt_write_obj(ctx, &hd, CKPT_HDR_FILE_DESC, sizeof(hd));
	}
	kfree(seen);
	kvfree(slots);
	return ret;
}

int checkpoint_files(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_file_table ht = { };
	struct files_struct *files = NULL;
	struct ckpt_fd *fds = NULL;
	int *types = NULL;
	char *buf;
	int i, n, ret;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = ckpt_collect_fds(t, &fds, &files);
	if (n < 0) {
		kfree(buf);
		return n;
	}
	ret = -ENOMEM;
	types = kvcalloc(max(n, 1), sizeof(*types), GFP_KERNEL);
	if (!types)
		goto out;

	/* refuse unsupported descriptors before writing anything */
	ctx->ckpt_fds = fds;
	ctx->ckpt_nfds = n;
	ret = 0;
	for (i = 0; i < n && !ret; i++) {
		types[i] = ckpt_file_classify(ctx, fds, n, i, buf);
		if (types[i] < 0)
			ret = types[i];
	}
	ht.nfds = n;
	if (!ret)
		ret = ckpt_write_obj(ctx, &ht, CKPT_HDR_FILE_TABLE, sizeof(ht));
	if (!ret)
		ret = checkpoint_fds(ctx, t, fds, n, types, files, buf);
	if (!ret)
		ret = checkpoint_epoll_items(ctx, fds, n, types);
out:
	ctx->ckpt_fds = NULL;
	ctx->ckpt_nfds = 0;
	for (i = 0; i < n; i++)
		fput(fds[i].file);
	kvfree(fds);
	kvfree(types);
	kfree(buf);
	return ret;
}

/* restart: the checks of a CKPT_HDR_FILE record before its path is opened */
static int restore_file_check(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h)
{
	u32 acc = h->f_flags & O_ACCMODE, mode = 0;
	umode_t type = h->i_mode;
	bool is_path;
	int ok;

	if (h->objref != ctx->next_objref + 1)
		return ckpt_err(ctx, -EINVAL, "file objref %d out of order",
				h->objref);
	if (h->f_flags & ~CKPT_FILE_ALL_FLAGS || acc == O_ACCMODE ||
	    ((h->f_flags & __O_TMPFILE) &&
	     ((h->f_flags & O_TMPFILE) != O_TMPFILE || acc == O_RDONLY ||
	      (h->f_type != CKPT_FILE_REG && h->f_type != CKPT_FILE_DELETED))))
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad flags %#o",
				h->objref, h->f_flags);
	if (acc == O_RDONLY || acc == O_RDWR)
		mode |= FMODE_READ;
	if (acc == O_WRONLY || acc == O_RDWR)
		mode |= FMODE_WRITE;
	if (h->f_flags & O_PATH) {
		mode = 0;
		if (h->f_flags & ~(O_PATH | O_DIRECTORY | O_NOFOLLOW))
			return ckpt_err(ctx, -EINVAL,
					"file objref %d: bad O_PATH flags %#o",
					h->objref, h->f_flags);
	}
	if (h->f_mode != mode)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad mode %#x",
				h->objref, h->f_mode);
	if (type & ~S_IFMT || h->_padding)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad inode type %#o",
				h->objref, type);
	switch (h->f_type) {
	case CKPT_FILE_REG:
		ok = S_ISREG(type);
		break;
	case CKPT_FILE_DIR:
		ok = S_ISDIR(type);
		break;
	case CKPT_FILE_CHR:
		ok = S_ISCHR(type) && ckpt_chr_dev_ok(new_decode_dev(h->rdev));
		break;
	case CKPT_FILE_PIPE:
	case CKPT_FILE_FIFO:
		ok = S_ISFIFO(type);
		break;
	case CKPT_FILE_DELETED:
	case CKPT_FILE_MEMFD:
		ok = S_ISREG(type);
		break;
	case CKPT_FILE_SOCKET:
		ok = S_ISSOCK(type) && acc == O_RDWR;
		break;
	case CKPT_FILE_PTY:
		ok = S_ISCHR(type);	/* the device: restore_pty() */
		break;
	case CKPT_FILE_EVENTFD:
	case CKPT_FILE_EPOLL:
	case CKPT_FILE_SIGNALFD:
	case CKPT_FILE_TIMERFD:
	case CKPT_FILE_INOTIFY:
		ok = !type && !(h->f_flags & ~CKPT_ANON_FLAGS) &&
		     acc == ckpt_anon_acc(h->f_type) && !h->nlocks &&
		     !h->f_pos;
		break;
	case CKPT_FILE_PATH:
		ok = (S_ISREG(type) || S_ISDIR(type) || S_ISCHR(type) ||
		      S_ISBLK(type) || S_ISFIFO(type) || S_ISSOCK(type) ||
		      S_ISLNK(type)) && !h->nlocks;
		break;
	default:
		ok = 0;
	}
	is_path = h->f_type == CKPT_FILE_PATH;
	if (!ok || is_path != !!(h->f_flags & O_PATH))
		return ckpt_err(ctx, -EINVAL,
				"file objref %d: bad type %u (inode type %#o, device %#x)",
				h->objref, h->f_type, type, h->rdev);
	if (!S_ISCHR(type) && !S_ISBLK(type) && h->rdev)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad device",
				h->objref);
	if (h->f_pos < 0)
		return ckpt_err(ctx, -EINVAL, "file objref %d: bad position",
				h->objref);
	if (h->nlocks > CKPT_FILE_LOCKS_MAX)
		return ckpt_err(ctx, -EINVAL, "file objref %d: %u locks",
				h->objref, h->nlocks);
	if (h->f_owner > CKPT_FOWN_SELF_TID ||
	    (h->f_signum && !valid_signal(h->f_signum)))
		return ckpt_err(ctx, -EINVAL,
				"file objref %d: bad owner %u or signal %u",
				h->objref, h->f_owner, h->f_signum);
	return 0;
}

/* restart: the file's position, SIGIO owner and signal */
static int restore_file_state(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h,
			      struct file *file, const char *path)
{
	u32 flags;

	if (h->f_flags & __O_TMPFILE) {
		spin_lock(&file->f_lock);
		file->f_flags |= O_TMPFILE;
		spin_unlock(&file->f_lock);
	}
	/*
	 * Signal-driven I/O is armed at commit (restore_files_fasync()): the
	 * flag marks the file until then, on no fasync list, so that restoring
	 * its data sends no SIGIO; __fput() of a failed restart finds no entry.
	 */
	if ((h->f_flags & FASYNC) && file->f_op->fasync) {
		spin_lock(&file->f_lock);
		file->f_flags |= FASYNC;
		spin_unlock(&file->f_lock);
	}
	flags = file->f_flags & CKPT_FILE_ALL_FLAGS;
	if (flags != h->f_flags)
		return ckpt_err(ctx, -EINVAL, "%s: opened with flags %#o, image %#o",
				path, flags, h->f_flags);
	if (h->f_type != CKPT_FILE_CHR && h->f_type != CKPT_FILE_PATH &&
	    h->f_type != CKPT_FILE_PIPE && h->f_type != CKPT_FILE_FIFO &&
	    h->f_type != CKPT_FILE_PTY && !ckpt_anon_type(h->f_type) &&
	    h->f_pos) {
		loff_t pos = vfs_llseek(file, h->f_pos, SEEK_SET);

		if (pos != h->f_pos)
			return ckpt_err(ctx, pos < 0 ? (int)pos : -EINVAL,
					"%s: cannot seek to %lld", path,
					h->f_pos);
	}
	if (h->f_owner == CKPT_FOWN_SELF)
		__f_setown(file, task_tgid(current), PIDTYPE_TGID, 1);
	else if (h->f_owner == CKPT_FOWN_SELF_TID)
		__f_setown(file, task_pid(current), PIDTYPE_PID, 1);
	file->f_owner.signum = h->f_signum;
	return 0;
}

/* restart: open the file of a CKPT_HDR_FILE record and take its locks */
static int restore_file(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h)
{
	struct file *file;
	char *path;
	int ret;

	ret = restore_file_check(ctx, h);
	if (ret)
		return ret;
	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);

	if (h->f_type == CKPT_FILE_PIPE)
		file = restore_pipe(ctx, h);
	else if (h->f_type == CKPT_FILE_FIFO)
		file = restore_fifo(ctx, h, path);
	else if (h->f_type == CKPT_FILE_DELETED || h->f_type == CKPT_FILE_MEMFD)
		file = restore_file_data(ctx, h, path);
	else if (h->f_type == CKPT_FILE_SOCKET)
		file = restore_socket(ctx, h);
	else if (h->f_type == CKPT_FILE_PTY)
		file = restore_pty(ctx, h);
	else if (ckpt_anon_type(h->f_type))
		file = restore_anon(ctx, h);
	else
		file = ckpt_open_inode(path, h->f_flags & __O_TMPFILE ?
				       h->f_flags & ~O_TMPFILE : h->f_flags,
				       h->i_mode, new_decode_dev(h->rdev));
	/* these named what failed */
	if (IS_ERR(file) && (h->f_type == CKPT_FILE_PIPE ||
			     h->f_type == CKPT_FILE_FIFO ||
			     h->f_type == CKPT_FILE_DELETED ||
			     h->f_type == CKPT_FILE_MEMFD ||
			     h->f_type == CKPT_FILE_SOCKET ||
			     h->f_type == CKPT_FILE_PTY ||
			     ckpt_anon_type(h->f_type))) {
		ret = PTR_ERR(file);
		goto out;
	}
	if (PTR_ERR_OR_ZERO(file) == -ESTALE) {
		ret = ckpt_err(ctx, -ESTALE, "%s: file type changed", path);
		goto out;
	}
	if (IS_ERR(file)) {
		ret = ckpt_err(ctx, PTR_ERR(file), "cannot open %s", path);
		goto out;
	}
	ret = restore_file_state(ctx, h, file, path);
	if (!ret)
		ret = restore_file_locks(ctx, file, h->nlocks, path);
	if (!ret)
		ret = ckpt_obj_insert(ctx, file, h->objref);
	if (ret)
		fput(file);
	else
		ctx->next_objref = h->objref;
out:
	kvfree(path);
	return ret;
}

/* restart: read the file table; files are opened, not yet installed */
int restore_files_read(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_file_table ht;
	struct ckpt_hdr_file_desc *fds;
	unsigned long nofile = rlimit(RLIMIT_NOFILE);
	int i, ret;

	ret = ckpt_read_obj(ctx, &ht, CKPT_HDR_FILE_TABLE, sizeof(ht));
	if (ret)
		return ret;
	if (ht.nfds > min_t(unsigned long, nofile, sysctl_nr_open))
		return ckpt_err(ctx, -EINVAL, "too many descriptors: %u",
				ht.nfds);
	fds = kvcalloc(max_t(u32, ht.nfds, 1), sizeof(*fds), GFP_KERNEL);
	if (!fds)
		return -ENOMEM;
	ctx->rst.fds = fds;
	ctx->rst.nfds = ht.nfds;

	for (i = 0; i < ht.nfds; i++) {
		struct ckpt_hdr h;

		/* a CKPT_HDR_FILE may precede the descriptor */
		ret = ckpt_kread(ctx, &h, sizeof(h));
		if (ret)
			return ret;
		if (h.type == CKPT_HDR_FILE) {
			struct ckpt_hdr_file hf;

			if (h.len != sizeof(hf))
				return ckpt_err(ctx, -EINVAL,
						"bad file record length %u",
						h.len);
			hf.h = h;
			ret = ckpt_kread(ctx, &hf.h + 1, sizeof(hf) - sizeof(h));
			if (!ret)
				ret = ckpt_read_pad(ctx, h.len);
			if (!ret)
				ret = restore_file(ctx, &hf);
			if (ret)
				return ret;
			ret = ckpt_read_hdr(ctx, &h, CKPT_HDR_FILE_DESC,
					    sizeof(fds[i]), sizeof(fds[i]));
			if (ret)
				return ret;
		} else if (h.type != CKPT_HDR_FILE_DESC ||
			   h.len != sizeof(fds[i])) {
			return ckpt_err(ctx, -EINVAL,
					"expected a file descriptor record, got type %u len %u",
					h.type, h.len);
		}
		fds[i].h = h;
		ret = ckpt_kread(ctx, &fds[i].h + 1, sizeof(fds[i]) - sizeof(h));
		if (!ret)
			ret = ckpt_read_pad(ctx, h.len);
		if (ret)
			return ret;
		if (fds[i].fd < 0 || fds[i].fd >= nofile ||
		    (i && fds[i].fd <= fds[i - 1].fd))
			return ckpt_err(ctx, -EINVAL, "bad descriptor %d",
					fds[i].fd);
		if (fds[i].close_on_exec > 1)
			return ckpt_err(ctx, -EINVAL, "fd %d: bad flags",
					fds[i].fd);
		if (!ckpt_obj_fetch(ctx, fds[i].objref))
			return ckpt_err(ctx, -EINVAL, "fd %d: unknown objref %d",
					fds[i].fd, fds[i].objref);
	}
	ret = restore_epoll_items(ctx);
	if (ret)
		return ret;
	/* a tree's sockets and ptys are finished once every task read its table */
	if (ckpt_tree_multi(ctx))
		return 0;
	ret = restore_ptys_finish(ctx);
	return ret ? ret : restore_sockets_finish(ctx);
}

/*
 * restart: arm signal-driven I/O (O_ASYNC) of the files of the final
 * table as fcntl(F_SETFL) does, through ->fasync() at each of their
 * descriptors, lowest last: the lowest is the one SIGIO names (si_fd).
 * A tty's ->fasync() makes the tty's process group (or the caller) the
 * owner of a file it had not seen: the owner restored is set again.
 */
static int restore_files_fasync(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_file_desc *fds = ctx->rst.fds;
	int i, ret;

	for (i = ctx->rst.nfds - 1; i >= 0; i--) {
		struct file *file = ckpt_obj_fetch(ctx, fds[i].objref);
		struct fown_struct *fown = &file->f_owner;
		enum pid_type type;
		struct pid *pid;

		if (!(READ_ONCE(file->f_flags) & FASYNC) || !file->f_op->fasync)
			continue;
		read_lock_irq(&fown->lock);
		pid = get_pid(fown->pid);
		type = fown->pid_type;
		read_unlock_irq(&fown->lock);
		ret = file->f_op->fasync(fds[i].fd, file, 1);
		if (ret >= 0)
			__f_setown(file, pid, type, 1);
		put_pid(pid);
		if (ret < 0)
			return ckpt_err(ctx, ret, "fd %d: cannot arm O_ASYNC",
					fds[i].fd);
	}
	return 0;
}

/*
 * restart: install the descriptors.  Highest first, so that only the
 * first replace_fd() may need to grow the table: if that fails, nothing
 * changed yet.  Returns a negative error only before any change.
 */
int restore_files_commit(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_file_desc *fds = ctx->rst.fds;
	unsigned int next = 0;
	int i, ret;

	for (i = ctx->rst.nfds - 1; i >= 0; i--) {
		struct file *file = ckpt_obj_fetch(ctx, fds[i].objref);

		ret = replace_fd(fds[i].fd, file,
				 fds[i].close_on_exec ? O_CLOEXEC : 0);
		if (ret < 0) {
			if (i == ctx->rst.nfds - 1)
				return ret;
			ckpt_err(ctx, ret, "cannot install fd %d", fds[i].fd);
			return 1;
		}
	}
	restore_sockets_commit(ctx);
	/* close every other descriptor */
	for (i = 0; i < ctx->rst.nfds; i++) {
		if (fds[i].fd > next)
			__close_range(next, fds[i].fd - 1, 0);
		next = fds[i].fd + 1;
	}
	__close_range(next, ~0U, 0);
	/* POSIX locks belong to the table: taken once it is final */
	if (restore_file_locks_commit(ctx))
		return 1;
	if (restore_files_fasync(ctx))
		return 1;
	return 0;
}
