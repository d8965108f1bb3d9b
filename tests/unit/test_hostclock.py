"""The TCG guest's kernel options (lab.hostclock)."""

import pytest

from lab import hostclock


def test_tcg_guests_get_the_host_tsc_and_the_kernels_unrolled_string_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostclock, "tsc_khz", lambda: 2596122)
    opts = hostclock.tcg_append().split()
    assert opts[:4] == ["tsc_early_khz=2596122", "tsc=reliable", "nolapic_timer", "no_timer_check"]
    assert "clearcpuid=erms,fsrm,rep_good" in opts
    monkeypatch.setattr(hostclock, "tsc_khz", lambda: 0)
    assert hostclock.tcg_append().split() == ["nolapic_timer", "no_timer_check", "clearcpuid=erms,fsrm,rep_good"]
