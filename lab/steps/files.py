"""File steps: ``wait`` for a file (or a line in it), ``transfer`` one between guests or with the host
(over the guest link or through the host), ``verify`` its content or checksum."""

from __future__ import annotations

import shlex
from pathlib import Path

from ..relay import host_pipe
from ..scenario import Step
from .base import Context, S, StepCheck, StepFailure, kind, poll_sh, timeout_of
from .link import link_address, link_pipe, port_for, shm_pipe

VIAS = ("link", "shm", "host")


def _validate_transfer(c: StepCheck) -> None:
    guests = sorted(c.guests)
    src = c.args.get("from", guests[0] if len(guests) == 1 else None)
    if src is None:
        raise c.fail("from", "required when the scenario has several guests")
    c.args["from"] = src
    via = c.choice("via", "host", VIAS)
    if via in ("link", "shm"):
        if c.link is None or {c.args["from"], c.args["to"]} != set(c.link):
            raise c.fail("via", f"a {via} transfer needs `link:` between its two guests")


@kind("wait", {"wait": (S, True), "line": (S, False)})
def _wait(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    path = shlex.quote(ctx.text(step, "wait"))
    line = step.get("line")
    cond = f"grep -qF -- {shlex.quote(ctx.text(step, 'line'))} {path}" if line else f"test -e {path}"
    timeout = timeout_of(step, 30)
    res = m.ssh.run(poll_sh(cond, timeout), timeout + 10)
    if not res.ok:
        tail = m.ssh.run(f"tail -n 20 {path} 2>&1", 10)
        raise StepFailure(step, f"not there after {timeout:.0f} s", tail)


@kind("transfer", {"transfer": (S, True), "to": (S, True), "from": (S, False), "dst": (S, False),
                  "via": (S, False)}, validate=_validate_transfer, needs_guest=False, host_endpoints=True)
def _transfer(ctx: Context, step: Step) -> None:
    src = ctx.text(step, "transfer")
    dst = ctx.text(step, "dst") if "dst" in step.args else src
    frm, to = step.args["from"], step.args["to"]
    timeout = timeout_of(step, 120)
    if step.args["via"] == "link":
        failed = link_pipe(ctx.machines[frm], ctx.machines[to], f"cat {shlex.quote(src)}",
                           f"cat > {shlex.quote(dst)}", link_address(ctx.scenario, to), port_for(step), timeout)
        if failed is not None:
            raise StepFailure(step, f"sending {src} over the link failed", failed)
    elif step.args["via"] == "shm":
        failed = shm_pipe(ctx.machines[frm], ctx.machines[to], f"cat {shlex.quote(src)}",
                          f"cat > {shlex.quote(dst)}", timeout)
        if failed is not None:
            raise StepFailure(step, f"sending {src} through the link's shared memory failed", failed)
    elif frm == "host":
        ctx.machines[to].ssh.put(ctx.scenario.path.parent / src, dst, timeout)
    elif to == "host":
        ctx.machines[frm].ssh.get(src, ctx.artifacts / Path(dst).name, timeout)
    else:
        failed, _ = host_pipe(ctx.machines[frm], ctx.machines[to], f"cat {shlex.quote(src)}",
                              f"cat > {shlex.quote(dst)}", timeout)
        if failed is not None:
            raise StepFailure(step, f"sending {src} through the host failed", failed)


@kind("verify", {"verify": (S, True), "equals": (S, False), "contains": (S, False),
                "not_contains": (S, False), "same_as": (S, False)})
def _verify(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    path = ctx.text(step, "verify")
    if "same_as" in step.args:
        other_guest, _, other_path = ctx.text(step, "same_as").rpartition(":")
        other = ctx.machines[other_guest] if other_guest else m
        a = m.ssh.run(f"sha256sum {shlex.quote(path)}", timeout_of(step))
        b = other.ssh.run(f"sha256sum {shlex.quote(other_path)}", timeout_of(step))
        if not (a.ok and b.ok) or a.stdout.split()[0] != b.stdout.split()[0]:
            raise StepFailure(step, f"checksums differ: {a.stdout.strip()} vs {b.stdout.strip()}",
                              a if not a.ok else b)
        return
    res = m.ssh.run(f"cat {shlex.quote(path)}", timeout_of(step))
    if not res.ok:
        raise StepFailure(step, "cannot read the file", res)
    body = res.stdout
    if "equals" in step.args and body.strip() != ctx.text(step, "equals").strip():
        raise StepFailure(step, f"content is not {step.args['equals']!r}", res)
    if "contains" in step.args and ctx.text(step, "contains") not in body:
        raise StepFailure(step, f"content lacks {step.args['contains']!r}", res)
    if "not_contains" in step.args and ctx.text(step, "not_contains") in body:
        raise StepFailure(step, f"content has {step.args['not_contains']!r}", res)
