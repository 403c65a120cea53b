"""disk_low names the upgrades' gateway.db.v*.bak copies when it is raised; once the installer
deleted them, as it asked, with the card still nearly full, it says what is left to do.

Raising it again kept an open alarm's words (one alarm per kind and source), so the guard's
磁盘空间不足 alarm and the centre went on being told to delete copies that were gone."""

from __future__ import annotations

from collections import namedtuple
from datetime import timedelta

from gateway.alarm_texts import from_stored, render_stored
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

Usage = namedtuple("Usage", "total used free")
FULL = Usage(100_000, 95_000, 5_000)
STILL_FULL = Usage(100_000, 94_000, 6_000)


def _open_disk_low(gw: Gateway) -> str:
    (stored,) = gw.conn.execute(
        "SELECT message FROM alarms WHERE kind = 'disk_low' AND cleared_at IS NULL"
    ).fetchone()
    return str(stored)


def _raised_records(gw: Gateway) -> int:
    return int(
        gw.conn.execute(
            "SELECT count(*) FROM outbox WHERE topic = 'alarm' "
            "AND json_extract(payload, '$.kind') = 'disk_low' AND json_extract(payload, '$.state') = 'raised'"
        ).fetchone()[0]
    )


def test_disk_low_no_longer_names_copies_the_installer_deleted(gw: Gateway) -> None:
    copy = gw.data_dir / "gateway.db.v45.bak"
    with copy.open("wb") as f:
        f.truncate(3 << 20)
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm
    assert "gateway.db.v*.bak" in render_stored(_open_disk_low(gw), "en")
    copy.unlink()  # what the alarm asked
    assert guard.disk_guard(T0 + timedelta(seconds=30), lambda _: STILL_FULL).alarm
    stored = _open_disk_low(gw)
    for lang in ("zh", "en"):
        words = render_stored(stored, lang)
        assert "gateway.db.v*.bak" not in words, (
            f"no gateway.db.v*.bak copy is left in {gw.data_dir}, and the open disk_low alarm says: {words}"
        )
        assert "site.data_dir" in words and "access_records_days" in words, words
    assert _raised_records(gw) == 2  # the centre is sent the new words


def test_disk_low_free_percent_alone_does_not_resend_the_alarm(gw: Gateway) -> None:
    """The guard looks every 30 s and the free room moves a little each time: the centre is not
    sent a record for each look."""
    with (gw.data_dir / "gateway.db.v45.bak").open("wb") as f:
        f.truncate(3 << 20)
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm
    assert guard.disk_guard(T0 + timedelta(seconds=30), lambda _: STILL_FULL).alarm
    said = from_stored(_open_disk_low(gw))
    assert said is not None and said.params["free_percent"] == 5.0
    assert _raised_records(gw) == 1


def test_disk_low_names_copies_an_upgrade_left_while_it_was_open(gw: Gateway) -> None:
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm
    with (gw.data_dir / "gateway.db.v45.bak").open("wb") as f:
        f.truncate(3 << 20)
    assert guard.disk_guard(T0 + timedelta(seconds=30), lambda _: FULL).alarm
    words = render_stored(_open_disk_low(gw), "en")
    assert "gateway.db.v*.bak" in words and "3 MB" in words, words
