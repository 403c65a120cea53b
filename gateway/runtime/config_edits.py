"""What the store holds that a site config edited since no longer covers, said at start.

The installer edits site.toml between restarts, and the store keeps what the old config allowed.
Lanes closed or held open under an old id are HandLanes.modes_again's. Here: stays that began before
the oldest tariff, fixed slots in a zone the config no longer has, a tariff version whose prices
were edited in place, one added on or after its first day (it prices only the cars that came in
after), and one taken out while cars parked under it are still inside. None stops the start: the
lanes must keep working, and the admin needs the API to put it right.

Remembered here too, in the store (gateway/store/config_seen.py): the closed-management periods
each start runs under, for the days' reports.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict
from datetime import date, datetime, time, tzinfo
from typing import Any

from gateway.core.windows import stored_windows
from gateway.parking.book import BILLABLE
from gateway.parking.fees import Tariff, tariff_of_stay
from gateway.parking.tariffs import known_since
from gateway.privacy import mask_card
from gateway.site import Site
from gateway.store.config_seen import (
    forget_tariffs_gone,
    keep_first_seen,
    keep_tariffs_gone,
    remember_closed_periods,
    tariffs_first_seen,
    tariffs_gone,
    tariffs_seen,
)
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

_SLOT_ZONES = "SELECT zone, fixed FROM zone_slots WHERE fixed > 0 ORDER BY zone"
_PAYING = f"billing IN ({', '.join('?' * len(BILLABLE))})"
_OPEN_STAYS_BEFORE = f"SELECT count(*) FROM stays WHERE exited_at IS NULL AND entered_at < ? AND {_PAYING}"
_OPEN_STAYS_BETWEEN = _OPEN_STAYS_BEFORE + " AND entered_at >= ?"
_OPEN_STAYS = f"SELECT id, entered_at FROM stays WHERE exited_at IS NULL AND {_PAYING}"


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
    version's name all the same, and the published price (明码标价) no longer says what was charged.
    Then the versions taken out of the config that cars still parked came in under
    (parked_under_gone_tariffs): they pay another version's prices, not those published to them."""
    return _edited(conn, tariffs) + sorted(parked_under_gone_tariffs(conn, tariffs))


def _edited(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]) -> list[str]:
    kept = {version: value for version, (value, _) in tariffs_seen(conn).items()}
    return [t.version for t in tariffs if kept.get(t.version, _prices(t)) != _prices(t)]


def tariffs_known(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]) -> tuple[Tariff, ...]:
    """The config's versions, each with when the gateway first saw it (tariffs.known_since)."""
    return known_since(tariffs, tariffs_first_seen(conn))


def tariffs_dated_back(
    conn: sqlite3.Connection, known: tuple[Tariff, ...], site: Site
) -> list[tuple[Tariff, int]]:
    """Versions (`known`: tariffs_known's) first seen when their first day had begun ("from today",
    or dated back): they price only the cars in after they were seen (fees.tariff_at), each with how
    many cars parked now came in from its first day before that, and pay what was published then."""
    dated_back = []
    for t in known:
        if t.known_from is None or t.effective_from > t.known_from.astimezone(site.tz).date():
            continue  # known for ever, or published ahead of its day, as prices should be
        first_day = datetime.combine(t.effective_from, time(0), site.tz)
        args = (to_db(t.known_from), *BILLABLE, to_db(first_day))
        dated_back.append((t, int(conn.execute(_OPEN_STAYS_BETWEEN, args).fetchone()[0])))
    return dated_back


def _every_version_seen(conn: sqlite3.Connection) -> tuple[Tariff, ...]:
    """Every version the gateway has seen, gone from the config or not, by its first day as first
    seen and with when it was first seen: without prices, to tell which one a stay came in under."""
    seen = tariffs_seen(conn)
    first_days = {
        version: date.fromisoformat(json.loads(value)["from"]) for version, (value, _) in seen.items()
    }
    first_seen = tariffs_first_seen(conn)
    in_order = sorted(seen, key=lambda version: (first_days[version], first_seen[version]))
    return known_since(tuple(Tariff(version, first_days[version]) for version in in_order), first_seen)


