from pathlib import Path

import pytest

from lab import machine
from lab.machine import Link, MachineConfig, parse_size_mib, qemu_argv
from lab.ssh import KeyPair


def keys(tmp_path: Path) -> KeyPair:
    return KeyPair(tmp_path / "id", tmp_path / "auth", tmp_path / "host", "ssh-ed25519 AAAA")


def cfg(**kw: object) -> MachineConfig:
    base: dict[str, object] = {"name": "a", "kernel": Path("/k/bzImage"), "initrd": Path("/i/initrd")}
    base.update(kw)
    return MachineConfig(**base)  # type: ignore[arg-type]


def test_parse_size() -> None:
    assert parse_size_mib("512M") == 512
    assert parse_size_mib("1G") == 1024
    assert parse_size_mib("2GiB") == 2048
    assert parse_size_mib(128) == 128
    with pytest.raises(ValueError):
        parse_size_mib("lots")


def test_argv_basics(tmp_path: Path) -> None:
    argv = qemu_argv(cfg(memory_mib=512, smp=2), "tcg", tmp_path, tmp_path / "c.log", 2222,
                     keys(tmp_path), tmp_path / "qmp.sock")
    joined = " ".join(argv)
    assert argv[0] == "qemu-system-x86_64"
    assert "-no-reboot" in argv and "-nodefaults" in argv
    assert argv[argv.index("-m") + 1] == "512M" and argv[argv.index("-smp") + 1] == "2,sockets=2,cores=1,threads=1"
    assert argv[argv.index("-machine") + 1] == "pc,i8042=off,vmport=off,smbus=off,acpi=off,accel=tcg"
    assert "restrict=on" in joined and "hostfwd=tcp:127.0.0.1:2222-:22" in joined
    assert "romfile=" in joined
    assert "panic=-1" in argv[argv.index("-append") + 1]
    assert f"file,id=console,path={tmp_path / 'c.log'}" in argv
    assert "link" not in joined


def test_kvm_uses_host_cpu(tmp_path: Path) -> None:
    argv = qemu_argv(cfg(), "kvm", tmp_path, tmp_path / "c", 1, keys(tmp_path), tmp_path / "q")
    assert argv[argv.index("-cpu") + 1] == "host"
    argv = qemu_argv(cfg(cpu="Skylake-Client"), "kvm", tmp_path, tmp_path / "c", 1, keys(tmp_path),
                     tmp_path / "q")
    assert argv[argv.index("-cpu") + 1] == "Skylake-Client"


def test_link_nic_has_own_mac_and_unix_dgram(tmp_path: Path) -> None:
    link = Link(tmp_path, "a", "b", "169.254.0.1")
    a = qemu_argv(cfg(link=link, index=0), "tcg", tmp_path, tmp_path / "c", 1, keys(tmp_path), tmp_path / "q")
    b = qemu_argv(cfg(name="b", link=Link(tmp_path, "b", "a", "169.254.0.2"), index=1), "tcg", tmp_path,
                  tmp_path / "c", 2, keys(tmp_path), tmp_path / "q")
    macs_a = {x.split("mac=")[1].split(",")[0] for x in a if "mac=" in x}
    macs_b = {x.split("mac=")[1].split(",")[0] for x in b if "mac=" in x}
    assert len(macs_a) == 2 and not macs_a & macs_b
    netdev = a[a.index("-netdev", a.index("-netdev") + 1) + 1]
    assert netdev.startswith("dgram,") and f"local.path={tmp_path}/a.sock" in netdev
    assert f"remote.path={tmp_path}/b.sock" in netdev
    assert "name=opt/lab/link_addr,string=169.254.0.1" in a
    # both guests map the same file of the link's directory as shared memory
    shm_a = a[a.index("-object") + 1]
    assert shm_a == b[b.index("-object") + 1]
    assert f"mem-path={tmp_path}/link.shm" in shm_a and "share=on" in shm_a and "size=16M" in shm_a
    assert "ivshmem-plain,memdev=linkshm,id=linkshmdev,master=on" in a
    no_shm = qemu_argv(cfg(link=Link(tmp_path, "a", "b", "169.254.0.1", shm_mib=0)), "tcg", tmp_path,
                       tmp_path / "c", 1, keys(tmp_path), tmp_path / "q")
    assert "-object" not in no_shm


def test_accel_explicit_and_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    assert machine.resolve_accel("tcg", cfg(), tmp_path) == "tcg"
    assert machine.resolve_accel("kvm", cfg(), tmp_path) == "kvm"
    with pytest.raises(machine.MachineError):
        machine.resolve_accel("hvf", cfg(), tmp_path)
    monkeypatch.setattr(machine, "kvm_usable", lambda: True)
    calls = []

    def probe(c: MachineConfig, d: Path) -> bool:
        calls.append(c)
        return False

    assert machine.resolve_accel("auto", cfg(), tmp_path, probe) == "tcg"
    # the verdict is remembered per host: no second probe
    assert machine.resolve_accel("auto", cfg(), tmp_path, probe) == "tcg"
    assert len(calls) == 1


def test_auto_without_kvm_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(machine, "kvm_usable", lambda: False)
    assert machine.resolve_accel("auto", cfg(), tmp_path, lambda c, d: True) == "tcg"


def test_data_port_is_a_second_local_forward_on_the_restricted_netdev(tmp_path: Path) -> None:
    argv = qemu_argv(cfg(), "tcg", tmp_path, tmp_path / "c", 2222, keys(tmp_path), tmp_path / "q", 3333)
    netdevs = [argv[i + 1] for i, a in enumerate(argv) if a == "-netdev"]
    assert netdevs == ["user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,"
                       "hostfwd=tcp:127.0.0.1:3333-:6900"]


def test_tcg_clock_options_go_before_the_configs_own(tmp_path: Path) -> None:
    argv = qemu_argv(cfg(append="quiet"), "tcg", tmp_path, tmp_path / "c", 1, keys(tmp_path), tmp_path / "q",
                     accel_append="tsc_early_khz=2596122 tsc=reliable nolapic_timer")
    assert argv[argv.index("-append") + 1].endswith(" tsc_early_khz=2596122 tsc=reliable nolapic_timer quiet")


def test_firmware(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rom = tmp_path / "qboot.rom"
    monkeypatch.setattr(machine, "QBOOT", rom)
    assert machine.firmware_args("auto") == []  # not installed: QEMU's SeaBIOS
    rom.write_bytes(b"rom")
    assert machine.firmware_args("auto") == ["-bios", str(rom)]
    assert machine.firmware_args("seabios") == []
    assert machine.firmware_args(str(rom)) == ["-bios", str(rom)]
    with pytest.raises(machine.MachineError, match="no such file"):
        machine.firmware_args(str(tmp_path / "missing.rom"))
    argv = qemu_argv(cfg(firmware="seabios"), "tcg", tmp_path, tmp_path / "c", 1, keys(tmp_path), tmp_path / "q")
    assert "-bios" not in argv


def test_machine_arg() -> None:
    assert machine.machine_arg("q35", "kvm") == "q35,i8042=off,vmport=off,smbus=off,acpi=off,accel=kvm"
    assert machine.machine_arg("pc-i440fx-7.2", "tcg") == "pc-i440fx-7.2,accel=tcg"  # other types as given
