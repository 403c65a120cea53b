"""docs/benchmarks.md's `plates` commands are ones `plates` accepts, with the options the page gives
them: a user copies them as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plates.cli import _parser

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def as_typed(span: str) -> list[str]:
    """A code span as a user types it: the first of `a|b|c` choices, a folder for DIR."""
    return [word.split("|")[0].replace("DIR", "eval-dir") for word in span.split()]


def claims() -> list[list[str]]:
    """Each command line of a paragraph (headings name commands, not lines), with each option the
    paragraph names on its own."""
    lines = []
    for paragraph in DOC.read_text(encoding="utf-8").split("\n\n"):
        if paragraph.startswith("#"):
            continue
        spans = re.findall(r"`([^`]+)`", paragraph.replace("\n", " "))
        commands = [as_typed(s) for s in spans if s.startswith("plates ")]
        options = [as_typed(s) for s in spans if s.startswith("--")]
        lines += [command[1:] + option for command in commands for option in options or [[]]]
    return lines


@pytest.mark.parametrize("argv", claims(), ids=" ".join)
def test_the_plates_commands_docs_benchmarks_gives_are_accepted(argv: list[str]) -> None:
    """The page said `plates bench`/`eval`/`eval-admissions` each take `--backend`: `plates bench
    --backend opencv` gives "unrecognized arguments" (it is an option of `plates` itself)."""
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"`plates {' '.join(argv)}` is refused") from exc
