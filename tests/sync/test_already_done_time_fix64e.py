"""A centre's `acknowledge_alarm` for an alarm acknowledged already is refused `already_done`; the
reply gave the same moment twice in two zones: `done_at` 09:00:00+08:00, in the site's zone as
docs/mqtt.md says, and its `message` "... acknowledged already by central:zhang at
2025-03-03T01:00:00.000000+00:00", the store's UTC text, microseconds and all. An operator reading
the message took it for eight hours earlier. Found by review 64B (fault 3). The message now gives
the time as `done_at` does; so does a guard's 409 (a pass checked out on another tablet)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from centre_helpers import SITE, Mosquitto, centre
from sync_helpers import Central, wait_for

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import raise_alarm
from gateway.sync.commands import sign

KEY = b"k" * 32
WORDS = {"step_hours": 3.0, "before": "a", "after": "b", "pause_hours": 24}


def test_an_already_done_reply_gives_its_time_in_the_site_zone_in_both_places(tmp_path: Path) -> None:
    with centre(tmp_path) as c:
        key = c.gw.data_dir / "command.key"
        key.write_text(KEY.decode() + "\n")
        key.chmod(0o600)
        broker = Mosquitto.__new__(Mosquitto)
        broker.port = int(c.gw.site.config.mqtt.port)
        central = Central(broker, SITE)
        c.gw.on_worker(
            lambda conn: raise_alarm(conn, "clock_stepped", "clock", AlarmText("clock_stepped", WORDS), c.now)
        ).result(10)
        for n in (1, 2):  # the second finds it acknowledged by the first
            body = {
                "v": 1,
                "type": "command",
                "id": str(uuid.uuid4()),
                "site": SITE,
                "name": "acknowledge_alarm",
                "args": {"alarm_id": "1"},
                "actor": "zhang",
                "issued_at": c.now.isoformat(),
                "expires_at": (c.now + timedelta(seconds=60)).isoformat(),
            }
            central.publish("cmd", json.dumps(sign(body, KEY)).encode())
            wait_for(f"reply {n}", lambda n=n: len(c.records("command_reply")) >= n)
        central.close()
        refused = [m for m in c.records("command_reply") if m.get("code") == "already_done"]
        assert refused, c.records("command_reply")
        reply = refused[0]
        assert reply["done_at"] == c.now.isoformat(timespec="seconds")
        assert reply["done_at"].endswith("+08:00")
        assert reply["message"] == f"alarm 1 was acknowledged already by central:zhang at {reply['done_at']}"


def test_a_pass_checked_out_twice_says_when_in_the_site_zone(tmp_path: Path) -> None:
    with centre(tmp_path) as c:
        made = c.post("/api/visitors", {"name": "李四", "host_building": "3栋", "host_unit": "2单元"})
        assert made.status_code == 201, made.text
        out = c.now + timedelta(minutes=5)
        first = c.post(f"/api/passes/{made.json()['id']}/checkout", {}, at=out)
        assert first.status_code == 200, first.text
        # The same tap on a second tablet a minute later.
        again = c.post(f"/api/passes/{made.json()['id']}/checkout", {}, at=out + timedelta(minutes=1))
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert error["at"] == out.isoformat(timespec="seconds")
        assert error["message"].endswith(f"was checked out already by token:booth at {error['at']}"), error
