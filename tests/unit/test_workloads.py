"""Scenario workloads beyond C sources: host binaries, files and directories, Debian packages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lab import image, kernel, packages, scenario
from lab.scenario import ScenarioError

HEAD = "guests:\n  - name: a\n"
STEPS = "steps:\n  - run: 'true'\n"


def load(tmp_path: Path, text: str) -> scenario.Scenario:
    p = tmp_path / "s.yaml"
    p.write_text(HEAD + text + STEPS)
    return scenario.load(p)


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, text)
    return info.value


def _need(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI, where the nox session runs `lab doctor --install` first")
    pytest.skip(f"{what} is missing here")


def test_binary_and_files_workloads(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "tools" / "run.sh").chmod(0o755)
    sc = load(tmp_path, "workloads:\n  - binary: /bin/busybox\n    dst: /opt/bb\n    closure: false\n"
                        "  - binary: /bin/busybox\n"
                        "  - files: tools\n    dst: /opt/tools\n")
    assert [(w.kind, w.dst, w.closure) for w in sc.workloads] == [
        ("binary", "/opt/bb", False), ("binary", "/bin/busybox", True), ("files", "/opt/tools", True)]
    assert sc.binaries() == [image.Binary(Path("/bin/busybox"), "/opt/bb", False),
                             image.Binary(Path("/bin/busybox"), "/bin/busybox", True)]
    assert sc.trees() == [image.Files(tmp_path / "tools", "/opt/tools")]
    assert sc.sources() == [] and sc.packages == ()


@pytest.mark.parametrize(("text", "line", "field", "problem"), [
    ("workloads:\n  - name: w\n", 4, "workloads[0]", "exactly one of source, binary, files"),
    ("workloads:\n  - source: w.c\n    binary: /bin/busybox\n", 4, "workloads[0]", "exactly one"),
    ("workloads:\n  - binary: busybox\n", 4, "workloads[0].binary", "absolute path"),
    ("workloads:\n  - binary: /no/such/tool\n", 4, "workloads[0].binary", "no executable file"),
    ("workloads:\n  - binary: /etc/passwd\n", 4, "workloads[0].binary", "no executable file"),
    ("workloads:\n  - files: nothere\n    dst: /opt/x\n", 4, "workloads[0].files", "no such file"),
    ("workloads:\n  - files: .\n", 4, "workloads[0].dst", "required with files"),
    ("workloads:\n  - files: .\n    dst: opt/x\n", 5, "workloads[0].dst", "absolute guest path"),
    ("workloads:\n  - files: .\n    dst: /opt/../etc\n", 5, "workloads[0].dst", "without .."),
    ("workloads:\n  - files: .\n    dst: /\n", 5, "workloads[0].dst", "not /"),
    ("workloads:\n  - files: .\n    dst: /x\n    closure: true\n", 6, "workloads[0].closure", "only with binary"),
    ("workloads:\n  - binary: /bin/busybox\n    closure: 1\n", 5, "workloads[0].closure", "boolean"),
    ("packages: [sqlite3, Bad_Name]\n", 3, "packages[1]", "Debian package name"),
    ("packages: [sqlite3, sqlite3]\n", 3, "packages[1]", "given twice"),
    ("packages: sqlite3\n", 3, "packages", "list"),
])
def test_workload_errors_name_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                             problem: str) -> None:
    err = error_of(tmp_path, text)
    assert (err.line, err.field) == (line, field), str(err)
    assert problem in err.problem, str(err)


def test_binary_whose_libraries_are_missing_fails_at_load(tmp_path: Path) -> None:
    _need("gcc", bool(shutil.which("gcc")))
    (tmp_path / "lib.c").write_text("int lab_answer(void) { return 42; }\n")
    (tmp_path / "main.c").write_text("int lab_answer(void);\nint main(void) { return lab_answer() != 42; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", tmp_path / "liblabgone.so", tmp_path / "lib.c"], check=True)
    subprocess.run(["gcc", "-o", tmp_path / "prog", tmp_path / "main.c", f"-L{tmp_path}", "-llabgone",
                    f"-Wl,-rpath,{tmp_path}"], check=True)
    assert load(tmp_path, f"workloads:\n  - binary: {tmp_path / 'prog'}\n").binaries()  # loads while it is there
    (tmp_path / "liblabgone.so").unlink()
    err = error_of(tmp_path, f"workloads:\n  - binary: {tmp_path / 'prog'}\n")
    assert (err.line, err.field) == (4, "workloads[0].binary")
    assert "liblabgone.so" in err.problem
    # without the closure it loads (the guest is then responsible for the library)
    assert load(tmp_path, f"workloads:\n  - binary: {tmp_path / 'prog'}\n    closure: false\n").workloads


def test_library_closure_of_static_and_dynamic_programs() -> None:
    _need("ldd", bool(shutil.which("ldd")))
    assert image.library_closure(Path("/bin/busybox")) == []  # busybox-static
    libs = image.library_closure(Path("/bin/sh"))
    assert any(p.name.startswith("libc.so") for p in libs)
    assert any(p.name.startswith("ld-linux") for p in libs)


def test_unknown_package_fails_at_load_on_its_line(tmp_path: Path) -> None:
    _need("apt", packages.have_apt())
    err = error_of(tmp_path, "packages:\n  - hello\n  - lab-no-such-package\n")
    assert (err.line, err.field) == (5, "packages[1]"), str(err)
    assert "lab-no-such-package" in err.problem
    sc = load(tmp_path, "packages: [hello]\n")
    assert sc.packages == ("hello",)


def _kernel() -> kernel.KernelBuild:
    kb = kernel.cached_build(kernel.default_inputs())
    _need("a built lab kernel (`lab kernel build`)", kb is not None)
    assert kb is not None
    return kb


def _cpio_entries(path: Path) -> dict[str, str]:
    out = subprocess.run(["cpio", "-itv", "--quiet"], stdin=open(path, "rb"), capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] if " -> " not in line else line.split()[-3]: line.split()[0]
            for line in out.splitlines()}


def test_workload_archive_with_binary_closure_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = _kernel()
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "data.txt").write_text("data\n")
    (tree / "tool.sh").write_text("#!/bin/sh\n")
    (tree / "tool.sh").chmod(0o755)
    (tree / "link").symlink_to("tool.sh")
    sh = Path("/bin/sh").resolve()
    archive = image.workload_archive([], kb, [image.Binary(sh, "/opt/bin/mysh")],
                                     [image.Files(tree, "/opt/tree"), image.Files(tree / "sub" / "data.txt", "/etc/d")])
    assert archive is not None
    entries = _cpio_entries(archive)
    assert entries["opt/bin/mysh"].startswith("-rwx")
    assert entries["opt/tree/tool.sh"] == "-rwxr-xr-x"
    assert entries["opt/tree/sub/data.txt"] == "-rw-r--r--"
    assert entries["opt/tree/link"].startswith("l")
    assert entries["etc/d"] == "-rw-r--r--"
    for lib in image.library_closure(sh):
        assert str(lib).lstrip("/") in entries, lib
    # cached by content: the same inputs give the same file, a changed file another one
    assert image.workload_archive([], kb, [image.Binary(sh, "/opt/bin/mysh")],
                                  [image.Files(tree, "/opt/tree"), image.Files(tree / "sub" / "data.txt", "/etc/d")]) \
        == archive
    (tree / "sub" / "data.txt").write_text("other\n")
    assert image.workload_archive([], kb, [], [image.Files(tree, "/opt/tree")]) != archive
    assert image.workload_archive([], kb) is None


def test_image_build_with_package_prints_the_image_with_the_layer(capsys: pytest.CaptureFixture[str]) -> None:
    _need("apt", packages.have_apt())
    kb = _kernel()
    if os.geteuid() != 0:
        pytest.skip("ldconfig -r needs root")  # the lab runs as root in CI
    from lab import cli

    assert cli.main(["image", "build", "--package", "hello"]) == 0
    printed = Path(capsys.readouterr().out.strip().splitlines()[-1])
    base = image.build_image(kb).initrd
    lay = packages.layer(["hello"])
    assert lay is not None
    assert printed.read_bytes() == base.read_bytes() + lay.path.read_bytes()
    assert image.with_packages(image.build_image(kb), []) == base  # no package, the image as it is
    assert cli.main(["image", "build", "--package", "lab-no-such-package"]) == 1
    assert "lab-no-such-package" in capsys.readouterr().err
