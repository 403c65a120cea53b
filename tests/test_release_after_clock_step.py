"""A release (恢复) after NTP stepped the box's clock back takes the hold off record (review
s43r2disk, the first rule): whether a hold came after the release is the order they were made in,
not their times."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.runtime import hand_opens
from gateway.runtime.gateway import Gateway
from tests.ui.conftest import fill_the_disk, free_the_disk, make_config, start_site, stored


def test_a_release_after_ntp_stepped_the_clock_back_takes_the_hold_off_record(tmp_path: Path) -> None:
    """The box's clock ran 2 minutes fast (a Pi whose clock drifted; docs/mqtt.md speaks of NTP
    stepping a Pi's clock). A guard holds car-in open for a convoy (常开) on the fast clock; NTP then
    steps the clock back; the convoy has passed and the guard presses 恢复, on a disk with room.
    The barrier comes down and the page shows the lane normal. After the next restart (a power cut
    that night) the barrier must stay down: the lane was released. It went up again on its own,
    held by the guard who released it: the release kept the hold on record, since its time is
    before the hold's (hand_lane_records.ReleasedByHand compared the times; before the full-disk change the
    release always took the hold off record)."""
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    real_now = site.gw.by_hand.now
    try:
        site.gw.by_hand.now = lambda: real_now() + timedelta(minutes=2)  # the clock runs fast
        site.gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        site.gw.by_hand.now = real_now  # NTP steps it back
        done = site.gw.by_hand.release_lane("car-in", "保安 王", "车队已过")
        assert done.audit_id is not None  # written at once: the disk has room
        assert "car-in" not in site.gw.by_hand.held
        on_record = stored(site, "SELECT lane, mode FROM lane_modes")
    finally:
        site.gw.stop()
    again = Gateway(cfg)
    again.start()
    try:
        held_after_restart = dict(again.by_hand.held)
    finally:
        again.stop()
    assert held_after_restart == {}, f"the released lane was held again at start: {held_after_restart}"
    assert on_record == [], f"released, yet still on record as {on_record}"


def test_a_hold_pressed_after_a_waiting_release_stands_whatever_the_clock_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """car-in is held; the card fills and the guard lets it down (恢复: its record waits in memory).
    NTP steps the clock back; space is freed and a second convoy comes: the guard holds the lane
    again, written at once. The release's record, written after that (here: at the stop), ends
    the hold it ended, not the one pressed after it, though its time is the later: after a restart
    the lane is still held, by the second holder."""
    # The release waits until the stop (write_at_stop): not tried again by the worker when idle or
    # after a job, nor by the operations thread's looks (write_now), once the disk has room.
    tried = hand_opens.WaitingRecords.write_waiting
    monkeypatch.setattr(
        hand_opens.WaitingRecords,
        "write_waiting",
        lambda self, conn, now=False: tried(self, conn, now) if now else None,
    )
    monkeypatch.setattr(hand_opens.WaitingRecords, "write_now", lambda self, conn: self.kept_now())
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    real_now = site.gw.by_hand.now
    try:
        site.gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        fill_the_disk(site)
        assert site.gw.by_hand.release_lane("car-in", "保安 王", "车队已过").audit_id is None
        site.gw.by_hand.now = lambda: real_now() - timedelta(minutes=2)  # NTP steps it back
        free_the_disk(site)
        assert site.gw.by_hand.hold_lane("car-in", "保安 李", "第二车队").audit_id is not None
        assert site.gw.by_hand.unrecorded_opens() == 1  # the release still waits
    finally:
        site.gw.stop()  # writes the release
    with closing(sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True)) as conn:
        releases = conn.execute("SELECT count(*) FROM audit WHERE action = 'lane.release'").fetchone()
        on_record = conn.execute("SELECT lane, mode, set_by FROM lane_modes").fetchall()
    assert releases == (1,)
    assert on_record == [("car-in", "open", "保安 李")], on_record
