/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart: image record layout.
 *
 * An image is a stream of records.  Every record starts with a
 * struct ckpt_hdr whose @len counts the header and the payload in
 * bytes; the record is followed by zero bytes up to the next multiple
 * of 8, which @len does not count.  All fields are little endian (the
 * native order of the only supported architecture, x86-64).  Every
 * structure below has explicit padding and a size that is a multiple
 * of 8.  See kernel/README.md in the lab repository for the order.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#define _UAPI_LINUX_CHECKPOINT_HDR_H

#include <linux/types.h>

#define CHECKPOINT_MAGIC_HEAD	0x00feed0cc0a2d200ULL
#define CHECKPOINT_MAGIC_TAIL	0x002d2a0cc0deef00ULL

/* record alignment in the stream */
#define CKPT_HDR_ALIGN		8

struct ckpt_hdr {
	__u32 type;
	__u32 len;
};

/* record types */
enum {
	CKPT_HDR_HEADER = 1,
#define CKPT_HDR_HEADER CKPT_HDR_HEADER
	CKPT_HDR_HEADER_ARCH = 2,
#define CKPT_HDR_HEADER_ARCH CKPT_HDR_HEADER_ARCH
	CKPT_HDR_BUFFER = 3,
#define CKPT_HDR_BUFFER CKPT_HDR_BUFFER
	CKPT_HDR_STRING = 4,
#define CKPT_HDR_STRING CKPT_HDR_STRING
	/* 5-9, 10-29: process trees (kernel/checkpoint/tree.c) */
	CKPT_HDR_TREE = 5,
#define CKPT_HDR_TREE CKPT_HDR_TREE
	CKPT_HDR_UTS_NS = 6,	/* after TREE: the tree's UTS namespace (ns.c) */
#define CKPT_HDR_UTS_NS CKPT_HDR_UTS_NS
	CKPT_HDR_NET_NS = 7,	/* after TREE (and UTS_NS): its net namespace (ns.c) */
#define CKPT_HDR_NET_NS CKPT_HDR_NET_NS
	CKPT_HDR_NET_SYSCTL = 8, /* after NET_NS: a sysctl of the namespace (ns.c) */
#define CKPT_HDR_NET_SYSCTL CKPT_HDR_NET_SYSCTL
	CKPT_HDR_IPC_NS = 9,	/* after TREE (UTS_NS, NET_NS): its IPC namespace (ipc_ns.c) */
#define CKPT_HDR_IPC_NS CKPT_HDR_IPC_NS

	CKPT_HDR_TASK = 101,
#define CKPT_HDR_TASK CKPT_HDR_TASK
	CKPT_HDR_THREAD = 103,
#define CKPT_HDR_THREAD CKPT_HDR_THREAD
	CKPT_HDR_CPU = 104,
#define CKPT_HDR_CPU CKPT_HDR_CPU
	CKPT_HDR_CRED = 105,
#define CKPT_HDR_CRED CKPT_HDR_CRED
	CKPT_HDR_RESTART_BLOCK = 106,
#define CKPT_HDR_RESTART_BLOCK CKPT_HDR_RESTART_BLOCK
	CKPT_HDR_AUXV = 107,
#define CKPT_HDR_AUXV CKPT_HDR_AUXV
	CKPT_HDR_SCHED = 108,
#define CKPT_HDR_SCHED CKPT_HDR_SCHED
	CKPT_HDR_THREADS = 110,
#define CKPT_HDR_THREADS CKPT_HDR_THREADS
	CKPT_HDR_THREAD_TASK = 111,
#define CKPT_HDR_THREAD_TASK CKPT_HDR_THREAD_TASK
	CKPT_HDR_SECCOMP = 112,
#define CKPT_HDR_SECCOMP CKPT_HDR_SECCOMP
	CKPT_HDR_SECCOMP_FILTER = 113,
#define CKPT_HDR_SECCOMP_FILTER CKPT_HDR_SECCOMP_FILTER

	/* 201-299: architecture dependent */
	CKPT_HDR_FPU = 201,
#define CKPT_HDR_FPU CKPT_HDR_FPU

	CKPT_HDR_FILE_TABLE = 301,
#define CKPT_HDR_FILE_TABLE CKPT_HDR_FILE_TABLE
	CKPT_HDR_FILE_DESC = 302,
#define CKPT_HDR_FILE_DESC CKPT_HDR_FILE_DESC
	CKPT_HDR_FILE = 304,
#define CKPT_HDR_FILE CKPT_HDR_FILE
	CKPT_HDR_FILE_LOCK = 305,
#define CKPT_HDR_FILE_LOCK CKPT_HDR_FILE_LOCK
	CKPT_HDR_PIPE = 306,
#define CKPT_HDR_PIPE CKPT_HDR_PIPE
	CKPT_HDR_FILE_DATA = 307,
#define CKPT_HDR_FILE_DATA CKPT_HDR_FILE_DATA
	CKPT_HDR_FS = 311,
#define CKPT_HDR_FS CKPT_HDR_FS
	CKPT_HDR_FIFO = 312,
#define CKPT_HDR_FIFO CKPT_HDR_FIFO

	/* 320-339: anonymous-inode files (eventfd.c ... timerfd.c) */
	CKPT_HDR_EVENTFD = 320,
#define CKPT_HDR_EVENTFD CKPT_HDR_EVENTFD
	CKPT_HDR_EPOLL = 321,
#define CKPT_HDR_EPOLL CKPT_HDR_EPOLL
	CKPT_HDR_EPOLL_ITEM = 322,
#define CKPT_HDR_EPOLL_ITEM CKPT_HDR_EPOLL_ITEM
	CKPT_HDR_SIGNALFD = 323,
#define CKPT_HDR_SIGNALFD CKPT_HDR_SIGNALFD
	CKPT_HDR_TIMERFD = 324,
#define CKPT_HDR_TIMERFD CKPT_HDR_TIMERFD
	CKPT_HDR_INOTIFY = 325,
#define CKPT_HDR_INOTIFY CKPT_HDR_INOTIFY
	CKPT_HDR_INOTIFY_WATCH = 326,
#define CKPT_HDR_INOTIFY_WATCH CKPT_HDR_INOTIFY_WATCH
	CKPT_HDR_INOTIFY_EVENT = 327,
#define CKPT_HDR_INOTIFY_EVENT CKPT_HDR_INOTIFY_EVENT

	/* 340-349: ptys (tty.c) */
	CKPT_HDR_PTY = 341,
#define CKPT_HDR_PTY CKPT_HDR_PTY
	CKPT_HDR_CTTY = 342,
#define CKPT_HDR_CTTY CKPT_HDR_CTTY

	CKPT_HDR_MM = 401,
#define CKPT_HDR_MM CKPT_HDR_MM
	CKPT_HDR_VMA = 402,
#define CKPT_HDR_VMA CKPT_HDR_VMA
	CKPT_HDR_PGARR = 404,
#define CKPT_HDR_PGARR CKPT_HDR_PGARR
	CKPT_HDR_SHMEM = 405,
#define CKPT_HDR_SHMEM CKPT_HDR_SHMEM
	CKPT_HDR_PGCOW = 406,	/* pages still shared with the parent */
#define CKPT_HDR_PGCOW CKPT_HDR_PGCOW
	/* 410-419: SysV shm segments (kernel/checkpoint/ipc_shm.c) */
	CKPT_HDR_IPC_SHM = 410,
#define CKPT_HDR_IPC_SHM CKPT_HDR_IPC_SHM
	CKPT_HDR_IPC_MSQ = 411,	/* after IPC_NS: a message queue (ipc_ns.c) */
#define CKPT_HDR_IPC_MSQ CKPT_HDR_IPC_MSQ
	CKPT_HDR_IPC_MSG = 412,	/* after its IPC_MSQ: a message */
#define CKPT_HDR_IPC_MSG CKPT_HDR_IPC_MSG
	CKPT_HDR_IPC_SEM = 413,	/* after the queues: a semaphore set */
#define CKPT_HDR_IPC_SEM CKPT_HDR_IPC_SEM
	CKPT_HDR_IPC_SEM_UNDO = 414,	/* after its IPC_SEM: a process's adjustments */
#define CKPT_HDR_IPC_SEM_UNDO CKPT_HDR_IPC_SEM_UNDO

	/* 430-439: aio contexts (kernel/checkpoint/aio.c) */
	CKPT_HDR_AIO = 430,
#define CKPT_HDR_AIO CKPT_HDR_AIO

	/* 420-429: pre-copy migration (kernel/checkpoint/precopy.c) */
	CKPT_HDR_PRECOPY = 420,
#define CKPT_HDR_PRECOPY CKPT_HDR_PRECOPY
	CKPT_HDR_PGREF = 421,
#define CKPT_HDR_PGREF CKPT_HDR_PGREF

	/* 501-599: sockets (kernel/checkpoint/socket.c, unix.c) */
	CKPT_HDR_SOCKET = 501,
#define CKPT_HDR_SOCKET CKPT_HDR_SOCKET
	CKPT_HDR_SOCKET_QUEUE = 502,
#define CKPT_HDR_SOCKET_QUEUE CKPT_HDR_SOCKET_QUEUE
	CKPT_HDR_SOCKET_MSG = 503,
#define CKPT_HDR_SOCKET_MSG CKPT_HDR_SOCKET_MSG
	CKPT_HDR_SOCKET_TCP = 504,
#define CKPT_HDR_SOCKET_TCP CKPT_HDR_SOCKET_TCP
	CKPT_HDR_SOCKET_INET = 505,	/* options of an inet socket (inet.c) */
#define CKPT_HDR_SOCKET_INET CKPT_HDR_SOCKET_INET
	CKPT_HDR_SOCKET_ACCEPT = 506,	/* a TCP listener's accept queue */
#define CKPT_HDR_SOCKET_ACCEPT CKPT_HDR_SOCKET_ACCEPT
	CKPT_HDR_SOCKET_CONN = 507,	/* ... one connection in it */
#define CKPT_HDR_SOCKET_CONN CKPT_HDR_SOCKET_CONN
	CKPT_HDR_SOCKET_RAW = 508,	/* options of a raw socket (inet.c) */
#define CKPT_HDR_SOCKET_RAW CKPT_HDR_SOCKET_RAW
	CKPT_HDR_SOCKET_IP = 509,	/* IP-level options of an inet socket */
#define CKPT_HDR_SOCKET_IP CKPT_HDR_SOCKET_IP
	CKPT_HDR_SOCKET_MCAST = 510,	/* ... one multicast membership */
#define CKPT_HDR_SOCKET_MCAST CKPT_HDR_SOCKET_MCAST
	CKPT_HDR_SOCKET_FILTER = 511,	/* a classic socket filter (socket.c) */
#define CKPT_HDR_SOCKET_FILTER CKPT_HDR_SOCKET_FILTER
	CKPT_HDR_SOCKET_NETLINK = 512,	/* a netlink socket (netlink.c) */
#define CKPT_HDR_SOCKET_NETLINK CKPT_HDR_SOCKET_NETLINK
	CKPT_HDR_SOCKET_TCPOPT = 513,	/* more options of a TCP socket (inet.c) */
#define CKPT_HDR_SOCKET_TCPOPT CKPT_HDR_SOCKET_TCPOPT
	CKPT_HDR_SOCKET_PACKET = 514,	/* a packet socket (packet.c) */
#define CKPT_HDR_SOCKET_PACKET CKPT_HDR_SOCKET_PACKET
	CKPT_HDR_SOCKET_PACKET_MC = 515, /* ... one membership of it */
#define CKPT_HDR_SOCKET_PACKET_MC CKPT_HDR_SOCKET_PACKET_MC
	CKPT_HDR_SOCKET_DGRAM = 516,	/* a UDP datagram's addresses (inet.c) */
#define CKPT_HDR_SOCKET_DGRAM CKPT_HDR_SOCKET_DGRAM
	CKPT_HDR_SOCKET_UDPLITE = 517,	/* checksum coverage of UDP-Lite (inet.c) */
#define CKPT_HDR_SOCKET_UDPLITE CKPT_HDR_SOCKET_UDPLITE

