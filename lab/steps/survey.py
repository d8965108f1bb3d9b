"""The ``survey`` step: programs that no one here wrote, each checkpointed mid-run and restarted.

A catalogue (YAML, next to the scenario) lists programs as a new user would try them: what to set up,
the command, when to checkpoint. For each program the step runs the command once uninterrupted (the
reference), then again from the same input: frozen after ``checkpoint_after`` seconds, checkpointed by
the scenario's engine, killed, restarted held from ``/`` with its pid, compared with the checkpointed task
(restore verification), released, and its output files compared with the reference's. Outcomes:

- ``pass``: restored, verification clean, every compared file identical to the reference;
- ``refused``: the checkpoint failed (the engine's log line names the object: an honest refusal);
- ``restart_failed``: the image was written but restart failed (with its log line);
- ``wrong``: restored, but a field of the task or an output differs: **silent loss**, always a failure;
- ``hung``: restored, but it did not finish in time;
- ``too_fast``: it finished before the checkpoint (make its input larger);
- ``broken``: its set-up or uninterrupted run failed or timed out (the catalogue is wrong).

The step fails on ``wrong``, ``hung``, ``too_fast`` and ``broken``, and on any program whose
``expect`` says ``pass`` but that did not pass (a regression). The table goes to the step's
measurements and to ``survey-ENGINE.txt`` / ``.json`` in the artifacts.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import engines, procsnap, verify
from ..scenario import Loader, ScenarioError, Step
from ..ssh import SSHError
from .base import Context, L, S, StepFailure, keep_snapshots, kind, timeout_of
from .process import CGROUP_ROOT, freeze_commands, kill_tree_sh

OUTCOMES = ("pass", "refused", "restart_failed", "wrong", "hung", "too_fast", "broken")
FAILING = ("wrong", "hung", "too_fast", "broken")
WORK = "/tmp/survey"

_S: tuple[type, ...] = (str,)
_N: tuple[type, ...] = (int, float)
_L: tuple[type, ...] = (list,)
PROGRAM_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": (_S, True), "package": (_S, False), "setup": (_S, False), "run": (_S, True),
    "checkpoint_after": (_N, False), "timeout": (_N, False), "compare": (_L, False),
    "expect": (_S, False), "note": (_S, False), "unordered": ((bool,), False),
}


class CatalogueError(ScenarioError):
    """A survey catalogue is invalid (``file:line: field: problem``)."""


@dataclass(frozen=True)
class Program:
    name: str
    run: str
    setup: str = ""
    package: str = ""
    checkpoint_after: float = 1.0
    timeout: float = 120.0
    compare: tuple[str, ...] = ()  # files the program writes (relative to its directory), besides stdout/stderr
    expect: str = ""  # "pass": anything else fails the step (a regression); "": informational
    note: str = ""
    unordered: bool = False  # its stdout lines come in any order (parallel children): compared sorted


def load_catalogue(path: Path) -> tuple[Program, ...]:
    """The programs of catalogue ``path``; errors at ``file:line: field``."""
    loader = Loader(path)
    loader.error_type = CatalogueError
    top = loader.mapping(loader.compose(), {"programs": (_L, True)}, "")
    if not isinstance(top["programs"][1], yaml.SequenceNode):
        raise loader.error(top["programs"][1], "programs", "a list of programs")
    programs: list[Program] = []
    seen: set[str] = set()
    for i, node in enumerate(top["programs"][1].value):
        where = f"programs[{i}]"
        f = loader.mapping(node, PROGRAM_FIELDS, where)
        name = f["name"][0]
        if name in seen:
            raise loader.error(f["name"][1], f"{where}.name", f"duplicate program {name!r}")
        seen.add(name)
        if not name.replace("-", "").replace("_", "").isalnum():
            raise loader.error(f["name"][1], f"{where}.name", "use letters, digits, - and _")
        if "expect" in f and f["expect"][0] not in OUTCOMES:
            raise loader.error(f["expect"][1], f"{where}.expect", f"use one of {', '.join(OUTCOMES)}")
        for key in ("checkpoint_after", "timeout"):
            if key in f and not f[key][0] > 0:
                raise loader.error(f[key][1], f"{where}.{key}", "a number of seconds > 0")
        compare = tuple(str(c) for c in f["compare"][0]) if "compare" in f else ()
        for c in compare:
            if c.startswith("/") or ".." in c.split("/"):
                raise loader.error(f["compare"][1], f"{where}.compare", f"{c!r}: a path inside the program's directory")
        programs.append(Program(
            name=name, run=f["run"][0], setup=f.get("setup", ("",))[0], package=f.get("package", ("",))[0],
            checkpoint_after=float(f.get("checkpoint_after", (1.0,))[0]),
            timeout=float(f.get("timeout", (120.0,))[0]), compare=compare,
            expect=f.get("expect", ("",))[0], note=f.get("note", ("",))[0],
            unordered=bool(f.get("unordered", (False,))[0])))
    if not programs:
        raise loader.error(top["programs"][1], "programs", "at least one program")
    return tuple(programs)


@dataclass
class Outcome:
    program: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0  # the whole try, reference run included
    ref_seconds: float = 0.0  # the uninterrupted run

    def row(self) -> str:
        return f"{self.program:<18} {self.outcome:<15} {self.ref_seconds:>6.1f}  {self.detail}"


def _digest_sh(d: str, run: str, files: tuple[str, ...], unordered: bool = False) -> str:
    """A guest shell that prints ``NAME SHA256`` (or ``NAME MISSING``) for a run's stdout, stderr and
    each compared file (``d``: the program's directory; ``run``: ``ref`` or ``cr``); with
    ``unordered`` the digest of stdout's lines sorted."""
    h = ('h() { if [ -f "$2" ]; then echo "$1 $($3 < "$2" | sha256sum | cut -d" " -f1)"; '
         'else echo "$1 MISSING"; fi; }')
    entries = [("stdout", f"{d}/{run}.out", "sort" if unordered else "cat"), ("stderr", f"{d}/{run}.err", "cat"),
               *((f, f"{d}/run/{f}", "cat") for f in files)]
    return "; ".join([h, *(f"h {shlex.quote(n)} {shlex.quote(path)} {how}" for n, path, how in entries)])


def _parse_digests(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if " " in line)


class Survey:
    """The programs of a catalogue on guest ``ctx.guest(step)``, with the scenario's engine."""

    def __init__(self, ctx: Context, step: Step) -> None:
        self.ctx = ctx
        self.step = step
        self.m = ctx.guest(step)
        self.engine = engines.get(ctx.scenario.engine)

    def sh(self, cmd: str, timeout: float = 60.0) -> tuple[bool, str]:
        res = self.m.ssh.run(cmd, timeout)
        return res.ok, res.stdout + res.stderr

    def fail(self, p: Program, problem: str) -> StepFailure:
        return StepFailure(self.step, f"survey {p.name}: {problem}")

    def prepare(self, p: Program) -> None:
        """A fresh ``base`` directory with the program's input; each run starts from a copy of it."""
        d = shlex.quote(f"{WORK}/{p.name}")
        ok, out = self.sh(f"rm -rf {d} && mkdir -p {d}/base && cd {d}/base && {{ {p.setup or ':'}; }}", p.timeout)
        if not ok:
            raise self.fail(p, f"setup failed:\n{out[-2000:]}")

    def fresh_run_dir(self, p: Program) -> None:
        """``DIR/run``: a copy of ``base`` by hard links (inputs are read, outputs are new files)."""
        d = f"{WORK}/{p.name}"
        ok, out = self.sh(f"rm -rf {d}/run && cp -al {d}/base {d}/run", p.timeout)
        if not ok:
            raise self.fail(p, f"cannot copy its directory: {out}")

    def start(self, p: Program, run: str) -> str:
        """Start a run in a fresh ``DIR/run``; the program itself has the pid returned."""
        d = f"{WORK}/{p.name}"
        self.fresh_run_dir(p)
        cmd = f"cd {d}/run && exec {p.run} </dev/null >{d}/{run}.out 2>{d}/{run}.err"
        ok, out = self.sh(f"setsid sh -c {shlex.quote(cmd)} >/dev/null 2>&1 & echo $!", 20)
        pid = out.strip()
        if not ok or not pid.isdigit():
            raise self.fail(p, f"cannot start: {out}")
        return pid

    def wait_gone(self, pid: str, timeout: float) -> bool:
        start, expired = procsnap.deadline_sh(timeout)
        ok, _ = self.sh(f"{start}; while kill -0 {pid} 2>/dev/null; do {expired} && exit 1; usleep 50000; done",
                        timeout + 30)
        return ok

    def kill_tree(self, pid: str, then: str = "true") -> None:
        """SIGKILL ``pid`` and its descendants, run ``then`` (a thaw), wait until all are gone."""
        self.sh(kill_tree_sh(pid, then, 10), 40)

    def reference(self, p: Program) -> tuple[dict[str, str], float]:
        """The uninterrupted run, in the foreground: its digests and seconds; a run that fails or does
        not finish is a catalogue error."""
        d = f"{WORK}/{p.name}"
        self.fresh_run_dir(p)
        t0 = time.monotonic()
        try:
            res = self.m.ssh.run(f"cd {d}/run && {p.run} </dev/null >{d}/ref.out 2>{d}/ref.err", p.timeout)
        except SSHError as exc:
            self.sh(f"killall -q -KILL {shlex.quote(Path(p.run.split()[0]).name[:15])}; true")
            raise self.fail(p, f"the reference run did not finish in {p.timeout:.0f} s ({exc})") from exc
        seconds = round(time.monotonic() - t0, 2)
        if not res.ok:
            err = self.sh(f"tail -c 1000 {d}/ref.err")[1]
            raise self.fail(p, f"the reference run failed (exit status {res.status}; a catalogue error?):\n{err}")
        digests = _parse_digests(self.sh(_digest_sh(d, "ref", p.compare, p.unordered))[1])
        self.sh(f"rm -rf {d}/run")  # /tmp is in the guest's memory (its stdout stays, for a diff)
        return digests, seconds

    def one(self, p: Program) -> Outcome:
        t0 = time.monotonic()

        ref_s = 0.0

        def outcome(name: str, detail: str = "") -> Outcome:
            return Outcome(p.name, name, detail, round(time.monotonic() - t0, 2), ref_s)

        try:
            self.prepare(p)
            ref, ref_s = self.reference(p)
        except StepFailure as exc:
            return outcome("broken", str(exc).split(": ", 2)[-1].splitlines()[0][:300])
        d = f"{WORK}/{p.name}"
        image, log = f"{d}/img", f"{d}/ckpt.log"
        pid = self.start(p, "cr")
        # mid-run on this machine: at most a third of the uninterrupted run (a faster host than
        # the catalogue was sized on must not turn a program into "too fast")
        delay = max(0.05, min(p.checkpoint_after, ref_s / 3))
        time.sleep(delay)
        if not self.sh(f"kill -0 {pid}")[0]:
            return outcome("too_fast", f"finished within {delay:.2g} s")
        group = f"lab-survey-{p.name}"
        freeze, thaw = freeze_commands(pid, "v2", group)
        cgroup_dir = f"{CGROUP_ROOT['v2']}/{group}"
        ok, out = self.sh(freeze, 30)
        try:
            if not ok:
                raise RuntimeError(f"the task did not freeze: {out}")
            before = procsnap.snapshot(self.m, pid, 60)
        except RuntimeError as exc:
            gone = not self.sh(f"kill -0 {pid}")[0]
            self.sh(f"kill -KILL {pid}; {thaw}; rmdir {cgroup_dir} 2>/dev/null; true")
            if gone:  # it finished while being frozen
                return outcome("too_fast", f"finished within about {delay:.2g} s")
            raise self.fail(p, str(exc)) from exc
        res = engines.checkpoint(self.engine, self.m, pid, image, log, cgroup_dir, p.timeout)
        self.kill_tree(pid, thaw)  # a restored tree needs its pids
        self.sh(f"rmdir {cgroup_dir} 2>/dev/null; true")
        if not res.ok:
            return outcome("refused", self._log_reason(log, res.stdout + res.stderr))
        # with its own pid (restart -p; CRIU always does): a program may keep getpid() (xargs asserts
        # it is still its children's parent) and a multi-threaded one keeps its tids
        r = self.engine.start_restart(self.m, image, f"{d}/restart.log", "/", True, pid, p.timeout,
                                      same_pid=True)
        rpid = self.engine.wait_restored(self.m, r, p.timeout)
        if not rpid:
            return outcome("restart_failed", self._log_reason(f"{d}/restart.log", ""))
        try:
            after = procsnap.snapshot(self.m, rpid, 60)
        except RuntimeError as exc:
            self.kill_tree(rpid, f"kill -KILL {r.holder}")
            raise self.fail(p, f"restore verification: {exc}") from exc
        self.engine.release(self.m, r)
        verdict = verify.compare(before, after, gaps=self.engine.differences)
        if not verdict.ok:
            keep_snapshots(self.ctx, f"survey-{p.name}", before=before, after=after)
            self.kill_tree(rpid)
            keys = ", ".join(sorted({x.key for x in verdict.unexpected})) or "unreadable snapshot"
            return outcome("wrong", f"the restored task differs: {keys}")
        if not self.wait_gone(rpid, p.timeout):
            self.kill_tree(rpid)
            return outcome("hung", f"still running {p.timeout:.0f} s after its restart")
        got = _parse_digests(self.sh(_digest_sh(d, "cr", p.compare, p.unordered))[1])
        if got != ref:
            differ = ", ".join(k for k in sorted(set(ref) | set(got)) if ref.get(k) != got.get(k))
            return outcome("wrong", f"output differs from the uninterrupted run: {differ}")
        return outcome("pass")

    def clean(self, p: Program, outcome: Outcome) -> None:
        """Keep the last 20 KB of its logs (and of both outputs when they differ) in the artifacts; free the
        guest's memory of the rest."""
        d = f"{WORK}/{p.name}"
        outputs = ("ref.out", "cr.out", "ref.err") if outcome.outcome == "wrong" else ()
        for name in ("ckpt.log", "restart.log", "cr.err", *outputs):
            res = self.m.ssh.run(f"tail -c 20000 {d}/{name} 2>/dev/null", 10)
            if res.stdout:
                (self.ctx.artifacts / f"survey-{p.name}-{name}").write_text(res.stdout)
        self.sh(f"rm -rf {shlex.quote(d)}")

    def _log_reason(self, log: str, fallback: str) -> str:
        """The engine's last lines (the object it names), else the command's output."""
        _, text = self.sh(f"grep -v '^$' {shlex.quote(log)} 2>/dev/null | tail -n 2", 10)
        lines = (text.strip() or fallback.strip()).splitlines()[-2:]
        return " | ".join(x.strip() for x in lines)[:300]


def table(outcomes: list[Outcome]) -> str:
    counts = {o: sum(1 for x in outcomes if x.outcome == o) for o in OUTCOMES}
    head = f"{'program':<18} {'outcome':<15} {'ref_s':>6}  detail"
    summary = " ".join(f"{k}={v}" for k, v in counts.items())
    return "\n".join([head, *(o.row() for o in outcomes), summary]) + "\n"


# run a catalogue of programs (`survey: FILE`, next to the scenario), each checkpointed mid-run by the
# scenario's engine and restarted; `only`: a subset by name
@kind("survey", {"survey": (S, True), "only": (L, False)})
def _survey(ctx: Context, step: Step) -> None:
    path = ctx.scenario.path.parent / ctx.text(step, "survey")
    try:
        programs = load_catalogue(path)
    except (OSError, ScenarioError) as exc:
        raise StepFailure(step, f"survey catalogue: {exc}") from exc
    if "only" in step.args:
        wanted = [str(n) for n in step.args["only"]]
        unknown = sorted(set(wanted) - {p.name for p in programs})
        if unknown:
            raise StepFailure(step, f"survey: no program {', '.join(unknown)} in {path}")
        programs = tuple(p for p in programs if p.name in wanted)
    s = Survey(ctx, step)
    deadline = time.monotonic() + timeout_of(step, 1800)
    outcomes: list[Outcome] = []
    for p in programs:
        if time.monotonic() > deadline:
            raise StepFailure(step, f"survey: timeout before {p.name}")
        outcomes.append(s.one(p))
        s.clean(p, outcomes[-1])
    engine = ctx.scenario.engine
    text = table(outcomes)
    (ctx.artifacts / f"survey-{engine}.txt").write_text(text)
    (ctx.artifacts / f"survey-{engine}.json").write_text(json.dumps([o.__dict__ for o in outcomes], indent=2) + "\n")
    ctx.measurements[f"survey_{engine}"] = {o.program: o.outcome for o in outcomes}
    expected = {p.name: p.expect for p in programs}
    bad = [o for o in outcomes if o.outcome in FAILING or (expected[o.program] == "pass" and o.outcome != "pass")]
    if bad:
        raise StepFailure(step, "survey (" + engine + "): " + ", ".join(f"{o.program} {o.outcome}" for o in bad)
                          + "\n" + text)
