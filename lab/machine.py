"""One QEMU guest as a context manager: launch, QMP, SSH, console log, and a shutdown that always cleans up.

Shutdown escalates QMP ``quit`` -> SIGTERM -> SIGKILL, each with a timeout, then removes the private
run directory. QEMU runs in its own session (so a terminal's Ctrl-C reaches the lab, which shuts the
guest down in order) with PR_SET_PDEATHSIG, so it dies with the lab even if the lab is SIGKILLed.
"""

from __future__ import annotations

import ctypes
import enum
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from . import command, console, hostclock, paths
from .ssh import GuestSSH, KeyPair, Result

QEMU = "qemu-system-x86_64"
READY_MARKER = "lab: guest ready"
SSHD_MARKER = "lab: sshd up"  # init started the SSH server and goes on setting up (images/rootfs rcS)
PR_SET_PDEATHSIG = 1
LINK_NIC = "linknic"  # device id of the guest-link NIC (QMP set_link cuts the link)
LINK_SHM = "linkshm"  # memory backend of the guest link's shared memory
NET_NIC = "netnic"  # device id of the guest-network NIC (QMP set_link cuts this guest off the switch)
# qboot: a minimal firmware that loads -kernel straight from fw_cfg (Debian's qemu-system-data ships
# it). Under TCG it reaches the kernel ~0.1 s sooner than SeaBIOS, and it writes the MP table that
# this ACPI-less guest finds its CPUs in. Interrupts of PCI devices are MSI-X (virtio) or none
# (ivshmem-plain), so its MP table's missing PCI INTx routes do not matter.
QBOOT = Path("/usr/share/qemu/qboot.rom")
# Devices the guest never uses, off: each costs probe time under TCG (the PS/2 mouse probe alone runs
# ~0.7 s beside init) and ACPI tables that the kernel is built without (no CONFIG_ACPI).
LEAN_MACHINE = {"pc": "i8042=off,vmport=off,smbus=off,acpi=off", "q35": "i8042=off,vmport=off,smbus=off,acpi=off"}
DEFAULT_APPEND = ("console=ttyS0 panic=-1 loglevel=5 8250.nr_uarts=1 qemu_fw_cfg.ioport=12@0x510:0:1:4 "
                  "random.trust_cpu=on")  # seed the CRNG from RDRAND: dropbear would block ~1 s in getrandom


class MachineError(Exception):
    """A guest failed; carries the QEMU command line, exit code and console tail."""


class VMLaunchFailure(MachineError):
    def __init__(self, message: str, argv: list[str], exitcode: int | None, console_log: Path,
                 qemu_log: Path) -> None:
        self.argv = argv
        self.exitcode = exitcode
        self.console_log = console_log
        stderr = qemu_log.read_text(errors="replace").strip() if qemu_log.is_file() else ""
        super().__init__(
            f"{message}\nqemu exit code: {exitcode}\ncommand: {command.quote(argv)}\n"
            f"qemu stderr:\n{stderr[-2000:]}\nconsole ({console_log}):\n{console.tail(console_log)}"
        )


class AbnormalShutdown(MachineError):
    """QEMU had to be terminated or killed instead of quitting."""


