"""Our in-kernel C/R: the guest tools ``checkpoint`` and ``restart`` (``-H`` holds the restored task)."""

from __future__ import annotations

import shlex

from .. import procsnap, verify
from ..machine import Machine
from . import Restarting, wait_pid_free

HELD = "/tmp/lab-restart.held"


class KernelEngine:
    name = "kernel"
    kernel_fragments: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    differences: tuple[verify.Rule, ...] = verify.KNOWN_GAPS

    def checkpoint_command(self, pid: str, image: str, log: str, cgroup_dir: str, *, pidns: bool = False) -> str:
        return f"checkpoint {'-N ' if pidns else ''}{pid} -o {shlex.quote(image)} -l {shlex.quote(log)}"

    def start_restart(self, m: Machine, image: str, log: str, cwd: str, hold: bool, pid: str,
                      timeout: float, *, same_pid: bool = False, pidns: bool = False,
                      ghosts: bool = False) -> Restarting:
        if same_pid and pidns:
            raise ValueError("a restart into a new pid namespace cannot also take the image's pid")
        if same_pid and pid:
            wait_pid_free(m, pid)
        holder = procsnap.start_restart(m, image, log=log, held=HELD if hold else "", cwd=cwd, err=f"{log}.err",
                                        same_pid=same_pid, pid=pid if same_pid else "", pidns=pidns,
                                        ghosts=ghosts)
        if pidns and not hold:
            # `restart -N` waits for its child, the new namespace's init: the restored root
            return Restarting(holder=holder, pid=procsnap.wait_child(m, holder, timeout))
        if hold or not (same_pid and pid):
            return Restarting(holder=holder, pid="" if hold else holder)
        # unheld, `restart -p` waits for its child, which has the image's pid: wait until it is there
        m.ssh.run(f"while [ ! -d /proc/{pid} ] && kill -0 {holder} 2>/dev/null; do usleep 5000; done", timeout)
        return Restarting(holder=holder, pid=pid)

    def wait_restored(self, m: Machine, r: Restarting, timeout: float) -> str:
        if not r.pid:
            r.pid = procsnap.wait_held(m, r.holder, HELD, timeout)
        return r.pid

    def release(self, m: Machine, r: Restarting) -> None:
        procsnap.release(m, r.holder)
