"""`gateway user add --display-name` says the display name is "shown in the audit trail, e.g.
张师傅" (gateway/accounts/cli.py; docs/guard-app.md makes guards so: `zhang --display-name 张师傅`).
The audit page's 操作人 column shows the user name only: the office reading who opened the barrier
sees `guard1`, never 张师傅 (the live page's lane history does show 张师傅)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gateway.accounts.cli import add_arguments
from tests.ui.conftest import GUARD, log_in


def _display_name_help() -> str:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser.add_subparsers())
    user = parser._subparsers._group_actions[0].choices["user"]  # type: ignore[union-attr]
    add = user._subparsers._group_actions[0].choices["add"]  # type: ignore[union-attr]
    return next(a.help for a in add._actions if "--display-name" in a.option_strings)


def test_the_audit_trail_shows_the_display_name_the_cli_says_it_shows(client: TestClient) -> None:
    assert "shown in the audit trail" in _display_name_help()
    headers = log_in(client, GUARD)  # guard1, display name 张师傅 (tests/ui/conftest.py)
    done = client.post("/api/lanes/car-in/open", json={"reason": "救护车"}, headers=headers)
    assert done.status_code == 200, done.text
    page = client.get("/audit").text
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "救护车" in r)
    who = re.findall(r"<td>(.*?)</td>", row, re.S)[1]
    assert "张师傅" in who, (
        f"the audit page names the person {who!r}; `gateway user add --display-name` says the display "
        "name 张师傅 is shown in the audit trail"
    )
