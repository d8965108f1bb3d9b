"""Restore verification: what /proc shows of a task before checkpoint and after restart, and the diff.

The guest tool ``procsnap PID`` prints one ``key<TAB>value`` line per observable item (status, stat,
limits, cwd/root/exe, cmdline, environ, auxv, timers, namespaces, threads, every fd with its fdinfo,
the merged mappings with their VmFlags and a checksum of their contents). The lab takes one snapshot
of the frozen source before checkpoint and one of the restored task before it runs an instruction
(``restart -H`` holds it at the exit of restart(2)), and fails the step on any difference that is not
in ``LEGITIMATE`` below: the one place where a field may differ, each with its reason.

``KNOWN_GAPS`` is the other list: state that the kernel loses today, each with the issue that fixes
it. A known gap does not fail a step but is reported with every result (``known_gaps=...`` in the
summary), so the list is visible and must shrink; a gap that is fixed shows up as missing there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

Snapshot = dict[str, str]
# a task's own field in the two snapshots: key -> (before, after), None where absent
Lookup = Callable[[str], tuple[str | None, str | None]]

# Values that are the task's own pid are compared as "self": a restart without a pid namespace
# gives the task a new pid, and what matters is the relation (a session leader stays one).
PID_RELATIVE = ("stat.pgrp", "stat.session", "stat.tpgid", "status.NSpgid", "status.NSsid")


def _always(before: str | None, after: str | None) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """Keys (a regular expression, matched whole) that may differ, and why.

    ``when`` narrows a rule to some differences of those keys (``before``, ``after``; None where absent).
    ``given`` narrows it by other fields of the same task: it gets a lookup of the task's own keys in
    the two snapshots (``given(lambda k: (before[task/k], after[task/k]))``).
    """

    pattern: str
    reason: str
    issue: int = 0  # for a known gap: the issue that fixes it
    when: Callable[[str | None, str | None], bool] = field(default=_always, compare=False)
    given: Callable[[Lookup], bool] | None = field(default=None, compare=False)

    def matches(self, key: str, before: str | None = "", after: str | None = "",
                snaps: tuple[Mapping[str, str], Mapping[str, str]] | None = None) -> bool:
        """``key`` may carry a tree position or a thread (``tree.0.1/stat.nice``, ``thread.1/status.State``):
        the rule sees the task's key. A key present on one side only (a lost thread, mapping or
        descriptor) is a difference in what exists, which a rule covers only through its ``when``.
        A rule with ``given`` needs ``snaps`` (the two snapshots) and never matches without them."""
        if (before is None) != (after is None) and self.when is _always:
            return False
        task, _, own = key.rpartition("/")
        if re.fullmatch(self.pattern, own) is None or not self.when(before, after):
            return False
        if self.given is None:
            return True
        if snaps is None:
            return False
        prefix = task + "/" if task else ""
        return self.given(lambda k: (snaps[0].get(prefix + k), snaps[1].get(prefix + k)))


def vmflags_parts(value: str, without: frozenset[str] = frozenset()) -> list[tuple[int | None, frozenset[str]]]:
    """A procsnap ``.vmflags`` value as (size, flags) parts, ``without`` those flags, equal neighbours
    joined. ``"rd mr"`` -> [(None, {rd, mr})] (the whole range); ``"3000:rd|1000:rd ac"`` -> two parts.
    """
    parts: list[tuple[int | None, frozenset[str]]] = []
    for piece in value.split("|"):
        size_text, sep, flags = piece.partition(":")
        size = int(size_text, 16) if sep else None
        fl = frozenset((flags if sep else piece).split()) - without
        if parts and parts[-1][1] == fl:
            prev = parts[-1][0]
            parts[-1] = (None if prev is None or size is None else prev + size, fl)
        else:
            parts.append((size, fl))
    if len(parts) == 1:
        parts = [(None, parts[0][1])]
    return parts


def only_flags_differ(*flags: str) -> Callable[[str | None, str | None], bool]:
    """VmFlags values that are equal once ``flags`` are taken out of every part."""
    drop = frozenset(flags)

    def check(before: str | None, after: str | None) -> bool:
        if before is None or after is None:
            return False
        return vmflags_parts(before, drop) == vmflags_parts(after, drop)
    return check


def both_in(values: frozenset[str]) -> Callable[[str | None, str | None], bool]:
    """Differences where both values are among ``values`` (e.g. what the CPU, not the task, decides)."""
    def check(before: str | None, after: str | None) -> bool:
        return before in values and after in values
    return check


# /proc/PID/status speculation lines that the CPU and the boot decide, not the task (a task's own
# prctl choice shows as "thread ..." or "conditional ..." and must survive)
CPU_SSB = frozenset({"not vulnerable", "vulnerable", "globally mitigated", "unknown"})
CPU_IB = frozenset({"unsupported", "not affected", "always enabled", "always disabled", "unknown"})


# a /proc/PID/fdinfo "lock:" line: "ID: KIND ADVISORY TYPE PID MAJ:MIN:INO START END"
_LOCK_PID = re.compile(r"^(\d+:\s+\S+\s+\S+\s+\S+\s+)-?\d+(?=\s)")


def lock_lines_equal_but_pid(before: str | None, after: str | None) -> bool:
    """Two fdinfo lock lines that differ only in the holder's pid."""
    if before is None or after is None:
        return False
    return _LOCK_PID.sub(r"\1PID", before) == _LOCK_PID.sub(r"\1PID", after)


