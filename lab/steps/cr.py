"""The ``checkpoint`` and ``restart`` steps: C/R by the scenario's engine, with restore verification.

``checkpoint: ${pid}`` snapshots the (frozen) task with procsnap, then checkpoints it into ``image``
with the engine (``lab.engines``: our kernel's C/R, or CRIU); ``restart: IMAGE`` restarts it holding
the restored task, snapshots it before it runs, compares the two snapshots (``lab.verify``, with the
engine's known differences), releases it and saves its pid. The snapshot travels with the image name,
so a restart on another guest (after a ``transfer``) is verified as well.
"""

from __future__ import annotations

import shlex

from .. import engines, procsnap, verify
from ..runner import CGROUP_ROOT, Context, StepFailure, _timeout, handler
from ..scenario import Step


@handler("checkpoint")
def _checkpoint(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    engine = engines.get(ctx.scenario.engine)
    pid = ctx.text(step, "checkpoint")
    image = ctx.text(step, "image")
    log = ctx.text(step, "log") if "log" in step.args else f"{image}.log"
    if step.get("verify_restore", True):
        try:
            ctx.snapshots[image] = procsnap.snapshot(m, pid, _timeout(step))
        except (RuntimeError, ValueError) as exc:
            raise StepFailure(step, f"restore verification: {exc}") from exc
    ctx.checkpointed[image] = pid
    cgroup_dir = f"{CGROUP_ROOT[step.args['cgroup']]}/lab-frozen"
    res = engine.checkpoint(m, pid, image, log, cgroup_dir, _timeout(step, 120))
    if not res.ok:
        log_text = m.ssh.run(f"tail -n 40 {shlex.quote(log)}", 10).stdout
        raise StepFailure(step, f"checkpoint ({engine.name}) failed; log:\n{log_text}", res)


@handler("restart")
def _restart(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    engine = engines.get(ctx.scenario.engine)
    image = ctx.text(step, "restart")
    log = ctx.text(step, "log") if "log" in step.args else f"{image}.rlog"
    check = step.get("verify_restore", True)
    before = ctx.snapshots.get(image)
    if check and before is None:
        raise StepFailure(step, f"restore verification: no snapshot of the task checkpointed into {image} "
                                "(make the image with a `checkpoint` step, or say `verify_restore: false` and why)")
    timeout = _timeout(step, 120)
    cwd = ctx.text(step, "cwd") if "cwd" in step.args else "/"
    try:
        r = engine.start_restart(m, image, log, cwd, check, ctx.checkpointed.get(image, ""), timeout)
        pid = engine.wait_restored(m, r, timeout)
        if not pid:
            log_text = m.ssh.run(f"tail -n 40 {shlex.quote(log)}", 10).stdout
            raise StepFailure(step, f"restart ({engine.name}) failed; log:\n{log_text}")
        if check and before is not None:
            after = procsnap.snapshot(m, pid, timeout)
            engine.release(m, r)
            name = image.strip("/").replace("/", "_")
            for side, snap in (("before", before), ("after", after)):
                (ctx.artifacts / f"verify-{name}-{side}.snap").write_text(
                    "".join(f"{k}\t{v}\n" for k, v in snap.items()))
            verdict = verify.compare(before, after, gaps=engine.differences)
            ctx.measurements["known_gaps"] = verdict.gap_summary() or "none"
            if not verdict.ok:
                raise StepFailure(step, f"restore verification ({engine.name}): {verdict.problems()}\n"
                                        f"snapshots: {ctx.artifacts}/verify-{name}-*.snap")
    except RuntimeError as exc:
        raise StepFailure(step, str(exc)) from exc
    if "save" in step.args:
        ctx.variables[step.args["save"]] = pid
