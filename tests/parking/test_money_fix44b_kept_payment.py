"""A booth payment kept at a re-entry that drops the stay's fee (policy.reentry = "void", or a stay
that owes nothing by then) first settles the charges carried onto the stay that it covers, and
only the rest stands against the stay's kept exit charge (docs/parking.md, *Missed reads*). When a
guard's correction then undoes that re-entry (a misread: the car was parked all along), the
payment goes back to the stay less what settled those charges, which stay paid: the car is
credited once, not twice, at its exit, and the day's report adds up (*Misread plates*).

The carried charge comes from the site's first weeks under policy.reentry = "charge"; the
installer has since set it to "void" and restarted, and the car still owes what was carried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, parking_toml, report_of_t0_day, seed, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR, MISREAD = "苏E12345", "苏E12346"


@pytest.fixture
def restarted(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A site run under reentry = "charge", then restarted under "void"; `gw` is the gateway now."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, reentry="charge"), "site.toml")
    seed(cfg, tmp_path)
    held: dict[str, Any] = {"gw": Gateway(cfg)}

    def restart_void() -> Gateway:
        held["gw"].conn.close()
        held["gw"] = Gateway(parse_config(parking_toml(data, reentry="void"), "site.toml"))
        return held["gw"]

    held["restart_void"] = restart_void
    yield held
    held["gw"].conn.close()


def _adds_up(money: dict[str, int]) -> bool:
    return (
        money["charged_fen"] - money["unpaid_fen"] + money["paid_ahead_not_left_fen"] == money["revenue_fen"]
    )


def _newest_upstream(gw: Gateway) -> dict[int, dict[str, Any]]:
    """Each charge as the centre files it: by its newest `charge` record."""
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return {record["charge_id"]: record for record in (json.loads(p) for (p,) in rows)}


def _paid_then_back_under_void(restarted: dict[str, Any]) -> tuple[Gateway, str]:
    """苏E12345 in at 09:00; its exit missed, in again at 12:00 under "charge": 9元 carried. The
    site is restarted under "void". At 13:00 the driver pays at the booth the 14元 the quote asks
    (the 12:00 stay's 5元 and the 9元 carried), leaves while the exit camera is down, and comes in
    again at 15:00: the 12:00 stay's fee is dropped, the 9元 charge settled by the payment and the
    5元 left kept against a settled exit charge. The gateway and the 15:00 entry's event id."""
    gw: Gateway = restarted["gw"]
    show(gw, "car-in", CAR, T0)
    show(gw, "car-in", CAR, T0 + 3 * H)
    gw = restarted["restart_void"]()
    quote = gw.parking.quote(gw.conn, CAR, T0 + 4 * H)
    assert (quote["fee_fen"], quote["carried_fen"], quote["due_fen"]) == (500, 900, 1400), quote
    with gw.conn:
        gw.parking.prepay(gw.conn, CAR, 1400, "cash", "", "booth", T0 + 4 * H)
    back = show(gw, "car-in", CAR, T0 + 6 * H)
    assert back.admitted and "already_inside" in back.flags
    kinds = gw.conn.execute("SELECT kind, amount_fen, settled_at IS NOT NULL FROM charges ORDER BY id")
    assert kinds.fetchall() == [("reentry", 900, 1), ("exit", 500, 1)]
    return gw, back.event_id


def test_a_misread_reentry_corrected_gives_the_stay_back_only_what_the_carried_charge_did_not_take(
    restarted: dict[str, Any],
) -> None:
    """The 15:00 entry was 苏E12346's, misread: the guard corrects it at 15:02, and 苏E12345's 12:00
    stay is open again, its kept 5元 exit charge undone. The 9元 carried charge the payment paid
    stays paid. At its exit at 15:10 the car owes the stay's 11元 (12:00-15:10) less the 5元 left of
    the 14元: 6元.

    What the driver saw: the barrier opened, nothing asked (all 14元 went back to the stay, the 9元
    of it that paid the carried charge counted twice). The day's report before that exit said 14元
    taken, 9元 charged, 14元 paid ahead by a car not seen leaving: 23元 for 14元."""
    gw, back = _paid_then_back_under_void(restarted)
    correct_plate(gw.conn, back, MISREAD, "guard1", T0 + 6 * H + 2 * M)
    money = report_of_t0_day(gw, T0 + 6 * H + 5 * M)["parking"]
    out = show(gw, "car-out", CAR, T0 + 6 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (False, 600), (out.reason, out.fee_fen)
    figures = {k: money[k] for k in ("charged_fen", "unpaid_fen", "paid_ahead_not_left_fen", "revenue_fen")}
    assert _adds_up(money), f"the day's money does not add up: {figures}"
    assert (money["charged_fen"], money["paid_ahead_not_left_fen"]) == (900, 500), figures


def test_a_misread_reentry_corrected_back_restores_the_kept_charge_with_what_it_kept(
    restarted: dict[str, Any],
) -> None:
    """The guard corrects the 15:00 entry to 苏E12346 at 15:02, then sees that the camera was right
    and corrects it back at 15:04: the kept 5元 exit charge stands again, and the centre is sent it
    as the re-entry kept it: 5元, 5元 paid against it (not the whole 14元: 9元 of it paid the
    carried charge, settled at 15:00). The car, inside on its 15:00 stay, leaves at 15:10 free."""
    gw, back = _paid_then_back_under_void(restarted)
    correct_plate(gw.conn, back, MISREAD, "guard1", T0 + 6 * H + 2 * M)
    correct_plate(gw.conn, back, CAR, "guard1", T0 + 6 * H + 4 * M)
    carried, kept = _newest_upstream(gw).values()
    assert (carried["settled"], carried["amount_fen"]) == (True, 900), carried
    money = (kept.get("change"), kept["amount_fen"], kept["paid_fen"], kept["owed_fen"], kept["settled"])
    assert money == ("restored", 500, 500, 0, True), kept
    report = report_of_t0_day(gw, T0 + 6 * H + 5 * M)["parking"]
    assert _adds_up(report), report
    out = show(gw, "car-out", CAR, T0 + 6 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (out.reason, out.fee_fen)