# an epoll fdinfo target line: "5 events: 19 data: 1  pos:0 ino:1a2b sdev:c"
_TFD_INO = re.compile(r"ino:[0-9a-f]+")

_MADE_ANEW = re.compile(r"(pipe|socket):\[\d+\]")


def same_kind_made_anew(before: str | None, after: str | None) -> bool:
    """Two fd links ``pipe:[N]`` (or both ``socket:[N]``): the same kind of inode, another number."""
    b, a = _MADE_ANEW.fullmatch(before or ""), _MADE_ANEW.fullmatch(after or "")
    return b is not None and a is not None and b.group(1) == a.group(1)


def only_signals_added(*signals: int) -> Callable[[str | None, str | None], bool]:
    """Pending-signal masks (hex, as /proc shows them) where the second has only ``signals`` more."""
    allowed = sum(1 << (s - 1) for s in signals)

    def check(before: str | None, after: str | None) -> bool:
        try:
            b, a = int(before or "", 16), int(after or "", 16)
        except ValueError:
            return False
        added = a & ~b
        return not b & ~a and bool(added) and not added & ~allowed
    return check


# SIGALRM, SIGVTALRM, SIGPROF: what the interval timers send
ITIMER_SIGNALS = (14, 26, 27)

LEGITIMATE: tuple[Rule, ...] = (
    Rule(r"status\.(Pid|Tgid|NStgid|NSpid)", "pid numbers: restart gives the task a new pid (no pid namespace)"),
    Rule(r"status\.PPid|stat\.ppid", "the restored task is a child of the restart tool (trees restore parents)"),
    Rule(r"status\.State|stat\.state", "the source is frozen (cgroup freezer), the target held by ptrace"),
    Rule(r"status\.TracerPid", "the lab holds the restored task with ptrace while it takes the snapshot"),
    Rule(r"status\.SigQ", "queued signals of the user across the whole guest, and that user's limit"),
    Rule(r"status\.(VmPeak|VmHWM|VmRSS|RssAnon|RssFile|RssShmem|VmPTE)|stat\.rss",
         "residency and high-water marks: history of the mm, not state; pages come back as they are read"),
    Rule(r"status\.(voluntary|nonvoluntary)_ctxt_switches", "context switch counters of this incarnation"),
    Rule(r"stat\.(minflt|cminflt|majflt|cmajflt|utime|stime|cutime|cstime|guest_time|cguest_time"
         r"|delayacct_blkio_ticks|nswap|cnswap)", "usage counters of this incarnation"),
    Rule(r"stat\.starttime", "the restored task started at restart"),
    Rule(r"stat\.processor", "the CPU it last ran on"),
    Rule(r"stat\.(kstkesp|kstkeip|wchan)", "kernel stack state (shown as 0 to others, and it sleeps elsewhere)"),
    Rule(r"stat\.flags", "PF_* flags of the kernel task (PF_FORKNOEXEC: the restart tool forked it)"),
    Rule(r"map\..*\.vmflags", "sd (VM_SOFTDIRTY) is a tracker's mark, not the task's state: a mapping made by a "
         "restore is soft-dirty until a tracker clears it", when=only_flags_differ("sd")),
    Rule(r"syscall", "where each is stopped: the source in the freezer (inside a system call, or on its way "
         "out of one), the restored task at the exit of restart(2); the restored task resumes the call"),
    Rule(r"stat\.exit_code", "the wait status while the lab holds the task (CRIU's holds it with SIGSTOP)"),
    Rule(r"status\.(ShdPnd|SigPnd)", "an interval timer, armed again at restart with the time it had left, fired "
         "while the lab held the restored task for its snapshot", when=only_signals_added(*ITIMER_SIGNALS)),
    Rule(r"status\.FDSize", "capacity of the fd table: it grows with the highest fd ever open, never shrinks"),
    Rule(r"fdinfo\.\d+\.ino", "files are reopened by path: inode numbers are the target filesystem's"),
    Rule(r"fd\.\d+", "a pipe or a socket is made anew by restart: its inode number (in the link pipe:[N], "
         "socket:[N]) is the new one's", when=same_kind_made_anew),
    Rule(r"fd\.\d+", "an O_TMPFILE file is made anew by restart: its dentry is named after its new inode number",
         when=lambda before, after: all(re.fullmatch(r"/.*/#\d+ \(deleted\)", v or "") for v in (before, after))
         and re.sub(r"#\d+", "#", before or "") == re.sub(r"#\d+", "#", after or "")),
    Rule(r"fdinfo\.\d+\.eventfd-id", "an eventfd is made anew by restart: its id (an ida number) is the new one's"),
    Rule(r"fdinfo\.\d+\.it_value", "a timerfd counts down: the time it has left when each snapshot is taken",
         when=lambda before, after: all(re.fullmatch(r"\(\d+, \d+\)", v or "") for v in (before, after))),
    Rule(r"fdinfo\.\d+\.tfd(\.\d+)?", "an epoll target made anew by restart (a pipe, a socket) has a new inode "
         "number", when=lambda before, after: _TFD_INO.sub("ino:", before or "") == _TFD_INO.sub("ino:", after or "")),
    Rule(r"fdinfo\.\d+\.lock(\.\d+)?", "a lock of the task shows the task's pid: restart gives it a new pid "
         "(fdinfo shows only the task's own locks)", when=lock_lines_equal_but_pid),
    Rule(r"map\..*\.file", "mapped files are reopened by path: device and inode are the target's"),
    Rule(r"status\.Speculation_Store_Bypass", "the CPU's own SSB state: restart on another CPU model",
         when=both_in(CPU_SSB)),
    Rule(r"status\.SpeculationIndirectBranch", "the CPU's own indirect branch state: restart on another CPU model",
         when=both_in(CPU_IB)),
)


