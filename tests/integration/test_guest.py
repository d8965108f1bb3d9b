"""Boot real guests: SSH commands, transfers, QMP, shutdown and cleanup, interruption."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import paths, runner
from lab.machine import Machine, MachineConfig, Runstate, VMLaunchFailure

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]


def qemu_pids(parent: int | None = None) -> set[int]:
    """Running QEMU processes (children of ``parent`` if given)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
            ppid = int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if comm.startswith("qemu-system") and (parent is None or ppid == parent):
            found.add(int(stat.parent.name))
    return found


def alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in _state(p)}


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def cfg(built: runner.Built, name: str = "t", **kw: object) -> MachineConfig:
    return MachineConfig(name=name, kernel=built.kernel.image, initrd=built.image.initrd, **kw)  # type: ignore[arg-type]


def test_boot_run_transfer_shutdown(built: runner.Built, log_dir: Path, tmp_path: Path) -> None:
    m = Machine(cfg(built), log_dir)
    with m:
        assert m.state is Runstate.RUNNING and m.accel in ("kvm", "tcg")
        res = m.ssh.run("uname -r; id -u", timeout=20)
        assert res.ok and res.stdout.split()[1] == "0"
        assert m.ssh.run("exit 3", timeout=10).status == 3
        assert "nope" in m.ssh.run("echo nope >&2; false", timeout=10).stderr
        blob = os.urandom(300_000)
        m.ssh.write_bytes("/tmp/blob", blob)
        assert m.ssh.read_bytes("/tmp/blob") == blob
        assert m.ssh.run("id -un", user="lab", timeout=10).stdout.strip() == "lab"
        status = m.qmp("query-status")
        assert status["status"] == "running"
        pid = m.pid
        run_dir = m.run_dir
        assert run_dir is not None and (run_dir.stat().st_mode & 0o777) == 0o700
    assert m.state is Runstate.STOPPED
    assert pid is not None and not alive({pid})
    assert not run_dir.exists()
    assert m.console_log.is_file() and "lab: guest ready" in m.console_log.read_text()


def test_failed_boot_leaves_nothing(built: runner.Built, log_dir: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bzImage"
    bogus.write_bytes(b"not a kernel")
    before = qemu_pids(parent=os.getpid())
    c = MachineConfig(name="bad", kernel=bogus, initrd=built.image.initrd, accel="tcg", boot_timeout=15)
    with pytest.raises(VMLaunchFailure) as info:
        with Machine(c, log_dir):
            pass
    assert "qemu exit code" in str(info.value) and "qemu-system-x86_64" in str(info.value)
    assert not alive(qemu_pids(parent=os.getpid()) - before)


def test_command_timeout_is_typed(built: runner.Built, log_dir: Path) -> None:
    from lab.ssh import SSHTimeout

    with Machine(cfg(built), log_dir) as m:
        with pytest.raises(SSHTimeout) as info:
            m.ssh.run("sleep 30", timeout=1)
        assert "sleep 30" in str(info.value)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_run_leaves_no_guest(built: runner.Built, tmp_path: Path, sig: int) -> None:
    """Interrupt `lab run` while its guest runs: no QEMU and no run dir may remain."""
    scenario = tmp_path / "sleepy.yaml"
    scenario.write_text("guests:\n  - name: a\nsteps:\n  - run: touch /tmp/up && sleep 120\n"
                        "    timeout: 200\n")
    env = {**os.environ, "LAB_ARTIFACTS": str(tmp_path / "artifacts")}
    # default dispositions in the child: a job started in the background of a non-interactive shell
    # (as CI tools may start this suite) inherits SIGINT ignored, and then no Ctrl-C reaches it
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "run", str(scenario)], env=env, cwd=REPO,
                            preexec_fn=_default_signals)
    guests: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not guests:
            guests = qemu_pids(parent=proc.pid)
            time.sleep(0.2)
        assert guests, "the guest never started"
        time.sleep(4)  # let it reach the long step
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(guests):
        time.sleep(0.2)
    assert not alive(guests), "QEMU survived the interrupted run"
    if sig == signal.SIGKILL:
        # a SIGKILLed lab cannot remove its run dir; the next launch sweeps it
        from lab.machine import sweep_stale_run_dirs
        sweep_stale_run_dirs()  # (another lab starting on this machine may have swept them already)
    # its own run dirs only (each records its owner's pid): others may run guests on this machine
    left = [d for d in paths.run_root().iterdir() if _owner(d) == proc.pid]
    assert not left, f"run dirs of the interrupted lab remain: {left}"


def _owner(run_dir: Path) -> int:
    try:
        return int((run_dir / "owner").read_text())
    except (OSError, ValueError):
        return 0


def test_whole_vm_migration_moves_the_guest(built: runner.Built, log_dir: Path, tmp_path: Path) -> None:
    from lab import paths as lab_paths
    from lab import vmmigrate

    run = lab_paths.new_run_dir("vmmig-test")
    try:
        with Machine(cfg(built, "src"), log_dir) as src:
            src.ssh.run("setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; usleep 100000; done' "
                        "</dev/null >/dev/null 2>&1 & echo $! > /tmp/loop.pid", 10, check=True)
            pid = src.ssh.run("cat /tmp/loop.pid", 10, check=True).stdout.strip()
            dst = vmmigrate.incoming(src, "dst", log_dir)
            try:
                dst.launch(wait_ssh=False)
                vm = vmmigrate.migrate_vm(src, dst, run / "mig.sock", timeout=120)
                assert vm.bytes > 1_000_000 and vm.total_s > 0 and vm.downtime_s >= 0
                assert src.qmp("query-status")["status"] == "postmigrate"
                dst.wait_ssh(60, booting=False)
                first = int(dst.ssh.run("cat /tmp/n", 10, check=True).stdout)
                time.sleep(1)
                assert int(dst.ssh.run("cat /tmp/n", 10, check=True).stdout) > first
                assert dst.ssh.run(f"kill -0 {pid}", 10).ok
            finally:
                dst.shutdown()
    finally:
        shutil.rmtree(run, ignore_errors=True)


def test_guest_sees_every_cpu_and_the_host_clock(built: runner.Built, log_dir: Path) -> None:
    from lab import hostclock

    with Machine(cfg(built, smp=3), log_dir) as m:
        res = m.ssh.run("nproc; cat /sys/devices/system/clocksource/clocksource0/current_clocksource", 20,
                        check=True)
        cpus, clock = res.stdout.split()
        assert cpus == "3"
        if m.accel == "tcg" and hostclock.tsc_khz():
            assert clock.startswith("tsc"), "under TCG the guest runs on the host's TSC, not jiffies"