	CKPT_HDR_SIGHAND = 601,
#define CKPT_HDR_SIGHAND CKPT_HDR_SIGHAND
	CKPT_HDR_SIGNAL = 602,
#define CKPT_HDR_SIGNAL CKPT_HDR_SIGNAL
	CKPT_HDR_SIGPENDING = 603,
#define CKPT_HDR_SIGPENDING CKPT_HDR_SIGPENDING

	CKPT_HDR_ITIMERS = 701,
#define CKPT_HDR_ITIMERS CKPT_HDR_ITIMERS
	CKPT_HDR_POSIX_TIMERS = 710,
#define CKPT_HDR_POSIX_TIMERS CKPT_HDR_POSIX_TIMERS

	CKPT_HDR_TAIL = 9001,
#define CKPT_HDR_TAIL CKPT_HDR_TAIL

	CKPT_HDR_ERROR = 9999,
#define CKPT_HDR_ERROR CKPT_HDR_ERROR
};

/* architectures (ckpt_hdr_header.arch_id) */
enum {
	CKPT_ARCH_X86_32 = 1,
#define CKPT_ARCH_X86_32 CKPT_ARCH_X86_32
	CKPT_ARCH_X86_64 = 2,
#define CKPT_ARCH_X86_64 CKPT_ARCH_X86_64
};

/* kernel constants: 16 bytes */
struct ckpt_const {
	__u16 task_comm_len;
	__u16 uts_release_len;
	__u16 uts_version_len;
	__u16 uts_machine_len;
	__u32 page_size;
	__u32 _padding;
};

/*
 * CKPT_HDR_HEADER: 64 bytes, first record.  Followed by three
 * CKPT_HDR_STRING records: uts release, uts version, uts machine.
 */
struct ckpt_hdr_header {
	struct ckpt_hdr h;
	__u64 magic;		/* CHECKPOINT_MAGIC_HEAD */
	__u16 arch_id;		/* CKPT_ARCH_* */
	__u16 major;		/* kernel version of the checkpoint */
	__u16 minor;
	__u16 patch;
	__u16 rev;		/* CHECKPOINT_VERSION */
	__u16 _padding[3];
	struct ckpt_const constants;
	__u64 time;		/* seconds since the epoch */
	__u64 uflags;		/* flags given to checkpoint(2) */
};

/* CKPT_HDR_HEADER_ARCH: 32 bytes, x86-64 */
struct ckpt_hdr_header_arch {
	struct ckpt_hdr h;
	__u32 xstate_size;	/* size of the uabi XSAVE buffer */
	__u32 vdso_size;	/* size of the vDSO text */
	__u64 xfeatures;	/* user xfeatures enabled on the CPU */
	__u64 _padding;
};

/*
 * CKPT_HDR_TREE: 16 bytes + 64 * nr_tasks, right after the arch header:
 * the task hierarchy, in depth-first order, the root first.  A task
 * section (CKPT_HDR_TASK ...) follows for every task that is not a
 * zombie, in the same order.  If @nr_ctty is not 0, a CKPT_HDR_CTTY
 * record follows the last task section.
 */
#define CKPT_TREE_MAX		4096	/* tasks in an image */

struct ckpt_hdr_tree {
	struct ckpt_hdr h;
	__u32 nr_tasks;
	__u32 nr_ctty;		/* entries of the CKPT_HDR_CTTY record */
};

/*
 * CKPT_HDR_UTS_NS: 144 bytes: the names of the tree's UTS namespace that
 * sethostname() and setdomainname() set, each NUL-terminated (the rest of
 * utsname is the running kernel's)
 */
#define CKPT_UTS_LEN		65

struct ckpt_hdr_uts_ns {
	struct ckpt_hdr h;
	char nodename[CKPT_UTS_LEN];
	char domainname[CKPT_UTS_LEN];
	__u8 _padding[6];
};

/* ckpt_hdr_net_ns.flags: the state of its loopback device */
#define CKPT_NETNS_LO_UP	0x1	/* lo is up */
#define CKPT_NETNS_LO_INET	0x2	/* lo has 127.0.0.1/8, its only IPv4 address */
#define CKPT_NETNS_LO_INET6	0x4	/* lo has ::1/128, its only IPv6 address */
#define CKPT_NETNS_FLAGS	0x7

/*
 * CKPT_HDR_NET_NS: 40 bytes: the tree's network namespace, whose only
 * device is its loopback (any other is refused at checkpoint, and so are
 * addresses other than lo's own, an MTU other than 65536, rules and
 * routes of its own): lo's state; @nr_sysctl CKPT_HDR_NET_SYSCTL records
 * follow, the namespace's sysctls.
 */
#define CKPT_NET_SYSCTL_MAX	4096	/* NET_SYSCTL records after a NET_NS */

struct ckpt_hdr_net_ns {
	struct ckpt_hdr h;
	__u32 flags;		/* CKPT_NETNS_* */
	__u32 lo_mtu;		/* 65536 */
	__u32 nr_sysctl;	/* NET_SYSCTL records after it */
	__u32 _padding[5];
};

/*
 * CKPT_HDR_NET_SYSCTL: 16 bytes + @name_len + @value_len: one sysctl of
 * the tree's network namespace (every one of its ctl_table_set, the
 * network namespace's /proc/sys/net, that can be read and written): its
 * path under /proc/sys ("net/ipv4/tcp_syncookies"), then the text a read
 * of it gives ("1\n"), neither with a NUL; restart writes that text to
 * the same sysctl of the new namespace, when it reads otherwise there.
 * Gids and uids in it (net.ipv4.ping_group_range) are of the
 * checkpointer's user namespace (restart: of the caller's).
 */
#define CKPT_NET_SYSCTL_NAME_MAX	128	/* bytes of @name, at most one less */
#define CKPT_NET_SYSCTL_VALUE_MAX	1024	/* bytes of the value, likewise */

struct ckpt_hdr_net_sysctl {
	struct ckpt_hdr h;
	__u16 name_len;
	__u16 value_len;
	__u32 _padding;
};

/*
 * the id counters of one kind of SysV object of an IPC namespace (sets,
 * queues, segments: ipc_ids): where the next id's index is looked for
 * from (the idr's cursor), the last index given and the sequence number
 */
struct ckpt_ipc_ids {
	__s32 last_idx;		/* -1: none yet */
	__u32 seq;
	__u32 cursor;
};

/*
 * CKPT_HDR_IPC_NS: 104 bytes, after TREE (and UTS_NS, NET_NS) when the
 * root's entry has CKPT_TREE_IPCNS: the limits of the tree's IPC
 * namespace (its sysctls) and its id counters, then @nr_msq IPC_MSQ
 * records (each followed by its messages) and @nr_sem IPC_SEM records,
 * in order of id index.
 */
struct ckpt_hdr_ipc_ns {
	struct ckpt_hdr h;
	__u64 shmmax;		/* kernel.shmmax */
	__u64 shmall;
	__u32 shmmni;
	__u32 shm_rmid_forced;
	__u32 msgmax;
	__u32 msgmnb;
	__u32 msgmni;
	__s32 sem[4];		/* kernel.sem: semmsl, semmns, semopm, semmni */
	__u32 nr_msq;
	__u32 nr_sem;
	struct ckpt_ipc_ids ids[3];	/* semaphore sets, message queues, shm segments */
};

/*
 * CKPT_HDR_IPC_MSQ: 88 bytes: a SysV message queue of the tree's IPC
 * namespace, followed by its @qnum messages in queue order (CKPT_HDR_IPC_MSG
 * records), whose sizes add up to @cbytes.  The ids are those of the
 * checkpointing caller's user namespace, the pids those of the image
 * (0: none, or not seen there).
 */
struct ckpt_hdr_ipc_msq {
	struct ckpt_hdr h;
	__s32 key;		/* IPC_PRIVATE (0) or its key */
	__s32 id;		/* the msqid */
	__u32 mode;		/* 0777 bits */
	__u32 uid;		/* owner */
	__u32 gid;
	__u32 cuid;		/* creator */
	__u32 cgid;
	__s32 lspid;		/* msg_lspid */
	__s32 lrpid;		/* msg_lrpid */
	__u32 qnum;		/* messages */
	__u64 qbytes;		/* msg_qbytes */
	__u64 cbytes;		/* bytes of the messages */
	__s64 stime;		/* msg_stime, msg_rtime, msg_ctime (s) */
	__s64 rtime;
	__s64 ctime;
};

/* CKPT_HDR_IPC_MSG: 24 bytes + @len: a message, its @len bytes follow */
struct ckpt_hdr_ipc_msg {
	struct ckpt_hdr h;
	__s64 mtype;		/* >= 1 */
	__u64 len;		/* the record's length - 24 */
};

/* a semaphore of a CKPT_HDR_IPC_SEM record */
struct ckpt_ipc_sem_val {
	__s32 semval;		/* 0..SEMVMX */
	__s32 sempid;		/* a pid of the image, 0: none or not seen */
	__s64 otime;		/* the last semop() on it (s) */
};

/*
 * CKPT_HDR_IPC_SEM: 56 bytes + 16 * @nsems: a SysV semaphore set of the
 * tree's IPC namespace and its semaphores, followed by @nr_undo
 * IPC_SEM_UNDO records.  Ids as for IPC_MSQ.
 */
struct ckpt_hdr_ipc_sem {
	struct ckpt_hdr h;
	__s32 key;
	__s32 id;		/* the semid */
	__u32 mode;		/* 0777 bits */
	__u32 uid;
	__u32 gid;
	__u32 cuid;
	__u32 cgid;
	__u32 nsems;		/* 1..semmsl */
	__s64 ctime;		/* sem_ctime (s) */
	__u32 nr_undo;		/* processes with adjustments of it */
	__u32 _padding;
	/* struct ckpt_ipc_sem_val sems[nsems] follow */
};

/*
 * CKPT_HDR_IPC_SEM_UNDO: 16 bytes + 2 * @nsems, padded to 8: the
 * adjustments semop(SEM_UNDO) left a process of the tree (all its
 * threads: one undo list) for one set, applied when it exits.
 */
struct ckpt_hdr_ipc_sem_undo {
	struct ckpt_hdr h;
	__s32 pid;		/* the process, its pid in the image's TREE */
	__u32 nsems;		/* the set's */
	/* __s16 semadj[nsems] follow */
};

#define CKPT_TREE_COMM_LEN	16
#define CKPT_TREE_ZOMBIE	0x1	/* exited, not reaped: @exit_code */
/*
 * the root only: the image is of a pid namespace (checkpoint without
 * CHECKPOINT_SUBTREE of its init), every pid as seen in it, the root's 1;
 * restart needs a caller that is the init of a new pid namespace
 */
#define CKPT_TREE_PIDNS		0x2
/*
 * not the root: the dead leader of a process group or session of the
 * tree (its pid only names them): no task section; restart with
 * RESTART_GHOST makes a placeholder with that pid that leads them, and
 * exits (reaped by the kernel) before any task runs
 */
#define CKPT_TREE_GHOST		0x4
/*
 * not the root: shares the descriptor table (CLONE_FILES) of the live
 * task of index @files_of, earlier in the tree, which has its own: the
 * task's section has no CKPT_HDR_FILE_TABLE; restart gives it that very
 * table
 */
#define CKPT_TREE_FILES		0x8
/* likewise the fs_struct (CLONE_FS) of task @fs_of: no CKPT_HDR_FS */
#define CKPT_TREE_FS		0x10
/*
 * the root only: every task is in a UTS namespace of the tree's own (not
 * the checkpointer's), whose names CKPT_HDR_UTS_NS after TREE holds;
 * restart makes a new one for the tree
 */
#define CKPT_TREE_UTSNS		0x20
/*
 * the root only: every task is in a network namespace of the tree's own,
 * whose state CKPT_HDR_NET_NS after TREE (and UTS_NS) holds; restart
 * makes a new one for the tree
 */
