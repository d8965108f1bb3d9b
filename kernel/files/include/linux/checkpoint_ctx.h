/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart: kernel-internal context and helpers.
 */
#ifndef _LINUX_CHECKPOINT_CTX_H
#define _LINUX_CHECKPOINT_CTX_H

#include <linux/checkpoint.h>
#include <linux/hashtable.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/path.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct cred;
struct ckpt_chain;
struct page;
struct ckpt_rst_data;
struct ckpt_rst_pipe;
struct ckpt_rst_fifo;
struct ckpt_rst_epoll;
struct file;
struct files_struct;
struct mm_struct;
struct rlimit;
struct ckpt_socks;
struct ckpt_shm_table;
struct ckpt_sysv_table;
struct ckpt_ipcns;
struct ipc_namespace;
struct ckpt_fd;
struct pid;
struct tty_struct;
struct ckpt_ptys;
struct ckpt_tree;
struct pipe_inode_info;
struct inode;
struct ckpt_thread_gate;
struct task_struct;
struct vm_area_struct;

#define CKPT_OBJHASH_BITS	8
#define CKPT_MSG_LEN		512

/* restart: a thread other than the leader, as read from the image */
struct ckpt_rst_thread {
	struct ckpt_hdr_thread_task task;
	struct ckpt_hdr_thread thread;
	struct ckpt_hdr_cpu cpu;
	struct ckpt_hdr_fpu *fpu;	/* header and xstate buffer */
	void *fpstate;			/* checked FPU state, ready to load */
	u32 pkru;
	struct ckpt_hdr_sigpending *sigpending;	/* its private queue */
	struct ckpt_hdr_restart_block restart_block;
};

/* checkpoint: a thread other than the leader, pinned */
struct ckpt_thread_ref {
	struct task_struct *task;
	pid_t tid;
	unsigned long ncsw;		/* its switch count, frozen */
};

/* restart: state read from the image, applied at the commit point */
struct ckpt_restore {
	struct ckpt_hdr_task task;
	struct cred *cred;		/* checked, committed last */
	struct ckpt_hdr_signal signal;	/* rlimits, checked */
	struct ckpt_hdr_sigpending *sigpending;
	struct ckpt_hdr_itimers itimers;
	struct ckpt_hdr_posix_timers *ptimers;
	struct ckpt_hdr_restart_block restart_block;
	struct ckpt_hdr_sched sched;
	struct ckpt_hdr_seccomp seccomp;
	struct ckpt_hdr_seccomp_filter **filters; /* @seccomp.nfilters */
	const struct cred *seccomp_cred; /* the caller's, to install them */
	struct ckpt_hdr_auxv *auxv;
	u32 umask;
	bool has_root, has_pwd;
	struct path root;		/* a new root (chroot) */
	struct path pwd;		/* the working directory */
	struct ckpt_hdr_thread thread;
	struct ckpt_hdr_cpu cpu;
	struct ckpt_hdr_fpu *fpu;	/* header and xstate buffer */
	struct ckpt_hdr_sighand *sighand;
	struct ckpt_hdr_file_desc *fds;	/* @nfds descriptors */
	unsigned int nfds;
	struct list_head posix_locks;	/* taken once the table is final */
	struct ckpt_rst_pipe *pipes;	/* @npipes pipes made for the image */
	unsigned int npipes;
	struct ckpt_rst_fifo *fifos;	/* @nfifos FIFOs reopened */
	unsigned int nfifos;
	struct ckpt_rst_data *datas;	/* @ndatas unlinked files, memfds */
	unsigned int ndatas;
	struct file *vma_file;		/* ET_CKPT: the next file vma's, passed */
	struct ckpt_rst_epoll *epolls;	/* @nepolls epoll files made */
	unsigned int nepolls;
	u64 img_uflags;			/* the header's checkpoint flags */
	u64 precopy_chain;		/* pre-copy: the chain of the rounds */
	bool precopy;			/* PGREF records allowed */
	bool precopy_xa;		/* @precopy_pages is set up */
	ktime_t precopy_t0;		/* the last pass begins */
	unsigned long precopy_nr;	/* pages in @precopy_pages */
	struct xarray precopy_pages;	/* page index: the rounds' newest copy */
	struct mm_struct *new_mm;	/* built for the restarted task */
	struct mm_struct *old_mm;	/* caller's mm while new_mm is built */
	struct files_struct *old_files;	/* shared table, until the commit */
	bool share_files;		/* the table of an earlier task of the tree */
	bool share_fs;			/* its fs_struct likewise (no FS record) */
	unsigned int xstate_size;	/* from the arch header */
	void *fpstate;			/* checked FPU state, ready to load */
	u32 pkru;
	struct ckpt_rst_thread *threads;	/* the other threads */
	unsigned int nr_threads;	/* how many of them */
	struct ckpt_thread_gate *gate;	/* made, waiting for the leader */
};

