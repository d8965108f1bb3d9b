"""The ``migrate`` step: process migration between two guests (``lab.migrate``), with its checks."""

from __future__ import annotations

from .. import cpufeatures, engines
from ..machine import Machine
from ..migrate import CKPT_LOG, STREAM_IDLE_S, migrate_process
from ..scenario import Step
from .base import (
    B,
    Context,
    L,
    N,
    S,
    StepCheck,
    StepFailure,
    keep_snapshots,
    kind,
    report_verdict,
    validate_verify_restore,
)
from .link import link_address, port_for
from .process import CGROUP_ROOT, CGROUPS

MIGRATE_EXPECT = ("success", "restart_fails", "xfeatures")
EOPNOTSUPP = -95
VIAS = ("link", "shm", "host")


def _validate_migrate(c: StepCheck) -> None:
    c.choice("cgroup", "v2", CGROUPS)
    c.choice("expect", "success", MIGRATE_EXPECT)
    c.args["files"] = [str(f) for f in c.args.get("files", [])]
    via = c.choice("via", "link", VIAS)
    if c.args["from"] == c.args["to"]:
        raise c.fail("to", "source and target are the same guest")
    if via in ("link", "shm") and (c.link is None or {c.args["from"], c.args["to"]} != set(c.link)):
        raise c.fail("via", f"a {via} migration needs `link:` between its two guests")
    validate_verify_restore(c)
    if c.args["expect"] == "xfeatures" and "cut_link_after" in c.args:
        raise c.fail("cut_link_after", "not with expect: xfeatures")
    if c.args["expect"] == "xfeatures" and c.engines != ("kernel",):
        raise c.fail("expect", "xfeatures: only with engine: kernel (the refusal is our restart's)")
    if "cut_link_after" in c.args and (via != "link" or c.args["expect"] != "restart_fails"):
        raise c.fail("cut_link_after", "only for a link migration with expect: restart_fails")
    if "precopy" in c.args:
        pc = c.args["precopy"]
        if not isinstance(pc, dict) or set(pc) - {"rounds", "until_bytes"} or \
                not isinstance(pc.get("rounds"), int) or not 1 <= pc["rounds"] <= 20 or \
                not isinstance(pc.get("until_bytes", 0), int):
            raise c.fail("precopy", "{rounds: N (1..20), until_bytes: B (optional: stop at a round this small)}")
        if via not in ("link", "shm") or c.engines != ("kernel",):
            raise c.fail("precopy", "only for a streamed migration (via: link or shm, engine: kernel)")
    if "address" in c.args:
        if c.engines != ("kernel",) or via == "host":
            raise c.fail("address", "only for a streamed migration (via: link or shm) with engine: kernel")
        for end in ("from", "to"):
            if c.args[end] not in c.network:
                raise c.fail("address", f"guest {c.args[end]!r} is not on the scenario's `network:`")
    if "cut_link_after" in c.args and c.engines != ("kernel",):
        raise c.fail("cut_link_after", "only with engine: kernel (the streamed migration)")
    if "stream_idle" in c.args:
        if via not in ("link", "shm") or c.engines != ("kernel",):
            raise c.fail("stream_idle", "only for a streamed migration (via: link or shm, engine: kernel)")
        if not 0.5 <= c.args["stream_idle"] <= 60:
            raise c.fail("stream_idle", "seconds, 0.5..60")


