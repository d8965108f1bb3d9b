"""CPU models and the XSAVE features (xfeatures) a guest kernel gets from them, as QEMU says.

Restart refuses an image whose header names user xfeatures the CPU lacks (EOPNOTSUPP, the logfd
line naming the missing mask), and checkpoint refuses a CPU without XSAVE. Which of the two a
cross-CPU C/R must meet is computed here from the models' CPUID features, never listed by hand:

- :func:`probe` asks a paused QEMU (``-S``, no guest) for a model's realized vCPU features over
  QMP (``qom-get`` on the vCPU, after the accelerator filtered what it cannot emulate: TCG drops
  AVX-512 from Skylake-Server, for instance); cached per QEMU version, model and accelerator;
- :func:`of_machine` does the same for a running guest's vCPU 0;
- :func:`of_guest` reads what the guest kernel enabled (``x86/fpu: Enabled xstate features``), the
  check that the prediction is right;
- :func:`expected` gives the outcome of checkpoint on one and restart on the other.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from . import command, paths

if TYPE_CHECKING:
    from .machine import Machine

QEMU = "qemu-system-x86_64"

# Linux 6.1's xsave_cpuid_features[], user xfeatures only (XFEATURE_MASK_USER_SUPPORTED):
# bit -> (name, the CPUID feature QEMU calls it by). Every one also needs XSAVE.
XFEATURES: dict[int, tuple[str, str]] = {
    0: ("x87", "fpu"), 1: ("sse", "sse"), 2: ("ymm", "avx"), 3: ("bndregs", "mpx"), 4: ("bndcsr", "mpx"),
    5: ("opmask", "avx512f"), 6: ("zmm_hi256", "avx512f"), 7: ("hi16_zmm", "avx512f"), 9: ("pkru", "pku"),
    17: ("xtilecfg", "amx-tile"), 18: ("xtiledata", "amx-tile"),
}
USER_MASK = sum(1 << bit for bit in XFEATURES)
PROPERTIES = ("xsave", *sorted({prop for _, prop in XFEATURES.values()}))
ENABLED_RE = re.compile(r"x86/fpu: Enabled xstate features (0x[0-9a-f]+)")


class CpuModelError(Exception):
    """QEMU does not know or cannot start this CPU model."""


@dataclass(frozen=True)
class CpuFeatures:
    model: str
    xsave: bool
    xfeatures: int  # user xfeatures mask; 0 without XSAVE

    def describe(self) -> str:
        return f"{self.model}: " + (f"xfeatures {self.xfeatures:#x} ({names(self.xfeatures)})" if self.xsave
                                    else "no XSAVE")


@dataclass(frozen=True)
class Outcome:
    """What checkpoint on ``source`` then restart on ``target`` must do."""

    ok: bool
    stage: str = ""  # "checkpoint" or "restart": where it is refused
    missing: int = 0  # xfeatures the target lacks
    reason: str = ""

    def describe(self) -> str:
        return "success" if self.ok else f"{self.stage} refused: {self.reason}"


def names(mask: int) -> str:
    parts = [name for bit, (name, _) in sorted(XFEATURES.items()) if mask >> bit & 1]
    return ",".join(parts) or "none"


def from_properties(model: str, props: dict[str, bool]) -> CpuFeatures:
    """Features from QEMU's vCPU properties (``fpu``, ``sse``, ``xsave``, ``avx`` ...)."""
    if not props.get("xsave"):
        return CpuFeatures(model, False, 0)
    mask = sum(1 << bit for bit, (_, prop) in XFEATURES.items() if props.get(prop))
    return CpuFeatures(model, True, mask)


def expected(source: CpuFeatures, target: CpuFeatures) -> Outcome:
    """The kernel's rules (arch/x86/kernel/checkpoint.c): no XSAVE, no FPU state to save or load;
    an image's xfeatures must all be on the restarting CPU."""
    if not source.xsave:
        return Outcome(False, "checkpoint", 0, f"{source.model} has no XSAVE (EOPNOTSUPP)")
    if not target.xsave:
        return Outcome(False, "restart", source.xfeatures, f"{target.model} has no XSAVE (EOPNOTSUPP)")
    missing = source.xfeatures & ~target.xfeatures
    if missing:
        return Outcome(False, "restart", missing,
                       f"{target.model} lacks xfeatures {missing:#x} ({names(missing)}) (EOPNOTSUPP)")
    return Outcome(True)


