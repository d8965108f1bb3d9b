"""Debian package layers: apt's output parsed, and (where apt is on the host) real resolution and layers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import packages
from lab.packages import PackageError, Resolved

# Recorded from `apt-get install -s` (bookworm), with an upgrade line and a foreign-arch line added.
SIMULATION = """\
NOTE: This is only a simulation!
Reading package lists...
Building dependency tree...
The following NEW packages will be installed:
  gcc-12-base libc6 libgcc-s1 readline-common sqlite3 zlib1g
Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
Inst libc6 [2.36-9+deb12u10] (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])
Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])
Inst zlib1g (1:1.2.13.dfsg-1+deb12u1 Debian-Security:12/oldstable-security [amd64])
Inst readline-common (8.2-1.3 Debian:12.15/oldstable [all])
Inst libfoo:i386 (1.0-1 Debian:12.15/oldstable [i386])
Conf sqlite3 (3.40.1-2+deb12u2 Debian:12.15/oldstable [amd64])
"""


def test_parse_simulation_keeps_install_lines_in_order() -> None:
    assert packages.parse_simulation(SIMULATION) == [
        Resolved("gcc-12-base", "12.2.0-14+deb12u1", "amd64"),
        Resolved("libc6", "2.36-9+deb12u14", "amd64"),  # the new version, not the installed one
        Resolved("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "amd64"),
        Resolved("readline-common", "8.2-1.3", "all"),
        Resolved("libfoo", "1.0-1", "i386"),
    ]


def test_unknown_names_from_apt_errors() -> None:
    text = ("Reading package lists...\nE: Unable to locate package nosuch\n"
            "E: Package 'awk' has no installation candidate\n"
            "E: Couldn't find any package by glob 'py*'\n")
    assert packages.unknown_names(text) == ["awk", "nosuch", "py*"]
    assert packages.unknown_names("E: Unmet dependencies. Try 'apt --fix-broken install'") == []


def test_deb_name_escapes_the_epoch() -> None:
    assert Resolved("zlib1g", "1:1.2.13.dfsg-1+deb12u1", "amd64").deb_name == \
        "zlib1g_1%3a1.2.13.dfsg-1+deb12u1_amd64.deb"


def test_parse_stanzas_and_fake_status() -> None:
    text = ("Package: debconf\nVersion: 1.5.82\nArchitecture: all\nProvides: debconf-2.0\n"
            "Depends: perl-base (>= 5.20.1-3~)\nDescription: Debian configuration\n management system\n"
            "\nPackage: dpkg\nEssential: yes\nVersion: 1.21.23\nArchitecture: amd64\n")
    stanzas = packages.parse_stanzas(text)
    assert [s["Package"] for s in stanzas] == ["debconf", "dpkg"]
    assert stanzas[0]["Description"] == "Debian configuration\nmanagement system"
    status = packages.fake_status(stanzas)
    parsed = packages.parse_stanzas(status)
    assert parsed[0]["Status"] == "hold ok installed" and parsed[0]["Provides"] == "debconf-2.0"
    assert "Depends" not in parsed[0]  # apt must not pull perl-base for an "installed" debconf
    assert parsed[1]["Essential"] == "yes" and parsed[1]["Version"] == "1.21.23"


def test_bad_names_are_refused_before_apt_runs() -> None:
    for bad in ("Python3", "py*", "sqlite3=3.40", "-o"):
        with pytest.raises(PackageError) as info:
            packages.resolve([bad])
        assert info.value.names == (bad,)


def test_layer_key_depends_on_versions() -> None:
    a = [Resolved("hello", "2.10-3", "amd64"), Resolved("libc6", "2.36-9", "amd64")]
    b = [Resolved("hello", "2.10-3", "amd64"), Resolved("libc6", "2.36-10", "amd64")]
    assert packages.layer_key(a) == packages.layer_key(list(reversed(a)))
    assert packages.layer_key(a) != packages.layer_key(b)


# Real apt on the host from here on: the lab's package layers need it.

def _need_apt() -> None:
    if packages.have_apt() and Path("/var/lib/apt/lists").is_dir():
        return
    if os.environ.get("CI"):
        pytest.fail("apt is missing in CI, where the README's command runs apt-get first")
    pytest.skip("apt-get, apt-cache or dpkg-deb is not on this host")


@pytest.fixture
def clean_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty lab cache (downloads start from nothing; apt's own archive may still serve a file)."""
    _need_apt()
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache"


