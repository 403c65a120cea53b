"""The central server sets a lane's mode (set_lane_mode): the mode it is told is the mode the lane
is in, here and after a restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from gateway.config import SiteConfig
from tests.sync.sync_helpers import Mosquitto
from tests.sync.test_sync_commands import KEY, command, send
from tests.sync.test_sync_downlink import Site, _site


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    cfg = sync_cfg(broker.port)
    (cfg.site.data_dir / "command.key").write_text(KEY.decode() + "\n")
    with _site(broker, cfg) as s:
        yield s


def test_a_closed_lane_set_open_is_open_not_closed_with_its_barrier_up(site: Site) -> None:
    """Closed for an epidemic, then set open for a fire drill: the reply says open and the barrier is
    held up, so the lane is not also closed on record (cards refused lane_closed, health's mode, the
    mode after a restart). Its reopening is on record before the hold."""
    closed = command("set_lane_mode", {"lane": "door", "mode": "closed", "reason": "疫情"})
    assert send(site, closed)["ok"]
    reply = send(site, command("set_lane_mode", {"lane": "door", "mode": "open", "reason": "消防演习"}))
    assert reply["ok"] is True and reply["result"] == {"lane": "door", "mode": "open"}
    assert (site.gw.lane_modes, site.card_reason("C0001")) == ({}, "unknown")
    assert site.gw.held.get("door") is not None
    actions = [
        a for (a,) in site.gw.conn.execute("SELECT action FROM audit WHERE action LIKE 'lane.%' ORDER BY id")
    ]
    assert actions == ["lane.close", "lane.reopen", "lane.hold"], actions
