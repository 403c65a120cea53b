"""What the store holds that a site config edited since no longer covers, said at start.

The installer edits site.toml between restarts, and the store keeps what the old config allowed.
Lanes closed or held open under an old id are HandLanes.modes_again's; tariff versions edited,
added late or taken out are tariff_edits.py's. Here: fixed slots in a zone the config no longer
has or that take all its car spaces (zone_capacity.py), stored hours that end when they start, a
renamed site. None stops the start: the lanes must
keep working, and the admin needs the API to put it right.

Remembered here too, in the store (gateway/store/config_seen.py): the closed-management periods
each start runs under, for the days' reports.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, time
from typing import Any

from gateway.core.windows import stored_windows
from gateway.parking.fees import Tariff
from gateway.privacy import mask_card
from gateway.runtime.tariff_edits import prices, say_of_tariffs
from gateway.site import Site
from gateway.store.card_lists import stored_never_read
from gateway.store.config_seen import (
    keep_first_seen,
    keep_tariffs_seen,
    remember_closed_periods,
)
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.store.patrol import registered_cards_tapped
from gateway.store.zone_capacity import what_to_do, zones_over_capacity
from gateway.timefmt import to_db

log = logging.getLogger(__name__)

_SLOT_ZONES = "SELECT zone, fixed FROM zone_slots WHERE fixed > 0 ORDER BY zone"
_PARKED_ZONES = (
    "SELECT zone, count(*) FROM stays WHERE exited_at IS NULL AND zone IS NOT NULL "
    "GROUP BY zone ORDER BY zone"
)
# A slot's cars, its zone out of the lanes' reach: the admin's ways to move or delete it.
_OR_DELETE = (
    "or delete them (DELETE /api/slots/{id} in the admin API, or have the central server send a "
    "snapshot without them or a delta that deletes them)"
)


def zones_entered(site: Site) -> set[str]:
    """The zones a vehicle entrance of the site config leads to: a car finds its slot only in the
    zone of the lane it comes in by (decide._vehicle_entry), and is counted there."""
    return {
        lane.zone
        for lane in site.config.lanes
        if lane.type == "vehicle" and lane.direction == "entrance" and lane.zone is not None
    }


def slots_outside_zones(conn: sqlite3.Connection, site: Site) -> dict[str, int]:
    """Zone -> fixed slots the store has in it, for each zone no vehicle entrance leads to: one the
    site config lacks (renamed or removed), or one left in it after its lanes were pointed at
    another. The lookup finds no slot in the lane's zone for their cars, which come in as cars
    without a slot (policy.no_slot) and pay, or are refused."""
    entered = zones_entered(site)
    return {zone: fixed for zone, fixed in conn.execute(_SLOT_ZONES) if zone not in entered}


def stays_outside_zones(conn: sqlite3.Connection, site: Site) -> dict[str, int]:
    """Zone -> vehicles parked now counted in it, for each zone no vehicle entrance leads to (as
    slots_outside_zones): they hold none of the spaces of the zone the lanes lead to now, whose
    entrance lets in as many more until they leave. Cars a `gateway import` moves with their
    slots follow them (csv_steps._shared_spaces_follow); a zone renamed with no slots, none do."""
    entered = zones_entered(site)
    return {zone: n for zone, n in conn.execute(_PARKED_ZONES) if zone not in entered}


def _say_of_slots_outside(conn: sqlite3.Connection, site: Site) -> None:
    configured = {z.id for z in site.config.zones}
    for zone, fixed in slots_outside_zones(conn, site).items():
        if zone not in configured:
            log.error(
                "%d fixed slot(s) are in zone %r, which the site config does not have: their "
                "residents' cars come in without a slot (they pay, or are refused where policy.no_slot "
                '= "refuse"); fix: if the zone was renamed, give it its old id %r again in site.toml; '
                "or import the slots again (`gateway import`, the same numbers and owners) into the "
                "configured zone it became, one of %s with no slots of its own yet, which moves them "
                "there with their cars; %s",
                fixed,
                zone,
                zone,
                sorted(configured),
                _OR_DELETE,
            )
            continue
        log.error(
            "%d fixed slot(s) are in zone %r, which no vehicle entrance of the site config leads to "
            "(they lead to %s): their residents' cars come in without a slot (they pay, or are refused "
            'where policy.no_slot = "refuse"); fix: if the lanes should lead to it, set their zone '
            "back to %r in site.toml; if the car park is now another zone, take zone %r out of "
            "site.toml, restart, and import the slots again (`gateway import`, the same numbers and "
            "owners) into the zone the lanes lead to, which moves them there with their cars; %s",
            fixed,
            zone,
            sorted(zones_entered(site)),
            zone,
            zone,
            _OR_DELETE,
        )


def _say_of_stays_outside(conn: sqlite3.Connection, site: Site) -> None:
    configured = {z.id for z in site.config.zones}
    for zone, parked in stays_outside_zones(conn, site).items():
        log.warning(
            "%d vehicle(s) parked now are counted in zone %r, which %s: they hold none of the spaces "
            "of %s, where the entrances lead, so those let in up to %d more than there is room for "
            "until they leave (they leave and pay as ever); fix: if the zone was renamed, give it "
            "its old id %r again in site.toml and restart, and rename it once they have left "
            "(GET /api/parking/stays lists them); else nothing: each counts no more once it leaves",
            parked,
            zone,
            "the site config does not have" if zone not in configured else "no vehicle entrance leads to",
            sorted(zones_entered(site)),
            parked,
            zone,
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


def say_at_start(conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime) -> None:
    _site_renamed(conn, site, now)
    remember_closed_periods(conn, site.policy.closed_periods, now)
    say_of_the_store(conn, tariffs, site, now)


def say_of_the_store(
    conn: sqlite3.Connection, tariffs: tuple[Tariff, ...], site: Site, now: datetime
) -> None:
    """What a start logs of the store against the config: tariffs, slots, stays, capacity, hours,
    guards' patrol cards on the register (store/patrol.py registered_cards_tapped), cards held
    that no reader of the site gives (store/card_lists.py stored_never_read).
    It writes config_seen alone (what it sees first), so that `gateway check-config` runs it on a
    read-only store over a scratch copy of that table (store_check.py)."""
    keep_tariffs_seen(conn, {t.version: prices(t) for t in tariffs}, now)
    keep_first_seen(conn, {"site_id": site.config.site.id}, now)
    say_of_tariffs(conn, tariffs, site, now)
    _say_of_slots_outside(conn, site)
    _say_of_stays_outside(conn, site)
    for zone, over in zones_over_capacity(conn, site.config).items():
        log.warning("%s", what_to_do(zone, over["capacity"], over["fixed_slots"]))
    guards = registered_cards_tapped(conn, site.config)
    if guards is not None:
        log.warning("%s", guards)
    unread = stored_never_read(conn, site.config)
    if unread is not None:
        log.warning("%s", unread)
    for what, hours in hours_that_end_when_they_start(conn, now):
        log.error(
            "%s has hours %r that end when they start: they open round the clock, as they did when "
            "stored; fix: give the hours the gate should open (e.g. 08:00-18:00), or none for any time, "
            "through the admin API or page, an import or the central server",
            what[:5] + mask_card(what[5:]) if what.startswith("card ") else what,
            hours,
        )