KNOWN_GAPS: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Difference:
    key: str
    before: str | None  # None: the key is absent on that side
    after: str | None

    def __str__(self) -> str:
        def show(v: str | None) -> str:
            if v is None:
                return "(absent)"
            return repr(v if len(v) <= 120 else v[:117] + "...")
        return f"{self.key}: {show(self.before)} -> {show(self.after)}"


def parse(text: str) -> Snapshot:
    """``procsnap`` output -> {key: value}; a line without a tab is an error."""
    snap: Snapshot = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        key, sep, value = line.partition("\t")
        if not sep or not key:
            raise ValueError(f"procsnap line {n} is not key<TAB>value: {line[:80]!r}")
        snap[key] = value.rstrip(" ")
    if "status.Pid" not in snap and "tree.tasks" not in snap:
        raise ValueError("procsnap output has no status.Pid (nor tree.tasks): not a snapshot")
    return snap


def dump(snap: Mapping[str, str]) -> str:
    """A snapshot as procsnap printed it (``parse(dump(s)) == s``), for the artifacts."""
    return "".join(f"{k}\t{v}\n" for k, v in snap.items())


def normalize(snap: Mapping[str, str]) -> Snapshot:
    """Pid-relative fields as "self" where they name the task itself."""
    out = dict(snap)
    pid = snap.get("status.Pid", "")
    for key in PID_RELATIVE:
        if key in out and out[key] == pid:
            out[key] = "self"
    if pid and "proc.timers" in out:
        # "notify: signal/pid.N" (or tid.N): the process or thread a POSIX timer signals
        out["proc.timers"] = re.sub(rf"(notify: \w+/[pt]id\.){pid}\b", r"\1self", out["proc.timers"])
    return out


