"""Run a scenario: boot its guests, execute its steps in order, classify consoles, report.

A failing step raises :class:`StepFailure` carrying the step, the command and its output; the run
adds a console excerpt and leaves every log in the run's artifact directory.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ckptimage, console, image, kernel, paths, report
from .machine import Link, Machine, MachineConfig, Runstate
from .scenario import Scenario, Step, substitute
from .ssh import Result, SSHError

LINK_NET = "169.254.0"
CGROUP_ROOT = {"v2": "/sys/fs/cgroup/unified", "v1": "/sys/fs/cgroup/freezer"}
ERRNO_NAMES = ("EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES",
               "EFAULT", "EBUSY", "EEXIST", "EINVAL", "ENOSPC", "ENOSYS", "EOPNOTSUPP", "ENOTSUP",
               "EBADMSG", "E2BIG", "ENOEXEC", "ECHILD", "ESPIPE", "ERANGE", "EOVERFLOW")
ERRNO_TEXT = {
    "EPERM": "Operation not permitted", "ENOENT": "No such file or directory",
    "ESRCH": "No such process", "EINTR": "Interrupted system call", "EIO": "I/O error",
    "EBADF": "Bad file descriptor", "EAGAIN": "Resource temporarily unavailable",
    "ENOMEM": "Out of memory", "EACCES": "Permission denied", "EFAULT": "Bad address",
    "EBUSY": "Resource busy", "EEXIST": "File exists", "EINVAL": "Invalid argument",
    "ENOSPC": "No space left on device", "ENOSYS": "Function not implemented",
    "EOPNOTSUPP": "Not supported", "ENOTSUP": "Not supported", "EBADMSG": "Bad message",
    "E2BIG": "Argument list too long", "ENOEXEC": "Exec format error", "ECHILD": "No child process",
    "ESPIPE": "Illegal seek", "ERANGE": "Result not representable", "EOVERFLOW": "Value too large",
}


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


class ScenarioFailure(Exception):
    """The scenario failed; the message is a readable report (step, command, output, console)."""

    def __init__(self, message: str, result: report.ScenarioResult) -> None:
        self.result = result
        super().__init__(message)


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
        try:
            return substitute(str(step.args[key]), self.variables)
        except KeyError as exc:
            raise StepFailure(step, str(exc.args[0])) from exc


StepHandler = Callable[[Context, Step], None]
HANDLERS: dict[str, StepHandler] = {}


def handler(kind: str) -> Callable[[StepHandler], StepHandler]:
    def register(fn: StepHandler) -> StepHandler:
        HANDLERS[kind] = fn
        return fn
    return register


def _timeout(step: Step, default: float = 60.0) -> float:
    return float(step.get("timeout", default))


def poll_sh(condition: str, timeout: float, interval_ms: int = 50, negate: bool = False) -> str:
    """A guest shell loop that waits until ``condition`` succeeds (or fails, with ``negate``)."""
    test = f"! {{ {condition}; }}" if not negate else condition
    limit = max(1, int(timeout * 1000 / interval_ms))
    return (f"i=0; while {test} 2>/dev/null; do i=$((i+1)); [ $i -gt {limit} ] && exit 1; "
            f"usleep {interval_ms * 1000}; done")


def _check_output(step: Step, res: Result) -> None:
    for key, stream in (("stdout_contains", res.stdout), ("stderr_contains", res.stderr),
                        ("output_contains", res.stdout + res.stderr)):
        want = step.get(key)
        if want is not None and want not in stream:
            raise StepFailure(step, f"{key.split('_')[0]} lacks {want!r}", res)


@handler("run")
def _run(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    cmd = ctx.text(step, "run")
    if step.get("background"):
        log = f"/tmp/lab-{step.args['save']}.log"
        wrapped = f"setsid sh -c {shlex.quote(cmd)} </dev/null >{log} 2>&1 & echo $!"
        res = m.ssh.run(wrapped, _timeout(step, 30), user=step.get("user"))
        pid = res.stdout.strip()
        if not res.ok or not pid.isdigit():
            raise StepFailure(step, "could not start in the background", res)
        ctx.variables[step.args["save"]] = pid
        return
    deadline = time.monotonic() + float(step.get("retry_for", 0))
    while True:
        try:
            res = m.ssh.run(cmd, _timeout(step), user=step.get("user"))
        except SSHError as exc:
            if step.get("disconnect_ok"):
                return
            raise StepFailure(step, str(exc)) from exc
        if res.status == -1 and step.get("disconnect_ok"):
            return  # the guest went away before the command could report its status
        try:
            _check_run(step, res)
            break
        except StepFailure:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
    if "save" in step.args:
        ctx.variables[step.args["save"]] = res.stdout.strip()


def _check_run(step: Step, res: Result) -> None:
    expect = step.get("expect_exit", 0)
    if expect == "nonzero" and res.ok or isinstance(expect, int) and res.status != expect:
        raise StepFailure(step, f"exit status {res.status}, expected {expect}", res)
    _check_output(step, res)


@handler("expect_failure")
def _expect_failure(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    res = m.ssh.run(ctx.text(step, "expect_failure"), _timeout(step), user=step.get("user"))
    if res.ok:
        raise StepFailure(step, "succeeded but was expected to fail", res)
    _check_output(step, res)
    errno = step.get("errno")
    if errno:
        out = res.stdout + res.stderr
        text = ERRNO_TEXT.get(errno, "")
        if errno not in out and not (text and text.lower() in out.lower()):
            raise StepFailure(step, f"failed, but not with {errno}", res)


@handler("wait")
def _wait(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    path = shlex.quote(ctx.text(step, "wait"))
    line = step.get("line")
    cond = f"grep -qF -- {shlex.quote(ctx.text(step, 'line'))} {path}" if line else f"test -e {path}"
    timeout = _timeout(step, 30)
    res = m.ssh.run(poll_sh(cond, timeout), timeout + 10)
    if not res.ok:
        tail = m.ssh.run(f"tail -n 20 {path} 2>&1", 10)
        raise StepFailure(step, f"not there after {timeout:.0f} s", tail)


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


@handler("freeze")
def _freeze(ctx: Context, step: Step) -> None:
    freeze, _ = freeze_commands(ctx.text(step, "freeze"), step.args["cgroup"])
    res = ctx.guest(step).ssh.run(freeze, _timeout(step, 20))
    if not res.ok:
        raise StepFailure(step, "the task did not freeze", res)


@handler("thaw")
def _thaw(ctx: Context, step: Step) -> None:
    _, thaw = freeze_commands(ctx.text(step, "thaw"), step.args["cgroup"])
    res = ctx.guest(step).ssh.run(thaw, _timeout(step, 20))
    if not res.ok:
        raise StepFailure(step, "thaw failed", res)


@handler("signal")
def _signal(ctx: Context, step: Step) -> None:
    sig = str(step.get("sig", "TERM"))
    res = ctx.guest(step).ssh.run(f"kill -{shlex.quote(sig)} {ctx.text(step, 'signal')}", _timeout(step, 10))
    if not res.ok:
        raise StepFailure(step, f"kill -{sig} failed", res)


def _link_address(scenario: Scenario, guest: str) -> str:
    return f"{LINK_NET}.{[g.name for g in scenario.guests].index(guest) + 1}"


def _port(step: Step, salt: int = 0) -> int:
    return 7000 + (step.line * 7 + salt) % 2000


def link_pipe(src: Machine, dst: Machine, source: str, sink: str, addr: str, port: int,
              timeout: float) -> Result | None:
    """Stream ``source | linkcat send`` on ``src`` into ``linkcat recv | sink`` on ``dst``.

    Returns None when both ends succeeded, else the result that shows what failed.
    """
    status = f"/tmp/linkpipe.{port}.status"
    inner = f"set -o pipefail; linkcat recv {port} {int(timeout)} | {sink}; echo $? > {status}"
    recv = dst.ssh.run(f"rm -f {status}; setsid sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>&1 & echo $!",
                       10)
    if not recv.ok:
        return recv
    send = src.ssh.run(f"set -o pipefail; {source} | linkcat send {addr} {port} 10", timeout)
    if not send.ok:
        return send
    done = dst.ssh.run(poll_sh(f"kill -0 {recv.stdout.strip()}", timeout, interval_ms=10, negate=True)
                       + f"; cat {status}", timeout + 5)
    return None if done.ok and done.stdout.strip() == "0" else done


@handler("transfer")
def _transfer(ctx: Context, step: Step) -> None:
    src = ctx.text(step, "transfer")
    dst = ctx.text(step, "dst") if "dst" in step.args else src
    frm, to = step.args["from"], step.args["to"]
    timeout = _timeout(step, 120)
    if step.args["via"] == "link":
        failed = link_pipe(ctx.machines[frm], ctx.machines[to], f"cat {shlex.quote(src)}",
                           f"cat > {shlex.quote(dst)}", _link_address(ctx.scenario, to), _port(step), timeout)
        if failed is not None:
            raise StepFailure(step, f"sending {src} over the link failed", failed)
    elif frm == "host":
        ctx.machines[to].ssh.put(ctx.scenario.path.parent / src, dst, timeout)
    elif to == "host":
        ctx.machines[frm].ssh.get(src, ctx.artifacts / Path(dst).name, timeout)
    else:
        data = ctx.machines[frm].ssh.read_bytes(src, timeout)
        ctx.machines[to].ssh.write_bytes(dst, data, timeout=timeout)


@handler("verify")
def _verify(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    path = ctx.text(step, "verify")
    if "same_as" in step.args:
        other_guest, _, other_path = ctx.text(step, "same_as").rpartition(":")
        other = ctx.machines[other_guest] if other_guest else m
        a = m.ssh.run(f"sha256sum {shlex.quote(path)}", _timeout(step))
        b = other.ssh.run(f"sha256sum {shlex.quote(other_path)}", _timeout(step))
        if not (a.ok and b.ok) or a.stdout.split()[0] != b.stdout.split()[0]:
            raise StepFailure(step, f"checksums differ: {a.stdout.strip()} vs {b.stdout.strip()}",
                              a if not a.ok else b)
        return
    res = m.ssh.run(f"cat {shlex.quote(path)}", _timeout(step))
    if not res.ok:
        raise StepFailure(step, "cannot read the file", res)
    body = res.stdout
    if "equals" in step.args and body.strip() != ctx.text(step, "equals").strip():
        raise StepFailure(step, f"content is not {step.args['equals']!r}", res)
    if "contains" in step.args and ctx.text(step, "contains") not in body:
        raise StepFailure(step, f"content lacks {step.args['contains']!r}", res)
    if "not_contains" in step.args and ctx.text(step, "not_contains") in body:
        raise StepFailure(step, f"content has {step.args['not_contains']!r}", res)


@handler("console")
def _console(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    kind = step.args["console"]
    deadline = time.monotonic() + _timeout(step, 30)
    while time.monotonic() < deadline:
        if any(f.kind == kind for f in console.classify_file(m.console_log)):
            return
        time.sleep(0.1)
    raise StepFailure(step, f"no {kind} on the console; tail:\n{console.tail(m.console_log)}")


@handler("ckptinfo")
def _ckptinfo(ctx: Context, step: Step) -> None:
    remote = ctx.text(step, "ckptinfo")
    local = ctx.artifacts / f"{step.args['guest']}-{Path(remote).name}"
    ctx.guest(step).ssh.get(remote, local, _timeout(step, 120))
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


@handler("tamper")
def _tamper(ctx: Context, step: Step) -> None:
    m = ctx.guest(step)
    remote = ctx.text(step, "tamper")
    try:
        data = ckptimage.tamper(m.ssh.read_bytes(remote), release=step.get("release"), arch=step.get("arch"))
    except ckptimage.ImageError as exc:
        raise StepFailure(step, f"cannot tamper with {remote}: {exc}") from exc
    m.ssh.write_bytes(remote, data)


@handler("sleep")
def _sleep(ctx: Context, step: Step) -> None:
    time.sleep(float(step.args["sleep"]))


@dataclass
class Built:
    kernel: kernel.KernelBuild
    image: image.GuestImage


def build_all(extra_fragments: Sequence[str] = ()) -> Built:
    """Kernel (the default fragments + ``extra_fragments``) and guest image, both cached."""
    kb = kernel.build_kernel(kernel.default_inputs(extra_fragments))
    return Built(kb, image.build_image(kb))


def new_artifact_dir(name: str) -> Path:
    root = paths.artifacts_dir()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"{name}-{stamp}-", dir=root))


def run_scenario(scenario: Scenario, *, accel: str = "auto", built: Built | None = None,
                 artifacts: Path | None = None) -> report.ScenarioResult:
    """Run ``scenario``; return its result, or raise :class:`ScenarioFailure` with the evidence."""
    built = built or build_all(scenario.kernel_fragments)
    artifacts = artifacts or new_artifact_dir(scenario.name)
    result = report.ScenarioResult(scenario=scenario.name, file=str(scenario.path), artifacts=str(artifacts))
    start = time.monotonic()
    failure: str | None = None
    machines: dict[str, Machine] = {}
    with ExitStack() as stack:
        tmp = paths.new_run_dir("run")
        stack.callback(shutil.rmtree, tmp, True)
        extra = image.scenario_layers(scenario.sources(), built.kernel, scenario.binaries(), scenario.trees(),
                                      scenario.packages)
        initrd = image.compose_initrd(built.image, extra, tmp / "initrd.cpio")
        for index, g in enumerate(scenario.guests):
            link = None
            if scenario.link and g.name in scenario.link:
                peer = scenario.link[1] if g.name == scenario.link[0] else scenario.link[0]
                link = Link(tmp, g.name, peer, _link_address(scenario, g.name))
            cfg = MachineConfig(name=g.name, kernel=built.kernel.image, initrd=initrd,
                                memory_mib=g.memory_mib, smp=g.smp, cpu=g.cpu, machine=g.machine,
                                accel=accel, append=g.append, link=link, index=index)
            m = Machine(cfg, artifacts)
            stack.callback(_shutdown_quietly, m)
            machines[g.name] = m
        ctx = Context(scenario, machines, artifacts)
        try:
            for m in machines.values():
                m.launch(wait_ssh=False)
            for m in machines.values():
                result.boot_seconds[m.cfg.name] = round(m.wait_ssh(), 2)
            result.accel = next(iter(machines.values())).accel
            for index, step in enumerate(scenario.steps):
                t0 = time.monotonic()
                if time.monotonic() - start > scenario.timeout:
                    raise StepFailure(step, f"scenario timeout of {scenario.timeout:.0f} s reached")
                record = report.StepResult(step.title, step.kind, step.line, 0.0)
                result.steps.append(record)
                try:
                    with _recording(machines, record, artifacts / "steps" / f"{index:02d}"):
                        HANDLERS[step.kind](ctx, step)
                except SSHError as exc:
                    raise StepFailure(step, str(exc)) from exc
                finally:
                    record.seconds = round(time.monotonic() - t0, 3)
                record.ok = True
        except StepFailure as exc:
            failure = str(exc)
        except Exception as exc:  # noqa: BLE001 - any lab error fails the scenario with evidence
            failure = f"{type(exc).__name__}: {exc}"
        result.measurements.update(ctx.measurements)
    # All guests are down: the consoles are complete.
    problems = console_problems(scenario, machines, result)
    result.seconds = round(time.monotonic() - start, 2)
    if failure or problems:
        parts = [failure] if failure else []
        if problems:
            parts.append("console findings:\n" + "\n".join(problems))
        elif failure:
            for name, m in machines.items():
                parts.append(f"console of {name} ({m.console_log}), last lines:\n{console.tail(m.console_log, 15)}")
        parts.append(f"artifacts: {artifacts}")
        result.passed = False
        result.error = "\n\n".join(parts)
        report.write_json(result, artifacts / "result.json")
        raise ScenarioFailure(result.error, result)
    result.passed = True
    report.write_json(result, artifacts / "result.json")
    return result


@contextmanager
def _recording(machines: dict[str, Machine], record: report.StepResult, prefix: Path) -> Iterator[None]:
    """Keep every guest command the step runs in ``record``; the last one is its main command."""
    def observer(name: str) -> Callable[[Result, float], None]:
        def observe(res: Result, seconds: float) -> None:
            n = len(record.commands)
            out_file = ""
            if len(res.stdout) + len(res.stderr) > report.INLINE_OUTPUT:
                path = prefix.with_name(f"{prefix.name}-{n}.out")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"$ {res.command}\nexit status {res.status}\n--- stdout\n{res.stdout}"
                                f"\n--- stderr\n{res.stderr}")
                out_file = str(path)
            tail = report.INLINE_OUTPUT // 2
            record.commands.append(report.CommandRecord(
                name, res.command, res.status, round(seconds, 3), res.stdout[-tail:], res.stderr[-tail:],
                out_file))
            record.exit_status, record.stdout, record.stderr = res.status, res.stdout[-tail:], res.stderr[-tail:]
        return observe

    attached = []
    for name, m in machines.items():
        if m.state is Runstate.RUNNING:
            fn = observer(name)
            m.ssh_observers().append(fn)
            attached.append((m, fn))
    try:
        yield
    finally:
        for m, fn in attached:
            if fn in m.ssh_observers():
                m.ssh_observers().remove(fn)


def console_problems(scenario: Scenario, machines: dict[str, Machine],
                     result: report.ScenarioResult) -> list[str]:
    """Unexpected findings on any guest; expected kinds missing from every guest."""
    problems = []
    seen: set[str] = set()
    for name, m in machines.items():
        findings = console.classify_file(m.console_log)
        result.findings[name] = [f"{f.kind}: {f.line}" for f in findings]
        for f in findings:
            seen.add(f.kind)
            if f.kind not in scenario.expect_console:
                problems.append(f"guest {name}: {f}")
    for kind in scenario.expect_console:
        if kind not in seen:
            problems.append(f"expected a {kind} on a console, none seen")
    return problems


def _shutdown_quietly(m: Machine) -> None:
    try:
        m.shutdown()
    except Exception:  # noqa: BLE001 - it is down either way; the console tells the story
        pass


# Step kinds defined in other modules register themselves on import.
from . import migrate  # noqa: E402,F401
from .steps import cr  # noqa: E402,F401
