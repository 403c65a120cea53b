"""The box is behind: the decision worker is held up (README: another process holding the database
locked, e.g. a `gateway import` suspended with Ctrl-Z and resumed) while a guard blocks a lost card
from the tablet. What the answer says must be what happens: "did not save this" (503 `busy`) is
never saved later, and a change the gateway is already saving says so (503 `still_saving`), so that
the guard looks before doing it again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

import gateway.api.deps as deps
from gateway.web.i18n import js_texts
from tests.conftest import locked_by_another_process
from tests.ui.conftest import CARD, Site, app, bearer, client, site, stored  # noqa: F401

BLOCKED = "SELECT blocked FROM credentials WHERE value = ?"


@pytest.fixture
def behind(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:  # noqa: F811
    """The database held locked by another process; call the fixture's value to let go. The waits of
    a real box (10 s busy timeout, 15 s for an answer) are shortened to 2 s and 1 s."""
    site.gw.on_worker(lambda conn: conn.execute("PRAGMA busy_timeout=2000")).result(timeout=60)
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 1.0)
    with locked_by_another_process(site.gw.db_path) as let_go:
        yield let_go


def block_the_card(site: Site, client: TestClient) -> dict[str, str]:  # noqa: F811
    r = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": CARD, "reason": "业主报失"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 503, r.text
    error: dict[str, str] = r.json()["error"]
    return error


def test_a_change_answered_busy_did_not_save_is_not_saved_later(
    site: Site,  # noqa: F811
    client: TestClient,  # noqa: F811
    behind: Callable[[], None],
) -> None:
    # The worker waits up to 4 s for the lock, so that the guard's change is answered (1 s) while it
    # is still held up by the door's decision, however slowly the machine gets the read to it.
    site.gw.on_worker(lambda conn: conn.execute("PRAGMA busy_timeout=4000")).result(timeout=60)
    site.traffic.show("door-reader", "card", CARD)  # a resident at the door: the worker waits for the lock
    deadline = time.monotonic() + 10
    while (site.gw.worker.since_last_loop() or 0) < 1.2 and time.monotonic() < deadline:
        time.sleep(0.05)  # an idle worker loops every second: past 1.2 s it is held up on the lock
    error = block_the_card(site, client)
    behind()
    assert error["code"] == "busy" and "did not save" in error["message"]
    assert stored(site, BLOCKED, CARD)[0][0] == 0, (
        "answered 'did not save this', yet the card was blocked later anyway"
    )


def test_a_change_the_gateway_is_still_saving_is_answered_so(
    site: Site,  # noqa: F811
    client: TestClient,  # noqa: F811
    behind: Callable[[], None],
) -> None:
    """The worker has begun the change and waits for the lock: it cannot be called off, and may be
    saved. "Try again" would block the card twice; the guard is told to look first."""
    error = block_the_card(site, client)
    behind()
    assert error["code"] == "still_saving", error
    assert "still saving" in error["message"] and "reload" in error["fix"]
    assert stored(site, BLOCKED, CARD)[0][0] == 1  # saved once the other process let go
    for language in ("zh", "en"):  # the pages' own words for it
        assert js_texts(language)["err.still_saving"].startswith(
            ("网关繁忙，仍在保存", "The gateway is busy")
        )
