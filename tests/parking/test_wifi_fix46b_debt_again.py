"""A booth payment of charges carried from before (a car not inside), sent again after its answer
was lost (docs/guard-app.md: a fee sent again, at the lane or at the booth, is already_paid with its
receipt; docs/parking.md: a payment sent again is 409 already_paid with its receipt and time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import H, serving, show

Auth = dict[str, str]
CAR = "皖D55555"  # R4's car, its monthly period long over: a temporary car


@contextmanager
def _debt_paid(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Gateway, TestClient, Auth, dict[str, Any]]]:
    """The car left owing an 11元 re-entry charge (its exit missed, its stay closed by the admin) and
    the driver has paid it at the booth: the gateway, client, headers and the first answer."""
    with serving(make_gw(reentry="charge")) as (gw, client, auth):
        now = gw.now()
        show(gw, "car-in", CAR, now - 6 * H)
        show(gw, "car-in", CAR, now - 2 * H)  # its exit was missed: 11元 charged at this entry
        stay = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
        closed = client.post(f"/api/parking/stays/{stay}/close", json={"reason": "未见离场"}, headers=auth)
        assert closed.status_code == 200, closed.text
        due = client.get("/api/parking/quote", params={"plate": CAR}, headers=auth).json()["due_fen"]
        assert due == 1100
        first = _pay(client, auth, due)
        assert first.status_code == 200, first.text
        yield gw, client, auth, first.json()


def _pay(client: TestClient, auth: Auth, amount_fen: int) -> Response:
    body = {"plate": CAR, "amount_fen": amount_fen, "method": "cash"}
    return client.post("/api/parking/prepay", json=body, headers=auth)


def test_a_debt_paid_at_the_booth_sent_again_is_told_already_paid_with_its_receipt(
    make_gw: Callable[..., Gateway],
) -> None:
    """The driver pays the 11元 at the booth, the tablet loses the answer (with the receipt the
    gateway made) and sends it again. The guard was told 不允许此操作 "not recorded inside and owes
    nothing ... a car pays ahead here while it is inside", no receipt for the money just taken; it
    is 409 already_paid naming the receipt and when, as for a prepayment."""
    with _debt_paid(make_gw) as (gw, client, auth, first):
        again = _pay(client, auth, 1100)  # the answer was lost
        error = again.json()["error"]
        assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1
        assert (again.status_code, error["code"]) == (409, "already_paid"), (
            f"the debt paid at the booth, sent again, is answered {again.status_code} {error['code']}: "
            f"{error['message']} / {error['fix']} (receipt {first['receipt']} not named)"
        )
        assert first["receipt"] in error["fix"], error


def test_another_amount_or_a_payment_past_the_grace_still_owes_nothing(
    make_gw: Callable[..., Gateway],
) -> None:
    """Only the same amount within the grace is the same payment sent again: another amount, or the
    same one sent after the grace, is refused as owing nothing, as before."""
    with _debt_paid(make_gw) as (gw, client, auth, _first):
        other = _pay(client, auth, 500)
        assert other.status_code == 409 and other.json()["error"]["code"] != "already_paid", other.text
        later = gw.now() + H  # past the grace
        gw.now = lambda: later  # type: ignore[method-assign]
        late = _pay(client, auth, 1100)
        assert late.status_code == 409 and late.json()["error"]["code"] != "already_paid", late.text
        assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1
