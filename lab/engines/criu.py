"""CRIU (Debian's criu 3.17.1 in the guest) as the second engine.

checkpoint: ``criu dump --freeze-cgroup DIR --leave-running`` of the task frozen by the scenario (it
stays frozen, as with our engine); restart: ``criu restore -d`` into the same pid (once the killed
original is reaped), ``--leave-stopped`` to hold it (a tree: every task) for verification,
SIGCONT to release it.
"""

from __future__ import annotations

import shlex

from .. import procsnap, verify
from ..machine import Machine
from . import Restarting, wait_pid_free


class CriuEngine:
    name = "criu"
    kernel_fragments: tuple[str, ...] = ("criu",)
    packages: tuple[str, ...] = ("criu",)
    differences: tuple[verify.Rule, ...] = (
        verify.Rule(r"ns\.time(_for_children)?", "CRIU restores into a new time namespace, so that "
                    "CLOCK_MONOTONIC and CLOCK_BOOTTIME go on from where they were"),
        verify.Rule(r"map\..*\.vmflags", "CRIU maps every private area writable first: restored areas "
                    "are soft-dirty (sd) and accounted (ac)", when=verify.only_flags_differ("sd", "ac")),
    )

    def checkpoint_command(self, pid: str, image: str, log: str, cgroup_dir: str, *, pidns: bool = False) -> str:
        if pidns:
            raise ValueError("engine criu: the lab does not drive CRIU through a pid namespace (pidns)")
        d, lg = shlex.quote(image), shlex.quote(log)
        return (f"mkdir -p {d} && criu dump -t {pid} -D {d} -o {lg} -v4 "
                f"--freeze-cgroup {shlex.quote(cgroup_dir)} --leave-running")

    def restore_command(self, image: str, log: str, cwd: str, hold: bool) -> str:
        stop = " --leave-stopped" if hold else ""
        return f"cd {shlex.quote(cwd)} && criu restore -D {shlex.quote(image)} -o {shlex.quote(log)} -v4 -d{stop}"

    def start_restart(self, m: Machine, image: str, log: str, cwd: str, hold: bool, pid: str,
                      timeout: float, *, same_pid: bool = False, pidns: bool = False,
                      ghosts: bool = False) -> Restarting:
        # CRIU restores the dead leaders of groups and sessions by itself (`ghosts` is ours)
        if pidns:
            raise ValueError("engine criu: the lab does not drive CRIU through a pid namespace (pidns)")
        # the same pid comes back: wait until the killed original is reaped (init does it, later),
        # and so are the tasks of its session or group (a pid stays taken while one is left)
        wait_pid_free(m, pid)
        res = m.ssh.run(self.restore_command(image, log, cwd, hold), timeout)
        return Restarting(pid=pid if res.ok else "")

    def wait_restored(self, m: Machine, r: Restarting, timeout: float) -> str:
        return r.pid

    def release(self, m: Machine, r: Restarting) -> None:
        # --leave-stopped stops every task of a restored tree
        m.ssh.run(f"{procsnap.DESCENDANTS_SH}; kill -CONT {r.pid} $(desc {r.pid})", 10, check=True)
