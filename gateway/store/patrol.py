"""Patrol taps: a card at a patrol checkpoint, recorded and queued upstream together, with whether
it is a guard's (what the register says of the card, for gateway/parking/patrol.py not_counted to
decide); read back at their true time, and the rounds judged from them recorded with their alarms
(the rules are gateway/parking/patrol.py's, the judging gateway/parking/operations_patrols.py's)."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.alarm_texts import AlarmText
from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
from gateway.core.card_forms import CardId, Form, TenDigits, card_id, spelled
from gateway.parking.patrol import (
    FINAL,
    GuardCards,
    ListedAs,
    NotCounted,
    OnRegister,
    RoundResult,
    RouteSpec,
    Tap,
)
from gateway.parking.patrol import not_counted as not_counted_by
from gateway.privacy import mask_card
from gateway.store.alarms import end_alarm, write_alarm
from gateway.store.card_forms import register_ten_digits, registered_cards_named
from gateway.store.database import transaction
from gateway.store.lookup import PASS_BLOCKED
from gateway.store.outbox import enqueue
from gateway.store.redate import Boot
from gateway.timefmt import from_db, to_db

log = logging.getLogger(__name__)

# Any of the cards blocked: the card itself, or its holder (a pass as lookup.py counts one blocked).
_ANY_BLOCKED = """
SELECT 1 FROM credentials c
LEFT JOIN residents r ON r.id = c.resident_id
LEFT JOIN passes p ON p.id = c.pass_id
WHERE c.kind = 'card' AND c.value IN ({}) AND (c.blocked OR coalesce(r.blocked, 0) OR coalesce({}, 0))
LIMIT 1
""".format("{}", PASS_BLOCKED)
_WHY = {
    "not_a_guard_card": "not one of [patrol] guard_cards",
    "registered_card": "a card on the register (a resident's or a pass's), not a guard's",
    "blocked_card": "a card blocked on the register",
}


@dataclass(frozen=True, slots=True)
class PatrolCards:
    """What tells a guard's tap: `[patrol] guard_cards`, and how the register and each checkpoint
    mean 10 digits (a hex checkpoint's read is asked of a register of printed numbers as the card
    it is, as a door reader's is: gateway/store/card_forms.py)."""

    guards: GuardCards = GuardCards()
    register: TenDigits = "decimal"
    reads: dict[str, TenDigits] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: SiteConfig) -> PatrolCards:
        register = register_ten_digits(cfg)
        listed = cfg.patrol.guard_cards
        em4100 = [d for d in cfg.devices if isinstance(d, SerialReaderDevice) and d.format == "em4100"]
        reads: dict[str, TenDigits] = {d.id: d.em4100_number for d in em4100 if d.role == "patrol"}
        # A listed all-digit number is the printed one, or, where a reader of the site gives hex, as
        # likely copied from one: the card of either reading is the guard's (docs/hardware.md).
        listed_as: ListedAs = "either" if any(d.em4100_number == "hex" for d in em4100) else "decimal"
        return cls(GuardCards(None if listed is None else tuple(listed), listed_as), register, reads)

    def not_counted(self, conn: sqlite3.Connection, checkpoint: str, card: str) -> NotCounted | None:
        """Why the tap is not a guard's (gateway/parking/patrol.py not_counted), or None."""
        read_as = self.reads.get(checkpoint, self.register)
        return not_counted_by(card, read_as, self._on_register(conn, card, read_as), self.guards)

    def _on_register(self, conn: sqlite3.Connection, card: str, read_as: TenDigits) -> OnRegister:
        """What the register says of the card read, found in any form it holds it in."""
        found = registered_cards_named(conn, _as_register_reads(card, read_as, self.register), self.register)
        if not found:
            return ""
        blocked = conn.execute(_ANY_BLOCKED.format(",".join("?" * len(found))), found).fetchone()
        return "blocked" if blocked else "registered"