#define CKPT_TREE_NETNS		0x40
/*
 * the root only: every task is in an IPC namespace of the tree's own, whose
 * SysV shm segments are all attached by the tree (IPC_SHM records), whose
 * limits, message queues and semaphore sets CKPT_HDR_IPC_NS after TREE
 * (UTS_NS, NET_NS) and its records hold, and which has no POSIX message
 * queue; restart makes a new one for the tree
 */
#define CKPT_TREE_IPCNS		0x80
#define CKPT_TREE_NS		(CKPT_TREE_UTSNS | CKPT_TREE_NETNS | CKPT_TREE_IPCNS)
#define CKPT_TREE_FLAGS		(0x1f | CKPT_TREE_NS)

/*
 * @pgid and @sid are pids of the image; 0 means "the root's", which is
 * outside the tree (restored as the restarting caller's).  A zombie has
 * no task section: its name and which of its signals were ignored or
 * caught (what /proc shows of it) are here; 0 for the other tasks.
 */
struct ckpt_tree_task {
	__s32 pid;
	__s32 parent;		/* index of the parent, -1 for the root */
	__s32 pgid;
	__s32 sid;
	__u32 exit_signal;	/* to the parent (clone()'s) */
	__u32 flags;		/* CKPT_TREE_* */
	__u32 exit_code;	/* of a zombie, as wait() reports it */
	__u16 files_of;		/* CKPT_TREE_FILES: the owner's index, else 0 */
	__u16 fs_of;		/* CKPT_TREE_FS: the owner's index, else 0 */
	char comm[CKPT_TREE_COMM_LEN];	/* of a zombie */
	__u64 sigign;		/* of a zombie: bit N-1 = signal N */
	__u64 sigcatch;
};

/* CKPT_HDR_TASK: 88 bytes */
#define CKPT_TASK_SELF		0x1	/* self checkpoint */
#define CKPT_TASK_SUBREAPER	0x2	/* PR_SET_CHILD_SUBREAPER */
#define CKPT_TASK_NO_NEW_PRIVS	0x4	/* PR_SET_NO_NEW_PRIVS */
#define CKPT_TASK_THP_DISABLE	0x8	/* PR_SET_THP_DISABLE */
#define CKPT_TASK_FLAGS		0xf
#define CKPT_TASK_COMM_LEN	16

struct ckpt_hdr_task {
	struct ckpt_hdr h;
	__s32 pid;		/* pid at checkpoint (informative) */
	__u32 task_flags;	/* CKPT_TASK_* */
	__u32 exit_signal;
	__u32 personality;
	__u32 pdeath_signal;
	__u32 coredump_filter;	/* /proc/PID/coredump_filter */
	__u64 set_child_tid;
	__u64 clear_child_tid;
	char comm[CKPT_TASK_COMM_LEN];
	__u64 timer_slack_ns;
	__u64 default_timer_slack_ns;
	__s32 oom_score_adj;	/* OOM_SCORE_ADJ_MIN..OOM_SCORE_ADJ_MAX */
	__u32 dumpable;		/* 0 or 1 (PR_SET_DUMPABLE) */
};

/*
 * CKPT_HDR_THREADS: 16 bytes, after the leader's SCHED: the number of
 * threads of the process, the leader (the TASK record) included.  Each
 * other thread follows as THREAD_TASK THREAD CPU FPU SIGPENDING (its
 * private queue only) RESTART_BLOCK.
 */
#define CKPT_THREADS_MAX	1024

struct ckpt_hdr_threads {
	struct ckpt_hdr h;
	__u32 nr_threads;	/* 1..CKPT_THREADS_MAX */
	__u32 _padding;
};

/* CKPT_HDR_THREAD_TASK: 48 bytes, a thread other than the leader */
struct ckpt_hdr_thread_task {
	struct ckpt_hdr h;
	__s32 tid;		/* its thread id, restored exactly */
	__s32 tgid;		/* its leader's pid: the TASK record's */
	__u64 set_child_tid;
	__u64 clear_child_tid;
	char comm[CKPT_TASK_COMM_LEN];
};

/*
 * CKPT_HDR_CRED: 88 bytes + 4 * ngroups: credentials, ids as seen from
 * the checkpointing task's user namespace; a capability set is a bit mask
 * of CAP_* numbers.
 */
struct ckpt_hdr_cred {
	struct ckpt_hdr h;
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
	__u32 securebits;
	__u32 ngroups;		/* supplementary groups, at most 65536 */
	__u64 cap_inheritable;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_bset;
	__u64 cap_ambient;
	__u32 groups[];		/* @ngroups gids */
};

/*
 * CKPT_HDR_RESTART_BLOCK: 56 bytes: the restart block of a call that the
 * freezer interrupted with -ERESTART_RESTARTBLOCK, as the time it had
 * left; restart resumes the call through restart_syscall().
 */
enum {
	CKPT_RESTART_NONE = 0,		/* nothing, or the original call again */
#define CKPT_RESTART_NONE CKPT_RESTART_NONE
	CKPT_RESTART_NANOSLEEP = 1,	/* relative [clock_]nanosleep() */
#define CKPT_RESTART_NANOSLEEP CKPT_RESTART_NANOSLEEP
	CKPT_RESTART_POLL = 2,		/* poll() */
#define CKPT_RESTART_POLL CKPT_RESTART_POLL
	CKPT_RESTART_FUTEX = 3,		/* futex wait with a timeout */
#define CKPT_RESTART_FUTEX CKPT_RESTART_FUTEX
};

#define CKPT_RESTART_FUTEX_SHARED	0x1	/* flags: not FUTEX_PRIVATE_FLAG */

struct ckpt_hdr_restart_block {
	struct ckpt_hdr h;
	__u32 kind;		/* CKPT_RESTART_* */
	__s32 clockid;		/* the clock of the timeout */
	__u64 timeout_ns;	/* time left */
	__u64 uaddr;		/* nanosleep: rmtp; poll: ufds; futex: uaddr */
	__u64 uaddr2;		/* reserved, 0 */
	__u32 val;		/* poll: nfds; futex: val */
	__u32 flags;		/* nanosleep: rmtp type; poll: has timeout;
				 * futex: CKPT_RESTART_FUTEX_*
				 */
	__u32 bitset;		/* futex: bitset (not 0); else 0 */
	__u32 _padding;
};

/*
 * CKPT_HDR_AUXV: 16 bytes + 8 * nr: the auxiliary vector that exec gave
 * the process (mm->saved_auxv, /proc/PID/auxv): (type, value) pairs up
 * to and including AT_NULL.
 */
struct ckpt_hdr_auxv {
	struct ckpt_hdr h;
	__u32 nr;		/* __u64 words, even, at most AT_VECTOR_SIZE */
	__u32 _padding;
	__u64 auxv[];
};

/*
 * CKPT_HDR_SECCOMP: 16 bytes, after CKPT_HDR_SCHED: the seccomp mode
 * (SECCOMP_MODE_DISABLED 0, _STRICT 1, _FILTER 2) and, for filters, the
 * number of CKPT_HDR_SECCOMP_FILTER records that follow, oldest first.
 * CKPT_HDR_SECCOMP_FILTER: 16 bytes + 8 * @len: a filter's classic BPF
 * program (struct sock_filter, 1..BPF_MAXINSNS) and its flags.
 */
#define CKPT_SECCOMP_FILTERS_MAX	1024
#define CKPT_SECCOMP_FILTER_LOG		0x1	/* SECCOMP_FILTER_FLAG_LOG */

struct ckpt_hdr_seccomp {
	struct ckpt_hdr h;
	__u32 mode;
	__u32 nfilters;
};

struct ckpt_hdr_seccomp_filter {
	struct ckpt_hdr h;
	__u32 len;		/* instructions */
	__u32 flags;		/* CKPT_SECCOMP_FILTER_* */
	__u64 insns[];		/* struct sock_filter each */
};

/*
 * CKPT_HDR_SCHED: 160 bytes: scheduling policy (SCHED_*), nice, real-time
 * priority, SCHED_RESET_ON_FORK, and the CPU affinity (CPUs 0..1023).
 */
#define CKPT_SCHED_RESET_ON_FORK	0x1
#define CKPT_SCHED_CPU_WORDS		16

struct ckpt_hdr_sched {
	struct ckpt_hdr h;
	__u32 policy;
	__s32 nice;
	__u32 rt_priority;
	__u32 flags;		/* CKPT_SCHED_* */
	__u32 ioprio;		/* ioprio_set(), IOPRIO_PRIO_VALUE() */
	__u32 _padding;
	__u64 cpus[CKPT_SCHED_CPU_WORDS];	/* bit N of word N / 64: CPU N */
};

/* CKPT_HDR_THREAD: 80 bytes */
struct ckpt_hdr_thread {
	struct ckpt_hdr h;
	__u64 blocked;		/* blocked signal mask */
	__u64 sas_ss_sp;
	__u64 sas_ss_size;
	__u32 sas_ss_flags;
	__u32 rseq_len;
	__u64 rseq;
	__u32 rseq_sig;
	__u32 flags;		/* CKPT_THREAD_* */
	__u64 robust_list;
	__u64 robust_list_len;
	__u64 temp_blocked;	/* CKPT_THREAD_TEMP_MASK: the call's mask */
};

/*
 * The task is in sigsuspend(), ppoll(), pselect() or epoll_pwait(), or on its
 * way out of one (TS_RESTORE_SIGMASK): it runs with the call's temporary mask
 * (temp_blocked), its own one (blocked) is restored on the way to user mode.
 */
#define CKPT_THREAD_TEMP_MASK	0x1

/* CKPT_HDR_CPU: 248 bytes, x86-64 general registers and TLS */
struct ckpt_hdr_cpu {
	struct ckpt_hdr h;
	__u64 r15;
	__u64 r14;
	__u64 r13;
	__u64 r12;
	__u64 bp;
	__u64 bx;
	__u64 r11;
	__u64 r10;
	__u64 r9;
	__u64 r8;
	__u64 ax;
	__u64 cx;
	__u64 dx;
	__u64 si;
	__u64 di;
	__u64 orig_ax;
	__u64 ip;
	__u64 cs;
	__u64 flags;
	__u64 sp;
	__u64 ss;
	__u64 fs_base;
	__u64 gs_base;
	__u64 ds;
	__u64 es;
	__u64 fs;
	__u64 gs;
	__u64 tls[3];		/* GDT TLS descriptors, raw */
};

/*
 * CKPT_HDR_FPU: 24 bytes, followed in the same record by @size bytes:
 * the user ABI (standard format) XSAVE buffer, as in NT_X86_XSTATE.
 */
struct ckpt_hdr_fpu {
	struct ckpt_hdr h;
	__u32 size;
	__u32 _padding;
	__u64 xfeatures;	/* XSTATE_BV of the buffer */
};

/* CKPT_HDR_SIGHAND: 16 bytes + nr * 32 bytes */
struct ckpt_sigaction {
	__u64 handler;
	__u64 flags;
	__u64 restorer;
	__u64 mask;
};

struct ckpt_hdr_sighand {
	struct ckpt_hdr h;
	__u32 nr;		/* number of signals: 64 */
	__u32 _padding;
	struct ckpt_sigaction action[];
};

/* CKPT_HDR_SIGNAL: 272 bytes; the process-wide state of signal_struct */
#define CKPT_RLIM_NLIMITS	16

struct ckpt_rlimit {
	__u64 cur;		/* RLIM_INFINITY is ~0 */
	__u64 max;
};

/*
 * ckpt_hdr_signal.stop_flags: the job-control state of the process.
 * STOPPED: a group stop is complete (SIGNAL_STOP_STOPPED, every thread
 * stopped by stop_signal); stop_code is what wait(WUNTRACED) would report
 * (stop_signal, or 0 once reported).  CONTINUED: continued by SIGCONT and
 * not yet reported to wait(WCONTINUED) (SIGNAL_STOP_CONTINUED).
 */
#define CKPT_SIGNAL_STOPPED	0x1
#define CKPT_SIGNAL_CONTINUED	0x2

