"""lab.progress: a rich live line on a terminal, plain heartbeat lines otherwise."""

from __future__ import annotations

import io

import pytest

from lab.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_stream_prints_phases_and_heartbeats_not_every_step() -> None:
    out = io.StringIO()
    p = Progress("kernel", stream=out, heartbeat_s=3600)
    p.status("configure")
    for i in range(100):
        p.step(f"CC file{i}.o")
    p.status("build")
    p.done("built 6.1.0")
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["configure", "build", "built 6.1.0"]
    assert all(line.startswith("[kernel ") for line in lines)
    assert "\033" not in out.getvalue()


def test_plain_stream_heartbeat_shows_step_count() -> None:
    out = io.StringIO()
    p = Progress("kernel", stream=out, heartbeat_s=0)
    p.status("build")
    p.step("CC a.o")
    p.step("CC b.o")
    assert out.getvalue().splitlines()[-1].endswith("build 2 steps CC b.o")


def test_terminal_live_line_is_taken_down_and_final_line_kept() -> None:
    out = Tty()
    with Progress("image", stream=out) as p:
        p.status("populate")
        p.step("[brackets] are not markup")
        assert p._live is not None
        p.done("built abc (3.1 MB)")
        assert p._live is None
    text = out.getvalue()
    assert "built abc (3.1 MB)" in text
    assert "[image " in text


def test_terminal_live_line_stopped_when_the_step_fails() -> None:
    out = Tty()
    p = Progress("kernel", stream=out)
    with pytest.raises(RuntimeError), p:
        p.status("build")
        raise RuntimeError("make failed")
    assert p._live is None
    p.stop()  # idempotent
