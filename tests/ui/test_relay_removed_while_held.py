"""A lane held open (常开) whose relay the installer took out of the site config before the next
start (the door's lock moved to another controller): at start the hold cannot be taken again, and
is dropped. docs/guard-app.md: "A lane taken out of the site config, or whose relay cannot hold at
start ..., is no longer held, on record nor on its relays (`lane.hold_failed`; the log says which
and why)"; docs/mqtt.md: a mode dropped at start is dropped on record, by a `lane_action` by
`gateway` whose reason names why."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, make_config, start_site

DOOR_LOCK = """
[[devices]]
id = "door-lock"
lane = "door"
kind = "relay"
driver = "simulated"
"""


def test_a_hold_dropped_at_start_for_a_relay_removed_is_on_record_and_upstream(tmp_path: Path) -> None:
    """The guard holds the door open (常开) for a delivery; the installer then takes the door's relay
    out of the config and restarts. The door is no longer held (nothing can hold it), and the lane's
    mode goes from `open` to normal in the centre's health report. The audit page and the centre
    must say why (`lane.hold_failed` by gateway, as for a lane taken out of the config, or a relay
    that cannot hold at start): the hold just vanished, only a journal line saying so."""
    data = tmp_path / "data"
    site = start_site(make_config(data))
    try:
        site.gw.by_hand.hold_lane("door", "guard1", "送货")
    finally:
        site.gw.stop()
    text = site_toml(data) + DRIVEN
    assert DOOR_LOCK in text
    again = Gateway(parse_config(text.replace(DOOR_LOCK, ""), "site.toml"))
    again.start()
    try:
        held = dict(again.by_hand.held)
        again.on_worker(lambda c: None).result(10)
    finally:
        again.stop()
    with closing(sqlite3.connect(f"file:{data / 'gateway.db'}?mode=ro", uri=True)) as conn:
        modes = conn.execute("SELECT lane, mode FROM lane_modes").fetchall()
        audited = [a for (a,) in conn.execute("SELECT action FROM audit WHERE target = 'door' ORDER BY id")]
        sent = [
            json.loads(p)["action"]
            for (p,) in conn.execute("SELECT payload FROM outbox WHERE topic = 'lane_action' ORDER BY seq")
        ]
    assert held == {} and modes == []  # dropped, as documented
    assert audited[-1] == "lane.hold_failed", f"the hold vanished from the audit trail: {audited}"
    assert sent[-1] == "hold_failed", f"the centre was told nothing of the hold's end: {sent}"
