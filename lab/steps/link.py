"""The guest-to-guest link: addresses, ports, and streams through ``linkcat`` with both ends checked."""

from __future__ import annotations

import shlex

from ..machine import Machine
from ..scenario import Scenario, Step
from ..ssh import Result
from .base import poll_sh

LINK_NET = "169.254.0"


def link_address(scenario: Scenario, guest: str) -> str:
    """The guest-link address of ``guest``: 169.254.0.N in the order the scenario lists guests."""
    return f"{LINK_NET}.{[g.name for g in scenario.guests].index(guest) + 1}"


def port_for(step: Step, salt: int = 0) -> int:
    """A link port of its own for each step (by its line), so streams of different steps never meet."""
    return 7000 + (step.line * 7 + salt) % 2000


def shm_recv(timeout: float, idle: float) -> str:
    """The receiving end of the shared-memory channel (``shmcat``, in the guest image)."""
    return f"shmcat recv {int(timeout)} {idle:g}"


def shm_send(timeout: float) -> str:
    return f"shmcat send {int(timeout)}"


def link_pipe(src: Machine, dst: Machine, source: str, sink: str, addr: str, port: int,
              timeout: float) -> Result | None:
    """Stream ``source | linkcat send`` on ``src`` into ``linkcat recv | sink`` on ``dst``.

    Returns None when both ends succeeded, else the result that shows what failed.
    """
    return channel_pipe(src, dst, source, sink, f"linkcat recv {port} {int(timeout)}",
                        f"linkcat send {addr} {port} 10", f"link{port}", timeout)


def shm_pipe(src: Machine, dst: Machine, source: str, sink: str, timeout: float) -> Result | None:
    """The same over the link's shared memory (one stream at a time: ``shmcat``)."""
    return channel_pipe(src, dst, source, sink, shm_recv(timeout, 10), shm_send(timeout), "shm", timeout)


def channel_pipe(src: Machine, dst: Machine, source: str, sink: str, recv: str, send: str, tag: str,
                 timeout: float) -> Result | None:
    """``source | SEND`` on ``src`` into ``RECV | sink`` on ``dst``: None when both ends succeeded."""
    status = f"/tmp/linkpipe.{tag}.status"
    inner = f"set -o pipefail; {recv} | {sink}; echo $? > {status}"
    started = dst.ssh.run(f"rm -f {status}; setsid sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>&1 & echo $!",
                          10)
    if not started.ok:
        return started
    sent = src.ssh.run(f"set -o pipefail; {source} | {send}", timeout)
    if not sent.ok:
        return sent
    done = dst.ssh.run(poll_sh(f"kill -0 {started.stdout.strip()}", timeout, interval_ms=10, negate=True)
                       + f"; cat {status}", timeout + 5)
    return None if done.ok and done.stdout.strip() == "0" else done
