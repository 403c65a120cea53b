"""The HTTP API served by the gateway itself: health, recent events, device status."""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query

from gateway.api.auth import User
from gateway.api.deps import Db
from gateway.api.errors import ApiError, install_error_handlers
from gateway.api.guard import install_guard_app
from gateway.api.parking import parking_router
from gateway.api.shapes import ERRORS
from gateway.privacy import mask_card, mask_name
from gateway.runtime.config_edits import slots_outside_zones, stays_outside_zones
from gateway.runtime.gateway import Gateway
from gateway.runtime.tariff_edits import tariffs_edited_in_place
from gateway.runtime.texts import reason_text
from gateway.store.alarms import open_alarm_summary
from gateway.store.zone_capacity import zones_over_capacity
from gateway.timefmt import local_iso

if TYPE_CHECKING:
    from gateway.sync.service import SyncService

try:
    VERSION = version("estate-gateway")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0+source"

_EVENTS = """
SELECT a.event_id, a.at, a.lane, a.device, a.kind, a.value, a.confidence, a.admitted, a.reason,
       a.billing, a.flags, a.holder_kind, a.slot_id, v.plate, v.class,
       coalesce(r.name, p.name) AS name, coalesce(r.building, p.host_building) AS building,
       coalesce(r.unit, p.host_unit) AS unit, s.number AS slot, c.plate AS corrected_plate
FROM access_log a
LEFT JOIN residents r ON a.holder_kind = 'resident' AND r.id = a.holder_id
LEFT JOIN passes p ON a.holder_kind IN ('visitor', 'contractor') AND p.id = a.holder_id
LEFT JOIN vehicles v ON v.id = a.vehicle_id
LEFT JOIN slots s ON s.id = a.slot_id
LEFT JOIN latest_plate_corrections c ON c.event_id = a.event_id
WHERE {lane}
ORDER BY a.id DESC LIMIT :limit
"""
# Every lane's, newest id down.
EVENTS = _EVENTS.format(lane="1")
# One lane's: a plain `a.lane = :lane`, walked newest first on the lane's own index (access_log_lane:
# lane, id), as views.py RECENT_ON_LANE. Written `(:lane IS NULL OR a.lane = :lane)`, SQLite walked
# the whole log by id for the lane's records: a quiet lane (a side door) read every record kept.
EVENTS_ON_LANE = _EVENTS.format(lane="a.lane = :lane")


def create_app(gw: Gateway, sync: SyncService | None = None) -> FastAPI:
    app = FastAPI(
        title="Estate gateway",
        version=VERSION,
        description="Local API of an estate gate gateway: health, lane events, devices, and the "
        "guard booth app (visitors, passes, lookup, lanes opened by hand, alarms, audit). "
        "Log in with POST /api/session (cookie; send X-CSRF-Token on changes) or send an API token "
        "as Authorization: Bearer.",
    )
    app.state.gateway = gw
    install_error_handlers(app)
    app.include_router(parking_router(gw))
    language = gw.site.config.site.language

    @app.get("/api/health", summary="Is the gateway working, and what does each device say", responses=ERRORS)
    def health(db: Db) -> dict[str, Any]:
        pending = db.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL"
        ).fetchone()[0]
        quarantined = db.execute("SELECT count(*) FROM outbox WHERE quarantined IS NOT NULL").fetchone()[0]
        devices = [_device_json(h.snapshot(), gw.site.tz) for h in gw.devices.health]
        mqtt = sync.status() if sync is not None else {"enabled": False, "state": "disabled"}
        left = gw.operations.unfinished_import  # as the last look found it (operations_imports.py)
        ok = (
            gw.alive()
            and all(d["online"] for d in devices)
            and not gw.storage_failing  # a disk filled once and freed since is ok again
            and mqtt["state"] not in ("refused", "error")
            and not (sync is not None and sync.directory.stopped)  # the centre's changes not applied
            and left is None  # part of the office's list in, the rest not (a `gateway import` cut short)
        )
        lat = sorted(gw.latencies_ms)
        return {
            "status": "ok" if ok else "degraded",
            "site": gw.site.config.site.id,
            "version": VERSION,
            "uptime_s": round(gw.uptime_s(), 1),
            "decisions": gw.decisions,
            "decision_p99_ms": round(lat[int(len(lat) * 0.99)], 2) if lat else None,
            "queue": gw.backlog(),
            "outbox_pending": pending,
            "outbox_quarantined": quarantined,
            "mqtt": mqtt,
            "storage_failures": gw.storage_failures,
            # Whether storage takes writes, as the last write found it, and the fix where not.
            "storage": gw.storage.report(),
            "devices": devices,
            # Residents whose slots are in a zone no entrance leads to (renamed): their cars pay.
            "slots_outside_zones": slots_outside_zones(db, gw.site),
            # Cars counted in such a zone: the lanes' zone lets in as many more than it has room for.
            "stays_outside_zones": stays_outside_zones(db, gw.site),
            # Zones whose fixed slots take every car space: cars without a slot there are refused.
            "zones_over_capacity": zones_over_capacity(db, gw.site.config),
            # Tariff versions whose prices were edited in place: charged by numbers not published.
            "tariffs_edited_in_place": tariffs_edited_in_place(db, gw.parking.rules.tariffs),
            "import_unfinished": None if left is None else left.health(),
            # How many alarms of each kind are open now; which ones, on the alarms page (logged in).
            "alarms_open": open_alarm_summary(db, gw.site.tz, limit=0)["by_kind"],
        }

    @app.get("/api/devices", summary="Each device: online, last seen, counters", responses=ERRORS)
    def devices(who: User) -> list[dict[str, Any]]:
        return [_device_json(h.snapshot(), gw.site.tz) for h in gw.devices.health]

    @app.get("/api/events", summary="Recent access decisions, newest first", responses=ERRORS)
    def events(
        who: User,
        db: Db,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        lane: Annotated[str | None, Query(max_length=40)] = None,
    ) -> list[dict[str, Any]]:
        if lane is not None and lane not in gw.site.lanes:
            raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(gw.site.lanes)}")
        db.row_factory = sqlite3.Row
        rows = db.execute(
            EVENTS if lane is None else EVENTS_ON_LANE, {"lane": lane, "limit": limit}
        ).fetchall()
        return [_event_json(dict(row), language, gw.site.tz) for row in rows]

    install_guard_app(app, gw)
    return app


def _device_json(device: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """A device's health as the API gives it: `last_seen` in the site's time, as every answer of
    the API gives times (drivers keep wall-clock seconds; the upstream health record keeps them so,
    docs/mqtt.md)."""
    seen = device["last_seen"]
    shown = None if seen is None else datetime.fromtimestamp(seen, tz).isoformat(timespec="seconds")
    return {**device, "last_seen": shown}


def _event_json(row: dict[str, Any], language: str, tz: tzinfo) -> dict[str, Any]:
    row["at"] = local_iso(row["at"], tz)  # the site's time, as every answer of the API gives it
    row["admitted"] = bool(row["admitted"])
    row["flags"] = [f for f in row["flags"].split(",") if f]
    row["name"] = mask_name(row["name"] or "")
    row["reason_text"] = reason_text(row["reason"], language)
    if row["kind"] in ("card", "qr"):
        row["value"] = mask_card(row["value"])
    return row
