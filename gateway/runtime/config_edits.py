"""What the store holds that a site config edited since no longer covers, said at start.

The installer edits site.toml between restarts, and the store keeps what the old config allowed.
Lanes closed or held open under an old id are HandLanes.modes_again's. Here: stays that began before
the oldest tariff, fixed slots in a zone the config no longer has, and a tariff version whose prices
were edited in place. Neither stops the start: the
lanes must keep working, and the admin needs the API to put it right.

Kept here too: the closed-management periods the gateway ran under, from which start on, so that
a day's report (built, or rebuilt weeks later) sums up the periods in force that day, not today's.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.windows import ClosedHistory, ClosedPeriod, Window, stored_windows
from gateway.parking.book import BILLABLE
from gateway.parking.fees import Tariff
from gateway.privacy import mask_card
from gateway.site import Site
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

_SLOT_ZONES = "SELECT zone, fixed FROM zone_slots WHERE fixed > 0 ORDER BY zone"
_OPEN_STAYS_BEFORE = (
    f"SELECT count(*) FROM stays WHERE exited_at IS NULL AND entered_at < ? "
    f"AND billing IN ({', '.join('?' * len(BILLABLE))})"
)


def slots_outside_zones(conn: sqlite3.Connection, site: Site) -> dict[str, int]:
    """Zone -> fixed slots the store has in it, for each zone the site config lacks (renamed or
    removed): the lookup finds no slot in the lane's zone for their cars, which come in as cars
    without a slot (policy.no_slot) and pay, or are refused."""
    zones = {zone.id for zone in site.config.zones}
    return {zone: fixed for zone, fixed in conn.execute(_SLOT_ZONES) if zone not in zones}


def stays_before_prices(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site) -> int:
    """Cars parked now, paying by time, that came in before the oldest tariff's first day: they pay
    it from that day (fees.tariff_of_stay), their time before it free."""
    if not tariffs:
        return 0
    first_day = datetime.combine(tariffs[0].effective_from, time(0), site.tz)
    return int(conn.execute(_OPEN_STAYS_BEFORE, (to_db(first_day), *BILLABLE)).fetchone()[0])


def _prices(tariff: Tariff) -> str:
    """A version's first day and rates as text that compares equal exactly when they are the same."""
    rates = {vclass: asdict(rate) for vclass, rate in tariff.rates.items()}
    return json.dumps({"from": tariff.effective_from, "rates": rates}, default=str, sort_keys=True)


def tariffs_edited_in_place(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]) -> list[str]:
    """Versions in the config whose first day or prices differ from those the gateway first saw under
    that name: a car parked under the old numbers pays the new ones, its charge stamped with the
    version's name all the same, and the published price (明码标价) no longer says what was charged."""
    kept = dict(conn.execute("SELECT key, value FROM config_seen WHERE key LIKE 'tariff:%'"))
    return [t.version for t in tariffs if kept.get(f"tariff:{t.version}", _prices(t)) != _prices(t)]


def _keep_first_seen(conn: sqlite3.Connection, seen: dict[str, str], now: datetime) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO config_seen (key, value, first_seen) VALUES (?, ?, ?)",
        [(key, value, to_db(now)) for key, value in seen.items()],
    )


def _site_renamed(conn: sqlite3.Connection, site: Site, now: datetime) -> None:
    """A changed `[site] id`: the records sent so far went up under the old one, those still waiting
    go under the new one (the id is put on each record as it is sent). The centre, counting each
    site's seqs from 1, would take the new id's first seqs as lost: a `site_renamed` record tells it
    the seq the new id's records start at."""
    new = site.config.site.id
    row = conn.execute("SELECT value FROM config_seen WHERE key = 'site_id'").fetchone()
    if row is None or row[0] == new:
        return
    with transaction(conn):
        (first_seq,) = conn.execute(
            "SELECT coalesce(min(seq), (SELECT coalesce(max(seq), 0) + 1 FROM outbox)) FROM outbox "
            "WHERE sent_at IS NULL AND quarantined IS NULL"
        ).fetchone()
        enqueue(
            conn,
            "site_renamed",
            {"at": now.isoformat(), "from": row[0], "to": new, "first_seq": first_seq},
            now,
        )
        conn.execute(
            "UPDATE config_seen SET value = ?, first_seen = ? WHERE key = 'site_id'", (new, to_db(now))
        )
    log.warning(
        "the site id is %r now, %r before: the records from seq %d on go upstream under the new id, "
        "and a site_renamed record tells the central server so; fix: nothing on the gateway, but the "
        "broker's ACL and the central server must know the new id (docs/mqtt.md)",
        new,
        row[0],
        first_seq,
    )


