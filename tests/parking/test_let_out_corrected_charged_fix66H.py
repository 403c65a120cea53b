"""Review 66 H, fault 2: reentry = "charge", and a car let out by hand whose entry is corrected later
was charged nothing. Two strangers park 09:00-11:00 and the guard's 开闸 lets each out unpaid. X's
entry was read right: its 7元 is carried to its next exit (docs/parking.md *Let out by hand*). Y's
entry was misread: refused at the exit with no entry record; the office corrects the entry at
15:00, which closes Y's stay at the opening, and no charge was made: Y was in no report's
charged_fen or unpaid_fen and was asked nothing the next day. Now the correction carries Y's fee
as X's is carried, dated at the correction; corrected once more, the charge is undone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_opened_by_hand import RELAY, _rows, _until
from tests.parking.test_report_figures import Clock, serving

H, M = timedelta(hours=1), timedelta(minutes=1)
X, Y, MISREAD = "苏E12345", "苏E54321", "苏E54327"


class Site:
    def __init__(self, gw: Gateway, clock: Clock, client: TestClient, auth: dict[str, str]) -> None:
        self.gw, self.clock, self.client, self.auth = gw, clock, client, auth

    def look(self, lane: str, plate: str, minutes: int) -> AccessEvent:
        self.clock.at = at = T0 + minutes * M
        p = Presented(lane, "plate", plate, 0.97, at, "cam")
        return self.gw.on_worker(lambda _: self.gw.handle(p)).result(timeout=10)

    def open_by_hand(self) -> None:
        lets = len(_rows(self.gw, "SELECT id FROM let_outs_by_hand"))
        r = self.client.post(
            "/api/lanes/car-out/open", headers=self.auth, json={"reason": "司机说没带钱，放行"}
        )
        assert r.status_code == 200, r.text
        _until(lambda: len(_rows(self.gw, "SELECT id FROM let_outs_by_hand")) > lets, "not let out")

    def correct(self, event_id: str, plate: str, minutes: int) -> None:
        self.clock.at = T0 + minutes * M
        r = self.client.post(f"/api/events/{event_id}/plate", headers=self.auth, json={"plate": plate})
        assert r.status_code == 200, r.text

    def charges(self, plate: str) -> list[tuple[Any, ...]]:
        sql = "SELECT kind, amount_fen, settled_at IS NULL, voided_at IS NULL, at FROM charges WHERE plate = "
        return _rows(self.gw, f"{sql}'{plate}'")

    def sent(self, topic: str) -> list[dict[str, Any]]:
        rows = _rows(self.gw, f"SELECT payload FROM outbox WHERE topic = '{topic}' ORDER BY seq")
        return [json.loads(p) for (p,) in rows]


@contextmanager
def _let_out_unpaid(gw: Gateway) -> Iterator[tuple[Site, AccessEvent]]:
    """X in at 09:00 and Y (read as MISREAD) at 09:05; each let out by hand two hours later."""
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        site = Site(gw, clock, client, auth)
        site.look("car-in", X, 0)
        entry = site.look("car-in", MISREAD, 5)
        held = site.look("car-out", X, 120)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        site.open_by_hand()
        refused = site.look("car-out", Y, 125)
        assert "no_entry_record" in refused.flags and not refused.admitted
        site.open_by_hand()
        yield site, entry


@pytest.mark.parametrize("exit_without_entry", ["guard", "charge"])
def test_a_car_let_out_by_hand_whose_entry_is_corrected_owes_its_fee_as_one_whose_entry_was_read(
    make_gw: Callable[..., Gateway], exit_without_entry: str
) -> None:
    gw = make_gw(reentry="charge", exit_without_entry=exit_without_entry, extra=RELAY)
    with _let_out_unpaid(gw) as (site, entry):
        site.correct(entry.event_id, Y, 6 * 60)  # 15:00, the office's plate log
        assert _rows(gw, f"SELECT closed_by FROM stays WHERE plate = '{Y}'") == [("correction",)]
        assert [c[:4] for c in site.charges(Y)] == [("reentry", 700, 1, 1)]  # as X's, unpaid
        assert [c[:4] for c in site.charges(X)] == [("reentry", 700, 1, 1)]
        # Dated at the correction: the report of its day counts it, as the centre hears it.
        assert site.charges(Y)[0][4].startswith("2025-03-03T07:00"), site.charges(Y)
        charged = [c for c in site.sent("charge") if c["plate"] == Y]
        assert [(c["kind"], c["amount_fen"], c["owed_fen"], c["settled"]) for c in charged] == [
            ("reentry", 700, 700, False)
        ]
        closed = [s for s in site.sent("stay") if s["change"] == "closed_by_correction"]
        assert [(s["plate"], s["by_hand"], s["charge_id"]) for s in closed] == [
            (Y, True, charged[0]["charge_id"])
        ]
        body = gw.on_worker(lambda _: report_of_t0_day(gw, T0 + 22 * H)).result()
        assert (body["parking"]["charged_fen"], body["parking"]["unpaid_fen"]) == (1400, 1400)
        # Back the next day for 20 minutes (free): each is asked the 7元 it left without paying.
        for plate in (X, Y):
            site.look("car-in", plate, 24 * 60)
        asked = {plate: site.look("car-out", plate, 24 * 60 + 20).fee_fen for plate in (X, Y)}
    assert asked == {X: 700, Y: 700}


def test_the_entry_corrected_once_more_undoes_the_charge(make_gw: Callable[..., Gateway]) -> None:
    """The office typed the wrong plate: corrected again, Y's stay was never Y's, nor its charge."""
    gw = make_gw(reentry="charge", extra=RELAY)
    with _let_out_unpaid(gw) as (site, entry):
        site.correct(entry.event_id, Y, 6 * 60)
        site.correct(entry.event_id, "苏E54329", 6 * 60 + 5)
        assert [c[:4] for c in site.charges(Y)] == [("reentry", 700, 1, 0)]  # voided
        voided = [c for c in site.sent("charge") if c["plate"] == Y and c.get("change") == "voided"]
        assert len(voided) == 1
        site.look("car-in", Y, 24 * 60)
        assert site.look("car-out", Y, 24 * 60 + 20).fee_fen == 0
