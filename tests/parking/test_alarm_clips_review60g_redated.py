"""An alarm's `raised` record names the clips tied to it (docs/mqtt.md, `alarm`), and so does each
time it goes up again: re-dated when NTP set a stale boot clock, as the centre replaces the record
it has with it. An alarm with no clip (a disk low) names none. Review 60g."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

from gateway.alarm_texts import AlarmText
from gateway.runtime.event_clips import tie_to_alarm
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import raise_alarm, raise_alarm_with, tell_redated
from gateway.timefmt import to_db
from tests.parking.conftest import T0

CLIP = "snapshots/2025-03-03/090000-000000+0800-clip-forced_open-door-door-camera.webm"


def raised_records(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [r for (p,) in rows if (r := json.loads(p))["state"] == "raised"]


def test_a_raised_record_names_its_clips_and_again_redated(gw: Gateway) -> None:
    cut = (("door-camera", CLIP),)
    tie = partial(tie_to_alarm, kind="forced_open", source="door", cut=cut)
    text = AlarmText("forced_open.door", {"lane": "door", "device": "door-io"})
    assert raise_alarm_with(gw.conn, tie, kind="forced_open", source="door", text=text, at=T0)
    alarm_id, raised_at = gw.conn.execute("SELECT id, raised_at FROM alarms").fetchone()
    gw.conn.execute("UPDATE alarms SET raised_at = ? WHERE id = ?", (to_db(T0 + timedelta(days=3)), alarm_id))
    tell_redated(gw.conn, alarm_id, {"raised_at": raised_at}, T0 + timedelta(days=3))
    first, redated = raised_records(gw)
    clips = [{"file": CLIP, "camera": "door-camera"}]
    assert first["clips"] == clips and redated["clips"] == clips and redated["change"] == "redated"


def test_an_alarm_without_a_clip_names_none(gw: Gateway) -> None:
    raise_alarm(gw.conn, "disk_low", "/data", AlarmText("disk_low", {"free_percent": 4.0}), T0)
    (record,) = raised_records(gw)
    assert "clips" not in record
