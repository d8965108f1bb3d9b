"""Streams from one guest to another through the host, without SSH (``via: host``).

Every guest has a second forwarded port on its management netdev (127.0.0.1 only, ``restrict=on``)
to :data:`lab.machine.GUEST_DATA_PORT`. :func:`host_pipe` runs ``SOURCE | linkcat serve`` on one
guest and ``linkcat recv | SINK`` on the other, and copies between the two forwarded ports in the
lab, in memory. The old path (``cat`` over an SSH exec channel each way) ran the SSH cipher on the
emulated CPU of both guests: 2.4 MB/s for a migration image, against tens of MB/s here.
Both guest commands are checked (exit status of each pipeline); the stream is nothing but bytes.
"""

from __future__ import annotations

import shlex
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from .machine import GUEST_DATA_PORT, Machine
from .ssh import Result

CHUNK = 1 << 20
# /proc/net/tcp: "sl local rem st" with st 0A = LISTEN
LISTENING = f"grep -q ': 00000000:{GUEST_DATA_PORT:04X} 00000000:0000 0A' /proc/net/tcp"


def _poll_sh(condition: str, timeout: float, negate: bool = False) -> str:
    from .steps.base import poll_sh  # lab.steps' modules import this one

    return poll_sh(condition, timeout, interval_ms=5, negate=negate)


def _start(m: Machine, pipeline: str, status: str, timeout: float) -> Result:
    """Start ``pipeline`` in the background on ``m``, its exit status into ``status``; wait until
    its linkcat listens on the data port."""
    inner = f"set -o pipefail; {pipeline}; echo $? > {status}"
    res = m.ssh.run(f"rm -f {status}; setsid sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>{status}.err & "
                    f"echo $!; {_poll_sh(LISTENING, 10)}", timeout)
    return res


def _finish(m: Machine, pid: str, status: str, timeout: float) -> Result:
    return m.ssh.run(_poll_sh(f"kill -0 {pid}", timeout, negate=True)
                     + f"; cat {status} {status}.err", timeout + 5)


def _copy(src: Machine, dst: Machine, timeout: float) -> int:
    """Copy everything ``src``'s data port gives to ``dst``'s; return the byte count."""
    total = 0
    with socket.create_connection(("127.0.0.1", src.data_port), timeout) as a, \
            socket.create_connection(("127.0.0.1", dst.data_port), timeout) as b:
        a.settimeout(timeout)
        b.settimeout(timeout)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := a.recv_into(buf):
            b.sendall(view[:n])
            total += n
        b.shutdown(socket.SHUT_WR)
        b.recv(1)  # the receiver closes once it has read everything
    return total


def host_pipe(src: Machine, dst: Machine, source: str, sink: str, timeout: float) -> tuple[Result | None, int]:
    """Stream ``source`` on ``src`` into ``sink`` on ``dst`` through the host.

    Returns (None, bytes) when both ends succeeded, else (the result that shows what failed, bytes).
    """
    if src.data_port == 0 or dst.data_port == 0:
        raise ValueError("host_pipe needs guests with a data port (Machine.data_port)")
    t = int(timeout) + 1
    # the two guests' commands at once (each is an SSH round trip to an emulated guest); the relay
    # connects to both data ports only once both linkcats listen
    with ThreadPoolExecutor(2) as pool:
        rx_f = pool.submit(_start, dst, f"linkcat recv {GUEST_DATA_PORT} {t} | {sink}", "/tmp/hostpipe.rx", 20)
        tx_f = pool.submit(_start, src, f"{source} | linkcat serve {GUEST_DATA_PORT} {t}", "/tmp/hostpipe.tx", 20)
        rx, tx = rx_f.result(), tx_f.result()
    if not rx.ok or not tx.ok:
        for m, started in ((dst, rx), (src, tx)):
            pid = started.stdout.split()[:1]
            m.ssh.run(f"kill {pid[0]} 2>/dev/null; killall -q linkcat; true" if pid else "killall -q linkcat; true",
                      10)
        return (rx if not rx.ok else tx), 0
    deadline = time.monotonic() + timeout
    try:
        total = _copy(src, dst, timeout)
    except OSError as exc:
        for m in (src, dst):
            m.ssh.run("killall -q linkcat; true", 10)
        return Result("host relay", 1, "", f"relay through the host failed: {exc}"), 0
    left = max(5.0, deadline - time.monotonic())
    with ThreadPoolExecutor(2) as pool:
        finished = [pool.submit(_finish, m, started.stdout.split()[0], status, left)
                    for m, started, status in ((src, tx, "/tmp/hostpipe.tx"), (dst, rx, "/tmp/hostpipe.rx"))]
        results = [f.result() for f in finished]
    for done in results:
        if not done.ok or done.stdout.split()[:1] != ["0"]:
            return done, total
    return None, total