/* running checksum of the stream (see struct ckpt_hdr_tail) */
struct ckpt_csum {
	u64 sum;
	u64 sum2;
	u64 word;		/* bytes of an incomplete word */
	u64 n;			/* words summed so far */
	unsigned int fill;	/* number of them */
};

/* where the time of a task's memory went (ns), for the log */
struct ckpt_mem_stats {
	u64 pages;			/* page contents written or read */
	u64 io_ns;			/* writing or reading them */
	u64 csum_ns;			/* checksumming them */
	u64 map_ns;			/* restart: allocating and mapping them */
};

struct ckpt_ctx {
	unsigned long uflags;		/* flags given to the syscall */
	bool restart;
	struct file *file;		/* image */
	loff_t pos;			/* position in the image file */
	u64 total;			/* bytes read or written */
	struct ckpt_csum csum;
	struct file *logfile;		/* diagnostics, or NULL */
	struct task_struct *tsk;	/* checkpoint: target task */
	struct mm_struct *mm;		/* checkpoint: its mm, taken once */
	pid_t tsk_pid;			/* its pid, for messages */
	struct pid_namespace *pid_ns;	/* checkpoint of a pidns: its, ref */
	struct uts_namespace *uts_ns;	/* checkpoint: the tree root's, ref */
	struct net *net_ns;		/* checkpoint: the tree root's, ref */
	struct ipc_namespace *ipc_ns;	/* checkpoint: the tree root's, ref */
	struct nsproxy *rst_old_ns;	/* restart: the caller's, until the commit */
	u64 tsk_exec_id;		/* its self_exec_id when checked */
	unsigned long tsk_ncsw;		/* its switch count, frozen */
	bool tsk_ready;			/* checked: it must stay so */
	int tsk_err;			/* it changed or died: the error */
	bool tsk_checking;		/* reporting that error */
	struct ckpt_thread_ref *threads;	/* its other threads */
	unsigned int nr_threads;	/* how many of them */
	bool writing_error;		/* writing the error record */
	int err;			/* first error */
	char err_msg[CKPT_MSG_LEN];	/* first error message */
	char msg[CKPT_MSG_LEN];
	DECLARE_HASHTABLE(objhash, CKPT_OBJHASH_BITS);
	int next_objref;
	struct ckpt_socks *socks;	/* sockets of the image (socket.c) */
	struct ckpt_shm_table *shm;	/* shmem objects (shmem.c) */
	struct ckpt_sysv_table *sysvshm;	/* SysV shm segments (ipc_shm.c) */
	struct ckpt_ipcns *ipcns;	/* restart: SysV queues, sets (ipc_ns.c) */
	struct ckpt_ptys *ptys;		/* pty pairs (tty.c) */
	struct ckpt_tree *tree;		/* the tasks of the image (tree.c) */
	struct hlist_head *obj_inodes;	/* pipes, contents (objhash.c) */
	int next_pipe_ref;
	int next_fifo_ref;
	int next_data_ref;
	struct ckpt_fd *ckpt_fds;	/* checkpoint: the table, while saved */
	int ckpt_nfds;
	struct ckpt_chain *chain;	/* PRECOPY(_LAST): its rounds so far */
	struct ckpt_mem_stats mstat;	/* the current task's memory */
	struct ckpt_restore rst;
};

