"""Host-side reader of checkpoint images (``lab ckptinfo``), from the uapi <linux/checkpoint_hdr.h>.

The image is a stream of 8-byte-aligned records, each ``struct ckpt_hdr {u32 type; u32 len;}`` with
``len`` counting header and payload. The reader checks what restart checks on the structure
(magics, record order, lengths, alignment, the tail checksum) and raises :class:`ImageError` naming the
offset and record on anything wrong. Scenarios run it on every image they produce.
"""

from __future__ import annotations

import ipaddress
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC_HEAD = 0x00FEED0CC0A2D200
MAGIC_TAIL = 0x002D2A0CC0DEEF00
CHECKPOINT_PRECOPY, CHECKPOINT_PRECOPY_LAST = 0x2, 0x4  # <linux/checkpoint.h>
ALIGN = 8
HDR = struct.Struct("<II")
PAGE_SIZE = 4096
MASK64 = (1 << 64) - 1
CURRENT_VERSION = 8  # CHECKPOINT_VERSION of <linux/checkpoint.h>

# type -> (name, struct format of the fixed payload after ckpt_hdr, field names); "_" fields are padding.
RECORDS: dict[int, tuple[str, str, tuple[str, ...]]] = {
    1: ("HEADER", "<QHHHHH3x3xHHHHII QQ".replace(" ", ""),
        ("magic", "arch_id", "major", "minor", "patch", "rev", "task_comm_len", "uts_release_len",
         "uts_version_len", "uts_machine_len", "page_size", "_", "time", "uflags")),
    2: ("HEADER_ARCH", "<IIQQ", ("xstate_size", "vdso_size", "xfeatures", "_")),
    3: ("BUFFER", "", ()),
    4: ("STRING", "", ()),
    5: ("TREE", "<II", ("nr_tasks", "nr_ctty")),
    6: ("UTS_NS", "<65s65s6s", ("nodename", "domainname", "_")),
    7: ("NET_NS", "<III20s", ("flags", "lo_mtu", "nr_sysctl", "_")),
    8: ("NET_SYSCTL", "<HHI", ("name_len", "value_len", "_")),
    9: ("IPC_NS", "<QQIIIIIiiiiII" + "iII" * 3,
        ("shmmax", "shmall", "shmmni", "shm_rmid_forced", "msgmax", "msgmnb", "msgmni", "semmsl", "semmns", "semopm",
         "semmni", "nr_msq", "nr_sem", "sem_last_idx", "sem_seq", "sem_cursor", "msg_last_idx", "msg_seq",
         "msg_cursor", "shm_last_idx", "shm_seq", "shm_cursor")),
    101: ("TASK", "<iIIIIIQQ16sQQiI", ("pid", "task_flags", "exit_signal", "personality", "pdeath_signal",
                                       "coredump_filter",
                                       "set_child_tid", "clear_child_tid", "comm", "timer_slack_ns",
                                       "default_timer_slack_ns", "oom_score_adj", "dumpable")),
    103: ("THREAD", "<QQQIIQIIQQQ", ("blocked", "sas_ss_sp", "sas_ss_size", "sas_ss_flags", "rseq_len", "rseq",
                                     "rseq_sig", "flags", "robust_list", "robust_list_len", "temp_blocked")),
    104: ("CPU", "<" + "Q" * 30,
          ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
           "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
           "tls0", "tls1", "tls2")),
    105: ("CRED", "<IIIIIIIIIIQQQQQ", ("uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "securebits",
                                       "ngroups", "cap_inheritable", "cap_permitted", "cap_effective", "cap_bset",
                                       "cap_ambient")),
    106: ("RESTART_BLOCK", "<IiQQQIIII", ("kind", "clockid", "timeout_ns", "uaddr", "uaddr2", "val", "flags", "bitset",
                                          "_")),
    107: ("AUXV", "<II", ("nr", "_")),
    108: ("SCHED", "<IiIIII" + "Q" * 16,
          ("policy", "nice", "rt_priority", "flags", "ioprio", "_") + tuple(f"cpus{i}" for i in range(16))),
    110: ("THREADS", "<II", ("nr_threads", "_")),
    112: ("SECCOMP", "<II", ("mode", "nfilters")),
    113: ("SECCOMP_FILTER", "<II", ("len", "flags")),
    111: ("THREAD_TASK", "<iiQQ16s", ("tid", "tgid", "set_child_tid", "clear_child_tid", "comm")),
    201: ("FPU", "<IIQ", ("size", "_", "xfeatures")),
    301: ("FILE_TABLE", "<II", ("nfds", "_")),
    302: ("FILE_DESC", "<iiII", ("fd", "objref", "close_on_exec", "_")),
    304: ("FILE", "<iIIIqQIIIIII", ("objref", "f_type", "f_flags", "f_mode", "f_pos", "i_size", "i_mode", "rdev",
                                     "nlocks", "f_owner", "f_signum", "_")),
    305: ("FILE_LOCK", "<IIqq", ("kind", "type", "start", "end")),
    306: ("PIPE", "<iIII", ("pipe_ref", "size", "nbytes", "_")),
    307: ("FILE_DATA", "<iIQII", ("data_ref", "i_perm", "size", "seals", "data_flags")),
    311: ("FS", "<II", ("umask", "_")),
    312: ("FIFO", "<iIII", ("fifo_ref", "size", "nbytes", "flags")),
    320: ("EVENTFD", "<QII", ("count", "flags", "_")),
    321: ("EPOLL", "<II", ("nitems", "_")),
    322: ("EPOLL_ITEM", "<iiIIQ", ("objref", "fd", "events", "flags", "data")),
    323: ("SIGNALFD", "<Q", ("sigmask",)),
    324: ("TIMERFD", "<iIQQQQ", ("clockid", "flags", "value_ns", "interval_ns", "ticks", "_r")),
    325: ("INOTIFY", "<IIiI", ("nwatches", "nevents", "next_wd", "_")),
    326: ("INOTIFY_WATCH", "<iIII", ("wd", "mask", "i_mode", "_")),
    327: ("INOTIFY_EVENT", "<iIII", ("wd", "mask", "cookie", "_")),
    341: ("PTY", "<iIIIIIIHHHHI", ("pty_ref", "end", "index", "flags", "pktstatus", "nbytes_master", "nbytes_slave",
                                   "ws_row", "ws_col", "ws_xpixel", "ws_ypixel", "_")),
    342: ("CTTY", "", ()),  # struct ckpt_ctty entries (CTTY_ENTRY), nr_ctty of the TREE record
    401: ("MM", "<II" + "Q" * 13 + "II",
          ("map_count", "_", "def_flags", "start_code", "end_code", "start_data", "end_data", "start_brk",
           "brk", "start_stack", "arg_start", "arg_end", "env_start", "env_end", "vdso", "mm_flags", "_r")),
    402: ("VMA", "<IIQQQQQ", ("vma_type", "vma_flags", "vm_start", "vm_end", "vm_flags", "vm_pgoff", "file_size")),
    404: ("PGARR", "<Q", ("nr_pages",)),
    406: ("PGCOW", "<Q", ("nr_pages",)),  # pages of an inherited vma still the parent's
    405: ("SHMEM", "<iIiIQ", ("shm_ref", "kind", "data_ref", "mode", "size")),
    410: ("IPC_SHM", "<iiiIIIIIQII", ("shm_ref", "key", "id", "mode", "uid", "gid", "cuid", "cgid", "size", "flags",
                                      "_")),
    411: ("IPC_MSQ", "<iiIIIIIiiIQQqqq", ("key", "id", "mode", "uid", "gid", "cuid", "cgid", "lspid", "lrpid", "qnum",
                                          "qbytes", "cbytes", "stime", "rtime", "ctime")),
    412: ("IPC_MSG", "<qQ", ("mtype", "len")),  # then its len bytes
    413: ("IPC_SEM", "<iiIIIIIIqII", ("key", "id", "mode", "uid", "gid", "cuid", "cgid", "nsems", "ctime",
                                      "nr_undo", "_")),  # + sems[], then nr_undo IPC_SEM_UNDO
    414: ("IPC_SEM_UNDO", "<iI", ("pid", "nsems")),  # + nsems x s16 semadj
    420: ("PRECOPY", "<QII", ("chain", "round", "_")),
    430: ("AIO", "<QQ" + "I" * 10, ("user_id", "ring_size", "max_reqs", "nr_ring_events", "id", "nr", "head", "tail",
                                    "magic", "compat_features", "incompat_features", "header_length")),
    421: ("PGREF", "<Q", ("nr_pages",)),
    501: ("SOCKET", "<IIHHHHIIiiIiiIIiQQII128s128s",
          ("sk_id", "peer_id", "family", "type", "protocol", "state", "flags", "shutdown", "sndbuf", "rcvbuf",
           "backlog", "peek_off", "rcvlowat", "priority", "mark", "err", "rcvtimeo_us", "sndtimeo_us",
           "laddr_len", "raddr_len", "laddr", "raddr")),
    502: ("SOCKET_QUEUE", "<IIQ", ("nmsgs", "_", "bytes")),
    503: ("SOCKET_MSG", "<IIII", ("len", "sender_id", "flags", "nfds")),
    504: ("SOCKET_TCP", "<" + "I" * 11 + "BBH",
          ("send_seq", "send_len", "recv_seq", "recv_len", "snd_wl1", "snd_wnd", "max_window", "rcv_wnd",
           "rcv_wup", "mss_clamp", "timestamp", "snd_wscale", "rcv_wscale", "flags")),
    505: ("SOCKET_INET", "<IhBBIIIHH",
          ("linger_s", "ttl", "tos", "keepcnt", "keepidle", "keepintvl", "user_timeout", "maxseg", "flags")),
    506: ("SOCKET_ACCEPT", "<II", ("nconns", "_")),
    507: ("SOCKET_CONN", "<HHIII128s128s", ("family", "state", "_", "laddr_len", "raddr_len", "laddr", "raddr")),
    508: ("SOCKET_RAW", "<III8II", ("flags", "offset", "icmp_filter") + tuple(f"icmp6_filter{i}" for i in range(8))
          + ("_",)),
    509: ("SOCKET_IP", "<IHHBBBBIHHhhBBHI16s16s16s16s16s",
          ("flags", "cmsg_flags", "rxopt", "mc_ttl", "pmtudisc", "min_ttl", "pmtudisc6", "mc_addr", "port_lo",
           "port_hi", "hop_limit", "mcast_hops", "tclass", "min_hopcount", "nmcast", "frag_size", "bind_dev",
           "mc_dev", "uc_dev", "mc6_dev", "uc6_dev")),
    510: ("SOCKET_MCAST", "<II16s", ("group", "address", "dev")),
    511: ("SOCKET_FILTER", "<HHI", ("len", "flags", "_")),
    512: ("SOCKET_NETLINK", "<IIIHHQ", ("portid", "dst_portid", "dst_group", "flags", "_", "groups")),
    513: ("SOCKET_TCPOPT", "<16sIIII", ("congestion", "window_clamp", "tx_delay", "flags", "fastopen_qlen")),
    # proto is the ethertype in network order, as the kernel keeps it (read it with socket.ntohs)
    514: ("SOCKET_PACKET", "<16sHHIIiIIIIQ", ("ifname", "proto", "version", "flags", "reserve", "copy_thresh",
                                            "tstamp", "nmc", "stat_packets", "stat_drops", "_")),
    515: ("SOCKET_PACKET_MC", "<16sHHI32s", ("ifname", "type", "alen", "count", "addr")),
    # a UDP datagram from outside the checkpoint: addresses IPv4-mapped, ports in network order
    516: ("SOCKET_DGRAM", "<q16s16sHHBBBBII16s", ("tstamp", "saddr", "daddr", "sport", "dport", "ttl", "tos",
                                                 "flags", "_", "spec_dst", "_2", "ifname")),
    517: ("SOCKET_UDPLITE", "<HHI", ("send_cscov", "recv_cscov", "flags")),
    601: ("SIGHAND", "<II", ("nr", "_")),
    602: ("SIGNAL", "<IBBBB" + "QQ" * 16,
          ("nr_rlim", "stop_flags", "stop_signal", "stop_code", "_")
          + tuple(f"rlim{i}_{k}" for i in range(16) for k in ("cur", "max"))),
    603: ("SIGPENDING", "<IIQQ", ("nr", "_", "private_mask", "shared_mask")),
    701: ("ITIMERS", "<QQQQQQ", ("real_value_ns", "real_interval_ns", "virtual_value_ns", "virtual_interval_ns",
                                 "prof_value_ns", "prof_interval_ns")),
    710: ("POSIX_TIMERS", "<Ii", ("nr", "next_id")),
    9001: ("TAIL", "<QQQ", ("magic", "sum", "sum2")),
    9999: ("ERROR", "", ()),
}
NAMES = {v[0]: k for k, v in RECORDS.items()}
# records whose layout changed, as images of older format versions (HEADER rev) have them
OLD_RECORDS: dict[int, dict[int, tuple[str, str, tuple[str, ...]]]] = {
    2: {101: ("TASK", "<iIIIIIQQ16s", ("pid", "task_flags", "exit_signal", "personality", "pdeath_signal", "_",
                                       "set_child_tid", "clear_child_tid", "comm"))},
}
OLD_FILE = ("FILE", "<iIIIqQ", ("objref", "f_type", "f_flags", "f_mode", "f_pos", "i_size"))  # before version 4
OLD_RECORDS[2][304] = OLD_FILE
OLD_RECORDS[1] = OLD_RECORDS[2]
OLD_RECORDS[3] = {304: OLD_FILE}
# before version 7: no flags (padding) and no temp_blocked
OLD_THREAD = ("THREAD", "<QQQIIQIIQQ", ("blocked", "sas_ss_sp", "sas_ss_size", "sas_ss_flags", "rseq_len", "rseq",
                                      "rseq_sig", "_", "robust_list", "robust_list_len"))
