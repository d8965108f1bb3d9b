"""What every step kind shares: the registry, the context steps see, their failure, their schema.

A step family module registers each of its kinds with :func:`kind`: the YAML fields (name -> types,
required), an optional ``validate`` run at load time (file:line:field errors through
:meth:`StepCheck.fail`), and the handler run by the runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import verify
from ..machine import Machine
from ..ssh import Result

if TYPE_CHECKING:
    import yaml

    from ..scenario import Scenario, Step

# Field specs: name -> (type(s), required). ``str`` fields accept ints (YAML turns 0644 into ints).
Spec = dict[str, tuple[tuple[type, ...], bool]]
S, N, B, L = (str,), (int, float), (bool,), (list,)
COMMON: Spec = {"guest": (S, False), "timeout": (N, False), "name": (S, False)}


class StepFailure(Exception):
    """A step did not do what the scenario says; the message holds the evidence."""

    def __init__(self, step: Step, message: str, result: Result | None = None) -> None:
        self.step = step
        self.result = result
        parts = [f"step {step.title!r} (line {step.line}) failed: {message}"]
        if result is not None:
            parts.append(f"command: {result.command}\nexit status: {result.status}")
            if result.stdout.strip():
                parts.append(f"stdout:\n{result.stdout[-2000:]}")
            if result.stderr.strip():
                parts.append(f"stderr:\n{result.stderr[-2000:]}")
        super().__init__("\n".join(parts))


@dataclass
class Context:
    """What steps see: the scenario's machines and variables."""

    scenario: Scenario
    machines: dict[str, Machine]
    artifacts: Path
    variables: dict[str, str] = field(default_factory=dict)
    measurements: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)  # image path -> procsnap of its task
    checkpointed: dict[str, str] = field(default_factory=dict)  # image path -> pid of its task

    def guest(self, step: Step, key: str = "guest") -> Machine:
        return self.machines[step.args[key]]

    def text(self, step: Step, key: str) -> str:
        from ..scenario import substitute

        try:
            return substitute(str(step.args[key]), self.variables)
        except KeyError as exc:
            raise StepFailure(step, str(exc.args[0])) from exc


@dataclass
class StepCheck:
    """A step being loaded, for a kind's ``validate``: its arguments (defaults may be set), the YAML
    nodes, the scenario's guests, link and engines."""

    kind: str
    args: dict[str, Any]
    raw: dict[str, tuple[Any, yaml.Node]]
    node: yaml.Node
    where: str
    guests: set[str]
    link: tuple[str, str] | None
    error: Callable[[yaml.Node | None, str, str], Exception]
    engines: tuple[str, ...] = ("kernel",)  # the scenario's engines (`engine: both`: each of them)
    network: tuple[str, ...] = ()  # the guests on the scenario's network (`network:`)

    def fail(self, key: str, problem: str) -> Exception:
        """A load error pointing at field ``key`` (or at the step when it is absent)."""
        node = self.raw[key][1] if key in self.raw else self.node
        return self.error(node, f"{self.where}.{key}", problem)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.args.setdefault(key, default)
        if value not in choices:
            raise self.fail(key, f"use one of {', '.join(choices)}")
        return str(value)


StepHandler = Callable[[Context, "Step"], None]


@dataclass(frozen=True)
class StepKind:
    name: str
    fields: Spec
    handler: StepHandler
    validate: Callable[[StepCheck], None] | None = None
    needs_guest: bool = True  # runs on one guest (`guest:`, default: the only one)
    host_endpoints: bool = False  # `from`/`to` may say "host"


KINDS: dict[str, StepKind] = {}


def kind(name: str, fields: Spec, *, validate: Callable[[StepCheck], None] | None = None,
         needs_guest: bool = True, host_endpoints: bool = False) -> Callable[[StepHandler], StepHandler]:
    """Register step kind ``name``: its YAML fields (the action key itself included) and handler."""
    def register(fn: StepHandler) -> StepHandler:
        if name in KINDS:
            raise ValueError(f"step kind {name!r} registered twice")
        KINDS[name] = StepKind(name, {**fields, **COMMON}, fn, validate, needs_guest, host_endpoints)
        return fn
    return register


def timeout_of(step: Step, default: float = 60.0) -> float:
    return float(step.get("timeout", default))


def poll_sh(condition: str, timeout: float, interval_ms: int = 50, negate: bool = False) -> str:
    """A guest shell loop that waits until ``condition`` succeeds (or fails, with ``negate``)."""
    test = f"! {{ {condition}; }}" if not negate else condition
    limit = max(1, int(timeout * 1000 / interval_ms))
    return (f"i=0; while {test} 2>/dev/null; do i=$((i+1)); [ $i -gt {limit} ] && exit 1; "
            f"usleep {interval_ms * 1000}; done")


def check_output(step: Step, res: Result) -> None:
    """The ``stdout_contains`` / ``stderr_contains`` / ``output_contains`` options of a step."""
    for key, stream in (("stdout_contains", res.stdout), ("stderr_contains", res.stderr),
                        ("output_contains", res.stdout + res.stderr)):
        want = step.get(key)
        if want is not None and want not in stream:
            raise StepFailure(step, f"{key.split('_')[0]} lacks {want!r}", res)


def validate_verify_restore(c: StepCheck) -> None:
    """Restore verification is on; ``verify_restore: false`` needs a ``verify_reason``."""
    if c.args.get("verify_restore") is False and not c.args.get("verify_reason"):
        raise c.fail("verify_restore", "turning restore verification off needs a verify_reason")
    if "verify_reason" in c.args and c.args.get("verify_restore", True):
        raise c.fail("verify_reason", "only with verify_restore: false")


def keep_snapshots(ctx: Context, stem: str, **snaps: verify.Snapshot | None) -> str:
    """Write the snapshots there are as artifacts ``verify-STEM-SIDE.snap``; return their glob."""
    for side, snap in snaps.items():
        if snap is not None:
            (ctx.artifacts / f"verify-{stem}-{side}.snap").write_text(verify.dump(snap))
    return f"{ctx.artifacts}/verify-{stem}-*.snap"


def report_verdict(ctx: Context, step: Step, verdict: verify.Verdict, snapshots: str, who: str = "") -> None:
    """Known gaps into the step's measurements; a verification that failed fails the step."""
    ctx.measurements["known_gaps"] = verdict.gap_summary() or "none"
    if not verdict.ok:
        raise StepFailure(step, f"restore verification{who}: {verdict.problems()}\nsnapshots: {snapshots}")