def vcpu_properties(qmp: Callable[..., Any]) -> dict[str, bool]:
    """The realized vCPU 0's feature properties, through a QMP ``cmd(name, **args)`` callable."""
    path = qmp("query-cpus-fast")[0]["qom-path"]
    return {prop: bool(qmp("qom-get", path=path, property=prop)) for prop in PROPERTIES}


def of_machine(m: Machine) -> CpuFeatures:
    return from_properties(m.cfg.cpu, vcpu_properties(m.qmp))


def of_guest(m: Machine) -> CpuFeatures:
    """What the guest kernel enabled, from its boot log."""
    out = m.ssh.run("dmesg | grep 'x86/fpu: Enabled xstate features' || true", 20).stdout
    found = ENABLED_RE.search(out)
    if not found:
        return CpuFeatures(m.cfg.cpu, False, 0)
    return CpuFeatures(m.cfg.cpu, True, int(found.group(1), 16) & USER_MASK)


def known_models() -> list[str]:
    """CPU model names ``qemu-system-x86_64 -cpu help`` lists (plus ``host`` and ``max``)."""
    out = command.run([QEMU, "-cpu", "help"], check=False).stdout
    models = {"host", "max"}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "x86":
            models.add(parts[1])
        if line.strip().startswith("Recognized CPUID flags"):
            break
    return sorted(models)


def known_machines() -> list[str]:
    """Machine type names ``qemu-system-x86_64 -machine help`` lists (aliases included)."""
    out = command.run([QEMU, "-machine", "help"], check=False).stdout
    found: set[str] = set()
    for line in out.splitlines()[1:]:
        parts = line.split()
        if parts and parts[0] != "none":
            found.add(parts[0])
            alias = re.search(r"\(alias of ([\w.-]+)\)", line)
            if alias:
                found.add(alias.group(1))
    return sorted(found)


def _qemu_version() -> str:
    return command.run([QEMU, "--version"], check=False).stdout.splitlines()[0:1][0] \
        if shutil.which(QEMU) else "none"


def probe(model: str, accel: str = "tcg", timeout: float = 20.0) -> CpuFeatures:
    """Ask a paused QEMU (``-S``: no guest code runs) for the features of ``model`` under ``accel``."""
    run_dir = paths.new_run_dir("cpuprobe")
    sock = run_dir / "qmp.sock"
    qmp = QEMUMonitorProtocol(str(sock), server=True, nickname=f"cpuprobe-{model}")
    argv = [QEMU, "-machine", f"pc,accel={accel}", "-cpu", model, "-S", "-nodefaults", "-no-user-config",
            "-display", "none", "-chardev", f"socket,id=qmp,path={sock}", "-mon", "chardev=qmp,mode=control"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        try:
            qmp.accept(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - QEMU exited: it says why on stderr
            proc.kill()
            _, err = proc.communicate(timeout=timeout)
            raise CpuModelError(f"QEMU cannot start CPU model {model!r} ({accel}): "
                                f"{err.decode(errors='replace').strip()[-500:] or exc!r}") from exc
        qmp.settimeout(timeout)
        props = vcpu_properties(qmp.cmd)
        try:
            qmp.cmd("quit")
        except Exception:  # noqa: BLE001 - QEMU may close the socket before answering
            pass
        return from_properties(model, props)
    finally:
        try:
            qmp.close()
        except Exception:  # noqa: BLE001 - best effort on a dead peer
            pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def probe_all(models: Iterable[str], accel: str = "tcg") -> dict[str, CpuFeatures]:
    """:func:`probe` of each model, cached in the lab cache per QEMU version and accelerator."""
    cache = paths.cache_dir() / "cpufeatures.json"
    key = f"{_qemu_version()}|{accel}"
    with paths.locked(paths.cache_dir() / "cpufeatures.lock"):
        data: dict[str, dict[str, Any]] = json.loads(cache.read_text()) if cache.is_file() else {}
        known = data.setdefault(key, {})
        out: dict[str, CpuFeatures] = {}
        for model in models:
            if model not in known:
                known[model] = asdict(probe(model, accel))
            out[model] = CpuFeatures(**known[model])
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return out
