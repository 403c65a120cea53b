"""Edges of the money that a driver sees and no nearby test held: leaving at the very minute the
booth said to leave by, and a host's confirmation on a tariff with no visitor free time. Each fails
on a one-token change of gateway/parking/book.py that every other money test lets pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, parking_toml, seed, show

M = timedelta(minutes=1)


@pytest.fixture
def no_visitor_free_time(tmp_path: Path) -> Iterator[Gateway]:
    """The parking site with the test tariff as it is, but no free time for a visitor confirmed by
    the host (visitor_free_minutes = 0, the default): 30 minutes free for every car."""
    text = parking_toml(tmp_path / "data").replace("visitor_free_minutes = 120", "visitor_free_minutes = 0")
    assert "visitor_free_minutes = 0" in text
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def test_a_car_paid_at_the_booth_leaves_free_at_the_leave_by_time_it_was_given(gw: Gateway) -> None:
    """docs/parking.md: after paying ahead the car has grace_minutes to leave without paying more,
    "until the reply's leave_by". A driver at the exit at exactly that time is let out free, not
    held for another hour's fee."""
    assert show(gw, "car-in", "苏E12345", T0).admitted
    paid = gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", T0 + 60 * M)
    leave_by = datetime.fromisoformat(paid["leave_by"])
    assert leave_by == T0 + 75 * M  # grace_minutes = 15
    out = show(gw, "car-out", "苏E12345", leave_by)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"paid 5元 (the first hour) and told to leave by {leave_by:%H:%M}; "
        f"at {leave_by:%H:%M} asked {out.fee_fen} fen more"
    )


def test_a_validated_visitor_never_loses_the_free_minutes_every_car_has(
    no_visitor_free_time: Gateway,
) -> None:
    """A tariff with 30 free minutes and no visitor free time: a visitor's car confirmed by its host
    (业主确认) and gone in 25 minutes pays nothing, as any car does; the host's confirmation never
    makes it pay 5元."""
    gw = no_visitor_free_time
    add_visitor(gw, "苏E99999")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '苏E99999'").fetchone()[0]
    gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0 + 10 * M)
    out = show(gw, "car-out", "苏E99999", T0 + 25 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"confirmed by its host and gone in 25 minutes, the visitor was asked {out.fee_fen} fen"
    )
