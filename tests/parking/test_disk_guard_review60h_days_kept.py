"""The `retention_short` alarm (录像保存不足) says how many days of snapshots are kept now
(docs/parking.md, Disk guard), on the guard's page and at the centre, as the card fills further:
raised when the disk guard first deleted a 6-day-old snapshot, it said 6.0 days for good while
later prunings the same day left half a day (Review 60h, found by reviewer 60g)."""

from __future__ import annotations

import json
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import open_alarms
from tests.parking.conftest import T0
from tests.parking.test_operations import Usage, ops, snapshots


def _said(gw: Gateway, language: str) -> dict[str, Any]:
    (alarm,) = [a for a in open_alarms(gw.conn, language) if a["kind"] == "retention_short"]
    return alarm


def _sent(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [r for r in (json.loads(p) for (p,) in rows) if r["kind"] == "retention_short"]


def test_retention_short_says_the_days_kept_now(gw: Gateway) -> None:
    snapshots(gw, [6, 1, 0.5, 0.1], size=1000)
    o = ops(gw)
    o.disk_guard(T0, lambda _: Usage(100_000, 85_500, 14_500))  # 14.5 % free: the 6-day-old one goes
    assert "只保留了 6.0 天" in _said(gw, "zh")["message"]
    # the card fills further the same day: everything older than half a day is deleted
    o.disk_guard(T0, lambda _: Usage(100_000, 86_500, 13_500))
    assert "只保留了 0.5 天" in _said(gw, "zh")["message"]
    assert "kept only 0.5 days of the 7 asked" in _said(gw, "en")["message"]
    first, newest = _sent(gw)
    assert (first["state"], newest["state"]) == ("raised", "raised")
    assert newest["alarm_id"] == first["alarm_id"]  # the same alarm, reworded, not a second one
    assert "kept only 0.5 days" in newest["message_en"]


def test_a_few_hours_less_is_not_sent_again(gw: Gateway) -> None:
    """Each 30 s look may delete a few more snapshots: the centre gets the alarm again only when a
    whole day less is kept (or under half the figure it was told), not at every pruning."""
    snapshots(gw, [6, 5.9, 5.5, 1, 0.1], size=1000)
    o = ops(gw)
    for _ in range(3):  # the 6-, 5.9- and 5.5-day-old ones go, one at each look
        o.disk_guard(T0, lambda _: Usage(100_000, 85_500, 14_500))
    assert "只保留了 6.0 天" in _said(gw, "zh")["message"]
    assert len(_sent(gw)) == 1
    o.disk_guard(T0, lambda _: Usage(100_000, 85_500, 14_500))  # the 1-day-old one goes
    assert "只保留了 1.0 天" in _said(gw, "zh")["message"]
    assert len(_sent(gw)) == 2
