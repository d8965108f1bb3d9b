"""Process control steps: ``freeze`` and ``thaw`` a task with the cgroup v2 or v1 freezer, ``signal`` it."""

from __future__ import annotations

import shlex

from ..procsnap import DESCENDANTS_SH, deadline_sh
from ..scenario import Step
from .base import Context, S, StepCheck, StepFailure, kind, poll_sh, timeout_of

CGROUP_ROOT = {"v2": "/sys/fs/cgroup/unified", "v1": "/sys/fs/cgroup/freezer"}
CGROUPS = tuple(CGROUP_ROOT)


def validate_cgroup(c: StepCheck) -> None:
    c.choice("cgroup", "v2", CGROUPS)


def freeze_commands(pid: str, cgroup: str, group: str = "lab-frozen") -> tuple[str, str]:
    """Shell snippets that freeze / thaw ``pid`` and all its descendants in cgroup v2 or the v1
    freezer, waiting until the group is frozen.

    The whole process tree goes into the group (``cgroup.procs``: every thread of each process);
    the descendants are moved again once the group is frozen, to catch a child forked meanwhile.
    """
    d = f"{CGROUP_ROOT[cgroup]}/{group}"
    if cgroup == "v2":
        frozen = poll_sh(f"grep -q 'frozen 1' {d}/cgroup.events", 10, 20)
        start = f"echo 1 > {d}/cgroup.freeze"
        thaw = f"echo 0 > {d}/cgroup.freeze"
    else:
        frozen = poll_sh(f"grep -q FROZEN {d}/freezer.state", 10, 20)
        start = f"echo FROZEN > {d}/freezer.state"
        thaw = f"echo THAWED > {d}/freezer.state"
    move = f"for p in $(desc {pid}); do echo $p > {d}/cgroup.procs 2>/dev/null; done"
    freeze = (f"mkdir -p {d} && echo {pid} > {d}/cgroup.procs && {DESCENDANTS_SH}; {move}; {start} && "
              f"{{ {frozen}; }} && {move}; {{ {frozen}; }}")
    return freeze, thaw


def kill_tree_sh(pid: str, then: str = "true", timeout: float = 10) -> str:
    """A guest shell snippet: SIGKILL ``pid`` and all its descendants (listed first: a frozen tree
    stays put), run ``then`` (a thaw), and wait until every one of them is gone (exit status 1 if
    one is still there after ``timeout`` seconds)."""
    start, expired = deadline_sh(timeout)
    return (f"{DESCENDANTS_SH}; tree=\"{pid} $(desc {pid})\"; kill -KILL $tree; {then}; {start}; "
            f"for t in $tree; do while kill -0 $t 2>/dev/null; do {expired} && exit 1; usleep 20000; done; done")


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