def _candidate(name: str) -> str:
    out = subprocess.run(["apt-cache", "policy", name], capture_output=True, text=True, check=True).stdout
    return next(line.split()[1] for line in out.splitlines() if line.strip().startswith("Candidate:"))


def test_resolve_real_closure_without_busybox_covered_packages(clean_cache: Path) -> None:
    got = {r.name: r for r in packages.resolve(["python3-minimal"])}
    assert {"python3-minimal", "python3.11-minimal", "libpython3.11-minimal", "libc6"} <= set(got)
    assert got["python3-minimal"].version == _candidate("python3-minimal")
    # python3-minimal depends on dpkg (for its maintainer scripts): neither it nor tar comes in
    assert not set(got) & set(packages.BUSYBOX_COVERS)
    assert all(r.arch in ("amd64", "all") for r in got.values())
    # named explicitly, a covered package does come in with its own dependencies (libmd0), except the
    # covered ones it needs (tar)
    with_dpkg = {r.name for r in packages.resolve(["dpkg"])}
    assert {"dpkg", "libmd0"} <= with_dpkg and "tar" not in with_dpkg
    # criu's closure needs util-linux, which apt would reinstall were it not held
    assert not {r.name for r in packages.resolve(["criu"])} & {"util-linux", "bsdutils", "util-linux-extra"}


def test_resolve_unknown_package_names_it(clean_cache: Path) -> None:
    with pytest.raises(PackageError) as info:
        packages.resolve(["hello", "lab-no-such-package"])
    assert info.value.names == ("lab-no-such-package",)
    assert "lab-no-such-package" in str(info.value)


def _cpio_names(path: Path) -> set[str]:
    out = subprocess.run(["cpio", "-it", "--quiet"], stdin=open(path, "rb"), capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def test_layer_from_clean_cache_then_cache_hit(clean_cache: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("ldconfig -r needs root")  # the lab runs as root in CI
    t0 = time.monotonic()
    lay = packages.layer(["hello"])
    built_s = time.monotonic() - t0
    assert lay is not None and lay.path.is_file()
    names = _cpio_names(lay.path)
    assert "usr/bin/hello" in names
    assert "lib/x86_64-linux-gnu/libc.so.6" in names or "usr/lib/x86_64-linux-gnu/libc.so.6" in names
    assert "etc/ld.so.cache" in names
    assert not [n for n in names if n.startswith(("usr/share/doc/", "usr/share/man/", "usr/share/locale/"))]
    assert not [n for n in names if "/gconv/" in n]
    assert {p.name for p in lay.packages} >= {"hello", "libc6"}
    assert (clean_cache / "packages" / "debs" / lay.packages[-1].deb_name).is_file()
    mtime = lay.path.stat().st_mtime_ns
    t0 = time.monotonic()
    again = packages.layer(["hello"])
    hit_s = time.monotonic() - t0
    assert again == lay and lay.path.stat().st_mtime_ns == mtime
    assert hit_s < built_s
    assert packages.layer([]) is None


def test_unpack_drops_docs_and_builds_the_loader_cache(clean_cache: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("ldconfig -r needs root")
    resolved = packages.resolve(["hello"])
    debs = packages.download(resolved)
    root = tmp_path / "root"
    packages.unpack([debs[p] for p in resolved], root)
    assert (root / "usr/bin/hello").is_file() and not (root / "usr/share/doc").exists()
    cache = subprocess.run(["ldconfig", "-r", str(root), "-p"], capture_output=True, text=True, check=True).stdout
    assert "libc.so.6" in cache
    shutil.rmtree(root)
