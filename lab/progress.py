"""Progress for long steps (kernel and image builds).

On a terminal, a rich live line: spinner, label, elapsed time, phase, step count and the last
build line. Otherwise (CI, pipes) a plain heartbeat line every ``heartbeat_s`` seconds and one
line per phase, so a log shows the build is alive without a line per compiled file.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class Progress:
    """One long step's progress. ``done`` ends it with a final line; usable as a context
    manager so the live line is taken down however the step ends."""

    def __init__(self, label: str, stream: TextIO | None = None, heartbeat_s: float = 30.0) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.heartbeat_s = heartbeat_s
        self.start = time.monotonic()
        self._last = 0.0
        self._steps = 0
        self._phase = ""
        self._console = Console(file=self.stream, force_terminal=self.tty, highlight=False)
        self._live: RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.start:5.0f}s"

    def status(self, phase: str) -> None:
        self._phase = phase
        self._emit(phase, force=True)

    def step(self, line: str) -> None:
        self._steps += 1
        self._emit(f"{self._phase} {self._steps} steps {line[:60]}")

    def _emit(self, text: str, force: bool = False) -> None:
        if self.tty:
            if self._live is None:
                self._live = RichProgress(
                    SpinnerColumn(), TextColumn(f"[bold]{escape(self.label)}"), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=self._console, transient=True,
                )
                self._task = self._live.add_task(escape(text), total=None)
                self._live.start()
            else:
                assert self._task is not None
                self._live.update(self._task, description=escape(text))
            return
        now = time.monotonic()
        if force or now - self._last > self.heartbeat_s:
            self.stream.write(f"[{self.label} {self._elapsed()}] {text}\n")
            self.stream.flush()
            self._last = now

    def stop(self) -> None:
        """Take the live line down (idempotent); nothing is printed."""
        if self._live is not None:
            self._live.stop()
            self._live = None
            self._task = None

    def done(self, text: str) -> None:
        self.stop()
        line = f"[{self.label} {self._elapsed()}] {text}"
        if self.tty:
            self._console.print(escape(line))
        else:
            self.stream.write(line + "\n")
            self.stream.flush()
