"""A box installed without extras (`pip install estate-gateway`) can load every module it runs.

The tests run with the dev extras installed, so a module that imports a dev-only package at load
time passes here and fails on the box: `gateway bench` once crashed on every bench there because
the ui bench imported an HTTP client that only the dev extras installed. This test reads each
module's top-level imports and checks them against the core dependencies and what they pull in.
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


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[;( ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _installed_without_extras() -> set[str]:
    """The distributions `pip install estate-gateway` brings: core dependencies and theirs."""
    todo = [_name(r) for r in metadata.requires("estate-gateway") or [] if "extra ==" not in r]
    seen: set[str] = set()
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        with contextlib.suppress(metadata.PackageNotFoundError):  # one for another platform or Python
            todo += [_name(r) for r in metadata.requires(dist) or [] if "extra ==" not in r]
    return seen


def _top_level_imports(source: Path) -> set[str]:
    """Packages a module imports when it is loaded (imports inside functions are deferred)."""
    found = set()
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in OURS}


def _not_brought(source: Path, installed: set[str], providers: Mapping[str, list[str]]) -> list[str]:
    """The packages source imports at load time that a plain install does not bring."""
    names = sorted(_top_level_imports(source))
    return [n for n in names if not {d.lower().replace("_", "-") for d in providers.get(n, [n])} & installed]


def test_every_module_the_box_loads_imports_only_what_a_plain_install_brings() -> None:
    installed, providers = _installed_without_extras(), metadata.packages_distributions()
    missing = {}
    for package in OURS:
        for source in sorted((ROOT / package).rglob("*.py")):
            if TRAINING_ONLY not in source.parents and (names := _not_brought(source, installed, providers)):
                missing[str(source.relative_to(ROOT))] = names
    assert missing == {}, f"imported at load time but not a core dependency: {missing}"


def test_a_dev_only_import_at_load_time_is_caught_and_a_deferred_one_is_not(tmp_path: Path) -> None:
    module = tmp_path / "bench_like.py"
    module.write_text("import json\nimport numpy\nimport pytest\n\ndef later():\n    import hypothesis\n")
    installed, providers = _installed_without_extras(), metadata.packages_distributions()
    assert _not_brought(module, installed, providers) == ["pytest"]
