"""A parent and a forked child talking over a UNIX stream socketpair, judging themselves.

    python3 socketpair_tree.py OUT

The parent sends the numbers 0..79, two ahead of the answers (so bytes are queued in both
directions most of the time), every 50 ms; the child answers each with its square. The parent
appends "tick I SQUARE" to OUT for every answer, checks each, then closes its end: the child sees
EOF and exits 0. The parent checks the child's status and appends "done ok" (or "FAIL: ...").
"""
import os
import socket
import sys
import time

N = 80


def child(sock):
    f = sock.makefile("rwb")
    for line in f:
        n = int(line)
        f.write(b"%d\n" % (n * n))
        f.flush()
    os._exit(0)


def main():
    out = open(sys.argv[1], "a", buffering=1)
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        child(b)
    b.close()
    f = a.makefile("rwb")
    sent = 0
    failure = ""
    for i in range(N):
        while sent < min(N, i + 3):
            f.write(b"%d\n" % sent)
            f.flush()
            sent += 1
        got = int(f.readline())
        if got != i * i:
            failure = failure or f"answer {got} to {i}"
        out.write(f"tick {i} {got}\n")
        time.sleep(0.05)
    f.close()
    a.close()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failure = failure or f"child status {status:#x}"
    out.write(f"FAIL: {failure}\n" if failure else "done ok\n")


main()
