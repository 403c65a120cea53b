"""A box quiet for longer than retention keeps each table's newest row until a newer one is
written, so no id is given to a second record (SQLite gives a new row the id after the highest
one left): an audit row's alarm:N, a payment's stay and a boot's first row name one record."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from tests.parking.conftest import T0, show
from tests.parking.test_operations import offline, ops, tap

D = timedelta(days=1)
QUIET_SINCE = T0 - 300 * D  # access_records_days 180


def _ids(gw: Gateway, table: str) -> list[int]:
    return [r[0] for r in gw.conn.execute(f"SELECT id FROM {table} ORDER BY id")]


def _a_day_of_use(gw: Gateway, day: timedelta, plate: str) -> None:
    at = T0 - day
    show(gw, "car-in", plate, at)
    show(gw, "car-out", plate, at + timedelta(minutes=20))
    raise_alarm(gw.conn, kind="device_offline", source=f"cam-{plate}", text=offline("cam"), at=at)
    clear_alarm(gw.conn, kind="device_offline", source=f"cam-{plate}", at=at + timedelta(minutes=5))
    tap(gw, at, "cp-a")


def test_a_quiet_box_keeps_the_newest_rows_and_never_gives_their_ids_again(gw: Gateway) -> None:
    _a_day_of_use(gw, 301 * D, "苏E10001")
    _a_day_of_use(gw, 300 * D, "苏E10002")
    tables = ("access_log", "stays", "alarms", "patrol_taps")
    newest = {t: max(_ids(gw, t)) for t in tables}
    counts = ops(gw).retention(T0)
    assert counts["stays"] == counts["alarms"] == 1 and counts["patrol"] == 1
    for table in tables:
        assert _ids(gw, table)[-1] == newest[table], f"{table}: the newest row went, its id free again"

    _a_day_of_use(gw, D, "苏E10003")  # the box is used again
    for table in tables:
        assert min(_ids(gw, table)) == newest[table]
        assert _ids(gw, table)[1] > newest[table], f"{table}: a new row took an old id"
    ops(gw).retention(T0)
    for table in tables:  # and the old row goes once a newer one stands above it
        assert min(_ids(gw, table)) > newest[table], table
