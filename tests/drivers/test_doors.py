"""The pedestrian door end to end: reader and scanner bytes on a pty -> decision -> who is inside."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from drivers.readers.frames import em4100_frame
from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.admin import import_csv
from gateway.store.passes import NewPass, create_pass
from tests.conftest import site_toml, write_csv
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.parking.conftest import DOOR_OUT_WITH_LOCK

# The test site's "door" is the way in; this is the way out beside it, with its own reader.
RESIDENTS = "ref,building,unit,name\nR1,3栋,2单元,张三\n"


def reader(dev_id: str, lane: str, port: str, fmt: str = "em4100") -> str:
    return f"""
[[devices]]
id = "{dev_id}"
lane = "{lane}"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "{fmt}"
reconnect_max_s = 0.2
debounce_s = 0  # each frame is written once: the card shown again a moment later is a new passage
"""


def make_gateway(tmp_path: Path, extra: str, csvs: dict[str, str], **overrides: object) -> Gateway:
    cfg = parse_config(site_toml(tmp_path / "data", **overrides) + extra, "site.toml")
    files = [write_csv(tmp_path / name, text) for name, text in csvs.items()]
    if files:
        import_csv(cfg, files)
    return Gateway(cfg)


def decisions(gw: Gateway, n: int) -> list[tuple[Any, ...]]:
    sql = "SELECT lane, device, kind, value, admitted, reason, flags FROM access_log ORDER BY id"
    found: list[tuple[Any, ...]] = []

    def enough() -> bool:
        found[:] = query(gw, sql)
        return len(found) >= n

    wait_for(enough, f"{n} decisions")
    return found


def online(gw: Gateway, device: str) -> None:
    wait_for(lambda: next(h for h in gw.devices.health if h.device == device).online, f"{device} online")


def people_inside(gw: Gateway) -> int:
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "bot", "guard", None)).result(10)
    with TestClient(create_app(gw)) as client:
        r = client.get("/api/occupancy", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return int(r.json()["people_inside"])


def test_a_visitors_qr_pass_scanned_at_the_door_lets_the_visitor_in(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """A visitor registered at the booth gets a printed QR pass; the door's QR scanner (a serial
    scanner sending one code per line, format = "qr") reads it and the door opens for the visitor."""
    scanner = pty_device("ttyACM-qr")
    gw = gateways(make_gateway(tmp_path, reader("door-qr", "door", scanner.path, "qr"), {}))
    online(gw, "door-qr")
    now = gw.now()
    visit = NewPass(
        "visitor", "王五", now - timedelta(minutes=1), now + timedelta(hours=4), host_building="3栋"
    )
    pid = gw.on_worker(lambda c: create_pass(c, gw.secrets, visit, now, "guard1")).result(timeout=10)
    token = query(gw, "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", pid)[0][0]
    scanner.write(token.encode() + b"\r\n")
    rows = decisions(gw, 1)
    assert rows[0][2:6] == ("qr", token, 1, "visitor"), rows


def test_a_resident_who_went_out_through_the_exit_reader_is_not_inside_any_more(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """Hard anti-passback at a door with an entry and an exit reader: 张三 comes in on her card that
    also opens the barrier for her car, and goes out on her other card (a key fob). She is out: the
    occupancy page does not count her, and her next entry is not refused anti_passback."""
    door_in, door_out = pty_device("ttyUSB-in"), pty_device("ttyUSB-out")
    csvs = {
        "r.csv": RESIDENTS,
        "v.csv": "plate,resident_ref\n皖A33333,R1\n",
        "c.csv": "card,resident_ref,plate\n0000000003,R1,皖A33333\n00000000F0,R1,\n",
    }
    extra = DOOR_OUT_WITH_LOCK + reader("door-in-reader", "door", door_in.path)
    extra += reader("door-out-reader", "door-out", door_out.path)
    gw = gateways(make_gateway(tmp_path, extra, csvs, anti_passback="hard"))
    online(gw, "door-in-reader")
    online(gw, "door-out-reader")
    door_in.write(em4100_frame("0000000003"))  # in, on the card of her car
    decisions(gw, 1)
    door_out.write(em4100_frame("00000000F0"))  # out, on her key fob
    rows = decisions(gw, 2)
    people = people_inside(gw)
    door_in.write(em4100_frame("0000000003"))  # back in, later
    rows = decisions(gw, 3)
    assert (people, rows[1][4:7], rows[2][4:6]) == (0, (1, "resident", ""), (1, "resident")), rows
