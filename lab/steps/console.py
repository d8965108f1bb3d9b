"""The ``console`` step: wait until the console classifier reports a kind (panic, oops ...) on a guest."""

from __future__ import annotations

import time

from .. import console
from ..scenario import Step
from .base import Context, S, StepCheck, StepFailure, kind, timeout_of


def _validate_console(c: StepCheck) -> None:
    if c.args["console"] not in console.KINDS:
        raise c.fail("console", f"unknown kind (known: {', '.join(sorted(console.KINDS))})")


@kind("console", {"console": (S, True)}, validate=_validate_console)
def _console(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    kind = step.args["console"]
    deadline = time.monotonic() + timeout_of(step, 30)
    while time.monotonic() < deadline:
        if any(f.kind == kind for f in console.classify_file(m.console_log)):
            return
        time.sleep(0.1)
    raise StepFailure(step, f"no {kind} on the console; tail:\n{console.tail(m.console_log)}")
