"""A guest network of two or more guests: one ``vde_switch`` (Debian's vde2) that the guests' NICs
plug into through QEMU's ``-netdev vde``.

The switch runs in the foreground with its management console on a pipe the lab holds: it exits when
the lab stops it (by its pid: SIGTERM, then SIGKILL), and by itself on EOF of that pipe if the lab
dies (PR_SET_PDEATHSIG as well). Its control directory lives in the run's private directory and is
removed with it. The switch has no tap and no uplink: traffic stays among the member guests.

Guests get static addresses: ``10.77.0.N/24`` (N = position in the scenario's ``network:`` list + 1)
on the NIC whose MAC ends in ``:03`` (see ``images/rootfs/etc/init.d/rcS``). Scenarios add
addresses of their own (a service address that moves with a migrated server: ``net_move``).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

from .machine import NET_NIC, MachineError, NetPort, _set_pdeathsig

__all__ = ["NET_NIC", "NetPort", "Switch", "net_address"]

VDE_SWITCH = "vde_switch"
NET_PREFIX = "10.77.0"


def net_address(members: tuple[str, ...], guest: str) -> str:
    """The static address of ``guest`` on the scenario's network."""
    return f"{NET_PREFIX}.{members.index(guest) + 1}"


class Switch:
    """``with Switch(directory) as sw``: a running vde_switch whose control directory is ``directory``."""

    def __init__(self, directory: Path, log: Path) -> None:
        self.directory = directory
        self.log = log
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc else 0

    def start(self, timeout: float = 10.0) -> None:
        if shutil.which(VDE_SWITCH) is None:
            raise MachineError(f"{VDE_SWITCH} not found: apt-get install vde2 (lab doctor --install)")
        with open(self.log, "wb") as out:
            self._proc = subprocess.Popen([VDE_SWITCH, "--sock", str(self.directory), "--dirmode", "0700",
                                           "--mode", "0600"],
                                          stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True, preexec_fn=_set_pdeathsig)
        deadline = time.monotonic() + timeout
        while not (self.directory / "ctl").exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise MachineError(f"{VDE_SWITCH} did not start: {self.log.read_text(errors='replace')[-500:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdin:
            proc.stdin.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Switch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