# Fields whose value is a pid, compared in a tree as the position of that task in the tree.
TREE_PIDS = ("status.Pid", "status.Tgid", "status.PPid", "status.NStgid", "status.NSpid", "status.NSpgid",
             "status.NSsid", "stat.ppid", "stat.pgrp", "stat.session", "stat.tpgid")


def tree(snaps: Mapping[str, Snapshot], root: str) -> Snapshot:
    """The snapshots of a process tree (pid -> snapshot; ``root`` and its descendants) as one snapshot.

    Each task's keys are prefixed with its position: ``tree.0`` is the root, ``tree.0.1`` its second
    child (children in pid order, which is fork order within a restore that keeps it). Pid-valued
    fields become positions (``tree.0.1``) for tasks of the tree and ``outside`` for the others, so a
    restore is held to the relations — parent, process group, session — and not to pid numbers
    (a difference in them is never legitimate: :func:`compare`). The pids of a task in the pid
    namespaces below procsnap's (the NS* fields' further values: a checkpointed pid namespace)
    stay numbers: a restore of the namespace keeps them.
    ``tree.tasks`` and each task's ``children`` count make a lost or extra task a difference. A
    single task (no descendants) is its own snapshot, unprefixed.
    """
    if root not in snaps:
        raise ValueError(f"no snapshot of the tree's root {root}")
    children: dict[str, list[str]] = {pid: [] for pid in snaps}
    for pid, snap in snaps.items():
        parent = snap.get("status.PPid", "")
        if pid != root and parent in children:
            children[parent].append(pid)
    if len(snaps) == 1:
        return _own_namespaces(dict(snaps[root]), [""])
    position = {root: "tree.0"}
    order = [root]
    for pid in order:
        for i, child in enumerate(sorted(children[pid], key=int)):
            position[child] = f"{position[pid]}.{i}"
            order.append(child)
    if stray := sorted(set(snaps) - set(position), key=int):
        raise ValueError(f"tasks {', '.join(stray)} are not descendants of {root}")
    out: Snapshot = {"tree.tasks": str(len(order))}
    for pid in order:
        pos = position[pid]
        out[f"{pos}/children"] = str(len(children[pid]))
        for key, value in snaps[pid].items():
            if key in TREE_PIDS and (pids := value.split()):
                # the first pid is the one procsnap's namespace sees; the NS* fields go on with the
                # task's pids in the pid namespaces below it, which a namespace's restore keeps exactly
                value = " ".join([position.get(pids[0], "outside"), *pids[1:]])
            out[f"{pos}/{key}"] = value
    return _own_namespaces(out, [f"{position[pid]}/" for pid in order])


def _own_namespaces(snap: Snapshot, prefixes: list[str]) -> Snapshot:
    """Namespaces other than the snapshotter's (procsnap prints its own as "snapshotter's") as
    ``own.K``, K numbering them by first appearance in ``prefixes`` order (the tree's): a restore
    makes new ones, whose inode numbers say nothing; what matters is which tasks share one."""
    names: dict[str, str] = {}
    for prefix in prefixes:
        for key in [k for k in snap if k.startswith(f"{prefix}ns.")]:
            value = snap[key]
            if ":[" in value:
                kind = value.partition(":")[0]
                label = names.setdefault(value, f"own.{sum(1 for v in names if v.startswith(kind + ':'))}")
                snap[key] = label
    return snap