# migrate a process with the scenario's engine: freeze on `from`, carry `files`, checkpoint and
# restart on `to` (streamed over the link with our engine, else the image carried over the link or
# through the host), kill the original; measures downtime and bytes.
# precopy: {rounds: N} -> N pre-copy rounds while the task runs, then only the last pass frozen.
# expect: restart_fails -> restart must fail, and the source must be thawed and still running.
# cut_link_after: S -> the link goes down S seconds after the receiver on `to` has the stream.
# expect: xfeatures -> success or a clean EOPNOTSUPP refusal, as the two guests' CPU models say
#   (lab.cpufeatures): the refusal names the missing xfeatures (or the missing XSAVE).
@kind("migrate", {
    "migrate": ((str, int), True), "from": (S, True), "to": (S, True), "via": (S, False),
    "files": (L, False), "cgroup": (S, False), "save": (S, False), "expect": (S, False),
    "cut_link_after": (N, False), "skip_files": (B, False), "precopy": ((dict,), False),
    # seconds without data after which a streamed restart gives up (default lab.migrate.STREAM_IDLE_S)
    "stream_idle": (N, False),
    # a service address on the network that moves with the task (its TCP connections held)
    "address": (S, False),
    "same_pid": (B, False),  # restart with the task's pid and tids (a multi-threaded task)
    # restore verification (lab.verify) is on; `verify_restore: false` needs a `verify_reason`
    "verify_restore": (B, False), "verify_reason": (S, False),
}, validate=_validate_migrate, needs_guest=False)
def _migrate(ctx: Context, step: Step) -> None:
    frm, to = step.args["from"], step.args["to"]
    src, dst = ctx.machines[frm], ctx.machines[to]
    pid = ctx.text(step, "migrate")
    via = step.args["via"]
    timeout = float(step.get("timeout", 300))

    files = () if step.get("skip_files") else tuple(step.args["files"])
    check = step.get("verify_restore", True)
    expect = step.args["expect"]
    outcome = None
    if expect == "xfeatures":
        outcome = cross_cpu_outcome(ctx, step, src, dst)
        expect = "success" if outcome.ok else "restart_fails"
    try:
        mig = migrate_process(src, dst, pid, via=via, link_addr=link_address(ctx.scenario, to),
                              port=port_for(step), files=files, cgroup=step.args["cgroup"],
                              cut_link_after=step.get("cut_link_after"), timeout=timeout, check=check,
                              stream_idle_s=float(step.get("stream_idle", STREAM_IDLE_S)),
                              engine=engines.get(ctx.scenario.engine), address=step.get("address", ""),
                              same_pid=bool(step.get("same_pid", False)),
                              precopy=step.get("precopy", {}).get("rounds", 0),
                              precopy_until=step.get("precopy", {}).get("until_bytes", 0))
    except (RuntimeError, ValueError) as exc:
        raise StepFailure(step, str(exc)) from exc
    snapshots = keep_snapshots(ctx, f"line{step.line}", before=mig.before, after=mig.after)
    if expect == "restart_fails":
        if mig.ok:
            why = f" ({outcome.describe()})" if outcome else ""
            raise StepFailure(step, f"restart succeeded on the target but was expected to fail{why}")
        cg = step.args["cgroup"]
        state = (f"grep -q 'frozen 0' {CGROUP_ROOT[cg]}/lab-frozen/cgroup.events" if cg == "v2"
                 else f"grep -q THAWED {CGROUP_ROOT[cg]}/lab-frozen/freezer.state")
        alive = src.ssh.run(f"kill -0 {pid} && {state}", 10)
        if not alive.ok:
            raise StepFailure(step, f"the source task {pid} did not survive the failed migration", alive)
        errors = [ln for ln in mig.restart_log.splitlines() if "error" in ln]
        ctx.measurements["restart_error"] = (errors or mig.restart_log.strip().splitlines() or ["?"])[-1][-200:]
        if outcome is not None:
            ctx.measurements["restart_error"] = check_refusal(step, outcome, src, mig.restart_log)
        return
    if not mig.ok:
        raise StepFailure(step, f"migration failed; restart log on {to}:\n{mig.restart_log}")
    if mig.verdict is not None:
        report_verdict(ctx, step, mig.verdict, snapshots, f" ({ctx.scenario.engine})")
    elif check:
        raise StepFailure(step, "restore verification: no snapshot of the restored task was taken")
    if "save" in step.args:
        ctx.variables[step.args["save"]] = mig.new_pid
    ctx.measurements.update({
        "downtime_s": round(mig.downtime_s, 3), "total_s": round(mig.total_s, 3),
        "image_bytes": mig.image_bytes, "via": via,
        **{k: round(v, 3) for k, v in mig.phases.items()},
    })


def cross_cpu_outcome(ctx: Context, step: Step, src: Machine, dst: Machine) -> cpufeatures.Outcome:
    """What C/R from ``src``'s CPU to ``dst``'s must do, from QEMU's vCPU features over QMP; each
    guest kernel's enabled xfeatures must agree with the prediction (else the prediction is wrong)."""
    sides = []
    for m in (src, dst):
        predicted, seen = cpufeatures.of_machine(m), cpufeatures.of_guest(m)
        if (predicted.xsave, predicted.xfeatures) != (seen.xsave, seen.xfeatures):
            raise StepFailure(step, f"{m.cfg.name}: QEMU's vCPU features predict {predicted.describe()}, "
                              f"but the guest kernel enabled {seen.describe()}")
        sides.append(predicted)
    outcome = cpufeatures.expected(sides[0], sides[1])
    ctx.measurements["cross_cpu"] = f"{src.cfg.cpu}->{dst.cfg.cpu}: {outcome.describe()}"
    return outcome


def check_refusal(step: Step, outcome: cpufeatures.Outcome, src: Machine, restart_log: str) -> str:
    """The refusal is the expected one: EOPNOTSUPP, in the right tool's log, naming what is missing;
    returns the log line that says so."""
    if outcome.stage == "checkpoint":
        log = src.ssh.run(f"cat {CKPT_LOG} 2>/dev/null", 10).stdout
        want = [f"error {EOPNOTSUPP}", "XSAVE"]
    elif outcome.missing and "XSAVE" not in outcome.reason:
        log, want = restart_log, [f"error {EOPNOTSUPP}", f"xfeatures {outcome.missing:#x}"]
    else:
        log, want = restart_log, [f"error {EOPNOTSUPP}", "XSAVE"]
    lacking = [w for w in want if w not in log]
    if lacking:
        raise StepFailure(step, f"expected {outcome.describe()}; the {outcome.stage} log lacks "
                          f"{', '.join(map(repr, lacking))}:\n{log.strip()[-1500:]}")
    return next(ln for ln in log.splitlines() if want[0] in ln)[-200:]