def _as_register_reads(card: str, read_as: TenDigits, register: TenDigits) -> str:
    """The read, written so that the register, reading 10 digits its own way, takes it for the card
    read: a hex checkpoint's all-digit id as its printed number (the low 32 bits), a decimal one's
    printed number as facility:card (the same 32 bits) for a register of hex numbers."""
    read = card_id(card, read_as)
    if read is None or card_id(card, register) == read:
        return card
    other: Form = "Wiegand 34" if read.form == "EM4100 decimal" else "EM4100 decimal"
    return spelled(CardId(other, read.low & 0xFFFFFFFF))


def record_tap(
    conn: sqlite3.Connection,
    tap_id: str,
    at: datetime,
    checkpoint: str,
    lane: str,
    card: str,
    cards: PatrolCards = PatrolCards(),
) -> None:
    """One transaction: the tap and its outbox row, each saying whether it is a guard's (`cards`:
    no guard cards listed where not given). One that is not walks no round, and is on record so
    that the centre sees who else tapped the checkpoint."""
    with transaction(conn):
        why = cards.not_counted(conn, checkpoint, card)
        conn.execute(
            "INSERT INTO patrol_taps (tap_id, at, checkpoint, lane, card, not_counted) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (tap_id, to_db(at), checkpoint, lane, card, why),
        )
        payload: dict[str, Any] = {
            "at": at.isoformat(),
            "checkpoint": checkpoint,
            "lane": lane,
            "card": card,
            "counted": why is None,
        }
        if why is not None:
            payload["not_counted"] = why
        enqueue(conn, "patrol", payload, at, tap_id)
    if why is not None:
        log.info(
            "patrol tap checkpoint=%s card=%s not counted towards a round: %s (%s)",
            checkpoint,
            mask_card(card),
            why,
            _WHY[why],
        )


# How far back the start and `gateway check-config` look for cards on the register tapped at the
# checkpoints (from the newest tap: a box off for a while still says it), and how many they name.
REGISTERED_TAPPED_DAYS = 30
_NAMED_AT_MOST = 5
_NEWEST_TAP = "SELECT max(at) FROM patrol_taps"
_TAPPED_SINCE = "SELECT DISTINCT checkpoint, card FROM patrol_taps WHERE at >= ? ORDER BY card"


def registered_cards_tapped(conn: sqlite3.Connection, cfg: SiteConfig) -> str | None:
    """What the start and `gateway check-config` warn of where `[patrol] guard_cards` is not set:
    the cards on the register tapped at the checkpoints in the last 30 days of taps (masked), whose
    taps walk no round. A guard whose patrol card is on the register (entered as a resident of the
    property office, or on a pass: it opens a door for him) walked his rounds before the list, and
    has every round missed since it: only the list tells his card from a resident's. None where
    the list is set or no such card tapped."""
    if cfg.patrol.guard_cards is not None:
        return None
    newest = from_db(conn.execute(_NEWEST_TAP).fetchone()[0])
    if newest is None:
        return None
    cards = PatrolCards.of(cfg)
    rows = conn.execute(_TAPPED_SINCE, (to_db(newest - timedelta(days=REGISTERED_TAPPED_DAYS)),)).fetchall()
    found = list(
        dict.fromkeys(card for cp, card in rows if cards.not_counted(conn, cp, card) == "registered_card")
    )
    if not found:
        return None
    named = ", ".join(mask_card(card) for card in found[:_NAMED_AT_MOST])
    more = f" and {len(found) - _NAMED_AT_MOST} more" if len(found) > _NAMED_AT_MOST else ""
    return (
        f"patrol: {len(found)} card(s) on the register tapped at the checkpoints in the "
        f"{REGISTERED_TAPPED_DAYS} days to the last tap ({named}{more}): with [patrol] guard_cards not set, "
        "a card the register holds (a resident's, a pass's) walks no round, so a guard whose patrol card "
        "is on the register has every round he walks missed (patrol_missed, its alarm naming the "
        "checkpoints he tapped); fix: list the guards' cards in [patrol] guard_cards (a resident's card "
        "tapped there needs nothing)"
    )