def first_rule(d: Difference, rules: Iterable[Rule],
               snaps: tuple[Mapping[str, str], Mapping[str, str]] | None = None) -> Rule | None:
    return next((r for r in rules if r.matches(d.key, d.before, d.after, snaps)), None)


def unreadable(snap: Mapping[str, str]) -> list[str]:
    """Items procsnap could not read, as "key: why"; a verification that cannot look must not pass.

    Not counted: files this kernel does not have (ENOENT: e.g. no /proc/PID/timers without
    CONFIG_CHECKPOINT_RESTORE; both sides must agree, which the diff checks), and the contents of
    VM_IO/VM_PFNMAP mappings ([vvar]), which /proc/PID/mem never reads.
    """
    out = []
    for key, value in snap.items():
        if value.startswith("<error: ") and value != "<error: No such file or directory>":
            out.append(f"{key}: {value[8:-1]}")
        elif key.endswith(".sum") and value.startswith("unreadable"):
            flags = snap.get(key[:-4] + ".vmflags", "").split()
            if "io" not in flags and "pf" not in flags:
                out.append(f"{key}: {value}")
    return out


@dataclass
class Verdict:
    """The differences between two snapshots, sorted by what explains them."""

    unexpected: list[Difference] = field(default_factory=list)  # these fail the step
    known: list[tuple[Difference, Rule]] = field(default_factory=list)  # KNOWN_GAPS
    legitimate: list[tuple[Difference, Rule]] = field(default_factory=list)  # LEGITIMATE
    unreadable: list[str] = field(default_factory=list)  # "before|after key: why": these fail too

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.unreadable

    def problems(self) -> str:
        """What fails the verification, readable."""
        lines = [f"cannot read {u}" for u in self.unreadable]
        if self.unexpected:
            lines.append(f"{len(self.unexpected)} field(s) of the restored task differ from the checkpointed "
                         f"one (before -> after):")
            lines.append(report(self.unexpected))
        return "\n".join(lines)

    def gap_summary(self) -> str:
        """``proc.cwd(#10),proc.auxv(#10)``: the known gaps seen, one per rule."""
        seen: dict[str, str] = {}
        for d, r in self.known:
            seen.setdefault(r.pattern, f"{d.key}(#{r.issue})" if r.issue else f"{d.key}(known)")
        return ",".join(seen.values())


def compare(before: Mapping[str, str], after: Mapping[str, str], *,
            legit: Iterable[Rule] = LEGITIMATE, gaps: Iterable[Rule] = KNOWN_GAPS) -> Verdict:
    """Every key whose value differs (or exists on one side only), each explained or not."""
    legit, gaps = tuple(legit), tuple(gaps)
    a, b = normalize(before), normalize(after)
    verdict = Verdict(unreadable=[f"{side} {u}" for side, snap in (("before", before), ("after", after))
                                  for u in unreadable(snap)])
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        d = Difference(key, a.get(key), b.get(key))
        if "/" in key and key.rpartition("/")[2] in TREE_PIDS:
            verdict.unexpected.append(d)  # a relation within a tree (see tree())
        elif (rule := first_rule(d, legit, (a, b))) is not None:
            verdict.legitimate.append((d, rule))
        elif (rule := first_rule(d, gaps, (a, b))) is not None:
            verdict.known.append((d, rule))
        else:
            verdict.unexpected.append(d)
    return verdict


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> list[Difference]:
    """The differences that no rule explains."""
    return compare(before, after).unexpected


def report(diffs: list[Difference], limit: int = 40) -> str:
    """A readable list of differences, most telling first (fewest per section)."""
    lines = [str(d) for d in diffs[:limit]]
    if len(diffs) > limit:
        lines.append(f"... and {len(diffs) - limit} more")
    return "\n".join(lines)
