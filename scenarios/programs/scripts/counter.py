#!/usr/bin/python3
"""A Python workload that keeps state in memory and in a file.

counter.py TICKS_FILE: every 0.1 s, count one more tick in memory, keep a running sum of the ticks
in memory, and append "tick N sum S" to TICKS_FILE (flushed). On SIGUSR1 it checks that the file's
lines are exactly 1..N with the right sums (memory and file agree) and writes PASS or FAIL: ... to
TICKS_FILE.result.
"""

import signal
import sys
import time

path = sys.argv[1]
state = {"n": 0, "sum": 0}
history = []  # every tick kept in memory as well


def check(signum, frame):
    with open(path) as f:
        lines = [line.split() for line in f]
    want = [["tick", str(i), "sum", str(i * (i + 1) // 2)] for i in range(1, state["n"] + 1)]
    ok = lines == want and history == list(range(1, state["n"] + 1))
    verdict = "PASS" if ok else f"FAIL: {len(lines)} lines, {state['n']} ticks in memory"
    with open(path + ".result", "w") as r:
        r.write(verdict + "\n")


signal.signal(signal.SIGUSR1, check)
out = open(path, "a")
while True:
    state["n"] += 1
    state["sum"] += state["n"]
    history.append(state["n"])
    out.write(f"tick {state['n']} sum {state['sum']}\n")
    out.flush()
    time.sleep(0.1)
