"""The ``checkpoint`` and ``restart`` steps: external C/R with restore verification.

``checkpoint: ${pid}`` snapshots the (frozen) task with procsnap, then checkpoints it into ``image``;
``restart: IMAGE`` starts the restart tool holding the restored task, snapshots it before it runs,
compares the two snapshots (``lab.verify``), releases it and saves its pid. The snapshot travels with
the image name, so a restart on another guest (after a ``transfer``) is verified as well.
"""

from __future__ import annotations

import shlex

from .. import procsnap, verify
from ..runner import Context, StepFailure, _timeout, handler
from ..scenario import Step

HELD = "/tmp/lab-restart.held"


@handler("checkpoint")
def _checkpoint(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    pid = ctx.text(step, "checkpoint")
    image = ctx.text(step, "image")
    log = ctx.text(step, "log") if "log" in step.args else f"{image}.log"
    if step.get("verify_restore", True):
        try:
            ctx.snapshots[image] = procsnap.snapshot(m, pid, _timeout(step))
        except (RuntimeError, ValueError) as exc:
            raise StepFailure(step, f"restore verification: {exc}") from exc
    res = m.ssh.run(f"checkpoint {pid} -o {shlex.quote(image)} -l {shlex.quote(log)}", _timeout(step, 120))
    if not res.ok:
        log_text = m.ssh.run(f"cat {shlex.quote(log)}", 10).stdout
        raise StepFailure(step, f"checkpoint failed; log:\n{log_text}", res)


@handler("restart")
def _restart(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
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
        holder = procsnap.start_restart(m, image, log=log, held=HELD if check else "", cwd=cwd)
        pid = procsnap.wait_held(m, holder, HELD, timeout) if check else holder
        if not pid:
            raise StepFailure(step, f"restart failed; log:\n{m.ssh.run(f'cat {shlex.quote(log)}', 10).stdout}")
        if check and before is not None:
            after = procsnap.snapshot(m, pid, timeout)
            procsnap.release(m, holder)
            name = image.strip("/").replace("/", "_")
            for side, snap in (("before", before), ("after", after)):
                (ctx.artifacts / f"verify-{name}-{side}.snap").write_text(
                    "".join(f"{k}\t{v}\n" for k, v in snap.items()))
            verdict = verify.compare(before, after)
            ctx.measurements["known_gaps"] = verdict.gap_summary() or "none"
            if not verdict.ok:
                raise StepFailure(step, f"restore verification: {verdict.problems()}\n"
                                        f"snapshots: {ctx.artifacts}/verify-{name}-*.snap")
    except RuntimeError as exc:
        raise StepFailure(step, str(exc)) from exc
    if "save" in step.args:
        ctx.variables[step.args["save"]] = pid
