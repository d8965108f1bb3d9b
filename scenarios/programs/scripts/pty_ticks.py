"""pty ticks: a pty pair (os.openpty) with the slave in raw mode and a 40x120 window; every tick
writes a line to the master and one to the slave without reading them at once, then reads what
the other end wrote one tick before: the pair always holds data in both directions. Writes
"tick N slave-read ... master-read ... winsize R C pts NAME" lines (NAME: ttyname() of the slave)
and "done" to OUT.
"""

import fcntl
import os
import struct
import sys
import termios
import time
import tty

out = open(sys.argv[1], "w", buffering=1)
master, slave = os.openpty()
tty.setraw(slave)
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
os.set_blocking(master, False)
os.set_blocking(slave, False)


def read_all(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""


os.write(master, b"m0;")
os.write(slave, b"s0;")
for tick in range(1, 61):
    got_s = read_all(slave)
    got_m = read_all(master)
    os.write(master, f"m{tick};".encode())
    os.write(slave, f"s{tick};".encode())
    rows, cols = struct.unpack("HHHH", fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\0" * 8))[:2]
    out.write(f"tick {tick} slave-read {got_s.decode()} master-read {got_m.decode()} "
              f"winsize {rows} {cols} pts {os.ttyname(slave)}\n")
    time.sleep(0.1)
out.write("done\n")