for _rev in range(1, 7):
    OLD_RECORDS.setdefault(_rev, {})[103] = OLD_THREAD
VMA_TYPES = {1: "anon", 2: "file", 3: "vdso", 4: "vvar", 5: "shared-file", 6: "shmem", 7: "sysv-shm", 8: "aio"}
AIO_EVENT = 32  # struct io_event
SHMEM_KINDS = {1: "anon", 2: "memfd", 3: "deleted file"}  # 3: a deleted tmpfs file (its path after, unless a fd has it)
IPC_SHM_MODE = 0o777 | 0o1000 | 0o2000  # permission bits, SHM_DEST, SHM_LOCKED
IPC_SHM_NORESERVE = 0x1
IPC_SEM_VAL = struct.Struct("<iiq")  # an IPC_SEM record's semaphores: semval, sempid, otime
IPC_SEM_VAL_FIELDS = ("semval", "sempid", "otime")
SEMVMX = 32767
FILE_TYPES = {1: "reg", 2: "chr", 3: "dir", 4: "path", 5: "pipe", 6: "deleted", 7: "memfd", 312: "fifo",
              320: "eventfd",
              321: "epoll", 323: "signalfd",
              324: "timerfd", 325: "inotify", 340: "pty", 500: "socket"}
EPOLL_ITEMS_MAX = 65536
FIFO_ALL_HELD = 0x1
FIFO_HUP = 0x2  # a reader that reports POLLHUP once no writer (a writer opened since it)
BPF_MAXINSNS = 4096
LOCK_KINDS = {1: "posix", 2: "ofd", 3: "flock", 4: "lease"}
SOCK_QUEUE_MSGS = 65536
SOCK_QUEUE_MAX = 16 << 20
SOCK_MSG_MAX = 4 << 20
INET_FLAGS = 0x3  # CKPT_INET_LINGER | CKPT_INET_CORK
SOCK_ADDR_MAX = 128
SOCK_ACCEPTQ = 0x200000  # CKPT_SOCK_ACCEPTQ: a TCP listener's SOCKET_ACCEPT follows
SOCK_RAW = 3  # SOCK_RAW: a SOCKET_RAW follows its SOCKET
RAW_FLAGS = 0x3  # CKPT_RAW_HDRINCL | CKPT_RAW_CHECKSUM
RAW_CHECKSUM = 0x2
SOCK_IP_OPTS = 0x400000  # CKPT_SOCK_IP_OPTS: a SOCKET_IP follows its SOCKET (and SOCKET_INET)
IP_FLAGS = 0x1F7F  # CKPT_IP_*
IP_CMSG_FLAGS = 0x1FF
IP6_RXOPT = 0x7FFF
SOCK_MCAST_MAX = 256
SOCK_TCP_OPTS = 0x1000000  # CKPT_SOCK_TCP_OPTS: a SOCKET_TCPOPT follows its SOCKET (and SOCKET_INET)
TCPOPT_FLAGS = 0xF  # CKPT_TCPOPT_THIN_LTO | _INQ | _FO_CONNECT | _FO_NO_COOKIE
SOCK_FILTER = 0x800000  # CKPT_SOCK_FILTER: a SOCKET_FILTER and the BUFFER of its program follow the strings
FILTER_LOCKED = 0x1
BPF_MAXINSNS = 4096


def sockaddr_text(raw: bytes, length: int) -> str:
    """A socket name as text: ``a.b.c.d:port``, ``[v6addr]:port``, a path, ``@abstract`` (other bytes
    as \\xNN), ``-`` for none."""
    if length == 16 and raw[:2] == b"\2\0":  # AF_INET
        return ".".join(str(b) for b in raw[4:8]) + f":{raw[2] << 8 | raw[3]}"
    if length == 28 and raw[:2] == b"\n\0":  # AF_INET6
        ip6 = ipaddress.IPv6Address(bytes(raw[8:24]))
        ip = f"::ffff:{ip6.ipv4_mapped}" if ip6.ipv4_mapped else ip6.compressed  # as inet_ntop writes it
        return f"[{ip}]:{raw[2] << 8 | raw[3]}"
    if length <= 2 or length > SOCK_ADDR_MAX:
        return "-" if length < 2 else "(unnamed)"
    name = raw[2:length]
    if name[:1] == b"\0":
        return "@" + "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in name[1:])
    return name.split(b"\0", 1)[0].decode(errors="replace")
PGARR_MAX = 512
MM_COW = 0x1  # ckpt_hdr_mm.mm_flags: built from the parent's mm (a forked child of a tree)
VMA_INHERITED = 0x1  # ckpt_hdr_vma.vma_flags: the parent's vma as fork() copied it (no path follows)
# one timer of POSIX_TIMERS: id, clockid, notify, signo, value, flags, sig_overrun, expires_ns, interval_ns,
# overrun, overrun_last, tid (SIGEV_THREAD_ID: a THREAD_TASK's, 0 the leader), reserved
PTIMER = struct.Struct("<iiiiQIiqQqqiI")
PTIMER_FIELDS = ("id", "clockid", "notify", "signo", "value", "flags", "sig_overrun", "expires_ns", "interval_ns",
                 "overrun", "overrun_last", "tid", "_reserved")
