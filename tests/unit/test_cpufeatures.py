"""CPU models -> xfeatures -> the expected outcome of a cross-CPU C/R (no guest)."""

from __future__ import annotations

import pytest

from lab import cpufeatures
from lab.cpufeatures import CpuFeatures, from_properties


def test_properties_map_to_linux_xfeatures() -> None:
    none = dict.fromkeys(cpufeatures.PROPERTIES, False)
    assert from_properties("old", {**none, "fpu": True, "sse": True}) == CpuFeatures("old", False, 0)
    avx = from_properties("avx", {**none, "xsave": True, "fpu": True, "sse": True, "avx": True})
    assert avx.xfeatures == 0x7 and cpufeatures.names(avx.xfeatures) == "x87,sse,ymm"
    big = from_properties("big", {**none, "xsave": True, "fpu": True, "sse": True, "avx": True, "mpx": True,
                                  "avx512f": True, "pku": True, "amx-tile": True})
    assert big.xfeatures == 0x602ff
    assert cpufeatures.names(0x218) == "bndregs,bndcsr,pkru"


@pytest.mark.parametrize(("src", "dst", "ok", "stage", "missing"), [
    (CpuFeatures("a", True, 0x7), CpuFeatures("b", True, 0x21f), True, "", 0),
    (CpuFeatures("a", True, 0x7), CpuFeatures("b", True, 0x7), True, "", 0),
    (CpuFeatures("a", True, 0x21f), CpuFeatures("b", True, 0x7), False, "restart", 0x218),
    (CpuFeatures("a", True, 0x7), CpuFeatures("b", False, 0), False, "restart", 0x7),
    (CpuFeatures("a", False, 0), CpuFeatures("b", True, 0x7), False, "checkpoint", 0),
])
def test_expected_outcome(src: CpuFeatures, dst: CpuFeatures, ok: bool, stage: str, missing: int) -> None:
    out = cpufeatures.expected(src, dst)
    assert (out.ok, out.stage, out.missing) == (ok, stage, missing)
    assert ("EOPNOTSUPP" in out.describe()) == (not ok)


def test_probe_asks_a_paused_qemu() -> None:
    # QEMU (a host prerequisite) runs no guest code here (-S): under TCG, Skylake-Client loses MPX
    # (TCG lacks it), max keeps what TCG emulates, Nehalem has no XSAVE at all
    found = cpufeatures.probe_all(["Nehalem", "Skylake-Client", "max"], "tcg")
    assert not found["Nehalem"].xsave
    assert found["Skylake-Client"].xfeatures == 0x7
    assert found["max"].xfeatures & 0x7 == 0x7 and found["max"].xfeatures != 0x7
    with pytest.raises(cpufeatures.CpuModelError, match="unable to find CPU model"):
        cpufeatures.probe("NoSuchModel")


def test_enabled_line_of_the_guest_kernel() -> None:
    line = "[    0.000000] x86/fpu: Enabled xstate features 0x21f, context size is 2440 bytes, using 'compacted'"
    found = cpufeatures.ENABLED_RE.search(line)
    assert found is not None and int(found.group(1), 16) == 0x21f