/* a page array being written (memory.c, precopy.c) */
struct ckpt_pgarr {
	u64 addrs[CKPT_PGARR_MAX];
	struct page *pages[CKPT_PGARR_MAX];
	u64 refs[CKPT_PGARR_MAX];	/* PGREF of a delta */
};

/* logging: ckpt_msg() to logfd; ckpt_err() also records the first error */
__printf(2, 3) void ckpt_msg(struct ckpt_ctx *ctx, const char *fmt, ...);
__printf(3, 4) int ckpt_err(struct ckpt_ctx *ctx, int err,
			    const char *fmt, ...);

/* image stream */
int ckpt_kwrite(struct ckpt_ctx *ctx, const void *buf, size_t count);
int ckpt_kread(struct ckpt_ctx *ctx, void *buf, size_t count);
int ckpt_kwrite_pages(struct ckpt_ctx *ctx, struct page **pages,
		      unsigned int nr);
int ckpt_kread_pages(struct ckpt_ctx *ctx, struct page **pages,
		     unsigned int nr);
int ckpt_write_obj(struct ckpt_ctx *ctx, void *rec, u32 type, u32 len);
int ckpt_write_hdr(struct ckpt_ctx *ctx, u32 type, size_t payload);
int ckpt_write_pad(struct ckpt_ctx *ctx, size_t len);
int ckpt_write_string(struct ckpt_ctx *ctx, const char *str);
int ckpt_read_hdr(struct ckpt_ctx *ctx, struct ckpt_hdr *h, u32 type,
		  u32 min, u32 max);
int ckpt_read_pad(struct ckpt_ctx *ctx, u32 len);
int ckpt_read_obj(struct ckpt_ctx *ctx, void *rec, u32 type, u32 len);
void *ckpt_read_obj_var(struct ckpt_ctx *ctx, u32 type, u32 min, u32 max);
char *ckpt_read_string(struct ckpt_ctx *ctx, u32 max);

/* shared objects */
int ckpt_obj_lookup_add(struct ckpt_ctx *ctx, void *ptr, bool *first);
int ckpt_obj_insert(struct ckpt_ctx *ctx, struct file *file, int objref);
struct file *ckpt_obj_fetch(struct ckpt_ctx *ctx, int objref);

/* checkpoint: the target is still the task that was checked */
int ckpt_check_target(struct ckpt_ctx *ctx);
bool checkpoint_task_frozen(struct task_struct *t);

/* objects shared by the files of a checkpoint (objhash.c) */
int ckpt_obj_inode_ref(struct ckpt_ctx *ctx, struct inode *inode, int kind,
		       bool *first);
void ckpt_obj_inodes_free(struct ckpt_ctx *ctx);

