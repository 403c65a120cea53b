"""The central server sets a lane's mode (set_lane_mode), or a guard holds a lane open: the mode it
is told is the mode the lane is in, here and after a restart, and a refused or failed one changes
nothing a card would notice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.sync.test_sync_commands import command, send, site  # noqa: F401  (the fixture)
from tests.sync.test_sync_downlink import Site


def test_a_closed_lane_set_open_is_open_not_closed_with_its_barrier_up(site: Site) -> None:  # noqa: F811
    """Closed for an epidemic, then set open for a fire drill: the reply says open and the barrier is
    held up, so the lane is not also closed on record (cards refused lane_closed, health's mode, the
    mode after a restart). Its reopening is on record before the hold."""
    closed = command("set_lane_mode", {"lane": "door", "mode": "closed", "reason": "疫情"})
    assert send(site, closed)["ok"]
    reply = send(site, command("set_lane_mode", {"lane": "door", "mode": "open", "reason": "消防演习"}))
    assert reply["ok"] is True and reply["result"] == {"lane": "door", "mode": "open"}
    assert (site.gw.lane_modes, site.card_reason("C0001")) == ({}, "unknown")
    assert site.gw.by_hand.held.get("door") is not None
    actions = _lane_actions(site.gw)
    assert actions == ["lane.close", "lane.reopen", "lane.hold"], actions


def _lane_actions(gw: Gateway) -> list[str]:
    return [a for (a,) in gw.conn.execute("SELECT action FROM audit WHERE action LIKE 'lane.%' ORDER BY id")]


def _refused_at(gw: Gateway, lane: str) -> str:
    p = Presented(lane, "plate", "皖A12345", 1.0, datetime.now(UTC), "cam")
    return gw.on_worker(lambda c: gw.handle(p)).result(60).reason


def test_open_refused_on_a_closed_lane_with_no_relay_leaves_it_closed(site_cfg: SiteConfig) -> None:
    """The centre closed car-out (no relay in this site), then asks to hold it open: refused, as a
    lane with no relay is, before anything is written. The lane the centre closed is still closed."""
    gw = Gateway(site_cfg)
    gw.start()
    try:
        gw.by_hand.set_lane_mode("car-out", "closed", "centre", "事故")
        with pytest.raises(GatewayError):
            gw.by_hand.set_lane_mode("car-out", "open", "centre", "消防演习")
        assert (gw.lane_modes, _lane_actions(gw)) == ({"car-out": "closed"}, ["lane.close"])
        assert _refused_at(gw, "car-out") == "lane_closed"
    finally:
        gw.stop()


def test_a_closed_lane_whose_barrier_cannot_be_held_up_stays_closed(
    site_cfg: SiteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard holds open (常开) a lane the centre closed, and its relay fails: the barrier is down,
    so the lane is closed again, on record, and the guard is told the hold failed."""
    gw = Gateway(site_cfg)
    gw.start()
    try:
        gw.by_hand.set_lane_mode("car-in", "closed", "centre", "事故")

        def fails() -> None:
            raise OSError("relay board not answering")

        for relay in gw.devices.lanes["car-in"].relays:
            monkeypatch.setattr(relay, "hold", fails)
        with pytest.raises(GatewayError, match="hold on lane car-in failed"):
            gw.by_hand.hold_lane("car-in", "guard1", "救护车")
        assert gw.lane_modes == {"car-in": "closed"} and "car-in" not in gw.by_hand.held
        assert _lane_actions(gw) == [
            "lane.close",
            "lane.reopen",
            "lane.hold",
            "lane.hold_failed",
            "lane.close",
        ]
        assert _refused_at(gw, "car-in") == "lane_closed"
    finally:
        gw.stop()


def test_set_lane_mode_normal_on_a_lane_the_site_does_not_have_is_refused(site: Site) -> None:  # noqa: F811
    """The central server reopening the closed car-in with a typo ("Car-in") was answered ok, with
    car-in still closed and every car refused lane_closed; closed and open on a typo were refused."""
    assert send(site, command("set_lane_mode", {"lane": "car-in", "mode": "closed", "reason": "事故"}))["ok"]
    reply = send(site, command("set_lane_mode", {"lane": "Car-in", "mode": "normal", "reason": "事故已处理"}))
    assert site.gw.lane_modes == {"car-in": "closed"}
    assert (reply["ok"], reply["code"], reply["message"]) == (False, "bad_args", "no lane 'Car-in'")
    assert "'car-in'" in reply["fix"]  # what to do: the lanes there are
