"""A loop driven by an interval timer and signal handlers (issue 10: C/R of a real program).

Usage: timer_ticks.py OUT. Every 0.3 s SIGALRM (signal.setitimer) adds a tick to a running total
and appends "tick N total T" to OUT; SIGUSR2 is blocked until tick 60, so one sent early stays
pending and its handler writes "usr2 after tick 60"; at tick 80 the timer is stopped and "done"
written. The output depends only on the ticks, so a run that is checkpointed and restarted
writes the same file as an uninterrupted one.
"""

import signal
import sys

OUT = sys.argv[1]
TICKS = 80
state = {"n": 0, "total": 0}


def write(line: str) -> None:
    with open(OUT, "a") as f:
        f.write(line + "\n")


def on_alarm(sig: int, frame: object) -> None:
    state["n"] += 1
    state["total"] += state["n"] * state["n"]
    write(f"tick {state['n']} total {state['total']}")
    if state["n"] == 60:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR2})
    if state["n"] == TICKS:
        signal.setitimer(signal.ITIMER_REAL, 0)


def on_usr2(sig: int, frame: object) -> None:
    write(f"usr2 after tick {state['n']}")


signal.signal(signal.SIGALRM, on_alarm)
signal.signal(signal.SIGUSR2, on_usr2)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
write("start")
signal.setitimer(signal.ITIMER_REAL, 0.3, 0.3)
while state["n"] < TICKS:
    signal.pause()
write("done")
