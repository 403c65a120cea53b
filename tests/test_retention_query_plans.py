"""The hourly retention pass deletes in batches, each its own turn on the decision worker, so that a
lane never waits long (docs/parking.md, Retention). A batch must cost what it deletes, not what the
box keeps: a busy estate keeps about 1,000,000 access records and as many delivered outbox rows
(180 days), and a card at the door waits for whatever the batch reads.

Counted in SQLite's own work (its virtual machine's steps) and read from its query plans, not timed:
the test machine's speed varies. The same batch on a store of 10,000 records and on one of 100,000
must cost about the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import retention as prune
from gateway.store.database import open_database
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import to_db
from tests.conftest import query_plan
from tests.parking.conftest import T0, parking_config, seed

D = timedelta(days=1)
SMALL, BIG = 10_000, 100_000


def _fill_history(gw: Gateway, rows: int, days: int = 170) -> None:
    """`rows` access records spread over the `days` before T0, each with its outbox row delivered:
    copies of one real decision's rows, so every column is as the gateway writes it. All inside
    retention (180 days): none is due for deletion."""
    conn = gw.conn
    ev = gw.handle(Presented("car-in", "plate", "皖A11111", 0.97, T0 - (days + 1) * D, "cam"))
    conn.execute("BEGIN")
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
        INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
            billing, flags, holder_kind, holder_id, vehicle_id, slot_id, snapshot, class, direction,
            lane_type, car)
        SELECT printf('hist-%09d', i),
               strftime('%Y-%m-%dT%H:%M:%S', :start, printf('+%d seconds', i * :span / :rows))
                   || '.000000+00:00',
               lane, device, kind, value, confidence, admitted, reason, billing, flags, holder_kind,
               holder_id, vehicle_id, slot_id, snapshot, class, direction, lane_type, car
        FROM n, (SELECT * FROM access_log WHERE event_id = :ev)
        """,
        {"rows": rows, "start": to_db(T0 - days * D)[:19], "span": days * 86400, "ev": ev.event_id},
    )
    conn.execute(
        """
        INSERT INTO outbox (event_id, topic, payload, created_at, sent_at)
        SELECT a.event_id, o.topic, o.payload, a.at, a.at
        FROM access_log a, (SELECT topic, payload FROM outbox WHERE event_id = :ev) o
        WHERE a.event_id LIKE 'hist-%'
        """,
        {"ev": ev.event_id},
    )
    conn.execute("COMMIT")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Gateway]]:
    """A box with SMALL and one with BIG access records (MQTT on), each record delivered upstream.
    Built once: the tests here delete nothing of that history."""
    made: dict[int, Gateway] = {}
    for rows in (SMALL, BIG):
        d = tmp_path_factory.mktemp(f"history{rows}")
        cfg = parking_config(d / "data", extra="[mqtt]\nenabled = true\n")
        seed(cfg, d)
        made[rows] = gw = Gateway(cfg)
        _fill_history(gw, rows)
    yield made
    for gw in made.values():
        gw.conn.close()


def _old_visits(gw: Gateway, count: int) -> list[int]:
    """`count` visitors registered 40 days before T0 (10 days past retention.visitors_days), their
    registrations delivered upstream: the next pass deletes them and their messages."""
    start = T0 - 40 * D
    ids = []
    for i in range(count):
        new = NewPass(
            kind="visitor",
            name="钱七",
            valid_from=start,
            valid_to=start + timedelta(hours=4),
            phone="13812345678",
            id_number="11010519491231002X",
            host_building="3栋",
            host_unit="2单元",
            plate=f"浙A9{i:04d}",
        )
        ids.append(create_pass(gw.conn, gw.secrets, new, start, "guard1"))
    gw.conn.execute(
        "UPDATE outbox SET sent_at = ? WHERE topic = 'pass' AND sent_at IS NULL",
        (to_db(start + timedelta(minutes=1)),),
    )
    return ids


