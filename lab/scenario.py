"""Scenario files: YAML -> typed, validated objects. Errors name the file, line and field.

A scenario has guests, optional workloads (C sources relative to the YAML file), an optional link
between two guests, and ordered steps. Each step is a mapping with exactly one action key (``run``,
``wait``, ``freeze`` ...) and the options of that action; see ``STEP_FIELDS``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from . import console, image, packages
from .machine import parse_size_mib


class ScenarioError(Exception):
    """A scenario file is invalid; ``str()`` is ``file:line: field: problem``."""

    def __init__(self, path: Path, line: int, field_name: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field_name
        self.problem = problem
        super().__init__(f"{path}:{line}: {field_name}: {problem}")


@dataclass(frozen=True)
class GuestSpec:
    name: str
    memory_mib: int = 256
    smp: int = 1
    cpu: str = "max"
    machine: str = "pc"
    append: str = ""
    pinned: frozenset[str] = frozenset()  # the hardware fields the YAML sets (memory, smp, cpu, machine)


@dataclass(frozen=True)
class Workload:
    """One entry of ``workloads``: a C source (``source``), a host program (``binary``, with its
    library closure unless ``closure: false``) or a file or directory (``files``) placed at ``dst``."""

    name: str
    source: Path
    kind: str = "source"  # source | binary | files
    dst: str = ""
    closure: bool = True


@dataclass(frozen=True)
class Step:
    kind: str
    line: int
    args: dict[str, Any]
    title: str
    given: frozenset[str] = frozenset()  # the option keys the YAML sets (the others are defaults)

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    guests: tuple[GuestSpec, ...]
    steps: tuple[Step, ...]
    workloads: tuple[Workload, ...] = ()
    link: tuple[str, str] | None = None
    network: tuple[str, ...] = ()  # guests on one switch (lab.network), in address order
    expect_console: tuple[str, ...] = ()
    timeout: float = 600.0
    files: tuple[str, ...] = field(default_factory=tuple)
    packages: tuple[str, ...] = ()  # Debian packages unpacked (with dependencies) into a layer
    kernel_fragments: tuple[str, ...] = ()  # config fragments merged after the default ones
    engines: tuple[str, ...] = ("kernel",)  # `engine: kernel | criu | both | etckpt`
    engine: str = "kernel"  # the one this run uses (see for_engine)
    params: tuple[tuple[str, str], ...] = ()  # `params: {seed: 1}`: ${seed} in steps; a matrix cell sets them

    def with_params(self, given: dict[str, str]) -> Scenario:
        """This scenario with some of its params set; a name it does not declare is a KeyError."""
        unknown = sorted(set(given) - {k for k, _ in self.params})
        if unknown:
            raise KeyError(f"scenario {self.name} has no param {unknown[0]!r} "
                           f"(has: {', '.join(k for k, _ in self.params) or 'none'})")
        return replace(self, params=tuple((k, str(given.get(k, v))) for k, v in self.params))

    def for_engine(self, engine: str) -> Scenario:
        """This scenario as run by ``engine``: with what the engine needs in the guest and its kernel.

        A scenario for both engines runs both on the same kernel (with every engine's fragments).
        """
        from . import engines

        frags, pkgs = list(self.kernel_fragments), list(self.packages)
        for name in self.engines:
            frags += [f for f in engines.get(name).kernel_fragments if f not in frags]
        pkgs += [p for p in engines.get(engine).packages if p not in pkgs]
        name = self.name if len(self.engines) == 1 else f"{self.name}[{engine}]"
        return replace(self, name=name, engine=engine, kernel_fragments=tuple(frags), packages=tuple(pkgs))

    def sources(self) -> list[tuple[str, Path]]:
        return [(w.name, w.source) for w in self.workloads if w.kind == "source"]

    def binaries(self) -> list[image.Binary]:
        return [image.Binary(w.source, w.dst, w.closure) for w in self.workloads if w.kind == "binary"]

    def trees(self) -> list[image.Files]:
        return [image.Files(w.source, w.dst) for w in self.workloads if w.kind == "files"]

    def guest(self, name: str) -> GuestSpec:
        return next(g for g in self.guests if g.name == name)


# Field specs: name -> (type(s), required). ``str`` fields accept ints (YAML turns 0644 into ints).
_Spec = dict[str, tuple[tuple[type, ...], bool]]
_S, _I, _N, _B, _L, _D = (str,), (int,), (int, float), (bool,), (list,), (dict,)

TOP_FIELDS: _Spec = {
    "name": (_S, False), "description": (_S, False), "guests": (_L, True), "workloads": (_L, False),
    "link": (_L, False), "network": (_L, False), "steps": (_L, True), "expect_console": (_L, False),
    "timeout": (_N, False),
    "packages": (_L, False), "kernel_fragments": (_L, False), "engine": (_S, False), "params": (_D, False),
}
GUEST_FIELDS: _Spec = {
    "name": (_S, True), "memory": ((str, int), False), "smp": (_I, False), "cpu": (_S, False),
    "machine": (_S, False), "append": (_S, False),
}
# exactly one of source (C file, needs name), binary (host path), files (file or directory, needs dst)
WORKLOAD_FIELDS: _Spec = {"name": (_S, False), "source": (_S, False), "binary": (_S, False),
                          "files": (_S, False), "dst": (_S, False), "closure": (_B, False)}
WORKLOAD_KINDS = ("source", "binary", "files")
_VAR = re.compile(r"\$\{(\w+)\}")


def step_fields() -> dict[str, _Spec]:
    """Each step kind's YAML fields, as ``lab.steps`` registers them (loaded on first use)."""
    from . import steps

    return {name: k.fields for name, k in steps.KINDS.items()}


class Loader:
    """Typed reading of a composed YAML node tree, every error at ``file:line: field``.

    Shared by every YAML file of the lab (scenarios, matrix files): ``error_type`` is the
    :class:`ScenarioError` subclass a file kind raises.
    """

    error_type: type[ScenarioError] = ScenarioError

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: yaml.Node | None, field_name: str, problem: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else 1
        return self.error_type(self.path, line, field_name, problem)

    def compose(self) -> yaml.Node:
        """The file's node tree; a YAML syntax error or an empty file is an error at its line."""
        try:
            root = yaml.compose(self.path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise self.error_type(self.path, line, "(yaml)", str(getattr(exc, "problem", exc))) from exc
        if root is None:
            raise self.error_type(self.path, 1, "(file)", "empty file")
        return root

    def mapping(self, node: yaml.Node, spec: _Spec, where: str) -> dict[str, tuple[Any, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, where, "expected a mapping")
        out: dict[str, tuple[Any, yaml.Node]] = {}
        for knode, vnode in node.value:
            key = knode.value
            fname = f"{where}.{key}" if where else key
            if key not in spec:
                known = ", ".join(sorted(spec))
                raise self.error(knode, fname, f"unknown field (known: {known})")
            if key in out:
                raise self.error(knode, fname, "given twice")
            types, _ = spec[key]
            value = self.value(vnode)
            if isinstance(value, bool) and bool not in types:
                raise self.error(vnode, fname, f"expected {_names(types)}, got a boolean")
            if not isinstance(value, types):
                if str in types and isinstance(value, (int, float)):
                    value = str(value)
                else:
                    raise self.error(vnode, fname,
                                     f"expected {_names(types)}, got {type(value).__name__}")
            out[key] = (value, vnode)
        for key, (_, required) in spec.items():
            if required and key not in out:
                raise self.error(node, f"{where}.{key}" if where else key, "required field missing")
        return out

    def value(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return yaml.safe_load(yaml.serialize(node)) if node.tag != "tag:yaml.org,2002:str" \
                else node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.value(n) for n in node.value]
        return {k.value: self.value(v) for k, v in node.value}


def _names(types: tuple[type, ...]) -> str:
    return " or ".join({str: "a string", int: "an integer", float: "a number", bool: "a boolean",
                        list: "a list", dict: "a mapping"}[t] for t in types)


def load(path: Path) -> Scenario:
    """Load and validate one scenario file."""
    path = Path(path)
    loader = Loader(path)
    root = loader.compose()
    top = loader.mapping(root, TOP_FIELDS, "")

    guests = []
    seen: set[str] = set()
    for i, gnode in enumerate(top["guests"][1].value):
        where = f"guests[{i}]"
        g = loader.mapping(gnode, GUEST_FIELDS, where)
        name = g["name"][0]
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", name):
            raise loader.error(g["name"][1], f"{where}.name", "use 1-16 of [a-z0-9-], starting with a letter")
        if name in seen:
            raise loader.error(g["name"][1], f"{where}.name", f"duplicate guest {name!r}")
        seen.add(name)
        kw: dict[str, Any] = {"name": name}
        if "memory" in g:
            try:
                kw["memory_mib"] = parse_size_mib(g["memory"][0])
            except ValueError as exc:
                raise loader.error(g["memory"][1], f"{where}.memory", str(exc)) from exc
        for k in ("smp", "cpu", "machine", "append"):
            if k in g:
                kw[k] = g[k][0]
        kw["pinned"] = frozenset(k for k in ("memory", "smp", "cpu", "machine") if k in g)
        guests.append(GuestSpec(**kw))
    if not guests:
        raise loader.error(top["guests"][1], "guests", "at least one guest is needed")

    workloads = [_workload(loader, wnode, i)
                 for i, wnode in enumerate(top["workloads"][1].value if "workloads" in top else [])]
    wanted = _packages(loader, top["packages"]) if "packages" in top else ()

    link = None
    if "link" in top:
        names, lnode = top["link"]
        if len(names) != 2 or len(set(names)) != 2 or not set(names) <= seen:
            raise loader.error(lnode, "link", f"name two different guests (have: {', '.join(sorted(seen))})")
        link = (str(names[0]), str(names[1]))

    network: tuple[str, ...] = ()
    if "network" in top:
        names, nnode = top["network"]
        if len(names) < 2 or len(set(names)) != len(names) or not set(names) <= seen:
            raise loader.error(nnode, "network",
                               f"name two or more different guests (have: {', '.join(sorted(seen))})")
        network = tuple(str(n) for n in names)

    expect = tuple(str(k) for k in top.get("expect_console", ([], None))[0])
    for k in expect:
        if k not in console.KINDS:
            raise loader.error(top["expect_console"][1], "expect_console",
                               f"unknown kind {k!r} (known: {', '.join(sorted(console.KINDS))})")

    engines = _engines(loader, top["engine"]) if "engine" in top else ("kernel",)
    steps = [_step(loader, node, i, seen, link, engines, network)
             for i, node in enumerate(top["steps"][1].value)]
    if not steps:
        raise loader.error(top["steps"][1], "steps", "at least one step is needed")
    return Scenario(
        name=top["name"][0] if "name" in top else path.stem,
        path=path,
        description=top["description"][0] if "description" in top else "",
        guests=tuple(guests),
        steps=tuple(steps),
        workloads=tuple(workloads),
        packages=wanted,
        kernel_fragments=_fragments(loader, top["kernel_fragments"]) if "kernel_fragments" in top else (),
        engines=engines,
        link=link,
        network=network,
        expect_console=expect,
        timeout=float(top["timeout"][0]) if "timeout" in top else 600.0,
        params=_params(loader, top["params"]) if "params" in top else (),
    )


def _params(loader: Loader, entry: tuple[Any, yaml.Node]) -> tuple[tuple[str, str], ...]:
    """``params: {seed: 1, cycles: 250}``: names a step uses as ${name}, with their defaults."""
    values, node = entry
    for knode, vnode in node.value:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(knode.value)):
            raise loader.error(knode, f"params.{knode.value}", "a name of [a-z0-9_], starting with a letter")
        if not isinstance(vnode, yaml.ScalarNode) or isinstance(values[knode.value], bool) \
                or values[knode.value] is None:
            raise loader.error(vnode, f"params.{knode.value}", "a string or number (the default)")
    return tuple((str(k), str(v)) for k, v in values.items())


def _workload(loader: Loader, node: yaml.Node, i: int) -> Workload:
    where = f"workloads[{i}]"
    w = loader.mapping(node, WORKLOAD_FIELDS, where)
    kinds = [k for k in WORKLOAD_KINDS if k in w]
    if len(kinds) != 1:
        raise loader.error(node, where, f"use exactly one of {', '.join(WORKLOAD_KINDS)}")
    kind = kinds[0]
    value, vnode = w[kind]
    for key, allowed in (("dst", ("binary", "files")), ("closure", ("binary",))):
        if key in w and kind not in allowed:
            raise loader.error(w[key][1], f"{where}.{key}", f"only with {' or '.join(allowed)}")
    if "name" in w and not re.fullmatch(r"[A-Za-z0-9_.-]+", w["name"][0]):
        raise loader.error(w["name"][1], f"{where}.name", "not a valid program name")
    dst = ""
    if "dst" in w:
        dst = w["dst"][0]
        if not dst.startswith("/") or ".." in Path(dst).parts or dst.rstrip("/") == "":
            raise loader.error(w["dst"][1], f"{where}.dst", "an absolute guest path, not / and without ..")
    if kind == "source":
        if "name" not in w:
            raise loader.error(node, f"{where}.name", "required field missing")
        src = (loader.path.parent / value).resolve()
        if not src.is_file():
            raise loader.error(vnode, f"{where}.source", f"no such file {src}")
        return Workload(w["name"][0], src)
    if kind == "binary":
        src = Path(value)
        if not src.is_absolute():
            raise loader.error(vnode, f"{where}.binary", "an absolute path on the host")
        if not src.is_file() or not os.access(src, os.X_OK):
            raise loader.error(vnode, f"{where}.binary", f"no executable file {src} on the host")
        closure = w["closure"][0] if "closure" in w else True
        if closure:
            try:
                image.library_closure(src)
            except image.ImageBuildError as exc:
                raise loader.error(vnode, f"{where}.binary", str(exc)) from exc
        return Workload(w["name"][0] if "name" in w else src.name, src, "binary", dst or str(src), closure)
    src = (loader.path.parent / value).resolve()
    if not src.exists():
        raise loader.error(vnode, f"{where}.files", f"no such file or directory {src}")
    if not dst:
        raise loader.error(node, f"{where}.dst", "required with files (where the guest gets them)")
    return Workload(w["name"][0] if "name" in w else src.name, src, "files", dst)


ENGINE_CHOICES = {"kernel": ("kernel",), "criu": ("criu",), "both": ("kernel", "criu"), "etckpt": ("etckpt",)}


def _engines(loader: Loader, entry: tuple[Any, yaml.Node]) -> tuple[str, ...]:
    value, node = entry
    if value not in ENGINE_CHOICES:
        raise loader.error(node, "engine", f"use one of {', '.join(ENGINE_CHOICES)}")
    from . import engines

    for name in ENGINE_CHOICES[value]:
        wanted = engines.get(name).packages
        try:
            if wanted:
                packages.resolve(wanted)
        except packages.PackageError as exc:
            raise loader.error(node, "engine", f"engine {name} cannot be installed in the guest "
                                               f"(packages {', '.join(wanted)}): {exc}") from exc
    return ENGINE_CHOICES[value]


def _fragments(loader: Loader, entry: tuple[Any, yaml.Node]) -> tuple[str, ...]:
    """``kernel_fragments: [criu]``: names of kernel-config/*.config, each once."""
    from . import kernel

    names, node = entry
    known = kernel.known_fragments()
    for j, (name, n) in enumerate(zip(names, node.value, strict=True)):
        if not isinstance(name, str) or name not in known:
            raise loader.error(n, f"kernel_fragments[{j}]", f"no fragment {name!r} (known: {', '.join(known)})")
        if names.index(name) != j:
            raise loader.error(n, f"kernel_fragments[{j}]", f"{name!r} given twice")
    return tuple(names)


def _packages(loader: Loader, entry: tuple[Any, yaml.Node]) -> tuple[str, ...]:
    """Package names, checked against apt's lists now: an unknown name fails at load, at its line."""
    names, lnode = entry
    nodes: dict[str, yaml.Node] = {}
    for j, (name, n) in enumerate(zip(names, lnode.value, strict=True)):
        if not isinstance(name, str) or not packages.NAME_RE.fullmatch(name):
            raise loader.error(n, f"packages[{j}]", "a Debian package name (no version, no glob)")
        if name in nodes:
            raise loader.error(n, f"packages[{j}]", f"{name!r} given twice")
        nodes[name] = n
    if not names:
        return ()
    try:
        packages.resolve(names)
    except packages.PackageError as exc:
        culprit = next((name for name in names if name in exc.names), None)
        if culprit is None or len(exc.names) == len(names) > 1:
            raise loader.error(lnode, "packages", str(exc)) from exc
        j = names.index(culprit)
        raise loader.error(nodes[culprit], f"packages[{j}]", str(exc)) from exc
    return tuple(names)


def _step(loader: Loader, node: yaml.Node, i: int, guests: set[str], link: tuple[str, str] | None,
          engines: tuple[str, ...], network: tuple[str, ...] = ()) -> Step:
    from .steps import KINDS
    from .steps.base import StepCheck

    where = f"steps[{i}]"
    if not isinstance(node, yaml.MappingNode):
        raise loader.error(node, where, "expected a mapping with one action key")
    keys = [k.value for k, _ in node.value]
    kinds = [k for k in keys if k in KINDS]
    if len(kinds) != 1:
        problem = "no action" if not kinds else f"several actions ({', '.join(kinds)})"
        raise loader.error(node, where, f"{problem}; use exactly one of: {', '.join(KINDS)}")
    kind = KINDS[kinds[0]]
    raw = loader.mapping(node, kind.fields, where)
    args = {k: v for k, (v, _) in raw.items()}
    for gfield in ("guest", "to", "from"):
        if gfield in raw:
            if kind.host_endpoints and gfield in ("to", "from") and args[gfield] == "host":
                continue
            if args[gfield] not in guests:
                raise loader.error(raw[gfield][1], f"{where}.{gfield}",
                                   f"unknown guest {args[gfield]!r} (have: {', '.join(sorted(guests))})")
    if kind.needs_guest and "guest" not in args:
        if len(guests) != 1:
            raise loader.error(node, f"{where}.guest", "required when the scenario has several guests")
        args["guest"] = next(iter(guests))
    if kind.validate is not None:
        kind.validate(StepCheck(kind.name, args, raw, node, where, guests, link, loader.error, engines, network))
    title = args.get("name") or f"{kind.name} {str(args[kind.name])[:60]}"
    return Step(kind.name, node.start_mark.line + 1, args, title, frozenset(raw))


def substitute(text: str, variables: dict[str, str]) -> str:
    """Replace ``${name}`` with a saved variable; unknown names are an error."""
    def repl(m: re.Match[str]) -> str:
        if m.group(1) not in variables:
            raise KeyError(f"variable ${{{m.group(1)}}} is not set by an earlier step")
        return variables[m.group(1)]
    return _VAR.sub(repl, text)


CATALOGUE_SUFFIX = ".catalogue.yaml"  # survey catalogues (lab.steps.survey) live beside scenarios


def is_scenario_file(path: Path) -> bool:
    """A YAML file under scenarios/ that is a scenario (not a survey catalogue)."""
    return path.suffix == ".yaml" and not path.name.endswith(CATALOGUE_SUFFIX)


def discover(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.is_file() and is_scenario_file(p))
