"""A resident deleted while at home under the release before migration 44 (schema 43), then the box
is upgraded: the exit door still has to let him out (docs/parking.md, *Nobody is kept in*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store import schema
from gateway.store.registry import add_card, delete_resident
from tests.parking.conftest import DOOR_OUT, T0

M = timedelta(minutes=1)
CARD = "0000000007"

_ID_STREAMS = ("payments", "charges", "stays", "passes", "materials_out")  # migration 66's tables

# What migration 44 creates, and migration 47 (its index of passages on foot by holder; its trigger
# goes with 44's), and the columns migrations 54 and 55 add (a column cannot be added twice, where
# the steps that make tables run again over them), and 62's and 63's, 64's index, 65's column,
# 66's columns and triggers, 67's index, 68's, 69's and 70's tables, 71's index, 72's columns (on
# 69's table, dropped with it), 73's column, 74's column: a schema-43 gateway had none of it.
_MIGRATION_44 = (
    "DROP TRIGGER struck_off_on_foot_remembered",
    "DROP TABLE struck_off_on_foot",
    "DROP INDEX presence_inside",
    "DROP INDEX access_log_on_foot_by_holder",
    "ALTER TABLE passes DROP COLUMN id_kind",
    "ALTER TABLE pass_people DROP COLUMN id_kind",
    "ALTER TABLE alarms DROP COLUMN acknowledged_note",
    "ALTER TABLE presence DROP COLUMN people",
    "ALTER TABLE sync_state DROP COLUMN snapshot_owed_at",
    "DROP INDEX access_log_no_entry_refused",
    "ALTER TABLE patrol_taps DROP COLUMN not_counted",
    *(f"DROP TRIGGER {t}_id_stream" for t in _ID_STREAMS),
    *(f"ALTER TABLE {t} DROP COLUMN id_stream" for t in _ID_STREAMS),
    "DROP INDEX access_log_lane_closed",
    "DROP INDEX audit_actor",
    "DROP INDEX audit_action",
    "DROP INDEX audit_actor_action",
    "DROP TABLE gateway_heartbeat",
    "DROP TABLE gateway_down",
    "DROP TABLE import_steps",
    "ALTER TABLE materials_out DROP COLUMN host_room",
    "ALTER TABLE accounts DROP COLUMN last_login_at",
    "PRAGMA user_version = 43",
)


def _at(gw: Gateway, lane: str, card: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, f"{lane}-reader"))


def test_a_resident_deleted_at_home_before_the_upgrade_is_let_out_after_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """张三 walks in on his card at 09:00; the office deletes him at 10:00 while he is at home, on
    the release before this one (schema 43), which let him out at the exit door by his entry on
    foot in the log. The box is upgraded at 11:00; at 11:30 he taps the exit door: refused
    `unknown`, the door shut on him, because migration 44 remembers only cards struck off after
    it. He should be let out as resident 1, as before the upgrade."""
    gw = make_gw(extra=DOOR_OUT)
    cfg = gw.site.config
    add_card(gw.conn, T0 - M, "admin", CARD, 1, None, None, None, "")
    assert _at(gw, "door", CARD, 0).reason == "resident"
    # The release before this one: no migration 44, so no trigger remembers the card.
    for sql in _MIGRATION_44[:-1]:
        gw.conn.execute(sql)
    delete_resident(gw.conn, T0 + 60 * M, "admin", 1)
    gw.conn.execute(_MIGRATION_44[-1])
    gw.conn.close()
    upgraded = Gateway(cfg)  # migration 44 runs
    try:
        assert upgraded.conn.execute("PRAGMA user_version").fetchone()[0] >= 44
        leaving = _at(upgraded, "door-out", CARD, 150)
        seen = (leaving.admitted, leaving.reason, leaving.holder_kind, leaving.holder_id)
        assert seen[0] and seen[2:] == ("resident", 1), (
            f"张三, deleted at home before the upgrade, taps the exit door after it: {seen} "
            "(the door stays shut on him)"
        )
    finally:
        upgraded.conn.close()


def _passages_on_foot(gw: Gateway, rows: int, cards: int) -> None:
    """`rows` admitted passages on foot of `cards` cards struck off, whose residents the register
    no longer knows: each card in, then out, by turns."""
    gw.conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
        INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
            flags, holder_kind, holder_id, direction, lane_type)
        SELECT printf('foot-%09d', i), '2025-03-01T00:00:00.000000+00:00', 'door', 'door-reader', 'card',
            printf('9%09d', i % :cards), 1.0, 1, 'resident', '', 'resident', 1000 + i % :cards,
            CASE WHEN (i / :cards) % 2 THEN 'exit' ELSE 'entrance' END, 'pedestrian'
        FROM n
        """,
        {"rows": rows, "cards": cards},
    )


def _steps(gw: Gateway, sql: str) -> int:
    """SQLite virtual-machine steps the statement takes: its work, whatever the machine's speed."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    gw.conn.set_progress_handler(count, 1)
    try:
        gw.conn.execute(sql)
    finally:
        gw.conn.set_progress_handler(None, 0)
    return steps[0]


def test_the_upgrade_costs_the_same_however_long_the_log(make_gw: Callable[..., Gateway]) -> None:
    """The migration walks the cards seen on foot from one to the next through the index of
    passages on foot, not every passage of each: 50 cards cost the same after 2,000 passages as
    after 40,000, and each is remembered as its resident's latest entry let him in."""
    costs = []
    for rows in (2_000, 40_000):
        gw = make_gw()
        _passages_on_foot(gw, rows, 50)
        gw.conn.execute("DELETE FROM struck_off_on_foot")
        costs.append(_steps(gw, schema._STRUCK_OFF_BEFORE_44))
        remembered = gw.conn.execute(
            "SELECT count(*), min(holder_id), max(holder_id) FROM struck_off_on_foot"
        )
        assert remembered.fetchone() == (50, 1000, 1049)
    assert costs[1] < costs[0] * 1.2, costs


def test_the_upgrade_remembers_no_card_of_someone_still_registered(make_gw: Callable[..., Gateway]) -> None:
    """A card the register still has, and a lost card struck off whose owner is still registered,
    are not remembered: the door names who the register names (docs/parking.md, *Nobody is kept
    in*)."""
    gw = make_gw(extra=DOOR_OUT)
    add_card(gw.conn, T0 - M, "admin", CARD, 1, None, None, None, "")
    add_card(gw.conn, T0 - M, "admin", "0000000008", 2, None, None, None, "")
    _at(gw, "door", CARD, 0)
    _at(gw, "door", "0000000008", 1)
    gw.conn.execute("DROP TRIGGER struck_off_on_foot_remembered")
    gw.conn.execute("DELETE FROM credentials WHERE value = '0000000008'")
    gw.conn.execute(schema._STRUCK_OFF_BEFORE_44)
    assert gw.conn.execute("SELECT count(*) FROM struck_off_on_foot").fetchone() == (0,)
