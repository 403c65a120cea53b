"""A visitor registered with its plate drives in and, at a vehicle exit with no camera (a QR scanner
only), scans its pass: held to pay. The pass names its car by that plate, so the hold is that car's,
as a card's hold is its car's: the guard's "收费放行 Take the fee" finds it (the lane's quote names
the plate and the fee the lane display asked), the payment lets it out and closes its stay, and the
day's report counts it as held once, however often the driver scans. Keyed by nothing, the quote
was empty, the fee grew with every scan, and the report counted no car held."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.conftest import report_so_far
from tests.parking.test_api import serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
PLATE = "苏E77777"


def _scan(gw: Gateway, lane: str, qr: str, at: datetime) -> AccessEvent:
    return gw.on_worker(lambda _: gw.handle(Presented(lane, "qr", qr, 1.0, at, "scanner"))).result(10)


@contextmanager
def _held_on_its_pass(gw: Gateway) -> Iterator[tuple[TestClient, dict[str, str], AccessEvent, str]]:
    """钱七 visits 3栋2单元 in 苏E77777, registered with the pass; the camera at car-in reads it, and
    three hours later the driver scans the pass at car-out: held to pay."""
    with serving(gw) as (_, client, auth):
        now = gw.now()
        new = NewPass(
            kind="visitor",
            name="钱七",
            valid_from=now - 5 * H,
            valid_to=now + 5 * H,
            host_building="3栋",
            host_unit="2单元",
            plate=PLATE,
        )
        pid = gw.on_worker(lambda c: create_pass(c, gw.secrets, new, now - 5 * H, "guard1")).result(10)
        (qr,) = gw.conn.execute(
            "SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'", (pid,)
        ).fetchone()
        came = Presented("car-in", "plate", PLATE, 0.97, now - 3 * H, "cam")
        assert gw.on_worker(lambda _: gw.handle(came)).result(10).admitted
        held = _scan(gw, "car-out", qr, now - 2 * M)
        assert held.reason == "payment_due" and held.fee_fen > 0, held
        yield client, auth, held, qr


def _quote(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    return answer


def test_a_visitor_held_on_the_qr_of_a_pass_with_a_plate_is_charged_from_the_tablet(make_gw: Any) -> None:
    """The lane display asks the fee; the guard's quote names the car's plate and that fee, and
    taking it lets the car out and closes its stay. The quote named no car: nothing could be taken."""
    gw = make_gw()
    with _held_on_its_pass(gw) as (client, auth, held, _):
        quote = _quote(client, auth)
        assert (quote.get("plate"), quote.get("due_fen")) == (PLATE, held.fee_fen), quote
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["admitted"]
        assert _quote(client, auth)["due_fen"] == 0  # let out: no longer held there
        open_stays = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert open_stays == 0


def test_a_visitor_scanning_its_pass_again_while_held_is_asked_the_fee_of_its_first_scan(
    make_gw: Any,
) -> None:
    """The driver scans again an hour on (the guard is slow to come): the display asks what it
    asked, as for a car held on its plate (the fee runs to the start of the hold)."""
    gw = make_gw()
    with _held_on_its_pass(gw) as (client, auth, held, qr):
        again = _scan(gw, "car-out", qr, gw.now() + 25 * M)
        assert (again.reason, again.fee_fen) == ("payment_due", held.fee_fen), again
        assert _quote(client, auth)["due_fen"] == held.fee_fen


def test_a_visitor_held_on_its_pass_is_counted_held_once_in_the_report(make_gw: Any) -> None:
    """Held on its pass, and scanning again as it waits: one car held for payment in the report."""
    gw = make_gw()
    with _held_on_its_pass(gw) as (_, _, _, qr):
        _scan(gw, "car-out", qr, gw.now())
        report = report_so_far(gw)
    assert report["held_for_payment"] == 1, report
