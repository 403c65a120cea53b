"""Personal data kept past its retention (review 54, privacy): a visitor's upstream message at a
site with MQTT off, an upgrade copy of the database years old, and the journal's plates."""

from __future__ import annotations

import configparser
import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config.parking import Retention
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

D = timedelta(days=1)
START = T0 - 40 * D  # a visit 40 days ago: past visitors_days (30)


def _visit(gw: Gateway) -> None:
    new = NewPass(
        kind="visitor", name="钱七", valid_from=START, valid_to=START + timedelta(hours=4),
        phone="13812345678", id_number="E12345678", id_kind="passport", host_building="3栋",
        host_unit="2单元", plate="浙A99999", company="某公司", reason="探亲",
    )  # fmt: skip
    create_pass(gw.conn, gw.secrets, new, START, "guard1")


def _pass_messages(gw: Gateway) -> list[dict[str, object]]:
    return [
        json.loads(p)["pass"] for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'")
    ]


def test_a_visit_at_a_site_without_mqtt_leaves_no_message_past_visitors_days(
    make_gw: Callable[..., Gateway],
) -> None:
    """With MQTT off nothing will ever send a visit's message: retention stripped it of the phone
    and ID but kept it, with the visitor's masked name, plate, the unit visited and the reason,
    until the access records' 180 days, five months past visitors_days."""
    gw = make_gw()
    _visit(gw)
    assert ops(gw).retention(T0)["visitor_passes"] == 1
    assert _pass_messages(gw) == []


def test_with_mqtt_on_an_undelivered_visit_still_goes_up_without_the_numbers(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[mqtt]\nenabled = true\n")
    _visit(gw)
    assert ops(gw).retention(T0)["visitor_passes"] == 1
    (kept,) = _pass_messages(gw)
    # The kind of document goes with its number: a passport says where its holder is from.
    assert (kept["phone"], kept["id_number"], kept["id_kind"], kept["occupants"]) == ("", "", "", [])


def test_an_upgrade_copy_older_than_visitors_days_is_told_once(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """An upgrade's copy of the database keeps visitors' masked numbers and their hashes, which
    retention deletes from the database only: a copy 400 days old stayed without a word."""
    gw = make_gw()
    copy = gw.data_dir / "gateway.db.v40.bak"
    copy.write_bytes(gw.db_path.read_bytes())
    old = (T0 - 400 * D).timestamp()
    os.utime(copy, (old, old))
    fresh = gw.data_dir / "gateway.db.v52.bak"
    fresh.write_bytes(b"")
    os.utime(fresh, (T0.timestamp(), T0.timestamp()))
    watching = ops(gw)
    with caplog.at_level(logging.WARNING):
        watching.retention(T0)
        watching.retention(T0 + D)
    told = [r.getMessage() for r in caplog.records if ".bak" in r.getMessage()]
    assert len(told) == 1 and "gateway.db.v40.bak is 400 days old" in told[0], told
    assert "fix=delete it" in told[0]
    assert copy.exists()  # the way back to the old version: the installer's to delete


def test_the_journal_is_kept_no_longer_than_the_access_records() -> None:
    """Each lane decision's journal line names its plate, lane and time: the shipped journald
    drop-in keeps the journal as long as the access records are kept by default, not for good."""
    dropin = Path(__file__).resolve().parents[2] / "systemd" / "journald-estate-gateway.conf"
    kept = configparser.ConfigParser()
    kept.optionxform = str  # type: ignore[assignment,method-assign]  # journald's keys keep their case
    kept.read_string(dropin.read_text(encoding="utf-8"))
    days = int(kept["Journal"]["MaxRetentionSec"].removesuffix("day"))
    assert days == Retention().access_records_days


def test_the_database_zeroes_what_it_deletes(make_gw: Callable[..., Gateway]) -> None:
    """Retention's deletes must not stay readable in the file's free pages: the gateway asks SQLite
    to zero them rather than rely on how the SQLite it runs on was built."""
    gw = make_gw()
    assert gw.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
