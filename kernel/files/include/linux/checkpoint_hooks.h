/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart: kernel functions that the C/R code calls, made
 * non-static by the quilt series next to their static callees.  Only the
 * files of those functions and the C/R code include this header.
 */
#ifndef _LINUX_CHECKPOINT_HOOKS_H
#define _LINUX_CHECKPOINT_HOOKS_H

#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/types.h>
#include <linux/uidgid.h>

struct file;
struct inode;
struct path;
struct itimerspec64;
struct k_itimer;
struct restart_block;
struct sigevent;
struct tty_struct;

/* kernel/time/itimer.c: setitimer() of the current task */
int do_setitimer(int which, struct itimerspec64 *value,
		 struct itimerspec64 *ovalue);

/* kernel/time/posix-timers.c: a timer of the current task with id @id */
struct k_itimer *posix_timer_create_id(clockid_t which_clock,
				       struct sigevent *event, timer_t id);

/* drivers/tty/n_tty.c: the unread input of a tty, and waiting for it */
ssize_t n_tty_peek(struct tty_struct *tty, unsigned char *buf, size_t len);
void n_tty_flush_input(struct tty_struct *tty);

/* drivers/tty/pty.c: the next open of /dev/ptmx by this task gets pts @index */
void ptmx_ckpt_want_index(int index);
void ptmx_ckpt_want_done(void);

/*
 * The restart block of an interrupted system call: its functions are
 * static in the files of the calls; these helpers, next to them, tell
 * which call a block belongs to and point a rebuilt block at the same
 * function.
 */
bool restart_block_is_nanosleep(struct restart_block *restart);
long restart_block_set_nanosleep(struct restart_block *restart);
bool restart_block_is_poll(struct restart_block *restart);
long restart_block_set_poll(struct restart_block *restart);
bool restart_block_is_futex_wait(struct restart_block *restart);
void restart_block_futex_get(struct restart_block *restart, bool *shared,
			     bool *clockrt);
long restart_block_set_futex_wait(struct restart_block *restart, bool shared,
				  bool clockrt);

/* kernel/seccomp.c: a frozen task's filters, and seccomp() for restart */
struct sock_filter;
struct task_struct;
long seccomp_ckpt_get_filter(struct task_struct *task, unsigned int n,
			     struct sock_filter *insns, bool *log);
int seccomp_ckpt_check_filter(const struct sock_filter *insns,
			      unsigned int len);
long seccomp_ckpt_set_filter(unsigned int flags, const char __user *filter);

/* fs/aio.c: the aio contexts of a frozen task's mm, and io_setup() at an address */
struct mm_struct;
struct aio_ckpt {
	unsigned long user_id;		/* the ring's address: the aio_context_t */
	unsigned long mmap_size;	/* bytes of the ring */
	unsigned int max_reqs;		/* what io_setup() was called with */
	unsigned int nr_events;		/* the ring's size in events */
	unsigned int tail;		/* the kernel's copy of the ring's tail */
	unsigned int in_flight;		/* requests submitted, not completed */
	struct file *ring_file;		/* referenced: fput() it */
};

int aio_ckpt_get(struct mm_struct *mm, unsigned int *pos,
		 struct aio_ckpt *st);
int aio_ckpt_setup(unsigned int max_reqs, unsigned long addr, unsigned int id,
		   unsigned int nr_events, unsigned long size,
		   unsigned int head, unsigned int tail);

/* fs/eventfd.c */
int eventfd_ckpt_get(struct file *file, u64 *count, unsigned int *flags);
struct file *eventfd_ckpt_create(u64 count, unsigned int flags);

/* fs/signalfd.c */
int signalfd_ckpt_get(struct file *file, u64 *mask);
struct file *signalfd_ckpt_create(u64 mask, int flags);

/* fs/timerfd.c: a timerfd's state, read without changing it */
struct timerfd_ckpt {
	int clockid;
	int flags;		/* TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET */
	ktime_t expires;	/* next expiry on its clock, 0 if disarmed */
	ktime_t now;		/* its clock when read */
	ktime_t interval;
	u64 ticks;		/* expirations not yet read */
	bool canceled;		/* by a clock change, not yet read */
};

int timerfd_ckpt_get(struct file *file, struct timerfd_ckpt *st);
struct file *timerfd_ckpt_create(int clockid, int fflags, int flags,
				 const struct itimerspec64 *t, u64 ticks);

/* fs/eventpoll.c: the items of an epoll file */
struct ep_ckpt_item {
	struct file *file;	/* target, not referenced */
	int fd;
	__poll_t events;
	u64 data;
	bool ready;		/* on the ready list */
};

struct file *ep_ckpt_create(void);
int ep_ckpt_items(struct file *file, struct ep_ckpt_item *items, int max);
int ep_ckpt_insert(struct file *file, struct file *tfile, int fd,
		   __poll_t events, u64 data, bool ready);

/* fs/notify/inotify/inotify_user.c: watches and queued events */
struct inotify_ckpt_watch {
	struct inode *inode;	/* referenced */
	int wd;
	u32 mask;		/* as inotify_add_watch() took it */
};

struct inotify_ckpt_event {
	int wd;
	u32 mask;
	u32 cookie;
	int name_len;
	char name[NAME_MAX + 1];
};