# One row per change: `closed_periods:000001`, ... in the order the starts saw them.
_CLOSED = "closed_periods:"


def _period_text(p: ClosedPeriod) -> dict[str, Any]:
    """A period as its [[policy.closed_management]] table says it (hours on every day, as there)."""
    return {
        "first_day": p.first_day.isoformat(),
        "last_day": p.last_day.isoformat(),
        "hours": [str(w) for w in p.windows],
        "temporary_vehicles": "admit" if p.admit_temporary_vehicles else "refuse",
        "contractors": "admit" if p.admit_contractors else "refuse",
        "visitor_fields": list(p.visitor_fields),
    }


def _period_of(kept: dict[str, Any]) -> ClosedPeriod:
    return ClosedPeriod(
        first_day=date.fromisoformat(kept["first_day"]),
        last_day=date.fromisoformat(kept["last_day"]),
        windows=tuple(Window.parse(h, stored=True) for h in kept["hours"]),
        admit_temporary_vehicles=kept["temporary_vehicles"] == "admit",
        admit_contractors=kept["contractors"] == "admit",
        visitor_fields=tuple(kept["visitor_fields"]),
    )


def _kept_closed(conn: sqlite3.Connection) -> list[tuple[dict[str, Any], datetime]]:
    rows = conn.execute(
        "SELECT value, first_seen FROM config_seen WHERE key LIKE ? ORDER BY key", (_CLOSED + "%",)
    )
    return [(json.loads(value), datetime.fromisoformat(first_seen)) for value, first_seen in rows]


def remember_closed_periods(conn: sqlite3.Connection, site: Site, now: datetime) -> None:
    """Keep the closed-management periods this start runs under when they differ from the last kept,
    with the last access record decided under the old ones (closed_history)."""
    periods = [_period_text(p) for p in site.policy.closed_periods]
    kept = _kept_closed(conn)
    if kept and kept[-1][0]["periods"] == periods:
        return
    (after,) = conn.execute("SELECT coalesce(max(id), 0) FROM access_log").fetchone()
    value = json.dumps({"periods": periods, "after_record": after}, ensure_ascii=False)
    _keep_first_seen(conn, {f"{_CLOSED}{len(kept) + 1:06d}": value}, now)


def _took_over(conn: sqlite3.Connection, started: datetime, after: int) -> datetime:
    """When periods kept at a start took over, in the records' own time: the start, but not after
    the first record decided under them (a clock that was ahead at the start, stepped back since)
    nor before the last decided under the old ones (a Pi boots on fake-hwclock's stale time)."""
    at = started
    first_new = conn.execute(
        "SELECT at FROM access_log WHERE id > ? ORDER BY id LIMIT 1", (after,)
    ).fetchone()
    if first_new:
        at = min(at, datetime.fromisoformat(first_new[0]))
    last_old = conn.execute("SELECT at FROM access_log WHERE id = ?", (after,)).fetchone()
    if last_old:  # gone when retention deleted it: the start's time is all there is
        at = max(at, datetime.fromisoformat(last_old[0]) + timedelta(microseconds=1))
    return at


def closed_history(conn: sqlite3.Connection, tz: ZoneInfo) -> ClosedHistory:
    """The closed-management periods the gateway ran under, from when (remember_closed_periods)."""
    changes: list[tuple[datetime, tuple[ClosedPeriod, ...]]] = []
    for kept, first_seen in _kept_closed(conn):
        since = _took_over(conn, first_seen, kept["after_record"]).astimezone(tz)
        if changes:  # in the order the starts saw them, whatever the clocks said
            since = max(since, changes[-1][0])
        changes.append((since, tuple(_period_of(p) for p in kept["periods"])))
    return ClosedHistory(tuple(changes))


