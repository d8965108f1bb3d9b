"""Matrix files without guests: loading and its errors, expansion (GitHub Actions' include/exclude),
applying a cell to a scenario, item ids, shards, the CLI's --list."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lab import cli
from lab.matrix import plan, spec
from lab.matrix.spec import Cell, MatrixError

REPO = Path(__file__).resolve().parents[2]
NIGHTLY = REPO / "matrix" / "nightly.yaml"

SCENARIO = "guests:\n  - name: a\nsteps:\n  - run: 'true'\n"
TWO_GUESTS = ("guests:\n  - name: a\n  - name: b\nsteps:\n  - freeze: 1\n    guest: a\n"
              "  - freeze: 1\n    guest: b\n    cgroup: v2\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    d = tmp_path / "scenarios"
    (d / "one").mkdir(parents=True)
    (d / "one" / "plain.yaml").write_text(SCENARIO)
    (d / "one" / "pair.yaml").write_text(TWO_GUESTS)
    (d / "one" / "pinned.yaml").write_text("guests:\n  - name: a\n    cpu: Haswell\n    memory: 512M\n"
                                           "steps:\n  - run: 'true'\n")
    return d


def matrix(root: Path, body: str) -> Path:
    p = root.parent / "m.yaml"
    p.write_text(f"root: scenarios\n{body}")
    return p


def error_of(path: Path) -> MatrixError:
    with pytest.raises(MatrixError) as info:
        spec.load(path)
    return info.value


# -- the nightly file -------------------------------------------------------------------------------
def test_nightly_lists_enough_items_and_cross_cpu_pairs() -> None:
    items = plan.items(spec.load(NIGHTLY))
    ids = [i.id for i in items]
    assert len(ids) == len(set(ids)) >= 50
    cross = [i for i in items if i.cross]
    assert len(cross) >= 12
    assert all(f"@{i.cell.cpu}->{i.cell.target_cpu}" in i.id for i in cross)
    models = {i.cell.cpu for i in cross}
    assert len(models) >= 4
    assert {(i.cell.cpu, i.cell.target_cpu) for i in cross} == set(itertools.permutations(models, 2))
    # the expectation is computed from the models' features, both kinds occur
    assert {i.expected.split()[0] for i in cross} >= {"success", "restart", "checkpoint"}
    mf = spec.load(NIGHTLY)
    axes_used = {a for g in mf.groups for c in g.cells for a in spec.AXES if getattr(c, a) != getattr(mf.defaults, a)}
    assert axes_used == set(spec.AXES)  # every axis of the issue is exercised somewhere


def test_nightly_kernel_cells_use_fragments_and_command_line() -> None:
    items = plan.items(spec.load(NIGHTLY), predict=False)
    full_debug = next(i for i in items if i.id.startswith("kernels/") and "kernel=debug,preempt=full" in i.id)
    sc = plan.apply(full_debug.cell, full_debug.scenario)
    assert sc.kernel_fragments[-2:] == ("debug", "preempt-dynamic")
    assert all("preempt=full loglevel=7" in g.append for g in sc.guests)
    assert full_debug.cell.console_proof() == "Dynamic Preempt: full"


# -- loading errors: file, line, field, valid values ------------------------------------------------
def test_unknown_cpu_model_names_line_and_valid_values(root: Path) -> None:
    p = matrix(root, "groups:\n  - name: g\n    matrix:\n      cpu: [Haswell, Pentium9]\n"
                     "    scenarios: [one/plain.yaml]\n")
    err = error_of(p)
    assert (err.line, err.field) == (5, "groups[0].matrix.cpu[1]")
    assert str(err).startswith(f"{p}:5: groups[0].matrix.cpu[1]: unknown cpu 'Pentium9' (valid: ")
    assert "Haswell" in err.problem and "Skylake-Client" in err.problem


def test_unknown_machine_fragment_and_axis(root: Path) -> None:
    err = error_of(matrix(root, "groups:\n  - name: g\n    matrix:\n      machine: [pc, q99]\n"
                                "    scenarios: [one/plain.yaml]\n"))
    assert err.field == "groups[0].matrix.machine[1]" and "q35" in err.problem
    err = error_of(matrix(root, "defaults: {kernel: debug+nosuch}\ngroups:\n  - name: g\n"
                                "    scenarios: [one/plain.yaml]\n"))
    assert (err.line, err.field) == (2, "defaults.kernel") and "debug" in err.problem
    err = error_of(matrix(root, "groups:\n  - name: g\n    matrix:\n      gpu: [x]\n"
                                "    scenarios: [one/plain.yaml]\n"))
    assert (err.line, err.field) == (5, "groups[0].matrix.gpu") and "unknown field" in err.problem


def test_bad_values_and_combinations(root: Path) -> None:
    cases = {
        "matrix:\n      memory: [64M]\n": ("groups[0].matrix.memory[0]", "at least 128M"),
        "matrix:\n      smp: [0]\n": ("groups[0].matrix.smp[0]", "1 to 64"),
        "matrix:\n      preempt: [rt]\n": ("groups[0].matrix.preempt[0]", "none, voluntary, full"),
        "matrix:\n      cpu: [host]\n": ("groups[0].matrix", "cpu host needs accel kvm"),
        "matrix:\n      cpu: [max, max]\n": ("groups[0].matrix.cpu[1]", "given twice"),
        "matrix:\n      cpu: [max]\n      exclude: [{cpu: Haswell}]\n": ("groups[0].matrix.exclude[0]",
                                                                       "matches no combination"),
        "cross_cpu: [Haswell]\n": ("groups[0].cross_cpu", "at least two"),
    }
    for body, (field, problem) in cases.items():
        err = error_of(matrix(root, f"groups:\n  - name: g\n    {body}    scenarios: [one/pair.yaml]\n"))
        assert err.field == field and problem in err.problem, (body, err)


def test_scenarios_must_exist_load_and_fit_the_group(root: Path) -> None:
    err = error_of(matrix(root, "groups:\n  - name: g\n    scenarios: [one/plain.yaml, two/*.yaml]\n"))
    assert (err.line, err.field) == (4, "groups[0].scenarios[1]") and "no scenario matches" in err.problem
    (root / "one" / "broken.yaml").write_text("guests: []\nsteps: []\n")
    err = error_of(matrix(root, "groups:\n  - name: g\n    scenarios: [one/broken.yaml]\n"))
    assert "scenario does not load" in err.problem and "broken.yaml:1" in err.problem
    err = error_of(matrix(root, "groups:\n  - name: g\n    matrix:\n      cpu: [max, Haswell]\n"
                                "    scenarios: [one/pinned.yaml]\n"))
    assert "sets guests[0].cpu itself" in err.problem
    err = error_of(matrix(root, "groups:\n  - name: g\n    matrix:\n      memory: [256M, 2G]\n"
                                "    scenarios: [one/pinned.yaml]\n"))
    assert "needs guests[0].memory >= 512M" in err.problem and "256M" in err.problem
    err = error_of(matrix(root, "groups:\n  - name: g\n    cross_cpu: [max, Haswell]\n"
                                "    scenarios: [one/plain.yaml]\n"))
    assert "needs a source and a target guest" in err.problem


def test_yaml_syntax_error_is_reported_by_the_scenario_loader(root: Path) -> None:
    err = error_of(matrix(root, "groups:\n  - name: [g\n"))
    assert err.field == "(yaml)" and err.line >= 3


# -- expansion --------------------------------------------------------------------------------------
def _cells(root: Path, body: str) -> list[dict[str, object]]:
    mf = spec.load(matrix(root, f"groups:\n  - name: g\n    matrix:\n{body}    scenarios: [one/plain.yaml]\n"))
    return [{a: getattr(c, a) for a in spec.AXES if getattr(c, a) != getattr(mf.defaults, a)}
            for c in mf.groups[0].cells]


def test_product_exclude_include_as_github_actions(root: Path) -> None:
    # GitHub's documented example, in our axes: include extends the matching combinations without
    # overwriting an original value, and an entry that fits none is a combination of its own
    cells = _cells(root, "      cpu: [Haswell, EPYC]\n      machine: [q35]\n      smp: [2, 4]\n"
                         "      exclude: [{cpu: EPYC, smp: 4}]\n"
                         "      include:\n        - {cgroup: v1}\n        - {cpu: EPYC, memory: 2G}\n"
                         "        - {cpu: Haswell, smp: 2, preempt: full}\n        - {cpu: SandyBridge}\n")
    assert cells == [
        {"cpu": "Haswell", "machine": "q35", "smp": 2, "cgroup": "v1", "preempt": "full"},
        {"cpu": "Haswell", "machine": "q35", "smp": 4, "cgroup": "v1"},
        {"cpu": "EPYC", "machine": "q35", "smp": 2, "cgroup": "v1", "memory": "2G"},
        {"cpu": "SandyBridge"},
    ]


def test_apply_cell_to_scenario(root: Path) -> None:
    mf = spec.load(matrix(root, "defaults: {memory: 1G}\ngroups:\n  - name: g\n    cross_cpu: [max, Haswell]\n"
                                "    matrix:\n      cgroup: [v1]\n      preempt: [voluntary]\n"
                                "    scenarios: [one/pair.yaml]\n"))
    item = next(i for i in plan.items(mf, predict=False) if i.cross == "max->Haswell")
    assert item.id == "g/pair@max->Haswell,preempt=voluntary,cgroup=v1"  # memory: the default
    sc = plan.apply(item.cell, item.scenario)
    assert [g.cpu for g in sc.guests] == ["max", "Haswell"]
    assert [g.memory_mib for g in sc.guests] == [1024, 1024]
    assert [s.args["cgroup"] for s in sc.steps] == ["v1", "v2"]  # the step that names its cgroup keeps it
    assert sc.kernel_fragments == ("preempt-dynamic",) and sc.guests[0].append == "preempt=voluntary loglevel=7"
    pinned = spec.load(matrix(root, "defaults: {memory: 256M}\ngroups:\n  - name: g\n"
                                    "    scenarios: [one/pinned.yaml]\n"))
    it = plan.items(pinned)[0]
    assert plan.apply(it.cell, it.scenario).guests[0].memory_mib == 512  # a guest's memory is its minimum


def test_ids_are_stable_when_groups_and_values_are_reordered(root: Path) -> None:
    a = "groups:\n  - name: x\n    matrix:\n      cpu: [max, Haswell]\n    scenarios: [one/plain.yaml]\n" \
        "  - name: y\n    scenarios: [one/*.yaml]\n"
    b = "groups:\n  - name: y\n    scenarios: [one/*.yaml]\n" \
        "  - name: x\n    matrix:\n      cpu: [Haswell, max]\n    scenarios: [one/plain.yaml]\n"
    ids_a = {i.id for i in plan.items(spec.load(matrix(root, a)))}
    ids_b = {i.id for i in plan.items(spec.load(matrix(root, b)))}
    assert ids_a == ids_b and "x/plain@cpu=Haswell" in ids_a and "x/plain@default" in ids_a


# -- shards -----------------------------------------------------------------------------------------
def test_parse_shard() -> None:
    assert plan.parse_shard("2/3") == (2, 3)
    for bad in ("4/3", "0/3", "1/0", "3", "a/b", "-1/2"):
        with pytest.raises(ValueError):
            plan.parse_shard(bad)


def test_shards_partition_exactly_and_balance() -> None:
    items = plan.items(spec.load(NIGHTLY), predict=False)
    recorded = {items[0].id: 900.0, items[5].id: 1.0}
    secs = plan.durations_of(items, recorded)
    for n in (1, 2, 3, 7, len(items) + 3):
        parts = plan.shards(items, n, recorded)
        flat = [i.id for p in parts for i in p]
        assert sorted(flat) == sorted(i.id for i in items) and len(flat) == len(set(flat))
        assert parts == plan.shards(items, n, recorded)  # every runner computes the same partition
        loads = [sum(secs[i.id] for i in p) + plan.BUILD_SECONDS * len({plan.kernel_of(i) for i in p})
                 for p in parts if p]
        if n <= 7:
            assert max(loads) <= 1.5 * sum(loads) / n  # no shard far above the average
    # a recorded duration counts instead of the estimate: an item recorded as very long gets a shard alone
    heavy = next(i for i in items if i.group == "debug-all")  # no siblings: its time is its own
    alone = plan.shards(items, 3, {heavy.id: 1e6})
    assert [heavy.id] in [[i.id for i in p] for p in alone] and plan.shards(items, 3, {}) != alone


def test_shards_keep_a_kernel_configuration_together() -> None:
    items = plan.items(spec.load(NIGHTLY), predict=False)
    configs = {plan.kernel_of(i) for i in items}
    assert len(configs) >= 4 and ("debug",) in configs and ("debug", "preempt-dynamic") in configs
    for n in (2, 3, 4, 6):
        builds = sum(len({plan.kernel_of(i) for i in p}) for p in plan.shards(items, n, {}))
        assert builds <= len(configs) + n - 1  # a configuration is split only where balance needs it
        dealt = [items[k::n] for k in range(n)]  # round robin, for comparison
        assert builds < sum(len({plan.kernel_of(i) for i in p}) for p in dealt)


def test_cli_list_and_shard(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = matrix(root, "groups:\n  - name: g\n    matrix:\n      cpu: [max, Haswell, EPYC]\n"
                     "    scenarios: [one/plain.yaml, one/pair.yaml]\n"
                     "  - name: x\n    cross_cpu: [max, Haswell, Nehalem]\n    scenarios: [one/pair.yaml]\n")
    assert cli.main(["matrix", str(p), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and lines[0].startswith("g/plain@default  ~")
    assert any(ln.startswith("x/pair@max->Haswell ") and "expect: restart refused: Haswell lacks xfeatures"
               in ln for ln in lines)
    assert any(ln.startswith("x/pair@Nehalem->max ") and "checkpoint refused: Nehalem has no XSAVE" in ln
               for ln in lines)
    shards = []
    for k in (1, 2, 3):
        assert cli.main(["matrix", str(p), "--list", "--shard", f"{k}/3"]) == 0
        shards.append(capsys.readouterr().out.splitlines())
    assert sorted(ln for s in shards for ln in s) == sorted(lines)
    assert cli.main(["matrix", str(p), "--list", "--shard", "4/3"]) == 2
    assert "K must be between 1 and N" in capsys.readouterr().err
    bad = matrix(root, "groups:\n  - name: g\n    cross_cpu: [max, Bogus]\n    scenarios: [one/pair.yaml]\n")
    assert cli.main(["matrix", str(bad), "--list"]) == 2
    assert f"{bad}:4: groups[0].cross_cpu[1]: unknown cpu 'Bogus'" in capsys.readouterr().err


def test_cell_key_and_defaults() -> None:
    d = Cell()
    assert Cell().key(d) == "default"
    assert Cell(cpu="Haswell", smp=2).key(d) == "cpu=Haswell,smp=2"
    assert Cell(cpu="max", target_cpu="EPYC", accel="kvm").key(d) == "max->EPYC,accel=kvm"
    assert Cell(kernel="debug", preempt="none").fragments() == ("debug",)


def test_parse_cell_for_pytest_and_its_errors() -> None:
    cell = spec.parse_cell("cpu=Haswell,-avx,smp=2,memory=1024M,kernel=debug,cgroup=v1")
    assert (cell.cpu, cell.smp, cell.memory, cell.kernel, cell.cgroup) == ("Haswell,-avx", 2, "1G", "debug", "v1")
    assert spec.parse_cell("") == Cell()
    for text, problem in (("cpu=Nope", "unknown cpu 'Nope'"), ("gpu=1", "unknown field"),
                          ("smp=x", "1 to 64"), ("cpu=host", "cpu host needs accel kvm")):
        with pytest.raises(MatrixError, match=problem) as info:
            spec.parse_cell(text)
        assert str(info.value).startswith("--lab-cell:1: cell")


def test_group_params_cross_the_cells_and_must_be_declared(root: Path) -> None:
    (root / "one" / "fuzz.yaml").write_text("params:\n  seed: 1\n  n: 10\nguests:\n  - name: a\n"
                                            "steps:\n  - run: echo ${seed} ${n}\n")
    mf = spec.load(matrix(root, "groups:\n  - name: f\n    matrix:\n      smp: [1, 2]\n    params:\n"
                                "      seed: [11, 12]\n    scenarios: [one/*.yaml]\n"
                                "    except_scenarios: [one/p*.yaml]\n"))
    items = plan.items(mf)
    assert [i.id for i in items] == ["f/fuzz@seed=11", "f/fuzz@seed=12", "f/fuzz@smp=2,seed=11", "f/fuzz@smp=2,seed=12"]
    assert plan.apply(items[3].cell, items[3].scenario).params == (("seed", "12"), ("n", "10"))
    err = error_of(matrix(root, "groups:\n  - name: f\n    params:\n      seed: [1]\n"
                                "    scenarios: [one/plain.yaml]\n"))
    assert err.field == "groups[0].scenarios" and "has no param 'seed' (has: none)" in err.problem
    err = error_of(matrix(root, "groups:\n  - name: f\n    params:\n      seed: 1\n    scenarios: [one/fuzz.yaml]\n"))
    assert (err.line, err.field) == (5, "groups[0].params.seed") and "non-empty list" in err.problem


def test_nightly_robustness_cells() -> None:
    items = plan.items(spec.load(NIGHTLY), predict=False)
    fuzz = [i for i in items if i.group == "fuzz"]
    soak = [i for i in items if i.group == "soak"]
    variants = sum(int(dict(plan.apply(i.cell, i.scenario).params)["variants"]) for i in fuzz)
    cycles = sum(int(dict(plan.apply(i.cell, i.scenario).params)["cycles"]) for i in soak)
    assert variants >= 10_000 and cycles >= 1_000 and len(fuzz) > 1 and len(soak) > 1  # shardable parts
    assert len({dict(i.cell.params)["seed"] for i in fuzz}) == len(fuzz)  # recorded, distinct seeds
    assert all(i.cell.kernel == "debug" for i in fuzz + soak)
    assert not any(i.group == "debug-all" and "nightly/fuzz" in str(i.scenario.path) for i in items)


def test_fuzz_failures_are_printed_with_their_replay_command(tmp_path: Path) -> None:
    """The fuzz step's own shell, here with a ckptfuzz that reports a failure: the line it prints
    becomes one `lab run` command with the kept image, the seed and that variant alone."""
    import subprocess

    from lab.scenario import load, substitute

    sc = load(REPO / "scenarios" / "security" / "nightly" / "fuzz.yaml").with_params({"seed": "1503"})
    step = next(s for s in sc.steps if s.kind == "run" and "ckptfuzz" in s.args["run"])
    variables = {"artifacts": "/art/x", "scenario_file": str(sc.path), **dict(sc.params)}
    command = substitute(step.args["run"], variables).replace("/tmp/", f"{tmp_path}/")
    fake = tmp_path / "ckptfuzz"
    fake.write_text("#!/bin/sh\necho 'RESTART SUCCEEDED: variant 417 (bit flip)'\n"
                    "echo '  replay: ckptfuzz /tmp/self.image -s 1503 -f 417 -n 418'\n"
                    "echo 'ckptfuzz: variants=1000 clean=999 succeeded=1 crashed=0 hung=0'\nexit 1\n")
    fake.chmod(0o755)
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert out.returncode == 1
    assert (f"  replay: lab run {sc.path} --param image=/art/x/self.image --param seed=1503 --param first=417 "
            "--param variants=418") in out.stdout.splitlines()


def test_a_configuration_that_does_not_build_is_an_infrastructure_error_once(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from lab import image, runner
    from lab.matrix import run

    calls: list[tuple[str, ...]] = []

    def broken(frags: tuple[str, ...] = ()) -> runner.Built:
        calls.append(tuple(frags))
        raise image.ImageBuildError("cannot compile images/guest/ckptinfo.c: struct unknown")

    monkeypatch.setattr(runner, "build_all", broken)
    items = [i for i in plan.items(spec.load(NIGHTLY), predict=False) if i.group == "kernels"][:2]
    done = run.run_items(items, tmp_path, echo=lambda _: None)
    assert [r.status for r in done] == ["infra", "infra"] and "cannot compile" in done[0].reason
    assert len(calls) == len({plan.kernel_of(i) for i in items})  # tried once per configuration
    assert len(list((tmp_path / "items").glob("*.json"))) == 2


def test_an_unrecorded_item_takes_its_recorded_siblings_time() -> None:
    items = plan.items(spec.load(NIGHTLY), predict=False)
    fuzz = [i for i in items if i.group == "fuzz"]
    secs = plan.durations_of(items, {fuzz[0].id: 80.0, fuzz[1].id: 90.0})
    assert all(secs[i.id] == 85.0 for i in fuzz[2:])  # the other seeds: the median of the recorded ones
    other = next(i for i in items if i.group == "cpu-boot")
    assert secs[other.id] == plan.estimate(other)