int inotify_ckpt_watches(struct file *file, struct inotify_ckpt_watch *w,
			 int max, int *next_wd);
int inotify_ckpt_events(struct file *file, struct inotify_ckpt_event *ev,
			int max);
struct file *inotify_ckpt_create(int flags);
int inotify_ckpt_add_watch(struct file *file, const struct path *path,
			   u32 mask, int wd);
void inotify_ckpt_set_next_wd(struct file *file, int wd);
int inotify_ckpt_queue_event(struct file *file, int wd, u32 mask, u32 cookie,
			     const char *name);

/* ipc/shm.c: the segment of a shmat() attachment, and making one again */
struct ipc_namespace;

struct shm_ckpt {
	struct file *file;	/* the segment's shmem file, referenced */
	key_t key;
	int id;
	umode_t mode;		/* permission bits, SHM_DEST, SHM_LOCKED */
	kuid_t uid;
	kgid_t gid;
	kuid_t cuid;
	kgid_t cgid;
	size_t size;
};

int shm_ckpt_file(struct file *file, struct ipc_namespace **ns, int *id);
int shm_ckpt_stat(struct ipc_namespace *ns, int id, struct file *file,
		  struct shm_ckpt *st);
int shm_ckpt_next_id(struct ipc_namespace *ns, int was, int id);
int shm_ckpt_lock(struct ipc_namespace *ns, int id);
int shm_ckpt_set_owner(struct ipc_namespace *ns, int id, struct file *file,
		       const struct shm_ckpt *st);
int shm_ckpt_rmid(struct ipc_namespace *ns, int id, struct file *file);

/* ipc/msg.c: a message queue, read and made again */
struct pid;

struct msg_ckpt {
	key_t key;
	int id;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	kuid_t cuid;
	kgid_t cgid;
	time64_t stime;
	time64_t rtime;
	time64_t ctime;
	unsigned long qbytes;
	unsigned long cbytes;
	unsigned long qnum;
	struct pid *lspid;	/* stat: referenced; set: given */
	struct pid *lrpid;
	bool waiters;		/* a task sleeps in msgsnd() or msgrcv() */
};

/* a message of msg_ckpt_copy(): then its len bytes, up to a multiple of 8 */
struct msg_ckpt_msg {
	long mtype;
	size_t len;
};

int msg_ckpt_stat(struct ipc_namespace *ns, int *idx, struct msg_ckpt *st);
int msg_ckpt_copy(struct ipc_namespace *ns, int id, const struct msg_ckpt *st,
		  void *buf, size_t size);
int msg_ckpt_next_id(struct ipc_namespace *ns, int was, int id);
int msg_ckpt_append(struct ipc_namespace *ns, int id, long mtype,
		    const void *data, size_t len);
int msg_ckpt_set(struct ipc_namespace *ns, int id, const struct msg_ckpt *st);
/* ipc/msgutil.c: the largest msgmni, semmni and shmmni */
int ipc_ckpt_mni(void);

/* ipc/sem.c: semop(SEM_UNDO) adjustments left for the task's exit */
bool sem_ckpt_has_undo(struct task_struct *tsk);

/* ipc/sem.c: a semaphore set, read and made again */
struct sem_ckpt {
	key_t key;
	int id;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	kuid_t cuid;
	kgid_t cgid;
	time64_t ctime;
	int nsems;
	bool waiters;		/* a task sleeps in semop() on it */
	int nr_undo;		/* undo lists with SEM_UNDO adjustments of it */
};

struct sem_ckpt_val {
	int semval;
	struct pid *sempid;	/* stat: referenced; set: given */
	time64_t otime;
};

int sem_ckpt_stat(struct ipc_namespace *ns, int *idx, struct sem_ckpt *st,
		  struct sem_ckpt_val *vals);
int sem_ckpt_next_id(struct ipc_namespace *ns, int was, int id);
int sem_ckpt_set(struct ipc_namespace *ns, int id, const struct sem_ckpt *st,
		 const struct sem_ckpt_val *vals);
int sem_ckpt_undos(struct ipc_namespace *ns, int id, int nsems, int nr,
		   const void **owners, short *adj);
int sem_ckpt_undo_users(struct task_struct *tsk);
int sem_ckpt_set_undo(struct ipc_namespace *ns, int id, int nsems,
		      const short *adj);

/* kernel/fork.c: a copy of an mm for the current task, as fork() makes */
struct mm_struct;
struct mm_struct *ckpt_dup_mm(struct mm_struct *oldmm);

/* net/core/filter.c: a classic filter that keeps a copy of @orig as its original program */
struct bpf_prog;
struct sock_fprog_kern;
int bpf_prog_create_ckpt(struct bpf_prog **pfp, struct sock_fprog_kern *fprog,
			 const struct sock_fprog_kern *orig);

/*
 * net/ipv4/tcp.c: tcp_close() of a connection in repair mode asks whether
 * checkpoint held it: if so it stays, orphaned and silent, until its
 * keepalive timer ends the hold or a restart takes its place
 */
struct sock;
#ifdef CONFIG_CHECKPOINT
bool checkpoint_tcp_keep_held(struct sock *sk);
#else
static inline bool checkpoint_tcp_keep_held(struct sock *sk)
{
	return false;
}
#endif

#endif /* _LINUX_CHECKPOINT_HOOKS_H */