_HOURS_KEPT = """
SELECT 'credentials', c.id, 'card ' || c.value, c.hours FROM credentials c
WHERE c.kind = 'card' AND c.hours != '' AND (c.valid_to IS NULL OR c.valid_to > :now) {ids}
UNION ALL SELECT 'passes', p.id, 'pass ' || p.id, p.hours FROM passes p
WHERE p.hours != '' AND p.checked_out_at IS NULL AND p.valid_to > :now {ids}
"""
# The cards and passes found at the first start of version 38 (hours can no longer be given so):
# later starts look at those alone, not at every card again (the scan filled the page cache of a
# 200,000-card estate's start, 1.7 MB more resident memory).
_HOURS_FOUND = "hours_end_when_they_start"


def hours_that_end_when_they_start(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, str]]:
    """Cards and passes whose hours were stored, before version 38 refused them, with an end equal
    to the start (08:00-08:00): they still open round the clock, as they did (Window.parse). Those
    ended (or checked out) open nothing any more: not named."""
    found = conn.execute("SELECT value FROM config_seen WHERE key = ?", (_HOURS_FOUND,)).fetchone()
    if found is None:
        rows = conn.execute(_HOURS_KEPT.format(ids=""), {"now": to_db(now)}).fetchall()
    else:
        ids = ",".join(str(int(i)) for _, i in json.loads(found[0])) or "NULL"
        # {ids} stands in both halves: the table each row names keeps to its own ids below.
        rows = conn.execute(_HOURS_KEPT.format(ids=f"AND id IN ({ids})"), {"now": to_db(now)}).fetchall()
        kept = {(t, i) for t, i in json.loads(found[0])}
        rows = [r for r in rows if (r[0], r[1]) in kept]
    slips = [r for r in rows if any(w.open_all_day and w.start != time(0) for w in stored_windows(r[3]))]
    if found is None:
        _keep_first_seen(conn, {_HOURS_FOUND: json.dumps([[t, i] for t, i, _, _ in slips])}, now)
    return [(what, hours) for _, _, what, hours in slips]


def say_at_start(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    _site_renamed(conn, site, now)
    remember_closed_periods(conn, site, now)
    seen = {f"tariff:{t.version}": _prices(t) for t in tariffs}
    _keep_first_seen(conn, {**seen, "site_id": site.config.site.id}, now)
    for version in tariffs_edited_in_place(conn, tariffs):
        log.error(
            "tariff version %r has other prices (or another first day) in site.toml than when the "
            "gateway first charged by it: cars parked under the old prices pay the new ones, their "
            "charges stamped %r all the same; fix: put version %r back as it was and add the new "
            "prices as a new [[parking.tariffs]] version (a new name, a later effective_from), or, if "
            "the old prices were never in force, give the edited one a new name",
            version,
            version,
            version,
        )
    for zone, fixed in slots_outside_zones(conn, site).items():
        log.error(
            "%d fixed slot(s) are in zone %r, which the site config does not have: their residents' "
            'cars come in without a slot (they pay, or are refused where policy.no_slot = "refuse"); '
            "fix: if the zone was renamed, give it its old id %r again in site.toml; or import the "
            "slots again (`gateway import`, the same numbers and owners) into the configured zone it "
            "became, one of %s with no slots of its own yet, which moves them there with their cars; "
            "or delete them (DELETE /api/slots/{id} in the admin API, "
            "or have the central server send a snapshot without them or a delta that deletes them)",
            fixed,
            zone,
            zone,
            sorted(z.id for z in site.config.zones),
        )
    for what, hours in hours_that_end_when_they_start(conn, now):
        log.error(
            "%s has hours %r that end when they start: they open round the clock, as they did when "
            "stored; fix: give the hours the gate should open (e.g. 08:00-18:00), or none for any time, "
            "through the admin API or page, an import or the central server",
            what[:5] + mask_card(what[5:]) if what.startswith("card ") else what,
            hours,
        )
    before = stays_before_prices(conn, tariffs, site)
    if before:
        oldest = tariffs[0]
        log.warning(
            "%d car(s) parked now came in before %s, the first day of the oldest tariff (%s) in the "
            "config: they pay it from that day, their time before it free; fix: if an older tariff was "
            "taken out of the config, put it back in [[parking.tariffs]] (kept, its time is charged at "
            "its prices)",
            before,
            oldest.effective_from,
            oldest.version,
        )