PTIMER_FLAGS = 0xF
PTIMERS_MAX = 65536
TREE_MAX = 4096
THREADS_MAX = 1024
TREE_TASK = struct.Struct("<iiiiIIIHH16sQQ")  # struct ckpt_tree_task
TREE_TASK_FIELDS = ("pid", "parent", "pgid", "sid", "exit_signal", "flags", "exit_code", "files_of", "fs_of")
TREE_ZOMBIE = 0x1
TREE_PIDNS = 0x2  # the root only: the image is of a pid namespace, its pids as seen in it (the root's is 1)
TREE_GHOST = 0x4  # the dead leader of a group (and session) of the tree: no task section
TREE_FILES = 0x8  # shares the file table of task files_of (CLONE_FILES): no FILE_TABLE in its section
TREE_FS = 0x10  # shares the fs_struct of task fs_of (CLONE_FS): no FS in its section
TREE_UTSNS = 0x20  # the root only: the tree's UTS namespace is its own, UTS_NS follows TREE
TREE_NETNS = 0x40  # the root only: the tree's network namespace is its own, NET_NS follows TREE (and UTS_NS)
TREE_IPCNS = 0x80  # the root only: the tree's IPC namespace is its own, IPC_NS follows TREE (UTS_NS, NET_NS)
TREE_NS = TREE_UTSNS | TREE_NETNS | TREE_IPCNS
TREE_FLAGS = TREE_ZOMBIE | TREE_PIDNS | TREE_GHOST | TREE_FILES | TREE_FS | TREE_NS
NETNS_FLAGS = 0x7  # NET_NS flags: lo up, lo has 127.0.0.1/8, lo has ::1
NET_SYSCTL_MAX = 4096  # NET_SYSCTL records after a NET_NS
NET_SYSCTL_NAME_MAX = 128  # bytes of a NET_SYSCTL's name, at most one less (likewise 1024 of its value)
NET_SYSCTL_VALUE_MAX = 1024
CTTY_ENTRY = struct.Struct("<iiii")  # struct ckpt_ctty: pid, pty_ref, pgrp, sid


@dataclass
class TreeTask:
    """One task of a CKPT_HDR_TREE record: pgid/sid 0 = the root's (outside the tree)."""

    pid: int
    parent: int  # index, -1 for the root
    pgid: int
    sid: int
    exit_signal: int
    flags: int
    exit_code: int
    comm: str = ""  # of a zombie
    sigign: int = 0
    sigcatch: int = 0
    files_of: int = 0  # TREE_FILES: the index of the task whose file table it shares
    fs_of: int = 0  # TREE_FS: likewise its fs_struct

    @property
    def zombie(self) -> bool:
        return bool(self.flags & TREE_ZOMBIE)

    @property
    def ghost(self) -> bool:
        return bool(self.flags & TREE_GHOST)


def tree_tasks(rec: Record) -> list[TreeTask]:
    """The tasks of a TREE record, in image (depth-first) order."""
    return [TreeTask(pid=v[0], parent=v[1], pgid=v[2], sid=v[3], exit_signal=v[4], flags=v[5], exit_code=v[6],
                     files_of=v[7], fs_of=v[8], comm=v[9].split(b"\0", 1)[0].decode(errors="replace"),
                     sigign=v[10], sigcatch=v[11])
            for v in TREE_TASK.iter_unpack(rec.payload)]


def _share_bad(tasks: list[TreeTask], i: int, flag: int, of: int) -> bool:
    """What restart refuses of a shared table's owner: an earlier live task that has its own."""
    t = tasks[i]
    if not t.flags & flag:
        return of != 0
    return (i == 0 or bool(t.flags & (TREE_ZOMBIE | TREE_GHOST)) or of >= i
            or bool(tasks[of].flags & (TREE_ZOMBIE | TREE_GHOST | flag)))


class ImageError(Exception):
    """The image is malformed; the message names the offset and what is wrong."""