class Runstate(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    STOPPED = "stopped"


def parse_size_mib(value: str | int) -> int:
    """``512``, ``"512M"``, ``"1G"`` -> MiB."""
    if isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    if text.endswith("G"):
        mult, text = 1024, text[:-1]
    elif text.endswith("M"):
        text = text[:-1]
    if not text.isdigit():
        raise ValueError(f"bad memory size {value!r} (use e.g. 256M or 1G)")
    return int(text) * mult


@dataclass(frozen=True)
class Link:
    """A point-to-point guest link: a pair of UNIX datagram sockets inside ``directory`` (a NIC in
    each guest), and memory both guests share (an ivshmem-plain device over one file there: the
    ``shmcat`` channel, which moves data at the guests' memory speed instead of the NIC's)."""

    directory: Path
    local: str
    remote: str
    address: str  # this guest's link-local address
    shm_mib: int = 16  # size of the shared memory (a power of two; 0: none)

    def netdev(self) -> str:
        return (f"dgram,id=link,local.type=unix,local.path={self.directory / self.local}.sock,"
                f"remote.type=unix,remote.path={self.directory / self.remote}.sock")

    def shm_args(self) -> list[str]:
        """The shared memory: one file of the link's directory, mapped by both QEMUs (share=on).
        ``master=on``: QEMU blocks migration of a guest with an ivshmem peer that is not master
        (a whole-VM migration copies the shared memory like RAM: ``shmcat clear`` zeroes it first,
        so that it costs what the VM's other free memory costs)."""
        if not self.shm_mib:
            return []
        return ["-object", f"memory-backend-file,id={LINK_SHM},mem-path={self.directory / 'link.shm'},"
                           f"size={self.shm_mib}M,share=on",
                "-device", f"ivshmem-plain,memdev={LINK_SHM},id={LINK_SHM}dev,master=on"]


@dataclass(frozen=True)
class NetPort:
    """One guest's port on the switch: where the switch is, and the guest's address."""

    switch_dir: Path
    address: str

    def qemu_args(self, mac: str) -> list[str]:
        return ["-netdev", f"vde,id=net,sock={self.switch_dir}",
                "-device", f"virtio-net-pci,netdev=net,id={NET_NIC},mac={mac},romfile=",
                "-fw_cfg", f"name=opt/lab/net_addr,string={self.address}"]


@dataclass(frozen=True)
class MachineConfig:
    name: str
    kernel: Path
    initrd: Path
    memory_mib: int = 256
    smp: int = 1
    cpu: str = "max"
    machine: str = "pc"
    accel: str = "auto"  # auto | kvm | tcg
    append: str = ""
    link: Link | None = None
    net: NetPort | None = None  # a port on the scenario's network switch (lab.network)
    index: int = 0  # distinguishes MAC addresses of guests of one run
    boot_timeout: float = 90.0
    firmware: str = "auto"  # auto (qboot when installed, else QEMU's SeaBIOS) | seabios | a path
    extra_args: tuple[str, ...] = field(default_factory=tuple)


def firmware_args(firmware: str) -> list[str]:
    """``-bios`` for ``firmware`` (see :class:`MachineConfig`); none for QEMU's own SeaBIOS."""
    if firmware == "seabios" or (firmware == "auto" and not QBOOT.is_file()):
        return []
    path = QBOOT if firmware == "auto" else Path(firmware)
    if not path.is_file():
        raise MachineError(f"firmware {firmware!r}: no such file")
    return ["-bios", str(path)]


def machine_arg(machine: str, accel: str) -> str:
    """``-machine``: the type, the accelerator and, for the PC types, the unused devices off."""
    lean = LEAN_MACHINE.get(machine)
    return ",".join(filter(None, [machine, lean, f"accel={accel}"]))


def _mac(index: int, nic: int) -> str:
    return f"52:54:00:12:{index & 0xff:02x}:{nic:02x}"


# The guest port that the lab's host relay reaches through a second forwarded port (lab.relay).
GUEST_DATA_PORT = 6900


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _set_pdeathsig() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def qemu_argv(cfg: MachineConfig, accel: str, run_dir: Path, console_log: Path, ssh_port: int,
              keys: KeyPair, qmp_path: Path, data_port: int = 0, accel_append: str = "") -> list[str]:
    """The full QEMU command line for ``cfg`` (pure: unit-tested). ``accel_append``: kernel options
    for this accelerator (:func:`lab.hostclock.tcg_append` under TCG), before the config's own."""
    cpu = cfg.cpu
    if accel == "kvm" and cpu == "max":
        cpu = "host"
    argv = [
        QEMU, "-name", cfg.name, "-machine", machine_arg(cfg.machine, accel), "-cpu", cpu,
        *firmware_args(cfg.firmware),
        # one CPU per socket: without ACPI the guest finds its CPUs in SeaBIOS's MP table, which
        # lists only the first logical CPU of each package (-smp 2 alone is 1 socket x 2 cores: 1 CPU)
        "-smp", f"{cfg.smp},sockets={cfg.smp},cores=1,threads=1", "-m", f"{cfg.memory_mib}M",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", str(cfg.kernel), "-initrd", str(cfg.initrd),
        "-append", " ".join(filter(None, [DEFAULT_APPEND, accel_append, cfg.append])),
        "-chardev", f"file,id=console,path={console_log}", "-serial", "chardev:console",
        "-chardev", f"socket,id=qmp,path={qmp_path}", "-mon", "chardev=qmp,mode=control",
        "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{ssh_port}-:22"
                   + (f",hostfwd=tcp:127.0.0.1:{data_port}-:{GUEST_DATA_PORT}" if data_port else ""),
        "-device", f"virtio-net-pci,netdev=mgmt,mac={_mac(cfg.index, 0)},romfile=",
        "-fw_cfg", f"name=opt/lab/hostname,string={cfg.name}",
        "-fw_cfg", f"name=opt/lab/authorized_keys,file={keys.authorized_keys}",
        "-fw_cfg", f"name=opt/lab/host_key,file={keys.host_key}",
    ]
    if cfg.link is not None:
        argv += [
            "-netdev", cfg.link.netdev(),
            "-device", f"virtio-net-pci,netdev=link,id={LINK_NIC},mac={_mac(cfg.index, 1)},romfile=",
            "-fw_cfg", f"name=opt/lab/link_addr,string={cfg.link.address}",
            *cfg.link.shm_args(),
        ]
    if cfg.net is not None:
        argv += cfg.net.qemu_args(_mac(cfg.index, 3))
    return argv + list(cfg.extra_args)


class Machine:
    """A guest. ``with Machine(cfg, log_dir) as m: m.ssh.run(...)``."""

    def __init__(self, cfg: MachineConfig, log_dir: Path, keys: KeyPair | None = None) -> None:
        self.cfg = cfg
        self.log_dir = log_dir
        self.console_log = log_dir / f"{cfg.name}.console.log"
        self.qemu_log = log_dir / f"{cfg.name}.qemu.log"
        self._keys = keys
        self.state = Runstate.IDLE
        self.accel = ""
        self.boot_seconds = 0.0
        self.ssh_port = 0
        self.data_port = 0  # 127.0.0.1 port forwarded to the guest's GUEST_DATA_PORT
        self.argv: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._qmp: QEMUMonitorProtocol | None = None
        self._run_dir: Path | None = None
        self._ssh: GuestSSH | None = None
        self.events: list[dict[str, Any]] = []
        self._launched_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Machine:
        self.launch()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def ssh(self) -> GuestSSH:
        if self._ssh is None or self.state is not Runstate.RUNNING:
            raise MachineError(f"{self.cfg.name}: not running (state {self.state.value})")
        return self._ssh

    def ssh_observers(self) -> list[Callable[[Result, float], None]]:
        """The SSH client's command observers (empty, and detached, once the guest is gone)."""
        return self._ssh.observers if self._ssh is not None else []

    @property
    def run_dir(self) -> Path | None:
        return self._run_dir

    @property
    def keys(self) -> KeyPair:
        assert self._keys is not None
        return self._keys

    def launch(self, wait_ssh: bool = True) -> None:
        if self.state is not Runstate.IDLE:
            raise MachineError(f"{self.cfg.name}: launch in state {self.state.value}")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        sweep_stale_run_dirs()
        self._run_dir = paths.new_run_dir(self.cfg.name)
        try:
            if self._keys is None:
                self._keys = KeyPair.generate(self._run_dir / "keys")
            self.accel = resolve_accel(self.cfg.accel, self.cfg, self.log_dir)
            self._start(wait_ssh)
        except BaseException:
            self.shutdown()
            raise

    def _start(self, wait_ssh: bool) -> None:
        assert self._run_dir is not None and self._keys is not None
        qmp_path = self._run_dir / "qmp.sock"
        for attempt in range(5):
            self.ssh_port, self.data_port = free_port(), free_port()
            self.argv = qemu_argv(self.cfg, self.accel, self._run_dir, self.console_log,
                                  self.ssh_port, self._keys, qmp_path, self.data_port,
                                  hostclock.tcg_append() if self.accel == "tcg" else "")
            self.console_log.write_bytes(b"")
            qmp = QEMUMonitorProtocol(str(qmp_path), server=True, nickname=self.cfg.name)
            self._qmp = qmp
            with open(self.qemu_log, "wb") as errlog:
                self._proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=errlog, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=_set_pdeathsig,
                )
            self.state = Runstate.RUNNING
            start = time.monotonic()
            try:
                qmp.accept(timeout=30.0)
                qmp.settimeout(30.0)
            except Exception as exc:
                self._reap()
                stderr = self.qemu_log.read_text(errors="replace")
                if "Could not set up host forwarding rule" in stderr and attempt < 4:
                    continue  # the port was taken between our probe and QEMU's bind
                raise VMLaunchFailure(f"{self.cfg.name}: QMP handshake failed: {exc!r}", self.argv,
                                      self.exitcode, self.console_log, self.qemu_log) from exc
            break
        self._ssh = GuestSSH("127.0.0.1", self.ssh_port, self._keys)
        self._launched_at = start
        if wait_ssh:
            self.wait_ssh()

    def wait_ssh(self, timeout: float | None = None, booting: bool = True) -> float:
        """Wait until the guest answers over SSH; sets and returns ``boot_seconds`` (since launch).

        ``booting=False`` for a guest that arrived by migration: init's ready marker is not coming.
        """
        assert self._ssh is not None
        timeout = timeout or self.cfg.boot_timeout
        # Connecting before the guest's network is up costs seconds: slirp accepts at once and
        # then backs off retransmitting its SYN to the guest. Init prints a marker when sshd runs,
        # and another when it has finished: the handshake overlaps the rest of init.
        start = time.monotonic()
        if booting and not self.wait_console(SSHD_MARKER, timeout):
            raise VMLaunchFailure(f"{self.cfg.name}: init never started sshd in {timeout:.0f} s", self.argv,
                                  self.exitcode, self.console_log, self.qemu_log)
        try:
            self._ssh.wait_ready(max(5.0, timeout - (time.monotonic() - start)), alive=self.is_running)
        except Exception as exc:
            raise VMLaunchFailure(f"{self.cfg.name}: no SSH: {exc}", self.argv, self.exitcode,
                                  self.console_log, self.qemu_log) from exc
        if booting and not self.wait_console(READY_MARKER, max(5.0, timeout - (time.monotonic() - start))):
            raise VMLaunchFailure(f"{self.cfg.name}: init never reported ready in {timeout:.0f} s", self.argv,
                                  self.exitcode, self.console_log, self.qemu_log)
        self.boot_seconds = time.monotonic() - self._launched_at
        return self.boot_seconds

    def wait_console(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` appears on the console or QEMU exits; True if it appeared."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.console_log.is_file() and text in self.console_log.read_text(errors="replace"):
                return True
            if not self.is_running():
                return text in self.console_log.read_text(errors="replace")
            time.sleep(0.01)
        return False

    def wait_exit(self, timeout: float) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    # -- QMP -------------------------------------------------------------------------------------
    def qmp(self, cmd: str, **args: object) -> Any:
        if self._qmp is None or not self.is_running():
            raise MachineError(f"{self.cfg.name}: QMP {cmd} while not running")
        return self._qmp.cmd(cmd, **args)

    def event_wait(self, name: str, timeout: float, match: dict[str, Any] | None = None) -> dict[str, Any]:
        """Wait for QMP event ``name`` whose data contains ``match``; other events stay buffered."""
        assert self._qmp is not None
        for i, ev in enumerate(self.events):
            if ev.get("event") == name and _matches(ev.get("data", {}), match):
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self._qmp.pull_event(wait=float(left))
            except TimeoutError:
                break
            if got is None:
                continue
            if got.get("event") == name and _matches(got.get("data", {}), match):
                return dict(got)
            self.events.append(dict(got))
        raise MachineError(f"{self.cfg.name}: no QMP event {name} {match or ''} in {timeout:.0f} s")

    # -- shutdown --------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 5.0) -> None:
        """QMP quit -> SIGTERM -> SIGKILL; always closes QMP/SSH and removes the run dir."""
        abnormal = ""
        try:
            if self._ssh is not None:
                self._ssh.close()
            if self.is_running():
                try:
                    if self._qmp is not None:
                        self._qmp.settimeout(timeout)
                        self._qmp.cmd("quit")
                except Exception:  # noqa: BLE001 - QEMU may close the socket before answering
                    pass
                if self.wait_exit(timeout) is None:
                    abnormal = "did not quit on QMP quit; sent SIGTERM"
                    self._reap(timeout)
        finally:
            self._close_qmp()
            if self._run_dir is not None:
                shutil.rmtree(self._run_dir, ignore_errors=True)
                self._run_dir = None
            self.state = Runstate.STOPPED
        if abnormal:
            raise AbnormalShutdown(f"{self.cfg.name}: {abnormal}")

    def kill(self) -> None:
        """Stop QEMU at once (no QMP), e.g. for a guest that must vanish mid-stream."""
        self._reap(0.1)

    def _reap(self, timeout: float = 3.0) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def _close_qmp(self) -> None:
        if self._qmp is not None:
            try:
                self._qmp.close()
            except Exception:  # noqa: BLE001 - best effort on a dead peer
                pass
            self._qmp = None


def sweep_stale_run_dirs() -> int:
    """Remove run dirs whose owning lab process is gone (it was SIGKILLed; its QEMU died with it).

    Says so in one line on stderr; returns how many were removed.
    """
    gone: list[str] = []
    for d in paths.run_root().iterdir():
        owner = d / "owner"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(f"{d.name} (pid {pid})")
        except PermissionError:
            pass
    if gone:
        print(f"lab: removed {len(gone)} run dir(s) of lab processes that were killed: {', '.join(gone)}",
              file=sys.stderr)
    return len(gone)


def _matches(data: dict[str, Any], match: dict[str, Any] | None) -> bool:
    return not match or all(data.get(k) == v for k, v in match.items())


# -- accelerator choice -------------------------------------------------------------------------
def _host_fingerprint() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    qemu_version = command.run([QEMU, "--version"], check=False).stdout.splitlines()[:1]
    return hashlib.sha256(f"{os.uname().release}|{model}|{qemu_version}".encode()).hexdigest()[:16]


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def resolve_accel(requested: str, cfg: MachineConfig, log_dir: Path,
                  probe: Callable[[MachineConfig, Path], bool] | None = None) -> str:
    """``kvm``/``tcg`` as asked; ``auto`` = KVM only when a probe boot worked on this host."""
    if requested in ("kvm", "tcg"):
        return requested
    if requested != "auto":
        raise MachineError(f"unknown accel {requested!r} (auto, kvm or tcg)")
    if not kvm_usable():
        return "tcg"
    verdicts = paths.cache_dir() / "accel.json"
    fp = _host_fingerprint()
    with paths.locked(paths.cache_dir() / "accel.lock"):
        known = json.loads(verdicts.read_text()) if verdicts.is_file() else {}
        if fp not in known:
            ok = (probe or probe_kvm)(cfg, log_dir)
            known[fp] = {"kvm": ok, "checked": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            verdicts.write_text(json.dumps(known, indent=2))
    return "kvm" if known[fp]["kvm"] else "tcg"


def probe_kvm(cfg: MachineConfig, log_dir: Path, timeout: float = 20.0) -> bool:
    """Boot the guest once under KVM; usable only if init reports ready in time."""
    probe_cfg = MachineConfig(name=f"{cfg.name}-kvmprobe", kernel=cfg.kernel, initrd=cfg.initrd,
                              memory_mib=cfg.memory_mib, accel="kvm", machine=cfg.machine)
    m = Machine(probe_cfg, log_dir)
    try:
        m.launch(wait_ssh=False)
        return m.wait_console(READY_MARKER, timeout)
    except MachineError:
        return False
    finally:
        try:
            m.shutdown(timeout=2.0)
        except MachineError:
            pass
