"""A misread exit plate, decided again by the camera's repeat timer before the guard corrects it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from gateway.core import Presented
from tests.conftest import report_so_far
from tests.parking.test_api import serving

H = timedelta(hours=1)
S = timedelta(seconds=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def test_misread_exit_decided_again_then_corrected_and_paid_leaves_no_phantom_hold(make_gw: Any) -> None:
    """The camera misreads a stranger's car at the exit as 苏E12346 and, the car standing at the
    barrier, decides it again a few seconds later (the repeat timer): one hold. The guard corrects
    the reading the live page shows (the latest) to 苏E12345 and takes that stay's fee; the car
    leaves. The guard then sees the lane's 收费放行 still naming 苏E12346 held for a day's 30元 -
    a car that has gone - and the next opening by hand would 'let it out'. docs/parking.md
    *Misread plates*: once the car is let out the lane no longer shows the misread plate held."""
    gw = make_gw(exit_without_entry="charge")
    with serving(gw) as (_, client, auth):
        now = gw.now()

        def show(lane: str, plate: str, at: Any) -> Any:
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(10)

        assert show("car-in", REAL, now - 3 * H).admitted
        first = show("car-out", MISREAD, now - 20 * S)
        again = show("car-out", MISREAD, now - 12 * S)
        assert first.reason == again.reason == "payment_due", (first, again)
        r = client.post(f"/api/events/{again.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert quote["plate"] == REAL, quote
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": REAL, "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        after = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert after.get("plate") is None and after.get("due_fen", 0) == 0, (
        f"the car left, paid under {REAL}; the lane still shows {after.get('plate')} held for "
        f"{after.get('due_text')}"
    )


def test_a_hold_corrected_on_its_first_decision_and_decided_again_after_is_one_hold(make_gw: Any) -> None:
    """The same car, the guard correcting the first of the hold's decisions (from the records
    list), and the camera deciding the car again, as 苏E12346, while the guard counts the money: the
    lane still names 苏E12345, its fee runs to the first decision, and once it is paid for and gone
    the lane holds nobody and the day's report counts one car held, not three."""
    gw = make_gw(exit_without_entry="charge")
    with serving(gw) as (_, client, auth):
        now = gw.now()

        def show(lane: str, plate: str, at: Any) -> Any:
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(10)

        assert show("car-in", REAL, now - 3 * H).admitted
        first = show("car-out", MISREAD, now - 40 * S)
        second = show("car-out", MISREAD, now - 30 * S)
        assert second.reason == "payment_due"
        r = client.post(f"/api/events/{first.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        assert show("car-out", MISREAD, now - 15 * S).reason == "payment_due"  # after the correction
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert quote["plate"] == REAL, quote
        assert datetime.fromisoformat(quote["at"]) == now - 40 * S, quote  # the hold's first decision
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": REAL, "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        after = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        report = report_so_far(gw)
        sent = [json.loads(x) for (x,) in gw.conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    assert after.get("plate") is None and after.get("due_fen", 0) == 0, after
    assert report["held_for_payment"] == 1, report
    corrections = [(m["access_event_id"], m["hold_of"]) for m in sent if m["type"] == "plate_correction"]
    assert corrections == [(first.event_id, None), (second.event_id, first.event_id)], corrections


def test_another_car_with_the_misread_plate_after_the_car_left_is_held_as_itself(make_gw: Any) -> None:
    """The corrected car paid for and let out, a car that does carry 苏E12346 comes to the same exit
    minutes later with no entry record: it is held as 苏E12346, not as the car that has gone."""
    gw = make_gw(exit_without_entry="charge")
    with serving(gw) as (_, client, auth):
        now = gw.now()

        def show(lane: str, plate: str, at: Any) -> Any:
            p = Presented(lane, "plate", plate, 0.97, at, "cam")
            return gw.on_worker(lambda _: gw.handle(p)).result(10)

        assert show("car-in", REAL, now - 3 * H).admitted
        held = show("car-out", MISREAD, now - 5 * 60 * S)
        r = client.post(f"/api/events/{held.event_id}/plate", headers=auth, json={"plate": REAL})
        assert r.status_code == 200, r.text
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": REAL, "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text
        assert show("car-out", MISREAD, gw.now()).reason == "payment_due"
        other = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        report = report_so_far(gw)
    assert other["plate"] == MISREAD, other
    assert report["held_for_payment"] == 2, report