struct ckpt_hdr_signal {
	struct ckpt_hdr h;
	__u32 nr_rlim;		/* CKPT_RLIM_NLIMITS */
	__u8 stop_flags;	/* CKPT_SIGNAL_* */
	__u8 stop_signal;	/* with STOPPED: SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU */
	__u8 stop_code;		/* with STOPPED: stop_signal or 0 */
	__u8 _padding;
	struct ckpt_rlimit rlim[CKPT_RLIM_NLIMITS];
};

/*
 * CKPT_HDR_SIGPENDING: 32 bytes + nr * 136: the pending signals of the
 * private (tgkill, a fault) and the shared (kill, sigqueue) queue, in
 * queue order, each with its siginfo_t; a pending bit that had no queued
 * siginfo gets the one dequeueing it would give (SI_USER, pid 0, uid 0).
 */
enum {
	CKPT_SIGQ_PRIVATE = 0,
#define CKPT_SIGQ_PRIVATE CKPT_SIGQ_PRIVATE
	CKPT_SIGQ_SHARED = 1,
#define CKPT_SIGQ_SHARED CKPT_SIGQ_SHARED
};

struct ckpt_siginfo {
	__u32 queue;		/* CKPT_SIGQ_* */
	__u32 signo;
	__u8 info[128];		/* siginfo_t */
};

struct ckpt_hdr_sigpending {
	struct ckpt_hdr h;
	__u32 nr;
	__u32 _padding;
	__u64 private_mask;	/* pending signals: bit N-1 is signal N */
	__u64 shared_mask;
	struct ckpt_siginfo signals[];
};

/*
 * CKPT_HDR_ITIMERS: 56 bytes: ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF,
 * each with the time left (0: disarmed) and the interval, in ns.
 */
struct ckpt_itimer {
	__u64 value_ns;
	__u64 interval_ns;
};

struct ckpt_hdr_itimers {
	struct ckpt_hdr h;
	struct ckpt_itimer it[3];
};

/*
 * CKPT_HDR_POSIX_TIMERS: 16 bytes + 72 per timer (timer_create()), in
 * increasing id order.  A timer armed relative to now keeps the time it
 * had left; one armed with TIMER_ABSTIME its deadline.  A SIGEV_THREAD_ID
 * timer signals the leader (tid 0) or the thread of the THREADS record
 * with that tid.
 */
#define CKPT_PTIMER_ABSTIME	0x1	/* expires_ns is absolute */
#define CKPT_PTIMER_ACTIVE	0x2	/* armed, counting down */
#define CKPT_PTIMER_SIGQUEUED	0x4	/* its signal is pending */
#define CKPT_PTIMER_REQUEUE	0x8	/* rearmed when that signal is taken */
#define CKPT_PTIMER_FLAGS	0xf

struct ckpt_posix_timer {
	__s32 id;		/* timer_t */
	__s32 clockid;
	__s32 notify;		/* sigev_notify */
	__s32 signo;		/* sigev_signo */
	__u64 value;		/* sigev_value */
	__u32 flags;		/* CKPT_PTIMER_* */
	__s32 sig_overrun;	/* si_overrun of the pending signal */
	__s64 expires_ns;	/* time left (<= 0: expired), or the deadline */
	__u64 interval_ns;
	__s64 overrun;		/* counted while its signal is pending, -1 */
	__s64 overrun_last;	/* timer_getoverrun() */
	__s32 tid;		/* SIGEV_THREAD_ID: a THREAD_TASK's tid, 0 the leader */
	__u32 _reserved;
};

struct ckpt_hdr_posix_timers {
	struct ckpt_hdr h;
	__u32 nr;
	__s32 next_id;		/* id of the next timer_create() */
	struct ckpt_posix_timer timers[];
};

/*
 * CKPT_HDR_FS: 16 bytes, followed by two CKPT_HDR_STRING records: the
 * root directory and the working directory, as paths seen from the
 * checkpointing task's root ("/" for the root: not chrooted).
 */
struct ckpt_hdr_fs {
	struct ckpt_hdr h;
	__u32 umask;
	__u32 _padding;
};

/* CKPT_HDR_FILE_TABLE: 16 bytes */
struct ckpt_hdr_file_table {
	struct ckpt_hdr h;
	__u32 nfds;		/* number of CKPT_HDR_FILE_DESC records */
	__u32 _padding;
};

/* file types */
enum {
	CKPT_FILE_REG = 1,	/* regular file, reopened by path */
#define CKPT_FILE_REG CKPT_FILE_REG
	CKPT_FILE_CHR = 2,	/* /dev/null, zero, full, random, urandom */
#define CKPT_FILE_CHR CKPT_FILE_CHR
	CKPT_FILE_DIR = 3,	/* directory, reopened by path */
#define CKPT_FILE_DIR CKPT_FILE_DIR
	CKPT_FILE_PATH = 4,	/* O_PATH descriptor of any inode type */
#define CKPT_FILE_PATH CKPT_FILE_PATH
	CKPT_FILE_PIPE = 5,	/* an end of a pipe, followed by CKPT_HDR_PIPE */
#define CKPT_FILE_PIPE CKPT_FILE_PIPE
	CKPT_FILE_DELETED = 6,	/* an unlinked regular file, CKPT_HDR_FILE_DATA */
#define CKPT_FILE_DELETED CKPT_FILE_DELETED
	CKPT_FILE_MEMFD = 7,	/* a memfd, CKPT_HDR_FILE_DATA */
#define CKPT_FILE_MEMFD CKPT_FILE_MEMFD
	CKPT_FILE_FIFO = 312,	/* a named FIFO, reopened, CKPT_HDR_FIFO */
#define CKPT_FILE_FIFO CKPT_FILE_FIFO
	CKPT_FILE_EVENTFD = 320,	/* 32x: anonymous inodes, their records */
#define CKPT_FILE_EVENTFD CKPT_FILE_EVENTFD
	CKPT_FILE_EPOLL = 321,
#define CKPT_FILE_EPOLL CKPT_FILE_EPOLL
	CKPT_FILE_SIGNALFD = 323,
#define CKPT_FILE_SIGNALFD CKPT_FILE_SIGNALFD
	CKPT_FILE_TIMERFD = 324,
#define CKPT_FILE_TIMERFD CKPT_FILE_TIMERFD
	CKPT_FILE_INOTIFY = 325,
#define CKPT_FILE_INOTIFY CKPT_FILE_INOTIFY
	CKPT_FILE_PTY = 340,	/* an end of a pty pair, CKPT_HDR_PTY */
#define CKPT_FILE_PTY CKPT_FILE_PTY
	CKPT_FILE_SOCKET = 500,	/* 5xx: sockets, see CKPT_HDR_SOCKET */
#define CKPT_FILE_SOCKET CKPT_FILE_SOCKET
};

/*
 * CKPT_HDR_PTY: 136 bytes, after the STRING of a CKPT_FILE_PTY file (its
 * path, informative): an end of a pty pair whose both ends the task
 * holds.  pty_ref 1, 2, ... in order of first appearance; the first
 * appearance of a pair carries its state and is followed by a
 * CKPT_HDR_BUFFER of nbytes[0] bytes (the master's unread input: what
 * the slave wrote) if non-zero, then one of nbytes[1] (the slave's);
 * a pair seen before has only pty_ref and end (the rest zero).
 */
#define CKPT_PTY_MASTER		1
#define CKPT_PTY_SLAVE		2
#define CKPT_PTY_DEVTTY		3	/* the slave, opened as /dev/tty */

#define CKPT_PTY_LOCKED		0x1	/* the slave is locked (unlockpt()) */
#define CKPT_PTY_PACKET		0x2	/* packet mode (TIOCPKT) */
#define CKPT_PTY_FLAGS		0x3

#define CKPT_NCCS		19

struct ckpt_termios {
	__u32 c_iflag;
	__u32 c_oflag;
	__u32 c_cflag;
	__u32 c_lflag;
	__u32 c_ispeed;
	__u32 c_ospeed;
	__u8 c_line;		/* N_TTY (0) */
	__u8 c_cc[CKPT_NCCS];
};

struct ckpt_hdr_pty {
	struct ckpt_hdr h;
	__s32 pty_ref;
	__u32 end;		/* CKPT_PTY_MASTER, _SLAVE, _DEVTTY */
	__u32 index;		/* the pts number, kept */
	__u32 flags;		/* CKPT_PTY_* */
	__u32 pktstatus;	/* packet mode: TIOCPKT_* bits not yet read */
	__u32 nbytes[2];	/* unread input: master, slave */
	__u16 ws_row;		/* window size */
	__u16 ws_col;
	__u16 ws_xpixel;
	__u16 ws_ypixel;
	__u32 _padding;
	struct ckpt_termios termios[2];	/* master, slave */
};

/*
 * CKPT_HDR_CTTY: 8 bytes + 16 * nr_ctty (of the TREE record), after the
 * last task section of a tree: the controlling tty of every task of a
 * session the tree leads that has one, in the tree's order.  It is the
 * slave of a pty pair of the image; the session leader has an entry
 * whenever a task of its session has.
 */
struct ckpt_ctty {
	__s32 pid;		/* the task (of a session the tree leads) */
	__s32 pty_ref;		/* its controlling tty, a pair of the image */
	__s32 pgrp;		/* the tty's foreground process group, 0: none */
	__s32 sid;		/* the tty's session: the task's */
};

/* before version 4 the only character device was /dev/null */
#define CKPT_FILE_DEVNULL	CKPT_FILE_CHR

/* owner of the file's signals (F_SETOWN, F_SETOWN_EX), in @f_owner */
enum {
	CKPT_FOWN_NONE = 0,
#define CKPT_FOWN_NONE CKPT_FOWN_NONE
	CKPT_FOWN_SELF = 1,	/* the task's process (F_SETOWN getpid()) */
#define CKPT_FOWN_SELF CKPT_FOWN_SELF
	CKPT_FOWN_SELF_TID = 2,	/* the task's thread (F_OWNER_TID) */
#define CKPT_FOWN_SELF_TID CKPT_FOWN_SELF_TID
};

/*
 * CKPT_HDR_FILE: 64 bytes, followed by a CKPT_HDR_STRING (the path) and
 * @nlocks CKPT_HDR_FILE_LOCK records.
 */
struct ckpt_hdr_file {
	struct ckpt_hdr h;
	__s32 objref;		/* 1, 2, ... in order of appearance */
	__u32 f_type;		/* CKPT_FILE_* */
	__u32 f_flags;		/* open flags (O_*, file status flags) */
	__u32 f_mode;		/* FMODE_READ, FMODE_WRITE */
	__s64 f_pos;
	__u64 i_size;		/* size of a regular file (informative) */
	__u32 i_mode;		/* file type bits (S_IFMT) of the inode */
	__u32 rdev;		/* device number (new_encode_dev) */
	__u32 nlocks;		/* CKPT_HDR_FILE_LOCK records that follow */
	__u32 f_owner;		/* CKPT_FOWN_* */
	__u32 f_signum;		/* F_SETSIG signal, 0 for SIGIO */
	__u32 _padding;
};

/*
 * CKPT_HDR_FILE_DATA: 32 bytes, after the path of a CKPT_FILE_DELETED or
 * CKPT_FILE_MEMFD file (and before its locks).  The first time the inode
 * appears (@data_ref is the next number, 1, 2, ...) it is followed by its
 * @size bytes of content in CKPT_HDR_BUFFER records of CKPT_DATA_CHUNK
 * bytes (the last one shorter); later files of the inode repeat @data_ref
 * with @size 0 and no buffers.
 */
#define CKPT_DATA_CHUNK		65536

struct ckpt_hdr_file_data {
	struct ckpt_hdr h;
	__s32 data_ref;
	__u32 i_perm;		/* permission bits (07777) */
	__u64 size;		/* bytes of content */
	__u32 seals;		/* memfd: F_SEAL_* */
	__u32 data_flags;	/* CKPT_DATA_* */
};

