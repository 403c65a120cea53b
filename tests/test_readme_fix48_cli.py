"""The README's CLI section names every option `gateway --help` and `gateway import --help` give: an
installer looking there for a debug journal found no word of --log-level."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gateway.cli import _parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _cli_section() -> str:
    readme = README.read_text(encoding="utf-8")
    start = readme.index("\n## CLI\n")
    return readme[start : readme.index("\n## ", start + 1)]


def _long_options(parser: argparse.ArgumentParser) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]+)", parser.format_help())) - {"--help", "--config"}


def _subcommand(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def test_the_cli_section_names_every_option_of_gateway_help() -> None:
    missing = sorted(o for o in _long_options(_parser()) if o not in _cli_section())
    assert not missing, f"`gateway --help` offers {missing}, which the README's CLI section never names"


def test_the_cli_section_names_every_option_of_the_imports() -> None:
    for name in ("import", "import-inside"):
        missing = sorted(o for o in _long_options(_subcommand(name)) if o not in _cli_section())
        assert not missing, f"`gateway {name} --help` offers {missing}, not in the README's CLI section"
