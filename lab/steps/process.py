"""Process control steps: ``freeze`` and ``thaw`` a task with the cgroup v2 or v1 freezer, ``signal`` it."""

from __future__ import annotations

import shlex

from ..scenario import Step
from .base import Context, S, StepCheck, StepFailure, kind, poll_sh, timeout_of

CGROUP_ROOT = {"v2": "/sys/fs/cgroup/unified", "v1": "/sys/fs/cgroup/freezer"}
CGROUPS = tuple(CGROUP_ROOT)


def validate_cgroup(c: StepCheck) -> None:
    c.choice("cgroup", "v2", CGROUPS)


def freeze_commands(pid: str, cgroup: str, group: str = "lab-frozen") -> tuple[str, str]:
    """Shell snippets that freeze / thaw ``pid`` in cgroup v2 or the v1 freezer, waiting for it."""
    d = f"{CGROUP_ROOT[cgroup]}/{group}"
    if cgroup == "v2":
        frozen = poll_sh(f"grep -q 'frozen 1' {d}/cgroup.events", 10, 20)
        freeze = f"mkdir -p {d} && echo {pid} > {d}/cgroup.procs && echo 1 > {d}/cgroup.freeze && {{ {frozen}; }}"
        thaw = f"echo 0 > {d}/cgroup.freeze"
    else:
        frozen = poll_sh(f"grep -q FROZEN {d}/freezer.state", 10, 20)
        freeze = f"mkdir -p {d} && echo {pid} > {d}/tasks && echo FROZEN > {d}/freezer.state && {{ {frozen}; }}"
        thaw = f"echo THAWED > {d}/freezer.state"
    return freeze, thaw


@kind("freeze", {"freeze": ((str, int), True), "cgroup": (S, False)}, validate=validate_cgroup)
def _freeze(ctx: Context, step: Step) -> None:
    freeze, _ = freeze_commands(ctx.text(step, "freeze"), step.args["cgroup"])
    res = ctx.guest(step).ssh.run(freeze, timeout_of(step, 20))
    if not res.ok:
        raise StepFailure(step, "the task did not freeze", res)


@kind("thaw", {"thaw": ((str, int), True), "cgroup": (S, False)}, validate=validate_cgroup)
def _thaw(ctx: Context, step: Step) -> None:
    _, thaw = freeze_commands(ctx.text(step, "thaw"), step.args["cgroup"])
    res = ctx.guest(step).ssh.run(thaw, timeout_of(step, 20))
    if not res.ok:
        raise StepFailure(step, "thaw failed", res)


@kind("signal", {"signal": ((str, int), True), "sig": ((str, int), False)})
def _signal(ctx: Context, step: Step) -> None:
    sig = str(step.get("sig", "TERM"))
    res = ctx.guest(step).ssh.run(f"kill -{shlex.quote(sig)} {ctx.text(step, 'signal')}", timeout_of(step, 10))
    if not res.ok:
        raise StepFailure(step, f"kill -{sig} failed", res)
