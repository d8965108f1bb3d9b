"""Restore verification in the guest: ``procsnap`` snapshots and restored tasks held by ``restart -H``.

``restart -H FILE`` forks a traced child that calls restart(2); at the exit of a successful restart
the holder writes the restored pid to FILE and keeps the task stopped until it gets SIGUSR1. So the
lab can snapshot the restored task before it runs a single instruction of its own (``lab.verify``
compares that with the snapshot of the frozen source).
"""

from __future__ import annotations

import shlex

from . import verify
from .machine import Machine

# the descendants of $1, depth first (/proc/PID/task/TID/children: CONFIG_PROC_CHILDREN, which
# CONFIG_CHECKPOINT_RESTORE selects)
DESCENDANTS_SH = "desc() { for c in $(cat /proc/$1/task/*/children 2>/dev/null); do echo $c; desc $c; done; }"
MARK = "=== procsnap "


def snapshot(m: Machine, pid: str, timeout: float = 60.0) -> verify.Snapshot:
    """``procsnap`` of task ``pid`` and of all its descendants on guest ``m``, as one snapshot
    (:func:`lab.verify.tree`; a task without children is its own snapshot)."""
    script = (f"{DESCENDANTS_SH}; for p in {pid} $(desc {pid}); do echo '{MARK}'$p; procsnap $p || "
              f"{{ echo \"procsnap $p failed\" >&2; exit 1; }}; done")
    res = m.ssh.run(script, timeout)
    if not res.ok:
        raise RuntimeError(f"procsnap {pid} on {m.cfg.name} failed: {res.stdout[-2000:]}{res.stderr}")
    snaps: dict[str, verify.Snapshot] = {}
    for chunk in res.stdout.split(MARK)[1:]:
        task, _, text = chunk.partition("\n")
        snaps[task.strip()] = verify.parse(text)
    return verify.tree(snaps, pid)


def start_restart(m: Machine, image: str, *, log: str, held: str = "", cwd: str = "/",
                  err: str = "/dev/null", same_pid: bool = False, exec_elf: bool = False,
                  pid: str = "", pidns: bool = False, ghosts: bool = False) -> str:
    """Start ``restart`` reading ``image`` in the background in its own session; return its pid.

    With ``held`` (a guest path) the restored task is held (``restart -H``): the pid returned is then
    the holder's, and the restored pid appears in ``held`` (see :func:`wait_held`). With ``same_pid``
    the restored task gets the image's pid (``restart -p``, or ``-p PID`` with ``pid``: needed when
    ``image`` is a stream, e.g. a fifo). With ``exec_elf`` ``image`` is an ET_CKPT
    file, restored by execve() (``restart -x``). With ``pidns`` the restored root is the init of a
    new pid namespace, a child of the tool (``restart -N``: see :func:`wait_child`); with ``ghosts``
    the dead leaders of its groups and sessions are recreated (``restart -G``, RESTART_GHOST).
    """
    opt = (f"-H {shlex.quote(held)} " if held else "") + (f"-p {pid} ".replace("  ", " ") if same_pid else "")
    opt += ("-N " if pidns else "") + ("-G " if ghosts else "")
    rm = f"rm -f {shlex.quote(held)}; " if held else ""
    cmd = (f"cd {shlex.quote(cwd)} && exec restart {opt}{'-x' if exec_elf else '-i'} {shlex.quote(image)} "
           f"-l {shlex.quote(log)}")
    res = m.ssh.run(f"{rm}setsid sh -c {shlex.quote(cmd)} </dev/null >/dev/null 2>{shlex.quote(err)} & echo $!",
                    20)
    pid = res.stdout.strip()
    if not res.ok or not pid.isdigit():
        raise RuntimeError(f"cannot start restart on {m.cfg.name}: {res.stdout}{res.stderr}")
    return pid


def deadline_sh(seconds: float) -> tuple[str, str]:
    """Guest shell snippets: one that starts a deadline ``seconds`` from now, and a condition true
    once it has passed. The clock is the guest's uptime: a loop of short sleeps runs slow under TCG."""
    return (f"read t _ </proc/uptime; end=$((${{t%.*}} + {int(seconds) + 1}))",
            "{ read t _ </proc/uptime; [ ${t%.*} -ge $end ]; }")


def wait_child(m: Machine, parent: str, timeout: float) -> str:
    """The pid of ``parent``'s first child once it has one, or "" if ``parent`` is gone first or
    ``timeout`` passed."""
    start, expired = deadline_sh(timeout)
    kids = f"/proc/{parent}/task/{parent}/children"
    poll = (f"{start}; while [ -z \"$(cat {kids} 2>/dev/null)\" ] && kill -0 {parent} 2>/dev/null && ! {expired}; "
            f"do usleep 5000; done; set -- $(cat {kids} 2>/dev/null); echo ${{1:-GONE}}")
    pid = m.ssh.run(poll, timeout + 30).stdout.strip()
    return pid if pid.isdigit() else ""


def wait_held(m: Machine, holder: str, held: str, timeout: float) -> str:
    """The restored pid once the holder wrote it, or "" if the holder is gone (restart failed) or
    ``timeout`` passed."""
    q = shlex.quote(held)
    start, expired = deadline_sh(timeout)
    poll = (f"{start}; while [ ! -s {q} ] && kill -0 {holder} 2>/dev/null && ! {expired}; do usleep 5000; done; "
            f"cat {q} 2>/dev/null || echo GONE")
    pid = m.ssh.run(poll, timeout + 30).stdout.strip()
    return pid if pid.isdigit() else ""


def release(m: Machine, holder: str) -> None:
    """Let the held task run: SIGUSR1 to its holder, which detaches and exits."""
    m.ssh.run(f"kill -USR1 {holder}; while kill -0 {holder} 2>/dev/null; do usleep 5000; done", 30, check=True)
