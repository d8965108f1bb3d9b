import os
from pathlib import Path

import pytest

from lab import kernel

PATCH = """Subject: [PATCH] add a line

--- a/Makefile
+++ b/Makefile
@@ -1,2 +1,3 @@
 one
+inserted
 two
--- /dev/null
+++ b/kernel/new.c
@@ -0,0 +1 @@
+int x;
"""


def test_parse_config() -> None:
    opts = kernel.parse_config("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"s\"\n# comment\n")
    assert opts == {"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_C": '"s"'}


def test_missing_options_names_each(tmp_path: Path) -> None:
    frag = tmp_path / "x.config"
    frag.write_text("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=64\n")
    final = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=32\n"
    problems = kernel.missing_options([frag], final)
    assert problems == [
        "CONFIG_B=y (from x.config) became not set",
        "CONFIG_C=n (from x.config) became y",
        "CONFIG_D=64 (from x.config) became 32",
    ]


def test_repository_fragments_parse() -> None:
    for frag in kernel.FRAGMENT_DIR.glob("*.config"):
        assert kernel.parse_config(frag.read_text()), frag


def test_patch_paths(tmp_path: Path) -> None:
    p = tmp_path / "0001.patch"
    p.write_text(PATCH)
    assert kernel.patch_paths(p) == {"Makefile", "kernel/new.c"}


def test_read_series(tmp_path: Path) -> None:
    (tmp_path / "a.patch").write_text(PATCH)
    (tmp_path / "series").write_text("# comment\na.patch -p1\n\n")
    assert kernel.read_series(tmp_path) == [tmp_path / "a.patch"]
    (tmp_path / "series").write_text("missing.patch\n")
    with pytest.raises(kernel.KernelBuildError, match="series:1: patch missing.patch"):
        kernel.read_series(tmp_path)


def make_inputs(tmp_path: Path, patch: str | None, overlay: dict[str, str]) -> kernel.KernelInputs:
    series = tmp_path / "patches"
    series.mkdir(exist_ok=True)
    if patch is None:
        (series / "series").write_text("")
    else:
        (series / "a.patch").write_text(patch)
        (series / "series").write_text("a.patch\n")
    files = tmp_path / "files"
    if files.exists():
        import shutil
        shutil.rmtree(files)
    files.mkdir()
    for rel, text in overlay.items():
        (files / rel).parent.mkdir(parents=True, exist_ok=True)
        (files / rel).write_text(text)
    return kernel.KernelInputs(fragments=(), series_dir=series, overlay_dir=files)


def test_prepare_tree_rewrites_only_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    kernel.kernel_cache().mkdir(parents=True)
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    (pristine / "Makefile").write_text("one\ntwo\n")
    (pristine / "other.c").write_text("untouched\n")
    tree = tmp_path / "tree"

    inputs = make_inputs(tmp_path, PATCH, {"include/uapi/linux/checkpoint.h": "#define X 1\n"})
    changed = kernel.prepare_tree(inputs, pristine, tree)
    assert sorted(changed) == ["Makefile", "include/uapi/linux/checkpoint.h", "kernel/new.c"]
    assert (tree / "Makefile").read_text() == "one\ninserted\ntwo\n"
    # the pristine tree is never written through the hard links
    assert (pristine / "Makefile").read_text() == "one\ntwo\n"
    assert os.stat(tree / "other.c").st_ino == os.stat(pristine / "other.c").st_ino

    # same inputs again: nothing rewritten, so make sees no change
    mtime = (tree / "Makefile").stat().st_mtime_ns
    assert kernel.prepare_tree(inputs, pristine, tree) == []
    assert (tree / "Makefile").stat().st_mtime_ns == mtime

    # drop the patch: its files go back to pristine, its new file disappears
    inputs = make_inputs(tmp_path, None, {"include/uapi/linux/checkpoint.h": "#define X 1\n"})
    changed = kernel.prepare_tree(inputs, pristine, tree)
    assert sorted(changed) == ["Makefile", "kernel/new.c"]
    assert (tree / "Makefile").read_text() == "one\ntwo\n"
    assert not (tree / "kernel/new.c").exists()


def test_prepare_tree_reports_failing_patch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "cache"))
    kernel.kernel_cache().mkdir(parents=True)
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    (pristine / "Makefile").write_text("something else\n")
    inputs = make_inputs(tmp_path, PATCH, {})
    with pytest.raises(kernel.KernelBuildError, match="a.patch does not apply"):
        kernel.prepare_tree(inputs, pristine, tmp_path / "tree")


def test_key_changes_with_each_input(tmp_path: Path) -> None:
    frag = tmp_path / "f.config"
    frag.write_text("CONFIG_A=y\n")
    inputs = make_inputs(tmp_path, PATCH, {"a.c": "1"})
    inputs = kernel.KernelInputs(fragments=(frag,), series_dir=inputs.series_dir,
                                 overlay_dir=inputs.overlay_dir)
    k0 = inputs.key("6.1.1-1", "gcc 12")
    assert k0 == inputs.key("6.1.1-1", "gcc 12")
    assert k0 != inputs.key("6.1.2-1", "gcc 12")
    assert k0 != inputs.key("6.1.1-1", "gcc 13")
    (inputs.overlay_dir / "a.c").write_text("2")
    k1 = inputs.key("6.1.1-1", "gcc 12")
    assert k1 != k0
    frag.write_text("CONFIG_A=n\n")
    assert inputs.key("6.1.1-1", "gcc 12") != k1


def test_unknown_fragment_lists_known() -> None:
    with pytest.raises(kernel.KernelBuildError, match="known: .*base"):
        kernel.KernelInputs.from_names(["nonexistent"])


def test_a_later_fragment_overrides_an_earlier_one(tmp_path: Path) -> None:
    """The last fragment wins, as merge_config.sh merges them; what no fragment got is still named."""
    base = tmp_path / "base.config"
    base.write_text("# CONFIG_IPV6 is not set\nCONFIG_A=y\n")
    criu = tmp_path / "criu.config"
    criu.write_text("CONFIG_IPV6=y\nCONFIG_B=y\n")
    final = "CONFIG_IPV6=y\nCONFIG_A=y\n# CONFIG_B is not set\n"
    assert kernel.missing_options([base, criu], final) == ["CONFIG_B=y (from criu.config) became not set"]
    assert kernel.missing_options([criu, base], final) == [
        "CONFIG_IPV6=n (from base.config) became y", "CONFIG_B=y (from criu.config) became not set"]


@pytest.mark.parametrize("recipe", ["lab-no-such-tool -mrl usr/include $(INSTALL_HDR_PATH) && :", "lab-no-such-tool"])
def test_a_build_step_that_runs_a_missing_tool_names_it(tmp_path: Path, recipe: str) -> None:
    """Through the shell (as the kernel's headers_install runs rsync) or run by make itself."""
    from lab.progress import Progress

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Makefile").write_text(f"headers_install:\n\t{recipe}\n")
    log = tmp_path / "build.log"
    with pytest.raises(kernel.KernelBuildError) as info:
        kernel._make(tree, tmp_path / "build", "headers_install", log=log, progress=Progress("test"))
    assert "missing host tool(s): lab-no-such-tool:" in str(info.value)
