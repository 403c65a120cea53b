"""The parking desk's base (ParkingDesk, gateway/parking/service.py): the config's rules, the
tariff versions as first seen, and the helpers its actions share."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from gateway.core import LaneRules, Presented
from gateway.parking.book import Rules, StayFacts
from gateway.parking.desk_checks import missed_entry
from gateway.parking.fees import Tariff
from gateway.parking.tariffs import known_since, tariffs_from_config
from gateway.site import Site
from gateway.store.config_seen import tariffs_first_seen, tariffs_seen_for_good
from gateway.store.lookup import lookup, subject_of
from gateway.store.parking import Owed, ParkingError, carry_reentry, keep_what_was_paid, owed

# Whether a plate camera of a lane still has a plate in view (Devices.sees).
Sees = Callable[[str, str], bool]
# Whether a lane has a plate camera that can tell so (Devices.watches).
Watches = Callable[[str], bool]


class DeskBase:
    def __init__(self, site: Site, sees: Sees, watches: Watches):
        cfg = site.config
        self.site = site
        self._sees = sees
        self._watches = watches
        # The config's, its tariff versions as written (what the start keeps and compares); a fee
        # is worked out by _rules(), with when each version was first seen.
        self.rules = Rules(
            tariffs=tariffs_from_config(cfg.parking),
            grace=timedelta(minutes=cfg.parking.grace_minutes),
            tz=site.tz,
            reentry=cfg.policy.reentry,
            exit_without_entry=cfg.policy.exit_without_entry,
        )
        self._tariffs: tuple[Tariff, ...] | None = None

    def tariffs(self, conn: sqlite3.Connection, at: datetime) -> tuple[Tariff, ...]:
        """The tariff versions, each with when the gateway first saw it (tariffs.known_since): a car
        pays the prices published when it came in, not a version added to the config since and
        dated back. The fees and the price table read these, so the table shows, at `at`, the
        version a car coming in then pays. As the start kept them (config_edits.say_at_start), in
        the records' own time (config_seen.tariffs_first_seen): read from the store until no record
        nor clock can move them (config_seen.tariffs_seen_for_good), then kept."""
        if self._tariffs is not None:
            return self._tariffs
        for_good = tariffs_seen_for_good(conn)  # asked first: a record written between is not missed
        known = known_since(self.rules.tariffs, tariffs_first_seen(conn, at))
        if for_good:
            self._tariffs = known  # a second thread meanwhile keeps the same
        return known

    def _rules(self, conn: sqlite3.Connection, at: datetime) -> Rules:
        return replace(self.rules, tariffs=self.tariffs(conn, at))

    # ---- helpers -------------------------------------------------------------------------------

    def _missed_exit(
        self,
        conn: sqlite3.Connection,
        stay: StayFacts,
        event_id: str,
        at: datetime,
        priced_until: datetime | None = None,
        account: Owed | None = None,
    ) -> int | None:
        """The fee of a stay closed with no exit read (its car back in: a re-entry; or let out by
        hand), as policy.reentry says: "charge" carries it, less what was paid ahead, to the car's
        next exit; "void" drops it, and what it paid ahead at the booth is kept against a settled
        charge of what was paid (there is no refund), as an admin's close keeps it. Left unlinked, the
        daily report counted that money for ever as paid ahead by a car not seen leaving, and the
        central server got a payment for the stay and never a charge. `priced_until`: where the fee
        ends, if not at `at`; `account`: the stay's, if worked out already. The charge's id, if any."""
        rules = self._rules(conn, at)
        if rules.reentry == "charge":
            carried = carry_reentry(conn, rules, stay, event_id, at, priced_until=priced_until)
            if carried is not None:  # none is carried for a stay that owes nothing
                return carried
        if account is None:
            until = priced_until or at
            account = owed(conn, rules, stay.subject, until, vehicle_class=stay.vehicle_class, stay=stay)
        return keep_what_was_paid(conn, rules, account, event_id, at)

    def _exits(self) -> list[str]:
        return sorted(k for k, v in self.site.lanes.items() if v.direction == "exit" and v.type == "vehicle")

    def _exit_lane(self, lane_id: str) -> LaneRules:
        lane = self.site.lanes.get(lane_id)
        if lane is None or lane.direction != "exit" or lane.type != "vehicle":
            status, code = (404, "unknown_lane") if lane is None else (422, "wrong_lane")
            raise ParkingError(
                f"{lane_id!r} is not a vehicle exit lane",
                fix=f"use one of {self._exits()}",
                status=status,
                code=code,
            )
        return lane

    def _who(self, conn: sqlite3.Connection, p: Presented, lane: LaneRules) -> tuple[str, str, bool]:
        facts = lookup(conn, p, lane, {})
        cred = facts.credential
        return subject_of(p, cred, "vehicle"), facts.vehicle_class, missed_entry(p, cred)
