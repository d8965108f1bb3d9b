"""Checkpoint image steps: ``ckptinfo`` (read an image from the guest with the host-side reader) and
``tamper`` (rewrite a header field, checksum fixed up)."""

from __future__ import annotations

from pathlib import Path

from .. import ckptimage
from ..scenario import Step
from .base import Context, S, StepFailure, kind, timeout_of


# fetch a checkpoint image from the guest and check it with the host-side reader (lab ckptinfo);
# expect_error: the image must end in an error record containing this text; tasks: how many tasks
# its hierarchy holds
@kind("ckptinfo", {"ckptinfo": (S, True), "expect_error": (S, False), "comm": (S, False),
                   "tasks": ((int,), False)})
def _ckptinfo(ctx: Context, step: Step) -> None:
    remote = ctx.text(step, "ckptinfo")
    local = ctx.artifacts / f"{step.args['guest']}-{Path(remote).name}"
    ctx.guest(step).ssh.get(remote, local, timeout_of(step, 120))
    try:
        img = ckptimage.read(local)
    except ckptimage.ImageError as exc:
        raise StepFailure(step, f"bad image (kept at {local}): {exc}") from exc
    summary = img.summary()
    ctx.measurements[f"image_bytes:{Path(remote).name}"] = summary["bytes"]
    want_error = step.get("expect_error")
    if want_error is not None:
        if img.error is None or want_error not in img.error:
            raise StepFailure(step, f"image error record is {img.error!r}, expected {want_error!r}")
    elif img.error is not None:
        raise StepFailure(step, f"the image holds an error record: {img.error}")
    if "comm" in step.args and summary["comm"] != step.args["comm"]:
        raise StepFailure(step, f"image task comm is {summary['comm']!r}, expected {step.args['comm']!r}")
    if "tasks" in step.args and summary["tasks"] != step.args["tasks"]:
        raise StepFailure(step, f"image holds {summary['tasks']} tasks, expected {step.args['tasks']}")


# rewrite a field of a checkpoint image in place (the tail checksum is recomputed), to make an
# image that looks as if it came from another kernel or architecture
@kind("tamper", {"tamper": (S, True), "release": (S, False), "arch": ((int,), False), "umask": ((int,), False),
                 "dumpable": ((int,), False), "fields": ((dict,), False), "sysctls": ((dict,), False)})
def _tamper(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    remote = ctx.text(step, "tamper")
    try:
        data = ckptimage.tamper(m.ssh.read_bytes(remote), release=step.get("release"), arch=step.get("arch"),
                                umask=step.get("umask"), dumpable=step.get("dumpable"),
                                fields=step.get("fields"), sysctls=step.get("sysctls"))
    except ckptimage.ImageError as exc:
        raise StepFailure(step, f"cannot tamper with {remote}: {exc}") from exc
    m.ssh.write_bytes(remote, data)
