"""C/R engines: our kernel's checkpoint/restart and CRIU, behind one interface.

A scenario says ``engine: kernel | criu | both | etckpt``; its ``checkpoint`` and ``restart`` steps go to
the engine, and restore verification compares the same snapshots whichever engine restored the
task. Each engine lists what it is known to restore differently (``differences``: reported, not
failed), so ``both`` shows a kernel developer where the two differ.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Protocol

from .. import verify
from ..machine import Machine
from ..ssh import Result


@dataclass
class Restarting:
    """A restart under way: ``holder`` (our engine's restart -H) and, once known, the restored pid."""

    holder: str = ""
    pid: str = ""


class Engine(Protocol):
    name: str
    kernel_fragments: tuple[str, ...]  # what the guest kernel needs for this engine
    packages: tuple[str, ...]  # what the guest needs (Debian packages)
    differences: tuple[verify.Rule, ...]  # known differences of its restores, each with the reason

    def checkpoint_command(self, pid: str, image: str, log: str, cgroup_dir: str, *, pidns: bool = False) -> str:
        """The guest shell command that checkpoints frozen task ``pid`` (frozen in ``cgroup_dir``)
        into ``image``; the task stays frozen. With ``pidns``, ``pid`` is the init of a pid namespace
        that is checkpointed whole (its pids as seen in it)."""
        ...

    def start_restart(self, m: Machine, image: str, log: str, cwd: str, hold: bool, pid: str,
                      timeout: float, *, same_pid: bool = False, pidns: bool = False,
                      ghosts: bool = False) -> Restarting:
        """Restart ``image`` (of task ``pid``) in the background; with ``hold``, stopped before it runs;
        with ``same_pid``, with the image's pid (an engine that always restores pids ignores it); with
        ``pidns``, as the init of a new pid namespace (an image made with ``pidns``); with ``ghosts``,
        recreating the dead leaders of its groups and sessions as placeholders."""
        ...

    def wait_restored(self, m: Machine, r: Restarting, timeout: float) -> str:
        """The restored pid once it is there (held, with ``hold``), or "" if the restart failed."""
        ...

    def release(self, m: Machine, r: Restarting) -> None:
        """Let a held task run."""
        ...


def checkpoint(engine: Engine, m: Machine, pid: str, image: str, log: str, cgroup_dir: str,
               timeout: float, *, pidns: bool = False) -> Result:
    """Run ``engine``'s :meth:`Engine.checkpoint_command` on ``m``."""
    return m.ssh.run(engine.checkpoint_command(pid, image, log, cgroup_dir, pidns=pidns), timeout)


def pid_in_use(pid: str) -> str:
    """A guest shell test: true while some task has ``pid`` as its pid, process group or session."""
    awk = f'{{ p = $1; sub(/.*\\) /, ""); if (p == {pid} || $3 == {pid} || $4 == {pid}) f = 1 }} END {{ exit !f }}'
    return f"cat /proc/[0-9]*/stat 2>/dev/null | awk {shlex.quote(awk)}"


def wait_pid_free(m: Machine, pid: str) -> None:
    """Wait (up to 10 s) until the killed original of ``pid`` is reaped (init does it, later), and so
    are the tasks of its session or group (a pid stays taken while one is left)."""
    m.ssh.run(f"i=0; while {pid_in_use(pid)} && [ $i -lt 200 ]; do i=$((i+1)); usleep 50000; done", 20)


# the engines whose checkpoint and restart steps can do a pid namespace (`pidns: true`)
PIDNS_ENGINES = ("kernel",)

ENGINES = ("kernel", "criu")  # what `lab bench cr --engine` compares (etckpt: its own etckpt= field)


def get(name: str) -> Engine:
    from . import criu, etckpt, kernel

    engines: dict[str, Engine] = {"kernel": kernel.KernelEngine(), "criu": criu.CriuEngine(),
                                  "etckpt": etckpt.EtckptEngine()}
    return engines[name]
