from pathlib import Path

import pytest

from lab import paths, scenario
from lab.steps import KINDS
from lab.steps.survey import CatalogueError, Outcome, _parse_digests, load_catalogue, table

CATALOGUE = paths.REPO / "scenarios" / "programs" / "debian.catalogue.yaml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "x.catalogue.yaml"
    p.write_text(text)
    return p


def test_the_catalogue_loads() -> None:
    programs = load_catalogue(CATALOGUE)
    assert len(programs) >= 20
    names = [p.name for p in programs]
    assert len(names) == len(set(names))
    # every program is run by its packaged path: busybox's sh would run its own applet first
    assert all(p.run.split()[0].startswith("/") for p in programs)


@pytest.mark.parametrize("path", ["survey.yaml", "nightly/survey.yaml"])
def test_the_survey_scenarios_have_every_package(path: str) -> None:
    spec = scenario.load(paths.REPO / "scenarios" / "programs" / path)
    assert "survey" in KINDS and spec.steps[0].kind == "survey"
    programs = load_catalogue(CATALOGUE)
    only = spec.steps[0].args.get("only", [p.name for p in programs])
    assert set(only) <= {p.name for p in programs}
    assert {p.package for p in programs if p.package and p.name in only} <= set(spec.packages)


@pytest.mark.parametrize("text, where", [
    ("programs:\n  - name: a\n", "programs[0].run"),
    ("programs:\n  - name: a\n    run: /bin/true\n    colour: red\n", "programs[0].colour"),
    ("programs:\n  - {name: a, run: /bin/true}\n  - {name: a, run: /bin/false}\n", "programs[1].name"),
    ("programs:\n  - {name: a, run: /bin/true, expect: fine}\n", "programs[0].expect"),
    ("programs:\n  - {name: a, run: /bin/true, checkpoint_after: 0}\n", "programs[0].checkpoint_after"),
    ("programs:\n  - {name: a, run: /bin/true, compare: [../etc/passwd]}\n", "programs[0].compare"),
    ("programs:\n  - {name: 'a b', run: /bin/true}\n", "programs[0].name"),
    ("programs: []\n", "programs"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(write(tmp_path, text))
    assert str(exc.value).startswith(f"{tmp_path / 'x.catalogue.yaml'}:")
    assert f": {where}: " in str(exc.value)


def test_defaults(tmp_path: Path) -> None:
    (p,) = load_catalogue(write(tmp_path, "programs:\n  - {name: a, run: /bin/sleep 3}\n"))
    assert (p.checkpoint_after, p.timeout, p.compare, p.expect, p.unordered) == (1.0, 120.0, (), "", False)


def test_digests_and_table() -> None:
    assert _parse_digests("stdout abc\nstderr MISSING\nout.tar 123\n") == {
        "stdout": "abc", "stderr": "MISSING", "out.tar": "123"}
    text = table([Outcome("gzip", "pass", ref_seconds=4.2), Outcome("sh", "refused", "pid 7 has children")])
    assert text.splitlines()[1].split()[:3] == ["gzip", "pass", "4.2"]
    assert text.splitlines()[-1].startswith("pass=1 refused=1 restart_failed=0 wrong=0")


def test_catalogues_are_not_collected_as_scenarios() -> None:
    from lab import pytest_plugin

    assert pytest_plugin.pytest_collect_file(None, CATALOGUE) is None  # type: ignore[arg-type]