def _find_gone(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    """Versions gone from the config since the last start: the stays parked under them, kept
    (config_seen.keep_tariffs_gone). A version is under a stay's entry as fees.tariff_of_stay finds
    it among the versions then in the config: all seen, less those found gone before it."""
    in_config = {t.version for t in tariffs}
    forget_tariffs_gone(conn, sorted(in_config))
    before = tariffs_gone(conn)
    every = _every_version_seen(conn)
    under: dict[str, list[int]] = {
        t.version: [] for t in every if t.version not in in_config and t.version not in before
    }
    if not under:
        return
    for stay_id, entered_at in conn.execute(_OPEN_STAYS, BILLABLE).fetchall():
        entered = datetime.fromisoformat(entered_at).astimezone(site.tz)
        then = tuple(t for t in every if t.version not in before or before[t.version][1] > entered)
        priced = tariff_of_stay(then, entered)
        if priced is not None and priced[0].version in under:
            under[priced[0].version].append(stay_id)
    keep_tariffs_gone(conn, under, now)


def parked_under_gone_tariffs(
    conn: sqlite3.Connection, tariffs: tuple[Tariff, ...]
) -> dict[str, list[tuple[int, str | None, datetime]]]:
    """Versions taken out of the config that cars still parked came in under: their stays (id,
    plate, entry). Those cars pay the version the config gives their entry now."""
    in_config = {t.version for t in tariffs}
    parked = {}
    for version, (stay_ids, _) in tariffs_gone(conn).items():
        if version in in_config or not stay_ids:
            continue
        marks = ",".join("?" * len(stay_ids))
        rows = conn.execute(
            f"SELECT id, plate, entered_at FROM stays WHERE exited_at IS NULL AND id IN ({marks})",
            stay_ids,
        ).fetchall()
        if rows:
            parked[version] = [(sid, plate, datetime.fromisoformat(at)) for sid, plate, at in rows]
    return parked


def _pays(known: tuple[Tariff, ...], plate: str | None, stay_id: int, entered: datetime, tz: tzinfo) -> str:
    """A car parked under a version gone, and what it pays now, in a start's warning."""
    local = entered.astimezone(tz)
    priced = tariff_of_stay(known, local)
    pays = "nothing (no tariff left)"
    if priced is not None:
        version, since = priced[0].version, priced[1]
        pays = f"{version!r}" + ("" if since == local else f" from {since:%Y-%m-%d %H:%M}")
    return f"{plate or f'stay {stay_id}'} (in {local:%Y-%m-%d %H:%M}) pays {pays}"


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


# The cards and passes that can still open something, with their hours.
_HOURS_KEPT = {
    "credentials": "SELECT id, 'card ' || value, hours FROM credentials WHERE kind = 'card' "
    "AND hours != '' AND (valid_to IS NULL OR valid_to > :now)",
    "passes": "SELECT id, 'pass ' || id, hours FROM passes WHERE hours != '' AND checked_out_at IS NULL "
    "AND valid_to > :now",
}
# The cards and passes found at the first start of version 38 (hours can no longer be given so):
# later starts look at those alone, not at every card again (the scan filled the page cache of a
# 200,000-card estate's start, 1.7 MB more resident memory).
_HOURS_FOUND = "hours_end_when_they_start"


def _with_hours(
    conn: sqlite3.Connection, now: datetime, only: list[list[Any]] | None
) -> list[tuple[str, int, str, str]]:
    """(table, id, what, hours) of the cards and passes with hours: all, or `only` those [table, id]."""
    rows = []
    for table, sql in _HOURS_KEPT.items():
        ids = None if only is None else [int(i) for t, i in only if t == table]
        if ids == []:
            continue
        where = "" if ids is None else f" AND id IN ({','.join(map(str, ids))})"
        rows += [(table, *row) for row in conn.execute(sql + where, {"now": to_db(now)})]
    return rows


def hours_that_end_when_they_start(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, str]]:
    """Cards and passes whose hours were stored, before version 38 refused them, with an end equal
    to the start (08:00-08:00): they still open round the clock, as they did (Window.parse). Those
    ended (or checked out) open nothing any more: not named."""
    found = conn.execute("SELECT value FROM config_seen WHERE key = ?", (_HOURS_FOUND,)).fetchone()
    rows = _with_hours(conn, now, None if found is None else json.loads(found[0]))
    slips = [r for r in rows if any(w.open_all_day and w.start != time(0) for w in stored_windows(r[3]))]
    if found is None:
        keep_first_seen(conn, {_HOURS_FOUND: json.dumps([[t, i] for t, i, _, _ in slips])}, now)
    return [(what, hours) for _, _, what, hours in slips]


def _say_tariffs(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    """What a start says of the tariff versions: edited in place, added on or after their first
    day (said at the start that first sees one, then while cars it does not price are parked), and
    taken out while cars parked under them are still inside."""
    for version in _edited(conn, tariffs):
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
    known = tariffs_known(conn, tariffs)
    for tariff, parked in tariffs_dated_back(conn, known, site):
        if parked == 0 and tariff.known_from != now:
            continue
        seen = tariff.known_from.astimezone(site.tz) if tariff.known_from else now
        log.warning(
            "tariff version %r is dated %s, but the gateway first saw it at %s: it prices the cars "
            "that came in from then on, and %d car(s) parked now that came in before pay the prices "
            "published when they came in (明码标价); fix: nothing, if that is what was meant; publish "
            "new prices ahead, dated from a later day than the day they are added",
            tariff.version,
            tariff.effective_from,
            f"{seen:%Y-%m-%d %H:%M}",
            parked,
        )
    for version, stays in parked_under_gone_tariffs(conn, tariffs).items():
        cars = [_pays(known, plate, stay_id, entered, site.tz) for stay_id, plate, entered in stays]
        more = f" and {len(cars) - 10} more" if len(cars) > 10 else ""
        log.warning(
            "tariff version %r is gone from site.toml, but %d car(s) parked now came in under it: "
            "they pay another version now, not the prices published when they came in: %s%s; fix: "
            "put version %r back in [[parking.tariffs]] as it was, and take it out once they have "
            "left (GET /api/parking/stays lists the cars inside)",
            version,
            len(cars),
            "; ".join(cars[:10]),
            more,
            version,
        )


def say_at_start(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    _site_renamed(conn, site, now)
    remember_closed_periods(conn, site.policy.closed_periods, now)
    seen = {f"tariff:{t.version}": _prices(t) for t in tariffs}
    keep_first_seen(conn, {**seen, "site_id": site.config.site.id}, now)
    _find_gone(conn, tariffs, site, now)
    _say_tariffs(conn, tariffs, site, now)
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
