"""The centre's set_lane_mode normal on a closed lane, on a full disk (review s43r2disk, the second
rule): not done then, it is left for the next start not accepted, and done then."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from sync_helpers import Mosquitto, wait_for
from test_sync_commands import command, send, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from tests.ui.conftest import fill_the_disk, free_the_disk


def test_a_reopening_not_done_on_a_full_disk_is_done_at_the_next_start(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The centre closed car-in (事故). At 03:00 the card is full and the centre sends
    set_lane_mode normal: docs/mqtt.md says a closed lane's reopening still needs its record and is
    not done then. Space is freed and the gateway restarted within the command's life: "Across a
    stop", a command not yet done is done and answered when the gateway starts again. It was
    answered `replayed` ("accepted before the gateway stopped ... whether it took effect is not
    known"), the lane left closed, every car refused lane_closed: the acceptance of the command,
    kept in memory as for an opening (commands._kept), was written once the disk had room, though
    the reopening itself was never done."""
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    reopen = command("set_lane_mode", {"lane": "car-in", "mode": "normal", "reason": "事故已处理"}, life=300)
    with _site(broker, cfg) as site:
        closed = command("set_lane_mode", {"lane": "car-in", "mode": "closed", "reason": "事故"})
        assert send(site, closed)["ok"]
        fill_the_disk(site)  # type: ignore[arg-type]  # needs only .gw
        site.central.publish("cmd", json.dumps(reopen).encode())
        time.sleep(3)  # handled: not done (its record cannot be written)
        assert site.gw.lane_modes == {"car-in": "closed"}
        assert site.gw.by_hand.unrecorded_opens() == 0  # no acceptance waits to be written
        free_the_disk(site)  # type: ignore[arg-type]
        time.sleep(2)  # what waited in memory is written
    with _site(broker, cfg) as site:
        reply = wait_for(
            "the answer to the reopening",
            lambda: next((r for r in site.upstream("/cmd/reply") if r.get("id") == reopen["id"]), None),
        )
        modes = dict(site.gw.lane_modes)
    assert (reply["ok"], reply.get("code")) == (True, None), reply
    assert modes == {}, f"the lane is still {modes} after the reopening"


def test_a_reopening_judged_to_go_ahead_and_refused_after_all_is_not_accepted(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The lane is closed (a guard's 关闭通道) just after the centre's set_lane_mode normal was judged
    a release that goes ahead on a full disk, its acceptance kept in memory: the reopening is then
    refused for want of its record. Its acceptance is called off, never written, and the command
    is done at the next start, not answered `replayed` with the lane still closed."""
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    reopen = command("set_lane_mode", {"lane": "car-in", "mode": "normal", "reason": "事故已处理"}, life=300)
    with _site(broker, cfg) as site:
        closed = command("set_lane_mode", {"lane": "car-in", "mode": "closed", "reason": "事故"})
        assert send(site, closed)["ok"]
        fill_the_disk(site)  # type: ignore[arg-type]  # needs only .gw
        site.gw.by_hand.needs_record = lambda lane, mode: False  # type: ignore[method-assign]
        site.central.publish("cmd", json.dumps(reopen).encode())
        time.sleep(3)
        assert site.gw.lane_modes == {"car-in": "closed"}
        assert site.gw.by_hand.unrecorded_opens() == 0  # its acceptance called off
        free_the_disk(site)  # type: ignore[arg-type]
        time.sleep(2)
    with _site(broker, cfg) as site:
        reply = wait_for(
            "the answer to the reopening",
            lambda: next((r for r in site.upstream("/cmd/reply") if r.get("id") == reopen["id"]), None),
        )
        modes = dict(site.gw.lane_modes)
    assert (reply["ok"], reply.get("code")) == (True, None), reply
    assert modes == {}, f"the lane is still {modes} after the reopening"
