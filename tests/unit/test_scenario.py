from pathlib import Path

import pytest

from lab import scenario
from lab.scenario import ScenarioError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario.load(write(tmp_path, text))
    return info.value


def test_repository_scenarios_all_load() -> None:
    files = scenario.discover(REPO / "scenarios")
    assert files, "no scenarios found"
    for f in files:
        sc = scenario.load(f)
        assert sc.steps and sc.guests


def test_minimal_scenario_defaults(tmp_path: Path) -> None:
    sc = scenario.load(write(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: 'true'\n"))
    assert sc.name == "s"
    assert sc.guests[0].memory_mib == 256
    step = sc.steps[0]
    assert step.kind == "run" and step.args["guest"] == "a" and step.line == 4


def test_unknown_top_field_names_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: 'true'\nstepz: []\n")
    assert (err.line, err.field) == (5, "stepz")
    assert str(err).startswith(f"{tmp_path / 's.yaml'}:5: stepz: unknown field")


def test_wrong_type_in_guest(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\n    smp: two\nsteps:\n  - run: 'true'\n")
    assert (err.line, err.field) == (3, "guests[0].smp")
    assert "integer" in err.problem


def test_bad_memory(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\n    memory: lots\nsteps:\n  - run: 'true'\n")
    assert err.field == "guests[0].memory" and err.line == 3


def test_step_needs_exactly_one_action(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: 'true'\n    wait: /x\n")
    assert err.field == "steps[0]" and "several actions" in err.problem
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - guest: a\n")
    assert "no action" in err.problem


def test_unknown_step_option(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: 'true'\n    expect_exitt: 1\n")
    assert (err.line, err.field) == (5, "steps[0].expect_exitt")


def test_guest_required_with_several_guests(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\n  - name: b\nsteps:\n  - run: 'true'\n")
    assert err.field == "steps[0].guest"


def test_unknown_guest(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: 'true'\n    guest: z\n")
    assert (err.line, err.field) == (5, "steps[0].guest")


def test_link_transfer_needs_link(tmp_path: Path) -> None:
    text = ("guests:\n  - name: a\n  - name: b\nsteps:\n"
            "  - transfer: /x\n    from: a\n    to: b\n    via: link\n")
    err = error_of(tmp_path, text)
    assert err.field == "steps[0].via" and err.line == 8


def test_duplicate_guest(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\n  - name: a\nsteps:\n  - run: 'true'\n")
    assert err.line == 3 and "duplicate" in err.problem


def test_missing_workload_source(tmp_path: Path) -> None:
    text = "guests:\n  - name: a\nworkloads:\n  - name: w\n    source: w.c\nsteps:\n  - run: w\n"
    err = error_of(tmp_path, text)
    assert (err.line, err.field) == (5, "workloads[0].source")


def test_workload_path_is_relative_to_yaml(tmp_path: Path) -> None:
    (tmp_path / "w.c").write_text("int main(void) { return 0; }\n")
    sc = scenario.load(write(tmp_path, "guests:\n  - name: a\nworkloads:\n  - name: w\n"
                                       "    source: w.c\nsteps:\n  - run: w\n"))
    assert sc.workloads[0].source == tmp_path / "w.c"


def test_background_run_must_save(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - run: sleep 9\n    background: true\n")
    assert err.field == "steps[0].save"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps: [\n")
    assert err.field == "(yaml)"


def test_expect_console_kind(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nexpect_console: [boom]\nsteps:\n  - run: 'true'\n")
    assert err.field == "expect_console" and err.line == 3


def test_freeze_cgroup_choice(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - freeze: 1\n    cgroup: v3\n")
    assert (err.line, err.field) == (5, "steps[0].cgroup")


def test_substitute() -> None:
    assert scenario.substitute("kill ${w} ${w}", {"w": "12"}) == "kill 12 12"
    with pytest.raises(KeyError):
        scenario.substitute("${nope}", {})


@pytest.mark.parametrize("kind", ["checkpoint: 1\n    image: /tmp/x", "restart: /tmp/x"])
def test_turning_verification_off_needs_a_reason(tmp_path: Path, kind: str) -> None:
    text = f"guests:\n  - name: a\nsteps:\n  - {kind}\n    verify_restore: false\n"
    err = error_of(tmp_path, text)
    assert err.field == "steps[0].verify_restore" and "verify_reason" in err.problem
    sc = scenario.load(write(tmp_path, text + "    verify_reason: the image is tampered on purpose\n"))
    assert sc.steps[0].args["verify_restore"] is False


def test_verify_reason_only_with_verify_off(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - restart: /tmp/x\n    verify_reason: why\n")
    assert err.field == "steps[0].verify_reason" and err.line == 5


def test_no_step_option_is_named_like_a_step_kind() -> None:
    """An option called like a kind would make its step look like two actions."""
    for kind, fields in scenario.step_fields().items():
        clash = (set(fields) - {kind}) & set(scenario.step_fields())
        assert not clash, f"{kind}: {clash}"


def test_kernel_fragments_name_known_fragments(tmp_path: Path) -> None:
    base = "guests:\n  - name: a\nsteps:\n  - run: 'true'\n"
    sc = scenario.load(write(tmp_path, base + "kernel_fragments: [debug]\n"))
    assert sc.kernel_fragments == ("debug",)
    err = error_of(tmp_path, base + "kernel_fragments: [debug, nosuch]\n")
    assert err.field == "kernel_fragments[1]" and err.line == 5 and "known:" in err.problem


def test_extra_fragments_come_after_the_defaults() -> None:
    from lab import kernel

    names = [f.stem for f in kernel.default_inputs(["debug"]).fragments]
    assert names == [*kernel.default_fragment_names(), "debug"]


def test_engine_both_runs_each_engine_on_one_kernel(tmp_path: Path) -> None:
    base = "guests:\n  - name: a\nsteps:\n  - run: 'true'\n"
    sc = scenario.load(write(tmp_path, base + "engine: both\n"))
    assert sc.engines == ("kernel", "criu")
    ours, criu = sc.for_engine("kernel"), sc.for_engine("criu")
    assert (ours.name, criu.name) == ("s[kernel]", "s[criu]")
    assert ours.kernel_fragments == criu.kernel_fragments == ("criu",)  # the same kernel for both
    assert ours.packages == () and criu.packages == ("criu",)
    single = scenario.load(write(tmp_path, base)).for_engine("kernel")
    assert single.name == "s" and single.kernel_fragments == () and single.engine == "kernel"
    err = error_of(tmp_path, base + "engine: crui\n")
    assert err.field == "engine" and err.line == 5 and "kernel, criu, both" in err.problem


def test_verifier_self_checks_need_verification(tmp_path: Path) -> None:
    text = ("guests:\n  - name: a\nsteps:\n  - restart: /tmp/x\n    expect_differences: [status.Umask]\n"
            "    verify_restore: false\n    verify_reason: on purpose\n")
    err = error_of(tmp_path, text)
    assert err.field == "steps[0].expect_differences" and "needs restore verification" in err.problem


def test_cut_link_needs_the_streamed_migration_of_our_engine(tmp_path: Path) -> None:
    steps = ("guests:\n  - name: a\n  - name: b\nlink: [a, b]\nsteps:\n"
             "  - migrate: 1\n    from: a\n    to: b\n    expect: restart_fails\n    cut_link_after: 0.1\n")
    assert scenario.load(write(tmp_path, steps)).steps[0].args["cut_link_after"] == 0.1
    for engine in ("criu", "both"):
        err = error_of(tmp_path, f"engine: {engine}\n" + steps)
        assert err.field == "steps[0].cut_link_after" and "engine: kernel" in err.problem
        assert err.line == 11


def test_an_engine_that_cannot_be_installed_fails_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lab import packages

    def no_criu(names: list[str]) -> list[packages.Resolved]:
        raise packages.PackageError("apt knows no package criu", names)

    monkeypatch.setattr(packages, "resolve", no_criu)
    err = error_of(tmp_path, "guests:\n  - name: a\nengine: both\nsteps:\n  - run: 'true'\n")
    assert err.field == "engine" and err.line == 3
    assert "engine criu cannot be installed" in err.problem and "apt knows no package criu" in err.problem
    assert scenario.load(write(tmp_path, "guests:\n  - name: a\nengine: kernel\nsteps:\n  - run: 'true'\n"))


def test_params_have_defaults_and_are_set_by_name(tmp_path: Path) -> None:
    sc = scenario.load(write(tmp_path, "params:\n  seed: 7\n  mode: fast\nguests:\n  - name: a\n"
                                       "steps:\n  - run: echo ${seed} ${mode}\n"))
    assert sc.params == (("seed", "7"), ("mode", "fast"))
    assert sc.with_params({"seed": "9"}).params == (("seed", "9"), ("mode", "fast"))
    with pytest.raises(KeyError, match="no param 'sed'"):
        sc.with_params({"sed": "1"})
    err = error_of(tmp_path, "params:\n  Seed: 7\nguests:\n  - name: a\nsteps:\n  - run: 'true'\n")
    assert (err.line, err.field) == (2, "params.Seed")
    err = error_of(tmp_path, "params:\n  seed: [1, 2]\nguests:\n  - name: a\nsteps:\n  - run: 'true'\n")
    assert (err.line, err.field) == (2, "params.seed") and "default" in err.problem


def test_lab_run_param_names_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lab import cli

    p = write(tmp_path, "params:\n  seed: 7\nguests:\n  - name: a\nsteps:\n  - run: echo ${seed}\n")
    assert cli.main(["run", str(p), "--param", "sead=1"]) == 2
    assert "--param: scenario s has no param 'sead' (has: seed)" in capsys.readouterr().err


def test_pidns_steps_need_an_engine_that_does_pid_namespaces(tmp_path: Path) -> None:
    steps = ("guests:\n  - name: a\nsteps:\n  - checkpoint: 1\n    image: /tmp/ns.img\n    pidns: true\n"
             "  - restart: /tmp/ns.img\n    pidns: true\n    ghosts: true\n")
    sc = scenario.load(write(tmp_path, steps))
    assert sc.steps[0].args["pidns"] and sc.steps[1].args["ghosts"]
    err = error_of(tmp_path, "engine: both\n" + steps)
    assert err.field == "steps[0].pidns" and "engine criu cannot do a pid namespace" in err.problem
    assert err.line == 7


def test_pidns_restart_cannot_take_the_image_pid(tmp_path: Path) -> None:
    err = error_of(tmp_path, "guests:\n  - name: a\nsteps:\n  - restart: /tmp/ns.img\n    pidns: true\n"
                             "    same_pid: true\n")
    assert err.field == "steps[0].same_pid" and "exclude each other" in err.problem


def test_etckpt_has_no_ghosts(tmp_path: Path) -> None:
    err = error_of(tmp_path, "engine: etckpt\nguests:\n  - name: a\nsteps:\n  - restart: /tmp/x\n    ghosts: true\n")
    assert err.field == "steps[0].ghosts" and "no ghosts" in err.problem
