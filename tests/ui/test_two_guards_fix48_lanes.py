"""Two guards on two tablets (or a tablet and the booth PC) act on the same held lane or held car:
a lane released already is 409 already_done, and a fee taken at the booth while the exit tablet's
收费放行 dialog is open is 409 already_paid with its receipt (docs/guard-app.md)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"
RELAY = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""

def held_at_exit(gw: Gateway, clock: Clock, client: Any, auth: dict[str, str]) -> dict[str, Any]:
    """CAR in at T0 and held at car-out two hours on; its quote a minute later (7元), as the exit
    tablet's 收费放行 dialog shows it."""
    for lane, at in (("car-in", T0), ("car-out", T0 + 2 * H)):
        clock.at = at
        p = Presented(lane, "plate", CAR, 0.97, at, "cam")
        gw.on_worker(lambda _, p=p: gw.handle(p)).result(10)
    clock.at = T0 + 2 * H + M
    quote: dict[str, Any] = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert (quote["plate"], quote["due_fen"]) == (CAR, 700), quote  # the dialog: 苏E12345 · 7元
    return quote


def booth_pays(client: Any, auth: dict[str, str]) -> Any:
    """The driver pays CAR's 7元 at the booth PC."""
    paid = {"plate": CAR, "amount_fen": 700, "method": "cash"}
    booth = client.post("/api/parking/prepay", headers=auth, json=paid)
    assert booth.status_code == 200, booth.text
    return booth


def lane_pays(client: Any, auth: dict[str, str], quote: dict[str, Any]) -> Any:
    """The exit tablet's 现金已收 on the dialog drawn with `quote`."""
    return client.post(
        "/api/parking/lanes/car-out/pay",
        headers=auth,
        json={"plate": CAR, "amount_fen": quote["due_fen"], "method": "cash"},
    )


def payments(gw: Gateway) -> int:
    with sqlite3.connect(gw.db_path) as conn:
        count: int = conn.execute("SELECT count(*) FROM payments").fetchone()[0]
    return count


def test_a_lane_released_already_is_not_released_again_on_record(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Guard A releases the held lane (恢复); guard B, whose page still shows it held, presses 恢复
    too. He was told it is done, and a second lane.release audit row and lane_action record went to
    the centre. As for close and reopen, he is told 409 already_done, and it is on record once; a
    lane held again is released again."""
    gw = make_gw(extra=RELAY)
    with serving(gw, Clock(T0)) as (client, auth):

        def press(action: str) -> Any:
            return client.post(f"/api/lanes/car-in/{action}", headers=auth, json={"reason": "车队"})

        never = press("release")
        assert (never.status_code, never.json()["error"]["code"]) == (409, "already_done"), never.text
        assert press("hold").status_code == 200
        assert press("release").status_code == 200
        second = press("release")
        assert (second.status_code, second.json()["error"]["code"]) == (409, "already_done"), second.text
        assert press("hold").status_code == 200
        assert press("release").status_code == 200

        def facts(c: sqlite3.Connection) -> tuple[int, list[str]]:
            audited = c.execute("SELECT count(*) FROM audit WHERE action = 'lane.release'").fetchone()[0]
            sent = [
                json.loads(p).get("action")
                for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'lane_action' ORDER BY seq")
            ]
            return audited, sent

        audited, sent = gw.on_worker(facts).result(10)
    assert (audited, sent) == (2, ["hold", "release", "hold", "release"])


def test_a_fee_taken_at_the_booth_meanwhile_is_told_already_paid_at_the_lane(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The car is held at the exit for 7元; guard A opens 收费放行 (苏E12345 · 7元) on the exit
    tablet while the driver pays 7元 at the booth PC. A's 现金已收 on the stale dialog was told
    nothing_owed (该车现在无需缴费), with no word that it was paid, so the 7元 in A's hand looked
    owed to nobody. It is 409 already_paid (请勿再收), naming the booth's receipt and its time."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        quote = held_at_exit(gw, clock, client, auth)  # A's dialog: 苏E12345 · 7元
        booth = booth_pays(client, auth)
        clock.at += M
        lane = lane_pays(client, auth, quote)
    assert payments(gw) == 1  # taken once
    error = lane.json().get("error", {})
    assert (lane.status_code, error.get("code")) == (409, "already_paid"), lane.text
    assert booth.json()["receipt"] in error["fix"], lane.text
    assert "7元" in error["fix"] and "11:01" in error["fix"], lane.text  # what and when, in the site's time
