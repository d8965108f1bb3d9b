"""The doctor's list against what the builds really run: probes with only the listed packages on PATH."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import host, image, kernel

STATUS = "\n".join([
    "apt\tno\trequired\tii \t, libc6 (>= 2.34), adduser | passwd\t",
    "libc6\tno\trequired\tii \t, \t",
    "passwd\tno\trequired\tii \t, libc6\t",
    "gcc\tno\toptional\tii \t, cpp (= 4:12.2.0-3), gcc-12 (>= 12.2.0-1~)\t",
    "gcc-12\tno\toptional\tii \t, binutils:any, libc6\t",
    "binutils-x86\tno\toptional\tii \t, libc6\tbinutils (= 2.40)",
    "cpp\tno\toptional\tii \t, \t",
    "rsync\tno\toptional\trc \t, libc6\t",
    "dash\tyes\trequired\tii \t, \tsh",
])


def test_parse_dpkg_status_keeps_installed_packages_and_dependency_groups() -> None:
    db = host.parse_dpkg_status(STATUS)
    assert "rsync" not in db  # removed, config files only
    assert db["apt"].depends == (("libc6",), ("adduser", "passwd"))
    assert db["gcc"].depends == (("cpp",), ("gcc-12",))
    assert db["gcc-12"].depends == (("binutils",), ("libc6",))
    assert db["binutils-x86"].provides == ("binutils",)
    assert db["dash"].essential


def test_closure_follows_installed_alternatives_and_virtual_packages() -> None:
    db = host.parse_dpkg_status(STATUS)
    assert host.closure(["gcc"], db) == {"gcc", "cpp", "gcc-12", "binutils-x86", "libc6"}
    assert host.closure(["apt"], db) == {"apt", "libc6", "passwd"}  # adduser is not installed
    assert host.closure(["not-installed"], db) == set()


def _need(what: str, present: bool, how: str = "lab doctor --install") -> None:
    """Host-dependent probes: skipped where the lab's set-up has not run, never in CI."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI, where the nox session runs `{how}` first")
    pytest.skip(f"{what} is missing here (`{how}`)")


@pytest.fixture(scope="module")
def db() -> dict[str, host.Package]:
    _need("dpkg", bool(host.shutil.which("dpkg-query")))
    return host.installed_packages()


def _toolbox(tmp: Path, db: dict[str, host.Package], without: tuple[str, ...] = ()) -> Path:
    return host.toolbox(tmp, host.vouched_packages(db, without=without))


@pytest.fixture(scope="module")
def pristine() -> Path:
    _need("linux-source-6.1", kernel.BASE_TARBALL.is_file())
    return kernel.pristine_tree(kernel.base_version())


def _headers_install(tree: Path, out: Path, toolbox: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(tree), f"O={out / 'build'}", f"INSTALL_HDR_PATH={out / 'headers'}",
         f"-j{os.cpu_count() or 1}", "headers_install"],
        env={"PATH": str(toolbox), "HOME": str(out), "LC_ALL": "C"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
    )


def test_toolbox_has_only_listed_packages_tools(tmp_path: Path, db: dict[str, host.Package]) -> None:
    box = _toolbox(tmp_path / "box", db)
    for tool in ("sh", "awk", "make", "gcc", "rsync", "cpio", "qemu-system-x86_64", "dropbearkey", "ssh"):
        assert (box / tool).exists(), tool
    without = _toolbox(tmp_path / "without", db, without=("rsync",))
    assert not (without / "rsync").exists()


def test_headers_install_needs_only_the_doctors_packages(
    tmp_path: Path, db: dict[str, host.Package], pristine: Path,
) -> None:
    """`make headers_install` (the step that once needed an unlisted rsync) on the listed tools alone."""
    proc = _headers_install(pristine, tmp_path, _toolbox(tmp_path / "box", db))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "headers/include/linux/types.h").is_file()


def test_headers_install_probe_fails_when_a_package_is_not_listed(
    tmp_path: Path, db: dict[str, host.Package], pristine: Path,
) -> None:
    """The probe can fail: drop rsync from the doctor's list and headers_install says so."""
    assert "rsync" not in host.vouched_packages(db, without=("rsync",))
    proc = _headers_install(pristine, tmp_path, _toolbox(tmp_path / "box", db, without=("rsync",)))
    assert proc.returncode != 0
    assert "rsync: not found" in proc.stdout


@pytest.fixture()
def only_listed_tools(tmp_path: Path, db: dict[str, host.Package], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PATH", str(_toolbox(tmp_path / "box", db)))
    yield


def test_image_builder_needs_only_the_doctors_packages(tmp_path: Path, only_listed_tools: None) -> None:
    """The whole guest image recipe (busybox, dropbear and its libraries, static programs, cpio)."""
    kbuild = kernel.cached_build(kernel.default_inputs())
    _need("a built kernel", kbuild is not None, "lab kernel build")
    assert kbuild is not None
    root = tmp_path / "root"
    image.populate(root, kbuild)
    image.write_cpio(root, tmp_path / "initramfs.cpio")
    assert (root / "usr/bin/checkpoint").is_file()
    assert (tmp_path / "initramfs.cpio").stat().st_size > 1_000_000
