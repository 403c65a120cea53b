"""disk_low's words once the gateway.db.v*.bak copies it named are deleted and the card climbs above
alarm_free_percent (10%) but not yet above prune_free_percent (15%): the alarm stays open until 15%
(hysteresis), and it was never looked at again in between, so it went on telling the guard and the
centre to delete copies that were gone. Found by review 51a."""

from __future__ import annotations

from collections import namedtuple
from datetime import timedelta

from gateway.alarm_texts import from_stored, render_stored
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

Usage = namedtuple("Usage", "total used free")
FULL = Usage(100_000, 95_000, 5_000)
# deleting the copies brought the card above the alarm threshold (10%), not yet above the prune one (15%)
ROOMIER = Usage(100_000, 88_000, 12_000)
ROOMIER_STILL = Usage(100_000, 87_000, 13_000)
ROOMY = Usage(100_000, 80_000, 20_000)


def _open_disk_low(gw: Gateway) -> str | None:
    row = gw.conn.execute(
        "SELECT message FROM alarms WHERE kind = 'disk_low' AND cleared_at IS NULL"
    ).fetchone()
    return None if row is None else str(row[0])


def _raised_records(gw: Gateway) -> int:
    return int(
        gw.conn.execute(
            "SELECT count(*) FROM outbox WHERE topic = 'alarm' "
            "AND json_extract(payload, '$.kind') = 'disk_low' AND json_extract(payload, '$.state') = 'raised'"
        ).fetchone()[0]
    )


def _copy(gw: Gateway, mb: int) -> None:
    with (gw.data_dir / "gateway.db.v45.bak").open("wb") as f:
        f.truncate(mb << 20)


def test_disk_low_open_in_band_stops_naming_copies_deleted(gw: Gateway) -> None:
    """The installer deletes the gateway.db.v*.bak copies the alarm named and the card goes from 5% to
    12% free: the alarm stays open (until 15%), and says what is left to do, as docs/parking.md
    promises, here and at the centre."""
    _copy(gw, 7)
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm
    (gw.data_dir / "gateway.db.v45.bak").unlink()
    assert not guard.disk_guard(T0 + timedelta(seconds=30), lambda _: ROOMIER).alarm
    stored = _open_disk_low(gw)
    assert stored is not None  # documented: open until above prune_free_percent
    for lang in ("zh", "en"):
        words = render_stored(stored, lang)
        assert "gateway.db.v*.bak" not in words, (
            f"no gateway.db.v*.bak copy is left in {gw.data_dir}, and the open disk_low alarm says: {words}"
        )
        assert "site.data_dir" in words and "access_records_days" in words, words
    assert _raised_records(gw) == 2  # the centre is sent the new words


def test_disk_low_in_band_is_not_sent_again_when_only_the_free_room_moves(gw: Gateway) -> None:
    """Between the thresholds the guard still looks every 30 s: the free room alone moving sends the
    centre nothing, as below the alarm threshold."""
    _copy(gw, 3)
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm
    guard.disk_guard(T0 + timedelta(seconds=30), lambda _: ROOMIER)
    guard.disk_guard(T0 + timedelta(seconds=60), lambda _: ROOMIER_STILL)
    said = from_stored(_open_disk_low(gw) or "")
    assert said is not None and said.key == "disk_low.copies" and said.params["free_percent"] == 5.0, said
    assert _raised_records(gw) == 1


def test_no_disk_low_is_raised_between_the_thresholds(gw: Gateway) -> None:
    """Rewording keeps the hysteresis: a card between 10% and 15% free with no alarm open raises none,
    and one open clears above 15% as before."""
    guard = ops(gw)
    guard.disk_guard(T0, lambda _: ROOMIER)
    assert _open_disk_low(gw) is None
    assert guard.disk_guard(T0 + timedelta(seconds=30), lambda _: FULL).alarm
    guard.disk_guard(T0 + timedelta(seconds=60), lambda _: ROOMY)
    assert _open_disk_low(gw) is None