/* process trees (tree.c) */
int checkpoint_get_target(struct ckpt_ctx *ctx, pid_t pid);
void checkpoint_put_target(struct ckpt_ctx *ctx);
int checkpoint_task(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_tree_collect(struct ckpt_ctx *ctx);
int checkpoint_tree_write(struct ckpt_ctx *ctx);
void checkpoint_tree_put(struct ckpt_ctx *ctx);
int ckpt_tree_pipe_held(struct ckpt_ctx *ctx, struct pipe_inode_info *pipe,
			fmode_t mode, unsigned int *same);
int ckpt_tree_pipe_outside(struct ckpt_ctx *ctx, int fd,
			   struct pipe_inode_info *pipe, const char *path);
pid_t ckpt_tree_holder(struct ckpt_ctx *ctx,
		       bool (*match)(struct file *, const void *),
		       const void *arg, int *ofd);
bool ckpt_tree_multi(struct ckpt_ctx *ctx);
u32 ckpt_tree_shared(struct ckpt_ctx *ctx);
u32 restore_tree_shared(struct ckpt_ctx *ctx);
struct mm_struct *ckpt_tree_parent_mm(struct ckpt_ctx *ctx);
struct mm_struct *restore_tree_parent_mm(struct ckpt_ctx *ctx);
pid_t ckpt_pid_nr(struct ckpt_ctx *ctx, struct pid *pid);
pid_t ckpt_task_pid(struct ckpt_ctx *ctx, struct task_struct *t);
bool ckpt_tree_holds(struct ckpt_ctx *ctx, struct file *file,
		     struct ckpt_fd *fds, int n);
int restore_tree_read(struct ckpt_ctx *ctx);
int restore_tree_children(struct ckpt_ctx *ctx);
int restore_tree_commit(struct ckpt_ctx *ctx);
void restore_tree_abort(struct ckpt_ctx *ctx);
void restore_tree_release(struct ckpt_ctx *ctx, long ret);
void ckpt_tree_free(struct ckpt_ctx *ctx);
int restore_task_read(struct ckpt_ctx *ctx);
long restore_task_finish(struct ckpt_ctx *ctx, int files_ret);
void ckpt_rst_free(struct ckpt_ctx *ctx);

/* restart: open a path of the image, of a type checked before the open */
struct file *ckpt_open_path(const char *path, int flags, int type);
struct file *ckpt_open_inode(const char *name, int flags, umode_t type,
			     dev_t rdev);

/* a descriptor of the checkpointed table */
struct ckpt_fd {
	struct file *file;
	int fd;
	bool cloexec;
};

int ckpt_collect_fds(struct task_struct *t, struct ckpt_fd **pfds,
		     struct files_struct **pfiles);

/* file kinds: checkpoint (refusal) and restart */
int ckpt_pipe_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
		       int i, const char *path);
int checkpoint_pipe(struct ckpt_ctx *ctx, struct file *file, int fd,
		    int pipe_ref, bool first);
struct file *restore_pipe(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
void restore_pipes_free(struct ckpt_ctx *ctx);
int checkpoint_fifo(struct ckpt_ctx *ctx, struct file *file, int fd,
		    int fifo_ref, bool first);
struct file *restore_fifo(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf,
			  const char *path);
int ckpt_unlinked_classify(struct ckpt_ctx *ctx, struct file *file, int fd,
			   const char *path);
bool ckpt_is_memfd(struct file *file);
void ckpt_unlinked_path(char *path);
int checkpoint_file_data(struct ckpt_ctx *ctx, struct file *file, int fd,
			 int data_ref, bool first);
struct file *restore_file_data(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf,
			       const char *path);
void restore_file_data_free(struct ckpt_ctx *ctx);
struct file *restore_file_data_file(struct ckpt_ctx *ctx, int data_ref,
				    u32 type);
struct file *restore_deleted_file(struct ckpt_ctx *ctx, const char *path,
				  umode_t perm);
int ckpt_write_content(struct ckpt_ctx *ctx, struct file *file,
		       const char *what, u64 size);
int ckpt_read_content(struct ckpt_ctx *ctx, struct file *file, u64 size,
		      const char *path);

/* pty pairs (tty.c) */
int ckpt_pty_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
		      int i, const char *path);
