"""The periodic health report sent upstream (retained): devices, backlog, disk, uptime, versions."""

from __future__ import annotations

import shutil
from contextlib import closing
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from gateway.runtime.config_edits import slots_outside_zones, stays_outside_zones
from gateway.runtime.gateway import Gateway
from gateway.runtime.tariff_edits import tariffs_edited_in_place
from gateway.store.alarms import open_alarm_summary
from gateway.store.database import open_read_only
from gateway.store.zone_capacity import zones_over_capacity
from gateway.timefmt import from_db


def disk_report(data_dir: Path, db_path: Path) -> dict[str, float]:
    usage = shutil.disk_usage(data_dir)
    db_bytes = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*") if p.is_file())
    return {
        "free_mb": round(usage.free / 2**20, 1),
        "total_mb": round(usage.total / 2**20, 1),
        "db_mb": round(db_bytes / 2**20, 1),
    }


def in_site_time(backlog: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The backlog with its oldest record's time (the store keeps UTC) in the site's offset, as the
    report's other times are, and to the second, as /api/outbox and `gateway outbox` give it."""
    if "oldest_pending_at" not in backlog:  # none read yet (the link's first report)
        return backlog
    oldest = from_db(backlog["oldest_pending_at"])
    at = oldest.astimezone(tz).isoformat(timespec="seconds") if oldest else None
    return {**backlog, "oldest_pending_at": at}


def health_report(
    gw: Gateway, backlog: dict[str, Any], applied_version: int, version: str, now: datetime
) -> dict[str, Any]:
    lat = sorted(gw.latencies_ms)
    left = gw.operations.unfinished_import
    return {
        "v": 1,
        "type": "health",
        "site": gw.site.config.site.id,
        "at": now.isoformat(),
        "version": version,
        "uptime_s": round(gw.uptime_s(), 1),
        "worker_alive": gw.alive(),
        "decisions": gw.decisions,
        "decision_p99_ms": round(lat[int(len(lat) * 0.99)], 2) if lat else None,
        "storage_failures": gw.storage_failures,
        # Whether storage takes writes, as the last write found it ({"state": "ok"} or the cause
        # and its fix): a card gone read-only is told before a decision fails on it.
        "storage": gw.storage.report(),
        "devices": [
            {k: d[k] for k in ("device", "kind", "lane", "online", "last_seen", "last_error")}
            for d in (h.snapshot() for h in gw.devices.health)
        ],
        "backlog": in_site_time(backlog, gw.site.tz),
        "disk": disk_report(gw.data_dir, gw.db_path),
        "applied_version": applied_version,
        # alarms_open's ids are this stream's: a new box numbers its alarms from 1 again.
        "outbox_stream": gw.outbox_stream,
        "lane_modes": {**dict.fromkeys(gw.by_hand.held, "open"), **gw.lane_modes},
        # A `gateway import` cut short: its files and how many of their rows are in (None: none).
        "import_unfinished": None if left is None else left.health(),
        **_from_the_store(gw),
    }


def _from_the_store(gw: Gateway) -> dict[str, Any]:
    # Read now, not at start: the report shows the slots gone once the admin moved them.
    with closing(open_read_only(gw.db_path, 5)) as conn:
        return {
            "slots_outside_zones": slots_outside_zones(conn, gw.site),
            "stays_outside_zones": stays_outside_zones(conn, gw.site),
            "zones_over_capacity": zones_over_capacity(conn, gw.site.config),
            "tariffs_edited_in_place": tariffs_edited_in_place(conn, gw.parking.rules.tariffs),
            "alarms_open": open_alarm_summary(conn, gw.site.tz),
        }