def _vm_steps(conn: sqlite3.Connection, run: Callable[[], object]) -> int:
    """SQLite virtual-machine steps `run` takes, the work its statements do, whatever the machine's speed."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(count, 1)
    try:
        run()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


def _visitor_batch(gw: Gateway) -> int:
    _old_visits(gw, 20)
    visitors_from = T0 - timedelta(days=gw.site.config.retention.visitors_days)
    deleted: list[int] = []
    steps = _vm_steps(gw.conn, lambda: deleted.append(prune.prune_visitors(gw.conn, visitors_from)))
    assert deleted == [20]
    assert gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'pass'").fetchone()[0] == 0
    return steps


def test_deleting_twenty_expired_visitor_passes_costs_the_same_however_long_the_outbox(
    stores: dict[int, Gateway],
) -> None:
    """Each hour the visitors whose passes ended 30 days ago go, and with them their `pass` messages
    upstream. Found by a scan of every outbox row (json_extract on each pass row, no index), that
    one batch of 20 passes held the decision worker while it read a busy box's 1,000,000 rows
    twice: a resident's card at the door waited about half a second. It reads their own messages."""
    small, big = _visitor_batch(stores[SMALL]), _visitor_batch(stores[BIG])
    assert big < 2 * small, (
        f"deleting 20 expired passes took {small:,} SQLite steps with {SMALL:,} outbox rows "
        f"and {big:,} with {BIG:,}: it reads the whole outbox on the decision worker"
    )


@pytest.mark.parametrize("upstream", [True, False], ids=["MQTT on", "MQTT off"])
def test_an_hourly_pass_with_no_access_record_due_costs_the_same_however_long_the_log(
    stores: dict[int, Gateway], upstream: bool
) -> None:
    """Every hourly pass runs a batch of access records on the decision worker, and most hours
    almost nothing is due (the hour that just passed 180 days). Walking the log in id order up to
    its newest record read every record kept: 1,000,000 on a busy box, 170-280 ms of the worker
    every hour, the lanes waiting. It reads only the records older than the cutoff."""
    steps = {}
    for rows, gw in stores.items():
        cutoff = T0 - timedelta(days=gw.site.config.retention.access_records_days)
        before = gw.conn.execute("SELECT count(*) FROM access_log").fetchone()[0]
        run = partial(prune.prune_access_records, gw.conn, cutoff, upstream=upstream)
        steps[rows] = _vm_steps(gw.conn, run)
        assert gw.conn.execute("SELECT count(*) FROM access_log").fetchone()[0] == before  # none due
    assert steps[BIG] < 2 * steps[SMALL], (
        f"a pass with nothing due took {steps[SMALL]:,} SQLite steps at {SMALL:,} records and "
        f"{steps[BIG]:,} at {BIG:,}: it reads the whole log on the decision worker"
    )


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = open_database(tmp_path / "gateway.db")
    try:
        yield db.conn
    finally:
        db.conn.close()


@pytest.mark.parametrize("sql", ["_DELIVERED", "_OLD"])
def test_the_access_records_due_are_found_through_the_time_index_in_its_order(
    conn: sqlite3.Connection, sql: str
) -> None:
    """Bounded by the cutoff on access_log_at and read in that index's order (oldest first): no
    walk of the whole log by id, and no sort of every old record for each batch."""
    args = {"cutoff": to_db(T0), "batch": prune.BATCH}
    plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {getattr(prune, sql)}", args))
    assert "USING INDEX access_log_at (at<?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_an_expired_pass_s_messages_are_found_through_their_own_index(conn: sqlite3.Connection) -> None:
    """The statements prune_visitors runs on the outbox, as run: each searches migration 33's index
    of pass messages by pass id, none scans the outbox."""
    ran: list[str] = []
    ended = to_db(T0 - 40 * D)
    conn.execute(
        "INSERT INTO passes (kind, name, valid_from, valid_to, created_at) "
        "VALUES ('visitor', '钱七', ?, ?, ?)",
        (ended, ended, ended),
    )
    conn.set_trace_callback(ran.append)  # the statements as run, their values filled in
    assert prune.prune_visitors(conn, T0 - 30 * D) == 1
    conn.set_trace_callback(None)
    touching = [sql for sql in ran if sql.lstrip().startswith(("DELETE FROM outbox", "UPDATE outbox"))]
    assert len(touching) == 2, ran
    for sql in touching:
        plan = query_plan(conn, sql)
        assert "USING INDEX outbox_pass" in plan and "SCAN outbox" not in plan, plan