int checkpoint_pty(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_pty(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
int restore_ptys_finish(struct ckpt_ctx *ctx);
int checkpoint_ctty(struct ckpt_ctx *ctx, struct task_struct *t, pid_t pid,
		    pid_t sid, struct ckpt_ctty *c);
struct tty_struct *restore_ctty_tty(struct ckpt_ctx *ctx, int pty_ref);
int restore_ctty_set(struct ckpt_ctx *ctx, struct task_struct *t,
		     struct tty_struct *tty, struct pid *pgrp, bool leader);
void restore_ctty_undo(struct tty_struct *tty);
void ckpt_ptys_free(struct ckpt_ctx *ctx);

/* aio contexts: the rings of io_setup() (aio.c) */
int checkpoint_aio_check(struct ckpt_ctx *ctx, struct mm_struct *mm);
int checkpoint_aio(struct ckpt_ctx *ctx, struct mm_struct *mm,
		   struct file *file, unsigned long start, unsigned long end,
		   unsigned long flags);
int restore_aio(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *vh);

/* shared memory: MAP_SHARED anonymous memory, /dev/zero, memfd (shmem.c) */
bool ckpt_shmem_vma(struct vm_area_struct *vma);
bool ckpt_shmem_deleted(struct file *file);
int ckpt_shmem_note_memfd(struct ckpt_ctx *ctx, struct file *file,
			  int data_ref);
int checkpoint_vma_shmem(struct ckpt_ctx *ctx, struct file *file,
			 unsigned long start, unsigned long end);
int restore_vma_shmem(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *h,
		      unsigned long prot, unsigned long flags,
		      unsigned long *addr);
void ckpt_shmem_free(struct ckpt_ctx *ctx);

/* SysV shm attachments (ipc_shm.c) */
#ifdef CONFIG_SYSVIPC
bool ckpt_sysv_shm_file(struct file *file);
int checkpoint_vma_sysv_shm(struct ckpt_ctx *ctx, struct file *file,
			    unsigned long start, unsigned long end);
int restore_sysv_shm_next(struct ckpt_ctx *ctx, struct ckpt_hdr_vma *v);
int restore_vma_sysv_shm(struct ckpt_ctx *ctx, struct mm_struct *mm,
			 struct ckpt_hdr_vma *v, unsigned long *addr);
void restore_sysv_shm_commit(struct ckpt_ctx *ctx);
void ckpt_sysv_shm_free(struct ckpt_ctx *ctx);
#else
static inline bool ckpt_sysv_shm_file(struct file *file)
{
	return false;
}

static inline int checkpoint_vma_sysv_shm(struct ckpt_ctx *ctx,
					  struct file *file,
					  unsigned long start,
					  unsigned long end)
{
	return -EOPNOTSUPP;
}

static inline int restore_sysv_shm_next(struct ckpt_ctx *ctx,
					struct ckpt_hdr_vma *v)
{
	return 0;
}

static inline int restore_vma_sysv_shm(struct ckpt_ctx *ctx,
				       struct mm_struct *mm,
				       struct ckpt_hdr_vma *v,
				       unsigned long *addr)
{
	return -EOPNOTSUPP;
}

static inline void restore_sysv_shm_commit(struct ckpt_ctx *ctx)
{
}

static inline void ckpt_sysv_shm_free(struct ckpt_ctx *ctx)
{
}
#endif
int checkpoint_file_locks(struct ckpt_ctx *ctx, struct file *file, int fd,
			  struct files_struct *files,
			  struct ckpt_hdr_file_lock **plocks);
int checkpoint_file_locks_write(struct ckpt_ctx *ctx,
				struct ckpt_hdr_file_lock *locks, int n);
int restore_file_locks(struct ckpt_ctx *ctx, struct file *file, u32 n,
		       const char *path);
int restore_file_locks_commit(struct ckpt_ctx *ctx);
void restore_file_locks_free(struct ckpt_ctx *ctx);

/* anonymous-inode files (eventfd.c, eventpoll.c, signalfd.c, timerfd.c) */
bool ckpt_is_eventfd(struct file *file);
int checkpoint_eventfd(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_eventfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
bool ckpt_is_signalfd(struct file *file);
int checkpoint_signalfd(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_signalfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
bool ckpt_is_timerfd(struct file *file);
int ckpt_timerfd_classify(struct ckpt_ctx *ctx, struct file *file, int fd);
int checkpoint_timerfd(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_timerfd(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
bool ckpt_is_epoll(struct file *file);
int ckpt_epoll_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			int i);
int checkpoint_epoll(struct ckpt_ctx *ctx, struct file *file, int fd);
int checkpoint_epoll_items(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			   int *types);
struct file *restore_epoll(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);
int restore_epoll_items(struct ckpt_ctx *ctx);
void restore_epolls_free(struct ckpt_ctx *ctx);
bool ckpt_is_inotify(struct file *file);
int ckpt_inotify_classify(struct ckpt_ctx *ctx, struct file *file, int fd);
int checkpoint_inotify(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_inotify(struct ckpt_ctx *ctx, struct ckpt_hdr_file *hf);

/* sockets (socket.c) */
int ckpt_socket_classify(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n,
			 int i);
int ckpt_socks_add(struct ckpt_ctx *ctx, struct ckpt_fd *fds, int n, u32 max);
int checkpoint_socket(struct ckpt_ctx *ctx, struct file *file, int fd);
struct file *restore_socket(struct ckpt_ctx *ctx, struct ckpt_hdr_file *h);
int restore_sockets_finish(struct ckpt_ctx *ctx);
void restore_sockets_commit(struct ckpt_ctx *ctx);
void ckpt_sockets_free(struct ckpt_ctx *ctx);
void checkpoint_sockets_unhold(struct ckpt_ctx *ctx);
int checkpoint_sockets_release(struct ckpt_ctx *ctx, struct task_struct *t);

/* checkpoint and restart proper */
long do_checkpoint(struct ckpt_ctx *ctx, pid_t pid);
long do_restart(struct ckpt_ctx *ctx, pid_t pid);
void checkpoint_task_process(struct ckpt_ctx *ctx, struct task_struct *t,
			     struct ckpt_hdr_task *h);
int restore_task_check(struct ckpt_ctx *ctx);
int checkpoint_cred(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_cred_read(struct ckpt_ctx *ctx);
void restore_cred_commit(struct ckpt_ctx *ctx);
void restore_cred_free(struct ckpt_ctx *ctx);
int checkpoint_signal(struct ckpt_ctx *ctx, struct task_struct *t);
void restore_signal_stop_commit(struct ckpt_ctx *ctx);
void checkpoint_ns_root(struct ckpt_ctx *ctx, struct task_struct *t);
u32 ckpt_tree_ns_flags(struct ckpt_ctx *ctx);
int checkpoint_tree_ns(struct ckpt_ctx *ctx);
int checkpoint_tree_ns_end(struct ckpt_ctx *ctx);
unsigned int ckpt_sysv_shm_saved(struct ckpt_ctx *ctx);
int restore_tree_ns(struct ckpt_ctx *ctx, u32 flags);
void restore_ns_end(struct ckpt_ctx *ctx, bool ok);
void ckpt_ns_free(struct ckpt_ctx *ctx);
/* the SysV objects of a tree's own IPC namespace (ipc_ns.c) */
#ifdef CONFIG_SYSVIPC
int checkpoint_ipc_ns_objects(struct ckpt_ctx *ctx, struct ipc_namespace *ns);
int restore_ipc_ns_objects(struct ckpt_ctx *ctx, struct ipc_namespace *ns);
void restore_ipc_ns_commit(struct ckpt_ctx *ctx);
int restore_ipc_undo_commit(struct ckpt_ctx *ctx);
void ckpt_ipc_ns_free(struct ckpt_ctx *ctx);
#else
static inline int checkpoint_ipc_ns_objects(struct ckpt_ctx *ctx,
					    struct ipc_namespace *ns)
{
	return -EOPNOTSUPP;
}

static inline int restore_ipc_ns_objects(struct ckpt_ctx *ctx,
					 struct ipc_namespace *ns)
{
	return -EOPNOTSUPP;
}

static inline void restore_ipc_ns_commit(struct ckpt_ctx *ctx)
{
}

static inline int restore_ipc_undo_commit(struct ckpt_ctx *ctx)
{
	return 0;
}

static inline void ckpt_ipc_ns_free(struct ckpt_ctx *ctx)
{
}
#endif
struct pid *restore_tree_find_pid(struct ckpt_ctx *ctx, pid_t nr);
pid_t ckpt_tree_undo_owner(struct ckpt_ctx *ctx, const void *ulp);
bool restore_tree_has_process(struct ckpt_ctx *ctx, pid_t nr);
int checkpoint_fs(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_sigpending(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_sigpending_private(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_sigpending_read(struct ckpt_ctx *ctx);
int restore_sigpending_read_private(struct ckpt_ctx *ctx,
				    struct ckpt_hdr_sigpending **ph);
int restore_sigpending_commit(struct ckpt_ctx *ctx);
int restore_sigpending_private(struct ckpt_hdr_sigpending *h);
int checkpoint_timers(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_timers_read(struct ckpt_ctx *ctx);
void restore_timers_commit(struct ckpt_ctx *ctx);
int checkpoint_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_posix_timers_read(struct ckpt_ctx *ctx);
int restore_posix_timers_targets(struct ckpt_ctx *ctx);
int restore_posix_timers_commit(struct ckpt_ctx *ctx);
int checkpoint_restart_block(struct ckpt_ctx *ctx, struct task_struct *t,
			     long ax, unsigned long orig_ax, unsigned long op);
int restore_restart_block_read(struct ckpt_ctx *ctx);
int restore_restart_block_check(struct ckpt_ctx *ctx,
				struct ckpt_hdr_restart_block *h,
				struct ckpt_hdr_cpu *cpu);
void restore_restart_block_commit(struct ckpt_ctx *ctx);
void restore_restart_block_apply(struct ckpt_hdr_restart_block *h);
int checkpoint_sched(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_seccomp(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_seccomp_read(struct ckpt_ctx *ctx);
int restore_seccomp_commit(struct ckpt_ctx *ctx);
void restore_seccomp_free(struct ckpt_ctx *ctx);
int restore_sched_read(struct ckpt_ctx *ctx);
int restore_sched_commit(struct ckpt_ctx *ctx);
int checkpoint_process_check(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_thread(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_task_restart_block(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_thread_check(struct ckpt_ctx *ctx, struct ckpt_hdr_thread *th);
void restore_thread_apply(struct ckpt_hdr_thread *th, const char *comm,
			  u64 set_child_tid, u64 clear_child_tid);
/* threads (threads.c) */
int checkpoint_get_threads(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_check_threads(struct ckpt_ctx *ctx, const char **why);
void checkpoint_put_threads(struct ckpt_ctx *ctx);
int checkpoint_threads(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_threads_read(struct ckpt_ctx *ctx);
int restore_threads_prepare(struct ckpt_ctx *ctx);
int restore_threads_create(struct ckpt_ctx *ctx);
void restore_threads_release(struct ckpt_ctx *ctx, bool ok);
void restore_threads_free(struct ckpt_ctx *ctx);
int checkpoint_auxv(struct ckpt_ctx *ctx);
int restore_auxv_read(struct ckpt_ctx *ctx);
void restore_auxv_commit(struct ckpt_ctx *ctx);
int restore_signal_read(struct ckpt_ctx *ctx);
int restore_fs_read(struct ckpt_ctx *ctx);
int restore_process_commit(struct ckpt_ctx *ctx);
void restore_process_free(struct ckpt_ctx *ctx);
int checkpoint_files(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_files_read(struct ckpt_ctx *ctx);
int restore_files_commit(struct ckpt_ctx *ctx);
int checkpoint_mm(struct ckpt_ctx *ctx);
int checkpoint_pgarr(struct ckpt_ctx *ctx, struct ckpt_pgarr *pa,
		     unsigned int nr);
int checkpoint_write_header(struct ckpt_ctx *ctx);
int checkpoint_write_tail(struct ckpt_ctx *ctx);
int ckpt_vma_kind(struct mm_struct *mm, struct vm_area_struct *vma);
struct task_struct *checkpoint_find_task(pid_t pid, bool *self);
/* pre-copy (precopy.c) */
long do_checkpoint_precopy(struct ckpt_ctx *ctx, pid_t pid);
int checkpoint_precopy_start(struct ckpt_ctx *ctx);
int checkpoint_precopy_record(struct ckpt_ctx *ctx);
void checkpoint_precopy_end(struct ckpt_ctx *ctx, bool ok);
bool checkpoint_precopy_delta(struct ckpt_ctx *ctx, struct mm_struct *mm);
bool checkpoint_precopy_vma_dirty(struct ckpt_ctx *ctx, unsigned long start,
				  unsigned long end, unsigned long pgoff,
				  struct file *file, bool softdirty);
bool checkpoint_precopy_page_dirty(struct vm_area_struct *vma,
				   unsigned long addr, pte_t pte,
				   struct page *page);
int restore_precopy_read(struct ckpt_ctx *ctx);
int restore_precopy_refs(struct ckpt_ctx *ctx, struct mm_struct *mm,
			 const u64 *addrs, unsigned int nr);
void restore_precopy_free(struct ckpt_ctx *ctx);
int restore_precopy_map(struct mm_struct *mm, unsigned long addr,
			struct page *page);
int restore_mm_build(struct ckpt_ctx *ctx);
void restore_mm_abort(struct ckpt_ctx *ctx);
void restore_mm_commit(struct ckpt_ctx *ctx);

/* shared by restart(2) and the ET_CKPT loader (etckpt.c) */
void ckpt_ctx_free(struct ckpt_ctx *ctx);
int restore_read_header(struct ckpt_ctx *ctx);
int restore_read_tail(struct ckpt_ctx *ctx);
int restore_read_thread(struct ckpt_ctx *ctx);
int restore_read_sighand(struct ckpt_ctx *ctx);
void restore_sighand(struct ckpt_ctx *ctx);
void restore_thread(struct ckpt_ctx *ctx);
void restore_task_commit(struct ckpt_ctx *ctx);
struct mm_struct *ckpt_switch_mm(struct mm_struct *mm, bool fresh);
int restore_mm_read(struct ckpt_ctx *ctx, struct ckpt_hdr_mm *h, char **exe);
void restore_mm_layout(struct ckpt_ctx *ctx, struct mm_struct *mm,
		       struct rlimit *rlim_stack);
int restore_vma(struct ckpt_ctx *ctx, struct mm_struct *mm,
		unsigned long *prev_end, unsigned long *cow_end);
int restore_mm_finish(struct ckpt_ctx *ctx, struct mm_struct *mm,
		      struct ckpt_hdr_mm *h);

/* architecture */
int ckpt_arch_write_header(struct ckpt_ctx *ctx);
int ckpt_arch_read_header(struct ckpt_ctx *ctx);
int ckpt_arch_write_cpu(struct ckpt_ctx *ctx, struct task_struct *t);
int ckpt_arch_read_cpu(struct ckpt_ctx *ctx);
int ckpt_arch_read_cpu_into(struct ckpt_ctx *ctx, struct ckpt_hdr_cpu *h,
			    struct ckpt_hdr_fpu **pfpu);
int ckpt_arch_check_task(struct ckpt_ctx *ctx, struct task_struct *t);
int ckpt_arch_prepare_fpu(struct ckpt_ctx *ctx);
int ckpt_arch_prepare_fpu_into(struct ckpt_ctx *ctx, struct ckpt_hdr_fpu *hf,
			       void **pfpstate, u32 *ppkru);
long ckpt_arch_restore_cpu(struct ckpt_ctx *ctx);
long ckpt_arch_restore_regs(struct ckpt_hdr_cpu *h, void *fpstate, u32 pkru,
			    bool restart_block, bool via_signal);
int ckpt_arch_vma_type(struct mm_struct *mm, struct vm_area_struct *vma);
unsigned long ckpt_arch_vdso(struct mm_struct *mm);
int ckpt_arch_map_vdso(struct ckpt_ctx *ctx, unsigned long start,
		       unsigned long end, int type);

#endif /* _LINUX_CHECKPOINT_CTX_H */
