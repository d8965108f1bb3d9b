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
from ..scenario import Step
from .base import (
    B,
    Context,
    L,
    S,
    StepCheck,
    StepFailure,
    keep_snapshots,
    kind,
    report_verdict,
    timeout_of,
    validate_verify_restore,
)
from .process import CGROUP_ROOT, validate_cgroup


def _validate_pidns(c: StepCheck) -> None:
    if c.args.get("pidns"):
        others = [e for e in c.engines if e not in engines.PIDNS_ENGINES]
        if others:
            raise c.fail("pidns", f"engine {others[0]} cannot do a pid namespace; "
                                  f"use engine {' or '.join(engines.PIDNS_ENGINES)}")


def _validate_checkpoint(c: StepCheck) -> None:
    validate_cgroup(c)
    validate_verify_restore(c)
    _validate_pidns(c)


# external checkpoint of a (frozen) task into `image`, with a procsnap of it for restore verification;
# `pidns`: the task is the init of a pid namespace, checkpointed whole (`checkpoint -N`: its pids as
# seen in it), restarted by a restart step with `pidns` too
@kind("checkpoint", {"checkpoint": ((str, int), True), "image": (S, True), "log": (S, False), "cgroup": (S, False),
                     "pidns": (B, False), "verify_restore": (B, False), "verify_reason": (S, False)},
      validate=_validate_checkpoint)
def _checkpoint(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    engine = engines.get(ctx.scenario.engine)
    pid = ctx.text(step, "checkpoint")
    image = ctx.text(step, "image")
    log = ctx.text(step, "log") if "log" in step.args else f"{image}.log"
    if step.get("verify_restore", True):
        try:
            ctx.snapshots[image] = procsnap.snapshot(m, pid, timeout_of(step))
        except (RuntimeError, ValueError) as exc:
            raise StepFailure(step, f"restore verification: {exc}") from exc
    ctx.checkpointed[image] = pid
    cgroup_dir = f"{CGROUP_ROOT[step.args['cgroup']]}/lab-frozen"
    res = engines.checkpoint(engine, m, pid, image, log, cgroup_dir, timeout_of(step, 120),
                             pidns=bool(step.get("pidns", False)))
    if not res.ok:
        log_text = m.ssh.run(f"tail -n 40 {shlex.quote(log)}", 10).stdout
        raise StepFailure(step, f"checkpoint ({engine.name}) failed; log:\n{log_text}", res)


def _validate_restart(c: StepCheck) -> None:
    validate_verify_restore(c)
    _validate_pidns(c)
    if c.args.get("pidns") and c.args.get("same_pid"):
        raise c.fail("same_pid", "the init of a new pid namespace is its pid 1: pidns and same_pid exclude each other")
    if c.args.get("ghosts") and "etckpt" in c.engines:
        raise c.fail("ghosts", "engine etckpt restores one process: no ghosts")
    if ("expect_differences" in c.args or "while_held" in c.args) and c.args.get("verify_restore") is False:
        raise c.fail("expect_differences" if "expect_differences" in c.args else "while_held",
                     "needs restore verification")


# restart an image in the background (in `cwd`, default /); the restored task is held and
# compared with the checkpointed one before it runs; its pid saved in `save`. `same_pid`: with the
# image's pid (our engine: restart -p; CRIU always does): a multi-threaded process needs it (its
# threads get their original tids), and so does the root of a tree whose children must see it.
# `pidns`: the image of a pid namespace, restarted as the init of a new one (`restart -N`); `ghosts`:
# RESTART_GHOST (`restart -G`), the dead leaders of the tree's groups and sessions held by placeholders.
# The lab's own checks of the verifier: `while_held` (a command run on the held task, {pid}) and
# `expect_differences` (the fields the verification must report, and no others).
@kind("restart", {"restart": (S, True), "log": (S, False), "cwd": (S, False), "save": (S, False),
                  "same_pid": (B, False), "pidns": (B, False), "ghosts": (B, False),
                  "verify_restore": (B, False), "verify_reason": (S, False),
                  "while_held": (S, False), "expect_differences": (L, False)}, validate=_validate_restart)
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
    timeout = timeout_of(step, 120)
    cwd = ctx.text(step, "cwd") if "cwd" in step.args else "/"
    try:
        r = engine.start_restart(m, image, log, cwd, check, ctx.checkpointed.get(image, ""), timeout,
                                 same_pid=bool(step.get("same_pid", False)), pidns=bool(step.get("pidns", False)),
                                 ghosts=bool(step.get("ghosts", False)))
        pid = engine.wait_restored(m, r, timeout)
        if not pid:
            log_text = m.ssh.run(f"tail -n 40 {shlex.quote(log)}", 10).stdout
            raise StepFailure(step, f"restart ({engine.name}) failed; log:\n{log_text}")
        if check and before is not None:
            if "while_held" in step.args:
                m.ssh.run(ctx.text(step, "while_held").replace("{pid}", pid), 30, check=True)
            after = procsnap.snapshot(m, pid, timeout)
            engine.release(m, r)
            snapshots = keep_snapshots(ctx, image.strip("/").replace("/", "_"), before=before, after=after)
            verdict = verify.compare(before, after, gaps=engine.differences)
            if "expect_differences" in step.args:
                ctx.measurements["known_gaps"] = verdict.gap_summary() or "none"
                want = sorted(str(k) for k in step.args["expect_differences"])
                got = sorted(d.key for d in verdict.unexpected)
                if got != want or verdict.unreadable:
                    raise StepFailure(step, f"restore verification reported {got or 'nothing'}, expected "
                                            f"exactly {want}:\n{verdict.problems()}")
                ctx.measurements["caught"] = ",".join(got)
            else:
                report_verdict(ctx, step, verdict, snapshots, f" ({engine.name})")
    except (RuntimeError, ValueError) as exc:
        raise StepFailure(step, str(exc)) from exc
    if "save" in step.args:
        ctx.variables[step.args["save"]] = pid