def taps_between(conn: sqlite3.Connection, boot: Boot, since: datetime, now: datetime) -> list[Tap]:
    """The taps from `since` to `now`, at their true time, each counted or not (a guard's: its
    not_counted, NULL for one an older version recorded): those this boot wrote on a clock NTP
    set right since are kept as recorded (append-only), and found by their id instead."""
    first = boot.first["patrol_taps"]
    old = max((off.last for off in boot.taps_off), default=first - 1)
    rows = conn.execute(
        "SELECT id, at, checkpoint, not_counted FROM patrol_taps "
        "WHERE at >= ? AND at <= ? OR id BETWEEN ? AND ?",
        (to_db(since), to_db(now), first, old),
    )
    taps = [Tap(boot.tap_time(tap_id, datetime.fromisoformat(at)), c, why) for tap_id, at, c, why in rows]
    return [tap for tap in taps if since <= tap.at <= now]


_NOT_COUNTED_AT = """
SELECT checkpoint, not_counted FROM patrol_taps
WHERE checkpoint = ? AND at >= ? AND at < ? AND not_counted IS NOT NULL ORDER BY at LIMIT 1
"""


def not_counted_in_round(
    conn: sqlite3.Connection, missing: list[str], due: datetime, closes: datetime
) -> list[tuple[str, str]]:
    """The checkpoints of a round's `missing` a card that does not count tapped from `due` until the
    round `closes`, each with why (its first such tap's): for /api/parking/patrols, as the round's
    alarm says them (RoundResult.not_counted, which the judging found from the same taps)."""
    found = []
    for checkpoint in missing:
        row = conn.execute(_NOT_COUNTED_AT, (checkpoint, to_db(due), to_db(closes))).fetchone()
        if row is not None:
            found.append((row[0], row[1]))
    return found


def record_round(
    conn: sqlite3.Connection,
    *,
    route: RouteSpec,
    r: RoundResult,
    before: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The round and its alarms in one transaction: a round on record as final is never judged
    again, so an alarm written apart from it and lost to a kill would never be raised."""
    source = round_source(r.route, r.due, tz)
    words: dict[str, str | int | float | list[str]] = {
        "route": route.name or route.id,
        "due": _due_time(r.due.astimezone(tz)),
        "missing": list(r.missing),
    }
    with transaction(conn):
        conn.execute(
            "INSERT INTO patrol_rounds (route, due_at, status, finished_at, missing, evaluated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (route, due_at) DO UPDATE SET "
            "status = excluded.status, finished_at = excluded.finished_at, "
            "missing = excluded.missing, evaluated_at = excluded.evaluated_at",
            (
                r.route,
                to_db(r.due),
                r.status,
                to_db(r.finished_at) if r.finished_at else None,
                ",".join(r.missing),
                to_db(now),
            ),
        )
        if r.not_counted:  # checkpoints tapped, by a card that does not count: said, with why
            words["tapped"] = [checkpoint for checkpoint, _ in r.not_counted]
            words["not_counted"] = list(dict.fromkeys(why for _, why in r.not_counted))
        if r.status in ("overdue", "late") and before != "overdue":
            words["minutes"] = int(route.allowed.total_seconds() // 60)
            key = "patrol_late.untapped" if r.missing else "patrol_late"
            if r.not_counted:
                key = "patrol_late.untapped.not_counted"
            write_alarm(conn, "patrol_late", source, AlarmText(key, words), now)
        if r.status == "missed":
            key = "patrol_missed.not_counted" if r.not_counted else "patrol_missed"
            write_alarm(conn, "patrol_missed", source, AlarmText(key, words), now)
        if r.status in FINAL:  # done late, or missed (its own alarm says so): no longer late
            end_alarm(conn, "patrol_late", source, now)


def round_source(route: str, due: datetime, tz: ZoneInfo) -> str:
    """The source a round's alarms have: the route and the local day and time it was due."""
    due_local = due.astimezone(tz)
    return f"{route}@{due_local:%Y-%m-%d} {_due_time(due_local)}"


def _due_time(due_local: datetime) -> str:
    return f"{due_local:%H:%M}{_offset_if_repeated(due_local)}"


def _offset_if_repeated(due_local: datetime) -> str:
    """The UTC offset ("+0100") of a round due in the hour the clocks go back over, which is lived
    twice: without it its two 02:00 rounds would be one alarm. Any other round: nothing."""
    other = due_local.replace(fold=1 - due_local.fold)
    return f"{due_local:%z}" if other.utcoffset() != due_local.utcoffset() else ""