@dataclass
class Record:
    offset: int
    type: int
    length: int
    fields: dict[str, Any]
    payload: bytes  # bytes after the fixed part

    @property
    def name(self) -> str:
        return RECORDS[self.type][0] if self.type in RECORDS else f"type{self.type}"

    def describe(self) -> str:
        shown = {k: v for k, v in self.fields.items() if not k.startswith("_")}
        parts = []
        for k, v in shown.items():
            if isinstance(v, int) and k not in ("pid", "fd", "objref", "nfds", "nr", "map_count", "nr_pages",
                                                 "size", "rev", "major", "minor", "patch", "arch_id",
                                                 "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid",
                                                 "ngroups", "policy", "nice", "rt_priority", "tid", "tgid",
                                                 "nr_threads"):
                parts.append(f"{k}={v:#x}")
            else:
                parts.append(f"{k}={v}")
        if self.name == "STRING":
            parts.append(repr(self.payload.split(b"\0", 1)[0].decode(errors="replace")))
        elif self.name == "NET_SYSCTL":
            n = self.fields["name_len"]
            parts.append(f"{self.payload[:n].decode(errors='replace')}="
                         f"{self.payload[n:n + self.fields['value_len']].decode(errors='replace')!r}")
        elif self.name == "CRED":
            groups = struct.iter_unpack("<I", self.payload[:len(self.payload) // 4 * 4])
            parts.append("groups=" + ",".join(str(g) for (g,) in groups))
        elif self.name in ("BUFFER", "ERROR"):
            parts.append(f"{len(self.payload)} bytes")
        return f"{self.offset:#010x} {self.name:<12} len={self.length:<6} " + " ".join(parts)


@dataclass
class Image:
    records: list[Record] = field(default_factory=list)
    size: int = 0

    def first(self, name: str) -> Record:
        return next(r for r in self.records if r.name == name)

    def all(self, name: str) -> list[Record]:
        return [r for r in self.records if r.name == name]

    @property
    def header(self) -> Record:
        return self.first("HEADER")

    @property
    def uts(self) -> tuple[str, str, str]:
        strings = [r.payload.split(b"\0", 1)[0].decode(errors="replace") for r in self.records[1:4]]
        return strings[0], strings[1], strings[2]

    @property
    def error(self) -> str | None:
        errs = self.all("ERROR")
        return errs[0].payload.strip(b"\0").decode(errors="replace") if errs else None

    def tree(self) -> list[TreeTask]:
        """The task hierarchy (format 5); one task for older images."""
        recs = self.all("TREE")
        return tree_tasks(recs[0]) if recs else []

    def pages(self) -> int:
        return sum(r.fields["nr_pages"] for r in self.all("PGARR"))

    def cow_pages(self) -> int:
        """Pages a forked child of a tree still shares with its parent (PGCOW: not in the image again)."""
        return sum(r.fields["nr_pages"] for r in self.all("PGCOW"))

    def precopy(self) -> dict[str, int] | None:
        """A pre-copy image: its chain, the number of rounds (the last pass) or the last round's number,
        the pages it refers to the rounds for, and the images of a stream (rounds + last pass)."""
        pc = self.all("PRECOPY")
        if not pc:
            return None
        return {"chain": pc[-1].fields["chain"], "round": pc[-1].fields["round"],
                "refs": sum(r.fields["nr_pages"] for r in self.all("PGREF")), "images": len(pc)}

    def summary(self) -> dict[str, Any]:
        task = self.all("TASK")
        threads = self.all("THREADS")
        return {
            "bytes": self.size,
            "records": len(self.records),
            "uts_release": self.uts[0],
            "comm": task[0].fields["comm"] if task else None,
            "tasks": len(self.tree()) or len(task),
            "vmas": len(self.all("VMA")),
            "pages": self.pages(),
            "cow_pages": self.cow_pages(),
            "files": len(self.all("FILE")),
            "fds": len(self.all("FILE_DESC")),
            "locks": len(self.all("FILE_LOCK")),
            "threads": sum(r.fields["nr_threads"] for r in threads) or 1,  # of every task
            "precopy": self.precopy(),
            "error": self.error,
        }


def aio_in_ring(head: int, tail: int, nr: int) -> int:
    """Completions between a ring's head and tail (fs/aio.c's count)."""
    return tail - head if head <= tail else nr - (head - tail)


def _check_aio(r: Record) -> None:
    """An AIO record as restart checks it: a ring of nr events after its 32-byte header, head and tail
    in it, as many completions as lie between them."""
    f = r.fields
    if (not f["max_reqs"] or f["nr"] < 2 or f["ring_size"] != (f["nr"] + 1) * AIO_EVENT
            or f["head"] >= f["nr"] or f["tail"] >= f["nr"]
            or f["nr_ring_events"] != aio_in_ring(f["head"], f["tail"], f["nr"])):
        raise ImageError(f"offset {r.offset:#x}: bad aio context {f['user_id']:#x} (io_setup({f['max_reqs']}), "
                         f"nr {f['nr']}, head {f['head']}, tail {f['tail']}, {f['nr_ring_events']} events, "
                         f"{f['ring_size']} bytes)")


MIXED_CHECKSUM_VERSION = 6  # from this format version on, each word is mixed (ckpt_csum_mix)


def csum_mix(w: int, i: int) -> int:
    """``ckpt_csum_mix()`` of <linux/checkpoint_hdr.h>: word ``w``, the ``i``-th of the image."""
    w ^= (i * 0x9E3779B97F4A7C15) & MASK64
    w ^= w >> 31
    w = (w * 0x7FB5D329728EA185) & MASK64
    return w ^ (w >> 27)


def checksum(data: bytes, rev: int | None = None) -> tuple[int, int]:
    """The tail checksum over ``data`` (little-endian 64-bit words): (sum, sum2), each word mixed
    (with its index) for an image of format version ``rev`` >= 6 (plain sums for older ones and ``rev`` None)."""
    mixed = rev is not None and rev >= MIXED_CHECKSUM_VERSION
    s = s2 = 0
    for i, (w,) in enumerate(struct.iter_unpack("<Q", data)):
        s = (s + (csum_mix(w, i) if mixed else w)) & MASK64
        s2 = (s2 + s) & MASK64
    return s, s2


def _decode(rtype: int, body: bytes, offset: int, rev: int | None = None) -> tuple[dict[str, Any], bytes]:
    name, fmt, names = OLD_RECORDS.get(rev or 0, {}).get(rtype) or RECORDS[rtype]
    if not fmt:
        return {}, body
    size = struct.calcsize(fmt)
    if len(body) < size:
        raise ImageError(f"offset {offset:#x}: {name} record too short ({len(body) + HDR.size} bytes, "
                         f"needs {size + HDR.size})")
    values = struct.unpack_from(fmt, body)
    fields: dict[str, Any] = dict(zip(names, values, strict=True))
    if "comm" in fields:
        fields["comm"] = fields["comm"].split(b"\0", 1)[0].decode(errors="replace")
    if name in ("SOCKET", "SOCKET_CONN"):
        fields["laddr"] = sockaddr_text(fields["laddr"], fields["laddr_len"])
        fields["raddr"] = sockaddr_text(fields["raddr"], fields["raddr_len"])
    return fields, body[size:]


def parse(data: bytes, rev: int | None = None) -> Image:
    """Parse and check a whole image; raise :class:`ImageError` on the first problem. ``rev``: the format
    version of records without a HEADER (an ET_CKPT file's), for their layouts and checksum."""
    headerless_rev = rev
    img = Image(size=len(data))
    pos = start = 0  # start: of the current image (a pre-copy stream is several)
    tail_seen = False
    while pos < len(data):
        if tail_seen and not (_in_round(img, start) and HDR.unpack_from(data, pos)[0] == 1):
            raise ImageError(f"offset {pos:#x}: data after the tail record")
        if tail_seen:
            tail_seen, start = False, pos
        if len(data) - pos < HDR.size:
            raise ImageError(f"offset {pos:#x}: truncated record header")
        rtype, length = HDR.unpack_from(data, pos)
        if rtype not in RECORDS:
            raise ImageError(f"offset {pos:#x}: unknown record type {rtype}")
        if length < HDR.size:
            raise ImageError(f"offset {pos:#x}: {RECORDS[rtype][0]} length {length} is shorter than its header")
        if pos + length > len(data):
            raise ImageError(f"offset {pos:#x}: {RECORDS[rtype][0]} record of {length} bytes is truncated "
                             f"({len(data) - pos} left)")
        rev = img.records[0].fields.get("rev", headerless_rev) if img.records else headerless_rev
        fields, rest = _decode(rtype, data[pos + HDR.size:pos + length], pos, rev)
        rec = Record(pos, rtype, length, fields, rest)
        if not img.records:
            _check_header(rec)
        if rec.name == "TAIL":
            if fields["magic"] != MAGIC_TAIL:
                raise ImageError(f"offset {pos:#x}: bad tail magic {fields['magic']:#x}")
            s, s2 = checksum(data[start:pos], rev)
            if (s, s2) != (fields["sum"], fields["sum2"]):
                raise ImageError(f"offset {pos:#x}: checksum mismatch (image corrupted)")
            tail_seen = True
        img.records.append(rec)
        pos += (length + ALIGN - 1) // ALIGN * ALIGN
        if pos > len(data) and rec.name != "TAIL":
            raise ImageError(f"offset {rec.offset:#x}: record padding runs past the end")
    _check_structure(img)
    if not tail_seen and img.error is None:
        raise ImageError(f"no tail record: image truncated at {len(data)} bytes")
    return img


def _in_round(img: Image, start: int) -> bool:
    """The image that starts at ``start`` is a pre-copy round (another image may follow it)."""
    head = next(r for r in img.records if r.offset == start)
    return bool(head.fields.get("uflags", 0) & CHECKPOINT_PRECOPY)


def _check_precopy(img: Image) -> None:
    """A round holds only page arrays; a stream is rounds 0 to N - 1 and then their last pass (a last pass
    alone, or rounds alone, may be read too)."""
    pcs = img.all("PRECOPY")
    heads = img.all("HEADER")
    last = bool(heads[-1].fields["uflags"] & CHECKPOINT_PRECOPY_LAST)
    if img.all("PGREF") and not last:
        raise ImageError(f"offset {img.all('PGREF')[0].offset:#x}: PGREF outside the last pass of a pre-copy")
    if not pcs:
        return
    rounds = pcs[:-1] if last else pcs
    for want, r in enumerate(rounds):
        if r.fields["chain"] != pcs[0].fields["chain"] or r.fields["round"] != want:
            raise ImageError(f"offset {r.offset:#x}: round {r.fields['round']} of chain {r.fields['chain']:#x} "
                             f"where round {want} of {pcs[0].fields['chain']:#x} was expected")
    if last:
        f = pcs[-1].fields
        if not f["round"]:
            raise ImageError(f"offset {pcs[-1].offset:#x}: last pass of a pre-copy with no rounds")
        if rounds and (f["chain"] != pcs[0].fields["chain"] or f["round"] != len(rounds)):
            raise ImageError(f"offset {pcs[-1].offset:#x}: last pass of chain {f['chain']:#x} with {f['round']} "
                             f"rounds after {len(rounds)} rounds of {pcs[0].fields['chain']:#x}")
    for r in img.all("PGREF"):
        if not 1 <= r.fields["nr_pages"] <= PGARR_MAX:
            raise ImageError(f"offset {r.offset:#x}: page reference of {r.fields['nr_pages']} pages")


def _check_header(head: Record) -> None:
    if head.name != "HEADER":
        raise ImageError(f"first record is {head.name}, not HEADER")
    if head.fields["magic"] != MAGIC_HEAD:
        raise ImageError(f"bad header magic {head.fields['magic']:#x}")
    if head.fields["page_size"] != PAGE_SIZE:
        raise ImageError(f"page size {head.fields['page_size']} is not {PAGE_SIZE}")


def _check_accept_queues(img: Image) -> None:
    """A SOCKET_ACCEPT follows a TCP listener's SOCKET (CKPT_SOCK_ACCEPTQ), with at most its backlog + 1
    connections, each a SOCKET_CONN of the listener's family."""
    listener: Record | None = None
    for r in img.records:
        if r.name == "SOCKET":
            listener = r if r.fields["flags"] & SOCK_ACCEPTQ else None
        elif r.name == "SOCKET_ACCEPT":
            if listener is None:
                raise ImageError(f"offset {r.offset:#x}: an accept queue without its TCP listener")
            if r.fields["nconns"] > listener.fields["backlog"] + 1:
                raise ImageError(f"offset {r.offset:#x}: accept queue of {r.fields['nconns']} connections, "
                                 f"backlog {listener.fields['backlog']}")
        elif r.name == "SOCKET_CONN":
            if listener is None or r.fields["family"] != listener.fields["family"]:
                raise ImageError(f"offset {r.offset:#x}: a connection waiting to be accepted of family "
                                 f"{r.fields['family']}, not its listener's")
            if r.fields["laddr_len"] > SOCK_ADDR_MAX or r.fields["raddr_len"] > SOCK_ADDR_MAX:
                raise ImageError(f"offset {r.offset:#x}: socket address longer than {SOCK_ADDR_MAX} bytes")


def _check_raw_sockets(img: Image) -> None:
    """A SOCKET_RAW follows the SOCKET (and strings, SOCKET_INET) of a raw socket, and only of one; its
    IPV6_CHECKSUM offset is even, and 0 without CKPT_RAW_CHECKSUM."""
    sock: Record | None = None
    for r in img.records:
        if r.name == "SOCKET":
            sock = r if r.fields["type"] == SOCK_RAW and r.fields["family"] in (2, 10) else None
        elif r.name == "SOCKET_RAW":
            if sock is None:
                raise ImageError(f"offset {r.offset:#x}: raw socket options without a raw socket")
            f = r.fields
            if f["flags"] & ~RAW_FLAGS or f["offset"] % 2 or (f["offset"] and not f["flags"] & RAW_CHECKSUM):
                raise ImageError(f"offset {r.offset:#x}: bad raw socket options (flags {f['flags']:#x}, "
                                 f"checksum offset {f['offset']})")
            sock = None
        elif r.name == "SOCKET_QUEUE" and sock is not None:
            raise ImageError(f"offset {r.offset:#x}: raw socket {sock.fields['sk_id']} without its SOCKET_RAW")


def _check_ip_sockets(img: Image) -> None:
    """A SOCKET_IP follows the SOCKET of an inet socket with CKPT_SOCK_IP_OPTS, and only of one, with
    flags and options that the kernel knows; its ``nmcast`` SOCKET_MCAST records follow it."""
    sock: Record | None = None
    mcast = 0
    for r in img.records:
        if r.name == "SOCKET_MCAST":
            if not mcast:
                raise ImageError(f"offset {r.offset:#x}: a multicast membership without its SOCKET_IP")
            mcast -= 1
            continue
        if mcast:
            raise ImageError(f"offset {r.offset:#x}: {mcast} multicast memberships missing before {r.name}")
        if r.name == "SOCKET":
            sock = r if r.fields["flags"] & SOCK_IP_OPTS else None
        elif r.name == "SOCKET_IP":
            f = r.fields
            if sock is None:
                raise ImageError(f"offset {r.offset:#x}: IP options without a socket that has them")
            if (f["flags"] & ~IP_FLAGS or f["cmsg_flags"] & ~IP_CMSG_FLAGS or f["rxopt"] & ~IP6_RXOPT
                    or f["nmcast"] > SOCK_MCAST_MAX):
                raise ImageError(f"offset {r.offset:#x}: bad IP options (flags {f['flags']:#x}, "
                                 f"{f['nmcast']} memberships)")
            mcast = f["nmcast"]
            sock = None
        elif r.name in ("SOCKET_RAW", "SOCKET_UDPLITE", "SOCKET_TCP", "SOCKET_ACCEPT",
                        "SOCKET_QUEUE") and sock is not None:
            raise ImageError(f"offset {r.offset:#x}: socket {sock.fields['sk_id']} without its SOCKET_IP")


def _check_tcp_opts(img: Image) -> None:
    """A SOCKET_TCPOPT follows the SOCKET of a TCP socket with CKPT_SOCK_TCP_OPTS, and only of one, with
    flags that the kernel knows, a congestion control name ended by a NUL and values up to INT_MAX."""
    sock: Record | None = None
    for r in img.records:
        if r.name == "SOCKET":
            sock = r if r.fields["flags"] & SOCK_TCP_OPTS else None
        elif r.name == "SOCKET_TCPOPT":
            f = r.fields
            if sock is None or sock.fields["type"] != 1:
                raise ImageError(f"offset {r.offset:#x}: TCP options without a TCP socket that has them")
            if (f["flags"] & ~TCPOPT_FLAGS or b"\0" not in f["congestion"]
                    or max(f["window_clamp"], f["tx_delay"], f["fastopen_qlen"]) > 0x7FFFFFFF):
                raise ImageError(f"offset {r.offset:#x}: bad TCP options (flags {f['flags']:#x})")
            sock = None
        elif r.name in ("SOCKET_IP", "SOCKET_RAW", "SOCKET_TCP", "SOCKET_ACCEPT", "SOCKET_QUEUE") \
                and sock is not None:
            raise ImageError(f"offset {r.offset:#x}: socket {sock.fields['sk_id']} without its SOCKET_TCPOPT")


PACKET_FLAGS = 0x7F  # CKPT_PACKET_FLAGS
PACKET_MC_MAX = 64  # CKPT_PACKET_MC_MAX: memberships of a packet socket
PACKET_MC_COUNT = 256  # CKPT_PACKET_MC_COUNT: times one was added
AF_PACKET = 17


def _check_packet_sockets(img: Image) -> None:
    """A SOCKET_PACKET follows the strings (and filter) of a packet socket (family 17, SOCK_RAW or
    SOCK_DGRAM), and only of one, with known flags, a device name ended by a NUL, a TPACKET version, then
    its ``nmc`` SOCKET_PACKET_MC records (each a type, an address of at most 32 bytes, 1..256 times)."""
    sock: Record | None = None
    want_mc = 0
    for r in img.records:
        if r.name == "SOCKET":
            if want_mc:
                raise ImageError(f"offset {r.offset:#x}: a packet socket without {want_mc} of its memberships")
            sock = r if r.fields["family"] == AF_PACKET else None
            if sock is not None and r.fields["type"] not in (SOCK_RAW, 2):
                raise ImageError(f"offset {r.offset:#x}: packet socket of type {r.fields['type']}")
        elif r.name == "SOCKET_PACKET":
            f = r.fields
            if sock is None:
                raise ImageError(f"offset {r.offset:#x}: packet options without a packet socket")
            if (f["flags"] & ~PACKET_FLAGS or f["_"] or f["version"] > 2 or f["nmc"] > PACKET_MC_MAX
                    or b"\0" not in f["ifname"] or f["reserve"] > 0x7FFFFFFF
                    or bool(f["flags"] & 0x40) != (f["ifname"][:1] != b"\0")):
                raise ImageError(f"offset {r.offset:#x}: bad packet options (flags {f['flags']:#x}, version "
                                 f"{f['version']}, {f['nmc']} memberships)")
            want_mc = f["nmc"]
            sock = None
        elif r.name == "SOCKET_PACKET_MC":
            f = r.fields
            if not want_mc:
                raise ImageError(f"offset {r.offset:#x}: a packet membership without a packet socket that has it")
            if (f["type"] > 3 or f["alen"] > 32 or not 1 <= f["count"] <= PACKET_MC_COUNT
                    or f["ifname"][:1] == b"\0" or b"\0" not in f["ifname"] or any(f["addr"][f["alen"]:])):
                raise ImageError(f"offset {r.offset:#x}: bad packet membership (type {f['type']}, "
                                 f"{f['alen']} bytes, {f['count']} times)")
            want_mc -= 1
        elif r.name == "SOCKET_QUEUE":
            if sock is not None:
                raise ImageError(f"offset {r.offset:#x}: socket {sock.fields['sk_id']} without its SOCKET_PACKET")
            if want_mc:
                raise ImageError(f"offset {r.offset:#x}: a packet socket without {want_mc} of its memberships")


def _check_filters(img: Image) -> None:
    """A SOCKET_FILTER follows the strings of a socket with CKPT_SOCK_FILTER, and only of one, then a
    BUFFER of its ``len`` instructions (8 bytes each)."""
    recs = img.records
    sock: Record | None = None
    for i, r in enumerate(recs):
        if r.name == "SOCKET":
            sock = r if r.fields["flags"] & SOCK_FILTER else None
        elif r.name == "SOCKET_FILTER":
            f = r.fields
            if sock is None:
                raise ImageError(f"offset {r.offset:#x}: a socket filter without a socket that has one")
            if f["len"] > BPF_MAXINSNS or f["flags"] & ~FILTER_LOCKED or f["_"]:
                raise ImageError(f"offset {r.offset:#x}: bad filter ({f['len']} instructions, flags {f['flags']:#x})")
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            if nxt is None or nxt.name != "BUFFER" or nxt.length != 8 + 8 * f["len"]:
                raise ImageError(f"offset {r.offset:#x}: a filter of {f['len']} instructions without their BUFFER")
            sock = None
        elif r.name in ("SOCKET_INET", "SOCKET_TCPOPT", "SOCKET_IP", "SOCKET_RAW", "SOCKET_TCP", "SOCKET_ACCEPT",
                        "SOCKET_QUEUE") and sock is not None:
            raise ImageError(f"offset {r.offset:#x}: socket {sock.fields['sk_id']} without its SOCKET_FILTER")


def _check_structure(img: Image) -> None:
    recs = img.records
    if not recs:
        raise ImageError("empty image")
    if len(recs) < 4 or any(r.name != "STRING" for r in recs[1:4]):
        if img.error is None:
            raise ImageError("the header is not followed by the three uts strings")
    for r in img.all("TREE"):
        _check_tree(r, len(img.all("TASK")), (len(img.all("FILE_TABLE")), len(img.all("FS"))))
    _check_uts_ns(img)
    _check_ipc_ns(img)
    _check_threads(img)
    _check_precopy(img)
    for r in img.all("PGARR"):
        if r.fields["nr_pages"] > PGARR_MAX:
            raise ImageError(f"offset {r.offset:#x}: page array of {r.fields['nr_pages']} pages (max {PGARR_MAX})")
    for r in img.all("SOCKET_QUEUE"):
        if r.fields["nmsgs"] > SOCK_QUEUE_MSGS or r.fields["bytes"] > SOCK_QUEUE_MAX:
            raise ImageError(f"offset {r.offset:#x}: socket queue of {r.fields['nmsgs']} messages, "
                             f"{r.fields['bytes']} bytes (max {SOCK_QUEUE_MSGS}, {SOCK_QUEUE_MAX})")
    for r in img.all("SOCKET_TCP"):
        if r.fields["send_len"] > SOCK_QUEUE_MAX or r.fields["recv_len"] > SOCK_QUEUE_MAX:
            raise ImageError(f"offset {r.offset:#x}: TCP queues of {r.fields['send_len']} and "
                             f"{r.fields['recv_len']} bytes (max {SOCK_QUEUE_MAX})")
    for r in img.all("SOCKET_INET"):
        if r.fields["flags"] & ~INET_FLAGS or not -1 <= r.fields["ttl"] <= 255:
            raise ImageError(f"offset {r.offset:#x}: bad inet options (flags {r.fields['flags']:#x}, "
                             f"ttl {r.fields['ttl']})")
    for r in img.all("SOCKET_MSG"):
        if r.fields["len"] > SOCK_MSG_MAX:
            raise ImageError(f"offset {r.offset:#x}: socket message of {r.fields['len']} bytes (max {SOCK_MSG_MAX})")
    for r in img.all("SOCKET"):
        if r.fields["laddr_len"] > SOCK_ADDR_MAX or r.fields["raddr_len"] > SOCK_ADDR_MAX:
            raise ImageError(f"offset {r.offset:#x}: socket address longer than {SOCK_ADDR_MAX} bytes")
    _check_accept_queues(img)
    _check_raw_sockets(img)
    _check_ip_sockets(img)
    _check_tcp_opts(img)
    _check_filters(img)
    _check_packet_sockets(img)
    for r in img.all("PTY"):
        f = r.fields
        if f["end"] not in (1, 2, 3) or f["pty_ref"] < 1 or max(f["nbytes_master"], f["nbytes_slave"]) >= 4095:
            raise ImageError(f"offset {r.offset:#x}: pty {f['pty_ref']} end {f['end']} with "
                             f"{f['nbytes_master']}/{f['nbytes_slave']} bytes")
    _check_ctty(img)
    for r in img.all("AIO"):
        _check_aio(r)
    for r in img.all("SHMEM"):
        f = r.fields
        if f["kind"] not in SHMEM_KINDS or f["shm_ref"] < 1 or f["mode"] & ~0o7777 or \
                (f["mode"] and (f["kind"] != 3 or f["data_ref"])):
            raise ImageError(f"offset {r.offset:#x}: shmem {f['shm_ref']} of kind {f['kind']} mode {f['mode']:#o}")
    _check_ipc_shm(img)
    tids = {t.fields["tid"] for t in img.all("THREAD_TASK")}
    for r in img.all("POSIX_TIMERS"):
        _check_posix_timers(r, tids)
    for r in img.all("VMA"):
        f = r.fields
        if f["vm_start"] >= f["vm_end"] or f["vm_start"] % PAGE_SIZE or f["vm_end"] % PAGE_SIZE:
            raise ImageError(f"offset {r.offset:#x}: bad vma {f['vm_start']:#x}-{f['vm_end']:#x}")
        if f["vma_type"] not in VMA_TYPES:
            raise ImageError(f"offset {r.offset:#x}: unknown vma type {f['vma_type']}")
        if f["vma_flags"] & ~VMA_INHERITED or (f["vma_flags"] and f["vma_type"] not in (1, 2)):
            raise ImageError(f"offset {r.offset:#x}: bad vma flags {f['vma_flags']:#x}")
    for r in img.all("MM"):
        if r.fields["mm_flags"] & ~MM_COW or r.fields["_r"]:
            raise ImageError(f"offset {r.offset:#x}: bad mm flags {r.fields['mm_flags']:#x}")
    for r in img.all("PGCOW"):
        if not 1 <= r.fields["nr_pages"] <= PGARR_MAX:
            raise ImageError(f"offset {r.offset:#x}: PGCOW of {r.fields['nr_pages']} pages")
    for r in img.all("FILE"):
        if r.fields["f_type"] not in FILE_TYPES:
            raise ImageError(f"offset {r.offset:#x}: unknown file type {r.fields['f_type']}")
    for r in img.all("SECCOMP_FILTER"):
        f = r.fields
        if not 1 <= f["len"] <= BPF_MAXINSNS or r.length != 16 + 8 * f["len"] or f["flags"] & ~1:
            raise ImageError(f"offset {r.offset:#x}: bad seccomp filter of {f['len']} instructions, "
                             f"flags {f['flags']:#x}")
    for r in img.all("FIFO"):
        f = r.fields
        if f["nbytes"] > f["size"] or f["flags"] & ~(FIFO_ALL_HELD | FIFO_HUP) or f["fifo_ref"] < 1:
            raise ImageError(f"offset {r.offset:#x}: bad FIFO {f['fifo_ref']} ({f['nbytes']} bytes in {f['size']}, "
                             f"flags {f['flags']:#x})")
    for r in img.all("EPOLL"):
        if r.fields["nitems"] > EPOLL_ITEMS_MAX:
            raise ImageError(f"offset {r.offset:#x}: epoll of {r.fields['nitems']} items (max {EPOLL_ITEMS_MAX})")
    for r in img.all("FILE_LOCK"):
        f = r.fields
        if f["kind"] not in LOCK_KINDS or f["type"] not in (0, 1) or not 0 <= f["start"] <= f["end"]:
            raise ImageError(f"offset {r.offset:#x}: bad lock (kind {f['kind']} type {f['type']} "
                             f"{f['start']}-{f['end']})")


def _check_ipc_shm(img: Image) -> None:
    """IPC_SHM: what restart checks of a segment, refs in order of first appearance, a repeat the same."""
    seen: list[dict[str, int]] = []
    for r in img.all("IPC_SHM"):
        f = r.fields
        if (f["id"] < 0 or f["mode"] & ~IPC_SHM_MODE or f["flags"] & ~IPC_SHM_NORESERVE or f["_"]
                or not f["size"] or not 1 <= f["shm_ref"] <= len(seen) + 1):
            raise ImageError(f"offset {r.offset:#x}: bad SysV shm segment {f['shm_ref']} (id {f['id']}, "
                             f"mode {f['mode']:#o}, size {f['size']}, flags {f['flags']:#x})")
        if f["shm_ref"] == len(seen) + 1:
            seen.append(dict(f))
        elif seen[f["shm_ref"] - 1] != f:
            raise ImageError(f"offset {r.offset:#x}: SysV shm segment {f['shm_ref']} repeated otherwise")


def posix_timers(rec: Record) -> list[dict[str, int]]:
    """The timers of a POSIX_TIMERS record, each as a dict of its fields."""
    entries = rec.payload[:PTIMER.size * rec.fields["nr"]]
    return [dict(zip(PTIMER_FIELDS, t, strict=True)) for t in PTIMER.iter_unpack(entries)]


def _check_posix_timers(r: Record, tids: set[int]) -> None:
    """POSIX_TIMERS: length, increasing ids, known flags, each SIGEV_THREAD_ID tid a thread of the image."""
    nr = r.fields["nr"]
    if nr > PTIMERS_MAX or r.length != HDR.size + 8 + PTIMER.size * nr:
        raise ImageError(f"offset {r.offset:#x}: POSIX_TIMERS record of {r.length} bytes for {nr} timers")
    last = -1
    for t in posix_timers(r):
        if t["id"] <= last or t["flags"] & ~PTIMER_FLAGS:
            raise ImageError(f"offset {r.offset:#x}: POSIX timer {t['id']}: ids not increasing or bad flags "
                             f"{t['flags']:#x}")
        if t["tid"] and t["tid"] not in tids:
            raise ImageError(f"offset {r.offset:#x}: POSIX timer {t['id']} signals thread {t['tid']}, "
                             "not a thread of the image")
        last = t["id"]


def _check_uts_ns(img: Image) -> None:
    """One UTS_NS (names NUL-terminated) and one NET_NS record iff the root's TREE entry has TREE_UTSNS, TREE_NETNS."""
    trees, uts = img.all("TREE"), img.all("UTS_NS")
    want = 1 if trees and tree_tasks(trees[0]) and tree_tasks(trees[0])[0].flags & TREE_UTSNS else 0
    if len(uts) != want:
        raise ImageError(f"{len(uts)} UTS_NS records for a tree {'with' if want else 'without'} a UTS namespace")
    for r in uts:
        if any(b"\0" not in r.fields[k] for k in ("nodename", "domainname")) or r.fields["_"].strip(b"\0"):
            raise ImageError(f"offset {r.offset:#x}: UTS_NS: names not NUL-terminated, or padding")
    nets = img.all("NET_NS")
    want = 1 if trees and tree_tasks(trees[0]) and tree_tasks(trees[0])[0].flags & TREE_NETNS else 0
    if len(nets) != want:
        raise ImageError(f"{len(nets)} NET_NS records for a tree {'with' if want else 'without'} a network namespace")
    for r in nets:
        f = r.fields
        if (f["flags"] & ~NETNS_FLAGS or f["lo_mtu"] != 65536 or f["_"].strip(b"\0")
                or f["nr_sysctl"] > NET_SYSCTL_MAX):
            raise ImageError(f"offset {r.offset:#x}: NET_NS: bad lo state or number of sysctls")
    sysctls = img.all("NET_SYSCTL")
    want = sum(r.fields["nr_sysctl"] for r in nets)
    if len(sysctls) != want:
        raise ImageError(f"{len(sysctls)} NET_SYSCTL records, NET_NS says {want}")
    for r in sysctls:
        f = r.fields
        n, v = f["name_len"], f["value_len"]
        if (not 0 < n < NET_SYSCTL_NAME_MAX or v >= NET_SYSCTL_VALUE_MAX or f["_"]
                or len(r.payload) != n + v or b"\0" in r.payload):
            raise ImageError(f"offset {r.offset:#x}: NET_SYSCTL: bad lengths ({n}, {v}) or a NUL")


def net_sysctls(img: Image) -> dict[str, str]:
    """The NET_SYSCTL records of an image: path under /proc/sys -> the text a read gave."""
    out = {}
    for r in img.all("NET_SYSCTL"):
        n = r.fields["name_len"]
        out[r.payload[:n].decode()] = r.payload[n:n + r.fields["value_len"]].decode()
    return out


def _check_ipc_ns(img: Image) -> None:
    """One IPC_NS iff the root's TREE entry has TREE_IPCNS, its queues (each with its messages) and sets after it,
    as restart checks them."""
    trees, nss = img.all("TREE"), img.all("IPC_NS")
    tasks = tree_tasks(trees[0]) if trees else []
    live = {t.pid for t in tasks if not t.zombie and not t.ghost}
    want = 1 if tasks and tasks[0].flags & TREE_IPCNS else 0
    if len(nss) != want:
        raise ImageError(f"{len(nss)} IPC_NS records for a tree {'with' if want else 'without'} an IPC namespace")
    msqs, msgs, sems = img.all("IPC_MSQ"), img.all("IPC_MSG"), img.all("IPC_SEM")
    if not nss:
        if msqs or msgs or sems or img.all("IPC_SEM_UNDO"):
            raise ImageError("SysV queue or semaphore records without an IPC_NS record")
        return
    n = nss[0].fields
    if (n["shm_rmid_forced"] > 1 or n["nr_msq"] > n["msgmni"] or n["semmni"] < 0
            or n["nr_sem"] > n["semmni"] or len(msqs) != n["nr_msq"] or len(sems) != n["nr_sem"]):
        raise ImageError(f"offset {nss[0].offset:#x}: IPC_NS: {n['nr_msq']} queues (msgmni {n['msgmni']}, "
                         f"{len(msqs)} IPC_MSQ), {n['nr_sem']} sets (semmni {n['semmni']}, {len(sems)} IPC_SEM)")
    if sum(q.fields["qnum"] for q in msqs) != len(msgs):
        raise ImageError(f"{len(msgs)} IPC_MSG records for {sum(q.fields['qnum'] for q in msqs)} messages")
    ids: set[tuple[str, int]] = set()
    i = 0
    for q in msqs:
        f = q.fields
        if (f["id"] < 0 or f["mode"] & ~0o777 or f["cbytes"] > f["qbytes"] or f["qnum"] > f["qbytes"]
                or ("q", f["id"]) in ids):
            raise ImageError(f"offset {q.offset:#x}: bad SysV message queue {f['id']} (mode {f['mode']:#o}, "
                             f"{f['qnum']} messages, {f['cbytes']} bytes, qbytes {f['qbytes']})")
        ids.add(("q", f["id"]))
        size = 0
        for m in msgs[i:i + f["qnum"]]:
            if m.fields["len"] != len(m.payload) or m.fields["mtype"] < 1 or m.offset < q.offset:
                raise ImageError(f"offset {m.offset:#x}: SysV message of type {m.fields['mtype']}: "
                                 f"{m.fields['len']} bytes in a record of {m.length}")
            size += m.fields["len"]
        i += f["qnum"]
        if size != f["cbytes"]:
            raise ImageError(f"offset {q.offset:#x}: SysV message queue {f['id']}: messages of {size} bytes, "
                             f"not {f['cbytes']}")
    for r in sems:
        f = r.fields
        if (f["id"] < 0 or f["mode"] & ~0o777 or not 1 <= f["nsems"] <= n["semmsl"]
                or len(r.payload) != f["nsems"] * IPC_SEM_VAL.size or ("s", f["id"]) in ids):
            raise ImageError(f"offset {r.offset:#x}: bad SysV semaphore set {f['id']} (mode {f['mode']:#o}, "
                             f"{f['nsems']} semaphores)")
        ids.add(("s", f["id"]))
        for k, (val, _pid, _otime) in enumerate(IPC_SEM_VAL.iter_unpack(r.payload)):
            if not 0 <= val <= SEMVMX:
                raise ImageError(f"offset {r.offset:#x}: SysV semaphore set {f['id']}: semaphore {k} value {val}")
    _check_sem_undos(img, sems, live)


def _check_sem_undos(img: Image, sems: list[Record], live: set[int]) -> None:
    """Each set's IPC_SEM_UNDO records right after it: as many as its nr_undo, of its number of semaphores, each of
    a live process of the tree (``live``, its pids), once per set."""
    undos = img.all("IPC_SEM_UNDO")
    if len(undos) != sum(r.fields["nr_undo"] for r in sems):
        raise ImageError(f"{len(undos)} IPC_SEM_UNDO records for {sum(r.fields['nr_undo'] for r in sems)} "
                         "adjustments of semaphore sets")
    i = 0
    for r, nxt in zip(sems, [*sems[1:], None], strict=True):
        f = r.fields
        mine = [u for u in undos[i:i + f["nr_undo"]] if u.offset > r.offset and (nxt is None or u.offset < nxt.offset)]
        if len(mine) != f["nr_undo"] or f["nr_undo"] > TREE_MAX or f["_"]:
            raise ImageError(f"offset {r.offset:#x}: SysV semaphore set {f['id']}: {f['nr_undo']} adjustments "
                             f"announced, {len(mine)} IPC_SEM_UNDO after it")
        pids: set[int] = set()
        for u in mine:
            g = u.fields
            if g["nsems"] != f["nsems"] or len(u.payload) != 2 * g["nsems"] or g["pid"] not in live or g["pid"] in pids:
                raise ImageError(f"offset {u.offset:#x}: SysV semaphore set {f['id']}: bad adjustments of pid "
                                 f"{g['pid']} ({g['nsems']} semaphores, {len(u.payload)} bytes)")
            pids.add(g["pid"])
        i += f["nr_undo"]


def _check_tree(r: Record, sections: int, tables: tuple[int, int] = (0, 0)) -> None:
    """What restart checks of the hierarchy: parents before children, unique pids, groups inside."""
    n = r.fields["nr_tasks"]
    if not 1 <= n <= TREE_MAX or len(r.payload) != n * TREE_TASK.size:
        raise ImageError(f"offset {r.offset:#x}: tree of {n} tasks in {len(r.payload)} bytes")
    tasks = tree_tasks(r)
    pids = {t.pid: i for i, t in enumerate(tasks)}
    if len(pids) != n:
        raise ImageError(f"offset {r.offset:#x}: a pid appears twice in the tree")
    for i, t in enumerate(tasks):
        bad = t.pid <= 0 or t.flags & ~TREE_FLAGS or (t.parent != -1 if i == 0 else not 0 <= t.parent < i)
        if i == 0:
            bad = bad or bool(t.flags & ~(TREE_PIDNS | TREE_NS)) or (t.flags & TREE_PIDNS and t.pid != 1)
        else:
            bad = bad or bool(t.flags & (TREE_PIDNS | TREE_NS)) or tasks[t.parent].zombie or tasks[t.parent].ghost
        if t.ghost:
            bad = bad or t.zombie or t.parent != 0 or t.pgid != t.pid
        if bad:
            raise ImageError(f"offset {r.offset:#x}: tree task {i} (pid {t.pid}): bad parent {t.parent} "
                             f"or flags {t.flags:#x}")
        if _share_bad(tasks, i, TREE_FILES, t.files_of) or _share_bad(tasks, i, TREE_FS, t.fs_of):
            raise ImageError(f"offset {r.offset:#x}: tree task {i} (pid {t.pid}): bad shared tables (flags "
                             f"{t.flags:#x}, file table of {t.files_of}, fs of {t.fs_of})")
        if (t.pgid and t.pgid not in pids) or (t.sid and t.sid not in pids) or (t.sid and not t.pgid):
            raise ImageError(f"offset {r.offset:#x}: pid {t.pid}: process group {t.pgid} or session {t.sid} "
                             "not in the tree")
    for g in (t for t in tasks if t.ghost):
        if not any(not t.ghost and g.pid in (t.pgid, t.sid) for t in tasks):
            raise ImageError(f"offset {r.offset:#x}: ghost pid {g.pid} leads no group or session of a task")
    live = sum(1 for t in tasks if not t.zombie and not t.ghost)
    if sections and live != sections:
        raise ImageError(f"offset {r.offset:#x}: {live} live tasks in the tree, {sections} task sections")
    for what, flag, have in (("FILE_TABLE", TREE_FILES, tables[0]), ("FS", TREE_FS, tables[1])):
        sharers = sum(1 for t in tasks if t.flags & flag)
        want = live - sharers
        # (the lab's own images of a few records may have no tables at all)
        if sections and (have or sharers) and have != want:
            raise ImageError(f"offset {r.offset:#x}: {have} {what} records for {want} tasks of the tree "
                             "that have their own")


def ctty_entries(rec: Record) -> list[tuple[int, int, int, int]]:
    """The (pid, pty_ref, pgrp, sid) entries of a CTTY record."""
    return [(v[0], v[1], v[2], v[3]) for v in CTTY_ENTRY.iter_unpack(rec.payload[:len(rec.payload) // 16 * 16])]


def _check_ctty(img: Image) -> None:
    """What restart checks of the controlling ttys of a tree's sessions (the CTTY record)."""
    trees, cttys = img.all("TREE"), img.all("CTTY")
    n = trees[0].fields["nr_ctty"] if trees else 0
    if len(cttys) != (1 if n else 0):
        raise ImageError(f"{len(cttys)} CTTY records for a tree with {n} controlling ttys")
    if not n:
        return
    r = cttys[0]
    if len(r.payload) != n * CTTY_ENTRY.size or n > trees[0].fields["nr_tasks"]:
        raise ImageError(f"offset {r.offset:#x}: {n} controlling ttys in {len(r.payload)} bytes")
    tasks = tree_tasks(trees[0])
    index = {t.pid: i for i, t in enumerate(tasks)}
    pairs = len({p.fields["pty_ref"] for p in img.all("PTY")})
    entries = ctty_entries(r)
    by_pid = {e[0]: e for e in entries}
    last = -1
    for pid, ref, pgrp, sid in entries:
        i = index.get(pid, -1)
        task = tasks[i] if i > last else None
        leader = by_pid.get(sid)
        group = index.get(pgrp)
        ok = (task is not None and not task.zombie and task.sid != 0 and task.sid == sid and 1 <= ref <= pairs
              and leader is not None and leader[1:3] == (ref, pgrp)
              and (not pgrp or (group is not None and tasks[group].pgid == pgrp and tasks[group].sid == sid))
              and all(e[3] == sid for e in entries if e[1] == ref))
        if not ok:
            raise ImageError(f"offset {r.offset:#x}: controlling tty of pid {pid}: bad pty {ref}, "
                             f"group {pgrp} or session {sid}")
        last = i


def tree_lines(tasks: list[TreeTask]) -> list[str]:
    """The tree drawn as ckptinfo prints it: one line per task, indented by depth."""
    depth: list[int] = []
    lines = []
    for t in tasks:
        d = 0 if t.parent < 0 else depth[t.parent] + 1
        depth.append(d)
        what = f" zombie \"{t.comm}\", exit code {t.exit_code:#x}" if t.zombie else ""
        if t.ghost:
            what = f" ghost (the dead leader of its group{' and session' if t.sid == t.pid else ''})"
        if t.flags & TREE_PIDNS:
            what = " init of a pid namespace (pids as seen in it)"
        shared = ([f"file table of task {t.files_of} (CLONE_FILES)"] if t.flags & TREE_FILES else []) + \
            ([f"fs_struct of task {t.fs_of} (CLONE_FS)"] if t.flags & TREE_FS else [])
        if shared:
            what += " " + ", ".join(shared)
        lines.append(f"{'  ' * d}pid {t.pid} pgid {t.pgid or 'root'} sid {t.sid or 'root'} "
                     f"exit_signal {t.exit_signal}{what}")
    return lines


def _check_threads(img: Image) -> None:
    """Each task section (TASK ... MM; a tree has one per live task): a sane THREADS count, as many
    THREAD_TASKs after it, each a thread of that section's TASK."""
    leader = 0
    seen: set[int] = set()
    counts: list[tuple[Record, int]] = []  # THREADS record, THREAD_TASKs seen after it
    for r in img.records:
        if r.name == "TASK":
            leader = r.fields["pid"]
            seen = set()
        elif r.name == "THREADS":
            n = r.fields["nr_threads"]
            if not 1 <= n <= THREADS_MAX or r.fields["_"]:
                raise ImageError(f"offset {r.offset:#x}: {n} threads (1..{THREADS_MAX})")
            counts.append((r, 0))
        elif r.name == "THREAD_TASK":
            tid, tgid = r.fields["tid"], r.fields["tgid"]
            if tid <= 0 or tid == leader or tid in seen:
                raise ImageError(f"offset {r.offset:#x}: thread with bad or repeated tid {tid}")
            if tgid != leader:
                raise ImageError(f"offset {r.offset:#x}: thread {tid} of process {tgid}, whose leader {leader} "
                                 "is the image's: its leader is absent")
            seen.add(tid)
            if counts:
                counts[-1] = (counts[-1][0], counts[-1][1] + 1)
    for r, others in counts:
        n = r.fields["nr_threads"]
        if others != n - 1 and img.error is None:
            raise ImageError(f"offset {r.offset:#x}: {n} threads, but {others} THREAD_TASK records "
                             "after the leader")


def _entry_offset(rname: str, spec: str) -> tuple[int, str]:
    """``timers[N].FIELD`` of a POSIX_TIMERS record, or ``tasks[N].FIELD`` of a TREE record: the offset
    and code of that field of entry N."""
    m = re.fullmatch(r"tasks\[(\d+)\]\.(\w+)", spec)
    if rname == "TREE" and m and m.group(2) in TREE_TASK_FIELDS:
        k = TREE_TASK_FIELDS.index(m.group(2))
        codes = TREE_TASK.format.lstrip("<")
        return HDR.size + 8 + TREE_TASK.size * int(m.group(1)) + struct.calcsize("<" + codes[:k]), codes[k]
    m = re.fullmatch(r"sems\[(\d+)\]\.(\w+)", spec)
    if rname == "IPC_SEM" and m and m.group(2) in IPC_SEM_VAL_FIELDS:
        k = IPC_SEM_VAL_FIELDS.index(m.group(2))
        codes = IPC_SEM_VAL.format.lstrip("<")
        fixed = struct.calcsize(RECORDS[NAMES["IPC_SEM"]][1])
        return HDR.size + fixed + IPC_SEM_VAL.size * int(m.group(1)) + struct.calcsize("<" + codes[:k]), codes[k]
    m = re.fullmatch(r"timers\[(\d+)\]\.(\w+)", spec)
    if rname != "POSIX_TIMERS" or not m or m.group(2) not in PTIMER_FIELDS:
        raise ImageError(f"bad field {rname}.{spec!r}: only POSIX_TIMERS.timers[N].FIELD and "
                         "TREE.tasks[N].FIELD (and IPC_SEM.sems[N].FIELD) have entries")
    k = PTIMER_FIELDS.index(m.group(2))
    codes = PTIMER.format.lstrip("<")
    off = HDR.size + 8 + PTIMER.size * int(m.group(1)) + struct.calcsize("<" + codes[:k])
    return off, codes[k]


def field_offset(rtype: int, name: str) -> tuple[int, str]:
    """Offset (from the record's start, header included) and struct code of field ``name`` of a record type."""
    _, fmt, names = RECORDS[rtype]
    offset, k = HDR.size, 0
    for count_text, code in re.findall(r"(\d*)([a-zA-Z?])", fmt.lstrip("<")):
        count = int(count_text or 1)
        if code == "x":
            offset += count
            continue
        for _ in range(1 if code == "s" else count):
            one = f"{count}s" if code == "s" else code
            if names[k] == name:
                return offset, one
            offset += struct.calcsize("<" + one)
            k += 1
    raise ImageError(f"record {RECORDS[rtype][0]} has no field {name!r}")


def tamper(data: bytes, *, release: str | None = None, arch: int | None = None,
           umask: int | None = None, dumpable: int | None = None,
           fields: dict[str, int | str] | None = None,
           sysctls: dict[str, dict[str, str]] | None = None) -> bytes:
    """A copy of a good image claiming another kernel release or architecture (or, with ``umask``,
    another umask in the FS record; with ``dumpable``, another dumpable in the TASK record),
    checksum fixed up.

    Used to prove that restart refuses images from another kernel or architecture for the
    right reason (not because the checksum broke), and that restore verification notices a
    record that says something else than the task had. ``fields`` sets any integer field of the
    first record of a type: ``{"SOCKET.family": 99, "SOCKET_QUEUE.bytes": 1 << 40}``
    (``RECORD.field``, or ``RECORD#N.field`` for the N-th record of that type, from 0); a string
    field takes a str, NUL-padded to its size (``{"SOCKET_TCPOPT.congestion": "vegas"}``).
    ``sysctls`` rewrites the NET_SYSCTL record of a sysctl with another name and/or value, of any
    length (the record's lengths follow): ``{"net/core/somaxconn": {"value": "abc\\n"}}``.
    """
    img = parse(data)
    out = bytearray(data)
    for spec, value in (fields or {}).items():
        rname, _, fname = spec.partition(".")
        rname, _, index = rname.partition("#")
        if rname not in NAMES or not fname:
            raise ImageError(f"bad field {spec!r}: RECORD.field or RECORD#N.field")
        recs = img.all(rname)
        if len(recs) <= int(index or 0):
            raise ImageError(f"no record {rname}#{int(index or 0)} to rewrite {fname} of")
        off, code = _entry_offset(rname, fname) if "[" in fname else field_offset(NAMES[rname], fname)
        if code.endswith("s") != isinstance(value, str):
            raise ImageError(f"field {spec!r} is {'a string' if code.endswith('s') else 'an integer'}")
        if isinstance(value, str):
            raw = value.encode()
            if len(raw) > struct.calcsize(code):
                raise ImageError(f"field {spec!r}: {value!r} is longer than {struct.calcsize(code)} bytes")
            struct.pack_into("<" + code, out, recs[int(index or 0)].offset + off, raw)
            continue
        bits = 8 * struct.calcsize(code)
        struct.pack_into("<" + code.upper(), out, recs[int(index or 0)].offset + off, value & ((1 << bits) - 1))
    if umask is not None:
        fs = img.all("FS")
        if not fs:
            raise ImageError("no FS record to rewrite the umask of")
        struct.pack_into("<I", out, fs[0].offset + HDR.size, umask)
    if dumpable is not None:
        task = img.all("TASK")
        if not task or "dumpable" not in task[0].fields:
            raise ImageError("no TASK record (format version 3) to rewrite the dumpable of")
        struct.pack_into("<I", out, task[0].offset + HDR.size + struct.calcsize(RECORDS[NAMES["TASK"]][1]) - 4,
                         dumpable)
    if arch is not None:
        struct.pack_into("<H", out, img.header.offset + HDR.size + 8, arch)
    if release is not None:
        rec = img.records[1]
        room = rec.length - HDR.size
        raw = release.encode() + b"\0"
        if len(raw) > room:
            raise ImageError(f"release {release!r} does not fit the {room}-byte string record")
        out[rec.offset + HDR.size:rec.offset + rec.length] = raw.ljust(room, b"\0")
    tail = img.all("TAIL")
    tail_at = tail[0].offset if tail else 0
    for name, new in sorted((sysctls or {}).items(), key=lambda kv: -_sysctl_record(img, kv[0]).offset):
        r = _sysctl_record(img, name)
        n = r.fields["name_len"]
        raw_name = new.get("name", name).encode()
        raw_value = new.get("value", r.payload[n:].decode()).encode()
        body = struct.pack("<HHI", len(raw_name), len(raw_value), 0) + raw_name + raw_value
        raw = HDR.pack(r.type, HDR.size + len(body)) + body
        raw += b"\0" * (-len(raw) % 8)
        old = r.length + (-r.length % 8)
        out[r.offset:r.offset + old] = raw
        tail_at += len(raw) - old
    if tail:
        s, s2 = checksum(bytes(out[:tail_at]), img.header.fields["rev"])
        struct.pack_into("<QQ", out, tail_at + HDR.size + 8, s, s2)
    return bytes(out)


def _sysctl_record(img: Image, name: str) -> Record:
    for r in img.all("NET_SYSCTL"):
        if r.payload[:r.fields["name_len"]].decode(errors="replace") == name:
            return r
    raise ImageError(f"no NET_SYSCTL record of {name!r} to rewrite")


def read(path: Path) -> Image:
    """An image, or the records of an ET_CKPT file (``lab.etckpt``)."""
    from . import etckpt

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc.strerror}") from exc
    if etckpt.is_elf(data):
        return etckpt.parse(data).image
    return parse(data)


def main(path: Path) -> int:
    from . import etckpt

    try:
        img = read(path)
        if etckpt.is_elf(path.read_bytes()[:4]):
            print("\n".join(etckpt.describe(etckpt.parse(path.read_bytes()))))
    except ImageError as exc:
        print(f"lab ckptinfo: {path}: {exc}", file=sys.stderr)
        return 1
    for rec in img.records:
        print(rec.describe())
        if rec.name == "TREE":
            for line in tree_lines(tree_tasks(rec)):
                print(f"  {line}")
        if rec.name == "CTTY":
            for pid, ref, pgrp, sid in ctty_entries(rec):
                print(f"  pid {pid} controlling tty: pty {ref}, session {sid}, foreground group {pgrp}")
    s = img.summary()
    print(" ".join(f"{k}={v}" for k, v in s.items()))
    if img.error is not None:
        print(f"lab ckptinfo: {path}: checkpoint failed: {img.error}", file=sys.stderr)
        return 1
    return 0
