"""Every gateway id the centre keys by comes with the stream it was made in, and keeps that stream
(docs/mqtt.md, *Ids and their streams*). Review 64Rd's faults 1 to 3 (64j).

After README's going back (the older copy put back; also a power cut with storage.sync = "normal",
or outbox-stream.json lost) the database goes on in a new stream, and hands out again the ids the
replaced database gave. An id sent without its stream then names, keyed by the record's own stream,
nothing the centre has, and keyed by the id alone, two rows."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import SiteConfig, parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.runtime.outbox_stream import HIGH_WATER_NAME, HighWater, write_high_water
from gateway.store.corrections import correct_plate
from gateway.store.database import DB_NAME
from gateway.store.outbox import _body, _insert, enqueue, highest_seq, streams
from gateway.store.passes import NewPass, Occupant, create_pass
from gateway.store.payment_method import correct_method
from gateway.store.registry_credentials import set_blocked
from gateway.sync.uplink import body_of, stream_of
from gateway.timefmt import to_db
from tests.parking.conftest import PARKING_TOML, T0, parking_config, seed
from tests.parking.test_lookalike_pair_corrected import LOOKALIKE, REAL, SOUTH
from tests.rush_helpers import RELAYS
from tests.test_store import database_at

M = timedelta(minutes=1)
H = timedelta(hours=1)


def _published(gw: Gateway) -> dict[str, dict[str, Any]]:
    """The records as the link publishes them, by event id."""
    known = streams(gw.conn)
    site = gw.site.config.site.id
    rows = gw.conn.execute("SELECT seq, payload FROM outbox ORDER BY seq").fetchall()
    published = (json.loads(body_of(seq, stream_of(known, seq), site, p)) for seq, p in rows)
    return {m["event_id"]: m for m in published}


class Site:
    """A site's data directory, its database copied aside, then put back (README, going back)."""

    def __init__(self, cfg: SiteConfig, tmp_path: Path) -> None:
        self.cfg = cfg
        self.data = cfg.site.data_dir
        self.copy = tmp_path / "copy"
        self.centre: dict[str, dict[str, Any]] = {}

    def copy_aside(self) -> None:
        self.copy.mkdir()
        for f in self.data.glob(f"{DB_NAME}*"):
            shutil.copy2(f, self.copy / f.name)

    def sent(self, gw: Gateway) -> None:
        """What the gateway queued reached the centre: the link wrote the high-water file first."""
        self.centre.update(_published(gw))
        write_high_water(self.data, HighWater(streams(gw.conn)[-1][1], highest_seq(gw.conn)))

    def put_back(self) -> None:
        for f in self.data.glob(f"{DB_NAME}*"):
            f.unlink()
        for f in self.copy.iterdir():
            shutil.copy2(f, self.data / f.name)


def _pass(gw: Gateway, name: str, plate: str, at: datetime) -> int:
    visit = NewPass(
        "visitor",
        name,
        at,
        at + timedelta(days=1),
        host_building="3栋",
        host_unit="2单元",
        plate=plate,
        occupants=(Occupant(name),),
    )
    return create_pass(gw.conn, gw.secrets, visit, at, "guard1")