/* an O_TMPFILE inode that linkat() may still give a name (not O_EXCL) */
#define CKPT_DATA_LINKABLE	0x1

/* CKPT_HDR_FILE_LOCK: 32 bytes */
enum {
	CKPT_LOCK_POSIX = 1,	/* fcntl(F_SETLK), owned by the process */
#define CKPT_LOCK_POSIX CKPT_LOCK_POSIX
	CKPT_LOCK_OFD = 2,	/* fcntl(F_OFD_SETLK), owned by the file */
#define CKPT_LOCK_OFD CKPT_LOCK_OFD
	CKPT_LOCK_FLOCK = 3,	/* flock(), owned by the file */
#define CKPT_LOCK_FLOCK CKPT_LOCK_FLOCK
	CKPT_LOCK_LEASE = 4,	/* fcntl(F_SETLEASE), owned by the file */
#define CKPT_LOCK_LEASE CKPT_LOCK_LEASE
};

#define CKPT_FILE_LOCKS_MAX	4096	/* lock records per file */

/*
 * CKPT_HDR_PIPE: 24 bytes, after the path of a CKPT_FILE_PIPE file (and
 * before its locks).  The first time a pipe appears (@pipe_ref is the next
 * number, 1, 2, ...) it is followed by a CKPT_HDR_BUFFER of @nbytes bytes,
 * the data in the pipe; later ends of the same pipe have @nbytes 0.
 */
struct ckpt_hdr_pipe {
	struct ckpt_hdr h;
	__s32 pipe_ref;
	__u32 size;		/* capacity in bytes (F_GETPIPE_SZ) */
	__u32 nbytes;		/* bytes in the pipe */
	__u32 _padding;
};

/*
 * CKPT_HDR_FIFO: 24 bytes, after the path of a CKPT_FILE_FIFO file (and
 * before its locks).  Every file of one FIFO has the same @fifo_ref (1, 2,
 * ... in order of appearance); the first is followed by a CKPT_HDR_BUFFER
 * of @nbytes bytes, the data in it, later ones have @nbytes 0.
 * CKPT_FIFO_ALL_HELD: every open file of the FIFO was the task's.
 * CKPT_FIFO_HUP (a file open for reading): a writer opened the FIFO since
 * this file was opened (its f_version is not the pipe's w_counter), so it
 * reports POLLHUP whenever the FIFO has no writer.
 */
#define CKPT_FIFO_ALL_HELD	0x1
#define CKPT_FIFO_HUP		0x2
#define CKPT_FIFO_FLAGS		(CKPT_FIFO_ALL_HELD | CKPT_FIFO_HUP)

struct ckpt_hdr_fifo {
	struct ckpt_hdr h;
	__s32 fifo_ref;
	__u32 size;		/* capacity in bytes (F_GETPIPE_SZ) */
	__u32 nbytes;		/* bytes in the FIFO */
	__u32 flags;		/* CKPT_FIFO_* */
};

struct ckpt_hdr_file_lock {
	struct ckpt_hdr h;
	__u32 kind;		/* CKPT_LOCK_* */
	__u32 type;		/* F_RDLCK or F_WRLCK */
	__s64 start;		/* first byte */
	__s64 end;		/* last byte, 0x7fffffffffffffff: to EOF */
};

/*
 * Anonymous-inode files.  A CKPT_HDR_FILE of type CKPT_FILE_EVENTFD,
 * _SIGNALFD, _TIMERFD or _EPOLL (its STRING is "anon_inode:[eventfd]" ...,
 * informative) is followed by its record.  The items of the epoll files
 * come after the whole table (their targets may be later files): for
 * each epoll file, in objref order, @nitems CKPT_HDR_EPOLL_ITEM.
 */
struct ckpt_hdr_eventfd {		/* 24 bytes */
	struct ckpt_hdr h;
	__u64 count;
	__u32 flags;		/* EFD_SEMAPHORE */
	__u32 _padding;
};

struct ckpt_hdr_epoll {			/* 16 bytes */
	struct ckpt_hdr h;
	__u32 nitems;		/* at most CKPT_EPOLL_ITEMS_MAX */
	__u32 _padding;
};

#define CKPT_EPOLL_ITEMS_MAX	65536

struct ckpt_hdr_epoll_item {		/* 32 bytes */
	struct ckpt_hdr h;
	__s32 objref;		/* the target: a FILE of the image */
	__s32 fd;		/* its descriptor number when added */
	__u32 events;		/* EPOLL* as epoll_ctl() took them */
	__u32 flags;		/* CKPT_EPOLL_READY: on the ready list */
	__u64 data;
};

#define CKPT_EPOLL_READY	0x1

struct ckpt_hdr_signalfd {		/* 16 bytes */
	struct ckpt_hdr h;
	__u64 sigmask;		/* bit N-1: signal N */
};

struct ckpt_hdr_timerfd {		/* 48 bytes */
	struct ckpt_hdr h;
	__s32 clockid;		/* CLOCK_REALTIME, _MONOTONIC, _BOOTTIME */
	__u32 flags;		/* TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET */
	__u64 value_ns;		/* time left; ABSTIME: the expiry; 0: disarmed */
	__u64 interval_ns;
	__u64 ticks;		/* expirations not yet read */
	__u64 _reserved;
};

/*
 * inotify: a CKPT_HDR_FILE of type CKPT_FILE_INOTIFY is followed by
 *   INOTIFY { INOTIFY_WATCH STRING(path) }*nwatches
 *           { INOTIFY_EVENT STRING(name) }*nevents
 */
#define CKPT_INOTIFY_WATCHES_MAX	65536
#define CKPT_INOTIFY_EVENTS_MAX		65536

struct ckpt_hdr_inotify {		/* 24 bytes */
	struct ckpt_hdr h;
	__u32 nwatches;
	__u32 nevents;		/* queued, not yet read */
	__s32 next_wd;		/* where the next watch descriptor is sought */
	__u32 _padding;
};

struct ckpt_hdr_inotify_watch {		/* 24 bytes */
	struct ckpt_hdr h;
	__s32 wd;		/* watch descriptor, >= 1, increasing */
	__u32 mask;		/* IN_* as inotify_add_watch() took it */
	__u32 i_mode;		/* S_IFMT bits of the watched inode */
	__u32 _padding;
};

struct ckpt_hdr_inotify_event {		/* 24 bytes */
	struct ckpt_hdr h;
	__s32 wd;
	__u32 mask;
	__u32 cookie;
	__u32 _padding;
};

/*
 * Sockets.  A CKPT_HDR_FILE of type CKPT_FILE_SOCKET (its STRING is the
 * socket's name, "socket:[ino]", informative) is followed by
 *   SOCKET STRING(bind path) STRING(peer path)
 *   SOCKET_QUEUE { SOCKET_MSG BUFFER(data) }*nmsgs
 * The two strings are absolute paths of a UNIX socket bound to a path (to
 * bind it again) and of the peer it reconnects to, "" if none.  A socket
 * with a filter (CKPT_SOCK_FILTER) has SOCKET_FILTER BUFFER after them.  An inet
 * socket has between the strings and SOCKET_QUEUE: SOCKET_INET (with
 * CKPT_SOCK_INET_OPTS), SOCKET_TCPOPT (with CKPT_SOCK_TCP_OPTS),
 * SOCKET_IP SOCKET_MCAST*nmcast (with CKPT_SOCK_IP_OPTS), SOCKET_RAW (a
 * raw socket), SOCKET_TCP BUFFER BUFFER (a connection), SOCKET_ACCEPT {
 * SOCKET_CONN SOCKET_TCP BUFFER BUFFER }*nconns (a TCP listener).
 */
#define CKPT_SOCK_ADDR_MAX	128	/* a sockaddr, as the kernel saw it */
#define CKPT_SOCK_MSG_MAX	(4U << 20)	/* bytes of one message */
#define CKPT_SOCK_QUEUE_MAX	(16U << 20)	/* bytes of one queue */
#define CKPT_SOCK_QUEUE_MSGS	65536	/* messages of one queue */
#define CKPT_SOCK_TIMEO_INF	(~0ULL)	/* timeout: never */

/* ckpt_hdr_socket.flags */
#define CKPT_SOCK_PASSCRED	0x1	/* SO_PASSCRED */
#define CKPT_SOCK_SNDBUF_LOCK	0x2	/* SO_SNDBUF was set: @sndbuf */
#define CKPT_SOCK_RCVBUF_LOCK	0x4	/* SO_RCVBUF was set: @rcvbuf */
#define CKPT_SOCK_BOUND		0x8	/* bound by itself to @laddr */
#define CKPT_SOCK_PAIR		0x10	/* connected both ways to @peer_id */
#define CKPT_SOCK_PEER_CLOSED	0x20	/* its connected peer was closed */
#define CKPT_SOCK_CONNECT	0x40	/* dgram connected (one way) to @raddr */
#define CKPT_SOCK_INHERITED	0x80	/* @laddr is its listener's (accept) */
#define CKPT_SOCK_PASSSEC	0x100	/* SO_PASSSEC */
#define CKPT_SOCK_TIMESTAMP	0x200	/* SO_TIMESTAMP */
#define CKPT_SOCK_TIMESTAMPNS	0x400	/* SO_TIMESTAMPNS */
#define CKPT_SOCK_TSTAMP_NEW	0x800	/* ... through the _NEW option */
#define CKPT_SOCK_RXQ_OVFL	0x1000	/* SO_RXQ_OVFL */
#define CKPT_SOCK_PENDING	0x2000	/* waiting in listener @peer_id */
#define CKPT_SOCK_REUSEADDR	0x4000	/* SO_REUSEADDR (inet) */
#define CKPT_SOCK_REUSEPORT	0x8000	/* SO_REUSEPORT (inet) */
#define CKPT_SOCK_KEEPALIVE	0x10000	/* SO_KEEPALIVE (TCP) */
#define CKPT_SOCK_BROADCAST	0x20000	/* SO_BROADCAST (UDP) */
#define CKPT_SOCK_NODELAY	0x40000	/* TCP_NODELAY */
#define CKPT_SOCK_V6ONLY	0x80000	/* IPV6_V6ONLY (inet6) */
#define CKPT_SOCK_INET_OPTS	0x100000 /* a SOCKET_INET record follows */
#define CKPT_SOCK_ACCEPTQ	0x200000 /* TCP listener: a SOCKET_ACCEPT follows */
#define CKPT_SOCK_IP_OPTS	0x400000 /* inet: a SOCKET_IP record follows */
#define CKPT_SOCK_FILTER	0x800000 /* a SOCKET_FILTER record follows */
#define CKPT_SOCK_TCP_OPTS	0x1000000 /* TCP: a SOCKET_TCPOPT record follows */
#define CKPT_SOCK_FLAGS		0x1ffffff
/* the flags an inet socket may have */
#define CKPT_SOCK_INET_FLAGS	(CKPT_SOCK_PASSCRED | CKPT_SOCK_SNDBUF_LOCK | \
				 CKPT_SOCK_RCVBUF_LOCK | CKPT_SOCK_BOUND | \
				 CKPT_SOCK_CONNECT | CKPT_SOCK_PASSSEC | \
				 CKPT_SOCK_TIMESTAMP | CKPT_SOCK_TIMESTAMPNS | \
				 CKPT_SOCK_TSTAMP_NEW | CKPT_SOCK_RXQ_OVFL | \
				 CKPT_SOCK_REUSEADDR | CKPT_SOCK_REUSEPORT | \
				 CKPT_SOCK_KEEPALIVE | CKPT_SOCK_BROADCAST | \
				 CKPT_SOCK_NODELAY | CKPT_SOCK_V6ONLY | \
				 CKPT_SOCK_INET_OPTS | CKPT_SOCK_ACCEPTQ | \
				 CKPT_SOCK_IP_OPTS | CKPT_SOCK_FILTER | \
				 CKPT_SOCK_TCP_OPTS)

