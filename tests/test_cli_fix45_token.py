"""`gateway token add` refuses what the admin page refuses: one rule for both, an error line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store.database import open_database
from tests.conftest import site_toml


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except Exception as exc:  # what the admin sees is Python's traceback
        pytest.fail(f"`gateway {' '.join(argv)}` ended in a traceback: {exc!r}")


def _tokens(config: Path) -> list[str]:
    conn = open_database(config.parent / "data" / "gateway.db").conn
    try:
        return [row[0] for row in conn.execute("SELECT name FROM api_tokens")]
    finally:
        conn.close()


def test_token_add_with_too_many_days_says_so(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin who wants a token that lasts "for ever" types `gateway token add ... --days 9999999`:
    the command died with `OverflowError: date value out of range` (a traceback). It refuses with
    a line saying the range (the admin page takes 1 to 3650) or to leave --days out."""
    rc = _run(["token", "add", "-c", str(config), "property-tools", "--days", "9999999"])
    err = capsys.readouterr().err
    assert rc == 1 and "--days" in err and "3650" in err, (rc, err)
    assert _tokens(config) == []


@pytest.mark.parametrize("days", ["0", "-3"])
def test_token_add_with_too_few_days_says_so(
    config: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    rc = _run(["token", "add", "-c", str(config), "property-tools", "--days", days])
    err = capsys.readouterr().err
    assert rc == 1 and f"--days {days}" in err and "3650" in err, (rc, err)


def test_token_add_takes_the_longest_the_admin_page_takes(config: Path) -> None:
    assert _run(["token", "add", "-c", str(config), "property-tools", "--days", "3650"]) == 0
    assert _tokens(config) == ["property-tools"]


@pytest.mark.parametrize("name", ["", "x", "has space", "-starts-with-dash", "名字", "n" * 41])
def test_token_add_refuses_a_name_the_admin_page_refuses(
    config: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """A token acts in the audit trail as `token:NAME`, and the admin page refuses names that are
    not 2-40 letters, digits, '.', '_', '-' (422). `gateway token add -c site.toml ""` made a token
    named nothing: its client's actions on the audit trail and the live page named no client."""
    rc = _run(["token", "add", "-c", str(config), "--", name])
    err = capsys.readouterr().err
    assert rc == 1 and "2 to 40" in err, (rc, err)
    assert _tokens(config) == []


@pytest.mark.parametrize(
    "name", ["", "x", "ab", "has space", "-dash", "名字", "ab\n", "n" * 40, "n" * 41, "Booth_2.b-c"]
)
@pytest.mark.parametrize("days", [None, 0, 1, 3650, 3651])
def test_the_admin_page_and_the_command_take_the_same_tokens(name: str, days: int | None) -> None:
    """One rule: what the admin page's form (TokenIn) takes, `gateway token add` takes."""
    from pydantic import ValidationError

    from gateway.api.admin import TokenIn
    from gateway.store.accounts import token_days_problem, token_name_problem

    try:
        TokenIn(name=name, days=days)
        page_takes = True
    except ValidationError:
        page_takes = False
    assert page_takes == (token_name_problem(name) is None and token_days_problem(days) is None)
