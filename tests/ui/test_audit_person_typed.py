"""docs/guard-app.md, Pages, 操作记录 Audit: "filtered by person (not case-sensitive, as user names:
Guard1 finds guard1's rows)"; and, for the same tablet: "The user name typed is read as the
account's first (NFKC, spaces around it dropped: ｇｕａｒｄ１ or `guard1 ` from a tablet keyboard is
guard1)", and "What a tablet's Chinese keyboard types is read as meant"."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import ADMIN, GUARD, log_in


def _shown(client: TestClient, actor: str) -> int:
    page = client.get("/audit", params={"actor": actor})
    assert page.status_code == 200
    return len(re.findall(r"<tr><td><small>", page.text))


@pytest.mark.parametrize("typed", ["guard1 ", "ｇｕａｒｄ１"])
def test_the_audit_filter_reads_a_user_name_as_the_login_reads_it(client: TestClient, typed: str) -> None:
    """guard1 logs in on the booth tablet typing `guard1 ` (the keyboard's suggestion adds a space)
    or ｇｕａｒｄ１ (全角 mode): the login takes it as guard1. The manager, on the same tablet, filters
    操作记录 by that person typed the same way: the page says there are no rows, as if guard1 had
    done nothing. It should list guard1's rows, as `guard1` does."""
    log_in(client, (typed, GUARD[1]))  # the login reads it as guard1
    client.cookies.clear()
    log_in(client, ADMIN)
    assert _shown(client, "guard1") >= 1  # guard1's login is on record
    assert _shown(client, typed) == _shown(client, "guard1")
