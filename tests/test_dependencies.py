"""What a box installs is what the gateway's commands import.

The tests run with the dev extras installed, so a module that imports a dev-only package passes
here and fails on the box: `gateway bench` once crashed on every bench there because the ui bench
imported an HTTP client that only the dev extras installed, and `plates bench` and `plates synth`
stopped with a traceback for want of Pillow. These tests read each runtime module's imports and
check them against what `pip install estate-gateway` brings, plus the box's own extras.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata as metadata
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("gateway", "drivers", "plates")
TRAINING_ONLY = ROOT / "plates" / "train"  # the `train` extra: torch, never on the box
BOX_EXTRAS = ("fast", "gpio")  # chosen per site; their imports wait until a device or backend asks
# A dev package imported where the command goes on without it, and says so.
OPTIONAL_WITH_FALLBACK = {"playwright": "gateway bench ui reads the live stream without a browser"}


def _canonical(dist: str) -> str:
    return dist.lower().replace("_", "-")


def _name(requirement: str) -> str:
    return _canonical(re.split(r"[<>=!~\[;( ]", requirement.strip(), maxsplit=1)[0])


def _closure(names: list[str]) -> set[str]:
    """The distributions installing names brings: them and their own dependencies."""
    todo, seen = list(names), set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        with contextlib.suppress(metadata.PackageNotFoundError):  # one for another platform or Python
            todo += [_name(r) for r in metadata.requires(dist) or [] if "extra ==" not in r]
    return seen


def _requirements(extra: str | None) -> list[str]:
    listed = metadata.requires("estate-gateway") or []
    if extra is None:
        return [_name(r) for r in listed if "extra ==" not in r]
    return [_name(r) for r in listed if re.search(rf"extra == ['\"]{extra}['\"]", r)]


def _imports(source: Path) -> tuple[set[str], set[str]]:
    """Third-party packages source imports when loaded, and those it imports only inside code."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    at_load = {id(node) for node in tree.body}
    now: set[str] = set()
    later: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = {node.module.split(".")[0]}
        else:
            continue
        (now if id(node) in at_load else later).update(
            n for n in names if n not in sys.stdlib_module_names and n not in OURS
        )
    return now, later - now


def _not_brought(names: set[str], installed: set[str], providers: Mapping[str, list[str]]) -> list[str]:
    def brought(name: str) -> bool:
        return bool({_canonical(d) for d in providers.get(name, [name])} & installed)

    return sorted(n for n in names if not brought(n))


def _runtime_sources() -> list[Path]:
    found = [s for package in OURS for s in sorted((ROOT / package).rglob("*.py"))]
    return [s for s in found if TRAINING_ONLY not in s.parents]


def _missing(sources: list[Path]) -> dict[str, list[str]]:
    core = _requirements(None)
    plain = _closure(core)
    with_extras = _closure(core + [r for e in BOX_EXTRAS for r in _requirements(e)])
    providers = metadata.packages_distributions()
    missing = {}
    for source in sources:
        now, later = _imports(source)
        names = _not_brought(now, plain, providers)
        names += [n for n in _not_brought(later, with_extras, providers) if n not in OPTIONAL_WITH_FALLBACK]
        if names:
            missing[str(source.relative_to(ROOT)) if ROOT in source.parents else source.name] = names
    return missing


def test_every_runtime_module_imports_only_what_a_box_installs() -> None:
    missing = _missing(_runtime_sources())
    assert missing == {}, f"imported by the gateway or plates but not installed on a box: {missing}"


def test_a_dev_only_import_is_caught_and_a_box_extra_inside_code_is_not(tmp_path: Path) -> None:
    module = tmp_path / "bench_like.py"
    module.write_text(
        "import json\nimport numpy\nimport pytest\n\n"
        "def render():\n    from hypothesis import given\n\n"
        "def fast():\n    import onnxruntime\n"
    )
    assert _missing([module]) == {"bench_like.py": ["pytest", "hypothesis"]}
