"""An event loop on selectors.DefaultSelector (epoll) for checkpoint/restart: a timer and a pipe.

Every 0.2 s (the select() timeout, computed from time.monotonic()) the loop writes "tick N" to OUT;
every 5 ticks it writes a line into a pipe registered for reading, which the next select() reports
and the loop copies to OUT ("pipe N"). After 60 ticks it writes the selector class and "done". The
output depends only on the sequence, not on timing, so a checkpointed and restarted run must write
exactly what an uninterrupted one does. (asyncio itself does not survive a restart yet: its running
loop is bound to os.getpid(), and restart gives the task a new pid.)
"""

import os
import selectors
import sys
import time


def main(path: str) -> None:
    sel = selectors.DefaultSelector()
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    sel.register(rfd, selectors.EVENT_READ, "pipe")
    period = 0.2
    tick = 0
    deadline = time.monotonic() + period
    with open(path, "w", buffering=1) as out:
        while tick < 60:
            events = sel.select(max(0.0, deadline - time.monotonic()))
            for _key, _ev in events:
                for line in os.read(rfd, 4096).decode().splitlines():
                    out.write(line + "\n")
            if time.monotonic() >= deadline:
                tick += 1
                deadline += period
                out.write(f"tick {tick}\n")
                if tick % 5 == 0:
                    os.write(wfd, f"pipe {tick}\n".encode())
        for _key, _ev in sel.select(1.0):
            for line in os.read(rfd, 4096).decode().splitlines():
                out.write(line + "\n")
        out.write(f"selector {type(sel).__name__}\n")
        out.write("done\n")


if __name__ == "__main__":
    main(sys.argv[1])
