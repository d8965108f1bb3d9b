"""The guest network: its switch, the guests' NICs and the scenario fields and steps that use it."""

import shutil
from pathlib import Path

import pytest

from lab import scenario
from lab.machine import MachineConfig, NetPort, qemu_argv
from lab.network import Switch, net_address
from lab.scenario import ScenarioError
from lab.ssh import KeyPair

THREE = "guests:\n  - name: a\n  - name: b\n  - name: c\nnetwork: [a, b, c]\n"


def load(tmp_path: Path, text: str) -> scenario.Scenario:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return scenario.load(p)


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text)
    return info.value


def test_addresses_follow_the_network_order() -> None:
    assert net_address(("c", "a"), "c") == "10.77.0.1"
    assert net_address(("c", "a"), "a") == "10.77.0.2"


def test_nic_on_the_switch(tmp_path: Path) -> None:
    cfg = MachineConfig(name="b", kernel=Path("/k"), initrd=Path("/i"), index=1,
                        net=NetPort(tmp_path / "switch", "10.77.0.2"))
    argv = qemu_argv(cfg, "tcg", tmp_path, tmp_path / "c", 1,
                     KeyPair(tmp_path / "id", tmp_path / "auth", tmp_path / "host", "k"), tmp_path / "q")
    assert f"vde,id=net,sock={tmp_path / 'switch'}" in argv
    assert "virtio-net-pci,netdev=net,id=netnic,mac=52:54:00:12:01:03,romfile=" in argv
    assert "name=opt/lab/net_addr,string=10.77.0.2" in argv


def test_scenario_network(tmp_path: Path) -> None:
    sc = load(tmp_path, THREE + "steps:\n  - net_move: 10.77.0.100\n    to: a\n"
                               "  - set_link: net\n    guest: b\n    up: false\n")
    assert sc.network == ("a", "b", "c")


def test_network_needs_known_distinct_guests(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\n  - name: b\nnetwork: [a, a]\nsteps:\n  - sleep: 1\n")
    assert err.field == "network"
    err = error_of(tmp_path, "guests:\n  - name: a\n  - name: b\nnetwork: [a, x]\nsteps:\n  - sleep: 1\n")
    assert err.field == "network"


def test_steps_need_the_network(tmp_path: Path) -> None:
    text = "guests:\n  - name: a\n  - name: b\n  - name: c\nnetwork: [a, b]\nsteps:\n"
    assert error_of(tmp_path, text + "  - net_move: 10.77.0.9\n    to: c\n").field == "steps[0].to"
    assert error_of(tmp_path, text + "  - net_move: nowhere\n    to: a\n").field == "steps[0].net_move"
    assert error_of(tmp_path, text + "  - set_link: net\n    guest: c\n    up: true\n").field == "steps[0].guest"
    assert error_of(tmp_path, text + "  - set_link: link\n    guest: a\n    up: true\n").field == "steps[0].guest"


def test_migrate_address_needs_both_ends_on_the_network(tmp_path: Path) -> None:
    text = ("guests:\n  - name: a\n  - name: b\n  - name: c\nnetwork: [a, c]\nlink: [a, b]\nsteps:\n"
            "  - migrate: 1\n    from: a\n    to: b\n    address: 10.77.0.100\n")
    assert error_of(tmp_path, text).field == "steps[0].address"
    ok = text.replace("network: [a, c]", "network: [a, b, c]")
    assert load(tmp_path, ok).steps[0].args["address"] == "10.77.0.100"
    host = ok.replace("address:", "via: host\n    address:")
    assert error_of(tmp_path, host).field == "steps[0].address"


@pytest.mark.skipif(shutil.which("vde_switch") is None, reason="vde2 is not installed")
def test_switch_starts_and_stops_by_pid(tmp_path: Path) -> None:
    sw = Switch(tmp_path / "sw", tmp_path / "sw.log")
    with sw:
        pid = sw.pid
        assert (tmp_path / "sw" / "ctl").exists()
        assert Path(f"/proc/{pid}").exists()
    assert not Path(f"/proc/{pid}/cmdline").exists() or b"vde_switch" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert not (tmp_path / "sw").exists()
