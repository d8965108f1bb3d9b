"""Signal-driven I/O on sockets (issue 10: O_ASYNC, F_SETOWN and F_SETSIG survive C/R).

Usage: async_ticks.py OUT. Two socketpairs: the first end of each is O_ASYNC|O_NONBLOCK and owned by
the process (F_SETOWN getpid()); the first signals SIGIO (the default), the second SIGUSR1
(F_SETSIG). Every 0.2 s the loop writes one byte into the other end of each; the handlers drain
their socket and count what arrived. Each tick appends "tick N io A usr1 B async X owner Y sig Z"
to OUT (X: O_ASYNC still set on both, Y: the owner is still this process, Z: the F_SETSIG
signals); "done" after 40 ticks. The output depends only on the ticks: a run checkpointed and
restarted writes what an uninterrupted one does, and only if signal-driven I/O came back armed.
"""

import fcntl
import os
import signal
import socket
import sys
import time

OUT = sys.argv[1]
TICKS = 40
F_SETSIG = getattr(fcntl, "F_SETSIG", 10)
F_GETSIG = getattr(fcntl, "F_GETSIG", 11)
count = {"io": 0, "usr1": 0}
io_a, io_b = socket.socketpair()
usr_a, usr_b = socket.socketpair()


def drain(sock: socket.socket, key: str) -> None:
    while True:
        try:
            data = sock.recv(64)
        except BlockingIOError:
            return
        count[key] += len(data)


signal.signal(signal.SIGIO, lambda s, f: drain(io_a, "io"))
signal.signal(signal.SIGUSR1, lambda s, f: drain(usr_a, "usr1"))
for sock in (io_a, usr_a):
    fcntl.fcntl(sock, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(sock, fcntl.F_SETFL, fcntl.fcntl(sock, fcntl.F_GETFL) | os.O_ASYNC | os.O_NONBLOCK)
fcntl.fcntl(usr_a, F_SETSIG, signal.SIGUSR1)

for n in range(1, TICKS + 1):
    io_b.send(b"x")
    usr_b.send(b"y")
    deadline = time.monotonic() + 5
    while count["io"] < n or count["usr1"] < n:
        if time.monotonic() > deadline:
            break  # a lost signal shows in the counts
        time.sleep(0.01)
    armed = all(fcntl.fcntl(s, fcntl.F_GETFL) & os.O_ASYNC for s in (io_a, usr_a))
    owner = all(fcntl.fcntl(s, fcntl.F_GETOWN) == os.getpid() for s in (io_a, usr_a))
    sigs = f"{fcntl.fcntl(io_a, F_GETSIG)},{fcntl.fcntl(usr_a, F_GETSIG)}"
    with open(OUT, "a") as f:
        f.write(f"tick {n} io {count['io']} usr1 {count['usr1']} async {armed} owner {owner} sig {sigs}\n")
    time.sleep(0.2)
with open(OUT, "a") as f:
    f.write("done\n")