/* CKPT_HDR_SOCKET: 344 bytes */
struct ckpt_hdr_socket {
	struct ckpt_hdr h;
	__u32 sk_id;		/* 1, 2, ... in order of appearance */
	__u32 peer_id;		/* sk_id of its peer, 0: none or outside */
	__u16 family;		/* AF_UNIX, AF_INET, AF_INET6 */
	__u16 type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW */
	__u16 protocol;		/* 0 (unix), IPPROTO_TCP, _UDP, _ICMP(V6), raw's */
	__u16 state;		/* TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN */
	__u32 flags;		/* CKPT_SOCK_* */
	__u32 shutdown;		/* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
	__s32 sndbuf;		/* bytes, as SO_SNDBUF reads it */
	__s32 rcvbuf;
	__u32 backlog;		/* listen() backlog */
	__s32 peek_off;		/* SO_PEEK_OFF, -1: off */
	__s32 rcvlowat;		/* SO_RCVLOWAT */
	__u32 priority;		/* SO_PRIORITY */
	__u32 mark;		/* SO_MARK */
	__s32 err;		/* pending error (SO_ERROR), 0..4095 */
	__u64 rcvtimeo_us;	/* SO_RCVTIMEO, CKPT_SOCK_TIMEO_INF: never */
	__u64 sndtimeo_us;	/* SO_SNDTIMEO */
	__u32 laddr_len;	/* bytes of @laddr (getsockname) */
	__u32 raddr_len;	/* bytes of @raddr (the peer's name) */
	__u8 laddr[CKPT_SOCK_ADDR_MAX];
	__u8 raddr[CKPT_SOCK_ADDR_MAX];
};

/* ckpt_hdr_socket_inet.flags */
#define CKPT_INET_LINGER	0x1	/* SO_LINGER on, for @linger_s */
#define CKPT_INET_CORK		0x2	/* TCP_CORK */
#define CKPT_INET_FLAGS		0x3

/*
 * CKPT_HDR_SOCKET_INET: 32 bytes, after the strings of an inet socket whose
 * SOCKET has CKPT_SOCK_INET_OPTS (an option below differs from its
 * default), before its SOCKET_TCP.  The TCP ones are 0 for UDP.
 */
struct ckpt_hdr_socket_inet {
	struct ckpt_hdr h;
	__u32 linger_s;		/* SO_LINGER l_linger (with CKPT_INET_LINGER) */
	__s16 ttl;		/* IP_TTL 1..255, -1: the default */
	__u8 tos;		/* IP_TOS */
	__u8 keepcnt;		/* TCP_KEEPCNT 1..127, 0: the default */
	__u32 keepidle;		/* TCP_KEEPIDLE seconds, 0: the default */
	__u32 keepintvl;	/* TCP_KEEPINTVL seconds, 0: the default */
	__u32 user_timeout;	/* TCP_USER_TIMEOUT ms, 0: none */
	__u16 maxseg;		/* TCP_MAXSEG (user_mss), 0: none */
	__u16 flags;		/* CKPT_INET_* */
};

/* ckpt_hdr_socket_tcpopt.flags */
#define CKPT_TCPOPT_THIN_LTO	0x1	/* TCP_THIN_LINEAR_TIMEOUTS */
#define CKPT_TCPOPT_INQ		0x2	/* TCP_INQ */
#define CKPT_TCPOPT_FO_CONNECT	0x4	/* TCP_FASTOPEN_CONNECT */
#define CKPT_TCPOPT_FO_NO_COOKIE 0x8	/* TCP_FASTOPEN_NO_COOKIE */
#define CKPT_TCPOPT_FLAGS	0xf
#define CKPT_TCPOPT_CA_NAME_MAX	16	/* TCP_CA_NAME_MAX */

/*
 * CKPT_HDR_SOCKET_TCPOPT: 40 bytes, after the SOCKET_INET (if any) of a
 * TCP socket whose SOCKET has CKPT_SOCK_TCP_OPTS (an option below differs
 * from its default; an established connection always has one: its window
 * clamp), before its SOCKET_IP.  A connection waiting to be accepted has
 * its listener's.
 */
struct ckpt_hdr_socket_tcpopt {
	struct ckpt_hdr h;
	char congestion[CKPT_TCPOPT_CA_NAME_MAX]; /* TCP_CONGESTION, "": the default */
	__u32 window_clamp;	/* TCP_WINDOW_CLAMP, 0: none (not connected) */
	__u32 tx_delay;		/* TCP_TX_DELAY microseconds, 0: none */
	__u32 flags;		/* CKPT_TCPOPT_* */
	__u32 fastopen_qlen;	/* TCP_FASTOPEN of a listener, 0: none */
};

/* ckpt_hdr_socket_raw.flags */
#define CKPT_RAW_HDRINCL	0x1	/* IP_HDRINCL, IPV6_HDRINCL */
#define CKPT_RAW_CHECKSUM	0x2	/* IPV6_CHECKSUM at @offset (IPv6) */
#define CKPT_RAW_FLAGS		0x3

/*
 * CKPT_HDR_SOCKET_RAW: 56 bytes, after the strings (and SOCKET_INET) of
 * every raw socket (SOCK_RAW).  @icmp_filter only for IPv4 IPPROTO_ICMP,
 * @icmp6_filter only for IPv6 IPPROTO_ICMPV6, @offset only with
 * CKPT_RAW_CHECKSUM; else 0.
 */
struct ckpt_hdr_socket_raw {
	struct ckpt_hdr h;
	__u32 flags;		/* CKPT_RAW_* */
	__u32 offset;		/* IPV6_CHECKSUM: even, where the checksum goes */
	__u32 icmp_filter;	/* ICMP_FILTER: bit t set, type t dropped */
	__u32 icmp6_filter[8];	/* ICMPV6_FILTER: the same, ICMPv6 types */
	__u32 _padding;
};

/* ckpt_hdr_socket_udplite.flags */
#define CKPT_UDPLITE_SEND	0x1	/* UDPLITE_SEND_CSCOV set: @send_cscov */
#define CKPT_UDPLITE_RECV	0x2	/* UDPLITE_RECV_CSCOV set: @recv_cscov */
#define CKPT_UDPLITE_FLAGS	0x3

/*
 * CKPT_HDR_SOCKET_UDPLITE: 16 bytes, after the SOCKET_IP (if any) of every
 * UDP-Lite socket (SOCK_DGRAM, IPPROTO_UDPLITE): the checksum coverage it
 * sends with and the least it accepts, as UDPLITE_SEND_CSCOV and
 * UDPLITE_RECV_CSCOV read them (0: the whole datagram, else 8 or more);
 * each 0 without its flag.
 */
struct ckpt_hdr_socket_udplite {
	struct ckpt_hdr h;
	__u16 send_cscov;
	__u16 recv_cscov;
	__u32 flags;		/* CKPT_UDPLITE_* */
};

/* ckpt_hdr_socket_ip.flags */
#define CKPT_IP_FREEBIND	0x1	/* IP_FREEBIND, IPV6_FREEBIND */
#define CKPT_IP_TRANSPARENT	0x2	/* IP_TRANSPARENT, IPV6_TRANSPARENT */
#define CKPT_IP_RECVERR		0x4	/* IP_RECVERR */
#define CKPT_IP_RECVERR_RFC4884	0x8	/* IP_RECVERR_RFC4884 */
#define CKPT_IP_BIND_NO_PORT	0x10	/* IP_BIND_ADDRESS_NO_PORT */
#define CKPT_IP_MC_NOLOOP	0x20	/* IP_MULTICAST_LOOP 0 */
#define CKPT_IP_MC_NOALL	0x40	/* IP_MULTICAST_ALL 0 */
#define CKPT_IP6_RECVERR	0x100	/* IPV6_RECVERR */
#define CKPT_IP6_RECVERR_RFC4884 0x200	/* IPV6_RECVERR_RFC4884 */
#define CKPT_IP6_MC_NOLOOP	0x400	/* IPV6_MULTICAST_LOOP 0 */
#define CKPT_IP6_MC_NOALL	0x800	/* IPV6_MULTICAST_ALL 0 */
#define CKPT_IP6_DONTFRAG	0x1000	/* IPV6_DONTFRAG */
#define CKPT_IP_FLAGS		0x1f7f
#define CKPT_IP6_FLAGS		0x1f00	/* only on an IPv6 socket */
#define CKPT_IP_CMSG_FLAGS	0x1ff	/* IP_PKTINFO .. IP_RECVFRAGSIZE */
#define CKPT_IP6_RXOPT		0x7fff	/* IPV6_RECVRTHDR .. IPV6_RECVFRAGSIZE */
#define CKPT_SOCK_MCAST_MAX	256	/* memberships of one socket */

/*
 * CKPT_HDR_SOCKET_IP: 120 bytes, after the strings (and SOCKET_INET) of an
 * inet socket whose SOCKET has CKPT_SOCK_IP_OPTS: the IP-level options and
 * the interface options, each device by its name ("": none), then @nmcast
 * SOCKET_MCAST records.  The fields of IPv6 (@rxopt, @pmtudisc6,
 * @hop_limit, @mcast_hops, @tclass, @min_hopcount, @frag_size, @mc6_dev,
 * @uc6_dev, the CKPT_IP6_* flags) are 0 (-1 the hop limits) on an IPv4
 * socket; the multicast ones and memberships are none on a TCP socket.
 */
struct ckpt_hdr_socket_ip {
	struct ckpt_hdr h;
	__u32 flags;		/* CKPT_IP_* */
	__u16 cmsg_flags;	/* IP_PKTINFO, IP_RECVTTL ...: IP_CMSG_* bits */
	__u16 rxopt;		/* IPV6_RECVPKTINFO ...: ipv6_pinfo.rxopt bits */
	__u8 mc_ttl;		/* IP_MULTICAST_TTL */
	__u8 pmtudisc;		/* IP_MTU_DISCOVER */
	__u8 min_ttl;		/* IP_MINTTL */
	__u8 pmtudisc6;		/* IPV6_MTU_DISCOVER */
	__u32 mc_addr;		/* IP_MULTICAST_IF's address (network order) */
	__u16 port_lo;		/* IP_LOCAL_PORT_RANGE */
	__u16 port_hi;
	__s16 hop_limit;	/* IPV6_UNICAST_HOPS, -1: the default */
	__s16 mcast_hops;	/* IPV6_MULTICAST_HOPS */
	__u8 tclass;		/* IPV6_TCLASS */
	__u8 min_hopcount;	/* IPV6_MINHOPCOUNT */
	__u16 nmcast;		/* SOCKET_MCAST records that follow */
	__u32 frag_size;	/* IPV6_MTU, 0: the path's */
	char bind_dev[16];	/* SO_BINDTODEVICE */
	char mc_dev[16];	/* IP_MULTICAST_IF's device */
	char uc_dev[16];	/* IP_UNICAST_IF */
	char mc6_dev[16];	/* IPV6_MULTICAST_IF */
	char uc6_dev[16];	/* IPV6_UNICAST_IF */
};

/*
 * CKPT_HDR_SOCKET_MCAST: 32 bytes, one IPv4 multicast group the socket
 * joined (IP_ADD_MEMBERSHIP, any source), in the order it joined them.
 */
struct ckpt_hdr_socket_mcast {
	struct ckpt_hdr h;
	__u32 group;		/* imr_multiaddr (network order) */
	__u32 address;		/* imr_address (network order) */
	char dev[16];		/* imr_ifindex's device */
};

/* ckpt_hdr_socket_filter.flags */
#define CKPT_FILTER_LOCKED	0x1	/* SO_LOCK_FILTER */

/*
 * CKPT_HDR_SOCKET_FILTER: 16 bytes, after the strings of a socket with
 * CKPT_SOCK_FILTER: its classic filter (SO_ATTACH_FILTER), @len
 * instructions (struct sock_filter, 8 bytes each, in the BUFFER that
 * follows; 0: none, only SO_LOCK_FILTER), as SO_GET_FILTER reads it.
 */
struct ckpt_hdr_socket_filter {
	struct ckpt_hdr h;
	__u16 len;		/* instructions, <= BPF_MAXINSNS */
	__u16 flags;		/* CKPT_FILTER_* */
	__u32 _padding;
};

