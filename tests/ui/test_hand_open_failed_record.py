"""An opening by hand (开闸) whose relay did not take it, on record and on the guard's page: the
barrier stayed down, so the car held there is still held and inside, and the lane's history says
the opening failed in the guard's words (guard-app.md: 道闸未响应，操作未生效)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_opened_by_hand import RELAY, _rows
from tests.parking.test_report_figures import Clock, serving
from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_browser import CHROMIUM, PORTRAIT, browser, page_at  # noqa: F401  (fixture)
from tests.ui.test_relay_fail_words_browser import _broken, _press

H = timedelta(hours=1)
M = timedelta(minutes=1)
STRANGER = "苏E12345"


def _look(gw: Gateway, clock: Clock, lane: str, plate: str, at: datetime) -> AccessEvent:
    clock.at = at
    p = Presented(lane, "plate", plate, 0.97, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def _unpowered(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """car-out's relay board loses power (the relay raises); the returned call powers it again."""
    relay = gw.devices.lanes["car-out"].relays[0]
    real_pulse = relay.pulse

    def unpowered(seconds: float, ref: str = "") -> None:
        raise OSError("relay board not answering")

    def powered_again() -> None:
        monkeypatch.setattr(relay, "pulse", real_pulse)
        relay.health.seen()  # the board answers again

    monkeypatch.setattr(relay, "pulse", unpowered)
    return powered_again


def _open(client: TestClient, auth: dict[str, str]) -> Any:
    return client.post("/api/lanes/car-out/open", headers=auth, json={"reason": "业主确认访客"})


@pytest.mark.parametrize("reentry", ["void", "charge"])
def test_an_opening_the_relay_did_not_take_does_not_let_the_held_car_out_on_record(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    reentry: str,
) -> None:
    """A stranger's car is held at car-out for 7元. Its barrier's relay board has lost power (the
    relay raises). The guard presses 开闸: the page says 道闸未响应，操作未生效 (relay_failed), the
    board reads 道闸故障 请联系保安, lane.open_failed is written - the barrier never rose and the car
    is still standing at it. Yet the opening's record had already let the car out: its stay closed
    'closed_by_hand' (upstream told `stay` closed_by_hand, a 7元 reentry charge with
    reentry=charge), its hold ended (the guard's "Take the fee" quote no longer named it), so the
    guard could not take the fee for the car still there, and the centre counted it as gone and
    the space as free. A failed opening leaves the car held and inside; the attempt stays on record."""
    gw = make_gw(extra=RELAY, reentry=reentry)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", STRANGER, T0)
        held = _look(gw, clock, "car-out", STRANGER, T0 + 2 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        _unpowered(gw, monkeypatch)
        r = _open(client, auth)
        assert r.status_code >= 400 and r.json()["error"]["code"] == "relay_failed", r.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth)
        stays = _rows(gw, "SELECT exited_at IS NULL, closed_by FROM stays")
        sent = [
            json.loads(p)["change"] for (p,) in _rows(gw, "SELECT payload FROM outbox WHERE topic = 'stay'")
        ]
        charges = _rows(gw, "SELECT kind, amount_fen FROM charges")
        tried = _rows(gw, "SELECT action, detail FROM audit WHERE action LIKE 'lane.open%' ORDER BY id")
    assert stays == [(1, None)], f"the barrier never opened, yet the car's stay reads {stays}"
    assert "closed_by_hand" not in sent, f"the centre was told the car left by hand: {sent}"
    assert charges == [], f"charges made by an opening that failed: {charges}"
    body: Any = quote.json() if quote.status_code == 200 else None
    assert body and body.get("plate") == STRANGER, (
        f"the car still at the barrier is no longer quoted: {quote.status_code} {quote.text}"
    )
    assert tried == [("lane.open", "业主确认访客"), ("lane.open_failed", "业主确认访客")]


def test_the_car_still_at_a_barrier_that_did_not_open_is_not_asked_a_days_fee(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same failed 开闸 (exit_without_entry = "charge", reentry = "charge"). The relay board is
    powered again two minutes later; the car, still at the barrier, is read by the camera again.
    It was 'a car with no entry record': held for a day's fee plus the 7元 'carried' from the
    failed opening, where it owes 7元 for its two hours. Then the guard opens again, the relay
    takes it, and the car is let out on record as an opening by hand lets one out."""
    gw = make_gw(extra=RELAY, reentry="charge", exit_without_entry="charge")
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        _look(gw, clock, "car-in", STRANGER, T0)
        held = _look(gw, clock, "car-out", STRANGER, T0 + 2 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        powered_again = _unpowered(gw, monkeypatch)
        assert _open(client, auth).status_code >= 400
        powered_again()
        again = _look(gw, clock, "car-out", STRANGER, T0 + 2 * H + 2 * M)
        assert (again.reason, again.fee_fen) == ("payment_due", 700), (
            f"the car whose barrier never opened is asked {again.fee_fen} fen ({again.reason}, {again.flags})"
        )
        r = _open(client, auth)
        assert r.status_code == 200, r.text
        stays = _rows(gw, "SELECT exited_at IS NULL, closed_by FROM stays")
        charges = _rows(gw, "SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges")
    assert stays == [(0, "hand")]
    assert charges == [("reentry", 700, 0)]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package (scripts/system-deps)")
def test_the_failed_opening_row_is_in_the_guards_words(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The relay at car-in does not take the guard's 开闸 (its USB adapter gone). The toast is
    worded for the guard (道闸未响应，操作未生效, fa5d579), but the lane's list, reloaded, showed the
    failure row with the API's English sentence and the device path: 'open on lane car-in failed:
    car-in-barrier: no answer on /dev/ttyUSB0' where every other row carries the guard's reason.
    The guard pages are in the guard's language (guard-app.md); the row says 开闸失败 with the
    reason given, not the log's English."""
    site, url = fresh_site
    _broken(site, monkeypatch)
    page = page_at(browser, url, PORTRAIT)
    _press(page, "open")
    page.reload()
    page.wait_for_selector("#lane-car-in [data-recent] li.manual")
    rows = page.locator("#lane-car-in [data-recent] li.manual").all_inner_texts()
    failed = [r for r in rows if "失败" in r]
    assert failed, rows
    assert not re.search(r"failed|/dev/|no answer|lane car-in", failed[0]), (
        f"the guard's list reads {failed[0]!r}"
    )
    assert "救护车" in failed[0], failed[0]
    # The installer still finds the relay's error: the device list, and the journal.
    assert "no answer on /dev/ttyUSB0" in (site.gw.devices.lanes["car-in"].relays[0].health.last_error or "")


def test_the_failed_opening_is_read_back_for_the_api_too(client: TestClient, site: Site) -> None:
    """Without a browser: the failure row an API client reads back carries the guard's reason."""
    relay = site.gw.devices.lanes["car-in"].relays[0]
    guard = bearer(site.guard_token)

    def fails(*_a: object, **_k: object) -> None:
        raise OSError("no answer on /dev/ttyUSB0")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(relay, "pulse", fails)
        r = client.post("/api/lanes/car-in/open", json={"reason": "救护车"}, headers=guard)
    assert r.status_code >= 400 and r.json()["error"]["code"] == "relay_failed", r.text
    shown = client.get("/api/live/recent?lane=car-in&actions=true", headers=guard).json()
    assert [(a["action"], a["reason"]) for a in shown if "action" in a][:2] == [
        ("open_failed", "救护车"),
        ("open", "救护车"),
    ]
