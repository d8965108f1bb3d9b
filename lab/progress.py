"""Progress for long steps: one rewritten line on a terminal, a heartbeat line otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None, heartbeat_s: float = 30.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.heartbeat_s = heartbeat_s
        self.start = time.monotonic()
        self._last = 0.0
        self._steps = 0
        self._phase = ""

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.start:5.0f}s"

    def status(self, phase: str) -> None:
        self._phase = phase
        self._emit(f"{phase}", force=True)

    def step(self, line: str) -> None:
        self._steps += 1
        self._emit(f"{self._phase} {self._steps} steps {line[:60]}")

    def _emit(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            if force or now - self._last > 0.2:
                self.stream.write(f"\r\033[K[{self.label} {self._elapsed()}] {text}")
                self.stream.flush()
                self._last = now
        elif force or now - self._last > self.heartbeat_s:
            self.stream.write(f"[{self.label} {self._elapsed()}] {text}\n")
            self.stream.flush()
            self._last = now

    def done(self, text: str) -> None:
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}[{self.label} {self._elapsed()}] {text}\n")
        self.stream.flush()
