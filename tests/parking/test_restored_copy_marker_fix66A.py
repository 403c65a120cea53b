"""README 'Replacing a box' (Review 66 A2): the new box installed as above starts once on a fresh
gateway.db (`systemctl enable --now`), on the Pi's stale fake-hwclock time, and writes its boot
marker (boot-alarms.json) for that database; the old box's copy is then put in its place in the same
boot. The marker describes the fresh database, not the copy: when the clock is set, the copy's rows
(a car parked two days before) are not taken for rows this boot wrote on the stale clock, and its
fee is the two days', as on the control whose marker was deleted with the fresh database."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.database import DB_NAME
from gateway.timefmt import from_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
STALE = T0 - 20 * H  # the new Pi's fake-hwclock: saved when it was shut down at the office yesterday
PLATE = "苏E12345"  # a temporary car parked two days ago, on the old box


def _swap(make_gw: Callable[..., Gateway], *, delete_marker: bool) -> tuple[timedelta, int | None, Gateway]:
    old = make_gw()
    show(old, "car-in", PLATE, T0 - 48 * H)
    copy = old.data_dir.parent / "copy.db"
    with sqlite3.connect(copy) as target:
        old.conn.backup(target)
    new = make_gw()  # the new box, installed as above
    a_new_boot(new)  # the Pi has just booted
    steady = Steady()
    steady.s = 300
    fresh = ops(new, started=STALE + 300 * S, steady=steady)  # `enable --now`, on the stale clock
    fresh.start(lambda: STALE + 300 * S)
    fresh.stop()
    cfg, data = new.site.config, new.data_dir
    new.conn.close()
    gone = [DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"] + (["boot-alarms.json"] if delete_marker else [])
    for name in gone:  # the service stopped, the copy put in
        (data / name).unlink(missing_ok=True)
    shutil.copy(copy, data / DB_NAME)
    restored = Gateway(cfg)
    steady.s = 900
    run = ops(restored, started=STALE + 900 * S, steady=steady)
    run.start(lambda: STALE + 900 * S)
    steady.s = 960
    run.tick(T0)  # NTP sets the clock: a forward step of about 20 hours
    run.stop()
    (entered,) = restored.conn.execute("SELECT entered_at FROM stays WHERE plate = ?", (PLATE,)).fetchone()
    out = show(restored, "car-out", PLATE, T0 + H)
    return from_db(entered) - (T0 - 48 * H), out.fee_fen, restored


def test_a_copy_restored_after_the_fresh_start_keeps_its_times(make_gw: Callable[..., Gateway]) -> None:
    moved, fee, restored = _swap(make_gw, delete_marker=False)
    _, control_fee, _ = _swap(make_gw, delete_marker=True)
    assert moved == timedelta(0)
    assert fee == control_fee and fee is not None and fee > 0
    redated = restored.conn.execute("SELECT count(*) FROM outbox WHERE payload LIKE '%redated%'").fetchone()
    assert redated == (0,)  # no stay record of the copy's sent up again with a moved time


def test_the_same_database_in_a_new_stream_keeps_its_boot_rows(make_gw: Callable[..., Gateway]) -> None:
    """A marker naming one of the database's own streams still holds: the database started a stream
    of its own since (a copy put back with its marker, README going back; outbox-stream.json lost)
    and the car let in on the stale clock before the restart is re-dated when NTP sets it."""
    gw = make_gw()
    a_new_boot(gw)
    steady = Steady()
    steady.s = 300
    first = ops(gw, started=STALE + 300 * S, steady=steady)
    first.start(lambda: STALE + 300 * S)
    show(gw, "car-in", PLATE, STALE + 400 * S)  # in on the stale clock, 100 s after the start
    first.stop()
    cfg, data = gw.site.config, gw.data_dir
    gw.conn.close()
    (data / "outbox-stream.json").unlink()  # the restart starts a restored_database stream
    again = Gateway(cfg)
    assert again.conn.execute("SELECT count(*) FROM outbox_streams").fetchone() == (2,)
    steady.s = 900
    run = ops(again, started=STALE + 900 * S, steady=steady)
    run.start(lambda: STALE + 900 * S)
    steady.s = 960
    run.tick(T0)  # NTP sets the clock: the car came in 560 s before now
    run.stop()
    (entered,) = again.conn.execute("SELECT entered_at FROM stays WHERE plate = ?", (PLATE,)).fetchone()
    assert abs(from_db(entered) - (T0 - 560 * S)) < 5 * S