def _show(gw: Gateway, lane: str, plate: str, at: datetime) -> Any:
    return gw.handle(Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera"))


def test_an_entry_and_a_block_name_a_booth_pass_of_the_replaced_database_by_its_stream(
    tmp_path: Path,
) -> None:
    d = tmp_path / "site"
    d.mkdir()
    cfg = parking_config(d / "data", reentry="void")
    seed(cfg, d)
    site = Site(cfg, tmp_path)

    gw = Gateway(cfg)
    a = _pass(gw, "钱七", "苏E66666", T0)  # visitor A, registered before the copy
    gw.conn.close()
    site.copy_aside()
    gw = Gateway(cfg)  # the database later replaced
    b = _pass(gw, "孙八", "苏E77777", T0 + 60 * M)  # visitor B
    site.sent(gw)
    gw.conn.close()

    site.put_back()
    gw = Gateway(cfg)  # the copy: a new stream
    c = _pass(gw, "周九", "苏E88888", T0 + 120 * M)  # visitor C, the id B had
    assert b == c
    for plate, k in (("苏E66666", 1), ("苏E88888", 2)):
        ev = _show(gw, "car-in", plate, T0 + (130 + k) * M)
        assert ev.admitted and ev.reason == "visitor", ev
    qr = gw.conn.execute("SELECT id FROM credentials WHERE pass_id = ? AND kind = 'qr'", (a,)).fetchone()[0]
    set_blocked(gw.conn, T0 + 140 * M, "guard1", qr, True, "二维码丢了")  # A's printout lost
    site.centre.update(_published(gw))
    gw.conn.close()

    records = list(site.centre.values())
    passes = {
        (m["pass"]["id_stream"], m["pass"]["id"]): m["pass"]["plate"]
        for m in records
        if m["type"] == "pass" and m["op"] == "created"
    }
    entries = {m["vehicle"]["plate"]: m["holder"] for m in records if m["type"] == "access" and m["holder"]}
    for plate, holder in entries.items():
        assert passes.get((holder.get("id_stream"), holder["id"])) == plate, (
            f"{plate}'s entry names holder {holder}: the centre's passes are {passes}"
        )
    (block,) = [m for m in records if m["type"] == "registry" and m["op"] == "block"]
    assert passes.get((block.get("pass_stream"), block["pass_id"])) == "苏E66666", block


def test_a_residents_entry_names_no_stream_beside_its_holder(tmp_path: Path) -> None:
    d = tmp_path / "site"
    d.mkdir()
    cfg = parking_config(d / "data")
    seed(cfg, d)
    gw = Gateway(cfg)
    assert _show(gw, "car-in", "皖C44444", T0).admitted  # R3's monthly car
    (record,) = [m for m in _published(gw).values() if m["type"] == "access"]
    gw.conn.close()
    assert record["holder"]["kind"] == "resident" and record["holder"]["ref"]
    assert record["holder"]["id_stream"] is None  # the centre keys a resident by its ref


def test_a_stay_given_back_after_going_back_is_named_with_its_stream(tmp_path: Path) -> None:
    d = tmp_path / "site"
    d.mkdir()
    values = {
        "data_dir": d / "data",
        "reentry": "charge",
        "shared": "temporary",
        "exit_without_entry": "guard",
        "capacity": 6,
        "extra": RELAYS + SOUTH,
    }
    cfg = parse_config(textwrap.dedent(PARKING_TOML.format(**values)), "site.toml")
    seed(cfg, d)
    site = Site(cfg, tmp_path)

    gw = Gateway(cfg)
    assert _show(gw, "car-in-b", LOOKALIKE, T0).admitted  # the south car parks: stay 1
    gw.conn.close()
    site.copy_aside()
    gw = Gateway(cfg)
    assert _show(gw, "car-in", "苏E55555", T0 + H).admitted  # another car, in the replaced database
    site.sent(gw)
    gw.conn.close()

    site.put_back()
    gw = Gateway(cfg)
    north = _show(gw, "car-in", LOOKALIKE, T0 + 2 * H)  # really 苏E12345, misread
    assert "already_inside" in north.flags
    assert correct_plate(gw.conn, north.event_id, REAL, "guard1", T0 + 2 * H + 5 * M).stay_moved
    site.centre.update(_published(gw))
    gw.conn.close()

    records = list(site.centre.values())
    stays: dict[tuple[str, int], set[str]] = {}
    for m in records:
        if m.get("stay_id") is not None and "stay_stream" in m:
            stays.setdefault((m["stay_stream"], m["stay_id"]), set()).add(m["plate"])
    (fixed,) = [m for m in records if m["type"] == "plate_correction"]
    assert fixed["stay_closed_again_stream"] is None and fixed["entry_stay_closed_stream"] is None
    assert stays.get((fixed.get("stay_reopened_stream"), fixed["stay_reopened"])) == {LOOKALIKE}, (
        f"the correction names {fixed}: the centre's stays are {stays}"
    )


def _correct(gw: Gateway, receipt: str, method: str, at: datetime) -> dict[str, Any]:
    correct_method(
        gw.conn, receipt, method, "按错了", by="admin", admin=True, now=at, tz=gw.site.tz, max_bytes=200_000
    )
    (payload,) = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'payment' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return dict(json.loads(payload))


def _pay(conn: Any, receipt: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO payments (subject, plate, at, fee_until, amount_fen, method, receipt, actor) "
        "VALUES ('plate:苏E99999', '苏E99999', ?, ?, 700, 'qr', ?, 'guard1')",
        (to_db(at), to_db(at), receipt),
    )


def test_a_payment_from_before_streams_keeps_the_stream_of_the_upgrade(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = database_at(data / DB_NAME, 27)  # a gateway from before streams
    _pay(conn, "r1", T0 - 24 * H)
    with conn:
        enqueue(conn, "test", {"n": 1}, T0 - 24 * H)  # it had sent records
    conn.close()
    cfg = parking_config(data)

    gw = Gateway(cfg)  # the upgrade: its stream opens
    (upgrade,) = gw.conn.execute("SELECT stream FROM outbox_streams").fetchone()
    first = _correct(gw, "r1", "cash", T0 + H)
    gw.conn.close()
    (data / HIGH_WATER_NAME).unlink()  # README: the file lost, a new stream

    gw = Gateway(cfg)
    assert len(streams(gw.conn)) == 2
    second = _correct(gw, "r1", "qr", T0 + 2 * H)
    gw.conn.close()
    assert (first["receipt_stream"], second["receipt_stream"]) == (upgrade, upgrade)


def _stream_of_old(conn: Any, first_seq: int, stream: str, at: datetime) -> None:
    """A stream as the release before this one opened it (its rows kept no stream)."""
    conn.execute(
        "INSERT INTO outbox_streams (first_seq, stream, reason, started_at) "
        "VALUES (?, ?, 'restored_database', ?)",
        (first_seq, stream, to_db(at)),
    )


def test_rows_made_in_an_older_stream_keep_it_through_the_upgrade(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = database_at(data / DB_NAME, 65)  # the release before this one
    with conn:
        _stream_of_old(conn, 1, "s1s1s1s1", T0 - 72 * H)
    with conn:  # 苏E99999 pays 7元 and the guard taps QR; its record goes up in s1
        _pay(conn, "r1", T0 - 48 * H)
        payment = {"at": (T0 - 48 * H).isoformat(), "plate": "苏E99999", "receipt": "r1", "method": "qr"}
        _insert(conn, "e-r1", "payment", _body("payment", "e-r1", payment), T0 - 48 * H)
    with conn:  # the copy put back (or the file lost): that release opens s2
        _stream_of_old(conn, highest_seq(conn) + 5, "s2s2s2s2", T0 - 24 * H)
    with conn:  # in s2 a car comes in, then the guard records one inside since before the copy
        for plate, entered in (("苏E11111", T0 - 20 * H), ("苏E22222", T0 - 30 * H)):
            conn.execute(
                "INSERT INTO stays (subject, plate, entered_at) VALUES (?, ?, ?)",
                (f"plate:{plate}", plate, to_db(entered)),
            )
    write_high_water(data, HighWater("s2s2s2s2", highest_seq(conn)))
    conn.close()

    gw = Gateway(parking_config(data))  # the upgrade to this version
    corrected = _correct(gw, "r1", "cash", T0)
    made_in = dict(gw.conn.execute("SELECT plate, id_stream FROM stays"))
    gw.conn.close()
    assert corrected["receipt_stream"] == "s1s1s1s1", corrected
    # the car recorded inside came in before s2 opened, but its stay was made (and sent) in s2
    assert made_in == {"苏E11111": "s2s2s2s2", "苏E22222": "s2s2s2s2"}
