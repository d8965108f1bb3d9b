"""Classify a guest's serial console: kernel panics, oopses, BUGs, warnings and the like.

Any finding fails a scenario (unless the scenario expects that kind), with the excerpt around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# (kind, pattern). Order matters only for the report: every line is checked against all of them.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx))
    for kind, rx in (
        ("panic", r"Kernel panic - not syncing"),
        ("kasan", r"\bKASAN: "),
        ("ubsan", r"\bUBSAN: "),
        ("soft_lockup", r"BUG: soft lockup"),
        ("oops", r"\bOops(?::| - )"),
        ("oops", r"general protection fault"),
        ("bug", r"\bBUG: "),
        ("bug", r"kernel BUG at "),
        ("lockdep", r"possible circular locking dependency detected"),
        ("lockdep", r"possible recursive locking detected"),
        ("lockdep", r"inconsistent lock state"),
        ("lockdep", r"suspicious RCU usage"),
        ("warning", r"\bWARNING: (?:CPU|at) "),
        ("warning", r"------------\[ cut here \]------------"),
        ("hung_task", r"INFO: task \S+ blocked for more than \d+ seconds"),
        ("rcu_stall", r"rcu: INFO: rcu_\w+ (?:self-)?detected stalls?"),
        ("taint", r"Tainted: [A-Z ]*[A-Z]"),
    )
)
KINDS = frozenset(kind for kind, _ in PATTERNS)
# A stamp like "[    1.234567] " that printk puts before each line.
_STAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


@dataclass(frozen=True)
class Finding:
    kind: str
    line_no: int  # 1-based
    line: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.kind} at console line {self.line_no}: {self.line}\n{self.excerpt}"


def classify(text: str, before: int = 5, after: int = 25) -> list[Finding]:
    """Every finding in ``text``; a report's follow-on lines (taint, trace) count once."""
    lines = text.splitlines()
    findings: list[Finding] = []
    covered_until = -1
    for i, raw in enumerate(lines):
        line = _STAMP.sub("", raw.rstrip("\r"))
        for kind, rx in PATTERNS:
            if rx.search(line):
                if i <= covered_until and kind in ("taint", "warning", "bug"):
                    break  # part of the report we already have
                lo, hi = max(0, i - before), min(len(lines), i + after)
                findings.append(Finding(kind, i + 1, line.strip(), "\n".join(lines[lo:hi])))
                covered_until = hi
                break
    return findings


def classify_file(path: Path) -> list[Finding]:
    if not path.is_file():
        return []
    return classify(path.read_text(errors="replace"))


def tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"(no console log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
