"""The card is full and nothing is left for the disk guard to prune: what the guard is told.

The 磁盘空间不足 alarm on the guard's page (and at the centre) said only "data disk 5.0% free with
no snapshots left to prune", while every other storage alarm (retention_short, outbox_quota) gives
its fix. It names the fixes, and the room the upgrades' gateway.db.v*.bak copies take, if any."""

from __future__ import annotations

from collections import namedtuple

from gateway.alarm_texts import render_stored
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

Usage = namedtuple("Usage", "total used free")
FULL = Usage(100_000, 95_000, 5_000)


def _disk_low_words(gw: Gateway) -> tuple[str, str]:
    result = ops(gw).disk_guard(T0, lambda _: FULL)
    assert result.alarm
    (stored,) = gw.conn.execute("SELECT message FROM alarms WHERE kind = 'disk_low'").fetchone()
    return render_stored(stored, "zh"), render_stored(stored, "en")


def test_disk_low_alarm_names_the_upgrade_copies_and_their_size(gw: Gateway) -> None:
    """A year in: the database and an upgrade's gateway.db.v45.bak copy fill the card."""
    with (gw.data_dir / "gateway.db.v45.bak").open("wb") as copy:
        copy.truncate(3 << 20)
    zh, en = _disk_low_words(gw)
    for words in (zh, en):
        assert "gateway.db.v*.bak" in words and "3 MB" in words, words
        assert "site.data_dir" in words and "access_records_days" in words, words
    assert "删除" in zh and "delete" in en


def test_disk_low_alarm_says_what_to_do_without_upgrade_copies(gw: Gateway) -> None:
    zh, en = _disk_low_words(gw)
    assert "5.0%" in zh and "5.0%" in en
    for words in (zh, en):
        assert "site.data_dir" in words and "access_records_days" in words, words
    assert "更大" in zh and "bigger" in en