/* ckpt_hdr_socket_netlink.flags: bit i the option i of ckpt_nl_opts[] */
#define CKPT_NL_PKTINFO		0x1	/* NETLINK_PKTINFO */
#define CKPT_NL_BROADCAST_ERROR	0x2	/* NETLINK_BROADCAST_ERROR */
#define CKPT_NL_NO_ENOBUFS	0x4	/* NETLINK_NO_ENOBUFS */
#define CKPT_NL_LISTEN_ALL_NSID	0x8	/* NETLINK_LISTEN_ALL_NSID */
#define CKPT_NL_CAP_ACK		0x10	/* NETLINK_CAP_ACK */
#define CKPT_NL_EXT_ACK		0x20	/* NETLINK_EXT_ACK */
#define CKPT_NL_STRICT_CHK	0x40	/* NETLINK_GET_STRICT_CHK */
#define CKPT_NL_BOUND		0x100	/* bound (bind(), or autobound) */
#define CKPT_NL_FLAGS		0x17f

/*
 * CKPT_HDR_SOCKET_NETLINK: 32 bytes, after the strings of a netlink
 * socket (SOCKET family 16, its protocol the netlink protocol).
 */
struct ckpt_hdr_socket_netlink {
	struct ckpt_hdr h;
	__u32 portid;		/* bound port id (nl_pid) */
	__u32 dst_portid;	/* connected to this port id ... */
	__u32 dst_group;	/* ... or group (1..64), 0: none */
	__u16 flags;		/* CKPT_NL_* */
	__u16 _padding;
	__u64 groups;		/* bit g-1: in multicast group g */
};

/* ckpt_hdr_socket_packet.flags: the SOL_PACKET options that are on */
#define CKPT_PACKET_AUXDATA	0x1	/* PACKET_AUXDATA */
#define CKPT_PACKET_ORIGDEV	0x2	/* PACKET_ORIGDEV */
#define CKPT_PACKET_VNET_HDR	0x4	/* PACKET_VNET_HDR (SOCK_RAW) */
#define CKPT_PACKET_LOSS	0x8	/* PACKET_LOSS */
#define CKPT_PACKET_QDISC_BYPASS 0x10	/* PACKET_QDISC_BYPASS */
#define CKPT_PACKET_IGNORE_OUTGOING 0x20 /* PACKET_IGNORE_OUTGOING */
#define CKPT_PACKET_BOUND	0x40	/* bound to @ifname (else any device) */
#define CKPT_PACKET_FLAGS	0x7f
#define CKPT_PACKET_IFNAMSIZ	16	/* IFNAMSIZ */
#define CKPT_PACKET_MC_MAX	64	/* memberships of a socket */
#define CKPT_PACKET_MC_COUNT	256	/* times one was added */
#define CKPT_PACKET_ADDR_MAX	32	/* MAX_ADDR_LEN */

/*
 * CKPT_HDR_SOCKET_PACKET: 64 bytes, after the strings (and SOCKET_FILTER)
 * of a packet socket (SOCKET family 17, type SOCK_RAW or SOCK_DGRAM,
 * protocol 0: 6.1 keeps a packet socket's in po->num), followed by
 * @nmc SOCKET_PACKET_MC records and its (empty) SOCKET_QUEUE.  The bound
 * device is saved by name: restart binds to the device of that name.
 */
struct ckpt_hdr_socket_packet {
	struct ckpt_hdr h;
	char ifname[CKPT_PACKET_IFNAMSIZ];	/* bound device, NUL-terminated */
	__be16 proto;		/* bound ethertype, network order, 0: none */
	__u16 version;		/* PACKET_VERSION: TPACKET_V1..V3 */
	__u32 flags;		/* CKPT_PACKET_* */
	__u32 reserve;		/* PACKET_RESERVE, 0..INT_MAX */
	__s32 copy_thresh;	/* PACKET_COPY_THRESH */
	__u32 tstamp;		/* PACKET_TIMESTAMP (SOF_TIMESTAMPING_* bits) */
	__u32 nmc;		/* SOCKET_PACKET_MC records, <= CKPT_PACKET_MC_MAX */
	__u32 stat_packets;	/* PACKET_STATISTICS since it was last read */
	__u32 stat_drops;
	__u32 _padding[2];
};

/*
 * CKPT_HDR_SOCKET_PACKET_MC: 64 bytes, one PACKET_ADD_MEMBERSHIP of a
 * packet socket (its device by name), added @count times.
 */
struct ckpt_hdr_socket_packet_mc {
	struct ckpt_hdr h;
	char ifname[CKPT_PACKET_IFNAMSIZ];	/* NUL-terminated */
	__u16 type;		/* PACKET_MR_MULTICAST, _PROMISC, _ALLMULTI, _UNICAST */
	__u16 alen;		/* bytes of @addr, <= CKPT_PACKET_ADDR_MAX */
	__u32 count;		/* 1 .. CKPT_PACKET_MC_COUNT */
	__u8 addr[CKPT_PACKET_ADDR_MAX];
};

/* ckpt_hdr_socket_tcp.flags: the options the connection negotiated */
#define CKPT_TCP_WSCALE		0x1	/* window scaling */
#define CKPT_TCP_SACK		0x2	/* SACK permitted */
#define CKPT_TCP_TSTAMP		0x4	/* timestamps */
#define CKPT_TCP_FIN_RCVD	0x8	/* the peer's FIN came (CLOSE_WAIT) */
#define CKPT_TCP_FIN_READ	0x10	/* ... and was read (EOF): copied_seq */
#define CKPT_TCP_FIN_SENT	0x20	/* its FIN went (FIN_WAIT1/2, LAST_ACK) */
#define CKPT_TCP_FLAGS		0x3f

/*
 * CKPT_HDR_SOCKET_TCP: 56 bytes, after the SOCKET record (and its strings)
 * of an established TCP connection, followed by two BUFFERs: the send
 * queue (@send_len bytes from @send_seq: unacknowledged and unsent data)
 * and the receive queue (@recv_len bytes from @recv_seq, not yet read).
 */
struct ckpt_hdr_socket_tcp {
	struct ckpt_hdr h;
	__u32 send_seq;		/* snd_una */
	__u32 send_len;		/* write_seq - snd_una (less a FIN not acked) */
	__u32 recv_seq;		/* copied_seq */
	__u32 recv_len;		/* rcv_nxt - copied_seq */
	__u32 snd_wl1;		/* struct tcp_repair_window */
	__u32 snd_wnd;
	__u32 max_window;
	__u32 rcv_wnd;
	__u32 rcv_wup;
	__u32 mss_clamp;
	__u32 timestamp;	/* tcp_time_stamp + tsoffset */
	__u8 snd_wscale;
	__u8 rcv_wscale;
	__u16 flags;		/* CKPT_TCP_* */
};

/*
 * CKPT_HDR_SOCKET_ACCEPT: 16 bytes, after the SOCKET_INET (if any) of a
 * TCP listener whose SOCKET has CKPT_SOCK_ACCEPTQ: the connections
 * established and waiting to be accepted, in the order accept() returns
 * them, each a SOCKET_CONN, its SOCKET_TCP and the two BUFFERs.  At most
 * @backlog + 1 of them (as the kernel queues them); half-open requests
 * (SYN_RECV) are not saved.
 */
struct ckpt_hdr_socket_accept {
	struct ckpt_hdr h;
	__u32 nconns;		/* SOCKET_CONN records that follow */
	__u32 _padding;
};

/*
 * CKPT_HDR_SOCKET_CONN: 280 bytes, one connection of the accept queue.  It
 * has the listener's family and options; its local address is the
 * listener's (the address itself if the listener is bound to any).
 */
struct ckpt_hdr_socket_conn {
	struct ckpt_hdr h;
	__u16 family;		/* the listener's */
	__u16 state;		/* TCP_ESTABLISHED, TCP_CLOSE_WAIT */
	__u32 _padding;
	__u32 laddr_len;	/* bytes of @laddr (as getsockname) */
	__u32 raddr_len;	/* bytes of @raddr (as getpeername) */
	__u8 laddr[CKPT_SOCK_ADDR_MAX];
	__u8 raddr[CKPT_SOCK_ADDR_MAX];
};

/* CKPT_HDR_SOCKET_QUEUE: 24 bytes (the receive queue) */
struct ckpt_hdr_socket_queue {
	struct ckpt_hdr h;
	__u32 nmsgs;		/* SOCKET_MSG records that follow */
	__u32 _padding;
	__u64 bytes;		/* their total length */
};

/* ckpt_hdr_socket_msg.flags */
#define CKPT_MSG_PEER		0x1	/* sent by the closed peer */
#define CKPT_MSG_CREDS		0x2	/* carries credentials (SO_PASSCRED) */
#define CKPT_MSG_CONN		0x4	/* listener: a connection from sender */
#define CKPT_MSG_EMBRYO		0x8	/* data the sender sent on that one */
#define CKPT_MSG_DGRAM		0x10	/* UDP, from outside: a SOCKET_DGRAM follows */
#define CKPT_MSG_FLAGS		0x1f

#define CKPT_SOCK_MSG_FDS	253	/* descriptors in flight (SCM_MAX_FD) */

/*
 * CKPT_HDR_SOCKET_MSG: 24 bytes, followed by a BUFFER of @len bytes and,
 * if @nfds, a BUFFER of @nfds __s32: descriptors of the task's table
 * that hold the files in flight (SCM_RIGHTS), in order.
 */
struct ckpt_hdr_socket_msg {
	struct ckpt_hdr h;
	__u32 len;		/* unread bytes (a whole datagram) */
	__u32 sender_id;	/* sk_id of the sender, 0: see @flags */
	__u32 flags;		/* CKPT_MSG_*; sender 0 without PEER: unnamed */
	__u32 nfds;		/* files in flight, at most CKPT_SOCK_MSG_FDS */
};

/*
 * CKPT_HDR_SOCKET_DGRAM: 80 bytes, after a SOCKET_MSG with CKPT_MSG_DGRAM
 * (before its BUFFER): an IPv4 UDP datagram from a socket outside the
 * checkpoint (another machine, or a local socket not in the image), as it
 * came: its addresses and ports, the IP header's TTL and TOS, the device it
 * came by (by name; the ifindex and specific destination IP_PKTINFO gives),
 * its receive time. Restart queues it again as received on that device.
 */
struct ckpt_hdr_socket_dgram {
	struct ckpt_hdr h;
	__s64 tstamp;		/* skb->tstamp (real time, ns); 0: none */
	__u8 saddr[16];		/* IPv4-mapped IPv6 address, network order */
	__u8 daddr[16];		/* the destination address of its IP header */
	__u16 sport;		/* network order */
	__u16 dport;		/* network order */
	__u8 ttl;
	__u8 tos;
	__u8 flags;		/* CKPT_DGRAM_* */
	__u8 _padding;
	__u32 spec_dst;		/* IP_PKTINFO ipi_spec_dst, network order */
	__u32 _padding2;
	char ifname[CKPT_PACKET_IFNAMSIZ];	/* "" none; NUL-terminated */
};

/* ckpt_hdr_socket_dgram.flags */
#define CKPT_DGRAM_PKTINFO	0x1	/* IP_PKTINFO's ifindex and spec_dst set */
#define CKPT_DGRAM_FLAGS	0x1

/* CKPT_HDR_FILE_DESC: 24 bytes */
struct ckpt_hdr_file_desc {
	struct ckpt_hdr h;
	__s32 fd;
	__s32 objref;		/* CKPT_HDR_FILE seen earlier in the image */
	__u32 close_on_exec;
	__u32 _padding;
};

/*
 * CKPT_HDR_MM: 128 bytes, followed by a CKPT_HDR_STRING (the path of
 * the executable, "" if none) and by @map_count VMAs.
 */
