"""Restore by ``execve()`` of an ET_CKPT file (issue 14): our kernel's checkpoint, the guest's
``ckpt2elf`` converting the image into an executable ELF file, and ``restart -x FILE`` executing it
(``-H`` holds the restored task at the exit of its ``execve()``, before it runs an instruction)."""

from __future__ import annotations

import shlex

from .. import procsnap, verify
from ..machine import Machine
from . import Restarting
from .kernel import HELD, KernelEngine

# What an exec gives a restored task by design (kernel/README.md, "ET_CKPT"): the ELF form does
# not carry these, and ckpt2elf says so when it converts.
EXEC_DIFFERENCES = (
    verify.Rule(r"proc\.exe", "exec semantics: /proc/PID/exe is the ET_CKPT file that was executed"),
    verify.Rule(r"fd\.[012]|fdinfo\.[012]\..*", "fds 0-2 (/dev/null in the image) are the exec caller's"),
)


class EtckptEngine(KernelEngine):
    name = "etckpt"
    differences: tuple[verify.Rule, ...] = verify.KNOWN_GAPS + EXEC_DIFFERENCES

    def checkpoint_command(self, pid: str, image: str, log: str, cgroup_dir: str, *, pidns: bool = False) -> str:
        raw = shlex.quote(f"{image}.img")
        return (f"{super().checkpoint_command(pid, f'{image}.img', log, cgroup_dir, pidns=pidns)} && "
                f"ckpt2elf {raw} {shlex.quote(image)} 2>>{shlex.quote(log)}")

    def start_restart(self, m: Machine, image: str, log: str, cwd: str, hold: bool, pid: str,
                      timeout: float, *, same_pid: bool = False, pidns: bool = False,
                      ghosts: bool = False) -> Restarting:
        if pidns or ghosts:
            raise ValueError("engine etckpt: an ET_CKPT file holds one process, not a pid namespace or ghosts")
        if same_pid:
            raise ValueError("engine etckpt: the restored task is the exec'ing one, it cannot take the image's pid")
        holder = procsnap.start_restart(m, image, log=log, held=HELD if hold else "", cwd=cwd, err=f"{log}.err",
                                        exec_elf=True)
        return Restarting(holder=holder, pid="" if hold else holder)

    def wait_restored(self, m: Machine, r: Restarting, timeout: float) -> str:
        if not r.pid:
            r.pid = procsnap.wait_held(m, r.holder, HELD, timeout)
        return r.pid