struct ckpt_hdr_mm {
	struct ckpt_hdr h;
	__u32 map_count;
	__u32 _padding;
	__u64 def_flags;
	__u64 start_code;
	__u64 end_code;
	__u64 start_data;
	__u64 end_data;
	__u64 start_brk;
	__u64 brk;
	__u64 start_stack;
	__u64 arg_start;
	__u64 arg_end;
	__u64 env_start;
	__u64 env_end;
	__u64 vdso;		/* vDSO text address, 0 if none */
	__u32 mm_flags;		/* CKPT_MM_* */
	__u32 _reserved;
};

/*
 * mm_flags: CKPT_MM_COW: the task is a forked child in a tree whose
 * parent comes before it; its memory is built as fork() builds it, from
 * the restored parent's mm, keeping the vmas marked CKPT_VMA_INHERITED
 * (and the vDSO) and the pages of their CKPT_HDR_PGCOW records; every
 * other mapping of the parent's is removed.
 */
#define CKPT_MM_COW		0x1
#define CKPT_MM_FLAGS		CKPT_MM_COW

/* vma types */
enum {
	CKPT_VMA_ANON = 1,	/* private anonymous (heap, stack, ...) */
#define CKPT_VMA_ANON CKPT_VMA_ANON
	CKPT_VMA_FILE = 2,	/* private file mapping */
#define CKPT_VMA_FILE CKPT_VMA_FILE
	CKPT_VMA_VDSO = 3,
#define CKPT_VMA_VDSO CKPT_VMA_VDSO
	CKPT_VMA_VVAR = 4,
#define CKPT_VMA_VVAR CKPT_VMA_VVAR
	CKPT_VMA_SHARED_FILE = 5,	/* MAP_SHARED of a file, no pages */
#define CKPT_VMA_SHARED_FILE CKPT_VMA_SHARED_FILE
	CKPT_VMA_SHMEM = 6,	/* MAP_SHARED of a shmem object: CKPT_HDR_SHMEM */
#define CKPT_VMA_SHMEM CKPT_VMA_SHMEM
	CKPT_VMA_SYSV_SHM = 7,	/* a SysV shm attachment: CKPT_HDR_IPC_SHM */
#define CKPT_VMA_SYSV_SHM CKPT_VMA_SYSV_SHM
	CKPT_VMA_AIO = 8,	/* the ring of an io_setup() context: CKPT_HDR_AIO */
#define CKPT_VMA_AIO CKPT_VMA_AIO
};

/*
 * CKPT_HDR_IPC_SHM: 56 bytes, after a CKPT_VMA_SYSV_SHM vma: the SysV
 * shm segment it attaches, shm_ref 1, 2, ... in order of first
 * appearance (every vma of every attachment of one segment names the
 * same one).  The first appearance is followed by its size bytes of
 * content, in CKPT_HDR_BUFFER records of CKPT_DATA_CHUNK bytes.  An
 * attachment is whole: its vmas follow each other, the first at offset
 * (vm_pgoff) 0, the last ending at the segment's size rounded up to
 * pages; a vma without VM_MAYWRITE was attached SHM_RDONLY.  The ids are
 * those of the checkpointing caller's user namespace.
 */
#define CKPT_IPC_SHM_NORESERVE	0x1	/* flags: created SHM_NORESERVE */
#define CKPT_IPC_SHM_DEST	01000	/* mode: IPC_RMID'd while attached */
#define CKPT_IPC_SHM_LOCKED	02000	/* mode: SHM_LOCK */

struct ckpt_hdr_ipc_shm {
	struct ckpt_hdr h;
	__s32 shm_ref;
	__s32 key;		/* IPC_PRIVATE (0) once IPC_RMID'd */
	__s32 id;		/* the shmid */
	__u32 mode;		/* 0777 bits, SHM_DEST 01000, SHM_LOCKED 02000 */
	__u32 uid;		/* owner */
	__u32 gid;
	__u32 cuid;		/* creator */
	__u32 cgid;
	__u64 size;		/* bytes (shm_segsz) */
	__u32 flags;		/* CKPT_IPC_SHM_* */
	__u32 _padding;
};

/*
 * CKPT_HDR_AIO: 64 bytes, after a CKPT_VMA_AIO vma (vm_flags VM_READ |
 * VM_WRITE, vm_pgoff 0): the aio context whose ring the vma is, set up
 * again by restart with io_setup()'s code at the same address.  The ring's
 * header (struct aio_ring, fs/aio.c) as in the ring;
 * then the ring's nr event slots (struct io_event, 32 bytes each: the
 * nr_ring_events completions from head to tail, and the reaped ones), in
 * CKPT_HDR_BUFFER records of at most CKPT_DATA_CHUNK bytes.
 */
struct ckpt_hdr_aio {
	struct ckpt_hdr h;
	__u64 user_id;		/* the aio_context_t: vm_start */
	__u64 ring_size;	/* bytes of the ring: vm_end - vm_start */
	__u32 max_reqs;		/* the nr_events io_setup() was called with */
	__u32 nr_ring_events;	/* completions that follow: tail - head mod nr */
	/* struct aio_ring's header */
	__u32 id;		/* the context's slot in the mm's table */
	__u32 nr;		/* events the ring holds */
	__u32 head;
	__u32 tail;
	__u32 magic;		/* 0xa10a10a1 */
	__u32 compat_features;
	__u32 incompat_features;
	__u32 header_length;	/* 32 */
};

/*
 * CKPT_HDR_SHMEM: 32 bytes, after a CKPT_VMA_SHMEM vma: the shmem object
 * it maps, shm_ref 1, 2, ... in order of first appearance (mappings of
 * one object stay one object).  The first appearance of a
 * CKPT_SHMEM_ANON object is followed by its size bytes of content, in
 * CKPT_HDR_BUFFER records of CKPT_DATA_CHUNK bytes; a CKPT_SHMEM_MEMFD
 * object is the memfd of a CKPT_HDR_FILE_DATA of the file table.  A
 * CKPT_SHMEM_DELETED object (a deleted file of a tmpfs, POSIX shared
 * memory or a named semaphore unlinked while mapped) is the file of a
 * FILE_DATA of the table if a descriptor holds it (data_ref), else its
 * first appearance is followed by a CKPT_HDR_STRING (its old path) and
 * its content, and @mode holds its permission bits.
 */
#define CKPT_SHMEM_ANON		1	/* MAP_SHARED|MAP_ANONYMOUS, /dev/zero */
#define CKPT_SHMEM_MEMFD	2	/* a memfd: data_ref */
#define CKPT_SHMEM_DELETED	3	/* a deleted tmpfs file: data_ref or path */

struct ckpt_hdr_shmem {
	struct ckpt_hdr h;
	__s32 shm_ref;
	__u32 kind;		/* CKPT_SHMEM_* */
	__s32 data_ref;		/* MEMFD, DELETED: its FILE_DATA, else 0 */
	__u32 mode;		/* DELETED without data_ref: its bits 07777 */
	__u64 size;		/* bytes of the object (its i_size) */
};

/*
 * CKPT_HDR_VMA: 56 bytes.  A CKPT_VMA_FILE vma is followed by a
 * CKPT_HDR_STRING (the path).  CKPT_VMA_ANON and CKPT_VMA_FILE vmas are
 * then followed by page arrays: each CKPT_HDR_PGARR with nr_pages > 0
 * is followed by a CKPT_HDR_BUFFER of nr_pages __u64 addresses and a
 * CKPT_HDR_BUFFER of nr_pages pages; a CKPT_HDR_PGARR with nr_pages 0
 * ends the vma.
 */
struct ckpt_hdr_vma {
	struct ckpt_hdr h;
	__u32 vma_type;		/* CKPT_VMA_* */
	__u32 vma_flags;	/* CKPT_VMA_INHERITED */
	__u64 vm_start;
	__u64 vm_end;
	__u64 vm_flags;		/* VM_READ 0x1, VM_WRITE 0x2, VM_EXEC 0x4, */
				/* VM_GROWSDOWN 0x100, VM_NORESERVE */
				/* 0x200000 are restored */
	__u64 vm_pgoff;
	__u64 file_size;	/* CKPT_VMA_FILE: size of the file */
};

/*
 * vma_flags: CKPT_VMA_INHERITED (only in a CKPT_MM_COW mm, private
 * CKPT_VMA_ANON and CKPT_VMA_FILE vmas): the parent's vma at the same
 * place, with the same flags, offset and file, as fork() copied it; no
 * path follows it.  Its page arrays are CKPT_HDR_PGARR (content) and
 * CKPT_HDR_PGCOW records, their addresses increasing across both; a page
 * in neither is not present.
 */
#define CKPT_VMA_INHERITED	0x1

/*
 * CKPT_HDR_PGCOW: 16 bytes, like CKPT_HDR_PGREF: nr_pages
 * (1..CKPT_PGARR_MAX) pages of an inherited vma that the task still
 * shares copy-on-write with its parent, followed by a CKPT_HDR_BUFFER of
 * their __u64 addresses.  Their content is the parent's at that address.
 */
struct ckpt_hdr_pgcow {
	struct ckpt_hdr h;
	__u64 nr_pages;
};

/* CKPT_HDR_PGARR: 16 bytes */
#define CKPT_PGARR_MAX		512	/* pages per array */

struct ckpt_hdr_pgarr {
	struct ckpt_hdr h;
	__u64 nr_pages;
};

/*
 * CKPT_HDR_PRECOPY: 24 bytes, right after the header records (HEADER, the
 * three strings, HEADER_ARCH) of
 * a pre-copy round (CHECKPOINT_PRECOPY in the header's uflags) or of the
 * last pass (CHECKPOINT_PRECOPY_LAST).  A round is then only page arrays
 * (CKPT_HDR_PGARR, as in a vma, the one with nr_pages 0 ending them; their
 * addresses increase across the round) and the tail.  @chain names the
 * rounds of one migration; @round is the round's number (0: every page),
 * or for the last pass the number of rounds before it.  restart reads, in
 * one stream, rounds 0 to N - 1, each a whole image with its own
 * checksum, then their last pass.
 */
struct ckpt_hdr_precopy {
	struct ckpt_hdr h;
	__u64 chain;
	__u32 round;
	__u32 _padding;
};

/*
 * CKPT_HDR_PGREF: 16 bytes, in a vma of the last pass, among its page
 * arrays: nr_pages (1..CKPT_PGARR_MAX) pages not written since the last
 * round, followed by a CKPT_HDR_BUFFER of their nr_pages __u64 addresses
 * (increasing within the vma).  Their content is that of the newest
 * round that has them; restart fails if none has.
 */
struct ckpt_hdr_pgref {
	struct ckpt_hdr h;
	__u64 nr_pages;
};

/*
 * CKPT_HDR_TAIL: 32 bytes, last record.  The checksum covers the stream
 * from its first byte up to the tail record, read as little endian
 * 64-bit words w[0..n-1], each mixed with its index first,
 * m[i] = ckpt_csum_mix(w[i], i):
 * sum = m[0] + ... + m[n-1] and
 * sum2 = n * m[0] + (n - 1) * m[1] + ... + 1 * m[n-1], both modulo 2^64
 * (sum2 adds the running sum after each word).  Without the mix (format
 * version 5 and before) the sums did not depend on where a word is but
 * through sum2's weights, linearly: two records of one length whose words
 * had the same sum could be swapped unseen (a file's 64 KiB data blocks
 * whose words are the same words in another order, or sum alike).
 */
static inline __u64 ckpt_csum_mix(__u64 w, __u64 i)
{
	w ^= i * 0x9e3779b97f4a7c15ULL;
	w ^= w >> 31;
	w *= 0x7fb5d329728ea185ULL;
	w ^= w >> 27;
	return w;
}

struct ckpt_hdr_tail {
	struct ckpt_hdr h;
	__u64 magic;		/* CHECKPOINT_MAGIC_TAIL */
	__u64 sum;
	__u64 sum2;
};

/*
 * CKPT_HDR_ERROR: written by a failed checkpoint as the last record:
 * the header, a '\0', then the message and its terminating '\0'.
 */

#endif /* _UAPI_LINUX_CHECKPOINT_HDR_H */
